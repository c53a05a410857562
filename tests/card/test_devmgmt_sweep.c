/*
 * Power cuts in the middle of devmgmt's proactive session (issue 13 "Done
 * when"; X4, S1, S5, S7, S9): the operator's policy STORE DATA (to devmgmt
 * live on channel 1), REGISTER and its chain, an event past the threshold,
 * GET INKEY answered yes, REQUEST SYNCHRONIZATION answered, PROVIDE LOCAL
 * INFORMATION, DISPLAY TEXT of the result, the last result kept. The session
 * runs on a new card once without a cut, then again with a power cut at write
 * point 1, 2, ... of the whole session until it completes. After each cut the
 * reopened card must be exactly as it was before the command that was cut
 * (whole-card fingerprint, which holds the policy record, the filed policy
 * block and devmgmt's last result): every change is whole or absent, never a
 * half-applied policy; and devmgmt still answers. Then, one command each with
 * sweep_every_write: the TERMINAL PROFILE whose event E1 makes devmgmt start
 * its timer again (the timer is RAM; devmgmt's own memory is written), a
 * policy block that releases events, and REQUEST SYNCHRONIZATION's answer
 * with counts or a failure class (the stored outcome); with the result asked
 * for later (DF1B 02, S7), the TERMINAL RESPONSE that accepts it (the outcome
 * "pending") and the terminal's later report, ENVELOPE event E2 (the outcome,
 * counts or class, with devmgmt's next command queued).
 */
#include "devmgmt_host.h"

/* The policy of the session: location status counts, threshold 1, ask first, the
   server; no timer. */
static size_t session_policy(uint8_t *b) {
    const uint8_t head[] = {0xDF, 0x10, 1, 0x03, 0xDF, 0x11, 1, 1, 0xDF, 0x15, 1, 1};
    return policy_with_server(b, head, sizeof head);
}

/* devmgmt installed without policy, the profile sent, devmgmt selected on channel 1
   (its menu and empty event list answered), and channel 0's secure channel with
   devmgmt as the personalization target: ready for the policy block. */
static void prepare(fixture *f) {
    fresh_image(f);
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(install(f->card, 0x0C, dm_pkg, dm_cls, dm_cls, NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    last_sw = select_dm(f->card);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
}

/* ---- the session, one command a step: each returns its SW, 0 when power was cut ---- */

static uint16_t step_policy(seam_card *card) {
    uint8_t block[128];
    return gp(card, true, 0xE2, 0x90, 0x00, block, session_policy(block));
}

static uint16_t step_register(seam_card *card) {
    return last_sw = SEND(card, 0x81, 0x10, 0x00, 0x00);
}

/* FETCH of what last_sw announces, decoded into cmd (the type checked). */
static uint16_t step_fetch(seam_card *card, uint8_t type) {
    uint8_t apdu[5] = {0x80, 0x12, 0x00, 0x00, (uint8_t)last_sw};
    uint16_t sw;
    assert_int_equal(last_sw & 0xFF00, 0x9100);
    sw = send(card, apdu, sizeof apdu);
    if (sw == 0)
        return 0;
    assert_int_equal(sw, 0x9000);
    memcpy(fetched, response, response_len - 2);
    assert_int_equal(seam_tk_command_decode(fetched, response_len - 2, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, type);
    return sw;
}

static uint16_t step_answer(seam_card *card, const uint8_t *extra, size_t extra_len) {
    answer(card, SEAM_TK_RES_OK, extra, extra_len);
    return last_sw;
}

static uint16_t step_event(seam_card *card) {
    location_event(card);
    return last_sw;
}

#define STEPS 15

/* Runs step i of the session. */
static uint16_t run_step(seam_card *card, int i) {
    static const uint8_t yes[] = {0x8D, 0x02, 0x04, 0x01};
    switch (i) {
    case 0:
        return step_policy(card);
    case 1:
        return step_register(card);
    case 2:
        return step_fetch(card, SEAM_TK_CMD_SET_UP_MENU);
    case 3:
        return step_answer(card, NULL, 0);
    case 4:
        return step_fetch(card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    case 5:
        return step_answer(card, NULL, 0);
    case 6:
        return step_event(card); /* 1 of threshold 1 */
    case 7:
        return step_fetch(card, SEAM_TK_CMD_GET_INKEY);
    case 8:
        return step_answer(card, yes, sizeof yes);
    case 9:
        return step_fetch(card, SEAM_TK_CMD_REQUEST_SYNC);
    case 10:
        return step_answer(card, NULL, 0);
    case 11:
        return step_fetch(card, SEAM_TK_CMD_PROVIDE_LOCAL);
    case 12:
        return step_answer(card, date_time, sizeof date_time);
    case 13:
        return step_fetch(card, SEAM_TK_CMD_DISPLAY_TEXT);
    default:
        return step_answer(card, NULL, 0);
    }
}

/* devmgmt's STATUS after a power-up, selected on channel 1 without a profile. */
static void status_after_power_up(fixture *f, uint8_t st[DM_STATUS_LEN]) {
    assert_int_equal(select_dm(f->card), 0x9000);
    status(f->card, st);
}

static void x4_s9_power_cut_at_every_write_of_a_devmgmt_session(void **state) {
    fixture *f = *state;
    uint8_t before[32], now[32], st[DM_STATUS_LEN];
    uint64_t start, points;
    int n, cut_step = -1;
    /* the session without a cut */
    prepare(f);
    start = seam_nvm_write_points(seam_card_nvm(f->card));
    for (int i = 0; i < STEPS; i++) {
        uint16_t sw = run_step(f->card, i);
        assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    }
    assert_int_equal(last_sw, 0x9000); /* the session is over */
    points = seam_nvm_write_points(seam_card_nvm(f->card)) - start;
    reopen(f);
    status_after_power_up(f, st);
    assert_int_equal(st[0], 0x01); /* synchronized */
    assert_int_equal(st[2], 0x01); /* by a policy event */
    assert_memory_equal(st + 3, date_time + 2, 7);
    assert_int_equal(st[10] << 8 | st[11], 1);
    for (n = 1;; n++) {
        prepare(f);
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        cut_step = -1;
        for (int i = 0; i < STEPS && cut_step < 0; i++) {
            fingerprint(f->card, before);
            cut_expected = true;
            uint16_t sw = run_step(f->card, i);
            cut_expected = false;
            if (sw == 0)
                cut_step = i;
            else
                assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
        }
        if (cut_step < 0) { /* no cut left: the sweep is over */
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            break;
        }
        reopen(f);
        fingerprint(f->card, now);
        if (memcmp(now, before, 32) != 0)
            fail_msg("cut at write point %d (step %d) left the card neither before nor after "
                     "that command",
                     n, cut_step);
        /* devmgmt answers, with its last result whole: none yet, or the session's */
        status_after_power_up(f, st);
        assert_true(st[0] == 0x00 || st[0] == 0x01);
        if (st[0] == 0x00)
            assert_int_equal(st[10] << 8 | st[11], 0);
        else
            assert_int_equal(st[10] << 8 | st[11], 1);
        assert_true(n < 1000);
    }
    print_message("X4 devmgmt session: %d write points swept (%llu in a run without a cut)\n",
                  n - 1, (unsigned long long)points);
    assert_int_equal((uint64_t)(n - 1), points);
    assert_true(points >= 1);
}

/* ---- the write paths of issue 13's later gaps, one command each (sweep_every_write) ---- */

/* 91xx (a proactive command waits) counts as success for sweep_every_write. */
static uint16_t done(uint16_t sw) {
    return (sw & 0xFF00) == 0x9100 ? 0x9000 : sw;
}

/* devmgmt with its policy (timer 1 s), then a power cycle: nothing selected. */
static void power_cycled(fixture *f) {
    dm_card(f, false);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    reopen(f);
}

/* TERMINAL PROFILE: devmgmt gets the card's event E1 and starts its timer again. */
static uint16_t op_profile(seam_card *card) {
    return done(SEND(card, PROFILE));
}

/* devmgmt with its policy, channel 0's secure channel aimed at it, devmgmt selected
   nowhere: ready for a policy block. */
static void perso_ready(fixture *f) {
    dm_card(f, false);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
}

/* A new event list (call connected instead of location status): 03 released. */
static uint16_t op_new_events(seam_card *card) {
    const uint8_t calls[] = {0xDF, 0x10, 1, SEAM_TK_EVENT_CALL_CONNECTED};
    return gp(card, true, 0xE2, 0x90, 0x00, calls, sizeof calls);
}

/* devmgmt's REQUEST SYNCHRONIZATION fetched (the user chose the menu item). */
static void sync_fetched(fixture *f) {
    dm_card(f, false);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
}

/* Its answer with seam's counts: the outcome and the counts kept. */
static uint16_t op_sync_counts(seam_card *card) {
    const seam_tk_sync_counts ran = {SEAM_TK_SYNC_TWO_WAY, 3, 5, 0};
    uint8_t counts[16];
    size_t len = 0;
    assert_int_equal(seam_tk_sync_counts_put(&ran, counts, sizeof counts, &len), SEAM_OK);
    answer(card, SEAM_TK_RES_OK, counts, len);
    return done(last_sw);
}

/* Its answer 20 E1: the outcome and the failure class kept. */
static uint16_t op_sync_failed(seam_card *card) {
    const uint8_t unreachable = SEAM_TK_SYNC_FAIL_UNREACHABLE;
    answer_info(card, SEAM_TK_RES_TERMINAL_BUSY, &unreachable, 1, NULL, 0);
    return done(last_sw);
}

/* X4 (issue 13; S5, S7): a power cut at every write point of the profile's E1 delivery
   (devmgmt restarts its timer), of a policy block that releases events, and of the
   stored sync outcome (counts, failure class) leaves the whole card as it was. */
static void x4_s5_s7_power_cut_at_every_write_of_profile_event_release_and_outcome(void **state) {
    fixture *f = *state;
    int profile = sweep_every_write(f, power_cycled, op_profile);
    int release = sweep_every_write(f, perso_ready, op_new_events);
    int counts = sweep_every_write(f, sync_fetched, op_sync_counts);
    int failed = sweep_every_write(f, sync_fetched, op_sync_failed);
    print_message("X4 profile E1: %d, event release: %d, counts: %d, failure class: %d write "
                  "points swept\n",
                  profile, release, counts, failed);
    assert_true(profile >= 1 && release >= 1 && counts >= 1 && failed >= 1);
}

/* devmgmt with its policy, live on channel 1; channel 0's secure channel aimed at it. */
static void live_perso_ready(fixture *f) {
    dm_card(f, false);
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
}

/* A policy block into the live state: committed there, filed in the restore record. */
static uint16_t op_live_policy(seam_card *card) {
    const uint8_t threshold_1[] = {0xDF, 0x11, 1, 1};
    return done(gp(card, true, 0xE2, 0x90, 0x00, threshold_1, sizeof threshold_1));
}

/* The operator's trigger alone into the live state: a command (seam_personalize_command),
   committed there and not filed; a sync queued. */
static uint16_t op_live_trigger(seam_card *card) {
    const uint8_t trigger[] = {0xDF, 0x20, 1, SEAM_TK_SYNC_SLOW};
    return done(gp(card, true, 0xE2, 0x90, 0x00, trigger, sizeof trigger));
}

/* X4 (S1, S5): a power cut at every write of a STORE DATA into devmgmt selected on another
   channel, filed or declared a command, leaves the whole card as it was. */
static void x4_s1_s5_power_cut_at_every_write_of_a_live_personalization(void **state) {
    fixture *f = *state;
    int policy = sweep_every_write(f, live_perso_ready, op_live_policy);
    int trigger = sweep_every_write(f, live_perso_ready, op_live_trigger);
    print_message("X4 live personalization: policy %d, trigger %d write points swept\n", policy,
                  trigger);
    assert_true(policy >= 1 && trigger >= 1);
}

/* ---- S7: the result later by ENVELOPE ------------------------------------------------ */

static uint8_t pending_reference;

/* devmgmt asking for the result later (DF1B 02), its REQUEST SYNCHRONIZATION fetched. */
static void later_sync_fetched(fixture *f) {
    const uint8_t later[] = {0xDF, 0x1B, 1, 0x02};
    dm_card(f, false);
    assert_int_equal(store(f->card, later, sizeof later), 0x9000);
    assert_int_equal(select_dm(f->card), 0x9000);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
}

/* The terminal accepts: 00 and the reference; devmgmt records "pending". */
static uint16_t op_accept_later(seam_card *card) {
    uint8_t ref[8];
    size_t len = 0;
    pending_reference = cmd.details.number;
    assert_int_equal(seam_tk_sync_reference_put(pending_reference, ref, sizeof ref, &len), SEAM_OK);
    answer(card, SEAM_TK_RES_OK, ref, len);
    return done(last_sw);
}

/* devmgmt pending, the session over: ready for the report. */
static void report_pending(fixture *f) {
    later_sync_fetched(f);
    assert_int_equal(op_accept_later(f->card), 0x9000);
}

/* The report with counts (E2): devmgmt records it and queues PROVIDE LOCAL INFORMATION. */
static uint16_t op_report_counts(seam_card *card) {
    const seam_tk_sync_report rep = {.reference = pending_reference,
                                     .general = SEAM_TK_RES_OK,
                                     .counts = {SEAM_TK_SYNC_TWO_WAY, 3, 5, 0}};
    uint8_t env[64];
    size_t len = 0;
    assert_int_equal(seam_tk_envelope_sync_result(&rep, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
    return done(last_sw);
}

/* The report 20 E2 (authentication refused). */
static uint16_t op_report_failed(seam_card *card) {
    const seam_tk_sync_report rep = {.reference = pending_reference,
                                     .general = SEAM_TK_RES_TERMINAL_BUSY,
                                     .failure = SEAM_TK_SYNC_FAIL_AUTH};
    uint8_t env[64];
    size_t len = 0;
    assert_int_equal(seam_tk_envelope_sync_result(&rep, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
    return done(last_sw);
}

/* X4 (S7): a power cut at every write of the TERMINAL RESPONSE that accepts a sync for a
   later report, and of the report itself (event E2, counts or class), leaves the whole card
   as it was: devmgmt is pending or has the result, never half of it. */
static void x4_s7_power_cut_at_every_write_of_a_later_report(void **state) {
    fixture *f = *state;
    int accept = sweep_every_write(f, later_sync_fetched, op_accept_later);
    int counts = sweep_every_write(f, report_pending, op_report_counts);
    int failed = sweep_every_write(f, report_pending, op_report_failed);
    print_message("X4 later report: accepted %d, counts %d, failure class %d write points swept\n",
                  accept, counts, failed);
    assert_true(accept >= 1 && counts >= 1 && failed >= 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            x4_s5_s7_power_cut_at_every_write_of_profile_event_release_and_outcome, setup,
            teardown),
        cmocka_unit_test_setup_teardown(x4_s9_power_cut_at_every_write_of_a_devmgmt_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(x4_s1_s5_power_cut_at_every_write_of_a_live_personalization,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(x4_s7_power_cut_at_every_write_of_a_later_report, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
