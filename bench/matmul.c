/*
 * matmul: arithmetic-bound integer kernel. C = A x B over 32-bit unsigned
 * integers (wrapping), i-k-j loop order, then B is replaced by C so each
 * round depends on the last.
 */
#include "bench.h"

#define MATMUL_N 96u

static uint32_t a[MATMUL_N][MATMUL_N], b[MATMUL_N][MATMUL_N], c[MATMUL_N][MATMUL_N];

static void multiply(void) {
    for (uint32_t i = 0; i < MATMUL_N; i++) {
        for (uint32_t j = 0; j < MATMUL_N; j++)
            c[i][j] = 0;
        for (uint32_t k = 0; k < MATMUL_N; k++) {
            uint32_t aik = a[i][k];
            for (uint32_t j = 0; j < MATMUL_N; j++)
                c[i][j] += aik * b[k][j];
        }
    }
}

int main(int argc, char **argv) {
    uint32_t rounds = bench_scale(argc, argv, 700);
    uint32_t state = 0x1234567u, checksum = 0;
    for (uint32_t i = 0; i < MATMUL_N; i++) {
        for (uint32_t j = 0; j < MATMUL_N; j++) {
            a[i][j] = bench_next(&state) & 0xffu;
            b[i][j] = bench_next(&state) & 0xffu;
        }
    }
    for (uint32_t r = 0; r < rounds; r++) {
        multiply();
        for (uint32_t i = 0; i < MATMUL_N; i++)
            for (uint32_t j = 0; j < MATMUL_N; j++)
                b[i][j] = c[i][j] >> 8 ^ c[i][j];
        checksum = checksum * 31u + c[r % MATMUL_N][(r * 7u) % MATMUL_N];
    }
    bench_report("matmul", checksum);
    return 0;
}
