/*
 * Fuzz target: arbitrary bytes through decode, validate, instantiate and a
 * call of every exported function with zero arguments, under tight limits
 * and a small fuel budget; a trap's location and its function's name (from
 * the module's name section, whatever it holds) are looked up and checked.
 * Any crash, leak or sanitizer report is a bug; every error the engine
 * returns is an acceptable outcome.
 */
#include <stddef.h>
#include <stdint.h>

#include "seam/wasm.h"

/* A located trap names a function of its module whose name, if any, is printable. */
static void check_location(const seam_wasm_trap_location *where) {
    seam_wasm_name name;
    char text[64];
    if (!where->known)
        return;
    if (!where->module)
        __builtin_trap();
    if (seam_wasm_module_func_name(where->module, where->func_index, &name) == SEAM_OK)
        seam_wasm_name_print(text, sizeof text, name);
}

static void call_exports(seam_wasm_store *store, seam_wasm_instance *inst) {
    uint32_t n = seam_wasm_instance_export_count(inst);
    for (uint32_t i = 0; i < n && i < 16; i++) {
        seam_wasm_name name;
        seam_wasm_extern x;
        if (seam_wasm_instance_export_at(inst, i, &name, &x) || x.kind != SEAM_WASM_EXTERN_FUNC)
            continue;
        seam_wasm_func *f = x.as.func;
        uint32_t np = seam_wasm_func_param_count(f), nr = seam_wasm_func_result_count(f);
        seam_wasm_value args[8], results[8];
        if (np > 8 || nr > 8)
            continue;
        for (uint32_t k = 0; k < np; k++)
            args[k] = (seam_wasm_value){seam_wasm_func_param_type(f, k), 0};
        seam_wasm_trap trap;
        if (seam_wasm_call(store, f, args, np, results, nr, &trap) == SEAM_ERR_WASM_TRAP)
            check_location(&trap.where);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_wasm_module *module = NULL;
    seam_wasm_store *store = NULL;
    seam_wasm_instance *inst = NULL;
    seam_wasm_limits limits = {.max_memory_pages = 16,
                               .max_table_size = 4096,
                               .max_call_depth = 200,
                               .value_stack_slots = 1u << 16};
    char err[160];
    if (seam_wasm_module_new(data, size, &module, err, sizeof err))
        return 0;
    if (!seam_wasm_store_new(&limits, &store)) {
        seam_wasm_store_set_fuel(store, 200000);
        seam_wasm_trap trap;
        seam_err e =
            seam_wasm_instantiate(store, module, NULL, NULL, &inst, &trap, err, sizeof err);
        if (!e)
            call_exports(store, inst);
        else if (e == SEAM_ERR_WASM_TRAP)
            check_location(&trap.where);
    }
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    return 0;
}
