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

/* Sends the plan's commands in order and stops at the first answer other than 9000
   (its SW in *sw); progress sees the LOADs' data (done out of all the plan's LOAD data). */
static seam_err run_plan(seam_gp *gp, const seam_gp_plan *plan, seam_gp_progress_fn progress,
                         void *progress_ctx, uint16_t *sw) {
    size_t total = 0, done = 0, len = 0, nc = 0;
    bool extended = false;
    seam_err e = SEAM_OK;
    for (size_t i = 0; i < plan->count; i++) {
        const uint8_t *cmd = seam_gp_plan_command(plan, i, &len);
        if (cmd[1] == 0xE8 && gp_apdu_shape(cmd, len, &nc, &extended))
            total += nc;
    }
    *sw = 0x9000;
    for (size_t i = 0; i < plan->count && !e && *sw == 0x9000; i++) {
        const uint8_t *cmd = seam_gp_plan_command(plan, i, &len);
        e = gp_exchange(gp, cmd, len, sw);
        if (!e && *sw == 0x9000 && cmd[1] == 0xE8 && progress &&
            gp_apdu_shape(cmd, len, &nc, &extended)) {
            done += nc;
            progress(progress_ctx, done, total);
        }
    }
    return e;
}

seam_err seam_gp_load(seam_gp *gp, const uint8_t *load_file, size_t len,
                      seam_gp_progress_fn progress, void *progress_ctx, uint16_t *sw) {
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    seam_err e = load_file ? gp_plan_loads(&plan, load_file, len, seam_gp_load_block_size(gp))
                           : SEAM_ERR_ARG;
    if (!e)
        e = run_plan(gp, &plan, progress, progress_ctx, sw);
    seam_gp_plan_free(&plan);
    return e;
}

seam_err seam_gp_install_package(seam_gp *gp, const seam_gp_package_install *in, uint16_t *sw) {
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    seam_err e = seam_gp_plan_install_package(&plan, in, seam_gp_load_block_size(gp));
    if (!e)
        e = run_plan(gp, &plan, in->progress, in->progress_ctx, sw);
    seam_gp_plan_free(&plan);
    return e;
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

seam_err seam_gp_store_data(seam_gp *gp, uint8_t p1, const uint8_t *data, size_t len,
                            uint16_t *sw) {
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    seam_err e = seam_gp_plan_store_data(&plan, NULL, p1, data, len, seam_gp_block_size(gp),
                                         gp->dek, gp->dek_len);
    if (!e)
        e = run_plan(gp, &plan, NULL, NULL, sw);
    seam_gp_plan_free(&plan);
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
