/*
 * Applet runtime and package metadata: the applets of apps/ built to wasm
 * (SEAM_TEST_APPS names their directory) run through the card's runtime.
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
#include "card/applet/package.h"
#include "seam/wasm.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

/* Loads apps/<name>.wasm as a module. */
static seam_wasm_module *load_module(const char *name) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    seam_wasm_module *module = NULL;
    uint8_t *bytes;
    long len;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s.wasm", dir != NULL ? dir : SEAM_TEST_APPS, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes = malloc((size_t)len);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_int_equal(seam_wasm_module_new(bytes, (size_t)len, &module, NULL, 0), SEAM_OK);
    free(bytes);
    return module;
}

/* Sends a command built from header bytes and data (short form, Le = 00 when
 * le is set) and returns the result. */
static seam_applet_result send(seam_applet *applet, uint8_t ins, uint8_t p1, uint8_t p2,
                               const uint8_t *data, size_t nc, bool le) {
    uint8_t apdu[300] = {0x80, ins, p1, p2};
    size_t len = 4;
    seam_applet_result result;
    if (nc > 0) {
        apdu[len++] = (uint8_t)nc;
        memcpy(apdu + len, data, nc);
        len += nc;
    }
    if (le) {
        apdu[len++] = 0;
    }
    assert_int_equal(seam_applet_process(applet, apdu, len, &result), SEAM_OK);
    return result;
}

static seam_applet *install(const seam_wasm_module *module, const uint8_t *params, size_t len) {
    seam_applet *applet = NULL;
    seam_applet_result result;
    assert_int_equal(seam_applet_install(module, NULL, params, len, &result, &applet), SEAM_OK);
    assert_false(result.rollback);
    assert_int_equal(result.sw, 0x9000);
    assert_int_equal(seam_applet_select(applet, &result), SEAM_OK);
    assert_int_equal(result.sw, 0x9000);
    return applet;
}

/* Saves the whole memory as the committed image (the card's NVM copy). */
static uint8_t *save_image(seam_applet *applet, uint32_t *pages) {
    const uint8_t *base = seam_applet_memory(applet, pages);
    uint8_t *image = malloc((size_t)*pages * 65536u);
    assert_non_null(image);
    memcpy(image, base, (size_t)*pages * 65536u);
    seam_applet_clear_dirty(applet);
    return image;
}

/* ---- hello ------------------------------------------------------------------ */

static void test_hello(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("hello");
    seam_applet *applet = install(module, NULL, 0);
    const uint8_t data[] = {1, 2, 3, 4, 5};
    seam_applet_result r = send(applet, 0x10, 0, 0, data, sizeof data, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(r.data_len, sizeof data);
    assert_memory_equal(r.data, data, sizeof data);
    r = send(applet, 0x20, 0, 0, NULL, 0, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(r.data_len, 9);
    assert_memory_equal(r.data, "hello 1.0", 9);
    r = send(applet, 0x99, 0, 0, NULL, 0, false);
    assert_int_equal(r.sw, 0x6D00);
    assert_int_equal(r.data_len, 0);
    /* A malformed APDU is refused before the applet runs. */
    const uint8_t bad[] = {0x80, 0x10, 0, 0, 5, 1};
    seam_applet_result unchanged;
    assert_int_equal(seam_applet_process(applet, bad, sizeof bad, &unchanged), SEAM_ERR_MALFORMED);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

/* ---- purse ------------------------------------------------------------------ */

static const uint8_t pin[] = {'1', '2', '3', '4'};

static void amount(uint8_t out[4], uint32_t v) {
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void check_balance(seam_applet *applet, uint32_t balance, uint32_t counter) {
    seam_applet_result r = send(applet, 0x50, 0, 0, NULL, 0, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(r.data_len, 8);
    assert_int_equal(get_u32(r.data), balance);
    assert_int_equal(get_u32(r.data + 4), counter);
}

static void test_purse_pin_blocks(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    seam_applet *applet = install(module, NULL, 0);
    const uint8_t wrong[] = {'9', '9', '9', '9'};
    assert_int_equal(send(applet, 0x20, 0, 0, wrong, 4, false).sw, 0x63C2);
    assert_int_equal(send(applet, 0x20, 0, 0, NULL, 0, false).sw, 0x63C2);
    assert_int_equal(send(applet, 0x20, 0, 0, wrong, 3, false).sw, 0x63C1);
    assert_int_equal(send(applet, 0x20, 0, 0, wrong, 4, false).sw, 0x63C0);
    /* Blocked: even the right PIN is refused. */
    assert_int_equal(send(applet, 0x20, 0, 0, pin, 4, false).sw, 0x6983);
    uint8_t a[4];
    amount(a, 5);
    assert_int_equal(send(applet, 0x30, 0, 0, a, 4, false).sw, 0x6985);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

static void test_purse_transactions(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    seam_applet *applet = install(module, NULL, 0);
    uint8_t a[4];
    seam_applet_result r;
    /* Without the PIN: refused, nothing changes. */
    amount(a, 10);
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x6985);
    assert_int_equal(send(applet, 0x30, 0, 0, a, 4, false).sw, 0x6985);
    check_balance(applet, 0, 0);
    /* A wrong try, then the right PIN resets the counter of tries. */
    assert_int_equal(send(applet, 0x20, 0, 0, a, 4, false).sw, 0x63C2);
    assert_int_equal(send(applet, 0x20, 0, 0, pin, 4, false).sw, 0x9000);
    assert_int_equal(send(applet, 0x20, 0, 0, NULL, 0, false).sw, 0x9000);
    amount(a, 100);
    assert_int_equal(send(applet, 0x30, 0, 0, a, 4, false).sw, 0x9000);
    amount(a, 30);
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x9000);
    /* Bad length and overdraft change nothing. */
    assert_int_equal(send(applet, 0x40, 0, 0, a, 3, false).sw, 0x6A80);
    amount(a, 71);
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x6985);
    check_balance(applet, 70, 2);
    r = send(applet, 0x60, 0, 0, NULL, 0, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(r.data_len, 26);
    const uint8_t log[26] = {2, 0, 0, 0, 30,  0, 0, 0, 70,  0, 0, 0, 2,
                             1, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 1};
    assert_memory_equal(r.data, log, sizeof log);
    /* Deselect clears the PIN state. */
    assert_int_equal(seam_applet_deselect(applet, &r), SEAM_OK);
    assert_int_equal(seam_applet_select(applet, &r), SEAM_OK);
    amount(a, 1);
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x6985);
    check_balance(applet, 70, 2);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

static void test_purse_install_params(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    const uint8_t params[] = {5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0x01, 0x00};
    seam_applet *applet = install(module, params, sizeof params);
    check_balance(applet, 256, 0);
    assert_int_equal(send(applet, 0x20, 0, 0, pin, 4, false).sw, 0x63C2);
    assert_int_equal(send(applet, 0x20, 0, 0, params + 1, 5, false).sw, 0x9000);
    seam_applet_free(applet);
    /* Bad parameters: install answers 6A80. */
    const uint8_t bad[] = {2, 'a', 'b'};
    seam_applet_result result;
    assert_int_equal(seam_applet_install(module, NULL, bad, sizeof bad, &result, &applet), SEAM_OK);
    assert_int_equal(result.sw, 0x6A80);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

static void test_purse_restore_and_dirty_pages(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    seam_applet *applet = install(module, NULL, 0);
    uint32_t pages;
    uint8_t a[4];
    uint32_t dirty[64];
    uint8_t *image = save_image(applet, &pages);
    assert_int_equal(seam_applet_stack_end(applet), 8192);
    assert_int_equal(send(applet, 0x20, 0, 0, pin, 4, false).sw, 0x9000);
    amount(a, 50);
    assert_int_equal(send(applet, 0x30, 0, 0, a, 4, false).sw, 0x9000);
    seam_applet_clear_dirty(applet);
    amount(a, 20);
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x9000);
    size_t n = seam_applet_dirty_pages(applet, dirty, 64);
    print_message("purse: %zu dirty page(s) after a debit (stack pages excluded)\n", n);
    assert_true(n >= 1 && n <= 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(dirty[i] >= 2); /* pages 0 and 1 are the 8 KiB stack */
    }
    free(image);
    image = save_image(applet, &pages);
    seam_applet_free(applet);
    /* Restore from the saved image keeps balance, counter and log. */
    assert_int_equal(seam_applet_restore(module, NULL, image, pages, &applet), SEAM_OK);
    check_balance(applet, 30, 2);
    seam_applet_result r = send(applet, 0x60, 0, 0, NULL, 0, true);
    assert_int_equal(r.data_len, 26);
    assert_int_equal(r.data[0], 2);
    assert_int_equal(r.data[13], 1);
    /* The PIN state was transient: gone after the restore. */
    assert_int_equal(send(applet, 0x40, 0, 0, a, 4, false).sw, 0x6985);
    seam_applet_free(applet);
    /* Images that do not fit are refused. */
    assert_int_equal(seam_applet_restore(module, NULL, image, 0, &applet), SEAM_ERR_CARD_IMAGE);
    assert_null(applet);
    assert_int_equal(seam_applet_restore(module, NULL, image, 1, &applet), SEAM_ERR_CARD_IMAGE);
    assert_null(applet);
    free(image);
    seam_wasm_module_free(module);
}

static void test_purse_isolation(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    seam_applet *first = install(module, NULL, 0);
    seam_applet *second = install(module, NULL, 0);
    uint8_t a[4];
    amount(a, 500);
    assert_int_equal(send(first, 0x20, 0, 0, pin, 4, false).sw, 0x9000);
    assert_int_equal(send(first, 0x30, 0, 0, a, 4, false).sw, 0x9000);
    check_balance(first, 500, 1);
    check_balance(second, 0, 0);
    /* PIN state is per instance too. */
    assert_int_equal(send(second, 0x30, 0, 0, a, 4, false).sw, 0x6985);
    assert_ptr_not_equal(seam_applet_memory(first, NULL), seam_applet_memory(second, NULL));
    seam_applet_free(first);
    seam_applet_free(second);
    seam_wasm_module_free(module);
}

/* ---- traps and host functions ------------------------------------------------ */

/* Runs ins, expects 6F00 with rollback and the trap code, rolls back and
 * checks that the counter is unchanged. */
static void expect_trap(seam_applet *applet, uint8_t ins, seam_wasm_trap_code code,
                        const uint8_t *image, uint32_t pages, uint32_t counter) {
    const uint8_t data[4] = {1, 2, 3, 4};
    seam_applet_result r = send(applet, ins, 0, 0, data, sizeof data, false);
    assert_int_equal(r.sw, 0x6F00);
    assert_true(r.rollback);
    assert_int_equal(r.trap.code, code);
    assert_int_equal(r.data_len, 0);
    assert_int_equal(seam_applet_rollback(applet, image, pages), SEAM_OK);
    r = send(applet, 0x01, 0, 0, NULL, 0, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(get_u32(r.data), counter + 1);
}

static void test_trap_rolls_back(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("test_host");
    seam_applet *applet = NULL;
    seam_applet_result r;
    seam_applet_options options = {.fuel_per_call = 200000};
    uint32_t pages;
    assert_int_equal(seam_applet_install(module, &options, NULL, 0, &r, &applet), SEAM_OK);
    r = send(applet, 0x01, 0, 0, NULL, 0, true);
    assert_int_equal(get_u32(r.data), 1);
    uint8_t *image = save_image(applet, &pages);
    expect_trap(applet, 0x02, SEAM_WASM_TRAP_UNREACHABLE, image, pages, 1);
    free(image);
    image = save_image(applet, &pages);
    expect_trap(applet, 0x03, SEAM_WASM_TRAP_FUEL_EXHAUSTED, image, pages, 2);
    free(image);
    image = save_image(applet, &pages);
    /* Out-of-bounds guest pointers and transient ranges trap cleanly (X3). */
    r = send(applet, 0x04, 0, 0, NULL, 0, false);
    assert_true(r.rollback);
    assert_int_equal(r.trap.code, SEAM_WASM_TRAP_HOST);
    assert_non_null(strstr(r.trap.message, "apdu_send"));
    assert_int_equal(seam_applet_rollback(applet, image, pages), SEAM_OK);
    expect_trap(applet, 0x05, SEAM_WASM_TRAP_HOST, image, pages, 3);
    free(image);
    image = save_image(applet, &pages);
    expect_trap(applet, 0x06, SEAM_WASM_TRAP_HOST, image, pages, 4);
    free(image);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

static void test_host_crypto(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("test_host");
    seam_applet *applet = install(module, NULL, 0);
    static const uint8_t abc_sha256[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                           0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                           0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                           0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    seam_applet_result r = send(applet, 0x10, 0, 0, (const uint8_t *)"abc", 3, true);
    assert_int_equal(r.sw, 0x9000);
    assert_memory_equal(r.data, abc_sha256, 32);
    r = send(applet, 0x11, 0, 0, (const uint8_t *)"abc", 3, true);
    assert_int_equal(r.data_len, 32);
    /* AES: CBC encrypt then decrypt gives the data back; bad length is 6A80. */
    uint8_t plain[32], cipher[32];
    for (int i = 0; i < 32; i++) {
        plain[i] = (uint8_t)(i * 7);
    }
    r = send(applet, 0x12, 1, 0, plain, 32, true);
    assert_int_equal(r.sw, 0x9000);
    memcpy(cipher, r.data, 32);
    assert_memory_not_equal(cipher, plain, 32);
    r = send(applet, 0x12, 3, 0, cipher, 32, true);
    assert_memory_equal(r.data, plain, 32);
    r = send(applet, 0x12, 0, 0, plain, 32, true);
    assert_memory_equal(r.data, cipher, 16); /* ECB = CBC with a zero IV on block 1 */
    assert_int_equal(send(applet, 0x12, 0, 0, plain, 15, true).sw, 0x6A80);
    assert_int_equal(send(applet, 0x12, 7, 0, plain, 16, true).sw, 0x6A80);
    /* P-256: a signature verifies, a flipped digest does not. */
    r = send(applet, 0x13, 0, 0, (const uint8_t *)"msg", 3, true);
    assert_int_equal(r.sw, 0x9000);
    assert_int_equal(r.data_len, 65 + 64 + 2);
    assert_int_equal(r.data[0], 0x04);
    assert_int_equal(r.data[129], 1);
    assert_int_equal(r.data[130], 0);
    r = send(applet, 0x14, 16, 0, NULL, 0, true);
    assert_int_equal(r.data_len, 16);
    /* Transient buffers: deselect clears kind 1, reset clears kind 0. */
    const uint8_t v[4] = {9, 8, 7, 6}, zero[4] = {0};
    assert_int_equal(send(applet, 0x15, 0, 1, v, 4, false).sw, 0x9000);
    assert_int_equal(send(applet, 0x15, 1, 1, v, 4, false).sw, 0x9000);
    assert_int_equal(seam_applet_deselect(applet, &r), SEAM_OK);
    assert_memory_equal(send(applet, 0x15, 0, 0, NULL, 0, true).data, v, 4);
    assert_memory_equal(send(applet, 0x15, 1, 0, NULL, 0, true).data, zero, 4);
    seam_applet_reset(applet);
    assert_memory_equal(send(applet, 0x15, 0, 0, NULL, 0, true).data, zero, 4);
    seam_applet_free(applet);
    seam_wasm_module_free(module);
}

/* ---- package metadata ------------------------------------------------------- */

static void test_package_metadata(void **state) {
    (void)state;
    seam_wasm_module *module = load_module("purse");
    seam_package_info info;
    const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    const uint8_t applet_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    assert_int_equal(seam_package_read(module, &info), SEAM_OK);
    assert_int_equal(info.aid.len, sizeof aid);
    assert_memory_equal(info.aid.bytes, aid, sizeof aid);
    assert_int_equal(info.version, 0x0100);
    assert_int_equal(info.platform_version, 0x0100);
    assert_int_equal(info.applet_count, 1);
    assert_true(seam_package_has_applet(&info, applet_aid, sizeof applet_aid));
    assert_false(seam_package_has_applet(&info, aid, sizeof aid));
    seam_wasm_module_free(module);
}

#define AID5 0x4F, 5, 0xA0, 0, 0, 0, 1
#define VER  0xC0, 2, 1, 0
#define PLAT 0xC1, 2, 1, 0
#define APP  0x61, 7, 0x4F, 5, 0xA0, 0, 0, 0, 2

static void check_rejected(const uint8_t *in, size_t len, seam_err expected) {
    seam_package_info info;
    memset(&info, 0x5A, sizeof info);
    seam_package_info before = info;
    assert_int_equal(seam_package_parse(in, len, &info), expected);
    assert_memory_equal(&info, &before, sizeof info);
}

static void test_package_rejects_malformed(void **state) {
    (void)state;
    const uint8_t good[] = {AID5, VER, PLAT, APP};
    seam_package_info info;
    assert_int_equal(seam_package_parse(good, sizeof good, &info), SEAM_OK);
    const uint8_t no_aid[] = {VER, PLAT, APP};
    check_rejected(no_aid, sizeof no_aid, SEAM_ERR_CARD_PACKAGE_FIELD);
    const uint8_t no_applet[] = {AID5, VER, PLAT};
    check_rejected(no_applet, sizeof no_applet, SEAM_ERR_CARD_PACKAGE_FIELD);
    const uint8_t two_versions[] = {AID5, VER, VER, PLAT, APP};
    check_rejected(two_versions, sizeof two_versions, SEAM_ERR_CARD_PACKAGE_FIELD);
    const uint8_t same_applet[] = {AID5, VER, PLAT, APP, APP};
    check_rejected(same_applet, sizeof same_applet, SEAM_ERR_CARD_PACKAGE_FIELD);
    const uint8_t short_aid[] = {0x4F, 4, 0xA0, 0, 0, 0, VER, PLAT, APP};
    check_rejected(short_aid, sizeof short_aid, SEAM_ERR_CARD_PACKAGE_MALFORMED);
    const uint8_t long_version[] = {AID5, 0xC0, 3, 1, 0, 0, PLAT, APP};
    check_rejected(long_version, sizeof long_version, SEAM_ERR_CARD_PACKAGE_MALFORMED);
    const uint8_t truncated[] = {AID5, VER, PLAT, 0x61, 7, 0x4F, 5, 0xA0};
    check_rejected(truncated, sizeof truncated, SEAM_ERR_CARD_PACKAGE_MALFORMED);
    const uint8_t unknown[] = {AID5, VER, PLAT, APP, 0xC5, 0};
    check_rejected(unknown, sizeof unknown, SEAM_ERR_CARD_PACKAGE_MALFORMED);
    const uint8_t applet_extra[] = {AID5, VER, PLAT, 0x61, 9, 0x4F, 5, 0xA0, 0, 0, 0, 2, 0xC0, 0};
    check_rejected(applet_extra, sizeof applet_extra, SEAM_ERR_CARD_PACKAGE_MALFORMED);
    const uint8_t newer[] = {AID5, VER, 0xC1, 2, 9, 0, APP};
    check_rejected(newer, sizeof newer, SEAM_ERR_CARD_PLATFORM);
    check_rejected(good, 0, SEAM_ERR_CARD_PACKAGE_FIELD);
}

static void test_module_without_metadata(void **state) {
    (void)state;
    /* (module (memory 1) (func (export "process") (result i32) i32.const 0x9000)) */
    const uint8_t wasm[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
                            0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
                            0x07, 0x0b, 0x01, 0x07, 0x70, 0x72, 0x6f, 0x63, 0x65, 0x73, 0x73, 0x00,
                            0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x80, 0xa0, 0x02, 0x0b};
    seam_wasm_module *module = NULL;
    seam_applet *applet = (seam_applet *)1;
    seam_applet_result r;
    seam_package_info info;
    assert_int_equal(seam_wasm_module_new(wasm, sizeof wasm, &module, NULL, 0), SEAM_OK);
    assert_int_equal(seam_package_read(module, &info), SEAM_ERR_CARD_PACKAGE_MISSING);
    assert_int_equal(seam_applet_install(module, NULL, NULL, 0, &r, &applet),
                     SEAM_ERR_CARD_PACKAGE_MISSING);
    assert_null(applet);
    seam_wasm_module_free(module);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_purse_pin_blocks),
        cmocka_unit_test(test_purse_transactions),
        cmocka_unit_test(test_purse_install_params),
        cmocka_unit_test(test_purse_restore_and_dirty_pages),
        cmocka_unit_test(test_purse_isolation),
        cmocka_unit_test(test_trap_rolls_back),
        cmocka_unit_test(test_host_crypto),
        cmocka_unit_test(test_package_metadata),
        cmocka_unit_test(test_package_rejects_malformed),
        cmocka_unit_test(test_module_without_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
