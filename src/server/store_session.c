/*
 * The server's store: admin sessions (Amendment B rounds; a response answers exactly one
 * round, so a replay finds the round moved on and changes nothing), byte accounting and
 * the per-card event log. Rules in store.h.
 */
#include "server/store_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "seam/util.h"

static bool text_ok(const char *t, size_t cap) {
    return t && memchr(t, '\0', cap) != NULL;
}

static bool session_ok(const seam_store_session *s) {
    return s && store_id_ok(&s->cin) && text_ok(s->step, sizeof s->step) &&
           s->context_len <= sizeof s->context;
}

static seam_err seal_context(seam_store *store, const seam_store_session *s, uint8_t **sealed,
                             size_t *len) {
    return store_seal(store, "sessions", (const uint8_t *)s->id, strlen(s->id), s->context,
                      s->context_len, sealed, len);
}

seam_err seam_store_session_create(seam_store *store, seam_store_session *s) {
    uint8_t raw[16], *sealed = NULL;
    size_t sealed_len = 0, hex_len = 0;
    if (!session_ok(s))
        return SEAM_ERR_ARG;
    seam_store_session next = *s;
    seam_err e = seam_crypto_random_fresh(raw, sizeof raw);
    if (!e)
        e = seam_hex_encode(raw, sizeof raw, next.id, sizeof next.id, &hex_len);
    if (!e) {
        for (size_t i = 0; i < hex_len; i++) /* lower case: the id is compared as text */
            if (next.id[i] >= 'A' && next.id[i] <= 'F')
                next.id[i] = (char)(next.id[i] - 'A' + 'a');
        next.closed = false;
        next.created = next.updated = store_now();
        e = seal_context(store, &next, &sealed, &sealed_len);
    }
    if (!e)
        e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO sessions (id, cin, campaign, step, round, expected, closed, "
                       "sealed, created, updated) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                       (db_val[]){DB_T(next.id), DB_ID(&next.cin), DB_I(next.campaign),
                                  DB_T(next.step), DB_I(next.round), DB_I(next.expected_responses),
                                  DB_B(sealed, sealed_len), DB_I(next.created), DB_I(next.updated)},
                       9, NULL);
    free(sealed);
    e = store_end(store, e);
    if (!e)
        *s = next;
    seam_secure_zero(&next, sizeof next);
    return e;
}

seam_err seam_store_session_get(seam_store *store, const char *id, seam_store_session *out) {
    db_rows rows = {0};
    if (!text_ok(id, SEAM_STORE_SESSION_ID_SIZE) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT id, cin, campaign, step, round, expected, closed, sealed, "
                            "created, updated FROM sessions WHERE id = ?",
                            (db_val[]){DB_T(id)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        memset(out, 0, sizeof *out);
        store_text_from(out->id, sizeof out->id, db_at(&rows, 0, 0));
        store_id_from(&out->cin, db_at(&rows, 0, 1));
        out->campaign = db_at(&rows, 0, 2)->i;
        store_text_from(out->step, sizeof out->step, db_at(&rows, 0, 3));
        out->round = (uint32_t)db_at(&rows, 0, 4)->i;
        out->expected_responses = (uint32_t)db_at(&rows, 0, 5)->i;
        out->closed = db_at(&rows, 0, 6)->i != 0;
        out->created = db_at(&rows, 0, 8)->i;
        out->updated = db_at(&rows, 0, 9)->i;
        const db_val *v = db_at(&rows, 0, 7);
        e = store_open_sealed(store, "sessions", (const uint8_t *)out->id, strlen(out->id), v->p,
                              v->n, out->context, sizeof out->context, &out->context_len);
        if (e)
            seam_secure_zero(out, sizeof *out);
    }
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_session_advance(seam_store *store, const seam_store_session *next,
                                    uint32_t expected_round, const seam_store_bytes *bytes) {
    db_rows rows = {0};
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    if (!session_ok(next) || !text_ok(next->id, sizeof next->id))
        return SEAM_ERR_ARG;
    seam_err e = seal_context(store, next, &sealed, &sealed_len);
    if (!e)
        e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "UPDATE sessions SET step = ?, round = ?, expected = ?, closed = ?, "
                       "sealed = ?, updated = ? WHERE id = ? AND round = ? AND closed = 0 "
                       "RETURNING id",
                       (db_val[]){DB_T(next->step), DB_I(next->round),
                                  DB_I(next->expected_responses), DB_I(next->closed ? 1 : 0),
                                  DB_B(sealed, sealed_len), DB_I(store_now()), DB_T(next->id),
                                  DB_I(expected_round)},
                       8, &rows);
    if (!e && rows.rows == 0) {
        db_rows_free(&rows);
        e = store_exec(store, "SELECT 1 FROM sessions WHERE id = ?", (db_val[]){DB_T(next->id)}, 1,
                       &rows);
        if (!e)
            e = rows.rows ? SEAM_ERR_SERVER_CONFLICT : SEAM_ERR_NOT_FOUND;
    }
    if (!e && bytes)
        e = seam_store_bytes_add(store, bytes);
    free(sealed);
    db_rows_free(&rows);
    return store_end(store, e);
}

/* ---- accounting ---- */

seam_err seam_store_bytes_add(seam_store *store, const seam_store_bytes *b) {
    if (!b || !store_id_ok(&b->cin) || !text_ok(b->step, sizeof b->step) || b->campaign < 0 ||
        b->bytes.request > INT64_MAX || b->bytes.response > INT64_MAX || b->bytes.perso > INT64_MAX)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO byte_counts (campaign, cin, step, request, response, perso) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign, cin, step) DO UPDATE SET "
                       "request = byte_counts.request + excluded.request, "
                       "response = byte_counts.response + excluded.response, "
                       "perso = byte_counts.perso + excluded.perso",
                       (db_val[]){DB_I(b->campaign), DB_ID(&b->cin), DB_T(b->step),
                                  DB_I(b->bytes.request), DB_I(b->bytes.response),
                                  DB_I(b->bytes.perso)},
                       6, NULL);
    return store_end(store, e);
}

seam_err seam_store_bytes_list(seam_store *store, int64_t campaign, const seam_store_id *cin,
                               seam_store_bytes **items, size_t *count) {
    db_rows rows = {0};
    if ((cin && !store_id_ok(cin)) || !items || !count)
        return SEAM_ERR_ARG;
    static const uint8_t none = 0;
    seam_err e =
        store_exec(store,
                   "SELECT campaign, cin, step, request, response, perso FROM byte_counts WHERE "
                   "(? <= 0 OR campaign = ?) AND (? = 0 OR cin = ?) ORDER BY campaign, cin, step",
                   (db_val[]){DB_I(campaign), DB_I(campaign), DB_I(cin ? 1 : 0),
                              cin ? DB_ID(cin) : DB_B(&none, 1)},
                   4, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        seam_store_bytes *b = &(*items)[r];
        b->campaign = db_at(&rows, r, 0)->i;
        store_id_from(&b->cin, db_at(&rows, r, 1));
        store_text_from(b->step, sizeof b->step, db_at(&rows, r, 2));
        b->bytes.request = (uint64_t)db_at(&rows, r, 3)->i;
        b->bytes.response = (uint64_t)db_at(&rows, r, 4)->i;
        b->bytes.perso = (uint64_t)db_at(&rows, r, 5)->i;
    }
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* ---- events ---- */

seam_err seam_store_event_add(seam_store *store, seam_store_event *ev) {
    db_rows rows = {0};
    if (!ev || !store_id_ok(&ev->cin) || !text_ok(ev->kind, sizeof ev->kind) ||
        !text_ok(ev->message, sizeof ev->message))
        return SEAM_ERR_ARG;
    int64_t at = store_now();
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO events (cin, campaign, at, kind, message) VALUES (?, ?, ?, ?, "
                       "?) RETURNING id",
                       (db_val[]){DB_ID(&ev->cin), DB_I(ev->campaign), DB_I(at), DB_T(ev->kind),
                                  DB_T(ev->message)},
                       5, &rows);
    if (!e && rows.rows != 1)
        e = SEAM_ERR_SERVER_STORE;
    int64_t id = e ? 0 : db_at(&rows, 0, 0)->i;
    db_rows_free(&rows);
    e = store_end(store, e);
    if (!e) {
        ev->id = id;
        ev->at = at;
    }
    return e;
}

seam_err seam_store_event_list(seam_store *store, const seam_store_id *cin,
                               seam_store_event **items, size_t *count) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !items || !count)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT id, cin, campaign, at, kind, message FROM events WHERE cin = ? "
                            "ORDER BY id",
                            (db_val[]){DB_ID(cin)}, 1, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++) {
        seam_store_event *ev = &(*items)[r];
        ev->id = db_at(&rows, r, 0)->i;
        store_id_from(&ev->cin, db_at(&rows, r, 1));
        ev->campaign = db_at(&rows, r, 2)->i;
        ev->at = db_at(&rows, r, 3)->i;
        store_text_from(ev->kind, sizeof ev->kind, db_at(&rows, r, 4));
        store_text_from(ev->message, sizeof ev->message, db_at(&rows, r, 5));
    }
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}
