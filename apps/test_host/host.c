/*
 * test_host: an applet for the runtime's tests, not for cards. It keeps a
 * counter in persistent memory and exercises traps and host functions.
 *
 *   INS 01  counter++, answers the counter (4 bytes)
 *   INS 02  counter++, then traps (unreachable)
 *   INS 03  counter++, then loops forever (runs out of fuel)
 *   INS 04  apdu_send from an address past the end of memory (host trap)
 *   INS 05  sha256 writing its digest past the end of memory (host trap)
 *   INS 06  transient_put past the end of the buffer (host trap)
 *   INS 10  answers SHA-256(data)
 *   INS 11  answers HMAC-SHA256 under key 00..1F of data
 *   INS 12  AES-128 key 00..0F, data: P1 = mode (SEAM_AES_*), IV = 00..; -1 gives 6A80
 *   INS 13  P-256: generates a key, signs SHA-256(data), verifies; answers
 *           pub || sig || verify result (1 byte) || verify of a flipped digest
 *   INS 14  answers P1 random bytes
 *   INS 15  transient P1 (kind): P2 = 0 reads 4 bytes at 0, P2 = 1 writes data at 0
 *   INS 16  linear memory at 0x400, inside the shadow stack (scratch): P2 = 0 reads 4
 *           bytes there, P2 = 1 writes the data there
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x48), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x48, 0x01));

static uint32_t counter;
static volatile uint32_t spin;

static const uint8_t key[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

SEAM_ENTRY(select) uint32_t select(void) {
    return SW_NO_ERROR;
}

SEAM_ENTRY(deselect) void deselect(void) {}

static uint32_t crypto(const seam_command *cmd) {
    uint8_t out[SEAM_P256_PUBLIC_SIZE + SEAM_P256_SIG_SIZE + 2];
    uint8_t digest[SEAM_SHA256_SIZE];
    uint8_t priv[SEAM_P256_PRIVATE_SIZE];
    uint8_t iv[16] = {0};
    uint32_t sw = SW_NO_ERROR;
    switch (cmd->ins) {
    case 0x10:
        seam_sha256(cmd->data, cmd->nc, out);
        seam_apdu_send(out, SEAM_SHA256_SIZE);
        break;
    case 0x11:
        seam_hmac_sha256(key, sizeof key, cmd->data, cmd->nc, out);
        seam_apdu_send(out, SEAM_SHA256_SIZE);
        break;
    case 0x12:
        if (cmd->nc > sizeof out || seam_aes(cmd->p1, key, 16, iv, cmd->data, cmd->nc, out) != 0) {
            sw = SW_WRONG_DATA;
        } else {
            seam_apdu_send(out, cmd->nc);
        }
        break;
    case 0x13:
        seam_p256_generate(priv, out);
        seam_sha256(cmd->data, cmd->nc, digest);
        if (seam_p256_sign(priv, digest, out + SEAM_P256_PUBLIC_SIZE) != 0) {
            sw = SW_UNKNOWN;
            break;
        }
        out[SEAM_P256_PUBLIC_SIZE + SEAM_P256_SIG_SIZE] =
            (uint8_t)seam_p256_verify(out, digest, out + SEAM_P256_PUBLIC_SIZE);
        digest[0] ^= 1;
        out[SEAM_P256_PUBLIC_SIZE + SEAM_P256_SIG_SIZE + 1] =
            (uint8_t)seam_p256_verify(out, digest, out + SEAM_P256_PUBLIC_SIZE);
        seam_apdu_send(out, sizeof out);
        break;
    case 0x14:
        seam_random(out, cmd->p1 < sizeof out ? cmd->p1 : sizeof out);
        seam_apdu_send(out, cmd->p1 < sizeof out ? cmd->p1 : sizeof out);
        break;
    default:
        if (cmd->p2 == 1) {
            seam_transient_put(cmd->p1, 0, cmd->data, cmd->nc);
        } else {
            seam_transient_get(cmd->p1, 0, out, 4);
            seam_apdu_send(out, 4);
        }
        break;
    }
    return sw;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    uint8_t out[4];
    seam_command cmd;
    uint32_t sw = SW_NO_ERROR;
    seam_command_read(&cmd, command, sizeof command);
    switch (cmd.ins) {
    case 0x01:
        counter++;
        seam_put_u32(out, counter);
        seam_apdu_send(out, sizeof out);
        break;
    case 0x02:
        counter++;
        __builtin_trap();
    case 0x03:
        counter++;
        for (;;) {
            spin++;
        }
    case 0x04:
        seam_apdu_send((const void *)0xFFFFFFF0u, 32);
        break;
    case 0x05:
        seam_sha256(cmd.data, cmd.nc, (void *)0xFFFFFFF0u);
        break;
    case 0x06:
        seam_transient_put(SEAM_TRANSIENT_RESET, SEAM_TRANSIENT_SIZE - 2, cmd.data, 4);
        break;
    case 0x16: {
        volatile uint8_t *scratch = (volatile uint8_t *)0x400;
        for (uint32_t i = 0; i < 4; i++) {
            if (cmd.p2 == 1) {
                scratch[i] = i < cmd.nc ? cmd.data[i] : 0;
            } else {
                out[i] = scratch[i];
            }
        }
        if (cmd.p2 != 1) {
            seam_apdu_send(out, sizeof out);
        }
        break;
    }
    case 0x10:
    case 0x11:
    case 0x12:
    case 0x13:
    case 0x14:
    case 0x15:
        sw = crypto(&cmd);
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}
