/*
 * The PC/SC host link where it can be tested without pcscd: libpcsclite is
 * pointed at a socket that does not exist (PCSCLITE_CSOCK_NAME), so every
 * call meets "pcscd is not running" and must say so, whatever the machine's
 * own pcscd is doing. The link against a served card runs in the interop
 * stage (docs/gp.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/link.h"

static int no_pcscd(void **state) {
    (void)state;
    return setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/seam-test/pcscd.comm", 1);
}

static void without_pcscd_opening_a_reader_says_so(void **state) {
    (void)state;
    seam_gp_link link;
    memset(&link, 0x5A, sizeof link);
    assert_int_equal(seam_link_pcsc_open("Virtual PCD 00 00", &link), SEAM_ERR_LINK_NO_SERVICE);
    assert_int_equal(((uint8_t *)&link)[0], 0x5A); /* untouched */
    assert_string_not_equal(seam_link_pcsc_error(), "");
    assert_int_equal(seam_link_pcsc_open(NULL, &link), SEAM_ERR_LINK_NO_SERVICE);
    assert_string_equal(seam_err_str(SEAM_ERR_LINK_NO_SERVICE),
                        "PC/SC not available (is pcscd running?)");
}

static void without_pcscd_listing_readers_says_so(void **state) {
    (void)state;
    char names[256];
    size_t len = 77;
    assert_int_equal(seam_link_pcsc_readers(names, sizeof names, &len), SEAM_ERR_LINK_NO_SERVICE);
    assert_int_equal(len, 77);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(without_pcscd_opening_a_reader_says_so, no_pcscd),
        cmocka_unit_test_setup(without_pcscd_listing_readers_says_so, no_pcscd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
