/*
 * Applet diagnostics, the card's side (card_diag.h): the profile its image
 * records, where the events of its applets go (the host's seam_card_set_diag
 * function, else seam_log at debug level: the card never prints on its own),
 * and the fuel they spent. The runtime's side, and the text of an event, are
 * applet/applet_diag.c.
 */
#include "card_diag.h"

#include <string.h>

#include "card/applet/applet_runtime.h"
#include "seam/util.h"

/* Every event of the card's applets passes here: the fuel total, then the host's
   function or the log. */
static void card_diag_emit(void *ctx, const seam_card_diag *event) {
    seam_card *c = ctx;
    char line[640];
    if (event->kind == SEAM_CARD_DIAG_FUEL) {
        c->diag.fuel += event->fuel_used;
    }
    if (c->diag.fn != NULL) {
        c->diag.fn(c->diag.ctx, event);
    } else if (seam_log_get_level() >= SEAM_LOG_DEBUG) {
        seam_log(SEAM_LOG_DEBUG, "%s", seam_card_diag_format(event, line, sizeof line));
    }
}

void card_applet_diag(seam_card *c, const uint8_t *aid, size_t aid_len, seam_applet_diag *out) {
    memset(out, 0, sizeof *out);
    out->fn = card_diag_emit;
    out->ctx = c;
    out->aid_len = aid_len <= sizeof out->aid ? aid_len : sizeof out->aid;
    memcpy(out->aid, aid, out->aid_len);
    out->debug = c->diag.profile == SEAM_CARD_PROFILE_DEVELOPMENT;
}

void card_diag_package_refused(seam_card *c, const uint8_t *aid, size_t aid_len,
                               const seam_wasm_module *module, seam_err e) {
    char why[160];
    seam_card_diag d;
    memset(&d, 0, sizeof d);
    (void)seam_applet_check_explain(module, why, sizeof why);
    d.kind = SEAM_CARD_DIAG_FAILURE;
    d.aid = aid;
    d.aid_len = aid_len;
    d.entry = "load";
    d.reason = e == SEAM_ERR_WASM_LINK ? "link error" : "the package cannot be installed";
    d.detail = why[0] ? why : seam_err_str(e);
    d.func_name = "";
    card_diag_emit(c, &d);
}

void seam_card_set_diag(seam_card *card, seam_card_diag_fn fn, void *ctx) {
    if (card != NULL) {
        card->diag.fn = fn;
        card->diag.ctx = fn != NULL ? ctx : NULL;
    }
}

uint64_t seam_card_applet_fuel(const seam_card *card) {
    return card != NULL ? card->diag.fuel : 0;
}

seam_card_profile seam_card_get_profile(const seam_card *card) {
    return card != NULL ? card->diag.profile : SEAM_CARD_PROFILE_DEVELOPMENT;
}
