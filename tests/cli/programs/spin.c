/*
 * A long arithmetic loop: argv[1] iterations (default 10,000,000) of a
 * linear congruential step; prints the final state. Enough work that a small
 * fuel budget runs out long before the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    uint32_t rounds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000000u;
    uint32_t state = 1;
    for (uint32_t i = 0; i < rounds; i++)
        state = state * 1664525u + 1013904223u;
    printf("state=%u\n", state);
    return 0;
}
