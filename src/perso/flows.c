/*
 * The flows' common steps and two of the flows (docs/restore-module.md "Outside the
 * card"): P6 install of a package personalized outside the card, P4 restore of an
 * application from the store. Each step is one command (or one LOAD sequence) the card
 * runs in one transaction; the first refusal stops the flow with its SW, its words in
 * report->reason and a line in the store's log.
 *
 * The release rule: a record leaves the store only after the card accepted an INSTALL
 * [for load] of the same package in the domain's level-33 session (perso_grant); it
 * goes into the load file's seam.perso section and DGI 7F71, never anywhere else.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perso_int.h"
#include "seam/util.h"

#define LIFECYCLE_PERSONALIZED 0x0Fu
#define PERSO_SECTION_MAX      (SEAM_PERSO_BLOCKS_MAX * 260u + 32u)

void perso_kill_point(const char *point) {
    const char *at = getenv("SEAM_TEST_KILL_AT");
    if (at && !strcmp(at, point))
        (void)raise(SIGKILL);
}

void perso_flow_identity(const seam_perso_actor *actor, const seam_gp_aid *instance,
                         const seam_gp_aid *package, perso_identity *id) {
    memset(id, 0, sizeof *id);
    memcpy(id->cin, actor->cin, actor->cin_len);
    id->cin_len = actor->cin_len;
    id->sd = actor->domain->aid;
    id->instance = *instance;
    id->package = *package;
}

void perso_flow_refused(const seam_perso_actor *actor, seam_perso_report *report,
                        const seam_gp_aid *instance, uint16_t sw, const char *what) {
    report->sw = sw;
    snprintf(report->reason, sizeof report->reason, "%s: %04X %s", what, sw, seam_gp_sw_text(sw));
    (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, instance, report->reason);
}

/* Reads the card's CIN (GET DATA 45) through the session. */
static seam_err card_cin(seam_gp *gp, uint8_t *cin, size_t *cin_len, uint16_t *sw) {
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t data[64];
    size_t n = 0;
    seam_tlv t;
    seam_err e = seam_gp_transmit(gp, get_cin, sizeof get_cin, data, sizeof data, &n, sw);
    if (e || *sw != 0x9000)
        return e;
    if (seam_tlv_parse(data, n, &t) != SEAM_OK || t.tag != 0x45 || t.length == 0 ||
        t.length > SEAM_PERSO_CIN_MAX)
        return SEAM_ERR_GP_RESPONSE;
    memcpy(cin, t.value, t.length);
    *cin_len = t.length;
    return SEAM_OK;
}

/* Reads the card's CIN and compares it with the actor's (SEAM_ERR_PERSO_WRONG_CARD,
   logged); a refusal of GET DATA: *refused. */
static seam_err check_card(const seam_perso_actor *actor, seam_perso_report *report,
                           bool *refused) {
    uint8_t cin[SEAM_PERSO_CIN_MAX];
    size_t cin_len = 0;
    uint16_t sw = 0;
    seam_err e = card_cin(actor->gp, cin, &cin_len, &sw);
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, NULL, sw, "GET DATA (the card's CIN)");
        *refused = true;
    } else if (!e && (cin_len != actor->cin_len || memcmp(cin, actor->cin, cin_len))) {
        snprintf(report->reason, sizeof report->reason,
                 "the card's CIN is not the one the data is for");
        (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, NULL, report->reason);
        e = SEAM_ERR_PERSO_WRONG_CARD;
    }
    return e;
}

seam_err perso_flow_no_perso(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                             seam_perso_report *report) {
    if (!seam_perso_package_has_perso(module, len))
        return SEAM_OK;
    snprintf(report->reason, sizeof report->reason,
             "the package carries a seam.perso section already (personalization of someone "
             "else's): refused, nothing sent");
    (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, NULL, report->reason);
    return SEAM_ERR_GP_PACKAGE;
}

seam_err perso_flow_begin(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                          seam_perso_report *report, bool *refused) {
    uint16_t sw = 0;
    uint8_t level = 0;
    seam_err e;
    *refused = false;
    e = seam_gp_package_read(module, len, &report->package, report->reason, sizeof report->reason);
    if (e)
        return e;
    report->reason[0] = '\0';
    if ((e = perso_flow_no_perso(actor, module, len, report)) != SEAM_OK)
        return e;
    if (seam_gp_channel_is_open(actor->gp, &level) && level == 0x33)
        return check_card(actor, report, refused); /* the caller opened the domain */
    /* the CIN first, in clear: a wrong card costs it nothing (no INITIALIZE UPDATE) */
    e = seam_gp_select(actor->gp, actor->domain->aid.bytes, actor->domain->aid.len, &sw);
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, NULL, sw, "SELECT of the domain");
        *refused = true;
    }
    if (!e && !*refused)
        e = check_card(actor, report, refused);
    if (e || *refused)
        return e;
    e = seam_perso_domain_open(actor->gp, actor->domain, &sw);
    if (e == SEAM_ERR_GP_CRYPTOGRAM) {
        snprintf(report->reason, sizeof report->reason,
                 "the domain's keys do not open its secure channel");
        (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, NULL, report->reason);
    }
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, NULL, sw, "the domain's secure channel");
        *refused = true;
    }
    return e;
}

seam_err perso_flow_export(const seam_perso_actor *actor, seam_perso_report *report,
                           const seam_gp_aid *instance, const seam_gp_aid *package, bool *refused) {
    seam_perso_record r;
    perso_identity id;
    const uint8_t *data;
    size_t n = 0;
    uint16_t sw = 0;
    seam_err e = seam_gp_upgrade(actor->gp, SEAM_GP_UPGRADE_EXPORT, instance->bytes, instance->len,
                                 NULL, 0, NULL, &sw);
    report->sw = sw;
    if (e)
        return e;
    if (sw != 0x9000) {
        perso_flow_refused(actor, report, instance, sw, "MANAGE ELF UPGRADE export");
        *refused = true;
        return SEAM_OK;
    }
    data = seam_gp_response(actor->gp, &n);
    if (seam_perso_record_decode(data, n, &r) != SEAM_OK || r.instance.len != instance->len ||
        memcmp(r.instance.bytes, instance->bytes, instance->len))
        return SEAM_ERR_GP_RESPONSE;
    perso_flow_identity(actor, instance, package, &id);
    return perso_store_put(actor->store, actor->domain, &id, data, n);
}

seam_err perso_flow_load(const seam_perso_actor *actor, seam_perso_report *report,
                         const uint8_t *module, size_t len, const perso_identity *id,
                         const seam_perso_record *extra, uint8_t *record_bytes,
                         seam_perso_record *record, bool *refused) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD, .elf = report->package.aid};
    uint8_t *personal = NULL, *file = NULL;
    size_t personal_len = 0, file_len = 0, record_len = 0;
    perso_grant grant;
    uint16_t sw = 0;
    seam_err e = seam_gp_install(actor->gp, &in, &sw);
    report->sw = sw;
    if (e)
        return e;
    if (sw != 0x9000) {
        perso_flow_refused(actor, report, id ? &id->instance : NULL, sw, "INSTALL [for load]");
        *refused = true;
        return SEAM_OK;
    }
    perso_grant_after_load(&grant, actor->gp, actor, &report->package.aid, sw);
    if (id) {
        e = perso_store_release(actor->store, actor->domain, id, &grant, record_bytes,
                                SEAM_PERSO_RECORD_MAX, &record_len);
        if (!e)
            e = seam_perso_record_decode(record_bytes, record_len, record);
        extra = e ? NULL : record;
    }
    if (!e && !(personal = malloc(len + PERSO_SECTION_MAX)))
        e = SEAM_ERR_NOMEM;
    if (!e && extra) {
        e = seam_perso_package_personalize(module, len, extra, personal, len + PERSO_SECTION_MAX,
                                           &personal_len);
        for (size_t i = 0; !e && i < extra->block_count; i++)
            report->perso_bytes += 1 + extra->blocks[i].len;
    } else if (!e) {
        memcpy(personal, module, len);
        personal_len = len;
    }
    if (!e && !(file = malloc(personal_len + 8)))
        e = SEAM_ERR_NOMEM;
    if (!e)
        e = seam_gp_load_file(personal, personal_len, file, personal_len + 8, &file_len);
    if (!e)
        e = seam_gp_load(actor->gp, file, file_len, NULL, NULL, &sw);
    if (!e) {
        report->sw = sw;
        report->load_bytes += file_len;
        if (sw != 0x9000) {
            perso_flow_refused(actor, report, id ? &id->instance : NULL, sw, "LOAD");
            *refused = true;
        }
    }
    if (personal) {
        seam_secure_zero(personal, personal_len);
        free(personal);
    }
    if (file) {
        seam_secure_zero(file, file_len);
        free(file);
    }
    return e;
}

/* Appends one DGI 7F71 of r's entries [from, to) to out at *n. */
static seam_err entries_dgi(const seam_perso_record *r, size_t from, size_t to, uint8_t *out,
                            size_t cap, size_t *n) {
    seam_perso_record part = {.instance = r->instance, .entry_count = to - from};
    size_t m = 0;
    memcpy(part.entries, r->entries + from, (to - from) * sizeof r->entries[0]);
    seam_err e = seam_perso_entries_dgi(&part, out + *n, cap - *n, &m);
    if (!e)
        *n += m;
    return e;
}

seam_err perso_flow_entries(const seam_perso_actor *actor, seam_perso_report *report,
                            const seam_perso_record *record, bool *refused) {
    size_t block = seam_gp_block_size(actor->gp), n = 0, from = 0, m = 0;
    uint8_t *dgis;
    uint16_t sw = 0;
    seam_err e = SEAM_OK;
    if (record->entry_count == 0)
        return SEAM_OK;
    /* DGIs of as many entries as one STORE DATA block carries (each DGI whole in one) */
    size_t cap = SEAM_PERSO_RECORD_MAX * 2;
    if (!(dgis = malloc(cap)))
        return SEAM_ERR_NOMEM;
    while (!e && from < record->entry_count) {
        size_t to = from + 1;
        while (to < record->entry_count) {
            seam_perso_record part = {.instance = record->instance, .entry_count = to + 1 - from};
            memcpy(part.entries, record->entries + from, part.entry_count * sizeof part.entries[0]);
            if (seam_perso_entries_dgi(&part, NULL, 0, &m) != SEAM_ERR_BUFFER_SMALL || m > block)
                break;
            to++;
        }
        e = entries_dgi(record, from, to, dgis, cap, &n);
        from = to;
    }
    if (!e)
        e = seam_gp_store_data(actor->gp, SEAM_GP_STORE_DGI, dgis, n, &sw);
    if (!e) {
        report->sw = sw;
        report->perso_bytes += n;
        if (sw != 0x9000) {
            perso_flow_refused(actor, report, &record->instance, sw,
                               "STORE DATA (DGI 7F71, the application data)");
            *refused = true;
        }
    }
    seam_secure_zero(dgis, n);
    free(dgis);
    return e;
}

/* Takes the package off the card again (a refusal after its LOAD: nothing kept). */
static void take_back(const seam_perso_actor *actor, const seam_perso_report *report) {
    uint16_t sw = 0;
    (void)seam_gp_delete(actor->gp, report->package.aid.bytes, report->package.aid.len, true, &sw);
}

/* INSTALL [for install and make selectable] of instance from the package's first
   applet, privileges 00 (the load file's seam.perso section applied with it). */
static seam_err install_instance(const seam_perso_actor *actor, seam_perso_report *report,
                                 const seam_gp_aid *instance, bool *refused) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = report->package.aid,
                                 .module = report->package.applets[0],
                                 .application = *instance,
                                 .privileges_len = 1};
    uint16_t sw = 0;
    seam_err e = seam_gp_install(actor->gp, &in, &sw);
    report->sw = sw;
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, instance, sw, "INSTALL [for install]");
        *refused = true;
    }
    return e;
}

/* SET STATUS PERSONALIZED of instance. */
static seam_err set_personalized(const seam_perso_actor *actor, seam_perso_report *report,
                                 const seam_gp_aid *instance, bool *refused) {
    uint16_t sw = 0;
    seam_err e = seam_gp_set_status(actor->gp, 0x40, LIFECYCLE_PERSONALIZED, instance->bytes,
                                    instance->len, &sw);
    report->sw = sw;
    if (!e && sw != 0x9000) {
        perso_flow_refused(actor, report, instance, sw, "SET STATUS PERSONALIZED");
        *refused = true;
    }
    return e;
}

typedef struct {
    const seam_gp_aid *aid;
    bool found;
    uint8_t lifecycle;
} instance_probe;

static seam_err probe_instance(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *entry) {
    instance_probe *p = ctx;
    (void)scope;
    if (entry->aid.len == p->aid->len && !memcmp(entry->aid.bytes, p->aid->bytes, p->aid->len)) {
        p->found = true;
        p->lifecycle = entry->lifecycle;
    }
    return SEAM_OK;
}

/* How far an earlier run of this install went, read on the card (GET STATUS): *at, the
   package at the delivered version; *found and *lifecycle, the instance. */
static seam_err install_progress(const seam_perso_actor *actor, const seam_perso_report *report,
                                 const seam_gp_aid *instance, bool *at, bool *found,
                                 uint8_t *lifecycle) {
    instance_probe p = {instance, false, 0};
    uint16_t sw = 0;
    seam_err e = perso_flow_package_at(actor, &report->package.aid, report->package.version, at);
    if (!e && *at)
        e = seam_gp_get_status(actor->gp, SEAM_GP_APPS, instance->bytes, instance->len,
                               probe_instance, &p, &sw);
    *found = !e && sw == 0x9000 && p.found;
    *lifecycle = *found ? p.lifecycle : 0;
    return e;
}

/*
 * The install's steps, each one card transaction, in this order so that a cut (the
 * terminal killed) anywhere leaves a state the next call reads on the card and finishes
 * (docs/restore-module.md "Outside the card"):
 *
 *   nothing ──INSTALL [for load] + LOAD (seam.perso inside)──▶ LOADED
 *   LOADED ──INSTALL [for install] (the section applied with it)──▶ INSTALLED
 *   INSTALLED ──export into the store──▶ FILED ──SET STATUS PERSONALIZED──▶ DONE
 *
 * The record is filed before SET STATUS: an instance the card (and the server's registry
 * read) shows PERSONALIZED always has its record in the store. DONE found again with the
 * record in the store: nothing sent.
 */
seam_err seam_perso_install(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                            const seam_perso_data *perso, size_t n, seam_perso_report *report) {
    seam_perso_record r;
    perso_identity id;
    bool refused = false, loaded = false, at = false, found = false;
    uint8_t lifecycle = 0;
    seam_err e;
    memset(report, 0, sizeof *report);
    if (n != 1 || !perso || perso[0].len < 1 || perso[0].len > 255 ||
        perso[0].instance.len < SEAM_GP_AID_MIN || perso[0].instance.len > SEAM_GP_AID_MAX)
        return SEAM_ERR_ARG;
    const seam_gp_aid *instance = &perso[0].instance;
    e = perso_flow_begin(actor, module, len, report, &refused);
    if (!e && !refused)
        e = install_progress(actor, report, instance, &at, &found, &lifecycle);
    if (e || refused)
        return e;
    report->resumed = at;
    if (!at) {
        memset(&r, 0, sizeof r);
        r.instance = *instance;
        r.block_count = 1;
        r.blocks[0] = (seam_perso_block){0x90, perso[0].data, perso[0].len};
        e = perso_flow_load(actor, report, module, len, NULL, &r, NULL, NULL, &refused);
        loaded = !e && !refused;
        perso_kill_point("install.loaded");
    }
    if (!e && !refused && !found) {
        e = install_instance(actor, report, instance, &refused);
        perso_kill_point("install.installed");
    }
    bool filed = false;
    if (!e && !refused && lifecycle == LIFECYCLE_PERSONALIZED) {
        perso_flow_identity(actor, instance, &report->package.aid, &id);
        e = perso_store_check(actor->store, actor->domain, &id);
        filed = e == SEAM_OK;
        if (e == SEAM_ERR_NOT_FOUND || e == SEAM_ERR_PERSO_SEAL)
            e = SEAM_OK; /* filed again from the card */
    }
    if (!e && !refused && !filed) {
        e = perso_flow_export(actor, report, instance, &report->package.aid, &refused);
        perso_kill_point("install.exported");
    }
    if (!e && !refused && lifecycle != LIFECYCLE_PERSONALIZED)
        e = set_personalized(actor, report, instance, &refused);
    if (loaded && (e || refused))
        take_back(actor, report);
    if (!e && !refused) {
        report->instances = 1;
        report->reason[0] = '\0';
        report->sw = 0x9000;
    }
    return e;
}

seam_err seam_perso_restore(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                            const seam_gp_aid *instance, seam_perso_report *report) {
    static const char no_record[] = "no record in the store for this card, domain and instance";
    uint8_t *bytes = NULL;
    seam_perso_record r;
    seam_gp_package pkg;
    perso_identity id;
    bool refused = false, loaded = false;
    seam_err e;
    memset(report, 0, sizeof *report);
    uint16_t exported = 0;
    e = seam_gp_package_read(module, len, &pkg, report->reason, sizeof report->reason);
    if (e)
        return e;
    report->reason[0] = '\0';
    if ((e = perso_flow_no_perso(actor, module, len, report)) != SEAM_OK)
        return e;
    /* the record must open, and be of this version or an older one, before anything is
       sent to the card (P10: no downgrade through a restore) */
    perso_flow_identity(actor, instance, &pkg.aid, &id);
    e = perso_store_version(actor->store, actor->domain, &id, &exported);
    if (!e && pkg.version < exported) {
        snprintf(report->reason, sizeof report->reason,
                 "the package (version %u.%u) is older than the record's (%u.%u): refused",
                 pkg.version >> 8, pkg.version & 0xFFu, exported >> 8, exported & 0xFFu);
        (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, instance,
                                 report->reason);
        return SEAM_ERR_PERSO_DENIED;
    }
    if (e == SEAM_ERR_NOT_FOUND) {
        snprintf(report->reason, sizeof report->reason, "%s", no_record);
        (void)perso_store_refuse(actor->store, actor->cin, actor->cin_len, instance, no_record);
        return SEAM_ERR_PERSO_DENIED;
    }
    if (e == SEAM_ERR_PERSO_SEAL)
        snprintf(report->reason, sizeof report->reason,
                 "the stored record does not open (another identity's, or tampered)");
    if (!e)
        e = perso_flow_begin(actor, module, len, report, &refused);
    if (e || refused)
        return e;
    if (!(bytes = malloc(SEAM_PERSO_RECORD_MAX)))
        return SEAM_ERR_NOMEM;
    e = perso_flow_load(actor, report, module, len, &id, NULL, bytes, &r, &refused);
    loaded = !e && !refused;
    if (loaded) {
        seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                     .elf = report->package.aid,
                                     .module = report->package.applets[0],
                                     .application = *instance,
                                     .privileges_len = 1};
        uint16_t sw = 0;
        e = seam_gp_install(actor->gp, &in, &sw);
        report->sw = sw;
        if (!e && sw != 0x9000) {
            perso_flow_refused(actor, report, instance, sw, "INSTALL [for install]");
            refused = true;
        }
    }
    if (loaded && !e && !refused)
        e = perso_flow_entries(actor, report, &r, &refused);
    if (loaded && !e && !refused) {
        uint16_t sw = 0;
        e = seam_gp_set_status(actor->gp, 0x40, LIFECYCLE_PERSONALIZED, instance->bytes,
                               instance->len, &sw);
        report->sw = sw;
        if (!e && sw != 0x9000) {
            perso_flow_refused(actor, report, instance, sw, "SET STATUS PERSONALIZED");
            refused = true;
        }
    }
    if (loaded && (e || refused))
        take_back(actor, report);
    if (!e && !refused) {
        report->instances = 1;
        report->reason[0] = '\0';
    }
    seam_secure_zero(bytes, SEAM_PERSO_RECORD_MAX);
    free(bytes);
    return e;
}
