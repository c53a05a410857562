/*
 * The server's store: packages, cards, their SD key sets and their personalization data
 * (the last two sealed under the master key, bound to their row). Rules in store.h.
 */
#include "server/store_int.h"

#include <stdlib.h>

#include "seam/util.h"

/* ---- packages ---- */

seam_err seam_store_package_put(seam_store *store, const seam_store_id *aid, uint16_t version,
                                const uint8_t *module, size_t len) {
    db_rows rows = {0};
    if (!store_id_ok(aid) || (!module && len))
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO packages (aid, version, uploaded, module) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT DO NOTHING RETURNING version",
                       (db_val[]){DB_ID(aid), DB_I(version), DB_I(store_now()), DB_B(module, len)},
                       4, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_SERVER_CONFLICT;
    db_rows_free(&rows);
    return store_end(store, e);
}

static void package_from(seam_store_package *p, const db_rows *rows, size_t r) {
    memset(p, 0, sizeof *p);
    store_id_from(&p->aid, db_at(rows, r, 0));
    p->version = (uint16_t)db_at(rows, r, 1)->i;
    p->uploaded = db_at(rows, r, 2)->i;
    p->module_len = (size_t)db_at(rows, r, 3)->i;
}

seam_err seam_store_package_get(seam_store *store, const seam_store_id *aid, uint16_t version,
                                seam_store_package *info, uint8_t **module) {
    db_rows rows = {0};
    if (!store_id_ok(aid) || !info)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT aid, version, uploaded, CAST(length(module) AS BIGINT), module "
                            "FROM packages WHERE aid = ? AND version = ?",
                            (db_val[]){DB_ID(aid), DB_I(version)}, 2, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e && module) {
        const db_val *m = db_at(&rows, 0, 4);
        *module = malloc(m->n ? m->n : 1);
        if (!*module)
            e = SEAM_ERR_NOMEM;
        else if (m->n)
            memcpy(*module, m->p, m->n);
    }
    if (!e)
        package_from(info, &rows, 0);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_package_list(seam_store *store, seam_store_package **items, size_t *count) {
    db_rows rows = {0};
    if (!items || !count)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT aid, version, uploaded, CAST(length(module) AS BIGINT) "
                            "FROM packages ORDER BY aid, version",
                            NULL, 0, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        package_from(&(*items)[r], &rows, r);
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* ---- cards ---- */

seam_err seam_store_card_put(seam_store *store, const seam_store_card *card) {
    db_rows rows = {0};
    if (!card || !store_id_ok(&card->cin) || card->iin.len > SEAM_STORE_ID_MAX)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO cards (cin, iin, created) VALUES (?, ?, ?) "
                       "ON CONFLICT DO NOTHING RETURNING created",
                       (db_val[]){DB_ID(&card->cin), DB_ID(&card->iin), DB_I(store_now())}, 3,
                       &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_SERVER_CONFLICT;
    db_rows_free(&rows);
    return store_end(store, e);
}

static void card_from(seam_store_card *c, const db_rows *rows, size_t r) {
    memset(c, 0, sizeof *c);
    store_id_from(&c->cin, db_at(rows, r, 0));
    store_id_from(&c->iin, db_at(rows, r, 1));
    c->created = db_at(rows, r, 2)->i;
}

seam_err seam_store_card_get(seam_store *store, const seam_store_id *cin, seam_store_card *out) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT cin, iin, created FROM cards WHERE cin = ?",
                            (db_val[]){DB_ID(cin)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e)
        card_from(out, &rows, 0);
    db_rows_free(&rows);
    return e;
}

seam_err seam_store_card_list(seam_store *store, seam_store_card **items, size_t *count) {
    db_rows rows = {0};
    if (!items || !count)
        return SEAM_ERR_ARG;
    seam_err e =
        store_exec(store, "SELECT cin, iin, created FROM cards ORDER BY cin", NULL, 0, &rows);
    if (!e && !(*items = calloc(rows.rows ? rows.rows : 1, sizeof **items)))
        e = SEAM_ERR_NOMEM;
    for (size_t r = 0; !e && r < rows.rows; r++)
        card_from(&(*items)[r], &rows, r);
    if (!e)
        *count = rows.rows;
    db_rows_free(&rows);
    return e;
}

/* Fails with NOT_FOUND unless the card exists (inside the caller's transaction). */
static seam_err card_exists(seam_store *store, const seam_store_id *cin) {
    db_rows rows = {0};
    seam_err e =
        store_exec(store, "SELECT 1 FROM cards WHERE cin = ?", (db_val[]){DB_ID(cin)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    db_rows_free(&rows);
    return e;
}

/* ---- key sets: sealed as key_len || ENC || MAC || DEK ---- */

#define KEYSET_PLAIN (1 + 3 * SEAM_STORE_KEY_MAX)

seam_err seam_store_keyset_put(seam_store *store, const seam_store_id *cin,
                               const seam_store_keyset *ks) {
    uint8_t plain[KEYSET_PLAIN], key[64];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    if (!store_id_ok(cin) || !ks || !store_id_ok(&ks->sd_aid) ||
        (ks->key_len != 16 && ks->key_len != 24 && ks->key_len != 32))
        return SEAM_ERR_ARG;
    size_t n = 0;
    plain[n++] = (uint8_t)ks->key_len;
    memcpy(plain + n, ks->enc, ks->key_len);
    memcpy(plain + n + ks->key_len, ks->mac, ks->key_len);
    memcpy(plain + n + 2 * ks->key_len, ks->dek, ks->key_len);
    n += 3 * ks->key_len;
    size_t key_len = store_row_key(key, cin, &ks->sd_aid, ks->kvn);
    seam_err e = store_seal(store, "keysets", key, key_len, plain, n, &sealed, &sealed_len);
    seam_secure_zero(plain, sizeof plain);
    if (!e)
        e = store_begin(store);
    if (!e)
        e = card_exists(store, cin);
    if (!e)
        e = store_exec(
            store,
            "INSERT INTO keysets (cin, sd_aid, kvn, sealed) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (cin, sd_aid, kvn) DO UPDATE SET sealed = excluded.sealed",
            (db_val[]){DB_ID(cin), DB_ID(&ks->sd_aid), DB_I(ks->kvn), DB_B(sealed, sealed_len)}, 4,
            NULL);
    free(sealed);
    return store_end(store, e);
}

seam_err seam_store_keyset_get(seam_store *store, const seam_store_id *cin,
                               const seam_store_id *sd_aid, uint8_t kvn, seam_store_keyset *out) {
    db_rows rows = {0};
    uint8_t plain[KEYSET_PLAIN], key[64];
    size_t n = 0;
    if (!store_id_ok(cin) || !store_id_ok(sd_aid) || !out)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store,
                            "SELECT kvn, sealed FROM keysets WHERE cin = ? AND sd_aid = ? AND "
                            "(kvn = ? OR ? = 0) ORDER BY kvn DESC LIMIT 1",
                            (db_val[]){DB_ID(cin), DB_ID(sd_aid), DB_I(kvn), DB_I(kvn)}, 4, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        uint8_t found = (uint8_t)db_at(&rows, 0, 0)->i;
        const db_val *v = db_at(&rows, 0, 1);
        size_t key_len = store_row_key(key, cin, sd_aid, found);
        e = store_open_sealed(store, "keysets", key, key_len, v->p, v->n, plain, sizeof plain, &n);
        size_t k = n ? plain[0] : 0;
        if (!e && ((k != 16 && k != 24 && k != 32) || n != 1 + 3 * k))
            e = SEAM_ERR_SERVER_STORE;
        if (!e) {
            memset(out, 0, sizeof *out);
            out->sd_aid = *sd_aid;
            out->kvn = found;
            out->key_len = k;
            memcpy(out->enc, plain + 1, k);
            memcpy(out->mac, plain + 1 + k, k);
            memcpy(out->dek, plain + 1 + 2 * k, k);
        }
    }
    seam_secure_zero(plain, sizeof plain);
    db_rows_free(&rows);
    return e;
}

/* ---- personalization data ---- */

seam_err seam_store_perso_put(seam_store *store, const seam_store_id *cin,
                              const seam_store_id *app_aid, const uint8_t *data, size_t len) {
    uint8_t key[64];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    if (!store_id_ok(cin) || !store_id_ok(app_aid) || (!data && len))
        return SEAM_ERR_ARG;
    size_t key_len = store_row_key(key, cin, app_aid, 0);
    seam_err e = store_seal(store, "perso", key, key_len, data, len, &sealed, &sealed_len);
    if (!e)
        e = store_begin(store);
    if (!e)
        e = card_exists(store, cin);
    if (!e)
        e = store_exec(
            store,
            "INSERT INTO perso (cin, app_aid, sealed, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (cin, app_aid) DO UPDATE SET sealed = excluded.sealed, "
            "updated = excluded.updated",
            (db_val[]){DB_ID(cin), DB_ID(app_aid), DB_B(sealed, sealed_len), DB_I(store_now())}, 4,
            NULL);
    free(sealed);
    return store_end(store, e);
}

seam_err seam_store_perso_get(seam_store *store, const seam_store_id *cin,
                              const seam_store_id *app_aid, uint8_t **data, size_t *len) {
    db_rows rows = {0};
    uint8_t key[64];
    if (!store_id_ok(cin) || !store_id_ok(app_aid) || !data || !len)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT sealed FROM perso WHERE cin = ? AND app_aid = ?",
                            (db_val[]){DB_ID(cin), DB_ID(app_aid)}, 2, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        const db_val *v = db_at(&rows, 0, 0);
        size_t cap = v->n ? v->n : 1, n = 0;
        uint8_t *plain = malloc(cap);
        size_t key_len = store_row_key(key, cin, app_aid, 0);
        e = plain ? store_open_sealed(store, "perso", key, key_len, v->p, v->n, plain, cap, &n)
                  : SEAM_ERR_NOMEM;
        if (e) {
            seam_store_free_secret(plain, cap);
        } else {
            *data = plain;
            *len = n;
        }
    }
    db_rows_free(&rows);
    return e;
}

/* ---- the terminal's public key (P6) ---- */

seam_err seam_store_terminal_key_put(seam_store *store, const seam_store_id *cin,
                                     const uint8_t key[SEAM_STORE_TERMINAL_KEY_SIZE]) {
    if (!store_id_ok(cin) || !key)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = card_exists(store, cin);
    if (!e)
        e = store_exec(
            store,
            "INSERT INTO card_terminals (cin, public_key, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (cin) DO UPDATE SET public_key = excluded.public_key, "
            "updated = excluded.updated",
            (db_val[]){DB_ID(cin), DB_B(key, SEAM_STORE_TERMINAL_KEY_SIZE), DB_I(store_now())}, 3,
            NULL);
    return store_end(store, e);
}

seam_err seam_store_terminal_key_get(seam_store *store, const seam_store_id *cin,
                                     uint8_t key[SEAM_STORE_TERMINAL_KEY_SIZE]) {
    db_rows rows = {0};
    if (!store_id_ok(cin) || !key)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT public_key FROM card_terminals WHERE cin = ?",
                            (db_val[]){DB_ID(cin)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e) {
        const db_val *v = db_at(&rows, 0, 0);
        if (v->n != SEAM_STORE_TERMINAL_KEY_SIZE)
            e = SEAM_ERR_SERVER_STORE;
        else
            memcpy(key, v->p, SEAM_STORE_TERMINAL_KEY_SIZE);
    }
    db_rows_free(&rows);
    return e;
}
