/*
 * libFuzzer target for the SyncML XML decoder: decodes the input; when it
 * decodes, encodes the message again in XML, decodes that and checks the
 * second encoding is the same bytes (the codec is stable on its own output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/syncml.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "syncml_xml_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_syncml_msg msg;
    if (seam_syncml_decode(data, size, SEAM_SYNCML_XML, &msg) != SEAM_OK)
        return 0;
    uint8_t *once = NULL;
    size_t once_len = 0;
    if (seam_syncml_encode(&msg, SEAM_SYNCML_XML, 0, &once, &once_len) == SEAM_OK) {
        seam_syncml_msg back;
        seam_err err = seam_syncml_decode(once, once_len, SEAM_SYNCML_XML, &back);
        CHECK(err == SEAM_OK);
        uint8_t *twice = NULL;
        size_t twice_len = 0;
        CHECK(seam_syncml_encode(&back, SEAM_SYNCML_XML, 0, &twice, &twice_len) == SEAM_OK);
        CHECK(twice_len == once_len && memcmp(once, twice, once_len) == 0);
        seam_syncml_bytes_free(twice);
        seam_syncml_msg_free(&back);
        seam_syncml_bytes_free(once);
    }
    seam_syncml_msg_free(&msg);
    return 0;
}
