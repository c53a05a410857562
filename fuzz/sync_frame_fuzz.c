/*
 * libFuzzer target for the compact changeset protocol's message decoder and
 * the server engine behind it (include/seam/sync.h): decodes the input as it
 * is, and again with its CRC made right (so that mutations reach the header
 * fields and the SQLite patchset walk); a decoded message re-encodes to the
 * same bytes; a client message is served on an in-memory database, and when
 * serving fails the database is exactly as before (nothing half-applied).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/sync.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "sync_frame_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

static bool known_error(seam_err err) {
    return err == SEAM_ERR_SYNC_FRAME || err == SEAM_ERR_SYNC_VERSION ||
           err == SEAM_ERR_SYNC_CHANGESET || err == SEAM_ERR_SYNC_URI ||
           err == SEAM_ERR_SYNC_OVERSIZE || err == SEAM_ERR_SYNC_MISMATCH ||
           err == SEAM_ERR_SYNC_FULL;
}

static seam_sync_db *server;
static unsigned served;

static void check_one(const uint8_t *data, size_t size) {
    seam_sync_frame f;
    seam_err err = seam_sync_frame_decode(data, size, &f);
    CHECK(err == SEAM_OK || known_error(err));
    if (err)
        return;
    CHECK(f.payload + f.payload_len <= data + size);
    size_t need = 0;
    CHECK(seam_sync_frame_encode(&f, NULL, 0, &need) == SEAM_ERR_BUFFER_SMALL);
    CHECK(need == size);
    uint8_t *out = malloc(need);
    CHECK(out && seam_sync_frame_encode(&f, out, need, &need) == SEAM_OK);
    CHECK(memcmp(out, data, size) == 0);
    free(out);
    if (f.direction != 1)
        return;
    if (!server || ++served % 512 == 0) {
        seam_sync_close(server);
        CHECK(seam_sync_open(":memory:", &server) == SEAM_OK);
    }
    uint64_t before = 0, after = 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    CHECK(seam_sync_fingerprint(server, &before) == SEAM_OK);
    err = seam_sync_serve(server, "operator", data, size, &reply, &reply_len, NULL);
    CHECK(err == SEAM_OK || known_error(err));
    if (err) {
        CHECK(reply == NULL);
        CHECK(seam_sync_fingerprint(server, &after) == SEAM_OK);
        CHECK(after == before);
    } else {
        seam_sync_frame r;
        CHECK(seam_sync_frame_decode(reply, reply_len, &r) == SEAM_OK && r.direction == 2);
    }
    free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    check_one(copy, size);
    if (size >= 8) {
        uint32_t crc = crc32(copy, size - 4);
        copy[size - 4] = (uint8_t)(crc >> 24);
        copy[size - 3] = (uint8_t)(crc >> 16);
        copy[size - 2] = (uint8_t)(crc >> 8);
        copy[size - 1] = (uint8_t)crc;
        check_one(copy, size);
    }
    free(copy);
    return 0;
}
