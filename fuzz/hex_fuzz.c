/*
 * libFuzzer target for the hex codec: decodes the input as text (sizing
 * first, then into an exact buffer), re-encodes and compares with the input's
 * digits; and encodes the input as bytes and decodes it back.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "hex_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Decodes text[0..len), known to decode to `need` bytes, and checks the result. */
static void check_decoded(const char *text, size_t len, size_t need) {
    uint8_t *bytes = malloc(need);
    CHECK(bytes != NULL || need == 0);
    size_t got = 0;
    CHECK(seam_hex_decode(text, len, bytes, need, &got) == SEAM_OK);
    CHECK(got == need);
    /* Re-encoded, it is the input's digits in upper case. */
    char *again = malloc(2 * need + 1);
    CHECK(again != NULL);
    size_t again_len = 0;
    CHECK(seam_hex_encode(bytes, need, again, 2 * need + 1, &again_len) == SEAM_OK);
    CHECK(again_len == 2 * need && again[again_len] == '\0');
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (isxdigit((unsigned char)text[i])) {
            CHECK(j < again_len && again[j] == toupper((unsigned char)text[i]));
            j++;
        }
    }
    CHECK(j == again_len);
    free(again);
    free(bytes);
}

static void check_decode(const char *text, size_t len) {
    size_t need = 0;
    seam_err err = seam_hex_decode(text, len, NULL, 0, &need);
    CHECK(err == SEAM_OK || err == SEAM_ERR_BUFFER_SMALL || err == SEAM_ERR_MALFORMED);
    if (err == SEAM_OK)
        check_decoded(text, len, 0);
    else if (err == SEAM_ERR_BUFFER_SMALL)
        check_decoded(text, len, need);
}

static void check_encode(const uint8_t *bytes, size_t len) {
    size_t need = 0;
    CHECK(seam_hex_encode(bytes, len, NULL, 0, &need) == SEAM_ERR_BUFFER_SMALL);
    CHECK(need == 2 * len + 1);
    char *text = malloc(need);
    CHECK(text != NULL);
    size_t text_len = 0;
    CHECK(seam_hex_encode(bytes, len, text, need, &text_len) == SEAM_OK);
    uint8_t *back = malloc(len ? len : 1);
    CHECK(back != NULL);
    size_t back_len = 0;
    CHECK(seam_hex_decode(text, text_len, back, len, &back_len) == SEAM_OK);
    CHECK(back_len == len && (len == 0 || memcmp(back, bytes, len) == 0));
    free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_decode((const char *)data, size);
    check_encode(data, size);
    return 0;
}
