/*
 * Helpers for the sync tests: a scratch folder of database files, records
 * made in one line, and a whole sync run in process between a client's
 * database and a server's, message by message.
 */
#ifndef SEAM_TESTS_SYNC_TEST_H
#define SEAM_TESTS_SYNC_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seam/sync.h"

typedef struct {
    char dir[64];
} sync_scratch;

static inline void scratch_make(sync_scratch *s) {
    strcpy(s->dir, "/tmp/seam-sync-XXXXXX");
    if (!mkdtemp(s->dir))
        abort();
}

/* The path of file name in the scratch folder (static buffer per call site is enough). */
static inline void scratch_path(const sync_scratch *s, const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", s->dir, name);
}

static inline void scratch_remove(sync_scratch *s) {
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        abort();
}

static inline seam_sync_db *open_db(const sync_scratch *s, const char *name) {
    char path[160];
    seam_sync_db *db = NULL;
    scratch_path(s, name, path, sizeof path);
    if (seam_sync_open(path, &db) != SEAM_OK)
        abort();
    return db;
}

static inline seam_sync_record devinfo(const char *key, const char *value) {
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", value);
    return r;
}

static inline seam_sync_record app(const char *key, const char *name, const char *version,
                                   uint64_t size) {
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", name);
    snprintf(r.version, sizeof r.version, "%s", version);
    r.kind = SEAM_SYNC_KIND_TERMINAL;
    r.size = size;
    return r;
}

static inline uint64_t fingerprint(seam_sync_db *db) {
    uint64_t h = 0;
    if (seam_sync_fingerprint(db, &h) != SEAM_OK)
        abort();
    return h;
}

static inline uint64_t records_of(seam_sync_db *db, const char *uri) {
    uint64_t h = 0;
    if (seam_sync_records_fingerprint(db, uri, &h) != SEAM_OK)
        abort();
    return h;
}

#define CLIENT_ID "imei-356938035643809"
#define SERVER_ID "operator"

/* Runs a whole sync of uri between client and server (at most 2 round trips); the result of the
 * client in *out when not NULL. */
static inline seam_err run_sync(seam_sync_db *client, seam_sync_db *server, const char *uri,
                                seam_sync_type type, seam_sync_result *out) {
    seam_sync_client *c = NULL;
    uint8_t *msg = NULL, *reply = NULL;
    size_t msg_len = 0, reply_len = 0;
    seam_err err =
        seam_sync_client_start(client, CLIENT_ID, SERVER_ID, uri, type, &c, &msg, &msg_len);
    for (int round = 0; !err && msg && round < 3; round++) {
        err = seam_sync_serve(server, SERVER_ID, CLIENT_ID, msg, msg_len, &reply, &reply_len, NULL);
        free(msg);
        msg = NULL;
        if (!err)
            err = seam_sync_client_receive(c, reply, reply_len, &msg, &msg_len);
        free(reply);
        reply = NULL;
    }
    if (!err && msg)
        err = SEAM_ERR_SYNC_STATE;
    free(msg);
    if (out)
        seam_sync_client_result(c, out);
    seam_sync_client_free(c);
    return err;
}

#endif
