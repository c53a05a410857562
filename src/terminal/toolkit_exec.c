/*
 * One proactive command, executed by the terminal (toolkit_int.h): decoded with
 * the util layer's codec (seam/toolkit.h), run, answered with a TERMINAL
 * RESPONSE. Nothing the card sends can crash the terminal: a command that does
 * not decode gets result 32 (command data not understood) with its details
 * when they can be read, an unknown type 31, a known one the terminal does not
 * do 30, a required object missing 36.
 */
#include <string.h>
#include <time.h>

#include "seam/toolkit.h"
#include "toolkit_int.h"

static void put(tk_answer *a, uint16_t tag, const uint8_t *value, size_t len) {
    if (seam_ctlv_put(tag, true, value, len, a->extra, sizeof a->extra, &a->extra_len))
        a->general = SEAM_TK_RES_BEYOND_CAPABILITIES; /* cannot happen with seam's sizes */
}

/* GSM 7-bit default alphabet to ASCII for the characters they share; '?' otherwise. */
static char gsm7_char(uint8_t c) {
    if (c == 0x00)
        return '@';
    if (c == 0x0A || c == 0x0D)
        return ' ';
    if ((c >= 0x20 && c <= 0x23) || (c >= 0x25 && c <= 0x3F) || (c >= 0x41 && c <= 0x5A) ||
        (c >= 0x61 && c <= 0x7A))
        return (char)c;
    return '?';
}

/* A text string object (dcs, text) as printable text in out[0..SEAM_TERMINAL_TK_TEXT_MAX);
   false for an unknown coding scheme. */
static bool text_of(const seam_ctlv *o, char *out) {
    size_t n = 0, max = SEAM_TERMINAL_TK_TEXT_MAX - 1;
    uint8_t dcs;
    if (o->len == 0) {
        out[0] = 0;
        return true;
    }
    dcs = o->value[0] & 0x0Cu;
    if (dcs == SEAM_TK_DCS_8BIT) {
        for (size_t i = 1; i < o->len && n < max; i++)
            out[n++] = o->value[i] >= 0x20 && o->value[i] < 0x7F ? (char)o->value[i] : '?';
    } else if (dcs == SEAM_TK_DCS_UCS2) {
        for (size_t i = 1; i + 1 < o->len && n < max; i += 2) {
            uint16_t c = (uint16_t)(o->value[i] << 8 | o->value[i + 1]);
            out[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
        }
    } else if (dcs == SEAM_TK_DCS_GSM7_PACKED) {
        size_t septets = (o->len - 1) * 8u / 7u;
        for (size_t s = 0; s < septets && n < max; s++) {
            size_t bit = s * 7u, byte = 1 + bit / 8u;
            unsigned v = o->value[byte] >> (bit % 8u);
            if (bit % 8u > 1 && byte + 1 < o->len)
                v |= (unsigned)o->value[byte + 1] << (8u - bit % 8u);
            out[n++] = gsm7_char((uint8_t)(v & 0x7Fu));
        }
    } else {
        return false;
    }
    out[n] = 0;
    return true;
}

/* The command's text string (8D) into text; the result when it is missing or unreadable. */
static uint8_t text_object(const seam_tk_command *c, char *text) {
    seam_ctlv o;
    if (seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_TEXT_STRING, &o))
        return SEAM_TK_RES_REQUIRED_MISSING;
    return text_of(&o, text) ? SEAM_TK_RES_OK : SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
}

static void display_text(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    char text[SEAM_TERMINAL_TK_TEXT_MAX];
    a->general = text_object(c, text);
    if (a->general == SEAM_TK_RES_OK)
        tk->cfg.ui.display(tk->cfg.ui.ctx, text);
}

static void get_inkey(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    char text[SEAM_TERMINAL_TK_TEXT_MAX], key = 0;
    bool yes_no = (c->details.qualifier & SEAM_TK_INKEY_YES_NO) != 0;
    uint8_t value[2] = {SEAM_TK_DCS_8BIT, 0};
    int r;
    a->general = text_object(c, text);
    if (a->general != SEAM_TK_RES_OK)
        return;
    if (!yes_no && (c->details.qualifier & SEAM_TK_INKEY_ALPHABET)) {
        a->general = SEAM_TK_RES_BEYOND_CAPABILITIES; /* digits and yes/no only */
        return;
    }
    r = tk->cfg.ui.inkey(tk->cfg.ui.ctx, text, yes_no, &key);
    if (r > 0) {
        a->general = SEAM_TK_RES_NO_RESPONSE;
        return;
    }
    if (r < 0) {
        a->general = SEAM_TK_RES_SESSION_TERMINATED;
        return;
    }
    /* yes/no: 01 yes, 00 no (TS 102 223 §6.8.5); digits: the character. */
    value[1] = yes_no ? (key == 'Y' ? 0x01 : 0x00) : (uint8_t)key;
    put(a, SEAM_TK_TAG_TEXT_STRING, value, sizeof value);
}

static void set_up_menu(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    size_t pos = 0, count = 0;
    seam_ctlv o;
    tk_item menu[SEAM_TERMINAL_TK_MENU_MAX];
    while (pos < c->objects_len) {
        if (seam_ctlv_next(c->objects, c->objects_len, &pos, &o)) {
            a->general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
            return;
        }
        if (o.tag != SEAM_TK_TAG_ITEM)
            continue;
        if (o.len == 0 && count == 0 && pos == c->objects_len) /* 8F 00: remove the menu */
            break;
        if (o.len == 0 || count == SEAM_TERMINAL_TK_MENU_MAX) {
            a->general =
                o.len == 0 ? SEAM_TK_RES_DATA_NOT_UNDERSTOOD : SEAM_TK_RES_BEYOND_CAPABILITIES;
            return;
        }
        menu[count].id = o.value[0];
        size_t n = 0;
        for (size_t i = 1; i < o.len && n + 1 < TK_ITEM_TEXT; i++)
            menu[count].text[n++] =
                o.value[i] >= 0x20 && o.value[i] < 0x7F ? (char)o.value[i] : '?';
        menu[count].text[n] = 0;
        count++;
    }
    if (count == 0 && seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_ITEM, &o)) {
        a->general = SEAM_TK_RES_REQUIRED_MISSING;
        return;
    }
    memcpy(tk->menu, menu, sizeof menu);
    tk->menu_count = count;
    a->general = SEAM_TK_RES_OK;
}

/* The events this terminal can report (docs/terminal.md "The toolkit"). */
static bool event_supported(uint8_t ev) {
    switch (ev) {
    case SEAM_TK_EVENT_CALL_CONNECTED:
    case SEAM_TK_EVENT_CALL_DISCONNECTED:
    case SEAM_TK_EVENT_LOCATION_STATUS:
    case SEAM_TK_EVENT_IDLE_SCREEN:
    case SEAM_TK_EVENT_LANGUAGE_SELECTION:
    case SEAM_TK_EVENT_DATA_AVAILABLE:
    case SEAM_TK_EVENT_CAPABILITIES_CHANGED:
        return true;
    default:
        return false;
    }
}

static void set_up_event_list(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    seam_ctlv o;
    uint8_t events[sizeof tk->events] = {0};
    if (seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_EVENT_LIST, &o)) {
        a->general = SEAM_TK_RES_REQUIRED_MISSING;
        return;
    }
    for (size_t i = 0; i < o.len; i++) {
        if (!event_supported(o.value[i])) {
            a->general = SEAM_TK_RES_BEYOND_CAPABILITIES; /* the list is not changed */
            return;
        }
        events[o.value[i] / 8u] |= (uint8_t)(1u << (o.value[i] % 8u));
    }
    memcpy(tk->events, events, sizeof events);
    a->general = SEAM_TK_RES_OK;
}

/* One swapped-BCD byte as a number; -1 when a nibble is not a digit. */
static int bcd(uint8_t b) {
    unsigned lo = b & 0x0Fu, hi = b >> 4;
    return lo > 9 || hi > 9 ? -1 : (int)(lo * 10u + hi);
}

static void timer_management(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    seam_ctlv id, val;
    uint8_t op = c->details.qualifier & 0x03u, value[3];
    uint64_t now = tk->cfg.clock.now_ms(tk->cfg.clock.ctx);
    tk_timer *t;
    if (seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_TIMER_IDENTIFIER, &id)) {
        a->general = SEAM_TK_RES_REQUIRED_MISSING;
        return;
    }
    if (id.len != 1 || id.value[0] < 1 || id.value[0] > SEAM_TERMINAL_TK_TIMERS || op == 3) {
        a->general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
        return;
    }
    t = &tk->timers[id.value[0] - 1];
    if (op == SEAM_TK_TIMER_START) {
        int h, m, s;
        if (seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_TIMER_VALUE, &val)) {
            a->general = SEAM_TK_RES_REQUIRED_MISSING;
            return;
        }
        if (val.len != 3 || (h = bcd(val.value[0])) < 0 || (m = bcd(val.value[1])) < 0 ||
            (s = bcd(val.value[2])) < 0 || m > 59 || s > 59 || (h | m | s) == 0) {
            a->general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
            return;
        }
        t->running = true;
        t->start_ms = now;
        t->duration_ms = ((uint64_t)h * 3600u + (uint64_t)m * 60u + (uint64_t)s) * 1000u;
        a->general = SEAM_TK_RES_OK;
        put(a, SEAM_TK_TAG_TIMER_IDENTIFIER, id.value, 1);
        return;
    }
    if (!t->running) {
        a->general = SEAM_TK_RES_TIMER_CONTRADICTION; /* deactivate or read a stopped timer */
        return;
    }
    {
        uint64_t end = t->start_ms + t->duration_ms;
        tk_timer_value(end > now ? (end - now) / 1000u : 0, value);
    }
    if (op == SEAM_TK_TIMER_DEACTIVATE)
        t->running = false;
    a->general = SEAM_TK_RES_OK;
    put(a, SEAM_TK_TAG_TIMER_IDENTIFIER, id.value, 1);
    put(a, SEAM_TK_TAG_TIMER_VALUE, value, sizeof value);
}

static void poll_interval(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    seam_ctlv d;
    static const uint64_t unit_ms[3] = {60000u, 1000u, 100u};
    if (c->details.type == SEAM_TK_CMD_POLLING_OFF) {
        tk->status.poll_ms = 0;
        a->general = SEAM_TK_RES_OK;
        return;
    }
    if (seam_ctlv_find(c->objects, c->objects_len, SEAM_TK_TAG_DURATION, &d)) {
        a->general = SEAM_TK_RES_REQUIRED_MISSING;
        return;
    }
    if (d.len != 2 || d.value[0] > 2 || d.value[1] == 0) {
        a->general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
        return;
    }
    tk->status.poll_ms = unit_ms[d.value[0]] * d.value[1];
    tk->last_poll_ms = tk->cfg.clock.now_ms(tk->cfg.clock.ctx);
    a->general = SEAM_TK_RES_OK;
    put(a, SEAM_TK_TAG_DURATION, d.value, 2); /* the interval the terminal uses: the same */
}

static uint8_t swapped(unsigned v) {
    return (uint8_t)((v % 10u) << 4 | (v / 10u) % 10u);
}

static void provide_local(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    const char *imei = tk->cfg.imei;
    uint8_t v[8];
    a->general = SEAM_TK_RES_OK;
    switch (c->details.qualifier) {
    case SEAM_TK_LOCAL_LOCATION:
        put(a, SEAM_TK_TAG_LOCATION_INFO, tk->cfg.location, tk->cfg.location_len);
        break;
    case SEAM_TK_LOCAL_IMEI:
        /* TS 24.008 mobile identity: digit 1 and type IMEI (odd: A), then digit pairs,
           the later digit in the high nibble. */
        v[0] = (uint8_t)((imei[0] - '0') << 4 | 0x0A);
        for (int i = 1; i < 8; i++)
            v[i] = (uint8_t)((imei[2 * i] - '0') << 4 | (imei[2 * i - 1] - '0'));
        put(a, SEAM_TK_TAG_IMEI, v, 8);
        break;
    case SEAM_TK_LOCAL_DATE_TIME: {
        time_t now = (time_t)tk->cfg.clock.wall(tk->cfg.clock.ctx);
        struct tm tm;
        gmtime_r(&now, &tm);
        v[0] = swapped((unsigned)tm.tm_year % 100u);
        v[1] = swapped((unsigned)tm.tm_mon + 1u);
        v[2] = swapped((unsigned)tm.tm_mday);
        v[3] = swapped((unsigned)tm.tm_hour);
        v[4] = swapped((unsigned)tm.tm_min);
        v[5] = swapped((unsigned)tm.tm_sec);
        v[6] = 0x00; /* time zone: UTC */
        put(a, SEAM_TK_TAG_DATE_TIME, v, 7);
        break;
    }
    case SEAM_TK_LOCAL_LANGUAGE:
        put(a, SEAM_TK_TAG_LANGUAGE, (const uint8_t *)tk->cfg.language, 2);
        break;
    default:
        a->general = SEAM_TK_RES_BEYOND_CAPABILITIES;
    }
}

void tk_execute(seam_terminal_tk *tk, const uint8_t *cmd, size_t len, uint8_t *out, size_t cap,
                size_t *out_len) {
    seam_tk_command c;
    seam_tk_details details = {0, 0, 0};
    tk_answer a;
    memset(&a, 0, sizeof a);
    if (seam_tk_command_decode(cmd, len, &c)) {
        /* Echo what can be read: the card checks number and type against its command. */
        (void)seam_tk_command_peek_details(cmd, len, &details);
        a.general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
    } else {
        details = c.details;
        tk->status.last_type = c.details.type;
        if (c.unknown_cr_tag) {
            a.general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
        } else {
            switch (c.details.type) {
            case SEAM_TK_CMD_DISPLAY_TEXT:
                display_text(tk, &c, &a);
                break;
            case SEAM_TK_CMD_GET_INKEY:
                get_inkey(tk, &c, &a);
                break;
            case SEAM_TK_CMD_SET_UP_MENU:
                set_up_menu(tk, &c, &a);
                break;
            case SEAM_TK_CMD_SET_UP_EVENT_LIST:
                set_up_event_list(tk, &c, &a);
                break;
            case SEAM_TK_CMD_TIMER_MANAGEMENT:
                timer_management(tk, &c, &a);
                break;
            case SEAM_TK_CMD_POLL_INTERVAL:
            case SEAM_TK_CMD_POLLING_OFF:
                poll_interval(tk, &c, &a);
                break;
            case SEAM_TK_CMD_PROVIDE_LOCAL:
                provide_local(tk, &c, &a);
                break;
            case SEAM_TK_CMD_REQUEST_SYNC: /* toolkit_sync.c */
                tk_request_sync(tk, &c, &a);
                break;
            case SEAM_TK_CMD_REFRESH:
            case SEAM_TK_CMD_MORE_TIME:
            case SEAM_TK_CMD_GET_INPUT:
            case SEAM_TK_CMD_SELECT_ITEM:
                a.general = SEAM_TK_RES_BEYOND_CAPABILITIES;
                break;
            default:
                a.general = SEAM_TK_RES_TYPE_NOT_UNDERSTOOD;
            }
        }
    }
    if (a.general != SEAM_TK_RES_OK)
        a.extra_len = 0;
    tk->status.last_result = a.general;
    if (seam_tk_response_build(&details, a.general, a.additional, a.additional_len, a.extra,
                               a.extra_len, out, cap, out_len))
        *out_len = 0;
}
