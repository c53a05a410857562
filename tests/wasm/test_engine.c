/*
 * The engine as the card uses it: metering, persistence hooks, host binding,
 * limits, isolation and trap reasons (requirement X3: applets are sandboxed
 * WebAssembly modules; X6: bad input gets a clear error). Conformance to
 * the specification itself is checked by the official suite (scripts/spec.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/wasm.h"

typedef struct {
    seam_wasm_module *module;
    seam_wasm_store *store;
    seam_wasm_instance *instance;
} loaded;

static uint8_t *read_module(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", SEAM_TEST_MODULES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)n);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return bytes;
}

static seam_wasm_module *module_named(const char *name) {
    size_t len;
    uint8_t *bytes = read_module(name, &len);
    seam_wasm_module *m = NULL;
    char err[160];
    seam_err e = seam_wasm_module_new(bytes, len, &m, err, sizeof err);
    free(bytes);
    if (e)
        fail_msg("%s: %s", name, err);
    return m;
}

static loaded load(const char *name, const seam_wasm_limits *limits) {
    loaded l = {0};
    char err[160];
    l.module = module_named(name);
    assert_int_equal(seam_wasm_store_new(limits, &l.store), SEAM_OK);
    seam_err e =
        seam_wasm_instantiate(l.store, l.module, NULL, NULL, &l.instance, NULL, err, sizeof err);
    if (e)
        fail_msg("instantiate %s: %s", name, err);
    return l;
}

static void unload(loaded *l) {
    seam_wasm_store_free(l->store);
    seam_wasm_module_free(l->module);
}

static seam_wasm_func *export_func(seam_wasm_instance *inst, const char *name) {
    seam_wasm_extern x;
    assert_int_equal(seam_wasm_instance_export(inst, seam_wasm_name_of(name), &x), SEAM_OK);
    assert_int_equal(x.kind, SEAM_WASM_EXTERN_FUNC);
    return x.as.func;
}

static seam_wasm_value i32(uint32_t v) {
    return (seam_wasm_value){SEAM_WASM_I32, v};
}

/* Calls an export taking up to two i32 and returning one i32 (or none). */
static seam_err call_i32(loaded *l, const char *name, int nargs, uint32_t a, uint32_t b,
                         uint32_t *result, seam_wasm_trap *trap) {
    seam_wasm_value args[2] = {i32(a), i32(b)}, out[1] = {{0}};
    seam_wasm_func *f = export_func(l->instance, name);
    seam_err e = seam_wasm_call(l->store, f, args, (uint32_t)nargs, out,
                                seam_wasm_func_result_count(f), trap);
    if (!e && result)
        *result = (uint32_t)out[0].bits;
    return e;
}

/* ---- metering ------------------------------------------------------------------ */

static void fuel_exhaustion_is_a_distinct_trap_and_the_engine_keeps_working(void **state) {
    (void)state;
    loaded l = load("counter", NULL);
    seam_wasm_trap trap = {0};
    uint32_t sum = 0;
    seam_wasm_store_set_fuel(l.store, 10000);
    assert_int_equal(call_i32(&l, "spin", 0, 0, 0, NULL, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_FUEL_EXHAUSTED);
    assert_string_equal(trap.message, "fuel exhausted");
    assert_int_equal(seam_wasm_store_fuel(l.store), 0);
    /* the next call gets a fresh budget and runs normally */
    assert_int_equal(call_i32(&l, "add", 2, 40, 2, &sum, NULL), SEAM_OK);
    assert_int_equal(sum, 42);
    assert_true(seam_wasm_store_fuel(l.store) < 10000);
    unload(&l);
}

static uint64_t fuel_used_by_count(loaded *l, uint32_t n) {
    uint32_t got = 0;
    seam_wasm_store_set_fuel(l->store, 1000000);
    assert_int_equal(call_i32(l, "count", 1, n, 0, &got, NULL), SEAM_OK);
    assert_int_equal(got, n);
    return 1000000 - seam_wasm_store_fuel(l->store);
}

static void fuel_grows_linearly_with_the_work_done(void **state) {
    (void)state;
    loaded l = load("counter", NULL);
    uint64_t f100 = fuel_used_by_count(&l, 100);
    uint64_t f200 = fuel_used_by_count(&l, 200);
    uint64_t f300 = fuel_used_by_count(&l, 300);
    assert_true(f100 > 100); /* at least one unit per iteration */
    assert_true(f200 > f100);
    assert_int_equal(f300 - f200, f200 - f100); /* the same cost per iteration */
    unload(&l);
}

static void an_unlimited_budget_still_reports_what_was_used(void **state) {
    (void)state;
    loaded l = load("counter", NULL); /* default budget: UINT64_MAX */
    uint32_t got = 0;
    assert_int_equal(call_i32(&l, "count", 1, 100, 0, &got, NULL), SEAM_OK);
    uint64_t used = UINT64_MAX - seam_wasm_store_fuel(l.store);
    assert_true(used > 100 && used < 10000);
    assert_int_equal(used, fuel_used_by_count(&l, 100));
    unload(&l);
}

static void metering_off_translates_code_without_charges(void **state) {
    (void)state;
    seam_wasm_limits limits = {.metering_off = true};
    loaded l = load("counter", &limits);
    uint32_t got = 0;
    seam_wasm_store_set_fuel(l.store, 10);
    assert_int_equal(call_i32(&l, "count", 1, 5000, 0, &got, NULL), SEAM_OK);
    assert_int_equal(got, 5000);
    unload(&l);
}

/* ---- persistence hooks ------------------------------------------------------------- */

static size_t dirty(loaded *l, uint32_t *pages, size_t max) {
    return seam_wasm_memory_dirty_pages(seam_wasm_instance_memory(l->instance), pages, max);
}

static void dirty_pages_name_exactly_the_pages_written(void **state) {
    (void)state;
    loaded l = load("counter", NULL);
    seam_wasm_memory *mem = seam_wasm_instance_memory(l.instance);
    uint32_t pages[40];
    /* instantiation wrote the data segment into page 0 */
    assert_int_equal(dirty(&l, pages, 40), 1);
    assert_int_equal(pages[0], 0);
    seam_wasm_memory_clear_dirty(mem);
    assert_int_equal(dirty(&l, pages, 40), 0);

    assert_int_equal(call_i32(&l, "poke", 2, 0x5004, 7, NULL, NULL), SEAM_OK);
    assert_int_equal(call_i32(&l, "poke", 2, 0x1ffe, 0x01020304, NULL, NULL), SEAM_OK);
    assert_int_equal(dirty(&l, pages, 40), 3); /* the second store straddles pages 1 and 2 */
    assert_int_equal(pages[0], 1);
    assert_int_equal(pages[1], 2);
    assert_int_equal(pages[2], 5);

    /* reading marks nothing; growing marks every new page */
    seam_wasm_memory_clear_dirty(mem);
    uint32_t byte = 0, old = 0;
    assert_int_equal(call_i32(&l, "peek", 1, 0x5004, 0, &byte, NULL), SEAM_OK);
    assert_int_equal(byte, 7);
    assert_int_equal(dirty(&l, pages, 40), 0);
    assert_int_equal(call_i32(&l, "grow", 1, 1, 0, &old, NULL), SEAM_OK);
    assert_int_equal(old, 2);
    assert_int_equal(dirty(&l, pages, 40), 16);
    assert_int_equal(pages[0], 32);
    unload(&l);
}

static void an_instance_continues_from_a_saved_memory_image(void **state) {
    (void)state;
    seam_wasm_module *m = module_named("start");
    seam_wasm_store *s = NULL;
    seam_wasm_instance *fresh = NULL, *restored = NULL;
    seam_wasm_value arg, out;
    assert_int_equal(seam_wasm_store_new(NULL, &s), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, NULL, &fresh, NULL, NULL, 0), SEAM_OK);
    arg = i32(100);
    assert_int_equal(seam_wasm_call(s, export_func(fresh, "peek"), &arg, 1, &out, 1, NULL), 0);
    assert_int_equal(out.bits, 0x2a); /* the data segment */
    arg = i32(200);
    assert_int_equal(seam_wasm_call(s, export_func(fresh, "peek"), &arg, 1, &out, 1, NULL), 0);
    assert_int_equal(out.bits, 99); /* the start function */

    uint8_t *image = calloc(1, 65536);
    assert_non_null(image);
    image[100] = 0x11;
    seam_wasm_instance_options opt = {
        .memory_image = image, .memory_image_pages = 1, .skip_start = true};
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, &opt, &restored, NULL, NULL, 0), SEAM_OK);
    free(image);
    arg = i32(100);
    assert_int_equal(seam_wasm_call(s, export_func(restored, "peek"), &arg, 1, &out, 1, NULL), 0);
    assert_int_equal(out.bits, 0x11); /* the image, not the data segment */
    arg = i32(200);
    assert_int_equal(seam_wasm_call(s, export_func(restored, "peek"), &arg, 1, &out, 1, NULL), 0);
    assert_int_equal(out.bits, 0); /* start did not run */
    uint32_t pages[4];
    assert_int_equal(seam_wasm_memory_dirty_pages(seam_wasm_instance_memory(restored), pages, 4),
                     0);

    /* an image smaller than the module's minimum is refused */
    uint8_t none[1] = {0};
    seam_wasm_instance_options bad = {.memory_image = none, .memory_image_pages = 0};
    seam_wasm_instance *refused = NULL;
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, &bad, &refused, NULL, NULL, 0),
                     SEAM_ERR_WASM_LIMIT);
    assert_null(refused);
    seam_wasm_store_free(s);
    seam_wasm_module_free(m);
}

/* An instance kept between uses and reset is the one an image would make again: its
   global, table and segments as instantiated, its memory as it is. */
static void a_reset_instance_is_as_instantiated_but_for_its_memory(void **state) {
    (void)state;
    seam_wasm_module *m = module_named("reset");
    uint8_t *image = calloc(1, 65536);
    seam_wasm_store *s = NULL;
    seam_wasm_instance *inst = NULL;
    seam_wasm_value arg, out;
    seam_wasm_trap trap;
    loaded l;
    assert_non_null(image);
    image[100] = 0x11;
    seam_wasm_instance_options opt = {
        .memory_image = image, .memory_image_pages = 1, .skip_start = true};
    assert_int_equal(seam_wasm_store_new(NULL, &s), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, &opt, &inst, NULL, NULL, 0), SEAM_OK);
    free(image);
    l = (loaded){m, s, inst};
    uint32_t r = 0;
    /* change everything but memory: the global, the table's size and entries, the drops */
    assert_int_equal(call_i32(&l, "bump", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 8);
    assert_int_equal(call_i32(&l, "grow", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 5);
    assert_int_equal(call_i32(&l, "clobber", 0, 0, 0, NULL, NULL), SEAM_OK);
    assert_int_equal(call_i32(&l, "call0", 0, 0, 0, &r, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_UNINITIALIZED_ELEMENT);
    assert_int_equal(call_i32(&l, "drop", 0, 0, 0, NULL, NULL), SEAM_OK);
    assert_int_equal(call_i32(&l, "init", 0, 0, 0, &r, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(call_i32(&l, "poke", 1, 0x22, 0, NULL, NULL), SEAM_OK);

    assert_int_equal(seam_wasm_instance_reset(inst), SEAM_OK);
    assert_int_equal(call_i32(&l, "bump", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 8); /* from 7 again */
    assert_int_equal(call_i32(&l, "call0", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 7); /* the active segment written again */
    assert_int_equal(call_i32(&l, "grow", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 5); /* 2 again, then 3 more */
    assert_int_equal(call_i32(&l, "init", 0, 0, 0, &r, NULL), SEAM_OK);
    assert_int_equal(r, 'h'); /* neither segment dropped any more */
    arg = i32(100);
    assert_int_equal(seam_wasm_call(s, export_func(inst, "peek"), &arg, 1, &out, 1, NULL), 0);
    assert_int_equal(out.bits, 0x22); /* memory is the embedder's: kept */
    assert_int_equal(seam_wasm_instance_reset(NULL), SEAM_ERR_ARG);
    unload(&l);
}

/* ---- host binding ---------------------------------------------------------------------- */

static seam_err host_apdu_read(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    const uint8_t *apdu = env;
    seam_wasm_memory *mem = seam_wasm_ctx_memory(ctx);
    if (seam_wasm_memory_write(mem, (uint32_t)args[0], apdu, (uint32_t)args[1])) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "apdu buffer outside memory");
        return SEAM_ERR_WASM_TRAP;
    }
    results[0] = (uint32_t)args[1];
    return SEAM_OK;
}

static seam_err host_fail(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                          uint64_t *results) {
    (void)env, (void)args, (void)results;
    seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "the applet asked for something refused");
    return SEAM_ERR_WASM_TRAP;
}

static void host_functions_bind_by_name_and_signature(void **state) {
    (void)state;
    static const uint8_t apdu[8] = {0x80, 0x50, 0, 0, 8, 0, 0, 0};
    seam_wasm_module *m = module_named("host");
    seam_wasm_store *s = NULL;
    seam_wasm_imports *im = NULL;
    seam_wasm_instance *inst = NULL;
    seam_wasm_value out;
    seam_wasm_trap trap = {0};
    assert_int_equal(seam_wasm_store_new(NULL, &s), SEAM_OK);
    assert_int_equal(seam_wasm_imports_new(&im), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"),
                                                SEAM_WASM_NAME("apdu_read"), "ii->i",
                                                host_apdu_read, (void *)apdu),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"),
                                                SEAM_WASM_NAME("fail"), "->", host_fail, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, im, NULL, &inst, NULL, NULL, 0), SEAM_OK);
    assert_int_equal(seam_wasm_call(s, export_func(inst, "sum_apdu"), NULL, 0, &out, 1, NULL),
                     SEAM_OK);
    assert_int_equal(out.bits, 0x80 + 0x50);
    /* a host failure stops the applet with the host's reason; the store stays usable */
    assert_int_equal(seam_wasm_call(s, export_func(inst, "call_fail"), NULL, 0, &out, 1, &trap),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_HOST);
    assert_string_equal(trap.message, "the applet asked for something refused");
    assert_int_equal(seam_wasm_call(s, export_func(inst, "read_apdu"), NULL, 0, &out, 1, NULL),
                     SEAM_OK);
    assert_int_equal(out.bits, 8);
    /* a signature that is not a signature is refused */
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"), SEAM_WASM_NAME("x"),
                                                "iq->", host_fail, NULL),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"), SEAM_WASM_NAME("x"),
                                                "ii", host_fail, NULL),
                     SEAM_ERR_ARG);
    seam_wasm_imports_free(im);
    seam_wasm_store_free(s);
    seam_wasm_module_free(m);
}

static void a_mismatched_or_missing_import_is_a_link_error_naming_it(void **state) {
    (void)state;
    seam_wasm_module *m = module_named("host");
    seam_wasm_store *s = NULL;
    seam_wasm_imports *im = NULL;
    seam_wasm_instance *inst = NULL;
    char err[160];
    assert_int_equal(seam_wasm_store_new(NULL, &s), SEAM_OK);
    assert_int_equal(seam_wasm_imports_new(&im), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"),
                                                SEAM_WASM_NAME("apdu_read"), "i->i", host_apdu_read,
                                                NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"),
                                                SEAM_WASM_NAME("fail"), "->", host_fail, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, im, NULL, &inst, NULL, err, sizeof err),
                     SEAM_ERR_WASM_LINK);
    assert_non_null(strstr(err, "seam.apdu_read"));
    assert_null(inst);
    seam_wasm_imports_free(im);

    assert_int_equal(seam_wasm_imports_new(&im), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(im, s, SEAM_WASM_NAME("seam"),
                                                SEAM_WASM_NAME("apdu_read"), "ii->i",
                                                host_apdu_read, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, im, NULL, &inst, NULL, err, sizeof err),
                     SEAM_ERR_WASM_LINK);
    assert_non_null(strstr(err, "unknown import seam.fail"));
    seam_wasm_imports_free(im);
    seam_wasm_store_free(s);
    seam_wasm_module_free(m);
}

/* ---- limits and safety ------------------------------------------------------------------- */

static void call_depth_limit_traps_and_the_store_recovers(void **state) {
    (void)state;
    seam_wasm_limits limits = {.max_call_depth = 50};
    loaded l = load("counter", &limits);
    seam_wasm_trap trap = {0};
    uint32_t sum = 0;
    assert_int_equal(call_i32(&l, "deep", 1, 0, 0, NULL, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED);
    assert_int_equal(call_i32(&l, "add", 2, 1, 2, &sum, NULL), SEAM_OK);
    assert_int_equal(sum, 3);
    unload(&l);
}

static void value_stack_limit_traps_before_overflowing(void **state) {
    (void)state;
    seam_wasm_limits limits = {.value_stack_slots = 32};
    loaded l = load("counter", &limits);
    seam_wasm_trap trap = {0};
    seam_wasm_value out;
    assert_int_equal(
        seam_wasm_call(l.store, export_func(l.instance, "many_locals"), NULL, 0, &out, 1, &trap),
        SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED);
    unload(&l);
}

static void memory_limit_caps_instantiation_and_growth(void **state) {
    (void)state;
    seam_wasm_limits limits = {.max_memory_pages = 3};
    loaded l = load("counter", &limits);
    uint32_t old = 0;
    assert_int_equal(call_i32(&l, "grow", 1, 1, 0, &old, NULL), SEAM_OK);
    assert_int_equal(old, 2);
    assert_int_equal(call_i32(&l, "grow", 1, 1, 0, &old, NULL), SEAM_OK);
    assert_int_equal(old, UINT32_MAX); /* -1: refused, memory unchanged */
    assert_int_equal(seam_wasm_memory_size(seam_wasm_instance_memory(l.instance)), 3 * 65536);
    unload(&l);

    seam_wasm_limits tiny = {.max_memory_pages = 2};
    seam_wasm_module *m = module_named("big_memory");
    seam_wasm_store *s = NULL;
    seam_wasm_instance *inst = NULL;
    assert_int_equal(seam_wasm_store_new(&tiny, &s), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, NULL, &inst, NULL, NULL, 0),
                     SEAM_ERR_WASM_LIMIT);
    seam_wasm_store_free(s);
    seam_wasm_module_free(m);
}

static void traps_carry_a_reason_code_and_text(void **state) {
    (void)state;
    loaded l = load("counter", NULL);
    seam_wasm_trap trap = {0};
    assert_int_equal(call_i32(&l, "div", 2, 1, 0, NULL, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO);
    assert_string_equal(trap.message, "integer divide by zero");
    assert_int_equal(call_i32(&l, "div", 2, 0x80000000u, UINT32_MAX, NULL, &trap),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_INTEGER_OVERFLOW);
    assert_int_equal(call_i32(&l, "peek", 1, 2 * 65536, 0, NULL, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(call_i32(&l, "poke", 2, 2 * 65536 - 2, 1, NULL, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS);
    unload(&l);
}

static void calls_with_the_wrong_arguments_are_refused(void **state) {
    (void)state;
    loaded l = load("counter", NULL);
    seam_wasm_value args[2] = {i32(1), {SEAM_WASM_I64, 2}}, out;
    seam_wasm_func *add = export_func(l.instance, "add");
    assert_int_equal(seam_wasm_call(l.store, add, args, 2, &out, 1, NULL), SEAM_ERR_WASM_SIGNATURE);
    assert_int_equal(seam_wasm_call(l.store, add, args, 1, &out, 1, NULL), SEAM_ERR_WASM_SIGNATURE);
    seam_wasm_extern x;
    assert_int_equal(seam_wasm_instance_export(l.instance, SEAM_WASM_NAME("no_such_export"), &x),
                     SEAM_ERR_WASM_EXPORT);
    unload(&l);
}

static void instances_never_share_memory(void **state) {
    (void)state;
    /* X3: two instances of one package in one store, each with its own memory */
    seam_wasm_module *m = module_named("counter");
    seam_wasm_store *s = NULL;
    seam_wasm_instance *a = NULL, *b = NULL;
    assert_int_equal(seam_wasm_store_new(NULL, &s), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, NULL, &a, NULL, NULL, 0), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(s, m, NULL, NULL, &b, NULL, NULL, 0), SEAM_OK);
    seam_wasm_value args[2] = {i32(64), i32(0x5a5a5a5a)}, out;
    assert_int_equal(seam_wasm_call(s, export_func(a, "poke"), args, 2, NULL, 0, NULL), SEAM_OK);
    assert_int_equal(seam_wasm_call(s, export_func(b, "peek"), args, 1, &out, 1, NULL), SEAM_OK);
    assert_int_equal(out.bits, 0);
    assert_int_equal(seam_wasm_call(s, export_func(a, "peek"), args, 1, &out, 1, NULL), SEAM_OK);
    assert_int_equal(out.bits, 0x5a);
    assert_ptr_not_equal(seam_wasm_instance_memory(a), seam_wasm_instance_memory(b));
    seam_wasm_store_free(s);
    seam_wasm_module_free(m);
}

static void malformed_and_invalid_modules_are_told_apart(void **state) {
    (void)state;
    static const uint8_t wrong_version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    static const uint8_t truncated[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60};
    seam_wasm_module *m = NULL;
    char err[160];
    assert_int_equal(seam_wasm_module_new(wrong_version, sizeof wrong_version, &m, err, sizeof err),
                     SEAM_ERR_WASM_MALFORMED);
    assert_string_equal(err, "unknown binary version");
    assert_int_equal(seam_wasm_module_new(truncated, sizeof truncated, &m, err, sizeof err),
                     SEAM_ERR_WASM_MALFORMED);
    assert_null(m);
    size_t len;
    uint8_t *bytes = read_module("invalid", &len);
    assert_int_equal(seam_wasm_module_new(bytes, len, &m, err, sizeof err), SEAM_ERR_WASM_INVALID);
    assert_non_null(strstr(err, "type mismatch"));
    assert_null(m);
    /* every cut inside a section is refused (a cut between sections may leave a
       smaller valid module); the prefix is allocated at its size so ASan sees over-reads */
    free(bytes);
    bytes = read_module("counter", &len);
    uint8_t boundary[4096] = {0};
    for (size_t pos = 8; pos < len && pos < sizeof boundary;) {
        boundary[pos] = 1;
        size_t size = 0, shift = 0, at = pos + 1;
        while (bytes[at] & 0x80)
            size |= (size_t)(bytes[at++] & 0x7f) << shift, shift += 7;
        size |= (size_t)bytes[at++] << shift;
        pos = at + size;
    }
    size_t refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *prefix = malloc(cut ? cut : 1);
        memcpy(prefix, bytes, cut);
        seam_err e = seam_wasm_module_new(prefix, cut, &m, NULL, 0);
        free(prefix);
        if (cut < 8 || !boundary[cut]) {
            assert_int_not_equal(e, SEAM_OK);
            assert_null(m);
            refused++;
        }
        seam_wasm_module_free(m);
        m = NULL;
    }
    assert_true(refused > len / 2);
    free(bytes);
}

static void fuzzer_findings_stay_fixed(void **state) {
    (void)state;
    /* tests/wasm/regressions: inputs the fuzzer once crashed the decoder with */
    static const struct {
        const char *file;
        seam_err expected;
    } cases[] = {
        {"start-without-type-section.wasm", SEAM_ERR_WASM_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", SEAM_TEST_REGRESSIONS, cases[i].file);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t bytes[4096];
        size_t len = fread(bytes, 1, sizeof bytes, f);
        fclose(f);
        seam_wasm_module *m = NULL;
        assert_int_equal(seam_wasm_module_new(bytes, len, &m, NULL, 0), cases[i].expected);
        assert_null(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fuel_exhaustion_is_a_distinct_trap_and_the_engine_keeps_working),
        cmocka_unit_test(fuel_grows_linearly_with_the_work_done),
        cmocka_unit_test(an_unlimited_budget_still_reports_what_was_used),
        cmocka_unit_test(metering_off_translates_code_without_charges),
        cmocka_unit_test(dirty_pages_name_exactly_the_pages_written),
        cmocka_unit_test(an_instance_continues_from_a_saved_memory_image),
        cmocka_unit_test(a_reset_instance_is_as_instantiated_but_for_its_memory),
        cmocka_unit_test(host_functions_bind_by_name_and_signature),
        cmocka_unit_test(a_mismatched_or_missing_import_is_a_link_error_naming_it),
        cmocka_unit_test(call_depth_limit_traps_and_the_store_recovers),
        cmocka_unit_test(value_stack_limit_traps_before_overflowing),
        cmocka_unit_test(memory_limit_caps_instantiation_and_growth),
        cmocka_unit_test(traps_carry_a_reason_code_and_text),
        cmocka_unit_test(calls_with_the_wrong_arguments_are_refused),
        cmocka_unit_test(instances_never_share_memory),
        cmocka_unit_test(malformed_and_invalid_modules_are_told_apart),
        cmocka_unit_test(fuzzer_findings_stay_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
