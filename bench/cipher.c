/*
 * cipher: an AES-like byte-oriented block cipher (not AES: the key schedule
 * and round count are our own). The S-box is computed at start-up from
 * inverses in GF(2^8) followed by an affine map; each of the 10 rounds does
 * S-box substitution, a row rotation, column mixing with xtime, and a round
 * key. Blocks are chained (CBC-style) so nothing can be skipped.
 */
#include <string.h>

#include "bench.h"

#define CIPHER_ROUNDS 10
#define CIPHER_BLOCKS 4096u

static uint8_t sbox[256];
static uint8_t round_keys[CIPHER_ROUNDS + 1][16];
static uint8_t data[CIPHER_BLOCKS][16];

static uint8_t xtime(uint8_t x) {
    return (uint8_t)(x << 1 ^ (x & 0x80u ? 0x1bu : 0u));
}

static uint8_t gf_multiply(uint8_t x, uint8_t y) {
    uint8_t product = 0;
    while (y) {
        if (y & 1u)
            product ^= x;
        x = xtime(x);
        y >>= 1;
    }
    return product;
}

static uint8_t rotate_left(uint8_t x, int n) {
    return (uint8_t)(x << n | x >> (8 - n));
}

/* sbox[x] = affine(x^-1), with 0 mapped through the affine part alone. */
static void make_sbox(void) {
    for (uint32_t x = 0; x < 256; x++) {
        uint8_t inverse = 0;
        for (uint32_t y = 1; y < 256 && x != 0; y++) {
            if (gf_multiply((uint8_t)x, (uint8_t)y) == 1) {
                inverse = (uint8_t)y;
                break;
            }
        }
        sbox[x] = (uint8_t)(inverse ^ rotate_left(inverse, 1) ^ rotate_left(inverse, 2) ^
                            rotate_left(inverse, 3) ^ rotate_left(inverse, 4) ^ 0x63u);
    }
}

/* Round keys: each is the previous one passed through the S-box, rotated, plus a counter. */
static void expand_key(const uint8_t key[16]) {
    memcpy(round_keys[0], key, 16);
    uint8_t counter = 1;
    for (int r = 1; r <= CIPHER_ROUNDS; r++) {
        for (int i = 0; i < 16; i++)
            round_keys[r][i] = sbox[round_keys[r - 1][(i + 5) % 16]] ^ round_keys[r - 1][i];
        round_keys[r][0] ^= counter;
        counter = xtime(counter);
    }
}

static void mix_column(uint8_t *column) {
    uint8_t all = column[0] ^ column[1] ^ column[2] ^ column[3];
    uint8_t first = column[0];
    for (int i = 0; i < 4; i++) {
        uint8_t next = i < 3 ? column[i + 1] : first;
        column[i] ^= all ^ xtime(column[i] ^ next);
    }
}

static void encrypt_block(uint8_t block[16]) {
    uint8_t shifted[16];
    for (int i = 0; i < 16; i++)
        block[i] ^= round_keys[0][i];
    for (int r = 1; r <= CIPHER_ROUNDS; r++) {
        /* column-major state: byte (row, col) is block[col * 4 + row] */
        for (int col = 0; col < 4; col++)
            for (int row = 0; row < 4; row++)
                shifted[col * 4 + row] = sbox[block[((col + row) % 4) * 4 + row]];
        if (r < CIPHER_ROUNDS)
            for (int col = 0; col < 4; col++)
                mix_column(shifted + col * 4);
        for (int i = 0; i < 16; i++)
            block[i] = shifted[i] ^ round_keys[r][i];
    }
}

int main(int argc, char **argv) {
    uint32_t passes = bench_scale(argc, argv, 72);
    uint32_t state = 0x2545f491u, checksum = 0;
    uint8_t key[16], chain[16] = {0};
    make_sbox();
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)bench_next(&state);
    expand_key(key);
    for (uint32_t b = 0; b < CIPHER_BLOCKS; b++)
        for (int i = 0; i < 16; i++)
            data[b][i] = (uint8_t)bench_next(&state);
    for (uint32_t p = 0; p < passes; p++) {
        for (uint32_t b = 0; b < CIPHER_BLOCKS; b++) {
            for (int i = 0; i < 16; i++)
                data[b][i] ^= chain[i];
            encrypt_block(data[b]);
            memcpy(chain, data[b], 16);
        }
        for (int i = 0; i < 16; i += 4)
            checksum = checksum * 31u + ((uint32_t)chain[i] << 24 | (uint32_t)chain[i + 1] << 16 |
                                         (uint32_t)chain[i + 2] << 8 | chain[i + 3]);
    }
    /* the S-box of a GF(2^8) inverse plus this affine map starts 63 7c 77 7b */
    if (sbox[0] != 0x63u || sbox[1] != 0x7cu || sbox[2] != 0x77u || sbox[3] != 0x7bu) {
        printf("cipher: S-box self-check failed\n");
        return 1;
    }
    bench_report("cipher", checksum);
    return 0;
}
