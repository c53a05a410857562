/*
 * libFuzzer target for perso's record codec (src/perso/record.c): the card's export
 * `A2 { 4F, C0, E2*, E1* }` as the terminal and the flash card decode it, then the
 * DGI 7F71 and re-encoding made from what was decoded. Every pointer decoded must lie
 * inside the input; a record that decodes must encode and decode again to the same
 * fields; a refused input leaves the output untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/perso.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "perso_record_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n) {
    return n == 0 || (p >= data && n <= size && (size_t)(p - data) <= size - n);
}

static bool same(const seam_perso_record *a, const seam_perso_record *b) {
    if (a->instance.len != b->instance.len ||
        memcmp(a->instance.bytes, b->instance.bytes, a->instance.len) || a->version != b->version ||
        a->block_count != b->block_count || a->entry_count != b->entry_count)
        return false;
    for (size_t i = 0; i < a->block_count; i++)
        if (a->blocks[i].p1 != b->blocks[i].p1 || a->blocks[i].len != b->blocks[i].len ||
            (a->blocks[i].len && memcmp(a->blocks[i].data, b->blocks[i].data, a->blocks[i].len)))
            return false;
    for (size_t i = 0; i < a->entry_count; i++)
        if (a->entries[i].name_len != b->entries[i].name_len ||
            a->entries[i].value_len != b->entries[i].value_len ||
            memcmp(a->entries[i].name, b->entries[i].name, a->entries[i].name_len) ||
            (a->entries[i].value_len &&
             memcmp(a->entries[i].value, b->entries[i].value, a->entries[i].value_len)))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static seam_perso_record r, again;
    static uint8_t out[SEAM_PERSO_RECORD_MAX * 2], dgi[SEAM_PERSO_RECORD_MAX * 2];
    size_t n = 0, m = 0;
    memset(&r, 0xA5, sizeof r);
    seam_err e = seam_perso_record_decode(data, size, &r);
    if (e) {
        CHECK(e == SEAM_ERR_MALFORMED || e == SEAM_ERR_TRUNCATED);
        CHECK(r.block_count == (size_t)0xA5A5A5A5A5A5A5A5u);
        return 0;
    }
    CHECK(r.block_count <= SEAM_PERSO_BLOCKS_MAX && r.entry_count <= SEAM_PERSO_ENTRIES_MAX);
    for (size_t i = 0; i < r.block_count; i++)
        CHECK(r.blocks[i].len <= 255 && inside(data, size, r.blocks[i].data, r.blocks[i].len));
    for (size_t i = 0; i < r.entry_count; i++) {
        CHECK(r.entries[i].name_len >= 1 && r.entries[i].name_len <= 16);
        CHECK(r.entries[i].value_len <= 2048);
        CHECK(inside(data, size, r.entries[i].name, r.entries[i].name_len));
        CHECK(inside(data, size, r.entries[i].value, r.entries[i].value_len));
    }
    CHECK(seam_perso_record_encode(&r, out, sizeof out, &n) == SEAM_OK);
    CHECK(n <= size); /* the shortest lengths: never longer than what was read */
    CHECK(seam_perso_record_decode(out, n, &again) == SEAM_OK);
    CHECK(same(&r, &again));
    e = seam_perso_entries_dgi(&r, dgi, sizeof dgi, &m);
    CHECK(e == SEAM_OK || e == SEAM_ERR_ARG); /* ARG: entries over a DGI's 65535 bytes */
    CHECK(e || (m == 0) == (r.entry_count == 0));
    return 0;
}
