/*
 * BER-TLV as ISO/IEC 7816-4 and GlobalPlatform use it: tags of 1-3 bytes,
 * definite lengths of up to 3 bytes. Parsing never reads past the input and
 * never copies: a parsed value points into the input.
 */
#include <string.h>

#include "seam/util.h"

#define TAG_MORE_BYTES 0x1Fu /* low 5 bits of the first byte: more tag bytes follow */
#define TAG_CONTINUES  0x80u /* b8 of a later tag byte: another byte follows */

/* Reads the tag at in[0..in_len). */
static seam_err parse_tag(const uint8_t *in, size_t in_len, uint32_t *tag, uint8_t *tag_len) {
    seam_err err = SEAM_OK;
    uint32_t value = 0;
    uint8_t count = 0;
    if (in_len < 1) {
        err = SEAM_ERR_TRUNCATED;
    } else if (in[0] == 0x00 || in[0] == 0xFF) {
        err = SEAM_ERR_MALFORMED; /* padding bytes, never tags */
    } else {
        value = in[0];
        count = 1;
        if ((in[0] & TAG_MORE_BYTES) == TAG_MORE_BYTES) {
            if (in_len < 2)
                err = SEAM_ERR_TRUNCATED;
            else if (in[1] == 0x80)
                err = SEAM_ERR_MALFORMED; /* tag number with a leading zero */
            else
                value = value << 8 | in[count++];
        }
        if (err == SEAM_OK && count == 2 && (in[1] & TAG_CONTINUES)) {
            if (in_len < 3)
                err = SEAM_ERR_TRUNCATED;
            else if (in[2] & TAG_CONTINUES)
                err = SEAM_ERR_MALFORMED; /* a fourth tag byte: beyond ISO 7816-4 */
            else
                value = value << 8 | in[count++];
        }
    }
    if (err == SEAM_OK) {
        *tag = value;
        *tag_len = count;
    }
    return err;
}

/* Reads the length at in[0..in_len). */
static seam_err parse_length(const uint8_t *in, size_t in_len, size_t *length, size_t *length_len) {
    seam_err err = SEAM_OK;
    size_t value = 0;
    size_t count = 0;
    if (in_len < 1) {
        err = SEAM_ERR_TRUNCATED;
    } else if (in[0] < 0x80) {
        value = in[0];
        count = 1;
    } else if (in[0] == 0x80 || in[0] > 0x83) {
        err = SEAM_ERR_MALFORMED; /* indefinite, or more than 3 length bytes */
    } else {
        count = 1 + (size_t)(in[0] & 0x7F);
        if (in_len < count)
            err = SEAM_ERR_TRUNCATED;
        for (size_t i = 1; i < count && err == SEAM_OK; i++)
            value = value << 8 | in[i];
    }
    if (err == SEAM_OK) {
        *length = value;
        *length_len = count;
    }
    return err;
}

seam_err seam_tlv_parse(const uint8_t *in, size_t in_len, seam_tlv *tlv) {
    seam_err err = SEAM_OK;
    uint32_t tag = 0;
    uint8_t tag_len = 0;
    size_t length = 0;
    size_t length_len = 0;
    if ((in_len > 0 && !in) || !tlv)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK)
        err = parse_tag(in, in_len, &tag, &tag_len);
    if (err == SEAM_OK)
        err = parse_length(in + tag_len, in_len - tag_len, &length, &length_len);
    if (err == SEAM_OK && length > in_len - tag_len - length_len)
        err = SEAM_ERR_TRUNCATED;
    if (err == SEAM_OK) {
        tlv->tag = tag;
        tlv->tag_len = tag_len;
        tlv->constructed = (in[0] & SEAM_TLV_CONSTRUCTED) != 0;
        tlv->header_len = tag_len + length_len;
        tlv->length = length;
        tlv->value = in + tlv->header_len;
    }
    return err;
}

/* Returns the number of bytes of a valid tag, or 0 if tag is not valid. */
static uint8_t tag_size(uint32_t tag) {
    uint8_t size = 0;
    uint8_t first = 0;
    uint8_t second = (uint8_t)(tag >> 8);
    if (tag == 0 || tag > SEAM_TLV_MAX_TAG) {
        size = 0;
    } else if (tag <= 0xFF) {
        first = (uint8_t)tag;
        if (first != 0xFF && (first & TAG_MORE_BYTES) != TAG_MORE_BYTES)
            size = 1;
    } else if (tag <= 0xFFFF) {
        first = (uint8_t)(tag >> 8);
        second = (uint8_t)tag;
        if (first != 0xFF && (first & TAG_MORE_BYTES) == TAG_MORE_BYTES && second != 0x80 &&
            !(second & TAG_CONTINUES))
            size = 2;
    } else {
        first = (uint8_t)(tag >> 16);
        if (first != 0xFF && (first & TAG_MORE_BYTES) == TAG_MORE_BYTES && second != 0x80 &&
            (second & TAG_CONTINUES) && !(tag & TAG_CONTINUES))
            size = 3;
    }
    return size;
}

bool seam_tlv_tag_valid(uint32_t tag) {
    return tag_size(tag) != 0;
}

bool seam_tlv_tag_constructed(uint32_t tag) {
    uint8_t size = tag_size(tag);
    uint32_t first = size ? tag >> (8 * (size - 1)) : 0;
    return (first & SEAM_TLV_CONSTRUCTED) != 0;
}

void seam_tlv_iter_init(seam_tlv_iter *iter, const uint8_t *in, size_t in_len) {
    iter->next = in;
    iter->remaining = in ? in_len : 0;
}

bool seam_tlv_iter_done(const seam_tlv_iter *iter) {
    return iter->remaining == 0;
}

seam_err seam_tlv_iter_next(seam_tlv_iter *iter, seam_tlv *tlv) {
    seam_err err = SEAM_OK;
    seam_tlv parsed;
    if (iter->remaining == 0)
        err = SEAM_ERR_NOT_FOUND;
    if (err == SEAM_OK)
        err = seam_tlv_parse(iter->next, iter->remaining, &parsed);
    if (err == SEAM_OK) {
        size_t size = parsed.header_len + parsed.length;
        iter->next += size;
        iter->remaining -= size;
        *tlv = parsed;
    }
    return err;
}

seam_err seam_tlv_find(const uint8_t *in, size_t in_len, uint32_t tag, seam_tlv *tlv) {
    seam_err err = SEAM_OK;
    seam_tlv_iter iter;
    seam_tlv candidate;
    bool found = false;
    seam_tlv_iter_init(&iter, in, in_len);
    while (err == SEAM_OK && !found) {
        err = seam_tlv_iter_next(&iter, &candidate);
        found = err == SEAM_OK && candidate.tag == tag;
    }
    if (found)
        *tlv = candidate;
    return err;
}

size_t seam_tlv_header_size(uint32_t tag, size_t length) {
    size_t size = tag_size(tag);
    if (size == 0 || length > SEAM_TLV_MAX_LENGTH)
        size = 0;
    else if (length < 0x80)
        size += 1;
    else if (length <= 0xFF)
        size += 2;
    else if (length <= 0xFFFF)
        size += 3;
    else
        size += 4;
    return size;
}

/* Writes the header for (tag, length) into out, which has room for it. */
static void write_header(uint32_t tag, size_t length, uint8_t *out) {
    size_t tag_len = tag_size(tag);
    size_t length_len = seam_tlv_header_size(tag, length) - tag_len;
    for (size_t i = 0; i < tag_len; i++)
        out[i] = (uint8_t)(tag >> (8 * (tag_len - 1 - i)));
    out += tag_len;
    if (length_len == 1) {
        out[0] = (uint8_t)length;
    } else {
        out[0] = (uint8_t)(0x80 | (length_len - 1));
        for (size_t i = 1; i < length_len; i++)
            out[i] = (uint8_t)(length >> (8 * (length_len - 1 - i)));
    }
}

seam_err seam_tlv_encode_header(uint32_t tag, size_t length, uint8_t *out, size_t out_size,
                                size_t *out_len) {
    seam_err err = SEAM_OK;
    size_t size = seam_tlv_header_size(tag, length);
    if (size == 0 || !out_len) {
        err = SEAM_ERR_ARG;
    } else if (!out || out_size < size) {
        *out_len = size;
        err = SEAM_ERR_BUFFER_SMALL;
    } else {
        write_header(tag, length, out);
        *out_len = size;
    }
    return err;
}

seam_err seam_tlv_encode(uint32_t tag, const uint8_t *value, size_t length, uint8_t *out,
                         size_t out_size, size_t *out_len) {
    seam_err err = SEAM_OK;
    size_t header = seam_tlv_header_size(tag, length);
    if (header == 0 || !out_len || (length > 0 && !value)) {
        err = SEAM_ERR_ARG;
    } else if (!out || out_size < header + length) {
        *out_len = header + length;
        err = SEAM_ERR_BUFFER_SMALL;
    } else {
        /* Move the value first: it may sit where the header goes. */
        if (length > 0)
            memmove(out + header, value, length);
        write_header(tag, length, out);
        *out_len = header + length;
    }
    return err;
}
