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

/* Executes proactive command cmd[0..len) and puts the TERMINAL RESPONSE into
   out[0..cap) (cap at least SEAM_TK_MAX_VALUE); never fails: a command that cannot be
   executed gets the result that says why (30, 31, 32, 36). */
void tk_execute(seam_terminal_tk *tk, const uint8_t *cmd, size_t len, uint8_t *out, size_t cap,
                size_t *out_len);

#endif
