/*
 * Inside the terminal's toolkit: the terminal's state (toolkit.c) and the
 * execution of one proactive command (toolkit_exec.c). Not public.
 */
#ifndef SEAM_TERMINAL_TOOLKIT_INT_H
#define SEAM_TERMINAL_TOOLKIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/terminal.h"
#include "seam/toolkit.h"

#define TK_ITEM_TEXT 48u /* bytes of an item's text kept, NUL included */

typedef struct {
    bool running;
    uint64_t start_ms, duration_ms;
} tk_timer;

typedef struct {
    uint8_t id;
    char text[TK_ITEM_TEXT];
} tk_item;

/* The later report of a REQUEST SYNCHRONIZATION that asked for it (toolkit_report.c). */
typedef enum {
    TK_REPORT_NONE = 0, /* nothing pending */
    TK_REPORT_TO_RUN,   /* accepted (00 + reference): runs when the proactive session ends */
    TK_REPORT_TO_SEND,  /* ran: the E2 envelope waits for the card (after its next profile) */
} tk_report_state;

typedef struct {
    tk_report_state state;
    seam_tk_details details;            /* the request's */
    uint8_t objects[SEAM_TK_MAX_VALUE]; /* the request's objects, to run it */
    size_t objects_len;
    uint8_t envelope[SEAM_TK_MAX_MESSAGE]; /* TO_SEND: the report */
    size_t envelope_len;
    bool sending; /* toolkit.c is sending reports: the envelope's loop does not re-enter */
    bool run_now; /* tk_request_sync runs the request (the later run), never defers it */
    char cin[SEAM_TERMINAL_CIN_HEX]; /* the card's CIN read at power-up ("": unknown) */
    seam_terminal_state *st;         /* where reports are kept (NULL: RAM only) */
} tk_report;

struct seam_terminal_tk {
    const seam_gp_link *link;
    seam_terminal_tk_config cfg;
    seam_terminal_tk_status status;
    tk_item menu[SEAM_TERMINAL_TK_MENU_MAX];
    size_t menu_count;
    uint8_t events[32]; /* bit ev: the card asked for event ev */
    tk_timer timers[SEAM_TERMINAL_TK_TIMERS];
    uint64_t last_poll_ms;
    seam_terminal_tk_sync sync; /* run NULL: no REQUEST SYNCHRONIZATION */
    bool sync_off;              /* the capability withdrawn (seam_terminal_tk_capabilities) */
    uint8_t profile[SEAM_TK_PROFILE_LEN]; /* the TERMINAL PROFILE the card has */
    tk_report report;                     /* a synchronization to report later (S7) */
};

/* Writes "toolkit: what XX XX ..." to the configured log. */
void tk_log(seam_terminal_tk *tk, const char *what, const uint8_t *data, size_t len);

/* Seconds as a TS 102 223 timer value (hh mm ss, swapped BCD; capped at 99:59:59). */
void tk_timer_value(uint64_t seconds, uint8_t out[3]);

/* A TERMINAL RESPONSE being built: result, additional information, extra objects. */
typedef struct {
    uint8_t general;
    uint8_t additional[1];
    size_t additional_len;
    uint8_t extra[SEAM_TK_MAX_VALUE];
    size_t extra_len;
} tk_answer;

/* Runs REQUEST SYNCHRONIZATION c (toolkit_sync.c) and fills *a: 30 without an engine (or
   with it withdrawn: seam_terminal_tk_capabilities) or for
   WSP, 36/32 for missing/bad objects, 00 with the counts, 20 with the failure class. */
void tk_request_sync(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a);

/* REQUEST SYNCHRONIZATION c asked for its result later (toolkit_report.c): keeps it to run
   after the session and fills *a with 00 and the reference (the command number); 20 when
   a report is pending already (one at a time). */
void tk_report_accept(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a);

/* The proactive session ended (the card's last answer not 91xx): runs an accepted
   synchronization (same engine, tk_request_sync) and builds its report; true when a
   report (tk->report.envelope) waits to be sent. */
bool tk_report_ready(seam_terminal_tk *tk);

/* The card answered the report with sw: 9000 / 91xx delivered, 9300 (busy) kept for the
   next session end, anything else (6A88: nobody holds E2) dropped. */
void tk_report_answered(seam_terminal_tk *tk, uint16_t sw);

/* Power-up with a state (seam_terminal_tk_set_state), before the profile: reads the card's
   CIN (SELECT ISD, GET DATA 45) and takes the report this card is owed from the state (none:
   NONE); a card without a readable CIN keeps what RAM has unless the previous card had one.
   The link's errors. */
seam_err tk_report_card(seam_terminal_tk *tk);

/* Sends ENVELOPE env[0..len) (80 C2) and runs the loop. Errors: the link's. */
seam_err tk_envelope(seam_terminal_tk *tk, const uint8_t *env, size_t len);

/* Executes proactive command cmd[0..len) and puts the TERMINAL RESPONSE into
   out[0..cap) (cap at least SEAM_TK_MAX_VALUE); never fails: a command that cannot be
   executed gets the result that says why (30, 31, 32, 36). */
void tk_execute(seam_terminal_tk *tk, const uint8_t *cmd, size_t len, uint8_t *out, size_t cap,
                size_t *out_len);

#endif
