/*
 * SCP03 computations (GlobalPlatform Card Specification Amendment D v1.1.1,
 * summarised in shared/spec/reference/gp_facts.md section 3): the counter
 * mode KDF, session keys, cryptograms, the pseudo-random card challenge,
 * C-MAC and R-MAC with the MAC chaining value, and command and response
 * encryption. The session state machine (security level, counter, chaining
 * value, aborts) belongs to the card layer; this file only computes.
 */
#include "crypto_int.h"

#include <assert.h>
#include <string.h>

/* Bytes of the KDF input before the context: 11 zero bytes, the constant,
 * a zero separator, L (2 bytes) and the counter i. */
#define KDF_PREFIX_SIZE 16

/* AIDs are 5 to 16 bytes (ISO/IEC 7816-4). */
#define AID_MIN 5
#define AID_MAX 16

static bool challenge_len_ok(size_t len) {
    return len == SEAM_CRYPTO_SCP03_S8 || len == SEAM_CRYPTO_SCP03_S16;
}

seam_err seam_crypto_scp03_kdf(const uint8_t *key, size_t key_len, uint8_t constant,
                               const uint8_t *context, size_t context_len, uint8_t *out,
                               size_t out_len) {
    seam_err err = SEAM_OK;
    seam_crypto_cmac_ctx *ctx = NULL;
    uint8_t prefix[KDF_PREFIX_SIZE] = {0};
    uint8_t blocks[2 * SEAM_CRYPTO_CMAC_SIZE];
    size_t bits = out_len * 8;

    assert(key != NULL && out != NULL && (context_len == 0 || context != NULL));
    if (!seam_crypto_aes_key_len_ok(key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    if (out_len != 8 && out_len != 16 && out_len != 24 && out_len != 32) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    err = seam_crypto_cmac_new(key, key_len, &ctx);
    prefix[11] = constant;
    prefix[13] = (uint8_t)(bits >> 8);
    prefix[14] = (uint8_t)bits;
    for (size_t i = 1; err == SEAM_OK && (i - 1) * SEAM_CRYPTO_CMAC_SIZE < out_len; i++) {
        prefix[15] = (uint8_t)i;
        err = seam_crypto_cmac_update(ctx, prefix, sizeof prefix);
        if (err == SEAM_OK)
            err = seam_crypto_cmac_update(ctx, context, context_len);
        if (err == SEAM_OK)
            err = seam_crypto_cmac_final(ctx, blocks + (i - 1) * SEAM_CRYPTO_CMAC_SIZE);
    }
    if (err == SEAM_OK)
        memcpy(out, blocks, out_len);
out:
    seam_secure_zero(blocks, sizeof blocks);
    seam_crypto_cmac_free(ctx);
    return err;
}

seam_err seam_crypto_scp03_card_challenge(const uint8_t *key_enc, size_t key_len,
                                          const uint8_t seq[3], const uint8_t *aid, size_t aid_len,
                                          uint8_t *challenge, size_t challenge_len) {
    uint8_t context[SEAM_CRYPTO_SCP03_SEQ_SIZE + AID_MAX];

    assert(seq != NULL && aid != NULL && challenge != NULL);
    if (!seam_crypto_aes_key_len_ok(key_len))
        return SEAM_ERR_CRYPTO_KEY;
    if (aid_len < AID_MIN || aid_len > AID_MAX || !challenge_len_ok(challenge_len))
        return SEAM_ERR_ARG;
    memcpy(context, seq, SEAM_CRYPTO_SCP03_SEQ_SIZE);
    memcpy(context + SEAM_CRYPTO_SCP03_SEQ_SIZE, aid, aid_len);
    return seam_crypto_scp03_kdf(key_enc, key_len, SEAM_CRYPTO_SCP03_DERIVE_CARD_CHALLENGE, context,
                                 SEAM_CRYPTO_SCP03_SEQ_SIZE + aid_len, challenge, challenge_len);
}

seam_err seam_crypto_scp03_derive_session(seam_crypto_scp03_session *session,
                                          const uint8_t *key_enc, const uint8_t *key_mac,
                                          size_t key_len, const uint8_t *host_challenge,
                                          const uint8_t *card_challenge, size_t challenge_len) {
    seam_err err = SEAM_OK;
    seam_crypto_scp03_session next = {0};
    uint8_t context[2 * SEAM_CRYPTO_SCP03_S16];

    assert(session != NULL && key_enc != NULL && key_mac != NULL);
    assert(host_challenge != NULL && card_challenge != NULL);
    if (!seam_crypto_aes_key_len_ok(key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    if (!challenge_len_ok(challenge_len)) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    next.key_len = key_len;
    next.challenge_len = challenge_len;
    memcpy(next.host_challenge, host_challenge, challenge_len);
    memcpy(next.card_challenge, card_challenge, challenge_len);
    memcpy(context, host_challenge, challenge_len);
    memcpy(context + challenge_len, card_challenge, challenge_len);
    err = seam_crypto_scp03_kdf(key_enc, key_len, SEAM_CRYPTO_SCP03_DERIVE_S_ENC, context,
                                2 * challenge_len, next.s_enc, key_len);
    if (err == SEAM_OK)
        err = seam_crypto_scp03_kdf(key_mac, key_len, SEAM_CRYPTO_SCP03_DERIVE_S_MAC, context,
                                    2 * challenge_len, next.s_mac, key_len);
    if (err == SEAM_OK)
        err = seam_crypto_scp03_kdf(key_mac, key_len, SEAM_CRYPTO_SCP03_DERIVE_S_RMAC, context,
                                    2 * challenge_len, next.s_rmac, key_len);
    if (err == SEAM_OK)
        *session = next;
out:
    seam_secure_zero(&next, sizeof next);
    return err;
}

/* Computes the card (constant 00) or host (01) cryptogram. */
static seam_err cryptogram(const seam_crypto_scp03_session *s, uint8_t constant, uint8_t *out) {
    uint8_t context[2 * SEAM_CRYPTO_SCP03_S16];

    assert(s != NULL && out != NULL);
    if (!challenge_len_ok(s->challenge_len))
        return SEAM_ERR_ARG;
    memcpy(context, s->host_challenge, s->challenge_len);
    memcpy(context + s->challenge_len, s->card_challenge, s->challenge_len);
    return seam_crypto_scp03_kdf(s->s_mac, s->key_len, constant, context, 2 * s->challenge_len, out,
                                 s->challenge_len);
}

/* Recomputes a cryptogram and compares it with the one received. */
static seam_err cryptogram_verify(const seam_crypto_scp03_session *s, uint8_t constant,
                                  const uint8_t *received, size_t len) {
    uint8_t expected[SEAM_CRYPTO_SCP03_S16];
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    if (s == NULL || received == NULL || len != s->challenge_len)
        goto out;
    if (cryptogram(s, constant, expected) != SEAM_OK)
        goto out;
    if (seam_ct_equal(expected, received, len))
        err = SEAM_OK;
out:
    seam_secure_zero(expected, sizeof expected);
    return err;
}

seam_err seam_crypto_scp03_card_cryptogram(const seam_crypto_scp03_session *session, uint8_t *out) {
    return cryptogram(session, SEAM_CRYPTO_SCP03_DERIVE_CARD_CRYPTOGRAM, out);
}

seam_err seam_crypto_scp03_host_cryptogram(const seam_crypto_scp03_session *session, uint8_t *out) {
    return cryptogram(session, SEAM_CRYPTO_SCP03_DERIVE_HOST_CRYPTOGRAM, out);
}

seam_err seam_crypto_scp03_verify_card_cryptogram(const seam_crypto_scp03_session *session,
                                                  const uint8_t *received, size_t len) {
    return cryptogram_verify(session, SEAM_CRYPTO_SCP03_DERIVE_CARD_CRYPTOGRAM, received, len);
}

seam_err seam_crypto_scp03_verify_host_cryptogram(const seam_crypto_scp03_session *session,
                                                  const uint8_t *received, size_t len) {
    return cryptogram_verify(session, SEAM_CRYPTO_SCP03_DERIVE_HOST_CRYPTOGRAM, received, len);
}

/* CMAC_key(chain || a || b): the message is fed in pieces, never copied. */
static seam_err chained_cmac(const uint8_t *key, size_t key_len, const uint8_t chain[16],
                             const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                             uint8_t out[16]) {
    seam_crypto_cmac_ctx *ctx = NULL;
    seam_err err = seam_crypto_cmac_new(key, key_len, &ctx);

    if (err == SEAM_OK)
        err = seam_crypto_cmac_update(ctx, chain, SEAM_CRYPTO_CMAC_SIZE);
    if (err == SEAM_OK)
        err = seam_crypto_cmac_update(ctx, a, a_len);
    if (err == SEAM_OK)
        err = seam_crypto_cmac_update(ctx, b, b_len);
    if (err == SEAM_OK)
        err = seam_crypto_cmac_final(ctx, out);
    seam_crypto_cmac_free(ctx);
    return err;
}

seam_err seam_crypto_scp03_command_mac(const seam_crypto_scp03_session *session, uint8_t chain[16],
                                       const uint8_t *header, size_t header_len,
                                       const uint8_t *data, size_t data_len, uint8_t *mac) {
    uint8_t full[SEAM_CRYPTO_CMAC_SIZE];
    seam_err err;

    assert(session != NULL && chain != NULL && mac != NULL);
    if (!challenge_len_ok(session->challenge_len))
        return SEAM_ERR_ARG;
    err = chained_cmac(session->s_mac, session->key_len, chain, header, header_len, data, data_len,
                       full);
    if (err == SEAM_OK) {
        memcpy(chain, full, sizeof full);
        memcpy(mac, full, session->challenge_len);
    }
    return err;
}

seam_err seam_crypto_scp03_verify_command_mac(const seam_crypto_scp03_session *session,
                                              uint8_t chain[16], const uint8_t *header,
                                              size_t header_len, const uint8_t *data,
                                              size_t data_len, const uint8_t *mac, size_t mac_len) {
    uint8_t next[SEAM_CRYPTO_CMAC_SIZE], expected[SEAM_CRYPTO_SCP03_S16];
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    if (session == NULL || chain == NULL || mac == NULL || mac_len != session->challenge_len)
        goto out;
    memcpy(next, chain, sizeof next);
    if (seam_crypto_scp03_command_mac(session, next, header, header_len, data, data_len,
                                      expected) != SEAM_OK)
        goto out;
    if (!seam_ct_equal(expected, mac, mac_len))
        goto out;
    memcpy(chain, next, sizeof next);
    err = SEAM_OK;
out:
    seam_secure_zero(expected, sizeof expected);
    return err;
}

seam_err seam_crypto_scp03_response_mac(const seam_crypto_scp03_session *session,
                                        const uint8_t chain[16], const uint8_t *data,
                                        size_t data_len, uint16_t sw, uint8_t *mac) {
    const uint8_t status[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    uint8_t full[SEAM_CRYPTO_CMAC_SIZE];
    seam_err err;

    assert(session != NULL && chain != NULL && mac != NULL);
    if (!challenge_len_ok(session->challenge_len))
        return SEAM_ERR_ARG;
    err = chained_cmac(session->s_rmac, session->key_len, chain, data, data_len, status,
                       sizeof status, full);
    if (err == SEAM_OK)
        memcpy(mac, full, session->challenge_len);
    return err;
}

seam_err seam_crypto_scp03_verify_response_mac(const seam_crypto_scp03_session *session,
                                               const uint8_t chain[16], const uint8_t *data,
                                               size_t data_len, uint16_t sw, const uint8_t *mac,
                                               size_t mac_len) {
    uint8_t expected[SEAM_CRYPTO_SCP03_S16];
    seam_err err = SEAM_ERR_CRYPTO_AUTH;

    if (session == NULL || chain == NULL || mac == NULL || mac_len != session->challenge_len)
        goto out;
    if (seam_crypto_scp03_response_mac(session, chain, data, data_len, sw, expected) != SEAM_OK)
        goto out;
    if (seam_ct_equal(expected, mac, mac_len))
        err = SEAM_OK;
out:
    seam_secure_zero(expected, sizeof expected);
    return err;
}

/* ICV = AES_S-ENC(counter as a 16-byte big-endian block), with the first
 * byte of the block set to 80 for responses (AmdD 6.2.6, 6.2.7). */
static seam_err icv(const seam_crypto_scp03_session *s, uint32_t counter, bool response,
                    uint8_t out[16]) {
    uint8_t block[SEAM_CRYPTO_AES_BLOCK_SIZE] = {0};

    for (int i = 0; i < 4; i++)
        block[12 + i] = (uint8_t)(counter >> (24 - 8 * i));
    if (response)
        block[0] = 0x80;
    return seam_crypto_aes_ecb_encrypt(s->s_enc, s->key_len, block, out);
}

/* Pads in[0..len) into out and encrypts it under the command or response
 * ICV. On any failure after copying, out is wiped. */
static seam_err encrypt(const seam_crypto_scp03_session *s, uint32_t counter, bool response,
                        const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t iv[SEAM_CRYPTO_AES_BLOCK_SIZE];
    size_t padded = 0;
    seam_err err = SEAM_OK;

    assert(s != NULL && out != NULL && out_len != NULL && (len == 0 || in != NULL));
    if (!seam_crypto_aes_key_len_ok(s->key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    if (len > SIZE_MAX - SEAM_CRYPTO_AES_BLOCK_SIZE) {
        err = SEAM_ERR_ARG;
        goto out;
    }
    padded = seam_crypto_iso9797_padded_len(len);
    if (cap < padded) {
        *out_len = padded;
        err = SEAM_ERR_BUFFER_SMALL;
        goto out;
    }
    err = icv(s, counter, response, iv);
    if (err != SEAM_OK)
        goto out;
    if (len > 0)
        memmove(out, in, len);
    err = seam_crypto_iso9797_pad(out, len, cap, &padded);
    if (err == SEAM_OK)
        err = seam_crypto_aes_cbc_encrypt(s->s_enc, s->key_len, iv, out, padded, out);
    if (err != SEAM_OK) {
        seam_secure_zero(out, padded);
        goto out;
    }
    *out_len = padded;
out:
    seam_secure_zero(iv, sizeof iv);
    return err;
}

/* Decrypts in[0..len) into out under the command or response ICV and
 * strips the padding. On a padding failure out is wiped. */
static seam_err decrypt(const seam_crypto_scp03_session *s, uint32_t counter, bool response,
                        const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
    uint8_t iv[SEAM_CRYPTO_AES_BLOCK_SIZE];
    size_t data_len = 0;
    seam_err err = SEAM_OK;

    assert(s != NULL && out != NULL && out_len != NULL && (len == 0 || in != NULL));
    if (!seam_crypto_aes_key_len_ok(s->key_len)) {
        err = SEAM_ERR_CRYPTO_KEY;
        goto out;
    }
    if (len == 0 || len % SEAM_CRYPTO_AES_BLOCK_SIZE != 0) {
        err = SEAM_ERR_CRYPTO_PADDING;
        goto out;
    }
    err = icv(s, counter, response, iv);
    if (err == SEAM_OK)
        err = seam_crypto_aes_cbc_decrypt(s->s_enc, s->key_len, iv, in, len, out);
    if (err == SEAM_OK)
        err = seam_crypto_iso9797_unpad(out, len, &data_len);
    if (err != SEAM_OK) {
        seam_secure_zero(out, len);
        goto out;
    }
    *out_len = data_len;
out:
    seam_secure_zero(iv, sizeof iv);
    return err;
}

seam_err seam_crypto_scp03_encrypt_command(const seam_crypto_scp03_session *session,
                                           uint32_t counter, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t cap, size_t *out_len) {
    return encrypt(session, counter, false, in, len, out, cap, out_len);
}

seam_err seam_crypto_scp03_decrypt_command(const seam_crypto_scp03_session *session,
                                           uint32_t counter, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t *out_len) {
    return decrypt(session, counter, false, in, len, out, out_len);
}

seam_err seam_crypto_scp03_encrypt_response(const seam_crypto_scp03_session *session,
                                            uint32_t counter, const uint8_t *in, size_t len,
                                            uint8_t *out, size_t cap, size_t *out_len) {
    return encrypt(session, counter, true, in, len, out, cap, out_len);
}

seam_err seam_crypto_scp03_decrypt_response(const seam_crypto_scp03_session *session,
                                            uint32_t counter, const uint8_t *in, size_t len,
                                            uint8_t *out, size_t *out_len) {
    return decrypt(session, counter, true, in, len, out, out_len);
}

void seam_crypto_scp03_session_wipe(seam_crypto_scp03_session *session) {
    seam_secure_zero(session, sizeof *session);
}
