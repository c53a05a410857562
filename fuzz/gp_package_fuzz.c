/*
 * libFuzzer target for the host's reading of a "seam.package" section
 * (seam_gp_package_parse), on an input copied to a buffer of its exact size:
 * a parsed package has an AID of 5..16 bytes and 1..16 distinct applets; a
 * refused one leaves the output untouched. Then the same bytes as a whole
 * package file (seam_gp_package_read, through the wasm layer) when they are
 * short enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/gp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gp_package_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    seam_gp_package p, p0;
    char why[128];
    if (!in)
        return 0;
    memcpy(in, data, size);
    memset(&p, 0xC3, sizeof p);
    memcpy(&p0, &p, sizeof p);
    seam_err err = seam_gp_package_parse(in, size, &p);
    if (err == SEAM_OK) {
        CHECK(p.aid.len >= SEAM_GP_AID_MIN && p.aid.len <= SEAM_GP_AID_MAX);
        CHECK(p.applet_count >= 1 && p.applet_count <= SEAM_GP_PACKAGE_APPLETS_MAX);
        for (size_t i = 0; i < p.applet_count; i++)
            for (size_t j = 0; j < i; j++)
                CHECK(p.applets[i].len != p.applets[j].len ||
                      memcmp(p.applets[i].bytes, p.applets[j].bytes, p.applets[i].len));
    } else {
        CHECK(err == SEAM_ERR_MALFORMED && !memcmp(&p, &p0, sizeof p));
    }
    if (size <= 4096) {
        err = seam_gp_package_read(in, size, &p, why, sizeof why);
        CHECK(err == SEAM_OK || err == SEAM_ERR_GP_PACKAGE || err == SEAM_ERR_NOMEM);
    }
    free(in);
    return 0;
}
