/* Tests for the command APDU codec, the class byte helpers and response chaining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "card/iso/apdu.h"
#include "card/iso/sw.h"
#include "util/util_test.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A sentinel pattern: a failed parse must leave the caller's struct exactly like this. */
static seam_apdu sentinel_apdu(void) {
    seam_apdu apdu;
    memset(&apdu, 0xA5, sizeof apdu);
    return apdu;
}

static void assert_untouched(const seam_apdu *apdu) {
    seam_apdu expected = sentinel_apdu();
    assert_memory_equal(apdu, &expected, sizeof expected);
}

static const struct {
    const char *hex;
    uint8_t apdu_case;
    bool extended;
    size_t nc;
    size_t data_offset; /* where the data starts in the input */
    size_t ne;
} valid[] = {
    {"80 CA 00 66", 1, false, 0, 0, 0},
    {"00 C0 00 00 1C", 2, false, 0, 0, 0x1C},
    {"00 C0 00 00 00", 2, false, 0, 0, 256},
    {"00 A4 04 00 08 A0 00 00 01 51 00 00 00", 3, false, 8, 5, 0},
    {"00 A4 04 00 01 A0", 3, false, 1, 5, 0},
    {"00 A4 04 00 02 A0 00 10", 4, false, 2, 5, 0x10},
    {"00 A4 04 00 02 A0 00 00", 4, false, 2, 5, 256},
    {"00 B0 00 00 00 01 00", 2, true, 0, 0, 0x100},
    {"00 B0 00 00 00 00 00", 2, true, 0, 0, 65536},
    {"00 B0 00 00 00 00 01", 2, true, 0, 0, 1},
    {"80 E8 00 00 00 00 03 C4 01 AA", 3, true, 3, 7, 0},
    {"80 E8 00 00 00 00 02 C4 01 12 34", 4, true, 2, 7, 0x1234},
    {"80 E8 00 00 00 00 01 C4 00 00", 4, true, 1, 7, 65536},
};

static void parse_every_case_in_short_and_extended_form(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(valid); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(valid[i].hex, &len);
        seam_apdu apdu = sentinel_apdu();
        assert_int_equal(seam_apdu_parse(in, len, &apdu), SEAM_OK);
        assert_int_equal(apdu.cla, in[0]);
        assert_int_equal(apdu.ins, in[1]);
        assert_int_equal(apdu.p1, in[2]);
        assert_int_equal(apdu.p2, in[3]);
        assert_int_equal(apdu.apdu_case, valid[i].apdu_case);
        assert_int_equal(apdu.extended, valid[i].extended);
        assert_int_equal(apdu.nc, valid[i].nc);
        assert_int_equal(apdu.ne, valid[i].ne);
        if (valid[i].nc)
            assert_ptr_equal(apdu.data, in + valid[i].data_offset);
        else
            assert_null(apdu.data);
        free(in);
    }
}

/*
 * A shortened or lengthened APDU is either refused with SEAM_ERR_MALFORMED
 * (struct untouched) or is itself a well-formed APDU of another shape: then
 * encoding what was parsed gives back exactly the same bytes.
 */
static void check_variant(const uint8_t *bytes, size_t len, const seam_apdu *original,
                          size_t *refused) {
    uint8_t *in = exact_copy(bytes, len);
    seam_apdu apdu = sentinel_apdu();
    seam_err err = seam_apdu_parse(in, len, &apdu);
    if (err == SEAM_OK) {
        assert_true(apdu.apdu_case != original->apdu_case || apdu.nc != original->nc ||
                    apdu.ne != original->ne || apdu.extended != original->extended);
        uint8_t *out = malloc(len);
        size_t out_len = 0;
        assert_int_equal(seam_apdu_encode(&apdu, out, len, &out_len), SEAM_OK);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, in, len);
        free(out);
    } else {
        assert_int_equal(err, SEAM_ERR_MALFORMED);
        assert_untouched(&apdu);
        (*refused)++;
    }
    free(in);
}

static void every_truncation_and_extra_byte_is_refused_or_reinterpreted(void **state) {
    (void)state;
    size_t refused = 0;
    for (size_t i = 0; i < COUNT(valid); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(valid[i].hex, &len);
        seam_apdu original;
        assert_int_equal(seam_apdu_parse(in, len, &original), SEAM_OK);
        for (size_t cut = 0; cut < len; cut++)
            check_variant(in, cut, &original, &refused);
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, in, len);
        const uint8_t extras[] = {0x00, 0x01, 0xFF};
        for (size_t e = 0; e < COUNT(extras); e++) {
            longer[len] = extras[e];
            check_variant(longer, len + 1, &original, &refused);
        }
        free(longer);
        free(in);
    }
    assert_true(refused > 60);
}

/* Specific lengths the card must answer with 6700. */
static void inconsistent_lengths_are_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "00",
        "00 A4 04",
        "00 A4 04 00 02 A0",                   /* 3S: data one short */
        "00 A4 04 00 02 A0 00 10 00",          /* 4S: one byte too many */
        "00 A4 04 00 00 A0",                   /* B5 = 00 with 1 more byte */
        "00 B0 00 00 00 00",                   /* 2E: Le cut */
        "00 B0 00 00 00 00 10 00",             /* 2E + 1 byte: Lc 16 without data */
        "80 E8 00 00 00 00 03 C4 01",          /* 3E: data one short */
        "80 E8 00 00 00 00 03 C4 01 AA 00",    /* 3E + 1: Le cut */
        "80 E8 00 00 00 00 02 C4 01 12 34 56", /* 4E + 1 */
        "80 E8 00 00 00 00 00 00 00",          /* extended Lc = 0 with Le */
        "80 E8 00 00 00 00 00 AA",             /* extended Lc = 0 with data */
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(bad[i], &len);
        seam_apdu apdu = sentinel_apdu();
        assert_int_equal(seam_apdu_parse(in, len, &apdu), SEAM_ERR_MALFORMED);
        assert_untouched(&apdu);
        free(in);
    }
    seam_apdu apdu = sentinel_apdu();
    assert_int_equal(seam_apdu_parse(NULL, 4, &apdu), SEAM_ERR_ARG);
    assert_untouched(&apdu);
    assert_int_equal(seam_apdu_parse(NULL, 0, &apdu), SEAM_ERR_MALFORMED);
    assert_untouched(&apdu);
}

static void le_zero_means_256_short_and_65536_extended(void **state) {
    (void)state;
    static const struct {
        const char *hex;
        size_t ne;
    } vectors[] = {
        {"00 C0 00 00 00", 256},         {"00 CA 00 66 01 AA 00", 256},
        {"00 B0 00 00 00 00 00", 65536}, {"00 CA 00 66 00 00 01 AA 00 00", 65536},
        {"00 B0 00 00 00 FF FF", 65535},
    };
    for (size_t i = 0; i < COUNT(vectors); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(vectors[i].hex, &len);
        seam_apdu apdu;
        assert_int_equal(seam_apdu_parse(in, len, &apdu), SEAM_OK);
        assert_int_equal(apdu.ne, vectors[i].ne);
        free(in);
    }
}

static void largest_extended_commands_parse(void **state) {
    (void)state;
    size_t len = 4 + 3 + SEAM_APDU_MAX_NC + 2;
    assert_int_equal(len, SEAM_APDU_MAX_LEN);
    uint8_t *in = malloc(len);
    memset(in, 0x5A, len);
    in[4] = 0;
    in[5] = 0xFF;
    in[6] = 0xFF;
    in[len - 2] = 0;
    in[len - 1] = 0;
    seam_apdu apdu;
    assert_int_equal(seam_apdu_parse(in, len, &apdu), SEAM_OK);
    assert_int_equal(apdu.apdu_case, 4);
    assert_int_equal(apdu.nc, 65535);
    assert_int_equal(apdu.ne, 65536);
    assert_int_equal(seam_apdu_parse(in, len - 2, &apdu), SEAM_OK);
    assert_int_equal(apdu.apdu_case, 3);
    assert_int_equal(apdu.ne, 0);
    free(in);
}

static void encode_round_trips_through_parse(void **state) {
    (void)state;
    static const size_t ncs[] = {0, 1, 255, 256, 65535};
    static const size_t nes[] = {0, 1, 255, 256, 257, 65535, 65536};
    uint8_t *data = malloc(SEAM_APDU_MAX_NC);
    for (size_t i = 0; i < SEAM_APDU_MAX_NC; i++)
        data[i] = (uint8_t)(i * 7);
    uint8_t *out = malloc(SEAM_APDU_MAX_LEN);
    for (size_t a = 0; a < COUNT(ncs); a++) {
        for (size_t b = 0; b < COUNT(nes); b++) {
            for (int force = 0; force < 2; force++) {
                seam_apdu cmd = {.cla = 0x84,
                                 .ins = 0xE8,
                                 .p1 = 0x80,
                                 .p2 = 0x01,
                                 .data = ncs[a] ? data : NULL,
                                 .nc = ncs[a],
                                 .ne = nes[b],
                                 .extended = force};
                size_t out_len = 0;
                assert_int_equal(seam_apdu_encode(&cmd, out, SEAM_APDU_MAX_LEN, &out_len), SEAM_OK);
                seam_apdu back;
                assert_int_equal(seam_apdu_parse(out, out_len, &back), SEAM_OK);
                bool extended = (force || ncs[a] > 255 || nes[b] > 256) && (ncs[a] || nes[b]);
                assert_int_equal(back.extended, extended);
                assert_int_equal(back.apdu_case, 1 + (nes[b] ? 1 : 0) + (ncs[a] ? 2 : 0));
                assert_int_equal(back.cla, 0x84);
                assert_int_equal(back.ins, 0xE8);
                assert_int_equal(back.p1, 0x80);
                assert_int_equal(back.p2, 0x01);
                assert_int_equal(back.nc, ncs[a]);
                assert_int_equal(back.ne, nes[b]);
                if (ncs[a])
                    assert_memory_equal(back.data, data, ncs[a]);
            }
        }
    }
    free(out);
    free(data);
}

static void encode_writes_expected_bytes_and_refuses_bad_input(void **state) {
    (void)state;
    const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    seam_apdu select = {.cla = 0x00, .ins = 0xA4, .p1 = 0x04, .data = aid, .nc = 8, .ne = 256};
    uint8_t out[32];
    memset(out, 0xEE, sizeof out);
    size_t out_len = 0;
    assert_int_equal(seam_apdu_encode(&select, out, 13, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 14);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xEE);
    assert_int_equal(seam_apdu_encode(&select, NULL, 0, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 14);
    assert_int_equal(seam_apdu_encode(&select, out, sizeof out, &out_len), SEAM_OK);
    size_t want_len = 0;
    uint8_t *want = from_hex("00 A4 04 00 08 A0 00 00 01 51 00 00 00 00", &want_len);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    free(want);

    seam_apdu bad = select;
    bad.nc = 65536;
    out_len = 77;
    assert_int_equal(seam_apdu_encode(&bad, out, sizeof out, &out_len), SEAM_ERR_ARG);
    assert_int_equal(out_len, 77);
    bad = select;
    bad.ne = 65537;
    assert_int_equal(seam_apdu_encode(&bad, out, sizeof out, &out_len), SEAM_ERR_ARG);
    bad = select;
    bad.data = NULL;
    assert_int_equal(seam_apdu_encode(&bad, out, sizeof out, &out_len), SEAM_ERR_ARG);
    assert_int_equal(seam_apdu_encode(&select, out, sizeof out, NULL), SEAM_ERR_ARG);
    assert_int_equal(out_len, 77);
}

static void class_byte_decodes_channel_sm_chaining_and_proprietary(void **state) {
    (void)state;
    static const struct {
        uint8_t cla;
        uint8_t channel;
        seam_apdu_sm sm;
        bool chained;
        bool proprietary;
    } vectors[] = {
        {0x00, 0, SEAM_APDU_SM_NONE, false, false},
        {0x01, 1, SEAM_APDU_SM_NONE, false, false},
        {0x03, 3, SEAM_APDU_SM_NONE, false, false},
        {0x10, 0, SEAM_APDU_SM_NONE, true, false},
        {0x0C, 0, SEAM_APDU_SM_ISO_HEADER, false, false},
        {0x08, 0, SEAM_APDU_SM_ISO, false, false},
        {0x40, 4, SEAM_APDU_SM_NONE, false, false},
        {0x4F, 19, SEAM_APDU_SM_NONE, false, false},
        {0x55, 9, SEAM_APDU_SM_NONE, true, false},
        {0x61, 5, SEAM_APDU_SM_ISO, false, false},
        {0x80, 0, SEAM_APDU_SM_NONE, false, true},
        {0x83, 3, SEAM_APDU_SM_NONE, false, true},
        {0x84, 0, SEAM_APDU_SM_PROPRIETARY, false, true},
        {0x87, 3, SEAM_APDU_SM_PROPRIETARY, false, true},
        {0x90, 0, SEAM_APDU_SM_NONE, true, true},
        {0xC0, 4, SEAM_APDU_SM_NONE, false, true},
        {0xCF, 19, SEAM_APDU_SM_NONE, false, true},
        {0xE0, 4, SEAM_APDU_SM_ISO, false, true},
        {0xEF, 19, SEAM_APDU_SM_ISO, false, true},
        {0xF3, 7, SEAM_APDU_SM_ISO, true, true},
    };
    for (size_t i = 0; i < COUNT(vectors); i++) {
        seam_apdu_class cls;
        assert_int_equal(seam_apdu_class_decode(vectors[i].cla, &cls), SEAM_OK);
        assert_int_equal(cls.channel, vectors[i].channel);
        assert_int_equal(cls.sm, vectors[i].sm);
        assert_int_equal(cls.chained, vectors[i].chained);
        assert_int_equal(cls.proprietary, vectors[i].proprietary);
        assert_int_equal(seam_apdu_cla_chained(vectors[i].cla), vectors[i].chained);
        assert_int_equal(seam_apdu_cla_proprietary(vectors[i].cla), vectors[i].proprietary);
    }
    static const uint8_t reserved[] = {0x20, 0x2F, 0x3F, 0xA0, 0xBF, 0xFF};
    for (size_t i = 0; i < COUNT(reserved); i++) {
        seam_apdu_class cls = {.channel = 99};
        assert_int_equal(seam_apdu_class_decode(reserved[i], &cls), SEAM_ERR_CARD_CLA);
        assert_int_equal(cls.channel, 99);
    }
    assert_int_equal(seam_apdu_class_decode(0x00, NULL), SEAM_ERR_ARG);
}

static void respond_appends_status_word(void **state) {
    (void)state;
    uint8_t out[8];
    memset(out, 0xEE, sizeof out);
    size_t out_len = 0;
    const uint8_t data[] = {1, 2, 3};
    assert_int_equal(seam_apdu_respond(data, 3, 0x6310, out, 4, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 5);
    assert_int_equal(out[0], 0xEE);
    assert_int_equal(seam_apdu_respond(data, 3, 0x6310, out, 5, &out_len), SEAM_OK);
    assert_int_equal(out_len, 5);
    const uint8_t want[] = {1, 2, 3, 0x63, 0x10};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(seam_apdu_respond(NULL, 0, SEAM_SW_WRONG_LENGTH, out, 2, &out_len), SEAM_OK);
    assert_int_equal(out_len, 2);
    assert_int_equal(out[0], 0x67);
    assert_int_equal(out[1], 0x00);
}

/* Expects out[0..out_len) = data[from..from+count) || sw. */
static void assert_part(const uint8_t *out, size_t out_len, const uint8_t *data, size_t from,
                        size_t count, uint16_t sw) {
    assert_int_equal(out_len, count + 2);
    if (count)
        assert_memory_equal(out, data + from, count);
    assert_int_equal(out[count], sw >> 8);
    assert_int_equal(out[count + 1], sw & 0xFF);
}

static void long_response_is_fetched_with_several_get_response(void **state) {
    (void)state;
    uint8_t data[600];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i ^ 0x3C);
    uint8_t storage[1024];
    uint8_t out[300];
    size_t out_len = 0;
    seam_apdu_remainder rem;
    seam_apdu_remainder_init(&rem, storage, sizeof storage);
    assert_false(seam_apdu_remainder_pending(&rem));

    assert_int_equal(seam_apdu_remainder_send(&rem, data, 600, SEAM_SW_MORE_DATA_AVAILABLE, 256,
                                              out, sizeof out, &out_len),
                     SEAM_OK);
    assert_part(out, out_len, data, 0, 256, 0x6100); /* 344 left: 61 00 */
    assert_true(seam_apdu_remainder_pending(&rem));
    assert_int_equal(seam_apdu_remainder_get(&rem, 256, out, sizeof out, &out_len), SEAM_OK);
    assert_part(out, out_len, data, 256, 256, 0x6158); /* 88 left */
    /* A too-small output changes nothing. */
    assert_int_equal(seam_apdu_remainder_get(&rem, 0x58, out, 10, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 0x58 + 2);
    assert_int_equal(seam_apdu_remainder_get(&rem, 0x20, out, sizeof out, &out_len), SEAM_OK);
    assert_part(out, out_len, data, 512, 0x20, 0x6138);
    assert_int_equal(seam_apdu_remainder_get(&rem, 0, out, sizeof out, &out_len), SEAM_OK);
    assert_part(out, out_len, data, 544, 56, SEAM_SW_MORE_DATA_AVAILABLE);
    assert_false(seam_apdu_remainder_pending(&rem));
    assert_int_equal(seam_apdu_remainder_get(&rem, 256, out, sizeof out, &out_len), SEAM_OK);
    assert_part(out, out_len, data, 0, 0, SEAM_SW_CONDITIONS_NOT_MET);
}

static void response_within_ne_is_sent_whole_and_new_command_drops_rest(void **state) {
    (void)state;
    uint8_t storage[512];
    uint8_t out[300];
    size_t out_len = 0;
    seam_apdu_remainder rem;
    seam_apdu_remainder_init(&rem, storage, sizeof storage);
    /* The card builds its response in the storage itself. */
    for (size_t i = 0; i < 300; i++)
        storage[i] = (uint8_t)i;
    uint8_t copy[300];
    memcpy(copy, storage, sizeof copy);
    assert_int_equal(seam_apdu_remainder_send(&rem, storage, 300, SEAM_SW_SUCCESS, 0x10, out,
                                              sizeof out, &out_len),
                     SEAM_OK);
    assert_part(out, out_len, copy, 0, 0x10, 0x6100);
    assert_int_equal(seam_apdu_remainder_get(&rem, 0x100, out, sizeof out, &out_len), SEAM_OK);
    assert_part(out, out_len, copy, 0x10, 0x100, 0x611C);
    /* Another command: the rest is dropped and its own answer goes out whole. */
    const uint8_t small[] = {0xAA, 0xBB};
    assert_int_equal(
        seam_apdu_remainder_send(&rem, small, 2, SEAM_SW_SUCCESS, 256, out, sizeof out, &out_len),
        SEAM_OK);
    assert_part(out, out_len, small, 0, 2, SEAM_SW_SUCCESS);
    assert_false(seam_apdu_remainder_pending(&rem));
    /* Case 1/3 commands (Ne = 0) with response data get 61xx straight away. */
    assert_int_equal(
        seam_apdu_remainder_send(&rem, small, 2, SEAM_SW_SUCCESS, 0, out, sizeof out, &out_len),
        SEAM_OK);
    assert_part(out, out_len, small, 0, 0, 0x6102);
    seam_apdu_remainder_clear(&rem);
    assert_false(seam_apdu_remainder_pending(&rem));
}

static void remainder_refuses_what_it_cannot_hold(void **state) {
    (void)state;
    uint8_t storage[16];
    uint8_t data[64] = {0};
    uint8_t out[64];
    memset(out, 0xEE, sizeof out);
    size_t out_len = 99;
    seam_apdu_remainder rem;
    seam_apdu_remainder_init(&rem, storage, sizeof storage);
    assert_int_equal(seam_apdu_remainder_send(&rem, data, sizeof data, SEAM_SW_SUCCESS, 32, out,
                                              sizeof out, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 99);
    assert_int_equal(out[0], 0xEE);
    assert_false(seam_apdu_remainder_pending(&rem));
    assert_int_equal(
        seam_apdu_remainder_send(&rem, data, 40, SEAM_SW_SUCCESS, 32, out, 20, &out_len),
        SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 34);
    assert_int_equal(out[0], 0xEE);
    assert_false(seam_apdu_remainder_pending(&rem));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_every_case_in_short_and_extended_form),
        cmocka_unit_test(every_truncation_and_extra_byte_is_refused_or_reinterpreted),
        cmocka_unit_test(inconsistent_lengths_are_malformed),
        cmocka_unit_test(le_zero_means_256_short_and_65536_extended),
        cmocka_unit_test(largest_extended_commands_parse),
        cmocka_unit_test(encode_round_trips_through_parse),
        cmocka_unit_test(encode_writes_expected_bytes_and_refuses_bad_input),
        cmocka_unit_test(class_byte_decodes_channel_sm_chaining_and_proprietary),
        cmocka_unit_test(respond_appends_status_word),
        cmocka_unit_test(long_response_is_fetched_with_several_get_response),
        cmocka_unit_test(response_within_ne_is_sent_whole_and_new_command_drops_rest),
        cmocka_unit_test(remainder_refuses_what_it_cannot_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
