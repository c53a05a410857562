/*
 * The card application toolkit's registry (docs/toolkit.md "The registry",
 * docs/security.md "Limits"): what one applet may register, so that a hostile
 * applet cannot lock the others out (apps/test_greedy on channel 2 tries to take
 * every menu item, event and timer, and to flood the proactive queue, while
 * apps/test_toolkit on channel 1 still registers and runs its command); the
 * registrations kept across a power cycle per instance and told to the terminal
 * by the card itself after TERMINAL PROFILE, without any SELECT (S1, S5); a power
 * cut swept over a registration (X4); a deleted instance leaving nothing behind.
 * The terminal's commands go on channel 0, where the ISD answers (CLA 80).
 */
#include "card_host.h"
#include "seam/toolkit.h"

static const uint8_t tk_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B};
static const uint8_t tk_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01};
static const uint8_t tk_two[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x02};
static const uint8_t gr_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x47, 0x52};
static const uint8_t gr_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x47, 0x52, 0x01};

#define PROFILE 0x80, 0x10, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x01

/* Opens a logical channel (it must be number n) and selects aid (7 bytes) on it. */
static void select_on(seam_card *card, uint8_t n, const uint8_t *aid) {
    uint8_t select[5 + 7 + 1] = {0x00, 0xA4, 0x04, 0x00, 0x07};
    uint16_t sw = SEND(card, 0x00, 0x70, 0x00, 0x00, 0x01);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response[0], n);
    select[0] = n;
    memcpy(select + 5, aid, 7);
    sw = send(card, select, sizeof select);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
}

/* test_toolkit's result byte for registering kind/id (its INS 02). */
static uint8_t tk_register(seam_card *card, uint8_t kind, uint8_t id, bool on) {
    uint16_t sw = SEND(card, 0x81, 0x02, kind, id, 0x01, on ? 0x01 : 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    return response[0];
}

/* test_toolkit queues command[0..len) (its INS 01 with data): its result byte. */
static uint8_t tk_queue(seam_card *card, const uint8_t *command, size_t len) {
    uint8_t apdu[5 + 255] = {0x81, 0x01, 0x00, 0x00, (uint8_t)len};
    memcpy(apdu + 5, command, len);
    uint16_t sw = send(card, apdu, 5 + len);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    return response[0];
}

/* What test_toolkit saw (its INS 03): the byte at index i. */
static uint8_t seen(seam_card *card, size_t i) {
    uint16_t sw = SEND(card, 0x81, 0x03, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    return response[i];
}

/* test_greedy's INS ins: out[0] successes, out[1] the last failure. */
static void greedy(seam_card *card, uint8_t ins, uint8_t out[2]) {
    uint16_t sw = SEND(card, 0x82, ins, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response_len, 2 + 2);
    memcpy(out, response, 2);
}

/* FETCH of the command sw (91xx) announces, decoded into *cmd (bytes in buf). */
static void fetch(seam_card *card, uint16_t sw, uint8_t *buf, seam_tk_command *cmd) {
    assert_int_equal(sw & 0xFF00, 0x9100);
    uint8_t le = (uint8_t)sw;
    assert_int_equal(SEND(card, 0x80, 0x12, 0x00, 0x00, le), 0x9000);
    memcpy(buf, response, le);
    assert_int_equal(seam_tk_command_decode(buf, le, cmd), SEAM_OK);
}

/* TERMINAL RESPONSE "performed successfully" to cmd: the status word. */
static uint16_t answer_ok(seam_card *card, const seam_tk_command *cmd) {
    uint8_t apdu[5 + 64] = {0x80, 0x14, 0x00, 0x00};
    size_t len = 0;
    assert_int_equal(
        seam_tk_response_build(&cmd->details, SEAM_TK_RES_OK, NULL, 0, NULL, 0, apdu + 5, 64, &len),
        SEAM_OK);
    apdu[4] = (uint8_t)len;
    return send(card, apdu, 5 + len);
}

/* test_toolkit (instances 01 and 02) and test_greedy loaded and installed; 01 selected
   on channel 1, test_greedy on channel 2. */
static void two_applets(fixture *f) {
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "test_toolkit", tk_pkg, sizeof tk_pkg);
    load(f->card, "test_greedy", gr_pkg, sizeof gr_pkg);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_cls, NULL, 0), 0x9000);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_two, NULL, 0), 0x9000);
    assert_int_equal(install(f->card, 0x0C, gr_pkg, gr_cls, gr_cls, NULL, 0), 0x9000);
    select_on(f->card, 1, tk_cls);
    select_on(f->card, 2, gr_cls);
}

/* ---- a hostile applet and the limits ------------------------------------------------- */

static void a_greedy_applet_takes_only_its_share_of_the_registry(void **state) {
    fixture *f = *state;
    uint8_t got[2];
    two_applets(f);
    greedy(f->card, 0x01, got); /* every menu item */
    assert_int_equal(got[0], 4);
    assert_int_equal(got[1], 0xFB); /* -5: its own limit, a clear answer */
    greedy(f->card, 0x02, got);     /* every event */
    assert_int_equal(got[0], 16);
    assert_int_equal(got[1], 0xFB);
    greedy(f->card, 0x03, got); /* every timer */
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 0xFB);
    /* the other applet still registers a menu item, a timer, an event the greedy one
       holds too and one it does not */
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    assert_int_equal(tk_register(f->card, 2, 0x03, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x20, true), 0x00);
    /* and only the greedy one's items and timers stay its own */
    assert_int_equal(tk_register(f->card, 0, 0x01, true), 0xFC);
    assert_int_equal(tk_register(f->card, 2, 0x01, true), 0xFC);
    /* its envelopes reach it */
    assert_int_equal(SEND(f->card, PROFILE) & 0xFF00, 0x9100); /* the card's own commands */
    uint8_t buf[256];
    seam_tk_command cmd;
    uint16_t sw = 0x9100 | response[response_len - 1];
    while ((sw & 0xFF00) == 0x9100) {
        fetch(f->card, sw, buf, &cmd);
        sw = answer_ok(f->card, &cmd);
    }
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81,
                          0x90, 0x01, 0x07),
                     0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81,
                          0xA4, 0x01, 0x03, 0xA5, 0x03, 0x00, 0x00, 0x01),
                     0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD6, 0x07, 0x99, 0x01, 0x20, 0x82,
                          0x02, 0x02, 0x81),
                     0x9000);
    assert_int_equal(seen(f->card, 2), 1); /* menu selection */
    assert_int_equal(seen(f->card, 6), 1); /* timer expiration */
    assert_int_equal(seen(f->card, 4), 2); /* event download: the card's E1 after the
                                              profile (it holds registrations), then 20 */
    assert_int_equal(seen(f->card, 5), 0x20);
}

static void a_greedy_applet_cannot_starve_the_queue(void **state) {
    fixture *f = *state;
    uint8_t got[2], buf[256];
    seam_tk_command cmd;
    two_applets(f);
    greedy(f->card, 0x04, got); /* 16 commands: one goes in, the rest are busy */
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 0xFF); /* -1: one outstanding command per applet */
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00) & 0xFF00, 0x9000);
    assert_int_equal(response[0], 0x00); /* the other one queues */
    uint16_t sw = SEND(f->card, PROFILE);
    /* the greedy one's first; its answer makes it queue again, behind the other's */
    fetch(f->card, sw, buf, &cmd);
    assert_int_equal(cmd.details.number, 0x01);
    assert_int_equal(cmd.objects_len, 5); /* 8D 03 04 "me" */
    sw = answer_ok(f->card, &cmd);
    fetch(f->card, sw, buf, &cmd);
    assert_int_equal(cmd.objects_len, 17); /* test_toolkit's "Toolkit Test 1" */
    sw = answer_ok(f->card, &cmd);
    assert_int_equal(seen(f->card, 1), 1); /* its answer reached it */
    fetch(f->card, 0x9100 | response[response_len - 1], buf, &cmd);
    assert_int_equal(cmd.details.number, 0x41); /* the greedy one's second, in turn */
}

/* ---- kept across a power cycle, told without a SELECT (S1, S5) ------------------------ */

/* SET UP MENU of test_toolkit: item id, text "Seven". */
static size_t menu_of(uint8_t id, uint8_t *out) {
    seam_tk_item item = {id, "Seven"};
    size_t len = 0;
    assert_int_equal(seam_tk_build_set_up_menu(0x05, 0x00, "TK", &item, 1, out, 255, &len),
                     SEAM_OK);
    return len;
}

/* test_toolkit 01 registers menu item 7 (named by its SET UP MENU) and event 05, 02 event
   0A, the greedy one's timer; the menu's own command answered. */
static void registered_card(fixture *f) {
    uint8_t command[255], buf[256], got[2];
    seam_tk_command cmd;
    two_applets(f);
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
    assert_int_equal(tk_queue(f->card, command, menu_of(0x07, command)), 0x00);
    greedy(f->card, 0x03, got);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* channel 1 closed */
    select_on(f->card, 1, tk_two);
    assert_int_equal(tk_register(f->card, 1, 0x0A, true), 0x00);
    fetch(f->card, SEND(f->card, PROFILE), buf, &cmd); /* the card's menu, then its own */
}

static void after_a_power_cycle_the_card_tells_menu_and_events_without_select_S1_S5(void **st) {
    fixture *f = *st;
    uint8_t buf[256];
    seam_tk_command cmd;
    seam_ctlv obj;
    registered_card(f);
    reopen(f); /* a power cycle: nothing is selected but the ISD */
    uint16_t sw = SEND(f->card, PROFILE);
    fetch(f->card, sw, buf, &cmd); /* the first FETCH: SET UP MENU with item 7 */
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_MENU);
    assert_int_equal(cmd.dest, SEAM_TK_DEV_TERMINAL);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &obj), SEAM_OK);
    assert_int_equal(obj.len, 6);
    assert_int_equal(obj.value[0], 0x07);
    assert_memory_equal(obj.value + 1, "Seven", 5);
    sw = answer_ok(f->card, &cmd);
    fetch(f->card, sw, buf, &cmd); /* then SET UP EVENT LIST: the union, once each */
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, 0x19, &obj), SEAM_OK);
    assert_int_equal(obj.len, 2);
    assert_true((obj.value[0] == 0x05 && obj.value[1] == 0x0A) ||
                (obj.value[0] == 0x0A && obj.value[1] == 0x05));
    assert_int_equal(answer_ok(f->card, &cmd), 0x9000); /* nothing more: no timer kept */
    /* an event and the menu item reach the applet, nothing selected */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD6, 0x07, 0x99, 0x01, 0x05, 0x82,
                          0x02, 0x02, 0x81),
                     0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81,
                          0x90, 0x01, 0x07),
                     0x9000);
    /* timers do not survive the power cycle (TS 102 223): timer 1 is nobody's */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81,
                          0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x01),
                     0x6A88);
    select_on(f->card, 1, tk_cls);
    assert_int_equal(seen(f->card, 4), 3);    /* E1 after each of the two profiles, then 05 */
    assert_int_equal(seen(f->card, 5), 0x05); /* the event */
    assert_int_equal(seen(f->card, 2), 1);    /* the menu selection */
    assert_int_equal(seen(f->card, 3), 0x07);
}

static void releasing_everything_leaves_no_record(void **state) {
    fixture *f = *state;
    uint8_t before[32], with[32], after[32];
    two_applets(f);
    fingerprint(f->card, before);
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
    fingerprint(f->card, with);
    assert_memory_not_equal(before, with, 32); /* kept in the image */
    assert_int_equal(tk_register(f->card, 0, 0x07, false), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, false), 0x00);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    /* registering again what it holds changes nothing (no write at every select) */
    assert_int_equal(tk_register(f->card, 2, 0x01, true), 0x00); /* a timer: RAM only */
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    fingerprint(f->card, with);
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    fingerprint(f->card, after);
    assert_memory_equal(with, after, 32);
}

static void a_deleted_instance_leaves_no_registration_in_the_image(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32], command[255];
    two_applets(f);
    /* instance 02 selected on channel 3: registered, menu named, then deleted */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(delete_aid(f->card, tk_two, sizeof tk_two, 0x00), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_two, NULL, 0), 0x9000);
    select_on(f->card, 1, tk_two);
    assert_int_equal(tk_register(f->card, 0, 0x09, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x03, true), 0x00);
    assert_int_equal(tk_queue(f->card, command, menu_of(0x09, command)), 0x00);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(delete_aid(f->card, tk_two, sizeof tk_two, 0x00), 0x9000);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32); /* the whole card as before its install */
    reopen(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000); /* nothing to tell the terminal */
}

static void deleting_an_instance_tells_the_terminal_its_menu_without_it_S1(void **state) {
    fixture *f = *state;
    uint8_t command[255], buf[256];
    seam_tk_command cmd;
    seam_ctlv obj;
    two_applets(f);
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    assert_int_equal(tk_queue(f->card, command, menu_of(0x07, command)), 0x00);
    uint16_t sw = SEND(f->card, PROFILE);
    while ((sw & 0xFF00) == 0x9100) { /* the card's menu, then the applet's */
        fetch(f->card, sw, buf, &cmd);
        sw = answer_ok(f->card, &cmd);
    }
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    sw = delete_aid(f->card, tk_cls, sizeof tk_cls, 0x00);
    fetch(f->card, sw, buf, &cmd); /* at once: the menu without item 7 (none: removed) */
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_MENU);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &obj), SEAM_OK);
    assert_int_equal(obj.len, 0);
    sw = answer_ok(f->card, &cmd);
    fetch(f->card, sw, buf, &cmd);
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(answer_ok(f->card, &cmd), 0x9000);
}

/* The card's own event E1 ("terminal profile arrived") goes to every holder without a
   registration and never comes from the terminal: an applet that registers it anyway must
   not put it in the card's SET UP EVENT LIST, which a terminal refuses whole for an event
   it does not know (src/terminal/toolkit_exec.c: beyond its capabilities), leaving every
   other applet's events unset (S5). */
static void an_applet_registering_e1_does_not_spoil_the_terminals_event_list_S5(void **state) {
    fixture *f = *state;
    uint8_t buf[256];
    seam_tk_command cmd;
    seam_ctlv obj;
    two_applets(f);
    assert_int_equal(tk_register(f->card, 1, SEAM_TK_EVENT_PROFILE_DOWNLOAD, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
    fetch(f->card, SEND(f->card, PROFILE), buf, &cmd); /* no menu item: the events first */
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, 0x19, &obj), SEAM_OK);
    assert_int_equal(obj.len, 1);
    assert_int_equal(obj.value[0], 0x05);
    assert_int_equal(answer_ok(f->card, &cmd), 0x9000);
    assert_int_equal(seen(f->card, 4), 1); /* E1 once, as every holder gets it */
    assert_int_equal(seen(f->card, 5), SEAM_TK_EVENT_PROFILE_DOWNLOAD);
}

/* ---- a power cut in the middle of a registration (X4) --------------------------------- */

static void registration_prepared(fixture *f) {
    two_applets(f);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
}

static uint16_t op_register_menu_item(seam_card *card) {
    return SEND(card, 0x81, 0x02, 0x00, 0x07, 0x01, 0x01);
}

static void power_cut_over_a_registration_keeps_before_or_after_X4(void **state) {
    fixture *f = *state;
    assert_true(sweep_every_write(f, registration_prepared, op_register_menu_item) > 0);
    /* after the run without a cut: the new item is there after a power cycle */
    assert_int_equal(response[0], 0x00);
    reopen(f);
    assert_int_equal(SEND(f->card, PROFILE) & 0xFF00, 0x9100); /* the event list */
    select_on(f->card, 1, tk_cls);
    assert_int_equal(tk_register(f->card, 0, 0x07, false), 0x00); /* it held it */
}

/* Instance 01 holds menu item 7 (named) and event 05; channel 1 closed: deletable. */
static void registered_then_deselected(fixture *f) {
    uint8_t command[255];
    two_applets(f);
    assert_int_equal(tk_register(f->card, 0, 0x07, true), 0x00);
    assert_int_equal(tk_register(f->card, 1, 0x05, true), 0x00);
    assert_int_equal(tk_queue(f->card, command, menu_of(0x07, command)), 0x00);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
}

static uint16_t op_delete_registered(seam_card *card) {
    return delete_aid(card, tk_cls, sizeof tk_cls, 0x00);
}

/* X4: a power cut at every write of a DELETE that also deletes the instance's
   TOOLKIT_REGISTRATION record leaves the whole card as it was. */
static void power_cut_over_deleting_a_registered_instance_keeps_before_or_after_X4(void **state) {
    fixture *f = *state;
    assert_true(sweep_every_write(f, registered_then_deselected, op_delete_registered) > 0);
    reopen(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000); /* nothing left to tell the terminal */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_greedy_applet_takes_only_its_share_of_the_registry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_greedy_applet_cannot_starve_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(
            after_a_power_cycle_the_card_tells_menu_and_events_without_select_S1_S5, setup,
            teardown),
        cmocka_unit_test_setup_teardown(releasing_everything_leaves_no_record, setup, teardown),
        cmocka_unit_test_setup_teardown(a_deleted_instance_leaves_no_registration_in_the_image,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            deleting_an_instance_tells_the_terminal_its_menu_without_it_S1, setup, teardown),
        cmocka_unit_test_setup_teardown(
            an_applet_registering_e1_does_not_spoil_the_terminals_event_list_S5, setup, teardown),
        cmocka_unit_test_setup_teardown(
            power_cut_over_deleting_a_registered_instance_keeps_before_or_after_X4, setup,
            teardown),
        cmocka_unit_test_setup_teardown(power_cut_over_a_registration_keeps_before_or_after_X4,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
