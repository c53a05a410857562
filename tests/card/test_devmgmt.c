/*
 * apps/devmgmt on the card (issue 13; S5, S7, S9): the operator's policy by
 * STORE DATA over SCP03, the registration chain (SET UP MENU, SET UP EVENT
 * LIST, TIMER MANAGEMENT), each trigger source leading to REQUEST
 * SYNCHRONIZATION (decoded with include/seam/toolkit.h), the user's refusal,
 * a terminal without the capability (result 30, recorded as "not supported"),
 * the last result read by the operator, and the policy and the result kept
 * across an upgrade (restore module).
 *
 * The test plays the terminal: TERMINAL PROFILE, FETCH, TERMINAL RESPONSE and
 * ENVELOPE on channel 0 (the ISD answers them); devmgmt is selected on channel 1.
 */
#include "devmgmt_host.h"

static void s5_s7_s9_menu_item_requests_sync_terminal_without_capability_is_recorded(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    status(f->card, st);
    assert_int_equal(st[0], 0x00); /* nothing yet */
    assert_int_equal(st[1], 0xFF);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    /* a terminal without the capability: result 30 */
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
    assert_int_equal(last_sw, 0x9000);
    /* S7: the operator reads the last result and its time */
    status(f->card, st);
    assert_int_equal(st[0], 0x02); /* not supported */
    assert_int_equal(st[1], 0x30);
    assert_int_equal(st[2], 0x03); /* the menu */
    assert_memory_equal(st + 3, date_time + 2, 7);
    assert_int_equal(st[10] << 8 | st[11], 1);
    assert_int_equal(st[13], 0x00); /* idle */
}

static void s5_policy_event_threshold_requests_sync(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    location_event(f->card);
    assert_int_equal(last_sw, 0x9000); /* 1 of 2 */
    status(f->card, st);
    assert_int_equal(st[12], 1);
    location_event(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[1], 0x00);
    assert_int_equal(st[2], 0x01); /* a policy event */
    assert_int_equal(st[12], 0);   /* the count starts again */
}

static void s5_timer_expiration_requests_sync_and_restarts_the_timer(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    uint8_t env[32];
    size_t len;
    const uint8_t value[3] = {0x00, 0x00, 0x10};
    dm_card(f, false);
    assert_int_equal(seam_tk_envelope_timer(1, value, env, sizeof env, &len), SEAM_OK);
    envelope(f->card, env, len);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT); /* the interval again */
    assert_int_equal(cmd.details.qualifier, SEAM_TK_TIMER_START);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    status(f->card, st);
    assert_int_equal(st[0], 0x02);
    assert_int_equal(st[2], 0x02); /* the timer */
}

static void s5_operator_requests_sync_by_store_data_over_scp03(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    const uint8_t now[] = {0xDF, 0x20, 1, SEAM_TK_SYNC_SLOW};
    dm_card(f, false);
    uint16_t sw = store(f->card, now, sizeof now);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    /* the next answer on any channel announces it (not registered again: same power-up) */
    last_sw = select_dm(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
    status(f->card, st);
    assert_int_equal(st[2], 0x04); /* the operator */
    /* a bad type of synchronization is refused whole: 6A80 */
    const uint8_t bad[] = {0xDF, 0x20, 1, 199};
    assert_int_equal(store(f->card, bad, sizeof bad), 0x6A80);
    assert_int_equal(select_dm(f->card), 0x9000);
    status(f->card, st);
    assert_int_equal(st[10] << 8 | st[11], 1); /* no second request */
}

static void s9_user_says_no_no_sync_is_requested(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    const uint8_t no[] = {0x8D, 0x02, 0x04, 0x00};
    seam_ctlv t;
    dm_card(f, true);
    menu(f->card);
    fetch(f->card, SEAM_TK_CMD_GET_INKEY);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_INKEY_YES_NO);
    answer(f->card, SEAM_TK_RES_OK, no, sizeof no);
    /* no REQUEST SYNCHRONIZATION: the user is told it was cancelled */
    fetch(f->card, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TEXT_STRING, &t),
                     SEAM_OK);
    assert_memory_equal(t.value + 1, "Sync cancelled", 14);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    status(f->card, st);
    assert_int_equal(st[0], 0x04); /* refused by the user */
    assert_int_equal(st[10] << 8 | st[11], 0);
}

static void s9_user_says_yes_then_sync_is_requested(void **state) {
    fixture *f = *state;
    const uint8_t yes[] = {0x8D, 0x02, 0x04, 0x01};
    dm_card(f, true);
    menu(f->card);
    fetch(f->card, SEAM_TK_CMD_GET_INKEY);
    answer(f->card, SEAM_TK_RES_OK, yes, sizeof yes);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
}

static void s9_user_ends_the_session_no_sync_is_requested(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, true);
    menu(f->card);
    fetch(f->card, SEAM_TK_CMD_GET_INKEY);
    answer(f->card, SEAM_TK_RES_SESSION_TERMINATED, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_DISPLAY_TEXT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    status(f->card, st);
    assert_int_equal(st[0], 0x04);
    assert_int_equal(st[1], 0x10);
}

static void bad_policy_blocks_change_nothing(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    const uint8_t unknown[] = {0xDF, 0x13, 3, 'x', 'y', 'z', 0xDF, 0x7F, 1, 0};
    const uint8_t too_long[] = {0xDF, 0x10, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t truncated[] = {0xDF, 0x13, 5, 'x'};
    assert_int_equal(store(f->card, unknown, sizeof unknown), 0x6A80);
    assert_int_equal(store(f->card, too_long, sizeof too_long), 0x6A80);
    assert_int_equal(store(f->card, truncated, sizeof truncated), 0x6A80);
    /* the URL is still the policy's */
    assert_int_equal(select_dm(f->card), 0x9000);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
}

static void s5_s7_policy_and_last_result_kept_across_an_upgrade(void **state) {
    fixture *f = *state;
    uint8_t before[DM_STATUS_LEN], after[DM_STATUS_LEN];
    dm_card(f, false);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
    status(f->card, before);
    /* the upgrade, then a new power-up: it registers again at select, with its policy */
    upgrade_dm(f);
    status(f->card, after);
    assert_memory_equal(before, after, 12); /* S7: the last result and its time */
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY); /* the URL and URI came back */
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, after);
    assert_int_equal(after[10] << 8 | after[11], 2);
}

static void s1_s5_after_a_power_cycle_devmgmt_is_reached_without_select(void **state) {
    fixture *f = *state;
    seam_ctlv obj;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    reopen(f); /* a power cycle: only the ISD is selected, nothing selects devmgmt */
    last_sw = SEND(f->card, PROFILE);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU); /* the first FETCH: devmgmt's item */
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &obj), SEAM_OK);
    assert_int_equal(obj.value[0], 1);
    assert_int_equal(obj.len, 1 + strlen("Sync device"));
    assert_memory_equal(obj.value + 1, "Sync device", strlen("Sync device"));
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_EVENT_LIST, &obj),
                     SEAM_OK);
    assert_int_equal(obj.len, 1);
    assert_int_equal(obj.value[0], SEAM_TK_EVENT_LOCATION_STATUS);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    profile_timer(f->card);
    assert_int_equal(last_sw, 0x9000);
    /* the policy's events reach it: the second one reaches the threshold */
    location_event(f->card);
    assert_int_equal(last_sw, 0x9000);
    location_event(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    last_sw = select_dm(f->card);
    status(f->card, st);
    assert_int_equal(st[2], 0x01); /* a policy event */
}

static void s1_s5_freshly_personalized_devmgmt_is_reached_without_select(void **state) {
    fixture *f = *state;
    dm_personalized(f, false);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01); /* devmgmt selected nowhere, ever */
    last_sw = SEND(f->card, PROFILE);
    card_announces(f->card); /* the item and the event, from the policy block alone */
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    /* the user's menu choice reaches it */
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    /* and a power cycle keeps it so (the card's image) */
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    card_announces(f->card);
    profile_timer(f->card);
    assert_int_equal(last_sw, 0x9000);
}

/* Issue 13, S5: devmgmt's sync-interval timer is RAM of the terminal and the card (TS 102
   223 §6.6.21). After a power cycle the card tells every instance holding registrations
   that a TERMINAL PROFILE arrived (seam's event E1, applet.h); devmgmt starts its timer
   again, and the timer's expiry triggers the policy without any SELECT. */
static void s5_after_a_power_cycle_the_profile_restarts_the_sync_timer(void **state) {
    fixture *f = *state;
    uint8_t env[32];
    size_t len;
    seam_ctlv obj;
    const uint8_t value[3] = {0x00, 0x00, 0x10};
    dm_card(f, false);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    reopen(f); /* a power cycle: nothing selects devmgmt */
    last_sw = SEND(f->card, PROFILE);
    card_announces(f->card);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT); /* devmgmt's, on the profile alone */
    assert_int_equal(cmd.details.qualifier, SEAM_TK_TIMER_START);
    assert_int_equal(
        seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TIMER_IDENTIFIER, &obj), SEAM_OK);
    assert_int_equal(obj.value[0], 1);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TIMER_VALUE, &obj),
                     SEAM_OK);
    assert_memory_equal(obj.value, value, 3);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    /* the timer runs out: the policy's sync, and the timer again after it */
    assert_int_equal(seam_tk_envelope_timer(1, value, env, sizeof env, &len), SEAM_OK);
    envelope(f->card, env, len);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    /* the terminal may not send the card's own event */
    assert_int_equal(
        seam_tk_envelope_event(0xE1, SEAM_TK_DEV_TERMINAL, NULL, 0, env, sizeof env, &len),
        SEAM_OK);
    envelope(f->card, env, len);
    assert_int_equal(last_sw, 0x6A80);
}

/* S7, S9: the terminal's answer to REQUEST SYNCHRONIZATION (docs/toolkit.md "seam's
   choices"): result 00 with seam's counts object, or 20 with a failure class. devmgmt
   shows the counts or the class to the user and keeps them with the last result, where
   the operator reads them (STATUS bytes 14..21). */
static void s7_s9_sync_counts_and_failure_class_are_shown_and_kept(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    uint8_t counts[16];
    size_t counts_len = 0;
    const seam_tk_sync_counts ran = {SEAM_TK_SYNC_SLOW, 3, 5, 1};
    const uint8_t unreachable = SEAM_TK_SYNC_FAIL_UNREACHABLE;
    dm_card(f, false);
    assert_int_equal(seam_tk_sync_counts_put(&ran, counts, sizeof counts, &counts_len), SEAM_OK);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, counts, counts_len);
    after_sync(f->card, "Sync done: 3 sent, 5 received");
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[1], 0x00);
    assert_int_equal(st[14], 0x00);              /* no failure class */
    assert_int_equal(st[15], SEAM_TK_SYNC_SLOW); /* the type that ran (a slow-sync fallback) */
    assert_int_equal(st[16] << 8 | st[17], 3);
    assert_int_equal(st[18] << 8 | st[19], 5);
    assert_int_equal(st[20] << 8 | st[21], 1);
    /* then it fails: the server is unreachable (20 E1) */
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer_info(f->card, SEAM_TK_RES_TERMINAL_BUSY, &unreachable, 1, NULL, 0);
    after_sync(f->card, "Sync failed: server unreachable");
    status(f->card, st);
    assert_int_equal(st[0], 0x03);
    assert_int_equal(st[1], 0x20);
    assert_int_equal(st[14], SEAM_TK_SYNC_FAIL_UNREACHABLE);
    assert_int_equal(st[15], 0x00); /* no counts */
    assert_int_equal(st[16] | st[17] | st[18] | st[19] | st[20] | st[21], 0);
    assert_int_equal(st[10] << 8 | st[11], 2);
}

/* ---- S7: the result later by ENVELOPE (policy DF1A protocol, DF1B report) ---------- */

/* DF1A 02 (seam's changeset protocol) and DF1B 02 (the result later by ENVELOPE). */
static const uint8_t report_later[] = {0xDF, 0x1A, 1, 0x02, 0xDF, 0x1B, 1, 0x02};

/* The REQUEST SYNCHRONIZATION fetched: its protocol and its wish for the result. */
static void fetch_sync_asking(seam_card *card, uint8_t protocol, uint8_t wants) {
    seam_tk_sync_request req;
    fetch(card, SEAM_TK_CMD_REQUEST_SYNC);
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &req), SEAM_OK);
    assert_int_equal(req.protocol, protocol);
    assert_int_equal(req.wants_result, wants);
}

/* The terminal's "accepted, the result follows": 00 and the reference (the command number). */
static uint8_t accept_later(seam_card *card) {
    uint8_t ref[8];
    size_t len = 0;
    uint8_t number = cmd.details.number;
    assert_int_equal(seam_tk_sync_reference_put(number, ref, sizeof ref, &len), SEAM_OK);
    answer(card, SEAM_TK_RES_OK, ref, len);
    return number;
}

/* The terminal's later report (event E2) as ENVELOPE. */
static void report(seam_card *card, const seam_tk_sync_report *rep) {
    uint8_t env[64];
    size_t len = 0;
    assert_int_equal(seam_tk_envelope_sync_result(rep, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
}

/* devmgmt with DF1B 02 asks for the result later; the terminal's 00 + reference records
   "pending" (05) and nothing is shown; the E2 envelope with that reference records the
   result (counts, or the failure class), and the user is told as ever (S9). A report of
   another reference is ignored. The requests are counted once each. */
static void s7_s9_result_later_pending_then_reported_by_envelope(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    assert_int_equal(store(f->card, report_later, sizeof report_later), 0x9000);
    assert_int_equal(select_dm(f->card), 0x9000);
    menu(f->card);
    fetch_sync_asking(f->card, SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_RESULT_LATER);
    uint8_t ref = accept_later(f->card);
    assert_int_equal(last_sw, 0x9000); /* the session ends: nothing to show yet */
    status(f->card, st);
    assert_int_equal(st[0], 0x05); /* pending */
    assert_int_equal(st[1], 0x00);
    assert_int_equal(st[2], 0x03); /* the menu */
    assert_int_equal(st[10] << 8 | st[11], 1);
    assert_int_equal(st[13], 0x00); /* no command awaits its answer */
    /* a report of another reference: not this request's, ignored */
    seam_tk_sync_report rep = {.reference = (uint8_t)(ref + 1),
                               .general = SEAM_TK_RES_OK,
                               .counts = {SEAM_TK_SYNC_TWO_WAY, 9, 9, 0}};
    report(f->card, &rep);
    assert_int_equal(last_sw, 0x9000);
    status(f->card, st);
    assert_int_equal(st[0], 0x05);
    /* the request's report: 3 sent, 5 received */
    rep = (seam_tk_sync_report){
        .reference = ref, .general = SEAM_TK_RES_OK, .counts = {SEAM_TK_SYNC_TWO_WAY, 3, 5, 1}};
    report(f->card, &rep);
    after_sync(f->card, "Sync done: 3 sent, 5 received");
    assert_int_equal(last_sw, 0x9000);
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[1], 0x00);
    assert_memory_equal(st + 3, date_time + 2, 7);
    assert_int_equal(st[10] << 8 | st[11], 1); /* one request, counted once */
    assert_int_equal(st[14], 0x00);
    assert_int_equal(st[15], SEAM_TK_SYNC_TWO_WAY);
    assert_int_equal(st[16] << 8 | st[17], 3);
    assert_int_equal(st[18] << 8 | st[19], 5);
    assert_int_equal(st[20] << 8 | st[21], 1);
    /* the same report again: nothing is pending any more */
    report(f->card, &rep);
    assert_int_equal(last_sw, 0x9000);
    /* the next one fails later: server unreachable (20 E1) */
    menu(f->card);
    fetch_sync_asking(f->card, SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_RESULT_LATER);
    ref = accept_later(f->card);
    rep = (seam_tk_sync_report){.reference = ref,
                                .general = SEAM_TK_RES_TERMINAL_BUSY,
                                .failure = SEAM_TK_SYNC_FAIL_UNREACHABLE};
    report(f->card, &rep);
    after_sync(f->card, "Sync failed: server unreachable");
    status(f->card, st);
    assert_int_equal(st[0], 0x03);
    assert_int_equal(st[1], 0x20);
    assert_int_equal(st[14], SEAM_TK_SYNC_FAIL_UNREACHABLE);
    assert_int_equal(st[16] | st[17] | st[18] | st[19], 0);
    assert_int_equal(st[10] << 8 | st[11], 2);
    /* a terminal that answers in the TERMINAL RESPONSE anyway (no reference): as with 01 */
    menu(f->card);
    fetch_sync_asking(f->card, SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_RESULT_LATER);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
}

/* E2 is seam's own event: the card keeps it out of its SET UP EVENT LIST although
   devmgmt holds it (a terminal refuses a list with an event it does not know), takes it
   from the terminal (unlike E1), and answers 6A88 when nobody holds it, changing
   nothing. DF1B 01 releases it. */
static void s7_event_e2_is_taken_not_listed_and_refused_when_nobody_holds_it(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32];
    const seam_tk_sync_report rep = {
        .reference = 1, .general = SEAM_TK_RES_TERMINAL_BUSY, .failure = SEAM_TK_SYNC_FAIL_AUTH};
    dm_card(f, false);
    /* nobody holds E2 yet: 6A88, nothing changed */
    fingerprint(f->card, before);
    report(f->card, &rep);
    assert_int_equal(last_sw, 0x6A88);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    /* E1 from the terminal is still refused */
    uint8_t env[16];
    size_t len = 0;
    assert_int_equal(seam_tk_envelope_event(SEAM_TK_EVENT_PROFILE_DOWNLOAD, SEAM_TK_DEV_TERMINAL,
                                            NULL, 0, env, sizeof env, &len),
                     SEAM_OK);
    envelope(f->card, env, len);
    assert_int_equal(last_sw, 0x6A80);
    /* devmgmt holds E2 now; after a power cycle the card's list is still only 03 */
    assert_int_equal(store(f->card, report_later, sizeof report_later), 0x9000);
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    card_announces(f->card); /* asserts the list is exactly { 03 } */
    profile_timer(f->card);
    report(f->card, &rep); /* reaches devmgmt, which has nothing pending: ignored */
    assert_int_equal(last_sw, 0x9000);
    /* DF1B 01 releases it: 6A88 again */
    const uint8_t report_now[] = {0xDF, 0x1B, 1, 0x01};
    assert_int_equal(store(f->card, report_now, sizeof report_now), 0x9000);
    report(f->card, &rep);
    assert_int_equal(last_sw, 0x6A88);
    assert_int_equal(select_dm(f->card), 0x9000);
    menu(f->card);
    fetch_sync_asking(f->card, SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_RESULT_NOW);
}

/* A block with a bad DF1A or DF1B is refused whole (6A80), nothing filed; the policy
   keeps asking OMA DS 1.2 with the result in the TERMINAL RESPONSE (01, the defaults). */
static void s7_bad_protocol_or_report_refuses_the_block(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32];
    const uint8_t bad[][8] = {
        {0xDF, 0x1A, 1, 0x03},
        {0xDF, 0x1A, 1, 0x00},
        {0xDF, 0x1B, 1, 0x00},
        {0xDF, 0x1B, 1, 0x03},
        {0xDF, 0x1B, 2, 0x02, 0x02},
        {0xDF, 0x1A, 0},
        /* good DF1B, bad DF1A: the whole block */
        {0xDF, 0x1B, 1, 0x02, 0xDF, 0x1A, 1, 0x09},
    };
    const size_t bad_len[] = {4, 4, 4, 4, 5, 3, 8};
    dm_card(f, false);
    restore_digest(f->card, before); /* the blocks the card filed (the session's counters move) */
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++)
        assert_int_equal(store(f->card, bad[i], bad_len[i]), 0x6A80);
    restore_digest(f->card, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(select_dm(f->card), 0x9000);
    menu(f->card);
    fetch_sync_asking(f->card, SEAM_TK_SYNC_PROTO_OMA_DS_12, SEAM_TK_SYNC_RESULT_NOW);
}

/* TS 102 221 STATUS (80 F2 P1 P2): the poll of a terminal's POLL INTERVAL. Its answer
   says 91xx while a proactive command is pending, it changes nothing on the card, and
   GP GET STATUS (80 F2 P1 80/40/20/10) is still GET STATUS. */
static void s1_uicc_status_tells_a_pending_proactive_command(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32];
    dm_card(f, false);
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x00, 0x0C), 0x9000); /* nothing pending */
    assert_int_equal(response_len, 2);
    menu(f->card); /* devmgmt queues REQUEST SYNCHRONIZATION */
    uint16_t pending = last_sw;
    assert_int_equal(pending & 0xFF00, 0x9100);
    fingerprint(f->card, before);
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x00, 0x0C), pending);
    assert_int_equal(response_len, 2);
    /* P2 01: the DF name of what channel 0 has selected, the ISD */
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x01, 0x01, 0x00), pending);
    assert_int_equal(response_len, 2 + 10);
    assert_memory_equal(
        response, ((const uint8_t[]){0x84, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}),
        10);
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x03, 0x0C), 0x6A86);
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x00, 0x00, 0x00), 0x6A86); /* no FCP kept */
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x00, 0x0C, 0x01, 0x00), 0x6700);
    /* GP GET STATUS without a secure channel: still GP's (6982), not STATUS */
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F, 0x00, 0x00), 0x6982);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    /* the command is still there to fetch */
    last_sw = pending;
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            s5_s7_s9_menu_item_requests_sync_terminal_without_capability_is_recorded, setup,
            teardown),
        cmocka_unit_test_setup_teardown(s5_policy_event_threshold_requests_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(s5_timer_expiration_requests_sync_and_restarts_the_timer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(s5_operator_requests_sync_by_store_data_over_scp03, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s9_user_says_no_no_sync_is_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(s9_user_says_yes_then_sync_is_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(s9_user_ends_the_session_no_sync_is_requested, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_policy_blocks_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(s1_s5_after_a_power_cycle_devmgmt_is_reached_without_select,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            s1_s5_freshly_personalized_devmgmt_is_reached_without_select, setup, teardown),
        cmocka_unit_test_setup_teardown(s5_after_a_power_cycle_the_profile_restarts_the_sync_timer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(s7_s9_sync_counts_and_failure_class_are_shown_and_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(s1_uicc_status_tells_a_pending_proactive_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s7_s9_result_later_pending_then_reported_by_envelope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            s7_event_e2_is_taken_not_listed_and_refused_when_nobody_holds_it, setup, teardown),
        cmocka_unit_test_setup_teardown(s7_bad_protocol_or_report_refuses_the_block, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s5_s7_policy_and_last_result_kept_across_an_upgrade, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
