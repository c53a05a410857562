/*
 * Change tracking per peer (S6): the base of (peer, database) is the records
 * as of the last successful sync with that peer, kept in main.base_<table>,
 * so that it moves in the same transaction as the records and the anchors.
 * A sync works on a copy of a base in temp.<table> (the working copy, same
 * columns and PRIMARY KEY as main.<table>); sqlite3session_diff between the
 * working copy and main gives the changes as a patchset (cat_sync.md Part C).
 *
 * The conflict policy (docs/sync.md, common to both protocols) is
 * sync_client_wins() below; sync_merge applies a peer's changes to main under it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"
#include "sync_track.h"

static bool all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int sync_version_compare(const char *a, const char *b) {
    while (*a || *b) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        const char *sa = na ? a : "0", *sb = nb ? b : "0";
        size_t la = na ? na : 1, lb = nb ? nb : 1;
        int c;
        if (all_digits(sa, la) && all_digits(sb, lb)) { /* as numbers: "10" > "9" */
            for (; la > 1 && *sa == '0'; sa++, la--) {
            }
            for (; lb > 1 && *sb == '0'; sb++, lb--) {
            }
            c = la != lb ? (la < lb ? -1 : 1) : memcmp(sa, sb, la);
        } else {
            c = memcmp(sa, sb, la < lb ? la : lb);
            if (c == 0)
                c = (la > lb) - (la < lb);
        }
        if (c)
            return c < 0 ? -1 : 1;
        a += na + (a[na] == '.');
        b += nb + (b[nb] == '.');
    }
    return 0;
}

/* The conflict policy: both sides changed the record since the last sync.
 * NULL is a deleted record. In ./card a fact (not a param. key) is the card's:
 * the client's wins, a delete too. Else a modify wins against a delete; in
 * ./devinfo and ./card's parameters the client (the terminal, where the user set
 * it) wins; in ./apps the higher version wins and a tie goes to the server. */
bool seam_sync_card_key_writable(const char *key) {
    return key && !strncmp(key, SEAM_SYNC_CARD_PARAM, strlen(SEAM_SYNC_CARD_PARAM));
}

bool sync_card_fact(const sync_table *t, const char *key) {
    return !strcmp(t->uri, SEAM_SYNC_CARD) && !seam_sync_card_key_writable(key);
}

bool sync_client_wins(const sync_table *t, const seam_sync_record *client,
                      const seam_sync_record *server) {
    const char *key = client ? client->key : server ? server->key : NULL;
    if (key && sync_card_fact(t, key))
        return true; /* ./card: the card's facts (the client read them) always win */
    if (!client || !server)
        return client != NULL;
    if (t->ncols == 2)
        return true;
    return sync_version_compare(client->version, server->version) > 0;
}

seam_err sync_work_load(seam_sync_db *db, const sync_table *t, const char *peer, bool empty) {
    char sql[320];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE IF NOT EXISTS %s (%s); DELETE FROM temp.%s",
             t->table, t->decl, t->table);
    seam_err err = sync_exec(db, sql);
    if (err || empty)
        return err;
    snprintf(sql, sizeof sql, "INSERT INTO temp.%s (%s) SELECT %s FROM main.base_%s WHERE peer = ?",
             t->table, t->columns, t->columns, t->table);
    if ((err = sync_prepare(db, sql, &stmt)) != SEAM_OK)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "working copy");
}

seam_err sync_copy_table(seam_sync_db *db, const sync_table *t, const char *from, const char *to) {
    char sql[320];
    snprintf(sql, sizeof sql, "DELETE FROM %s.%s; INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s", to,
             t->table, to, t->table, t->columns, t->columns, from, t->table);
    return sync_exec(db, sql);
}

/* Deletes the base rows of peer. */
static seam_err base_clear(seam_sync_db *db, const sync_table *t, const char *peer) {
    char sql[80];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "DELETE FROM main.base_%s WHERE peer = ?", t->table);
    seam_err err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "base");
}

seam_err sync_base_set(seam_sync_db *db, const sync_table *t, const char *peer, const char *from) {
    char sql[320];
    sqlite3_stmt *stmt;
    int rc;
    seam_err err = base_clear(db, t, peer);
    if (err)
        return err;
    snprintf(sql, sizeof sql, "INSERT INTO main.base_%s (peer, %s) SELECT ?, %s FROM %s.%s",
             t->table, t->columns, t->columns, from, t->table);
    if ((err = sync_prepare(db, sql, &stmt)) != SEAM_OK)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "base");
}

/* Copies the base rows of peer `from` to peer `to` (replacing to's). */
static seam_err base_copy(seam_sync_db *db, const sync_table *t, const char *from, const char *to) {
    char sql[320];
    sqlite3_stmt *stmt;
    int rc;
    seam_err err = base_clear(db, t, to);
    if (err)
        return err;
    snprintf(sql, sizeof sql,
             "INSERT INTO main.base_%s (peer, %s) SELECT ?, %s FROM main.base_%s WHERE peer = ?",
             t->table, t->columns, t->columns, t->table);
    if ((err = sync_prepare(db, sql, &stmt)) != SEAM_OK)
        return err;
    sqlite3_bind_text(stmt, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "base");
}

void sync_prev_name(const char *peer, char out[SYNC_PREV_NAME_MAX]) {
    snprintf(out, SYNC_PREV_NAME_MAX, " prev %s", peer);
}

seam_err sync_base_keep_prev(seam_sync_db *db, const sync_table *t, const char *peer) {
    char prev[SYNC_PREV_NAME_MAX];
    sync_prev_name(peer, prev);
    return base_copy(db, t, peer, prev);
}

seam_err sync_base_restore_prev(seam_sync_db *db, const sync_table *t, const char *peer) {
    char prev[SYNC_PREV_NAME_MAX];
    sync_prev_name(peer, prev);
    return base_copy(db, t, prev, peer);
}

seam_err sync_diff(seam_sync_db *db, const sync_table *t, bool patchset, sync_changes *out) {
    sqlite3_session *session = NULL;
    char *why = NULL;
    memset(out, 0, sizeof *out);
    int rc = sqlite3session_create(db->sql, "main", &session);
    if (rc == SQLITE_OK)
        rc = sqlite3session_attach(session, t->table);
    if (rc == SQLITE_OK)
        rc = sqlite3session_diff(session, "temp", t->table, &why);
    if (rc == SQLITE_OK)
        rc = patchset ? sqlite3session_patchset(session, &out->len, (void **)&out->bytes)
                      : sqlite3session_changeset(session, &out->len, (void **)&out->bytes);
    if (session)
        sqlite3session_delete(session);
    if (rc != SQLITE_OK) {
        seam_log(SEAM_LOG_ERROR, "sync: diff of %s: %s", t->table, why ? why : sqlite3_errstr(rc));
        sqlite3_free(why);
        sqlite3_free(out->bytes);
        memset(out, 0, sizeof *out);
        return rc == SQLITE_NOMEM ? SEAM_ERR_NOMEM : SEAM_ERR_SYNC_DB;
    }
    sqlite3_free(why);
    sqlite3_changeset_iter *it;
    if (out->len && sqlite3changeset_start(&it, out->len, out->bytes) == SQLITE_OK) {
        while (sqlite3changeset_next(it) == SQLITE_ROW)
            out->count++;
        sqlite3changeset_finalize(it);
    }
    return SEAM_OK;
}

void sync_changes_free(sync_changes *c) {
    sqlite3_free(c->bytes);
    memset(c, 0, sizeof *c);
}

/* The key and the op of the iterator's change; the key is checked. */
static seam_err change_key(sqlite3_changeset_iter *it, const sync_table *t, int *op,
                           seam_sync_record *rec) {
    const char *table;
    int ncols, indirect;
    sqlite3_value *v = NULL;
    if (sqlite3changeset_op(it, &table, &ncols, op, &indirect) != SQLITE_OK ||
        strcmp(table, t->table) || ncols != t->ncols)
        return SEAM_ERR_SYNC_CHANGESET;
    if (*op == SQLITE_INSERT)
        sqlite3changeset_new(it, 0, &v);
    else
        sqlite3changeset_old(it, 0, &v);
    if (!v)
        return SEAM_ERR_SYNC_CHANGESET;
    memset(rec, 0, sizeof *rec);
    return sync_record_set(t, 0, v, rec);
}

seam_err sync_diff_each(seam_sync_db *db, const sync_table *t,
                        int (*each)(void *ctx, seam_sync_op op, const seam_sync_record *rec),
                        void *ctx) {
    sync_changes changes = {0};
    sqlite3_changeset_iter *it;
    seam_sync_record rec;
    int op;
    seam_err err = sync_diff(db, t, true, &changes);
    if (err || !changes.len) {
        sync_changes_free(&changes);
        return err;
    }
    if (sqlite3changeset_start(&it, changes.len, changes.bytes) != SQLITE_OK) {
        sync_changes_free(&changes);
        return SEAM_ERR_SYNC_DB;
    }
    while (!err && sqlite3changeset_next(it) == SQLITE_ROW) {
        if ((err = change_key(it, t, &op, &rec)) != SEAM_OK)
            break;
        if (op != SQLITE_DELETE && (err = sync_load(db, "main", t, rec.key, &rec)))
            break;
        if (each(ctx,
                 op == SQLITE_INSERT   ? SEAM_SYNC_ADDED
                 : op == SQLITE_UPDATE ? SEAM_SYNC_REPLACED
                                       : SEAM_SYNC_DELETED,
                 &rec))
            break;
    }
    sqlite3changeset_finalize(it);
    sync_changes_free(&changes);
    return err;
}

seam_err sync_apply_to(seam_sync_db *db, const sync_table *t, const char *schema_name,
                       const uint8_t *bytes, int len) {
    sqlite3_changeset_iter *it;
    seam_sync_record rec;
    seam_err err = SEAM_OK;
    int op, rc;
    if (len == 0)
        return SEAM_OK;
    if (sqlite3changeset_start(&it, len, (void *)bytes) != SQLITE_OK)
        return SEAM_ERR_SYNC_CHANGESET;
    while (!err && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
        if ((err = change_key(it, t, &op, &rec)) != SEAM_OK)
            break;
        char key[SEAM_SYNC_KEY_MAX + 1];
        memcpy(key, rec.key, sizeof key);
        seam_err present = sync_load(db, schema_name, t, key, &rec);
        if (present != SEAM_OK && present != SEAM_ERR_NOT_FOUND) {
            err = present;
            break;
        }
        /* An insert over a record, or a change of a missing one: not this state's changes. */
        if ((op == SQLITE_INSERT) == (present == SEAM_OK)) {
            err = SEAM_ERR_SYNC_MISMATCH;
            break;
        }
        if (op == SQLITE_DELETE) {
            err = sync_store(db, schema_name, t, key, NULL);
            continue;
        }
        if (op == SQLITE_INSERT)
            memset(&rec, 0, sizeof rec);
        for (int col = 1; col < t->ncols && !err; col++) {
            sqlite3_value *v = NULL;
            sqlite3changeset_new(it, col, &v);
            if (v)
                err = sync_record_set(t, col, v, &rec);
            else if (op == SQLITE_INSERT)
                err = SEAM_ERR_SYNC_CHANGESET;
        }
        memcpy(rec.key, key, sizeof key);
        if (!err)
            err = sync_store(db, schema_name, t, key, &rec);
    }
    if (!err && rc != SQLITE_DONE)
        err = SEAM_ERR_SYNC_CHANGESET;
    sqlite3changeset_finalize(it);
    return err;
}

/* Loads the base record key of (peer, t); SEAM_ERR_NOT_FOUND when absent. */
static seam_err base_load(seam_sync_db *db, const sync_table *t, const char *peer, const char *key,
                          seam_sync_record *out) {
    char sql[200];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "SELECT %s FROM main.base_%s WHERE peer = ? AND key = ?", t->columns,
             t->table);
    seam_err err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        sync_read_record(stmt, 0, t, out);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return SEAM_OK;
    return rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : sync_failed(db, "base");
}

/* *found = the record exists in schema.t (loaded into rec). */
static seam_err load_opt(seam_err err, bool *found) {
    *found = err == SEAM_OK;
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

static bool same(const sync_table *t, bool has_a, const seam_sync_record *a, bool has_b,
                 const seam_sync_record *b) {
    return has_a == has_b && (!has_a || sync_record_equal(t, a, b));
}

seam_err sync_merge(seam_sync_db *db, const sync_table *t, const char *peer, bool remote_is_client,
                    bool slow, const uint8_t *bytes, int len, sync_merge_counts *counts) {
    sqlite3_changeset_iter *it;
    seam_sync_record remote, local, base;
    seam_err err;
    int op, rc;
    memset(counts, 0, sizeof *counts);
    /* The working copy becomes the peer's state: its base (or nothing) and its changes. */
    if ((err = sync_apply_to(db, t, "temp", bytes, len)) != SEAM_OK || len == 0)
        return err;
    if (sqlite3changeset_start(&it, len, (void *)bytes) != SQLITE_OK)
        return SEAM_ERR_SYNC_CHANGESET;
    while (!err && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
        bool has_remote, has_local, has_base = false;
        char key[SEAM_SYNC_KEY_MAX + 1];
        if ((err = change_key(it, t, &op, &remote)) != SEAM_OK)
            break;
        memcpy(key, remote.key, sizeof key);
        if ((err = load_opt(sync_load(db, "temp", t, key, &remote), &has_remote)) ||
            (err = load_opt(sync_load(db, "main", t, key, &local), &has_local)))
            break;
        if (!slow && (err = load_opt(base_load(db, t, peer, key, &base), &has_base)))
            break;
        /* Changed here too since the last sync? In a slow sync there is no base: any
         * difference is a conflict, and a record only the peer has is simply added. */
        bool local_changed = slow ? has_local : !same(t, has_local, &local, has_base, &base);
        bool take_remote = true;
        if (local_changed) {
            if (same(t, has_local, &local, has_remote, &remote))
                continue; /* both made the same change */
            bool client = sync_client_wins(
                t, remote_is_client ? (has_remote ? &remote : NULL) : (has_local ? &local : NULL),
                remote_is_client ? (has_local ? &local : NULL) : (has_remote ? &remote : NULL));
            take_remote = client == remote_is_client;
            if (client)
                counts->conflicts_client++;
            else
                counts->conflicts_server++;
        }
        if (take_remote) {
            err = sync_store(db, "main", t, key, has_remote ? &remote : NULL);
            counts->applied++;
        }
    }
    if (!err && rc != SQLITE_DONE)
        err = SEAM_ERR_SYNC_CHANGESET;
    sqlite3changeset_finalize(it);
    return err;
}

/* sync_card_facts_follow's walk: one change of main against the client's state. */
typedef struct {
    seam_sync_db *db;
    const sync_table *t;
    sync_merge_counts *counts;
    seam_err err;
} facts_walk;

static int fact_back(void *ctx, seam_sync_op op, const seam_sync_record *rec) {
    facts_walk *w = ctx;
    seam_sync_record client;
    bool has_client;
    (void)op;
    if (!sync_card_fact(w->t, rec->key))
        return 0;
    w->err = load_opt(sync_load(w->db, "temp", w->t, rec->key, &client), &has_client);
    if (!w->err)
        w->err = sync_store(w->db, "main", w->t, rec->key, has_client ? &client : NULL);
    if (!w->err)
        w->counts->conflicts_client++;
    return w->err != SEAM_OK;
}

seam_err sync_card_facts_follow(seam_sync_db *db, const sync_table *t, sync_merge_counts *counts) {
    facts_walk w = {db, t, counts, SEAM_OK};
    if (strcmp(t->uri, SEAM_SYNC_CARD))
        return SEAM_OK;
    seam_err err = sync_diff_each(db, t, fact_back, &w);
    return err ? err : w.err;
}

seam_err sync_anchor_load(seam_sync_db *db, const char *peer, const char *uri, sync_anchor *out) {
    sqlite3_stmt *stmt;
    memset(out, 0, sizeof *out);
    seam_err err =
        sync_prepare(db,
                     "SELECT own_last, peer_last, prev_peer_last, counter FROM main.anchors"
                     " WHERE peer = ? AND uri = ?",
                     &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, uri, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->found = true;
        snprintf(out->own_last, sizeof out->own_last, "%s",
                 (const char *)sqlite3_column_text(stmt, 0));
        snprintf(out->peer_last, sizeof out->peer_last, "%s",
                 (const char *)sqlite3_column_text(stmt, 1));
        snprintf(out->prev_peer_last, sizeof out->prev_peer_last, "%s",
                 (const char *)sqlite3_column_text(stmt, 2));
        out->counter = sqlite3_column_int64(stmt, 3);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "anchors");
}

seam_err sync_anchor_store(seam_sync_db *db, const char *peer, const char *uri,
                           const sync_anchor *a) {
    sqlite3_stmt *stmt;
    seam_err err = sync_prepare(db,
                                "INSERT OR REPLACE INTO main.anchors (peer, uri, own_last, "
                                "peer_last, prev_peer_last, counter) VALUES (?, ?, ?, ?, ?, ?)",
                                &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, uri, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, a->own_last, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, a->peer_last, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, a->prev_peer_last, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, a->counter);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "anchors");
}

seam_err seam_sync_anchors(seam_sync_db *db, const char *peer, const char *uri,
                           char own_last[SEAM_SYNC_ANCHOR_MAX + 1],
                           char peer_last[SEAM_SYNC_ANCHOR_MAX + 1]) {
    sync_anchor a;
    if (!db || !peer || !own_last || !peer_last)
        return SEAM_ERR_ARG;
    if (!sync_table_named(uri))
        return SEAM_ERR_SYNC_URI;
    seam_err err = sync_anchor_load(db, peer, uri, &a);
    if (!err) {
        memcpy(own_last, a.own_last, sizeof a.own_last);
        memcpy(peer_last, a.peer_last, sizeof a.peer_last);
    }
    return err;
}

seam_err seam_sync_changes(seam_sync_db *db, const char *peer, const char *uri,
                           int (*each)(void *ctx, seam_sync_op op, const seam_sync_record *rec),
                           void *ctx) {
    const sync_table *t;
    sync_anchor a;
    if (!peer || !each)
        return SEAM_ERR_ARG;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    err = sync_begin(db);
    if (!err)
        err = sync_anchor_load(db, peer, uri, &a);
    if (!err)
        err = sync_work_load(db, t, peer, !a.found);
    if (!err)
        err = sync_diff_each(db, t, each, ctx);
    sync_rollback(db); /* read only: the working copy is scratch */
    return err;
}
