/*
 * seam_toolkit_find (include/seam/applet.h), the applet side's COMPREHENSION-TLV
 * search, compiled for the host (applet.h declares the host functions without
 * their wasm import attribute there; they are never called). Its answers are checked
 * against util's seam_ctlv_find on every prefix of a TERMINAL RESPONSE to
 * REQUEST SYNCHRONIZATION that carries seam's 3-byte counts object (7F D3 09,
 * docs/toolkit.md "seam's choices"; issue 13, S7), so it never reads past the
 * length it is given. Each prefix is copied into a buffer of exactly that size
 * (ASan sees any read past it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/applet.h"
#include "seam/util.h"

/* 81 03 01 5F 00 (command details: REQUEST SYNCHRONIZATION), 82 02 82 81, 83 01 00,
   7F D3 09 07 C8 0003 0005 0000 (counts: two-way, 3 sent, 5 received, no conflicts),
   then a 1-byte object after it (8D 02 04 41). */
static const uint8_t response[] = {0x81, 0x03, 0x01, 0x5F, 0x00, 0x82, 0x02, 0x82, 0x81,
                                   0x83, 0x01, 0x00, 0x7F, 0xD3, 0x09, 0x07, 0xC8, 0x00,
                                   0x03, 0x00, 0x05, 0x00, 0x00, 0x8D, 0x02, 0x04, 0x41};

static void s7_finds_the_three_byte_counts_object(void **state) {
    const uint8_t *value = NULL;
    uint32_t len = 0;
    (void)state;
    assert_true(seam_toolkit_find(response, sizeof response, 0x5309u, &value, &len));
    assert_int_equal(len, 7);
    assert_ptr_equal(value, response + 16);
    /* with or without the CR bit in the tag asked for */
    assert_true(seam_toolkit_find(response, sizeof response, 0xD309u, &value, &len));
    assert_int_equal(len, 7);
    /* the 1-byte object after it is still found, a 3-byte tag not there is not */
    assert_true(seam_toolkit_find(response, sizeof response, 0x0Du, &value, &len));
    assert_int_equal(len, 2);
    assert_false(seam_toolkit_find(response, sizeof response, 0x5301u, &value, &len));
    /* a 1-byte tag never matches a 3-byte one of the same low byte */
    assert_false(seam_toolkit_find(response, sizeof response, 0x09u, &value, &len));
}

static void every_prefix_agrees_with_the_util_codec(void **state) {
    static const uint32_t tags[] = {0x01u, 0x02u, 0x03u, 0x0Du, 0x5309u, 0x5301u, 0x53u};
    (void)state;
    for (size_t n = 0; n <= sizeof response; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, response, n);
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
            const uint8_t *value = NULL;
            uint32_t len = 0;
            seam_ctlv obj;
            bool found = seam_toolkit_find(copy, (uint32_t)n, tags[i], &value, &len);
            bool util = seam_ctlv_find(copy, n, (uint16_t)tags[i], &obj) == SEAM_OK;
            assert_int_equal(found, util);
            if (found) {
                assert_ptr_equal(value, obj.value);
                assert_int_equal(len, obj.len);
            }
        }
        free(copy);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s7_finds_the_three_byte_counts_object),
        cmocka_unit_test(every_prefix_agrees_with_the_util_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
