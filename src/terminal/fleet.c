/*
 * The fleet: many cards in one process, each with its own terminal loop, for
 * load tests of an admin server (seam fleet, docs/terminal.md).
 *
 * A pool of threads takes cards in index order from one counter under a
 * mutex, so each card is taken by exactly one thread, once. For its card a
 * thread opens the link (the caller's callback), runs one admin session
 * (seam_terminal_run_session, the same relay as seam terminal) against its
 * own local state, closes the link and records the outcome and the
 * terminal's byte counts. A card's states:
 *
 *   WAITING  (index not yet taken)
 *      |     a thread takes it
 *   OPEN     the link opened ("open" outcome when it did not)
 *      |
 *   SESSION  seam_terminal_run_session: IDENTIFY, OPEN, EXCHANGE..., END
 *      |
 *   ENDED    outcome and bytes recorded; the link closed
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam/terminal.h"
#include "seam/util.h"

#define THREADS_DEF 8u

typedef struct {
    const seam_terminal_fleet_options *o;
    seam_terminal_fleet_report *report;
    pthread_mutex_t lock; /* next, report */
    size_t next;          /* the next card to take */
    seam_err failure;     /* the first error that is not a session's outcome */
} fleet;

typedef struct {
    fleet *f;
    unsigned number;
    pthread_t thread;
    bool started;
} worker;

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts one card's outcome and adds its figures to the report; under the lock. */
static void tally(fleet *f, const seam_terminal_fleet_card *c, bool done) {
    seam_terminal_fleet_report *r = f->report;
    size_t i;
    r->sessions += c->sessions;
    r->scripts += c->scripts;
    r->commands += c->commands;
    r->bytes_up += c->bytes_up;
    r->bytes_down += c->bytes_down;
    if (done)
        r->done++;
    for (i = 0; i < r->outcome_count; i++)
        if (strcmp(r->outcomes[i].outcome, c->outcome) == 0)
            break;
    if (i == r->outcome_count) {
        if (i == sizeof r->outcomes / sizeof r->outcomes[0])
            i--; /* more distinct outcomes than slots: the last one collects the rest */
        else
            r->outcome_count++;
        snprintf(r->outcomes[i].outcome, sizeof r->outcomes[i].outcome, "%s", c->outcome);
    }
    r->outcomes[i].count++;
}

/* Runs the session of card index with state st; fills *c. True when it ended with 204. */
static bool drive(fleet *f, size_t index, seam_terminal_state *st, seam_terminal_fleet_card *c) {
    seam_gp_link link;
    seam_terminal_result res;
    seam_terminal_options session = *f->o->session;
    seam_err e;
    memset(c, 0, sizeof *c);
    if (f->o->server_count)
        session.server = f->o->servers[index % f->o->server_count];
    e = f->o->open(f->o->ctx, index, &link);
    if (e) {
        seam_log(SEAM_LOG_WARN, "fleet: card %zu does not open: %s", index, seam_err_str(e));
        snprintf(c->outcome, sizeof c->outcome, "open");
        return false;
    }
    e = seam_terminal_run_session(&link, st, &session, &res);
    seam_gp_link_close(&link);
    c->sessions = 1;
    snprintf(c->cin, sizeof c->cin, "%s", res.cin);
    snprintf(c->outcome, sizeof c->outcome, "%s", res.outcome[0] ? res.outcome : "error");
    c->scripts = res.scripts;
    c->commands = res.commands;
    c->attempts = res.attempts;
    c->bytes_up = res.bytes_up;
    c->bytes_down = res.bytes_down;
    if (e && e != SEAM_ERR_TERMINAL_REFUSED && e != SEAM_ERR_TERMINAL_UNREACHABLE)
        seam_log(SEAM_LOG_WARN, "fleet: card %zu (%s): %s", index, c->cin, seam_err_str(e));
    return e == SEAM_OK;
}

static void *work(void *arg) {
    worker *w = arg;
    fleet *f = w->f;
    seam_terminal_state *st = NULL;
    char path[1024];
    seam_err e;
    if (f->o->state_dir)
        snprintf(path, sizeof path, "%s/terminal-%u.db", f->o->state_dir, w->number);
    else
        snprintf(path, sizeof path, ":memory:");
    e = seam_terminal_state_open(path, &st);
    for (;;) {
        seam_terminal_fleet_card card;
        size_t index;
        bool done;
        pthread_mutex_lock(&f->lock);
        if (e && !f->failure)
            f->failure = e;
        if (e || f->next >= f->o->cards) {
            pthread_mutex_unlock(&f->lock);
            break;
        }
        index = f->next++;
        pthread_mutex_unlock(&f->lock);
        done = drive(f, index, st, &card);
        pthread_mutex_lock(&f->lock);
        tally(f, &card, done);
        if (f->o->per_card)
            f->o->per_card[index] = card;
        pthread_mutex_unlock(&f->lock);
    }
    seam_terminal_state_close(st);
    return NULL;
}

seam_err seam_terminal_fleet_run(const seam_terminal_fleet_options *options,
                                 seam_terminal_fleet_report *report) {
    fleet f = {.o = options, .report = report};
    worker *workers;
    unsigned threads;
    double start;
    if (!options || !report || !options->open || !options->session ||
        (!options->session->server && !options->server_count) ||
        (options->server_count && !options->servers))
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < options->server_count; i++)
        if (!options->servers[i])
            return SEAM_ERR_ARG;
    memset(report, 0, sizeof *report);
    report->cards = options->cards;
    if (options->cards == 0)
        return SEAM_OK;
    threads = options->threads ? options->threads : THREADS_DEF;
    if (threads > options->cards)
        threads = (unsigned)options->cards;
    workers = calloc(threads, sizeof *workers);
    if (!workers)
        return SEAM_ERR_NOMEM;
    if (pthread_mutex_init(&f.lock, NULL) != 0) {
        free(workers);
        return SEAM_ERR_NOMEM;
    }
    start = seconds_now();
    for (unsigned i = 0; i < threads; i++) {
        workers[i] = (worker){.f = &f, .number = i};
        workers[i].started = pthread_create(&workers[i].thread, NULL, work, &workers[i]) == 0;
        if (!workers[i].started) {
            pthread_mutex_lock(&f.lock);
            if (!f.failure)
                f.failure = SEAM_ERR_TERMINAL;
            pthread_mutex_unlock(&f.lock);
        }
    }
    for (unsigned i = 0; i < threads; i++)
        if (workers[i].started)
            pthread_join(workers[i].thread, NULL);
    report->seconds = seconds_now() - start;
    pthread_mutex_destroy(&f.lock);
    free(workers);
    if (f.failure)
        return f.failure;
    return report->done == report->cards ? SEAM_OK : SEAM_ERR_TERMINAL_REFUSED;
}
