/*
 * coremix: a CoreMark-style mix of the kinds of work an embedded CPU does,
 * written for seam (not derived from EEMBC's code). Each iteration:
 *   - list: a linked list of records held by index is searched, reversed and
 *     merge-sorted by two different keys;
 *   - matrix: 16-bit matrices get a constant added, are multiplied by a
 *     vector and by each other, and bit fields of the products are summed;
 *   - state machine: a text of comma-separated tokens (integers, hex, decimal
 *     fractions, exponents, junk) is classified character by character after
 *     a few characters were corrupted;
 *   - every result is folded into a bitwise CRC-16 (CCITT polynomial 0x1021).
 */
#include <stdbool.h>
#include <string.h>

#include "bench.h"

#define MIX_LIST_SIZE 200u
#define MIX_MATRIX_N  20u
#define MIX_TEXT_SIZE 1600u
#define MIX_NIL       0xffffu

/* ---- CRC-16 ----------------------------------------------------------- */

static uint16_t crc16_byte(uint16_t crc, uint8_t byte) {
    crc ^= (uint16_t)(byte << 8);
    for (int bit = 0; bit < 8; bit++)
        crc = crc & 0x8000u ? (uint16_t)(crc << 1 ^ 0x1021u) : (uint16_t)(crc << 1);
    return crc;
}

static uint16_t crc16_word(uint16_t crc, uint32_t word) {
    for (int i = 0; i < 4; i++)
        crc = crc16_byte(crc, (uint8_t)(word >> (8 * i)));
    return crc;
}

/* ---- list ------------------------------------------------------------- */

typedef struct {
    uint16_t key, payload, next;
} record;

static record records[MIX_LIST_SIZE];

static uint16_t list_build(uint32_t *state) {
    for (uint32_t i = 0; i < MIX_LIST_SIZE; i++) {
        records[i].key = (uint16_t)(bench_next(state) % 1000u);
        records[i].payload = (uint16_t)bench_next(state);
        records[i].next = i + 1 < MIX_LIST_SIZE ? (uint16_t)(i + 1) : MIX_NIL;
    }
    return 0;
}

static uint16_t list_find(uint16_t head, uint16_t key) {
    while (head != MIX_NIL && records[head].key != key)
        head = records[head].next;
    return head;
}

static uint16_t list_reverse(uint16_t head) {
    uint16_t reversed = MIX_NIL;
    while (head != MIX_NIL) {
        uint16_t next = records[head].next;
        records[head].next = reversed;
        reversed = head;
        head = next;
    }
    return reversed;
}

static bool before(uint16_t x, uint16_t y, bool by_payload) {
    if (by_payload)
        return records[x].payload <= records[y].payload;
    return records[x].key <= records[y].key;
}

/* Bottom-up merge sort of the list starting at head; stable. */
static uint16_t list_sort(uint16_t head, bool by_payload) {
    for (uint32_t width = 1;; width *= 2) {
        uint16_t rest = head, tail = MIX_NIL;
        uint32_t merges = 0;
        head = MIX_NIL;
        while (rest != MIX_NIL) {
            uint16_t left = rest, right = rest;
            uint32_t left_len = 0, right_len = width;
            merges++;
            while (left_len < width && right != MIX_NIL) {
                left_len++;
                right = records[right].next;
            }
            while (left_len > 0 || (right_len > 0 && right != MIX_NIL)) {
                uint16_t taken;
                if (left_len == 0 ||
                    (right_len > 0 && right != MIX_NIL && !before(left, right, by_payload))) {
                    taken = right;
                    right = records[right].next;
                    right_len--;
                } else {
                    taken = left;
                    left = records[left].next;
                    left_len--;
                }
                if (tail == MIX_NIL)
                    head = taken;
                else
                    records[tail].next = taken;
                tail = taken;
            }
            rest = right;
        }
        records[tail].next = MIX_NIL;
        if (merges <= 1)
            break;
    }
    return head;
}

static uint16_t list_work(uint16_t *head, uint16_t crc, uint32_t round) {
    for (uint32_t probe = 0; probe < 8; probe++) {
        uint16_t found = list_find(*head, (uint16_t)((round * 37u + probe * 101u) % 1000u));
        crc = crc16_word(crc, found == MIX_NIL ? 0xdeadu : records[found].payload);
    }
    *head = list_reverse(*head);
    *head = list_sort(*head, true);
    crc = crc16_word(crc, records[*head].payload);
    records[*head].payload ^= (uint16_t)round;
    *head = list_sort(*head, false);
    for (uint16_t at = *head, i = 0; at != MIX_NIL && i < 4; at = records[at].next, i++)
        crc = crc16_word(crc, (uint32_t)records[at].key << 16 | records[at].payload);
    return crc;
}

/* ---- matrix ------------------------------------------------------------ */

static int16_t ma[MIX_MATRIX_N][MIX_MATRIX_N], mb[MIX_MATRIX_N][MIX_MATRIX_N];
static int32_t mc[MIX_MATRIX_N][MIX_MATRIX_N];

static void matrix_build(uint32_t *state) {
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++) {
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++) {
            ma[i][j] = (int16_t)(bench_next(state) % 256u) - 128;
            mb[i][j] = (int16_t)(bench_next(state) % 64u) - 32;
        }
    }
}

/* Sums a 4-bit field of each product, so overflowing sums do not occur. */
static uint32_t bit_field_sum(uint32_t shift) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++)
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++)
            sum += ((uint32_t)mc[i][j] >> shift) & 0xfu;
    return sum;
}

static uint16_t matrix_work(uint16_t crc, uint32_t round) {
    int16_t bias = (int16_t)(round % 7u) - 3;
    int32_t vector[MIX_MATRIX_N];
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++)
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++)
            ma[i][j] = (int16_t)(ma[i][j] + bias);
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++) {
        int32_t sum = 0;
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++)
            sum += ma[i][j] * mb[j][i];
        vector[i] = sum;
    }
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++) {
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++) {
            int32_t sum = 0;
            for (uint32_t k = 0; k < MIX_MATRIX_N; k++)
                sum += ma[i][k] * mb[k][j];
            mc[i][j] = sum;
        }
    }
    crc = crc16_word(crc, bit_field_sum(round % 8u));
    crc = crc16_word(crc, (uint32_t)vector[round % MIX_MATRIX_N]);
    for (uint32_t i = 0; i < MIX_MATRIX_N; i++)
        for (uint32_t j = 0; j < MIX_MATRIX_N; j++)
            ma[i][j] = (int16_t)(ma[i][j] - bias);
    return crc;
}

/* ---- state machine ------------------------------------------------------ */

enum {
    TOKEN_START,
    TOKEN_SIGN,
    TOKEN_INT,
    TOKEN_HEX_X,
    TOKEN_HEX,
    TOKEN_FRACTION,
    TOKEN_EXP,
    TOKEN_EXP_SIGN,
    TOKEN_EXP_DIGITS,
    TOKEN_JUNK,
    TOKEN_KINDS
};

static char text[MIX_TEXT_SIZE + 1];

static void text_build(uint32_t *state) {
    static const char *const samples[] = {"42",   "-17",  "+3",     "0x1F",  "0xbeef", "3.25",
                                          "-0.5", "6e10", "1.5E-3", "+2e+2", "12a",    "--1",
                                          "0x",   ".",    "7.",     "9e",    "abc",    "0"};
    uint32_t at = 0;
    while (at < MIX_TEXT_SIZE - 8) {
        const char *sample = samples[bench_next(state) % (sizeof samples / sizeof samples[0])];
        size_t len = strlen(sample);
        if (at + len + 1 > MIX_TEXT_SIZE)
            break;
        memcpy(text + at, sample, len);
        at += (uint32_t)len;
        text[at++] = ',';
    }
    text[at] = '\0';
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The state after c inside the integer part of a number. */
static int integer_step(char c) {
    if (is_digit(c))
        return TOKEN_INT;
    return c == '.' ? TOKEN_FRACTION : c == 'e' || c == 'E' ? TOKEN_EXP : TOKEN_JUNK;
}

/* The next state after c; TOKEN_JUNK absorbs everything up to the comma. */
static int token_step(int state, char c) {
    switch (state) {
    case TOKEN_START:
        if (c == '+' || c == '-')
            return TOKEN_SIGN;
        return c == '0'      ? TOKEN_HEX_X
               : is_digit(c) ? TOKEN_INT
               : c == '.'    ? TOKEN_FRACTION
                             : TOKEN_JUNK;
    case TOKEN_SIGN:
        return is_digit(c) ? TOKEN_INT : c == '.' ? TOKEN_FRACTION : TOKEN_JUNK;
    case TOKEN_HEX_X: /* after a leading 0: hex, or an ordinary integer */
        return c == 'x' || c == 'X' ? TOKEN_HEX : integer_step(c);
    case TOKEN_INT:
        return integer_step(c);
    case TOKEN_HEX:
        return is_hex(c) ? TOKEN_HEX : TOKEN_JUNK;
    case TOKEN_FRACTION:
        return is_digit(c) ? TOKEN_FRACTION : c == 'e' || c == 'E' ? TOKEN_EXP : TOKEN_JUNK;
    case TOKEN_EXP:
        return c == '+' || c == '-' ? TOKEN_EXP_SIGN : is_digit(c) ? TOKEN_EXP_DIGITS : TOKEN_JUNK;
    case TOKEN_EXP_SIGN:
    case TOKEN_EXP_DIGITS:
        return is_digit(c) ? TOKEN_EXP_DIGITS : TOKEN_JUNK;
    default:
        return TOKEN_JUNK;
    }
}

static uint16_t scan_work(uint16_t crc, uint32_t round, uint32_t *state) {
    uint32_t counts[TOKEN_KINDS] = {0};
    uint32_t spots[4];
    char saved[4];
    for (int i = 0; i < 4; i++) {
        spots[i] = bench_next(state) % MIX_TEXT_SIZE;
        saved[i] = text[spots[i]];
        if (saved[i] != '\0' && saved[i] != ',')
            text[spots[i]] = (char)('0' + round % 10u);
    }
    int kind = TOKEN_START;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == ',') {
            counts[kind]++;
            kind = TOKEN_START;
        } else {
            kind = token_step(kind, *c);
        }
    }
    for (int i = 3; i >= 0; i--)
        text[spots[i]] = saved[i];
    for (int k = 0; k < TOKEN_KINDS; k++)
        crc = crc16_word(crc, counts[k]);
    return crc;
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 6500);
    uint32_t state = 0x6b8b4567u;
    uint16_t crc = 0xffff, head = list_build(&state);
    matrix_build(&state);
    text_build(&state);
    for (uint32_t r = 0; r < rounds; r++) {
        crc = list_work(&head, crc, r);
        crc = matrix_work(crc, r);
        crc = scan_work(crc, r, &state);
    }
    bench_report("coremix", crc);
    return 0;
}
