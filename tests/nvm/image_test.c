/*
 * Tests for image files: create and open, what survives a reopen, the
 * capacity quota, and foreign or damaged files (X6: a clear error, and the
 * file is left as it was). Every test works in its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvm_test.h"

#define T_REG 1

static seam_nvm *create_image(const char *path, size_t capacity) {
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_create(path, capacity, &nvm), SEAM_OK);
    assert_non_null(nvm);
    return nvm;
}

static seam_nvm *open_image(const char *path) {
    seam_nvm *nvm = NULL;
    seam_err err = seam_nvm_open(path, &nvm);
    if (err != SEAM_OK)
        fail_msg("seam_nvm_open(%s): %s", path, err_name(err));
    return nvm;
}

static void create_refuses_an_existing_path(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_image(path, 0);
    assert_int_equal(seam_nvm_capacity(nvm), SEAM_NVM_DEFAULT_CAPACITY);
    assert_int_equal(seam_nvm_used_bytes(nvm), 0);
    assert_int_equal(seam_nvm_free_bytes(nvm), SEAM_NVM_DEFAULT_CAPACITY);
    seam_nvm_close(nvm);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* card secrets: owner only */

    size_t before_len = 0, after_len = 0;
    uint8_t *before = read_file(path, &before_len);
    seam_nvm *again = NULL;
    assert_int_equal(seam_nvm_create(path, 0, &again), SEAM_ERR_ARG);
    assert_null(again);
    uint8_t *after = read_file(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);

    assert_int_equal(seam_nvm_create(scratch_path(s, "big.db"), SEAM_NVM_CAPACITY_MAX + 1, &again),
                     SEAM_ERR_ARG);
    assert_false(file_has_content(scratch_path(s, "big.db")));
    assert_int_equal(seam_nvm_create(scratch_path(s, "no/such/dir.db"), 0, &again), SEAM_ERR_IO);
    assert_int_equal(seam_nvm_create(NULL, 0, &again), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_open(scratch_path(s, "missing.db"), &again), SEAM_ERR_NOT_FOUND);
    assert_null(again);
}

static void reopen_keeps_committed_and_drops_the_rest(void **state) {
    scratch *s = *state;
    char path[320], out[16];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_image(path, 4096);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "committed", "yes"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "rolled-back", "no"), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "committed", "overwritten"), SEAM_OK);
    assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "left-open", "no"), SEAM_OK);
    size_t committed_used = seam_nvm_record_cost(9, 3);
    seam_nvm_close(nvm); /* with the transaction still open */

    nvm = open_image(path);
    assert_int_equal(seam_nvm_capacity(nvm), 4096);
    assert_int_equal(seam_nvm_used_bytes(nvm), committed_used);
    assert_int_equal(get_str(nvm, T_REG, "committed", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "yes");
    assert_int_equal(get_str(nvm, T_REG, "rolled-back", out, sizeof out), SEAM_ERR_NOT_FOUND);
    assert_int_equal(get_str(nvm, T_REG, "left-open", out, sizeof out), SEAM_ERR_NOT_FOUND);
    seam_nvm_close(nvm);
}

/* ---- capacity ------------------------------------------------------------ */

#define SMALL_CAPACITY 1000

static void fill_to_exactly_capacity(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_image(path, SMALL_CAPACITY);
    uint8_t value[SMALL_CAPACITY] = {0};
    /* Two records: 100 + 16 + 1, and the rest of the capacity for the second. */
    size_t first_cost = seam_nvm_record_cost(1, 100);
    size_t second_value = SMALL_CAPACITY - first_cost - seam_nvm_record_cost(1, 0);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"a", 1, value, 100), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"b", 1, value, second_value),
                     SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), SMALL_CAPACITY);
    assert_int_equal(seam_nvm_free_bytes(nvm), 0);

    /* One more byte anywhere fails with FULL and changes nothing. */
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"b", 1, value, second_value + 1),
                     SEAM_ERR_NVM_FULL);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"c", 1, NULL, 0), SEAM_ERR_NVM_FULL);
    assert_int_equal(seam_nvm_put(nvm, 2, NULL, 0, NULL, 0), SEAM_ERR_NVM_FULL);
    assert_int_equal(seam_nvm_used_bytes(nvm), SMALL_CAPACITY);
    assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_WRITE); /* still open */
    size_t len = 0;
    assert_int_equal(seam_nvm_get(nvm, T_REG, (const uint8_t *)"b", 1, NULL, 0, &len), SEAM_OK);
    assert_int_equal(len, second_value);
    assert_int_equal(seam_nvm_get(nvm, T_REG, (const uint8_t *)"c", 1, NULL, 0, &len),
                     SEAM_ERR_NOT_FOUND);
    /* Rewriting a record at the same size still fits. */
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"b", 1, value, second_value),
                     SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);

    nvm = open_image(path);
    assert_int_equal(seam_nvm_used_bytes(nvm), SMALL_CAPACITY);
    assert_int_equal(seam_nvm_free_bytes(nvm), 0);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"d", 1, NULL, 0), SEAM_ERR_NVM_FULL);
    /* Freeing room makes the same put fit. */
    assert_int_equal(seam_nvm_delete(nvm, T_REG, (const uint8_t *)"a", 1), SEAM_OK);
    assert_int_equal(seam_nvm_free_bytes(nvm), first_cost);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"d", 1, value, 100), SEAM_OK);
    assert_int_equal(seam_nvm_free_bytes(nvm), 0);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);
}

static void replacing_accounts_the_difference(void **state) {
    scratch *s = *state;
    seam_nvm *nvm = create_image(scratch_path(s, "card.db"), SMALL_CAPACITY);
    uint8_t value[600] = {0};
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"key", 3, value, 100), SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), 3 + 100 + SEAM_NVM_RECORD_OVERHEAD);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"key", 3, value, 40), SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), 3 + 40 + SEAM_NVM_RECORD_OVERHEAD);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"key", 3, value, 600), SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), 3 + 600 + SEAM_NVM_RECORD_OVERHEAD);
    /* A replacement that would not fit is refused even though the old record goes away. */
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"pad", 3, value, 300), SEAM_OK);
    size_t used = seam_nvm_used_bytes(nvm);
    size_t grow = SMALL_CAPACITY - used + 1;
    uint8_t *bigger = calloc(1, 600 + grow);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"key", 3, bigger, 600 + grow),
                     SEAM_ERR_NVM_FULL);
    assert_int_equal(seam_nvm_put(nvm, T_REG, (const uint8_t *)"key", 3, bigger, 600 + grow - 1),
                     SEAM_OK);
    free(bigger);
    assert_int_equal(seam_nvm_used_bytes(nvm), SMALL_CAPACITY);
    /* A rollback puts the running total back. */
    assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_used_bytes(nvm), 0);
    seam_nvm_close(nvm);
}

/* ---- foreign and damaged files -------------------------------------------- */

/* Expects open to refuse path with want and leave the file byte for byte as it was. */
static void expect_refused(const char *path, seam_err want) {
    size_t before_len = 0, after_len = 0;
    uint8_t *before = read_file(path, &before_len);
    seam_nvm *nvm = (seam_nvm *)&before_len; /* must be overwritten with NULL */
    seam_err err = seam_nvm_open(path, &nvm);
    if (err != want)
        fail_msg("open(%s) = %s, want %s", path, err_name(err), err_name(want));
    assert_null(nvm);
    uint8_t *after = read_file(path, &after_len);
    assert_int_equal(before_len, after_len);
    if (before_len > 0)
        assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}

/* Runs SQL on a file with plain SQLite, as a foreign program would. */
static void sqlite_run(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
        fail_msg("%s: %s", sql, message);
    sqlite3_close(db);
}

/* Makes a small committed seam image at path. */
static void make_image(const char *path) {
    seam_nvm *nvm = create_image(path, 0);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "isd", "keys"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);
}

static void foreign_files_are_corrupt(void **state) {
    scratch *s = *state;
    char path[320];

    snprintf(path, sizeof path, "%s", scratch_path(s, "empty"));
    write_file(path, "", 0);
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);

    snprintf(path, sizeof path, "%s", scratch_path(s, "text"));
    const char text[] = "this is not a card image, it is a shopping list\n";
    write_file(path, text, sizeof text - 1);
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);

    snprintf(path, sizeof path, "%s", scratch_path(s, "random"));
    uint8_t noise[8192];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (uint8_t)x;
    }
    write_file(path, noise, sizeof noise);
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);

    /* Another application's SQLite database, in both journal modes. */
    snprintf(path, sizeof path, "%s", scratch_path(s, "other.db"));
    sqlite_run(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);
    snprintf(path, sizeof path, "%s", scratch_path(s, "wal.db"));
    sqlite_run(path, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);

    /* seam's application id but not seam's schema. */
    snprintf(path, sizeof path, "%s", scratch_path(s, "impostor.db"));
    sqlite_run(path, "PRAGMA application_id = 1397047629; CREATE TABLE seam_record(x);");
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);

    /* A directory is not an image either. */
    expect_refused(s->dir, SEAM_ERR_NVM_CORRUPT);
}

static void tampered_images_are_corrupt(void **state) {
    scratch *s = *state;
    char path[320];
    static const char *const tamper[] = {
        "CREATE TABLE extra(x);",
        "CREATE TRIGGER sneaky AFTER INSERT ON seam_record BEGIN DELETE FROM seam_meta; END;",
        "CREATE VIEW v AS SELECT * FROM seam_record;",
        "CREATE INDEX i ON seam_record(v);",
        "UPDATE seam_meta SET value = 'some other image' WHERE name = 'magic';",
        "DELETE FROM seam_meta WHERE name = 'capacity';",
        "UPDATE seam_meta SET value = -5 WHERE name = 'capacity';",
        "UPDATE seam_meta SET value = 'big' WHERE name = 'capacity';",
        "UPDATE seam_meta SET value = 10 WHERE name = 'capacity';", /* below what is used */
        "UPDATE seam_meta SET value = 0 WHERE name = 'format';",
        "PRAGMA application_id = 7;",
    };
    for (size_t i = 0; i < sizeof tamper / sizeof tamper[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "tampered-%zu.db", i);
        snprintf(path, sizeof path, "%s", scratch_path(s, name));
        make_image(path);
        sqlite_run(path, tamper[i]);
        expect_refused(path, SEAM_ERR_NVM_CORRUPT);
    }
    /* A seam image from a newer seam is not corrupt: it is unsupported. */
    snprintf(path, sizeof path, "%s", scratch_path(s, "future.db"));
    make_image(path);
    char newer[96];
    snprintf(newer, sizeof newer, "UPDATE seam_meta SET value = %d WHERE name = 'format';",
             SEAM_NVM_FORMAT_VERSION + 1);
    sqlite_run(path, newer);
    expect_refused(path, SEAM_ERR_UNSUPPORTED);
    /* A plain image that claims to be sealed: no key opens it, and none is needed to say so. */
    snprintf(path, sizeof path, "%s", scratch_path(s, "claims-sealed.db"));
    make_image(path);
    sqlite_run(path, "UPDATE seam_meta SET value = 2 WHERE name = 'format';");
    expect_refused(path, SEAM_ERR_NVM_KEY);
    /* A truncated image. */
    snprintf(path, sizeof path, "%s", scratch_path(s, "cut.db"));
    make_image(path);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    assert_non_null(bytes);
    size_t page = (size_t)bytes[16] << 8 | bytes[17]; /* the header's page size */
    assert_true(len > page);
    write_file(path, bytes, page); /* the first page alone */
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);
    write_file(path, bytes, 60);
    expect_refused(path, SEAM_ERR_NVM_CORRUPT);
    free(bytes);
}

/*
 * Records that break the format (possible only in a hand-made file: the schema's
 * CHECKs refuse them) are refused at open or reported as corrupt when read.
 */
static void records_breaking_the_format_are_corrupt(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "long-key.db"));
    make_image(path);
    sqlite_run(path, "PRAGMA ignore_check_constraints = ON;"
                     "INSERT INTO seam_record VALUES (1, zeroblob(300), x'00');");
    seam_nvm *nvm = NULL;
    seam_err err = seam_nvm_open(path, &nvm);
    if (err == SEAM_OK) {
        seam_nvm_cursor cursor;
        uint8_t key[SEAM_NVM_KEY_MAX];
        size_t key_len = 0, value_len = 0;
        assert_int_equal(seam_nvm_cursor_init(&cursor, T_REG, NULL, 0), SEAM_OK);
        err = seam_nvm_cursor_next(nvm, &cursor, key, sizeof key, &key_len, NULL, 0, &value_len);
        while (err == SEAM_OK)
            err =
                seam_nvm_cursor_next(nvm, &cursor, key, sizeof key, &key_len, NULL, 0, &value_len);
        assert_int_equal(err, SEAM_ERR_NVM_CORRUPT);
        assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_ERROR);
        assert_int_equal(seam_nvm_begin(nvm), SEAM_ERR_NVM_CORRUPT); /* sticky */
        seam_nvm_close(nvm);
    } else {
        assert_int_equal(err, SEAM_ERR_NVM_CORRUPT);
    }
}

/*
 * A program that ignores the owner lock (here plain SQLite, as the sqlite3 shell
 * would) is kept out by SQLite's own lock while a handle has the image: the
 * handle holds it from open to close (locking_mode=EXCLUSIVE), so the program
 * can neither write nor read, and the handle works on. Once the handle is
 * closed the program reads the committed image from the image file alone. And
 * a program that holds the lock first makes the open fail with
 * SEAM_ERR_NVM_BUSY, the file unchanged.
 */
static void a_foreign_program_is_kept_out(void **state) {
    scratch *s = *state;
    char path[320], out[16];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    make_image(path);
    seam_nvm *nvm = open_image(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_BUSY);
    assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM seam_record", NULL, NULL, NULL),
                     SQLITE_BUSY);
    assert_int_equal(get_str(nvm, T_REG, "isd", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "keys");
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "isd", "new keys"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);

    sqlite3_stmt *stmt = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT v FROM seam_record WHERE k = x'697364'", -1, &stmt, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(stmt, 0), 8);
    assert_memory_equal(sqlite3_column_blob(stmt, 0), "new keys", 8);
    sqlite3_finalize(stmt);

    /* The program takes the write lock first: the open is refused, nothing changes. */
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    expect_refused(path, SEAM_ERR_NVM_BUSY);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    nvm = open_image(path);
    assert_int_equal(get_str(nvm, T_REG, "isd", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "new keys");
    seam_nvm_close(nvm);
}

static int visit_all(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len) {
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(size_t *)ctx)++;
    return 0;
}

/*
 * An anomaly sweep: flip one byte at a time across a whole image. Every open
 * must end in a clear answer (OK, CORRUPT or UNSUPPORTED) and, when it opens,
 * every read must too. Damage SQLite cannot see (inside a value) may open.
 */
static void every_flipped_byte_gets_a_clear_answer(void **state) {
    scratch *s = *state;
    char pristine[320], path[320];
    snprintf(pristine, sizeof pristine, "%s", scratch_path(s, "pristine.db"));
    snprintf(path, sizeof path, "%s", scratch_path(s, "flipped.db"));
    seam_nvm *nvm = create_image(pristine, 0);
    uint8_t value[700];
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    for (int i = 0; i < 12; i++) {
        uint8_t key[2] = {(uint8_t)i, 0x5A};
        memset(value, 'a' + i, sizeof value);
        assert_int_equal(seam_nvm_put(nvm, (uint16_t)(i % 3), key, 2, value, sizeof value),
                         SEAM_OK);
    }
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);

    size_t len = 0;
    uint8_t *image = read_file(pristine, &len);
    size_t opened = 0, refused = 0;
    for (size_t at = 0; at < len; at += 29) {
        image[at] ^= 0xA5;
        write_file(path, image, len);
        image[at] ^= 0xA5;
        seam_err err = seam_nvm_open(path, &nvm);
        if (err == SEAM_ERR_NVM_CORRUPT || err == SEAM_ERR_UNSUPPORTED) {
            refused++;
            continue;
        }
        if (err != SEAM_OK)
            fail_msg("flip at %zu: open returned %s", at, err_name(err));
        opened++;
        for (uint16_t table = 0; table < 3; table++) {
            size_t count = 0;
            err = seam_nvm_foreach(nvm, table, NULL, 0, visit_all, &count);
            if (err != SEAM_OK && err != SEAM_ERR_NVM_CORRUPT && err != SEAM_ERR_NVM)
                fail_msg("flip at %zu: foreach returned %s", at, err_name(err));
        }
        seam_nvm_close(nvm);
    }
    free(image);
    print_message("      %zu flips: %zu opened, %zu refused\n", opened + refused, opened, refused);
    assert_true(refused > 0);
}

int main(void) {
#define SCRATCH_TEST(name) cmocka_unit_test_setup_teardown(name, scratch_setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(create_refuses_an_existing_path),
        SCRATCH_TEST(reopen_keeps_committed_and_drops_the_rest),
        SCRATCH_TEST(fill_to_exactly_capacity),
        SCRATCH_TEST(replacing_accounts_the_difference),
        SCRATCH_TEST(foreign_files_are_corrupt),
        SCRATCH_TEST(tampered_images_are_corrupt),
        SCRATCH_TEST(records_breaking_the_format_are_corrupt),
        SCRATCH_TEST(a_foreign_program_is_kept_out),
        SCRATCH_TEST(every_flipped_byte_gets_a_clear_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
