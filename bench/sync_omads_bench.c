/*
 * OMA DS sync bench (issue 14): bytes on the wire per changed record and the time of a two-way
 * sync of 10,000 changed records over OMA DS 1.2 through `seam server` (POST /sync/omads, a
 * real server in this process on 127.0.0.1, SQLite store) and seam_terminal_sync_omads (libcurl,
 * the terminal's database file), beside the compact changeset protocol on the same workload and
 * the same kind of files, measured in this run (bench/README.md "The OMA DS bench").
 *
 * Workload on ./apps, RECORDS records (default 10,000), as bench/sync_bench.c:
 *  1. first sync: the terminal holds every record, the server none (slow, 201);
 *  2. two-way: the terminal bumps the version of the even records, the server changes the size
 *     of the odd ones (for OMA DS, in the device's copy in the store, one batch); one two-way
 *     sync (200); both sides compared after it.
 * Payload as sync_bench.c (the text of what changed). Wire: OMA DS, the HTTP bodies both ways
 * (the terminal's counts); changeset, the messages both ways.
 *
 * usage: sync_omads_bench [RECORDS]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seam/server.h"
#include "seam/sync.h"
#include "seam/terminal.h"
#include "seam/util.h"
#include "server/store.h"
#include "sync_host.h"

#define DEVICE SYNC_BENCH_DEVICE
#define SECRET "bench-device-secret"

static char dir[64];

static void die(const char *what, seam_err err) {
    fprintf(stderr, "sync_omads_bench: %s: %s\n", what, seam_err_str(err));
    exit(1);
}

static size_t digits(uint64_t v) {
    char b[24];
    return (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)v);
}

typedef struct {
    size_t wire;
    double seconds;
    unsigned changed;
} run;

/* ---- the compact changeset protocol, in process ---- */

static run changeset_once(seam_sync_db *client, seam_sync_db *server) {
    sync_bench_run cs = sync_bench_changeset("sync_omads_bench", client, server, SEAM_SYNC_TWO_WAY);
    run r = {cs.wire, cs.seconds, cs.result.sent + cs.result.received};
    return r;
}

/* ---- OMA DS through seam server ---- */

static run omads_once(const char *url, const char *path) {
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_OMADS,
                                      .type = SEAM_SYNC_TWO_WAY,
                                      .dm_path = path,
                                      .device_id = DEVICE,
                                      .source_uri = SEAM_SYNC_APPS,
                                      .server_url = url,
                                      .user = DEVICE,
                                      .password = SECRET,
                                      .timeout_ms = 600000};
    seam_terminal_sync_outcome out;
    run r = {0};
    double t0 = sync_bench_now();
    if (seam_terminal_sync_omads(&req, &out) != SEAM_OK || out.failure) {
        fprintf(stderr, "sync_omads_bench: OMA DS sync failed: %s\n", out.reason);
        exit(1);
    }
    r.seconds = sync_bench_now() - t0;
    r.wire = (size_t)(out.bytes_sent + out.bytes_received);
    r.changed = out.counts.sent + out.counts.received;
    return r;
}

/* The server's change to the odd records: one batch into the device's copy. */
static void server_changes(seam_store *store, seam_sync_record *recs, size_t n) {
    seam_store_change *batch = calloc(n / 2 + 1, sizeof *batch);
    char(*text)[SEAM_SYNC_TEXT_MAX + 1] = calloc(n / 2 + 1, sizeof *text);
    size_t count = 0;
    for (size_t i = 1; i < n; i += 2) {
        size_t len = 0;
        seam_err err = seam_sync_record_format(SEAM_SYNC_APPS, &recs[i], text[count],
                                               sizeof text[count], &len);
        if (err)
            die("format", err);
        batch[count] = (seam_store_change){
            .uri = SEAM_SYNC_APPS, .key = recs[i].key, .content = text[count], .content_len = len};
        count++;
    }
    seam_err err = seam_store_device_apply(store, DEVICE, "bench", batch, count, NULL);
    if (err)
        die("server batch", err);
    free(batch);
    free(text);
}

static int same_records(seam_store *store, seam_sync_db *term, size_t n) {
    seam_store_record *items = NULL;
    size_t count = 0, live = 0;
    if (seam_store_record_list(store, DEVICE, 0, SEAM_STORE_RECORDS_MAX, &items, &count))
        return 0;
    int ok = 1;
    for (size_t i = 0; ok && i < count; i++) {
        if (items[i].deleted)
            continue;
        live++;
        seam_sync_record r, mine;
        memset(&r, 0, sizeof r);
        snprintf(r.key, sizeof r.key, "%s", items[i].key);
        ok = seam_sync_record_parse(SEAM_SYNC_APPS, items[i].content, items[i].content_len, &r) ==
                 SEAM_OK &&
             seam_sync_get(term, SEAM_SYNC_APPS, r.key, &mine) == SEAM_OK &&
             !strcmp(mine.version, r.version) && mine.size == r.size;
    }
    free(items);
    return ok && live == n;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    if (n < 2 || n > SEAM_STORE_RECORDS_MAX)
        return 2;
    snprintf(dir, sizeof dir, "%s/seam-omads-bench-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    seam_log_set_level(SEAM_LOG_ERROR);
    seam_terminal_global_init();
    seam_sync_record *recs = calloc(n, sizeof *recs);
    size_t payload1 = 0;
    for (size_t i = 0; i < n; i++) {
        recs[i] = sync_bench_app(i);
        payload1 += strlen(recs[i].key) + strlen("terminal") + strlen(recs[i].value) +
                    strlen(recs[i].version) + digits(recs[i].size);
    }
    seam_sync_record *mine = malloc(n / 2 * sizeof *mine), *theirs = malloc(n / 2 * sizeof *theirs);

    /* the changeset protocol, as bench/sync_bench.c, on the same workload */
    seam_sync_db *client = sync_bench_open("sync_omads_bench", dir, "cs-client.db"),
                 *server = sync_bench_open("sync_omads_bench", dir, "cs-server.db");
    seam_err err = seam_sync_put_many(client, SEAM_SYNC_APPS, recs, n);
    if (err)
        die("put", err);
    run cs_first = changeset_once(client, server);
    size_t payload2 = 0;
    for (size_t i = 0; i < n; i++) {
        seam_sync_record r = recs[i];
        if (i % 2 == 0) {
            snprintf(r.version, sizeof r.version, "1.1");
            payload2 += strlen(r.key) + strlen(r.version);
            mine[i / 2] = r;
        } else {
            r.size += 1000;
            payload2 += strlen(r.key) + digits(r.size);
            theirs[i / 2] = r;
        }
    }
    if ((err = seam_sync_put_many(client, SEAM_SYNC_APPS, mine, n / 2)) ||
        (err = seam_sync_put_many(server, SEAM_SYNC_APPS, theirs, n / 2)))
        die("put", err);
    run cs_two = changeset_once(client, server);
    seam_sync_close(client);
    seam_sync_close(server);

    /* OMA DS: seam server on 127.0.0.1, its store on SQLite in the same folder */
    char srv_dir[128], token[SEAM_SERVER_TOKEN_SIZE], url[128], term[128], key_path[160];
    snprintf(srv_dir, sizeof srv_dir, "%s/srv", dir);
    snprintf(term, sizeof term, "%s/omads-terminal.db", dir);
    if ((err = seam_server_init(srv_dir, token)))
        die("server init", err);
    seam_server *srv = NULL;
    seam_server_options o = {.dir = srv_dir, .listen = "127.0.0.1:0"};
    if ((err = seam_server_start(&o, &srv)))
        die("server start", err);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/omads", (unsigned)seam_server_port(srv));
    uint8_t mk[SEAM_STORE_MASTER_KEY_SIZE];
    seam_store *store = NULL;
    char db_path[160];
    snprintf(key_path, sizeof key_path, "%s/master.key", srv_dir);
    snprintf(db_path, sizeof db_path, "%s/server.db", srv_dir);
    if ((err = seam_store_master_key_load(key_path, mk)) ||
        (err = seam_store_open(db_path, mk, &store)) ||
        (err = seam_store_device_secret_put(store, DEVICE, SECRET, NULL)))
        die("store", err);
    client = sync_bench_open("sync_omads_bench", dir, "omads-terminal.db");
    if ((err = seam_sync_put_many(client, SEAM_SYNC_APPS, recs, n)))
        die("put", err);
    seam_sync_close(client);
    run om_first = omads_once(url, term);
    client = sync_bench_open("sync_omads_bench", dir, "omads-terminal.db");
    if ((err = seam_sync_put_many(client, SEAM_SYNC_APPS, mine, n / 2)))
        die("put", err);
    seam_sync_close(client);
    for (size_t i = 0; i < n; i++)
        recs[i] = i % 2 ? theirs[i / 2] : recs[i];
    server_changes(store, recs, n);
    run om_two = omads_once(url, term);
    client = sync_bench_open("sync_omads_bench", dir, "omads-terminal.db");
    if (!same_records(store, client, n)) {
        fprintf(stderr, "sync_omads_bench: the two sides differ after the two-way sync\n");
        return 1;
    }
    seam_sync_close(client);
    seam_store_close(store);
    seam_server_stop(srv);

    printf("sync over OMA DS: %zu records in ./apps through seam server (SQLite, 127.0.0.1) and "
           "seam_terminal_sync_omads, in %s\n",
           n, dir);
    printf("  first sync (slow, %zu new records): %zu B of HTTP bodies, payload %zu B, %.3f s; "
           "changeset protocol: %zu B, %.3f s\n",
           n, om_first.wire, payload1, om_first.seconds, cs_first.wire, cs_first.seconds);
    printf("  two-way, %u changed records: %zu B of HTTP bodies, payload %zu B, %.3f s; "
           "changeset protocol: %zu B, %.3f s\n",
           om_two.changed, om_two.wire, payload2, om_two.seconds, cs_two.wire, cs_two.seconds);
    printf("ROW\tsync OMA DS: two-way, %u changed records\t%.3f s\t(report)\tchangeset: %.3f s\t"
           "%.1fx\n",
           om_two.changed, om_two.seconds, cs_two.seconds, om_two.seconds / cs_two.seconds);
    printf("ROW\tsync OMA DS: wire bytes / changed record, two-way\t%.1f B\t(report)\t"
           "changeset: %.1f B\t%.1fx\n",
           (double)om_two.wire / om_two.changed, (double)cs_two.wire / cs_two.changed,
           ((double)om_two.wire / om_two.changed) / ((double)cs_two.wire / cs_two.changed));
    printf("ROW\tsync OMA DS: wire bytes / changed payload, two-way\t%.2f\t(report)\t"
           "changeset: %.2f\t%.1fx\n",
           (double)om_two.wire / (double)payload2, (double)cs_two.wire / (double)payload2,
           (double)om_two.wire / (double)cs_two.wire);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(recs);
    free(mine);
    free(theirs);
    return system(cmd) == 0 ? 0 : 1;
}
