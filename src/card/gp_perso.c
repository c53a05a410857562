/*
 * GP personalization: STORE DATA. Not implemented yet: answers 6D00
 * (instruction not supported), which is what the card honestly is today.
 */
#include "card_int.h"
#include "sw.h"

seam_err gp_store_data(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}
