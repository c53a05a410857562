/*
 * seam fleet: N in-process cards, each with its own terminal loop, against one
 * admin server, for load tests (docs/terminal.md, "seam fleet"). The steps:
 *
 *   1. cards: the fleet folder gets images 0..N-1 (those missing are created,
 *      all sealed under one storage key; fleet_cards.c) and the manifest of
 *      their CINs;
 *   2. --register TOKEN: the server learns every card (fleet_register.c);
 *   3. the run (not with --no-run): one admin session per card, T threads
 *      (seam_terminal_fleet_run), then the figures: cards/s, bytes per card
 *      (the terminal's own counts) and outcomes.
 *
 * Exit status: 0 every session ended with 204 (or, with --no-run, the cards
 * and registration are ready), 1 otherwise, 2 a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "fleet_cli.h"
#include "seam/link.h"
#include "seam/terminal.h"
#include "seam/util.h"

#define DEFAULT_DIR      "fleet"
#define DEFAULT_THREADS  8u
#define DEFAULT_ATTEMPTS 5u
#define CARDS_MAX        1000000ul
#define THREADS_MAX      256ul
#define SERVERS_MAX      8u

#define USAGE                                                                                      \
    "usage: seam fleet --cards N [--server URL] [--dir DIR] [--threads T] [--key-file FILE]\n"     \
    "                  [--register TOKEN] [--no-run] [--state-dir DIR] [--max-attempts N]\n"       \
    "                  [--perso AID:HEX] [--per-card FILE]\n"

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(to,
                "\n"
                "N cards in this process, each with its own terminal loop (the relay of seam\n"
                "terminal), one admin session each against the server at URL, T at a time.\n"
                "  --dir DIR         the fleet folder (default %s): card-NNNNN.db images,\n"
                "                    created when missing, and fleet.cins (line i: card i's CIN)\n"
                "  --key-file FILE   the one storage key of every image (default DIR/%s;\n"
                "                    created when missing)\n"
                "  --server URL      the admin server; given several times, card i goes to the\n"
                "                    (i mod count)-th (registration: on the first only)\n"
                "  --register TOKEN  first PUT every card on the server (admin API, bearer TOKEN)\n"
                "  --perso AID:HEX   with --register: that personalization data for application\n"
                "                    AID on every card\n"
                "  --no-run          stop after the cards (and the registration)\n"
                "  --threads T       the pool (default %u)\n"
                "  --state-dir DIR   each thread's terminal state in DIR/terminal-T.db\n"
                "                    (default: in memory)\n"
                "  --max-attempts N  tries of one request before a session gives up (default %u)\n"
                "  --per-card FILE   one line per card: index, CIN, outcome, bytes up, down\n"
                "Prints: fleet: cards, done, seconds, cards/s, bytes per card (up, down), and\n"
                "one line per outcome.\n",
                DEFAULT_DIR, FLEET_KEY, DEFAULT_THREADS, DEFAULT_ATTEMPTS);
    return to == stdout ? 0 : 2;
}

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
    const char *server, *dir, *key_file, *token, *state_dir, *per_card, *perso;
    const char *servers[SERVERS_MAX];
    size_t server_count;
    unsigned long cards, threads, attempts;
    bool no_run;
} fleet_args;

static int parse(int argc, char **argv, fleet_args *a) {
    *a = (fleet_args){.dir = DEFAULT_DIR, .threads = DEFAULT_THREADS, .attempts = DEFAULT_ATTEMPTS};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h"))
            return usage(stdout) == 0 ? -1 : 2;
        if (!strcmp(o, "--no-run")) {
            a->no_run = true;
            continue;
        }
        if (!v)
            return usage(stderr);
        i++;
        if (!strcmp(o, "--cards")) {
            if (!parse_count(v, 1, CARDS_MAX, &a->cards))
                return usage(stderr);
        } else if (!strcmp(o, "--threads")) {
            if (!parse_count(v, 1, THREADS_MAX, &a->threads))
                return usage(stderr);
        } else if (!strcmp(o, "--max-attempts")) {
            if (!parse_count(v, 0, 1000, &a->attempts))
                return usage(stderr);
        } else if (!strcmp(o, "--server")) {
            if (a->server_count == SERVERS_MAX)
                return usage(stderr);
            a->servers[a->server_count++] = v;
            a->server = a->servers[0];
        } else if (!strcmp(o, "--perso")) {
            a->perso = v;
        } else if (!strcmp(o, "--dir")) {
            a->dir = v;
        } else if (!strcmp(o, "--key-file")) {
            a->key_file = v;
        } else if (!strcmp(o, "--register")) {
            a->token = v;
        } else if (!strcmp(o, "--state-dir")) {
            a->state_dir = v;
        } else if (!strcmp(o, "--per-card")) {
            a->per_card = v;
        } else {
            return usage(stderr);
        }
    }
    if (!a->cards || ((!a->no_run || a->token) && !a->server))
        return usage(stderr);
    return 0;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens card index of the fleet folder (the key file is named by SEAM_CARD_KEY_FILE). */
static seam_err open_card(void *ctx, size_t index, seam_gp_link *out) {
    char path[1024];
    fleet_image_path(ctx, index, path, sizeof path);
    return seam_link_image_open(path, out);
}

static int write_per_card(const char *path, const seam_terminal_fleet_card *cards, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "seam fleet: %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%zu\t%s\t%s\t%u\t%llu\t%llu\n", i, cards[i].cin, cards[i].outcome,
                cards[i].sessions, (unsigned long long)cards[i].bytes_up,
                (unsigned long long)cards[i].bytes_down);
    return fclose(f) == 0 ? 0 : 1;
}

static void print_report(const seam_terminal_fleet_report *r) {
    double per_card = r->cards ? (double)(r->bytes_up + r->bytes_down) / (double)r->cards : 0;
    printf("fleet: %zu cards, %zu done, %.3f s, %.1f cards/s\n", r->cards, r->done, r->seconds,
           r->seconds > 0 ? (double)r->cards / r->seconds : 0.0);
    printf("fleet: bytes per card %.1f (up %.1f, down %.1f); %llu sessions, %llu scripts, %llu "
           "commands\n",
           per_card, r->cards ? (double)r->bytes_up / (double)r->cards : 0.0,
           r->cards ? (double)r->bytes_down / (double)r->cards : 0.0,
           (unsigned long long)r->sessions, (unsigned long long)r->scripts,
           (unsigned long long)r->commands);
    for (size_t i = 0; i < r->outcome_count; i++)
        printf("fleet: outcome %s %zu\n", r->outcomes[i].outcome, r->outcomes[i].count);
}

/* Steps 1 and 2: the cards and their CINs; *cins is the caller's. */
static int prepare(const fleet_args *a, char (**cins)[SEAM_TERMINAL_CIN_HEX]) {
    uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE];
    char key_file[1024];
    size_t have, registered = 0;
    bool created = false;
    double t;
    seam_err e;
    if (mkdir(a->dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "seam fleet: %s: %s\n", a->dir, strerror(errno));
        return 1;
    }
    snprintf(key_file, sizeof key_file, "%s", a->key_file ? a->key_file : "");
    if (!a->key_file)
        snprintf(key_file, sizeof key_file, "%s/" FLEET_KEY, a->dir);
    *cins = calloc(a->cards, sizeof **cins);
    if (!*cins)
        return 1;
    e = fleet_key_ready(key_file, key, &created);
    if (e) {
        fprintf(stderr, "seam fleet: key file %s: %s\n", key_file, seam_err_str(e));
        return 1;
    }
    /* every image opens with the one key (seam_card_open reads this variable) */
    setenv("SEAM_CARD_KEY_FILE", key_file, 1);
    have = fleet_manifest_read(a->dir, *cins, a->cards);
    t = seconds_now();
    e = fleet_cards_create(a->dir, key, *cins, have, a->cards, (unsigned)a->threads);
    seam_secure_zero(key, sizeof key);
    if (e) {
        fprintf(stderr, "seam fleet: creating cards: %s\n", seam_err_str(e));
        return 1;
    }
    if (have < a->cards) {
        t = seconds_now() - t;
        printf("fleet: created %zu cards in %.3f s (%.1f cards/s), one storage key\n",
               (size_t)a->cards - have, t, (double)(a->cards - have) / (t > 0 ? t : 1e-9));
    }
    if (a->token) {
        t = seconds_now();
        e = fleet_register(a->server, a->token, (const char(*)[SEAM_TERMINAL_CIN_HEX]) * cins,
                           a->cards, (unsigned)a->threads, a->perso, &registered);
        t = seconds_now() - t;
        printf("fleet: registered %zu cards in %.3f s (%.1f cards/s)\n", registered, t,
               (double)registered / (t > 0 ? t : 1e-9));
        if (e) {
            fprintf(stderr, "seam fleet: registering cards: %s\n", seam_err_str(e));
            return 1;
        }
    }
    return 0;
}

int seam_cli_fleet(int argc, char **argv) {
    fleet_args a;
    char(*cins)[SEAM_TERMINAL_CIN_HEX] = NULL;
    seam_terminal_fleet_card *per_card = NULL;
    seam_terminal_fleet_report report;
    seam_terminal_options session = {0};
    seam_terminal_fleet_options o = {0};
    seam_err e;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (seam_terminal_global_init() != SEAM_OK) {
        fprintf(stderr, "seam fleet: libcurl could not be set up\n");
        return 1;
    }
    rc = prepare(&a, &cins);
    free(cins);
    if (rc || a.no_run)
        return rc;
    per_card = calloc(a.cards, sizeof *per_card);
    if (!per_card)
        return 1;
    session.server = a.server;
    session.max_attempts = (unsigned)a.attempts;
    o = (seam_terminal_fleet_options){.servers = a.servers,
                                      .server_count = a.server_count,
                                      .cards = a.cards,
                                      .threads = (unsigned)a.threads,
                                      .open = open_card,
                                      .ctx = (void *)a.dir,
                                      .session = &session,
                                      .state_dir = a.state_dir,
                                      .per_card = per_card};
    e = seam_terminal_fleet_run(&o, &report);
    print_report(&report);
    rc = e ? 1 : 0;
    if (e && e != SEAM_ERR_TERMINAL_REFUSED)
        fprintf(stderr, "seam fleet: %s\n", seam_err_str(e));
    if (a.per_card && write_per_card(a.per_card, per_card, a.cards))
        rc = 1;
    free(per_card);
    return rc;
}
