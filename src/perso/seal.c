/*
 * Sealing personalization data for one terminal (P6): ECDH on P-256 between a fresh
 * ephemeral key and the terminal's key, a key derived from the shared secret with
 * HMAC-SHA256 (extract then expand, bound to both public keys), AES-256-GCM with a
 * fresh nonce and the caller's AAD.
 *
 *   sealed = ephemeral public key (65) || nonce (12) || ciphertext || tag (16)
 *   PRK    = HMAC-SHA256(key "seam.perso.seal.v1", shared secret)
 *   K      = HMAC-SHA256(PRK, ephemeral public key || terminal public key || 01)
 */
#include <stdlib.h>
#include <string.h>

#include "perso_int.h"
#include "seam/crypto.h"
#include "seam/util.h"

#define PUB   SEAM_CRYPTO_P256_PUBLIC_SIZE
#define NONCE SEAM_CRYPTO_GCM_NONCE_SIZE
#define TAG   SEAM_CRYPTO_GCM_TAG_SIZE

static const char seal_label[] = "seam.perso.seal.v1";

static seam_err seal_key(const uint8_t secret[32], const uint8_t eph[PUB], const uint8_t pub[PUB],
                         uint8_t key[32]) {
    uint8_t prk[32], info[2 * PUB + 1];
    seam_err e = seam_crypto_hmac_sha256((const uint8_t *)seal_label, sizeof seal_label - 1, secret,
                                         32, prk);
    memcpy(info, eph, PUB);
    memcpy(info + PUB, pub, PUB);
    info[2 * PUB] = 0x01;
    if (!e)
        e = seam_crypto_hmac_sha256(prk, sizeof prk, info, sizeof info, key);
    seam_secure_zero(prk, sizeof prk);
    return e;
}

seam_err seam_perso_terminal_key_new(uint8_t priv[32], uint8_t pub[65]) {
    return seam_crypto_p256_generate(priv, pub);
}

seam_err seam_perso_seal(const uint8_t pub[65], const uint8_t *aad, size_t aad_len,
                         const uint8_t *plain, size_t len, uint8_t *out, size_t cap,
                         size_t *out_len) {
    uint8_t eph_priv[32], eph_pub[PUB], secret[32], key[32], nonce[NONCE];
    seam_crypto_aes_gcm *gcm = NULL;
    seam_err e;
    if (seam_crypto_p256_check_public(pub, PUB) != SEAM_OK)
        return SEAM_ERR_ARG;
    *out_len = len + SEAM_PERSO_SEAL_OVERHEAD;
    if (len > SIZE_MAX - SEAM_PERSO_SEAL_OVERHEAD || cap < len + SEAM_PERSO_SEAL_OVERHEAD)
        return SEAM_ERR_BUFFER_SMALL;
    e = seam_crypto_p256_generate(eph_priv, eph_pub);
    if (!e)
        e = seam_crypto_p256_ecdh(eph_priv, sizeof eph_priv, pub, PUB, secret);
    if (!e)
        e = seal_key(secret, eph_pub, pub, key);
    if (!e)
        e = seam_crypto_random_fresh(nonce, sizeof nonce);
    if (!e)
        e = seam_crypto_aes_gcm_new(key, sizeof key, &gcm);
    if (!e) {
        memmove(out + PUB + NONCE, plain, len);
        e = seam_crypto_aes_gcm_seal(gcm, nonce, aad, aad_len, out + PUB + NONCE, len,
                                     out + PUB + NONCE, out + PUB + NONCE + len);
    }
    if (!e) {
        memcpy(out, eph_pub, PUB);
        memcpy(out + PUB, nonce, NONCE);
    } else if (cap) {
        seam_secure_zero(out, cap < *out_len ? cap : *out_len);
    }
    seam_crypto_aes_gcm_free(gcm);
    seam_secure_zero(eph_priv, sizeof eph_priv);
    seam_secure_zero(secret, sizeof secret);
    seam_secure_zero(key, sizeof key);
    return e;
}

seam_err perso_gcm_open(const uint8_t key[32], const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *ct, size_t n, const uint8_t *tag,
                        uint8_t *out) {
    seam_crypto_aes_gcm *gcm = NULL;
    uint8_t *plain = malloc(n ? n : 1);
    seam_err e = plain ? seam_crypto_aes_gcm_new(key, 32, &gcm) : SEAM_ERR_NOMEM;
    if (!e && seam_crypto_aes_gcm_open(gcm, nonce, aad, aad_len, ct, n, tag, plain) != SEAM_OK)
        e = SEAM_ERR_PERSO_SEAL;
    if (!e && out && n)
        memcpy(out, plain, n);
    if (plain) {
        seam_secure_zero(plain, n);
        free(plain);
    }
    seam_crypto_aes_gcm_free(gcm);
    return e;
}

seam_err seam_perso_open(const uint8_t priv[32], const uint8_t *aad, size_t aad_len,
                         const uint8_t *sealed, size_t len, uint8_t *out, size_t cap,
                         size_t *out_len) {
    uint8_t pub[PUB], secret[32], key[32];
    seam_err e;
    if (len < SEAM_PERSO_SEAL_OVERHEAD)
        return SEAM_ERR_TRUNCATED;
    size_t n = len - SEAM_PERSO_SEAL_OVERHEAD;
    *out_len = n;
    if (cap < n)
        return SEAM_ERR_BUFFER_SMALL;
    if (seam_crypto_p256_public_key(priv, 32, pub) != SEAM_OK)
        return SEAM_ERR_PERSO_SEAL; /* not a terminal key */
    if (seam_crypto_p256_ecdh(priv, 32, sealed, PUB, secret) != SEAM_OK)
        return SEAM_ERR_PERSO_SEAL; /* the ephemeral key is not a point */
    e = seal_key(secret, sealed, pub, key);
    if (!e)
        e = perso_gcm_open(key, sealed + PUB, aad, aad_len, sealed + PUB + NONCE, n,
                           sealed + PUB + NONCE + n, out);
    seam_secure_zero(secret, sizeof secret);
    seam_secure_zero(key, sizeof key);
    return e;
}
