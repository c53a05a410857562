/*
 * A full disk (issue 9, item 8; X4): SQLite's SQLITE_FULL, which the fault
 * shim produces with SEAM_NVM_IO_DISK_FULL (every write that would grow a
 * file fails, until space is back), is SEAM_ERR_NVM_FULL with the
 * transaction FAILED; a rollback leaves the image as it was, reads keep
 * working while the disk is full, and the same transaction commits once
 * space is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvm_test.h"

#define T_DATA 7

/* Puts a 20000-byte record (new pages: the file grows) and commits. */
static seam_err grow(seam_nvm *nvm, uint8_t fill) {
    static uint8_t value[20000];
    memset(value, fill, sizeof value);
    seam_err err = seam_nvm_begin(nvm);
    if (!err)
        err = seam_nvm_put(nvm, T_DATA, (const uint8_t *)"big", 3, value, sizeof value);
    if (!err)
        err = seam_nvm_commit(nvm);
    return err;
}

static void disk_full_is_nvm_full_and_changes_nothing(void **state) {
    scratch *s = *state;
    seam_nvm *nvm = NULL;
    char value[32];
    assert_int_equal(seam_nvm_create(scratch_path(s, "card.db"), 0, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_DATA, "kept", "before"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    size_t used = seam_nvm_used_bytes(nvm);
    uint64_t start = seam_nvm_io_points(nvm);
    assert_int_equal(grow(nvm, 1), SEAM_OK);
    uint64_t points = seam_nvm_io_points(nvm) - start;
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_delete(nvm, T_DATA, (const uint8_t *)"big", 3), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    unsigned refused = 0;
    for (uint64_t n = 1; n <= points; n++) {
        assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_DISK_FULL, n), SEAM_OK);
        seam_err err = grow(nvm, 2);
        if (err == SEAM_OK) { /* every write from n on fitted inside its file */
            assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_OFF, 0), SEAM_OK);
            assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
            assert_int_equal(seam_nvm_delete(nvm, T_DATA, (const uint8_t *)"big", 3), SEAM_OK);
            assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
            continue;
        }
        refused++;
        assert_int_equal(err, SEAM_ERR_NVM_FULL);
        assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_FAILED);
        assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
        /* still full: reads work and see the image as it was */
        assert_int_equal(seam_nvm_used_bytes(nvm), used);
        assert_int_equal(get_str(nvm, T_DATA, "kept", value, sizeof value), SEAM_OK);
        assert_string_equal(value, "before");
        size_t len = 0;
        assert_int_equal(seam_nvm_get(nvm, T_DATA, (const uint8_t *)"big", 3, NULL, 0, &len),
                         SEAM_ERR_NOT_FOUND);
        assert_int_equal(grow(nvm, 3), SEAM_ERR_NVM_FULL);
        assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
        /* space is back */
        assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_OFF, 0), SEAM_OK);
        assert_int_equal(grow(nvm, 4), SEAM_OK);
        assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
        assert_int_equal(seam_nvm_delete(nvm, T_DATA, (const uint8_t *)"big", 3), SEAM_OK);
        assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    }
    assert_true(refused > 0);
    seam_nvm_close(nvm);
    /* the image reopens whole */
    assert_int_equal(seam_nvm_open(scratch_path(s, "card.db"), &nvm), SEAM_OK);
    assert_int_equal(get_str(nvm, T_DATA, "kept", value, sizeof value), SEAM_OK);
    assert_string_equal(value, "before");
    seam_nvm_close(nvm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(disk_full_is_nvm_full_and_changes_nothing, scratch_setup,
                                        scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
