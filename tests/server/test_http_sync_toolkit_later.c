/*
 * The whole loop of issue 14 with the result reported later (S7; S6, S9): the
 * terminal's toolkit (seam_terminal_tk, with seam_terminal_sync as its engine) and the
 * card (its image opened in this process) around apps/devmgmt, against the real `seam
 * server` (toolkit_loop.h). devmgmt's policy asks for seam's changeset protocol (DF1A
 * 02) and for the result later (DF1B 02): its REQUEST SYNCHRONIZATION is answered at
 * once (00 and the reference), the proactive session ends, the terminal synchronizes
 * and sends the report (ENVELOPE, event E2), and devmgmt records it and tells the user.
 * With the server up the counts reach devmgmt's INS 20; with it down 20 E1 does and the
 * terminal's database is unchanged; a report the card could not take (the card went
 * away) is delivered after the next TERMINAL PROFILE; DF1B 01 keeps the result in the
 * TERMINAL RESPONSE, as before.
 */
#define _GNU_SOURCE
#include "toolkit_loop.h"

#include "seam/toolkit.h"

typedef struct {
    toolkit_loop l;
    seam_card *card;
    seam_gp_link card_link, link; /* the card's; the one the terminal uses (below) */
    bool drop_report;             /* the next report (E2 envelope) fails: the card went away */
    FILE *answers, *display, *trace;
    char display_text[4096], trace_text[65536];
    seam_terminal_unattended ui;
    seam_terminal_tk *tk;
    uint8_t response[258];
    size_t response_len;
} fixture;

/* ---- the terminal's link: the card's, which may lose one report -------------------- */

static seam_err link_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                              size_t size, size_t *response_len) {
    fixture *f = LOOP_OWNER(fixture, ctx);
    if (f->drop_report && len > 12 && command[1] == 0xC2 && command[5] == SEAM_TK_EVENT_DOWNLOAD &&
        memmem(command, len, "\x99\x01\xE2", 3)) {
        f->drop_report = false;
        return SEAM_ERR_LINK_CLOSED; /* the card is gone before the report reached it */
    }
    return seam_gp_link_transmit(&f->card_link, command, len, response, size, response_len);
}

static const seam_gp_link_ops dropping_ops = {loop_link_power_on, loop_link_reset,
                                              loop_link_power_off, link_transmit, loop_link_close};

/* ---- the loop ---------------------------------------------------------------------- */

/* The server, the database and the card with policy extra_hex; the terminal on the card
   in this process (answers "yes" to GET INKEY), with the sync engine, powered up. */
static void open_loop(fixture *f, const char *extra_hex) {
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    loop_open(&f->l, extra_hex);
    assert_int_equal(seam_card_open(f->l.image, &f->card), SEAM_OK);
    assert_int_equal(seam_link_card(f->card, &f->card_link), SEAM_OK);
    f->link = (seam_gp_link){&dropping_ops, &f->card_link, "card"};
    static const char yes[] = "yes\nyes\nyes\n";
    f->answers = fmemopen((void *)yes, strlen(yes), "r");
    f->display = fmemopen(f->display_text, sizeof f->display_text - 1, "w");
    f->trace = fmemopen(f->trace_text, sizeof f->trace_text - 1, "w");
    f->ui.answers = f->answers;
    f->ui.log = f->display;
    seam_terminal_tk_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ui = seam_terminal_ui_unattended(&f->ui);
    cfg.imei = LOOP_IMEI;
    cfg.log = f->trace;
    assert_int_equal(seam_terminal_tk_new(&f->link, &cfg, &f->tk), SEAM_OK);
    const seam_terminal_tk_sync sync = {
        .run = seam_terminal_sync, .dm_path = f->l.dm, .password = SECRET_A};
    assert_int_equal(seam_terminal_tk_set_sync(f->tk, &sync), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&f->link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    seam_terminal_tk_free(f->tk);
    seam_gp_link_close(&f->card_link);
    seam_card_close(f->card);
    if (f->answers) {
        fclose(f->answers);
        fclose(f->display);
        fclose(f->trace);
    }
    loop_close(&f->l);
    free(f);
    return 0;
}

/* A location change: the policy's threshold, then the whole session (and the report). */
static seam_err location_event(fixture *f) {
    static const uint8_t normal[] = {0x9B, 0x01, 0x00};
    bool sent = false;
    seam_err e = seam_terminal_tk_event(f->tk, SEAM_TK_EVENT_LOCATION_STATUS, normal, 3, &sent);
    assert_true(sent);
    return e;
}

/* devmgmt's last result (INS 20, 22 bytes) into f->response, through the terminal. */
static void last_result(fixture *f) {
    static const uint8_t open[] = {0x00, 0x70, 0x00, 0x00, 0x01};
    static const uint8_t select[] = {0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00,
                                     0x00, 0x05, 0x44, 0x4D, 0x01, 0x00};
    static const uint8_t status[] = {0x81, 0x20, 0x00, 0x00, 0x00};
    static const uint8_t close[] = {0x00, 0x70, 0x80, 0x01};
    uint8_t r[258];
    size_t n;
    assert_int_equal(seam_terminal_tk_transmit(f->tk, open, sizeof open, r, sizeof r, &n), 0);
    assert_int_equal(seam_terminal_tk_transmit(f->tk, select, sizeof select, r, sizeof r, &n), 0);
    assert_int_equal(seam_terminal_tk_transmit(f->tk, status, sizeof status, f->response,
                                               sizeof f->response, &f->response_len),
                     SEAM_OK);
    assert_int_equal(f->response_len, 22 + 2);
    assert_int_equal(seam_terminal_tk_transmit(f->tk, close, sizeof close, r, sizeof r, &n), 0);
}

static bool traced(fixture *f, const char *text) {
    fflush(f->trace);
    return strstr(f->trace_text, text) != NULL;
}

static bool shown(fixture *f, const char *text) {
    fflush(f->display);
    return strstr(f->display_text, text) != NULL;
}

/* The REQUEST SYNCHRONIZATION's TERMINAL RESPONSE (81 03 nn 5F 00 ...) in the trace came
   before the synchronization ran: it is "00 + reference", without counts. */
static void answered_before_the_run(fixture *f) {
    fflush(f->trace);
    const char *tr = strstr(f->trace_text, "5F0082028281830100");
    const char *ran = strstr(f->trace_text, "toolkit: synchronization of");
    assert_non_null(tr);
    assert_non_null(ran);
    assert_true(tr < ran);
    const char *eol = strchr(tr, '\n');
    assert_true(eol - tr == (ptrdiff_t)strlen("5F0082028281830100") + 10); /* 7FD30A01nn */
    assert_memory_equal(tr + strlen("5F0082028281830100"), "7FD30A01", 8);
}

/* Server up: answered at once, then synchronized (changeset, DF1A 02), reported by E2;
   devmgmt's INS 20 has the counts (a first sync is slow: 201, 3 sent) and the user is
   told them. */
static void result_later_with_the_server_up_S7_S6_S9(void **state) {
    fixture *f = *state;
    open_loop(f, "DF1A0102DF1B0102");
    assert_int_equal(location_event(f), SEAM_OK);
    answered_before_the_run(f);
    assert_true(traced(f, "toolkit: envelope D6")); /* the report: event E2 */
    assert_true(traced(f, "9901E2"));
    assert_true(shown(f, "Sync done: 3 sent, 0 received"));
    last_result(f);
    assert_int_equal(f->response[0], 0x01); /* synchronized */
    assert_int_equal(f->response[1], 0x00);
    assert_int_equal(f->response[10] << 8 | f->response[11], 1);
    assert_int_equal(f->response[14], 0x00);
    assert_int_equal(f->response[15], SEAM_SYNC_SLOW);
    assert_int_equal(f->response[16] << 8 | f->response[17], 3);
    assert_true(copy_has(&f->l.srv, LOOP_IMEI, "ringtone", "classic"));
    assert_int_equal(dm_digest(f->l.dm), server_digest(&f->l.srv, LOOP_IMEI, SEAM_SYNC_DEVINFO));
}

/* Server down: still answered at once; the report is 20 E1 and reaches devmgmt; the
   terminal's database is unchanged. */
static void result_later_with_the_server_down_S7(void **state) {
    fixture *f = *state;
    open_loop(f, "DF1A0102DF1B0102");
    uint64_t before = dm_digest(f->l.dm);
    server_kill(&f->l.srv);
    assert_int_equal(location_event(f), SEAM_OK);
    answered_before_the_run(f);
    assert_true(traced(f, "830220E1"));
    assert_true(shown(f, "Sync failed: server unreachable"));
    last_result(f);
    assert_int_equal(f->response[0], 0x03); /* failed */
    assert_int_equal(f->response[1], 0x20);
    assert_int_equal(f->response[14], SEAM_TK_SYNC_FAIL_UNREACHABLE);
    assert_int_equal(dm_digest(f->l.dm), before);
}

/* The card goes away before the report reaches it: the event's call fails, devmgmt is
   still "pending"; after the next power-up (TERMINAL PROFILE) the terminal delivers the
   report it kept and devmgmt records it. */
static void report_kept_until_the_next_profile_S7(void **state) {
    fixture *f = *state;
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    open_loop(f, "DF1A0102DF1B0102");
    f->drop_report = true;
    assert_int_equal(location_event(f), SEAM_ERR_LINK_CLOSED);
    assert_false(f->drop_report);
    assert_false(shown(f, "Sync done"));
    /* the card again: power-up, profile, the card's own commands, then the report */
    assert_int_equal(seam_gp_link_power_on(&f->link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_true(shown(f, "Sync done: 3 sent, 0 received"));
    last_result(f);
    assert_int_equal(f->response[0], 0x01);
    assert_int_equal(f->response[16] << 8 | f->response[17], 3);
    assert_int_equal(f->response[10] << 8 | f->response[11], 1);
}

/* DF1B 01: the result in the TERMINAL RESPONSE as before S7's later
   report, with the counts; no E2 envelope. */
static void result_in_the_response_unchanged_S7(void **state) {
    fixture *f = *state;
    open_loop(f, "DF1A0102DF1B0101");
    assert_int_equal(location_event(f), SEAM_OK);
    assert_true(traced(f, "5F0082028281830100"
                          "7FD30907"));
    assert_false(traced(f, "9901E2"));
    assert_true(shown(f, "Sync done: 3 sent, 0 received"));
    last_result(f);
    assert_int_equal(f->response[0], 0x01);
    assert_int_equal(f->response[16] << 8 | f->response[17], 3);
}

int main(int argc, char **argv) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(result_later_with_the_server_up_S7_S6_S9),
        T(result_later_with_the_server_down_S7),
        T(report_kept_until_the_next_profile_S7),
        T(result_in_the_response_unchanged_S7),
    };
    return sync_tests_main(argc, argv, "devmgmt -> terminal toolkit in process -> server on ",
                           tests, sizeof tests / sizeof *tests);
}
