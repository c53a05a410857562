/*
 * Security domains as owners of card content (GP 2.3.1 chapters 7 and 9;
 * gp_facts.md §1.7-1.8): who may manage what, and the supplementary security
 * domains (SSDs) themselves.
 *
 * Authority. Card content management (INSTALL, LOAD, DELETE) is carried out
 * by the security domain selected on the channel, through its own open
 * SCP03 session (the handlers check that first: 6982). The SD must be
 * SELECTABLE or PERSONALIZED (not LOCKED) and hold Authorized Management; an
 * SD with Delegated Management would need tokens verified by the issuer,
 * which this card does not verify yet, so it is refused like an SD with
 * neither privilege: 6982.
 *
 * Ownership. Every package, instance and SSD is associated with one SD (its
 * owner): the SD that loaded or installed it, or the one it was extradited
 * to. An SD manages only what it owns; Global Delete lets an SD delete
 * content of others, Global Lock lock it (gp_keys.c), Global Registry see it
 * in GET STATUS. The ISD holds all three.
 *
 * SSD lifecycle (9F70):
 *
 *   INSTALL [for install] (P1 04) ─▶ INSTALLED 03 ─INSTALL [make selectable]─┐
 *   INSTALL [for install and make selectable] (P1 0C) ───────────────────────┤
 *                                                                            ▼
 *        SET STATUS (by itself) PERSONALIZED 0F ◀────────────────── SELECTABLE 07
 *        SET STATUS P1 40 lock (owner or Global Lock): b8 set, unlock clears it
 *        DELETE (owner or Global Delete) once nothing is associated with it
 *
 * A new SSD is created from the card's built-in security domain package
 * (ELF A0000001515350, module A000000151535041, as on GlobalPlatform cards)
 * and starts with a copy of the key set that opened its creator's secure
 * channel: its owner opens a channel with those keys and replaces them with
 * PUT KEY (key handover), after which its creator can no longer open it.
 */
#include <string.h>

#include "card_int.h"
#include "gp_domains.h"
#include "package_store.h"
#include "seam/util.h"
#include "sw.h"

const uint8_t domain_package_aid[7] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
const uint8_t domain_module_aid[8] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

static bool same_aid(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && !memcmp(a, b, a_len);
}

bool domain_is_isd(const uint8_t *aid, size_t len) {
    return same_aid(aid, len, seam_card_isd_aid, sizeof seam_card_isd_aid);
}

seam_err domain_authority(seam_card *c, const channel *ch, registry_sd *self, uint16_t *sw) {
    seam_err e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, self);
    *sw = SEAM_SW_SECURITY_STATUS;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK; /* not a security domain */
    } else if (!e && !domain_is_isd(self->aid, self->aid_len) &&
               (self->lifecycle & SD_LOCKED_BIT)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else if (!e && (self->privileges[1] & PRIV2_AUTHORIZED_MANAGEMENT)) {
        *sw = SEAM_SW_SUCCESS;
    } else if (!e) {
        seam_log(SEAM_LOG_DEBUG, "card: SD without Authorized Management refused (6982)");
    }
    return e;
}

bool domain_owns(const registry_sd *self, const uint8_t *owner, size_t owner_len,
                 uint8_t global_privilege) {
    return same_aid(self->aid, self->aid_len, owner, owner_len) ||
           (global_privilege && (self->privileges[1] & global_privilege));
}

/* The privileges an SSD may be given: Security Domain set; not Card Reset or Final
   Application (the ISD's alone); AM excludes DM (gp_facts §1.8). 1 byte: + Trusted Path. */
static bool ssd_privileges(const uint8_t *priv, size_t len, uint8_t out[3]) {
    memset(out, 0, 3);
    memcpy(out, priv, len);
    if (len == 1)
        out[1] = PRIV2_TRUSTED_PATH; /* Table 6-2 default for an SSD */
    bool am = (out[1] & PRIV2_AUTHORIZED_MANAGEMENT) != 0;
    bool dm = (out[0] & (PRIV1_SECURITY_DOMAIN | PRIV1_DELEGATED_MANAGEMENT)) ==
              (PRIV1_SECURITY_DOMAIN | PRIV1_DELEGATED_MANAGEMENT);
    return (out[0] & PRIV1_SECURITY_DOMAIN) && !(out[0] & PRIV1_CARD_RESET) &&
           !(out[1] & PRIV2_FINAL_APPLICATION) && !(am && dm);
}

seam_err domain_install(seam_card *c, const channel *ch, const registry_sd *self,
                        const uint8_t *aid, size_t aid_len, const uint8_t *priv, size_t priv_len,
                        bool selectable, uint16_t *sw) {
    registry_sd sd = {0};
    scp03_keyset sets[REGISTRY_KEYSETS_MAX];
    size_t count = 0;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if (!ssd_privileges(priv, priv_len, sd.privileges))
        goto done;
    e = registry_keysets_get(c->nvm, self->aid, self->aid_len, sets, REGISTRY_KEYSETS_MAX, &count);
    for (size_t i = 0; !e && i < count; i++) {
        if (sets[i].kvn != ch->session.kvn)
            continue;
        memcpy(sd.aid, aid, aid_len);
        sd.aid_len = (uint8_t)aid_len;
        sd.lifecycle = selectable ? SD_SELECTABLE : SD_INSTALLED;
        sd.scp_i = self->scp_i;
        memcpy(sd.parent, self->aid, self->aid_len);
        sd.parent_len = self->aid_len;
        e = seam_crypto_random(sd.diversification, sizeof sd.diversification);
        if (!e)
            e = registry_sd_put(c->nvm, &sd);
        if (!e)
            e = registry_keyset_put(c->nvm, sd.aid, sd.aid_len, &sets[i]);
        if (!e)
            *sw = SEAM_SW_SUCCESS;
        break;
    }
done:
    seam_secure_zero(sets, sizeof sets);
    return e;
}

seam_err domain_owns_anything(seam_card *c, const uint8_t *aid, size_t aid_len, bool *any) {
    seam_nvm_cursor cur;
    uint8_t key[REGISTRY_AID_MAX];
    size_t key_len = 0, value_len = 0;
    registry_sd sd;
    store_package p;
    store_instance inst;
    seam_err e = seam_nvm_cursor_init(&cur, REGISTRY_SD, NULL, 0);
    *any = false;
    while (!e && !*any) {
        e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = registry_sd_get(c->nvm, key, key_len, &sd);
        if (!e)
            *any = same_aid(sd.parent, sd.parent_len, aid, aid_len);
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = seam_nvm_cursor_init(&cur, STORE_PACKAGE, NULL, 0);
    while (!e && !*any) {
        e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = store_package_get(c->nvm, key, key_len, &p);
        if (!e)
            *any = same_aid(p.sd, p.sd_len, aid, aid_len);
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = seam_nvm_cursor_init(&cur, STORE_INSTANCE, NULL, 0);
    while (!e && !*any) {
        e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = store_instance_get(c->nvm, key, key_len, &inst);
        if (!e)
            *any = same_aid(inst.sd, inst.sd_len, aid, aid_len);
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

seam_err domain_delete(seam_card *c, const registry_sd *self, const registry_sd *target,
                       uint16_t *sw) {
    bool any = false;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_CONDITIONS_NOT_MET;
    if (domain_is_isd(target->aid, target->aid_len))
        goto done; /* the ISD stays */
    if (!domain_owns(self, target->parent, target->parent_len, PRIV2_GLOBAL_DELETE)) {
        *sw = SEAM_SW_SECURITY_STATUS;
        goto done;
    }
    e = domain_owns_anything(c, target->aid, target->aid_len, &any);
    if (e || any)
        goto done; /* 6985: content is still associated with it */
    for (uint8_t i = 0; i < CHANNELS; i++)
        if (c->channels[i].open && same_aid(c->channels[i].selected, c->channels[i].selected_len,
                                            target->aid, target->aid_len))
            goto done; /* 6985: selected on a channel */
    e = registry_sd_delete(c->nvm, target->aid, target->aid_len);
    if (!e)
        *sw = SEAM_SW_SUCCESS;
done:
    return e;
}

seam_err domain_make_selectable(seam_card *c, const registry_sd *self, registry_sd *target,
                                uint16_t *sw) {
    seam_err e = SEAM_OK;
    if (!domain_owns(self, target->parent, target->parent_len, 0)) {
        *sw = SEAM_SW_SECURITY_STATUS;
    } else if (target->lifecycle != SD_INSTALLED) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else {
        target->lifecycle = SD_SELECTABLE;
        e = registry_sd_put(c->nvm, target);
        *sw = e ? SEAM_SW_UNKNOWN : SEAM_SW_SUCCESS;
    }
    return e;
}
