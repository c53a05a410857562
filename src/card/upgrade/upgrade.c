/*
 * Package upgrades across security domains: MANAGE ELF UPGRADE (INS EA), the
 * useful and temporary useful spaces, and the clean-up of the temporary one
 * (requirements P8, P9, U1-U10; docs/restore-module.md, docs/upgrade.md).
 *
 * One upgrade session per old package P1, kept in the nvm (UPGRADE_SESSION,
 * keyed by P1's AID): the SD that owns P1, the new package P2's AID, how
 * many instances have been migrated, and P1's version. Its state is derived
 * from the registry each time it is needed, so that no step can leave it out
 * of date:
 *
 *   (none) ──start (P1's owner)──▶ WAITING_FOR_PACKAGE (02): P1 in the
 *                                   temporary useful space, P2 not loaded
 *                 INSTALL [for load] + LOAD of P2 │
 *                                                 ▼
 *                                  WAITING_FOR_DOMAINS (03): P2 in the useful
 *                                   space; each SD migrates its own instances
 *                                   of P1 when it chooses (migrate)
 *                                                 │ every SD holding an instance
 *                                                 │ of P1 also holds one of P2,
 *                                                 │ or P1 has no instance left
 *                                                 ▼
 *                                  COMPLETED (01): the remaining instances of
 *                                   P1, P1 itself and the session are deleted;
 *                                   the temporary space goes when it is empty
 *
 *   abort (P1's owner, before any migration, P1's AID free in the useful
 *   space): P1 back to the useful space, the session deleted.
 *
 *   The clean-up to COMPLETED runs after every migrate, INSTALL [for
 *   install], DELETE, status query and power-up, and waits while an old
 *   instance is selected on a logical channel.
 *
 * Ownership (P10, U5; docs/security.md). While a session lives, P1's and P2's AIDs are
 * reserved for its owner (upgrade_reserved): nobody else may load a package
 * under them, and nobody may use them for a security domain or an instance.
 * P2 must be the owner's: start refuses a C4 naming another SD's package,
 * extradition of P2 is refused, and migrate checks P2's owner again, so that
 * a restore record is only handed to code the session's owner loaded.
 *
 * Every transition is one command, hence one nvm transaction: a power cut
 * leaves the session where the last complete command put it.
 */
#include <stdlib.h>
#include <string.h>

#include "card/content/card_cache.h"
#include "card/content/domains.h"
#include "card/content/applet_channel.h"
#include "card/content/instance.h"
#include "card/store/package_store.h"
#include "card/restore/restore_apdu.h"
#include "seam/util.h"
#include "card/iso/sw.h"
#include "upgrade.h"

#define FORMAT 1u

#define P1_START   0x01u
#define P1_MIGRATE 0x02u
#define P1_ABORT   0x04u
#define P1_STATUS  0x08u
#define P1_EXPORT  0x10u

#define TAG_AID       0x4Fu
#define TAG_NEW_AID   0xC4u
#define TAG_RESPONSE  0xA1u
#define TAG_STATUS    0x90u
#define TAG_MIGRATED  0x81u
#define TAG_REMAINING 0x82u
#define TAG_DOMAINS   0x83u

typedef struct {
    uint8_t old_aid[REGISTRY_AID_MAX];
    uint8_t old_len;
    uint8_t owner[REGISTRY_AID_MAX];
    uint8_t owner_len;
    uint8_t new_aid[REGISTRY_AID_MAX];
    uint8_t new_len;
    uint16_t migrated;
    uint16_t old_version;
} session;

static bool same(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && !memcmp(a, b, a_len);
}

static seam_err session_get(seam_nvm *nvm, const uint8_t *aid, size_t len, session *s) {
    uint8_t v[1 + 2 * (1 + REGISTRY_AID_MAX) + 4];
    size_t v_len = 0, n = 1;
    seam_err e = seam_nvm_get(nvm, UPGRADE_SESSION, aid, len, v, sizeof v, &v_len);
    if (e == SEAM_ERR_BUFFER_SMALL)
        e = SEAM_ERR_NVM_CORRUPT;
    if (e)
        return e;
    memset(s, 0, sizeof *s);
    memcpy(s->old_aid, aid, len);
    s->old_len = (uint8_t)len;
    if (v_len < 2 || v[0] != FORMAT || v[1] > REGISTRY_AID_MAX || v_len < 2u + v[1] + 1)
        return SEAM_ERR_NVM_CORRUPT;
    s->owner_len = v[n++];
    memcpy(s->owner, v + n, s->owner_len);
    n += s->owner_len;
    s->new_len = v[n++];
    if (s->new_len > REGISTRY_AID_MAX || v_len != n + s->new_len + 4)
        return SEAM_ERR_NVM_CORRUPT;
    memcpy(s->new_aid, v + n, s->new_len);
    n += s->new_len;
    s->migrated = (uint16_t)(v[n] << 8 | v[n + 1]);
    s->old_version = (uint16_t)(v[n + 2] << 8 | v[n + 3]);
    return SEAM_OK;
}

static seam_err session_put(seam_nvm *nvm, const session *s) {
    uint8_t v[1 + 2 * (1 + REGISTRY_AID_MAX) + 4];
    size_t n = 0;
    v[n++] = FORMAT;
    v[n++] = s->owner_len;
    memcpy(v + n, s->owner, s->owner_len);
    n += s->owner_len;
    v[n++] = s->new_len;
    memcpy(v + n, s->new_aid, s->new_len);
    n += s->new_len;
    v[n++] = (uint8_t)(s->migrated >> 8);
    v[n++] = (uint8_t)s->migrated;
    v[n++] = (uint8_t)(s->old_version >> 8);
    v[n++] = (uint8_t)s->old_version;
    return seam_nvm_put(nvm, UPGRADE_SESSION, s->old_aid, s->old_len, v, n);
}

/* ---- the registry as the session sees it --------------------------------------- */

#define DOMAINS_MAX 32u

/* Who holds what: the SDs with instances of P1 (temporary space) and, for each,
   whether it also holds an instance of P2 (useful space). More SDs than
   DOMAINS_MAX: overflow, and the clean-up waits (it must never delete the P1
   instances of an SD it did not look at). */
typedef struct {
    size_t old_instances;
    size_t domains;
    bool overflow;
    uint8_t sd[DOMAINS_MAX][REGISTRY_AID_MAX];
    uint8_t sd_len[DOMAINS_MAX];
    bool has_new[DOMAINS_MAX];
} holdings;

typedef struct {
    const session *s;
    holdings *h;
} survey_walk;

/* Pass 1: the SDs holding instances of P1 (temporary space). */
static seam_err holders_of_old(void *ctx, store_instance *inst) {
    survey_walk *w = ctx;
    holdings *h = w->h;
    bool known = false;
    if (inst->space != SPACE_TEMPORARY ||
        !same(inst->package, inst->package_len, w->s->old_aid, w->s->old_len))
        return SEAM_OK;
    h->old_instances++;
    for (size_t i = 0; i < h->domains && !known; i++)
        known = same(h->sd[i], h->sd_len[i], inst->sd, inst->sd_len);
    if (!known && h->domains < DOMAINS_MAX) {
        memcpy(h->sd[h->domains], inst->sd, inst->sd_len);
        h->sd_len[h->domains++] = inst->sd_len;
    } else if (!known) {
        h->overflow = true;
    }
    return SEAM_OK;
}

/* Pass 2: which of them hold an instance of P2 (useful space). */
static seam_err holders_of_new(void *ctx, store_instance *inst) {
    survey_walk *w = ctx;
    holdings *h = w->h;
    if (inst->space == SPACE_USEFUL &&
        same(inst->package, inst->package_len, w->s->new_aid, w->s->new_len))
        for (size_t i = 0; i < h->domains; i++)
            h->has_new[i] |= same(h->sd[i], h->sd_len[i], inst->sd, inst->sd_len);
    return SEAM_OK;
}

static seam_err survey(seam_card *c, const session *s, holdings *h) {
    survey_walk w = {s, h};
    seam_err e;
    memset(h, 0, sizeof *h);
    e = store_instances_each(c->nvm, holders_of_old, &w);
    if (!e)
        e = store_instances_each(c->nvm, holders_of_new, &w);
    return e;
}

/* The session's status byte (docs/restore-module.md). */
static seam_err session_status(seam_card *c, const session *s, uint8_t *status) {
    store_package p;
    seam_err e = store_package_get(c->nvm, s->new_aid, s->new_len, &p);
    *status = UPGRADE_WAITING_FOR_DOMAINS;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        *status = UPGRADE_WAITING_FOR_PACKAGE;
    }
    return e;
}

typedef struct {
    const uint8_t *aid, *sd;
    size_t len, sd_len;
    uint8_t space, to;
    uint8_t (*aids)[REGISTRY_AID_MAX];
    uint8_t *lens;
    size_t max, n;
    seam_nvm *nvm;
} instance_walk;

static bool walk_matches(const instance_walk *w, const store_instance *inst) {
    return inst->space == w->space && same(inst->package, inst->package_len, w->aid, w->len) &&
           (w->sd == NULL || same(inst->sd, inst->sd_len, w->sd, w->sd_len));
}

static seam_err collect_instance(void *ctx, store_instance *inst) {
    instance_walk *w = ctx;
    if (walk_matches(w, inst) && w->n < w->max) {
        memcpy(w->aids[w->n], inst->aid, inst->aid_len);
        w->lens[w->n++] = inst->aid_len;
    }
    return SEAM_OK;
}

/* Lists (at most max) the instances of package aid in space, of SD sd (NULL: any);
 *n how many. */
static seam_err instances_of(seam_card *c, const uint8_t *aid, size_t len, uint8_t space,
                             const uint8_t *sd, size_t sd_len, uint8_t (*aids)[REGISTRY_AID_MAX],
                             uint8_t *lens, size_t max, size_t *n) {
    instance_walk w = {.aid = aid,
                       .sd = sd,
                       .len = len,
                       .sd_len = sd_len,
                       .space = space,
                       .aids = aids,
                       .lens = lens,
                       .max = max};
    seam_err e = store_instances_each(c->nvm, collect_instance, &w);
    *n = w.n;
    return e;
}

#define INSTANCES_MAX 64u

typedef struct {
    seam_card *c;
    const session *s;
    bool busy;
} busy_walk;

/* Sets busy when an instance of P1 is selected on a logical channel. */
static seam_err old_instance_busy(void *ctx, store_instance *inst) {
    busy_walk *w = ctx;
    w->busy |= inst->space == SPACE_TEMPORARY &&
               same(inst->package, inst->package_len, w->s->old_aid, w->s->old_len) &&
               content_instance_selected(w->c, inst->aid, inst->aid_len);
    return SEAM_OK;
}

/* Deletes every instance of P1 (their records stay), P1 and the session; *done false
   (nothing changed) while one of those instances is selected on a logical channel:
   its live state belongs to that channel, and a later command completes. */
static seam_err complete(seam_card *c, const session *s, bool *done) {
    uint8_t aids[INSTANCES_MAX][REGISTRY_AID_MAX], lens[INSTANCES_MAX];
    size_t n = 0, deleted = 0;
    busy_walk busy = {c, s, false};
    seam_err e = store_instances_each(c->nvm, old_instance_busy, &busy);
    *done = false;
    if (e || busy.busy)
        goto out;
    do { /* INSTANCES_MAX at a time, until none is left */
        e = instances_of(c, s->old_aid, s->old_len, SPACE_TEMPORARY, NULL, 0, aids, lens,
                         INSTANCES_MAX, &n);
        for (size_t i = 0; !e && i < n; i++) {
            e = store_instance_delete(c->nvm, aids[i], lens[i]);
            if (!e) /* never migrated: its commands and registrations go with it */
                e = card_toolkit_forget(c, aids[i], lens[i]);
        }
        deleted += n;
    } while (!e && n == INSTANCES_MAX);
    if (!e) {
        module_forget(c, SPACE_TEMPORARY, s->old_aid, s->old_len);
        e = store_package_delete_in(c->nvm, SPACE_TEMPORARY, s->old_aid, s->old_len);
    }
    if (!e)
        e = seam_nvm_delete(c->nvm, UPGRADE_SESSION, s->old_aid, s->old_len);
    if (!e) {
        *done = true;
        seam_log(SEAM_LOG_INFO,
                 "card: upgrade complete: %zu old instance(s) deleted with the "
                 "old package; the temporary useful space holds it no more",
                 deleted);
    }
out:
    return e;
}

/* U6, U7, U9: completes the session when every SD holding P1 holds P2 too. */
static seam_err tidy(seam_card *c, const session *s, bool *completed) {
    holdings h;
    bool all;
    seam_err e = survey(c, s, &h);
    all = !h.overflow;
    for (size_t i = 0; i < h.domains; i++)
        all &= h.has_new[i];
    *completed = false;
    if (!e && all && (h.old_instances == 0 || s->migrated > 0 || h.domains > 0)) {
        store_package p;
        /* with instances left, P2 must exist (they are being replaced by it) */
        seam_err have_new = store_package_get(c->nvm, s->new_aid, s->new_len, &p);
        if (h.old_instances == 0 || have_new == SEAM_OK) {
            e = complete(c, s, completed);
        } else if (have_new != SEAM_ERR_NOT_FOUND) {
            e = have_new;
        }
    }
    return e;
}

#define TIDY_BATCH 8u

seam_err upgrade_tidy_all(seam_card *c) {
    uint8_t key[REGISTRY_AID_MAX], keys[TIDY_BATCH][REGISTRY_AID_MAX], lens[TIDY_BATCH];
    size_t key_len = 0, value_len = 0, n = 0, kept = 0;
    session s;
    bool completed = false;
    seam_err e = SEAM_OK;
    do { /* a batch at a time, collected first (tidy deletes sessions), after the
            sessions of earlier batches that stay */
        seam_nvm_cursor cur;
        size_t seen = 0;
        n = 0;
        e = seam_nvm_cursor_init(&cur, UPGRADE_SESSION, NULL, 0);
        while (!e && n < TIDY_BATCH) {
            e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
            if (!e && seen++ >= kept) {
                memcpy(keys[n], key, key_len);
                lens[n++] = (uint8_t)key_len;
            }
        }
        if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
        for (size_t i = 0; !e && i < n; i++) {
            e = session_get(c->nvm, keys[i], lens[i], &s);
            if (!e)
                e = tidy(c, &s, &completed);
            kept += !e && !completed;
        }
    } while (!e && n == TIDY_BATCH);
    return e;
}

seam_err upgrade_reserved(seam_card *c, const uint8_t *aid, size_t len, const registry_sd *self,
                          bool *reserved) {
    seam_nvm_cursor cur;
    uint8_t key[REGISTRY_AID_MAX];
    size_t key_len = 0, value_len = 0;
    session s;
    seam_err e = seam_nvm_cursor_init(&cur, UPGRADE_SESSION, NULL, 0);
    *reserved = false;
    while (!e && !*reserved) {
        e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = session_get(c->nvm, key, key_len, &s);
        if (!e)
            *reserved =
                (same(aid, len, s.old_aid, s.old_len) || same(aid, len, s.new_aid, s.new_len)) &&
                !(self && same(s.owner, s.owner_len, self->aid, self->aid_len));
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

/* ---- the command ------------------------------------------------------------------ */

/* Writes A1 { 90 status, 4F old [, extra] } to c->data. */
static void respond(seam_card *c, reply *r, uint8_t status, const uint8_t *aid, size_t aid_len,
                    const uint8_t *extra, size_t extra_len) {
    size_t n = 0, body = 3 + 2 + aid_len + extra_len;
    c->data[n++] = TAG_RESPONSE;
    c->data[n++] = (uint8_t)body;
    c->data[n++] = TAG_STATUS;
    c->data[n++] = 1;
    c->data[n++] = status;
    c->data[n++] = TAG_AID;
    c->data[n++] = (uint8_t)aid_len;
    memcpy(c->data + n, aid, aid_len);
    n += aid_len;
    if (extra_len)
        memcpy(c->data + n, extra, extra_len);
    r->len = n + extra_len;
    r->sw = SEAM_SW_SUCCESS;
}

/* Parses 4F aid [C4 aid]: false when malformed. */
static bool parse_aids(const seam_apdu *a, seam_tlv *aid, seam_tlv *new_aid, bool *has_new) {
    seam_tlv_iter it;
    bool ok;
    seam_tlv_iter_init(&it, a->data, a->nc);
    ok = seam_tlv_iter_next(&it, aid) == SEAM_OK && aid->tag == TAG_AID && aid->length >= 5 &&
         aid->length <= REGISTRY_AID_MAX;
    *has_new = false;
    if (ok && !seam_tlv_iter_done(&it)) {
        ok = seam_tlv_iter_next(&it, new_aid) == SEAM_OK && new_aid->tag == TAG_NEW_AID &&
             new_aid->length >= 5 && new_aid->length <= REGISTRY_AID_MAX && seam_tlv_iter_done(&it);
        *has_new = ok;
    }
    return ok;
}

static seam_err move_instance(void *ctx, store_instance *inst) {
    instance_walk *w = ctx;
    seam_err e = SEAM_OK;
    if (walk_matches(w, inst)) {
        inst->space = w->to;
        e = store_instance_put(w->nvm, inst);
    }
    return e;
}

/* Sets the space of every instance of package aid (in space from) to `to`. */
static seam_err move_instances(seam_card *c, const uint8_t *aid, size_t len, uint8_t from,
                               uint8_t to) {
    instance_walk w = {.aid = aid, .len = len, .space = from, .to = to, .nvm = c->nvm};
    return store_instances_each(c->nvm, move_instance, &w);
}

/*
 * Whether a session started by self may take aid as its new package AID (P10, U5):
 * *sw 9000; 6985 when another session reserves aid (as its old or new
 * AID) or aid names a security domain or an instance (no package could be loaded
 * there); 6982 when a package of another SD is there already (a migration installs
 * only code of the session's owner). Errors: nvm errors.
 */
static seam_err new_aid_usable(seam_card *c, const registry_sd *self, const uint8_t *aid,
                               size_t len, uint16_t *sw) {
    registry_sd sd;
    store_instance inst;
    store_package p;
    bool reserved = false;
    seam_err e = upgrade_reserved(c, aid, len, NULL, &reserved);
    *sw = SEAM_SW_CONDITIONS_NOT_MET;
    if (e || reserved)
        goto done;
    e = registry_sd_get(c->nvm, aid, len, &sd);
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_instance_get(c->nvm, aid, len, &inst);
    if (e != SEAM_ERR_NOT_FOUND)
        goto done; /* SEAM_OK: an SD or an instance is there (6985) */
    e = store_package_get(c->nvm, aid, len, &p);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        *sw = SEAM_SW_SUCCESS;
    } else if (!e) {
        *sw = domain_owns(self, p.sd, p.sd_len, 0) ? SEAM_SW_SUCCESS : SEAM_SW_SECURITY_STATUS;
    }
done:
    return e;
}

static seam_err start(seam_card *c, const registry_sd *self, const seam_apdu *a, reply *r) {
    seam_tlv old, new_aid;
    bool has_new = false;
    store_package p;
    session s = {0};
    uint8_t status = 0;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!parse_aids(a, &old, &new_aid, &has_new))
        goto done;
    e = session_get(c->nvm, old.value, old.length, &s);
    if (e == SEAM_OK) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* one session per package */
        goto done;
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_package_get(c->nvm, old.value, old.length, &p);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto done;
    }
    if (e)
        goto done;
    if (!domain_owns(self, p.sd, p.sd_len, 0)) {
        r->sw = SEAM_SW_SECURITY_STATUS; /* only P1's owner starts its upgrade */
        goto done;
    }
    e = new_aid_usable(c, self, has_new ? new_aid.value : old.value,
                       has_new ? new_aid.length : old.length, &r->sw);
    if (!e && has_new && r->sw == SEAM_SW_SUCCESS) /* nor the old one another session's new */
        e = new_aid_usable(c, self, old.value, old.length, &r->sw);
    if (e || r->sw != SEAM_SW_SUCCESS)
        goto done;
    memset(&s, 0, sizeof s);
    memcpy(s.old_aid, old.value, old.length);
    s.old_len = (uint8_t)old.length;
    memcpy(s.owner, self->aid, self->aid_len);
    s.owner_len = self->aid_len;
    memcpy(s.new_aid, has_new ? new_aid.value : old.value, has_new ? new_aid.length : old.length);
    s.new_len = (uint8_t)(has_new ? new_aid.length : old.length);
    s.old_version = p.version;
    /* U3: into the temporary useful space, created with its first package */
    module_forget(c, SPACE_USEFUL, old.value, old.length);
    module_forget(c, SPACE_TEMPORARY, old.value, old.length);
    e = store_package_move(c->nvm, old.value, old.length, SPACE_USEFUL, SPACE_TEMPORARY);
    if (!e)
        e = move_instances(c, old.value, old.length, SPACE_USEFUL, SPACE_TEMPORARY);
    if (!e)
        e = session_put(c->nvm, &s);
    if (!e)
        e = session_status(c, &s, &status);
    if (!e) {
        seam_log(SEAM_LOG_INFO,
                 "card: upgrade started: package moved to the temporary useful space");
        respond(c, r, status, s.old_aid, s.old_len, NULL, 0);
    }
done:
    return e;
}

/* Migrates one instance of P1 to P2 (docs/restore-module.md, steps 1-5). */
static seam_err migrate_one(seam_card *c, const session *s, const store_instance *old,
                            uint16_t *sw) {
    instance_loaded li = {0}, fresh = {0};
    seam_applet_result res = {0};
    store_package p;
    bool known = false;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_CONDITIONS_NOT_MET;
    if (content_instance_selected(c, old->aid, old->aid_len))
        goto done; /* 6985: in use on a channel */
    e = store_package_get(c->nvm, s->new_aid, s->new_len, &p);
    if (!e && !same(p.sd, p.sd_len, s->owner, s->owner_len))
        goto done; /* 6985: only code loaded by the session's owner gets the record */
    for (uint8_t i = 0; !e && i < p.applet_count; i++)
        known |= same(p.applets[i], p.applet_lens[i], old->applet, old->applet_len);
    if (!e && !known) {
        *sw = SEAM_SW_DATA_NOT_FOUND; /* P2 has no applet class of that AID */
        goto done;
    }
    if (!e)
        e = instance_load(c, old->aid, old->aid_len, &li); /* 1. save */
    if (instance_refused(&e, sw))
        goto done;
    if (!e)
        e = seam_applet_save_for_upgrade(li.applet, &res);
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto done;
    if (res.rollback || res.sw != SEAM_SW_SUCCESS) {
        *sw = res.rollback || res.sw == SEAM_SW_SUCCESS ? SEAM_SW_UNKNOWN : res.sw;
        goto done;
    }
    e = store_instance_delete(c->nvm, old->aid, old->aid_len); /* 2. its record stays */
    fresh.record = *old;                                       /* 3. same AID, SD, privileges */
    memcpy(fresh.record.package, s->new_aid, s->new_len);
    fresh.record.package_len = s->new_len;
    fresh.record.space = SPACE_USEFUL;
    if (!e) /* 3 and 4: install, then the personalization replay */
        e = instance_create(c, &fresh, NULL, 0, s->old_version, sw);
    if (e || *sw != SEAM_SW_SUCCESS)
        goto done;
    e = seam_applet_restore_after_upgrade(fresh.applet, &res); /* 5 */
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto done;
    if (res.rollback || res.sw != SEAM_SW_SUCCESS) {
        *sw = res.rollback || res.sw == SEAM_SW_SUCCESS ? SEAM_SW_UNKNOWN : res.sw;
        goto done;
    }
    e = instance_store(c, &fresh);
done:
    instance_unload(&li);
    instance_unload(&fresh);
    return e;
}

static seam_err migrate(seam_card *c, const registry_sd *self, const seam_apdu *a, reply *r) {
    seam_tlv old, unused;
    bool has_new = false, completed = false;
    session s;
    uint8_t status = 0;
    size_t n = 0, count = 0;
    uint8_t aids[INSTANCES_MAX][REGISTRY_AID_MAX], lens[INSTANCES_MAX];
    store_instance inst;
    uint16_t sw = SEAM_SW_SUCCESS;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!parse_aids(a, &old, &unused, &has_new) || has_new)
        goto done;
    e = session_get(c->nvm, old.value, old.length, &s);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto done;
    }
    if (!e)
        e = session_status(c, &s, &status);
    if (!e && status == UPGRADE_WAITING_FOR_PACKAGE) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* load the new package first */
        goto done;
    }
    if (!e) /* this SD's instances of P1, collected first: migration writes */
        e = instances_of(c, s.old_aid, s.old_len, SPACE_TEMPORARY, self->aid, self->aid_len, aids,
                         lens, INSTANCES_MAX, &n);
    if (!e && n == 0) {
        r->sw = SEAM_SW_DATA_NOT_FOUND; /* U5: an SD migrates only its own instances */
        goto done;
    }
    for (size_t i = 0; !e && i < n && sw == SEAM_SW_SUCCESS; i++) {
        e = store_instance_get(c->nvm, aids[i], lens[i], &inst);
        if (!e)
            e = migrate_one(c, &s, &inst, &sw);
        count += !e && sw == SEAM_SW_SUCCESS;
    }
    if (e || sw != SEAM_SW_SUCCESS) {
        r->sw = sw; /* the whole command is rolled back */
        goto done;
    }
    s.migrated = (uint16_t)(s.migrated + count);
    e = session_put(c->nvm, &s);
    if (!e)
        e = tidy(c, &s, &completed);
    if (!e) {
        uint8_t extra[3] = {TAG_MIGRATED, 1, (uint8_t)count};
        respond(c, r, completed ? UPGRADE_COMPLETED : UPGRADE_WAITING_FOR_DOMAINS, s.old_aid,
                s.old_len, extra, sizeof extra);
    }
done:
    return e;
}

static seam_err abort_upgrade(seam_card *c, const registry_sd *self, const seam_apdu *a, reply *r) {
    seam_tlv old, unused;
    bool has_new = false;
    store_package p;
    session s;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!parse_aids(a, &old, &unused, &has_new) || has_new)
        goto done;
    e = session_get(c->nvm, old.value, old.length, &s);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto done;
    }
    if (e)
        goto done;
    if (!same(s.owner, s.owner_len, self->aid, self->aid_len)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
        goto done;
    }
    e = store_package_get(c->nvm, s.old_aid, s.old_len, &p);
    if (e == SEAM_OK || s.migrated > 0) {
        /* after a migration only forward; P1's AID must be free in the useful space */
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        e = SEAM_OK;
        goto done;
    }
    if (e != SEAM_ERR_NOT_FOUND)
        goto done;
    module_forget(c, SPACE_TEMPORARY, s.old_aid, s.old_len);
    module_forget(c, SPACE_USEFUL, s.old_aid, s.old_len);
    e = store_package_move(c->nvm, s.old_aid, s.old_len, SPACE_TEMPORARY, SPACE_USEFUL);
    if (!e)
        e = move_instances(c, s.old_aid, s.old_len, SPACE_TEMPORARY, SPACE_USEFUL);
    if (!e)
        e = seam_nvm_delete(c->nvm, UPGRADE_SESSION, s.old_aid, s.old_len);
    if (!e) {
        seam_log(SEAM_LOG_INFO, "card: upgrade aborted: the package is back in the useful space");
        respond(c, r, UPGRADE_NONE, s.old_aid, s.old_len, NULL, 0);
    }
done:
    return e;
}

static seam_err status(seam_card *c, const seam_apdu *a, reply *r) {
    seam_tlv old, unused;
    bool has_new = false;
    session s;
    holdings h;
    uint8_t st = 0, extra[2 + REGISTRY_AID_MAX + 4 + 3];
    size_t n = 0, waiting = 0;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!parse_aids(a, &old, &unused, &has_new) || has_new)
        goto done;
    e = upgrade_tidy_all(c); /* a clean-up that waited for a deselection */
    if (!e)
        e = session_get(c->nvm, old.value, old.length, &s);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        respond(c, r, UPGRADE_NONE, old.value, old.length, NULL, 0);
        goto done;
    }
    if (!e)
        e = session_status(c, &s, &st);
    if (!e)
        e = survey(c, &s, &h);
    if (e)
        goto done;
    for (size_t i = 0; i < h.domains; i++)
        waiting += !h.has_new[i];
    extra[n++] = TAG_NEW_AID;
    extra[n++] = s.new_len;
    memcpy(extra + n, s.new_aid, s.new_len);
    n += s.new_len;
    extra[n++] = TAG_REMAINING;
    extra[n++] = 2;
    extra[n++] = (uint8_t)(h.old_instances >> 8);
    extra[n++] = (uint8_t)h.old_instances;
    extra[n++] = TAG_DOMAINS;
    extra[n++] = 1;
    extra[n++] = (uint8_t)waiting;
    respond(c, r, st, s.old_aid, s.old_len, extra, n);
done:
    return e;
}

seam_err gp_manage_elf_upgrade(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    registry_sd self;
    seam_err e = SEAM_OK;
    r->len = 0;
    if (a->p2 != 0x00) {
        r->sw = SEAM_SW_WRONG_P1P2;
    } else if (a->p1 == P1_EXPORT) {
        if (a->nc < 2 || a->data[0] != TAG_AID || a->data[1] != a->nc - 2 || a->nc - 2 < 5 ||
            a->nc - 2 > REGISTRY_AID_MAX)
            r->sw = SEAM_SW_WRONG_DATA;
        else
            e = restore_export(c, ch, a->data + 2, a->nc - 2, c->data, sizeof c->data - 64, &r->len,
                               &r->sw);
    } else if (a->p1 == P1_STATUS) {
        e = status(c, a, r);
    } else if ((e = domain_authority(c, ch, &self, &r->sw)) != SEAM_OK ||
               r->sw != SEAM_SW_SUCCESS) {
        r->sw = e ? SEAM_SW_UNKNOWN : r->sw;
    } else if (a->p1 == P1_START) {
        e = start(c, &self, a, r);
    } else if (a->p1 == P1_MIGRATE) {
        e = migrate(c, &self, a, r);
    } else if (a->p1 == P1_ABORT) {
        e = abort_upgrade(c, &self, a, r);
    } else {
        r->sw = SEAM_SW_WRONG_P1P2;
    }
    return e;
}
