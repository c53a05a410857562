/*
 * seam nvm: records. Put, get, delete, prefix delete, cursors and foreach
 * over the seam_record table, with the capacity accounting of invariants (1)
 * and (2) in nvm.c.
 *
 * Every value goes through seal.c on its way in (nvm_seal_value) and out
 * (nvm_open_value): in a sealed image it is stored sealed and opened on every
 * read; lengths reported to callers are plain lengths, capacity counts stored
 * ones (invariant 13).
 *
 * Every range of keys is written as the half-open row-value interval
 * [(table, low), (high_table, high)) so SQLite walks the primary key for it:
 * the keys of a table starting with prefix P are [(t, P), (t, succ(P))),
 * where succ(P) drops P's trailing 0xff bytes and adds one to the last byte
 * left; when nothing is left (P empty or all 0xff) the range ends at (t+1, "").
 */
#include <string.h>

#include "nvm_int.h"
#include "seam/util.h"

/* What empty keys and values point at, so callers never see NULL. */
static const uint8_t empty_bytes[1];

/* The keys of one table that start with a prefix, as a range (see above). */
typedef struct {
    sqlite3_int64 table;
    sqlite3_int64 high_table;
    size_t high_len;
    uint8_t high[SEAM_NVM_KEY_MAX];
} key_range;

static void range_of_prefix(key_range *range, uint16_t table, const uint8_t *prefix,
                            size_t prefix_len) {
    range->table = table;
    range->high_table = table;
    range->high_len = prefix_len;
    if (prefix_len > 0)
        memcpy(range->high, prefix, prefix_len);
    while (range->high_len > 0 && range->high[range->high_len - 1] == 0xff)
        range->high_len--;
    if (range->high_len > 0)
        range->high[range->high_len - 1]++;
    else
        range->high_table = (sqlite3_int64)table + 1;
}

/* Binds bytes as a BLOB (an empty one for length 0, never SQL NULL). */
static int bind_bytes(sqlite3_stmt *stmt, int index, const uint8_t *bytes, size_t len) {
    if (len == 0)
        return sqlite3_bind_zeroblob(stmt, index, 0);
    return sqlite3_bind_blob(stmt, index, bytes, (int)len, SQLITE_STATIC);
}

static int bind_key(sqlite3_stmt *stmt, uint16_t table, const uint8_t *key, size_t key_len) {
    int rc = sqlite3_bind_int64(stmt, 1, table);
    return rc == SQLITE_OK ? bind_bytes(stmt, 2, key, key_len) : rc;
}

/* Binds ?1..?4 to the range, starting at low instead of the prefix itself. */
static int bind_range(sqlite3_stmt *stmt, const key_range *range, const uint8_t *low,
                      size_t low_len) {
    int rc = sqlite3_bind_int64(stmt, 1, range->table);
    if (rc == SQLITE_OK)
        rc = bind_bytes(stmt, 2, low, low_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 3, range->high_table);
    if (rc == SQLITE_OK)
        rc = bind_bytes(stmt, 4, range->high, range->high_len);
    return rc;
}

/* Resets a statement and drops its bindings (invariant (6)). */
static void finish(sqlite3_stmt *stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static bool bytes_ok(const uint8_t *bytes, size_t len, size_t max) {
    return len <= max && (bytes || len == 0);
}

/* Column i of the current row as bytes; never NULL. */
static const uint8_t *column_bytes(sqlite3_stmt *stmt, int i, size_t *len) {
    const uint8_t *bytes = sqlite3_column_blob(stmt, i);
    *len = (size_t)sqlite3_column_bytes(stmt, i);
    return bytes ? bytes : empty_bytes;
}

/*
 * Looks up the cost of the record at (table, key): *cost is 0 when there is
 * none. Engine failures go through nvm_engine_failed.
 */
static seam_err current_cost(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                             size_t *cost) {
    seam_err err = SEAM_OK;
    sqlite3_stmt *stmt = nvm->stmt[NVM_SQL_VALUE_LEN];
    *cost = 0;
    int rc = bind_key(stmt, table, key, key_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *cost = seam_nvm_record_cost(key_len, (size_t)sqlite3_column_int64(stmt, 0));
    else if (rc != SQLITE_DONE)
        err = nvm_engine_failed(nvm, rc);
    finish(stmt);
    return err;
}

seam_err seam_nvm_put(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len) {
    size_t old_cost = 0, new_cost = 0, stored_len = 0;
    const uint8_t *stored = NULL;
    sqlite3_stmt *stmt = NULL;
    seam_err err = nvm_check_state(nvm, true);
    if (err != SEAM_OK)
        goto done;
    if (!bytes_ok(key, key_len, SEAM_NVM_KEY_MAX) ||
        !bytes_ok(value, value_len, SEAM_NVM_VALUE_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    stored_len = nvm_stored_len(nvm, value_len);
    new_cost = seam_nvm_record_cost(key_len, stored_len);
    err = nvm_write_point(nvm);
    if (err == SEAM_OK)
        err = current_cost(nvm, table, key, key_len, &old_cost);
    if (err != SEAM_OK)
        goto done;
    if (nvm->used - old_cost + new_cost > nvm->capacity) {
        err = SEAM_ERR_NVM_FULL;
        goto done;
    }
    err = nvm_seal_value(nvm, table, key, key_len, value, value_len, &stored);
    if (err != SEAM_OK) { /* nothing reached the image, but the put did not happen */
        nvm->state = SEAM_NVM_STATE_FAILED;
        goto done;
    }
    err = nvm_write_begin(nvm);
    if (err != SEAM_OK)
        goto done;
    stmt = nvm->stmt[NVM_SQL_PUT];
    int rc = bind_key(stmt, table, key, key_len);
    if (rc == SQLITE_OK)
        rc = bind_bytes(stmt, 3, stored, stored_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    nvm->used = nvm->used - old_cost + new_cost;
    nvm->txn_bytes += key_len + stored_len;
done:
    if (stmt)
        finish(stmt);
    return err;
}

seam_err seam_nvm_get(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                      uint8_t *value, size_t value_size, size_t *value_len) {
    sqlite3_stmt *stmt = NULL;
    seam_err err = nvm_check_state(nvm, false);
    if (err != SEAM_OK)
        goto done;
    if (!value_len || !bytes_ok(key, key_len, SEAM_NVM_KEY_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    stmt = nvm->stmt[NVM_SQL_GET];
    int rc = bind_key(stmt, table, key, key_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        err = SEAM_ERR_NOT_FOUND;
        goto done;
    }
    if (rc != SQLITE_ROW) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    size_t stored_len = 0, len = 0;
    const uint8_t *bytes = column_bytes(stmt, 0, &stored_len);
    if (!nvm_plain_len(nvm, stored_len, &len)) {
        nvm_mark_corrupt(nvm);
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    *value_len = len;
    if (value && value_size < len)
        err = SEAM_ERR_BUFFER_SMALL;
    else if (value)
        err = nvm_open_value(nvm, table, key, key_len, bytes, stored_len, value);
done:
    if (stmt)
        finish(stmt);
    return err;
}

seam_err seam_nvm_delete(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len) {
    size_t old_cost = 0;
    sqlite3_stmt *stmt = NULL;
    seam_err err = nvm_check_state(nvm, true);
    if (err != SEAM_OK)
        goto done;
    if (!bytes_ok(key, key_len, SEAM_NVM_KEY_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    err = nvm_write_point(nvm);
    if (err == SEAM_OK)
        err = current_cost(nvm, table, key, key_len, &old_cost);
    if (err == SEAM_OK && old_cost == 0)
        err = SEAM_ERR_NOT_FOUND;
    if (err == SEAM_OK)
        err = nvm_write_begin(nvm);
    if (err != SEAM_OK)
        goto done;
    stmt = nvm->stmt[NVM_SQL_DELETE];
    int rc = bind_key(stmt, table, key, key_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    nvm->used -= old_cost;
done:
    if (stmt)
        finish(stmt);
    return err;
}

seam_err seam_nvm_delete_prefix(seam_nvm *nvm, uint16_t table, const uint8_t *prefix,
                                size_t prefix_len, size_t *deleted) {
    key_range range;
    sqlite3_stmt *size_stmt = NULL, *delete_stmt = NULL;
    sqlite3_int64 count = 0, bytes = 0;
    seam_err err = nvm_check_state(nvm, true);
    if (err != SEAM_OK)
        goto done;
    if (!bytes_ok(prefix, prefix_len, SEAM_NVM_KEY_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    err = nvm_write_point(nvm);
    if (err != SEAM_OK)
        goto done;
    range_of_prefix(&range, table, prefix, prefix_len);
    size_stmt = nvm->stmt[NVM_SQL_RANGE_SIZE];
    int rc = bind_range(size_stmt, &range, prefix, prefix_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(size_stmt);
    if (rc == SQLITE_ROW) {
        count = sqlite3_column_int64(size_stmt, 0);
        bytes = sqlite3_column_int64(size_stmt, 1);
        finish(size_stmt);
        rc = SQLITE_DONE;
    }
    if (rc == SQLITE_DONE && count > 0) { /* nothing to delete: nothing to write */
        err = nvm_write_begin(nvm);
        if (err != SEAM_OK)
            goto done;
        delete_stmt = nvm->stmt[NVM_SQL_RANGE_DELETE];
        rc = bind_range(delete_stmt, &range, prefix, prefix_len);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(delete_stmt);
    }
    if (rc != SQLITE_DONE) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    nvm->used -= (size_t)bytes + (size_t)count * SEAM_NVM_RECORD_OVERHEAD;
    if (deleted)
        *deleted = (size_t)count;
done:
    if (size_stmt)
        finish(size_stmt);
    if (delete_stmt)
        finish(delete_stmt);
    return err;
}

seam_err seam_nvm_cursor_init(seam_nvm_cursor *cursor, uint16_t table, const uint8_t *prefix,
                              size_t prefix_len) {
    seam_err err = SEAM_OK;
    if (!cursor || !bytes_ok(prefix, prefix_len, SEAM_NVM_KEY_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    memset(cursor, 0, sizeof *cursor);
    cursor->table = table;
    cursor->prefix_len = prefix_len;
    if (prefix_len > 0)
        memcpy(cursor->prefix, prefix, prefix_len);
done:
    return err;
}

seam_err seam_nvm_cursor_next(seam_nvm *nvm, seam_nvm_cursor *cursor, uint8_t *key, size_t key_size,
                              size_t *key_len, uint8_t *value, size_t value_size,
                              size_t *value_len) {
    key_range range;
    sqlite3_stmt *stmt = NULL;
    seam_err err = nvm_check_state(nvm, false);
    if (err != SEAM_OK)
        goto done;
    if (!cursor || !key_len || !value_len || cursor->prefix_len > SEAM_NVM_KEY_MAX ||
        cursor->last_len > SEAM_NVM_KEY_MAX) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (cursor->finished) {
        err = SEAM_ERR_NOT_FOUND;
        goto done;
    }
    range_of_prefix(&range, cursor->table, cursor->prefix, cursor->prefix_len);
    stmt = nvm->stmt[cursor->started ? NVM_SQL_RANGE_AFTER : NVM_SQL_RANGE_FIRST];
    int rc = cursor->started ? bind_range(stmt, &range, cursor->last, cursor->last_len)
                             : bind_range(stmt, &range, cursor->prefix, cursor->prefix_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        cursor->finished = true;
        err = SEAM_ERR_NOT_FOUND;
        goto done;
    }
    if (rc != SQLITE_ROW) {
        err = nvm_engine_failed(nvm, rc);
        goto done;
    }
    size_t klen = 0, stored_len = 0, vlen = 0;
    const uint8_t *kbytes = column_bytes(stmt, 0, &klen);
    const uint8_t *vbytes = column_bytes(stmt, 1, &stored_len);
    if (klen > SEAM_NVM_KEY_MAX || !nvm_plain_len(nvm, stored_len, &vlen)) {
        nvm_mark_corrupt(nvm);
        err = SEAM_ERR_NVM_CORRUPT;
        goto done;
    }
    *key_len = klen;
    *value_len = vlen;
    if ((key && key_size < klen) || (value && value_size < vlen)) {
        err = SEAM_ERR_BUFFER_SMALL;
        goto done;
    }
    if (value)
        err = nvm_open_value(nvm, cursor->table, kbytes, klen, vbytes, stored_len, value);
    if (err != SEAM_OK)
        goto done;
    if (key && klen > 0)
        memcpy(key, kbytes, klen);
    if (klen > 0)
        memcpy(cursor->last, kbytes, klen);
    cursor->last_len = klen;
    cursor->started = true;
done:
    if (stmt)
        finish(stmt);
    return err;
}

seam_err seam_nvm_foreach(seam_nvm *nvm, uint16_t table, const uint8_t *prefix, size_t prefix_len,
                          seam_nvm_visit_fn visit, void *ctx) {
    key_range range;
    sqlite3_stmt *stmt = NULL;
    seam_err err = nvm_check_state(nvm, false);
    if (err != SEAM_OK)
        goto done;
    if (!visit || !bytes_ok(prefix, prefix_len, SEAM_NVM_KEY_MAX)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    range_of_prefix(&range, table, prefix, prefix_len);
    stmt = nvm->stmt[NVM_SQL_RANGE_SCAN];
    int rc = bind_range(stmt, &range, prefix, prefix_len);
    nvm->visiting = true;
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        size_t klen = 0, stored_len = 0, vlen = 0;
        const uint8_t *kbytes = column_bytes(stmt, 0, &klen);
        const uint8_t *vbytes = column_bytes(stmt, 1, &stored_len);
        if (klen > SEAM_NVM_KEY_MAX || !nvm_plain_len(nvm, stored_len, &vlen)) {
            nvm->visiting = false;
            nvm_mark_corrupt(nvm);
            err = SEAM_ERR_NVM_CORRUPT;
            goto done;
        }
        if (nvm->seal) { /* opened into the scratch buffer, wiped after the visit */
            err = nvm_scratch_reserve(nvm, vlen);
            if (err == SEAM_OK)
                err = nvm_open_value(nvm, table, kbytes, klen, vbytes, stored_len, nvm->scratch);
            if (err != SEAM_OK) {
                nvm->visiting = false;
                goto done;
            }
            vbytes = nvm->scratch;
        }
        int verdict = visit(ctx, kbytes, klen, vbytes, vlen);
        if (nvm->seal)
            seam_secure_zero(nvm->scratch, vlen);
        if (verdict != 0) {
            err = verdict < 0 ? verdict : SEAM_OK;
            rc = SQLITE_DONE;
            break;
        }
        rc = SQLITE_OK;
    }
    nvm->visiting = false;
    if (rc != SQLITE_DONE)
        err = nvm_engine_failed(nvm, rc);
done:
    if (stmt)
        finish(stmt);
    return err;
}

/* ---- capacity and accounting ------------------------------------------- */

size_t seam_nvm_record_cost(size_t key_len, size_t value_len) {
    return key_len + value_len + SEAM_NVM_RECORD_OVERHEAD;
}

size_t seam_nvm_put_cost(const seam_nvm *nvm, size_t key_len, size_t value_len) {
    return seam_nvm_record_cost(key_len, nvm ? nvm_stored_len(nvm, value_len) : value_len);
}

size_t seam_nvm_capacity(const seam_nvm *nvm) {
    return nvm ? nvm->capacity : 0;
}

size_t seam_nvm_used_bytes(const seam_nvm *nvm) {
    return nvm ? nvm->used : 0;
}

size_t seam_nvm_free_bytes(const seam_nvm *nvm) {
    return nvm ? nvm->capacity - nvm->used : 0;
}

uint64_t seam_nvm_txn_bytes_written(const seam_nvm *nvm) {
    return nvm ? nvm->txn_bytes : 0;
}
