/*
 * The record text on the OMA DS wire (docs/sync.md "Databases", "OMA DS over HTTP"): the sync
 * layer's seam_sync_record_format/parse is the one serializer; an ./apps record is four
 * "field: value" lines that parse back to the record and format to the same bytes; a ./devinfo
 * record is its bare value (one field, no name), which round-trips through parse.
 * Also the sync session that the OMA DS client runs over (seam_sync_session_*): rollback,
 * commit, and the base it leaves (S6, X4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/sync.h"

static seam_sync_record app(const char *key, const char *name, seam_sync_kind kind,
                            const char *version, uint64_t size) {
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", name);
    r.kind = kind;
    snprintf(r.version, sizeof r.version, "%s", version);
    r.size = size;
    return r;
}

static void assert_same_record(const seam_sync_record *a, const seam_sync_record *b) {
    assert_string_equal(a->value, b->value);
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->version, b->version);
    assert_int_equal(a->size, b->size);
}

/* format -> parse gives the record, and format again gives the same bytes (S6). */
static void apps_text_round_trips_through_parse_S6(void **state) {
    (void)state;
    const seam_sync_record recs[] = {
        app("A0000000041010", "purse", SEAM_SYNC_KIND_CARD, "1.0", 3100),
        app("com.example.snake", "", SEAM_SYNC_KIND_TERMINAL, "10.2.3-beta", 0),
        app("k", "Caf\xc3\xa9: menu \xe2\x82\xac 2", SEAM_SYNC_KIND_CARD, "x", UINT64_MAX / 2),
        app("spaces", "  two  spaces  ", SEAM_SYNC_KIND_TERMINAL, "1.10", 9223372036854775807u),
    };
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        char text[SEAM_SYNC_TEXT_MAX + 1], again[SEAM_SYNC_TEXT_MAX + 1];
        size_t len = 0, len2 = 0;
        assert_int_equal(seam_sync_record_format(SEAM_SYNC_APPS, &recs[i], text, sizeof text, &len),
                         SEAM_OK);
        assert_memory_equal(text, "name: ", 6);
        seam_sync_record back;
        memset(&back, 0, sizeof back);
        memcpy(back.key, recs[i].key, sizeof back.key); /* the key travels as the LUID */
        assert_int_equal(seam_sync_record_parse(SEAM_SYNC_APPS, text, len, &back), SEAM_OK);
        assert_same_record(&back, &recs[i]);
        assert_int_equal(seam_sync_record_format(SEAM_SYNC_APPS, &back, again, sizeof again, &len2),
                         SEAM_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(again, text, len);
    }
}

/* ./devinfo's text is the value itself, any UTF-8 without control characters, round-tripping
   through parse, which also takes line ends after it; a line break inside or a control character
   is refused. */
static void devinfo_text_is_the_bare_value_S6(void **state) {
    (void)state;
    const char *values[] = {"en", "", "356938035643809", "a: b", "  x  ", "\xe2\x82\xac"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        seam_sync_record r, back;
        memset(&r, 0, sizeof r);
        memset(&back, 0, sizeof back);
        snprintf(r.key, sizeof r.key, "language");
        snprintf(r.value, sizeof r.value, "%s", values[i]);
        char text[SEAM_SYNC_TEXT_MAX + 1];
        size_t len = 0;
        assert_int_equal(seam_sync_record_format(SEAM_SYNC_DEVINFO, &r, text, sizeof text, &len),
                         SEAM_OK);
        assert_int_equal(len, strlen(values[i]));
        assert_memory_equal(text, values[i], len);
        assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, text, len, &back), SEAM_OK);
        assert_string_equal(back.value, values[i]);
    }
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    /* line ends after the value, as text/plain peers (SyncEvolution) send them, are not part of it
     */
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "en\n", 3, &r), SEAM_OK);
    assert_string_equal(r.value, "en");
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "fr\r\n", 4, &r), SEAM_OK);
    assert_string_equal(r.value, "fr");
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "de\r\n\r\n", 6, &r), SEAM_OK);
    assert_string_equal(r.value, "de");
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "a\nb", 3, &r), SEAM_ERR_SYNC_FIELD);
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "a\tb", 3, &r), SEAM_ERR_SYNC_FIELD);
}

static char path[64];

static int put_devinfo(seam_sync_db *db, const char *key, const char *value) {
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", value);
    return seam_sync_put(db, SEAM_SYNC_DEVINFO, &r);
}

static int count_change(void *ctx, seam_sync_op op, const seam_sync_record *rec) {
    (void)op, (void)rec;
    (*(int *)ctx)++;
    return 0;
}

/* A session freed before its commit leaves the whole file as it was; a commit after records
   received (not sent) keeps this side's own changes pending; one after sending clears them. */
static void sync_session_rolls_back_or_moves_the_base_X4(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/seam-wire-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    seam_sync_db *db;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    assert_int_equal(put_devinfo(db, "language", "en"), SEAM_OK);
    uint64_t before, after;
    assert_int_equal(seam_sync_fingerprint(db, &before), SEAM_OK);
    seam_sync_session *s;
    assert_int_equal(seam_sync_session_begin(db, "omads:x", SEAM_SYNC_DEVINFO, &s), SEAM_OK);
    assert_int_equal(put_devinfo(db, "other", "v"), SEAM_ERR_SYNC_STATE); /* the session holds it */
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "ringtone");
    snprintf(r.value, sizeof r.value, "bells");
    assert_int_equal(seam_sync_session_put(s, &r), SEAM_OK);
    assert_int_equal(seam_sync_session_wipe(s), SEAM_OK);
    seam_sync_session_free(s);
    assert_int_equal(seam_sync_fingerprint(db, &after), SEAM_OK);
    assert_int_equal(before, after);

    /* received only (204): the terminal's own "language" is still a change for that peer */
    assert_int_equal(seam_sync_session_begin(db, "omads:x", SEAM_SYNC_DEVINFO, &s), SEAM_OK);
    char next[SEAM_SYNC_ANCHOR_MAX + 1], last[SEAM_SYNC_ANCHOR_MAX + 1];
    seam_sync_session_anchor(s, last);
    assert_string_equal(last, "");
    seam_sync_session_next_anchor(s, next);
    assert_int_equal(seam_sync_session_put(s, &r), SEAM_OK);
    assert_int_equal(seam_sync_session_commit(s, next, false), SEAM_OK);
    seam_sync_session_free(s);
    int n = 0;
    assert_int_equal(seam_sync_changes(db, "omads:x", SEAM_SYNC_DEVINFO, count_change, &n),
                     SEAM_OK);
    assert_int_equal(n, 1);
    /* sent: nothing pending after */
    assert_int_equal(seam_sync_session_begin(db, "omads:x", SEAM_SYNC_DEVINFO, &s), SEAM_OK);
    seam_sync_session_anchor(s, last);
    assert_string_equal(last, next);
    n = 0;
    assert_int_equal(seam_sync_session_changes(s, false, count_change, &n), SEAM_OK);
    assert_int_equal(n, 1);
    seam_sync_session_next_anchor(s, next);
    assert_int_equal(seam_sync_session_commit(s, next, true), SEAM_OK);
    seam_sync_session_free(s);
    n = 0;
    assert_int_equal(seam_sync_changes(db, "omads:x", SEAM_SYNC_DEVINFO, count_change, &n),
                     SEAM_OK);
    assert_int_equal(n, 0);
    seam_sync_close(db);
    char aux[80];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apps_text_round_trips_through_parse_S6),
        cmocka_unit_test(devinfo_text_is_the_bare_value_S6),
        cmocka_unit_test(sync_session_rolls_back_or_moves_the_base_X4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
