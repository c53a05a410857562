/*
 * libFuzzer target for the flash card's host protocol codec (include/seam/flashcard.h):
 * decodes the input as a stream of frames; each frame's value goes through the
 * decoder of every command and answer (STORE, UPDATE, INSTALL, RESTORE, LIST,
 * STATUS), and each
 * frame is encoded again and must come out byte for byte. The input is copied into
 * a buffer of exactly its size, so ASan catches any read past it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/flashcard.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "flashcard_host_fuzz: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    size_t pos = 0;
    while (pos < size) {
        seam_flashcard_frame f;
        size_t used = 0;
        if (seam_flashcard_frame_decode(in + pos, size - pos, &f, &used) != SEAM_OK)
            break;
        CHECK(used == SEAM_FLASHCARD_HEADER_LEN + f.len && used <= size - pos);
        const uint8_t *cin, *module;
        size_t cin_len, module_len, at = 0;
        seam_gp_aid aid;
        seam_flashcard_package p;
        seam_flashcard_status st;
        if (seam_flashcard_store_decode(f.value, f.len, &cin, &cin_len, &module, &module_len) ==
            SEAM_OK)
            CHECK(cin_len >= 1 && cin_len <= SEAM_FLASHCARD_CIN_MAX && module_len >= 1 &&
                  1 + cin_len + module_len == f.len);
        if (seam_flashcard_aid_decode(f.value, f.len, &aid) == SEAM_OK)
            CHECK(aid.len + 1 == f.len);
        while (seam_flashcard_list_next(f.value, f.len, &at, &p) == SEAM_OK)
            CHECK(at <= f.len);
        seam_perso_data perso[SEAM_FLASHCARD_PERSO_MAX];
        seam_gp_aid inst;
        size_t count = 0;
        if (seam_flashcard_install_decode(f.value, f.len, &aid, perso, &count) == SEAM_OK)
            for (size_t i = 0; i < count; i++)
                CHECK(perso[i].len >= 1 && perso[i].data >= f.value &&
                      perso[i].data + perso[i].len <= f.value + f.len);
        if (seam_flashcard_restore_decode(f.value, f.len, &aid, &inst) == SEAM_OK)
            CHECK(aid.len + inst.len + 2 == f.len);
        if (seam_flashcard_status_decode(f.value, f.len, &st) == SEAM_OK)
            CHECK(st.cin_len >= 1 && st.cin_len <= SEAM_FLASHCARD_CIN_MAX);
        /* encode again: the same bytes */
        uint8_t *out = malloc(used);
        size_t n = 0;
        CHECK(out);
        CHECK(seam_flashcard_frame_encode(f.tag, f.value, f.len, out, used, &n) == SEAM_OK);
        CHECK(n == used && !memcmp(out, in + pos, used));
        free(out);
        pos += used;
    }
    free(in);
    return 0;
}
