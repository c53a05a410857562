/*
 * Inside the terminal layer: the HTTP exchange (http.c, libcurl) that the
 * relay (relay.c) drives. Not part of the public interface.
 */
#ifndef SEAM_TERMINAL_INT_H
#define SEAM_TERMINAL_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/terminal.h"

/* One answer of the server. body is the exchange's (freed by term_http_free). */
typedef struct {
    long status;                          /* HTTP status; 0 when none came */
    char content_type[160];               /* "" when absent or too long */
    char next_uri[SEAM_TERMINAL_URI_MAX]; /* X-Admin-Next-URI as sent; "" when absent */
    bool next_uri_bad;                    /* present but too long or not printable */
    uint8_t *body;
    size_t body_len;
    bool oversize;     /* the body was longer than the bound: dropped */
    uint64_t up, down; /* bytes on the wire: request, answer (headers+body) */
} term_http_answer;

typedef struct term_http term_http;

/* A client for one server: cacert may be NULL, timeout_ms > 0; a transfer in progress is
   aborted (as unreachable) when *stop becomes nonzero (stop may be NULL). */
seam_err term_http_new(const char *cacert, unsigned timeout_ms, volatile sig_atomic_t *stop,
                       term_http **out);
void term_http_free(term_http *h);

/*
 * POSTs body[0..len) (may be empty) to url with the admin headers (protocol,
 * X-Admin-From: from, Content-Type: content_type when len > 0), answers longer
 * than max_body refused. SEAM_OK when an HTTP answer came (any status, or
 * oversize); SEAM_ERR_TERMINAL_UNREACHABLE when none did (refused, reset,
 * timeout); SEAM_ERR_NOMEM. *a is reset first; its body is valid until the
 * next call.
 */
seam_err term_http_post(term_http *h, const char *url, const char *from, const char *content_type,
                        const uint8_t *body, size_t len, size_t max_body, term_http_answer *a);

/* Reads the CIN of the card on link (GET DATA 45 of the selected ISD; 9000 or 91xx) into hex
   (SEAM_TERMINAL_CIN_HEX bytes, upper-case hex); SEAM_ERR_TERMINAL_NO_CIN when the answer
   holds none, the link's error when it failed (relay.c). */
seam_err term_card_cin(const seam_gp_link *link, char hex[SEAM_TERMINAL_CIN_HEX]);

/* Runs the delivery body[0..len) (P6, P9; delivery.c) on the card behind link with
   o's domain, key and restore store, and fills *r: ok, or failed with the reason (a delivery
   that does not decode, for another card, without the domain or key it needs, a sealed
   perso that does not open: nothing sent to the card; the card's refusal: its SW).
   Errors: SEAM_ERR_NOMEM (then no result). */
seam_err term_delivery_run(const seam_gp_link *link, const seam_terminal_options *o,
                           const uint8_t *body, size_t len, seam_perso_result *r);

#endif
