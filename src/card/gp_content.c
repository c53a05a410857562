/*
 * GP card content management: LOAD, INSTALL, DELETE. Not implemented yet:
 * every command answers 6D00 (instruction not supported).
 */
#include "card_int.h"
#include "sw.h"

seam_err gp_load(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}

seam_err gp_install(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}

seam_err gp_delete(seam_card *c, channel *ch, const seam_apdu *a, bool secured, reply *r) {
    (void)c, (void)ch, (void)a, (void)secured;
    r->sw = SEAM_SW_INS_NOT_SUPPORTED;
    return SEAM_OK;
}
