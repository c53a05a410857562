/*
 * The campaign steps' plans behind /admin (admin_plan.h). They are built on
 * the remote SCP03 session and step plans of the gp layer (h/remote); until
 * those are merged every step ends failed with the reason below.
 */
#include <stdio.h>
#include <string.h>

#include "admin_plan.h"

seam_err seam_srv_plan_start(struct seam_server *srv, const seam_store_campaign *c,
                             const seam_store_target *t, seam_srv_plan_round *out) {
    (void)srv, (void)c, (void)t;
    memset(out, 0, sizeof *out);
    out->outcome = SEAM_SRV_PLAN_FAILED;
    snprintf(out->reason, sizeof out->reason, "no plan for this campaign kind yet");
    return SEAM_OK;
}

seam_err seam_srv_plan_next(struct seam_server *srv, const seam_store_campaign *c,
                            const seam_store_id *cin, const uint8_t *context, size_t context_len,
                            const uint8_t *responses, size_t len, seam_srv_plan_round *out) {
    (void)srv, (void)c, (void)cin, (void)context, (void)context_len, (void)responses, (void)len;
    memset(out, 0, sizeof *out);
    out->outcome = SEAM_SRV_PLAN_FAILED;
    snprintf(out->reason, sizeof out->reason, "no plan for this campaign kind yet");
    return SEAM_OK;
}
