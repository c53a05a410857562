/*
 * AES block and CBC operations, the key check value, and ISO/IEC 9797-1
 * padding method 2, over OpenSSL's EVP cipher interface.
 */
#include "crypto_int.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

/* Largest piece handed to one EVP_CipherUpdate: fits an int, whole blocks. */
#define CHUNK ((size_t)1 << 30)

static const EVP_CIPHER *aes_cipher(size_t key_len, bool cbc) {
    switch (key_len) {
    case 16:
        return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
    case 24:
        return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
    case 32:
        return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
    default:
        return NULL;
    }
}

/* Runs one AES operation without padding over len bytes (a multiple of 16).
 * The caller has checked key_len and len. */
static seam_err aes_run(const uint8_t *key, size_t key_len, bool cbc, const uint8_t *iv, int enc,
                        const uint8_t *in, size_t len, uint8_t *out) {
    seam_err err = SEAM_ERR_CRYPTO;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;

    if (ctx == NULL) {
        err = SEAM_ERR_NOMEM;
        goto out;
    }
    if (EVP_CipherInit_ex2(ctx, aes_cipher(key_len, cbc), key, iv, enc, NULL) != 1)
        goto out;
    if (EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        goto out;
    for (size_t done = 0; done < len; done += (size_t)outl) {
        size_t piece = len - done < CHUNK ? len - done : CHUNK;
        if (EVP_CipherUpdate(ctx, out + done, &outl, in + done, (int)piece) != 1)
            goto out;
        if ((size_t)outl != piece)
            goto out;
    }
    if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1 || outl != 0)
        goto out;
    err = SEAM_OK;
out:
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return err;
}

static seam_err ecb_block(const uint8_t *key, size_t key_len, int enc, const uint8_t in[16],
                          uint8_t out[16]) {
    assert(key != NULL && in != NULL && out != NULL);
    if (!seam_crypto_aes_key_len_ok(key_len))
        return SEAM_ERR_CRYPTO_KEY;
    return aes_run(key, key_len, false, NULL, enc, in, SEAM_CRYPTO_AES_BLOCK_SIZE, out);
}

static seam_err cbc(const uint8_t *key, size_t key_len, int enc, const uint8_t iv[16],
                    const uint8_t *in, size_t len, uint8_t *out) {
    assert(key != NULL && iv != NULL && (len == 0 || (in != NULL && out != NULL)));
    if (!seam_crypto_aes_key_len_ok(key_len))
        return SEAM_ERR_CRYPTO_KEY;
    if (len % SEAM_CRYPTO_AES_BLOCK_SIZE != 0)
        return SEAM_ERR_ARG;
    if (len == 0)
        return SEAM_OK;
    return aes_run(key, key_len, true, iv, enc, in, len, out);
}

seam_err seam_crypto_aes_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[16],
                                     uint8_t out[16]) {
    return ecb_block(key, key_len, 1, in, out);
}

seam_err seam_crypto_aes_ecb_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[16],
                                     uint8_t out[16]) {
    return ecb_block(key, key_len, 0, in, out);
}

seam_err seam_crypto_aes_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                                     const uint8_t *in, size_t len, uint8_t *out) {
    return cbc(key, key_len, 1, iv, in, len, out);
}

seam_err seam_crypto_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                                     const uint8_t *in, size_t len, uint8_t *out) {
    return cbc(key, key_len, 0, iv, in, len, out);
}

seam_err seam_crypto_aes_kcv(const uint8_t *key, size_t key_len, uint8_t kcv[3]) {
    uint8_t block[SEAM_CRYPTO_AES_BLOCK_SIZE];
    seam_err err;

    assert(kcv != NULL);
    memset(block, 0x01, sizeof block);
    err = seam_crypto_aes_ecb_encrypt(key, key_len, block, block);
    if (err == SEAM_OK)
        memcpy(kcv, block, SEAM_CRYPTO_KCV_SIZE);
    seam_secure_zero(block, sizeof block);
    return err;
}

size_t seam_crypto_iso9797_padded_len(size_t len) {
    return len - len % SEAM_CRYPTO_AES_BLOCK_SIZE + SEAM_CRYPTO_AES_BLOCK_SIZE;
}

seam_err seam_crypto_iso9797_pad(uint8_t *buf, size_t len, size_t cap, size_t *padded_len) {
    size_t need;

    assert(buf != NULL && padded_len != NULL);
    if (len > SIZE_MAX - SEAM_CRYPTO_AES_BLOCK_SIZE)
        return SEAM_ERR_ARG;
    need = seam_crypto_iso9797_padded_len(len);
    *padded_len = need;
    if (cap < need)
        return SEAM_ERR_BUFFER_SMALL;
    buf[len] = 0x80;
    memset(buf + len + 1, 0, need - len - 1);
    return SEAM_OK;
}

/* 1 if x (0..255) is zero, else 0, without a branch. */
static unsigned byte_is_zero(unsigned x) {
    return ((x - 1u) >> 8) & 1u;
}

seam_err seam_crypto_iso9797_unpad(const uint8_t *buf, size_t len, size_t *data_len) {
    const uint8_t *last;
    unsigned found = 0, bad = 0;
    size_t marker = 0;

    assert(data_len != NULL && (len == 0 || buf != NULL));
    if (len == 0 || len % SEAM_CRYPTO_AES_BLOCK_SIZE != 0)
        return SEAM_ERR_CRYPTO_PADDING;
    last = buf + len - SEAM_CRYPTO_AES_BLOCK_SIZE;
    /* From the end: 00 bytes, then the 80 marker; anything else before the
     * marker is found is bad. Every byte of the block is examined. */
    for (size_t i = SEAM_CRYPTO_AES_BLOCK_SIZE; i-- > 0;) {
        unsigned b = last[i];
        unsigned is_marker = byte_is_zero(b ^ 0x80u) & (found ^ 1u);
        size_t mask = (size_t)0 - (size_t)is_marker;

        bad |= (found ^ 1u) & (is_marker ^ 1u) & (byte_is_zero(b) ^ 1u);
        marker = (marker & ~mask) | (i & mask);
        found |= is_marker;
    }
    bad |= found ^ 1u;
    if (bad)
        return SEAM_ERR_CRYPTO_PADDING;
    *data_len = len - SEAM_CRYPTO_AES_BLOCK_SIZE + marker;
    return SEAM_OK;
}
