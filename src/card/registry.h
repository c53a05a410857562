/*
 * The card's registry as nvm records (internal to the card layer).
 *
 * Tables (the nvm's table numbers) and record layouts. Every value starts
 * with a format byte so that a later version can read what an earlier one
 * wrote; a record with an unknown format is SEAM_ERR_NVM_CORRUPT.
 *
 *   table            key                  value
 *   ---------------  -------------------  ------------------------------------
 *   REGISTRY_CARD    "card"               format 1, card lifecycle, IIN (LV),
 *                                         CIN (LV)
 *   REGISTRY_SD      SD AID               format 1, lifecycle, privileges (3),
 *                                         sequence counter (3), SCP i,
 *                                         key diversification data (10)
 *   REGISTRY_KEYSET  SD AID || KVN        format 1, key length, ENC, MAC, DEK
 *
 * Later issues add packages, instances, memory pages and restore-module
 * records as further tables.
 */
#ifndef SEAM_CARD_REGISTRY_H
#define SEAM_CARD_REGISTRY_H

#include <stdint.h>

#include "scp03.h"
#include "seam/nvm.h"

enum {
    REGISTRY_CARD = 1,
    REGISTRY_SD = 2,
    REGISTRY_KEYSET = 3,
};

#define REGISTRY_AID_MAX     16u
#define REGISTRY_ID_MAX      16u /* IIN and CIN */
#define REGISTRY_KEYSETS_MAX 8u

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
} registry_card;

typedef struct {
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t lifecycle;
    uint8_t privileges[3];
    uint32_t sequence_counter; /* 0..0xFFFFFF */
    uint8_t scp_i;
    uint8_t diversification[SCP03_DIVERSIFICATION_SIZE];
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
/* Writes (adds or replaces) one key set of an SD (inside a transaction). */
seam_err registry_keyset_put(seam_nvm *nvm, const uint8_t *aid, size_t aid_len,
                             const scp03_keyset *set);

#endif
