/*
 * POST /sync/changeset: seam's compact changeset protocol over HTTP (docs/sync.md
 * "Over HTTP", docs/server.md "Device sync"; S6, X4, X5).
 *
 * One request is one protocol message from a device and one reply, in ONE store
 * transaction:
 *   checks   Content-Type application/vnd.seam.changeset (415), HTTP basic
 *            credentials of an enrolled device (401), the message decodes (400),
 *            its sender is that device (403)
 *   load     lock the device's row; its records of the message's database URI
 *            and the sync state this protocol keeps for it (anchors, bases) go
 *            into an in-memory seam_sync_db
 *   serve    seam_sync_serve on that database, as SEAM_SYNC_SERVER_ID
 *   store    exactly the records that changed, through seam_store_device_apply
 *            (history names the session "changeset <uri> #<anchor>"), and the new
 *            sync state
 *   commit   then answer 200 with the reply; any failure rolls everything back and
 *            answers 4xx/5xx: nothing of the message is stored.
 * A kill -9 before the commit leaves the store as it was (the device's next
 * message resumes from the anchors it holds); after it, the reply may be lost and
 * the device resumes from its previous anchor (the sync layer keeps the base one
 * sync back for that).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "seam/sync.h"
#include "seam/util.h"
#include "server_int.h"

#define CHANGESET_TYPE "application/vnd.seam.changeset"
#define PROTOCOL       "changeset"
#define PAGE           512

/* One record of the device's copy as it was: key and content, owned. */
typedef struct {
    char *key, *content;
    size_t len;
} old_record;

typedef struct {
    seam_store *st;
    const char *id, *uri;
    seam_sync_db *db;
    old_record *old;
    size_t old_count, old_cap;
    seam_store_change *changes;
    size_t change_count, change_cap;
    size_t walk; /* the diff's position in old */
    seam_err err;
} copy;

static int by_key(const void *a, const void *b) {
    return strcmp(((const old_record *)a)->key, ((const old_record *)b)->key);
}

static void copy_free(copy *c) {
    for (size_t i = 0; i < c->old_count; i++) {
        free(c->old[i].key);
        seam_store_free_secret(c->old[i].content, c->old[i].len + 1);
    }
    free(c->old);
    for (size_t i = 0; i < c->change_count; i++)
        if (!c->changes[i].deleted)
            seam_store_free_secret((char *)c->changes[i].content, c->changes[i].content_len + 1);
    free(c->changes);
    seam_sync_close(c->db);
}

/* Loads the live records of c->uri from the store into c->db and c->old. */
static seam_err load_records(copy *c) {
    int64_t since = 0;
    seam_sync_record *recs = calloc(PAGE, sizeof *recs);
    seam_err err = recs ? SEAM_OK : SEAM_ERR_NOMEM;
    for (;;) {
        seam_store_record *page = NULL;
        size_t count = 0, n = 0;
        if (!err)
            err = seam_store_record_list(c->st, c->id, since, PAGE, &page, &count);
        for (size_t i = 0; !err && i < count; i++) {
            const seam_store_record *r = &page[i];
            since = r->version;
            if (r->deleted || strcmp(r->uri, c->uri))
                continue;
            seam_sync_record *rec = &recs[n++];
            memset(rec, 0, sizeof *rec);
            snprintf(rec->key, sizeof rec->key, "%s", r->key);
            if (seam_sync_record_parse(c->uri, r->content, r->content_len, rec) != SEAM_OK) {
                /* written by another way in (OMA DS, the admin) in a form this protocol lacks */
                seam_log(SEAM_LOG_WARN, "sync: device %s record %s %s does not parse", c->id,
                         c->uri, r->key);
                err = SEAM_ERR_SERVER_CONFLICT;
            }
            if (!err && c->old_count == c->old_cap) {
                size_t cap = c->old_cap ? 2 * c->old_cap : 64;
                old_record *grown = realloc(c->old, cap * sizeof *grown);
                err = grown ? SEAM_OK : SEAM_ERR_NOMEM;
                if (grown)
                    c->old = grown, c->old_cap = cap;
            }
            if (!err) {
                old_record *o = &c->old[c->old_count];
                o->key = strdup(r->key);
                o->content = malloc(r->content_len + 1);
                if (o->key && o->content) {
                    memcpy(o->content, r->content, r->content_len + 1);
                    o->len = r->content_len;
                    c->old_count++;
                } else {
                    free(o->key);
                    free(o->content);
                    err = SEAM_ERR_NOMEM;
                }
            }
        }
        if (!err && n)
            err = seam_sync_put_many(c->db, c->uri, recs, n);
        if (page)
            seam_store_free_secret(page, (count ? count : 1) * sizeof *page);
        if (err || count < PAGE)
            break;
    }
    if (recs)
        seam_store_free_secret(recs, PAGE * sizeof *recs);
    if (!err && c->old_count)
        qsort(c->old, c->old_count, sizeof *c->old, by_key);
    return err;
}

static seam_err add_change(copy *c, const char *key, const char *content, size_t len,
                           bool deleted) {
    if (c->change_count == c->change_cap) {
        size_t cap = c->change_cap ? 2 * c->change_cap : 64;
        seam_store_change *grown = realloc(c->changes, cap * sizeof *grown);
        if (!grown)
            return SEAM_ERR_NOMEM;
        c->changes = grown;
        c->change_cap = cap;
    }
    seam_store_change *ch = &c->changes[c->change_count];
    memset(ch, 0, sizeof *ch);
    ch->uri = c->uri;
    ch->key = key; /* points into c->old or the copied content's buffer */
    ch->deleted = deleted;
    if (!deleted) {
        char *copy_of = malloc(len + 1 + strlen(key) + 1);
        if (!copy_of)
            return SEAM_ERR_NOMEM;
        memcpy(copy_of, content, len + 1);
        strcpy(copy_of + len + 1, key);
        ch->content = copy_of;
        ch->content_len = len;
        ch->key = copy_of + len + 1;
    }
    c->change_count++;
    return SEAM_OK;
}

/* The merge walk: every record of the served database against the old copy, in key order. */
static int diff_one(void *ctx, const seam_sync_record *rec) {
    copy *c = ctx;
    char text[SEAM_SYNC_TEXT_MAX + 1];
    size_t len = 0;
    while (!c->err && c->walk < c->old_count && strcmp(c->old[c->walk].key, rec->key) < 0)
        c->err = add_change(c, c->old[c->walk++].key, NULL, 0, true); /* gone */
    if (!c->err)
        c->err = seam_sync_record_format(c->uri, rec, text, sizeof text, &len);
    if (c->err)
        return 1;
    const old_record *o = c->walk < c->old_count && !strcmp(c->old[c->walk].key, rec->key)
                              ? &c->old[c->walk++]
                              : NULL;
    if (!o || o->len != len || memcmp(o->content, text, len))
        c->err = add_change(c, rec->key, text, len, false);
    seam_secure_zero(text, sizeof text);
    return c->err != SEAM_OK;
}

static seam_err diff(copy *c) {
    c->walk = 0;
    c->err = SEAM_OK;
    seam_err err = seam_sync_list(c->db, c->uri, diff_one, c);
    if (!err)
        err = c->err;
    while (!err && c->walk < c->old_count)
        err = add_change(c, c->old[c->walk++].key, NULL, 0, true);
    return err;
}

/* Writes the changes in batches the store accepts, all in the caller's group. */
static seam_err store_changes(copy *c, const char *session) {
    seam_err err = SEAM_OK;
    for (size_t at = 0; !err && at < c->change_count; at += SEAM_STORE_BATCH_MAX) {
        size_t n = c->change_count - at;
        err = seam_store_device_apply(c->st, c->id, session, c->changes + at,
                                      n > SEAM_STORE_BATCH_MAX ? SEAM_STORE_BATCH_MAX : n, NULL);
    }
    return err;
}

/* Answers the error that stands for err (the store's transaction has been rolled back). */
static void sync_error(seam_srv_response *res, seam_err err) {
    switch (err) {
    case SEAM_ERR_SYNC_FRAME:
    case SEAM_ERR_SYNC_VERSION:
    case SEAM_ERR_SYNC_CHANGESET:
    case SEAM_ERR_SYNC_OVERSIZE:
    case SEAM_ERR_SYNC_URI:
    case SEAM_ERR_SYNC_FIELD:
        seam_srv_error(res, 400, "bad_message", seam_err_str(err));
        break;
    case SEAM_ERR_SYNC_MISMATCH:
        seam_srv_error(res, 409, "sync_mismatch", seam_err_str(err));
        break;
    case SEAM_ERR_SYNC_FULL:
    case SEAM_ERR_ARG: /* a record the store's limits refuse, or too many records */
        seam_srv_error(res, 422, "records_refused", seam_err_str(err));
        break;
    default:
        seam_api_store_error(res, err);
    }
}

/* HTTP basic credentials of an enrolled device: its id into id, or false with res (401). */
static bool authenticate(seam_store *st, const seam_srv_request *req, char *id, size_t cap,
                         seam_srv_response *res) {
    char *pass = NULL, secret[SEAM_STORE_SECRET_MAX + 1] = "";
    char *user =
        req->connection
            ? MHD_basic_auth_get_username_password((struct MHD_Connection *)req->connection, &pass)
            : NULL;
    bool ok = user && pass && strlen(user) < cap;
    if (ok) {
        seam_err err = seam_store_device_secret_get(st, user, secret);
        size_t n = strlen(secret);
        ok = !err && strlen(pass) == n && seam_ct_equal(pass, secret, n);
        if (err && err != SEAM_ERR_NOT_FOUND && err != SEAM_ERR_ARG) {
            seam_api_store_error(res, err);
            ok = false;
            user = (MHD_free(user), NULL);
        }
        if (ok)
            snprintf(id, cap, "%s", user);
    }
    seam_secure_zero(secret, sizeof secret);
    if (pass) {
        seam_secure_zero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (!ok && !res->status) {
        seam_srv_error(res, 401, "unauthorized", "a device's id and secret (HTTP basic) needed");
        seam_srv_header(res, "WWW-Authenticate", "Basic realm=\"seam sync\"");
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* Serves message msg of device id on its copy; the reply in res. One store transaction. */
static seam_err serve(seam_store *st, const char *id, const char *uri, const seam_srv_request *req,
                      seam_srv_response *res) {
    copy c;
    memset(&c, 0, sizeof c);
    c.st = st;
    c.id = id;
    c.uri = uri;
    uint8_t *state = NULL, *reply = NULL;
    size_t state_len = 0, reply_len = 0;
    seam_sync_result result;
    seam_err err = seam_sync_open(":memory:", &c.db);
    if (!err)
        err = seam_store_begin(st);
    if (err) {
        seam_sync_close(c.db);
        return err;
    }
    err = seam_store_device_sync_get(st, id, PROTOCOL, uri, &state, &state_len);
    if (!err)
        err = load_records(&c);
    if (!err)
        err = seam_sync_state_import(c.db, id, uri, state, state_len);
    if (state)
        seam_store_free_secret(state, state_len);
    state = NULL;
    if (!err)
        err = seam_sync_serve(c.db, SEAM_SYNC_SERVER_ID, id, req->body, req->body_len, &reply,
                              &reply_len, &result);
    seam_sync_frame r;
    char session[SEAM_STORE_TEXT_MAX];
    if (!err)
        err = seam_sync_frame_decode(reply, reply_len, &r);
    if (!err) {
        snprintf(session, sizeof session, "changeset %s #%.*s", uri, (int)r.next_len, r.next);
        err = diff(&c);
    }
    if (!err)
        err = store_changes(&c, session);
    if (!err)
        err = seam_sync_state_export(c.db, id, uri, &state, &state_len);
    if (!err)
        err = seam_store_device_sync_put(st, id, PROTOCOL, uri, state, state_len);
    if (state)
        seam_store_free_secret(state, state_len);
    err = seam_store_end(st, err);
    if (!err) {
        seam_log(SEAM_LOG_INFO,
                 "sync: device %s %s type %u: received %u, sent %u, stored %zu changes", id, uri,
                 (unsigned)result.type, result.received, result.sent, c.change_count);
        res->status = 200;
        res->content_type = CHANGESET_TYPE;
        res->body = (char *)reply;
        res->body_len = reply_len;
        reply = NULL;
    }
    free(reply);
    copy_free(&c);
    return err;
}

API_HANDLER(seam_sync_changeset) {
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (!type || strcmp(type, CHANGESET_TYPE)) {
        seam_srv_error(res, 415, "bad_content_type", "the body is " CHANGESET_TYPE);
        return;
    }
    seam_store *st = seam_srv_store(srv);
    char id[SEAM_STORE_DEVICE_ID_MAX + 1];
    if (!authenticate(st, req, id, sizeof id, res))
        return;
    seam_sync_frame f;
    seam_err err = seam_sync_frame_decode(req->body, req->body_len, &f);
    if (!err && f.direction != 1)
        err = SEAM_ERR_SYNC_FRAME;
    if (err) {
        seam_srv_error(res, 400, "bad_message", seam_err_str(err));
        return;
    }
    /* The message names the copy it syncs: only the authenticated device's own. */
    if (f.sender_len != strlen(id) || memcmp(f.sender, id, f.sender_len)) {
        seam_srv_error(res, 403, "wrong_device", "the message's sender is not this device");
        return;
    }
    char uri[SEAM_STORE_URI_MAX + 1];
    snprintf(uri, sizeof uri, "%.*s", (int)f.uri_len, f.uri);
    err = serve(st, id, uri, req, res);
    if (err)
        sync_error(res, err);
}
