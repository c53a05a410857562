/*
 * ECDSA and ECDH on NIST P-256 with raw keys: a 32-byte private scalar and
 * a 65-byte uncompressed public point. Each call rebuilds the OpenSSL key
 * objects it needs from the raw bytes (EVP_PKEY_fromdata) and frees them
 * before returning, so no key material outlives the call.
 */
#include "crypto_int.h"

#include <assert.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

/* A private key drawn at random is out of range with probability < 2^-32;
 * this many draws failing in a row means the random source is broken. */
#define GENERATE_TRIES 64

/* The largest DER encoding of an ECDSA P-256 signature is 72 bytes. */
#define DER_SIG_MAX 80

/* What each operation needs from libcrypto: the group and a BN_CTX. */
typedef struct {
    EC_GROUP *group;
    BN_CTX *bn;
} curve;

static seam_err curve_open(curve *c) {
    c->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    c->bn = BN_CTX_secure_new();
    return c->group != NULL && c->bn != NULL ? SEAM_OK : SEAM_ERR_CRYPTO;
}

static void curve_close(curve *c) {
    EC_GROUP_free(c->group);
    BN_CTX_free(c->bn);
}

/* Decodes a private key into a constant-time BIGNUM in secure memory and
 * checks 1 <= d < n. Errors: KEY, CRYPTO. The caller frees *out with
 * BN_clear_free. */
static seam_err private_scalar(const curve *c, const uint8_t *priv, size_t priv_len, BIGNUM **out) {
    seam_err err = SEAM_ERR_CRYPTO;
    BIGNUM *d = NULL;

    if (priv == NULL || priv_len != SEAM_CRYPTO_P256_PRIVATE_SIZE) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    d = BN_secure_new();
    if (d == NULL || BN_bin2bn(priv, (int)priv_len, d) == NULL)
        goto out;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(c->group)) >= 0) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    *out = d;
    d = NULL;
    err = SEAM_OK;
out:
    BN_clear_free(d);
    return err;
}

/* Writes the uncompressed encoding of d x G. */
static seam_err public_point(const curve *c, const BIGNUM *d, uint8_t pub[65]) {
    seam_err err = SEAM_ERR_CRYPTO;
    EC_POINT *point = EC_POINT_new(c->group);

    if (point == NULL || EC_POINT_mul(c->group, point, d, NULL, NULL, c->bn) != 1)
        goto out;
    if (EC_POINT_point2oct(c->group, point, POINT_CONVERSION_UNCOMPRESSED, pub,
                           SEAM_CRYPTO_P256_PUBLIC_SIZE, c->bn) != SEAM_CRYPTO_P256_PUBLIC_SIZE)
        goto out;
    err = SEAM_OK;
out:
    EC_POINT_clear_free(point);
    return err;
}

/* Checks that pub is 04 || X || Y with (X, Y) on the curve. Errors: KEY. */
static seam_err public_valid(const curve *c, const uint8_t *pub, size_t pub_len) {
    seam_err err = SEAM_ERR_CRYPTO_KEY;
    EC_POINT *point = NULL;

    if (pub == NULL || pub_len != SEAM_CRYPTO_P256_PUBLIC_SIZE || pub[0] != 0x04)
        goto out;
    point = EC_POINT_new(c->group);
    if (point == NULL) {
        err = SEAM_ERR_CRYPTO;
        goto out;
    }
    /* oct2point refuses coordinates >= p and points off the curve. */
    if (EC_POINT_oct2point(c->group, point, pub, pub_len, c->bn) != 1)
        goto out;
    if (EC_POINT_is_on_curve(c->group, point, c->bn) != 1)
        goto out;
    err = SEAM_OK;
out:
    EC_POINT_free(point);
    return err;
}

/* Builds an EVP_PKEY from a public point already validated and, when d is
 * not NULL, its private scalar. */
static seam_err make_pkey(const BIGNUM *d, const uint8_t pub[65], EVP_PKEY **out) {
    seam_err err = SEAM_ERR_CRYPTO;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if (bld == NULL)
        goto out;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                         SEAM_CRYPTO_P256_PUBLIC_SIZE) != 1)
        goto out;
    /* d lives in secure memory, so the builder copies it there and
     * OSSL_PARAM_free clears that copy. */
    if (d != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1)
        goto out;
    if (EVP_PKEY_fromdata(ctx, out, d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
        1)
        goto out;
    err = SEAM_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return err;
}

/* Decodes priv and builds its key pair, for signing and key agreement. */
static seam_err private_pkey(const curve *c, const uint8_t *priv, size_t priv_len, EVP_PKEY **out) {
    BIGNUM *d = NULL;
    uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    seam_err err = private_scalar(c, priv, priv_len, &d);

    if (err == SEAM_OK)
        err = public_point(c, d, pub);
    if (err == SEAM_OK)
        err = make_pkey(d, pub, out);
    BN_clear_free(d);
    return err;
}

seam_err seam_crypto_p256_public_key(const uint8_t *priv, size_t priv_len, uint8_t pub[65]) {
    curve c;
    BIGNUM *d = NULL;
    uint8_t point[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    seam_err err = curve_open(&c);

    assert(pub != NULL);
    if (err == SEAM_OK)
        err = private_scalar(&c, priv, priv_len, &d);
    if (err == SEAM_OK)
        err = public_point(&c, d, point);
    if (err == SEAM_OK)
        memcpy(pub, point, sizeof point);
    BN_clear_free(d);
    curve_close(&c);
    return err;
}

seam_err seam_crypto_p256_generate(uint8_t priv[32], uint8_t pub[65]) {
    curve c;
    BIGNUM *d = NULL;
    uint8_t raw[SEAM_CRYPTO_P256_PRIVATE_SIZE];
    uint8_t point[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    seam_err err = curve_open(&c);

    assert(priv != NULL && pub != NULL);
    /* Rejection sampling (FIPS 186-5 A.2.2): draw until 1 <= d < n. */
    for (int tries = 0; err == SEAM_OK && d == NULL; tries++) {
        if (tries == GENERATE_TRIES) {
            err = SEAM_ERR_CRYPTO;
            break;
        }
        err = seam_crypto_random(raw, sizeof raw);
        if (err == SEAM_OK)
            err = private_scalar(&c, raw, sizeof raw, &d);
        if (err == SEAM_ERR_CRYPTO_KEY)
            err = SEAM_OK;
    }
    if (err == SEAM_OK)
        err = public_point(&c, d, point);
    if (err == SEAM_OK) {
        memcpy(priv, raw, sizeof raw);
        memcpy(pub, point, sizeof point);
    }
    seam_secure_zero(raw, sizeof raw);
    BN_clear_free(d);
    curve_close(&c);
    return err;
}

seam_err seam_crypto_p256_check_public(const uint8_t *pub, size_t pub_len) {
    curve c;
    seam_err err = curve_open(&c);

    if (err == SEAM_OK)
        err = public_valid(&c, pub, pub_len);
    curve_close(&c);
    return err;
}

seam_err seam_crypto_p256_sign(const uint8_t *priv, size_t priv_len, const uint8_t digest[32],
                               uint8_t sig[64]) {
    curve c;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *parsed = NULL;
    const BIGNUM *r = NULL, *s = NULL;
    uint8_t der[DER_SIG_MAX], raw[SEAM_CRYPTO_P256_SIGNATURE_SIZE];
    const uint8_t *cursor = der;
    size_t der_len = sizeof der;
    seam_err err = curve_open(&c);

    assert(digest != NULL && sig != NULL);
    if (err == SEAM_OK)
        err = private_pkey(&c, priv, priv_len, &key);
    if (err != SEAM_OK)
        goto out;
    err = SEAM_ERR_CRYPTO;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
        goto out;
    if (EVP_PKEY_sign(ctx, der, &der_len, digest, SEAM_CRYPTO_SHA256_SIZE) != 1)
        goto out;
    parsed = d2i_ECDSA_SIG(NULL, &cursor, (long)der_len);
    if (parsed == NULL)
        goto out;
    ECDSA_SIG_get0(parsed, &r, &s);
    if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
        goto out;
    memcpy(sig, raw, sizeof raw);
    err = SEAM_OK;
out:
    ECDSA_SIG_free(parsed);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    curve_close(&c);
    return err;
}

seam_err seam_crypto_p256_verify(const uint8_t *pub, size_t pub_len, const uint8_t digest[32],
                                 const uint8_t *sig, size_t sig_len) {
    curve c;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *parsed = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int der_len;
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    if (curve_open(&c) != SEAM_OK || digest == NULL || sig == NULL ||
        sig_len != SEAM_CRYPTO_P256_SIGNATURE_SIZE)
        goto out;
    if (public_valid(&c, pub, pub_len) != SEAM_OK || make_pkey(NULL, pub, &key) != SEAM_OK)
        goto out;
    parsed = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (parsed == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(parsed, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by parsed now */
    der_len = i2d_ECDSA_SIG(parsed, &der);
    if (der_len <= 0)
        goto out;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
        goto out;
    if (EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, SEAM_CRYPTO_SHA256_SIZE) == 1)
        err = SEAM_OK;
out:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(parsed);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    curve_close(&c);
    return err;
}

seam_err seam_crypto_p256_ecdh(const uint8_t *priv, size_t priv_len, const uint8_t *peer_pub,
                               size_t peer_pub_len, uint8_t secret[32]) {
    curve c;
    EVP_PKEY *key = NULL, *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t raw[SEAM_CRYPTO_P256_SECRET_SIZE];
    size_t raw_len = sizeof raw;
    seam_err err = curve_open(&c);

    assert(secret != NULL);
    if (err == SEAM_OK)
        err = private_pkey(&c, priv, priv_len, &key);
    if (err == SEAM_OK)
        err = public_valid(&c, peer_pub, peer_pub_len);
    if (err == SEAM_OK)
        err = make_pkey(NULL, peer_pub, &peer);
    if (err != SEAM_OK)
        goto out;
    err = SEAM_ERR_CRYPTO;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1)
        goto out;
    if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1)
        goto out;
    if (EVP_PKEY_derive(ctx, raw, &raw_len) != 1 || raw_len != sizeof raw)
        goto out;
    memcpy(secret, raw, sizeof raw);
    err = SEAM_OK;
out:
    seam_secure_zero(raw, sizeof raw);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    curve_close(&c);
    return err;
}
