/*
 * What the operator's console does to a campaign and reads of it and of the server
 * (docs/server.md, "Admin API"):
 *   POST /api/campaigns/{id}/start   created | paused → running
 *   POST /api/campaigns/{id}/pause   running → paused (its pending targets wait; a step
 *                                    already running finishes)
 *   POST /api/campaigns/{id}/cancel  created | running | paused → cancelled (pending
 *                                    targets fail with reason "cancelled")
 *   GET  /api/campaigns/{id}/timeline  its progress over time, from the event log
 *   GET  /api/health                 the store's queue and campaigns, this process's load
 * A refused move is 409 conflict naming the campaign's state and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_plan.h"
#include "api.h"
#include "server_int.h"

static const char *state_word(seam_store_campaign_state s) {
    static const char *const names[] = {"created", "running", "done", "cancelled", "paused"};
    return s >= SEAM_STORE_CAMPAIGN_CREATED && s <= SEAM_STORE_CAMPAIGN_PAUSED ? names[s - 1]
                                                                               : "unknown";
}

/* Moves the path's campaign to state `to`; `allowed` and `verb` word the refusal. */
static void control(struct seam_server *srv, const seam_srv_request *req, seam_srv_response *res,
                    seam_store_campaign_state to, const char *allowed, const char *verb) {
    int64_t id;
    if (!seam_api_campaign_id(req, &id, res))
        return;
    seam_store *st = seam_srv_store(srv);
    seam_store_campaign c;
    seam_err err = seam_store_campaign_set_state(st, id, to);
    if (err == SEAM_ERR_NOT_FOUND) {
        seam_srv_error(res, 404, "unknown_campaign", "no campaign with that id");
        return;
    }
    if (err == SEAM_ERR_SERVER_CONFLICT && !seam_store_campaign_get(st, id, &c)) {
        char message[160];
        snprintf(message, sizeof message, "campaign %lld is %s: only %s campaign can be %s",
                 (long long)id, state_word(c.state), allowed, verb);
        seam_srv_error(res, 409, "conflict", message);
        return;
    }
    if (!err)
        err = seam_store_campaign_get(st, id, &c);
    cJSON *o = err ? NULL : seam_api_campaign_json(st, &c, &err);
    seam_api_reply(res, 200, err, o);
}

API_HANDLER(seam_api_campaign_start) {
    control(srv, req, res, SEAM_STORE_CAMPAIGN_RUNNING, "a created or a paused", "started");
}

API_HANDLER(seam_api_campaign_pause) {
    control(srv, req, res, SEAM_STORE_CAMPAIGN_PAUSED, "a running", "paused");
}

API_HANDLER(seam_api_campaign_cancel) {
    control(srv, req, res, SEAM_STORE_CAMPAIGN_CANCELLED, "a created, running or paused",
            "cancelled");
}

/* ---- the timeline ---- */

typedef struct {
    seam_store_id cin;
    seam_store_target_state state;
} target_now;

static int target_cmp(const void *a, const void *b) {
    const seam_store_id *x = &((const target_now *)a)->cin, *y = &((const target_now *)b)->cin;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct {
    uint64_t n[SEAM_STORE_FAILED + 1]; /* by seam_store_target_state */
} tally;

static bool add_point(cJSON *points, int64_t at, const tally *t) {
    cJSON *p = cJSON_CreateObject();
    bool ok = p && cJSON_AddNumberToObject(p, "at", (double)at) &&
              cJSON_AddNumberToObject(p, "pending", (double)t->n[SEAM_STORE_PENDING]) &&
              cJSON_AddNumberToObject(p, "running", (double)t->n[SEAM_STORE_RUNNING]) &&
              cJSON_AddNumberToObject(p, "done", (double)t->n[SEAM_STORE_DONE]) &&
              cJSON_AddNumberToObject(p, "failed", (double)t->n[SEAM_STORE_FAILED]);
    if (!ok || !cJSON_AddItemToArray(points, p)) {
        cJSON_Delete(p);
        return false;
    }
    return true;
}

/* Replays the event log over targets[0..count) (all pending at first) into points: one at
   created, then one at the end of each second in which a count changed; a last one with
   totals when the log does not end there. False when out of memory. */
static bool replay(cJSON *points, int64_t created, target_now *targets, size_t count,
                   const seam_store_event *evs, size_t n_evs,
                   const seam_store_campaign_totals *totals) {
    tally t = {0}, shown;
    t.n[SEAM_STORE_PENDING] = count;
    shown = t;
    int64_t last_at = created;
    bool ok = add_point(points, created, &t);
    for (size_t i = 0; ok && i < n_evs; i++) {
        seam_store_target_state to = !strcmp(evs[i].kind, "claimed")  ? SEAM_STORE_RUNNING
                                     : !strcmp(evs[i].kind, "done")   ? SEAM_STORE_DONE
                                     : !strcmp(evs[i].kind, "failed") ? SEAM_STORE_FAILED
                                                                      : 0;
        target_now key = {.cin = evs[i].cin};
        target_now *target = to ? bsearch(&key, targets, count, sizeof *targets, target_cmp) : NULL;
        if (target && target->state != to) {
            t.n[target->state]--;
            t.n[to]++;
            target->state = to;
        }
        bool second_ends = i + 1 == n_evs || evs[i + 1].at != evs[i].at;
        if (second_ends && memcmp(&t, &shown, sizeof t)) {
            last_at = evs[i].at > last_at ? evs[i].at : last_at;
            ok = add_point(points, last_at, &t);
            shown = t;
        }
    }
    tally now = {0};
    now.n[SEAM_STORE_PENDING] = totals->pending;
    now.n[SEAM_STORE_RUNNING] = totals->running;
    now.n[SEAM_STORE_DONE] = totals->done;
    now.n[SEAM_STORE_FAILED] = totals->failed;
    if (ok && memcmp(&now, &shown, sizeof now))
        ok = add_point(points, totals->updated > last_at ? totals->updated : last_at, &now);
    return ok;
}

API_HANDLER(seam_api_campaign_timeline) {
    int64_t id;
    if (!seam_api_campaign_id(req, &id, res))
        return;
    seam_store *st = seam_srv_store(srv);
    seam_store_campaign c;
    seam_store_campaign_totals totals;
    seam_store_target *targets = NULL;
    seam_store_event *evs = NULL;
    size_t count = 0, n_evs = 0;
    seam_err err = seam_store_campaign_get(st, id, &c);
    if (err == SEAM_ERR_NOT_FOUND) {
        seam_srv_error(res, 404, "unknown_campaign", "no campaign with that id");
        return;
    }
    /* one read group, so that the log and the counts agree */
    if (!err)
        err = seam_store_begin(st);
    if (!err) {
        err = seam_store_target_list(st, id, &targets, &count);
        if (!err)
            err = seam_store_campaign_events(st, id, &evs, &n_evs);
        if (!err)
            err = seam_store_campaign_totals_get(st, id, &totals);
        err = seam_store_end(st, err);
    }
    target_now *now = err ? NULL : calloc(count ? count : 1, sizeof *now);
    if (!err && !now)
        err = SEAM_ERR_NOMEM;
    for (size_t i = 0; now && i < count; i++)
        now[i] = (target_now){.cin = targets[i].cin, .state = SEAM_STORE_PENDING};
    if (now)
        qsort(now, count, sizeof *now, target_cmp);
    cJSON *o = err ? NULL : cJSON_CreateObject();
    cJSON *points = NULL;
    bool ok = o && cJSON_AddNumberToObject(o, "campaign", (double)id) &&
              cJSON_AddNumberToObject(o, "created", (double)c.created) &&
              (points = cJSON_AddArrayToObject(o, "points")) &&
              replay(points, c.created, now, count, evs, n_evs, &totals);
    if (!ok) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(now);
    free(targets);
    free(evs);
    seam_api_reply(res, 200, err, o);
}

/* ---- health ---- */

API_HANDLER(seam_api_health) {
    (void)req;
    seam_store *st = seam_srv_store(srv);
    int64_t t = (int64_t)time(NULL);
    seam_store_health h;
    seam_err err = seam_store_health_get(st, t - 59, &h); /* the last 60 seconds, this one too */
    cJSON *o = err ? NULL : cJSON_CreateObject();
    cJSON *queue = o ? cJSON_AddObjectToObject(o, "queue") : NULL;
    cJSON *campaigns = o ? cJSON_AddObjectToObject(o, "campaigns") : NULL;
    cJSON *sessions = o ? cJSON_AddObjectToObject(o, "sessions") : NULL;
    bool ok = queue && campaigns && sessions &&
              cJSON_AddStringToObject(o, "backend", seam_store_backend(st)) &&
              cJSON_AddNumberToObject(o, "uptime", (double)(t - srv->started)) &&
              cJSON_AddNumberToObject(o, "threads", (double)srv->threads) &&
              cJSON_AddNumberToObject(queue, "pending", (double)h.pending) &&
              cJSON_AddNumberToObject(queue, "running", (double)h.running) &&
              cJSON_AddNumberToObject(queue, "paused", (double)h.paused) &&
              cJSON_AddNumberToObject(sessions, "live", (double)seam_srv_live_count(srv)) &&
              cJSON_AddNumberToObject(sessions, "omads", (double)seam_srv_omads_live(srv)) &&
              cJSON_AddNumberToObject(sessions, "last_minute", (double)h.sessions_since) &&
              cJSON_AddNumberToObject(sessions, "per_second", (double)h.sessions_since / 60.0) &&
              cJSON_AddNumberToObject(o, "requests",
                                      (double)__atomic_load_n(&srv->requests, __ATOMIC_RELAXED));
    for (int s = SEAM_STORE_CAMPAIGN_CREATED; ok && s <= SEAM_STORE_CAMPAIGN_PAUSED; s++)
        ok = cJSON_AddNumberToObject(campaigns, state_word((seam_store_campaign_state)s),
                                     (double)h.campaigns[s]) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        o = NULL;
    }
    seam_api_reply(res, 200, err, o);
}
