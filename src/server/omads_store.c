/*
 * The OMA DS server engine's record store over the server's device copy (omads_store.h).
 *
 * States: IDLE -> begin (records of the URI, anchors, map read) -> OPEN (applies and map
 * pairs kept in memory) -> commit (one store transaction) -> IDLE; rollback or free from
 * OPEN drops the memory and writes nothing.
 *
 * Keys: the GUID of a record the device adds is its LUID when that key is free (so that a
 * terminal's `./devinfo` `language` is `language` here too), else the LUID and a suffix.
 * A device's LUID that the map does not know but that names a live record no other LUID
 * maps to is that record (natural keys: a slow sync of a terminal whose map was lost finds
 * its records instead of adding them twice).
 */
#include "omads_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_record.h"
#include "seam/crypto.h"
#include "seam/sync.h"
#include "seam/util.h"

typedef struct {
    char *key;
    char *content; /* NULL: not live (deleted, or never) */
    size_t len;
    bool live0;      /* live at begin */
    int64_t version; /* at begin; 0 for a record the session created */
    bool changed;    /* applied in the session */
} om_rec;

typedef struct {
    char *luid, *guid;
    bool fresh; /* to write at commit */
} om_pair;

/* Open addressing, index + 1 in each slot (0: empty); the key of index i comes from key_of. */
typedef struct {
    size_t *slot;
    size_t cap; /* a power of two, more than twice the entries */
} om_index;

struct omads_store {
    seam_store *store;
    char id[SEAM_STORE_DEVICE_ID_MAX + 1];
    char uri[SEAM_STORE_URI_MAX + 1];
    char label[SEAM_STORE_TEXT_MAX];
    bool open, reported, wiped;
    seam_store_anchor anchor;
    char own_next[SEAM_SYNCML_ANCHOR_MAX]; /* this session's Next, kept at commit */
    int64_t counter;                       /* the device's counter at begin */
    size_t pending;                        /* server changes not yet synced, at begin */
    om_rec *recs;
    size_t n_recs, cap_recs;
    om_index by_key;
    om_pair *pairs;
    size_t n_pairs, cap_pairs;
    om_index by_luid, by_guid;
    unsigned won_client, won_server;
};

/* ---- the index ---- */

static size_t hash(const char *s) {
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

typedef const char *(*key_fn)(const omads_store *s, size_t i);
static const char *rec_key(const omads_store *s, size_t i) {
    return s->recs[i].key;
}
static const char *pair_luid(const omads_store *s, size_t i) {
    return s->pairs[i].luid;
}
static const char *pair_guid(const omads_store *s, size_t i) {
    return s->pairs[i].guid;
}

/* The index of key, or SIZE_MAX. */
static size_t ix_find(const omads_store *s, const om_index *ix, key_fn key_of, const char *key) {
    if (!ix->cap)
        return SIZE_MAX;
    for (size_t at = hash(key) & (ix->cap - 1);; at = (at + 1) & (ix->cap - 1)) {
        if (!ix->slot[at])
            return SIZE_MAX;
        if (!strcmp(key_of(s, ix->slot[at] - 1), key))
            return ix->slot[at] - 1;
    }
}

static void ix_place(const omads_store *s, om_index *ix, key_fn key_of, size_t i) {
    const char *key = key_of(s, i);
    for (size_t at = hash(key) & (ix->cap - 1);; at = (at + 1) & (ix->cap - 1))
        if (!ix->slot[at] || !strcmp(key_of(s, ix->slot[at] - 1), key)) {
            ix->slot[at] = i + 1; /* a later entry with the same key replaces the earlier one */
            return;
        }
}

/* Indexes entry i (of count, all of them indexed up to i), growing when needed. */
static seam_err ix_add(const omads_store *s, om_index *ix, key_fn key_of, size_t i, size_t count) {
    if (2 * count >= ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        while (2 * count >= cap)
            cap *= 2;
        size_t *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return SEAM_ERR_NOMEM;
        free(ix->slot);
        ix->slot = slot;
        ix->cap = cap;
        for (size_t j = 0; j < i; j++)
            ix_place(s, ix, key_of, j);
    }
    ix_place(s, ix, key_of, i);
    return SEAM_OK;
}

/* ---- records and pairs in memory ---- */

static char *dup_n(const char *p, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static om_rec *rec_find(omads_store *s, const char *key) {
    size_t i = ix_find(s, &s->by_key, rec_key, key);
    return i == SIZE_MAX ? NULL : &s->recs[i];
}

/* A new record key (not live); NULL when out of memory. */
static om_rec *rec_add(omads_store *s, const char *key) {
    if (s->n_recs == s->cap_recs) {
        size_t cap = s->cap_recs ? s->cap_recs * 2 : 64;
        om_rec *grown = realloc(s->recs, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->recs = grown;
        s->cap_recs = cap;
    }
    om_rec *r = &s->recs[s->n_recs];
    memset(r, 0, sizeof *r);
    if (!(r->key = dup_n(key, strlen(key))))
        return NULL;
    if (ix_add(s, &s->by_key, rec_key, s->n_recs, s->n_recs + 1)) {
        free(r->key);
        return NULL;
    }
    s->n_recs++;
    return r;
}

static seam_err rec_set(om_rec *r, const char *content, size_t len) {
    char *copy = NULL;
    if (content && !(copy = dup_n(content, len)))
        return SEAM_ERR_NOMEM;
    free(r->content);
    r->content = copy;
    r->len = content ? len : 0;
    r->changed = true;
    return SEAM_OK;
}

static seam_err pair_add(omads_store *s, const char *luid, const char *guid, bool fresh) {
    if (s->n_pairs == s->cap_pairs) {
        size_t cap = s->cap_pairs ? s->cap_pairs * 2 : 64;
        om_pair *grown = realloc(s->pairs, cap * sizeof *grown);
        if (!grown)
            return SEAM_ERR_NOMEM;
        s->pairs = grown;
        s->cap_pairs = cap;
    }
    om_pair *p = &s->pairs[s->n_pairs];
    p->luid = dup_n(luid, strlen(luid));
    p->guid = dup_n(guid, strlen(guid));
    p->fresh = fresh;
    if (!p->luid || !p->guid || ix_add(s, &s->by_luid, pair_luid, s->n_pairs, s->n_pairs + 1) ||
        ix_add(s, &s->by_guid, pair_guid, s->n_pairs, s->n_pairs + 1)) {
        free(p->luid);
        free(p->guid);
        return SEAM_ERR_NOMEM;
    }
    s->n_pairs++;
    return SEAM_OK;
}

static void drop_all(omads_store *s) {
    for (size_t i = 0; i < s->n_recs; i++) {
        free(s->recs[i].key);
        if (s->recs[i].content)
            seam_secure_zero(s->recs[i].content, s->recs[i].len);
        free(s->recs[i].content);
    }
    for (size_t i = 0; i < s->n_pairs; i++) {
        free(s->pairs[i].luid);
        free(s->pairs[i].guid);
    }
    free(s->recs);
    free(s->pairs);
    free(s->by_key.slot);
    free(s->by_luid.slot);
    free(s->by_guid.slot);
    s->recs = NULL;
    s->pairs = NULL;
    s->n_recs = s->cap_recs = s->n_pairs = s->cap_pairs = 0;
    memset(&s->by_key, 0, sizeof s->by_key);
    memset(&s->by_luid, 0, sizeof s->by_luid);
    memset(&s->by_guid, 0, sizeof s->by_guid);
    s->open = s->reported = s->wiped = false;
}

/* ---- the engine's store ---- */

#define PAGE 512

static seam_err load_records(omads_store *s) {
    int64_t since = 0;
    for (;;) {
        seam_store_record *page = NULL;
        size_t count = 0;
        seam_err e = seam_store_record_list(s->store, s->id, since, PAGE, &page, &count);
        if (e == SEAM_ERR_NOT_FOUND)
            return SEAM_OK; /* a device that never synchronized: no records */
        for (size_t i = 0; !e && i < count; i++) {
            const seam_store_record *r = &page[i];
            since = r->version;
            if (strcmp(r->uri, s->uri))
                continue;
            om_rec *m = rec_add(s, r->key);
            if (!m || (!r->deleted && rec_set(m, r->content, r->content_len)))
                e = SEAM_ERR_NOMEM;
            if (!e) {
                m->changed = false;
                m->live0 = !r->deleted;
                m->version = r->version;
                if (r->version > s->anchor.synced)
                    s->pending++;
            }
        }
        if (page)
            seam_store_free_secret(page, (count ? count : 1) * sizeof *page);
        if (e || count < PAGE)
            return e;
    }
}

static seam_err om_begin(void *ctx, const char *db, const char *peer) {
    omads_store *s = ctx;
    if (s->open || strcmp(db, s->uri) || strcmp(peer, s->id))
        return SEAM_ERR_ARG; /* the session's device and database only */
    drop_all(s);
    memset(&s->anchor, 0, sizeof s->anchor);
    s->pending = 0;
    s->won_client = s->won_server = 0;
    seam_err e = seam_store_anchor_get(s->store, s->id, s->uri, &s->anchor);
    if (e == SEAM_ERR_NOT_FOUND)
        e = SEAM_OK;
    seam_store_device d;
    seam_err known = e ? e : seam_store_device_get(s->store, s->id, &d);
    s->counter = known ? 0 : d.counter;
    if (!e && known && known != SEAM_ERR_NOT_FOUND)
        e = known;
    if (!e)
        e = load_records(s);
    seam_store_map_entry *map = NULL;
    size_t n = 0;
    if (!e)
        e = seam_store_map_list(s->store, s->id, s->uri, &map, &n);
    for (size_t i = 0; !e && i < n; i++)
        e = pair_add(s, map[i].luid, map[i].guid, false);
    free(map);
    if (e)
        drop_all(s);
    else
        s->open = true;
    return e;
}

static seam_err om_commit(void *ctx, const char *db, const char *peer, const char *anchor) {
    omads_store *s = ctx;
    (void)db, (void)peer;
    if (!s->open)
        return SEAM_ERR_ARG;
    seam_store_change *batch = calloc(s->n_recs ? s->n_recs : 1, sizeof *batch);
    if (!batch)
        return SEAM_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < s->n_recs; i++) {
        const om_rec *r = &s->recs[i];
        if (!r->changed || (!r->content && !r->live0))
            continue;
        batch[n++] = (seam_store_change){.uri = s->uri,
                                         .key = r->key,
                                         .content = r->content,
                                         .content_len = r->len,
                                         .deleted = r->content == NULL};
    }
    int64_t now = 0, after = 0;
    seam_err e = seam_store_begin(s->store);
    if (!e)
        e = seam_store_device_lock(s->store, s->id, &now);
    if (!e && now != s->counter)
        e = SEAM_ERR_SERVER_CONFLICT; /* changed by someone else since begin: start over */
    after = now;
    if (!e && n)
        e = seam_store_device_apply(s->store, s->id, s->label, batch, n, &after);
    if (!e && s->wiped)
        e = seam_store_map_clear(s->store, s->id, s->uri);
    for (size_t i = 0; !e && i < s->n_pairs; i++)
        if (s->pairs[i].fresh)
            e = seam_store_map_put(s->store, s->id, s->uri, s->pairs[i].luid, s->pairs[i].guid);
    if (!e) {
        seam_store_anchor a = s->anchor;
        snprintf(a.peer_last, sizeof a.peer_last, "%s", anchor);
        snprintf(a.own_last, sizeof a.own_last, "%s", s->own_next);
        /* Changes the device got (or had nothing to get) are synced; in a one-way sync from
           the device, the server's pending changes wait for the next sync. */
        if (s->reported || s->pending == 0)
            a.synced = after;
        e = seam_store_anchor_put(s->store, s->id, s->uri, &a);
    }
    e = seam_store_end(s->store, e);
    free(batch);
    drop_all(s);
    return e;
}

static seam_err om_rollback(void *ctx, const char *db, const char *peer) {
    (void)db, (void)peer;
    drop_all(ctx);
    return SEAM_OK;
}

static seam_err om_last_anchor(void *ctx, const char *db, const char *peer,
                               char out[SEAM_SYNCML_ANCHOR_MAX]) {
    omads_store *s = ctx;
    (void)db, (void)peer;
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%.63s", s->anchor.peer_last);
    return SEAM_OK;
}

static seam_err om_own_anchor(void *ctx, const char *db, const char *peer,
                              char out[SEAM_SYNCML_ANCHOR_MAX]) {
    omads_store *s = ctx;
    (void)db, (void)peer;
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%.63s", s->anchor.own_last);
    return SEAM_OK;
}

static seam_err om_next_anchor(void *ctx, const char *db, char out[SEAM_SYNCML_ANCHOR_MAX]) {
    omads_store *s = ctx;
    (void)db;
    /* the server's own anchor: the device's counter and a random part (fresh every session);
       the device checks it comes back as Last next time, the server decides nothing by it */
    uint8_t r[4];
    seam_err e = seam_crypto_random_fresh(r, sizeof r);
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%lld-%02x%02x%02x%02x", (long long)s->counter + 1, r[0],
             r[1], r[2], r[3]);
    snprintf(s->own_next, sizeof s->own_next, "%s", out);
    return e;
}

static seam_err om_changes(void *ctx, const char *db, const char *peer, bool all,
                           seam_syncml_change_fn each, void *arg) {
    omads_store *s = ctx;
    (void)db, (void)peer;
    s->reported = true;
    for (size_t i = 0; i < s->n_recs; i++) {
        const om_rec *r = &s->recs[i];
        if (all ? !r->content : r->version <= s->anchor.synced || r->changed)
            continue; /* a tombstone newer than the last sync is a Delete */
        bool mapped = ix_find(s, &s->by_guid, pair_guid, r->key) != SIZE_MAX;
        seam_syncml_change c = {.op = !r->content      ? SEAM_SYNCML_OP_DELETE
                                      : all || !mapped ? SEAM_SYNCML_OP_ADD
                                                       : SEAM_SYNCML_OP_REPLACE,
                                .key = r->key,
                                .content = r->content,
                                .content_len = r->len};
        seam_err e = each(arg, &c);
        if (e)
            return e;
    }
    return SEAM_OK;
}

/* The record behind content, parsed as the database's text form (docs/sync.md). */
static bool parse(const omads_store *s, const char *content, size_t len, seam_sync_record *rec) {
    memset(rec, 0, sizeof *rec);
    return seam_sync_record_parse(s->uri, content, len, rec) == SEAM_OK &&
           seam_dm_text_ok(content, len);
}

static seam_err om_apply(void *ctx, const char *db, const seam_syncml_change *c,
                         char key_out[SEAM_SYNCML_KEY_MAX], unsigned *status) {
    omads_store *s = ctx;
    (void)db;
    seam_sync_record rec;
    if (!s->open || !c->key)
        return SEAM_ERR_ARG;
    if (c->op != SEAM_SYNCML_OP_DELETE && (!c->content || c->content_len > SEAM_STORE_CONTENT_MAX ||
                                           !parse(s, c->content, c->content_len, &rec))) {
        *status = 415; /* not this database's text form: refused, nothing stored */
        seam_log(SEAM_LOG_INFO,
                 "omads: %s of device %s: item %s (%zu bytes) refused: not the "
                 "text form of %s",
                 s->label, s->id, c->key, c->content_len, s->uri);
        return SEAM_OK;
    }
    om_rec *r = rec_find(s, c->key);
    if (c->op == SEAM_SYNCML_OP_ADD) {
        char key[SEAM_SYNCML_KEY_MAX];
        snprintf(key, sizeof key, "%s", c->key);
        for (unsigned n = 1; r && r->content; n++) { /* taken: the LUID and a suffix */
            int w = snprintf(key, sizeof key, "%.100s-%u", c->key, n);
            if (w < 0 || (size_t)w >= sizeof key || n > 1000) {
                *status = SEAM_SYNCML_COMMAND_FAILED;
                return SEAM_OK;
            }
            r = rec_find(s, key);
        }
        if (!r && !(r = rec_add(s, key)))
            return SEAM_ERR_NOMEM;
        if (s->n_recs > SEAM_STORE_RECORDS_MAX) {
            *status = 420; /* device full */
            return SEAM_OK;
        }
        snprintf(key_out, SEAM_SYNCML_KEY_MAX, "%s", key);
        *status = SEAM_SYNCML_ITEM_ADDED;
        return rec_set(r, c->content, c->content_len);
    }
    if (!r || !r->content) {
        *status = c->op == SEAM_SYNCML_OP_DELETE ? SEAM_SYNCML_NOT_DELETED : SEAM_SYNCML_NOT_FOUND;
        return SEAM_OK;
    }
    *status = SEAM_SYNCML_OK;
    return rec_set(r, c->op == SEAM_SYNCML_OP_DELETE ? NULL : c->content, c->content_len);
}

static seam_err om_wipe(void *ctx, const char *db) {
    omads_store *s = ctx;
    (void)db;
    for (size_t i = 0; i < s->n_recs; i++)
        if (s->recs[i].content && rec_set(&s->recs[i], NULL, 0))
            return SEAM_ERR_NOMEM;
    /* the device sends every record again as an Add: its old pairs mean nothing now */
    for (size_t i = 0; i < s->n_pairs; i++) {
        free(s->pairs[i].luid);
        free(s->pairs[i].guid);
    }
    s->n_pairs = 0;
    memset(s->by_luid.slot, 0, s->by_luid.cap * sizeof *s->by_luid.slot);
    memset(s->by_guid.slot, 0, s->by_guid.cap * sizeof *s->by_guid.slot);
    s->wiped = true;
    return SEAM_OK;
}

/* The policy of docs/sync.md (seam_sync_client_wins), counted for the report. */
static bool om_client_wins(void *ctx, const char *db, const char *guid,
                           const seam_syncml_change *server, const seam_syncml_change *client) {
    omads_store *s = ctx;
    (void)db, (void)guid;
    seam_sync_record srv, cli;
    bool has_srv = server->content && parse(s, server->content, server->content_len, &srv);
    bool has_cli = client->content && parse(s, client->content, client->content_len, &cli);
    bool wins = seam_sync_client_wins(s->uri, has_cli ? &cli : NULL, has_srv ? &srv : NULL);
    if (wins)
        s->won_client++;
    else
        s->won_server++;
    return wins;
}

static seam_err om_map_get(void *ctx, const char *db, const char *peer, bool by_luid,
                           const char *key, char out[SEAM_SYNCML_KEY_MAX]) {
    omads_store *s = ctx;
    (void)db, (void)peer;
    out[0] = '\0';
    size_t i =
        ix_find(s, by_luid ? &s->by_luid : &s->by_guid, by_luid ? pair_luid : pair_guid, key);
    if (i != SIZE_MAX) {
        snprintf(out, SEAM_SYNCML_KEY_MAX, "%s", by_luid ? s->pairs[i].guid : s->pairs[i].luid);
        return SEAM_OK;
    }
    const om_rec *r = by_luid ? rec_find(s, key) : NULL;
    if (r && r->content && ix_find(s, &s->by_guid, pair_guid, key) == SIZE_MAX) {
        snprintf(out, SEAM_SYNCML_KEY_MAX, "%s", key); /* the natural key (see the top) */
        return pair_add(s, key, key, true);
    }
    return SEAM_OK;
}

static seam_err om_map_put(void *ctx, const char *db, const char *peer, const char *luid,
                           const char *guid) {
    (void)db, (void)peer;
    return pair_add(ctx, luid, guid, true);
}

omads_store *omads_store_new(const char *id, const char *uri, const char *label) {
    omads_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->uri, sizeof s->uri, "%s", uri);
    snprintf(s->label, sizeof s->label, "%s", label);
    return s;
}

void omads_store_use(omads_store *s, seam_store *store) {
    s->store = store;
}

seam_syncml_store omads_store_iface(omads_store *s) {
    return (seam_syncml_store){.ctx = s,
                               .begin = om_begin,
                               .commit = om_commit,
                               .rollback = om_rollback,
                               .last_anchor = om_last_anchor,
                               .next_anchor = om_next_anchor,
                               .changes = om_changes,
                               .apply = om_apply,
                               .wipe = om_wipe,
                               .client_wins = om_client_wins,
                               .map_get = om_map_get,
                               .map_put = om_map_put,
                               .own_anchor = om_own_anchor};
}

bool omads_store_is_open(const omads_store *s) {
    return s->open;
}

void omads_store_conflicts(const omads_store *s, unsigned *client, unsigned *server) {
    *client = s->won_client;
    *server = s->won_server;
}

void omads_store_free(omads_store *s) {
    if (!s)
        return;
    drop_all(s);
    free(s);
}
