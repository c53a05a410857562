/*
 * What the two OMA DS session engines share: the outgoing message under
 * construction, the pending changes, authentication (basic, MD5 with a
 * nonce; cat_sync.md B.7) and lookups in the peer's message.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "engine.h"

char *syncml_strdup(const char *s, seam_err *err) {
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        *err = SEAM_ERR_NOMEM;
    return copy;
}

bool valid_token(const char *s, size_t max) {
    if (!s || !*s)
        return false;
    size_t len = strnlen(s, max);
    if (len >= max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || s[i] == 0x7F)
            return false;
    return true;
}

/* ---- outgoing message ---------------------------------------------------- */

/* What the XML form takes beyond the strings (each string: its length and 24 for its tags):
   the header, a command with its CmdID, what a Status adds (MsgRef, CmdRef, Data), an Item,
   the Meta/Type of an item with content; a little more than measured. WBXML takes about a
   third. */
#define SYNCML_HDR_BYTES      340u
#define SYNCML_CMD_BYTES      40u
#define SYNCML_STATUS_BYTES   44u
#define SYNCML_ITEM_BYTES     20u
#define SYNCML_TYPE_BYTES     60u
#define SYNCML_MAP_ITEM_BYTES 40u
#define SYNCML_ROOM_MARGIN    64u /* closing tags, Final */

seam_err out_init(syncml_out *o, seam_syncml_format format) {
    memset(o, 0, sizeof *o);
    o->wbxml = format == SEAM_SYNCML_WBXML;
    o->cmds = calloc(SEAM_SYNCML_MAX_COMMANDS, sizeof *o->cmds);
    o->ops = calloc(SEAM_SYNCML_MAX_COMMANDS, sizeof *o->ops);
    o->items = calloc(SEAM_SYNCML_MAX_ITEMS, sizeof *o->items);
    if (!o->cmds || !o->ops || !o->items) {
        out_free(o);
        return SEAM_ERR_NOMEM;
    }
    o->msg.cmds = o->cmds;
    o->next_cmd_id = 1;
    return SEAM_OK;
}

void out_reset(syncml_out *o) {
    for (size_t i = 0; i < o->n_strings; i++)
        free(o->strings[i]);
    o->n_strings = 0;
    memset(o->cmds, 0, SEAM_SYNCML_MAX_COMMANDS * sizeof *o->cmds);
    memset(o->ops, 0, SEAM_SYNCML_MAX_COMMANDS * sizeof *o->ops);
    memset(o->items, 0, SEAM_SYNCML_MAX_ITEMS * sizeof *o->items);
    memset(&o->msg, 0, sizeof o->msg);
    o->msg.cmds = o->cmds;
    o->n_ops = o->n_items = 0;
    o->next_cmd_id = 1;
    o->estimate = o->text = 0;
    o->err = SEAM_OK;
}

static void status_free(syncml_status *st) {
    free(st->cmd);
    free(st->target_ref);
    free(st->source_ref);
}

void out_free(syncml_out *o) {
    if (o->strings) {
        out_reset(o);
        free(o->strings);
    }
    for (size_t i = 0; i < o->n_waiting; i++)
        status_free(&o->waiting[i]);
    free(o->waiting);
    free(o->cmds);
    free(o->ops);
    free(o->items);
    memset(o, 0, sizeof *o);
}

const char *out_str(syncml_out *o, const char *s) {
    if (!s || o->err)
        return NULL;
    if (o->n_strings == o->cap_strings) {
        size_t cap = o->cap_strings ? 2 * o->cap_strings : 64;
        char **v = realloc(o->strings, cap * sizeof *v);
        if (!v) {
            o->err = SEAM_ERR_NOMEM;
            return NULL;
        }
        o->strings = v;
        o->cap_strings = cap;
    }
    char *copy = syncml_strdup(s, &o->err);
    if (copy)
        o->strings[o->n_strings++] = copy;
    o->estimate += strlen(s) + 24;
    o->text += strlen(s);
    return copy;
}

void out_header(syncml_out *o, const char *session_id, unsigned msg_id, const char *target,
                const char *source) {
    o->msg.hdr.session_id = out_str(o, session_id);
    o->msg.hdr.msg_id = msg_id;
    o->msg.hdr.target = out_str(o, target);
    o->msg.hdr.source = out_str(o, source);
    o->estimate += SYNCML_HDR_BYTES;
}

static seam_syncml_cmd *new_cmd(syncml_out *o, seam_syncml_cmd_kind kind) {
    if (o->err)
        return NULL;
    if (o->msg.n_cmds + o->n_ops >= SEAM_SYNCML_MAX_COMMANDS) {
        o->err = SEAM_ERR_SYNCML_OVERSIZE;
        return NULL;
    }
    seam_syncml_cmd *cmd = &o->cmds[o->msg.n_cmds++];
    cmd->kind = kind;
    cmd->cmd_id = o->next_cmd_id++;
    o->estimate += SYNCML_CMD_BYTES;
    return cmd;
}

static seam_syncml_item *new_item(syncml_out *o, seam_syncml_cmd *cmd) {
    if (o->err || !cmd)
        return NULL;
    if (o->n_items >= SEAM_SYNCML_MAX_ITEMS) {
        o->err = SEAM_ERR_SYNCML_OVERSIZE;
        return NULL;
    }
    seam_syncml_item *item = &o->items[o->n_items++];
    if (!cmd->items)
        cmd->items = item;
    cmd->n_items++; /* items of one command are added consecutively */
    o->estimate += SYNCML_ITEM_BYTES;
    return item;
}

seam_syncml_cmd *out_status(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *cmd_name,
                            const char *target_ref, const char *source_ref, unsigned code) {
    seam_syncml_cmd *cmd = new_cmd(o, SEAM_SYNCML_CMD_STATUS);
    if (!cmd)
        return NULL;
    o->estimate += SYNCML_STATUS_BYTES;
    cmd->msg_ref = msg_ref;
    cmd->cmd_ref = cmd_ref;
    cmd->cmd_name = out_str(o, cmd_name);
    cmd->target_ref = out_str(o, target_ref);
    cmd->source_ref = out_str(o, source_ref);
    cmd->code = code;
    return cmd;
}

static size_t len_or_0(const char *s) {
    return s ? strlen(s) : 0;
}

void out_status_later(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *cmd_name,
                      const char *target_ref, const char *source_ref, unsigned code) {
    if (o->err)
        return;
    size_t bytes = len_or_0(cmd_name) + len_or_0(target_ref) + len_or_0(source_ref);
    if (o->n_waiting == SYNCML_MAX_WAITING || bytes > SYNCML_MAX_WAITING_BYTES - o->waiting_bytes) {
        o->err = SEAM_ERR_SYNCML_OVERSIZE;
        return;
    }
    if (o->n_waiting == o->cap_waiting) {
        size_t cap = o->cap_waiting ? 2 * o->cap_waiting : 64;
        syncml_status *v = realloc(o->waiting, cap * sizeof *v);
        if (!v) {
            o->err = SEAM_ERR_NOMEM;
            return;
        }
        o->waiting = v;
        o->cap_waiting = cap;
    }
    syncml_status *st = &o->waiting[o->n_waiting];
    st->msg_ref = msg_ref;
    st->cmd_ref = cmd_ref;
    st->code = code;
    st->cmd = syncml_strdup(cmd_name, &o->err);
    st->target_ref = syncml_strdup(target_ref, &o->err);
    st->source_ref = syncml_strdup(source_ref, &o->err);
    if (o->err) {
        status_free(st);
        return;
    }
    o->n_waiting++;
    o->waiting_bytes += bytes;
}

bool out_waiting(const syncml_out *o) {
    return o->n_waiting > 0;
}

seam_err out_flush(syncml_out *o, seam_syncml_format format, size_t max) {
    size_t room = max > SYNCML_STATUS_RESERVE ? max - SYNCML_STATUS_RESERVE : 0;
    size_t moved = 0;
    while (moved < o->n_waiting) {
        const syncml_status *st = &o->waiting[moved];
        size_t need = len_or_0(st->cmd) + len_or_0(st->target_ref) + len_or_0(st->source_ref) +
                      3 * 24 + SYNCML_CMD_BYTES + SYNCML_STATUS_BYTES;
        if (moved > 0 && !out_has_room(o, room, need))
            break;
        out_status(o, st->msg_ref, st->cmd_ref, st->cmd, st->target_ref, st->source_ref, st->code);
        moved++;
    }
    if (o->err)
        return o->err;
    /* The estimate is rough: near the limit, encode to be sure and give the last ones back
       while too long (far below it, as with large messages, an encoding would only cost). */
    while (moved > 0 && !out_has_room(o, room / 2, 0)) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        seam_err err = seam_syncml_encode(&o->msg, format, room, &bytes, &len);
        seam_syncml_bytes_free(bytes);
        if (err == SEAM_OK)
            break;
        if (err != SEAM_ERR_SYNCML_OVERSIZE)
            return err;
        memset(&o->cmds[--o->msg.n_cmds], 0, sizeof *o->cmds);
        o->next_cmd_id--;
        moved--;
    }
    if (moved == 0)
        return SEAM_OK;
    for (size_t i = 0; i < moved; i++) {
        const syncml_status *st = &o->waiting[i];
        o->waiting_bytes -= len_or_0(st->cmd) + len_or_0(st->target_ref) + len_or_0(st->source_ref);
        status_free(&o->waiting[i]);
    }
    memmove(o->waiting, o->waiting + moved, (o->n_waiting - moved) * sizeof *o->waiting);
    o->n_waiting -= moved;
    return SEAM_OK;
}

void out_alert(syncml_out *o, unsigned code, const char *target, const char *source,
               const char *last, const char *next) {
    seam_syncml_cmd *cmd = new_cmd(o, SEAM_SYNCML_CMD_ALERT);
    if (!cmd)
        return;
    cmd->code = code;
    if (!target)
        return;
    seam_syncml_item *item = new_item(o, cmd);
    if (!item)
        return;
    item->target = out_str(o, target);
    item->source = out_str(o, source);
    item->anchor_last = out_str(o, last);
    item->anchor_next = out_str(o, next);
}

void out_results(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *devinf) {
    seam_syncml_cmd *cmd = new_cmd(o, SEAM_SYNCML_CMD_RESULTS);
    seam_syncml_item *item = new_item(o, cmd);
    if (!item)
        return;
    cmd->msg_ref = msg_ref;
    cmd->cmd_ref = cmd_ref;
    cmd->meta_type = "application/vnd.syncml-devinf+xml";
    item->source = "./devinf12";
    item->type = cmd->meta_type;
    item->data = out_str(o, devinf);
}

void out_sync(syncml_out *o, const char *target, const char *source) {
    seam_syncml_cmd *cmd = new_cmd(o, SEAM_SYNCML_CMD_SYNC);
    if (!cmd)
        return;
    cmd->target = out_str(o, target);
    cmd->source = out_str(o, source);
    cmd->ops = o->ops;
}

static seam_syncml_cmd *last_cmd(syncml_out *o, seam_syncml_cmd_kind kind) {
    if (o->err || o->msg.n_cmds == 0 || o->cmds[o->msg.n_cmds - 1].kind != kind) {
        if (!o->err)
            o->err = SEAM_ERR_ARG;
        return NULL;
    }
    return &o->cmds[o->msg.n_cmds - 1];
}

void out_op(syncml_out *o, seam_syncml_op op, const char *target_key, const char *source_key,
            const char *content) {
    seam_syncml_cmd *sync = last_cmd(o, SEAM_SYNCML_CMD_SYNC);
    if (!sync)
        return;
    if (o->msg.n_cmds + o->n_ops >= SEAM_SYNCML_MAX_COMMANDS) {
        o->err = SEAM_ERR_SYNCML_OVERSIZE;
        return;
    }
    seam_syncml_cmd *cmd = &o->ops[o->n_ops++];
    sync->n_ops = o->n_ops;
    memset(cmd, 0, sizeof *cmd);
    cmd->kind = op == SEAM_SYNCML_OP_ADD       ? SEAM_SYNCML_CMD_ADD
                : op == SEAM_SYNCML_OP_REPLACE ? SEAM_SYNCML_CMD_REPLACE
                                               : SEAM_SYNCML_CMD_DELETE;
    cmd->cmd_id = o->next_cmd_id++;
    o->estimate += SYNCML_CMD_BYTES + (content ? SYNCML_TYPE_BYTES : 0);
    seam_syncml_item *item = new_item(o, cmd);
    if (!item)
        return;
    item->target = out_str(o, target_key);
    item->source = out_str(o, source_key);
    if (content) {
        item->type = "text/plain";
        item->data = out_str(o, content);
        item->cdata = true;
    }
}

void out_pop_op(syncml_out *o) {
    if (o->n_ops == 0)
        return;
    seam_syncml_cmd *cmd = &o->ops[--o->n_ops];
    o->n_items -= cmd->n_items;
    o->cmds[o->msg.n_cmds - 1].n_ops = o->n_ops;
    memset(cmd, 0, sizeof *cmd);
}

void out_map(syncml_out *o, const char *target, const char *source) {
    seam_syncml_cmd *cmd = new_cmd(o, SEAM_SYNCML_CMD_MAP);
    if (!cmd)
        return;
    cmd->target = out_str(o, target);
    cmd->source = out_str(o, source);
}

void out_map_item(syncml_out *o, const char *guid, const char *luid) {
    seam_syncml_item *item = new_item(o, last_cmd(o, SEAM_SYNCML_CMD_MAP));
    if (!item)
        return;
    item->target = out_str(o, guid);
    item->source = out_str(o, luid);
    o->estimate += SYNCML_MAP_ITEM_BYTES; /* only the estimate stands between a Map and 510 */
}

bool out_has_room(const syncml_out *o, size_t max, size_t more) {
    size_t estimate = o->wbxml ? o->text + (o->estimate - o->text) / 3 : o->estimate;
    return !o->err && estimate + more + SYNCML_ROOM_MARGIN <= max &&
           o->msg.n_cmds + o->n_ops + 2 < SEAM_SYNCML_MAX_COMMANDS &&
           o->n_items + 2 < SEAM_SYNCML_MAX_ITEMS;
}

seam_err out_encode(syncml_out *o, seam_syncml_format format, size_t max, uint8_t **bytes,
                    size_t *len) {
    if (o->err)
        return o->err;
    return seam_syncml_encode(&o->msg, format, max, bytes, len);
}

/* ---- pending changes --------------------------------------------------------- */

static seam_err collect(void *arg, const seam_syncml_change *change) {
    syncml_changes *c = arg;
    if (!valid_token(change->key, SEAM_SYNCML_KEY_MAX) ||
        (change->op != SEAM_SYNCML_OP_DELETE &&
         (!change->content || change->content_len > SEAM_SYNCML_MAX_DATA ||
          strnlen(change->content, change->content_len + 1) != change->content_len)))
        return SEAM_ERR_SYNCML_STORE;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        syncml_change *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return SEAM_ERR_NOMEM;
        c->v = v;
        c->cap = cap;
    }
    seam_err err = SEAM_OK;
    syncml_change *n = &c->v[c->n];
    memset(n, 0, sizeof *n);
    n->op = change->op;
    n->key = syncml_strdup(change->key, &err);
    if (change->op != SEAM_SYNCML_OP_DELETE)
        n->content = syncml_strdup(change->content, &err);
    if (err) {
        free(n->key);
        free(n->content);
        return err;
    }
    c->n++;
    return SEAM_OK;
}

seam_err changes_load(syncml_changes *c, const seam_syncml_store *store, const char *db,
                      const char *peer, bool all) {
    changes_free(c);
    seam_err err = store->changes(store->ctx, db, peer, all, collect, c);
    return err == SEAM_ERR_NOMEM ? err : err ? SEAM_ERR_SYNCML_STORE : SEAM_OK;
}

syncml_change *changes_find(syncml_changes *c, const char *key) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0)
            return &c->v[i];
    return NULL;
}

void changes_free(syncml_changes *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].content);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* ---- authentication ----------------------------------------------------------- */

static void b64(const uint8_t *in, size_t len, char *out) {
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static void md5_b64(const void *in, size_t len, char out[32]) {
    uint8_t digest[16];
    unsigned digest_len = 0;
    EVP_Digest(in, len, digest, &digest_len, EVP_md5(), NULL);
    b64(digest, 16, out);
}

seam_err seam_syncml_cred(seam_syncml_auth type, const char *user, const char *password,
                          const char *nonce_b64, char out[SEAM_SYNCML_CRED_MAX]) {
    if (!user || !password || !out)
        return SEAM_ERR_ARG;
    size_t ulen = strnlen(user, SEAM_SYNCML_MAX_STRING + 1);
    size_t plen = strnlen(password, SEAM_SYNCML_MAX_STRING + 1);
    if (ulen + plen + 1 > SEAM_SYNCML_MAX_STRING)
        return SEAM_ERR_ARG;
    char joined[SEAM_SYNCML_MAX_STRING + 2];
    memcpy(joined, user, ulen);
    joined[ulen] = ':';
    memcpy(joined + ulen + 1, password, plen);
    size_t jlen = ulen + 1 + plen;
    seam_err err = SEAM_OK;
    if (type == SEAM_SYNCML_AUTH_BASIC) {
        if (4 * ((jlen + 2) / 3) + 1 > SEAM_SYNCML_CRED_MAX)
            err = SEAM_ERR_ARG;
        else
            b64((const uint8_t *)joined, jlen, out);
    } else if (type == SEAM_SYNCML_AUTH_MD5 && nonce_b64) {
        /* b64(md5(b64(md5(user:password)) ":" nonce)), the nonce decoded from base64. */
        size_t nlen = strnlen(nonce_b64, 65);
        uint8_t nonce[64];
        int got =
            nlen <= 64 ? EVP_DecodeBlock(nonce, (const unsigned char *)nonce_b64, (int)nlen) : -1;
        if (got < 0) {
            err = SEAM_ERR_ARG;
        } else {
            /* EVP_DecodeBlock counts the padding's bytes too. */
            size_t n = (size_t)got;
            for (size_t i = nlen; i > 0 && nonce_b64[i - 1] == '=' && n > 0; i--)
                n--;
            char inner[64];
            md5_b64(joined, jlen, inner);
            uint8_t second[64 + 1 + 64];
            size_t ilen = strlen(inner);
            memcpy(second, inner, ilen);
            second[ilen] = ':';
            memcpy(second + ilen + 1, nonce, n);
            md5_b64(second, ilen + 1 + n, out);
        }
    } else {
        err = SEAM_ERR_ARG;
    }
    memset(joined, 0, sizeof joined);
    return err;
}

bool auth_check(const seam_syncml_hdr *hdr, seam_syncml_auth auth, const char *user,
                const char *password, const char *nonce_b64) {
    if (hdr->cred_type != auth || !hdr->cred_data)
        return false;
    char want[SEAM_SYNCML_CRED_MAX];
    if (seam_syncml_cred(auth, user, password, nonce_b64, want) != SEAM_OK)
        return false;
    size_t len = strlen(want);
    return strnlen(hdr->cred_data, len + 1) == len && CRYPTO_memcmp(want, hdr->cred_data, len) == 0;
}

seam_err auth_nonce(char out[32]) {
    uint8_t raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return SEAM_ERR_SYNCML_STORE;
    b64(raw, sizeof raw, out);
    return SEAM_OK;
}

/* ---- reading the peer's message --------------------------------------------------- */

const seam_syncml_cmd *find_status(const seam_syncml_msg *msg, const char *cmd_name) {
    for (size_t i = 0; i < msg->n_cmds; i++) {
        const seam_syncml_cmd *c = &msg->cmds[i];
        if (c->kind == SEAM_SYNCML_CMD_STATUS && (!cmd_name || strcmp(c->cmd_name, cmd_name) == 0))
            return c;
    }
    return NULL;
}

const seam_syncml_cmd *find_cmd(const seam_syncml_msg *msg, seam_syncml_cmd_kind kind) {
    for (size_t i = 0; i < msg->n_cmds; i++)
        if (msg->cmds[i].kind == kind)
            return &msg->cmds[i];
    return NULL;
}
