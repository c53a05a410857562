/*
 * seam terminal run|poke|status|event|menu: the card's admin agent
 * (include/seam/terminal.h, docs/terminal.md). run hosts a card (--image, in
 * this process, or --reader, through PC/SC), opens an admin session with the
 * server at start, then again on every poke (a datagram on the trigger socket,
 * terminal_poke.c) or every --interval seconds, until SIGINT or SIGTERM. With
 * --toolkit it also runs the card's toolkit (TERMINAL PROFILE at each power-up,
 * the proactive loop, timers and polling; events and menu selections sent by
 * `seam terminal event|menu`, terminal_toolkit.c). poke wakes a running
 * terminal; status prints the sessions of the local state.
 *
 * Exit status: 0 done (run --once: the session ended with 204), 1 a failure
 * (the message says which), 2 a usage error.
 */
#include <errno.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <unistd.h>

#include "seam/link.h"
#include "seam/terminal.h"
#include "seam/toolkit.h"
#include "seam/util.h"
#include "terminal_cli.h"

#define DEFAULT_STATE    "seam-terminal.db"
#define DEFAULT_INTERVAL 60u /* seconds between polls */
#define ONCE_ATTEMPTS    5u  /* --once gives up after this many tries of one request */

#define USAGE                                                                                      \
    "usage: seam terminal run --server URL (--image FILE | --reader NAME) [--card-id HEX]\n"       \
    "                         [--once] [--state FILE] [--interval SECONDS] [--socket PATH]\n"      \
    "                         [--max-script BYTES] [--max-attempts N] [--cacert FILE]\n"           \
    "                         [--toolkit [--answers FILE] [--display-log FILE] [--imei DIGITS]\n"  \
    "                          [--language XX] [--location HEX] [--select AID] [--trace]\n"        \
    "                          [--dm FILE [--sync-user U --sync-password P]\n"                     \
    "                           [--sync-protocol changeset|omads]]]\n"                             \
    "       seam terminal poke [--state FILE | --socket PATH]\n"                                   \
    "       seam terminal event KIND [ARGS] [--state FILE | --socket PATH]\n"                      \
    "       seam terminal menu ITEM [--state FILE | --socket PATH]\n"                              \
    "       seam terminal status [--state FILE] [--limit N]\n"                                     \
    "       seam terminal dm [--db FILE] show|set|unset|app-add|app-remove ...   (dm --help)\n"    \
    "       seam terminal sync --server URL --protocol omads|changeset ...       (sync --help)\n"  \
    "       seam terminal perso install|update|restore|records|domain ...        (perso --help)\n"

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(
            to,
            "\n"
            "run: relays remote management between the admin server at URL (its admin\n"
            "  URI; a URL without a path gets /admin) and the card: reads the card's CIN,\n"
            "  POSTs, runs each command script on the card, POSTs the responses, until the\n"
            "  server answers 204. A session opens at start, on each poke, and every\n"
            "  --interval seconds (default 60; 0: on pokes only). Unreachable servers and\n"
            "  5xx answers are retried with a doubling backoff (0.5 s to 60 s, jitter).\n"
            "  --once          one session, then exit (0 when the server ended it with 204)\n"
            "  --card-id HEX   the CIN to give when the card has none\n"
            "  --state FILE    the local state (cards, sessions, bytes); default %s\n"
            "  --socket PATH   the trigger socket; default STATE.sock\n"
            "  --max-script N  longest script accepted, in bytes (default %u)\n"
            "  --max-attempts N  tries of one request before the session gives up\n"
            "                  (default: unlimited; with --once, %u)\n"
            "  --cacert FILE   CA certificates for an https server\n"
            "  --toolkit       also the card application toolkit (--server optional):\n"
            "                  TERMINAL PROFILE, the proactive loop, timers, polling\n"
            "  --answers FILE  unattended: GET INKEY answers, one a line (y, n, a digit,\n"
            "                  end); without it, prompts on the tty (none: no answers)\n"
            "  --display-log FILE  unattended: what the card shows and asks (default stdout)\n"
            "  --imei, --language, --location  PROVIDE LOCAL INFORMATION's answers\n"
            "  --select AID    at each power-up, selects the application AID (hex) on a\n"
            "                  logical channel, as a handset selects its card applications\n"
            "  --trace         every toolkit APDU on stderr\n"
            "  --dm FILE       the device-management database: the terminal can run the\n"
            "                  card's REQUEST SYNCHRONIZATION (profile bit set), with\n"
            "                  --sync-user/--sync-password as the device's credentials\n"
            "  --sync-protocol changeset|omads  the protocol every such request runs\n"
            "                  (default: the one the card names)\n"
            "poke: starts a session now in the terminal listening on the socket.\n"
            "event KIND: a toolkit event for the card, when it asked for it: location\n"
            "  normal|limited|none [HEX], call-connected|call-disconnected [TID], data-available\n"
            "  [CHANNEL [LEN]], idle-screen, language XX, capabilities [sync|no-sync] (the\n"
            "  terminal re-sends TERMINAL PROFILE with the change first).\n"
            "menu ITEM: the user chose the card's menu item ITEM.\n"
            "status: the last sessions (newest first) from the local state.\n",
            DEFAULT_STATE, SEAM_TERMINAL_MAX_SCRIPT, ONCE_ATTEMPTS);
    return to == stdout ? 0 : 2;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

/* Parses a decimal count in [min, max] into *out; false otherwise. */
static bool parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

typedef struct {
    const char *image, *reader, *state, *socket;
    const char *answers, *display_log, *imei, *language, *location, *select;
    const char *dm, *sync_user, *sync_password; /* REQUEST SYNCHRONIZATION (issue 14) */
    seam_terminal_sync_protocol sync_protocol;  /* 0: as the card names it */
    bool once, toolkit, trace;
    unsigned long interval, limit;
    seam_terminal_options o;
} run_args;

/* Parses argv[1..argc) into *a; returns -1 when parsed, else the exit status. */
static int parse(int argc, char **argv, run_args *a) {
    memset(a, 0, sizeof *a);
    a->state = DEFAULT_STATE;
    a->interval = DEFAULT_INTERVAL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;
        if (!strcmp(o, "--help") || !strcmp(o, "-h"))
            return usage(stdout);
        if (!strcmp(o, "--once") || !strcmp(o, "--toolkit") || !strcmp(o, "--trace")) {
            if (!strcmp(o, "--once"))
                a->once = true;
            else if (!strcmp(o, "--toolkit"))
                a->toolkit = true;
            else
                a->trace = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "seam terminal: '%s' needs a value or is unknown\n", o);
            return usage(stderr);
        }
        i++;
        if (!strcmp(o, "--server"))
            a->o.server = v;
        else if (!strcmp(o, "--image"))
            a->image = v;
        else if (!strcmp(o, "--reader"))
            a->reader = v;
        else if (!strcmp(o, "--card-id"))
            a->o.card_id = v;
        else if (!strcmp(o, "--state"))
            a->state = v;
        else if (!strcmp(o, "--socket"))
            a->socket = v;
        else if (!strcmp(o, "--cacert"))
            a->o.cacert = v;
        else if (!strcmp(o, "--answers"))
            a->answers = v;
        else if (!strcmp(o, "--display-log"))
            a->display_log = v;
        else if (!strcmp(o, "--imei"))
            a->imei = v;
        else if (!strcmp(o, "--language"))
            a->language = v;
        else if (!strcmp(o, "--location"))
            a->location = v;
        else if (!strcmp(o, "--select"))
            a->select = v;
        else if (!strcmp(o, "--dm"))
            a->dm = v;
        else if (!strcmp(o, "--sync-user"))
            a->sync_user = v;
        else if (!strcmp(o, "--sync-password"))
            a->sync_password = v;
        else if (!strcmp(o, "--sync-protocol") && !strcmp(v, "changeset"))
            a->sync_protocol = SEAM_TERMINAL_SYNC_CHANGESET;
        else if (!strcmp(o, "--sync-protocol") && !strcmp(v, "omads"))
            a->sync_protocol = SEAM_TERMINAL_SYNC_OMADS;
        else if (!strcmp(o, "--interval") && parse_count(v, 0, 86400, &n))
            a->interval = n;
        else if (!strcmp(o, "--limit") && parse_count(v, 1, 1000000, &n))
            a->limit = n;
        else if (!strcmp(o, "--max-script") && parse_count(v, 64, 16u << 20, &n))
            a->o.max_script = n;
        else if (!strcmp(o, "--max-attempts") && parse_count(v, 1, 1000000, &n))
            a->o.max_attempts = (unsigned)n;
        else {
            fprintf(stderr, "seam terminal: bad option '%s %s'\n", o, v);
            return usage(stderr);
        }
    }
    if (a->o.card_id) {
        uint8_t cin[SEAM_TERMINAL_CIN_MAX];
        size_t len = 0;
        if (seam_hex_decode(a->o.card_id, strlen(a->o.card_id), cin, sizeof cin, &len) ||
            len == 0) {
            fprintf(stderr, "seam terminal: --card-id wants 1 to %u bytes in hex\n",
                    SEAM_TERMINAL_CIN_MAX);
            return 2;
        }
    }
    return -1;
}

static void report(const seam_terminal_result *r, seam_err e) {
    if (r->session_id)
        printf("session %lld card %s: %s (%u scripts, %u commands, %llu bytes up, %llu down, "
               "%u attempts)\n",
               (long long)r->session_id, r->cin, r->outcome, r->scripts, r->commands,
               (unsigned long long)r->bytes_up, (unsigned long long)r->bytes_down, r->attempts);
    if (e)
        fprintf(stderr, "seam terminal run: %s\n", seam_err_str(e));
    fflush(stdout);
}

/* The toolkit side of run: its terminal, user interface and files. */
typedef struct {
    seam_terminal_tk *tk;
    seam_terminal_unattended ui;
    uint8_t location[16];
    size_t location_len;
    uint8_t select[5 + 16 + 1]; /* SELECT by AID (CLA set at each power-up), or len 0 */
    size_t select_len;
} run_toolkit;

/* Opens the toolkit's terminal on link as a's options say; 0, or an exit status. */
static int toolkit_open(const run_args *a, const seam_gp_link *link, run_toolkit *t) {
    seam_terminal_tk_config cfg;
    seam_err e;
    memset(&cfg, 0, sizeof cfg);
    if (a->location && (seam_hex_decode(a->location, strlen(a->location), t->location,
                                        sizeof t->location, &t->location_len) ||
                        t->location_len < 5 || t->location_len > 9)) {
        fprintf(stderr, "seam terminal run: --location wants 5 to 9 bytes in hex\n");
        return 2;
    }
    if (a->select) {
        size_t len = 0;
        if (seam_hex_decode(a->select, strlen(a->select), t->select + 5, 16, &len) || len < 5) {
            fprintf(stderr, "seam terminal run: --select wants an AID of 5 to 16 bytes in hex\n");
            return 2;
        }
        memcpy(t->select, (const uint8_t[]){0x00, 0xA4, 0x04, 0x00, (uint8_t)len}, 5);
        t->select[5 + len] = 0x00;
        t->select_len = 5 + len + 1;
    }
    if (a->answers || !isatty(STDIN_FILENO)) {
        t->ui.answers = a->answers ? fopen(a->answers, "r") : NULL;
        t->ui.log = a->display_log ? fopen(a->display_log, "a") : stdout;
        if ((a->answers && !t->ui.answers) || !t->ui.log) {
            fprintf(stderr, "seam terminal run: %s: %s\n",
                    a->answers && !t->ui.answers ? a->answers : a->display_log, strerror(errno));
            return 1;
        }
        cfg.ui = seam_terminal_ui_unattended(&t->ui);
    } else {
        cfg.ui = seam_terminal_ui_interactive();
    }
    cfg.imei = a->imei;
    cfg.language = a->language;
    cfg.location = t->location_len ? t->location : NULL;
    cfg.location_len = t->location_len;
    cfg.log = a->trace ? stderr : NULL;
    e = seam_terminal_tk_new(link, &cfg, &t->tk);
    if (e) {
        fprintf(stderr,
                "seam terminal run: toolkit: %s (--imei wants 15 digits, --language "
                "2 letters)\n",
                seam_err_str(e));
        return 2;
    }
    if (a->dm) { /* the capability: REQUEST SYNCHRONIZATION runs on this database */
        seam_terminal_tk_sync sync = {.run = seam_terminal_sync,
                                      .dm_path = a->dm,
                                      .user = a->sync_user,
                                      .password = a->sync_password,
                                      .cacert = a->o.cacert,
                                      .protocol = a->sync_protocol};
        if ((e = seam_terminal_tk_set_sync(t->tk, &sync)) != SEAM_OK) {
            fprintf(stderr, "seam terminal run: --dm: %s\n", seam_err_str(e));
            return 2;
        }
    }
    return 0;
}

static void toolkit_close(run_toolkit *t) {
    seam_terminal_tk_free(t->tk);
    if (t->ui.answers)
        fclose(t->ui.answers);
    if (t->ui.log && t->ui.log != stdout)
        fclose(t->ui.log);
}

/* --select: opens a logical channel and selects the application on it, through the
   toolkit (a 91xx runs the proactive loop). The card's refusals are reported, not errors. */
static seam_err toolkit_select(run_toolkit *t) {
    static const uint8_t open[] = {0x00, 0x70, 0x00, 0x00, 0x01};
    uint8_t r[258];
    size_t len = 0;
    seam_err e = seam_terminal_tk_transmit(t->tk, open, sizeof open, r, sizeof r, &len);
    if (e)
        return e;
    if (len != 3 || (r[1] != 0x90 && r[1] != 0x91) || r[0] == 0 || r[0] > 3) {
        fprintf(stderr, "seam terminal run: --select: MANAGE CHANNEL refused\n");
        return SEAM_OK;
    }
    t->select[0] = r[0]; /* CLA: the channel */
    e = seam_terminal_tk_transmit(t->tk, t->select, t->select_len, r, sizeof r, &len);
    if (!e && len >= 2)
        printf("toolkit: selected the application on channel %u: %02X%02X\n", t->select[0],
               r[len - 2], r[len - 1]);
    fflush(stdout);
    return e;
}

/* Powers the card on and sends the profile (the card is off after an admin session). */
static seam_err toolkit_power_up(const seam_gp_link *link, run_toolkit *t) {
    uint8_t atr[64];
    size_t atr_len;
    seam_err e = seam_gp_link_power_on(link, atr, sizeof atr, &atr_len);
    if (!e)
        e = seam_terminal_tk_power_up(t->tk);
    if (!e) {
        seam_terminal_tk_status s;
        seam_terminal_tk_get_status(t->tk, &s);
        printf("toolkit: profile sent, the card's menu has %zu item(s)\n", s.menu_items);
        fflush(stdout);
    }
    if (!e && t->select_len)
        e = toolkit_select(t);
    if (e)
        fprintf(stderr, "seam terminal run: toolkit power-up: %s\n", seam_err_str(e));
    return e;
}

/* After an admin session on the powered card: selects the ISD on channel 0 (where the
   toolkit speaks), and a 91xx runs the loop. The link's errors. */
static seam_err toolkit_resume(run_toolkit *t) {
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    uint8_t r[258];
    size_t len = 0;
    seam_err e = seam_terminal_tk_transmit(t->tk, select_isd, sizeof select_isd, r, sizeof r, &len);
    if (!e && (len < 2 || (r[len - 2] != 0x90 && r[len - 2] != 0x91)))
        e = SEAM_ERR_TERMINAL;
    return e;
}

/* Gives the card the events and menu selections that came; the link's errors. */
static seam_err toolkit_apply(run_toolkit *t, terminal_wake *w) {
    for (size_t i = 0; i < w->count; i++) {
        terminal_tk_msg *m = &w->msgs[i];
        bool sent = false;
        seam_err e;
        if (m->menu) {
            e = seam_terminal_tk_menu_select(t->tk, m->item, false);
            printf("toolkit: menu item %u %s\n", m->item,
                   e == SEAM_ERR_NOT_FOUND ? "is not in the card's menu" : "selected");
            if (e == SEAM_ERR_NOT_FOUND)
                e = SEAM_OK;
        } else if (m->caps != 0) { /* the profile again, then the event */
            e = seam_terminal_tk_capabilities(t->tk, m->caps == 1, &sent);
            if (e == SEAM_ERR_ARG) {
                printf("toolkit: capabilities: no synchronization engine (--dm) to gain\n");
                e = SEAM_OK;
            } else {
                printf("toolkit: capabilities: profile %s, event E0 %s\n",
                       m->caps == 1 ? "with sync" : "without sync",
                       sent ? "sent" : "not asked for by the card");
            }
        } else {
            e = seam_terminal_tk_event(t->tk, m->event, m->extra, m->extra_len, &sent);
            printf("toolkit: event %02X %s\n", m->event,
                   sent ? "sent" : "not asked for by the card");
        }
        fflush(stdout);
        if (e)
            return e;
    }
    return SEAM_OK;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int run(int argc, char **argv) {
    run_args a;
    seam_gp_link link;
    seam_terminal_state *st = NULL;
    seam_terminal_result r;
    run_toolkit tk;
    terminal_wake wake;
    char sock[256];
    int status = parse(argc, argv, &a), fd = -1;
    bool session, powered = false;
    uint64_t next_session = 0;
    seam_err e = SEAM_OK;
    struct sigaction sa;
    if (status >= 0)
        return status;
    if (!a.o.server && !a.toolkit) {
        fprintf(stderr, "seam terminal run: --server URL (or --toolkit) is needed\n");
        return usage(stderr);
    }
    if (terminal_socket_path(a.state, a.socket, sock, sizeof sock) != 0) {
        fprintf(stderr, "seam terminal run: the socket path is too long; give --socket\n");
        return 2;
    }
    if (a.once && !a.o.max_attempts)
        a.o.max_attempts = ONCE_ATTEMPTS;
    memset(&link, 0, sizeof link);
    memset(&tk, 0, sizeof tk);
    status = seam_cli_link_open("seam terminal run", a.image, a.reader, &link);
    if (status >= 0)
        return status;
    if (a.toolkit && (status = toolkit_open(&a, &link, &tk)) != 0) {
        toolkit_close(&tk);
        seam_gp_link_close(&link);
        return status;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    a.o.stop = &stop_flag;
    e = seam_terminal_global_init();
    if (!e)
        e = seam_terminal_state_open(a.state, &st);
    if (e) {
        fprintf(stderr, "seam terminal run: %s: %s\n", a.state, seam_err_str(e));
        toolkit_close(&tk);
        seam_gp_link_close(&link);
        return 1;
    }
    if (a.toolkit) /* later reports survive a restart (issue 14, S7) */
        (void)seam_terminal_tk_set_state(tk.tk, st);
    if (!a.once && (fd = terminal_trigger_open(sock)) < 0) {
        seam_terminal_state_close(st);
        toolkit_close(&tk);
        seam_gp_link_close(&link);
        return 1;
    }
    status = 0;
    session = a.o.server != NULL;
    for (;;) {
        uint64_t wait = UINT64_MAX, now;
        if (session) {
            a.o.card_powered = a.toolkit && powered; /* the toolkit's session goes on */
            e = seam_terminal_run_session(&link, st, &a.o, &r);
            report(&r, e);
            if (a.once)
                status = e ? 1 : 0;
            /* A session that failed is tried again at the next poke or interval; the state
               and the server keep what it did. A broken state file stops the terminal. */
            if (e == SEAM_ERR_TERMINAL_STATE || e == SEAM_ERR_NOMEM) {
                status = 1;
                break;
            }
            next_session = now_ms() + a.interval * 1000u;
        }
        /* At start: power-up, profile, loop. After an admin session the card is still on
           and the loop goes on (what the session left for the terminal is fetched); the
           profile is sent again only when that fails (the card went off). */
        if (a.toolkit && (session || !powered)) {
            bool resumed = powered && toolkit_resume(&tk) == SEAM_OK;
            powered = true;
            if (!resumed && toolkit_power_up(&link, &tk)) {
                status = 1;
                break;
            }
        }
        if (a.once)
            break;
        now = now_ms();
        if (a.o.server && a.interval)
            wait = next_session > now ? next_session - now : 1;
        if (a.toolkit) {
            uint64_t due = seam_terminal_tk_next_due_ms(tk.tk);
            if (due < wait)
                wait = due ? due : 1;
        }
        if (wait > 86400000u)
            wait = a.o.server && a.interval ? 86400000u : 0; /* 0: datagrams only */
        if (terminal_trigger_wait(fd, (unsigned)wait, &stop_flag, &wake) < 0)
            break;
        if (a.toolkit && (toolkit_apply(&tk, &wake) || seam_terminal_tk_tick(tk.tk))) {
            fprintf(stderr, "seam terminal run: the card failed under the toolkit\n");
            status = 1;
            break;
        }
        session = a.o.server && (wake.poke || (a.interval && now_ms() >= next_session));
    }
    terminal_trigger_close(fd, sock);
    seam_terminal_state_close(st);
    toolkit_close(&tk);
    seam_gp_link_close(&link);
    return status;
}

static int poke(int argc, char **argv) {
    run_args a;
    char sock[256];
    int status = parse(argc, argv, &a);
    if (status >= 0)
        return status;
    if (terminal_socket_path(a.state, a.socket, sock, sizeof sock) != 0) {
        fprintf(stderr, "seam terminal poke: the socket path is too long\n");
        return 2;
    }
    if (terminal_poke(sock) != 0) {
        fprintf(stderr, "seam terminal poke: no terminal listens on %s (%s)\n", sock,
                strerror(errno));
        return 1;
    }
    return 0;
}

static int print_session(void *ctx, const seam_terminal_session *s) {
    (void)ctx;
    printf("%lld\t%s\t%lld\t%lld\t%s\t%u\t%u\t%llu\t%llu\n", (long long)s->id, s->cin,
           (long long)s->start, (long long)s->end, *s->outcome ? s->outcome : "unfinished",
           s->scripts, s->commands, (unsigned long long)s->bytes_up,
           (unsigned long long)s->bytes_down);
    return 0;
}

static int status_cmd(int argc, char **argv) {
    run_args a;
    seam_terminal_state *st;
    int status = parse(argc, argv, &a);
    seam_err e;
    if (status >= 0)
        return status;
    e = seam_terminal_state_open(a.state, &st);
    if (e) {
        fprintf(stderr, "seam terminal status: %s: %s\n", a.state, seam_err_str(e));
        return 1;
    }
    printf("session\tcin\tstart\tend\toutcome\tscripts\tcommands\tbytes_up\tbytes_down\n");
    e = seam_terminal_state_sessions(st, a.limit ? a.limit : 20, print_session, NULL);
    seam_terminal_state_close(st);
    return e ? 1 : 0;
}

int seam_cli_terminal(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return run(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "poke"))
        return poke(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "status"))
        return status_cmd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "dm"))
        return seam_cli_terminal_dm(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "sync"))
        return seam_cli_terminal_sync(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "perso"))
        return seam_cli_terminal_perso(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "event") || !strcmp(argv[1], "menu")))
        return terminal_tk_command(argv[1], argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return usage(stdout);
    return usage(stderr);
}
