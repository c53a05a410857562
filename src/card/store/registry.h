/*
 * The card's registry as nvm records (internal to the card layer): the card
 * record, security domains, their key sets and token verification keys.
 * Tables and record layouts are in schema.h.
 */
#ifndef SEAM_CARD_REGISTRY_H
#define SEAM_CARD_REGISTRY_H

#include <stdint.h>

#include "card/sm/scp03.h"
#include "schema.h"
#include "seam/nvm.h"

#define REGISTRY_TOKEN_KVN 0x70u /* the KVN of the token verification key */

#define REGISTRY_KEYSETS_MAX 8u

/* Privilege bits (gp_facts §1.8): PRIVn_ is a bit of privileges byte n. */
enum {
    PRIV1_SECURITY_DOMAIN = 0x80,
    PRIV1_DELEGATED_MANAGEMENT = 0x20, /* with PRIV1_SECURITY_DOMAIN */
    PRIV1_CARD_LOCK = 0x10,
    PRIV1_CARD_TERMINATE = 0x08,
    PRIV1_CARD_RESET = 0x04,
    PRIV2_TRUSTED_PATH = 0x80,
    PRIV2_AUTHORIZED_MANAGEMENT = 0x40,
    PRIV2_TOKEN_VERIFICATION = 0x20,
    PRIV2_GLOBAL_DELETE = 0x10,
    PRIV2_GLOBAL_LOCK = 0x08,
    PRIV2_GLOBAL_REGISTRY = 0x04,
    PRIV2_FINAL_APPLICATION = 0x02,
    PRIV3_RECEIPT_GENERATION = 0x80,
};

/* Security domain lifecycle bytes (gp_facts §1.7); b8 set = LOCKED. */
enum {
    SD_INSTALLED = 0x03,
    SD_SELECTABLE = 0x07,
    SD_PERSONALIZED = 0x0F,
    SD_LOCKED_BIT = 0x80,
};

/* Card lifecycle bytes (GP 2.3.1 table 11-15 / gp_facts 1.7). */
enum {
    CARD_OP_READY = 0x01,
    CARD_INITIALIZED = 0x07,
    CARD_SECURED = 0x0F,
    CARD_LOCKED = 0x7F,
    CARD_TERMINATED = 0xFF,
};

typedef struct {
    uint8_t lifecycle;
    uint8_t iin[REGISTRY_ID_MAX];
    uint8_t iin_len;
    uint8_t cin[REGISTRY_ID_MAX];
    uint8_t cin_len;
    uint8_t profile; /* seam_card_profile, set at creation; every put keeps what get read */
} registry_card;

typedef struct {
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t lifecycle;
    uint8_t privileges[3];
    uint32_t sequence_counter; /* 0..0xFFFFFF */
    uint8_t scp_i;
    uint8_t diversification[SCP03_DIVERSIFICATION_SIZE];
    uint8_t parent[REGISTRY_AID_MAX]; /* the associated SD; parent_len 0 for the ISD */
    uint8_t parent_len;
} registry_sd;

/* Reads the card record. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err registry_card_get(seam_nvm *nvm, registry_card *out);
/* Writes the card record (inside a transaction). Errors: nvm errors. */
seam_err registry_card_put(seam_nvm *nvm, const registry_card *card);

/* Reads the SD with this AID. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err registry_sd_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, registry_sd *out);
/* Writes an SD record (inside a transaction). Errors: SEAM_ERR_ARG, nvm errors. */
seam_err registry_sd_put(seam_nvm *nvm, const registry_sd *sd);

/*
 * Reads the SD's key sets in KVN order into sets[0..max) and sets *count.
 * The caller wipes them after use. Errors: SEAM_ERR_NVM_CORRUPT, nvm errors.
 */
seam_err registry_keysets_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, scp03_keyset *sets,
                              size_t max, size_t *count);
/* Deletes an SD's record, its key sets and its token key (inside a transaction). Errors: nvm. */
seam_err registry_sd_delete(seam_nvm *nvm, const uint8_t *aid, size_t aid_len);

/* Writes (adds or replaces) one key set of an SD (inside a transaction). */
seam_err registry_keyset_put(seam_nvm *nvm, const uint8_t *aid, size_t aid_len,
                             const scp03_keyset *set);

/* Reads SD aid's token verification public key (65 bytes, 04 || X || Y) of KVN kvn.
   Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err registry_token_key_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, uint8_t kvn,
                                uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE]);

/* Writes (adds or replaces) SD aid's token verification public key of KVN kvn (inside a
   transaction; the caller checked the point). Errors: SEAM_ERR_ARG, nvm errors. */
seam_err registry_token_key_put(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, uint8_t kvn,
                                const uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE]);

#endif
