/*
 * Restore-module records (restore_records.h; docs/restore-module.md). A record's
 * header counts the bytes its blocks (1 + data) and entries (name + value)
 * take, so that the record's quota is checked without walking the record;
 * every change updates the header in the same transaction.
 *
 * The SD's quota (records and nvm bytes of all its records) is counted
 * afresh, from the rows under the SD's key prefix, before anything that
 * makes them grow: nothing is cached, so nothing can drift from the rows.
 */
#include "restore_records.h"

#include <stdlib.h>
#include <string.h>

#include "seam/util.h"

#define FORMAT     1u
#define HEADER_LEN 5u /* format, next block number (2), bytes used (2) */
#define BLOCKS_MAX 256u
#define SEQ_LEN    2u

typedef struct {
    uint16_t next_block;
    uint16_t used;
} header;

void restore_identity_make(restore_identity *id, const uint8_t *sd, size_t sd_len,
                           const uint8_t *aid, size_t aid_len) {
    size_t n = 0;
    id->bytes[n++] = (uint8_t)sd_len;
    memcpy(id->bytes + n, sd, sd_len);
    n += sd_len;
    id->bytes[n++] = (uint8_t)aid_len;
    memcpy(id->bytes + n, aid, aid_len);
    id->len = n + aid_len;
}

static seam_err header_get(seam_nvm *nvm, const restore_identity *id, header *h) {
    uint8_t v[HEADER_LEN];
    size_t len = 0;
    seam_err e = seam_nvm_get(nvm, RESTORE_RECORD, id->bytes, id->len, v, sizeof v, &len);
    if (e == SEAM_ERR_BUFFER_SMALL || (!e && (len != HEADER_LEN || v[0] != FORMAT)))
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e) {
        h->next_block = (uint16_t)(v[1] << 8 | v[2]);
        h->used = (uint16_t)(v[3] << 8 | v[4]);
    }
    return e;
}

static seam_err header_put(seam_nvm *nvm, const restore_identity *id, const header *h) {
    uint8_t v[HEADER_LEN] = {FORMAT, (uint8_t)(h->next_block >> 8), (uint8_t)h->next_block,
                             (uint8_t)(h->used >> 8), (uint8_t)h->used};
    return seam_nvm_put(nvm, RESTORE_RECORD, id->bytes, id->len, v, sizeof v);
}

/* Reads the header of id's record; *fresh when there is none (*h is then an empty one,
   not written yet). */
static seam_err header_read(seam_nvm *nvm, const restore_identity *id, header *h, bool *fresh) {
    seam_err e = header_get(nvm, id, h);
    *fresh = e == SEAM_ERR_NOT_FOUND;
    if (*fresh) {
        h->next_block = 0;
        h->used = 0;
        e = SEAM_OK;
    }
    return e;
}

/* ---- the SD's quota --------------------------------------------------------------- */

typedef struct {
    const seam_nvm *nvm;
    size_t records, rows, bytes; /* bytes: what the rows cost the nvm, as stored */
} usage;

static int count_row(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len) {
    usage *u = ctx;
    (void)key;
    (void)value;
    u->rows++;
    u->bytes += seam_nvm_put_cost(u->nvm, key_len, value_len);
    return 0;
}

static const uint16_t tables[3] = {RESTORE_RECORD, RESTORE_PERSO, RESTORE_ENTRY};

/* Adds up the rows of tables 8-10 under prefix (an SD's or an identity's). */
static seam_err usage_of(seam_nvm *nvm, const uint8_t *prefix, size_t len, usage *u) {
    seam_err e = SEAM_OK;
    memset(u, 0, sizeof *u);
    u->nvm = nvm;
    for (size_t t = 0; !e && t < 3; t++) {
        size_t before = u->rows;
        e = seam_nvm_foreach(nvm, tables[t], prefix, len, count_row, u);
        if (tables[t] == RESTORE_RECORD)
            u->records = u->rows - before;
    }
    return e;
}

/* True in *room when id's SD can take `records` more records costing `bytes` more. */
static seam_err domain_room(seam_nvm *nvm, const restore_identity *id, size_t records, size_t bytes,
                            bool *room) {
    usage u;
    seam_err e = usage_of(nvm, id->bytes, 1u + id->bytes[0], &u);
    *room = !e && u.records + records <= RESTORE_DOMAIN_RECORDS_MAX &&
            u.bytes + bytes <= RESTORE_DOMAIN_BYTES_MAX;
    if (!e && !*room)
        seam_log(SEAM_LOG_DEBUG, "card: an SD's restore records are at their quota");
    return e;
}

static size_t header_cost(const seam_nvm *nvm, const restore_identity *id) {
    return seam_nvm_put_cost(nvm, id->len, HEADER_LEN);
}

seam_err restore_record_exists(seam_nvm *nvm, const restore_identity *id, bool *exists) {
    header h;
    seam_err e = header_get(nvm, id, &h);
    *exists = e == SEAM_OK;
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

seam_err restore_record_size(seam_nvm *nvm, const restore_identity *id, uint16_t *used) {
    header h;
    seam_err e = header_get(nvm, id, &h);
    *used = e ? 0 : h.used;
    return e;
}

seam_err restore_record_ensure(seam_nvm *nvm, const restore_identity *id, int32_t *result) {
    header h;
    bool fresh = false, room = true;
    seam_err e = header_read(nvm, id, &h, &fresh);
    *result = SEAM_RESTORE_ERR_QUOTA;
    if (!e && fresh)
        e = domain_room(nvm, id, 1, header_cost(nvm, id), &room);
    if (!e && fresh && room)
        e = header_put(nvm, id, &h);
    if (!e && room)
        *result = 0;
    return e;
}

seam_err restore_record_delete(seam_nvm *nvm, const restore_identity *id) {
    seam_err e = seam_nvm_delete(nvm, RESTORE_RECORD, id->bytes, id->len);
    if (!e)
        e = seam_nvm_delete_prefix(nvm, RESTORE_PERSO, id->bytes, id->len, NULL);
    if (!e)
        e = seam_nvm_delete_prefix(nvm, RESTORE_ENTRY, id->bytes, id->len, NULL);
    return e;
}

seam_err restore_domain_delete(seam_nvm *nvm, const uint8_t *sd, size_t sd_len) {
    uint8_t prefix[1 + REGISTRY_AID_MAX];
    seam_nvm_cursor cur;
    size_t key_len = 0, value_len = 0;
    seam_err e = sd_len >= 1 && sd_len <= REGISTRY_AID_MAX ? SEAM_OK : SEAM_ERR_ARG;
    if (!e) {
        prefix[0] = (uint8_t)sd_len;
        memcpy(prefix + 1, sd, sd_len);
    }
    for (size_t t = 0; !e && t < 3; t++) { /* a write only where there is something */
        e = seam_nvm_cursor_init(&cur, tables[t], prefix, 1 + sd_len);
        if (!e)
            e = seam_nvm_cursor_next(nvm, &cur, NULL, 0, &key_len, NULL, 0, &value_len);
        if (!e)
            e = seam_nvm_delete_prefix(nvm, tables[t], prefix, 1 + sd_len, NULL);
        else if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
    }
    return e;
}

seam_err restore_record_move(seam_nvm *nvm, const restore_identity *from,
                             const restore_identity *to, int32_t *result) {
    uint8_t key[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX],
        moved[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX];
    uint8_t value[1 + SEAM_RESTORE_VALUE_MAX];
    seam_nvm_cursor cur;
    size_t key_len = 0, value_len = 0;
    usage u;
    bool room = false;
    seam_err e = usage_of(nvm, from->bytes, from->len, &u);
    *result = SEAM_RESTORE_ERR_QUOTA;
    if (!e && u.records == 0) {
        *result = 0; /* no record: nothing to move */
        goto done;
    }
    /* under the new identity every key changes length by to->len - from->len */
    if (!e)
        e = domain_room(nvm, to, u.records, u.bytes + u.rows * to->len - u.rows * from->len, &room);
    if (e || !room)
        goto done;
    for (size_t t = 0; !e && t < 3; t++) {
        e = seam_nvm_cursor_init(&cur, tables[t], from->bytes, from->len);
        while (!e) {
            e = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, value, sizeof value,
                                     &value_len);
            if (e == SEAM_ERR_BUFFER_SMALL)
                e = SEAM_ERR_NVM_CORRUPT;
            if (e)
                break;
            memcpy(moved, to->bytes, to->len);
            memcpy(moved + to->len, key + from->len, key_len - from->len);
            e = seam_nvm_put(nvm, tables[t], moved, to->len + key_len - from->len, value,
                             value_len);
            if (!e)
                e = seam_nvm_delete(nvm, tables[t], key, key_len);
        }
        if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
    }
    if (!e)
        *result = 0;
done:
    seam_secure_zero(value, sizeof value);
    return e;
}

/* Builds identity || suffix into key; returns its length. */
static size_t make_key(const restore_identity *id, const uint8_t *suffix, size_t n,
                       uint8_t key[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX]) {
    memcpy(key, id->bytes, id->len);
    memcpy(key + id->len, suffix, n);
    return id->len + n;
}

seam_err restore_perso_append(seam_nvm *nvm, const restore_identity *id, uint8_t p1,
                              const uint8_t *data, size_t len, int32_t *result) {
    uint8_t key[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX], value[2 + RESTORE_BLOCK_MAX];
    uint8_t seq[SEQ_LEN];
    size_t key_len = 0;
    header h;
    bool fresh = false, room = false;
    seam_err e = header_read(nvm, id, &h, &fresh);
    *result = SEAM_RESTORE_ERR_QUOTA;
    if (e || len > RESTORE_BLOCK_MAX || h.next_block >= BLOCKS_MAX ||
        h.used + 1u + len > SEAM_RESTORE_QUOTA)
        goto done;
    seq[0] = (uint8_t)(h.next_block >> 8);
    seq[1] = (uint8_t)h.next_block;
    key_len = make_key(id, seq, SEQ_LEN, key);
    e = domain_room(nvm, id, fresh,
                    seam_nvm_put_cost(nvm, key_len, 2 + len) + (fresh ? header_cost(nvm, id) : 0),
                    &room);
    if (e || !room)
        goto done;
    value[0] = FORMAT;
    value[1] = p1;
    if (len)
        memcpy(value + 2, data, len);
    e = seam_nvm_put(nvm, RESTORE_PERSO, key, key_len, value, 2 + len);
    h.next_block++;
    h.used = (uint16_t)(h.used + 1u + len);
    if (!e)
        e = header_put(nvm, id, &h);
    if (!e)
        *result = 0;
done:
    seam_secure_zero(value, sizeof value);
    return e;
}

seam_err restore_perso_clear(seam_nvm *nvm, const restore_identity *id) {
    restore_blocks blocks = {0};
    header h;
    seam_err e = header_get(nvm, id, &h);
    if (e == SEAM_ERR_NOT_FOUND)
        return SEAM_OK; /* no record, no blocks */
    if (!e)
        e = restore_blocks_read(nvm, id, &blocks);
    for (size_t i = 0; !e && i < blocks.count; i++)
        h.used = (uint16_t)(h.used - 1u - blocks.len[i]);
    if (!e)
        e = seam_nvm_delete_prefix(nvm, RESTORE_PERSO, id->bytes, id->len, NULL);
    h.next_block = 0;
    if (!e)
        e = header_put(nvm, id, &h);
    restore_blocks_free(&blocks);
    return e;
}

typedef struct {
    restore_blocks *out;
    size_t id_len, data_len;
    seam_err status;
} blocks_walk;

static int visit_block(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    blocks_walk *w = ctx;
    restore_blocks *b = w->out;
    (void)key;
    if (key_len != w->id_len + SEQ_LEN || value_len < 2 || value[0] != FORMAT ||
        value_len - 2 > RESTORE_BLOCK_MAX || b->count >= BLOCKS_MAX) {
        w->status = SEAM_ERR_NVM_CORRUPT;
        return 1;
    }
    b->p1[b->count] = value[1];
    b->offset[b->count] = w->data_len;
    b->len[b->count] = value_len - 2;
    memcpy(b->data + w->data_len, value + 2, value_len - 2);
    w->data_len += value_len - 2;
    b->count++;
    return 0;
}

seam_err restore_blocks_read(seam_nvm *nvm, const restore_identity *id, restore_blocks *out) {
    blocks_walk w = {out, id->len, 0, SEAM_OK};
    seam_err e = SEAM_OK;
    memset(out, 0, sizeof *out);
    out->p1 = malloc(BLOCKS_MAX);
    out->offset = malloc(BLOCKS_MAX * sizeof *out->offset);
    out->len = malloc(BLOCKS_MAX * sizeof *out->len);
    out->data = malloc((size_t)BLOCKS_MAX * RESTORE_BLOCK_MAX);
    if (!out->p1 || !out->offset || !out->len || !out->data)
        e = SEAM_ERR_NOMEM;
    if (!e)
        e = seam_nvm_foreach(nvm, RESTORE_PERSO, id->bytes, id->len, visit_block, &w);
    if (!e)
        e = w.status;
    if (e)
        restore_blocks_free(out);
    return e;
}

void restore_blocks_free(restore_blocks *blocks) {
    if (blocks->data)
        seam_secure_zero(blocks->data, (size_t)BLOCKS_MAX * RESTORE_BLOCK_MAX);
    free(blocks->p1);
    free(blocks->offset);
    free(blocks->len);
    free(blocks->data);
    memset(blocks, 0, sizeof *blocks);
}

seam_err restore_entry_put(seam_nvm *nvm, const restore_identity *id, const uint8_t *name,
                           size_t name_len, const uint8_t *value, size_t len, int32_t *result) {
    uint8_t key[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX];
    uint8_t *v = NULL;
    size_t key_len = 0, old_len = 0, old = 0, old_cost = 0, new_cost = 0;
    header h;
    bool fresh = false, room = true;
    seam_err e = SEAM_OK;
    *result = SEAM_RESTORE_ERR_QUOTA;
    if (name_len < 1 || name_len > SEAM_RESTORE_NAME_MAX || len > SEAM_RESTORE_VALUE_MAX)
        goto done;
    e = header_read(nvm, id, &h, &fresh);
    if (e)
        goto done;
    key_len = make_key(id, name, name_len, key);
    e = seam_nvm_get(nvm, RESTORE_ENTRY, key, key_len, NULL, 0, &old_len);
    if (!e) {
        old = name_len + old_len - 1; /* the stored value has a format byte */
        old_cost = seam_nvm_put_cost(nvm, key_len, old_len);
    } else if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
    }
    if (e)
        goto done;
    if (len == 0 && !old) {
        *result = 0; /* nothing to delete: nothing written, no record created */
        goto done;
    }
    if (len == 0) {
        e = seam_nvm_delete(nvm, RESTORE_ENTRY, key, key_len);
        h.used = (uint16_t)(h.used - old);
    } else {
        if (h.used - old + name_len + len > SEAM_RESTORE_QUOTA)
            goto done;
        new_cost = seam_nvm_put_cost(nvm, key_len, 1 + len);
        if (fresh || new_cost > old_cost)
            e = domain_room(nvm, id, fresh,
                            new_cost - old_cost + (fresh ? header_cost(nvm, id) : 0), &room);
        if (e || !room)
            goto done;
        v = malloc(1 + len);
        e = v ? SEAM_OK : SEAM_ERR_NOMEM;
        if (!e) {
            v[0] = FORMAT;
            memcpy(v + 1, value, len);
            e = seam_nvm_put(nvm, RESTORE_ENTRY, key, key_len, v, 1 + len);
        }
        h.used = (uint16_t)(h.used - old + name_len + len);
    }
    if (!e)
        e = header_put(nvm, id, &h);
    if (!e)
        *result = 0;
done:
    if (v)
        seam_secure_zero(v, 1 + len);
    free(v);
    return e;
}

seam_err restore_entry_get(seam_nvm *nvm, const restore_identity *id, const uint8_t *name,
                           size_t name_len, uint8_t *out, size_t cap, size_t *len,
                           int32_t *result) {
    uint8_t key[RESTORE_ID_MAX + SEAM_RESTORE_NAME_MAX];
    uint8_t *v = NULL;
    size_t v_len = 0, key_len = 0;
    seam_err e = SEAM_OK;
    *result = SEAM_RESTORE_ERR_ABSENT;
    *len = 0;
    if (name_len < 1 || name_len > SEAM_RESTORE_NAME_MAX)
        goto done;
    key_len = make_key(id, name, name_len, key);
    e = seam_nvm_get(nvm, RESTORE_ENTRY, key, key_len, NULL, 0, &v_len);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        goto done;
    }
    if (!e && (v_len < 1 || v_len > 1 + SEAM_RESTORE_VALUE_MAX))
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e) {
        v = malloc(v_len);
        e = v ? seam_nvm_get(nvm, RESTORE_ENTRY, key, key_len, v, v_len, &v_len) : SEAM_ERR_NOMEM;
    }
    if (!e && v[0] != FORMAT)
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e) {
        *len = v_len - 1;
        memcpy(out, v + 1, *len < cap ? *len : cap);
        *result = 0;
    }
done:
    if (v)
        seam_secure_zero(v, v_len);
    free(v);
    return e;
}

typedef struct {
    size_t id_len;
    int (*visit)(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *value, size_t len);
    void *ctx;
    seam_err status;
} entries_walk;

static int visit_entry(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    entries_walk *w = ctx;
    if (key_len <= w->id_len || value_len < 1 || value[0] != FORMAT) {
        w->status = SEAM_ERR_NVM_CORRUPT;
        return 1;
    }
    return w->visit(w->ctx, key + w->id_len, key_len - w->id_len, value + 1, value_len - 1) ? 1 : 0;
}

seam_err restore_entry_foreach(seam_nvm *nvm, const restore_identity *id,
                               int (*visit)(void *ctx, const uint8_t *name, size_t name_len,
                                            const uint8_t *value, size_t len),
                               void *ctx) {
    entries_walk w = {id->len, visit, ctx, SEAM_OK};
    seam_err e = seam_nvm_foreach(nvm, RESTORE_ENTRY, id->bytes, id->len, visit_entry, &w);
    return e ? e : w.status;
}

/* ---- the codec ------------------------------------------------------------------ */

bool restore_blocks_valid(const uint8_t *d, size_t n) {
    seam_tlv_iter it;
    seam_tlv block;
    bool ok = true;
    seam_tlv_iter_init(&it, d, n);
    while (ok && !seam_tlv_iter_done(&it))
        ok = seam_tlv_iter_next(&it, &block) == SEAM_OK && block.tag == RESTORE_TAG_BLOCK &&
             block.length >= 1 && block.length <= 1 + RESTORE_BLOCK_MAX;
    return ok;
}

bool restore_entry_split(const seam_tlv *entry, seam_tlv *name, seam_tlv *value) {
    size_t rest = 0;
    bool ok = entry->tag == RESTORE_TAG_ENTRY &&
              seam_tlv_parse(entry->value, entry->length, name) == SEAM_OK &&
              name->tag == RESTORE_TAG_NAME && name->length >= 1 &&
              name->length <= SEAM_RESTORE_NAME_MAX;
    if (ok) {
        rest = entry->length - name->header_len - name->length;
        ok = seam_tlv_parse(name->value + name->length, rest, value) == SEAM_OK &&
             value->tag == RESTORE_TAG_VALUE && value->header_len + value->length == rest;
    }
    return ok;
}

bool restore_entries_valid(const uint8_t *d, size_t n) {
    seam_tlv_iter it;
    seam_tlv entry, name, value;
    bool ok = true;
    seam_tlv_iter_init(&it, d, n);
    while (ok && !seam_tlv_iter_done(&it))
        ok = seam_tlv_iter_next(&it, &entry) == SEAM_OK &&
             restore_entry_split(&entry, &name, &value);
    return ok;
}

/* ---- the runtime's callbacks ---------------------------------------------------- */

static seam_err bound_put(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *value,
                          size_t len, int32_t *result) {
    restore_binding *b = ctx;
    return restore_entry_put(b->nvm, &b->id, name, name_len, value, len, result);
}

static seam_err bound_get(void *ctx, const uint8_t *name, size_t name_len, uint8_t *out, size_t cap,
                          size_t *len, int32_t *result) {
    restore_binding *b = ctx;
    return restore_entry_get(b->nvm, &b->id, name, name_len, out, cap, len, result);
}

static seam_err bound_perso_add(void *ctx, uint8_t p1, const uint8_t *data, size_t len,
                                int32_t *result) {
    restore_binding *b = ctx;
    return restore_perso_append(b->nvm, &b->id, p1, data, len, result);
}

void restore_host(restore_binding *b, uint32_t previous_version, seam_applet_restore_host *out) {
    out->ctx = b;
    out->put = bound_put;
    out->get = bound_get;
    out->perso_add = bound_perso_add;
    out->previous_version = previous_version;
}

void restore_bind(seam_applet *applet, restore_binding *b, uint32_t previous_version) {
    seam_applet_restore_host host;
    restore_host(b, previous_version, &host);
    seam_applet_bind_restore(applet, &host);
}
