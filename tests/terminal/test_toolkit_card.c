/*
 * The terminal's toolkit against the real card, in process (issue 13): the
 * card's transport (docs/toolkit.md "The card") and apps/test_toolkit, which
 * queues what its INS 01 is given and counts what reaches it (INS 03). The
 * terminal (seam_terminal_tk) runs its proactive loop on channel 0; the
 * applet is selected on channel 1 (CLA 81), as in tests/card/test_toolkit.c.
 *
 * Vectors: DISPLAY TEXT "Toolkit Test 1" (ETSI TS 102 384 DISPLAY TEXT 1.1,
 * as issue 13 and Mozilla B2G's test_stk_display_text.js restate it); the
 * others are built with seam/toolkit.h's builders, whose bytes
 * tests/util/test_toolkit.c checks against TS 102 384's.
 */
#include "tk_card_host.h"

static const uint8_t tk_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B};
static const uint8_t tk_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01};

/* test_toolkit loaded and installed, selected on channel 1; a terminal on the card, powered
   up (TERMINAL PROFILE sent), answering GET INKEY from answers. */
static void start(fixture *f, terminal *t, const char *answers) {
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "test_toolkit", tk_pkg, sizeof tk_pkg);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_cls, NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01, 0x00),
        0x9000);
    terminal_open(t, f->card, answers);
}

/* Has the applet queue command[0..len) (its INS 01 with data): the answer is its result
   byte 00 and 91xx (a command waits), after which the terminal has run it. */
static void queue(terminal *t, const uint8_t *command, size_t len) {
    uint8_t apdu[5 + SEAM_TK_MAX_MESSAGE];
    apdu[0] = 0x81;
    apdu[1] = 0x01;
    apdu[2] = apdu[3] = 0;
    apdu[4] = (uint8_t)len;
    memcpy(apdu + 5, command, len);
    assert_int_equal(to_applet(t, apdu, 5 + len), 0x9100u | len);
    assert_int_equal(response[0], 0x00);
    seam_terminal_tk_status s;
    seam_terminal_tk_get_status(t->tk, &s);
    assert_int_equal(s.last_sw, 0x9000); /* the TERMINAL RESPONSE's answer: nothing more */
}

/* Byte i of what the applet saw (INS 03). */
static uint8_t seen(terminal *t, size_t i) {
    assert_int_equal(APPLET(t, 0x81, 0x03, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 13);
    return response[i];
}

static void whole_loop_with_the_real_card_S9(void **state) {
    fixture *f = *state;
    terminal t;
    start(f, &t, "");
    /* the profile reached the applet: 20 bytes, DISPLAY TEXT (bit 17) set */
    assert_int_equal(seen(&t, 8), SEAM_TK_PROFILE_LEN);
    assert_int_equal(seen(&t, 9), 1);
    /* DISPLAY TEXT queued: the answer is 91 1C, the terminal fetches, shows, answers 00 */
    assert_int_equal(APPLET(&t, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
    assert_int_equal(response[0], 0x00);
    seam_terminal_tk_status s;
    seam_terminal_tk_get_status(t.tk, &s);
    assert_int_equal(s.fetched, 1);
    assert_int_equal(s.responses, 1);
    assert_int_equal(s.last_sw, 0x9000);
    fflush(t.log);
    assert_non_null(strstr(t.log_text, "display: Toolkit Test 1"));
    assert_int_equal(seen(&t, 1), 1);    /* one TERMINAL RESPONSE reached the applet */
    assert_int_equal(seen(&t, 0), 0x00); /* result 00 */
    /* a chain: the answer to command 5 queues command 6; both run in one loop */
    assert_int_equal(APPLET(&t, 0x81, 0x01, 0x05, 0x02, 0x00), 0x911C);
    assert_int_equal(seen(&t, 1), 3);
    finish(&t);
}

static void user_refusal_and_no_sync_capability_reach_the_applet_S3_S9(void **state) {
    fixture *f = *state;
    terminal t;
    uint8_t cmd[SEAM_TK_MAX_MESSAGE];
    size_t len;
    start(f, &t, "no\nend\n");
    assert_int_equal(seam_tk_build_get_inkey(2, SEAM_TK_INKEY_YES_NO, SEAM_TK_DCS_8BIT,
                                             (const uint8_t *)"Sync now?", 9, cmd, sizeof cmd,
                                             &len),
                     SEAM_OK);
    queue(&t, cmd, len);
    assert_int_equal(seen(&t, 0), SEAM_TK_RES_OK); /* "no" is an answer (text 00) */
    queue(&t, cmd, len);
    assert_int_equal(seen(&t, 0), SEAM_TK_RES_SESSION_TERMINATED); /* "end" */
    seam_tk_sync_request req = {
        .protocol = SEAM_TK_SYNC_PROTO_CHANGESET,
        .transport = SEAM_TK_SYNC_TRANSPORT_HTTP,
        .sync_type = SEAM_TK_SYNC_SLOW,
        .source_device = (const uint8_t *)"IMEI:490154203237518",
        .source_device_len = 20,
        .source_uri = (const uint8_t *)"dm",
        .source_uri_len = 2,
        .target_url = (const uint8_t *)"https://dm.example/",
        .target_url_len = 19,
        .target_uri = (const uint8_t *)"dm",
        .target_uri_len = 2,
        .wants_result = true,
    };
    assert_int_equal(seam_tk_build_request_sync(3, &req, cmd, sizeof cmd, &len), SEAM_OK);
    queue(&t, cmd, len);
    assert_int_equal(seen(&t, 0), SEAM_TK_RES_BEYOND_CAPABILITIES);
    assert_int_equal(seen(&t, 1), 3);
    finish(&t);
}

static void menu_events_and_timers_reach_the_applet_S5(void **state) {
    fixture *f = *state;
    terminal t;
    uint8_t cmd[SEAM_TK_MAX_MESSAGE];
    size_t len;
    bool sent = false;
    const seam_tk_item items[1] = {{0x11, "Sync"}};
    const uint8_t idle = SEAM_TK_EVENT_IDLE_SCREEN;
    const uint8_t ten_seconds[3] = {0x00, 0x00, 0x01};
    start(f, &t, "");
    /* registrations: menu item 11, event 05 (idle screen), timer 1 */
    assert_int_equal(APPLET(&t, 0x81, 0x02, 0x00, 0x11, 0x00), 0x9000);
    assert_int_equal(APPLET(&t, 0x81, 0x02, 0x01, 0x05, 0x00), 0x9000);
    assert_int_equal(APPLET(&t, 0x81, 0x02, 0x02, 0x01, 0x00), 0x9000);
    assert_int_equal(seam_tk_build_set_up_menu(4, 0, "seam", items, 1, cmd, sizeof cmd, &len),
                     SEAM_OK);
    queue(&t, cmd, len);
    assert_int_equal(seam_tk_build_set_up_event_list(5, &idle, 1, cmd, sizeof cmd, &len), SEAM_OK);
    queue(&t, cmd, len);
    assert_int_equal(seam_tk_build_timer_management(6, SEAM_TK_TIMER_START, 1, ten_seconds, cmd,
                                                    sizeof cmd, &len),
                     SEAM_OK);
    queue(&t, cmd, len);
    assert_int_equal(seen(&t, 1), 3);
    assert_int_equal(seen(&t, 0), SEAM_TK_RES_OK);

    assert_int_equal(seam_terminal_tk_menu_select(t.tk, 0x11, false), SEAM_OK);
    assert_int_equal(seen(&t, 2), 1);    /* menu selections */
    assert_int_equal(seen(&t, 3), 0x11); /* the item */

    assert_int_equal(seam_terminal_tk_event(t.tk, SEAM_TK_EVENT_LOCATION_STATUS,
                                            (const uint8_t[]){0x9B, 0x01, 0x00}, 3, &sent),
                     SEAM_OK);
    assert_false(sent); /* not asked for */
    assert_int_equal(seam_terminal_tk_event(t.tk, SEAM_TK_EVENT_IDLE_SCREEN, NULL, 0, &sent),
                     SEAM_OK);
    assert_true(sent);
    assert_int_equal(seen(&t, 4), 1);    /* event downloads */
    assert_int_equal(seen(&t, 5), 0x05); /* idle screen */

    t.clock.ms = 9999;
    assert_int_equal(seam_terminal_tk_tick(t.tk), SEAM_OK);
    assert_int_equal(seen(&t, 6), 0);
    t.clock.ms = 10000;
    assert_int_equal(seam_terminal_tk_tick(t.tk), SEAM_OK);
    assert_int_equal(seen(&t, 6), 1); /* timer expirations */
    assert_int_equal(seen(&t, 7), 1); /* timer 1 */
    finish(&t);
}

/* A synchronization engine that is never reached here (the test sends no REQUEST
   SYNCHRONIZATION): only its presence gives the terminal the capability. */
static seam_err unused_engine(const seam_terminal_sync_request *req,
                              seam_terminal_sync_outcome *out) {
    (void)req;
    (void)out;
    return SEAM_ERR_TERMINAL;
}

/* Issue 13: "terminal capabilities changed" (seam's event E0). When what the terminal can
   do changes (here REQUEST SYNCHRONIZATION, S3), it sends TERMINAL PROFILE again with the
   new bits before the event, so the card's stored profile, which applets read, is right. */
static void capabilities_change_sends_the_new_profile_before_the_event_S3(void **state) {
    fixture *f = *state;
    terminal t;
    uint8_t cmd[32];
    size_t len;
    const uint8_t e0 = SEAM_TK_EVENT_CAPABILITIES_CHANGED;
    seam_terminal_tk_sync sync = {.run = unused_engine, .dm_path = "unused.db"};
    bool sent = false;
    start(f, &t, "");
    /* the applet asks for E0: registered with the card and told to the terminal */
    assert_int_equal(APPLET(&t, 0x81, 0x02, 0x01, 0xE0, 0x00), 0x9000);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(seam_tk_build_set_up_event_list(3, &e0, 1, cmd, sizeof cmd, &len), SEAM_OK);
    queue(&t, cmd, len);
    assert_true(seam_terminal_tk_event_wanted(t.tk, e0));
    assert_int_equal(seen(&t, 10), 0); /* no REQUEST SYNCHRONIZATION in the profile */
    /* it cannot gain what it has no engine for: nothing is sent */
    assert_int_equal(seam_terminal_tk_capabilities(t.tk, true, &sent), SEAM_ERR_ARG);
    assert_false(sent);
    assert_int_equal(seen(&t, 10), 0);
    /* with an engine, it gains the capability: the new profile, then the event */
    assert_int_equal(seam_terminal_tk_set_sync(t.tk, &sync), SEAM_OK);
    assert_int_equal(seam_terminal_tk_capabilities(t.tk, true, &sent), SEAM_OK);
    assert_true(sent);
    assert_int_equal(seen(&t, 10), 1);
    assert_int_equal(seen(&t, 8), SEAM_TK_PROFILE_LEN);
    assert_int_equal(seen(&t, 5), SEAM_TK_EVENT_CAPABILITIES_CHANGED); /* the last event */
    /* and loses it again */
    assert_int_equal(seam_terminal_tk_capabilities(t.tk, false, &sent), SEAM_OK);
    assert_true(sent);
    assert_int_equal(seen(&t, 10), 0);
    finish(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            capabilities_change_sends_the_new_profile_before_the_event_S3, setup, teardown),
        cmocka_unit_test_setup_teardown(whole_loop_with_the_real_card_S9, setup, teardown),
        cmocka_unit_test_setup_teardown(user_refusal_and_no_sync_capability_reach_the_applet_S3_S9,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(menu_events_and_timers_reach_the_applet_S5, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
