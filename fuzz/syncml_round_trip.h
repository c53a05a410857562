/*
 * The body the SyncML codec fuzz targets share (syncml_xml_fuzz.c,
 * syncml_wbxml_fuzz.c): decodes the input in one format; when it decodes,
 * encodes the message again in that format, decodes that and checks the
 * second encoding is the same bytes (the codec is stable on its own output).
 */
#ifndef SEAM_FUZZ_SYNCML_ROUND_TRIP_H
#define SEAM_FUZZ_SYNCML_ROUND_TRIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/syncml.h"

#define ROUND_TRIP_CHECK(cond)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s: check failed: %s (line %d)\n", target, #cond, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Decodes data[0..size) as format, then the encode/decode/encode round trip; aborts naming
   target when the codec is not stable on its own output. */
static int syncml_round_trip(const char *target, seam_syncml_format format, const uint8_t *data,
                             size_t size) {
    seam_syncml_msg msg;
    if (seam_syncml_decode(data, size, format, &msg) != SEAM_OK)
        return 0;
    uint8_t *once = NULL;
    size_t once_len = 0;
    if (seam_syncml_encode(&msg, format, 0, &once, &once_len) == SEAM_OK) {
        seam_syncml_msg back;
        seam_err err = seam_syncml_decode(once, once_len, format, &back);
        ROUND_TRIP_CHECK(err == SEAM_OK);
        uint8_t *twice = NULL;
        size_t twice_len = 0;
        ROUND_TRIP_CHECK(seam_syncml_encode(&back, format, 0, &twice, &twice_len) == SEAM_OK);
        ROUND_TRIP_CHECK(twice_len == once_len && memcmp(once, twice, once_len) == 0);
        seam_syncml_bytes_free(twice);
        seam_syncml_msg_free(&back);
        seam_syncml_bytes_free(once);
    }
    seam_syncml_msg_free(&msg);
    return 0;
}

#endif
