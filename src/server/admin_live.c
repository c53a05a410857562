/*
 * The server's live campaign steps (admin_plan.h), by admin session id: in this
 * server's memory only, shared by the HTTP worker threads under srv->live_lock.
 * A request takes its step out of use while it judges an answer, so a step's
 * SCP03 state is never used by two threads (docs/server.md "Sessions live in
 * memory").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_plan.h"

typedef struct {
    char id[SEAM_STORE_SESSION_ID_SIZE];
    seam_srv_step *step;
    int64_t touched;
    bool busy; /* taken by a request on some worker thread */
} live_entry;

/* ---- the live steps, by session id (shared by the worker threads: live_lock) ---- */

static void live_prune(struct seam_server *srv, int64_t now, int64_t max_age) {
    live_entry *t = srv->live;
    size_t kept = 0;
    for (size_t i = 0; i < srv->live_count; i++) {
        if (!t[i].busy && now - t[i].touched > max_age)
            seam_srv_step_free(t[i].step);
        else
            t[kept++] = t[i];
    }
    srv->live_count = kept;
}

seam_err seam_srv_live_put(struct seam_server *srv, const char *id, seam_srv_step *step,
                           int64_t now, int64_t max_age) {
    seam_err err = SEAM_OK;
    pthread_mutex_lock(&srv->live_lock);
    live_prune(srv, now, max_age);
    if (srv->live_count == srv->live_cap) {
        size_t cap = srv->live_cap ? srv->live_cap * 2 : 16;
        live_entry *grown = realloc(srv->live, cap * sizeof *grown);
        if (grown) {
            srv->live = grown;
            srv->live_cap = cap;
        } else {
            err = SEAM_ERR_NOMEM;
        }
    }
    if (!err) {
        live_entry *e = &((live_entry *)srv->live)[srv->live_count++];
        snprintf(e->id, sizeof e->id, "%s", id);
        e->step = step;
        e->touched = now;
        e->busy = false;
    }
    pthread_mutex_unlock(&srv->live_lock);
    return err;
}

seam_srv_step *seam_srv_live_take(struct seam_server *srv, const char *id, int64_t now,
                                  int64_t max_age, bool *busy) {
    seam_srv_step *step = NULL;
    *busy = false;
    pthread_mutex_lock(&srv->live_lock);
    live_prune(srv, now, max_age);
    live_entry *t = srv->live;
    for (size_t i = 0; i < srv->live_count; i++)
        if (!strcmp(t[i].id, id)) {
            *busy = t[i].busy;
            if (!t[i].busy) {
                t[i].busy = true;
                t[i].touched = now;
                step = t[i].step;
            }
            break;
        }
    pthread_mutex_unlock(&srv->live_lock);
    return step;
}

void seam_srv_live_release(struct seam_server *srv, const char *id, int64_t now) {
    pthread_mutex_lock(&srv->live_lock);
    live_entry *t = srv->live;
    for (size_t i = 0; i < srv->live_count; i++)
        if (!strcmp(t[i].id, id)) {
            t[i].busy = false;
            t[i].touched = now;
            break;
        }
    pthread_mutex_unlock(&srv->live_lock);
}

void seam_srv_live_drop(struct seam_server *srv, const char *id) {
    pthread_mutex_lock(&srv->live_lock);
    live_entry *t = srv->live;
    for (size_t i = 0; i < srv->live_count; i++)
        if (!strcmp(t[i].id, id)) {
            seam_srv_step_free(t[i].step);
            t[i] = t[--srv->live_count];
            break;
        }
    pthread_mutex_unlock(&srv->live_lock);
}

size_t seam_srv_live_count(struct seam_server *srv) {
    pthread_mutex_lock(&srv->live_lock);
    size_t n = srv->live_count;
    pthread_mutex_unlock(&srv->live_lock);
    return n;
}

void seam_srv_live_clear(struct seam_server *srv) {
    pthread_mutex_lock(&srv->live_lock);
    live_entry *t = srv->live;
    for (size_t i = 0; i < srv->live_count; i++)
        seam_srv_step_free(t[i].step);
    free(srv->live);
    srv->live = NULL;
    srv->live_count = srv->live_cap = 0;
    pthread_mutex_unlock(&srv->live_lock);
}
