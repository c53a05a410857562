/*
 * Trap locations and function names (issue 10, section 3): a trap reports the
 * function it happened in and the module offset of the failing instruction,
 * with metering on and off, through fused instructions, calls and host
 * functions; the "name" section gives the function's name, and a malformed one
 * is ignored. The modules are assembled by hand so that every offset a test
 * expects is the offset of a byte written here.
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
#include "wasm/wasm_asm.h"

/* Bytes of an unsigned LEB128. */
static size_t uleb_len(uint32_t v) {
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

/* The functions of the test module, in index order after the import (index 0). */
enum {
    F_DIVIDE = 1,
    F_LOAD_FAR,
    F_LOAD_LOCAL,
    F_STORE_LOCAL,
    F_UNREACH,
    F_SPIN,
    F_CALL_HOST,
    F_NESTED,
    F_FILL,
    F_PLAIN,
    F_COUNT
};

static const char *const func_names[F_COUNT] = {"fail",        "divide",  "load_far", "load_local",
                                                "store_local", "unreach", "spin",     "call_host",
                                                "nested",      "fill",    NULL /* no name */};

/* Each defined function: its type, its body (locals byte included) and the
   position in the body of the instruction that traps. */
typedef struct {
    uint8_t type;
    uint8_t body[16];
    size_t len;
    size_t trap_at;
} test_func;

/* types: 0 () -> (), 1 (i32) -> i32, 2 () -> i32 */
static const test_func funcs[F_COUNT] = {
    [F_DIVIDE] = {1, {0, 0x41, 7, 0x20, 0, 0x6d, 0x0b}, 7, 5},   /* 7 / x */
    [F_LOAD_FAR] = {2, {0, 0x41, 0x7f, 0x28, 2, 0, 0x0b}, 7, 3}, /* load at -1 */
    [F_LOAD_LOCAL] = {1, {0, 0x20, 0, 0x28, 2, 0, 0x0b}, 7, 3},  /* fused LOAD32_L */
    [F_STORE_LOCAL] = {1, {0, 0x20, 0, 0x20, 0, 0x36, 2, 0, 0x20, 0, 0x0b}, 11, 5}, /* STORE32_LL */
    [F_UNREACH] = {0, {0, 0x01, 0x00, 0x0b}, 4, 2},             /* nop; unreachable */
    [F_SPIN] = {0, {0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b}, 7, 3}, /* loop br 0: the body */
    [F_CALL_HOST] = {0, {0, 0x01, 0x10, 0, 0x0b}, 5, 2},        /* nop; call fail */
    [F_NESTED] = {2, {0, 0x41, 0, 0x10, F_DIVIDE, 0x0b}, 6, 0}, /* traps in divide */
    [F_FILL] = {0, {0, 0x41, 0, 0x41, 0, 0x41, 0x81, 0x80, 4, 0xfc, 0x0b, 0, 0x0b}, 13, 9},
    [F_PLAIN] = {2, {0, 0x41, 1, 0x41, 0, 0x70, 0x0b}, 7, 5}, /* 1 % 0 */
};

/* The module, and the module offset of each function's trapping instruction. */
typedef struct {
    wasm_asm bytes;
    uint32_t trap_offset[F_COUNT];
} test_module;

/* A name section: function names of funcs 0..F_PLAIN-1, then a local names subsection. */
static void name_section(wasm_asm *m) {
    wasm_asm s = {0}, sub = {0};
    asm_name(&s, "name", 4);
    asm_u32(&sub, F_PLAIN); /* every function but F_PLAIN */
    for (uint32_t i = 0; i < F_PLAIN; i++) {
        asm_u32(&sub, i);
        asm_name(&sub, func_names[i], strlen(func_names[i]));
    }
    asm_byte(&s, 1);
    asm_u32(&s, (uint32_t)sub.len);
    asm_bytes(&s, sub.bytes, sub.len);
    free(sub.bytes);
    asm_bytes(&s, "\x02\x01\x00", 3); /* local names: none */
    asm_section(m, 0, &s);
}

static void build(test_module *t) {
    wasm_asm *m = &t->bytes, s = {0};
    *t = (test_module){0};
    asm_header(m);
    asm_bytes(&s, "\3\x60\0\0\x60\1\x7f\1\x7f\x60\0\1\x7f", 13);
    asm_section(m, 1, &s);
    asm_u32(&s, 1); /* env.fail: () -> () */
    asm_name(&s, "env", 3);
    asm_name(&s, "fail", 4);
    asm_bytes(&s, "\0\0", 2);
    asm_section(m, 2, &s);
    asm_u32(&s, F_COUNT - 1);
    for (uint32_t i = 1; i < F_COUNT; i++)
        asm_byte(&s, funcs[i].type);
    asm_section(m, 3, &s);
    asm_bytes(&s, "\1\0\1", 3); /* memory: 1 page */
    asm_section(m, 5, &s);
    asm_u32(&s, F_COUNT); /* exports: every function by its number, "f0".."f10" */
    for (uint32_t i = 0; i < F_COUNT; i++) {
        char name[8];
        int n = snprintf(name, sizeof name, "f%u", (unsigned)i);
        asm_name(&s, name, (size_t)n);
        asm_byte(&s, 0);
        asm_u32(&s, i);
    }
    asm_section(m, 7, &s);
    asm_u32(&s, F_COUNT - 1);
    size_t at[F_COUNT];
    for (uint32_t i = 1; i < F_COUNT; i++) {
        asm_u32(&s, (uint32_t)funcs[i].len);
        at[i] = s.len;
        asm_bytes(&s, funcs[i].body, funcs[i].len);
    }
    size_t code_start = m->len + 1 + uleb_len((uint32_t)s.len);
    for (uint32_t i = 1; i < F_COUNT; i++)
        t->trap_offset[i] = (uint32_t)(code_start + at[i] + funcs[i].trap_at);
    t->trap_offset[F_NESTED] = t->trap_offset[F_DIVIDE];
    asm_section(m, 10, &s);
    name_section(m);
}

static seam_err host_fail(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                          uint64_t *results) {
    (void)env, (void)args, (void)results;
    seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "env.fail: asked to");
    return SEAM_ERR_WASM_TRAP;
}

typedef struct {
    seam_wasm_module *module;
    seam_wasm_store *store;
    seam_wasm_instance *instance;
} running;

static void start(running *r, const test_module *t, bool metering_off) {
    seam_wasm_limits limits = {.metering_off = metering_off};
    seam_wasm_imports *imports = NULL;
    char err[160] = "";
    *r = (running){0};
    assert_int_equal(
        seam_wasm_module_new(t->bytes.bytes, t->bytes.len, &r->module, err, sizeof err), SEAM_OK);
    assert_int_equal(seam_wasm_store_new(&limits, &r->store), SEAM_OK);
    assert_int_equal(seam_wasm_imports_new(&imports), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, r->store, SEAM_WASM_NAME("env"),
                                                SEAM_WASM_NAME("fail"), "->", host_fail, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(r->store, r->module, imports, NULL, &r->instance, NULL,
                                           err, sizeof err),
                     SEAM_OK);
    seam_wasm_imports_free(imports);
}

static void stop(running *r) {
    seam_wasm_store_free(r->store);
    seam_wasm_module_free(r->module);
}

/* Calls export f<i> (with argument 0 when it takes one); returns the trap. */
static seam_wasm_trap call_trapping(running *r, uint32_t i) {
    char name[8];
    seam_wasm_extern x;
    seam_wasm_value arg = {SEAM_WASM_I32, 0}, result[1];
    seam_wasm_trap trap;
    memset(&trap, 0xA5, sizeof trap); /* whatever was there must be overwritten */
    snprintf(name, sizeof name, "f%u", (unsigned)i);
    assert_int_equal(seam_wasm_instance_export(r->instance, seam_wasm_name_of(name), &x), SEAM_OK);
    uint32_t nargs = seam_wasm_func_param_count(x.as.func);
    assert_int_equal(seam_wasm_call(r->store, x.as.func, &arg, nargs, result, 1, &trap),
                     SEAM_ERR_WASM_TRAP);
    return trap;
}

/* Checks that function i traps with code at its recorded instruction, in function
   in (itself, or the one it called), named as the name section says. */
static void expect_trap(running *r, const test_module *t, uint32_t i, seam_wasm_trap_code code,
                        uint32_t in) {
    seam_wasm_trap trap = call_trapping(r, i);
    seam_wasm_name name;
    assert_int_equal(trap.code, code);
    assert_true(trap.where.known);
    assert_ptr_equal(trap.where.module, r->module);
    assert_int_equal(trap.where.func_index, in);
    assert_int_equal(trap.where.offset, t->trap_offset[i]);
    if (func_names[in]) {
        assert_int_equal(seam_wasm_module_func_name(r->module, in, &name), SEAM_OK);
        assert_true(seam_wasm_name_equal(name, seam_wasm_name_of(func_names[in])));
    } else {
        assert_int_equal(seam_wasm_module_func_name(r->module, in, &name), SEAM_ERR_NOT_FOUND);
    }
}

static void traps_name_their_function_and_instruction(void **state) {
    (void)state;
    test_module t;
    running r;
    build(&t);
    for (int metering_off = 0; metering_off <= 1; metering_off++) {
        start(&r, &t, metering_off);
        expect_trap(&r, &t, F_DIVIDE, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO, F_DIVIDE);
        expect_trap(&r, &t, F_LOAD_FAR, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, F_LOAD_FAR);
        expect_trap(&r, &t, F_UNREACH, SEAM_WASM_TRAP_UNREACHABLE, F_UNREACH);
        expect_trap(&r, &t, F_CALL_HOST, SEAM_WASM_TRAP_HOST, F_CALL_HOST);
        expect_trap(&r, &t, F_NESTED, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO, F_DIVIDE);
        expect_trap(&r, &t, F_FILL, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, F_FILL);
        expect_trap(&r, &t, F_PLAIN, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO, F_PLAIN);
        /* the next call starts afresh: the same place again, not a stale one */
        expect_trap(&r, &t, F_DIVIDE, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO, F_DIVIDE);
        stop(&r);
    }
    free(t.bytes.bytes);
}

/* A local.get folded into the load or store after it: the place is the access. */
static void fused_instructions_are_placed_at_the_access(void **state) {
    (void)state;
    test_module t;
    running r;
    build(&t);
    start(&r, &t, false);
    /* address 0 is inside memory: make them fault with an address past it */
    char name[8];
    seam_wasm_extern x;
    seam_wasm_value arg = {SEAM_WASM_I32, 0xFFFFFFF0u}, result[1];
    seam_wasm_trap trap;
    for (uint32_t i = F_LOAD_LOCAL; i <= F_STORE_LOCAL; i++) {
        snprintf(name, sizeof name, "f%u", (unsigned)i);
        assert_int_equal(seam_wasm_instance_export(r.instance, seam_wasm_name_of(name), &x),
                         SEAM_OK);
        assert_int_equal(seam_wasm_call(r.store, x.as.func, &arg, 1, result, 1, &trap),
                         SEAM_ERR_WASM_TRAP);
        assert_int_equal(trap.code, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS);
        assert_true(trap.where.known);
        assert_int_equal(trap.where.func_index, i);
        assert_int_equal(trap.where.offset, t.trap_offset[i]);
    }
    stop(&r);
    free(t.bytes.bytes);
}

/* Fuel runs out in a loop: the place is the loop body's first instruction. */
static void fuel_exhaustion_is_placed_in_its_region(void **state) {
    (void)state;
    test_module t;
    running r;
    build(&t);
    start(&r, &t, false);
    seam_wasm_store_set_fuel(r.store, 1000);
    expect_trap(&r, &t, F_SPIN, SEAM_WASM_TRAP_FUEL_EXHAUSTED, F_SPIN);
    stop(&r);
    free(t.bytes.bytes);
}

/* Traps outside any function body have no place. */
static void traps_outside_code_have_no_location(void **state) {
    (void)state;
    test_module t;
    running r;
    build(&t);
    start(&r, &t, false);
    /* the host function called directly: it has no wasm caller */
    seam_wasm_trap trap = call_trapping(&r, 0);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_HOST);
    assert_false(trap.where.known);
    stop(&r);
    free(t.bytes.bytes);

    /* a data segment past the memory's end, at instantiation */
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    asm_bytes(&s, "\1\0\1", 3);
    asm_section(&m, 5, &s);
    asm_bytes(&s, "\1\0\x41\x80\x80\x04\x0b\1\x2a", 9); /* at 65536: 1 byte */
    asm_section(&m, 11, &s);
    seam_wasm_module *module = NULL;
    seam_wasm_store *store = NULL;
    seam_wasm_instance *instance = NULL;
    assert_int_equal(seam_wasm_module_new(m.bytes, m.len, &module, NULL, 0), SEAM_OK);
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    memset(&trap, 0xA5, sizeof trap);
    assert_int_equal(seam_wasm_instantiate(store, module, NULL, NULL, &instance, &trap, NULL, 0),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_false(trap.where.known);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

/* A start function that traps: placed like any other code. */
static void a_start_function_trap_is_located(void **state) {
    (void)state;
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    asm_bytes(&s, "\1\x60\0\0", 4);
    asm_section(&m, 1, &s);
    asm_bytes(&s, "\2\0\0", 3);
    asm_section(&m, 3, &s);
    asm_byte(&s, 1); /* start: function 1 */
    asm_section(&m, 8, &s);
    asm_bytes(&s, "\2\2\0\x0b\3\0\x00\x0b", 8); /* f0: nothing; f1: unreachable */
    size_t code_start = m.len + 2;
    asm_section(&m, 10, &s);
    seam_wasm_module *module = NULL;
    seam_wasm_store *store = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_trap trap;
    assert_int_equal(seam_wasm_module_new(m.bytes, m.len, &module, NULL, 0), SEAM_OK);
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(store, module, NULL, NULL, &instance, &trap, NULL, 0),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_UNREACHABLE);
    assert_true(trap.where.known);
    assert_int_equal(trap.where.func_index, 1);
    assert_int_equal(trap.where.offset, code_start + 1 + 3 + 1 + 1); /* count, f0, size, locals */
    seam_wasm_name name;
    assert_int_equal(seam_wasm_module_func_name(module, 1, &name), SEAM_ERR_NOT_FOUND);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

/* ---- a host function that calls back into wasm ----------------------------------- */

typedef struct {
    seam_wasm_func *inner; /* a function that traps */
} reentry;

/* Calls inner, ignores its trap and returns normally. */
static seam_err host_swallow(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                             uint64_t *results) {
    reentry *r = env;
    (void)args, (void)results;
    (void)seam_wasm_call(seam_wasm_ctx_store(ctx), r->inner, NULL, 0, NULL, 0, NULL);
    return SEAM_OK;
}

/* Calls inner and passes its trap on as its own failure. */
static seam_err host_pass(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                          uint64_t *results) {
    reentry *r = env;
    (void)args, (void)results;
    return seam_wasm_call(seam_wasm_ctx_store(ctx), r->inner, NULL, 0, NULL, 0, NULL);
}

/* A trap inside a nested call is placed there when the host passes it on, and a
   later trap of the outer code is placed in the outer code, not at the stale place. */
static void traps_through_host_calls_are_placed_where_they_happened(void **state) {
    (void)state;
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    asm_bytes(&s, "\2\x60\0\0\x60\0\1\x7f", 8); /* 0: () -> (), 1: () -> i32 */
    asm_section(&m, 1, &s);
    asm_u32(&s, 2);
    asm_name(&s, "env", 3);
    asm_name(&s, "swallow", 7);
    asm_bytes(&s, "\0\0", 2);
    asm_name(&s, "env", 3);
    asm_name(&s, "pass", 4);
    asm_bytes(&s, "\0\0", 2);
    asm_section(&m, 2, &s);
    asm_bytes(&s, "\3\0\1\0", 4); /* inner, outer_swallow, outer_pass */
    asm_section(&m, 3, &s);
    asm_u32(&s, 3);
    asm_name(&s, "inner", 5);
    asm_bytes(&s, "\0\2", 2);
    asm_name(&s, "swallow", 7);
    asm_bytes(&s, "\0\3", 2);
    asm_name(&s, "pass", 4);
    asm_bytes(&s, "\0\4", 2);
    asm_section(&m, 7, &s);
    /* inner: unreachable; swallow: call 0; 1 / 0; pass: call 1 */
    static const uint8_t code[] = {3, 3,    0, 0x00, 0x0b, 9, 0, 0x10, 0, 0x41,
                                   1, 0x41, 0, 0x6e, 0x0b, 4, 0, 0x10, 1, 0x0b};
    size_t code_start = m.len + 2;
    asm_bytes(&s, code, sizeof code);
    asm_section(&m, 10, &s);
    uint32_t inner_at = (uint32_t)(code_start + 3), div_at = (uint32_t)(code_start + 13);

    seam_wasm_module *module = NULL;
    seam_wasm_store *store = NULL;
    seam_wasm_imports *imports = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_extern x;
    seam_wasm_trap trap;
    seam_wasm_value result;
    reentry r = {0};
    assert_int_equal(seam_wasm_module_new(m.bytes, m.len, &module, NULL, 0), SEAM_OK);
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    assert_int_equal(seam_wasm_imports_new(&imports), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("env"),
                                                SEAM_WASM_NAME("swallow"), "->", host_swallow, &r),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("env"),
                                                SEAM_WASM_NAME("pass"), "->", host_pass, &r),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(store, module, imports, NULL, &instance, NULL, NULL, 0),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("inner"), &x), SEAM_OK);
    r.inner = x.as.func;

    /* the host swallowed the inner trap: the outer division is the place */
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("swallow"), &x), SEAM_OK);
    assert_int_equal(seam_wasm_call(store, x.as.func, NULL, 0, &result, 1, &trap),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO);
    assert_true(trap.where.known);
    assert_int_equal(trap.where.func_index, 3);
    assert_int_equal(trap.where.offset, div_at);

    /* the host passed it on: the inner unreachable is the place */
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("pass"), &x), SEAM_OK);
    assert_int_equal(seam_wasm_call(store, x.as.func, NULL, 0, NULL, 0, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_UNREACHABLE);
    assert_true(trap.where.known);
    assert_int_equal(trap.where.func_index, 2);
    assert_int_equal(trap.where.offset, inner_at);

    seam_wasm_imports_free(imports);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

/* ---- the name section ---------------------------------------------------------- */

/* A function names subsection followed by what (a subsection or garbage). */
static void names_with(wasm_asm *s, const void *sub, size_t sub_len, const void *tail,
                       size_t tail_len) {
    *s = (wasm_asm){0};
    asm_byte(s, 1);
    asm_u32(s, (uint32_t)sub_len);
    asm_bytes(s, sub, sub_len);
    asm_bytes(s, tail, tail_len);
}

static void the_name_section_decodes_function_names(void **state) {
    (void)state;
    /* module name "m", functions 0 "a" and 5 "\xc3\xa9t\xc3\xa9", local names after */
    static const uint8_t section[] = {0, 2, 1,    'm',  1,   11,   2,    0, 1, 'a',
                                      5, 5, 0xc3, 0xa9, 't', 0xc3, 0xa9, 2, 1, 0};
    const size_t through_function_names = 17;
    seam_wasm_name name;
    assert_int_equal(seam_wasm_name_section_func(section, sizeof section, 0, &name), SEAM_OK);
    assert_true(seam_wasm_name_equal(name, SEAM_WASM_NAME("a")));
    assert_int_equal(seam_wasm_name_section_func(section, sizeof section, 5, &name), SEAM_OK);
    assert_true(seam_wasm_name_equal(name, SEAM_WASM_NAME("\xc3\xa9t\xc3\xa9")));
    assert_int_equal(seam_wasm_name_section_func(section, sizeof section, 1, &name),
                     SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_wasm_name_section_func(NULL, 0, 0, &name), SEAM_ERR_NOT_FOUND);
    /* every shorter prefix cuts a subsection, or ends right after the function
       names: never read past the end, and a name only from a whole subsection */
    for (size_t len = 1; len < sizeof section; len++) {
        uint8_t *copy = malloc(len); /* exactly len bytes, so ASan sees any overread */
        assert_non_null(copy);
        memcpy(copy, section, len);
        seam_err e = seam_wasm_name_section_func(copy, len, 5, &name);
        if (len == through_function_names)
            assert_int_equal(e, SEAM_OK);
        else
            assert_true(e == SEAM_ERR_MALFORMED || e == SEAM_ERR_NOT_FOUND);
        free(copy);
    }
}

static void malformed_name_sections_are_ignored(void **state) {
    (void)state;
    static const struct {
        const char *what;
        uint8_t sub[16];
        size_t sub_len;
        uint8_t tail[8];
        size_t tail_len;
    } bad[] = {
        {"indices not increasing", {2, 1, 1, 'a', 0, 1, 'b'}, 7, {0}, 0},
        {"the same index twice", {2, 0, 1, 'a', 0, 1, 'b'}, 7, {0}, 0},
        {"bad UTF-8", {1, 0, 2, 0xc3, 'x'}, 5, {0}, 0},
        {"a name past the subsection", {1, 0, 9, 'a'}, 4, {0}, 0},
        {"a count larger than the bytes", {0xff, 0xff, 0x03, 0, 1, 'a'}, 6, {0}, 0},
        {"bytes left in the subsection", {1, 0, 1, 'a', 7}, 5, {0}, 0},
        {"a repeated subsection", {1, 0, 1, 'a'}, 4, {1, 0}, 2},
        {"subsections out of order", {1, 0, 1, 'a'}, 4, {0, 0}, 2},
        {"a subsection size past the section", {1, 0, 1, 'a'}, 4, {2, 9, 0}, 3},
        {"a truncated subsection header", {1, 0, 1, 'a'}, 4, {2, 0x80}, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wasm_asm s;
        seam_wasm_name name = {"unchanged", 9};
        names_with(&s, bad[i].sub, bad[i].sub_len, bad[i].tail, bad[i].tail_len);
        seam_err e = seam_wasm_name_section_func(s.bytes, s.len, 0, &name);
        if (e != SEAM_ERR_MALFORMED)
            fail_msg("%s: %s", bad[i].what, seam_err_str(e));
        assert_true(seam_wasm_name_equal(name, SEAM_WASM_NAME("unchanged")));

        /* in a module: the module still loads; the function has no name */
        wasm_asm m = {0}, c = {0};
        asm_header(&m);
        asm_bytes(&c, "\1\x60\0\0", 4);
        asm_section(&m, 1, &c);
        asm_bytes(&c, "\1\0", 2);
        asm_section(&m, 3, &c);
        asm_bytes(&c, "\1\2\0\x0b", 4);
        asm_section(&m, 10, &c);
        asm_name(&c, "name", 4);
        asm_bytes(&c, s.bytes, s.len);
        asm_section(&m, 0, &c);
        seam_wasm_module *module = NULL;
        assert_int_equal(seam_wasm_module_new(m.bytes, m.len, &module, NULL, 0), SEAM_OK);
        assert_int_equal(seam_wasm_module_func_name(module, 0, &name), SEAM_ERR_NOT_FOUND);
        seam_wasm_module_free(module);
        free(m.bytes);
        free(s.bytes);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(traps_name_their_function_and_instruction),
        cmocka_unit_test(fused_instructions_are_placed_at_the_access),
        cmocka_unit_test(fuel_exhaustion_is_placed_in_its_region),
        cmocka_unit_test(traps_outside_code_have_no_location),
        cmocka_unit_test(a_start_function_trap_is_located),
        cmocka_unit_test(traps_through_host_calls_are_placed_where_they_happened),
        cmocka_unit_test(the_name_section_decodes_function_names),
        cmocka_unit_test(malformed_name_sections_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
