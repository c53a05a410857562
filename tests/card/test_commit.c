/*
 * The end of a command: its commit and its response (issue 9, items 8 and 9).
 *
 * Item 8 (X4, X6): when the nvm commit itself fails (an I/O error, a full
 * disk) the card is exactly as before the command - every record, the applet
 * selected on each channel with its committed memory, the RAM state the
 * command changed (a load in progress, a STORE DATA block number) - the
 * answer is an error (6F00, or 6A84 for a full disk) and the next command
 * works. The fault shim below SQLite fails each I/O point of the command in
 * turn (SEAM_NVM_IO_FAIL) or makes the disk full from that point on
 * (SEAM_NVM_IO_DISK_FULL, until space is back).
 *
 * Item 9 (X2): a response the reader's 65535-byte vpcd frame cannot carry
 * whole (65534 data bytes and more) and a wrapped response over 65536 bytes
 * reach the host in parts (61xx, GET RESPONSE) instead of failing after the
 * applet's change was committed.
 */
#include "card_host.h"

#include "seam/link.h"
#include "seam/util.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t answer_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52};
static const uint8_t answer_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01};
static const uint8_t answer_two[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x02};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0x27, 0x10}; /* 10000 */

static const seam_nvm_io_fault_mode modes[] = {SEAM_NVM_IO_FAIL, SEAM_NVM_IO_DISK_FULL};

/* Powers on, opens SCP03 (level 01) on channel 0, loads and installs the purse and
   test_response. */
static void build(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    load(card, "test_response", answer_pkg, sizeof answer_pkg);
    assert_int_equal(
        install(card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
    assert_int_equal(install(card, 0x0C, answer_pkg, answer_cls, answer_cls, NULL, 0), 0x9000);
}

static uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t purse_balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    return u32_at(response);
}

static void verify_pin(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
}

static uint16_t debit(seam_card *card) {
    return SEND(card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1);
}

/* The SW a failed commit answers under mode: 6F00 for an I/O error, 6A84 for a full disk. */
static uint16_t failure_sw(seam_nvm_io_fault_mode mode) {
    return mode == SEAM_NVM_IO_DISK_FULL ? 0x6A84 : 0x6F00;
}

static void space_back(seam_card *card) {
    assert_int_equal(seam_nvm_io_fault_set(seam_card_nvm(card), SEAM_NVM_IO_OFF, 0), SEAM_OK);
}

static void assert_card_is(seam_card *card, const uint8_t expected[32]) {
    uint8_t now[32];
    fingerprint(card, now);
    assert_memory_equal(now, expected, 32);
}

/* ---- item 8: a failed commit changes nothing ------------------------------------- */

/*
 * Each sweep arms a fault of one mode at I/O point n = 1, 2, ... of a command and
 * sends it, until the command goes through (9000: no point of it is left to
 * fail). Every failure must answer failure_sw(mode), leave the whole card as it
 * was (fingerprint), and let the card go on; SWEEP_MAX bounds the loop.
 */
#define SWEEP_MAX 200u

static void hardening_08_failed_commit_of_a_debit_changes_nothing_X4(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t before[32];
    unsigned failures[2] = {0, 0};
    build(f->card);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    verify_pin(f->card);
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t n = 1;; n++) {
            uint32_t balance = purse_balance(f->card);
            fingerprint(f->card, before);
            assert_int_equal(seam_nvm_io_fault_set(nvm, modes[m], n), SEAM_OK);
            uint16_t sw = debit(f->card);
            if (modes[m] == SEAM_NVM_IO_FAIL)
                space_back(f->card); /* disarmed: a fault past the command's I/O stays armed */
            if (sw == 0x9000) {      /* no fault left inside the debit */
                space_back(f->card);
                assert_int_equal(purse_balance(f->card), balance - 1);
                break;
            }
            if (sw != failure_sw(modes[m]))
                print_message("mode %d, I/O point %llu: DEBIT answered %04X\n", (int)modes[m],
                              (unsigned long long)n, sw);
            assert_int_equal(sw, failure_sw(modes[m]));
            failures[m]++;
            assert_card_is(f->card, before);
            /* the purse is still selected with its committed balance */
            assert_int_equal(purse_balance(f->card), balance);
            if (modes[m] == SEAM_NVM_IO_DISK_FULL) {
                assert_int_equal(debit(f->card), 0x6A84); /* still full: the same answer */
                assert_card_is(f->card, before);
                space_back(f->card);
            }
            /* the PIN is still verified (transient state), the debit goes through */
            assert_int_equal(debit(f->card), 0x9000);
            assert_int_equal(purse_balance(f->card), balance - 1);
            assert_true(n < SWEEP_MAX);
        }
    }
    print_message("purse debit: %u I/O errors, %u full disks\n", failures[0], failures[1]);
    assert_true(failures[0] >= 3 && failures[1] >= 1);
}

static uint16_t install_second(seam_card *card) {
    return install(card, 0x0C, answer_pkg, answer_cls, answer_two, NULL, 0);
}

static uint16_t delete_second(seam_card *card) {
    return delete_aid(card, answer_two, sizeof answer_two, 0x00);
}

static void hardening_08_failed_commit_of_install_keeps_the_session_X4(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t before[32];
    unsigned failures = 0;
    build(f->card);
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t n = 1;; n++) {
            fingerprint(f->card, before);
            assert_int_equal(seam_nvm_io_fault_set(nvm, modes[m], n), SEAM_OK);
            uint16_t sw = install_second(f->card);
            space_back(f->card);
            if (sw == 0x9000) {
                assert_int_equal(delete_second(f->card), 0x9000);
                break;
            }
            if (sw != failure_sw(modes[m]))
                print_message("mode %d, I/O point %llu: INSTALL answered %04X\n", (int)modes[m],
                              (unsigned long long)n, sw);
            assert_int_equal(sw, failure_sw(modes[m]));
            failures++;
            assert_card_is(f->card, before);
            /* the secure channel stays open and in step with the host */
            assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x66, NULL, 0), 0x9000);
            assert_int_equal(install_second(f->card), 0x9000);
            assert_int_equal(delete_second(f->card), 0x9000);
            assert_true(n < SWEEP_MAX);
        }
    }
    assert_true(failures >= 4);
}

/* INSTALL [for load] of hello and every LOAD block but the last; returns that one's offset. */
static size_t load_all_but_last(seam_card *card, const uint8_t *file, size_t len, uint8_t *block) {
    size_t off = 0;
    assert_int_equal(install_for_load(card, hello_pkg, sizeof hello_pkg), 0x9000);
    for (*block = 0; len - off > HOST_BLOCK; off += HOST_BLOCK, (*block)++)
        assert_int_equal(load_one(card, *block, false, file + off, HOST_BLOCK), 0x9000);
    return off;
}

static uint16_t delete_hello_package(seam_card *card) {
    return delete_aid(card, hello_pkg, sizeof hello_pkg, 0x00);
}

static void hardening_08_failed_last_load_block_keeps_the_load_X4(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t before[32], block = 0;
    size_t len = 0;
    unsigned failures = 0;
    uint8_t *file = read_app("hello", &len);
    build(f->card);
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t n = 1;; n++) {
            size_t off = load_all_but_last(f->card, file, len, &block);
            fingerprint(f->card, before);
            assert_int_equal(seam_nvm_io_fault_set(nvm, modes[m], n), SEAM_OK);
            uint16_t sw = load_one(f->card, block, true, file + off, len - off);
            space_back(f->card);
            if (sw == 0x9000) {
                assert_int_equal(delete_hello_package(f->card), 0x9000);
                break;
            }
            assert_int_equal(sw, failure_sw(modes[m]));
            failures++;
            assert_card_is(f->card, before);
            /* the load is still in progress: the last block again completes it */
            assert_int_equal(load_one(f->card, block, true, file + off, len - off), 0x9000);
            assert_int_equal(delete_hello_package(f->card), 0x9000);
            assert_true(n < SWEEP_MAX);
        }
    }
    assert_true(failures >= 4);
    free(file);
}

/* test_response's counters: selects, deselects, changes. */
static void answer_counters(seam_card *card, uint8_t cla, uint32_t out[3]) {
    assert_int_equal(SEND(card, cla, 0x01, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 12 + 2);
    for (int i = 0; i < 3; i++)
        out[i] = u32_at(response + 4 * i);
}

static uint16_t select_answer_on_1(seam_card *card) {
    return SEND(card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01, 0x00);
}

static void hardening_08_failed_select_keeps_the_selected_applet_X4(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t before[32];
    uint32_t counters[3], now[3];
    unsigned failures = 0;
    build(f->card);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    /* test_response's select writes its memory, so the SELECT commits */
    for (uint64_t n = 1;; n++) {
        uint32_t balance = purse_balance(f->card);
        verify_pin(f->card);
        fingerprint(f->card, before);
        assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_FAIL, n), SEAM_OK);
        uint16_t sw = select_aid(f->card, answer_cls, sizeof answer_cls);
        space_back(f->card); /* disarmed: a fault past the command's I/O is still armed */
        if (sw == 0x9000)
            break;
        assert_int_equal(sw, 0x6F00);
        failures++;
        assert_card_is(f->card, before);
        /* the purse is still the channel's applet, with its committed state */
        assert_int_equal(purse_balance(f->card), balance);
        verify_pin(f->card); /* its deselect ran: transient state is not transactional */
        assert_int_equal(debit(f->card), 0x9000);
        assert_true(n < SWEEP_MAX);
    }
    /* the SELECT's commit is one frame of the log (the changed chunks share a page of
       the image): its two writes and the sync (it was 4 KiB pages, 4 points and more) */
    assert_true(failures >= 3);

    /* MANAGE CHANNEL close of a channel whose applet's deselect writes its memory */
    failures = 0;
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_answer_on_1(f->card), 0x9000);
    for (uint64_t n = 1;; n++) {
        answer_counters(f->card, 0x01, counters);
        fingerprint(f->card, before);
        assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_FAIL, n), SEAM_OK);
        uint16_t sw = SEND(f->card, 0x00, 0x70, 0x80, 0x01);
        space_back(f->card);
        if (sw == 0x9000)
            break;
        assert_int_equal(sw, 0x6F00);
        failures++;
        assert_card_is(f->card, before);
        /* channel 1 is still open, test_response still selected on it, unchanged */
        answer_counters(f->card, 0x01, now);
        assert_memory_equal(now, counters, sizeof now);
        assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
        assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
        assert_int_equal(select_answer_on_1(f->card), 0x9000);
        assert_true(n < SWEEP_MAX);
    }
    assert_true(failures >= 3); /* one frame, as above */
}

static uint16_t store_iin(seam_card *card, uint8_t block) {
    uint8_t d[] = {0x42, 0x02, 0x12, block};
    return gp(card, true, 0xE2, 0x10, block, d, sizeof d); /* BER-TLV, more blocks follow */
}

static void hardening_08_failed_store_data_keeps_the_block_number_X4(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t before[32], block = 0;
    unsigned failures = 0;
    power_on(f->card);
    open_channel(f->card);
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t n = 1;; n++, block++) {
            fingerprint(f->card, before);
            assert_int_equal(seam_nvm_io_fault_set(nvm, modes[m], n), SEAM_OK);
            uint16_t sw = store_iin(f->card, block);
            space_back(f->card);
            if (sw == 0x9000) {
                block++;
                break;
            }
            assert_int_equal(sw, failure_sw(modes[m]));
            failures++;
            assert_card_is(f->card, before);
            /* the sequence still waits for this block */
            assert_int_equal(store_iin(f->card, block), 0x9000);
            assert_true(n < SWEEP_MAX);
        }
    }
    assert_true(failures >= 4);
}

static void hardening_08_failed_commit_without_writes_puts_ram_back_X4(void **state) {
    /* commands that write nothing still commit; the nvm's write-point fault fails
       that commit (its only write point): the RAM they changed goes back */
    fixture *f = *state;
    uint8_t before[32], block = 0;
    size_t len = 0;
    uint8_t *file = read_app("hello", &len);
    seam_nvm *nvm = seam_card_nvm(f->card);
    build(f->card);
    fingerprint(f->card, before);
    /* a LOAD block that is not the last: the same block again is the next one */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_one(f->card, block++, false, file, 200), 0x9000);
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(load_one(f->card, block, false, file + 200, 200), 0x6F00);
    size_t off = 200;
    for (; len - off > 200; off += 200, block++)
        assert_int_equal(load_one(f->card, block, false, file + off, 200), 0x9000);
    assert_int_equal(load_one(f->card, block, true, file + off, len - off), 0x9000);
    assert_int_equal(delete_hello_package(f->card), 0x9000);
    /* INSTALL [for load] begins no load */
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x6F00);
    assert_int_equal(load_one(f->card, 0x00, true, file, 200), 0x6985);
    /* MANAGE CHANNEL open opens nothing */
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x6F00);
    assert_int_equal(SEND(f->card, 0x01, 0xCA, 0x00, 0x42, 0x00), 0x6881);
    /* INITIALIZE UPDATE: no session (EXTERNAL AUTHENTICATE is out of sequence) */
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x6F00);
    assert_int_equal(
        SEND(f->card, 0x84, 0x82, 0x01, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        0x6985);
    /* power on: its clean-up commit fails, the card works all the same */
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(purse_balance(f->card), 10000);
    assert_card_is(f->card, before);
    free(file);
}

/* ---- item 9: long responses reach the reader --------------------------------------- */

/*
 * Sends cmd through a response buffer of cap bytes, then GET RESPONSE (Ne 65536)
 * while the card answers 61xx; gathers the data into all (*all_len bytes) and
 * returns the last SW. transmit_err gets the first error transmit returned.
 */
static uint16_t exchange(seam_card *card, const uint8_t *cmd, size_t cmd_len, size_t cap,
                         uint8_t *all, size_t all_cap, size_t *all_len, seam_err *transmit_err) {
    static const uint8_t get_response[] = {0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00};
    uint16_t sw = 0x6100;
    *all_len = 0;
    *transmit_err = SEAM_OK;
    for (int part = 0; (sw & 0xFF00) == 0x6100; part++) {
        *transmit_err = part ? seam_card_transmit(card, get_response, sizeof get_response, response,
                                                  cap, &response_len)
                             : seam_card_transmit(card, cmd, cmd_len, response, cap, &response_len);
        if (*transmit_err)
            return 0;
        assert_true(response_len >= 2 && response_len <= cap);
        assert_true(*all_len + response_len - 2 <= all_cap);
        memcpy(all + *all_len, response, response_len - 2);
        *all_len += response_len - 2;
        sw = (uint16_t)(response[response_len - 2] << 8 | response[response_len - 1]);
        assert_true(part < 8);
    }
    return sw;
}

static void assert_pattern(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (data[i] != (uint8_t)(i % 251))
            fail_msg("byte %zu of the answer is %02X", i, data[i]);
}

static void hardening_09_long_answers_reach_a_vpcd_reader_X2(void **state) {
    fixture *f = *state;
    static const uint32_t sizes[] = {65533, 65534, 65535, 65536};
    static uint8_t all[SEAM_CARD_RESPONSE_MAX + 64];
    build(f->card);
    assert_int_equal(select_aid(f->card, answer_cls, sizeof answer_cls), 0x9000);
    for (size_t s = 0; s < 4; s++) {
        for (uint8_t change = 0; change < 2; change++) {
            uint32_t before[3], after[3];
            size_t len = 0;
            seam_err err = SEAM_OK;
            /* 80 02 P1 00, extended Lc 4, N, extended Le 0000 (Ne = 65536) */
            uint8_t cmd[] = {0x80, 0x02, change, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x00};
            seam_put_be32(cmd + 7, sizes[s]);
            answer_counters(f->card, 0x80, before);
            uint16_t sw = exchange(f->card, cmd, sizeof cmd, SEAM_VPCD_MAX_PAYLOAD, all, sizeof all,
                                   &len, &err);
            answer_counters(f->card, 0x80, after);
            if (err)
                print_message("%u bytes, change %u: transmit failed (%s), changes %u -> %u\n",
                              sizes[s], change, seam_err_str(err), before[2], after[2]);
            assert_int_equal(err, SEAM_OK);
            assert_int_equal(sw, 0x9000);
            assert_int_equal(len, sizes[s]);
            assert_pattern(all, len);
            assert_int_equal(after[2], before[2] + change); /* committed, and said so */
        }
    }
}

static void hardening_09_long_wrapped_answer_is_delivered_X2(void **state) {
    /* STORE DATA to a personalization target answering 65536 bytes at level 33: with
       R-ENC padding and the R-MAC the response is 65560 bytes, which the card sends in
       parts (61xx) and the host library collects and unwraps */
    fixture *f = *state;
    uint32_t before[3], after[3];
    build(f->card);
    assert_int_equal(select_aid(f->card, answer_cls, sizeof answer_cls), 0x9000);
    answer_counters(f->card, 0x80, before);
    assert_int_equal(open_at(f->card, NULL, 0, test_key, 0x33), 0x9000);
    assert_int_equal(install_perso(f->card, answer_cls, sizeof answer_cls), 0x9000);
    /* STORE DATA, last block, case 4: N = 65536 */
    const uint8_t store[] = {0x80, 0xE2, 0x81, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00};
    assert_int_equal(host_send(f->card, store, sizeof store), 0x9000);
    assert_int_equal(received_data, 65536 + 16 + 8);
    assert_int_equal(response_len, 65536 + 2);
    assert_pattern(response, 65536);
    assert_int_equal(select_aid(f->card, answer_cls, sizeof answer_cls), 0x9000);
    answer_counters(f->card, 0x80, after);
    assert_int_equal(after[2], before[2] + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_08_failed_commit_of_a_debit_changes_nothing_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_08_failed_commit_of_install_keeps_the_session_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_08_failed_last_load_block_keeps_the_load_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_08_failed_select_keeps_the_selected_applet_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_08_failed_store_data_keeps_the_block_number_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_08_failed_commit_without_writes_puts_ram_back_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_09_long_answers_reach_a_vpcd_reader_X2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_09_long_wrapped_answer_is_delivered_X2, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
