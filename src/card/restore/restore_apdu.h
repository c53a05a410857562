/*
 * The restore module's commands on the external interface (restore_apdu.c;
 * docs/restore-module.md). Internal to the card layer.
 */
#ifndef SEAM_CARD_RESTORE_APDU_H
#define SEAM_CARD_RESTORE_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

#define RESTORE_DGI_PERSO   0x7F70u /* personalization blocks for an identity */
#define RESTORE_DGI_ENTRIES 0x7F71u /* application data entries for an identity */

/*
 * Applies STORE DATA DGI 7F70 or 7F71 (d[0..n), its value) for an instance
 * of the SD selected on ch: *sw 9000, 6982 (not an SD, an SD with neither
 * Authorized nor Delegated Management, or a session without C-DECRYPTION),
 * 6985 (a locked SD), 6A80 (malformed, nothing changed), 6A84 (over the
 * record's or the SD's quota), or an applet's refusal of a block replayed
 * into the instance.
 * Errors: nvm and applet errors.
 */
seam_err restore_store_data_dgi(seam_card *c, const channel *ch, uint16_t dgi, const uint8_t *d,
                                size_t n, uint16_t *sw);

/*
 * Writes the record of (SD selected on ch, instance aid) to out[0..cap) as
 * A2 { 4F aid, C0 package version, E2 blocks..., E1 { 80 name, 81 value }... }:
 * *sw 9000, 6982 (not an SD, or the session is not at level 33), 6A88 (no
 * such record), 6A84 (does not fit cap). Errors: nvm errors.
 */
seam_err restore_export(seam_card *c, const channel *ch, const uint8_t *aid, size_t aid_len,
                        uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw);

#endif
