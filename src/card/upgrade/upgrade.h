/*
 * Package upgrades and the temporary useful space (upgrade.c;
 * docs/restore-module.md, docs/upgrade.md). Internal to the card layer.
 * The sessions are records of table UPGRADE_SESSION (layout in
 * store/schema.h).
 */
#ifndef SEAM_CARD_UPGRADE_H
#define SEAM_CARD_UPGRADE_H

#include <stdbool.h>

#include "card/card_int.h"
#include "card/store/registry.h"
#include "card/store/schema.h"

/* Session status bytes (tag 90 of MANAGE ELF UPGRADE's response). */
enum {
    UPGRADE_NONE = 0x00,
    UPGRADE_COMPLETED = 0x01,
    UPGRADE_WAITING_FOR_PACKAGE = 0x02,
    UPGRADE_WAITING_FOR_DOMAINS = 0x03,
};

/* MANAGE ELF UPGRADE (INS EA): start, migrate, abort, status, export (card_int.h's
   handler contract). */
seam_err gp_manage_elf_upgrade(seam_card *c, channel *ch, const card_command *cmd, reply *r);

/*
 * True in *reserved when aid is the old or the new package AID of an upgrade
 * session whose owner is not self (self NULL: of any session). While a session
 * lives, only its owner may load a package under those AIDs, and nobody may
 * use them for a security domain or an instance (P10, U5). Errors: nvm.
 */
seam_err upgrade_reserved(seam_card *c, const uint8_t *aid, size_t len, const registry_sd *self,
                          bool *reserved);

/* Completes every session whose old package is no longer needed (U6, U7, U9); run
   after a command that creates or deletes instances. Errors: nvm errors. */
seam_err upgrade_tidy_all(seam_card *c);

#endif
