/*
 * GP card content management, the part that brings code onto the card:
 * INSTALL [for load], LOAD, INSTALL [for install (and make selectable)], and
 * gp_install, which sends the other roles to gp_install_roles.c
 * (gp_facts.md §1.3-1.5). DELETE is gp_delete.c.
 *
 *   INSTALL [for load] ─▶ LOAD 00 ─▶ LOAD 01 ─▶ ... ─▶ LOAD nn (P1 80, last)
 *        (in memory: c->load)                             │ C4 { wasm module }
 *                                                         ▼
 *                          package record + module in this command's transaction
 *
 * A load belongs to the SD that sent INSTALL [for load], on that channel and in
 * that secure channel session (docs/security.md): a LOAD from another SD, session
 * or channel is refused (6985), and the package is always that SD's. Any
 * refusal during a load ends it: the next LOAD needs a new INSTALL [for
 * load]. Nothing of a load is persistent before its last block, so a power
 * cut or reset mid-load leaves nothing behind. Every command needs an open
 * secure channel (else 6982) and answers the data field 00 on success.
 */
#include <stdlib.h>
#include <string.h>

#include "seam/crypto.h"

#include "card/card_int.h"
#include "gp.h"
#include "gp_content.h"
#include "card/content/applet_channel.h"
#include "card/content/card_diag.h"
#include "card/content/domains.h"
#include "gp_perso.h"
#include "card/content/instance.h"
#include "card/upgrade/upgrade.h"
#include "card/applet/package.h"
#include "card/store/package_store.h"
#include "card/iso/sw.h"

#define LOAD_MAX ((size_t)256 * 1024) /* largest load file, bytes */

bool gp_take_lv(const uint8_t *d, size_t n, size_t *pos, const uint8_t **v, size_t *len) {
    size_t p = *pos, l;
    if (p >= n)
        return false;
    l = d[p++];
    if (l == 0x81 || l == 0x82) {
        size_t bytes = l & 0x7F;
        if (n - p < bytes)
            return false;
        l = bytes == 1 ? d[p] : (size_t)d[p] << 8 | d[p + 1];
        p += bytes;
    } else if (l > 0x80) {
        return false;
    }
    if (n - p < l)
        return false;
    *v = d + p;
    *len = l;
    *pos = p + l;
    return true;
}

bool gp_aid_ok(size_t len, bool may_be_empty) {
    return (may_be_empty && len == 0) || (len >= 5 && len <= REGISTRY_AID_MAX);
}

static void load_end(seam_card *c) {
    free(c->load.bytes);
    memset(&c->load, 0, sizeof c->load);
}

void gp_load_refused(seam_card *c) {
    load_end(c);
}

void gp_reply_ok(seam_card *c, reply *r) {
    c->data[0] = 0x00;
    r->len = 1;
    r->sw = SEAM_SW_SUCCESS;
}

/* True when aid names a security domain, a package or an instance, is the built-in
   security domain package's, or is reserved by an upgrade session (P10, U5):
   for a package loaded by loader, the sessions it owns do not count; for anything
   else (loader NULL) every session does. */
static seam_err aid_in_use(seam_card *c, const uint8_t *aid, size_t len, const registry_sd *loader,
                           bool *used) {
    registry_sd sd;
    store_package p;
    store_instance inst;
    seam_err e = registry_sd_get(c->nvm, aid, len, &sd);
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_package_get(c->nvm, aid, len, &p);
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_instance_get(c->nvm, aid, len, &inst);
    *used =
        e == SEAM_OK || (len == sizeof domain_package_aid && !memcmp(aid, domain_package_aid, len));
    if (e == SEAM_ERR_NOT_FOUND)
        e = *used ? SEAM_OK : upgrade_reserved(c, aid, len, loader, used);
    return e;
}

/* True for an LFDB hash length the card checks: none, SHA-1, SHA-256, SHA-384, SHA-512. */
static bool hash_len_ok(size_t len) {
    return len == 0 || len == SEAM_CRYPTO_SHA1_SIZE || len == SEAM_CRYPTO_SHA256_SIZE ||
           len == SEAM_CRYPTO_SHA384_SIZE || len == SEAM_CRYPTO_SHA512_SIZE;
}

/* Checks the LFDB hash given in INSTALL [for load], if any, against lfdb[0..n)
   (the C4 value, gp_facts §1.5); *match is false on a mismatch. */
static seam_err lfdb_hash_check(const content_load *load, const uint8_t *lfdb, size_t n,
                                bool *match) {
    uint8_t digest[SEAM_CRYPTO_SHA512_SIZE];
    uint8_t diff = 0;
    seam_err e = SEAM_OK;
    *match = true;
    switch (load->hash_len) {
    case 0:
        goto out;
    case SEAM_CRYPTO_SHA1_SIZE:
        e = seam_crypto_sha1(lfdb, n, digest);
        break;
    case SEAM_CRYPTO_SHA256_SIZE:
        e = seam_crypto_sha256(lfdb, n, digest);
        break;
    case SEAM_CRYPTO_SHA384_SIZE:
        e = seam_crypto_sha384(lfdb, n, digest);
        break;
    default:
        e = seam_crypto_sha512(lfdb, n, digest);
        break;
    }
    if (e)
        goto out;
    for (size_t i = 0; i < load->hash_len; i++)
        diff |= (uint8_t)(digest[i] ^ load->hash[i]);
    *match = diff == 0;
out:
    return e;
}

static seam_err install_for_load(seam_card *c, channel *ch, const registry_sd *self,
                                 const seam_apdu *a, reply *r) {
    const uint8_t *elf, *sd, *hash, *params, *token;
    size_t elf_len, sd_len, hash_len, params_len, token_len, pos = 0;
    bool used = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!gp_take_lv(a->data, a->nc, &pos, &elf, &elf_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &sd, &sd_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &hash, &hash_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &params, &params_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &token, &token_len) || pos != a->nc)
        goto out;
    if (!gp_aid_ok(elf_len, false) || !gp_aid_ok(sd_len, true) || !hash_len_ok(hash_len))
        goto out;
    /* the package goes to the selected (issuer) security domain */
    if (sd_len && (sd_len != ch->selected_len || memcmp(sd, ch->selected, sd_len)))
        goto out;
    e = aid_in_use(c, elf, elf_len, self, &used);
    if (e)
        goto out;
    if (used) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    load_end(c);
    c->load.active = true;
    c->load.channel = (uint8_t)(ch - c->channels);
    memcpy(c->load.sd, self->aid, self->aid_len);
    c->load.sd_len = self->aid_len;
    channel_session_name(ch, c->load.session);
    memcpy(c->load.aid, elf, elf_len);
    c->load.aid_len = (uint8_t)elf_len;
    if (hash_len)
        memcpy(c->load.hash, hash, hash_len);
    c->load.hash_len = (uint8_t)hash_len;
    gp_reply_ok(c, r);
out:
    return e;
}

/* Checks the load file (C4 length, LFDB hash, package) and stores its package; sets r->sw. */
static seam_err load_finish(seam_card *c, reply *r) {
    const uint8_t *b = c->load.bytes;
    size_t n = c->load.len, hdr = 2, len = 0;
    seam_wasm_module *module = NULL;
    seam_package_info info;
    store_package p = {0};
    bool match = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (n < 2 || b[0] != 0xC4)
        goto out;
    if (b[1] < 0x80) {
        len = b[1];
    } else if (b[1] >= 0x81 && b[1] <= 0x83 && n >= 2u + (b[1] & 0x7Fu)) {
        hdr = 2u + (b[1] & 0x7Fu);
        for (size_t i = 2; i < hdr; i++)
            len = len << 8 | b[i];
    } else {
        goto out;
    }
    if (hdr + len != n)
        goto out;
    e = lfdb_hash_check(&c->load, b + hdr, len, &match);
    if (e || !match)
        goto out;
    if (seam_wasm_module_new(b + hdr, len, &module, NULL, 0) != SEAM_OK)
        goto out;
    if (seam_package_read(module, &info) != SEAM_OK || info.aid.len != c->load.aid_len ||
        memcmp(info.aid.bytes, c->load.aid, info.aid.len))
        goto out;
    /* a package install could not use is refused now (6A80), not at INSTALL */
    e = seam_applet_check(module);
    if (e)
        card_diag_package_refused(c, info.aid.bytes, info.aid.len, module, e);
    if (instance_refused(&e, &r->sw) || e)
        goto out;
    memcpy(p.aid, info.aid.bytes, info.aid.len);
    p.aid_len = (uint8_t)info.aid.len;
    p.version = info.version;
    p.space = SPACE_USEFUL;
    /* the package belongs to the SD that began the load (INSTALL [for load] checked
       that it is the SD named there) */
    memcpy(p.sd, c->load.sd, c->load.sd_len);
    p.sd_len = c->load.sd_len;
    p.applet_count = (uint8_t)info.applet_count;
    for (size_t i = 0; i < info.applet_count; i++) {
        memcpy(p.applets[i], info.applets[i].bytes, info.applets[i].len);
        p.applet_lens[i] = (uint8_t)info.applets[i].len;
    }
    e = store_package_put(c->nvm, &p, b + hdr, len);
    if (!e)
        gp_reply_ok(c, r);
out:
    seam_wasm_module_free(module);
    return e;
}

/* True when a LOAD on ch continues the load in progress: the same channel, SD and
   secure channel session as its INSTALL [for load]. */
static bool load_continues(const seam_card *c, const channel *ch) {
    uint8_t name[sizeof c->load.session];
    channel_session_name(ch, name);
    return c->load.active && c->load.channel == (uint8_t)(ch - c->channels) &&
           ch->selected_len == c->load.sd_len &&
           !memcmp(ch->selected, c->load.sd, c->load.sd_len) &&
           !memcmp(name, c->load.session, sizeof name);
}

seam_err gp_load(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    seam_err e = SEAM_OK;
    if (!load_continues(c, ch)) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* and the load, if any, ends */
    } else if ((a->p1 != 0x00 && a->p1 != 0x80) || a->p2 != c->load.next_block ||
               (a->p1 == 0x00 && a->p2 == 0xFF)) {
        r->sw = SEAM_SW_WRONG_P1P2;
    } else if (c->load.len + a->nc > LOAD_MAX) {
        r->sw = SEAM_SW_NOT_ENOUGH_MEMORY;
    } else {
        if (c->load.len + a->nc > c->load.cap) {
            size_t cap = c->load.cap ? c->load.cap * 2 : 4096;
            while (cap < c->load.len + a->nc)
                cap *= 2;
            uint8_t *grown = realloc(c->load.bytes, cap);
            if (!grown) {
                e = SEAM_ERR_NOMEM;
                goto out;
            }
            c->load.bytes = grown;
            c->load.cap = cap;
        }
        if (a->nc)
            memcpy(c->load.bytes + c->load.len, a->data, a->nc);
        c->load.len += a->nc;
        c->load.next_block++;
        if (a->p1 == 0x80)
            e = load_finish(c, r);
        else
            gp_reply_ok(c, r);
    }
out:
    if (e || r->sw != SEAM_SW_SUCCESS || a->p1 == 0x80)
        load_end(c); /* a refused or last block ends the load */
    return e;
}

/* Finds the C9 application parameters inside install parameters. */
static bool find_c9(const uint8_t *p, size_t n, const uint8_t **v, size_t *len) {
    size_t pos = 0;
    bool found = false;
    while (pos < n && !found) {
        uint8_t tag = p[pos++];
        const uint8_t *value;
        size_t value_len;
        if (!gp_take_lv(p, n, &pos, &value, &value_len))
            return false;
        if (tag == 0xC9) {
            *v = value;
            *len = value_len;
            found = true;
        }
    }
    return found;
}

/* Runs the install entry point (and the personalization replay from the instance's
   restore record) and stores the instance and its memory. */
static seam_err create_instance(seam_card *c, channel *ch, store_instance *inst,
                                const uint8_t *params, size_t params_len, reply *r) {
    instance_loaded li = {0};
    seam_err e = SEAM_OK;
    memcpy(inst->sd, ch->selected, ch->selected_len);
    inst->sd_len = ch->selected_len;
    inst->space = SPACE_USEFUL;
    li.record = *inst;
    e = instance_create(c, &li, params, params_len, 0, &r->sw);
    if (!e && r->sw == SEAM_SW_SUCCESS)
        e = instance_store(c, &li);
    if (!e && r->sw == SEAM_SW_SUCCESS)
        gp_reply_ok(c, r);
    instance_unload(&li);
    return e;
}

static seam_err install_for_install(seam_card *c, channel *ch, const registry_sd *self,
                                    const seam_apdu *a, bool selectable, reply *r) {
    const uint8_t *elf, *cls, *aid, *priv, *params, *token, *c9 = NULL;
    size_t elf_len, cls_len, aid_len, priv_len, params_len, token_len, c9_len = 0, pos = 0;
    store_package p;
    store_instance inst = {0};
    bool used = false, known = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!gp_take_lv(a->data, a->nc, &pos, &elf, &elf_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &cls, &cls_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &aid, &aid_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &priv, &priv_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &params, &params_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &token, &token_len) || pos != a->nc)
        goto out;
    if (!gp_aid_ok(elf_len, false) || !gp_aid_ok(cls_len, false) || !gp_aid_ok(aid_len, false) ||
        (priv_len != 1 && priv_len != 3) || !find_c9(params, params_len, &c9, &c9_len))
        goto out;
    if (elf_len == sizeof domain_package_aid && !memcmp(elf, domain_package_aid, elf_len)) {
        if (cls_len != sizeof domain_module_aid || memcmp(cls, domain_module_aid, cls_len)) {
            r->sw = SEAM_SW_DATA_NOT_FOUND;
            goto out;
        }
        e = aid_in_use(c, aid, aid_len, NULL, &used);
        if (e || used) {
            r->sw = SEAM_SW_CONDITIONS_NOT_MET;
            goto out;
        }
        e = domain_install(c, ch, self, aid, aid_len, priv, priv_len, selectable, &r->sw);
        if (!e && r->sw == SEAM_SW_SUCCESS)
            gp_reply_ok(c, r);
        goto out;
    }
    if (priv[0] & PRIV1_SECURITY_DOMAIN)
        goto out; /* 6A80: a package's applet cannot be a security domain */
    e = store_package_get(c->nvm, elf, elf_len, &p);
    if (e == SEAM_ERR_NOT_FOUND) {
        /* U2: no new instance from a package of the temporary useful space */
        e = store_package_get_in(c->nvm, SPACE_TEMPORARY, elf, elf_len, &p);
        r->sw = e == SEAM_OK ? SEAM_SW_CONDITIONS_NOT_MET : SEAM_SW_DATA_NOT_FOUND;
        e = e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
        goto out;
    }
    for (uint8_t i = 0; !e && i < p.applet_count; i++)
        known |= p.applet_lens[i] == cls_len && !memcmp(p.applets[i], cls, cls_len);
    if (e || !known) {
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto out;
    }
    if (p.space != SPACE_USEFUL) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* U2: no new instance from the temporary space */
        goto out;
    }
    e = aid_in_use(c, aid, aid_len, NULL, &used);
    if (e || used) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    memcpy(inst.aid, aid, aid_len);
    inst.aid_len = (uint8_t)aid_len;
    inst.lifecycle = selectable ? INSTANCE_SELECTABLE : INSTANCE_INSTALLED;
    memcpy(inst.package, elf, elf_len);
    inst.package_len = (uint8_t)elf_len;
    memcpy(inst.applet, cls, cls_len);
    inst.applet_len = (uint8_t)cls_len;
    memcpy(inst.privileges, priv, priv_len);
    e = create_instance(c, ch, &inst, c9, c9_len, r);
out:
    return e;
}

seam_err gp_install(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    registry_sd self;
    seam_err e = SEAM_OK;
    if ((e = domain_authority_token(c, ch, a, &self, &r->sw)) != SEAM_OK ||
        r->sw != SEAM_SW_SUCCESS)
        r->sw = e ? SEAM_SW_UNKNOWN : r->sw;
    else if (a->p2 != 0x00)
        r->sw = SEAM_SW_WRONG_P1P2;
    else if (a->p1 == 0x02)
        e = install_for_load(c, ch, &self, a, r);
    else if (a->p1 == 0x04 || a->p1 == 0x0C)
        e = install_for_install(c, ch, &self, a, a->p1 == 0x0C, r);
    else if (a->p1 == 0x08)
        e = gp_install_make_selectable(c, &self, a, r);
    else if (a->p1 == 0x10)
        e = gp_install_extradition(c, &self, a, r);
    else if (a->p1 == 0x20)
        e = gp_install_personalization(c, ch, a, r);
    else if (a->p1 == 0x40)
        e = gp_install_registry_update(c, &self, a, r);
    else
        r->sw = SEAM_SW_WRONG_P1P2;
    if (!e && r->sw == SEAM_SW_SUCCESS && (a->p1 == 0x04 || a->p1 == 0x0C))
        e = upgrade_tidy_all(c); /* U6: an SD holding the new version lets the old go */
    return e;
}
