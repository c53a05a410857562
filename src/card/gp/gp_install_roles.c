/*
 * The INSTALL roles that change what is already on the card (gp_facts §1.3-1.4;
 * docs/card.md "Personalization and INSTALL variants"): [for make selectable]
 * (08), [for registry update] (40), [for extradition] (10) and [for
 * personalization] (20, the STORE DATA target, gp_perso.c). gp_install
 * (gp_content.c) checked the selected SD's authority (and a Delegated
 * Management token) before it calls them. Each answers the data field 00 on
 * success and writes in the command's transaction.
 */
#include <string.h>

#include "card/card_int.h"
#include "card/content/applet_channel.h"
#include "card/content/domains.h"
#include "card/iso/sw.h"
#include "card/store/package_store.h"
#include "card/upgrade/upgrade.h"
#include "gp_content.h"
#include "gp_perso.h"

seam_err gp_install_make_selectable(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                    reply *r) {
    const uint8_t *v[6];
    size_t len[6], pos = 0;
    store_instance inst;
    registry_sd sd;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    for (int i = 0; i < 6; i++)
        if (!gp_take_lv(a->data, a->nc, &pos, &v[i], &len[i]))
            goto out;
    if (pos != a->nc || !gp_aid_ok(len[2], false))
        goto out;
    e = registry_sd_get(c->nvm, v[2], len[2], &sd);
    if (!e) {
        e = domain_make_selectable(c, self, &sd, &r->sw);
        if (!e && r->sw == SEAM_SW_SUCCESS)
            gp_reply_ok(c, r);
        goto out;
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_instance_get(c->nvm, v[2], len[2], &inst);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
    } else if (!e && !domain_owns(self, inst.sd, inst.sd_len, 0)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
    } else if (!e && inst.lifecycle != INSTANCE_INSTALLED) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else if (!e) {
        inst.lifecycle = INSTANCE_SELECTABLE;
        e = store_instance_put(c->nvm, &inst);
        if (!e)
            gp_reply_ok(c, r);
    }
out:
    return e;
}

/* Reads the six LVs of an INSTALL variant other than for load and for install. */
static bool take_six(const seam_apdu *a, const uint8_t *v[6], size_t len[6]) {
    size_t pos = 0;
    bool ok = true;
    for (int i = 0; i < 6 && ok; i++)
        ok = gp_take_lv(a->data, a->nc, &pos, &v[i], &len[i]);
    return ok && pos == a->nc;
}

/* Reads instance aid; a missing one sets r->sw to 6A88 and returns SEAM_OK with *found false. */
static seam_err find_instance(seam_card *c, const uint8_t *aid, size_t len, store_instance *inst,
                              bool *found, reply *r) {
    seam_err e = store_instance_get(c->nvm, aid, len, inst);
    *found = e == SEAM_OK;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
    }
    return e;
}

/* INSTALL [for registry update]: SD AID (empty or the instance's SD), 00, instance
   AID, privileges (empty: unchanged; 1 or 3 bytes: the new ones), params, token. */
seam_err gp_install_registry_update(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                    reply *r) {
    const uint8_t *v[6];
    size_t len[6];
    store_instance inst;
    bool found = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!take_six(a, v, len) || !gp_aid_ok(len[0], true) || len[1] || !gp_aid_ok(len[2], false) ||
        (len[3] != 0 && len[3] != 1 && len[3] != 3) || (len[3] && (v[3][0] & 0x80)))
        goto out; /* an applet instance cannot become a security domain */
    e = find_instance(c, v[2], len[2], &inst, &found, r);
    if (e || !found)
        goto out;
    if (!domain_owns(self, inst.sd, inst.sd_len, 0)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
        goto out;
    }
    if (len[0] && (len[0] != inst.sd_len || memcmp(v[0], inst.sd, len[0])))
        goto out; /* 6A80: moving an instance is INSTALL [for extradition] */
    if (len[3]) {
        memset(inst.privileges, 0, sizeof inst.privileges);
        memcpy(inst.privileges, v[3], len[3]);
    }
    e = store_instance_put(c->nvm, &inst);
    if (!e)
        gp_reply_ok(c, r);
out:
    return e;
}

/* INSTALL [for extradition] of a package: it must be self's and in the useful space
   (U8: 6985 in the temporary one), and not the new version of an upgrade in progress
   (6985: a migration installs only code of the session's owner); its record names the
   target SD. */
static seam_err extradite_package(seam_card *c, const registry_sd *self, const registry_sd *to,
                                  const uint8_t *aid, size_t len, reply *r) {
    store_package p;
    bool reserved = false;
    seam_err e = store_package_get(c->nvm, aid, len, &p);
    if (!e)
        e = upgrade_reserved(c, aid, len, NULL, &reserved);
    if (e == SEAM_ERR_NOT_FOUND) { /* U8: a package of the temporary space stays there */
        e = store_package_get_in(c->nvm, SPACE_TEMPORARY, aid, len, &p);
        r->sw = e == SEAM_OK ? SEAM_SW_CONDITIONS_NOT_MET : SEAM_SW_DATA_NOT_FOUND;
        e = e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
    } else if (!e && !domain_owns(self, p.sd, p.sd_len, 0)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
    } else if (!e && (p.space != SPACE_USEFUL || reserved)) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else if (!e) {
        memcpy(p.sd, to->aid, to->aid_len);
        p.sd_len = to->aid_len;
        e = store_package_update(c->nvm, &p);
        if (!e)
            gp_reply_ok(c, r);
    }
    return e;
}

/* Moves instance inst to SD `to` with its restore record, in this transaction: 6985 when
   `to` holds a record for the same instance AID already, 6A84 when it has no room. */
static seam_err extradite_instance(seam_card *c, store_instance *inst, const registry_sd *to,
                                   reply *r) {
    restore_identity from, dest;
    bool taken = false;
    int32_t quota = 0;
    seam_err e = SEAM_OK;
    restore_identity_make(&from, inst->sd, inst->sd_len, inst->aid, inst->aid_len);
    restore_identity_make(&dest, to->aid, to->aid_len, inst->aid, inst->aid_len);
    if (from.len != dest.len || memcmp(from.bytes, dest.bytes, from.len)) {
        e = restore_record_exists(c->nvm, &dest, &taken);
        if (e || taken) {
            r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* the target's own record stays its own */
            goto out;
        }
        e = restore_record_move(c->nvm, &from, &dest, &quota);
        if (e || quota != 0) {
            r->sw = SEAM_SW_NOT_ENOUGH_MEMORY;
            goto out;
        }
    }
    memcpy(inst->sd, to->aid, to->aid_len);
    inst->sd_len = to->aid_len;
    e = store_instance_put(c->nvm, inst);
    if (!e)
        gp_reply_ok(c, r);
out:
    return e;
}

/* INSTALL [for extradition]: target SD AID, 00, instance or package AID, 00, params,
   token. The target must be a security domain on the card (6A88), the instance or
   package self's (6982); its record then names the target. An instance takes its
   restore record along, and must not be selected on a channel (6985). */
seam_err gp_install_extradition(seam_card *c, const registry_sd *self, const seam_apdu *a,
                                reply *r) {
    const uint8_t *v[6];
    size_t len[6];
    store_instance inst;
    registry_sd sd;
    bool found = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!take_six(a, v, len) || !gp_aid_ok(len[0], false) || len[1] || !gp_aid_ok(len[2], false) ||
        len[3])
        goto out;
    e = registry_sd_get(c->nvm, v[0], len[0], &sd);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto out;
    }
    if (!e) {
        e = store_instance_get(c->nvm, v[2], len[2], &inst);
        found = e == SEAM_OK;
    }
    if (e == SEAM_ERR_NOT_FOUND) {
        e = extradite_package(c, self, &sd, v[2], len[2], r);
        goto out;
    }
    if (e || !found)
        goto out;
    if (!domain_owns(self, inst.sd, inst.sd_len, 0)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
        goto out;
    }
    /* an instance of either version of a package being upgraded stays in its SD while
       the session lives: one of P2 given to another SD would count as that SD's move
       and let the clean-up delete its P1 instances (U5, U7) */
    e = upgrade_reserved(c, inst.package, inst.package_len, NULL, &found);
    if (e || found) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    if (content_instance_selected(c, inst.aid, inst.aid_len)) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET; /* bound to its old record on that channel */
        goto out;
    }
    e = extradite_instance(c, &inst, &sd, r);
out:
    return e;
}

/* INSTALL [for personalization]: 00, 00, instance AID, 00, 00, 00. The instance must
   exist and belong to the selected SD (6A88); it becomes ch's STORE DATA target. */
seam_err gp_install_personalization(seam_card *c, channel *ch, const seam_apdu *a, reply *r) {
    const uint8_t *v[6];
    size_t len[6];
    store_instance inst;
    bool found = false;
    seam_err e = SEAM_OK;
    r->sw = SEAM_SW_WRONG_DATA;
    if (!take_six(a, v, len) || len[0] || len[1] || !gp_aid_ok(len[2], false) || len[3])
        goto out;
    e = find_instance(c, v[2], len[2], &inst, &found, r);
    if (e || !found)
        goto out;
    if (inst.sd_len != ch->selected_len || memcmp(inst.sd, ch->selected, inst.sd_len)) {
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto out;
    }
    perso_begin(ch, inst.aid, inst.aid_len);
    gp_reply_ok(c, r);
out:
    return e;
}
