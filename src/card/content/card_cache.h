/*
 * The card's RAM caches (card_cache.c; the state is card_caches in the hub):
 * the card record, which every command's dispatch reads, and the translated
 * modules of packages, shared by every applet made from the same package on
 * any channel, and by the instances a command loads (upgrade, STORE DATA).
 * What the running command writes leaves the caches when it is written, and
 * nothing enters them once the command has changed it, so whatever it held
 * is committed state (docs/card.md, "RAM caches"). Internal to the card layer.
 */
#ifndef SEAM_CARD_CONTENT_CARD_CACHE_H
#define SEAM_CARD_CONTENT_CARD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"
#include "card/store/package_store.h"

/* Reads the card record: from RAM when it was read before and nothing wrote it
   since. Errors: as registry_card_get. */
seam_err card_record_get(seam_card *c, registry_card *out);

/* Writes the card record in the running command's transaction (registry_card_put);
   the copy in RAM goes. Errors: as registry_card_put. */
seam_err card_record_put(seam_card *c, const registry_card *card);

/*
 * A reference to the module of package aid in space (SPACE_USEFUL or
 * SPACE_TEMPORARY), decoded, validated and translated once: from the cache,
 * or built from the stored bytes and kept when there is room. Release it with
 * module_release when the applet made from it is freed. Errors:
 * SEAM_ERR_NOT_FOUND, nvm and wasm errors (a module that does not decode).
 */
seam_err module_get(seam_card *c, uint8_t space, const uint8_t *aid, size_t len,
                    seam_wasm_module **out);

/* Gives back a reference from module_get (NULL is allowed); the module is freed
   when it is not kept, or kept but stale, and nothing uses it any more. */
void module_release(seam_card *c, seam_wasm_module *module);

/* The running command deletes, moves or replaces package aid of space: its module
   is never handed out again (those in use live on until released), and no module
   enters the cache before the command ends. Call it before the write. */
void module_forget(seam_card *c, uint8_t space, const uint8_t *aid, size_t len);

/*
 * Keeps applet, of instance aid with committed memory size pages, taken off its
 * channel by a command that committed, for the next SELECT of that instance;
 * takes it and its module reference (freed at once when the caches are off, or
 * when its memory is not as committed). The least recently kept goes first.
 */
void applet_park(seam_card *c, const uint8_t *aid, size_t aid_len, uint32_t pages,
                 seam_wasm_module *module, seam_applet *applet);

/*
 * The applet kept for instance inst, made as seam_applet_restore would make it
 * from its committed image (seam_applet_renew), with its module reference in
 * *module; NULL when none is kept, or the one kept no longer stands for inst
 * (another memory size, a module that is not its package's current one).
 */
seam_applet *applet_unpark(seam_card *c, const store_instance *inst, seam_wasm_module **module);

/* Frees every kept applet: a command may change what they stand for. */
void applets_parked_drop(seam_card *c);

/* A command (or the power-on clean-up) begins: when the image was written since the
   card's last transaction ended, through seam_card_nvm and not by a command, all that
   is kept goes. */
void card_cache_command_begin(seam_card *c);

/* The running command's transaction ended; rolled_back: nothing of it stays. */
void card_cache_command_end(seam_card *c, bool rolled_back);

/* Drops everything kept that nothing uses (seam_card_set_cache(false), close). */
void card_cache_flush(seam_card *c);

#endif
