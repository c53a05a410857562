/*
 * Upgrade proposals (proposals.h, S10): one scan of every device's `./apps` records, and of
 * the `package.<AID>` records of its `./card` (the card's own database read from carddb,
 * S8), into a flat list of (application, version, device), sorted twice — once for the inventory
 * (kind, id, version), once for the card packages (AID, version) — so that the work
 * grows as n log n with the number of records, never with its square.
 */
#include "proposals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dm_record.h"
#include "seam/util.h"

#define APPS         "./apps"
#define CARD         "./card"
#define CARD_PACKAGE "package." /* ./card key prefix of a package fact */

/* One `./apps` record of one device. */
typedef struct {
    bool card;
    bool versioned;        /* card: package and ver below are usable */
    bool card_db;          /* from ./card: counts in proposals, not in the inventory */
    seam_store_id package; /* its `package` field, else its key, as an AID */
    uint16_t ver;
    char id[SEAM_STORE_RECORD_KEY_MAX + 1];
    char name[SEAM_PROPOSAL_TEXT_MAX + 1];
    char version[SEAM_PROPOSAL_TEXT_MAX + 1];
    char device[SEAM_STORE_DEVICE_ID_MAX + 1];
    seam_store_id cin;
} entry;

typedef struct {
    entry *items;
    size_t count, cap;
} entries;

/* A field's value, or "" when it is missing or does not fit (a report, not a refusal). */
static void field(const seam_store_record *r, const char *name, char *out, size_t cap) {
    if (seam_dm_field(r->content, r->content_len, name, out, cap))
        out[0] = '\0';
}

/* A new zeroed entry at the end of list, or NULL when memory ran out. */
static entry *append(entries *list) {
    if (list->count == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 256;
        entry *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return NULL;
        list->items = grown;
        list->cap = cap;
    }
    entry *e = &list->items[list->count++];
    memset(e, 0, sizeof *e);
    return e;
}

static seam_err collect(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    entries *list = ctx;
    entry *e = append(list);
    if (!e)
        return SEAM_ERR_NOMEM;
    char kind[16], package[2 * SEAM_STORE_ID_MAX + 1];
    field(r, "kind", kind, sizeof kind);
    field(r, "name", e->name, sizeof e->name);
    field(r, "version", e->version, sizeof e->version);
    field(r, "package", package, sizeof package);
    e->card = !strcmp(kind, "card");
    snprintf(e->id, sizeof e->id, "%s", r->key);
    snprintf(e->device, sizeof e->device, "%s", d->id);
    e->cin = d->cin;
    e->versioned = e->card && seam_api_id(package[0] ? package : r->key, &e->package) &&
                   seam_api_version_parse(e->version, &e->ver);
    return SEAM_OK;
}

/* The version in a ./card package fact's value ("version=M.m", docs/sync.md "./card"): true and
 * out filled when it reads as one. */
static bool card_version(const seam_store_record *r, char *out, size_t cap) {
    static const char prefix[] = "version=";
    size_t n = sizeof prefix - 1, len = 0;
    if (r->content_len <= n || memcmp(r->content, prefix, n))
        return false;
    while (n + len < r->content_len && r->content[n + len] != ' ')
        len++;
    if (len >= cap)
        return false;
    memcpy(out, r->content + n, len);
    out[len] = '\0';
    return true;
}

/* Adds a ./card `package.<AID>` fact of device d as a versioned card entry; other keys
 * (instances, parameters) and facts that do not read are left out (a report, not a refusal). */
static seam_err collect_card(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    size_t n = sizeof CARD_PACKAGE - 1;
    seam_store_id package;
    uint16_t ver;
    char version[SEAM_PROPOSAL_TEXT_MAX + 1];
    if (strncmp(r->key, CARD_PACKAGE, n) || !seam_api_id(r->key + n, &package) ||
        !card_version(r, version, sizeof version) || !seam_api_version_parse(version, &ver))
        return SEAM_OK;
    entry *e = append(ctx);
    if (!e)
        return SEAM_ERR_NOMEM;
    e->card = e->versioned = e->card_db = true;
    e->package = package;
    e->ver = ver;
    snprintf(e->id, sizeof e->id, "%s", r->key + n);
    snprintf(e->version, sizeof e->version, "%s", version);
    snprintf(e->device, sizeof e->device, "%s", d->id);
    e->cin = d->cin;
    return SEAM_OK;
}

static int by_app(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = (int)y->card - (int)x->card; /* card applets first */
    if (!c)
        c = strcmp(x->id, y->id);
    if (!c)
        c = strcmp(x->version, y->version);
    return c ? c : strcmp(x->device, y->device);
}

static int id_cmp(const seam_store_id *a, const seam_store_id *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int by_package(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = (int)y->versioned - (int)x->versioned; /* usable ones first */
    if (!c)
        c = id_cmp(&x->package, &y->package);
    if (!c)
        c = (x->ver > y->ver) - (x->ver < y->ver);
    return c ? c : strcmp(x->device, y->device);
}

static int by_cin(const void *a, const void *b) {
    return id_cmp(a, b);
}

static seam_err inventory(const entries *list, seam_proposals *out) {
    qsort(list->items, list->count, sizeof *list->items, by_app);
    out->apps = calloc(list->count ? list->count : 1, sizeof *out->apps);
    if (!out->apps)
        return SEAM_ERR_NOMEM;
    for (size_t i = 0; i < list->count; i++) {
        const entry *e = &list->items[i];
        if (e->card_db)
            continue; /* the inventory is ./apps; ./card's instances are there already */
        seam_proposal_app *last = out->app_count ? &out->apps[out->app_count - 1] : NULL;
        if (last && last->card == e->card && !strcmp(last->id, e->id) &&
            !strcmp(last->version, e->version)) {
            last->devices++;
            continue;
        }
        seam_proposal_app *a = &out->apps[out->app_count++];
        a->card = e->card;
        snprintf(a->id, sizeof a->id, "%s", e->id);
        snprintf(a->name, sizeof a->name, "%s", e->name);
        snprintf(a->version, sizeof a->version, "%s", e->version);
        a->devices = 1;
    }
    return SEAM_OK;
}

/* The newest version of package aid among pkgs[0..n) (sorted by AID then version); 0: none. */
static uint16_t newest(const seam_store_package *pkgs, size_t n, const seam_store_id *aid) {
    uint16_t best = 0;
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (!id_cmp(&pkgs[i].aid, aid) && (!found || pkgs[i].version > best))
            best = pkgs[i].version, found = true;
    return found ? best : 0;
}

/* Fills proposal p from the group g[0..n) (one package, one from-version). */
static seam_err fill(seam_store *store, seam_proposal *p, const entry *g, size_t n, uint16_t to) {
    char hex[2 * SEAM_STORE_ID_MAX + 1], from[8], to_text[8];
    size_t len = 0;
    p->package = g[0].package;
    p->from = g[0].ver;
    p->to = to;
    for (size_t i = 0; i < n && !p->name[0]; i++) /* a ./card fact has no name */
        snprintf(p->name, sizeof p->name, "%s", g[i].name);
    seam_hex_encode(p->package.bytes, p->package.len, hex, sizeof hex, &len);
    seam_api_version_text(p->from, from);
    seam_api_version_text(to, to_text);
    snprintf(p->id, sizeof p->id, "%s-%s-%s", hex, from, to_text);
    p->cins = calloc(n, sizeof *p->cins);
    p->skipped = calloc(n, sizeof *p->skipped);
    if (!p->cins || !p->skipped)
        return SEAM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(g[i].device, g[i - 1].device))
            continue; /* one device, two records of one package (two instances, or ./apps and
                         ./card): once */
        p->devices++;
        seam_store_card card;
        seam_err e =
            g[i].cin.len ? seam_store_card_get(store, &g[i].cin, &card) : SEAM_ERR_NOT_FOUND;
        if (e && e != SEAM_ERR_NOT_FOUND)
            return e;
        if (!e) {
            p->cins[p->cin_count++] = g[i].cin;
            continue;
        }
        seam_proposal_skip *s = &p->skipped[p->skipped_count++];
        snprintf(s->device, sizeof s->device, "%s", g[i].device);
        s->reason = g[i].cin.len ? "unknown_card" : "no_cin";
    }
    /* two devices may report one card (it moved between handsets): one target */
    qsort(p->cins, p->cin_count, sizeof *p->cins, by_cin);
    size_t kept = 0;
    for (size_t i = 0; i < p->cin_count; i++)
        if (!kept || id_cmp(&p->cins[kept - 1], &p->cins[i]))
            p->cins[kept++] = p->cins[i];
    p->cin_count = kept;
    return SEAM_OK;
}

static seam_err propose(seam_store *store, const entries *list, seam_proposals *out) {
    seam_store_package *pkgs = NULL;
    size_t npkgs = 0;
    seam_err e = seam_store_package_list(store, &pkgs, &npkgs);
    if (e)
        return e;
    qsort(list->items, list->count, sizeof *list->items, by_package);
    out->items = calloc(list->count ? list->count : 1, sizeof *out->items);
    if (!out->items)
        e = SEAM_ERR_NOMEM;
    for (size_t i = 0, j; !e && i < list->count && list->items[i].versioned; i = j) {
        const entry *g = &list->items[i];
        for (j = i + 1;
             j < list->count && list->items[j].versioned &&
             !id_cmp(&list->items[j].package, &g->package) && list->items[j].ver == g->ver;
             j++) {
        }
        uint16_t to = newest(pkgs, npkgs, &g->package);
        if (to > g->ver)
            e = fill(store, &out->items[out->count++], g, j - i, to);
    }
    free(pkgs);
    return e;
}

seam_err seam_proposals_make(seam_store *store, seam_proposals *out) {
    entries list = {0};
    if (!store || !out)
        return SEAM_ERR_ARG;
    memset(out, 0, sizeof *out);
    seam_err e = seam_store_record_scan(store, APPS, collect, &list);
    if (!e)
        e = seam_store_record_scan(store, CARD, collect_card, &list);
    if (!e)
        e = inventory(&list, out);
    if (!e)
        e = propose(store, &list, out);
    free(list.items);
    if (e)
        seam_proposals_free(out);
    return e;
}

void seam_proposals_free(seam_proposals *p) {
    if (!p)
        return;
    for (size_t i = 0; p->items && i < p->count; i++) {
        free(p->items[i].cins);
        free(p->items[i].skipped);
    }
    free(p->items);
    free(p->apps);
    memset(p, 0, sizeof *p);
}

void seam_proposals_print(const seam_proposals *p, void *out_file) {
    FILE *out = out_file;
    fprintf(out, "proposals: %zu\n", p->count);
    for (size_t i = 0; i < p->count; i++) {
        const seam_proposal *q = &p->items[i];
        char hex[2 * SEAM_STORE_ID_MAX + 1], from[8], to[8];
        size_t n = 0;
        seam_hex_encode(q->package.bytes, q->package.len, hex, sizeof hex, &n);
        seam_api_version_text(q->from, from);
        seam_api_version_text(q->to, to);
        fprintf(out, "  %s: %zu device%s run%s %s %s (package %s); %s is available\n", q->id,
                q->devices, q->devices == 1 ? "" : "s", q->devices == 1 ? "s" : "",
                q->name[0] ? q->name : hex, from, hex, to);
        fprintf(out, "    cards an update campaign would target: %zu\n", q->cin_count);
        for (size_t k = 0; k < q->cin_count; k++) {
            seam_hex_encode(q->cins[k].bytes, q->cins[k].len, hex, sizeof hex, &n);
            fprintf(out, "      %s\n", hex);
        }
        fprintf(out, "    devices skipped (card unknown): %zu\n", q->skipped_count);
        for (size_t k = 0; k < q->skipped_count; k++)
            fprintf(out, "      %s (%s)\n", q->skipped[k].device, q->skipped[k].reason);
    }
    fprintf(out, "applications:\n  %-8s %-32s %-16s %-10s %8s\n", "kind", "id", "name", "version",
            "devices");
    for (size_t i = 0; i < p->app_count; i++) {
        const seam_proposal_app *a = &p->apps[i];
        fprintf(out, "  %-8s %-32s %-16s %-10s %8zu\n", a->card ? "card" : "terminal", a->id,
                a->name[0] ? a->name : "-", a->version[0] ? a->version : "-", a->devices);
    }
}

seam_err seam_proposal_accept(seam_store *store, const char *id, seam_store_campaign *campaign,
                              seam_proposals *proposal) {
    seam_proposals all;
    if (!store || !id || !campaign)
        return SEAM_ERR_ARG;
    seam_err e = seam_store_begin(store); /* the analysis and the campaign see one state */
    if (!e)
        e = seam_proposals_make(store, &all);
    if (e)
        return seam_store_end(store, e);
    seam_proposal *p = NULL;
    for (size_t i = 0; i < all.count && !p; i++)
        if (!strcmp(all.items[i].id, id))
            p = &all.items[i];
    if (!p)
        e = SEAM_ERR_NOT_FOUND;
    else if (p->cin_count == 0)
        e = SEAM_ERR_SERVER_CONFLICT;
    if (!e) {
        memset(campaign, 0, sizeof *campaign);
        campaign->kind = SEAM_STORE_UPDATE;
        campaign->package_aid = p->package;
        campaign->package_version = p->to;
        e = seam_store_campaign_create(store, campaign, p->cins, p->cin_count);
    }
    if (!e)
        e = seam_store_campaign_set_state(store, campaign->id, SEAM_STORE_CAMPAIGN_RUNNING);
    if (!e)
        e = seam_store_campaign_get(store, campaign->id, campaign);
    e = seam_store_end(store, e);
    if (!e && proposal) {
        /* hand back only the accepted one */
        memset(proposal, 0, sizeof *proposal);
        proposal->items = calloc(1, sizeof *proposal->items);
        if (proposal->items) {
            proposal->items[0] = *p;
            proposal->count = 1;
            p->cins = NULL;
            p->skipped = NULL;
        }
    }
    seam_proposals_free(&all);
    return e;
}
