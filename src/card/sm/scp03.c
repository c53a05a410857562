/*
 * SCP03 secure channel, card side (GlobalPlatform Amendment D v1.1.1;
 * shared/spec/reference/gp_facts.md §3). Requirement X1. The cryptography is
 * the crypto layer's (seam/crypto.h); this file decides what is checked,
 * when, and what ends a session.
 *
 * STATES
 *
 *   NO_SESSION     No secure channel. Keys, chaining value and counter are
 *                  all zero. Commands with secure messaging are refused.
 *   INITIALIZED    INITIALIZE UPDATE was answered: session keys are derived
 *                  and EXTERNAL AUTHENTICATE is the only command accepted.
 *   AUTHENTICATED  The channel is open at a security level (EXTERNAL
 *                  AUTHENTICATE P1): 00, 01, 03, 11, 13 or 33.
 *
 * INVARIANTS
 *
 *   (1) In NO_SESSION every byte of the scp03_session is zero: whoever ends
 *       a session calls scp03_end_session, which wipes the whole struct.
 *   (2) The session keys exist only in INITIALIZED and AUTHENTICATED.
 *   (3) In AUTHENTICATED, `chain` is the full 16-byte CMAC of the last
 *       command whose C-MAC verified (EXTERNAL AUTHENTICATE's first), and
 *       `counter` is the number of commands unwrapped since EXTERNAL
 *       AUTHENTICATE: the first command after it uses counter 1.
 *   (4) `chain` and `counter` only move forward, and only when a command is
 *       accepted; a refused command ends the session, so a replayed or
 *       reordered command can never meet the chaining value it was MACed
 *       with.
 *   (5) Every refusal in INITIALIZED or AUTHENTICATED (any status word other
 *       than 9000 from the functions below, and any crypto-layer error) ends
 *       the session. SEAM_ERR_ARG and SEAM_ERR_BUFFER_SMALL change nothing.
 *   (6) `response_pending` is true only between an accepted
 *       scp03_unwrap_command in AUTHENTICATED and the scp03_wrap_response of
 *       its answer; only then is a response protected.
 *   (7) Secrets in temporaries (decrypted command data) are wiped on every
 *       path; MACs and cryptograms are compared in constant time by the
 *       crypto layer's verify functions.
 *
 * TRANSITIONS
 *
 *                   initialize_update 9000
 *     +------------+ ---------------------> +-------------+
 *     | NO_SESSION |                        | INITIALIZED |
 *     +------------+ <--------------------- +-------------+
 *       ^       ^     external_authenticate       |
 *       |       |     refused; unwrap_command     | external_authenticate 9000
 *       |       |     (any command: 6982)         v
 *       |       |                           +---------------+
 *       |       +-------------------------- | AUTHENTICATED |<--+ unwrap_command 9000,
 *       |         unwrap_command refused;   +---------------+---+ wrap_response
 *       |         external_authenticate (6985)
 *       |
 *       +--- end_session, from any state; initialize_update, from any state,
 *            as its first step (then on to INITIALIZED, or stays on refusal)
 *
 *   T1  any -> NO_SESSION            scp03_end_session: SELECT of another
 *                                    application, channel close, reset
 *   T2  any -> NO_SESSION            scp03_initialize_update, first step
 *   T3  NO_SESSION -> INITIALIZED    scp03_initialize_update (or
 *                                    scp03_initialize_update_with_challenge)
 *                                    answering 9000
 *   T4  INITIALIZED -> AUTHENTICATED scp03_external_authenticate answering 9000
 *   T5  INITIALIZED -> NO_SESSION    scp03_external_authenticate refused;
 *                                    scp03_unwrap_command (always 6982)
 *   T6  AUTHENTICATED -> itself      scp03_unwrap_command 9000 (chain and
 *                                    counter advance); scp03_wrap_response
 *   T7  AUTHENTICATED -> NO_SESSION  scp03_unwrap_command refused;
 *                                    scp03_external_authenticate (6985)
 *   T8  NO_SESSION -> itself         scp03_unwrap_command: clear commands
 *                                    pass, protected ones get 6982
 */
#include "card/sm/scp03.h"

#include <string.h>

#include "card/iso/apdu.h"
#include "card/iso/sw.h"
#include "seam/util.h"

#define S8                 SEAM_CRYPTO_SCP03_S8
#define SCP03_ID           0x03u /* key information byte 2 */
#define HOST_CRYPTOGRAM_LC (2u * S8)
#define SW_AUTH_FAILED     0x6300u /* host cryptogram verification failed */

/* How a class byte asks for secure messaging. */
typedef enum {
    SM_NONE,  /* clear command */
    SM_GP,    /* GP secure messaging: b3 (channels 0..3) or b6 (4..19) */
    SM_OTHER, /* an ISO 7816 coding GP does not use (CLA 08, 0C...) */
} sm_kind;

void scp03_end_session(scp03_session *session) {
    if (session != NULL) {
        seam_crypto_scp03_session_wipe(&session->keys);
        seam_secure_zero(session, sizeof *session);
    }
}

scp03_state scp03_session_state(const scp03_session *session) {
    return session != NULL ? session->state : SCP03_NO_SESSION;
}

uint8_t scp03_security_level(const scp03_session *session) {
    return scp03_session_state(session) == SCP03_AUTHENTICATED ? session->level : 0;
}

/* Classifies CLA's secure messaging; false for a reserved class byte (6E00). */
static bool class_sm(uint8_t cla, sm_kind *kind) {
    seam_apdu_class cls;
    bool ok = seam_apdu_class_decode(cla, &cls) == SEAM_OK;

    if (ok && cls.sm == SEAM_APDU_SM_NONE)
        *kind = SM_NONE;
    else if (ok && cls.channel < 4 && cls.sm == SEAM_APDU_SM_PROPRIETARY)
        *kind = SM_GP;
    else if (ok && cls.channel >= 4 && cls.sm == SEAM_APDU_SM_ISO)
        *kind = SM_GP;
    else
        *kind = SM_OTHER;
    return ok;
}

/* CLA' of the C-MAC: the logical channel bits cleared (gp_facts §3.6). */
static uint8_t mac_cla(uint8_t cla) {
    return (cla & 0x40u) ? (uint8_t)(cla & ~0x0Fu) : (uint8_t)(cla & ~0x03u);
}

/* CLA of the unwrapped command: the secure messaging bits cleared. */
static uint8_t plain_cla(uint8_t cla) {
    return (cla & 0x40u) ? (uint8_t)(cla & ~0x20u) : (uint8_t)(cla & ~0x0Cu);
}

/* True for the security levels of gp_facts §3.5. */
static bool level_known(uint8_t level) {
    return level == 0x00 || level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13 ||
           level == 0x33;
}

/* True when the SD's i parameter offers the response protection level needs. */
static bool level_offered(uint8_t level, uint8_t i) {
    bool rmac_ok = !(level & SCP03_LEVEL_R_MAC) || (i & SCP03_I_RMAC);
    bool renc_ok = !(level & SCP03_LEVEL_R_ENC) || (i & SCP03_I_RENC);
    return rmac_ok && renc_ok;
}

/* True for the status words whose responses get R-MAC and R-ENC (§3.7). */
static bool sw_protected(uint16_t sw) {
    return sw == SEAM_SW_SUCCESS || (sw & 0xFF00u) == 0x6200u || (sw & 0xFF00u) == 0x6300u;
}

/* Finds the key set INITIALIZE UPDATE's P1 names: 00 is the first. */
static const scp03_keyset *find_keyset(const scp03_sd *sd, uint8_t kvn) {
    const scp03_keyset *found = NULL;

    for (size_t k = 0; k < sd->n_keysets && found == NULL; k++)
        if (kvn == 0 || sd->keysets[k].kvn == kvn)
            found = &sd->keysets[k];
    return found;
}

/* The work of the INITIALIZE UPDATE entry points on command cmd (well_formed false:
 * APDU bytes that did not parse, 6700); given_challenge is NULL when the card
 * challenge is to be derived (pseudo-random) or drawn. */
static seam_err initialize_update(scp03_session *session, const scp03_sd *sd, uint32_t seq,
                                  uint32_t *new_seq, const uint8_t *given_challenge,
                                  const seam_apdu *cmd, bool well_formed, uint8_t *out, size_t cap,
                                  size_t *out_len, uint16_t *sw) {
    seam_err err = SEAM_OK;
    sm_kind sm = SM_NONE;
    const scp03_keyset *keyset = NULL;
    uint8_t challenge[S8], cryptogram[S8], seq_bytes[SEAM_CRYPTO_SCP03_SEQ_SIZE];
    bool pseudo_random = false;
    size_t needed = 0;
    uint32_t next = seq;

    if (session == NULL || sd == NULL || new_seq == NULL || cmd == NULL || out_len == NULL ||
        sw == NULL || (out == NULL && cap > 0) || (sd->keysets == NULL && sd->n_keysets > 0) ||
        seq > SCP03_SEQ_MAX) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    pseudo_random = (sd->i & SCP03_I_PSEUDO_RANDOM) != 0;
    needed = SCP03_DIVERSIFICATION_SIZE + 3 + 2 * S8 + (pseudo_random ? 3 : 0);
    if (pseudo_random && given_challenge == NULL &&
        (sd->aid == NULL || sd->aid_len < 5 || sd->aid_len > 16)) {
        err = SEAM_ERR_ARG; /* the challenge is derived from the AID */
    } else if (cap < needed) {
        *out_len = needed;
        err = SEAM_ERR_BUFFER_SMALL;
    }
    if (err != SEAM_OK)
        goto done;
    *out_len = 0;
    *new_seq = seq;
    scp03_end_session(session); /* any INITIALIZE UPDATE ends the current session */

    if (!well_formed || cmd->extended) {
        *sw = SEAM_SW_WRONG_LENGTH; /* short APDUs only (GP §1.1) */
    } else if (!class_sm(cmd->cla, &sm)) {
        *sw = SEAM_SW_CLA_NOT_SUPPORTED;
    } else if (sm != SM_NONE) {
        *sw = SEAM_SW_SECURITY_STATUS;
    } else if (cmd->p2 != 0x00) {
        *sw = SEAM_SW_WRONG_P1P2;
    } else if (cmd->nc != S8) {
        *sw = SEAM_SW_WRONG_LENGTH;
    } else if ((keyset = find_keyset(sd, cmd->p1)) == NULL) {
        *sw = SEAM_SW_DATA_NOT_FOUND;
    } else if (pseudo_random && seq == SCP03_SEQ_MAX) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else {
        *sw = SEAM_SW_SUCCESS;
    }
    if (*sw != SEAM_SW_SUCCESS)
        goto done;

    if (pseudo_random)
        next = seq + 1; /* incremented before use (gp_facts §3.4) */
    seq_bytes[0] = (uint8_t)(next >> 16);
    seq_bytes[1] = (uint8_t)(next >> 8);
    seq_bytes[2] = (uint8_t)next;
    if (given_challenge != NULL)
        memcpy(challenge, given_challenge, S8);
    else if (pseudo_random)
        err = seam_crypto_scp03_card_challenge(keyset->enc, keyset->key_len, seq_bytes, sd->aid,
                                               sd->aid_len, challenge, S8);
    else
        err = seam_crypto_random(challenge, S8);
    if (err == SEAM_OK)
        err = seam_crypto_scp03_derive_session(&session->keys, keyset->enc, keyset->mac,
                                               keyset->key_len, cmd->data, challenge, S8);
    if (err == SEAM_OK)
        err = seam_crypto_scp03_card_cryptogram(&session->keys, cryptogram);
    if (err != SEAM_OK) {
        *sw = SEAM_SW_UNKNOWN;
        goto done;
    }

    memcpy(out, sd->diversification, SCP03_DIVERSIFICATION_SIZE);
    out[10] = keyset->kvn;
    out[11] = SCP03_ID;
    out[12] = sd->i;
    memcpy(out + 13, challenge, S8);
    memcpy(out + 13 + S8, cryptogram, S8);
    if (pseudo_random)
        memcpy(out + 13 + 2 * S8, seq_bytes, sizeof seq_bytes);
    *out_len = needed;
    *new_seq = next;
    session->state = SCP03_INITIALIZED;
    session->i = sd->i;
    session->kvn = keyset->kvn;
    memcpy(session->dek, keyset->dek, keyset->key_len);

done:
    if (err != SEAM_ERR_ARG && err != SEAM_ERR_BUFFER_SMALL && *sw != SEAM_SW_SUCCESS)
        scp03_end_session(session);
    return err;
}

/* Parses apdu for the byte entry points: *well_formed false when it does not parse. */
static bool parse_bytes(const uint8_t *apdu, size_t apdu_len, seam_apdu *cmd, bool *well_formed) {
    memset(cmd, 0, sizeof *cmd);
    *well_formed = apdu != NULL && seam_apdu_parse(apdu, apdu_len, cmd) == SEAM_OK;
    return apdu != NULL;
}

seam_err scp03_initialize_update_parsed(scp03_session *session, const scp03_sd *sd, uint32_t seq,
                                        uint32_t *new_seq, const seam_apdu *cmd, uint8_t *out,
                                        size_t cap, size_t *out_len, uint16_t *sw) {
    return initialize_update(session, sd, seq, new_seq, NULL, cmd, true, out, cap, out_len, sw);
}

seam_err scp03_initialize_update(scp03_session *session, const scp03_sd *sd, uint32_t seq,
                                 uint32_t *new_seq, const uint8_t *apdu, size_t apdu_len,
                                 uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw) {
    seam_apdu cmd;
    bool well_formed = false;
    if (!parse_bytes(apdu, apdu_len, &cmd, &well_formed))
        return SEAM_ERR_ARG;
    return initialize_update(session, sd, seq, new_seq, NULL, &cmd, well_formed, out, cap, out_len,
                             sw);
}

seam_err scp03_initialize_update_with_challenge(scp03_session *session, const scp03_sd *sd,
                                                uint32_t seq, uint32_t *new_seq,
                                                const uint8_t card_challenge[8],
                                                const uint8_t *apdu, size_t apdu_len, uint8_t *out,
                                                size_t cap, size_t *out_len, uint16_t *sw) {
    seam_err err = SEAM_ERR_ARG;
    seam_apdu cmd;
    bool well_formed = false;

    if (card_challenge != NULL && parse_bytes(apdu, apdu_len, &cmd, &well_formed))
        err = initialize_update(session, sd, seq, new_seq, card_challenge, &cmd, well_formed, out,
                                cap, out_len, sw);
    return err;
}

/* The work of both EXTERNAL AUTHENTICATE entry points (well_formed as for
 * initialize_update). */
static seam_err external_authenticate(scp03_session *session, const seam_apdu *cmd,
                                      bool well_formed, uint16_t *sw) {
    seam_err err = SEAM_OK;
    sm_kind sm = SM_NONE;
    uint8_t header[5];

    if (session == NULL || cmd == NULL || sw == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (session->state != SCP03_INITIALIZED) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else if (!well_formed || cmd->extended) {
        *sw = SEAM_SW_WRONG_LENGTH;
    } else if (!class_sm(cmd->cla, &sm)) {
        *sw = SEAM_SW_CLA_NOT_SUPPORTED;
    } else if (sm != SM_GP) {
        *sw = SEAM_SW_SECURITY_STATUS; /* the C-MAC is mandatory */
    } else if (cmd->nc != HOST_CRYPTOGRAM_LC) {
        *sw = SEAM_SW_WRONG_LENGTH;
    } else if (cmd->p2 != 0x00 || !level_known(cmd->p1) || !level_offered(cmd->p1, session->i)) {
        *sw = SEAM_SW_WRONG_P1P2;
    } else if (seam_crypto_scp03_verify_host_cryptogram(&session->keys, cmd->data, S8) != SEAM_OK) {
        *sw = SW_AUTH_FAILED;
    } else {
        header[0] = mac_cla(cmd->cla);
        header[1] = cmd->ins;
        header[2] = cmd->p1;
        header[3] = cmd->p2;
        header[4] = (uint8_t)cmd->nc;
        memset(session->chain, 0, sizeof session->chain);
        if (seam_crypto_scp03_verify_command_mac(&session->keys, session->chain, header,
                                                 sizeof header, cmd->data, S8, cmd->data + S8,
                                                 S8) != SEAM_OK) {
            *sw = SEAM_SW_SECURITY_STATUS;
        } else {
            *sw = SEAM_SW_SUCCESS;
            session->state = SCP03_AUTHENTICATED;
            session->level = cmd->p1;
            session->counter = 0;
            session->response_pending = false;
        }
    }

done:
    if (err == SEAM_OK && *sw != SEAM_SW_SUCCESS)
        scp03_end_session(session);
    return err;
}

seam_err scp03_external_authenticate_parsed(scp03_session *session, const seam_apdu *cmd,
                                            uint16_t *sw) {
    return external_authenticate(session, cmd, true, sw);
}

seam_err scp03_external_authenticate(scp03_session *session, const uint8_t *apdu, size_t apdu_len,
                                     uint16_t *sw) {
    seam_apdu cmd;
    bool well_formed = false;
    if (!parse_bytes(apdu, apdu_len, &cmd, &well_formed))
        return SEAM_ERR_ARG;
    return external_authenticate(session, &cmd, well_formed, sw);
}

/* Checks the C-MAC of a protected command in AUTHENTICATED and recovers its
 * plain data into plain[0..nc - 8) (*plain_len; plain may be cmd->data). The
 * MAC covers Lc' as the command codes it: one byte, or 00 hh ll for an
 * extended command (a GP chain reassembled by the card, gp_facts §1.1).
 * *sw is 9000 or the refusal. */
static seam_err unprotect(scp03_session *session, const seam_apdu *cmd, uint8_t *plain,
                          size_t *plain_len, uint16_t *sw) {
    seam_err err = SEAM_OK;
    uint8_t header[7] = {mac_cla(cmd->cla), cmd->ins, cmd->p1, cmd->p2, (uint8_t)cmd->nc, 0, 0};
    size_t header_len = 5, data_len = cmd->nc - S8;

    if (cmd->extended) {
        header[4] = 0x00;
        header[5] = (uint8_t)(cmd->nc >> 8);
        header[6] = (uint8_t)cmd->nc;
        header_len = 7;
    }
    if (seam_crypto_scp03_verify_command_mac(&session->keys, session->chain, header, header_len,
                                             cmd->data, data_len, cmd->data + data_len,
                                             S8) != SEAM_OK) {
        *sw = SEAM_SW_SECURITY_STATUS;
        goto done;
    }
    if (!(session->level & SCP03_LEVEL_C_DEC) || data_len == 0) {
        if (data_len > 0)
            memmove(plain, cmd->data, data_len);
        *plain_len = data_len;
        *sw = SEAM_SW_SUCCESS;
        goto done;
    }
    err = seam_crypto_scp03_decrypt_command(&session->keys, session->counter, cmd->data, data_len,
                                            plain, plain_len);
    if (err == SEAM_ERR_CRYPTO_PADDING) {
        err = SEAM_OK; /* a partial block or bad padding under a good MAC */
        *sw = SEAM_SW_SECURITY_STATUS;
    } else {
        *sw = err == SEAM_OK ? SEAM_SW_SUCCESS : SEAM_SW_UNKNOWN;
    }

done:
    return err;
}

/* Writes the plain command's header, Lc and Le around its data, which is
 * already at out[hdr..hdr + plain_len) with hdr 5 (short) or 7 (extended):
 * the plain command keeps the form (short or extended) of the protected one. */
static size_t plain_frame(const seam_apdu *cmd, uint8_t *out, size_t plain_len) {
    size_t n = SEAM_APDU_HEADER_LEN;
    out[0] = plain_cla(cmd->cla);
    out[1] = cmd->ins;
    out[2] = cmd->p1;
    out[3] = cmd->p2;
    if (cmd->extended && (plain_len > 0 || cmd->ne > 0))
        out[n++] = 0x00;
    if (plain_len > 0 && cmd->extended) {
        out[n++] = (uint8_t)(plain_len >> 8);
        out[n++] = (uint8_t)plain_len;
    } else if (plain_len > 0) {
        out[n++] = (uint8_t)plain_len;
    }
    n += plain_len;
    if (cmd->ne > 0 && cmd->extended) {
        out[n++] = (uint8_t)(cmd->ne == SEAM_APDU_MAX_NE ? 0 : cmd->ne >> 8);
        out[n++] = (uint8_t)(cmd->ne == SEAM_APDU_MAX_NE ? 0 : cmd->ne);
    } else if (cmd->ne > 0) {
        out[n++] = (uint8_t)(cmd->ne == SEAM_APDU_MAX_SHORT_NE ? 0 : cmd->ne);
    }
    return n;
}

/* The case (1..4) of a command with nc data bytes and ne expected. */
static uint8_t apdu_case(size_t nc, size_t ne) {
    return (uint8_t)(nc ? (ne ? 4 : 3) : (ne ? 2 : 1));
}

/* The work of both unwrap entry points (well_formed as for initialize_update): the
 * plain data goes to data[0..cap), *plain describes the plain command. */
static seam_err unwrap(scp03_session *session, const seam_apdu *cmd, bool well_formed,
                       uint8_t *data, size_t cap, seam_apdu *plain, uint16_t *sw) {
    seam_err err = SEAM_OK;
    sm_kind sm = SM_NONE;
    size_t plain_len = 0;
    bool pass_through = false, protected_data = false;

    if (session == NULL || cmd == NULL || data == NULL || plain == NULL || sw == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (well_formed && cap < cmd->nc) {
        err = SEAM_ERR_BUFFER_SMALL;
        goto done;
    }
    *sw = SEAM_SW_SECURITY_STATUS;
    if (!well_formed) {
        *sw = SEAM_SW_WRONG_LENGTH;
    } else if (!class_sm(cmd->cla, &sm)) {
        *sw = SEAM_SW_CLA_NOT_SUPPORTED;
    } else if (sm == SM_OTHER) {
        *sw = SEAM_SW_SM_NOT_SUPPORTED;
    } else if (session->state == SCP03_NO_SESSION) {
        pass_through = sm == SM_NONE; /* else 6982: no channel to check it against */
    } else if (session->state == SCP03_INITIALIZED) {
        /* 6982: only EXTERNAL AUTHENTICATE may follow INITIALIZE UPDATE */
    } else if (session->counter == UINT32_MAX) {
        /* 6982: the encryption counter cannot count this command */
    } else if (!(session->level & SCP03_LEVEL_C_MAC)) {
        session->counter++;
        pass_through = sm == SM_NONE; /* level 00: secure messaging is not expected */
        session->response_pending = pass_through;
    } else if (sm != SM_GP) {
        /* 6982: the level requires a C-MAC */
    } else if (cmd->nc < S8) {
        *sw = SEAM_SW_WRONG_LENGTH;
    } else {
        session->counter++; /* every command counts, with or without data (§3.6) */
        protected_data = true;
        err = unprotect(session, cmd, data, &plain_len, sw);
        session->response_pending = err == SEAM_OK && *sw == SEAM_SW_SUCCESS;
    }
    if (pass_through) {
        *plain = *cmd;
        *sw = SEAM_SW_SUCCESS;
        goto done;
    }
    if (err != SEAM_OK || *sw != SEAM_SW_SUCCESS)
        goto done;
    *plain = *cmd;
    plain->cla = plain_cla(cmd->cla);
    plain->data = plain_len ? data : NULL;
    plain->nc = plain_len;
    plain->apdu_case = apdu_case(plain_len, cmd->ne);

done:
    if (err != SEAM_ERR_ARG && err != SEAM_ERR_BUFFER_SMALL &&
        (err != SEAM_OK || *sw != SEAM_SW_SUCCESS)) {
        if (protected_data && data != cmd->data)
            seam_secure_zero(data, cmd->nc); /* no decrypted bytes stay behind */
        scp03_end_session(session);
    }
    return err;
}

seam_err scp03_unwrap(scp03_session *session, const seam_apdu *cmd, uint8_t *data, size_t cap,
                      seam_apdu *plain, uint16_t *sw) {
    return unwrap(session, cmd, true, data, cap, plain, sw);
}

seam_err scp03_unwrap_command(scp03_session *session, const uint8_t *apdu, size_t apdu_len,
                              uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw) {
    seam_err err = SEAM_OK;
    seam_apdu cmd, plain;
    bool well_formed = false;
    size_t body = 0;

    if (session == NULL || apdu == NULL || out == NULL || out_len == NULL || sw == NULL)
        return SEAM_ERR_ARG;
    if (cap < apdu_len) {
        *out_len = apdu_len;
        return SEAM_ERR_BUFFER_SMALL;
    }
    *out_len = 0;
    (void)parse_bytes(apdu, apdu_len, &cmd, &well_formed);
    /* the plain data goes where the plain command's data begins */
    body = cmd.extended ? SEAM_APDU_HEADER_LEN + 3 : SEAM_APDU_HEADER_LEN + 1;
    if (!well_formed || cmd.nc == 0)
        body = 0; /* nothing is written there */
    err = unwrap(session, &cmd, well_formed, out + body, cap - body, &plain, sw);
    if (err != SEAM_OK || *sw != SEAM_SW_SUCCESS)
        return err;
    if (plain.nc > 0 && plain.data != out + body)
        memmove(out + body, plain.data, plain.nc); /* a clear command passes unchanged */
    *out_len = plain_frame(&cmd, out, plain.nc);
    return err;
}

seam_err scp03_wrap_response(scp03_session *session, const uint8_t *data, size_t data_len,
                             uint16_t sw, uint8_t *out, size_t cap, size_t *out_len) {
    seam_err err = SEAM_OK;
    bool protect = false, encrypt = false;
    size_t needed = data_len, body_len = data_len;

    if (session == NULL || out_len == NULL || (data == NULL && data_len > 0) ||
        (out == NULL && cap > 0)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    protect = session->state == SCP03_AUTHENTICATED && session->response_pending &&
              (session->level & SCP03_LEVEL_R_MAC) && sw_protected(sw);
    encrypt = protect && (session->level & SCP03_LEVEL_R_ENC) && data_len > 0;
    if (encrypt)
        body_len = seam_crypto_iso9797_padded_len(data_len);
    if (protect)
        needed = body_len + S8;
    if (cap < needed) {
        *out_len = needed;
        err = SEAM_ERR_BUFFER_SMALL;
        goto done;
    }
    session->response_pending = false;
    if (encrypt)
        err = seam_crypto_scp03_encrypt_response(&session->keys, session->counter, data, data_len,
                                                 out, cap, &body_len);
    else if (data_len > 0)
        memcpy(out, data, data_len);
    if (err == SEAM_OK && protect)
        err = seam_crypto_scp03_response_mac(&session->keys, session->chain, out, body_len, sw,
                                             out + body_len);
    if (err != SEAM_OK) {
        seam_secure_zero(out, needed);
        scp03_end_session(session);
        goto done;
    }
    *out_len = needed;

done:
    return err;
}
