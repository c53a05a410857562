/*
 * Byte helpers: constant-time compare, secure zero, big-endian access and the
 * bounded writer (seam_buf).
 */
#include <string.h>

#include "seam/util.h"

bool seam_ct_equal(const void *a, const void *b, size_t len) {
    const volatile uint8_t *left = a;
    const volatile uint8_t *right = b;
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= left[i] ^ right[i];
    return diff == 0;
}

void seam_secure_zero(void *p, size_t len) {
#if defined(__GNUC__) || defined(__clang__)
    if (len > 0) {
        memset(p, 0, len);
        /* The compiler must assume the asm reads *p, so the memset stays. */
        __asm__ __volatile__("" : : "r"(p) : "memory");
    }
#else
    volatile uint8_t *bytes = p;
    for (size_t i = 0; i < len; i++)
        bytes[i] = 0;
#endif
}

uint16_t seam_get_be16(const uint8_t *p) {
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t seam_get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void seam_put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void seam_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void seam_buf_init(seam_buf *buf, uint8_t *storage, size_t capacity) {
    buf->data = storage;
    buf->capacity = storage ? capacity : 0;
    buf->length = 0;
    buf->needed = 0;
    buf->err = SEAM_OK;
}

seam_err seam_buf_put(seam_buf *buf, const void *bytes, size_t len) {
    seam_err err = SEAM_OK;
    buf->needed = len > SIZE_MAX - buf->needed ? SIZE_MAX : buf->needed + len;
    if (buf->err != SEAM_OK) {
        err = buf->err;
    } else if (len > buf->capacity - buf->length) {
        err = buf->err = SEAM_ERR_BUFFER_SMALL;
    } else if (len > 0) {
        memmove(buf->data + buf->length, bytes, len);
        buf->length += len;
    }
    return err;
}

seam_err seam_buf_put_u8(seam_buf *buf, uint8_t v) {
    return seam_buf_put(buf, &v, 1);
}

seam_err seam_buf_put_be16(seam_buf *buf, uint16_t v) {
    uint8_t bytes[2];
    seam_put_be16(bytes, v);
    return seam_buf_put(buf, bytes, sizeof bytes);
}

seam_err seam_buf_put_be32(seam_buf *buf, uint32_t v) {
    uint8_t bytes[4];
    seam_put_be32(bytes, v);
    return seam_buf_put(buf, bytes, sizeof bytes);
}
