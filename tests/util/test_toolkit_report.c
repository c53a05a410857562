/*
 * Tests for the later report of a synchronization (issue 14, S7;
 * include/seam/toolkit.h, docs/toolkit.md "seam's choices"): wants result 02,
 * the reference object 7F D3 0A in a TERMINAL RESPONSE, and the ENVELOPE
 * event download of event E2. seam's own encoding, not a standard's vector.
 * Inputs are decoded from heap blocks of exactly their size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "util_test.h"

/* 00 with counts (two-way, 3 sent, 5 received, no conflict), reference 05. */
#define REPORT_OK                                                                                  \
    "D6 1A 82 02 82 81 99 01 E2 83 01 00 7F D3 09 07 C8 00 03 00 05 00 00 7F D3 0A 01 05"
/* 20 E1 (unreachable), reference 05. */
#define REPORT_FAILED "D6 10 82 02 82 81 99 01 E2 83 02 20 E1 7F D3 0A 01 05"

static void assert_bytes(const uint8_t *got, size_t got_len, const char *want_hex) {
    size_t want_len = 0;
    uint8_t *want = from_hex(want_hex, &want_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
}

static seam_err decode_hex(const char *hex, seam_tk_sync_report *out) {
    size_t len = 0;
    uint8_t *in = from_hex(hex, &len);
    seam_err err = seam_tk_sync_report_decode(in, len, out);
    free(in);
    return err;
}

static void s7_wants_result_later_round_trips(void **state) {
    (void)state;
    seam_tk_sync_request req;
    memset(&req, 0, sizeof req);
    req.protocol = SEAM_TK_SYNC_PROTO_CHANGESET;
    req.transport = SEAM_TK_SYNC_TRANSPORT_HTTP;
    req.sync_type = SEAM_TK_SYNC_TWO_WAY;
    req.source_device = req.source_uri = req.target_url = req.target_uri = (const uint8_t *)"A";
    req.source_device_len = req.source_uri_len = req.target_url_len = req.target_uri_len = 1;
    req.wants_result = SEAM_TK_SYNC_RESULT_LATER;
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    assert_int_equal(seam_tk_build_request_sync(7, &req, out, sizeof out, &out_len), SEAM_OK);
    assert_memory_equal(out + out_len - 5, "\x7F\xD3\x08\x01\x02", 5);
    seam_tk_command cmd;
    uint8_t *in = exact_copy(out, out_len);
    assert_int_equal(seam_tk_command_decode(in, out_len, &cmd), SEAM_OK);
    seam_tk_sync_request back;
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &back), SEAM_OK);
    assert_int_equal(back.wants_result, SEAM_TK_SYNC_RESULT_LATER);
    assert_int_equal(back.protocol, SEAM_TK_SYNC_PROTO_CHANGESET);
    /* 03 is no value of the object: 32 for the terminal, ARG for the builder */
    in[out_len - 1] = 0x03;
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &back),
                     SEAM_ERR_MALFORMED);
    free(in);
    req.wants_result = 3;
    assert_int_equal(seam_tk_build_request_sync(7, &req, out, sizeof out, &out_len), SEAM_ERR_ARG);
}

static void s7_accepted_response_carries_the_reference(void **state) {
    (void)state;
    uint8_t extra[8], out[64];
    size_t extra_len = 0, out_len = 0;
    assert_int_equal(seam_tk_sync_reference_put(0x07, extra, sizeof extra, &extra_len), SEAM_OK);
    const seam_tk_details d = {7, SEAM_TK_CMD_REQUEST_SYNC, 0};
    assert_int_equal(seam_tk_response_build(&d, SEAM_TK_RES_OK, NULL, 0, extra, extra_len, out,
                                            sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "81 03 07 5F 00 82 02 82 81 83 01 00 7F D3 0A 01 07");
    seam_tk_response r;
    uint8_t *in = exact_copy(out, out_len);
    assert_int_equal(seam_tk_response_decode(in, out_len, &r), SEAM_OK);
    uint8_t ref = 0;
    assert_int_equal(seam_tk_sync_reference_decode(r.objects, r.objects_len, &ref), SEAM_OK);
    assert_int_equal(ref, 0x07);
    free(in);
    /* absent, 0 or 2 bytes, broken objects; a short buffer leaves *len alone */
    size_t len = 0;
    in = from_hex("7F D3 09 07 C8 00 00 00 00 00 00", &len);
    assert_int_equal(seam_tk_sync_reference_decode(in, len, &ref), SEAM_ERR_NOT_FOUND);
    free(in);
    in = from_hex("7F D3 0A 02 07 07", &len);
    assert_int_equal(seam_tk_sync_reference_decode(in, len, &ref), SEAM_ERR_MALFORMED);
    free(in);
    in = from_hex("7F D3 0A 00", &len);
    assert_int_equal(seam_tk_sync_reference_decode(in, len, &ref), SEAM_ERR_MALFORMED);
    free(in);
    in = from_hex("7F D3 0A 01", &len);
    assert_int_not_equal(seam_tk_sync_reference_decode(in, len, &ref), SEAM_OK);
    free(in);
    assert_int_equal(ref, 0x07);
    extra_len = 2;
    assert_int_equal(seam_tk_sync_reference_put(1, extra, 5, &extra_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(extra_len, 2);
}

static void s7_report_builds_and_decodes(void **state) {
    (void)state;
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    seam_tk_sync_report rep = {
        .reference = 5, .general = SEAM_TK_RES_OK, .counts = {SEAM_TK_SYNC_TWO_WAY, 3, 5, 0}};
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, REPORT_OK);
    seam_tk_sync_report back;
    memset(&back, 0xEE, sizeof back);
    assert_int_equal(decode_hex(REPORT_OK, &back), SEAM_OK);
    assert_int_equal(back.reference, 5);
    assert_int_equal(back.general, SEAM_TK_RES_OK);
    assert_int_equal(back.failure, 0);
    assert_int_equal(back.counts.sent, 3);
    assert_int_equal(back.counts.received, 5);
    /* the card's envelope decoder takes it as event E2 from the terminal */
    size_t len = 0;
    uint8_t *in = from_hex(REPORT_OK, &len);
    seam_tk_envelope env;
    assert_int_equal(seam_tk_envelope_decode(in, len, &env), SEAM_OK);
    assert_int_equal(env.event, SEAM_TK_EVENT_SYNC_RESULT);
    assert_int_equal(env.source, SEAM_TK_DEV_TERMINAL);
    free(in);

    rep = (seam_tk_sync_report){.reference = 5,
                                .general = SEAM_TK_RES_TERMINAL_BUSY,
                                .failure = SEAM_TK_SYNC_FAIL_UNREACHABLE};
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, REPORT_FAILED);
    assert_int_equal(decode_hex(REPORT_FAILED, &back), SEAM_OK);
    assert_int_equal(back.general, SEAM_TK_RES_TERMINAL_BUSY);
    assert_int_equal(back.failure, SEAM_TK_SYNC_FAIL_UNREACHABLE);
    assert_int_equal(back.counts.sync_type, 0);

    /* the builder refuses what the decoder would refuse */
    rep.failure = 0x05;
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len), SEAM_ERR_ARG);
    rep.general = SEAM_TK_RES_BEYOND_CAPABILITIES;
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len), SEAM_ERR_ARG);
    rep = (seam_tk_sync_report){.general = SEAM_TK_RES_OK, .counts = {199, 0, 0, 0}};
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len), SEAM_ERR_ARG);
    /* a short buffer: the size needed, out unchanged */
    rep = (seam_tk_sync_report){.general = SEAM_TK_RES_TERMINAL_BUSY, .failure = 0xE6};
    memset(out, 0xEE, 18);
    assert_int_equal(seam_tk_envelope_sync_result(&rep, out, 17, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 18);
    for (size_t i = 0; i < 18; i++)
        assert_int_equal(out[i], 0xEE);
}

static void s7_every_prefix_of_a_report_is_truncated(void **state) {
    (void)state;
    const char *reports[] = {REPORT_OK, REPORT_FAILED};
    for (size_t r = 0; r < 2; r++) {
        size_t len = 0;
        uint8_t *whole = from_hex(reports[r], &len);
        for (size_t n = 0; n < len; n++) {
            uint8_t *in = exact_copy(whole, n);
            seam_tk_sync_report out;
            memset(&out, 0xEE, sizeof out);
            assert_int_equal(seam_tk_sync_report_decode(in, n, &out), SEAM_ERR_TRUNCATED);
            assert_int_equal(out.reference, 0xEE);
            free(in);
        }
        free(whole);
    }
}

static void s7_malformed_reports_are_refused(void **state) {
    (void)state;
    static const struct {
        const char *hex;
        seam_err err;
    } cases[] = {
        /* 00 without the counts */
        {"D6 0F 82 02 82 81 99 01 E2 83 01 00 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        /* 20 with counts */
        {"D6 1B 82 02 82 81 99 01 E2 83 02 20 E1 7F D3 09 07 C8 00 03 00 05 00 00 7F D3 0A 01 05",
         SEAM_ERR_MALFORMED},
        /* 20 without a class, with a class outside E1..E6, with two bytes of class */
        {"D6 0F 82 02 82 81 99 01 E2 83 01 20 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        {"D6 10 82 02 82 81 99 01 E2 83 02 20 E7 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        {"D6 11 82 02 82 81 99 01 E2 83 03 20 E1 E1 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        /* another result (30), or 00 with additional information */
        {"D6 0F 82 02 82 81 99 01 E2 83 01 30 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        {"D6 1B 82 02 82 81 99 01 E2 83 02 00 00 7F D3 09 07 C8 00 03 00 05 00 00 7F D3 0A 01 05",
         SEAM_ERR_MALFORMED},
        /* no result; no reference; a 2-byte reference */
        {"D6 0C 82 02 82 81 99 01 E2 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        {"D6 0B 82 02 82 81 99 01 E2 83 02 20 E1", SEAM_ERR_MALFORMED},
        {"D6 11 82 02 82 81 99 01 E2 83 02 20 E1 7F D3 0A 02 05 05", SEAM_ERR_MALFORMED},
        /* counts of a bad type, or 6 bytes */
        {"D6 1A 82 02 82 81 99 01 E2 83 01 00 7F D3 09 07 C7 00 03 00 05 00 00 7F D3 0A 01 05",
         SEAM_ERR_MALFORMED},
        {"D6 19 82 02 82 81 99 01 E2 83 01 00 7F D3 09 06 C8 00 03 00 05 00 7F D3 0A 01 05",
         SEAM_ERR_MALFORMED},
        /* not from the terminal (the keypad) */
        {"D6 10 82 02 01 81 99 01 E2 83 02 20 E1 7F D3 0A 01 05", SEAM_ERR_MALFORMED},
        /* an object running past the template; a byte after it */
        {"D6 10 82 02 82 81 99 01 E2 83 02 20 E1 7F D3 0A 02 05", SEAM_ERR_MALFORMED},
        {REPORT_FAILED " 00", SEAM_ERR_MALFORMED},
        /* another event, a menu selection: not a report */
        {"D6 10 82 02 82 81 99 01 E1 83 02 20 E1 7F D3 0A 01 05", SEAM_ERR_UNSUPPORTED},
        {"D3 07 82 02 01 81 90 01 01", SEAM_ERR_UNSUPPORTED},
        {"D1 03 82 01 81", SEAM_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seam_tk_sync_report out;
        memset(&out, 0xEE, sizeof out);
        seam_err err = decode_hex(cases[i].hex, &out);
        if (err != cases[i].err)
            fail_msg("case %zu (%s): %s", i, cases[i].hex, seam_err_str(err));
        assert_int_equal(out.reference, 0xEE);
    }
}

static void s7_e1_and_e2_are_not_listed(void **state) {
    (void)state;
    assert_false(seam_tk_event_listed(SEAM_TK_EVENT_PROFILE_DOWNLOAD));
    assert_false(seam_tk_event_listed(SEAM_TK_EVENT_SYNC_RESULT));
    assert_true(seam_tk_event_listed(SEAM_TK_EVENT_CAPABILITIES_CHANGED));
    assert_true(seam_tk_event_listed(SEAM_TK_EVENT_LOCATION_STATUS));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s7_wants_result_later_round_trips),
        cmocka_unit_test(s7_accepted_response_carries_the_reference),
        cmocka_unit_test(s7_report_builds_and_decodes),
        cmocka_unit_test(s7_every_prefix_of_a_report_is_truncated),
        cmocka_unit_test(s7_malformed_reports_are_refused),
        cmocka_unit_test(s7_e1_and_e2_are_not_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
