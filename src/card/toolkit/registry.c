/*
 * The toolkit registry across power cycles (registry.h; docs/toolkit.md "The
 * registry"). RAM (card_toolkit.enrolment) is the working copy that every
 * registration changes; at the end of a command that succeeded, the menu items
 * and events of each instance whose set changed are written as one
 * TOOLKIT_REGISTRATION record (store/toolkit_records.h), inside the command's
 * nvm transaction (X4), and read back at power-up. Timers stay RAM: TS 102 223
 * §6.6.21, a timer does not survive a power cycle of the terminal.
 *
 * After TERMINAL PROFILE the card tells the terminal the menu and the event list
 * itself (a UICC's toolkit framework does, TS 102 241): no application needs
 * to be selected for the terminal to learn them.
 */
#include "registry.h"

#include <string.h>

#include "proactive.h"
#include "seam/toolkit.h"
#include "seam/util.h"

/* Command numbers of the card's own commands. */
#define CARD_MENU_NUMBER   0x01u
#define CARD_EVENTS_NUMBER 0x02u
/* The title of the card's menu (the alpha identifier of SET UP MENU). */
static const char card_menu_title[] = "seam";

static bool same_aid(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* The kept part (menu items, events) of instance aid's registrations in t. */
static void record_of(const card_toolkit *t, const uint8_t *aid, size_t aid_len,
                      toolkit_record *r) {
    memset(r, 0, sizeof *r);
    memcpy(r->aid, aid, aid_len);
    r->aid_len = (uint8_t)aid_len;
    for (unsigned i = 0; i < t->enrolled; i++) {
        const toolkit_enrolment *e = &t->enrolment[i];
        if (!same_aid(e->aid, e->aid_len, aid, aid_len))
            continue;
        if (e->kind == SEAM_TOOLKIT_MENU_ITEM && r->items < TOOLKIT_RECORD_ITEMS_MAX) {
            toolkit_record_item *it = &r->item[r->items++];
            it->id = e->id;
            it->text_len = e->text_len;
            memcpy(it->text, e->text, e->text_len);
        } else if (e->kind == SEAM_TOOLKIT_EVENT && r->events < TOOLKIT_RECORD_EVENTS_MAX) {
            r->event[r->events++] = e->id;
        }
    }
}

static bool records_equal(const toolkit_record *a, const toolkit_record *b) {
    if (a->items != b->items || a->events != b->events ||
        memcmp(a->event, b->event, a->events) != 0)
        return false;
    for (unsigned i = 0; i < a->items; i++)
        if (a->item[i].id != b->item[i].id || a->item[i].text_len != b->item[i].text_len ||
            memcmp(a->item[i].text, b->item[i].text, a->item[i].text_len) != 0)
            return false;
    return true;
}

/* Writes instance aid's record when what the command changed differs from before. */
static seam_err persist_one(seam_card *c, const card_toolkit *before, const uint8_t *aid,
                            size_t aid_len) {
    toolkit_record was, now;
    record_of(before, aid, aid_len, &was);
    record_of(&c->toolkit, aid, aid_len, &now);
    return records_equal(&was, &now) ? SEAM_OK : toolkit_record_write(c->nvm, &now);
}

seam_err card_toolkit_persist(seam_card *c) {
    const card_toolkit *before = &c->saved.toolkit, *t = &c->toolkit;
    seam_err e = SEAM_OK;
    if (!c->saved.running ||
        (before->enrolled == t->enrolled &&
         memcmp(before->enrolment, t->enrolment, t->enrolled * sizeof t->enrolment[0]) == 0))
        return SEAM_OK; /* nothing registered or released */
    /* every instance that held or holds something; one twice is written once at most */
    for (unsigned i = 0; !e && i < t->enrolled; i++)
        e = persist_one(c, before, t->enrolment[i].aid, t->enrolment[i].aid_len);
    for (unsigned i = 0; !e && i < before->enrolled; i++)
        e = persist_one(c, before, before->enrolment[i].aid, before->enrolment[i].aid_len);
    return e;
}

/* ---- power-up -------------------------------------------------------------------------- */

static void add(card_toolkit *t, const toolkit_record *r, uint8_t kind, uint8_t id,
                const uint8_t *text, uint8_t text_len) {
    if (t->enrolled >= TOOLKIT_ENROL_MAX)
        return; /* more than this version holds: kept in the image, not used */
    toolkit_enrolment *e = &t->enrolment[t->enrolled++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->id = id;
    memcpy(e->aid, r->aid, r->aid_len);
    e->aid_len = r->aid_len;
    e->text_len = text_len;
    if (text_len)
        memcpy(e->text, text, text_len);
}

static seam_err load_one(void *ctx, const toolkit_record *r) {
    card_toolkit *t = ctx;
    for (unsigned i = 0; i < r->items; i++)
        add(t, r, SEAM_TOOLKIT_MENU_ITEM, r->item[i].id, r->item[i].text, r->item[i].text_len);
    for (unsigned i = 0; i < r->events; i++)
        add(t, r, SEAM_TOOLKIT_EVENT, r->event[i], NULL, 0);
    return SEAM_OK;
}

seam_err card_toolkit_load(seam_card *c) {
    card_toolkit *t = &c->toolkit;
    seam_err e;
    memset(t->enrolment, 0, sizeof t->enrolment);
    t->enrolled = 0;
    e = toolkit_records_each(c->nvm, load_one, t);
    if (e) { /* none rather than half */
        memset(t->enrolment, 0, sizeof t->enrolment);
        t->enrolled = 0;
    }
    return e;
}

/* ---- the menu's text, the card's own commands ------------------------------------------ */

void toolkit_menu_text_take(card_toolkit *t, const uint8_t *aid, size_t aid_len,
                            const uint8_t *command, size_t len) {
    seam_tk_command cmd;
    seam_ctlv obj;
    size_t pos = 0;
    if (seam_tk_command_decode(command, len, &cmd) != SEAM_OK ||
        cmd.details.type != SEAM_TK_CMD_SET_UP_MENU)
        return;
    while (pos < cmd.objects_len &&
           seam_ctlv_next(cmd.objects, cmd.objects_len, &pos, &obj) == SEAM_OK) {
        if (obj.tag != SEAM_TK_TAG_ITEM || obj.len < 1 || obj.len - 1 > TOOLKIT_MENU_TEXT_MAX)
            continue;
        for (unsigned i = 0; i < t->enrolled; i++) {
            toolkit_enrolment *e = &t->enrolment[i];
            if (e->kind == SEAM_TOOLKIT_MENU_ITEM && e->id == obj.value[0] &&
                same_aid(e->aid, e->aid_len, aid, aid_len)) {
                memset(e->text, 0, sizeof e->text);
                e->text_len = (uint8_t)(obj.len - 1);
                memcpy(e->text, obj.value + 1, e->text_len);
            }
        }
    }
}

/* The card's SET UP MENU into out: the items with a text, as many as fit; *items how many. */
static bool card_menu(const card_toolkit *t, uint8_t *out, size_t *len, unsigned *count) {
    uint8_t objects[TOOLKIT_COMMAND_MAX];
    size_t n = 0;
    unsigned items = 0;
    seam_tk_details d = {CARD_MENU_NUMBER, SEAM_TK_CMD_SET_UP_MENU, 0x00};
    (void)seam_ctlv_put(SEAM_TK_TAG_ALPHA_IDENTIFIER, true, (const uint8_t *)card_menu_title,
                        sizeof card_menu_title - 1, objects, sizeof objects, &n);
    for (unsigned i = 0; i < t->enrolled; i++) {
        const toolkit_enrolment *e = &t->enrolment[i];
        uint8_t item[1 + TOOLKIT_MENU_TEXT_MAX];
        size_t was = n;
        if (e->kind != SEAM_TOOLKIT_MENU_ITEM || e->text_len == 0)
            continue;
        item[0] = e->id;
        memcpy(item + 1, e->text, e->text_len);
        if (seam_ctlv_put(SEAM_TK_TAG_ITEM, true, item, 1u + e->text_len, objects, sizeof objects,
                          &n) != SEAM_OK ||
            seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, TOOLKIT_COMMAND_MAX,
                                  len) != SEAM_OK) {
            n = was; /* a menu the terminal can take whole: the rest is left out */
            break;
        }
        items++;
    }
    *count = items;
    if (items == 0) /* none: the menu's removal (8F 00, TS 102 223 6.6.7) */
        return seam_tk_build_set_up_menu(CARD_MENU_NUMBER, 0x00, card_menu_title, NULL, 0, out,
                                         TOOLKIT_COMMAND_MAX, len) == SEAM_OK;
    return seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, TOOLKIT_COMMAND_MAX,
                                 len) == SEAM_OK;
}

/* The card's SET UP EVENT LIST into out: every event some instance registered, once (none:
   the list's removal); *counted how many. seam's events that are not the list's
   (seam_tk_event_listed: E1, made by the card; E2, sent when a request asked for it) are
   left out: a terminal refuses a whole list that holds an event it does not know. */
static bool card_events(const card_toolkit *t, uint8_t *out, size_t *len, size_t *counted) {
    uint8_t events[TOOLKIT_ENROL_MAX];
    size_t count = 0;
    for (unsigned i = 0; i < t->enrolled; i++) {
        const toolkit_enrolment *e = &t->enrolment[i];
        bool seen = false;
        for (size_t j = 0; j < count; j++)
            seen |= events[j] == e->id;
        if (e->kind == SEAM_TOOLKIT_EVENT && seam_tk_event_listed(e->id) && !seen)
            events[count++] = e->id;
    }
    *counted = count;
    return seam_tk_build_set_up_event_list(CARD_EVENTS_NUMBER, events, count, out,
                                           TOOLKIT_COMMAND_MAX, len) == SEAM_OK;
}

/* Puts command[0..len) of the card's at queue position at (room is reserved for two). */
static void queue_card(card_toolkit *t, unsigned at, const uint8_t *command, size_t len) {
    memmove(&t->queue[at + 1], &t->queue[at], (t->queued - at) * sizeof t->queue[0]);
    memset(&t->queue[at], 0, sizeof t->queue[at]);
    memcpy(t->queue[at].bytes, command, len);
    t->queue[at].len = (uint8_t)len;
    t->queued++;
}

void toolkit_announce(card_toolkit *t, bool removal) {
    uint8_t command[TOOLKIT_COMMAND_MAX];
    size_t len = 0, events = 0;
    unsigned items = 0;
    unsigned at = t->fetched ? 1u : 0u, kept = at;
    for (unsigned i = at; i < t->queued; i++) /* the card's earlier ones go */
        if (t->queue[i].aid_len > 0)
            t->queue[kept++] = t->queue[i];
    for (unsigned i = kept; i < t->queued; i++)
        memset(&t->queue[i], 0, sizeof t->queue[i]);
    t->queued = (uint8_t)kept;
    if (card_events(t, command, &len, &events) && (events || removal) &&
        toolkit_proactive_valid(command, len))
        queue_card(t, at, command, len);
    if (card_menu(t, command, &len, &items) && (items || removal) &&
        toolkit_proactive_valid(command, len))
        queue_card(t, at, command, len); /* the menu first, then the events */
}
