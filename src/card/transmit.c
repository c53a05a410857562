/*
 * One command, from the bytes received to the bytes sent (seam_card_transmit):
 * the APDU and its logical channel, GET RESPONSE on that channel, the nvm
 * transaction around card_dispatch (dispatch.c), the RAM put back when a write or
 * the commit fails, secure messaging of the response and its delivery in
 * parts (docs/card.md, "One command").
 *
 * States of one command:
 *
 *   RECEIVED --malformed, reserved class, closed channel--> ANSWERED (6700,
 *            6E00, 6881; nothing changes, no channel's waiting response moves)
 *   RECEIVED --GET RESPONSE (ISO class C0)--> ANSWERED (the channel's next part;
 *            6882 / 6884 with secure messaging / ISO chaining, 6985 with
 *            nothing waiting)
 *   RECEIVED --RAM saved, nvm begin--> RUNNING --card_dispatch--> PREPARED
 *            (response wrapped; what the output cannot take now has storage)
 *   PREPARED --success SW, commit--> COMMITTED --> DELIVERED
 *   PREPARED --any other SW, rollback--> ROLLED BACK --> DELIVERED
 *   RUNNING / PREPARED --a write, the commit, the wrap or an allocation fails-->
 *            FAILED: rollback, the saved RAM put back, 6F00 (6A84 when the card
 *            or the disk is full) --> DELIVERED
 *   any --power cut--> DEAD (the card is powered off; reopen the image)
 *
 * Invariants:
 *  (1) Whatever leaves the card describes what was committed: everything that
 *      can fail (the wrap, storage for the rest of a long response) is done
 *      before the commit, and delivering cannot fail after it.
 *  (2) FAILED leaves the card as before the command: the nvm rolled back, each
 *      channel as saved (selection and applet with its committed memory,
 *      committed page count, STORE DATA sequence, GET STATUS continuation,
 *      chain, waiting response), the load in progress as saved. Two
 *      exceptions, both what the host expects: the command's own secure
 *      channel session keeps the MAC chaining value and counter its
 *      C-MAC check moved (INITIALIZE UPDATE and EXTERNAL AUTHENTICATE end
 *      it, as any refusal of theirs does), and a chain whose last block
 *      failed is over. Transient applet buffers are not transactional.
 *  (3) A response longer than Ne, or than the caller's output can take, goes
 *      out in parts: 61xx, the rest waits for GET RESPONSE on the same channel
 *      in storage of its own; any other command on that channel drops it,
 *      commands on other channels do not.
 */
#include <stdlib.h>
#include <string.h>

#include "card/iso/apdu.h"
#include "card_int.h"
#include "card/content/applet_channel.h"
#include "card/content/applet_service.h"
#include "card/content/card_cache.h"
#include "card/toolkit/proactive.h"
#include "card/toolkit/toolkit_apdu.h"
#include "seam/card.h"
#include "seam/util.h"
#include "card/iso/sw.h"

/* ---- the RAM saved around a command -------------------------------------------------- */

bool card_retire(seam_card *c, seam_wasm_module *module, seam_applet *applet, const uint8_t *aid,
                 size_t aid_len, uint32_t pages) {
    card_saved *s = &c->saved;
    if (!s->running)
        return false;
    /* A command takes at most one applet off each channel; were the list ever full,
       leaking one is safer than freeing what a saved channel may take back. */
    if (s->retired_count < sizeof s->retired / sizeof s->retired[0]) {
        card_retired *r = &s->retired[s->retired_count++];
        *r = (card_retired){.module = module, .applet = applet, .pages = pages};
        r->aid_len = aid_len <= sizeof r->aid ? (uint8_t)aid_len : 0;
        memcpy(r->aid, aid, r->aid_len);
    }
    return true;
}

/* Saves what the command on channel chno may change (a is its raw header). */
static seam_err ram_save(seam_card *c, const seam_apdu *a, uint8_t chno) {
    card_saved *s = &c->saved;
    /* a LOAD block that is not the last only appends to the load: its length is enough */
    bool appends = a->ins == 0xE8 && !(a->p1 & 0x80) && chno == c->load.channel;
    memcpy(s->channels, c->channels, sizeof s->channels);
    s->toolkit = c->toolkit;
    s->load = c->load;
    s->load_bytes = NULL;
    s->retired_count = 0;
    if (c->load.active && c->load.len && !appends) {
        s->load_bytes = malloc(c->load.len);
        if (!s->load_bytes)
            return SEAM_ERR_NOMEM;
        memcpy(s->load_bytes, c->load.bytes, c->load.len);
    }
    s->running = true;
    return SEAM_OK;
}

/* Wipes the saved copy (it holds session keys). */
static void ram_forget(seam_card *c) {
    card_saved *s = &c->saved;
    free(s->load_bytes);
    s->load_bytes = NULL;
    s->retired_count = 0;
    s->running = false;
    seam_secure_zero(s->channels, sizeof s->channels);
    seam_secure_zero(&s->load, sizeof s->load);
}

/* The command ended (committed or refused): what it took off channels goes, kept in RAM
   for the next SELECT of its instance when the command committed (card_cache.h). */
static void ram_end(seam_card *c, bool committed) {
    card_saved *s = &c->saved;
    if (!committed) /* a refused command queued or registered nothing */
        c->toolkit = s->toolkit;
    card_service_end(c, committed); /* applets it served go back too (the nvm did) */
    for (size_t i = 0; i < s->retired_count; i++) {
        card_retired *r = &s->retired[i];
        if (committed && r->aid_len) {
            applet_park(c, r->aid, r->aid_len, r->pages, r->module, r->applet);
        } else {
            seam_applet_free(r->applet);
            module_release(c, r->module);
        }
    }
    for (unsigned i = 0; i < CHANNELS; i++) {
        if (!c->channels[i].open) { /* closed: what waited on it goes with it */
            chain_abort(&c->channels[i].chain);
            card_response_drop(&c->channels[i]);
        }
    }
    ram_forget(c);
}

static bool saved_holds(const card_saved *s, const seam_applet *applet) {
    for (unsigned i = 0; i < CHANNELS; i++)
        if (s->channels[i].applet == applet)
            return true;
    return false;
}

/* Puts the load in progress back as it was before the command. */
static void load_put_back(seam_card *c) {
    card_saved *s = &c->saved;
    bool appended =
        s->load.active && c->load.active && !s->load_bytes && s->load.len <= c->load.len;
    if (appended && s->load.len) { /* a LOAD block: cut its bytes off again */
        c->load.len = s->load.len;
        c->load.next_block = s->load.next_block;
        return;
    }
    if (s->load.active && !c->load.active && !s->load_bytes && s->load.len)
        return; /* ended by a block that found no memory: it stays ended */
    free(c->load.bytes);
    c->load = s->load;
    c->load.bytes = s->load_bytes;
    c->load.cap = s->load_bytes ? s->load.len : 0;
    if (!s->load.active)
        memset(&c->load, 0, sizeof c->load);
    s->load_bytes = NULL;
}

/* The command failed (a write, the commit, the wrap): everything as before it (invariant 2). */
static void ram_restore(seam_card *c, uint8_t chno, const card_outcome *how) {
    card_saved *s = &c->saved;
    channel *ch = &c->channels[chno];
    scp03_session session = ch->session;
    s->running = false;
    for (unsigned i = 0; i < CHANNELS; i++) { /* applets the command attached */
        if (c->channels[i].applet && !saved_holds(s, c->channels[i].applet)) {
            seam_applet_free(c->channels[i].applet);
            module_release(c, c->channels[i].module);
        }
    }
    for (size_t i = 0; i < s->retired_count; i++) { /* and those it took off and no one had */
        if (!saved_holds(s, s->retired[i].applet)) {
            seam_applet_free(s->retired[i].applet);
            module_release(c, s->retired[i].module);
        }
    }
    memcpy(c->channels, s->channels, sizeof c->channels);
    c->toolkit = s->toolkit;
    card_service_end(c, true);       /* the channels are as saved: only the marks go */
    if (how->sm == CARD_SM_PASSED) { /* in step with the host: it moved too */
        ch->session = session;
        ch->session.response_pending = false;
    } else if (how->sm == CARD_SM_HANDSHAKE) {
        scp03_end_session(&ch->session);
    }
    if (how->chain_end)
        chain_abort(&ch->chain);
    seam_secure_zero(&session, sizeof session);
    load_put_back(c);
    ram_forget(c);
    for (unsigned i = 0; i < CHANNELS; i++) /* memory back to the committed pages */
        if (c->channels[i].open && c->channels[i].applet)
            content_resync(c, &c->channels[i]);
}

/* ---- responses ------------------------------------------------------------------------ */

void card_response_drop(channel *ch) {
    free(ch->remainder.storage);
    seam_apdu_remainder_init(&ch->remainder, NULL, 0);
}

/* A response ready to leave: data[0..len) and sw, the first `first` bytes now. */
typedef struct {
    const uint8_t *data;
    size_t len;
    uint16_t sw;
    size_t first;
    uint8_t *rest; /* malloc'd storage for data[first..len), NULL when it all goes now */
} response_plan;

/* The most data bytes one answer may carry: Ne (256 without Le) and the output's room. */
static size_t part_limit(size_t ne, size_t out_size) {
    size_t room = out_size - 2;
    if (ne == 0)
        ne = SEAM_APDU_MAX_SHORT_NE;
    return ne < room ? ne : room;
}

/* Wraps the response (secure messaging) and reserves storage for what must wait. */
static seam_err response_prepare(seam_card *c, channel *ch, const seam_apdu *a,
                                 const card_outcome *how, const reply *r, size_t out_size,
                                 response_plan *p) {
    seam_err e = SEAM_OK;
    *p = (response_plan){.data = c->data, .len = r->len, .sw = r->sw};
    if (how->secured) {
        e = scp03_wrap_response(&ch->session, c->data, r->len, r->sw, c->wrapped, sizeof c->wrapped,
                                &p->len);
        p->data = c->wrapped;
    }
    if (e)
        return e;
    p->first = p->len < part_limit(a->ne, out_size) ? p->len : part_limit(a->ne, out_size);
    if (p->len > p->first) {
        p->rest = malloc(p->len - p->first);
        if (!p->rest)
            e = SEAM_ERR_NOMEM;
    }
    return e;
}

/* Sends the first part; the rest waits on ch. Cannot fail (invariant 1). */
static void response_deliver(channel *ch, response_plan *p, uint8_t *out, size_t out_size,
                             size_t *out_len) {
    card_response_drop(ch); /* what waited from the previous command */
    if (p->rest)
        seam_apdu_remainder_init(&ch->remainder, p->rest, p->len - p->first);
    p->rest = NULL;
    (void)seam_apdu_remainder_send(&ch->remainder, p->data, p->len, p->sw, p->first, out, out_size,
                                   out_len);
}

/* GET RESPONSE on ch: its next part (6985 when nothing waits). */
static seam_err response_next(channel *ch, const seam_apdu *a, uint8_t *out, size_t out_size,
                              size_t *out_len) {
    size_t limit = part_limit(a->ne, out_size);
    if (limit == 0 && seam_apdu_remainder_pending(&ch->remainder)) {
        *out_len = 3; /* not even one byte fits: nothing taken */
        return SEAM_ERR_BUFFER_SMALL;
    }
    seam_err e = seam_apdu_remainder_get(&ch->remainder, limit, out, out_size, out_len);
    if (!e && !seam_apdu_remainder_pending(&ch->remainder))
        card_response_drop(ch);
    return e;
}

static seam_err respond_sw(uint16_t sw, uint8_t *out, size_t out_size, size_t *out_len) {
    return seam_apdu_respond(NULL, 0, sw, out, out_size, out_len);
}

/* ---- the command ------------------------------------------------------------------------ */

seam_err card_transaction_end(seam_card *c, seam_err e) {
    seam_nvm_state state = seam_nvm_get_state(c->nvm);
    bool rolled_back = state == SEAM_NVM_STATE_WRITE || state == SEAM_NVM_STATE_FAILED;
    if (rolled_back) {
        seam_err undone = seam_nvm_rollback(c->nvm);
        if (undone == SEAM_ERR_NVM_POWER_CUT)
            e = undone;
    }
    card_cache_command_end(c, rolled_back);
    return e;
}

/* Counts a command after a FETCH whose TERMINAL RESPONSE has not come; past
   TOOLKIT_ANSWER_WITHIN of them the fetched command is dropped (before the RAM is saved:
   a refused command does not bring it back). */
static void toolkit_wait(card_toolkit *t) {
    toolkit_command dropped;
    if (!t->fetched) {
        t->waited = 0;
    } else if (++t->waited > TOOLKIT_ANSWER_WITHIN) {
        toolkit_dequeue(t, &dropped);
        t->waited = 0;
        seam_log(SEAM_LOG_INFO,
                 "card: a fetched proactive command got no TERMINAL RESPONSE "
                 "in %u commands: dropped",
                 TOOLKIT_ANSWER_WITHIN);
    }
}

/* Runs a command on its channel (RUNNING to DELIVERED, or DEAD). */
static seam_err run(seam_card *c, channel *ch, const seam_apdu *a, const seam_apdu_class *cls,
                    uint8_t *out, size_t out_size, size_t *out_len) {
    reply r = {0, SEAM_SW_UNKNOWN};
    card_outcome how = {.sm = CARD_SM_UNTOUCHED};
    response_plan plan = {0};
    uint8_t chno = (uint8_t)(ch - c->channels);
    bool kept = false; /* the command's changes are kept (its own status word) */
    seam_err e;
    toolkit_wait(&c->toolkit);
    e = ram_save(c, a, chno);
    card_cache_command_begin(c);
    if (!e)
        e = seam_nvm_begin(c->nvm);
    if (!e)
        e = card_dispatch(c, ch, a, cls, &how, &r);
    if (!e && sw_success(r.sw)) /* registrations it changed go to the image with it (X4) */
        e = card_toolkit_persist(c);
    if (!e) { /* 9000 becomes 91xx while a proactive command waits (docs/toolkit.md) */
        kept = sw_success(r.sw);
        r.sw = card_toolkit_status(c, r.sw);
        e = response_prepare(c, ch, a, &how, &r, out_size, &plan);
    }
    if (!e && kept)
        e = seam_nvm_commit(c->nvm);
    e = card_transaction_end(c, e);
    if (e) {
        free(plan.rest);
        plan = (response_plan){0};
    }
    if (e == SEAM_ERR_NVM_POWER_CUT) {
        ram_end(c, false);
        c->dead = true;
        seam_card_power_off(c);
        return e;
    }
    if (e) { /* a storage failure: nothing was committed; answer as a card does */
        seam_log(SEAM_LOG_WARN, "card: command %02X %02X failed: %s", a->cla, a->ins,
                 seam_err_str(e));
        ram_restore(c, chno, &how);
        plan.sw = e == SEAM_ERR_NVM_FULL ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_UNKNOWN;
        plan.data = c->data;
    } else {
        ram_end(c, kept);
    }
    if (how.untouched && !e)
        return respond_sw(plan.sw, out, out_size, out_len); /* what waits stays */
    response_deliver(ch, &plan, out, out_size, out_len);
    return SEAM_OK;
}

seam_err seam_card_transmit(seam_card *c, const uint8_t *cmd, size_t cmd_len, uint8_t *out,
                            size_t out_size, size_t *out_len) {
    seam_apdu a;
    seam_apdu_class cls;
    seam_err e;
    if (c->dead)
        return SEAM_ERR_NVM_POWER_CUT;
    if (!c->powered)
        return SEAM_ERR_CARD;
    if (out_size < 2) { /* not even a status word: the command is not taken */
        *out_len = 2;
        return SEAM_ERR_BUFFER_SMALL;
    }
    /* byte counters: the command as received, the response once written */
    seam_card_counter *count[2] = {&c->traffic.total,
                                   cmd_len >= 2 ? &c->traffic.by_ins[cmd[1]] : NULL};
    for (unsigned i = 0; i < 2 && count[i]; i++) {
        count[i]->commands++;
        count[i]->bytes_in += cmd_len;
    }
    if (seam_apdu_parse(cmd, cmd_len, &a))
        e = respond_sw(SEAM_SW_WRONG_LENGTH, out, out_size, out_len);
    else if (seam_apdu_class_decode(a.cla, &cls))
        e = respond_sw(SEAM_SW_CLA_NOT_SUPPORTED, out, out_size, out_len);
    else if (cls.channel >= CHANNELS || !c->channels[cls.channel].open)
        e = respond_sw(SEAM_SW_CHANNEL_NOT_SUPPORTED, out, out_size, out_len);
    else if (!cls.proprietary && a.ins == SEAM_APDU_INS_GET_RESPONSE && cls.sm != SEAM_APDU_SM_NONE)
        e = respond_sw(SEAM_SW_SM_NOT_SUPPORTED, out, out_size, out_len); /* what waits stays */
    else if (!cls.proprietary && a.ins == SEAM_APDU_INS_GET_RESPONSE && cls.chained)
        e = respond_sw(SEAM_SW_CHAINING_UNSUPPORTED, out, out_size, out_len);
    else if (!cls.proprietary && a.ins == SEAM_APDU_INS_GET_RESPONSE)
        e = response_next(&c->channels[cls.channel], &a, out, out_size, out_len);
    else
        e = run(c, &c->channels[cls.channel], &a, &cls, out, out_size, out_len);
    for (unsigned i = 0; i < 2 && count[i] && !e; i++)
        count[i]->bytes_out += *out_len;
    return e;
}
