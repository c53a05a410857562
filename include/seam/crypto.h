/*
 * seam crypto: the cryptography the card, the terminal and the server need,
 * as thin wrappers over OpenSSL 3 libcrypto, and the SCP03 computations of
 * GlobalPlatform Amendment D v1.1.1 built on them (docs/crypto.md).
 *
 * Conventions, for every function below:
 *   - Buffers belong to the caller. Nothing keeps a pointer after it returns,
 *     except a seam_crypto_cmac_ctx, which owns a copy of its key.
 *   - Sizes fixed by an algorithm are the SEAM_CRYPTO_*_SIZE macros; array
 *     bounds in prototypes name the size the caller must provide.
 *   - AES keys are 16, 24 or 32 bytes. Any other length gives
 *     SEAM_ERR_CRYPTO_KEY; a length outside a function's documented range
 *     gives SEAM_ERR_ARG. Both are checked before anything is written, so on
 *     these errors every output is left untouched.
 *   - A libcrypto failure gives SEAM_ERR_CRYPTO (SEAM_ERR_NOMEM when it was
 *     an allocation we made).
 *   - Verify functions return SEAM_OK or SEAM_ERR_CRYPTO_AUTH and nothing
 *     else, compare in constant time, and must have their result checked.
 *   - Secrets held in temporaries are wiped before return on every path;
 *     callers wipe their own with seam_secure_zero (seam/util.h), which
 *     is also where the constant-time seam_ct_equal lives.
 *   - An output may be the same buffer as an input only where a comment says
 *     so; partial overlap is never allowed.
 *   - Pointers to required buffers must not be NULL (asserted); a data
 *     pointer may be NULL when its length is 0.
 */
#ifndef SEAM_CRYPTO_H
#define SEAM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* Marks functions whose result is a security decision. */
#define SEAM_CRYPTO_MUST_CHECK __attribute__((warn_unused_result))

#define SEAM_CRYPTO_AES_BLOCK_SIZE      16 /* also the IV, CMAC and chaining-value size */
#define SEAM_CRYPTO_AES_MAX_KEY_SIZE    32
#define SEAM_CRYPTO_CMAC_SIZE           16
#define SEAM_CRYPTO_KCV_SIZE            3
#define SEAM_CRYPTO_GCM_NONCE_SIZE      12
#define SEAM_CRYPTO_GCM_TAG_SIZE        16
#define SEAM_CRYPTO_SHA1_SIZE           20
#define SEAM_CRYPTO_SHA256_SIZE         32
#define SEAM_CRYPTO_SHA384_SIZE         48
#define SEAM_CRYPTO_SHA512_SIZE         64
#define SEAM_CRYPTO_HMAC_SHA256_SIZE    32
#define SEAM_CRYPTO_P256_PRIVATE_SIZE   32 /* big-endian scalar d, 1 <= d < n */
#define SEAM_CRYPTO_P256_PUBLIC_SIZE    65 /* 04 || X || Y (SEC 1 uncompressed) */
#define SEAM_CRYPTO_P256_SIGNATURE_SIZE 64 /* r || s, each 32 bytes big-endian */
#define SEAM_CRYPTO_P256_SECRET_SIZE    32 /* ECDH shared secret: the X coordinate */

/* ------------------------------------------------------------------ */
/* AES (FIPS 197) and ISO/IEC 9797-1 padding method 2                  */

/* Encrypts one 16-byte block with AES-ECB; out may be in. Errors: KEY. */
seam_err seam_crypto_aes_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[16],
                                     uint8_t out[16]);

/* Decrypts one 16-byte block with AES-ECB; out may be in. Errors: KEY. */
seam_err seam_crypto_aes_ecb_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[16],
                                     uint8_t out[16]);

/* AES-CBC encrypts len bytes (a multiple of 16, 0 allowed) from iv without
 * padding into out (len bytes; may be in). Errors: KEY, ARG (len). */
seam_err seam_crypto_aes_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                                     const uint8_t *in, size_t len, uint8_t *out);

/* AES-CBC decrypts len bytes (a multiple of 16, 0 allowed) from iv without
 * removing padding into out (len bytes; may be in). Errors: KEY, ARG (len). */
seam_err seam_crypto_aes_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                                     const uint8_t *in, size_t len, uint8_t *out);

/* Writes the key check value of an AES key: the first 3 bytes of
 * AES(key, 16 x 01), as GlobalPlatform PUT KEY uses it. Errors: KEY. */
seam_err seam_crypto_aes_kcv(const uint8_t *key, size_t key_len, uint8_t kcv[3]);

/* Length of len bytes after method-2 padding: the next multiple of 16 that
 * is strictly greater than len (a full block is added to aligned data). */
size_t seam_crypto_iso9797_padded_len(size_t len);

/* Pads buf[0..len) in place with 80 00..00 up to seam_crypto_iso9797_padded_len
 * and stores that length in *padded_len. If cap is too small: BUFFER_SMALL,
 * *padded_len is set to the length needed and buf is untouched. */
seam_err seam_crypto_iso9797_pad(uint8_t *buf, size_t len, size_t cap, size_t *padded_len);

/* Finds the data length of method-2 padded buf[0..len): len must be a
 * non-zero multiple of 16 and the last block must hold 80 followed only by
 * 00 bytes. Otherwise CRYPTO_PADDING and *data_len is untouched. Constant
 * time over the last block. */
seam_err seam_crypto_iso9797_unpad(const uint8_t *buf, size_t len, size_t *data_len);

/* ------------------------------------------------------------------ */
/* AES-CMAC (NIST SP 800-38B)                                          */

/* An incremental CMAC computation under one AES key; opaque. */
typedef struct seam_crypto_cmac_ctx seam_crypto_cmac_ctx;

/* Computes the 16-byte AES-CMAC of data[0..len) under key. Errors: KEY. */
seam_err seam_crypto_cmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                          uint8_t mac[16]);

/* Creates a CMAC context holding a copy of key in *out; the caller frees it
 * with seam_crypto_cmac_free. Errors: KEY (nothing allocated), NOMEM. */
seam_err seam_crypto_cmac_new(const uint8_t *key, size_t key_len, seam_crypto_cmac_ctx **out);

/* Appends data[0..len) to the message being MACed, without copying it. */
seam_err seam_crypto_cmac_update(seam_crypto_cmac_ctx *ctx, const uint8_t *data, size_t len);

/* Writes the CMAC of everything appended since creation or the last final,
 * then restarts ctx for a new message under the same key. */
seam_err seam_crypto_cmac_final(seam_crypto_cmac_ctx *ctx, uint8_t mac[16]);

/* Wipes and frees a CMAC context; NULL is allowed. */
void seam_crypto_cmac_free(seam_crypto_cmac_ctx *ctx);

/* ------------------------------------------------------------------ */
/* AES-GCM (NIST SP 800-38D): 12-byte nonces, 16-byte tags             */

/* An AES key ready for GCM in both directions (its key schedule computed once); opaque. */
typedef struct seam_crypto_aes_gcm seam_crypto_aes_gcm;

/* Creates a GCM context for key (16, 24 or 32 bytes) in *out; the caller frees it with
 * seam_crypto_aes_gcm_free. Errors: KEY (nothing allocated), NOMEM, CRYPTO. */
seam_err seam_crypto_aes_gcm_new(const uint8_t *key, size_t key_len, seam_crypto_aes_gcm **out);

/* Encrypts in[0..len) into out (len bytes; may be in) under nonce, authenticating
 * aad[0..aad_len) as well, and writes the tag. A nonce must never be used twice
 * under one key. Errors: CRYPTO. */
seam_err seam_crypto_aes_gcm_seal(seam_crypto_aes_gcm *ctx, const uint8_t nonce[12],
                                  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                                  uint8_t *out, uint8_t tag[16]);

/* Decrypts in[0..len) into out (len bytes; may be in) and checks tag over nonce, aad
 * and the ciphertext: OK, or CRYPTO_AUTH with out wiped (nothing unauthenticated is
 * returned). */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_aes_gcm_open(seam_crypto_aes_gcm *ctx,
                                                         const uint8_t nonce[12],
                                                         const uint8_t *aad, size_t aad_len,
                                                         const uint8_t *in, size_t len,
                                                         const uint8_t tag[16], uint8_t *out);

/* Wipes and frees a GCM context; NULL is allowed. */
void seam_crypto_aes_gcm_free(seam_crypto_aes_gcm *ctx);

/* ------------------------------------------------------------------ */
/* SHA-1, SHA-2 (FIPS 180-4) and HMAC-SHA256 (RFC 2104)                */

/* Writes the SHA-1 digest of data[0..len); only for formats that demand it
 * (GlobalPlatform load-file hashes). */
seam_err seam_crypto_sha1(const uint8_t *data, size_t len, uint8_t digest[20]);

/* Writes the SHA-256 digest of data[0..len). */
seam_err seam_crypto_sha256(const uint8_t *data, size_t len, uint8_t digest[32]);

/* Writes the SHA-384 digest of data[0..len). */
seam_err seam_crypto_sha384(const uint8_t *data, size_t len, uint8_t digest[48]);

/* Writes the SHA-512 digest of data[0..len). */
seam_err seam_crypto_sha512(const uint8_t *data, size_t len, uint8_t digest[64]);

/* Writes HMAC-SHA256 of data[0..len) under key[0..key_len) (any length). */
seam_err seam_crypto_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data,
                                 size_t len, uint8_t mac[32]);

/* Checks that tag[0..tag_len) is the HMAC-SHA256 of data under key: OK or
 * CRYPTO_AUTH (also for a tag_len other than 32). */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_hmac_sha256_verify(const uint8_t *key, size_t key_len,
                                                               const uint8_t *data, size_t len,
                                                               const uint8_t *tag, size_t tag_len);

/* ------------------------------------------------------------------ */
/* ECDSA and ECDH on NIST P-256. Keys cross the API as raw bytes only.  */

/* Makes a key pair from seam_crypto_random (so a test seed reproduces it):
 * the private scalar to priv, its public point to pub. */
seam_err seam_crypto_p256_generate(uint8_t priv[32], uint8_t pub[65]);

/* Imports a raw private key: checks 1 <= d < n and writes its public point
 * to pub. Errors: KEY (wrong length or out of range). */
seam_err seam_crypto_p256_public_key(const uint8_t *priv, size_t priv_len, uint8_t pub[65]);

/* Imports a raw public key: OK if pub is 65 bytes, 04 || X || Y, on the
 * curve; otherwise CRYPTO_KEY. */
seam_err seam_crypto_p256_check_public(const uint8_t *pub, size_t pub_len);

/* Signs a SHA-256 digest with ECDSA; writes r || s. The nonce comes from
 * OpenSSL's DRBG, so signatures differ from call to call. Errors: KEY. */
seam_err seam_crypto_p256_sign(const uint8_t *priv, size_t priv_len, const uint8_t digest[32],
                               uint8_t sig[64]);

/* Checks an r || s signature of a SHA-256 digest: OK or CRYPTO_AUTH (also
 * for a malformed key or signature). */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_p256_verify(const uint8_t *pub, size_t pub_len,
                                                        const uint8_t digest[32],
                                                        const uint8_t *sig, size_t sig_len);

/* Computes the ECDH shared secret (X coordinate) of priv and a peer's public
 * key, which is validated first. Errors: KEY (either key malformed). */
seam_err seam_crypto_p256_ecdh(const uint8_t *priv, size_t priv_len, const uint8_t *peer_pub,
                               size_t peer_pub_len, uint8_t secret[32]);

/* ------------------------------------------------------------------ */
/* Random bytes                                                        */

/* Fills buf[0..len) from OpenSSL's DRBG, or from the test stream while a
 * test seed is set. Thread-safe. */
seam_err seam_crypto_random(uint8_t *buf, size_t len);

/* Fills buf[0..len) from OpenSSL's DRBG, even while a test seed is set: for
 * storage keys and nonces, which must never repeat from run to run. */
seam_err seam_crypto_random_fresh(uint8_t *buf, size_t len);

/* FOR TESTS ONLY. With a seed, makes seam_crypto_random (and so key
 * generation and card challenges) a deterministic stream: block i is
 * SHA-256(SHA-256(seed) || i as 8 bytes big-endian). Setting a seed restarts
 * the stream; NULL returns to OpenSSL's DRBG. Never call it in a product. */
seam_err seam_crypto_random_set_test_seed(const uint8_t *seed, size_t seed_len);

/* True while a test seed is set; lets a program refuse to run that way. */
bool seam_crypto_random_is_deterministic(void);

/* ------------------------------------------------------------------ */
/* SCP03 (GlobalPlatform Amendment D v1.1.1)                           */

/* Derivation constants of the SCP03 KDF (AmdD 4.1.5). */
enum {
    SEAM_CRYPTO_SCP03_DERIVE_CARD_CRYPTOGRAM = 0x00,
    SEAM_CRYPTO_SCP03_DERIVE_HOST_CRYPTOGRAM = 0x01,
    SEAM_CRYPTO_SCP03_DERIVE_CARD_CHALLENGE = 0x02,
    SEAM_CRYPTO_SCP03_DERIVE_S_ENC = 0x04,
    SEAM_CRYPTO_SCP03_DERIVE_S_MAC = 0x06,
    SEAM_CRYPTO_SCP03_DERIVE_S_RMAC = 0x07,
};

#define SEAM_CRYPTO_SCP03_S8          8  /* challenge, cryptogram and MAC length in S8 mode */
#define SEAM_CRYPTO_SCP03_S16         16 /* the same in S16 mode (AmdD v1.2) */
#define SEAM_CRYPTO_SCP03_SEQ_SIZE    3
#define SEAM_CRYPTO_SCP03_MAX_PADDING 16 /* encryption adds 1..16 bytes */

/* The keys and challenges of one secure channel session. The MAC chaining
 * value and the encryption counter are the caller's (AmdD 6.2). Wipe it
 * with seam_crypto_scp03_session_wipe when the session ends. */
typedef struct {
    uint8_t s_enc[32];
    uint8_t s_mac[32];
    uint8_t s_rmac[32];
    size_t key_len; /* 16, 24 or 32, as the static keys */
    uint8_t host_challenge[16];
    uint8_t card_challenge[16];
    size_t challenge_len; /* S8 or S16: also the cryptogram and MAC length */
} seam_crypto_scp03_session;

/* Runs the SCP03 KDF: CMAC_key in counter mode over 00 x 11 || constant ||
 * 00 || L || i || context, keeping out_len bytes (L = 8 x out_len bits).
 * out_len is 8, 16, 24 or 32. Errors: KEY, ARG (out_len). */
seam_err seam_crypto_scp03_kdf(const uint8_t *key, size_t key_len, uint8_t constant,
                               const uint8_t *context, size_t context_len, uint8_t *out,
                               size_t out_len);

/* Computes the pseudo-random card challenge KDF(Key-ENC, 02, seq || aid)
 * of challenge_len (S8 or S16) bytes. The AID is that of the SD invoking
 * the channel, 5..16 bytes. Errors: KEY, ARG (aid_len, challenge_len). */
seam_err seam_crypto_scp03_card_challenge(const uint8_t *key_enc, size_t key_len,
                                          const uint8_t seq[3], const uint8_t *aid, size_t aid_len,
                                          uint8_t *challenge, size_t challenge_len);

/* Derives S-ENC, S-MAC and S-RMAC from the static Key-ENC and Key-MAC and
 * the challenges (each challenge_len bytes: S8 or S16) into *session.
 * Errors: KEY, ARG (challenge_len); *session is untouched on error. */
seam_err seam_crypto_scp03_derive_session(seam_crypto_scp03_session *session,
                                          const uint8_t *key_enc, const uint8_t *key_mac,
                                          size_t key_len, const uint8_t *host_challenge,
                                          const uint8_t *card_challenge, size_t challenge_len);

/* Writes the card cryptogram (challenge_len bytes). */
seam_err seam_crypto_scp03_card_cryptogram(const seam_crypto_scp03_session *session,
                                           uint8_t *cryptogram);

/* Writes the host cryptogram (challenge_len bytes). */
seam_err seam_crypto_scp03_host_cryptogram(const seam_crypto_scp03_session *session,
                                           uint8_t *cryptogram);

/* Host side: checks a card cryptogram received in INITIALIZE UPDATE. */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_scp03_verify_card_cryptogram(
    const seam_crypto_scp03_session *session, const uint8_t *cryptogram, size_t len);

/* Card side: checks a host cryptogram received in EXTERNAL AUTHENTICATE. */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_scp03_verify_host_cryptogram(
    const seam_crypto_scp03_session *session, const uint8_t *cryptogram, size_t len);

/* Computes the C-MAC of one command: CMAC_S-MAC(chain || header || data),
 * where header is CLA' INS P1 P2 Lc' and data is the (encrypted) command
 * data, without copying them. Replaces chain with the full CMAC (the next
 * chaining value) and writes its first challenge_len bytes to mac. */
seam_err seam_crypto_scp03_command_mac(const seam_crypto_scp03_session *session, uint8_t chain[16],
                                       const uint8_t *header, size_t header_len,
                                       const uint8_t *data, size_t data_len, uint8_t *mac);

/* Card side: checks a received C-MAC as above. On OK chain becomes the new
 * chaining value; on CRYPTO_AUTH chain is untouched. */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_scp03_verify_command_mac(
    const seam_crypto_scp03_session *session, uint8_t chain[16], const uint8_t *header,
    size_t header_len, const uint8_t *data, size_t data_len, const uint8_t *mac, size_t mac_len);

/* Computes the R-MAC of a response: first challenge_len bytes of
 * CMAC_S-RMAC(chain || data || SW1 SW2), chain being the value left by the
 * C-MAC of the same command. */
seam_err seam_crypto_scp03_response_mac(const seam_crypto_scp03_session *session,
                                        const uint8_t chain[16], const uint8_t *data,
                                        size_t data_len, uint16_t sw, uint8_t *mac);

/* Host side: checks a received R-MAC as above. */
SEAM_CRYPTO_MUST_CHECK seam_err seam_crypto_scp03_verify_response_mac(
    const seam_crypto_scp03_session *session, const uint8_t chain[16], const uint8_t *data,
    size_t data_len, uint16_t sw, const uint8_t *mac, size_t mac_len);

/* Host side, C-DEC: pads in[0..len) and encrypts it with S-ENC in CBC mode,
 * ICV = AES_S-ENC(counter as a 16-byte big-endian block), into out (may be
 * in); *out_len gets the padded length. If cap is too small: BUFFER_SMALL,
 * *out_len is set to the length needed and out is untouched. */
seam_err seam_crypto_scp03_encrypt_command(const seam_crypto_scp03_session *session,
                                           uint32_t counter, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t cap, size_t *out_len);

/* Card side, C-DEC: decrypts in[0..len) (len bytes of room in out, which
 * may be in) and strips the padding; *out_len gets the data length.
 * CRYPTO_PADDING if len is not a non-zero multiple of 16 (out untouched) or
 * the padding is wrong (out wiped). */
seam_err seam_crypto_scp03_decrypt_command(const seam_crypto_scp03_session *session,
                                           uint32_t counter, const uint8_t *in, size_t len,
                                           uint8_t *out, size_t *out_len);

/* Card side, R-ENC: as encrypt_command with ICV = AES_S-ENC(counter block
 * with its first byte set to 80); counter is the current command's. */
seam_err seam_crypto_scp03_encrypt_response(const seam_crypto_scp03_session *session,
                                            uint32_t counter, const uint8_t *in, size_t len,
                                            uint8_t *out, size_t cap, size_t *out_len);

/* Host side, R-ENC: as decrypt_command with the response ICV. */
seam_err seam_crypto_scp03_decrypt_response(const seam_crypto_scp03_session *session,
                                            uint32_t counter, const uint8_t *in, size_t len,
                                            uint8_t *out, size_t *out_len);

/* Wipes a session's keys and challenges. */
void seam_crypto_scp03_session_wipe(seam_crypto_scp03_session *session);

/* ---- the host's side of a secure channel (src/crypto/scp03_host.c) ---- */

/* One open SCP03 channel as a host (terminal, script, server) keeps it, S8 mode. */
typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
    uint32_t counter; /* commands wrapped since EXTERNAL AUTHENTICATE */
    uint8_t level;    /* 00 01 03 11 13 33, as sent in EXTERNAL AUTHENTICATE */
    bool open;
} seam_crypto_scp03_host;

/*
 * From the data of INITIALIZE UPDATE's response (29 or 32 bytes) and the host
 * challenge sent, derives the session keys, checks the card cryptogram and
 * writes the EXTERNAL AUTHENTICATE command for level on logical channel 0..3
 * (21 bytes). Errors: SEAM_ERR_ARG (lengths, level, channel),
 * SEAM_ERR_CRYPTO_KEY, SEAM_ERR_CRYPTO_AUTH (the card does not hold these
 * keys); the host is closed on every error.
 */
seam_err seam_crypto_scp03_host_open(seam_crypto_scp03_host *host, const uint8_t *key_enc,
                                     const uint8_t *key_mac, size_t key_len,
                                     const uint8_t host_challenge[8], const uint8_t *response,
                                     size_t response_len, uint8_t level, uint8_t channel,
                                     uint8_t external_authenticate[21]);

/*
 * Wraps a short command APDU (case 1-4) for the channel: counts it, encrypts
 * its data at C-DEC, adds the C-MAC and sets the secure messaging bit.
 * Errors: SEAM_ERR_ARG (closed, or too long once wrapped: the host closes),
 * SEAM_ERR_MALFORMED (not a short APDU), SEAM_ERR_BUFFER_SMALL (size needed
 * in *out_len); the last two change nothing. out must not overlap apdu.
 */
seam_err seam_crypto_scp03_host_wrap(seam_crypto_scp03_host *host, const uint8_t *apdu, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len);

#define SEAM_CRYPTO_SCP03_CHAIN_MAX 4096u /* longest command data wrap_chain takes */

/*
 * Wraps one whole command for the channel as a GP chain (gp_facts §1.1):
 * counts it once, encrypts all its data at C-DEC, computes one C-MAC over
 * CLA' INS P1 P2 00 hh ll || data (Lc' in the 3-byte form), then cuts
 * (data || C-MAC) into short APDUs of at most block_data (1..255) data
 * bytes, each with CLA INS P2 and P1 | 80 but the last (plain P1, and a
 * short Le when the command had one). When data || C-MAC fits in one block
 * the result is exactly seam_crypto_scp03_host_wrap's. At level 00 (no
 * C-MAC) the clear command is cut the same way, each block counted. apdu is
 * CLA INS P1 (b8 clear) P2 [Lc data] [Le], short or extended, with up to
 * SEAM_CRYPTO_SCP03_CHAIN_MAX data bytes. The blocks go one after the other
 * to out[0..cap), block i being block_len[i] bytes, *blocks of them (at
 * most max_blocks); the card answers all but the last 9000 without R-MAC,
 * so only the last response goes to seam_crypto_scp03_host_unwrap.
 * Ownership and errors: every buffer is the caller's, nothing is kept or
 * allocated, out must not overlap apdu; SEAM_ERR_MALFORMED (not an APDU),
 * SEAM_ERR_ARG (closed, P1.b8 set, too much data, block_data out of range)
 * and SEAM_ERR_BUFFER_SMALL (cap or max_blocks; sizes needed in *out_len
 * and *blocks) change nothing; a crypto error closes the host.
 */
seam_err seam_crypto_scp03_host_wrap_chain(seam_crypto_scp03_host *host, const uint8_t *apdu,
                                           size_t len, size_t block_data, uint8_t *out, size_t cap,
                                           size_t *out_len, size_t *block_len, size_t max_blocks,
                                           size_t *blocks);

/*
 * Unwraps the response to the last wrapped command (data || SW1 SW2): checks
 * its R-MAC and decrypts R-ENC data at those levels, writing plain data ||
 * SW to out (which may be response). Errors: SEAM_ERR_CRYPTO_AUTH (bad or
 * missing R-MAC: the host closes), SEAM_ERR_CRYPTO_PADDING,
 * SEAM_ERR_BUFFER_SMALL, SEAM_ERR_ARG (closed).
 */
seam_err seam_crypto_scp03_host_unwrap(seam_crypto_scp03_host *host, const uint8_t *response,
                                       size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Closes the channel and wipes its keys; safe on a closed host. */
void seam_crypto_scp03_host_close(seam_crypto_scp03_host *host);

#endif
