/*
 * The card application toolkit's messages (ETSI TS 102 223): proactive
 * commands, TERMINAL RESPONSE and ENVELOPEs, over the COMPREHENSION-TLV codec.
 * Builders compose in a stack buffer of the largest message and copy out only
 * when the whole fits, so a failed build leaves the caller's buffer alone.
 * REQUEST SYNCHRONIZATION's objects and its later report are toolkit_sync.c.
 */
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "toolkit_int.h"

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
seam_err tk_check_objects(const uint8_t *data, size_t len) {
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
seam_err tk_emit_template(uint8_t tag, const uint8_t *value, size_t vlen, uint8_t *out, size_t cap,
                          size_t *out_len) {
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
seam_err tk_put(uint16_t tag, bool cr, const void *value, size_t value_len, uint8_t *buf,
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
    seam_err err = tk_put(SEAM_TK_TAG_COMMAND_DETAILS, true, cd, 3, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK && objects_len > sizeof value - n)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK) {
        if (objects_len)
            memcpy(value + n, objects, objects_len);
        err =
            tk_emit_template(SEAM_TK_PROACTIVE_COMMAND, value, n + objects_len, out, cap, out_len);
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
    return tk_put(SEAM_TK_TAG_TEXT_STRING, true, value, text_len + 1, buf, cap, len);
}

seam_err seam_tk_build_display_text(uint8_t number, uint8_t qualifier, uint8_t dcs,
                                    const uint8_t *text, size_t text_len, bool immediate,
                                    uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t objects[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const seam_tk_details d = {number, SEAM_TK_CMD_DISPLAY_TEXT, qualifier};
    seam_err err = put_text(dcs, text, text_len, objects, sizeof objects, &n);
    if (err == SEAM_OK && immediate)
        err = tk_put(SEAM_TK_TAG_IMMEDIATE_RESPONSE, true, NULL, 0, objects, sizeof objects, &n);
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
        tk_put(SEAM_TK_TAG_ALPHA_IDENTIFIER, true, title, title_len, objects, sizeof objects, &n);
    if (err == SEAM_OK && count == 0) /* removes the menu */
        err = tk_put(SEAM_TK_TAG_ITEM, true, NULL, 0, objects, sizeof objects, &n);
    for (size_t i = 0; i < count && err == SEAM_OK; i++) {
        size_t text_len = items[i].text ? strlen(items[i].text) : 0;
        if (text_len > sizeof item - 1) {
            err = SEAM_ERR_ARG;
            break;
        }
        item[0] = items[i].id;
        if (text_len)
            memcpy(item + 1, items[i].text, text_len);
        err = tk_put(SEAM_TK_TAG_ITEM, true, item, text_len + 1, objects, sizeof objects, &n);
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
    seam_err err = tk_put(SEAM_TK_TAG_EVENT_LIST, true, events, count, objects, sizeof objects, &n);
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
        tk_put(SEAM_TK_TAG_TIMER_IDENTIFIER, true, &timer_id, 1, objects, sizeof objects, &n);
    if (err == SEAM_OK && op == SEAM_TK_TIMER_START)
        err = tk_put(SEAM_TK_TAG_TIMER_VALUE, true, value, 3, objects, sizeof objects, &n);
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
    seam_err err = tk_put(SEAM_TK_TAG_DURATION, true, duration, 2, objects, sizeof objects, &n);
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
    seam_err err = tk_put(SEAM_TK_TAG_COMMAND_DETAILS, true, cd, 3, msg, sizeof msg, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, msg, sizeof msg, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_RESULT, true, result, additional_len + 1, msg, sizeof msg, &n);
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
        err = tk_check_objects(resp.objects, resp.objects_len);
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
    seam_err err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_ITEM_IDENTIFIER, true, &item_id, 1, value, sizeof value, &n);
    if (err == SEAM_OK && help)
        err = tk_put(SEAM_TK_TAG_HELP_REQUEST, false, NULL, 0, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = tk_emit_template(SEAM_TK_MENU_SELECTION, value, n, out, cap, out_len);
    return err;
}

seam_err seam_tk_envelope_event(uint8_t event, uint8_t source, const uint8_t *extra,
                                size_t extra_len, uint8_t *out, size_t cap, size_t *out_len) {
    uint8_t value[SEAM_TK_MAX_VALUE];
    size_t n = 0;
    const uint8_t ids[2] = {source, SEAM_TK_DEV_UICC};
    if (!extra && extra_len)
        return SEAM_ERR_ARG;
    seam_err err = tk_put(SEAM_TK_TAG_EVENT_LIST, true, &event, 1, value, sizeof value, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, value, sizeof value, &n);
    if (err == SEAM_OK && extra_len > sizeof value - n)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK) {
        if (extra_len)
            memcpy(value + n, extra, extra_len);
        err = tk_emit_template(SEAM_TK_EVENT_DOWNLOAD, value, n + extra_len, out, cap, out_len);
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
    seam_err err = tk_put(SEAM_TK_TAG_DEVICE_IDENTITIES, true, ids, 2, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_TIMER_IDENTIFIER, true, &timer_id, 1, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_put(SEAM_TK_TAG_TIMER_VALUE, true, value, 3, body, sizeof body, &n);
    if (err == SEAM_OK)
        err = tk_emit_template(SEAM_TK_TIMER_EXPIRATION, body, n, out, cap, out_len);
    return err;
}

/* Finds the object tag with a length in [min, max]: NOT_FOUND becomes MALFORMED. */
seam_err tk_require(const uint8_t *data, size_t len, uint16_t tag, size_t min, size_t max,
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
        err = in_template(tk_check_objects(value, vlen));
    if (err == SEAM_OK)
        err = tk_require(value, vlen, SEAM_TK_TAG_DEVICE_IDENTITIES, 2, 2, &obj);
    if (err == SEAM_OK) {
        env.source = obj.value[0];
        env.dest = obj.value[1];
        if (env.dest != SEAM_TK_DEV_UICC)
            err = SEAM_ERR_MALFORMED;
    }
    if (err == SEAM_OK && env.kind == SEAM_TK_MENU_SELECTION) {
        err = tk_require(value, vlen, SEAM_TK_TAG_ITEM_IDENTIFIER, 1, 1, &obj);
        if (err == SEAM_OK)
            env.item_id = obj.value[0];
        if (err == SEAM_OK) {
            seam_err help = seam_ctlv_find(value, vlen, SEAM_TK_TAG_HELP_REQUEST, &obj);
            env.help = help == SEAM_OK;
            if (help == SEAM_OK && obj.len != 0)
                err = SEAM_ERR_MALFORMED;
        }
    } else if (err == SEAM_OK && env.kind == SEAM_TK_EVENT_DOWNLOAD) {
        err = tk_require(value, vlen, SEAM_TK_TAG_EVENT_LIST, 1, 1, &obj);
        if (err == SEAM_OK)
            env.event = obj.value[0];
    } else if (err == SEAM_OK) {
        err = tk_require(value, vlen, SEAM_TK_TAG_TIMER_IDENTIFIER, 1, 1, &obj);
        if (err == SEAM_OK && (obj.value[0] < 1 || obj.value[0] > 8))
            err = SEAM_ERR_MALFORMED;
        if (err == SEAM_OK) {
            env.timer_id = obj.value[0];
            err = tk_require(value, vlen, SEAM_TK_TAG_TIMER_VALUE, 3, 3, &obj);
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
