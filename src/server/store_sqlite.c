/*
 * The SQLite driver of the server's store: one file, WAL journal, synchronous=FULL (a
 * commit that returned is on disk: kill -9 or a power cut loses nothing acknowledged),
 * write transactions BEGIN IMMEDIATE so that concurrent handles take turns instead of
 * failing, and a busy timeout so that they wait for each other.
 */
#include "server/store_int.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

#define BUSY_TIMEOUT_MS 60000

#define ID   "INTEGER PRIMARY KEY"
#define BLOB "BLOB"
#include "store_schema.h"

static const char *const sqlite_schema[] = {STORE_SCHEMA, NULL};

#define CACHED 96 /* statements kept prepared per connection (the store uses fewer) */

/* A connection and its prepared statements, by text: the store runs the same few dozen
   statements over and over, so each is compiled once per connection. A cached statement
   is reset as soon as its call ends (no read transaction is left open). */
typedef struct {
    sqlite3 *db;
    size_t count;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[CACHED];
} sqlite_conn;

seam_err store_sqlite_connect(const char *path, void **conn) {
    sqlite3 *db = NULL;
    sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return SEAM_ERR_NOMEM;
    /* created private: its secrets are sealed, but CINs, packages and campaigns are the
       operator's business (SQLite gives its -wal and -shm files the same mode) */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        free(c);
        return SEAM_ERR_SERVER_STORE;
    }
    close(fd);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sqlite3_close(db);
        free(c);
        return SEAM_ERR_SERVER_STORE;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        free(c);
        return SEAM_ERR_SERVER_STORE;
    }
    c->db = db;
    *conn = c;
    return SEAM_OK;
}

/* The prepared statement for sql: from the cache (reset), or compiled and, if there is
   room, kept (*cached). NULL when it does not compile. */
static sqlite3_stmt *statement(sqlite_conn *c, const char *sql, bool *cached) {
    for (size_t i = 0; i < c->count; i++)
        if (!strcmp(c->cache[i].sql, sql)) {
            *cached = true;
            return c->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    bool keep = c->count < CACHED;
    if (sqlite3_prepare_v3(c->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    char *copy = keep ? strdup(sql) : NULL;
    *cached = copy != NULL;
    if (copy) {
        c->cache[c->count].sql = copy;
        c->cache[c->count].st = st;
        c->count++;
    }
    return st;
}

static seam_err bind(sqlite3_stmt *st, const db_val *params, size_t n) {
    for (size_t k = 0; k < n; k++) {
        int i = (int)k + 1, rc = SQLITE_OK;
        const db_val *v = &params[k];
        switch (v->kind) {
        case DB_NULL:
            rc = sqlite3_bind_null(st, i);
            break;
        case DB_INT:
            rc = sqlite3_bind_int64(st, i, v->i);
            break;
        case DB_BLOB: /* a non-NULL pointer: an empty blob is not NULL */
            rc = sqlite3_bind_blob64(st, i, v->n ? v->p : "", v->n, SQLITE_STATIC);
            break;
        case DB_TEXT:
            rc = sqlite3_bind_text64(st, i, v->n ? v->p : "", v->n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
        if (rc != SQLITE_OK)
            return SEAM_ERR_SERVER_STORE;
    }
    return SEAM_OK;
}

static seam_err collect(sqlite3_stmt *st, db_rows *out) {
    size_t cols = (size_t)sqlite3_column_count(st); /* the caller made room for one row */
    out->cols = cols;
    db_val *row = &out->v[out->rows * cols];
    memset(row, 0, cols * sizeof *row);
    out->rows++;
    for (size_t c = 0; c < cols; c++) {
        int ci = (int)c;
        seam_err e = SEAM_OK;
        switch (sqlite3_column_type(st, ci)) {
        case SQLITE_INTEGER:
            e = db_val_copy(&row[c], DB_INT, sqlite3_column_int64(st, ci), NULL, 0);
            break;
        case SQLITE_BLOB:
            e = db_val_copy(&row[c], DB_BLOB, 0, sqlite3_column_blob(st, ci),
                            (size_t)sqlite3_column_bytes(st, ci));
            break;
        case SQLITE_TEXT:
            e = db_val_copy(&row[c], DB_TEXT, 0, sqlite3_column_text(st, ci),
                            (size_t)sqlite3_column_bytes(st, ci));
            break;
        case SQLITE_NULL:
            break;
        default:
            e = SEAM_ERR_SERVER_STORE;
        }
        if (e)
            return e;
    }
    return SEAM_OK;
}

static seam_err sqlite_exec(void *conn, const char *sql, const db_val *params, size_t n,
                            db_rows *out) {
    sqlite_conn *c = conn;
    seam_err e = SEAM_OK;
    size_t cap_rows = 0;
    bool cached = false;
    if (out)
        memset(out, 0, sizeof *out);
    sqlite3_stmt *st = statement(c, sql, &cached);
    if (!st) {
        if (getenv("SEAM_STORE_DEBUG"))
            fprintf(stderr, "seam store: sqlite: %s: %s\n", sql, sqlite3_errmsg(c->db));
        return SEAM_ERR_SERVER_STORE;
    }
    e = bind(st, params, n);
    for (;;) {
        if (e)
            break;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            if (getenv("SEAM_STORE_DEBUG"))
                fprintf(stderr, "seam store: sqlite: %s: %s\n", sql, sqlite3_errmsg(c->db));
            e = SEAM_ERR_SERVER_STORE;
            break;
        }
        if (!out)
            continue;
        /* room for one more row, growing by doubling */
        if (out->rows == cap_rows) {
            size_t cols = (size_t)sqlite3_column_count(st);
            cap_rows = cap_rows ? cap_rows * 2 : 4;
            db_val *grown = realloc(out->v, cap_rows * (cols ? cols : 1) * sizeof *grown);
            if (!grown) {
                e = SEAM_ERR_NOMEM;
                break;
            }
            out->v = grown;
        }
        e = collect(st, out);
    }
    if (out && out->cols == 0)
        out->cols = (size_t)sqlite3_column_count(st);
    if (cached) { /* ready for the next call; the bindings pointed at the caller's buffers */
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    if (e && out)
        db_rows_free(out);
    return e;
}

static void sqlite_close(void *conn) {
    sqlite_conn *c = conn;
    for (size_t i = 0; i < c->count; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

const store_driver store_sqlite_driver = {
    .name = "sqlite",
    .exec = sqlite_exec,
    .close = sqlite_close,
    .begin = "BEGIN IMMEDIATE",
    .lock_suffix = "",
    .schema = sqlite_schema,
};
