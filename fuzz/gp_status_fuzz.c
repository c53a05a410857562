/*
 * libFuzzer target for the gp layer's response decoders: GET STATUS's E3
 * templates (seam_gp_status_iter) and MANAGE ELF UPGRADE's A1 template
 * (seam_gp_upgrade_decode), on an input copied to a buffer of its exact size
 * so that any read past it is caught. Checks what each decoder promises: an
 * entry's lengths within their bounds, an iterator that advances on success
 * and stays put on error, outputs untouched on error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/gp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gp_status_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    seam_gp_status_iter it;
    seam_gp_status_entry e, untouched;
    seam_gp_upgrade_status u, u0;
    seam_err err;
    if (!in)
        return 0;
    memcpy(in, data, size);
    seam_gp_status_iter_init(&it, in, size);
    for (int n = 0; n < 4096; n++) {
        size_t before = it.remaining;
        memset(&e, 0xA5, sizeof e);
        memcpy(&untouched, &e, sizeof e);
        err = seam_gp_status_iter_next(&it, &e);
        if (err != SEAM_OK) {
            CHECK(err == SEAM_ERR_NOT_FOUND || err == SEAM_ERR_MALFORMED);
            CHECK(it.remaining == before);
            CHECK(!memcmp(&e, &untouched, sizeof e));
            break;
        }
        CHECK(it.remaining < before);
        CHECK(e.aid.len >= SEAM_GP_AID_MIN && e.aid.len <= SEAM_GP_AID_MAX);
        CHECK(e.elf.len <= SEAM_GP_AID_MAX && e.sd.len <= SEAM_GP_AID_MAX);
        CHECK(e.privileges_len == 0 || e.privileges_len == 1 || e.privileges_len == 3);
        CHECK(e.module_count <= SEAM_GP_MODULES_MAX);
        for (size_t m = 0; m < e.module_count; m++)
            CHECK(e.modules[m].len >= SEAM_GP_AID_MIN && e.modules[m].len <= SEAM_GP_AID_MAX);
    }
    memset(&u, 0x5A, sizeof u);
    memcpy(&u0, &u, sizeof u);
    err = seam_gp_upgrade_decode(in, size, &u);
    if (err == SEAM_OK)
        CHECK(u.package.len >= SEAM_GP_AID_MIN && u.package.len <= SEAM_GP_AID_MAX);
    else
        CHECK(err == SEAM_ERR_MALFORMED && !memcmp(&u, &u0, sizeof u));
    free(in);
    return 0;
}
