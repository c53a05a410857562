/*
 * crc32: byte-at-a-time table-driven CRC-32 (the reflected 0xEDB88320
 * polynomial of zip and Ethernet) over a pseudo-random buffer, repeated with
 * the previous CRC as the seed. Checks the standard "123456789" vector first.
 */
#include "bench.h"

#define CRC_BUFFER_SIZE (256u * 1024u)

static uint32_t table[256];
static uint8_t buffer[CRC_BUFFER_SIZE];

static void make_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t value = n;
        for (int bit = 0; bit < 8; bit++)
            value = value & 1u ? value >> 1 ^ 0xedb88320u : value >> 1;
        table[n] = value;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *data, uint32_t len) {
    crc = ~crc;
    for (uint32_t i = 0; i < len; i++)
        crc = table[(crc ^ data[i]) & 0xffu] ^ crc >> 8;
    return ~crc;
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 220);
    uint32_t state = 0xc0ffeeu, checksum = 0;
    make_table();
    if (crc32(0, (const uint8_t *)"123456789", 9) != 0xcbf43926u) {
        printf("crc32: self-check failed\n");
        return 1;
    }
    for (uint32_t i = 0; i < CRC_BUFFER_SIZE; i++)
        buffer[i] = (uint8_t)bench_next(&state);
    for (uint32_t r = 0; r < rounds; r++) {
        checksum = crc32(checksum, buffer, CRC_BUFFER_SIZE);
        buffer[r % CRC_BUFFER_SIZE] ^= (uint8_t)checksum;
    }
    bench_report("crc32", checksum);
    return 0;
}
