/*
 * libFuzzer target for the vpcd frame codec: decodes the input as a stream
 * of frames one-shot, feeds the same stream to the incremental decoder in
 * pieces whose sizes come from the input, and checks both agree; every
 * decoded frame is classified and re-encoded byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/link.h"

#define MAX_FRAMES 4096
#define CAPACITY   512 /* small, so oversize frames are exercised too */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "vpcd_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    size_t offset; /* payload offset in the input */
    size_t length;
} frame_ref;

static frame_ref frames[MAX_FRAMES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t encoded[SEAM_VPCD_HEADER_LEN + SEAM_VPCD_MAX_PAYLOAD];
    if (size == 0)
        return 0;
    /* The first byte picks the piece size for the incremental decoder. */
    size_t piece = (size_t)data[0] % 17 + 1;
    data++;
    size--;

    size_t count = 0, offset = 0;
    while (count < MAX_FRAMES) {
        const uint8_t *payload = NULL;
        size_t payload_len = 0, frame_len = 0;
        seam_err err = seam_vpcd_frame_decode(data + offset, size - offset, &payload, &payload_len,
                                              &frame_len);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_TRUNCATED);
            break;
        }
        CHECK(payload == data + offset + 2 && frame_len == payload_len + 2);
        CHECK(offset + frame_len <= size);
        seam_vpcd_request request;
        err = seam_vpcd_classify(payload, payload_len, &request);
        CHECK(payload_len == 0 ? err == SEAM_ERR_MALFORMED : err == SEAM_OK);
        if (payload_len >= 2)
            CHECK(request == SEAM_VPCD_APDU);
        size_t out_len = 0;
        CHECK(seam_vpcd_frame_encode(payload, payload_len, encoded, sizeof encoded, &out_len) ==
              SEAM_OK);
        CHECK(out_len == frame_len && memcmp(encoded, data + offset, frame_len) == 0);
        frames[count].offset = offset + 2;
        frames[count].length = payload_len;
        count++;
        offset += frame_len;
    }

    uint8_t storage[CAPACITY];
    seam_vpcd_decoder dec;
    seam_vpcd_decoder_init(&dec, storage, sizeof storage);
    size_t done = 0, pos = 0;
    while (pos < size && done < count) {
        size_t end = pos + piece < size ? pos + piece : size;
        size_t offered = end - pos, used = 0, payload_len = 0;
        bool complete = false;
        seam_err err =
            seam_vpcd_decoder_feed(&dec, data + pos, offered, &used, &complete, &payload_len);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_LINK_OVERSIZE && frames[done].length > CAPACITY);
            break;
        }
        CHECK(used >= 1 && used <= offered);
        pos += used;
        if (complete) {
            CHECK(payload_len == frames[done].length);
            CHECK(payload_len == 0 ||
                  memcmp(storage, data + frames[done].offset, payload_len) == 0);
            done++;
        } else {
            CHECK(used == offered); /* an incomplete frame takes every byte offered */
        }
    }
    return 0;
}
