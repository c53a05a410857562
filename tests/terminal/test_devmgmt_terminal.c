/*
 * apps/devmgmt and the terminal's toolkit together, in process (issue 13; S5,
 * S7, S9): the applet asks, the terminal prompts, the user answers from the
 * unattended answers file. devmgmt is personalized with ask-first and never
 * needs a SELECT: at the terminal's power-up the card announces its item and
 * event and its registration chain runs in the terminal's proactive loop; the user's "no" to the
 * menu item gives no REQUEST SYNCHRONIZATION, "yes" gives one, answered 30 by this terminal (no
 * synchronization engine yet), which the applet records and tells the user; the timer on the test
 * clock asks again. The texts are read from the terminal's display log.
 */
#include "tk_card_host.h"

static const uint8_t dm_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D};
static const uint8_t dm_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01};

/* The policy: location status counts (threshold 3), a 10-second timer (00 00 01,
   swapped BCD), the server, ask the user first. */
static const uint8_t policy[] = {
    0xDF, 0x10, 1,    0x03, 0xDF, 0x11, 1,   3,   0xDF, 0x12, 3,    0x00, 0x00, 0x01, 0xDF,
    0x15, 1,    0x01, 0xDF, 0x13, 19,   'h', 't', 't',  'p',  's',  ':',  '/',  '/',  'd',
    'm',  '.',  'e',  'x',  'a',  'm',  'p', 'l', 'e',  '/',  0xDF, 0x14, 2,    'd',  'm'};

/* devmgmt loaded, installed and personalized over SCP03; a terminal on the card, powered
   up, answering GET INKEY from answers; devmgmt selected on channel 1 through it. */
static void start(fixture *f, terminal *t, const char *answers) {
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(install(f->card, 0x0C, dm_pkg, dm_cls, dm_cls, NULL, 0), 0x9000);
    assert_int_equal(install_perso(f->card, dm_cls, sizeof dm_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, policy, sizeof policy), 0x9000);
    /* the power-up: TERMINAL PROFILE, and without any SELECT the card announces devmgmt's
       item and event (its SET UP MENU, SET UP EVENT LIST), then devmgmt's own chain queued
       at personalization runs (SET UP MENU, SET UP EVENT LIST, TIMER MANAGEMENT) */
    terminal_open(t, f->card, answers);
    seam_terminal_tk_status s;
    seam_terminal_tk_get_status(t->tk, &s);
    assert_int_equal(s.fetched, 5);
    assert_int_equal(s.menu_items, 1);
    assert_true(seam_terminal_tk_event_wanted(t->tk, SEAM_TK_EVENT_LOCATION_STATUS));
    assert_int_equal(s.last_sw, 0x9000);
    /* devmgmt selected on channel 1 for the operator's STATUS reads: nothing more queued */
    assert_int_equal(APPLET(t, 0x00, 0x70, 0x00, 0x00, 0x01) & 0xFF00, 0x9000);
    assert_int_equal(
        APPLET(t, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01, 0x00),
        0x9000);
}

/* devmgmt's STATUS (INS 20): 22 bytes in response (apps/devmgmt/devmgmt.c). */
static void status(terminal *t) {
    assert_int_equal(APPLET(t, 0x81, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 22 + 2);
}

static void s5_s9_the_applet_asks_the_terminal_prompts_the_user_answers(void **state) {
    fixture *f = *state;
    terminal t;
    seam_terminal_tk_status s;
    start(f, &t, "no\nyes\nyes\n");
    /* the user chooses "Sync device" and says no: no REQUEST SYNCHRONIZATION */
    assert_int_equal(seam_terminal_tk_menu_select(t.tk, 1, false), SEAM_OK);
    seam_terminal_tk_get_status(t.tk, &s);
    assert_int_equal(s.fetched, 5 + 2); /* GET INKEY, DISPLAY TEXT */
    fflush(t.log);
    assert_non_null(strstr(t.log_text, "Synchronize device now?"));
    assert_non_null(strstr(t.log_text, "display: Sync cancelled"));
    status(&t);
    assert_int_equal(response[0], 0x04); /* refused by the user */
    /* again, and yes: REQUEST SYNCHRONIZATION, answered 30 by this terminal (S3, S9) */
    assert_int_equal(seam_terminal_tk_menu_select(t.tk, 1, false), SEAM_OK);
    seam_terminal_tk_get_status(t.tk, &s);
    assert_int_equal(s.fetched, 7 + 4); /* GET INKEY, REQUEST SYNC, PROVIDE LOCAL, DISPLAY */
    fflush(t.log);
    assert_non_null(strstr(t.log_text, "display: Sync not supported"));
    status(&t);
    assert_int_equal(response[0], 0x02); /* S7: not supported, recorded */
    assert_int_equal(response[1], SEAM_TK_RES_BEYOND_CAPABILITIES);
    assert_int_equal(response[2], 0x03); /* the menu */
    assert_int_equal(response[10] << 8 | response[11], 1);
    /* the timer (10 s on the test clock): asks again, yes, and starts the timer again */
    t.clock.ms = 10000;
    assert_int_equal(seam_terminal_tk_tick(t.tk), SEAM_OK);
    seam_terminal_tk_get_status(t.tk, &s);
    assert_int_equal(s.fetched, 11 + 5); /* ... and TIMER MANAGEMENT */
    status(&t);
    assert_int_equal(response[2], 0x02); /* the timer */
    assert_int_equal(response[10] << 8 | response[11], 2);
    finish(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s5_s9_the_applet_asks_the_terminal_prompts_the_user_answers,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
