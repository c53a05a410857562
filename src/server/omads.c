/*
 * POST /sync/omads: OMA DS 1.2 (SyncML over HTTP, cat_sync.md B.7) against the server's copy
 * of each device's database (docs/sync.md "OMA DS over HTTP", docs/server.md).
 *
 * A session's life, across HTTP requests:
 *   NEW   a POST without ?s= : its SyncML message is the device's Pkg1. The session gets an
 *         unguessable token; the engine runs for the device named by SyncHdr/Source (with
 *         that device's secret: its user name is the device id) on the database the Alert
 *         targets; every answer carries RespURI = this endpoint ?s=token. At most
 *         SESSIONS_MAX sessions of authenticated devices; one still waiting for its
 *         credentials gives its place to a new session when the table is full.
 *   LIVE  a POST to ?s=token: the next message of that session (one request at a time; a
 *         second one at once gets 409). The engine's state lives in this process only.
 *   ENDED DONE (committed: one store transaction), FAILED, or idle for SESSION_IDLE seconds
 *         (dropped: nothing of it was written). A token this process does not know (another
 *         server, a restart, an ended session) gets 404: the device starts a new session, and
 *         since nothing was committed its anchors still match and nothing is lost or doubled.
 * Errors that cannot be said in SyncML (not SyncML, unknown session, too large) are HTTP
 * errors with the JSON error body; everything else is a SyncML answer with HTTP 200.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "omads_store.h"
#include "seam/crypto.h"
#include "seam/sync.h"
#include "seam/syncml.h"
#include "seam/util.h"
#include "server_int.h"

#define SESSIONS_MAX 64
#define SESSION_IDLE 120 /* seconds */
#define TOKEN_HEX    32

typedef struct {
    char token[TOKEN_HEX + 1];
    seam_syncml_server *engine;
    omads_store *store;
    seam_syncml_format format;
    int64_t touched;
    bool busy;
} omads_session;

typedef struct {
    omads_session *v[SESSIONS_MAX];
} omads_table;

static int64_t now_s(void) {
    return (int64_t)time(NULL);
}

static void session_free(omads_session *s) {
    if (!s)
        return;
    seam_syncml_server_free(s->engine);
    omads_store_free(s->store);
    seam_secure_zero(s->token, sizeof s->token);
    free(s);
}

/* Drops idle sessions; called under the lock. */
static void prune(omads_table *t, int64_t now) {
    for (size_t i = 0; i < SESSIONS_MAX; i++)
        if (t->v[i] && !t->v[i]->busy && now - t->v[i]->touched > SESSION_IDLE) {
            session_free(t->v[i]);
            t->v[i] = NULL;
        }
}

size_t seam_srv_omads_live(struct seam_server *srv) {
    size_t n = 0;
    pthread_mutex_lock(&srv->omads_lock);
    omads_table *t = srv->omads;
    for (size_t i = 0; t && i < SESSIONS_MAX; i++)
        n += t->v[i] != NULL;
    pthread_mutex_unlock(&srv->omads_lock);
    return n;
}

void seam_srv_omads_clear(struct seam_server *srv) {
    omads_table *t = srv->omads;
    for (size_t i = 0; t && i < SESSIONS_MAX; i++)
        session_free(t->v[i]);
    free(t);
    srv->omads = NULL;
}

/* Takes session token for this request (busy until put back); NULL with *status. */
static omads_session *take(struct seam_server *srv, const char *token, unsigned *status) {
    omads_session *found = NULL;
    *status = 404;
    pthread_mutex_lock(&srv->omads_lock);
    omads_table *t = srv->omads;
    if (t)
        prune(t, now_s());
    for (size_t i = 0; t && i < SESSIONS_MAX; i++) {
        omads_session *s = t->v[i];
        if (s && strlen(token) == TOKEN_HEX && seam_ct_equal(s->token, token, TOKEN_HEX)) {
            if (s->busy) {
                *status = 409;
            } else {
                s->busy = true;
                found = s;
            }
            break;
        }
    }
    pthread_mutex_unlock(&srv->omads_lock);
    return found;
}

/* Puts s back (ended: removed and freed). */
static void put_back(struct seam_server *srv, omads_session *s, bool ended) {
    pthread_mutex_lock(&srv->omads_lock);
    omads_table *t = srv->omads;
    for (size_t i = 0; t && i < SESSIONS_MAX; i++)
        if (t->v[i] == s) {
            if (ended)
                t->v[i] = NULL;
            break;
        }
    s->busy = false;
    s->touched = now_s();
    pthread_mutex_unlock(&srv->omads_lock);
    if (ended)
        session_free(s);
}

/* Adds s (busy) to the table; false when it is full. Only sessions whose device authenticated
   hold their place: when no place is free, the longest idle session still waiting for its
   credentials (an MD5 challenge nobody answered yet) is dropped for s. */
static bool add(struct seam_server *srv, omads_session *s) {
    size_t at = SESSIONS_MAX, idle_unauthenticated = SESSIONS_MAX;
    pthread_mutex_lock(&srv->omads_lock);
    if (!srv->omads)
        srv->omads = calloc(1, sizeof(omads_table));
    omads_table *t = srv->omads;
    if (t)
        prune(t, now_s());
    for (size_t i = 0; t && at == SESSIONS_MAX && i < SESSIONS_MAX; i++) {
        omads_session *o = t->v[i];
        if (!o)
            at = i;
        else if (!o->busy && !omads_store_is_open(o->store) &&
                 (idle_unauthenticated == SESSIONS_MAX ||
                  o->touched < t->v[idle_unauthenticated]->touched))
            idle_unauthenticated = i;
    }
    if (t && at == SESSIONS_MAX && idle_unauthenticated < SESSIONS_MAX) {
        at = idle_unauthenticated;
        session_free(t->v[at]);
        t->v[at] = NULL;
    }
    if (at < SESSIONS_MAX)
        t->v[at] = s;
    pthread_mutex_unlock(&srv->omads_lock);
    return at < SESSIONS_MAX;
}

/* This endpoint's URL as the device reached it (the Host it named, if it is a plain one). */
static void own_url(struct seam_server *srv, const seam_srv_request *req, char *out, size_t cap) {
    const char *host = seam_srv_request_header(req, "Host");
    bool ok = host && host[0] && strlen(host) <= 100;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']';
    char fallback[32];
    snprintf(fallback, sizeof fallback, "127.0.0.1:%u", (unsigned)srv->port);
    snprintf(out, cap, "%s://%s/sync/omads", srv->tls ? "https" : "http", ok ? host : fallback);
}

/* A new session for Pkg1 in[0..len): NULL with res filled when there can be none. */
static omads_session *open_session(struct seam_server *srv, const seam_srv_request *req,
                                   seam_syncml_format format, seam_srv_response *res) {
    seam_syncml_msg pkg1;
    if (seam_syncml_decode(req->body, req->body_len, format, &pkg1) != SEAM_OK) {
        seam_srv_error(res, 400, "bad_syncml", "not a SyncML 1.2 message");
        return NULL;
    }
    const char *uri = SEAM_SYNC_DEVINFO;
    for (size_t i = 0; i < pkg1.n_cmds; i++) {
        const seam_syncml_cmd *c = &pkg1.cmds[i];
        if (c->kind == SEAM_SYNCML_CMD_ALERT && c->n_items == 1 && c->items[0].target &&
            (!strcmp(c->items[0].target, SEAM_SYNC_APPS) ||
             !strcmp(c->items[0].target, SEAM_SYNC_CARD)))
            uri = c->items[0].target[2] == 'a' ? SEAM_SYNC_APPS
                                               : SEAM_SYNC_CARD; /* else: the engine's 404 */
    }
    char device[SEAM_STORE_DEVICE_ID_MAX + 1] = "-";
    if (seam_store_device_id_ok(pkg1.hdr.source))
        snprintf(device, sizeof device, "%s", pkg1.hdr.source);
    bool basic = pkg1.hdr.cred_type == SEAM_SYNCML_AUTH_BASIC;
    /* A device that takes small messages sends small ones too: fewer of the statuses answering
       its messages (one per item) wait for a later message (they span messages when they must). */
    unsigned long max_msg = pkg1.hdr.max_msg_size;
    seam_syncml_msg_free(&pkg1);

    /* The device's secret; a device without one (or not a device id) gets a random one that
       nobody knows: the same refusal as a wrong password, and nothing tells them apart. Fresh
       random bytes, hex: the label (8 bytes), the token (16, sent in every RespURI), that
       password (16, never sent: it must not be the token). */
    char secret[SEAM_STORE_SECRET_MAX + 1];
    uint8_t raw[8 + 16 + 16];
    char label[40], hex[2 * sizeof raw + 1];
    size_t n = 0;
    seam_err err = seam_crypto_random_fresh(raw, sizeof raw);
    if (!err)
        err = seam_hex_encode(raw, sizeof raw, hex, sizeof hex, &n);
    if (err) {
        seam_srv_error(res, 500, "internal", "no random numbers");
        return NULL;
    }
    if (strcmp(device, "-") == 0 ||
        seam_store_device_secret_get(seam_srv_store(srv), device, secret) != SEAM_OK)
        snprintf(secret, sizeof secret, "%.32s", hex + 48);
    snprintf(label, sizeof label, "omads:%.16s", hex); /* names the session in the history */
    seam_secure_zero(hex + 48, 32);
    seam_secure_zero(raw, sizeof raw);

    omads_session *s = calloc(1, sizeof *s);
    if (!s) {
        seam_secure_zero(secret, sizeof secret);
        seam_srv_error(res, 500, "internal", "out of memory");
        return NULL;
    }
    memcpy(s->token, hex + 16, TOKEN_HEX);
    s->format = format;
    s->busy = true;
    s->touched = now_s();
    char url[160], resp[200];
    own_url(srv, req, url, sizeof url);
    snprintf(resp, sizeof resp, "%s?s=%s", url, s->token);
    s->store = omads_store_new(device, uri, label);
    seam_syncml_config cfg = {.db = uri,
                              .device_id = url,
                              .user = device,
                              .password = secret,
                              .auth = basic ? SEAM_SYNCML_AUTH_BASIC : SEAM_SYNCML_AUTH_MD5,
                              .format = format,
                              .max_msg_size = max_msg,
                              .resp_uri = resp};
    seam_syncml_store iface = s->store ? omads_store_iface(s->store) : (seam_syncml_store){0};
    s->engine = s->store ? seam_syncml_server_new(&iface, &cfg) : NULL;
    seam_secure_zero(secret, sizeof secret);
    if (!s->engine || !add(srv, s)) {
        bool full = s->engine != NULL;
        session_free(s);
        seam_srv_error(res, full ? 503 : 500, full ? "busy" : "internal",
                       full ? "too many OMA DS sessions: try again later" : "out of memory");
        return NULL;
    }
    seam_log(SEAM_LOG_INFO, "omads: session %s for device %s on %s, authentication %s", label,
             device, uri, basic ? "basic" : "md5");
    return s;
}

API_HANDLER(seam_sync_omads) {
    seam_syncml_format format;
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (!type || seam_syncml_format_of(type, &format) != SEAM_OK) {
        seam_srv_error(res, 415, "unsupported_media_type",
                       "Content-Type must be application/vnd.syncml+xml or +wbxml");
        return;
    }
    const char *token = req->connection
                            ? MHD_lookup_connection_value((struct MHD_Connection *)req->connection,
                                                          MHD_GET_ARGUMENT_KIND, "s")
                            : NULL;
    omads_session *s = NULL;
    if (token) {
        unsigned status;
        if (!(s = take(srv, token, &status))) {
            seam_srv_error(res, status, status == 409 ? "conflict" : "unknown_session",
                           status == 409 ? "a message of this session is being handled"
                                         : "no such OMA DS session here: start a new one");
            return;
        }
        if (s->format != format) {
            put_back(srv, s, false);
            seam_srv_error(res, 415, "unsupported_media_type", "the session's format changed");
            return;
        }
    } else if (!(s = open_session(srv, req, format, res))) {
        return;
    }
    omads_store_use(s->store, seam_srv_store(srv));
    uint8_t *out = NULL;
    size_t out_len = 0;
    seam_syncml_state state =
        seam_syncml_server_step(s->engine, req->body, req->body_len, &out, &out_len);
    omads_store_use(s->store, NULL);
    const seam_syncml_report *rep = seam_syncml_server_report(s->engine);
    if (state != SEAM_SYNCML_CONTINUE)
        seam_log(SEAM_LOG_INFO,
                 "omads: session ended %s: type %u, %u received, %u sent, status %u (%s)",
                 state == SEAM_SYNCML_DONE ? "committed" : "without change", (unsigned)rep->type,
                 rep->received, rep->sent, rep->status, seam_err_str(rep->err));
    if (out) {
        res->body = malloc(out_len ? out_len : 1);
        if (res->body) {
            memcpy(res->body, out, out_len);
            res->body_len = out_len;
            res->status = 200;
            res->content_type = seam_syncml_content_type(format);
        } else {
            seam_srv_error(res, 500, "internal", "out of memory");
        }
        seam_syncml_bytes_free(out);
    } else if (state == SEAM_SYNCML_FAILED) {
        seam_srv_error(res, rep->status == SEAM_SYNCML_STORE_FAILURE ? 503 : 400,
                       rep->status == SEAM_SYNCML_STORE_FAILURE ? "busy" : "bad_syncml",
                       rep->status == SEAM_SYNCML_STORE_FAILURE
                           ? "the device's copy changed meanwhile or the store failed: sync again"
                           : "the message does not fit the session: it ended, nothing stored");
    } else {
        res->status = 200; /* done, nothing more to say (does not happen with this engine) */
    }
    put_back(srv, s, state != SEAM_SYNCML_CONTINUE);
}

/* PUT /api/devices/{id}/secret {"secret": "..."}: the device's secret for OMA DS (its user name
   is its id); the device need not have synchronized yet. 204. */
static const seam_srv_field secret_fields[] = {
    {.name = "secret", .type = SEAM_SRV_STRING, .required = true, .max = SEAM_STORE_SECRET_MAX},
};
static const seam_srv_schema secret_schema = {secret_fields, 1};

API_HANDLER(seam_api_device_secret_put) {
    cJSON *body = seam_api_body(req, &secret_schema, res);
    if (!body)
        return;
    const char *secret = cJSON_GetObjectItemCaseSensitive(body, "secret")->valuestring;
    seam_err err = seam_store_device_secret_put(seam_srv_store(srv), req->params[0], secret, NULL);
    seam_secure_zero((char *)secret, strlen(secret));
    cJSON_Delete(body);
    if (err == SEAM_ERR_ARG)
        seam_srv_error(res, 400, "bad_field",
                       "a secret is 16..64 printable ASCII characters without blanks");
    else if (err)
        seam_api_store_error(res, err);
    else
        res->status = 204;
}
