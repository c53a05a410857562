/*
 * libFuzzer target for the restore module's codec (src/card/store/restore_records.c): the
 * personalization blocks of DGI 7F70 and of a package's seam.perso section,
 * and the application data entries of DGI 7F71. Each validator must agree
 * with a walk that checks every element on its own, and no element may
 * point outside the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "card/store/restore_records.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "restore_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n) {
    return p >= data && n <= size && (size_t)(p - data) <= size - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_tlv_iter it;
    seam_tlv tlv, name, value;
    bool blocks = true, entries = true;
    seam_tlv_iter_init(&it, data, size);
    while (!seam_tlv_iter_done(&it) && (blocks || entries)) {
        if (seam_tlv_iter_next(&it, &tlv) != SEAM_OK) {
            blocks = entries = false;
            break;
        }
        CHECK(inside(data, size, tlv.value, tlv.length));
        blocks &=
            tlv.tag == RESTORE_TAG_BLOCK && tlv.length >= 1 && tlv.length <= 1 + RESTORE_BLOCK_MAX;
        if (restore_entry_split(&tlv, &name, &value)) {
            CHECK(inside(tlv.value, tlv.length, name.value, name.length));
            CHECK(inside(tlv.value, tlv.length, value.value, value.length));
            CHECK(name.length >= 1 && name.length <= SEAM_RESTORE_NAME_MAX);
        } else {
            entries = false;
        }
    }
    CHECK(restore_blocks_valid(data, size) == blocks);
    CHECK(restore_entries_valid(data, size) == entries);
    return 0;
}
