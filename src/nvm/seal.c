/*
 * seam nvm: sealed values. In a sealed image (format 2) every value in
 * seam_record is stored as
 *
 *     nonce (12, random) || AES-256-GCM ciphertext || tag (16)
 *
 * under the handle's storage key, with the record's place as associated data:
 *
 *     01 || table (2 bytes, big-endian) || key
 *
 * so a value copied or moved to another table or key does not open. Keys stay
 * in clear: the record order, prefix walks and range deletes work on them.
 * The meta table's 'keycheck' holds nonce || tag of an empty message with the
 * associated data 00 || "seam card image key check": opening an image with
 * another key fails there, before any record is read (SEAM_ERR_NVM_KEY). The
 * leading 00 / 01 keeps the two kinds of associated data apart.
 *
 * Nonces are drawn from OpenSSL's DRBG for every put (seam_crypto_random_fresh,
 * never a test stream): with 96-bit random nonces a key is good for about 2^32
 * puts (NIST SP 800-38D), far beyond a card's life.
 *
 * This file holds the only code that seals or opens a value; record.c calls it
 * for every value it writes or returns, and on an unsealed image each function
 * passes the value through.
 */
#include <stdlib.h>
#include <string.h>

#include "nvm_int.h"
#include "seam/util.h"

#define NONCE_SIZE SEAM_CRYPTO_GCM_NONCE_SIZE
#define TAG_SIZE   SEAM_CRYPTO_GCM_TAG_SIZE

static const char key_check_label[] = "seam card image key check";

/* Associated data of a record: 01 || table || key. Returns its length. */
static size_t record_aad(uint8_t aad[3 + SEAM_NVM_KEY_MAX], uint16_t table, const uint8_t *key,
                         size_t key_len) {
    aad[0] = 0x01;
    aad[1] = (uint8_t)(table >> 8);
    aad[2] = (uint8_t)table;
    if (key_len > 0)
        memcpy(aad + 3, key, key_len);
    return 3 + key_len;
}

/* Associated data of the key check: 00 || label. Returns its length. */
static size_t key_check_aad(uint8_t aad[sizeof key_check_label]) {
    aad[0] = 0x00;
    memcpy(aad + 1, key_check_label, sizeof key_check_label - 1);
    return sizeof key_check_label;
}

seam_err nvm_seal_start(seam_nvm *nvm, const uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE]) {
    seam_err err = seam_crypto_aes_gcm_new(key, SEAM_NVM_STORAGE_KEY_SIZE, &nvm->seal);
    return err == SEAM_OK || err == SEAM_ERR_NOMEM ? err : SEAM_ERR_NVM;
}

void nvm_seal_stop(seam_nvm *nvm) {
    seam_crypto_aes_gcm_free(nvm->seal);
    nvm->seal = NULL;
    if (nvm->scratch)
        seam_secure_zero(nvm->scratch, nvm->scratch_size);
    free(nvm->scratch);
    nvm->scratch = NULL;
    nvm->scratch_size = 0;
}

seam_err nvm_scratch_reserve(seam_nvm *nvm, size_t size) {
    if (size == 0)
        size = 1; /* never hand out NULL */
    if (size <= nvm->scratch_size)
        return SEAM_OK;
    /* Grow by a fresh buffer, wiping the old one: it may have held an opened value. */
    uint8_t *bigger = malloc(size);
    if (!bigger)
        return SEAM_ERR_NOMEM;
    if (nvm->scratch)
        seam_secure_zero(nvm->scratch, nvm->scratch_size);
    free(nvm->scratch);
    nvm->scratch = bigger;
    nvm->scratch_size = size;
    return SEAM_OK;
}

size_t nvm_stored_len(const seam_nvm *nvm, size_t value_len) {
    return nvm->seal ? value_len + SEAM_NVM_SEAL_OVERHEAD : value_len;
}

bool nvm_plain_len(const seam_nvm *nvm, size_t stored_len, size_t *plain_len) {
    if (!nvm->seal) {
        *plain_len = stored_len;
        return stored_len <= SEAM_NVM_VALUE_MAX;
    }
    if (stored_len < SEAM_NVM_SEAL_OVERHEAD ||
        stored_len - SEAM_NVM_SEAL_OVERHEAD > SEAM_NVM_VALUE_MAX)
        return false;
    *plain_len = stored_len - SEAM_NVM_SEAL_OVERHEAD;
    return true;
}

seam_err nvm_seal_value(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                        const uint8_t *value, size_t value_len, const uint8_t **stored) {
    uint8_t aad[3 + SEAM_NVM_KEY_MAX];
    seam_err err = SEAM_OK;
    *stored = value;
    if (!nvm->seal)
        goto done;
    err = nvm_scratch_reserve(nvm, value_len + SEAM_NVM_SEAL_OVERHEAD);
    if (err != SEAM_OK)
        goto done;
    uint8_t *nonce = nvm->scratch, *cipher = nonce + NONCE_SIZE, *tag = cipher + value_len;
    size_t aad_len = record_aad(aad, table, key, key_len);
    err = seam_crypto_random_fresh(nonce, NONCE_SIZE);
    if (err == SEAM_OK)
        err =
            seam_crypto_aes_gcm_seal(nvm->seal, nonce, aad, aad_len, value, value_len, cipher, tag);
    if (err != SEAM_OK) {
        err = SEAM_ERR_NVM;
        goto done;
    }
    *stored = nvm->scratch;
done:
    return err;
}

seam_err nvm_open_value(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                        const uint8_t *stored, size_t stored_len, uint8_t *out) {
    uint8_t aad[3 + SEAM_NVM_KEY_MAX];
    size_t plain_len = 0;
    if (!nvm_plain_len(nvm, stored_len, &plain_len)) {
        nvm_mark_corrupt(nvm);
        return SEAM_ERR_NVM_CORRUPT;
    }
    if (!nvm->seal) {
        if (plain_len > 0)
            memcpy(out, stored, plain_len);
        return SEAM_OK;
    }
    size_t aad_len = record_aad(aad, table, key, key_len);
    const uint8_t *nonce = stored, *cipher = stored + NONCE_SIZE, *tag = cipher + plain_len;
    if (seam_crypto_aes_gcm_open(nvm->seal, nonce, aad, aad_len, cipher, plain_len, tag, out) !=
        SEAM_OK) {
        nvm_mark_corrupt(nvm); /* moved, altered, or written under another key */
        return SEAM_ERR_NVM_CORRUPT;
    }
    return SEAM_OK;
}

seam_err nvm_key_check_make(seam_nvm *nvm, uint8_t check[NVM_KEY_CHECK_SIZE]) {
    uint8_t aad[sizeof key_check_label];
    size_t aad_len = key_check_aad(aad);
    seam_err err = seam_crypto_random_fresh(check, NONCE_SIZE);
    if (err == SEAM_OK)
        err = seam_crypto_aes_gcm_seal(nvm->seal, check, aad, aad_len, NULL, 0, NULL,
                                       check + NONCE_SIZE);
    return err == SEAM_OK ? SEAM_OK : SEAM_ERR_NVM;
}

seam_err nvm_key_check_verify(seam_nvm *nvm) {
    uint8_t aad[sizeof key_check_label];
    seam_err err = SEAM_ERR_NVM_CORRUPT;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(nvm->db, "SELECT value FROM seam_meta WHERE name = 'keycheck'", -1,
                                &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_BLOB &&
        sqlite3_column_bytes(stmt, 0) == NVM_KEY_CHECK_SIZE) {
        const uint8_t *check = sqlite3_column_blob(stmt, 0);
        size_t aad_len = key_check_aad(aad);
        err = seam_crypto_aes_gcm_open(nvm->seal, check, aad, aad_len, NULL, 0, check + NONCE_SIZE,
                                       NULL) == SEAM_OK
                  ? SEAM_OK
                  : SEAM_ERR_NVM_KEY;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = (rc & 0xff) == SQLITE_NOMEM ? SEAM_ERR_NOMEM : SEAM_ERR_NVM_CORRUPT;
    }
    sqlite3_finalize(stmt);
    return err;
}
