/*
 * The server's HTTP core (internal to the server layer): one request as the
 * handlers see it, the response they build, the route table, and the JSON
 * error bodies with their stable codes.
 *
 * A request's life: libmicrohttpd hands the headers; the router picks the
 * route (404/405 at once); the body is gathered up to the route's limit
 * (413 past it, the handler never runs); the bearer token is checked for
 * the admin API (401); the handler runs once on the whole body and fills a
 * response;
 * the core queues it and then counts the bytes of both directions.
 */
#ifndef SEAM_SERVER_HTTP_H
#define SEAM_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "store.h"

struct seam_server;

#define SEAM_SRV_PARAMS_MAX   2u
#define SEAM_SRV_PARAM_MAX    64u /* characters of one path parameter */
#define SEAM_SRV_HEADERS_MAX  4u
#define SEAM_SRV_HEADER_VALUE 256u /* the console's Content-Security-Policy fits */

/* One HTTP request, complete (body gathered). */
typedef struct {
    const char *method;
    const char *path;
    char params[SEAM_SRV_PARAMS_MAX][SEAM_SRV_PARAM_MAX + 1]; /* the {…} parts, in order */
    const uint8_t *body;
    size_t body_len;
    void *connection;  /* struct MHD_Connection *, for header lookups */
    uint64_t bytes_in; /* the request's bytes as received (request line, headers, body) */
} seam_srv_request;

/* What a handler answers; body is malloc'd (or NULL) and owned by the core after. */
typedef struct {
    unsigned status;
    const char *content_type; /* static string; NULL when there is no body */
    char *body;
    size_t body_len;
    struct {
        const char *name; /* static */
        char value[SEAM_SRV_HEADER_VALUE];
    } headers[SEAM_SRV_HEADERS_MAX];
    size_t header_count;
    /* Byte accounting (P1): when account.cin is not empty, the core adds the bytes
       of this request and response to the row (campaign, cin, step) after queueing
       the response; perso of the response's bytes were personalization data (P8). */
    struct {
        seam_store_id cin;
        int64_t campaign;
        char step[SEAM_STORE_TEXT_MAX];
        uint64_t perso;
        bool counted; /* the handler added the bytes itself, in its own transaction */
    } account;
} seam_srv_response;

typedef void (*seam_srv_handler)(struct seam_server *srv, const seam_srv_request *req,
                                 seam_srv_response *res);

/* One route: method and path pattern ("{name}" matches one non-empty segment). */
typedef struct {
    const char *method;
    const char *pattern;
    size_t max_body; /* bytes; larger bodies get 413 */
    bool auth;       /* needs the bearer token */
    seam_srv_handler handler;
} seam_srv_route;

/* The route table (for the router and the OpenAPI test); *count its length. */
const seam_srv_route *seam_srv_routes(size_t *count);

/* Finds the route for method and path; fills req->params. Returns the route, or
   NULL with *status 404 (no path matches) or 405 (the path does, not the method). */
const seam_srv_route *seam_srv_route_find(const char *method, const char *path,
                                          seam_srv_request *req, unsigned *status);

/* Fills res with status and the error body {"error":{"code","message"}}; code is one
   of the stable codes in docs/server.md. */
void seam_srv_error(seam_srv_response *res, unsigned status, const char *code, const char *message);

/* Fills res with status and the JSON text of json (not consumed); 500 when it cannot. */
void seam_srv_json(seam_srv_response *res, unsigned status, const void *json);

/* The bytes the core will send for res as it stands (status line, headers, blank line,
   body): what the byte accounting counts for the response (P1). */
uint64_t seam_srv_response_bytes(const seam_srv_response *res);

/* Adds a response header (name is static); false when there is no room. */
bool seam_srv_header(seam_srv_response *res, const char *name, const char *value);

/* The value of request header name, or NULL. */
const char *seam_srv_request_header(const seam_srv_request *req, const char *name);

#endif
