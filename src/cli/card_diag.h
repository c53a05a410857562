/*
 * Applet diagnostics on stderr for the seam commands that run a card in this
 * process: seam card script, seam card serve and seam gp --image
 * (docs/applet-abi.md, "Diagnostics"). Each command calls one of these once,
 * right after it opens the card.
 */
#ifndef SEAM_CLI_CARD_DIAG_H
#define SEAM_CLI_CARD_DIAG_H

#include "seam/card.h"
#include "seam/gp.h"

/*
 * Shows card's applet diagnostics on stderr: every failure (trap, fuel, status
 * word, link) and every seam_debug line as "seam: applet AID ENTRY: ...", and
 * the fuel of each entry-point call when the log level is debug (SEAM_LOG=debug).
 */
void cli_card_diagnostics(seam_card *card);

/* seam_link_image_open, with the card's diagnostics shown on stderr. */
seam_err cli_image_link(const char *path, seam_gp_link *out);

#endif
