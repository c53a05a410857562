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
    assert_int_equal(load_one(f->card, 0x00, false, file, 200), 0x6985);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_one(f->card, 0x01, false, file, 200), 0x6A86);
    assert_int_equal(load_one(f->card, 0x00, false, file, 200), 0x6985); /* load ended */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_one(f->card, 0x00, false, file, 200), 0x9000);
    assert_int_equal(load_one(f->card, 0x00, true, file + 200, 200), 0x6A86); /* repeat */
    /* a load file that is not a wasm module, or whose C4 length is wrong */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(
        load_one(f->card, 0x00, true, (const uint8_t[]){0xC4, 4, 0, 0x61, 0x73, 0x6D}, 6), 0x6A80);
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
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x00), 0x6A88);
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
    seam_gp_install_fields ms = {.role = SEAM_GP_FOR_MAKE_SELECTABLE,
                                 .application = aid_of(other, sizeof other),
                                 .privileges_len = 1};
    assert_int_equal(install_with(f->card, &ms), 0x9000);
    assert_int_equal(install_with(f->card, &ms), 0x6985);
    assert_int_equal(select_aid(f->card, other, sizeof other), 0x9000);
    assert_int_equal(purse_balance(f->card), 0); /* default install: balance 0 */
}

static void delete_removes_instances_and_packages(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t before = seam_nvm_used_bytes(nvm);
    load_and_install_both(f->card);
    static const uint8_t purse_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    /* the purse selected on channel 1 cannot go */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    uint8_t sel[] = {0x01, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_aid, sizeof purse_aid, 0x00), 0x6985);
    assert_int_equal(delete_aid(f->card, isd_aid, sizeof isd_aid, 0x00), 0x6985);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    /* a package with an instance needs P2 80 */
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x00), 0x6985);
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x80), 0x9000);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(delete_aid(f->card, purse_aid, sizeof purse_aid, 0x00), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_aid, sizeof purse_aid, 0x00), 0x6A88);
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x00), 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x6A82);
    /* P10: the instances' restore records outlive them until deleted explicitly */
    assert_true(seam_nvm_used_bytes(nvm) > before);
    open_channel(f->card);
    uint8_t del_record[2 + 1 + 7] = {0xDF, 0x70, 7};
    memcpy(del_record + 3, hello_cls, 7);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_record, sizeof del_record), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_record, sizeof del_record), 0x6A88);
    memcpy(del_record + 3, purse_cls, 7);
    assert_int_equal(gp(f->card, true, 0xE4, 0x00, 0x00, del_record, sizeof del_record), 0x9000);
    /* everything but the sequence counter's record is as before */
    assert_int_equal(seam_nvm_used_bytes(nvm), before);
}

/* INSTALL [for load] of the ISD with an LFDB hash of hash_len bytes. */
static uint16_t install_for_load_hash(seam_card *card, const uint8_t *aid, size_t aid_len,
                                      const uint8_t *hash, size_t hash_len) {
    seam_gp_install_fields in = {
        .role = SEAM_GP_FOR_LOAD, .elf = aid_of(aid, aid_len), .hash = hash, .hash_len = hash_len};
    uint8_t d[1 + 16 + 1 + 1 + 65 + 2];
    size_t n = 0;
    if (hash_len <= 64)
        return install_with(card, &in);
    /* longer than any hash: the library refuses to build it, so by hand */
    d[n++] = (uint8_t)aid_len;
    memcpy(d + n, aid, aid_len);
    n += aid_len;
    d[n++] = 0; /* SD: the ISD */
    d[n++] = (uint8_t)hash_len;
    memcpy(d + n, hash, hash_len);
    n += hash_len;
    d[n++] = 0; /* params */
    d[n++] = 0; /* token */
    return gp(card, true, 0xE6, 0x02, 0x00, d, n);
}

static void load_file_hash_is_checked_at_the_last_block(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t len;
    uint8_t *file = read_app("purse", &len);
    uint8_t sha256[32], sha384[48], sha512[64], sha1[20];
    /* the hash covers the C4 value, without tag and length (gp_facts §1.5) */
    assert_int_equal(seam_crypto_sha256(file + 4, len - 4, sha256), SEAM_OK);
    assert_int_equal(seam_crypto_sha384(file + 4, len - 4, sha384), SEAM_OK);
    assert_int_equal(seam_crypto_sha512(file + 4, len - 4, sha512), SEAM_OK);
    assert_int_equal(seam_crypto_sha1(file + 4, len - 4, sha1), SEAM_OK);
    power_on(f->card);
    open_channel(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    /* a wrong hash: 6A80 at the last block, no package */
    sha256[0] ^= 1;
    assert_int_equal(install_for_load_hash(f->card, purse_pkg, sizeof purse_pkg, sha256, 32),
                     0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x6A80);
    sha256[0] ^= 1;
    /* the hash of the whole load file (with C4 and its length) is not the LFDB's */
    uint8_t whole[32];
    assert_int_equal(seam_crypto_sha256(file, len, whole), SEAM_OK);
    assert_int_equal(install_for_load_hash(f->card, purse_pkg, sizeof purse_pkg, whole, 32),
                     0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x6A80);
    /* hash lengths other than SHA-1/256/384/512: 6A80, no load begins */
    static const uint8_t junk[65] = {0};
    static const size_t bad[] = {1, 16, 31, 33, 47, 63, 65};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(install_for_load_hash(f->card, purse_pkg, sizeof purse_pkg, junk, bad[i]),
                         0x6A80);
        assert_int_equal(load_one(f->card, 0x00, false, file, 200), 0x6985);
    }
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, NULL, 0), 0x6A88);
    /* the right hash: loaded, installed, working; then SHA-384, SHA-512 and SHA-1 */
    const uint8_t *hashes[] = {sha256, sha384, sha512, sha1};
    const size_t lens[] = {32, 48, 64, 20};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            install_for_load_hash(f->card, purse_pkg, sizeof purse_pkg, hashes[i], lens[i]),
            0x9000);
        assert_int_equal(load_blocks(f->card, file, len), 0x9000);
        assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params,
                                 sizeof purse_params),
                         0x9000);
        assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
        assert_int_equal(purse_balance(f->card), 100);
        open_channel(f->card);
        assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
    }
    free(file);
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
        if (!e) {
            cut_expected = true;
            uint16_t sw = load_blocks(f->card, file, len);
            cut_expected = false;
            e = sw == 0 ? SEAM_ERR_NVM_POWER_CUT : SEAM_OK;
            assert_true(sw == 0 || sw == 0x9000);
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
        sw = delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80);
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
        cmocka_unit_test_setup_teardown(load_file_hash_is_checked_at_the_last_block, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_a_purse_debit, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_load_and_install, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
