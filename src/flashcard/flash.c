/*
 * The flash: one SQLite file (WAL, synchronous=FULL) holding the controller's
 * tables (fc_: the stored packages, the journal) and the perso layer's restore
 * store (perso_: records, its own journal, its refusal log), each through its
 * own connection. Every change of the controller's is one statement, so one
 * transaction. Both connections go through the VFS of flash_vfs.c, which counts
 * transactions and can cut one before it commits (docs/flashcard.md "Power
 * cuts"). A stored
 * package carries a digest over its AID, version and module: a row changed
 * behind the controller's back is refused (SEAM_ERR_FLASHCARD_TAMPERED).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flashcard_int.h"
#include "seam/crypto.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS fc_packages (aid BLOB PRIMARY KEY, version INTEGER NOT NULL,"
    " module BLOB NOT NULL, digest BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fc_journal (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " package BLOB NOT NULL);";

seam_err fc_flash_open(const char *path, fc_flash *f) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDWR | O_CREAT, 0600); /* the flash is the controller's alone */
    if (fd < 0 || close(fd) != 0)
        return SEAM_ERR_FLASHCARD_FLASH;
    if (fc_vfs_attach(path, &f->power, f->uri, sizeof f->uri))
        return SEAM_ERR_FLASHCARD_FLASH;
    f->attached = true;
    if (sqlite3_open_v2(f->uri, &f->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(f->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        fc_flash_close(f);
        return SEAM_ERR_FLASHCARD_FLASH;
    }
    sqlite3_busy_timeout(f->db, 2000);
    return SEAM_OK;
}

void fc_flash_close(fc_flash *f) {
    if (f->db)
        sqlite3_close(f->db);
    f->db = NULL;
    if (f->attached)
        fc_vfs_detach(&f->power);
    f->attached = false;
}

const char *fc_flash_name(const fc_flash *f, const char *path) {
    return sqlite3_compileoption_used("USE_URI") ? f->uri : path;
}

/* Before a change: SEAM_ERR_FLASHCARD_POWER_CUT when the flash lost power. */
static seam_err write_point(fc_flash *f) {
    return f->power.dead ? SEAM_ERR_FLASHCARD_POWER_CUT : SEAM_OK;
}

/* After a change's statement: a failure is a power cut when the VFS cut it. */
static seam_err done(fc_flash *f, sqlite3_stmt *st, int rc) {
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return f->power.dead ? SEAM_ERR_FLASHCARD_POWER_CUT : SEAM_ERR_FLASHCARD_FLASH;
    return SEAM_OK;
}

static void package_digest(const seam_gp_aid *aid, uint16_t version, const uint8_t *module,
                           size_t len, uint8_t out[32]) {
    /* SHA-256(aid_len || aid || version || SHA-256(module)) */
    uint8_t in[1 + SEAM_GP_AID_MAX + 2 + 32];
    size_t n = 0;
    in[n++] = (uint8_t)aid->len;
    memcpy(in + n, aid->bytes, aid->len);
    n += aid->len;
    in[n++] = (uint8_t)(version >> 8);
    in[n++] = (uint8_t)version;
    seam_crypto_sha256(module, len, in + n);
    seam_crypto_sha256(in, n + 32, out);
}

seam_err fc_flash_put_package(fc_flash *f, const seam_gp_aid *aid, uint16_t version,
                              const uint8_t *module, size_t len) {
    seam_err e = write_point(f);
    if (e)
        return e;
    uint8_t digest[32];
    package_digest(aid, version, module, len, digest);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO fc_packages VALUES (?, ?, ?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    sqlite3_bind_blob(st, 1, aid->bytes, (int)aid->len, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, version);
    sqlite3_bind_blob(st, 3, module, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, digest, 32, SQLITE_TRANSIENT);
    return done(f, st, sqlite3_step(st));
}

seam_err fc_flash_get_package(fc_flash *f, const seam_gp_aid *aid, uint8_t **module, size_t *len) {
    if (f->power.dead)
        return SEAM_ERR_FLASHCARD_POWER_CUT;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "SELECT version, module, digest FROM fc_packages WHERE aid = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    sqlite3_bind_blob(st, 1, aid->bytes, (int)aid->len, SQLITE_TRANSIENT);
    seam_err e = SEAM_ERR_FLASHCARD_NO_PACKAGE;
    if (sqlite3_step(st) == SQLITE_ROW) {
        uint16_t version = (uint16_t)sqlite3_column_int(st, 0);
        const uint8_t *m = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        const uint8_t *stored = sqlite3_column_blob(st, 2);
        uint8_t digest[32];
        package_digest(aid, version, m ? m : (const uint8_t *)"", n, digest);
        if (sqlite3_column_bytes(st, 2) != 32 || !stored || memcmp(stored, digest, 32)) {
            e = SEAM_ERR_FLASHCARD_TAMPERED;
        } else if (!(*module = malloc(n ? n : 1))) {
            e = SEAM_ERR_NOMEM;
        } else {
            if (n)
                memcpy(*module, m, n);
            *len = n;
            e = SEAM_OK;
        }
    }
    sqlite3_finalize(st);
    return e;
}

seam_err fc_flash_list(fc_flash *f, uint8_t *out, size_t cap, size_t *out_len, uint16_t *count) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db,
                           "SELECT aid, version, length(module) FROM fc_packages ORDER BY aid", -1,
                           &st, NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    size_t n = 0;
    uint16_t c = 0;
    seam_err e = SEAM_OK;
    while (!e && sqlite3_step(st) == SQLITE_ROW) {
        size_t alen = (size_t)sqlite3_column_bytes(st, 0);
        const uint8_t *aid = sqlite3_column_blob(st, 0);
        uint32_t size = (uint32_t)sqlite3_column_int64(st, 2);
        uint16_t version = (uint16_t)sqlite3_column_int(st, 1);
        if (alen < SEAM_GP_AID_MIN || alen > SEAM_GP_AID_MAX || !aid)
            continue;
        if (out) {
            if (cap - n < 1 + alen + 6) {
                e = SEAM_ERR_BUFFER_SMALL;
                break;
            }
            out[n] = (uint8_t)alen;
            memcpy(out + n + 1, aid, alen);
            uint8_t *p = out + n + 1 + alen;
            p[0] = (uint8_t)(version >> 8), p[1] = (uint8_t)version;
            p[2] = (uint8_t)(size >> 24), p[3] = (uint8_t)(size >> 16);
            p[4] = (uint8_t)(size >> 8), p[5] = (uint8_t)size;
            n += 1 + alen + 6;
        }
        c++;
    }
    sqlite3_finalize(st);
    if (out_len)
        *out_len = n;
    *count = c;
    return e;
}

seam_err fc_flash_journal_get(fc_flash *f, bool *present, seam_gp_aid *package) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "SELECT package FROM fc_journal WHERE id = 1", -1, &st, NULL) !=
        SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    *present = false;
    seam_err e = SEAM_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        if (n < SEAM_GP_AID_MIN || n > SEAM_GP_AID_MAX || !b) {
            e = SEAM_ERR_FLASHCARD_TAMPERED;
        } else {
            memcpy(package->bytes, b, n);
            package->len = n;
            *present = true;
        }
    }
    sqlite3_finalize(st);
    return e;
}

seam_err fc_flash_journal_set(fc_flash *f, const seam_gp_aid *package) {
    seam_err e = write_point(f);
    if (e)
        return e;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "INSERT OR REPLACE INTO fc_journal VALUES (1, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    sqlite3_bind_blob(st, 1, package->bytes, (int)package->len, SQLITE_TRANSIENT);
    return done(f, st, sqlite3_step(st));
}

seam_err fc_flash_journal_clear(fc_flash *f) {
    seam_err e = write_point(f);
    if (e)
        return e;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "DELETE FROM fc_journal", -1, &st, NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    return done(f, st, sqlite3_step(st));
}

/* Adds every row of one table, in key order, to the running digest acc. */
static seam_err digest_table(fc_flash *f, const char *sql, uint8_t acc[32]) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SEAM_ERR_FLASHCARD_FLASH;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            uint8_t all[64];
            const void *b = sqlite3_column_blob(st, c);
            size_t n = (size_t)sqlite3_column_bytes(st, c);
            memcpy(all, acc, 32);
            seam_crypto_sha256(b ? b : "", n, all + 32);
            seam_crypto_sha256(all, sizeof all, acc);
        }
    }
    sqlite3_finalize(st);
    return SEAM_OK;
}

seam_err fc_flash_digest(fc_flash *f, uint8_t digest[32]) {
    memset(digest, 0, 32);
    seam_err e = digest_table(f, "SELECT * FROM fc_packages ORDER BY aid", digest);
    if (!e)
        e = digest_table(f, "SELECT * FROM fc_journal", digest);
    return e;
}
