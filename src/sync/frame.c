/*
 * The compact changeset protocol's message (docs/sync.md "Compact changeset
 * protocol"): a small header, the SQLite patchset or changeset, a CRC-32.
 * All integers big-endian.
 *
 *   0  4  magic "SMCS"          .. 1  sender length s (1..64), sender id
 *   4  1  version (1)           .. 1  last anchor length (0..64), last
 *   5  1  direction 1 c->s, 2 s->c .. 1 next anchor length (0..64), next
 *   6  1  sync type 200..205    .. 4  changes in the payload
 *   7  1  status 0 ok, 1 slow   .. 4  conflicts the client won
 *   8  1  flags bit 0 patchset  .. 4  conflicts the server won
 *   9  1  URI length u, URI     .. 8  records digest after the sync (0: none)
 *                               .. 4  payload length p, payload
 *                               .. 4  CRC-32 of every byte before it
 *
 * The decoder never reads past its input, checks the CRC first, then every
 * length and field, and walks the payload with sqlite3changeset_start: only
 * the URI's table, its columns and key, fields within the record limits, and
 * as many changes as the header says.
 */
#include <string.h>

#include "seam/util.h"
#include "sync_int.h"

#define MAGIC     "SMCS"
#define VERSION   1
#define FIXED_LEN (9 + 4 * 1 + 4 * 3 + 8 + 4 + 4) /* every byte but the strings and payload */

uint32_t sync_crc32(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* benign race: every thread writes the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Printable ASCII, min..max bytes (ids and anchors). */
static bool token_ok(const char *s, size_t n, size_t min, size_t max) {
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7E)
            return false;
    return true;
}

/* Reads a length-prefixed string at *pos; false when it does not fit in end. */
static bool take_string(const uint8_t *in, size_t end, size_t *pos, const char **s, uint8_t *n) {
    if (*pos >= end || in[*pos] > end - *pos - 1)
        return false;
    *n = in[*pos];
    *s = (const char *)in + *pos + 1;
    *pos += 1 + (size_t)*n;
    return true;
}

/* Reads an SQLite varint (a length) of at most 4 bytes at *pos; false past end or over 2^28. */
static bool take_varint(const uint8_t *p, size_t end, size_t *pos, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (*pos >= end)
            return false;
        uint8_t b = p[(*pos)++];
        v = v << 7 | (b & 0x7F);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Skips one record of the session format: ncols values, or only the key when key_only. */
static bool take_record(const uint8_t *p, size_t end, size_t *pos, int ncols, bool key_only) {
    for (int col = 0; col < (key_only ? 1 : ncols); col++) {
        uint32_t n;
        if (*pos >= end)
            return false;
        switch (p[(*pos)++]) {
        case 0: /* undefined */
        case 5: /* NULL */
            break;
        case 1: /* INTEGER */
        case 2: /* REAL */
            if (end - *pos < 8)
                return false;
            *pos += 8;
            break;
        case 3: /* TEXT */
        case 4: /* BLOB */
            if (!take_varint(p, end, pos, &n) || n > end - *pos || n > SEAM_SYNC_VALUE_MAX)
                return false;
            *pos += n;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Checks the payload's structure before SQLite parses it (SQLite 3.40's iterator can loop
 * forever on some corrupt input, found by fuzz/sync_frame_fuzz.c): one table header, the
 * URI's table with its columns and key, then changes whose every value fits in the input. */
static seam_err check_structure(const seam_sync_frame *f, const sync_table *t) {
    const uint8_t *p = f->payload;
    size_t end = f->payload_len, pos = 0, name_len = strlen(t->table);
    bool patchset = f->flags & 1;
    if (end < 3 + (size_t)t->ncols + name_len || p[0] != (patchset ? 'P' : 'T') ||
        p[1] != t->ncols || p[2] != 1)
        return SEAM_ERR_SYNC_CHANGESET;
    for (int col = 1; col < t->ncols; col++)
        if (p[2 + col] != 0)
            return SEAM_ERR_SYNC_CHANGESET;
    pos = 2 + (size_t)t->ncols;
    if (end - pos < name_len + 1 || memcmp(p + pos, t->table, name_len) || p[pos + name_len])
        return SEAM_ERR_SYNC_CHANGESET;
    pos += name_len + 1;
    while (pos < end) {
        uint8_t op = p[pos];
        if ((op != SQLITE_INSERT && op != SQLITE_UPDATE && op != SQLITE_DELETE) || end - pos < 2 ||
            p[pos + 1] > 1)
            return SEAM_ERR_SYNC_CHANGESET;
        pos += 2;
        bool ok = true;
        if (op != SQLITE_INSERT && (!patchset || op == SQLITE_DELETE))
            ok = take_record(p, end, &pos, t->ncols, patchset);
        if (ok && op != SQLITE_DELETE)
            ok = take_record(p, end, &pos, t->ncols, false);
        if (!ok)
            return SEAM_ERR_SYNC_CHANGESET;
    }
    return SEAM_OK;
}

/* Walks the payload: the URI's table only, its key, valid fields, `changes` changes. */
static seam_err check_payload(const seam_sync_frame *f) {
    const sync_table *t = sync_table_of(f->uri, f->uri_len);
    sqlite3_changeset_iter *it;
    seam_sync_record rec;
    uint32_t count = 0;
    seam_err err = SEAM_OK;
    int rc;
    if (f->payload_len == 0)
        return f->changes == 0 ? SEAM_OK : SEAM_ERR_SYNC_CHANGESET;
    if ((err = check_structure(f, t)) != SEAM_OK)
        return err;
    if (sqlite3changeset_start(&it, (int)f->payload_len, (void *)f->payload) != SQLITE_OK)
        return SEAM_ERR_SYNC_CHANGESET;
    while (!err && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
        const char *table;
        int ncols, op, indirect, npk;
        unsigned char *pk;
        if (++count > f->changes || count > SEAM_SYNC_RECORDS_MAX ||
            sqlite3changeset_op(it, &table, &ncols, &op, &indirect) != SQLITE_OK ||
            strcmp(table, t->table) || ncols != t->ncols ||
            sqlite3changeset_pk(it, &pk, &npk) != SQLITE_OK || npk != ncols || !pk[0]) {
            err = SEAM_ERR_SYNC_CHANGESET;
            break;
        }
        for (int col = 1; col < ncols; col++)
            if (pk[col])
                err = SEAM_ERR_SYNC_CHANGESET;
        memset(&rec, 0, sizeof rec);
        for (int col = 0; col < ncols && !err; col++) {
            sqlite3_value *old = NULL, *new = NULL;
            if (op != SQLITE_INSERT)
                sqlite3changeset_old(it, col, &old);
            if (op != SQLITE_DELETE)
                sqlite3changeset_new(it, col, &new);
            /* The key is always there; an insert carries every field. */
            if ((col == 0 && !(op == SQLITE_INSERT ? new : old)) || (op == SQLITE_INSERT && !new))
                err = SEAM_ERR_SYNC_CHANGESET;
            if (!err && old)
                err = sync_record_set(t, col, old, &rec);
            if (!err && new)
                err = sync_record_set(t, col, new, &rec);
        }
    }
    if (!err && (rc != SQLITE_DONE || count != f->changes))
        err = SEAM_ERR_SYNC_CHANGESET;
    sqlite3changeset_finalize(it);
    return err;
}

seam_err seam_sync_frame_decode(const uint8_t *in, size_t len, seam_sync_frame *out) {
    seam_sync_frame f;
    size_t pos = 9;
    if (!in || !out)
        return SEAM_ERR_ARG;
    if (len > SEAM_SYNC_MESSAGE_MAX)
        return SEAM_ERR_SYNC_OVERSIZE;
    if (len < 5 || memcmp(in, MAGIC, 4) != 0)
        return SEAM_ERR_SYNC_FRAME;
    if (in[4] != VERSION)
        return SEAM_ERR_SYNC_VERSION;
    if (len < FIXED_LEN || sync_crc32(in, len - 4) != get32(in + len - 4))
        return SEAM_ERR_SYNC_FRAME;
    size_t end = len - 4; /* the CRC */
    memset(&f, 0, sizeof f);
    f.direction = in[5];
    f.type = in[6];
    f.status = in[7];
    f.flags = in[8];
    if ((f.direction != 1 && f.direction != 2) || f.type < 200 || f.type > 205 || f.status > 1 ||
        f.flags > 1 || (f.status && f.direction != 2))
        return SEAM_ERR_SYNC_FRAME;
    if (!take_string(in, end, &pos, &f.uri, &f.uri_len) ||
        !take_string(in, end, &pos, &f.sender, &f.sender_len) ||
        !take_string(in, end, &pos, &f.last, &f.last_len) ||
        !take_string(in, end, &pos, &f.next, &f.next_len) || end - pos < 4 * 3 + 8 + 4)
        return SEAM_ERR_SYNC_FRAME;
    if (!sync_table_of(f.uri, f.uri_len))
        return SEAM_ERR_SYNC_URI;
    if (!token_ok(f.sender, f.sender_len, 1, SEAM_SYNC_PEER_MAX) ||
        !token_ok(f.last, f.last_len, 0, SEAM_SYNC_ANCHOR_MAX) ||
        !token_ok(f.next, f.next_len, 0, SEAM_SYNC_ANCHOR_MAX))
        return SEAM_ERR_SYNC_FRAME;
    f.changes = get32(in + pos);
    f.conflicts_client = get32(in + pos + 4);
    f.conflicts_server = get32(in + pos + 8);
    f.digest = (uint64_t)get32(in + pos + 12) << 32 | get32(in + pos + 16);
    f.payload_len = get32(in + pos + 20);
    pos += 24;
    if (f.payload_len != end - pos || f.changes > SEAM_SYNC_RECORDS_MAX)
        return SEAM_ERR_SYNC_FRAME;
    f.payload = in + pos;
    seam_err err = check_payload(&f);
    if (err)
        return err;
    *out = f;
    return SEAM_OK;
}

seam_err seam_sync_frame_encode(const seam_sync_frame *f, uint8_t *out, size_t cap,
                                size_t *out_len) {
    if (!f || !out_len || (cap && !out) || (!f->payload && f->payload_len) ||
        f->sender_len > SEAM_SYNC_PEER_MAX || f->last_len > SEAM_SYNC_ANCHOR_MAX ||
        f->next_len > SEAM_SYNC_ANCHOR_MAX || !sync_table_of(f->uri, f->uri_len))
        return SEAM_ERR_ARG;
    size_t need =
        FIXED_LEN + (size_t)f->uri_len + f->sender_len + f->last_len + f->next_len + f->payload_len;
    if (need > SEAM_SYNC_MESSAGE_MAX)
        return SEAM_ERR_SYNC_OVERSIZE;
    *out_len = need;
    if (cap < need)
        return SEAM_ERR_BUFFER_SMALL;
    uint8_t *p = out;
    memcpy(p, MAGIC, 4);
    p[4] = VERSION;
    p[5] = f->direction;
    p[6] = (uint8_t)f->type;
    p[7] = f->status;
    p[8] = f->flags;
    p += 9;
    const char *strings[] = {f->uri, f->sender, f->last, f->next};
    const uint8_t lens[] = {f->uri_len, f->sender_len, f->last_len, f->next_len};
    for (int i = 0; i < 4; i++) {
        *p++ = lens[i];
        if (lens[i])
            memcpy(p, strings[i], lens[i]);
        p += lens[i];
    }
    put32(p, f->changes);
    put32(p + 4, f->conflicts_client);
    put32(p + 8, f->conflicts_server);
    put32(p + 12, (uint32_t)(f->digest >> 32));
    put32(p + 16, (uint32_t)f->digest);
    put32(p + 20, f->payload_len);
    p += 24;
    if (f->payload_len)
        memcpy(p, f->payload, f->payload_len);
    p += f->payload_len;
    put32(p, sync_crc32(out, (size_t)(p - out)));
    return SEAM_OK;
}
