/*
 * A load belongs to the domain and the secure channel session that began it
 * (issue 9 item 4; requirement X1; docs/card.md "Packages and applets"): LOAD
 * blocks from another security domain, another session or another logical
 * channel are refused (6985) and end the load, and the package is always the
 * SD's that sent INSTALL [for load]. The same rule for the other sequence of
 * the family: STORE DATA's personalization target.
 *
 * The card: the ISD and bank B, an SSD with Delegated Management (so it may
 * load nothing without an issuer's token) that has taken its own keys.
 */
#include "sd_host.h"

static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};

static const uint8_t priv_dm[3] = {0xA0, 0x80, 0x00}; /* SD, Delegated Management, TP */
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00}; /* SD, Authorized Management, TP */

static uint8_t key_b[16], key_a[16];

/* A refused command: the expected status word and the whole card state unchanged. */
#define REFUSED(card, call, sw)                                                                    \
    do {                                                                                           \
        uint8_t before_[32], after_[32];                                                           \
        fingerprint(card, before_);                                                                \
        assert_int_equal((call), (sw));                                                            \
        fingerprint(card, after_);                                                                 \
        assert_memory_equal(before_, after_, 32);                                                  \
    } while (0)

static void as_isd(seam_card *card) {
    assert_int_equal(open_sd(card, isd, sizeof isd, test_key), 0x9000);
}
static void as_bank_b(seam_card *card) {
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, key_b), 0x9000);
}

/* The card described at the top, the ISD's channel open on channel 0. */
static void issuer_and_bank_b(seam_card *card) {
    memset(key_b, 0xB5, sizeof key_b);
    power_on(card);
    open_channel(card);
    assert_int_equal(install_sd(card, 0x0C, bank_b, sizeof bank_b, priv_dm, 3), 0x9000);
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_b), 0x9000);
    as_isd(card);
}

/* LOAD block `block` of file (200 bytes each, as load_blocks cuts it). */
static uint16_t load_block(seam_card *card, const uint8_t *file, size_t len, size_t block) {
    size_t off = block * HOST_BLOCK, n = len - off < HOST_BLOCK ? len - off : HOST_BLOCK;
    return load_one(card, (uint8_t)block, off + n == len, file + off, n);
}

/* The owner (CC) GET STATUS P1 20 lists for package aid, through the ISD. */
static bool package_owned_by(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *sd,
                             size_t sd_len) {
    uint8_t want[64] = {0x4F, (uint8_t)len};
    size_t n = 2 + len;
    memcpy(want + 2, aid, len);
    assert_int_equal(gp(card, true, 0xF2, 0x20, 0x02, (const uint8_t[]){0x4F, 0x00}, 2), 0x9000);
    bool found = false;
    for (size_t i = 0; i + n <= response_len && !found; i++)
        found = !memcmp(response + i, want, n);
    want[0] = 0xCC;
    want[1] = (uint8_t)sd_len;
    memcpy(want + 2, sd, sd_len);
    bool owner = false;
    for (size_t i = 0; i + 2 + sd_len <= response_len && !owner; i++)
        owner = !memcmp(response + i, want, 2 + sd_len);
    return found && owner;
}

/* The attack: the ISD begins a load; bank B, selected on the same channel
   in a new secure channel session, sends the LOAD blocks. */
static void hardening_04_load_bound_to_its_domain_X1(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *file = read_app("hello", &len);
    issuer_and_bank_b(f->card);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    as_bank_b(f->card);
    REFUSED(f->card, load_block(f->card, file, len, 0), 0x6985);
    /* that ended the load: the rest of the file goes nowhere, nothing is kept */
    for (size_t b = 1; b * 200 < len; b++)
        REFUSED(f->card, load_block(f->card, file, len, b), 0x6985);
    as_isd(f->card);
    REFUSED(f->card, load_block(f->card, file, len, 0), 0x6985);
    /* a load begun again by the ISD gives it the package */
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_true(package_owned_by(f->card, hello_pkg, sizeof hello_pkg, isd, sizeof isd));
    free(file);
}

/* The same SD in a new session on the same channel cannot continue it either. */
static void hardening_04_load_bound_to_its_session_X1(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *file = read_app("hello", &len);
    issuer_and_bank_b(f->card);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_block(f->card, file, len, 0), 0x9000);
    as_isd(f->card);
    REFUSED(f->card, load_block(f->card, file, len, 1), 0x6985);
    REFUSED(f->card, load_block(f->card, file, len, 0), 0x6985); /* no load any more */
    free(file);
}

/* ---- a second logical channel ----------------------------------------------------- */

/*
 * The host library drives logical channel 0 only (docs/gp.md, "Not done yet"), so
 * bank B's session on channel 1 is built here from the crypto layer's primitives.
 */
typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
} host_channel;

/* Opens a C-MAC session with SD aid on logical channel chno (already open) into *h. */
static void open_on(seam_card *card, uint8_t chno, const uint8_t *aid, size_t len,
                    const uint8_t *key, host_channel *h) {
    uint8_t hc[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t sel[5 + 16 + 1] = {chno, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(sel + 5, aid, len);
    assert_int_equal(send(card, sel, 6 + len), 0x9000);
    uint8_t iu[5 + 8 + 1] = {(uint8_t)(0x80 | chno), 0x50, 0x00, 0x00, 0x08};
    memcpy(iu + 5, hc, 8);
    assert_int_equal(send(card, iu, sizeof iu), 0x9000);
    assert_int_equal(seam_crypto_scp03_derive_session(&h->keys, key, key, 16, hc, response + 13, 8),
                     SEAM_OK);
    uint8_t cmd[5 + 16] = {0x84, 0x82, 0x01, 0x00, 0x10};
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&h->keys, cmd + 5), SEAM_OK);
    memset(h->chain, 0, sizeof h->chain);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, cmd, 5, cmd + 5, 8, cmd + 13), SEAM_OK);
    cmd[0] |= chno; /* the C-MAC covers CLA with the channel cleared */
    assert_int_equal(send(card, cmd, sizeof cmd), 0x9000);
}

/* A GP command with C-MAC on channel chno through session *h. */
static uint16_t gp_on(seam_card *card, uint8_t chno, host_channel *h, uint8_t ins, uint8_t p1,
                      uint8_t p2, const uint8_t *data, size_t nc) {
    uint8_t cmd[5 + 255 + 1] = {0x84, ins, p1, p2, (uint8_t)(nc + 8)};
    assert_true(nc + 8 <= 255);
    memcpy(cmd + 5, data, nc);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, cmd, 5, data, nc, cmd + 5 + nc), SEAM_OK);
    cmd[0] |= chno;
    cmd[5 + nc + 8] = 0x00;
    return send(card, cmd, 5 + nc + 8 + 1);
}

/* Bank B in its own session on channel 1 while the ISD loads on channel 0. */
static void load_bound_to_its_channel_X1(void **state) {
    fixture *f = *state;
    host_channel b;
    size_t len;
    uint8_t *file = read_app("hello", &len);
    issuer_and_bank_b(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    open_on(f->card, 1, bank_b, sizeof bank_b, key_b, &b);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    REFUSED(f->card, gp_on(f->card, 1, &b, 0xE8, 0x80, 0x00, file, 200), 0x6985);
    REFUSED(f->card, load_block(f->card, file, len, 0), 0x6985); /* it ended the load */
    free(file);
}

/* ---- the combined sequence (INSTALL P1 0E) --------------------------------------- */

/* GET STATUS of the packages: 6A88 when the card holds none. */
static uint16_t no_package(seam_card *card) {
    return gp(card, true, 0xF2, 0x20, 0x02, (const uint8_t[]){0x4F, 0x00}, 2);
}

/* The final command of hello's combined sequence: instance hello_cls, ELF AID empty. */
static uint16_t final_hello(seam_card *card) {
    return combined_final(card, NULL, 0, hello_cls, sizeof hello_cls, hello_cls, sizeof hello_cls,
                          NULL, 0);
}

/* INSTALL 0E 01 of hello and all its LOAD blocks, on channel 0 by the SD open there. */
static void combined_hello(seam_card *card) {
    size_t len;
    uint8_t *file = read_app("hello", &len);
    assert_int_equal(combined_for_load(card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
}

/* The combined sequence's final command is bound as its LOAD blocks are: another SD
   (bank B selected on the channel later, an AM SSD here so that only the binding refuses
   it) or another session of the same SD gets 6985, nothing is stored, and the sequence
   is over for its owner too. */
static void combined_final_bound_to_its_domain_and_session_X1(void **state) {
    fixture *f = *state;
    static const uint8_t bank_c[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0C};
    issuer_and_bank_b(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_c, sizeof bank_c, priv_am, 3), 0x9000);
    /* another SD */
    combined_hello(f->card);
    assert_int_equal(open_sd(f->card, bank_c, sizeof bank_c, test_key), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    as_isd(f->card);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    assert_int_equal(no_package(f->card), 0x6A88); /* nothing was stored */
    /* another session of the same SD */
    combined_hello(f->card);
    as_isd(f->card);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    /* in its own session it goes through, and the package is the ISD's */
    combined_hello(f->card);
    assert_int_equal(final_hello(f->card), 0x9000);
    assert_true(package_owned_by(f->card, hello_pkg, sizeof hello_pkg, isd, sizeof isd));
}

/* ...and to its channel: bank B's final command on channel 1 is refused and ends it. */
static void combined_final_bound_to_its_channel_X1(void **state) {
    fixture *f = *state;
    host_channel b;
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x03,
                                 .module = aid_of(hello_cls, sizeof hello_cls),
                                 .application = aid_of(hello_cls, sizeof hello_cls),
                                 .privileges_len = 1};
    uint8_t apdu[SEAM_GP_APDU_MAX];
    size_t n = 0;
    assert_int_equal(seam_gp_build_install(&in, apdu, sizeof apdu, &n), SEAM_OK);
    issuer_and_bank_b(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    open_on(f->card, 1, isd, sizeof isd, test_key, &b); /* even the same SD */
    combined_hello(f->card);
    REFUSED(f->card, gp_on(f->card, 1, &b, 0xE6, 0x0E, 0x03, apdu + 5, apdu[4]), 0x6985);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    assert_int_equal(no_package(f->card), 0x6A88); /* nothing was stored */
}

/* ---- the rest of the family: STORE DATA ------------------------------------------- */

/* A personalization target set by bank A does not survive into bank B's session on
   the same channel: bank B's STORE DATA goes to bank B itself, from block 00. */
static void perso_sequence_bound_to_its_session_X1(void **state) {
    fixture *f = *state;
    memset(key_a, 0xA5, sizeof key_a);
    issuer_and_bank_b(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(put_key_30(f->card, key_a), 0x9000);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_a1, NULL, 0), 0x9000);
    assert_int_equal(install_perso(f->card, purse_a1, sizeof purse_a1), 0x9000);
    uint8_t block[] = {0xDF, 0x01, 4, '6', '6', '6', '6'};
    assert_int_equal(gp(f->card, true, 0xE2, 0x10, 0x00, block, sizeof block), 0x9000);
    as_bank_b(f->card);
    uint8_t other[] = {0xDF, 0x01, 4, '7', '7', '7', '7'};
    REFUSED(f->card, gp(f->card, true, 0xE2, 0x90, 0x01, other, sizeof other), 0x6A86);
    REFUSED(f->card, gp(f->card, true, 0xE2, 0x90, 0x00, other, sizeof other), 0x6A88);
    /* A1 has bank A's PIN, not bank B's */
    assert_int_equal(select_aid(f->card, purse_a1, sizeof purse_a1), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '7', '7', '7', '7'), 0x63C2);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '6', '6', '6', '6'), 0x9000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_04_load_bound_to_its_domain_X1, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_04_load_bound_to_its_session_X1, setup, teardown),
        cmocka_unit_test_setup_teardown(load_bound_to_its_channel_X1, setup, teardown),
        cmocka_unit_test_setup_teardown(combined_final_bound_to_its_domain_and_session_X1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(combined_final_bound_to_its_channel_X1, setup, teardown),
        cmocka_unit_test_setup_teardown(perso_sequence_bound_to_its_session_X1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
