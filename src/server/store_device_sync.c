/*
 * The server's store: what a sync endpoint keeps per device besides its records
 * (docs/server.md "Device sync"): the device's secret, with which it
 * authenticates (sealed at rest, bound to the device), and per (device, protocol,
 * database URI) the protocol's sync state (anchors and base; sealed, bound to
 * that row). Rules in store.h.
 */
#include "server/store_int.h"

#include <stdlib.h>

#include "seam/util.h"

/* The row key the seal is bound to: the length-prefixed parts. */
static size_t row_key(uint8_t out[160], const char *a, const char *b, const char *c) {
    const char *parts[3] = {a, b, c};
    size_t n = 0;
    for (int i = 0; i < 3 && parts[i]; i++) {
        size_t len = strlen(parts[i]);
        out[n++] = (uint8_t)len;
        memcpy(out + n, parts[i], len);
        n += len;
    }
    return n;
}

seam_err seam_store_device_secret_put(seam_store *store, const char *id, const char *secret,
                                      bool *created) {
    if (!store || !seam_store_device_id_ok(id) ||
        !store_ascii_ok(secret, SEAM_STORE_SECRET_MIN, SEAM_STORE_SECRET_MAX, 0x21))
        return SEAM_ERR_ARG;
    uint8_t key[160], *sealed = NULL;
    size_t sealed_len = 0, key_len = row_key(key, id, NULL, NULL);
    int64_t now = store_now();
    db_rows rows = {0};
    seam_err e = store_seal(store, "device_secrets", key, key_len, (const uint8_t *)secret,
                            strlen(secret), &sealed, &sealed_len);
    if (e)
        return e;
    e = store_begin(store);
    if (!e) /* enrolment: the device is known from now on, with no records yet */
        e = store_exec(store,
                       "INSERT INTO devices (id, cin, created, updated, counter) "
                       "VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                       (db_val[]){DB_T(id), DB_B("", 0), DB_I(now), DB_I(now)}, 4, NULL);
    if (!e)
        e = store_exec(store, "SELECT 1 FROM device_secrets WHERE device = ?", (db_val[]){DB_T(id)},
                       1, &rows);
    bool is_new = !e && rows.rows == 0;
    db_rows_free(&rows);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO device_secrets (device, sealed, updated) VALUES (?, ?, ?) "
                       "ON CONFLICT (device) DO UPDATE SET sealed = excluded.sealed, "
                       "updated = excluded.updated",
                       (db_val[]){DB_T(id), DB_B(sealed, sealed_len), DB_I(now)}, 3, NULL);
    free(sealed);
    e = store_end(store, e);
    if (!e && created)
        *created = is_new;
    return e;
}

seam_err seam_store_device_secret_get(seam_store *store, const char *id,
                                      char secret[SEAM_STORE_SECRET_MAX + 1]) {
    if (!store || !seam_store_device_id_ok(id) || !secret)
        return SEAM_ERR_ARG;
    uint8_t key[160];
    size_t key_len = row_key(key, id, NULL, NULL), len = 0;
    db_rows rows = {0};
    seam_err e = store_exec(store, "SELECT sealed FROM device_secrets WHERE device = ?",
                            (db_val[]){DB_T(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        e = store_open_sealed(store, "device_secrets", key, key_len, db_at(&rows, 0, 0)->p,
                              db_at(&rows, 0, 0)->n, (uint8_t *)secret, SEAM_STORE_SECRET_MAX,
                              &len);
    secret[e ? 0 : len] = '\0';
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_device_sync_get(seam_store *store, const char *id, const char *protocol,
                                    const char *uri, uint8_t **state, size_t *len) {
    if (!store || !seam_store_device_id_ok(id) || !store_ascii_ok(protocol, 1, 32, 0x21) ||
        !store_ascii_ok(uri, 1, SEAM_STORE_URI_MAX, 0x21) || !state || !len)
        return SEAM_ERR_ARG;
    *state = NULL;
    *len = 0;
    uint8_t key[160];
    size_t key_len = row_key(key, id, protocol, uri);
    db_rows rows = {0};
    /* the device's row lock: held to the end of the caller's group, as a batch holds it */
    seam_err e = store_exec(store, "UPDATE devices SET counter = counter WHERE id = ? RETURNING id",
                            (db_val[]){DB_T(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    db_rows_free(&rows);
    if (!e)
        e = store_exec(
            store, "SELECT sealed FROM device_sync WHERE device = ? AND protocol = ? AND uri = ?",
            (db_val[]){DB_T(id), DB_T(protocol), DB_T(uri)}, 3, &rows);
    if (!e && rows.rows == 1) {
        const db_val *v = db_at(&rows, 0, 0);
        uint8_t *plain = malloc(v->n ? v->n : 1);
        if (!plain)
            e = SEAM_ERR_NOMEM;
        if (!e)
            e = store_open_sealed(store, "device_sync", key, key_len, v->p, v->n, plain, v->n, len);
        if (e)
            free(plain);
        else
            *state = plain;
    }
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_device_sync_put(seam_store *store, const char *id, const char *protocol,
                                    const char *uri, const uint8_t *state, size_t len) {
    if (!store || !seam_store_device_id_ok(id) || !store_ascii_ok(protocol, 1, 32, 0x21) ||
        !store_ascii_ok(uri, 1, SEAM_STORE_URI_MAX, 0x21) || (!state && len))
        return SEAM_ERR_ARG;
    uint8_t key[160], *sealed = NULL;
    size_t sealed_len = 0, key_len = row_key(key, id, protocol, uri);
    seam_err e = store_seal(store, "device_sync", key, key_len, state ? state : key,
                            state ? len : 0, &sealed, &sealed_len);
    if (e)
        return e;
    e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO device_sync (device, protocol, uri, sealed, updated) "
                       "SELECT id, ?, ?, ?, ? FROM devices WHERE id = ? "
                       "ON CONFLICT (device, protocol, uri) DO UPDATE SET sealed = "
                       "excluded.sealed, updated = excluded.updated",
                       (db_val[]){DB_T(protocol), DB_T(uri), DB_B(sealed, sealed_len),
                                  DB_I(store_now()), DB_T(id)},
                       5, NULL);
    free(sealed);
    return store_end(store, e);
}
