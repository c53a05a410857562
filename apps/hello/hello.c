/*
 * hello: the smallest useful applet.
 *
 *   INS 10 ECHO     answers the command data unchanged (9000)
 *   INS 20 VERSION  answers the text "hello 1.0" (9000)
 *   any other INS   6D00
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x48, 0x45), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01));

#define INS_ECHO    0x10u
#define INS_VERSION 0x20u

static const char version[] = "hello 1.0";

SEAM_ENTRY(process) uint32_t process(void) {
    /* On the stack, which is scratch: a global would be persistent state. */
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    uint32_t sw = SW_NO_ERROR;
    seam_command_read(&cmd, command, sizeof command);
    switch (cmd.ins) {
    case INS_ECHO:
        if (!cmd.complete) {
            sw = SW_WRONG_LENGTH;
        } else if (seam_apdu_send(cmd.data, cmd.nc) != 0) {
            sw = SW_WRONG_LENGTH;
        }
        break;
    case INS_VERSION:
        seam_apdu_send(version, sizeof version - 1);
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}
