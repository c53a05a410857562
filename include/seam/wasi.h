/*
 * The wasi layer: a WASI preview1 subset over the wasm engine, the
 * `wasi_snapshot_preview1` functions an ordinary wasi-libc command program
 * imports (`seam wasm run`, docs/wasi.md). It raises no errors of its own:
 * its host functions fail with the wasm layer's codes and traps.
 *
 * Supported: arguments, environment (empty unless given), writes to fd 1 and
 * fd 2, realtime and monotonic clocks, random bytes, proc_exit and
 * sched_yield. Every other preview1 function exists so that programs link,
 * and fails with the errno a program without files, sockets or preopened
 * directories would see: EBADF for a descriptor that is not open, ENOSYS
 * otherwise. Every guest pointer is checked against the caller's memory; a
 * range outside it makes the call fail with EFAULT.
 *
 * proc_exit stops the program with a SEAM_WASM_TRAP_EXIT trap whose
 * exit_code is the requested status.
 */
#ifndef SEAM_WASI_H
#define SEAM_WASI_H

#include <stdint.h>
#include <stdio.h>

#include "seam/errors.h"
#include "seam/wasm.h"

/* The WASI module name the functions are registered under. */
#define SEAM_WASI_MODULE "wasi_snapshot_preview1"

/*
 * What the program sees. Everything is borrowed and must outlive every call
 * into the instance: argv[0..argc) and envp[0..envc) ("NAME=value" strings).
 * out and err receive fd 1 and fd 2 writes; NULL means stdout and stderr.
 */
typedef struct {
    uint32_t argc;
    char *const *argv;
    uint32_t envc;
    char *const *envp;
    FILE *out;
    FILE *err;
} seam_wasi;

/* Registers every preview1 function in imports as host functions of store bound to wasi. */
seam_err seam_wasi_add_imports(seam_wasi *wasi, seam_wasm_imports *imports, seam_wasm_store *store);

#endif
