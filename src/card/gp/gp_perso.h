/*
 * Personalization state shared by INSTALL [for personalization]
 * (gp_content.c) and STORE DATA (gp_perso.c); internal to the card layer.
 */
#ifndef SEAM_CARD_GP_PERSO_H
#define SEAM_CARD_GP_PERSO_H

#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/*
 * Makes instance aid[0..len) (5..16 bytes, checked by the caller to exist and
 * belong to the SD selected on ch) the personalization target of ch for the
 * current secure channel session: the following STORE DATA blocks, from block
 * 0, go to it until the last block, a refusal, a new session or another
 * INSTALL [for personalization]. Memory only; never fails.
 */
void perso_begin(channel *ch, const uint8_t *aid, size_t len);

/* The name of ch's secure channel session: its host || card challenge (a new
   session has new challenges). Sequences that span commands (STORE DATA, LOAD)
   keep it to end with their session. */
void channel_session_name(const channel *ch, uint8_t out[32]);

#endif
