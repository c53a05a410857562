/*
 * test_toolkit: an applet for the card's tests of the card application toolkit
 * (docs/toolkit.md "The card"), not for cards. Commands (CLA 80):
 *
 *   INS 01 DISPLAY   queues DISPLAY TEXT "Toolkit Test 1" with command number
 *                    P1 (the bytes of ETSI TS 102 384's DISPLAY TEXT 1.1, as
 *                    Mozilla B2G's test_stk_display_text.js restates them:
 *                    D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 "Toolkit Test 1");
 *                    with data, queues the data as given instead. Answers one
 *                    byte: seam_toolkit_proactive's result (00, FF busy, FE
 *                    full, FD malformed, FC denied). P2 01: then refuses with
 *                    6A80 (so nothing may stay queued); P2 02: when the answer
 *                    to it comes, queues DISPLAY TEXT number P1 + 1 (a chain)
 *   INS 02 REGISTER  seam_toolkit_register(P1 kind, P2 id, data[0] on, 1 when
 *                    no data); answers its result byte
 *   INS 03 STATE     answers what it saw: last general result (FF none), TERMINAL
 *                    RESPONSEs, menu selections, last item, event downloads, last
 *                    event, timer expirations, last timer, profile length, 1 when
 *                    the profile has bit 17 (DISPLAY TEXT), 1 when it has bit 56
 *                    (seam's REQUEST SYNCHRONIZATION, byte 7 b8)
 *   INS 04 TRAP      P1 01: its next toolkit entry point traps (containment tests)
 *   INS 05 WILD      queues from an address outside its memory (the host traps: X3)
 *   other INS        6D00
 *
 * terminal_response, menu_selection, event_download and timer_expiration count
 * what they get and keep the last value of it.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x4B, 0x01));

#define INS_DISPLAY  0x01u
#define INS_REGISTER 0x02u
#define INS_STATE    0x03u
#define INS_TRAP     0x04u
#define INS_WILD     0x05u

static uint8_t last_result = 0xFF;
static uint8_t responses, menus, last_item, events, last_event, timers, last_timer;
static uint8_t chain_number; /* 0: no chain */
static uint8_t trap_next;

/* DISPLAY TEXT "Toolkit Test 1", command number `number`. */
static int32_t display_text(uint8_t number) {
    uint8_t cmd[28] = {0xD0, 0x1A, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82, 0x02, 0x81,
                       0x02, 0x8D, 0x0F, 0x04, 'T',  'o',  'o',  'l',  'k',  'i',
                       't',  ' ',  'T',  'e',  's',  't',  ' ',  '1'};
    cmd[4] = number;
    return seam_toolkit_proactive(cmd, sizeof cmd);
}

static void maybe_trap(void) {
    if (trap_next) {
        trap_next = 0;
        __builtin_trap();
    }
}

/* The message of the running toolkit entry point into buf; its length (0: too long). */
static uint32_t message(uint8_t *buf, uint32_t cap) {
    uint32_t len = seam_toolkit_message(buf, cap);
    return len <= cap ? len : 0;
}

/* The first byte of object tag in the message (value inside a BER-TLV when nested). */
static bool first_byte(const uint8_t *data, uint32_t len, uint32_t tag, uint8_t *out) {
    const uint8_t *value;
    uint32_t value_len;
    if (!seam_toolkit_find(data, len, tag, &value, &value_len) || value_len == 0) {
        return false;
    }
    *out = value[0];
    return true;
}

/* The COMPREHENSION-TLV objects of an ENVELOPE's BER-TLV (tag, length, value). */
static uint32_t envelope_objects(uint8_t *buf, uint32_t cap, const uint8_t **objects) {
    uint32_t len = message(buf, cap);
    uint32_t header = len >= 2 && buf[1] == 0x81u ? 3u : 2u;
    *objects = buf + header;
    return len >= header ? len - header : 0;
}

SEAM_ENTRY(terminal_response) uint32_t terminal_response(void) {
    uint8_t buf[255];
    uint32_t len = message(buf, sizeof buf);
    maybe_trap();
    responses++;
    if (!first_byte(buf, len, 0x03u, &last_result)) {
        last_result = 0xFE;
    }
    if (chain_number != 0) {
        uint8_t next = chain_number;
        chain_number = 0;
        (void)display_text(next);
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(menu_selection) uint32_t menu_selection(void) {
    uint8_t buf[255];
    const uint8_t *objects;
    uint32_t len = envelope_objects(buf, sizeof buf, &objects);
    maybe_trap();
    menus++;
    (void)first_byte(objects, len, 0x10u, &last_item);
    return SW_NO_ERROR;
}

SEAM_ENTRY(event_download) uint32_t event_download(void) {
    uint8_t buf[255];
    const uint8_t *objects;
    uint32_t len = envelope_objects(buf, sizeof buf, &objects);
    maybe_trap();
    events++;
    (void)first_byte(objects, len, 0x19u, &last_event);
    return SW_NO_ERROR;
}

SEAM_ENTRY(timer_expiration) uint32_t timer_expiration(void) {
    uint8_t buf[255];
    const uint8_t *objects;
    uint32_t len = envelope_objects(buf, sizeof buf, &objects);
    maybe_trap();
    timers++;
    (void)first_byte(objects, len, 0x24u, &last_timer);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t buf[4 + 255];
    seam_command cmd;
    uint8_t out[11];
    int32_t result;
    seam_command_read(&cmd, buf, sizeof buf);
    switch (cmd.ins) {
    case INS_DISPLAY:
        if (!cmd.complete) {
            return SW_WRONG_LENGTH;
        }
        result = cmd.nc > 0 ? seam_toolkit_proactive(cmd.data, cmd.nc) : display_text(cmd.p1);
        if (cmd.p2 == 0x01u) {
            return SW_WRONG_DATA;
        }
        if (cmd.p2 == 0x02u && result == 0) {
            chain_number = (uint8_t)(cmd.p1 + 1u);
        }
        out[0] = (uint8_t)result;
        seam_apdu_send(out, 1);
        return SW_NO_ERROR;
    case INS_REGISTER:
        result = seam_toolkit_register(cmd.p1, cmd.p2, cmd.nc > 0 ? cmd.data[0] : 1u);
        out[0] = (uint8_t)result;
        seam_apdu_send(out, 1);
        return SW_NO_ERROR;
    case INS_STATE:
        out[0] = last_result;
        out[1] = responses;
        out[2] = menus;
        out[3] = last_item;
        out[4] = events;
        out[5] = last_event;
        out[6] = timers;
        out[7] = last_timer;
        out[8] = (uint8_t)seam_toolkit_profile(buf, sizeof buf);
        out[9] = seam_toolkit_profile_bit(17) ? 1u : 0u;
        out[10] = seam_toolkit_profile_bit(56) ? 1u : 0u; /* REQUEST SYNCHRONIZATION (seam's) */
        seam_apdu_send(out, sizeof out);
        return SW_NO_ERROR;
    case INS_TRAP:
        trap_next = cmd.p1;
        return SW_NO_ERROR;
    case INS_WILD:
        result = seam_toolkit_proactive((const void *)(uintptr_t)0xFFFFFF00u, 28);
        return SW_NO_ERROR;
    default:
        return SW_INS_NOT_SUPPORTED;
    }
}
