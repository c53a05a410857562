/*
 * Decoders of what a card answers: GET STATUS's E3 templates (GP 2.3.1 §11.4
 * TLV format, with seam's DF71 space tag), MANAGE ELF UPGRADE's A1 template
 * and the DGIs of STORE DATA. Each reads only its (pointer, length) input,
 * never allocates, and leaves its outputs unchanged on error. Fuzz targets:
 * fuzz/gp_status_fuzz.c, fuzz/gp_upgrade_fuzz.c, fuzz/gp_dgi_fuzz.c.
 */
#include <string.h>

#include "seam/gp.h"
#include "seam/util.h"

#define TAG_ENTRY     0xE3u
#define TAG_AID       0x4Fu
#define TAG_LIFECYCLE 0x9F70u
#define TAG_PRIV      0xC5u
#define TAG_ELF       0xC4u
#define TAG_SD        0xCCu
#define TAG_VERSION   0xCEu
#define TAG_MODULE    0x84u
#define TAG_SPACE     0xDF71u

void seam_gp_status_iter_init(seam_gp_status_iter *it, const uint8_t *data, size_t len) {
    it->next = data;
    it->remaining = data ? len : 0;
}

/* Copies an AID TLV value into *aid; false unless it is 5..16 bytes. */
static bool take_aid(const seam_tlv *t, seam_gp_aid *aid) {
    if (t->length < SEAM_GP_AID_MIN || t->length > SEAM_GP_AID_MAX)
        return false;
    memcpy(aid->bytes, t->value, t->length);
    aid->len = t->length;
    return true;
}

/* Decodes the value of one E3 template into *e; false when malformed. */
static bool decode_entry(const uint8_t *v, size_t n, seam_gp_status_entry *e) {
    seam_tlv_iter it;
    seam_tlv t;
    seam_err err = SEAM_OK;
    bool ok = true, aid = false, lifecycle = false, priv = false, elf = false, sd = false;
    memset(e, 0, sizeof *e);
    seam_tlv_iter_init(&it, v, n);
    while (ok && (err = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        switch (t.tag) {
        case TAG_AID:
            ok = !aid && take_aid(&t, &e->aid);
            aid = true;
            break;
        case TAG_LIFECYCLE:
            ok = !lifecycle && t.length == 1;
            lifecycle = true;
            if (ok)
                e->lifecycle = t.value[0];
            break;
        case TAG_PRIV:
            ok = !priv && (t.length == 1 || t.length == 3);
            priv = true;
            if (ok) {
                memcpy(e->privileges, t.value, t.length);
                e->privileges_len = t.length;
            }
            break;
        case TAG_ELF:
            ok = !elf && take_aid(&t, &e->elf);
            elf = true;
            break;
        case TAG_SD:
            ok = !sd && take_aid(&t, &e->sd);
            sd = true;
            break;
        case TAG_VERSION:
            ok = !e->has_version && (t.length == 1 || t.length == 2);
            if (ok)
                e->version = (uint16_t)(t.value[0] << 8 | (t.length == 2 ? t.value[1] : 0));
            e->has_version = true;
            break;
        case TAG_MODULE:
            ok =
                e->module_count < SEAM_GP_MODULES_MAX && take_aid(&t, &e->modules[e->module_count]);
            e->module_count++;
            break;
        case TAG_SPACE:
            ok = !e->space && t.length == 1 && t.value[0] != 0;
            if (ok)
                e->space = t.value[0];
            break;
        default: /* CF implicit selection and others: not kept */
            break;
        }
    }
    return ok && err == SEAM_ERR_NOT_FOUND && aid;
}

seam_err seam_gp_status_iter_next(seam_gp_status_iter *it, seam_gp_status_entry *entry) {
    seam_gp_status_entry e;
    seam_tlv t;
    seam_err err = SEAM_OK;
    if (it->remaining == 0)
        return SEAM_ERR_NOT_FOUND;
    err = seam_tlv_parse(it->next, it->remaining, &t);
    if (err || t.tag != TAG_ENTRY || !decode_entry(t.value, t.length, &e))
        return SEAM_ERR_MALFORMED;
    *entry = e;
    it->next += t.header_len + t.length;
    it->remaining -= t.header_len + t.length;
    return SEAM_OK;
}

seam_err seam_gp_upgrade_decode(const uint8_t *data, size_t len, seam_gp_upgrade_status *out) {
    seam_gp_upgrade_status s;
    seam_tlv top, t;
    seam_tlv_iter it;
    seam_err err = SEAM_OK;
    bool ok, status = false;
    memset(&s, 0, sizeof s);
    if (!data || seam_tlv_parse(data, len, &top) || top.tag != 0xA1 ||
        top.header_len + top.length != len)
        return SEAM_ERR_MALFORMED;
    ok = true;
    seam_tlv_iter_init(&it, top.value, top.length);
    while (ok && (err = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        switch (t.tag) {
        case 0x90:
            ok = !status && t.length == 1;
            s.status = ok ? t.value[0] : 0;
            status = true;
            break;
        case 0x4F:
            ok = s.package.len == 0 && take_aid(&t, &s.package);
            break;
        case 0xC4:
            ok = s.new_package.len == 0 && take_aid(&t, &s.new_package);
            break;
        case 0x81:
            ok = !s.has_migrated && t.length == 1;
            s.migrated = ok ? t.value[0] : 0;
            s.has_migrated = true;
            break;
        case 0x82:
            ok = !s.has_remaining && t.length == 2;
            s.remaining = ok ? (uint16_t)(t.value[0] << 8 | t.value[1]) : 0;
            s.has_remaining = true;
            break;
        case 0x83:
            ok = !s.has_waiting && t.length == 1;
            s.waiting = ok ? t.value[0] : 0;
            s.has_waiting = true;
            break;
        default:
            break;
        }
    }
    if (!ok || err != SEAM_ERR_NOT_FOUND || !status || s.package.len == 0)
        return SEAM_ERR_MALFORMED;
    *out = s;
    return SEAM_OK;
}

seam_err seam_gp_dgi_next(const uint8_t *data, size_t len, size_t *pos, uint16_t *tag,
                          const uint8_t **value, size_t *value_len) {
    size_t p = *pos, l;
    if (p >= len)
        return p == len ? SEAM_ERR_NOT_FOUND : SEAM_ERR_ARG;
    if (len - p < 3)
        return SEAM_ERR_TRUNCATED;
    uint16_t t = (uint16_t)(data[p] << 8 | data[p + 1]);
    l = data[p + 2];
    p += 3;
    if (l == 0xFF) {
        if (len - p < 2)
            return SEAM_ERR_TRUNCATED;
        l = (size_t)data[p] << 8 | data[p + 1];
        p += 2;
    }
    if (len - p < l)
        return SEAM_ERR_TRUNCATED;
    *tag = t;
    *value = data + p;
    *value_len = l;
    *pos = p + l;
    return SEAM_OK;
}
