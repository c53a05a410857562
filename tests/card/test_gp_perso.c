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

#include "card/store/package_store.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"
#include "card_host.h"

static const uint8_t tp_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50};
static const uint8_t tp_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
static const uint8_t tp_other[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x02};
static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* Loads test_perso and installs tp_cls (P1 p1) as instance tp_cls; leaves the channel open. */
static void load_and_install(seam_card *card, uint8_t p1) {
    power_on(card);
    open_channel(card);
    load(card, "test_perso", tp_pkg, sizeof tp_pkg);
    assert_int_equal(install(card, p1, tp_pkg, tp_cls, tp_cls, NULL, 0), 0x9000);
}

static uint16_t install_for_perso(seam_card *card, const uint8_t *aid, size_t len) {
    return install_perso(card, aid, len);
}

/* INSTALL [for registry update] of instance aid: new privileges, SD sd (len 0: none). */
static uint16_t registry_update(seam_card *card, const uint8_t *aid, const uint8_t *priv,
                                size_t priv_len, const uint8_t *sd, size_t sd_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_REGISTRY_UPDATE,
                                 .application = aid_of(aid, 7),
                                 .sd = aid_of(sd, sd_len),
                                 .privileges_len = priv_len};
    memcpy(in.privileges, priv, priv_len);
    return install_with(card, &in);
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
    seam_gp_install_fields ms = {.role = SEAM_GP_FOR_MAKE_SELECTABLE,
                                 .application = aid_of(tp_cls, sizeof tp_cls),
                                 .privileges_len = 1};
    assert_int_equal(install_with(f->card, &ms), 0x9000);
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
    /* selected on another channel, without personalize: its blocks would reach process there */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    uint8_t sel[] = {0x01, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(STORE(f->card, 0x80, 0x00, 0x5A, 0x01, 0x0A), 0x6985);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    /* the instance deleted after INSTALL [for personalization] */
    assert_int_equal(install_for_perso(f->card, tp_cls, sizeof tp_cls), 0x9000);
    assert_int_equal(delete_aid(f->card, tp_cls, sizeof tp_cls, 0x00), 0x9000);
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
    static const uint8_t tp_unknown[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x02};
    static const uint8_t sd_unknown[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x01};
    assert_int_equal(
        registry_update(f->card, tp_cls, (const uint8_t[]){0x04, 0x00, 0x80}, 3, NULL, 0), 0x9000);
    store_instance inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x04, 0x00, 0x80}), 3);
    assert_int_equal(registry_update(f->card, tp_cls, (const uint8_t[]){0x02}, 1, isd, sizeof isd),
                     0x9000);
    inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x02, 0x00, 0x00}), 3);
    /* refusals: unknown instance, the SD privilege, another SD named; unchanged */
    size_t used = seam_nvm_used_bytes(nvm);
    assert_int_equal(
        registry_update(f->card, tp_unknown, (const uint8_t[]){0x04, 0x00, 0x80}, 3, NULL, 0),
        0x6A88);
    assert_int_equal(
        registry_update(f->card, tp_cls, (const uint8_t[]){0x80, 0x00, 0x80}, 3, NULL, 0), 0x6A80);
    assert_int_equal(
        registry_update(f->card, tp_cls, (const uint8_t[]){0x02}, 1, sd_unknown, sizeof sd_unknown),
        0x6A80);
    /* extradition: to an unknown SD, of an unknown instance, malformed; then to the ISD */
    assert_int_equal(extradite(f->card, sd_unknown, sizeof sd_unknown, tp_cls, sizeof tp_cls),
                     0x6A88);
    assert_int_equal(extradite(f->card, isd, sizeof isd, tp_unknown, sizeof tp_unknown), 0x6A88);
    uint8_t ex[] = {8,    0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0, 7,
                    0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01, 0,    0,    0};
    assert_int_equal(gp(f->card, true, 0xE6, 0x10, 0x00, ex, sizeof ex - 1), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    inst = instance(f->card, tp_cls, sizeof tp_cls);
    assert_memory_equal(inst.privileges, ((uint8_t[]){0x02, 0x00, 0x00}), 3);
    assert_memory_equal(inst.sd, isd, sizeof isd);
    assert_int_equal(extradite(f->card, isd, sizeof isd, tp_cls, sizeof tp_cls), 0x9000);
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
