/*
 * Tests for the COMPREHENSION-TLV codec (ETSI TS 101 220 §7.1.1). Every input
 * is parsed from a heap block of exactly its size, so AddressSanitizer sees
 * any read past the end. Object bytes come from the toolkit's own messages:
 * command details 81 03 01 21 80 and text string 8D .. of the DISPLAY TEXT in
 * issue 13, timer value A5 03 00 00 01 of the timer expiration envelope there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/util.h"
#include "util_test.h"

static void poison(seam_ctlv *obj) {
    memset(obj, 0xA5, sizeof *obj);
}

static void assert_untouched(const seam_ctlv *obj) {
    const uint8_t *bytes = (const uint8_t *)obj;
    for (size_t i = 0; i < sizeof *obj; i++)
        assert_int_equal(bytes[i], 0xA5);
}

static const struct {
    const char *hex;
    uint16_t tag;
    bool cr;
    size_t header;
    size_t len;
} good[] = {
    /* Command details with CR: the DISPLAY TEXT of issue 13. */
    {"81 03 01 21 80", 0x01, true, 2, 3},
    /* Device identities without CR, as old terminals may send them. */
    {"02 02 82 81", 0x02, false, 2, 2},
    /* Result, empty additional information; help request with no value. */
    {"83 01 00", 0x03, true, 2, 1},
    {"15 00", 0x15, false, 2, 0},
    /* The largest and smallest 1-byte tags, with and without CR. */
    {"7E 01 AA", 0x7E, false, 2, 1},
    {"FE 01 AA", 0x7E, true, 2, 1},
    {"01 00", 0x01, false, 2, 0},
    /* 3-byte tags: CR is bit 16 of the last two bytes. */
    {"7F 00 7F 01 BB", 0x7F, false, 4, 1},
    {"7F 80 7F 01 BB", 0x7F, true, 4, 1},
    {"7F 7F FF 00", 0x7FFF, false, 4, 0},
    {"7F FF FF 00", 0x7FFF, true, 4, 0},
    {"7F 12 34 02 CC DD", 0x1234, false, 4, 2},
    /* A 3-byte tag carrying a 1-byte value: accepted, the value is what counts. */
    {"7F 80 0D 00", 0x0D, true, 4, 0},
    /* Timer value of the timer expiration envelope. */
    {"A5 03 00 00 01", 0x25, true, 2, 3},
    /* The largest 1-byte length. */
    {"8D 7F", 0x0D, true, 2, 0x7F},
};

/* Builds good[i] with its value bytes filled in (the vectors above carry
   at most a few; the long ones are padded with a pattern). */
static uint8_t *build(size_t i, size_t *len) {
    size_t hex_len = 0;
    uint8_t *hex = from_hex(good[i].hex, &hex_len);
    size_t total = good[i].header + good[i].len;
    uint8_t *obj = malloc(total);
    assert_non_null(obj);
    for (size_t k = 0; k < total; k++)
        obj[k] = k < hex_len ? hex[k] : (uint8_t)k;
    free(hex);
    *len = total;
    return obj;
}

static void test_next_reads_each_good_object(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t len = 0;
        uint8_t *obj = build(i, &len);
        seam_ctlv out;
        size_t pos = 0;
        assert_int_equal(seam_ctlv_next(obj, len, &pos, &out), SEAM_OK);
        assert_int_equal(out.tag, good[i].tag);
        assert_int_equal(out.cr, good[i].cr);
        assert_int_equal(out.len, good[i].len);
        assert_ptr_equal(out.value, obj + good[i].header);
        assert_int_equal(pos, len);
        free(obj);
    }
}

static void test_next_refuses_every_prefix_as_truncated(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t len = 0;
        uint8_t *obj = build(i, &len);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *prefix = exact_copy(obj, cut);
            seam_ctlv out;
            size_t pos = 0;
            poison(&out);
            assert_int_equal(seam_ctlv_next(prefix, cut, &pos, &out), SEAM_ERR_TRUNCATED);
            assert_int_equal(pos, 0);
            assert_untouched(&out);
            free(prefix);
        }
        free(obj);
    }
}

static void test_long_length_form(void **state) {
    (void)state;
    for (size_t value_len = 0x80; value_len <= 0xFF; value_len += 0x7F) {
        size_t total = 3 + value_len;
        uint8_t *obj = malloc(total);
        assert_non_null(obj);
        obj[0] = 0x8D;
        obj[1] = 0x81;
        obj[2] = (uint8_t)value_len;
        memset(obj + 3, 0x41, value_len);
        seam_ctlv out;
        size_t pos = 0;
        assert_int_equal(seam_ctlv_next(obj, total, &pos, &out), SEAM_OK);
        assert_int_equal(out.tag, 0x0D);
        assert_true(out.cr);
        assert_int_equal(out.len, value_len);
        assert_ptr_equal(out.value, obj + 3);
        assert_int_equal(pos, total);
        /* One byte short anywhere is truncated. */
        pos = 0;
        assert_int_equal(seam_ctlv_next(obj, total - 1, &pos, &out), SEAM_ERR_TRUNCATED);
        free(obj);
    }
}

static void test_next_refuses_malformed_shapes(void **state) {
    (void)state;
    static const char *const bad[] = {
        "00 00",          /* tag 00 */
        "80 00",          /* tag 80: tag 00 with CR */
        "FF 00",          /* tag FF */
        "7F 00 00 00",    /* 3-byte tag value 0000 */
        "7F 80 00 00",    /* 3-byte tag value 0000 with CR */
        "81 80",          /* indefinite length */
        "81 80 01 02 03", /* indefinite length with bytes after it */
        "81 82 00 03",    /* 82: longer than TS 101 220 allows here */
        "81 83 00 00 03", /* 83 */
        "81 84 00 00 00 03",
        "81 FF",    /* a length byte of FF */
        "81 81 03", /* 81 with a length the 1-byte form carries */
        "81 81 7F", /* ... the largest of them */
        "81 81 00", /* ... and the smallest */
        "7F 01 23 82 00 00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 0;
        uint8_t *in = from_hex(bad[i], &len);
        seam_ctlv out;
        size_t pos = 0;
        poison(&out);
        assert_int_equal(seam_ctlv_next(in, len, &pos, &out), SEAM_ERR_MALFORMED);
        assert_int_equal(pos, 0);
        assert_untouched(&out);
        free(in);
    }
}

static void test_next_walks_a_sequence(void **state) {
    (void)state;
    /* The body of the DISPLAY TEXT of issue 13. */
    size_t len = 0;
    uint8_t *in = from_hex("81 03 01 21 80 82 02 81 02 8D 0F 04 54 6F 6F 6C 6B 69 74 20 54 65 73 "
                           "74 20 31",
                           &len);
    static const uint16_t tags[] = {0x01, 0x02, 0x0D};
    size_t pos = 0;
    for (size_t i = 0; i < 3; i++) {
        seam_ctlv out;
        assert_int_equal(seam_ctlv_next(in, len, &pos, &out), SEAM_OK);
        assert_int_equal(out.tag, tags[i]);
        assert_true(out.cr);
    }
    assert_int_equal(pos, len);
    /* At the end: nothing left is truncated; beyond the end is an argument error. */
    seam_ctlv out;
    assert_int_equal(seam_ctlv_next(in, len, &pos, &out), SEAM_ERR_TRUNCATED);
    pos = len + 1;
    assert_int_equal(seam_ctlv_next(in, len, &pos, &out), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_next(in, len, NULL, &out), SEAM_ERR_ARG);
    pos = 0;
    assert_int_equal(seam_ctlv_next(in, len, &pos, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_next(NULL, 0, &pos, &out), SEAM_ERR_TRUNCATED);
    free(in);
}

static void expect_put(uint16_t tag, bool cr, const char *value_hex, const char *want_hex) {
    size_t value_len = 0;
    uint8_t *value = from_hex(value_hex, &value_len);
    size_t want_len = 0;
    uint8_t *want = from_hex(want_hex, &want_len);
    uint8_t out[16];
    memset(out, 0xEE, sizeof out);
    out[0] = 0x11; /* something already written */
    size_t len = 1;
    assert_int_equal(seam_ctlv_put(tag, cr, value, value_len, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 1 + want_len);
    assert_memory_equal(out + 1, want, want_len);
    assert_int_equal(out[0], 0x11);
    assert_int_equal(out[len], 0xEE);
    /* And it parses back. */
    seam_ctlv back;
    size_t pos = 1;
    assert_int_equal(seam_ctlv_next(out, len, &pos, &back), SEAM_OK);
    assert_int_equal(back.tag, tag);
    assert_int_equal(back.cr, cr);
    assert_int_equal(back.len, value_len);
    free(value);
    free(want);
}

static void test_put_encodes_each_form(void **state) {
    (void)state;
    expect_put(0x01, true, "01 21 80", "81 03 01 21 80");
    expect_put(0x02, true, "82 81", "82 02 82 81");
    expect_put(0x03, false, "00", "03 01 00");
    expect_put(0x15, false, "", "15 00");
    expect_put(0x7E, true, "AA", "FE 01 AA");
    expect_put(0x7F, false, "BB", "7F 00 7F 01 BB");
    expect_put(0x7F, true, "BB", "7F 80 7F 01 BB");
    expect_put(0x7FFF, true, "", "7F FF FF 00");
    expect_put(0x1234, false, "CC DD", "7F 12 34 02 CC DD");
}

static void test_put_long_length(void **state) {
    (void)state;
    uint8_t value[0xFF];
    memset(value, 0x5A, sizeof value);
    uint8_t out[3 + 0xFF + 4];
    size_t len = 0;
    assert_int_equal(seam_ctlv_put(0x0D, true, value, 0x7F, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 2 + 0x7F);
    assert_int_equal(out[1], 0x7F);
    len = 0;
    assert_int_equal(seam_ctlv_put(0x0D, true, value, 0x80, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 3 + 0x80);
    assert_int_equal(out[0], 0x8D);
    assert_int_equal(out[1], 0x81);
    assert_int_equal(out[2], 0x80);
    len = 0;
    assert_int_equal(seam_ctlv_put(0x1234, true, value, 0xFF, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 5 + 0xFF);
    assert_memory_equal(out, "\x7F\x92\x34\x81\xFF", 5);
}

static void test_put_buffer_small_changes_nothing(void **state) {
    (void)state;
    static const uint8_t value[] = {0x01, 0x21, 0x80};
    /* Needs 5 bytes after the 2 already there. */
    for (size_t cap = 2; cap < 7; cap++) {
        uint8_t out[8];
        memset(out, 0xEE, sizeof out);
        size_t len = 2;
        assert_int_equal(seam_ctlv_put(0x01, true, value, 3, out, cap, &len),
                         SEAM_ERR_BUFFER_SMALL);
        assert_int_equal(len, 2);
        for (size_t i = 0; i < sizeof out; i++)
            assert_int_equal(out[i], 0xEE);
    }
    uint8_t out[7];
    size_t len = 2;
    assert_int_equal(seam_ctlv_put(0x01, true, value, 3, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 7);
}

static void test_put_refuses_bad_arguments(void **state) {
    (void)state;
    uint8_t value[0x100] = {0};
    uint8_t out[0x110];
    size_t len = 0;
    assert_int_equal(seam_ctlv_put(0, false, value, 1, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_put(0x8000, false, value, 1, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_put(0x0D, false, value, 0x100, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_put(0x0D, false, NULL, 1, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_ctlv_put(0x0D, false, value, 1, out, sizeof out, NULL), SEAM_ERR_ARG);
    len = sizeof out + 1;
    assert_int_equal(seam_ctlv_put(0x0D, false, value, 1, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(len, sizeof out + 1);
    len = 0;
    assert_int_equal(seam_ctlv_put(0x15, false, NULL, 0, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 2);
}

static void test_find(void **state) {
    (void)state;
    size_t len = 0;
    /* Objects of the timer expiration envelope of issue 13, then a repeat. */
    uint8_t *in = from_hex("82 02 82 81 24 01 01 A5 03 00 00 01 A4 01 02", &len);
    seam_ctlv out;
    assert_int_equal(seam_ctlv_find(in, len, 0x02, &out), SEAM_OK);
    assert_ptr_equal(out.value, in + 2);
    /* CR is ignored: the first timer identifier is the one without CR. */
    assert_int_equal(seam_ctlv_find(in, len, 0x24, &out), SEAM_OK);
    assert_false(out.cr);
    assert_int_equal(out.value[0], 0x01);
    assert_int_equal(seam_ctlv_find(in, len, 0x25, &out), SEAM_OK);
    assert_true(out.cr);
    assert_int_equal(out.len, 3);
    poison(&out);
    assert_int_equal(seam_ctlv_find(in, len, 0x0D, &out), SEAM_ERR_NOT_FOUND);
    assert_untouched(&out);
    assert_int_equal(seam_ctlv_find(in, 0, 0x02, &out), SEAM_ERR_NOT_FOUND);
    free(in);

    /* A parse error before the match is reported; one after it is not reached. */
    in = from_hex("82 02 82 81 80 00 A4 01 01", &len);
    poison(&out);
    assert_int_equal(seam_ctlv_find(in, len, 0x24, &out), SEAM_ERR_MALFORMED);
    assert_untouched(&out);
    assert_int_equal(seam_ctlv_find(in, len, 0x02, &out), SEAM_OK);
    free(in);
    in = from_hex("82 02 82 81 A4 01", &len);
    assert_int_equal(seam_ctlv_find(in, len, 0x24, &out), SEAM_ERR_TRUNCATED);
    assert_int_equal(seam_ctlv_find(in, len, 0x02, &out), SEAM_OK);
    assert_int_equal(seam_ctlv_find(in, len, 0x02, NULL), SEAM_ERR_ARG);
    free(in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_reads_each_good_object),
        cmocka_unit_test(test_next_refuses_every_prefix_as_truncated),
        cmocka_unit_test(test_long_length_form),
        cmocka_unit_test(test_next_refuses_malformed_shapes),
        cmocka_unit_test(test_next_walks_a_sequence),
        cmocka_unit_test(test_put_encodes_each_form),
        cmocka_unit_test(test_put_long_length),
        cmocka_unit_test(test_put_buffer_small_changes_nothing),
        cmocka_unit_test(test_put_refuses_bad_arguments),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
