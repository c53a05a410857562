/* devmgmt: building proactive commands and the registration chain (devmgmt.h). */
#include "devmgmt.h"

void put(builder *b, const void *data, uint32_t len) {
    if (b->overflow || len > SEAM_TOOLKIT_COMMAND_MAX - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->buf + 3 + b->len, data, len);
    b->len += len;
}

/* A COMPREHENSION-TLV: a 1-byte tag (CR as given in it) or a 3-byte seam tag with CR. */
void put_object(builder *b, uint32_t tag, const void *value, uint32_t len) {
    uint8_t head[5];
    uint32_t n = 0;
    if (tag > 0xFFu) {
        head[n++] = 0x7Fu;
        head[n++] = (uint8_t)((tag >> 8) | 0x80u); /* CR: bit 16 of the two tag bytes */
        head[n++] = (uint8_t)tag;
    } else {
        head[n++] = (uint8_t)tag;
    }
    if (len > 0x7Fu) {
        head[n++] = 0x81u;
    }
    head[n++] = (uint8_t)len;
    put(b, head, n);
    put(b, value, len);
}

/* Starts a command: command details (a new number) and device identities. */
void begin(builder *b, uint8_t type, uint8_t qualifier, uint8_t dest) {
    uint8_t details[3];
    uint8_t devices[2] = {0x81u, dest};
    b->len = 0;
    b->overflow = false;
    dm.number = dm.number >= 0xFEu ? 1u : (uint8_t)(dm.number + 1u);
    details[0] = dm.number;
    details[1] = type;
    details[2] = qualifier;
    put_object(b, 0x81u, details, 3);
    put_object(b, 0x82u, devices, 2);
}

/* Wraps the objects in D0 and queues the command; true when queued. */
bool send_command(builder *b) {
    const uint8_t *start;
    uint32_t total;
    if (b->overflow || b->len > 0xFFu) {
        return false;
    }
    if (b->len > 0x7Fu) {
        b->buf[0] = 0xD0u;
        b->buf[1] = 0x81u;
        b->buf[2] = (uint8_t)b->len;
        start = b->buf;
        total = b->len + 3;
    } else {
        b->buf[1] = 0xD0u;
        b->buf[2] = (uint8_t)b->len;
        start = b->buf + 1;
        total = b->len + 2;
    }
    if (seam_toolkit_proactive(start, total) != 0) {
        return false;
    }
    dm.step = b->buf[3 + 3]; /* the type in command details (81 03 nn type qq) */
    return true;
}

bool text_command(uint8_t type, uint8_t qualifier, uint8_t dest, const char *text) {
    builder b;
    uint8_t value[64];
    uint32_t n = 0;
    value[n++] = 0x04u; /* 8-bit data */
    while (text[n - 1] != 0 && n < sizeof value) {
        value[n] = (uint8_t)text[n - 1];
        n++;
    }
    begin(&b, type, qualifier, dest);
    put_object(&b, 0x8Du, value, n);
    return send_command(&b);
}

/* ---- the registration chain ------------------------------------------------------- */

bool has_timer(void) {
    return (dm.interval[0] | dm.interval[1] | dm.interval[2]) != 0;
}

void start_timer(void) {
    builder b;
    uint8_t id = TIMER_ID;
    begin(&b, CMD_TIMER_MANAGEMENT, 0x00, 0x82u);
    put_object(&b, 0xA4u, &id, 1);
    put_object(&b, 0xA5u, dm.interval, 3);
    (void)send_command(&b);
}

void send_event_list(void) {
    builder b;
    begin(&b, CMD_SET_UP_EVENT_LIST, 0x00, 0x82u);
    put_object(&b, 0x99u, dm.events, dm.events_len);
    (void)send_command(&b);
}

bool send_menu(void) {
    static const char title[] = "Device management";
    static const char item[] = "Sync device";
    builder b;
    uint8_t entry[1 + sizeof item - 1];
    entry[0] = MENU_ITEM;
    memcpy(entry + 1, item, sizeof item - 1);
    begin(&b, CMD_SET_UP_MENU, 0x00, 0x82u);
    put_object(&b, 0x85u, title, sizeof title - 1);
    put_object(&b, 0x8Fu, entry, sizeof entry);
    return send_command(&b);
}

/* Registers the menu item, the counting events and the timer with the card (its RAM:
   again after every power-up). */
bool register_card(void) {
    if (seam_toolkit_register(SEAM_TOOLKIT_MENU_ITEM, MENU_ITEM, 1) != 0) {
        return false;
    }
    for (uint32_t i = 0; i < dm.events_len; i++) {
        if (seam_toolkit_register(SEAM_TOOLKIT_EVENT, dm.events[i], 1) != 0) {
            return false;
        }
    }
    /* the later report (DF1B 02) comes as event E2; released when the policy no longer
       asks for it (registering again what it holds writes nothing) */
    if (seam_toolkit_register(SEAM_TOOLKIT_EVENT, SEAM_TOOLKIT_EVENT_SYNC_RESULT,
                              dm.report_later ? 1u : 0u) != 0) {
        return false;
    }
    return !has_timer() || seam_toolkit_register(SEAM_TOOLKIT_TIMER, TIMER_ID, 1) == 0;
}

/* Releases the events of old[0..len) that the policy no longer lists (a new DF10): the
   card forgets them in its image and stops telling the terminal of them. */
void release_dropped(const uint8_t *old, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) {
        bool kept = false;
        for (uint32_t j = 0; j < dm.events_len && !kept; j++) {
            kept = dm.events[j] == old[i];
        }
        if (!kept) {
            (void)seam_toolkit_register(SEAM_TOOLKIT_EVENT, old[i], 0);
        }
    }
}
