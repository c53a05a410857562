/*
 * Applet runtime, internal to the card layer: one applet instance is a wasm
 * instance of a validated package module in its own store, bound to the
 * host functions of include/seam/applet.h (docs/applet-abi.md).
 *
 * Life of an instance, as the card drives it:
 *
 *   install(module, params) or restore(module, image)  -> applet
 *   select / process(APDU)* / deselect                  -> result each
 *   after a result with rollback = false: commit the pages listed by
 *     seam_applet_dirty_pages (read them with seam_applet_memory), then
 *     seam_applet_clear_dirty
 *   after a result with rollback = true (trap or fuel exhausted, SW 6F00):
 *     seam_applet_rollback(applet, last committed image) before anything else
 *
 * Pages entirely inside the shadow stack [0, stack_end) are never listed:
 * the stack is scratch between entry-point calls. Transient buffers are host
 * memory owned by the applet; a rollback keeps them (like Java Card transient
 * arrays, they are not part of transactions).
 */
#ifndef SEAM_CARD_APPLET_RUNTIME_H
#define SEAM_CARD_APPLET_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/iso/apdu.h"
#include "seam/card.h"
#include "seam/errors.h"
#include "seam/wasm.h"

#define SEAM_APPLET_MAX_PAGES      16u       /* 64 KiB pages of linear memory (1 MiB) */
#define SEAM_APPLET_MAX_TABLE      4096u     /* table entries, all tables together (32 KiB) */
#define SEAM_APPLET_CALL_DEPTH     256u      /* nested wasm calls */
#define SEAM_APPLET_STACK_SLOTS    16384u    /* value-stack slots (128 KiB) */
#define SEAM_APPLET_FUEL           10000000u /* default fuel per entry-point call */
#define SEAM_APPLET_TRANSIENT_SIZE 1024u     /* bytes per transient buffer */
#define SEAM_APPLET_RESPONSE_MAX   65536u    /* response data bytes per command */

/* Host-function fuel: a base per call, one unit per 16 bytes handled, and a
 * flat price for each P-256 operation. */
#define SEAM_APPLET_FUEL_HOST_CALL 10u
#define SEAM_APPLET_FUEL_PER_BYTES 16u
#define SEAM_APPLET_FUEL_P256      20000u

typedef struct seam_applet seam_applet;
typedef struct seam_applet_restore_host seam_applet_restore_host;
typedef struct seam_applet_toolkit_host seam_applet_toolkit_host;
typedef struct seam_applet_service_host seam_applet_service_host;
typedef struct seam_applet_registry_host seam_applet_registry_host;

/*
 * Where an instance's diagnostics go (applet_diag.c, docs/applet-abi.md
 * "Diagnostics"): after every entry-point call its fuel, and why it failed;
 * why it could not be instantiated; its seam_debug lines when debug is set.
 */
typedef struct {
    seam_card_diag_fn fn; /* NULL: the instance makes no events */
    void *ctx;
    uint8_t aid[16]; /* the instance */
    size_t aid_len;
    bool debug; /* seam_debug text is reported (a development card); else it is dropped */
} seam_applet_diag;

/* Limits of an applet instance; zero fields take the defaults above. */
typedef struct {
    uint64_t fuel_per_call; /* fuel of each install/select/deselect/process call */
    /* the restore record to bind from the start (so that install reaches it); NULL: none */
    const seam_applet_restore_host *restore;
    const seam_applet_diag *diag; /* copied; NULL: no diagnostics */
    /* the card application toolkit (applet_toolkit.c), copied; NULL: every toolkit call
       answers SEAM_TOOLKIT_ERR_DENIED */
    const seam_applet_toolkit_host *toolkit;
    /* calls into other instances (applet_service.c), copied; NULL: every service_call
       answers SEAM_SERVICE_ERR_DENIED */
    const seam_applet_service_host *service;
    /* the card's registry (applet_registry.c), copied; NULL: every registry_entry call
       answers SEAM_REGISTRY_ERR_DENIED */
    const seam_applet_registry_host *registry;
} seam_applet_options;

/* The outcome of one entry-point call. data points into the applet (valid
 * until its next call, rollback or free). */
typedef struct {
    uint16_t sw;         /* status word; 6F00 after a trap */
    const uint8_t *data; /* response data, NULL when data_len = 0 */
    size_t data_len;
    bool rollback;       /* the call trapped: the caller must call seam_applet_rollback */
    seam_wasm_trap trap; /* why, when rollback */
    /* a storage failure inside a restore-module host call (it trapped the call):
       the caller fails the command with this error, as its own storage failure */
    seam_err storage;
    /* personalize called seam_personalize_command: the block is a command to the applet,
       not personalization data; the card does not file it (gp_perso.c) */
    bool perso_command;
} seam_applet_result;

/*
 * Creates a fresh instance of module (which must carry valid package
 * metadata and export "memory" and "process") and runs its install entry
 * point, if any, with install parameters params[0..params_len). *out is the
 * caller's, to free with seam_applet_free, whatever install answered: the
 * caller keeps it only when result->sw is 9000 and there is no rollback.
 * Errors: SEAM_ERR_CARD_PACKAGE_* / PLATFORM (metadata), SEAM_ERR_CARD_APPLET
 * (missing or mistyped export), SEAM_ERR_WASM_LINK (unknown import),
 * SEAM_ERR_WASM_LIMIT, SEAM_ERR_NOMEM; *out is NULL then.
 */
seam_err seam_applet_install(const seam_wasm_module *module, const seam_applet_options *options,
                             const uint8_t *params, size_t params_len, seam_applet_result *result,
                             seam_applet **out);

/*
 * Checks that seam_applet_install could make an applet of module, without
 * running any of its code: its package metadata, its imports (module "seam",
 * the names and signatures install binds, from the same table), the store's
 * memory and table limits, its active segments, its memory and the types of
 * its entry points (process required). Only install can tell whether a start
 * function traps. Nothing is kept. Errors: as seam_applet_install.
 */
seam_err seam_applet_check(const seam_wasm_module *module);

/* seam_applet_check, writing why it fails (e.g. "unknown import: seam.x") to
   why[0..why_size) ("" when it does not; why may be NULL). */
seam_err seam_applet_check_explain(const seam_wasm_module *module, char *why, size_t why_size);

/*
 * Creates an instance of module whose linear memory is image[0..pages *
 * 65536), a state committed earlier; install is not run. Errors as install,
 * and SEAM_ERR_CARD_IMAGE when pages is outside the module's memory limits.
 */
seam_err seam_applet_restore(const seam_wasm_module *module, const seam_applet_options *options,
                             const uint8_t *image, uint32_t pages, seam_applet **out);

/*
 * Makes applet, kept since its last commit, what seam_applet_restore would make
 * of its module and its committed image, without reading or copying the image:
 * its memory already holds it but for the pages entirely inside the shadow
 * stack, which are zeroed (no image the card writes holds them); its globals,
 * tables and segments go back to their initial state (seam_wasm_instance_reset);
 * both transient buffers are zeroed and nothing is dirty. The restore record is
 * unbound (bind it again). Errors: SEAM_ERR_ARG; SEAM_ERR_CARD_IMAGE when a page
 * outside the stack was written since the last clear (the applet then cannot
 * stand for its image: make it afresh); SEAM_ERR_CARD_APPLET when the engine
 * cannot reset it. On error the applet is only fit to be freed.
 */
seam_err seam_applet_renew(seam_applet *applet);

/*
 * seam_applet_rollback without the image, for an applet that wrote no page
 * outside its stack since its memory was last as committed (its last commit,
 * restore or rollback): what the committed image would make of it, as
 * seam_applet_renew does, but the transient buffers and the restore record
 * are kept, as a rollback keeps them. Errors: SEAM_ERR_ARG;
 * SEAM_ERR_CARD_IMAGE when a page was written (call seam_applet_rollback);
 * SEAM_ERR_CARD_APPLET when the engine cannot reset it (then as for
 * seam_applet_rollback's errors).
 */
seam_err seam_applet_rollback_unwritten(seam_applet *applet);

/*
 * The initial memory image of module: its active data segments over zeroed
 * memory of its minimum size, as a fresh instance has it before its start
 * function runs; *image (malloc'd, the caller's) is *pages * 65536 bytes, and
 * *stack_end (may be NULL) the end of its shadow stack. The card stores an
 * instance's memory as what differs from it. A failure is reported to
 * options->diag (options may be NULL) as seam_applet_restore's would be.
 * Errors: as seam_applet_check.
 */
seam_err seam_applet_initial_image(const seam_wasm_module *module,
                                   const seam_applet_options *options, uint8_t **image,
                                   uint32_t *pages, uint32_t *stack_end);

/* The initial memory image of applet's module (seam_applet_initial_image),
 * kept from seam_applet_restore_over_initial or made at the first call, until
 * the applet is freed (a rollback keeps it); *pages its size. NULL when it
 * cannot be made. */
const uint8_t *seam_applet_initial(seam_applet *applet, uint32_t *pages);

/* Writes a committed state's changes over memory[0..size), which holds the
 * initial image (zeros past it). Returns SEAM_OK or the error to fail with. */
typedef seam_err (*seam_applet_fill_fn)(void *ctx, uint8_t *memory, size_t size);

/*
 * As seam_applet_restore, for a state kept as changes to the module's initial
 * image: the instance is made with its data segments applied (its start
 * function not run), fill writes the changes over its memory of pages 64 KiB
 * pages, and the applet keeps the initial image (seam_applet_initial). One
 * instantiation, unless the memory grew past its minimum. Errors: as
 * seam_applet_restore, and what fill returned.
 */
seam_err seam_applet_restore_over_initial(const seam_wasm_module *module,
                                          const seam_applet_options *options, uint32_t pages,
                                          seam_applet_fill_fn fill, void *ctx, seam_applet **out);

/* Frees an applet and its transient buffers; NULL is allowed. The module
 * must outlive it. */
void seam_applet_free(seam_applet *applet);

/* Runs select (9000 when not exported). Errors: SEAM_ERR_ARG; a trap is a
 * result (rollback), not an error. */
seam_err seam_applet_select(seam_applet *applet, seam_applet_result *result);

/* Runs deselect (if exported), then clears the clear-on-deselect buffer
 * whatever happened. result->sw is 9000 unless it trapped. */
seam_err seam_applet_deselect(seam_applet *applet, seam_applet_result *result);

/*
 * Runs process for the command APDU apdu[0..len) (any ISO 7816-4 form).
 * Errors: SEAM_ERR_MALFORMED for an APDU that does not parse (nothing runs;
 * the card answers 6700), SEAM_ERR_ARG for NULL pointers.
 */
seam_err seam_applet_process(seam_applet *applet, const uint8_t *apdu, size_t len,
                             seam_applet_result *result);

/* seam_applet_process for a command the card already parsed: the applet sees the
 * same (CLA INS P1 P2, data, Ne). Errors: SEAM_ERR_ARG for NULL pointers. */
seam_err seam_applet_process_command(seam_applet *applet, const seam_apdu *command,
                                     seam_applet_result *result);

/* ---- the restore module (applet_restore.c; docs/restore-module.md) ---- */

/* The limits and results of include/seam/applet.h's restore functions (the same
 * values; that header is for wasm code only). */
#define SEAM_RESTORE_NAME_MAX   16u
#define SEAM_RESTORE_VALUE_MAX  2048u
#define SEAM_RESTORE_QUOTA      8192u
#define SEAM_RESTORE_ERR_QUOTA  (-1)
#define SEAM_RESTORE_ERR_ABSENT (-2)
#define SEAM_RESTORE_ERR_DENIED (-3)

/*
 * The restore-module record of the instance, as the card gives it to the
 * runtime: callbacks on ctx that answer the host functions of applet.h
 * (result: 0 or a SEAM_RESTORE_ERR_* value; a seam_err is a storage failure,
 * which traps the call and so rolls the command back).
 */
struct seam_applet_restore_host {
    void *ctx; /* NULL: no record bound; every restore call answers "denied" */
    seam_err (*put)(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *value,
                    size_t len, int32_t *result);
    /* copies at most cap bytes of the value to out; *len gets its whole length */
    seam_err (*get)(void *ctx, const uint8_t *name, size_t name_len, uint8_t *out, size_t cap,
                    size_t *len, int32_t *result);
    seam_err (*perso_add)(void *ctx, uint8_t p1, const uint8_t *data, size_t len, int32_t *result);
    uint32_t previous_version; /* major << 8 | minor during an upgrade, else 0 */
};

/* Binds the instance's record for the calls that follow (copied; NULL unbinds). */
void seam_applet_bind_restore(seam_applet *applet, const seam_applet_restore_host *restore);

/* Runs personalize for one personalization block (a STORE DATA command, parsed), or
 * process when the applet does not export it. Errors: SEAM_ERR_ARG. */
seam_err seam_applet_personalize(seam_applet *applet, const seam_apdu *command,
                                 seam_applet_result *result);

/* Runs save_for_upgrade (9000 when not exported). Errors: SEAM_ERR_ARG. */
seam_err seam_applet_save_for_upgrade(seam_applet *applet, seam_applet_result *result);

/* Runs restore_after_upgrade (9000 when not exported), the only call in which
 * restore_get reads the record. Errors: SEAM_ERR_ARG. */
seam_err seam_applet_restore_after_upgrade(seam_applet *applet, seam_applet_result *result);

/* True when the applet exports personalize. */
bool seam_applet_has_personalize(const seam_applet *applet);

/* Binds where the instance's diagnostics go for the calls that follow (copied;
   NULL: none). An instance made with options->diag has it bound already. */
void seam_applet_bind_diag(seam_applet *applet, const seam_applet_diag *diag);

/* Card reset: zeroes both transient buffers. */
void seam_applet_reset(seam_applet *applet);

/*
 * Replaces the instance by one restored from image (the last committed
 * state), discarding every memory change since. Transient buffers are kept.
 * Errors as seam_applet_restore; on error the applet is unusable except for
 * another rollback or free.
 */
seam_err seam_applet_rollback(seam_applet *applet, const uint8_t *image, uint32_t pages);

/* Linear memory: its base and its size in 64 KiB pages (for saving an
 * image); valid until the next call into the applet. */
const uint8_t *seam_applet_memory(const seam_applet *applet, uint32_t *pages);

/* End of the shadow stack: pages of 4 KiB below it are scratch. */
uint32_t seam_applet_stack_end(const seam_applet *applet);

/* Lists the 4 KiB pages written since the last clear that are not entirely
 * inside the stack, increasing, into pages[0..max); returns how many there
 * are (which may exceed max). */
size_t seam_applet_dirty_pages(const seam_applet *applet, uint32_t *pages, size_t max);

/* Forgets the dirty pages (after the caller has committed them). */
void seam_applet_clear_dirty(seam_applet *applet);

/* ---- the card application toolkit (applet_toolkit.c; docs/applet-abi.md) ---- */

/* The limits and results of include/seam/applet.h's toolkit functions (the same values). */
#define SEAM_TOOLKIT_COMMAND_MAX   255u /* bytes of one proactive command, D0 and length included */
#define SEAM_TOOLKIT_ERR_BUSY      (-1) /* the applet has a command queued or awaiting its answer */
#define SEAM_TOOLKIT_ERR_FULL      (-2) /* the card's queue is full */
#define SEAM_TOOLKIT_ERR_MALFORMED (-3) /* not a well-formed proactive command */
#define SEAM_TOOLKIT_ERR_DENIED    (-4) /* no toolkit here (no card bound, or a bad kind or id) */
#define SEAM_TOOLKIT_ERR_LIMIT     (-5) /* this applet holds its own limit of that kind */
#define SEAM_TOOLKIT_MENU_ITEM     0u   /* toolkit_register kinds: a menu item identifier */
#define SEAM_TOOLKIT_EVENT         1u   /* an event (TS 102 223 event list value) */
#define SEAM_TOOLKIT_TIMER         2u   /* a timer identifier, 1..8 */

/* The toolkit entry points an applet may export, each () -> i32. */
typedef enum {
    SEAM_APPLET_TERMINAL_RESPONSE, /* "terminal_response": the answer to its command */
    SEAM_APPLET_MENU_SELECTION,    /* "menu_selection": ENVELOPE D3 for its item */
    SEAM_APPLET_EVENT_DOWNLOAD,    /* "event_download": ENVELOPE D6 of an event it registered */
    SEAM_APPLET_TIMER_EXPIRATION,  /* "timer_expiration": ENVELOPE D7 of its timer */
    SEAM_APPLET_SERVICE,           /* "service": another instance's request (applet_service.c) */
    SEAM_APPLET_TOOLKIT_ENTRIES
} seam_applet_toolkit_entry;

/*
 * The card's toolkit as the runtime reaches it for one instance (aid): the card
 * keeps the queue, the terminal profile and who registered what; the runtime only
 * checks guest ranges and charges fuel. Results are 0 or SEAM_TOOLKIT_ERR_*.
 */
struct seam_applet_toolkit_host {
    void *ctx; /* NULL: no toolkit bound */
    uint8_t aid[16];
    size_t aid_len;
    /* queues command[0..len) (at most SEAM_TOOLKIT_COMMAND_MAX bytes) for instance aid */
    int32_t (*proactive)(void *ctx, const uint8_t *aid, size_t aid_len, const uint8_t *command,
                         size_t len);
    /* copies at most cap bytes of the terminal profile to out; returns its whole length */
    size_t (*profile)(void *ctx, uint8_t *out, size_t cap);
    /* registers (on) or releases instance aid for a menu item, event or timer */
    int32_t (*enrol)(void *ctx, const uint8_t *aid, size_t aid_len, uint32_t kind, uint32_t id,
                     bool on);
};

/*
 * Runs toolkit entry point `entry` of applet (9000 when not exported), which
 * reads message[0..len) (the TERMINAL RESPONSE's data or the ENVELOPE's BER-TLV)
 * with seam_toolkit_message. Errors: SEAM_ERR_ARG; a trap is a result.
 */
seam_err seam_applet_toolkit(seam_applet *applet, seam_applet_toolkit_entry entry,
                             const uint8_t *message, size_t len, seam_applet_result *result);

/* True when applet exports toolkit entry point `entry`. */
bool seam_applet_has_toolkit_entry(const seam_applet *applet, seam_applet_toolkit_entry entry);

/* ---- services between instances (applet_service.c; docs/applet-abi.md) ---- */

/* The limits and results of include/seam/applet.h's service functions (the same values). */
#define SEAM_SERVICE_MESSAGE_MAX 64u   /* bytes of a request */
#define SEAM_SERVICE_CALLS_MAX   4u    /* service calls per entry-point call of the caller */
#define SEAM_SERVICE_FUEL        1000u /* the caller's price of a call, beside the callee's fuel */
#define SEAM_SERVICE_ERR_ABSENT  (-1)  /* no such instance, not selectable, no "service" */
#define SEAM_SERVICE_ERR_DENIED  (-2)  /* another security domain's instance, or no calls here */
#define SEAM_SERVICE_ERR_BUSY    (-3)  /* a service call is running (no nesting), or itself */
#define SEAM_SERVICE_ERR_LIMIT   (-4)  /* a request or AID too long, or too many calls */

/*
 * The card's side of a service call for one instance (aid, the caller): runs the
 * "service" entry point of instance callee with message[0..len), letting it spend at
 * most fuel; *used gets what it spent, *result its status word or SEAM_SERVICE_ERR_*.
 * A seam_err is a storage failure (it traps the caller's call).
 */
struct seam_applet_service_host {
    void *ctx; /* NULL: no calls */
    uint8_t aid[16];
    size_t aid_len;
    seam_err (*call)(void *ctx, const uint8_t *caller, size_t caller_len, const uint8_t *callee,
                     size_t callee_len, const uint8_t *message, size_t len, uint64_t fuel,
                     uint64_t *used, int32_t *result);
};

/*
 * Runs applet's "service" entry point for a request of instance caller[0..caller_len)
 * (what seam_service_caller answers) with message[0..len) (what seam_toolkit_message
 * answers), with a fuel budget of at most fuel (less than its own: the caller's
 * remaining fuel); *used gets the fuel it spent. 9000 when not exported.
 * Errors: SEAM_ERR_ARG; a trap is a result.
 */
seam_err seam_applet_service(seam_applet *applet, const uint8_t *caller, size_t caller_len,
                             const uint8_t *message, size_t len, uint64_t fuel,
                             seam_applet_result *result, uint64_t *used);

/* ---- the card's registry (applet_registry.c; docs/applet-abi.md) ---- */

/* The limits and results of include/seam/applet.h's registry_entry (the same values). */
/* kind, life cycle, version (2), LV AID, LV SD AID, LV package AID, size (4) */
#define SEAM_REGISTRY_ENTRY_MAX  59u
#define SEAM_REGISTRY_DOMAIN     1u /* the kinds of entries */
#define SEAM_REGISTRY_PACKAGE    2u
#define SEAM_REGISTRY_INSTANCE   3u
#define SEAM_REGISTRY_RESTORE    4u
#define SEAM_REGISTRY_END        (-1) /* past the last entry */
#define SEAM_REGISTRY_ERR_DENIED (-2) /* the caller does not hold Global Registry */

/*
 * The card's side of registry_entry for one instance (aid, the caller): writes entry
 * index into out[0..SEAM_REGISTRY_ENTRY_MAX) and sets *result to its length, or to
 * SEAM_REGISTRY_END / SEAM_REGISTRY_ERR_DENIED (nothing written). A seam_err is a
 * storage failure (it traps the caller's call).
 */
struct seam_applet_registry_host {
    void *ctx; /* NULL: refused */
    uint8_t aid[16];
    size_t aid_len;
    seam_err (*entry)(void *ctx, const uint8_t *caller, size_t caller_len, uint32_t index,
                      uint8_t out[SEAM_REGISTRY_ENTRY_MAX], int32_t *result);
};

#endif
