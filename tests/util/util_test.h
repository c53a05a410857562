/*
 * Helpers for the util tests: inputs live in heap blocks of exactly their
 * size, so AddressSanitizer reports any read past the end.
 */
#ifndef SEAM_TESTS_UTIL_TEST_H
#define SEAM_TESTS_UTIL_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Returns a malloc'd copy of bytes[0..len) in a block of exactly len bytes; caller frees. */
static inline uint8_t *exact_copy(const void *bytes, size_t len) {
    uint8_t *copy = malloc(len);
    if (!copy && len)
        abort();
    if (len)
        memcpy(copy, bytes, len);
    return copy;
}

static inline int test_hex_value(char c) {
    int value = -1;
    if (c >= '0' && c <= '9')
        value = c - '0';
    else if (c >= 'a' && c <= 'f')
        value = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        value = c - 'A' + 10;
    return value;
}

/*
 * Decodes a test vector written in hex (spaces ignored) into a malloc'd block
 * of exactly the decoded size; *len gets that size; caller frees. Independent
 * of the hex codec under test. Aborts on a bad vector.
 */
static inline uint8_t *from_hex(const char *hex, size_t *len) {
    size_t digits = 0;
    for (const char *p = hex; *p; p++)
        digits += *p != ' ';
    if (digits % 2)
        abort();
    uint8_t *out = malloc(digits / 2);
    if (!out && digits)
        abort();
    size_t n = 0;
    int high = -1;
    for (const char *p = hex; *p; p++) {
        int v = *p == ' ' ? -2 : test_hex_value(*p);
        if (v == -1)
            abort();
        if (v >= 0 && high < 0) {
            high = v;
        } else if (v >= 0) {
            out[n++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    *len = n;
    return out;
}

#endif
