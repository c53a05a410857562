/*
 * The OMA DS 1.2 server session engine (cat_sync.md B.3-B.6), transport-agnostic:
 * each step() takes the client's message and gives the answer.
 *
 * States (what the server waits for):
 *
 *   PKG1  Pkg1. Credentials first. MD5 required and none (407) or not valid for
 *         a nonce of this session (401): a challenge with a fresh nonce, once ->
 *         PKG1. Otherwise none -> 407, wrong -> 401: FAILED, the store never
 *         opened. Then the Alert: its database must be
 *         ours (else 404 -> FAILED); its Last anchor is compared with the client's
 *         Next stored at the end of the last session: no anchor or a mismatch
 *         turns 200/202/204 into their slow variants 201/203/205 with status 508.
 *         Begin the store session, load the server's changes (every record for
 *         201/205, none for 202/203; wipe for 203), answer Pkg2 (statuses, the
 *         server's Alert with the sync type, Final) -> PKG3.
 *   PKG3  Pkg3 messages: apply each Add/Replace/Delete (LUID -> GUID by the map,
 *         conflicts by the store's policy; in a slow sync a record the map or its
 *         content already matches is not added twice). Every status is queued;
 *         a message carries the SyncHdr status, then the queued ones that fit,
 *         oldest first (the rest wait for the next message). Without Final: those
 *         statuses + Alert 222 -> PKG3. With Final: the first Pkg4 message
 *         (statuses; once none waits, the Sync with as many server changes as the
 *         client's MaxMsgSize allows) -> PKG4, or, when no status waits and it
 *         holds the last change, with Final -> PKG5. For 202/203 (nothing goes to
 *         the client) Pkg4 is statuses only, Final once none waits: commit -> DONE,
 *         as libsynthesis does.
 *   PKG4  the client's answer to a Pkg4 message without Final (statuses, Alert
 *         222): the next Pkg4 message -> PKG4 / PKG5 (/ DONE for 202/203).
 *   PKG5  Pkg5 messages: the Map (LUID <-> GUID of the records the client added).
 *         Without Final: statuses + Alert 222 -> PKG5. With Final: Pkg6 (its
 *         statuses must all fit, else FAILED), commit the store with the client's
 *         Next anchor -> DONE.
 *   DONE, FAILED: final. A malformed message, a message of another session, or a
 *         store failure: roll back -> FAILED, nothing applied, anchors unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"

typedef enum { S_PKG1, S_PKG3, S_PKG4, S_PKG5, S_DONE, S_FAILED } server_state;

struct seam_syncml_server {
    seam_syncml_store store;
    seam_syncml_config cfg;
    char *strings[7];
    server_state state;
    bool began, challenged, authed;
    bool starved; /* the last Pkg4 message had no room for an operation */
    unsigned msg_id;
    char *session_id, *peer, *peer_db; /* from Pkg1 */
    unsigned long peer_max;
    char nonce[32];
    char client_next[SEAM_SYNCML_ANCHOR_MAX];
    syncml_changes changes;
    syncml_out out;
    seam_syncml_report report;
};

seam_syncml_server *seam_syncml_server_new(const seam_syncml_store *store,
                                           const seam_syncml_config *cfg) {
    if (!store || !cfg || !cfg->db || !cfg->device_id)
        return NULL;
    seam_syncml_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->store = *store;
    s->cfg = *cfg;
    seam_err err = SEAM_OK;
    const char **fields[] = {&s->cfg.db,       &s->cfg.remote_db,  &s->cfg.device_id, &s->cfg.user,
                             &s->cfg.password, &s->cfg.server_uri, &s->cfg.resp_uri};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = s->strings[i] = syncml_strdup(*fields[i], &err);
    if (err || out_init(&s->out, s->cfg.format) != SEAM_OK) {
        seam_syncml_server_free(s);
        return NULL;
    }
    s->msg_id = 1;
    return s;
}

const seam_syncml_report *seam_syncml_server_report(const seam_syncml_server *s) {
    return &s->report;
}

static seam_syncml_state fail(seam_syncml_server *s, seam_err err, unsigned status) {
    if (s->began)
        s->store.rollback(s->store.ctx, s->cfg.db, s->peer);
    s->began = false;
    s->state = S_FAILED;
    s->report.err = err;
    s->report.status = status;
    return SEAM_SYNCML_FAILED;
}

static size_t send_limit(const seam_syncml_server *s) {
    size_t max = SEAM_SYNCML_MAX_MESSAGE;
    if (s->cfg.max_msg_size && s->cfg.max_msg_size < max)
        max = s->cfg.max_msg_size;
    if (s->peer_max && s->peer_max < max)
        max = s->peer_max;
    return max < SEAM_SYNCML_MIN_MSG_SIZE ? SEAM_SYNCML_MIN_MSG_SIZE : max;
}

/* Starts an answer to in: header and the SyncHdr status. */
static void answer(seam_syncml_server *s, const seam_syncml_msg *in, unsigned hdr_code) {
    out_reset(&s->out);
    out_header(&s->out, in->hdr.session_id, s->msg_id++, in->hdr.source, s->cfg.device_id);
    out_status(&s->out, in->hdr.msg_id, 0, "SyncHdr", in->hdr.target, in->hdr.source, hdr_code);
    if (s->cfg.max_msg_size)
        s->out.msg.hdr.max_msg_size = s->cfg.max_msg_size;
    if (s->cfg.resp_uri) /* where the client sends the next message (the transport's session) */
        s->out.msg.hdr.resp_uri = out_str(&s->out, s->cfg.resp_uri);
}

static seam_syncml_state send(seam_syncml_server *s, server_state next, uint8_t **out,
                              size_t *out_len) {
    seam_err err = out_encode(&s->out, s->cfg.format, send_limit(s), out, out_len);
    if (err)
        return fail(s, err, SEAM_SYNCML_COMMAND_FAILED);
    s->state = next;
    return SEAM_SYNCML_CONTINUE;
}

/* Answers in with its SyncHdr status only and ends the session: the client must learn why. */
static seam_syncml_state refuse(seam_syncml_server *s, const seam_syncml_msg *in, unsigned code,
                                uint8_t **out, size_t *out_len) {
    answer(s, in, code);
    s->out.msg.final = true;
    if (out_encode(&s->out, s->cfg.format, send_limit(s), out, out_len) != SEAM_OK)
        *out = NULL;
    return fail(s, SEAM_OK, code);
}

/* Credentials of Pkg1: 0 when accepted, else the status to refuse with. */
static unsigned check_cred(seam_syncml_server *s, const seam_syncml_msg *in) {
    if (!s->cfg.user)
        return 0;
    if (in->hdr.cred_type == SEAM_SYNCML_AUTH_NONE)
        return SEAM_SYNCML_MISSING_CRED;
    const char *nonce = s->cfg.auth == SEAM_SYNCML_AUTH_MD5 ? s->nonce : NULL;
    if (!auth_check(&in->hdr, s->cfg.auth, s->cfg.user, s->cfg.password ? s->cfg.password : "",
                    nonce))
        return SEAM_SYNCML_INVALID_CRED;
    return 0;
}

static seam_syncml_state on_pkg1(seam_syncml_server *s, const seam_syncml_msg *in, uint8_t **out,
                                 size_t *out_len) {
    unsigned refused = check_cred(s, in);
    if (refused && s->cfg.auth == SEAM_SYNCML_AUTH_MD5 && !s->challenged) {
        /* No credentials, or computed with a nonce this session never gave: one challenge. */
        s->challenged = true;
        if (auth_nonce(s->nonce) != SEAM_OK)
            return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_COMMAND_FAILED);
        answer(s, in, refused);
        s->out.cmds[0].chal_type = "syncml:auth-md5";
        s->out.cmds[0].chal_nonce = out_str(&s->out, s->nonce);
        s->out.msg.final = true;
        return send(s, S_PKG1, out, out_len);
    }
    if (refused) {
        answer(s, in, refused);
        if (s->cfg.auth == SEAM_SYNCML_AUTH_BASIC)
            s->out.cmds[0].chal_type = "syncml:auth-basic";
        s->out.msg.final = true;
        if (out_encode(&s->out, s->cfg.format, send_limit(s), out, out_len) != SEAM_OK)
            *out = NULL;
        return fail(s, SEAM_OK, refused);
    }
    s->authed = s->cfg.user != NULL;
    const seam_syncml_cmd *alert = find_cmd(in, SEAM_SYNCML_CMD_ALERT);
    const seam_syncml_item *item = alert && alert->n_items == 1 ? &alert->items[0] : NULL;
    if (!item || alert->code < SEAM_SYNCML_TWO_WAY ||
        alert->code > SEAM_SYNCML_REFRESH_FROM_SERVER ||
        !valid_token(item->anchor_next, SEAM_SYNCML_ANCHOR_MAX) ||
        !valid_token(in->hdr.source, SEAM_SYNCML_KEY_MAX) || !valid_token(item->source, 256))
        return refuse(s, in, SEAM_SYNCML_BAD_REQUEST, out, out_len);
    if (!item->target || strcmp(item->target, s->cfg.db) != 0)
        return refuse(s, in, SEAM_SYNCML_NOT_FOUND, out, out_len);
    seam_err err = SEAM_OK;
    s->session_id = syncml_strdup(in->hdr.session_id, &err);
    s->peer = syncml_strdup(in->hdr.source, &err);
    s->peer_db = syncml_strdup(item->source, &err);
    if (err)
        return fail(s, err, SEAM_SYNCML_COMMAND_FAILED);
    s->peer_max = in->hdr.max_msg_size;
    snprintf(s->client_next, sizeof s->client_next, "%s", item->anchor_next);

    if (s->store.begin(s->store.ctx, s->cfg.db, s->peer) != SEAM_OK)
        return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    s->began = true;
    char stored[SEAM_SYNCML_ANCHOR_MAX] = "", next[SEAM_SYNCML_ANCHOR_MAX] = "";
    if (s->store.last_anchor(s->store.ctx, s->cfg.db, s->peer, stored) != SEAM_OK ||
        s->store.next_anchor(s->store.ctx, s->cfg.db, next) != SEAM_OK)
        return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    seam_syncml_sync_type type = alert->code;
    unsigned alert_status = SEAM_SYNCML_OK;
    bool incremental = type == SEAM_SYNCML_TWO_WAY || type == SEAM_SYNCML_ONE_WAY_FROM_CLIENT ||
                       type == SEAM_SYNCML_ONE_WAY_FROM_SERVER;
    if (incremental &&
        (!stored[0] || !item->anchor_last || strcmp(stored, item->anchor_last) != 0)) {
        alert_status = SEAM_SYNCML_REFRESH_REQUIRED; /* B.3: the slow variant */
        type = type + 1;
    }
    s->report.type = type;
    if (type == SEAM_SYNCML_REFRESH_FROM_CLIENT)
        err = s->store.wipe(s->store.ctx, s->cfg.db);
    if (!err && type != SEAM_SYNCML_ONE_WAY_FROM_CLIENT && type != SEAM_SYNCML_REFRESH_FROM_CLIENT)
        err = changes_load(&s->changes, &s->store, s->cfg.db, s->peer,
                           type == SEAM_SYNCML_SLOW || type == SEAM_SYNCML_REFRESH_FROM_SERVER);
    if (err)
        return fail(s, err, SEAM_SYNCML_STORE_FAILURE);

    answer(s, in, s->authed ? SEAM_SYNCML_AUTH_ACCEPTED : SEAM_SYNCML_OK);
    seam_syncml_cmd *st = out_status(&s->out, in->hdr.msg_id, alert->cmd_id, "Alert", item->target,
                                     item->source, alert_status);
    if (st) {
        /* The status echoes the client's Next anchor (B.3). */
        st->items = &s->out.items[s->out.n_items++];
        st->n_items = 1;
        st->items->anchor_next = out_str(&s->out, s->client_next);
    }
    for (size_t i = 0; i < in->n_cmds; i++)
        if (in->cmds[i].kind == SEAM_SYNCML_CMD_PUT)
            out_status(&s->out, in->hdr.msg_id, in->cmds[i].cmd_id, "Put", NULL, NULL,
                       SEAM_SYNCML_OK);
    char own[SEAM_SYNCML_ANCHOR_MAX] = "";
    if (s->store.own_anchor &&
        s->store.own_anchor(s->store.ctx, s->cfg.db, s->peer, own) != SEAM_OK)
        return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    const char *last = s->store.own_anchor ? own : stored;
    out_alert(&s->out, type, s->peer_db, s->cfg.db, last[0] ? last : NULL, next);
    s->out.msg.final = true;
    return send(s, S_PKG3, out, out_len);
}

static bool slow(const seam_syncml_server *s) {
    return s->report.type == SEAM_SYNCML_SLOW || s->report.type == SEAM_SYNCML_REFRESH_FROM_CLIENT;
}

/* In a slow sync: a server record with this content not yet matched, to map instead of adding. */
static syncml_change *same_content(seam_syncml_server *s, const char *content) {
    for (size_t i = 0; i < s->changes.n; i++) {
        syncml_change *c = &s->changes.v[i];
        if (!c->done && c->content && content && strcmp(c->content, content) == 0)
            return c;
    }
    return NULL;
}

/* Applies one client operation; returns its OMA status (0 with *err set on store failure). */
static unsigned apply_one(seam_syncml_server *s, seam_syncml_cmd_kind kind,
                          const seam_syncml_item *item, seam_err *err) {
    const char *luid = item->source;
    if (!valid_token(luid, SEAM_SYNCML_KEY_MAX) || (kind != SEAM_SYNCML_CMD_DELETE && !item->data))
        return SEAM_SYNCML_BAD_REQUEST;
    char guid[SEAM_SYNCML_KEY_MAX] = "";
    if (s->store.map_get(s->store.ctx, s->cfg.db, s->peer, true, luid, guid) != SEAM_OK) {
        *err = SEAM_ERR_SYNCML_STORE;
        return 0;
    }
    bool client_won = false;
    seam_syncml_change change = {.content = item->data,
                                 .content_len = item->data ? strlen(item->data) : 0};
    syncml_change *mine = guid[0] ? changes_find(&s->changes, guid) : NULL;
    if (!guid[0] && kind != SEAM_SYNCML_CMD_DELETE && slow(s)) {
        syncml_change *twin = same_content(s, item->data);
        if (twin) { /* the same record on both sides: map it, add nothing */
            twin->done = true;
            if (s->store.map_put(s->store.ctx, s->cfg.db, s->peer, luid, twin->key) != SEAM_OK)
                *err = SEAM_ERR_SYNCML_STORE;
            return SEAM_SYNCML_OK;
        }
    }
    if (kind == SEAM_SYNCML_CMD_DELETE) {
        if (!guid[0])
            return SEAM_SYNCML_NOT_DELETED;
        if (mine && !mine->done && mine->op != SEAM_SYNCML_OP_DELETE) {
            s->report.conflicts++; /* a delete against a modify: the modify wins */
            return SEAM_SYNCML_CONFLICT_SERVER_WON;
        }
        if (mine)
            mine->done = true;
        change.op = SEAM_SYNCML_OP_DELETE;
        change.key = guid;
    } else if (!guid[0]) {
        change.op = SEAM_SYNCML_OP_ADD;
        change.key = luid;
    } else {
        change.op = SEAM_SYNCML_OP_REPLACE;
        change.key = guid;
        if (mine && !mine->done && !slow(s)) {
            seam_syncml_change theirs = {mine->op, mine->key, mine->content,
                                         mine->content ? strlen(mine->content) : 0};
            bool client_wins =
                s->store.client_wins && mine->op != SEAM_SYNCML_OP_DELETE &&
                s->store.client_wins(s->store.ctx, s->cfg.db, guid, &theirs, &change);
            if (mine->op == SEAM_SYNCML_OP_DELETE)
                client_wins = true; /* a modify against a delete: the modify wins */
            s->report.conflicts++;
            if (!client_wins)
                return SEAM_SYNCML_CONFLICT_SERVER_WON;
            mine->done = true;
            client_won = true;
        } else if (mine) {
            mine->done = true; /* slow sync: the client's copy is the one kept */
        }
    }
    char key[SEAM_SYNCML_KEY_MAX] = "";
    unsigned status = SEAM_SYNCML_COMMAND_FAILED;
    if (s->store.apply(s->store.ctx, s->cfg.db, &change, key, &status) != SEAM_OK) {
        *err = SEAM_ERR_SYNCML_STORE;
        return 0;
    }
    if (change.op == SEAM_SYNCML_OP_REPLACE && status == SEAM_SYNCML_NOT_FOUND) {
        change.op = SEAM_SYNCML_OP_ADD; /* deleted here: the client's modify brings it back */
        if (s->store.apply(s->store.ctx, s->cfg.db, &change, key, &status) != SEAM_OK) {
            *err = SEAM_ERR_SYNCML_STORE;
            return 0;
        }
    }
    if (change.op == SEAM_SYNCML_OP_ADD && status == SEAM_SYNCML_ITEM_ADDED &&
        s->store.map_put(s->store.ctx, s->cfg.db, s->peer, luid, key) != SEAM_OK) {
        *err = SEAM_ERR_SYNCML_STORE;
        return 0;
    }
    if (status < 300)
        s->report.received++;
    return client_won && status == SEAM_SYNCML_OK ? SEAM_SYNCML_CONFLICT_CLIENT_WON : status;
}

/* Queues the statuses for the commands of in (and the ops applied); *err on store failure. */
static seam_err take_message(seam_syncml_server *s, const seam_syncml_msg *in) {
    seam_err err = SEAM_OK;
    for (size_t i = 0; i < in->n_cmds && !err; i++) {
        const seam_syncml_cmd *cmd = &in->cmds[i];
        if (cmd->kind == SEAM_SYNCML_CMD_STATUS) {
            if (cmd->code >= 300 && cmd->code != SEAM_SYNCML_REFRESH_REQUIRED)
                s->report.conflicts += cmd->code == SEAM_SYNCML_CONFLICT_SERVER_WON;
            continue;
        }
        if (cmd->kind == SEAM_SYNCML_CMD_MAP) {
            unsigned code = SEAM_SYNCML_OK;
            for (size_t j = 0; j < cmd->n_items && !err; j++) {
                const seam_syncml_item *m = &cmd->items[j];
                if (!valid_token(m->source, SEAM_SYNCML_KEY_MAX) ||
                    !valid_token(m->target, SEAM_SYNCML_KEY_MAX))
                    code = SEAM_SYNCML_BAD_REQUEST;
                else if (s->store.map_put(s->store.ctx, s->cfg.db, s->peer, m->source, m->target) !=
                         SEAM_OK)
                    err = SEAM_ERR_SYNCML_STORE;
            }
            out_status_later(&s->out, in->hdr.msg_id, cmd->cmd_id, "Map", cmd->target, cmd->source,
                             code);
            continue;
        }
        bool sync_allowed = s->state == S_PKG3 && cmd->kind == SEAM_SYNCML_CMD_SYNC;
        if (cmd->kind == SEAM_SYNCML_CMD_SYNC && !sync_allowed)
            return SEAM_ERR_SYNCML_PROTOCOL;
        out_status_later(&s->out, in->hdr.msg_id, cmd->cmd_id, syncml_cmd_name(cmd->kind),
                         cmd->target, cmd->source, SEAM_SYNCML_OK);
        if (cmd->kind != SEAM_SYNCML_CMD_SYNC)
            continue;
        bool from_client_allowed = s->report.type != SEAM_SYNCML_ONE_WAY_FROM_SERVER &&
                                   s->report.type != SEAM_SYNCML_REFRESH_FROM_SERVER;
        for (size_t j = 0; j < cmd->n_ops && !err; j++) {
            const seam_syncml_cmd *op = &cmd->ops[j];
            for (size_t k = 0; k < op->n_items && !err; k++) {
                unsigned code =
                    from_client_allowed ? apply_one(s, op->kind, &op->items[k], &err) : 405;
                out_status_later(&s->out, in->hdr.msg_id, op->cmd_id, syncml_cmd_name(op->kind),
                                 op->items[k].target, op->items[k].source, code);
            }
        }
    }
    return err ? err : s->out.err;
}

static seam_syncml_state commit(seam_syncml_server *s, uint8_t **out);

/* The next Pkg4 message: the statuses still waiting first, then as many server changes as fit;
   Final once both are all sent. For 202/203 (no Sync to the client) Final commits. */
static seam_syncml_state send_changes(seam_syncml_server *s, uint8_t **out, size_t *out_len) {
    size_t limit = send_limit(s);
    seam_err flushed = out_flush(&s->out, s->cfg.format, limit);
    if (flushed)
        return fail(s, flushed, SEAM_SYNCML_COMMAND_FAILED);
    bool all =
        s->report.type == SEAM_SYNCML_SLOW || s->report.type == SEAM_SYNCML_REFRESH_FROM_SERVER;
    bool to_client = s->report.type != SEAM_SYNCML_ONE_WAY_FROM_CLIENT &&
                     s->report.type != SEAM_SYNCML_REFRESH_FROM_CLIENT;
    bool with_sync = to_client && !out_waiting(&s->out);
    size_t first = s->out.n_ops;
    size_t *next = &s->changes.next;
    size_t from[SEAM_SYNCML_MAX_COMMANDS]; /* the change each operation of this message came from */
    if (with_sync)
        out_sync(&s->out, s->peer_db, s->cfg.db);
    while (with_sync && *next < s->changes.n) {
        syncml_change *ch = &s->changes.v[*next];
        size_t need = strlen(ch->key) + (ch->content ? strlen(ch->content) : 0) + 160;
        if (ch->done) {
            (*next)++;
            continue;
        }
        if (s->out.n_ops > first && !out_has_room(&s->out, limit, need))
            break;
        char luid[SEAM_SYNCML_KEY_MAX] = "";
        if (!all &&
            s->store.map_get(s->store.ctx, s->cfg.db, s->peer, false, ch->key, luid) != SEAM_OK)
            return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
        size_t before = s->out.n_ops;
        if (ch->op == SEAM_SYNCML_OP_DELETE) {
            if (luid[0])
                out_op(&s->out, SEAM_SYNCML_OP_DELETE, luid, NULL, NULL);
        } else if (luid[0]) {
            out_op(&s->out, SEAM_SYNCML_OP_REPLACE, luid, ch->key, ch->content);
        } else {
            out_op(&s->out, SEAM_SYNCML_OP_ADD, NULL, ch->key, ch->content);
        }
        if (s->out.n_ops > before)
            from[before] = *next;
        (*next)++;
    }
    for (;;) {
        s->out.msg.final = !out_waiting(&s->out) && *next == s->changes.n;
        seam_err err = out_encode(&s->out, s->cfg.format, limit, out, out_len);
        if (err != SEAM_ERR_SYNCML_OVERSIZE || s->out.n_ops == first ||
            (s->out.n_ops - first == 1 && s->starved)) {
            if (err)
                return fail(s, err, SEAM_SYNCML_COMMAND_FAILED);
            break;
        }
        /* The estimate was short: give the last operation back to the list (all of them when
           the statuses of the client's message fill this one: the next message carries them). */
        *next = from[s->out.n_ops - 1];
        out_pop_op(&s->out);
    }
    /* A message that carries no operation (statuses only) once: the next one must carry one,
       or the operation is larger than the client's MaxMsgSize (a large object: not supported). */
    s->starved = with_sync && s->out.n_ops == first && !s->out.msg.final;
    s->report.sent += (unsigned)(s->out.n_ops - first);
    if (s->out.msg.final && !to_client)
        return commit(s, out); /* no Sync to send, nothing to map: Pkg4 ends it */
    s->state = s->out.msg.final ? S_PKG5 : S_PKG4;
    return SEAM_SYNCML_CONTINUE;
}

static seam_syncml_state finish(seam_syncml_server *s, uint8_t **out, size_t *out_len);

static seam_syncml_state step(seam_syncml_server *s, const seam_syncml_msg *in, uint8_t **out,
                              size_t *out_len) {
    if (s->state == S_PKG1)
        return on_pkg1(s, in, out, out_len);
    if (strcmp(in->hdr.session_id, s->session_id) != 0 || strcmp(in->hdr.source, s->peer) != 0)
        return fail(s, SEAM_ERR_SYNCML_PROTOCOL, SEAM_SYNCML_BAD_REQUEST);
    answer(s, in, SEAM_SYNCML_OK);
    if (s->state == S_PKG4) {
        /* The client's answer to a Pkg4 message without Final. */
        seam_err err = take_message(s, in);
        if (err)
            return fail(s, err, SEAM_SYNCML_STORE_FAILURE);
        return send_changes(s, out, out_len);
    }
    seam_err err = take_message(s, in);
    if (err)
        return fail(s, err,
                    err == SEAM_ERR_SYNCML_PROTOCOL ? SEAM_SYNCML_BAD_REQUEST
                                                    : SEAM_SYNCML_STORE_FAILURE);
    if (!in->final) {
        /* More of the client's package follows: the statuses that fit, the rest wait. */
        err = out_flush(&s->out, s->cfg.format, send_limit(s));
        if (err)
            return fail(s, err, SEAM_SYNCML_COMMAND_FAILED);
        out_alert(&s->out, SEAM_SYNCML_ALERT_NEXT_MESSAGE, s->peer_db, s->cfg.db, NULL, NULL);
        return send(s, s->state, out, out_len);
    }
    if (s->state == S_PKG3)
        return send_changes(s, out, out_len);
    return finish(s, out, out_len); /* S_PKG5, final: Pkg6 */
}

/* Commits after the session's last message (in *out); DONE, or FAILED with *out dropped. */
static seam_syncml_state commit(seam_syncml_server *s, uint8_t **out) {
    if (s->store.commit(s->store.ctx, s->cfg.db, s->peer, s->client_next) != SEAM_OK) {
        seam_syncml_bytes_free(*out);
        *out = NULL;
        return fail(s, SEAM_ERR_SYNCML_STORE, SEAM_SYNCML_STORE_FAILURE);
    }
    s->began = false;
    s->state = S_DONE;
    return SEAM_SYNCML_DONE;
}

/* Pkg6, the last message of the session, statuses only (a Map status per Map command of the
   client's last message: they must fit in it), then the commit. */
static seam_syncml_state finish(seam_syncml_server *s, uint8_t **out, size_t *out_len) {
    seam_err err = out_flush(&s->out, s->cfg.format, send_limit(s));
    if (!err && out_waiting(&s->out))
        err = SEAM_ERR_SYNCML_OVERSIZE;
    if (err)
        return fail(s, err, SEAM_SYNCML_COMMAND_FAILED);
    s->out.msg.final = true;
    seam_syncml_state state = send(s, S_DONE, out, out_len);
    if (state != SEAM_SYNCML_CONTINUE)
        return state;
    return commit(s, out);
}

seam_syncml_state seam_syncml_server_step(seam_syncml_server *s, const uint8_t *in, size_t len,
                                          uint8_t **out, size_t *out_len) {
    if (!s || !out || !out_len)
        return SEAM_SYNCML_FAILED;
    *out = NULL;
    *out_len = 0;
    if (s->state == S_DONE)
        return SEAM_SYNCML_DONE;
    if (s->state == S_FAILED)
        return SEAM_SYNCML_FAILED;
    if (!in)
        return fail(s, SEAM_ERR_ARG, 0);
    seam_syncml_msg msg;
    seam_err err = seam_syncml_decode(in, len, s->cfg.format, &msg);
    if (err)
        return fail(s, err, SEAM_SYNCML_BAD_REQUEST);
    s->report.messages++;
    seam_syncml_state state = step(s, &msg, out, out_len);
    seam_syncml_msg_free(&msg);
    return state;
}

void seam_syncml_server_free(seam_syncml_server *s) {
    if (!s)
        return;
    if (s->began)
        s->store.rollback(s->store.ctx, s->cfg.db, s->peer);
    for (size_t i = 0; i < sizeof s->strings / sizeof s->strings[0]; i++)
        free(s->strings[i]);
    free(s->session_id);
    free(s->peer);
    free(s->peer_db);
    changes_free(&s->changes);
    out_free(&s->out);
    free(s);
}
