/*
 * An in-memory seam_syncml_store for the session tests: fixed arrays, so that
 * a session's transaction is a copy of the whole state and "nothing changed"
 * is a digest of every byte of it (records, pending changes, anchor, map).
 * One peer per store. Local edits (ms_put, ms_del) are what a user does; the
 * engines only reach the store through the function pointers.
 */
#ifndef SEAM_TESTS_SYNCML_MEMSTORE_H
#define SEAM_TESTS_SYNCML_MEMSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/syncml.h"

#ifndef MS_RECORDS
#define MS_RECORDS 256 /* records a store holds; a test may ask for more */
#endif
#define MS_CONTENT 256

typedef struct {
    char key[SEAM_SYNCML_KEY_MAX];
    char content[MS_CONTENT];
    int pending; /* 0 none, 1 added, 2 replaced (since the last commit) */
} ms_record;

typedef struct {
    ms_record rec[MS_RECORDS];
    size_t n;
    char deleted[MS_RECORDS][SEAM_SYNCML_KEY_MAX]; /* pending deletes */
    size_t n_deleted;
    char anchor[SEAM_SYNCML_ANCHOR_MAX];
    char map_luid[MS_RECORDS][SEAM_SYNCML_KEY_MAX], map_guid[MS_RECORDS][SEAM_SYNCML_KEY_MAX];
    size_t n_map;
    unsigned next_key;
} ms_state;

typedef struct {
    ms_state now, saved;
    bool in_session;
    bool reported;        /* changes() ran in this session: commit forgets the pending changes */
    char prefix;          /* 'L' (client) or 'G' (server) keys */
    unsigned anchors;     /* counter for fresh anchors, never rolled back */
    int fail_apply_after; /* > 0: the n-th apply fails (store failure) */
    bool client_wins;     /* the conflict hook's answer */
} memstore;

static inline void ms_init(memstore *m, char prefix) {
    memset(m, 0, sizeof *m);
    m->prefix = prefix;
}

static inline ms_record *ms_find(ms_state *s, const char *key) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->rec[i].key, key) == 0)
            return &s->rec[i];
    return NULL;
}

static inline void ms_remove(ms_state *s, ms_record *r) {
    *r = s->rec[--s->n];
    memset(&s->rec[s->n], 0, sizeof s->rec[s->n]);
}

/* A user's edit: creates or changes the record key. */
static inline void ms_put(memstore *m, const char *key, const char *content) {
    ms_record *r = ms_find(&m->now, key);
    if (!r) {
        r = &m->now.rec[m->now.n++];
        snprintf(r->key, sizeof r->key, "%s", key);
        r->pending = 1;
    } else if (!r->pending) {
        r->pending = 2;
    }
    snprintf(r->content, sizeof r->content, "%s", content);
}

/* A user's edit: deletes the record key. */
static inline void ms_del(memstore *m, const char *key) {
    ms_record *r = ms_find(&m->now, key);
    if (!r)
        return;
    if (r->pending != 1)
        snprintf(m->now.deleted[m->now.n_deleted++], SEAM_SYNCML_KEY_MAX, "%s", key);
    ms_remove(&m->now, r);
}

/* FNV-1a over the whole state: "changed nothing" is this digest unchanged. */
static inline uint64_t ms_digest(const memstore *m) {
    const uint8_t *p = (const uint8_t *)&m->now;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof m->now; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Whether the record contents of a and b are the same set (keys differ by side). */
static inline bool ms_same_records(const memstore *a, const memstore *b) {
    if (a->now.n != b->now.n)
        return false;
    for (size_t i = 0; i < a->now.n; i++) {
        size_t in_a = 0, in_b = 0;
        for (size_t j = 0; j < a->now.n; j++)
            in_a += strcmp(a->now.rec[i].content, a->now.rec[j].content) == 0;
        for (size_t j = 0; j < b->now.n; j++)
            in_b += strcmp(a->now.rec[i].content, b->now.rec[j].content) == 0;
        if (in_a != in_b)
            return false;
    }
    return true;
}

static inline bool ms_has(const memstore *m, const char *content) {
    for (size_t i = 0; i < m->now.n; i++)
        if (strcmp(m->now.rec[i].content, content) == 0)
            return true;
    return false;
}

/* ---- the seam_syncml_store functions ------------------------------------------ */

static seam_err ms_begin(void *ctx, const char *db, const char *peer) {
    (void)db, (void)peer;
    memstore *m = ctx;
    if (m->in_session)
        return SEAM_ERR_SYNCML_STORE;
    memcpy(&m->saved, &m->now, sizeof m->now); /* padding too: the digest reads every byte */
    m->in_session = true;
    m->reported = false;
    return SEAM_OK;
}

static seam_err ms_commit(void *ctx, const char *db, const char *peer, const char *anchor) {
    (void)db, (void)peer;
    memstore *m = ctx;
    if (!m->in_session)
        return SEAM_ERR_SYNCML_STORE;
    snprintf(m->now.anchor, sizeof m->now.anchor, "%s", anchor);
    if (m->reported) {
        for (size_t i = 0; i < m->now.n; i++)
            m->now.rec[i].pending = 0;
        m->now.n_deleted = 0;
        memset(m->now.deleted, 0, sizeof m->now.deleted);
    }
    m->reported = false;
    m->in_session = false;
    return SEAM_OK;
}

static seam_err ms_rollback(void *ctx, const char *db, const char *peer) {
    (void)db, (void)peer;
    memstore *m = ctx;
    if (m->in_session)
        memcpy(&m->now, &m->saved, sizeof m->now);
    m->in_session = false;
    return SEAM_OK;
}

static seam_err ms_last_anchor(void *ctx, const char *db, const char *peer,
                               char out[SEAM_SYNCML_ANCHOR_MAX]) {
    (void)db, (void)peer;
    memstore *m = ctx;
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%s", m->now.anchor);
    return SEAM_OK;
}

static seam_err ms_next_anchor(void *ctx, const char *db, char out[SEAM_SYNCML_ANCHOR_MAX]) {
    (void)db;
    memstore *m = ctx;
    snprintf(out, SEAM_SYNCML_ANCHOR_MAX, "%c%u", m->prefix, ++m->anchors);
    return SEAM_OK;
}

static seam_err ms_changes(void *ctx, const char *db, const char *peer, bool all,
                           seam_syncml_change_fn each, void *arg) {
    (void)db, (void)peer;
    memstore *m = ctx;
    m->reported = true;
    for (size_t i = 0; i < m->now.n; i++) {
        ms_record *r = &m->now.rec[i];
        if (!all && !r->pending)
            continue;
        seam_syncml_change c = {all || r->pending == 1 ? SEAM_SYNCML_OP_ADD
                                                       : SEAM_SYNCML_OP_REPLACE,
                                r->key, r->content, strlen(r->content)};
        seam_err err = each(arg, &c);
        if (err)
            return err;
    }
    for (size_t i = 0; !all && i < m->now.n_deleted; i++) {
        seam_syncml_change c = {SEAM_SYNCML_OP_DELETE, m->now.deleted[i], NULL, 0};
        seam_err err = each(arg, &c);
        if (err)
            return err;
    }
    return SEAM_OK;
}

static seam_err ms_apply(void *ctx, const char *db, const seam_syncml_change *change,
                         char key_out[SEAM_SYNCML_KEY_MAX], unsigned *status) {
    (void)db;
    memstore *m = ctx;
    if (!m->in_session || (m->fail_apply_after > 0 && --m->fail_apply_after == 0))
        return SEAM_ERR_SYNCML_STORE;
    ms_record *r = change->op == SEAM_SYNCML_OP_ADD ? NULL : ms_find(&m->now, change->key);
    switch (change->op) {
    case SEAM_SYNCML_OP_ADD:
        if (m->now.n == MS_RECORDS || change->content_len >= MS_CONTENT) {
            *status = 420;
            return SEAM_OK;
        }
        r = &m->now.rec[m->now.n++];
        snprintf(r->key, sizeof r->key, "%c%u", m->prefix, ++m->now.next_key);
        memcpy(r->content, change->content, change->content_len);
        r->content[change->content_len] = '\0';
        snprintf(key_out, SEAM_SYNCML_KEY_MAX, "%s", r->key);
        *status = SEAM_SYNCML_ITEM_ADDED;
        return SEAM_OK;
    case SEAM_SYNCML_OP_REPLACE:
        if (!r || change->content_len >= MS_CONTENT) {
            *status = r ? 420 : SEAM_SYNCML_NOT_FOUND;
            return SEAM_OK;
        }
        memcpy(r->content, change->content, change->content_len);
        r->content[change->content_len] = '\0';
        *status = SEAM_SYNCML_OK;
        return SEAM_OK;
    default:
        if (!r) {
            *status = SEAM_SYNCML_NOT_DELETED;
            return SEAM_OK;
        }
        ms_remove(&m->now, r);
        *status = SEAM_SYNCML_OK;
        return SEAM_OK;
    }
}

static seam_err ms_wipe(void *ctx, const char *db) {
    (void)db;
    memstore *m = ctx;
    m->now.n = 0;
    memset(m->now.rec, 0, sizeof m->now.rec);
    return SEAM_OK;
}

static bool ms_client_wins(void *ctx, const char *db, const char *guid,
                           const seam_syncml_change *server, const seam_syncml_change *client) {
    (void)db, (void)guid, (void)server, (void)client;
    return ((memstore *)ctx)->client_wins;
}

static seam_err ms_map_get(void *ctx, const char *db, const char *peer, bool by_luid,
                           const char *key, char out[SEAM_SYNCML_KEY_MAX]) {
    (void)db, (void)peer;
    memstore *m = ctx;
    out[0] = '\0';
    for (size_t i = 0; i < m->now.n_map; i++) {
        const char *from = by_luid ? m->now.map_luid[i] : m->now.map_guid[i];
        if (strcmp(from, key) == 0) {
            snprintf(out, SEAM_SYNCML_KEY_MAX, "%s",
                     by_luid ? m->now.map_guid[i] : m->now.map_luid[i]);
            return SEAM_OK;
        }
    }
    return SEAM_OK;
}

static seam_err ms_map_put(void *ctx, const char *db, const char *peer, const char *luid,
                           const char *guid) {
    (void)db, (void)peer;
    memstore *m = ctx;
    size_t i = 0;
    while (i < m->now.n_map && strcmp(m->now.map_luid[i], luid) != 0 &&
           strcmp(m->now.map_guid[i], guid) != 0)
        i++;
    if (i == MS_RECORDS)
        return SEAM_ERR_SYNCML_STORE;
    if (i == m->now.n_map)
        m->now.n_map++;
    snprintf(m->now.map_luid[i], SEAM_SYNCML_KEY_MAX, "%s", luid);
    snprintf(m->now.map_guid[i], SEAM_SYNCML_KEY_MAX, "%s", guid);
    return SEAM_OK;
}

static inline seam_syncml_store ms_store(memstore *m) {
    seam_syncml_store s = {.ctx = m,
                           .begin = ms_begin,
                           .commit = ms_commit,
                           .rollback = ms_rollback,
                           .last_anchor = ms_last_anchor,
                           .next_anchor = ms_next_anchor,
                           .changes = ms_changes,
                           .apply = ms_apply,
                           .wipe = ms_wipe,
                           .client_wins = ms_client_wins,
                           .map_get = ms_map_get,
                           .map_put = ms_map_put};
    return s;
}

#endif
