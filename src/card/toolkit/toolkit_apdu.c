/*
 * The card application toolkit's commands (toolkit_apdu.h; TS 102 221 §10,
 * TS 102 223; docs/toolkit.md "The card"). Each checks its header, then its
 * data, before it changes anything: a refusal leaves the card as it was (and
 * transmit.c puts the toolkit's RAM back for any refused command).
 *
 *   TERMINAL PROFILE  6882 secure messaging in CLA, 6A86 P1 P2 not 00 00,
 *                     6700 no data or more than TOOLKIT_PROFILE_MAX bytes;
 *                     kept, then the card's menu and event list queued, then
 *                     seam's "terminal profile arrived" event (E1) given to
 *                     every instance holding registrations
 *   FETCH             6882, 6A86, 6700 with data; 6985 nothing may go out
 *                     (no profile yet, nothing queued, or the fetched command
 *                     still awaits its TERMINAL RESPONSE)
 *   TERMINAL RESPONSE 6882, 6A86, 6700 no data; 6985 nothing fetched; 6A80
 *                     malformed (objects, command details, device identities
 *                     82 -> 81, result); 6A88 not the fetched command's number
 *                     and type
 *   STATUS            TS 102 221 §11.1.2 (80 F2 P1 P2, P1 00..02; GP GET
 *                     STATUS has P1 80/40/20/10 and keeps its row): 6882;
 *                     6A86 P1 03 or P2 not 01 / 0C; 6700 with data; P2 0C
 *                     answers no data, P2 01 the DF name (84 Lc AID of what
 *                     the channel has selected). Changes nothing; its 9000
 *                     becomes 91xx when a proactive command is pending, which
 *                     is why a terminal's POLL INTERVAL polls with it
 *   ENVELOPE          6882, 6A86, 6700 no data; 6A80 malformed or not D3 /
 *                     D6 / D7, or D6 of the card's own event E1; 6A81 in
 *                     CARD_LOCKED; 9300 while a fetched
 *                     command awaits its TERMINAL RESPONSE; 6A88 a menu item
 *                     or timer nobody registered, or a synchronization
 *                     result (E2) nobody holds (the terminal then drops its
 *                     report: nobody is waiting for it)
 *
 * An applet's failure in its toolkit entry point (a trap, a refusal) is its
 * own: its memory and what it queued or registered in that call go back, and
 * the terminal gets 9000 (the terminal can do nothing about it, and a broken
 * applet must not block the proactive session of the others).
 */
#include "toolkit_apdu.h"

#include <string.h>

#include "proactive.h"
#include "registry.h"
#include "card/content/applet_channel.h"
#include "card/iso/sw.h"
#include "seam/toolkit.h"
#include "seam/util.h"

#define SW_TOOLKIT_BUSY 0x9300u /* TS 102 221 §10.2.1.2 */

uint16_t card_toolkit_status(const seam_card *c, uint16_t sw) {
    return toolkit_status(&c->toolkit, sw);
}

/* The header checks all four commands share: r->sw set and false when refused. */
static bool header_ok(const card_command *cmd, bool data, reply *r) {
    seam_apdu_class cls = {0};
    (void)seam_apdu_class_decode(cmd->apdu.cla, &cls);
    if (cls.sm != SEAM_APDU_SM_NONE)
        r->sw = SEAM_SW_SM_NOT_SUPPORTED;
    else if (cmd->apdu.p1 != 0 || cmd->apdu.p2 != 0)
        r->sw = SEAM_SW_WRONG_P1P2;
    else if (data ? cmd->apdu.nc == 0 : cmd->apdu.nc != 0)
        r->sw = SEAM_SW_WRONG_LENGTH;
    else
        return true;
    return false;
}

static seam_err profile_download(seam_card *c, const card_command *cmd, reply *r);

seam_err toolkit_terminal_profile(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    card_toolkit *t = &c->toolkit;
    (void)ch;
    if (!header_ok(cmd, true, r))
        return SEAM_OK;
    if (cmd->apdu.nc > TOOLKIT_PROFILE_MAX) {
        r->sw = SEAM_SW_WRONG_LENGTH;
        return SEAM_OK;
    }
    memset(t->profile, 0, sizeof t->profile);
    memcpy(t->profile, cmd->apdu.data, cmd->apdu.nc);
    t->profile_len = (uint8_t)cmd->apdu.nc;
    t->profiled = true;
    toolkit_announce(t, false); /* the menu and the event list, without a SELECT (S1, S5) */
    return profile_download(c, cmd, r);
}

seam_err toolkit_status_command(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    seam_apdu_class cls = {0};
    (void)seam_apdu_class_decode(cmd->apdu.cla, &cls);
    if (cls.sm != SEAM_APDU_SM_NONE)
        r->sw = SEAM_SW_SM_NOT_SUPPORTED;
    else if (cmd->apdu.p1 > 0x02u || (cmd->apdu.p2 != 0x01u && cmd->apdu.p2 != 0x0Cu))
        r->sw = SEAM_SW_WRONG_P1P2; /* P2 00 (the FCP) is not kept by seam's card */
    else if (cmd->apdu.nc != 0)
        r->sw = SEAM_SW_WRONG_LENGTH;
    else {
        if (cmd->apdu.p2 == 0x01u) { /* the DF name: 84 Lc AID */
            c->data[0] = 0x84u;
            c->data[1] = ch->selected_len;
            memcpy(c->data + 2, ch->selected, ch->selected_len);
            r->len = 2u + ch->selected_len;
        }
        r->sw = SEAM_SW_SUCCESS;
    }
    return SEAM_OK;
}

seam_err toolkit_fetch(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    card_toolkit *t = &c->toolkit;
    (void)ch;
    if (!header_ok(cmd, false, r))
        return SEAM_OK;
    if (!toolkit_fetchable(t)) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    memcpy(c->data, t->queue[0].bytes, t->queue[0].len);
    r->len = t->queue[0].len;
    t->fetched = true;
    r->sw = SEAM_SW_SUCCESS;
    return SEAM_OK;
}

/* Runs entry of instance aid with message; contains its failure (the header). */
static seam_err to_applet(seam_card *c, const uint8_t *aid, size_t aid_len,
                          seam_applet_toolkit_entry entry, const uint8_t *message, size_t len,
                          reply *r) {
    card_toolkit before = c->toolkit;
    seam_err e = content_toolkit(c, aid, aid_len, entry, message, len, r);
    if (!e && !sw_success(r->sw)) { /* its failure stays its own */
        seam_log(SEAM_LOG_INFO, "card: toolkit applet refused with %04X", r->sw);
        c->toolkit = before;
        r->len = 0;
    }
    r->sw = SEAM_SW_SUCCESS;
    return e;
}

/* After TERMINAL PROFILE: every instance holding registrations (a menu item, an event: what
   the image keeps) gets seam's "terminal profile arrived" event in event_download, once,
   in the order it first registered; each one's failure is its own (to_applet). */
static seam_err profile_download(seam_card *c, const card_command *cmd, reply *r) {
    uint8_t message[16];
    size_t len = 0;
    toolkit_enrolment holders[TOOLKIT_ENROL_MAX];
    size_t n = 0;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_SUCCESS;
    if (cmd->lifecycle == CARD_LOCKED || /* applets run no more */
        seam_tk_envelope_event(SEAM_TK_EVENT_PROFILE_DOWNLOAD, SEAM_TK_DEV_TERMINAL, NULL, 0,
                               message, sizeof message, &len) != SEAM_OK)
        return SEAM_OK;
    /* taken before any runs (a call may register or release) */
    for (unsigned i = 0; i < c->toolkit.enrolled; i++) {
        const toolkit_enrolment *en = &c->toolkit.enrolment[i];
        bool seen = en->kind == SEAM_TOOLKIT_TIMER;
        for (size_t j = 0; j < n && !seen; j++)
            seen = holders[j].aid_len == en->aid_len &&
                   memcmp(holders[j].aid, en->aid, en->aid_len) == 0;
        if (!seen)
            holders[n++] = *en;
    }
    for (size_t i = 0; i < n && !e; i++)
        e = to_applet(c, holders[i].aid, holders[i].aid_len, SEAM_APPLET_EVENT_DOWNLOAD, message,
                      len, r);
    r->len = 0;
    return e;
}

seam_err toolkit_terminal_response(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    card_toolkit *t = &c->toolkit;
    seam_tk_response answer;
    toolkit_command done;
    uint8_t number, type;
    (void)ch;
    if (!header_ok(cmd, true, r))
        return SEAM_OK;
    if (!t->fetched) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (seam_tk_response_decode(cmd->apdu.data, cmd->apdu.nc, &answer) != SEAM_OK ||
        answer.source != SEAM_TK_DEV_TERMINAL || answer.dest != SEAM_TK_DEV_UICC) {
        r->sw = SEAM_SW_WRONG_DATA;
        return SEAM_OK;
    }
    toolkit_command_details(&t->queue[0], &number, &type);
    if (answer.details.number != number || answer.details.type != type) {
        r->sw = SEAM_SW_DATA_NOT_FOUND; /* an answer to another command */
        return SEAM_OK;
    }
    toolkit_dequeue(t, &done);
    if (done.aid_len == 0 || cmd->lifecycle == CARD_LOCKED) { /* the card's own command, or
                                                                 applets run no more */
        r->sw = SEAM_SW_SUCCESS;
        return SEAM_OK;
    }
    return to_applet(c, done.aid, done.aid_len, SEAM_APPLET_TERMINAL_RESPONSE, cmd->apdu.data,
                     cmd->apdu.nc, r);
}

seam_err toolkit_envelope(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    seam_tk_envelope env;
    uint8_t kind, id;
    seam_applet_toolkit_entry entry;
    const toolkit_enrolment *who;
    size_t from = 0, n = 0;
    seam_err e = SEAM_OK;
    (void)ch;
    if (!header_ok(cmd, true, r))
        return SEAM_OK;
    if (seam_tk_envelope_decode(cmd->apdu.data, cmd->apdu.nc, &env) != SEAM_OK) {
        r->sw = SEAM_SW_WRONG_DATA; /* malformed, or an envelope the card does not take */
        return SEAM_OK;
    }
    if (env.kind == SEAM_TK_MENU_SELECTION) {
        kind = SEAM_TOOLKIT_MENU_ITEM;
        entry = SEAM_APPLET_MENU_SELECTION;
        id = env.item_id;
    } else if (env.kind == SEAM_TK_EVENT_DOWNLOAD) {
        if (env.event == SEAM_TK_EVENT_PROFILE_DOWNLOAD) { /* the card's own, not the terminal's */
            r->sw = SEAM_SW_WRONG_DATA;
            return SEAM_OK;
        }
        kind = SEAM_TOOLKIT_EVENT;
        entry = SEAM_APPLET_EVENT_DOWNLOAD;
        id = env.event;
    } else {
        kind = SEAM_TOOLKIT_TIMER;
        entry = SEAM_APPLET_TIMER_EXPIRATION;
        id = env.timer_id;
    }
    if (cmd->lifecycle == CARD_LOCKED) {
        r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED;
        return SEAM_OK;
    }
    if (c->toolkit.fetched) {
        r->sw = SW_TOOLKIT_BUSY;
        return SEAM_OK;
    }
    /* who is called: menu items and timers have one owner, events any number; taken
       before any runs (a call may register or release) */
    toolkit_enrolment owners[TOOLKIT_ENROL_MAX];
    while (n < TOOLKIT_ENROL_MAX && (who = toolkit_enrolled(&c->toolkit, kind, id, &from)) != NULL)
        owners[n++] = *who;
    if (n == 0) { /* an event nobody asked for is no error of the terminal's; a report is
                     the answer to a request, and the terminal learns nobody waits for it */
        r->sw = kind == SEAM_TOOLKIT_EVENT && id != SEAM_TK_EVENT_SYNC_RESULT
                    ? SEAM_SW_SUCCESS
                    : SEAM_SW_DATA_NOT_FOUND;
        return SEAM_OK;
    }
    r->sw = SEAM_SW_SUCCESS;
    for (size_t i = 0; i < n && !e; i++)
        e = to_applet(c, owners[i].aid, owners[i].aid_len, entry, cmd->apdu.data, cmd->apdu.nc, r);
    return e;
}
