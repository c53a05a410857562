/*
 * What the operator's console reads from the store (docs/server.md, "Admin API"): a
 * campaign's totals, the whole store's health figures and a campaign's event log. Reads
 * only; rules in store.h.
 */
#include "server/store_int.h"

#include <stdlib.h>

/* The integer in row r, column c of rows, as a count (a negative one cannot come). */
static uint64_t count_at(const db_rows *rows, size_t r, size_t c) {
    int64_t v = db_at(rows, r, c)->i;
    return v > 0 ? (uint64_t)v : 0;
}

seam_err seam_store_campaign_totals_get(seam_store *store, int64_t id,
                                        seam_store_campaign_totals *out) {
    db_rows states = {0}, bytes = {0}, last = {0};
    if (!out)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    seam_err e = store_exec(store,
                            "SELECT c.created, (SELECT COALESCE(MAX(v.at), 0) FROM events v WHERE "
                            "v.campaign = c.id) FROM campaigns c WHERE c.id = ?",
                            (db_val[]){DB_I(id)}, 1, &last);
    if (!e && last.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        int64_t created = db_at(&last, 0, 0)->i, event = db_at(&last, 0, 1)->i;
        out->updated = event > created ? event : created;
        e = store_exec(store,
                       "SELECT state, COUNT(*) FROM targets WHERE campaign = ? GROUP BY state",
                       (db_val[]){DB_I(id)}, 1, &states);
    }
    for (size_t r = 0; !e && r < states.rows; r++) {
        uint64_t n = count_at(&states, r, 1);
        switch (db_at(&states, r, 0)->i) {
        case SEAM_STORE_PENDING:
            out->pending = n;
            break;
        case SEAM_STORE_RUNNING:
            out->running = n;
            break;
        case SEAM_STORE_DONE:
            out->done = n;
            break;
        case SEAM_STORE_FAILED:
            out->failed = n;
            break;
        default:
            break;
        }
    }
    /* every accounting row of a campaign is one of its targets' */
    if (!e)
        e = store_exec(
            store,
            "SELECT CAST(COALESCE(SUM(request), 0) AS BIGINT), "
            "CAST(COALESCE(SUM(response), 0) AS BIGINT), "
            "CAST(COALESCE(SUM(perso), 0) AS BIGINT) FROM byte_counts WHERE campaign = ?",
            (db_val[]){DB_I(id)}, 1, &bytes);
    if (!e && bytes.rows == 1) {
        out->bytes.request = count_at(&bytes, 0, 0);
        out->bytes.response = count_at(&bytes, 0, 1);
        out->bytes.perso = count_at(&bytes, 0, 2);
    }
    db_rows_free(&states);
    db_rows_free(&bytes);
    db_rows_free(&last);
    return e;
}

seam_err seam_store_health_get(seam_store *store, int64_t since, seam_store_health *out) {
    db_rows campaigns = {0}, targets = {0}, sessions = {0};
    if (!out)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    seam_err e = store_exec(store, "SELECT state, COUNT(*) FROM campaigns GROUP BY state", NULL, 0,
                            &campaigns);
    for (size_t r = 0; !e && r < campaigns.rows; r++) {
        int64_t state = db_at(&campaigns, r, 0)->i;
        if (state >= SEAM_STORE_CAMPAIGN_CREATED && state <= SEAM_STORE_CAMPAIGN_PAUSED)
            out->campaigns[state] = count_at(&campaigns, r, 1);
    }
    if (!e)
        e = store_exec(store,
                       "SELECT c.state, t.state, COUNT(*) FROM targets t JOIN campaigns c ON "
                       "c.id = t.campaign WHERE c.state IN (?, ?) AND t.state IN (?, ?) "
                       "GROUP BY c.state, t.state",
                       (db_val[]){DB_I(SEAM_STORE_CAMPAIGN_RUNNING),
                                  DB_I(SEAM_STORE_CAMPAIGN_PAUSED), DB_I(SEAM_STORE_PENDING),
                                  DB_I(SEAM_STORE_RUNNING)},
                       4, &targets);
    for (size_t r = 0; !e && r < targets.rows; r++) {
        int64_t campaign = db_at(&targets, r, 0)->i, target = db_at(&targets, r, 1)->i;
        uint64_t n = count_at(&targets, r, 2);
        if (campaign == SEAM_STORE_CAMPAIGN_RUNNING && target == SEAM_STORE_PENDING)
            out->pending = n;
        else if (campaign == SEAM_STORE_CAMPAIGN_RUNNING && target == SEAM_STORE_RUNNING)
            out->running = n;
        else if (campaign == SEAM_STORE_CAMPAIGN_PAUSED && target == SEAM_STORE_PENDING)
            out->paused = n;
    }
    if (!e)
        e = store_exec(store, "SELECT COUNT(*) FROM sessions WHERE created >= ?",
                       (db_val[]){DB_I(since)}, 1, &sessions);
    if (!e && sessions.rows == 1)
        out->sessions_since = count_at(&sessions, 0, 0);
    db_rows_free(&campaigns);
    db_rows_free(&targets);
    db_rows_free(&sessions);
    return e;
}

seam_err seam_store_campaign_events(seam_store *store, int64_t id, seam_store_event **items,
                                    size_t *count) {
    db_rows rows = {0};
    if (!items || !count)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT id, cin, campaign, at, kind, message FROM events WHERE "
                            "campaign = ? ORDER BY id",
                            (db_val[]){DB_I(id)}, 1, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        seam_store_event *ev = &(*items)[r];
        ev->id = db_at(&rows, r, 0)->i;
        store_id_from(&ev->cin, db_at(&rows, r, 1));
        ev->campaign = db_at(&rows, r, 2)->i;
        ev->at = db_at(&rows, r, 3)->i;
        store_text_from(ev->kind, sizeof ev->kind, db_at(&rows, r, 4));
        store_text_from(ev->message, sizeof ev->message, db_at(&rows, r, 5));
    }
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}
