/*
 * The server's copy of every device's device-management database (src/server/store.h,
 * "device databases"; S6, S8), run against every backend like test_store.c:
 * `test_server_store_devices sqlite` and `... postgresql` (X5). Refusals are checked on
 * seam_store_digest, a digest of every row of every table.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/crypto.h"
#include "seam/util.h"
#include "server/store.h"
#include "server/store_backend.h"

static uint8_t master[SEAM_STORE_MASTER_KEY_SIZE];

static seam_store *open_fresh(char *url_out, size_t cap) {
    const char *url = backend_fresh_url();
    assert_non_null(url);
    if (url_out)
        snprintf(url_out, cap, "%s", url);
    seam_store *s = NULL;
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    return s;
}

static seam_store_change put(const char *uri, const char *key, const char *content) {
    return (seam_store_change){
        .uri = uri, .key = key, .content = content, .content_len = strlen(content)};
}

static seam_store_change del(const char *uri, const char *key) {
    return (seam_store_change){.uri = uri, .key = key, .deleted = true};
}

static void digest(seam_store *s, uint8_t d[32]) {
    assert_int_equal(seam_store_digest(s, d), SEAM_OK);
}

#define IMEI "356938035643809"

/* A first sync, a change, a delete, a replay: versions, changes since, the CIN, history. */
static void device_copy_keeps_versions_changes_since_and_history_S6(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    seam_store_change first[] = {
        put("./devinfo", "imei", IMEI),
        put("./devinfo", "language", "fr"),
        put("./devinfo", "cin", "0102030405060708\n"),
        put("./apps", "A00000064701", "name: purse\nkind: card\nversion: 1.0\nsize: 2048\n"),
        put("./apps", "org.example.snake", "name: Snake\nkind: terminal\nversion: 3.1\n"),
    };
    int64_t counter = 0;
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-1", first, 5, &counter), SEAM_OK);
    assert_int_equal(counter, 5);
    seam_store_device d;
    assert_int_equal(seam_store_device_get(s, IMEI, &d), SEAM_OK);
    assert_string_equal(d.id, IMEI);
    assert_int_equal(d.cin.len, 8);
    assert_memory_equal(d.cin.bytes, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(d.counter, 5);
    assert_int_equal(d.records, 5);

    /* the user changes the language; an app goes away */
    seam_store_change second[] = {put("./devinfo", "language", "de"),
                                  del("./apps", "org.example.snake")};
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-2", second, 2, &counter), SEAM_OK);
    assert_int_equal(counter, 7);
    seam_store_record *recs = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_record_list(s, IMEI, 5, 100, &recs, &count), SEAM_OK);
    assert_int_equal(count, 2); /* what the device has not seen: the change and the tombstone */
    assert_string_equal(recs[0].key, "language");
    assert_string_equal(recs[0].content, "de");
    assert_int_equal(recs[0].version, 6);
    assert_false(recs[0].deleted);
    assert_string_equal(recs[1].key, "org.example.snake");
    assert_true(recs[1].deleted);
    assert_int_equal(recs[1].content_len, 0);
    free(recs);
    assert_int_equal(seam_store_record_list(s, IMEI, 0, 3, &recs, &count), SEAM_OK);
    assert_int_equal(count, 3); /* paged by max, oldest version first */
    assert_string_equal(recs[0].key, "imei");
    assert_string_equal(recs[2].key, "A00000064701");
    free(recs);

    /* a replayed session changes nothing: same counter, no history */
    uint8_t before[32], after[32];
    digest(s, before);
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-2", second, 2, &counter), SEAM_OK);
    assert_int_equal(counter, 7);
    digest(s, after);
    assert_memory_equal(before, after, 32);

    seam_store_history *h = NULL;
    assert_int_equal(seam_store_history_list(s, IMEI, &h, &count), SEAM_OK);
    assert_int_equal(count, 7);
    assert_string_equal(h[0].key, "org.example.snake"); /* newest first */
    assert_true(h[0].old_exists);
    assert_true(h[0].new_deleted);
    assert_non_null(strstr(h[0].old_content, "Snake"));
    assert_string_equal(h[1].session, "sync-2");
    assert_string_equal(h[1].old_content, "fr");
    assert_string_equal(h[1].new_content, "de");
    assert_false(h[6].old_exists);
    assert_string_equal(h[6].session, "sync-1");
    free(h);

    /* the CIN record removed: the card is unknown again, not guessed */
    assert_int_equal(seam_store_record_delete(s, IMEI, "sync-3", "./devinfo", "cin"), SEAM_OK);
    assert_int_equal(seam_store_device_get(s, IMEI, &d), SEAM_OK);
    assert_int_equal(d.cin.len, 0);
    assert_int_equal(d.records, 3);
    assert_int_equal(seam_store_device_get(s, "490154203237518", &d), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_record_list(s, "490154203237518", 0, 1, &recs, &count),
                     SEAM_ERR_NOT_FOUND);
    seam_store_device *list = NULL;
    assert_int_equal(seam_store_device_list(s, &list, &count), SEAM_OK);
    assert_int_equal(count, 1);
    free(list);
    seam_store_close(s);
}

/* What a scan saw: "device/key" joined by spaces. */
typedef struct {
    char seen[512];
} scan_log;

static seam_err log_record(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    scan_log *l = ctx;
    size_t used = strlen(l->seen);
    snprintf(l->seen + used, sizeof l->seen - used, "%s%s/%s", used ? " " : "", d->id, r->key);
    return SEAM_OK;
}

/* A card's page reads only the records of the devices bound to it (S8). */
static void record_scan_by_card_sees_its_devices_only_S8(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    int64_t counter;
    seam_store_change a[] = {put("./devinfo", "cin", "0102030405060708\n"),
                             put("./card", "instance.A0000005505501", "version=1.0")};
    seam_store_change b[] = {put("./devinfo", "cin", "1112131415161718\n"),
                             put("./card", "instance.A0000005505501", "version=2.0")};
    seam_store_change c[] = {put("./devinfo", "cin", "0102030405060708\n"),
                             put("./card", "domain.A000000151000000", "lifecycle=0F")};
    seam_store_change unbound[] = {put("./card", "instance.A0000000031010", "version=1.0")};
    assert_int_equal(seam_store_device_apply(s, "handset-a", "s1", a, 2, &counter), SEAM_OK);
    assert_int_equal(seam_store_device_apply(s, "handset-b", "s2", b, 2, &counter), SEAM_OK);
    assert_int_equal(seam_store_device_apply(s, "handset-c", "s3", c, 2, &counter), SEAM_OK);
    assert_int_equal(seam_store_device_apply(s, "handset-d", "s4", unbound, 1, &counter), SEAM_OK);
    seam_store_id cin = {.len = 8, .bytes = {1, 2, 3, 4, 5, 6, 7, 8}};
    scan_log l = {0};
    assert_int_equal(seam_store_record_scan_card(s, "./card", &cin, log_record, &l), SEAM_OK);
    assert_string_equal(l.seen,
                        "handset-a/instance.A0000005505501 handset-c/domain.A000000151000000");
    memset(&l, 0, sizeof l);
    assert_int_equal(seam_store_record_scan(s, "./card", log_record, &l), SEAM_OK);
    assert_string_equal(l.seen,
                        "handset-a/instance.A0000005505501 handset-b/instance.A0000005505501 "
                        "handset-c/domain.A000000151000000 handset-d/instance.A0000000031010");
    seam_store_id other = {.len = 8, .bytes = {9, 9, 9, 9, 9, 9, 9, 9}};
    memset(&l, 0, sizeof l);
    assert_int_equal(seam_store_record_scan_card(s, "./card", &other, log_record, &l), SEAM_OK);
    assert_string_equal(l.seen, "");
    assert_int_equal(seam_store_record_scan_card(s, "./card", NULL, log_record, &l), SEAM_ERR_ARG);
    seam_store_close(s);
}

/* Every limit refused before anything is written; a good change in a bad batch is lost too. */
static void device_batches_out_of_limits_change_nothing_S6(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    assert_int_equal(seam_store_record_put(s, IMEI, "sync-1", "./devinfo", "language", "fr", 2),
                     SEAM_OK);
    char long_id[SEAM_STORE_DEVICE_ID_MAX + 2], long_key[SEAM_STORE_RECORD_KEY_MAX + 2];
    memset(long_id, '7', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    static char big[SEAM_STORE_CONTENT_MAX + 1];
    memset(big, 'x', sizeof big);
    uint8_t before[32], after[32];
    digest(s, before);
    seam_store_change good = put("./devinfo", "ringtone", "bells");
    const seam_store_change bad[] = {
        put("./dev info", "k", "v"),        /* a blank in the URI */
        put("", "k", "v"),                  /* an empty URI */
        put("./apps", "", "v"),             /* an empty key */
        put("./apps", long_key, "v"),       /* a key too long */
        put("./apps", "k\n", "v"),          /* a control character in the key */
        put("./apps", "k", "caf\xC3"),      /* cut UTF-8 */
        put("./apps", "k", "\xC0\xAF"),     /* overlong UTF-8 */
        put("./apps", "k", "\xED\xA0\x80"), /* a surrogate */
        {.uri = "./apps", .key = "k", .content = "a\0b", .content_len = 3}, /* a NUL */
        {.uri = "./apps", .key = "k", .content = big, .content_len = sizeof big},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        seam_store_change batch[2] = {good, bad[i]};
        assert_int_equal(seam_store_device_apply(s, IMEI, "sync-2", batch, 2, NULL), SEAM_ERR_ARG);
    }
    assert_int_equal(seam_store_device_apply(s, long_id, "s", &good, 1, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, "35693803/5643809", "s", &good, 1, NULL),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, "", "s", &good, 1, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, IMEI, "", &good, 1, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, IMEI, "a\tb", &good, 1, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, IMEI, "s", &good, 0, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_apply(s, IMEI, "s", &good, SEAM_STORE_BATCH_MAX + 1, NULL),
                     SEAM_ERR_ARG);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    /* the largest content and key are taken whole */
    assert_int_equal(
        seam_store_record_put(s, IMEI, "s", "./apps", long_key + 1, big, sizeof big - 1), SEAM_OK);
    seam_store_record *recs = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_record_list(s, IMEI, 1, 10, &recs, &count), SEAM_OK);
    assert_int_equal(count, 1);
    assert_int_equal(recs[0].content_len, SEAM_STORE_CONTENT_MAX);
    assert_int_equal(strlen(recs[0].key), SEAM_STORE_RECORD_KEY_MAX);
    free(recs);
    seam_store_close(s);
}

/* A device holds at most SEAM_STORE_RECORDS_MAX records; the batch that would pass it is
   refused whole, and a batch that only changes existing ones still goes through. */
static void device_record_count_is_bounded_S6(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    enum { BATCH = SEAM_STORE_BATCH_MAX };
    static char keys[SEAM_STORE_RECORDS_MAX + 1][12];
    static seam_store_change batch[BATCH];
    for (int i = 0; i <= SEAM_STORE_RECORDS_MAX; i++)
        snprintf(keys[i], sizeof keys[i], "k%06d", i);
    for (int done = 0; done < SEAM_STORE_RECORDS_MAX;) {
        int n = SEAM_STORE_RECORDS_MAX - done < BATCH ? SEAM_STORE_RECORDS_MAX - done : BATCH;
        for (int i = 0; i < n; i++)
            batch[i] = put("./apps", keys[done + i], "v");
        assert_int_equal(seam_store_device_apply(s, IMEI, "fill", batch, (size_t)n, NULL), SEAM_OK);
        done += n;
    }
    uint8_t before[32], after[32];
    digest(s, before);
    batch[0] = put("./apps", keys[0], "changed");
    batch[1] = put("./apps", keys[SEAM_STORE_RECORDS_MAX], "one too many");
    assert_int_equal(seam_store_device_apply(s, IMEI, "over", batch, 2, NULL), SEAM_ERR_ARG);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(seam_store_device_apply(s, IMEI, "change", batch, 1, NULL), SEAM_OK);
    seam_store_close(s);
}

/* The database fails in the middle of a batch (a trigger refuses one key): none of it stays. */
static void device_batch_is_all_or_nothing_X4(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    assert_int_equal(seam_store_record_put(s, IMEI, "sync-1", "./devinfo", "language", "fr", 2),
                     SEAM_OK);
    seam_store_close(s);
    int rc = strncmp(url, "sqlite:", 7) == 0
                 ? backend_sql(url, "CREATE TRIGGER boom BEFORE INSERT ON device_records WHEN "
                                    "NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END")
                 : backend_sql(url, "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF "
                                    "NEW.key = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; "
                                    "RETURN NEW; END $$ LANGUAGE plpgsql; CREATE TRIGGER boom "
                                    "BEFORE INSERT ON device_records FOR EACH ROW EXECUTE "
                                    "FUNCTION boom()");
    assert_int_equal(rc, 0);
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    uint8_t before[32], after[32];
    digest(s, before);
    seam_store_change batch[] = {put("./devinfo", "language", "de"),
                                 put("./apps", "a", "name: a\nversion: 1.0\n"),
                                 put("./apps", "boom", "name: b\nversion: 1.0\n"),
                                 put("./apps", "c", "name: c\nversion: 1.0\n")};
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-2", batch, 4, NULL),
                     SEAM_ERR_SERVER_STORE);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    /* and the handle still works */
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-3", batch, 2, NULL), SEAM_OK);
    seam_store_device d;
    assert_int_equal(seam_store_device_get(s, IMEI, &d), SEAM_OK);
    assert_int_equal(d.counter, 3);
    seam_store_close(s);
}

/* Contents may be personal: never in clear in the database's files; sealed to their row. */
static void device_contents_are_sealed_at_rest_S6(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    uint8_t secret[16];
    char text[64];
    size_t n = 0;
    assert_int_equal(seam_crypto_random_fresh(secret, sizeof secret), SEAM_OK);
    assert_int_equal(seam_hex_encode(secret, sizeof secret, text, sizeof text, &n), SEAM_OK);
    char device[40];
    snprintf(device, sizeof device, "dev-%.16s", text + 16); /* ids are clear: the scan works */
    assert_int_equal(seam_store_record_put(s, device, "sync-1", "./devinfo", "ringtone", text, 16),
                     SEAM_OK);
    assert_int_equal(seam_store_record_put(s, device, "sync-2", "./devinfo", "ringtone", "x", 1),
                     SEAM_OK);
    assert_int_equal(seam_store_record_put(s, device, "sync-2", "./devinfo", "language", "y", 1),
                     SEAM_OK);
    seam_store_close(s);
    assert_true(backend_files_contain((const uint8_t *)device, strlen(device)));
    assert_false(backend_files_contain((const uint8_t *)text, 16)); /* nor in the history */

    /* a sealed content copied onto another record does not open there */
    assert_int_equal(backend_sql(url, "UPDATE device_records SET sealed = (SELECT sealed FROM "
                                      "device_records WHERE key = 'ringtone') WHERE key = "
                                      "'language'"),
                     0);
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    seam_store_record *recs = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_record_list(s, device, 0, 10, &recs, &count),
                     SEAM_ERR_SERVER_MASTER_KEY);
    seam_store_close(s);
}

/* The history keeps the newest SEAM_STORE_HISTORY_KEEP entries of a device. */
static void device_history_is_bounded_S6(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    enum { N = SEAM_STORE_HISTORY_KEEP + 20 };
    static char texts[N][8];
    static seam_store_change batch[N];
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i], "t%d", i);
        batch[i] = put("./devinfo", "ringtone", texts[i]);
    }
    assert_int_equal(seam_store_record_put(s, "other", "s", "./devinfo", "ringtone", "z", 1),
                     SEAM_OK);
    assert_int_equal(seam_store_device_apply(s, IMEI, "sync-1", batch, N, NULL), SEAM_OK);
    seam_store_history *h = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_history_list(s, IMEI, &h, &count), SEAM_OK);
    assert_int_equal(count, SEAM_STORE_HISTORY_KEEP);
    assert_string_equal(h[0].new_content, texts[N - 1]);
    assert_string_equal(h[0].old_content, texts[N - 2]);
    assert_string_equal(h[count - 1].new_content, texts[N - SEAM_STORE_HISTORY_KEEP]);
    free(h);
    assert_int_equal(seam_store_history_list(s, "other", &h, &count), SEAM_OK);
    assert_int_equal(count, 1); /* another device's history is its own */
    free(h);
    seam_store_close(s);
}

/* ---- kill -9 ---- */

#define KILL_ROUNDS 5
#define PER_BATCH   5

/* The child: applies batches of PER_BATCH records, acknowledging each (its number). */
static void writer(const char *url, int fd, int round) {
    seam_store *s = NULL;
    if (seam_store_open(url, master, &s))
        _exit(2);
    char device[32];
    snprintf(device, sizeof device, "dev-%d", round);
    for (int i = 0;; i++) {
        char keys[PER_BATCH][32], session[32];
        seam_store_change batch[PER_BATCH];
        for (int k = 0; k < PER_BATCH; k++) {
            snprintf(keys[k], sizeof keys[k], "b%04d-%d", i, k);
            batch[k] = put("./apps", keys[k], "name: x\nversion: 1.0\n");
        }
        snprintf(session, sizeof session, "sync-%d", i);
        if (seam_store_device_apply(s, device, session, batch, PER_BATCH, NULL))
            _exit(3);
        if (write(fd, &i, sizeof i) != sizeof i)
            _exit(4);
    }
}

static void device_kill_9_loses_no_acknowledged_batch_X4_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    seam_store_close(s);
    srand(14);
    for (int round = 0; round < KILL_ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer(url, fds[1], round);
        }
        close(fds[1]);
        int stop_after = 1 + rand() % 30, acked = -1, got;
        while (acked + 1 < stop_after && read(fds[0], &got, sizeof got) == sizeof got)
            acked = got;
        kill(pid, SIGKILL);
        while (read(fds[0], &got, sizeof got) == sizeof got)
            acked = got;
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        assert_true(acked >= 0);

        assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
        char device[32];
        snprintf(device, sizeof device, "dev-%d", round);
        seam_store_record *recs = NULL;
        size_t count = 0;
        assert_int_equal(seam_store_record_list(s, device, 0, 100000, &recs, &count), SEAM_OK);
        assert_true(count >= (size_t)(acked + 1) * PER_BATCH); /* every acknowledged batch */
        assert_int_equal(count % PER_BATCH, 0);                /* and no half batch */
        for (size_t i = 0; i < count; i++) {
            char want[32];
            snprintf(want, sizeof want, "b%04zu-%zu", i / PER_BATCH, i % PER_BATCH);
            assert_string_equal(recs[i].key, want);
            assert_int_equal(recs[i].version, (int64_t)i + 1);
        }
        free(recs);
        seam_store_close(s);
    }
}

/* Device credentials and a protocol's sync state: enrolment, sealed at rest and bound to their
 * row, refusals change nothing (S6; docs/server.md "Device sync"). */
static void device_secret_and_sync_state_are_sealed_and_bound_S6(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    uint8_t raw[16], d0[32], d1[32];
    char secret[SEAM_STORE_SECRET_MAX + 1], got[SEAM_STORE_SECRET_MAX + 1];
    size_t n = 0;
    assert_int_equal(seam_crypto_random_fresh(raw, sizeof raw), SEAM_OK);
    assert_int_equal(seam_hex_encode(raw, sizeof raw, secret, sizeof secret, &n), SEAM_OK);
    assert_int_equal(seam_store_device_secret_get(s, "dev-a", got), SEAM_ERR_NOT_FOUND);
    bool created = false;
    assert_int_equal(seam_store_device_secret_put(s, "dev-a", secret, &created), SEAM_OK);
    assert_true(created);
    seam_store_device d;
    assert_int_equal(seam_store_device_get(s, "dev-a", &d), SEAM_OK); /* enrolled, no records */
    assert_int_equal(d.records, 0);
    assert_int_equal(seam_store_device_secret_get(s, "dev-a", got), SEAM_OK);
    assert_string_equal(got, secret);
    assert_int_equal(seam_store_device_secret_put(s, "dev-b", "another-secret-of-dev-b", &created),
                     SEAM_OK);
    /* out of limits: nothing stored */
    digest(s, d0);
    assert_int_equal(seam_store_device_secret_put(s, "dev-c", "short", NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_secret_put(s, "dev-c", "with a blank inside it", NULL),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_store_device_secret_put(s, "dev/c", secret, NULL), SEAM_ERR_ARG);
    digest(s, d1);
    assert_memory_equal(d0, d1, 32);

    /* sync state: none, then kept, then replaced; per protocol and URI */
    uint8_t *st = NULL;
    size_t len = 0;
    assert_int_equal(seam_store_device_sync_get(s, "nobody", "changeset", "./devinfo", &st, &len),
                     SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_begin(s), SEAM_OK);
    assert_int_equal(seam_store_device_sync_get(s, "dev-a", "changeset", "./devinfo", &st, &len),
                     SEAM_OK);
    assert_null(st);
    assert_int_equal(len, 0);
    assert_int_equal(seam_store_device_sync_put(s, "dev-a", "changeset", "./devinfo",
                                                (const uint8_t *)secret, strlen(secret)),
                     SEAM_OK);
    assert_int_equal(seam_store_end(s, SEAM_OK), SEAM_OK);
    assert_int_equal(seam_store_device_sync_put(s, "dev-b", "changeset", "./devinfo",
                                                (const uint8_t *)"other", 5),
                     SEAM_OK);
    assert_int_equal(seam_store_device_sync_get(s, "dev-a", "changeset", "./devinfo", &st, &len),
                     SEAM_OK);
    assert_int_equal(len, strlen(secret));
    assert_memory_equal(st, secret, len);
    free(st);
    assert_int_equal(seam_store_device_sync_get(s, "dev-a", "omads", "./devinfo", &st, &len),
                     SEAM_OK);
    assert_null(st);
    seam_store_close(s);
    assert_false(backend_files_contain((const uint8_t *)secret, strlen(secret)));

    /* a sealed secret or state copied onto another device does not open there */
    assert_int_equal(backend_sql(url, "UPDATE device_secrets SET sealed = (SELECT sealed FROM "
                                      "device_secrets WHERE device = 'dev-a') WHERE device = "
                                      "'dev-b'"),
                     0);
    assert_int_equal(backend_sql(url, "UPDATE device_sync SET sealed = (SELECT sealed FROM "
                                      "device_sync WHERE device = 'dev-a') WHERE device = "
                                      "'dev-b'"),
                     0);
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    assert_int_equal(seam_store_device_secret_get(s, "dev-b", got), SEAM_ERR_SERVER_MASTER_KEY);
    assert_int_equal(seam_store_device_sync_get(s, "dev-b", "changeset", "./devinfo", &st, &len),
                     SEAM_ERR_SERVER_MASTER_KEY);
    seam_store_close(s);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    assert_int_equal(seam_crypto_random_fresh(master, sizeof master), SEAM_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_copy_keeps_versions_changes_since_and_history_S6),
        cmocka_unit_test(device_batches_out_of_limits_change_nothing_S6),
        cmocka_unit_test(record_scan_by_card_sees_its_devices_only_S8),
        cmocka_unit_test(device_record_count_is_bounded_S6),
        cmocka_unit_test(device_batch_is_all_or_nothing_X4),
        cmocka_unit_test(device_contents_are_sealed_at_rest_S6),
        cmocka_unit_test(device_history_is_bounded_S6),
        cmocka_unit_test(device_kill_9_loses_no_acknowledged_batch_X4_X5),
        cmocka_unit_test(device_secret_and_sync_state_are_sealed_and_bound_S6),
    };
    char group[64];
    snprintf(group, sizeof group, "device databases on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
