/*
 * The test host for card tests: a card image in a temporary folder, APDUs
 * sent in-process, and GlobalPlatform management through the host library
 * (include/seam/gp.h: one seam_gp session per card, over seam_link_card) —
 * SCP03 channels opened with the GlobalPlatform test keys, INSTALL, LOAD
 * (in blocks of 200 bytes, the size the tests' figures count) and DELETE
 * built by the library. What a test sends on purpose in a form the library
 * would never send (no MAC, a wrong MAC, a replay, malformed data) goes
 * through send() as raw bytes. Header-only (static inline): each test
 * program is one translation unit and uses what it needs.
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
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/nvm.h"
#include "seam/util.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

#define HOST_BLOCK                                                                                 \
    200u /* LOAD block data: the tests' figures (write points, bytes) count these                  \
          */

typedef struct {
    char dir[64];
    char path[96];
    seam_card *card;
} fixture;

static uint8_t response[SEAM_CARD_RESPONSE_MAX];
static size_t response_len;
static bool cut_expected; /* a power cut makes send answer 0 instead of failing */

static const uint8_t test_key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                     0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};

/* ---- the host library's session --------------------------------------------------------- */

static seam_gp_link host_link;
static seam_gp *host_gp;
static seam_card *host_card;                   /* the card host_gp talks to */
static uint8_t last_wrapped[SEAM_GP_APDU_MAX]; /* the last APDU the session sent, as sent */
static size_t last_wrapped_len;
static uint8_t last_received[SEAM_CARD_RESPONSE_MAX]; /* its response, as received */
static size_t last_received_len;
static size_t received_data; /* response data bytes of the last command, all parts (61xx) */

/* Keeps the last APDU the session sent and its response as they crossed the interface
   (wrapped), for tests that replay a command or look at what a terminal relays. */
static inline void host_trace(void *ctx, seam_gp_trace_point point, const uint8_t *bytes,
                              size_t len) {
    (void)ctx;
    if (point == SEAM_GP_TRACE_COMMAND)
        received_data = 0;
    if (point == SEAM_GP_TRACE_RESPONSE_WRAPPED && len >= 2)
        received_data += len - 2;
    if (point == SEAM_GP_TRACE_COMMAND_WRAPPED && len <= sizeof last_wrapped) {
        memcpy(last_wrapped, bytes, len);
        last_wrapped_len = len;
    } else if (point == SEAM_GP_TRACE_RESPONSE_WRAPPED && len <= sizeof last_received) {
        memcpy(last_received, bytes, len);
        last_received_len = len;
    }
}

/* Forgets the session (its card is closed or replaced): a new one starts without a channel. */
static inline void host_forget(void) {
    seam_gp_free(host_gp);
    host_gp = NULL;
    seam_gp_link_close(&host_link);
    host_card = NULL;
}

/* The session with card: the one already talking to it, or a new one. */
static inline seam_gp *session(seam_card *card) {
    if (host_gp && host_card == card)
        return host_gp;
    host_forget();
    assert_int_equal(seam_link_card(card, &host_link), SEAM_OK);
    assert_int_equal(seam_gp_new(&host_link, &host_gp), SEAM_OK);
    assert_int_equal(seam_gp_set_block_size(host_gp, HOST_BLOCK), SEAM_OK);
    seam_gp_set_trace(host_gp, host_trace, NULL);
    host_card = card;
    return host_gp;
}

/* The status word *sw of a library operation (read after it ran): 0 when an expected power cut
   stopped it. The last response (unwrapped data || SW) is left in response[0..response_len). */
static inline uint16_t host_result(seam_err e, const uint16_t *sw) {
    size_t len = 0;
    const uint8_t *data;
    if (cut_expected && e == SEAM_ERR_NVM_POWER_CUT)
        return 0;
    assert_int_equal(e, SEAM_OK);
    data = seam_gp_response(host_gp, &len);
    assert_true(len + 2 <= sizeof response);
    memmove(response, data, len);
    response[len] = (uint8_t)(*sw >> 8);
    response[len + 1] = (uint8_t)*sw;
    response_len = len + 2;
    return *sw;
}

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
    host_forget();
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
    host_forget();
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

/*
 * Selects SD aid (empty: the card's default, the ISD) through the session and opens
 * SCP03 at level with the 16-byte key as ENC, MAC and DEK. The SELECT must answer
 * 9000 (6283 for the ISD of a CARD_LOCKED card). Returns the status word the
 * channel stopped at (9000: open), or 0 when the card cryptogram does not verify.
 */
static inline uint16_t open_at(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *key,
                               uint8_t level) {
    seam_gp *gp = session(card);
    seam_gp_keys keys;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_select(gp, aid, len, &sw), SEAM_OK);
    assert_true(sw == 0x9000 || (sw == 0x6283 && len == 0));
    assert_int_equal(seam_gp_keys_set(&keys, key, 16), SEAM_OK);
    seam_err e = seam_gp_open_channel(gp, &keys, 0x00, level, NULL, &sw);
    seam_secure_zero(&keys, sizeof keys);
    if (e == SEAM_ERR_GP_CRYPTOGRAM)
        return 0;
    return host_result(e, &sw);
}

/* Selects the ISD and opens an SCP03 channel at C-MAC level on channel 0. */
static inline void open_channel(seam_card *card) {
    assert_int_equal(open_at(card, NULL, 0, test_key, 0x01), 0x9000);
}

/* Sends through the session the plain command apdu[0..len): wrapped in the open channel. */
static inline uint16_t host_send(seam_card *card, const uint8_t *apdu, size_t len) {
    uint16_t sw = 0;
    return host_result(seam_gp_transmit(session(card), apdu, len, NULL, 0, NULL, &sw), &sw);
}

/*
 * Sends 80 ins p1 p2 [Lc data] 00: with mac, through the session's open secure
 * channel (wrapped at its level); without, in clear as raw bytes (what a host
 * without a channel sends, on purpose).
 */
static inline uint16_t gp(seam_card *card, bool mac, uint8_t ins, uint8_t p1, uint8_t p2,
                          const uint8_t *data, size_t nc) {
    uint8_t cmd[5 + 255 + 1] = {0x80, ins, p1, p2};
    size_t n = 4;
    assert_true(nc <= 255);
    if (nc) {
        cmd[n++] = (uint8_t)nc;
        memcpy(cmd + n, data, nc);
        n += nc;
    }
    cmd[n++] = 0x00;
    if (!mac)
        return send(card, cmd, n);
    assert_true(seam_gp_channel_is_open(session(card), NULL)); /* open_channel first */
    return host_send(card, cmd, n);
}

/* One INSTALL (any role) built by the library and sent through the channel. */
static inline uint16_t install_with(seam_card *card, const seam_gp_install_fields *in) {
    uint16_t sw = 0;
    return host_result(seam_gp_install(session(card), in, &sw), &sw);
}

/* Sets *aid from bytes[0..len). */
static inline seam_gp_aid aid_of(const uint8_t *bytes, size_t len) {
    seam_gp_aid aid;
    assert_int_equal(seam_gp_aid_set(&aid, bytes, len), SEAM_OK);
    return aid;
}

/* The module (wasm bytes) of apps/NAME.wasm; the caller frees it. */
static inline uint8_t *read_module(const char *name, size_t *len) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    snprintf(path, sizeof path, "%s/%s.wasm", dir ? dir : SEAM_TEST_APPS, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *module = malloc((size_t)l + 1);
    assert_non_null(module);
    assert_int_equal(fread(module, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    *len = (size_t)l;
    return module;
}

/* The load file of module[0..len) (C4 82 hh ll || module: every applet is 256 bytes
   to 64 KiB); frees module, the caller frees the result. */
static inline uint8_t *load_file_of(uint8_t *module, size_t len, size_t *file_len) {
    uint8_t *b = malloc(len + 8);
    assert_non_null(b);
    assert_true(len >= 0x100 && len <= 0xFFFF);
    assert_int_equal(seam_gp_load_file(module, len, b, len + 8, file_len), SEAM_OK);
    free(module);
    return b;
}

/* The load file of apps/NAME.wasm; the caller frees it. */
static inline uint8_t *read_app(const char *name, size_t *len) {
    size_t module_len = 0;
    uint8_t *module = read_module(name, &module_len);
    return load_file_of(module, module_len, len);
}

/* INSTALL [for load] of package aid into the selected SD: no SD AID, hash, params, token. */
static inline uint16_t install_for_load(seam_card *card, const uint8_t *aid, size_t aid_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD, .elf = aid_of(aid, aid_len)};
    return install_with(card, &in);
}

/* Sends a load file in LOAD blocks of 200 bytes; returns the last SW. */
static inline uint16_t load_blocks(seam_card *card, const uint8_t *file, size_t len) {
    uint16_t sw = 0;
    return host_result(seam_gp_load(session(card), file, len, NULL, NULL, &sw), &sw);
}

/* One LOAD block (number block, P1 80 when last) built by the library, through the channel:
   for tests that send blocks out of order, from another session or of another file. */
static inline uint16_t load_one(seam_card *card, uint8_t block, bool last, const uint8_t *data,
                                size_t len) {
    uint8_t cmd[5 + 255 + 1];
    size_t n = 0;
    assert_int_equal(seam_gp_build_load(block, last, data, len, cmd, sizeof cmd, &n), SEAM_OK);
    assert_true(seam_gp_channel_is_open(session(card), NULL)); /* open_channel first */
    return host_send(card, cmd, n);
}

static inline void load(seam_card *card, const char *name, const uint8_t *aid, size_t aid_len) {
    size_t len;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(install_for_load(card, aid, aid_len), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
}

/* INSTALL [for install] (p1 04) or [for install and make selectable] (0C) of class cls
   (7 bytes) of package pkg (6) as instance inst (7), privileges 00, C9 params. */
static inline uint16_t install(seam_card *card, uint8_t p1, const uint8_t *pkg, const uint8_t *cls,
                               const uint8_t *inst, const uint8_t *params, size_t params_len) {
    seam_gp_install_fields in = {.role = p1,
                                 .elf = aid_of(pkg, 6),
                                 .module = aid_of(cls, 7),
                                 .application = aid_of(inst, 7),
                                 .privileges = {0x00},
                                 .privileges_len = 1,
                                 .app_params = params,
                                 .app_params_len = params_len};
    return install_with(card, &in);
}

/* INSTALL [for install] (p1 04) or [for install and make selectable] (0C) of module cls
   of package pkg as instance aid (AIDs of any length), privileges 00, C9 params. */
static inline uint16_t install_aids(seam_card *card, uint8_t p1, const uint8_t *pkg, size_t pkg_len,
                                    const uint8_t *cls, size_t cls_len, const uint8_t *aid,
                                    size_t aid_len, const uint8_t *params, size_t params_len) {
    seam_gp_install_fields in = {.role = p1,
                                 .elf = aid_of(pkg, pkg_len),
                                 .module = aid_of(cls, cls_len),
                                 .application = aid_of(aid, aid_len),
                                 .privileges_len = 1,
                                 .app_params = params,
                                 .app_params_len = params_len};
    return install_with(card, &in);
}

/* The first command of the combined INSTALL [for load, install and make selectable]
   (P1 0E, P2 01, the for-load layout) of package aid: no SD AID, hash, params, token.
   The LOAD blocks follow (load_blocks), then combined_final. */
static inline uint16_t combined_for_load(seam_card *card, const uint8_t *aid, size_t aid_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x01,
                                 .elf = aid_of(aid, aid_len)};
    return install_with(card, &in);
}

/* The final command of the combined sequence (P1 0E, P2 03, the for-install layout):
   module cls of package pkg (pkg_len 0: the ELF AID left empty, the package just
   loaded) as instance inst, privileges 00, C9 params. */
static inline uint16_t combined_final(seam_card *card, const uint8_t *pkg, size_t pkg_len,
                                      const uint8_t *cls, size_t cls_len, const uint8_t *inst,
                                      size_t inst_len, const uint8_t *params, size_t params_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x03,
                                 .module = aid_of(cls, cls_len),
                                 .application = aid_of(inst, inst_len),
                                 .privileges_len = 1,
                                 .app_params = params,
                                 .app_params_len = params_len};
    if (pkg_len)
        in.elf = aid_of(pkg, pkg_len);
    return install_with(card, &in);
}

/* INSTALL [for make selectable] of aid, no privileges. */
static inline uint16_t make_selectable(seam_card *card, const uint8_t *aid, size_t len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_MAKE_SELECTABLE,
                                 .application = aid_of(aid, len)};
    return install_with(card, &in);
}

/* INSTALL [for extradition] of package or instance aid to SD `to`. */
static inline uint16_t extradite(seam_card *card, const uint8_t *to, size_t to_len,
                                 const uint8_t *aid, size_t len) {
    seam_gp_install_fields in = {
        .role = SEAM_GP_FOR_EXTRADITION, .sd = aid_of(to, to_len), .application = aid_of(aid, len)};
    return install_with(card, &in);
}

/* INSTALL [for personalization] of instance aid: the target of the next STORE DATA. */
static inline uint16_t install_perso(seam_card *card, const uint8_t *aid, size_t len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_PERSONALIZATION,
                                 .application = aid_of(aid, len)};
    return install_with(card, &in);
}

/* DELETE of card content aid (P2 00: the object; 80: with what depends on it). */
static inline uint16_t delete_aid(seam_card *card, const uint8_t *aid, size_t len, uint8_t p2) {
    uint16_t sw = 0;
    assert_true(p2 == 0x00 || p2 == 0x80);
    return host_result(seam_gp_delete(session(card), aid, len, p2 == 0x80, &sw), &sw);
}

/* SELECT by AID through the session (which ends its secure channel, as the card does). */
static inline uint16_t select_aid(seam_card *card, const uint8_t *aid, size_t len) {
    uint16_t sw = 0;
    return host_result(seam_gp_select(session(card), aid, len, &sw), &sw);
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
    host_forget();
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
