/*
 * libFuzzer target for the DGI reader of STORE DATA (seam_gp_dgi_next), on an
 * input copied to a buffer of its exact size: walking the input, each DGI's
 * value lies inside it and the position only moves forward; an error leaves
 * every output as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/gp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gp_dgi_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    size_t pos = 0;
    if (!in)
        return 0;
    memcpy(in, data, size);
    for (;;) {
        uint16_t tag = 0x1234;
        const uint8_t *value = NULL;
        size_t len = 77, before = pos;
        seam_err err = seam_gp_dgi_next(in, size, &pos, &tag, &value, &len);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_NOT_FOUND || err == SEAM_ERR_TRUNCATED);
            CHECK(pos == before && tag == 0x1234 && value == NULL && len == 77);
            CHECK(err != SEAM_ERR_NOT_FOUND || pos == size);
            break;
        }
        CHECK(pos > before && pos <= size);
        CHECK(value >= in + before + 3 && value + len == in + pos);
    }
    free(in);
    return 0;
}
