/*
 * libFuzzer target for the COMPREHENSION-TLV codec: walks the input as a
 * sequence of objects, checks each parsed object's invariants, re-encodes it
 * and parses the encoding back, and checks that find agrees with the walk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"

#define MAX_FIND_CHECKS 32

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "ctlv_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Re-encodes obj, parses the encoding and checks that both agree. */
static void check_round_trip(const seam_ctlv *obj, const uint8_t *start, size_t encoded_len) {
    uint8_t out[SEAM_CTLV_MAX_HEADER + SEAM_CTLV_MAX_LENGTH];
    size_t len = 0;
    CHECK(seam_ctlv_put(obj->tag, obj->cr, obj->value, obj->len, out, sizeof out, &len) == SEAM_OK);
    size_t small = 0;
    CHECK(seam_ctlv_put(obj->tag, obj->cr, obj->value, obj->len, out, len - 1, &small) ==
          SEAM_ERR_BUFFER_SMALL);
    CHECK(small == 0);
    seam_ctlv back;
    size_t pos = 0;
    CHECK(seam_ctlv_next(out, len, &pos, &back) == SEAM_OK);
    CHECK(pos == len);
    CHECK(back.tag == obj->tag && back.cr == obj->cr && back.len == obj->len);
    CHECK(obj->len == 0 || memcmp(back.value, obj->value, obj->len) == 0);
    /* Only a 3-byte tag carrying a 1-byte value encodes longer than we write. */
    CHECK(len <= encoded_len);
    if (len == encoded_len)
        CHECK(memcmp(out, start, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t pos = 0;
    size_t seen = 0;
    while (pos < size) {
        seam_ctlv obj;
        size_t before = pos;
        seam_err err = seam_ctlv_next(data, size, &pos, &obj);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_TRUNCATED || err == SEAM_ERR_MALFORMED);
            CHECK(pos == before); /* a failed step does not advance */
            break;
        }
        CHECK(pos > before && pos <= size);
        CHECK(obj.tag >= 1 && obj.tag <= SEAM_CTLV_MAX_TAG);
        CHECK(obj.len <= SEAM_CTLV_MAX_LENGTH);
        CHECK(obj.value + obj.len == data + pos);
        CHECK(obj.value >= data + before + 2);
        check_round_trip(&obj, data + before, pos - before);
        if (seen++ < MAX_FIND_CHECKS) {
            seam_ctlv found;
            CHECK(seam_ctlv_find(data, size, obj.tag, &found) == SEAM_OK);
            CHECK(found.tag == obj.tag && found.value <= obj.value);
        }
    }
    return 0;
}
