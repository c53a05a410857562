/*
 * sieve: memory-bound integer kernel. The sieve of Eratosthenes over a byte
 * array, repeated; the checksum mixes the prime count and the largest primes.
 */
#include <string.h>

#include "bench.h"

#define SIEVE_LIMIT 1000000u

static uint8_t composite[SIEVE_LIMIT + 1];

static uint32_t sieve(uint32_t limit) {
    uint32_t count = 0, mix = 0;
    memset(composite, 0, limit + 1);
    for (uint32_t i = 2; i * i <= limit; i++) {
        if (composite[i])
            continue;
        for (uint32_t j = i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    for (uint32_t i = 2; i <= limit; i++) {
        if (!composite[i]) {
            count++;
            mix = mix * 2654435761u + i;
        }
    }
    return count ^ mix;
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 70);
    uint32_t checksum = 0;
    for (uint32_t r = 0; r < rounds; r++)
        checksum = checksum * 33u + sieve(SIEVE_LIMIT - r);
    bench_report("sieve", checksum);
    return 0;
}
