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
 *
 * Personalization (entry point personalize; docs/applet-abi.md, "Personalization
 * and upgrade in the examples"): each STORE DATA block (80 E2 P1 P2 || data,
 * P1 and P2 ignored, at most 255 data bytes, else 6700) is a sequence of BER-TLV
 * (one- or two-byte tags, lengths in short form or 81 xx):
 *
 *   DF01  the PIN, 4..8 bytes
 *   DF02  the balance, 4 bytes big-endian
 *
 * A block may carry either, both or neither (a repeated tag: the last wins). The
 * whole block is checked first: an unknown tag, a bad length or malformed TLV
 * answers 6A80 and changes nothing. A valid block sets what it carries and
 * resets the PIN tries to 3. The card files STORE DATA blocks in the restore
 * module itself; install parameters are filed by install, on a fresh install
 * only, as one block (P1 90) DF01 n PIN [DF02 04 balance] through
 * seam_restore_perso_add (a refusal is ignored: the purse works, but that PIN
 * would not come back after an upgrade). So the PIN comes back after an upgrade
 * through the personalization replay, never through an application data entry.
 *
 * Upgrade (entry point save_for_upgrade) puts these entries in the restore
 * module (6A84 when the restore module refuses one; the upgrade is cancelled):
 *
 *   "balance"  4 bytes big-endian
 *   "counter"  4 bytes big-endian
 *   "tries"    1 byte, 0..3 (0: the PIN is blocked)
 *   "log"      the log, newest first, 13 bytes per entry exactly as READ LOG
 *              answers it; no entry (deleted) when the log is empty
 *
 * restore_after_upgrade (a re-install of version 1.x over 1.x) reads the same
 * entries back: an absent entry keeps the freshly installed and personalized
 * value, a bad length or value answers 6A80, a previous version of 2.0 or more
 * (a downgrade) or no upgrade at all answers 6985.
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

#define INS_STORE_DATA 0xE2u
#define TAG_PIN        0xDF01u
#define TAG_BALANCE    0xDF02u
#define PERSO_MAX      255u
#define PERSO_P1       0x90u /* STORE DATA P1: last block, BER-TLV */

#define SW_NOT_ENOUGH_MEMORY 0x6A84u

/* seam_restore_put / seam_restore_get with a string literal as the name. */
#define RESTORE_PUT(name, value, len) seam_restore_put(name, sizeof name - 1, value, len)
#define RESTORE_GET(name, buf, cap)   seam_restore_get(name, sizeof name - 1, buf, cap)

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
    if (sw == SW_NO_ERROR && len > 0 && seam_upgrade_previous_version() == 0) {
        /* File the install-parameter personalization as a STORE DATA block. */
        uint8_t block[2 + 1 + PIN_MAX + 2 + 1 + 4];
        uint32_t n = 0;
        block[n++] = 0xDF;
        block[n++] = 0x01;
        block[n++] = (uint8_t)purse.pin_len;
        memcpy(block + n, purse.pin, purse.pin_len);
        n += purse.pin_len;
        if (len == 5 + purse.pin_len) {
            block[n++] = 0xDF;
            block[n++] = 0x02;
            block[n++] = 4;
            seam_put_u32(block + n, purse.balance);
            n += 4;
        }
        (void)seam_restore_perso_add(PERSO_P1, block, n);
    }
    return sw;
}

SEAM_ENTRY(personalize) uint32_t personalize(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + PERSO_MAX];
    seam_command cmd;
    uint8_t pin[PIN_MAX];
    uint32_t pin_len = 0;
    uint32_t balance = 0;
    bool has_balance = false;
    uint32_t off = 0;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.ins != INS_STORE_DATA) {
        return SW_INS_NOT_SUPPORTED;
    }
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    while (off < cmd.nc) {
        uint32_t tag;
        const uint8_t *value;
        uint32_t value_len;
        if (!seam_ber_next(cmd.data, cmd.nc, &off, &tag, &value, &value_len)) {
            return SW_WRONG_DATA;
        }
        if (tag == TAG_PIN && value_len >= PIN_MIN && value_len <= PIN_MAX) {
            memcpy(pin, value, value_len);
            pin_len = value_len;
        } else if (tag == TAG_BALANCE && value_len == 4) {
            balance = seam_get_u32(value);
            has_balance = true;
        } else {
            return SW_WRONG_DATA;
        }
    }
    if (pin_len != 0) {
        memcpy(purse.pin, pin, pin_len);
        purse.pin_len = pin_len;
    }
    if (has_balance) {
        purse.balance = balance;
    }
    purse.tries = PIN_TRIES;
    return SW_NO_ERROR;
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

/* Writes the log, newest first, 13 bytes per entry (type || amount || balance
 * after || counter after) to out[0..LOG_ENTRIES * LOG_SIZE); returns the length. */
static uint32_t log_encode(uint8_t *out) {
    uint32_t len = 0;
    for (uint32_t i = 0; i < purse.log_count; i++) {
        const log_entry *entry = &purse.log[(purse.log_next + LOG_ENTRIES - 1 - i) % LOG_ENTRIES];
        out[len] = entry->type;
        seam_put_u32(out + len + 1, entry->amount);
        seam_put_u32(out + len + 5, entry->balance);
        seam_put_u32(out + len + 9, entry->counter);
        len += LOG_SIZE;
    }
    return len;
}

static uint32_t read_log(void) {
    uint8_t out[LOG_ENTRIES * LOG_SIZE];
    seam_apdu_send(out, log_encode(out));
    return SW_NO_ERROR;
}

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    uint8_t buf[LOG_ENTRIES * LOG_SIZE];
    uint8_t tries = (uint8_t)purse.tries;
    uint32_t sw = SW_NO_ERROR;
    seam_put_u32(buf, purse.balance);
    if (RESTORE_PUT("balance", buf, 4) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    seam_put_u32(buf, purse.counter);
    if (RESTORE_PUT("counter", buf, 4) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    if (RESTORE_PUT("tries", &tries, 1) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    if (RESTORE_PUT("log", buf, log_encode(buf)) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    return sw;
}

/* Reads entry name into buf[0..size): 1 when it is there with exactly `size`
 * bytes (or, with `multiple`, a multiple of it up to `size`: *len says how
 * many), 0 when absent, -1 for anything else. */
static int32_t restore_read(const char *name, uint32_t name_len, uint8_t *buf, uint32_t size,
                            uint32_t multiple, uint32_t *len) {
    int32_t r = seam_restore_get(name, name_len, buf, size);
    if (r == SEAM_RESTORE_ERR_ABSENT) {
        return 0;
    }
    if (r < 0 || (uint32_t)r > size) {
        return -1;
    }
    if (multiple == 0 ? (uint32_t)r != size : (uint32_t)r % multiple != 0) {
        return -1;
    }
    *len = (uint32_t)r;
    return 1;
}

#define RESTORE_READ(name, buf, size, multiple, len)                                               \
    restore_read(name, sizeof name - 1, buf, size, multiple, len)

SEAM_ENTRY(restore_after_upgrade) uint32_t restore_after_upgrade(void) {
    uint8_t balance[4];
    uint8_t counter[4];
    uint8_t tries = PIN_TRIES;
    uint8_t log[LOG_ENTRIES * LOG_SIZE];
    uint32_t len = 0;
    uint32_t log_len = 0;
    int32_t has_balance;
    int32_t has_counter;
    int32_t has_tries;
    int32_t has_log;
    uint32_t previous = seam_upgrade_previous_version();
    if (previous == 0 || previous >= 0x0200u) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    if (previous < 0x0100u) {
        return SW_WRONG_DATA;
    }
    has_balance = RESTORE_READ("balance", balance, 4, 0, &len);
    has_counter = RESTORE_READ("counter", counter, 4, 0, &len);
    has_tries = RESTORE_READ("tries", &tries, 1, 0, &len);
    has_log = RESTORE_READ("log", log, sizeof log, LOG_SIZE, &log_len);
    if (has_balance < 0 || has_counter < 0 || has_tries < 0 || has_log < 0 || tries > PIN_TRIES) {
        return SW_WRONG_DATA;
    }
    for (uint32_t i = 0; i < log_len; i += LOG_SIZE) {
        if (log[i] != LOG_CREDIT && log[i] != LOG_DEBIT) {
            return SW_WRONG_DATA;
        }
    }
    if (has_balance) {
        purse.balance = seam_get_u32(balance);
    }
    if (has_counter) {
        purse.counter = seam_get_u32(counter);
    }
    if (has_tries) {
        purse.tries = tries;
    }
    if (has_log) {
        /* Newest first in the entry: add the oldest first. */
        purse.log_next = 0;
        purse.log_count = 0;
        for (uint32_t i = log_len; i > 0; i -= LOG_SIZE) {
            const uint8_t *e = log + i - LOG_SIZE;
            log_entry *entry = &purse.log[purse.log_next];
            entry->type = e[0];
            entry->amount = seam_get_u32(e + 1);
            entry->balance = seam_get_u32(e + 5);
            entry->counter = seam_get_u32(e + 9);
            purse.log_next = (purse.log_next + 1) % LOG_ENTRIES;
            purse.log_count++;
        }
    }
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
