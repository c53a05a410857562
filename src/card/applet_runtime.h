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

#include "seam/errors.h"
#include "seam/wasm.h"

#define SEAM_APPLET_MAX_PAGES      16u       /* 64 KiB pages of linear memory (1 MiB) */
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

/* Limits of an applet instance; zero fields take the defaults above. */
typedef struct {
    uint64_t fuel_per_call; /* fuel of each install/select/deselect/process call */
} seam_applet_options;

/* The outcome of one entry-point call. data points into the applet (valid
 * until its next call, rollback or free). */
typedef struct {
    uint16_t sw;         /* status word; 6F00 after a trap */
    const uint8_t *data; /* response data, NULL when data_len = 0 */
    size_t data_len;
    bool rollback;       /* the call trapped: the caller must call seam_applet_rollback */
    seam_wasm_trap trap; /* why, when rollback */
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
 * Creates an instance of module whose linear memory is image[0..pages *
 * 65536), a state committed earlier; install is not run. Errors as install,
 * and SEAM_ERR_CARD_IMAGE when pages is outside the module's memory limits.
 */
seam_err seam_applet_restore(const seam_wasm_module *module, const seam_applet_options *options,
                             const uint8_t *image, uint32_t pages, seam_applet **out);

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

#endif
