/*
 * The terminal's HTTP exchange over libcurl: one POST with the admin headers,
 * the answer's status, Content-Type and X-Admin-Next-URI, a body bounded as it
 * arrives (a longer one is dropped, not buffered), and the bytes that crossed
 * the wire both ways. No redirects are followed and only http and https are
 * spoken: the server names the next URI in a header the relay checks, never
 * through a redirect.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seam/util.h"
#include "terminal_int.h"

struct term_http {
    CURL *curl;
    char *cacert;
    unsigned timeout_ms;
    volatile sig_atomic_t *stop; /* nonzero: abort the transfer in progress */
    uint8_t *buf;                /* the answer's body, grown up to the bound */
    size_t cap;
};

/* What the callbacks fill during one transfer. */
typedef struct {
    term_http *h;
    term_http_answer *a;
    size_t max_body;
} transfer;

seam_err seam_terminal_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SEAM_OK : SEAM_ERR_TERMINAL;
}

seam_err term_http_new(const char *cacert, unsigned timeout_ms, volatile sig_atomic_t *stop,
                       term_http **out) {
    term_http *h = calloc(1, sizeof *h);
    if (!h)
        return SEAM_ERR_NOMEM;
    h->stop = stop;
    h->curl = curl_easy_init();
    h->cacert = cacert ? strdup(cacert) : NULL;
    h->timeout_ms = timeout_ms;
    if (!h->curl || (cacert && !h->cacert)) {
        term_http_free(h);
        return SEAM_ERR_NOMEM;
    }
    *out = h;
    return SEAM_OK;
}

void term_http_free(term_http *h) {
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h->cacert);
    free(h->buf);
    free(h);
}

/* libcurl calls this often during a transfer: a nonzero return aborts it. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    const term_http *h = ctx;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return h->stop && *h->stop;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx) {
    transfer *t = ctx;
    term_http_answer *a = t->a;
    size_t len = size * n;
    if (a->oversize || len > t->max_body - a->body_len) {
        a->oversize = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (a->body_len + len > t->h->cap) {
        size_t cap = t->h->cap ? t->h->cap : 4096;
        while (cap < a->body_len + len)
            cap *= 2;
        if (cap > t->max_body)
            cap = t->max_body;
        uint8_t *grown = realloc(t->h->buf, cap);
        if (!grown)
            return 0;
        t->h->buf = grown;
        t->h->cap = cap;
    }
    memcpy(t->h->buf + a->body_len, data, len);
    a->body_len += len;
    return len;
}

/* Copies the value of header line[0..len) into out when its name is name; true if named. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t size,
                         bool *bad) {
    size_t n = strlen(name);
    size_t start, end;
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return false;
    start = n + 1;
    end = len;
    while (start < end && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' ' ||
                           line[end - 1] == '\t'))
        end--;
    out[0] = 0;
    if (end - start >= size) {
        *bad = true;
        return true;
    }
    for (size_t i = start; i < end; i++) {
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7E) {
            *bad = true;
            return true;
        }
    }
    memcpy(out, line + start, end - start);
    out[end - start] = 0;
    return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx) {
    transfer *t = ctx;
    term_http_answer *a = t->a;
    size_t len = size * n;
    bool ignored = false;
    /* A status line starts a new answer (after a 100 Continue): forget the earlier one. */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        a->content_type[0] = 0;
        a->next_uri[0] = 0;
        a->next_uri_bad = false;
        return len;
    }
    if (!header_value(data, len, "Content-Type", a->content_type, sizeof a->content_type, &ignored))
        header_value(data, len, "X-Admin-Next-URI", a->next_uri, sizeof a->next_uri,
                     &a->next_uri_bad);
    if (ignored)
        a->content_type[0] = 0;
    return len;
}

seam_err term_http_post(term_http *h, const char *url, const char *from, const char *content_type,
                        const uint8_t *body, size_t len, size_t max_body, term_http_answer *a) {
    char line[SEAM_TERMINAL_CIN_HEX + 160];
    struct curl_slist *headers = NULL, *more;
    transfer t = {h, a, max_body};
    CURLcode rc;
    CURL *c = h->curl;
    curl_off_t sent = 0, got = 0;
    long request_size = 0, header_size = 0;
    char error[CURL_ERROR_SIZE] = "";

    memset(a, 0, sizeof *a);
    snprintf(line, sizeof line, "X-Admin-From: %s", from);
    headers = curl_slist_append(NULL, "X-Admin-Protocol: " SEAM_TERMINAL_PROTOCOL);
    if (headers && (more = curl_slist_append(headers, line)) != NULL)
        headers = more;
    snprintf(line, sizeof line, "Content-Type: %s", len ? content_type : "");
    if (headers && (more = curl_slist_append(headers, line)) != NULL)
        headers = more;
    if (headers && (more = curl_slist_append(headers, "Expect:")) != NULL)
        headers = more;
    if (headers &&
        (more = curl_slist_append(headers, "Accept: " SEAM_TERMINAL_CT_COMMANDS)) != NULL)
        headers = more;
    if (!headers)
        return SEAM_ERR_NOMEM;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, len ? (const char *)body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "seam-terminal");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    /* https: the server's certificate must chain to --cacert (or the system's CAs) and
       name the host of the URL; TLS 1.2 at least. libcurl's defaults, set by name. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (h->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
    curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &header_size);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    /* CURLINFO_REQUEST_SIZE counts what was sent, body included. */
    a->up = (uint64_t)(request_size > sent ? request_size : sent);
    a->down = (uint64_t)header_size + (uint64_t)got;
    a->body = h->buf;
    if (rc == CURLE_FILESIZE_EXCEEDED)
        a->oversize = true;
    if (a->oversize && a->status)
        return SEAM_OK;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
        /* Not a server that is down: trying again cannot help, nothing was sent. */
        seam_log(SEAM_LOG_WARN, "terminal: POST %s: %s", url,
                 *error ? error : curl_easy_strerror(rc));
        a->status = 0;
        return SEAM_ERR_TERMINAL_TLS;
    }
    if (rc != CURLE_OK) {
        seam_log(SEAM_LOG_INFO, "terminal: POST %s: %s", url,
                 *error ? error : curl_easy_strerror(rc));
        a->status = 0;
        return rc == CURLE_OUT_OF_MEMORY ? SEAM_ERR_NOMEM : SEAM_ERR_TERMINAL_UNREACHABLE;
    }
    return SEAM_OK;
}
