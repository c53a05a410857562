/*
 * The terminal's half of the toolkit (include/seam/terminal.h "The toolkit",
 * docs/terminal.md): TERMINAL PROFILE, the proactive loop, each command's
 * execution and answer, the menu (D3), the event list (D6), timers on a test
 * clock (D7), polling, and what a command the terminal cannot run gets (30,
 * 31, 32). The card here is a scripted one (a queue of proactive commands that
 * answers 91xx, FETCH, TERMINAL RESPONSE and ENVELOPE as docs/toolkit.md "The
 * card" says), so that every command shape can be crafted; the loop against
 * the real card is test_terminal_toolkit_card.
 *
 * Test vectors (restated, not copied): DISPLAY TEXT 1.1 and its response are
 * ETSI TS 102 384's, as issue 13 and Mozilla B2G's test_stk_display_text.js
 * give them; GET INKEY 1.1 / 5.1, SET UP MENU 1.1.2 / 1.1.3, POLL INTERVAL
 * 1.1 and PROVIDE LOCAL INFORMATION 1.2 (IMEI) are TS 102 384's as oFono's
 * unit tests (unit/test-stkutil.c: get_inkey_111, get_inkey_511,
 * setup_menu_112, setup_menu_113, poll_interval_111,
 * provide_local_info_response_121) restate them; the timer expiration D7 0C
 * 82 02 82 81 A4 01 01 A5 03 00 00 01 is issue 13's; the idle screen event
 * D6 07 99 01 05 82 02 02 81 cat_sync.md A.7's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "seam/terminal.h"
#include "seam/toolkit.h"
#include "seam/util.h"

/* ---- a scripted card -------------------------------------------------- */

#define QUEUE 8
typedef struct {
    uint8_t queue[QUEUE][SEAM_TK_MAX_MESSAGE];
    size_t queue_len[QUEUE], count; /* commands waiting, first at 0 */
    bool fetched;                   /* queue[0] awaits its TERMINAL RESPONSE */
    uint8_t profile[64];
    size_t profile_len;
    uint8_t last_tr[256], last_env[256];
    size_t last_tr_len, last_env_len;
    unsigned responses, envelopes, polls;
    uint16_t env_sw;           /* the answer to the next env_sw_times ENVELOPEs (0: as a card) */
    unsigned env_sw_times;     /* (S7's report: 9300 busy, 6A88 nobody holds E2) */
    unsigned responses_at_run; /* TERMINAL RESPONSEs sent when the engine last ran */
} scripted_card;

static uint16_t idle_sw(const scripted_card *c) {
    return c->count && !c->fetched ? (uint16_t)(0x9100u | c->queue_len[0]) : 0x9000u;
}

static seam_err card_transmit(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
                              size_t size, size_t *resp_len) {
    scripted_card *c = ctx;
    uint16_t sw = 0x6D00;
    size_t n = 0, lc = len > 5 ? apdu[4] : 0;
    assert_true(len >= 4); /* STATUS 80 F2 00 0C is case 1 */
    assert_int_equal(apdu[0], 0x80);
    switch (apdu[1]) {
    case 0x10:
        memcpy(c->profile, apdu + 5, lc);
        c->profile_len = lc;
        sw = idle_sw(c);
        break;
    case 0x12:
        if (c->count && !c->fetched) {
            memcpy(resp, c->queue[0], c->queue_len[0]);
            n = c->queue_len[0];
            c->fetched = true;
            sw = 0x9000;
        } else {
            sw = 0x6985;
        }
        break;
    case 0x14:
        assert_true(c->fetched);
        memcpy(c->last_tr, apdu + 5, lc);
        c->last_tr_len = lc;
        c->responses++;
        c->fetched = false;
        c->count--;
        memmove(c->queue[0], c->queue[1], sizeof c->queue[0] * c->count);
        memmove(c->queue_len, c->queue_len + 1, sizeof c->queue_len[0] * c->count);
        sw = idle_sw(c);
        break;
    case 0xC2:
        memcpy(c->last_env, apdu + 5, lc);
        c->last_env_len = lc;
        c->envelopes++;
        sw = c->fetched ? 0x9300 : idle_sw(c);
        if (c->env_sw_times) {
            c->env_sw_times--;
            sw = c->env_sw;
        }
        break;
    case 0xF2: /* TS 102 221 STATUS, no data (P2 0C, no Le): the poll */
        assert_int_equal(len, 4);
        assert_int_equal(apdu[3], 0x0C);
        c->polls++;
        sw = idle_sw(c);
        break;
    case 0xCA:
        sw = idle_sw(c);
        break;
    }
    assert_true(size >= n + 2);
    resp[n] = (uint8_t)(sw >> 8);
    resp[n + 1] = (uint8_t)sw;
    *resp_len = n + 2;
    return SEAM_OK;
}

static const seam_gp_link_ops card_ops = {.transmit = card_transmit};

/* Bytes from spaced hex into out; their count. */
static size_t hex(const char *s, uint8_t *out, size_t size) {
    char packed[2 * SEAM_TK_MAX_MESSAGE + 1];
    size_t n = 0, len = 0;
    for (; *s; s++)
        if (*s != ' ')
            packed[n++] = *s;
    assert_int_equal(seam_hex_decode(packed, n, out, size, &len), SEAM_OK);
    return len;
}

static void queue_bytes(scripted_card *c, const uint8_t *cmd, size_t len) {
    assert_true(c->count < QUEUE);
    memcpy(c->queue[c->count], cmd, len);
    c->queue_len[c->count++] = len;
}

static void queue_hex(scripted_card *c, const char *h) {
    uint8_t b[SEAM_TK_MAX_MESSAGE];
    queue_bytes(c, b, hex(h, b, sizeof b));
}

static void assert_hex(const uint8_t *got, size_t len, const char *h) {
    uint8_t want[SEAM_TK_MAX_MESSAGE];
    size_t n = hex(h, want, sizeof want);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

/* ---- the terminal under test ------------------------------------------ */

typedef struct {
    uint64_t ms;
    int64_t wall;
} test_clock;

static uint64_t clock_ms(void *ctx) {
    return ((test_clock *)ctx)->ms;
}
static int64_t clock_wall(void *ctx) {
    return ((test_clock *)ctx)->wall;
}

typedef struct {
    scripted_card card;
    seam_gp_link link;
    test_clock clock;
    seam_terminal_unattended ui;
    char log[4096];
    FILE *answers, *ui_log;
    seam_terminal_tk *tk;
} fixture;

/* A terminal answering GET INKEY from answers (lines). */
/* Where the terminals start() makes write their toolkit log (NULL: nowhere). */
static FILE *tk_log_to;

static fixture *start(const char *answers) {
    fixture *f = calloc(1, sizeof *f);
    seam_terminal_tk_config cfg;
    assert_non_null(f);
    f->link = (seam_gp_link){&card_ops, &f->card, "scripted"};
    f->clock.wall = 1796256000; /* 2026-12-03 00:00:00 UTC */
    f->answers = fmemopen((void *)answers, strlen(answers), "r");
    f->ui_log = fmemopen(f->log, sizeof f->log - 1, "w");
    f->ui.answers = f->answers;
    f->ui.log = f->ui_log;
    memset(&cfg, 0, sizeof cfg);
    cfg.ui = seam_terminal_ui_unattended(&f->ui);
    cfg.clock = (seam_terminal_clock){clock_ms, clock_wall, &f->clock};
    cfg.imei = "123456789012345";
    cfg.log = tk_log_to;
    assert_int_equal(seam_terminal_tk_new(&f->link, &cfg, &f->tk), SEAM_OK);
    return f;
}

static void stop(fixture *f) {
    seam_terminal_tk_free(f->tk);
    fclose(f->answers);
    fclose(f->ui_log);
    free(f);
}

static seam_terminal_tk_status status_of(fixture *f) {
    seam_terminal_tk_status s;
    seam_terminal_tk_get_status(f->tk, &s);
    return s;
}

/* ---- tests -------------------------------------------------------------- */

static const char display_text_11[] =
    "D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 54 6F 6F 6C 6B 69 74 20 54 65 73 74 20 31";

static void profile_announces_what_the_terminal_does_not_sync_S3(void **state) {
    (void)state;
    fixture *f = start("");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(f->card.profile_len, SEAM_TK_PROFILE_LEN);
    assert_true(
        seam_tk_profile_test(f->card.profile, f->card.profile_len, SEAM_TK_PF_DISPLAY_TEXT));
    assert_true(
        seam_tk_profile_test(f->card.profile, f->card.profile_len, SEAM_TK_PF_TIMER_EXPIRATION));
    assert_true(seam_tk_profile_test(f->card.profile, f->card.profile_len, SEAM_TK_PF_SET_UP_MENU));
    /* no synchronization engine yet: the bit stays clear */
    assert_false(
        seam_tk_profile_test(f->card.profile, f->card.profile_len, SEAM_TK_PF_REQUEST_SYNC));
    assert_int_equal(status_of(f).fetched, 0);
    stop(f);
}

static void display_text_fetched_shown_and_answered_S9(void **state) {
    (void)state;
    fixture *f = start("");
    queue_hex(&f->card, display_text_11);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(f->card.responses, 1);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 01 21 80 82 02 82 81 83 01 00");
    fflush(f->ui_log);
    assert_non_null(strstr(f->log, "display: Toolkit Test 1"));
    stop(f);
}

static void display_text_in_packed_gsm_7bit(void **state) {
    (void)state;
    fixture *f = start("");
    /* "hello" packed in the GSM 7-bit default alphabet: E8 32 9B FD 06, the textbook
       example of 3GPP TS 23.038 §6.1.2.1 packing (dcs 00) */
    queue_hex(&f->card, "D0 11 81 03 01 21 80 82 02 81 02 8D 06 00 E8 32 9B FD 06");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 01 21 80 82 02 82 81 83 01 00");
    fflush(f->ui_log);
    assert_non_null(strstr(f->log, "display: hello\n"));
    stop(f);
}

static void loop_runs_while_the_card_answers_91xx(void **state) {
    (void)state;
    fixture *f = start("");
    queue_hex(&f->card, display_text_11);
    queue_hex(&f->card, "D0 0D 81 03 02 03 00 82 02 81 82 84 02 01 14");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(f->card.responses, 2);
    assert_int_equal(f->card.count, 0);
    assert_int_equal(status_of(f).fetched, 2);
    stop(f);
}

static void get_inkey_digit_and_yes_S9(void **state) {
    (void)state;
    fixture *f = start("+\nyes\n");
    queue_hex(&f->card, "D0 15 81 03 01 22 00 82 02 81 82 8D 0A 04 45 6E 74 65 72 20 22 2B 22");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 01 22 00 82 02 82 81 83 01 00 8D 02 04 2B");
    queue_hex(&f->card, "D0 15 81 03 01 22 04 82 02 81 82 8D 0A 04 45 6E 74 65 72 20 59 45 53");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 01 22 04 82 02 82 81 83 01 00 8D 02 04 01");
    stop(f);
}

static void get_inkey_user_says_no_ends_or_gives_nothing_S9(void **state) {
    (void)state;
    static const char yes_no[] =
        "D0 15 81 03 01 22 04 82 02 81 82 8D 0A 04 45 6E 74 65 72 20 59 45 53";
    fixture *f = start("no\nend\n");
    queue_hex(&f->card, yes_no);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    /* "no" is an answer: result 00, the text 00 (TS 102 223 §6.8.5) */
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 01 22 04 82 02 82 81 83 01 00 8D 02 04 00");
    queue_hex(&f->card, yes_no);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 01 22 04 82 02 82 81 83 01 10");
    queue_hex(&f->card, yes_no); /* the answers ran out: no response from the user */
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 01 22 04 82 02 82 81 83 01 12");
    stop(f);
}

static void malformed_commands_answered_32_never_a_crash(void **state) {
    (void)state;
    fixture *f = start("");
    /* a text object running past the template's end */
    queue_hex(&f->card, "D0 0D 81 03 07 21 80 82 02 81 02 8D 09 04 41");
    /* an object with comprehension required that DISPLAY TEXT does not use (tag 7F D3 01) */
    queue_hex(&f->card, "D0 11 81 03 08 21 80 82 02 81 02 8D 01 04 7F D3 01 01 01");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(f->card.responses, 2);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 08 21 80 82 02 82 81 83 01 32");
    queue_hex(&f->card, "D0 0D 81 03 07 21 80 82 02 81 02 8D 09 04 41");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 07 21 80 82 02 82 81 83 01 32");
    /* not even a proactive command: still an answer, 32 */
    queue_hex(&f->card, "6F 03 01 02 03");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(status_of(f).last_result, SEAM_TK_RES_DATA_NOT_UNDERSTOOD);
    /* DISPLAY TEXT without its text: required values missing */
    queue_hex(&f->card, "D0 09 81 03 09 21 80 82 02 81 02");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 09 21 80 82 02 82 81 83 01 36");
    stop(f);
}

static void request_sync_beyond_capabilities_30_S3_S4(void **state) {
    (void)state;
    fixture *f = start("");
    seam_tk_sync_request req = {
        .protocol = SEAM_TK_SYNC_PROTO_OMA_DS_12,
        .transport = SEAM_TK_SYNC_TRANSPORT_HTTP,
        .sync_type = SEAM_TK_SYNC_TWO_WAY,
        .source_device = (const uint8_t *)"IMEI:123456789012345",
        .source_device_len = 20,
        .source_uri = (const uint8_t *)"./contacts",
        .source_uri_len = 10,
        .target_url = (const uint8_t *)"https://ds.example/sync",
        .target_url_len = 23,
        .target_uri = (const uint8_t *)"card",
        .target_uri_len = 4,
        .wants_result = true,
    };
    uint8_t cmd[SEAM_TK_MAX_MESSAGE];
    size_t len;
    assert_int_equal(seam_tk_build_request_sync(5, &req, cmd, sizeof cmd, &len), SEAM_OK);
    queue_bytes(&f->card, cmd, len);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 05 5F 00 82 02 82 81 83 01 30");
    /* a type TS 102 223 does not assign and seam does not know: 31 */
    queue_hex(&f->card, "D0 09 81 03 06 70 00 82 02 81 82");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 06 70 00 82 02 82 81 83 01 31");
    stop(f);
}

static void menu_kept_and_selection_sent_S5(void **state) {
    (void)state;
    fixture *f = start("");
    uint8_t id = 0;
    queue_hex(&f->card, "D0 23 81 03 01 25 00 82 02 81 82 85 0C 54 6F 6F 6C 6B 69 74 20 4D 65 "
                        "6E 75 8F 04 11 4F 6E 65 8F 04 12 54 77 6F");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 01 25 00 82 02 82 81 83 01 00");
    assert_int_equal(status_of(f).menu_items, 2);
    assert_string_equal(seam_terminal_tk_menu_item(f->tk, 1, &id), "Two");
    assert_int_equal(id, 0x12);
    assert_int_equal(seam_terminal_tk_menu_select(f->tk, 0x12, false), SEAM_OK);
    assert_hex(f->card.last_env, f->card.last_env_len, "D3 07 82 02 01 81 90 01 12");
    /* an item the menu does not have: nothing sent */
    assert_int_equal(seam_terminal_tk_menu_select(f->tk, 0x13, false), SEAM_ERR_NOT_FOUND);
    assert_int_equal(f->card.envelopes, 1);
    /* the menu removed */
    queue_hex(&f->card, "D0 0D 81 03 01 25 00 82 02 81 82 85 00 8F 00");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(status_of(f).menu_items, 0);
    assert_int_equal(seam_terminal_tk_menu_select(f->tk, 0x12, false), SEAM_ERR_NOT_FOUND);
    stop(f);
}

static void events_sent_only_when_the_card_asked_S5(void **state) {
    (void)state;
    fixture *f = start("");
    bool sent = true;
    const uint8_t location[3] = {0x9B, 0x01, 0x00};
    queue_hex(&f->card, "D0 0C 81 03 01 05 00 82 02 81 82 99 01 05");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(status_of(f).last_result, SEAM_TK_RES_OK);
    assert_int_equal(
        seam_terminal_tk_event(f->tk, SEAM_TK_EVENT_LOCATION_STATUS, location, 3, &sent), SEAM_OK);
    assert_false(sent);
    assert_int_equal(f->card.envelopes, 0);
    assert_int_equal(seam_terminal_tk_event(f->tk, SEAM_TK_EVENT_IDLE_SCREEN, NULL, 0, &sent),
                     SEAM_OK);
    assert_true(sent);
    assert_hex(f->card.last_env, f->card.last_env_len, "D6 07 99 01 05 82 02 02 81");
    /* an event this terminal cannot report (user activity): 30, the list unchanged */
    queue_hex(&f->card, "D0 0C 81 03 02 05 00 82 02 81 82 99 01 04");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK); /* power-up forgets the list */
    assert_int_equal(status_of(f).last_result, SEAM_TK_RES_BEYOND_CAPABILITIES);
    assert_false(seam_terminal_tk_event_wanted(f->tk, SEAM_TK_EVENT_USER_ACTIVITY));
    stop(f);
}

static void timers_fire_on_the_test_clock(void **state) {
    (void)state;
    fixture *f = start("");
    /* timer 1 for 10 s (00 00 01: swapped BCD), timer 2 for 50 minutes (00 05 00) */
    queue_hex(&f->card, "D0 11 81 03 01 27 00 82 02 81 82 A4 01 01 A5 03 00 00 01");
    queue_hex(&f->card, "D0 11 81 03 02 27 00 82 02 81 82 A4 01 02 A5 03 00 05 00");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 02 27 00 82 02 82 81 83 01 00 A4 01 02");
    assert_int_equal(seam_terminal_tk_next_due_ms(f->tk), 10000);
    f->clock.ms = 9999;
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK);
    assert_int_equal(f->card.envelopes, 0);
    f->clock.ms = 10000;
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK);
    assert_int_equal(f->card.envelopes, 1);
    assert_hex(f->card.last_env, f->card.last_env_len, "D7 0C 82 02 82 81 A4 01 01 A5 03 00 00 01");
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK); /* fired once */
    assert_int_equal(f->card.envelopes, 1);
    /* timer 2: its current value (50 min - 10 s = 49:50), then deactivated */
    queue_hex(&f->card, "D0 0C 81 03 03 27 02 82 02 81 82 A4 01 02");
    queue_hex(&f->card, "D0 0C 81 03 04 27 01 82 02 81 82 A4 01 02");
    queue_hex(&f->card, "D0 0C 81 03 05 27 02 82 02 81 82 A4 01 02");
    uint8_t rsp[SEAM_TK_MAX_MESSAGE + 2];
    size_t rsp_len;
    static const uint8_t get_data[5] = {0x80, 0xCA, 0x00, 0x66, 0x00};
    assert_int_equal(seam_terminal_tk_transmit(f->tk, get_data, 5, rsp, sizeof rsp, &rsp_len),
                     SEAM_OK);
    assert_int_equal(f->card.responses, 5);
    /* the last: timer 2 no longer runs, a contradiction */
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 05 27 02 82 02 82 81 83 01 24");
    assert_int_equal(seam_terminal_tk_next_due_ms(f->tk), UINT64_MAX);
    stop(f);
}

static void timer_value_read_and_forgotten_at_power_up(void **state) {
    (void)state;
    fixture *f = start("");
    queue_hex(&f->card, "D0 11 81 03 01 27 00 82 02 81 82 A4 01 02 A5 03 00 05 00");
    queue_hex(&f->card, "D0 0C 81 03 02 27 02 82 02 81 82 A4 01 02");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 02 27 02 82 02 82 81 83 01 00 A4 01 02 A5 03 00 05 00");
    /* a power-up forgets every timer: reading it again is a contradiction */
    queue_hex(&f->card, "D0 0C 81 03 03 27 02 82 02 81 82 A4 01 02");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 03 27 02 82 02 82 81 83 01 24");
    stop(f);
}

static void poll_interval_polls_on_the_test_clock(void **state) {
    (void)state;
    fixture *f = start("");
    queue_hex(&f->card, "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 14");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 01 03 00 82 02 82 81 83 01 00 84 02 01 14");
    assert_int_equal(status_of(f).poll_ms, 20000);
    f->clock.ms = 19999;
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK);
    assert_int_equal(f->card.polls, 0);
    f->clock.ms = 20000;
    /* the poll finds a command waiting and runs it: POLLING OFF */
    queue_hex(&f->card, "D0 09 81 03 02 04 00 82 02 81 82");
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK);
    assert_int_equal(f->card.polls, 1);
    assert_int_equal(f->card.responses, 2);
    assert_int_equal(status_of(f).poll_ms, 0);
    f->clock.ms = 100000;
    assert_int_equal(seam_terminal_tk_tick(f->tk), SEAM_OK);
    assert_int_equal(f->card.polls, 1);
    stop(f);
}

static void provide_local_information_from_the_config(void **state) {
    (void)state;
    fixture *f = start("");
    queue_hex(&f->card, "D0 09 81 03 01 26 01 82 02 81 82");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 01 26 01 82 02 82 81 83 01 00 94 08 1A 32 54 76 98 10 32 54");
    queue_hex(&f->card, "D0 09 81 03 02 26 04 82 02 81 82");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 02 26 04 82 02 82 81 83 01 00 AD 02 65 6E");
    queue_hex(&f->card, "D0 09 81 03 03 26 03 82 02 81 82");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    /* 2026-12-03 00:00:00 UTC, each field swapped BCD */
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 03 26 03 82 02 82 81 83 01 00 A6 07 62 21 30 00 00 00 00");
    queue_hex(&f->card, "D0 09 81 03 04 26 00 82 02 81 82");
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 04 26 00 82 02 82 81 83 01 00 93 07 00 F1 10 00 01 00 01");
    stop(f);
}

/* ---- REQUEST SYNCHRONIZATION with an engine (issue 14, S6, S7) ----------- */

/* The wish for the result of the requests start_with_engine queues (S7). */
static uint8_t request_wants = SEAM_TK_SYNC_RESULT_NOW;
/* The card of the running test, for the engine to note when it ran. */
static scripted_card *engine_card;

/* A stand-in for seam_terminal_sync (a test double, never in the product): records the
   request it got, answers the outcome the test set. */
static struct {
    unsigned calls;
    seam_terminal_sync_protocol protocol;
    seam_sync_type type;
    char dm[64], device[64], source[64], url[64], target[64], user[16], password[16];
    seam_terminal_sync_outcome outcome;
} engine;

static seam_err engine_run(const seam_terminal_sync_request *req, seam_terminal_sync_outcome *out) {
    engine.calls++;
    if (engine_card)
        engine_card->responses_at_run = engine_card->responses;
    engine.protocol = req->protocol;
    engine.type = req->type;
    snprintf(engine.dm, sizeof engine.dm, "%s", req->dm_path);
    snprintf(engine.device, sizeof engine.device, "%s", req->device_id);
    snprintf(engine.source, sizeof engine.source, "%s", req->source_uri);
    snprintf(engine.url, sizeof engine.url, "%s", req->server_url);
    snprintf(engine.target, sizeof engine.target, "%s", req->target_uri);
    snprintf(engine.user, sizeof engine.user, "%s", req->user ? req->user : "");
    snprintf(engine.password, sizeof engine.password, "%s", req->password ? req->password : "");
    *out = engine.outcome;
    return SEAM_OK;
}

/* A terminal with the engine; the request of a devmgmt-like applet queued (number 7). */
static fixture *start_with_engine(uint8_t protocol, uint8_t transport, const char *source,
                                  size_t source_len) {
    fixture *f = start("");
    seam_terminal_tk_sync sync = {engine_run, "/tmp/dm.db", "dev1", "secret", NULL, 0, 0};
    seam_tk_sync_request req = {
        .protocol = protocol,
        .transport = transport,
        .sync_type = SEAM_TK_SYNC_SLOW,
        .source_device = (const uint8_t *)"IMEI:123456789012345",
        .source_device_len = 20,
        .source_uri = (const uint8_t *)source,
        .source_uri_len = source_len,
        .target_url = (const uint8_t *)"http://127.0.0.1:8443/sync/changeset",
        .target_url_len = 36,
        .target_uri = (const uint8_t *)"./devinfo",
        .target_uri_len = 9,
        .wants_result = request_wants,
    };
    uint8_t cmd[SEAM_TK_MAX_MESSAGE];
    size_t len;
    memset(&engine, 0, sizeof engine);
    engine_card = &f->card;
    assert_int_equal(seam_terminal_tk_set_sync(f->tk, &sync), SEAM_OK);
    assert_int_equal(seam_tk_build_request_sync(7, &req, cmd, sizeof cmd, &len), SEAM_OK);
    queue_bytes(&f->card, cmd, len);
    return f;
}

static void request_sync_runs_and_answers_the_counts_S6_S7(void **state) {
    (void)state;
    fixture *f = start_with_engine(SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_TRANSPORT_HTTP,
                                   "./devinfo", 9);
    engine.outcome.counts = (seam_sync_result){.type = SEAM_SYNC_SLOW,
                                               .sent = 3,
                                               .received = 2,
                                               .conflicts_client = 1,
                                               .conflicts_server = 1};
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    /* the profile says it can (S3) */
    assert_true(
        seam_tk_profile_test(f->card.profile, f->card.profile_len, SEAM_TK_PF_REQUEST_SYNC));
    /* the command's objects became the request, on the terminal's database */
    assert_int_equal(engine.calls, 1);
    assert_int_equal(engine.protocol, SEAM_TERMINAL_SYNC_CHANGESET);
    assert_int_equal(engine.type, SEAM_SYNC_SLOW);
    assert_string_equal(engine.dm, "/tmp/dm.db");
    assert_string_equal(engine.device, "123456789012345"); /* "IMEI:" names the IMEI id */
    assert_string_equal(engine.source, "./devinfo");
    assert_string_equal(engine.url, "http://127.0.0.1:8443/sync/changeset");
    assert_string_equal(engine.target, "./devinfo");
    assert_string_equal(engine.user, "dev1");
    assert_string_equal(engine.password, "secret");
    /* 00 and the counts: slow (C9), 3 sent, 2 received, 2 conflicts (S7) */
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 07 5F 00 82 02 82 81 83 01 00 7F D3 09 07 C9 00 03 00 02 00 02");
    seam_tk_response r;
    seam_tk_sync_counts counts;
    assert_int_equal(seam_tk_response_decode(f->card.last_tr, f->card.last_tr_len, &r), SEAM_OK);
    assert_int_equal(seam_tk_sync_counts_decode(r.objects, r.objects_len, &counts), SEAM_OK);
    assert_int_equal(counts.sent, 3);
    assert_int_equal(counts.received, 2);
    stop(f);
}

/* S7: wants result 02. The TERMINAL RESPONSE comes at once (00 and the reference, the
   command number 07), the engine runs after it, when the session has ended, and the
   outcome goes to the card as ENVELOPE event E2. A 9300 keeps the report for the next
   session end; a 6A88 (nobody holds E2) drops it; a second request while one is pending
   gets 20; a failure is reported as 20 and its class. */
static void request_sync_later_answers_at_once_then_reports_by_envelope_S7(void **state) {
    (void)state;
    static const uint8_t poll[] = {0x80, 0xF2, 0x00, 0x0C};
    uint8_t r[16];
    size_t n;
    request_wants = SEAM_TK_SYNC_RESULT_LATER;
    fixture *f = start_with_engine(SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_TRANSPORT_HTTP,
                                   "./devinfo", 9);
    engine.outcome.counts = (seam_sync_result){.type = SEAM_SYNC_TWO_WAY, .sent = 3, .received = 5};
    f->card.env_sw = 0x9300; /* the first time the card is busy: kept */
    f->card.env_sw_times = 1;
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len,
               "81 03 07 5F 00 82 02 82 81 83 01 00 7F D3 0A 01 07");
    assert_int_equal(engine.calls, 1);
    assert_int_equal(f->card.responses_at_run, 1); /* it ran after the answer */
    assert_int_equal(f->card.envelopes, 1);
    const char *report = "D6 1A 82 02 82 81 99 01 E2 83 01 00 7F D3 09 07 C8 00 03 00 05 00 00 "
                         "7F D3 0A 01 07";
    assert_hex(f->card.last_env, f->card.last_env_len, report);
    /* the next session end sends it again, without running again */
    assert_int_equal(seam_terminal_tk_transmit(f->tk, poll, sizeof poll, r, sizeof r, &n), 0);
    assert_int_equal(f->card.envelopes, 2);
    assert_hex(f->card.last_env, f->card.last_env_len, report);
    assert_int_equal(seam_terminal_tk_transmit(f->tk, poll, sizeof poll, r, sizeof r, &n), 0);
    assert_int_equal(f->card.envelopes, 2); /* delivered: nothing more */
    assert_int_equal(engine.calls, 1);
    stop(f);

    /* two requests in one session: the second gets 20 (one at a time); the first fails
       (unreachable) and nobody holds E2 (6A88): dropped, not sent again */
    f = start_with_engine(SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_TRANSPORT_HTTP, "./devinfo",
                          9);
    request_wants = SEAM_TK_SYNC_RESULT_NOW; /* the next tests ask for it now */
    uint8_t second[SEAM_TK_MAX_MESSAGE];
    memcpy(second, f->card.queue[0], f->card.queue_len[0]);
    second[second[1] == 0x81 ? 5 : 4] = 0x08; /* its command number (D0 len 81 03 nn) */
    queue_bytes(&f->card, second, f->card.queue_len[0]);
    engine.outcome.failure = SEAM_TERMINAL_SYNC_UNREACHABLE;
    f->card.env_sw = 0x6A88;
    f->card.env_sw_times = 1;
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 08 5F 00 82 02 82 81 83 02 20 00");
    assert_int_equal(engine.calls, 1);
    assert_hex(f->card.last_env, f->card.last_env_len,
               "D6 10 82 02 82 81 99 01 E2 83 02 20 E1 7F D3 0A 01 07");
    assert_int_equal(seam_terminal_tk_transmit(f->tk, poll, sizeof poll, r, sizeof r, &n), 0);
    assert_int_equal(f->card.envelopes, 1);
    stop(f);
}

static void request_sync_failure_answers_20_with_its_class_S7(void **state) {
    (void)state;
    static const struct {
        seam_terminal_sync_failure failure;
        const char *tr;
    } cases[] = {
        {SEAM_TERMINAL_SYNC_UNREACHABLE, "81 03 07 5F 00 82 02 82 81 83 02 20 E1"},
        {SEAM_TERMINAL_SYNC_AUTH, "81 03 07 5F 00 82 02 82 81 83 02 20 E2"},
        {SEAM_TERMINAL_SYNC_SLOW_REFUSED, "81 03 07 5F 00 82 02 82 81 83 02 20 E3"},
        {SEAM_TERMINAL_SYNC_MALFORMED, "81 03 07 5F 00 82 02 82 81 83 02 20 E4"},
        {SEAM_TERMINAL_SYNC_UNSUPPORTED, "81 03 07 5F 00 82 02 82 81 83 02 20 E5"},
        {SEAM_TERMINAL_SYNC_LOCAL, "81 03 07 5F 00 82 02 82 81 83 02 20 E6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture *f = start_with_engine(SEAM_TK_SYNC_PROTO_OMA_DS_12, SEAM_TK_SYNC_TRANSPORT_HTTP,
                                       "./devinfo", 9);
        engine.outcome.failure = cases[i].failure;
        engine.outcome.counts.sent = 5; /* a failure's counts are not reported */
        assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
        assert_int_equal(engine.calls, 1);
        assert_int_equal(engine.protocol, SEAM_TERMINAL_SYNC_OMADS);
        assert_hex(f->card.last_tr, f->card.last_tr_len, cases[i].tr);
        stop(f);
    }
}

static void request_sync_over_wsp_is_refused_30_nothing_runs_S4(void **state) {
    (void)state;
    fixture *f =
        start_with_engine(SEAM_TK_SYNC_PROTO_OMA_DS_12, SEAM_TK_SYNC_TRANSPORT_WSP, "./devinfo", 9);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(engine.calls, 0);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 07 5F 00 82 02 82 81 83 01 30");
    stop(f);
}

static void request_sync_with_a_nul_in_a_string_is_32_nothing_runs(void **state) {
    (void)state;
    fixture *f = start_with_engine(SEAM_TK_SYNC_PROTO_OMA_DS_12, SEAM_TK_SYNC_TRANSPORT_HTTP,
                                   "./dev\0info", 10); /* a NUL inside */
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(engine.calls, 0);
    assert_hex(f->card.last_tr, f->card.last_tr_len, "81 03 07 5F 00 82 02 82 81 83 01 32");
    stop(f);
}

/* The toolkit's log and trace name the synchronization, never the device's credentials:
   neither the password nor the user the terminal was given is written. */
static void request_sync_log_holds_no_credentials(void **state) {
    (void)state;
    char *text = NULL;
    size_t size = 0;
    tk_log_to = open_memstream(&text, &size);
    assert_non_null(tk_log_to);
    fixture *f = start_with_engine(SEAM_TK_SYNC_PROTO_CHANGESET, SEAM_TK_SYNC_TRANSPORT_HTTP,
                                   "./devinfo", 9);
    assert_int_equal(seam_terminal_tk_power_up(f->tk), SEAM_OK);
    assert_int_equal(engine.calls, 1);
    stop(f);
    fclose(tk_log_to);
    tk_log_to = NULL;
    assert_non_null(strstr(text, "toolkit: synchronization of ./devinfo"));
    assert_null(strstr(text, "secret"));
    assert_null(strstr(text, "dev1"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profile_announces_what_the_terminal_does_not_sync_S3),
        cmocka_unit_test(display_text_fetched_shown_and_answered_S9),
        cmocka_unit_test(display_text_in_packed_gsm_7bit),
        cmocka_unit_test(loop_runs_while_the_card_answers_91xx),
        cmocka_unit_test(get_inkey_digit_and_yes_S9),
        cmocka_unit_test(get_inkey_user_says_no_ends_or_gives_nothing_S9),
        cmocka_unit_test(malformed_commands_answered_32_never_a_crash),
        cmocka_unit_test(request_sync_beyond_capabilities_30_S3_S4),
        cmocka_unit_test(request_sync_runs_and_answers_the_counts_S6_S7),
        cmocka_unit_test(request_sync_later_answers_at_once_then_reports_by_envelope_S7),
        cmocka_unit_test(request_sync_failure_answers_20_with_its_class_S7),
        cmocka_unit_test(request_sync_over_wsp_is_refused_30_nothing_runs_S4),
        cmocka_unit_test(request_sync_with_a_nul_in_a_string_is_32_nothing_runs),
        cmocka_unit_test(request_sync_log_holds_no_credentials),
        cmocka_unit_test(menu_kept_and_selection_sent_S5),
        cmocka_unit_test(events_sent_only_when_the_card_asked_S5),
        cmocka_unit_test(timers_fire_on_the_test_clock),
        cmocka_unit_test(timer_value_read_and_forgotten_at_power_up),
        cmocka_unit_test(poll_interval_polls_on_the_test_clock),
        cmocka_unit_test(provide_local_information_from_the_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
