/*
 * ISO/IEC 7816-4 command APDU codec and response helpers (see apdu.h for the
 * forms and the remainder's states and transitions).
 */
#include <string.h>

#include "apdu.h"
#include "sw.h"
#include "seam/util.h"

seam_err seam_apdu_parse(const uint8_t *in, size_t in_len, seam_apdu *apdu) {
    seam_err err = SEAM_ERR_MALFORMED;
    seam_apdu parsed = {0};
    if (!apdu || (!in && in_len)) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    if (in_len < SEAM_APDU_HEADER_LEN)
        goto out;
    parsed.cla = in[0];
    parsed.ins = in[1];
    parsed.p1 = in[2];
    parsed.p2 = in[3];
    size_t body_len = in_len - SEAM_APDU_HEADER_LEN;
    const uint8_t *body = in + SEAM_APDU_HEADER_LEN;
    if (body_len == 0) {
        parsed.apdu_case = 1;
    } else if (body_len == 1) {
        parsed.apdu_case = 2;
        parsed.ne = body[0] ? body[0] : SEAM_APDU_MAX_SHORT_NE;
    } else if (body[0] != 0) {
        size_t nc = body[0];
        parsed.nc = nc;
        parsed.data = body + 1;
        if (body_len == 1 + nc) {
            parsed.apdu_case = 3;
        } else if (body_len == 2 + nc) {
            parsed.apdu_case = 4;
            parsed.ne = body[1 + nc] ? body[1 + nc] : SEAM_APDU_MAX_SHORT_NE;
        } else {
            goto out;
        }
    } else {
        /* Extended: B5 = 00, then two bytes of Le (case 2E) or of Lc. */
        parsed.extended = true;
        if (body_len < 3)
            goto out;
        size_t value = seam_get_be16(body + 1);
        if (body_len == 3) {
            parsed.apdu_case = 2;
            parsed.ne = value ? value : SEAM_APDU_MAX_NE;
        } else {
            if (value == 0)
                goto out;
            parsed.nc = value;
            parsed.data = body + 3;
            if (body_len == 3 + value) {
                parsed.apdu_case = 3;
            } else if (body_len == 5 + value) {
                size_t le = seam_get_be16(body + 3 + value);
                parsed.apdu_case = 4;
                parsed.ne = le ? le : SEAM_APDU_MAX_NE;
            } else {
                goto out;
            }
        }
    }
    *apdu = parsed;
    err = SEAM_OK;
out:
    return err;
}

seam_err seam_apdu_encode(const seam_apdu *apdu, uint8_t *out, size_t out_size, size_t *out_len) {
    seam_err err = SEAM_ERR_ARG;
    if (!apdu || !out_len || apdu->nc > SEAM_APDU_MAX_NC || apdu->ne > SEAM_APDU_MAX_NE ||
        (apdu->nc && !apdu->data) || (!out && out_size))
        goto out;
    bool extended =
        apdu->extended || apdu->nc > SEAM_APDU_MAX_SHORT_NC || apdu->ne > SEAM_APDU_MAX_SHORT_NE;
    size_t need = SEAM_APDU_HEADER_LEN;
    if (extended) {
        /* 00 Lc1 Lc2 Data, then Le1 Le2 (after 00 itself when there is no data). */
        if (apdu->nc)
            need += 3 + apdu->nc + (apdu->ne ? 2 : 0);
        else if (apdu->ne)
            need += 3;
    } else {
        need += (apdu->nc ? 1 + apdu->nc : 0) + (apdu->ne ? 1 : 0);
    }
    if (out_size < need) {
        *out_len = need;
        err = SEAM_ERR_BUFFER_SMALL;
        goto out;
    }
    seam_buf buf;
    seam_buf_init(&buf, out, out_size);
    const uint8_t header[4] = {apdu->cla, apdu->ins, apdu->p1, apdu->p2};
    seam_buf_put(&buf, header, sizeof header);
    if (extended) {
        if (apdu->nc || apdu->ne)
            seam_buf_put_u8(&buf, 0);
        if (apdu->nc) {
            seam_buf_put_be16(&buf, (uint16_t)apdu->nc);
            seam_buf_put(&buf, apdu->data, apdu->nc);
        }
        if (apdu->ne) /* 65536 is written as 0000 */
            seam_buf_put_be16(&buf, (uint16_t)(apdu->ne & 0xFFFFu));
    } else {
        if (apdu->nc) {
            seam_buf_put_u8(&buf, (uint8_t)apdu->nc);
            seam_buf_put(&buf, apdu->data, apdu->nc);
        }
        if (apdu->ne) /* 256 is written as 00 */
            seam_buf_put_u8(&buf, (uint8_t)(apdu->ne & 0xFFu));
    }
    *out_len = buf.length;
    err = buf.err;
out:
    return err;
}

seam_err seam_apdu_class_decode(uint8_t cla, seam_apdu_class *out) {
    seam_err err = SEAM_ERR_CARD_CLA;
    seam_apdu_class decoded = {0};
    if (!out) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    if (cla == 0xFF || (cla & 0x60u) == 0x20u)
        goto out;
    decoded.proprietary = seam_apdu_cla_proprietary(cla);
    decoded.chained = seam_apdu_cla_chained(cla);
    if (cla & 0x40u) {
        decoded.channel = (uint8_t)(4u + (cla & 0x0Fu));
        decoded.sm = (cla & 0x20u) ? SEAM_APDU_SM_ISO : SEAM_APDU_SM_NONE;
    } else {
        decoded.channel = cla & 0x03u;
        decoded.sm = (seam_apdu_sm)((cla >> 2) & 0x03u);
    }
    *out = decoded;
    err = SEAM_OK;
out:
    return err;
}

bool seam_apdu_cla_chained(uint8_t cla) {
    return (cla & 0x10u) != 0;
}

bool seam_apdu_cla_proprietary(uint8_t cla) {
    return (cla & 0x80u) != 0;
}

seam_err seam_apdu_respond(const uint8_t *data, size_t len, uint16_t sw, uint8_t *out,
                           size_t out_size, size_t *out_len) {
    seam_err err = SEAM_ERR_ARG;
    if (!out_len || (!data && len) || (!out && out_size) || len > SIZE_MAX - 2)
        goto out;
    if (out_size < len + 2) {
        *out_len = len + 2;
        err = SEAM_ERR_BUFFER_SMALL;
        goto out;
    }
    if (len)
        memmove(out, data, len);
    seam_put_be16(out + len, sw);
    *out_len = len + 2;
    err = SEAM_OK;
out:
    return err;
}

void seam_apdu_remainder_init(seam_apdu_remainder *rem, uint8_t *storage, size_t capacity) {
    rem->storage = storage;
    rem->capacity = storage ? capacity : 0;
    rem->length = 0;
    rem->sw = SEAM_SW_SUCCESS;
}

bool seam_apdu_remainder_pending(const seam_apdu_remainder *rem) {
    return rem->length > 0;
}

void seam_apdu_remainder_clear(seam_apdu_remainder *rem) {
    rem->length = 0;
    rem->sw = SEAM_SW_SUCCESS;
}

/* The 61xx word announcing `kept` more bytes: xx = kept, or 00 for 256 and more. */
static uint16_t bytes_remaining_sw(size_t kept) {
    return (uint16_t)(SEAM_SW_BYTES_REMAINING | (kept > 0xFFu ? 0u : kept));
}

seam_err seam_apdu_remainder_send(seam_apdu_remainder *rem, const uint8_t *data, size_t len,
                                  uint16_t sw, size_t ne, uint8_t *out, size_t out_size,
                                  size_t *out_len) {
    seam_err err = SEAM_ERR_ARG;
    if (!rem || !out_len || (!data && len) || (!out && out_size))
        goto out;
    if (len <= ne) {
        err = seam_apdu_respond(data, len, sw, out, out_size, out_len);
        if (err == SEAM_OK)
            seam_apdu_remainder_clear(rem);
        goto out;
    }
    size_t rest = len - ne;
    if (rest > rem->capacity) {
        err = SEAM_ERR_BUFFER_SMALL;
        goto out;
    }
    err = seam_apdu_respond(data, ne, bytes_remaining_sw(rest), out, out_size, out_len);
    if (err != SEAM_OK)
        goto out;
    memmove(rem->storage, data + ne, rest);
    rem->length = rest;
    rem->sw = sw;
out:
    return err;
}

seam_err seam_apdu_remainder_get(seam_apdu_remainder *rem, size_t ne, uint8_t *out, size_t out_size,
                                 size_t *out_len) {
    seam_err err = SEAM_ERR_ARG;
    if (!rem || !out_len || (!out && out_size))
        goto out;
    if (!seam_apdu_remainder_pending(rem)) {
        err = seam_apdu_respond(NULL, 0, SEAM_SW_CONDITIONS_NOT_MET, out, out_size, out_len);
        goto out;
    }
    if (ne == 0)
        ne = SEAM_APDU_MAX_SHORT_NE;
    size_t part = ne < rem->length ? ne : rem->length;
    size_t rest = rem->length - part;
    uint16_t sw = rest ? bytes_remaining_sw(rest) : rem->sw;
    err = seam_apdu_respond(rem->storage, part, sw, out, out_size, out_len);
    if (err != SEAM_OK)
        goto out;
    memmove(rem->storage, rem->storage + part, rest);
    rem->length = rest;
    if (!rest)
        rem->sw = SEAM_SW_SUCCESS;
out:
    return err;
}
