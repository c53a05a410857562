/*
 * AES-GCM (NIST SP 800-38D) with 12-byte nonces and 16-byte tags, over
 * OpenSSL's EVP cipher interface. A context holds two EVP contexts, one per
 * direction, each given the key once; every call then only sets the nonce, so
 * the key schedule is computed at creation and never again.
 */
#include "crypto_int.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct seam_crypto_aes_gcm {
    EVP_CIPHER_CTX *seal;
    EVP_CIPHER_CTX *open;
};

/* Largest piece handed to one EVP call: it takes an int. */
#define CHUNK ((size_t)1 << 30)

static const EVP_CIPHER *gcm_cipher(size_t key_len) {
    switch (key_len) {
    case 16:
        return EVP_aes_128_gcm();
    case 24:
        return EVP_aes_192_gcm();
    default:
        return EVP_aes_256_gcm();
    }
}

seam_err seam_crypto_aes_gcm_new(const uint8_t *key, size_t key_len, seam_crypto_aes_gcm **out) {
    seam_err err = SEAM_ERR_CRYPTO;
    seam_crypto_aes_gcm *ctx = NULL;

    assert(key != NULL && out != NULL);
    if (!seam_crypto_aes_key_len_ok(key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL || (ctx->seal = EVP_CIPHER_CTX_new()) == NULL ||
        (ctx->open = EVP_CIPHER_CTX_new()) == NULL) {
        err = SEAM_ERR_NOMEM;
        goto out;
    }
    /* The nonce comes with each call; the default nonce length is 12 bytes. */
    if (EVP_EncryptInit_ex2(ctx->seal, gcm_cipher(key_len), key, NULL, NULL) != 1 ||
        EVP_DecryptInit_ex2(ctx->open, gcm_cipher(key_len), key, NULL, NULL) != 1)
        goto out;
    *out = ctx;
    ctx = NULL;
    err = SEAM_OK;
out:
    seam_crypto_aes_gcm_free(ctx);
    return err;
}

void seam_crypto_aes_gcm_free(seam_crypto_aes_gcm *ctx) {
    if (ctx == NULL)
        return;
    EVP_CIPHER_CTX_free(ctx->seal); /* cleanses the key schedule */
    EVP_CIPHER_CTX_free(ctx->open);
    free(ctx);
}

/* Feeds aad, then in -> out, through an EVP context already given its nonce. */
static bool gcm_run(EVP_CIPHER_CTX *evp, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                    size_t len, uint8_t *out) {
    int outl = 0;
    for (size_t done = 0; done < aad_len; done += (size_t)outl) {
        size_t piece = aad_len - done < CHUNK ? aad_len - done : CHUNK;
        if (EVP_CipherUpdate(evp, NULL, &outl, aad + done, (int)piece) != 1 ||
            (size_t)outl != piece)
            return false;
    }
    for (size_t done = 0; done < len; done += (size_t)outl) {
        size_t piece = len - done < CHUNK ? len - done : CHUNK;
        if (EVP_CipherUpdate(evp, out + done, &outl, in + done, (int)piece) != 1 ||
            (size_t)outl != piece)
            return false;
    }
    return true;
}

seam_err seam_crypto_aes_gcm_seal(seam_crypto_aes_gcm *ctx, const uint8_t nonce[12],
                                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                                  uint8_t *out, uint8_t tag[16]) {
    uint8_t end[SEAM_CRYPTO_AES_BLOCK_SIZE];
    int outl = 0;

    assert(ctx != NULL && nonce != NULL && tag != NULL);
    assert((aad_len == 0 || aad != NULL) && (len == 0 || (in != NULL && out != NULL)));
    if (EVP_EncryptInit_ex2(ctx->seal, NULL, NULL, nonce, NULL) != 1 ||
        !gcm_run(ctx->seal, aad, aad_len, in, len, out) ||
        EVP_EncryptFinal_ex(ctx->seal, end, &outl) != 1 || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx->seal, EVP_CTRL_AEAD_GET_TAG, SEAM_CRYPTO_GCM_TAG_SIZE, tag) != 1)
        return SEAM_ERR_CRYPTO;
    return SEAM_OK;
}

seam_err seam_crypto_aes_gcm_open(seam_crypto_aes_gcm *ctx, const uint8_t nonce[12],
                                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                                  const uint8_t tag[16], uint8_t *out) {
    uint8_t end[SEAM_CRYPTO_AES_BLOCK_SIZE], expected[SEAM_CRYPTO_GCM_TAG_SIZE];
    int outl = 0;
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    assert(ctx != NULL && nonce != NULL && tag != NULL);
    assert((aad_len == 0 || aad != NULL) && (len == 0 || (in != NULL && out != NULL)));
    memcpy(expected, tag, sizeof expected); /* OpenSSL wants a writable tag */
    if (EVP_DecryptInit_ex2(ctx->open, NULL, NULL, nonce, NULL) == 1 &&
        gcm_run(ctx->open, aad, aad_len, in, len, out) &&
        EVP_CIPHER_CTX_ctrl(ctx->open, EVP_CTRL_AEAD_SET_TAG, SEAM_CRYPTO_GCM_TAG_SIZE, expected) ==
            1 &&
        EVP_DecryptFinal_ex(ctx->open, end, &outl) == 1 && outl == 0)
        err = SEAM_OK;
    if (err != SEAM_OK && len > 0)
        seam_secure_zero(out, len); /* no unauthenticated plaintext leaves */
    return err;
}
