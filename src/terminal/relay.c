/*
 * One admin session between a card and the admin server (the state machine is
 * in include/seam/terminal.h): identify the card, POST, run each command script
 * on the card as it is, POST the responses to X-Admin-Next-URI, until 204.
 *
 * What the server sends is trusted for nothing: the status and headers are
 * checked, a body longer than max_script is dropped as it arrives, every
 * script is decoded by the gp layer's codec (seam_gp_rscript_*) and checked
 * whole before its first command reaches the card, and the next URI must be a
 * path on the same server (no other host, no redirect).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "seam/util.h"
#include "terminal_int.h"

#define RAPDU_MAX   (65536u + 2u) /* the longest answer a card gives: extended Le, SW */
#define URL_MAX     (1024u)
#define TIMEOUT_DEF 30000u

typedef struct {
    const seam_gp_link *link;
    seam_terminal_state *st;
    const seam_terminal_options *o;
    seam_terminal_result *r;
    term_http *http;
    size_t max_script;
    unsigned backoff_min, backoff_max; /* ms, defaults applied */
    char admin_url[URL_MAX];           /* where sessions open */
    char origin[URL_MAX];              /* scheme://authority, for Next-URI paths */
    char from[16 + SEAM_TERMINAL_CIN_HEX];
    uint64_t rng;
    uint8_t *out; /* the response script being built, max_script bytes */
    uint8_t *rapdu;
    uint8_t result[SEAM_PERSO_RESULT_MAX];   /* a delivery's result (P6, P9) */
    uint64_t unrecorded_up, unrecorded_down; /* bytes not yet in the local state */
} relay;

static int64_t now(void) {
    return (int64_t)time(NULL);
}

static bool stopped(const relay *rl) {
    return rl->o->stop && *rl->o->stop;
}

unsigned seam_terminal_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms,
                                  uint64_t *rng) {
    uint64_t cap = min_ms ? min_ms : 1;
    unsigned half;
    if (max_ms < cap)
        max_ms = (unsigned)cap;
    for (unsigned i = 1; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    /* xorshift64*: jitter only, not a secret */
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    half = (unsigned)(cap / 2);
    return (unsigned)(cap - half) + (unsigned)((*rng * 2685821657736338717ull >> 32) % (half + 1));
}

/* Sleeps ms, checking the stop flag every 100 ms; false when stopped. */
static bool wait_ms(const relay *rl, unsigned ms) {
    while (ms > 0 && !stopped(rl)) {
        unsigned slice = ms < 100 ? ms : 100;
        struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return !stopped(rl);
}

/* ---- addresses ---------------------------------------------------------------------------- */

/* Splits the server URL into the admin URL and its origin; false when it is not
   http(s)://authority[/path] in printable ASCII. */
static bool parse_server(relay *rl, const char *server) {
    const char *authority, *path;
    size_t n = strlen(server);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)server[i] <= 0x20 || (unsigned char)server[i] > 0x7E)
            return false;
    if (strncasecmp(server, "http://", 7) == 0)
        authority = server + 7;
    else if (strncasecmp(server, "https://", 8) == 0)
        authority = server + 8;
    else
        return false;
    path = strchr(authority, '/');
    if (path == authority || *authority == 0 || n + sizeof SEAM_TERMINAL_ADMIN_PATH >= URL_MAX)
        return false;
    if (!path)
        path = server + n;
    snprintf(rl->origin, sizeof rl->origin, "%.*s", (int)(path - server), server);
    if (*path == 0 || strcmp(path, "/") == 0)
        return (size_t)snprintf(rl->admin_url, sizeof rl->admin_url, "%s%s", rl->origin,
                                SEAM_TERMINAL_ADMIN_PATH) < sizeof rl->admin_url;
    return (size_t)snprintf(rl->admin_url, sizeof rl->admin_url, "%s", server) <
           sizeof rl->admin_url;
}

/* The URL of a Next-URI: a path on the same server ("/..." but not "//"), or an absolute
   URL with the same origin. false for anything else. */
static bool next_url(const relay *rl, const char *next, char *url, size_t size) {
    size_t o = strlen(rl->origin);
    if (next[0] == '/' && next[1] != '/')
        return (size_t)snprintf(url, size, "%s%s", rl->origin, next) < size;
    if (strncasecmp(next, rl->origin, o) == 0 && next[o] == '/' && next[o + 1] != '/')
        return (size_t)snprintf(url, size, "%s", next) < size;
    return false;
}

/* True when the media type ct is want (case-insensitive, spaces around ';' ignored). */
static bool media_is(const char *ct, const char *want) {
    while (*ct && *want) {
        while (*ct == ' ')
            ct++;
        if (tolower((unsigned char)*ct) != tolower((unsigned char)*want))
            return false;
        ct++;
        want++;
    }
    while (*ct == ' ')
        ct++;
    return *ct == 0 && *want == 0;
}

/* ---- the card ----------------------------------------------------------------------------- */

/* SELECT of the ISD (by default, no AID) on channel 0: it also ends a secure channel there. */
static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};

seam_err term_card_cin(const seam_gp_link *link, char hex[SEAM_TERMINAL_CIN_HEX]) {
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t resp[258];
    size_t len = 0;
    seam_tlv tlv;
    seam_err e = seam_gp_link_transmit(link, get_cin, sizeof get_cin, resp, sizeof resp, &len);
    if (e)
        return e;
    /* 91xx: the card's toolkit has a command for the terminal (fetched after the session);
       the CIN came all the same */
    if (len < 2 || !((resp[len - 2] == 0x90 && resp[len - 1] == 0x00) || resp[len - 2] == 0x91) ||
        seam_tlv_parse(resp, len - 2, &tlv) != SEAM_OK || tlv.tag != 0x45 || tlv.length == 0 ||
        tlv.length > SEAM_TERMINAL_CIN_MAX)
        return SEAM_ERR_TERMINAL_NO_CIN;
    for (size_t i = 0; i < tlv.length; i++)
        snprintf(hex + 2 * i, 3, "%02X", tlv.value[i]);
    return SEAM_OK;
}

/* Powers the card on, selects the ISD and reads its CIN (tag 45) into rl->r->cin, or takes
   card_id. */
static seam_err identify(relay *rl) {
    uint8_t atr[64], resp[258], cin[SEAM_TERMINAL_CIN_MAX];
    size_t atr_len = 0, len = 0, cin_len = 0;
    seam_err e =
        rl->o->card_powered ? SEAM_OK : seam_gp_link_power_on(rl->link, atr, sizeof atr, &atr_len);
    if (!e)
        e = seam_gp_link_transmit(rl->link, select_isd, sizeof select_isd, resp, sizeof resp, &len);
    if (e)
        return e;
    if (rl->o->card_id) {
        e = seam_hex_decode(rl->o->card_id, strlen(rl->o->card_id), cin, sizeof cin, &cin_len);
        if (e || cin_len == 0)
            return SEAM_ERR_ARG;
        for (size_t i = 0; i < cin_len; i++)
            snprintf(rl->r->cin + 2 * i, 3, "%02X", cin[i]);
    } else if ((e = term_card_cin(rl->link, rl->r->cin)) != SEAM_OK) {
        return e;
    }
    snprintf(rl->from, sizeof rl->from, "//se-id/cin/%s", rl->r->cin);
    return SEAM_OK;
}

/* True when an R-APDU of rlen bytes ends in a status word that lets a script go on. */
static bool script_goes_on(const uint8_t *rapdu, size_t rlen) {
    uint8_t sw1 = rlen >= 2 ? rapdu[rlen - 2] : 0x6F;
    return (sw1 == 0x90 && rapdu[rlen - 1] == 0x00) || sw1 == 0x61 || sw1 == 0x62 || sw1 == 0x63 ||
           sw1 == 0x91;
}

/*
 * Runs the command script body[0..len) on the card: checks the whole script
 * with the codec first (nothing reaches the card from a script that does not
 * decode), then sends the C-APDUs in order and writes the response script
 * into rl->out[0..*out_len). As ETSI TS 102 226 has it, the script stops at
 * the first R-APDU whose status word is an error (anything but 9000, 61xx,
 * 62xx, 63xx, 91xx): its answer is the last one in the response script, and
 * no later command reaches the card. *commands gets the C-APDUs sent.
 */
static seam_err run_script(relay *rl, const uint8_t *body, size_t len, size_t *out_len,
                           uint32_t *commands) {
    seam_gp_rscript_reader rd;
    const uint8_t *item;
    size_t item_len;
    seam_err e = seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, body, len);
    while (!e && (e = seam_gp_rscript_next(&rd, &item, &item_len)) == SEAM_OK)
        continue;
    if (e != SEAM_ERR_NOT_FOUND) {
        seam_log(SEAM_LOG_WARN, "terminal: card %s: command script refused: %s", rl->r->cin,
                 seam_err_str(e));
        return SEAM_ERR_TERMINAL_PROTOCOL;
    }
    *out_len = 0;
    *commands = 0;
    e = seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, rl->out, rl->max_script, out_len);
    if (!e)
        e = seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, body, len);
    while (!e && (e = seam_gp_rscript_next(&rd, &item, &item_len)) == SEAM_OK) {
        size_t rlen = 0;
        e = seam_gp_link_transmit(rl->link, item, item_len, rl->rapdu, RAPDU_MAX, &rlen);
        if (e) {
            seam_log(SEAM_LOG_WARN, "terminal: card %s: %s", rl->r->cin, seam_err_str(e));
            return e;
        }
        (*commands)++;
        e = seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, rl->rapdu, rlen, rl->out, rl->max_script,
                                out_len);
        if (!e && !script_goes_on(rl->rapdu, rlen))
            e = SEAM_ERR_NOT_FOUND; /* an error status word: the script stops here */
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = seam_gp_rscript_end(rl->out, rl->max_script, out_len);
    if (e == SEAM_ERR_BUFFER_SMALL) {
        seam_log(SEAM_LOG_WARN, "terminal: card %s: response script over %zu bytes", rl->r->cin,
                 rl->max_script);
        return SEAM_ERR_TERMINAL_OVERSIZE;
    }
    return e;
}

/* ---- HTTP with retries -------------------------------------------------------------------- */

/* POSTs to url until an answer that is not 5xx comes, backing off between attempts. */
static seam_err post(relay *rl, const char *url, const char *content_type, const uint8_t *body,
                     size_t len, term_http_answer *a) {
    unsigned failures = 0;
    for (;;) {
        seam_err e;
        if (stopped(rl))
            return SEAM_ERR_TERMINAL_STOPPED;
        rl->r->attempts++;
        e = term_http_post(rl->http, url, rl->from, content_type, body, len, rl->max_script, a);
        rl->r->bytes_up += a->up;
        rl->r->bytes_down += a->down;
        rl->unrecorded_up += a->up;
        rl->unrecorded_down += a->down;
        if (e && e != SEAM_ERR_TERMINAL_UNREACHABLE)
            return e;
        if (stopped(rl))
            return SEAM_ERR_TERMINAL_STOPPED;
        rl->r->last_status = a->status;
        if (!e && a->status < 500)
            return SEAM_OK;
        failures++;
        seam_log(SEAM_LOG_INFO, "terminal: %s: %s (attempt %u)", url,
                 e ? "unreachable" : "server error", failures);
        if (rl->o->max_attempts && failures >= rl->o->max_attempts)
            return SEAM_ERR_TERMINAL_UNREACHABLE;
        rl->r->retries++;
        if (!wait_ms(
                rl, seam_terminal_backoff_ms(failures, rl->backoff_min, rl->backoff_max, &rl->rng)))
            return SEAM_ERR_TERMINAL_STOPPED;
    }
}

/* Records the bytes not yet recorded, with scripts and commands, in one transaction. */
static seam_err record(relay *rl, uint32_t scripts, uint32_t commands) {
    seam_err e = seam_terminal_state_session_add(rl->st, rl->r->session_id, scripts, commands,
                                                 rl->unrecorded_up, rl->unrecorded_down);
    if (!e)
        rl->unrecorded_up = rl->unrecorded_down = 0;
    return e;
}

/* Logs a 4xx answer's body, printable characters only, bounded. */
static void log_refusal(const relay *rl, const term_http_answer *a) {
    char text[201];
    size_t n = 0;
    for (size_t i = 0; i < a->body_len && n < sizeof text - 1; i++)
        text[n++] = isprint(a->body[i]) ? (char)a->body[i] : '.';
    text[n] = 0;
    seam_log(SEAM_LOG_WARN, "terminal: card %s: server answered %ld: %s", rl->r->cin, a->status,
             text);
}

/* A delivery (P6, P9) in answer a, whose body is over the bound when oversize: runs it on
   the card (term_delivery_run) or refuses it, and puts the result to POST in rl->result. */
static seam_err delivery(relay *rl, const term_http_answer *a, bool oversize, size_t *len) {
    seam_perso_result r;
    seam_err e = SEAM_OK;
    memset(&r, 0, sizeof r);
    if (oversize)
        snprintf(r.reason, sizeof r.reason,
                 "the delivery is over this terminal's bound of %zu bytes (--max-script)",
                 rl->max_script);
    else
        e = term_delivery_run(rl->link, rl->o, a->body, a->body_len, &r);
    if (e)
        return e;
    seam_log(r.ok ? SEAM_LOG_INFO : SEAM_LOG_WARN, "terminal: card %s: delivery %s: %s", rl->r->cin,
             r.ok ? "applied" : "failed", r.reason);
    return seam_perso_result_encode(&r, rl->result, sizeof rl->result, len);
}

/* The exchanges of an open session; returns the outcome's error and names it. */
static seam_err exchange(relay *rl, const char **outcome) {
    char url[URL_MAX];
    const uint8_t *body = NULL;
    const char *type = SEAM_TERMINAL_CT_RESPONSES;
    size_t len = 0;
    snprintf(url, sizeof url, "%s", rl->admin_url);
    for (;;) {
        term_http_answer a;
        uint32_t commands = 0;
        seam_err e = post(rl, url, type, body, len, &a);
        if (e) {
            *outcome = e == SEAM_ERR_TERMINAL_STOPPED       ? "stopped"
                       : e == SEAM_ERR_TERMINAL_UNREACHABLE ? "unreachable"
                       : e == SEAM_ERR_TERMINAL_TLS         ? "tls"
                                                            : "error";
            return e;
        }
        bool is_delivery = a.status == 200 && media_is(a.content_type, SEAM_TERMINAL_CT_DELIVERY);
        if (is_delivery && !a.next_uri_bad && next_url(rl, a.next_uri, url, sizeof url)) {
            /* a delivery: the terminal acts itself and answers with its result */
            rl->r->script_down += a.body_len;
            e = delivery(rl, &a, a.oversize, &len);
            if (e) {
                *outcome = "card";
                record(rl, 0, 0);
                return e;
            }
            rl->r->scripts++;
            rl->r->script_up += len;
            e = record(rl, 1, 0);
            if (e) {
                *outcome = "error";
                return e;
            }
            body = rl->result;
            type = SEAM_TERMINAL_CT_RESULT;
            continue;
        }
        if (a.oversize) {
            seam_log(SEAM_LOG_WARN, "terminal: card %s: answer over %zu bytes refused", rl->r->cin,
                     rl->max_script);
            *outcome = "oversize";
            return SEAM_ERR_TERMINAL_OVERSIZE;
        }
        if (a.status == 204) {
            *outcome = "done";
            return SEAM_OK;
        }
        if (a.status >= 400) {
            log_refusal(rl, &a);
            *outcome = a.status == 409 ? "conflict" : "refused";
            return SEAM_ERR_TERMINAL_REFUSED;
        }
        *outcome = "protocol";
        if (a.status != 200 || !media_is(a.content_type, SEAM_TERMINAL_CT_COMMANDS) ||
            a.next_uri_bad || !next_url(rl, a.next_uri, url, sizeof url)) {
            seam_log(SEAM_LOG_WARN,
                     "terminal: card %s: answer %ld breaks the protocol (Content-Type '%s', "
                     "Next-URI '%s')",
                     rl->r->cin, a.status, a.content_type, a.next_uri);
            return SEAM_ERR_TERMINAL_PROTOCOL;
        }
        e = run_script(rl, a.body, a.body_len, &len, &commands);
        rl->r->commands += commands;
        rl->r->script_down += a.body_len;
        if (e) {
            *outcome = e == SEAM_ERR_TERMINAL_OVERSIZE   ? "oversize"
                       : e == SEAM_ERR_TERMINAL_PROTOCOL ? "protocol"
                                                         : "card";
            record(rl, 0, commands);
            return e;
        }
        rl->r->scripts++;
        rl->r->script_up += len;
        e = record(rl, 1, commands);
        if (e) {
            *outcome = "error";
            return e;
        }
        body = rl->out;
        type = SEAM_TERMINAL_CT_RESPONSES;
    }
}

seam_err seam_terminal_run_session(const seam_gp_link *link, seam_terminal_state *st,
                                   const seam_terminal_options *options,
                                   seam_terminal_result *result) {
    relay rl = {.link = link, .st = st, .o = options, .r = result};
    const char *outcome = "error";
    int64_t old;
    seam_err e, end;
    if (!link || !st || !options || !options->server || !result)
        return SEAM_ERR_ARG;
    memset(result, 0, sizeof *result);
    if (!parse_server(&rl, options->server))
        return SEAM_ERR_ARG;
    rl.max_script = options->max_script ? options->max_script : SEAM_TERMINAL_MAX_SCRIPT;
    rl.backoff_min = options->backoff_min_ms ? options->backoff_min_ms : SEAM_TERMINAL_BACKOFF_MIN;
    rl.backoff_max = options->backoff_max_ms ? options->backoff_max_ms : SEAM_TERMINAL_BACKOFF_MAX;
    rl.rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rl ^ 0x9E3779B97F4A7C15ull;
    rl.out = malloc(rl.max_script);
    rl.rapdu = malloc(RAPDU_MAX);
    e = rl.out && rl.rapdu ? SEAM_OK : SEAM_ERR_NOMEM;
    if (!e)
        e = term_http_new(options->cacert, options->timeout_ms ? options->timeout_ms : TIMEOUT_DEF,
                          options->stop, &rl.http);
    if (!e)
        e = identify(&rl);
    /* A session left unfinished by an earlier run (killed, power lost) is closed: the
       server judges what remains from what the card reports in the new one. */
    if (!e && seam_terminal_state_unfinished(st, result->cin, &old) == SEAM_OK) {
        e = seam_terminal_state_session_end(st, old, "interrupted", now());
        result->resumed = !e;
    }
    if (!e)
        e = seam_terminal_state_session_begin(st, result->cin, now(), &result->session_id);
    if (!e) {
        e = exchange(&rl, &outcome);
        end = record(&rl, 0, 0);
        if (!end)
            end = seam_terminal_state_session_end(st, result->session_id, outcome, now());
        if (!e)
            e = end;
        snprintf(result->outcome, sizeof result->outcome, "%s", outcome);
        seam_log(SEAM_LOG_INFO,
                 "terminal: card %s: session %lld %s: %u scripts, %u commands, %llu bytes up, "
                 "%llu down",
                 result->cin, (long long)result->session_id, outcome, result->scripts,
                 result->commands, (unsigned long long)result->bytes_up,
                 (unsigned long long)result->bytes_down);
    } else if (e == SEAM_ERR_TERMINAL_NO_CIN) {
        snprintf(result->outcome, sizeof result->outcome, "no-cin");
    }
    if (options->card_powered) { /* the toolkit goes on: only the secure channel ends */
        uint8_t resp[258];
        size_t len = 0;
        (void)seam_gp_link_transmit(link, select_isd, sizeof select_isd, resp, sizeof resp, &len);
    } else {
        seam_gp_link_power_off(link);
    }
    term_http_free(rl.http);
    free(rl.out);
    free(rl.rapdu);
    return e;
}
