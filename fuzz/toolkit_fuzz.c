/*
 * libFuzzer target for the toolkit's message decoders (seam/toolkit.h): the
 * input goes to the proactive command, TERMINAL RESPONSE, ENVELOPE, REQUEST
 * SYNCHRONIZATION, reference and later-report (event E2, S7) decoders. Each must return a codec
 * error or a struct whose pointers stay inside the input; what decodes is rebuilt where a builder
 * exists and must decode to the same values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "toolkit_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool codec_error(seam_err err) {
    return err == SEAM_ERR_TRUNCATED || err == SEAM_ERR_MALFORMED;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size) {
    return n == 0 || (p >= data && n <= size && p - data <= (ptrdiff_t)(size - n));
}

static void check_command(const uint8_t *data, size_t size) {
    seam_tk_command cmd;
    seam_err err = seam_tk_command_decode(data, size, &cmd);
    if (err != SEAM_OK) {
        CHECK(codec_error(err));
        return;
    }
    CHECK(inside(cmd.objects, cmd.objects_len, data, size));
    seam_tk_details peek;
    CHECK(seam_tk_command_peek_details(data, size, &peek) == SEAM_OK);
    CHECK(memcmp(&peek, &cmd.details, sizeof peek) == 0);
    if (cmd.unknown_cr_tag)
        CHECK(!seam_tk_known_tag(cmd.details.type, cmd.unknown_cr_tag));
    /* Rebuilt with canonical headers, it decodes to the same command. */
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    err = seam_tk_command_build(&cmd.details, cmd.dest, cmd.objects, cmd.objects_len, out,
                                sizeof out, &out_len);
    CHECK(err == SEAM_OK);
    seam_tk_command back;
    CHECK(seam_tk_command_decode(out, out_len, &back) == SEAM_OK);
    CHECK(memcmp(&back.details, &cmd.details, sizeof back.details) == 0);
    CHECK(back.dest == cmd.dest && back.objects_len == cmd.objects_len);
    CHECK(back.unknown_cr_tag == cmd.unknown_cr_tag);
    if (cmd.details.type == SEAM_TK_CMD_REQUEST_SYNC) {
        seam_tk_sync_request req;
        err = seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &req);
        CHECK(err == SEAM_OK || err == SEAM_ERR_MALFORMED || err == SEAM_ERR_NOT_FOUND);
        if (err == SEAM_OK) {
            CHECK(inside(req.source_device, req.source_device_len, data, size));
            CHECK(inside(req.target_url, req.target_url_len, data, size));
            err = seam_tk_build_request_sync(cmd.details.number, &req, out, sizeof out, &out_len);
            /* Every value is in range; only the size can stop a rebuild. */
            CHECK(err == SEAM_OK || err == SEAM_ERR_ARG);
        }
    }
}

static void check_response(const uint8_t *data, size_t size) {
    seam_tk_response resp;
    seam_err err = seam_tk_response_decode(data, size, &resp);
    if (err != SEAM_OK) {
        CHECK(codec_error(err));
        return;
    }
    CHECK(inside(resp.additional, resp.additional_len, data, size));
    CHECK(inside(resp.objects, resp.objects_len, data, size));
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    err = seam_tk_response_build(&resp.details, resp.general, resp.additional, resp.additional_len,
                                 resp.objects, resp.objects_len, out, sizeof out, &out_len);
    CHECK(err == SEAM_OK || err == SEAM_ERR_ARG);
    if (err == SEAM_OK) {
        seam_tk_response back;
        CHECK(seam_tk_response_decode(out, out_len, &back) == SEAM_OK);
        CHECK(back.general == resp.general && back.additional_len == resp.additional_len);
        CHECK(back.objects_len == resp.objects_len);
    }
}

static void check_envelope(const uint8_t *data, size_t size) {
    seam_tk_envelope env;
    seam_err err = seam_tk_envelope_decode(data, size, &env);
    if (err != SEAM_OK) {
        CHECK(codec_error(err) || err == SEAM_ERR_UNSUPPORTED);
        return;
    }
    CHECK(inside(env.objects, env.objects_len, data, size));
    CHECK(env.dest == SEAM_TK_DEV_UICC);
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    seam_tk_envelope back;
    if (env.kind == SEAM_TK_TIMER_EXPIRATION) {
        CHECK(env.timer_id >= 1 && env.timer_id <= 8);
        CHECK(seam_tk_envelope_timer(env.timer_id, env.timer_value, out, sizeof out, &out_len) ==
              SEAM_OK);
        CHECK(seam_tk_envelope_decode(out, out_len, &back) == SEAM_OK);
        CHECK(back.timer_id == env.timer_id);
        CHECK(memcmp(back.timer_value, env.timer_value, 3) == 0);
    } else if (env.kind == SEAM_TK_MENU_SELECTION) {
        CHECK(seam_tk_envelope_menu_selection(env.item_id, env.help, out, sizeof out, &out_len) ==
              SEAM_OK);
        CHECK(seam_tk_envelope_decode(out, out_len, &back) == SEAM_OK);
        CHECK(back.item_id == env.item_id && back.help == env.help);
    } else {
        CHECK(env.kind == SEAM_TK_EVENT_DOWNLOAD);
        CHECK(seam_tk_envelope_event(env.event, env.source, NULL, 0, out, sizeof out, &out_len) ==
              SEAM_OK);
        CHECK(seam_tk_envelope_decode(out, out_len, &back) == SEAM_OK);
        CHECK(back.event == env.event && back.source == env.source);
    }
}

/* The later report (S7): what decodes is in range and rebuilds to bytes that decode the same. */
static void check_report(const uint8_t *data, size_t size) {
    seam_tk_sync_report rep;
    seam_err err = seam_tk_sync_report_decode(data, size, &rep);
    if (err != SEAM_OK) {
        CHECK(codec_error(err) || err == SEAM_ERR_UNSUPPORTED);
        return;
    }
    CHECK(rep.general == SEAM_TK_RES_OK || rep.general == SEAM_TK_RES_TERMINAL_BUSY);
    uint8_t out[SEAM_TK_MAX_MESSAGE];
    size_t out_len = 0;
    CHECK(seam_tk_envelope_sync_result(&rep, out, sizeof out, &out_len) == SEAM_OK);
    seam_tk_sync_report back;
    CHECK(seam_tk_sync_report_decode(out, out_len, &back) == SEAM_OK);
    CHECK(back.reference == rep.reference && back.general == rep.general);
    CHECK(back.failure == rep.failure && back.counts.sync_type == rep.counts.sync_type);
    CHECK(back.counts.sent == rep.counts.sent && back.counts.received == rep.counts.received);
    CHECK(back.counts.conflicts == rep.counts.conflicts);
    uint8_t ref;
    err = seam_tk_sync_reference_decode(data, size, &ref);
    CHECK(err == SEAM_OK || codec_error(err) || err == SEAM_ERR_NOT_FOUND);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_command(data, size);
    check_response(data, size);
    check_envelope(data, size);
    check_report(data, size);
    seam_tk_sync_request req;
    seam_err err = seam_tk_sync_request_decode(data, size, &req);
    CHECK(err == SEAM_OK || codec_error(err) || err == SEAM_ERR_NOT_FOUND);
    return 0;
}
