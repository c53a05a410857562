/*
 * Builders: one GlobalPlatform command APDU each, written into caller
 * storage (gp_facts.md §1.3-§1.9, docs/upgrade.md). Nothing here allocates or
 * talks to a card; on any error the output is left as it was.
 */
#include <string.h>

#include "seam/crypto.h"
#include "seam/gp.h"
#include "seam/util.h"

#define CLA_GP 0x80u

seam_err seam_gp_aid_set(seam_gp_aid *aid, const uint8_t *bytes, size_t len) {
    if (len > SEAM_GP_AID_MAX || (len && !bytes))
        return SEAM_ERR_ARG;
    memset(aid, 0, sizeof *aid);
    if (len)
        memcpy(aid->bytes, bytes, len);
    aid->len = len;
    return SEAM_OK;
}

void seam_gp_keys_default(seam_gp_keys *keys) {
    memset(keys, 0, sizeof *keys);
    for (int i = 0; i < 16; i++)
        keys->enc[i] = keys->mac[i] = keys->dek[i] = (uint8_t)(0x40 + i);
    keys->len = 16;
}

seam_err seam_gp_keys_set(seam_gp_keys *keys, const uint8_t *key, size_t len) {
    if (len != 16 && len != 24 && len != 32)
        return SEAM_ERR_ARG;
    memset(keys, 0, sizeof *keys);
    memcpy(keys->enc, key, len);
    memcpy(keys->mac, key, len);
    memcpy(keys->dek, key, len);
    keys->len = len;
    return SEAM_OK;
}

/* True for an AID length the field allows: 5..16, or 0 when optional. */
static bool aid_len_ok(size_t len, bool optional) {
    return (optional && len == 0) || (len >= SEAM_GP_AID_MIN && len <= SEAM_GP_AID_MAX);
}

/* Appends a BER length (1 to 3 bytes). */
static void put_len(seam_buf *b, size_t len) {
    if (len > 0xFF) {
        seam_buf_put_u8(b, 0x82);
        seam_buf_put_be16(b, (uint16_t)len);
    } else {
        if (len > 0x7F)
            seam_buf_put_u8(b, 0x81);
        seam_buf_put_u8(b, (uint8_t)len);
    }
}

/* Appends an LV with a BER length. */
static void put_lv(seam_buf *b, const uint8_t *v, size_t len) {
    put_len(b, len);
    if (len)
        seam_buf_put(b, v, len);
}

/*
 * Writes the command CLA_GP ins p1 p2 around data[0..n): no Lc when n is 0,
 * a short Lc up to 255 bytes, else the extended form (00 hh ll); le adds Le
 * (00, or 00 00 in the extended form).
 */
static seam_err command(uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data, size_t n, bool le,
                        uint8_t *out, size_t cap, size_t *out_len) {
    bool extended = n > 255;
    size_t need = 4 + (n ? (extended ? 3 : 1) + n : 0) + (le ? (extended ? 2 : 1) : 0);
    if (n > SEAM_GP_COMMAND_MAX)
        return SEAM_ERR_ARG;
    *out_len = need;
    if (need > cap)
        return SEAM_ERR_BUFFER_SMALL;
    size_t pos = 0;
    out[pos++] = CLA_GP;
    out[pos++] = ins;
    out[pos++] = p1;
    out[pos++] = p2;
    if (n) {
        if (extended) {
            out[pos++] = 0x00;
            out[pos++] = (uint8_t)(n >> 8);
        }
        out[pos++] = (uint8_t)n;
        memmove(out + pos, data, n);
        pos += n;
    }
    if (le) {
        out[pos++] = 0x00;
        if (extended)
            out[pos++] = 0x00;
    }
    return SEAM_OK;
}

/* Which INSTALL fields a role uses. */
enum {
    F_ELF = 1,
    F_MODULE = 2,
    F_APP = 4,
    F_SD = 8,
    F_PRIV = 16,
    F_HASH = 32,
    F_C9 = 64,
    F_PARAMS = 128,
    F_TOKEN = 256,
};

/* The fields role (with p2) uses, or 0 for a role/P2 that does not exist. */
static unsigned role_fields(uint8_t role, uint8_t p2) {
    unsigned install = F_ELF | F_MODULE | F_APP | F_PRIV | F_C9 | F_PARAMS | F_TOKEN;
    unsigned load = F_ELF | F_SD | F_HASH | F_PARAMS | F_TOKEN;
    if (role == SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE)
        return p2 == 0x01 ? load : p2 == 0x03 ? install : 0;
    if (p2 != 0x00)
        return 0;
    switch (role) {
    case SEAM_GP_FOR_LOAD:
        return load;
    case SEAM_GP_FOR_INSTALL:
    case SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE:
        return install;
    case SEAM_GP_FOR_MAKE_SELECTABLE:
        return F_APP | F_PRIV | F_PARAMS | F_TOKEN;
    case SEAM_GP_FOR_EXTRADITION:
        return F_SD | F_APP | F_PARAMS | F_TOKEN;
    case SEAM_GP_FOR_REGISTRY_UPDATE:
        return F_SD | F_APP | F_PRIV | F_PARAMS | F_TOKEN;
    case SEAM_GP_FOR_PERSONALIZATION:
        return F_APP;
    default:
        return 0;
    }
}

/* Checks that *in gives only fields its role uses, each within its range. */
static bool install_ok(const seam_gp_install_fields *in, unsigned f) {
    bool install_layout = (f & F_MODULE) != 0;
    bool ok = f != 0;
    ok = ok && (in->elf.len == 0 || (f & F_ELF)) && (in->module.len == 0 || (f & F_MODULE)) &&
         (in->application.len == 0 || (f & F_APP)) && (in->sd.len == 0 || (f & F_SD)) &&
         (in->privileges_len == 0 || (f & F_PRIV)) && (in->hash_len == 0 || (f & F_HASH)) &&
         (in->app_params_len == 0 || (f & F_C9)) && (in->params_len == 0 || (f & F_PARAMS)) &&
         (in->token_len == 0 || (f & F_TOKEN));
    ok = ok && in->privileges_len <= 3 && in->privileges_len != 2 && in->hash_len <= 64;
    ok = ok && (!in->hash_len || in->hash) && (!in->app_params_len || in->app_params) &&
         (!in->params_len || in->params) && (!in->token_len || in->token);
    ok = ok && aid_len_ok(in->elf.len, !(f & F_ELF) || in->p2 == 0x03) &&
         aid_len_ok(in->module.len, !install_layout) &&
         aid_len_ok(in->application.len, !(f & F_APP)) &&
         aid_len_ok(in->sd.len, in->role != SEAM_GP_FOR_EXTRADITION);
    if (ok && install_layout)
        ok = in->privileges_len == 1 || in->privileges_len == 3;
    return ok && in->app_params_len <= 0x7FFF && in->params_len <= 0x7FFF &&
           in->token_len <= 0x7FFF;
}

seam_err seam_gp_build_install(const seam_gp_install_fields *in, uint8_t *out, size_t cap,
                               size_t *out_len) {
    uint8_t data[SEAM_GP_COMMAND_MAX];
    seam_buf b;
    unsigned f = role_fields(in->role, in->p2);
    if (!install_ok(in, f))
        return SEAM_ERR_ARG;
    seam_buf_init(&b, data, sizeof data);
    if (f & F_HASH) { /* the for-load layout */
        put_lv(&b, in->elf.bytes, in->elf.len);
        put_lv(&b, in->sd.bytes, in->sd.len);
        put_lv(&b, in->hash, in->hash_len);
        put_lv(&b, in->params, in->params_len);
    } else if (f & F_MODULE) { /* for install */
        put_lv(&b, in->elf.bytes, in->elf.len);
        put_lv(&b, in->module.bytes, in->module.len);
        put_lv(&b, in->application.bytes, in->application.len);
        put_lv(&b, in->privileges, in->privileges_len);
        size_t c9 = 1 +
                    (in->app_params_len > 0xFF   ? 3
                     : in->app_params_len > 0x7F ? 2
                                                 : 1) +
                    in->app_params_len;
        put_len(&b, c9 + in->params_len);
        seam_buf_put_u8(&b, 0xC9);
        put_lv(&b, in->app_params, in->app_params_len);
        if (in->params_len)
            seam_buf_put(&b, in->params, in->params_len);
    } else { /* SD or 00, 00, application, privileges or 00, params */
        put_lv(&b, in->sd.bytes, in->sd.len);
        seam_buf_put_u8(&b, 0x00);
        put_lv(&b, in->application.bytes, in->application.len);
        put_lv(&b, in->privileges, in->privileges_len);
        put_lv(&b, in->params, in->params_len);
    }
    put_lv(&b, in->token, in->token_len);
    if (b.err)
        return SEAM_ERR_ARG;
    return command(0xE6, in->role, in->p2, data, b.length, true, out, cap, out_len);
}

seam_err seam_gp_build_load(uint8_t block, bool last, const uint8_t *data, size_t len, uint8_t *out,
                            size_t cap, size_t *out_len) {
    if (len == 0 || len > 255 || !data)
        return SEAM_ERR_ARG;
    return command(0xE8, last ? 0x80 : 0x00, block, data, len, true, out, cap, out_len);
}

seam_err seam_gp_build_load_extended(uint8_t block, bool last, const uint8_t *data, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len) {
    if (len == 0 || len > SEAM_GP_COMMAND_MAX || !data)
        return SEAM_ERR_ARG;
    return command(0xE8, last ? 0x80 : 0x00, block, data, len, true, out, cap, out_len);
}

seam_err seam_gp_build_delete(const uint8_t *aid, size_t len, bool related, const uint8_t *token,
                              size_t token_len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t data[2 + SEAM_GP_AID_MAX + 4 + 255];
    seam_buf b;
    if (!aid_len_ok(len, false) || !aid || token_len > 255 || (token_len && !token))
        return SEAM_ERR_ARG;
    seam_buf_init(&b, data, sizeof data);
    seam_buf_put_u8(&b, 0x4F);
    put_lv(&b, aid, len);
    if (token_len) {
        seam_buf_put_u8(&b, 0x9E);
        put_lv(&b, token, token_len);
    }
    return command(0xE4, 0x00, related ? 0x80 : 0x00, data, b.length, true, out, cap, out_len);
}

seam_err seam_gp_build_delete_key(uint8_t kvn, uint8_t key_id, uint8_t *out, size_t cap,
                                  size_t *out_len) {
    uint8_t data[6];
    size_t n = 0;
    if (!kvn && !key_id)
        return SEAM_ERR_ARG;
    if (key_id) {
        data[n++] = 0xD0;
        data[n++] = 1;
        data[n++] = key_id;
    }
    if (kvn) {
        data[n++] = 0xD2;
        data[n++] = 1;
        data[n++] = kvn;
    }
    return command(0xE4, 0x00, 0x00, data, n, true, out, cap, out_len);
}

seam_err seam_gp_build_get_status(seam_gp_scope scope, bool next, const uint8_t *prefix,
                                  size_t prefix_len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t data[2 + SEAM_GP_AID_MAX];
    if ((scope != SEAM_GP_ISD && scope != SEAM_GP_APPS && scope != SEAM_GP_ELFS &&
         scope != SEAM_GP_ELFS_MODULES) ||
        prefix_len > SEAM_GP_AID_MAX || (prefix_len && !prefix))
        return SEAM_ERR_ARG;
    data[0] = 0x4F;
    data[1] = (uint8_t)prefix_len;
    if (prefix_len)
        memcpy(data + 2, prefix, prefix_len);
    return command(0xF2, (uint8_t)scope, next ? 0x03 : 0x02, data, 2 + prefix_len, true, out, cap,
                   out_len);
}

seam_err seam_gp_build_set_status(uint8_t scope, uint8_t state, const uint8_t *aid, size_t len,
                                  uint8_t *out, size_t cap, size_t *out_len) {
    bool card = scope == 0x80;
    if ((!card && scope != 0x40 && scope != 0x60) || (card && len) ||
        (!card && (!aid_len_ok(len, false) || !aid)))
        return SEAM_ERR_ARG;
    return command(0xF0, scope, state, aid, len, false, out, cap, out_len);
}

seam_err seam_gp_build_put_key(const uint8_t *dek, size_t dek_len, uint8_t replace, uint8_t new_kvn,
                               const seam_gp_keys *keys, uint8_t *out, size_t cap, size_t *out_len,
                               uint8_t expected[10]) {
    static const uint8_t zero_icv[16] = {0};
    const uint8_t *key[3] = {keys->enc, keys->mac, keys->dek};
    uint8_t data[1 + 3 * (3 + 32 + 4)], padded[32], kcv[10];
    size_t n = 0, enc_len = (keys->len + 15) / 16 * 16;
    seam_err e = SEAM_OK;
    if (replace > 0x7F || new_kvn == 0 || new_kvn > 0x7F)
        return SEAM_ERR_ARG;
    if ((keys->len != 16 && keys->len != 24 && keys->len != 32) ||
        (dek_len != 16 && dek_len != 24 && dek_len != 32))
        return SEAM_ERR_CRYPTO_KEY;
    data[n++] = new_kvn;
    kcv[0] = new_kvn;
    for (int i = 0; i < 3 && !e; i++) {
        data[n++] = 0x88;
        data[n++] = (uint8_t)(1 + enc_len);
        data[n++] = (uint8_t)keys->len; /* the clear length (AmdD Table 7-10) */
        memset(padded, 0, sizeof padded);
        memcpy(padded, key[i], keys->len);
        e = seam_crypto_aes_cbc_encrypt(dek, dek_len, zero_icv, padded, enc_len, data + n);
        if (!e)
            e = seam_crypto_aes_kcv(key[i], keys->len, kcv + 1 + 3 * i);
        n += enc_len;
        data[n++] = 0x03;
        memcpy(data + n, kcv + 1 + 3 * i, 3);
        n += 3;
    }
    if (!e)
        e = command(0xD8, replace, 0x81, data, n, true, out, cap, out_len);
    if (!e)
        memcpy(expected, kcv, sizeof kcv);
    seam_secure_zero(padded, sizeof padded);
    seam_secure_zero(data, sizeof data);
    return e;
}

seam_err seam_gp_build_store_data(uint8_t p1, uint8_t block, const uint8_t *data, size_t len,
                                  uint8_t *out, size_t cap, size_t *out_len) {
    if (len == 0 || len > 255 || !data || (p1 & 0x06) || (p1 & 0x18) == 0x18 || (p1 & 0x60) == 0x40)
        return SEAM_ERR_ARG;
    return command(0xE2, p1, block, data, len, (p1 & SEAM_GP_STORE_CASE4) != 0, out, cap, out_len);
}

seam_err seam_gp_build_upgrade(seam_gp_upgrade_action action, const uint8_t *aid, size_t len,
                               const uint8_t *new_aid, size_t new_len, uint8_t *out, size_t cap,
                               size_t *out_len) {
    uint8_t data[4 + 2 * SEAM_GP_AID_MAX];
    size_t n = 0;
    if ((action != SEAM_GP_UPGRADE_START && action != SEAM_GP_UPGRADE_MIGRATE &&
         action != SEAM_GP_UPGRADE_ABORT && action != SEAM_GP_UPGRADE_STATUS &&
         action != SEAM_GP_UPGRADE_EXPORT) ||
        !aid_len_ok(len, false) || !aid || !aid_len_ok(new_len, true) || (new_len && !new_aid) ||
        (new_len && action != SEAM_GP_UPGRADE_START))
        return SEAM_ERR_ARG;
    data[n++] = 0x4F;
    data[n++] = (uint8_t)len;
    memcpy(data + n, aid, len);
    n += len;
    if (new_len) {
        data[n++] = 0xC4;
        data[n++] = (uint8_t)new_len;
        memcpy(data + n, new_aid, new_len);
        n += new_len;
    }
    return command(0xEA, (uint8_t)action, 0x00, data, n, true, out, cap, out_len);
}
