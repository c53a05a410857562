/*
 * WebAssembly names are byte strings of a given length (issue 9 item 15):
 * export, import and custom section names may hold NUL bytes, and "", "\0"
 * and "\0\1" are different names. The modules are assembled by hand so that
 * each name is exactly the bytes written here.
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

/* Export names of the first module; function i returns 10 + i. */
static const seam_wasm_name export_names[] = {
    SEAM_WASM_NAME(""),     SEAM_WASM_NAME("\0"), SEAM_WASM_NAME("\0\1"),
    SEAM_WASM_NAME("\0\0"), SEAM_WASM_NAME("a"),  SEAM_WASM_NAME("a\0"),
};
#define NEXPORTS (sizeof export_names / sizeof export_names[0])

/* Type section with the single type () -> i32. */
static void type_i32(wasm_asm *m) {
    wasm_asm s = {0};
    asm_bytes(&s, "\1\x60\0\1\x7f", 5);
    asm_section(m, 1, &s);
}

/* n functions of type 0 exported under names[i], function i returning 10 + i. */
static void exported_functions(wasm_asm *m, const seam_wasm_name *names, uint32_t n) {
    wasm_asm s = {0};
    asm_u32(&s, n);
    for (uint32_t i = 0; i < n; i++)
        asm_byte(&s, 0);
    asm_section(m, 3, &s);
    asm_u32(&s, n);
    for (uint32_t i = 0; i < n; i++) {
        asm_name(&s, names[i].bytes, names[i].len);
        asm_byte(&s, 0);
        asm_u32(&s, i);
    }
    asm_section(m, 7, &s);
    asm_u32(&s, n);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t body[] = {4, 0, 0x41, (uint8_t)(10 + i), 0x0b};
        asm_bytes(&s, body, sizeof body);
    }
    asm_section(m, 10, &s);
}

static seam_wasm_module *decoded(const wasm_asm *m) {
    seam_wasm_module *module = NULL;
    char err[160] = "";
    seam_err e = seam_wasm_module_new(m->bytes, m->len, &module, err, sizeof err);
    if (e)
        fail_msg("module: %s (%s)", seam_err_str(e), err);
    return module;
}

/* Calls the export called name (a function () -> i32) and returns its result. */
static uint64_t call_export(seam_wasm_store *store, seam_wasm_instance *instance,
                            seam_wasm_name name) {
    seam_wasm_extern x;
    seam_wasm_value result = {0};
    assert_int_equal(seam_wasm_instance_export(instance, name, &x), SEAM_OK);
    assert_int_equal(x.kind, SEAM_WASM_EXTERN_FUNC);
    assert_int_equal(seam_wasm_call(store, x.as.func, NULL, 0, &result, 1, NULL), SEAM_OK);
    return result.bits;
}

static void hardening_15_nul_names_are_distinct_exports(void **state) {
    (void)state;
    wasm_asm m = {0};
    asm_header(&m);
    type_i32(&m);
    exported_functions(&m, export_names, NEXPORTS);
    seam_wasm_module *module = decoded(&m);
    seam_wasm_store *store = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_extern x;
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    assert_int_equal(seam_wasm_instantiate(store, module, NULL, NULL, &instance, NULL, NULL, 0),
                     SEAM_OK);
    /* each name reaches its own function */
    for (uint32_t i = 0; i < NEXPORTS; i++)
        assert_int_equal(call_export(store, instance, export_names[i]), 10 + i);
    /* names come back with their lengths */
    assert_int_equal(seam_wasm_instance_export_count(instance), NEXPORTS);
    for (uint32_t i = 0; i < NEXPORTS; i++) {
        seam_wasm_name name;
        assert_int_equal(seam_wasm_instance_export_at(instance, i, &name, &x), SEAM_OK);
        assert_true(seam_wasm_name_equal(name, export_names[i]));
    }
    /* a name that only shares a prefix (or its C-string reading) with an export is absent */
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("\0\0\0"), &x),
                     SEAM_ERR_WASM_EXPORT);
    assert_int_equal(seam_wasm_instance_export(instance, SEAM_WASM_NAME("a\0b"), &x),
                     SEAM_ERR_WASM_EXPORT);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

static void hardening_15_a_true_duplicate_is_still_refused(void **state) {
    (void)state;
    static const seam_wasm_name twice[][3] = {
        {SEAM_WASM_NAME("\0\1"), SEAM_WASM_NAME("\0"), SEAM_WASM_NAME("\0\1")},
        {SEAM_WASM_NAME(""), SEAM_WASM_NAME("x"), SEAM_WASM_NAME("")},
    };
    for (size_t i = 0; i < 2; i++) {
        wasm_asm m = {0};
        asm_header(&m);
        type_i32(&m);
        exported_functions(&m, twice[i], 3);
        seam_wasm_module *module = NULL;
        char err[160] = "";
        assert_int_equal(seam_wasm_module_new(m.bytes, m.len, &module, err, sizeof err),
                         SEAM_ERR_WASM_INVALID);
        assert_string_equal(err, "duplicate export name");
        assert_null(module);
        free(m.bytes);
    }
}

static seam_err host_zero(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                          uint64_t *results) {
    (void)ctx, (void)env, (void)args;
    results[0] = 100;
    return SEAM_OK;
}

static seam_err host_nul(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                         uint64_t *results) {
    (void)ctx, (void)env, (void)args;
    results[0] = 200;
    return SEAM_OK;
}

/* Imports "\0m"."" and "\0m"."\0" (both () -> i32) and exports "a" and "b" calling them. */
static seam_wasm_module *importing_module(wasm_asm *m) {
    wasm_asm s = {0};
    asm_header(m);
    type_i32(m);
    asm_u32(&s, 2);
    asm_name(&s, "\0m", 2);
    asm_name(&s, "", 0);
    asm_bytes(&s, "\0\0", 2);
    asm_name(&s, "\0m", 2);
    asm_name(&s, "\0", 1);
    asm_bytes(&s, "\0\0", 2);
    asm_section(m, 2, &s);
    asm_bytes(&s, "\2\0\0", 3);
    asm_section(m, 3, &s);
    asm_u32(&s, 2);
    asm_name(&s, "a", 1);
    asm_bytes(&s, "\0\2", 2);
    asm_name(&s, "b", 1);
    asm_bytes(&s, "\0\3", 2);
    asm_section(m, 7, &s);
    asm_bytes(&s, "\2\4\0\x10\0\x0b\4\0\x10\1\x0b", 11); /* call 0; call 1 */
    asm_section(m, 10, &s);
    return decoded(m);
}

static void hardening_15_imports_match_on_exact_bytes(void **state) {
    (void)state;
    wasm_asm m = {0};
    seam_wasm_module *module = importing_module(&m);
    seam_wasm_store *store = NULL;
    seam_wasm_imports *imports = NULL;
    seam_wasm_instance *instance = NULL;
    char err[160] = "";
    assert_int_equal(seam_wasm_store_new(NULL, &store), SEAM_OK);
    assert_int_equal(seam_wasm_imports_new(&imports), SEAM_OK);
    /* offered in the other order, so that a C-string match would pick the wrong one */
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("\0m"),
                                                SEAM_WASM_NAME("\0"), "->i", host_nul, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("\0m"),
                                                SEAM_WASM_NAME(""), "->i", host_zero, NULL),
                     SEAM_OK);
    assert_int_equal(
        seam_wasm_instantiate(store, module, imports, NULL, &instance, NULL, err, sizeof err),
        SEAM_OK);
    assert_int_equal(call_export(store, instance, SEAM_WASM_NAME("a")), 100);
    assert_int_equal(call_export(store, instance, SEAM_WASM_NAME("b")), 200);
    seam_wasm_imports_free(imports);

    /* offers under "\0m"."\0\0" and "m"."\0" match neither import */
    assert_int_equal(seam_wasm_imports_new(&imports), SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("\0m"),
                                                SEAM_WASM_NAME(""), "->i", host_zero, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("\0m"),
                                                SEAM_WASM_NAME("\0\0"), "->i", host_nul, NULL),
                     SEAM_OK);
    assert_int_equal(seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME("m"),
                                                SEAM_WASM_NAME("\0"), "->i", host_nul, NULL),
                     SEAM_OK);
    instance = NULL;
    assert_int_equal(
        seam_wasm_instantiate(store, module, imports, NULL, &instance, NULL, err, sizeof err),
        SEAM_ERR_WASM_LINK);
    assert_null(instance);
    assert_string_equal(err, "unknown import \\00m.\\00"); /* NUL bytes shown, not cut */
    seam_wasm_imports_free(imports);
    seam_wasm_store_free(store);
    seam_wasm_module_free(module);
    free(m.bytes);
}

static void hardening_15_custom_sections_are_found_by_exact_name(void **state) {
    (void)state;
    static const struct {
        seam_wasm_name name;
        uint8_t payload;
    } customs[] = {
        {SEAM_WASM_NAME("x\0"), 1},
        {SEAM_WASM_NAME("x"), 2},
        {SEAM_WASM_NAME(""), 3},
    };
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    for (size_t i = 0; i < 3; i++) {
        asm_name(&s, customs[i].name.bytes, customs[i].name.len);
        asm_byte(&s, customs[i].payload);
        asm_section(&m, 0, &s);
    }
    seam_wasm_module *module = decoded(&m);
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        assert_int_equal(seam_wasm_module_custom(module, customs[i].name, &data, &len), SEAM_OK);
        assert_int_equal(len, 1);
        assert_int_equal(data[0], customs[i].payload);
    }
    const uint8_t *data;
    size_t len;
    assert_int_equal(seam_wasm_module_custom(module, SEAM_WASM_NAME("\0"), &data, &len),
                     SEAM_ERR_NOT_FOUND);
    seam_wasm_module_free(module);
    free(m.bytes);
}

static void hardening_15_names_print_with_their_nul_bytes(void **state) {
    (void)state;
    char text[32];
    assert_string_equal(seam_wasm_name_print(text, sizeof text, SEAM_WASM_NAME("\0\1")),
                        "\\00\\01");
    assert_string_equal(seam_wasm_name_print(text, sizeof text, SEAM_WASM_NAME("caf\xc3\xa9")),
                        "caf\\c3\\a9");
    assert_string_equal(seam_wasm_name_print(text, sizeof text, SEAM_WASM_NAME("a\"\\b")),
                        "a\\22\\5cb");
    /* truncated at an escape boundary, always terminated */
    assert_string_equal(seam_wasm_name_print(text, 6, SEAM_WASM_NAME("\0\0\0")), "\\00");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hardening_15_nul_names_are_distinct_exports),
        cmocka_unit_test(hardening_15_a_true_duplicate_is_still_refused),
        cmocka_unit_test(hardening_15_imports_match_on_exact_bytes),
        cmocka_unit_test(hardening_15_custom_sections_are_found_by_exact_name),
        cmocka_unit_test(hardening_15_names_print_with_their_nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
