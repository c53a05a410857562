/*
 * Host memory a module can make the engine allocate (issue 9 item 12): every
 * count in the binary is checked against the bytes that would have to carry
 * it before anything is allocated, what a module costs grows with its size
 * and not with the numbers it writes, and the engine's implementation limits
 * (docs/wasm.md, "Limits") refuse what would cost more.
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

/* What a decoded module may hold per byte of its binary, plus a fixed part. */
#define HOST_BYTES_PER_MODULE_BYTE 64u
#define HOST_FIXED_BYTES           ((size_t)512 << 10)

static seam_err decode(const wasm_asm *m, seam_wasm_module **out, char *err, size_t errlen) {
    *out = NULL;
    return seam_wasm_module_new(m->bytes, m->len, out, err, errlen);
}

/* Fails unless the host heap grew by at most the bound for a module of len bytes. */
static void assert_bounded(size_t before, size_t len, const char *what) {
    size_t used = host_allocated_bytes() - before;
    size_t bound = HOST_BYTES_PER_MODULE_BYTE * len + HOST_FIXED_BYTES;
    if (used > bound)
        fail_msg("%s: a module of %zu bytes holds %zu host bytes (bound %zu)", what, len, used,
                 bound);
}

/* A type section with n copies of () -> i32, or of the given type bytes. */
static void type_section(wasm_asm *m, const uint8_t *type, size_t type_len) {
    wasm_asm s = {0};
    asm_u32(&s, 1);
    asm_bytes(&s, type, type_len);
    asm_section(m, 1, &s);
}

/* A function section declaring n functions of type 0. */
static void function_section(wasm_asm *m, uint32_t n) {
    wasm_asm s = {0};
    asm_u32(&s, n);
    for (uint32_t i = 0; i < n; i++)
        asm_byte(&s, 0);
    asm_section(m, 3, &s);
}

/* ---- locals ----------------------------------------------------------------------- */

static void hardening_12_two_to_the_32_locals_are_refused_at_decode(void **state) {
    (void)state;
    /* one group of 2^32 - 1 locals, and two groups whose sum passes 2^32 */
    static const uint8_t one_group[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b};
    static const uint8_t two_groups[] = {2,    0x80, 0x80, 0x80, 0x80, 0x08, 0x7f,
                                         0x80, 0x80, 0x80, 0x80, 0x08, 0x7f, 0x0b};
    const struct {
        const uint8_t *body;
        size_t len;
    } bodies[] = {{one_group, sizeof one_group}, {two_groups, sizeof two_groups}};
    for (size_t i = 0; i < 2; i++) {
        wasm_asm m = {0}, s = {0};
        asm_header(&m);
        type_section(&m, (const uint8_t *)"\x60\0\0", 3);
        function_section(&m, 1);
        asm_u32(&s, 1);
        asm_u32(&s, (uint32_t)bodies[i].len);
        asm_bytes(&s, bodies[i].body, bodies[i].len);
        asm_section(&m, 10, &s);
        seam_wasm_module *module;
        char err[160] = "";
        size_t before = host_allocated_bytes();
        assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_ERR_WASM_MALFORMED);
        assert_string_equal(err, "too many locals");
        assert_null(module);
        assert_bounded(before, m.len, "2^32 locals");
        free(m.bytes);
    }
}

/* 2000 functions of 50,000 declared locals each: 8 bytes of binary per function. */
static void hardening_12_declared_locals_cost_no_host_memory_each(void **state) {
    (void)state;
    const uint32_t nfuncs = 2000;
    static const uint8_t body[] = {1, 0xd0, 0x86, 0x03, 0x7f, 0x41, 0x07, 0x0b}; /* i32.const 7 */
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    type_section(&m, (const uint8_t *)"\x60\0\1\x7f", 4);
    function_section(&m, nfuncs);
    asm_u32(&s, 1);
    asm_name(&s, "f", 1);
    asm_bytes(&s, "\0\0", 2);
    asm_section(&m, 7, &s);
    asm_u32(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) {
        asm_u32(&s, sizeof body);
        asm_bytes(&s, body, sizeof body);
    }
    asm_section(&m, 10, &s);
    seam_wasm_module *module;
    char err[160] = "";
    size_t before = host_allocated_bytes();
    assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_OK);
    assert_bounded(before, m.len, "50,000 locals per function");
    /* the locals still work: the function runs with its 50,000 zeroed locals */
    seam_wasm_store *store = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_extern f;
    seam_wasm_value result;
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(store, module, NULL, NULL, &instance, NULL, NULL, 0),
                     SEAM_OK);
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("f"), &f), SEAM_OK);
    assert_int_equal(seam_wasm_call(store, f.as.func, NULL, 0, &result, 1, NULL), SEAM_OK);
    assert_int_equal(result.bits, 7);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

/* ---- sections and counts ------------------------------------------------------------ */

static void hardening_12_custom_sections_cost_memory_linear_in_their_number(void **state) {
    (void)state;
    const uint32_t n = 3000;
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    for (uint32_t i = 0; i < n; i++) {
        asm_name(&s, "c", 1);
        asm_section(&m, 0, &s);
    }
    seam_wasm_module *module;
    size_t before = host_allocated_bytes();
    assert_int_equal(decode(&m, &module, NULL, 0), SEAM_OK);
    assert_bounded(before, m.len, "3000 custom sections");
    assert_int_equal(seam_wasm_module_custom_count(module), n);
    seam_wasm_module_free(module);
    free(m.bytes);
}

/*
 * Each vector count of the binary claims 999,999 entries that its section does
 * not hold: refused as soon as the count is read ("length out of bounds"),
 * before room for the entries is allocated.
 */
static void hardening_12_a_count_beyond_its_section_is_refused_before_allocating(void **state) {
    (void)state;
    static const struct {
        uint8_t id;
        const char *prefix; /* section bytes before the count */
        size_t prefix_len;
    } cases[] = {
        {1, "", 0},               /* types */
        {1, "\1\x60", 2},         /* parameters of a type */
        {2, "", 0},               /* imports */
        {3, "", 0},               /* functions */
        {4, "", 0},               /* tables */
        {5, "", 0},               /* memories */
        {6, "", 0},               /* globals */
        {7, "", 0},               /* exports */
        {9, "", 0},               /* element segments */
        {9, "\1\0\x41\0\x0b", 5}, /* items of an element segment */
        {11, "", 0},              /* data segments */
        {10, "\1\x09", 2},        /* local groups of a body */
        {0, "", 0},               /* the name of a custom section */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wasm_asm m = {0}, s = {0};
        asm_header(&m);
        if (cases[i].id == 10) {
            type_section(&m, (const uint8_t *)"\x60\0\0", 3);
            function_section(&m, 1);
        }
        asm_bytes(&s, cases[i].prefix, cases[i].prefix_len);
        asm_u32(&s, 999999);
        asm_bytes(&s, "\0\0\0\0\0\0", 6);
        asm_section(&m, cases[i].id, &s);
        seam_wasm_module *module;
        char err[160] = "";
        assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_ERR_WASM_MALFORMED);
        if (strcmp(err, "length out of bounds"))
            fail_msg("case %zu (section %u): \"%s\"", i, cases[i].id, err);
        free(m.bytes);
    }
}

/* ---- operands and signatures ------------------------------------------------------- */

/* A valid module: g calls f (1000 results) `calls` times, dropping everything after. */
static void operand_module(wasm_asm *m, uint32_t results, uint32_t calls) {
    wasm_asm s = {0}, body = {0};
    asm_header(m);
    asm_u32(&s, 2);
    asm_bytes(&s, "\x60\0", 2); /* type 0: () -> i32 x results */
    asm_u32(&s, results);
    for (uint32_t i = 0; i < results; i++)
        asm_byte(&s, 0x7f);
    asm_bytes(&s, "\x60\0\0", 3); /* type 1: () -> () */
    asm_section(m, 1, &s);
    asm_bytes(&s, "\2\0\1", 3);
    asm_section(m, 3, &s);
    asm_u32(&s, 2);
    asm_byte(&body, 0);
    for (uint32_t i = 0; i < results; i++)
        asm_bytes(&body, "\x41\0", 2);
    asm_byte(&body, 0x0b);
    asm_u32(&s, (uint32_t)body.len);
    asm_bytes(&s, body.bytes, body.len);
    body.len = 0;
    asm_byte(&body, 0);
    for (uint32_t i = 0; i < calls; i++)
        asm_bytes(&body, "\x10\0", 2);
    for (uint32_t i = 0; i < calls * results; i++)
        asm_byte(&body, 0x1a);
    asm_byte(&body, 0x0b);
    asm_u32(&s, (uint32_t)body.len);
    asm_bytes(&s, body.bytes, body.len);
    free(body.bytes);
    asm_section(m, 10, &s);
}

static void hardening_12_operand_stack_height_is_bounded(void **state) {
    (void)state;
    wasm_asm m = {0};
    seam_wasm_module *module;
    char err[160] = "";
    /* 65 x 1000 operands on the stack at once: within the limit */
    operand_module(&m, 1000, 65);
    assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_OK);
    seam_wasm_module_free(module);
    free(m.bytes);
    /* 70 x 1000: past 65,536 operands in one function */
    m = (wasm_asm){0};
    operand_module(&m, 1000, 70);
    assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_ERR_WASM_LIMIT);
    assert_non_null(strstr(err, "operand"));
    free(m.bytes);
}

static void hardening_12_a_function_type_has_at_most_1000_params_and_results(void **state) {
    (void)state;
    for (int params = 0; params < 2; params++) {
        wasm_asm m = {0}, s = {0};
        asm_header(&m);
        asm_u32(&s, 1);
        asm_byte(&s, 0x60);
        for (int side = 0; side < 2; side++) {
            uint32_t n = (side == 0) == params ? 1001 : 0;
            asm_u32(&s, n);
            for (uint32_t i = 0; i < n; i++)
                asm_byte(&s, 0x7e);
        }
        asm_section(&m, 1, &s);
        seam_wasm_module *module;
        char err[160] = "";
        assert_int_equal(decode(&m, &module, err, sizeof err), SEAM_ERR_WASM_LIMIT);
        assert_non_null(strstr(err, params ? "parameters" : "results"));
        free(m.bytes);
    }
}

/* ---- tables ---------------------------------------------------------------------- */

static void hardening_12_table_entries_are_bounded_per_store(void **state) {
    (void)state;
    /* two tables of 100 entries, and a function grow(n) on table 1 */
    static const uint8_t two_tables[] = {
        0,    'a', 's',  'm', 1,   0,    0,    0,    1, 6,    1,    0x60, 1,
        0x7f, 1,   0x7f,                                                         /* (i32) -> i32 */
        3,    2,   1,    0,   4,   7,    2,    0x70, 0, 100,  0x70, 0,    100,   /* tables */
        7,    8,   1,    4,   'g', 'r',  'o',  'w',  0, 0,                       /* export */
        10,   11,  1,    9,   0,   0xd0, 0x70, 0x20, 0, 0xfc, 0x0f, 1,    0x0b}; /* table.grow 1 */
    seam_wasm_module *module = NULL;
    seam_wasm_store *store = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_table *table = NULL;
    seam_wasm_extern grow;
    char err[160] = "";
    assert_int_equal(seam_wasm_module_new(two_tables, sizeof two_tables, &module, err, sizeof err),
                     SEAM_OK);
    /* 200 entries together are past a store limit of 150 */
    seam_wasm_limits limits = {.max_table_size = 100, .max_table_entries = 150};
    assert_int_equal(seam_wasm_store_new(&limits, &store), SEAM_OK);
    assert_int_equal(
        seam_wasm_instantiate(store, module, NULL, NULL, &instance, NULL, err, sizeof err),
        SEAM_ERR_WASM_LIMIT);
    assert_null(instance);
    seam_wasm_store_free(store);
    /* with room for 250: the second table grows to 150, then the store is full */
    limits = (seam_wasm_limits){.max_table_size = 1000, .max_table_entries = 250};
    assert_int_equal(seam_wasm_store_new(&limits, &store), SEAM_OK);
    assert_int_equal(
        seam_wasm_instantiate(store, module, NULL, NULL, &instance, NULL, err, sizeof err),
        SEAM_OK);
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("grow"), &grow), SEAM_OK);
    seam_wasm_value delta = {SEAM_WASM_I32, 50}, old;
    assert_int_equal(seam_wasm_call(store, grow.as.func, &delta, 1, &old, 1, NULL), SEAM_OK);
    assert_int_equal(old.bits, 100);
    delta.bits = 1;
    assert_int_equal(seam_wasm_call(store, grow.as.func, &delta, 1, &old, 1, NULL), SEAM_OK);
    assert_int_equal(old.bits, 0xffffffffu); /* -1 */
    /* a table the host creates counts too */
    assert_int_equal(seam_wasm_table_new(store, SEAM_WASM_FUNCREF, 1, 0, false, &table),
                     SEAM_ERR_WASM_LIMIT);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
}

/* ---- every shape of module ------------------------------------------------------------ */

/* Appends a module of about n bytes made mostly of one kind of thing (kind 0..11). */
static void shaped_module(wasm_asm *m, int kind, uint32_t n) {
    wasm_asm s = {0}, b = {0};
    asm_header(m);
    if (kind <= 3 || kind == 6 || kind == 7 || kind == 8) {
        type_section(m, (const uint8_t *)"\x60\0\0", 3);
        function_section(m, kind == 0 ? n / 5 : 1);
    }
    switch (kind) {
    case 0: /* functions */
        break;
    case 1: /* br_table labels */
        asm_byte(&b, 0);
        asm_bytes(&b, "\x02\x40\x41\0\x0e", 5);
        asm_u32(&b, n);
        for (uint32_t i = 0; i <= n; i++)
            asm_byte(&b, 0);
        asm_bytes(&b, "\x0b\x0b", 2);
        break;
    case 2: /* loop; end */
        asm_byte(&b, 0);
        for (uint32_t i = 0; i < n / 3; i++)
            asm_bytes(&b, "\x03\x40\x0b", 3);
        asm_byte(&b, 0x0b);
        break;
    case 3: /* nested blocks */
        asm_byte(&b, 0);
        for (uint32_t i = 0; i < n / 3; i++)
            asm_bytes(&b, "\x02\x40", 2);
        for (uint32_t i = 0; i <= n / 3; i++)
            asm_byte(&b, 0x0b);
        break;
    case 4: /* types */
        asm_u32(&s, n / 3);
        for (uint32_t i = 0; i < n / 3; i++)
            asm_bytes(&s, "\x60\0\0", 3);
        asm_section(m, 1, &s);
        break;
    case 5: /* globals */
        asm_u32(&s, n / 5);
        for (uint32_t i = 0; i < n / 5; i++)
            asm_bytes(&s, "\x7f\0\x41\0\x0b", 5);
        asm_section(m, 6, &s);
        break;
    case 6: /* items of a passive element segment */
        asm_bytes(&s, "\1\1\0", 3);
        asm_u32(&s, n);
        for (uint32_t i = 0; i < n; i++)
            asm_byte(&s, 0);
        asm_section(m, 9, &s);
        break;
    case 7: /* element segments */
        asm_u32(&s, n / 4);
        for (uint32_t i = 0; i < n / 4; i++)
            asm_bytes(&s, "\1\0\1\0", 4);
        asm_section(m, 9, &s);
        break;
    case 8: /* exports */
        asm_u32(&s, n / 6);
        for (uint32_t i = 0; i < n / 6; i++) {
            char name[3] = {(char)(i & 0x7f), (char)((i >> 7) & 0x7f), (char)(i >> 14)};
            asm_name(&s, name, 3); /* distinct, 7-bit: valid UTF-8 */
            asm_bytes(&s, "\0\0", 2);
        }
        asm_section(m, 7, &s);
        break;
    case 9: /* data segments */
        asm_bytes(&s, "\1\0\1", 3);
        asm_section(m, 5, &s);
        asm_u32(&s, n / 2);
        for (uint32_t i = 0; i < n / 2; i++)
            asm_bytes(&s, "\1\0", 2);
        asm_section(m, 11, &s);
        break;
    case 10: /* tables */
        asm_u32(&s, n / 3);
        for (uint32_t i = 0; i < n / 3; i++)
            asm_bytes(&s, "\x70\0\0", 3);
        asm_section(m, 4, &s);
        break;
    default: /* custom sections */
        for (uint32_t i = 0; i < n / 3; i++) {
            asm_name(&s, "", 0);
            asm_section(m, 0, &s);
        }
        break;
    }
    if (kind == 0 || kind == 6 || kind == 7 || kind == 8) {
        asm_u32(&s, kind == 0 ? n / 5 : 1);
        for (uint32_t i = 0; i < (kind == 0 ? n / 5 : 1); i++)
            asm_bytes(&s, "\2\0\x0b", 3);
        asm_section(m, 10, &s);
    } else if (kind <= 3) {
        asm_u32(&s, 1);
        asm_u32(&s, (uint32_t)b.len);
        asm_bytes(&s, b.bytes, b.len);
        asm_section(m, 10, &s);
    }
    free(b.bytes);
}

/*
 * A module made of nothing but one kind of thing (functions, br_table labels,
 * blocks, types, globals, element items and segments, exports, data segments,
 * tables, custom sections): the module plus one instance, translated, hold at
 * most HOST_BYTES_PER_MODULE_BYTE bytes per byte of binary (docs/wasm.md).
 */
static void
hardening_12_a_module_and_its_instance_cost_a_bounded_multiple_of_its_size(void **state) {
    (void)state;
    static const char *const kinds[] = {
        "functions", "br_table labels", "loop;end",      "nested blocks",
        "types",     "globals",         "element items", "element segments",
        "exports",   "data segments",   "tables",        "custom sections"};
    for (int kind = 0; kind < 12; kind++) {
        wasm_asm m = {0};
        shaped_module(&m, kind, 60000);
        seam_wasm_limits limits = {.max_table_size = 4096, .max_table_entries = 4096};
        seam_wasm_store *store = NULL;
        assert_int_equal(seam_wasm_store_new(&limits, &store), SEAM_OK);
        seam_wasm_module *module = NULL;
        seam_wasm_instance *instance = NULL;
        char err[160] = "";
        size_t before = host_allocated_bytes();
        seam_err e = decode(&m, &module, err, sizeof err);
        if (!e)
            e = seam_wasm_instantiate(store, module, NULL, NULL, &instance, NULL, err, sizeof err);
        if (e)
            fail_msg("%s: %s (%s)", kinds[kind], seam_err_str(e), err);
        assert_bounded(before, m.len, kinds[kind]);
        seam_wasm_store_free(store);
        seam_wasm_module_free(module);
        free(m.bytes);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hardening_12_two_to_the_32_locals_are_refused_at_decode),
        cmocka_unit_test(hardening_12_declared_locals_cost_no_host_memory_each),
        cmocka_unit_test(hardening_12_custom_sections_cost_memory_linear_in_their_number),
        cmocka_unit_test(hardening_12_a_count_beyond_its_section_is_refused_before_allocating),
        cmocka_unit_test(hardening_12_operand_stack_height_is_bounded),
        cmocka_unit_test(hardening_12_a_function_type_has_at_most_1000_params_and_results),
        cmocka_unit_test(hardening_12_table_entries_are_bounded_per_store),
        cmocka_unit_test(
            hardening_12_a_module_and_its_instance_cost_a_bounded_multiple_of_its_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
