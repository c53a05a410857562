/*
 * Tests for the BER-TLV codec, with GlobalPlatform-shaped vectors. Every
 * input is parsed from a heap block of exactly its size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/util.h"
#include "util_test.h"

/* A TLV whose value is `length` bytes of (i & 0xFF), built on the heap. */
static uint8_t *long_tlv(const char *header_hex, size_t length, size_t *total) {
    size_t header_len = 0;
    uint8_t *header = from_hex(header_hex, &header_len);
    uint8_t *tlv = malloc(header_len + length);
    memcpy(tlv, header, header_len);
    for (size_t i = 0; i < length; i++)
        tlv[header_len + i] = (uint8_t)i;
    *total = header_len + length;
    free(header);
    return tlv;
}

/* Fills *tlv with a pattern, to check that failures leave it alone. */
static void poison(seam_tlv *tlv) {
    memset(tlv, 0xA5, sizeof *tlv);
}

static void assert_tlv_untouched(const seam_tlv *tlv) {
    const uint8_t *bytes = (const uint8_t *)tlv;
    for (size_t i = 0; i < sizeof *tlv; i++)
        assert_int_equal(bytes[i], 0xA5);
}

static const struct {
    const char *hex;
    uint32_t tag;
    uint8_t tag_len;
    bool constructed;
    size_t header_len;
    size_t length;
} parse_vectors[] = {
    /* Application identifier, as in a GET STATUS response. */
    {"4F 07 A0 00 00 01 51 00 00", 0x4F, 1, false, 2, 7},
    {"4F 00", 0x4F, 1, false, 2, 0},
    /* Two-byte tags: GP application privileges-ish 9F70, cardholder name 5F20. */
    {"9F 70 01 07", 0x9F70, 2, false, 3, 1},
    {"5F 20 03 41 42 43", 0x5F20, 2, false, 3, 3},
    /* BF0C: constructed, second byte below 1F as EMV uses it. */
    {"BF 0C 03 9F 4D 00", 0xBF0C, 2, true, 3, 3},
    /* Three-byte tag. */
    {"DF 81 01 01 AA", 0xDF8101, 3, false, 4, 1},
    {"7F 81 7F 00", 0x7F817F, 3, true, 4, 0},
    /* Constructed GET STATUS entry: E3 { 4F, 9F70 }. */
    {"E3 0D 4F 07 A0 00 00 01 51 00 00 9F 70 01 07", 0xE3, 1, true, 2, 13},
    /* Long forms, including a non-minimal one (accepted). */
    {"C0 81 02 01 02", 0xC0, 1, false, 3, 2},
    {"C0 82 00 01 FF", 0xC0, 1, false, 4, 1},
    {"C0 83 00 00 00", 0xC0, 1, false, 5, 0},
    /* Context-specific tag 80 is a normal tag (80 is only special as a length). */
    {"80 01 00", 0x80, 1, false, 2, 1},
};

static void parses_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof parse_vectors / sizeof parse_vectors[0]; i++) {
        size_t len = 0;
        uint8_t *in = from_hex(parse_vectors[i].hex, &len);
        seam_tlv tlv;
        poison(&tlv);
        assert_int_equal(seam_tlv_parse(in, len, &tlv), SEAM_OK);
        assert_int_equal(tlv.tag, parse_vectors[i].tag);
        assert_int_equal(tlv.tag_len, parse_vectors[i].tag_len);
        assert_int_equal(tlv.constructed, parse_vectors[i].constructed);
        assert_int_equal(tlv.header_len, parse_vectors[i].header_len);
        assert_int_equal(tlv.length, parse_vectors[i].length);
        assert_ptr_equal(tlv.value, in + parse_vectors[i].header_len);
        assert_int_equal(tlv.header_len + tlv.length, len);
        free(in);
    }
}

static void every_truncation_point_is_truncated(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof parse_vectors / sizeof parse_vectors[0]; i++) {
        size_t len = 0;
        uint8_t *full = from_hex(parse_vectors[i].hex, &len);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *in = exact_copy(full, cut);
            seam_tlv tlv;
            poison(&tlv);
            assert_int_equal(seam_tlv_parse(in, cut, &tlv), SEAM_ERR_TRUNCATED);
            assert_tlv_untouched(&tlv);
            free(in);
        }
        free(full);
    }
}

static void long_form_lengths_at_their_boundaries(void **state) {
    (void)state;
    static const struct {
        const char *header;
        size_t length;
    } cases[] = {
        {"C0 7F", 0x7F},        {"C0 81 80", 0x80},           {"C0 81 FF", 0xFF},
        {"C0 82 01 00", 0x100}, {"C0 82 FF FF", 0xFFFF},      {"C0 83 01 00 00", 0x10000},
        {"BF 0C 81 80", 0x80},  {"DF 81 01 82 01 00", 0x100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t total = 0;
        uint8_t *in = long_tlv(cases[i].header, cases[i].length, &total);
        seam_tlv tlv;
        poison(&tlv);
        assert_int_equal(seam_tlv_parse(in, total, &tlv), SEAM_OK);
        assert_int_equal(tlv.length, cases[i].length);
        assert_int_equal(tlv.header_len + tlv.length, total);
        assert_int_equal(tlv.value[cases[i].length - 1], (uint8_t)(cases[i].length - 1));
        /* One value byte short. */
        poison(&tlv);
        assert_int_equal(seam_tlv_parse(in, total - 1, &tlv), SEAM_ERR_TRUNCATED);
        assert_tlv_untouched(&tlv);
        free(in);
    }
}

static const struct {
    const char *hex;
    seam_err err;
} bad_vectors[] = {
    {"4F 80 01 00 00", SEAM_ERR_MALFORMED},       /* indefinite length */
    {"4F 80", SEAM_ERR_MALFORMED},                /* ... known before more input */
    {"4F 84 00 00 00 01 AA", SEAM_ERR_MALFORMED}, /* four length bytes */
    {"4F FF", SEAM_ERR_MALFORMED},                /* 127 length bytes */
    {"00 01 AA", SEAM_ERR_MALFORMED},             /* padding, not a tag */
    {"FF 01 AA", SEAM_ERR_MALFORMED},             /* likewise */
    {"9F 80 01 01 AA", SEAM_ERR_MALFORMED},       /* tag number with a leading zero */
    {"9F 81 81 01 01 AA", SEAM_ERR_MALFORMED},    /* four tag bytes */
    {"9F 81 81", SEAM_ERR_MALFORMED},             /* ... known without the rest */
    {"9F", SEAM_ERR_TRUNCATED},                   /* tag needs a second byte */
    {"9F 81", SEAM_ERR_TRUNCATED},                /* tag needs a third byte */
    {"9F 70", SEAM_ERR_TRUNCATED},                /* no length */
    {"4F 82 01", SEAM_ERR_TRUNCATED},             /* length needs two bytes */
    {"4F 05 01 02", SEAM_ERR_TRUNCATED},          /* value past the input */
    {"4F 83 FF FF FF 00", SEAM_ERR_TRUNCATED},    /* huge value past the input */
    {"", SEAM_ERR_TRUNCATED},
};

static void bad_input_gives_clear_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad_vectors / sizeof bad_vectors[0]; i++) {
        size_t len = 0;
        uint8_t *in = from_hex(bad_vectors[i].hex, &len);
        seam_tlv tlv;
        poison(&tlv);
        assert_int_equal(seam_tlv_parse(in, len, &tlv), bad_vectors[i].err);
        assert_tlv_untouched(&tlv);
        free(in);
    }
}

static void parse_ignores_bytes_after_the_tlv(void **state) {
    (void)state;
    size_t len = 0;
    uint8_t *in = from_hex("4F 01 AA 90 00", &len);
    seam_tlv tlv;
    poison(&tlv);
    assert_int_equal(seam_tlv_parse(in, len, &tlv), SEAM_OK);
    assert_int_equal(tlv.header_len + tlv.length, 3);
    assert_int_equal(tlv.value[0], 0xAA);
    free(in);
}

static void iterates_siblings_in_order(void **state) {
    (void)state;
    size_t len = 0;
    uint8_t *in = from_hex("4F 01 AA 9F 70 01 07 5F 20 00 E3 02 C5 00", &len);
    static const uint32_t tags[] = {0x4F, 0x9F70, 0x5F20, 0xE3};
    static const size_t lengths[] = {1, 1, 0, 2};
    seam_tlv_iter iter;
    seam_tlv_iter_init(&iter, in, len);
    for (size_t i = 0; i < 4; i++) {
        seam_tlv tlv;
        poison(&tlv);
        assert_false(seam_tlv_iter_done(&iter));
        assert_int_equal(seam_tlv_iter_next(&iter, &tlv), SEAM_OK);
        assert_int_equal(tlv.tag, tags[i]);
        assert_int_equal(tlv.length, lengths[i]);
    }
    assert_true(seam_tlv_iter_done(&iter));
    seam_tlv tlv;
    poison(&tlv);
    assert_int_equal(seam_tlv_iter_next(&iter, &tlv), SEAM_ERR_NOT_FOUND);
    assert_tlv_untouched(&tlv);
    free(in);
}

static void iterator_stops_at_a_bad_sibling(void **state) {
    (void)state;
    size_t len = 0;
    uint8_t *in = from_hex("4F 01 AA 9F", &len);
    seam_tlv_iter iter;
    seam_tlv_iter_init(&iter, in, len);
    seam_tlv tlv;
    poison(&tlv);
    assert_int_equal(seam_tlv_iter_next(&iter, &tlv), SEAM_OK);
    assert_int_equal(tlv.tag, 0x4F);
    for (int again = 0; again < 2; again++) {
        poison(&tlv);
        assert_int_equal(seam_tlv_iter_next(&iter, &tlv), SEAM_ERR_TRUNCATED);
        assert_tlv_untouched(&tlv);
        assert_false(seam_tlv_iter_done(&iter));
    }
    free(in);

    seam_tlv_iter_init(&iter, NULL, 0);
    assert_true(seam_tlv_iter_done(&iter));
    assert_int_equal(seam_tlv_iter_next(&iter, &tlv), SEAM_ERR_NOT_FOUND);
}

static void walks_constructed_nesting(void **state) {
    (void)state;
    size_t len = 0;
    /* GET STATUS response: two E3 entries, each { 4F AID, 9F70 lifecycle }. */
    uint8_t *in = from_hex("E3 0D 4F 07 A0 00 00 01 51 00 00 9F 70 01 07"
                           " E3 0B 4F 05 A0 00 00 00 03 9F 70 01 0F",
                           &len);
    static const uint8_t lifecycles[] = {0x07, 0x0F};
    static const size_t aid_lengths[] = {7, 5};
    seam_tlv_iter outer;
    seam_tlv_iter_init(&outer, in, len);
    for (size_t i = 0; i < 2; i++) {
        seam_tlv entry;
        assert_int_equal(seam_tlv_iter_next(&outer, &entry), SEAM_OK);
        assert_int_equal(entry.tag, 0xE3);
        assert_true(entry.constructed);
        seam_tlv aid;
        seam_tlv lifecycle;
        assert_int_equal(seam_tlv_find(entry.value, entry.length, 0x4F, &aid), SEAM_OK);
        assert_int_equal(aid.length, aid_lengths[i]);
        assert_int_equal(aid.value[0], 0xA0);
        assert_int_equal(seam_tlv_find(entry.value, entry.length, 0x9F70, &lifecycle), SEAM_OK);
        assert_int_equal(lifecycle.length, 1);
        assert_int_equal(lifecycle.value[0], lifecycles[i]);
        /* The children end exactly where the parent's value ends. */
        assert_ptr_equal(lifecycle.value + lifecycle.length, entry.value + entry.length);
    }
    assert_true(seam_tlv_iter_done(&outer));
    free(in);
}

static void find_reports_absent_and_does_not_descend(void **state) {
    (void)state;
    size_t len = 0;
    uint8_t *in = from_hex("E3 03 9F 70 00 4F 01 AA", &len);
    seam_tlv tlv;
    poison(&tlv);
    assert_int_equal(seam_tlv_find(in, len, 0x9F70, &tlv), SEAM_ERR_NOT_FOUND);
    assert_tlv_untouched(&tlv);
    assert_int_equal(seam_tlv_find(in, len, 0x4F, &tlv), SEAM_OK);
    assert_int_equal(tlv.value[0], 0xAA);
    free(in);

    /* A match before a bad sibling is found; a bad sibling before it is an error. */
    in = from_hex("9F 70 01 07 4F 80", &len);
    poison(&tlv);
    assert_int_equal(seam_tlv_find(in, len, 0x9F70, &tlv), SEAM_OK);
    poison(&tlv);
    assert_int_equal(seam_tlv_find(in, len, 0x5F20, &tlv), SEAM_ERR_MALFORMED);
    assert_tlv_untouched(&tlv);
    free(in);
}

static void tag_validity_and_class(void **state) {
    (void)state;
    static const struct {
        uint32_t tag;
        bool valid;
        bool constructed;
    } tags[] = {
        {0x4F, true, false},      {0x6F, true, true},       {0xE3, true, true},
        {0x80, true, false},      {0x9F70, true, false},    {0x5F20, true, false},
        {0xBF0C, true, true},     {0xDF8101, true, false},  {0x7F817F, true, true},
        {0x00, false, false},     {0xFF, false, false},     {0x1F, false, false},
        {0x9F, false, false},     {0x4F01, false, false},   {0x9F80, false, false},
        {0x9F81, false, false},   {0xFF01, false, false},   {0x9F7001, false, false},
        {0xDF8181, false, false}, {0xDF8001, false, false}, {0x1000000, false, false},
    };
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        assert_int_equal(seam_tlv_tag_valid(tags[i].tag), tags[i].valid);
        assert_int_equal(seam_tlv_tag_constructed(tags[i].tag), tags[i].constructed);
    }
}

static const struct {
    uint32_t tag;
    size_t length;
    const char *header;
} header_vectors[] = {
    {0x4F, 7, "4F 07"},
    {0x9F70, 1, "9F 70 01"},
    {0x5F20, 0, "5F 20 00"},
    {0x70, 0x7F, "70 7F"},
    {0xBF0C, 0x80, "BF 0C 81 80"},
    {0x70, 0xFF, "70 81 FF"},
    {0x70, 0x100, "70 82 01 00"},
    {0x70, 0xFFFF, "70 82 FF FF"},
    {0x70, 0x10000, "70 83 01 00 00"},
    {0xDF8101, 0xFFFFFF, "DF 81 01 83 FF FF FF"},
};

static void encodes_headers_exact_and_one_short(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof header_vectors / sizeof header_vectors[0]; i++) {
        size_t want_len = 0;
        uint8_t *want = from_hex(header_vectors[i].header, &want_len);
        assert_int_equal(seam_tlv_header_size(header_vectors[i].tag, header_vectors[i].length),
                         want_len);
        uint8_t *out = malloc(want_len);
        size_t out_len = 0;
        assert_int_equal(seam_tlv_encode_header(header_vectors[i].tag, header_vectors[i].length,
                                                out, want_len, &out_len),
                         SEAM_OK);
        assert_int_equal(out_len, want_len);
        assert_memory_equal(out, want, want_len);

        uint8_t small[SEAM_TLV_MAX_HEADER];
        memset(small, 0x5A, sizeof small);
        out_len = 0;
        assert_int_equal(seam_tlv_encode_header(header_vectors[i].tag, header_vectors[i].length,
                                                small, want_len - 1, &out_len),
                         SEAM_ERR_BUFFER_SMALL);
        assert_int_equal(out_len, want_len);
        for (size_t j = 0; j < sizeof small; j++)
            assert_int_equal(small[j], 0x5A);
        free(out);
        free(want);
    }
}

static void encode_rejects_bad_tags_and_lengths(void **state) {
    (void)state;
    uint8_t out[16];
    memset(out, 0x5A, sizeof out);
    size_t out_len = 99;
    const uint8_t value[] = {1};
    static const uint32_t bad_tags[] = {0x00, 0xFF, 0x1F, 0x9F, 0x9F80, 0x9F7001, 0x1000000};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        assert_int_equal(seam_tlv_header_size(bad_tags[i], 1), 0);
        assert_int_equal(seam_tlv_encode(bad_tags[i], value, 1, out, sizeof out, &out_len),
                         SEAM_ERR_ARG);
        assert_int_equal(seam_tlv_encode_header(bad_tags[i], 1, out, sizeof out, &out_len),
                         SEAM_ERR_ARG);
    }
    assert_int_equal(seam_tlv_header_size(0x4F, 0x1000000), 0);
    assert_int_equal(seam_tlv_encode_header(0x4F, 0x1000000, out, sizeof out, &out_len),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_tlv_encode(0x4F, NULL, 1, out, sizeof out, &out_len), SEAM_ERR_ARG);
    assert_int_equal(out_len, 99);
    for (size_t j = 0; j < sizeof out; j++)
        assert_int_equal(out[j], 0x5A);
}

static void encodes_nested_get_status_entry(void **state) {
    (void)state;
    size_t want_len = 0;
    uint8_t *want = from_hex("E3 0D 4F 07 A0 00 00 01 51 00 00 9F 70 01 07", &want_len);
    const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00};
    const uint8_t lifecycle[] = {0x07};
    uint8_t *out = malloc(want_len);
    size_t used = 0;
    size_t n = 0;
    /* Children first at the start, then wrap them in place. */
    assert_int_equal(seam_tlv_encode(0x4F, aid, sizeof aid, out, want_len, &n), SEAM_OK);
    used += n;
    assert_int_equal(seam_tlv_encode(0x9F70, lifecycle, 1, out + used, want_len - used, &n),
                     SEAM_OK);
    used += n;
    assert_int_equal(used, 13);
    assert_int_equal(seam_tlv_encode(0xE3, out, used, out, want_len, &n), SEAM_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);

    /* One byte short: the size needed comes back and nothing moves. */
    uint8_t *copy = exact_copy(out, want_len);
    assert_int_equal(seam_tlv_encode(0xE3, copy + 2, 13, copy, want_len - 1, &n),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(n, want_len);
    assert_memory_equal(copy, want, want_len);
    free(copy);
    free(out);
    free(want);
}

static void encode_then_parse_round_trips(void **state) {
    (void)state;
    static const uint32_t tags[] = {0x4F, 0xE3, 0x9F70, 0xBF0C, 0xDF8101};
    static const size_t lengths[] = {0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0x10000};
    for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            size_t length = lengths[l];
            uint8_t *value = malloc(length);
            for (size_t i = 0; i < length; i++)
                value[i] = (uint8_t)(i * 7);
            size_t need = 0;
            assert_int_equal(seam_tlv_encode(tags[t], value, length, NULL, 0, &need),
                             SEAM_ERR_BUFFER_SMALL);
            uint8_t *out = malloc(need);
            size_t n = 0;
            assert_int_equal(seam_tlv_encode(tags[t], value, length, out, need, &n), SEAM_OK);
            assert_int_equal(n, need);
            seam_tlv tlv;
            assert_int_equal(seam_tlv_parse(out, n, &tlv), SEAM_OK);
            assert_int_equal(tlv.tag, tags[t]);
            assert_int_equal(tlv.length, length);
            assert_int_equal(tlv.constructed, seam_tlv_tag_constructed(tags[t]));
            assert_int_equal(tlv.header_len, seam_tlv_header_size(tags[t], length));
            if (length)
                assert_memory_equal(tlv.value, value, length);
            free(out);
            free(value);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_vectors),
        cmocka_unit_test(every_truncation_point_is_truncated),
        cmocka_unit_test(long_form_lengths_at_their_boundaries),
        cmocka_unit_test(bad_input_gives_clear_errors),
        cmocka_unit_test(parse_ignores_bytes_after_the_tlv),
        cmocka_unit_test(iterates_siblings_in_order),
        cmocka_unit_test(iterator_stops_at_a_bad_sibling),
        cmocka_unit_test(walks_constructed_nesting),
        cmocka_unit_test(find_reports_absent_and_does_not_descend),
        cmocka_unit_test(tag_validity_and_class),
        cmocka_unit_test(encodes_headers_exact_and_one_short),
        cmocka_unit_test(encode_rejects_bad_tags_and_lengths),
        cmocka_unit_test(encodes_nested_get_status_entry),
        cmocka_unit_test(encode_then_parse_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
