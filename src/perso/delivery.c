/*
 * Deliveries (include/seam/perso.h, "deliveries"): what the admin server sends
 * a terminal for a step personalized in the terminal, and the result the
 * terminal answers with. Two TLV codecs over the util layer's BER-TLV parser:
 * every field once, every tag known, every bound checked, nothing read past
 * the input, nothing allocated (decoded pointers point into the input).
 */
#include <string.h>

#include "seam/perso.h"
#include "seam/util.h"

#define TAG_DELIVERY 0xE5u
#define TAG_RESULT   0xE6u
#define TAG_CIN      0x45u
#define TAG_KIND     0x80u
#define TAG_MODULE   0xC4u
#define TAG_INSTANCE 0xA1u
#define TAG_AID      0x4Fu
#define TAG_SEALED   0x82u
#define TAG_OUTCOME  0x80u
#define TAG_SW       0x81u
#define TAG_REASON   0x82u

static const char aad_label[] = "seam.delivery.perso";

/* Appends TLV (tag, value[0..len)) at out[*pos..cap); false when it does not fit (*pos still
   grows, so the caller learns the size needed). */
static bool put(uint32_t tag, const uint8_t *value, size_t len, uint8_t *out, size_t cap,
                size_t *pos) {
    size_t h = seam_tlv_header_size(tag, len), n = 0;
    bool fits = *pos + h + len <= cap;
    if (fits)
        fits = seam_tlv_encode(tag, value, len, out + *pos, cap - *pos, &n) == SEAM_OK;
    *pos += h + len;
    return fits;
}

/* Appends only a TLV header (the value follows). */
static bool put_header(uint32_t tag, size_t len, uint8_t *out, size_t cap, size_t *pos) {
    size_t h = seam_tlv_header_size(tag, len), n = 0;
    bool fits = *pos + h <= cap;
    if (fits)
        fits = seam_tlv_encode_header(tag, len, out + *pos, cap - *pos, &n) == SEAM_OK;
    *pos += h;
    return fits;
}

static bool aid_ok(const seam_gp_aid *a) {
    return a->len >= 5 && a->len <= SEAM_GP_AID_MAX;
}

seam_err seam_perso_delivery_aad(const uint8_t *cin, size_t cin_len, const seam_gp_aid *package,
                                 uint16_t version, const seam_gp_aid *instance, uint8_t *out,
                                 size_t cap, size_t *out_len) {
    if (!cin || cin_len == 0 || cin_len > SEAM_PERSO_CIN_MAX || !package || !instance ||
        !aid_ok(package) || !aid_ok(instance) || !out_len)
        return SEAM_ERR_ARG;
    uint8_t ver[2] = {(uint8_t)(version >> 8), (uint8_t)version};
    size_t pos = sizeof aad_label - 1;
    bool fits = pos <= cap;
    if (fits)
        memcpy(out, aad_label, pos);
    fits = put(TAG_CIN, cin, cin_len, out, cap, &pos) && fits;
    fits = put(TAG_AID, package->bytes, package->len, out, cap, &pos) && fits;
    fits = put(0xC0u, ver, sizeof ver, out, cap, &pos) && fits;
    fits = put(TAG_AID, instance->bytes, instance->len, out, cap, &pos) && fits;
    *out_len = pos;
    return fits ? SEAM_OK : SEAM_ERR_BUFFER_SMALL;
}

/* The encoded size of one instance's A1 value. */
static size_t instance_value_len(const seam_perso_sealed *p) {
    return seam_tlv_header_size(TAG_AID, p->instance.len) + p->instance.len +
           seam_tlv_header_size(TAG_SEALED, p->sealed_len) + p->sealed_len;
}

static bool sealed_len_ok(size_t n) {
    return n > SEAM_PERSO_SEAL_OVERHEAD &&
           n <= SEAM_PERSO_SEAL_OVERHEAD + SEAM_PERSO_DELIVERY_DATA_MAX;
}

/* True when d's fields are within the bounds the decoder accepts. */
static bool delivery_ok(const seam_perso_delivery *d) {
    if (d->cin_len == 0 || d->cin_len > SEAM_PERSO_CIN_MAX || !d->module || d->module_len == 0 ||
        d->module_len > SEAM_PERSO_DELIVERY_MODULE_MAX ||
        (d->kind != SEAM_PERSO_DELIVER_INSTALL && d->kind != SEAM_PERSO_DELIVER_UPDATE) ||
        d->count > SEAM_PERSO_DELIVERY_INSTANCES ||
        (d->kind == SEAM_PERSO_DELIVER_UPDATE && d->count))
        return false;
    for (size_t i = 0; i < d->count; i++) {
        if (!aid_ok(&d->perso[i].instance) || !d->perso[i].sealed ||
            !sealed_len_ok(d->perso[i].sealed_len))
            return false;
        for (size_t j = 0; j < i; j++)
            if (d->perso[j].instance.len == d->perso[i].instance.len &&
                !memcmp(d->perso[j].instance.bytes, d->perso[i].instance.bytes,
                        d->perso[i].instance.len))
                return false;
    }
    return true;
}

seam_err seam_perso_delivery_encode(const seam_perso_delivery *d, uint8_t *out, size_t cap,
                                    size_t *out_len) {
    if (!d || !out_len || !delivery_ok(d))
        return SEAM_ERR_ARG;
    uint8_t kind = (uint8_t)d->kind;
    size_t inner = seam_tlv_header_size(TAG_CIN, d->cin_len) + d->cin_len +
                   seam_tlv_header_size(TAG_KIND, 1) + 1 +
                   seam_tlv_header_size(TAG_MODULE, d->module_len) + d->module_len;
    for (size_t i = 0; i < d->count; i++) {
        size_t v = instance_value_len(&d->perso[i]);
        inner += seam_tlv_header_size(TAG_INSTANCE, v) + v;
    }
    size_t pos = 0;
    bool fits = put_header(TAG_DELIVERY, inner, out, cap, &pos);
    fits = put(TAG_CIN, d->cin, d->cin_len, out, cap, &pos) && fits;
    fits = put(TAG_KIND, &kind, 1, out, cap, &pos) && fits;
    fits = put(TAG_MODULE, d->module, d->module_len, out, cap, &pos) && fits;
    for (size_t i = 0; i < d->count; i++) {
        const seam_perso_sealed *p = &d->perso[i];
        fits = put_header(TAG_INSTANCE, instance_value_len(p), out, cap, &pos) && fits;
        fits = put(TAG_AID, p->instance.bytes, p->instance.len, out, cap, &pos) && fits;
        fits = put(TAG_SEALED, p->sealed, p->sealed_len, out, cap, &pos) && fits;
    }
    *out_len = pos;
    if (pos > SEAM_PERSO_DELIVERY_MAX)
        return SEAM_ERR_ARG;
    return fits ? SEAM_OK : SEAM_ERR_BUFFER_SMALL;
}

/* Parses the only TLV of data[0..len), which must have tag want, and starts *it over its
   value's fields. */
static seam_err begin_fields(const uint8_t *data, size_t len, uint32_t want, seam_tlv_iter *it) {
    seam_tlv v;
    seam_err e = seam_tlv_parse(data, len, &v);
    if (e)
        return e;
    if (v.tag != want || v.header_len + v.length != len)
        return SEAM_ERR_MALFORMED;
    seam_tlv_iter_init(it, v.value, v.length);
    return SEAM_OK;
}

/* The end of a fields loop that stopped with e: SEAM_OK at the end of the value, a field
   cut short is malformed. */
static seam_err fields_end(seam_err e) {
    if (e == SEAM_ERR_NOT_FOUND)
        return SEAM_OK;
    return e == SEAM_ERR_TRUNCATED ? SEAM_ERR_MALFORMED : e;
}

/* Decodes one A1 value into *p. */
static seam_err decode_instance(const seam_tlv *a1, seam_perso_sealed *p) {
    seam_tlv_iter it;
    seam_tlv t;
    seam_err e;
    bool aid = false, sealed = false;
    seam_tlv_iter_init(&it, a1->value, a1->length);
    while ((e = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        if (t.tag == TAG_AID && !aid && t.length >= 5 && t.length <= SEAM_GP_AID_MAX) {
            aid = true;
            p->instance.len = (uint8_t)t.length;
            memcpy(p->instance.bytes, t.value, t.length);
        } else if (t.tag == TAG_SEALED && !sealed && sealed_len_ok(t.length)) {
            sealed = true;
            p->sealed = t.value;
            p->sealed_len = t.length;
        } else {
            return SEAM_ERR_MALFORMED;
        }
    }
    if (e != SEAM_ERR_NOT_FOUND)
        return e;
    return aid && sealed ? SEAM_OK : SEAM_ERR_MALFORMED;
}

seam_err seam_perso_delivery_decode(const uint8_t *data, size_t len, seam_perso_delivery *out) {
    if (!data || !out)
        return SEAM_ERR_ARG;
    if (len > SEAM_PERSO_DELIVERY_MAX)
        return SEAM_ERR_MALFORMED;
    seam_tlv t;
    seam_tlv_iter it;
    seam_err e = begin_fields(data, len, TAG_DELIVERY, &it);
    if (e)
        return e;
    seam_perso_delivery d;
    memset(&d, 0, sizeof d);
    bool cin = false, kind = false, module = false;
    while ((e = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        if (t.tag == TAG_CIN && !cin && t.length >= 1 && t.length <= SEAM_PERSO_CIN_MAX) {
            cin = true;
            memcpy(d.cin, t.value, t.length);
            d.cin_len = t.length;
        } else if (t.tag == TAG_KIND && !kind && t.length == 1 &&
                   (t.value[0] == SEAM_PERSO_DELIVER_INSTALL ||
                    t.value[0] == SEAM_PERSO_DELIVER_UPDATE)) {
            kind = true;
            d.kind = (seam_perso_delivery_kind)t.value[0];
        } else if (t.tag == TAG_MODULE && !module && t.length >= 1 &&
                   t.length <= SEAM_PERSO_DELIVERY_MODULE_MAX) {
            module = true;
            d.module = t.value;
            d.module_len = t.length;
        } else if (t.tag == TAG_INSTANCE && d.count < SEAM_PERSO_DELIVERY_INSTANCES) {
            e = decode_instance(&t, &d.perso[d.count]);
            if (e)
                return e == SEAM_ERR_TRUNCATED ? SEAM_ERR_MALFORMED : e;
            d.count++;
        } else {
            return SEAM_ERR_MALFORMED;
        }
    }
    if ((e = fields_end(e)) != SEAM_OK)
        return e;
    if (!cin || !kind || !module || !delivery_ok(&d))
        return SEAM_ERR_MALFORMED;
    *out = d;
    return SEAM_OK;
}

static bool printable(uint8_t c) {
    return c >= 0x20 && c <= 0x7E;
}

seam_err seam_perso_result_encode(const seam_perso_result *r, uint8_t *out, size_t cap,
                                  size_t *out_len) {
    if (!r || !out_len)
        return SEAM_ERR_ARG;
    uint8_t reason[SEAM_PERSO_RESULT_REASON_MAX];
    size_t n = 0;
    while (n < SEAM_PERSO_RESULT_REASON_MAX && r->reason[n]) {
        reason[n] = printable((uint8_t)r->reason[n]) ? (uint8_t)r->reason[n] : '?';
        n++;
    }
    uint8_t outcome = r->ok ? 0x00 : 0x01, sw[2] = {(uint8_t)(r->sw >> 8), (uint8_t)r->sw};
    size_t inner = 3 + 4 + seam_tlv_header_size(TAG_REASON, n) + n, pos = 0;
    bool fits = put_header(TAG_RESULT, inner, out, cap, &pos);
    fits = put(TAG_OUTCOME, &outcome, 1, out, cap, &pos) && fits;
    fits = put(TAG_SW, sw, 2, out, cap, &pos) && fits;
    fits = put(TAG_REASON, reason, n, out, cap, &pos) && fits;
    *out_len = pos;
    return fits ? SEAM_OK : SEAM_ERR_BUFFER_SMALL;
}

seam_err seam_perso_result_decode(const uint8_t *data, size_t len, seam_perso_result *out) {
    if (!data || !out)
        return SEAM_ERR_ARG;
    seam_tlv t;
    seam_tlv_iter it;
    seam_err e = begin_fields(data, len, TAG_RESULT, &it);
    if (e)
        return e;
    seam_perso_result r;
    memset(&r, 0, sizeof r);
    bool outcome = false, sw = false, reason = false;
    while ((e = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        if (t.tag == TAG_OUTCOME && !outcome && t.length == 1 && t.value[0] <= 0x01) {
            outcome = true;
            r.ok = t.value[0] == 0x00;
        } else if (t.tag == TAG_SW && !sw && t.length == 2) {
            sw = true;
            r.sw = (uint16_t)(t.value[0] << 8 | t.value[1]);
        } else if (t.tag == TAG_REASON && !reason && t.length <= SEAM_PERSO_RESULT_REASON_MAX) {
            reason = true;
            for (size_t i = 0; i < t.length; i++) {
                if (!printable(t.value[i]))
                    return SEAM_ERR_MALFORMED;
                r.reason[i] = (char)t.value[i];
            }
        } else {
            return SEAM_ERR_MALFORMED;
        }
    }
    if ((e = fields_end(e)) != SEAM_OK)
        return e;
    if (!outcome || !sw || !reason)
        return SEAM_ERR_MALFORMED;
    *out = r;
    return SEAM_OK;
}
