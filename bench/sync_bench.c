/*
 * Sync bench (issue 14, the compact changeset protocol's rows): bytes on the
 * wire per changed record and the time of a two-way sync of 10,000 changed
 * records between a client's and a server's database files (WAL,
 * synchronous=FULL), in process, through seam_sync_client_* and
 * seam_sync_serve; each beside a reference measured in the same run.
 *
 * Workloads on ./apps, RECORDS records (default 10,000; keys like
 * "com.example.app00042", names, versions "1.0", sizes):
 *  1. first sync: the client holds every record, the server none (the
 *     client starts a two-way sync; never synced, it runs slow, 201);
 *  2. two-way: the client bumps the version of half the records, the server
 *     changes the size of the other half; one two-way sync (200).
 * Payload: the bytes of what changed, as text: for a new record its key and
 * every field (size in decimal), for a changed one its key and the changed
 * field. Wire: both messages of the sync, whole frames. References: the
 * same changes as SQLite changesets (old and new values) made from the same
 * files in this run, and a naive full copy (every record both ways as the
 * OMA DS text form, "field: value" lines) for bytes; a refresh from client
 * (203, every record through the same engine) for time.
 *
 * usage: sync_bench [RECORDS]
 */
#define _POSIX_C_SOURCE              200809L
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seam/sync.h"
#include "sync_host.h"

static char dir[64];

static void die(const char *what, seam_err err) {
    fprintf(stderr, "sync_bench: %s: %s\n", what, seam_err_str(err));
    exit(1);
}

static size_t digits(uint64_t v) {
    char b[24];
    return (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)v);
}

static size_t full_payload(const seam_sync_record *r) {
    return strlen(r->key) + strlen("terminal") + strlen(r->value) + strlen(r->version) +
           digits(r->size);
}

/* The OMA DS text form of a record: "name: ...\nkind: ...\n..." and its key. */
static size_t text_form(const seam_sync_record *r) {
    char b[600];
    return strlen(r->key) + (size_t)snprintf(b, sizeof b,
                                             "name: %s\nkind: terminal\nversion: %s\nsize: %llu\n",
                                             r->value, r->version, (unsigned long long)r->size);
}

/* Bytes of the changes from a's ./apps to b's as a SQLite changeset and as a patchset. */
static void session_sizes(const char *from, const char *to, int *changeset, int *patchset) {
    sqlite3 *db;
    sqlite3_session *s;
    char path[128], sql[200];
    void *buf;
    snprintf(path, sizeof path, "%s/%s", dir, to);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    snprintf(sql, sizeof sql, "ATTACH '%s/%s' AS other", dir, from);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3session_create(db, "main", &s);
    sqlite3session_attach(s, "apps");
    sqlite3session_diff(s, "other", "apps", NULL);
    sqlite3session_changeset(s, changeset, &buf);
    sqlite3_free(buf);
    sqlite3session_patchset(s, patchset, &buf);
    sqlite3_free(buf);
    sqlite3session_delete(s);
    sqlite3_close(db);
}

static void copy_db(const char *from, const char *to) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/%s'", dir, from, dir, to);
    if (system(cmd) != 0)
        exit(1);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    if (n < 2 || n > SEAM_SYNC_RECORDS_MAX)
        return 2;
    snprintf(dir, sizeof dir, "%s/seam-sync-bench-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    seam_sync_record *recs = calloc(n, sizeof *recs);
    size_t payload1 = 0, naive = 0;
    for (size_t i = 0; i < n; i++) {
        recs[i] = sync_bench_app(i);
        payload1 += full_payload(&recs[i]);
        naive += 2 * text_form(&recs[i]);
    }
    seam_sync_db *client = sync_bench_open("sync_bench", dir, "client.db"),
                 *server = sync_bench_open("sync_bench", dir, "server.db");
    seam_err err = seam_sync_put_many(client, SEAM_SYNC_APPS, recs, n);
    if (err)
        die("put", err);
    sync_bench_run first = sync_bench_changeset("sync_bench", client, server, SEAM_SYNC_TWO_WAY);

    /* 2: the client bumps versions of the even records, the server sizes of the odd ones */
    size_t payload2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 2 == 0) {
            snprintf(recs[i].version, sizeof recs[i].version, "1.1");
            payload2 += strlen(recs[i].key) + strlen(recs[i].version);
        } else {
            recs[i].size += 1000;
            payload2 += strlen(recs[i].key) + digits(recs[i].size);
        }
    }
    seam_sync_record *mine = malloc(n / 2 * sizeof *mine), *theirs = malloc(n / 2 * sizeof *theirs);
    for (size_t i = 0; i < n / 2; i++) {
        mine[i] = recs[2 * i];
        theirs[i] = recs[2 * i + 1];
    }
    if ((err = seam_sync_put_many(client, SEAM_SYNC_APPS, mine, n / 2)) ||
        (err = seam_sync_put_many(server, SEAM_SYNC_APPS, theirs, n / 2)))
        die("put", err);
    /* the same changes as SQLite changesets and patchsets, from copies of the files */
    seam_sync_close(client);
    seam_sync_close(server);
    copy_db("client.db", "client0.db");
    copy_db("server.db", "server0.db");
    int cs_up = 0, ps_up = 0, cs_down = 0, ps_down = 0;
    client = sync_bench_open("sync_bench", dir, "client.db");
    server = sync_bench_open("sync_bench", dir, "server.db");
    sync_bench_run two_way = sync_bench_changeset("sync_bench", client, server, SEAM_SYNC_TWO_WAY);
    /* client0 -> client: what the client received; server0 -> server: what the server took */
    session_sizes("client0.db", "client.db", &cs_down, &ps_down);
    session_sizes("server0.db", "server.db", &cs_up, &ps_up);
    uint64_t hc = 0, hs = 0;
    seam_sync_records_fingerprint(client, SEAM_SYNC_APPS, &hc);
    seam_sync_records_fingerprint(server, SEAM_SYNC_APPS, &hs);
    if (hc != hs) {
        fprintf(stderr, "sync_bench: the two sides differ after the two-way sync\n");
        return 1;
    }
    sync_bench_run refresh =
        sync_bench_changeset("sync_bench", client, server, SEAM_SYNC_REFRESH_FROM_CLIENT);
    seam_sync_close(client);
    seam_sync_close(server);

    size_t changed2 = two_way.result.sent + two_way.result.received;
    printf("sync: %zu records in ./apps, client and server database files in %s\n", n, dir);
    printf("  first sync (slow, %zu new records): %zu B on the wire, payload %zu B, %.3f s\n",
           (size_t)first.result.sent, first.wire, payload1, first.seconds);
    printf("  two-way, %zu changed records (%u up, %u down): %zu B on the wire, payload %zu B, "
           "%.3f s\n",
           changed2, two_way.result.sent, two_way.result.received, two_way.wire, payload2,
           two_way.seconds);
    printf("  the same changes as SQLite changesets: %d B (patchsets %d B)\n", cs_up + cs_down,
           ps_up + ps_down);
    printf("  naive full copy, both ways (OMA DS text form): %zu B; refresh from client (203): "
           "%zu B, %.3f s\n",
           naive, refresh.wire, refresh.seconds);
    printf("ROW\tsync: two-way, %zu changed records\t%.3f s\t< 2 s\trefresh 203: %.3f s\t%.2fx\n",
           changed2, two_way.seconds, refresh.seconds, two_way.seconds / refresh.seconds);
    printf("ROW\tsync: wire bytes / changed payload, two-way\t%.2f\t<= 1.5\tchangesets: %.2f\t%.1f "
           "B/record\n",
           (double)two_way.wire / (double)payload2, (double)(cs_up + cs_down) / (double)payload2,
           (double)two_way.wire / (double)changed2);
    printf("ROW\tsync: wire bytes / payload, first sync\t%.2f\t<= 1.5\tnaive copy: %.2f\t%.1f "
           "B/record\n",
           (double)first.wire / (double)payload1, (double)naive / (double)payload1,
           (double)first.wire / (double)n);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(recs);
    free(mine);
    free(theirs);
    return system(cmd) == 0 ? 0 : 1;
}
