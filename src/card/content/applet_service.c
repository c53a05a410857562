/*
 * Services between instances (applet_service.h): instance A asks instance B,
 * by AID, for a service; the card checks that B may be called and runs B's
 * "service" entry point, live on the channel it is selected on or loaded for
 * the call, in the running command's transaction. Rules (docs/applet-abi.md):
 *
 *   - B exists, is selectable (not locked) and exports "service": else ABSENT;
 *   - A and B belong to the same security domain: else DENIED (an SD cannot
 *     reach into another's applets; B's allow list by AID could be fooled by
 *     an AID another SD installed);
 *   - no service call while one runs, and no call to itself: BUSY (no
 *     recursion, no re-entrancy into a running store);
 *   - B answers a status word; nothing else of B reaches A. What B changed
 *     is committed when B answers success and put back otherwise (its memory,
 *     what it queued or registered); when the command as a whole is not kept,
 *     card_service_end puts B's live state back too.
 */
#include "applet_service.h"

#include <string.h>

#include "applet_channel.h"
#include "card_cache.h"
#include "instance.h"
#include "card/iso/sw.h"
#include "card/store/package_store.h"

/* A copy of instance aid that the running command took off its channel (kept for its
   next SELECT when the command is kept, transmit.c) stands for a state the call leaves
   behind: it is freed at the end instead. */
static void forget_retired(seam_card *c, const uint8_t *aid, size_t aid_len) {
    for (size_t i = 0; i < c->saved.retired_count; i++) {
        card_retired *r = &c->saved.retired[i];
        if (r->aid_len == aid_len && !memcmp(r->aid, aid, aid_len))
            r->aid_len = 0;
    }
}

static seam_err service_call(void *ctx, const uint8_t *caller, size_t caller_len,
                             const uint8_t *callee, size_t callee_len, const uint8_t *message,
                             size_t len, uint64_t fuel, uint64_t *used, int32_t *result) {
    seam_card *c = ctx;
    store_instance from, to;
    instance_loaded li = {0};
    seam_applet_result res = {0};
    card_toolkit toolkit;
    channel *ch = NULL;
    uint16_t sw = 0;
    seam_err e;
    *used = 0;
    *result = SEAM_SERVICE_ERR_BUSY;
    if (c->serving || (caller_len == callee_len && !memcmp(caller, callee, callee_len)))
        return SEAM_OK;
    *result = SEAM_SERVICE_ERR_ABSENT;
    e = store_instance_get(c->nvm, callee, callee_len, &to);
    if (e == SEAM_ERR_NOT_FOUND || (!e && !store_instance_selectable(to.lifecycle)))
        return SEAM_OK;
    if (!e)
        e = store_instance_get(c->nvm, caller, caller_len, &from);
    if (e == SEAM_ERR_NOT_FOUND ||
        (!e && (from.sd_len != to.sd_len || memcmp(from.sd, to.sd, to.sd_len)))) {
        *result = SEAM_SERVICE_ERR_DENIED; /* another SD's, or a caller not installed yet */
        return SEAM_OK;
    }
    if (e)
        return e;
    ch = content_channel_of(c, callee, callee_len);
    if (!ch) { /* loaded for this call; a kept copy would be stale after it */
        applets_parked_drop(c);
        forget_retired(c, callee, callee_len);
        e = instance_load(c, callee, callee_len, &li);
        if (instance_refused(&e, &sw) || e)
            goto out; /* an unusable package: ABSENT */
    }
    if (!seam_applet_has_toolkit_entry(ch ? ch->applet : li.applet, SEAM_APPLET_SERVICE))
        goto out;
    toolkit = c->toolkit;
    c->serving = true;
    e = seam_applet_service(ch ? ch->applet : li.applet, caller, caller_len, message, len, fuel,
                            &res, used);
    c->serving = false;
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto out;
    *result = res.rollback ? SEAM_SW_UNKNOWN : res.sw;
    if (res.rollback || !sw_success(res.sw)) { /* nothing of the call stays */
        c->toolkit = toolkit;
        if (ch)
            e = content_undo(c, ch);
    } else if (ch) {
        e = instance_commit_applet(c, ch->selected, ch->selected_len, ch->applet, &ch->pages);
        ch->served = true;
    } else {
        e = instance_commit(c, &li);
    }
out:
    instance_unload(&li);
    return e;
}

void card_service_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                       seam_applet_service_host *out) {
    memset(out, 0, sizeof *out);
    out->ctx = c;
    out->aid_len = aid_len <= sizeof out->aid ? aid_len : sizeof out->aid;
    memcpy(out->aid, aid, out->aid_len);
    out->call = service_call;
}

void card_service_end(seam_card *c, bool kept) {
    for (unsigned i = 0; i < CHANNELS; i++) {
        channel *ch = &c->channels[i];
        if (ch->served && !kept && ch->open && ch->applet)
            content_resync(c, ch);
        ch->served = false;
    }
    c->serving = false;
}
