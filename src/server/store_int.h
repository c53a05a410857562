/*
 * Inside the server's store: the store logic (store.c, store_work.c) is written once over a
 * tiny SQL driver interface with two drivers, SQLite (store_sqlite.c) and PostgreSQL
 * through libpq (store_pg.c). SQL uses `?` placeholders; the PostgreSQL driver numbers
 * them. Results are copied out whole (they hold only clear metadata and sealed blobs).
 */
#ifndef SEAM_SERVER_STORE_INT_H
#define SEAM_SERVER_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seam/crypto.h"
#include "server/store.h"

typedef enum { DB_NULL, DB_INT, DB_BLOB, DB_TEXT } db_kind;

/* One parameter or result value. In results p is owned by the db_rows (text ends in NUL). */
typedef struct {
    db_kind kind;
    int64_t i;
    const void *p;
    size_t n;
} db_val;

#define DB_I(x)    ((db_val){DB_INT, (int64_t)(x), NULL, 0})
#define DB_B(q, m) ((db_val){DB_BLOB, 0, (q), (m)})
#define DB_T(s)    ((db_val){DB_TEXT, 0, (s), strlen(s)})
#define DB_ID(id)  DB_B((id)->bytes, (id)->len)

/* A result: rows x cols values, v[r * cols + c]. */
typedef struct {
    size_t rows, cols;
    db_val *v;
} db_rows;

typedef struct {
    const char *name;
    /* Runs one statement with params[0..n); its rows to *out if out is not NULL. */
    seam_err (*exec)(void *conn, const char *sql, const db_val *params, size_t n, db_rows *out);
    void (*close)(void *conn);
    const char *begin;       /* starts a write transaction */
    const char *lock_suffix; /* "" or " FOR UPDATE SKIP LOCKED" */
    const char *const *schema;
} store_driver;

struct seam_store {
    const store_driver *drv;
    void *conn;
    seam_crypto_aes_gcm *gcm;
    int depth;               /* nested store_begin calls; the outermost one owns the transaction */
    int64_t settle_campaign; /* a campaign whose targets finished in this transaction: is
                                it done? asked after the commit (store_campaign_settle) */
};

extern const store_driver store_sqlite_driver;
extern const store_driver store_pg_driver;

/* Opens a driver connection to target (a path, or a libpq connection string). */
seam_err store_sqlite_connect(const char *path, void **conn);
seam_err store_pg_connect(const char *conninfo, void **conn);

/* Frees a result's values; safe on a zeroed db_rows. */
void db_rows_free(db_rows *r);

/* Copies a value into a result slot (owned copy). */
seam_err db_val_copy(db_val *dst, db_kind kind, int64_t i, const void *p, size_t n);

/* The value at row r, column c. */
static inline const db_val *db_at(const db_rows *rows, size_t r, size_t c) {
    return &rows->v[r * rows->cols + c];
}

/* Runs a statement on the store's connection. */
seam_err store_exec(seam_store *s, const char *sql, const db_val *params, size_t n, db_rows *out);

/* Starts / ends a write transaction: store_end commits when err is SEAM_OK, else rolls
 * back; it returns err, or the commit's failure. Calls nest: only the outermost pair
 * talks to the database, so a function may be used inside another's transaction. */
seam_err store_begin(seam_store *s);
seam_err store_end(seam_store *s, seam_err err);

/* Marks campaign done if it runs and none of its targets is pending or running; one
 * statement of its own, run after the commit of a transaction that finished a target:
 * of two last finishers, the one whose statement starts after the other's commit sees
 * it, so finishes need not take turns on the campaign's row. */
seam_err store_campaign_settle(seam_store *s, int64_t campaign);

/* Seals plain[0..len) for the row named by (table, key[0..key_len)): *out is a malloc'd
 * nonce || ciphertext || tag of *out_len bytes. */
seam_err store_seal(seam_store *s, const char *table, const uint8_t *key, size_t key_len,
                    const uint8_t *plain, size_t len, uint8_t **out, size_t *out_len);

/* Opens a sealed value into plain (cap bytes; *len gets the size). MASTER_KEY if it does
 * not authenticate for that row. */
seam_err store_open_sealed(seam_store *s, const char *table, const uint8_t *key, size_t key_len,
                           const uint8_t *sealed, size_t sealed_len, uint8_t *plain, size_t cap,
                           size_t *len);

/* Row keys: concatenates length-prefixed ids into key (cap 64); returns the length. */
size_t store_row_key(uint8_t key[64], const seam_store_id *a, const seam_store_id *b, int64_t n);

/* Copies a blob result into an id (ARG-free: truncated ids cannot come from the store). */
void store_id_from(seam_store_id *id, const db_val *v);

/* Copies a text result into dst[0..cap), NUL-terminated, truncating. */
void store_text_from(char *dst, size_t cap, const db_val *v);

/* True if t is min..max characters, each from first to 0x7E. */
bool store_ascii_ok(const char *t, size_t min, size_t max, char first);

/* True if id is a usable key (1..16 bytes). */
bool store_id_ok(const seam_store_id *id);

/* Now, in seconds. */
int64_t store_now(void);

#endif
