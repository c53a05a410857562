/*
 * The card's registry read by an applet (applet_runtime.h; the ABI is
 * seam_registry_entry in include/seam/applet.h, docs/applet-abi.md "The card's
 * registry"): the host function registry_entry. The card decides (it holds the
 * privileges): only an instance with Global Registry gets an entry; any other
 * gets SEAM_REGISTRY_ERR_DENIED and nothing in its buffer.
 */
#include <string.h>

#include "applet_int.h"

seam_err applet_host_registry_entry(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                    uint64_t *results) {
    seam_applet *applet = env;
    uint32_t index = (uint32_t)args[0], addr = (uint32_t)args[1], cap = (uint32_t)args[2];
    uint8_t entry[SEAM_REGISTRY_ENTRY_MAX];
    uint8_t *out = NULL;
    int32_t result = SEAM_REGISTRY_ERR_DENIED;
    seam_err err = SEAM_OK;
    /* a walk to index costs one unit per entry skipped; an index past any card is cheap to
       refuse, so the charge is capped at the card's bound on entries */
    if (!applet_charge(ctx, cap, index < 4096u ? index : 4096u))
        return SEAM_ERR_WASM_TRAP;
    if (!applet_guest_range(ctx, addr, cap, &out))
        return applet_trap_range(ctx, "registry_entry", addr, cap);
    if (applet->registry.ctx != NULL)
        err = applet->registry.entry(applet->registry.ctx, applet->registry.aid,
                                     applet->registry.aid_len, index, entry, &result);
    applet->storage_error = err; /* a storage failure traps: the command fails as the card's */
    if (err)
        return err;
    if (result > 0)
        applet_guest_write(ctx, addr, entry, (uint32_t)result < cap ? (uint32_t)result : cap);
    results[0] = (uint32_t)result;
    return SEAM_OK;
}
