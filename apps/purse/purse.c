/*
 * purse: a PIN-protected electronic purse.
 *
 * Install parameters (all optional): PIN length n (4..8), n PIN bytes, then
 * the initial balance as 4 bytes big-endian. Without parameters the PIN is
 * "1234" (31 32 33 34) and the balance 0. Anything else fails with 6A80.
 *
 * Commands (any CLA; amounts are 4 bytes big-endian, unsigned):
 *
 *   INS 20 VERIFY    data = PIN. 9000 and the PIN is verified until the
 *                    purse is deselected; a wrong PIN answers 63Cx (x tries
 *                    left) and 3 wrong PINs in a row block it: 6983 from
 *                    then on. No data: 63Cx with the tries left (9000 when
 *                    already verified). More than 8 bytes: 6700.
 *   INS 30 CREDIT    data = amount. 6985 without a verified PIN, 6A80 when
 *                    the data is not 4 bytes or the balance would pass
 *                    FFFFFFFF.
 *   INS 40 DEBIT     data = amount. As CREDIT; 6985 as well when the amount
 *                    exceeds the balance.
 *   INS 50 BALANCE   answers balance || transaction counter (4 + 4 bytes).
 *   INS 60 READ LOG  answers the last 8 credits and debits, newest first,
 *                    13 bytes each: type (01 credit, 02 debit) || amount ||
 *                    balance after || transaction counter after.
 *   other INS        6D00
 *
 * The counter counts successful credits and debits. The purse state lives in
 * one global struct: it is the applet's persistent memory.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01));

#define INS_VERIFY   0x20u
#define INS_CREDIT   0x30u
#define INS_DEBIT    0x40u
#define INS_BALANCE  0x50u
#define INS_READ_LOG 0x60u

#define PIN_MIN     4u
#define PIN_MAX     8u
#define PIN_TRIES   3u
#define LOG_ENTRIES 8u
#define LOG_SIZE    13u

#define LOG_CREDIT 1u
#define LOG_DEBIT  2u

/* Offset of the "PIN verified" flag in the clear-on-deselect transient buffer. */
#define TRANSIENT_VERIFIED 0u

typedef struct {
    uint8_t type;
    uint32_t amount;
    uint32_t balance;
    uint32_t counter;
} log_entry;

static struct {
    uint8_t pin[PIN_MAX];
    uint32_t pin_len;
    uint32_t tries;
    uint32_t balance;
    uint32_t counter;
    uint32_t log_next; /* index of the slot the next entry goes to */
    uint32_t log_count;
    log_entry log[LOG_ENTRIES];
} purse;

static bool pin_verified(void) {
    uint8_t flag = 0;
    seam_transient_get(SEAM_TRANSIENT_DESELECT, TRANSIENT_VERIFIED, &flag, 1);
    return flag == 1;
}

static void set_pin_verified(bool verified) {
    uint8_t flag = verified ? 1 : 0;
    seam_transient_put(SEAM_TRANSIENT_DESELECT, TRANSIENT_VERIFIED, &flag, 1);
}

SEAM_ENTRY(install) uint32_t install(void) {
    uint8_t params[1 + PIN_MAX + 4];
    uint32_t len = seam_install_params(params, sizeof params);
    uint32_t sw = SW_NO_ERROR;
    purse.pin_len = 4;
    purse.pin[0] = '1';
    purse.pin[1] = '2';
    purse.pin[2] = '3';
    purse.pin[3] = '4';
    purse.balance = 0;
    if (len > 0) {
        uint32_t n = params[0];
        if (len > sizeof params || n < PIN_MIN || n > PIN_MAX || (len != 1 + n && len != 5 + n)) {
            sw = SW_WRONG_DATA;
        } else {
            memcpy(purse.pin, params + 1, n);
            purse.pin_len = n;
            if (len == 5 + n) {
                purse.balance = seam_get_u32(params + 1 + n);
            }
        }
    }
    purse.tries = PIN_TRIES;
    purse.counter = 0;
    purse.log_next = 0;
    purse.log_count = 0;
    return sw;
}

/* Compares without an early exit, so timing does not tell where a PIN differs. */
static bool pin_matches(const uint8_t *pin, uint32_t len) {
    uint32_t diff = len ^ purse.pin_len;
    for (uint32_t i = 0; i < PIN_MAX; i++) {
        uint8_t given = i < len ? pin[i] : 0;
        uint8_t stored = i < purse.pin_len ? purse.pin[i] : 0;
        diff |= (uint32_t)(given ^ stored);
    }
    return diff == 0;
}

static uint32_t verify(const seam_command *cmd) {
    uint32_t sw = SW_NO_ERROR;
    if (cmd->nc > PIN_MAX) {
        sw = SW_WRONG_LENGTH;
    } else if (purse.tries == 0) {
        sw = SW_AUTH_BLOCKED;
    } else if (cmd->nc == 0) {
        sw = pin_verified() ? SW_NO_ERROR : SW_VERIFY_FAILED(purse.tries);
    } else if (pin_matches(cmd->data, cmd->nc)) {
        purse.tries = PIN_TRIES;
        set_pin_verified(true);
    } else {
        purse.tries--;
        set_pin_verified(false);
        sw = SW_VERIFY_FAILED(purse.tries);
    }
    return sw;
}

static void log_add(uint8_t type, uint32_t amount) {
    log_entry *entry = &purse.log[purse.log_next];
    entry->type = type;
    entry->amount = amount;
    entry->balance = purse.balance;
    entry->counter = purse.counter;
    purse.log_next = (purse.log_next + 1) % LOG_ENTRIES;
    if (purse.log_count < LOG_ENTRIES) {
        purse.log_count++;
    }
}

static uint32_t transfer(const seam_command *cmd, bool credit) {
    uint32_t sw = SW_NO_ERROR;
    uint32_t amount = 0;
    if (!pin_verified()) {
        sw = SW_CONDITIONS_NOT_SATISFIED;
    } else if (cmd->nc != 4) {
        sw = SW_WRONG_DATA;
    } else {
        amount = seam_get_u32(cmd->data);
        if (credit && amount > 0xFFFFFFFFu - purse.balance) {
            sw = SW_WRONG_DATA;
        } else if (!credit && amount > purse.balance) {
            sw = SW_CONDITIONS_NOT_SATISFIED;
        } else {
            purse.balance = credit ? purse.balance + amount : purse.balance - amount;
            purse.counter++;
            log_add(credit ? LOG_CREDIT : LOG_DEBIT, amount);
        }
    }
    return sw;
}

static uint32_t balance(void) {
    uint8_t out[8];
    seam_put_u32(out, purse.balance);
    seam_put_u32(out + 4, purse.counter);
    seam_apdu_send(out, sizeof out);
    return SW_NO_ERROR;
}

static uint32_t read_log(void) {
    uint8_t out[LOG_ENTRIES * LOG_SIZE];
    uint32_t len = 0;
    for (uint32_t i = 0; i < purse.log_count; i++) {
        const log_entry *entry = &purse.log[(purse.log_next + LOG_ENTRIES - 1 - i) % LOG_ENTRIES];
        out[len] = entry->type;
        seam_put_u32(out + len + 1, entry->amount);
        seam_put_u32(out + len + 5, entry->balance);
        seam_put_u32(out + len + 9, entry->counter);
        len += LOG_SIZE;
    }
    seam_apdu_send(out, len);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 16];
    seam_command cmd;
    uint32_t sw;
    seam_command_read(&cmd, command, sizeof command);
    if (!cmd.complete) {
        return cmd.ins == INS_VERIFY ? SW_WRONG_LENGTH : SW_WRONG_DATA;
    }
    switch (cmd.ins) {
    case INS_VERIFY:
        sw = verify(&cmd);
        break;
    case INS_CREDIT:
        sw = transfer(&cmd, true);
        break;
    case INS_DEBIT:
        sw = transfer(&cmd, false);
        break;
    case INS_BALANCE:
        sw = balance();
        break;
    case INS_READ_LOG:
        sw = read_log();
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}
