/*
 * Security domains as owners of card content, and supplementary security
 * domains (domains.c; internal to the card layer).
 */
#ifndef SEAM_CARD_CONTENT_DOMAINS_H
#define SEAM_CARD_CONTENT_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"
#include "card/store/registry.h"

/* The built-in security domain package and its module (GP's SSD ELF and class). */
extern const uint8_t domain_package_aid[7];
extern const uint8_t domain_module_aid[8];

/* True when aid is the issuer security domain's. */
bool domain_is_isd(const uint8_t *aid, size_t len);

/*
 * Reads the SD selected on ch into *self and says whether it may manage card
 * content without a token (MANAGE ELF UPGRADE): *sw 9000, 6982 (not an SD, or
 * no Authorized Management, Delegated Management included) or 6985 (the SD is
 * locked). Errors: nvm errors.
 */
seam_err domain_authority(seam_card *c, const channel *ch, registry_sd *self, uint16_t *sw);

/*
 * domain_authority for INSTALL or DELETE a (INS E6 / E4): an SD with Delegated
 * Management passes only with a valid token in a (verified with the ISD's
 * token key, KVN 70); *sw 9000, 6982 (no, a bad or an unverifiable token),
 * 6985 or 6A80 (malformed token field, a load token without a load file
 * hash). Errors: nvm, crypto errors.
 */
seam_err domain_authority_token(seam_card *c, const channel *ch, const seam_apdu *a,
                                registry_sd *self, uint16_t *sw);

/*
 * Reads the SD selected on ch into *self and says whether it manages content for a
 * command that carries no token (DGIs 7F70 / 7F71 of the restore module): *sw 9000
 * with Authorized or Delegated Management, 6985 (the SD is locked) or 6982 (not an
 * SD, or neither privilege). Errors: nvm errors.
 */
seam_err domain_content_manager(seam_card *c, const channel *ch, registry_sd *self, uint16_t *sw);

/* True when self owns content associated with SD owner, or holds global_privilege
   (a PRIV2_ bit; 0 = ownership only). */
bool domain_owns(const registry_sd *self, const uint8_t *owner, size_t owner_len,
                 uint8_t global_privilege);

/* True in *any when an SD, package or instance is associated with SD aid. Errors: nvm. */
seam_err domain_owns_anything(seam_card *c, const uint8_t *aid, size_t aid_len, bool *any);

/*
 * Installs SSD aid (not in use: the caller checks) associated with self, with
 * privileges priv (1 or 3 bytes) and the key set of ch's session; *sw 9000,
 * or 6A80 for privileges an SSD cannot have. Errors: nvm, crypto errors.
 */
seam_err domain_install(seam_card *c, const channel *ch, const registry_sd *self,
                        const uint8_t *aid, size_t aid_len, const uint8_t *priv, size_t priv_len,
                        bool selectable, uint16_t *sw);

/* Deletes SSD target with its keys and its restore-module records: *sw 9000, 6982 (not
   self's, no Global Delete) or 6985 (the ISD, content still associated, selected on a
   channel). Errors: nvm. */
seam_err domain_delete(seam_card *c, const registry_sd *self, const registry_sd *target,
                       uint16_t *sw);

/* INSTALL [for make selectable] of SSD target (INSTALLED -> SELECTABLE): *sw 9000,
   6982 (not self's) or 6985 (not INSTALLED). Errors: nvm. */
seam_err domain_make_selectable(seam_card *c, const registry_sd *self, registry_sd *target,
                                uint16_t *sw);

#endif
