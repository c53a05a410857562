/*
 * seam's compact changeset protocol over HTTP, end to end (docs/sync.md "Over HTTP";
 * S6, S7, X4, X5): the real `seam server` as a subprocess on the backend under test
 * (`test_http_sync_changeset sqlite` and `... postgresql`), the terminal's side through
 * seam_terminal_sync and, for the kill sweep and the CLI, the real `seam terminal sync`.
 * The server's copy is read back from the store and compared with the terminal's
 * database on their record digests; refusals are checked on the digest of the whole
 * store.
 */
#define _GNU_SOURCE /* strcasestr */
#include "sync_wire.h"

typedef struct {
    server_proc srv;
    char dm[160];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const char *url = backend_fresh_url();
    assert_non_null(url);
    server_folder(&f->srv, strdup(url));
    server_spawn(&f->srv, 0);
    snprintf(f->dm, sizeof f->dm, "%s/../dm.db", f->srv.dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    server_kill(&f->srv);
    free((char *)f->srv.db);
    server_folder_remove(&f->srv);
    free(f);
    return 0;
}

static void ok(const seam_terminal_sync_outcome *o) {
    if (o->failure != SEAM_TERMINAL_SYNC_OK)
        fail_msg("sync failed (%d): %s", (int)o->failure, o->reason);
}

/* Every sync type between a terminal's database and the server's copy; the copy and its
   history seen through the admin API. */
static void every_sync_type_200_to_205_over_http_S6(void **state) {
    fixture *f = *state;
    enrol(&f->srv, DEV_A, SECRET_A);
    dm_put(f->dm, "imei", DEV_A);
    dm_put(f->dm, "ringtone", "classic");
    seam_terminal_sync_outcome o = term_sync(&f->srv, f->dm, DEV_A, SECRET_A, SEAM_SYNC_TWO_WAY);
    ok(&o);
    assert_int_equal(o.counts.type, SEAM_SYNC_SLOW); /* never synced: slow */
    assert_int_equal(o.counts.sent, 2);
    assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));

    static const seam_sync_type types[] = {200, 201, 202, 203, 204, 205};
    for (size_t i = 0; i < 6; i++) {
        seam_sync_type t = types[i];
        char mine[16], theirs[16];
        snprintf(mine, sizeof mine, "lang-%d", (int)t);
        snprintf(theirs, sizeof theirs, "op-%d", (int)t); /* a record the terminal lacks */
        dm_put(f->dm, "language", mine);                  /* the user's change */
        server_put(&f->srv, DEV_A, theirs, "set");        /* the operator's side */
        o = term_sync(&f->srv, f->dm, DEV_A, SECRET_A, t);
        ok(&o);
        assert_int_equal(o.counts.type, t);
        bool up = copy_has(&f->srv, DEV_A, "language", mine);
        bool down = dm_has(f->dm, theirs, "set");
        switch (t) {
        case SEAM_SYNC_TWO_WAY:
        case SEAM_SYNC_SLOW:
            assert_true(up && down);
            break;
        case SEAM_SYNC_ONE_WAY_FROM_CLIENT: /* the server's change stays pending */
            assert_true(up && !down);
            break;
        case SEAM_SYNC_REFRESH_FROM_CLIENT: /* the copy becomes the terminal's */
            assert_true(up && !down);
            assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));
            break;
        case SEAM_SYNC_ONE_WAY_FROM_SERVER: /* the terminal's change stays pending */
            assert_true(!up && down);
            break;
        case SEAM_SYNC_REFRESH_FROM_SERVER: /* the terminal becomes the copy */
            assert_true(!up && down);
            assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));
            break;
        }
        if (t == SEAM_SYNC_TWO_WAY || t == SEAM_SYNC_SLOW)
            assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));
    }
    /* a last two-way sync brings whatever stayed pending: both sides equal */
    dm_put(f->dm, "language", "fr");
    ok((o = term_sync(&f->srv, f->dm, DEV_A, SECRET_A, SEAM_SYNC_TWO_WAY), &o));
    assert_int_equal(o.counts.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));

    /* the admin API shows the copy and its history, each change named by its session */
    char *dev = api(&f->srv, "GET", "/api/devices/" DEV_A, NULL, NULL, 0, 200);
    assert_non_null(strstr(dev, "\"key\":\"language\",\"content\":\"fr\""));
    assert_non_null(strstr(dev, "\"key\":\"ringtone\",\"content\":\"classic\""));
    free(dev);
    char *hist = api(&f->srv, "GET", "/api/devices/" DEV_A "/history", NULL, NULL, 0, 200);
    assert_non_null(strstr(hist, "\"key\":\"language\",\"session\":\"changeset ./devinfo #"));
    assert_non_null(strstr(hist, "\"new\":\"fr\""));
    free(hist);
}

/* A device authenticates as itself and reaches only its own copy (S6). */
static void device_cannot_read_or_write_another_devices_copy_S6(void **state) {
    fixture *f = *state;
    char dm_b[200], stolen[200];
    snprintf(dm_b, sizeof dm_b, "%s/../dm-b.db", f->srv.dir);
    snprintf(stolen, sizeof stolen, "%s/../stolen.db", f->srv.dir);
    enrol(&f->srv, DEV_A, SECRET_A);
    enrol(&f->srv, DEV_B, SECRET_B);
    dm_put(dm_b, "ringtone", "b-secret-tune");
    ok((seam_terminal_sync_outcome[]){term_sync(&f->srv, dm_b, DEV_B, SECRET_B, 200)});
    uint8_t before[32], after[32];
    store_digest_of(&f->srv, before);

    /* A's credentials, a message naming B as its sender: refused, B's copy neither read
       (the terminal's database stays empty) nor written */
    seam_terminal_sync_request req;
    memset(&req, 0, sizeof req);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", (unsigned)f->srv.port);
    req = (seam_terminal_sync_request){.protocol = SEAM_TERMINAL_SYNC_CHANGESET,
                                       .type = SEAM_SYNC_REFRESH_FROM_SERVER,
                                       .dm_path = stolen,
                                       .device_id = DEV_B,
                                       .source_uri = SEAM_SYNC_DEVINFO,
                                       .server_url = url,
                                       .user = DEV_A,
                                       .password = SECRET_A};
    seam_terminal_sync_outcome o;
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    dm_put(stolen, "ringtone", "overwrite");
    req.type = SEAM_SYNC_REFRESH_FROM_CLIENT;
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    assert_false(dm_has(stolen, "ringtone", "b-secret-tune"));
    /* B's id with A's secret, a wrong secret, no credentials, a device never enrolled */
    const char *users[] = {DEV_B, DEV_A, NULL, "123456789012345"};
    const char *passwords[] = {SECRET_A, "not-the-secret-of-a", NULL, SECRET_A};
    for (int i = 0; i < 4; i++) {
        req.user = users[i];
        req.password = passwords[i];
        req.device_id = users[i] ? users[i] : DEV_B;
        assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
        assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    }
    store_digest_of(&f->srv, after);
    assert_memory_equal(before, after, 32);
    assert_true(copy_has(&f->srv, DEV_B, "ringtone", "b-secret-tune"));
    /* the server says 403 for another sender, 401 for credentials */
    seam_sync_db *db = NULL;
    seam_sync_client *c = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(seam_sync_open(stolen, &db), SEAM_OK);
    assert_int_equal(seam_sync_client_start(db, DEV_B, SEAM_SYNC_SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_SLOW, &c, &msg, &len),
                     SEAM_OK);
    char auth[200];
    basic_auth(DEV_A, SECRET_A, auth, sizeof auth);
    const char *h[] = {"Content-Type: " CS_TYPE, auth, NULL};
    reply r = call(f->srv.port, NULL, "POST", "/sync/changeset", h, msg, len);
    assert_int_equal(r.status, 403);
    free(r.body);
    basic_auth(DEV_B, SECRET_A, auth, sizeof auth);
    r = call(f->srv.port, NULL, "POST", "/sync/changeset", h, msg, len);
    assert_int_equal(r.status, 401);
    assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Basic"));
    free(r.body);
    free(msg);
    seam_sync_client_free(c);
    seam_sync_close(db);
    store_digest_of(&f->srv, after);
    assert_memory_equal(before, after, 32);
}

/* Wrong content type, oversized, truncated or corrupted bodies: 4xx, the store unchanged
   (X4). */
static void bad_bodies_are_refused_and_store_nothing_X4(void **state) {
    fixture *f = *state;
    enrol(&f->srv, DEV_A, SECRET_A);
    dm_put(f->dm, "ringtone", "classic");
    dm_put(f->dm, "language", "en");
    seam_sync_db *db = NULL;
    seam_sync_client *c = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(seam_sync_open(f->dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_client_start(db, DEV_A, SEAM_SYNC_SERVER_ID, SEAM_SYNC_DEVINFO,
                                            SEAM_SYNC_SLOW, &c, &msg, &len),
                     SEAM_OK);
    char auth[200];
    basic_auth(DEV_A, SECRET_A, auth, sizeof auth);
    uint8_t before[32], after[32];
    store_digest_of(&f->srv, before);
    const char *good[] = {"Content-Type: " CS_TYPE, auth, NULL};
    const char *types[] = {"Content-Type: application/octet-stream",
                           "Content-Type:", "Content-Type: application/vnd.seam.changeset; x=1"};
    for (int i = 0; i < 3; i++) {
        const char *h[] = {types[i], auth, NULL};
        reply r = call(f->srv.port, NULL, "POST", "/sync/changeset", h, msg, len);
        assert_int_equal(r.status, 415);
        free(r.body);
    }
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 17) { /* truncated */
        reply r = call(f->srv.port, NULL, "POST", "/sync/changeset", good, msg, cut);
        if (r.status != 400)
            fail_msg("cut at %zu of %zu: %ld", cut, len, r.status);
        free(r.body);
    }
    for (size_t at = 0; at < len; at += 5) { /* one byte flipped */
        msg[at] ^= 0x40;
        reply r = call(f->srv.port, NULL, "POST", "/sync/changeset", good, msg, len);
        assert_true(r.status == 400 || r.status == 403);
        free(r.body);
        msg[at] ^= 0x40;
    }
    size_t big = 8u * 1024u * 1024u + 1u; /* the route's limit, plus one */
    uint8_t *huge = calloc(1, big);
    assert_non_null(huge);
    reply r = call(f->srv.port, NULL, "POST", "/sync/changeset", good, huge, big);
    assert_int_equal(r.status, 413);
    free(r.body);
    free(huge);
    store_digest_of(&f->srv, after);
    assert_memory_equal(before, after, 32);
    /* and the good message itself goes through */
    r = call(f->srv.port, NULL, "POST", "/sync/changeset", good, msg, len);
    assert_int_equal(r.status, 200);
    uint8_t *next = NULL;
    size_t next_len = 0;
    assert_int_equal(seam_sync_client_receive(c, (uint8_t *)r.body, r.len, &next, &next_len),
                     SEAM_OK);
    assert_null(next);
    free(r.body);
    free(msg);
    seam_sync_client_free(c);
    seam_sync_close(db);
    assert_int_equal(dm_digest(f->dm), server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO));
}

/* An HTTP answer a stand-in server gives to every request. */
static seam_terminal_sync_outcome against_canned(const char *dm, const char *answer, size_t len) {
    proxy p;
    memset(&p, 0, sizeof p);
    p.canned = answer;
    p.canned_len = len;
    proxy_start(&p);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", (unsigned)p.port);
    seam_terminal_sync_outcome o = term_sync_url(url, dm, DEV_A, SECRET_A, SEAM_SYNC_TWO_WAY);
    proxy_stop(&p);
    return o;
}

/* A reply frame of the server asking for a slow sync (status 1). */
static size_t slow_required(char *out, size_t cap) {
    seam_sync_frame fr = {.direction = 2, .type = SEAM_SYNC_SLOW, .status = 1, .flags = 1};
    fr.uri = SEAM_SYNC_DEVINFO;
    fr.uri_len = (uint8_t)strlen(SEAM_SYNC_DEVINFO);
    fr.sender = SEAM_SYNC_SERVER_ID;
    fr.sender_len = (uint8_t)strlen(SEAM_SYNC_SERVER_ID);
    uint8_t frame[256];
    size_t n = 0;
    assert_int_equal(seam_sync_frame_encode(&fr, frame, sizeof frame, &n), SEAM_OK);
    int h = snprintf(out, cap,
                     "HTTP/1.1 200 OK\r\nContent-Type: " CS_TYPE
                     "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     n);
    memcpy(out + h, frame, n);
    return (size_t)h + n;
}

/* Each failure ends with its class and the terminal's database untouched (S7). */
static void failures_map_to_their_class_and_change_nothing_S7(void **state) {
    fixture *f = *state;
    enrol(&f->srv, DEV_A, SECRET_A);
    dm_put(f->dm, "ringtone", "classic");
    ok((seam_terminal_sync_outcome[]){term_sync(&f->srv, f->dm, DEV_A, SECRET_A, 200)});
    dm_put(f->dm, "ringtone", "jazz"); /* a pending change: it must stay pending */
    seam_sync_db *db = NULL;
    uint64_t before = 0, now = 0;
    assert_int_equal(seam_sync_open(f->dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_fingerprint(db, &before), SEAM_OK);
    seam_sync_close(db);

    /* a wrong secret: auth */
    seam_terminal_sync_outcome o = term_sync(&f->srv, f->dm, DEV_A, "wrong-secret-for-a", 200);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    /* garbage with the right type, a 500, a 404, a slow sync required again: */
    static const char garbage[] = "HTTP/1.1 200 OK\r\nContent-Type: " CS_TYPE
                                  "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    o = against_canned(f->dm, garbage, sizeof garbage - 1);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_MALFORMED);
    static const char html[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                               "2\r\nConnection: close\r\n\r\nhi";
    o = against_canned(f->dm, html, sizeof html - 1);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_MALFORMED);
    static const char fivehundred[] = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: "
                                      "close\r\n\r\n";
    o = against_canned(f->dm, fivehundred, sizeof fivehundred - 1);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_UNREACHABLE);
    char slow[512];
    size_t slow_len = slow_required(slow, sizeof slow);
    o = against_canned(f->dm, slow, slow_len);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_SLOW_REFUSED);
    assert_int_equal(o.counts.type, SEAM_SYNC_SLOW); /* it did try the slow sync once */
    /* OMA DS to a port where nothing listens: unreachable; a database URI the terminal does
       not sync: unsupported; a database that cannot open: local */
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_OMADS,
                                      .type = 200,
                                      .dm_path = f->dm,
                                      .device_id = DEV_A,
                                      .source_uri = SEAM_SYNC_DEVINFO,
                                      .server_url = "http://127.0.0.1:1/sync/omads"};
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_UNREACHABLE);
    req.protocol = SEAM_TERMINAL_SYNC_CHANGESET;
    req.source_uri = "./nowhere"; /* ./card is S8's now */
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_UNSUPPORTED);
    req.source_uri = SEAM_SYNC_DEVINFO;
    req.dm_path = "/nonexistent-folder/dm.db";
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_LOCAL);
    /* the server down: unreachable (and the CLI says so with status 1) */
    uint16_t port = f->srv.port;
    server_kill(&f->srv);
    o = term_sync_url("http://127.0.0.1:1/sync/changeset", f->dm, DEV_A, SECRET_A, 200);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_UNREACHABLE);
    assert_int_equal(terminal_binary(NULL, port, f->dm, DEV_A, SECRET_A, "200"), 1);
    assert_int_equal(seam_sync_open(f->dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_fingerprint(db, &now), SEAM_OK);
    seam_sync_close(db);
    assert_int_equal(now, before);
    /* back up: the pending change goes through, with the real binary */
    server_spawn(&f->srv, 0);
    assert_int_equal(terminal_binary(NULL, f->srv.port, f->dm, DEV_A, SECRET_A, "200"), 0);
    assert_true(copy_has(&f->srv, DEV_A, "ringtone", "jazz"));
}

/*
 * kill -9 of the terminal (the real binary) or of the server at each exchange of a sync,
 * before the request reaches the server or after the server answered (committed) and
 * before the terminal has the answer; then a sync again: both sides hold exactly the
 * union of the changes made on either side, nothing lost, nothing twice. Runs with one
 * exchange (an ordinary two-way sync) and with two (the server lost its sync state and
 * asks for a slow sync).
 */
static void kill_9_at_each_exchange_then_sync_again_converges_X4_X5(void **state) {
    fixture *f = *state;
    char expect_path[200];
    snprintf(expect_path, sizeof expect_path, "%s/../expect.db", f->srv.dir);
    enrol(&f->srv, DEV_A, SECRET_A);
    dm_put(f->dm, "imei", DEV_A);
    dm_put(expect_path, "imei", DEV_A);
    ok((seam_terminal_sync_outcome[]){term_sync(&f->srv, f->dm, DEV_A, SECRET_A, 200)});
    static const kill_act acts[] = {KILL_TERMINAL_BEFORE, KILL_TERMINAL_AFTER, KILL_SERVER_BEFORE,
                                    KILL_SERVER_AFTER};
    int round = 0;
    for (int exchanges = 1; exchanges <= 2; exchanges++)
        for (int at = 1; at <= exchanges; at++)
            for (size_t a = 0; a < 4; a++) {
                char key[32], value[32];
                round++;
                snprintf(value, sizeof value, "v%d", round);
                snprintf(key, sizeof key, "t%d", round);
                dm_put(f->dm, key, value);
                dm_put(expect_path, key, value);
                snprintf(key, sizeof key, "s%d", round);
                server_put(&f->srv, DEV_A, key, value);
                dm_put(expect_path, key, value);
                if (exchanges == 2) { /* the server lost its sync state: slow sync asked */
                    seam_store *st = store_of(&f->srv);
                    assert_int_equal(seam_store_device_sync_put(st, DEV_A, "changeset",
                                                                SEAM_SYNC_DEVINFO, NULL, 0),
                                     SEAM_OK);
                    seam_store_close(st);
                }
                proxy p;
                memset(&p, 0, sizeof p);
                p.srv = &f->srv;
                p.kill_at = at;
                p.act = acts[a];
                proxy_start(&p);
                int rc = terminal_binary(&p, p.port, f->dm, DEV_A, SECRET_A, "200");
                proxy_stop(&p);
                bool terminal_killed =
                    acts[a] == KILL_TERMINAL_BEFORE || acts[a] == KILL_TERMINAL_AFTER;
                if (terminal_killed ? rc != -SIGKILL : rc != 1)
                    fail_msg("round %d (exchanges %d, at %d, act %d): terminal ended %d", round,
                             exchanges, at, (int)acts[a], rc);
                if (f->srv.pid == 0)
                    server_spawn(&f->srv, 0); /* the server restarts on the same store */
                seam_terminal_sync_outcome o =
                    term_sync(&f->srv, f->dm, DEV_A, SECRET_A, SEAM_SYNC_TWO_WAY);
                if (o.failure != SEAM_TERMINAL_SYNC_OK)
                    fail_msg("round %d (exchanges %d, at %d, act %d): sync again failed: %s", round,
                             exchanges, at, (int)acts[a], o.reason);
                uint64_t want = dm_digest(expect_path);
                if (dm_digest(f->dm) != want ||
                    server_digest(&f->srv, DEV_A, SEAM_SYNC_DEVINFO) != want)
                    fail_msg("round %d (exchanges %d, at %d, act %d): sides differ", round,
                             exchanges, at, (int)acts[a]);
            }
    seam_store_device d;
    seam_store *st = store_of(&f->srv);
    assert_int_equal(seam_store_device_get(st, DEV_A, &d), SEAM_OK);
    seam_store_close(st);
    assert_int_equal(d.records, 1 + 2 * (size_t)round); /* imei, t1.., s1..: none twice */
}

int main(int argc, char **argv) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_sync_type_200_to_205_over_http_S6),
        T(device_cannot_read_or_write_another_devices_copy_S6),
        T(bad_bodies_are_refused_and_store_nothing_X4),
        T(failures_map_to_their_class_and_change_nothing_S7),
        T(kill_9_at_each_exchange_then_sync_again_converges_X4_X5),
    };
    return sync_tests_main(argc, argv, "changeset over HTTP on ", tests,
                           sizeof tests / sizeof *tests);
}
