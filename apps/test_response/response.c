/*
 * test_response: an applet for the card's tests of long responses and failed
 * commits, not for cards. Its persistent state is three counters.
 *
 *   select          selects++ (so SELECT writes its memory), 9000
 *   deselect        deselects++ (so deselecting writes it too)
 *   INS 01 COUNTERS answers selects || deselects || changes (3 x 4 bytes)
 *   INS 02 ANSWER   data = N (4 bytes big-endian, at most 65536): answers N
 *                   bytes, byte i being i mod 251; with P1 = 01 it first
 *                   counts a change (changes++), a state change that the
 *                   card commits with the response
 *   INS E2 STORE DATA (a personalization block the SD forwards): as ANSWER
 *                   with P1 = 01, the block's data being N
 *   other INS       6D00
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x52), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01));

#define INS_COUNTERS 0x01u
#define INS_ANSWER   0x02u
#define INS_STORE    0xE2u

static uint32_t selects, deselects, changes;

SEAM_ENTRY(select) uint32_t select(void) {
    selects++;
    return SW_NO_ERROR;
}

SEAM_ENTRY(deselect) void deselect(void) {
    deselects++;
}

/* Appends n bytes (byte i = i mod 251) to the response, 256 at a time. */
static uint32_t answer(uint32_t n) {
    uint8_t part[256];
    for (uint32_t sent = 0; sent < n;) {
        uint32_t len = n - sent < sizeof part ? n - sent : (uint32_t)sizeof part;
        for (uint32_t i = 0; i < len; i++)
            part[i] = (uint8_t)((sent + i) % 251u);
        if (seam_apdu_send(part, len) != 0)
            return SW_WRONG_LENGTH;
        sent += len;
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 16];
    uint8_t out[12];
    seam_command cmd;
    uint32_t sw = SW_NO_ERROR;
    seam_command_read(&cmd, command, sizeof command);
    switch (cmd.ins) {
    case INS_COUNTERS:
        seam_put_u32(out, selects);
        seam_put_u32(out + 4, deselects);
        seam_put_u32(out + 8, changes);
        seam_apdu_send(out, sizeof out);
        break;
    case INS_ANSWER:
    case INS_STORE:
        if (cmd.nc != 4 || seam_get_u32(cmd.data) > SEAM_RESPONSE_MAX) {
            sw = SW_WRONG_DATA;
            break;
        }
        if (cmd.p1 == 0x01 || cmd.ins == INS_STORE)
            changes++;
        sw = answer(seam_get_u32(cmd.data));
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}
