/*
 * test_restore: an applet for the restore-module tests (tests/card/test_restore.c).
 * It calls the restore host functions on demand and answers what they return,
 * so a test sees their results and error values (applet.h, "the restore
 * module"). Results are 4 bytes big-endian (an int32 as uint32).
 *
 * install: with parameters 01 P1 data, files the block (P1, data) with
 *   seam_restore_perso_add. In every case it records the result of that call
 *   (0 when not made), of seam_restore_get("a") and of
 *   seam_upgrade_previous_version() (INS 50 answers them).
 * personalize: counts the blocks it receives and keeps the last one (P1, up to
 *   32 data bytes); a block whose data start with FF is refused with 6A80
 *   (nothing changes).
 * save_for_upgrade: 9000.
 * restore_after_upgrade: records seam_restore_get("a") (result and up to 16
 *   bytes) and seam_upgrade_previous_version(); 9000.
 *
 * Commands (any CLA):
 *   INS 10 PUT          data = n || name (n bytes) || value: seam_restore_put
 *   INS 11 PUT FILL     data = n || name || fill byte; P1 P2 = value length:
 *                       seam_restore_put of that many fill bytes (at most 2100)
 *   INS 20 GET          data = name; P1 = cap (at most 64): seam_restore_get;
 *                       answers result || the bytes copied (min(result, cap))
 *   INS 30 PERSO ADD    P1 = block P1, data = block: seam_restore_perso_add
 *   INS 31 PERSO FILL   data = fill byte; P1 P2 = block length (at most 300):
 *                       seam_restore_perso_add(90, ...)
 *   INS 40 PREVIOUS     seam_upgrade_previous_version()
 *   INS 50 STATE        install add (4) || install get (4) || install previous (4)
 *                       || blocks received (4) || last P1 (1) || last length (1)
 *                       || last data (32) || restore get (4) || restore previous (4)
 *                       || restored length (1) || restored value (16)
 *   other INS           6D00
 * Every command but INS 50 answers its result with 9000; none writes the
 * applet's memory (locals only), so the restore module alone changes.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x52), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01));

#define LAST_MAX     32u
#define RESTORED_MAX 16u
#define FILL_MAX     2100u
#define BLOCK_FILL   300u
#define GET_MAX      64u

static struct {
    int32_t install_add;
    int32_t install_get;
    uint32_t install_previous;
    uint32_t blocks;
    uint8_t last_p1;
    uint8_t last_len;
    uint8_t last[LAST_MAX];
    int32_t restore_get;
    uint32_t restore_previous;
    uint8_t restored_len;
    uint8_t restored[RESTORED_MAX];
} state;

static uint32_t answer(int32_t result) {
    uint8_t out[4];
    seam_put_u32(out, (uint32_t)result);
    seam_apdu_send(out, sizeof out);
    return SW_NO_ERROR;
}

SEAM_ENTRY(install) uint32_t install(void) {
    uint8_t params[3 + 255];
    uint8_t value[RESTORED_MAX];
    uint32_t len = seam_install_params(params, sizeof params);
    state.install_add = 0;
    if (len >= 2 && len <= sizeof params && params[0] == 0x01) {
        state.install_add = seam_restore_perso_add(params[1], params + 2, len - 2);
    }
    state.install_get = seam_restore_get("a", 1, value, sizeof value);
    state.install_previous = seam_upgrade_previous_version();
    return SW_NO_ERROR;
}

SEAM_ENTRY(personalize) uint32_t personalize(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.ins != 0xE2u) {
        return SW_INS_NOT_SUPPORTED;
    }
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    if (cmd.nc > 0 && cmd.data[0] == 0xFFu) {
        return SW_WRONG_DATA;
    }
    state.blocks++;
    state.last_p1 = cmd.p1;
    state.last_len = (uint8_t)(cmd.nc < LAST_MAX ? cmd.nc : LAST_MAX);
    memcpy(state.last, cmd.data, state.last_len);
    return SW_NO_ERROR;
}

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    return SW_NO_ERROR;
}

SEAM_ENTRY(restore_after_upgrade) uint32_t restore_after_upgrade(void) {
    uint8_t value[RESTORED_MAX];
    int32_t r = seam_restore_get("a", 1, value, sizeof value);
    state.restore_get = r;
    state.restore_previous = seam_upgrade_previous_version();
    state.restored_len = 0;
    if (r > 0) {
        state.restored_len = (uint8_t)((uint32_t)r < RESTORED_MAX ? (uint32_t)r : RESTORED_MAX);
        memcpy(state.restored, value, state.restored_len);
    }
    return SW_NO_ERROR;
}

static uint32_t put(const seam_command *cmd) {
    uint32_t n;
    if (cmd->nc < 1) {
        return SW_WRONG_LENGTH;
    }
    n = cmd->data[0];
    if (n > cmd->nc - 1) {
        return SW_WRONG_DATA;
    }
    return answer(seam_restore_put(cmd->data + 1, n, cmd->data + 1 + n, cmd->nc - 1 - n));
}

static uint32_t put_fill(const seam_command *cmd) {
    uint8_t value[FILL_MAX];
    uint32_t len = (uint32_t)cmd->p1 << 8 | cmd->p2;
    uint32_t n;
    if (cmd->nc < 2 || len > FILL_MAX) {
        return SW_WRONG_LENGTH;
    }
    n = cmd->data[0];
    if (n + 2 != cmd->nc) {
        return SW_WRONG_DATA;
    }
    memset(value, cmd->data[1 + n], len);
    return answer(seam_restore_put(cmd->data + 1, n, value, len));
}

static uint32_t get(const seam_command *cmd) {
    uint8_t value[GET_MAX];
    uint32_t cap = cmd->p1 < GET_MAX ? cmd->p1 : GET_MAX;
    int32_t r = seam_restore_get(cmd->data, cmd->nc, value, cap);
    answer(r);
    if (r > 0) {
        seam_apdu_send(value, (uint32_t)r < cap ? (uint32_t)r : cap);
    }
    return SW_NO_ERROR;
}

static uint32_t perso_fill(const seam_command *cmd) {
    uint8_t block[BLOCK_FILL];
    uint32_t len = (uint32_t)cmd->p1 << 8 | cmd->p2;
    if (cmd->nc != 1 || len > BLOCK_FILL) {
        return SW_WRONG_LENGTH;
    }
    memset(block, cmd->data[0], len);
    return answer(seam_restore_perso_add(0x90u, block, len));
}

static uint32_t status(void) {
    uint8_t out[4 * 4 + 2 + LAST_MAX + 4 + 4 + 1 + RESTORED_MAX];
    uint32_t n = 0;
    seam_put_u32(out + n, (uint32_t)state.install_add);
    n += 4;
    seam_put_u32(out + n, (uint32_t)state.install_get);
    n += 4;
    seam_put_u32(out + n, state.install_previous);
    n += 4;
    seam_put_u32(out + n, state.blocks);
    n += 4;
    out[n++] = state.last_p1;
    out[n++] = state.last_len;
    memcpy(out + n, state.last, LAST_MAX);
    n += LAST_MAX;
    seam_put_u32(out + n, (uint32_t)state.restore_get);
    n += 4;
    seam_put_u32(out + n, state.restore_previous);
    n += 4;
    out[n++] = state.restored_len;
    memcpy(out + n, state.restored, RESTORED_MAX);
    n += RESTORED_MAX;
    seam_apdu_send(out, n);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    seam_command_read(&cmd, command, sizeof command);
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    switch (cmd.ins) {
    case 0x10u:
        return put(&cmd);
    case 0x11u:
        return put_fill(&cmd);
    case 0x20u:
        return get(&cmd);
    case 0x30u:
        return answer(seam_restore_perso_add(cmd.p1, cmd.data, cmd.nc));
    case 0x31u:
        return perso_fill(&cmd);
    case 0x40u:
        return answer((int32_t)seam_upgrade_previous_version());
    case 0x50u:
        return status();
    default:
        return SW_INS_NOT_SUPPORTED;
    }
}
