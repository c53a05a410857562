/*
 * The toolkit registry kept across power cycles (registry.c; docs/toolkit.md
 * "The registry"): menu items with their text and events, per instance, in
 * the image; what the card tells the terminal itself after TERMINAL PROFILE.
 * Internal to the card layer.
 */
#ifndef SEAM_CARD_TOOLKIT_REGISTRY_H
#define SEAM_CARD_TOOLKIT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* Instance aid queued command[0..len) (valid): when it is SET UP MENU, the text of each
   of its items that aid holds becomes that item's text (at most TOOLKIT_MENU_TEXT_MAX
   bytes; a longer one is not kept). */
void toolkit_menu_text_take(card_toolkit *t, const uint8_t *aid, size_t aid_len,
                            const uint8_t *command, size_t len);

/* After TERMINAL PROFILE (removal false), or when an instance that held menu items or
   events was deleted (true): the card's own SET UP MENU (every instance's items that have
   a text) and SET UP EVENT LIST (the union of the events) go to the front of the queue
   (behind a fetched command), replacing any earlier ones of the card's not fetched. An
   empty menu or list is sent (as its removal) only when removal. */
void toolkit_announce(card_toolkit *t, bool removal);

#endif
