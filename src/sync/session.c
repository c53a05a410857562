/*
 * A sync session driven by another protocol's engine (OMA DS, the syncml
 * layer): the database's write transaction from begin to commit or free, the
 * changes since the base of (peer, uri), record changes that move the
 * working copy of the base with them, and a commit that moves the base and
 * the anchors in the same transaction as the records (docs/sync.md "OMA DS").
 *
 * States: OPEN (BEGIN IMMEDIATE held; temp.<table> is the base of (peer, uri)
 * plus every change applied in the session) -> COMMITTED, or -> ROLLED BACK
 * (seam_sync_session_free before the commit, or a failed commit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_track.h"

struct seam_sync_session {
    seam_sync_db *db;
    const sync_table *t;
    char peer[SEAM_SYNC_PEER_MAX + 1];
    sync_anchor anchor;
    bool open;
};

seam_err seam_sync_session_begin(seam_sync_db *db, const char *peer, const char *uri,
                                 seam_sync_session **out) {
    if (!db || !out || !sync_peer_ok(peer))
        return SEAM_ERR_ARG;
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    seam_sync_session *s = calloc(1, sizeof *s);
    if (!s)
        return SEAM_ERR_NOMEM;
    s->db = db;
    s->t = t;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    err = sync_begin(db);
    if (!err)
        err = sync_anchor_load(db, peer, t->uri, &s->anchor);
    if (!err)
        err = sync_work_load(db, t, peer, !s->anchor.found);
    if (err) {
        sync_rollback(db);
        free(s);
        return err;
    }
    db->in_sync = true;
    s->open = true;
    *out = s;
    return SEAM_OK;
}

void seam_sync_session_anchor(const seam_sync_session *s, char last[SEAM_SYNC_ANCHOR_MAX + 1]) {
    snprintf(last, SEAM_SYNC_ANCHOR_MAX + 1, "%s", s->anchor.own_last);
}

void seam_sync_session_next_anchor(const seam_sync_session *s,
                                   char next[SEAM_SYNC_ANCHOR_MAX + 1]) {
    /* counter and a random part: never the anchor of a session that was rolled back */
    uint32_t r = 0;
    sqlite3_randomness(sizeof r, &r);
    snprintf(next, SEAM_SYNC_ANCHOR_MAX + 1, "%" PRId64 "-%08" PRIx32, s->anchor.counter + 1, r);
}

typedef struct {
    int (*each)(void *ctx, seam_sync_op op, const seam_sync_record *rec);
    void *ctx;
} all_walk;

static int each_added(void *ctx, const seam_sync_record *rec) {
    all_walk *w = ctx;
    return w->each(w->ctx, SEAM_SYNC_ADDED, rec);
}

/* Walks main.<table> in key order (seam_sync_list refuses while a sync holds the database). */
static seam_err walk_all(seam_sync_session *s, all_walk *w) {
    char sql[160];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "SELECT %s FROM main.%s ORDER BY key", s->t->columns, s->t->table);
    seam_err err = sync_prepare(s->db, sql, &stmt);
    if (err)
        return err;
    int rc;
    seam_sync_record rec;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sync_read_record(stmt, 0, s->t, &rec);
        if (each_added(w, &rec))
            break;
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SEAM_OK : sync_failed(s->db, "records");
}

seam_err seam_sync_session_changes(seam_sync_session *s, bool all,
                                   int (*each)(void *ctx, seam_sync_op op,
                                               const seam_sync_record *rec),
                                   void *ctx) {
    if (!s || !s->open || !each)
        return SEAM_ERR_ARG;
    all_walk w = {each, ctx};
    if (all)
        return walk_all(s, &w);
    return sync_diff_each(s->db, s->t, each, ctx);
}

seam_err seam_sync_session_get(seam_sync_session *s, const char *key, seam_sync_record *out) {
    if (!s || !s->open || !key || !out)
        return SEAM_ERR_ARG;
    return sync_load(s->db, "main", s->t, key, out);
}

seam_err seam_sync_session_put(seam_sync_session *s, const seam_sync_record *rec) {
    if (!s || !s->open || !rec)
        return SEAM_ERR_ARG;
    seam_err err = seam_sync_record_check(s->t->uri, rec);
    if (!err)
        err = sync_store(s->db, "main", s->t, rec->key, rec);
    if (!err) /* what the peer holds now: the base moves with it */
        err = sync_store(s->db, "temp", s->t, rec->key, rec);
    return err;
}

seam_err seam_sync_session_delete(seam_sync_session *s, const char *key) {
    seam_sync_record rec;
    if (!s || !s->open || !key)
        return SEAM_ERR_ARG;
    seam_err err = sync_load(s->db, "main", s->t, key, &rec);
    if (!err)
        err = sync_store(s->db, "main", s->t, key, NULL);
    if (!err)
        err = sync_store(s->db, "temp", s->t, key, NULL);
    return err;
}

seam_err seam_sync_session_wipe(seam_sync_session *s) {
    char sql[96];
    if (!s || !s->open)
        return SEAM_ERR_ARG;
    snprintf(sql, sizeof sql, "DELETE FROM main.%s; DELETE FROM temp.%s", s->t->table, s->t->table);
    return sync_exec(s->db, sql);
}

seam_err seam_sync_session_commit(seam_sync_session *s, const char *anchor, bool sent) {
    if (!s || !s->open || !anchor || strlen(anchor) > SEAM_SYNC_ANCHOR_MAX)
        return SEAM_ERR_ARG;
    size_t count = 0;
    seam_err err = sync_count_in(s->db, "main", s->t, &count);
    if (!err && count > SEAM_SYNC_RECORDS_MAX)
        err = SEAM_ERR_SYNC_FULL;
    /* Sent: this side's changes reached the peer, which now holds exactly these records.
       Not sent (one-way or refresh from the peer): the base is the old one with what came. */
    if (!err)
        err = sync_base_set(s->db, s->t, s->peer, sent ? "main" : "temp");
    if (!err) {
        snprintf(s->anchor.own_last, sizeof s->anchor.own_last, "%s", anchor);
        s->anchor.counter++;
        err = sync_anchor_store(s->db, s->peer, s->t->uri, &s->anchor);
    }
    if (!err)
        err = sync_commit(s->db);
    if (err)
        sync_rollback(s->db);
    s->open = false;
    s->db->in_sync = false;
    return err;
}

void seam_sync_session_free(seam_sync_session *s) {
    if (!s)
        return;
    if (s->open) {
        sync_rollback(s->db);
        s->db->in_sync = false;
    }
    free(s);
}

bool seam_sync_client_wins(const char *uri, const seam_sync_record *client,
                           const seam_sync_record *server) {
    const sync_table *t = sync_table_named(uri);
    return t && sync_client_wins(t, client, server);
}
