/*
 * Security domains as owners of card content (GP 2.3.1 chapters 7 and 9;
 * gp_facts.md §1.7-1.8): who may manage what, and the supplementary security
 * domains (SSDs) themselves.
 *
 * Authority. Card content management (INSTALL, LOAD, DELETE) is carried out
 * by the security domain selected on the channel, through its own open
 * SCP03 session (the handlers check that first: 6982). The SD must be
 * SELECTABLE or PERSONALIZED (not LOCKED) and hold Authorized Management
 * (AM) or Delegated Management (DM); with neither: 6982.
 *
 * Delegated Management (GP 2.3.1 §9; domain_authority_token). An SD with DM
 * (privilege byte 1 bits 80|20, never with AM) may INSTALL, LOAD and DELETE
 * only with a token from the card issuer, verified by the SD with Token
 * Verification, the ISD, with its token key: an ECC P-256 public key under
 * KVN 70 (PUT KEY, gp_keys.c; registry table 14). The token is an ECDSA
 * P-256 signature r || s (64 bytes) over
 *
 *     SHA-256( P1 || P2 || Lc' || data without the token field )
 *
 * (Lc' one byte: that data's length; P1 of a GP chain without its b8, as
 * reassembled; GlobalPlatformPro's DMTokenizer with ECDSA / SHA-256 in place
 * of RSA / SHA-1). INSTALL: the token is the last LV of the data (load,
 * install, make selectable, extradition, registry update token); INSTALL [for
 * personalization] has none and needs none. DELETE: the value of tag 9E, the
 * last TLV, after 4F (and B6). No token, a token that does not verify,
 * or no token key on the card: 6982, nothing changes. A load token (INSTALL
 * [for load], and P1 0E P2 01, the combined sequence's first command) makes the
 * load file hash mandatory (6A80 without one), so the LOAD blocks that follow
 * (accepted as usual) are bound to the token; the combined sequence's final
 * command (0E 03, the for-install layout) carries an install token of its own,
 * which signs its P1 P2 as sent, so no other INSTALL's token stands in for it. An SD with AM needs
 * no token and ignores one. MANAGE ELF UPGRADE (upgrade.c) calls domain_authority, which has no
 * token to check: DM SDs stay refused there (6982). Receipts (Receipt Generation) are not produced.
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
 *        DELETE (owner or Global Delete) once nothing is associated with it:
 *        its key sets and its restore-module records go with it (P10)
 *
 * A new SSD is created from the card's built-in security domain package
 * (ELF A0000001515350, module A000000151535041, as on GlobalPlatform cards)
 * and starts with a copy of the key set that opened its creator's secure
 * channel: its owner opens a channel with those keys and replaces them with
 * PUT KEY (key handover), after which its creator can no longer open it.
 */
#include <string.h>

#include "card/card_int.h"
#include "domains.h"
#include "card/store/package_store.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "card/iso/sw.h"

const uint8_t domain_package_aid[7] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
const uint8_t domain_module_aid[8] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

static bool same_aid(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    return a_len == b_len && !memcmp(a, b, a_len);
}

bool domain_is_isd(const uint8_t *aid, size_t len) {
    return same_aid(aid, len, seam_card_isd_aid, sizeof seam_card_isd_aid);
}

/* Reads the SD selected on ch into *self: *sw 9000 with Authorized Management, 6985 when
   locked, else 6982; *dm when it is a usable SD with Delegated Management and no AM. */
static seam_err authority(seam_card *c, const channel *ch, registry_sd *self, bool *dm,
                          uint16_t *sw) {
    seam_err e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, self);
    *sw = SEAM_SW_SECURITY_STATUS;
    *dm = false;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK; /* not a security domain */
    } else if (!e && !domain_is_isd(self->aid, self->aid_len) &&
               (self->lifecycle & SD_LOCKED_BIT)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
    } else if (!e && (self->privileges[1] & PRIV2_AUTHORIZED_MANAGEMENT)) {
        *sw = SEAM_SW_SUCCESS;
    } else if (!e) {
        *dm = (self->privileges[0] & (PRIV1_SECURITY_DOMAIN | PRIV1_DELEGATED_MANAGEMENT)) ==
              (PRIV1_SECURITY_DOMAIN | PRIV1_DELEGATED_MANAGEMENT);
    }
    return e;
}

seam_err domain_authority(seam_card *c, const channel *ch, registry_sd *self, uint16_t *sw) {
    bool dm = false;
    seam_err e = authority(c, ch, self, &dm, sw);
    if (!e && *sw == SEAM_SW_SECURITY_STATUS)
        seam_log(SEAM_LOG_DEBUG, dm ? "card: SD with Delegated Management refused (6982)"
                                    : "card: SD without Authorized Management refused (6982)");
    return e;
}

/* Reads a BER length (1..3 bytes) at d[*pos..n) and checks that its value fits. */
static bool read_length(const uint8_t *d, size_t n, size_t *pos, size_t *len) {
    size_t p = *pos, l = 0;
    bool ok = p < n;
    if (ok) {
        l = d[p++];
        if (l == 0x81 || l == 0x82) {
            size_t bytes = l & 0x7F;
            ok = n - p >= bytes;
            if (ok)
                l = bytes == 1 ? d[p] : (size_t)d[p] << 8 | d[p + 1];
            p += ok ? bytes : 0;
        } else {
            ok = l < 0x80;
        }
    }
    ok = ok && n - p >= l;
    if (ok) {
        *pos = p;
        *len = l;
    }
    return ok;
}

/* Where a command's token is and what it signs (gp_facts §1.4-1.5). */
typedef struct {
    size_t signed_len; /* the data without the token field: data[0..signed_len) */
    const uint8_t *token;
    size_t token_len; /* 0: no token */
    size_t third_len; /* INSTALL: the length of the third LV (the hash of [for load]) */
} token_field;

/* INSTALL: the token is the last LV of the data. False when the data is not a series of LVs. */
static bool install_token(const seam_apdu *a, token_field *t) {
    size_t pos = 0, start = 0, len = 0, count = 0;
    bool ok = a->nc > 0;
    while (ok && pos < a->nc) {
        start = pos;
        ok = read_length(a->data, a->nc, &pos, &len);
        if (ok && ++count == 3)
            t->third_len = len;
        if (ok) {
            t->token = a->data + pos;
            t->token_len = len;
            pos += len;
        }
    }
    t->signed_len = start;
    return ok;
}

/* DELETE: the token is the value of a 9E TLV, the last one after 4F (and B6). False when
   the data is not a series of TLVs or something follows 9E. */
static bool delete_token(const seam_apdu *a, token_field *t) {
    size_t pos = 0, start = 0, len = 0;
    bool ok = true;
    t->signed_len = a->nc;
    while (ok && pos < a->nc && !t->token) {
        start = pos++;
        ok = read_length(a->data, a->nc, &pos, &len);
        if (ok && a->data[start] == 0x9E) {
            t->token = a->data + pos;
            t->token_len = len;
            t->signed_len = start;
            ok = pos + len == a->nc;
        }
        pos += len;
    }
    return ok;
}

/*
 * Verifies the Delegated Management token of INSTALL or DELETE a: an ECDSA P-256
 * signature (r || s) over SHA-256(P1 || P2 || Lc' || data without the token field), with
 * the ISD's token key (KVN 70). *sw 9000, 6982 (no token, wrong length, no key, bad
 * signature) or 6A80 (malformed data, a load token without a load file hash).
 */
static seam_err verify_token(seam_card *c, const seam_apdu *a, uint16_t *sw) {
    uint8_t msg[3 + 255];
    uint8_t digest[SEAM_CRYPTO_SHA256_SIZE];
    uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    token_field t = {0};
    registry_sd isd;
    bool ok = a->ins == 0xE4 ? delete_token(a, &t) : install_token(a, &t);
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if (!ok || t.signed_len > 255 ||
        (a->ins == 0xE6 && (a->p1 == 0x02 || (a->p1 == 0x0E && a->p2 == 0x01)) && t.token_len &&
         !t.third_len))
        goto done; /* a load token makes the load file hash mandatory (gp_facts §1.5) */
    *sw = SEAM_SW_SECURITY_STATUS;
    if (t.token_len != SEAM_CRYPTO_P256_SIGNATURE_SIZE)
        goto done;
    e = registry_sd_get(c->nvm, seam_card_isd_aid, sizeof seam_card_isd_aid, &isd);
    if (e || !(isd.privileges[1] & PRIV2_TOKEN_VERIFICATION))
        goto done;
    e = registry_token_key_get(c->nvm, isd.aid, isd.aid_len, REGISTRY_TOKEN_KVN, pub);
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK; /* no token key on the card: no token verifies */
        goto done;
    }
    msg[0] = a->p1;
    msg[1] = a->p2;
    msg[2] = (uint8_t)t.signed_len;
    if (t.signed_len)
        memcpy(msg + 3, a->data, t.signed_len);
    if (!e)
        e = seam_crypto_sha256(msg, 3 + t.signed_len, digest);
    if (!e && seam_crypto_p256_verify(pub, sizeof pub, digest, t.token, t.token_len) == SEAM_OK)
        *sw = SEAM_SW_SUCCESS;
done:
    if (*sw != SEAM_SW_SUCCESS)
        seam_log(SEAM_LOG_DEBUG, "card: Delegated Management token refused");
    return e;
}

seam_err domain_authority_token(seam_card *c, const channel *ch, const seam_apdu *a,
                                registry_sd *self, uint16_t *sw) {
    bool dm = false;
    seam_err e = authority(c, ch, self, &dm, sw);
    if (!e && dm && a->ins == 0xE6 && a->p1 == 0x20)
        *sw = SEAM_SW_SUCCESS; /* INSTALL [for personalization] carries no token */
    else if (!e && dm)
        e = verify_token(c, a, sw);
    else if (!e && *sw == SEAM_SW_SECURITY_STATUS)
        seam_log(SEAM_LOG_DEBUG, "card: SD without Authorized Management refused (6982)");
    return e;
}

seam_err domain_content_manager(seam_card *c, const channel *ch, registry_sd *self, uint16_t *sw) {
    bool dm = false;
    seam_err e = authority(c, ch, self, &dm, sw);
    if (!e && dm)
        *sw = SEAM_SW_SUCCESS; /* personalization of its own content needs no token */
    else if (!e && *sw == SEAM_SW_SECURITY_STATUS)
        seam_log(SEAM_LOG_DEBUG, "card: SD without content management refused (6982)");
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
        if (!e) /* records an older image kept after deleting an SD of this AID */
            e = restore_domain_delete(c->nvm, sd.aid, sd.aid_len);
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

typedef struct {
    const uint8_t *aid;
    size_t aid_len;
    bool any;
} owner_walk;

static seam_err instance_owned(void *ctx, store_instance *inst) {
    owner_walk *w = ctx;
    w->any |= same_aid(inst->sd, inst->sd_len, w->aid, w->aid_len);
    return SEAM_OK;
}

seam_err domain_owns_anything(seam_card *c, const uint8_t *aid, size_t aid_len, bool *any) {
    static const uint8_t spaces[2] = {SPACE_USEFUL, SPACE_TEMPORARY};
    seam_nvm_cursor cur;
    uint8_t key[REGISTRY_AID_MAX];
    size_t key_len = 0, value_len = 0;
    registry_sd sd;
    store_package p;
    owner_walk w = {aid, aid_len, false};
    seam_err e = seam_nvm_cursor_init(&cur, REGISTRY_SD, NULL, 0);
    while (!e && !w.any) {
        e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = registry_sd_get(c->nvm, key, key_len, &sd);
        if (!e)
            w.any = same_aid(sd.parent, sd.parent_len, aid, aid_len);
    }
    for (size_t i = 0; i < 2 && e == SEAM_ERR_NOT_FOUND && !w.any; i++) {
        uint16_t table = spaces[i] == SPACE_USEFUL ? STORE_PACKAGE : STORE_PACKAGE_TEMPORARY;
        e = seam_nvm_cursor_init(&cur, table, NULL, 0);
        while (!e && !w.any) {
            e = seam_nvm_cursor_next(c->nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
            if (!e)
                e = store_package_get_in(c->nvm, spaces[i], key, key_len, &p);
            if (!e)
                w.any = same_aid(p.sd, p.sd_len, aid, aid_len);
        }
    }
    if (e == SEAM_ERR_NOT_FOUND && !w.any)
        e = store_instances_each(c->nvm, instance_owned, &w);
    *any = w.any;
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
    /* its records go with it: a later SD under the same AID is another owner (P10) */
    e = restore_domain_delete(c->nvm, target->aid, target->aid_len);
    if (!e)
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
