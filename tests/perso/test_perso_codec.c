/*
 * perso's codecs (P6, P9; docs/restore-module.md "Outside the card"): the domain's key
 * file, the card's export record, the seam.perso section and DGI 7F71 (checked by the
 * card itself: a personalized purse installs and answers its PIN), sealing for one
 * terminal.
 */
#include <sys/stat.h>

#include "perso_host.h"

/* The issuer creates and hands over the domain: its key file opens it at level 33, the
   issuer's keys no longer do (the key handover), a wrong key set is a cryptogram error. */
static void domain_opens_at_level_33_after_the_handover(void **state) {
    fixture *f = *state;
    seam_perso_domain d, wrong;
    uint16_t sw = 0;
    uint8_t level = 0;
    power_on(f->card);
    issuer_creates_domain(f->card, domain_aid, sizeof domain_aid, &d);
    assert_int_equal(seam_perso_domain_open(session(f->card), &d, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_true(seam_gp_channel_is_open(session(f->card), &level));
    assert_int_equal(level, 0x33);
    assert_int_equal(open_sd(f->card, domain_aid, sizeof domain_aid, test_key), 0);
    wrong = d;
    wrong.keys.mac[0] ^= 1; /* the cryptograms are under S-MAC */
    assert_int_equal(seam_perso_domain_open(session(f->card), &wrong, &sw), SEAM_ERR_GP_CRYPTOGRAM);
    wrong = d;
    wrong.aid.bytes[7] ^= 1; /* no such SD: the SELECT's refusal, no channel */
    assert_int_equal(seam_perso_domain_open(session(f->card), &wrong, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A82);
    assert_false(seam_gp_channel_is_open(session(f->card), NULL));
}

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};

/* ---- the domain's key file ---------------------------------------------------------- */

static const char key_file[] = "aid=A0000005591000DD kvn=30\n"
                               "enc=00112233445566778899AABBCCDDEEFF\n"
                               "mac=102132435465768798A9BACBDCEDFE0F\n"
                               "dek=0F0E0D0C0B0A09080706050403020100\n";

static void domain_key_file_parses_and_formats_back(void **state) {
    (void)state;
    seam_perso_domain d, again;
    char text[512];
    assert_int_equal(seam_perso_domain_parse(key_file, strlen(key_file), &d), SEAM_OK);
    assert_int_equal(d.aid.len, 8);
    assert_int_equal(d.kvn, 0x30);
    assert_int_equal(d.keys.len, 16);
    assert_int_equal(d.keys.dek[0], 0x0F);
    assert_int_equal(seam_perso_domain_format(&d, text, sizeof text), SEAM_OK);
    assert_int_equal(seam_perso_domain_parse(text, strlen(text), &again), SEAM_OK);
    assert_memory_equal(&d, &again, sizeof d);
    assert_int_equal(seam_perso_domain_format(&d, text, 20), SEAM_ERR_BUFFER_SMALL);
}

static void domain_key_file_refuses_what_is_not_one(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "aid=A0000005591000DD kvn=30 enc=00112233445566778899AABBCCDDEEFF "
        "mac=102132435465768798A9BACBDCEDFE0F", /* dek missing */
        "aid=A000 kvn=30 enc=00112233445566778899AABBCCDDEEFF "
        "mac=102132435465768798A9BACBDCEDFE0F dek=0F0E0D0C0B0A09080706050403020100", /* aid */
        "aid=A0000005591000DD kvn=80 enc=00112233445566778899AABBCCDDEEFF "
        "mac=102132435465768798A9BACBDCEDFE0F dek=0F0E0D0C0B0A09080706050403020100", /* kvn */
        "aid=A0000005591000DD kvn=30 enc=0011223344556677 "
        "mac=102132435465768798A9BACBDCEDFE0F dek=0F0E0D0C0B0A09080706050403020100", /* enc */
        "aid=A0000005591000DD kvn=30 kvn=31 enc=00112233445566778899AABBCCDDEEFF "
        "mac=102132435465768798A9BACBDCEDFE0F dek=0F0E0D0C0B0A09080706050403020100", /* twice */
        "aid=A0000005591000DD kvn=30 enc=00112233445566778899AABBCCDDEEFF "
        "mac=102132435465768798A9BACBDCEDFE0F dek=0F0E0D0C0B0A09080706050403020100 pin=1",
    };
    seam_perso_domain d;
    memset(&d, 0x77, sizeof d);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(seam_perso_domain_parse(bad[i], strlen(bad[i]), &d), SEAM_ERR_MALFORMED);
    assert_int_equal(d.kvn, 0x77); /* unchanged */
}

static void domain_key_file_others_may_read_is_refused(void **state) {
    (void)state;
    char dir[] = "/tmp/seam-perso-XXXXXX", path[64];
    seam_perso_domain d;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/domain.keys", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(key_file, f);
    fclose(f);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(seam_perso_domain_load(path, &d), SEAM_ERR_PERSO_KEY_FILE);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(seam_perso_domain_load(path, &d), SEAM_OK);
    assert_int_equal(d.kvn, 0x30);
    unlink(path);
    assert_int_equal(seam_perso_domain_load(path, &d), SEAM_ERR_IO);
    rmdir(dir);
}

/* ---- records ------------------------------------------------------------------------ */

/* A record as the card exports it: instance, version 1.0, one block, one entry. */
static const uint8_t good[] = {
    0xA2, 0x24,                                                 /* the export */
    0x4F, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11,       /* instance */
    0xC0, 0x02, 0x01, 0x00,                                     /* version 1.0 */
    0xE2, 0x08, 0x90, 0xDF, 0x01, 0x04, '5',  '6',  '7',  '8',  /* a block */
    0xE1, 0x0B, 0x80, 0x03, 'b',  'a',  'l',  0x81, 0x04, 0x00, /* an entry */
    0x00, 0x00, 0x46,
};

/* good[] with one more TLV t[0..n) inside the export. */
static size_t with_more(const uint8_t *t, size_t n, uint8_t *out) {
    memcpy(out, good, sizeof good);
    memcpy(out + sizeof good, t, n);
    out[1] = (uint8_t)(sizeof good - 2 + n);
    return sizeof good + n;
}

static void p9_record_decodes_and_encodes_as_the_card_exports(void **state) {
    (void)state;
    seam_perso_record r;
    uint8_t again[64], bad[64];
    size_t n = 0;
    assert_int_equal(seam_perso_record_decode(good, sizeof good, &r), SEAM_OK);
    assert_int_equal(r.instance.len, 7);
    assert_int_equal(r.version, 0x0100);
    assert_int_equal(r.block_count, 1);
    assert_int_equal(r.blocks[0].p1, 0x90);
    assert_int_equal(r.blocks[0].len, 7);
    assert_int_equal(r.entry_count, 1);
    assert_int_equal(r.entries[0].name_len, 3);
    assert_int_equal(r.entries[0].value_len, 4);
    assert_int_equal(r.entries[0].value[3], 0x46);
    assert_int_equal(seam_perso_record_encode(&r, again, sizeof again, &n), SEAM_OK);
    assert_int_equal(n, sizeof good);
    assert_memory_equal(again, good, n);
    assert_int_equal(seam_perso_record_encode(&r, again, n - 1, &n), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(n, sizeof good);
    /* every truncation is refused, never read past (ASan) */
    for (size_t len = 0; len < sizeof good; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, good, len);
        assert_int_not_equal(seam_perso_record_decode(cut, len, &r), SEAM_OK);
        free(cut);
    }
    /* an entry without a value, a second 4F, a second C0, an unknown tag, an empty block */
    static const uint8_t no_value[] = {0xE1, 0x03, 0x80, 0x01, 'x'};
    static const uint8_t aid2[] = {0x4F, 0x05, 1, 2, 3, 4, 5};
    static const uint8_t version2[] = {0xC0, 0x02, 0x02, 0x00};
    static const uint8_t unknown[] = {0xC1, 0x01, 0x00};
    static const uint8_t empty_block[] = {0xE2, 0x00};
    const uint8_t *more[] = {no_value, aid2, version2, unknown, empty_block};
    const size_t more_len[] = {sizeof no_value, sizeof aid2, sizeof version2, sizeof unknown,
                               sizeof empty_block};
    for (size_t i = 0; i < 5; i++) {
        memset(&r, 0x5A, sizeof r);
        assert_int_equal(seam_perso_record_decode(bad, with_more(more[i], more_len[i], bad), &r),
                         SEAM_ERR_MALFORMED);
        assert_int_equal(r.block_count, 0x5A5A5A5A5A5A5A5Au); /* unchanged */
    }
    /* trailing bytes after the export, another outer tag */
    memcpy(bad, good, sizeof good);
    bad[sizeof good] = 0x00;
    assert_int_equal(seam_perso_record_decode(bad, sizeof good + 1, &r), SEAM_ERR_MALFORMED);
    bad[0] = 0xA1;
    assert_int_equal(seam_perso_record_decode(bad, sizeof good, &r), SEAM_ERR_MALFORMED);
}

/* purse 1.0 personalized outside the card with PIN 4321: the card takes the section. */
static void p6_personalized_package_installs_with_its_pin(void **state) {
    fixture *f = *state;
    static const uint8_t pin_block[] = {0xDF, 0x01, 4, '4', '3', '2', '1'};
    seam_perso_record r = {.block_count = 1, .blocks = {{0x90, pin_block, sizeof pin_block}}};
    size_t len = 0, out_len = 0, file_len = 0;
    uint8_t *module = read_module("purse", &len);
    r.instance = aid_of(purse, sizeof purse);
    assert_int_equal(seam_perso_package_personalize(module, len, &r, NULL, 0, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    uint8_t *out = malloc(out_len);
    assert_int_equal(seam_perso_package_personalize(module, len, &r, out, out_len, &out_len),
                     SEAM_OK);
    /* personalized twice: refused */
    uint8_t *twice = malloc(out_len + 64);
    size_t twice_len = 0;
    assert_int_equal(
        seam_perso_package_personalize(out, out_len, &r, twice, out_len + 64, &twice_len),
        SEAM_ERR_GP_PACKAGE);
    free(twice);
    /* not a package */
    assert_int_equal(
        seam_perso_package_personalize(pin_block, sizeof pin_block, &r, out, out_len, &twice_len),
        SEAM_ERR_GP_PACKAGE);
    uint8_t *file = load_file_of(out, out_len, &file_len);
    free(module);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, file_len), 0x9000);
    free(file);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '4', '3', '2', '1'), 0x9000);
}

static void p9_entries_dgi_is_the_cards_7f71(void **state) {
    (void)state;
    static const uint8_t name[] = {'b', 'a', 'l'}, value[] = {0, 0, 0, 70};
    seam_perso_record r = {.entry_count = 1, .entries = {{name, 3, value, 4}}};
    uint8_t dgi[64];
    size_t n = 99;
    r.instance = aid_of(purse, sizeof purse);
    static const uint8_t expected[] = {0x7F, 0x71, 0x16, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x05,
                                       0x50, 0x55, 0x11, 0xE1, 0x0B, 0x80, 0x03, 'b',  'a',
                                       'l',  0x81, 0x04, 0,    0,    0,    70};
    assert_int_equal(seam_perso_entries_dgi(&r, dgi, sizeof dgi, &n), SEAM_OK);
    assert_int_equal(n, sizeof expected);
    assert_memory_equal(dgi, expected, n);
    r.entry_count = 0;
    assert_int_equal(seam_perso_entries_dgi(&r, dgi, sizeof dgi, &n), SEAM_OK);
    assert_int_equal(n, 0);
}

/* ---- sealing -------------------------------------------------------------------------- */

static void p6_sealed_for_one_terminal_opens_only_there(void **state) {
    (void)state;
    uint8_t priv[32], pub[65], other_priv[32], other_pub[65];
    static const uint8_t aad[] = "CIN 0102 purse", plain[] = "DF0104 5678";
    uint8_t sealed[sizeof plain + SEAM_PERSO_SEAL_OVERHEAD], back[sizeof plain];
    size_t n = 0, m = 0;
    assert_int_equal(seam_perso_terminal_key_new(priv, pub), SEAM_OK);
    assert_int_equal(seam_perso_terminal_key_new(other_priv, other_pub), SEAM_OK);
    assert_int_equal(
        seam_perso_seal(pub, aad, sizeof aad, plain, sizeof plain, sealed, sizeof sealed - 1, &n),
        SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(
        seam_perso_seal(pub, aad, sizeof aad, plain, sizeof plain, sealed, sizeof sealed, &n),
        SEAM_OK);
    assert_int_equal(n, sizeof sealed);
    assert_memory_not_equal(sealed + 65 + 12, plain, sizeof plain);
    assert_int_equal(seam_perso_open(priv, aad, sizeof aad, sealed, n, back, sizeof back, &m),
                     SEAM_OK);
    assert_int_equal(m, sizeof plain);
    assert_memory_equal(back, plain, m);
    memset(back, 0, sizeof back);
    /* another terminal, another aad, a flipped byte anywhere: refused, nothing written */
    assert_int_equal(seam_perso_open(other_priv, aad, sizeof aad, sealed, n, back, sizeof back, &m),
                     SEAM_ERR_PERSO_SEAL);
    assert_int_equal(seam_perso_open(priv, aad, sizeof aad - 1, sealed, n, back, sizeof back, &m),
                     SEAM_ERR_PERSO_SEAL);
    for (size_t i = 0; i < n; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(seam_perso_open(priv, aad, sizeof aad, sealed, n, back, sizeof back, &m),
                         SEAM_ERR_PERSO_SEAL);
        sealed[i] ^= 0x01;
    }
    static const uint8_t zero[sizeof plain] = {0};
    assert_memory_equal(back, zero, sizeof back);
    assert_int_equal(seam_perso_open(priv, aad, sizeof aad, sealed, 50, back, sizeof back, &m),
                     SEAM_ERR_TRUNCATED);
    uint8_t not_a_point[65] = {0x04};
    assert_int_equal(
        seam_perso_seal(not_a_point, NULL, 0, plain, sizeof plain, sealed, sizeof sealed, &n),
        SEAM_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domain_key_file_parses_and_formats_back),
        cmocka_unit_test(domain_key_file_refuses_what_is_not_one),
        cmocka_unit_test(domain_key_file_others_may_read_is_refused),
        cmocka_unit_test_setup_teardown(domain_opens_at_level_33_after_the_handover, setup,
                                        teardown),
        cmocka_unit_test(p9_record_decodes_and_encodes_as_the_card_exports),
        cmocka_unit_test_setup_teardown(p6_personalized_package_installs_with_its_pin, setup,
                                        teardown),
        cmocka_unit_test(p9_entries_dgi_is_the_cards_7f71),
        cmocka_unit_test(p6_sealed_for_one_terminal_opens_only_there),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
