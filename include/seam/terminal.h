/*
 * seam terminal: the card's admin agent (GlobalPlatform Amendment B style).
 *
 * A terminal hosts a card and relays remote management between it and an
 * admin server over HTTP: it reads the card's CIN (GET DATA 80 CA 00 45 00 on
 * the ISD), POSTs to the server's admin URI with X-Admin-Protocol and
 * X-Admin-From, runs every C-APDU of each command script (ETSI TS 102 226
 * expanded format, decoded with seam_gp_rscript_*) on the card as it is, and
 * POSTs the response script to X-Admin-Next-URI, until the server answers
 * 204. It never sees keys: protected commands pass through opaque.
 *
 * One admin session, as a state machine (relay.c):
 *
 *   IDENTIFY  power on, SELECT the ISD, GET DATA CIN (or --card-id)
 *      |      -> the local state records the card and the session's start
 *   OPEN      POST empty body to the admin URI            --retry--> (backoff)
 *      |
 *   EXCHANGE  200 + command script: run it, POST the responses to Next-URI
 *      |      (loops; each exchange recorded in one transaction)
 *   END       204: "done"; a 4xx, a protocol break, a script over the limit,
 *             a link failure or giving up on retries end it with that outcome.
 *
 * Unreachable servers and 5xx answers are retried with a doubling backoff,
 * capped, with jitter. The local state (state.c) is one SQLite file (WAL,
 * synchronous=FULL): every change one transaction, so a kill -9 loses nothing
 * that was acknowledged. A session found unfinished at the next start is
 * closed as "interrupted" and a new one opened: the server judges what
 * remains from what the card reports. See docs/terminal.md.
 */
#ifndef SEAM_TERMINAL_H
#define SEAM_TERMINAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/gp.h"

#define SEAM_TERMINAL_PROTOCOL    "globalplatform-remote-admin/1.0"
#define SEAM_TERMINAL_CT_COMMANDS "application/vnd.globalplatform.card-content-mgt;version=1.0"
#define SEAM_TERMINAL_CT_RESPONSES                                                                 \
    "application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define SEAM_TERMINAL_ADMIN_PATH  "/admin"       /* appended to a server URL without a path */
#define SEAM_TERMINAL_MAX_SCRIPT  (256u * 1024u) /* default bound of a command script */
#define SEAM_TERMINAL_CIN_MAX     16u            /* bytes of a CIN we accept */
#define SEAM_TERMINAL_CIN_HEX     (2u * SEAM_TERMINAL_CIN_MAX + 1u)
#define SEAM_TERMINAL_URI_MAX     512u /* longest Next-URI accepted */
#define SEAM_TERMINAL_OUTCOME_MAX 24u
#define SEAM_TERMINAL_BACKOFF_MIN 500u   /* ms before the first retry */
#define SEAM_TERMINAL_BACKOFF_MAX 60000u /* ms cap of the doubling backoff */

/* ------------------------------------------------------------------------ */
/* Local state                                                               */
/* ------------------------------------------------------------------------ */

typedef struct seam_terminal_state seam_terminal_state;

/* One card the terminal has seen. */
typedef struct {
    char cin[SEAM_TERMINAL_CIN_HEX]; /* upper-case hex */
    int64_t first_seen, last_seen;   /* seconds since the epoch */
    uint32_t sessions;               /* sessions begun with it */
    uint64_t bytes_up, bytes_down;   /* HTTP bytes relayed for it (headers and bodies) */
} seam_terminal_card;

/* One admin session. */
typedef struct {
    int64_t id;
    char cin[SEAM_TERMINAL_CIN_HEX];
    int64_t start, end;                      /* end 0: unfinished */
    char outcome[SEAM_TERMINAL_OUTCOME_MAX]; /* "" while unfinished */
    uint32_t scripts, commands;              /* command scripts run, C-APDUs sent to the card */
    uint64_t bytes_up, bytes_down;           /* HTTP bytes: requests sent, answers received */
} seam_terminal_session;

/* Opens (creating when missing) the state file at path: WAL, synchronous=FULL.
   Errors: SEAM_ERR_ARG, SEAM_ERR_NOMEM, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_open(const char *path, seam_terminal_state **out);

/* Closes the state; NULL is allowed. */
void seam_terminal_state_close(seam_terminal_state *st);

/* Records that card cin (upper-case hex) was seen at now (first and last seen); one
   transaction. Errors: SEAM_ERR_ARG, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_card_seen(seam_terminal_state *st, const char *cin, int64_t now);

/* Begins a session with cin at now (counting it on the card) and puts its id in *id; one
   transaction. Errors: SEAM_ERR_ARG, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_session_begin(seam_terminal_state *st, const char *cin, int64_t now,
                                           int64_t *id);

/* Adds to unfinished session id the scripts and commands run and the bytes relayed (also
   to its card's totals); one transaction. Errors: SEAM_ERR_NOT_FOUND (no such unfinished
   session), SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_session_add(seam_terminal_state *st, int64_t id, uint32_t scripts,
                                         uint32_t commands, uint64_t up, uint64_t down);

/* Ends unfinished session id at now with outcome (a short word); one transaction.
   Errors: SEAM_ERR_ARG, SEAM_ERR_NOT_FOUND, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_session_end(seam_terminal_state *st, int64_t id, const char *outcome,
                                         int64_t now);

/* The latest unfinished session with cin into *id. Errors: SEAM_ERR_NOT_FOUND,
   SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_unfinished(seam_terminal_state *st, const char *cin, int64_t *id);

/* Reads session id into *out. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_session_get(seam_terminal_state *st, int64_t id,
                                         seam_terminal_session *out);

/* Reads card cin into *out. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_card_get(seam_terminal_state *st, const char *cin,
                                      seam_terminal_card *out);

/* Calls fn for each session, newest first, at most limit (0: all); a nonzero return
   from fn stops. Errors: SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_sessions(seam_terminal_state *st, size_t limit,
                                      int (*fn)(void *ctx, const seam_terminal_session *s),
                                      void *ctx);

/* ------------------------------------------------------------------------ */
/* The relay                                                                 */
/* ------------------------------------------------------------------------ */

/* How to reach the server; zero fields take the defaults. */
typedef struct {
    const char *server;      /* http(s)://host[:port][/path]; no path: SEAM_TERMINAL_ADMIN_PATH */
    const char *card_id;     /* the CIN in hex when the card has none; NULL: read it */
    const char *cacert;      /* CA file for https (e.g. the server's own tls.crt); NULL: the
                                system's; the certificate and the host name are verified */
    size_t max_script;       /* 0: SEAM_TERMINAL_MAX_SCRIPT (command and response scripts) */
    unsigned backoff_min_ms; /* 0: SEAM_TERMINAL_BACKOFF_MIN */
    unsigned backoff_max_ms; /* 0: SEAM_TERMINAL_BACKOFF_MAX */
    unsigned max_attempts;   /* tries of one request before giving up; 0: unlimited */
    unsigned timeout_ms;     /* one HTTP exchange; 0: 30000 */
    volatile sig_atomic_t *stop; /* nonzero: give up at the next wait or request (NULL: none) */
} seam_terminal_options;

/* What one session did (also in the local state). */
typedef struct {
    int64_t session_id;
    char cin[SEAM_TERMINAL_CIN_HEX];
    char outcome[SEAM_TERMINAL_OUTCOME_MAX]; /* "done", "refused", "conflict", "oversize",
                                                "protocol", "unreachable", "tls", "card",
                                                "stopped" */
    long last_status;                        /* the last HTTP status (0: none) */
    uint32_t scripts, commands;
    uint32_t attempts;               /* HTTP requests made, retries included */
    uint32_t retries;                /* of those, repeated after a failure (unreachable or 5xx) */
    uint64_t bytes_up, bytes_down;   /* HTTP bytes, headers and bodies */
    uint64_t script_up, script_down; /* body bytes alone: response and command scripts */
    bool resumed;                    /* an unfinished session of this card was found and closed */
} seam_terminal_result;

/*
 * Runs one admin session for the card behind link (powered on here, off at the
 * end), recording it in st, and fills *result. SEAM_OK when the server ended it
 * with 204. Otherwise the session is recorded with its outcome and:
 * SEAM_ERR_TERMINAL_UNREACHABLE (retries given up), SEAM_ERR_TERMINAL_TLS (the https
 * server's certificate does not verify against cacert or the URL's host: not retried,
 * nothing sent), SEAM_ERR_TERMINAL_REFUSED (a
 * 4xx; 409 too), SEAM_ERR_TERMINAL_PROTOCOL (an answer breaking the protocol or a
 * script the codec refuses), SEAM_ERR_TERMINAL_OVERSIZE (a script over max_script),
 * SEAM_ERR_TERMINAL_NO_CIN (the card has no CIN and no card_id), SEAM_ERR_TERMINAL_STOPPED,
 * the link's error (the card failed), SEAM_ERR_TERMINAL_STATE, SEAM_ERR_ARG, SEAM_ERR_NOMEM.
 */
seam_err seam_terminal_run_session(const seam_gp_link *link, seam_terminal_state *st,
                                   const seam_terminal_options *options,
                                   seam_terminal_result *result);

/* The wait before retry number attempt (1 = the first retry): min doubled attempt-1
   times, capped at max, then a uniformly drawn point of its upper half (jitter) from
   *rng (any seed; advanced). */
unsigned seam_terminal_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms,
                                  uint64_t *rng);

/* Initializes libcurl for the process (call once, before threads); SEAM_ERR_TERMINAL
   when it fails. */
seam_err seam_terminal_global_init(void);

/* ------------------------------------------------------------------------ */
/* The fleet: many cards, one terminal loop each, in one process (fleet.c)   */
/* ------------------------------------------------------------------------ */

/* Fills *out with a link to card number index (0-based) of a fleet; the fleet closes it
   (seam_gp_link_close) when that card's session is over. Called from the pool's threads,
   each index once. */
typedef seam_err (*seam_terminal_fleet_open_fn)(void *ctx, size_t index, seam_gp_link *out);

/* What one card of a fleet did. */
typedef struct {
    char cin[SEAM_TERMINAL_CIN_HEX];
    char outcome[SEAM_TERMINAL_OUTCOME_MAX]; /* the session's, "open" when the link did not */
    uint32_t sessions;                       /* sessions run with it: 1, or 0 if it never opened */
    uint32_t scripts, commands, attempts;
    uint64_t bytes_up, bytes_down; /* the terminal's own counts (HTTP, headers and bodies) */
} seam_terminal_fleet_card;

/* How to run a fleet. */
typedef struct {
    size_t cards;                         /* how many: indexes 0..cards-1 */
    unsigned threads;                     /* the pool; 0: 8; never more than cards */
    seam_terminal_fleet_open_fn open;     /* opens card index */
    void *ctx;                            /* for open */
    const seam_terminal_options *session; /* the server and limits, for every card */
    const char *const *servers; /* when server_count > 0: card i goes to servers[i % count] */
    size_t server_count;        /* instead of session->server (several servers, one fleet) */
    const char *state_dir;      /* each thread's local state file STATE_DIR/terminal-T.db;
                                   NULL: in memory (nothing kept, no fsync per exchange) */
    seam_terminal_fleet_card *per_card; /* cards entries to fill, or NULL */
} seam_terminal_fleet_options;

/* A fleet's totals. */
typedef struct {
    size_t cards, done; /* done: sessions the server ended with 204 */
    uint64_t sessions;  /* sessions run (one per card that opened) */
    uint64_t scripts, commands;
    uint64_t bytes_up, bytes_down; /* sums of the terminal's counts */
    double seconds;                /* wall time from the first open to the last end */
    struct {
        char outcome[SEAM_TERMINAL_OUTCOME_MAX];
        size_t count;
    } outcomes[16]; /* each distinct outcome and how many cards ended so */
    size_t outcome_count;
} seam_terminal_fleet_report;

/*
 * Runs one admin session (seam_terminal_run_session) for every card of the fleet,
 * each card taken by exactly one thread of a pool of options->threads, and fills
 * *report (and per_card). Cards are taken in index order, each once: no card is
 * driven twice. SEAM_OK when every session ended with 204; SEAM_ERR_TERMINAL_REFUSED
 * when some did not (their outcomes are in the report); SEAM_ERR_ARG,
 * SEAM_ERR_NOMEM, SEAM_ERR_TERMINAL (a thread could not start),
 * SEAM_ERR_TERMINAL_STATE (a local state could not be opened).
 */
seam_err seam_terminal_fleet_run(const seam_terminal_fleet_options *options,
                                 seam_terminal_fleet_report *report);

#endif
