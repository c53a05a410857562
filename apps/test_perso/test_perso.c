/*
 * test_perso: a tiny applet for the personalization tests (STORE DATA
 * forwarded by the security domain after INSTALL [for personalization]).
 *
 *   INS E2 STORE DATA  appends the command data to a persistent record of at
 *                      most 240 bytes (6A84 when it would overflow); P1 b8
 *                      (last block) marks the applet personalized. Data
 *                      starting with FF is refused with 6A80 (nothing kept).
 *   INS CA GET DATA    answers personalized (00/01) || the record (9000)
 *   other INS          6D00
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x50), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01));

#define INS_STORE_DATA 0xE2u
#define INS_GET_DATA   0xCAu
#define RECORD_MAX     240u

static struct {
    uint8_t personalized;
    uint8_t len;
    uint8_t bytes[RECORD_MAX];
} record;

static uint32_t store_data(const seam_command *cmd) {
    uint32_t sw = SW_NO_ERROR;
    if (!cmd->complete) {
        sw = SW_WRONG_LENGTH;
    } else if (cmd->nc && cmd->data[0] == 0xFF) {
        sw = SW_WRONG_DATA;
    } else if (cmd->nc > RECORD_MAX - record.len) {
        sw = 0x6A84u;
    } else {
        memcpy(record.bytes + record.len, cmd->data, cmd->nc);
        record.len = (uint8_t)(record.len + cmd->nc);
        if (cmd->p1 & 0x80u)
            record.personalized = 1;
    }
    return sw;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    uint8_t out[1 + RECORD_MAX];
    seam_command cmd;
    uint32_t sw = SW_NO_ERROR;
    seam_command_read(&cmd, command, sizeof command);
    switch (cmd.ins) {
    case INS_STORE_DATA:
        sw = store_data(&cmd);
        break;
    case INS_GET_DATA:
        out[0] = record.personalized;
        memcpy(out + 1, record.bytes, record.len);
        seam_apdu_send(out, 1u + record.len);
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}
