/*
 * Tests for the toolkit's message codecs (include/seam/toolkit.h). Inputs are
 * decoded from heap blocks of exactly their size.
 *
 * Vectors: the DISPLAY TEXT, TERMINAL RESPONSE and timer expiration envelope
 * of issue 13 (ETSI TS 102 384 §27.22.4.1.1 seq. 1.1 and §27.22.4.21.2);
 * the rest are restated from ETSI TS 102 384 as oFono carries them in its
 * unit tests (unit/stk-test-data.h and unit/test-stkutil.c of
 * git.kernel.org/pub/scm/network/ofono/ofono.git; the array name is given
 * with each vector). Bytes only, no code taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "util_test.h"

#define TEXT_TOOLKIT_TEST_1 "54 6F 6F 6C 6B 69 74 20 54 65 73 74 20 31"

/* TS 102 384 §27.22.4.1.1 seq 1.1 (issue 13; oFono display_text_111). */
#define DISPLAY_TEXT_111    "D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 " TEXT_TOOLKIT_TEST_1
#define DISPLAY_TEXT_TR_111 "81 03 01 21 80 82 02 82 81 83 01 00"
/* Timer expiration (issue 13; oFono timer_expiration_211). */
#define TIMER_EXPIRATION_211 "D7 0C 82 02 82 81 A4 01 01 A5 03 00 00 01"

/* Checks that built bytes equal a vector. */
static void assert_bytes(const uint8_t *got, size_t got_len, const char *want_hex) {
    size_t want_len = 0;
    uint8_t *want = from_hex(want_hex, &want_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(want);
}

static seam_err decode_command(const char *hex, seam_tk_command *cmd) {
    size_t len = 0;
    uint8_t *in = from_hex(hex, &len);
    seam_err err = seam_tk_command_decode(in, len, cmd);
    /* The struct's pointers point into in: copy what the callers check. */
    if (err == SEAM_OK && cmd->objects_len) {
        static uint8_t keep[SEAM_TK_MAX_VALUE];
        memcpy(keep, cmd->objects, cmd->objects_len);
        cmd->objects = keep;
    }
    free(in);
    return err;
}

/* ---- proactive commands ------------------------------------------------- */

static void test_display_text_vector_decodes_and_builds(void **state) {
    (void)state;
    seam_tk_command cmd;
    assert_int_equal(decode_command(DISPLAY_TEXT_111, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.number, 1);
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_DISPLAY_WAIT_USER);
    assert_int_equal(cmd.source, SEAM_TK_DEV_UICC);
    assert_int_equal(cmd.dest, SEAM_TK_DEV_DISPLAY);
    assert_int_equal(cmd.unknown_cr_tag, 0);
    seam_ctlv text;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TEXT_STRING, &text),
                     SEAM_OK);
    assert_int_equal(text.len, 15);
    assert_int_equal(text.value[0], SEAM_TK_DCS_8BIT);
    assert_memory_equal(text.value + 1, "Toolkit Test 1", 14);

    uint8_t out[64];
    size_t out_len = 0;
    assert_int_equal(seam_tk_build_display_text(1, SEAM_TK_DISPLAY_WAIT_USER, SEAM_TK_DCS_8BIT,
                                                (const uint8_t *)"Toolkit Test 1", 14, false, out,
                                                sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, DISPLAY_TEXT_111);
}

static void test_display_text_response_vector(void **state) {
    (void)state;
    const seam_tk_details d = {1, SEAM_TK_CMD_DISPLAY_TEXT, 0x80};
    uint8_t out[32];
    size_t out_len = 0;
    assert_int_equal(
        seam_tk_response_build(&d, SEAM_TK_RES_OK, NULL, 0, NULL, 0, out, sizeof out, &out_len),
        SEAM_OK);
    assert_bytes(out, out_len, DISPLAY_TEXT_TR_111);

    size_t len = 0;
    uint8_t *in = from_hex(DISPLAY_TEXT_TR_111, &len);
    seam_tk_response resp;
    assert_int_equal(seam_tk_response_decode(in, len, &resp), SEAM_OK);
    assert_int_equal(resp.details.number, 1);
    assert_int_equal(resp.details.type, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(resp.details.qualifier, 0x80);
    assert_int_equal(resp.source, SEAM_TK_DEV_TERMINAL);
    assert_int_equal(resp.dest, SEAM_TK_DEV_UICC);
    assert_int_equal(resp.general, SEAM_TK_RES_OK);
    assert_int_equal(resp.additional_len, 0);
    assert_int_equal(resp.objects_len, 0);
    free(in);
}

/* TS 102 384 §27.22.4.1.1 seq 1.2 (oFono display_text_response_121): busy, screen busy. */
static void test_response_with_additional_information(void **state) {
    (void)state;
    const seam_tk_details d = {1, SEAM_TK_CMD_DISPLAY_TEXT, 0x80};
    const uint8_t screen_busy = 0x01;
    uint8_t out[32];
    size_t out_len = 0;
    assert_int_equal(seam_tk_response_build(&d, SEAM_TK_RES_TERMINAL_BUSY, &screen_busy, 1, NULL, 0,
                                            out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "81 03 01 21 80 82 02 82 81 83 02 20 01");
    seam_tk_response resp;
    uint8_t *in = exact_copy(out, out_len);
    assert_int_equal(seam_tk_response_decode(in, out_len, &resp), SEAM_OK);
    assert_int_equal(resp.general, SEAM_TK_RES_TERMINAL_BUSY);
    assert_int_equal(resp.additional_len, 1);
    assert_int_equal(resp.additional[0], 0x01);
    free(in);
}

static void test_get_inkey_vectors(void **state) {
    (void)state;
    /* TS 102 384 §27.22.4.2.1 seq 1.1 (oFono get_inkey_111 and get_inkey_response_111). */
    static const char *const cmd_111 =
        "D0 15 81 03 01 22 00 82 02 81 82 8D 0A 04 45 6E 74 65 72 20 22 2B 22";
    static const char *const tr_111 = "81 03 01 22 00 82 02 82 81 83 01 00 8D 02 04 2B";
    /* Seq 5.1, yes/no (oFono get_inkey_511 and get_inkey_response_511): "YES" is 01. */
    static const char *const cmd_511 =
        "D0 15 81 03 01 22 04 82 02 81 82 8D 0A 04 45 6E 74 65 72 20 59 45 53";
    static const char *const tr_511 = "81 03 01 22 04 82 02 82 81 83 01 00 8D 02 04 01";
    uint8_t out[64];
    size_t out_len = 0;
    assert_int_equal(seam_tk_build_get_inkey(1, SEAM_TK_INKEY_DIGITS, SEAM_TK_DCS_8BIT,
                                             (const uint8_t *)"Enter \"+\"", 9, out, sizeof out,
                                             &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, cmd_111);
    assert_int_equal(seam_tk_build_get_inkey(1, SEAM_TK_INKEY_YES_NO, SEAM_TK_DCS_8BIT,
                                             (const uint8_t *)"Enter YES", 9, out, sizeof out,
                                             &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, cmd_511);
    seam_tk_command cmd;
    assert_int_equal(decode_command(cmd_511, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_GET_INKEY);
    assert_int_equal(cmd.dest, SEAM_TK_DEV_TERMINAL);

    /* The responses carry the key as a text string. */
    const seam_tk_details d111 = {1, SEAM_TK_CMD_GET_INKEY, 0x00};
    uint8_t text[8];
    size_t text_len = 0;
    const uint8_t plus[2] = {SEAM_TK_DCS_8BIT, '+'};
    assert_int_equal(
        seam_ctlv_put(SEAM_TK_TAG_TEXT_STRING, true, plus, 2, text, sizeof text, &text_len),
        SEAM_OK);
    assert_int_equal(seam_tk_response_build(&d111, SEAM_TK_RES_OK, NULL, 0, text, text_len, out,
                                            sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, tr_111);
    size_t len = 0;
    uint8_t *in = from_hex(tr_511, &len);
    seam_tk_response resp;
    assert_int_equal(seam_tk_response_decode(in, len, &resp), SEAM_OK);
    assert_int_equal(resp.details.qualifier, SEAM_TK_INKEY_YES_NO);
    seam_ctlv key;
    assert_int_equal(seam_ctlv_find(resp.objects, resp.objects_len, SEAM_TK_TAG_TEXT_STRING, &key),
                     SEAM_OK);
    assert_int_equal(key.len, 2);
    assert_int_equal(key.value[1], 0x01);
    free(in);
}

static void test_set_up_menu_vectors(void **state) {
    (void)state;
    /* TS 102 384 §27.22.4.7.1 seq 1.1, second menu (oFono setup_menu_112). */
    static const char *const menu_112 = "D0 23 81 03 01 25 00 82 02 81 82 85 0C 54 6F 6F 6C 6B 69 "
                                        "74 20 4D 65 6E 75 8F 04 11 4F 6E 65 8F 04 12 54 77 6F";
    /* The same sequence, removing the menu (oFono setup_menu_113). */
    static const char *const menu_113 = "D0 0D 81 03 01 25 00 82 02 81 82 85 00 8F 00";
    const seam_tk_item items[] = {{0x11, "One"}, {0x12, "Two"}};
    uint8_t out[64];
    size_t out_len = 0;
    assert_int_equal(
        seam_tk_build_set_up_menu(1, 0, "Toolkit Menu", items, 2, out, sizeof out, &out_len),
        SEAM_OK);
    assert_bytes(out, out_len, menu_112);
    assert_int_equal(seam_tk_build_set_up_menu(1, 0, "", NULL, 0, out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, menu_113);
    seam_tk_command cmd;
    assert_int_equal(decode_command(menu_112, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_SET_UP_MENU);
    seam_ctlv item;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &item),
                     SEAM_OK);
    assert_int_equal(item.value[0], 0x11);
    /* oFono set_up_menu_response_111. */
    const seam_tk_details d = {1, SEAM_TK_CMD_SET_UP_MENU, 0};
    assert_int_equal(
        seam_tk_response_build(&d, SEAM_TK_RES_OK, NULL, 0, NULL, 0, out, sizeof out, &out_len),
        SEAM_OK);
    assert_bytes(out, out_len, "81 03 01 25 00 82 02 82 81 83 01 00");
}

static void test_set_up_event_list_timer_poll_local_vectors(void **state) {
    (void)state;
    uint8_t out[64];
    size_t out_len = 0;
    /* TS 102 384 §27.22.4.16 seq 1.1 (oFono setup_event_list_111): user activity. */
    const uint8_t user_activity = SEAM_TK_EVENT_USER_ACTIVITY;
    assert_int_equal(
        seam_tk_build_set_up_event_list(1, &user_activity, 1, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, "D0 0C 81 03 01 05 00 82 02 81 82 99 01 04");
    /* An empty list removes every event. */
    assert_int_equal(seam_tk_build_set_up_event_list(2, NULL, 0, out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D0 0B 81 03 02 05 00 82 02 81 82 99 00");

    /* TS 102 384 §27.22.4.21.1 seq 1.1 (oFono timer_mgmt_111): start timer 1, 50 minutes. */
    const uint8_t fifty_minutes[3] = {0x00, 0x50, 0x00};
    assert_int_equal(seam_tk_build_timer_management(1, SEAM_TK_TIMER_START, 1, fifty_minutes, out,
                                                    sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D0 11 81 03 01 27 00 82 02 81 82 A4 01 01 A5 03 00 50 00");
    /* Deactivate: no timer value. */
    assert_int_equal(seam_tk_build_timer_management(1, SEAM_TK_TIMER_DEACTIVATE, 1, NULL, out,
                                                    sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D0 0C 81 03 01 27 01 82 02 81 82 A4 01 01");
    assert_int_equal(seam_tk_build_timer_management(1, SEAM_TK_TIMER_START, 9, fifty_minutes, out,
                                                    sizeof out, &out_len),
                     SEAM_ERR_ARG);
    assert_int_equal(
        seam_tk_build_timer_management(1, SEAM_TK_TIMER_START, 1, NULL, out, sizeof out, &out_len),
        SEAM_ERR_ARG);
    /* oFono timer_mgmt_response_111: the response names the timer. */
    const seam_tk_details timer = {1, SEAM_TK_CMD_TIMER_MANAGEMENT, 0};
    const uint8_t timer_id[3] = {0xA4, 0x01, 0x01};
    assert_int_equal(seam_tk_response_build(&timer, SEAM_TK_RES_OK, NULL, 0, timer_id, 3, out,
                                            sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "81 03 01 27 00 82 02 82 81 83 01 00 A4 01 01");

    /* TS 102 384 §27.22.4.6 seq 1.1 (oFono poll_interval_111 and its response): 20 s. */
    assert_int_equal(seam_tk_build_poll_interval(1, 0x01, 0x14, out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D0 0D 81 03 01 03 00 82 02 81 82 84 02 01 14");
    const seam_tk_details poll = {1, SEAM_TK_CMD_POLL_INTERVAL, 0};
    const uint8_t duration[4] = {0x84, 0x02, 0x01, 0x14};
    assert_int_equal(seam_tk_response_build(&poll, SEAM_TK_RES_OK, NULL, 0, duration, 4, out,
                                            sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "81 03 01 03 00 82 02 82 81 83 01 00 84 02 01 14");

    /* TS 102 384 §27.22.4.15 seq 1.2 (oFono provide_local_info_121 and
       provide_local_info_response_121): the IMEI. */
    assert_int_equal(
        seam_tk_build_provide_local_info(1, SEAM_TK_LOCAL_IMEI, out, sizeof out, &out_len),
        SEAM_OK);
    assert_bytes(out, out_len, "D0 09 81 03 01 26 01 82 02 81 82");
    size_t len = 0;
    uint8_t *in =
        from_hex("81 03 01 26 01 82 02 82 81 83 01 00 94 08 1A 32 54 76 98 10 32 54", &len);
    seam_tk_response resp;
    assert_int_equal(seam_tk_response_decode(in, len, &resp), SEAM_OK);
    seam_ctlv imei;
    assert_int_equal(seam_ctlv_find(resp.objects, resp.objects_len, SEAM_TK_TAG_IMEI, &imei),
                     SEAM_OK);
    assert_int_equal(imei.len, 8);
    assert_true(imei.cr);
    free(in);
}

static void test_long_command_uses_81_length(void **state) {
    (void)state;
    uint8_t text[200];
    memset(text, 'A', sizeof text);
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    assert_int_equal(seam_tk_build_display_text(3, 0, SEAM_TK_DCS_8BIT, text, sizeof text, true,
                                                out, sizeof out, &out_len),
                     SEAM_OK);
    /* 81 03 .. (5) + 82 02 .. (4) + 8D 81 C9 04 text (3 + 201) + AB 00 (2) = 215. */
    assert_int_equal(out_len, 3 + 215);
    assert_int_equal(out[0], 0xD0);
    assert_int_equal(out[1], 0x81);
    assert_int_equal(out[2], 215);
    uint8_t *in = exact_copy(out, out_len);
    seam_tk_command cmd;
    assert_int_equal(seam_tk_command_decode(in, out_len, &cmd), SEAM_OK);
    seam_ctlv obj;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TEXT_STRING, &obj),
                     SEAM_OK);
    assert_int_equal(obj.len, 201);
    assert_int_equal(
        seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_IMMEDIATE_RESPONSE, &obj),
        SEAM_OK);
    free(in);
    /* 255 bytes of text do not fit one template. */
    uint8_t big[254];
    memset(big, 'B', sizeof big);
    assert_int_equal(seam_tk_build_display_text(3, 0, SEAM_TK_DCS_8BIT, big, sizeof big, false, out,
                                                sizeof out, &out_len),
                     SEAM_ERR_ARG);
}

static void test_unknown_objects_with_and_without_cr(void **state) {
    (void)state;
    seam_tk_command cmd;
    /* DISPLAY TEXT with an extra object 7E: with CR it is reported (answer 32)... */
    assert_int_equal(decode_command("D0 1D 81 03 01 21 80 82 02 81 02 8D 0F 04 " TEXT_TOOLKIT_TEST_1
                                    " FE 01 00",
                                    &cmd),
                     SEAM_OK);
    assert_int_equal(cmd.unknown_cr_tag, 0x7E);
    /* ... a 3-byte one too ... */
    assert_int_equal(decode_command("D0 1F 81 03 01 21 80 82 02 81 02 8D 0F 04 " TEXT_TOOLKIT_TEST_1
                                    " 7F 92 34 01 00",
                                    &cmd),
                     SEAM_OK);
    assert_int_equal(cmd.unknown_cr_tag, 0x1234);
    /* ... without CR it is skipped. */
    assert_int_equal(decode_command("D0 1D 81 03 01 21 80 82 02 81 02 8D 0F 04 " TEXT_TOOLKIT_TEST_1
                                    " 7E 01 00",
                                    &cmd),
                     SEAM_OK);
    assert_int_equal(cmd.unknown_cr_tag, 0);
    /* A type seam does not know (SEND SS 11) reports nothing: the answer is 31 anyway. */
    assert_int_equal(decode_command("D0 0C 81 03 01 11 00 82 02 81 83 89 01 00", &cmd), SEAM_OK);
    assert_int_equal(cmd.unknown_cr_tag, 0);
    assert_int_equal(cmd.details.type, 0x11);
    assert_true(seam_tk_known_tag(SEAM_TK_CMD_TIMER_MANAGEMENT, SEAM_TK_TAG_TIMER_VALUE));
    assert_false(seam_tk_known_tag(SEAM_TK_CMD_PROVIDE_LOCAL, SEAM_TK_TAG_TEXT_STRING));
}

static void test_command_refuses_malformed_shapes(void **state) {
    (void)state;
    static const char *const bad[] = {
        "D1 0B 81 03 01 21 80 82 02 81 02 8D 00",       /* another template */
        "D0 0B 81 03 01 21 80 82 02 81 02 8D 00 00",    /* a byte after the template */
        "D0 05 81 03 01 21 80",                         /* no device identities */
        "D0 09 82 02 81 02 81 03 01 21 80",             /* device identities first */
        "D0 08 81 02 01 21 82 02 81 02",                /* command details of 2 bytes */
        "D0 0A 81 04 01 21 80 00 82 02 81 02",          /* ... of 4 */
        "D0 08 81 03 01 21 80 82 01 81",                /* device identities of 1 byte */
        "D0 81 09 81 03 01 21 80 82 02 81 02",          /* 81 with a short length */
        "D0 82 00 09 81 03 01 21 80 82 02 81 02",       /* 82 length form */
        "D0 80 81 03 01 21 80 82 02 81 02",             /* indefinite */
        "D0 0B 81 03 01 21 80 82 02 81 02 80 00",       /* an object with tag 80 */
        "D0 0D 81 03 01 21 80 82 02 81 02 8D 81 05 00", /* 81 05 object length */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seam_tk_command cmd;
        memset(&cmd, 0xA5, sizeof cmd);
        assert_int_equal(decode_command(bad[i], &cmd), SEAM_ERR_MALFORMED);
        assert_int_equal(cmd.details.number, 0xA5);
    }
    /* When only the rest is bad, the details can still be read for a result 32. */
    size_t len = 0;
    uint8_t *in = from_hex("D0 08 81 03 07 21 80 82 01 81", &len);
    seam_tk_details d;
    assert_int_equal(seam_tk_command_peek_details(in, len, &d), SEAM_OK);
    assert_int_equal(d.number, 7);
    assert_int_equal(d.type, SEAM_TK_CMD_DISPLAY_TEXT);
    free(in);
}

/* Every prefix of a good message is refused as truncated, read from a block of exactly its size. */
static void assert_prefixes_truncated(const char *hex, int which) {
    size_t len = 0;
    uint8_t *full = from_hex(hex, &len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *in = exact_copy(full, cut);
        seam_err err = SEAM_OK;
        if (which == 0) {
            seam_tk_command cmd;
            err = seam_tk_command_decode(in, cut, &cmd);
        } else if (which == 1) {
            seam_tk_response resp;
            err = seam_tk_response_decode(in, cut, &resp);
        } else {
            seam_tk_envelope env;
            err = seam_tk_envelope_decode(in, cut, &env);
        }
        assert_int_equal(err, SEAM_ERR_TRUNCATED);
        free(in);
    }
    free(full);
}

static void test_every_prefix_is_truncated(void **state) {
    (void)state;
    assert_prefixes_truncated(DISPLAY_TEXT_111, 0);
    assert_prefixes_truncated(DISPLAY_TEXT_TR_111, 1);
    assert_prefixes_truncated(TIMER_EXPIRATION_211, 2);
    assert_prefixes_truncated("D3 09 82 02 01 81 90 01 02 15 00", 2);
}

static void test_response_refuses_malformed_shapes(void **state) {
    (void)state;
    static const char *const bad[] = {
        "82 02 82 81 81 03 01 21 80 83 01 00",       /* device identities first */
        "81 03 01 21 80 83 01 00",                   /* no device identities */
        "81 03 01 21 80 82 02 82 81 83 00",          /* an empty result */
        "81 03 01 21 80 82 02 82 81 8D 01 00",       /* no result */
        "81 03 01 21 80 82 02 82 81 83 01 00 FF 00", /* a bad object after it */
        "81 02 01 21 82 02 82 81 83 01 00",          /* short command details */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 0;
        uint8_t *in = from_hex(bad[i], &len);
        seam_tk_response resp;
        memset(&resp, 0xA5, sizeof resp);
        assert_int_equal(seam_tk_response_decode(in, len, &resp), SEAM_ERR_MALFORMED);
        assert_int_equal(resp.general, 0xA5);
        free(in);
    }
}

/* ---- envelopes ---------------------------------------------------------- */

static seam_err decode_envelope(const char *hex, seam_tk_envelope *env) {
    size_t len = 0;
    uint8_t *in = from_hex(hex, &len);
    seam_err err = seam_tk_envelope_decode(in, len, env);
    env->objects = NULL; /* points into in */
    free(in);
    return err;
}

static void test_timer_expiration_vector(void **state) {
    (void)state;
    const uint8_t one_second[3] = {0x00, 0x00, 0x01};
    uint8_t out[32];
    size_t out_len = 0;
    assert_int_equal(seam_tk_envelope_timer(1, one_second, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, TIMER_EXPIRATION_211);
    seam_tk_envelope env;
    assert_int_equal(decode_envelope(TIMER_EXPIRATION_211, &env), SEAM_OK);
    assert_int_equal(env.kind, SEAM_TK_TIMER_EXPIRATION);
    assert_int_equal(env.source, SEAM_TK_DEV_TERMINAL);
    assert_int_equal(env.dest, SEAM_TK_DEV_UICC);
    assert_int_equal(env.timer_id, 1);
    assert_memory_equal(env.timer_value, one_second, 3);
    /* oFono timer_expiration_221a: timer 1 after 3 seconds. */
    assert_int_equal(decode_envelope("D7 0C 82 02 82 81 A4 01 01 A5 03 00 00 03", &env), SEAM_OK);
    assert_int_equal(env.timer_value[2], 0x03);
}

static void test_menu_selection_vectors(void **state) {
    (void)state;
    uint8_t out[32];
    size_t out_len = 0;
    /* TS 102 384 §27.22.4.7.1 (oFono menu_selection_111): item 2 chosen. */
    assert_int_equal(seam_tk_envelope_menu_selection(2, false, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, "D3 07 82 02 01 81 90 01 02");
    /* TS 102 384 §27.22.4.7.2 (oFono menu_selection_211): help requested on item 2. */
    assert_int_equal(seam_tk_envelope_menu_selection(2, true, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, "D3 09 82 02 01 81 90 01 02 15 00");
    seam_tk_envelope env;
    assert_int_equal(decode_envelope("D3 09 82 02 01 81 90 01 02 15 00", &env), SEAM_OK);
    assert_int_equal(env.kind, SEAM_TK_MENU_SELECTION);
    assert_int_equal(env.source, SEAM_TK_DEV_KEYPAD);
    assert_int_equal(env.item_id, 2);
    assert_true(env.help);
    assert_int_equal(decode_envelope("D3 07 82 02 01 81 90 01 FB", &env), SEAM_OK);
    assert_int_equal(env.item_id, 0xFB);
    assert_false(env.help);
}

static void test_event_download_vectors(void **state) {
    (void)state;
    uint8_t out[32];
    size_t out_len = 0;
    /* TS 102 384 §27.22.7.4 (oFono event_download_location_status_111): no service. */
    const uint8_t no_service[3] = {0x9B, 0x01, 0x02};
    assert_int_equal(seam_tk_envelope_event(SEAM_TK_EVENT_LOCATION_STATUS, SEAM_TK_DEV_TERMINAL,
                                            no_service, 3, out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D6 0A 99 01 03 82 02 82 81 9B 01 02");
    /* TS 102 384 §27.22.7.6 (oFono event_download_idle_screen_available_111). */
    assert_int_equal(seam_tk_envelope_event(SEAM_TK_EVENT_IDLE_SCREEN, SEAM_TK_DEV_DISPLAY, NULL, 0,
                                            out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D6 07 99 01 05 82 02 02 81");
    seam_tk_envelope env;
    /* TS 102 384 §27.22.7.8 (oFono event_download_language_selection_111): "de". */
    size_t len = 0;
    uint8_t *in = from_hex("D6 0B 99 01 07 82 02 82 81 AD 02 64 65", &len);
    assert_int_equal(seam_tk_envelope_decode(in, len, &env), SEAM_OK);
    assert_int_equal(env.kind, SEAM_TK_EVENT_DOWNLOAD);
    assert_int_equal(env.event, SEAM_TK_EVENT_LANGUAGE_SELECTION);
    seam_ctlv lang;
    assert_int_equal(seam_ctlv_find(env.objects, env.objects_len, SEAM_TK_TAG_LANGUAGE, &lang),
                     SEAM_OK);
    assert_memory_equal(lang.value, "de", 2);
    free(in);
    /* oFono event_download_call_disconnected_112b: cause 60 90 after the transaction id. */
    assert_int_equal(decode_envelope("D6 0E 99 01 02 82 02 82 81 9C 01 80 1A 02 60 90", &env),
                     SEAM_OK);
    assert_int_equal(env.event, SEAM_TK_EVENT_CALL_DISCONNECTED);
    /* seam's terminal capabilities changed event. */
    assert_int_equal(seam_tk_envelope_event(SEAM_TK_EVENT_CAPABILITIES_CHANGED,
                                            SEAM_TK_DEV_TERMINAL, NULL, 0, out, sizeof out,
                                            &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "D6 07 99 01 E0 82 02 82 81");
}

static void test_envelope_refuses_malformed_shapes(void **state) {
    (void)state;
    static const char *const bad[] = {
        "D3 04 90 01 02 00",                            /* tag 00 inside */
        "D3 03 90 01 02",                               /* no device identities */
        "D3 04 82 02 01 81",                            /* no item identifier */
        "D3 08 82 02 01 81 90 02 02 03",                /* item identifier of 2 bytes */
        "D3 0A 82 02 01 81 90 01 02 15 01 00",          /* help request with a value */
        "D3 07 82 02 01 82 90 01 02",                   /* not to the UICC */
        "D6 08 99 02 03 04 82 02 82 81",                /* two events */
        "D6 06 99 00 82 02 82 81",                      /* no event */
        "D7 0C 82 02 82 81 A4 01 09 A5 03 00 00 01",    /* timer 9 */
        "D7 0C 82 02 82 81 A4 01 00 A5 03 00 00 01",    /* timer 0 */
        "D7 0B 82 02 82 81 A4 01 01 A5 02 00 01",       /* a 2-byte timer value */
        "D7 07 82 02 82 81 A4 01 01",                   /* no timer value */
        "D7 0C 82 02 82 81 A4 01 01 A5 03 00 00 01 00", /* a byte after the template */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seam_tk_envelope env;
        memset(&env, 0xA5, sizeof env);
        assert_int_equal(decode_envelope(bad[i], &env), SEAM_ERR_MALFORMED);
        assert_int_equal(env.kind, 0xA5);
    }
    seam_tk_envelope env;
    /* SMS-PP download is a template seam does not take. */
    assert_int_equal(decode_envelope("D1 04 82 02 83 81", &env), SEAM_ERR_UNSUPPORTED);
}

/* ---- REQUEST SYNCHRONIZATION -------------------------------------------- */

static seam_tk_sync_request sample_request(void) {
    seam_tk_sync_request req;
    memset(&req, 0, sizeof req);
    req.protocol = SEAM_TK_SYNC_PROTO_OMA_DS_12;
    req.transport = SEAM_TK_SYNC_TRANSPORT_HTTP;
    req.sync_type = SEAM_TK_SYNC_TWO_WAY;
    req.source_device = (const uint8_t *)"IMEI:1";
    req.source_device_len = 6;
    req.source_uri = (const uint8_t *)"dm";
    req.source_uri_len = 2;
    req.target_url = (const uint8_t *)"http://s/";
    req.target_url_len = 9;
    req.target_uri = (const uint8_t *)"db";
    req.target_uri_len = 2;
    req.wants_result = true;
    return req;
}

/* seam's own encoding (docs/toolkit.md "Codecs"), not a standard's vector. */
#define REQUEST_SYNC_SAMPLE                                                                        \
    "D0 40 81 03 04 5F 00 82 02 81 82"                                                             \
    " 7F D3 01 01 01"                                                                              \
    " 7F D3 02 01 01"                                                                              \
    " 7F D3 03 01 C8"                                                                              \
    " 7F D3 04 06 49 4D 45 49 3A 31"                                                               \
    " 7F D3 05 02 64 6D"                                                                           \
    " 7F D3 06 09 68 74 74 70 3A 2F 2F 73 2F"                                                      \
    " 7F D3 07 02 64 62"                                                                           \
    " 7F D3 08 01 01"

static void test_request_sync_round_trip(void **state) {
    (void)state;
    seam_tk_sync_request req = sample_request();
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    assert_int_equal(seam_tk_build_request_sync(4, &req, out, sizeof out, &out_len), SEAM_OK);
    assert_bytes(out, out_len, REQUEST_SYNC_SAMPLE);
    uint8_t *in = exact_copy(out, out_len);
    seam_tk_command cmd;
    assert_int_equal(seam_tk_command_decode(in, out_len, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, SEAM_TK_CMD_REQUEST_SYNC);
    assert_int_equal(cmd.unknown_cr_tag, 0);
    seam_tk_sync_request back;
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &back), SEAM_OK);
    assert_int_equal(back.protocol, req.protocol);
    assert_int_equal(back.transport, req.transport);
    assert_int_equal(back.sync_type, SEAM_TK_SYNC_TWO_WAY);
    assert_int_equal(back.source_device_len, 6);
    assert_memory_equal(back.source_device, "IMEI:1", 6);
    assert_memory_equal(back.target_url, "http://s/", 9);
    assert_true(back.wants_result);
    free(in);
    /* A terminal without the capability answers 30; the card reads it like any other. */
    const seam_tk_details d = {4, SEAM_TK_CMD_REQUEST_SYNC, 0};
    assert_int_equal(seam_tk_response_build(&d, SEAM_TK_RES_BEYOND_CAPABILITIES, NULL, 0, NULL, 0,
                                            out, sizeof out, &out_len),
                     SEAM_OK);
    assert_bytes(out, out_len, "81 03 04 5F 00 82 02 82 81 83 01 30");
}

static void test_request_sync_refuses_bad_values(void **state) {
    (void)state;
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    seam_tk_sync_request req = sample_request();
    req.sync_type = 206;
    assert_int_equal(seam_tk_build_request_sync(4, &req, out, sizeof out, &out_len), SEAM_ERR_ARG);
    req = sample_request();
    req.transport = 3;
    assert_int_equal(seam_tk_build_request_sync(4, &req, out, sizeof out, &out_len), SEAM_ERR_ARG);
    req = sample_request();
    req.target_url_len = 0;
    assert_int_equal(seam_tk_build_request_sync(4, &req, out, sizeof out, &out_len), SEAM_ERR_ARG);

    seam_tk_sync_request back;
    size_t len = 0;
    /* Sync type 206 (C9 + 1). */
    uint8_t *in = from_hex("7F D3 01 01 01 7F D3 02 01 01 7F D3 03 01 CE 7F D3 04 01 41 7F D3 05 "
                           "01 41 7F D3 06 01 41 7F D3 07 01 41 7F D3 08 01 00",
                           &len);
    assert_int_equal(seam_tk_sync_request_decode(in, len, &back), SEAM_ERR_MALFORMED);
    in[14] = 0xCD; /* refresh from server: fine */
    assert_int_equal(seam_tk_sync_request_decode(in, len, &back), SEAM_OK);
    assert_false(back.wants_result);
    assert_int_equal(back.sync_type, SEAM_TK_SYNC_REFRESH_FROM_SERVER);
    /* Without the wants-result object: required values missing (answer 36). */
    assert_int_equal(seam_tk_sync_request_decode(in, len - 5, &back), SEAM_ERR_NOT_FOUND);
    /* An empty URI. */
    in[23] = 0x00;
    assert_int_equal(seam_tk_sync_request_decode(in, 24, &back), SEAM_ERR_MALFORMED);
    free(in);
}

/* ---- TERMINAL PROFILE and buffers --------------------------------------- */

static void test_terminal_profile_bits(void **state) {
    (void)state;
    uint8_t profile[SEAM_TK_PROFILE_LEN] = {0};
    assert_int_equal(seam_tk_profile_set(profile, sizeof profile, SEAM_TK_PF_DISPLAY_TEXT),
                     SEAM_OK);
    assert_int_equal(seam_tk_profile_set(profile, sizeof profile, SEAM_TK_PF_GET_INKEY), SEAM_OK);
    assert_int_equal(seam_tk_profile_set(profile, sizeof profile, SEAM_TK_PF_TIMER_EXPIRATION),
                     SEAM_OK);
    /* Byte 3 b1 and b2; byte 1 b6. */
    assert_int_equal(profile[2], 0x03);
    assert_int_equal(profile[0], 0x20);
    assert_true(seam_tk_profile_test(profile, sizeof profile, SEAM_TK_PF_GET_INKEY));
    assert_false(seam_tk_profile_test(profile, sizeof profile, SEAM_TK_PF_REQUEST_SYNC));
    assert_int_equal(seam_tk_profile_set(profile, sizeof profile, SEAM_TK_PF_REQUEST_SYNC),
                     SEAM_OK);
    assert_int_equal(profile[6], 0x80);
    assert_true(seam_tk_profile_test(profile, sizeof profile, SEAM_TK_PF_REQUEST_SYNC));
    /* A short profile simply lacks the later bits. */
    assert_false(seam_tk_profile_test(profile, 6, SEAM_TK_PF_REQUEST_SYNC));
    assert_int_equal(seam_tk_profile_set(profile, 6, SEAM_TK_PF_REQUEST_SYNC), SEAM_ERR_ARG);
    assert_int_equal(seam_tk_profile_set(profile, sizeof profile, 0), SEAM_ERR_ARG);
    assert_false(seam_tk_profile_test(profile, sizeof profile, 0));
    /* pySim's default profile 7F E1 E1 0E ..: DISPLAY TEXT and GET INKEY set, event list not. */
    size_t len = 0;
    uint8_t *pysim = from_hex("7F E1 E1 0E 00 00 00 00 00 00 00 1F 43", &len);
    assert_true(seam_tk_profile_test(pysim, len, SEAM_TK_PF_DISPLAY_TEXT));
    assert_true(seam_tk_profile_test(pysim, len, SEAM_TK_PF_MENU_SELECTION));
    assert_false(seam_tk_profile_test(pysim, len, SEAM_TK_PF_SET_UP_EVENT_LIST));
    free(pysim);
}

static void test_builders_report_size_needed(void **state) {
    (void)state;
    uint8_t out[32];
    memset(out, 0xEE, sizeof out);
    size_t out_len = 0;
    const uint8_t one_second[3] = {0x00, 0x00, 0x01};
    assert_int_equal(seam_tk_envelope_timer(1, one_second, out, 13, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 14);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xEE);
    assert_int_equal(seam_tk_envelope_timer(1, one_second, NULL, 0, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 14);
    const seam_tk_details d = {1, SEAM_TK_CMD_DISPLAY_TEXT, 0x80};
    assert_int_equal(
        seam_tk_response_build(&d, SEAM_TK_RES_OK, NULL, 0, NULL, 0, out, 11, &out_len),
        SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 12);
    assert_int_equal(seam_tk_build_provide_local_info(1, 0, out, 10, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 11);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_display_text_vector_decodes_and_builds),
        cmocka_unit_test(test_display_text_response_vector),
        cmocka_unit_test(test_response_with_additional_information),
        cmocka_unit_test(test_get_inkey_vectors),
        cmocka_unit_test(test_set_up_menu_vectors),
        cmocka_unit_test(test_set_up_event_list_timer_poll_local_vectors),
        cmocka_unit_test(test_long_command_uses_81_length),
        cmocka_unit_test(test_unknown_objects_with_and_without_cr),
        cmocka_unit_test(test_command_refuses_malformed_shapes),
        cmocka_unit_test(test_every_prefix_is_truncated),
        cmocka_unit_test(test_response_refuses_malformed_shapes),
        cmocka_unit_test(test_timer_expiration_vector),
        cmocka_unit_test(test_menu_selection_vectors),
        cmocka_unit_test(test_event_download_vectors),
        cmocka_unit_test(test_envelope_refuses_malformed_shapes),
        cmocka_unit_test(test_request_sync_round_trip),
        cmocka_unit_test(test_request_sync_refuses_bad_values),
        cmocka_unit_test(test_terminal_profile_bits),
        cmocka_unit_test(test_builders_report_size_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
