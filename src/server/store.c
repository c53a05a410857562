/*
 * The server's store: opening a backend by URL, the master key file, sealing secrets,
 * settings, packages, cards with their key sets and personalization data, and the
 * digest of the whole store. Campaigns, claims, sessions, accounting and events are in
 * store_work.c. The interface and its rules are in store.h.
 */
#include "server/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seam/util.h"

#define NONCE  SEAM_CRYPTO_GCM_NONCE_SIZE
#define TAG    SEAM_CRYPTO_GCM_TAG_SIZE
#define KEYHEX (2 * SEAM_STORE_MASTER_KEY_SIZE)

/* What the store seals under its key when it is created: a wrong key cannot open it. */
static const char key_check[] = "seam server store master key check v1";

/* ---- small helpers ---- */

int64_t store_now(void) {
    return (int64_t)time(NULL);
}

bool store_ascii_ok(const char *t, size_t min, size_t max, char first) {
    size_t n = t ? strnlen(t, max + 1) : 0;
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] < first || t[i] > 0x7E)
            return false;
    return true;
}

bool store_id_ok(const seam_store_id *id) {
    return id && id->len >= 1 && id->len <= SEAM_STORE_ID_MAX;
}

void store_id_from(seam_store_id *id, const db_val *v) {
    memset(id, 0, sizeof *id);
    if (v->kind == DB_BLOB && v->n <= SEAM_STORE_ID_MAX) {
        id->len = v->n;
        memcpy(id->bytes, v->p, v->n);
    }
}

void store_text_from(char *dst, size_t cap, const db_val *v) {
    size_t n = v->kind == DB_TEXT ? v->n : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, n ? v->p : "", n);
    dst[n] = '\0';
}

size_t store_row_key(uint8_t key[64], const seam_store_id *a, const seam_store_id *b, int64_t n) {
    size_t len = 0;
    const seam_store_id *ids[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (!ids[i])
            continue;
        key[len++] = (uint8_t)ids[i]->len;
        memcpy(key + len, ids[i]->bytes, ids[i]->len);
        len += ids[i]->len;
    }
    for (int i = 0; i < 8; i++)
        key[len++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    return len;
}

void db_rows_free(db_rows *r) {
    if (!r)
        return;
    for (size_t i = 0; r->v && i < r->rows * r->cols; i++)
        free((void *)r->v[i].p);
    free(r->v);
    memset(r, 0, sizeof *r);
}

seam_err db_val_copy(db_val *dst, db_kind kind, int64_t i, const void *p, size_t n) {
    memset(dst, 0, sizeof *dst);
    dst->kind = kind;
    dst->i = i;
    if (kind == DB_BLOB || kind == DB_TEXT) {
        uint8_t *copy = malloc(n + 1);
        if (!copy)
            return SEAM_ERR_NOMEM;
        if (n)
            memcpy(copy, p, n);
        copy[n] = 0;
        dst->p = copy;
        dst->n = n;
    }
    return SEAM_OK;
}

seam_err store_exec(seam_store *s, const char *sql, const db_val *params, size_t n, db_rows *out) {
    return s->drv->exec(s->conn, sql, params, n, out);
}

seam_err store_begin(seam_store *s) {
    seam_err e = s->depth ? SEAM_OK : store_exec(s, s->drv->begin, NULL, 0, NULL);
    if (!e)
        s->depth++;
    return e;
}

seam_err store_end(seam_store *s, seam_err err) {
    if (s->depth == 0 || --s->depth > 0)
        return err;
    int64_t settle = s->settle_campaign;
    s->settle_campaign = 0;
    if (!err) {
        err = store_exec(s, "COMMIT", NULL, 0, NULL);
        if (!err) {
            /* the targets' states are committed; the campaign's summary follows from them
               (a failure here leaves it running until the next finish settles it) */
            if (settle)
                (void)store_campaign_settle(s, settle);
            return SEAM_OK;
        }
    }
    (void)store_exec(s, "ROLLBACK", NULL, 0, NULL);
    return err;
}

seam_err seam_store_begin(seam_store *store) {
    return store ? store_begin(store) : SEAM_ERR_ARG;
}

seam_err seam_store_end(seam_store *store, seam_err err) {
    return store ? store_end(store, err) : SEAM_ERR_ARG;
}

void seam_store_free_secret(void *p, size_t len) {
    if (!p)
        return;
    seam_secure_zero(p, len);
    free(p);
}

/* ---- sealing ---- */

static seam_err make_aad(const char *table, const uint8_t *key, size_t key_len, uint8_t *aad,
                         size_t cap, size_t *len) {
    static const char label[] = "seam-store-v1";
    size_t t = strlen(table);
    if (sizeof label + t + 1 + key_len > cap)
        return SEAM_ERR_ARG;
    memcpy(aad, label, sizeof label); /* with its NUL: a separator */
    memcpy(aad + sizeof label, table, t + 1);
    memcpy(aad + sizeof label + t + 1, key, key_len);
    *len = sizeof label + t + 1 + key_len;
    return SEAM_OK;
}

seam_err store_seal(seam_store *s, const char *table, const uint8_t *key, size_t key_len,
                    const uint8_t *plain, size_t len, uint8_t **out, size_t *out_len) {
    uint8_t aad[128];
    size_t aad_len = 0;
    seam_err e = make_aad(table, key, key_len, aad, sizeof aad, &aad_len);
    if (e)
        return e;
    uint8_t *sealed = malloc(NONCE + len + TAG);
    if (!sealed)
        return SEAM_ERR_NOMEM;
    e = seam_crypto_random_fresh(sealed, NONCE); /* never repeats across runs, even in tests */
    if (!e)
        e = seam_crypto_aes_gcm_seal(s->gcm, sealed, aad, aad_len, plain, len, sealed + NONCE,
                                     sealed + NONCE + len);
    if (e) {
        free(sealed);
        return e;
    }
    *out = sealed;
    *out_len = NONCE + len + TAG;
    return SEAM_OK;
}

seam_err store_open_sealed(seam_store *s, const char *table, const uint8_t *key, size_t key_len,
                           const uint8_t *sealed, size_t sealed_len, uint8_t *plain, size_t cap,
                           size_t *len) {
    uint8_t aad[128];
    size_t aad_len = 0;
    if (sealed_len < NONCE + TAG)
        return SEAM_ERR_SERVER_MASTER_KEY;
    size_t n = sealed_len - NONCE - TAG;
    if (n > cap)
        return SEAM_ERR_SERVER_STORE;
    seam_err e = make_aad(table, key, key_len, aad, sizeof aad, &aad_len);
    if (e)
        return e;
    if (seam_crypto_aes_gcm_open(s->gcm, sealed, aad, aad_len, sealed + NONCE, n,
                                 sealed + NONCE + n, plain) != SEAM_OK)
        return SEAM_ERR_SERVER_MASTER_KEY;
    *len = n;
    return SEAM_OK;
}

/* ---- the master key file ---- */

static void sync_folder(const char *path) {
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

seam_err seam_store_master_key_create(const char *path, uint8_t key[SEAM_STORE_MASTER_KEY_SIZE]) {
    char text[KEYHEX + 2];
    size_t text_len = 0;
    bool created = false;
    int fd = -1;
    seam_err e = SEAM_OK;
    uint8_t fresh[SEAM_STORE_MASTER_KEY_SIZE];
    if (!path || !*path || !key)
        return SEAM_ERR_ARG;
    e = seam_crypto_random_fresh(fresh, sizeof fresh);
    if (!e)
        e = seam_hex_encode(fresh, sizeof fresh, text, sizeof text, &text_len);
    if (e)
        goto done;
    text[text_len++] = '\n';
    /* O_EXCL: an existing key may be the only key of a store; O_NOFOLLOW: a planted link
       must not send the key elsewhere. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno == EEXIST || errno == ELOOP ? SEAM_ERR_SERVER_KEY_EXISTS : SEAM_ERR_IO;
        goto done;
    }
    created = true;
    if (fchmod(fd, 0600) != 0 || write(fd, text, text_len) != (ssize_t)text_len || fsync(fd) != 0)
        e = SEAM_ERR_IO;
    else
        sync_folder(path);
done:
    if (fd >= 0)
        close(fd);
    if (e && created)
        unlink(path);
    if (!e)
        memcpy(key, fresh, sizeof fresh);
    seam_secure_zero(fresh, sizeof fresh);
    seam_secure_zero(text, sizeof text);
    return e;
}

seam_err seam_store_master_key_load(const char *path, uint8_t key[SEAM_STORE_MASTER_KEY_SIZE]) {
    char text[KEYHEX + 3];
    uint8_t read_key[SEAM_STORE_MASTER_KEY_SIZE];
    size_t key_len = 0;
    ssize_t got = -1;
    struct stat st;
    seam_err e = SEAM_OK;
    if (!path || !*path || !key)
        return SEAM_ERR_ARG;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? SEAM_ERR_NOT_FOUND : SEAM_ERR_SERVER_KEY_FILE;
    /* a regular file that only its owner may read */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0)
        got = read(fd, text, sizeof text);
    close(fd);
    size_t digits =
        got > 0 && text[got - 1] == '\n' ? (size_t)got - 1 : (size_t)(got < 0 ? 0 : got);
    if (got < 0 || digits != KEYHEX ||
        seam_hex_decode(text, digits, read_key, sizeof read_key, &key_len) != SEAM_OK ||
        key_len != sizeof read_key)
        e = SEAM_ERR_SERVER_KEY_FILE;
    else
        memcpy(key, read_key, sizeof read_key);
    seam_secure_zero(read_key, sizeof read_key);
    seam_secure_zero(text, sizeof text);
    return e;
}

/* ---- handles ---- */

/* Creates the tables if needed and checks (or, on a new store, writes) the key check. */
static seam_err prepare(seam_store *s) {
    db_rows rows = {0};
    seam_err e = store_begin(s);
    if (e)
        return e;
    if (s->drv == &store_pg_driver) /* one creator at a time: CREATE IF NOT EXISTS races */
        e = store_exec(s, "SELECT pg_advisory_xact_lock(5345414)", NULL, 0, NULL);
    for (const char *const *sql = s->drv->schema; !e && *sql; sql++)
        e = store_exec(s, *sql, NULL, 0, NULL);
    if (!e)
        e = store_exec(s, "SELECT value FROM store_meta WHERE name = 'key_check'", NULL, 0, &rows);
    if (!e && rows.rows == 0) {
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        e = store_seal(s, "store_meta", (const uint8_t *)"key_check", 9, (const uint8_t *)key_check,
                       sizeof key_check, &sealed, &sealed_len);
        if (!e)
            e = store_exec(s, "INSERT INTO store_meta (name, value) VALUES ('key_check', ?)",
                           (db_val[]){DB_B(sealed, sealed_len)}, 1, NULL);
        free(sealed);
    } else if (!e) {
        uint8_t plain[sizeof key_check];
        size_t len = 0;
        const db_val *v = db_at(&rows, 0, 0);
        e = store_open_sealed(s, "store_meta", (const uint8_t *)"key_check", 9, v->p, v->n, plain,
                              sizeof plain, &len);
        if (e == SEAM_ERR_SERVER_STORE ||
            (!e && (len != sizeof key_check || memcmp(plain, key_check, len) != 0)))
            e = SEAM_ERR_SERVER_MASTER_KEY;
    }
    db_rows_free(&rows);
    return store_end(s, e);
}

seam_err seam_store_open(const char *url, const uint8_t master_key[SEAM_STORE_MASTER_KEY_SIZE],
                         seam_store **out) {
    if (!url || !*url || !master_key || !out)
        return SEAM_ERR_ARG;
    seam_store *s = calloc(1, sizeof *s);
    if (!s)
        return SEAM_ERR_NOMEM;
    seam_err e = SEAM_OK;
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        s->drv = &store_pg_driver;
        e = store_pg_connect(url, &s->conn);
    } else if (strstr(url, "://") != NULL) {
        e = SEAM_ERR_UNSUPPORTED;
    } else {
        s->drv = &store_sqlite_driver;
        e = store_sqlite_connect(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, &s->conn);
    }
    if (!e)
        e = seam_crypto_aes_gcm_new(master_key, SEAM_STORE_MASTER_KEY_SIZE, &s->gcm);
    if (!e)
        e = prepare(s);
    if (e) {
        seam_store_close(s);
        return e;
    }
    *out = s;
    return SEAM_OK;
}

void seam_store_close(seam_store *store) {
    if (!store)
        return;
    if (store->conn)
        store->drv->close(store->conn);
    seam_crypto_aes_gcm_free(store->gcm);
    free(store);
}

const char *seam_store_backend(const seam_store *store) {
    return store->drv->name;
}

seam_err seam_store_digest(seam_store *store, uint8_t digest[32]) {
    static const char *const tables[] = {
        "SELECT * FROM store_meta ORDER BY name",
        "SELECT * FROM settings ORDER BY name",
        "SELECT * FROM packages ORDER BY aid, version",
        "SELECT * FROM cards ORDER BY cin",
        "SELECT * FROM keysets ORDER BY cin, sd_aid, kvn",
        "SELECT * FROM perso ORDER BY cin, app_aid",
        "SELECT * FROM card_terminals ORDER BY cin",
        "SELECT * FROM campaigns ORDER BY id",
        "SELECT * FROM targets ORDER BY campaign, cin",
        "SELECT * FROM sessions ORDER BY id",
        "SELECT * FROM byte_counts ORDER BY campaign, cin, step",
        "SELECT * FROM events ORDER BY id",
        "SELECT * FROM devices ORDER BY id",
        "SELECT * FROM device_records ORDER BY device, uri, key",
        "SELECT * FROM device_history ORDER BY id",
        "SELECT * FROM device_secrets ORDER BY device",
        "SELECT * FROM device_sync ORDER BY device, protocol, uri",
        "SELECT * FROM device_anchors ORDER BY device, uri",
        "SELECT * FROM device_map ORDER BY device, uri, luid",
    };
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    seam_err e = SEAM_OK;
    for (size_t t = 0; !e && t < sizeof tables / sizeof *tables; t++) {
        db_rows rows = {0};
        e = store_exec(store, tables[t], NULL, 0, &rows);
        for (size_t i = 0; !e && i < rows.rows * rows.cols; i++) {
            const db_val *v = &rows.v[i];
            size_t need = len + 1 + 8 + 8 + v->n + 1;
            if (need > cap) {
                cap = need * 2;
                uint8_t *grown = realloc(buf, cap);
                if (!grown) {
                    e = SEAM_ERR_NOMEM;
                    break;
                }
                buf = grown;
            }
            buf[len++] = (uint8_t)v->kind;
            for (int b = 0; b < 8; b++)
                buf[len++] = (uint8_t)((uint64_t)v->i >> (56 - 8 * b));
            for (int b = 0; b < 8; b++)
                buf[len++] = (uint8_t)((uint64_t)v->n >> (56 - 8 * b));
            if (v->n)
                memcpy(buf + len, v->p, v->n);
            len += v->n;
        }
        if (!e && len + 1 > cap) {
            uint8_t *grown = realloc(buf, cap = len + 16);
            if (!grown)
                e = SEAM_ERR_NOMEM;
            else
                buf = grown;
        }
        if (!e)
            buf[len++] = 0xFF; /* end of a table */
        db_rows_free(&rows);
    }
    if (!e)
        e = seam_crypto_sha256(buf, len, digest);
    free(buf);
    return e;
}

/* ---- settings ---- */

seam_err seam_store_setting_put(seam_store *store, const char *name, const char *value) {
    if (!name || !*name || !value)
        return SEAM_ERR_ARG;
    seam_err e = store_begin(store);
    if (!e)
        e = store_exec(store,
                       "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
                       "UPDATE SET value = excluded.value",
                       (db_val[]){DB_T(name), DB_T(value)}, 2, NULL);
    return store_end(store, e);
}

seam_err seam_store_setting_get(seam_store *store, const char *name, char *value, size_t cap) {
    db_rows rows = {0};
    if (!name || !*name || !value || cap == 0)
        return SEAM_ERR_ARG;
    seam_err e = store_exec(store, "SELECT value FROM settings WHERE name = ?",
                            (db_val[]){DB_T(name)}, 1, &rows);
    if (!e && rows.rows == 0)
        e = SEAM_ERR_NOT_FOUND;
    if (!e && db_at(&rows, 0, 0)->n >= cap)
        e = SEAM_ERR_BUFFER_SMALL;
    if (!e)
        store_text_from(value, cap, db_at(&rows, 0, 0));
    db_rows_free(&rows);
    return e;
}
