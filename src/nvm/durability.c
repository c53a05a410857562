/*
 * seam nvm: how commits reach the disk (docs/nvm.md "Durability").
 *
 * A file image runs with a write-ahead log beside it (<image>-wal) and
 * synchronous=FULL: a commit appends the pages it changed to the log as
 * frames and syncs the log once; that sync is the commit point. The image
 * file itself is written only by checkpoints, which copy the log's frames
 * into it, sync it, and let the log start over:
 *
 *   - after a commit, once the log holds checkpoint_frames frames or more
 *     (NVM_CHECKPOINT_FRAMES; a PASSIVE checkpoint: the log file keeps its size and is
 *     overwritten from its start, so later commits do not grow it);
 *   - on seam_nvm_checkpoint (the card calls it at power-off), and at close:
 *     TRUNCATE, and at close SQLite then deletes the empty log, so that after
 *     a clean close the image file alone is the card.
 *
 * SQLite's own checkpoints are off (its automatic one would run inside
 * COMMIT and could turn a durable commit into an error, its one at close
 * would run even when an open fails). The handle holds the file's SQLite
 * lock from its first read to close (locking_mode=EXCLUSIVE): one process
 * owns an image anyway (lock.c), so taking and dropping file locks around
 * every transaction would buy nothing, and in that mode SQLite keeps the
 * log's index in heap memory: there is never an <image>-shm file, and the
 * I/O shim needs no shared-memory methods.
 *
 * The rollback-journal mode of earlier versions (journal_mode=DELETE,
 * synchronous=EXTRA, normal locking) stays available through
 * seam_nvm_set_journal, for benches that compare; an image file left in it
 * opens in WAL mode again.
 *
 * A transaction's SQLite write transaction begins lazily, at its first
 * write (nvm_write_begin): a command that only reads never touches SQLite's
 * transaction machinery, and its commit does no I/O (nvm.c, STATES).
 */
#include <string.h>

#include "nvm_int.h"

/* Settings every image gets, whatever its journal (docs/nvm.md). */
static const char common_sql[] = "PRAGMA temp_store = MEMORY;"
                                 "PRAGMA secure_delete = ON;"
                                 "PRAGMA cell_size_check = ON;";

/* Records how many frames the log holds after each commit (SQLite's WAL hook). */
static int on_log_commit(void *ctx, sqlite3 *db, const char *schema, int frames) {
    seam_nvm *nvm = ctx;
    (void)db, (void)schema;
    nvm->log_frames = frames > 0 ? (uint64_t)frames : 0;
    nvm->log_pending = true;
    return SQLITE_OK;
}

/* Runs a statement that yields at most one text row and checks it equals want
   (NULL: any answer). */
static int pragma_expect(sqlite3 *db, const char *sql, const char *want) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *got = (const char *)sqlite3_column_text(stmt, 0);
        rc = want && (!got || strcmp(got, want) != 0) ? SQLITE_ERROR : SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = want ? SQLITE_ERROR : SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

seam_err nvm_durability_connect(seam_nvm *nvm) {
    int rc = SQLITE_OK;
    if (!nvm->vfs)
        return SEAM_OK; /* in memory: no file, no lock, no log */
    sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    sqlite3_wal_hook(nvm->db, on_log_commit, nvm); /* also turns the automatic checkpoint off */
    rc = pragma_expect(nvm->db, "PRAGMA locking_mode = EXCLUSIVE", "exclusive");
    return rc == SQLITE_OK ? SEAM_OK : nvm_open_failed(rc);
}

/* Puts a file image's connection in journal mode journal. */
static int set_mode(seam_nvm *nvm, seam_nvm_journal journal) {
    int rc = SQLITE_OK;
    if (journal == SEAM_NVM_JOURNAL_WAL) {
        rc = pragma_expect(nvm->db, "PRAGMA locking_mode = EXCLUSIVE", "exclusive");
        if (rc == SQLITE_OK)
            rc = pragma_expect(nvm->db, "PRAGMA journal_mode = WAL", "wal");
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(nvm->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    } else {
        rc = pragma_expect(nvm->db, "PRAGMA journal_mode = DELETE", "delete");
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(nvm->db, "PRAGMA synchronous = EXTRA", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = pragma_expect(nvm->db, "PRAGMA locking_mode = NORMAL", "normal");
    }
    if (rc == SQLITE_OK)
        nvm->journal = journal;
    return rc;
}

seam_err nvm_apply_settings(seam_nvm *nvm) {
    int rc = sqlite3_exec(nvm->db, common_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK && nvm->vfs)
        rc = set_mode(nvm, SEAM_NVM_JOURNAL_WAL);
    return rc == SQLITE_OK ? SEAM_OK : nvm_open_failed(rc);
}

seam_err nvm_write_begin(seam_nvm *nvm) {
    seam_err err = SEAM_OK;
    if (nvm->sql_txn)
        goto done;
    sqlite3_stmt *begin = nvm->stmt[NVM_SQL_BEGIN];
    int rc = sqlite3_step(begin);
    sqlite3_reset(begin);
    if (rc != SQLITE_DONE) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    nvm->sql_txn = true;
done:
    return err;
}

/*
 * Runs a checkpoint of mode (SQLITE_CHECKPOINT_*) on a file image in WAL mode
 * between transactions. SEAM_OK when every frame reached the image file.
 */
static seam_err checkpoint(seam_nvm *nvm, int mode) {
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(nvm->db, "main", mode, &frames, &copied);
    if (rc != SQLITE_OK)
        return nvm_engine_failed(nvm, rc);
    if (copied < frames)
        return SEAM_ERR_NVM; /* cannot happen with one connection; nothing is lost */
    nvm->log_pending = false;
    nvm->log_frames = mode == SQLITE_CHECKPOINT_PASSIVE ? nvm->log_frames : 0;
    return SEAM_OK;
}

seam_err seam_nvm_checkpoint(seam_nvm *nvm) {
    seam_err err = nvm_check_state(nvm, false);
    if (err == SEAM_OK && nvm->state != SEAM_NVM_STATE_READ)
        err = SEAM_ERR_NVM_STATE;
    if (err == SEAM_OK && nvm->vfs && nvm->journal == SEAM_NVM_JOURNAL_WAL && nvm->log_pending)
        err = checkpoint(nvm, SQLITE_CHECKPOINT_TRUNCATE);
    return err;
}

seam_err seam_nvm_set_journal(seam_nvm *nvm, seam_nvm_journal journal) {
    seam_err err = SEAM_OK;
    if (journal != SEAM_NVM_JOURNAL_WAL && journal != SEAM_NVM_JOURNAL_ROLLBACK)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK)
        err = seam_nvm_checkpoint(nvm);
    if (err != SEAM_OK || !nvm->vfs || journal == nvm->journal)
        goto done;
    int rc = set_mode(nvm, journal);
    if (rc != SQLITE_OK)
        err = nvm_engine_failed(nvm, rc);
done:
    return err;
}

void nvm_after_commit(seam_nvm *nvm) {
    if (nvm->vfs && nvm->journal == SEAM_NVM_JOURNAL_WAL &&
        nvm->log_frames >= nvm->checkpoint_frames)
        (void)checkpoint(nvm, SQLITE_CHECKPOINT_PASSIVE); /* a failure waits for the next one */
}

void nvm_before_close(seam_nvm *nvm) {
    bool sticky = nvm->state == SEAM_NVM_STATE_ERROR || nvm->state == SEAM_NVM_STATE_POWER_CUT;
    if (!nvm->started || sticky || !nvm->vfs || !nvm->db || nvm->journal != SEAM_NVM_JOURNAL_WAL)
        return;
    if (!sqlite3_get_autocommit(nvm->db) &&
        sqlite3_exec(nvm->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        return;
    nvm->sql_txn = false;
    nvm->state = SEAM_NVM_STATE_READ;
    /* Only a log checkpointed whole may go: SQLite then deletes it at close. */
    if (!nvm->log_pending || checkpoint(nvm, SQLITE_CHECKPOINT_TRUNCATE) == SEAM_OK)
        sqlite3_db_config(nvm->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, (int *)NULL);
}

void seam_nvm_io_counts_get(const seam_nvm *nvm, seam_nvm_io_counts *out) {
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (nvm && nvm->vfs)
        nvm_vfs_counts(nvm->vfs, out);
}
