/*
 * seam nvm: the card image, its transactions and its fault injection.
 *
 * A card's persistent state lives in one SQLite database with a write-ahead
 * log beside it while a handle has it open (journal_mode=WAL,
 * synchronous=FULL, locking_mode=EXCLUSIVE; durability.c, and docs/nvm.md
 * says why). Two tables hold everything:
 *
 *   seam_meta(name, value)        magic "seam card image", format, capacity,
 *                                 and in a sealed image (format 2) keycheck
 *   seam_record(tbl, k, v)        the records, ordered by (tbl, k)
 *
 * This file owns the life of a handle: creating and opening an image, the
 * transaction states, the mapping of engine failures onto those states, and
 * the write-point fault injection. image.c holds the image format and its
 * checks, record.c the record operations, seal.c the sealing of values under
 * a storage key, lock.c the owner lock of an image file, durability.c the
 * journal mode, the checkpoints and the lazy start of SQLite's write
 * transaction, fault_vfs.c the I/O shim below SQLite.
 *
 * INVARIANTS
 *
 *  (1) used is the sum of seam_nvm_record_cost over the records this handle
 *      sees, the changes of the open transaction included.
 *  (2) used <= capacity at all times: a put that would break it fails with
 *      SEAM_ERR_NVM_FULL before it changes anything.
 *  (3) In READ no SQLite transaction is open (sql_txn is false) and
 *      used == used_at_begin.
 *  (4) In WRITE at most one SQLite write transaction is open: it begins
 *      (BEGIN IMMEDIATE, sql_txn) at the transaction's first write, after
 *      that write's checks and write point, and never before. Reads before
 *      it run in autocommit; they see the committed image, which nothing
 *      else can change meanwhile (one owner, and the handle holds SQLite's
 *      file lock from open to close). used_at_begin is the committed total.
 *      A commit without sql_txn is a write point and nothing more: no
 *      SQLite call, no I/O.
 *  (5) In FAILED nothing of the transaction has been committed, whether or
 *      not SQLite still has it open; the caller's only move is rollback.
 *  (6) When a public call returns, every prepared statement is reset, so no
 *      call leaves a read lock or a half-stepped statement behind.
 *  (7) A write point is counted after the call's argument and state checks
 *      and before it changes anything, so an injected fault never leaves a
 *      half-done call: the call either ran whole or not at all.
 *  (8) After a power cut no byte reaches the file from this handle: the
 *      shim refuses every I/O call. What is on disk is what SQLite wrote
 *      before the cut; the next open reads the log's committed frames and
 *      ignores the rest (or, for an image written in rollback-journal
 *      mode, rolls the hot journal back).
 *  (9) A failed seam_nvm_open never modifies the file: a file without a
 *      seam header is refused before SQLite opens it (the one exception is
 *      a file beside a hot rollback journal, which SQLite recovers first);
 *      nothing is checkpointed, and a log the open created is removed.
 * (10) ERROR and POWER_CUT are sticky: every call but close returns
 *      sticky_err, and only a new handle (the power-up) leaves them.
 * (11) A call that fails with SEAM_ERR_ARG, SEAM_ERR_NOT_FOUND,
 *      SEAM_ERR_BUFFER_SMALL, SEAM_ERR_NVM_FULL from the capacity check or
 *      SEAM_ERR_NVM_STATE changes nothing: not the image, not the state, not
 *      used or txn_bytes. Only write_points moves, when the call got past its
 *      checks (a FULL put and a delete of a missing key are write points).
 *      SEAM_ERR_NVM_FULL from the engine (SQLITE_FULL: the disk is full) is
 *      an engine failure like any other: the transaction is FAILED.
 * (12) A handle on a file holds the image's owner lock (lock.c) from before
 *      its first look at the file until after SQLite has closed it: no other
 *      handle, in any process, has the image meanwhile.
 * (13) In a sealed image (seal != NULL, format 2) every value in seam_record
 *      is sealed under the handle's key and bound to its (table, key), and
 *      the key check in seam_meta opens under that key; an unsealed handle
 *      never opens a sealed image nor the reverse (SEAM_ERR_NVM_KEY). Used
 *      and txn_bytes count stored bytes.
 *
 * STATES
 *
 *                        create / open / open_memory
 *        CLOSED -------------------------------------------+
 *          ^                                               |
 *          |                                               v
 *          |                        commit, rollback +---> READ
 *          |                                         |      |
 *          |  close (from every state)               |      | begin
 *          |                                         |      v
 *          |                                         +--- WRITE
 *          |                                                |
 *          |                      a write point fails       |
 *          |                      (injected FAIL or engine) v
 *          |                        READ <--- rollback --- FAILED
 *          |
 *          +---- ERROR      <-- corruption seen, rollback failed (any state)
 *          +---- POWER_CUT  <-- a power cut at either level      (any state)
 *
 * TRANSITIONS
 *
 *   CLOSED -> READ       seam_nvm_create(_sealed), seam_nvm_open(_sealed),
 *                        seam_nvm_open_memory (through nvm_start)
 *   READ   -> WRITE      seam_nvm_begin (no SQLite call: the first put,
 *                        delete or delete_prefix opens SQLite's transaction)
 *   WRITE  -> READ       seam_nvm_commit (the commit succeeded; without a
 *                        write nothing is committed), seam_nvm_rollback
 *   WRITE  -> FAILED     nvm_write_point (an injected SEAM_NVM_FAULT_FAIL),
 *                        nvm_engine_failed (SQLite failed a statement of the
 *                        transaction: a write, a read, or the commit)
 *   FAILED -> READ       seam_nvm_rollback
 *   any    -> ERROR      nvm_engine_failed (SQLITE_CORRUPT, SQLITE_NOTADB),
 *                        nvm_mark_corrupt (a record breaks the format),
 *                        seam_nvm_rollback (SQLite kept the transaction open)
 *   any    -> POWER_CUT  cut_power, from nvm_write_point (an injected
 *                        SEAM_NVM_FAULT_POWER_CUT) or nvm_engine_failed (the
 *                        shim's power went off inside an SQLite call)
 *   any    -> CLOSED     seam_nvm_close
 *
 * WHAT HOLDS IN EACH STATE
 *
 *   READ:      reads allowed, writes refused (SEAM_ERR_NVM_STATE); no
 *              SQLite transaction; used is the committed total;
 *              seam_nvm_checkpoint and seam_nvm_set_journal allowed.
 *   WRITE:     reads see the transaction's changes; every write updates used
 *              and txn_bytes; an error that changes nothing (11) keeps the
 *              handle in WRITE. Until the first write sql_txn is false and
 *              nothing of the transaction exists in SQLite.
 *   FAILED:    everything but rollback and close is SEAM_ERR_NVM_STATE;
 *              the image on disk is the last committed one.
 *   ERROR:     every call returns sticky_err (SEAM_ERR_NVM or
 *              SEAM_ERR_NVM_CORRUPT); the image on disk is the last
 *              committed one, as SQLite's journal guarantees.
 *   POWER_CUT: every call returns SEAM_ERR_NVM_POWER_CUT and the shim does
 *              no I/O; close frees the handle without writing, and the next
 *              open sees the last committed image.
 *
 * Close from READ, WRITE or FAILED rolls back, checkpoints the log into the
 * image file and removes the log (durability.c); from ERROR or POWER_CUT it
 * writes nothing and the next open recovers from the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvm_int.h"

/* Statement texts, indexed by nvm_sql. Ranges are [(?1,?2), (?3,?4)). */
static const char *const sql_text[NVM_SQL_COUNT] = {
    [NVM_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [NVM_SQL_COMMIT] = "COMMIT",
    [NVM_SQL_ROLLBACK] = "ROLLBACK",
    [NVM_SQL_VALUE_LEN] = "SELECT length(v) FROM seam_record WHERE tbl = ?1 AND k = ?2",
    [NVM_SQL_GET] = "SELECT v FROM seam_record WHERE tbl = ?1 AND k = ?2",
    [NVM_SQL_PUT] = "INSERT INTO seam_record(tbl, k, v) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT(tbl, k) DO UPDATE SET v = excluded.v",
    [NVM_SQL_DELETE] = "DELETE FROM seam_record WHERE tbl = ?1 AND k = ?2",
    [NVM_SQL_RANGE_SIZE] = "SELECT count(*), coalesce(sum(length(k) + length(v)), 0) "
                           "FROM seam_record WHERE (tbl, k) >= (?1, ?2) AND (tbl, k) < (?3, ?4)",
    [NVM_SQL_RANGE_DELETE] =
        "DELETE FROM seam_record WHERE (tbl, k) >= (?1, ?2) AND (tbl, k) < (?3, ?4)",
    [NVM_SQL_RANGE_FIRST] = "SELECT k, v FROM seam_record WHERE (tbl, k) >= (?1, ?2) "
                            "AND (tbl, k) < (?3, ?4) ORDER BY tbl, k LIMIT 1",
    [NVM_SQL_RANGE_AFTER] = "SELECT k, v FROM seam_record WHERE (tbl, k) > (?1, ?2) "
                            "AND (tbl, k) < (?3, ?4) ORDER BY tbl, k LIMIT 1",
    [NVM_SQL_RANGE_SCAN] = "SELECT k, v FROM seam_record WHERE (tbl, k) >= (?1, ?2) "
                           "AND (tbl, k) < (?3, ?4) ORDER BY tbl, k",
};

/* ---- state helpers ----------------------------------------------------- */

static bool is_sticky(const seam_nvm *nvm) {
    return nvm->state == SEAM_NVM_STATE_ERROR || nvm->state == SEAM_NVM_STATE_POWER_CUT;
}

/* READ|WRITE|FAILED -> POWER_CUT: freezes the handle and the shim. */
static void cut_power(seam_nvm *nvm) {
    nvm->state = SEAM_NVM_STATE_POWER_CUT;
    nvm->sticky_err = SEAM_ERR_NVM_POWER_CUT;
    if (nvm->vfs)
        nvm_vfs_power_off(nvm->vfs);
}

seam_err nvm_check_state(const seam_nvm *nvm, bool need_write) {
    seam_err err = SEAM_OK;
    if (!nvm)
        err = SEAM_ERR_ARG;
    else if (is_sticky(nvm))
        err = nvm->sticky_err;
    else if (nvm->visiting)
        err = SEAM_ERR_NVM_STATE;
    else if (need_write && nvm->state != SEAM_NVM_STATE_WRITE)
        err = SEAM_ERR_NVM_STATE;
    else if (!need_write && nvm->state == SEAM_NVM_STATE_FAILED)
        err = SEAM_ERR_NVM_STATE;
    return err;
}

seam_err nvm_write_point(seam_nvm *nvm) {
    seam_err err = SEAM_OK;
    nvm->write_points++;
    if (nvm->fault_countdown == 0 || --nvm->fault_countdown > 0)
        goto done;
    if (nvm->fault_mode == SEAM_NVM_FAULT_FAIL) {
        nvm->state = SEAM_NVM_STATE_FAILED;
        err = SEAM_ERR_NVM;
    } else {
        cut_power(nvm);
        err = SEAM_ERR_NVM_POWER_CUT;
    }
    nvm->fault_mode = SEAM_NVM_FAULT_OFF;
done:
    return err;
}

void nvm_mark_corrupt(seam_nvm *nvm) {
    nvm->state = SEAM_NVM_STATE_ERROR;
    nvm->sticky_err = SEAM_ERR_NVM_CORRUPT;
}

seam_err nvm_engine_failed(seam_nvm *nvm, int rc) {
    seam_err err = SEAM_ERR_NVM;
    if (nvm->vfs && nvm_vfs_powered_off(nvm->vfs)) {
        cut_power(nvm);
        err = SEAM_ERR_NVM_POWER_CUT;
        goto done;
    }
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
        nvm_mark_corrupt(nvm);
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    if ((rc & 0xff) == SQLITE_NOMEM)
        err = SEAM_ERR_NOMEM;
    if ((rc & 0xff) == SQLITE_FULL)
        err = SEAM_ERR_NVM_FULL; /* the disk is full (ENOSPC): as full as the card */
    if (nvm->state == SEAM_NVM_STATE_WRITE)
        nvm->state = SEAM_NVM_STATE_FAILED;
done:
    return err;
}

seam_err nvm_open_failed(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return SEAM_ERR_NVM_CORRUPT;
    case SQLITE_NOMEM:
        return SEAM_ERR_NOMEM;
    case SQLITE_CANTOPEN:
        return SEAM_ERR_IO;
    case SQLITE_BUSY: /* a program that ignores the owner lock has the file locked */
        return SEAM_ERR_NVM_BUSY;
    default:
        return SEAM_ERR_NVM;
    }
}

/* ---- opening ----------------------------------------------------------- */

/*
 * Allocates a handle (and its shim unless in_memory) in state READ, not yet
 * connected, owning lock_fd (released here on failure) and sealed under key
 * unless key is NULL.
 */
static seam_err nvm_alloc(bool in_memory, int lock_fd, const uint8_t *key, seam_nvm **out_nvm) {
    seam_err err = SEAM_OK;
    seam_nvm *nvm = calloc(1, sizeof *nvm);
    if (!nvm) {
        nvm_lock_release(lock_fd);
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    nvm->state = SEAM_NVM_STATE_READ;
    nvm->lock_fd = lock_fd;
    nvm->checkpoint_frames = NVM_CHECKPOINT_FRAMES;
    if (!in_memory)
        err = nvm_vfs_create(&nvm->vfs);
    if (err == SEAM_OK && key)
        err = nvm_seal_start(nvm, key);
    if (err != SEAM_OK) {
        nvm_seal_stop(nvm);
        nvm_vfs_destroy(nvm->vfs);
        nvm_lock_release(lock_fd);
        free(nvm);
        nvm = NULL;
    }
done:
    *out_nvm = nvm;
    return err;
}

/*
 * Frees a handle: finalizes its statements, closes SQLite, drops the shim and
 * the key, and only then lets go of the owner lock (invariant 12).
 */
static void nvm_free(seam_nvm *nvm) {
    bool closed = true;
    nvm_before_close(nvm);
    for (int i = 0; i < NVM_SQL_COUNT; i++)
        sqlite3_finalize(nvm->stmt[i]);
    if (nvm->db)
        closed = sqlite3_close(nvm->db) == SQLITE_OK;
    /* A connection that would not close still uses the shim: leak it rather than crash. */
    if (closed)
        nvm_vfs_destroy(nvm->vfs);
    nvm_seal_stop(nvm);
    nvm_lock_release(nvm->lock_fd);
    free(nvm);
}

/* Opens the SQLite connection with the defensive settings every image gets. */
static seam_err nvm_connect(seam_nvm *nvm, const char *path, int flags) {
    seam_err err = SEAM_OK;
    const char *vfs_name = nvm->vfs ? nvm_vfs_name(nvm->vfs) : NULL;
    int rc = sqlite3_open_v2(path, &nvm->db, flags | SQLITE_OPEN_EXRESCODE, vfs_name);
    if (rc != SQLITE_OK) {
        err = nvm->db ? nvm_open_failed(rc) : SEAM_ERR_NOMEM;
        goto done;
    }
    /* Nothing in an image may run code: no triggers, no views, no schema tricks. */
    sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
    sqlite3_limit(nvm->db, SQLITE_LIMIT_LENGTH, (int)SEAM_NVM_VALUE_MAX + 4096);
    err = nvm_durability_connect(nvm); /* the file's lock first: before anything reads it */
done:
    return err;
}

static seam_err nvm_prepare(seam_nvm *nvm) {
    seam_err err = SEAM_OK;
    for (int i = 0; i < NVM_SQL_COUNT && err == SEAM_OK; i++) {
        int rc = sqlite3_prepare_v3(nvm->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &nvm->stmt[i], NULL);
        if (rc != SQLITE_OK)
            err = nvm_open_failed(rc);
    }
    return err;
}

/* CLOSED -> READ: prepares the statements of a connected, checked handle. */
static seam_err nvm_start(seam_nvm *nvm, seam_nvm **out_nvm) {
    seam_err err = nvm_prepare(nvm);
    if (err == SEAM_OK) {
        nvm->started = true;
        nvm->log_pending = nvm->vfs != NULL; /* a log found at open may hold frames */
        *out_nvm = nvm;
    }
    return err;
}

/*
 * Builds a new image: allocates the handle (*nvm, which the caller frees on
 * error; it owns lock_fd and is sealed under key unless NULL), connects to
 * target with flags, applies the durability settings, writes the header for
 * capacity, checks it as an open would, and starts.
 */
static seam_err nvm_build(bool in_memory, int lock_fd, const uint8_t *key, const char *target,
                          int flags, size_t capacity, seam_nvm **nvm, seam_nvm **out_nvm) {
    seam_err err = nvm_alloc(in_memory, lock_fd, key, nvm);
    if (err == SEAM_OK)
        err = nvm_connect(*nvm, target, flags);
    if (err == SEAM_OK) { /* before the journal mode: a WAL database keeps its page size */
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA page_size = %d", NVM_PAGE_SIZE);
        int rc = sqlite3_exec((*nvm)->db, sql, NULL, NULL, NULL);
        err = rc == SQLITE_OK ? SEAM_OK : nvm_open_failed(rc);
    }
    if (err == SEAM_OK)
        err = nvm_apply_settings(*nvm);
    if (err == SEAM_OK)
        err = nvm_format(*nvm, capacity);
    if (err == SEAM_OK)
        err = nvm_validate(*nvm);
    if (err == SEAM_OK)
        err = nvm_start(*nvm, out_nvm);
    return err;
}

/* Creates the image file at path, sealed under key unless NULL (seam_nvm_create). */
static seam_err nvm_create_file(const char *path, size_t capacity, const uint8_t *key,
                                seam_nvm **out_nvm) {
    seam_err err = SEAM_OK;
    seam_nvm *nvm = NULL;
    bool created = false;
    int lock_fd = -1;
    if (!out_nvm || !path || !*path || capacity > SEAM_NVM_CAPACITY_MAX) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    *out_nvm = NULL;
    if (capacity == 0)
        capacity = SEAM_NVM_DEFAULT_CAPACITY;
    err = nvm_lock_take(path, true, &lock_fd);
    if (err != SEAM_OK)
        goto done;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno == EEXIST ? SEAM_ERR_ARG : SEAM_ERR_IO;
        goto done;
    }
    close(fd);
    created = true;
    err = nvm_build(false, lock_fd, key, path, SQLITE_OPEN_READWRITE, capacity, &nvm, out_nvm);
    lock_fd = -1; /* the handle's now, or released with it */
done:
    if (err != SEAM_OK && nvm) {
        lock_fd = nvm->lock_fd; /* keep it until the half-made image is gone */
        nvm->lock_fd = -1;
        nvm_free(nvm);
    }
    if (err != SEAM_OK && created) {
        char sibling[4096];
        unlink(path);
        if (nvm_sibling(path, "-journal", sibling, sizeof sibling))
            unlink(sibling);
        if (nvm_sibling(path, "-wal", sibling, sizeof sibling))
            unlink(sibling);
    }
    nvm_lock_release(lock_fd);
    return err;
}

seam_err seam_nvm_create(const char *path, size_t capacity, seam_nvm **out_nvm) {
    return nvm_create_file(path, capacity, NULL, out_nvm);
}

seam_err seam_nvm_create_sealed(const char *path, size_t capacity, const uint8_t key[32],
                                seam_nvm **out_nvm) {
    return key ? nvm_create_file(path, capacity, key, out_nvm) : SEAM_ERR_ARG;
}

/* Opens the image file at path, sealed under key unless NULL (seam_nvm_open). */
static seam_err nvm_open_file(const char *path, const uint8_t *key, seam_nvm **out_nvm) {
    seam_err err = SEAM_OK;
    seam_nvm *nvm = NULL;
    int lock_fd = -1;
    struct stat st;
    char log[4096];
    bool had_log = true; /* whether a log was there before: unknown until the lock is held */
    if (!out_nvm || !path || !*path) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    *out_nvm = NULL;
    /* Only a regular file gets a lock file beside it; then nothing looks inside before
       the lock is held (12). */
    if (stat(path, &st) != 0) {
        err = errno == ENOENT ? SEAM_ERR_NOT_FOUND : SEAM_ERR_IO;
        goto done;
    }
    err = S_ISREG(st.st_mode) ? nvm_lock_take(path, false, &lock_fd) : SEAM_ERR_NVM_CORRUPT;
    if (err == SEAM_OK && !nvm_sibling(path, "-wal", log, sizeof log))
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK)
        had_log = stat(log, &st) == 0;
    if (err == SEAM_OK)
        err = nvm_header_check(path);
    if (err == SEAM_ERR_NVM_CORRUPT && lock_fd >= 0 && nvm_has_log(path))
        err = SEAM_OK; /* SQLite reads the log (or rolls a journal back); nvm_validate decides */
    if (err == SEAM_OK) {
        err = nvm_alloc(false, lock_fd, key, &nvm);
        lock_fd = -1; /* the handle's now, or released */
    }
    if (err == SEAM_OK)
        err = nvm_connect(nvm, path, SQLITE_OPEN_READWRITE);
    if (err == SEAM_OK)
        err = nvm_validate(nvm);
    if (err == SEAM_OK)
        err = nvm_apply_settings(nvm);
    if (err == SEAM_OK)
        err = nvm_start(nvm, out_nvm);
done:
    if (err != SEAM_OK && nvm) {
        lock_fd = nvm->lock_fd; /* kept until the log SQLite may have created is gone */
        nvm->lock_fd = -1;
        nvm_free(nvm);
        if (!had_log && stat(log, &st) == 0 && st.st_size == 0)
            unlink(log);
    }
    nvm_lock_release(lock_fd);
    return err;
}

seam_err seam_nvm_open(const char *path, seam_nvm **out_nvm) {
    return nvm_open_file(path, NULL, out_nvm);
}

seam_err seam_nvm_open_sealed(const char *path, const uint8_t key[32], seam_nvm **out_nvm) {
    return key ? nvm_open_file(path, key, out_nvm) : SEAM_ERR_ARG;
}

seam_err seam_nvm_open_memory(size_t capacity, seam_nvm **out_nvm) {
    seam_err err = SEAM_OK;
    seam_nvm *nvm = NULL;
    if (!out_nvm || capacity > SEAM_NVM_CAPACITY_MAX) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    *out_nvm = NULL;
    if (capacity == 0)
        capacity = SEAM_NVM_DEFAULT_CAPACITY;
    err = nvm_build(true, -1, NULL, ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY,
                    capacity, &nvm, out_nvm);
done:
    if (err != SEAM_OK && nvm)
        nvm_free(nvm);
    return err;
}

void seam_nvm_close(seam_nvm *nvm) {
    if (!nvm)
        return;
    /* sqlite3_close rolls back an open transaction; after a power cut the shim refuses it. */
    nvm_free(nvm);
}

seam_nvm_state seam_nvm_get_state(const seam_nvm *nvm) {
    return nvm ? nvm->state : SEAM_NVM_STATE_ERROR;
}

bool seam_nvm_is_sealed(const seam_nvm *nvm) {
    return nvm && nvm->seal;
}

/* ---- transactions ------------------------------------------------------ */

/* Steps a statement that yields no rows; returns the SQLite result (SQLITE_DONE on success). */
static int run(sqlite3_stmt *stmt) {
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
}

seam_err seam_nvm_begin(seam_nvm *nvm) {
    seam_err err = nvm_check_state(nvm, false);
    if (err != SEAM_OK)
        goto done;
    if (nvm->state != SEAM_NVM_STATE_READ) {
        err = SEAM_ERR_NVM_STATE;
        goto done;
    }
    /* SQLite's write transaction waits for the first write (invariant 4). */
    nvm->state = SEAM_NVM_STATE_WRITE;
    nvm->used_at_begin = nvm->used;
    nvm->txn_bytes = 0;
done:
    return err;
}

seam_err seam_nvm_commit(seam_nvm *nvm) {
    seam_err err = nvm_check_state(nvm, true);
    if (err == SEAM_OK)
        err = nvm_write_point(nvm);
    if (err != SEAM_OK)
        goto done;
    if (nvm->sql_txn) { /* nothing written: nothing to commit (invariant 4) */
        int rc = run(nvm->stmt[NVM_SQL_COMMIT]);
        if (rc != SQLITE_DONE) {
            err = nvm_engine_failed(nvm, rc);
            goto done;
        }
        nvm->sql_txn = false;
    }
    nvm->state = SEAM_NVM_STATE_READ;
    nvm->used_at_begin = nvm->used;
    nvm_after_commit(nvm);
done:
    return err;
}

seam_err seam_nvm_rollback(seam_nvm *nvm) {
    seam_err err = nvm_check_state(nvm, false);
    if (err == SEAM_ERR_NVM_STATE && !nvm->visiting)
        err = SEAM_OK; /* FAILED: what rollback is for */
    if (err == SEAM_OK && nvm->state == SEAM_NVM_STATE_READ)
        err = SEAM_ERR_NVM_STATE;
    if (err != SEAM_OK)
        goto done;
    /* SQLite may already have ended the transaction itself after an I/O error. */
    if (!sqlite3_get_autocommit(nvm->db)) {
        int rc = run(nvm->stmt[NVM_SQL_ROLLBACK]);
        if (rc != SQLITE_DONE && !sqlite3_get_autocommit(nvm->db)) {
            err = nvm_engine_failed(nvm, rc);
            if (!is_sticky(nvm)) {
                nvm->state = SEAM_NVM_STATE_ERROR;
                nvm->sticky_err = err;
            }
            goto done;
        }
    }
    nvm->sql_txn = false;
    /* Whatever SQLite could not undo in place, its journal undoes at the next access. */
    if (nvm->vfs && nvm_vfs_powered_off(nvm->vfs)) {
        cut_power(nvm);
        err = SEAM_ERR_NVM_POWER_CUT;
        goto done;
    }
    nvm->state = SEAM_NVM_STATE_READ;
    nvm->used = nvm->used_at_begin;
done:
    return err;
}

/* ---- fault injection --------------------------------------------------- */

seam_err seam_nvm_fault_set(seam_nvm *nvm, seam_nvm_fault_mode mode, uint64_t n) {
    seam_err err = SEAM_OK;
    bool known = mode == SEAM_NVM_FAULT_OFF || mode == SEAM_NVM_FAULT_FAIL ||
                 mode == SEAM_NVM_FAULT_POWER_CUT;
    if (!nvm || !known || (mode != SEAM_NVM_FAULT_OFF && n == 0)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    nvm->fault_mode = mode;
    nvm->fault_countdown = mode == SEAM_NVM_FAULT_OFF ? 0 : n;
done:
    return err;
}

uint64_t seam_nvm_write_points(const seam_nvm *nvm) {
    return nvm ? nvm->write_points : 0;
}

seam_err seam_nvm_io_fault_set(seam_nvm *nvm, seam_nvm_io_fault_mode mode, uint64_t n) {
    seam_err err = SEAM_OK;
    bool known = mode >= SEAM_NVM_IO_OFF && mode <= SEAM_NVM_IO_DISK_FULL;
    if (!nvm || !known || (mode != SEAM_NVM_IO_OFF && n == 0)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (!nvm->vfs) {
        err = SEAM_ERR_UNSUPPORTED;
        goto done;
    }
    nvm_vfs_fault_set(nvm->vfs, mode, n);
done:
    return err;
}

uint64_t seam_nvm_io_points(const seam_nvm *nvm) {
    return nvm && nvm->vfs ? nvm_vfs_io_points(nvm->vfs) : 0;
}
