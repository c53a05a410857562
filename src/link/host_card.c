/*
 * A host link to a card in this process: seam_gp_link over include/seam/card.h,
 * either borrowing a card the caller opened (seam_link_card) or owning one it
 * opened from an image file (seam_link_image_open).
 */
#include <stdlib.h>

#include "seam/link.h"

typedef struct {
    seam_card *card;
    bool owned;
} card_link;

static seam_err card_power_on(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    card_link *l = ctx;
    return seam_card_power_on(l->card, atr, atr_size, atr_len);
}

static seam_err card_power_off(void *ctx) {
    card_link *l = ctx;
    seam_card_power_off(l->card);
    return SEAM_OK;
}

static seam_err card_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                              size_t response_size, size_t *response_len) {
    card_link *l = ctx;
    return seam_card_transmit(l->card, command, len, response, response_size, response_len);
}

static void card_close(void *ctx) {
    card_link *l = ctx;
    if (l && l->owned)
        seam_card_close(l->card);
    free(l);
}

static const seam_gp_link_ops card_ops = {
    .power_on = card_power_on,
    .reset = card_power_on, /* power on while on is a warm reset */
    .power_off = card_power_off,
    .transmit = card_transmit,
    .close = card_close,
};

/* Fills *out with a link to card; owned: the link closes the card. */
static seam_err link_to(seam_card *card, bool owned, const char *kind, seam_gp_link *out) {
    card_link *l;
    if (!card || !out)
        return SEAM_ERR_ARG;
    l = calloc(1, sizeof *l);
    if (!l)
        return SEAM_ERR_NOMEM;
    l->card = card;
    l->owned = owned;
    out->ops = &card_ops;
    out->ctx = l;
    out->kind = kind;
    return SEAM_OK;
}

seam_err seam_link_card(seam_card *card, seam_gp_link *out) {
    return link_to(card, false, "card", out);
}

seam_err seam_link_card_owned(seam_card *card, seam_gp_link *out) {
    seam_err e = link_to(card, true, "image", out);
    if (e)
        seam_card_close(card);
    return e;
}

seam_err seam_link_image_open(const char *path, seam_gp_link *out) {
    seam_card *card = NULL;
    seam_err e = path && out ? seam_card_open(path, &card) : SEAM_ERR_ARG;
    if (!e)
        e = link_to(card, true, "image", out);
    if (e)
        seam_card_close(card);
    return e;
}
