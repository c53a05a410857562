/*
 * The server's HTTP core over libmicrohttpd (http.h): a pool of srv->threads
 * worker threads (libmicrohttpd's internal thread pool; one polling thread
 * when threads is 1), each handling its connections' requests one at a time.
 * Each request borrows a store handle of its own for its handler and its byte
 * accounting (seam_srv_store), so that handlers on different threads never
 * share a database connection. Request states, in the connection's context:
 *   HEADERS  route found (or the error decided), body limit known
 *   BODY     bytes gathered up to the route's limit; past it, discarded (413)
 *   DONE     the handler ran (or the error was chosen), the response queued
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "seam/crypto.h"
#include "seam/util.h"
#include "server_int.h"
#include "tls.h"

typedef struct {
    seam_srv_request req;
    const seam_srv_route *route;
    unsigned early_status; /* 404/405/413 decided before the body */
    uint8_t *body;
    size_t len;
    size_t limit;
    bool too_large;
    uint64_t bytes_in;
} request_ctx;

/* The store handle lent to the request this thread is handling. */
static _Thread_local seam_store *request_store;

seam_store *seam_srv_store(struct seam_server *srv) {
    return request_store ? request_store : srv->stores[0];
}

/* Lends a free store handle to this thread's request (there are as many as worker
   threads, each handling one request at a time: the wait is only a safeguard). */
static void store_lend(struct seam_server *srv) {
    pthread_mutex_lock(&srv->stores_lock);
    for (;;) {
        for (unsigned i = 0; i < srv->threads; i++)
            if (!srv->store_busy[i]) {
                srv->store_busy[i] = true;
                request_store = srv->stores[i];
                pthread_mutex_unlock(&srv->stores_lock);
                return;
            }
        pthread_cond_wait(&srv->store_free, &srv->stores_lock);
    }
}

static void store_return(struct seam_server *srv) {
    pthread_mutex_lock(&srv->stores_lock);
    for (unsigned i = 0; i < srv->threads; i++)
        if (srv->stores[i] == request_store)
            srv->store_busy[i] = false;
    request_store = NULL;
    pthread_cond_signal(&srv->store_free);
    pthread_mutex_unlock(&srv->stores_lock);
}

void seam_srv_error(seam_srv_response *res, unsigned status, const char *code,
                    const char *message) {
    cJSON *root = cJSON_CreateObject();
    cJSON *err = root ? cJSON_AddObjectToObject(root, "error") : NULL;
    if (err && cJSON_AddStringToObject(err, "code", code) &&
        cJSON_AddStringToObject(err, "message", message)) {
        seam_srv_json(res, status, root);
    } else {
        free(res->body);
        res->body = NULL;
        res->body_len = 0;
        res->content_type = NULL;
        res->status = 500;
    }
    cJSON_Delete(root);
}

void seam_srv_json(seam_srv_response *res, unsigned status, const void *json) {
    free(res->body);
    res->body = json ? cJSON_PrintUnformatted((const cJSON *)json) : NULL;
    res->status = res->body ? status : 500;
    res->body_len = res->body ? strlen(res->body) : 0;
    res->content_type = res->body ? "application/json" : NULL;
}

bool seam_srv_header(seam_srv_response *res, const char *name, const char *value) {
    if (res->header_count >= SEAM_SRV_HEADERS_MAX || strlen(value) >= SEAM_SRV_HEADER_VALUE)
        return false;
    res->headers[res->header_count].name = name;
    snprintf(res->headers[res->header_count].value, SEAM_SRV_HEADER_VALUE, "%s", value);
    res->header_count++;
    return true;
}

const char *seam_srv_request_header(const seam_srv_request *req, const char *name) {
    if (!req->connection)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->connection, MHD_HEADER_KIND,
                                       name);
}

/* Adds the bytes of one "Name: value\r\n" header line to *total. */
static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value) {
    (void)kind;
    *(uint64_t *)cls += strlen(key) + 2 + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

/* The request's bytes as sent: request line, headers, blank line (the body is added
   as it arrives). */
static uint64_t request_head_bytes(struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version) {
    uint64_t n = strlen(method) + 1 + strlen(url) + 1 + strlen(version) + 2;
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &n);
    /* the query string is part of the request line */
    uint64_t query = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, count_header, &query);
    return n + 2 + query;
}

/* True when the Authorization header holds the bearer token whose hash the server keeps
   (compared in constant time, on the hashes). */
static bool authorized(const struct seam_server *srv, struct MHD_Connection *c) {
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    static const char prefix[] = "Bearer ";
    if (!auth || strncmp(auth, prefix, sizeof prefix - 1))
        return false;
    const char *token = auth + sizeof prefix - 1;
    uint8_t hash[32];
    if (seam_crypto_sha256((const uint8_t *)token, strlen(token), hash))
        return false;
    bool ok = seam_ct_equal(hash, srv->token_hash, sizeof hash);
    seam_secure_zero(hash, sizeof hash);
    return ok;
}

uint64_t seam_srv_response_bytes(const seam_srv_response *res) {
    /* status line, headers, blank line, body */
    uint64_t out = strlen("HTTP/1.1 200 \r\n") + strlen(MHD_get_reason_phrase_for(res->status));
    if (res->content_type)
        out += strlen("Content-Type: \r\n") + strlen(res->content_type);
    for (size_t i = 0; i < res->header_count; i++)
        out += strlen(res->headers[i].name) + 4 + strlen(res->headers[i].value);
    if (res->status != 204 && res->status != 304) {
        char cl[32];
        out += (uint64_t)snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", res->body_len);
    }
    return out + 2 + res->body_len;
}

static enum MHD_Result queue(struct seam_server *srv, struct MHD_Connection *c, request_ctx *ctx,
                             seam_srv_response *res) {
    uint64_t out = seam_srv_response_bytes(res);
    __atomic_fetch_add(&srv->requests, 1, __ATOMIC_RELAXED);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        res->body_len, res->body, res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    res->body = NULL; /* owned by the response now */
    if (res->content_type)
        MHD_add_response_header(r, "Content-Type", res->content_type);
    for (size_t i = 0; i < res->header_count; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(c, res->status, r);
    MHD_destroy_response(r);
    /* Refused requests (4xx) change nothing, not even the counts; a handler that counted
       in its own transaction (account.counted) is not counted twice. */
    if (ok == MHD_YES && res->account.cin.len && !res->account.counted && res->status < 400)
        seam_srv_account(srv, ctx->bytes_in, out, res);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
    struct seam_server *srv = cls;
    request_ctx *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        ctx->bytes_in = request_head_bytes(c, url, method, version);
        ctx->route = seam_srv_route_find(method, url, &ctx->req, &ctx->early_status);
        ctx->limit = ctx->route ? ctx->route->max_body : 0;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (ctx->route && cl && strtoull(cl, NULL, 10) > ctx->limit)
            ctx->too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        ctx->bytes_in += *upload_size;
        if (!ctx->route || ctx->too_large || *upload_size > ctx->limit - ctx->len) {
            ctx->too_large = ctx->route != NULL;
        } else {
            uint8_t *grown = realloc(ctx->body, ctx->len + *upload_size);
            if (!grown)
                return MHD_NO;
            ctx->body = grown;
            memcpy(ctx->body + ctx->len, upload_data, *upload_size);
            ctx->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    seam_srv_response res;
    memset(&res, 0, sizeof res);
    if (!ctx->route) {
        seam_srv_error(&res, ctx->early_status,
                       ctx->early_status == 405 ? "method_not_allowed" : "not_found",
                       ctx->early_status == 405 ? "this resource does not take that method"
                                                : "no such resource");
    } else if (ctx->too_large) {
        seam_srv_error(&res, 413, "too_large", "the request body is larger than this route takes");
    } else if (ctx->route->auth && !authorized(srv, c)) {
        seam_srv_error(&res, 401, "unauthorized", "a valid bearer token is required");
        seam_srv_header(&res, "WWW-Authenticate", "Bearer");
    } else {
        ctx->req.method = method;
        ctx->req.path = url;
        ctx->req.body = ctx->body;
        ctx->req.body_len = ctx->len;
        ctx->req.connection = c;
        ctx->req.bytes_in = ctx->bytes_in;
        store_lend(srv);
        ctx->route->handler(srv, &ctx->req, &res);
        enum MHD_Result ok = queue(srv, c, ctx, &res);
        store_return(srv);
        return ok;
    }
    return queue(srv, c, ctx, &res);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why) {
    (void)cls, (void)c, (void)why;
    request_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

seam_err seam_srv_http_start(struct seam_server *srv, const char *listen,
                             const seam_server_options *options) {
    char host[64] = "127.0.0.1";
    unsigned long port = 8080;
    if (listen) {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            return SEAM_ERR_ARG;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        char *end;
        port = strtoul(colon + 1, &end, 10);
        if (*end || end == colon + 1 || port > 65535)
            return SEAM_ERR_ARG;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return SEAM_ERR_ARG;
    /* Beyond loopback (127.0.0.0/8) the admin API's token and the personalization data
       would cross a network: HTTPS only, unless plain HTTP is asked for by name. */
    bool loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
    srv->tls = options->tls || (!loopback && !options->insecure_http);
    if (srv->tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return SEAM_ERR_SERVER_TLS;
        seam_err err = seam_srv_tls_load(options->dir, &srv->tls_key, &srv->tls_cert);
        /* A folder without TLS material (made before TLS was built): plain HTTP is what
           the server would fall back to, and that is refused by name. */
        if (err == SEAM_ERR_SERVER_TLS && !options->tls && !seam_srv_tls_present(options->dir))
            err = SEAM_ERR_SERVER_INSECURE_HTTP;
        if (err)
            return err;
    } else if (!loopback) {
        seam_log(SEAM_LOG_WARN,
                 "server: plain HTTP on %s (--insecure-http): the bearer token and "
                 "personalization data cross the network in clear",
                 host);
    }
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)SEAM_SRV_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    if (!srv->tls)
        tls_options[0].option = MHD_OPTION_END;
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_SUPPRESS_DATE_NO_CLOCK |
            (srv->tls ? MHD_USE_TLS : 0),
        (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, 256u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(srv->threads > 1 ? srv->threads : 0), MHD_OPTION_ARRAY, tls_options,
        MHD_OPTION_END);
    if (!srv->daemon)
        return SEAM_ERR_SERVER_LISTEN;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : (uint16_t)port;
    return SEAM_OK;
}

void seam_srv_http_stop(struct seam_server *srv) {
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
