/*
 * Security domains for card tests (on top of card_host.h): the built-in SD
 * package, opening an SCP03 channel with any SD and key, installing an SSD,
 * handing its keys over with PUT KEY, and DELETE. Header-only (static
 * inline), like card_host.h; a test program includes it once.
 */
#ifndef SEAM_TESTS_SD_HOST_H
#define SEAM_TESTS_SD_HOST_H

#include "card_host.h"

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

static uint8_t channel_dek[16]; /* the static DEK of the open channel, for PUT KEY */

/* Selects SD aid and opens a C-MAC channel with the 16-byte key (ENC = MAC = DEK);
   returns the EXTERNAL AUTHENTICATE status, or 0 when the card cryptogram is wrong. */
static inline uint16_t open_sd(seam_card *card, const uint8_t *aid, size_t len,
                               const uint8_t *key) {
    uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(select_aid(card, aid, len), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x9000);
    assert_int_equal(
        seam_crypto_scp03_derive_session(&host.keys, key, key, 16, hc, response + 13, 8), SEAM_OK);
    if (seam_crypto_scp03_verify_card_cryptogram(&host.keys, response + 21, 8) != SEAM_OK)
        return 0;
    uint8_t cmd[5 + 16] = {0x84, 0x82, 0x01, 0x00, 0x10};
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&host.keys, cmd + 5), SEAM_OK);
    memset(host.chain, 0, sizeof host.chain);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&host.keys, host.chain, cmd, 5, cmd + 5, 8, cmd + 13),
        SEAM_OK);
    memcpy(channel_dek, key, 16);
    return send(card, cmd, sizeof cmd);
}

/* INSTALL [for install (P1 04) or install and make selectable (0C)] of SSD aid from
   the built-in SD package, with priv_len (1 or 3) privilege bytes and C9 00. */
static inline uint16_t install_sd(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len,
                                  const uint8_t *priv, size_t priv_len) {
    uint8_t d[64];
    size_t n = 0;
    d[n++] = sizeof sd_elf;
    memcpy(d + n, sd_elf, sizeof sd_elf);
    n += sizeof sd_elf;
    d[n++] = sizeof sd_module;
    memcpy(d + n, sd_module, sizeof sd_module);
    n += sizeof sd_module;
    d[n++] = (uint8_t)len;
    memcpy(d + n, aid, len);
    n += len;
    d[n++] = (uint8_t)priv_len;
    memcpy(d + n, priv, priv_len);
    n += priv_len;
    d[n++] = 2;
    d[n++] = 0xC9;
    d[n++] = 0x00;
    d[n++] = 0x00;
    return gp(card, true, 0xE6, p1, 0x00, d, n);
}

/* PUT KEY replacing KVN 30 with an AES-128 key set whose three keys are `key`,
   encrypted under the open channel's DEK (the key handover of a new SSD). */
static inline uint16_t put_key_30(seam_card *card, const uint8_t *key) {
    static const uint8_t iv[16] = {0};
    uint8_t d[96];
    size_t n = 0;
    d[n++] = 0x30;
    for (int i = 0; i < 3; i++) {
        d[n++] = 0x88;
        d[n++] = 0x11;
        d[n++] = 0x10;
        assert_int_equal(seam_crypto_aes_cbc_encrypt(channel_dek, 16, iv, key, 16, d + n), SEAM_OK);
        n += 16;
        d[n++] = 0x03;
        assert_int_equal(seam_crypto_aes_kcv(key, 16, d + n), SEAM_OK);
        n += 3;
    }
    return gp(card, true, 0xD8, 0x30, 0x81, d, n);
}

/* DELETE of card content aid (P2 00: the object; 80: with what depends on it). */
static inline uint16_t delete_aid(seam_card *card, const uint8_t *aid, size_t len, uint8_t p2) {
    uint8_t d[18] = {0x4F, (uint8_t)len};
    memcpy(d + 2, aid, len);
    return gp(card, true, 0xE4, 0x00, p2, d, 2 + len);
}

#endif
