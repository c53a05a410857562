/*
 * REQUEST SYNCHRONIZATION, seam's own proactive command (issue 14, S6, S7):
 * the request's objects, the counts and the reference of its TERMINAL
 * RESPONSE, and the later report (ENVELOPE event E2). Built on toolkit.c's
 * shared pieces (toolkit_int.h), with the same conventions.
 */
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "toolkit_int.h"

/* ------------------------------------------------------------------------ */
/* REQUEST SYNCHRONIZATION                                                   */
/* ------------------------------------------------------------------------ */

static bool sync_protocol_ok(uint8_t v) {
    return v == SEAM_TK_SYNC_PROTO_OMA_DS_12 || v == SEAM_TK_SYNC_PROTO_CHANGESET;
}

static bool sync_transport_ok(uint8_t v) {
    return v == SEAM_TK_SYNC_TRANSPORT_HTTP || v == SEAM_TK_SYNC_TRANSPORT_WSP;
}

static bool sync_type_ok(uint8_t v) {
    return v >= SEAM_TK_SYNC_TWO_WAY && v <= SEAM_TK_SYNC_REFRESH_FROM_SERVER;
}

static bool string_ok(const uint8_t *s, size_t len) {
    return s && len > 0 && len <= SEAM_CTLV_MAX_LENGTH;
}

seam_err seam_tk_build_request_sync(uint8_t number, const seam_tk_sync_request *req, uint8_t *out,
                                    size_t cap, size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    if (!req || !sync_protocol_ok(req->protocol) || !sync_transport_ok(req->transport) ||
        !sync_type_ok(req->sync_type) || !string_ok(req->source_device, req->source_device_len) ||
        !string_ok(req->source_uri, req->source_uri_len) ||
        !string_ok(req->target_url, req->target_url_len) ||
        !string_ok(req->target_uri, req->target_uri_len) ||
        req->wants_result > SEAM_TK_SYNC_RESULT_LATER)
        return SEAM_ERR_ARG;
    const seam_tk_details d = {number, SEAM_TK_CMD_REQUEST_SYNC, 0};
    const uint8_t wants = req->wants_result;
    seam_err err =
        tk_put(SEAM_TK_TAG_SYNC_PROTOCOL, true, &req->protocol, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_TRANSPORT, true, &req->transport, 1, objects, sizeof objects,
                     &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_TYPE, true, &req->sync_type, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_SOURCE_DEVICE, true, req->source_device,
                     req->source_device_len, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_SOURCE_URI, true, req->source_uri, req->source_uri_len,
                     objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_TARGET_URL, true, req->target_url, req->target_url_len,
                     objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_TARGET_URI, true, req->target_uri, req->target_uri_len,
                     objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_SYNC_WANTS_RESULT, true, &wants, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

/* Finds a 1-byte object; MALFORMED for another length. */
static seam_err find_byte(const uint8_t *objects, size_t len, uint16_t tag, uint8_t *v) {
    seam_ctlv obj;
    seam_err err = seam_ctlv_find(objects, len, tag, &obj);
    if (err == SEAM_OK && obj.len != 1)
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK)
        *v = obj.value[0];
    return err;
}

/* Finds a non-empty string object. */
static seam_err find_string(const uint8_t *objects, size_t len, uint16_t tag, const uint8_t **s,
                            size_t *s_len) {
    seam_ctlv obj;
    seam_err err = seam_ctlv_find(objects, len, tag, &obj);
    if (err == SEAM_OK && obj.len == 0)
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK) {
        *s = obj.value;
        *s_len = obj.len;
    }
    return err;
}

seam_err seam_tk_sync_request_decode(const uint8_t *objects, size_t len,
                                     seam_tk_sync_request *out) {
    if (!out || (!objects && len))
        return SEAM_ERR_ARG;
    seam_tk_sync_request req;
    memset(&req, 0, sizeof req);
    uint8_t wants = 0;
    seam_err err = tk_check_objects(objects, len);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_PROTOCOL, &req.protocol);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_TRANSPORT, &req.transport);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_TYPE, &req.sync_type);
    if (err == SEAM_OK)
        err = find_string(objects, len, SEAM_TK_TAG_SYNC_SOURCE_DEVICE, &req.source_device,
                          &req.source_device_len);
    if (err == SEAM_OK)
        err = find_string(objects, len, SEAM_TK_TAG_SYNC_SOURCE_URI, &req.source_uri,
                          &req.source_uri_len);
    if (err == SEAM_OK)
        err = find_string(objects, len, SEAM_TK_TAG_SYNC_TARGET_URL, &req.target_url,
                          &req.target_url_len);
    if (err == SEAM_OK)
        err = find_string(objects, len, SEAM_TK_TAG_SYNC_TARGET_URI, &req.target_uri,
                          &req.target_uri_len);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_WANTS_RESULT, &wants);
    if (err == SEAM_OK && (!sync_protocol_ok(req.protocol) || !sync_transport_ok(req.transport) ||
                           !sync_type_ok(req.sync_type) || wants > SEAM_TK_SYNC_RESULT_LATER))
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK) {
        req.wants_result = wants;
        *out = req;
    }
    return err;
}

seam_err seam_tk_sync_counts_put(const seam_tk_sync_counts *counts, uint8_t *out, size_t cap,
                                 size_t *len) {
    uint8_t v[7];
    if (!counts || !out || !len || !sync_type_ok(counts->sync_type))
        return SEAM_ERR_ARG;
    v[0] = counts->sync_type;
    v[1] = (uint8_t)(counts->sent >> 8);
    v[2] = (uint8_t)counts->sent;
    v[3] = (uint8_t)(counts->received >> 8);
    v[4] = (uint8_t)counts->received;
    v[5] = (uint8_t)(counts->conflicts >> 8);
    v[6] = (uint8_t)counts->conflicts;
    return seam_ctlv_put(SEAM_TK_TAG_SYNC_COUNTS, true, v, sizeof v, out, cap, len);
}

seam_err seam_tk_sync_counts_decode(const uint8_t *objects, size_t len, seam_tk_sync_counts *out) {
    seam_ctlv obj;
    seam_err err;
    if (!out || (!objects && len))
        return SEAM_ERR_ARG;
    err = seam_ctlv_find(objects, len, SEAM_TK_TAG_SYNC_COUNTS, &obj);
    if (err)
        return err;
    if (obj.len != 7 || !sync_type_ok(obj.value[0]))
        return SEAM_ERR_MALFORMED;
    out->sync_type = obj.value[0];
    out->sent = (uint16_t)(obj.value[1] << 8 | obj.value[2]);
    out->received = (uint16_t)(obj.value[3] << 8 | obj.value[4]);
    out->conflicts = (uint16_t)(obj.value[5] << 8 | obj.value[6]);
    return SEAM_OK;
}

seam_err seam_tk_sync_reference_put(uint8_t reference, uint8_t *out, size_t cap, size_t *len) {
    if (!out || !len)
        return SEAM_ERR_ARG;
    return seam_ctlv_put(SEAM_TK_TAG_SYNC_REFERENCE, true, &reference, 1, out, cap, len);
}

seam_err seam_tk_sync_reference_decode(const uint8_t *objects, size_t len, uint8_t *out) {
    uint8_t v = 0;
    if (!out || (!objects && len))
        return SEAM_ERR_ARG;
    seam_err err = tk_check_objects(objects, len);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_REFERENCE, &v);
    if (err == SEAM_OK)
        *out = v;
    return err;
}

/* ------------------------------------------------------------------------ */
/* The later report of a synchronization (event E2)                          */
/* ------------------------------------------------------------------------ */

static bool failure_ok(uint8_t v) {
    return v >= SEAM_TK_SYNC_FAIL_UNREACHABLE && v <= SEAM_TK_SYNC_FAIL_LOCAL;
}

bool seam_tk_event_listed(uint8_t event) {
    return event != SEAM_TK_EVENT_PROFILE_DOWNLOAD && event != SEAM_TK_EVENT_SYNC_RESULT;
}

seam_err seam_tk_envelope_sync_result(const seam_tk_sync_report *report, uint8_t *out, size_t cap,
                                      size_t *out_len) {
    uint8_t body[48];
    size_t n = 0;
    const uint8_t ids[2] = {SEAM_TK_DEV_TERMINAL, SEAM_TK_DEV_UICC};
    const uint8_t event = SEAM_TK_EVENT_SYNC_RESULT;
    uint8_t result[2];
    size_t result_len = 1;
    if (!report)
        return SEAM_ERR_ARG;
    result[0] = report->general;
    if (report->general == SEAM_TK_RES_TERMINAL_BUSY) {
        if (!failure_ok(report->failure))
            return SEAM_ERR_ARG;
        result[1] = report->failure;
        result_len = 2;
    } else if (report->general != SEAM_TK_RES_OK) {
        return SEAM_ERR_ARG;
    }
    seam_err err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_EVENT_LIST, true, &event, 1, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_RESULT, true, result, result_len, body, sizeof body, &n);
    if (err == SEAM_OK && report->general == SEAM_TK_RES_OK)
        err = seam_tk_sync_counts_put(&report->counts, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = seam_tk_sync_reference_put(report->reference, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_emit_template(SEAM_TK_EVENT_DOWNLOAD, body, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_sync_report_decode(const uint8_t *data, size_t len, seam_tk_sync_report *out) {
    seam_tk_envelope env;
    seam_tk_sync_report rep;
    seam_ctlv obj;
    if (!out)
        return SEAM_ERR_ARG;
    memset(&rep, 0, sizeof rep);
    seam_err err = seam_tk_envelope_decode(data, len, &env);
    if (err == SEAM_OK &&
        (env.kind != SEAM_TK_EVENT_DOWNLOAD || env.event != SEAM_TK_EVENT_SYNC_RESULT))
        err = SEAM_ERR_UNSUPPORTED;
    if (err == SEAM_OK && env.source != SEAM_TK_DEV_TERMINAL)
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK)
        err = tk_require(env.objects, env.objects_len, SEAM_TK_TAG_RESULT, 1, 2, &obj);
    if (err == SEAM_OK) {
        rep.general = obj.value[0];
        if (rep.general == SEAM_TK_RES_TERMINAL_BUSY && obj.len == 2 && failure_ok(obj.value[1]))
            rep.failure = obj.value[1];
        else if (rep.general != SEAM_TK_RES_OK || obj.len != 1)
            err = SEAM_ERR_MALFORMED;
    }
    if (err == SEAM_OK) {
        seam_err counts = seam_tk_sync_counts_decode(env.objects, env.objects_len, &rep.counts);
        /* the counts with 00 (required), never with 20 */
        if (rep.general == SEAM_TK_RES_OK ? counts != SEAM_OK : counts != SEAM_ERR_NOT_FOUND)
            err = SEAM_ERR_MALFORMED;
    }
    if (err == SEAM_OK) {
        err = seam_tk_sync_reference_decode(env.objects, env.objects_len, &rep.reference);
        if (err == SEAM_ERR_NOT_FOUND)
            err = SEAM_ERR_MALFORMED;
    }
    if (err == SEAM_OK)
        *out = rep;
    return err;
}
