/*
 * The OMA DS 1.2 client session engine (cat_sync.md B.3-B.5), transport-agnostic:
 * start() gives Pkg1, each step() takes the server's message and gives the next.
 *
 * States (what the client waits for):
 *
 *   PKG2  Pkg1 sent (Alert with anchors, credentials, MaxMsgSize, Final).
 *         Pkg2 with SyncHdr status 401/407 and an MD5 challenge, first time:
 *           Pkg1 again with MD5 credentials -> PKG2; any other 401/407 -> FAILED.
 *         Pkg2 with the server's Alert (200..205; after a 508 the slow variant):
 *           load the local changes (all of them for slow/refresh-from-client, none
 *           for one-way/refresh from server; wipe the database for refresh from
 *           server), send the first message of Pkg3 -> PKG3.
 *   Every status but the SyncHdr's is queued: a message carries the SyncHdr
 *   status of the message it answers, then the queued ones that fit, oldest
 *   first; the Sync's operations or the Map only once none waits, and Final only
 *   when nothing of the package (statuses included) is left.
 *   PKG3  a Pkg3 message sent. Without Final (changes or statuses left): the
 *         server's answer (statuses, Alert 222) gets the next message of Pkg3 ->
 *         PKG3. Final sent: the server's message is Pkg4 -> handled as in PKG4.
 *   PKG4  Pkg4 messages arrive: apply each Add/Replace/Delete, keep the Map
 *         entries of new records. A message without Final is answered with the
 *         statuses that fit, the Map entries that fit once no status waits, and
 *         Alert 222 -> PKG4. A final one with nothing but statuses, none waiting
 *         and no Map to send (one-way and refresh from client): commit -> DONE.
 *         Otherwise with Final: send Pkg5 (statuses, the rest of the Map) -> PKG6.
 *         When every status and the whole Map are in it, Pkg5 carries Final and
 *         the store commits with the new anchor (everything the server sent is
 *         applied; if the server never sees Pkg5 it rolls back, the anchors then
 *         disagree and the next session is a slow sync that converges without
 *         duplicates).
 *   PKG6  a Pkg5 without Final (statuses or Map left): the server's answer
 *         (Alert 222) gets the next Pkg5 message -> PKG6. Pkg6 (statuses, Final)
 *         -> DONE; a failing status there -> FAILED (already committed: it is
 *         reported).
 *   DONE, FAILED: final. Before the commit, any malformed message, failing
 *         status (SyncHdr, Alert, Sync, Map) or store failure rolls the store
 *         back -> FAILED, nothing applied and the anchors as they were.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"

typedef enum { C_IDLE, C_PKG2, C_PKG3, C_PKG4, C_PKG6, C_DONE, C_FAILED } client_state;

typedef struct {
    char *guid, *luid;
} map_entry;

struct seam_syncml_client {
    seam_syncml_store store;
    seam_syncml_config cfg;
    char *strings[8]; /* the copies cfg points to */
    client_state state;
    bool began;
    unsigned msg_id;   /* of the next message sent */
    unsigned peer_max; /* the server's MaxMsgSize, 0 = none */
    char last[SEAM_SYNCML_ANCHOR_MAX], next[SEAM_SYNCML_ANCHOR_MAX];
    char nonce[64];
    char *resp_uri; /* the server's last RespURI */
    bool retried;
    bool sent_final; /* the last message sent ended its package */
    syncml_changes changes;
    map_entry *map;
    size_t n_map, cap_map, map_sent; /* map_sent: entries already in a message */
    syncml_out out;
    seam_syncml_report report;
};

static const char *remote_db(const seam_syncml_client *c) {
    return c->cfg.remote_db ? c->cfg.remote_db : c->cfg.db;
}

static size_t send_limit(const seam_syncml_client *c) {
    size_t max = SEAM_SYNCML_MAX_MESSAGE;
    if (c->peer_max && c->peer_max < max)
        max = c->peer_max < SEAM_SYNCML_MIN_MSG_SIZE ? SEAM_SYNCML_MIN_MSG_SIZE : c->peer_max;
    return max;
}

seam_syncml_client *seam_syncml_client_new(const seam_syncml_store *store,
                                           const seam_syncml_config *cfg) {
    if (!store || !cfg || !cfg->db || !cfg->device_id || !cfg->server_uri)
        return NULL;
    seam_syncml_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->store = *store;
    c->cfg = *cfg;
    seam_err err = SEAM_OK;
    const char **fields[] = {&c->cfg.db,   &c->cfg.remote_db, &c->cfg.device_id, &c->cfg.server_uri,
                             &c->cfg.user, &c->cfg.password,  &c->cfg.session_id};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = c->strings[i] = syncml_strdup(*fields[i], &err);
    if (!c->cfg.session_id)
        c->cfg.session_id = c->strings[7] = syncml_strdup("1", &err);
    if (err || out_init(&c->out, c->cfg.format) != SEAM_OK) {
        seam_syncml_client_free(c);
        return NULL;
    }
    if (cfg->nonce && valid_token(cfg->nonce, sizeof c->nonce))
        snprintf(c->nonce, sizeof c->nonce, "%s", cfg->nonce);
    c->cfg.nonce = NULL;
    c->msg_id = 1;
    return c;
}

const char *seam_syncml_client_nonce(const seam_syncml_client *c) {
    return c->nonce;
}

const char *seam_syncml_client_resp_uri(const seam_syncml_client *c) {
    return c->resp_uri;
}

const seam_syncml_report *seam_syncml_client_report(const seam_syncml_client *c) {
    return &c->report;
}

static seam_syncml_state fail(seam_syncml_client *c, seam_err err, unsigned status) {
    if (c->began)
        c->store.rollback(c->store.ctx, c->cfg.db, c->cfg.server_uri);
    c->began = false;
    c->state = C_FAILED;
    c->report.err = err;
    c->report.status = status;
    return SEAM_SYNCML_FAILED;
}

static void header(seam_syncml_client *c) {
    out_reset(&c->out);
    out_header(&c->out, c->cfg.session_id, c->msg_id++, c->cfg.server_uri, c->cfg.device_id);
    if (c->cfg.max_msg_size)
        c->out.msg.hdr.max_msg_size = c->cfg.max_msg_size;
}

static seam_syncml_state send(seam_syncml_client *c, client_state next, uint8_t **out,
                              size_t *out_len) {
    seam_err err = out_encode(&c->out, c->cfg.format, send_limit(c), out, out_len);
    if (err)
        return fail(c, err, SEAM_SYNCML_COMMAND_FAILED);
    c->state = next;
    c->sent_final = c->out.msg.final;
    return SEAM_SYNCML_CONTINUE;
}

/* Pkg1: credentials, MaxMsgSize, the Alert with the anchors. */
static seam_syncml_state send_pkg1(seam_syncml_client *c, uint8_t **out, size_t *out_len) {
    header(c);
    char cred[SEAM_SYNCML_CRED_MAX];
    bool md5_ready = c->cfg.auth == SEAM_SYNCML_AUTH_MD5 && c->nonce[0];
    if (c->cfg.user && (c->cfg.auth == SEAM_SYNCML_AUTH_BASIC || md5_ready)) {
        seam_err err = seam_syncml_cred(c->cfg.auth, c->cfg.user,
                                        c->cfg.password ? c->cfg.password : "", c->nonce, cred);
        if (err)
            return fail(c, err, 0);
        c->out.msg.hdr.cred_type = c->cfg.auth;
        c->out.msg.hdr.cred_data = out_str(&c->out, cred);
    }
    out_alert(&c->out, c->report.type, remote_db(c), c->cfg.db, c->last[0] ? c->last : NULL,
              c->next);
    c->out.msg.final = true;
    return send(c, C_PKG2, out, out_len);
}

seam_syncml_state seam_syncml_client_start(seam_syncml_client *c, uint8_t **out, size_t *out_len) {
    if (!c || !out || !out_len || c->state != C_IDLE)
        return SEAM_SYNCML_FAILED;
    *out = NULL;
    if (c->cfg.type < SEAM_SYNCML_TWO_WAY || c->cfg.type > SEAM_SYNCML_REFRESH_FROM_SERVER)
        return fail(c, SEAM_ERR_ARG, 0);
    if (c->store.begin(c->store.ctx, c->cfg.db, c->cfg.server_uri) != SEAM_OK)
        return fail(c, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    c->began = true;
    if (c->store.last_anchor(c->store.ctx, c->cfg.db, c->cfg.server_uri, c->last) != SEAM_OK ||
        c->store.next_anchor(c->store.ctx, c->cfg.db, c->next) != SEAM_OK ||
        !valid_token(c->next, SEAM_SYNCML_ANCHOR_MAX) ||
        (c->last[0] && !valid_token(c->last, SEAM_SYNCML_ANCHOR_MAX)))
        return fail(c, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    c->report.type = c->cfg.type;
    /* No anchor: nothing to be incremental against (B.3). */
    if (!c->last[0] && c->cfg.type == SEAM_SYNCML_TWO_WAY)
        c->report.type = SEAM_SYNCML_SLOW;
    return send_pkg1(c, out, out_len);
}

/* The SyncHdr status, then statuses queued for every command of the server's message that gets
   one (ops are answered apart); the DevInf a Get asks for. */
static void answer_commands(seam_syncml_client *c, const seam_syncml_msg *in) {
    out_status(&c->out, in->hdr.msg_id, 0, "SyncHdr", in->hdr.source, in->hdr.target,
               SEAM_SYNCML_OK);
    for (size_t i = 0; i < in->n_cmds; i++) {
        const seam_syncml_cmd *cmd = &in->cmds[i];
        if (cmd->kind == SEAM_SYNCML_CMD_STATUS || cmd->kind == SEAM_SYNCML_CMD_SYNC)
            continue;
        out_status_later(&c->out, in->hdr.msg_id, cmd->cmd_id, syncml_cmd_name(cmd->kind), NULL,
                         NULL, SEAM_SYNCML_OK);
        if (cmd->kind == SEAM_SYNCML_CMD_GET) {
            /* The minimal DevInf the server asked for. */
            char devinf[512];
            snprintf(devinf, sizeof devinf,
                     "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>seam</Man>"
                     "<DevID>%s</DevID><DevTyp>phone</DevTyp></DevInf>",
                     valid_token(c->cfg.device_id, 200) ? c->cfg.device_id : "seam");
            out_results(&c->out, in->hdr.msg_id, cmd->cmd_id, devinf);
        }
    }
}

/* Checks the server's statuses for our previous message: a failing one ends the session. */
static unsigned failing_status(seam_syncml_client *c, const seam_syncml_msg *in) {
    for (size_t i = 0; i < in->n_cmds; i++) {
        const seam_syncml_cmd *s = &in->cmds[i];
        if (s->kind != SEAM_SYNCML_CMD_STATUS)
            continue;
        bool vital = strcmp(s->cmd_name, "SyncHdr") == 0 || strcmp(s->cmd_name, "Alert") == 0 ||
                     strcmp(s->cmd_name, "Sync") == 0 || strcmp(s->cmd_name, "Map") == 0;
        if (s->code >= 300 && s->code != SEAM_SYNCML_REFRESH_REQUIRED && vital)
            return s->code;
        if (s->code >= 300 && !vital)
            c->report.conflicts += s->code == SEAM_SYNCML_CONFLICT_SERVER_WON;
    }
    return 0;
}

/* A Pkg3 message: the statuses still waiting first, then as many pending changes as fit in a
   Sync; Final when nothing of either is left. */
static seam_syncml_state send_changes(seam_syncml_client *c, uint8_t **out, size_t *out_len) {
    size_t limit = send_limit(c);
    seam_err flushed = out_flush(&c->out, c->cfg.format, limit);
    if (flushed)
        return fail(c, flushed, SEAM_SYNCML_COMMAND_FAILED);
    bool with_sync = !out_waiting(&c->out);
    if (with_sync)
        out_sync(&c->out, remote_db(c), c->cfg.db);
    size_t first = c->changes.next;
    while (with_sync && c->changes.next < c->changes.n) {
        syncml_change *ch = &c->changes.v[c->changes.next];
        size_t need = strlen(ch->key) + (ch->content ? strlen(ch->content) : 0) + 160;
        if (c->changes.next > first && !out_has_room(&c->out, limit, need))
            break;
        /* Client -> server: the item names its LUID as Source. */
        out_op(&c->out, ch->op, NULL, ch->key, ch->content);
        c->changes.next++;
    }
    for (;;) {
        c->out.msg.final = with_sync && c->changes.next == c->changes.n;
        seam_err err = out_encode(&c->out, c->cfg.format, limit, out, out_len);
        if (err != SEAM_ERR_SYNCML_OVERSIZE || c->changes.next - first <= 1) {
            if (err)
                return fail(c, err, SEAM_SYNCML_COMMAND_FAILED);
            break;
        }
        out_pop_op(&c->out); /* the estimate was short: leave the last one for later */
        c->changes.next--;
    }
    c->report.sent += (unsigned)(c->changes.next - first);
    c->state = C_PKG3;
    c->sent_final = c->out.msg.final;
    return SEAM_SYNCML_CONTINUE;
}

static seam_syncml_state on_pkg2(seam_syncml_client *c, const seam_syncml_msg *in, uint8_t **out,
                                 size_t *out_len) {
    const seam_syncml_cmd *hdr = find_status(in, "SyncHdr");
    if (!hdr)
        return fail(c, SEAM_ERR_SYNCML_PROTOCOL, SEAM_SYNCML_BAD_REQUEST);
    if (hdr->code == SEAM_SYNCML_INVALID_CRED || hdr->code == SEAM_SYNCML_MISSING_CRED) {
        bool md5 = hdr->chal_type && strcmp(hdr->chal_type, "syncml:auth-md5") == 0;
        if (!c->retried && md5 && c->cfg.auth == SEAM_SYNCML_AUTH_MD5 && c->cfg.user &&
            valid_token(hdr->chal_nonce, sizeof c->nonce)) {
            c->retried = true;
            snprintf(c->nonce, sizeof c->nonce, "%s", hdr->chal_nonce);
            return send_pkg1(c, out, out_len);
        }
        return fail(c, SEAM_OK, hdr->code);
    }
    unsigned bad = failing_status(c, in);
    if (bad)
        return fail(c, SEAM_OK, bad);
    const seam_syncml_cmd *alert = find_cmd(in, SEAM_SYNCML_CMD_ALERT);
    if (!alert || alert->code < SEAM_SYNCML_TWO_WAY ||
        alert->code > SEAM_SYNCML_REFRESH_FROM_SERVER)
        return fail(c, SEAM_ERR_SYNCML_PROTOCOL, SEAM_SYNCML_BAD_REQUEST);
    c->report.type = alert->code;
    c->peer_max = (unsigned)in->hdr.max_msg_size;
    seam_syncml_sync_type t = c->report.type;
    seam_err err = SEAM_OK;
    if (t == SEAM_SYNCML_REFRESH_FROM_SERVER)
        err = c->store.wipe(c->store.ctx, c->cfg.db);
    if (!err && t != SEAM_SYNCML_ONE_WAY_FROM_SERVER && t != SEAM_SYNCML_REFRESH_FROM_SERVER)
        err = changes_load(&c->changes, &c->store, c->cfg.db, c->cfg.server_uri,
                           t == SEAM_SYNCML_SLOW || t == SEAM_SYNCML_REFRESH_FROM_CLIENT);
    if (err)
        return fail(c, err, SEAM_SYNCML_STORE_FAILURE);
    header(c);
    answer_commands(c, in);
    return send_changes(c, out, out_len);
}

static bool remember_map(seam_syncml_client *c, const char *guid, const char *luid) {
    if (c->n_map == c->cap_map) {
        size_t cap = c->cap_map ? 2 * c->cap_map : 32;
        map_entry *v = realloc(c->map, cap * sizeof *v);
        if (!v)
            return false;
        c->map = v;
        c->cap_map = cap;
    }
    seam_err err = SEAM_OK;
    map_entry *e = &c->map[c->n_map];
    e->guid = syncml_strdup(guid, &err);
    e->luid = syncml_strdup(luid, &err);
    if (err) {
        free(e->guid);
        free(e->luid);
        return false;
    }
    c->n_map++;
    return true;
}

/* Applies one of the server's operations and answers it. */
static seam_err apply_op(seam_syncml_client *c, const seam_syncml_msg *in,
                         const seam_syncml_cmd *op) {
    const char *name = syncml_cmd_name(op->kind);
    for (size_t i = 0; i < op->n_items; i++) {
        const seam_syncml_item *item = &op->items[i];
        seam_syncml_change change = {0};
        char key[SEAM_SYNCML_KEY_MAX] = "";
        unsigned status = SEAM_SYNCML_BAD_REQUEST;
        const char *guid = item->source;
        /* Server -> client: Add names the GUID as Source; Replace/Delete the LUID as Target. */
        change.key = op->kind == SEAM_SYNCML_CMD_ADD ? guid : item->target;
        change.content = item->data;
        change.content_len = item->data ? strlen(item->data) : 0;
        change.op = op->kind == SEAM_SYNCML_CMD_ADD       ? SEAM_SYNCML_OP_ADD
                    : op->kind == SEAM_SYNCML_CMD_REPLACE ? SEAM_SYNCML_OP_REPLACE
                                                          : SEAM_SYNCML_OP_DELETE;
        bool usable = valid_token(change.key, SEAM_SYNCML_KEY_MAX) &&
                      (change.op == SEAM_SYNCML_OP_DELETE || change.content) &&
                      (change.op != SEAM_SYNCML_OP_ADD || valid_token(guid, SEAM_SYNCML_KEY_MAX));
        if (usable) {
            if (c->store.apply(c->store.ctx, c->cfg.db, &change, key, &status) != SEAM_OK)
                return SEAM_ERR_SYNCML_STORE;
            if (change.op == SEAM_SYNCML_OP_REPLACE && status == SEAM_SYNCML_NOT_FOUND &&
                valid_token(guid, SEAM_SYNCML_KEY_MAX)) {
                /* Deleted here meanwhile: the server's modify wins, the record comes back. */
                change.op = SEAM_SYNCML_OP_ADD;
                if (c->store.apply(c->store.ctx, c->cfg.db, &change, key, &status) != SEAM_OK)
                    return SEAM_ERR_SYNCML_STORE;
            }
            if (change.op == SEAM_SYNCML_OP_ADD && status == SEAM_SYNCML_ITEM_ADDED &&
                !remember_map(c, guid, key))
                return SEAM_ERR_NOMEM;
            if (status < 300)
                c->report.received++;
        }
        out_status_later(&c->out, in->hdr.msg_id, op->cmd_id, name, item->target, item->source,
                         status);
    }
    return c->out.err;
}

/* Sends a Pkg5 message; with the last one the store commits: everything the server sent is
 * applied here, so an answer lost on the way back costs a slow sync, never a lost change. */
static seam_syncml_state send_pkg5(seam_syncml_client *c, uint8_t **out, size_t *out_len) {
    c->out.msg.final = !out_waiting(&c->out) && c->map_sent == c->n_map;
    seam_syncml_state state = send(c, C_PKG6, out, out_len);
    if (state != SEAM_SYNCML_CONTINUE || !c->out.msg.final)
        return state;
    if (c->store.commit(c->store.ctx, c->cfg.db, c->cfg.server_uri, c->next) != SEAM_OK) {
        seam_syncml_bytes_free(*out);
        *out = NULL;
        return fail(c, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    }
    c->began = false;
    return state;
}

/* The statuses still waiting, as many as fit; then, when all are in, the Map entries not sent
   yet, as many as fit in the message. */
static void add_statuses_and_map(seam_syncml_client *c) {
    size_t limit = send_limit(c);
    seam_err err = out_flush(&c->out, c->cfg.format, limit);
    if (err && !c->out.err)
        c->out.err = err;
    limit -= 200; /* an Alert 222 may follow */
    if (out_waiting(&c->out) || c->map_sent == c->n_map || !out_has_room(&c->out, limit, 400))
        return;
    out_map(&c->out, remote_db(c), c->cfg.db);
    while (c->map_sent < c->n_map) {
        map_entry *e = &c->map[c->map_sent];
        if (!out_has_room(&c->out, limit, strlen(e->guid) + strlen(e->luid) + 120))
            break;
        out_map_item(&c->out, e->guid, e->luid);
        c->map_sent++;
    }
}

/* A Pkg4 message: statuses for ours, the server's Sync applied; then 222 or Pkg5. */
static seam_syncml_state on_pkg4(seam_syncml_client *c, const seam_syncml_msg *in, uint8_t **out,
                                 size_t *out_len) {
    unsigned bad = failing_status(c, in);
    if (bad)
        return fail(c, SEAM_OK, bad);
    header(c);
    answer_commands(c, in);
    for (size_t i = 0; i < in->n_cmds; i++) {
        const seam_syncml_cmd *sync = &in->cmds[i];
        if (sync->kind != SEAM_SYNCML_CMD_SYNC)
            continue;
        out_status_later(&c->out, in->hdr.msg_id, sync->cmd_id, "Sync", sync->target, sync->source,
                         SEAM_SYNCML_OK);
        for (size_t j = 0; j < sync->n_ops; j++) {
            seam_err err = apply_op(c, in, &sync->ops[j]);
            if (err)
                return fail(c, err, SEAM_SYNCML_STORE_FAILURE);
        }
    }
    add_statuses_and_map(c);
    if (!in->final) {
        out_alert(&c->out, SEAM_SYNCML_ALERT_NEXT_MESSAGE, remote_db(c), c->cfg.db, NULL, NULL);
        return send(c, C_PKG4, out, out_len);
    }
    bool only_statuses = true;
    for (size_t i = 0; i < in->n_cmds; i++)
        only_statuses = only_statuses && in->cmds[i].kind == SEAM_SYNCML_CMD_STATUS;
    if (only_statuses && c->n_map == 0 && !out_waiting(&c->out)) {
        /* Nothing to answer (one-way or refresh from client): the session ends here. */
        if (c->store.commit(c->store.ctx, c->cfg.db, c->cfg.server_uri, c->next) != SEAM_OK)
            return fail(c, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
        c->began = false;
        c->state = C_DONE;
        return SEAM_SYNCML_DONE;
    }
    return send_pkg5(c, out, out_len);
}

seam_syncml_state seam_syncml_client_step(seam_syncml_client *c, const uint8_t *in, size_t len,
                                          uint8_t **out, size_t *out_len) {
    if (!c || !out || !out_len)
        return SEAM_SYNCML_FAILED;
    *out = NULL;
    *out_len = 0;
    if (c->state == C_DONE)
        return SEAM_SYNCML_DONE;
    if (c->state == C_FAILED || c->state == C_IDLE)
        return SEAM_SYNCML_FAILED;
    if (!in)
        return fail(c, SEAM_ERR_ARG, 0);
    seam_syncml_msg msg;
    seam_err err = seam_syncml_decode(in, len, c->cfg.format, &msg);
    if (err)
        return fail(c, err, SEAM_SYNCML_BAD_REQUEST);
    c->report.messages++;
    if (msg.hdr.resp_uri) {
        seam_err copy_err = SEAM_OK;
        char *uri = syncml_strdup(msg.hdr.resp_uri, &copy_err);
        if (uri) {
            free(c->resp_uri);
            c->resp_uri = uri;
        }
    }
    seam_syncml_state state;
    if (strcmp(msg.hdr.session_id, c->cfg.session_id) != 0) {
        state = fail(c, SEAM_ERR_SYNCML_PROTOCOL, SEAM_SYNCML_BAD_REQUEST);
    } else if (c->state == C_PKG2) {
        state = on_pkg2(c, &msg, out, out_len);
    } else if (c->state == C_PKG3 && !c->sent_final) {
        unsigned bad = failing_status(c, &msg);
        if (bad || find_cmd(&msg, SEAM_SYNCML_CMD_SYNC))
            state = fail(c, bad ? SEAM_OK : SEAM_ERR_SYNCML_PROTOCOL,
                         bad ? bad : SEAM_SYNCML_BAD_REQUEST);
        else {
            header(c);
            answer_commands(c, &msg);
            state = send_changes(c, out, out_len);
        }
    } else if (c->state == C_PKG3 || c->state == C_PKG4) {
        state = on_pkg4(c, &msg, out, out_len);
    } else if (!c->sent_final) { /* C_PKG6: the server asks for the rest of Pkg5 */
        unsigned bad = failing_status(c, &msg);
        if (bad || msg.final)
            state = fail(c, bad ? SEAM_OK : SEAM_ERR_SYNCML_PROTOCOL,
                         bad ? bad : SEAM_SYNCML_BAD_REQUEST);
        else {
            header(c);
            answer_commands(c, &msg);
            add_statuses_and_map(c);
            state = send_pkg5(c, out, out_len);
        }
    } else { /* C_PKG6: committed already; Pkg6 confirms */
        unsigned bad = failing_status(c, &msg);
        if (bad || !msg.final) {
            c->report.status = bad ? bad : SEAM_SYNCML_BAD_REQUEST;
            c->report.err = bad ? SEAM_OK : SEAM_ERR_SYNCML_PROTOCOL;
            c->state = C_FAILED;
            state = SEAM_SYNCML_FAILED;
        } else {
            c->state = C_DONE;
            state = SEAM_SYNCML_DONE;
        }
    }
    seam_syncml_msg_free(&msg);
    return state;
}

void seam_syncml_client_free(seam_syncml_client *c) {
    if (!c)
        return;
    if (c->began)
        c->store.rollback(c->store.ctx, c->cfg.db, c->cfg.server_uri);
    for (size_t i = 0; i < sizeof c->strings / sizeof c->strings[0]; i++)
        free(c->strings[i]);
    for (size_t i = 0; i < c->n_map; i++) {
        free(c->map[i].guid);
        free(c->map[i].luid);
    }
    free(c->map);
    free(c->resp_uri);
    changes_free(&c->changes);
    out_free(&c->out);
    free(c);
}
