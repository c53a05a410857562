/*
 * Test helper for the crypto tests: hex strings to bytes. Spaces in the
 * string are skipped so vectors can be grouped the way specifications print
 * them. A malformed string fails the running test.
 */
#ifndef SEAM_TESTS_CRYPTO_HEX_H
#define SEAM_TESTS_CRYPTO_HEX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

static inline int hex_nibble(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out (cap bytes) and returns the number of bytes. */
static inline size_t hex(const char *text, uint8_t *out, size_t cap) {
    size_t n = 0;
    int high = -1;

    for (; *text != '\0'; text++) {
        int v;
        if (*text == ' ')
            continue;
        v = hex_nibble(*text);
        assert_true(v >= 0);
        if (high < 0) {
            high = v;
            continue;
        }
        assert_true(n < cap);
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    assert_true(high < 0);
    return n;
}

/* Decodes hex into a heap buffer of exactly the decoded size (at least 1
 * byte, so AddressSanitizer sees any overread); the caller frees it. */
static inline uint8_t *hex_alloc(const char *text, size_t *len) {
    size_t cap = strlen(text) / 2 + 1;
    uint8_t *scratch = malloc(cap), *exact;

    assert_non_null(scratch);
    *len = hex(text, scratch, cap);
    exact = malloc(*len > 0 ? *len : 1);
    assert_non_null(exact);
    memcpy(exact, scratch, *len);
    free(scratch);
    return exact;
}

#endif
