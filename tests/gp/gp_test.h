/*
 * The fixture of the gp tests: a new card image in a temporary folder, a
 * host link to it in this process (seam_link_card) and a host session over
 * that link; the test applets (SEAM_TEST_APPS); and a digest of the card's
 * whole nvm state for "changes nothing" checks. Header-only (static inline).
 */
#ifndef SEAM_TESTS_GP_TEST_H
#define SEAM_TESTS_GP_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/nvm.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

typedef struct {
    char dir[64];
    char path[96];
    seam_card *card;
    seam_gp_link link;
    seam_gp *gp;
} fixture;

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

static inline int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_non_null(f);
    strcpy(f->dir, "/tmp/seam-gp-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/card.db", f->dir);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
    assert_int_equal(seam_link_card(f->card, &f->link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&f->link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_gp_new(&f->link, &f->gp), SEAM_OK);
    *state = f;
    return 0;
}

static inline int teardown(void **state) {
    fixture *f = *state;
    seam_gp_free(f->gp);
    seam_gp_link_close(&f->link);
    seam_card_close(f->card);
    assert_int_equal(seam_card_remove(f->path), SEAM_OK);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Selects the ISD and opens SCP03 with the test keys at level; asserts 9000. */
static inline void open_isd(fixture *f, uint8_t level) {
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_select(f->gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0, level, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
}

/* Reads apps/<name>.wasm (the caller frees it). */
static inline uint8_t *read_app(const char *name, size_t *len) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    snprintf(path, sizeof path, "%s/%s.wasm", dir ? dir : SEAM_TEST_APPS, name);
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    long l = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)l);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)l, file), (size_t)l);
    fclose(file);
    *len = (size_t)l;
    return b;
}

static inline int digest_record(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                                size_t value_len) {
    uint8_t *acc = ctx, all[96];
    memcpy(all, acc, 32); /* acc = SHA-256(acc || SHA-256(key) || SHA-256(value)) */
    assert_int_equal(seam_crypto_sha256(key, key_len, all + 32), SEAM_OK);
    assert_int_equal(seam_crypto_sha256(value, value_len, all + 64), SEAM_OK);
    assert_int_equal(seam_crypto_sha256(all, sizeof all, acc), SEAM_OK);
    return 0;
}

/* A digest of every record of every table of the card's nvm: the whole card state
   (as fingerprint() in tests/card/card_host.h). */
static inline void fingerprint(seam_card *card, uint8_t out[32]) {
    memset(out, 0, 32);
    for (uint16_t table = 1; table <= 16; table++)
        assert_int_equal(seam_nvm_foreach(seam_card_nvm(card), table, NULL, 0, digest_record, out),
                         SEAM_OK);
}

/* Sends hex-free bytes through the session; returns the SW. */
static inline uint16_t transmit(fixture *f, const uint8_t *apdu, size_t len) {
    uint16_t sw = 0;
    assert_int_equal(seam_gp_transmit(f->gp, apdu, len, NULL, 0, NULL, &sw), SEAM_OK);
    return sw;
}

#define TRANSMIT(f, ...)                                                                           \
    transmit(f, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

#endif
