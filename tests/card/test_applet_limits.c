/*
 * Resource limits of the applet runtime (issue 9 item 12): whatever an applet
 * does, the host memory it makes the card allocate stays within a small fixed
 * amount (docs/applet-abi.md, "Resource limits"). The applets here are
 * hand-assembled so that they can ask for what no compiler would emit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card/applet/applet_runtime.h"
#include "seam/wasm.h"
#include "wasm/wasm_asm.h"

/* Host bytes one applet instance may cost beyond its module (see docs/applet-abi.md):
   memory (1 MiB at most), value stack, frames, response and tables; generous. */
#define INSTANCE_HOST_BOUND ((size_t)4 << 20)

/* Appends the seam.package section of package A0 00 00 05 53 with one applet. */
static void package_section(wasm_asm *m) {
    static const uint8_t tlv[] = {0x4F, 0x05, 0xA0, 0x00, 0x00, 0x05, 0x53,       /* package */
                                  0xC0, 0x02, 0x01, 0x00, 0xC1, 0x02, 0x01, 0x00, /* versions */
                                  0x61, 0x08, 0x4F, 0x06, 0xA0, 0x00, 0x00, 0x05, 0x53, 0x01};
    wasm_asm s = {0};
    asm_name(&s, "seam.package", 12);
    asm_bytes(&s, tlv, sizeof tlv);
    asm_section(m, 0, &s);
}

/*
 * An applet whose process() runs body (which leaves an i32 status word) with
 * ntables funcref tables of table_min entries each, one page of memory.
 */
static seam_wasm_module *applet_module(uint32_t ntables, uint32_t table_min, const uint8_t *body,
                                       size_t body_len) {
    wasm_asm m = {0}, s = {0};
    asm_header(&m);
    asm_bytes(&s, "\1\x60\0\1\x7f", 5); /* type 0: () -> i32 */
    asm_section(&m, 1, &s);
    asm_bytes(&s, "\1\0", 2);
    asm_section(&m, 3, &s);
    asm_u32(&s, ntables);
    for (uint32_t i = 0; i < ntables; i++) {
        asm_bytes(&s, "\x70\0", 2);
        asm_u32(&s, table_min);
    }
    asm_section(&m, 4, &s);
    asm_bytes(&s, "\1\0\1", 3);
    asm_section(&m, 5, &s);
    asm_u32(&s, 2);
    asm_name(&s, "memory", 6);
    asm_bytes(&s, "\2\0", 2);
    asm_name(&s, "process", 7);
    asm_bytes(&s, "\0\0", 2);
    asm_section(&m, 7, &s);
    wasm_asm code = {0};
    asm_byte(&code, 0); /* no locals */
    asm_bytes(&code, body, body_len);
    asm_byte(&code, 0x0b);
    asm_u32(&s, 1);
    asm_u32(&s, (uint32_t)code.len);
    asm_bytes(&s, code.bytes, code.len);
    free(code.bytes);
    asm_section(&m, 10, &s);
    package_section(&m);
    seam_wasm_module *module = NULL;
    char err[160] = "";
    seam_err e = seam_wasm_module_new(m.bytes, m.len, &module, err, sizeof err);
    if (e)
        fail_msg("module: %s (%s)", seam_err_str(e), err);
    free(m.bytes);
    return module;
}

/* Sends 80 10 00 00 to process(). */
static seam_applet_result process(seam_applet *applet) {
    static const uint8_t apdu[] = {0x80, 0x10, 0x00, 0x00};
    seam_applet_result result;
    assert_int_equal(seam_applet_process(applet, apdu, sizeof apdu, &result), SEAM_OK);
    return result;
}

/* table.grow 0 by 8,000,000 null entries: 9000 when refused (-1), 6A81 when granted. */
static void hardening_12_table_grow_by_millions_gets_minus_one(void **state) {
    (void)state;
    wasm_asm body = {0};
    asm_bytes(&body, "\xd0\x70", 2); /* ref.null func */
    asm_byte(&body, 0x41);
    asm_s32(&body, 8000000);
    asm_bytes(&body, "\xfc\x0f\x00", 3); /* table.grow 0 */
    asm_bytes(&body, "\x41\x7f\x46", 3); /* i32.const -1; i32.eq */
    asm_bytes(&body, "\x04\x7f\x41", 3); /* if (result i32) i32.const 9000 */
    asm_s32(&body, 0x9000);
    asm_bytes(&body, "\x05\x41", 2); /* else i32.const 6A81 */
    asm_s32(&body, 0x6A81);
    asm_byte(&body, 0x0b);
    seam_wasm_module *module = applet_module(1, 1, body.bytes, body.len);
    free(body.bytes);
    seam_applet *applet = NULL;
    seam_applet_result result;
    size_t before = host_allocated_bytes();
    assert_int_equal(seam_applet_install(module, NULL, NULL, 0, &result, &applet), SEAM_OK);
    result = process(applet);
    size_t used = host_allocated_bytes() - before;
    if (used > INSTANCE_HOST_BOUND)
        fail_msg("the instance holds %zu host bytes after table.grow (bound %zu)", used,
                 INSTANCE_HOST_BOUND);
    assert_false(result.rollback);
    assert_int_equal(result.sw, 0x9000);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

/* Many tables, each below the per-table limit, together above what an applet may have. */
static void hardening_12_many_tables_are_bounded_together(void **state) {
    (void)state;
    static const uint8_t body[] = {0x41, 0x80, 0xA0, 0x02}; /* i32.const 9000 */
    seam_wasm_module *module = applet_module(64, SEAM_APPLET_MAX_TABLE, body, sizeof body);
    seam_applet *applet = NULL;
    seam_applet_result result;
    size_t before = host_allocated_bytes();
    seam_err e = seam_applet_install(module, NULL, NULL, 0, &result, &applet);
    size_t used = host_allocated_bytes() - before;
    if (used > INSTANCE_HOST_BOUND)
        fail_msg("installing holds %zu host bytes (bound %zu)", used, INSTANCE_HOST_BOUND);
    assert_int_equal(e, SEAM_ERR_WASM_LIMIT);
    assert_null(applet);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

/* Appends: if (the i32 on the stack != want) return sw. */
static void return_unless(wasm_asm *body, int32_t want, int32_t sw) {
    asm_byte(body, 0x41);
    asm_s32(body, want);
    asm_bytes(body, "\x47\x04\x40\x41", 4); /* i32.ne; if; i32.const sw */
    asm_s32(body, sw);
    asm_bytes(body, "\x0f\x0b", 2); /* return; end */
}

/* Memory and tables grow up to the applet limits exactly, and not one entry further. */
static void hardening_12_applet_growth_stops_at_the_limits(void **state) {
    (void)state;
    wasm_asm body = {0};
    asm_byte(&body, 0x41); /* memory.grow by 16 pages (1 page already): -1 */
    asm_s32(&body, SEAM_APPLET_MAX_PAGES);
    asm_bytes(&body, "\x40\x00", 2);
    return_unless(&body, -1, 0x6A82);
    asm_byte(&body, 0x41); /* memory.grow by 15 pages: the old size, 1 */
    asm_s32(&body, SEAM_APPLET_MAX_PAGES - 1);
    asm_bytes(&body, "\x40\x00", 2);
    return_unless(&body, 1, 0x6A83);
    asm_bytes(&body, "\xd0\x70\x41", 3); /* table.grow to the limit: the old size, 1 */
    asm_s32(&body, SEAM_APPLET_MAX_TABLE - 1);
    asm_bytes(&body, "\xfc\x0f\x00", 3);
    return_unless(&body, 1, 0x6A84);
    asm_bytes(&body, "\xd0\x70\x41\x01\xfc\x0f\x00", 7); /* one more entry: -1 */
    return_unless(&body, -1, 0x6A85);
    asm_byte(&body, 0x41);
    asm_s32(&body, 0x9000);
    seam_wasm_module *module = applet_module(1, 1, body.bytes, body.len);
    free(body.bytes);
    seam_applet *applet = NULL;
    seam_applet_result result;
    size_t before = host_allocated_bytes();
    assert_int_equal(seam_applet_install(module, NULL, NULL, 0, &result, &applet), SEAM_OK);
    result = process(applet);
    size_t used = host_allocated_bytes() - before;
    assert_false(result.rollback);
    assert_int_equal(result.sw, 0x9000);
    if (used > INSTANCE_HOST_BOUND)
        fail_msg("the instance holds %zu host bytes at its limits (bound %zu)", used,
                 INSTANCE_HOST_BOUND);
    uint32_t pages = 0;
    assert_non_null(seam_applet_memory(applet, &pages));
    assert_int_equal(pages, SEAM_APPLET_MAX_PAGES);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hardening_12_table_grow_by_millions_gets_minus_one),
        cmocka_unit_test(hardening_12_many_tables_are_bounded_together),
        cmocka_unit_test(hardening_12_applet_growth_stops_at_the_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
