/*
 * Personalization through the card's APDU interface: INSTALL [for
 * personalization] then STORE DATA delivered to an applet (apps/test_perso),
 * STORE DATA to the ISD itself (IIN, CIN), INSTALL [for registry update] and
 * [for extradition]; refusals leave the card unchanged; a power cut during a
 * STORE DATA leaves the applet as before or after it, never between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "card/package_store.h"
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

static const uint8_t test_key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                     0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};
static const uint8_t tp_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50};
static const uint8_t tp_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
static const uint8_t tp_other[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x02};
static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/seam-perso-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/card.db", f->dir);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    seam_card_close(f->card);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void power_on(seam_card *card) {
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    assert_int_equal(seam_card_power_on(card, atr, sizeof atr, &atr_len), SEAM_OK);
}

static void reopen(fixture *f) {
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
    power_on(f->card);
}

static bool cut_expected; /* a power cut makes send answer 0 instead of failing */

static uint16_t send(seam_card *card, const uint8_t *apdu, size_t len) {
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
static void open_channel(seam_card *card) {
    uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
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
static uint16_t gp(seam_card *card, bool mac, uint8_t ins, uint8_t p1, uint8_t p2,
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

static uint8_t *read_app(const char *name, size_t *len) {
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

static uint16_t install_for_load(seam_card *card, const uint8_t *aid, size_t aid_len) {
    uint8_t d[32] = {(uint8_t)aid_len};
    memcpy(d + 1, aid, aid_len);
    memset(d + 1 + aid_len, 0, 4); /* SD (the ISD), hash, params, token: empty */
    return gp(card, true, 0xE6, 0x02, 0x00, d, 1 + aid_len + 4);
}

/* Sends a load file in LOAD blocks of 200 bytes; returns the last SW. */
static uint16_t load_blocks(seam_card *card, const uint8_t *file, size_t len) {
    uint16_t sw = 0x9000;
    for (size_t off = 0, block = 0; off < len && sw == 0x9000; off += 200, block++) {
        size_t n = len - off < 200 ? len - off : 200;
        sw = gp(card, true, 0xE8, off + n == len ? 0x80 : 0x00, (uint8_t)block, file + off, n);
    }
    return sw;
}

static void load(seam_card *card, const char *name, const uint8_t *aid, size_t aid_len) {
    size_t len;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(install_for_load(card, aid, aid_len), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
}

static uint16_t install(seam_card *card, uint8_t p1, const uint8_t *pkg, const uint8_t *cls,
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

static uint16_t select_aid(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t cmd[5 + 16 + 1] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    return send(card, cmd, 6 + len);
}

/* Loads test_perso and installs tp_cls (P1 p1) as instance tp_cls; leaves the channel open. */
static void load_and_install(seam_card *card, uint8_t p1) {
    power_on(card);
    open_channel(card);
    load(card, "test_perso", tp_pkg, sizeof tp_pkg);
    assert_int_equal(install(card, p1, tp_pkg, tp_cls, tp_cls, NULL, 0), 0x9000);
}

static uint16_t install_for_perso(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t d[3 + 16 + 3] = {0, 0, (uint8_t)len};
    memcpy(d + 3, aid, len);
    memset(d + 3 + len, 0, 3);
    return gp(card, true, 0xE6, 0x20, 0x00, d, 3 + len + 3);
}

static uint16_t store_data(seam_card *card, uint8_t p1, uint8_t p2, const uint8_t *d, size_t n) {
    return gp(card, true, 0xE2, p1, p2, d, n);
}

#define STORE(card, p1, p2, ...)                                                                   \
    store_data(card, p1, p2, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* The applet's state (personalized || record) through SELECT and GET DATA on
 * channel 0; this ends the secure channel. */
static size_t applet_state(seam_card *card, uint8_t *out) {
    assert_int_equal(select_aid(card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0xCA, 0x00, 0x00, 0x00), 0x9000);
    memcpy(out, response, response_len - 2);
    return response_len - 2;
}

static void assert_state(seam_card *card, const uint8_t *want, size_t want_len) {
    uint8_t got[256];
    size_t len = applet_state(card, got);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
}

static store_instance instance(seam_card *card, const uint8_t *aid, size_t len) {
    store_instance inst;
    assert_int_equal(store_instance_get(seam_card_nvm(card), aid, len, &inst), SEAM_OK);
    return inst;
}

/* ---- tests ------------------------------------------------------------------------ */

static void store_data_personalizes_an_applet(void **state) {
    fixture *f = *state;
    /* installed with P1 04: personalized before it is selectable */
    load_and_install(f->card, 0x04);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(response_len, 3);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(STORE(f->card, 0x00, 0x00, 0x01, 0x02), 0x9000);
    assert_int_equal(STORE(f->card, 0x00, 0x01, 0x03), 0x9000);
    assert_int_equal(STORE(f->card, 0x81, 0x02, 0x04, 0x05), 0x9000); /* last, case 4 */
    uint8_t ms[] = {0, 0, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 1, 0, 0, 0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x08, 0x00, ms, sizeof ms), 0x9000);
    const uint8_t want[] = {0x01, 0x01, 0x02, 0x03, 0x04, 0x05};
    assert_state(f->card, want, sizeof want);
    reopen(f);
    assert_state(f->card, want, sizeof want);
    /* a new INSTALL [for personalization] starts a new sequence at block 00 */
    open_channel(f->card);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x06), 0x9000);
    const uint8_t more[] = {0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
    assert_state(f->card, more, sizeof more);
}

static void store_data_refusals_change_nothing(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    const uint8_t initial[] = {0x00};
    load_and_install(f->card, 0x0C);
    /* no secure channel: neither INSTALL [for personalization] nor STORE DATA */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    size_t used = seam_nvm_used_bytes(nvm);
    uint8_t perso[] = {0, 0, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 0, 0, 0};
    assert_int_equal(gp(f->card, false, 0xE6, 0x20, 0x00, perso, sizeof perso), 0x6982);
    assert_int_equal(gp(f->card, false, 0xE2, 0x80, 0x00, (const uint8_t[]){0x01}, 1), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    /* no such instance: an unknown AID, the ISD, the package */
    open_channel(f->card);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(install_for_perso(f->card, tp_other, sizeof tp_other), 0x6A88);
    assert_int_equal(install_for_perso(f->card, isd, sizeof isd), 0x6A88);
    assert_int_equal(install_for_perso(f->card, tp_pkg, sizeof tp_pkg), 0x6A88);
    /* a malformed INSTALL [for personalization] (an ELF AID given) */
    uint8_t bad[] = {6,    0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0, 7, 0xA0,
                     0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 0,    0, 0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x20, 0x00, bad, sizeof bad), 0x6A80);
    /* wrong block order: block 01 first; the refusal ends the sequence and its
       target, so block 00 then goes to the ISD, which knows no tag 01 */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x00, 0x01, 0x01, 0x00), 0x6A86);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x01, 0x00), 0x6A88);
    /* P1 with reserved bits, or both DGI and BER-TLV */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x82, 0x00, 0x01), 0x6A86);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x98, 0x00, 0x01), 0x6A86);
    /* the applet's own refusal: nothing of the block stays */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x00, 0x00, 0xFF, 0x01), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_state(f->card, initial, sizeof initial);
    /* after the last block the target is gone: the next STORE DATA is the ISD's */
    open_channel(f->card);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x07), 0x9000);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x08), 0x6A88);
    assert_int_equal(STORE(f->card, 0x00, 0x01, 0x5A, 0x01, 0x08), 0x6A86);
    /* a new secure channel session ends a target as well */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    open_channel(f->card);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x09), 0x6A88);
    /* the applet selected on another channel: its live state is that channel's */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    uint8_t sel[] = {0x01, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x0A), 0x6985);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    /* the instance deleted after INSTALL [for personalization] */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    uint8_t del[] = {0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del, sizeof del), 0x9000);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x0B), 0x6A88);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
}

static void store_data_refusals_keep_the_applet_state(void **state) {
    fixture *f = *state;
    const uint8_t kept[] = {0x01, 0x5A, 0x01, 0x07};
    load_and_install(f->card, 0x0C);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x07), 0x9000);
    assert_state(f->card, kept, sizeof kept);
    open_channel(f->card);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x08), 0x6A88); /* no target */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x01, 0x5A, 0x01, 0x08), 0x6A86); /* block 01 */
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x08), 0x6A88); /* ended */
    assert_state(f->card, kept, sizeof kept);
}

static void store_data_to_the_isd_sets_iin_and_cin(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    power_on(f->card);
    open_channel(f->card);
    /* DGI 0070 wrapping BER-TLVs 42 and 45, in two blocks */
    assert_int_equal(STORE(f->card, 0x08, 0x00, 0x00, 0x70, 0x05, 0x42, 0x03, 0x11, 0x22, 0x33),
                     0x9000);
    assert_int_equal(STORE(f->card, 0x88, 0x01, 0x00, 0x70, 0x04, 0x45, 0x02, 0x44, 0x55), 0x9000);
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x42, NULL, 0), 0x9000);
    assert_int_equal(response_len, 5 + 2);
    assert_memory_equal(response, ((uint8_t[]){0x42, 0x03, 0x11, 0x22, 0x33}), 5);
    /* BER-TLV format; a new sequence starts at block 00 */
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x45, 0x03, 0x66, 0x77, 0x88), 0x9000);
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x45, NULL, 0), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0x45, 0x03, 0x66, 0x77, 0x88}), 5);
    /* refusals: unknown tag, unknown DGI, a tag mixed with a good one, encrypted
       data, an empty or too long value, a truncated TLV; nothing changes */
    size_t used = seam_nvm_used_bytes(nvm);
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x66, 0x01, 0x00), 0x6A88);
    assert_int_equal(STORE(f->card, 0x88, 0x00, 0x01, 0x01, 0x01, 0x00), 0x6A88);
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x42, 0x01, 0x99, 0x9F, 0x7F, 0x01, 0x00), 0x6A88);
    assert_int_equal(STORE(f->card, 0xF0, 0x00, 0x42, 0x01, 0x99), 0x6A86);
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x42, 0x00), 0x6A80);
    uint8_t big[19] = {0x42, 17};
    assert_int_equal(store_data(f->card, 0x90, 0x00, big, sizeof big), 0x6A80);
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x42, 0x05, 0x99), 0x6A80);
    assert_int_equal(STORE(f->card, 0x88, 0x00, 0x00, 0x70, 0x09, 0x42, 0x01, 0x99), 0x6A80);
    assert_int_equal(STORE(f->card, 0x88, 0x00, 0x00, 0x70, 0xFF, 0x00), 0x6A80);
    assert_int_equal(STORE(f->card, 0x88, 0x00, 0x00, 0x70), 0x6A80);
    assert_int_equal(
        STORE(f->card, 0x88, 0x00, 0x00, 0x70, 0xFF, 0x00, 0x03, 0x45, 0x01, 0x5A, 0x00), 0x6A80);
    assert_int_equal(STORE(f->card, 0x88, 0x00, 0x00, 0x70, 0xFF, 0x00, 0x03, 0x42, 0x01, 0x5A),
                     0x9000);
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x42, NULL, 0), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0x42, 0x01, 0x5A}), 3);
    assert_int_equal(STORE(f->card, 0x90, 0x00, 0x42, 0x03, 0x11, 0x22, 0x33), 0x9000);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x42, NULL, 0), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0x42, 0x03, 0x11, 0x22, 0x33}), 5);
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x45, NULL, 0), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0x45, 0x03, 0x66, 0x77, 0x88}), 5);
}

static void registry_update_and_extradition(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    load_and_install(f->card, 0x0C);
    /* registry update: new privileges (1 byte: the others none) */
    uint8_t ru[] = {0, 0, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 3, 0x04, 0x00, 0x80, 0, 0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x40, 0x00, ru, sizeof ru), 0x9000);
    store_instance inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x04, 0x00, 0x80}), 3);
    uint8_t ru1[] = {8,    0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0, 7,
                     0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 1,    0x02, 0, 0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x40, 0x00, ru1, sizeof ru1), 0x9000);
    inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x02, 0x00, 0x00}), 3);
    /* refusals: unknown instance, the SD privilege, another SD named; unchanged */
    size_t used = seam_nvm_used_bytes(nvm);
    ru[9] = 0x02;
    assert_int_equal(gp(f->card, true, 0xE6, 0x40, 0x00, ru, sizeof ru), 0x6A88);
    ru[9] = 0x01;
    ru[11] = 0x80;
    assert_int_equal(gp(f->card, true, 0xE6, 0x40, 0x00, ru, sizeof ru), 0x6A80);
    ru1[8] = 0x01;
    assert_int_equal(gp(f->card, true, 0xE6, 0x40, 0x00, ru1, sizeof ru1), 0x6A80);
    /* extradition: to an unknown SD, of an unknown instance, malformed; then to the ISD */
    uint8_t ex[] = {8,    0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x01, 0, 7,
                    0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 0,    0,    0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x10, 0x00, ex, sizeof ex), 0x6A88);
    ex[8] = 0x00;
    ex[17] = 0x02;
    assert_int_equal(gp(f->card, true, 0xE6, 0x10, 0x00, ex, sizeof ex), 0x6A88);
    ex[17] = 0x01;
    assert_int_equal(gp(f->card, true, 0xE6, 0x10, 0x00, ex, sizeof ex - 1), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x02, 0x00, 0x00}), 3);
    assert_memory_equal(inst.sd, isd, sizeof isd);
    assert_int_equal(gp(f->card, true, 0xE6, 0x10, 0x00, ex, sizeof ex), 0x9000);
    inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_int_equal(inst.sd_len, sizeof isd);
    assert_memory_equal(inst.sd, isd, sizeof isd);
    /* other INSTALL P1 values stay refused */
    assert_int_equal(gp(f->card, true, 0xE6, 0x30, 0x00, ex, sizeof ex), 0x6A86);
}

static void power_cut_at_every_write_of_a_store_data(void **state) {
    fixture *f = *state;
    uint8_t before[256], now[256];
    size_t before_len;
    load_and_install(f->card, 0x0C);
    before_len = applet_state(f->card, before);
    for (uint64_t n = 1;; n++) {
        const uint8_t block[] = {0xAB, (uint8_t)n};
        open_channel(f->card);
        assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
        seam_nvm *nvm = seam_card_nvm(f->card);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, n), SEAM_OK);
        cut_expected = true;
        uint16_t sw = store_data(f->card, 0x80, 0x00, block, sizeof block);
        cut_expected = false;
        assert_true(sw == 0 || sw == 0x9000);
        if (sw == 0)
            reopen(f);
        else
            assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_OFF, 0), SEAM_OK);
        size_t len = applet_state(f->card, now);
        /* before the block, or after it: the whole block appended */
        bool after = len == before_len + 2 && !memcmp(now + before_len, block, 2);
        assert_true(len == before_len || after);
        assert_memory_equal(now + 1, before + 1, before_len - 1);
        if (sw == 0x9000) {
            assert_true(after);
            assert_int_equal(now[0], 0x01);
            print_message("STORE DATA to an applet: %llu write points cut\n",
                          (unsigned long long)(n - 1));
            assert_true(n >= 3); /* at least two writes were cut */
            break;
        }
        memcpy(before, now, len);
        before_len = len;
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(store_data_personalizes_an_applet, setup, teardown),
        cmocka_unit_test_setup_teardown(store_data_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(store_data_refusals_keep_the_applet_state, setup, teardown),
        cmocka_unit_test_setup_teardown(store_data_to_the_isd_sets_iin_and_cin, setup, teardown),
        cmocka_unit_test_setup_teardown(registry_update_and_extradition, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_a_store_data, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
