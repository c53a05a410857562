/*
 * The compact changeset protocol's engines (docs/sync.md): transport-agnostic,
 * each takes the peer's message bytes and gives the next message bytes.
 *
 * Client states:
 *   SENT    message 1 is out; the client holds the database's write
 *           transaction (nothing else changes the records meanwhile)
 *   DONE    the server's reply is applied and committed
 *   FAILED  an error: the transaction is rolled back, nothing applied
 * SENT -> SENT once when the server asks for a slow sync (status 1).
 *
 * What each sync type sends, and where each side's base ends (both bases
 * always end equal, so the next sync's changes are right on both sides):
 *   type  client sends          server replies             bases end at
 *   200   changes since base    its changes after merging  the merged records
 *   201   every record          what the client lacks      the merged records
 *   202   changes since base    nothing                    the client's records
 *   203   every record          nothing                    the client's records
 *   204   nothing               changes since base         the server's records
 *   205   nothing               every record               the server's records
 * The server resolves conflicts (200, 201, 202); in 204 the client does.
 * ./card (S8): in 200, 201, 202 and 204 the server first sets every card fact it
 * changed back to the client's (the card's) and counts it as a conflict the client
 * won, so a server change to a fact never reaches the terminal or the card.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"
#include "sync_track.h"

enum client_state { SENT, DONE, FAILED };

struct seam_sync_client {
    seam_sync_db *db;
    const sync_table *t;
    char self[SEAM_SYNC_PEER_MAX + 1], server[SEAM_SYNC_PEER_MAX + 1];
    seam_sync_type type; /* the type message 1 asked for */
    sync_anchor anchor;
    char next[SEAM_SYNC_ANCHOR_MAX + 1];
    enum client_state state;
    seam_sync_result result;
};

static bool type_ok(int type) {
    return type >= SEAM_SYNC_TWO_WAY && type <= SEAM_SYNC_REFRESH_FROM_SERVER;
}

/* Encodes f with payload c into a malloc'd message. */
static seam_err encode(seam_sync_frame *f, const sync_changes *c, uint8_t **msg, size_t *len) {
    size_t need = 0;
    f->flags = 1; /* patchsets: only new values (docs/sync.md "Why patchsets") */
    f->payload = c ? c->bytes : NULL;
    f->payload_len = c ? (uint32_t)c->len : 0;
    f->changes = c ? c->count : 0;
    seam_err err = seam_sync_frame_encode(f, NULL, 0, &need);
    if (err != SEAM_ERR_BUFFER_SMALL)
        return err ? err : SEAM_ERR_SYNC_STATE;
    *msg = malloc(need);
    if (!*msg)
        return SEAM_ERR_NOMEM;
    err = seam_sync_frame_encode(f, *msg, need, len);
    if (err) {
        free(*msg);
        *msg = NULL;
    }
    return err;
}

static seam_err check_capacity(seam_sync_db *db, const sync_table *t) {
    size_t n = 0;
    seam_err err = sync_count_in(db, "main", t, &n);
    return err ? err : n > SEAM_SYNC_RECORDS_MAX ? SEAM_ERR_SYNC_FULL : SEAM_OK;
}

/* Builds message 1 for c->type from the held transaction. */
static seam_err client_message(seam_sync_client *c, uint8_t **msg, size_t *len) {
    sync_changes changes = {0};
    seam_err err = SEAM_OK;
    snprintf(c->next, sizeof c->next, "%" PRId64, c->anchor.counter + 1);
    if (c->type != SEAM_SYNC_ONE_WAY_FROM_SERVER && c->type != SEAM_SYNC_REFRESH_FROM_SERVER) {
        bool every = c->type == SEAM_SYNC_SLOW || c->type == SEAM_SYNC_REFRESH_FROM_CLIENT;
        err = sync_work_load(c->db, c->t, c->server, every || !c->anchor.found);
        if (!err)
            err = sync_diff(c->db, c->t, true, &changes);
    }
    seam_sync_frame f = {.direction = 1, .type = (uint16_t)c->type};
    f.uri = c->t->uri;
    f.uri_len = (uint8_t)strlen(c->t->uri);
    f.sender = c->self;
    f.sender_len = (uint8_t)strlen(c->self);
    f.last = c->anchor.own_last;
    f.last_len = (uint8_t)strlen(c->anchor.own_last);
    f.next = c->next;
    f.next_len = (uint8_t)strlen(c->next);
    if (!err)
        err = encode(&f, &changes, msg, len);
    if (!err)
        c->result.sent = changes.count;
    sync_changes_free(&changes);
    return err;
}

static void client_fail(seam_sync_client *c) {
    sync_rollback(c->db);
    c->db->in_sync = false;
    c->state = FAILED;
}

seam_err seam_sync_client_start(seam_sync_db *db, const char *self_id, const char *server_id,
                                const char *uri, seam_sync_type type, seam_sync_client **out,
                                uint8_t **msg, size_t *msg_len) {
    if (!db || !out || !msg || !msg_len || !type_ok((int)type) || !sync_peer_ok(self_id) ||
        !sync_peer_ok(server_id))
        return SEAM_ERR_ARG;
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    seam_sync_client *c = calloc(1, sizeof *c);
    if (!c)
        return SEAM_ERR_NOMEM;
    c->db = db;
    c->t = t;
    snprintf(c->self, sizeof c->self, "%s", self_id);
    snprintf(c->server, sizeof c->server, "%s", server_id);
    err = sync_begin(db);
    if (err) {
        free(c);
        return err;
    }
    db->in_sync = true;
    err = sync_anchor_load(db, c->server, t->uri, &c->anchor);
    /* Never synced with this server: only a slow sync or a refresh can start. */
    if (!c->anchor.found && (type == SEAM_SYNC_TWO_WAY || type == SEAM_SYNC_ONE_WAY_FROM_CLIENT ||
                             type == SEAM_SYNC_ONE_WAY_FROM_SERVER)) {
        type = SEAM_SYNC_SLOW;
        c->result.slow_fallback = 1;
    }
    c->type = type;
    c->result.type = type;
    if (!err)
        err = client_message(c, msg, msg_len);
    if (err) {
        client_fail(c);
        free(c);
        return err;
    }
    c->state = SENT;
    *out = c;
    return SEAM_OK;
}

/* Applies the server's reply f inside the held transaction. */
static seam_err client_apply(seam_sync_client *c, const seam_sync_frame *f) {
    seam_sync_db *db = c->db;
    const sync_table *t = c->t;
    seam_err err = SEAM_OK;
    sync_merge_counts counts = {0};
    const char *base_from = "main";
    switch (c->type) {
    case SEAM_SYNC_TWO_WAY:
    case SEAM_SYNC_SLOW:
        /* The reply is relative to exactly what message 1 said: it fits without conflict. */
        err = sync_apply_to(db, t, "main", f->payload, (int)f->payload_len);
        break;
    case SEAM_SYNC_ONE_WAY_FROM_SERVER:
        err = sync_work_load(db, t, c->server, false);
        if (!err)
            err = sync_merge(db, t, c->server, false, false, f->payload, (int)f->payload_len,
                             &counts);
        base_from = "temp"; /* the server's records; this side's winners stay pending */
        break;
    case SEAM_SYNC_REFRESH_FROM_SERVER:
        err = sync_work_load(db, t, c->server, true);
        if (!err)
            err = sync_apply_to(db, t, "temp", f->payload, (int)f->payload_len);
        if (!err)
            err = sync_copy_table(db, t, "temp", "main");
        break;
    default: /* 202, 203: the server sends nothing */
        break;
    }
    if (!err && f->digest) {
        uint64_t mine = 0;
        err = seam_sync_records_fingerprint(db, t->uri, &mine);
        if (!err && mine != f->digest)
            err = SEAM_ERR_SYNC_MISMATCH;
    }
    if (!err)
        err = check_capacity(db, t);
    if (!err)
        err = sync_base_set(db, t, c->server, base_from);
    sync_anchor a = {.found = true, .counter = c->anchor.counter + 1};
    memcpy(a.own_last, c->next, sizeof a.own_last);
    memcpy(a.peer_last, f->next, f->next_len);
    if (!err)
        err = sync_anchor_store(db, c->server, t->uri, &a);
    if (!err)
        err = sync_commit(db);
    if (!err) {
        c->result.received = f->changes;
        c->result.conflicts_client = f->conflicts_client + counts.conflicts_client;
        c->result.conflicts_server = f->conflicts_server + counts.conflicts_server;
    }
    return err;
}

seam_err seam_sync_client_receive(seam_sync_client *c, const uint8_t *reply, size_t len,
                                  uint8_t **msg, size_t *msg_len) {
    seam_sync_frame f;
    if (!c || !reply || !msg || !msg_len)
        return SEAM_ERR_ARG;
    *msg = NULL;
    *msg_len = 0;
    if (c->state != SENT)
        return SEAM_ERR_SYNC_STATE;
    seam_err err = seam_sync_frame_decode(reply, len, &f);
    if (!err && (f.direction != 2 || sync_table_of(f.uri, f.uri_len) != c->t ||
                 f.sender_len != strlen(c->server) || memcmp(f.sender, c->server, f.sender_len)))
        err = SEAM_ERR_SYNC_MISMATCH;
    if (!err && f.status == 1) { /* the anchors disagree: slow sync, once */
        if (c->type == SEAM_SYNC_SLOW || f.type != SEAM_SYNC_SLOW)
            err = SEAM_ERR_SYNC_MISMATCH;
        if (!err) {
            c->type = SEAM_SYNC_SLOW;
            c->result.type = SEAM_SYNC_SLOW;
            c->result.slow_fallback = 1;
            err = client_message(c, msg, msg_len);
        }
        if (err)
            client_fail(c);
        return err;
    }
    if (!err && f.type != c->type)
        err = SEAM_ERR_SYNC_MISMATCH;
    if (!err)
        err = client_apply(c, &f);
    if (err) {
        client_fail(c);
        return err;
    }
    c->db->in_sync = false;
    c->state = DONE;
    return SEAM_OK;
}

void seam_sync_client_result(const seam_sync_client *c, seam_sync_result *out) {
    if (c && out)
        *out = c->result;
}

void seam_sync_client_free(seam_sync_client *c) {
    if (!c)
        return;
    if (c->state == SENT)
        client_fail(c);
    free(c);
}

/* Runs the client's message f on the server's database, in the open transaction. */
static seam_err serve_apply(seam_sync_db *db, const sync_table *t, const char *peer,
                            const seam_sync_frame *f, sync_changes *reply,
                            sync_merge_counts *counts) {
    const uint8_t *p = f->payload;
    int n = (int)f->payload_len;
    seam_err err = SEAM_OK;
    const char *base_from = "main";
    switch (f->type) {
    case SEAM_SYNC_TWO_WAY:
    case SEAM_SYNC_SLOW: {
        bool slow = f->type == SEAM_SYNC_SLOW;
        err = sync_work_load(db, t, peer, slow);
        if (!err)
            err = sync_merge(db, t, peer, true, slow, p, n, counts);
        if (!err)
            err = sync_card_facts_follow(db, t, counts);
        if (!err) /* what turns the client's records into the merged ones */
            err = sync_diff(db, t, true, reply);
        break;
    }
    case SEAM_SYNC_ONE_WAY_FROM_CLIENT:
        err = sync_work_load(db, t, peer, false);
        if (!err)
            err = sync_merge(db, t, peer, true, false, p, n, counts);
        if (!err)
            err = sync_card_facts_follow(db, t, counts);
        base_from = "temp"; /* the client's records; the server's winners stay pending */
        break;
    case SEAM_SYNC_REFRESH_FROM_CLIENT:
        err = sync_work_load(db, t, peer, true);
        if (!err)
            err = sync_apply_to(db, t, "temp", p, n);
        if (!err)
            err = sync_copy_table(db, t, "temp", "main");
        break;
    case SEAM_SYNC_ONE_WAY_FROM_SERVER:
    case SEAM_SYNC_REFRESH_FROM_SERVER:
        if (n)
            return SEAM_ERR_SYNC_CHANGESET; /* the client has nothing to send in these */
        err = sync_work_load(db, t, peer, f->type == SEAM_SYNC_REFRESH_FROM_SERVER);
        if (!err && f->type == SEAM_SYNC_ONE_WAY_FROM_SERVER) /* the base: the card's last */
            err = sync_card_facts_follow(db, t, counts);
        if (!err)
            err = sync_diff(db, t, true, reply);
        break;
    default:
        return SEAM_ERR_SYNC_FRAME;
    }
    if (!err)
        err = check_capacity(db, t);
    if (!err)
        err = sync_base_set(db, t, peer, base_from);
    return err;
}

seam_err seam_sync_serve(seam_sync_db *db, const char *self_id, const char *device_id,
                         const uint8_t *msg, size_t len, uint8_t **reply, size_t *reply_len,
                         seam_sync_result *result) {
    seam_sync_frame f;
    char peer[SEAM_SYNC_PEER_MAX + 1];
    sync_anchor anchor;
    sync_changes changes = {0};
    sync_merge_counts counts = {0};
    if (!db || !msg || !reply || !reply_len || !sync_peer_ok(self_id))
        return SEAM_ERR_ARG;
    *reply = NULL;
    *reply_len = 0;
    if (db->in_sync)
        return SEAM_ERR_SYNC_STATE;
    seam_err err = seam_sync_frame_decode(msg, len, &f);
    if (err)
        return err;
    if (f.direction != 1)
        return SEAM_ERR_SYNC_FRAME;
    /* The sender names the base and anchors used: it must be the device the caller authenticated.
     */
    if (device_id &&
        (strlen(device_id) != f.sender_len || memcmp(device_id, f.sender, f.sender_len)))
        return SEAM_ERR_SYNC_MISMATCH;
    const sync_table *t = sync_table_of(f.uri, f.uri_len);
    memcpy(peer, f.sender, f.sender_len);
    peer[f.sender_len] = 0;
    if ((err = sync_begin(db)) != SEAM_OK)
        return err;
    err = sync_anchor_load(db, peer, t->uri, &anchor);
    char next[SEAM_SYNC_ANCHOR_MAX + 1];
    snprintf(next, sizeof next, "%" PRId64, anchor.counter + 1);
    seam_sync_frame r = {.direction = 2, .type = f.type};
    r.uri = t->uri;
    r.uri_len = (uint8_t)strlen(t->uri);
    r.sender = self_id;
    r.sender_len = (uint8_t)strlen(self_id);
    r.last = anchor.own_last;
    r.last_len = (uint8_t)strlen(anchor.own_last);
    r.next = next;
    r.next_len = (uint8_t)strlen(next);
    bool incremental = f.type == SEAM_SYNC_TWO_WAY || f.type == SEAM_SYNC_ONE_WAY_FROM_CLIENT ||
                       f.type == SEAM_SYNC_ONE_WAY_FROM_SERVER;
    bool last_ok = anchor.found && f.last_len == strlen(anchor.peer_last) &&
                   memcmp(f.last, anchor.peer_last, f.last_len) == 0;
    /* The client never committed the last sync (it died, or lost the reply): it still holds
     * the previous anchor, and its records are as of the previous base: resume from there. */
    bool resume = anchor.found && !last_ok && anchor.prev_peer_last[0] &&
                  f.last_len == strlen(anchor.prev_peer_last) &&
                  memcmp(f.last, anchor.prev_peer_last, f.last_len) == 0;
    if (!err && resume)
        err = sync_base_restore_prev(db, t, peer);
    if (!err)
        err = sync_base_keep_prev(db, t, peer);
    if (!err && incremental && !last_ok && !resume) {
        /* The client's last anchor is not the one this side stored: ask for a slow sync. */
        sync_rollback(db);
        r.type = SEAM_SYNC_SLOW;
        r.status = 1;
        r.next_len = 0;
        if (result)
            *result = (seam_sync_result){.type = SEAM_SYNC_SLOW, .slow_fallback = 1};
        return encode(&r, NULL, reply, reply_len);
    }
    if (!err)
        err = serve_apply(db, t, peer, &f, &changes, &counts);
    /* After these both sides hold the same records; in 202 and 204 winners may stay pending. */
    if (!err && f.type != SEAM_SYNC_ONE_WAY_FROM_CLIENT && f.type != SEAM_SYNC_ONE_WAY_FROM_SERVER)
        err = seam_sync_records_fingerprint(db, t->uri, &r.digest);
    sync_anchor a = {.found = true, .counter = anchor.counter + 1};
    memcpy(a.own_last, next, sizeof a.own_last);
    memcpy(a.peer_last, f.next, f.next_len);
    /* Resuming later from the base kept now is right only if the client held that base: the
     * anchors agreed (or this resumed). After a slow sync asked for a mismatch, or a first
     * sync, the base kept is not the client's: a client that lost this reply syncs slowly. */
    if (last_ok || resume)
        memcpy(a.prev_peer_last, f.last, f.last_len);
    if (!err)
        err = sync_anchor_store(db, peer, t->uri, &a);
    r.conflicts_client = counts.conflicts_client;
    r.conflicts_server = counts.conflicts_server;
    if (!err)
        err = encode(&r, &changes, reply, reply_len);
    if (!err)
        err = sync_commit(db);
    if (err) {
        sync_rollback(db);
        free(*reply);
        *reply = NULL;
        *reply_len = 0;
    } else if (result) {
        *result = (seam_sync_result){.type = f.type,
                                     .sent = changes.count,
                                     .received = f.changes,
                                     .conflicts_client = counts.conflicts_client,
                                     .conflicts_server = counts.conflicts_server};
    }
    sync_changes_free(&changes);
    return err;
}
