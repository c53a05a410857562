/*
 * The card image at rest and its one owner (issue 9, items 6 and 7).
 *
 * Item 6 (P10): a copy of the image file alone shows neither a PIN nor a key:
 * every value is sealed under a storage key kept in a key file beside the
 * image (<image>.key, or $SEAM_CARD_KEY_FILE). A wrong, missing or malformed
 * key file is a clear error at seam_card_open and leaves the image file byte
 * for byte as it was; seam_card_create never overwrites a key file.
 *
 * Item 7 (X4): one image has one owner at a time. A second handle on an image
 * that is held is refused at open, so it cannot commit from a stale copy of
 * the card (the lost update of two processes serving one image).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"
#include "card_host.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
/* Two distinctive 8-byte PINs: one in the install parameters, one by STORE DATA. */
static const uint8_t install_pin[8] = {'9', '7', '5', '3', '1', '8', '6', '4'};
static const uint8_t perso_pin[8] = {'8', '0', '2', '4', '6', '1', '3', '9'};

/* ---- files ---------------------------------------------------------------------- */

/* Reads a whole file; NULL (and *len 0) when it does not exist. */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    uint8_t *bytes = malloc((size_t)size + 1);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

static void spill(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len) {
    for (size_t i = 0; i + len <= hay_len; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return true;
    return false;
}

/* True when the file at path (absent: false) holds needle anywhere. */
static bool file_holds(const char *path, const uint8_t *needle, size_t len) {
    size_t n = 0;
    uint8_t *bytes = slurp(path, &n);
    bool found = bytes && contains(bytes, n, needle, len);
    free(bytes);
    return found;
}

/* SHA-256 of the whole file (which must exist). */
static void file_digest(const char *path, uint8_t out[32]) {
    size_t n = 0;
    uint8_t *bytes = slurp(path, &n);
    assert_non_null(bytes);
    assert_int_equal(seam_crypto_sha256(bytes, n, out), SEAM_OK);
    free(bytes);
}

static void sibling(char *out, size_t size, const char *path, const char *suffix) {
    assert_true((size_t)snprintf(out, size, "%s%s", path, suffix) < size);
}

/* ---- the personalized purse ------------------------------------------------------ */

typedef struct {
    const uint8_t *needle;
    size_t len;
    bool found;
} search;

static int search_record(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                         size_t value_len) {
    search *s = ctx;
    (void)key, (void)key_len;
    s->found |= contains(value, value_len, s->needle, s->len);
    return 0;
}

/* True when some record of the card (as the nvm returns it) holds needle. */
static bool card_holds(seam_card *card, const uint8_t *needle, size_t len) {
    search s = {needle, len, false};
    for (uint16_t table = 1; table <= 16; table++)
        assert_int_equal(seam_nvm_foreach(seam_card_nvm(card), table, NULL, 0, search_record, &s),
                         SEAM_OK);
    return s.found;
}

/* Loads the purse, installs it with install_pin, personalizes it with perso_pin by
   INSTALL [for personalization] and STORE DATA DF01, and checks perso_pin opens it. */
static void personalize_purse(seam_card *card) {
    uint8_t params[1 + sizeof install_pin] = {sizeof install_pin};
    memcpy(params + 1, install_pin, sizeof install_pin);
    power_on(card);
    open_channel(card);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(card, 0x0C, purse_pkg, purse_cls, purse_cls, params, sizeof params),
                     0x9000);
    assert_int_equal(install_perso(card, purse_cls, sizeof purse_cls), 0x9000);
    uint8_t dgi[3 + sizeof perso_pin] = {0xDF, 0x01, sizeof perso_pin};
    memcpy(dgi + 3, perso_pin, sizeof perso_pin);
    assert_int_equal(gp(card, true, 0xE2, 0x90, 0x00, dgi, sizeof dgi), 0x9000);
    assert_int_equal(select_aid(card, purse_cls, sizeof purse_cls), 0x9000);
    uint8_t verify[5 + sizeof perso_pin] = {0x00, 0x20, 0x00, 0x00, sizeof perso_pin};
    memcpy(verify + 5, perso_pin, sizeof perso_pin);
    assert_int_equal(send(card, verify, sizeof verify), 0x9000);
}

/* ---- item 6: sealed storage ------------------------------------------------------- */

/*
 * The attack: copy card.db (and its write-ahead log or a journal, if one is
 * there) and read it. The PINs and the ISD's key are on the card (the nvm hands
 * them back), yet no byte string of the files shows them.
 */
static void hardening_06_image_shows_no_pin_and_no_key_P10(void **state) {
    fixture *f = *state;
    char journal[128], log[128];
    sibling(journal, sizeof journal, f->path, "-journal");
    sibling(log, sizeof log, f->path, "-wal");
    personalize_purse(f->card);
    assert_true(card_holds(f->card, install_pin, sizeof install_pin));
    assert_true(card_holds(f->card, perso_pin, sizeof perso_pin));
    assert_true(card_holds(f->card, test_key, sizeof test_key));
    size_t logged = 0;
    uint8_t *log_bytes = slurp(log, &logged);
    free(log_bytes);
    assert_true(logged > 0); /* the commands sit in the log, not yet in card.db: it is searched */
    /* while the card is open, and after it is closed */
    for (int pass = 0; pass < 2; pass++) {
        const char *files[] = {f->path, journal, log};
        for (size_t i = 0; i < 3; i++) {
            if (file_holds(files[i], install_pin, sizeof install_pin))
                fail_msg("%s shows the install PIN in clear", files[i]);
            if (file_holds(files[i], perso_pin, sizeof perso_pin))
                fail_msg("%s shows the STORE DATA PIN in clear", files[i]);
            if (file_holds(files[i], test_key, sizeof test_key))
                fail_msg("%s shows the ISD key 404142..4F in clear", files[i]);
        }
        seam_card_close(f->card);
        f->card = NULL;
    }
}

/* A wrong storage key is refused at open, and the image file is byte for byte as it was. */
static void hardening_06_wrong_key_is_refused_and_changes_nothing_P10(void **state) {
    fixture *f = *state;
    char key_path[128];
    uint8_t before[32], after[32], card_before[32], card_after[32];
    sibling(key_path, sizeof key_path, f->path, ".key");
    personalize_purse(f->card);
    fingerprint(f->card, card_before);
    seam_card_close(f->card);
    f->card = NULL;

    size_t len = 0;
    uint8_t *key = slurp(key_path, &len);
    assert_non_null(key);
    assert_true(len >= 64);
    uint8_t *wrong = malloc(len);
    assert_non_null(wrong);
    memcpy(wrong, key, len);
    wrong[10] = wrong[10] == '0' ? '1' : '0'; /* one hex digit: another valid key */
    spill(key_path, wrong, len);

    file_digest(f->path, before);
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_ERR_NVM_KEY);
    assert_null(f->card);
    file_digest(f->path, after);
    assert_memory_equal(before, after, 32);

    spill(key_path, key, len); /* the right key opens the same card */
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
    fingerprint(f->card, card_after);
    assert_memory_equal(card_before, card_after, 32);
    free(key);
    free(wrong);
}

/* No key file, or one that does not hold a key: a clear error, the image untouched. */
static void hardening_06_missing_or_malformed_key_file_P10(void **state) {
    fixture *f = *state;
    char key_path[128];
    uint8_t before[32], after[32];
    static const char *const malformed[] = {
        "", "404142434445464748494A4B4C4D4E4F\n", /* 16 bytes: too short */
        "zz42434445464748494A4B4C4D4E4F404142434445464748494A4B4C4D4E4F40\n",
        "404142434445464748494A4B4C4D4E4F404142434445464748494A4B4C4D4E4F40\n", /* 33 bytes */
    };
    sibling(key_path, sizeof key_path, f->path, ".key");
    seam_card_close(f->card);
    f->card = NULL;
    size_t len = 0;
    uint8_t *key = slurp(key_path, &len);
    assert_non_null(key);
    file_digest(f->path, before);

    assert_int_equal(unlink(key_path), 0);
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_ERR_CARD_KEY_FILE);
    assert_null(f->card);
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        spill(key_path, malformed[i], strlen(malformed[i]));
        assert_int_equal(seam_card_open(f->path, &f->card), SEAM_ERR_CARD_KEY_FILE);
        assert_null(f->card);
    }
    file_digest(f->path, after);
    assert_memory_equal(before, after, 32);
    spill(key_path, key, len);
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
    free(key);
}

/* $SEAM_CARD_KEY_FILE names the key file when the key is kept away from the image. */
static void hardening_06_key_file_from_the_environment_P10(void **state) {
    fixture *f = *state;
    char key_path[128], elsewhere[128];
    sibling(key_path, sizeof key_path, f->path, ".key");
    sibling(elsewhere, sizeof elsewhere, f->dir, "/kept-apart.key");
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(rename(key_path, elsewhere), 0);

    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_ERR_CARD_KEY_FILE);
    assert_int_equal(setenv("SEAM_CARD_KEY_FILE", elsewhere, 1), 0);
    seam_err e = seam_card_open(f->path, &f->card);
    assert_int_equal(unsetenv("SEAM_CARD_KEY_FILE"), 0);
    assert_int_equal(e, SEAM_OK);
    power_on(f->card);
    open_channel(f->card); /* the ISD's keys came out of the sealed image */
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(rename(elsewhere, key_path), 0);
    reopen(f);
}

/* seam_card_create never overwrites a key file, and on failure leaves no file of its own. */
static void hardening_06_create_keeps_an_existing_key_file_P10(void **state) {
    fixture *f = *state;
    char other[128], other_key[128], key_path[128];
    static const char precious[] = "someone's key, not to be overwritten\n";
    sibling(key_path, sizeof key_path, f->path, ".key");
    sibling(other, sizeof other, f->dir, "/other.db");
    sibling(other_key, sizeof other_key, other, ".key");

    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* the key file is the owner's only */
    assert_int_equal(st.st_size, 65);          /* 64 hex digits and a newline */

    spill(other_key, precious, strlen(precious));
    seam_card *card = NULL;
    assert_int_equal(seam_card_create(other, 0, &card), SEAM_ERR_CARD_KEY_EXISTS);
    assert_null(card);
    assert_true(file_holds(other_key, (const uint8_t *)precious, strlen(precious)));
    assert_int_not_equal(stat(other, &st), 0); /* no image either */
    assert_int_equal(unlink(other_key), 0);

    /* an image already there: refused, and no key file is left behind */
    assert_int_not_equal(seam_card_create(f->path, 0, &card), SEAM_OK);
    assert_null(card);
    assert_int_equal(stat(key_path, &st), 0); /* the card's own key file is untouched */
    seam_card_close(f->card);
    f->card = NULL;
    spill(other, "x", 1);
    assert_int_not_equal(seam_card_create(other, 0, &card), SEAM_OK);
    assert_int_not_equal(stat(other_key, &st), 0);
    assert_int_equal(unlink(other), 0);
    char other_lock[128];
    sibling(other_lock, sizeof other_lock, other, ".lock");
    unlink(other_lock);
}

/* ---- item 7: one owner ------------------------------------------------------------- */

/* BALANCE of the selected purse. */
static uint32_t balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    return (uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 | (uint32_t)response[2] << 8 |
           response[3];
}

static void verify_and_credit(seam_card *card, uint8_t amount) {
    uint8_t verify[5 + sizeof perso_pin] = {0x00, 0x20, 0x00, 0x00, sizeof perso_pin};
    memcpy(verify + 5, perso_pin, sizeof perso_pin);
    assert_int_equal(select_aid(card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(send(card, verify, sizeof verify), 0x9000);
    assert_int_equal(SEND(card, 0x00, 0x30, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, amount), 0x9000);
}

/*
 * Two owners of one image lose updates: the first keeps the purse selected (its
 * memory in RAM), a second handle credits 50 and commits, then the first debits
 * 10 and commits its stale memory over the credit. The rule: the second handle
 * is refused at open.
 */
static void hardening_07_second_handle_is_refused_no_lost_update_X4(void **state) {
    fixture *f = *state;
    personalize_purse(f->card);
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
    power_on(f->card);
    verify_and_credit(f->card, 100); /* the purse stays selected: a serving card */

    seam_card *second = NULL;
    seam_err e = seam_card_open(f->path, &second);
    if (e == SEAM_OK) { /* what two owners do */
        power_on(second);
        verify_and_credit(second, 50);
        seam_card_close(second);
        assert_int_equal(SEND(f->card, 0x00, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 10), 0x9000);
        uint32_t now = balance(f->card);
        fail_msg("a second handle opened the held image: after +100, +50 (second handle) and -10 "
                 "the balance is %u, not 140",
                 now);
    }
    assert_int_equal(e, SEAM_ERR_NVM_BUSY);
    assert_null(second);
    assert_int_equal(balance(f->card), 100);
    seam_card_close(f->card); /* the owner leaves: the image can be opened again */
    f->card = NULL;
    assert_int_equal(seam_card_open(f->path, &second), SEAM_OK);
    seam_card_close(second);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_06_image_shows_no_pin_and_no_key_P10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_06_wrong_key_is_refused_and_changes_nothing_P10,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_06_missing_or_malformed_key_file_P10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_06_key_file_from_the_environment_P10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_06_create_keeps_an_existing_key_file_P10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_07_second_handle_is_refused_no_lost_update_X4,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
