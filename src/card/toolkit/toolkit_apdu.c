/*
 * The card application toolkit's commands (toolkit_apdu.h; TS 102 221 §10,
 * TS 102 223; docs/toolkit.md "The card"). Each checks its header, then its
 * data, before it changes anything: a refusal leaves the card as it was (and
 * transmit.c puts the toolkit's RAM back for any refused command).
 *
 *   TERMINAL PROFILE  6882 secure messaging in CLA, 6A86 P1 P2 not 00 00,
 *                     6700 no data or more than TOOLKIT_PROFILE_MAX bytes
 *   FETCH             6882, 6A86, 6700 with data; 6985 nothing may go out
 *                     (no profile yet, nothing queued, or the fetched command
 *                     still awaits its TERMINAL RESPONSE)
 *   TERMINAL RESPONSE 6882, 6A86, 6700 no data; 6985 nothing fetched; 6A80
 *                     malformed (objects, command details, device identities
 *                     82 -> 81, result); 6A88 not the fetched command's number
 *                     and type
 *   ENVELOPE          6882, 6A86, 6700 no data; 6A80 malformed or not D3 /
 *                     D6 / D7; 6A81 in CARD_LOCKED; 9300 while a fetched
 *                     command awaits its TERMINAL RESPONSE; 6A88 a menu item
 *                     or timer nobody registered
 *
 * An applet's failure in its toolkit entry point (a trap, a refusal) is its
 * own: its memory and what it queued or registered in that call go back, and
 * the terminal gets 9000 (the terminal can do nothing about it, and a broken
 * applet must not block the proactive session of the others).
 */
#include "toolkit_apdu.h"

#include <string.h>

#include "proactive.h"
#include "card/content/applet_channel.h"
#include "card/iso/sw.h"
#include "seam/util.h"

#define SW_TOOLKIT_BUSY 0x9300u /* TS 102 221 §10.2.1.2 */

#define TAG_MENU_SELECTION    0xD3u
#define TAG_EVENT_DOWNLOAD    0xD6u
#define TAG_TIMER_EXPIRATION  0xD7u
#define TAG_COMMAND_DETAILS   0x01u
#define TAG_DEVICE_IDENTITIES 0x02u
#define TAG_RESULT            0x03u
#define TAG_ITEM_IDENTIFIER   0x10u
#define TAG_EVENT_LIST        0x19u
#define TAG_TIMER_IDENTIFIER  0x24u
#define TAG_TIMER_VALUE       0x25u
#define DEVICE_UICC           0x81u
#define DEVICE_TERMINAL       0x82u

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

/* True when data[0..len) is COMPREHENSION-TLV objects to its end. */
static bool objects_ok(const uint8_t *data, size_t len) {
    size_t pos = 0;
    seam_ctlv o;
    while (pos < len)
        if (seam_ctlv_next(data, len, &pos, &o) != SEAM_OK)
            return false;
    return true;
}

/* The object of tag in data[0..len) when its length is at least min and at most max. */
static bool object_of(const uint8_t *data, size_t len, uint16_t tag, size_t min, size_t max,
                      seam_ctlv *o) {
    return seam_ctlv_find(data, len, tag, o) == SEAM_OK && o->len >= min && o->len <= max;
}

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
    r->sw = SEAM_SW_SUCCESS;
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

seam_err toolkit_terminal_response(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    card_toolkit *t = &c->toolkit;
    const uint8_t *data = cmd->apdu.data;
    size_t len = cmd->apdu.nc;
    seam_ctlv details, devices, result;
    toolkit_command done;
    uint8_t number, type;
    (void)ch;
    if (!header_ok(cmd, true, r))
        return SEAM_OK;
    if (!t->fetched) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (!objects_ok(data, len) || !object_of(data, len, TAG_COMMAND_DETAILS, 3, 3, &details) ||
        !object_of(data, len, TAG_DEVICE_IDENTITIES, 2, 2, &devices) ||
        !object_of(data, len, TAG_RESULT, 1, len, &result) || devices.value[0] != DEVICE_TERMINAL ||
        devices.value[1] != DEVICE_UICC) {
        r->sw = SEAM_SW_WRONG_DATA;
        return SEAM_OK;
    }
    toolkit_command_details(&t->queue[0], &number, &type);
    if (details.value[0] != number || details.value[1] != type) {
        r->sw = SEAM_SW_DATA_NOT_FOUND; /* an answer to another command */
        return SEAM_OK;
    }
    toolkit_dequeue(t, &done);
    if (cmd->lifecycle == CARD_LOCKED) { /* applets run no more; the session goes on */
        r->sw = SEAM_SW_SUCCESS;
        return SEAM_OK;
    }
    return to_applet(c, done.aid, done.aid_len, SEAM_APPLET_TERMINAL_RESPONSE, data, len, r);
}

/* The envelope's BER-TLV: its tag, and its value at *value[0..*value_len); false when
   it is not one template filling the data exactly. */
static bool envelope_template(const uint8_t *data, size_t len, uint8_t *tag, const uint8_t **value,
                              size_t *value_len) {
    size_t header;
    if (len < 2)
        return false;
    if (data[1] < 0x80) {
        header = 2;
        *value_len = data[1];
    } else if (data[1] == 0x81 && len >= 3 && data[2] >= 0x80) {
        header = 3;
        *value_len = data[2];
    } else {
        return false;
    }
    *tag = data[0];
    *value = data + header;
    return header + *value_len == len;
}

seam_err toolkit_envelope(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const uint8_t *data = cmd->apdu.data, *value;
    size_t len = cmd->apdu.nc, value_len, from = 0;
    seam_ctlv devices, o;
    uint8_t tag, kind, id;
    seam_applet_toolkit_entry entry;
    const toolkit_enrolment *who;
    seam_err e = SEAM_OK;
    (void)ch;
    if (!header_ok(cmd, true, r))
        return SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!envelope_template(data, len, &tag, &value, &value_len) || !objects_ok(value, value_len) ||
        !object_of(value, value_len, TAG_DEVICE_IDENTITIES, 2, 2, &devices) ||
        devices.value[1] != DEVICE_UICC)
        return SEAM_OK;
    if (tag == TAG_MENU_SELECTION && object_of(value, value_len, TAG_ITEM_IDENTIFIER, 1, 1, &o)) {
        kind = SEAM_TOOLKIT_MENU_ITEM;
        entry = SEAM_APPLET_MENU_SELECTION;
    } else if (tag == TAG_EVENT_DOWNLOAD && object_of(value, value_len, TAG_EVENT_LIST, 1, 1, &o)) {
        kind = SEAM_TOOLKIT_EVENT;
        entry = SEAM_APPLET_EVENT_DOWNLOAD;
    } else if (tag == TAG_TIMER_EXPIRATION &&
               object_of(value, value_len, TAG_TIMER_IDENTIFIER, 1, 1, &o) && o.value[0] >= 1 &&
               o.value[0] <= 8 &&
               object_of(value, value_len, TAG_TIMER_VALUE, 3, 3, &(seam_ctlv){0})) {
        kind = SEAM_TOOLKIT_TIMER;
        entry = SEAM_APPLET_TIMER_EXPIRATION;
    } else {
        return SEAM_OK; /* malformed, or an envelope the card does not take */
    }
    id = o.value[0];
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
    size_t n = 0;
    while (n < TOOLKIT_ENROL_MAX && (who = toolkit_enrolled(&c->toolkit, kind, id, &from)) != NULL)
        owners[n++] = *who;
    if (n == 0) { /* an event nobody asked for is no error of the terminal's */
        r->sw = kind == SEAM_TOOLKIT_EVENT ? SEAM_SW_SUCCESS : SEAM_SW_DATA_NOT_FOUND;
        return SEAM_OK;
    }
    r->sw = SEAM_SW_SUCCESS;
    for (size_t i = 0; i < n && !e; i++)
        e = to_applet(c, owners[i].aid, owners[i].aid_len, entry, data, len, r);
    return e;
}
