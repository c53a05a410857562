/*
 * The card application toolkit on the card (docs/toolkit.md "The card"): TERMINAL
 * PROFILE, the proactive command queue and 91xx, FETCH, TERMINAL RESPONSE routed
 * to the applet that issued the command, ENVELOPE D3 / D6 / D7 routed to the
 * applet that registered the item, event or timer, and what is refused (a clear
 * status word, the whole card unchanged: fingerprint()). The applet is
 * apps/test_toolkit, selected on channel 1 (CLA 81); the terminal's toolkit
 * commands go on channel 0, where the ISD answers (CLA 80).
 *
 * Test vectors: DISPLAY TEXT "Toolkit Test 1" is ETSI TS 102 384's DISPLAY TEXT
 * 1.1, as Mozilla B2G's marionette test test_stk_display_text.js restates it
 * (display_text_cmd_1: D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 "Toolkit Test
 * 1"); its TERMINAL RESPONSE 81 03 01 21 80 82 02 82 81 83 01 00 and the timer
 * expiration envelope D7 0C 82 02 82 81 A4 01 01 A5 03 00 00 01 are issue 13's,
 * the event download D6 07 99 01 05 82 02 02 81 (idle screen) cat_sync.md A.7's.
 */
#include "card_host.h"

static const uint8_t tk_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B};
static const uint8_t tk_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01};
static const uint8_t tk_two[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x02};

/* DISPLAY TEXT 1.1 with command number 01 (the applet's INS 01, P1 01). */
static const uint8_t display_text[] = {0xD0, 0x1A, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81,
                                       0x02, 0x8D, 0x0F, 0x04, 'T',  'o',  'o',  'l',  'k',  'i',
                                       't',  ' ',  'T',  'e',  's',  't',  ' ',  '1'};

#define TERMINAL_RESPONSE_OK                                                                       \
    0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x82, 0x81, 0x83,      \
        0x01, 0x00

/* A profile announcing DISPLAY TEXT (bit 17: byte 3 b1) among others. */
#define PROFILE 0x80, 0x10, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x01

/* What the applet saw (its INS 03): the byte at index i. */
static uint8_t seen(seam_card *card, size_t i) {
    uint16_t sw = SEND(card, 0x81, 0x03, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100); /* 91xx: a command waits */
    assert_int_equal(response_len, 11 + 2);
    return response[i];
}

/* test_toolkit loaded, instances 01 and 02 installed, 01 selected on channel 1. */
static void toolkit_card(fixture *f) {
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "test_toolkit", tk_pkg, sizeof tk_pkg);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_cls, NULL, 0), 0x9000);
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_two, NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(response[0], 1);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01, 0x00),
        0x9000);
}

/* As toolkit_card, the terminal profile sent and DISPLAY TEXT queued and fetched. */
static void fetched_card(fixture *f) {
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
}

static void whole_loop_profile_command_fetch_response_S7_S9(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    /* no profile yet: the applet may queue, nothing is announced or fetched */
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x9000);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x00), 0x6985);
    assert_int_equal(seen(f->card, 8), 0); /* no profile for the applet either */
    /* the profile: from now on every 9000 is 91 1C (the command's 28 bytes) */
    assert_int_equal(SEND(f->card, PROFILE), 0x911C);
    assert_int_equal(seen(f->card, 8), 3);
    assert_int_equal(seen(f->card, 9), 1); /* bit 17: DISPLAY TEXT */
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
    assert_int_equal(response_len, sizeof display_text + 2);
    assert_memory_equal(response, display_text, sizeof display_text);
    /* fetched: no more 91xx until its answer */
    assert_int_equal(seen(f->card, 1), 0);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(seen(f->card, 0), 0x00); /* result 00: performed successfully */
    assert_int_equal(seen(f->card, 1), 1);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x00), 0x6985);
}

static void the_next_command_is_announced_by_the_terminal_response(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    /* P2 02: the applet queues DISPLAY TEXT number 2 when the answer to number 1 comes */
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x02, 0x00), 0x911C);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x911C);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
    assert_int_equal(response[4], 0x02); /* its command number */
}

static void a_short_le_fetches_the_command_in_parts(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x10), 0x610C);
    assert_memory_equal(response, display_text, 0x10);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x0C), 0x9000);
    assert_memory_equal(response, display_text + 0x10, 0x0C);
}

/* Sends apdu and checks sw and that the card's whole state did not change. */
static void refused_unchanged(seam_card *card, const uint8_t *apdu, size_t len, uint16_t sw) {
    uint8_t before[32], after[32];
    fingerprint(card, before);
    assert_int_equal(send(card, apdu, len), sw);
    fingerprint(card, after);
    assert_memory_equal(before, after, 32);
}
#define REFUSED(card, sw, ...)                                                                     \
    refused_unchanged(card, (const uint8_t[]){__VA_ARGS__},                                        \
                      sizeof((const uint8_t[]){__VA_ARGS__}), sw)

static void mismatched_terminal_response_changes_nothing_S7(void **state) {
    fixture *f = *state;
    fetched_card(f);
    /* another command number, another type: 6A88, and the command still awaits */
    REFUSED(f->card, 0x6A88, 0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x02, 0x21, 0x80, 0x82, 0x02,
            0x82, 0x81, 0x83, 0x01, 0x00);
    REFUSED(f->card, 0x6A88, 0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x22, 0x80, 0x82, 0x02,
            0x82, 0x81, 0x83, 0x01, 0x00);
    assert_int_equal(seen(f->card, 1), 0); /* the applet was not called */
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(seen(f->card, 1), 1);
}

static void malformed_terminal_response_changes_nothing_S7(void **state) {
    fixture *f = *state;
    fetched_card(f);
    /* no result object */
    REFUSED(f->card, 0x6A80, 0x80, 0x14, 0x00, 0x00, 0x09, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02,
            0x82, 0x81);
    /* an object running past the data */
    REFUSED(f->card, 0x6A80, 0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02,
            0x82, 0x81, 0x83, 0x05, 0x00);
    /* a reserved tag (00), a 4-byte length form */
    REFUSED(f->card, 0x6A80, 0x80, 0x14, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00);
    REFUSED(f->card, 0x6A80, 0x80, 0x14, 0x00, 0x00, 0x06, 0x81, 0x84, 0x00, 0x00, 0x00, 0x03);
    /* device identities the wrong way round (UICC to terminal) */
    REFUSED(f->card, 0x6A80, 0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02,
            0x81, 0x82, 0x83, 0x01, 0x00);
    /* header: P1 P2, no data, secure messaging in the class byte */
    REFUSED(f->card, 0x6A86, 0x80, 0x14, 0x01, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02,
            0x82, 0x81, 0x83, 0x01, 0x00);
    REFUSED(f->card, 0x6700, 0x80, 0x14, 0x00, 0x00);
    REFUSED(f->card, 0x6882, 0x84, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02,
            0x82, 0x81, 0x83, 0x01, 0x00);
    assert_int_equal(seen(f->card, 1), 0);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(seen(f->card, 1), 1);
}

static void fetch_and_terminal_response_out_of_order(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x00); /* nothing queued */
    REFUSED(f->card, 0x6985, TERMINAL_RESPONSE_OK);         /* nothing fetched */
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
    REFUSED(f->card, 0x6985, TERMINAL_RESPONSE_OK);                     /* queued, not fetched */
    REFUSED(f->card, 0x6700, 0x80, 0x12, 0x00, 0x00, 0x01, 0x00, 0x1C); /* FETCH with data */
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
    /* TS 102 221: each fetched command gets its TERMINAL RESPONSE before the next FETCH */
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x1C);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    REFUSED(f->card, 0x6985, TERMINAL_RESPONSE_OK); /* answered once */
}

static void queue_limits_one_per_applet_four_in_all(void **state) {
    fixture *f = *state;
    static const uint8_t more[][7] = {{0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x03},
                                      {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x04},
                                      {0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x05}};
    toolkit_card(f);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, more[i], NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x9000);
    assert_int_equal(response[0], 0x00);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x02, 0x00, 0x00), 0x9000);
    assert_int_equal(response[0], 0xFF); /* busy: one outstanding command per applet */
    /* a malformed command: D0 whose length does not fill it; no device identities */
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x00, 0x00, 0x03, 0xD0, 0x05, 0x00, 0x00), 0x9000);
    assert_int_equal(response[0], 0xFD);
    assert_int_equal(
        SEND(f->card, 0x81, 0x01, 0x00, 0x00, 0x07, 0xD0, 0x05, 0x81, 0x03, 0x01, 0x21, 0x80, 0x00),
        0x9000);
    assert_int_equal(response[0], 0xFD);
    const uint8_t *aids[4] = {tk_two, more[0], more[1], more[2]};
    for (size_t i = 0; i < 4; i++) {
        uint8_t select[5 + 7 + 1] = {0x01, 0xA4, 0x04, 0x00, 0x07};
        memcpy(select + 5, aids[i], 7);
        assert_int_equal(send(f->card, select, sizeof select), 0x9000);
        assert_int_equal(SEND(f->card, 0x81, 0x01, (uint8_t)(i + 2), 0x00, 0x00), 0x9000);
        assert_int_equal(response[0], i < 3 ? 0x00 : 0xFE); /* the fifth: the queue is full */
    }
    /* each comes out in turn, each after the previous one's answer */
    assert_int_equal(SEND(f->card, PROFILE), 0x911C);
    for (uint8_t n = 1; n <= 4; n++) {
        assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x1C), 0x9000);
        assert_int_equal(response[4], n);
        uint8_t tr[] = {TERMINAL_RESPONSE_OK};
        tr[7] = n;
        assert_int_equal(send(f->card, tr, sizeof tr), n < 4 ? 0x911C : 0x9000);
    }
}

static void a_refused_command_queues_nothing(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x01, 0x00), 0x6A80); /* queued, refused */
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x00);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C); /* not busy */
}

static void terminal_response_reaches_an_unselected_applet_S7(void **state) {
    fixture *f = *state;
    fetched_card(f);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* channel 1 closed */
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01, 0x00),
        0x9000);
    assert_int_equal(seen(f->card, 1), 1); /* it kept what it saw */
    assert_int_equal(seen(f->card, 0), 0x00);
}

static void an_applet_that_traps_on_its_answer_does_not_block_the_session(void **state) {
    fixture *f = *state;
    fetched_card(f);
    assert_int_equal(SEND(f->card, 0x81, 0x04, 0x01, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(seen(f->card, 1), 0); /* its call left no trace */
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x00);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
}

static void a_queue_call_outside_the_applets_memory_traps_X3(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x05, 0x00, 0x00), 0x6F00);
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x00); /* nothing queued */
}

/* The applet registers kind/id (its INS 02); the result byte must be 00. */
static void enrol(seam_card *card, uint8_t kind, uint8_t id) {
    assert_int_equal(SEND(card, 0x81, 0x02, kind, id, 0x00), 0x9000);
    assert_int_equal(response[0], 0x00);
}

static void envelopes_reach_the_registered_applet_S2_S5(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    enrol(f->card, 0, 0x07); /* menu item 7 */
    enrol(f->card, 1, 0x05); /* idle screen available */
    enrol(f->card, 2, 0x01); /* timer 1 */
    /* menu selection: keypad to UICC, item 7 (S5: the user) */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81,
                          0x90, 0x01, 0x07),
                     0x9000);
    assert_int_equal(seen(f->card, 2), 1);
    assert_int_equal(seen(f->card, 3), 0x07);
    /* event download, idle screen (S2) */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD6, 0x07, 0x99, 0x01, 0x05, 0x82,
                          0x02, 0x02, 0x81),
                     0x9000);
    assert_int_equal(seen(f->card, 4), 1);
    assert_int_equal(seen(f->card, 5), 0x05);
    /* an event nobody registered: 9000, nobody called */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD6, 0x07, 0x99, 0x01, 0x03, 0x82,
                          0x02, 0x82, 0x81),
                     0x9000);
    assert_int_equal(seen(f->card, 4), 1);
    /* timer expiration, timer 1 */
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81,
                          0xA4, 0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x01),
                     0x9000);
    assert_int_equal(seen(f->card, 6), 1);
    assert_int_equal(seen(f->card, 7), 0x01);
    /* another instance cannot take item 7 or timer 1; it may share the event */
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x02, 0x00),
        0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x02, 0x00, 0x07, 0x00), 0x9000);
    assert_int_equal(response[0], 0xFC);
    assert_int_equal(SEND(f->card, 0x81, 0x02, 0x02, 0x01, 0x00), 0x9000);
    assert_int_equal(response[0], 0xFC);
    enrol(f->card, 1, 0x05);
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD6, 0x07, 0x99, 0x01, 0x05, 0x82,
                          0x02, 0x02, 0x81),
                     0x9000);
    assert_int_equal(seen(f->card, 4), 1); /* instance 02, selected now */
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01, 0x00),
        0x9000);
    assert_int_equal(seen(f->card, 4), 2); /* and 01, loaded for it */
}

static void malformed_or_unrouted_envelope_changes_nothing_S2(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    enrol(f->card, 0, 0x07);
    /* template length past the data; no device identities; an unknown template (D1) */
    REFUSED(f->card, 0x6A80, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x08, 0x82, 0x02, 0x01, 0x81, 0x90,
            0x01, 0x07);
    REFUSED(f->card, 0x6A80, 0x80, 0xC2, 0x00, 0x00, 0x05, 0xD3, 0x03, 0x90, 0x01, 0x07);
    REFUSED(f->card, 0x6A80, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD1, 0x07, 0x82, 0x02, 0x83, 0x81, 0x90,
            0x01, 0x07);
    /* a timer value of 2 bytes; timer 9 */
    REFUSED(f->card, 0x6A80, 0x80, 0xC2, 0x00, 0x00, 0x0D, 0xD7, 0x0B, 0x82, 0x02, 0x82, 0x81, 0xA4,
            0x01, 0x01, 0xA5, 0x02, 0x00, 0x00);
    REFUSED(f->card, 0x6A80, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4,
            0x01, 0x09, 0xA5, 0x03, 0x00, 0x00, 0x01);
    /* item 8 and timer 2 nobody registered */
    REFUSED(f->card, 0x6A88, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90,
            0x01, 0x08);
    REFUSED(f->card, 0x6A88, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4,
            0x01, 0x02, 0xA5, 0x03, 0x00, 0x00, 0x01);
    REFUSED(f->card, 0x6A86, 0x80, 0xC2, 0x00, 0x01, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90,
            0x01, 0x07);
    REFUSED(f->card, 0x6700, 0x80, 0xC2, 0x00, 0x00);
    assert_int_equal(seen(f->card, 2), 0);
}

static void envelope_while_a_command_awaits_its_answer_is_busy_9300(void **state) {
    fixture *f = *state;
    fetched_card(f);
    enrol(f->card, 0, 0x07);
    REFUSED(f->card, 0x9300, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90,
            0x01, 0x07);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81,
                          0x90, 0x01, 0x07),
                     0x9000);
    assert_int_equal(seen(f->card, 2), 1);
}

static void terminal_profile_rules(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    REFUSED(f->card, 0x6700, 0x80, 0x10, 0x00, 0x00);
    REFUSED(f->card, 0x6A86, 0x80, 0x10, 0x00, 0x01, 0x01, 0xFF);
    REFUSED(f->card, 0x6882, 0x84, 0x10, 0x00, 0x00, 0x01, 0xFF);
    assert_int_equal(seen(f->card, 8), 0);
    /* RAM for the power-up: a reset forgets the profile and the queue */
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x911C);
    power_on(f->card);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x00), 0x6985);
}

static void a_deleted_instance_leaves_no_command_or_registration_behind(void **state) {
    fixture *f = *state;
    toolkit_card(f);
    enrol(f->card, 0, 0x07);
    enrol(f->card, 2, 0x01);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* deselected */
    assert_int_equal(delete_aid(f->card, tk_cls, sizeof tk_cls, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000); /* not 91xx: nothing waits */
    REFUSED(f->card, 0x6985, 0x80, 0x12, 0x00, 0x00, 0x00);
    REFUSED(f->card, 0x6A88, 0x80, 0xC2, 0x00, 0x00, 0x09, 0xD3, 0x07, 0x82, 0x02, 0x01, 0x81, 0x90,
            0x01, 0x07);
    /* a new instance under the same AID inherits nothing: item 7 is free */
    assert_int_equal(install(f->card, 0x0C, tk_pkg, tk_cls, tk_cls, NULL, 0), 0x9000);
    REFUSED(f->card, 0x6A88, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0xD7, 0x0C, 0x82, 0x02, 0x82, 0x81, 0xA4,
            0x01, 0x01, 0xA5, 0x03, 0x00, 0x00, 0x01);
}

/* ---- a power cut in the middle of a proactive session (X4) ---------------------------- */

static uint16_t op_terminal_response(seam_card *card) {
    return SEND(card, TERMINAL_RESPONSE_OK);
}

static void power_cut_mid_session_leaves_before_or_after_and_no_queue(void **state) {
    fixture *f = *state;
    /* the answer writes the applet's memory: before or after it, never between */
    assert_true(sweep_every_write(f, fetched_card, op_terminal_response) > 0);
    /* after a cut the queue is gone: a power-up starts with none */
    fresh_image(f);
    fetched_card(f);
    assert_int_equal(SEND(f->card, 0x81, 0x01, 0x01, 0x00, 0x00), 0x9000); /* busy */
    reopen(f);
    assert_int_equal(SEND(f->card, PROFILE), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x12, 0x00, 0x00, 0x00), 0x6985);
    assert_int_equal(SEND(f->card, TERMINAL_RESPONSE_OK), 0x6985);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(whole_loop_profile_command_fetch_response_S7_S9, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_next_command_is_announced_by_the_terminal_response,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_short_le_fetches_the_command_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(mismatched_terminal_response_changes_nothing_S7, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(malformed_terminal_response_changes_nothing_S7, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fetch_and_terminal_response_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_limits_one_per_applet_four_in_all, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_command_queues_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(terminal_response_reaches_an_unselected_applet_S7, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            an_applet_that_traps_on_its_answer_does_not_block_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(envelopes_reach_the_registered_applet_S2_S5, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(malformed_or_unrouted_envelope_changes_nothing_S2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(envelope_while_a_command_awaits_its_answer_is_busy_9300,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(terminal_profile_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(a_queue_call_outside_the_applets_memory_traps_X3, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_deleted_instance_leaves_no_command_or_registration_behind,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_mid_session_leaves_before_or_after_and_no_queue,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
