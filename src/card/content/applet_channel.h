/*
 * Applet instances selected on logical channels (applet_channel.c): SELECT of
 * an instance, its commands, its deselection, and its memory put back after a
 * failed command. While a command runs, an applet taken off its channel is
 * retired (card_int.h: card_retire), not freed. Internal to the card layer.
 */
#ifndef SEAM_CARD_CONTENT_APPLET_CHANNEL_H
#define SEAM_CARD_CONTENT_APPLET_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* Selects instance aid on ch (restore, select entry point); r gets its SW. */
seam_err content_select_instance(seam_card *c, channel *ch, const uint8_t *aid, size_t aid_len,
                                 uint8_t p2, reply *r);
/* Runs the applet selected on ch for command a, as received (secure messaging included);
   commits its dirty pages. */
seam_err content_process(seam_card *c, channel *ch, const seam_apdu *a, reply *r);
/* Deselects the applet on ch, if any, committing its pages in the open transaction. */
seam_err content_deselect(seam_card *c, channel *ch);
/* Restores the applet on ch from its committed pages after a failed command. */
void content_resync(seam_card *c, channel *ch);
/* Power off: frees every channel's applet and any load in progress. */
void content_power_off(seam_card *c);
/* The open channel instance aid is selected on (its one live state), NULL when none. */
channel *content_channel_of(seam_card *c, const uint8_t *aid, size_t aid_len);
/* Puts the applet on ch back to its committed memory after a call of it that is not
   kept (a refusal, a trap, or a later refusal of the command), before anything of the
   call is written. */
seam_err content_undo(seam_card *c, channel *ch);
/* True when instance aid is selected on some open channel. */
bool content_instance_selected(const seam_card *c, const uint8_t *aid, size_t aid_len);
/*
 * Runs toolkit entry point `entry` of instance aid with message[0..len): on the
 * channel it is selected on, else loaded for this call. Commits its pages when it
 * answers success (r->sw, its data in c->data); otherwise nothing of the call stays
 * (r->sw its refusal, 6F00 for a trap). 6A88 when the instance no longer exists;
 * 6A80 when its package cannot make an applet. A seam_err is a storage failure.
 */
seam_err content_toolkit(seam_card *c, const uint8_t *aid, size_t aid_len,
                         seam_applet_toolkit_entry entry, const uint8_t *message, size_t len,
                         reply *r);

#endif
