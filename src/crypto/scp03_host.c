/*
 * The host's side of an SCP03 secure channel (a terminal, a script, a
 * server holding the keys): checks the card cryptogram, builds EXTERNAL
 * AUTHENTICATE, wraps each command (encryption counter, C-DEC, C-MAC over
 * the chaining value) and unwraps each response (R-MAC, R-ENC).
 *
 * States: CLOSED --seam_crypto_scp03_host_open--> OPEN --any failure or
 * seam_crypto_scp03_host_close--> CLOSED (keys wiped). A response that fails
 * its R-MAC closes the channel, as the card does on a bad C-MAC.
 */
#include "crypto_int.h"

#include <string.h>

#define LEVEL_C_MAC 0x01u
#define LEVEL_C_DEC 0x02u
#define LEVEL_R_MAC 0x10u
#define LEVEL_R_ENC 0x20u
#define MAC_LEN     SEAM_CRYPTO_SCP03_S8

static bool level_ok(uint8_t level) {
    return level == 0x00 || level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13 ||
           level == 0x33;
}

void seam_crypto_scp03_host_close(seam_crypto_scp03_host *host) {
    seam_crypto_scp03_session_wipe(&host->keys);
    seam_secure_zero(host, sizeof *host);
}

seam_err seam_crypto_scp03_host_open(seam_crypto_scp03_host *host, const uint8_t *key_enc,
                                     const uint8_t *key_mac, size_t key_len,
                                     const uint8_t host_challenge[8], const uint8_t *response,
                                     size_t response_len, uint8_t level, uint8_t channel,
                                     uint8_t external_authenticate[21]) {
    seam_err err = SEAM_OK;
    uint8_t *cmd = external_authenticate;
    seam_crypto_scp03_host_close(host);
    if ((response_len != 29 && response_len != 32) || !level_ok(level) || channel > 3) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    err = seam_crypto_scp03_derive_session(&host->keys, key_enc, key_mac, key_len, host_challenge,
                                           response + 13, MAC_LEN);
    if (err)
        goto out;
    err = seam_crypto_scp03_verify_card_cryptogram(&host->keys, response + 21, MAC_LEN);
    if (err)
        goto out;
    cmd[0] = (uint8_t)(0x84 | channel);
    cmd[1] = 0x82;
    cmd[2] = level;
    cmd[3] = 0x00;
    cmd[4] = 16;
    err = seam_crypto_scp03_host_cryptogram(&host->keys, cmd + 5);
    if (err)
        goto out;
    memset(host->chain, 0, sizeof host->chain);
    /* the MAC covers CLA' = the class without its channel bits (gp_facts 3.6) */
    uint8_t header[5] = {0x84, cmd[1], cmd[2], cmd[3], cmd[4]};
    err = seam_crypto_scp03_command_mac(&host->keys, host->chain, header, 5, cmd + 5, 8, cmd + 13);
    if (err)
        goto out;
    host->level = level;
    host->counter = 0;
    host->open = true;
out:
    if (err)
        seam_crypto_scp03_host_close(host);
    return err;
}

seam_err seam_crypto_scp03_host_wrap(seam_crypto_scp03_host *host, const uint8_t *apdu, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len) {
    seam_err err = SEAM_OK;
    size_t nc = 0, data_len = 0, need;
    bool has_le = false;
    if (!host->open || len < 4) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    /* short APDUs only: case 1, 2, 3 or 4 */
    if (len == 5) {
        has_le = true;
    } else if (len > 5) {
        nc = apdu[4];
        if (nc == 0 || (len != 5 + nc && len != 6 + nc)) {
            err = SEAM_ERR_MALFORMED;
            goto out;
        }
        has_le = len == 6 + nc;
    }
    data_len = nc;
    if ((host->level & LEVEL_C_DEC) && nc)
        data_len = (nc / 16 + 1) * 16;
    need = 5 + data_len + MAC_LEN + (has_le ? 1 : 0);
    if (data_len + MAC_LEN > 255 || need > cap) {
        err = need > cap ? SEAM_ERR_BUFFER_SMALL : SEAM_ERR_ARG;
        *out_len = need;
        goto out;
    }
    host->counter++; /* every command counts, with or without data */
    out[0] = (uint8_t)(apdu[0] | 0x04);
    memcpy(out + 1, apdu + 1, 3);
    out[4] = (uint8_t)(data_len + MAC_LEN);
    if ((host->level & LEVEL_C_DEC) && nc) {
        size_t written = 0;
        err = seam_crypto_scp03_encrypt_command(&host->keys, host->counter, apdu + 5, nc, out + 5,
                                                cap - 5, &written);
        if (err)
            goto out;
    } else if (nc) {
        memcpy(out + 5, apdu + 5, nc);
    }
    uint8_t header[5] = {(uint8_t)((out[0] & ~0x03u) | 0x04), out[1], out[2], out[3], out[4]};
    err = seam_crypto_scp03_command_mac(&host->keys, host->chain, header, 5, out + 5, data_len,
                                        out + 5 + data_len);
    if (err)
        goto out;
    if (has_le)
        out[5 + data_len + MAC_LEN] = len == 5 ? apdu[4] : apdu[len - 1];
    *out_len = need;
out:
    if (err && err != SEAM_ERR_BUFFER_SMALL && err != SEAM_ERR_MALFORMED)
        seam_crypto_scp03_host_close(host);
    return err;
}

/* A command to chain: header, data and Le from a short or extended APDU. */
typedef struct {
    const uint8_t *data;
    size_t nc;
    size_t ne; /* 0: no Le */
} whole_command;

/* Parses apdu[0..len) as a short or extended command APDU; false if malformed. */
static bool parse_whole(const uint8_t *apdu, size_t len, whole_command *w) {
    bool ok = true;
    size_t v = len >= 7 ? (size_t)apdu[5] << 8 | apdu[6] : 0;
    *w = (whole_command){NULL, 0, 0};
    if (len < 4) {
        ok = false;
    } else if (len == 5) {
        w->ne = apdu[4] ? apdu[4] : 256;
    } else if (len > 5 && apdu[4] != 0) {
        w->nc = apdu[4];
        w->data = apdu + 5;
        ok = len == 5 + w->nc || len == 6 + w->nc;
        if (ok && len == 6 + w->nc)
            w->ne = apdu[len - 1] ? apdu[len - 1] : 256;
    } else if (len == 7) {
        w->ne = v ? v : 65536;
    } else if (len > 7 && v != 0 && (len == 7 + v || len == 9 + v)) {
        w->nc = v;
        w->data = apdu + 7;
        if (len == 9 + v) {
            size_t le = (size_t)apdu[len - 2] << 8 | apdu[len - 1];
            w->ne = le ? le : 65536;
        }
    } else {
        ok = len == 4;
    }
    return ok;
}

seam_err seam_crypto_scp03_host_wrap_chain(seam_crypto_scp03_host *host, const uint8_t *apdu,
                                           size_t len, size_t block_data, uint8_t *out, size_t cap,
                                           size_t *out_len, size_t *block_len, size_t max_blocks,
                                           size_t *blocks) {
    seam_err err = SEAM_OK;
    whole_command w;
    bool mac = host->level & LEVEL_C_MAC;
    size_t enc_len, body, count, lc, le, need, src, pos = 0;
    if (!parse_whole(apdu, len, &w)) {
        err = SEAM_ERR_MALFORMED;
        goto out;
    }
    if (!host->open || (apdu[2] & 0x80) || w.nc > SEAM_CRYPTO_SCP03_CHAIN_MAX || block_data == 0 ||
        block_data > 255) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    enc_len = (host->level & LEVEL_C_DEC) && w.nc ? (w.nc / 16 + 1) * 16 : w.nc;
    body = enc_len + (mac ? MAC_LEN : 0);
    if (mac && body <= block_data) { /* one block: a short command, as host_wrap makes it */
        uint8_t single[5 + 255 + 1];
        size_t n = 4;
        memcpy(single, apdu, 4);
        if (w.nc) {
            single[n++] = (uint8_t)w.nc;
            memcpy(single + n, w.data, w.nc);
            n += w.nc;
        }
        if (w.ne)
            single[n++] = (uint8_t)(w.ne >= 256 ? 0 : w.ne);
        if (max_blocks < 1) {
            err = SEAM_ERR_BUFFER_SMALL;
            *blocks = 1;
            *out_len = 5 + body + (w.ne ? 1 : 0);
        } else {
            err = seam_crypto_scp03_host_wrap(host, single, n, out, cap, out_len);
            *blocks = 1;
            if (!err)
                block_len[0] = *out_len;
        }
        seam_secure_zero(single, sizeof single);
        goto out;
    }
    count = body ? (body + block_data - 1) / block_data : 1;
    lc = body ? 1 : 0;
    le = w.ne ? 1 : 0;
    need = (4 + lc) * count + body + le;
    if (need > cap || count > max_blocks) {
        err = SEAM_ERR_BUFFER_SMALL;
        *out_len = need;
        *blocks = count;
        goto out;
    }
    /* the whole protected data first, at the end of out; then cut in place */
    src = (4 + lc) * count;
    host->counter += mac ? 1 : (uint32_t)count; /* the card counts what it unwraps */
    if ((host->level & LEVEL_C_DEC) && w.nc) {
        size_t written = 0;
        err = seam_crypto_scp03_encrypt_command(&host->keys, host->counter, w.data, w.nc, out + src,
                                                cap - src, &written);
        if (err)
            goto out;
    } else if (w.nc) {
        memcpy(out + src, w.data, w.nc);
    }
    if (mac) {
        uint8_t header[7] = {(uint8_t)((apdu[0] & ~0x03u) | 0x04),
                             apdu[1],
                             apdu[2],
                             apdu[3],
                             0x00,
                             (uint8_t)(body >> 8),
                             (uint8_t)body};
        err = seam_crypto_scp03_command_mac(&host->keys, host->chain, header, sizeof header,
                                            out + src, enc_len, out + src + enc_len);
        if (err)
            goto out;
    }
    for (size_t k = 0; k < count; k++) {
        size_t part = body - k * block_data < block_data ? body - k * block_data : block_data;
        size_t start = pos;
        out[pos++] = mac ? (uint8_t)(apdu[0] | 0x04) : apdu[0];
        out[pos++] = apdu[1];
        out[pos++] = (uint8_t)(k + 1 < count ? apdu[2] | 0x80 : apdu[2]);
        out[pos++] = apdu[3];
        if (part) {
            out[pos++] = (uint8_t)part;
            memmove(out + pos, out + src + k * block_data, part);
            pos += part;
        }
        if (k + 1 == count && le)
            out[pos++] = (uint8_t)(w.ne >= 256 ? 0 : w.ne);
        block_len[k] = pos - start;
    }
    *out_len = pos;
    *blocks = count;
out:
    if (err && err != SEAM_ERR_BUFFER_SMALL && err != SEAM_ERR_MALFORMED && err != SEAM_ERR_ARG)
        seam_crypto_scp03_host_close(host);
    return err;
}

seam_err seam_crypto_scp03_host_unwrap(seam_crypto_scp03_host *host, const uint8_t *response,
                                       size_t len, uint8_t *out, size_t cap, size_t *out_len) {
    seam_err err = SEAM_OK;
    uint16_t sw;
    size_t data_len;
    if (!host->open || len < 2) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    sw = (uint16_t)(response[len - 2] << 8 | response[len - 1]);
    data_len = len - 2;
    bool protected_sw = sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
    if ((host->level & LEVEL_R_MAC) && protected_sw) {
        if (data_len < MAC_LEN) {
            err = SEAM_ERR_CRYPTO_AUTH;
            goto out;
        }
        data_len -= MAC_LEN;
        err = seam_crypto_scp03_verify_response_mac(&host->keys, host->chain, response, data_len,
                                                    sw, response + data_len, MAC_LEN);
        if (err)
            goto out;
    }
    if (cap < data_len + 2) {
        err = SEAM_ERR_BUFFER_SMALL;
        *out_len = data_len + 2;
        goto out;
    }
    if ((host->level & LEVEL_R_ENC) && protected_sw && data_len) {
        err = seam_crypto_scp03_decrypt_response(&host->keys, host->counter, response, data_len,
                                                 out, &data_len);
        if (err)
            goto out;
    } else if (data_len) {
        memmove(out, response, data_len);
    }
    out[data_len] = (uint8_t)(sw >> 8);
    out[data_len + 1] = (uint8_t)sw;
    *out_len = data_len + 2;
out:
    if (err && err != SEAM_ERR_BUFFER_SMALL)
        seam_crypto_scp03_host_close(host);
    return err;
}
