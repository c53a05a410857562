/*
 * Sync over HTTP bench (issue 14): the compact changeset protocol end to end through a
 * running `seam server` (bench/sync_http.sh starts it on SQLite or PostgreSQL), with the
 * terminal's side seam_terminal_sync_changeset (libcurl), on the workload of
 * bench/sync_bench.c: RECORDS records of ./apps (default 10,000); a first sync (slow, every
 * record new on the server); then the terminal bumps the version of the even records and
 * the operator's side changes the size of the odd ones in the store, and one two-way sync
 * (200) carries all of them. Measured: the two-way's time, the bytes of the HTTP bodies
 * and, apart, with the HTTP headers, per changed record; both sides' records compared
 * after it. The in-process figures of bench/sync_bench.c from the same run are the
 * reference (arguments).
 *
 * usage: sync_http_bench NAME PORT TOKEN STORE_URL MASTER_KEY_FILE WORKDIR RECORDS
 *        REF_SECONDS REF_BYTES_PER_RECORD
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam/sync.h"
#include "seam/terminal.h"
#include "server/store.h"
#include "sync_host.h"

static void die(const char *what, const char *why) {
    fprintf(stderr, "sync_http_bench: %s: %s\n", what, why);
    exit(1);
}

static void enrol(unsigned port, const char *token) {
    CURL *c = curl_easy_init();
    char url[96], auth[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/devices", port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                     "{\"id\":\"356938035643809\",\"secret\":\"bench-secret-0123456789\"}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK ||
        (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 201))
        die("enrol", "POST /api/devices failed");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static seam_terminal_sync_outcome sync_once(unsigned port, const char *dm, double *seconds) {
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", port);
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_CHANGESET,
                                      .type = SEAM_SYNC_TWO_WAY,
                                      .dm_path = dm,
                                      .device_id = "356938035643809",
                                      .source_uri = SEAM_SYNC_APPS,
                                      .server_url = url,
                                      .password = "bench-secret-0123456789",
                                      .timeout_ms = 600000};
    seam_terminal_sync_outcome out;
    double t0 = sync_bench_now();
    if (seam_terminal_sync_changeset(&req, &out) != SEAM_OK || out.failure != SEAM_TERMINAL_SYNC_OK)
        die("sync", out.reason);
    *seconds = sync_bench_now() - t0;
    return out;
}

/* The server's copy of ./apps, digested as the sync layer digests records. */
static uint64_t server_digest(seam_store *st) {
    seam_sync_db *db = NULL;
    seam_store_record *recs = NULL;
    size_t count = 0;
    uint64_t h = 0;
    if (seam_sync_open(":memory:", &db) ||
        seam_store_record_list(st, "356938035643809", 0, SEAM_STORE_RECORDS_MAX, &recs, &count))
        die("server copy", "cannot read");
    for (size_t i = 0; i < count; i++) {
        seam_sync_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.key, sizeof r.key, "%s", recs[i].key);
        if (!recs[i].deleted && !strcmp(recs[i].uri, SEAM_SYNC_APPS) &&
            (seam_sync_record_parse(SEAM_SYNC_APPS, recs[i].content, recs[i].content_len, &r) ||
             seam_sync_put(db, SEAM_SYNC_APPS, &r)))
            die("server copy", "a record does not parse");
    }
    seam_sync_records_fingerprint(db, SEAM_SYNC_APPS, &h);
    free(recs);
    seam_sync_close(db);
    return h;
}

int main(int argc, char **argv) {
    if (argc != 10)
        return 2;
    const char *name = argv[1], *token = argv[3], *store_url = argv[4], *key_file = argv[5];
    unsigned port = (unsigned)strtoul(argv[2], NULL, 10);
    size_t n = (size_t)strtoul(argv[7], NULL, 10);
    double ref_seconds = strtod(argv[8], NULL), ref_bytes = strtod(argv[9], NULL);
    char dm[256];
    snprintf(dm, sizeof dm, "%s/dm-%s.db", argv[6], name);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    enrol(port, token);
    seam_sync_record *recs = calloc(n, sizeof *recs);
    for (size_t i = 0; i < n; i++)
        recs[i] = sync_bench_app(i);
    seam_sync_db *db = NULL;
    if (seam_sync_open(dm, &db) || seam_sync_put_many(db, SEAM_SYNC_APPS, recs, n))
        die(dm, "cannot fill");
    seam_sync_close(db);
    double first_s = 0, two_s = 0;
    seam_terminal_sync_outcome first = sync_once(port, dm, &first_s);

    /* the terminal bumps the even records' versions; the operator's side the odd sizes */
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    seam_store *st = NULL;
    if (seam_store_master_key_load(key_file, key) || seam_store_open(store_url, key, &st))
        die(store_url, "cannot open the store");
    seam_store_change *changes = calloc(n / 2, sizeof *changes);
    char(*texts)[SEAM_SYNC_TEXT_MAX + 1] = calloc(n / 2, sizeof *texts);
    seam_sync_record *mine = calloc(n / 2, sizeof *mine);
    for (size_t i = 0; i < n / 2; i++) {
        mine[i] = recs[2 * i];
        snprintf(mine[i].version, sizeof mine[i].version, "1.1");
        seam_sync_record theirs = recs[2 * i + 1];
        theirs.size += 1000;
        size_t len = 0;
        seam_sync_record_format(SEAM_SYNC_APPS, &theirs, texts[i], sizeof texts[i], &len);
        changes[i] = (seam_store_change){.uri = SEAM_SYNC_APPS,
                                         .key = recs[2 * i + 1].key,
                                         .content = texts[i],
                                         .content_len = len};
    }
    if (seam_store_device_apply(st, "356938035643809", "operator", changes, n / 2, NULL))
        die("store", "cannot change the copy");
    if (seam_sync_open(dm, &db) || seam_sync_put_many(db, SEAM_SYNC_APPS, mine, n / 2))
        die(dm, "cannot change");
    seam_sync_close(db);
    seam_terminal_sync_outcome two = sync_once(port, dm, &two_s);
    uint64_t mine_h = 0;
    seam_sync_open(dm, &db);
    seam_sync_records_fingerprint(db, SEAM_SYNC_APPS, &mine_h);
    seam_sync_close(db);
    if (mine_h != server_digest(st))
        die("two-way", "the terminal and the server's copy differ");
    seam_store_close(st);

    size_t changed = two.counts.sent + two.counts.received;
    double body = (double)(two.bytes_sent + two.bytes_received);
    double wire = (double)(two.wire_sent + two.wire_received);
    printf("%s: first sync (slow, %u new records): %.3f s, bodies %llu B, with headers %llu B\n",
           name, first.counts.sent, first_s,
           (unsigned long long)(first.bytes_sent + first.bytes_received),
           (unsigned long long)(first.wire_sent + first.wire_received));
    printf("%s: two-way, %zu changed records (%u up, %u down): %.3f s, bodies %.0f B, with "
           "headers %.0f B\n",
           name, changed, two.counts.sent, two.counts.received, two_s, body, wire);
    printf("ROW\tsync over HTTP, %s: two-way, %zu changed records\t%.3f s\t< 2 s\tin process: "
           "%.3f s\t%.2fx\n",
           name, changed, two_s, ref_seconds, two_s / ref_seconds);
    printf("ROW\tsync over HTTP, %s: body bytes per changed record\t%.2f B\t-\tin process: %.1f "
           "B\t%.2fx\n",
           name, body / (double)changed, ref_bytes, body / (double)changed / ref_bytes);
    printf("ROW\tsync over HTTP, %s: bytes with HTTP headers per changed record\t%.2f B\t-\tin "
           "process: %.1f B\t%.2fx\n",
           name, wire / (double)changed, ref_bytes, wire / (double)changed / ref_bytes);
    free(recs);
    free(changes);
    free(texts);
    free(mine);
    curl_global_cleanup();
    return 0;
}
