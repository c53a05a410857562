/*
 * The terminal's local state: one SQLite file (WAL, synchronous=FULL) with the
 * cards seen, the sessions run and the toolkit's later reports (one per card,
 * toolkit_report.c). Every change is one transaction (BEGIN
 * IMMEDIATE ... COMMIT), so a call that returned SEAM_OK survives a kill -9 or
 * a power cut, and one that did not return left nothing half done. Nothing in
 * it is secret: CINs, times, counts, a report's objects and envelope.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/terminal.h"
#include "seam/util.h"

struct seam_terminal_state {
    sqlite3 *db;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS card ("
                             " cin TEXT PRIMARY KEY,"
                             " first_seen INTEGER NOT NULL,"
                             " last_seen INTEGER NOT NULL,"
                             " sessions INTEGER NOT NULL DEFAULT 0,"
                             " bytes_up INTEGER NOT NULL DEFAULT 0,"
                             " bytes_down INTEGER NOT NULL DEFAULT 0);"
                             "CREATE TABLE IF NOT EXISTS session ("
                             " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                             " cin TEXT NOT NULL REFERENCES card(cin),"
                             " start INTEGER NOT NULL,"
                             " end INTEGER NOT NULL DEFAULT 0,"
                             " outcome TEXT NOT NULL DEFAULT '',"
                             " scripts INTEGER NOT NULL DEFAULT 0,"
                             " commands INTEGER NOT NULL DEFAULT 0,"
                             " bytes_up INTEGER NOT NULL DEFAULT 0,"
                             " bytes_down INTEGER NOT NULL DEFAULT 0);"
                             "CREATE INDEX IF NOT EXISTS session_open ON session(cin, end);"
                             "CREATE TABLE IF NOT EXISTS tk_report ("
                             " cin TEXT PRIMARY KEY,"
                             " state INTEGER NOT NULL,"
                             " details INTEGER NOT NULL,"
                             " objects BLOB NOT NULL,"
                             " envelope BLOB NOT NULL);";

static seam_err failed(seam_terminal_state *st, const char *what) {
    seam_log(SEAM_LOG_ERROR, "terminal state: %s: %s", what, sqlite3_errmsg(st->db));
    return SEAM_ERR_TERMINAL_STATE;
}

static bool cin_valid(const char *cin) {
    size_t n = cin ? strlen(cin) : 0;
    if (n == 0 || n >= SEAM_TERMINAL_CIN_HEX || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((cin[i] >= '0' && cin[i] <= '9') || (cin[i] >= 'A' && cin[i] <= 'F')))
            return false;
    return true;
}

seam_err seam_terminal_state_open(const char *path, seam_terminal_state **out) {
    seam_terminal_state *st;
    char *journal = NULL;
    int rc;
    if (!path || !out)
        return SEAM_ERR_ARG;
    st = calloc(1, sizeof *st);
    if (!st)
        return SEAM_ERR_NOMEM;
    rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(st->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, &journal);
    sqlite3_free(journal);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL, NULL,
                          NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        seam_log(SEAM_LOG_ERROR, "terminal state %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "cannot open");
        seam_terminal_state_close(st);
        return SEAM_ERR_TERMINAL_STATE;
    }
    *out = st;
    return SEAM_OK;
}

void seam_terminal_state_close(seam_terminal_state *st) {
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st);
}

/* ---- one transaction per change ------------------------------------------------------- */

static seam_err begin(seam_terminal_state *st) {
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
               ? SEAM_OK
               : failed(st, "begin");
}

/* Commits when e is SEAM_OK, else rolls back; returns the first error. */
static seam_err finish(seam_terminal_state *st, seam_err e) {
    if (!e && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        e = failed(st, "commit");
    if (e)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

/* Runs sql with up to 6 integer/text/blob parameters (types: 'i' int64, 't' text, 'b' blob:
   i bytes at t); *changes
   gets the rows changed when not NULL. */
typedef struct {
    char type;
    int64_t i;
    const char *t;
} param;

static int bind(sqlite3_stmt *stmt, int k, const param *p) {
    if (p->type == 'i')
        return sqlite3_bind_int64(stmt, k, p->i);
    if (p->type == 'b')
        return sqlite3_bind_blob(stmt, k, p->t ? p->t : "", (int)p->i, SQLITE_STATIC);
    return sqlite3_bind_text(stmt, k, p->t, -1, SQLITE_STATIC);
}

static seam_err run(seam_terminal_state *st, const char *sql, const param *p, size_t n,
                    int *changes) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    for (size_t k = 0; rc == SQLITE_OK && k < n; k++)
        rc = bind(stmt, (int)k + 1, &p[k]);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return failed(st, "write");
    if (changes)
        *changes = sqlite3_changes(st->db);
    return SEAM_OK;
}

#define I(v)                                                                                       \
    { 'i', (int64_t)(v), NULL }
#define T(v)                                                                                       \
    { 't', 0, (v) }
#define B(v, n)                                                                                    \
    { 'b', (int64_t)(n), (const char *)(v) }

static seam_err card_seen(seam_terminal_state *st, const char *cin, int64_t now) {
    param p[] = {T(cin), I(now)};
    return run(st,
               "INSERT INTO card(cin, first_seen, last_seen) VALUES(?1, ?2, ?2) "
               "ON CONFLICT(cin) DO UPDATE SET last_seen = ?2",
               p, 2, NULL);
}

seam_err seam_terminal_state_card_seen(seam_terminal_state *st, const char *cin, int64_t now) {
    seam_err e;
    if (!st || !cin_valid(cin))
        return SEAM_ERR_ARG;
    e = begin(st);
    return e ? e : finish(st, card_seen(st, cin, now));
}

seam_err seam_terminal_state_session_begin(seam_terminal_state *st, const char *cin, int64_t now,
                                           int64_t *id) {
    seam_err e;
    param p[] = {T(cin), I(now)};
    if (!st || !cin_valid(cin) || !id)
        return SEAM_ERR_ARG;
    e = begin(st);
    if (e)
        return e;
    e = card_seen(st, cin, now);
    if (!e)
        e = run(st, "UPDATE card SET sessions = sessions + 1 WHERE cin = ?1", p, 1, NULL);
    if (!e)
        e = run(st, "INSERT INTO session(cin, start) VALUES(?1, ?2)", p, 2, NULL);
    if (!e)
        *id = sqlite3_last_insert_rowid(st->db);
    return finish(st, e);
}

seam_err seam_terminal_state_session_add(seam_terminal_state *st, int64_t id, uint32_t scripts,
                                         uint32_t commands, uint64_t up, uint64_t down) {
    seam_err e;
    int changes = 0;
    param p[] = {I(id), I(scripts), I(commands), I(up), I(down)};
    if (!st || up > INT64_MAX || down > INT64_MAX)
        return SEAM_ERR_ARG;
    e = begin(st);
    if (e)
        return e;
    e = run(st,
            "UPDATE session SET scripts = scripts + ?2, commands = commands + ?3, "
            "bytes_up = bytes_up + ?4, bytes_down = bytes_down + ?5 WHERE id = ?1 AND end = 0",
            p, 5, &changes);
    if (!e && changes != 1)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        e = run(st,
                "UPDATE card SET bytes_up = bytes_up + ?4, bytes_down = bytes_down + ?5 "
                "WHERE cin = (SELECT cin FROM session WHERE id = ?1)",
                p, 5, NULL);
    return finish(st, e);
}

seam_err seam_terminal_state_session_end(seam_terminal_state *st, int64_t id, const char *outcome,
                                         int64_t now) {
    seam_err e;
    int changes = 0;
    param p[] = {I(id), T(outcome), I(now > 0 ? now : 1)};
    if (!st || !outcome || !*outcome || strlen(outcome) >= SEAM_TERMINAL_OUTCOME_MAX)
        return SEAM_ERR_ARG;
    e = begin(st);
    if (e)
        return e;
    e = run(st, "UPDATE session SET end = ?3, outcome = ?2 WHERE id = ?1 AND end = 0", p, 3,
            &changes);
    if (!e && changes != 1)
        e = SEAM_ERR_NOT_FOUND;
    return finish(st, e);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void copy_text(char *out, size_t size, const unsigned char *text) {
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

static void read_session(sqlite3_stmt *stmt, seam_terminal_session *s) {
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(stmt, 0);
    copy_text(s->cin, sizeof s->cin, sqlite3_column_text(stmt, 1));
    s->start = sqlite3_column_int64(stmt, 2);
    s->end = sqlite3_column_int64(stmt, 3);
    copy_text(s->outcome, sizeof s->outcome, sqlite3_column_text(stmt, 4));
    s->scripts = (uint32_t)sqlite3_column_int64(stmt, 5);
    s->commands = (uint32_t)sqlite3_column_int64(stmt, 6);
    s->bytes_up = (uint64_t)sqlite3_column_int64(stmt, 7);
    s->bytes_down = (uint64_t)sqlite3_column_int64(stmt, 8);
}

#define SESSION_COLUMNS                                                                            \
    "SELECT id, cin, start, end, outcome, scripts, commands, bytes_up, bytes_down FROM session "

/* Prepares sql binding p[0..n); NULL after logging on failure. */
static sqlite3_stmt *query(seam_terminal_state *st, const char *sql, const param *p, size_t n) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    for (size_t k = 0; rc == SQLITE_OK && k < n; k++)
        rc = bind(stmt, (int)k + 1, &p[k]);
    if (rc != SQLITE_OK) {
        failed(st, "query");
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

seam_err seam_terminal_state_unfinished(seam_terminal_state *st, const char *cin, int64_t *id) {
    param p[] = {T(cin)};
    sqlite3_stmt *stmt;
    int rc;
    if (!st || !cin || !id)
        return SEAM_ERR_ARG;
    stmt = query(st, "SELECT id FROM session WHERE cin = ?1 AND end = 0 ORDER BY id DESC LIMIT 1",
                 p, 1);
    if (!stmt)
        return SEAM_ERR_TERMINAL_STATE;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? SEAM_OK : rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : failed(st, "read");
}

seam_err seam_terminal_state_session_get(seam_terminal_state *st, int64_t id,
                                         seam_terminal_session *out) {
    param p[] = {I(id)};
    sqlite3_stmt *stmt;
    int rc;
    if (!st || !out)
        return SEAM_ERR_ARG;
    stmt = query(st, SESSION_COLUMNS "WHERE id = ?1", p, 1);
    if (!stmt)
        return SEAM_ERR_TERMINAL_STATE;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        read_session(stmt, out);
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? SEAM_OK : rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : failed(st, "read");
}

seam_err seam_terminal_state_card_get(seam_terminal_state *st, const char *cin,
                                      seam_terminal_card *out) {
    param p[] = {T(cin)};
    sqlite3_stmt *stmt;
    int rc;
    if (!st || !cin || !out)
        return SEAM_ERR_ARG;
    stmt = query(st,
                 "SELECT cin, first_seen, last_seen, sessions, bytes_up, bytes_down FROM card "
                 "WHERE cin = ?1",
                 p, 1);
    if (!stmt)
        return SEAM_ERR_TERMINAL_STATE;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        copy_text(out->cin, sizeof out->cin, sqlite3_column_text(stmt, 0));
        out->first_seen = sqlite3_column_int64(stmt, 1);
        out->last_seen = sqlite3_column_int64(stmt, 2);
        out->sessions = (uint32_t)sqlite3_column_int64(stmt, 3);
        out->bytes_up = (uint64_t)sqlite3_column_int64(stmt, 4);
        out->bytes_down = (uint64_t)sqlite3_column_int64(stmt, 5);
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? SEAM_OK : rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : failed(st, "read");
}

seam_err seam_terminal_state_sessions(seam_terminal_state *st, size_t limit,
                                      int (*fn)(void *ctx, const seam_terminal_session *s),
                                      void *ctx) {
    param p[] = {I(limit ? (int64_t)limit : -1)};
    sqlite3_stmt *stmt;
    int rc;
    if (!st || !fn)
        return SEAM_ERR_ARG;
    stmt = query(st, SESSION_COLUMNS "ORDER BY id DESC LIMIT ?1", p, 1);
    if (!stmt)
        return SEAM_ERR_TERMINAL_STATE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        seam_terminal_session s;
        read_session(stmt, &s);
        if (fn(ctx, &s)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SEAM_OK : failed(st, "read");
}

/* ---- the toolkit's later reports (issue 14, S7) ------------------------------------------ */

seam_err seam_terminal_state_report_put(seam_terminal_state *st, const char *cin,
                                        const seam_terminal_report *r) {
    seam_err e;
    if (!st || !cin_valid(cin) || !r ||
        (r->state != SEAM_TERMINAL_REPORT_TO_RUN && r->state != SEAM_TERMINAL_REPORT_TO_SEND) ||
        r->objects_len > sizeof r->objects || r->envelope_len > sizeof r->envelope)
        return SEAM_ERR_ARG;
    param p[] = {T(cin), I(r->state), I(r->number << 16 | r->type << 8 | r->qualifier),
                 B(r->objects, r->objects_len), B(r->envelope, r->envelope_len)};
    e = begin(st);
    if (e)
        return e;
    return finish(st, run(st,
                          "INSERT OR REPLACE INTO tk_report(cin, state, details, objects, "
                          "envelope) VALUES(?1, ?2, ?3, ?4, ?5)",
                          p, 5, NULL));
}

seam_err seam_terminal_state_report_get(seam_terminal_state *st, const char *cin,
                                        seam_terminal_report *out) {
    param p[] = {T(cin)};
    sqlite3_stmt *stmt;
    seam_err e = SEAM_OK;
    int rc;
    if (!st || !cin || !out)
        return SEAM_ERR_ARG;
    stmt =
        query(st, "SELECT state, details, objects, envelope FROM tk_report WHERE cin = ?1", p, 1);
    if (!stmt)
        return SEAM_ERR_TERMINAL_STATE;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        int64_t state = sqlite3_column_int64(stmt, 0), details = sqlite3_column_int64(stmt, 1);
        const void *objects = sqlite3_column_blob(stmt, 2);
        size_t objects_len = (size_t)sqlite3_column_bytes(stmt, 2);
        const void *envelope = sqlite3_column_blob(stmt, 3);
        size_t envelope_len = (size_t)sqlite3_column_bytes(stmt, 3);
        memset(out, 0, sizeof *out);
        /* a row this code did not write (or a damaged one) is no report */
        if ((state != SEAM_TERMINAL_REPORT_TO_RUN && state != SEAM_TERMINAL_REPORT_TO_SEND) ||
            details < 0 || details > 0xFFFFFF || objects_len > sizeof out->objects ||
            envelope_len > sizeof out->envelope ||
            (state == SEAM_TERMINAL_REPORT_TO_SEND && envelope_len == 0)) {
            seam_log(SEAM_LOG_ERROR, "terminal state: the report for %s is malformed", cin);
            e = SEAM_ERR_TERMINAL_STATE;
        } else {
            out->state = (seam_terminal_report_state)state;
            out->number = (uint8_t)(details >> 16);
            out->type = (uint8_t)(details >> 8);
            out->qualifier = (uint8_t)details;
            if (objects_len)
                memcpy(out->objects, objects, objects_len);
            out->objects_len = objects_len;
            if (envelope_len)
                memcpy(out->envelope, envelope, envelope_len);
            out->envelope_len = envelope_len;
        }
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_ROW)
        return e;
    return rc == SQLITE_DONE ? SEAM_ERR_NOT_FOUND : failed(st, "read");
}

seam_err seam_terminal_state_report_delete(seam_terminal_state *st, const char *cin) {
    param p[] = {T(cin)};
    seam_err e;
    if (!st || !cin_valid(cin))
        return SEAM_ERR_ARG;
    e = begin(st);
    return e ? e : finish(st, run(st, "DELETE FROM tk_report WHERE cin = ?1", p, 1, NULL));
}
