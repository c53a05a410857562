/*
 * libFuzzer target for the BER-TLV codec: walks the input as a tree of TLVs
 * (depth-bounded), checks each parsed TLV's invariants, re-encodes it and
 * parses the encoding back, and checks that find agrees with iteration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"

#define MAX_DEPTH       16
#define MAX_FIND_CHECKS 32

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "tlv_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Re-encodes tlv, parses the encoding and checks that both agree. */
static void check_round_trip(const seam_tlv *tlv) {
    size_t need = 0;
    size_t header = seam_tlv_header_size(tlv->tag, tlv->length);
    CHECK(header > 0 && header <= tlv->header_len);
    CHECK(seam_tlv_encode(tlv->tag, tlv->value, tlv->length, NULL, 0, &need) ==
          SEAM_ERR_BUFFER_SMALL);
    CHECK(need == header + tlv->length);
    uint8_t *out = malloc(need);
    CHECK(out != NULL);
    size_t written = 0;
    CHECK(seam_tlv_encode(tlv->tag, tlv->value, tlv->length, out, need - 1, &written) ==
          SEAM_ERR_BUFFER_SMALL);
    CHECK(written == need);
    CHECK(seam_tlv_encode(tlv->tag, tlv->value, tlv->length, out, need, &written) == SEAM_OK);
    CHECK(written == need);
    seam_tlv back;
    CHECK(seam_tlv_parse(out, written, &back) == SEAM_OK);
    CHECK(back.tag == tlv->tag && back.tag_len == tlv->tag_len);
    CHECK(back.constructed == tlv->constructed && back.length == tlv->length);
    CHECK(back.header_len == header && back.value == out + header);
    CHECK(tlv->length == 0 || memcmp(back.value, tlv->value, tlv->length) == 0);
    /* A minimally encoded input comes back byte for byte. */
    if (header == tlv->header_len)
        CHECK(memcmp(out, tlv->value - tlv->header_len, need) == 0);
    free(out);
}

static void walk(const uint8_t *in, size_t len, int depth) {
    seam_tlv_iter iter;
    size_t siblings = 0;
    seam_tlv_iter_init(&iter, in, len);
    while (!seam_tlv_iter_done(&iter)) {
        seam_tlv tlv;
        const uint8_t *start = iter.next;
        seam_err err = seam_tlv_iter_next(&iter, &tlv);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_TRUNCATED || err == SEAM_ERR_MALFORMED);
            CHECK(iter.next == start); /* a failed step does not advance */
            break;
        }
        CHECK(seam_tlv_tag_valid(tlv.tag));
        CHECK(tlv.tag_len >= 1 && tlv.tag_len <= 3);
        CHECK(tlv.constructed == seam_tlv_tag_constructed(tlv.tag));
        CHECK(tlv.header_len > tlv.tag_len && tlv.header_len <= SEAM_TLV_MAX_HEADER);
        CHECK(tlv.value == start + tlv.header_len);
        CHECK(tlv.value + tlv.length == iter.next);
        CHECK(iter.next <= in + len);
        check_round_trip(&tlv);
        if (siblings++ < MAX_FIND_CHECKS) {
            seam_tlv found;
            CHECK(seam_tlv_find(in, len, tlv.tag, &found) == SEAM_OK);
            CHECK(found.tag == tlv.tag && found.value <= tlv.value);
        }
        if (tlv.constructed && depth < MAX_DEPTH)
            walk(tlv.value, tlv.length, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_tlv tlv;
    seam_err err = seam_tlv_parse(data, size, &tlv);
    CHECK(err == SEAM_OK || err == SEAM_ERR_TRUNCATED || err == SEAM_ERR_MALFORMED);
    walk(data, size, 0);
    return 0;
}
