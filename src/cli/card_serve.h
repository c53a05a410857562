/*
 * A seam card behind a vpcd link: the handler `seam card serve` gives
 * seam_vpcd_serve. It lives in the command, not in either layer, so that the
 * link layer never depends on the card layer; the link tests drive it with a
 * real card.
 */
#ifndef SEAM_CLI_CARD_SERVE_H
#define SEAM_CLI_CARD_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "seam/card.h"
#include "seam/link.h"

/* What the handler's callbacks share; owned by the caller, valid while the link serves. */
typedef struct {
    seam_card *card;
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
} card_serving;

/*
 * Binds serving to card (which stays the caller's) and points every callback
 * of *handler at it. Learns the card's ATR by powering it on and leaves it
 * powered off: get ATR answers that ATR without powering the card, a command
 * APDU before the reader's power on fails (the link answers 6F00). Errors:
 * those of seam_card_power_on (the card is left powered off).
 */
seam_err card_serving_bind(card_serving *serving, seam_card *card, seam_vpcd_handler *handler);

#endif
