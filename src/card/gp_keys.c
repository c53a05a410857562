/*
 * GP key and lifecycle management of a security domain: PUT KEY, SET STATUS,
 * GET STATUS. Not implemented yet: every command answers 6D00 (instruction
 * not supported), which is what the card honestly is today.
 */
#include "card_int.h"
#include "sw.h"

seam_err gp_put_key(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}

seam_err gp_set_status(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}

seam_err gp_get_status(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}
