/*
 * The card image's storage key (storage_key.c; docs/card.md "The storage
 * key"): 32 random bytes that seal every value of the image (nvm layer), kept
 * in a key file outside the image. Internal to the card layer.
 */
#ifndef SEAM_CARD_STORAGE_KEY_H
#define SEAM_CARD_STORAGE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/nvm.h"

/*
 * Draws a new storage key into key and writes it to <image>.key (mode 0600,
 * never over an existing file, synced with its folder); *key_path receives
 * that file's path (size bytes). Errors: SEAM_ERR_CARD_KEY_EXISTS, SEAM_ERR_ARG
 * (path too long), SEAM_ERR_IO, crypto errors; on error no key file is left and
 * key is wiped.
 */
seam_err storage_key_create(const char *image, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE],
                            char *key_path, size_t size);

/*
 * Reads the storage key of the image at image into key from the file
 * seam_card_key_file names. Errors: SEAM_ERR_NOT_FOUND (no image),
 * SEAM_ERR_CARD_KEY_FILE (the key file is missing, unreadable or does not hold
 * exactly 64 hex digits), SEAM_ERR_ARG, SEAM_ERR_IO; key is wiped on error.
 */
seam_err storage_key_load(const char *image, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE]);

#endif
