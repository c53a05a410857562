/*
 * The GlobalPlatform commands of the selected security domain, one file per
 * group: the SD's data and secure channel (gp_sd.c), keys and lifecycle
 * (gp_keys.c), card content (gp_content.c with gp_install_roles.c and gp_delete.c),
 * personalization (gp_perso.c). Handlers as card_int.h defines them; internal to the
 * card layer.
 */
#ifndef SEAM_CARD_GP_GP_H
#define SEAM_CARD_GP_GP_H

#include <stdbool.h>

#include "card/card_int.h"

/* PUT KEY (D8): adds or replaces an AES key set, or the ISD's token key (KVN 70). */
seam_err gp_put_key(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* SET STATUS (F0): the card's lifecycle (P1 80), an SSD's or an instance's lock (40). */
seam_err gp_set_status(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* GET STATUS (F2): the ISD, SSDs and instances, or ELFs, in parts (6310, P2.b1). */
seam_err gp_get_status(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* LOAD (E8): one block of the load INSTALL [for load] (or 0E 01) began; the last checks
   it and stores it (or, in the combined sequence, holds it for INSTALL 0E 03). */
seam_err gp_load(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* INSTALL (E6): for load, install (and make selectable), the combined [for load, install
   and make selectable] (0E: P2 01, then P2 03), extradition, personalization, registry
   update. */
seam_err gp_install(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* DELETE (E4): an instance, a package (with its instances), an SSD, a restore record. */
seam_err gp_delete(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* STORE DATA (E2): a block for the personalization target, or the SD's own data. */
seam_err gp_store_data(seam_card *c, channel *ch, const card_command *cmd, reply *r);

/* GET DATA (CA, CB) of the selected SD (the ISD in TERMINATED): a GP class gets the whole
   TLV, an ISO class the value; 6A88 for an unknown object. */
seam_err gp_get_data(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* INITIALIZE UPDATE (50) on the SD selected on ch: begins its session, the sequence counter
   persisted in the command's transaction. */
seam_err gp_initialize_update(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* EXTERNAL AUTHENTICATE (82): opens the session INITIALIZE UPDATE began on ch. */
seam_err gp_external_authenticate(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* A LOAD refused before its handler (no authenticated session, a CARD_LOCKED card): ends
   the load in progress, as any refused LOAD block does. */
void gp_load_refused(seam_card *c, const seam_apdu *a);
/* An INSTALL refused before its handler: a final INSTALL 0E 03 ends the load in progress,
   as any refused final INSTALL does. */
void gp_install_refused(seam_card *c, const seam_apdu *a);

#endif
