/*
 * Shared helpers for the seam benchmarks. Every program computes a checksum
 * from fixed-width arithmetic only, so the native build and the wasm32 build
 * must print the same line; bench/run.sh compares them.
 */
#ifndef SEAM_BENCH_H
#define SEAM_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The work size: argv[1] when given (for quick checks), else the default. */
static inline uint32_t bench_scale(int argc, char **argv, uint32_t fallback) {
    /* volatile: the compiler must not fold the whole benchmark into a constant */
    volatile uint32_t scale = fallback;
    if (argc > 1)
        scale = (uint32_t)strtoul(argv[1], NULL, 10);
    return scale;
}

/* A xorshift32 step: the pseudo-random source of every benchmark's input. */
static inline uint32_t bench_next(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Prints the result line bench/run.sh compares between builds. */
static inline void bench_report(const char *name, uint32_t checksum) {
    printf("%s checksum=%08x\n", name, (unsigned)checksum);
}

#endif
