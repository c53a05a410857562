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
#include "card_host.h"
#include "seam/toolkit.h"

static const uint8_t dm_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D};
static const uint8_t dm_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01};

static const char url[] = "https://dm.example.net/sync";
static const char uri[] = "./devices";

/* A profile with some bits set (the card does not read it; devmgmt needs one). */
#define PROFILE 0x80, 0x10, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x01

/* The policy block: location status (03) counts, threshold 2, a timer of 1 s
   (00 00 01 as TIMER MANAGEMENT's swapped BCD: ss = 0x10), the server, ask. */
static size_t policy(uint8_t *b, bool ask) {
    size_t n = 0;
    const uint8_t head[] = {0xDF, 0x10, 1,    0x03, 0xDF, 0x11, 1,    2, 0xDF,
                            0x12, 3,    0x00, 0x00, 0x10, 0xDF, 0x15, 1, ask ? 1 : 0};
    memcpy(b, head, sizeof head);
    n = sizeof head;
    b[n++] = 0xDF;
    b[n++] = 0x13;
    b[n++] = (uint8_t)strlen(url);
    memcpy(b + n, url, strlen(url));
    n += strlen(url);
    b[n++] = 0xDF;
    b[n++] = 0x14;
    b[n++] = (uint8_t)strlen(uri);
    memcpy(b + n, uri, strlen(uri));
    n += strlen(uri);
    return n;
}

/* STORE DATA block[0..len) to devmgmt through the ISD's secure channel. The card refuses
   it (6985) while devmgmt is selected on another channel: channel 1 is closed first. */
static uint16_t store(seam_card *card, const uint8_t *block, size_t len) {
    (void)SEND(card, 0x00, 0x70, 0x80, 0x01);
    open_channel(card);
    assert_int_equal(install_perso(card, dm_cls, sizeof dm_cls), 0x9000);
    return gp(card, true, 0xE2, 0x90, 0x00, block, len);
}

static uint16_t last_sw;

/* Opens channel 1 and selects devmgmt on it. */
static uint16_t select_dm(seam_card *card) {
    uint16_t sw = SEND(card, 0x00, 0x70, 0x00, 0x00, 0x01);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response[0], 1);
    return SEND(card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01, 0x00);
}

/* The fetched command, decoded. */
static uint8_t fetched[256];
static seam_tk_command cmd;

/* FETCH of the command last_sw (91xx) announces; decodes it. */
static void fetch(seam_card *card, uint8_t type) {
    assert_int_equal(last_sw & 0xFF00, 0x9100);
    uint8_t le = (uint8_t)last_sw;
    assert_int_equal(SEND(card, 0x80, 0x12, 0x00, 0x00, le), 0x9000);
    assert_int_equal(response_len, (size_t)le + 2);
    memcpy(fetched, response, le);
    assert_int_equal(seam_tk_command_decode(fetched, le, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, type);
    assert_int_equal(cmd.source, SEAM_TK_DEV_UICC);
    assert_int_equal(cmd.unknown_cr_tag, 0);
}

/* TERMINAL RESPONSE to the fetched command: general result and extra objects. */
static void answer(seam_card *card, uint8_t general, const uint8_t *extra, size_t extra_len) {
    uint8_t apdu[5 + 255] = {0x80, 0x14, 0x00, 0x00};
    size_t len = 0;
    assert_int_equal(seam_tk_response_build(&cmd.details, general, NULL, 0, extra, extra_len,
                                            apdu + 5, 255, &len),
                     SEAM_OK);
    apdu[4] = (uint8_t)len;
    last_sw = send(card, apdu, 5 + len);
}

static void envelope(seam_card *card, const uint8_t *env, size_t len) {
    uint8_t apdu[5 + 255] = {0x80, 0xC2, 0x00, 0x00, (uint8_t)len};
    memcpy(apdu + 5, env, len);
    last_sw = send(card, apdu, 5 + len);
}

static void menu(seam_card *card) {
    uint8_t env[16];
    size_t len;
    assert_int_equal(seam_tk_envelope_menu_selection(1, false, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
}

static void location_event(seam_card *card) {
    uint8_t env[32];
    size_t len;
    const uint8_t status[] = {0x9B, 0x01, 0x00};
    assert_int_equal(
        seam_tk_envelope_event(0x03, 0x82, status, sizeof status, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
}

/* devmgmt's STATUS (INS 20): 14 bytes into out. */
static void status(seam_card *card, uint8_t out[14]) {
    uint16_t sw = SEND(card, 0x81, 0x20, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response_len, 14 + 2);
    memcpy(out, response, 14);
}

/* devmgmt installed and given the policy, the profile sent, devmgmt selected on
   channel 1: its registration chain runs and is answered. */
static void dm_card(fixture *f, bool ask) {
    uint8_t block[128];
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(install(f->card, 0x0C, dm_pkg, dm_cls, dm_cls, NULL, 0), 0x9000);
    assert_int_equal(store(f->card, block, policy(block, ask)), 0x9000);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    last_sw = select_dm(f->card);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    seam_ctlv item;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &item),
                     SEAM_OK);
    assert_int_equal(item.value[0], 1);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    seam_ctlv events;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_EVENT_LIST, &events),
                     SEAM_OK);
    assert_int_equal(events.len, 1);
    assert_int_equal(events.value[0], SEAM_TK_EVENT_LOCATION_STATUS);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_TIMER_START);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
}

/* The REQUEST SYNCHRONIZATION fetched: its objects are the policy's. */
static void fetch_sync(seam_card *card, uint8_t sync_type) {
    seam_tk_sync_request req;
    fetch(card, SEAM_TK_CMD_REQUEST_SYNC);
    assert_int_equal(cmd.dest, SEAM_TK_DEV_TERMINAL);
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &req), SEAM_OK);
    assert_int_equal(req.protocol, SEAM_TK_SYNC_PROTO_OMA_DS_12);
    assert_int_equal(req.transport, SEAM_TK_SYNC_TRANSPORT_HTTP);
    assert_int_equal(req.sync_type, sync_type);
    assert_int_equal(req.target_url_len, strlen(url));
    assert_memory_equal(req.target_url, url, strlen(url));
    assert_int_equal(req.target_uri_len, strlen(uri));
    assert_memory_equal(req.target_uri, uri, strlen(uri));
    assert_true(req.wants_result); /* S7 */
}

/* A date and time for PROVIDE LOCAL INFORMATION: 2026-12-03 15:04:05 (swapped BCD). */
static const uint8_t date_time[] = {0xA6, 0x07, 0x62, 0x21, 0x30, 0x51, 0x40, 0x50, 0x00};

/* After the answer to REQUEST SYNCHRONIZATION: the date and time, then DISPLAY TEXT
   of text to the user (S9); the session ends. */
static void after_sync(seam_card *card, const char *text) {
    seam_ctlv t;
    fetch(card, SEAM_TK_CMD_PROVIDE_LOCAL);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_LOCAL_DATE_TIME);
    answer(card, SEAM_TK_RES_OK, date_time, sizeof date_time);
    fetch(card, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TEXT_STRING, &t),
                     SEAM_OK);
    assert_int_equal(t.len, 1 + strlen(text));
    assert_int_equal(t.value[0], SEAM_TK_DCS_8BIT);
    assert_memory_equal(t.value + 1, text, strlen(text));
    answer(card, SEAM_TK_RES_OK, NULL, 0);
}

static void s5_s7_s9_menu_item_requests_sync_terminal_without_capability_is_recorded(void **state) {
    fixture *f = *state;
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t st[14];
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
    uint8_t before[14], after[14];
    uint16_t sw = 0;
    dm_card(f, false);
    menu(f->card);
    fetch_sync(f->card, SEAM_TK_SYNC_TWO_WAY);
    answer(f->card, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0);
    after_sync(f->card, "Sync not supported");
    status(f->card, before);
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    /* the upgrade: devmgmt replaced by (the same build of) devmgmt */
    open_channel(f->card);
    assert_int_equal(host_result(seam_gp_upgrade(session(f->card), 0x01, dm_pkg, sizeof dm_pkg,
                                                 NULL, 0, NULL, &sw),
                                 &sw),
                     0x9000);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(host_result(seam_gp_upgrade(session(f->card), 0x02, dm_pkg, sizeof dm_pkg,
                                                 NULL, 0, NULL, &sw),
                                 &sw),
                     0x9000);
    assert_int_equal(response[4], 0x01); /* completed */
    /* a new power-up: the card tells the terminal the menu and events it kept across the
       upgrade (S1), and devmgmt registers again at select, with the policy it had */
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    last_sw = select_dm(f->card);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
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
    uint8_t st[14];
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
        cmocka_unit_test_setup_teardown(s5_s7_policy_and_last_result_kept_across_an_upgrade, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
