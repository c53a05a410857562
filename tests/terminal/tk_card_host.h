/*
 * A toolkit terminal (seam_terminal_tk) on the in-process card of
 * tests/card/card_host.h, shared by test_toolkit_card.c and
 * test_devmgmt_terminal.c: a test clock, the unattended UI reading answers and
 * writing its display log to log_text, and APPLET(), which sends an APDU
 * through the terminal (its proactive loop runs on 91xx).
 */
#ifndef SEAM_TESTS_TK_CARD_HOST_H
#define SEAM_TESTS_TK_CARD_HOST_H

#include "card/card_host.h"
#include "seam/terminal.h"
#include "seam/toolkit.h"

typedef struct {
    uint64_t ms;
} test_clock;

static inline uint64_t clock_ms(void *ctx) {
    return ((test_clock *)ctx)->ms;
}

typedef struct {
    seam_gp_link link;
    test_clock clock;
    seam_terminal_unattended ui;
    FILE *answers, *log;
    char log_text[4096];
    seam_terminal_tk *tk;
} terminal;

/* Opens t on card: answering GET INKEY from answers, powered up (TERMINAL PROFILE sent). */
static inline void terminal_open(terminal *t, seam_card *card, const char *answers) {
    seam_terminal_tk_config cfg;
    memset(t, 0, sizeof *t);
    assert_int_equal(seam_link_card(card, &t->link), SEAM_OK);
    t->answers = fmemopen((void *)answers, strlen(answers), "r");
    t->log = fmemopen(t->log_text, sizeof t->log_text - 1, "w");
    t->ui.answers = t->answers;
    t->ui.log = t->log;
    memset(&cfg, 0, sizeof cfg);
    cfg.ui = seam_terminal_ui_unattended(&t->ui);
    cfg.clock.now_ms = clock_ms;
    cfg.clock.ctx = &t->clock;
    assert_int_equal(seam_terminal_tk_new(&t->link, &cfg, &t->tk), SEAM_OK);
    assert_int_equal(seam_terminal_tk_power_up(t->tk), SEAM_OK);
}

/* Frees what terminal_open made. */
static inline void finish(terminal *t) {
    seam_terminal_tk_free(t->tk);
    seam_gp_link_close(&t->link);
    fclose(t->answers);
    fclose(t->log);
}

/* Sends apdu to the applet (channel 1) through the terminal, which runs the loop on 91xx. */
static inline uint16_t to_applet(terminal *t, const uint8_t *apdu, size_t len) {
    assert_int_equal(
        seam_terminal_tk_transmit(t->tk, apdu, len, response, sizeof response, &response_len),
        SEAM_OK);
    assert_true(response_len >= 2);
    return (uint16_t)(response[response_len - 2] << 8 | response[response_len - 1]);
}

#define APPLET(t, ...)                                                                             \
    to_applet(t, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

#endif
