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
#include <stdio.h>

#include "seam/errors.h"
#include "seam/gp.h"
#include "seam/perso.h"
#include "seam/sync.h"

#define SEAM_TERMINAL_PROTOCOL    "globalplatform-remote-admin/1.0"
#define SEAM_TERMINAL_CT_COMMANDS "application/vnd.globalplatform.card-content-mgt;version=1.0"
#define SEAM_TERMINAL_CT_DELIVERY "application/vnd.seam.delivery;version=1" /* P6, P9 */
#define SEAM_TERMINAL_CT_RESULT   "application/vnd.seam.delivery-result;version=1"
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

/* A synchronization report the toolkit owes a card (issue 14, S7; docs/terminal.md "The
   result later"): accepted (TO_RUN) or run with its ENVELOPE built (TO_SEND). */
typedef enum {
    SEAM_TERMINAL_REPORT_TO_RUN = 1,
    SEAM_TERMINAL_REPORT_TO_SEND = 2,
} seam_terminal_report_state;

typedef struct {
    seam_terminal_report_state state;
    uint8_t number, type, qualifier; /* the request's command details */
    uint8_t objects[255];            /* the request's objects (COMPREHENSION-TLVs) */
    size_t objects_len;
    uint8_t envelope[258]; /* TO_SEND: the ENVELOPE's data (D6 ...) */
    size_t envelope_len;
} seam_terminal_report;

/* Puts (inserts or replaces) the report card cin is owed; one transaction. Errors:
   SEAM_ERR_ARG (bad cin, state or lengths), SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_report_put(seam_terminal_state *st, const char *cin,
                                        const seam_terminal_report *r);

/* Reads the report card cin is owed into *out. Errors: SEAM_ERR_NOT_FOUND (none),
   SEAM_ERR_TERMINAL_STATE (unreadable or malformed row). */
seam_err seam_terminal_state_report_get(seam_terminal_state *st, const char *cin,
                                        seam_terminal_report *out);

/* Deletes the report card cin was owed (none: SEAM_OK); one transaction. Errors:
   SEAM_ERR_ARG, SEAM_ERR_TERMINAL_STATE. */
seam_err seam_terminal_state_report_delete(seam_terminal_state *st, const char *cin);

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
    bool card_powered; /* the card is on (the toolkit runs on it): the session neither powers
                          it on nor off, and ends by selecting the ISD on channel 0 again,
                          which ends its secure channel */
    /* Deliveries (P6, P9; docs/terminal.md "Deliveries"): what the terminal acts through.
       Any of them NULL: every delivery is answered failed, nothing sent to the card. */
    const seam_perso_domain *domain; /* the terminal's security domain on the card */
    const uint8_t *terminal_key;     /* its P-256 private key (32 bytes): opens sealed perso */
    seam_perso_store *restore;       /* the restore store (the --state file) */
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

/* Makes a terminal key pair: writes the private key (64 hex digits and a newline) to a new
   file at path, mode 0600, never over an existing file or link (SEAM_ERR_IO), and gives
   the public key in pub (04 || X || Y: what the operator registers with PUT
   /api/cards/{cin}/terminal). */
seam_err seam_terminal_key_create(const char *path, uint8_t pub[65]);

/* Reads a terminal's private key file. SEAM_ERR_PERSO_KEY_FILE when others than its owner
   may read it, SEAM_ERR_MALFORMED when it is not one P-256 private key in hex, SEAM_ERR_IO. */
seam_err seam_terminal_key_load(const char *path, uint8_t priv[32]);

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

/* ------------------------------------------------------------------------ */
/* The toolkit: the terminal's half of the proactive loop (toolkit.c)        */
/* ------------------------------------------------------------------------ */

/*
 * The card application toolkit (ETSI TS 102 223, docs/terminal.md "The
 * toolkit"). At power-up the terminal sends TERMINAL PROFILE; whenever the
 * card answers 91xx it FETCHes the proactive command, executes it and answers
 * TERMINAL RESPONSE, while the card answers 91xx:
 *
 *   IDLE --(answer 91xx)--> FETCH --(D0 ...)--> EXECUTE --> TERMINAL RESPONSE
 *     ^                                                          |
 *     +------------------(9000 or another status)----------------+ (91xx: FETCH)
 *
 * Commands: DISPLAY TEXT and GET INKEY go to the user interface (below); SET
 * UP MENU keeps the menu (seam_terminal_tk_menu_select sends ENVELOPE D3);
 * SET UP EVENT LIST keeps the events (seam_terminal_tk_event sends ENVELOPE D6
 * only for those); TIMER MANAGEMENT runs eight timers on the clock (expiry:
 * ENVELOPE D7, from seam_terminal_tk_tick); POLL INTERVAL / POLLING OFF set
 * the STATUS polling of seam_terminal_tk_tick; PROVIDE LOCAL INFORMATION
 * answers from the configuration. REQUEST SYNCHRONIZATION runs the
 * synchronization when the terminal has a database (seam_terminal_tk_set_sync,
 * at the end of this header; the profile bit set), else answers 30; an unknown type 31,
 * a command that does not decode 32. Every APDU goes on channel 0 (CLA 80).
 */
#define SEAM_TERMINAL_TK_TIMERS   8u   /* timer identifiers 1..8 */
#define SEAM_TERMINAL_TK_MENU_MAX 16u  /* menu items kept */
#define SEAM_TERMINAL_TK_TEXT_MAX 256u /* text shown or asked, NUL included */
#define SEAM_TERMINAL_TK_LOOP_MAX 32u  /* proactive commands run for one answer, at most */

/* The user interface of DISPLAY TEXT and GET INKEY. */
typedef struct {
    /* Shows text (NUL-terminated, printable). */
    void (*display)(void *ctx, const char *text);
    /* Asks prompt; yes_no: answer 'Y' or 'N', else one digit (0-9 * # +). Returns 0 with
       *key, 1 when the user gives no answer (result 12), -1 when the user ends the
       session (result 10). */
    int (*inkey)(void *ctx, const char *prompt, bool yes_no, char *key);
    void *ctx;
} seam_terminal_ui;

/* The clock of timers and polling: now_ms a monotonic count of milliseconds, wall the
   seconds since the epoch (PROVIDE LOCAL INFORMATION date and time). */
typedef struct {
    uint64_t (*now_ms)(void *ctx);
    int64_t (*wall)(void *ctx);
    void *ctx;
} seam_terminal_clock;

/* What the terminal says about itself. Zero fields take the defaults. */
typedef struct {
    seam_terminal_ui ui;       /* required */
    seam_terminal_clock clock; /* NULL now_ms: the system's clocks */
    const char *imei;          /* 15 digits; default "490154203237518" */
    const char *language;      /* 2 letters (ISO 639); default "en" */
    const uint8_t *location;   /* location information (MCC MNC, LAC, cell id: 7 bytes) */
    size_t location_len;       /* 0: 00 F1 10 00 01 00 01 */
    FILE *log;                 /* a line per command, response and envelope; NULL: none */
} seam_terminal_tk_config;

typedef struct seam_terminal_tk seam_terminal_tk;

/* What the toolkit did so far (tests, logs). */
typedef struct {
    uint32_t fetched;    /* proactive commands fetched */
    uint32_t responses;  /* TERMINAL RESPONSEs sent */
    uint8_t last_type;   /* type of the last command fetched */
    uint8_t last_result; /* general result of the last TERMINAL RESPONSE */
    uint32_t envelopes;  /* ENVELOPEs sent (D3, D6, D7) */
    uint32_t polls;      /* STATUS commands sent by polling */
    uint64_t poll_ms;    /* polling interval; 0: off */
    size_t menu_items;   /* items of the menu kept */
    uint16_t last_sw;    /* the card's last status word */
} seam_terminal_tk_status;

/* A terminal for the card behind link (not owned); *config is copied (its strings must
   outlive the terminal). Errors: SEAM_ERR_ARG (no UI, bad IMEI/language), SEAM_ERR_NOMEM. */
seam_err seam_terminal_tk_new(const seam_gp_link *link, const seam_terminal_tk_config *config,
                              seam_terminal_tk **out);

/* Frees the terminal; NULL is allowed. */
void seam_terminal_tk_free(seam_terminal_tk *tk);

/* The TERMINAL PROFILE the terminal sends into profile[0..SEAM_TK_PROFILE_LEN). */
void seam_terminal_tk_profile(uint8_t profile[20]);

/* Power-up: forgets menu, events, timers and polling, sends TERMINAL PROFILE (the card is
   powered on already) and runs the proactive loop. Errors: the link's; SEAM_ERR_TERMINAL
   when the card refuses the profile. */
seam_err seam_terminal_tk_power_up(seam_terminal_tk *tk);

/* Sends command[0..len) to the card, the answer into response (data || SW), then runs
   the proactive loop when the answer is 91xx. Errors: the link's. */
seam_err seam_terminal_tk_transmit(seam_terminal_tk *tk, const uint8_t *command, size_t len,
                                   uint8_t *response, size_t size, size_t *response_len);

/* The user chose menu item id: ENVELOPE D3 and the loop. SEAM_ERR_NOT_FOUND when the
   menu has no such item; the link's errors. */
seam_err seam_terminal_tk_menu_select(seam_terminal_tk *tk, uint8_t item_id, bool help);

/* Event ev (SEAM_TK_EVENT_*) happened, with its objects extra[0..extra_len) (encoded):
   ENVELOPE D6 and the loop when the card asked for ev; *sent says whether it did.
   Errors: the link's; SEAM_ERR_ARG. */
seam_err seam_terminal_tk_event(seam_terminal_tk *tk, uint8_t ev, const uint8_t *extra,
                                size_t extra_len, bool *sent);

/* Fires what is due on the clock: each expired timer (ENVELOPE D7, in timer order) and a
   poll (STATUS) when the interval has passed. Errors: the link's. */
seam_err seam_terminal_tk_tick(seam_terminal_tk *tk);

/* Milliseconds until the next timer expiry or poll (UINT64_MAX: none). */
uint64_t seam_terminal_tk_next_due_ms(const seam_terminal_tk *tk);

/* Fills *out. */
void seam_terminal_tk_get_status(const seam_terminal_tk *tk, seam_terminal_tk_status *out);

/* Item i (0-based) of the menu kept: its identifier and text (NULL when none). */
const char *seam_terminal_tk_menu_item(const seam_terminal_tk *tk, size_t i, uint8_t *id);

/* What the terminal can do changed: REQUEST SYNCHRONIZATION on (sync true; it needs the
   engine of seam_terminal_tk_set_sync) or off (it answers 30 from now on). When the
   TERMINAL PROFILE of what it can do differs from the one the card has, the terminal
   sends it again and runs the loop (the card stores it: applets read the new bits), then
   sends event "terminal capabilities changed" (E0) when the card asked for it; *sent
   says whether it did. SEAM_ERR_ARG (nothing sent) for sync without an engine; the
   link's errors; SEAM_ERR_TERMINAL when the card refuses the profile (nothing changed). */
seam_err seam_terminal_tk_capabilities(seam_terminal_tk *tk, bool sync, bool *sent);

/* True when the card asked for event ev (SET UP EVENT LIST). */
bool seam_terminal_tk_event_wanted(const seam_terminal_tk *tk, uint8_t ev);

/* The user interfaces: unattended answers GET INKEY from answers (one answer a line: y,
   yes, n, no, a digit, "end" to end the session; none left or an empty line: no
   answer) and writes every text shown and asked to log (may be NULL). */
typedef struct {
    FILE *answers;
    FILE *log;
} seam_terminal_unattended;
/* The unattended user interface over u (which must outlive it). */
seam_terminal_ui seam_terminal_ui_unattended(seam_terminal_unattended *u);

/* The interactive user interface: shows and prompts on the controlling tty (/dev/tty). */
seam_terminal_ui seam_terminal_ui_interactive(void);

/* ---- Synchronization of the terminal's device-management database (issue 14, S6, S7) ---- */

/* The protocol a synchronization runs (REQUEST SYNCHRONIZATION's protocol object). */
typedef enum {
    SEAM_TERMINAL_SYNC_OMADS = 1,     /* OMA DS 1.2, SyncML over HTTP (the syncml layer) */
    SEAM_TERMINAL_SYNC_CHANGESET = 2, /* seam's compact changeset protocol (the sync layer) */
} seam_terminal_sync_protocol;

/* Why a synchronization failed, as the card's applet is told (S7). */
typedef enum {
    SEAM_TERMINAL_SYNC_OK = 0,
    SEAM_TERMINAL_SYNC_UNREACHABLE,  /* no connection, TLS refused, timeout, HTTP 5xx */
    SEAM_TERMINAL_SYNC_AUTH,         /* credentials refused (HTTP 401/403, OMA DS 401/407) */
    SEAM_TERMINAL_SYNC_SLOW_REFUSED, /* a slow sync was needed and refused */
    SEAM_TERMINAL_SYNC_MALFORMED,    /* the peer's message did not decode or did not follow */
    SEAM_TERMINAL_SYNC_UNSUPPORTED,  /* protocol, transport or type this terminal does not run */
    SEAM_TERMINAL_SYNC_LOCAL,        /* the local database failed (full disk, locked) */
} seam_terminal_sync_failure;

/* One synchronization to run. Strings are borrowed for the call. */
typedef struct {
    seam_terminal_sync_protocol protocol;
    seam_sync_type type;         /* 200..205 */
    const char *dm_path;         /* the terminal's device-management database (SQLite file) */
    const char *device_id;       /* the source device identifier (e.g. the IMEI) */
    const char *source_uri;      /* local database URI: "./devinfo", "./apps" or "./card" */
    const char *server_url;      /* the target: http(s)://host:port/path of the sync endpoint */
    const char *target_uri;      /* the server's database URI (usually equal to source_uri) */
    const char *cacert;          /* PEM CA for https (NULL: the system's) */
    const char *user, *password; /* credentials (user NULL: the device id; password NULL: none) */
    uint32_t max_msg_size;       /* OMA DS MaxMsgSize (0: the layer's default) */
    uint32_t timeout_ms;         /* whole synchronization (0: a default) */
} seam_terminal_sync_request;

/* What a synchronization did. */
typedef struct {
    seam_terminal_sync_failure failure;  /* SEAM_TERMINAL_SYNC_OK on success */
    seam_sync_result counts;             /* sent, received, conflicts, the type that ran */
    uint64_t bytes_sent, bytes_received; /* on the wire, HTTP bodies */
    char reason[160];                    /* one line for the user and the log */
    uint64_t wire_sent, wire_received;   /* on the wire with the HTTP headers (bench) */
} seam_terminal_sync_outcome;

/* Runs req over the protocol it names; fills *out (also on failure). SEAM_OK when it ran to an
   outcome, success or failure; an error only for a bad request. */
seam_err seam_terminal_sync(const seam_terminal_sync_request *req, seam_terminal_sync_outcome *out);
/* The same over the compact changeset protocol (src/terminal/sync_changeset.c). */
seam_err seam_terminal_sync_changeset(const seam_terminal_sync_request *req,
                                      seam_terminal_sync_outcome *out);
/* The same over OMA DS 1.2 (src/terminal/sync_omads.c). */
seam_err seam_terminal_sync_omads(const seam_terminal_sync_request *req,
                                  seam_terminal_sync_outcome *out);

/* Runs one synchronization: seam_terminal_sync in seam terminal (declared again below). */
typedef seam_err (*seam_terminal_sync_fn)(const seam_terminal_sync_request *req,
                                          seam_terminal_sync_outcome *out);

/* The same with the card (S8, src/terminal/card_db.c, docs/terminal.md "The card's
   database"): when req->source_uri is ./card, reads apps/carddb over a logical channel of
   link into ./card (and the card's instances into ./apps), runs the sync with run (NULL:
   seam_terminal_sync), keeps the card's facts, writes the parameters the sync changed back
   to the card, and closes the channel; any other URI is run(req, out) alone. A card that
   does not answer is a SEAM_TERMINAL_SYNC_LOCAL failure. */
seam_err seam_terminal_sync_card(const seam_gp_link *link, seam_terminal_sync_fn run,
                                 const seam_terminal_sync_request *req,
                                 seam_terminal_sync_outcome *out);

/* ---- REQUEST SYNCHRONIZATION in the toolkit (issue 14, S6, S7; docs/terminal.md) ---- */

/* What the toolkit's REQUEST SYNCHRONIZATION runs with. Strings are borrowed: they must
   outlive the terminal. */
typedef struct {
    seam_terminal_sync_fn run;   /* required */
    const char *dm_path;         /* the device-management database (SQLite file), required */
    const char *user, *password; /* credentials for the server (NULL: none) */
    const char *cacert;          /* PEM CA for https (NULL: the system's) */
    uint32_t timeout_ms;         /* the whole synchronization (0: the sync layer's default) */
    /* the protocol every request runs (0: the one the card's command names, which
       apps/devmgmt's policy sets with DF1A); the terminal's setting overrides it */
    seam_terminal_sync_protocol protocol;
} seam_terminal_tk_sync;

/*
 * Gives tk the capability: from its next power-up the TERMINAL PROFILE has
 * SEAM_TK_PF_REQUEST_SYNC, and REQUEST SYNCHRONIZATION runs the synchronization the
 * command names, inside the proactive session, before its TERMINAL RESPONSE: result
 * 00 with the counts object (SEAM_TK_TAG_SYNC_COUNTS), 20 with the failure class
 * (SEAM_TK_SYNC_FAIL_*), 30 for the WSP transport. A command asking for the result
 * later (SEAM_TK_SYNC_RESULT_LATER) is answered 00 with the reference at once and run
 * when the session ends; its outcome goes to the card as ENVELOPE event
 * SEAM_TK_EVENT_SYNC_RESULT (docs/terminal.md "The result later"). Without it the bit is clear and
 * the command answers 30. SEAM_ERR_ARG when tk, run or dm_path is NULL.
 */
seam_err seam_terminal_tk_set_sync(seam_terminal_tk *tk, const seam_terminal_tk_sync *sync);

/* Keeps tk's later reports in st (borrowed; NULL: in RAM only), one row per card (its CIN,
   read at each power-up before the profile): written before the TERMINAL RESPONSE that
   accepts one, continued after a restart when the same card's profile comes (docs/terminal.md
   "The result later"). SEAM_ERR_ARG when tk is NULL. */
seam_err seam_terminal_tk_set_state(seam_terminal_tk *tk, seam_terminal_state *st);

#endif
