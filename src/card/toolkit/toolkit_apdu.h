/*
 * The card application toolkit's commands (toolkit_apdu.c; docs/toolkit.md
 * "The card"): TERMINAL PROFILE, FETCH, TERMINAL RESPONSE and ENVELOPE, rows
 * of dispatch.c's command table. Internal to the card layer.
 */
#ifndef SEAM_CARD_TOOLKIT_APDU_H
#define SEAM_CARD_TOOLKIT_APDU_H

#include "card/card_int.h"

/* TERMINAL PROFILE (80 10 00 00 Lc): keeps the profile for this power-up. */
seam_err toolkit_terminal_profile(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* FETCH (80 12 00 00 Le): the next proactive command; 6985 when none may go out. */
seam_err toolkit_fetch(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* TERMINAL RESPONSE (80 14 00 00 Lc): the answer to the fetched command, to its applet. */
seam_err toolkit_terminal_response(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* STATUS (TS 102 221: 80 F2 P1 00..02 P2 01|0C): nothing changes; the DF name with P2 01.
   Its 9000 becomes 91xx when a proactive command is pending (the terminal's poll). */
seam_err toolkit_status_command(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* ENVELOPE (80 C2 00 00 Lc): menu selection, event download, timer expiration. */
seam_err toolkit_envelope(seam_card *c, channel *ch, const card_command *cmd, reply *r);

/* The status word a command that answered sw leaves with: 91xx while a proactive
   command may be fetched (proactive.h: toolkit_status). */
uint16_t card_toolkit_status(const seam_card *c, uint16_t sw);

#endif
