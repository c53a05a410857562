/*
 * A bounds-checked cursor over a module's bytes: every read checks what is
 * left first and reports malformed input, never reading past the end.
 */
#ifndef SEAM_WASM_READER_H
#define SEAM_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *bytes;
    size_t pos;
    size_t end;
    const char *error; /* first decoding error, static text */
} reader;

static inline bool rd_fail(reader *r, const char *why) {
    if (!r->error)
        r->error = why;
    r->pos = r->end;
    return false;
}

static inline bool rd_u8(reader *r, uint8_t *out) {
    if (r->error || r->pos >= r->end)
        return rd_fail(r, "unexpected end");
    *out = r->bytes[r->pos++];
    return true;
}

static inline bool rd_bytes(reader *r, size_t n, const uint8_t **out) {
    if (r->error || n > r->end - r->pos)
        return rd_fail(r, "unexpected end");
    *out = r->bytes + r->pos;
    r->pos += n;
    return true;
}

static inline bool rd_u32(reader *r, uint32_t *out) {
    uint32_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b;
        if (!rd_u8(r, &b))
            return false;
        if (shift == 28) {
            if (b & 0x80)
                return rd_fail(r, "integer representation too long");
            if (b & 0x70)
                return rd_fail(r, "integer too large");
            *out = v | ((uint32_t)b << 28);
            return true;
        }
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
}

/* Signed LEB128 of at most `bits` bits (32, 33 or 64), sign-extended. */
static inline bool rd_sleb(reader *r, unsigned bits, int64_t *out) {
    uint64_t v = 0;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0, shift = 0;; i++, shift += 7) {
        uint8_t b;
        if (!rd_u8(r, &b))
            return false;
        if (i == max_bytes - 1) {
            if (b & 0x80)
                return rd_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* value bits in this byte */
            uint8_t sign = (uint8_t)((b >> (used - 1)) & 1);
            uint8_t rest = (uint8_t)(b & 0x7f & ~((1u << used) - 1));
            uint8_t want = sign ? (uint8_t)(0x7f & ~((1u << used) - 1)) : 0;
            if (rest != want)
                return rd_fail(r, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            shift += 7;
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            *out = (int64_t)v;
            return true;
        }
    }
}

/* Reads one instruction's immediates (opcode already read); tracks block depth. */
bool wasm_skim_instruction(reader *r, uint8_t opcode, int *depth);
/* Reads a function body's instructions to its final end; false if malformed. */
bool wasm_skim_body(reader *r);

#endif
