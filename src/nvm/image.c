/*
 * seam nvm: the image format. The schema every image has, the formatting of
 * a new image, and the checks an image passes before a handle opens it: the
 * header without SQLite, then the application id, format, schema, magic,
 * capacity, B-tree structure and accounting, and for a sealed image the key
 * check (docs/nvm.md "Image format"). nvm.c calls these while it opens a
 * handle; nothing here keeps state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvm_int.h"

/* PRAGMA application_id of every seam image: "SEAM" in ASCII. */
#define NVM_APPLICATION_ID 0x5345414D
#define NVM_MAGIC          "seam card image"
#define NVM_HEADER_SIZE    100

/* The schema, exactly as SQLite keeps it in sqlite_schema.sql. */
static const char schema_meta[] =
    "CREATE TABLE seam_meta(name TEXT PRIMARY KEY NOT NULL, value ANY NOT NULL) STRICT, "
    "WITHOUT ROWID";
static const char schema_record[] =
    "CREATE TABLE seam_record(tbl INTEGER NOT NULL CHECK (tbl BETWEEN 0 AND 65535), "
    "k BLOB NOT NULL CHECK (length(k) <= 255), v BLOB NOT NULL, PRIMARY KEY (tbl, k)) STRICT, "
    "WITHOUT ROWID";

/*
 * Maps an SQLite failure while an image is checked: a query that does not even
 * compile (SQLITE_ERROR: a table or column is missing) means a foreign file.
 */
static seam_err validate_failed(int rc) {
    return (rc & 0xff) == SQLITE_ERROR ? SEAM_ERR_NVM_CORRUPT : nvm_open_failed(rc);
}

/*
 * Writes the schema and the meta records of a new image, in one transaction:
 * format 1, or for a sealed handle format 2 with its key check.
 */
seam_err nvm_format(seam_nvm *nvm, size_t capacity) {
    char sql[1024], check_row[32 + 2 * NVM_KEY_CHECK_SIZE] = "";
    uint8_t check[NVM_KEY_CHECK_SIZE];
    if (nvm->seal) {
        seam_err err = nvm_key_check_make(nvm, check);
        if (err != SEAM_OK)
            return err;
        int at = snprintf(check_row, sizeof check_row, ", ('keycheck', x'");
        for (size_t i = 0; i < sizeof check; i++)
            at += snprintf(check_row + at, sizeof check_row - (size_t)at, "%02x", check[i]);
        snprintf(check_row + at, sizeof check_row - (size_t)at, "')");
    }
    int len = snprintf(sql, sizeof sql,
                       "BEGIN IMMEDIATE;"
                       "%s; %s;"
                       "INSERT INTO seam_meta(name, value) VALUES ('magic', '%s'), "
                       "('format', %d), ('capacity', %zu)%s;"
                       "PRAGMA application_id = %d;"
                       "COMMIT;",
                       schema_meta, schema_record, NVM_MAGIC, nvm->seal ? 2 : 1, capacity,
                       check_row, NVM_APPLICATION_ID);
    int rc = len < 0 || (size_t)len >= sizeof sql ? SQLITE_INTERNAL
                                                  : sqlite3_exec(nvm->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SEAM_OK : nvm_open_failed(rc);
}

/*
 * Checks the first 100 bytes of path without SQLite: an SQLite 3 header in
 * write-ahead-log mode (bytes 18 and 19: 2) or rollback-journal mode (1: an
 * image written before the log, or by seam_nvm_set_journal) carrying seam's
 * application id. SEAM_OK, or SEAM_ERR_NOT_FOUND, SEAM_ERR_IO,
 * SEAM_ERR_NVM_CORRUPT.
 */
seam_err nvm_header_check(const char *path) {
    seam_err err = SEAM_OK;
    uint8_t header[NVM_HEADER_SIZE];
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno == ENOENT ? SEAM_ERR_NOT_FOUND : SEAM_ERR_IO;
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = SEAM_ERR_IO;
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    got = read(fd, header, sizeof header);
    if (got < 0) {
        err = SEAM_ERR_IO;
        goto done;
    }
    uint32_t app_id = (uint32_t)header[68] << 24 | (uint32_t)header[69] << 16 |
                      (uint32_t)header[70] << 8 | header[71];
    bool versions = (header[18] == 1 || header[18] == 2) && header[19] == header[18];
    if (got != NVM_HEADER_SIZE || memcmp(header, "SQLite format 3", 16) != 0 || !versions ||
        app_id != NVM_APPLICATION_ID)
        err = SEAM_ERR_NVM_CORRUPT;
done:
    if (fd >= 0)
        close(fd);
    return err;
}

bool nvm_sibling(const char *path, const char *suffix, char *out, size_t size) {
    int len = snprintf(out, size, "%s%s", path, suffix);
    return len > 0 && (size_t)len < size;
}

/* True when path has a non-empty rollback journal or write-ahead log beside it. */
bool nvm_has_log(const char *path) {
    static const char *const suffixes[] = {"-journal", "-wal"};
    char log[4096];
    struct stat st;
    for (size_t i = 0; i < 2; i++)
        if (nvm_sibling(path, suffixes[i], log, sizeof log) && stat(log, &st) == 0 &&
            st.st_size > 0)
            return true;
    return false;
}

/* Runs a query that yields one row of one integer column. */
static int query_int(sqlite3 *db, const char *sql, sqlite3_int64 *value) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        goto done;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) {
        *value = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;
    }
done:
    sqlite3_finalize(stmt);
    return rc;
}

/* True when the schema is exactly seam's two tables, nothing more. */
static int schema_matches(sqlite3 *db, bool *matches) {
    static const char *const expected[2][3] = {
        {"seam_meta", "seam_meta", schema_meta},
        {"seam_record", "seam_record", schema_record},
    };
    sqlite3_stmt *stmt = NULL;
    int rows = 0;
    *matches = true;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                                "ORDER BY name",
                                -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (rows >= 2) {
            *matches = false;
            break;
        }
        for (int col = 0; col < 4; col++) {
            const char *want = col == 0 ? "table" : expected[rows][col - 1];
            const char *got = (const char *)sqlite3_column_text(stmt, col);
            if (!got || strcmp(got, want) != 0)
                *matches = false;
        }
        rows++;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        rc = SQLITE_OK;
    if (rows != 2)
        *matches = false;
    sqlite3_finalize(stmt);
    return rc;
}

/*
 * Checks an opened file is a whole seam image and loads capacity and used.
 * SEAM_ERR_NVM_CORRUPT for anything foreign or damaged, SEAM_ERR_UNSUPPORTED
 * for a newer format.
 */
seam_err nvm_validate(seam_nvm *nvm) {
    seam_err err = SEAM_OK;
    sqlite3_int64 app_id = 0, format = 0, capacity = 0, used = 0, count = 0;
    bool matches = false;
    int rc = query_int(nvm->db, "PRAGMA application_id", &app_id);
    if (rc != SQLITE_OK || app_id != NVM_APPLICATION_ID) {
        err = rc == SQLITE_OK ? SEAM_ERR_NVM_CORRUPT : validate_failed(rc);
        goto done;
    }
    /* The format first: a newer seam may have changed the schema. */
    rc = query_int(nvm->db, "SELECT value FROM seam_meta WHERE name = 'format'", &format);
    if (rc == SQLITE_OK && format > SEAM_NVM_FORMAT_VERSION) {
        err = SEAM_ERR_UNSUPPORTED;
        goto done;
    }
    if (rc == SQLITE_OK)
        rc = schema_matches(nvm->db, &matches);
    if (rc == SQLITE_OK && matches)
        rc = query_int(nvm->db,
                       "SELECT count(*) FROM seam_meta WHERE name = 'magic' AND value = '" NVM_MAGIC
                       "'",
                       &count);
    if (rc == SQLITE_OK && matches)
        rc = query_int(nvm->db, "SELECT value FROM seam_meta WHERE name = 'capacity'", &capacity);
    if (rc != SQLITE_OK) {
        err = validate_failed(rc);
        goto done;
    }
    if (!matches || count != 1 || format < 1 || capacity < 0 ||
        (uint64_t)capacity > (uint64_t)SEAM_NVM_CAPACITY_MAX) {
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    /* quick_check yields the single row 'ok' for a whole B-tree structure. */
    sqlite3_stmt *check = NULL;
    rc = sqlite3_prepare_v2(nvm->db, "PRAGMA quick_check(1)", -1, &check, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(check)) == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(check, 0);
        rc = verdict && strcmp(verdict, "ok") == 0 ? SQLITE_OK : SQLITE_CORRUPT;
    }
    sqlite3_finalize(check);
    if (rc == SQLITE_OK)
        rc = query_int(nvm->db,
                       "SELECT coalesce(sum(length(k) + length(v)), 0) + 16 * count(*) "
                       "FROM seam_record",
                       &used);
    if (rc != SQLITE_OK) {
        err = validate_failed(rc);
        goto done;
    }
    if (used < 0 || used > capacity) {
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    /* Format 2 is sealed: only its key opens it, and a key opens nothing else (13). */
    if ((format == 2) != (nvm->seal != NULL)) {
        err = SEAM_ERR_NVM_KEY;
        goto done;
    }
    if (nvm->seal && (err = nvm_key_check_verify(nvm)) != SEAM_OK)
        goto done;
    nvm->capacity = (size_t)capacity;
    nvm->used = (size_t)used;
    nvm->used_at_begin = nvm->used;
done:
    return err;
}
