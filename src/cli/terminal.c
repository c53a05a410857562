/*
 * seam terminal run|poke|status: the card's admin agent (include/seam/terminal.h,
 * docs/terminal.md). run hosts a card (--image, in this process, or --reader,
 * through PC/SC), opens an admin session with the server at start, then again
 * on every poke (a datagram on the trigger socket, terminal_poke.c) or every
 * --interval seconds, until SIGINT or SIGTERM. poke wakes a running terminal;
 * status prints the sessions of the local state.
 *
 * Exit status: 0 done (run --once: the session ended with 204), 1 a failure
 * (the message says which), 2 a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/link.h"
#include "seam/terminal.h"
#include "seam/util.h"
#include "terminal_cli.h"

#define DEFAULT_STATE    "seam-terminal.db"
#define DEFAULT_INTERVAL 60u /* seconds between polls */
#define ONCE_ATTEMPTS    5u  /* --once gives up after this many tries of one request */

#define USAGE                                                                                      \
    "usage: seam terminal run --server URL (--image FILE | --reader NAME) [--card-id HEX]\n"       \
    "                         [--once] [--state FILE] [--interval SECONDS] [--socket PATH]\n"      \
    "                         [--max-script BYTES] [--max-attempts N] [--cacert FILE]\n"           \
    "       seam terminal poke [--state FILE | --socket PATH]\n"                                   \
    "       seam terminal status [--state FILE] [--limit N]\n"

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(to,
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
                "poke: starts a session now in the terminal listening on the socket.\n"
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
    bool once;
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
        if (!strcmp(o, "--once")) {
            a->once = true;
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

static int run(int argc, char **argv) {
    run_args a;
    seam_gp_link link;
    seam_terminal_state *st = NULL;
    seam_terminal_result r;
    char sock[256];
    int status = parse(argc, argv, &a), fd = -1;
    seam_err e;
    struct sigaction sa;
    if (status >= 0)
        return status;
    if (!a.o.server) {
        fprintf(stderr, "seam terminal run: --server URL is needed\n");
        return usage(stderr);
    }
    if (terminal_socket_path(a.state, a.socket, sock, sizeof sock) != 0) {
        fprintf(stderr, "seam terminal run: the socket path is too long; give --socket\n");
        return 2;
    }
    if (a.once && !a.o.max_attempts)
        a.o.max_attempts = ONCE_ATTEMPTS;
    memset(&link, 0, sizeof link);
    status = seam_cli_link_open("seam terminal run", a.image, a.reader, &link);
    if (status >= 0)
        return status;
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
        seam_gp_link_close(&link);
        return 1;
    }
    if (!a.once && (fd = terminal_trigger_open(sock)) < 0) {
        seam_terminal_state_close(st);
        seam_gp_link_close(&link);
        return 1;
    }
    status = 0;
    for (;;) {
        e = seam_terminal_run_session(&link, st, &a.o, &r);
        report(&r, e);
        if (a.once) {
            status = e ? 1 : 0;
            break;
        }
        /* A session that failed is tried again at the next poke or interval; the state
           and the server keep what it did. A broken state file stops the terminal. */
        if (e == SEAM_ERR_TERMINAL_STATE || e == SEAM_ERR_NOMEM) {
            status = 1;
            break;
        }
        if (terminal_trigger_wait(fd, (unsigned)a.interval * 1000u, &stop_flag) < 0)
            break;
    }
    terminal_trigger_close(fd, sock);
    seam_terminal_state_close(st);
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
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return usage(stdout);
    return usage(stderr);
}
