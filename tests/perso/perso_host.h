/*
 * The test host for perso: a card image in process (tests/card/card_host.h), the
 * card's personalization by its issuer (the ISD with the default test keys creates
 * the domain, an SSD with Authorized Management, privileges 80 C0 00, and hands it
 * over with PUT KEY to fresh random keys: docs/card.md "Security domains"), and the
 * actor the flows take. Header-only; one test program includes it once.
 */
#ifndef SEAM_TESTS_PERSO_HOST_H
#define SEAM_TESTS_PERSO_HOST_H

#include "card/sd_host.h"
#include "seam/perso.h"

static const uint8_t domain_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x00, 0xDD};
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};

/* The issuer creates the domain on card and hands it over: *d gets its key file. */
static inline void issuer_creates_domain(seam_card *card, const uint8_t *aid, size_t aid_len,
                                         seam_perso_domain *d) {
    uint8_t key[16];
    uint16_t sw = 0;
    open_channel(card); /* the ISD, default keys */
    assert_int_equal(install_sd(card, 0x0C, aid, aid_len, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(card, aid, aid_len, test_key), 0x9000); /* the copied key set */
    memset(d, 0, sizeof *d);
    d->aid = aid_of(aid, aid_len);
    d->kvn = 0x30;
    assert_int_equal(seam_crypto_random_fresh(key, sizeof key), SEAM_OK);
    assert_int_equal(seam_gp_keys_set(&d->keys, key, 16), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(d->keys.mac, 16), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(d->keys.dek, 16), SEAM_OK);
    assert_int_equal(seam_gp_put_key(session(card), 0x30, 0x30, &d->keys, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    seam_secure_zero(key, sizeof key);
    host_forget();
}

/* The card's CIN (GET DATA 45 on the ISD) into cin[0..*len). */
static inline void card_cin(seam_card *card, uint8_t cin[SEAM_PERSO_CIN_MAX], size_t *len) {
    assert_int_equal(select_aid(card, NULL, 0), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0xCA, 0x00, 0x45, 0x00), 0x9000);
    assert_int_equal(response[0], 0x45);
    assert_true(response[1] >= 1 && response[1] <= SEAM_PERSO_CIN_MAX);
    *len = response[1];
    memcpy(cin, response + 2, *len);
}

#endif
