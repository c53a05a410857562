/*
 * Applet diagnostics, the card's side (card_diag.c; docs/applet-abi.md,
 * "Diagnostics"): every instance the card makes reports to the card, which
 * counts the fuel and passes the events to the host's function or the log.
 * Internal to the card layer.
 */
#ifndef SEAM_CARD_CONTENT_CARD_DIAG_H
#define SEAM_CARD_CONTENT_CARD_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "card/applet/applet_runtime.h"
#include "card/card_int.h"

/* Fills *out so that instance aid's events go to card c's diagnostics, with
   seam_debug shown on a development card only. */
void card_applet_diag(seam_card *c, const uint8_t *aid, size_t aid_len, seam_applet_diag *out);

/* Reports that package aid's module was refused at its last LOAD block because
   seam_applet_check failed with e (seam_applet_check_explain says why). */
void card_diag_package_refused(seam_card *c, const uint8_t *aid, size_t aid_len,
                               const seam_wasm_module *module, seam_err e);

#endif
