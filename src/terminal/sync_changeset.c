/*
 * The terminal's side of seam's compact changeset protocol over HTTP (docs/sync.md
 * "Over HTTP", docs/terminal.md "seam terminal sync"; S6, S7).
 *
 * States of one synchronization:
 *   OPEN     the device-management database is open; seam_sync_client_start holds its
 *            write transaction and message 1 is ready
 *   POSTED   a message is out (POST /sync/changeset, HTTP basic: device id and secret)
 *   DONE     the reply is applied and committed (or the server asked for a slow sync:
 *            the new message 1 goes out, back to POSTED, at most once more)
 *   FAILED   any failure: the client is freed, its transaction rolled back, nothing of
 *            the sync applied locally; the outcome names the failure class
 * How failures map (seam_terminal_sync_failure): no answer (refused, reset, timeout,
 * TLS) or HTTP 5xx -> UNREACHABLE; 401/403 -> AUTH; any other status, a reply of
 * another Content-Type, or one the sync layer refuses -> MALFORMED; a slow sync the
 * server required again after the slow sync, or in a form the client refuses ->
 * SLOW_REFUSED; the local database failing -> LOCAL; a database URI or target the
 * protocol does not sync -> UNSUPPORTED.
 */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seam/terminal.h"
#include "seam/util.h"

#define CHANGESET_TYPE     "application/vnd.seam.changeset"
#define DEFAULT_TIMEOUT_MS 30000u
#define ROUNDS_MAX         3

typedef struct {
    uint8_t *body;
    size_t len, cap;
    bool oversize;
    char content_type[96];
} answer;

static size_t on_body(char *data, size_t size, size_t n, void *ctx) {
    answer *a = ctx;
    size_t len = size * n;
    if (len > SEAM_SYNC_MESSAGE_MAX - a->len) {
        a->oversize = true;
        return 0;
    }
    if (a->len + len > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->len + len)
            cap *= 2;
        uint8_t *grown = realloc(a->body, cap);
        if (!grown)
            return 0;
        a->body = grown;
        a->cap = cap;
    }
    memcpy(a->body + a->len, data, len);
    a->len += len;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx) {
    answer *a = ctx;
    size_t len = size * n;
    static const char name[] = "Content-Type:";
    if (len > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
        size_t start = sizeof name - 1, end = len;
        while (start < end && data[start] == ' ')
            start++;
        while (end > start &&
               (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        snprintf(a->content_type, sizeof a->content_type, "%.*s", (int)(end - start), data + start);
    }
    return len;
}

/* Counts the bytes libcurl sends, headers and body (CURLOPT_DEBUGFUNCTION: nothing printed). */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ctx) {
    (void)c;
    (void)data;
    if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
        *(uint64_t *)ctx += size;
    return 0;
}

static void fail(seam_terminal_sync_outcome *out, seam_terminal_sync_failure why, const char *fmt,
                 ...) {
    va_list ap;
    va_start(ap, fmt);
    out->failure = why;
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    seam_log(SEAM_LOG_WARN, "terminal sync: %s", out->reason);
}

/* POSTs msg; the answer in *a and its HTTP status in *status (0: none came). */
static void post(CURL *c, const seam_terminal_sync_request *req, const uint8_t *msg, size_t len,
                 answer *a, long *status, seam_terminal_sync_outcome *out, char *error) {
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: " CHANGESET_TYPE);
    struct curl_slist *more = h ? curl_slist_append(h, "Expect:") : NULL;
    if (more)
        h = more;
    long timeout = (long)(req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    a->len = 0;
    a->oversize = false;
    a->content_type[0] = 0;
    *status = 0;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->server_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)msg);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "seam-terminal");
    if (req->password) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, req->user ? req->user : req->device_id);
        curl_easy_setopt(c, CURLOPT_PASSWORD, req->password);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    /* https as the admin session speaks it: the certificate chains to --cacert (or the
       system's CAs) and names the URL's host; TLS 1.2 at least. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (req->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->cacert);
    uint64_t up = 0;
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &up);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    error[0] = 0;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    long header_size = 0;
    curl_off_t got = 0;
    curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &header_size);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    out->bytes_sent += len;
    out->wire_sent += up; /* request line, headers and body as sent */
    out->wire_received += (uint64_t)header_size + (uint64_t)got;
    if (rc == CURLE_OK || (a->oversize && rc == CURLE_WRITE_ERROR))
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else if (!*error)
        snprintf(error, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    out->bytes_received += a->len;
}

/* Judges one HTTP answer: true when it is a reply to hand to the sync layer. */
static bool judge(long status, const answer *a, const char *error,
                  seam_terminal_sync_outcome *out) {
    if (status == 0) {
        fail(out, SEAM_TERMINAL_SYNC_UNREACHABLE, "no answer from the server: %s", error);
    } else if (status == 401 || status == 403) {
        fail(out, SEAM_TERMINAL_SYNC_AUTH, "the server refused the device's credentials (%ld)",
             status);
    } else if (status >= 500) {
        fail(out, SEAM_TERMINAL_SYNC_UNREACHABLE, "the server failed (%ld)", status);
    } else if (status != 200 || a->oversize || strcmp(a->content_type, CHANGESET_TYPE)) {
        fail(out, SEAM_TERMINAL_SYNC_MALFORMED, "the server answered %ld%s (%s)", status,
             a->oversize ? ", too long" : "", a->content_type[0] ? a->content_type : "no type");
    } else {
        return true;
    }
    return false;
}

/* The failure class of a reply the sync layer refused with err. */
static void refused(seam_err err, const answer *a, seam_terminal_sync_outcome *out) {
    seam_sync_frame f;
    if (err == SEAM_ERR_SYNC_DB || err == SEAM_ERR_SYNC_FULL || err == SEAM_ERR_NOMEM)
        fail(out, SEAM_TERMINAL_SYNC_LOCAL, "the local database failed: %s", seam_err_str(err));
    else if (seam_sync_frame_decode(a->body, a->len, &f) == SEAM_OK && f.status == 1)
        fail(out, SEAM_TERMINAL_SYNC_SLOW_REFUSED, "the server required a slow sync again: %s",
             seam_err_str(err));
    else
        fail(out, SEAM_TERMINAL_SYNC_MALFORMED, "the server's reply was refused: %s",
             seam_err_str(err));
}

seam_err seam_terminal_sync_changeset(const seam_terminal_sync_request *req,
                                      seam_terminal_sync_outcome *out) {
    if (!req || !out)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!req->dm_path || !req->device_id || !req->server_url || !req->source_uri)
        return SEAM_ERR_ARG;
    if (req->target_uri && strcmp(req->target_uri, req->source_uri)) {
        fail(out, SEAM_TERMINAL_SYNC_UNSUPPORTED,
             "the changeset protocol syncs %s with the server's %s only", req->source_uri,
             req->source_uri);
        return SEAM_OK;
    }
    seam_sync_db *db = NULL;
    seam_sync_client *client = NULL;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    answer a = {0};
    char error[CURL_ERROR_SIZE];
    seam_err err = seam_sync_open(req->dm_path, &db);
    if (err) {
        fail(out, SEAM_TERMINAL_SYNC_LOCAL, "cannot open %s: %s", req->dm_path, seam_err_str(err));
        return SEAM_OK;
    }
    err = seam_sync_client_start(db, req->device_id, SEAM_SYNC_SERVER_ID, req->source_uri,
                                 req->type, &client, &msg, &msg_len);
    if (err == SEAM_ERR_SYNC_URI || err == SEAM_ERR_ARG)
        fail(out, SEAM_TERMINAL_SYNC_UNSUPPORTED, "cannot sync %s as type %d: %s", req->source_uri,
             (int)req->type, seam_err_str(err));
    else if (err)
        fail(out, SEAM_TERMINAL_SYNC_LOCAL, "the local database failed: %s", seam_err_str(err));
    CURL *c = err ? NULL : curl_easy_init();
    if (!err && !c)
        fail(out, SEAM_TERMINAL_SYNC_LOCAL, "out of memory");
    for (int round = 0; c && msg && round < ROUNDS_MAX; round++) {
        long status = 0;
        post(c, req, msg, msg_len, &a, &status, out, error);
        free(msg);
        msg = NULL;
        if (!judge(status, &a, error, out))
            break;
        err = seam_sync_client_receive(client, a.body, a.len, &msg, &msg_len);
        if (err) {
            refused(err, &a, out);
            break;
        }
        if (!msg) {
            seam_sync_client_result(client, &out->counts);
            out->failure = SEAM_TERMINAL_SYNC_OK;
            snprintf(out->reason, sizeof out->reason, "synchronized %s: sent %u, received %u",
                     req->source_uri, out->counts.sent, out->counts.received);
        }
    }
    if (msg) { /* a third message: the server keeps asking for a slow sync */
        free(msg);
        fail(out, SEAM_TERMINAL_SYNC_SLOW_REFUSED, "the server kept asking for a slow sync");
    }
    if (out->failure != SEAM_TERMINAL_SYNC_OK)
        seam_sync_client_result(client, &out->counts);
    curl_easy_cleanup(c);
    free(a.body);
    seam_sync_client_free(client); /* rolls back a sync that did not commit */
    seam_sync_close(db);
    return SEAM_OK;
}
