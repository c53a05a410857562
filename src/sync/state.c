/*
 * A peer's sync state as bytes (docs/sync.md "Over HTTP"): the anchors of
 * (peer, uri) and the two bases the server keeps for that peer (the base as of
 * the last sync, and the one before it, for a client that never committed the
 * last reply). A server that keeps its copies elsewhere (seam server's store)
 * loads them into a database, imports the state, serves, and exports it back.
 *
 * Form (big-endian): "SST1", found (1 byte: 0 or 1), own_last, peer_last,
 * prev_peer_last (each 1 length byte and that many bytes), counter (8 bytes),
 * then two sections, the base and the previous base, each a record count (4
 * bytes) and per record: key (1 length byte, bytes), content in uri's text form
 * (2 length bytes, bytes; seam_sync_record_format), in key order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_track.h"

#define STATE_MAGIC "SST1"

typedef struct {
    uint8_t *p;
    size_t len, cap;
} out_buf;

static seam_err put(out_buf *b, const void *p, size_t n) {
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *grown = realloc(b->p, cap);
        if (!grown)
            return SEAM_ERR_NOMEM;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return SEAM_OK;
}

static seam_err put_short(out_buf *b, const char *s) {
    uint8_t n = (uint8_t)strlen(s);
    seam_err err = put(b, &n, 1);
    return err ? err : put(b, s, n);
}

static seam_err export_base(seam_sync_db *db, const sync_table *t, const char *peer, out_buf *b) {
    char sql[200];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "SELECT %s FROM main.base_%s WHERE peer = ? ORDER BY key", t->columns,
             t->table);
    size_t count_at = b->len;
    uint8_t zero[4] = {0};
    seam_err err = put(b, zero, 4);
    if (!err)
        err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    uint32_t count = 0;
    seam_sync_record rec;
    char text[SEAM_SYNC_TEXT_MAX + 1];
    int rc;
    while (!err && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        size_t n = 0;
        sync_read_record(stmt, 0, t, &rec);
        err = seam_sync_record_format(t->uri, &rec, text, sizeof text, &n);
        uint8_t klen = (uint8_t)strlen(rec.key), tlen[2] = {(uint8_t)(n >> 8), (uint8_t)n};
        if (!err)
            err = put(b, &klen, 1);
        if (!err)
            err = put(b, rec.key, klen);
        if (!err)
            err = put(b, tlen, 2);
        if (!err)
            err = put(b, text, n);
        count++;
    }
    sqlite3_reset(stmt);
    if (!err && rc != SQLITE_DONE)
        err = sync_failed(db, "state export");
    for (int i = 0; i < 4; i++)
        b->p[count_at + (size_t)i] = (uint8_t)(count >> (24 - 8 * i));
    return err;
}

seam_err seam_sync_state_export(seam_sync_db *db, const char *peer, const char *uri, uint8_t **out,
                                size_t *out_len) {
    if (!db || !peer || !out || !out_len || !*peer || strlen(peer) > SEAM_SYNC_PEER_MAX)
        return SEAM_ERR_ARG;
    const sync_table *t = sync_table_named(uri);
    if (!t)
        return SEAM_ERR_SYNC_URI;
    sync_anchor a;
    out_buf b = {0};
    char prev[SYNC_PREV_NAME_MAX];
    sync_prev_name(peer, prev);
    seam_err err = sync_anchor_load(db, peer, t->uri, &a);
    uint8_t found = a.found, counter[8];
    for (int i = 0; i < 8; i++)
        counter[i] = (uint8_t)((uint64_t)a.counter >> (56 - 8 * i));
    if (!err)
        err = put(&b, STATE_MAGIC, 4);
    if (!err)
        err = put(&b, &found, 1);
    if (!err)
        err = put_short(&b, a.own_last);
    if (!err)
        err = put_short(&b, a.peer_last);
    if (!err)
        err = put_short(&b, a.prev_peer_last);
    if (!err)
        err = put(&b, counter, 8);
    if (!err)
        err = export_base(db, t, peer, &b);
    if (!err)
        err = export_base(db, t, prev, &b);
    if (err) {
        free(b.p);
        return err;
    }
    *out = b.p;
    *out_len = b.len;
    return SEAM_OK;
}

/* ---- import ---- */

typedef struct {
    const uint8_t *p;
    size_t len, at;
} in_buf;

static bool take(in_buf *in, size_t n, const uint8_t **p) {
    if (n > in->len - in->at)
        return false;
    *p = in->p + in->at;
    in->at += n;
    return true;
}

/* A short string (1 length byte) of at most max bytes, printable ASCII, into out. */
static bool take_short(in_buf *in, char *out, size_t max) {
    const uint8_t *n, *p;
    if (!take(in, 1, &n) || *n > max || !take(in, *n, &p))
        return false;
    for (size_t i = 0; i < *n; i++)
        if (p[i] < 0x21 || p[i] > 0x7E)
            return false;
    memcpy(out, p, *n);
    out[*n] = 0;
    return true;
}

static seam_err import_base(seam_sync_db *db, const sync_table *t, const char *peer, in_buf *in) {
    char sql[200];
    sqlite3_stmt *stmt;
    const uint8_t *c;
    if (!take(in, 4, &c))
        return SEAM_ERR_SYNC_FRAME;
    uint32_t count = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
    if (count > SEAM_SYNC_RECORDS_MAX)
        return SEAM_ERR_SYNC_FRAME;
    snprintf(sql, sizeof sql, "INSERT INTO main.base_%s (peer, %s) VALUES (?, ?, ?%s)", t->table,
             t->columns, t->ncols == 5 ? ", ?, ?, ?" : "");
    seam_err err = sync_prepare(db, sql, &stmt);
    seam_sync_record rec;
    for (uint32_t i = 0; !err && i < count; i++) {
        const uint8_t *n, *p;
        memset(&rec, 0, sizeof rec);
        if (!take(in, 1, &n) || *n == 0 || *n > SEAM_SYNC_KEY_MAX || !take(in, *n, &p)) {
            err = SEAM_ERR_SYNC_FRAME;
            break;
        }
        memcpy(rec.key, p, *n);
        if (memchr(rec.key, 0, *n) || !take(in, 2, &n) || !take(in, (size_t)n[0] << 8 | n[1], &p)) {
            err = SEAM_ERR_SYNC_FRAME;
            break;
        }
        err = seam_sync_record_parse(t->uri, (const char *)p, (size_t)n[0] << 8 | n[1], &rec);
        if (err)
            break;
        sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
        sync_bind_record(stmt, 2, t, &rec);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc == SQLITE_CONSTRAINT)
            err = SEAM_ERR_SYNC_FRAME; /* a key twice */
        else if (rc != SQLITE_DONE)
            err = sync_failed(db, "state import");
    }
    return err;
}

static seam_err clear_peer(seam_sync_db *db, const sync_table *t, const char *peer,
                           const char *prev) {
    char sql[160];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "DELETE FROM main.base_%s WHERE peer = ? OR peer = ?", t->table);
    seam_err err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, prev, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return sync_failed(db, "state import");
    if ((err = sync_prepare(db, "DELETE FROM main.anchors WHERE peer = ? AND uri = ?", &stmt)))
        return err;
    sqlite3_bind_text(stmt, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, t->uri, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "state import");
}

seam_err seam_sync_state_import(seam_sync_db *db, const char *peer, const char *uri,
                                const uint8_t *in, size_t len) {
    if (!db || !peer || (!in && len) || !*peer || strlen(peer) > SEAM_SYNC_PEER_MAX)
        return SEAM_ERR_ARG;
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    char prev[SYNC_PREV_NAME_MAX];
    sync_prev_name(peer, prev);
    in_buf b = {in, len, 0};
    const uint8_t *p;
    sync_anchor a;
    memset(&a, 0, sizeof a);
    err = sync_begin(db);
    if (err)
        return err;
    err = clear_peer(db, t, peer, prev);
    if (!err && len) {
        if (!take(&b, 4, &p) || memcmp(p, STATE_MAGIC, 4) || !take(&b, 1, &p) || *p > 1)
            err = SEAM_ERR_SYNC_FRAME;
        a.found = !err && *p == 1;
        if (!err && (!take_short(&b, a.own_last, SEAM_SYNC_ANCHOR_MAX) ||
                     !take_short(&b, a.peer_last, SEAM_SYNC_ANCHOR_MAX) ||
                     !take_short(&b, a.prev_peer_last, SEAM_SYNC_ANCHOR_MAX) || !take(&b, 8, &p)))
            err = SEAM_ERR_SYNC_FRAME;
        for (int i = 0; !err && i < 8; i++)
            a.counter = (int64_t)((uint64_t)a.counter << 8 | p[i]);
        if (!err)
            err = import_base(db, t, peer, &b);
        if (!err)
            err = import_base(db, t, prev, &b);
        if (!err && b.at != b.len)
            err = SEAM_ERR_SYNC_FRAME; /* trailing bytes */
        if (!err && a.found)
            err = sync_anchor_store(db, peer, t->uri, &a);
    }
    if (!err)
        err = sync_commit(db);
    if (err)
        sync_rollback(db);
    return err;
}
