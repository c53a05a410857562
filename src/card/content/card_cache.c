/*
 * The card's RAM caches (card_cache.h).
 *
 * Why they never hand out what is not committed: an entry is added only from
 * what the running command read before it wrote anything of that kind (the
 * card record, a package), so it holds committed state; a write drops the
 * entry it changes before it happens; a rolled back command drops nothing
 * else, since nothing it wrote was cached. A card record a command wrote is
 * read again by the next command.
 *
 * Module entries, keyed by the package's space and AID:
 *
 *   (free) --module_get misses, room--> KEPT (refs counted: an applet each)
 *   KEPT --module_get hits--> KEPT (refs + 1)
 *   KEPT --refs 0 and the least recently used, room needed--> (free)
 *   KEPT --module_forget: the package is deleted, moved or replaced--> STALE
 *   STALE --never handed out; last reference released--> (free)
 *
 * A module built when there is no room is the caller's alone: released, it
 * is freed. A module is immutable once translated (include/seam/wasm.h: it
 * can be instantiated many times, in any store; its translation is made
 * once, at the first instantiation), so the applets of every channel share
 * one; each applet has a store, a memory and transient buffers of its own.
 */
#include "card_cache.h"

#include <stdlib.h>
#include <string.h>

#include "applet_channel.h"
#include "card/store/package_store.h"

/* ---- the card record ---------------------------------------------------------------------- */

seam_err card_record_get(seam_card *c, registry_card *out) {
    card_caches *k = &c->caches;
    if (k->record_valid) {
        *out = k->record;
        return SEAM_OK;
    }
    seam_err e = registry_card_get(c->nvm, out);
    if (!e && !k->off && !k->record_changed) {
        k->record = *out;
        k->record_valid = true;
    }
    return e;
}

seam_err card_record_put(seam_card *c, const registry_card *card) {
    c->caches.record_valid = false;
    c->caches.record_changed = true;
    return registry_card_put(c->nvm, card);
}

/* ---- modules ------------------------------------------------------------------------------ */

static void entry_free(card_module_entry *m) {
    seam_wasm_module_free(m->module);
    memset(m, 0, sizeof *m);
}

static bool entry_is(const card_module_entry *m, uint8_t space, const uint8_t *aid, size_t len) {
    return m->module && m->space == space && m->aid_len == len && !memcmp(m->aid, aid, len);
}

/* Estimated host bytes of kept modules that may still be handed out. */
static size_t kept_cost(const card_caches *k) {
    size_t cost = 0;
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++)
        if (k->modules[i].module && !k->modules[i].stale)
            cost += k->modules[i].cost;
    return cost;
}

/* The least recently used entry nothing uses, or NULL. */
static card_module_entry *victim(card_caches *k) {
    card_module_entry *best = NULL;
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++) {
        card_module_entry *m = &k->modules[i];
        if (m->module && !m->refs && (!best || m->used < best->used))
            best = m;
    }
    return best;
}

/* A free entry for a module of cost bytes, making room; NULL when there is none. */
static card_module_entry *room_for(card_caches *k, size_t cost) {
    if (cost > CARD_MODULES_BYTES)
        return NULL;
    for (;;) {
        card_module_entry *free_entry = NULL;
        for (unsigned i = 0; i < CARD_MODULES_MAX && !free_entry; i++)
            if (!k->modules[i].module)
                free_entry = &k->modules[i];
        if (free_entry && kept_cost(k) + cost <= CARD_MODULES_BYTES)
            return free_entry;
        card_module_entry *old = victim(k);
        if (!old)
            return NULL;
        entry_free(old);
    }
}

seam_err module_get(seam_card *c, uint8_t space, const uint8_t *aid, size_t len,
                    seam_wasm_module **out) {
    card_caches *k = &c->caches;
    uint8_t *bytes = NULL;
    size_t n = 0;
    *out = NULL;
    for (unsigned i = 0; i < CARD_MODULES_MAX && !k->off; i++) {
        card_module_entry *m = &k->modules[i];
        if (!m->stale && entry_is(m, space, aid, len)) {
            m->refs++;
            m->used = ++k->tick;
            k->stats.module_hits++;
            *out = m->module;
            return SEAM_OK;
        }
    }
    seam_err e = store_module_get_in(c->nvm, space, aid, len, &bytes, &n);
    if (!e)
        e = seam_wasm_module_new(bytes, n, out, NULL, 0);
    free(bytes);
    if (e)
        return e;
    k->stats.modules_built++;
    card_module_entry *m = k->off || k->packages_changed || len > REGISTRY_AID_MAX
                               ? NULL
                               : room_for(k, n * CARD_MODULE_HOST_COST);
    if (m) {
        *m = (card_module_entry){.module = *out,
                                 .space = space,
                                 .aid_len = (uint8_t)len,
                                 .refs = 1,
                                 .used = ++k->tick,
                                 .cost = n * CARD_MODULE_HOST_COST};
        memcpy(m->aid, aid, len);
    }
    return SEAM_OK;
}

void module_release(seam_card *c, seam_wasm_module *module) {
    card_caches *k = &c->caches;
    if (!module)
        return;
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++) {
        card_module_entry *m = &k->modules[i];
        if (m->module == module) {
            if (m->refs)
                m->refs--;
            if (!m->refs && (m->stale || k->off))
                entry_free(m);
            return;
        }
    }
    seam_wasm_module_free(module); /* not kept: the caller's alone */
}

void module_forget(seam_card *c, uint8_t space, const uint8_t *aid, size_t len) {
    card_caches *k = &c->caches;
    k->packages_changed = true;
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++) {
        card_module_entry *m = &k->modules[i];
        if (entry_is(m, space, aid, len)) {
            m->stale = true;
            if (!m->refs)
                entry_free(m);
        }
    }
}

/* ---- deselected applets ------------------------------------------------------------------ */

static void parked_free(seam_card *c, card_parked *p) {
    seam_applet_free(p->applet);
    module_release(c, p->module);
    memset(p, 0, sizeof *p);
}

void applet_park(seam_card *c, const uint8_t *aid, size_t aid_len, uint32_t pages,
                 seam_wasm_module *module, seam_applet *applet) {
    card_caches *k = &c->caches;
    card_parked *slot = NULL;
    /* an instance selected again (on its own channel, made afresh) has its applet there:
       this one stands for a state it has since left */
    if (!applet || k->off || aid_len > REGISTRY_AID_MAX ||
        seam_applet_dirty_pages(applet, NULL, 0) != 0 ||
        content_instance_selected(c, aid, aid_len)) {
        seam_applet_free(applet);
        module_release(c, module);
        return;
    }
    for (unsigned i = 0; i < CARD_PARKED_MAX; i++) { /* a free entry, else the oldest */
        card_parked *p = &k->parked[i];
        if (p->applet && p->aid_len == aid_len && !memcmp(p->aid, aid, aid_len))
            parked_free(c, p); /* cannot happen (an instance is selected once): never two */
        if (!slot || (slot->applet && (!p->applet || p->used < slot->used)))
            slot = p;
    }
    if (slot->applet)
        parked_free(c, slot);
    seam_applet_bind_restore(applet, NULL); /* its binding was its channel's */
    *slot = (card_parked){
        .applet = applet, .module = module, .aid_len = (uint8_t)aid_len, .pages = pages};
    memcpy(slot->aid, aid, aid_len);
    slot->used = ++k->tick;
}

/* True when module is the current (not stale) module of package aid in space. */
static bool module_current(const card_caches *k, const seam_wasm_module *module, uint8_t space,
                           const uint8_t *aid, size_t len) {
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++) {
        const card_module_entry *m = &k->modules[i];
        if (m->module == module)
            return !m->stale && entry_is(m, space, aid, len);
    }
    return false;
}

seam_applet *applet_unpark(seam_card *c, const store_instance *inst, seam_wasm_module **module) {
    card_caches *k = &c->caches;
    *module = NULL;
    for (unsigned i = 0; i < CARD_PARKED_MAX; i++) {
        card_parked *p = &k->parked[i];
        if (!p->applet || p->aid_len != inst->aid_len || memcmp(p->aid, inst->aid, p->aid_len))
            continue;
        seam_applet *applet = p->applet;
        bool fits = !k->off && p->pages == inst->pages &&
                    module_current(k, p->module, inst->space, inst->package, inst->package_len);
        if (!fits || seam_applet_renew(applet) != SEAM_OK) {
            parked_free(c, p);
            return NULL;
        }
        *module = p->module;
        memset(p, 0, sizeof *p);
        k->stats.applets_reused++;
        return applet;
    }
    return NULL;
}

void applets_parked_drop(seam_card *c) {
    for (unsigned i = 0; i < CARD_PARKED_MAX; i++)
        if (c->caches.parked[i].applet)
            parked_free(c, &c->caches.parked[i]);
}

void card_cache_command_begin(seam_card *c) {
    if (seam_nvm_write_points(c->nvm) != c->caches.write_points)
        card_cache_flush(c);
}

void card_cache_command_end(seam_card *c, bool rolled_back) {
    card_caches *k = &c->caches;
    if (rolled_back && k->record_changed)
        k->record_valid = false;
    k->record_changed = false;
    k->packages_changed = false;
    k->write_points = seam_nvm_write_points(c->nvm);
}

void card_cache_flush(seam_card *c) {
    card_caches *k = &c->caches;
    k->record_valid = false;
    applets_parked_drop(c); /* first: they hold module references */
    for (unsigned i = 0; i < CARD_MODULES_MAX; i++) {
        card_module_entry *m = &k->modules[i];
        if (!m->module)
            continue;
        m->stale = true; /* those in use go when released */
        if (!m->refs)
            entry_free(m);
    }
}

void seam_card_cache_stats_get(const seam_card *card, seam_card_cache_stats *out) {
    *out = card->caches.stats;
}

void seam_card_set_cache(seam_card *card, bool on) {
    card->caches.off = !on;
    if (!on)
        card_cache_flush(card);
}
