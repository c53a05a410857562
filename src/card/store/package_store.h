/*
 * Card content records (packages, applet instances); internal to the card
 * layer. Tables and record layouts are in schema.h; an instance's committed
 * memory is kept by memory_store.h.
 */
#ifndef SEAM_CARD_PACKAGE_STORE_H
#define SEAM_CARD_PACKAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "schema.h"

/* Application lifecycle bytes (GP 2.3.1 table 11-4). */
enum {
    INSTANCE_INSTALLED = 0x03,
    INSTANCE_SELECTABLE = 0x07,
    INSTANCE_PERSONALIZED = 0x0F, /* application-specific (0xxxx111): selectable, personalized */
};

typedef struct {
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint16_t version;
    uint8_t applet_count;
    uint8_t applets[16][REGISTRY_AID_MAX];
    uint8_t applet_lens[16];
    uint8_t sd[REGISTRY_AID_MAX]; /* the security domain it is associated with */
    uint8_t sd_len;
    uint8_t space; /* SPACE_USEFUL or SPACE_TEMPORARY */
} store_package;

typedef struct {
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t lifecycle;
    uint8_t pages; /* linear memory size in 64 KiB pages */
    uint8_t package[REGISTRY_AID_MAX];
    uint8_t package_len;
    uint8_t applet[REGISTRY_AID_MAX];
    uint8_t applet_len;
    uint8_t sd[REGISTRY_AID_MAX];
    uint8_t sd_len;
    uint8_t privileges[3];
    uint8_t space; /* the space its package is in: SPACE_USEFUL or SPACE_TEMPORARY */
} store_instance;

/* Reads a package record. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err store_package_get(seam_nvm *nvm, const uint8_t *aid, size_t len, store_package *out);
/* Writes a package record and its module bytes (inside a transaction). */
seam_err store_package_put(seam_nvm *nvm, const store_package *p, const uint8_t *module,
                           size_t module_len);
/* store_package_get, store_module_get and store_package_delete work on the useful
   space; these three on either (SPACE_USEFUL or SPACE_TEMPORARY). */
/* Reads a package record of space. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm. */
seam_err store_package_get_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len,
                              store_package *out);
/* Reads the module bytes of a package of space into a malloc'd *out (the caller's). */
seam_err store_module_get_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len,
                             uint8_t **out, size_t *out_len);
/* Deletes a package of space and its module (inside a transaction). Errors: nvm errors. */
seam_err store_package_delete_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len);
/* Moves a package and its module from space `from` to space `to` (inside a
   transaction). Errors: SEAM_ERR_NOT_FOUND, nvm errors. */
seam_err store_package_move(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t from,
                            uint8_t to);
/* Rewrites a package record without touching its module (inside a transaction).
   Errors: SEAM_ERR_ARG (no owner SD, too many applets), nvm errors. */
seam_err store_package_update(seam_nvm *nvm, const store_package *p);
/* Reads a package's module bytes into a malloc'd buffer (*out, the caller's). */
seam_err store_module_get(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t **out,
                          size_t *out_len);
/* Deletes a package and its module (inside a transaction). */
seam_err store_package_delete(seam_nvm *nvm, const uint8_t *aid, size_t len);

/* Reads an instance record. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err store_instance_get(seam_nvm *nvm, const uint8_t *aid, size_t len, store_instance *out);
/* Writes an instance record (inside a transaction). */
seam_err store_instance_put(seam_nvm *nvm, const store_instance *inst);
/* Deletes an instance record and its memory (inside a transaction). */
seam_err store_instance_delete(seam_nvm *nvm, const uint8_t *aid, size_t len);
/* Counts the instances of a package of the useful space and, in *first, names one of
   them (may be NULL). */
seam_err store_package_instances(seam_nvm *nvm, const uint8_t *package, size_t len, size_t *count,
                                 store_instance *first);
/* Calls visit(ctx, inst) for every instance record in AID order, through a cursor
   (so visit may write to the nvm); a non-OK result from visit stops the walk and is
   returned. Errors: SEAM_ERR_NVM_CORRUPT, nvm errors, what visit returned. */
seam_err store_instances_each(seam_nvm *nvm, seam_err (*visit)(void *ctx, store_instance *inst),
                              void *ctx);
/* True when a STORE_INSTANCE value says the instance is SELECTABLE or PERSONALIZED. */
bool store_instance_value_selectable(const uint8_t *value, size_t len);
/* True when lifecycle is SELECTABLE or PERSONALIZED (not INSTALLED, not LOCKED). */
bool store_instance_selectable(uint8_t lifecycle);

#endif
