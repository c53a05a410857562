/*
 * The GlobalPlatform operations of a host session: each builds its commands
 * with build.c, sends them with gp_exchange and stops at the first status
 * word other than 9000 (returned in *sw, SEAM_OK: status words are data).
 */
#include <stdlib.h>
#include <string.h>

#include "gp_int.h"
#include "seam/util.h"

/* Builds with a builder into a local buffer, then sends; used by the one-command ops. */
#define BUILD_AND_SEND(gp, sw, builder, ...)                                                       \
    do {                                                                                           \
        uint8_t cmd_[SEAM_GP_APDU_MAX];                                                            \
        size_t n_ = 0;                                                                             \
        seam_err e_ = builder(__VA_ARGS__, cmd_, sizeof cmd_, &n_);                                \
        if (!e_)                                                                                   \
            e_ = gp_exchange(gp, cmd_, n_, sw);                                                    \
        return e_;                                                                                 \
    } while (0)

seam_err seam_gp_install(seam_gp *gp, const seam_gp_install_fields *in, uint16_t *sw) {
    BUILD_AND_SEND(gp, sw, seam_gp_build_install, in);
}

seam_err seam_gp_delete(seam_gp *gp, const uint8_t *aid, size_t len, bool related, uint16_t *sw) {
    BUILD_AND_SEND(gp, sw, seam_gp_build_delete, aid, len, related, NULL, 0);
}

seam_err seam_gp_set_status(seam_gp *gp, uint8_t scope, uint8_t state, const uint8_t *aid,
                            size_t len, uint16_t *sw) {
    BUILD_AND_SEND(gp, sw, seam_gp_build_set_status, scope, state, aid, len);
}

seam_err seam_gp_load(seam_gp *gp, const uint8_t *load_file, size_t len,
                      seam_gp_progress_fn progress, void *progress_ctx, uint16_t *sw) {
    size_t block = seam_gp_block_size(gp), count = len ? (len + block - 1) / block : 0;
    seam_err e = SEAM_OK;
    if (!load_file || count == 0 || count > 256)
        return SEAM_ERR_ARG;
    *sw = 0x9000;
    for (size_t b = 0; b < count && !e && *sw == 0x9000; b++) {
        uint8_t cmd[5 + 255 + 1];
        size_t part = b + 1 < count ? block : len - b * block, n = 0;
        e = seam_gp_build_load((uint8_t)b, b + 1 == count, load_file + b * block, part, cmd,
                               sizeof cmd, &n);
        if (!e)
            e = gp_exchange(gp, cmd, n, sw);
        if (!e && *sw == 0x9000 && progress)
            progress(progress_ctx, b * block + part, len);
    }
    return e;
}

seam_err seam_gp_install_package(seam_gp *gp, const seam_gp_package_install *in, uint16_t *sw) {
    seam_gp_package pkg;
    seam_gp_install_fields ins;
    uint8_t digest[SEAM_CRYPTO_SHA256_SIZE], *file = NULL;
    size_t file_len = 0;
    bool combined = !in->load_only && !in->separate;
    seam_err e = seam_gp_package_read(in->module, in->module_len, &pkg, NULL, 0);
    if (e)
        return e;
    if (in->privileges_len > 3 || in->privileges_len == 2)
        return SEAM_ERR_ARG;
    if (in->hash) {
        e = seam_crypto_sha256(in->module, in->module_len, digest);
        if (e)
            return e;
    }
    memset(&ins, 0, sizeof ins);
    ins.role = combined ? SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE : SEAM_GP_FOR_LOAD;
    ins.p2 = combined ? 0x01 : 0x00;
    ins.elf = pkg.aid;
    ins.sd = in->sd;
    ins.hash = in->hash ? digest : NULL;
    ins.hash_len = in->hash ? sizeof digest : 0;
    e = seam_gp_install(gp, &ins, sw);
    if (e || *sw != 0x9000)
        return e;
    file = malloc(in->module_len + 8);
    if (!file)
        return SEAM_ERR_NOMEM;
    e = seam_gp_load_file(in->module, in->module_len, file, in->module_len + 8, &file_len);
    if (!e)
        e = seam_gp_load(gp, file, file_len, in->progress, in->progress_ctx, sw);
    free(file);
    if (e || *sw != 0x9000 || in->load_only)
        return e;
    memset(&ins, 0, sizeof ins);
    ins.role = combined ? SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE
                        : SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
    ins.p2 = combined ? 0x03 : 0x00;
    ins.elf = pkg.aid;
    ins.module = in->applet.len ? in->applet : pkg.applets[0];
    ins.application = in->instance.len ? in->instance : ins.module;
    memcpy(ins.privileges, in->privileges, in->privileges_len);
    ins.privileges_len = in->privileges_len ? in->privileges_len : 1;
    ins.app_params = in->c9;
    ins.app_params_len = in->c9_len;
    return seam_gp_install(gp, &ins, sw);
}

seam_err seam_gp_get_status(seam_gp *gp, seam_gp_scope scope, const uint8_t *prefix,
                            size_t prefix_len, seam_gp_status_fn fn, void *ctx, uint16_t *sw) {
    seam_err e = SEAM_OK;
    bool next = false;
    do {
        uint8_t cmd[8 + SEAM_GP_AID_MAX];
        size_t n = 0;
        seam_gp_status_iter it;
        seam_gp_status_entry entry;
        e = seam_gp_build_get_status(scope, next, prefix, prefix_len, cmd, sizeof cmd, &n);
        if (!e)
            e = gp_exchange(gp, cmd, n, sw);
        if (e || (*sw != 0x9000 && *sw != 0x6310))
            break;
        seam_gp_status_iter_init(&it, gp->response, gp->data_len);
        while (!e && (e = seam_gp_status_iter_next(&it, &entry)) == SEAM_OK)
            e = fn(ctx, scope, &entry);
        if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
        else if (e == SEAM_ERR_MALFORMED)
            e = SEAM_ERR_GP_RESPONSE;
        next = true;
    } while (!e && *sw == 0x6310);
    return e;
}

seam_err seam_gp_list(seam_gp *gp, seam_gp_status_fn fn, void *ctx, uint16_t *sw) {
    static const seam_gp_scope scopes[] = {SEAM_GP_ISD, SEAM_GP_APPS, SEAM_GP_ELFS_MODULES};
    uint16_t first = 0x9000;
    seam_err e = SEAM_OK;
    for (size_t i = 0; i < 3 && !e; i++) {
        e = seam_gp_get_status(gp, scopes[i], NULL, 0, fn, ctx, sw);
        if (!e && scopes[i] == SEAM_GP_ELFS_MODULES && *sw == 0x6A86)
            e = seam_gp_get_status(gp, SEAM_GP_ELFS, NULL, 0, fn, ctx, sw);
        if (!e && *sw != 0x9000 && *sw != 0x6A88 && first == 0x9000)
            first = *sw;
    }
    *sw = first;
    return e;
}

seam_err seam_gp_put_key(seam_gp *gp, uint8_t replace, uint8_t new_kvn, const seam_gp_keys *keys,
                         uint16_t *sw) {
    uint8_t cmd[SEAM_GP_APDU_MAX], expected[10];
    size_t n = 0;
    seam_err e;
    if (!gp->scp.open || !gp->dek_len)
        return SEAM_ERR_GP_CHANNEL;
    e = seam_gp_build_put_key(gp->dek, gp->dek_len, replace, new_kvn, keys, cmd, sizeof cmd, &n,
                              expected);
    if (!e)
        e = gp_exchange(gp, cmd, n, sw);
    seam_secure_zero(cmd, sizeof cmd);
    if (!e && *sw == 0x9000 &&
        (gp->data_len != sizeof expected || memcmp(gp->response, expected, sizeof expected)))
        e = SEAM_ERR_GP_RESPONSE; /* the card holds other keys than those sent */
    return e;
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

seam_err seam_gp_store_data(seam_gp *gp, uint8_t p1, const uint8_t *data, size_t len,
                            uint16_t *sw) {
    static const uint8_t zero_icv[16] = {0};
    bool encrypted = (p1 & 0x60) == SEAM_GP_STORE_ENCRYPTED;
    size_t room = seam_gp_block_size(gp), pos = 0, block = 0;
    seam_err e = SEAM_OK;
    if (!data || !len || (p1 & SEAM_GP_STORE_LAST))
        return SEAM_ERR_ARG;
    if (encrypted && !gp->dek_len)
        return SEAM_ERR_GP_CHANNEL;
    if (encrypted)
        room = room / 16 * 16 - 1; /* padding adds 1..16 bytes */
    *sw = 0x9000;
    while (!e && pos < len && *sw == 0x9000) {
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
                e = seam_crypto_aes_cbc_encrypt(gp->dek, gp->dek_len, zero_icv, part, padded, part);
            n = padded;
        }
        pos += take;
        if (!e)
            e = seam_gp_build_store_data((uint8_t)(p1 | (pos == len ? SEAM_GP_STORE_LAST : 0)),
                                         (uint8_t)block++, part, n, cmd, sizeof cmd, &n);
        if (!e)
            e = gp_exchange(gp, cmd, n, sw);
        seam_secure_zero(part, sizeof part);
    }
    return e;
}

seam_err seam_gp_upgrade(seam_gp *gp, seam_gp_upgrade_action action, const uint8_t *aid, size_t len,
                         const uint8_t *new_aid, size_t new_len, seam_gp_upgrade_status *status,
                         uint16_t *sw) {
    uint8_t cmd[8 + 2 * SEAM_GP_AID_MAX];
    size_t n = 0;
    seam_err e = seam_gp_build_upgrade(action, aid, len, new_aid, new_len, cmd, sizeof cmd, &n);
    if (!e)
        e = gp_exchange(gp, cmd, n, sw);
    if (!e && *sw == 0x9000 && status && action != SEAM_GP_UPGRADE_EXPORT &&
        seam_gp_upgrade_decode(gp->response, gp->data_len, status) != SEAM_OK)
        e = SEAM_ERR_GP_RESPONSE;
    return e;
}

/* Counts the LOAD blocks for seam_gp_upgrade_package and passes progress on. */
typedef struct {
    seam_gp_upgrade_report *report;
    seam_gp_progress_fn progress;
    void *ctx;
} load_counter;

static void count_block(void *ctx, size_t done, size_t total) {
    load_counter *c = ctx;
    c->report->load_blocks++;
    c->report->load_bytes = total;
    if (c->progress)
        c->progress(c->ctx, done, total);
}

seam_err seam_gp_upgrade_package(seam_gp *gp, const uint8_t *module, size_t len,
                                 const seam_gp_aid *old, seam_gp_progress_fn progress,
                                 void *progress_ctx, seam_gp_upgrade_report *report, uint16_t *sw) {
    seam_gp_package_install in;
    load_counter counter = {report, progress, progress_ctx};
    const seam_gp_aid *p1;
    bool renamed;
    memset(report, 0, sizeof *report);
    seam_err e = seam_gp_package_read(module, len, &report->package, NULL, 0);
    if (e)
        return e;
    p1 = old && old->len ? old : &report->package.aid;
    renamed =
        p1->len != report->package.aid.len || memcmp(p1->bytes, report->package.aid.bytes, p1->len);
    e = seam_gp_upgrade(gp, SEAM_GP_UPGRADE_START, p1->bytes, p1->len,
                        renamed ? report->package.aid.bytes : NULL,
                        renamed ? report->package.aid.len : 0, &report->start, sw);
    if (e || *sw != 0x9000)
        return e;
    report->started = true;
    memset(&in, 0, sizeof in);
    in.module = module;
    in.module_len = len;
    in.load_only = true;
    in.progress = count_block;
    in.progress_ctx = &counter;
    e = seam_gp_install_package(gp, &in, sw);
    if (!e && *sw != 0x9000) { /* back as it was: P1 returns to the useful space */
        uint8_t header[4];
        uint16_t abort_sw = 0;
        seam_gp_upgrade_status st;
        seam_gp_last_command(gp, header);
        if (seam_gp_upgrade(gp, SEAM_GP_UPGRADE_ABORT, p1->bytes, p1->len, NULL, 0, &st,
                            &abort_sw) == SEAM_OK &&
            abort_sw == 0x9000)
            report->aborted = true;
        memcpy(gp->last, header, 4); /* the step that failed, not the abort */
    }
    if (e || *sw != 0x9000)
        return e;
    report->loaded = true;
    e = seam_gp_upgrade(gp, SEAM_GP_UPGRADE_MIGRATE, p1->bytes, p1->len, NULL, 0, &report->migrate,
                        sw);
    report->migrated = !e && *sw == 0x9000;
    return e;
}
