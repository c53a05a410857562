/* Tests for the hex codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/util.h"
#include "util_test.h"

static const struct {
    const char *bytes; /* test-vector hex, decoded by from_hex */
    const char *text;  /* what seam_hex_encode writes */
} encode_vectors[] = {
    {"", ""},
    {"00", "00"},
    {"0F", "0F"},
    {"01 AB FF", "01ABFF"},
    {"A0 00 00 01 51 00 00 00", "A000000151000000"},
};

static void encode_writes_upper_case_and_nul(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof encode_vectors / sizeof encode_vectors[0]; i++) {
        size_t len = 0;
        uint8_t *bytes = from_hex(encode_vectors[i].bytes, &len);
        size_t size = strlen(encode_vectors[i].text) + 1;
        char *out = malloc(size);
        size_t out_len = 12345;
        assert_int_equal(seam_hex_encode(bytes, len, out, size, &out_len), SEAM_OK);
        assert_int_equal(out_len, size - 1);
        assert_string_equal(out, encode_vectors[i].text);
        free(out);
        free(bytes);
    }
}

static void encode_one_byte_short_reports_size_and_writes_nothing(void **state) {
    (void)state;
    const uint8_t bytes[] = {0xDE, 0xAD, 0xBE, 0xEF};
    char out[9];
    memset(out, 'x', sizeof out);
    size_t out_len = 0;
    assert_int_equal(seam_hex_encode(bytes, sizeof bytes, out, 8, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 9);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 'x');
    out_len = 0;
    assert_int_equal(seam_hex_encode(bytes, sizeof bytes, NULL, 0, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 9);
}

static const struct {
    const char *text;
    const char *bytes;
} decode_vectors[] = {
    {"", ""},
    {"9f70", "9F 70"},
    {"9F70", "9F 70"},
    {"DeadBeef", "DE AD BE EF"},
    {"9F 70 01 07", "9F 70 01 07"},
    {" \t0a\r\n0B\n", "0A 0B"},
    {"   ", ""},
    {"A0000001510000", "A0 00 00 01 51 00 00"},
};

static void decode_accepts_case_and_whitespace(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof decode_vectors / sizeof decode_vectors[0]; i++) {
        size_t want_len = 0;
        uint8_t *want = from_hex(decode_vectors[i].bytes, &want_len);
        size_t text_len = strlen(decode_vectors[i].text);
        char *text = (char *)exact_copy(decode_vectors[i].text, text_len); /* no NUL */
        uint8_t *out = malloc(want_len);
        size_t out_len = 12345;
        assert_int_equal(seam_hex_decode(text, text_len, out, want_len, &out_len), SEAM_OK);
        assert_int_equal(out_len, want_len);
        if (want_len)
            assert_memory_equal(out, want, want_len);
        free(out);
        free(text);
        free(want);
    }
}

static const char *const malformed_hex[] = {
    "A",      /* one digit */
    "ABC",    /* odd count */
    "A B",    /* whitespace splits a byte */
    "12 3 4", /* likewise */
    "0G",     /* not hex */
    "zz",     "0x12", "12-34", "12\v34",
};

static void decode_rejects_malformed_and_leaves_output(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof malformed_hex / sizeof malformed_hex[0]; i++) {
        size_t text_len = strlen(malformed_hex[i]);
        char *text = (char *)exact_copy(malformed_hex[i], text_len);
        uint8_t out[8];
        memset(out, 0x5A, sizeof out);
        size_t out_len = 777;
        assert_int_equal(seam_hex_decode(text, text_len, out, sizeof out, &out_len),
                         SEAM_ERR_MALFORMED);
        assert_int_equal(out_len, 777);
        for (size_t j = 0; j < sizeof out; j++)
            assert_int_equal(out[j], 0x5A);
        free(text);
    }
    /* A NUL inside the given length is not a terminator, it is bad input. */
    const char with_nul[] = {'1', '2', '\0', '3'};
    uint8_t out[4] = {0};
    size_t out_len = 0;
    assert_int_equal(seam_hex_decode(with_nul, sizeof with_nul, out, sizeof out, &out_len),
                     SEAM_ERR_MALFORMED);
}

static void decode_exact_and_one_short(void **state) {
    (void)state;
    const char text[] = "01 02 03 04";
    uint8_t *exact = malloc(4);
    size_t out_len = 0;
    assert_int_equal(seam_hex_decode(text, strlen(text), exact, 4, &out_len), SEAM_OK);
    assert_int_equal(out_len, 4);
    const uint8_t want[] = {1, 2, 3, 4};
    assert_memory_equal(exact, want, 4);

    uint8_t small[4];
    memset(small, 0x5A, sizeof small);
    assert_int_equal(seam_hex_decode(text, strlen(text), small, 3, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 4);
    for (size_t j = 0; j < sizeof small; j++)
        assert_int_equal(small[j], 0x5A);
    free(exact);
}

static void decode_reads_only_the_given_length(void **state) {
    (void)state;
    /* "0102" followed by a bad digit outside the length: not looked at. */
    const char text[] = "0102Z";
    uint8_t out[2];
    size_t out_len = 0;
    assert_int_equal(seam_hex_decode(text, 4, out, sizeof out, &out_len), SEAM_OK);
    assert_int_equal(out_len, 2);
    /* Every prefix of an exact-size input decodes or fails cleanly. */
    char *exact = (char *)exact_copy("0A1b2C", 6);
    for (size_t len = 0; len <= 6; len++) {
        seam_err err = seam_hex_decode(exact, len, out, sizeof out, &out_len);
        if (len % 2)
            assert_int_equal(err, SEAM_ERR_MALFORMED);
        else if (len / 2 > sizeof out)
            assert_int_equal(err, SEAM_ERR_BUFFER_SMALL);
        else
            assert_int_equal(err, SEAM_OK);
    }
    free(exact);
}

static void every_byte_round_trips(void **state) {
    (void)state;
    uint8_t bytes[256];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)i;
    char text[513];
    size_t text_len = 0;
    assert_int_equal(seam_hex_encode(bytes, sizeof bytes, text, sizeof text, &text_len), SEAM_OK);
    assert_int_equal(text_len, 512);
    assert_memory_equal(text + 0x7F * 2, "7F80", 4);
    uint8_t back[256];
    size_t back_len = 0;
    assert_int_equal(seam_hex_decode(text, text_len, back, sizeof back, &back_len), SEAM_OK);
    assert_int_equal(back_len, 256);
    assert_memory_equal(back, bytes, 256);
}

static void null_arguments_are_rejected(void **state) {
    (void)state;
    uint8_t out[2];
    size_t out_len = 0;
    assert_int_equal(seam_hex_decode(NULL, 2, out, sizeof out, &out_len), SEAM_ERR_ARG);
    assert_int_equal(seam_hex_decode("00", 2, out, sizeof out, NULL), SEAM_ERR_ARG);
    assert_int_equal(seam_hex_encode(NULL, 1, (char *)out, sizeof out, &out_len), SEAM_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_writes_upper_case_and_nul),
        cmocka_unit_test(encode_one_byte_short_reports_size_and_writes_nothing),
        cmocka_unit_test(decode_accepts_case_and_whitespace),
        cmocka_unit_test(decode_rejects_malformed_and_leaves_output),
        cmocka_unit_test(decode_exact_and_one_short),
        cmocka_unit_test(decode_reads_only_the_given_length),
        cmocka_unit_test(every_byte_round_trips),
        cmocka_unit_test(null_arguments_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
