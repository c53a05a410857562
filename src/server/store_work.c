/*
 * The server's store: campaigns and their targets, claiming work, admin sessions, byte
 * accounting and the event log. Rules and state machines in store.h:
 *   campaign: created → running ⇄ paused; created | running | paused → cancelled;
 *             running → done
 *   target:   pending → running → done | failed   (running again only once its lease expired)
 */
#include "server/store_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "seam/util.h"

/* ---- campaigns ---- */

static bool kind_ok(seam_store_kind k) {
    return k >= SEAM_STORE_INSTALL && k <= SEAM_STORE_DELETE;
}

static bool text_ok(const char *t, size_t cap) {
    return t && memchr(t, '\0', cap) != NULL;
}

seam_err seam_store_campaign_create(seam_store *store, seam_store_campaign *c,
                                    const seam_store_id *cins, size_t count) {
    db_rows rows = {0};
    if (!c || !kind_ok(c->kind) || c->package_aid.len > SEAM_STORE_ID_MAX ||
        !text_ok(c->params, sizeof c->params) || !cins || count == 0)
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < count; i++) {
        if (!store_id_ok(&cins[i]))
            return SEAM_ERR_ARG;
        for (size_t j = 0; j < i; j++)
            if (cins[j].len == cins[i].len &&
                memcmp(cins[j].bytes, cins[i].bytes, cins[i].len) == 0)
                return SEAM_ERR_ARG;
    }
    int64_t now = store_now();
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(
            store,
            "INSERT INTO campaigns (kind, package_aid, package_version, params, created, "
            "state) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (db_val[]){DB_I(c->kind), DB_ID(&c->package_aid), DB_I(c->package_version),
                       DB_T(c->params), DB_I(now), DB_I(SEAM_STORE_CAMPAIGN_CREATED)},
            6, &rows);
    int64_t id = !e && rows.rows == 1 ? db_at(&rows, 0, 0)->i : 0;
    if (!e && id <= 0)
        e = SEAM_ERR_SERVER_STORE;
    for (size_t i = 0; !e && i < count; i++) {
        db_rows card = {0};
        e = store_exec(store, "SELECT 1 FROM cards WHERE cin = ?", (db_val[]){DB_ID(&cins[i])}, 1,
                       &card);
        if (!e && card.rows == 0)
            e = SEAM_ERR_NOT_FOUND;
        db_rows_free(&card);
        if (!e)
            e = store_exec(store,
                           "INSERT INTO targets (campaign, cin, seq, state, reason, owner, "
                           "lease_until, claims) VALUES (?, ?, ?, ?, '', '', 0, 0)",
                           (db_val[]){DB_I(id), DB_ID(&cins[i]), DB_I(i), DB_I(SEAM_STORE_PENDING)},
                           4, NULL);
    }
    db_rows_free(&rows);
    e = store_end(store, e);
    if (!e) {
        c->id = id;
        c->created = now;
        c->state = SEAM_STORE_CAMPAIGN_CREATED;
    }
    return e;
}

#define CAMPAIGN_COLUMNS "id, kind, package_aid, package_version, params, created, state"

static void campaign_from(seam_store_campaign *c, const db_rows *rows, size_t r) {
    memset(c, 0, sizeof *c);
    c->id = db_at(rows, r, 0)->i;
    c->kind = (seam_store_kind)db_at(rows, r, 1)->i;
    store_id_from(&c->package_aid, db_at(rows, r, 2));
    c->package_version = (uint16_t)db_at(rows, r, 3)->i;
    store_text_from(c->params, sizeof c->params, db_at(rows, r, 4));
    c->created = db_at(rows, r, 5)->i;
    c->state = (seam_store_campaign_state)db_at(rows, r, 6)->i;
}

seam_err seam_store_campaign_get(seam_store *store, int64_t id, seam_store_campaign *out) {
    db_rows rows = {0};
    if (!out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT " CAMPAIGN_COLUMNS " FROM campaigns WHERE id = ?",
                            (db_val[]){DB_I(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        campaign_from(out, &rows, 0);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_campaign_list(seam_store *store, seam_store_campaign **items, size_t *count) {
    db_rows rows = {0};
    if (!items || !count)
        return SEAM_ERR_ARG;
    seam_err e =
        store_exec(store, "SELECT " CAMPAIGN_COLUMNS " FROM campaigns ORDER BY id", NULL, 0, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        campaign_from(&(*items)[r], &rows, r);
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* Locks campaign id for this transaction (PostgreSQL) and reads its state. */
static seam_err campaign_lock(seam_store *store, int64_t id, int64_t *state) {
    db_rows rows = {0};
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM campaigns WHERE id = ?%s",
             store->drv == &store_pg_driver ? " FOR UPDATE" : "");
    seam_err e = store_exec(store, sql, (db_val[]){DB_I(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        *state = db_at(&rows, 0, 0)->i;
    db_rows_free(&rows);
    return e;
}

/* True when a campaign may move from state `from` to state `to` by seam_store_campaign_set_state
   (done is reached only through store_campaign_settle). */
static bool campaign_move_ok(int64_t from, seam_store_campaign_state to) {
    switch (to) {
    case SEAM_STORE_CAMPAIGN_RUNNING:
        return from == SEAM_STORE_CAMPAIGN_CREATED || from == SEAM_STORE_CAMPAIGN_PAUSED;
    case SEAM_STORE_CAMPAIGN_PAUSED:
        return from == SEAM_STORE_CAMPAIGN_RUNNING;
    case SEAM_STORE_CAMPAIGN_CANCELLED:
        return from == SEAM_STORE_CAMPAIGN_CREATED || from == SEAM_STORE_CAMPAIGN_RUNNING ||
               from == SEAM_STORE_CAMPAIGN_PAUSED;
    default:
        return false;
    }
}

seam_err seam_store_campaign_set_state(seam_store *store, int64_t id,
                                       seam_store_campaign_state state) {
    int64_t now_state = 0;
    if (state != SEAM_STORE_CAMPAIGN_RUNNING && state != SEAM_STORE_CAMPAIGN_PAUSED &&
        state != SEAM_STORE_CAMPAIGN_CANCELLED)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = campaign_lock(store, id, &now_state);
    if (!e && !campaign_move_ok(now_state, state))
        e = SEAM_ERR_SERVER_CONFLICT;
    if (!e)
        e = store_exec(store, "UPDATE campaigns SET state = ? WHERE id = ?",
                       (db_val[]){DB_I(state), DB_I(id)}, 2, NULL);
    /* each cancelled target is a failure in the event log (the timeline counts from it) */
    if (!e && state == SEAM_STORE_CAMPAIGN_CANCELLED)
        e = store_exec(store,
                       "INSERT INTO events (cin, campaign, at, kind, message) SELECT cin, "
                       "campaign, ?, 'failed', 'cancelled' FROM targets WHERE campaign = ? AND "
                       "state = ? ORDER BY seq",
                       (db_val[]){DB_I(store_now()), DB_I(id), DB_I(SEAM_STORE_PENDING)}, 3, NULL);
    if (!e && state == SEAM_STORE_CAMPAIGN_CANCELLED)
        e = store_exec(store,
                       "UPDATE targets SET state = ?, reason = 'cancelled' WHERE campaign = ? AND "
                       "state = ?",
                       (db_val[]){DB_I(SEAM_STORE_FAILED), DB_I(id), DB_I(SEAM_STORE_PENDING)}, 3,
                       NULL);
    /* resumed with nothing left (its last steps finished while it was paused): done */
    if (!e && state == SEAM_STORE_CAMPAIGN_RUNNING)
        e = store_campaign_settle(store, id);
    return store_end(store, e);
}

/* ---- targets ---- */

#define TARGET_COLUMNS                                                                             \
    "t.campaign, t.cin, t.state, t.reason, t.owner, t.lease_until, t.claims, "                     \
    "(SELECT CAST(COALESCE(SUM(b.request), 0) AS BIGINT) FROM byte_counts b "                      \
    "WHERE b.campaign = t.campaign AND b.cin = t.cin), "                                           \
    "(SELECT CAST(COALESCE(SUM(b.response), 0) AS BIGINT) FROM byte_counts b "                     \
    "WHERE b.campaign = t.campaign AND b.cin = t.cin), "                                           \
    "(SELECT CAST(COALESCE(SUM(b.perso), 0) AS BIGINT) FROM byte_counts b "                        \
    "WHERE b.campaign = t.campaign AND b.cin = t.cin)"

static void target_from(seam_store_target *t, const db_rows *rows, size_t r) {
    memset(t, 0, sizeof *t);
    t->campaign = db_at(rows, r, 0)->i;
    store_id_from(&t->cin, db_at(rows, r, 1));
    t->state = (seam_store_target_state)db_at(rows, r, 2)->i;
    store_text_from(t->reason, sizeof t->reason, db_at(rows, r, 3));
    store_text_from(t->owner, sizeof t->owner, db_at(rows, r, 4));
    t->lease_until = db_at(rows, r, 5)->i;
    t->claims = (uint32_t)db_at(rows, r, 6)->i;
    t->bytes.request = (uint64_t)db_at(rows, r, 7)->i;
    t->bytes.response = (uint64_t)db_at(rows, r, 8)->i;
    t->bytes.perso = (uint64_t)db_at(rows, r, 9)->i;
}

seam_err seam_store_target_get(seam_store *store, int64_t campaign, const seam_store_id *cin,
                               seam_store_target *out) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT " TARGET_COLUMNS " FROM targets t WHERE t.campaign = ? AND "
                            "t.cin = ?",
                            (db_val[]){DB_I(campaign), DB_ID(cin)}, 2, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        target_from(out, &rows, 0);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_target_list(seam_store *store, int64_t campaign, seam_store_target **items,
                                size_t *count) {
    db_rows rows = {0};
    if (!items || !count)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT " TARGET_COLUMNS " FROM targets t WHERE t.campaign = ? "
                            "ORDER BY t.cin",
                            (db_val[]){DB_I(campaign)}, 1, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        target_from(&(*items)[r], &rows, r);
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* Conditions on a target t that may be claimed (its state is chosen by the caller): its
 * campaign runs and no target of its card holds a live lease. Parameters: campaign state
 * running, target state running, now. */
#define CLAIMABLE                                                                                  \
    "EXISTS (SELECT 1 FROM campaigns c WHERE c.id = t.campaign AND c.state = ?) "                  \
    "AND NOT EXISTS (SELECT 1 FROM targets o WHERE o.cin = t.cin AND o.state = ? "                 \
    "AND o.lease_until >= ?)"
#define CLAIMABLE_PARAMS(now) DB_I(SEAM_STORE_CAMPAIGN_RUNNING), DB_I(SEAM_STORE_RUNNING), DB_I(now)

/* Finds a claimable target (campaign, cin) to *found, the target row locked on PostgreSQL
 * (rows another server is claiming right now are skipped): first a running one whose
 * lease expired (its server died: resume it), then the oldest pending one. */
static seam_err claim_candidate(seam_store *store, const seam_store_id *cin, int64_t now,
                                db_rows *found) {
    char sql[1024];
    seam_err e = SEAM_OK;
    for (int expired = 1; expired >= 0 && !e; expired--) {
        snprintf(sql, sizeof sql,
                 "SELECT t.campaign, t.cin FROM targets t WHERE t.state = ? AND %s%s" CLAIMABLE
                 " ORDER BY t.state, t.campaign, t.seq LIMIT 1%s",
                 expired ? "t.lease_until < ? AND " : "", cin ? "t.cin = ? AND " : "",
                 store->drv->lock_suffix);
        db_val p[6];
        size_t n = 0;
        p[n++] = DB_I(expired ? SEAM_STORE_RUNNING : SEAM_STORE_PENDING);
        if (expired)
            p[n++] = DB_I(now);
        if (cin)
            p[n++] = DB_ID(cin);
        p[n++] = DB_I(SEAM_STORE_CAMPAIGN_RUNNING);
        p[n++] = DB_I(SEAM_STORE_RUNNING);
        p[n++] = DB_I(now);
        e = store_exec(store, sql, p, n, found);
        if (!e && found->rows == 1)
            return SEAM_OK;
        db_rows_free(found);
    }
    return e ? e : SEAM_ERR_NOT_FOUND;
}

seam_err seam_store_claim(seam_store *store, const seam_store_id *cin, const char *owner,
                          int64_t now, int64_t lease_seconds, seam_store_target *out) {
    db_rows target = {0}, card = {0}, done = {0};
    char sql[128];
    seam_store_id locked = {0};
    int64_t campaign = 0;
    if ((cin && !store_id_ok(cin)) || !text_ok(owner, SEAM_STORE_TEXT_MAX) || !*owner ||
        lease_seconds <= 0 || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    /* 1. a candidate target (SQLite: BEGIN IMMEDIATE already serializes the writers) */
    if (!e)
        e = claim_candidate(store, cin, now, &target);
    /* 2. its card's row locked: every claim on a card goes through it, so a card is never
          claimed twice at once, even from two campaigns (PostgreSQL: skipped if busy) */
    if (!e) {
        campaign = db_at(&target, 0, 0)->i;
        store_id_from(&locked, db_at(&target, 0, 1));
        snprintf(sql, sizeof sql, "SELECT cin FROM cards WHERE cin = ?%s", store->drv->lock_suffix);
        e = store_exec(store, sql, (db_val[]){DB_ID(&locked)}, 1, &card);
        if (!e && card.rows != 1)
            e = SEAM_ERR_NOT_FOUND; /* another server is claiming this card right now */
    }
    /* 3. with the card locked, a new statement sees every committed claim: take the target
          only if it is still claimable */
    if (!e)
        e = store_exec(store,
                       "UPDATE targets SET state = ?, owner = ?, lease_until = ?, "
                       "claims = claims + 1 WHERE campaign = ? AND cin = ? AND (state = ? OR "
                       "(state = ? AND lease_until < ?)) AND NOT EXISTS (SELECT 1 FROM targets o "
                       "WHERE o.cin = targets.cin AND o.state = ? AND o.lease_until >= ?) "
                       "RETURNING campaign",
                       (db_val[]){DB_I(SEAM_STORE_RUNNING), DB_T(owner), DB_I(now + lease_seconds),
                                  DB_I(campaign), DB_ID(&locked), DB_I(SEAM_STORE_PENDING),
                                  DB_I(SEAM_STORE_RUNNING), DB_I(now), DB_I(SEAM_STORE_RUNNING),
                                  DB_I(now)},
                       10, &done);
    if (!e && done.rows != 1)
        e = SEAM_ERR_NOT_FOUND; /* taken by another server meanwhile */
    if (!e)
        e = seam_store_event_add(
            store, &(seam_store_event){
                       .cin = locked, .campaign = campaign, .kind = "claimed", .message = ""});
    if (!e)
        e = seam_store_target_get(store, campaign, &locked, out);
    db_rows_free(&card);
    db_rows_free(&target);
    db_rows_free(&done);
    return store_end(store, e);
}

seam_err seam_store_target_renew(seam_store *store, int64_t campaign, const seam_store_id *cin,
                                 const char *owner, int64_t now, int64_t lease_seconds) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !text_ok(owner, SEAM_STORE_TEXT_MAX) || lease_seconds <= 0)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "UPDATE targets SET lease_until = ? WHERE campaign = ? AND cin = ? AND "
                       "state = ? AND owner = ? RETURNING campaign",
                       (db_val[]){DB_I(now + lease_seconds), DB_I(campaign), DB_ID(cin),
                                  DB_I(SEAM_STORE_RUNNING), DB_T(owner)},
                       5, &rows);
    if (!e && rows.rows != 1)
        e = SEAM_ERR_SERVER_CONFLICT;
    db_rows_free(&rows);
    return store_end(store, e);
}

seam_err store_campaign_settle(seam_store *s, int64_t campaign) {
    return store_exec(s,
                      "UPDATE campaigns SET state = ? WHERE id = ? AND state = ? AND NOT EXISTS "
                      "(SELECT 1 FROM targets WHERE campaign = ? AND (state = ? OR state = ?))",
                      (db_val[]){DB_I(SEAM_STORE_CAMPAIGN_DONE), DB_I(campaign),
                                 DB_I(SEAM_STORE_CAMPAIGN_RUNNING), DB_I(campaign),
                                 DB_I(SEAM_STORE_PENDING), DB_I(SEAM_STORE_RUNNING)},
                      6, NULL);
}

seam_err seam_store_target_finish(seam_store *store, int64_t campaign, const seam_store_id *cin,
                                  const char *owner, bool ok, const char *reason) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !text_ok(owner, SEAM_STORE_TEXT_MAX) ||
        (reason && !text_ok(reason, SEAM_STORE_TEXT_MAX)))
        return SEAM_ERR_ARG;
    if (!reason)
        reason = "";
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "UPDATE targets SET state = ?, reason = ? WHERE campaign = ? AND cin = ? "
                       "AND state = ? AND owner = ? RETURNING campaign",
                       (db_val[]){DB_I(ok ? SEAM_STORE_DONE : SEAM_STORE_FAILED),
                                  DB_T(ok ? "" : reason), DB_I(campaign), DB_ID(cin),
                                  DB_I(SEAM_STORE_RUNNING), DB_T(owner)},
                       6, &rows);
    if (!e && rows.rows != 1)
        e = SEAM_ERR_SERVER_CONFLICT;
    if (!e) {
        seam_store_event ev = {.cin = *cin, .campaign = campaign};
        snprintf(ev.kind, sizeof ev.kind, "%s", ok ? "done" : "failed");
        snprintf(ev.message, sizeof ev.message, "%s", reason);
        e = seam_store_event_add(store, &ev);
    }
    /* the campaign is done when nothing is left: asked after the commit (no lock on the
       campaign's row, so finishes on several servers do not take turns) */
    if (!e)
        store->settle_campaign = campaign;
    db_rows_free(&rows);
    return store_end(store, e);
}
