/*
 * The card as a terminal sees it: ATR, SELECT, logical channels, GET DATA,
 * GET RESPONSE, and the SCP03 handshake with the issuer security domain
 * (X1), with the sequence counter surviving restarts and power cuts (X4)
 * and every refused command leaving the card as it was (X6); the byte
 * counters of the card's interface (P1).
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

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* ---- device ---------------------------------------------------------------------- */

static void atr_announces_t1_and_extended_lengths(void **state) {
    fixture *f = *state;
    uint8_t atr[SEAM_CARD_ATR_MAX], cmd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    size_t atr_len = 0;
    assert_int_equal(
        seam_card_transmit(f->card, cmd, sizeof cmd, response, sizeof response, &response_len),
        SEAM_ERR_CARD); /* powered off */
    assert_int_equal(seam_card_power_on(f->card, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_true(atr_len <= 33);
    assert_int_equal(atr[0], 0x3B);
    uint8_t tck = 0;
    for (size_t i = 1; i < atr_len; i++)
        tck ^= atr[i];
    assert_int_equal(tck, 0); /* T=1 is offered, so TCK must check */
    bool t1 = false;
    for (size_t i = 2; i < atr_len; i++)
        t1 |= atr[i] == 0x01 && (atr[i - 1] & 0x80);
    assert_true(t1);
    assert_int_equal(atr[atr_len - 2] & 0x40, 0x40); /* card capabilities: extended Lc/Le */
}

static void select_finds_the_isd_by_full_partial_and_empty_aid(void **state) {
    fixture *f = *state;
    power_on(f->card);
    assert_int_equal(
        SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0, 0, 0x01, 0x51, 0, 0, 0, 0x00), 0x9000);
    assert_int_equal(response[0], 0x6F);
    assert_int_equal(response[2], 0x84);
    assert_int_equal(response[3], 8);
    assert_memory_equal(response + 4, isd, 8);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0, 0, 0x01, 0x51, 0x00),
                     0x9000);
    assert_memory_equal(response + 4, isd, 8);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_memory_equal(response + 4, isd, 8);
    /* the next occurrence after the only match: none */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x02, 0x05, 0xA0, 0, 0, 0x01, 0x51, 0x00),
                     0x6A82);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0, 0, 0, 0x99, 0x00),
                     0x6A82);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00), 0x6A86);
}

static void bad_apdus_get_iso_status_words(void **state) {
    fixture *f = *state;
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04), 0x6700);                   /* 3 bytes */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0), 0x6700); /* short Lc */
    assert_int_equal(SEND(f->card, 0xFF, 0xA4, 0x04, 0x00, 0x00), 0x6E00);
    assert_int_equal(SEND(f->card, 0x00, 0x12, 0x00, 0x00, 0x00), 0x6D00);
    assert_int_equal(SEND(f->card, 0x80, 0x16, 0x00, 0x00, 0x00), 0x6D00); /* 80 12 is FETCH */
    assert_int_equal(SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x00), 0x6881); /* channel closed */
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x6985); /* nothing pending */
}

static void logical_channels_open_select_and_close(void **state) {
    fixture *f = *state;
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(response_len, 3);
    assert_int_equal(response[0], 1);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x03), 0x9000); /* open channel 3 */
    assert_int_equal(SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x03, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(response[0], 2);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x6881); /* all 4 in use */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x00), 0x6881);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x6881); /* already closed */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x00), 0x6A86); /* basic channel */
    /* a warm reset closes every supplementary channel */
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x03, 0xCA, 0x00, 0x42, 0x00), 0x6881);
}

static void get_data_reports_card_objects(void **state) {
    fixture *f = *state;
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x66, 0x00), 0x9000);
    assert_int_equal(response[0], 0x66); /* GP class: the whole TLV */
    assert_int_equal(response[1], 0x31);
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x66, 0x00), 0x9000);
    assert_int_equal(response[0], 0x73); /* ISO class: the value */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0xE0, 0x00), 0x9000);
    assert_int_equal(response[0], 0xE0);
    assert_int_equal(response_len, 2 + 3 * 6 + 2);
    assert_int_equal(response[2], 0xC0);
    assert_int_equal(response[5], 0x30); /* key version of the test keys */
    assert_int_equal(response[6], 0x88); /* AES */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x00), 0x9000);
    assert_int_equal(response_len, 3 + 42 + 2);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0xFF, 0x21, 0x00), 0x9000);
    size_t free_bytes = (size_t)response[8] << 24 | (size_t)response[9] << 16 |
                        (size_t)response[10] << 8 | response[11];
    assert_int_equal(free_bytes, seam_nvm_free_bytes(seam_card_nvm(f->card)));
    assert_true(free_bytes > 500000);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
    assert_int_equal(response[2] | response[3] | response[4], 0);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0xFE, 0x00), 0x6A88);
}

static void long_responses_continue_with_get_response(void **state) {
    fixture *f = *state;
    power_on(f->card);
    /* Le = 10 on a 45-byte CPLC: 10 bytes and 61 23, then the rest */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123);
    assert_int_equal(response_len, 12);
    assert_int_equal(response[0], 0x9F);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 35 + 2);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x6985);
}

static void assert_counter(const seam_card_counter *c, uint64_t commands, uint64_t in,
                           uint64_t out) {
    assert_int_equal(c->commands, commands);
    assert_int_equal(c->bytes_in, in);
    assert_int_equal(c->bytes_out, out);
}

/* P1: bytes in and out per INS, kept across power off / on, zeroed by reset. */
static void p1_byte_counters_count_apdus_per_ins(void **state) {
    fixture *f = *state;
    seam_card_traffic t;
    uint8_t one[] = {0x00};
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.total, 0, 0, 0);
    assert_int_equal(
        seam_card_transmit(f->card, one, sizeof one, response, sizeof response, &response_len),
        SEAM_ERR_CARD); /* powered off: not taken, not counted */
    power_on(f->card);
    /* SELECT: 14 bytes in, the 18-byte FCI and 9000 out */
    assert_int_equal(
        SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0, 0, 0x01, 0x51, 0, 0, 0, 0x00), 0x9000);
    assert_int_equal(response_len, 20);
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04), 0x6700); /* malformed: 3 in, 2 out */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x42, 0x00), 0x9000); /* IIN: 6 out */
    assert_int_equal(response_len, 6);
    /* CPLC with Le 10: 10 bytes and 6123, then GET RESPONSE with the other 35 */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123);
    assert_int_equal(response_len, 12);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 37);
    assert_int_equal(send(f->card, one, sizeof one), 0x6700); /* no INS: total only */
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.by_ins[0xA4], 2, 14 + 3, 20 + 2);
    assert_counter(&t.by_ins[0xCA], 2, 5 + 5, 6 + 12);
    assert_counter(&t.by_ins[0xC0], 1, 5, 37);
    assert_counter(&t.by_ins[0x00], 0, 0, 0);
    assert_counter(&t.total, 6, 17 + 10 + 5 + 1, 22 + 18 + 37 + 2);
    for (unsigned i = 0; i < 256; i++)
        if (i != 0xA4 && i != 0xCA && i != 0xC0)
            assert_counter(&t.by_ins[i], 0, 0, 0);
    /* RAM of the card object: they survive power off and on */
    seam_card_power_off(f->card);
    power_on(f->card);
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.total, 6, 33, 79);
    seam_card_traffic_reset(f->card);
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.total, 0, 0, 0);
    for (unsigned i = 0; i < 256; i++)
        assert_counter(&t.by_ins[i], 0, 0, 0);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.total, 1, 5, 6);
    assert_counter(&t.by_ins[0xCA], 1, 5, 6);
    /* a new card object (the image reopened) starts at zero */
    reopen(f);
    seam_card_traffic_get(f->card, &t);
    assert_counter(&t.total, 0, 0, 0);
}

/* ---- secure channel ---------------------------------------------------------------- */

/*
 * The card's side of the SCP03 handshake, driven by hand from the crypto layer's
 * primitives rather than the host library: these tests send what the library never
 * does (a corrupted host cryptogram, EXTERNAL AUTHENTICATE out of sequence, a
 * replayed command, INITIALIZE UPDATE cut by a power loss) and read the counter
 * from the raw INITIALIZE UPDATE answer.
 */
typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
} host_channel;

/* Runs INITIALIZE UPDATE; returns its SW and, on 9000, derives the host's session. */
static uint16_t initialize_update(seam_card *card, uint8_t kvn, host_channel *h, uint32_t *seq) {
    uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint16_t sw = SEND(card, 0x80, 0x50, kvn, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00);
    if (sw != 0x9000)
        return sw;
    assert_int_equal(response_len, 32 + 2);
    assert_int_equal(response[10], 0x30); /* key version */
    assert_int_equal(response[11], 0x03); /* SCP03 */
    *seq = (uint32_t)response[29] << 16 | (uint32_t)response[30] << 8 | response[31];
    assert_int_equal(
        seam_crypto_scp03_derive_session(&h->keys, test_key, test_key, 16, hc, response + 13, 8),
        SEAM_OK);
    assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&h->keys, response + 21, 8), SEAM_OK);
    return sw;
}

static uint16_t external_authenticate(seam_card *card, host_channel *h, uint8_t level,
                                      bool corrupt) {
    uint8_t cmd[5 + 16] = {0x84, 0x82, level, 0x00, 0x10};
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&h->keys, cmd + 5), SEAM_OK);
    if (corrupt)
        cmd[5] ^= 1;
    memset(h->chain, 0, sizeof h->chain);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, cmd, 5, cmd + 5, 8, cmd + 13), SEAM_OK);
    return send(card, cmd, sizeof cmd);
}

static void scp03_handshake_opens_a_channel_with_the_test_keys(void **state) {
    fixture *f = *state;
    host_channel h;
    uint32_t seq = 0;
    power_on(f->card);
    assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
    assert_int_equal(seq, 1);
    assert_int_equal(external_authenticate(f->card, &h, 0x01, false), 0x9000);
    /* a C-MACed GET DATA goes through; the same without its MAC does not */
    uint8_t cmd[5 + 8 + 1] = {0x84, 0xCA, 0x00, 0xE0, 0x08};
    assert_int_equal(seam_crypto_scp03_command_mac(&h.keys, h.chain, cmd, 5, NULL, 0, cmd + 5),
                     SEAM_OK);
    cmd[13] = 0x00;
    assert_int_equal(send(f->card, cmd, sizeof cmd), 0x9000);
    assert_int_equal(response[0], 0xE0);
    /* replaying it fails the MAC chain and closes the channel */
    assert_int_equal(send(f->card, cmd, sizeof cmd), 0x6982);
    assert_int_equal(send(f->card, cmd, sizeof cmd), 0x6982);
}

static void scp03_refusals_change_nothing(void **state) {
    fixture *f = *state;
    host_channel h;
    uint32_t seq = 0;
    power_on(f->card);
    assert_int_equal(initialize_update(f->card, 0x31, &h, &seq), 0x6A88); /* no such KVN */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
    assert_int_equal(response[4], 0); /* counter untouched */
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x04, 1, 2, 3, 4, 0x00), 0x6700);
    assert_int_equal(initialize_update(f->card, 0x30, &h, &seq), 0x9000);
    assert_int_equal(external_authenticate(f->card, &h, 0x01, true), 0x6300);
    /* the session is gone: EXTERNAL AUTHENTICATE again is out of sequence */
    assert_int_equal(external_authenticate(f->card, &h, 0x01, false), 0x6985);
    assert_int_equal(initialize_update(f->card, 0x30, &h, &seq), 0x9000);
    assert_int_equal(seq, 2);
    assert_int_equal(external_authenticate(f->card, &h, 0x01, false), 0x9000);
}

static void sequence_counter_survives_a_restart(void **state) {
    fixture *f = *state;
    host_channel h;
    uint32_t seq = 0;
    power_on(f->card);
    assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
    assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
    assert_int_equal(seq, 2);
    reopen(f);
    assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
    assert_int_equal(seq, 3); /* a reused counter would reuse card challenges */
}

static void power_cut_at_every_write_of_initialize_update(void **state) {
    /* X4: the counter is the old one or the new one after any cut, and the card works */
    fixture *f = *state;
    host_channel h;
    uint32_t seq = 0;
    seam_nvm *nvm = seam_card_nvm(f->card);
    power_on(f->card);
    uint64_t before = seam_nvm_write_points(nvm);
    assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
    uint64_t points = seam_nvm_write_points(nvm) - before;
    assert_true(points >= 2); /* the counter record and the commit */
    for (uint64_t n = 1; n <= points; n++) {
        uint32_t old_seq = seq;
        nvm = seam_card_nvm(f->card);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, n), SEAM_OK);
        uint8_t cmd[] = {0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00};
        assert_int_equal(
            seam_card_transmit(f->card, cmd, sizeof cmd, response, sizeof response, &response_len),
            SEAM_ERR_NVM_POWER_CUT);
        reopen(f);
        assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
        uint32_t now = (uint32_t)response[2] << 16 | (uint32_t)response[3] << 8 | response[4];
        assert_true(now == old_seq || now == old_seq + 1);
        assert_int_equal(initialize_update(f->card, 0x00, &h, &seq), 0x9000);
        assert_int_equal(seq, now + 1);
        assert_int_equal(external_authenticate(f->card, &h, 0x01, false), 0x9000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(atr_announces_t1_and_extended_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(select_finds_the_isd_by_full_partial_and_empty_aid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_apdus_get_iso_status_words, setup, teardown),
        cmocka_unit_test_setup_teardown(logical_channels_open_select_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(get_data_reports_card_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(long_responses_continue_with_get_response, setup, teardown),
        cmocka_unit_test_setup_teardown(p1_byte_counters_count_apdus_per_ins, setup, teardown),
        cmocka_unit_test_setup_teardown(scp03_handshake_opens_a_channel_with_the_test_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(scp03_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(sequence_counter_survives_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_initialize_update, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
