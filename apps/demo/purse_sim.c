/*
 * purse_sim: a tiny electronic purse driven by in-memory command APDUs, built
 * for wasm32-wasi by scripts/demo.sh and run by `seam wasm run`.
 *
 * The purse is the applet half: process() takes one command APDU and returns
 * a status word, keeping its balance and PIN state in linear memory. main()
 * plays the terminal: it sends a fixed script (select, balance, an early
 * debit, a wrong and a right PIN, credit, debits, balance, an unknown
 * instruction) and prints each exchange. Output goes through write(2) with
 * a few hand-written formatters, so the module stays small.
 *
 * Commands (CLA 00 for ISO ones, 80 for the purse's own):
 *   00 A4 04 00 Lc AID    SELECT the purse
 *   00 20 00 01 04 PIN    VERIFY the 4-digit PIN (3 tries)
 *   80 30 00 00 04 AMT    CREDIT a big-endian amount
 *   80 40 00 00 04 AMT    DEBIT a big-endian amount (needs the PIN)
 *   80 50 00 00 04        GET BALANCE (4 bytes)
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define PURSE_MAX_BALANCE 100000u
#define PURSE_PIN_TRIES   3u

static const uint8_t purse_aid[] = {0xf0, 'S', 'E', 'A', 'M', 'P', '1'};
static const uint8_t purse_pin[] = {'1', '2', '3', '4'};

/* The applet's persistent state. */
static struct {
    uint32_t balance;
    uint8_t tries_left;
    uint8_t selected;
    uint8_t verified;
} purse = {0, PURSE_PIN_TRIES, 0, 0};

static uint32_t get_be32(const uint8_t *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

static uint16_t verify(const uint8_t *data, uint32_t lc) {
    if (purse.tries_left == 0)
        return 0x6983; /* authentication method blocked */
    if (lc == sizeof purse_pin && memcmp(data, purse_pin, lc) == 0) {
        purse.tries_left = PURSE_PIN_TRIES;
        purse.verified = 1;
        return 0x9000;
    }
    purse.tries_left--;
    purse.verified = 0;
    return (uint16_t)(0x63c0 | purse.tries_left); /* wrong PIN, tries left */
}

/* Processes one command APDU; writes response data to out (*out_len bytes) and returns the SW. */
static uint16_t process(const uint8_t *apdu, uint32_t len, uint8_t *out, uint32_t *out_len) {
    *out_len = 0;
    if (len < 4)
        return 0x6700;
    uint8_t cla = apdu[0], ins = apdu[1];
    uint32_t lc = len > 5 ? apdu[4] : 0;
    const uint8_t *data = apdu + 5;
    if (len > 5 && len != 5 + lc)
        return 0x6700;
    if (cla == 0x00 && ins == 0xa4) {
        purse.selected = lc == sizeof purse_aid && memcmp(data, purse_aid, lc) == 0;
        purse.verified = 0;
        return purse.selected ? 0x9000 : 0x6a82;
    }
    if (!purse.selected)
        return 0x6985;
    if (cla == 0x00 && ins == 0x20)
        return verify(data, lc);
    if (cla != 0x80)
        return 0x6e00;
    if (ins == 0x50) {
        for (int i = 0; i < 4; i++)
            out[i] = (uint8_t)(purse.balance >> (24 - 8 * i));
        *out_len = 4;
        return 0x9000;
    }
    if (ins != 0x30 && ins != 0x40)
        return 0x6d00;
    if (lc != 4)
        return 0x6700;
    uint32_t amount = get_be32(data);
    if (ins == 0x30) {
        if (amount > PURSE_MAX_BALANCE - purse.balance)
            return 0x6a84; /* would exceed the purse's limit */
        purse.balance += amount;
        return 0x9000;
    }
    if (!purse.verified)
        return 0x6982; /* security status not satisfied */
    if (amount > purse.balance)
        return 0x6985; /* conditions of use not satisfied: not enough money */
    purse.balance -= amount;
    return 0x9000;
}

/* ---- the terminal side ------------------------------------------------- */

static char line[256];
static uint32_t line_len;

static void put_str(const char *text) {
    while (*text && line_len < sizeof line)
        line[line_len++] = *text++;
}

static void put_hex(const uint8_t *bytes, uint32_t len) {
    static const char digits[] = "0123456789ABCDEF";
    for (uint32_t i = 0; i < len && line_len + 3 < sizeof line; i++) {
        line[line_len++] = digits[bytes[i] >> 4];
        line[line_len++] = digits[bytes[i] & 15];
        line[line_len++] = ' ';
    }
}

static void put_dec(uint32_t value) {
    char digits[10];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (count > 0 && line_len < sizeof line)
        line[line_len++] = digits[--count];
}

static void pad_to(uint32_t column) {
    while (line_len < column && line_len < sizeof line)
        line[line_len++] = ' ';
}

static void flush_line(void) {
    while (line_len > 0 && line[line_len - 1] == ' ')
        line_len--;
    put_str("\n");
    if (write(1, line, line_len) < 0)
        _exit(1);
    line_len = 0;
}

typedef struct {
    const char *what;
    uint8_t len;
    uint8_t apdu[16];
} step;

static const step script[] = {
    {"SELECT purse", 12, {0x00, 0xa4, 0x04, 0x00, 0x07, 0xf0, 'S', 'E', 'A', 'M', 'P', '1'}},
    {"GET BALANCE", 5, {0x80, 0x50, 0x00, 0x00, 0x04}},
    {"DEBIT 10 (no PIN yet)", 9, {0x80, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a}},
    {"VERIFY PIN 1111", 9, {0x00, 0x20, 0x00, 0x01, 0x04, '1', '1', '1', '1'}},
    {"VERIFY PIN 1234", 9, {0x00, 0x20, 0x00, 0x01, 0x04, '1', '2', '3', '4'}},
    {"CREDIT 500", 9, {0x80, 0x30, 0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0xf4}},
    {"DEBIT 120", 9, {0x80, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x78}},
    {"DEBIT 1000", 9, {0x80, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x03, 0xe8}},
    {"GET BALANCE", 5, {0x80, 0x50, 0x00, 0x00, 0x04}},
    {"unknown INS 99", 5, {0x80, 0x99, 0x00, 0x00, 0x00}},
};

int main(void) {
    uint8_t response[8];
    uint32_t response_len;
    for (uint32_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        uint16_t sw = process(script[i].apdu, script[i].len, response, &response_len);
        uint8_t sw_bytes[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
        put_str(script[i].what);
        pad_to(24);
        put_str("> ");
        put_hex(script[i].apdu, script[i].len);
        flush_line();
        pad_to(24);
        put_str("< ");
        put_hex(response, response_len);
        put_hex(sw_bytes, 2);
        if (response_len == 4) {
            put_str("  (balance ");
            put_dec(get_be32(response));
            put_str(")");
        }
        flush_line();
    }
    return purse.balance == 380 ? 0 : 1;
}
