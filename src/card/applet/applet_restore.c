/*
 * The applet's side of the restore module (applet_runtime.h; the ABI is in
 * include/seam/applet.h and docs/applet-abi.md): the host functions
 * restore_put, restore_get, restore_perso_add, personalize_command and
 * upgrade_previous_version,
 * and the entry points personalize, save_for_upgrade and
 * restore_after_upgrade. The record itself lives in the card (store/restore_records.c);
 * the runtime only reaches it through the callbacks the card binds.
 *
 * Access rule (requirement P10): restore_get answers only inside
 * restore_after_upgrade, which the card runs only during an authorized
 * upgrade of the same application identity; at any other time, and when no
 * record is bound, it answers SEAM_RESTORE_ERR_DENIED.
 */
#include <string.h>

#include "applet_int.h"
#include "seam/util.h"

/* Reads a name argument: 1..SEAM_RESTORE_NAME_MAX bytes inside guest memory. */
static seam_err read_name(seam_wasm_call_ctx *ctx, const char *fn, uint32_t addr, uint32_t len,
                          uint8_t **name, bool *ok) {
    seam_err err = SEAM_OK;
    *ok = len >= 1 && len <= SEAM_RESTORE_NAME_MAX;
    if (*ok && !applet_guest_range(ctx, addr, len, name))
        err = applet_trap_range(ctx, fn, addr, len);
    return err;
}

seam_err applet_host_restore_put(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results) {
    seam_applet *applet = env;
    uint32_t name_addr = (uint32_t)args[0], name_len = (uint32_t)args[1];
    uint32_t value_addr = (uint32_t)args[2], len = (uint32_t)args[3];
    uint8_t *name = NULL, *value = NULL;
    int32_t result = SEAM_RESTORE_ERR_QUOTA;
    bool ok = false;
    seam_err err = applet_charge(ctx, (uint64_t)name_len + len, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
    if (!err)
        err = read_name(ctx, "restore_put", name_addr, name_len, &name, &ok);
    if (!err && !applet_guest_range(ctx, value_addr, len, &value))
        err = applet_trap_range(ctx, "restore_put", value_addr, len);
    if (err)
        goto done;
    if (applet->restore.ctx == NULL)
        result = SEAM_RESTORE_ERR_DENIED;
    else if (ok && len <= SEAM_RESTORE_VALUE_MAX)
        err = applet->restore.put(applet->restore.ctx, name, name_len, value, len, &result);
    applet->storage_error = err;
    results[0] = (uint32_t)result;
done:
    return err;
}

seam_err applet_host_restore_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results) {
    seam_applet *applet = env;
    uint32_t name_addr = (uint32_t)args[0], name_len = (uint32_t)args[1];
    uint32_t buf = (uint32_t)args[2], cap = (uint32_t)args[3];
    uint8_t value[SEAM_RESTORE_VALUE_MAX];
    uint8_t *name = NULL, *out = NULL;
    size_t len = 0;
    int32_t result = SEAM_RESTORE_ERR_DENIED;
    bool ok = false;
    seam_err err = applet_charge(ctx, (uint64_t)name_len + cap, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
    if (!err)
        err = read_name(ctx, "restore_get", name_addr, name_len, &name, &ok);
    if (!err && !applet_guest_range(ctx, buf, cap, &out))
        err = applet_trap_range(ctx, "restore_get", buf, cap);
    if (err || applet->restore.ctx == NULL || !applet->restoring)
        goto done;
    if (!ok) {
        result = SEAM_RESTORE_ERR_ABSENT;
        goto done;
    }
    err = applet->restore.get(applet->restore.ctx, name, name_len, value, sizeof value, &len,
                              &result);
    applet->storage_error = err;
    if (!err && result == 0) {
        applet_guest_write(ctx, buf, value, len < cap ? len : cap);
        result = (int32_t)len;
    }
done:
    seam_secure_zero(value, sizeof value);
    if (!err)
        results[0] = (uint32_t)result;
    return err;
}

seam_err applet_host_restore_perso_add(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                       uint64_t *results) {
    seam_applet *applet = env;
    uint32_t p1 = (uint32_t)args[0], addr = (uint32_t)args[1], len = (uint32_t)args[2];
    uint8_t *data = NULL;
    int32_t result = SEAM_RESTORE_ERR_QUOTA;
    seam_err err = applet_charge(ctx, len, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
    if (!err && !applet_guest_range(ctx, addr, len, &data))
        err = applet_trap_range(ctx, "restore_perso_add", addr, len);
    if (err)
        goto done;
    if (applet->restore.ctx == NULL)
        result = SEAM_RESTORE_ERR_DENIED;
    else if (p1 <= 0xFF && len <= 255)
        err = applet->restore.perso_add(applet->restore.ctx, (uint8_t)p1, data, len, &result);
    applet->storage_error = err;
    results[0] = (uint32_t)result;
done:
    return err;
}

seam_err applet_host_personalize_command(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                         uint64_t *results) {
    seam_applet *applet = env;
    bool inside = applet->personalize != NULL && applet->running == applet->personalize;
    (void)args;
    if (inside)
        applet->perso_command = true; /* for this call only: applet_call_entry clears it */
    results[0] = inside ? 0u : (uint32_t)SEAM_RESTORE_ERR_DENIED;
    return applet_charge(ctx, 0, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
}

seam_err applet_host_upgrade_previous_version(seam_wasm_call_ctx *ctx, void *env,
                                              const uint64_t *args, uint64_t *results) {
    seam_applet *applet = env;
    (void)args;
    results[0] = applet->restore.ctx != NULL ? applet->restore.previous_version : 0;
    return applet_charge(ctx, 0, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
}

void seam_applet_bind_restore(seam_applet *applet, const seam_applet_restore_host *restore) {
    if (applet == NULL)
        return;
    if (restore != NULL)
        applet->restore = *restore;
    else
        memset(&applet->restore, 0, sizeof applet->restore);
}

bool seam_applet_has_personalize(const seam_applet *applet) {
    return applet != NULL && applet->personalize != NULL;
}

seam_err seam_applet_personalize(seam_applet *applet, const seam_apdu *command,
                                 seam_applet_result *result) {
    seam_wasm_func *func = NULL;
    if (applet != NULL)
        func = applet->personalize != NULL ? applet->personalize : applet->process;
    return applet_run_apdu(applet, func, command, result);
}

seam_err seam_applet_save_for_upgrade(seam_applet *applet, seam_applet_result *result) {
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || result == NULL)
        err = SEAM_ERR_ARG;
    else
        applet_call_entry(applet, applet->save_for_upgrade, result);
    return err;
}

seam_err seam_applet_restore_after_upgrade(seam_applet *applet, seam_applet_result *result) {
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || result == NULL) {
        err = SEAM_ERR_ARG;
    } else {
        applet->restoring = true;
        applet_call_entry(applet, applet->restore_after_upgrade, result);
        applet->restoring = false;
    }
    return err;
}
