/*
 * ISO/IEC 7816-4 command APDU codec, internal to the card layer.
 *
 *   - parse:   bytes -> seam_apdu (cases 1, 2S, 3S, 4S, 2E, 3E, 4E); the data
 *              field points into the input, nothing is copied
 *   - class:   logical channel, secure messaging, chaining and proprietary
 *              bits of CLA
 *   - encode:  seam_apdu -> bytes, short form when it fits, else extended
 *   - respond: data || SW1 SW2 into a caller buffer, and the 61xx / GET
 *              RESPONSE split of a response longer than Ne (seam_apdu_remainder)
 *
 * The codec follows util's conventions (include/seam/util.h): nothing
 * allocates, input is never read past its length, out_len reports the size
 * needed on SEAM_ERR_BUFFER_SMALL, and outputs are unchanged on every error.
 *
 * Command forms (ISO/IEC 7816-4 §5.1; n = total length, B5 = fifth byte):
 *
 *   case  form                                  condition
 *   ----  ------------------------------------  ---------------------------------
 *   1     CLA INS P1 P2                         n = 4
 *   2S    header Le                             n = 5
 *   3S    header Lc Data                        B5 != 0, n = 5 + Lc
 *   4S    header Lc Data Le                     B5 != 0, n = 6 + Lc
 *   2E    header 00 Le1 Le2                     B5 = 0,  n = 7
 *   3E    header 00 Lc1 Lc2 Data                B5 = 0,  Lc != 0, n = 7 + Lc
 *   4E    header 00 Lc1 Lc2 Data Le1 Le2        B5 = 0,  Lc != 0, n = 9 + Lc
 *
 * Le = 00 (short) means Ne = 256; Le = 0000 (extended) means Ne = 65536.
 * Every other length is SEAM_ERR_MALFORMED: the card answers 6700.
 */
#ifndef SEAM_CARD_APDU_H
#define SEAM_CARD_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

#define SEAM_APDU_HEADER_LEN       4u     /* CLA INS P1 P2 */
#define SEAM_APDU_MAX_SHORT_NC     255u   /* largest short Lc */
#define SEAM_APDU_MAX_SHORT_NE     256u   /* largest short Ne (Le = 00) */
#define SEAM_APDU_MAX_NC           65535u /* largest extended Lc */
#define SEAM_APDU_MAX_NE           65536u /* largest extended Ne (Le = 0000) */
#define SEAM_APDU_MAX_LEN          65544u /* case 4E with Nc = 65535: 4 + 3 + 65535 + 2 */
#define SEAM_APDU_INS_GET_RESPONSE 0xC0u

/* A parsed (or to-be-encoded) command APDU. */
typedef struct {
    uint8_t cla;
    uint8_t ins;
    uint8_t p1;
    uint8_t p2;
    uint8_t apdu_case; /* 1, 2, 3 or 4 */
    bool extended;     /* extended length form (2E, 3E, 4E) */
    const uint8_t
        *data; /* Nc bytes inside the parsed input (its owner owns them); NULL if Nc = 0 */
    size_t nc; /* Lc: data bytes, 0..65535 */
    size_t ne; /* expected response bytes: 0 (no Le), 1..256 short, 1..65536 extended */
} seam_apdu;

/*
 * Parses the command APDU in[0..in_len) (the whole input is the APDU) into
 * *apdu. SEAM_ERR_MALFORMED for every length that matches none of the forms
 * above, including in_len < 4 and extended Lc = 0; SEAM_ERR_ARG for NULL
 * pointers. *apdu is unchanged on error.
 */
seam_err seam_apdu_parse(const uint8_t *in, size_t in_len, seam_apdu *apdu);

/*
 * Writes apdu as bytes into out[0..out_size). Only cla, ins, p1, p2, data,
 * nc, ne and extended are read: the case follows from nc and ne, and the
 * short form is used when nc <= 255 and ne <= 256 unless `extended` asks for
 * the extended form. SEAM_ERR_ARG for nc > 65535, ne > 65536 or data = NULL
 * with nc > 0; SEAM_ERR_BUFFER_SMALL puts the size needed in *out_len.
 */
seam_err seam_apdu_encode(const seam_apdu *apdu, uint8_t *out, size_t out_size, size_t *out_len);

/* Secure messaging indication of a class byte (seam_apdu_class.sm). */
typedef enum {
    SEAM_APDU_SM_NONE = 0,        /* no SM, or no indication */
    SEAM_APDU_SM_PROPRIETARY = 1, /* proprietary SM (GP: CLA 84..87) */
    SEAM_APDU_SM_ISO = 2,         /* ISO SM, command header not authenticated */
    SEAM_APDU_SM_ISO_HEADER = 3,  /* ISO SM, command header authenticated */
} seam_apdu_sm;

/* The fields of a class byte (ISO/IEC 7816-4 §5.4.1, GP Card Spec §11.1.4). */
typedef struct {
    uint8_t channel;  /* logical channel, 0..19 */
    seam_apdu_sm sm;  /* secure messaging indication */
    bool chained;     /* b5: command chaining, more commands follow */
    bool proprietary; /* b8: proprietary class (GP commands) */
} seam_apdu_class;

/*
 * Decodes a class byte into *out. First interindustry coding 000x xxxx (and
 * proprietary 100x xxxx): channel b2..b1 (0..3), SM b4..b3. Further
 * interindustry coding 01xx xxxx (and proprietary 11xx xxxx): channel
 * 4 + b4..b1 (4..19), SM b6 (ISO, header not authenticated). Chaining is b5
 * in both. SEAM_ERR_CARD_CLA for FF and for the reserved codings 001x xxxx and
 * 101x xxxx (the card answers 6E00); *out is unchanged on error.
 */
seam_err seam_apdu_class_decode(uint8_t cla, seam_apdu_class *out);

/* True when CLA has the command chaining bit (b5, 0x10) set; any class byte. */
bool seam_apdu_cla_chained(uint8_t cla);

/* True when CLA has b8 set (proprietary class); any class byte. */
bool seam_apdu_cla_proprietary(uint8_t cla);

/*
 * Writes data[0..len) then SW1 SW2 into out[0..out_size) (data may overlap
 * out; it is moved). data may be NULL when len = 0. SEAM_ERR_BUFFER_SMALL
 * puts len + 2 in *out_len and writes nothing.
 */
seam_err seam_apdu_respond(const uint8_t *data, size_t len, uint16_t sw, uint8_t *out,
                           size_t out_size, size_t *out_len);

/*
 * The part of a response the terminal has yet to fetch with GET RESPONSE.
 *
 * States and transitions:
 *
 *   IDLE    --send(len <= Ne)--> IDLE     whole response || SW
 *   IDLE    --send(len >  Ne)--> PENDING  first Ne bytes || 61xx, the rest kept
 *   PENDING --get(rest >  Ne)--> PENDING  next Ne bytes || 61xx
 *   PENDING --get(rest <= Ne)--> IDLE     the rest || the response's SW
 *   IDLE    --get-------------> IDLE      6985 (nothing to fetch)
 *   PENDING --send / clear----> IDLE / as above: a new command drops the rest
 *
 * xx in 61xx is the number of bytes still kept, or 00 for 256 and more. The
 * kept bytes live in caller-owned storage; the struct only points at it.
 */
typedef struct {
    uint8_t *storage; /* caller-owned, capacity bytes; holds the unsent rest */
    size_t capacity;
    size_t length; /* bytes still to send, at storage[0..length) */
    uint16_t sw;   /* status word that ends the whole response */
} seam_apdu_remainder;

/* Starts an IDLE remainder over storage[0..capacity), which the caller keeps owning. */
void seam_apdu_remainder_init(seam_apdu_remainder *rem, uint8_t *storage, size_t capacity);

/* True when part of a response is waiting for GET RESPONSE (state PENDING). */
bool seam_apdu_remainder_pending(const seam_apdu_remainder *rem);

/* Drops any kept bytes (back to IDLE); call it for every command that is not GET RESPONSE. */
void seam_apdu_remainder_clear(seam_apdu_remainder *rem);

/*
 * Answers a command whose expected length is ne with data[0..len) and sw:
 * writes the whole response || sw if len <= ne, else data[0..ne) || 61xx and
 * keeps data[ne..len) for GET RESPONSE. data may point into the storage
 * (the card may build its response there) but out must not overlap it.
 * Drops anything kept before. SEAM_ERR_BUFFER_SMALL if out is too small (size
 * needed in *out_len) or if the storage cannot hold the rest (*out_len then
 * unchanged); SEAM_ERR_ARG for NULL pointers. The remainder and out are
 * unchanged on error.
 */
seam_err seam_apdu_remainder_send(seam_apdu_remainder *rem, const uint8_t *data, size_t len,
                                  uint16_t sw, size_t ne, uint8_t *out, size_t out_size,
                                  size_t *out_len);

/*
 * Answers GET RESPONSE with expected length ne (from seam_apdu_parse; 0 is
 * taken as 256): the next min(ne, kept) bytes || 61xx while more remain, or
 * || the response's SW for the last part; 6985 when nothing is kept.
 * SEAM_ERR_BUFFER_SMALL (size needed in *out_len) leaves everything unchanged.
 */
seam_err seam_apdu_remainder_get(seam_apdu_remainder *rem, size_t ne, uint8_t *out, size_t out_size,
                                 size_t *out_len);

#endif
