/*
 * Services between instances, the runtime's side (applet_runtime.h; the ABI
 * is in include/seam/applet.h and docs/applet-abi.md): the host functions
 * service_call and service_caller, and the entry point service. Instance A
 * asks instance B (by AID) for a service: the card (content/applet_service.c)
 * decides whether B may be called and runs B's "service" entry point, which
 * reads A's AID (service_caller) and the request (toolkit_message) and answers
 * a status word; that status word is all A gets back.
 *
 * Cost: B's budget is at most what A has left, and A pays what B spent plus
 * SEAM_SERVICE_FUEL, so one entry-point call of A, its calls included, never
 * spends more than one budget; at most SEAM_SERVICE_CALLS_MAX calls per
 * entry-point call of A.
 */
#include <string.h>

#include "applet_int.h"

seam_err applet_host_service_call(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                  uint64_t *results) {
    seam_applet *applet = env;
    uint32_t aid_addr = (uint32_t)args[0], aid_len = (uint32_t)args[1];
    uint32_t msg_addr = (uint32_t)args[2], len = (uint32_t)args[3];
    uint8_t *aid = NULL, *msg = NULL;
    uint8_t callee[16], message[SEAM_SERVICE_MESSAGE_MAX];
    int32_t result = SEAM_SERVICE_ERR_LIMIT;
    uint64_t left, used = 0;
    seam_err err = SEAM_OK;
    if (!applet_charge(ctx, (uint64_t)aid_len + len, SEAM_SERVICE_FUEL))
        return SEAM_ERR_WASM_TRAP;
    if (!applet_guest_range(ctx, aid_addr, aid_len, &aid))
        return applet_trap_range(ctx, "service_call", aid_addr, aid_len);
    if (!applet_guest_range(ctx, msg_addr, len, &msg))
        return applet_trap_range(ctx, "service_call", msg_addr, len);
    if (applet->service.ctx == NULL) {
        result = SEAM_SERVICE_ERR_DENIED;
    } else if (aid_len >= 5 && aid_len <= sizeof callee && len <= sizeof message &&
               applet->service_calls < SEAM_SERVICE_CALLS_MAX) {
        applet->service_calls++;
        memcpy(callee, aid, aid_len); /* copied: the callee cannot see or move our memory */
        memcpy(message, msg, len);
        left = seam_wasm_store_fuel(seam_wasm_ctx_store(ctx));
        err =
            applet->service.call(applet->service.ctx, applet->service.aid, applet->service.aid_len,
                                 callee, aid_len, message, len, left, &used, &result);
    }
    applet->storage_error = err; /* a storage failure traps: the command fails as the card's */
    if (err)
        return err;
    if (!seam_wasm_ctx_charge(ctx, used))
        return SEAM_ERR_WASM_TRAP;
    results[0] = (uint32_t)result;
    return SEAM_OK;
}

seam_err applet_host_service_caller(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                    uint64_t *results) {
    seam_applet *applet = env;
    return applet_answer_bytes(ctx, "service_caller", (uint32_t)args[0], (uint32_t)args[1],
                               applet->service_caller, applet->service_caller_len, results);
}

seam_err seam_applet_service(seam_applet *applet, const uint8_t *caller, size_t caller_len,
                             const uint8_t *message, size_t len, uint64_t fuel,
                             seam_applet_result *result, uint64_t *used) {
    uint64_t own;
    seam_err err;
    if (applet == NULL || applet->store == NULL || caller == NULL || caller_len == 0 ||
        caller_len > sizeof applet->service_caller || used == NULL)
        return SEAM_ERR_ARG;
    own = applet->fuel;
    if (fuel < applet->fuel)
        applet->fuel = fuel;
    memcpy(applet->service_caller, caller, caller_len);
    applet->service_caller_len = caller_len;
    err = seam_applet_toolkit(applet, SEAM_APPLET_SERVICE, message, len, result);
    *used = applet->toolkit_entry[SEAM_APPLET_SERVICE] != NULL
                ? applet->fuel - seam_wasm_store_fuel(applet->store)
                : 0;
    applet->fuel = own;
    memset(applet->service_caller, 0, sizeof applet->service_caller);
    applet->service_caller_len = 0;
    return err;
}
