/*
 * test_service: an applet for the card's tests of services between instances
 * (seam_service_call, docs/applet-abi.md), not for cards. Commands (CLA 80):
 *
 *   INS 10 CALL    data: AID length, AID, then the request; calls that
 *                  instance's service (P1 01: four more times after the first,
 *                  for the per-call limit) and answers the results, 4 bytes
 *                  big-endian each (a status word, or a negative error); P2 01:
 *                  then refuses with 6A80 (the command is not kept)
 *   INS 11 WILD    calls with an AID range outside its memory (the host traps)
 *   INS 12 ARM     data: an AID (5..16 bytes); its next select calls that
 *                  instance with request 01 and keeps the result (nested)
 *   INS 13 OUTSIDE answers what seam_personalize_command and seam_service_caller
 *                  answer in process (4 bytes each): -3 and 0
 *   INS 20 STATE   answers what its service saw last: the caller's AID length,
 *                  the caller's AID (16 bytes, zero-padded), the request's first
 *                  byte, the result of its nested call (4 bytes; 0 none), and
 *                  the number of requests served (1 byte)
 *   other INS      6D00
 *
 * service: keeps the caller's AID and the request; a request whose first byte
 * is EE calls back the caller with request 01 (recursion: the card refuses it)
 * and keeps that result; a request whose first byte is FF answers 6A80 after
 * changing its memory (which the card puts back); FD loops for ever (it runs
 * out of the fuel its caller had left).
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x53, 0x56), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x53, 0x56, 0x01));

static struct {
    uint8_t caller_len;
    uint8_t caller[16];
    uint8_t request;
    uint8_t nested[4];
    uint8_t served;
} seen;

static uint8_t armed[16];
static uint8_t armed_len;

SEAM_ENTRY(select) uint32_t select(void) {
    const uint8_t one = 0x01u;
    if (armed_len != 0) {
        seam_put_u32(seen.nested, (uint32_t)seam_service_call(armed, armed_len, &one, 1));
        armed_len = 0;
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(service) uint32_t service(void) {
    uint8_t request[SEAM_SERVICE_MESSAGE_MAX];
    uint32_t len = seam_toolkit_message(request, sizeof request);
    uint32_t caller_len = seam_service_caller(seen.caller, sizeof seen.caller);
    seen.caller_len = (uint8_t)caller_len;
    seen.request = len > 0 ? request[0] : 0;
    seen.served++;
    if (seen.request == 0xFDu) {
        volatile uint32_t spin = 0;
        for (;;) {
            spin++;
        }
    }
    if (seen.request == 0xEEu) {
        const uint8_t again = 0x01u;
        seam_put_u32(seen.nested, (uint32_t)seam_service_call(seen.caller, caller_len, &again, 1));
    }
    return seen.request == 0xFFu ? SW_WRONG_DATA : SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t buf[SEAM_APDU_HEADER_SIZE + 96];
    uint8_t out[4 * 5];
    uint32_t n = 0;
    seam_command cmd;
    seam_command_read(&cmd, buf, sizeof buf);
    switch (cmd.ins) {
    case 0x10:
        if (!cmd.complete || cmd.nc < 1 || cmd.data[0] > cmd.nc - 1) {
            return SW_WRONG_DATA;
        }
        for (uint32_t i = 0; i < (cmd.p1 == 0x01u ? 5u : 1u); i++) {
            int32_t r = seam_service_call(cmd.data + 1, cmd.data[0], cmd.data + 1 + cmd.data[0],
                                          cmd.nc - 1 - cmd.data[0]);
            seam_put_u32(out + n, (uint32_t)r);
            n += 4;
        }
        seam_apdu_send(out, n);
        return cmd.p2 == 0x01u ? SW_WRONG_DATA : SW_NO_ERROR;
    case 0x11:
        return (uint32_t)seam_service_call((const void *)0xFFFFFFF0u, 16, buf, 1) == 0 ? SW_NO_ERROR
                                                                                       : SW_UNKNOWN;
    case 0x12:
        if (!cmd.complete || cmd.nc < 5 || cmd.nc > sizeof armed) {
            return SW_WRONG_DATA;
        }
        memcpy(armed, cmd.data, cmd.nc);
        armed_len = (uint8_t)cmd.nc;
        return SW_NO_ERROR;
    case 0x13:
        seam_put_u32(out, (uint32_t)seam_personalize_command());
        seam_put_u32(out + 4, seam_service_caller(buf, sizeof buf));
        seam_apdu_send(out, 8);
        return SW_NO_ERROR;
    case 0x20:
        seam_apdu_send(&seen, sizeof seen);
        return SW_NO_ERROR;
    default:
        return SW_INS_NOT_SUPPORTED;
    }
}
