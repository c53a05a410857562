/*
 * test_diag: an applet for the card's diagnostics tests (issue 10, section 3),
 * not for cards. Each failing INS fails in a function of its own, kept out of
 * line so that the module's name section names it; the build keeps that
 * section (apps/CMakeLists.txt strips debug information, not names).
 *
 *   INS 01  integer divide by zero in divide() (P1 is the divisor: send 00)
 *   INS 02  out-of-bounds load in read_far()
 *   INS 03  unreachable in give_up()
 *   INS 04  an endless loop in spin(): fuel exhausted
 *   INS 05  returns 0x1234, which is not a status word
 *   INS 06  seam_debug("hello from test_diag"), then 9000
 *   INS 07  seam_debug P1 times ("line N"), then one 300-byte line, then 9000
 *   INS 08  seam_debug of a range outside linear memory, then 9000
 *   INS 09  apdu_send of a range outside linear memory: the host function traps
 *   INS 10  counter++, answers the counter (2 bytes): the instance still works
 *   install divides 9000 by the second byte of its parameters when they start with
 *   DE: with DE 00, an integer divide by zero in divide().
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x44), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x44, 0x01));

static uint32_t counter;
static volatile uint32_t spins;

__attribute__((noinline)) static uint32_t divide(uint32_t a, uint32_t b) {
    return a / b;
}

__attribute__((noinline)) static uint32_t read_far(uint32_t at) {
    return *(volatile const uint32_t *)(uintptr_t)at;
}

__attribute__((noinline)) static void give_up(void) {
    __builtin_trap();
}

__attribute__((noinline)) static void spin(void) {
    for (;;) {
        spins++;
    }
}

SEAM_ENTRY(install) uint32_t install(void) {
    uint8_t params[4];
    uint32_t n = seam_install_params(params, sizeof params);
    if (n >= 2 && params[0] == 0xDE) {
        return divide(SW_NO_ERROR, params[1]);
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(select) uint32_t select(void) {
    return SW_NO_ERROR;
}

static void debug_lines(uint32_t n) {
    char line[8] = "line ";
    uint8_t long_line[300];
    for (uint32_t i = 0; i < n; i++) {
        line[5] = (char)('0' + (i / 10) % 10);
        line[6] = (char)('0' + i % 10);
        seam_debug(line, 7);
    }
    for (uint32_t i = 0; i < sizeof long_line; i++) {
        long_line[i] = (uint8_t)('a' + i % 26);
    }
    seam_debug(long_line, sizeof long_line);
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t buf[64];
    uint8_t out[2];
    seam_command cmd;
    seam_command_read(&cmd, buf, sizeof buf);
    switch (cmd.ins) {
    case 0x01:
        return divide(SW_NO_ERROR, cmd.p1);
    case 0x02:
        return read_far(0xFFFFFFF0u + cmd.p1) ? SW_NO_ERROR : SW_WRONG_DATA;
    case 0x03:
        give_up();
        return SW_NO_ERROR;
    case 0x04:
        spin();
        return SW_NO_ERROR;
    case 0x05:
        return 0x1234u;
    case 0x06:
        seam_debug_str("hello from test_diag");
        return SW_NO_ERROR;
    case 0x07:
        debug_lines(cmd.p1);
        return SW_NO_ERROR;
    case 0x08:
        seam_debug((const void *)(uintptr_t)0xFFFFFF00u, 200);
        return SW_NO_ERROR;
    case 0x09:
        seam_apdu_send((const void *)(uintptr_t)0xFFFFFF00u, 16);
        return SW_NO_ERROR;
    case 0x10:
        counter++;
        seam_put_u16(out, counter);
        seam_apdu_send(out, sizeof out);
        return SW_NO_ERROR;
    default:
        return SW_INS_NOT_SUPPORTED;
    }
}
