/*
 * The compact changeset protocol between a client's database and a server's,
 * in process (S6, S8): every sync type 200..205, the anchors' mismatch and
 * the slow sync, the conflict policy (docs/sync.md), a message cut or
 * corrupted at any byte (a clear error and nothing changed on either side:
 * the whole-database fingerprint), and a client killed after the server
 * applied its message (the next sync converges, nothing lost or duplicated).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sync_test.h"

typedef struct {
    sync_scratch scratch;
    seam_sync_db *client, *server;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    scratch_make(&f->scratch);
    f->client = open_db(&f->scratch, "client.db");
    f->server = open_db(&f->scratch, "server.db");
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    seam_sync_close(f->client);
    seam_sync_close(f->server);
    scratch_remove(&f->scratch);
    free(f);
    return 0;
}

static void put(seam_sync_db *db, const char *uri, seam_sync_record r) {
    assert_int_equal(seam_sync_put(db, uri, &r), SEAM_OK);
}

static bool has(seam_sync_db *db, const char *uri, const char *key, const char *value) {
    seam_sync_record r;
    return seam_sync_get(db, uri, key, &r) == SEAM_OK && strcmp(r.value, value) == 0;
}

static bool has_version(seam_sync_db *db, const char *key, const char *version) {
    seam_sync_record r;
    return seam_sync_get(db, SEAM_SYNC_APPS, key, &r) == SEAM_OK && strcmp(r.version, version) == 0;
}

static size_t count(seam_sync_db *db, const char *uri) {
    size_t n = 0;
    assert_int_equal(seam_sync_count(db, uri, &n), SEAM_OK);
    return n;
}

static void sync_ok(fixture *f, const char *uri, seam_sync_type type, seam_sync_result *r) {
    assert_int_equal(run_sync(f->client, f->server, uri, type, r), SEAM_OK);
}

/* Both sides hold r1, r2, r3 after a first (slow) sync. */
static void start_in_step(fixture *f) {
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "classic"));
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("language", "en"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("model", "3310"));
    seam_sync_result r;
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.type, SEAM_SYNC_SLOW); /* never synced: slow */
    assert_int_equal(r.sent, 2);
    assert_int_equal(r.received, 1);
    assert_int_equal(count(f->client, SEAM_SYNC_DEVINFO), 3);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static void two_way_sends_both_sides_changes_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    assert_int_equal(seam_sync_delete(f->client, SEAM_SYNC_DEVINFO, "language"), SEAM_OK);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(r.slow_fallback, 0);
    assert_int_equal(r.sent, 2);
    assert_int_equal(r.received, 1);
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    assert_false(has(f->server, SEAM_SYNC_DEVINFO, "language", "en"));
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
    /* nothing changed since: the next two-way sync carries nothing */
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.sent + r.received, 0);
}

static void slow_sync_merges_every_record_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("imei", "356938035643809"));
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_SLOW, &r);
    assert_int_equal(r.type, SEAM_SYNC_SLOW);
    assert_int_equal(r.sent, 4); /* every record of the client */
    assert_int_equal(count(f->server, SEAM_SYNC_DEVINFO), 5);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static void one_way_from_client_leaves_server_changes_pending_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_ONE_WAY_FROM_CLIENT, &r);
    assert_int_equal(r.type, SEAM_SYNC_ONE_WAY_FROM_CLIENT);
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    assert_false(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r); /* the server's change comes now */
    assert_int_equal(r.sent, 0);
    assert_int_equal(r.received, 1);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static void refresh_from_client_makes_server_a_copy_S6(void **state) {
    fixture *f = *state;
    start_in_step(f);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    assert_int_equal(seam_sync_delete(f->client, SEAM_SYNC_DEVINFO, "model"), SEAM_OK);
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_REFRESH_FROM_CLIENT, NULL);
    assert_int_equal(count(f->server, SEAM_SYNC_DEVINFO), 2);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static void one_way_from_server_leaves_client_changes_pending_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_ONE_WAY_FROM_SERVER, &r);
    assert_int_equal(r.type, SEAM_SYNC_ONE_WAY_FROM_SERVER);
    assert_int_equal(r.sent, 0);
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
    assert_false(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.sent, 1);
    assert_int_equal(r.received, 0);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static void refresh_from_server_makes_client_a_copy_S6(void **state) {
    fixture *f = *state;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_REFRESH_FROM_SERVER, NULL);
    assert_false(has(f->client, SEAM_SYNC_DEVINFO, "wallpaper", "sea"));
    assert_int_equal(count(f->client, SEAM_SYNC_DEVINFO), 4);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

/* Copies a closed database file (the -wal is checkpointed on close). */
static void copy_file(fixture *f, const char *from, const char *to) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/%s'", f->scratch.dir, from, f->scratch.dir, to);
    assert_int_equal(system(cmd), 0);
}

static void anchors_mismatch_falls_back_to_slow_sync_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    seam_sync_close(f->client);
    copy_file(f, "client.db", "backup.db"); /* the terminal's backup, as of sync 1 */
    f->client = open_db(&f->scratch, "client.db");
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.slow_fallback, 0);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    /* the terminal is restored from its backup: its last anchor is two syncs old, more than
     * the server remembers (one sync back, for a client that died mid-sync) */
    seam_sync_close(f->client);
    copy_file(f, "backup.db", "client.db");
    f->client = open_db(&f->scratch, "client.db");
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.slow_fallback, 1);
    assert_int_equal(r.type, SEAM_SYNC_SLOW);
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "wallpaper", "sea"));
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "wallpaper", "sea"));
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
    /* the restored client's ringtone is older but the client wins devinfo conflicts */
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r); /* and the anchors agree again */
    assert_int_equal(r.slow_fallback, 0);
}

static void conflicts_follow_the_policy_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    seam_sync_record apps[] = {app("snake", "Snake", "1.2", 100),
                               app("tetris", "Tetris", "2.0", 200),
                               app("chess", "Chess", "1.0", 300), app("maps", "Maps", "3.0", 400),
                               app("radio", "Radio", "1.0", 500)};
    assert_int_equal(seam_sync_put_many(f->client, SEAM_SYNC_APPS, apps, 5), SEAM_OK);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "classic"));
    sync_ok(f, SEAM_SYNC_APPS, SEAM_SYNC_TWO_WAY, NULL);
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL);
    /* devinfo: the client (the user) wins */
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("ringtone", "operator jingle"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.conflicts_client, 1);
    assert_int_equal(r.conflicts_server, 0);
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    /* apps: the higher version wins ("1.10" > "1.9"), a tie goes to the server,
     * a modify wins against a delete on either side */
    put(f->client, SEAM_SYNC_APPS, app("snake", "Snake", "1.9", 101));
    put(f->server, SEAM_SYNC_APPS, app("snake", "Snake", "1.10", 102)); /* server higher */
    put(f->client, SEAM_SYNC_APPS, app("tetris", "Tetris", "2.1", 201));
    put(f->server, SEAM_SYNC_APPS, app("tetris", "Tetris", "2.0.9", 202)); /* client higher */
    put(f->client, SEAM_SYNC_APPS, app("chess", "Chess", "1.0", 301));
    put(f->server, SEAM_SYNC_APPS, app("chess", "Chess", "1.0", 302)); /* tie: server */
    assert_int_equal(seam_sync_delete(f->client, SEAM_SYNC_APPS, "maps"), SEAM_OK);
    put(f->server, SEAM_SYNC_APPS, app("maps", "Maps", "3.1", 401)); /* server's modify wins */
    put(f->client, SEAM_SYNC_APPS, app("radio", "Radio", "1.1", 501));
    assert_int_equal(seam_sync_delete(f->server, SEAM_SYNC_APPS, "radio"), SEAM_OK);
    sync_ok(f, SEAM_SYNC_APPS, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.conflicts_client, 2); /* tetris, radio */
    assert_int_equal(r.conflicts_server, 3); /* snake, chess, maps */
    for (int side = 0; side < 2; side++) {
        seam_sync_db *db = side ? f->server : f->client;
        seam_sync_record got;
        assert_true(has_version(db, "snake", "1.10"));
        assert_true(has_version(db, "tetris", "2.1"));
        assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, "chess", &got), SEAM_OK);
        assert_int_equal(got.size, 302);
        assert_true(has_version(db, "maps", "3.1"));
        assert_true(has_version(db, "radio", "1.1"));
    }
    assert_int_equal(records_of(f->client, SEAM_SYNC_APPS), records_of(f->server, SEAM_SYNC_APPS));
}

static void one_way_from_server_applies_the_policy_on_the_client_S6(void **state) {
    fixture *f = *state;
    seam_sync_result r;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("ringtone", "operator jingle"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_ONE_WAY_FROM_SERVER, &r);
    assert_int_equal(r.conflicts_client, 1);
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r); /* the client's winner goes up now */
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

static bool clear_error(seam_err err) {
    return err == SEAM_ERR_SYNC_FRAME || err == SEAM_ERR_SYNC_VERSION ||
           err == SEAM_ERR_SYNC_CHANGESET || err == SEAM_ERR_SYNC_URI ||
           err == SEAM_ERR_SYNC_MISMATCH;
}

/* Both directions: every prefix of a message and every message with one byte changed is
 * refused with a clear error, and neither database changes at all. */
static void cut_or_corrupted_message_changes_nothing_S6(void **state) {
    fixture *f = *state;
    seam_sync_client *c;
    uint8_t *msg, *reply, *next, *bad;
    size_t msg_len, reply_len, next_len;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    assert_int_equal(seam_sync_delete(f->client, SEAM_SYNC_DEVINFO, "language"), SEAM_OK);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    uint64_t client_before = fingerprint(f->client), server_before = fingerprint(f->server);
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &msg, &msg_len),
                     SEAM_OK);
    seam_sync_client_free(c); /* the client gives up: rolled back */
    assert_int_equal(fingerprint(f->client), client_before);
    for (size_t i = 0; i < 2 * msg_len; i++) {
        size_t len = i < msg_len ? i : msg_len;
        bad = malloc(msg_len); /* exactly the bytes given: ASan sees any read past them */
        memcpy(bad, msg, msg_len);
        if (i >= msg_len)
            bad[i - msg_len] ^= 0x5A;
        seam_err err =
            seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, bad, len, &reply, &reply_len, NULL);
        assert_true(clear_error(err));
        assert_null(reply);
        assert_int_equal(fingerprint(f->server), server_before);
        free(bad);
    }
    assert_int_equal(
        seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, msg, msg_len, &reply, &reply_len, NULL),
        SEAM_OK);
    free(msg);
    for (size_t i = 0; i < 2 * reply_len; i++) {
        size_t len = i < reply_len ? i : reply_len;
        assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                                SEAM_SYNC_TWO_WAY, &c, &msg, &msg_len),
                         SEAM_OK);
        free(msg);
        bad = malloc(reply_len);
        memcpy(bad, reply, reply_len);
        if (i >= reply_len)
            bad[i - reply_len] ^= 0x5A;
        assert_true(clear_error(seam_sync_client_receive(c, bad, len, &next, &next_len)));
        assert_null(next);
        seam_sync_client_free(c);
        assert_int_equal(fingerprint(f->client), client_before);
        free(bad);
    }
    /* the whole reply still completes the sync */
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &msg, &msg_len),
                     SEAM_OK);
    free(msg);
    assert_int_equal(seam_sync_client_receive(c, reply, reply_len, &next, &next_len), SEAM_OK);
    assert_null(next);
    seam_sync_client_free(c);
    free(reply);
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

/* A message whose CRC is right but whose changes do not fit the receiver (a replayed or
 * forged message) is refused as a whole. */
static void changes_that_do_not_fit_are_refused_whole_S6(void **state) {
    fixture *f = *state;
    seam_sync_client *c;
    uint8_t *msg, *reply, *next;
    size_t msg_len, reply_len, next_len;
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &msg, &msg_len),
                     SEAM_OK);
    assert_int_equal(
        seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, msg, msg_len, &reply, &reply_len, NULL),
        SEAM_OK);
    assert_int_equal(seam_sync_client_receive(c, reply, reply_len, &next, &next_len), SEAM_OK);
    seam_sync_client_free(c);
    /* the same reply again, on a client that already applied it: it inserts firmware again */
    uint64_t before = fingerprint(f->client);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    before = fingerprint(f->client);
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &next, &next_len),
                     SEAM_OK);
    free(next);
    assert_int_equal(seam_sync_client_receive(c, reply, reply_len, &next, &next_len),
                     SEAM_ERR_SYNC_MISMATCH);
    seam_sync_client_free(c);
    assert_int_equal(fingerprint(f->client), before);
    free(reply);
    free(msg);
}

/* The client process is killed (SIGKILL) after the server applied its message and before it
 * could commit the reply; the next sync resumes from the server's previous base (the client
 * still holds the previous anchor) and converges: no slow sync, a delete is not undone. */
static void client_killed_mid_sync_then_sync_again_converges_S6(void **state) {
    fixture *f = *state;
    char path[160];
    start_in_step(f);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    assert_int_equal(seam_sync_delete(f->client, SEAM_SYNC_DEVINFO, "language"), SEAM_OK);
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("model", "3310i"));
    seam_sync_close(f->client);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the terminal: sends message 1, then dies holding its transaction */
        seam_sync_db *db = open_db(&f->scratch, "client.db");
        seam_sync_client *c;
        uint8_t *msg;
        size_t len;
        if (seam_sync_client_start(db, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY,
                                   &c, &msg, &len) != SEAM_OK)
            _exit(1);
        uint32_t n = (uint32_t)len;
        if (write(fds[1], &n, 4) != 4 || write(fds[1], msg, len) != (ssize_t)len)
            _exit(1);
        pause();
        _exit(1);
    }
    close(fds[1]);
    uint32_t n = 0;
    assert_int_equal(read(fds[0], &n, 4), 4);
    uint8_t *msg = malloc(n);
    assert_int_equal(read(fds[0], msg, n), (ssize_t)n);
    close(fds[0]);
    uint8_t *reply;
    size_t reply_len;
    assert_int_equal(
        seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, msg, n, &reply, &reply_len, NULL),
        SEAM_OK); /* the server applied and committed */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    free(msg);
    free(reply);
    scratch_path(&f->scratch, "client.db", path, sizeof path);
    assert_int_equal(seam_sync_open(path, &f->client), SEAM_OK);
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    assert_false(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1")); /* never committed */
    seam_sync_result r;
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("volume", "7")); /* and one more since */
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.slow_fallback, 0);
    for (int side = 0; side < 2; side++) {
        seam_sync_db *db = side ? f->server : f->client;
        assert_true(has(db, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
        assert_true(has(db, SEAM_SYNC_DEVINFO, "wallpaper", "sea"));
        assert_true(has(db, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
        assert_true(has(db, SEAM_SYNC_DEVINFO, "model", "3310i"));
        assert_true(has(db, SEAM_SYNC_DEVINFO, "volume", "7"));
        assert_false(has(db, SEAM_SYNC_DEVINFO, "language", "en"));
        assert_int_equal(count(db, SEAM_SYNC_DEVINFO), 5); /* nothing twice */
    }
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
}

/* The server's copy of one device refuses a message from another device id. */
static void message_from_another_device_is_refused_S6(void **state) {
    fixture *f = *state;
    seam_sync_client *c;
    uint8_t *msg, *reply;
    size_t msg_len, reply_len;
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    uint64_t before = fingerprint(f->server);
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &msg, &msg_len),
                     SEAM_OK);
    assert_int_equal(seam_sync_serve(f->server, SERVER_ID, "imei-000000000000000", msg, msg_len,
                                     &reply, &reply_len, NULL),
                     SEAM_ERR_SYNC_MISMATCH);
    assert_null(reply);
    assert_int_equal(fingerprint(f->server), before);
    seam_sync_client_free(c);
    free(msg);
}

/* The server keeps one database copy per device: two terminals, two files. */
static void server_keeps_one_copy_per_device_S6(void **state) {
    fixture *f = *state;
    seam_sync_db *other = open_db(&f->scratch, "other.db");
    seam_sync_db *other_copy = open_db(&f->scratch, "server-other.db");
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("ringtone", "jazz"));
    put(other, SEAM_SYNC_DEVINFO, devinfo("ringtone", "rock"));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL);
    assert_int_equal(run_sync(other, other_copy, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL),
                     SEAM_OK);
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "ringtone", "jazz"));
    assert_true(has(other_copy, SEAM_SYNC_DEVINFO, "ringtone", "rock"));
    seam_sync_close(other);
    seam_sync_close(other_copy);
}

/* The server lost its state for the client (restored from a backup, or a new server on the
 * old copy): it asks for a slow sync, serves it, and the reply is lost (the terminal died).
 * The next sync must not resume from the server's base before the slow sync — the client
 * never held it — but converge (S6, X4). */
static void reply_of_a_requested_slow_sync_lost_then_sync_again_converges_S6(void **state) {
    fixture *f = *state;
    start_in_step(f);
    assert_int_equal(seam_sync_state_import(f->server, CLIENT_ID, SEAM_SYNC_DEVINFO, NULL, 0),
                     SEAM_OK);
    put(f->client, SEAM_SYNC_DEVINFO, devinfo("wallpaper", "sea"));
    put(f->server, SEAM_SYNC_DEVINFO, devinfo("firmware", "5.1"));
    seam_sync_client *c = NULL;
    uint8_t *msg = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    assert_int_equal(seam_sync_client_start(f->client, CLIENT_ID, SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_TWO_WAY, &c, &msg, &len),
                     SEAM_OK);
    assert_int_equal(
        seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, msg, len, &reply, &reply_len, NULL),
        SEAM_OK);
    free(msg);
    assert_int_equal(seam_sync_client_receive(c, reply, reply_len, &msg, &len), SEAM_OK);
    assert_non_null(msg); /* the slow sync the server asked for */
    free(reply);
    assert_int_equal(
        seam_sync_serve(f->server, SERVER_ID, CLIENT_ID, msg, len, &reply, &reply_len, NULL),
        SEAM_OK); /* served and committed; the reply never arrives */
    free(msg);
    free(reply);
    seam_sync_client_free(c);
    seam_sync_result r;
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_true(has(f->client, SEAM_SYNC_DEVINFO, "firmware", "5.1"));
    assert_true(has(f->server, SEAM_SYNC_DEVINFO, "wallpaper", "sea"));
    assert_int_equal(records_of(f->client, SEAM_SYNC_DEVINFO),
                     records_of(f->server, SEAM_SYNC_DEVINFO));
    sync_ok(f, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &r);
    assert_int_equal(r.slow_fallback, 0);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(two_way_sends_both_sides_changes_S6),
        T(slow_sync_merges_every_record_S6),
        T(one_way_from_client_leaves_server_changes_pending_S6),
        T(refresh_from_client_makes_server_a_copy_S6),
        T(one_way_from_server_leaves_client_changes_pending_S6),
        T(refresh_from_server_makes_client_a_copy_S6),
        T(anchors_mismatch_falls_back_to_slow_sync_S6),
        T(conflicts_follow_the_policy_S6),
        T(one_way_from_server_applies_the_policy_on_the_client_S6),
        T(cut_or_corrupted_message_changes_nothing_S6),
        T(changes_that_do_not_fit_are_refused_whole_S6),
        T(client_killed_mid_sync_then_sync_again_converges_S6),
        T(message_from_another_device_is_refused_S6),
        T(server_keeps_one_copy_per_device_S6),
        T(reply_of_a_requested_slow_sync_lost_then_sync_again_converges_S6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
