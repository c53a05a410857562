/*
 * The test host for card tests: a card image in a temporary folder, APDUs
 * sent in-process, an SCP03 channel opened with the GlobalPlatform test keys,
 * and the applets built by the seam-apps target loaded and installed through
 * INSTALL and LOAD. Header-only (static inline): each test program is one
 * translation unit and uses what it needs.
 */
#ifndef SEAM_TESTS_CARD_HOST_H
#define SEAM_TESTS_CARD_HOST_H

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
#include "seam/nvm.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

typedef struct {
    char dir[64];
    char path[96];
    seam_card *card;
} fixture;

typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
} host_channel;

static uint8_t response[SEAM_CARD_RESPONSE_MAX];
static size_t response_len;
static host_channel host;
static bool cut_expected; /* a power cut makes send answer 0 instead of failing */

static const uint8_t test_key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                     0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};

static inline int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/seam-card-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/card.db", f->dir);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
    *state = f;
    return 0;
}

/* Removes the (closed) image at path with its key file, lock file and journal. */
static inline void remove_image(const char *path) {
    assert_int_equal(seam_card_remove(path), SEAM_OK);
}

static inline int teardown(void **state) {
    fixture *f = *state;
    seam_card_close(f->card);
    remove_image(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static inline void power_on(seam_card *card) {
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    assert_int_equal(seam_card_power_on(card, atr, sizeof atr, &atr_len), SEAM_OK);
}

static inline void reopen(fixture *f) {
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
    power_on(f->card);
}

static inline uint16_t send(seam_card *card, const uint8_t *apdu, size_t len) {
    seam_err e = seam_card_transmit(card, apdu, len, response, sizeof response, &response_len);
    if (cut_expected && e == SEAM_ERR_NVM_POWER_CUT)
        return 0;
    assert_int_equal(e, SEAM_OK);
    assert_true(response_len >= 2);
    return (uint16_t)(response[response_len - 2] << 8 | response[response_len - 1]);
}

#define SEND(card, ...)                                                                            \
    send(card, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* Selects the ISD and opens an SCP03 channel at C-MAC level on channel 0. */
static inline void open_channel(seam_card *card) {
    uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint16_t sw = SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00);
    assert_true(sw == 0x9000 || sw == 0x6283); /* 6283: the ISD of a CARD_LOCKED card */
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x9000);
    assert_int_equal(
        seam_crypto_scp03_derive_session(&host.keys, test_key, test_key, 16, hc, response + 13, 8),
        SEAM_OK);
    uint8_t cmd[5 + 16] = {0x84, 0x82, 0x01, 0x00, 0x10};
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&host.keys, cmd + 5), SEAM_OK);
    memset(host.chain, 0, sizeof host.chain);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&host.keys, host.chain, cmd, 5, cmd + 5, 8, cmd + 13),
        SEAM_OK);
    assert_int_equal(send(card, cmd, sizeof cmd), 0x9000);
}

/* Sends a GP command with C-MAC (mac) or plain. */
static inline uint16_t gp(seam_card *card, bool mac, uint8_t ins, uint8_t p1, uint8_t p2,
                          const uint8_t *data, size_t nc) {
    uint8_t cmd[5 + 255 + 1];
    size_t n = 5 + nc;
    assert_true(nc + 8 <= 255);
    cmd[0] = mac ? 0x84 : 0x80;
    cmd[1] = ins;
    cmd[2] = p1;
    cmd[3] = p2;
    cmd[4] = (uint8_t)(nc + (mac ? 8 : 0));
    if (nc)
        memcpy(cmd + 5, data, nc);
    if (mac) {
        assert_int_equal(
            seam_crypto_scp03_command_mac(&host.keys, host.chain, cmd, 5, data, nc, cmd + n),
            SEAM_OK);
        n += 8;
    }
    cmd[n++] = 0x00;
    return send(card, cmd, n);
}

static inline uint8_t *read_app(const char *name, size_t *len) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    snprintf(path, sizeof path, "%s/%s.wasm", dir ? dir : SEAM_TEST_APPS, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)l + 4);
    assert_non_null(b);
    assert_int_equal(fread(b + 4, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    b[0] = 0xC4; /* the load file: C4 82 hh ll || module */
    b[1] = 0x82;
    b[2] = (uint8_t)(l >> 8);
    b[3] = (uint8_t)l;
    *len = (size_t)l + 4;
    return b;
}

static inline uint16_t install_for_load(seam_card *card, const uint8_t *aid, size_t aid_len) {
    uint8_t d[32] = {(uint8_t)aid_len};
    memcpy(d + 1, aid, aid_len);
    memset(d + 1 + aid_len, 0, 4); /* SD (the ISD), hash, params, token: empty */
    return gp(card, true, 0xE6, 0x02, 0x00, d, 1 + aid_len + 4);
}

/* Sends a load file in LOAD blocks of 200 bytes; returns the last SW. */
static inline uint16_t load_blocks(seam_card *card, const uint8_t *file, size_t len) {
    uint16_t sw = 0x9000;
    for (size_t off = 0, block = 0; off < len && sw == 0x9000; off += 200, block++) {
        size_t n = len - off < 200 ? len - off : 200;
        sw = gp(card, true, 0xE8, off + n == len ? 0x80 : 0x00, (uint8_t)block, file + off, n);
    }
    return sw;
}

static inline void load(seam_card *card, const char *name, const uint8_t *aid, size_t aid_len) {
    size_t len;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(install_for_load(card, aid, aid_len), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
}

static inline uint16_t install(seam_card *card, uint8_t p1, const uint8_t *pkg, const uint8_t *cls,
                               const uint8_t *inst, const uint8_t *params, size_t params_len) {
    uint8_t d[128];
    size_t n = 0;
    d[n++] = 6;
    memcpy(d + n, pkg, 6);
    n += 6;
    d[n++] = 7;
    memcpy(d + n, cls, 7);
    n += 7;
    d[n++] = 7;
    memcpy(d + n, inst, 7);
    n += 7;
    d[n++] = 1;
    d[n++] = 0x00; /* privileges */
    d[n++] = (uint8_t)(2 + params_len);
    d[n++] = 0xC9;
    d[n++] = (uint8_t)params_len;
    if (params_len)
        memcpy(d + n, params, params_len);
    n += params_len;
    d[n++] = 0; /* token */
    return gp(card, true, 0xE6, p1, 0x00, d, n);
}

static inline uint16_t select_aid(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t cmd[5 + 16 + 1] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    return send(card, cmd, 6 + len);
}

/* ---- power cuts ---------------------------------------------------------------------- */

static inline int fingerprint_record(void *ctx, const uint8_t *key, size_t key_len,
                                     const uint8_t *value, size_t value_len) {
    uint8_t *acc = ctx, all[96];
    /* acc = SHA-256(acc || SHA-256(key) || SHA-256(value)): order-sensitive */
    memcpy(all, acc, 32);
    assert_int_equal(seam_crypto_sha256(key, key_len, all + 32), SEAM_OK);
    assert_int_equal(seam_crypto_sha256(value, value_len, all + 64), SEAM_OK);
    assert_int_equal(seam_crypto_sha256(all, sizeof all, acc), SEAM_OK);
    return 0;
}

/* A digest of every record of every table of the card's nvm: the whole card state. */
static inline void fingerprint(seam_card *card, uint8_t out[32]) {
    memset(out, 0, 32);
    for (uint16_t table = 1; table <= 16; table++)
        assert_int_equal(
            seam_nvm_foreach(seam_card_nvm(card), table, NULL, 0, fingerprint_record, out),
            SEAM_OK);
}

/*
 * X4 for one command: op runs on a card that prepare() builds afresh (a new image in
 * f), first without a cut (it must answer 9000 and change the card), then with a power
 * cut at write point 1, 2, ... until it completes. After each cut the card is reopened
 * and its whole nvm state must be what it was right before op. Returns how many write
 * points were swept.
 */
/* Replaces f's card by a new image. */
static inline void fresh_image(fixture *f) {
    seam_card_close(f->card);
    f->card = NULL;
    remove_image(f->path);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
}

static inline int sweep_every_write(fixture *f, void (*prepare)(fixture *f),
                                    uint16_t (*op)(seam_card *card)) {
    uint8_t before[32], after[32], now[32];
    int n = 1;
    fresh_image(f); /* the reference run, without a cut */
    prepare(f);
    fingerprint(f->card, before);
    assert_int_equal(op(f->card), 0x9000);
    fingerprint(f->card, after);
    assert_memory_not_equal(before, after, 32);
    for (;; n++) {
        fresh_image(f);
        prepare(f);
        fingerprint(f->card, before);
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        cut_expected = true;
        uint16_t sw = op(f->card);
        cut_expected = false;
        if (sw == 0x9000) { /* no cut left */
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            break;
        }
        assert_int_equal(sw, 0);
        reopen(f);
        fingerprint(f->card, now);
        assert_memory_equal(now, before, 32); /* the command's transaction is gone */
        assert_true(n < 500);
    }
    return n - 1;
}

#endif
