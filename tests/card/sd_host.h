/*
 * Security domains for card tests (on top of card_host.h): the built-in SD
 * package, opening an SCP03 channel with any SD and key, installing an SSD,
 * handing its keys over with PUT KEY, and DELETE, all through the host
 * library's session. Header-only (static inline), like card_host.h; a test
 * program includes it once.
 */
#ifndef SEAM_TESTS_SD_HOST_H
#define SEAM_TESTS_SD_HOST_H

#include "card_host.h"

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

/* Selects SD aid and opens a C-MAC channel with the 16-byte key (ENC = MAC = DEK);
   returns the EXTERNAL AUTHENTICATE status, or 0 when the card cryptogram is wrong. */
static inline uint16_t open_sd(seam_card *card, const uint8_t *aid, size_t len,
                               const uint8_t *key) {
    return open_at(card, aid, len, key, 0x01);
}

/* INSTALL [for install (P1 04) or install and make selectable (0C)] of SSD aid from
   the built-in SD package, with priv_len (1 or 3) privilege bytes and C9 00. */
static inline uint16_t install_sd(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len,
                                  const uint8_t *priv, size_t priv_len) {
    seam_gp_install_fields in = {.role = p1,
                                 .elf = aid_of(sd_elf, sizeof sd_elf),
                                 .module = aid_of(sd_module, sizeof sd_module),
                                 .application = aid_of(aid, len),
                                 .privileges_len = priv_len};
    memcpy(in.privileges, priv, priv_len);
    return install_with(card, &in);
}

/* PUT KEY replacing KVN 30 with an AES-128 key set whose three keys are `key`,
   encrypted under the open channel's DEK (the key handover of a new SSD). */
static inline uint16_t put_key_30(seam_card *card, const uint8_t *key) {
    seam_gp_keys keys;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_keys_set(&keys, key, 16), SEAM_OK);
    seam_err e = seam_gp_put_key(session(card), 0x30, 0x30, &keys, &sw);
    seam_secure_zero(&keys, sizeof keys);
    return host_result(e, &sw);
}

#endif
