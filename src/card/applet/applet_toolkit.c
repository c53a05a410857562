/*
 * The applet's side of the card application toolkit (applet_runtime.h; the
 * ABI is in include/seam/applet.h and docs/applet-abi.md): the host functions
 * toolkit_proactive, toolkit_profile, toolkit_message and toolkit_register,
 * and the toolkit entry points terminal_response, menu_selection,
 * event_download and timer_expiration. The queue, the terminal profile and
 * the registrations live in the card (src/card/toolkit/); the runtime only
 * checks guest ranges, charges fuel and calls the callbacks the card binds.
 */
#include <string.h>

#include "applet_int.h"

seam_err applet_host_toolkit_proactive(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                       uint64_t *results) {
    seam_applet *applet = env;
    uint32_t addr = (uint32_t)args[0], len = (uint32_t)args[1];
    uint8_t *command = NULL;
    int32_t result = SEAM_TOOLKIT_ERR_MALFORMED;
    if (!applet_charge(ctx, len, 0))
        return SEAM_ERR_WASM_TRAP;
    if (!applet_guest_range(ctx, addr, len, &command))
        return applet_trap_range(ctx, "toolkit_proactive", addr, len);
    if (applet->toolkit.ctx == NULL)
        result = SEAM_TOOLKIT_ERR_DENIED;
    else if (len <= SEAM_TOOLKIT_COMMAND_MAX)
        result = applet->toolkit.proactive(applet->toolkit.ctx, applet->toolkit.aid,
                                           applet->toolkit.aid_len, command, len);
    results[0] = (uint32_t)result;
    return SEAM_OK;
}

seam_err applet_host_toolkit_profile(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                     uint64_t *results) {
    seam_applet *applet = env;
    uint8_t profile[SEAM_TOOLKIT_COMMAND_MAX];
    size_t len = 0;
    if (applet->toolkit.ctx != NULL) /* a copy, nothing changes: read before the checks */
        len = applet->toolkit.profile(applet->toolkit.ctx, profile, sizeof profile);
    if (len > sizeof profile)
        len = sizeof profile;
    return applet_answer_bytes(ctx, "toolkit_profile", (uint32_t)args[0], (uint32_t)args[1],
                               profile, len, results);
}

seam_err applet_host_toolkit_message(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                     uint64_t *results) {
    seam_applet *applet = env;
    return applet_answer_bytes(ctx, "toolkit_message", (uint32_t)args[0], (uint32_t)args[1],
                               applet->toolkit_message, applet->toolkit_message_len, results);
}

seam_err applet_host_toolkit_register(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                      uint64_t *results) {
    seam_applet *applet = env;
    uint32_t kind = (uint32_t)args[0], id = (uint32_t)args[1], on = (uint32_t)args[2];
    int32_t result = SEAM_TOOLKIT_ERR_DENIED;
    if (!applet_charge(ctx, 0, 0))
        return SEAM_ERR_WASM_TRAP;
    if (applet->toolkit.ctx != NULL)
        result = applet->toolkit.enrol(applet->toolkit.ctx, applet->toolkit.aid,
                                       applet->toolkit.aid_len, kind, id, on != 0);
    results[0] = (uint32_t)result;
    return SEAM_OK;
}

bool seam_applet_has_toolkit_entry(const seam_applet *applet, seam_applet_toolkit_entry entry) {
    return applet != NULL && (unsigned)entry < SEAM_APPLET_TOOLKIT_ENTRIES &&
           applet->toolkit_entry[entry] != NULL;
}

seam_err seam_applet_toolkit(seam_applet *applet, seam_applet_toolkit_entry entry,
                             const uint8_t *message, size_t len, seam_applet_result *result) {
    if (applet == NULL || applet->store == NULL || result == NULL ||
        (unsigned)entry >= SEAM_APPLET_TOOLKIT_ENTRIES || (message == NULL && len > 0))
        return SEAM_ERR_ARG;
    applet->toolkit_message = message;
    applet->toolkit_message_len = len;
    applet_call_entry(applet, applet->toolkit_entry[entry], result);
    applet->toolkit_message = NULL;
    applet->toolkit_message_len = 0;
    return SEAM_OK;
}
