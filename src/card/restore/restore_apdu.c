/*
 * The restore module on the card's external interface (docs/restore-module.md,
 * requirements P5 c, P9, P10): STORE DATA DGIs 7F70 (personalization blocks)
 * and 7F71 (application data entries) sent to a security domain, and the
 * export of a record to the terminal. Every one acts only on identities of
 * the SD whose secure channel carries it; reading is only the export, at
 * security level 33 so that the terminal relays bytes it cannot read.
 * Writing needs an SD that manages content (Authorized or Delegated
 * Management), and stays within the SD's quota (store/restore_records.h).
 */
#include <stdlib.h>
#include <string.h>

#include "card/content/domains.h"
#include "card/content/applet_channel.h"
#include "card/content/instance.h"
#include "restore_apdu.h"
#include "seam/util.h"
#include "card/iso/sw.h"

#define TAG_AID     0x4Fu
#define TAG_EXPORT  0xA2u
#define TAG_VERSION 0xC0u

/* Reads the leading 4F instance AID of a DGI value; false when malformed. */
static bool leading_aid(const uint8_t *d, size_t n, seam_tlv *aid, seam_tlv_iter *rest) {
    seam_tlv_iter_init(rest, d, n);
    return seam_tlv_iter_next(rest, aid) == SEAM_OK && aid->tag == TAG_AID && aid->length >= 5 &&
           aid->length <= REGISTRY_AID_MAX;
}

/* Personalizes instance aid of SD self from its record now, if it is there and idle. */
static seam_err personalize_now(seam_card *c, const registry_sd *self, const seam_tlv *aid,
                                uint16_t *sw) {
    instance_loaded li = {0};
    store_instance inst;
    seam_err e = store_instance_get(c->nvm, aid->value, aid->length, &inst);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK; /* installed later: INSTALL replays the record */
        goto done;
    }
    if (e || inst.sd_len != self->aid_len || memcmp(inst.sd, self->aid, inst.sd_len))
        goto done; /* another SD's instance: its identity is not this record's */
    if (content_instance_selected(c, aid->value, aid->length)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto done;
    }
    e = instance_load(c, aid->value, aid->length, &li);
    if (instance_refused(&e, sw)) /* an unusable package: 6A80, not a storage failure */
        goto done;
    if (!e)
        e = instance_replay_perso(c, &li, sw);
    if (!e && *sw == SEAM_SW_SUCCESS)
        e = instance_commit(c, &li);
done:
    instance_unload(&li);
    return e;
}

/* DGI 7F70: 4F instance AID, then E2 blocks (P1 || data) replacing the record's. */
static seam_err dgi_perso(seam_card *c, const registry_sd *self, const uint8_t *d, size_t n,
                          uint16_t *sw) {
    seam_tlv aid, block;
    seam_tlv_iter it;
    restore_identity id;
    int32_t result = 0;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if (!leading_aid(d, n, &aid, &it) || !restore_blocks_valid(it.next, it.remaining))
        goto done;
    restore_identity_make(&id, self->aid, self->aid_len, aid.value, aid.length);
    e = restore_perso_clear(c->nvm, &id);
    while (!e && result == 0 && seam_tlv_iter_next(&it, &block) == SEAM_OK)
        e = restore_perso_append(c->nvm, &id, block.value[0], block.value + 1, block.length - 1,
                                 &result);
    *sw = result ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_SUCCESS;
    if (!e && *sw == SEAM_SW_SUCCESS)
        e = personalize_now(c, self, &aid, sw);
done:
    return e;
}

/* DGI 7F71: 4F instance AID, then E1 { 80 name, 81 value } entries to set. */
static seam_err dgi_entries(seam_card *c, const registry_sd *self, const uint8_t *d, size_t n,
                            uint16_t *sw) {
    seam_tlv aid, entry, name, value;
    seam_tlv_iter it;
    restore_identity id;
    int32_t result = 0;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if (!leading_aid(d, n, &aid, &it) || !restore_entries_valid(it.next, it.remaining))
        goto done;
    restore_identity_make(&id, self->aid, self->aid_len, aid.value, aid.length);
    while (!e && result == 0 && seam_tlv_iter_next(&it, &entry) == SEAM_OK &&
           restore_entry_split(&entry, &name, &value)) {
        e = restore_entry_put(c->nvm, &id, name.value, name.length, value.value, value.length,
                              &result);
    }
    *sw = result ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_SUCCESS;
done:
    return e;
}

seam_err restore_store_data_dgi(seam_card *c, const channel *ch, uint16_t dgi, const uint8_t *d,
                                size_t n, uint16_t *sw) {
    registry_sd self;
    /* only an SD that manages content files records (P10; docs/restore-module.md) */
    seam_err e = domain_content_manager(c, ch, &self, sw);
    if (e || *sw != SEAM_SW_SUCCESS)
        return e;
    if (!(scp03_security_level(&ch->session) & SCP03_LEVEL_C_DEC)) {
        seam_log(SEAM_LOG_DEBUG, "card: DGI %04X needs C-DECRYPTION (6982)", dgi);
        *sw = SEAM_SW_SECURITY_STATUS;
    } else if (dgi == RESTORE_DGI_PERSO) {
        e = dgi_perso(c, &self, d, n, sw);
    } else {
        e = dgi_entries(c, &self, d, n, sw);
    }
    return e;
}

/* ---- export (P9) ---------------------------------------------------------------- */

typedef struct {
    uint8_t *out;
    size_t cap, len;
    bool full;
} export_buffer;

static void put_bytes(export_buffer *b, const uint8_t *p, size_t n) {
    if (b->cap - b->len < n) {
        b->full = true;
        return;
    }
    memcpy(b->out + b->len, p, n);
    b->len += n;
}

/* Appends tag, a BER length and value. */
static void put_tlv(export_buffer *b, uint8_t tag, const uint8_t *v, size_t n) {
    uint8_t h[4] = {tag};
    size_t hn = 1;
    if (n > 0xFF) {
        h[hn++] = 0x82;
        h[hn++] = (uint8_t)(n >> 8);
    } else if (n > 0x7F) {
        h[hn++] = 0x81;
    }
    h[hn++] = (uint8_t)n;
    put_bytes(b, h, hn);
    put_bytes(b, v, n);
}

static int export_entry(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *value,
                        size_t len) {
    export_buffer *b = ctx;
    uint8_t *inner = malloc(4 + name_len + 4 + len);
    export_buffer e = {inner, 4 + name_len + 4 + len, 0, inner == NULL};
    if (inner) {
        put_tlv(&e, RESTORE_TAG_NAME, name, name_len);
        put_tlv(&e, RESTORE_TAG_VALUE, value, len);
        put_tlv(b, RESTORE_TAG_ENTRY, inner, e.len);
        seam_secure_zero(inner, e.cap);
    }
    b->full |= e.full;
    free(inner);
    return b->full ? 1 : 0;
}

/* Runs save_for_upgrade on instance aid of SD self, if it is there and idle, so that
   the exported record carries its current application data. */
static seam_err save_now(seam_card *c, const registry_sd *self, const uint8_t *aid, size_t aid_len,
                         uint16_t *sw) {
    instance_loaded li = {0};
    store_instance inst;
    seam_applet_result res = {0};
    seam_err e = store_instance_get(c->nvm, aid, aid_len, &inst);
    *sw = SEAM_SW_SUCCESS;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK; /* a record without its instance: exported as it is */
        goto done;
    }
    if (e || inst.sd_len != self->aid_len || memcmp(inst.sd, self->aid, inst.sd_len))
        goto done;
    if (content_instance_selected(c, aid, aid_len)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET; /* its live state belongs to that channel */
        goto done;
    }
    e = instance_load(c, aid, aid_len, &li);
    if (instance_refused(&e, sw)) /* an unusable package: 6A80, not a storage failure */
        goto done;
    if (!e)
        e = seam_applet_save_for_upgrade(li.applet, &res);
    if (!e && res.storage)
        e = res.storage;
    if (!e && (res.rollback || res.sw != SEAM_SW_SUCCESS))
        *sw = res.rollback || res.sw == SEAM_SW_SUCCESS ? SEAM_SW_UNKNOWN : res.sw;
done:
    instance_unload(&li);
    return e;
}

seam_err restore_export(seam_card *c, const channel *ch, const uint8_t *aid, size_t aid_len,
                        uint8_t *out, size_t cap, size_t *out_len, uint16_t *sw) {
    registry_sd self;
    restore_identity id;
    restore_blocks blocks = {0};
    store_instance inst;
    export_buffer body = {0};
    bool exists = false;
    uint8_t version[2] = {0, 0}, block[1 + RESTORE_BLOCK_MAX];
    uint8_t level = scp03_security_level(&ch->session);
    seam_err e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &self);
    *sw = SEAM_SW_SECURITY_STATUS;
    *out_len = 0;
    if (e == SEAM_ERR_NOT_FOUND)
        e = SEAM_OK;
    if (e || !self.aid_len || level != 0x33)
        goto done; /* 6982: the record leaves the card only encrypted and MACed */
    restore_identity_make(&id, self.aid, self.aid_len, aid, aid_len);
    e = restore_record_exists(c->nvm, &id, &exists);
    if (!e && !exists)
        *sw = SEAM_SW_DATA_NOT_FOUND;
    if (e || !exists)
        goto done;
    e = save_now(c, &self, aid, aid_len, sw);
    if (e || *sw != SEAM_SW_SUCCESS)
        goto done;
    if (store_instance_get(c->nvm, aid, aid_len, &inst) == SEAM_OK) {
        store_package p;
        if (store_package_get_in(c->nvm, inst.space, inst.package, inst.package_len, &p) ==
            SEAM_OK) {
            version[0] = (uint8_t)(p.version >> 8);
            version[1] = (uint8_t)p.version;
        }
    }
    body.cap = cap > 4 ? cap - 4 : 0;
    body.out = malloc(body.cap ? body.cap : 1);
    e = body.out ? restore_blocks_read(c->nvm, &id, &blocks) : SEAM_ERR_NOMEM;
    if (e)
        goto done;
    put_tlv(&body, TAG_AID, aid, aid_len);
    put_tlv(&body, TAG_VERSION, version, 2);
    for (size_t i = 0; i < blocks.count; i++) {
        block[0] = blocks.p1[i];
        memcpy(block + 1, blocks.data + blocks.offset[i], blocks.len[i]);
        put_tlv(&body, RESTORE_TAG_BLOCK, block, 1 + blocks.len[i]);
    }
    e = restore_entry_foreach(c->nvm, &id, export_entry, &body);
    if (!e && body.full) {
        *sw = SEAM_SW_NOT_ENOUGH_MEMORY; /* cannot happen within the quota */
    } else if (!e) {
        export_buffer whole = {out, cap, 0, false};
        put_tlv(&whole, TAG_EXPORT, body.out, body.len);
        *out_len = whole.len;
        *sw = whole.full ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_SUCCESS;
    }
done:
    seam_secure_zero(block, sizeof block);
    if (body.out)
        seam_secure_zero(body.out, body.cap);
    free(body.out);
    restore_blocks_free(&blocks);
    return e;
}
