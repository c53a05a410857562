/*
 * The server's store: its copy of every device's device-management database (S6, S8) —
 * devices, their records per database URI with a per-device change counter, and a bounded
 * history of changes. Record contents are sealed under the master key, bound to their row
 * and version (AAD: table and SHA-256 of device, URI, key and version). Rules in store.h.
 */
#include "server/store_int.h"

#include <stdlib.h>

#include "dm_record.h"
#include "seam/util.h"

#define DEVINFO "./devinfo"

/* ---- limits ---- */

bool seam_store_device_id_ok(const char *id) {
    size_t n = id ? strnlen(id, SEAM_STORE_DEVICE_ID_MAX + 1) : 0;
    if (n == 0 || n > SEAM_STORE_DEVICE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool change_ok(const seam_store_change *c) {
    return store_ascii_ok(c->uri, 1, SEAM_STORE_URI_MAX, 0x21) &&
           store_ascii_ok(c->key, 1, SEAM_STORE_RECORD_KEY_MAX, 0x21) &&
           (c->deleted || (c->content_len <= SEAM_STORE_CONTENT_MAX &&
                           seam_dm_text_ok(c->content, c->content_len)));
}

/* ---- sealing, bound to (device, uri, key, version) ---- */

static seam_err row_key(const char *id, const char *uri, const char *key, int64_t version,
                        uint8_t out[32]) {
    uint8_t
        buf[3 * 2 + SEAM_STORE_DEVICE_ID_MAX + SEAM_STORE_URI_MAX + SEAM_STORE_RECORD_KEY_MAX + 8];
    size_t n = 0;
    const char *parts[3] = {id, uri, key};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(parts[i]);
        buf[n++] = (uint8_t)(len >> 8);
        buf[n++] = (uint8_t)len;
        memcpy(buf + n, parts[i], len);
        n += len;
    }
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)((uint64_t)version >> (56 - 8 * i));
    return seam_crypto_sha256(buf, n, out);
}

static seam_err seal(seam_store *s, const char *table, const char *id, const char *uri,
                     const char *key, int64_t version, const char *text, size_t len, uint8_t **out,
                     size_t *out_len) {
    uint8_t rk[32];
    seam_err e = row_key(id, uri, key, version, rk);
    return e ? e : store_seal(s, table, rk, sizeof rk, (const uint8_t *)text, len, out, out_len);
}

/* Opens a sealed content into text[0..SEAM_STORE_CONTENT_MAX] (NUL-terminated). */
static seam_err unseal(seam_store *s, const char *table, const char *id, const char *uri,
                       const char *key, int64_t version, const db_val *v, char *text, size_t *len) {
    uint8_t rk[32];
    seam_err e = row_key(id, uri, key, version, rk);
    if (!e)
        e = store_open_sealed(s, table, rk, sizeof rk, v->p, v->n, (uint8_t *)text,
                              SEAM_STORE_CONTENT_MAX, len);
    text[e ? 0 : *len] = '\0';
    if (e)
        *len = 0;
    return e;
}

/* ---- applying a batch ---- */

/* The device's CIN from its `./devinfo` `cin` record's text (none when not hex). */
static void cin_from(const char *text, size_t len, seam_store_id *cin) {
    char line[2 * SEAM_STORE_ID_MAX + 2];
    size_t n = 0;
    memset(cin, 0, sizeof *cin);
    if (seam_dm_first_line(text, len, line, sizeof line) || strlen(line) % 2)
        return;
    for (const char *p = line; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return;
    if (line[0] && !seam_hex_decode(line, strlen(line), cin->bytes, sizeof cin->bytes, &n))
        cin->len = n;
}

/* Locks device id's row (creating it first if needed); its counter to *counter. */
static seam_err device_lock(seam_store *s, const char *id, int64_t now, int64_t *counter) {
    static const char lock[] =
        "UPDATE devices SET counter = counter WHERE id = ? RETURNING counter";
    db_rows rows = {0};
    seam_err e = store_exec(s, lock, (db_val[]){DB_T(id)}, 1, &rows);
    if (!e && rows.rows == 0) {
        db_rows_free(&rows);
        e = store_exec(s,
                       "INSERT INTO devices (id, cin, created, updated, counter) "
                       "VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                       (db_val[]){DB_T(id), DB_B("", 0), DB_I(now), DB_I(now)}, 4, NULL);
        if (!e)
            e = store_exec(s, lock, (db_val[]){DB_T(id)}, 1, &rows);
    }
    if (!e && rows.rows != 1)
        e = SEAM_ERR_SERVER_STORE;
    if (!e)
        *counter = db_at(&rows, 0, 0)->i;
    db_rows_free(&rows);
    return e;
}

typedef struct {
    seam_store *s;
    const char *id, *session;
    int64_t now, counter;
    bool grew;                            /* a record was created */
    char old[SEAM_STORE_CONTENT_MAX + 1]; /* the record's content before the change */
} batch;

/* Applies one change (already checked) inside the batch's transaction. */
static seam_err apply_one(batch *b, const seam_store_change *c) {
    db_rows rows = {0};
    size_t old_len = 0;
    seam_err e = store_exec(b->s,
                            "SELECT version, deleted, sealed FROM device_records "
                            "WHERE device = ? AND uri = ? AND key = ?",
                            (db_val[]){DB_T(b->id), DB_T(c->uri), DB_T(c->key)}, 3, &rows);
    bool exists = !e && rows.rows == 1;
    bool live = exists && db_at(&rows, 0, 1)->i == 0;
    if (exists)
        e = unseal(b->s, "device_records", b->id, c->uri, c->key, db_at(&rows, 0, 0)->i,
                   db_at(&rows, 0, 2), b->old, &old_len);
    db_rows_free(&rows);
    if (e)
        return e;
    if (c->deleted ? !live
                   : live && old_len == c->content_len &&
                         (!old_len || !memcmp(b->old, c->content, old_len)))
        return SEAM_OK; /* nothing would change */
    int64_t version = ++b->counter;
    const char *text = c->deleted ? "" : c->content;
    size_t len = c->deleted ? 0 : c->content_len;
    uint8_t *rec = NULL, *old = NULL, *new = NULL;
    size_t rec_len = 0, old_sealed = 0, new_sealed = 0;
    e = seal(b->s, "device_records", b->id, c->uri, c->key, version, text, len, &rec, &rec_len);
    if (!e)
        e = seal(b->s, "device_history_old", b->id, c->uri, c->key, version, b->old,
                 live ? old_len : 0, &old, &old_sealed);
    if (!e)
        e = seal(b->s, "device_history_new", b->id, c->uri, c->key, version, text, len, &new,
                 &new_sealed);
    if (!e)
        e = store_exec(b->s,
                       "INSERT INTO device_records (device, uri, key, version, deleted, updated, "
                       "sealed) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, uri, key) DO "
                       "UPDATE SET version = excluded.version, deleted = excluded.deleted, "
                       "updated = excluded.updated, sealed = excluded.sealed",
                       (db_val[]){DB_T(b->id), DB_T(c->uri), DB_T(c->key), DB_I(version),
                                  DB_I(c->deleted), DB_I(b->now), DB_B(rec, rec_len)},
                       7, NULL);
    if (!e)
        e = store_exec(b->s,
                       "INSERT INTO device_history (device, uri, key, session, at, version, "
                       "old_exists, new_deleted, old_sealed, new_sealed) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (db_val[]){DB_T(b->id), DB_T(c->uri), DB_T(c->key), DB_T(b->session),
                                  DB_I(b->now), DB_I(version), DB_I(live), DB_I(c->deleted),
                                  DB_B(old, old_sealed), DB_B(new, new_sealed)},
                       10, NULL);
    free(rec);
    free(old);
    free(new);
    seam_secure_zero(b->old, sizeof b->old);
    if (!exists)
        b->grew = true;
    return e;
}

/* The bounds that hold after the batch: the device's record count, its history's length. */
static seam_err settle(batch *b) {
    db_rows rows = {0};
    seam_err e = SEAM_OK;
    if (b->grew) {
        e = store_exec(b->s, "SELECT COUNT(*) FROM device_records WHERE device = ?",
                       (db_val[]){DB_T(b->id)}, 1, &rows);
        if (!e && (rows.rows != 1 || db_at(&rows, 0, 0)->i > SEAM_STORE_RECORDS_MAX))
            e = SEAM_ERR_ARG;
        db_rows_free(&rows);
    }
    if (!e)
        e = store_exec(b->s,
                       "DELETE FROM device_history WHERE device = ? AND id <= (SELECT id FROM "
                       "device_history WHERE device = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                       (db_val[]){DB_T(b->id), DB_T(b->id), DB_I(SEAM_STORE_HISTORY_KEEP)}, 3,
                       NULL);
    return e;
}

seam_err seam_store_device_apply(seam_store *store, const char *id, const char *session,
                                 const seam_store_change *changes, size_t count, int64_t *counter) {
    if (!store || !seam_store_device_id_ok(id) ||
        !store_ascii_ok(session, 1, SEAM_STORE_TEXT_MAX - 1, 0x20) || !changes || count == 0 ||
        count > SEAM_STORE_BATCH_MAX)
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        if (!change_ok(&changes[i]))
            return SEAM_ERR_ARG;
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return SEAM_ERR_NOMEM;
    b->s = store;
    b->id = id;
    b->session = session;
    b->now = store_now();
    const seam_store_change *cin_change = NULL;
    seam_err e = store_begin(store);
    if (!e)
        e = device_lock(store, id, b->now, &b->counter);
    int64_t before = b->counter;
    for (size_t i = 0; !e && i < count; i++) {
        e = apply_one(b, &changes[i]);
        if (!strcmp(changes[i].uri, DEVINFO) && !strcmp(changes[i].key, "cin"))
            cin_change = &changes[i];
    }
    if (!e && b->counter != before) {
        seam_store_id cin = {0};
        if (cin_change && !cin_change->deleted)
            cin_from(cin_change->content, cin_change->content_len, &cin);
        e = store_exec(store, "UPDATE devices SET counter = ?, updated = ? WHERE id = ?",
                       (db_val[]){DB_I(b->counter), DB_I(b->now), DB_T(id)}, 3, NULL);
        if (!e && cin_change)
            e = store_exec(store, "UPDATE devices SET cin = ? WHERE id = ?",
                           (db_val[]){DB_ID(&cin), DB_T(id)}, 2, NULL);
    }
    if (!e)
        e = settle(b);
    if (!e && counter)
        *counter = b->counter;
    free(b);
    return store_end(store, e);
}

seam_err seam_store_record_put(seam_store *store, const char *id, const char *session,
                               const char *uri, const char *key, const char *content, size_t len) {
    seam_store_change c = {.uri = uri, .key = key, .content = content, .content_len = len};
    return seam_store_device_apply(store, id, session, &c, 1, NULL);
}

seam_err seam_store_record_delete(seam_store *store, const char *id, const char *session,
                                  const char *uri, const char *key) {
    seam_store_change c = {.uri = uri, .key = key, .deleted = true};
    return seam_store_device_apply(store, id, session, &c, 1, NULL);
}

/* ---- reading ---- */

#define DEVICE_COLS                                                                                \
    "d.id, d.cin, d.created, d.updated, d.counter, (SELECT COUNT(*) FROM device_records r "        \
    "WHERE r.device = d.id AND r.deleted = 0)"

static void device_from(seam_store_device *d, const db_rows *rows, size_t r) {
    memset(d, 0, sizeof *d);
    store_text_from(d->id, sizeof d->id, db_at(rows, r, 0));
    store_id_from(&d->cin, db_at(rows, r, 1));
    d->created = db_at(rows, r, 2)->i;
    d->updated = db_at(rows, r, 3)->i;
    d->counter = db_at(rows, r, 4)->i;
    d->records = (size_t)db_at(rows, r, 5)->i;
}

seam_err seam_store_device_get(seam_store *store, const char *id, seam_store_device *out) {
    db_rows rows = {0};
    if (!store || !seam_store_device_id_ok(id) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT " DEVICE_COLS " FROM devices d WHERE d.id = ?",
                            (db_val[]){DB_T(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        device_from(out, &rows, 0);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_device_list(seam_store *store, seam_store_device **items, size_t *count) {
    db_rows rows = {0};
    if (!store || !items || !count)
        return SEAM_ERR_ARG;
    seam_err e =
        store_exec(store, "SELECT " DEVICE_COLS " FROM devices d ORDER BY d.id", NULL, 0, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        device_from(&(*items)[r], &rows, r);
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* Fills a record from columns uri, key, version, deleted, updated, sealed at col. */
static seam_err record_from(seam_store *s, const char *id, seam_store_record *rec,
                            const db_rows *rows, size_t r, size_t col) {
    memset(rec, 0, sizeof *rec);
    store_text_from(rec->uri, sizeof rec->uri, db_at(rows, r, col));
    store_text_from(rec->key, sizeof rec->key, db_at(rows, r, col + 1));
    rec->version = db_at(rows, r, col + 2)->i;
    rec->deleted = db_at(rows, r, col + 3)->i != 0;
    rec->updated = db_at(rows, r, col + 4)->i;
    return unseal(s, "device_records", id, rec->uri, rec->key, rec->version,
                  db_at(rows, r, col + 5), rec->content, &rec->content_len);
}

seam_err seam_store_record_list(seam_store *store, const char *id, int64_t since, size_t max,
                                seam_store_record **items, size_t *count) {
    db_rows rows = {0};
    seam_store_device d;
    if (!store || !seam_store_device_id_ok(id) || since < 0 || max == 0 || !items || !count)
        return SEAM_ERR_ARG;
    seam_err e = seam_store_device_get(store, id, &d);
    if (!e)
        e = store_exec(
            store,
            "SELECT uri, key, version, deleted, updated, sealed FROM device_records "
            "WHERE device = ? AND version > ? ORDER BY version LIMIT ?",
            (db_val[]){DB_T(id), DB_I(since),
                       DB_I(max > SEAM_STORE_RECORDS_MAX ? SEAM_STORE_RECORDS_MAX : max)},
            3, &rows);
    seam_store_record *out = NULL;
    if (!e && !(out = calloc(rows.rows ? rows.rows : 1, sizeof *out)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        e = record_from(store, id, &out[r], &rows, r, 0);
    if (!e) {
        *items = out;
        *count = rows.rows;
    } else if (out) {
        seam_store_free_secret(out, (rows.rows ? rows.rows : 1) * sizeof *out);
    }
    db_rows_free(&rows);
    return e;
}

/* The scan of uri's live records, of every device or (cin not NULL) of card cin's. */
static seam_err record_scan(seam_store *store, const char *uri, const seam_store_id *cin,
                            seam_err (*fn)(void *ctx, const seam_store_device *device,
                                           const seam_store_record *record),
                            void *ctx) {
    db_rows rows = {0};
    if (!store || !store_ascii_ok(uri, 1, SEAM_STORE_URI_MAX, 0x21) || !fn ||
        (cin && (!cin->len || cin->len > sizeof cin->bytes)))
        return SEAM_ERR_ARG;
        /* no record count per row: it would cost a count per record */
#define SCAN_SELECT                                                                                \
    "SELECT d.id, d.cin, d.created, d.updated, d.counter, 0, r.uri, r.key, r.version, r.deleted, " \
    "r.updated, r.sealed FROM device_records r JOIN devices d ON d.id = r.device "                 \
    "WHERE r.uri = ? AND r.deleted = 0 "
    seam_err e = cin ? store_exec(store, SCAN_SELECT "AND d.cin = ? ORDER BY d.id, r.key",
                                  (db_val[]){DB_T(uri), DB_ID(cin)}, 2, &rows)
                     : store_exec(store, SCAN_SELECT "ORDER BY d.id, r.key", (db_val[]){DB_T(uri)},
                                  1, &rows);
#undef SCAN_SELECT
    seam_store_device *d = calloc(1, sizeof *d);
    seam_store_record *rec = calloc(1, sizeof *rec);
    if (!e && (!d || !rec))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        device_from(d, &rows, r);
        e = record_from(store, d->id, rec, &rows, r, 6);
        if (!e)
            e = fn(ctx, d, rec);
    }
    free(d);
    seam_store_free_secret(rec, sizeof *rec);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_record_scan(seam_store *store, const char *uri,
                                seam_err (*fn)(void *ctx, const seam_store_device *device,
                                               const seam_store_record *record),
                                void *ctx) {
    return record_scan(store, uri, NULL, fn, ctx);
}

seam_err seam_store_record_scan_card(seam_store *store, const char *uri, const seam_store_id *cin,
                                     seam_err (*fn)(void *ctx, const seam_store_device *device,
                                                    const seam_store_record *record),
                                     void *ctx) {
    return cin ? record_scan(store, uri, cin, fn, ctx) : SEAM_ERR_ARG;
}

seam_err seam_store_history_list(seam_store *store, const char *id, seam_store_history **items,
                                 size_t *count) {
    db_rows rows = {0};
    seam_store_device d;
    if (!store || !seam_store_device_id_ok(id) || !items || !count)
        return SEAM_ERR_ARG;
    seam_err e = seam_store_device_get(store, id, &d);
    if (!e)
        e = store_exec(store,
                       "SELECT id, uri, key, session, at, version, old_exists, new_deleted, "
                       "old_sealed, new_sealed FROM device_history WHERE device = ? "
                       "ORDER BY id DESC LIMIT ?",
                       (db_val[]){DB_T(id), DB_I(SEAM_STORE_HISTORY_KEEP)}, 2, &rows);
    seam_store_history *out = NULL;
    size_t cap = rows.rows ? rows.rows : 1;
    if (!e && !(out = calloc(cap, sizeof *out)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        seam_store_history *h = &out[r];
        h->id = db_at(&rows, r, 0)->i;
        store_text_from(h->uri, sizeof h->uri, db_at(&rows, r, 1));
        store_text_from(h->key, sizeof h->key, db_at(&rows, r, 2));
        store_text_from(h->session, sizeof h->session, db_at(&rows, r, 3));
        h->at = db_at(&rows, r, 4)->i;
        h->version = db_at(&rows, r, 5)->i;
        h->old_exists = db_at(&rows, r, 6)->i != 0;
        h->new_deleted = db_at(&rows, r, 7)->i != 0;
        e = unseal(store, "device_history_old", id, h->uri, h->key, h->version, db_at(&rows, r, 8),
                   h->old_content, &h->old_len);
        if (!e)
            e = unseal(store, "device_history_new", id, h->uri, h->key, h->version,
                       db_at(&rows, r, 9), h->new_content, &h->new_len);
    }
    if (!e) {
        *items = out;
        *count = rows.rows;
    } else if (out) {
        seam_store_free_secret(out, cap * sizeof *out);
    }
    db_rows_free(&rows);
    return e;
}
