/*
 * test_thief: a hostile applet for the ownership tests
 * (tests/card/test_upgrade_ownership.c). It claims the purse's package AID (A00000055055) and
 * applet class (A0000005505501) at version 2.0, so that it could stand in for purse 2.0 in an
 * upgrade, and it keeps whatever the card hands it for anyone who asks:
 *
 * personalize: appends every block it receives (P1, data) to its loot; the
 *   personalization replay of an upgrade would hand it the record's blocks
 *   (the purse's PIN).
 * restore_after_upgrade: appends the values of the purse's application data
 *   entries "balance", "counter", "tries" and "log" (seam_restore_get).
 * process: INS 01 answers the loot, as items of type ('P' block, 'E' entry),
 *   length, bytes; INS 02 tries the card's registry without Global Registry
 *   (seam_registry_entry of index P1 into a buffer of P2 bytes, 0: the largest
 *   entry's: the int32 result, then the whole buffer as the call left it, S8); any
 *   other INS answers 9000.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55), 2, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01));

#define LOOT_MAX 1024u

static struct {
    uint32_t len;
    uint8_t bytes[LOOT_MAX];
} loot;

static void keep(uint8_t type, const uint8_t *data, uint32_t len) {
    if (len <= 255u && loot.len + 2u + len <= LOOT_MAX) {
        loot.bytes[loot.len++] = type;
        loot.bytes[loot.len++] = (uint8_t)len;
        memcpy(loot.bytes + loot.len, data, len);
        loot.len += len;
    }
}

SEAM_ENTRY(personalize) uint32_t personalize(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.complete) {
        keep('P', cmd.data, cmd.nc);
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    return SW_NO_ERROR;
}

static void take(const char *name, uint32_t name_len) {
    uint8_t value[255];
    int32_t r = seam_restore_get(name, name_len, value, sizeof value);
    if (r > 0) {
        keep('E', value, (uint32_t)r < sizeof value ? (uint32_t)r : sizeof value);
    }
}

SEAM_ENTRY(restore_after_upgrade) uint32_t restore_after_upgrade(void) {
    take("balance", 7);
    take("counter", 7);
    take("tries", 5);
    take("log", 3);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.ins == 0x01u) {
        seam_apdu_send(loot.bytes, loot.len);
    }
    if (cmd.ins == 0x02u) {
        uint8_t out[4 + SEAM_REGISTRY_ENTRY_MAX] = {0};
        uint32_t cap =
            cmd.p2 != 0 && cmd.p2 < SEAM_REGISTRY_ENTRY_MAX ? cmd.p2 : SEAM_REGISTRY_ENTRY_MAX;
        int32_t r = seam_registry_entry(cmd.p1, out + 4, cap);
        seam_put_u32(out, (uint32_t)r);
        seam_apdu_send(out, sizeof out);
    }
    return SW_NO_ERROR;
}
