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
    err = seam_sync_serve(server, "operator", NULL, data, size, &reply, &reply_len, NULL);
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

static void check_text(const uint8_t *data, size_t size) {
    const char *uris[] = {SEAM_SYNC_DEVINFO, SEAM_SYNC_APPS};
    for (int i = 0; i < 2; i++) {
        seam_sync_record rec, back;
        char text[SEAM_SYNC_TEXT_MAX + 1];
        size_t n = 0;
        memset(&rec, 0, sizeof rec);
        strcpy(rec.key, "k");
        seam_err err = seam_sync_record_parse(uris[i], (const char *)data, size, &rec);
        CHECK(err == SEAM_OK || err == SEAM_ERR_SYNC_FIELD);
        if (err)
            continue;
        CHECK(seam_sync_record_check(uris[i], &rec) == SEAM_OK);
        err = seam_sync_record_format(uris[i], &rec, text, sizeof text, &n);
        CHECK(err == SEAM_OK || err == SEAM_ERR_SYNC_FIELD); /* the lines may outgrow the limit */
        if (err)
            continue;
        back = rec;
        CHECK(seam_sync_record_parse(uris[i], text, n, &back) == SEAM_OK);
        CHECK(strcmp(back.value, rec.value) == 0 && strcmp(back.version, rec.version) == 0 &&
              back.kind == rec.kind && back.size == rec.size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    check_one(copy, size);
    check_text(copy, size);
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
