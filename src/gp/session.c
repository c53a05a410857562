/*
 * The host's session with one card over one link (logical channel 0): the
 * secure channel, and the exchange of one command with its whole response.
 *
 * States of the channel:
 *
 *   NONE ──seam_gp_open_channel: INITIALIZE UPDATE 9000, card cryptogram
 *          verifies, EXTERNAL AUTHENTICATE 9000──▶ OPEN (level 00..33)
 *   OPEN ──a SELECT by name the card accepts, seam_gp_close_channel, a response
 *          whose R-MAC fails, a wrapped chain the card aborts──▶ NONE (keys wiped)
 *
 * In OPEN at a C-MAC level every GP-class command (CLA 80..83) is wrapped by
 * the crypto layer's seam_crypto_scp03_host (counter, C-DEC, C-MAC) and its
 * response unwrapped (R-MAC, R-ENC); ISO-class commands (00..03) go as they
 * are. At level 00 commands go in clear. INSTALL, DELETE and PUT KEY longer
 * than one APDU are sent as a GP chain (P1.b8; one C-MAC over the whole
 * command, gp_facts §1.1); 61xx answers are collected with GET RESPONSE
 * before the whole response is unwrapped.
 */
#include <stdlib.h>
#include <string.h>

#include "gp_int.h"
#include "seam/util.h"

#define LEVEL_C_MAC 0x01u
#define LEVEL_C_DEC 0x02u
#define MAC_LEN     8u

/* ---- the link ------------------------------------------------------------------- */

seam_err seam_gp_link_power_on(const seam_gp_link *link, uint8_t *atr, size_t atr_size,
                               size_t *atr_len) {
    return link && link->ops ? link->ops->power_on(link->ctx, atr, atr_size, atr_len)
                             : SEAM_ERR_ARG;
}

seam_err seam_gp_link_reset(const seam_gp_link *link, uint8_t *atr, size_t atr_size,
                            size_t *atr_len) {
    return link && link->ops ? link->ops->reset(link->ctx, atr, atr_size, atr_len) : SEAM_ERR_ARG;
}

seam_err seam_gp_link_power_off(const seam_gp_link *link) {
    return link && link->ops ? link->ops->power_off(link->ctx) : SEAM_ERR_ARG;
}

seam_err seam_gp_link_transmit(const seam_gp_link *link, const uint8_t *command, size_t len,
                               uint8_t *response, size_t response_size, size_t *response_len) {
    return link && link->ops
               ? link->ops->transmit(link->ctx, command, len, response, response_size, response_len)
               : SEAM_ERR_ARG;
}

void seam_gp_link_close(seam_gp_link *link) {
    if (link && link->ops && link->ops->close)
        link->ops->close(link->ctx);
    if (link)
        memset(link, 0, sizeof *link);
}

/* ---- the session ---------------------------------------------------------------- */

seam_err seam_gp_new(seam_gp_link *link, seam_gp **out) {
    seam_gp *gp;
    if (!link || !link->ops || !out)
        return SEAM_ERR_ARG;
    gp = calloc(1, sizeof *gp);
    if (!gp)
        return SEAM_ERR_NOMEM;
    gp->link = link;
    *out = gp;
    return SEAM_OK;
}

void seam_gp_close_channel(seam_gp *gp) {
    seam_crypto_scp03_host_close(&gp->scp);
    seam_secure_zero(gp->dek, sizeof gp->dek);
    gp->dek_len = 0;
}

void seam_gp_free(seam_gp *gp) {
    if (!gp)
        return;
    seam_gp_close_channel(gp);
    seam_secure_zero(gp->response, sizeof gp->response);
    seam_secure_zero(gp->wire, sizeof gp->wire);
    free(gp);
}

void seam_gp_set_trace(seam_gp *gp, seam_gp_trace_fn fn, void *ctx) {
    gp->trace = fn;
    gp->trace_ctx = ctx;
}

const uint8_t *seam_gp_response(const seam_gp *gp, size_t *len) {
    *len = gp->data_len;
    return gp->response;
}

void seam_gp_last_command(const seam_gp *gp, uint8_t header[4]) {
    memcpy(header, gp->last, 4);
}

bool seam_gp_channel_is_open(const seam_gp *gp, uint8_t *level) {
    if (level)
        *level = gp->scp.open ? gp->scp.level : 0;
    return gp->scp.open;
}

/* True while commands are wrapped: a channel at a C-MAC level. */
static bool wrapping(const seam_gp *gp) {
    return gp->scp.open && (gp->scp.level & LEVEL_C_MAC);
}

size_t seam_gp_block_size(const seam_gp *gp) {
    size_t level = !wrapping(gp) ? 255 : (gp->scp.level & LEVEL_C_DEC) ? 239 : 255 - MAC_LEN;
    return gp->block_cap && gp->block_cap < level ? gp->block_cap : level;
}

seam_err seam_gp_set_block_size(seam_gp *gp, size_t max) {
    if (max > 255)
        return SEAM_ERR_ARG;
    gp->block_cap = max;
    return SEAM_OK;
}

/* The historical bytes of an ATR (ISO/IEC 7816-3 8.2): *hist, *count; false if it is cut. */
static bool atr_history(const uint8_t *atr, size_t len, const uint8_t **hist, size_t *count) {
    size_t pos = 2;
    uint8_t y = len >= 2 ? atr[1] >> 4 : 0;
    if (len < 2)
        return false;
    for (;;) { /* TAi, TBi, TCi as Y says, then TDi (its Y for the next round) */
        pos += (size_t)(y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
        if (!(y & 8))
            break;
        if (pos >= len)
            return false;
        y = atr[pos++] >> 4;
    }
    *count = atr[1] & 0x0F;
    *hist = atr + pos;
    return pos + *count <= len;
}

/* True when the historical bytes hold card capabilities (compact-TLV tag 7, 3 bytes)
   with extended Lc and Le (third byte, b7): ISO/IEC 7816-4 8.1.1.2.7. */
static bool atr_extended(const uint8_t *atr, size_t len) {
    const uint8_t *h = NULL;
    size_t n = 0, pos = 1;
    if (!atr_history(atr, len, &h, &n) || n < 1 || (h[0] != 0x00 && h[0] != 0x80))
        return false;
    if (h[0] == 0x00) /* the last 3 bytes are a status indicator, not compact-TLV */
        n = n >= 4 ? n - 3 : 1;
    while (pos < n) {
        uint8_t tag = h[pos] >> 4, l = h[pos] & 0x0F;
        if (pos + 1 + l > n)
            return false;
        if (tag == 7 && l >= 3)
            return (h[pos + 3] & 0x40) != 0;
        pos += 1u + l;
    }
    return false;
}

seam_err seam_gp_set_atr(seam_gp *gp, const uint8_t *atr, size_t len) {
    const uint8_t *h = NULL;
    size_t n = 0;
    gp->extended = false;
    if (!atr || len < 2 || len > SEAM_GP_ATR_MAX || !atr_history(atr, len, &h, &n))
        return SEAM_ERR_MALFORMED;
    gp->extended = atr_extended(atr, len);
    return SEAM_OK;
}

size_t seam_gp_load_block_size(const seam_gp *gp) {
    if (!gp->extended || gp->block_cap)
        return seam_gp_block_size(gp);
    if (!wrapping(gp))
        return SEAM_GP_COMMAND_MAX;
    return SEAM_GP_COMMAND_MAX - MAC_LEN - ((gp->scp.level & LEVEL_C_DEC) ? 16u : 0u);
}

seam_err seam_gp_set_chain_size(seam_gp *gp, size_t block) {
    if (block > 255)
        return SEAM_ERR_ARG;
    gp->chain_block = block;
    return SEAM_OK;
}

/* The most data of one block of a GP chain. */
static size_t chain_block(const seam_gp *gp) {
    return gp->chain_block ? gp->chain_block : 255;
}

void seam_gp_set_response_chaining(seam_gp *gp, bool follow) {
    gp->no_chaining = !follow;
}

static void trace(seam_gp *gp, seam_gp_trace_point point, const uint8_t *b, size_t n) {
    if (gp->trace)
        gp->trace(gp->trace_ctx, point, b, n);
}

bool gp_apdu_shape(const uint8_t *a, size_t len, size_t *nc, bool *extended) {
    *nc = 0;
    *extended = false;
    if (len < 4)
        return false;
    if (len == 4 || len == 5)
        return true;
    if (a[4] != 0) {
        *nc = a[4];
        return len == 5 + *nc || len == 6 + *nc;
    }
    size_t v = (size_t)a[5] << 8 | (len > 6 ? a[6] : 0);
    *extended = true;
    if (len == 7)
        return true;
    *nc = v;
    return len > 7 && v != 0 && (len == 7 + v || len == 9 + v);
}

/* Sends one APDU as it is and appends its response (data || SW) at gp->response + at;
 *got gets the bytes received. */
static seam_err wire(seam_gp *gp, const uint8_t *cmd, size_t len, size_t at, size_t *got) {
    seam_err e;
    trace(gp, SEAM_GP_TRACE_COMMAND_WRAPPED, cmd, len);
    e = seam_gp_link_transmit(gp->link, cmd, len, gp->response + at, sizeof gp->response - at, got);
    if (!e && *got < 2)
        e = SEAM_ERR_GP_RESPONSE;
    if (!e)
        trace(gp, SEAM_GP_TRACE_RESPONSE_WRAPPED, gp->response + at, *got);
    return e;
}

/* Sends the last (or only) APDU and collects the whole response with GET RESPONSE
   while the card answers 61xx (resending once with the right Le on 6Cxx when the
   command is sent in clear); gp->response then holds data || SW, *total bytes. */
static seam_err send_collect(seam_gp *gp, const uint8_t *cmd, size_t len, bool clear,
                             size_t *total) {
    size_t at = 0, got = 0;
    seam_err e = wire(gp, cmd, len, 0, &got);
    if (!e && gp->no_chaining) {
        *total = got;
        return SEAM_OK;
    }
    if (!e && clear && gp->response[got - 2] == 0x6C && len >= 5 && len <= 261 &&
        (len == 5 || len == 6u + cmd[4])) {
        uint8_t again[261];
        memcpy(again, cmd, len);
        again[len - 1] = gp->response[got - 1];
        e = wire(gp, again, len, 0, &got);
    }
    while (!e && gp->response[at + got - 2] == 0x61) {
        uint8_t get[5] = {(uint8_t)(cmd[0] & 0x03), 0xC0, 0x00, 0x00, gp->response[at + got - 1]};
        at += got - 2; /* the next part overwrites the 61xx */
        if (sizeof gp->response - at < 256 + 2 || at > SEAM_GP_RESPONSE_MAX) {
            e = SEAM_ERR_GP_RESPONSE;
            break;
        }
        e = wire(gp, get, sizeof get, at, &got);
    }
    if (!e)
        *total = at + got;
    return e;
}

/* Cuts a clear command with more than 255 bytes of data into a GP chain in gp->wire. */
static seam_err cut_clear(seam_gp *gp, const uint8_t *a, size_t len, size_t *blocks) {
    size_t nc, pos = 0, k = 0, off;
    bool extended, le;
    if (!gp_apdu_shape(a, len, &nc, &extended))
        return SEAM_ERR_MALFORMED;
    off = extended ? 7 : 5;
    le = len > off + nc;
    for (size_t done = 0; done < nc; k++) {
        size_t part = nc - done < chain_block(gp) ? nc - done : chain_block(gp);
        bool last = done + part == nc;
        if (k == sizeof gp->block_len / sizeof gp->block_len[0])
            return SEAM_ERR_ARG;
        size_t start = pos;
        gp->wire[pos++] = a[0];
        gp->wire[pos++] = a[1];
        gp->wire[pos++] = (uint8_t)(last ? a[2] : a[2] | 0x80);
        gp->wire[pos++] = a[3];
        gp->wire[pos++] = (uint8_t)part;
        memcpy(gp->wire + pos, a + off + done, part);
        pos += part;
        if (last && le)
            gp->wire[pos++] = 0x00;
        gp->block_len[k] = pos - start;
        done += part;
    }
    *blocks = k;
    return SEAM_OK;
}

seam_err gp_wrap_extended(seam_crypto_scp03_host *h, const uint8_t *apdu, const uint8_t *data,
                          size_t nc, bool le, uint8_t *out, size_t cap, size_t *out_len) {
    size_t body = ((h->level & LEVEL_C_DEC) && nc ? (nc / 16 + 1) * 16 : nc) + MAC_LEN;
    size_t written = 0;
    seam_err e = SEAM_OK;
    if (!h->open || body > 0xFFFF || 7 + body + 2 > cap)
        return SEAM_ERR_ARG;
    h->counter++; /* every command counts */
    out[0] = (uint8_t)(apdu[0] | 0x04);
    memcpy(out + 1, apdu + 1, 3);
    out[4] = 0x00;
    out[5] = (uint8_t)(body >> 8);
    out[6] = (uint8_t)body;
    if ((h->level & LEVEL_C_DEC) && nc)
        e = seam_crypto_scp03_encrypt_command(&h->keys, h->counter, data, nc, out + 7, cap - 7,
                                              &written);
    else if (nc)
        memcpy(out + 7, data, nc);
    uint8_t header[7] = {
        (uint8_t)((out[0] & ~0x03u) | 0x04), out[1], out[2], out[3], 0x00, out[5], out[6]};
    if (!e)
        e = seam_crypto_scp03_command_mac(&h->keys, h->chain, header, sizeof header, out + 7,
                                          body - MAC_LEN, out + 7 + body - MAC_LEN);
    if (e) {
        seam_crypto_scp03_host_close(h);
        return e;
    }
    *out_len = 7 + body;
    if (le) {
        out[(*out_len)++] = 0x00;
        out[(*out_len)++] = 0x00;
    }
    return SEAM_OK;
}

seam_err gp_exchange(seam_gp *gp, const uint8_t *apdu, size_t len, uint16_t *sw) {
    size_t nc = 0, blocks = 1, wire_len = 0, total = 0, pos = 0;
    bool extended = false, secure;
    seam_err e = SEAM_OK;
    gp->data_len = 0;
    if (!apdu || !gp_apdu_shape(apdu, len, &nc, &extended))
        return SEAM_ERR_MALFORMED;
    memcpy(gp->last, apdu, 4);
    trace(gp, SEAM_GP_TRACE_COMMAND, apdu, len);
    secure = wrapping(gp) && (apdu[0] & 0xFC) == 0x80;
    if (secure && gp_chainable(apdu)) {
        e = seam_crypto_scp03_host_wrap_chain(
            &gp->scp, apdu, len, chain_block(gp), gp->wire, sizeof gp->wire, &wire_len,
            gp->block_len, sizeof gp->block_len / sizeof gp->block_len[0], &blocks);
    } else if (secure) {
        size_t body = ((gp->scp.level & LEVEL_C_DEC) && nc ? (nc / 16 + 1) * 16 : nc) + MAC_LEN;
        if ((extended || body > 255) && !gp->extended)
            return SEAM_ERR_ARG;      /* checked here: the crypto layer would close the channel */
        size_t at = extended ? 7 : 5; /* where the data starts, and the Le bytes after it */
        bool le = nc ? len > at + nc : len > 4;
        if (extended || body > 255)
            e = gp_wrap_extended(&gp->scp, apdu, apdu + at, nc, le, gp->wire, sizeof gp->wire,
                                 &gp->block_len[0]);
        else
            e = seam_crypto_scp03_host_wrap(&gp->scp, apdu, len, gp->wire, sizeof gp->wire,
                                            &gp->block_len[0]);
    } else if (nc > chain_block(gp) && gp_chainable(apdu)) {
        e = cut_clear(gp, apdu, len, &blocks);
    } else {
        if (len > sizeof gp->wire)
            return SEAM_ERR_ARG;
        memcpy(gp->wire, apdu, len);
        gp->block_len[0] = len;
    }
    if (e) {
        if (!gp->scp.open)
            seam_gp_close_channel(gp);
        return e;
    }
    for (size_t k = 0; k + 1 < blocks && !e; k++) { /* the chain's blocks: 9000 each */
        size_t got = 0;
        e = wire(gp, gp->wire + pos, gp->block_len[k], 0, &got);
        pos += gp->block_len[k];
        if (!e && (gp->response[got - 2] != 0x90 || gp->response[got - 1] != 0x00)) {
            *sw = (uint16_t)(gp->response[got - 2] << 8 | gp->response[got - 1]);
            if (secure)
                seam_gp_close_channel(gp); /* the MAC chain moved past the card's */
            trace(gp, SEAM_GP_TRACE_RESPONSE, gp->response + got - 2, 2);
            return SEAM_OK;
        }
    }
    if (!e)
        e = send_collect(gp, gp->wire + pos, gp->block_len[blocks - 1], !secure, &total);
    if (!e && secure) {
        e = seam_crypto_scp03_host_unwrap(&gp->scp, gp->response, total, gp->response,
                                          sizeof gp->response, &total);
        if (e)
            seam_gp_close_channel(gp);
    }
    if (e)
        return e;
    gp->data_len = total - 2;
    *sw = (uint16_t)(gp->response[total - 2] << 8 | gp->response[total - 1]);
    if (gp_selects(apdu) && (*sw == 0x9000 || (*sw >> 8) == 0x62 || (*sw >> 8) == 0x63))
        seam_gp_close_channel(gp); /* a new selection ends the card's session too */
    trace(gp, SEAM_GP_TRACE_RESPONSE, gp->response, total);
    return SEAM_OK;
}

seam_err seam_gp_transmit(seam_gp *gp, const uint8_t *apdu, size_t len, uint8_t *data, size_t cap,
                          size_t *data_len, uint16_t *sw) {
    uint16_t got = 0;
    seam_err e = gp_exchange(gp, apdu, len, &got);
    if (e)
        return e;
    if (data_len)
        *data_len = gp->data_len;
    if (data && gp->data_len > cap)
        return SEAM_ERR_BUFFER_SMALL;
    if (data && gp->data_len)
        memcpy(data, gp->response, gp->data_len);
    *sw = got;
    return SEAM_OK;
}

seam_err seam_gp_select(seam_gp *gp, const uint8_t *aid, size_t len, uint16_t *sw) {
    uint8_t cmd[5 + SEAM_GP_AID_MAX + 1] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    if (len > SEAM_GP_AID_MAX || (len && !aid))
        return SEAM_ERR_ARG;
    if (len == 0) /* case 2: no data, Le 00 */
        return gp_exchange(gp, cmd, 5, sw);
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    return gp_exchange(gp, cmd, 6 + len, sw);
}

static bool level_ok(uint8_t level) {
    return level == 0x00 || level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13 ||
           level == 0x33;
}

seam_err seam_gp_open_channel(seam_gp *gp, const seam_gp_keys *keys, uint8_t kvn, uint8_t level,
                              seam_gp_channel_info *info, uint16_t *sw) {
    uint8_t init[14] = {0x80, 0x50, kvn, 0x00, 0x08}, ext[21];
    seam_err e;
    seam_gp_close_channel(gp);
    if (!level_ok(level) || kvn > 0x7F || (keys->len != 16 && keys->len != 24 && keys->len != 32))
        return SEAM_ERR_ARG;
    e = seam_crypto_random(init + 5, 8);
    if (!e)
        e = gp_exchange(gp, init, sizeof init, sw);
    if (e || *sw != 0x9000)
        return e;
    if (gp->data_len != 29 && gp->data_len != 32)
        return SEAM_ERR_GP_RESPONSE;
    if (info) {
        memset(info, 0, sizeof *info);
        memcpy(info->diversification, gp->response, 10);
        info->kvn = gp->response[10];
        info->scp = gp->response[11];
        info->i = gp->response[12];
        info->has_counter = gp->data_len == 32;
        if (info->has_counter)
            memcpy(info->counter, gp->response + 29, 3);
    }
    e = seam_crypto_scp03_host_open(&gp->scp, keys->enc, keys->mac, keys->len, init + 5,
                                    gp->response, gp->data_len, level, 0, ext);
    if (e == SEAM_ERR_CRYPTO_AUTH)
        e = SEAM_ERR_GP_CRYPTOGRAM; /* not these keys: nothing more is sent */
    if (!e)
        e = gp_exchange(gp, ext, sizeof ext, sw);
    if (!e && *sw == 0x9000) {
        memcpy(gp->dek, keys->dek, keys->len);
        gp->dek_len = keys->len;
    } else {
        seam_gp_close_channel(gp);
    }
    seam_secure_zero(ext, sizeof ext);
    return e;
}
