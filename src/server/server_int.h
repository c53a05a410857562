/*
 * The server object (internal to the server layer): the listening daemon,
 * the storage it drives, and the hash of the admin API's bearer token.
 */
#ifndef SEAM_SERVER_INT_H
#define SEAM_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "seam/server.h"
#include "store.h"

struct MHD_Daemon;

struct seam_server {
    struct MHD_Daemon *daemon;
    char owner[64];         /* who claims campaign work: host and process */
    uint8_t token_hash[32]; /* SHA-256 of the bearer token; the token itself is never kept */
    uint16_t port;
    bool tls;                 /* HTTPS (the daemon was started with the folder's certificate) */
    char *tls_key, *tls_cert; /* their PEM text while the daemon runs (tls.h) */
    int64_t lease_seconds;    /* a claim's lease (seam_server_options) */
    void *live;               /* the live campaign steps by admin session id (admin_plan.c) */
    size_t live_count, live_cap;
    pthread_mutex_t live_lock; /* the live steps are shared by the HTTP worker threads */
    void *omads;               /* the live OMA DS sessions (omads.c), under omads_lock */
    pthread_mutex_t omads_lock;
    int64_t started;   /* when it started (seconds since the epoch), for GET /api/health */
    uint64_t requests; /* HTTP requests answered (atomic: every worker thread adds) */
    /* One store handle per HTTP worker thread (http.c lends one to each request). A handle
       is used by one request at a time: handlers reach theirs with seam_srv_store(srv),
       never stores[i] (there is deliberately no srv->store). */
    unsigned threads;
    seam_store **stores;
    bool *store_busy;
    pthread_mutex_t stores_lock;
    pthread_cond_t store_free;
};

/* A campaign's parameters when its personalization happens in the terminal (P6, P9). */
#define SEAM_SRV_PARAMS_TERMINAL "{\"personalization\":\"terminal\"}"

/* True when campaign c (install or update) is personalized in the terminal: its steps are
   deliveries (admin_delivery.c), not command scripts. */
static inline bool seam_srv_campaign_in_terminal(const seam_store_campaign *c) {
    return (c->kind == SEAM_STORE_INSTALL || c->kind == SEAM_STORE_UPDATE) &&
           strcmp(c->params, SEAM_SRV_PARAMS_TERMINAL) == 0;
}

/* The store handle of the request this thread is handling (each request has one of its
   own), or stores[0] outside a request (start and stop, one thread). */
seam_store *seam_srv_store(struct seam_server *srv);

/* Counts one exchange's bytes (P1) for res->account; called by the HTTP core after
   the response is queued. */
void seam_srv_account(struct seam_server *srv, uint64_t bytes_in, uint64_t bytes_out,
                      const seam_srv_response *res);

/* How many OMA DS sessions are live in this process (omads.c). */
size_t seam_srv_omads_live(struct seam_server *srv);

/* Ends every live OMA DS session (nothing of them was written) and frees the table. */
void seam_srv_omads_clear(struct seam_server *srv);

/* Starts the HTTP daemon on listen (ADDR:PORT; NULL: 127.0.0.1:8080); srv->port is the
   port it got. HTTPS with the certificate of options->dir when options->tls or when the
   address is not loopback (there plain HTTP only with options->insecure_http).
   SEAM_ERR_ARG (bad address), SEAM_ERR_SERVER_LISTEN, SEAM_ERR_SERVER_INSECURE_HTTP,
   SEAM_ERR_SERVER_TLS. */
seam_err seam_srv_http_start(struct seam_server *srv, const char *listen,
                             const seam_server_options *options);

/* Stops the daemon, waiting for the request in progress. */
void seam_srv_http_stop(struct seam_server *srv);

#endif
