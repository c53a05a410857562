/*
 * purse_v2: version 2.0 of the PIN-protected electronic purse (apps/purse),
 * same package AID and applet class AID, to be installed over it as an
 * upgrade. Everything purse 1.0 does works with the same APDUs and answers;
 * new in 2.0 are a per-debit limit (INS 70/71), a 16-entry log (INS 60 P1 01)
 * and a different memory layout: 64-bit balance and counter, fields
 * reordered, log entries with 64-bit fields, the log indexed by its newest slot.
 *
 * Install parameters (all optional): PIN length n (4..8), n PIN bytes, then
 * the initial balance as 4 bytes big-endian. Without parameters the PIN is
 * "1234" (31 32 33 34) and the balance 0. Anything else fails with 6A80.
 *
 * Commands (any CLA; amounts are 4 bytes big-endian, unsigned):
 *
 *   INS 20 VERIFY     data = PIN. 9000 and the PIN is verified until the
 *                     purse is deselected; a wrong PIN answers 63Cx (x tries
 *                     left) and 3 wrong PINs in a row block it: 6983 from
 *                     then on. No data: 63Cx with the tries left (9000 when
 *                     already verified). More than 8 bytes: 6700.
 *   INS 30 CREDIT     data = amount. 6985 without a verified PIN, 6A80 when
 *                     the data is not 4 bytes or the balance would pass
 *                     FFFFFFFF (the range of 1.0's APDUs is kept).
 *   INS 40 DEBIT      data = amount. As CREDIT; 6985 as well when the amount
 *                     exceeds the balance or the debit limit (INS 70).
 *   INS 50 BALANCE    answers balance || transaction counter (4 + 4 bytes;
 *                     the counter's low 32 bits).
 *   INS 60 READ LOG   P1 other than 01 (as in 1.0): the last 8 credits and
 *                     debits, newest first, 13 bytes each: type (01 credit,
 *                     02 debit) || amount || balance after || counter after
 *                     (4 bytes each). P1 01: the last 16, newest first, 21
 *                     bytes each: type || amount (4) || balance after (8) ||
 *                     counter after (8).
 *   INS 70 SET LIMIT  data = the largest amount one DEBIT may take (4 bytes;
 *                     0: no limit, the initial state). 6985 without a
 *                     verified PIN, 6A80 when the data is not 4 bytes.
 *   INS 71 GET LIMIT  answers the limit (4 bytes).
 *   other INS         6D00
 *
 * Personalization (entry point personalize), as in 1.0: each STORE DATA block
 * (80 E2 P1 P2 || data, P1 and P2 ignored, at most 255 data bytes, else 6700)
 * is a sequence of BER-TLV (one- or two-byte tags, lengths in short form or
 * 81 xx): DF01 the PIN (4..8 bytes), DF02 the balance (4 bytes big-endian).
 * The whole block is checked first: an unknown tag, a bad length or malformed
 * TLV answers 6A80 and changes nothing; a valid block sets what it carries
 * and resets the PIN tries to 3. Install parameters are filed as one block
 * (P1 90) DF01 n PIN [DF02 04 balance] with seam_restore_perso_add on a fresh
 * install only (a refusal is ignored).
 *
 * save_for_upgrade puts the 2.0 entries (6A84 when the restore module refuses
 * one; the upgrade is cancelled):
 *
 *   "version"  2 bytes: 02 00
 *   "balance"  8 bytes big-endian
 *   "counter"  8 bytes big-endian
 *   "tries"    1 byte, 0..3 (0: the PIN is blocked)
 *   "limit"    4 bytes big-endian, 0 for no limit
 *   "log"      newest first, 21 bytes per entry as READ LOG P1 01 answers
 *              it; no entry (deleted) when the log is empty
 *
 * restore_after_upgrade, after install and the personalization replay, by
 * seam_upgrade_previous_version():
 *
 *   1.x  reads 1.0's entries: "balance" (4), "counter" (4), "tries" (1) and
 *        "log" (up to 8 entries of 13 bytes, newest first), widening balances
 *        and counters to 64 bits; the limit stays 0.
 *   2.0  (a re-install) reads the 2.0 entries above; a "version" entry other
 *        than 02 00 is 6A80.
 *   above 2.0 (a downgrade) or 0 (no upgrade): 6985. Below 1.0: 6A80.
 *
 * Each entry is optional: an absent one keeps the freshly installed and
 * personalized value (so an upgrade with no saved data keeps the
 * personalized state). A bad length, a balance above FFFFFFFF, tries above 3
 * or a log entry with a type other than 01/02 answers 6A80, and the old
 * instance stays in place. All entries are checked before anything is set.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55), 2, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01));

#define INS_VERIFY     0x20u
#define INS_CREDIT     0x30u
#define INS_DEBIT      0x40u
#define INS_BALANCE    0x50u
#define INS_READ_LOG   0x60u
#define INS_SET_LIMIT  0x70u
#define INS_GET_LIMIT  0x71u
#define INS_STORE_DATA 0xE2u

#define PIN_MIN     4u
#define PIN_MAX     8u
#define PIN_TRIES   3u
#define LOG_ENTRIES 16u
#define LOG_SIZE    21u /* READ LOG P1 01 and the "log" entry */
#define V1_LOG_MAX  8u  /* READ LOG in 1.0's format and 1.0's "log" entry */
#define V1_LOG_SIZE 13u

#define LOG_CREDIT 1u
#define LOG_DEBIT  2u

#define TAG_PIN     0xDF01u
#define TAG_BALANCE 0xDF02u
#define PERSO_MAX   255u
#define PERSO_P1    0x90u /* STORE DATA P1: last block, BER-TLV */

#define VERSION_1_0 0x0100u
#define VERSION_2_0 0x0200u

#define BALANCE_MAX 0xFFFFFFFFu

#define SW_NOT_ENOUGH_MEMORY 0x6A84u

/* Offset of the "PIN verified" flag in the clear-on-deselect transient buffer. */
#define TRANSIENT_VERIFIED 0u

/* seam_restore_put with a string literal as the name. */
#define RESTORE_PUT(name, value, len) seam_restore_put(name, sizeof name - 1, value, len)

typedef struct {
    uint64_t counter; /* after the transaction */
    uint64_t balance; /* after the transaction */
    uint32_t amount;
    uint8_t type;
} log_entry;

static struct {
    uint64_t counter;
    uint64_t balance;
    uint32_t limit; /* largest debit, 0 for none */
    uint8_t tries;
    uint8_t pin_len;
    uint8_t pin[PIN_MAX];
    uint8_t log_count;
    uint8_t log_newest; /* slot of the newest entry (when log_count > 0) */
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

static uint64_t get_u64(const uint8_t *p) {
    return ((uint64_t)seam_get_u32(p) << 32) | seam_get_u32(p + 4);
}

static void put_u64(uint8_t *p, uint64_t v) {
    seam_put_u32(p, (uint32_t)(v >> 32));
    seam_put_u32(p + 4, (uint32_t)v);
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
            purse.pin_len = (uint8_t)n;
            if (len == 5 + n) {
                purse.balance = seam_get_u32(params + 1 + n);
            }
        }
    }
    purse.tries = PIN_TRIES;
    purse.counter = 0;
    purse.limit = 0;
    purse.log_newest = 0;
    purse.log_count = 0;
    if (sw == SW_NO_ERROR && len > 0 && seam_upgrade_previous_version() == 0) {
        /* File the install-parameter personalization as a STORE DATA block. */
        uint8_t block[2 + 1 + PIN_MAX + 2 + 1 + 4];
        uint32_t n = 0;
        block[n++] = 0xDF;
        block[n++] = 0x01;
        block[n++] = purse.pin_len;
        memcpy(block + n, purse.pin, purse.pin_len);
        n += purse.pin_len;
        if (len == 5u + purse.pin_len) {
            block[n++] = 0xDF;
            block[n++] = 0x02;
            block[n++] = 4;
            seam_put_u32(block + n, (uint32_t)purse.balance);
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
        purse.pin_len = (uint8_t)pin_len;
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

/* Appends an entry after the newest (oldest entries are overwritten). */
static void log_add(uint8_t type, uint32_t amount, uint64_t balance, uint64_t counter) {
    log_entry *entry;
    if (purse.log_count > 0) {
        purse.log_newest = (uint8_t)((purse.log_newest + 1) % LOG_ENTRIES);
    }
    entry = &purse.log[purse.log_newest];
    entry->type = type;
    entry->amount = amount;
    entry->balance = balance;
    entry->counter = counter;
    if (purse.log_count < LOG_ENTRIES) {
        purse.log_count++;
    }
}

/* The i-th newest log entry (0: the newest), i < log_count. */
static const log_entry *log_get(uint32_t i) {
    return &purse.log[(purse.log_newest + LOG_ENTRIES - i) % LOG_ENTRIES];
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
        if (credit && amount > BALANCE_MAX - purse.balance) {
            sw = SW_WRONG_DATA;
        } else if (!credit &&
                   (amount > purse.balance || (purse.limit != 0 && amount > purse.limit))) {
            sw = SW_CONDITIONS_NOT_SATISFIED;
        } else {
            purse.balance = credit ? purse.balance + amount : purse.balance - amount;
            purse.counter++;
            log_add(credit ? LOG_CREDIT : LOG_DEBIT, amount, purse.balance, purse.counter);
        }
    }
    return sw;
}

static uint32_t set_limit(const seam_command *cmd) {
    uint32_t sw = SW_NO_ERROR;
    if (!pin_verified()) {
        sw = SW_CONDITIONS_NOT_SATISFIED;
    } else if (cmd->nc != 4) {
        sw = SW_WRONG_DATA;
    } else {
        purse.limit = seam_get_u32(cmd->data);
    }
    return sw;
}

static uint32_t get_limit(void) {
    uint8_t out[4];
    seam_put_u32(out, purse.limit);
    seam_apdu_send(out, sizeof out);
    return SW_NO_ERROR;
}

static uint32_t balance(void) {
    uint8_t out[8];
    seam_put_u32(out, (uint32_t)purse.balance);
    seam_put_u32(out + 4, (uint32_t)purse.counter);
    seam_apdu_send(out, sizeof out);
    return SW_NO_ERROR;
}

/* Writes the log, newest first, 21 bytes per entry (type || amount || balance
 * after (8) || counter after (8)) to out[0..LOG_ENTRIES * LOG_SIZE); returns
 * the length. */
static uint32_t log_encode(uint8_t *out) {
    uint32_t len = 0;
    for (uint32_t i = 0; i < purse.log_count; i++) {
        const log_entry *entry = log_get(i);
        out[len] = entry->type;
        seam_put_u32(out + len + 1, entry->amount);
        put_u64(out + len + 5, entry->balance);
        put_u64(out + len + 13, entry->counter);
        len += LOG_SIZE;
    }
    return len;
}

static uint32_t read_log(const seam_command *cmd) {
    uint8_t out[LOG_ENTRIES * LOG_SIZE];
    uint32_t len = 0;
    if (cmd->p1 == 0x01u) {
        len = log_encode(out);
    } else {
        /* 1.0's format: 8 entries, 4-byte fields. */
        for (uint32_t i = 0; i < purse.log_count && i < V1_LOG_MAX; i++) {
            const log_entry *entry = log_get(i);
            out[len] = entry->type;
            seam_put_u32(out + len + 1, entry->amount);
            seam_put_u32(out + len + 5, (uint32_t)entry->balance);
            seam_put_u32(out + len + 9, (uint32_t)entry->counter);
            len += V1_LOG_SIZE;
        }
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
        sw = read_log(&cmd);
        break;
    case INS_SET_LIMIT:
        sw = set_limit(&cmd);
        break;
    case INS_GET_LIMIT:
        sw = get_limit();
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    uint8_t buf[LOG_ENTRIES * LOG_SIZE];
    uint8_t tries = purse.tries;
    uint32_t sw = SW_NO_ERROR;
    seam_put_u16(buf, VERSION_2_0);
    if (RESTORE_PUT("version", buf, 2) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    put_u64(buf, purse.balance);
    if (RESTORE_PUT("balance", buf, 8) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    put_u64(buf, purse.counter);
    if (RESTORE_PUT("counter", buf, 8) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    if (RESTORE_PUT("tries", &tries, 1) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    seam_put_u32(buf, purse.limit);
    if (RESTORE_PUT("limit", buf, 4) != 0) {
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
    uint8_t version[2];
    uint8_t balance[8];
    uint8_t counter[8];
    uint8_t limit[4] = {0, 0, 0, 0};
    uint8_t tries = PIN_TRIES;
    uint8_t log[LOG_ENTRIES * LOG_SIZE];
    uint32_t len = 0;
    uint32_t log_len = 0;
    uint32_t log_size;
    uint32_t num_size; /* bytes of "balance" and "counter" */
    int32_t has_balance;
    int32_t has_counter;
    int32_t has_tries;
    int32_t has_limit = 0;
    int32_t has_log;
    uint64_t new_balance = 0;
    uint64_t new_counter = 0;
    uint32_t previous = seam_upgrade_previous_version();
    if (previous == 0 || previous > VERSION_2_0) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    if (previous < VERSION_1_0) {
        return SW_WRONG_DATA;
    }
    if (previous == VERSION_2_0) {
        int32_t has_version = RESTORE_READ("version", version, 2, 0, &len);
        if (has_version < 0 || (has_version > 0 && seam_get_u16(version) != VERSION_2_0)) {
            return SW_WRONG_DATA;
        }
        num_size = 8;
        log_size = LOG_SIZE;
        has_limit = RESTORE_READ("limit", limit, 4, 0, &len);
        has_log = RESTORE_READ("log", log, LOG_ENTRIES * LOG_SIZE, LOG_SIZE, &log_len);
    } else {
        num_size = 4;
        log_size = V1_LOG_SIZE;
        has_log = RESTORE_READ("log", log, V1_LOG_MAX * V1_LOG_SIZE, V1_LOG_SIZE, &log_len);
    }
    has_balance = RESTORE_READ("balance", balance, num_size, 0, &len);
    has_counter = RESTORE_READ("counter", counter, num_size, 0, &len);
    has_tries = RESTORE_READ("tries", &tries, 1, 0, &len);
    if (has_balance < 0 || has_counter < 0 || has_tries < 0 || has_limit < 0 || has_log < 0 ||
        tries > PIN_TRIES) {
        return SW_WRONG_DATA;
    }
    if (has_balance) {
        new_balance = num_size == 8 ? get_u64(balance) : seam_get_u32(balance);
        if (new_balance > BALANCE_MAX) {
            return SW_WRONG_DATA;
        }
    }
    if (has_counter) {
        new_counter = num_size == 8 ? get_u64(counter) : seam_get_u32(counter);
    }
    for (uint32_t i = 0; i < log_len; i += log_size) {
        if (log[i] != LOG_CREDIT && log[i] != LOG_DEBIT) {
            return SW_WRONG_DATA;
        }
    }
    /* Everything checked: set it. */
    if (has_balance) {
        purse.balance = new_balance;
    }
    if (has_counter) {
        purse.counter = new_counter;
    }
    if (has_tries) {
        purse.tries = tries;
    }
    if (has_limit) {
        purse.limit = seam_get_u32(limit);
    }
    if (has_log) {
        /* Newest first in the entry: add the oldest first. */
        purse.log_count = 0;
        purse.log_newest = 0;
        for (uint32_t i = log_len; i > 0; i -= log_size) {
            const uint8_t *e = log + i - log_size;
            if (log_size == LOG_SIZE) {
                log_add(e[0], seam_get_u32(e + 1), get_u64(e + 5), get_u64(e + 13));
            } else {
                log_add(e[0], seam_get_u32(e + 1), seam_get_u32(e + 5), seam_get_u32(e + 9));
            }
        }
    }
    return SW_NO_ERROR;
}
