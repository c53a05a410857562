/*
 * fib: call-heavy integer kernel. Naive doubly recursive Fibonacci, so the
 * time goes into calls, returns and a compare per call.
 */
#include "bench.h"

static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
    uint32_t n = bench_scale(argc, argv, 38);
    uint32_t checksum = 0;
    for (uint32_t k = n - 2; k <= n; k++)
        checksum = checksum * 31u + fib(k);
    bench_report("fib", checksum);
    return 0;
}
