/*
 * The card's registry as an applet with Global Registry reads it, the card's
 * side (applet_registry.c; the ABI is seam_registry_entry in
 * include/seam/applet.h, docs/applet-abi.md "The card's registry"). Internal
 * to the card layer.
 */
#ifndef SEAM_CARD_CONTENT_APPLET_REGISTRY_H
#define SEAM_CARD_CONTENT_APPLET_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* The registry callback instance aid's applet reads the card's registry through (for
   seam_applet_options). */
void card_registry_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                        seam_applet_registry_host *out);

#endif
