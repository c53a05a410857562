/*
 * Sealed images (issue 9, item 6; P10): values stored encrypted and
 * authenticated under a storage key that is not in the image, bound to their
 * table and key. What a reader of the file sees, what a wrong key gets (a
 * clear error at open, and the file unchanged), what a value moved or altered
 * in the file gets (SEAM_ERR_NVM_CORRUPT, sticky), and the capacity accounting
 * of stored bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvm_test.h"
#include "seam/crypto.h"

#define T_KEYS  3
#define T_PAGES 7

static const uint8_t key_a[SEAM_NVM_STORAGE_KEY_SIZE] = {
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
    0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF};
static const uint8_t key_b[SEAM_NVM_STORAGE_KEY_SIZE] = {
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
    0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBE};

static const char secret_pin[] = "PIN=97531864";
static const char secret_key[] = "key 404142434445464748494A4B4C4D4E4F";

static bool holds(const uint8_t *hay, size_t hay_len, const void *needle, size_t len) {
    for (size_t i = 0; i + len <= hay_len; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return true;
    return false;
}

static void digest_file(const char *path, uint8_t out[32]) {
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    assert_non_null(bytes);
    assert_int_equal(seam_crypto_sha256(bytes, len, out), SEAM_OK);
    free(bytes);
}

/* A sealed image with a PIN record, a key record and a 5000-byte page. */
static void make_sealed(const char *path) {
    seam_nvm *nvm = NULL;
    static uint8_t page[5000];
    memset(page, 0x5A, sizeof page);
    memcpy(page + 2000, secret_pin, strlen(secret_pin));
    assert_int_equal(seam_nvm_create_sealed(path, 0, key_a, &nvm), SEAM_OK);
    assert_true(seam_nvm_is_sealed(nvm));
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_KEYS, "isd", secret_key), SEAM_OK);
    assert_int_equal(put_str(nvm, T_KEYS, "ssd", "another key"), SEAM_OK);
    assert_int_equal(put_str(nvm, 4, "isd", "a value of table 4"), SEAM_OK);
    assert_int_equal(put_str(nvm, T_KEYS, "empty", ""), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_PAGES, (const uint8_t *)"page", 4, page, sizeof page),
                     SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);
}

static int find_pin(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                    size_t value_len) {
    (void)key, (void)key_len;
    *(bool *)ctx |= holds(value, value_len, secret_pin, strlen(secret_pin));
    return 0;
}

/* The values come back as they were put, by get, cursor and foreach; the file shows none. */
static void hardening_06_sealed_values_read_back_and_stay_hidden_P10(void **state) {
    scratch *s = *state;
    char path[320], out[64];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    make_sealed(path);

    size_t len = 0;
    uint8_t *file = read_file(path, &len);
    assert_non_null(file);
    assert_false(holds(file, len, secret_pin, strlen(secret_pin)));
    assert_false(holds(file, len, secret_key, strlen(secret_key)));
    assert_false(holds(file, len, "another key", 11));
    assert_true(holds(file, len, "isd", 3)); /* record keys stay in clear */
    free(file);

    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_OK);
    assert_int_equal(get_str(nvm, T_KEYS, "isd", out, sizeof out), SEAM_OK);
    assert_string_equal(out, secret_key);
    assert_int_equal(get_str(nvm, T_KEYS, "empty", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "");
    size_t value_len = 0;
    assert_int_equal(seam_nvm_get(nvm, T_PAGES, (const uint8_t *)"page", 4, NULL, 0, &value_len),
                     SEAM_OK);
    assert_int_equal(value_len, 5000); /* the plain length */
    bool found = false;
    assert_int_equal(seam_nvm_foreach(nvm, T_PAGES, NULL, 0, find_pin, &found), SEAM_OK);
    assert_true(found);
    seam_nvm_cursor cursor;
    uint8_t key[SEAM_NVM_KEY_MAX], value[64];
    size_t key_len = 0;
    assert_int_equal(seam_nvm_cursor_init(&cursor, T_KEYS, NULL, 0), SEAM_OK);
    assert_int_equal(seam_nvm_cursor_next(nvm, &cursor, key, sizeof key, &key_len, value,
                                          sizeof value, &value_len),
                     SEAM_OK);
    assert_memory_equal(key, "empty", 5);
    assert_int_equal(value_len, 0);
    assert_int_equal(
        seam_nvm_cursor_next(nvm, &cursor, key, sizeof key, &key_len, value, 4, &value_len),
        SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(value_len, strlen(secret_key));
    assert_int_equal(seam_nvm_cursor_next(nvm, &cursor, key, sizeof key, &key_len, value,
                                          sizeof value, &value_len),
                     SEAM_OK);
    assert_memory_equal(value, secret_key, strlen(secret_key));
    seam_nvm_close(nvm);
}

/* Capacity counts what is stored: each value SEAM_NVM_SEAL_OVERHEAD bytes longer. */
static void sealed_capacity_counts_stored_bytes(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "small.db"));
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_create_sealed(path, 1000, key_a, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put_cost(nvm, 1, 100),
                     1 + 100 + SEAM_NVM_SEAL_OVERHEAD + SEAM_NVM_RECORD_OVERHEAD);
    uint8_t value[1000] = {0};
    size_t second = 1000 - seam_nvm_put_cost(nvm, 1, 100) - seam_nvm_put_cost(nvm, 1, 0);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, 1, (const uint8_t *)"a", 1, value, 100), SEAM_OK);
    assert_int_equal(seam_nvm_txn_bytes_written(nvm), 1 + 100 + SEAM_NVM_SEAL_OVERHEAD);
    assert_int_equal(seam_nvm_put(nvm, 1, (const uint8_t *)"b", 1, value, second), SEAM_OK);
    assert_int_equal(seam_nvm_free_bytes(nvm), 0);
    assert_int_equal(seam_nvm_put(nvm, 1, (const uint8_t *)"b", 1, value, second + 1),
                     SEAM_ERR_NVM_FULL);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);
    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), 1000); /* recomputed from what is stored */
    seam_nvm_close(nvm);
}

/* Opening with a wrong key, with none, or an unsealed image with one: SEAM_ERR_NVM_KEY at
   open, and the image file byte for byte as it was. */
static void hardening_06_wrong_key_fails_at_open_and_changes_nothing_P10(void **state) {
    scratch *s = *state;
    char path[320], plain[320];
    uint8_t before[32], after[32];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    snprintf(plain, sizeof plain, "%s", scratch_path(s, "plain.db"));
    make_sealed(path);
    digest_file(path, before);
    seam_nvm *nvm = (seam_nvm *)&before;
    assert_int_equal(seam_nvm_open_sealed(path, key_b, &nvm), SEAM_ERR_NVM_KEY);
    assert_null(nvm);
    nvm = (seam_nvm *)&before;
    assert_int_equal(seam_nvm_open(path, &nvm), SEAM_ERR_NVM_KEY);
    assert_null(nvm);
    digest_file(path, after);
    assert_memory_equal(before, after, 32);

    assert_int_equal(seam_nvm_create(plain, 0, &nvm), SEAM_OK);
    assert_false(seam_nvm_is_sealed(nvm));
    seam_nvm_close(nvm);
    digest_file(plain, before);
    assert_int_equal(seam_nvm_open_sealed(plain, key_a, &nvm), SEAM_ERR_NVM_KEY);
    assert_null(nvm);
    digest_file(plain, after);
    assert_memory_equal(before, after, 32);

    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_OK);
    seam_nvm_close(nvm);
    assert_int_equal(seam_nvm_open_sealed(path, NULL, &nvm), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_create_sealed(scratch_path(s, "x.db"), 0, NULL, &nvm), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_open_memory(0, &nvm), SEAM_OK);
    assert_false(seam_nvm_is_sealed(nvm)); /* tests and fuzzing stay plain */
    seam_nvm_close(nvm);
}

/* Runs SQL on a file with plain SQLite, as someone editing the file would. */
static void sqlite_run(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
        fail_msg("%s: %s", sql, message);
    sqlite3_close(db);
}

/* Reads (table, key) every way the nvm offers; each must say CORRUPT, and stick. */
static void expect_corrupt_value(const char *path, uint16_t table, const char *key) {
    char out[64];
    seam_nvm *nvm = NULL;
    for (int way = 0; way < 3; way++) {
        assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_OK);
        seam_err err;
        if (way == 0) {
            err = get_str(nvm, table, key, out, sizeof out);
        } else if (way == 1) {
            seam_nvm_cursor cursor;
            uint8_t k[SEAM_NVM_KEY_MAX], v[64];
            size_t k_len = 0, v_len = 0;
            assert_int_equal(
                seam_nvm_cursor_init(&cursor, table, (const uint8_t *)key, strlen(key)), SEAM_OK);
            err = seam_nvm_cursor_next(nvm, &cursor, k, sizeof k, &k_len, v, sizeof v, &v_len);
        } else {
            bool found = false;
            err = seam_nvm_foreach(nvm, table, (const uint8_t *)key, strlen(key), find_pin, &found);
        }
        if (err != SEAM_ERR_NVM_CORRUPT)
            fail_msg("(%u, %s), read way %d: %s, want SEAM_ERR_NVM_CORRUPT", table, key, way,
                     err_name(err));
        assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_ERROR);
        assert_int_equal(seam_nvm_begin(nvm), SEAM_ERR_NVM_CORRUPT); /* sticky */
        seam_nvm_close(nvm);
    }
}

/*
 * Someone with the file but not the key moves sealed values around: swaps two
 * key sets, copies one into another table, alters a byte, cuts one short. None of
 * them opens; what is untouched still does.
 */
static void hardening_06_moved_or_altered_values_are_corrupt_P10(void **state) {
    scratch *s = *state;
    char pristine[320], path[320], out[64];
    static const struct {
        const char *sql;
        uint16_t table;
        const char *key;
    } attacks[] = {
        {"CREATE TEMP TABLE old AS SELECT k, v FROM seam_record WHERE tbl = 3;"
         "UPDATE seam_record SET v = (SELECT v FROM old WHERE old.k = CAST('ssd' AS BLOB)) "
         "WHERE tbl = 3 AND k = CAST('isd' AS BLOB);"
         "UPDATE seam_record SET v = (SELECT v FROM old WHERE old.k = CAST('isd' AS BLOB)) "
         "WHERE tbl = 3 AND k = CAST('ssd' AS BLOB);",
         3, "ssd"}, /* two key sets swapped */
        {"UPDATE seam_record SET v = (SELECT v FROM seam_record WHERE tbl = 3 AND "
         "k = CAST('isd' AS BLOB)) WHERE tbl = 4 AND k = CAST('isd' AS BLOB)",
         4, "isd"}, /* copied to the same key of another table */
        {"UPDATE seam_record SET v = CAST(v || x'00' AS BLOB) WHERE tbl = 3 AND "
         "k = CAST('isd' AS BLOB)",
         3, "isd"},
        {"UPDATE seam_record SET v = substr(v, 1, 20) WHERE tbl = 3 AND k = CAST('isd' AS BLOB)", 3,
         "isd"},
        {"UPDATE seam_record SET v = x'' WHERE tbl = 3 AND k = CAST('empty' AS BLOB)", 3, "empty"},
        {"UPDATE seam_record SET v = CAST(substr(v, 1, 12) || zeroblob(length(v) - 28) || "
         "substr(v, length(v) - 15) AS BLOB) WHERE tbl = 3 AND k = CAST('isd' AS BLOB)",
         3, "isd"}, /* the ciphertext replaced */
        {"UPDATE seam_record SET v = CAST(substr(v, 1, length(v) - 16) || zeroblob(16) AS BLOB) "
         "WHERE tbl = 3 AND k = CAST('isd' AS BLOB)",
         3, "isd"}, /* the tag replaced */
    };
    snprintf(pristine, sizeof pristine, "%s", scratch_path(s, "pristine.db"));
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    make_sealed(pristine);
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        copy_file(pristine, path);
        sqlite_run(path, attacks[i].sql);
        expect_corrupt_value(path, attacks[i].table, attacks[i].key);
    }
    /* the untouched record next to an altered one still reads */
    copy_file(pristine, path);
    sqlite_run(path, attacks[2].sql);
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_OK);
    assert_int_equal(get_str(nvm, T_KEYS, "ssd", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "another key");
    seam_nvm_close(nvm);
    /* and the key check itself: removed, or replaced by another image's */
    copy_file(pristine, path);
    sqlite_run(path, "DELETE FROM seam_meta WHERE name = 'keycheck'");
    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_ERR_NVM_CORRUPT);
    char other[320], sql[800];
    snprintf(other, sizeof other, "%s", scratch_path(s, "other.db"));
    assert_int_equal(seam_nvm_create_sealed(other, 0, key_b, &nvm), SEAM_OK);
    seam_nvm_close(nvm);
    copy_file(pristine, path);
    snprintf(sql, sizeof sql,
             "ATTACH '%s' AS o; UPDATE seam_meta SET value = (SELECT value FROM o.seam_meta "
             "WHERE name = 'keycheck') WHERE name = 'keycheck'",
             other);
    sqlite_run(path, sql);
    assert_int_equal(seam_nvm_open_sealed(path, key_a, &nvm), SEAM_ERR_NVM_KEY);
}

typedef struct {
    size_t count;
    bool wrong;
} checker;

static int check_value(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    checker *c = ctx;
    c->count++;
    /* every value of the sweep image is 700 bytes of 'a' + its first key byte */
    bool right = key_len == 2 && value_len == 700;
    for (size_t i = 0; right && i < value_len; i++)
        right = value[i] == (uint8_t)('a' + key[0]);
    c->wrong |= !right;
    return 0;
}

/*
 * The anomaly sweep of image_test.c on a sealed image, stronger: a flipped byte
 * anywhere ends in a clear answer, and no read ever returns a value other than
 * the one that was put (damage inside a value is caught now, not returned).
 */
static void sealed_flipped_bytes_never_read_wrong_values(void **state) {
    scratch *s = *state;
    char pristine[320], path[320];
    snprintf(pristine, sizeof pristine, "%s", scratch_path(s, "pristine.db"));
    snprintf(path, sizeof path, "%s", scratch_path(s, "flipped.db"));
    seam_nvm *nvm = NULL;
    uint8_t value[700];
    assert_int_equal(seam_nvm_create_sealed(pristine, 0, key_a, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    for (int i = 0; i < 12; i++) {
        uint8_t key[2] = {(uint8_t)i, 0x5A};
        memset(value, 'a' + i, sizeof value);
        assert_int_equal(seam_nvm_put(nvm, (uint16_t)(i % 3), key, 2, value, sizeof value),
                         SEAM_OK);
    }
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);

    size_t len = 0, opened = 0, refused = 0, caught = 0;
    uint8_t *image = read_file(pristine, &len);
    for (size_t at = 0; at < len; at += 31) {
        image[at] ^= 0xA5;
        write_file(path, image, len);
        image[at] ^= 0xA5;
        seam_err err = seam_nvm_open_sealed(path, key_a, &nvm);
        if (err == SEAM_ERR_NVM_CORRUPT || err == SEAM_ERR_UNSUPPORTED || err == SEAM_ERR_NVM_KEY) {
            refused++;
            continue;
        }
        if (err != SEAM_OK)
            fail_msg("flip at %zu: open returned %s", at, err_name(err));
        opened++;
        for (uint16_t table = 0; table < 3; table++) {
            checker c = {0};
            err = seam_nvm_foreach(nvm, table, NULL, 0, check_value, &c);
            if (err != SEAM_OK && err != SEAM_ERR_NVM_CORRUPT && err != SEAM_ERR_NVM)
                fail_msg("flip at %zu: foreach returned %s", at, err_name(err));
            if (c.wrong)
                fail_msg("flip at %zu: a damaged value was returned as good", at);
            if (err != SEAM_OK) {
                caught++;
                break;
            }
        }
        seam_nvm_close(nvm);
    }
    free(image);
    print_message("      %zu flips: %zu opened (%zu reads caught the damage), %zu refused\n",
                  opened + refused, opened, caught, refused);
    assert_true(refused > 0);
    assert_true(caught > 0);
}

int main(void) {
#define SCRATCH_TEST(name) cmocka_unit_test_setup_teardown(name, scratch_setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(hardening_06_sealed_values_read_back_and_stay_hidden_P10),
        SCRATCH_TEST(sealed_capacity_counts_stored_bytes),
        SCRATCH_TEST(hardening_06_wrong_key_fails_at_open_and_changes_nothing_P10),
        SCRATCH_TEST(hardening_06_moved_or_altered_values_are_corrupt_P10),
        SCRATCH_TEST(sealed_flipped_bytes_never_read_wrong_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
