/*
 * seam util: the small codecs and helpers every other layer uses.
 *
 *   - errors:  seam_err_str (declared in seam/errors.h, defined here)
 *   - bytes:   constant-time compare, secure zero, big-endian loads and
 *              stores, and a bounded writer over caller-owned storage
 *   - hex:     encode and decode into caller buffers
 *   - BER-TLV: ISO/IEC 7816-4 (ISO/IEC 8825-1 BER subset) as GlobalPlatform
 *              uses it: parse, iterate, find, encode
 *   - COMPREHENSION-TLV: the toolkit's data objects (ETSI TS 101 220): next,
 *              put, find (the toolkit's messages are in seam/toolkit.h)
 *   - logging: leveled messages on stderr, threshold from the API or SEAM_LOG
 *
 * Conventions shared by every codec here:
 *   - Nothing allocates. Input is (pointer, length) and is never read past its
 *     length; output goes to a caller buffer of a given size.
 *   - Functions that write to a caller buffer take `size_t *out_len`: on
 *     success it receives the number of bytes written; on SEAM_ERR_BUFFER_SMALL
 *     it receives the buffer size the call needs and nothing else is written.
 *   - On any error the caller's output buffer and structures are unchanged
 *     (except *out_len on SEAM_ERR_BUFFER_SMALL, as above).
 *   - Truncated input (it ends before the encoding does) is SEAM_ERR_TRUNCATED;
 *     input that breaks the encoding rules is SEAM_ERR_MALFORMED.
 */
#ifndef SEAM_UTIL_H
#define SEAM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* ------------------------------------------------------------------------ */
/* Bytes                                                                     */
/* ------------------------------------------------------------------------ */

/* True when a[0..len) equals b[0..len); time depends only on len, never on content. */
bool seam_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites p[0..len) with zeros in a way the compiler cannot remove; for secrets. */
void seam_secure_zero(void *p, size_t len);

/* Returns the big-endian 16-bit value at p[0..2). */
uint16_t seam_get_be16(const uint8_t *p);

/* Returns the big-endian 32-bit value at p[0..4). */
uint32_t seam_get_be32(const uint8_t *p);

/* Stores v big-endian at p[0..2). */
void seam_put_be16(uint8_t *p, uint16_t v);

/* Stores v big-endian at p[0..4). */
void seam_put_be32(uint8_t *p, uint32_t v);

/*
 * A bounded writer over caller-owned storage. Writes append at `length`; a
 * write that does not fit writes nothing, sets the sticky error to
 * SEAM_ERR_BUFFER_SMALL and makes every later write fail the same way.
 * `needed` counts every byte asked for, so after an overflow it is the
 * capacity that would have been enough.
 */
typedef struct {
    uint8_t *data;   /* caller-owned storage, capacity bytes */
    size_t capacity; /* size of data */
    size_t length;   /* bytes written so far */
    size_t needed;   /* bytes asked for so far, written or not */
    seam_err err;    /* SEAM_OK until the first failed write */
} seam_buf;

/* Starts a writer over storage[0..capacity); storage stays owned by the caller. */
void seam_buf_init(seam_buf *buf, uint8_t *storage, size_t capacity);

/* Appends bytes[0..len); SEAM_ERR_BUFFER_SMALL (sticky) if it does not fit. */
seam_err seam_buf_put(seam_buf *buf, const void *bytes, size_t len);

/* Appends one byte; SEAM_ERR_BUFFER_SMALL (sticky) if it does not fit. */
seam_err seam_buf_put_u8(seam_buf *buf, uint8_t v);

/* Appends v big-endian (2 bytes); SEAM_ERR_BUFFER_SMALL (sticky) if it does not fit. */
seam_err seam_buf_put_be16(seam_buf *buf, uint16_t v);

/* Appends v big-endian (4 bytes); SEAM_ERR_BUFFER_SMALL (sticky) if it does not fit. */
seam_err seam_buf_put_be32(seam_buf *buf, uint32_t v);

/* ------------------------------------------------------------------------ */
/* Hex                                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Writes 2*len upper-case hex digits of bytes[0..len) and a NUL into
 * out[0..out_size). *out_len gets the digit count (2*len) on success, or the
 * out_size needed (2*len + 1) with SEAM_ERR_BUFFER_SMALL.
 */
seam_err seam_hex_encode(const uint8_t *bytes, size_t len, char *out, size_t out_size,
                         size_t *out_len);

/*
 * Decodes hex[0..hex_len) into out[0..out_size). Digits may be upper or lower
 * case; spaces, tabs, CR and LF may separate bytes but not split one. Odd
 * digit counts and non-hex characters give SEAM_ERR_MALFORMED (out untouched);
 * SEAM_ERR_BUFFER_SMALL puts the byte count needed in *out_len.
 */
seam_err seam_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
                         size_t *out_len);

/* ------------------------------------------------------------------------ */
/* BER-TLV                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Tags are carried as their encoded bytes read big-endian: 0x4F, 0x9F70,
 * 0x5F20, 0xBF0C, 0xDF8101. A tag has 1 to 3 bytes: more follow the first
 * when its low 5 bits are all 1, and each later byte with b8 set is followed
 * by another. The first byte may not be 00 or FF (ISO/IEC 7816-4 padding) and
 * the second may not be 80 (a leading zero in the tag number).
 *
 * Lengths use the short form (00..7F) or the long forms 81 xx, 82 xx xx and
 * 83 xx xx xx; 80 (indefinite) and 84 or more are rejected. Parsing accepts
 * non-minimal long forms; encoding always writes the shortest form.
 */
#define SEAM_TLV_MAX_TAG     0xFFFFFFu /* largest 3-byte tag value */
#define SEAM_TLV_MAX_LENGTH  0xFFFFFFu /* largest value length (83 xx xx xx) */
#define SEAM_TLV_MAX_HEADER  7u        /* 3 tag bytes + 4 length bytes */
#define SEAM_TLV_CONSTRUCTED 0x20u     /* b6 of a tag's first byte */

/* One parsed TLV. `value` points into the parsed input; nothing is copied. */
typedef struct {
    uint32_t tag;         /* tag bytes, big-endian */
    uint8_t tag_len;      /* 1..3 */
    bool constructed;     /* b6 of the first tag byte: the value is more TLVs */
    size_t header_len;    /* tag bytes + length bytes */
    size_t length;        /* value bytes */
    const uint8_t *value; /* input + header_len; the input's owner owns it */
} seam_tlv;

/*
 * Parses the TLV at the start of in[0..in_len) into *tlv (bytes after it are
 * ignored). SEAM_ERR_TRUNCATED if the input ends inside the tag, length or
 * value; SEAM_ERR_MALFORMED for a bad tag or length encoding. *tlv is
 * unchanged on error.
 */
seam_err seam_tlv_parse(const uint8_t *in, size_t in_len, seam_tlv *tlv);

/* True when a tag value is a well-formed 1-3 byte tag as described above. */
bool seam_tlv_tag_valid(uint32_t tag);

/* True when tag (a valid tag) is constructed: b6 of its first byte is set. */
bool seam_tlv_tag_constructed(uint32_t tag);

/* An iterator over a sequence of sibling TLVs; it borrows the input. */
typedef struct {
    const uint8_t *next; /* start of the next TLV */
    size_t remaining;    /* bytes from next to the end of the input */
} seam_tlv_iter;

/* Starts iterating over the TLVs in in[0..in_len) (e.g. a constructed value). */
void seam_tlv_iter_init(seam_tlv_iter *iter, const uint8_t *in, size_t in_len);

/* True when every TLV has been returned (the input is used up). */
bool seam_tlv_iter_done(const seam_tlv_iter *iter);

/*
 * Parses the next TLV into *tlv and advances. SEAM_ERR_NOT_FOUND when done;
 * on a parse error (as seam_tlv_parse) the iterator does not advance, so it
 * keeps returning that error.
 */
seam_err seam_tlv_iter_next(seam_tlv_iter *iter, seam_tlv *tlv);

/*
 * Finds the first TLV with the given tag among the siblings in in[0..in_len)
 * (no descent into constructed values). SEAM_ERR_NOT_FOUND if absent; a parse
 * error before the match is returned as is. *tlv is unchanged on error.
 */
seam_err seam_tlv_find(const uint8_t *in, size_t in_len, uint32_t tag, seam_tlv *tlv);

/* Returns the encoded tag+length size for (tag, length), or 0 if either is invalid. */
size_t seam_tlv_header_size(uint32_t tag, size_t length);

/*
 * Writes the tag and shortest length encoding into out[0..out_size).
 * SEAM_ERR_ARG for an invalid tag or a length above SEAM_TLV_MAX_LENGTH;
 * SEAM_ERR_BUFFER_SMALL puts the size needed in *out_len.
 */
seam_err seam_tlv_encode_header(uint32_t tag, size_t length, uint8_t *out, size_t out_size,
                                size_t *out_len);

/*
 * Writes a whole TLV (header, then value[0..length)) into out[0..out_size).
 * value may overlap out (it is moved, not copied) and may be NULL when length
 * is 0. Errors as seam_tlv_encode_header.
 */
seam_err seam_tlv_encode(uint32_t tag, const uint8_t *value, size_t length, uint8_t *out,
                         size_t out_size, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* COMPREHENSION-TLV                                                         */
/* ------------------------------------------------------------------------ */

/*
 * COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1), the data objects of the card
 * application toolkit (ETSI TS 102 223).
 *
 * Tag: 1 byte, 01..7E or 81..FE, bit 8 = comprehension required (CR); or 3
 * bytes, 7F hi lo, CR = bit 16 of (hi lo), tag value 0001..7FFF in the other
 * 15 bits. 00, 80 and FF are never tags. A 3-byte tag whose value would fit
 * in one byte is accepted when parsing (the value is what counts); encoding
 * writes the 3-byte form only for values above 7E.
 *
 * Length: 1 byte (00..7F) or 81 xx (xx 80..FF). 80, 82 and longer forms, and
 * 81 followed by a value below 80 (a length the 1-byte form carries), are
 * malformed: TS 101 220 allows nothing else inside a toolkit template.
 *
 * Tags are reported without the CR bit: the text string object is tag 0x0D
 * whether it arrived as 0D or 8D.
 */
#define SEAM_CTLV_MAX_TAG    0x7FFFu /* largest tag value (3-byte form) */
#define SEAM_CTLV_MAX_SHORT  0x7Eu   /* largest tag value of the 1-byte form */
#define SEAM_CTLV_MAX_LENGTH 0xFFu   /* largest value length (81 xx) */
#define SEAM_CTLV_MAX_HEADER 5u      /* 3 tag bytes + 2 length bytes */

/* One parsed object. `value` points into the parsed input; nothing is copied. */
typedef struct {
    uint16_t tag; /* without the CR bit */
    bool cr;      /* comprehension required */
    const uint8_t *value;
    size_t len;
} seam_ctlv;

/*
 * Reads the object at data[*pos..len): fills *out and advances *pos past it.
 * SEAM_ERR_TRUNCATED when the input ends inside the object (also when *pos ==
 * len); SEAM_ERR_MALFORMED for the tags 00, 80, FF, 7F 00 00 and 7F 80 00 and
 * for the length forms refused above; SEAM_ERR_ARG for NULL pointers or *pos
 * > len. Never reads past len; on error *pos and *out are unchanged.
 */
seam_err seam_ctlv_next(const uint8_t *data, size_t len, size_t *pos, seam_ctlv *out);

/*
 * Appends tag (CR set when cr), length and value[0..value_len) to
 * out[*len..cap) and advances *len. Tags above 7E use the 3-byte form.
 * SEAM_ERR_ARG for tag 0 or above SEAM_CTLV_MAX_TAG, value_len above
 * SEAM_CTLV_MAX_LENGTH, or a NULL value with value_len > 0;
 * SEAM_ERR_BUFFER_SMALL when it does not fit. On error *len and out are
 * unchanged. value must not overlap out[*len..cap).
 */
seam_err seam_ctlv_put(uint16_t tag, bool cr, const uint8_t *value, size_t value_len, uint8_t *out,
                       size_t cap, size_t *len);

/*
 * Finds the first object with tag (CR ignored) among data[0..len).
 * SEAM_ERR_NOT_FOUND when absent; a parse error met before the match is
 * returned as is. *out is unchanged on error.
 */
seam_err seam_ctlv_find(const uint8_t *data, size_t len, uint16_t tag, seam_ctlv *out);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

/* Message levels, most severe first; a threshold shows its level and above. */
typedef enum {
    SEAM_LOG_ERROR = 0,
    SEAM_LOG_WARN = 1,
    SEAM_LOG_INFO = 2,
    SEAM_LOG_DEBUG = 3,
} seam_log_level;

/*
 * Writes "seam: <level>: <message>\n" to stderr when level is as severe as
 * the threshold or more. fmt is printf-style without a trailing newline.
 * The threshold is the last seam_log_set_level, else $SEAM_LOG
 * (error|warn|info|debug) read at the first message, else warn.
 */
void seam_log(seam_log_level level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Sets the threshold; it overrides $SEAM_LOG. SEAM_ERR_ARG for an unknown level. */
seam_err seam_log_set_level(seam_log_level level);

/* Returns the threshold in effect (reading $SEAM_LOG first if nothing set it yet). */
seam_log_level seam_log_get_level(void);

/* Parses "error", "warn", "info" or "debug" (any case) into *level; SEAM_ERR_ARG otherwise. */
seam_err seam_log_level_parse(const char *name, seam_log_level *level);

/* Returns the lower-case name of level ("warn"), or "?" for an unknown value. */
const char *seam_log_level_name(seam_log_level level);

#endif
