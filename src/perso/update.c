/*
 * P9: the update of a package personalized outside the card, resumable (docs/
 * restore-module.md "Outside the card"). The journal row in the store (card, domain,
 * old package) says the flow began; the card's own upgrade session says where it
 * stands. States, as read again at every call:
 *
 *   no journal ──export every instance of the domain's into the store, journal──▶ JOURNALED
 *   JOURNALED, card: no session, package not at the new version ──start──▶ WAITING (02)
 *   WAITING (02) ──INSTALL [for load] (the record released), LOAD──▶ LOADED (03)
 *   LOADED (03) ──DGI 7F71 of each record, migrate──▶ DONE (01, then no session)
 *   DONE: package at the new version ──re-export into the store, journal deleted──▶ idle
 *   WAITING / LOADED, a step refused ──delete of a loaded new version, abort, journal
 *                                      deleted──▶ idle (the old version, its data)
 *
 * A cut (of the card or of the store) anywhere leaves a state of this list: the next
 * call reads it (MANAGE ELF UPGRADE status, GET STATUS) and goes on from there, never
 * starting a second upgrade (report->resumed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perso_int.h"
#include "seam/crypto.h"
#include "seam/util.h"

typedef struct {
    const seam_perso_actor *actor;
    const seam_gp_aid *package;
    perso_journal *j;
} listing;

static bool same_aid(const seam_gp_aid *a, const seam_gp_aid *b) {
    return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* The domain's instances of the package (GET STATUS of the applications). */
static seam_err collect(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *entry) {
    listing *l = ctx;
    (void)scope;
    if (!same_aid(&entry->elf, l->package))
        return SEAM_OK;
    if (entry->sd.len && !same_aid(&entry->sd, &l->actor->domain->aid))
        return SEAM_OK;
    if (l->j->instance_count == SEAM_PERSO_BLOCKS_MAX)
        return SEAM_ERR_ARG;
    l->j->instances[l->j->instance_count++] = entry->aid;
    return SEAM_OK;
}

typedef struct {
    const seam_gp_aid *package;
    uint16_t version;
    bool found;
} version_probe;

static seam_err has_version(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *entry) {
    version_probe *p = ctx;
    (void)scope;
    if (same_aid(&entry->aid, p->package) && entry->space != 2 && entry->has_version &&
        entry->version == p->version)
        p->found = true;
    return SEAM_OK;
}

seam_err perso_flow_package_at(const seam_perso_actor *actor, const seam_gp_aid *package,
                               uint16_t version, bool *at) {
    version_probe p = {package, version, false};
    uint16_t sw = 0;
    seam_err e = seam_gp_get_status(actor->gp, SEAM_GP_ELFS, package->bytes, package->len,
                                    has_version, &p, &sw);
    *at = !e && sw == 0x9000 && p.found;
    return e;
}

/* The card's upgrade session of package: 00 none, 01, 02, 03. */
static seam_err session_status(const seam_perso_actor *actor, seam_perso_report *report,
                               const seam_gp_aid *package, uint8_t *status, bool *refused) {
    seam_gp_upgrade_status st;
    uint16_t sw = 0;
    seam_err e = seam_gp_upgrade(actor->gp, SEAM_GP_UPGRADE_STATUS, package->bytes, package->len,
                                 NULL, 0, &st, &sw);
    report->sw = sw;
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, NULL, sw, "MANAGE ELF UPGRADE status");
        *refused = true;
    }
    if (!e && !*refused)
        *status = st.status;
    return e;
}

static seam_err upgrade_step(const seam_perso_actor *actor, seam_perso_report *report,
                             seam_gp_upgrade_action action, const seam_gp_aid *package,
                             const char *what, bool *refused) {
    uint16_t sw = 0;
    seam_err e =
        seam_gp_upgrade(actor->gp, action, package->bytes, package->len, NULL, 0, NULL, &sw);
    report->sw = sw;
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, NULL, sw, what);
        *refused = true;
    }
    return e;
}

/* Releases each journaled instance's record (the grant of the LOAD) and sends its
   entries (DGI 7F71). The first record personalizes the load file when it is the only
   instance; with several, the card's own records keep their blocks. */
static seam_err load_and_entries(const seam_perso_actor *actor, seam_perso_report *report,
                                 const uint8_t *module, size_t len, const perso_journal *j,
                                 bool loaded, bool *refused) {
    uint8_t *bytes = malloc(SEAM_PERSO_RECORD_MAX);
    seam_perso_record r;
    perso_identity id;
    seam_err e = bytes ? SEAM_OK : SEAM_ERR_NOMEM;
    if (!e && !loaded) {
        perso_flow_identity(actor, &j->instances[0], &report->package.aid, &id);
        e = perso_flow_load(actor, report, module, len, j->instance_count == 1 ? &id : NULL, NULL,
                            bytes, &r, refused);
        loaded = !e && !*refused;
        if (loaded && j->instance_count == 1)
            e = perso_flow_entries(actor, report, &r, refused);
        if (j->instance_count == 1) {
            seam_secure_zero(bytes, SEAM_PERSO_RECORD_MAX);
            free(bytes);
            return e;
        }
    }
    /* the entries of every record, released against this session's grant: the load the
       card accepted just now, or (resumed) the card's upgrade session of the domain's
       package that holds the new version already (status 03, read in this session) */
    perso_grant grant;
    perso_grant_after_load(&grant, actor->gp, actor, &report->package.aid, 0x9000);
    for (size_t i = 0; !e && !*refused && loaded && i < j->instance_count; i++) {
        size_t n = 0;
        perso_flow_identity(actor, &j->instances[i], &report->package.aid, &id);
        e = perso_store_release(actor->store, actor->domain, &id, &grant, bytes,
                                SEAM_PERSO_RECORD_MAX, &n);
        if (!e)
            e = seam_perso_record_decode(bytes, n, &r);
        if (!e)
            e = perso_flow_entries(actor, report, &r, refused);
    }
    if (bytes)
        seam_secure_zero(bytes, SEAM_PERSO_RECORD_MAX);
    free(bytes);
    return e;
}

/* Rolls back an update the card refused after its start (X4): the new version deleted
   when it was loaded (status 03: the card aborts only once the package's AID is free),
   MANAGE ELF UPGRADE abort (the card puts the old package back with its instances and
   their data), the journal deleted; the records stay. report keeps the first refusal. A
   roll back the card refuses too is logged and keeps the journal (the next call reads
   the card again). */
static seam_err roll_back(const seam_perso_actor *actor, const perso_identity *key) {
    const seam_gp_aid *package = &key->package;
    seam_perso_report rb;
    uint8_t status = 0;
    bool refused = false;
    uint16_t sw = 0;
    memset(&rb, 0, sizeof rb);
    seam_err e = session_status(actor, &rb, package, &status, &refused);
    if (!e && !refused && status == 0x03) {
        e = seam_gp_delete(actor->gp, package->bytes, package->len, false, &sw);
        if (!e && sw != 0x9000) {
            perso_flow_refused(actor, &rb, NULL, sw, "roll back: DELETE of the new version");
            refused = true;
        }
    }
    if (!e && !refused && (status == 0x02 || status == 0x03))
        e = upgrade_step(actor, &rb, SEAM_GP_UPGRADE_ABORT, package,
                         "roll back: MANAGE ELF UPGRADE abort", &refused);
    if (!e && !refused)
        e = perso_journal_delete(actor->store, key);
    return e;
}

seam_err seam_perso_update(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                           seam_perso_report *report) {
    perso_journal j, journaled;
    perso_identity key;
    bool refused = false, at = false, session = false;
    uint8_t status = 0;
    seam_err e;
    memset(report, 0, sizeof *report);
    memset(&j, 0, sizeof j);
    e = perso_flow_begin(actor, module, len, report, &refused);
    if (e || refused)
        return e;
    j.version = report->package.version;
    e = seam_crypto_sha256(module, len, j.digest);
    perso_flow_identity(actor, &report->package.aid, &report->package.aid, &key);
    if (!e)
        e = perso_journal_get(actor->store, &key, &journaled);
    if (e == SEAM_ERR_NOT_FOUND) {
        /* JOURNALED: the domain's instances, their records exported into the store */
        listing l = {actor, &report->package.aid, &j};
        uint16_t sw = 0;
        e = seam_gp_get_status(actor->gp, SEAM_GP_APPS, NULL, 0, collect, &l, &sw);
        if (!e && (sw != 0x9000 || j.instance_count == 0)) {
            perso_flow_refused(actor, report, NULL, sw == 0x9000 ? 0x6A88 : sw,
                               "the domain holds no instance of the package");
            return SEAM_OK;
        }
        for (size_t i = 0; !e && !refused && i < j.instance_count; i++)
            e = perso_flow_export(actor, report, &j.instances[i], &report->package.aid, &refused);
        if (e || refused)
            return e;
        e = perso_journal_put(actor->store, &key, &j);
        perso_kill_point("update.exported");
    } else if (!e) {
        if (journaled.version != j.version || memcmp(journaled.digest, j.digest, 32)) {
            snprintf(report->reason, sizeof report->reason,
                     "an update to another package file is under way for this package");
            (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, NULL,
                                     report->reason);
            return SEAM_ERR_PERSO_DENIED;
        }
        j = journaled;
        report->resumed = true;
    }
    if (!e)
        e = session_status(actor, report, &report->package.aid, &status, &refused);
    if (!e && !refused && (status == 0x00 || status == 0x01))
        e = perso_flow_package_at(actor, &report->package.aid, j.version, &at);
    if (!e && !refused && status == 0x00 && !at) {
        e = upgrade_step(actor, report, SEAM_GP_UPGRADE_START, &report->package.aid,
                         "MANAGE ELF UPGRADE start", &refused);
        status = 0x02;
        perso_kill_point("update.started");
    }
    if (!e && !refused && (status == 0x02 || status == 0x03)) {
        session = true;
        e = load_and_entries(actor, report, module, len, &j, status == 0x03, &refused);
        perso_kill_point("update.loaded");
        if (!e && !refused)
            e = upgrade_step(actor, report, SEAM_GP_UPGRADE_MIGRATE, &report->package.aid,
                             "MANAGE ELF UPGRADE migrate", &refused);
        perso_kill_point("update.migrated");
        if (!e && !refused)
            e = perso_flow_package_at(actor, &report->package.aid, j.version, &at);
    }
    if (!e && refused && session)
        return roll_back(actor, &key);
    if (e || refused)
        return e;
    if (!at) {
        snprintf(report->reason, sizeof report->reason,
                 "the card's upgrade session waits for other security domains");
        return SEAM_OK;
    }
    /* DONE: the store gets the records as they are now, the journal goes */
    for (size_t i = 0; !e && !refused && i < j.instance_count; i++)
        e = perso_flow_export(actor, report, &j.instances[i], &report->package.aid, &refused);
    if (!e && !refused)
        e = perso_journal_delete(actor->store, &key);
    if (!e && !refused) {
        report->instances = j.instance_count;
        report->reason[0] = '\0';
        report->sw = 0x9000;
    }
    return e;
}
