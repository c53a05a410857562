/*
 * seam fleet, inside the CLI: the fleet folder's cards (fleet_cards.c) and
 * their registration on the server through the admin API (fleet_register.c).
 */
#ifndef SEAM_CLI_FLEET_H
#define SEAM_CLI_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/nvm.h"
#include "seam/terminal.h"

#define FLEET_MANIFEST "fleet.cins" /* line i: the CIN of card i, upper-case hex */
#define FLEET_KEY      "fleet.key"  /* the one storage key of every image of the fleet */

/* Writes DIR/card-NNNNN.db (card index) into out. */
void fleet_image_path(const char *dir, size_t index, char *out, size_t size);

/* Reads the storage key file at path into key, or creates it (64 hex digits, mode 0600,
   synced) with a fresh key when it does not exist (*created true). Errors:
   SEAM_ERR_CARD_KEY_FILE (unreadable or malformed), SEAM_ERR_IO, crypto errors. */
seam_err fleet_key_ready(const char *path, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE], bool *created);

/* Reads up to max CINs from DIR's manifest into cins; returns how many (0 without one). */
size_t fleet_manifest_read(const char *dir, char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t max);

/* Creates cards from..to-1 in dir sealed under key with a pool of threads, fills their
   CINs into cins[from..to) and appends them to the manifest. Errors: the card's and
   nvm's, SEAM_ERR_IO, SEAM_ERR_NOMEM. */
seam_err fleet_cards_create(const char *dir, const uint8_t *key,
                            char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t from, size_t to,
                            unsigned threads);

/* Registers cards cins[0..n) on the server whose URL is server (its origin is used) with
   the admin API's bearer token: PUT /api/cards/{cin} with IIN 9999 and the ISD key set 30
   (the test keys every new card has), from a pool of threads; a card already there (409)
   counts as registered. perso ("AID:HEX", or NULL) also puts that personalization data
   for application AID on every card (PUT /api/cards/{cin}/personalization/{aid}). *registered gets
   how many are. Errors: SEAM_ERR_ARG (bad URL), SEAM_ERR_TERMINAL_REFUSED (some PUT failed: the
   message says which), SEAM_ERR_TERMINAL_UNREACHABLE, SEAM_ERR_NOMEM. */
seam_err fleet_register(const char *server, const char *token,
                        const char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t n, unsigned threads,
                        const char *perso, size_t *registered);

#endif
