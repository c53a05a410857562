/*
 * Services between instances (seam_service_call, docs/applet-abi.md; issue 13,
 * S5 "another application"): apps/test_service asks apps/devmgmt for a
 * synchronization; devmgmt keeps an allow list of caller AIDs in its policy
 * (DF18, set by the operator). Attacks: a caller not on the list, a caller of
 * another security domain, recursion (B calling back A), a call to itself,
 * too many calls, a callee that refuses after writing, a caller whose command
 * is not kept after the callee accepted, a wild pointer.
 */
#include "devmgmt_host.h"
#include "sd_host.h"

static const uint8_t sv_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x53, 0x56};
static const uint8_t sv_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x53, 0x56, 0x01};
static const uint8_t sv_b[] = {0xA0, 0x00, 0x00, 0x05, 0x53, 0x56, 0x02};
static const uint8_t sv_c[] = {0xA0, 0x00, 0x00, 0x05, 0x53, 0x56, 0x03};
static const uint8_t ssd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x42};

/* devmgmt (allowing test_service instance A only) selected on channel 1 and set up;
   test_service instances A and B installed, A selected on channel 2. */
static void service_card(fixture *f) {
    uint8_t block[32] = {0xDF, 0x18, 8, 7};
    memcpy(block + 4, sv_cls, sizeof sv_cls);
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "test_service", sv_pkg, sizeof sv_pkg);
    assert_int_equal(install(f->card, 0x0C, sv_pkg, sv_cls, sv_cls, NULL, 0), 0x9000);
    assert_int_equal(install(f->card, 0x0C, sv_pkg, sv_cls, sv_b, NULL, 0), 0x9000);
    dm_card(f, false);
    assert_int_equal(store_live(f->card, block, 11), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x02), 0x9000);
}

/* Selects instance aid (7 bytes) on channel 2. */
static uint16_t select_on_2(seam_card *card, const uint8_t *aid) {
    uint8_t apdu[5 + 7] = {0x02, 0xA4, 0x04, 0x00, 7};
    memcpy(apdu + 5, aid, 7);
    return send(card, apdu, sizeof apdu);
}

/* CALL (INS 10) on channel 2: asks instance to (7 bytes) with request[0..len); the
   results are left in response (4 bytes each). */
static uint16_t call(seam_card *card, uint8_t p1, uint8_t p2, const uint8_t *to,
                     const uint8_t *request, size_t len) {
    uint8_t apdu[5 + 1 + 7 + 65 + 1] = {0x82, 0x10, p1, p2, (uint8_t)(1 + 7 + len), 7};
    memcpy(apdu + 6, to, 7);
    memcpy(apdu + 13, request, len);
    apdu[13 + len] = 0x00;
    return send(card, apdu, 14 + len);
}

static int32_t result_at(size_t i) {
    return (int32_t)((uint32_t)response[4 * i] << 24 | (uint32_t)response[4 * i + 1] << 16 |
                     (uint32_t)response[4 * i + 2] << 8 | response[4 * i + 3]);
}

static void s5_allowed_applet_asks_devmgmt_for_a_sync(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    const uint8_t slow = SEAM_TK_SYNC_SLOW;
    service_card(f);
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000);
    last_sw = call(f->card, 0, 0, dm_cls, &slow, 1);
    assert_int_equal(response_len, 4 + 2);
    assert_int_equal(result_at(0), 0x9000);
    fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[2], 0x05); /* another applet */
    /* a second ask while devmgmt is idle again, devmgmt not selected anywhere */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    last_sw = call(f->card, 0, 0, dm_cls, &slow, 1);
    assert_int_equal(result_at(0), 0x9000);
    fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
}

static void s5_caller_not_on_the_list_is_refused_and_nothing_changes(void **state) {
    fixture *f = *state;
    uint8_t before[32], now[32];
    const uint8_t slow = SEAM_TK_SYNC_SLOW;
    service_card(f);
    assert_int_equal(select_on_2(f->card, sv_b), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(call(f->card, 0, 0, dm_cls, &slow, 1), 0x9000); /* no 91xx: nothing queued */
    assert_int_equal(result_at(0), 0x6982);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    /* nor with a bad request from an allowed caller */
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000);
    const uint8_t bad = 199;
    fingerprint(f->card, before);
    assert_int_equal(call(f->card, 0, 0, dm_cls, &bad, 1), 0x9000);
    assert_int_equal(result_at(0), 0x6A80);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
}

static void s5_recursion_and_self_calls_are_refused(void **state) {
    fixture *f = *state;
    const uint8_t back = 0xEE, one = 0x01;
    service_card(f);
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000);
    /* A asks B, whose service calls A back: refused (BUSY), B's own answer stands */
    assert_int_equal(call(f->card, 0, 0, sv_b, &back, 1), 0x9000);
    assert_int_equal(result_at(0), 0x9000);
    assert_int_equal(call(f->card, 0, 0, sv_cls, &one, 1), 0x9000); /* A asks itself */
    assert_int_equal(result_at(0), -3);
    assert_int_equal(select_on_2(f->card, sv_b), 0x9000);
    assert_int_equal(SEND(f->card, 0x82, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response[0], 7); /* B saw A */
    assert_memory_equal(response + 1, sv_cls, 7);
    assert_int_equal(response[17], 0xEE);
    assert_int_equal((int32_t)((uint32_t)response[18] << 24 | (uint32_t)response[19] << 16 |
                               (uint32_t)response[20] << 8 | response[21]),
                     -3);
    assert_int_equal(response[22], 1);
}

static void s5_limits_refusals_and_a_command_not_kept(void **state) {
    fixture *f = *state;
    uint8_t before[32], now[32], st[DM_STATUS_LEN];
    const uint8_t one = 0x01, fail = 0xFF, slow = SEAM_TK_SYNC_SLOW;
    uint8_t long_request[65] = {0};
    service_card(f);
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000);
    /* four calls per entry-point call */
    assert_int_equal(call(f->card, 0x01, 0, sv_b, &one, 1), 0x9000);
    assert_int_equal(response_len, 20 + 2);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(result_at(i), 0x9000);
    assert_int_equal(result_at(4), -4);
    /* a request over 64 bytes; an instance that does not exist */
    assert_int_equal(call(f->card, 0, 0, sv_b, long_request, sizeof long_request), 0x9000);
    assert_int_equal(result_at(0), -4);
    assert_int_equal(call(f->card, 0, 0, sv_c, &one, 1), 0x9000);
    assert_int_equal(result_at(0), -1);
    /* a callee that refuses after writing its memory: nothing of it stays */
    fingerprint(f->card, before);
    assert_int_equal(call(f->card, 0, 0, sv_b, &fail, 1), 0x9000);
    assert_int_equal(result_at(0), 0x6A80);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    /* the caller's command is not kept: devmgmt, live on channel 1, is put back */
    status(f->card, st);
    fingerprint(f->card, before);
    assert_int_equal(call(f->card, 0, 0x01, dm_cls, &slow, 1), 0x6A80);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    uint8_t st2[14];
    assert_int_equal(SEND(f->card, 0x81, 0x20, 0x00, 0x00, 0x00), 0x9000); /* nothing queued */
    memcpy(st2, response, 14);
    assert_memory_equal(st, st2, 14);
    /* a callee that never ends spends what its caller had left: the caller's command
       runs out of fuel (6F00), one budget in all, nothing changed */
    const uint8_t spin = 0xFD;
    fingerprint(f->card, before);
    assert_int_equal(call(f->card, 0, 0, sv_b, &spin, 1), 0x6F00);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    /* outside their entry points: seam_personalize_command -3, seam_service_caller 0 */
    assert_int_equal(SEND(f->card, 0x82, 0x13, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(result_at(0), -3);
    assert_int_equal(result_at(1), 0);
    /* a wild AID pointer traps the caller */
    assert_int_equal(SEND(f->card, 0x82, 0x11, 0x00, 0x00), 0x6F00);
}

static void s5_caller_of_another_security_domain_is_refused(void **state) {
    fixture *f = *state;
    const uint8_t priv_sd[] = {0x80};
    const uint8_t slow = SEAM_TK_SYNC_SLOW;
    uint8_t block[32] = {0xDF, 0x18, 8, 7};
    service_card(f);
    /* C, on devmgmt's list too, moves to an SSD */
    memcpy(block + 4, sv_c, sizeof sv_c);
    assert_int_equal(store_live(f->card, block, 11), 0x9000);
    open_channel(f->card);
    assert_int_equal(install(f->card, 0x0C, sv_pkg, sv_cls, sv_c, NULL, 0), 0x9000);
    assert_int_equal(install_sd(f->card, 0x0C, ssd, sizeof ssd, priv_sd, 1), 0x9000);
    assert_int_equal(extradite(f->card, ssd, sizeof ssd, sv_c, sizeof sv_c), 0x9000);
    assert_int_equal(select_on_2(f->card, sv_c), 0x9000);
    assert_int_equal(call(f->card, 0, 0, dm_cls, &slow, 1), 0x9000);
    assert_int_equal(result_at(0), -2);
}

/* X4 of the call's target: a SELECT takes B off channel 2 (kept in RAM for its next
   SELECT) and the new applet's select calls B: B's kept copy is stale and must go. */
static void s5_a_callee_taken_off_its_channel_by_the_same_command_is_not_kept_stale(void **state) {
    fixture *f = *state;
    uint8_t arm[5 + 7] = {0x81, 0x12, 0x00, 0x00, 7};
    service_card(f);
    memcpy(arm + 5, sv_b, sizeof sv_b);
    assert_int_equal(select_on_2(f->card, sv_b), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* devmgmt off ch 1 */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x53, 0x56, 0x01),
        0x9000);
    assert_int_equal(send(f->card, arm, sizeof arm), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000); /* B retired; A's select calls B */
    assert_int_equal(SEND(f->card, 0x82, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response[18] << 24 | response[19] << 16 | response[20] << 8 | response[21],
                     0x9000);
    assert_int_equal(select_on_2(f->card, sv_b), 0x9000);
    assert_int_equal(SEND(f->card, 0x82, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response[22], 1); /* B served once: its state after the call */
    assert_memory_equal(response + 1, sv_cls, 7);
}

/* ---- a power cut in the middle of a call (X4) ------------------------------------------ */

/* 91xx (a proactive command waits) counts as success for sweep_every_write. */
static uint16_t done(uint16_t sw) {
    return (sw & 0xFF00) == 0x9100 ? 0x9000 : sw;
}

/* service_card with A selected on channel 2. */
static void a_selected(fixture *f) {
    service_card(f);
    assert_int_equal(select_on_2(f->card, sv_cls), 0x9000);
}

/* A asks B, selected nowhere (loaded for the call): B's memory is committed. */
static uint16_t op_call_loaded(seam_card *card) {
    const uint8_t one = 0x01;
    uint16_t sw = call(card, 0, 0, sv_b, &one, 1);
    assert_true(sw != 0x9000 || result_at(0) == 0x9000);
    return sw;
}

/* A asks devmgmt, live on channel 1: its live state is committed, a sync queued. */
static uint16_t op_call_live(seam_card *card) {
    const uint8_t slow = SEAM_TK_SYNC_SLOW;
    uint16_t sw = done(call(card, 0, 0, dm_cls, &slow, 1));
    assert_true(sw != 0x9000 || result_at(0) == 0x9000);
    return sw;
}

/* X4 (S5): a power cut at every write of a service call, to a callee loaded for it and to
   one live on another channel, leaves the whole card as it was. */
static void x4_s5_power_cut_at_every_write_of_a_service_call(void **state) {
    fixture *f = *state;
    int loaded = sweep_every_write(f, a_selected, op_call_loaded);
    int live = sweep_every_write(f, a_selected, op_call_live);
    print_message("X4 service call: loaded callee %d, live callee %d write points\n", loaded, live);
    assert_true(loaded > 0);
    assert_true(live > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s5_allowed_applet_asks_devmgmt_for_a_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(x4_s5_power_cut_at_every_write_of_a_service_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s5_caller_not_on_the_list_is_refused_and_nothing_changes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(s5_recursion_and_self_calls_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(s5_limits_refusals_and_a_command_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(s5_caller_of_another_security_domain_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            s5_a_callee_taken_off_its_channel_by_the_same_command_is_not_kept_stale, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
