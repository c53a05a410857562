/*
 * Applet instances outside a logical channel (instance.c): loading one from
 * its committed pages for a single operation (personalization, upgrade),
 * committing what it wrote, and replaying its restore-module record into it.
 * Internal to the card layer.
 */
#ifndef SEAM_CARD_INSTANCE_H
#define SEAM_CARD_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "card/card_int.h"
#include "card/store/package_store.h"
#include "card/store/restore_records.h"

/* An instance loaded for one operation; the struct must not move while loaded
   (the applet points at its restore binding). */
typedef struct {
    seam_card *card; /* the card its module reference belongs to (card_cache.h) */
    store_instance record;
    seam_wasm_module *module;
    seam_applet *applet;
    restore_binding restore;
} instance_loaded;

/* The module of inst's package, in the space inst names (module_get: *out is a shared
   reference, given back with module_release, never seam_wasm_module_free; the name
   changed from instance_module, whose caller freed it, so that old callers do not build).
   Errors: SEAM_ERR_NOT_FOUND, nvm and wasm errors. */
seam_err instance_module_ref(seam_card *c, const store_instance *inst, seam_wasm_module **out);

/*
 * True when e, from building or checking an applet (instance_module_ref,
 * instance_load, seam_applet_check), is a refusal of its package rather than a
 * storage failure: a module that does not decode, package metadata, an import
 * the runtime does not bind, a limit, a missing or mistyped export. Then *sw is
 * 6A80 and *e SEAM_OK, so that the command answers a status word and keeps its
 * secure channel; otherwise nothing changes.
 */
bool instance_refused(seam_err *e, uint16_t *sw);

/*
 * Makes applet *out of module from instance aid's committed memory (pages 64
 * KiB pages): its module's initial image with the stored chunks over it; the
 * applet keeps the initial image for its commits. Failures are reported to the
 * card's diagnostics. Errors: as seam_applet_restore, nvm errors.
 */
seam_err instance_restore(seam_card *c, const seam_wasm_module *module, const uint8_t *aid,
                          size_t aid_len, uint32_t pages, seam_applet **out);

/* Loads instance aid from its committed memory into *li with its restore record
   bound (previous_version 0). Errors: SEAM_ERR_NOT_FOUND, nvm, wasm, card errors. */
seam_err instance_load(seam_card *c, const uint8_t *aid, size_t len, instance_loaded *li);

/* Writes what changed in the pages applet dirtied (instance aid, committed size
   *committed_pages 64 KiB pages): the chunks that differ from the committed ones
   (store/memory_store.h); and, if its memory grew, its new size (*committed_pages
   updated); then forgets the dirty pages. Used for applets on channels and loaded
   ones alike. */
seam_err instance_commit_applet(seam_card *c, const uint8_t *aid, size_t aid_len,
                                seam_applet *applet, uint32_t *committed_pages);

/* Writes the pages li's applet dirtied and, if its memory grew, its size. */
seam_err instance_commit(seam_card *c, instance_loaded *li);

/* Frees what instance_load (or instance_create) made; a zeroed struct is fine. */
void instance_unload(instance_loaded *li);

/* Binds identity (li->record.sd, li->record.aid)'s record to li's applet. */
void instance_bind_restore(seam_card *c, instance_loaded *li, uint32_t previous_version);

/*
 * Replays the personalization blocks of li's record into its personalize entry
 * point (as STORE DATA 80 E2 P1 block-number, block i of n with P1 b8 set on the
 * last), committing nothing: *sw is 9000, or the first refusal (6F00 for a trap).
 * Errors: nvm and applet errors.
 */
seam_err instance_replay_perso(seam_card *c, instance_loaded *li, uint16_t *sw);

/*
 * Creates instance li->record (aid, package, applet class, sd, privileges,
 * lifecycle and space filled in by the caller) from its package: runs install
 * with params (its record bound, so install may file blocks; previous_version
 * as seam_upgrade_previous_version answers), creates the record if needed,
 * files the package's seam.perso blocks, and replays the record's blocks.
 * Nothing of the instance is stored yet (instance_store). *sw 9000 or the
 * refusal (6F00 for a trap, a start function's included; 6A80 an unusable
 * package or a malformed seam.perso section; 6A84 no room for the record or
 * its blocks in the SD's quota). On return
 * li holds what was made; instance_unload it in any case.
 */
seam_err instance_create(seam_card *c, instance_loaded *li, const uint8_t *params,
                         size_t params_len, uint32_t previous_version, uint16_t *sw);

/* Stores li's instance record and its whole memory image (the chunks that differ
   from its module's initial image, none inside the stack). Errors: nvm errors. */
seam_err instance_store(seam_card *c, instance_loaded *li);

/*
 * Stores, as chunks, the memory of every instance that an earlier version kept
 * in 4 KiB pages over zeros, and deletes those pages (inside a transaction; the
 * card runs it at power-up). An instance whose package no longer makes an
 * applet keeps its pages. *converted counts the instances converted. Errors:
 * nvm errors.
 */
seam_err instance_convert_paged_memory(seam_card *c, size_t *converted);

/* The package custom section with personalization blocks (P5 d). */
#define INSTANCE_PERSO_SECTION "seam.perso"

/*
 * Files the blocks of module's seam.perso section, if it has one, in li's
 * record in place of the ones there: *sw 9000, or 6A80 for a malformed
 * section (nothing changed). Errors: nvm errors.
 */
seam_err instance_file_package_perso(seam_card *c, instance_loaded *li,
                                     const seam_wasm_module *module, uint16_t *sw);

#endif
