/*
 * Calls the WASI functions directly with good and bad arguments and prints
 * the errno each returns, one "name: value" line per check. Bad pointers
 * point past the end of memory, so a host that does not check them would
 * crash or corrupt the host process instead of answering EFAULT (21).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static void report(const char *name, unsigned value) {
    printf("%s: %u\n", name, value);
    fflush(stdout);
}

/* An address whose first byte is in memory but whose next 7 are not. */
static void *memory_tail(void) {
    return (void *)(__builtin_wasm_memory_size(0) * 65536u - 1u);
}

static void *far_away(void) {
    return (void *)(uintptr_t)0xfffffff0u;
}

static void check_fd_write(void) {
    static const char text[] = "direct write\n";
    __wasi_ciovec_t iov = {(const uint8_t *)text, sizeof text - 1};
    __wasi_ciovec_t bad_buf = {far_away(), 64};
    __wasi_size_t written = 0;
    report("fd_write fd 7", __wasi_fd_write(7, &iov, 1, &written));
    report("fd_write fd 0", __wasi_fd_write(0, &iov, 1, &written));
    report("fd_write iovec past end", __wasi_fd_write(1, memory_tail(), 1, &written));
    report("fd_write buffer past end", __wasi_fd_write(1, &bad_buf, 1, &written));
    report("fd_write result past end", __wasi_fd_write(1, &iov, 1, far_away()));
    unsigned err = __wasi_fd_write(1, &iov, 1, &written);
    report("fd_write stdout", err);
    report("fd_write written", written);
}

static void check_args(void) {
    __wasi_size_t count = 0, size = 0;
    char *argv[4];
    report("args_sizes_get past end", __wasi_args_sizes_get(far_away(), &size));
    report("args_sizes_get", __wasi_args_sizes_get(&count, &size));
    report("args count", count);
    report("args_get buffer past end", __wasi_args_get((uint8_t **)argv, memory_tail()));
    report("environ_sizes_get", __wasi_environ_sizes_get(&count, &size));
    report("environ count", count);
}

static void check_clocks(void) {
    __wasi_timestamp_t first = 0, second = 0, now = 0;
    unsigned err = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    report("realtime", err);
    report("realtime after 2020", now > UINT64_C(1577836800) * 1000000000u);
    err = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &first);
    err |= __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &second);
    report("monotonic", err);
    report("monotonic ordered", second >= first);
    report("cputime clock", __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &now));
    report("realtime past end", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, far_away()));
}

static void check_random(void) {
    uint8_t first[32] = {0}, second[32] = {0};
    unsigned err = __wasi_random_get(first, sizeof first);
    err |= __wasi_random_get(second, sizeof second);
    report("random_get", err);
    report("random differs", memcmp(first, second, sizeof first) != 0);
    report("random_get past end", __wasi_random_get(memory_tail(), 2));
}

static void check_refusals(void) {
    uint8_t byte = 0;
    __wasi_iovec_t iov = {&byte, 1};
    __wasi_size_t got = 0;
    __wasi_fd_t fd = 0;
    __wasi_filesize_t position = 0;
    __wasi_prestat_t prestat;
    __wasi_fdstat_t stat;
    __wasi_subscription_t subscription;
    __wasi_event_t event;
    memset(&subscription, 0, sizeof subscription);
    report("fd_read stdin", __wasi_fd_read(0, &iov, 1, &got));
    report("fd_close 9", __wasi_fd_close(9));
    report("fd_prestat_get 3", __wasi_fd_prestat_get(3, &prestat));
    report("path_open", __wasi_path_open(3, 0, "file", 0, 0, 0, 0, &fd));
    report("fd_seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &position));
    report("poll_oneoff", __wasi_poll_oneoff(&subscription, &event, 1, &got));
    report("fd_fdstat_get 5", __wasi_fd_fdstat_get(5, &stat));
    report("fd_fdstat_get stdout", __wasi_fd_fdstat_get(1, &stat));
    report("stdout writable", (stat.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
}

int main(void) {
    check_fd_write();
    check_args();
    check_clocks();
    check_random();
    check_refusals();
    return 0;
}
