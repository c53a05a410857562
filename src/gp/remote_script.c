/*
 * The expanded remote command format of ETSI TS 102 226 (docs/gp.md, "Remote
 * scripts"): a command scripting template AE 80 {22 C-APDU}... 00 00 (or the
 * definite AA L ...) and a response scripting template AF 80 {23 R-APDU}...
 * 00 00 (or AB L ...). Writers append to caller storage; the reader checks a
 * whole script when it is opened and then hands out the items of its tag in
 * order, pointing into the script. Nothing here allocates, and no read goes
 * past the input's end.
 */
#include <string.h>

#include "seam/gp.h"
#include "seam/util.h"

#define RSCRIPT_CMD_DEFINITE  0xAAu
#define RSCRIPT_RESP_DEFINITE 0xABu

/* The definite form of an indefinite template tag (AE -> AA, AF -> AB), 0 for others. */
static uint8_t definite_of(uint8_t tmpl) {
    if (tmpl == SEAM_GP_RSCRIPT_COMMANDS)
        return RSCRIPT_CMD_DEFINITE;
    if (tmpl == SEAM_GP_RSCRIPT_RESPONSES)
        return RSCRIPT_RESP_DEFINITE;
    return 0;
}

seam_err seam_gp_rscript_begin(uint8_t tmpl, uint8_t *out, size_t cap, size_t *len) {
    if (!out || !len || !definite_of(tmpl) || *len > cap)
        return SEAM_ERR_ARG;
    if (cap - *len < 2)
        return SEAM_ERR_BUFFER_SMALL;
    out[*len] = tmpl;
    out[*len + 1] = 0x80;
    *len += 2;
    return SEAM_OK;
}

seam_err seam_gp_rscript_add(uint8_t tag, const uint8_t *item, size_t item_len, uint8_t *out,
                             size_t cap, size_t *len) {
    if (!out || !len || *len > cap || tag == 0x00 || (tag & 0x1Fu) == 0x1Fu ||
        item_len > SEAM_GP_RSCRIPT_ITEM_MAX || (item_len && !item))
        return SEAM_ERR_ARG;
    size_t n = 0; /* the checks above leave it nothing to refuse but the room */
    seam_err err = seam_tlv_encode(tag, item, item_len, out + *len, cap - *len, &n);
    if (err == SEAM_OK)
        *len += n;
    return err;
}

seam_err seam_gp_rscript_end(uint8_t *out, size_t cap, size_t *len) {
    if (!out || !len || *len > cap)
        return SEAM_ERR_ARG;
    if (cap - *len < 2)
        return SEAM_ERR_BUFFER_SMALL;
    out[*len] = 0x00;
    out[*len + 1] = 0x00;
    *len += 2;
    return SEAM_OK;
}

/* Reads a BER length (1..3 bytes) at d[*pos..end) into *n and moves *pos past it. */
static seam_err read_length(const uint8_t *d, size_t end, size_t *pos, size_t *n) {
    size_t p = *pos;
    if (p >= end)
        return SEAM_ERR_TRUNCATED;
    uint8_t first = d[p++];
    if (first < 0x80) {
        *n = first;
    } else if (first == 0x81) {
        if (end - p < 1)
            return SEAM_ERR_TRUNCATED;
        *n = d[p++];
    } else if (first == 0x82) {
        if (end - p < 2)
            return SEAM_ERR_TRUNCATED;
        *n = (size_t)d[p] << 8 | d[p + 1];
        p += 2;
    } else {
        return SEAM_ERR_MALFORMED; /* 80 (indefinite) inside, or a length above 3 bytes */
    }
    *pos = p;
    return SEAM_OK;
}

/* Reads one TLV at d[pos..end): *tag (1..3 bytes, packed), its value at
   d[*value..*value + *value_len), *next past it. Nothing is set on error. */
static seam_err read_tlv(const uint8_t *d, size_t end, size_t pos, uint32_t *tag, size_t *value,
                         size_t *value_len, size_t *next) {
    if (pos >= end)
        return SEAM_ERR_TRUNCATED;
    uint8_t b = d[pos++];
    uint32_t t = b;
    if ((b & 0x1Fu) == 0x1Fu) {
        for (int more = 0;; more++) {
            if (more == 2)
                return SEAM_ERR_MALFORMED; /* a tag longer than 3 bytes */
            if (pos >= end)
                return SEAM_ERR_TRUNCATED;
            b = d[pos++];
            t = t << 8 | b;
            if (!(b & 0x80u))
                break;
        }
    }
    size_t n = 0;
    seam_err err = read_length(d, end, &pos, &n);
    if (err != SEAM_OK)
        return err;
    if (n > end - pos)
        return SEAM_ERR_TRUNCATED;
    *tag = t;
    *value = pos;
    *value_len = n;
    *next = pos + n;
    return SEAM_OK;
}

/* Where the items of a script start (*start) and whether it is the indefinite form:
   reads the template's tag and length from data[0..len). */
static seam_err read_template(uint8_t tmpl, const uint8_t *data, size_t len, size_t *start,
                              bool *indefinite) {
    if (len < 1)
        return SEAM_ERR_TRUNCATED;
    if (data[0] != tmpl && data[0] != definite_of(tmpl))
        return SEAM_ERR_MALFORMED;
    if (len < 2)
        return SEAM_ERR_TRUNCATED;
    if (data[0] == tmpl) {
        if (data[1] != 0x80)
            return SEAM_ERR_MALFORMED;
        *start = 2;
        *indefinite = true;
        return SEAM_OK;
    }
    size_t pos = 1, n = 0;
    seam_err err = read_length(data, len, &pos, &n);
    if (err != SEAM_OK)
        return err;
    if (n > len - pos)
        return SEAM_ERR_TRUNCATED;
    if (n < len - pos)
        return SEAM_ERR_MALFORMED; /* bytes after the template */
    *start = pos;
    *indefinite = false;
    return SEAM_OK;
}

/* At d[pos..len) of an indefinite script: true at its end of contents 00 00 (which
   must close the input); errors for a lone 00 or bytes after it. */
static seam_err at_end_of_contents(const uint8_t *d, size_t len, size_t pos, bool *end) {
    if (pos >= len)
        return SEAM_ERR_TRUNCATED; /* no 00 00 */
    if (d[pos] != 0x00) {
        *end = false;
        return SEAM_OK;
    }
    if (len - pos < 2)
        return SEAM_ERR_TRUNCATED;
    if (d[pos + 1] != 0x00 || len - pos != 2)
        return SEAM_ERR_MALFORMED;
    *end = true;
    return SEAM_OK;
}

seam_err seam_gp_rscript_open(seam_gp_rscript_reader *r, uint8_t tmpl, const uint8_t *data,
                              size_t len) {
    if (!r || !definite_of(tmpl) || (!data && len))
        return SEAM_ERR_ARG;
    size_t start = 0;
    bool indefinite = false;
    seam_err err = read_template(tmpl, data, len, &start, &indefinite);
    if (err != SEAM_OK)
        return err;
    /* every item, to the end */
    for (size_t pos = start;;) {
        if (indefinite) {
            bool end = false;
            if ((err = at_end_of_contents(data, len, pos, &end)) != SEAM_OK)
                return err;
            if (end)
                break;
        } else if (pos == len) {
            break;
        } else if (data[pos] == 0x00) {
            return SEAM_ERR_MALFORMED; /* no end of contents in a definite template */
        }
        uint32_t tag;
        size_t value, value_len, next;
        if ((err = read_tlv(data, len, pos, &tag, &value, &value_len, &next)) != SEAM_OK)
            return err;
        pos = next;
    }
    r->data = data;
    r->len = len;
    r->pos = start;
    r->tmpl = data[0];
    r->ended = false;
    return SEAM_OK;
}

seam_err seam_gp_rscript_next(seam_gp_rscript_reader *r, const uint8_t **item, size_t *item_len) {
    if (!r || !item || !item_len)
        return SEAM_ERR_ARG;
    if (r->ended)
        return SEAM_ERR_NOT_FOUND;
    if (!r->data || r->pos > r->len)
        return SEAM_ERR_MALFORMED;
    bool indefinite = r->tmpl == SEAM_GP_RSCRIPT_COMMANDS || r->tmpl == SEAM_GP_RSCRIPT_RESPONSES;
    uint8_t want = (r->tmpl == SEAM_GP_RSCRIPT_COMMANDS || r->tmpl == RSCRIPT_CMD_DEFINITE)
                       ? SEAM_GP_RSCRIPT_CAPDU
                       : SEAM_GP_RSCRIPT_RAPDU;
    if (!indefinite && r->tmpl != RSCRIPT_CMD_DEFINITE && r->tmpl != RSCRIPT_RESP_DEFINITE)
        return SEAM_ERR_MALFORMED;
    for (size_t pos = r->pos;;) {
        if (indefinite) {
            bool end = false;
            seam_err err = at_end_of_contents(r->data, r->len, pos, &end);
            if (err != SEAM_OK)
                return err;
            if (end) {
                r->pos = pos;
                r->ended = true;
                return SEAM_ERR_NOT_FOUND;
            }
        } else if (pos == r->len) {
            r->pos = pos;
            r->ended = true;
            return SEAM_ERR_NOT_FOUND;
        } else if (r->data[pos] == 0x00) {
            return SEAM_ERR_MALFORMED;
        }
        uint32_t tag;
        size_t value, value_len, next;
        seam_err err = read_tlv(r->data, r->len, pos, &tag, &value, &value_len, &next);
        if (err != SEAM_OK)
            return err;
        if (tag == want) {
            *item = r->data + value;
            *item_len = value_len;
            r->pos = next;
            return SEAM_OK;
        }
        pos = next;
    }
}
