/*
 * The card application toolkit's messages (ETSI TS 102 223): proactive
 * commands, TERMINAL RESPONSE and ENVELOPEs, over the COMPREHENSION-TLV codec.
 * Builders compose in a stack buffer of the largest message and copy out only
 * when the whole fits, so a failed build leaves the caller's buffer alone.
 */
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"

#define LENGTH_LONG 0x81u /* BER length form for 80..FF */

/* ------------------------------------------------------------------------ */
/* Shared pieces                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Reads one template at data[0..len): tag byte, length 00..7F or 81 80..FF,
 * value; nothing may follow it.
 */
static seam_err read_template(const uint8_t *data, size_t len, uint8_t *tag, const uint8_t **value,
                              size_t *value_len) {
    size_t header = 0;
    size_t vlen = 0;
    seam_err err = SEAM_OK;
    if (!data || len < 2) {
        err = SEAM_ERR_TRUNCATED;
    } else if (data[1] < 0x80) {
        header = 2;
        vlen = data[1];
    } else if (data[1] != LENGTH_LONG) {
        err = SEAM_ERR_MALFORMED;
    } else if (len < 3) {
        err = SEAM_ERR_TRUNCATED;
    } else if (data[2] < 0x80) {
        err = SEAM_ERR_MALFORMED; /* 81 xx with xx below 80 */
    } else {
        header = 3;
        vlen = data[2];
    }
    if (err == SEAM_OK && len - header < vlen)
        err = SEAM_ERR_TRUNCATED;
    else if (err == SEAM_OK && len - header > vlen)
        err = SEAM_ERR_MALFORMED; /* bytes after the template */
    if (err == SEAM_OK) {
        *tag = data[0];
        *value = data + header;
        *value_len = vlen;
    }
    return err;
}

/*
 * Inside a complete template nothing is truncated: an object that runs past
 * the template's end, or a required object missing at its end, is malformed.
 */
static seam_err in_template(seam_err err) {
    return err == SEAM_ERR_TRUNCATED ? SEAM_ERR_MALFORMED : err;
}

/* SEAM_OK when data[0..len) is a sequence of well-formed objects. */
static seam_err check_objects(const uint8_t *data, size_t len) {
    size_t pos = 0;
    seam_err err = SEAM_OK;
    while (err == SEAM_OK && pos < len) {
        seam_ctlv obj;
        err = seam_ctlv_next(data, len, &pos, &obj);
    }
    return err;
}

/* Reads the next object, which must have tag and a length in [min, max]. */
static seam_err expect(const uint8_t *data, size_t len, size_t *pos, uint16_t tag, size_t min,
                       size_t max, seam_ctlv *obj) {
    seam_err err = seam_ctlv_next(data, len, pos, obj);
    if (err == SEAM_OK && (obj->tag != tag || obj->len < min || obj->len > max))
        err = SEAM_ERR_MALFORMED;
    return err;
}

/* Copies msg[0..n) out when it fits; else SEAM_ERR_BUFFER_SMALL with *out_len = n. */
static seam_err emit(const uint8_t *msg, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
    if (!out_len || (!out && cap))
        return SEAM_ERR_ARG;
    if (n > cap) {
        *out_len = n;
        return SEAM_ERR_BUFFER_SMALL;
    }
    memcpy(out, msg, n);
    *out_len = n;
    return SEAM_OK;
}

/* Wraps value[0..vlen) in a template and emits it. */
static seam_err emit_template(uint8_t tag, const uint8_t *value, size_t vlen, uint8_t *out,
                              size_t cap, size_t *out_len) {
    uint8_t msg[SEAM_TK_MAX_MESSAGE];
    size_t n = 0;
    if (vlen > SEAM_TK_MAX_VALUE)
        return SEAM_ERR_ARG;
    msg[n++] = tag;
    if (vlen >= 0x80)
        msg[n++] = LENGTH_LONG;
    msg[n++] = (uint8_t)vlen;
    if (vlen)
        memcpy(msg + n, value, vlen);
    return emit(msg, n + vlen, out, cap, out_len);
}

/* seam_ctlv_put into a composition buffer: a message too large is an argument error. */
static seam_err put(uint16_t tag, bool cr, const void *value, size_t value_len, uint8_t *buf,
                    size_t cap, size_t *len) {
    seam_err err = seam_ctlv_put(tag, cr, value, value_len, buf, cap, len);
    return err == SEAM_ERR_BUFFER_SMALL ? SEAM_ERR_ARG : err;
}

/* ------------------------------------------------------------------------ */
/* TERMINAL PROFILE                                                          */
/* ------------------------------------------------------------------------ */

seam_err seam_tk_profile_set(uint8_t *profile, size_t len, unsigned bit) {
    if (!profile || bit == 0 || (bit - 1) / 8 >= len)
        return SEAM_ERR_ARG;
    profile[(bit - 1) / 8] |= (uint8_t)(1u << ((bit - 1) % 8));
    return SEAM_OK;
}

bool seam_tk_profile_test(const uint8_t *profile, size_t len, unsigned bit) {
    if (!profile || bit == 0 || (bit - 1) / 8 >= len)
        return false;
    return (profile[(bit - 1) / 8] >> ((bit - 1) % 8) & 1u) != 0;
}

/* ------------------------------------------------------------------------ */
/* Proactive commands                                                        */
/* ------------------------------------------------------------------------ */

/* True if tag is one of list[0..count). */
static bool tag_in(const uint16_t *list, size_t count, uint16_t tag) {
    for (size_t i = 0; i < count; i++)
        if (list[i] == tag)
            return true;
    return false;
}

bool seam_tk_known_tag(uint8_t type, uint16_t tag) {
    static const uint16_t display[] = {SEAM_TK_TAG_TEXT_STRING, SEAM_TK_TAG_ICON_IDENTIFIER,
                                       SEAM_TK_TAG_IMMEDIATE_RESPONSE, SEAM_TK_TAG_DURATION};
    static const uint16_t inkey[] = {SEAM_TK_TAG_TEXT_STRING, SEAM_TK_TAG_ICON_IDENTIFIER,
                                     SEAM_TK_TAG_DURATION};
    static const uint16_t menu[] = {SEAM_TK_TAG_ALPHA_IDENTIFIER, SEAM_TK_TAG_ITEM,
                                    SEAM_TK_TAG_ICON_IDENTIFIER};
    static const uint16_t events[] = {SEAM_TK_TAG_EVENT_LIST};
    static const uint16_t timer[] = {SEAM_TK_TAG_TIMER_IDENTIFIER, SEAM_TK_TAG_TIMER_VALUE};
    static const uint16_t poll[] = {SEAM_TK_TAG_DURATION};
    static const uint16_t sync[] = {SEAM_TK_TAG_ALPHA_IDENTIFIER,   SEAM_TK_TAG_SYNC_PROTOCOL,
                                    SEAM_TK_TAG_SYNC_TRANSPORT,     SEAM_TK_TAG_SYNC_TYPE,
                                    SEAM_TK_TAG_SYNC_SOURCE_DEVICE, SEAM_TK_TAG_SYNC_SOURCE_URI,
                                    SEAM_TK_TAG_SYNC_TARGET_URL,    SEAM_TK_TAG_SYNC_TARGET_URI,
                                    SEAM_TK_TAG_SYNC_WANTS_RESULT};
#define TAG_IN(list) tag_in(list, sizeof list / sizeof list[0], tag)
    switch (type) {
    case SEAM_TK_CMD_DISPLAY_TEXT:
        return TAG_IN(display);
    case SEAM_TK_CMD_GET_INKEY:
        return TAG_IN(inkey);
    case SEAM_TK_CMD_SET_UP_MENU:
        return TAG_IN(menu);
    case SEAM_TK_CMD_SET_UP_EVENT_LIST:
        return TAG_IN(events);
    case SEAM_TK_CMD_TIMER_MANAGEMENT:
        return TAG_IN(timer);
    case SEAM_TK_CMD_POLL_INTERVAL:
        return TAG_IN(poll);
    case SEAM_TK_CMD_REQUEST_SYNC:
        return TAG_IN(sync);
    default: /* PROVIDE LOCAL INFORMATION and types seam does not know: no objects */
        return false;
    }
#undef TAG_IN
}

/* True for the types seam knows, whose objects seam_tk_known_tag describes. */
static bool type_known(uint8_t type) {
    switch (type) {
    case SEAM_TK_CMD_DISPLAY_TEXT:
    case SEAM_TK_CMD_GET_INKEY:
    case SEAM_TK_CMD_SET_UP_MENU:
    case SEAM_TK_CMD_SET_UP_EVENT_LIST:
    case SEAM_TK_CMD_TIMER_MANAGEMENT:
    case SEAM_TK_CMD_POLL_INTERVAL:
    case SEAM_TK_CMD_PROVIDE_LOCAL:
    case SEAM_TK_CMD_REQUEST_SYNC:
        return true;
    default:
        return false;
    }
}

/* The D0 template's value and the command details at its start. */
static seam_err read_command_start(const uint8_t *data, size_t len, const uint8_t **value,
                                   size_t *vlen, size_t *pos, seam_tk_details *details) {
    uint8_t tag = 0;
    seam_ctlv obj;
    seam_err err = read_template(data, len, &tag, value, vlen);
    if (err == SEAM_OK && tag != SEAM_TK_PROACTIVE_COMMAND)
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK) {
        *pos = 0;
        err = in_template(expect(*value, *vlen, pos, SEAM_TK_TAG_COMMAND_DETAILS, 3, 3, &obj));
    }
    if (err == SEAM_OK) {
        details->number = obj.value[0];
        details->type = obj.value[1];
        details->qualifier = obj.value[2];
    }
    return err;
}

seam_err seam_tk_command_peek_details(const uint8_t *data, size_t len, seam_tk_details *out) {
    if (!out)
        return SEAM_ERR_ARG;
    const uint8_t *value = NULL;
    size_t vlen = 0;
    size_t pos = 0;
    seam_tk_details details;
    seam_err err = read_command_start(data, len, &value, &vlen, &pos, &details);
    if (err == SEAM_OK)
        *out = details;
    return err;
}

seam_err seam_tk_command_decode(const uint8_t *data, size_t len, seam_tk_command *out) {
    if (!out)
        return SEAM_ERR_ARG;
    const uint8_t *value = NULL;
    size_t vlen = 0;
    size_t pos = 0;
    seam_tk_command cmd;
    memset(&cmd, 0, sizeof cmd);
    seam_ctlv obj;
    seam_err err = read_command_start(data, len, &value, &vlen, &pos, &cmd.details);
    if (err == SEAM_OK)
        err = in_template(expect(value, vlen, &pos, SEAM_TK_TAG_DEVICE_IDENTITIES, 2, 2, &obj));
    if (err == SEAM_OK) {
        cmd.source = obj.value[0];
        cmd.dest = obj.value[1];
        cmd.objects = value + pos;
        cmd.objects_len = vlen - pos;
    }
    bool known = type_known(cmd.details.type);
    while (err == SEAM_OK && pos < vlen) {
        err = in_template(seam_ctlv_next(value, vlen, &pos, &obj));
        if (err == SEAM_OK && known && obj.cr && cmd.unknown_cr_tag == 0 &&
            !seam_tk_known_tag(cmd.details.type, obj.tag))
            cmd.unknown_cr_tag = obj.tag;
    }
    if (err == SEAM_OK)
        *out = cmd;
    return err;
}

seam_err seam_tk_command_build(const seam_tk_details *details, uint8_t dest, const uint8_t *objects,
                               size_t objects_len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t value[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    if (!details || (!objects && objects_len))
        return SEAM_ERR_ARG;
    const uint8_t cd[3] = {details->number, details->type, details->qualifier};
    const uint8_t ids[2] = {SEAM_TK_DEV_UICC, dest};
    seam_err err = put(SEAM_TK_TAG_COMMAND_DETAILS, true, cd, 3, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK && objects_len > sizeof value - n)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK) {
        if (objects_len)
            memcpy(value + n, objects, objects_len);
        err = emit_template(SEAM_TK_PROACTIVE_COMMAND, value, n + objects_len, out, cap, out_len);
    }
    return err;
}

/* Text string value: dcs, then text. */
static seam_err put_text(uint8_t dcs, const uint8_t *text, size_t text_len, uint8_t *buf,
                         size_t cap, size_t *len) {
    uint8_t value[SEAM_CTLV_MAX_LENGTH];
    if ((!text && text_len) || text_len > sizeof value - 1)
        return SEAM_ERR_ARG;
    value[0] = dcs;
    if (text_len)
        memcpy(value + 1, text, text_len);
    return put(SEAM_TK_TAG_TEXT_STRING, true, value, text_len + 1, buf, cap, len);
}

seam_err seam_tk_build_display_text(uint8_t number, uint8_t qualifier, uint8_t dcs,
                                    const uint8_t *text, size_t text_len, bool immediate,
                                    uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_DISPLAY_TEXT, qualifier};
    seam_err err = put_text(dcs, text, text_len, objects, sizeof objects, &n);
    if (err == SEAM_OK && immediate)
        err = put(SEAM_TK_TAG_IMMEDIATE_RESPONSE, true, NULL, 0, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_DISPLAY, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_get_inkey(uint8_t number, uint8_t qualifier, uint8_t dcs,
                                 const uint8_t *text, size_t text_len, uint8_t *out, size_t cap,
                                 size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_GET_INKEY, qualifier};
    seam_err err = put_text(dcs, text, text_len, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_set_up_menu(uint8_t number, uint8_t qualifier, const char *title,
                                   const seam_tk_item *items, size_t count, uint8_t *out,
                                   size_t cap, size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    uint8_t item[SEAM_CTLV_MAX_LENGTH];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_SET_UP_MENU, qualifier};
    size_t title_len = title ? strlen(title) : 0;
    if (!items && count)
        return SEAM_ERR_ARG;
    seam_err err =
        put(SEAM_TK_TAG_ALPHA_IDENTIFIER, true, title, title_len, objects, sizeof objects, &n);
    if (err == SEAM_OK && count == 0) /* removes the menu */
        err = put(SEAM_TK_TAG_ITEM, true, NULL, 0, objects, sizeof objects, &n);
    for (size_t i = 0; i < count && err == SEAM_OK; i++) {
        size_t text_len = items[i].text ? strlen(items[i].text) : 0;
        if (text_len > sizeof item - 1) {
            err = SEAM_ERR_ARG;
            break;
        }
        item[0] = items[i].id;
        if (text_len)
            memcpy(item + 1, items[i].text, text_len);
        err = put(SEAM_TK_TAG_ITEM, true, item, text_len + 1, objects, sizeof objects, &n);
    }
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_set_up_event_list(uint8_t number, const uint8_t *events, size_t count,
                                         uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_SET_UP_EVENT_LIST, 0};
    seam_err err = put(SEAM_TK_TAG_EVENT_LIST, true, events, count, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_timer_management(uint8_t number, uint8_t op, uint8_t timer_id,
                                        const uint8_t value[3], uint8_t *out, size_t cap,
                                        size_t *out_len) {
    uint8_t objects[16];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_TIMER_MANAGEMENT, op};
    if (timer_id < 1 || timer_id > 8 || op > SEAM_TK_TIMER_GET ||
        (op == SEAM_TK_TIMER_START && !value))
        return SEAM_ERR_ARG;
    seam_err err =
        put(SEAM_TK_TAG_TIMER_IDENTIFIER, true, &timer_id, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK && op == SEAM_TK_TIMER_START)
        err = put(SEAM_TK_TAG_TIMER_VALUE, true, value, 3, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_poll_interval(uint8_t number, uint8_t unit, uint8_t interval, uint8_t *out,
                                     size_t cap, size_t *out_len) {
    uint8_t objects[8];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_POLL_INTERVAL, 0};
    const uint8_t duration[2] = {unit, interval};
    if (unit > 2 || interval == 0)
        return SEAM_ERR_ARG;
    seam_err err = put(SEAM_TK_TAG_DURATION, true, duration, 2, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, objects, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_build_provide_local_info(uint8_t number, uint8_t qualifier, uint8_t *out,
                                          size_t cap, size_t *out_len) {
    const seam_tk_details d = {number, SEAM_TK_CMD_PROVIDE_LOCAL, qualifier};
    return seam_tk_command_build(&d, SEAM_TK_DEV_TERMINAL, NULL, 0, out, cap, out_len);
}

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
        put(SEAM_TK_TAG_SYNC_PROTOCOL, true, &req->protocol, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err =
            put(SEAM_TK_TAG_SYNC_TRANSPORT, true, &req->transport, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_TYPE, true, &req->sync_type, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_SOURCE_DEVICE, true, req->source_device, req->source_device_len,
                  objects, sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_SOURCE_URI, true, req->source_uri, req->source_uri_len, objects,
                  sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_TARGET_URL, true, req->target_url, req->target_url_len, objects,
                  sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_TARGET_URI, true, req->target_uri, req->target_uri_len, objects,
                  sizeof objects, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_SYNC_WANTS_RESULT, true, &wants, 1, objects, sizeof objects, &n);
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
    seam_err err = check_objects(objects, len);
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
    seam_err err = check_objects(objects, len);
    if (err == SEAM_OK)
        err = find_byte(objects, len, SEAM_TK_TAG_SYNC_REFERENCE, &v);
    if (err == SEAM_OK)
        *out = v;
    return err;
}

/* ------------------------------------------------------------------------ */
/* TERMINAL RESPONSE                                                         */
/* ------------------------------------------------------------------------ */

seam_err seam_tk_response_build(const seam_tk_details *details, uint8_t general,
                                const uint8_t *additional, size_t additional_len,
                                const uint8_t *extra, size_t extra_len, uint8_t *out, size_t cap,
                                size_t *out_len) {
    uint8_t msg[SEAM_TK_MAX_VALUE];
    uint8_t result[SEAM_CTLV_MAX_LENGTH];
    size_t n = 0;
    if (!details || (!additional && additional_len) || (!extra && extra_len) ||
        additional_len > sizeof result - 1)
        return SEAM_ERR_ARG;
    const uint8_t cd[3] = {details->number, details->type, details->qualifier};
    const uint8_t ids[2] = {SEAM_TK_DEV_TERMINAL, SEAM_TK_DEV_UICC};
    result[0] = general;
    if (additional_len)
        memcpy(result + 1, additional, additional_len);
    seam_err err = put(SEAM_TK_TAG_COMMAND_DETAILS, true, cd, 3, msg, sizeof msg, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, msg, sizeof msg, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_RESULT, true, result, additional_len + 1, msg, sizeof msg, &n);
    if (err == SEAM_OK && extra_len > sizeof msg - n)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK) {
        if (extra_len)
            memcpy(msg + n, extra, extra_len);
        err = emit(msg, n + extra_len, out, cap, out_len);
    }
    return err;
}

seam_err seam_tk_response_decode(const uint8_t *data, size_t len, seam_tk_response *out) {
    if (!out || (!data && len))
        return SEAM_ERR_ARG;
    seam_tk_response resp;
    memset(&resp, 0, sizeof resp);
    size_t pos = 0;
    seam_ctlv obj;
    seam_err err = expect(data, len, &pos, SEAM_TK_TAG_COMMAND_DETAILS, 3, 3, &obj);
    if (err == SEAM_OK) {
        resp.details.number = obj.value[0];
        resp.details.type = obj.value[1];
        resp.details.qualifier = obj.value[2];
        err = expect(data, len, &pos, SEAM_TK_TAG_DEVICE_IDENTITIES, 2, 2, &obj);
    }
    if (err == SEAM_OK) {
        resp.source = obj.value[0];
        resp.dest = obj.value[1];
        err = expect(data, len, &pos, SEAM_TK_TAG_RESULT, 1, SEAM_CTLV_MAX_LENGTH, &obj);
    }
    if (err == SEAM_OK) {
        resp.general = obj.value[0];
        resp.additional = obj.value + 1;
        resp.additional_len = obj.len - 1;
        resp.objects = data + pos;
        resp.objects_len = len - pos;
        err = check_objects(resp.objects, resp.objects_len);
    }
    if (err == SEAM_OK)
        *out = resp;
    return err;
}

/* ------------------------------------------------------------------------ */
/* ENVELOPE                                                                  */
/* ------------------------------------------------------------------------ */

seam_err seam_tk_envelope_menu_selection(uint8_t item_id, bool help, uint8_t *out, size_t cap,
                                         size_t *out_len) {
    uint8_t value[16];
    size_t n = 0;
    const uint8_t ids[2] = {SEAM_TK_DEV_KEYPAD, SEAM_TK_DEV_UICC};
    seam_err err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_ITEM_IDENTIFIER, true, &item_id, 1, value, sizeof value, &n);
    if (err == SEAM_OK && help)
        err = put(SEAM_TK_TAG_HELP_REQUEST, false, NULL, 0, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = emit_template(SEAM_TK_MENU_SELECTION, value, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_envelope_event(uint8_t event, uint8_t source, const uint8_t *extra,
                                size_t extra_len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t value[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const uint8_t ids[2] = {source, SEAM_TK_DEV_UICC};
    if (!extra && extra_len)
        return SEAM_ERR_ARG;
    seam_err err = put(SEAM_TK_TAG_EVENT_LIST, true, &event, 1, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK && extra_len > sizeof value - n)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK) {
        if (extra_len)
            memcpy(value + n, extra, extra_len);
        err = emit_template(SEAM_TK_EVENT_DOWNLOAD, value, n + extra_len, out, cap, out_len);
    }
    return err;
}

seam_err seam_tk_envelope_timer(uint8_t timer_id, const uint8_t value[3], uint8_t *out, size_t cap,
                                size_t *out_len) {
    uint8_t body[16];
    size_t n = 0;
    const uint8_t ids[2] = {SEAM_TK_DEV_TERMINAL, SEAM_TK_DEV_UICC};
    if (timer_id < 1 || timer_id > 8 || !value)
        return SEAM_ERR_ARG;
    seam_err err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_TIMER_IDENTIFIER, true, &timer_id, 1, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_TIMER_VALUE, true, value, 3, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = emit_template(SEAM_TK_TIMER_EXPIRATION, body, n, out, cap, out_len);
    return err;
}

/* Finds the object tag with a length in [min, max]: NOT_FOUND becomes MALFORMED. */
static seam_err require(const uint8_t *data, size_t len, uint16_t tag, size_t min, size_t max,
                        seam_ctlv *obj) {
    seam_err err = seam_ctlv_find(data, len, tag, obj);
    if (err == SEAM_ERR_NOT_FOUND || (err == SEAM_OK && (obj->len < min || obj->len > max)))
        err = SEAM_ERR_MALFORMED;
    return err;
}

seam_err seam_tk_envelope_decode(const uint8_t *data, size_t len, seam_tk_envelope *out) {
    if (!out)
        return SEAM_ERR_ARG;
    seam_tk_envelope env;
    memset(&env, 0, sizeof env);
    const uint8_t *value = NULL;
    size_t vlen = 0;
    seam_ctlv obj;
    seam_err err = read_template(data, len, &env.kind, &value, &vlen);
    if (err == SEAM_OK && env.kind != SEAM_TK_MENU_SELECTION &&
        env.kind != SEAM_TK_EVENT_DOWNLOAD && env.kind != SEAM_TK_TIMER_EXPIRATION)
        err = SEAM_ERR_UNSUPPORTED;
    if (err == SEAM_OK)
        err = in_template(check_objects(value, vlen));
    if (err == SEAM_OK)
        err = require(value, vlen, SEAM_TK_TAG_DEVICE_IDENTITIES, 2, 2, &obj);
    if (err == SEAM_OK) {
        env.source = obj.value[0];
        env.dest = obj.value[1];
        if (env.dest != SEAM_TK_DEV_UICC)
            err = SEAM_ERR_MALFORMED;
    }
    if (err == SEAM_OK && env.kind == SEAM_TK_MENU_SELECTION) {
        err = require(value, vlen, SEAM_TK_TAG_ITEM_IDENTIFIER, 1, 1, &obj);
        if (err == SEAM_OK)
            env.item_id = obj.value[0];
        if (err == SEAM_OK) {
            seam_err help = seam_ctlv_find(value, vlen, SEAM_TK_TAG_HELP_REQUEST, &obj);
            env.help = help == SEAM_OK;
            if (help == SEAM_OK && obj.len != 0)
                err = SEAM_ERR_MALFORMED;
        }
    } else if (err == SEAM_OK && env.kind == SEAM_TK_EVENT_DOWNLOAD) {
        err = require(value, vlen, SEAM_TK_TAG_EVENT_LIST, 1, 1, &obj);
        if (err == SEAM_OK)
            env.event = obj.value[0];
    } else if (err == SEAM_OK) {
        err = require(value, vlen, SEAM_TK_TAG_TIMER_IDENTIFIER, 1, 1, &obj);
        if (err == SEAM_OK && (obj.value[0] < 1 || obj.value[0] > 8))
            err = SEAM_ERR_MALFORMED;
        if (err == SEAM_OK) {
            env.timer_id = obj.value[0];
            err = require(value, vlen, SEAM_TK_TAG_TIMER_VALUE, 3, 3, &obj);
        }
        if (err == SEAM_OK)
            memcpy(env.timer_value, obj.value, 3);
    }
    if (err == SEAM_OK) {
        env.objects = value;
        env.objects_len = vlen;
        *out = env;
    }
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
    seam_err err = put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_EVENT_LIST, true, &event, 1, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = put(SEAM_TK_TAG_RESULT, true, result, result_len, body, sizeof body, &n);
    if (err == SEAM_OK && report->general == SEAM_TK_RES_OK)
        err = seam_tk_sync_counts_put(&report->counts, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = seam_tk_sync_reference_put(report->reference, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = emit_template(SEAM_TK_EVENT_DOWNLOAD, body, n, out, cap, out_len);
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
        err = require(env.objects, env.objects_len, SEAM_TK_TAG_RESULT, 1, 2, &obj);
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
