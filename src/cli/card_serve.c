/*
 * The vpcd handler of `seam card serve`: each vpcd request becomes a call on
 * the seam card (card_serve.h, docs/link.md). The card's power follows the
 * reader's power on, reset and power off, and seam_vpcd_serve powers it off
 * whenever the link drops; nothing here outlives a connection but the ATR,
 * which is a constant of the card.
 */
#include <string.h>

#include "card_serve.h"

static seam_err serve_power_on(void *ctx) {
    card_serving *s = ctx;
    return seam_card_power_on(s->card, s->atr, sizeof s->atr, &s->atr_len);
}

static seam_err serve_power_off(void *ctx) {
    card_serving *s = ctx;
    seam_card_power_off(s->card);
    return SEAM_OK;
}

/* Answers the ATR learned at bind time: vpcd asks for it to see whether a card
   is present, powered or not, so it never changes the card's power. */
static seam_err serve_atr(void *ctx, uint8_t *out, size_t out_size, size_t *out_len) {
    card_serving *s = ctx;
    if (out_size < s->atr_len)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(out, s->atr, s->atr_len);
    *out_len = s->atr_len;
    return SEAM_OK;
}

static seam_err serve_apdu(void *ctx, const uint8_t *in, size_t in_len, uint8_t *out,
                           size_t out_size, size_t *out_len) {
    card_serving *s = ctx;
    return seam_card_transmit(s->card, in, in_len, out, out_size, out_len);
}

seam_err card_serving_bind(card_serving *serving, seam_card *card, seam_vpcd_handler *handler) {
    memset(serving, 0, sizeof *serving);
    serving->card = card;
    seam_err e = serve_power_on(serving); /* learns the ATR */
    seam_card_power_off(card);
    if (e)
        return e;
    *handler = (seam_vpcd_handler){.ctx = serving,
                                   .power_on = serve_power_on,
                                   .power_off = serve_power_off,
                                   .reset = serve_power_on,
                                   .atr = serve_atr,
                                   .apdu = serve_apdu};
    return SEAM_OK;
}
