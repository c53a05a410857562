/*
 * GP card content management, the part that brings code onto the card:
 * INSTALL [for load] (P1 02), LOAD, INSTALL [for install] (04, 0C), the
 * combined INSTALL [for load, install and make selectable] (0E: P2 01, the
 * LOADs, P2 03), and gp_install, which sends the other roles to
 * gp_install_roles.c (gp_facts.md §1.3-1.5; docs/card.md "Packages and
 * applets"). DELETE is gp_delete.c.
 *
 * A load lives in RAM (c->load) until the command that stores it:
 *
 *          INSTALL [for load] (02)              INSTALL 0E P2 01 (for-load layout)
 *                    │                                      │
 *                    ▼                                      ▼
 *   NONE ──▶ LOADING ◀── LOAD 00, 01, ... ──▶ LOADING (combined)
 *                    │ LOAD nn, P1 80: the file             │ LOAD nn, P1 80: the same checks,
 *                    │ checked (C4, hash, package,          │ nothing stored, 00 9000
 *                    ▼ runtime)                             ▼
 *   package + module stored in that          HELD (the checked package in RAM)
 *   LOAD's transaction ──▶ NONE                             │ INSTALL 0E P2 03 (for-install
 *                                                           │ layout, ELF AID empty or the
 *                                                           ▼ package's)
 *                           package + module + instance stored in ONE transaction ──▶ NONE
 *
 * A load belongs to the SD that sent its first INSTALL, on that channel and in
 * that secure channel session (docs/security.md): a LOAD, or the final INSTALL
 * 0E 03, from another SD, session or channel is refused (6985) and ends it, and
 * the package is always that SD's. What ends a load, in either state: any
 * refused LOAD or refused INSTALL 0E 03 (also one refused before its handler,
 * for its security level or on a CARD_LOCKED card), a LOAD after the last
 * block (6985: no load to continue), a new INSTALL [for load] or 0E 01 on any
 * channel (it replaces it), the final INSTALL itself, a reset or power off.
 * Other commands, on any channel, leave it alone; the final INSTALL checks the
 * package AID again, as it may have been taken since the last block. A storage
 * failure (a failed write or commit) puts the load back as it was before the
 * command (transmit.c), so the host may send that command again. Nothing of a
 * load is persistent before the command that stores it, so a power cut or reset
 * before then leaves nothing behind, and a refused or interrupted final
 * INSTALL leaves no package without its instance. Every command needs an open
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

void gp_load_refused(seam_card *c, const seam_apdu *a) {
    (void)a;
    load_end(c);
}

void gp_install_refused(seam_card *c, const seam_apdu *a) {
    if ((a->p1 & 0x7F) == 0x0E && a->p2 == 0x03)
        load_end(c); /* a refused final INSTALL ends the combined sequence */
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

/* INSTALL [for load] (P1 02), or the first command of the combined sequence (P1 0E
   P2 01: combined), in the for-load layout: begins a load on ch, replacing any other. */
static seam_err install_for_load(seam_card *c, channel *ch, const registry_sd *self,
                                 const seam_apdu *a, bool combined, reply *r) {
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
    c->load.combined = combined;
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

/* Checks the whole load file: C4 and its length, the LFDB hash, the package metadata
   naming the AID of the load's INSTALL, a module the applet runtime can use. Fills *p,
   the package record, and *offset, where the module starts in the load's bytes; r->sw
   9000 when it passes, 6A80 otherwise. */
static seam_err load_check(seam_card *c, store_package *p, size_t *offset, reply *r) {
    const uint8_t *b = c->load.bytes;
    size_t n = c->load.len, hdr = 2, len = 0;
    seam_wasm_module *module = NULL;
    seam_package_info info;
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
    memset(p, 0, sizeof *p);
    memcpy(p->aid, info.aid.bytes, info.aid.len);
    p->aid_len = (uint8_t)info.aid.len;
    p->version = info.version;
    p->space = SPACE_USEFUL;
    /* the package belongs to the SD that began the load (its INSTALL checked that it is
       the SD named there) */
    memcpy(p->sd, c->load.sd, c->load.sd_len);
    p->sd_len = c->load.sd_len;
    p->applet_count = (uint8_t)info.applet_count;
    for (size_t i = 0; i < info.applet_count; i++) {
        memcpy(p->applets[i], info.applets[i].bytes, info.applets[i].len);
        p->applet_lens[i] = (uint8_t)info.applets[i].len;
    }
    *offset = hdr;
    r->sw = SEAM_SW_SUCCESS;
out:
    seam_wasm_module_free(module);
    return e;
}

/* The last LOAD block, once load_check passed: a plain load stores its package in this
   LOAD's transaction; a combined one holds it for the final INSTALL. Sets r->sw. */
static seam_err load_finish(seam_card *c, reply *r) {
    store_package p;
    size_t offset = 0;
    seam_err e = load_check(c, &p, &offset, r);
    if (e || r->sw != SEAM_SW_SUCCESS)
        return e;
    if (c->load.combined) {
        c->load.package = p;
        c->load.module_offset = offset;
        c->load.held = true;
    } else {
        e = store_package_put(c->nvm, &p, c->load.bytes + offset, c->load.len - offset);
    }
    if (!e)
        gp_reply_ok(c, r);
    return e;
}

/* True when a command on ch may take the load in progress further: the same channel, SD
   and secure channel session as the INSTALL that began it. */
static bool load_bound(const seam_card *c, const channel *ch) {
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
    if (!load_bound(c, ch) || c->load.held) {
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
    if (e || r->sw != SEAM_SW_SUCCESS || (a->p1 == 0x80 && !c->load.held))
        load_end(c); /* a refused block ends the load, and so does the last of a plain one */
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

/* The fields of the for-install layout (gp_facts §1.4); c9 is the value of C9. */
typedef struct {
    const uint8_t *elf, *cls, *aid, *priv, *c9;
    size_t elf_len, cls_len, aid_len, priv_len, c9_len;
} install_fields;

/* Reads the for-install layout of a into *f (its ELF AID may be empty when elf_optional);
   false when malformed (6A80). */
static bool take_install_fields(const seam_apdu *a, bool elf_optional, install_fields *f) {
    const uint8_t *params, *token;
    size_t params_len, token_len, pos = 0;
    if (!gp_take_lv(a->data, a->nc, &pos, &f->elf, &f->elf_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &f->cls, &f->cls_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &f->aid, &f->aid_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &f->priv, &f->priv_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &params, &params_len) ||
        !gp_take_lv(a->data, a->nc, &pos, &token, &token_len) || pos != a->nc)
        return false;
    return gp_aid_ok(f->elf_len, elf_optional) && gp_aid_ok(f->cls_len, false) &&
           gp_aid_ok(f->aid_len, false) && (f->priv_len == 1 || f->priv_len == 3) &&
           find_c9(params, params_len, &f->c9, &f->c9_len);
}

/* INSTALL [for install] (04) or [for install and make selectable] (0C: selectable) of
   *f: an SSD from the built-in SD package, or an applet instance from a package in the
   useful space. */
static seam_err install_for_install(seam_card *c, channel *ch, const registry_sd *self,
                                    const install_fields *f, bool selectable, reply *r) {
    store_package p;
    store_instance inst = {0};
    bool used = false, known = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (f->elf_len == sizeof domain_package_aid &&
        !memcmp(f->elf, domain_package_aid, f->elf_len)) {
        if (f->cls_len != sizeof domain_module_aid ||
            memcmp(f->cls, domain_module_aid, f->cls_len)) {
            r->sw = SEAM_SW_DATA_NOT_FOUND;
            goto out;
        }
        e = aid_in_use(c, f->aid, f->aid_len, NULL, &used);
        if (e || used) {
            r->sw = SEAM_SW_CONDITIONS_NOT_MET;
            goto out;
        }
        e = domain_install(c, ch, self, f->aid, f->aid_len, f->priv, f->priv_len, selectable,
                           &r->sw);
        if (!e && r->sw == SEAM_SW_SUCCESS)
            gp_reply_ok(c, r);
        goto out;
    }
    if (f->priv[0] & PRIV1_SECURITY_DOMAIN)
        goto out; /* 6A80: a package's applet cannot be a security domain */
    e = store_package_get(c->nvm, f->elf, f->elf_len, &p);
    if (e == SEAM_ERR_NOT_FOUND) {
        /* U2: no new instance from a package of the temporary useful space */
        e = store_package_get_in(c->nvm, SPACE_TEMPORARY, f->elf, f->elf_len, &p);
        r->sw = e == SEAM_OK ? SEAM_SW_CONDITIONS_NOT_MET : SEAM_SW_DATA_NOT_FOUND;
        e = e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
        goto out;
    }
    for (uint8_t i = 0; !e && i < p.applet_count; i++)
        known |= p.applet_lens[i] == f->cls_len && !memcmp(p.applets[i], f->cls, f->cls_len);
    if (e || !known) {
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto out;
    }
    if (p.space != SPACE_USEFUL) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* U2: no new instance from the temporary space */
        goto out;
    }
    e = aid_in_use(c, f->aid, f->aid_len, NULL, &used);
    if (e || used) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    memcpy(inst.aid, f->aid, f->aid_len);
    inst.aid_len = (uint8_t)f->aid_len;
    inst.lifecycle = selectable ? INSTANCE_SELECTABLE : INSTANCE_INSTALLED;
    memcpy(inst.package, f->elf, f->elf_len);
    inst.package_len = (uint8_t)f->elf_len;
    memcpy(inst.applet, f->cls, f->cls_len);
    inst.applet_len = (uint8_t)f->cls_len;
    memcpy(inst.privileges, f->priv, f->priv_len);
    e = create_instance(c, ch, &inst, f->c9, f->c9_len, r);
out:
    return e;
}

/*
 * The final command of the combined sequence (P1 0E P2 03, the for-install layout):
 * only right after a combined load completed on ch, by the same SD in the same
 * session (6985), its ELF AID empty or the held package's (6A80). The package is
 * stored, then the instance installed and made selectable as by P1 0C, in this one
 * transaction: any refusal after the store rolls the package back with the rest.
 * gp_install ends the sequence whatever the outcome.
 */
static seam_err install_final(seam_card *c, channel *ch, const registry_sd *self,
                              const seam_apdu *a, reply *r) {
    install_fields f;
    bool used = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_CONDITIONS_NOT_MET;
    if (!c->load.held || !load_bound(c, ch))
        goto out;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!take_install_fields(a, true, &f) ||
        (f.elf_len && (f.elf_len != c->load.aid_len || memcmp(f.elf, c->load.aid, f.elf_len))))
        goto out;
    f.elf = c->load.aid;
    f.elf_len = c->load.aid_len;
    /* taken since the last block (an SSD, an upgrade session of another SD)? */
    e = aid_in_use(c, f.elf, f.elf_len, self, &used);
    if (e || used) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    e = store_package_put(c->nvm, &c->load.package, c->load.bytes + c->load.module_offset,
                          c->load.len - c->load.module_offset);
    if (!e)
        e = install_for_install(c, ch, self, &f, true, r);
out:
    return e;
}

seam_err gp_install(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    registry_sd self;
    install_fields f;
    bool final = a->p1 == 0x0E && a->p2 == 0x03;
    seam_err e = SEAM_OK;
    if ((e = domain_authority_token(c, ch, a, &self, &r->sw)) != SEAM_OK ||
        r->sw != SEAM_SW_SUCCESS)
        r->sw = e ? SEAM_SW_UNKNOWN : r->sw;
    else if (a->p1 == 0x0E && a->p2 == 0x01)
        e = install_for_load(c, ch, &self, a, true, r);
    else if (final)
        e = install_final(c, ch, &self, a, r);
    else if (a->p2 != 0x00 || a->p1 == 0x0E)
        r->sw = SEAM_SW_WRONG_P1P2; /* P2 01 and 03 are P1 0E's, and P1 0E needs one */
    else if (a->p1 == 0x02)
        e = install_for_load(c, ch, &self, a, false, r);
    else if ((a->p1 == 0x04 || a->p1 == 0x0C) && !take_install_fields(a, false, &f))
        r->sw = SEAM_SW_WRONG_DATA;
    else if (a->p1 == 0x04 || a->p1 == 0x0C)
        e = install_for_install(c, ch, &self, &f, a->p1 == 0x0C, r);
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
    if (final) /* stored or refused, the sequence is over (a storage failure puts it back) */
        load_end(c);
    if (!e && r->sw == SEAM_SW_SUCCESS && (a->p1 == 0x04 || a->p1 == 0x0C || final))
        e = upgrade_tidy_all(c); /* U6: an SD holding the new version lets the old go */
    return e;
}
