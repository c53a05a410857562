/*
 * The inside of an applet instance, shared by the files of the applet runtime
 * (applet_runtime.c: instances, the APDU and crypto host functions, entry
 * points; applet_restore.c: the restore-module host functions and the
 * personalization and upgrade entry points; applet_diag.c: diagnostics and
 * seam_debug). Internal to the card layer.
 */
#ifndef SEAM_CARD_APPLET_INT_H
#define SEAM_CARD_APPLET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/iso/apdu.h"
#include "applet_runtime.h"
#include "seam/wasm.h"

#define SW_OK      0x9000u
#define SW_UNKNOWN 0x6F00u

/* Transient buffer kinds, as include/seam/applet.h numbers them. */
enum { TRANSIENT_RESET = 0, TRANSIENT_DESELECT = 1, TRANSIENT_KINDS = 2 };

/* AES mode bits, as include/seam/applet.h defines them. */
#define AES_CBC     1u
#define AES_DECRYPT 2u

struct seam_applet {
    const seam_wasm_module *module;
    uint64_t fuel;
    seam_wasm_store *store;
    seam_wasm_instance *instance;
    seam_wasm_memory *memory;
    seam_wasm_func *install;
    seam_wasm_func *select;
    seam_wasm_func *deselect;
    seam_wasm_func *process;
    seam_wasm_func *personalize; /* optional entry points of the restore module */
    seam_wasm_func *save_for_upgrade;
    seam_wasm_func *restore_after_upgrade;
    seam_wasm_func *toolkit_entry[SEAM_APPLET_TOOLKIT_ENTRIES]; /* optional, by entry */
    bool checking;     /* seam_applet_check: instantiate without the start function */
    bool fresh_memory; /* seam_applet_initial_image: the same, failures reported */
    seam_applet_restore_host restore; /* bound by the card; restore.ctx NULL when none */
    bool restoring;                   /* restore_after_upgrade is running: restore_get allowed */
    bool perso_command;               /* the running personalize called personalize_command */
    seam_err storage_error;           /* a restore callback's storage failure in the running call */
    seam_applet_toolkit_host toolkit; /* bound by the card; toolkit.ctx NULL when none */
    const uint8_t *toolkit_message;   /* the running toolkit entry point's message */
    size_t toolkit_message_len;
    seam_applet_service_host service; /* bound by the card; service.ctx NULL when none */
    uint8_t service_caller[16];       /* inside "service": the calling instance */
    size_t service_caller_len;
    uint32_t service_calls;             /* service_call calls in the running entry-point call */
    seam_applet_registry_host registry; /* bound by the card; registry.ctx NULL when none */
    uint32_t stack_end;
    uint8_t *initial; /* the module's initial memory image (seam_applet_initial), or NULL */
    uint32_t initial_pages;
    uint8_t transient[TRANSIENT_KINDS][SEAM_APPLET_TRANSIENT_SIZE];
    /* The command of the running call. */
    uint8_t header[SEAM_APDU_HEADER_LEN];
    const uint8_t *command_data;
    size_t command_nc;
    size_t command_ne;
    const uint8_t *params;
    size_t params_len;
    /* The response being built. */
    uint8_t *response;
    size_t response_len;
    /* Diagnostics (applet_diag.c): where they go, and the running call's
       seam_debug lines shown and dropped. */
    seam_applet_diag diag;
    const seam_wasm_func *running; /* the entry point being called, NULL between calls */
    uint32_t debug_lines;
    uint32_t debug_dropped;
};

/* Traps the running call with a message naming host function fn and the bad range. */
seam_err applet_trap_range(seam_wasm_call_ctx *ctx, const char *fn, uint64_t addr, uint64_t len);
/* Points *p at guest bytes [addr, addr + len); false when outside linear memory. */
bool applet_guest_range(seam_wasm_call_ctx *ctx, uint64_t addr, uint64_t len, uint8_t **p);
/* Charges a host call's fuel (a base, one unit per 16 bytes, extra); false when exhausted. */
bool applet_charge(seam_wasm_call_ctx *ctx, uint64_t bytes, uint64_t extra);
/* Copies data into the guest at addr (range already checked) and marks it dirty. */
void applet_guest_write(seam_wasm_call_ctx *ctx, uint64_t addr, const void *data, size_t len);
/* The body of host function fn (buf, cap) -> length that hands the guest data[0..len):
   charges cap bytes, traps when [buf, buf + cap) is outside memory, copies what fits and
   answers len in results[0]. */
seam_err applet_answer_bytes(seam_wasm_call_ctx *ctx, const char *fn, uint32_t buf, uint32_t cap,
                             const void *data, size_t len, uint64_t *results);
/* Calls entry point func (NULL: answers 9000) with fresh fuel and fills *result. */
void applet_call_entry(seam_applet *applet, seam_wasm_func *func, seam_applet_result *result);
/* Runs func for the command APDU apdu[0..len). Errors: SEAM_ERR_MALFORMED, SEAM_ERR_ARG. */
seam_err applet_run_command(seam_applet *applet, seam_wasm_func *func, const uint8_t *apdu,
                            size_t len, seam_applet_result *result);
/* Runs func for a parsed command. Errors: SEAM_ERR_ARG. */
seam_err applet_run_apdu(seam_applet *applet, seam_wasm_func *func, const seam_apdu *command,
                         seam_applet_result *result);

/* Diagnostics (applet_diag.c). */
/* The name of the entry point func of applet ("process", ...), "?" if none. */
const char *applet_entry_name(const seam_applet *applet, const seam_wasm_func *func);
/* Reports how entry point func's call ended: its fuel, and why it failed when
   result->rollback (bad_sw: it returned value, not a status word). */
void applet_diag_call_done(seam_applet *applet, seam_wasm_func *func,
                           const seam_applet_result *result, bool bad_sw, uint64_t value);
/* Reports why instantiating the applet failed: e, the engine's text, a trap. */
void applet_diag_instantiate_failed(seam_applet *applet, seam_err e, const char *text,
                                    const seam_wasm_trap *trap);
/* seam_debug(text, len): shows a line on a development card; never fails. */
seam_err applet_host_debug(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                           uint64_t *results);

/* The restore-module host functions (applet_restore.c), signatures as the engine's;
   a storage failure of the card's callback traps the call (storage_error keeps it). */
/* seam_restore_put: sets an entry of the bound record; SEAM_RESTORE_ERR_* results. */
seam_err applet_host_restore_put(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results);
/* seam_restore_get: reads an entry, only inside restore_after_upgrade. */
seam_err applet_host_restore_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results);
/* seam_restore_perso_add: appends a personalization block to the bound record. */
seam_err applet_host_restore_perso_add(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                       uint64_t *results);
/* seam_personalize_command: inside personalize, marks the block a command (not filed). */
seam_err applet_host_personalize_command(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                         uint64_t *results);
/* seam_upgrade_previous_version: the replaced version during an upgrade, else 0. */
seam_err applet_host_upgrade_previous_version(seam_wasm_call_ctx *ctx, void *env,
                                              const uint64_t *args, uint64_t *results);

/* The toolkit host functions (applet_toolkit.c), signatures as the engine's. */
/* seam_toolkit_proactive: queues a proactive command; SEAM_TOOLKIT_ERR_* results. */
seam_err applet_host_toolkit_proactive(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                       uint64_t *results);
/* seam_toolkit_profile: copies the terminal profile; returns its length. */
seam_err applet_host_toolkit_profile(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                     uint64_t *results);
/* seam_toolkit_message: copies the running toolkit entry point's message; its length. */
seam_err applet_host_toolkit_message(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                     uint64_t *results);
/* seam_service_call: runs another instance's service entry point (applet_service.c). */
seam_err applet_host_service_call(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                  uint64_t *results);
/* seam_service_caller: inside service, the calling instance's AID. */
seam_err applet_host_service_caller(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                    uint64_t *results);
/* seam_toolkit_register: registers or releases a menu item, event or timer. */
seam_err applet_host_toolkit_register(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                      uint64_t *results);
/* seam_registry_entry: one entry of the card's registry, Global Registry only
   (applet_registry.c). */
seam_err applet_host_registry_entry(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                    uint64_t *results);

#endif
