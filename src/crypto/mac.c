/*
 * AES-CMAC, SHA-1/SHA-2 digests and HMAC-SHA256 over OpenSSL's EVP_MAC and
 * EVP_Digest interfaces.
 */
#include "crypto_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct seam_crypto_cmac_ctx {
    EVP_MAC_CTX *mac;
};

/* Stands in for a NULL data pointer of length 0: OpenSSL wants a buffer. */
static const uint8_t empty[1];

/* Creates an EVP_MAC_CTX of the named algorithm with one string parameter
 * (the CMAC cipher or the HMAC digest) and starts it with key. */
static seam_err mac_start(const char *algorithm, const char *param, const char *value,
                          const uint8_t *key, size_t key_len, EVP_MAC_CTX **out) {
    seam_err err = SEAM_ERR_CRYPTO;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, algorithm, NULL);
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(param, (char *)value, 0),
        OSSL_PARAM_construct_end(),
    };

    if (mac == NULL)
        goto out;
    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        err = SEAM_ERR_NOMEM;
        goto out;
    }
    /* A NULL key would mean "keep the previous key"; pass a real pointer. */
    if (EVP_MAC_init(ctx, key_len > 0 ? key : empty, key_len, params) != 1)
        goto out;
    *out = ctx;
    ctx = NULL;
    err = SEAM_OK;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return err;
}

static const char *cmac_cipher(size_t key_len) {
    switch (key_len) {
    case 16:
        return "AES-128-CBC";
    case 24:
        return "AES-192-CBC";
    default:
        return "AES-256-CBC";
    }
}

seam_err seam_crypto_cmac_new(const uint8_t *key, size_t key_len, seam_crypto_cmac_ctx **out) {
    seam_err err = SEAM_OK;
    seam_crypto_cmac_ctx *ctx = NULL;

    assert(key != NULL && out != NULL);
    if (!seam_crypto_aes_key_len_ok(key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        err = SEAM_ERR_NOMEM;
        goto out;
    }
    err = mac_start("CMAC", OSSL_MAC_PARAM_CIPHER, cmac_cipher(key_len), key, key_len, &ctx->mac);
    if (err != SEAM_OK)
        goto out;
    *out = ctx;
    ctx = NULL;
out:
    seam_crypto_cmac_free(ctx);
    return err;
}

seam_err seam_crypto_cmac_update(seam_crypto_cmac_ctx *ctx, const uint8_t *data, size_t len) {
    assert(ctx != NULL && (len == 0 || data != NULL));
    if (len == 0)
        return SEAM_OK;
    return EVP_MAC_update(ctx->mac, data, len) == 1 ? SEAM_OK : SEAM_ERR_CRYPTO;
}

seam_err seam_crypto_cmac_final(seam_crypto_cmac_ctx *ctx, uint8_t mac[16]) {
    seam_err err = SEAM_ERR_CRYPTO;
    uint8_t full[SEAM_CRYPTO_CMAC_SIZE];
    size_t n = 0;

    assert(ctx != NULL && mac != NULL);
    if (EVP_MAC_final(ctx->mac, full, &n, sizeof full) != 1 || n != sizeof full)
        goto out;
    /* With no key, init restarts the computation under the current key. */
    if (EVP_MAC_init(ctx->mac, NULL, 0, NULL) != 1)
        goto out;
    memcpy(mac, full, sizeof full);
    err = SEAM_OK;
out:
    seam_secure_zero(full, sizeof full);
    return err;
}

void seam_crypto_cmac_free(seam_crypto_cmac_ctx *ctx) {
    if (ctx == NULL)
        return;
    EVP_MAC_CTX_free(ctx->mac); /* cleanses the key schedule */
    free(ctx);
}

seam_err seam_crypto_cmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                          uint8_t mac[16]) {
    seam_crypto_cmac_ctx *ctx = NULL;
    seam_err err = seam_crypto_cmac_new(key, key_len, &ctx);

    if (err == SEAM_OK)
        err = seam_crypto_cmac_update(ctx, data, len);
    if (err == SEAM_OK)
        err = seam_crypto_cmac_final(ctx, mac);
    seam_crypto_cmac_free(ctx);
    return err;
}

static seam_err digest(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out) {
    assert(out != NULL && (len == 0 || data != NULL));
    return EVP_Digest(len > 0 ? data : empty, len, out, NULL, md, NULL) == 1 ? SEAM_OK
                                                                             : SEAM_ERR_CRYPTO;
}

seam_err seam_crypto_sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
    return digest(EVP_sha1(), data, len, out);
}

seam_err seam_crypto_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    return digest(EVP_sha256(), data, len, out);
}

seam_err seam_crypto_sha384(const uint8_t *data, size_t len, uint8_t out[48]) {
    return digest(EVP_sha384(), data, len, out);
}

seam_err seam_crypto_sha512(const uint8_t *data, size_t len, uint8_t out[64]) {
    return digest(EVP_sha512(), data, len, out);
}

seam_err seam_crypto_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data,
                                 size_t len, uint8_t mac[32]) {
    seam_err err;
    EVP_MAC_CTX *ctx = NULL;
    uint8_t full[SEAM_CRYPTO_HMAC_SHA256_SIZE];
    size_t n = 0;

    assert(mac != NULL && (key_len == 0 || key != NULL) && (len == 0 || data != NULL));
    err = mac_start("HMAC", OSSL_MAC_PARAM_DIGEST, "SHA256", key, key_len, &ctx);
    if (err != SEAM_OK)
        goto out;
    err = SEAM_ERR_CRYPTO;
    if (len > 0 && EVP_MAC_update(ctx, data, len) != 1)
        goto out;
    if (EVP_MAC_final(ctx, full, &n, sizeof full) != 1 || n != sizeof full)
        goto out;
    memcpy(mac, full, sizeof full);
    err = SEAM_OK;
out:
    seam_secure_zero(full, sizeof full);
    EVP_MAC_CTX_free(ctx);
    return err;
}

seam_err seam_crypto_hmac_sha256_verify(const uint8_t *key, size_t key_len, const uint8_t *data,
                                        size_t len, const uint8_t *tag, size_t tag_len) {
    uint8_t expected[SEAM_CRYPTO_HMAC_SHA256_SIZE];
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    if (tag == NULL || tag_len != sizeof expected)
        goto out;
    if (seam_crypto_hmac_sha256(key, key_len, data, len, expected) != SEAM_OK)
        goto out;
    if (seam_ct_equal(expected, tag, sizeof expected))
        err = SEAM_OK;
out:
    seam_secure_zero(expected, sizeof expected);
    return err;
}
