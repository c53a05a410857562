/*
 * The translator's operand tracking and fuel regions (docs/wasm.md, "Operands
 * named by slot" and "Fuel"): values read from locals keep the value the local
 * had when it was read, whatever the code writes to it afterwards, across
 * blocks, branches, calls and select; a float compare folded into an `if`
 * honours NaN; fuel counts what the documented rule says, whether a region is
 * entered by falling through or by a branch; a superinstruction (two ops folded
 * into one) computes what the two ops compute, also when a local.get or a
 * constant is pushed between them. Every function runs with metering on and
 * off (two translations of the same module).
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

static loaded load_module(const char *name, bool metering_off) {
    char path[512], err[160];
    snprintf(path, sizeof path, "%s/%s.wasm", SEAM_TEST_MODULES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t bytes[4096];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    loaded l = {0};
    if (seam_wasm_module_new(bytes, len, &l.module, err, sizeof err))
        fail_msg("%s: %s", name, err);
    seam_wasm_limits limits = {.metering_off = metering_off};
    assert_int_equal(seam_wasm_store_new(&limits, &l.store), SEAM_OK);
    if (seam_wasm_instantiate(l.store, l.module, NULL, NULL, &l.instance, NULL, err, sizeof err))
        fail_msg("instantiate %s: %s", name, err);
    return l;
}

static loaded load(bool metering_off) {
    return load_module("operands", metering_off);
}

static void unload(loaded *l) {
    seam_wasm_store_free(l->store);
    seam_wasm_module_free(l->module);
}

/* Calls export name with n arguments of the given types; returns the first result. */
static uint64_t call(loaded *l, const char *name, uint32_t n, const seam_wasm_value *args,
                     seam_wasm_value *results, uint32_t nresults) {
    seam_wasm_extern x;
    seam_wasm_value one[1] = {{0}};
    assert_int_equal(seam_wasm_instance_export(l->instance, seam_wasm_name_of(name), &x), SEAM_OK);
    if (!results) {
        results = one;
        nresults = seam_wasm_func_result_count(x.as.func);
    }
    seam_wasm_trap trap = {0};
    seam_err e = seam_wasm_call(l->store, x.as.func, args, n, results, nresults, &trap);
    if (e)
        fail_msg("%s: %s (%s)", name, seam_err_str(e), trap.message);
    return nresults ? results[0].bits : 0;
}

static uint32_t call2(loaded *l, const char *name, uint32_t a, uint32_t b) {
    seam_wasm_value args[2] = {{SEAM_WASM_I32, a}, {SEAM_WASM_I32, b}};
    return (uint32_t)call(l, name, 2, args, NULL, 0);
}

static uint32_t call1(loaded *l, const char *name, uint32_t a) {
    seam_wasm_value args[1] = {{SEAM_WASM_I32, a}};
    return (uint32_t)call(l, name, 1, args, NULL, 0);
}

static void values_read_from_locals_keep_their_value(void **state) {
    (void)state;
    for (int off = 0; off < 2; off++) {
        loaded l = load(off);
        assert_int_equal(call1(&l, "read_then_write", 10), 15);
        assert_int_equal(call2(&l, "tee_over_pending", 10, 3), (uint32_t)(10 - 30));
        assert_int_equal(call1(&l, "across_block", 10), 110);
        assert_int_equal(call1(&l, "call_args", 41), 0xffffffffu);
        assert_int_equal(call1(&l, "store_load", 64), 128);
        unload(&l);
    }
}

static void branches_and_selects_carry_the_values_read(void **state) {
    (void)state;
    for (int off = 0; off < 2; off++) {
        loaded l = load(off);
        assert_int_equal(call2(&l, "br_if_value", 5, 1), 5);
        assert_int_equal(call2(&l, "br_if_value", 5, 0), 7);
        assert_int_equal(call2(&l, "cond_return", 5, 1), 5);
        assert_int_equal(call2(&l, "cond_return", 5, 0), 9);
        assert_int_equal(call2(&l, "if_param", 5, 1), 6);
        assert_int_equal(call2(&l, "if_param", 5, 0), 3);
        seam_wasm_value args[3] = {{SEAM_WASM_I32, 11}, {SEAM_WASM_I32, 22}, {SEAM_WASM_I32, 1}};
        assert_int_equal(call(&l, "select_old", 3, args, NULL, 0), 11);
        args[2].bits = 0;
        assert_int_equal(call(&l, "select_old", 3, args, NULL, 0), 22);
        seam_wasm_value two[2];
        call(&l, "swap", 2, args, two, 2);
        assert_int_equal(two[0].bits, 22);
        assert_int_equal(two[1].bits, 11);
        unload(&l);
    }
}

static void a_float_compare_in_an_if_takes_the_else_branch_on_nan(void **state) {
    (void)state;
    uint32_t nan = 0x7fc00000u, one = 0x3f800000u, two = 0x40000000u;
    for (int off = 0; off < 2; off++) {
        loaded l = load(off);
        seam_wasm_value args[2] = {{SEAM_WASM_F32, one}, {SEAM_WASM_F32, two}};
        assert_int_equal(call(&l, "float_if", 2, args, NULL, 0), 1);
        args[0].bits = two;
        args[1].bits = one;
        assert_int_equal(call(&l, "float_if", 2, args, NULL, 0), 0);
        args[0].bits = nan;
        assert_int_equal(call(&l, "float_if", 2, args, NULL, 0), 0);
        args[0].bits = one;
        args[1].bits = nan;
        assert_int_equal(call(&l, "float_if", 2, args, NULL, 0), 0);
        unload(&l);
    }
}

/* The fuel export name used with argument a, from a budget of a million. */
static uint64_t fuel_of(loaded *l, const char *name, uint32_t a) {
    seam_wasm_store_set_fuel(l->store, 1000000);
    call(l, name, 1, (seam_wasm_value[]){{SEAM_WASM_I32, a}}, NULL, 0);
    return 1000000 - seam_wasm_store_fuel(l->store);
}

static void fuel_counts_each_instruction_once_per_execution(void **state) {
    (void)state;
    loaded l = load(false);
    /* local.get, i32.const, i32.sub, local.tee, br_if: the loop's CHARGE pays
       the first iteration, its back edge each further one */
    assert_int_equal(fuel_of(&l, "countdown", 1), 5);
    assert_int_equal(fuel_of(&l, "countdown", 1000), 5000);
    /* local.get, br_if, i32.const, drop, then i32.const after the end: the
       region after the end costs the same entered by the branch */
    assert_int_equal(fuel_of(&l, "landing", 0), 5);
    assert_int_equal(fuel_of(&l, "landing", 1), 5);
    /* one unit short: the back edge cannot pay, the trap is fuel */
    seam_wasm_extern x;
    seam_wasm_trap trap = {0};
    assert_int_equal(seam_wasm_instance_export(l.instance, seam_wasm_name_of("countdown"), &x),
                     SEAM_OK);
    seam_wasm_store_set_fuel(l.store, 4999);
    assert_int_equal(seam_wasm_call(l.store, x.as.func, (seam_wasm_value[]){{SEAM_WASM_I32, 1000}},
                                    1, NULL, 0, &trap),
                     SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.code, SEAM_WASM_TRAP_FUEL_EXHAUSTED);
    unload(&l);
}

/* Calls export name(a) with exactly `fuel` units; returns the error, the trap in *trap. */
static seam_err call_with_fuel(loaded *l, const char *name, uint32_t a, uint64_t fuel,
                               seam_wasm_trap *trap) {
    seam_wasm_extern x;
    seam_wasm_value result[1];
    assert_int_equal(seam_wasm_instance_export(l->instance, seam_wasm_name_of(name), &x), SEAM_OK);
    seam_wasm_store_set_fuel(l->store, fuel);
    *trap = (seam_wasm_trap){0};
    return seam_wasm_call(l->store, x.as.func, (seam_wasm_value[]){{SEAM_WASM_I32, a}}, 1, result,
                          1, trap);
}

/* A region entered by falling through is paid by the op before it (a move, a
   store) or, at a function's entry, by the call: the same count, and fuel runs
   out at the same region as with a CHARGE op. */
static void regions_paid_by_the_op_before_count_the_same(void **state) {
    (void)state;
    loaded l = load(false);
    static const struct {
        const char *name;
        uint64_t units, first_region;
    } cases[] = {{"paid_by_move", 3, 1}, {"paid_by_store", 5, 3}, {"paid_by_call", 5, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seam_wasm_trap trap;
        assert_int_equal(fuel_of(&l, cases[i].name, 64), cases[i].units);
        assert_int_equal(call_with_fuel(&l, cases[i].name, 64, cases[i].units, &trap), SEAM_OK);
        /* enough for the first region only: the second cannot be paid */
        for (uint64_t fuel = cases[i].first_region; fuel < cases[i].units; fuel++) {
            assert_int_equal(call_with_fuel(&l, cases[i].name, 64, fuel, &trap),
                             SEAM_ERR_WASM_TRAP);
            assert_int_equal(trap.code, SEAM_WASM_TRAP_FUEL_EXHAUSTED);
            assert_true(trap.where.known);
        }
    }
    /* running out on entering $inc (function 16 of operands.wat) is placed in
       $inc, not in its caller (17) */
    seam_wasm_trap trap;
    assert_int_equal(call_with_fuel(&l, "paid_by_call", 64, 4, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.where.func_index, 16);
    assert_int_equal(call_with_fuel(&l, "paid_by_call", 64, 1, &trap), SEAM_ERR_WASM_TRAP);
    assert_int_equal(trap.where.func_index, 17);
    unload(&l);
}

/* folds.wat's functions and the same arithmetic in C */
static uint32_t shl(uint32_t x, uint32_t k) {
    return x << (k & 31);
}

static uint32_t sext8(uint32_t x) {
    return x & 0x80u ? x | 0xffffff00u : x & 0xffu;
}

static void superinstructions_compute_what_the_two_ops_do(void **state) {
    (void)state;
    static const uint32_t inputs[][3] = {
        {0, 0, 0},
        {6, 7, 8},
        {0xfffffff0u, 3, 0x80000000u},
        {0x12345678u, 0x9abcdef0u, 0x0f0f0f0fu},
        {0x000000ffu, 0xffffffffu, 0x7fffffffu},
        {0x00000080u, 0x00010001u, 1},
    };
    for (int off = 0; off < 2; off++) {
        loaded l = load_module("folds", off);
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
            uint32_t a = inputs[i][0], b = inputs[i][1], c = inputs[i][2];
            const struct {
                const char *name;
                uint32_t want;
            } cases[] = {
                {"mul_add", a * b + c},
                {"mul_add_k", a * b + 7},
                {"mul_k_add", a * 3 + c},
                {"mul_k_add_k", a * (uint32_t)-3 + 7},
                {"add_add", a + b + c},
                {"add_add_k", a + b - 1},
                {"shl_k_add", shl(a, 3) + c},
                {"shl_k_add_k", shl(a, 35) + 1000},
                {"shr_u_k_and_k", (a >> 5) & 0xff},
                {"shr_u_k_xor", (a >> 7) ^ c},
                {"shl_k_xor", shl(a, 9) ^ c},
                {"xor_xor", a ^ b ^ c},
                {"xor_shl_k", shl(a ^ b, 4)},
                {"shl_k_shr_s_k", sext8(a)},
                {"add_of_product", a * b + c},
                {"dropped_between", a * b + c},
                {"set_between", a + b + c},
                {"fold_then_set", a * b + c - a},
                {"tee_then_fold", (a + b) * 2},
                {"compare_dropped_if", (int32_t)a < (int32_t)b ? 1 : 2},
                {"result_dropped", c + 7},
            };
            for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
                seam_wasm_value args[3] = {
                    {SEAM_WASM_I32, a}, {SEAM_WASM_I32, b}, {SEAM_WASM_I32, c}};
                uint32_t got = (uint32_t)call(&l, cases[j].name, 3, args, NULL, 0);
                if (got != cases[j].want)
                    fail_msg("%s(0x%x, 0x%x, 0x%x) metering %s: 0x%x, want 0x%x", cases[j].name, a,
                             b, c, off ? "off" : "on", got, cases[j].want);
            }
        }
        unload(&l);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_read_from_locals_keep_their_value),
        cmocka_unit_test(branches_and_selects_carry_the_values_read),
        cmocka_unit_test(a_float_compare_in_an_if_takes_the_else_branch_on_nan),
        cmocka_unit_test(fuel_counts_each_instruction_once_per_execution),
        cmocka_unit_test(superinstructions_compute_what_the_two_ops_do),
        cmocka_unit_test(regions_paid_by_the_op_before_count_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
