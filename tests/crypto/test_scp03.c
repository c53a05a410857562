/*
 * SCP03 (GlobalPlatform Amendment D v1.1.1) against published sessions.
 * Requirement X1: an SCP03 secure channel between each SD's owner and its SD.
 *
 * Vector provenance (docs/crypto.md): every session below is a recorded
 * exchange from the cmocka tests of the kaoh/globalplatform C library,
 * globalplatform/src/scp03Test.c. The first, "delete_application", is the
 * vector of shared/spec/reference/gp_facts.md section 3.9, recomputed there
 * independently. We recomputed all of them with Python "cryptography" before
 * writing them down. Each check below runs over every session that carries
 * the values it needs, and names the session when it fails.
 */
#include "crypto/hex.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "seam/crypto.h"

#include "scp03_vectors.h"

#define N_VECTORS (sizeof vectors / sizeof vectors[0])
#define MAX_APDU  300

/* A session vector decoded into bytes. */
typedef struct {
    uint8_t key_enc[32], key_mac[32];
    size_t key_len;
    uint8_t host_challenge[8];
    uint8_t init_update[32];
    uint8_t ext_auth[21];
    uint8_t level; /* EXTERNAL AUTHENTICATE P1 */
} decoded;

static void decode(const session_vector *v, decoded *d) {
    print_message("  session: %s\n", v->name);
    d->key_len = hex(v->key_enc, d->key_enc, sizeof d->key_enc);
    assert_int_equal(hex(v->key_mac, d->key_mac, sizeof d->key_mac), d->key_len);
    assert_int_equal(hex(v->host_challenge, d->host_challenge, 8), 8);
    assert_int_equal(hex(v->init_update, d->init_update, 32), 32);
    assert_int_equal(hex(v->external_authenticate, d->ext_auth, 21), 21);
    d->level = d->ext_auth[2];
}

static const uint8_t *card_challenge(const decoded *d) {
    return d->init_update + 13;
}

static const uint8_t *card_cryptogram(const decoded *d) {
    return d->init_update + 21;
}

static void open_session(const decoded *d, seam_crypto_scp03_session *s) {
    assert_int_equal(seam_crypto_scp03_derive_session(s, d->key_enc, d->key_mac, d->key_len,
                                                      d->host_challenge, card_challenge(d), 8),
                     SEAM_OK);
}

/* Opens the session and runs EXTERNAL AUTHENTICATE's C-MAC the card's way,
 * leaving the chaining value for the first command. */
static void authenticate(const decoded *d, seam_crypto_scp03_session *s, uint8_t chain[16]) {
    open_session(d, s);
    memset(chain, 0, 16);
    assert_int_equal(seam_crypto_scp03_verify_command_mac(s, chain, d->ext_auth, 5, d->ext_auth + 5,
                                                          8, d->ext_auth + 13, 8),
                     SEAM_OK);
}

/* Host side: protects a plain APDU (CLA INS P1 P2 Lc data) at the level. */
static size_t wrap_command(const seam_crypto_scp03_session *s, uint8_t chain[16], uint32_t counter,
                           uint8_t level, const uint8_t *plain, size_t plain_len, uint8_t *out) {
    size_t data_len = plain_len - 5;

    assert_int_equal(plain[4], data_len);
    out[0] = plain[0] | 0x04;
    memcpy(out + 1, plain + 1, 3);
    if ((level & 0x02) && data_len > 0)
        assert_int_equal(seam_crypto_scp03_encrypt_command(s, counter, plain + 5, data_len, out + 5,
                                                           MAX_APDU - 13, &data_len),
                         SEAM_OK);
    else
        memcpy(out + 5, plain + 5, data_len);
    out[4] = (uint8_t)(data_len + 8);
    assert_int_equal(
        seam_crypto_scp03_command_mac(s, chain, out, 5, out + 5, data_len, out + 5 + data_len),
        SEAM_OK);
    return 5 + data_len + 8;
}

/* Card side: checks the C-MAC and decrypts; returns the plain data length. */
static size_t unwrap_command(const seam_crypto_scp03_session *s, uint8_t chain[16],
                             uint32_t counter, uint8_t level, const uint8_t *apdu, uint8_t *data) {
    size_t data_len = (size_t)apdu[4] - 8;

    assert_int_equal(seam_crypto_scp03_verify_command_mac(s, chain, apdu, 5, apdu + 5, data_len,
                                                          apdu + 5 + data_len, 8),
                     SEAM_OK);
    if (!(level & 0x02) || data_len == 0) {
        memcpy(data, apdu + 5, data_len);
        return data_len;
    }
    assert_int_equal(
        seam_crypto_scp03_decrypt_command(s, counter, apdu + 5, data_len, data, &data_len),
        SEAM_OK);
    return data_len;
}

/* X1: the pseudo-random card challenge is KDF(Key-ENC, 02, seq || SD AID). */
static void scp03_pseudo_random_card_challenge_matches_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        uint8_t aid[16], challenge[8];
        size_t aid_len;

        if (vectors[i].sd_aid == NULL)
            continue;
        decode(&vectors[i], &d);
        aid_len = hex(vectors[i].sd_aid, aid, sizeof aid);
        assert_int_equal(seam_crypto_scp03_card_challenge(d.key_enc, d.key_len, d.init_update + 29,
                                                          aid, aid_len, challenge, 8),
                         SEAM_OK);
        assert_memory_equal(challenge, card_challenge(&d), 8);
    }
}

/* X1: S-ENC, S-MAC and S-RMAC from the static keys and both challenges. */
static void scp03_session_keys_match_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t expected[32];

        if (vectors[i].s_enc == NULL)
            continue;
        decode(&vectors[i], &d);
        open_session(&d, &s);
        assert_int_equal(s.key_len, d.key_len);
        assert_int_equal(s.challenge_len, 8);
        assert_int_equal(hex(vectors[i].s_enc, expected, sizeof expected), d.key_len);
        assert_memory_equal(s.s_enc, expected, d.key_len);
        hex(vectors[i].s_mac, expected, sizeof expected);
        assert_memory_equal(s.s_mac, expected, d.key_len);
        hex(vectors[i].s_rmac, expected, sizeof expected);
        assert_memory_equal(s.s_rmac, expected, d.key_len);
        seam_crypto_scp03_session_wipe(&s);
        for (size_t j = 0; j < sizeof s.s_enc; j++)
            assert_int_equal(s.s_enc[j], 0);
    }
}

/* X1: the card cryptogram of INITIALIZE UPDATE, computed and verified. */
static void scp03_card_cryptogram_matches_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t cryptogram[8];

        decode(&vectors[i], &d);
        open_session(&d, &s);
        assert_int_equal(seam_crypto_scp03_card_cryptogram(&s, cryptogram), SEAM_OK);
        assert_memory_equal(cryptogram, card_cryptogram(&d), 8);
        assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&s, card_cryptogram(&d), 8),
                         SEAM_OK);
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: the host cryptogram of EXTERNAL AUTHENTICATE, computed and verified. */
static void scp03_host_cryptogram_matches_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t cryptogram[8];

        decode(&vectors[i], &d);
        open_session(&d, &s);
        assert_int_equal(seam_crypto_scp03_host_cryptogram(&s, cryptogram), SEAM_OK);
        assert_memory_equal(cryptogram, d.ext_auth + 5, 8);
        assert_int_equal(seam_crypto_scp03_verify_host_cryptogram(&s, d.ext_auth + 5, 8), SEAM_OK);
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: EXTERNAL AUTHENTICATE's C-MAC with the chaining value 16 x 00. */
static void scp03_external_authenticate_cmac_matches_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t chain[16] = {0}, mac[8], message[16 + 13] = {0}, full[16];

        decode(&vectors[i], &d);
        open_session(&d, &s);
        assert_int_equal(
            seam_crypto_scp03_command_mac(&s, chain, d.ext_auth, 5, d.ext_auth + 5, 8, mac),
            SEAM_OK);
        assert_memory_equal(mac, d.ext_auth + 13, 8);
        /* The new chaining value is the full CMAC over 16 x 00 || header ||
         * host cryptogram, and the C-MAC is its first 8 bytes. */
        memcpy(message + 16, d.ext_auth, 13);
        assert_int_equal(seam_crypto_cmac(s.s_mac, s.key_len, message, sizeof message, full),
                         SEAM_OK);
        assert_memory_equal(chain, full, 16);
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: host side C-DEC + C-MAC with the counter and the MAC chain, byte for
 * byte as the source sent each command. */
static void scp03_protected_commands_match_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t chain[16];

        if (vectors[i].commands[0].plain == NULL)
            continue;
        decode(&vectors[i], &d);
        authenticate(&d, &s, chain);
        for (uint32_t c = 0; c < 4 && vectors[i].commands[c].plain != NULL; c++) {
            uint8_t plain[MAX_APDU], expected[MAX_APDU], out[MAX_APDU];
            size_t plain_len = hex(vectors[i].commands[c].plain, plain, sizeof plain);
            size_t expected_len = hex(vectors[i].commands[c].wrapped, expected, sizeof expected);
            size_t out_len = wrap_command(&s, chain, c + 1, d.level, plain, plain_len, out);

            assert_int_equal(out_len, expected_len);
            assert_memory_equal(out, expected, expected_len);
        }
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: card side: each protected command verifies and decrypts to the plain
 * command data, and the chain follows the host's. */
static void scp03_card_unwraps_protected_commands(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t chain[16];

        if (vectors[i].commands[0].plain == NULL)
            continue;
        decode(&vectors[i], &d);
        authenticate(&d, &s, chain);
        for (uint32_t c = 0; c < 4 && vectors[i].commands[c].plain != NULL; c++) {
            uint8_t plain[MAX_APDU], apdu[MAX_APDU], data[MAX_APDU];
            size_t plain_len = hex(vectors[i].commands[c].plain, plain, sizeof plain);
            size_t data_len;

            hex(vectors[i].commands[c].wrapped, apdu, sizeof apdu);
            data_len = unwrap_command(&s, chain, c + 1, d.level, apdu, data);
            assert_int_equal(data_len, plain_len - 5);
            assert_memory_equal(data, plain + 5, data_len);
        }
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: card side R-ENC (ICV from the counter block with first byte 80) and
 * R-MAC (chained on the same command's full C-MAC), byte for byte. */
static void scp03_protected_responses_match_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t chain[16];

        if (vectors[i].commands[0].response_plain == NULL)
            continue;
        decode(&vectors[i], &d);
        assert_int_equal(d.level & 0x30, 0x30);
        authenticate(&d, &s, chain);
        for (uint32_t c = 0; c < 4 && vectors[i].commands[c].plain != NULL; c++) {
            const command_vector *cv = &vectors[i].commands[c];
            uint8_t apdu[MAX_APDU], data[MAX_APDU], plain[MAX_APDU], expected[MAX_APDU];
            uint8_t out[MAX_APDU];
            size_t plain_len = hex(cv->response_plain, plain, sizeof plain);
            size_t expected_len = hex(cv->response_wrapped, expected, sizeof expected);
            size_t out_len = 0;

            hex(cv->wrapped, apdu, sizeof apdu);
            unwrap_command(&s, chain, c + 1, d.level, apdu, data);
            assert_int_equal(seam_crypto_scp03_encrypt_response(&s, c + 1, plain, plain_len, out,
                                                                sizeof out, &out_len),
                             SEAM_OK);
            assert_int_equal(
                seam_crypto_scp03_response_mac(&s, chain, out, out_len, cv->sw, out + out_len),
                SEAM_OK);
            assert_int_equal(out_len + 8, expected_len);
            assert_memory_equal(out, expected, expected_len);
        }
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: host side: each protected response's R-MAC verifies and its data
 * decrypts to the plain response. */
static void scp03_host_unwraps_protected_responses(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        decoded d;
        seam_crypto_scp03_session s;
        uint8_t chain[16];

        if (vectors[i].commands[0].response_plain == NULL)
            continue;
        decode(&vectors[i], &d);
        authenticate(&d, &s, chain);
        for (uint32_t c = 0; c < 4 && vectors[i].commands[c].plain != NULL; c++) {
            const command_vector *cv = &vectors[i].commands[c];
            uint8_t plain[MAX_APDU], apdu[MAX_APDU], response[MAX_APDU], data[MAX_APDU];
            size_t plain_len = hex(cv->plain, plain, sizeof plain);
            size_t response_len = hex(cv->response_wrapped, response, sizeof response);
            size_t data_len = 0, expected_len;

            wrap_command(&s, chain, c + 1, d.level, plain, plain_len, apdu);
            assert_int_equal(seam_crypto_scp03_verify_response_mac(&s, chain, response,
                                                                   response_len - 8, cv->sw,
                                                                   response + response_len - 8, 8),
                             SEAM_OK);
            assert_int_equal(seam_crypto_scp03_decrypt_response(&s, c + 1, response,
                                                                response_len - 8, data, &data_len),
                             SEAM_OK);
            expected_len = hex(cv->response_plain, plain, sizeof plain);
            assert_int_equal(data_len, expected_len);
            assert_memory_equal(data, plain, data_len);
        }
        seam_crypto_scp03_session_wipe(&s);
    }
}

/* X1: a card holding other static keys derives other session keys, so the
 * received card cryptogram does not verify (a host's wrong-key case). */
static void scp03_wrong_static_key_fails_cryptogram_checks(void **state) {
    decoded d;
    seam_crypto_scp03_session s;
    (void)state;

    decode(&vectors[0], &d);
    d.key_mac[15] ^= 0x01;
    open_session(&d, &s);
    assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&s, card_cryptogram(&d), 8),
                     SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_scp03_verify_host_cryptogram(&s, d.ext_auth + 5, 8),
                     SEAM_ERR_CRYPTO_AUTH);
    seam_crypto_scp03_session_wipe(&s);
}

/* X1: every verify refuses a single flipped bit, or a wrong length, and a
 * refused C-MAC leaves the chaining value as it was. */
static void scp03_one_flipped_bit_fails_every_verify(void **state) {
    const session_vector *v = &vectors[4];
    const command_vector *cv = &v->commands[0];
    decoded d;
    seam_crypto_scp03_session s;
    uint8_t chain[16], saved[16], apdu[MAX_APDU], response[MAX_APDU], host[8], card[8];
    size_t apdu_len, response_len, data_len;
    (void)state;

    decode(v, &d);
    authenticate(&d, &s, chain);
    memcpy(host, d.ext_auth + 5, 8);
    memcpy(card, card_cryptogram(&d), 8);
    for (size_t bit = 0; bit < 64; bit++) {
        host[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        card[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(seam_crypto_scp03_verify_host_cryptogram(&s, host, 8),
                         SEAM_ERR_CRYPTO_AUTH);
        assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&s, card, 8),
                         SEAM_ERR_CRYPTO_AUTH);
        host[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        card[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(seam_crypto_scp03_verify_host_cryptogram(&s, host, 7), SEAM_ERR_CRYPTO_AUTH);

    apdu_len = hex(cv->wrapped, apdu, sizeof apdu);
    data_len = apdu_len - 13;
    memcpy(saved, chain, 16);
    /* A bit of the MAC, of the encrypted data, of the header. */
    const size_t flips[] = {apdu_len - 1, apdu_len - 8, 5, 40, 3, 0};
    for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
        apdu[flips[f]] ^= 0x01;
        assert_int_equal(seam_crypto_scp03_verify_command_mac(&s, chain, apdu, 5, apdu + 5,
                                                              data_len, apdu + 5 + data_len, 8),
                         SEAM_ERR_CRYPTO_AUTH);
        assert_memory_equal(chain, saved, 16);
        apdu[flips[f]] ^= 0x01;
    }
    assert_int_equal(seam_crypto_scp03_verify_command_mac(&s, chain, apdu, 5, apdu + 5, data_len,
                                                          apdu + 5 + data_len, 7),
                     SEAM_ERR_CRYPTO_AUTH);
    assert_memory_equal(chain, saved, 16);
    assert_int_equal(seam_crypto_scp03_verify_command_mac(&s, chain, apdu, 5, apdu + 5, data_len,
                                                          apdu + 5 + data_len, 8),
                     SEAM_OK);

    response_len = hex(cv->response_wrapped, response, sizeof response);
    for (size_t bit = 0; bit < 8; bit++) {
        size_t at = bit * 23 % response_len;
        response[at] ^= (uint8_t)(1u << bit);
        assert_int_equal(seam_crypto_scp03_verify_response_mac(&s, chain, response,
                                                               response_len - 8, cv->sw,
                                                               response + response_len - 8, 8),
                         SEAM_ERR_CRYPTO_AUTH);
        response[at] ^= (uint8_t)(1u << bit);
    }
    /* The status word is covered by the R-MAC too. */
    assert_int_equal(seam_crypto_scp03_verify_response_mac(&s, chain, response, response_len - 8,
                                                           0x6200, response + response_len - 8, 8),
                     SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_scp03_verify_response_mac(&s, chain, response, response_len - 8,
                                                           cv->sw, response + response_len - 8, 8),
                     SEAM_OK);
    seam_crypto_scp03_session_wipe(&s);
}

/* X1, X6: data that decrypts to bad padding, or is not whole blocks, is
 * refused with CRYPTO_PADDING. */
static void scp03_decrypt_rejects_bad_padding_and_partial_blocks(void **state) {
    decoded d;
    seam_crypto_scp03_session s;
    uint8_t plain[32], icv_block[16] = {0}, iv[16], buf[32], out[32];
    size_t out_len = 777;
    (void)state;

    decode(&vectors[0], &d);
    open_session(&d, &s);
    /* Encrypt 32 bytes of 11 (no 80 marker) under counter 1's ICV by hand. */
    memset(plain, 0x11, sizeof plain);
    icv_block[15] = 1;
    assert_int_equal(seam_crypto_aes_ecb_encrypt(s.s_enc, s.key_len, icv_block, iv), SEAM_OK);
    assert_int_equal(seam_crypto_aes_cbc_encrypt(s.s_enc, s.key_len, iv, plain, 32, buf), SEAM_OK);
    assert_int_equal(seam_crypto_scp03_decrypt_command(&s, 1, buf, 32, out, &out_len),
                     SEAM_ERR_CRYPTO_PADDING);
    assert_int_equal(out_len, 777);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0); /* wiped, no plaintext left behind */

    memset(out, 0x42, sizeof out);
    assert_int_equal(seam_crypto_scp03_decrypt_command(&s, 1, buf, 31, out, &out_len),
                     SEAM_ERR_CRYPTO_PADDING);
    assert_int_equal(seam_crypto_scp03_decrypt_response(&s, 1, buf, 0, out, &out_len),
                     SEAM_ERR_CRYPTO_PADDING);
    assert_int_equal(out_len, 777);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0x42);
    seam_crypto_scp03_session_wipe(&s);
}

/* X6: bad key lengths, challenge lengths, AID lengths, KDF lengths and
 * small buffers are clear errors that leave every output untouched. */
static void scp03_bad_lengths_give_clear_errors_and_leave_outputs(void **state) {
    decoded d;
    seam_crypto_scp03_session s, before;
    uint8_t out[64], aid[17] = {0xA0}, seq[3] = {0, 0, 1};
    size_t out_len = 999;
    (void)state;

    decode(&vectors[0], &d);
    memset(&s, 0x6B, sizeof s);
    before = s;
    assert_int_equal(seam_crypto_scp03_derive_session(&s, d.key_enc, d.key_mac, 20,
                                                      d.host_challenge, card_challenge(&d), 8),
                     SEAM_ERR_CRYPTO_KEY);
    assert_int_equal(seam_crypto_scp03_derive_session(&s, d.key_enc, d.key_mac, 16,
                                                      d.host_challenge, card_challenge(&d), 12),
                     SEAM_ERR_ARG);
    assert_memory_equal(&s, &before, sizeof s);

    memset(out, 0x6B, sizeof out);
    assert_int_equal(seam_crypto_scp03_kdf(d.key_enc, 15, 0x04, seq, 3, out, 16),
                     SEAM_ERR_CRYPTO_KEY);
    assert_int_equal(seam_crypto_scp03_kdf(d.key_enc, 16, 0x04, seq, 3, out, 12), SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_kdf(d.key_enc, 16, 0x04, seq, 3, out, 40), SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_card_challenge(d.key_enc, 16, seq, aid, 4, out, 8),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_card_challenge(d.key_enc, 16, seq, aid, 17, out, 8),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_card_challenge(d.key_enc, 16, seq, aid, 8, out, 9),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_card_challenge(d.key_enc, 33, seq, aid, 8, out, 8),
                     SEAM_ERR_CRYPTO_KEY);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0x6B);

    open_session(&d, &s);
    /* 16 bytes of data pad to 32: a 31-byte buffer is too small. */
    assert_int_equal(seam_crypto_scp03_encrypt_command(&s, 1, out, 16, out, 31, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 32);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0x6B);
    /* Empty data still gets a padding block when a caller asks for it. */
    assert_int_equal(seam_crypto_scp03_encrypt_response(&s, 1, NULL, 0, out, 16, &out_len),
                     SEAM_OK);
    assert_int_equal(out_len, 16);
    seam_crypto_scp03_session_wipe(&s);
}

/* S16 mode has no published vector here; check that 16-byte challenges
 * give 16-byte cryptograms and MACs that are the KDF's 128-bit outputs and
 * that every verify accepts its own output. */
static void scp03_s16_mode_is_self_consistent(void **state) {
    decoded d;
    seam_crypto_scp03_session s;
    uint8_t host[16], card[16], context[32], expected[16], got[16], chain[16] = {0}, mac[16];
    uint8_t header[5] = {0x84, 0x82, 0x33, 0x00, 0x20};
    (void)state;

    decode(&vectors[0], &d);
    memset(host, 0x21, sizeof host);
    memset(card, 0x43, sizeof card);
    assert_int_equal(seam_crypto_scp03_derive_session(&s, d.key_enc, d.key_mac, 16, host, card, 16),
                     SEAM_OK);
    assert_int_equal(s.challenge_len, 16);
    memcpy(context, host, 16);
    memcpy(context + 16, card, 16);
    assert_int_equal(seam_crypto_scp03_kdf(s.s_mac, 16, 0x00, context, 32, expected, 16), SEAM_OK);
    assert_int_equal(seam_crypto_scp03_card_cryptogram(&s, got), SEAM_OK);
    assert_memory_equal(got, expected, 16);
    assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&s, got, 16), SEAM_OK);
    assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&s, got, 8), SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&s, got), SEAM_OK);
    assert_int_equal(seam_crypto_scp03_verify_host_cryptogram(&s, got, 16), SEAM_OK);
    assert_int_equal(seam_crypto_scp03_command_mac(&s, chain, header, 5, got, 16, mac), SEAM_OK);
    assert_memory_equal(mac, chain, 16);
    memset(chain, 0, sizeof chain);
    assert_int_equal(seam_crypto_scp03_verify_command_mac(&s, chain, header, 5, got, 16, mac, 16),
                     SEAM_OK);
    seam_crypto_scp03_session_wipe(&s);
}

/* Card challenges in S16 mode are the KDF's 128-bit output for constant 02. */
static void scp03_card_challenge_s16_is_kdf_128(void **state) {
    decoded d;
    uint8_t aid[8], context[11], expected[16], got[16];
    (void)state;

    decode(&vectors[0], &d);
    hex(vectors[0].sd_aid, aid, sizeof aid);
    memcpy(context, d.init_update + 29, 3);
    memcpy(context + 3, aid, 8);
    assert_int_equal(seam_crypto_scp03_kdf(d.key_enc, 16, 0x02, context, 11, expected, 16),
                     SEAM_OK);
    assert_int_equal(
        seam_crypto_scp03_card_challenge(d.key_enc, 16, d.init_update + 29, aid, 8, got, 16),
        SEAM_OK);
    assert_memory_equal(got, expected, 16);
}

/* An open host at the first recorded session's level, chain after EXTERNAL AUTHENTICATE. */
static void chain_host(seam_crypto_scp03_host *h) {
    decoded d;
    memset(h, 0, sizeof *h);
    decode(&vectors[0], &d);
    authenticate(&d, &h->keys, h->chain);
    h->level = d.level;
    h->open = true;
}

/* X1: host_wrap_chain, one command that fits in a block: the recorded bytes, as host_wrap. */
static void scp03_host_wrap_chain_single_block_is_host_wrap(void **state) {
    seam_crypto_scp03_host a, b;
    uint8_t plain[MAX_APDU], expected[MAX_APDU], out[MAX_APDU], out2[MAX_APDU];
    size_t plain_len = hex(vectors[0].commands[0].plain, plain, sizeof plain);
    size_t expected_len = hex(vectors[0].commands[0].wrapped, expected, sizeof expected);
    size_t len = 0, len2 = 0, block_len[4], blocks = 0;
    (void)state;
    chain_host(&a);
    b = a;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&a, plain, plain_len, 255, out, sizeof out,
                                                       &len, block_len, 4, &blocks),
                     SEAM_OK);
    assert_int_equal(blocks, 1);
    assert_int_equal(block_len[0], len);
    assert_int_equal(len, expected_len);
    assert_memory_equal(out, expected, expected_len);
    assert_int_equal(seam_crypto_scp03_host_wrap(&b, plain, plain_len, out2, sizeof out2, &len2),
                     SEAM_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(out2, out, len);
    assert_memory_equal(a.chain, b.chain, 16);
    assert_int_equal(a.counter, b.counter);
    seam_crypto_scp03_host_close(&a);
    seam_crypto_scp03_host_close(&b);
}

/* X1: a long command (extended, 600 bytes, Le) at C-DEC cut into 100-byte blocks: one
 * counter step, C-ENC over all the data, one C-MAC over 84 INS P1 P2 00 hh ll. */
static void scp03_host_wrap_chain_protects_the_whole_command(void **state) {
    static uint8_t apdu[7 + 600 + 2], out[2000], body[700], data[700];
    seam_crypto_scp03_host h, before;
    uint8_t chain[16], mac[8];
    size_t len = 0, block_len[16], blocks = 0, body_len = 0, off = 0, data_len = 0;
    (void)state;
    memcpy(apdu, (const uint8_t[]){0x80, 0xE6, 0x0C, 0x00, 0x00, 0x02, 0x58}, 7);
    for (size_t i = 0; i < 600; i++)
        apdu[7 + i] = (uint8_t)i;
    apdu[607] = apdu[608] = 0x00; /* Le 0000 */
    chain_host(&h);
    assert_int_equal(h.level, 0x03);
    before = h;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, sizeof apdu, 100, out, sizeof out,
                                                       &len, block_len, 16, &blocks),
                     SEAM_OK);
    assert_int_equal(blocks, 7); /* 608 encrypted + 8 */
    assert_int_equal(h.counter, before.counter + 1);
    for (size_t k = 0; k < blocks; k++) {
        const uint8_t *b = out + off;
        size_t part = k + 1 < blocks ? 100 : 16;
        assert_int_equal(b[0], 0x84);
        assert_int_equal(b[1], 0xE6);
        assert_int_equal(b[2], k + 1 < blocks ? 0x8C : 0x0C);
        assert_int_equal(b[3], 0x00);
        assert_int_equal(b[4], part);
        assert_int_equal(block_len[k], 5 + part + (k + 1 < blocks ? 0 : 1));
        memcpy(body + body_len, b + 5, part);
        body_len += part;
        off += block_len[k];
    }
    assert_int_equal(out[off - 1], 0x00); /* the last block's Le */
    assert_int_equal(off, len);
    assert_int_equal(body_len, 616);
    const uint8_t header[7] = {0x84, 0xE6, 0x0C, 0x00, 0x00, 0x02, 0x68};
    memcpy(chain, before.chain, 16);
    assert_int_equal(seam_crypto_scp03_command_mac(&before.keys, chain, header, 7, body, 608, mac),
                     SEAM_OK);
    assert_memory_equal(mac, body + 608, 8);
    assert_memory_equal(chain, h.chain, 16);
    assert_int_equal(
        seam_crypto_scp03_decrypt_command(&before.keys, h.counter, body, 608, data, &data_len),
        SEAM_OK);
    assert_int_equal(data_len, 600);
    assert_memory_equal(data, apdu + 7, 600);
    seam_crypto_scp03_host_close(&h);
    seam_crypto_scp03_host_close(&before);
}

/* X1: refusals change nothing: P1.b8 set, data over 4096, a bad block size, a
 * malformed APDU, buffers too small; 4096 bytes fit. */
static void scp03_host_wrap_chain_refusals_change_nothing(void **state) {
    static uint8_t apdu[7 + 4097], out[5000];
    seam_crypto_scp03_host h, before;
    size_t len = 0, block_len[32], blocks = 0;
    (void)state;
    memcpy(apdu, (const uint8_t[]){0x80, 0xD8, 0x00, 0x81, 0x00, 0x10, 0x01}, 7);
    chain_host(&h);
    before = h;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, sizeof apdu, 255, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_ERR_ARG); /* 4097 bytes */
    apdu[5] = 0x10;
    apdu[6] = 0x00;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4095, 255, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_ERR_MALFORMED);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 0, out, sizeof out, &len,
                                                       block_len, 32, &blocks),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 256, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_ERR_ARG);
    apdu[2] = 0x80;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 255, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_ERR_ARG);
    apdu[2] = 0x00;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 255, out, 100, &len,
                                                       block_len, 32, &blocks),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 17 * 5 + 4112 + 8);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 255, out, sizeof out,
                                                       &len, block_len, 16, &blocks),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(blocks, 17);
    assert_true(h.open);
    assert_int_equal(h.counter, before.counter);
    assert_memory_equal(h.chain, before.chain, 16);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 255, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_OK);
    assert_int_equal(blocks, 17);
    assert_int_equal(len, 17 * 5 + 4112 + 8);
    seam_crypto_scp03_host_close(&h);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(&h, apdu, 7 + 4096, 255, out, sizeof out,
                                                       &len, block_len, 32, &blocks),
                     SEAM_ERR_ARG); /* closed */
    seam_crypto_scp03_host_close(&before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scp03_pseudo_random_card_challenge_matches_vectors),
        cmocka_unit_test(scp03_session_keys_match_vectors),
        cmocka_unit_test(scp03_card_cryptogram_matches_vectors),
        cmocka_unit_test(scp03_host_cryptogram_matches_vectors),
        cmocka_unit_test(scp03_external_authenticate_cmac_matches_vectors),
        cmocka_unit_test(scp03_protected_commands_match_vectors),
        cmocka_unit_test(scp03_card_unwraps_protected_commands),
        cmocka_unit_test(scp03_protected_responses_match_vectors),
        cmocka_unit_test(scp03_host_unwraps_protected_responses),
        cmocka_unit_test(scp03_wrong_static_key_fails_cryptogram_checks),
        cmocka_unit_test(scp03_one_flipped_bit_fails_every_verify),
        cmocka_unit_test(scp03_decrypt_rejects_bad_padding_and_partial_blocks),
        cmocka_unit_test(scp03_bad_lengths_give_clear_errors_and_leave_outputs),
        cmocka_unit_test(scp03_s16_mode_is_self_consistent),
        cmocka_unit_test(scp03_card_challenge_s16_is_kdf_128),
        cmocka_unit_test(scp03_host_wrap_chain_single_block_is_host_wrap),
        cmocka_unit_test(scp03_host_wrap_chain_protects_the_whole_command),
        cmocka_unit_test(scp03_host_wrap_chain_refusals_change_nothing),
    };
    return cmocka_run_group_tests_name("crypto_scp03", tests, NULL, NULL);
}
