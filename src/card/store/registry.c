/*
 * Registry records: encoding and decoding of the layouts in schema.h.
 * Each function reads or writes whole records; callers own the transaction.
 */
#include <string.h>

#include "registry.h"
#include "seam/card.h"
#include "seam/util.h"

#define FORMAT_1 1u
#define FORMAT_2 2u

static const uint8_t card_key[] = {'c', 'a', 'r', 'd'};

seam_err registry_card_get(seam_nvm *nvm, registry_card *out) {
    uint8_t v[3 + 2 * REGISTRY_ID_MAX + 2];
    size_t len = 0;
    seam_err e = seam_nvm_get(nvm, REGISTRY_CARD, card_key, sizeof card_key, v, sizeof v, &len);
    if (e)
        return e == SEAM_ERR_BUFFER_SMALL ? SEAM_ERR_NVM_CORRUPT : e;
    registry_card c = {0};
    /* format 1: a development card; format 2 adds the profile byte at the end */
    if (len < 4 || (v[0] != FORMAT_1 && v[0] != FORMAT_2))
        return SEAM_ERR_NVM_CORRUPT;
    if (v[0] == FORMAT_2) {
        c.profile = v[--len];
        if (c.profile != SEAM_CARD_PROFILE_PRODUCTION)
            return SEAM_ERR_NVM_CORRUPT;
    }
    c.lifecycle = v[1];
    c.iin_len = v[2];
    if (c.iin_len > REGISTRY_ID_MAX || 3u + c.iin_len + 1 > len)
        return SEAM_ERR_NVM_CORRUPT;
    memcpy(c.iin, v + 3, c.iin_len);
    c.cin_len = v[3 + c.iin_len];
    if (c.cin_len > REGISTRY_ID_MAX || 4u + c.iin_len + c.cin_len != len)
        return SEAM_ERR_NVM_CORRUPT;
    memcpy(c.cin, v + 4 + c.iin_len, c.cin_len);
    *out = c;
    return SEAM_OK;
}

seam_err registry_card_put(seam_nvm *nvm, const registry_card *c) {
    uint8_t v[4 + 2 * REGISTRY_ID_MAX + 1];
    size_t len = 4u + c->iin_len + c->cin_len;
    if (c->iin_len > REGISTRY_ID_MAX || c->cin_len > REGISTRY_ID_MAX ||
        (c->profile != SEAM_CARD_PROFILE_DEVELOPMENT && c->profile != SEAM_CARD_PROFILE_PRODUCTION))
        return SEAM_ERR_ARG;
    v[0] = FORMAT_1; /* a development card's record is as it always was */
    v[1] = c->lifecycle;
    v[2] = c->iin_len;
    memcpy(v + 3, c->iin, c->iin_len);
    v[3 + c->iin_len] = c->cin_len;
    memcpy(v + 4 + c->iin_len, c->cin, c->cin_len);
    if (c->profile == SEAM_CARD_PROFILE_PRODUCTION) {
        v[0] = FORMAT_2;
        v[len++] = c->profile;
    }
    return seam_nvm_put(nvm, REGISTRY_CARD, card_key, sizeof card_key, v, len);
}

enum { SD_RECORD_LEN = 1 + 1 + 3 + 3 + 1 + SCP03_DIVERSIFICATION_SIZE };

seam_err registry_sd_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, registry_sd *out) {
    uint8_t v[SD_RECORD_LEN + 1 + REGISTRY_AID_MAX];
    size_t len = 0;
    if (aid_len == 0 || aid_len > REGISTRY_AID_MAX)
        return SEAM_ERR_NOT_FOUND;
    seam_err e = seam_nvm_get(nvm, REGISTRY_SD, aid, aid_len, v, sizeof v, &len);
    if (e)
        return e == SEAM_ERR_BUFFER_SMALL ? SEAM_ERR_NVM_CORRUPT : e;
    bool v1 = len == SD_RECORD_LEN && v[0] == FORMAT_1;
    bool v2 = len > SD_RECORD_LEN && v[0] == FORMAT_2 && v[SD_RECORD_LEN] <= REGISTRY_AID_MAX &&
              len == SD_RECORD_LEN + 1u + v[SD_RECORD_LEN];
    if (!v1 && !v2)
        return SEAM_ERR_NVM_CORRUPT;
    registry_sd sd = {0};
    if (v2) {
        sd.parent_len = v[SD_RECORD_LEN];
        memcpy(sd.parent, v + SD_RECORD_LEN + 1, sd.parent_len);
    } else if (aid_len != sizeof seam_card_isd_aid || memcmp(aid, seam_card_isd_aid, aid_len)) {
        sd.parent_len = sizeof seam_card_isd_aid; /* format 1: associated with the ISD */
        memcpy(sd.parent, seam_card_isd_aid, sizeof seam_card_isd_aid);
    }
    memcpy(sd.aid, aid, aid_len);
    sd.aid_len = (uint8_t)aid_len;
    sd.lifecycle = v[1];
    memcpy(sd.privileges, v + 2, 3);
    sd.sequence_counter = (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
    sd.scp_i = v[8];
    memcpy(sd.diversification, v + 9, SCP03_DIVERSIFICATION_SIZE);
    *out = sd;
    return SEAM_OK;
}

seam_err registry_sd_put(seam_nvm *nvm, const registry_sd *sd) {
    uint8_t v[SD_RECORD_LEN + 1 + REGISTRY_AID_MAX];
    if (sd->aid_len < 5 || sd->aid_len > REGISTRY_AID_MAX || sd->sequence_counter > SCP03_SEQ_MAX ||
        sd->parent_len > REGISTRY_AID_MAX)
        return SEAM_ERR_ARG;
    v[0] = FORMAT_2;
    v[1] = sd->lifecycle;
    memcpy(v + 2, sd->privileges, 3);
    v[5] = (uint8_t)(sd->sequence_counter >> 16);
    v[6] = (uint8_t)(sd->sequence_counter >> 8);
    v[7] = (uint8_t)sd->sequence_counter;
    v[8] = sd->scp_i;
    memcpy(v + 9, sd->diversification, SCP03_DIVERSIFICATION_SIZE);
    v[SD_RECORD_LEN] = sd->parent_len;
    memcpy(v + SD_RECORD_LEN + 1, sd->parent, sd->parent_len);
    return seam_nvm_put(nvm, REGISTRY_SD, sd->aid, sd->aid_len, v,
                        SD_RECORD_LEN + 1u + sd->parent_len);
}

typedef struct {
    uint8_t keys[REGISTRY_KEYSETS_MAX + 1][REGISTRY_AID_MAX + 1];
    size_t count, aid_len;
} keyset_names;

static int collect_keyset(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len) {
    keyset_names *k = ctx;
    (void)value;
    (void)value_len;
    if (key_len == k->aid_len + 1 && k->count < REGISTRY_KEYSETS_MAX + 1)
        memcpy(k->keys[k->count++], key, key_len);
    return 0;
}

/* Deletes SD aid's token key, if it has one (only then a write point). */
static seam_err token_key_delete(seam_nvm *nvm, const uint8_t *aid, size_t aid_len) {
    uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    uint8_t key[REGISTRY_AID_MAX + 1];
    seam_err e = registry_token_key_get(nvm, aid, aid_len, REGISTRY_TOKEN_KVN, pub);
    if (!e) {
        memcpy(key, aid, aid_len);
        key[aid_len] = REGISTRY_TOKEN_KVN;
        e = seam_nvm_delete(nvm, REGISTRY_TOKEN_KEY, key, aid_len + 1);
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

seam_err registry_sd_delete(seam_nvm *nvm, const uint8_t *aid, size_t aid_len) {
    keyset_names k = {.aid_len = aid_len};
    seam_err e = seam_nvm_foreach(nvm, REGISTRY_KEYSET, aid, aid_len, collect_keyset, &k);
    for (size_t i = 0; !e && i < k.count; i++)
        e = seam_nvm_delete(nvm, REGISTRY_KEYSET, k.keys[i], aid_len + 1);
    if (!e)
        e = token_key_delete(nvm, aid, aid_len);
    if (!e)
        e = seam_nvm_delete(nvm, REGISTRY_SD, aid, aid_len);
    return e;
}

enum { KEYSET_RECORD_MAX = 2 + 3 * SEAM_CRYPTO_AES_MAX_KEY_SIZE };

typedef struct {
    scp03_keyset *sets;
    size_t max, count;
    size_t aid_len; /* keys are AID || KVN: longer AIDs sharing the prefix are skipped */
    seam_err status;
} keyset_visit;

static int visit_keyset(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len) {
    keyset_visit *k = ctx;
    size_t n = value_len >= 2 ? value[1] : 0;
    if (key_len != k->aid_len + 1)
        return 0;
    if (value_len < 2 || value[0] != FORMAT_1 || (n != 16 && n != 24 && n != 32) ||
        value_len != 2 + 3 * n || key_len < 1) {
        k->status = SEAM_ERR_NVM_CORRUPT;
        return 1;
    }
    if (k->count < k->max) {
        scp03_keyset *s = &k->sets[k->count];
        memset(s, 0, sizeof *s);
        s->kvn = key[key_len - 1];
        s->key_len = n;
        memcpy(s->enc, value + 2, n);
        memcpy(s->mac, value + 2 + n, n);
        memcpy(s->dek, value + 2 + 2 * n, n);
    }
    k->count++;
    return 0;
}

seam_err registry_keysets_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, scp03_keyset *sets,
                              size_t max, size_t *count) {
    keyset_visit k = {sets, max, 0, aid_len, SEAM_OK};
    seam_err e = seam_nvm_foreach(nvm, REGISTRY_KEYSET, aid, aid_len, visit_keyset, &k);
    if (!e)
        e = k.status;
    if (!e)
        *count = k.count < max ? k.count : max;
    return e;
}

seam_err registry_keyset_put(seam_nvm *nvm, const uint8_t *aid, size_t aid_len,
                             const scp03_keyset *set) {
    uint8_t key[REGISTRY_AID_MAX + 1];
    uint8_t v[KEYSET_RECORD_MAX];
    size_t n = set->key_len;
    seam_err e;
    if (aid_len < 5 || aid_len > REGISTRY_AID_MAX || (n != 16 && n != 24 && n != 32))
        return SEAM_ERR_ARG;
    memcpy(key, aid, aid_len);
    key[aid_len] = set->kvn;
    v[0] = FORMAT_1;
    v[1] = (uint8_t)n;
    memcpy(v + 2, set->enc, n);
    memcpy(v + 2 + n, set->mac, n);
    memcpy(v + 2 + 2 * n, set->dek, n);
    e = seam_nvm_put(nvm, REGISTRY_KEYSET, key, aid_len + 1, v, 2 + 3 * n);
    seam_secure_zero(v, sizeof v);
    return e;
}

enum { TOKEN_KEY_TYPE = 0xB0, TOKEN_KEY_PARAMETERS = 0x00 };
enum { TOKEN_KEY_RECORD_LEN = 3 + SEAM_CRYPTO_P256_PUBLIC_SIZE };

seam_err registry_token_key_get(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, uint8_t kvn,
                                uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE]) {
    uint8_t key[REGISTRY_AID_MAX + 1];
    uint8_t v[TOKEN_KEY_RECORD_LEN];
    size_t len = 0;
    seam_err e = SEAM_ERR_NOT_FOUND;
    if (aid_len == 0 || aid_len > REGISTRY_AID_MAX)
        goto done;
    memcpy(key, aid, aid_len);
    key[aid_len] = kvn;
    e = seam_nvm_get(nvm, REGISTRY_TOKEN_KEY, key, aid_len + 1, v, sizeof v, &len);
    if (e == SEAM_ERR_BUFFER_SMALL)
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e && (len != sizeof v || v[0] != FORMAT_1 || v[1] != TOKEN_KEY_TYPE ||
               v[2] != TOKEN_KEY_PARAMETERS))
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e)
        memcpy(pub, v + 3, SEAM_CRYPTO_P256_PUBLIC_SIZE);
done:
    return e;
}

seam_err registry_token_key_put(seam_nvm *nvm, const uint8_t *aid, size_t aid_len, uint8_t kvn,
                                const uint8_t pub[SEAM_CRYPTO_P256_PUBLIC_SIZE]) {
    uint8_t key[REGISTRY_AID_MAX + 1];
    uint8_t v[TOKEN_KEY_RECORD_LEN] = {FORMAT_1, TOKEN_KEY_TYPE, TOKEN_KEY_PARAMETERS};
    seam_err e = SEAM_ERR_ARG;
    if (aid_len >= 5 && aid_len <= REGISTRY_AID_MAX) {
        memcpy(key, aid, aid_len);
        key[aid_len] = kvn;
        memcpy(v + 3, pub, SEAM_CRYPTO_P256_PUBLIC_SIZE);
        e = seam_nvm_put(nvm, REGISTRY_TOKEN_KEY, key, aid_len + 1, v, sizeof v);
    }
    return e;
}
