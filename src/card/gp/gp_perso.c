/*
 * GP personalization: STORE DATA (gp_facts.md §1.9), after or without an
 * INSTALL [for personalization] (gp_content.c, which calls perso_begin).
 *
 *   INSTALL [for personalization] (instance X)
 *        │
 *        ▼
 *   STORE DATA P2 00 ─▶ P2 01 ─▶ ... ─▶ P2 nn, P1 b8 = last block
 *   each block: X restored from its committed pages, its personalize entry
 *   (process when it has none) run with 80 E2 P1 P2 [Lc data] [Le]; when
 *   its SW reports success, its dirty pages and a copy of the block in X's
 *   restore-module record (P3, P4) are written in this command's
 *   transaction; its SW answered.
 *
 * Without a target the blocks go to the selected SD itself: IIN (tag 42)
 * and CIN (tag 45) into the card record, by the ISD only (they are the
 * card's; an SSD gets 6982), as BER-TLV (P1 b5b4 = 10, or 00)
 * or wrapped in DGI 0070 (P1 b5b4 = 01); DGIs 7F70 and 7F71 file
 * personalization blocks and application data in the restore module
 * (restore_apdu.c, P5 c); any other tag or DGI is 6A88.
 *
 * A sequence (and its target) ends with the last block, with any refusal
 * (the next block must be 00 again, to the SD), with a new secure channel
 * session, and with another INSTALL [for personalization]. It is memory
 * only: a reset or power cut ends it too.
 */
#include <string.h>

#include "card/card_int.h"
#include "gp.h"
#include "card/content/applet_channel.h"
#include "card/content/card_cache.h"
#include "card/content/domains.h"
#include "gp_perso.h"
#include "card/content/instance.h"
#include "card/restore/restore_apdu.h"
#include "card/store/package_store.h"
#include "card/store/registry.h"
#include "card/iso/sw.h"

#define P1_LAST       0x80u
#define P1_ENCRYPTION 0x60u /* b7b6: 00 none, 20 application-dependent, 60 encrypted */
#define P1_FORMAT     0x18u /* b5b4: 00 none, 08 DGI, 10 BER-TLV */
#define P1_RFU        0x06u
#define P1_CASE4      0x01u

void channel_session_name(const channel *ch, uint8_t out[32]) {
    memcpy(out, ch->session.keys.host_challenge, 16);
    memcpy(out + 16, ch->session.keys.card_challenge, 16);
}

/* Ends the sequence: the next block is 00 and goes to the SD. */
static void perso_end(channel *ch) {
    memset(ch->perso.target, 0, sizeof ch->perso.target);
    ch->perso.target_len = 0;
    ch->perso.next_block = 0;
}

void perso_begin(channel *ch, const uint8_t *aid, size_t len) {
    perso_end(ch);
    memcpy(ch->perso.target, aid, len);
    ch->perso.target_len = (uint8_t)len;
    channel_session_name(ch, ch->perso.session);
}

/* The command the applet sees: 80 E2 P1 P2 [data], with Le 00 (Ne 256, or 65536 when
   the data needs the extended form) when P1 says case 4; the data stays a's. */
static seam_apdu applet_block(const seam_apdu *a) {
    bool extended = a->nc > SEAM_APDU_MAX_SHORT_NC;
    size_t ne = (a->p1 & P1_CASE4) ? (extended ? SEAM_APDU_MAX_NE : SEAM_APDU_MAX_SHORT_NE) : 0;
    seam_apdu block = {.cla = 0x80,
                       .ins = 0xE2,
                       .p1 = a->p1,
                       .p2 = a->p2,
                       .apdu_case = (uint8_t)(a->nc ? (ne ? 4 : 3) : (ne ? 2 : 1)),
                       .extended = extended,
                       .data = a->nc ? a->data : NULL,
                       .nc = a->nc,
                       .ne = ne};
    return block;
}

/*
 * Delivers the block to the personalization target's personalize entry point
 * (process when it has none); when the applet accepts it, files the block in
 * the instance's restore record (P3, P4), unless the applet declared it a
 * command (seam_personalize_command), and commits the pages it wrote: the same
 * transaction. A target selected on another logical channel gets the block in
 * its live state there (the instance has one state: a copy loaded from its
 * pages would be overwritten by the live one's next commit), and only through
 * personalize: 6985 when it has none (process runs the commands of its own
 * channel). A refusal puts the live state back.
 */
static seam_err to_applet(seam_card *c, channel *ch, const seam_apdu *a, reply *r) {
    instance_loaded li = {0};
    store_instance rec;
    seam_applet_result res = {0};
    seam_apdu block = applet_block(a);
    channel *live = content_channel_of(c, ch->perso.target, ch->perso.target_len);
    int32_t filed = 0;
    seam_err e = SEAM_OK;
    if (live && !seam_applet_has_personalize(live->applet)) {
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        goto out;
    }
    if (live)
        e = store_instance_get(c->nvm, ch->perso.target, ch->perso.target_len, &rec);
    else
        e = instance_load(c, ch->perso.target, ch->perso.target_len, &li);
    if (!e && !live)
        rec = li.record;
    if (e == SEAM_ERR_NOT_FOUND || (!e && (rec.sd_len != ch->selected_len ||
                                           memcmp(rec.sd, ch->selected, ch->selected_len)))) {
        /* deleted since INSTALL [for personalization], or another SD's now (extradited,
           or deleted and installed again by another SD): not this sequence's target */
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        goto out;
    }
    if (instance_refused(&e, &r->sw))
        goto out; /* its package is unusable: 6A80, the channel stays open */
    if (e)
        goto out;
    e = seam_applet_personalize(live ? live->applet : li.applet, &block, &res);
    if (!e && res.storage)
        e = res.storage;
    if (e)
        goto out;
    r->sw = res.rollback ? SEAM_SW_UNKNOWN : res.sw;
    if (sw_success(r->sw) && a->nc > RESTORE_BLOCK_MAX)
        r->sw = SEAM_SW_WRONG_LENGTH; /* a block the record cannot keep: refused whole */
    else if (sw_success(r->sw) && !res.perso_command) /* a command: not filed */
        e = restore_perso_append(c->nvm, live ? &live->restore.id : &li.restore.id, a->p1, a->data,
                                 a->nc, &filed);
    if (!e && filed != 0)
        r->sw = SEAM_SW_NOT_ENOUGH_MEMORY; /* the record's quota: nothing is kept */
    if (!e && sw_success(r->sw))
        e = live ? instance_commit_applet(c, live->selected, live->selected_len, live->applet,
                                          &live->pages)
                 : instance_commit(c, &li);
    else if (!e && live)
        e = content_undo(c, live); /* nothing of the block stays in the live state */
    r->len = 0;
    if (!e && sw_success(r->sw) && res.data_len) {
        r->len = res.data_len < sizeof c->data - 2 ? res.data_len : sizeof c->data - 2;
        memcpy(c->data, res.data, r->len);
    }
out:
    instance_unload(&li);
    return e;
}

/* Reads a BER length at d[*pos..n): 1 to 3 bytes. */
static bool take_len(const uint8_t *d, size_t n, size_t *pos, size_t *len) {
    size_t p = *pos, l;
    bool ok = false;
    if (p < n) {
        l = d[p++];
        if (l == 0x81 && p < n) {
            l = d[p++];
        } else if (l == 0x82 && n - p >= 2) {
            l = (size_t)d[p] << 8 | d[p + 1];
            p += 2;
        } else if (l >= 0x80) {
            goto out;
        }
        ok = n - p >= l;
        *pos = p;
        *len = l;
    }
out:
    return ok;
}

/* Applies BER-TLVs 42 (IIN) and 45 (CIN) to card; sets *sw on a refusal (6982 when the
   SD is not the ISD: they are the card's). */
static void apply_tlvs(registry_card *card, bool isd, const uint8_t *d, size_t n, uint16_t *sw) {
    size_t pos = 0;
    if (n == 0)
        *sw = SEAM_SW_WRONG_DATA;
    while (pos < n && *sw == SEAM_SW_SUCCESS) {
        uint32_t tag = d[pos++];
        size_t len = 0;
        if ((tag & 0x1F) == 0x1F && pos < n)
            tag = tag << 8 | d[pos++];
        if (!take_len(d, n, &pos, &len)) {
            *sw = SEAM_SW_WRONG_DATA;
        } else if (tag != 0x42 && tag != 0x45) {
            *sw = SEAM_SW_DATA_NOT_FOUND;
        } else if (len == 0 || len > REGISTRY_ID_MAX) {
            *sw = SEAM_SW_WRONG_DATA;
        } else if (!isd) {
            *sw = SEAM_SW_SECURITY_STATUS;
        } else if (tag == 0x42) {
            memcpy(card->iin, d + pos, len);
            card->iin_len = (uint8_t)len;
        } else {
            memcpy(card->cin, d + pos, len);
            card->cin_len = (uint8_t)len;
        }
        pos += len;
    }
}

/* Applies DGIs (tag 2 bytes, length 1 byte or FF + 2 bytes): 0070 to card, 7F70
   and 7F71 to the restore module (restore_apdu.c). */
static seam_err apply_dgis(seam_card *c, const channel *ch, registry_card *card, bool isd,
                           const uint8_t *d, size_t n, uint16_t *sw) {
    size_t pos = 0;
    seam_err e = SEAM_OK;
    if (n == 0)
        *sw = SEAM_SW_WRONG_DATA;
    while (!e && pos < n && *sw == SEAM_SW_SUCCESS) {
        size_t len = 0;
        uint16_t dgi = 0;
        if (n - pos < 3) {
            *sw = SEAM_SW_WRONG_DATA;
            break;
        }
        dgi = (uint16_t)(d[pos] << 8 | d[pos + 1]);
        len = d[pos + 2];
        pos += 3;
        if (len == 0xFF && n - pos >= 2) {
            len = (size_t)d[pos] << 8 | d[pos + 1];
            pos += 2;
        } else if (len == 0xFF) {
            len = SIZE_MAX; /* a truncated 3-byte length */
        }
        if (len > n - pos)
            *sw = SEAM_SW_WRONG_DATA;
        else if (dgi == RESTORE_DGI_PERSO || dgi == RESTORE_DGI_ENTRIES)
            e = restore_store_data_dgi(c, ch, dgi, d + pos, len, sw);
        else if (dgi != 0x0070)
            *sw = SEAM_SW_DATA_NOT_FOUND;
        else
            apply_tlvs(card, isd, d + pos, len, sw);
        pos += len;
    }
    return e;
}

/* Delivers the block to the selected SD: IIN and CIN into the card record (the ISD only). */
static seam_err to_sd(seam_card *c, const channel *ch, const seam_apdu *a, reply *r) {
    registry_card card;
    bool isd = domain_is_isd(ch->selected, ch->selected_len);
    uint16_t sw = SEAM_SW_SUCCESS;
    seam_err e = SEAM_OK;
    if ((a->p1 & P1_ENCRYPTION) == 0x60) {
        r->sw = SEAM_SW_WRONG_P1P2; /* the SD's objects are not secret: no decryption */
        goto out;
    }
    e = registry_card_get(c->nvm, &card);
    if (e)
        goto out;
    if ((a->p1 & P1_FORMAT) == 0x08)
        e = apply_dgis(c, ch, &card, isd, a->data, a->nc, &sw);
    else
        apply_tlvs(&card, isd, a->data, a->nc, &sw);
    r->sw = sw;
    if (!e && sw == SEAM_SW_SUCCESS)
        e = card_record_put(c, &card);
out:
    return e;
}

seam_err gp_store_data(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    uint8_t name[32];
    seam_err e = SEAM_OK;
    r->len = 0;
    channel_session_name(ch, name);
    if (memcmp(name, ch->perso.session, sizeof name)) { /* a new session: a new sequence */
        perso_end(ch);
        memcpy(ch->perso.session, name, sizeof name);
    }
    if ((a->p1 & P1_RFU) || (a->p1 & P1_FORMAT) == P1_FORMAT || (a->p1 & P1_ENCRYPTION) == 0x40 ||
        a->p2 != ch->perso.next_block)
        r->sw = SEAM_SW_WRONG_P1P2;
    else if (ch->perso.target_len)
        e = to_applet(c, ch, a, r);
    else
        e = to_sd(c, ch, a, r);
    if (e || !sw_success(r->sw) || (a->p1 & P1_LAST))
        perso_end(ch);
    else
        ch->perso.next_block++;
    return e;
}
