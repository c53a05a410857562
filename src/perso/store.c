/*
 * The restore store (P4, P10; docs/restore-module.md "Outside the card"): restore
 * records kept outside the card in a SQLite file (WAL, synchronous=FULL), each sealed
 * with AES-256-GCM under
 *
 *   K   = SCP03 KDF (NIST SP 800-108 CMAC) of the domain's DEK, constant 0x70 (ours,
 *         outside the SCP03 session constants), context "seam.perso.store" || CIN
 *   AAD = "seam.perso.record" || len || CIN || len || SD AID || len || instance AID ||
 *         len || package AID
 *
 * so that a row copied under another identity, another card or another package, or a
 * flipped byte, does not open. Tables (all prefixed, so the file may be a terminal's
 * state file too): perso_records, perso_journal (the update flow's), perso_refusals
 * (the log). Every change is one transaction.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perso_int.h"
#include "seam/crypto.h"
#include "seam/util.h"

#define STORE_CONSTANT 0x70u

struct seam_perso_store {
    sqlite3 *db;
    long fault_after; /* -1: off */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS perso_records ("
    " cin BLOB NOT NULL, sd BLOB NOT NULL, instance BLOB NOT NULL, package BLOB NOT NULL,"
    " nonce BLOB NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (cin, sd, instance));"
    "CREATE TABLE IF NOT EXISTS perso_journal ("
    " cin BLOB NOT NULL, sd BLOB NOT NULL, package BLOB NOT NULL, version INTEGER NOT NULL,"
    " digest BLOB NOT NULL, instances BLOB NOT NULL, PRIMARY KEY (cin, sd, package));"
    "CREATE TABLE IF NOT EXISTS perso_refusals ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, cin TEXT NOT NULL,"
    " instance TEXT NOT NULL, reason TEXT NOT NULL);";

seam_err seam_perso_store_open(const char *path, seam_perso_store **out) {
    seam_perso_store *s = calloc(1, sizeof *s);
    int rc;
    if (!s)
        return SEAM_ERR_NOMEM;
    s->fault_after = -1;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                         NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(s->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        seam_err e = rc == SQLITE_NOMEM ? SEAM_ERR_NOMEM : SEAM_ERR_IO;
        sqlite3_close(s->db);
        free(s);
        return e;
    }
    *out = s;
    return SEAM_OK;
}

void seam_perso_store_close(seam_perso_store *s) {
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

void perso_store_fault_after(seam_perso_store *s, long transactions) {
    s->fault_after = transactions;
}

/* Runs one change as one transaction: BEGIN IMMEDIATE, the statement, COMMIT. */
static seam_err change(seam_perso_store *s, sqlite3_stmt *st) {
    int rc;
    if (s->fault_after == 0)
        return SEAM_ERR_PERSO_STORE; /* the store was cut */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return SEAM_ERR_PERSO_STORE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        if (s->fault_after > 0)
            s->fault_after--;
        return SEAM_OK;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return SEAM_ERR_PERSO_STORE;
}

static seam_err prepare(seam_perso_store *s, const char *sql, sqlite3_stmt **st) {
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? SEAM_OK
                                                                     : SEAM_ERR_PERSO_STORE;
}

static void bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n) {
    sqlite3_bind_blob(st, i, n ? (const void *)p : "", (int)n, SQLITE_TRANSIENT);
}

/* Binds the key of a row, (?1, ?2, ?3) = (id's CIN, id's SD, third): third is the instance
   for a record, the package for a journal row. */
static void bind_key(sqlite3_stmt *st, const perso_identity *id, const seam_gp_aid *third) {
    bind_blob(st, 1, id->cin, id->cin_len);
    bind_blob(st, 2, id->sd.bytes, id->sd.len);
    bind_blob(st, 3, third->bytes, third->len);
}

/* ---- the store key and the record's binding ----------------------------------------- */

static seam_err store_key(const seam_perso_domain *d, const perso_identity *id, uint8_t key[32]) {
    static const char label[] = "seam.perso.store";
    uint8_t context[sizeof label - 1 + SEAM_PERSO_CIN_MAX];
    memcpy(context, label, sizeof label - 1);
    memcpy(context + sizeof label - 1, id->cin, id->cin_len);
    return seam_crypto_scp03_kdf(d->keys.dek, d->keys.len, STORE_CONSTANT, context,
                                 sizeof label - 1 + id->cin_len, key, 32);
}

static size_t record_aad(const perso_identity *id, uint8_t *aad) {
    static const char label[] = "seam.perso.record";
    size_t n = sizeof label - 1;
    memcpy(aad, label, n);
    aad[n++] = (uint8_t)id->cin_len;
    memcpy(aad + n, id->cin, id->cin_len);
    n += id->cin_len;
    const seam_gp_aid *aids[3] = {&id->sd, &id->instance, &id->package};
    for (int i = 0; i < 3; i++) {
        aad[n++] = (uint8_t)aids[i]->len;
        memcpy(aad + n, aids[i]->bytes, aids[i]->len);
        n += aids[i]->len;
    }
    return n;
}

#define AAD_MAX (32 + 1 + SEAM_PERSO_CIN_MAX + 3 * (1 + SEAM_GP_AID_MAX))

static void hex_of(const uint8_t *p, size_t n, char *out, size_t cap) {
    size_t len;
    if (seam_hex_encode(p, n, out, cap, &len) != SEAM_OK && cap)
        out[0] = '\0';
}

seam_err perso_store_refuse(seam_perso_store *s, const uint8_t *cin, size_t cin_len,
                            const seam_gp_aid *instance, const char *reason) {
    char cin_hex[2 * SEAM_PERSO_CIN_MAX + 1] = "", aid_hex[2 * SEAM_GP_AID_MAX + 1] = "";
    sqlite3_stmt *st = NULL;
    seam_err e = prepare(s,
                         "INSERT INTO perso_refusals (time, cin, instance, reason)"
                         " VALUES (?, ?, ?, ?)",
                         &st);
    if (e)
        return e;
    hex_of(cin, cin_len < SEAM_PERSO_CIN_MAX ? cin_len : SEAM_PERSO_CIN_MAX, cin_hex,
           sizeof cin_hex);
    if (instance)
        hex_of(instance->bytes, instance->len, aid_hex, sizeof aid_hex);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(st, 2, cin_hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, aid_hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_TRANSIENT);
    e = change(s, st);
    sqlite3_finalize(st);
    return e;
}

static seam_err refuse_id(seam_perso_store *s, const perso_identity *id, const char *reason) {
    (void)perso_store_refuse(s, id->cin, id->cin_len, &id->instance, reason);
    return SEAM_OK;
}

/* ---- records ------------------------------------------------------------------------ */

seam_err perso_store_put(seam_perso_store *s, const seam_perso_domain *d, const perso_identity *id,
                         const uint8_t *record, size_t len) {
    uint8_t key[32], nonce[SEAM_CRYPTO_GCM_NONCE_SIZE], aad[AAD_MAX];
    uint8_t *sealed = NULL;
    seam_crypto_aes_gcm *gcm = NULL;
    sqlite3_stmt *st = NULL;
    size_t aad_len = record_aad(id, aad);
    seam_err e = len > SEAM_PERSO_RECORD_MAX ? SEAM_ERR_ARG : store_key(d, id, key);
    if (!e && !(sealed = malloc(len + SEAM_CRYPTO_GCM_TAG_SIZE)))
        e = SEAM_ERR_NOMEM;
    if (!e)
        e = seam_crypto_random_fresh(nonce, sizeof nonce);
    if (!e)
        e = seam_crypto_aes_gcm_new(key, sizeof key, &gcm);
    if (!e)
        e = seam_crypto_aes_gcm_seal(gcm, nonce, aad, aad_len, record, len, sealed, sealed + len);
    if (!e)
        e = prepare(s,
                    "INSERT OR REPLACE INTO perso_records (cin, sd, instance, package, nonce,"
                    " sealed) VALUES (?, ?, ?, ?, ?, ?)",
                    &st);
    if (!e) {
        bind_key(st, id, &id->instance);
        bind_blob(st, 4, id->package.bytes, id->package.len);
        bind_blob(st, 5, nonce, sizeof nonce);
        bind_blob(st, 6, sealed, len + SEAM_CRYPTO_GCM_TAG_SIZE);
        e = change(s, st);
    }
    sqlite3_finalize(st);
    seam_crypto_aes_gcm_free(gcm);
    seam_secure_zero(key, sizeof key);
    free(sealed);
    return e;
}

/* Opens id's record into out[0..cap) (out NULL: only checks that it opens). */
static seam_err open_record(seam_perso_store *s, const seam_perso_domain *d,
                            const perso_identity *id, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t key[32], aad[AAD_MAX];
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    seam_err e = prepare(s,
                         "SELECT nonce, sealed FROM perso_records WHERE cin = ? AND sd = ? AND"
                         " instance = ?",
                         &st);
    if (e)
        return e;
    bind_key(st, id, &id->instance);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = SEAM_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        e = SEAM_ERR_PERSO_STORE;
    } else {
        const uint8_t *nonce = sqlite3_column_blob(st, 0), *sealed = sqlite3_column_blob(st, 1);
        int nonce_len = sqlite3_column_bytes(st, 0), sealed_len = sqlite3_column_bytes(st, 1);
        if (nonce_len != SEAM_CRYPTO_GCM_NONCE_SIZE || sealed_len < SEAM_CRYPTO_GCM_TAG_SIZE ||
            !nonce || !sealed) {
            e = SEAM_ERR_PERSO_SEAL;
        } else {
            n = (size_t)sealed_len - SEAM_CRYPTO_GCM_TAG_SIZE;
            e = store_key(d, id, key);
            if (!e)
                e = perso_gcm_open(key, nonce, aad, record_aad(id, aad), sealed, n, sealed + n,
                                   out && n <= cap ? out : NULL);
        }
    }
    if (!e && out) {
        *out_len = n;
        if (n > cap)
            e = SEAM_ERR_BUFFER_SMALL;
    }
    seam_secure_zero(key, sizeof key);
    sqlite3_finalize(st);
    if (e == SEAM_ERR_PERSO_SEAL)
        refuse_id(s, id,
                  "the stored record does not open for this card, domain, instance and "
                  "package (another identity's, or tampered)");
    return e;
}

seam_err perso_store_check(seam_perso_store *s, const seam_perso_domain *d,
                           const perso_identity *id) {
    return open_record(s, d, id, NULL, 0, NULL);
}

seam_err perso_store_version(seam_perso_store *s, const seam_perso_domain *d,
                             const perso_identity *id, uint16_t *version) {
    uint8_t *bytes = malloc(SEAM_PERSO_RECORD_MAX);
    seam_perso_record r;
    size_t n = 0;
    if (!bytes)
        return SEAM_ERR_NOMEM;
    seam_err e = open_record(s, d, id, bytes, SEAM_PERSO_RECORD_MAX, &n);
    if (!e)
        e = seam_perso_record_decode(bytes, n, &r);
    *version = e ? 0 : r.version;
    seam_secure_zero(bytes, SEAM_PERSO_RECORD_MAX);
    free(bytes);
    return e;
}

static bool same_aid(const seam_gp_aid *a, const seam_gp_aid *b) {
    return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

void perso_grant_after_load(perso_grant *g, const seam_gp *gp, const seam_perso_actor *actor,
                            const seam_gp_aid *package, uint16_t sw) {
    uint8_t level = 0;
    memset(g, 0, sizeof *g);
    g->gp = gp;
    memcpy(g->cin, actor->cin, actor->cin_len);
    g->cin_len = actor->cin_len;
    g->sd = actor->domain->aid;
    g->package = *package;
    g->accepted = sw == 0x9000 && seam_gp_channel_is_open(gp, &level) && level == 0x33;
}

seam_err perso_store_release(seam_perso_store *s, const seam_perso_domain *d,
                             const perso_identity *id, const perso_grant *grant, uint8_t *out,
                             size_t cap, size_t *out_len) {
    uint8_t level = 0;
    if (!grant || !grant->accepted || !grant->gp || !seam_gp_channel_is_open(grant->gp, &level) ||
        level != 0x33 || grant->cin_len != id->cin_len ||
        memcmp(grant->cin, id->cin, id->cin_len) || !same_aid(&grant->sd, &id->sd) ||
        !same_aid(&grant->sd, &d->aid) || !same_aid(&grant->package, &id->package)) {
        refuse_id(s, id, "a record asked for outside an authorized load of the same identity");
        return SEAM_ERR_PERSO_DENIED;
    }
    return open_record(s, d, id, out, cap, out_len);
}

/* ---- the journal ---------------------------------------------------------------------- */

seam_err perso_journal_get(seam_perso_store *s, const perso_identity *id, perso_journal *j) {
    sqlite3_stmt *st = NULL;
    seam_err e = prepare(s,
                         "SELECT version, digest, instances FROM perso_journal WHERE cin = ? AND"
                         " sd = ? AND package = ?",
                         &st);
    if (e)
        return e;
    bind_key(st, id, &id->package);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = SEAM_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 1) != 32) {
        e = SEAM_ERR_PERSO_STORE;
    } else {
        perso_journal r = {.version = (uint16_t)sqlite3_column_int(st, 0)};
        const uint8_t *p = sqlite3_column_blob(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 2), pos = 0;
        memcpy(r.digest, sqlite3_column_blob(st, 1), 32);
        while (!e && pos < n) {
            size_t l = p[pos++];
            if (l < SEAM_GP_AID_MIN || l > SEAM_GP_AID_MAX || l > n - pos ||
                r.instance_count == SEAM_PERSO_BLOCKS_MAX) {
                e = SEAM_ERR_PERSO_STORE;
                break;
            }
            memcpy(r.instances[r.instance_count].bytes, p + pos, l);
            r.instances[r.instance_count++].len = l;
            pos += l;
        }
        if (!e)
            *j = r;
    }
    sqlite3_finalize(st);
    return e;
}

seam_err perso_journal_put(seam_perso_store *s, const perso_identity *id, const perso_journal *j) {
    uint8_t list[SEAM_PERSO_BLOCKS_MAX * (1 + SEAM_GP_AID_MAX)];
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    seam_err e = prepare(s,
                         "INSERT OR REPLACE INTO perso_journal (cin, sd, package, version, digest,"
                         " instances) VALUES (?, ?, ?, ?, ?, ?)",
                         &st);
    if (e)
        return e;
    for (size_t i = 0; i < j->instance_count && i < SEAM_PERSO_BLOCKS_MAX; i++) {
        list[n++] = (uint8_t)j->instances[i].len;
        memcpy(list + n, j->instances[i].bytes, j->instances[i].len);
        n += j->instances[i].len;
    }
    bind_key(st, id, &id->package);
    sqlite3_bind_int(st, 4, j->version);
    bind_blob(st, 5, j->digest, 32);
    bind_blob(st, 6, list, n);
    e = change(s, st);
    sqlite3_finalize(st);
    return e;
}

seam_err perso_journal_delete(seam_perso_store *s, const perso_identity *id) {
    sqlite3_stmt *st = NULL;
    seam_err e =
        prepare(s, "DELETE FROM perso_journal WHERE cin = ? AND sd = ? AND package = ?", &st);
    if (e)
        return e;
    bind_key(st, id, &id->package);
    e = change(s, st);
    sqlite3_finalize(st);
    return e;
}

seam_err seam_perso_update_forget(const seam_perso_actor *actor, const seam_gp_aid *package) {
    perso_identity id;
    memset(&id, 0, sizeof id);
    if (!actor || !actor->store || !actor->domain || !package ||
        actor->cin_len > SEAM_PERSO_CIN_MAX)
        return SEAM_ERR_ARG;
    memcpy(id.cin, actor->cin, actor->cin_len);
    id.cin_len = actor->cin_len;
    id.sd = actor->domain->aid;
    id.package = *package;
    return perso_journal_delete(actor->store, &id);
}

/* ---- digest and log ------------------------------------------------------------------ */

static seam_err digest_table(seam_perso_store *s, const char *sql, uint8_t acc[32]) {
    sqlite3_stmt *st = NULL;
    seam_err e = prepare(s, sql, &st);
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; !e && c < sqlite3_column_count(st); c++) {
            /* acc = SHA-256(acc || type || length || bytes) per column: order-sensitive */
            const uint8_t *p = sqlite3_column_blob(st, c);
            size_t n = (size_t)sqlite3_column_bytes(st, c);
            uint8_t *buf = malloc(32 + 1 + 4 + n);
            if (!buf) {
                e = SEAM_ERR_NOMEM;
                break;
            }
            memcpy(buf, acc, 32);
            buf[32] = (uint8_t)sqlite3_column_type(st, c);
            seam_put_be32(buf + 33, (uint32_t)n);
            if (n)
                memcpy(buf + 37, p, n);
            e = seam_crypto_sha256(buf, 37 + n, acc);
            free(buf);
        }
    }
    if (!e && rc != SQLITE_DONE)
        e = SEAM_ERR_PERSO_STORE;
    sqlite3_finalize(st);
    return e;
}

seam_err seam_perso_store_digest(seam_perso_store *s, uint8_t digest[32]) {
    uint8_t acc[32] = {0};
    seam_err e = digest_table(s, "SELECT * FROM perso_records ORDER BY cin, sd, instance", acc);
    if (!e)
        e = digest_table(s, "SELECT * FROM perso_journal ORDER BY cin, sd, package", acc);
    if (!e)
        memcpy(digest, acc, 32);
    return e;
}

/* Copies column c's text into out[0..cap), cut there; a NULL (a file rewritten behind the
   store's back) reads as "". */
static void text_of(sqlite3_stmt *st, int c, char *out, size_t cap) {
    const char *t = (const char *)sqlite3_column_text(st, c);
    snprintf(out, cap, "%s", t ? t : "");
}

seam_err seam_perso_store_log(seam_perso_store *s,
                              seam_err (*fn)(void *ctx, const seam_perso_refusal *r), void *ctx) {
    sqlite3_stmt *st = NULL;
    seam_err e =
        prepare(s, "SELECT time, cin, instance, reason FROM perso_refusals ORDER BY id", &st);
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        seam_perso_refusal r;
        memset(&r, 0, sizeof r);
        r.time = sqlite3_column_int64(st, 0);
        text_of(st, 1, r.cin, sizeof r.cin);
        text_of(st, 2, r.instance, sizeof r.instance);
        text_of(st, 3, r.reason, sizeof r.reason);
        e = fn(ctx, &r);
    }
    if (!e && rc != SQLITE_DONE)
        e = SEAM_ERR_PERSO_STORE;
    sqlite3_finalize(st);
    return e;
}

seam_err seam_perso_store_records(seam_perso_store *s,
                                  seam_err (*fn)(void *ctx, const seam_perso_stored *r),
                                  void *ctx) {
    sqlite3_stmt *st = NULL;
    seam_err e = prepare(s,
                         "SELECT cin, sd, instance, package, length(sealed) FROM perso_records"
                         " ORDER BY cin, sd, instance",
                         &st);
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        seam_perso_stored r;
        char *cols[4] = {r.cin, r.sd, r.instance, r.package};
        size_t caps[4] = {sizeof r.cin, sizeof r.sd, sizeof r.instance, sizeof r.package};
        memset(&r, 0, sizeof r);
        for (int c = 0; c < 4; c++)
            hex_of(sqlite3_column_blob(st, c), (size_t)sqlite3_column_bytes(st, c), cols[c],
                   caps[c]);
        r.sealed_len = (size_t)sqlite3_column_int64(st, 4);
        e = fn(ctx, &r);
    }
    if (!e && rc != SQLITE_DONE)
        e = SEAM_ERR_PERSO_STORE;
    sqlite3_finalize(st);
    return e;
}
