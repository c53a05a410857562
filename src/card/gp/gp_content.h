/*
 * What the files of card content management share: gp_content.c (INSTALL
 * [for load], LOAD, [for install], the combined sequence, and gp_install
 * itself), gp_install_roles.c (the other INSTALL roles) and gp_delete.c
 * (DELETE). Internal to the card's gp/ folder.
 */
#ifndef SEAM_CARD_GP_CONTENT_H
#define SEAM_CARD_GP_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* Reads an LV with a BER length (1..3 bytes) at d[*pos..n); false when malformed. */
bool gp_take_lv(const uint8_t *d, size_t n, size_t *pos, const uint8_t **v, size_t *len);
/* True for an AID length of 5..16 bytes, or 0 when may_be_empty. */
bool gp_aid_ok(size_t len, bool may_be_empty);
/* Answers the data field 00 with 9000. */
void gp_reply_ok(seam_card *c, reply *r);

/* The INSTALL roles of gp_install_roles.c; self is the selected SD gp_install checked. */
/* [for make selectable] (08): an instance or SSD installed (03) becomes SELECTABLE. */
seam_err gp_install_make_selectable(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                    reply *r);
/* [for registry update] (40): an instance's privileges. */
seam_err gp_install_registry_update(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                    reply *r);
/* [for extradition] (10): an instance (with its restore record) or a package to another SD. */
seam_err gp_install_extradition(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                reply *r);
/* [for personalization] (20): the instance becomes ch's STORE DATA target. */
seam_err gp_install_personalization(seam_card *c, channel *ch, const seam_apdu *a, reply *r);

#endif
