/*
 * The server's store, what a sync protocol keeps per device beside its records (S6): the
 * anchors per (device, database URI), the LUID <-> GUID map of OMA DS, and the lock on a
 * device's row that makes a sync's commit one turn (the device's secret is in
 * store_device_sync.c). Rules in store.h.
 */
#include "server/store_int.h"

#include <stdlib.h>

/* "" or 1..max printable characters without blanks. */
static bool anchor_ok(const char *a, size_t cap) {
    return strnlen(a, cap) < cap && (!a[0] || store_ascii_ok(a, 1, SEAM_STORE_ANCHOR_MAX, 0x21));
}

static bool where_ok(const char *id, const char *uri) {
    return seam_store_device_id_ok(id) && store_ascii_ok(uri, 1, SEAM_STORE_URI_MAX, 0x21);
}

seam_err seam_store_device_lock(seam_store *store, const char *id, int64_t *counter) {
    db_rows rows = {0};
    if (!store || !seam_store_device_id_ok(id) || !counter)
        return SEAM_ERR_ARG;
    seam_err e =
        store_exec(store, "UPDATE devices SET counter = counter WHERE id = ? RETURNING counter",
                   (db_val[]){DB_T(id)}, 1, &rows);
    if (!e)
        *counter = rows.rows == 1 ? db_at(&rows, 0, 0)->i : 0;
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_anchor_get(seam_store *store, const char *id, const char *uri,
                               seam_store_anchor *out) {
    db_rows rows = {0};
    if (!store || !where_ok(id, uri) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT peer_last, own_last, synced FROM device_anchors WHERE "
                            "device = ? AND uri = ?",
                            (db_val[]){DB_T(id), DB_T(uri)}, 2, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        memset(out, 0, sizeof *out);
        store_text_from(out->peer_last, sizeof out->peer_last, db_at(&rows, 0, 0));
        store_text_from(out->own_last, sizeof out->own_last, db_at(&rows, 0, 1));
        out->synced = db_at(&rows, 0, 2)->i;
    }
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_anchor_put(seam_store *store, const char *id, const char *uri,
                               const seam_store_anchor *a) {
    if (!store || !where_ok(id, uri) || !a || a->synced < 0 ||
        !anchor_ok(a->peer_last, sizeof a->peer_last) ||
        !anchor_ok(a->own_last, sizeof a->own_last))
        return SEAM_ERR_ARG;
    return store_exec(
        store,
        "INSERT INTO device_anchors (device, uri, peer_last, own_last, synced) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, uri) DO UPDATE SET peer_last = "
        "excluded.peer_last, own_last = excluded.own_last, synced = excluded.synced",
        (db_val[]){DB_T(id), DB_T(uri), DB_T(a->peer_last), DB_T(a->own_last), DB_I(a->synced)}, 5,
        NULL);
}

seam_err seam_store_map_list(seam_store *store, const char *id, const char *uri,
                             seam_store_map_entry **items, size_t *count) {
    db_rows rows = {0};
    if (!store || !where_ok(id, uri) || !items || !count)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT luid, guid FROM device_map WHERE device = ? AND uri = ? "
                            "ORDER BY luid",
                            (db_val[]){DB_T(id), DB_T(uri)}, 2, &rows);
    seam_store_map_entry *out = NULL;
    if (!e && !(out = calloc(rows.rows ? rows.rows : 1, sizeof *out)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        store_text_from(out[r].luid, sizeof out[r].luid, db_at(&rows, r, 0));
        store_text_from(out[r].guid, sizeof out[r].guid, db_at(&rows, r, 1));
    }
    if (!e) {
        *items = out;
        *count = rows.rows;
    } else {
        free(out);
    }
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_map_put(seam_store *store, const char *id, const char *uri, const char *luid,
                            const char *guid) {
    if (!store || !where_ok(id, uri) || !store_ascii_ok(luid, 1, SEAM_STORE_RECORD_KEY_MAX, 0x21) ||
        !store_ascii_ok(guid, 1, SEAM_STORE_RECORD_KEY_MAX, 0x21))
        return SEAM_ERR_ARG;
    return store_exec(store,
                      "INSERT INTO device_map (device, uri, luid, guid) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (device, uri, luid) DO UPDATE SET guid = excluded.guid",
                      (db_val[]){DB_T(id), DB_T(uri), DB_T(luid), DB_T(guid)}, 4, NULL);
}

seam_err seam_store_map_clear(seam_store *store, const char *id, const char *uri) {
    if (!store || !where_ok(id, uri))
        return SEAM_ERR_ARG;
    return store_exec(store, "DELETE FROM device_map WHERE device = ? AND uri = ?",
                      (db_val[]){DB_T(id), DB_T(uri)}, 2, NULL);
}
