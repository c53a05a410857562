/*
 * The later report of a synchronization (toolkit_int.h; issue 14, S7;
 * docs/terminal.md "The result later"). A REQUEST SYNCHRONIZATION
 * with wants result 02 is checked as any other (toolkit_sync.c: 30, 32, 36
 * before anything runs), then answered at once: 00 and the reference (its
 * command number). The synchronization runs when the proactive session has
 * ended, with the same engine, and its outcome goes to the card as ENVELOPE
 * D6 { 82 02 82 81, 99 01 E2, 83 result, [counts], reference }.
 *
 * States of the report (tk->report.state; with a state file, also its row):
 *
 *   NONE     nothing pending (no row); a request with 02 -> TO_RUN (another
 *            while one is pending: 20, one at a time)
 *   TO_RUN   accepted: the row is written BEFORE the TERMINAL RESPONSE (a
 *            failed write answers 20 instead); at the session's end
 *            (toolkit.c) it runs -> TO_SEND (a failure is a report too: 20
 *            and the class, never a hang)
 *   TO_SEND  the envelope is built and written to the row; the card's 9000 /
 *            91xx -> NONE (row deleted); its 9300 (a command awaits its
 *            answer) stays; 6A88 (nobody holds E2) or another refusal -> NONE
 *            (row deleted, logged); the link's error stays: the report is sent
 *            after the next TERMINAL PROFILE
 *
 * With a state (seam_terminal_tk_set_state) a report belongs to one card: its
 * row is keyed by the CIN read at power-up before the profile (SELECT ISD,
 * GET DATA 45, as the admin session does). A terminal started afresh (or
 * killed) finds the row at that card's next profile and goes on: TO_RUN runs
 * the synchronization again then sends, TO_SEND sends; another card gets
 * nothing and the row stays. Killed after the card took the envelope but
 * before the row was deleted, the report is sent again (at least once; the
 * card matches it by its reference). A card whose CIN cannot be read keeps
 * the report in RAM only, as without a state: a stop loses it.
 */
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "terminal_int.h"
#include "toolkit_int.h"

/* Writes the pending report to the state (when it has one and the card is known). */
static seam_err persist(seam_terminal_tk *tk) {
    const tk_report *r = &tk->report;
    seam_terminal_report row;
    if (!r->st || !r->cin[0])
        return SEAM_OK;
    memset(&row, 0, sizeof row);
    row.state =
        r->state == TK_REPORT_TO_SEND ? SEAM_TERMINAL_REPORT_TO_SEND : SEAM_TERMINAL_REPORT_TO_RUN;
    row.number = r->details.number;
    row.type = r->details.type;
    row.qualifier = r->details.qualifier;
    memcpy(row.objects, r->objects, r->objects_len);
    row.objects_len = r->objects_len;
    if (r->state == TK_REPORT_TO_SEND) {
        memcpy(row.envelope, r->envelope, r->envelope_len);
        row.envelope_len = r->envelope_len;
    }
    return seam_terminal_state_report_put(r->st, r->cin, &row);
}

/* The report is settled (delivered or refused): NONE, and its row deleted. */
static void settle(seam_terminal_tk *tk) {
    tk->report.state = TK_REPORT_NONE;
    if (tk->report.st && tk->report.cin[0] &&
        seam_terminal_state_report_delete(tk->report.st, tk->report.cin))
        tk_log(tk, "report settled but its row could not be deleted", NULL, 0);
}

seam_err tk_report_card(seam_terminal_tk *tk) {
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    tk_report *r = &tk->report;
    uint8_t resp[258];
    size_t len = 0;
    seam_terminal_report row;
    bool had_cin = r->cin[0] != 0;
    char cin[SEAM_TERMINAL_CIN_HEX] = "";
    uint8_t cin_bytes[SEAM_TERMINAL_CIN_MAX];
    size_t cin_len = 0;
    seam_err e =
        seam_gp_link_transmit(tk->link, select_isd, sizeof select_isd, resp, sizeof resp, &len);
    if (!e)
        e = term_card_cin(tk->link, cin);
    if (e && e != SEAM_ERR_TERMINAL_NO_CIN)
        return e;
    memcpy(r->cin, cin, sizeof cin); /* "" when the card has no readable CIN */
    if (!r->cin[0]) {
        tk_log(tk, "card without a readable CIN: its report is kept in RAM only", NULL, 0);
        if (had_cin)
            r->state = TK_REPORT_NONE; /* the previous card's report is in its row */
        return SEAM_OK;
    }
    if (seam_hex_decode(r->cin, strlen(r->cin), cin_bytes, sizeof cin_bytes, &cin_len))
        cin_len = 0; /* cannot happen: term_card_cin wrote it */
    tk_log(tk, "card CIN", cin_bytes, cin_len);
    r->state = TK_REPORT_NONE;
    e = seam_terminal_state_report_get(r->st, r->cin, &row);
    if (e == SEAM_ERR_NOT_FOUND)
        return SEAM_OK;
    if (e) { /* unreadable: logged; the card is not owed a report we cannot read */
        tk_log(tk, "the card's report could not be read from the state", NULL, 0);
        return SEAM_OK;
    }
    r->details.number = row.number;
    r->details.type = row.type;
    r->details.qualifier = row.qualifier;
    memcpy(r->objects, row.objects, row.objects_len);
    r->objects_len = row.objects_len;
    memcpy(r->envelope, row.envelope, row.envelope_len);
    r->envelope_len = row.envelope_len;
    r->state = row.state == SEAM_TERMINAL_REPORT_TO_SEND ? TK_REPORT_TO_SEND : TK_REPORT_TO_RUN;
    tk_log(tk,
           row.state == SEAM_TERMINAL_REPORT_TO_SEND ? "report found, to send; reference"
                                                     : "report found, to run; reference",
           &row.number, 1);
    return SEAM_OK;
}

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
    if (persist(tk) != SEAM_OK) { /* not kept: not acknowledged */
        r->state = TK_REPORT_NONE;
        a->general = SEAM_TK_RES_TERMINAL_BUSY;
        a->additional[0] = 0x00;
        a->additional_len = 1;
        tk_log(tk, "synchronization refused: the state could not keep it", NULL, 0);
        return;
    }
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
        settle(tk); /* cannot happen: every field is in range */
        return;
    }
    r->state = TK_REPORT_TO_SEND;
    if (persist(tk)) /* the row stays TO_RUN: after a restart it runs again */
        tk_log(tk, "report built but not written to the state", NULL, 0);
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
    settle(tk);
}
