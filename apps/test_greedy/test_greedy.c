/*
 * test_greedy: a hostile applet for the tests of the toolkit's limits
 * (tests/card/test_toolkit_registry.c), not for cards. An attacker who owns
 * it tries to lock every other applet out of the card application toolkit.
 * Commands (CLA 80), each answering two bytes: how many calls succeeded, and
 * the last failing call's result (00 when none failed):
 *
 *   INS 01 MENU    registers menu items 1..255
 *   INS 02 EVENTS  registers events 00..FF
 *   INS 03 TIMERS  registers timers 1..8
 *   INS 04 FLOOD   queues DISPLAY TEXT 16 times (command numbers 01..10)
 *
 * terminal_response queues DISPLAY TEXT again at once (command number 0x40 + the
 * answers seen), to take the queue's head back if the card let it.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x47, 0x52), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x47, 0x52, 0x01));

static uint8_t answers;

static int32_t display_text(uint8_t number) {
    uint8_t cmd[16] = {0xD0, 0x0E, 0x81, 0x03, 0x01, 0x21, 0x80, 0x82,
                       0x02, 0x81, 0x02, 0x8D, 0x03, 0x04, 'm',  'e'};
    cmd[4] = number;
    return seam_toolkit_proactive(cmd, sizeof cmd);
}

SEAM_ENTRY(terminal_response) uint32_t terminal_response(void) {
    answers++;
    (void)display_text((uint8_t)(0x40u + answers));
    return SW_NO_ERROR;
}

/* Registers kind for ids first..last: out[0] successes, out[1] the last failure. */
static void grab(uint32_t kind, uint32_t first, uint32_t last, uint8_t out[2]) {
    for (uint32_t id = first; id <= last; id++) {
        int32_t r = seam_toolkit_register(kind, id, 1);
        if (r == 0) {
            out[0]++;
        } else {
            out[1] = (uint8_t)r;
        }
    }
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t buf[SEAM_APDU_HEADER_SIZE + 16];
    seam_command cmd;
    uint8_t out[2] = {0, 0};
    seam_command_read(&cmd, buf, sizeof buf);
    switch (cmd.ins) {
    case 0x01u:
        grab(SEAM_TOOLKIT_MENU_ITEM, 1, 255, out);
        break;
    case 0x02u:
        grab(SEAM_TOOLKIT_EVENT, 0, 255, out);
        break;
    case 0x03u:
        grab(SEAM_TOOLKIT_TIMER, 1, 8, out);
        break;
    case 0x04u:
        for (uint8_t n = 1; n <= 16; n++) {
            int32_t r = display_text(n);
            if (r == 0) {
                out[0]++;
            } else {
                out[1] = (uint8_t)r;
            }
        }
        break;
    default:
        return SW_INS_NOT_SUPPORTED;
    }
    seam_apdu_send(out, sizeof out);
    return SW_NO_ERROR;
}
