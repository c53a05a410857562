/*
 * libFuzzer target for the gp layer's remote script codec (the expanded
 * remote command format, seam_gp_rscript_*): the input, copied to a buffer of
 * its exact size so that any read past it is caught, is opened as a command
 * script and as a response script. Checks what the reader promises: open
 * leaves the reader untouched on error; every item handed out lies inside the
 * input, in order; the walk ends with SEAM_ERR_NOT_FOUND (an opened script is
 * well formed); and writing the items again and reading them back gives the
 * same items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/gp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gp_rscript_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void walk(uint8_t tmpl, uint8_t tag, const uint8_t *in, size_t size) {
    seam_gp_rscript_reader r, r0;
    memset(&r, 0xA5, sizeof r);
    memcpy(&r0, &r, sizeof r);
    seam_err err = seam_gp_rscript_open(&r, tmpl, in, size);
    if (err != SEAM_OK) {
        CHECK(err == SEAM_ERR_MALFORMED || err == SEAM_ERR_TRUNCATED);
        CHECK(!memcmp(&r, &r0, sizeof r));
        return;
    }
    /* write the items again, indefinite form, and compare */
    size_t cap = size + 8, len = 0;
    uint8_t *copy = malloc(cap);
    if (!copy)
        return;
    CHECK(seam_gp_rscript_begin(tmpl, copy, cap, &len) == SEAM_OK);
    const uint8_t *item, *last_end = in;
    size_t item_len, count = 0;
    while ((err = seam_gp_rscript_next(&r, &item, &item_len)) == SEAM_OK) {
        CHECK(item >= last_end && item + item_len <= in + size);
        last_end = item + item_len;
        CHECK(seam_gp_rscript_add(tag, item, item_len, copy, cap, &len) == SEAM_OK);
        count++;
    }
    CHECK(err == SEAM_ERR_NOT_FOUND);
    CHECK(seam_gp_rscript_next(&r, &item, &item_len) == SEAM_ERR_NOT_FOUND);
    CHECK(seam_gp_rscript_end(copy, cap, &len) == SEAM_OK);
    CHECK(seam_gp_rscript_open(&r, tmpl, copy, len) == SEAM_OK);
    seam_gp_rscript_reader orig;
    CHECK(seam_gp_rscript_open(&orig, tmpl, in, size) == SEAM_OK);
    for (size_t n = 0; n < count; n++) {
        const uint8_t *a, *b;
        size_t alen, blen;
        CHECK(seam_gp_rscript_next(&r, &a, &alen) == SEAM_OK);
        CHECK(seam_gp_rscript_next(&orig, &b, &blen) == SEAM_OK);
        CHECK(alen == blen && !memcmp(a, b, alen));
    }
    CHECK(seam_gp_rscript_next(&r, &item, &item_len) == SEAM_ERR_NOT_FOUND);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    walk(SEAM_GP_RSCRIPT_COMMANDS, SEAM_GP_RSCRIPT_CAPDU, in, size);
    walk(SEAM_GP_RSCRIPT_RESPONSES, SEAM_GP_RSCRIPT_RAPDU, in, size);
    free(in);
    return 0;
}
