/*
 * The device-management database (S6): records of ./devinfo and ./apps, the
 * limits on every field and on the number of records, one transaction per
 * change that a kill -9 does not undo once acknowledged (X4), and the
 * changes since the last sync with each peer, across a restart.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sync_test.h"

static int setup(void **state) {
    sync_scratch *s = calloc(1, sizeof *s);
    scratch_make(s);
    *state = s;
    return 0;
}

static int teardown(void **state) {
    scratch_remove(*state);
    free(*state);
    return 0;
}

static void devinfo_records_put_get_delete_list_S6(void **state) {
    seam_sync_db *db = open_db(*state, "dm.db");
    seam_sync_record r = devinfo("ringtone", "Nokia tune"), got;
    size_t n = 0;
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    r = devinfo("language", "fr");
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    r = devinfo("ringtone", "Ode \xc3\xa0 la joie"); /* replaced, UTF-8 */
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_DEVINFO, "ringtone", &got), SEAM_OK);
    assert_string_equal(got.value, "Ode \xc3\xa0 la joie");
    assert_int_equal(seam_sync_count(db, SEAM_SYNC_DEVINFO, &n), SEAM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(seam_sync_delete(db, SEAM_SYNC_DEVINFO, "language"), SEAM_OK);
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_DEVINFO, "language", &got), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_sync_delete(db, SEAM_SYNC_DEVINFO, "language"), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_sync_get(db, "./nowhere", "x", &got), SEAM_ERR_SYNC_URI);
    seam_sync_close(db);
}

static int collect(void *ctx, const seam_sync_record *rec) {
    char *out = ctx;
    strcat(out, rec->key);
    strcat(out, "=");
    strcat(out, rec->version);
    strcat(out, ";");
    return 0;
}

static void apps_records_keep_kind_version_size_S6(void **state) {
    seam_sync_db *db = open_db(*state, "dm.db");
    seam_sync_record recs[2] = {app("com.example.game", "Snake", "1.2", 20480),
                                app("A0000001510001", "purse", "1.0", 3100)};
    recs[1].kind = SEAM_SYNC_KIND_CARD;
    seam_sync_record got;
    char listed[256] = "";
    assert_int_equal(seam_sync_put_many(db, SEAM_SYNC_APPS, recs, 2), SEAM_OK);
    seam_sync_close(db);
    db = open_db(*state, "dm.db"); /* across a restart */
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, "A0000001510001", &got), SEAM_OK);
    assert_int_equal(got.kind, SEAM_SYNC_KIND_CARD);
    assert_string_equal(got.value, "purse");
    assert_int_equal(got.size, 3100);
    assert_int_equal(seam_sync_list(db, SEAM_SYNC_APPS, collect, listed), SEAM_OK);
    assert_string_equal(listed, "A0000001510001=1.0;com.example.game=1.2;");
    seam_sync_close(db);
}

static void every_field_has_a_limit_S6(void **state) {
    seam_sync_db *db = open_db(*state, "dm.db");
    seam_sync_record r = devinfo("", "x");
    uint64_t before = fingerprint(db);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_ERR_SYNC_FIELD); /* no key */
    memset(r.key, 'k', sizeof r.key); /* one byte too long: no room for the NUL */
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_ERR_SYNC_FIELD);
    r.key[SEAM_SYNC_KEY_MAX] = 0; /* exactly the limit */
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    before = fingerprint(db);
    r = devinfo("ringtone", "two\nlines");
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_ERR_SYNC_FIELD);
    r = devinfo("ringtone", "bad \xc3 utf-8");
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_ERR_SYNC_FIELD);
    memset(r.value, 'v', sizeof r.value);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_ERR_SYNC_FIELD);
    r = app("game", "Snake", "", 1);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_APPS, &r), SEAM_ERR_SYNC_FIELD); /* no version */
    r = app("game", "Snake", "1.0", 1);
    r.kind = 7;
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_APPS, &r), SEAM_ERR_SYNC_FIELD);
    /* a batch with one bad record changes nothing */
    seam_sync_record batch[2] = {app("ok", "Ok", "1", 1), app("bad", "Bad", "", 1)};
    assert_int_equal(seam_sync_put_many(db, SEAM_SYNC_APPS, batch, 2), SEAM_ERR_SYNC_FIELD);
    assert_int_equal(fingerprint(db), before);
    seam_sync_close(db);
}

static void record_count_is_capped_S6(void **state) {
    seam_sync_db *db = open_db(*state, "dm.db");
    size_t n = SEAM_SYNC_RECORDS_MAX;
    seam_sync_record *recs = calloc(n + 1, sizeof *recs);
    for (size_t i = 0; i <= n; i++) {
        snprintf(recs[i].key, sizeof recs[i].key, "p%06zu", i);
        snprintf(recs[i].value, sizeof recs[i].value, "v");
    }
    assert_int_equal(seam_sync_put_many(db, SEAM_SYNC_DEVINFO, recs, n + 1), SEAM_ERR_SYNC_FULL);
    assert_int_equal(seam_sync_count(db, SEAM_SYNC_DEVINFO, &n), SEAM_OK);
    assert_int_equal(n, 0); /* all or nothing */
    assert_int_equal(seam_sync_put_many(db, SEAM_SYNC_DEVINFO, recs, SEAM_SYNC_RECORDS_MAX),
                     SEAM_OK);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &recs[SEAM_SYNC_RECORDS_MAX]),
                     SEAM_ERR_SYNC_FULL);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &recs[0]), SEAM_OK); /* replace: fine */
    free(recs);
    seam_sync_close(db);
}

/* A child writes records and acknowledges each through a pipe once put returned, then is
 * killed with SIGKILL; every acknowledged record is in the file afterwards (X4). */
static void kill_9_loses_nothing_acknowledged_X4(void **state) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        seam_sync_db *db = open_db(*state, "dm.db");
        for (int i = 0;; i++) {
            seam_sync_record r = devinfo("param", "");
            snprintf(r.key, sizeof r.key, "param%05d", i);
            snprintf(r.value, sizeof r.value, "value %d", i);
            if (seam_sync_put(db, SEAM_SYNC_DEVINFO, &r) != SEAM_OK)
                _exit(1);
            if (write(fds[1], &i, sizeof i) != sizeof i)
                _exit(1);
        }
    }
    close(fds[1]);
    int last = -1, got;
    while (last < 40 && read(fds[0], &got, sizeof got) == sizeof got)
        last = got;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(fds[0], &got, sizeof got) == sizeof got) /* acknowledged before the kill */
        last = got;
    close(fds[0]);
    seam_sync_db *db = open_db(*state, "dm.db");
    for (int i = 0; i <= last; i++) {
        char key[32];
        seam_sync_record r;
        snprintf(key, sizeof key, "param%05d", i);
        assert_int_equal(seam_sync_get(db, SEAM_SYNC_DEVINFO, key, &r), SEAM_OK);
    }
    seam_sync_close(db);
}

static int count_changes(void *ctx, seam_sync_op op, const seam_sync_record *rec) {
    int *counts = ctx;
    (void)rec;
    counts[op]++;
    return 0;
}

static void changes_since_last_sync_per_peer_survive_a_restart_S6(void **state) {
    seam_sync_db *client = open_db(*state, "client.db");
    seam_sync_db *server = open_db(*state, "server.db");
    seam_sync_record r = devinfo("ringtone", "a");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    r = devinfo("language", "en");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    assert_int_equal(run_sync(client, server, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL), SEAM_OK);
    r = devinfo("ringtone", "b");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    r = devinfo("model", "3310");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    assert_int_equal(seam_sync_delete(client, SEAM_SYNC_DEVINFO, "language"), SEAM_OK);
    seam_sync_close(client);
    client = open_db(*state, "client.db");
    int counts[4] = {0};
    assert_int_equal(seam_sync_changes(client, SERVER_ID, SEAM_SYNC_DEVINFO, count_changes, counts),
                     SEAM_OK);
    assert_int_equal(counts[SEAM_SYNC_ADDED], 1);
    assert_int_equal(counts[SEAM_SYNC_REPLACED], 1);
    assert_int_equal(counts[SEAM_SYNC_DELETED], 1);
    int other[4] = {0}; /* a peer never synced with sees every record as added */
    assert_int_equal(seam_sync_changes(client, "backup", SEAM_SYNC_DEVINFO, count_changes, other),
                     SEAM_OK);
    assert_int_equal(other[SEAM_SYNC_ADDED], 2);
    assert_int_equal(other[SEAM_SYNC_REPLACED] + other[SEAM_SYNC_DELETED], 0);
    char own[SEAM_SYNC_ANCHOR_MAX + 1], peer[SEAM_SYNC_ANCHOR_MAX + 1];
    assert_int_equal(seam_sync_anchors(client, SERVER_ID, SEAM_SYNC_DEVINFO, own, peer), SEAM_OK);
    assert_string_equal(own, "1");
    assert_string_equal(peer, "1");
    seam_sync_close(client);
    seam_sync_close(server);
}

static void text_form_round_trips_and_refuses_bad_fields_S6(void **state) {
    (void)state;
    char text[SEAM_SYNC_TEXT_MAX + 1];
    size_t n = 0;
    seam_sync_record a = app("A0000001510001", "purse", "1.0", 3100), back;
    a.kind = SEAM_SYNC_KIND_CARD;
    assert_int_equal(seam_sync_record_format(SEAM_SYNC_APPS, &a, text, sizeof text, &n), SEAM_OK);
    assert_string_equal(text, "name: purse\nkind: card\nversion: 1.0\nsize: 3100\n");
    assert_int_equal(n, strlen(text));
    assert_int_equal(seam_sync_record_format(SEAM_SYNC_APPS, &a, text, n, &n),
                     SEAM_ERR_BUFFER_SMALL);
    memset(&back, 0, sizeof back);
    strcpy(back.key, a.key);
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_APPS, text, n, &back), SEAM_OK);
    assert_memory_equal(&back, &a, sizeof a);
    /* any order, CRLF, no final line end */
    const char *crlf = "size: 3100\r\nversion: 1.0\r\nkind: card\r\nname: purse";
    memset(&back, 0, sizeof back);
    strcpy(back.key, a.key);
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_APPS, crlf, strlen(crlf), &back), SEAM_OK);
    assert_memory_equal(&back, &a, sizeof a);
    seam_sync_record d = devinfo("ringtone", "Nokia tune");
    assert_int_equal(seam_sync_record_format(SEAM_SYNC_DEVINFO, &d, text, sizeof text, &n),
                     SEAM_OK);
    assert_string_equal(text, "Nokia tune");
    const char *bad[] = {
        "name: purse\nkind: card\nversion: 1.0\n",                       /* no size */
        "name: purse\nname: purse\nkind: card\nversion: 1.0\nsize: 1\n", /* twice */
        "name: purse\nkind: card\nversion: 1.0\nsize: 1\ncolour: red\n", /* unknown */
        "name: purse\nkind: card\nversion: 1.0\nsize: -1\n",             /* not a number */
        "name: purse\nkind: sim\nversion: 1.0\nsize: 1\n",               /* no such kind */
        "name: purse\nkind: card\nversion: 1.0\nsize: 99999999999999999999\n",
        "name purse\nkind: card\nversion: 1.0\nsize: 1\n", /* no colon */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(seam_sync_record_parse(SEAM_SYNC_APPS, bad[i], strlen(bad[i]), &back),
                         SEAM_ERR_SYNC_FIELD);
    assert_int_equal(seam_sync_record_parse(SEAM_SYNC_DEVINFO, "a\nb", 3, &d), SEAM_ERR_SYNC_FIELD);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(devinfo_records_put_get_delete_list_S6, setup, teardown),
        cmocka_unit_test_setup_teardown(apps_records_keep_kind_version_size_S6, setup, teardown),
        cmocka_unit_test_setup_teardown(every_field_has_a_limit_S6, setup, teardown),
        cmocka_unit_test_setup_teardown(record_count_is_capped_S6, setup, teardown),
        cmocka_unit_test_setup_teardown(kill_9_loses_nothing_acknowledged_X4, setup, teardown),
        cmocka_unit_test_setup_teardown(changes_since_last_sync_per_peer_survive_a_restart_S6,
                                        setup, teardown),
        cmocka_unit_test(text_form_round_trips_and_refuses_bad_fields_S6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
