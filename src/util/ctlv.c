/*
 * COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1): the data objects of the card
 * application toolkit. Parsing never reads past the input and never copies:
 * a parsed value points into the input.
 */
#include <string.h>

#include "seam/util.h"

#define CTLV_CR_1        0x80u   /* CR bit of a 1-byte tag */
#define CTLV_CR_3        0x8000u /* CR bit of a 3-byte tag's value */
#define CTLV_THREE_BYTE  0x7Fu   /* first byte of a 3-byte tag */
#define CTLV_LENGTH_LONG 0x81u   /* the 2-byte length form */

/* Reads the tag at in[0..avail): *tag, *cr, *used. */
static seam_err read_tag(const uint8_t *in, size_t avail, uint16_t *tag, bool *cr, size_t *used) {
    seam_err err = SEAM_OK;
    if (avail < 1) {
        err = SEAM_ERR_TRUNCATED;
    } else if (in[0] == 0x00 || in[0] == 0x80 || in[0] == 0xFF) {
        err = SEAM_ERR_MALFORMED;
    } else if (in[0] != CTLV_THREE_BYTE) {
        *tag = (uint16_t)(in[0] & ~CTLV_CR_1 & 0xFFu);
        *cr = (in[0] & CTLV_CR_1) != 0;
        *used = 1;
    } else if (avail < 3) {
        err = SEAM_ERR_TRUNCATED;
    } else {
        uint16_t raw = (uint16_t)(in[1] << 8 | in[2]);
        if ((raw & ~CTLV_CR_3 & 0xFFFFu) == 0) {
            err = SEAM_ERR_MALFORMED; /* tag value 0000 */
        } else {
            *tag = (uint16_t)(raw & ~CTLV_CR_3 & 0xFFFFu);
            *cr = (raw & CTLV_CR_3) != 0;
            *used = 3;
        }
    }
    return err;
}

/* Reads the length at in[0..avail): *length, *used. */
static seam_err read_length(const uint8_t *in, size_t avail, size_t *length, size_t *used) {
    seam_err err = SEAM_OK;
    if (avail < 1) {
        err = SEAM_ERR_TRUNCATED;
    } else if (in[0] < 0x80) {
        *length = in[0];
        *used = 1;
    } else if (in[0] != CTLV_LENGTH_LONG) {
        err = SEAM_ERR_MALFORMED; /* 80 (indefinite), 82 and longer */
    } else if (avail < 2) {
        err = SEAM_ERR_TRUNCATED;
    } else if (in[1] < 0x80) {
        err = SEAM_ERR_MALFORMED; /* 81 xx with a length the 1-byte form carries */
    } else {
        *length = in[1];
        *used = 2;
    }
    return err;
}

seam_err seam_ctlv_next(const uint8_t *data, size_t len, size_t *pos, seam_ctlv *out) {
    if (!pos || !out || (!data && len) || *pos > len)
        return SEAM_ERR_ARG;
    const uint8_t *in = data + *pos;
    size_t avail = len - *pos;
    uint16_t tag = 0;
    bool cr = false;
    size_t tag_used = 0;
    size_t length = 0;
    size_t length_used = 0;
    seam_err err = read_tag(in, avail, &tag, &cr, &tag_used);
    if (err == SEAM_OK)
        err = read_length(in + tag_used, avail - tag_used, &length, &length_used);
    if (err == SEAM_OK && avail - tag_used - length_used < length)
        err = SEAM_ERR_TRUNCATED;
    if (err == SEAM_OK) {
        out->tag = tag;
        out->cr = cr;
        out->value = in + tag_used + length_used;
        out->len = length;
        *pos += tag_used + length_used + length;
    }
    return err;
}

seam_err seam_ctlv_put(uint16_t tag, bool cr, const uint8_t *value, size_t value_len, uint8_t *out,
                       size_t cap, size_t *len) {
    if (!len || tag == 0 || tag > SEAM_CTLV_MAX_TAG || value_len > SEAM_CTLV_MAX_LENGTH ||
        (!value && value_len) || *len > cap || (!out && cap))
        return SEAM_ERR_ARG;
    uint8_t header[SEAM_CTLV_MAX_HEADER];
    size_t n = 0;
    if (tag <= SEAM_CTLV_MAX_SHORT) {
        header[n++] = (uint8_t)(tag | (cr ? CTLV_CR_1 : 0u));
    } else {
        uint16_t raw = (uint16_t)(tag | (cr ? CTLV_CR_3 : 0u));
        header[n++] = CTLV_THREE_BYTE;
        header[n++] = (uint8_t)(raw >> 8);
        header[n++] = (uint8_t)raw;
    }
    if (value_len >= 0x80)
        header[n++] = CTLV_LENGTH_LONG;
    header[n++] = (uint8_t)value_len;
    if (cap - *len < n || cap - *len - n < value_len)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(out + *len, header, n);
    if (value_len)
        memcpy(out + *len + n, value, value_len);
    *len += n + value_len;
    return SEAM_OK;
}

seam_err seam_ctlv_find(const uint8_t *data, size_t len, uint16_t tag, seam_ctlv *out) {
    if (!out || (!data && len))
        return SEAM_ERR_ARG;
    size_t pos = 0;
    seam_err err = SEAM_ERR_NOT_FOUND;
    while (pos < len) {
        seam_ctlv obj;
        seam_err step = seam_ctlv_next(data, len, &pos, &obj);
        if (step != SEAM_OK) {
            err = step;
            break;
        }
        if (obj.tag == tag) {
            *out = obj;
            err = SEAM_OK;
            break;
        }
    }
    return err;
}
