/*
 * The proactive session of the card application toolkit (proactive.h;
 * docs/toolkit.md "The card"). States of the queue, for the terminal:
 *
 *   NO PROFILE  --TERMINAL PROFILE-->  IDLE (nothing queued: 9000)
 *   IDLE        --an applet queues-->  PENDING (9000 answers become 91xx)
 *   PENDING     --FETCH-->             FETCHED (queue[0] out; no 91xx, FETCH 6985,
 *                                      ENVELOPE 9300 until its TERMINAL RESPONSE)
 *   FETCHED     --TERMINAL RESPONSE of queue[0]'s number and type-->
 *                                      PENDING when more is queued, else IDLE
 *   any         --power-up or reset--> NO PROFILE, nothing queued; of the
 *                                      registrations only the menu items and
 *                                      events the image keeps (registry.c)
 *   NO PROFILE  --TERMINAL PROFILE with any kept-->  PENDING (the card's own
 *                                      SET UP MENU, SET UP EVENT LIST first)
 *
 * Applets may queue in any state (at most one command each, queued or fetched,
 * TOOLKIT_QUEUE_MAX in all); before the profile nothing is indicated or fetched
 * (TS 102 221: the terminal profile comes first).
 */
#include "proactive.h"

#include <string.h>

#include "registry.h"

#include "seam/toolkit.h"
#include "seam/util.h"

bool toolkit_fetchable(const card_toolkit *t) {
    return t->profiled && t->queued > 0 && !t->fetched;
}

uint16_t toolkit_status(const card_toolkit *t, uint16_t sw) {
    if (sw != 0x9000u || !toolkit_fetchable(t))
        return sw;
    return (uint16_t)(0x9100u | t->queue[0].len);
}

bool toolkit_proactive_valid(const uint8_t *command, size_t len) {
    seam_tk_command c;
    return len <= TOOLKIT_COMMAND_MAX && seam_tk_command_decode(command, len, &c) == SEAM_OK &&
           c.source == SEAM_TK_DEV_UICC && c.details.number != 0x00 && c.details.number != 0xFF;
}

void toolkit_command_details(const toolkit_command *command, uint8_t *number, uint8_t *type) {
    seam_tk_details d = {0};
    (void)seam_tk_command_peek_details(command->bytes, command->len, &d);
    *number = d.number;
    *type = d.type;
}

static bool same_aid(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

int32_t toolkit_queue(card_toolkit *t, const uint8_t *aid, size_t aid_len, const uint8_t *command,
                      size_t len) {
    unsigned applets = 0;
    if (aid_len == 0 || aid_len > REGISTRY_AID_MAX || !toolkit_proactive_valid(command, len))
        return SEAM_TOOLKIT_ERR_MALFORMED;
    for (unsigned i = 0; i < t->queued; i++) {
        if (same_aid(t->queue[i].aid, t->queue[i].aid_len, aid, aid_len))
            return SEAM_TOOLKIT_ERR_BUSY;   /* one outstanding command per applet */
        applets += t->queue[i].aid_len > 0; /* the card's own do not count */
    }
    if (applets >= TOOLKIT_QUEUE_MAX)
        return SEAM_TOOLKIT_ERR_FULL;
    toolkit_command *q = &t->queue[t->queued++];
    memset(q, 0, sizeof *q);
    memcpy(q->aid, aid, aid_len);
    q->aid_len = (uint8_t)aid_len;
    memcpy(q->bytes, command, len);
    q->len = (uint8_t)len;
    return 0;
}

void toolkit_dequeue(card_toolkit *t, toolkit_command *done) {
    *done = t->queue[0];
    size_t slots = sizeof t->queue / sizeof t->queue[0];
    memmove(&t->queue[0], &t->queue[1], (slots - 1) * sizeof t->queue[0]);
    memset(&t->queue[slots - 1], 0, sizeof t->queue[0]);
    t->queued--;
    t->fetched = false;
}

/* What one instance may hold of kind (docs/applet-abi.md "Limits"). */
static unsigned instance_max(uint32_t kind) {
    return kind == SEAM_TOOLKIT_MENU_ITEM ? TOOLKIT_INSTANCE_MENU_MAX
           : kind == SEAM_TOOLKIT_EVENT   ? TOOLKIT_INSTANCE_EVENT_MAX
                                          : TOOLKIT_INSTANCE_TIMER_MAX;
}

/* Ids each kind takes, and whether one instance holds an id alone. */
static bool enrol_id_ok(uint32_t kind, uint32_t id, bool *exclusive) {
    *exclusive = kind != SEAM_TOOLKIT_EVENT;
    switch (kind) {
    case SEAM_TOOLKIT_MENU_ITEM:
        return id >= 1 && id <= 0xFF;
    case SEAM_TOOLKIT_EVENT:
        return id <= 0xFF;
    case SEAM_TOOLKIT_TIMER:
        return id >= 1 && id <= 8;
    default:
        return false;
    }
}

int32_t toolkit_enrol(card_toolkit *t, const uint8_t *aid, size_t aid_len, uint32_t kind,
                      uint32_t id, bool on) {
    bool exclusive;
    unsigned held = 0; /* of kind, by this instance */
    if (aid_len == 0 || aid_len > REGISTRY_AID_MAX || !enrol_id_ok(kind, id, &exclusive))
        return SEAM_TOOLKIT_ERR_DENIED;
    for (unsigned i = 0; i < t->enrolled; i++) {
        toolkit_enrolment *r = &t->enrolment[i];
        bool mine = same_aid(r->aid, r->aid_len, aid, aid_len);
        held += mine && r->kind == kind;
        if (r->kind != kind || r->id != id)
            continue;
        if (mine && !on) { /* released: the last one takes its place */
            *r = t->enrolment[--t->enrolled];
            memset(&t->enrolment[t->enrolled], 0, sizeof *r);
            return 0;
        }
        if (mine)
            return 0;
        if (exclusive && on)
            return SEAM_TOOLKIT_ERR_DENIED; /* another instance's item or timer */
    }
    if (!on)
        return 0;
    if (held >= instance_max(kind))
        return SEAM_TOOLKIT_ERR_LIMIT; /* its own share: the others keep theirs */
    if (t->enrolled >= TOOLKIT_ENROL_MAX)
        return SEAM_TOOLKIT_ERR_FULL;
    toolkit_enrolment *r = &t->enrolment[t->enrolled++];
    memset(r, 0, sizeof *r);
    r->kind = (uint8_t)kind;
    r->id = (uint8_t)id;
    memcpy(r->aid, aid, aid_len);
    r->aid_len = (uint8_t)aid_len;
    return 0;
}

const toolkit_enrolment *toolkit_enrolled(const card_toolkit *t, uint8_t kind, uint8_t id,
                                          size_t *from) {
    for (size_t i = *from; i < t->enrolled; i++) {
        if (t->enrolment[i].kind == kind && t->enrolment[i].id == id) {
            *from = i + 1;
            return &t->enrolment[i];
        }
    }
    *from = t->enrolled;
    return NULL;
}

/* ---- the applet runtime's callbacks (card_int.h: card_toolkit_host) ---------------- */

static int32_t host_proactive(void *ctx, const uint8_t *aid, size_t aid_len, const uint8_t *command,
                              size_t len) {
    card_toolkit *t = &((seam_card *)ctx)->toolkit;
    int32_t result = toolkit_queue(t, aid, aid_len, command, len);
    if (result == 0) /* SET UP MENU names the instance's items: kept for the next power-up */
        toolkit_menu_text_take(t, aid, aid_len, command, len);
    return result;
}

static size_t host_profile(void *ctx, uint8_t *out, size_t cap) {
    const card_toolkit *t = &((seam_card *)ctx)->toolkit;
    size_t len = t->profiled ? t->profile_len : 0;
    memcpy(out, t->profile, len < cap ? len : cap);
    return len;
}

static int32_t host_enrol(void *ctx, const uint8_t *aid, size_t aid_len, uint32_t kind, uint32_t id,
                          bool on) {
    return toolkit_enrol(&((seam_card *)ctx)->toolkit, aid, aid_len, kind, id, on);
}

void card_toolkit_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                       seam_applet_toolkit_host *out) {
    memset(out, 0, sizeof *out);
    out->ctx = c;
    out->aid_len = aid_len <= sizeof out->aid ? aid_len : sizeof out->aid;
    memcpy(out->aid, aid, out->aid_len);
    out->proactive = host_proactive;
    out->profile = host_profile;
    out->enrol = host_enrol;
}

seam_err card_toolkit_forget(seam_card *c, const uint8_t *aid, size_t aid_len) {
    card_toolkit *t = &c->toolkit;
    toolkit_record none = {.aid_len = (uint8_t)aid_len};
    if (aid_len == 0 || aid_len > REGISTRY_AID_MAX)
        return SEAM_OK;
    memcpy(none.aid, aid, aid_len);
    unsigned kept = 0;
    for (unsigned i = 0; i < t->queued; i++) {
        bool out = i == 0 && t->fetched;
        if (out || !same_aid(t->queue[i].aid, t->queue[i].aid_len, aid, aid_len))
            t->queue[kept++] = t->queue[i];
    }
    for (unsigned i = kept; i < t->queued; i++)
        memset(&t->queue[i], 0, sizeof t->queue[i]);
    t->queued = (uint8_t)kept;
    kept = 0;
    bool told = false; /* it held something the terminal was told of */
    for (unsigned i = 0; i < t->enrolled; i++) {
        const toolkit_enrolment *r = &t->enrolment[i];
        if (!same_aid(r->aid, r->aid_len, aid, aid_len))
            t->enrolment[kept++] = *r;
        else
            told |=
                r->kind == SEAM_TOOLKIT_EVENT || (r->kind == SEAM_TOOLKIT_MENU_ITEM && r->text_len);
    }
    for (unsigned i = kept; i < t->enrolled; i++)
        memset(&t->enrolment[i], 0, sizeof t->enrolment[i]);
    t->enrolled = (uint8_t)kept;
    if (told && t->profiled) /* the terminal's menu and events without it, at once */
        toolkit_announce(t, true);
    return toolkit_record_write(c->nvm, &none); /* no record: the image keeps nothing */
}
