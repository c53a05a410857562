/*
 * The PostgreSQL driver of the server's store, through libpq. Parameters and results
 * travel in binary form (int8, bytea, text), so nothing is quoted or parsed as text.
 * Write transactions are plain BEGIN (read committed); the store's claim takes its rows
 * with SELECT ... FOR UPDATE SKIP LOCKED, so several servers sharing one database never
 * drive the same card.
 */
#include "server/store_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

#define ID   "BIGSERIAL PRIMARY KEY"
#define BLOB "BYTEA"
#include "store_schema.h"

static const char *const pg_schema[] = {STORE_SCHEMA, NULL};

/* PostgreSQL type oids (pg_type.h). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_VARCHAR = 1043
};

#define MAX_PARAMS 32
#define PREPARED   96 /* statements prepared per connection (the store uses fewer) */

/* A connection and the statements prepared on it: the store runs the same few dozen
   statements over and over, so each is parsed and planned once per connection (by its
   text and its parameters' types) instead of at every call. */
typedef struct {
    PGconn *pg;
    size_t prepared;
    struct {
        char *sql; /* numbered text */
        char kinds[MAX_PARAMS + 1];
    } stmt[PREPARED];
} pg_conn;

seam_err store_pg_connect(const char *conninfo, void **conn) {
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return SEAM_ERR_NOMEM;
    PGconn *pg = PQconnectdb(conninfo);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        if (pg)
            fprintf(stderr, "seam store: postgresql: %s", PQerrorMessage(pg));
        PQfinish(pg);
        free(c);
        return SEAM_ERR_SERVER_STORE;
    }
    PGresult *r = PQexec(pg, "SET client_min_messages = warning");
    PQclear(r);
    c->pg = pg;
    *conn = c;
    return SEAM_OK;
}

/* The name of the statement prepared for (sql, kinds), preparing it if needed; NULL when
   it is not to be prepared (not a data statement, or no room): run it unnamed. */
static const char *prepared(pg_conn *c, const char *sql, const char *kinds, int n, const Oid *types,
                            char name[32]) {
    if (strncmp(sql, "SELECT", 6) && strncmp(sql, "INSERT", 6) && strncmp(sql, "UPDATE", 6) &&
        strncmp(sql, "DELETE", 6))
        return NULL;
    for (size_t i = 0; i < c->prepared; i++)
        if (!strcmp(c->stmt[i].kinds, kinds) && !strcmp(c->stmt[i].sql, sql)) {
            snprintf(name, 32, "seam%zu", i);
            return name;
        }
    if (c->prepared == PREPARED)
        return NULL;
    char *copy = strdup(sql);
    if (!copy)
        return NULL;
    snprintf(name, 32, "seam%zu", c->prepared);
    PGresult *r = PQprepare(c->pg, name, sql, n, types);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        free(copy);
        return NULL;
    }
    c->stmt[c->prepared].sql = copy;
    memcpy(c->stmt[c->prepared].kinds, kinds, strlen(kinds) + 1);
    c->prepared++;
    return name;
}

/* Rewrites ? placeholders as $1, $2, ... into out[0..cap). */
static bool number_params(const char *sql, char *out, size_t cap) {
    size_t o = 0;
    int k = 0;
    for (const char *c = sql; *c; c++) {
        int wrote = *c == '?' ? snprintf(out + o, cap - o, "$%d", ++k)
                              : snprintf(out + o, cap - o, "%c", *c);
        if (wrote < 0 || (size_t)wrote >= cap - o)
            return false;
        o += (size_t)wrote;
    }
    return true;
}

static uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static seam_err take(const PGresult *res, db_rows *out) {
    size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
    out->rows = 0;
    out->cols = cols;
    if (rows && cols) {
        out->v = calloc(rows * cols, sizeof *out->v);
        if (!out->v)
            return SEAM_ERR_NOMEM;
    }
    for (size_t r = 0; r < rows; r++) {
        out->rows = r + 1;
        for (size_t c = 0; c < cols; c++) {
            int ri = (int)r, ci = (int)c;
            if (PQgetisnull(res, ri, ci))
                continue;
            const uint8_t *p = (const uint8_t *)PQgetvalue(res, ri, ci);
            size_t n = (size_t)PQgetlength(res, ri, ci);
            db_val *v = &out->v[r * cols + c];
            seam_err e = SEAM_OK;
            switch (PQftype(res, ci)) {
            case OID_INT8:
                e = n == 8 ? db_val_copy(v, DB_INT, (int64_t)be64(p), NULL, 0)
                           : SEAM_ERR_SERVER_STORE;
                break;
            case OID_INT4:
                e = n == 4 ? db_val_copy(v, DB_INT,
                                         (int32_t)(be64((const uint8_t[8]){0, 0, 0, 0, p[0], p[1],
                                                                           p[2], p[3]})),
                                         NULL, 0)
                           : SEAM_ERR_SERVER_STORE;
                break;
            case OID_INT2:
                e = n == 2 ? db_val_copy(v, DB_INT, (int16_t)(p[0] << 8 | p[1]), NULL, 0)
                           : SEAM_ERR_SERVER_STORE;
                break;
            case OID_BOOL:
                e = n == 1 ? db_val_copy(v, DB_INT, p[0] != 0, NULL, 0) : SEAM_ERR_SERVER_STORE;
                break;
            case OID_BYTEA:
                e = db_val_copy(v, DB_BLOB, 0, p, n);
                break;
            case OID_TEXT:
            case OID_VARCHAR:
                e = db_val_copy(v, DB_TEXT, 0, p, n);
                break;
            default:
                e = SEAM_ERR_SERVER_STORE;
            }
            if (e)
                return e;
        }
    }
    return SEAM_OK;
}

static seam_err pg_exec(void *conn, const char *sql, const db_val *params, size_t n, db_rows *out) {
    pg_conn *c = conn;
    char numbered[4096], kinds[MAX_PARAMS + 1], name[32];
    Oid types[MAX_PARAMS];
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    uint8_t ints[MAX_PARAMS][8];
    seam_err e = SEAM_OK;
    if (out)
        memset(out, 0, sizeof *out);
    if (n > MAX_PARAMS || !number_params(sql, numbered, sizeof numbered))
        return SEAM_ERR_ARG;
    for (size_t k = 0; k < n; k++) {
        const db_val *v = &params[k];
        kinds[k] = (char)('0' + v->kind);
        formats[k] = 1;
        switch (v->kind) {
        case DB_NULL:
            types[k] = 0;
            values[k] = NULL;
            lengths[k] = 0;
            break;
        case DB_INT:
            types[k] = OID_INT8;
            for (int i = 0; i < 8; i++)
                ints[k][i] = (uint8_t)((uint64_t)v->i >> (56 - 8 * i));
            values[k] = (const char *)ints[k];
            lengths[k] = 8;
            break;
        case DB_BLOB:
        case DB_TEXT:
            types[k] = v->kind == DB_BLOB ? OID_BYTEA : OID_TEXT;
            values[k] = v->n ? v->p : "";
            lengths[k] = (int)v->n;
            break;
        }
    }
    kinds[n] = '\0';
    const char *stmt = prepared(c, numbered, kinds, (int)n, types, name);
    PGresult *res = stmt
                        ? PQexecPrepared(c->pg, stmt, (int)n, values, lengths, formats, 1)
                        : PQexecParams(c->pg, numbered, (int)n, types, values, lengths, formats, 1);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (getenv("SEAM_STORE_DEBUG"))
            fprintf(stderr, "seam store: postgresql: %s: %s", numbered, PQerrorMessage(c->pg));
        e = SEAM_ERR_SERVER_STORE;
    } else if (out) {
        e = take(res, out);
        if (e)
            db_rows_free(out);
    }
    PQclear(res);
    return e;
}

static void pg_close(void *conn) {
    pg_conn *c = conn;
    PQfinish(c->pg);
    for (size_t i = 0; i < c->prepared; i++)
        free(c->stmt[i].sql);
    free(c);
}

const store_driver store_pg_driver = {
    .name = "postgresql",
    .exec = pg_exec,
    .close = pg_close,
    .begin = "BEGIN",
    .lock_suffix = " FOR UPDATE SKIP LOCKED",
    .schema = pg_schema,
};
