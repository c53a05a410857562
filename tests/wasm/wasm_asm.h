/*
 * Hand assembly of WebAssembly binaries for tests: a growable byte buffer,
 * LEB128, names and sections, so that a test spells out exactly the bytes a
 * module has (names with NUL bytes, counts no text-format tool would write).
 * Also host_allocated_bytes(), the host heap in use, for allocation bounds.
 */
#ifndef SEAM_TESTS_WASM_ASM_H
#define SEAM_TESTS_WASM_ASM_H

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SANITIZE_ADDRESS__
/* From the sanitizer runtime (its header is not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes being assembled; free bytes when done. */
typedef struct {
    uint8_t *bytes;
    size_t len, cap;
} wasm_asm;

static inline void asm_bytes(wasm_asm *a, const void *data, size_t n) {
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->len + n)
            cap *= 2;
        a->bytes = realloc(a->bytes, cap);
        if (!a->bytes)
            abort();
        a->cap = cap;
    }
    if (n)
        memcpy(a->bytes + a->len, data, n);
    a->len += n;
}

static inline void asm_byte(wasm_asm *a, uint8_t b) {
    asm_bytes(a, &b, 1);
}

/* Unsigned LEB128. */
static inline void asm_u32(wasm_asm *a, uint32_t v) {
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        asm_byte(a, (uint8_t)(v ? b | 0x80 : b));
    } while (v);
}

/* Signed LEB128 (i32.const immediates). */
static inline void asm_s32(wasm_asm *a, int32_t v) {
    for (;;) {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7; /* arithmetic: the sign is kept */
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            asm_byte(a, b);
            return;
        }
        asm_byte(a, b | 0x80);
    }
}

/* A name: its length, then its bytes (which may contain NUL). */
static inline void asm_name(wasm_asm *a, const char *name, size_t len) {
    asm_u32(a, (uint32_t)len);
    asm_bytes(a, name, len);
}

/* The magic number and version. */
static inline void asm_header(wasm_asm *a) {
    asm_bytes(a, "\0asm\1\0\0\0", 8);
}

/* Appends section id with content as its body, then frees content. */
static inline void asm_section(wasm_asm *a, uint8_t id, wasm_asm *content) {
    asm_byte(a, id);
    asm_u32(a, (uint32_t)content->len);
    asm_bytes(a, content->bytes, content->len);
    free(content->bytes);
    *content = (wasm_asm){0};
}

/* Host heap bytes in use (the sanitizer's count under ASan, glibc's otherwise). */
static inline size_t host_allocated_bytes(void) {
#ifdef __SANITIZE_ADDRESS__
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#endif
}

#endif
