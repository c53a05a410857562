/*
 * SCP03 secure channel, card side (GlobalPlatform Amendment D v1.1.1, as
 * summarised in shared/spec/reference/gp_facts.md §3), internal to the card
 * layer. Requirement X1. The computations are the crypto layer's
 * (seam/crypto.h); this module owns the session state machine, whose states
 * and transitions are written out at the top of scp03.c.
 *
 * How the card uses it, for each command APDU addressed to the security
 * domain on one logical channel (one scp03_session per channel), parsed
 * once by the card (card/iso/apdu.h):
 *
 *   INS 50 INITIALIZE UPDATE      -> scp03_initialize_update_parsed
 *   INS 82 EXTERNAL AUTHENTICATE  -> scp03_external_authenticate_parsed
 *   any other command             -> scp03_unwrap, process the plain
 *                                    command, then scp03_wrap_response
 *   SELECT of another application, MANAGE CHANNEL close, card reset
 *                                 -> scp03_end_session
 *
 * Conventions, for every function below:
 *   - The return value is a seam_err for the caller's own mistakes and for
 *     crypto-layer failures: SEAM_ERR_ARG (bad argument), SEAM_ERR_BUFFER_SMALL
 *     (out too small: *out_len gets the size needed), or a crypto error. Any
 *     error other than ARG and BUFFER_SMALL also ends the session.
 *   - The ISO 7816 status word to answer with goes to *sw; it is data, not an
 *     error: SEAM_OK with *sw = 6982 is a normal refusal.
 *   - Response data goes to out[0..cap), its length to *out_len; the status
 *     word is never written into out. Buffers belong to the caller and
 *     nothing keeps a pointer to them.
 *   - INITIALIZE UPDATE and EXTERNAL AUTHENTICATE are short APDUs (CLA INS
 *     P1 P2 [Lc data] [Le]); other commands short or extended (a GP chain
 *     the card reassembled, gp_facts §1.1). A malformed length is 6700.
 *   - Every path that ends a session wipes its keys, chaining value and
 *     counters; comparisons of MACs and cryptograms are constant time.
 *   - Each command has two entry points that behave alike: one for a
 *     command the caller parsed (the card's), one over APDU bytes, which
 *     parses them (replaying recorded sessions; a malformed APDU is 6700).
 */
#ifndef SEAM_CARD_SCP03_H
#define SEAM_CARD_SCP03_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/iso/apdu.h"
#include "seam/crypto.h"
#include "seam/errors.h"

/* The "i" parameter (key information byte 3, gp_facts §3.3). */
#define SCP03_I_PSEUDO_RANDOM 0x10u /* b5: card challenge = KDF(Key-ENC, 02, seq || AID) */
#define SCP03_I_RMAC          0x20u /* b6: R-MAC supported */
#define SCP03_I_RENC          0x40u /* b7: R-ENC supported (with b6) */
#define SCP03_I_DEFAULT       0x70u /* pseudo-random, R-MAC and R-ENC: Oracle's simulator, kaoh */

/* Security level bits: EXTERNAL AUTHENTICATE P1 (gp_facts §3.5). */
#define SCP03_LEVEL_C_MAC 0x01u
#define SCP03_LEVEL_C_DEC 0x02u
#define SCP03_LEVEL_R_MAC 0x10u
#define SCP03_LEVEL_R_ENC 0x20u

#define SCP03_DIVERSIFICATION_SIZE     10u       /* key diversification data */
#define SCP03_INIT_UPDATE_MAX_RESPONSE 32u       /* 29, or 32 with the sequence counter */
#define SCP03_SEQ_MAX                  0xFFFFFFu /* the 3-byte counter cannot be incremented past it */

/* One static key set of a security domain: Key-ENC, Key-MAC and Key-DEK of
 * the same length (16, 24 or 32 bytes) under one key version number. */
typedef struct {
    uint8_t kvn;
    size_t key_len;
    uint8_t enc[SEAM_CRYPTO_AES_MAX_KEY_SIZE];
    uint8_t mac[SEAM_CRYPTO_AES_MAX_KEY_SIZE];
    uint8_t dek[SEAM_CRYPTO_AES_MAX_KEY_SIZE];
} scp03_keyset;

/* What INITIALIZE UPDATE needs to know of the security domain; all of it
 * belongs to the caller and is only read during the call. */
typedef struct {
    const scp03_keyset *keysets; /* n_keysets key sets; P1 = 00 picks the first */
    size_t n_keysets;
    const uint8_t *aid; /* AID of the SD invoking the channel, 5..16 bytes */
    size_t aid_len;
    uint8_t diversification[SCP03_DIVERSIFICATION_SIZE];
    uint8_t i; /* SCP03_I_* bits; SCP03_I_DEFAULT unless the SD says otherwise */
} scp03_sd;

/* The states of scp03.c's state machine. */
typedef enum {
    SCP03_NO_SESSION = 0,
    SCP03_INITIALIZED = 1,   /* INITIALIZE UPDATE answered, EXTERNAL AUTHENTICATE awaited */
    SCP03_AUTHENTICATED = 2, /* secure channel open at `level` */
} scp03_state;

/* One logical channel's secure channel session. Zero-initialise it (or call
 * scp03_end_session) before first use; the fields are the module's. */
typedef struct {
    scp03_state state;
    uint8_t i;     /* of the SD that answered INITIALIZE UPDATE */
    uint8_t kvn;   /* key set in use */
    uint8_t level; /* SCP03_LEVEL_* bits, valid in AUTHENTICATED */
    seam_crypto_scp03_session keys;
    uint8_t dek[SEAM_CRYPTO_AES_MAX_KEY_SIZE]; /* static Key-DEK of the key set, for PUT KEY */
    uint8_t chain[SEAM_CRYPTO_AES_BLOCK_SIZE]; /* MAC chaining value */
    uint32_t counter;      /* encryption counter of the last unwrapped command */
    bool response_pending; /* a command was unwrapped and its response is not yet wrapped */
} scp03_session;

/*
 * Answers INITIALIZE UPDATE (80 50 KVN 00 08 host-challenge [00]) from any
 * state: ends the current session first, then picks the key set (P1 = 00:
 * the first; else the one with that KVN, or 6A88), increments the sequence
 * counter `seq` (0..SCP03_SEQ_MAX; at the maximum: 6985) into *new_seq,
 * derives the session keys and writes the 29- or 32-byte response (gp_facts
 * §3.4) with 9000. The caller must persist *new_seq before sending the
 * response; *new_seq = seq when nothing was consumed (random challenges, or
 * a refusal). Other status words: 6700 (Lc not 8, extended APDU), 6A86 (P2
 * not 00), 6982 (CLA with secure messaging). On any status other than 9000
 * the session is NO_SESSION and out is unwritten (*out_len = 0).
 * SEAM_ERR_ARG also when a pseudo-random challenge lacks a 5..16-byte AID.
 */
seam_err scp03_initialize_update(scp03_session *session, const scp03_sd *sd, uint32_t seq,
                                 uint32_t *new_seq, const uint8_t *apdu, size_t apdu_len,
                                 uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw);

/* scp03_initialize_update for the parsed command cmd. */
seam_err scp03_initialize_update_parsed(scp03_session *session, const scp03_sd *sd, uint32_t seq,
                                        uint32_t *new_seq, const seam_apdu *cmd, uint8_t *out,
                                        size_t cap, size_t *out_len, uint16_t *sw);

/*
 * As scp03_initialize_update, but with the card challenge given (8 bytes)
 * instead of derived or drawn: for a card whose random challenges come from
 * elsewhere, and for replaying recorded sessions in tests. With
 * SCP03_I_PSEUDO_RANDOM in sd->i the counter is still incremented and sent.
 */
seam_err scp03_initialize_update_with_challenge(scp03_session *session, const scp03_sd *sd,
                                                uint32_t seq, uint32_t *new_seq,
                                                const uint8_t card_challenge[8],
                                                const uint8_t *apdu, size_t apdu_len, uint8_t *out,
                                                size_t cap, size_t *out_len, uint16_t *sw);

/*
 * Answers EXTERNAL AUTHENTICATE (84 82 level 00 10 host-cryptogram C-MAC):
 * in INITIALIZED, with a supported level, the right host cryptogram and
 * C-MAC (chaining value 16 x 00), opens the channel at that level and sets
 * *sw = 9000 (no response data: the caller answers the SW alone). Every
 * other outcome ends the session: 6985 (not INITIALIZED), 6700 (Lc not 16),
 * 6A86 (P2 not 00, or a level not in 00 01 03 11 13 33 or needing R-MAC /
 * R-ENC the SD's i lacks), 6982 (no secure messaging bit, or bad C-MAC),
 * 6300 (bad host cryptogram).
 */
seam_err scp03_external_authenticate(scp03_session *session, const uint8_t *apdu, size_t apdu_len,
                                     uint16_t *sw);

/* scp03_external_authenticate for the parsed command cmd. */
seam_err scp03_external_authenticate_parsed(scp03_session *session, const seam_apdu *cmd,
                                            uint16_t *sw);

/*
 * Card receiving any other command: writes the plain command APDU (CLA
 * without its secure messaging bits, INS P1 P2, Lc and data when there is
 * data, Le when there was one; extended when the command was, whose C-MAC
 * then covers Lc' as 00 hh ll) to out with *sw = 9000, meaning "process
 * out". Outside a session a command without secure messaging passes
 * unchanged. In AUTHENTICATED every command counts one on the encryption
 * counter, its C-MAC is checked over the chaining value (at levels with
 * C-MAC) and its data decrypted (at levels with C-DEC). Refusals, all with
 * nothing of the command left in out and the session ended: 6982 (secure messaging missing where
 * the level needs it, present where no session or level expects it, a bad
 * C-MAC, bad padding, or any command in INITIALIZED), 6700 (malformed
 * length, or Lc shorter than the C-MAC), 6882 (an ISO secure messaging
 * coding of CLA). cap >= apdu_len is always enough; out may be apdu but
 * must not overlap it otherwise.
 */
seam_err scp03_unwrap_command(scp03_session *session, const uint8_t *apdu, size_t apdu_len,
                              uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw);

/*
 * scp03_unwrap_command for the parsed command cmd, without writing bytes: on
 * 9000, *plain is the plain command (CLA without its secure messaging bits,
 * INS P1 P2, Ne and the form of cmd) whose data is in data[0..cap), or cmd's
 * own when it passed unchanged. cap >= cmd->nc is always enough
 * (SEAM_ERR_BUFFER_SMALL otherwise); data may be cmd->data (decrypted in
 * place), but must not overlap it otherwise. Refusals as above, *plain
 * unwritten and data[0..cmd->nc) wiped.
 */
seam_err scp03_unwrap(scp03_session *session, const seam_apdu *cmd, uint8_t *data, size_t cap,
                      seam_apdu *plain, uint16_t *sw);

/*
 * Card answering the command scp03_unwrap (or _command) last passed: writes the
 * response data to send before `sw`. At levels with R-MAC and for sw 9000,
 * 62xx or 63xx: data encrypted at R-ENC when there is any, then the 8-byte
 * R-MAC over the chaining value, the data sent and sw. Otherwise (no
 * session, no R-MAC, an error sw, or no unwrapped command pending) data is
 * copied unchanged. data may be NULL when data_len = 0; out must not
 * overlap data. cap >= data_len + 16 + 8 is always enough.
 */
seam_err scp03_wrap_response(scp03_session *session, const uint8_t *data, size_t data_len,
                             uint16_t sw, uint8_t *out, size_t cap, size_t *out_len);

/* Ends the session from any state (SELECT of another application, channel
 * close, reset, or any abort): wipes every key and counter, NO_SESSION. */
void scp03_end_session(scp03_session *session);

/* The session's state; NO_SESSION for a zeroed struct. */
scp03_state scp03_session_state(const scp03_session *session);

/* The security level (SCP03_LEVEL_* bits) in AUTHENTICATED; 0 otherwise.
 * Use scp03_session_state to tell level 00 from no channel. */
uint8_t scp03_security_level(const scp03_session *session);

#endif
