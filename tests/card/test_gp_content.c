/*
 * Card content through the card's APDU interface: LOAD of wasm packages,
 * INSTALL of applet instances, SELECT and use of applets, DELETE; the
 * purse's state surviving restarts and power cuts (X4); refusals leaving the
 * card unchanged (X6).
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
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/seam-content-XXXXXX");
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

static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0, 100};

/* Loads hello and purse and installs one instance of each (AID = class AID). */
static void load_and_install_both(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "hello", hello_pkg, sizeof hello_pkg);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
    assert_int_equal(response_len, 3);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(
        install(card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
}

static uint16_t select_aid(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t cmd[5 + 16 + 1] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    return send(card, cmd, 6 + len);
}

static uint32_t purse_balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    return (uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 | (uint32_t)response[2] << 8 |
           response[3];
}

static void verify_pin(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
}

/* ---- tests ------------------------------------------------------------------------ */

static void loaded_applets_answer_and_the_purse_survives_a_restart(void **state) {
    fixture *f = *state;
    load_and_install_both(f->card);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x10, 0x00, 0x00, 0x03, 1, 2, 3, 0x00), 0x9000);
    assert_int_equal(response_len, 3 + 2);
    assert_memory_equal(response, ((uint8_t[]){1, 2, 3}), 3);
    /* partial AID: the purse (after the SDs and hello in AID order: 48 < 50) */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0, 0, 0, 0x05, 0x50, 0x55),
                     0x9000);
    assert_int_equal(purse_balance(f->card), 100);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 50), 0x6985); /* PIN */
    verify_pin(f->card);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 50), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 30), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 1, 0), 0x6985);
    assert_int_equal(purse_balance(f->card), 120);
    reopen(f);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(purse_balance(f->card), 120);
    assert_int_equal(response[7], 2); /* transaction counter */
    /* the ISD is still there and answers its own commands */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x42, 0x00), 0x9000);
}

static void refusals_leave_nothing_behind(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t len;
    uint8_t *file = read_app("hello", &len);
    power_on(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    /* no secure channel */
    uint8_t d[] = {6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0, 0, 0, 0};
    assert_int_equal(gp(f->card, false, 0xE6, 0x02, 0x00, d, sizeof d), 0x6982);
    assert_int_equal(gp(f->card, false, 0xE8, 0x80, 0x00, file, 200), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    open_channel(f->card);
    used = seam_nvm_used_bytes(nvm); /* the sequence counter moved */
    /* LOAD without INSTALL [for load], then blocks out of order */
    assert_int_equal(gp(f->card, true, 0xE8, 0x00, 0x00, file, 200), 0x6985);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE8, 0x00, 0x01, file, 200), 0x6A86);
    assert_int_equal(gp(f->card, true, 0xE8, 0x00, 0x00, file, 200), 0x6985); /* load ended */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE8, 0x00, 0x00, file, 200), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE8, 0x80, 0x00, file + 200, 200), 0x6A86); /* repeat */
    /* a load file that is not a wasm module, or whose C4 length is wrong */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(
        gp(f->card, true, 0xE8, 0x80, 0x00, (const uint8_t[]){0xC4, 4, 0, 0x61, 0x73, 0x6D}, 6),
        0x6A80);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    file[3] ^= 1;
    assert_int_equal(load_blocks(f->card, file, len), 0x6A80);
    file[3] ^= 1;
    /* hello's module loaded under the purse's AID */
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x6A80);
    /* bad INSTALL [for load] data: a short AID, trailing bytes, a foreign SD */
    assert_int_equal(
        gp(f->card, true, 0xE6, 0x02, 0x00, (const uint8_t[]){2, 0xA0, 0, 0, 0, 0, 0}, 7), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xE6, 0x02, 0x00,
                        (const uint8_t[]){5, 0xA0, 0, 0, 0, 1, 5, 0xA0, 0, 0, 0, 2, 0, 0, 0}, 15),
                     0x6A80);
    /* INSTALL of an unknown package, DELETE of an unknown AID */
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x6A88);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00,
                        (const uint8_t[]){0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45}, 8),
                     0x6A88);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    free(file);
}

static void install_refusals_change_nothing(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    load_and_install_both(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    static const uint8_t other[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x02};
    /* the instance AID is taken; an unknown class; the purse's own 6A80 (bad PIN length) */
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, purse_cls, NULL, 0), 0x6985);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, hello_cls, other, NULL, 0), 0x6A88);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, other, (const uint8_t[]){2, 1, 2}, 3), 0x6A80);
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x6985); /* loaded */
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_int_equal(select_aid(f->card, other, sizeof other), 0x6A82);
    /* INSTALL [for install] alone: not selectable until [for make selectable] */
    open_channel(f->card);
    assert_int_equal(install(f->card, 0x04, purse_pkg, purse_cls, other, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, other, sizeof other), 0x6A82);
    open_channel(f->card);
    uint8_t ms[] = {0, 0, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x02, 1, 0, 0, 0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x08, 0x00, ms, sizeof ms), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE6, 0x08, 0x00, ms, sizeof ms), 0x6985);
    assert_int_equal(select_aid(f->card, other, sizeof other), 0x9000);
    assert_int_equal(purse_balance(f->card), 0); /* default install: balance 0 */
}

static void delete_removes_instances_and_packages(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t before = seam_nvm_used_bytes(nvm);
    load_and_install_both(f->card);
    uint8_t del_hello_pkg[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
    uint8_t del_purse[] = {0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    uint8_t del_purse_pkg[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    uint8_t del_isd[] = {0x4F, 8, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    /* the purse selected on channel 1 cannot go */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    uint8_t sel[] = {0x01, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_purse, sizeof del_purse), 0x6985);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_isd, sizeof del_isd), 0x6985);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    /* a package with an instance needs P2 80 */
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_hello_pkg, sizeof del_hello_pkg),
                     0x6985);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x80, del_hello_pkg, sizeof del_hello_pkg),
                     0x9000);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_purse, sizeof del_purse), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_purse, sizeof del_purse), 0x6A88);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_purse_pkg, sizeof del_purse_pkg),
                     0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x6A82);
    /* everything but the sequence counter's record is as before */
    assert_int_equal(seam_nvm_used_bytes(nvm), before);
}

static void power_cut_at_every_write_of_a_purse_debit(void **state) {
    fixture *f = *state;
    load_and_install_both(f->card);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    verify_pin(f->card);
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint64_t before = seam_nvm_write_points(nvm);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
    uint64_t points = seam_nvm_write_points(nvm) - before;
    print_message("purse debit: %llu NVM bytes written, %llu write points\n",
                  (unsigned long long)seam_nvm_txn_bytes_written(nvm), (unsigned long long)points);
    assert_true(points >= 2);
    uint32_t balance = 99;
    for (uint64_t n = 1; n <= points; n++) {
        nvm = seam_card_nvm(f->card);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, n), SEAM_OK);
        uint8_t debit[] = {0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1};
        assert_int_equal(seam_card_transmit(f->card, debit, sizeof debit, response, sizeof response,
                                            &response_len),
                         SEAM_ERR_NVM_POWER_CUT);
        reopen(f);
        assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
        uint32_t now = purse_balance(f->card);
        assert_true(now == balance || now == balance - 1);
        verify_pin(f->card);
        assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
        assert_int_equal(purse_balance(f->card), now - 1);
        balance = now - 1;
    }
}

static void power_cut_at_every_write_of_load_and_install(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *file = read_app("purse", &len);
    for (uint64_t n = 1;; n++) {
        power_on(f->card);
        open_channel(f->card);
        seam_nvm *nvm = seam_card_nvm(f->card);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, n), SEAM_OK);
        cut_expected = true;
        uint16_t first = install_for_load(f->card, purse_pkg, sizeof purse_pkg);
        cut_expected = false;
        seam_err e = first == 0 ? SEAM_ERR_NVM_POWER_CUT : SEAM_OK;
        assert_true(first == 0 || first == 0x9000);
        /* the last block and the install: their writes are the ones that matter */
        for (size_t off = 0, block = 0; !e && off < len; off += 200, block++) {
            size_t m = len - off < 200 ? len - off : 200;
            uint8_t cmd[5 + 200 + 8 + 1] = {0x84, 0xE8, off + m == len ? 0x80 : 0x00,
                                            (uint8_t)block, (uint8_t)(m + 8)};
            memcpy(cmd + 5, file + off, m);
            seam_crypto_scp03_command_mac(&host.keys, host.chain, cmd, 5, file + off, m,
                                          cmd + 5 + m);
            cmd[5 + m + 8] = 0;
            e = seam_card_transmit(f->card, cmd, 5 + m + 9, response, sizeof response,
                                   &response_len);
        }
        if (!e) {
            cut_expected = true;
            uint16_t sw = install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, NULL, 0);
            cut_expected = false;
            e = sw == 0 ? SEAM_ERR_NVM_POWER_CUT : SEAM_OK;
            assert_true(sw == 0 || sw == 0x9000);
        }
        if (!e) { /* no cut left: the sweep is over */
            assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_OFF, 0), SEAM_OK);
            break;
        }
        assert_int_equal(e, SEAM_ERR_NVM_POWER_CUT);
        reopen(f);
        /* either nothing, the package alone, or the package and a working purse */
        uint16_t sw = select_aid(f->card, purse_cls, sizeof purse_cls);
        assert_true(sw == 0x9000 || sw == 0x6A82);
        if (sw == 0x9000)
            assert_int_equal(purse_balance(f->card), 0);
        open_channel(f->card);
        uint8_t del[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
        sw = gp(f->card, true, 0xE4, 0x00, 0x80, del, sizeof del);
        assert_true(sw == 0x9000 || sw == 0x6A88);
        seam_card_power_off(f->card);
    }
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(purse_balance(f->card), 0);
    free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loaded_applets_answer_and_the_purse_survives_a_restart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_leave_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(install_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_removes_instances_and_packages, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_a_purse_debit, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_load_and_install, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
