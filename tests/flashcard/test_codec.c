/* The host protocol's codec (docs/flashcard.md "Host protocol"): frames and values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "seam/flashcard.h"

static void frames_round_trip_and_never_read_past_input(void **state) {
    (void)state;
    uint8_t buf[64];
    size_t n = 0, used = 0;
    seam_flashcard_frame f = {0};
    assert_int_equal(seam_flashcard_frame_encode(0x12,
                                                 (const uint8_t *)"\x06\xA0\x00\x00\x05\x50\x55", 7,
                                                 buf, sizeof buf, &n),
                     SEAM_OK);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, ((uint8_t[]){0x12, 0, 0, 0, 7, 6, 0xA0}), 7);
    for (size_t cut = 0; cut < n; cut++) /* every shorter input is truncated */
        assert_int_equal(seam_flashcard_frame_decode(buf, cut, &f, &used), SEAM_ERR_TRUNCATED);
    assert_int_equal(seam_flashcard_frame_decode(buf, n, &f, &used), SEAM_OK);
    assert_int_equal(f.tag, 0x12);
    assert_int_equal(used, n);
    seam_gp_aid aid;
    assert_int_equal(seam_flashcard_aid_decode(f.value, f.len, &aid), SEAM_OK);
    assert_int_equal(aid.len, 6);
    assert_int_equal(seam_flashcard_aid_decode(f.value, f.len - 1, &aid), SEAM_ERR_FLASHCARD_FRAME);
    /* a length above the limit, and an encode that does not fit */
    const uint8_t huge[] = {0x02, 0x00, 0x10, 0x00, 0x01};
    assert_int_equal(seam_flashcard_frame_decode(huge, sizeof huge, &f, &used),
                     SEAM_ERR_FLASHCARD_FRAME);
    assert_int_equal(seam_flashcard_frame_encode(0x02, buf, 60, buf, sizeof buf, &n),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(n, 65);
}

static void values_decode_within_their_bounds(void **state) {
    (void)state;
    const uint8_t *cin, *module;
    size_t cin_len, module_len;
    const uint8_t store[] = {2, 0x11, 0x22, 0x00, 0x61, 0x73, 0x6D};
    assert_int_equal(
        seam_flashcard_store_decode(store, sizeof store, &cin, &cin_len, &module, &module_len),
        SEAM_OK);
    assert_int_equal(cin_len, 2);
    assert_int_equal(module_len, 4);
    assert_int_equal(seam_flashcard_store_decode(store, 3, &cin, &cin_len, &module, &module_len),
                     SEAM_ERR_FLASHCARD_FRAME); /* no module */
    const uint8_t zero[] = {0, 1, 2};
    assert_int_equal(seam_flashcard_store_decode(zero, 3, &cin, &cin_len, &module, &module_len),
                     SEAM_ERR_FLASHCARD_FRAME);
    /* LIST: one package, then a truncated one */
    const uint8_t list[] = {6, 0xA0, 0, 0, 5, 0x50, 0x55, 2, 0, 0, 0, 0x40, 0, 6, 0xA0};
    size_t pos = 0;
    seam_flashcard_package p;
    assert_int_equal(seam_flashcard_list_next(list, sizeof list, &pos, &p), SEAM_OK);
    assert_int_equal(p.version, 0x0200);
    assert_int_equal(p.size, 0x4000);
    assert_int_equal(seam_flashcard_list_next(list, sizeof list, &pos, &p),
                     SEAM_ERR_FLASHCARD_FRAME);
    /* STATUS */
    const uint8_t st[] = {2, 0xAB, 0xCD, 1, 0, 3, 0, 0, 1, 0};
    seam_flashcard_status s;
    assert_int_equal(seam_flashcard_status_decode(st, sizeof st, &s), SEAM_OK);
    assert_true(s.journal);
    assert_int_equal(s.packages, 3);
    assert_int_equal(s.relayed, 256);
    assert_int_equal(seam_flashcard_status_decode(st, sizeof st - 1, &s), SEAM_ERR_FLASHCARD_FRAME);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_round_trip_and_never_read_past_input),
        cmocka_unit_test(values_decode_within_their_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
