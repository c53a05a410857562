/*
 * Applet instances selected on logical channels: SELECT restores an instance
 * from its committed memory (store/memory_store.h) and runs its select entry
 * point; every other command on that channel runs process. After a command
 * whose status word reports success what changed in the dirty pages (outside
 * the shadow stack) is written in the command's nvm transaction; after any
 * other outcome the instance is restored from the committed memory, so
 * memory and nvm agree.
 * An applet taken off its channel while a command runs (SELECT of something
 * else, MANAGE CHANNEL close) is retired, not freed, until the command ends:
 * when its commit fails the channel gets it back (transmit.c).
 */
#include <stdlib.h>
#include <string.h>

#include "applet_channel.h"
#include "card_cache.h"
#include "card_diag.h"
#include "instance.h"
#include "card/store/memory_store.h"
#include "card/store/package_store.h"
#include "seam/card.h"
#include "card/iso/sw.h"

/* Takes the applet off ch: freed, or retired until the command ends (card_retire). */
static void release(seam_card *c, channel *ch) {
    if ((ch->applet || ch->module) &&
        !card_retire(c, ch->module, ch->applet, ch->selected, ch->selected_len, ch->pages)) {
        seam_applet_free(ch->applet);
        module_release(c, ch->module);
    }
    ch->applet = NULL;
    ch->module = NULL;
    ch->pages = 0;
}

static void fall_back_to_isd(seam_card *c, channel *ch) {
    release(c, ch);
    memcpy(ch->selected, seam_card_isd_aid, sizeof seam_card_isd_aid);
    ch->selected_len = sizeof seam_card_isd_aid;
}

/* Replaces the applet on ch by its committed state. */
static seam_err rollback_applet(seam_card *c, channel *ch) {
    uint8_t *image = NULL;
    store_memory m = {.aid = ch->selected,
                      .aid_len = ch->selected_len,
                      .stack_end = seam_applet_stack_end(ch->applet)};
    m.initial = seam_applet_initial(ch->applet, &m.initial_pages);
    seam_err e = m.initial ? store_memory_read(c->nvm, &m, ch->pages, &image) : SEAM_ERR_NOMEM;
    if (!e)
        e = seam_applet_rollback(ch->applet, image, ch->pages);
    if (!e)
        seam_applet_clear_dirty(ch->applet);
    free(image);
    return e;
}

static size_t copy_data(seam_card *c, const seam_applet_result *res) {
    size_t n = res->data_len < sizeof c->data - 2 ? res->data_len : sizeof c->data - 2;
    if (n)
        memcpy(c->data, res->data, n);
    return n;
}

channel *content_channel_of(seam_card *c, const uint8_t *aid, size_t aid_len) {
    for (unsigned i = 0; i < CHANNELS; i++) {
        channel *ch = &c->channels[i];
        if (ch->open && ch->applet && ch->selected_len == aid_len &&
            !memcmp(ch->selected, aid, aid_len))
            return ch;
    }
    return NULL;
}

seam_err content_undo(seam_card *c, channel *ch) {
    if (c->caches.off || seam_applet_rollback_unwritten(ch->applet) != SEAM_OK)
        return rollback_applet(c, ch); /* it wrote pages: back to the image */
    return SEAM_OK;
}

bool content_instance_selected(const seam_card *c, const uint8_t *aid, size_t aid_len) {
    bool found = false;
    for (unsigned i = 0; i < CHANNELS && !found; i++) {
        const channel *ch = &c->channels[i];
        found = ch->open && ch->applet && ch->selected_len == aid_len &&
                !memcmp(ch->selected, aid, aid_len);
    }
    return found;
}

seam_err content_deselect(seam_card *c, channel *ch) {
    seam_applet_result res;
    seam_err e = SEAM_OK;
    if (ch->applet) {
        e = seam_applet_deselect(ch->applet, &res);
        if (!e && res.storage)
            e = res.storage;
        if (!e && !res.rollback)
            e = instance_commit_applet(c, ch->selected, ch->selected_len, ch->applet, &ch->pages);
        fall_back_to_isd(c, ch);
    }
    return e;
}

seam_err content_select_instance(seam_card *c, channel *ch, const uint8_t *aid, size_t aid_len,
                                 uint8_t p2, reply *r) {
    store_instance inst;
    seam_applet_result res = {0};
    seam_wasm_module *module = NULL;
    seam_applet *applet = NULL;
    seam_err e = SEAM_OK;
    bool elsewhere =
        content_instance_selected(c, aid, aid_len) &&
        !(ch->applet && ch->selected_len == aid_len && !memcmp(ch->selected, aid, aid_len));
    if (elsewhere) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* not multi-selectable */
        goto out;
    }
    e = content_deselect(c, ch); /* the channel falls back to the ISD meanwhile */
    if (!e)
        e = store_instance_get(c->nvm, aid, aid_len, &inst);
    if (!e) /* kept since it was deselected, as committed (card_cache.h) */
        applet = applet_unpark(c, &inst, &module);
    if (!e && !applet)
        e = instance_module_ref(c, &inst, &module);
    if (!e && !applet)
        e = instance_restore(c, module, aid, aid_len, inst.pages, &applet);
    if (instance_refused(&e, &r->sw))
        goto out; /* an unusable package: refused, not a storage failure */
    if (!e) {     /* the applet's own restore record, for its restore_put calls */
        ch->restore.nvm = c->nvm;
        restore_identity_make(&ch->restore.id, inst.sd, inst.sd_len, aid, aid_len);
        restore_bind(applet, &ch->restore, 0);
        e = seam_applet_select(applet, &res);
    }
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto out;
    if (res.rollback || res.sw != SEAM_SW_SUCCESS) {
        r->sw = res.rollback || sw_success(res.sw) ? SEAM_SW_UNKNOWN : res.sw;
        goto out;
    }
    ch->pages = inst.pages;
    e = instance_commit_applet(c, aid, aid_len, applet, &ch->pages);
    if (e)
        goto out;
    scp03_end_session(&ch->session);
    r->len = p2 == 0x0C ? 0 : copy_data(c, &res);
    r->sw = SEAM_SW_SUCCESS;
    ch->module = module;
    ch->applet = applet;
    memcpy(ch->selected, aid, aid_len);
    ch->selected_len = (uint8_t)aid_len;
    module = NULL;
    applet = NULL;
out:
    seam_applet_free(applet);
    module_release(c, module);
    return e;
}

seam_err content_process(seam_card *c, channel *ch, const seam_apdu *a, reply *r) {
    seam_applet_result res = {0};
    seam_err e;
    e = seam_applet_process_command(ch->applet, a, &res);
    if (!e && res.storage)
        e = res.storage; /* transmit.c answers as for any storage failure and resyncs */
    if (e)
        goto out;
    r->len = copy_data(c, &res);
    r->sw = res.sw;
    if (res.rollback || !sw_success(res.sw)) { /* nothing of this command stays */
        e = content_undo(c, ch);
    } else {
        e = instance_commit_applet(c, ch->selected, ch->selected_len, ch->applet, &ch->pages);
    }
    if (e)
        r->len = 0;
out:
    return e;
}

void content_resync(seam_card *c, channel *ch) {
    if (ch->applet && rollback_applet(c, ch))
        fall_back_to_isd(c, ch);
}

void content_power_off(seam_card *c) {
    for (unsigned i = 0; i < CHANNELS; i++)
        release(c, &c->channels[i]);
    applets_parked_drop(c); /* transient memory is gone: every applet is made afresh */
    free(c->load.bytes);
    memset(&c->load, 0, sizeof c->load);
}

seam_err content_toolkit(seam_card *c, const uint8_t *aid, size_t aid_len,
                         seam_applet_toolkit_entry entry, const uint8_t *message, size_t len,
                         reply *r) {
    seam_applet_result res = {0};
    instance_loaded li = {0};
    channel *ch = content_channel_of(c, aid, aid_len);
    seam_err e;
    r->len = 0;
    if (!ch) { /* not selected: loaded for this call; a kept copy would be stale after it */
        applets_parked_drop(c);
        e = instance_load(c, aid, aid_len, &li);
        if (e == SEAM_ERR_NOT_FOUND) { /* deleted since it registered or queued */
            r->sw = SEAM_SW_DATA_NOT_FOUND;
            return SEAM_OK;
        }
        if (instance_refused(&e, &r->sw) || e)
            return e;
    }
    e = seam_applet_toolkit(ch ? ch->applet : li.applet, entry, message, len, &res);
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto out;
    r->sw = res.sw;
    if (res.rollback || !sw_success(res.sw)) { /* nothing of the call stays */
        r->sw = res.rollback || sw_success(res.sw) ? SEAM_SW_UNKNOWN : res.sw;
        if (ch)
            e = content_undo(c, ch);
        goto out; /* a loaded instance is simply dropped */
    }
    r->len = copy_data(c, &res);
    if (ch)
        e = instance_commit_applet(c, ch->selected, ch->selected_len, ch->applet, &ch->pages);
    else
        e = instance_commit(c, &li);
out:
    if (e)
        r->len = 0;
    instance_unload(&li);
    return e;
}
