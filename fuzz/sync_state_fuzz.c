/*
 * libFuzzer target for the sync state import (seam_sync_state_import,
 * src/sync/state.c; docs/sync.md "Over HTTP"): the bytes a server keeps per
 * device and loads for every message. An input is imported into a database
 * holding a record and a state already: refused, the database is exactly as
 * before; accepted, its export imports again to the same export (round trip).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/sync.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "sync_state_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static seam_sync_db *db;

/* Imports data as the state of (peer "device", uri) and checks what follows. */
static void check_one(const char *uri, const uint8_t *data, size_t size) {
    uint64_t before = 0, after = 0;
    CHECK(seam_sync_fingerprint(db, &before) == SEAM_OK);
    seam_err err = seam_sync_state_import(db, "device", uri, data, size);
    CHECK(seam_sync_fingerprint(db, &after) == SEAM_OK);
    if (err) {
        CHECK(err == SEAM_ERR_SYNC_FRAME || err == SEAM_ERR_SYNC_FIELD);
        CHECK(before == after);
        return;
    }
    uint8_t *one = NULL, *two = NULL;
    size_t one_len = 0, two_len = 0;
    CHECK(seam_sync_state_export(db, "device", uri, &one, &one_len) == SEAM_OK);
    CHECK(seam_sync_state_import(db, "device", uri, one, one_len) == SEAM_OK);
    CHECK(seam_sync_state_export(db, "device", uri, &two, &two_len) == SEAM_OK);
    CHECK(one_len == two_len && memcmp(one, two, one_len) == 0);
    free(one);
    free(two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!db) {
        seam_sync_record r = {.key = "ringtone", .value = "classic"};
        CHECK(seam_sync_open(":memory:", &db) == SEAM_OK);
        CHECK(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r) == SEAM_OK);
    }
    check_one(SEAM_SYNC_DEVINFO, data, size);
    check_one(SEAM_SYNC_APPS, data, size);
    return 0;
}
