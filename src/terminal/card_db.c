/*
 * The card's own database (S8; docs/terminal.md "The card's database", docs/sync.md
 * "./card"): the terminal reads apps/carddb over a logical channel of the card and
 * synchronizes ./card on the card's behalf.
 *
 * A sync of ./card, in order:
 *   OPEN     MANAGE CHANNEL open; SELECT carddb on the new channel
 *   READ     80 30 P1 = 0, 1, ... until 6A83: every record (at most CARD_RECORDS_MAX)
 *   VIEW     ./card := the card's records, ./apps kind card := its instances
 *            (seam_sync_card_view: one transaction)
 *   SYNC     the synchronization itself (the engine given, over either protocol)
 *   FACTS    a card fact the sync changed (a server that did not refuse it) is put
 *            back to the card's and synchronized once more, counted as a conflict
 *            the terminal won: the card's facts always win
 *   WRITE    every writable parameter (param.<name>) whose value differs from the
 *            card's is written to the card (80 32, one card transaction each)
 *   CLOSE    MANAGE CHANNEL close, whatever happened
 * A failure of the card is a LOCAL failure of the sync, with its status word.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/terminal.h"
#include "seam/util.h"

#define CARD_RECORDS_MAX 256 /* P1 is one byte */

static const uint8_t carddb_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01};

typedef struct {
    const seam_gp_link *link;
    uint8_t channel;
    uint8_t rsp[258];
    size_t rsp_len;
    uint16_t sw;
} card_io;

/* Sends apdu[0..len); sets io->sw; false when the link failed. */
static bool card_send(card_io *io, const uint8_t *apdu, size_t len) {
    io->rsp_len = 0;
    io->sw = 0;
    if (seam_gp_link_transmit(io->link, apdu, len, io->rsp, sizeof io->rsp, &io->rsp_len) ||
        io->rsp_len < 2)
        return false;
    io->sw = (uint16_t)(io->rsp[io->rsp_len - 2] << 8 | io->rsp[io->rsp_len - 1]);
    io->rsp_len -= 2;
    return true;
}

/* 9000, or 91xx (the card has a proactive command for channel 0's session). */
static bool sw_ok(uint16_t sw) {
    return sw == 0x9000 || (sw & 0xFF00) == 0x9100;
}

static bool channel_open(card_io *io) {
    uint8_t open[] = {0x00, 0x70, 0x00, 0x00, 0x01};
    uint8_t select[5 + sizeof carddb_aid + 1] = {0x00, 0xA4, 0x04, 0x00, sizeof carddb_aid};
    if (!card_send(io, open, sizeof open) || !sw_ok(io->sw) || io->rsp_len != 1 || io->rsp[0] < 1 ||
        io->rsp[0] > 3)
        return false;
    io->channel = io->rsp[0];
    select[0] = io->channel;
    memcpy(select + 5, carddb_aid, sizeof carddb_aid);
    return card_send(io, select, sizeof select) && sw_ok(io->sw);
}

static void channel_close(card_io *io) {
    uint8_t close[] = {0x00, 0x70, 0x80, io->channel};
    if (io->channel)
        (void)card_send(io, close, sizeof close);
    io->channel = 0;
}

/* Copies a TLV value of tag at *o of io->rsp into text (printable ASCII, at most max). */
static bool take_text(const card_io *io, size_t *o, uint8_t tag, char *text, size_t max) {
    if (*o + 2 > io->rsp_len || io->rsp[*o] != tag || io->rsp[*o + 1] > max ||
        *o + 2 + io->rsp[*o + 1] > io->rsp_len)
        return false;
    size_t n = io->rsp[*o + 1];
    for (size_t i = 0; i < n; i++)
        if (io->rsp[*o + 2 + i] < 0x20 || io->rsp[*o + 2 + i] > 0x7E)
            return false;
    memcpy(text, io->rsp + *o + 2, n);
    text[n] = '\0';
    *o += 2 + n;
    return true;
}

/* The prefixes of the card's facts (docs/sync.md "./card"). */
static const char *const fact_prefixes[] = {"domain.", "package.", "instance.", "restore."};

static bool is_fact_key(const char *key) {
    for (size_t i = 0; i < sizeof fact_prefixes / sizeof fact_prefixes[0]; i++)
        if (!strncmp(key, fact_prefixes[i], strlen(fact_prefixes[i])))
            return true;
    return false;
}

/* Decodes record E1 L { 80 key, 81 value, 82 writable } of io->rsp into rec (L one byte
   below 128, else 81 L). */
static bool record_decode(const card_io *io, seam_sync_record *rec) {
    size_t o = 2;
    memset(rec, 0, sizeof *rec);
    if (io->rsp_len >= 3 && io->rsp[1] == 0x81) /* the long form, only where it is needed */
        o = io->rsp[2] >= 0x80 ? 3 : SIZE_MAX;
    else if (io->rsp_len >= 2 && io->rsp[1] >= 0x80)
        o = SIZE_MAX;
    if (io->rsp_len < 2 || io->rsp[0] != 0xE1 || o == SIZE_MAX ||
        io->rsp[o - 1] != io->rsp_len - o ||
        !take_text(io, &o, 0x80, rec->key, SEAM_SYNC_KEY_MAX) ||
        !take_text(io, &o, 0x81, rec->value, SEAM_SYNC_VALUE_MAX) || o + 3 != io->rsp_len ||
        io->rsp[o] != 0x82 || io->rsp[o + 1] != 1)
        return false;
    bool writable = io->rsp[o + 2] == 1;
    if (writable != seam_sync_card_key_writable(rec->key))
        return false; /* the card and the schema must agree on what is a fact */
    return writable || is_fact_key(rec->key);
}

/* An instance record of ./card as a ./apps record of kind card: key and name its AID, the
   version of its package. */
static bool app_of(const seam_sync_record *inst, seam_sync_record *app) {
    const char *v = strstr(inst->value, "version=");
    size_t n = v ? strcspn(v + 8, " ") : 0;
    if (strncmp(inst->key, "instance.", 9) || n == 0 || n > SEAM_SYNC_VERSION_MAX)
        return false;
    memset(app, 0, sizeof *app);
    snprintf(app->key, sizeof app->key, "%s", inst->key + 9);
    snprintf(app->value, sizeof app->value, "%s", inst->key + 9);
    memcpy(app->version, v + 8, n);
    app->kind = SEAM_SYNC_KIND_CARD;
    return true;
}

/* True when card[n] is a restore record whose key card[0..n) holds already: the records of
   one instance under two domains (one deleted, the AID installed again by another) share
   the key restore.<instance AID>; the first (carddb's order) is kept, so that the view
   stays one record per key. */
static bool restore_seen(const seam_sync_record *card, size_t n) {
    if (strncmp(card[n].key, "restore.", 8))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(card[i].key, card[n].key))
            return true;
    return false;
}

/* Reads every record of carddb into card[0..*n). */
static bool read_all(card_io *io, seam_sync_record *card, size_t *n) {
    *n = 0;
    for (unsigned i = 0; i < CARD_RECORDS_MAX; i++) {
        uint8_t read[] = {(uint8_t)(0x80 | io->channel), 0x30, (uint8_t)i, 0x00, 0x00};
        if (!card_send(io, read, sizeof read))
            return false;
        if (io->sw == 0x6A83)
            return true;
        if (!sw_ok(io->sw) || !record_decode(io, &card[*n]))
            return false;
        if (restore_seen(card, *n)) {
            seam_log(SEAM_LOG_WARN, "card db: a second restore record of %s is left out",
                     card[*n].key + 8);
            continue;
        }
        (*n)++;
    }
    return false; /* more than the card can number */
}

/* Writes parameter rec (param.<name>) to the card. */
static bool write_param(card_io *io, const seam_sync_record *rec) {
    const char *name = rec->key + strlen(SEAM_SYNC_CARD_PARAM);
    size_t n = strlen(name), v = strlen(rec->value), o = 5;
    uint8_t apdu[5 + 4 + 2 * 255];
    if (n > 255 || v > 255 || 4 + n + v > 255)
        return false;
    apdu[0] = (uint8_t)(0x80 | io->channel);
    apdu[1] = 0x32;
    apdu[2] = apdu[3] = 0;
    apdu[4] = (uint8_t)(4 + n + v);
    apdu[o++] = 0x80;
    apdu[o++] = (uint8_t)n;
    memcpy(apdu + o, name, n);
    o += n;
    apdu[o++] = 0x81;
    apdu[o++] = (uint8_t)v;
    memcpy(apdu + o, rec->value, v);
    o += v;
    return card_send(io, apdu, o) && sw_ok(io->sw);
}

/* Writes the card's view card[0..n) into ./card and its instances into ./apps. */
static seam_err put_view(seam_sync_db *db, const seam_sync_record *card, size_t n,
                         seam_sync_card_counts *counts) {
    seam_sync_record *apps = calloc(n ? n : 1, sizeof *apps);
    size_t n_apps = 0;
    if (!apps)
        return SEAM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (app_of(&card[i], &apps[n_apps]))
            n_apps++;
    seam_err e = seam_sync_card_view(db, card, n, apps, n_apps, counts);
    free(apps);
    return e;
}

static void fail(seam_terminal_sync_outcome *out, const card_io *io, const char *what) {
    out->failure = SEAM_TERMINAL_SYNC_LOCAL;
    snprintf(out->reason, sizeof out->reason, "the card: %s (SW %04X)", what, io->sw);
}

/* What the sync left in ./card against the card's view card[0..n). */
typedef struct {
    const seam_sync_record *card;
    size_t n;
    seam_sync_record *view; /* the card's facts and ./card's parameters: what to put back */
    size_t n_view;
    seam_sync_record *params; /* parameters whose value is not the card's: to write */
    size_t n_params;
    size_t facts; /* facts the sync changed, added or deleted */
    bool overflow;
} after_sync;

static const seam_sync_record *on_card(const after_sync *a, const char *key) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->card[i].key, key))
            return &a->card[i];
    return NULL;
}

static int look(void *ctx, const seam_sync_record *rec) {
    after_sync *a = ctx;
    const seam_sync_record *c = on_card(a, rec->key);
    if (!seam_sync_card_key_writable(rec->key)) {
        a->facts += !c || strcmp(c->value, rec->value);
        return 0;
    }
    if (a->n_view == 2 * CARD_RECORDS_MAX || a->n_params == CARD_RECORDS_MAX) {
        a->overflow = true;
        return 1;
    }
    a->view[a->n_view++] = *rec;
    if (!c || strcmp(c->value, rec->value))
        a->params[a->n_params++] = *rec;
    return 0;
}

/* Fills a from ./card after a sync. */
static seam_err compare(seam_sync_db *db, after_sync *a) {
    seam_sync_record now;
    a->n_view = a->n_params = a->facts = 0;
    a->overflow = false;
    seam_err e = seam_sync_list(db, SEAM_SYNC_CARD, look, a);
    for (size_t i = 0; !e && !a->overflow && i < a->n; i++) {
        if (seam_sync_card_key_writable(a->card[i].key))
            continue;
        e = seam_sync_get(db, SEAM_SYNC_CARD, a->card[i].key, &now);
        if (e == SEAM_ERR_NOT_FOUND) {
            a->facts++;
            e = SEAM_OK;
        }
        if (a->n_view == 2 * CARD_RECORDS_MAX)
            a->overflow = true;
        else
            a->view[a->n_view++] = a->card[i];
    }
    return !e && a->overflow ? SEAM_ERR_SYNC_FULL : e;
}

/* Runs the sync, then compares: *facts, the view and the parameters in a. */
static seam_err sync_and_compare(seam_terminal_sync_fn run, const seam_terminal_sync_request *req,
                                 seam_terminal_sync_outcome *out, after_sync *a) {
    seam_sync_db *db = NULL;
    seam_err e = run(req, out);
    if (e || out->failure != SEAM_TERMINAL_SYNC_OK)
        return e;
    if ((e = seam_sync_open(req->dm_path, &db)) == SEAM_OK)
        e = compare(db, a);
    seam_sync_close(db);
    return e;
}

seam_err seam_terminal_sync_card(const seam_gp_link *link, seam_terminal_sync_fn run,
                                 const seam_terminal_sync_request *req,
                                 seam_terminal_sync_outcome *out) {
    card_io io = {.link = link};
    seam_sync_record *card = NULL;
    after_sync a = {0};
    seam_sync_db *db = NULL;
    seam_sync_card_counts counts = {0};
    size_t n = 0;
    seam_err e = SEAM_OK;
    if (!run)
        run = seam_terminal_sync;
    if (req && out && (!req->source_uri || strcmp(req->source_uri, SEAM_SYNC_CARD)))
        return run(req, out); /* not the card's database: the sync alone */
    if (!link || !req || !out || !req->dm_path)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    card = calloc(CARD_RECORDS_MAX, sizeof *card);
    a.view = calloc(2 * CARD_RECORDS_MAX, sizeof *a.view);
    a.params = calloc(CARD_RECORDS_MAX, sizeof *a.params);
    if (!card || !a.view || !a.params) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (!channel_open(&io)) {
        fail(out, &io, "carddb cannot be selected");
        goto done;
    }
    if (!read_all(&io, card, &n)) {
        fail(out, &io, "carddb's records do not read");
        goto done;
    }
    a.card = card;
    a.n = n;
    if ((e = seam_sync_open(req->dm_path, &db)) == SEAM_OK)
        e = put_view(db, card, n, &counts);
    seam_sync_close(db);
    db = NULL;
    if (e)
        goto local;
    seam_log(SEAM_LOG_INFO, "card db: %zu records read (%u added, %u replaced, %u deleted)", n,
             counts.added, counts.replaced, counts.deleted);
    e = sync_and_compare(run, req, out, &a);
    if (e || out->failure != SEAM_TERMINAL_SYNC_OK)
        goto done;
    if (a.facts > 0) { /* a peer that did not refuse a change to a fact: the card's win */
        seam_sync_result first = out->counts;
        size_t facts = a.facts;
        seam_log(SEAM_LOG_INFO, "card db: %zu card facts the sync changed are put back", facts);
        if ((e = seam_sync_open(req->dm_path, &db)) == SEAM_OK)
            e = put_view(db, a.view, a.n_view, NULL);
        seam_sync_close(db);
        db = NULL;
        if (!e)
            e = sync_and_compare(run, req, out, &a);
        if (e || out->failure != SEAM_TERMINAL_SYNC_OK)
            goto done;
        out->counts.conflicts_client += first.conflicts_client + (uint32_t)facts;
        out->counts.conflicts_server += first.conflicts_server;
        out->counts.sent += first.sent;
        out->counts.received += first.received;
    }
    for (size_t i = 0; i < a.n_params; i++)
        if (!write_param(&io, &a.params[i])) {
            fail(out, &io, "a parameter was not written");
            goto done;
        }
    goto done;
local:
    out->failure = SEAM_TERMINAL_SYNC_LOCAL;
    snprintf(out->reason, sizeof out->reason, "./card: %s", seam_err_str(e));
    e = SEAM_OK;
done:
    if (e == SEAM_ERR_SYNC_FULL)
        goto local;
    channel_close(&io);
    free(card);
    free(a.view);
    free(a.params);
    return e;
}
