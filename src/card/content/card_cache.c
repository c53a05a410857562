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
