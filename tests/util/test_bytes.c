/* Tests for the byte helpers: compare, zero, big-endian access, seam_buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/util.h"
#include "util_test.h"

static void ct_equal_compares_every_byte(void **state) {
    (void)state;
    const uint8_t a[] = {0x01, 0x02, 0x03, 0x04, 0x05};
    uint8_t *left = exact_copy(a, sizeof a);
    uint8_t *right = exact_copy(a, sizeof a);
    assert_true(seam_ct_equal(left, right, sizeof a));
    for (size_t i = 0; i < sizeof a; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            right[i] ^= (uint8_t)(1u << bit);
            assert_false(seam_ct_equal(left, right, sizeof a));
            right[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Only the first len bytes count. */
    right[4] = 0xEE;
    assert_true(seam_ct_equal(left, right, 4));
    assert_false(seam_ct_equal(left, right, 5));
    assert_true(seam_ct_equal(left, right, 0));
    free(left);
    free(right);
}

static void secure_zero_clears_exactly_len_bytes(void **state) {
    (void)state;
    uint8_t secret[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    seam_secure_zero(secret + 1, 6);
    const uint8_t expected[8] = {0x11, 0, 0, 0, 0, 0, 0, 0x88};
    assert_memory_equal(secret, expected, sizeof secret);
    seam_secure_zero(secret, 0);
    assert_memory_equal(secret, expected, sizeof secret);
}

static const struct {
    uint8_t bytes[4];
    uint16_t be16;
    uint32_t be32;
} endian_vectors[] = {
    {{0x00, 0x00, 0x00, 0x00}, 0x0000, 0x00000000},
    {{0x12, 0x34, 0x56, 0x78}, 0x1234, 0x12345678},
    {{0x90, 0x00, 0x6A, 0x82}, 0x9000, 0x90006A82},
    {{0xFF, 0xFE, 0x80, 0x01}, 0xFFFE, 0xFFFE8001},
};

static void big_endian_loads_and_stores(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof endian_vectors / sizeof endian_vectors[0]; i++) {
        uint8_t *in2 = exact_copy(endian_vectors[i].bytes, 2);
        uint8_t *in4 = exact_copy(endian_vectors[i].bytes, 4);
        assert_int_equal(seam_get_be16(in2), endian_vectors[i].be16);
        assert_int_equal(seam_get_be32(in4), endian_vectors[i].be32);

        uint8_t out[6];
        memset(out, 0xA5, sizeof out);
        seam_put_be16(out + 1, endian_vectors[i].be16);
        assert_memory_equal(out + 1, endian_vectors[i].bytes, 2);
        assert_int_equal(out[0], 0xA5);
        assert_int_equal(out[3], 0xA5);

        memset(out, 0xA5, sizeof out);
        seam_put_be32(out + 1, endian_vectors[i].be32);
        assert_memory_equal(out + 1, endian_vectors[i].bytes, 4);
        assert_int_equal(out[0], 0xA5);
        assert_int_equal(out[5], 0xA5);
        free(in2);
        free(in4);
    }
}

static void buf_fills_to_exact_capacity(void **state) {
    (void)state;
    uint8_t *storage = malloc(7);
    seam_buf buf;
    seam_buf_init(&buf, storage, 7);
    assert_int_equal(seam_buf_put_u8(&buf, 0x6F), SEAM_OK);
    assert_int_equal(seam_buf_put_be16(&buf, 0x8410), SEAM_OK);
    assert_int_equal(seam_buf_put_be32(&buf, 0xA0000001), SEAM_OK);
    assert_int_equal(buf.length, 7);
    assert_int_equal(buf.needed, 7);
    assert_int_equal(buf.err, SEAM_OK);
    const uint8_t expected[] = {0x6F, 0x84, 0x10, 0xA0, 0x00, 0x00, 0x01};
    assert_memory_equal(storage, expected, sizeof expected);
    /* Full: an empty write still succeeds, a one-byte write does not. */
    assert_int_equal(seam_buf_put(&buf, NULL, 0), SEAM_OK);
    assert_int_equal(seam_buf_put_u8(&buf, 0x00), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(buf.length, 7);
    assert_int_equal(buf.needed, 8);
    assert_memory_equal(storage, expected, sizeof expected);
    free(storage);
}

static void buf_overflow_writes_nothing_and_sticks(void **state) {
    (void)state;
    uint8_t storage[6];
    memset(storage, 0xEE, sizeof storage);
    seam_buf buf;
    seam_buf_init(&buf, storage, 4);
    const uint8_t head[] = {0x01, 0x02, 0x03};
    assert_int_equal(seam_buf_put(&buf, head, sizeof head), SEAM_OK);
    /* Two bytes do not fit in the one left: nothing of them is written. */
    assert_int_equal(seam_buf_put_be16(&buf, 0xAAAA), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(buf.length, 3);
    assert_int_equal(storage[3], 0xEE);
    /* One byte would fit, but the error is sticky. */
    assert_int_equal(seam_buf_put_u8(&buf, 0x04), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(buf.err, SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(buf.length, 3);
    assert_int_equal(storage[3], 0xEE);
    assert_int_equal(storage[4], 0xEE);
    /* needed is the capacity that would have held everything. */
    assert_int_equal(buf.needed, 3 + 2 + 1);
}

static void buf_without_storage_counts_needed_size(void **state) {
    (void)state;
    seam_buf buf;
    seam_buf_init(&buf, NULL, 100);
    assert_int_equal(buf.capacity, 0);
    assert_int_equal(seam_buf_put_be32(&buf, 1), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(seam_buf_put_be16(&buf, 1), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(buf.needed, 6);
    assert_int_equal(buf.length, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ct_equal_compares_every_byte),
        cmocka_unit_test(secure_zero_clears_exactly_len_bytes),
        cmocka_unit_test(big_endian_loads_and_stores),
        cmocka_unit_test(buf_fills_to_exact_capacity),
        cmocka_unit_test(buf_overflow_writes_nothing_and_sticks),
        cmocka_unit_test(buf_without_storage_counts_needed_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
