/*
 * Shared by the native sync benches (sync_bench.c, sync_omads_bench.c,
 * sync_http_bench.c; not the wasm benches of bench.h): the workload's records,
 * the clock, opening a database file, and one compact changeset sync in
 * process, so that every bench measures the same workload the same way.
 */
#ifndef SEAM_BENCH_SYNC_HOST_H
#define SEAM_BENCH_SYNC_HOST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam/sync.h"

#define SYNC_BENCH_DEVICE "imei-356938035643809" /* the terminal's device id */
#define SYNC_BENCH_SERVER "operator"             /* the in-process server's id */

/* Seconds on the monotonic clock. */
static inline double sync_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record i of the workload: an ./apps terminal app, version 1.0. */
static inline seam_sync_record sync_bench_app(size_t i) {
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "com.example.app%05zu", i);
    snprintf(r.value, sizeof r.value, "App %zu", i);
    snprintf(r.version, sizeof r.version, "1.0");
    r.size = 20000 + i;
    return r;
}

/* Opens dir/name; on a failure prints "who: path: error" and exits 1. */
static inline seam_sync_db *sync_bench_open(const char *who, const char *dir, const char *name) {
    char path[192];
    seam_sync_db *db;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    seam_err err = seam_sync_open(path, &db);
    if (err) {
        fprintf(stderr, "%s: %s: %s\n", who, path, seam_err_str(err));
        exit(1);
    }
    return db;
}

/* One sync of ./apps. */
typedef struct {
    size_t wire;    /* bytes of every protocol message, both ways */
    double seconds; /* from the client's start to its commit */
    seam_sync_result result;
} sync_bench_run;

/* One sync of ./apps of type between client and server in process (no transport); on a failure
 * prints "who: sync: error" and exits 1. */
static inline sync_bench_run sync_bench_changeset(const char *who, seam_sync_db *client,
                                                  seam_sync_db *server, seam_sync_type type) {
    sync_bench_run r = {0};
    seam_sync_client *c;
    uint8_t *msg, *reply;
    size_t msg_len, reply_len;
    double t0 = sync_bench_now();
    seam_err err = seam_sync_client_start(client, SYNC_BENCH_DEVICE, SYNC_BENCH_SERVER,
                                          SEAM_SYNC_APPS, type, &c, &msg, &msg_len);
    while (!err && msg) {
        r.wire += msg_len;
        err = seam_sync_serve(server, SYNC_BENCH_SERVER, SYNC_BENCH_DEVICE, msg, msg_len, &reply,
                              &reply_len, NULL);
        free(msg);
        msg = NULL;
        if (!err) {
            r.wire += reply_len;
            err = seam_sync_client_receive(c, reply, reply_len, &msg, &msg_len);
            free(reply);
        }
    }
    r.seconds = sync_bench_now() - t0;
    if (err) {
        fprintf(stderr, "%s: sync: %s\n", who, seam_err_str(err));
        exit(1);
    }
    seam_sync_client_result(c, &r.result);
    seam_sync_client_free(c);
    return r;
}

#endif
