/*
 * Card lifecycle, GP command chaining and GET STATUS through the card's APDU
 * interface: CARD_LOCKED refuses content changes and every selection but the
 * Final Application until SET STATUS unlocks it; TERMINATED answers only GET
 * DATA; GET STATUS lists applets and ELFs in parts (6310 / P2 03); SET
 * STATUS locks an applet instance; INSTALL and DELETE arrive in GP chains.
 * Each refusal asserts its SW and that the card is unchanged (X6).
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

#include "card/store/registry.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"
#include "card_host.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

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

/* GP command with Le le, through the session's channel (C-MAC). */
static uint16_t gp_le(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                      size_t nc, uint8_t le) {
    uint8_t cmd[5 + 255 + 1] = {0x80, ins, p1, p2, (uint8_t)nc};
    assert_true(nc > 0 && nc <= 255);
    memcpy(cmd + 5, data, nc);
    cmd[5 + nc] = le;
    return host_send(card, cmd, 6 + nc);
}

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t all[] = {0x4F, 0x00};

/* What a refusal must leave unchanged: nvm use, card lifecycle, the listings. */
typedef struct {
    size_t used;
    uint8_t lifecycle;
    uint8_t apps[1024], elfs[1024];
    size_t apps_len, elfs_len;
} snapshot;

/* GET STATUS P1 with every continuation, concatenated into out. */
static size_t get_status_all(seam_card *card, uint8_t p1, uint8_t le, uint8_t *out, size_t cap) {
    size_t n = 0;
    uint16_t sw = gp_le(card, 0xF2, p1, 0x02, all, sizeof all, le);
    for (;;) {
        if (sw == 0x6A88)
            return 0;
        assert_true(sw == 0x9000 || sw == 0x6310);
        assert_true(n + response_len - 2 <= cap);
        memcpy(out + n, response, response_len - 2);
        n += response_len - 2;
        if (sw == 0x9000)
            return n;
        sw = gp_le(card, 0xF2, p1, 0x03, all, sizeof all, le);
    }
}

static void take(seam_card *card, snapshot *s) {
    registry_card rc;
    assert_int_equal(registry_card_get(seam_card_nvm(card), &rc), SEAM_OK);
    s->lifecycle = rc.lifecycle;
    s->used = seam_nvm_used_bytes(seam_card_nvm(card));
    s->apps_len = get_status_all(card, 0x40, 0x00, s->apps, sizeof s->apps);
    s->elfs_len = get_status_all(card, 0x10, 0x00, s->elfs, sizeof s->elfs);
}

static void assert_unchanged(seam_card *card, const snapshot *before) {
    snapshot now;
    take(card, &now);
    assert_int_equal(now.used, before->used);
    assert_int_equal(now.lifecycle, before->lifecycle);
    assert_int_equal(now.apps_len, before->apps_len);
    assert_memory_equal(now.apps, before->apps, now.apps_len);
    assert_int_equal(now.elfs_len, before->elfs_len);
    assert_memory_equal(now.elfs, before->elfs, now.elfs_len);
}

/* Counts the E3 entries of a GET STATUS listing (1-byte lengths here). */
static size_t entries(const uint8_t *b, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i + 1 < n; i += 2u + b[i + 1]) {
        assert_int_equal(b[i], 0xE3);
        count++;
    }
    return count;
}

static void add_sd(seam_card *card, uint8_t last) {
    seam_nvm *nvm = seam_card_nvm(card);
    registry_sd sd = {.aid_len = 8,
                      .aid = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, last},
                      .lifecycle = 0x0F,
                      .privileges = {0x80, 0x80, 0x00},
                      .scp_i = 0x70};
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(registry_sd_put(nvm, &sd), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
}

/* ---- CARD_LOCKED and TERMINATED ---------------------------------------------------- */

static void card_locked_refuses_content_changes_until_unlocked(void **state) {
    fixture *f = *state;
    static const uint8_t hello_lv[] = {7, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
    static const uint8_t load_block[] = {0xC4, 0x01, 0x00};
    static const uint8_t key_data[] = {0x31, 0x88, 0x11, 0x10};
    snapshot s;
    load_and_install_both(f->card);
    /* hello selected on channel 1 before the lock */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    uint8_t sel[] = {0x01, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x9000);
    take(f->card, &s);
    assert_int_equal(s.lifecycle, 0x7F);
    /* no content change */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x6985);
    assert_int_equal(load_one(f->card, 0x00, true, load_block, sizeof load_block), 0x6985);
    assert_int_equal(delete_aid(f->card, hello_cls, sizeof hello_cls, 0x00), 0x6985);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls,
                             (const uint8_t[]){0xA0, 0, 0, 5, 0x48, 0x45, 2}, NULL, 0),
                     0x6985);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, key_data, sizeof key_data), 0x6985);
    assert_int_equal(gp(f->card, true, 0xE2, 0x80, 0x00, key_data, sizeof key_data), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, hello_lv + 1, 7), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x07, NULL, 0), 0x6985); /* not to 07 */
    /* the applet selected before the lock answers no more */
    uint8_t echo[] = {0x81, 0x10, 0x00, 0x00, 0x01, 0x42, 0x00};
    assert_int_equal(send(f->card, echo, sizeof echo), 0x6A81);
    assert_unchanged(f->card, &s);
    /* only the Final Application (the ISD) is selectable, with 6283 */
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A81);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x6A81);
    assert_int_equal(select_aid(f->card, isd_aid, sizeof isd_aid), 0x6283);
    assert_int_equal(response[0], 0x6F);                                   /* with its FCI */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x42, 0x00), 0x9000); /* GET DATA */
    reopen(f);
    open_channel(f->card);
    assert_unchanged(f->card, &s);
    /* unlock: service comes back */
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x10, 0x00, 0x00, 0x01, 0x42, 0x00), 0x9000);
    open_channel(f->card);
    assert_int_equal(delete_aid(f->card, hello_cls, sizeof hello_cls, 0x00), 0x9000);
}

static void terminated_card_answers_only_get_data(void **state) {
    fixture *f = *state;
    registry_card rc;
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0xFF, NULL, 0), 0x9000);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    for (int round = 0; round < 2; round++) {
        assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x42, 0x00), 0x9000);
        assert_int_equal(response_len, 2 + 2);
        assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x66, 0x00), 0x9000);
        assert_int_equal(response[0], 0x66);
        assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x6A81);
        assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                         0x6A81);
        assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x6A81);
        assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F, 0x00, 0x00), 0x6A81);
        assert_int_equal(SEND(f->card, 0x84, 0xCA, 0x00, 0x42, 0x00), 0x6A81);
        assert_int_equal(registry_card_get(seam_card_nvm(f->card), &rc), SEAM_OK);
        assert_int_equal(rc.lifecycle, 0xFF);
        assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
        reopen(f); /* and so it stays */
    }
}

/* ---- GET STATUS and SET STATUS for applets ------------------------------------------ */

static void get_status_lists_applets_and_elfs_in_parts(void **state) {
    fixture *f = *state;
    uint8_t buf[2048];
    load_and_install_both(f->card);
    /* applets: E3 { 4F, 9F70, C5, C4 ELF, CC SD } */
    static const uint8_t hello_entry[] = {
        0xE3, 0x24, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0x9F, 0x70,
        0x01, 0x07, 0xC5, 0x03, 0x00, 0x00, 0x00, 0xC4, 0x06, 0xA0, 0x00, 0x00, 0x05,
        0x48, 0x45, 0xCC, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response_len, 2 * sizeof hello_entry + 2);
    assert_memory_equal(response, hello_entry, sizeof hello_entry);
    assert_memory_equal(response + sizeof hello_entry + 4, purse_cls, sizeof purse_cls);
    /* ELFs: E3 { 4F, 9F70 01, CE version, CC SD, DF71 space }, with 84 modules for P1 10 */
    assert_int_equal(gp(f->card, true, 0xF2, 0x20, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response_len, 2 * (2 + 8 + 4 + 4 + 10 + 4) + 2);
    assert_int_equal(response[0], 0xE3);
    assert_memory_equal(response + 4, hello_pkg, sizeof hello_pkg);
    assert_memory_equal(response + 10, ((uint8_t[]){0x9F, 0x70, 0x01, 0x01, 0xCE, 0x02}), 6);
    static const uint8_t prefix[] = {0x4F, 0x06, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    assert_int_equal(gp(f->card, true, 0xF2, 0x10, 0x02, prefix, sizeof prefix), 0x9000);
    assert_int_equal(response_len, 2 + 8 + 4 + 4 + 9 + 10 + 4 + 2);
    assert_memory_equal(response + 18, ((uint8_t[]){0x84, 0x07}), 2);
    assert_memory_equal(response + 27, ((uint8_t[]){0xCC, 0x08, 0xA0, 0x00, 0x00, 0x01}), 6);
    assert_memory_equal(response + 37, ((uint8_t[]){0xDF, 0x71, 0x01, 0x01}), 4); /* useful */
    assert_memory_equal(response + 20, purse_cls, sizeof purse_cls);
    /* Le 40: one applet per response, 6310 then P2 03 */
    assert_int_equal(gp_le(f->card, 0xF2, 0x40, 0x02, all, sizeof all, 64), 0x6310);
    assert_int_equal(response_len, sizeof hello_entry + 2);
    assert_memory_equal(response, hello_entry, sizeof hello_entry);
    assert_int_equal(gp_le(f->card, 0xF2, 0x20, 0x03, all, sizeof all, 64), 0x6985); /* P1 */
    assert_int_equal(gp_le(f->card, 0xF2, 0x40, 0x03, all, sizeof all, 64), 0x9000);
    assert_memory_equal(response + 4, purse_cls, sizeof purse_cls);
    assert_int_equal(gp_le(f->card, 0xF2, 0x40, 0x03, all, sizeof all, 64), 0x6985); /* done */
    /* many SDs: the default Le needs two parts; together they list everything once */
    for (uint8_t i = 1; i <= 12; i++)
        add_sd(f->card, i);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x6310);
    assert_true(response_len - 2 <= 255 - 24);
    size_t n = get_status_all(f->card, 0x40, 0x00, buf, sizeof buf);
    assert_int_equal(entries(buf, n), 14);
    assert_int_equal(n, 12 * (2 + 19 + 9) + 2 * sizeof hello_entry); /* + C4 SD package */
    /* a new SELECT ends the pending listing */
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x6310);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x03, all, sizeof all), 0x6985);
}

static void set_status_locks_and_unlocks_an_applet(void **state) {
    fixture *f = *state;
    static const uint8_t unknown[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x09};
    snapshot s;
    load_and_install_both(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x87); /* 9F70 of hello: locked SELECTABLE */
    take(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, hello_cls, sizeof hello_cls), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, unknown, sizeof unknown), 0x6A88);
    assert_unchanged(f->card, &s);
    reopen(f); /* the lock is persistent */
    open_channel(f->card);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    assert_unchanged(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x00, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x07);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x00, hello_cls, sizeof hello_cls), 0x6985);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
}

/* The ISD takes its applet from SELECTABLE to PERSONALIZED (0F) once, forward only; the
   applet stays selectable, the state survives a restart and a lock/unlock (a server reads
   it to know the personalization was applied: docs/server.md, "Faults"). */
static void set_status_personalizes_an_applet_once(void **state) {
    fixture *f = *state;
    snapshot s;
    load_and_install_both(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x0F, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x0F); /* 9F70 of hello: PERSONALIZED */
    take(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x0F, hello_cls, sizeof hello_cls), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x07, hello_cls, sizeof hello_cls), 0x6985);
    assert_unchanged(f->card, &s);
    reopen(f);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x0F);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x8F); /* locked PERSONALIZED */
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x0F, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    assert_int_equal(response[14], 0x0F); /* unlocked back to PERSONALIZED */
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
}

/* ---- GP command chaining ------------------------------------------------------------ */

/* The data of INSTALL [for install and make selectable] of hello as instance inst. */
static size_t install_data(const uint8_t *inst, uint8_t *d) {
    uint8_t apdu[SEAM_GP_APDU_MAX];
    size_t n = 0;
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(hello_pkg, sizeof hello_pkg),
                                 .module = aid_of(hello_cls, sizeof hello_cls),
                                 .application = aid_of(inst, 7),
                                 .privileges_len = 1};
    assert_int_equal(seam_gp_build_install(&in, apdu, sizeof apdu, &n), SEAM_OK);
    memcpy(d, apdu + 5, apdu[4]);
    return apdu[4];
}

/* A fragment of a chain protected as a whole: 84 ins p1 p2 Lc data, no C-MAC of its own. */
static uint16_t fragment(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                         size_t nc) {
    uint8_t cmd[5 + 255] = {0x84, ins, p1, p2, (uint8_t)nc};
    memcpy(cmd + 5, data, nc);
    return send(card, cmd, 5 + nc);
}

/* X1: sends 80 ins p1 p2 data 00 through the session as one GP chain of `block`-byte
 * blocks, one C-MAC over the whole command; the last SW. */
static uint16_t gp_chain(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                         size_t nc, size_t block) {
    uint8_t apdu[5 + 255 + 1] = {0x80, ins, p1, p2, (uint8_t)nc};
    memcpy(apdu + 5, data, nc);
    apdu[5 + nc] = 0x00;
    assert_int_equal(seam_gp_set_chain_size(session(card), block), SEAM_OK);
    uint16_t sw = host_send(card, apdu, 6 + nc);
    assert_int_equal(seam_gp_set_chain_size(session(card), 0), SEAM_OK);
    return sw;
}

static void install_and_delete_arrive_in_chains(void **state) {
    fixture *f = *state;
    static const uint8_t inst2[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x02};
    static const uint8_t filler[240] = {0};
    uint8_t d[64];
    snapshot s;
    size_t n = install_data(inst2, d);
    load_and_install_both(f->card);
    take(f->card, &s);
    /* a header change aborts the chain with 6985 (blocks of a chain protected as
       a whole carry no C-MAC of their own; a whole command does) */
    assert_int_equal(fragment(f->card, 0xE6, 0x8C, 0x00, d, 10), 0x9000);
    assert_int_equal(response_len, 2);
    assert_int_equal(gp(f->card, true, 0xE6, 0x0C, 0x01, d + 10, n - 10), 0x6985);
    assert_int_equal(fragment(f->card, 0xE6, 0x8C, 0x00, d, 10), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, d + 10, n - 10), 0x6985);
    assert_int_equal(fragment(f->card, 0xE6, 0x8C, 0x00, d, 10), 0x9000);
    assert_int_equal(fragment(f->card, 0xE6, 0x8C, 0x01, d, 10), 0x6985);
    /* another command in the middle aborts it too: the rest alone is malformed */
    assert_int_equal(fragment(f->card, 0xE6, 0x8C, 0x00, d, 10), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x6985);
    assert_int_equal(gp(f->card, true, 0xE6, 0x0C, 0x00, d + 10, n - 10), 0x6A80);
    /* over 4 KiB (+ 24 for the padding and the C-MAC): 6A86 */
    uint16_t sw = 0x9000;
    size_t blocks = 0;
    while (sw == 0x9000 && blocks < 20) {
        sw = fragment(f->card, 0xE6, 0x8C, 0x00, filler, sizeof filler);
        blocks++;
    }
    assert_int_equal(sw, 0x6A86);
    assert_int_equal(blocks, (4096 + 24) / 240 + 1);
    assert_unchanged(f->card, &s);
    /* a good chain (X1): INSTALL in three blocks, DELETE in two */
    assert_int_equal(gp_chain(f->card, 0xE6, 0x0C, 0x00, d, n, 18), 0x9000);
    assert_int_equal(response_len, 3);
    assert_int_equal(select_aid(f->card, inst2, sizeof inst2), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x10, 0x00, 0x00, 0x01, 0x42, 0x00), 0x9000);
    open_channel(f->card);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 10), SEAM_OK);
    assert_int_equal(delete_aid(f->card, inst2, sizeof inst2, 0x00), 0x9000);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 0), SEAM_OK);
    assert_int_equal(select_aid(f->card, inst2, sizeof inst2), 0x6A82);
    open_channel(f->card);
    /* the instance's restore record outlives it (P10) until deleted explicitly */
    static const uint8_t del_record[] = {0xDF, 0x70, 7, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x02};
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_record, sizeof del_record), 0x9000);
    assert_unchanged(f->card, &s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(card_locked_refuses_content_changes_until_unlocked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(terminated_card_answers_only_get_data, setup, teardown),
        cmocka_unit_test_setup_teardown(get_status_lists_applets_and_elfs_in_parts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(set_status_personalizes_an_applet_once, setup, teardown),
        cmocka_unit_test_setup_teardown(set_status_locks_and_unlocks_an_applet, setup, teardown),
        cmocka_unit_test_setup_teardown(install_and_delete_arrive_in_chains, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
