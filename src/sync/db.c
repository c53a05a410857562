/*
 * The device-management database (S6): one SQLite file, WAL and
 * synchronous=FULL, holding the records of ./devinfo, ./apps and ./card, and per peer
 * the base (the records as of the last successful sync, tables base_*) and
 * the anchors. Every change is one transaction (BEGIN IMMEDIATE .. COMMIT; X4),
 * so a call that returned SEAM_OK survives a kill -9. The record tables have
 * explicit PRIMARY KEYs so that the session extension can track them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/util.h"
#include "sync_int.h"

static const sync_table tables[] = {
    {SEAM_SYNC_DEVINFO, "devinfo", 2, "key, value",
     "key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL"},
    {SEAM_SYNC_APPS, "apps", 5, "key, kind, name, version, size",
     "key TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, "
     "version TEXT NOT NULL, size INTEGER NOT NULL"},
    {SEAM_SYNC_CARD, "card", 2, "key, value", "key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL"},
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS devinfo (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS apps (key TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL,"
    " name TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS base_devinfo (peer TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (peer, key));"
    "CREATE TABLE IF NOT EXISTS base_apps (peer TEXT NOT NULL, key TEXT NOT NULL,"
    " kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL,"
    " PRIMARY KEY (peer, key));"
    "CREATE TABLE IF NOT EXISTS card (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS base_card (peer TEXT NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (peer, key));"
    "CREATE TABLE IF NOT EXISTS anchors (peer TEXT NOT NULL, uri TEXT NOT NULL,"
    " own_last TEXT NOT NULL, peer_last TEXT NOT NULL, prev_peer_last TEXT NOT NULL,"
    " counter INTEGER NOT NULL, PRIMARY KEY (peer, uri));";

const sync_table *sync_table_of(const char *uri, size_t len) {
    for (size_t i = 0; uri && i < sizeof tables / sizeof tables[0]; i++)
        if (strlen(tables[i].uri) == len && memcmp(tables[i].uri, uri, len) == 0)
            return &tables[i];
    return NULL;
}

const sync_table *sync_table_named(const char *uri) {
    return uri ? sync_table_of(uri, strlen(uri)) : NULL;
}

seam_err sync_enter(seam_sync_db *db, const char *uri, const sync_table **t) {
    if (!db)
        return SEAM_ERR_ARG;
    if (!(*t = sync_table_named(uri)))
        return SEAM_ERR_SYNC_URI;
    return db->in_sync ? SEAM_ERR_SYNC_STATE : SEAM_OK;
}

bool sync_peer_ok(const char *id) {
    size_t n = id ? strnlen(id, SEAM_SYNC_PEER_MAX + 1) : 0;
    if (n == 0 || n > SEAM_SYNC_PEER_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0x21 || id[i] > 0x7E)
            return false;
    return true;
}

seam_err sync_failed(seam_sync_db *db, const char *what) {
    seam_log(SEAM_LOG_ERROR, "sync: %s: %s", what, sqlite3_errmsg(db->sql));
    return SEAM_ERR_SYNC_DB;
}

seam_err sync_exec(seam_sync_db *db, const char *sql) {
    return sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK ? SEAM_OK
                                                                     : sync_failed(db, sql);
}

seam_err sync_begin(seam_sync_db *db) {
    return sync_exec(db, "BEGIN IMMEDIATE");
}
seam_err sync_commit(seam_sync_db *db) {
    return sync_exec(db, "COMMIT");
}
void sync_rollback(seam_sync_db *db) {
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

seam_err seam_sync_open(const char *path, seam_sync_db **out) {
    seam_sync_db *db;
    if (!path || !out)
        return SEAM_ERR_ARG;
    db = calloc(1, sizeof *db);
    if (!db)
        return SEAM_ERR_NOMEM;
    if (sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        seam_log(SEAM_LOG_ERROR, "sync: cannot open %s: %s", path,
                 db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        seam_sync_close(db);
        return SEAM_ERR_SYNC_DB;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    seam_err err = sync_exec(db, "PRAGMA journal_mode = WAL");
    if (!err)
        err = sync_exec(db, "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY");
    if (!err)
        err = sync_exec(db, schema);
    if (err) {
        seam_sync_close(db);
        return err;
    }
    *out = db;
    return SEAM_OK;
}

seam_err sync_prepare(seam_sync_db *db, const char *sql, sqlite3_stmt **out) {
    size_t slot = 0;
    for (; slot < SYNC_STMT_CACHE && db->cache[slot].text; slot++)
        if (strcmp(db->cache[slot].text, sql) == 0) {
            *out = db->cache[slot].stmt;
            sqlite3_clear_bindings(*out);
            return SEAM_OK;
        }
    if (sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
        return sync_failed(db, sql);
    if (slot == SYNC_STMT_CACHE) { /* full: the oldest goes */
        sqlite3_finalize(db->cache[0].stmt);
        free(db->cache[0].text);
        memmove(&db->cache[0], &db->cache[1], sizeof db->cache[0] * (SYNC_STMT_CACHE - 1));
        slot = SYNC_STMT_CACHE - 1;
    }
    db->cache[slot].text = strdup(sql);
    if (!db->cache[slot].text) {
        sqlite3_finalize(*out);
        db->cache[slot].stmt = NULL;
        return SEAM_ERR_NOMEM;
    }
    db->cache[slot].stmt = *out;
    return SEAM_OK;
}

void seam_sync_close(seam_sync_db *db) {
    if (!db)
        return;
    sync_rollback(db);
    for (size_t i = 0; i < SYNC_STMT_CACHE; i++) {
        sqlite3_finalize(db->cache[i].stmt);
        free(db->cache[i].text);
    }
    sqlite3_close_v2(db->sql);
    free(db);
}

/* UTF-8 without control characters, at most max bytes, at least min. */
static bool text_ok(const char *s, size_t min, size_t max) {
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        size_t more;
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80)
            more = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            more = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3;
        else
            return false;
        if (more > n - 1 - i)
            return false;
        for (size_t k = 1; k <= more; k++)
            if (((uint8_t)s[i + k] & 0xC0) != 0x80)
                return false;
        i += more + 1;
    }
    return true;
}

seam_err seam_sync_record_check(const char *uri, const seam_sync_record *rec) {
    const sync_table *t = sync_table_named(uri);
    if (!t)
        return SEAM_ERR_SYNC_URI;
    if (!rec)
        return SEAM_ERR_ARG;
    if (!text_ok(rec->key, 1, SEAM_SYNC_KEY_MAX) || !text_ok(rec->value, 0, SEAM_SYNC_VALUE_MAX))
        return SEAM_ERR_SYNC_FIELD;
    if (t->ncols == 5 &&
        ((rec->kind != SEAM_SYNC_KIND_TERMINAL && rec->kind != SEAM_SYNC_KIND_CARD) ||
         !text_ok(rec->version, 1, SEAM_SYNC_VERSION_MAX) || rec->size > INT64_MAX))
        return SEAM_ERR_SYNC_FIELD;
    return SEAM_OK;
}

static const char *kind_name(seam_sync_kind k) {
    return k == SEAM_SYNC_KIND_CARD ? "card" : "terminal";
}

void sync_bind_record(sqlite3_stmt *stmt, int first, const sync_table *t,
                      const seam_sync_record *rec) {
    sqlite3_bind_text(stmt, first, rec->key, -1, SQLITE_TRANSIENT);
    if (t->ncols == 2) {
        sqlite3_bind_text(stmt, first + 1, rec->value, -1, SQLITE_TRANSIENT);
        return;
    }
    sqlite3_bind_text(stmt, first + 1, kind_name(rec->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, first + 2, rec->value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, first + 3, rec->version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, first + 4, (sqlite3_int64)rec->size);
}

static void copy_text(char *dst, size_t cap, const unsigned char *src) {
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

void sync_read_record(sqlite3_stmt *stmt, int first, const sync_table *t, seam_sync_record *rec) {
    memset(rec, 0, sizeof *rec);
    copy_text(rec->key, sizeof rec->key, sqlite3_column_text(stmt, first));
    if (t->ncols == 2) {
        copy_text(rec->value, sizeof rec->value, sqlite3_column_text(stmt, first + 1));
        return;
    }
    const unsigned char *kind = sqlite3_column_text(stmt, first + 1);
    rec->kind = kind && strcmp((const char *)kind, "card") == 0 ? SEAM_SYNC_KIND_CARD
                                                                : SEAM_SYNC_KIND_TERMINAL;
    copy_text(rec->value, sizeof rec->value, sqlite3_column_text(stmt, first + 2));
    copy_text(rec->version, sizeof rec->version, sqlite3_column_text(stmt, first + 3));
    rec->size = (uint64_t)sqlite3_column_int64(stmt, first + 4);
}

/* Copies a TEXT value of at most max bytes into dst. */
static seam_err set_text(char *dst, size_t max, sqlite3_value *v, size_t min) {
    if (sqlite3_value_type(v) != SQLITE_TEXT)
        return SEAM_ERR_SYNC_CHANGESET;
    int n = sqlite3_value_bytes(v);
    const unsigned char *p = sqlite3_value_text(v);
    if (!p || n < 0 || (size_t)n > max || (size_t)n < min || memchr(p, 0, (size_t)n))
        return SEAM_ERR_SYNC_CHANGESET;
    memcpy(dst, p, (size_t)n);
    dst[n] = 0;
    return text_ok(dst, min, max) ? SEAM_OK : SEAM_ERR_SYNC_CHANGESET;
}

seam_err sync_record_set(const sync_table *t, int col, sqlite3_value *v, seam_sync_record *rec) {
    char kind[16];
    if (col == 0)
        return set_text(rec->key, SEAM_SYNC_KEY_MAX, v, 1);
    if (t->ncols == 2)
        return col == 1 ? set_text(rec->value, SEAM_SYNC_VALUE_MAX, v, 0) : SEAM_ERR_SYNC_CHANGESET;
    switch (col) {
    case 1:
        if (set_text(kind, sizeof kind - 1, v, 1) != SEAM_OK)
            return SEAM_ERR_SYNC_CHANGESET;
        if (strcmp(kind, "card") && strcmp(kind, "terminal"))
            return SEAM_ERR_SYNC_CHANGESET;
        rec->kind = kind[0] == 'c' ? SEAM_SYNC_KIND_CARD : SEAM_SYNC_KIND_TERMINAL;
        return SEAM_OK;
    case 2:
        return set_text(rec->value, SEAM_SYNC_VALUE_MAX, v, 0);
    case 3:
        return set_text(rec->version, SEAM_SYNC_VERSION_MAX, v, 1);
    case 4:
        if (sqlite3_value_type(v) != SQLITE_INTEGER || sqlite3_value_int64(v) < 0)
            return SEAM_ERR_SYNC_CHANGESET;
        rec->size = (uint64_t)sqlite3_value_int64(v);
        return SEAM_OK;
    default:
        return SEAM_ERR_SYNC_CHANGESET;
    }
}

bool sync_record_equal(const sync_table *t, const seam_sync_record *a, const seam_sync_record *b) {
    if (strcmp(a->key, b->key) || strcmp(a->value, b->value))
        return false;
    return t->ncols == 2 ||
           (a->kind == b->kind && strcmp(a->version, b->version) == 0 && a->size == b->size);
}

seam_err sync_load(seam_sync_db *db, const char *schema_name, const sync_table *t, const char *key,
                   seam_sync_record *out) {
    char sql[160];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s.%s WHERE key = ?", t->columns, schema_name,
             t->table);
    seam_err err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        sync_read_record(stmt, 0, t, out);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return SEAM_OK;
    return rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : sync_failed(db, "load");
}

seam_err sync_store(seam_sync_db *db, const char *schema_name, const sync_table *t, const char *key,
                    const seam_sync_record *rec) {
    char sql[200];
    sqlite3_stmt *stmt;
    if (rec)
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s.%s (%s) VALUES (?,?%s)", schema_name,
                 t->table, t->columns, t->ncols == 5 ? ",?,?,?" : "");
    else
        snprintf(sql, sizeof sql, "DELETE FROM %s.%s WHERE key = ?", schema_name, t->table);
    seam_err err = sync_prepare(db, sql, &stmt);
    if (err)
        return err;
    if (rec)
        sync_bind_record(stmt, 1, t, rec);
    else
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "store");
}

seam_err sync_count_in(seam_sync_db *db, const char *schema_name, const sync_table *t,
                       size_t *count) {
    char sql[96];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.%s", schema_name, t->table);
    if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) != SQLITE_OK)
        return sync_failed(db, "count");
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? SEAM_OK : sync_failed(db, "count");
}

seam_err seam_sync_put_many(seam_sync_db *db, const char *uri, const seam_sync_record *recs,
                            size_t n) {
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    if (n && !recs)
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if ((err = seam_sync_record_check(uri, &recs[i])) != SEAM_OK)
            return err;
    if ((err = sync_begin(db)) != SEAM_OK)
        return err;
    for (size_t i = 0; i < n && !err; i++)
        err = sync_store(db, "main", t, recs[i].key, &recs[i]);
    size_t count = 0;
    if (!err)
        err = sync_count_in(db, "main", t, &count);
    if (!err && count > SEAM_SYNC_RECORDS_MAX)
        err = SEAM_ERR_SYNC_FULL;
    if (!err)
        err = sync_commit(db);
    if (err)
        sync_rollback(db);
    return err;
}

seam_err seam_sync_put(seam_sync_db *db, const char *uri, const seam_sync_record *rec) {
    return rec ? seam_sync_put_many(db, uri, rec, 1) : SEAM_ERR_ARG;
}

seam_err seam_sync_get(seam_sync_db *db, const char *uri, const char *key, seam_sync_record *out) {
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    if (!key || !out)
        return SEAM_ERR_ARG;
    return sync_load(db, "main", t, key, out);
}

seam_err seam_sync_delete(seam_sync_db *db, const char *uri, const char *key) {
    const sync_table *t;
    seam_sync_record old;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    if (!key)
        return SEAM_ERR_ARG;
    if ((err = sync_begin(db)) != SEAM_OK)
        return err;
    err = sync_load(db, "main", t, key, &old);
    if (!err)
        err = sync_store(db, "main", t, key, NULL);
    if (!err)
        err = sync_commit(db);
    if (err)
        sync_rollback(db);
    return err;
}

seam_err seam_sync_list(seam_sync_db *db, const char *uri,
                        int (*each)(void *ctx, const seam_sync_record *rec), void *ctx) {
    const sync_table *t;
    char sql[128];
    sqlite3_stmt *stmt;
    seam_sync_record rec;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    if (!each)
        return SEAM_ERR_ARG;
    snprintf(sql, sizeof sql, "SELECT %s FROM main.%s ORDER BY key", t->columns, t->table);
    if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) != SQLITE_OK)
        return sync_failed(db, "list");
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sync_read_record(stmt, 0, t, &rec);
        if (each(ctx, &rec))
            break;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "list");
}

seam_err seam_sync_count(seam_sync_db *db, const char *uri, size_t *count) {
    const sync_table *t;
    seam_err err = sync_enter(db, uri, &t);
    if (err)
        return err;
    return count ? sync_count_in(db, "main", t, count) : SEAM_ERR_ARG;
}

/* FNV-1a over every column of every row of the query's result, typed. */
static seam_err digest_query(seam_sync_db *db, const char *sql, uint64_t *h) {
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) != SQLITE_OK)
        return sync_failed(db, "fingerprint");
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const unsigned char *p = sqlite3_column_text(stmt, c);
            int n = sqlite3_column_bytes(stmt, c);
            uint8_t type = (uint8_t)sqlite3_column_type(stmt, c);
            *h = (*h ^ type) * 0x100000001b3ull;
            for (int i = 0; p && i < n; i++)
                *h = (*h ^ p[i]) * 0x100000001b3ull;
            *h = (*h ^ 0xFF) * 0x100000001b3ull;
        }
        *h = (*h ^ 0xFE) * 0x100000001b3ull;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : sync_failed(db, "fingerprint");
}

seam_err seam_sync_fingerprint(seam_sync_db *db, uint64_t *out) {
    static const char *const queries[] = {
        "SELECT * FROM main.devinfo ORDER BY key",
        "SELECT * FROM main.apps ORDER BY key",
        "SELECT * FROM main.base_devinfo ORDER BY peer, key",
        "SELECT * FROM main.base_apps ORDER BY peer, key",
        "SELECT * FROM main.card ORDER BY key",
        "SELECT * FROM main.base_card ORDER BY peer, key",
        "SELECT * FROM main.anchors ORDER BY peer, uri",
    };
    uint64_t h = 0xcbf29ce484222325ull;
    if (!db || !out)
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        seam_err err = digest_query(db, queries[i], &h);
        if (err)
            return err;
    }
    *out = h;
    return SEAM_OK;
}

seam_err seam_sync_records_fingerprint(seam_sync_db *db, const char *uri, uint64_t *out) {
    const sync_table *t = sync_table_named(uri);
    char sql[128];
    uint64_t h = 0xcbf29ce484222325ull;
    if (!db || !out)
        return SEAM_ERR_ARG;
    if (!t)
        return SEAM_ERR_SYNC_URI;
    snprintf(sql, sizeof sql, "SELECT %s FROM main.%s ORDER BY key", t->columns, t->table);
    seam_err err = digest_query(db, sql, &h);
    if (!err)
        *out = h;
    return err;
}
