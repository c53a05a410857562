/*
 * The record codec (docs/restore-module.md "Terminal variant", "Outside the card"):
 * the card's export `A2 { 4F instance, C0 version, E2 {P1 || data}*, E1 {80 name,
 * 81 value}* }`, a package personalized with a `seam.perso` section (E2 blocks), and
 * DGI 7F71 (the entries). Nothing allocates; nothing reads past its input.
 */
#include <string.h>

#include "seam/perso.h"
#include "seam/util.h"

#define TAG_EXPORT  0xA2u
#define TAG_AID     0x4Fu
#define TAG_VERSION 0xC0u
#define TAG_BLOCK   0xE2u
#define TAG_ENTRY   0xE1u
#define TAG_NAME    0x80u
#define TAG_VALUE   0x81u
#define NAME_MAX    16u
#define VALUE_MAX   2048u
#define BLOCK_MAX   255u
#define DGI_ENTRIES 0x7F71u

static const char perso_section[] = "seam.perso";

/* ---- decode ----------------------------------------------------------------------- */

static seam_err decode_entry(const seam_tlv *t, seam_perso_entry *out) {
    seam_tlv_iter it;
    seam_tlv f;
    bool has_name = false, has_value = false;
    seam_err e;
    seam_tlv_iter_init(&it, t->value, t->length);
    while ((e = seam_tlv_iter_next(&it, &f)) == SEAM_OK) {
        if (f.tag == TAG_NAME && !has_name && f.length >= 1 && f.length <= NAME_MAX) {
            out->name = f.value;
            out->name_len = f.length;
            has_name = true;
        } else if (f.tag == TAG_VALUE && !has_value && f.length <= VALUE_MAX) {
            out->value = f.value;
            out->value_len = f.length;
            has_value = true;
        } else {
            return SEAM_ERR_MALFORMED;
        }
    }
    if (e != SEAM_ERR_NOT_FOUND)
        return e;
    return has_name && has_value ? SEAM_OK : SEAM_ERR_MALFORMED;
}

seam_err seam_perso_record_decode(const uint8_t *data, size_t len, seam_perso_record *out) {
    seam_gp_aid instance = {{0}, 0};
    uint16_t version = 0;
    seam_tlv outer, t;
    seam_tlv_iter it;
    bool has_aid = false, has_version = false;
    size_t blocks = 0, entries = 0;
    seam_err e = seam_tlv_parse(data, len, &outer);
    if (e)
        return e;
    if (outer.tag != TAG_EXPORT || outer.header_len + outer.length != len)
        return SEAM_ERR_MALFORMED;
    /* first pass: validate everything, count */
    seam_tlv_iter_init(&it, outer.value, outer.length);
    while ((e = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        if (t.tag == TAG_AID && !has_aid && t.length >= SEAM_GP_AID_MIN &&
            t.length <= SEAM_GP_AID_MAX) {
            memcpy(instance.bytes, t.value, t.length);
            instance.len = t.length;
            has_aid = true;
        } else if (t.tag == TAG_VERSION && !has_version && t.length == 2) {
            version = seam_get_be16(t.value);
            has_version = true;
        } else if (t.tag == TAG_BLOCK && t.length >= 1 && t.length <= 1 + BLOCK_MAX &&
                   blocks < SEAM_PERSO_BLOCKS_MAX) {
            blocks++;
        } else if (t.tag == TAG_ENTRY && entries < SEAM_PERSO_ENTRIES_MAX) {
            seam_perso_entry probe;
            e = decode_entry(&t, &probe);
            if (e)
                return e == SEAM_ERR_TRUNCATED ? SEAM_ERR_MALFORMED : e;
            entries++;
        } else {
            return SEAM_ERR_MALFORMED;
        }
    }
    if (e != SEAM_ERR_NOT_FOUND)
        return e == SEAM_ERR_TRUNCATED ? SEAM_ERR_MALFORMED : e;
    if (!has_aid || !has_version)
        return SEAM_ERR_MALFORMED;
    /* second pass: fill *out (nothing can fail now) */
    out->instance = instance;
    out->version = version;
    out->block_count = 0;
    out->entry_count = 0;
    seam_tlv_iter_init(&it, outer.value, outer.length);
    while (seam_tlv_iter_next(&it, &t) == SEAM_OK) {
        if (t.tag == TAG_BLOCK) {
            seam_perso_block *b = &out->blocks[out->block_count++];
            b->p1 = t.value[0];
            b->data = t.value + 1;
            b->len = t.length - 1;
        } else if (t.tag == TAG_ENTRY) {
            (void)decode_entry(&t, &out->entries[out->entry_count++]);
        }
    }
    return SEAM_OK;
}

/* ---- encode ----------------------------------------------------------------------- */

/* A writer that counts what it could not write, so that one pass gives the size. */
typedef struct {
    uint8_t *out;
    size_t cap, len;
} writer;

static void put(writer *w, const uint8_t *p, size_t n) {
    if (w->len <= w->cap && w->cap - w->len >= n && n)
        memcpy(w->out + w->len, p, n);
    w->len += n;
}

static void put_header(writer *w, uint32_t tag, size_t n) {
    uint8_t h[SEAM_TLV_MAX_HEADER];
    size_t hn = 0;
    (void)seam_tlv_encode_header(tag, n, h, sizeof h, &hn);
    put(w, h, hn);
}

static size_t tlv_size(uint32_t tag, size_t n) {
    return seam_tlv_header_size(tag, n) + n;
}

static bool record_valid(const seam_perso_record *r) {
    if (r->instance.len < SEAM_GP_AID_MIN || r->instance.len > SEAM_GP_AID_MAX ||
        r->block_count > SEAM_PERSO_BLOCKS_MAX || r->entry_count > SEAM_PERSO_ENTRIES_MAX)
        return false;
    for (size_t i = 0; i < r->block_count; i++)
        if (r->blocks[i].len > BLOCK_MAX || (r->blocks[i].len && !r->blocks[i].data))
            return false;
    for (size_t i = 0; i < r->entry_count; i++)
        if (r->entries[i].name_len < 1 || r->entries[i].name_len > NAME_MAX ||
            r->entries[i].value_len > VALUE_MAX || !r->entries[i].name ||
            (r->entries[i].value_len && !r->entries[i].value))
            return false;
    return true;
}

static size_t entry_inner(const seam_perso_entry *en) {
    return tlv_size(TAG_NAME, en->name_len) + tlv_size(TAG_VALUE, en->value_len);
}

static void put_block(writer *w, const seam_perso_block *b) {
    put_header(w, TAG_BLOCK, 1 + b->len);
    put(w, &b->p1, 1);
    put(w, b->data, b->len);
}

static void put_entry(writer *w, const seam_perso_entry *en) {
    put_header(w, TAG_ENTRY, entry_inner(en));
    put_header(w, TAG_NAME, en->name_len);
    put(w, en->name, en->name_len);
    put_header(w, TAG_VALUE, en->value_len);
    put(w, en->value, en->value_len);
}

seam_err seam_perso_record_encode(const seam_perso_record *r, uint8_t *out, size_t cap,
                                  size_t *out_len) {
    size_t body = tlv_size(TAG_AID, r->instance.len) + tlv_size(TAG_VERSION, 2);
    uint8_t version[2];
    if (!record_valid(r))
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < r->block_count; i++)
        body += tlv_size(TAG_BLOCK, 1 + r->blocks[i].len);
    for (size_t i = 0; i < r->entry_count; i++)
        body += tlv_size(TAG_ENTRY, entry_inner(&r->entries[i]));
    size_t total = tlv_size(TAG_EXPORT, body);
    *out_len = total;
    if (total > cap)
        return SEAM_ERR_BUFFER_SMALL;
    writer w = {out, cap, 0};
    seam_put_be16(version, r->version);
    put_header(&w, TAG_EXPORT, body);
    put_header(&w, TAG_AID, r->instance.len);
    put(&w, r->instance.bytes, r->instance.len);
    put_header(&w, TAG_VERSION, 2);
    put(&w, version, 2);
    for (size_t i = 0; i < r->block_count; i++)
        put_block(&w, &r->blocks[i]);
    for (size_t i = 0; i < r->entry_count; i++)
        put_entry(&w, &r->entries[i]);
    return SEAM_OK;
}

/* ---- the seam.perso section ---------------------------------------------------------- */

/* Reads an unsigned LEB128 of at most 5 bytes (a u32) at m[*pos..len). */
static bool leb_u32(const uint8_t *m, size_t len, size_t *pos, uint32_t *v) {
    uint32_t x = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (*pos >= len)
            return false;
        uint8_t b = m[(*pos)++];
        x |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

static size_t leb_size(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_leb(writer *w, uint32_t v) {
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            b |= 0x80;
        put(w, &b, 1);
    } while (v);
}

/* True when module[0..len) has a custom section named seam.perso (the module parsed). */
static bool has_perso_section(const uint8_t *m, size_t len) {
    size_t pos = 8;
    while (pos < len) {
        uint8_t id = m[pos++];
        uint32_t size = 0, name_len = 0;
        if (!leb_u32(m, len, &pos, &size) || size > len - pos)
            return false;
        size_t end = pos + size, p = pos;
        if (id == 0 && leb_u32(m, end, &p, &name_len) && name_len <= end - p &&
            name_len == sizeof perso_section - 1 && !memcmp(m + p, perso_section, name_len))
            return true;
        pos = end;
    }
    return false;
}

bool seam_perso_package_has_perso(const uint8_t *module, size_t len) {
    return module && len >= 8 && has_perso_section(module, len);
}

seam_err seam_perso_package_personalize(const uint8_t *module, size_t len,
                                        const seam_perso_record *r, uint8_t *out, size_t cap,
                                        size_t *out_len) {
    seam_gp_package pkg;
    size_t blocks = 0;
    if (!record_valid(r))
        return SEAM_ERR_ARG;
    seam_err e = seam_gp_package_read(module, len, &pkg, NULL, 0);
    if (e)
        return e;
    if (has_perso_section(module, len))
        return SEAM_ERR_GP_PACKAGE;
    for (size_t i = 0; i < r->block_count; i++)
        blocks += tlv_size(TAG_BLOCK, 1 + r->blocks[i].len);
    size_t name = sizeof perso_section - 1;
    size_t payload = leb_size((uint32_t)name) + name + blocks;
    size_t total = len + 1 + leb_size((uint32_t)payload) + payload;
    *out_len = total;
    if (total > cap)
        return SEAM_ERR_BUFFER_SMALL;
    writer w = {out, cap, 0};
    put(&w, module, len);
    uint8_t custom = 0x00;
    put(&w, &custom, 1);
    put_leb(&w, (uint32_t)payload);
    put_leb(&w, (uint32_t)name);
    put(&w, (const uint8_t *)perso_section, name);
    for (size_t i = 0; i < r->block_count; i++)
        put_block(&w, &r->blocks[i]);
    return SEAM_OK;
}

/* ---- DGI 7F71 ------------------------------------------------------------------------ */

seam_err seam_perso_entries_dgi(const seam_perso_record *r, uint8_t *out, size_t cap,
                                size_t *out_len) {
    size_t body;
    if (!record_valid(r))
        return SEAM_ERR_ARG;
    *out_len = 0;
    if (r->entry_count == 0)
        return SEAM_OK;
    body = tlv_size(TAG_AID, r->instance.len);
    for (size_t i = 0; i < r->entry_count; i++)
        body += tlv_size(TAG_ENTRY, entry_inner(&r->entries[i]));
    if (body > 0xFFFF)
        return SEAM_ERR_ARG;
    size_t total = 2 + (body < 0xFF ? 1 : 3) + body;
    *out_len = total;
    if (total > cap)
        return SEAM_ERR_BUFFER_SMALL;
    writer w = {out, cap, 0};
    uint8_t h[5] = {(uint8_t)(DGI_ENTRIES >> 8), (uint8_t)DGI_ENTRIES};
    size_t hn = 2;
    if (body < 0xFF) {
        h[hn++] = (uint8_t)body;
    } else {
        h[hn++] = 0xFF;
        h[hn++] = (uint8_t)(body >> 8);
        h[hn++] = (uint8_t)body;
    }
    put(&w, h, hn);
    put_header(&w, TAG_AID, r->instance.len);
    put(&w, r->instance.bytes, r->instance.len);
    for (size_t i = 0; i < r->entry_count; i++)
        put_entry(&w, &r->entries[i]);
    return SEAM_OK;
}
