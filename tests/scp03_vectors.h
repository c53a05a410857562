/*
 * Recorded SCP03 sessions shared by the crypto tests (host and card
 * computations) and the card's session tests (the card side replayed):
 * kaoh/globalplatform's scp03Test.c, the first being gp_facts 3.9. Values are
 * hex strings; spaces are ignored.
 */
#ifndef SEAM_TESTS_SCP03_VECTORS_H
#define SEAM_TESTS_SCP03_VECTORS_H

#include <stdint.h>

#define HELLO "48656c6c6f20576f726c64" /* "Hello World" */
#define HELLO15                                                                                    \
    HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO HELLO

/* One command of a session: the plain APDU (CLA INS P1 P2 Lc data, no Le),
 * the protected APDU as sent (no Le), and, where the source gives it, the
 * plain response data and the protected response data (data || R-MAC). */
typedef struct {
    const char *plain;
    const char *wrapped;
    const char *response_plain;
    const char *response_wrapped;
    uint16_t sw;
} command_vector;

typedef struct {
    const char *name;
    const char *key_enc, *key_mac;
    const char *host_challenge;
    /* INITIALIZE UPDATE response without SW: diversification data (10),
     * key information (3), card challenge (8), card cryptogram (8) and the
     * sequence counter (3). */
    const char *init_update;
    const char *sd_aid;                 /* the AID the card challenge was derived from, or NULL */
    const char *s_enc, *s_mac, *s_rmac; /* NULL when the source does not give them */
    const char *external_authenticate;  /* 84 82 P1 00 10 host cryptogram C-MAC */
    command_vector commands[4];
} session_vector;

static const session_vector vectors[] = {
    {
        .name = "gp_facts 3.9 (kaoh delete_application)",
        .key_enc = "F995D0A069335C7DF42E590317FFEA6D",
        .key_mac = "58563362EC5A4541ABCD32B34B1EAE7D",
        .host_challenge = "B2BDE1A2DC66BD56",
        .init_update = "00000000000000000000 300370 C40932A6FEFEAEB2 E127185170F45FCA 000015",
        .sd_aid = "A000000151000000",
        .s_enc = "9B841BB63D1087484FF7F16802017243",
        .s_mac = "8117FE5ADED74AC0DAABE9FB81DBDB67",
        .s_rmac = "4521D75E4D6F60DBFB8AB4EE254EF6F1",
        .external_authenticate = "8482030010 59D54D932423D29F 6313C970875F8C2F",
        .commands = {{
            .plain = "80E40080 0A 4F08A00100015141434C",
            .wrapped = "84E4008018 29F06AEC3180B3EFE91FF662310B945D E0D5FE66AD67A5B6",
        }},
    },
    {
        .name = "kaoh mutual_auth",
        .key_enc = "F995D0A069335C7DF42E590317FFEA6D",
        .key_mac = "58563362EC5A4541ABCD32B34B1EAE7D",
        .host_challenge = "9BD6BF878FB8E991",
        .init_update = "00000000000000000000 300370 3C80C2CC87EB3A35 E4EDBA35E629C336 00001E",
        .sd_aid = "A000000151000000",
        .s_enc = "D83EE38C9954C8078987A5E9EE6AB13C",
        .s_mac = "6FF37716E0413065E8DFD08BF1E9EC5E",
        .s_rmac = "0254C786E57ACA8982670C1C1A05FF12",
        .external_authenticate = "8482030010 23EBFEDC579D22CD CDB6A25A5FF7891F",
    },
    {
        .name = "kaoh get_status_enc_mac (four chained commands)",
        .key_enc = "F995D0A069335C7DF42E590317FFEA6D",
        .key_mac = "58563362EC5A4541ABCD32B34B1EAE7D",
        .host_challenge = "DA2390D378D94B0A",
        .init_update = "00000000000000000000 300370 A7EFE2BFDB3A27A6 EAE3FF0EA0D17524 000085",
        .sd_aid = "A000000151000000",
        .external_authenticate = "8482030010 953EEC5B4A81BF39 3ADC2ADFD638827A",
        .commands =
            {
                {.plain = "80F22002 02 4F00",
                 .wrapped = "84F2200218 705C4D16C7BAC5496AEE0ED996322245 5472F3CFAC97BCCA"},
                {.plain = "80F24002 02 4F00",
                 .wrapped = "84F2400218 34AF0FEDDAE7C07308600587E1B1E6EC 87811520D9A6AAAD"},
                {.plain = "80F28002 02 4F00",
                 .wrapped = "84F2800218 8D6CFE9EB359EACB9594D8EC161E45C1 0ED0138E34A10BF3"},
                {.plain = "80F21002 02 4F00",
                 .wrapped = "84F2100218 3D98B6DE9CBF3905EAE4FAF5E141C58D AB7013D1076745C7"},
            },
    },
    {
        .name = "kaoh get_status_aes_192 (two-block KDF)",
        .key_enc = "DE2A3629CBC24E8D8869E82C8B4C0D874D88166B6F8A1C12",
        .key_mac = "DE2A3629CBC24E8D8869E82C8B4C0D874D88166B6F8A1C12",
        .host_challenge = "4157115CAD7D2FE7",
        .init_update = "00008301A8186727A822 020310 726B1E22EED4F4BB AB21001BFD4B6F02 000012",
        .sd_aid = "A000000151000000",
        .external_authenticate = "8482030010 9B126D1B1557297F 3C06766CA9ACBD27",
        .commands = {{
            .plain = "80F22002 02 4F00",
            .wrapped = "84F2200218 110C222888859059700E5D42AD65F412 99B0BFFC03BF79A8",
        }},
    },
    {
        .name = "kaoh send_apdu_rmac_rencryption (level 33)",
        .key_enc = "404142434445464748494A4B4C4D4E4F",
        .key_mac = "404142434445464748494A4B4C4D4E4F",
        .host_challenge = "2C8130E574247B1B",
        .init_update = "00010203040506070809 000370 A5874C57119B976B F94879E36F29E039 000001",
        .external_authenticate = "8482330010 A75F1CD48F3B93DF A57E690937921F92",
        .commands =
            {
                {
                    .plain = "80400000 A5 " HELLO15,
                    .wrapped = "84400000B8"
                               "0422E602DD973125102DDE05875CA115C04D811A40593DB9D9480927CC9A249B"
                               "D118FB6C674A86BF70D0CD898153A438DAC4CD302B74876D718481FCDB9D3994"
                               "4453BEBD28832300C99FB8035D2DFF3E3CB3F5DAD568330127929207A179226E"
                               "B5C6C52341A297CB2C8F25E481F1CE6EF6EADD2410E70EB268AF48D29CB20CFC"
                               "B8448DE83235ADA96A5EEED379C0701924707DA111DBB9039ACF8E19F1CE62AA"
                               "4EF26D7C871E842ED815245F7F2D9A9A 87D9BDA54B188DCB",
                    .response_plain = HELLO15,
                    .response_wrapped =
                        "20F075017DE9F58A1E3D7567CBE71140AC0EBFA376881449A0665992BB997C6A"
                        "145AC6BE3B642931C2652F62B85532B45689EB3E37602E6276B72BABE6A0FF00"
                        "BEB02473EF22792A37F70D17F7715F103528CC6122880FC86AE75E5F085F1B37"
                        "492FF33DD148162DAFA203D973F3A4579F8B547FACB14034641FC817BBDF119A"
                        "9EB0F24DED4F9CE3640B46189EE2138B405446FA4F154D4F9600B288299642BE"
                        "F5A387B71922A0CAD4D77D9596E8F417 A6DB42CFE2C1081E",
                    .sw = 0x9000,
                },
                {
                    .plain = "80400000 A5 " HELLO15,
                    .wrapped = "84400000B8"
                               "03C6D93C9A2EBE310E2215CEAC64C9CB8A03A89657272AE001E398FB7A7F42E0"
                               "2210672D0927DBE2BF6F80AA322D948C2743EFBA75EC51FD9BC5E6B430637191"
                               "6CC50B0F341177FB99091F560A37C88D1A387443792E128A3A04118D0EA9F8EC"
                               "989012FE4E097440411852373B4470851AC573A0B15262E506B34F771DCC53A2"
                               "4E91FAD37FE67454FAAFEFCC3E2F7141DCD7174D88933629E632C1CFDD5D1D30"
                               "017D0CA14FE32A022F064C93EB4769F5 A497BE036C5A563F",
                    .response_plain = HELLO15,
                    .response_wrapped =
                        "EFA214CD7DE37F299690265ECDBF210361CBC87EAA227C7A5FC1C984A8DFFAF8"
                        "2B6C1856E57C399FA46AA13F9A7150F76207BCBF7421EFE6424D1FCFEF090F63"
                        "CDF6C1F21F951E286D6A237843B4E1AD070D7FB16C883D052338F19D5C5E9613"
                        "5398F6251E5D48984EBE528E42A93CBD880D67D6631BCCEF13C3D54572C77CEA"
                        "D84D26F72A4A66FA13DDCFA6C1BF8F5CF4AB151D722B3DBE86841F30BA15E4B9"
                        "0834B122257913FAA6F09D0E540E1148 17C1ED9F9D2F7AD3",
                    .sw = 0x9000,
                },
                {
                    .plain = "80400000 A5 " HELLO15,
                    .wrapped = "84400000B8"
                               "982E6E5F120796589037A751431F835CCF17C5A13CB4D7F5E0948CF48538FEDC"
                               "D6F2F0A54F813E8BA755DFE22F7B847BF6A8BBDB1FEEC531B44D01B92BD55EEA"
                               "A5B55B770AF293E4995E14E3076A40A89ED21A6C2F3772839E6E9A31FAB4B493"
                               "AB31FE1D951AD11D9924DF15C1C33A5F3C90D168E2A78437ED40601B5289C56F"
                               "2F020C78744C8C22141A2FCFFADB4B4FDE504EFABA6DD9D5EAD7E0F7D57B58F9"
                               "7C28DACD4C9E93052A0F16EFDF2A41DD FE373917C351B9B8",
                    .response_plain = HELLO15,
                    .response_wrapped =
                        "0E625EA4492C2253DF239C271E0DEA22DDB136461742E6AD02FA9710588655A1"
                        "7B9C9C115076E00EF858C84662827AF5B90CE2374A575A7208E708BB3D01F655"
                        "A996BF10F6077F61FBD71927E352215CE9348429FDAB03A3E6EEC5C71556A3C4"
                        "2B98240D224314638608CFDCFE5847BB2811948956F9204BC69085A034F33982"
                        "E75BEBDEB71B59665FCEA9EDD27A85ABE908171D68E2FA639E2ABA02A27CD21E"
                        "3A37EE831A1C1C1CF6ECD1B4C744EBD2 50EA42072B530078",
                    .sw = 0x9000,
                },
            },
    },
};

#endif
