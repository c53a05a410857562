/*
 * The sync layer's private header: the database handle, the tables of each
 * database URI, and the helpers the database, tracking and protocol files
 * share. The session extension's API is declared only when these macros come
 * before <sqlite3.h> (cat_sync.md Part C).
 */
#ifndef SEAM_SYNC_INT_H
#define SEAM_SYNC_INT_H

#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdbool.h>

#include "seam/sync.h"

#define SYNC_STMT_CACHE 24

struct seam_sync_db {
    sqlite3 *sql;
    bool in_sync; /* a sync engine holds the write transaction */
    struct {
        char *text;
        sqlite3_stmt *stmt;
    } cache[SYNC_STMT_CACHE]; /* prepared statements, kept for the life of the handle */
};

/* One database URI: its table and columns (column 0 is the key, the PRIMARY KEY). */
typedef struct {
    const char *uri;
    const char *table;   /* "devinfo", "apps" or "card" */
    int ncols;           /* columns including the key */
    const char *columns; /* "key, value" */
    const char *decl;    /* column declarations for CREATE TABLE */
} sync_table;

/* The table of uri (len bytes), or NULL when seam has no such database. */
const sync_table *sync_table_of(const char *uri, size_t len);
/* The table of the NUL-terminated uri (NULL is fine), or NULL when seam has no such database. */
const sync_table *sync_table_named(const char *uri);
/* The checks every public call on a database makes: *t = uri's table (SEAM_ERR_SYNC_URI), and no
 * sync engine holds db (SEAM_ERR_SYNC_STATE); SEAM_ERR_ARG when db is NULL. */
seam_err sync_enter(seam_sync_db *db, const char *uri, const sync_table **t);
/* True when id is a peer id: 1..SEAM_SYNC_PEER_MAX printable ASCII bytes, no space. */
bool sync_peer_ok(const char *id);

/* Logs what failed with SQLite's message and returns SEAM_ERR_SYNC_DB. */
seam_err sync_failed(seam_sync_db *db, const char *what);
/* Runs sql (no results); SEAM_ERR_SYNC_DB on failure. */
seam_err sync_exec(seam_sync_db *db, const char *sql);
/* A prepared statement for sql, from the handle's cache; the caller ends its use with
 * sqlite3_reset. */
seam_err sync_prepare(seam_sync_db *db, const char *sql, sqlite3_stmt **out);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK of one change. */
seam_err sync_begin(seam_sync_db *db);
seam_err sync_commit(seam_sync_db *db);
void sync_rollback(seam_sync_db *db);

/* Binds rec's columns of t to stmt's parameters first, first+1, ... */
void sync_bind_record(sqlite3_stmt *stmt, int first, const sync_table *t,
                      const seam_sync_record *rec);
/* Reads rec's columns of t from stmt's result columns first, first+1, ... */
void sync_read_record(sqlite3_stmt *stmt, int first, const sync_table *t, seam_sync_record *rec);
/* Fills column col of t in rec from value v; SEAM_ERR_SYNC_CHANGESET when its type or size is
 * wrong. */
seam_err sync_record_set(const sync_table *t, int col, sqlite3_value *v, seam_sync_record *rec);
/* True when a and b hold the same columns of t. */
bool sync_record_equal(const sync_table *t, const seam_sync_record *a, const seam_sync_record *b);
/* Loads the record key of schema.table (e.g. "main", "temp"); SEAM_ERR_NOT_FOUND when absent. */
seam_err sync_load(seam_sync_db *db, const char *schema, const sync_table *t, const char *key,
                   seam_sync_record *out);
/* Sets schema.table's record rec->key to rec, or deletes it when rec is NULL (key names it). */
seam_err sync_store(seam_sync_db *db, const char *schema, const sync_table *t, const char *key,
                    const seam_sync_record *rec);
/* Counts the records of schema.table. */
seam_err sync_count_in(seam_sync_db *db, const char *schema, const sync_table *t, size_t *count);

/* Compares two app versions as dotted numbers ("1.10" > "1.9"); <0, 0, >0. */
int sync_version_compare(const char *a, const char *b);

/* CRC-32 (ISO-HDLC, as zip) of n bytes. */
uint32_t sync_crc32(const uint8_t *p, size_t n);

#endif
