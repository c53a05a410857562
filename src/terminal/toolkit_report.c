/*
 * The later report of a synchronization (toolkit_int.h; issue 14, S7;
 * docs/terminal.md "REQUEST SYNCHRONIZATION"). A REQUEST SYNCHRONIZATION
 * with wants result 02 is checked as any other (toolkit_sync.c: 30, 32, 36
 * before anything runs), then answered at once: 00 and the reference (its
 * command number). The synchronization runs when the proactive session has
 * ended, with the same engine, and its outcome goes to the card as ENVELOPE
 * D6 { 82 02 82 81, 99 01 E2, 83 result, [counts], reference }.
 *
 * States of the report (tk->report.state):
 *
 *   NONE     nothing pending; a request with 02 -> TO_RUN (another while one
 *            is pending: 20, one at a time)
 *   TO_RUN   accepted; at the session's end (toolkit.c) it runs -> TO_SEND
 *            (a failure is a report too: 20 and the class, never a hang)
 *   TO_SEND  the envelope is built; the card's 9000 / 91xx -> NONE; its 9300
 *            (a command awaits its answer) stays; 6A88 (nobody holds E2) or
 *            another refusal -> NONE (dropped, logged); the link's error stays:
 *            the report is sent after the next TERMINAL PROFILE
 *
 * The state is the terminal's RAM (the seam_terminal_tk object): a terminal
 * that is stopped loses a report not yet sent. It does not tell one card
 * from another: the card behind the link at the next profile gets it.
 */
#include <string.h>

#include "seam/toolkit.h"
#include "toolkit_int.h"

void tk_report_accept(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    tk_report *r = &tk->report;
    a->additional_len = 0;
    a->extra_len = 0;
    if (r->state != TK_REPORT_NONE || c->objects_len > sizeof r->objects) {
        a->general = SEAM_TK_RES_TERMINAL_BUSY; /* one report at a time */
        a->additional[0] = 0x00;                /* no specific cause (TS 102 223 §8.12.2) */
        a->additional_len = 1;
        return;
    }
    memcpy(r->objects, c->objects, c->objects_len);
    r->objects_len = c->objects_len;
    r->details = c->details;
    r->state = TK_REPORT_TO_RUN;
    a->general = SEAM_TK_RES_OK;
    if (seam_tk_sync_reference_put(c->details.number, a->extra, sizeof a->extra, &a->extra_len))
        a->extra_len = 0; /* cannot happen: 4 bytes */
    tk_log(tk, "synchronization accepted, reported later; reference", &c->details.number, 1);
}

/* Runs the kept request through tk_request_sync and turns its answer into the report. */
static void run(seam_terminal_tk *tk) {
    tk_report *r = &tk->report;
    seam_tk_command c;
    tk_answer a;
    seam_tk_sync_report rep;
    memset(&c, 0, sizeof c);
    c.details = r->details;
    c.source = SEAM_TK_DEV_UICC;
    c.dest = SEAM_TK_DEV_TERMINAL;
    c.objects = r->objects;
    c.objects_len = r->objects_len;
    memset(&a, 0, sizeof a);
    r->run_now = true;
    tk_request_sync(tk, &c, &a);
    r->run_now = false;
    memset(&rep, 0, sizeof rep);
    rep.reference = r->details.number;
    if (a.general == SEAM_TK_RES_OK &&
        seam_tk_sync_counts_decode(a.extra, a.extra_len, &rep.counts) == SEAM_OK) {
        rep.general = SEAM_TK_RES_OK;
    } else {
        /* 20 and its class; anything else (the capability withdrawn meanwhile: 30) is a
           synchronization this terminal did not run: unsupported */
        rep.general = SEAM_TK_RES_TERMINAL_BUSY;
        rep.failure = a.general == SEAM_TK_RES_TERMINAL_BUSY && a.additional_len == 1 &&
                              a.additional[0] >= SEAM_TK_SYNC_FAIL_UNREACHABLE &&
                              a.additional[0] <= SEAM_TK_SYNC_FAIL_LOCAL
                          ? a.additional[0]
                          : SEAM_TK_SYNC_FAIL_UNSUPPORTED;
    }
    if (seam_tk_envelope_sync_result(&rep, r->envelope, sizeof r->envelope, &r->envelope_len)) {
        r->state = TK_REPORT_NONE; /* cannot happen: every field is in range */
        return;
    }
    r->state = TK_REPORT_TO_SEND;
}

bool tk_report_ready(seam_terminal_tk *tk) {
    if (tk->report.state == TK_REPORT_TO_RUN)
        run(tk);
    return tk->report.state == TK_REPORT_TO_SEND;
}

void tk_report_answered(seam_terminal_tk *tk, uint16_t sw) {
    uint8_t status[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    if (sw == 0x9300u) {
        tk_log(tk, "report kept: the card is busy, status", status, 2);
        return;
    }
    if (sw != 0x9000u && (sw & 0xFF00u) != 0x9100u)
        tk_log(tk, "report dropped: the card refused it, status", status, 2);
    tk->report.state = TK_REPORT_NONE;
}
