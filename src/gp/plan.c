/*
 * Plans: the plain commands of one GlobalPlatform operation, built with the
 * builders of build.c into a list, before anything is sent. The live
 * operations of ops.c send a plan through their session and stop at the
 * first refusal; a remote session (remote.c) wraps a plan into a command
 * script. Each builder leaves the plan as it was when it fails.
 */
#include <stdlib.h>
#include <string.h>

#include "gp_int.h"
#include "seam/util.h"

void seam_gp_plan_init(seam_gp_plan *plan) {
    memset(plan, 0, sizeof *plan);
}

void seam_gp_plan_free(seam_gp_plan *plan) {
    if (!plan)
        return;
    if (plan->bytes)
        seam_secure_zero(plan->bytes, plan->cap); /* personalization data may be secret */
    free(plan->bytes);
    free(plan->ends);
    seam_gp_plan_init(plan);
}

seam_err seam_gp_plan_add(seam_gp_plan *plan, const uint8_t *apdu, size_t len) {
    if (!plan || !apdu || len < 4 || len > SEAM_GP_APDU_MAX)
        return SEAM_ERR_ARG;
    if (plan->cap - plan->len < len) {
        size_t cap = plan->cap ? plan->cap : 1024;
        while (cap - plan->len < len)
            cap *= 2;
        uint8_t *bytes = malloc(cap);
        if (!bytes)
            return SEAM_ERR_NOMEM;
        if (plan->len)
            memcpy(bytes, plan->bytes, plan->len);
        if (plan->bytes)
            seam_secure_zero(plan->bytes, plan->cap);
        free(plan->bytes);
        plan->bytes = bytes;
        plan->cap = cap;
    }
    if (plan->count == plan->ends_cap) {
        size_t n = plan->ends_cap ? plan->ends_cap * 2 : 16;
        size_t *ends = realloc(plan->ends, n * sizeof *ends);
        if (!ends)
            return SEAM_ERR_NOMEM;
        plan->ends = ends;
        plan->ends_cap = n;
    }
    memcpy(plan->bytes + plan->len, apdu, len);
    plan->len += len;
    plan->ends[plan->count++] = plan->len;
    return SEAM_OK;
}

const uint8_t *seam_gp_plan_command(const seam_gp_plan *plan, size_t i, size_t *len) {
    if (!plan || i >= plan->count)
        return NULL;
    size_t start = i ? plan->ends[i - 1] : 0;
    *len = plan->ends[i] - start;
    return plan->bytes + start;
}

/* Puts the plan back to count commands (a builder that failed half-way). */
static seam_err rollback(seam_gp_plan *plan, size_t count, seam_err e) {
    if (e && plan->count > count) {
        size_t len = count ? plan->ends[count - 1] : 0;
        seam_secure_zero(plan->bytes + len, plan->len - len);
        plan->len = len;
        plan->count = count;
    }
    return e;
}

/* Builds with a builder into a local buffer, then appends it. */
#define BUILD_AND_ADD(plan, builder, ...)                                                          \
    do {                                                                                           \
        uint8_t cmd_[SEAM_GP_APDU_MAX];                                                            \
        size_t n_ = 0;                                                                             \
        seam_err e_ = builder(__VA_ARGS__, cmd_, sizeof cmd_, &n_);                                \
        if (!e_)                                                                                   \
            e_ = seam_gp_plan_add(plan, cmd_, n_);                                                 \
        seam_secure_zero(cmd_, n_ < sizeof cmd_ ? n_ : sizeof cmd_);                               \
        return e_;                                                                                 \
    } while (0)

static seam_err add_install(seam_gp_plan *plan, const seam_gp_install_fields *in) {
    BUILD_AND_ADD(plan, seam_gp_build_install, in);
}

seam_err seam_gp_plan_delete(seam_gp_plan *plan, const uint8_t *aid, size_t len, bool related) {
    BUILD_AND_ADD(plan, seam_gp_build_delete, aid, len, related, NULL, 0);
}

seam_err seam_gp_plan_upgrade_step(seam_gp_plan *plan, seam_gp_upgrade_action action,
                                   const uint8_t *aid, size_t len, const uint8_t *new_aid,
                                   size_t new_len) {
    BUILD_AND_ADD(plan, seam_gp_build_upgrade, action, aid, len, new_aid, new_len);
}

seam_err gp_plan_loads(seam_gp_plan *plan, const uint8_t *file, size_t len, size_t block) {
    size_t count = block && len ? (len + block - 1) / block : 0;
    seam_err e = SEAM_OK;
    if (count == 0 || count > 256 || block > SEAM_GP_COMMAND_MAX)
        return SEAM_ERR_ARG;
    for (size_t b = 0; b < count && !e; b++) {
        uint8_t cmd[SEAM_GP_APDU_MAX];
        size_t part = b + 1 < count ? block : len - b * block, n = 0;
        e = seam_gp_build_load_extended((uint8_t)b, b + 1 == count, file + b * block, part, cmd,
                                        sizeof cmd, &n);
        if (!e)
            e = seam_gp_plan_add(plan, cmd, n);
    }
    return e;
}

/* The steps of seam_gp_plan_install_package, pkg already read. */
static seam_err add_package(seam_gp_plan *plan, const seam_gp_package_install *in,
                            const seam_gp_package *pkg, size_t load_block) {
    seam_gp_install_fields ins;
    uint8_t digest[SEAM_CRYPTO_SHA256_SIZE], *file = NULL;
    size_t file_len = 0;
    bool combined = !in->load_only && !in->separate;
    seam_err e = SEAM_OK;
    if (in->privileges_len > 3 || in->privileges_len == 2)
        return SEAM_ERR_ARG;
    if (in->hash && (e = seam_crypto_sha256(in->module, in->module_len, digest)) != SEAM_OK)
        return e;
    memset(&ins, 0, sizeof ins);
    ins.role = combined ? SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE : SEAM_GP_FOR_LOAD;
    ins.p2 = combined ? 0x01 : 0x00;
    ins.elf = pkg->aid;
    ins.sd = in->sd;
    ins.hash = in->hash ? digest : NULL;
    ins.hash_len = in->hash ? sizeof digest : 0;
    if ((e = add_install(plan, &ins)) != SEAM_OK)
        return e;
    file = malloc(in->module_len + 8);
    if (!file)
        return SEAM_ERR_NOMEM;
    e = seam_gp_load_file(in->module, in->module_len, file, in->module_len + 8, &file_len);
    if (!e)
        e = gp_plan_loads(plan, file, file_len, load_block);
    free(file);
    if (e || in->load_only)
        return e;
    memset(&ins, 0, sizeof ins);
    ins.role = combined ? SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE
                        : SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
    ins.p2 = combined ? 0x03 : 0x00;
    ins.elf = pkg->aid;
    ins.module = in->applet.len ? in->applet : pkg->applets[0];
    ins.application = in->instance.len ? in->instance : ins.module;
    memcpy(ins.privileges, in->privileges, in->privileges_len);
    ins.privileges_len = in->privileges_len ? in->privileges_len : 1;
    ins.app_params = in->c9;
    ins.app_params_len = in->c9_len;
    return add_install(plan, &ins);
}

seam_err seam_gp_plan_install_package(seam_gp_plan *plan, const seam_gp_package_install *in,
                                      size_t load_block) {
    seam_gp_package pkg;
    if (!plan || !in)
        return SEAM_ERR_ARG;
    seam_err e = seam_gp_package_read(in->module, in->module_len, &pkg, NULL, 0);
    if (e)
        return e;
    size_t count = plan->count;
    return rollback(plan, count, add_package(plan, in, &pkg, load_block));
}

seam_err seam_gp_plan_upgrade_from(seam_gp_plan *plan, const uint8_t *module, size_t len,
                                   const seam_gp_aid *old, seam_gp_upgrade_from from,
                                   size_t load_block) {
    seam_gp_package pkg;
    seam_gp_package_install in;
    if (!plan || from > SEAM_GP_UPGRADE_FROM_ABORT)
        return SEAM_ERR_ARG;
    seam_err e = seam_gp_package_read(module, len, &pkg, NULL, 0);
    if (e)
        return e;
    const seam_gp_aid *p1 = old && old->len ? old : &pkg.aid;
    bool renamed = p1->len != pkg.aid.len || memcmp(p1->bytes, pkg.aid.bytes, p1->len);
    size_t count = plan->count;
    if (from == SEAM_GP_UPGRADE_FROM_ABORT)
        e = seam_gp_plan_upgrade_step(plan, SEAM_GP_UPGRADE_ABORT, p1->bytes, p1->len, NULL, 0);
    if (!e && (from == SEAM_GP_UPGRADE_FROM_START || from == SEAM_GP_UPGRADE_FROM_ABORT))
        e = seam_gp_plan_upgrade_step(plan, SEAM_GP_UPGRADE_START, p1->bytes, p1->len,
                                      renamed ? pkg.aid.bytes : NULL, renamed ? pkg.aid.len : 0);
    memset(&in, 0, sizeof in);
    in.module = module;
    in.module_len = len;
    in.load_only = true;
    if (!e && from != SEAM_GP_UPGRADE_FROM_MIGRATE)
        e = add_package(plan, &in, &pkg, load_block);
    if (!e)
        e = seam_gp_plan_upgrade_step(plan, SEAM_GP_UPGRADE_MIGRATE, p1->bytes, p1->len, NULL, 0);
    return rollback(plan, count, e);
}

seam_err seam_gp_plan_upgrade(seam_gp_plan *plan, const uint8_t *module, size_t len,
                              const seam_gp_aid *old, size_t load_block) {
    return seam_gp_plan_upgrade_from(plan, module, len, old, SEAM_GP_UPGRADE_FROM_START,
                                     load_block);
}

/* The length of the unit (DGI or TLV) at data[pos..len) that STORE DATA must not cut. */
static seam_err unit_len(uint8_t p1, const uint8_t *data, size_t len, size_t pos, size_t *unit) {
    if ((p1 & 0x18) == SEAM_GP_STORE_DGI) {
        size_t p = pos, vlen;
        uint16_t tag;
        const uint8_t *v;
        seam_err e = seam_gp_dgi_next(data, len, &p, &tag, &v, &vlen);
        *unit = p - pos;
        return e ? SEAM_ERR_MALFORMED : SEAM_OK;
    }
    if ((p1 & 0x18) == SEAM_GP_STORE_BER_TLV) {
        seam_tlv t;
        if (seam_tlv_parse(data + pos, len - pos, &t))
            return SEAM_ERR_MALFORMED;
        *unit = t.header_len + t.length;
        return SEAM_OK;
    }
    *unit = len - pos;
    return SEAM_OK;
}

/* The STORE DATA blocks of seam_gp_plan_store_data. */
static seam_err add_store_data(seam_gp_plan *plan, uint8_t p1, const uint8_t *data, size_t len,
                               size_t room, const uint8_t *dek, size_t dek_len) {
    static const uint8_t zero_icv[16] = {0};
    bool encrypted = (p1 & 0x60) == SEAM_GP_STORE_ENCRYPTED;
    size_t pos = 0, block = 0;
    seam_err e = SEAM_OK;
    if (encrypted)
        room = room / 16 * 16 - 1; /* padding adds 1..16 bytes */
    while (!e && pos < len) {
        uint8_t part[256], cmd[5 + 256 + 1];
        size_t take = 0, unit = 0, n = 0;
        while (!e && pos + take < len) { /* whole units while they fit */
            e = unit_len(p1, data, len, pos + take, &unit);
            if (!e && take + unit > room && ((p1 & 0x18) || take))
                break;
            if (!e)
                take += unit > room - take ? room - take : unit;
        }
        if (!e && take == 0)
            e = SEAM_ERR_ARG; /* one DGI or TLV larger than a block */
        if (e || block > 255)
            return e ? e : SEAM_ERR_ARG;
        memcpy(part, data + pos, take);
        n = take;
        if (encrypted) {
            size_t padded = 0;
            e = seam_crypto_iso9797_pad(part, take, sizeof part, &padded);
            if (!e)
                e = seam_crypto_aes_cbc_encrypt(dek, dek_len, zero_icv, part, padded, part);
            n = padded;
        }
        pos += take;
        if (!e)
            e = seam_gp_build_store_data((uint8_t)(p1 | (pos == len ? SEAM_GP_STORE_LAST : 0)),
                                         (uint8_t)block++, part, n, cmd, sizeof cmd, &n);
        if (!e)
            e = seam_gp_plan_add(plan, cmd, n);
        seam_secure_zero(part, sizeof part);
        seam_secure_zero(cmd, sizeof cmd);
    }
    return e;
}

seam_err seam_gp_plan_store_data(seam_gp_plan *plan, const seam_gp_aid *instance, uint8_t p1,
                                 const uint8_t *data, size_t len, size_t block, const uint8_t *dek,
                                 size_t dek_len) {
    bool encrypted = (p1 & 0x60) == SEAM_GP_STORE_ENCRYPTED;
    if (!plan || !data || !len || (p1 & SEAM_GP_STORE_LAST) || block == 0 || block > 255 ||
        (encrypted && block < 16))
        return SEAM_ERR_ARG;
    if (encrypted && (!dek || !dek_len))
        return SEAM_ERR_GP_CHANNEL;
    size_t count = plan->count;
    seam_err e = SEAM_OK;
    if (instance) {
        seam_gp_install_fields ins;
        memset(&ins, 0, sizeof ins);
        ins.role = SEAM_GP_FOR_PERSONALIZATION;
        ins.application = *instance;
        e = add_install(plan, &ins);
    }
    if (!e)
        e = add_store_data(plan, p1, data, len, block, dek, dek_len);
    return rollback(plan, count, e);
}
