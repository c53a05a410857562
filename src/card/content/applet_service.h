/*
 * Services between instances, the card's side (applet_service.c; the ABI is
 * seam_service_call in include/seam/applet.h, the rules in docs/applet-abi.md
 * "Services between instances"). Internal to the card layer.
 */
#ifndef SEAM_CARD_CONTENT_APPLET_SERVICE_H
#define SEAM_CARD_CONTENT_APPLET_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* The service callbacks instance aid's applet calls other instances through (for
   seam_applet_options). */
void card_service_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                       seam_applet_service_host *out);

/* The running command is not kept: applets a service call committed into on their
   channels go back to their committed memory (after the nvm rollback); then the marks
   are cleared. With kept true only the marks are cleared. */
void card_service_end(seam_card *c, bool kept);

#endif
