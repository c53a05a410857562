/*
 * A scripted admin-protocol peer for the terminal's relay tests: a real HTTP
 * server (libmicrohttpd on 127.0.0.1, a port the OS chooses) that answers
 * each POST with the next canned answer of a fixed list (then 204) and keeps
 * what every request carried: the path, the admin headers, the Content-Type
 * and the body. It is NOT the admin server (`seam server` is): it judges
 * nothing and only lets the tests watch the relay's mechanics.
 * Header-only (static): one test program includes it.
 */
#ifndef SEAM_TESTS_SCRIPTED_PEER_H
#define SEAM_TESTS_SCRIPTED_PEER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PEER_ANSWERS  8
#define PEER_REQUESTS 16
#define PEER_BODY_MAX (512u * 1024u)

typedef struct scripted_peer scripted_peer;

typedef struct {
    unsigned status;
    const char *content_type; /* NULL: none */
    const char *next_uri;     /* NULL: none */
    const uint8_t *body;
    size_t body_len;
    /* When not NULL, writes the body instead from the requests so far (peer->requests,
       the last one included) into out[0..cap) and returns its length. */
    size_t (*build)(const scripted_peer *peer, uint8_t *out, size_t cap);
} peer_answer;

typedef struct {
    char path[256];
    char protocol[128]; /* X-Admin-Protocol */
    char from[128];     /* X-Admin-From */
    char content_type[160];
    uint8_t *body;
    size_t body_len;
} peer_request;

struct scripted_peer {
    struct MHD_Daemon *daemon;
    uint16_t port;
    pthread_mutex_t lock;
    peer_answer answers[PEER_ANSWERS];
    size_t answer_count;
    peer_request requests[PEER_REQUESTS];
    size_t request_count;
    unsigned fallback; /* the status after the list; 0: 204 */
};

/* Per-connection upload collection. */
typedef struct {
    uint8_t *body;
    size_t len;
} peer_upload;

static void peer_copy_header(struct MHD_Connection *c, const char *name, char *out, size_t size) {
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, size, "%s", v ? v : "");
}

static enum MHD_Result peer_handle(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_size, void **con_cls) {
    scripted_peer *p = cls;
    peer_upload *up = *con_cls;
    peer_answer a = {204, NULL, NULL, NULL, 0, NULL};
    static uint8_t built[4096]; /* one request at a time: the daemon has one thread */
    struct MHD_Response *resp;
    enum MHD_Result ret;
    (void)version;
    (void)method;
    if (!up) {
        up = calloc(1, sizeof *up);
        *con_cls = up;
        return up ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (up->len + *upload_size > PEER_BODY_MAX)
            return MHD_NO;
        up->body = realloc(up->body, up->len + *upload_size);
        memcpy(up->body + up->len, upload_data, *upload_size);
        up->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&p->lock);
    if (p->request_count < PEER_REQUESTS) {
        peer_request *r = &p->requests[p->request_count];
        snprintf(r->path, sizeof r->path, "%s", url);
        peer_copy_header(c, "X-Admin-Protocol", r->protocol, sizeof r->protocol);
        peer_copy_header(c, "X-Admin-From", r->from, sizeof r->from);
        peer_copy_header(c, "Content-Type", r->content_type, sizeof r->content_type);
        r->body = up->body;
        r->body_len = up->len;
        up->body = NULL;
        if (p->request_count < p->answer_count)
            a = p->answers[p->request_count];
        else if (p->fallback)
            a.status = p->fallback;
        p->request_count++;
        if (a.build) {
            a.body_len = a.build(p, built, sizeof built);
            a.body = built;
        }
    }
    pthread_mutex_unlock(&p->lock);
    resp = MHD_create_response_from_buffer(a.body_len, (void *)a.body, MHD_RESPMEM_MUST_COPY);
    if (a.content_type)
        MHD_add_response_header(resp, "Content-Type", a.content_type);
    if (a.next_uri)
        MHD_add_response_header(resp, "X-Admin-Next-URI", a.next_uri);
    ret = MHD_queue_response(c, a.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void peer_done(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code) {
    peer_upload *up = *con_cls;
    (void)cls;
    (void)c;
    (void)code;
    if (up) {
        free(up->body);
        free(up);
    }
    *con_cls = NULL;
}

/* Starts the peer on 127.0.0.1 (port chosen by the OS) answering answers[0..n) in order. */
static int peer_start(scripted_peer *p, const peer_answer *answers, size_t n) {
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    memcpy(p->answers, answers, n * sizeof *answers);
    p->answer_count = n;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    p->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 peer_handle, p, MHD_OPTION_SOCK_ADDR, &addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, peer_done, p, MHD_OPTION_END);
    if (!p->daemon)
        return -1;
    info = MHD_get_daemon_info(p->daemon, MHD_DAEMON_INFO_BIND_PORT);
    p->port = info ? info->port : 0;
    return p->port ? 0 : -1;
}

/* Stops the peer and frees what it kept. */
static void peer_stop(scripted_peer *p) {
    if (p->daemon)
        MHD_stop_daemon(p->daemon);
    for (size_t i = 0; i < p->request_count; i++)
        free(p->requests[i].body);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

#endif
