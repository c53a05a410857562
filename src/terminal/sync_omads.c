/*
 * seam_terminal_sync_omads (terminal.h): the terminal's device-management database
 * synchronized with a server over OMA DS 1.2 (SyncML over HTTP; docs/sync.md "OMA DS over
 * HTTP", docs/terminal.md). The syncml layer's client engine runs over a store that is a
 * sync-layer session on the database (seam_sync_session_*): one write transaction from the
 * first message to the commit, the changes since the base of this server, and records in
 * seam_sync_record_format's text form, the only serializer of record content.
 *
 * States: START (request checked, database opened) -> each HTTP POST of the engine's next
 * message (to the server's RespURI once it gave one) -> DONE (committed with the new anchor)
 * or FAILED (rolled back: the database as it was). A transport error, an HTTP status other
 * than 200 or the wrong Content-Type ends the sync as FAILED.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam/crypto.h"
#include "seam/sync.h"
#include "seam/syncml.h"
#include "seam/terminal.h"
#include "seam/util.h"

#define DEFAULT_TIMEOUT_MS 60000u
#define MAX_ROUNDS         10000u /* POSTs in one session: a server that never ends is cut */

/* ---- the engine's store: a sync-layer session ---- */

typedef struct {
    seam_sync_db *db;
    seam_sync_session *session;
    const char *uri;
    char peer[SEAM_SYNC_PEER_MAX + 1];
    bool sent; /* this side's changes were listed: they reach the server */
} client_store;

static seam_err cs_begin(void *ctx, const char *db, const char *peer) {
    client_store *s = ctx;
    (void)db, (void)peer;
    return seam_sync_session_begin(s->db, s->peer, s->uri, &s->session);
}

static seam_err cs_commit(void *ctx, const char *db, const char *peer, const char *anchor) {
    client_store *s = ctx;
    (void)db, (void)peer;
    seam_err err = seam_sync_session_commit(s->session, anchor, s->sent);
    seam_sync_session_free(s->session);
    s->session = NULL;
    return err;
}

static seam_err cs_rollback(void *ctx, const char *db, const char *peer) {
    client_store *s = ctx;
    (void)db, (void)peer;
    seam_sync_session_free(s->session);
    s->session = NULL;
    return SEAM_OK;
}

static seam_err cs_last_anchor(void *ctx, const char *db, const char *peer,
                               char out[SEAM_SYNCML_ANCHOR_MAX]) {
    client_store *s = ctx;
    char last[SEAM_SYNC_ANCHOR_MAX + 1];
    (void)db, (void)peer;
    seam_sync_session_anchor(s->session, last);
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%.63s", last);
    return SEAM_OK;
}

static seam_err cs_next_anchor(void *ctx, const char *db, char out[SEAM_SYNCML_ANCHOR_MAX]) {
    client_store *s = ctx;
    char next[SEAM_SYNC_ANCHOR_MAX + 1];
    (void)db;
    seam_sync_session_next_anchor(s->session, next);
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%.63s", next);
    return SEAM_OK;
}

typedef struct {
    const char *uri;
    seam_syncml_change_fn each;
    void *arg;
    seam_err err;
} change_walk;

static int cs_one_change(void *ctx, seam_sync_op op, const seam_sync_record *rec) {
    change_walk *w = ctx;
    char text[SEAM_SYNC_TEXT_MAX + 1];
    size_t len = 0;
    seam_syncml_change c = {.key = rec->key};
    if (op == SEAM_SYNC_DELETED) {
        c.op = SEAM_SYNCML_OP_DELETE;
    } else {
        c.op = op == SEAM_SYNC_ADDED ? SEAM_SYNCML_OP_ADD : SEAM_SYNCML_OP_REPLACE;
        w->err = seam_sync_record_format(w->uri, rec, text, sizeof text, &len);
        c.content = text;
        c.content_len = len;
    }
    if (!w->err)
        w->err = w->each(w->arg, &c);
    return w->err != SEAM_OK;
}

static seam_err cs_changes(void *ctx, const char *db, const char *peer, bool all,
                           seam_syncml_change_fn each, void *arg) {
    client_store *s = ctx;
    (void)db, (void)peer;
    change_walk w = {s->uri, each, arg, SEAM_OK};
    s->sent = true;
    seam_err err = seam_sync_session_changes(s->session, all, cs_one_change, &w);
    return err ? err : w.err;
}

static seam_err cs_apply(void *ctx, const char *db, const seam_syncml_change *c,
                         char key_out[SEAM_SYNCML_KEY_MAX], unsigned *status) {
    client_store *s = ctx;
    seam_sync_record rec;
    (void)db;
    memset(&rec, 0, sizeof rec);
    if (!c->key || strlen(c->key) > SEAM_SYNC_KEY_MAX) {
        *status = SEAM_SYNCML_BAD_REQUEST;
        return SEAM_OK;
    }
    seam_err err = seam_sync_session_get(s->session, c->key, &rec);
    if (err && err != SEAM_ERR_NOT_FOUND)
        return err;
    bool present = err == SEAM_OK;
    if (c->op == SEAM_SYNCML_OP_DELETE) {
        *status = present ? SEAM_SYNCML_OK : SEAM_SYNCML_NOT_DELETED;
        return present ? seam_sync_session_delete(s->session, c->key) : SEAM_OK;
    }
    if (c->op == SEAM_SYNCML_OP_REPLACE && !present) {
        *status = SEAM_SYNCML_NOT_FOUND;
        return SEAM_OK;
    }
    /* The content is the database's text form; the key is the server's (an Add's GUID becomes
       this side's key: for seam's server, the natural key the record had here). */
    memset(&rec, 0, sizeof rec);
    snprintf(rec.key, sizeof rec.key, "%s", c->key);
    if (seam_sync_record_parse(s->uri, c->content, c->content_len, &rec) != SEAM_OK) {
        *status = 415; /* not a record of this database: refused, nothing stored */
        return SEAM_OK;
    }
    err = seam_sync_session_put(s->session, &rec);
    if (err == SEAM_ERR_SYNC_FIELD) {
        *status = 415;
        return SEAM_OK;
    }
    if (err)
        return err;
    if (c->op == SEAM_SYNCML_OP_ADD)
        snprintf(key_out, SEAM_SYNCML_KEY_MAX, "%.127s", rec.key);
    *status = c->op == SEAM_SYNCML_OP_ADD ? SEAM_SYNCML_ITEM_ADDED : SEAM_SYNCML_OK;
    return SEAM_OK;
}

static seam_err cs_wipe(void *ctx, const char *db) {
    client_store *s = ctx;
    (void)db;
    return seam_sync_session_wipe(s->session);
}

/* ---- HTTP ---- */

typedef struct {
    uint8_t *bytes;
    size_t len;
    bool too_long;
} body;

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
    body *b = ctx;
    size_t add = size * n;
    if (b->len + add > SEAM_SYNCML_MAX_MESSAGE) {
        b->too_long = true;
        return 0;
    }
    uint8_t *grown = realloc(b->bytes, b->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, p, add);
    b->bytes = grown;
    b->len += add;
    return add;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* POSTs msg to url; the answer in *answer (free it). The failure class, or SEAM_TERMINAL_SYNC_OK.
 */
static seam_terminal_sync_failure post(CURL *curl, const char *url, seam_syncml_format format,
                                       const uint8_t *msg, size_t len, const char *cacert,
                                       uint64_t deadline, body *answer, char *why, size_t cap) {
    struct curl_slist *headers = NULL;
    char type[80];
    snprintf(type, sizeof type, "Content-Type: %s", seam_syncml_content_type(format));
    headers = curl_slist_append(headers, type);
    headers = curl_slist_append(headers, "Expect:");
    uint64_t now = now_ms();
    long left = deadline > now ? (long)(deadline - now) : 1;
    memset(answer, 0, sizeof *answer);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)msg);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cacert)
        curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
    seam_syncml_format got;
    if (rc != CURLE_OK) {
        snprintf(why, cap, "%s: %s", url,
                 answer->too_long ? "answer too long" : curl_easy_strerror(rc));
        return answer->too_long ? SEAM_TERMINAL_SYNC_MALFORMED : SEAM_TERMINAL_SYNC_UNREACHABLE;
    }
    if (status != 200) {
        snprintf(why, cap, "the server answered HTTP %ld", status);
        return status == 401 || status == 403                    ? SEAM_TERMINAL_SYNC_AUTH
               : status >= 500 || status == 404 || status == 409 ? SEAM_TERMINAL_SYNC_UNREACHABLE
                                                                 : SEAM_TERMINAL_SYNC_MALFORMED;
    }
    if (!ctype || seam_syncml_format_of(ctype, &got) != SEAM_OK || got != format) {
        snprintf(why, cap, "the server's answer is not %s", seam_syncml_content_type(format));
        return SEAM_TERMINAL_SYNC_MALFORMED;
    }
    return SEAM_TERMINAL_SYNC_OK;
}

/* ---- the synchronization ---- */

/* The peer under which the database tracks this server: "omads:" and its URL, or a digest of
   a URL too long for a peer id. */
static void peer_of(const char *url, char out[SEAM_SYNC_PEER_MAX + 1]) {
    bool plain = strlen(url) + 6 <= SEAM_SYNC_PEER_MAX;
    for (const char *p = url; plain && *p; p++)
        plain = *p > 0x20 && *p <= 0x7E;
    if (plain) {
        snprintf(out, SEAM_SYNC_PEER_MAX + 1, "omads:%s", url);
        return;
    }
    uint8_t digest[32];
    char hex[65];
    size_t n = 0;
    if (seam_crypto_sha256((const uint8_t *)url, strlen(url), digest) ||
        seam_hex_encode(digest, 16, hex, sizeof hex, &n))
        snprintf(hex, sizeof hex, "url");
    snprintf(out, SEAM_SYNC_PEER_MAX + 1, "omads:%.32s", hex);
}

static seam_terminal_sync_failure engine_failure(const seam_syncml_report *r) {
    if (r->status == SEAM_SYNCML_INVALID_CRED || r->status == SEAM_SYNCML_MISSING_CRED)
        return SEAM_TERMINAL_SYNC_AUTH;
    if (r->status == SEAM_SYNCML_NOT_FOUND)
        return SEAM_TERMINAL_SYNC_UNSUPPORTED; /* the server has no such database */
    if (r->err == SEAM_ERR_SYNCML_STORE || r->err == SEAM_ERR_SYNC_DB ||
        r->err == SEAM_ERR_SYNC_FULL)
        return SEAM_TERMINAL_SYNC_LOCAL;
    if (r->err == SEAM_OK && r->status >= 500)
        return SEAM_TERMINAL_SYNC_UNREACHABLE; /* the server failed (510: sync again) */
    return SEAM_TERMINAL_SYNC_MALFORMED;
}

static void outcome_from(seam_terminal_sync_outcome *out, const seam_syncml_report *r,
                         seam_sync_type asked) {
    out->counts.type = (seam_sync_type)r->type;
    out->counts.sent = r->sent;
    out->counts.received = r->received;
    out->counts.conflicts_server = r->conflicts; /* the client learns the ones it lost (419) */
    out->counts.slow_fallback = r->type != (seam_syncml_sync_type)0 && (unsigned)r->type != asked;
}

static bool request_ok(const seam_terminal_sync_request *req, seam_terminal_sync_outcome *out) {
    if (!req->dm_path || !req->device_id || !req->source_uri || !req->server_url)
        return false;
    if (req->type < SEAM_SYNC_TWO_WAY || req->type > SEAM_SYNC_REFRESH_FROM_SERVER ||
        (strcmp(req->source_uri, SEAM_SYNC_DEVINFO) && strcmp(req->source_uri, SEAM_SYNC_APPS) &&
         strcmp(req->source_uri, SEAM_SYNC_CARD))) {
        out->failure = SEAM_TERMINAL_SYNC_UNSUPPORTED;
        snprintf(out->reason, sizeof out->reason, "OMA DS runs types 200..205 on %s, %s and %s",
                 SEAM_SYNC_DEVINFO, SEAM_SYNC_APPS, SEAM_SYNC_CARD);
    }
    return true;
}

seam_err seam_terminal_sync_omads(const seam_terminal_sync_request *req,
                                  seam_terminal_sync_outcome *out) {
    if (!req || !out)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!request_ok(req, out))
        return SEAM_ERR_ARG;
    if (out->failure)
        return SEAM_OK;
    client_store cs = {.uri = req->source_uri};
    peer_of(req->server_url, cs.peer);
    seam_err err = seam_sync_open(req->dm_path, &cs.db);
    if (err) {
        out->failure = SEAM_TERMINAL_SYNC_LOCAL;
        snprintf(out->reason, sizeof out->reason, "%s: %s", req->dm_path, seam_err_str(err));
        return SEAM_OK;
    }
    seam_syncml_store store = {.ctx = &cs,
                               .begin = cs_begin,
                               .commit = cs_commit,
                               .rollback = cs_rollback,
                               .last_anchor = cs_last_anchor,
                               .next_anchor = cs_next_anchor,
                               .changes = cs_changes,
                               .apply = cs_apply,
                               .wipe = cs_wipe};
    /* the user defaults to the device id, as the changeset protocol's HTTP user does */
    const char *user = req->user ? req->user : req->password ? req->device_id : NULL;
    seam_syncml_config cfg = {.db = req->source_uri,
                              .remote_db = req->target_uri ? req->target_uri : req->source_uri,
                              .device_id = req->device_id,
                              .server_uri = req->server_url,
                              .user = user,
                              .password = req->password,
                              .auth = user ? SEAM_SYNCML_AUTH_MD5 : SEAM_SYNCML_AUTH_NONE,
                              .type = (seam_syncml_sync_type)req->type,
                              .format = SEAM_SYNCML_XML,
                              .max_msg_size = req->max_msg_size};
    seam_syncml_client *c = seam_syncml_client_new(&store, &cfg);
    CURL *curl = c ? curl_easy_init() : NULL;
    if (!c || !curl) {
        seam_syncml_client_free(c);
        seam_sync_close(cs.db);
        return SEAM_ERR_NOMEM;
    }
    uint64_t deadline = now_ms() + (req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    uint8_t *msg = NULL;
    size_t len = 0;
    seam_syncml_state state = seam_syncml_client_start(c, &msg, &len);
    for (unsigned round = 0; state == SEAM_SYNCML_CONTINUE; round++) {
        const char *to = seam_syncml_client_resp_uri(c);
        body answer;
        if (round == MAX_ROUNDS) {
            out->failure = SEAM_TERMINAL_SYNC_MALFORMED;
            snprintf(out->reason, sizeof out->reason, "the server never ended the session");
            break;
        }
        out->bytes_sent += len;
        out->failure = post(curl, to ? to : req->server_url, cfg.format, msg, len, req->cacert,
                            deadline, &answer, out->reason, sizeof out->reason);
        seam_syncml_bytes_free(msg);
        msg = NULL;
        out->bytes_received += answer.len;
        if (!out->failure)
            state = seam_syncml_client_step(c, answer.bytes, answer.len, &msg, &len);
        free(answer.bytes);
        if (out->failure)
            break;
    }
    seam_syncml_bytes_free(msg);
    const seam_syncml_report *r = seam_syncml_client_report(c);
    outcome_from(out, r, req->type);
    if (!out->failure && state != SEAM_SYNCML_DONE) {
        out->failure = engine_failure(r);
        snprintf(out->reason, sizeof out->reason, "OMA DS session failed: status %u%s%s", r->status,
                 r->err ? ", " : "", r->err ? seam_err_str(r->err) : "");
    }
    if (!out->failure)
        snprintf(out->reason, sizeof out->reason, "synchronized (type %u): %u sent, %u received",
                 (unsigned)r->type, r->sent, r->received);
    seam_syncml_client_free(c); /* rolls back a session that did not commit */
    curl_easy_cleanup(curl);
    seam_sync_close(cs.db);
    return SEAM_OK;
}
