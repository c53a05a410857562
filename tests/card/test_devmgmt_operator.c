/*
 * apps/devmgmt and the operator (issue 13; S1, S5, S9): the remote trigger
 * (DF20, STORE DATA over SCP03) is a command, not personalization data: the
 * card does not file it in the restore module (docs/restore-module.md,
 * seam_personalize_command in docs/applet-abi.md), while a policy block is
 * filed and kept across an upgrade; the policy reaches devmgmt while the
 * terminal has it selected on another channel (an applet without personalize
 * is still refused there); a fetched command never answered is dropped after
 * 16 commands; the result's DISPLAY TEXT waits for the user unless the policy
 * says otherwise.
 */
#include "devmgmt_host.h"

static const uint8_t trigger_slow[] = {0xDF, 0x20, 1, SEAM_TK_SYNC_SLOW};

static void answered_or_pending(uint16_t sw) {
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
}

static void s5_s1_hundred_operator_triggers_leave_the_restore_module_unchanged(void **state) {
    fixture *f = *state;
    uint8_t before[32], now[32], st[DM_STATUS_LEN];
    const uint8_t threshold_3[] = {0xDF, 0x11, 1, 3};
    dm_card(f, false);
    restore_digest(f->card, before);
    for (int i = 0; i < 100; i++) { /* each one asks, and the session runs to its end */
        answered_or_pending(store(f->card, trigger_slow, sizeof trigger_slow));
        last_sw = select_dm(f->card);
        fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
        answer(f->card, SEAM_TK_RES_OK, NULL, 0);
        after_sync(f->card, "Device synchronized");
    }
    restore_digest(f->card, now);
    assert_memory_equal(before, now, 32); /* nothing filed: no quota spent */
    status(f->card, st);
    assert_int_equal(st[2], 0x04); /* the operator */
    assert_int_equal(st[10] << 8 | st[11], 100);
    /* a policy block is still filed, and kept across an upgrade */
    assert_int_equal(store(f->card, threshold_3, sizeof threshold_3), 0x9000);
    restore_digest(f->card, now);
    assert_memory_not_equal(before, now, 32);
    upgrade_dm(f);
    location_event(f->card);
    location_event(f->card);
    assert_int_equal(last_sw, 0x9000); /* 2 of 3 */
    location_event(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, st);
    assert_int_equal(st[2], 0x01); /* a policy event */
    assert_int_equal(st[10] << 8 | st[11], 101);
}

static void s5_s1_trigger_mixed_with_policy_is_filed_and_not_replayed_as_a_trigger(void **state) {
    fixture *f = *state;
    uint8_t before[32], now[32], st[DM_STATUS_LEN];
    const uint8_t mixed[] = {0xDF, 0x11, 1, 3, 0xDF, 0x20, 1, SEAM_TK_SYNC_SLOW};
    dm_card(f, false);
    restore_digest(f->card, before);
    answered_or_pending(store(f->card, mixed, sizeof mixed));
    restore_digest(f->card, now);
    assert_memory_not_equal(before, now, 32); /* it carries policy: filed */
    last_sw = select_dm(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    upgrade_dm(f); /* the replay sets the threshold and asks nothing */
    assert_int_equal(last_sw, 0x9000);
    status(f->card, st);
    assert_int_equal(st[10] << 8 | st[11], 1);
    location_event(f->card);
    location_event(f->card);
    assert_int_equal(last_sw, 0x9000);
    location_event(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
}

static void s1_policy_reaches_devmgmt_selected_on_another_channel(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN], before[32], now[32];
    const uint8_t threshold_1[] = {0xDF, 0x11, 1, 1};
    const uint8_t bad[] = {0xDF, 0x11, 1, 1, 0xDF, 0x7F, 1, 0};
    dm_card(f, false); /* devmgmt stays selected on channel 1 from here on */
    assert_int_equal(store_live(f->card, threshold_1, sizeof threshold_1), 0x9000);
    /* a refused block changes nothing, in the live state either */
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, bad, sizeof bad), 0x6A80);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    /* the live applet on channel 1 acts on the new threshold at once: one event */
    location_event(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    status(f->card, st); /* still on channel 1, same selection */
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[2], 0x01);
    /* the operator's trigger while it is selected */
    answered_or_pending(store_live(f->card, trigger_slow, sizeof trigger_slow));
    last_sw = SEND(f->card, 0x81, 0x20, 0x00, 0x00, 0x00);
    fetch_sync(f->card, SEAM_TK_SYNC_SLOW);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    /* committed: after a power-up the threshold is still 1 */
    reopen(f);
    last_sw = SEND(f->card, PROFILE); /* the card tells the menu and events it kept */
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    profile_timer(f->card);
    location_event(f->card); /* reaches devmgmt without a SELECT */
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
}

/* A big policy block (192 bytes) with threshold t. */
static size_t big_policy(uint8_t *b, uint8_t t) {
    size_t n = 0;
    const struct {
        uint8_t tag, len, fill;
    } strings[] = {{0x13, 64, 'a'}, {0x14, 48, 'b'}, {0x16, 32, 'c'}, {0x17, 32, 'd'}};
    b[n++] = 0xDF;
    b[n++] = 0x11;
    b[n++] = 1;
    b[n++] = t;
    for (size_t i = 0; i < 4; i++) {
        b[n++] = 0xDF;
        b[n++] = strings[i].tag;
        b[n++] = strings[i].len;
        memset(b + n, strings[i].fill, strings[i].len);
        n += strings[i].len;
    }
    return n;
}

static void s1_live_devmgmt_is_put_back_when_its_record_refuses_the_block(void **state) {
    fixture *f = *state;
    uint8_t block[200], before[32], now[32];
    uint16_t sw = 0x9000;
    int n = 0;
    dm_card(f, false);
    /* fill devmgmt's record (8192 bytes) with policy blocks of threshold 3 */
    while (sw == 0x9000 && n++ < 100)
        sw = store_live(f->card, block, big_policy(block, 3));
    assert_int_equal(sw, 0x6A84);
    /* devmgmt accepts a block of threshold 1, the record refuses it: nothing stays, in
       the live applet on channel 1 either */
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, block, big_policy(block, 1)), 0x6A84);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    location_event(f->card);
    assert_int_equal(last_sw, 0x9000); /* 1 of 3: no sync */
}

static void
s1_store_data_to_an_applet_without_personalize_selected_elsewhere_is_refused(void **state) {
    fixture *f = *state;
    static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
    static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
    const uint8_t block[] = {0x01, 0x02};
    uint8_t before[32], now[32];
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0x00),
        0x9000);
    open_channel(f->card);
    assert_int_equal(install_perso(f->card, hello_cls, sizeof hello_cls), 0x9000);
    fingerprint(f->card, before);
    /* its blocks would go to process, on a channel whose session did not send them */
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x6985);
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
}

static void s5_a_fetched_command_never_answered_is_dropped_after_16_commands(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN];
    dm_card(f, false);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    seam_tk_command lost = cmd;
    /* the terminal never answers: 16 more commands, the envelopes wait (9300) */
    for (int i = 0; i < 15; i++)
        status(f->card, st);
    assert_int_equal(st[13], SEAM_TK_CMD_REQUEST_SYNC); /* still awaiting its answer */
    menu(f->card);
    assert_int_equal(last_sw, 0x9300);
    /* the 17th command after the FETCH finds the slot freed: the menu asks again */
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    assert_true(cmd.details.number != lost.details.number);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    after_sync(f->card, "Device synchronized");
    /* the late answer to the dropped command: nothing was fetched */
    cmd = lost;
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x6985);
    status(f->card, st);
    assert_int_equal(st[10] << 8 | st[11], 1);
}

static void s9_result_display_waits_for_the_user_unless_the_policy_says_otherwise(void **state) {
    fixture *f = *state;
    uint8_t st[DM_STATUS_LEN], before[DM_STATUS_LEN];
    const uint8_t quick[] = {0xDF, 0x19, 1, 0x00};
    const uint8_t value[3] = {0x00, 0x00, 0x10};
    uint8_t env[32];
    size_t len;
    dm_card(f, false);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_PROVIDE_LOCAL);
    answer(f->card, SEAM_TK_RES_OK, date_time, sizeof date_time);
    fetch(f->card, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(cmd.details.qualifier, 0x80); /* wait for the user to clear it */
    /* the user never cleared it: the session ends all the same, the result stays */
    answer(f->card, 0x12, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    status(f->card, before);
    assert_int_equal(before[0], 0x01);
    /* the policy says clear after a delay: qualifier 00; the timer's sync still restarts
       its timer after the display, whatever the terminal answered */
    assert_int_equal(store_live(f->card, quick, sizeof quick), 0x9000);
    assert_int_equal(seam_tk_envelope_timer(1, value, env, sizeof env, &len), SEAM_OK);
    envelope(f->card, env, len);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_PROVIDE_LOCAL);
    answer(f->card, SEAM_TK_RES_OK, date_time, sizeof date_time);
    fetch(f->card, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(cmd.details.qualifier, 0x00);
    answer(f->card, SEAM_TK_RES_SESSION_TERMINATED, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    status(f->card, st);
    assert_int_equal(st[0], 0x01);
    assert_int_equal(st[2], 0x02); /* the timer */
    assert_int_equal(st[10] << 8 | st[11], 2);
}

/* Issue 13, S5: a later policy block that changes the counting events (DF10) releases
   the events it no longer lists: after a power cycle the card tells the terminal only the
   new list, and the old event reaches nobody. */
static void s5_a_new_event_list_releases_the_events_it_drops(void **state) {
    fixture *f = *state;
    seam_ctlv obj;
    const uint8_t calls[] = {0xDF, 0x10, 2, SEAM_TK_EVENT_CALL_CONNECTED,
                             SEAM_TK_EVENT_CALL_DISCONNECTED};
    dm_card(f, false); /* counting: location status (03) */
    assert_int_equal(store(f->card, calls, sizeof calls), 0x9000);
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_EVENT_LIST, &obj),
                     SEAM_OK);
    assert_int_equal(obj.len, 2);
    assert_int_equal(obj.value[0], SEAM_TK_EVENT_CALL_CONNECTED);
    assert_int_equal(obj.value[1], SEAM_TK_EVENT_CALL_DISCONNECTED);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    profile_timer(f->card);
    /* an empty list releases them all: the card's list becomes its removal */
    const uint8_t none[] = {0xDF, 0x10, 0};
    assert_int_equal(store(f->card, none, sizeof none), 0x9000);
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    profile_timer(f->card); /* no event list to tell: nobody holds an event */
    assert_int_equal(last_sw, 0x9000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s5_a_new_event_list_releases_the_events_it_drops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            s5_s1_hundred_operator_triggers_leave_the_restore_module_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(
            s5_s1_trigger_mixed_with_policy_is_filed_and_not_replayed_as_a_trigger, setup,
            teardown),
        cmocka_unit_test_setup_teardown(s1_policy_reaches_devmgmt_selected_on_another_channel,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            s1_store_data_to_an_applet_without_personalize_selected_elsewhere_is_refused, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            s1_live_devmgmt_is_put_back_when_its_record_refuses_the_block, setup, teardown),
        cmocka_unit_test_setup_teardown(
            s5_a_fetched_command_never_answered_is_dropped_after_16_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(
            s9_result_display_waits_for_the_user_unless_the_policy_says_otherwise, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
