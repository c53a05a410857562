/*
 * GP key and lifecycle management of a security domain (gp_facts §1.6,
 * §1.7, §1.9): PUT KEY, SET STATUS, GET STATUS. Each handler runs inside
 * its command's nvm transaction (transmit.c), so a refusal changes nothing;
 * each needs an AUTHENTICATED secure channel (gp_facts §1.1), which the
 * command table checks before it runs (dispatch.c), else 6982.
 *
 * PUT KEY: AES key sets for SCP03 only (type 88, P2 = 81: ENC, MAC, DEK as
 * key ids 1..3), each key encrypted under the session's static Key-DEK with
 * AES-CBC and a zero ICV, each with its 3-byte KCV over 16 x 01. A GP chain
 * (P1.b8) is reassembled by dispatch.c, so the handler sees one command. The SD's sequence counter
 * is kept, not reset to 0 (AmdD 6.2.2.1): it is one counter for every key set of the SD, and a
 * reset would repeat the pseudo-random card challenges of the others. KVN 70 is the ISD's Delegated
 * Management token verification key, an ECC P-256 public key (put_token_key).
 *
 * GET STATUS: P1 80 the ISD, 40 SSDs then applet instances (4F, 9F70, C5,
 * and for instances C4 ELF and CC SD), 20 ELFs (4F, 9F70 01, CE version),
 * 10 ELFs with their modules (84 per applet class). A response holds whole
 * entries up to Le (or 255) bytes less 24 for secure messaging; when more
 * remain it ends with 6310 and P2.b1 = 1 (P2 03) fetches the next part. The
 * continuation counts entries, so a listing changed in between may skip or
 * repeat one. A 5C tag list is accepted and ignored. ELFs only in the TLV
 * format (P2 02/03); P1 20/10 with P2 00 -> 6A86.
 */
#include <string.h>

#include "card/card_int.h"
#include "gp.h"
#include "card/content/card_cache.h"
#include "card/content/domains.h"
#include "card/store/package_store.h"
#include "seam/util.h"
#include "card/iso/sw.h"

#define KEY_TYPE_AES 0x88u
#define KCV_LEN      SEAM_CRYPTO_KCV_SIZE
#define KEYS_PER_SET 3u

/* ---- PUT KEY --------------------------------------------------------------------- */

/*
 * Reads one basic key block at d[*pos..n): 88 len component-block 03 KCV,
 * the component block being clear-length || encrypted value, or just the
 * encrypted value when len is a multiple of 16 (gp_facts §1.9). Decrypts it
 * under dek into key (*key_len bytes) and checks its KCV. *sw is left at
 * 9000 on success; 6A80 for a malformed block, 6982 for a wrong KCV.
 */
static seam_err read_key_block(const uint8_t *dek, size_t dek_len, const uint8_t *d, size_t n,
                               size_t *pos, uint8_t key[SEAM_CRYPTO_AES_MAX_KEY_SIZE],
                               size_t *key_len, uint16_t *sw) {
    static const uint8_t zero_iv[SEAM_CRYPTO_AES_BLOCK_SIZE] = {0};
    uint8_t plain[SEAM_CRYPTO_AES_MAX_KEY_SIZE];
    uint8_t kcv[KCV_LEN];
    size_t p = *pos, block_len = 0, clear_len = 0, enc_len = 0;
    const uint8_t *enc = NULL;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if (n - p < 2 || d[p] != KEY_TYPE_AES || (d[p + 1] & 0x80))
        goto done;
    block_len = d[p + 1];
    p += 2;
    if (block_len == 0 || n - p < block_len)
        goto done;
    if (block_len % SEAM_CRYPTO_AES_BLOCK_SIZE == 0) {
        clear_len = block_len;
        enc = d + p;
        enc_len = block_len;
    } else {
        clear_len = d[p];
        enc = d + p + 1;
        enc_len = block_len - 1;
    }
    if ((clear_len != 16 && clear_len != 24 && clear_len != 32) ||
        enc_len != (clear_len + 15) / 16 * 16)
        goto done;
    p += block_len;
    if (n - p < 1 + KCV_LEN || d[p] != KCV_LEN)
        goto done;
    e = seam_crypto_aes_cbc_decrypt(dek, dek_len, zero_iv, enc, enc_len, plain);
    if (!e)
        e = seam_crypto_aes_kcv(plain, clear_len, kcv);
    if (e)
        goto done;
    if (!seam_ct_equal(kcv, d + p + 1, KCV_LEN)) {
        *sw = SEAM_SW_SECURITY_STATUS; /* bad KCV (gp_facts §1.9, §1.10) */
        goto done;
    }
    memcpy(key, plain, clear_len);
    *key_len = clear_len;
    *pos = p + 1 + KCV_LEN;
    *sw = SEAM_SW_SUCCESS;
done:
    seam_secure_zero(plain, sizeof plain);
    seam_secure_zero(kcv, sizeof kcv);
    return e;
}

/* Index of the key set with this KVN in sets[0..count), or count if none. */
static size_t find_kvn(const scp03_keyset *sets, size_t count, uint8_t kvn) {
    size_t i = 0;
    while (i < count && sets[i].kvn != kvn)
        i++;
    return i;
}

/* Decodes the three keys of the command data into *set; *sw as read_key_block, or 6A80. */
static seam_err read_keyset(const channel *ch, const seam_apdu *a, scp03_keyset *set,
                            uint16_t *sw) {
    uint8_t *keys[KEYS_PER_SET] = {set->enc, set->mac, set->dek};
    size_t pos = 1, len = 0;
    seam_err e = SEAM_OK;
    set->kvn = a->data[0];
    *sw = SEAM_SW_SUCCESS;
    for (size_t i = 0; i < KEYS_PER_SET && !e && *sw == SEAM_SW_SUCCESS; i++) {
        e = read_key_block(ch->session.dek, ch->session.keys.key_len, a->data, a->nc, &pos, keys[i],
                           &len, sw);
        if (!e && *sw == SEAM_SW_SUCCESS && i > 0 && len != set->key_len)
            *sw = SEAM_SW_WRONG_DATA; /* one key length per SCP03 key set */
        set->key_len = len;
    }
    if (!e && *sw == SEAM_SW_SUCCESS && pos != a->nc)
        *sw = SEAM_SW_WRONG_DATA; /* trailing bytes */
    return e;
}

/* Checks the add / replace rules against the SD's key sets (gp_facts §1.9). */
static uint16_t check_slot(const scp03_keyset *sets, size_t count, uint8_t replace_kvn,
                           const scp03_keyset *fresh) {
    size_t old = find_kvn(sets, count, replace_kvn);
    size_t clash = find_kvn(sets, count, fresh->kvn);
    if (replace_kvn == 0) {
        if (clash < count)
            return SEAM_SW_WRONG_DATA; /* that KVN exists: replace it instead */
        return count >= REGISTRY_KEYSETS_MAX ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_SUCCESS;
    }
    if (old == count)
        return SEAM_SW_DATA_NOT_FOUND;
    if (sets[old].key_len != fresh->key_len)
        return SEAM_SW_WRONG_DATA; /* a replace keeps the key length */
    if (clash < count && clash != old)
        return SEAM_SW_WRONG_DATA;
    return SEAM_SW_SUCCESS;
}

#define KEY_TYPE_ECC_PUBLIC     0xB0u
#define KEY_TYPE_ECC_PARAMETERS 0xF0u

/*
 * PUT KEY of the Delegated Management token verification key, KVN 70 (§1.9):
 * 70 B0 41 <04 || X || Y> 00 F0 01 00 00, an ECC P-256 public key in clear (public
 * keys are not encrypted) with no KCV, then the parameter reference 00 (P-256).
 * Only the ISD (which holds Token Verification) holds one. P1 00 adds it (6A80
 * when there), P1 70 replaces it (6A88 when missing); P2 key id 01 (b8 ignored).
 * *sw 9000 with the response 70, or 6A80 for anything else, a point off the curve too.
 */
static seam_err put_token_key(seam_card *c, const channel *ch, const seam_apdu *a, uint16_t *sw,
                              size_t *len) {
    static const uint8_t params[] = {KEY_TYPE_ECC_PARAMETERS, 0x01, 0x00, 0x00};
    enum { PUB = SEAM_CRYPTO_P256_PUBLIC_SIZE, TOTAL = 1 + 2 + PUB + 1 + sizeof params };
    const uint8_t *d = a->data;
    uint8_t old[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    registry_sd sd;
    bool verifier = false;
    seam_err e = SEAM_OK;
    *sw = SEAM_SW_WRONG_DATA;
    if ((a->p2 & 0x7F) != 0x01) {
        *sw = SEAM_SW_WRONG_P1P2;
        goto done;
    }
    if ((a->p1 != 0x00 && a->p1 != REGISTRY_TOKEN_KVN) || d[0] != REGISTRY_TOKEN_KVN)
        goto done; /* a replace keeps the key type: KVN 70 is the token key's alone */
    if (a->nc != TOTAL || d[1] != KEY_TYPE_ECC_PUBLIC || d[2] != PUB || d[3 + PUB] != 0x00 ||
        memcmp(d + 4 + PUB, params, sizeof params))
        goto done;
    if (seam_crypto_p256_check_public(d + 3, PUB) != SEAM_OK)
        goto done;
    e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &sd);
    if (e == SEAM_ERR_NOT_FOUND)
        e = SEAM_OK; /* 6A80: not a security domain */
    else if (!e && domain_is_isd(sd.aid, sd.aid_len) &&
             (sd.privileges[1] & PRIV2_TOKEN_VERIFICATION))
        verifier = true;
    if (!e && verifier) /* else 6A80: not the token verifier */
        e = registry_token_key_get(c->nvm, sd.aid, sd.aid_len, REGISTRY_TOKEN_KVN, old);
    if (!verifier)
        goto done;
    if (e == SEAM_ERR_NOT_FOUND && a->p1) {
        e = SEAM_OK;
        *sw = SEAM_SW_DATA_NOT_FOUND; /* nothing to replace */
    } else if (e == SEAM_ERR_NOT_FOUND || (!e && a->p1)) {
        e = registry_token_key_put(c->nvm, sd.aid, sd.aid_len, REGISTRY_TOKEN_KVN, d + 3);
        *sw = e ? SEAM_SW_WRONG_DATA : SEAM_SW_SUCCESS;
    } /* else 6A80: an add of the existing KVN 70 (replace it instead) */
    if (*sw == SEAM_SW_SUCCESS) {
        c->data[0] = REGISTRY_TOKEN_KVN; /* response: the KVN, no KCV */
        *len = 1;
    }
done:
    return e;
}

/* PUT KEY: adds or replaces an SCP03 AES key set of the selected SD (§1.9). */
seam_err gp_put_key(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    scp03_keyset sets[REGISTRY_KEYSETS_MAX];
    scp03_keyset fresh = {0};
    registry_sd sd;
    size_t count = 0;
    uint16_t sw = SEAM_SW_SUCCESS;
    seam_err e = SEAM_OK;
    r->len = 0;
    if (a->nc && (a->data[0] == REGISTRY_TOKEN_KVN || a->p1 == REGISTRY_TOKEN_KVN)) {
        e = put_token_key(c, ch, a, &sw, &r->len);
        goto done;
    }
    if ((a->p1 & 0x80) || a->p2 != 0x81)
        sw = SEAM_SW_WRONG_P1P2; /* only the ENC/MAC/DEK set from key id 1 */
    else if (a->nc == 0)
        sw = SEAM_SW_WRONG_LENGTH;
    else if (a->data[0] == 0 || a->data[0] >= 0x80)
        sw = SEAM_SW_WRONG_DATA; /* KVN 01..7F */
    if (sw != SEAM_SW_SUCCESS)
        goto done;
    e = read_keyset(ch, a, &fresh, &sw);
    if (e || sw != SEAM_SW_SUCCESS)
        goto done;
    e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &sd);
    if (!e)
        e = registry_keysets_get(c->nvm, sd.aid, sd.aid_len, sets, REGISTRY_KEYSETS_MAX, &count);
    if (e)
        goto done;
    sw = check_slot(sets, count, a->p1, &fresh);
    if (sw != SEAM_SW_SUCCESS)
        goto done;
    if (a->p1 != 0 && a->p1 != fresh.kvn) {
        /* the replaced set changes its KVN: drop the old record (key: SD AID || KVN) */
        uint8_t key[REGISTRY_AID_MAX + 1];
        memcpy(key, sd.aid, sd.aid_len);
        key[sd.aid_len] = a->p1;
        e = seam_nvm_delete(c->nvm, REGISTRY_KEYSET, key, sd.aid_len + 1u);
    }
    if (!e)
        e = registry_keyset_put(c->nvm, sd.aid, sd.aid_len, &fresh);
    if (e)
        goto done;
    /* response: the new KVN, then each key's KCV */
    c->data[0] = fresh.kvn;
    e = seam_crypto_aes_kcv(fresh.enc, fresh.key_len, c->data + 1);
    if (!e)
        e = seam_crypto_aes_kcv(fresh.mac, fresh.key_len, c->data + 1 + KCV_LEN);
    if (!e)
        e = seam_crypto_aes_kcv(fresh.dek, fresh.key_len, c->data + 1 + 2 * KCV_LEN);
    if (!e)
        r->len = 1 + KEYS_PER_SET * KCV_LEN;
done:
    seam_secure_zero(&fresh, sizeof fresh);
    seam_secure_zero(sets, sizeof sets);
    r->sw = sw;
    return e;
}

/* ---- SET STATUS ------------------------------------------------------------------ */

/* The status word for moving the card from `from` to `to` with the selected SD's privileges. */
static uint16_t card_transition(uint8_t from, uint8_t to, const uint8_t priv[3]) {
    switch (to) {
    case CARD_OP_READY:
    case CARD_INITIALIZED:
    case CARD_SECURED:
    case CARD_LOCKED:
    case CARD_TERMINATED:
        break;
    default:
        return SEAM_SW_WRONG_DATA; /* not a card lifecycle state */
    }
    if (from == to || from == CARD_TERMINATED)
        return SEAM_SW_CONDITIONS_NOT_MET;
    if (to == CARD_TERMINATED)
        return (priv[0] & PRIV1_CARD_TERMINATE) ? SEAM_SW_SUCCESS : SEAM_SW_SECURITY_STATUS;
    if (to == CARD_LOCKED || from == CARD_LOCKED) {
        bool pair = (from == CARD_SECURED && to == CARD_LOCKED) ||
                    (from == CARD_LOCKED && to == CARD_SECURED);
        if (!pair)
            return SEAM_SW_CONDITIONS_NOT_MET;
        return (priv[0] & PRIV1_CARD_LOCK) ? SEAM_SW_SUCCESS : SEAM_SW_SECURITY_STATUS;
    }
    /* OP_READY -> INITIALIZED -> SECURED, forward only (01 < 07 < 0F) */
    return to > from ? SEAM_SW_SUCCESS : SEAM_SW_CONDITIONS_NOT_MET;
}

/* SET STATUS P1 = 80: the card, mirrored in the ISD's record. */
static seam_err set_card_status(seam_card *c, const registry_sd *self, uint8_t to, uint16_t *sw) {
    registry_card card;
    registry_sd isd;
    seam_err e = registry_card_get(c->nvm, &card);
    if (!e)
        e = registry_sd_get(c->nvm, seam_card_isd_aid, sizeof seam_card_isd_aid, &isd);
    if (e)
        goto done;
    *sw = card_transition(card.lifecycle, to, self->privileges);
    if (*sw != SEAM_SW_SUCCESS)
        goto done;
    card.lifecycle = to;
    isd.lifecycle = to;
    e = card_record_put(c, &card);
    if (!e)
        e = registry_sd_put(c->nvm, &isd);
done:
    return e;
}

/* SET STATUS P1 = 40 on an applet instance: lock (P2.b8 = 1) or unlock back to
   the state before the lock (gp_facts §1.7); only b8 of P2 counts. A locked
   instance is not selectable (SELECT answers 6A82, as for an unknown AID).
   One more move: its associated SD may take it from SELECTABLE (07) to 0F, the
   application-specific state (0xxxx111) seam names PERSONALIZED as for an SD,
   forward only: a server marks with it that personalization was applied
   (docs/server.md, "Faults"); the instance stays selectable. */
static seam_err set_app_status(seam_card *c, const registry_sd *self, const seam_apdu *a,
                               uint16_t *sw) {
    store_instance inst;
    bool lock = (a->p2 & SD_LOCKED_BIT) != 0, own = false;
    seam_err e = store_instance_get(c->nvm, a->data, a->nc, &inst);
    if (e == SEAM_ERR_NOT_FOUND) {
        *sw = SEAM_SW_DATA_NOT_FOUND;
        e = SEAM_OK;
        goto done;
    }
    if (e)
        goto done;
    own = inst.sd_len == self->aid_len && !memcmp(inst.sd, self->aid, inst.sd_len);
    if (!own && !(self->privileges[1] & PRIV2_GLOBAL_LOCK)) {
        *sw = SEAM_SW_SECURITY_STATUS;
        goto done;
    }
    if (a->p2 == INSTANCE_PERSONALIZED && inst.lifecycle == INSTANCE_SELECTABLE) {
        if (!own) {
            *sw = SEAM_SW_SECURITY_STATUS; /* only its own SD personalizes it */
            goto done;
        }
        inst.lifecycle = INSTANCE_PERSONALIZED;
    } else if (lock == ((inst.lifecycle & SD_LOCKED_BIT) != 0)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET; /* already in that state */
        goto done;
    } else {
        inst.lifecycle = lock ? (uint8_t)(inst.lifecycle | SD_LOCKED_BIT)
                              : (uint8_t)(inst.lifecycle & ~SD_LOCKED_BIT);
    }
    e = store_instance_put(c->nvm, &inst);
    if (!e)
        *sw = SEAM_SW_SUCCESS;
done:
    return e;
}

/* SET STATUS P1 = 40 on a supplementary SD: lock (P2.b8 = 1) or unlock (gp_facts §1.7). */
static seam_err set_sd_status(seam_card *c, const registry_sd *self, const seam_apdu *a,
                              uint16_t *sw) {
    registry_sd sd;
    bool is_self = false, lock = (a->p2 & SD_LOCKED_BIT) != 0;
    seam_err e = SEAM_OK;
    if (a->nc < 5 || a->nc > REGISTRY_AID_MAX) {
        *sw = SEAM_SW_WRONG_DATA;
        goto done;
    }
    if (a->nc == sizeof seam_card_isd_aid && !memcmp(a->data, seam_card_isd_aid, a->nc)) {
        *sw = SEAM_SW_WRONG_DATA; /* the ISD's state is the card's: P1 = 80 */
        goto done;
    }
    e = registry_sd_get(c->nvm, a->data, a->nc, &sd);
    if (e == SEAM_ERR_NOT_FOUND) { /* not an SD: an applet instance? */
        e = set_app_status(c, self, a, sw);
        goto done;
    }
    if (e)
        goto done;
    is_self = sd.aid_len == self->aid_len && !memcmp(sd.aid, self->aid, sd.aid_len);
    if (is_self && !lock && a->p2 == 0x0F && sd.lifecycle == 0x07) {
        sd.lifecycle = 0x0F; /* an SD may personalize itself */
    } else if (is_self && !lock) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET; /* only PERSONALIZED or LOCKED for itself */
        goto done;
    } else if (!is_self && !(self->privileges[1] & PRIV2_GLOBAL_LOCK)) {
        *sw = SEAM_SW_SECURITY_STATUS;
        goto done;
    } else if (lock == ((sd.lifecycle & SD_LOCKED_BIT) != 0)) {
        *sw = SEAM_SW_CONDITIONS_NOT_MET; /* already in that state */
        goto done;
    } else {
        sd.lifecycle = lock ? (uint8_t)(sd.lifecycle | SD_LOCKED_BIT)
                            : (uint8_t)(sd.lifecycle & ~SD_LOCKED_BIT);
    }
    e = registry_sd_put(c->nvm, &sd);
    if (!e)
        *sw = SEAM_SW_SUCCESS;
done:
    return e;
}

/* SET STATUS: moves the card (P1 80) or locks/unlocks an SSD or applet (P1 40) (§1.7). */
seam_err gp_set_status(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    registry_sd self;
    uint16_t sw = SEAM_SW_UNKNOWN;
    seam_err e = SEAM_OK;
    r->len = 0;
    if (a->p1 != 0x80 && a->p1 != 0x40) {
        sw = SEAM_SW_WRONG_P1P2;
        goto done;
    }
    e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &self);
    if (e)
        goto done;
    if (a->p1 == 0x80)
        e = set_card_status(c, &self, a->p2, &sw);
    else
        e = set_sd_status(c, &self, a, &sw);
done:
    r->sw = sw;
    return e;
}

/* ---- GET STATUS ------------------------------------------------------------------ */

/* One GET STATUS response being built: entries [skip, ...) of the listing go
   to out while they fit in budget (at least one); *more when some are left. */
typedef struct {
    uint8_t *out;
    size_t cap, budget, len;
    size_t skip, seen, sent;
    bool tlv, more;
} listing;

/* Adds one encoded entry; false when the listing is full (stop walking). */
static bool listing_add(listing *l, const uint8_t *entry, size_t n) {
    if (l->seen++ < l->skip)
        return true;
    if ((l->sent > 0 && l->len + n > l->budget) || l->cap - l->len < n) {
        l->more = true;
        return false;
    }
    memcpy(l->out + l->len, entry, n);
    l->len += n;
    l->sent++;
    return true;
}

/* Appends a BER length. */
static void put_len(uint8_t *b, size_t *n, size_t len) {
    if (len > 0xFF) {
        b[(*n)++] = 0x82;
        b[(*n)++] = (uint8_t)(len >> 8);
    } else if (len > 0x7F) {
        b[(*n)++] = 0x81;
    }
    b[(*n)++] = (uint8_t)len;
}

/* Appends TLV tag (1 or 2 bytes) || len || value. */
static void put_tlv(uint8_t *b, size_t *n, uint16_t tag, const uint8_t *v, size_t len) {
    if (tag > 0xFF)
        b[(*n)++] = (uint8_t)(tag >> 8);
    b[(*n)++] = (uint8_t)tag;
    put_len(b, n, len);
    if (len)
        memcpy(b + *n, v, len);
    *n += len;
}

/* Wraps body[0..n) in E3 into out; returns the entry's length. */
static size_t wrap_e3(const uint8_t *body, size_t n, uint8_t *out) {
    size_t m = 0;
    put_tlv(out, &m, 0xE3, body, n);
    return m;
}

/* Adds an app or SD entry: E3 { 4F, 9F70, C5 [, C4 ELF, CC SD] } or the legacy form. */
static bool add_app(listing *l, const uint8_t *aid, size_t aid_len, uint8_t lifecycle,
                    const uint8_t priv[3], const uint8_t *elf, size_t elf_len, const uint8_t *sd,
                    size_t sd_len) {
    uint8_t body[128], entry[140];
    size_t n = 0;
    if (!l->tlv) {
        entry[n++] = (uint8_t)aid_len;
        memcpy(entry + n, aid, aid_len);
        n += aid_len;
        entry[n++] = lifecycle;
        entry[n++] = priv[0]; /* the legacy format has one privileges byte */
        return listing_add(l, entry, n);
    }
    put_tlv(body, &n, 0x4F, aid, aid_len);
    put_tlv(body, &n, 0x9F70, &lifecycle, 1);
    put_tlv(body, &n, 0xC5, priv, 3);
    if (elf_len)
        put_tlv(body, &n, 0xC4, elf, elf_len);
    if (sd_len)
        put_tlv(body, &n, 0xCC, sd, sd_len);
    return listing_add(l, entry, wrap_e3(body, n, entry));
}

/* Checks the search criteria: 4F len AID-prefix, then optionally a 5C tag list. */
static bool parse_criteria(const seam_apdu *a, const uint8_t **prefix, size_t *prefix_len) {
    size_t n = a->nc, rest = 0;
    if (n < 2 || a->data[0] != 0x4F || a->data[1] > REGISTRY_AID_MAX || n - 2 < a->data[1])
        return false;
    *prefix = a->data + 2;
    *prefix_len = a->data[1];
    rest = n - 2 - a->data[1];
    if (rest == 0)
        return true;
    const uint8_t *t = a->data + 2 + a->data[1];
    return rest >= 2 && t[0] == 0x5C && t[1] < 0x80 && (size_t)t[1] == rest - 2;
}

/* True when self sees content associated with owner: its own, or all of it with
   the Global Registry privilege. */
static bool visible(const registry_sd *self, const uint8_t *owner, size_t owner_len) {
    return (self->privileges[1] & PRIV2_GLOBAL_REGISTRY) ||
           (owner_len == self->aid_len && !memcmp(owner, self->aid, owner_len));
}

/* Lists the SSDs (the ISD is P1 = 80's), then the applet instances, matching prefix
   and visible to self. */
static seam_err list_apps(seam_card *c, const registry_sd *self, const uint8_t *prefix,
                          size_t prefix_len, listing *l) {
    seam_nvm_cursor cur;
    uint8_t aid[REGISTRY_AID_MAX];
    size_t aid_len = 0, value_len = 0;
    registry_sd sd;
    store_instance inst;
    bool go = true;
    seam_err e = seam_nvm_cursor_init(&cur, REGISTRY_SD, prefix_len ? prefix : NULL, prefix_len);
    while (!e && go) {
        e = seam_nvm_cursor_next(c->nvm, &cur, aid, sizeof aid, &aid_len, NULL, 0, &value_len);
        if (e || (aid_len == sizeof seam_card_isd_aid && !memcmp(aid, seam_card_isd_aid, aid_len)))
            continue;
        e = registry_sd_get(c->nvm, aid, aid_len, &sd);
        if (!e && visible(self, sd.parent, sd.parent_len))
            go = add_app(l, sd.aid, sd.aid_len, sd.lifecycle, sd.privileges, domain_package_aid,
                         sizeof domain_package_aid, sd.parent, sd.parent_len);
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = seam_nvm_cursor_init(&cur, STORE_INSTANCE, prefix_len ? prefix : NULL, prefix_len);
    while (!e && go) {
        e = seam_nvm_cursor_next(c->nvm, &cur, aid, sizeof aid, &aid_len, NULL, 0, &value_len);
        if (!e)
            e = store_instance_get(c->nvm, aid, aid_len, &inst);
        if (!e && visible(self, inst.sd, inst.sd_len))
            go = add_app(l, inst.aid, inst.aid_len, inst.lifecycle, inst.privileges, inst.package,
                         inst.package_len, inst.sd, inst.sd_len);
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

/* Lists the ELFs (packages) matching prefix and visible to self, those of the useful
   space first: E3 { 4F, 9F70 01, CE version [, 84 modules], CC SD, DF71 space }. */
static seam_err list_elfs(seam_card *c, const registry_sd *self, const uint8_t *prefix,
                          size_t prefix_len, bool modules, listing *l) {
    static const uint8_t loaded = 0x01;
    static const uint8_t spaces[2] = {SPACE_USEFUL, SPACE_TEMPORARY};
    seam_nvm_cursor cur;
    uint8_t aid[REGISTRY_AID_MAX], body[420], entry[430], version[2];
    size_t aid_len = 0, value_len = 0, n = 0;
    store_package p;
    bool go = true;
    seam_err e = SEAM_OK;
    for (size_t s = 0; !e && go && s < 2; s++) {
        uint16_t table = spaces[s] == SPACE_USEFUL ? STORE_PACKAGE : STORE_PACKAGE_TEMPORARY;
        e = seam_nvm_cursor_init(&cur, table, prefix_len ? prefix : NULL, prefix_len);
        while (!e && go) {
            e = seam_nvm_cursor_next(c->nvm, &cur, aid, sizeof aid, &aid_len, NULL, 0, &value_len);
            if (!e)
                e = store_package_get_in(c->nvm, spaces[s], aid, aid_len, &p);
            if (e)
                break;
            if (!visible(self, p.sd, p.sd_len))
                continue;
            n = 0;
            version[0] = (uint8_t)(p.version >> 8);
            version[1] = (uint8_t)p.version;
            put_tlv(body, &n, 0x4F, p.aid, p.aid_len);
            put_tlv(body, &n, 0x9F70, &loaded, 1);
            put_tlv(body, &n, 0xCE, version, 2);
            for (uint8_t i = 0; modules && i < p.applet_count; i++)
                put_tlv(body, &n, 0x84, p.applets[i], p.applet_lens[i]);
            put_tlv(body, &n, 0xCC, p.sd, p.sd_len);
            put_tlv(body, &n, 0xDF71, &p.space, 1);
            go = listing_add(l, entry, wrap_e3(body, n, entry));
        }
        if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
    }
    return e;
}

/* The status word for GET STATUS's P1/P2 on ch, before any listing. */
static uint16_t check_get_status(const channel *ch, const seam_apdu *a) {
    bool p1_ok = a->p1 == 0x80 || a->p1 == 0x40 || a->p1 == 0x20 || a->p1 == 0x10;
    if (!p1_ok || (a->p2 & ~0x03u) || (a->p1 <= 0x20 && !(a->p2 & 0x02)))
        return SEAM_SW_WRONG_P1P2; /* ELFs only in the TLV format */
    if ((a->p2 & 0x01) && (ch->status_next == 0 || ch->status_p1 != a->p1))
        return SEAM_SW_CONDITIONS_NOT_MET; /* "next" without a pending 6310 */
    return SEAM_SW_SUCCESS;
}

/* GET STATUS: the ISD (P1 80), apps and SDs (40), ELFs (20) or ELFs and their
   modules (10) matching a 4F prefix, in parts of at most Le (or 255) bytes
   less room for secure messaging: 6310 says "more", P2.b1 = 1 fetches it (§1.6). */
seam_err gp_get_status(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    const uint8_t *prefix = NULL;
    size_t prefix_len = 0, ne = a->ne && a->ne < 255 ? a->ne : 255;
    listing l = {.out = c->data,
                 .cap = sizeof c->data - SEAM_CRYPTO_AES_BLOCK_SIZE - 8,
                 .budget = ne > 24 ? ne - 24 : 1, /* padding and R-MAC */
                 .tlv = (a->p2 & 0x02) != 0};
    registry_card card;
    registry_sd isd, self;
    uint16_t sw = check_get_status(ch, a);
    seam_err e = SEAM_OK;
    r->len = 0;
    if (sw == SEAM_SW_SUCCESS && !parse_criteria(a, &prefix, &prefix_len))
        sw = SEAM_SW_WRONG_DATA;
    if (sw != SEAM_SW_SUCCESS)
        goto done;
    e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &self);
    if (e)
        goto done;
    if (a->p1 == 0x80 && !(self.privileges[1] & PRIV2_GLOBAL_REGISTRY) &&
        !domain_is_isd(self.aid, self.aid_len)) {
        sw = SEAM_SW_WRONG_P1P2; /* only the ISD or a Global Registry SD answers P1 80 */
        goto done;
    }
    l.skip = (a->p2 & 0x01) ? ch->status_next : 0;
    ch->status_next = 0;
    if (a->p1 == 0x80) { /* the ISD, with the card's lifecycle; criteria ignored */
        e = registry_card_get(c->nvm, &card);
        if (!e)
            e = registry_sd_get(c->nvm, seam_card_isd_aid, sizeof seam_card_isd_aid, &isd);
        if (!e)
            add_app(&l, isd.aid, isd.aid_len, card.lifecycle, isd.privileges, NULL, 0, NULL, 0);
    } else if (a->p1 == 0x40) {
        e = list_apps(c, &self, prefix, prefix_len, &l);
    } else {
        e = list_elfs(c, &self, prefix, prefix_len, a->p1 == 0x10, &l);
    }
    if (e)
        goto done;
    if (l.sent == 0) {
        sw = l.more ? SEAM_SW_NOT_ENOUGH_MEMORY : SEAM_SW_DATA_NOT_FOUND;
        goto done;
    }
    if (l.more) {
        ch->status_p1 = a->p1;
        ch->status_next = (uint16_t)(l.skip + l.sent);
        sw = SEAM_SW_MORE_DATA_AVAILABLE;
    }
    r->len = l.len;
done:
    r->sw = sw;
    return e;
}
