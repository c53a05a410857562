/*
 * WASI preview1 subset: see include/seam/wasi.h for what is supported.
 *
 * Every function follows the preview1 ABI: i32 and i64 arguments, pointers
 * are 32-bit offsets into the caller's memory 0, and the result is an errno
 * (0 for success). Pointers are checked here before any byte moves; the
 * engine's memory_read and memory_write check again and mark written pages
 * dirty.
 */
#include "seam/wasi.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* preview1 errno values (wasi/api.h). */
enum {
    WASI_OK = 0,
    WASI_EBADF = 8,
    WASI_EFAULT = 21,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_ENOSYS = 52,
    WASI_ENOTDIR = 54,
    WASI_ENOTSOCK = 57,
    WASI_ENOTSUP = 58,
    WASI_ESPIPE = 70,
};

enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_RIGHT_FD_WRITE = 1u << 6,
    WASI_FDSTAT_SIZE = 24,
    WASI_IOVEC_SIZE = 8,
};

/* Host work is charged one fuel unit per this many bytes moved, plus one per call. */
#define WASI_BYTES_PER_FUEL 64u

/* True when memory exists and [ptr, ptr+len) lies inside it. */
static bool in_memory(const seam_wasm_memory *memory, uint64_t ptr, uint64_t len) {
    return memory != NULL && ptr <= seam_wasm_memory_size(memory) &&
           len <= seam_wasm_memory_size(memory) - ptr;
}

static void put_le(uint8_t *bytes, uint64_t value, size_t len) {
    for (size_t i = 0; i < len; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
}

static uint32_t get_le32(const uint8_t *bytes) {
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

/* Stores a little-endian u32 or u64 at ptr; WASI_EFAULT when outside memory. */
static uint32_t store_le(seam_wasm_memory *memory, uint64_t ptr, uint64_t value, size_t len) {
    uint8_t bytes[8];
    put_le(bytes, value, len);
    if (!in_memory(memory, ptr, len))
        return WASI_EFAULT;
    return seam_wasm_memory_write(memory, ptr, bytes, len) == SEAM_OK ? WASI_OK : WASI_EFAULT;
}

/* The host stream behind guest fd 1 or 2, or NULL for any other descriptor. */
static FILE *stream_of(const seam_wasi *wasi, uint32_t fd) {
    FILE *stream = NULL;
    if (fd == 1)
        stream = wasi->out != NULL ? wasi->out : stdout;
    else if (fd == 2)
        stream = wasi->err != NULL ? wasi->err : stderr;
    return stream;
}

/* ---- arguments and environment ------------------------------------ */

/* Writes count and the byte size of strings[0..count) (each NUL-terminated). */
static uint32_t strings_sizes(seam_wasm_memory *memory, uint32_t count, char *const *strings,
                              uint32_t count_ptr, uint32_t size_ptr) {
    uint64_t total = 0;
    uint32_t err = WASI_OK;
    for (uint32_t i = 0; i < count; i++)
        total += strlen(strings[i]) + 1;
    if (total > UINT32_MAX) {
        err = WASI_EINVAL;
        goto done;
    }
    err = store_le(memory, count_ptr, count, 4);
    if (err == WASI_OK)
        err = store_le(memory, size_ptr, total, 4);
done:
    return err;
}

/* Writes the pointer array at list_ptr and the strings themselves from buf_ptr on. */
static uint32_t strings_get(seam_wasm_memory *memory, uint32_t count, char *const *strings,
                            uint32_t list_ptr, uint32_t buf_ptr) {
    uint64_t at = buf_ptr;
    uint32_t err = WASI_OK;
    for (uint32_t i = 0; i < count && err == WASI_OK; i++) {
        size_t len = strlen(strings[i]) + 1;
        if (at > UINT32_MAX || !in_memory(memory, at, len)) {
            err = WASI_EFAULT;
            break;
        }
        err = store_le(memory, (uint64_t)list_ptr + 4u * i, at, 4);
        if (err == WASI_OK && seam_wasm_memory_write(memory, at, strings[i], len) != SEAM_OK)
            err = WASI_EFAULT;
        at += len;
    }
    return err;
}

static seam_err args_sizes_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    const seam_wasi *wasi = env;
    results[0] = strings_sizes(seam_wasm_ctx_memory(ctx), wasi->argc, wasi->argv, (uint32_t)args[0],
                               (uint32_t)args[1]);
    return SEAM_OK;
}

static seam_err args_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                         uint64_t *results) {
    const seam_wasi *wasi = env;
    results[0] = strings_get(seam_wasm_ctx_memory(ctx), wasi->argc, wasi->argv, (uint32_t)args[0],
                             (uint32_t)args[1]);
    return SEAM_OK;
}

static seam_err environ_sizes_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                  uint64_t *results) {
    const seam_wasi *wasi = env;
    results[0] = strings_sizes(seam_wasm_ctx_memory(ctx), wasi->envc, wasi->envp, (uint32_t)args[0],
                               (uint32_t)args[1]);
    return SEAM_OK;
}

static seam_err environ_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                            uint64_t *results) {
    const seam_wasi *wasi = env;
    results[0] = strings_get(seam_wasm_ctx_memory(ctx), wasi->envc, wasi->envp, (uint32_t)args[0],
                             (uint32_t)args[1]);
    return SEAM_OK;
}

/* ---- descriptors ---------------------------------------------------- */

/* fd_write(fd, iovs, iovs_len, nwritten_ptr): all iovecs are checked before anything is written. */
static seam_err fd_write(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                         uint64_t *results) {
    seam_err status = SEAM_OK;
    uint32_t err = WASI_OK;
    FILE *stream = stream_of(env, (uint32_t)args[0]);
    seam_wasm_memory *memory = seam_wasm_ctx_memory(ctx);
    uint64_t iovs = (uint32_t)args[1];
    uint64_t iovs_len = (uint32_t)args[2];
    uint64_t nwritten_ptr = (uint32_t)args[3];
    uint64_t total = 0;
    if (stream == NULL) {
        err = WASI_EBADF;
        goto done;
    }
    if (!in_memory(memory, iovs, iovs_len * WASI_IOVEC_SIZE) ||
        !in_memory(memory, nwritten_ptr, 4)) {
        err = WASI_EFAULT;
        goto done;
    }
    /* the iovec walk is paid for before it runs, the bytes once they are known */
    if (!seam_wasm_ctx_charge(ctx, 1 + iovs_len)) {
        status = SEAM_ERR_WASM_TRAP;
        goto done;
    }
    const uint8_t *base = seam_wasm_memory_data(memory);
    for (uint64_t i = 0; i < iovs_len; i++) {
        const uint8_t *iov = base + iovs + i * WASI_IOVEC_SIZE;
        uint32_t buf = get_le32(iov), len = get_le32(iov + 4);
        if (!in_memory(memory, buf, len)) {
            err = WASI_EFAULT;
            goto done;
        }
        total += len;
    }
    if (total > UINT32_MAX) {
        err = WASI_EINVAL;
        goto done;
    }
    if (!seam_wasm_ctx_charge(ctx, total / WASI_BYTES_PER_FUEL)) {
        status = SEAM_ERR_WASM_TRAP;
        goto done;
    }
    for (uint64_t i = 0; i < iovs_len; i++) {
        const uint8_t *iov = base + iovs + i * WASI_IOVEC_SIZE;
        uint32_t buf = get_le32(iov), len = get_le32(iov + 4);
        if (len > 0 && fwrite(base + buf, 1, len, stream) != len) {
            err = WASI_EIO;
            goto done;
        }
    }
    if (fflush(stream) != 0) {
        err = WASI_EIO;
        goto done;
    }
    err = store_le(memory, nwritten_ptr, total, 4);
done:
    results[0] = err;
    return status;
}

/*
 * fd_fdstat_get(fd, buf): fds 1 and 2 are write-only, not seekable; they are
 * character devices when the host stream is a terminal, so the guest's stdio
 * buffers lines exactly when a native program would.
 */
static seam_err fd_fdstat_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                              uint64_t *results) {
    uint32_t err = WASI_OK;
    FILE *stream = stream_of(env, (uint32_t)args[0]);
    seam_wasm_memory *memory = seam_wasm_ctx_memory(ctx);
    uint64_t buf = (uint32_t)args[1];
    uint8_t stat[WASI_FDSTAT_SIZE] = {0};
    if (stream == NULL) {
        err = WASI_EBADF;
        goto done;
    }
    int host_fd = fileno(stream);
    stat[0] =
        host_fd >= 0 && isatty(host_fd) ? WASI_FILETYPE_CHARACTER_DEVICE : WASI_FILETYPE_UNKNOWN;
    put_le(stat + 8, WASI_RIGHT_FD_WRITE, 8);
    if (!in_memory(memory, buf, sizeof stat) ||
        seam_wasm_memory_write(memory, buf, stat, sizeof stat) != SEAM_OK)
        err = WASI_EFAULT;
done:
    results[0] = err;
    return SEAM_OK;
}

/* ---- clocks, randomness, process ---------------------------------- */

/* Maps a WASI clock id to a host clock; false for the unsupported CPU-time clocks. */
static bool host_clock(uint32_t id, clockid_t *out) {
    bool known = true;
    if (id == WASI_CLOCK_REALTIME)
        *out = CLOCK_REALTIME;
    else if (id == WASI_CLOCK_MONOTONIC)
        *out = CLOCK_MONOTONIC;
    else
        known = false;
    return known;
}

static uint64_t nanoseconds(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* clock_time_get(id, precision, time_ptr); precision is ignored. */
static seam_err clock_time_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    (void)env;
    uint32_t err = WASI_OK;
    clockid_t clock;
    struct timespec now;
    if (!host_clock((uint32_t)args[0], &clock)) {
        err = WASI_EINVAL;
        goto done;
    }
    if (clock_gettime(clock, &now) != 0) {
        err = WASI_EIO;
        goto done;
    }
    err = store_le(seam_wasm_ctx_memory(ctx), (uint32_t)args[2], nanoseconds(&now), 8);
done:
    results[0] = err;
    return SEAM_OK;
}

/* clock_res_get(id, resolution_ptr). */
static seam_err clock_res_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                              uint64_t *results) {
    (void)env;
    uint32_t err = WASI_OK;
    clockid_t clock;
    struct timespec resolution;
    if (!host_clock((uint32_t)args[0], &clock)) {
        err = WASI_EINVAL;
        goto done;
    }
    if (clock_getres(clock, &resolution) != 0) {
        err = WASI_EIO;
        goto done;
    }
    err = store_le(seam_wasm_ctx_memory(ctx), (uint32_t)args[1], nanoseconds(&resolution), 8);
done:
    results[0] = err;
    return SEAM_OK;
}

/* random_get(buf, len): fills the guest buffer from the host's getrandom. */
static seam_err random_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                           uint64_t *results) {
    (void)env;
    seam_err status = SEAM_OK;
    uint32_t err = WASI_OK;
    seam_wasm_memory *memory = seam_wasm_ctx_memory(ctx);
    uint64_t buf = (uint32_t)args[0];
    uint64_t len = (uint32_t)args[1];
    uint8_t chunk[256];
    if (!in_memory(memory, buf, len)) {
        err = WASI_EFAULT;
        goto done;
    }
    if (!seam_wasm_ctx_charge(ctx, 1 + len / WASI_BYTES_PER_FUEL)) {
        status = SEAM_ERR_WASM_TRAP;
        goto done;
    }
    for (uint64_t at = 0; at < len;) {
        size_t want = len - at < sizeof chunk ? (size_t)(len - at) : sizeof chunk;
        ssize_t got = getrandom(chunk, want, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || seam_wasm_memory_write(memory, buf + at, chunk, (size_t)got) != SEAM_OK) {
            err = WASI_EIO;
            goto done;
        }
        at += (uint64_t)got;
    }
done:
    results[0] = err;
    return status;
}

/* proc_exit(code): stops the program; the embedder reads the code from the trap. */
static seam_err proc_exit(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                          uint64_t *results) {
    (void)env;
    (void)results;
    char message[48];
    snprintf(message, sizeof message, "exit with status %u", (uint32_t)args[0]);
    seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_EXIT, (int32_t)(uint32_t)args[0], message);
    return SEAM_ERR_WASM_TRAP;
}

static seam_err sched_yield(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                            uint64_t *results) {
    (void)ctx;
    (void)env;
    (void)args;
    results[0] = WASI_OK;
    return SEAM_OK;
}

/* ---- the rest: refusals ------------------------------------------- */

/*
 * A function this subset refuses. When it takes a descriptor (argument
 * fd_arg), a descriptor other than 1 and 2 is not open (EBADF) and 1 and 2
 * answer std_errno; a function without one answers ENOSYS.
 */
typedef struct {
    const char *name;
    const char *signature;
    int fd_arg; /* index of the descriptor argument, or -1 */
    uint32_t std_errno;
} refusal;

static const refusal refusals[] = {
    {"fd_advise", "iIIi->i", 0, WASI_ENOTSUP},
    {"fd_allocate", "iII->i", 0, WASI_ENOTSUP},
    {"fd_close", "i->i", 0, WASI_ENOTSUP},
    {"fd_datasync", "i->i", 0, WASI_EINVAL},
    {"fd_fdstat_set_flags", "ii->i", 0, WASI_ENOTSUP},
    {"fd_fdstat_set_rights", "iII->i", 0, WASI_ENOTSUP},
    {"fd_filestat_get", "ii->i", 0, WASI_ENOTSUP},
    {"fd_filestat_set_size", "iI->i", 0, WASI_EINVAL},
    {"fd_filestat_set_times", "iIIi->i", 0, WASI_ENOTSUP},
    {"fd_pread", "iiiIi->i", 0, WASI_ESPIPE},
    {"fd_prestat_get", "ii->i", 0, WASI_EBADF},
    {"fd_prestat_dir_name", "iii->i", 0, WASI_EBADF},
    {"fd_pwrite", "iiiIi->i", 0, WASI_ESPIPE},
    {"fd_read", "iiii->i", 0, WASI_EBADF},
    {"fd_readdir", "iiiIi->i", 0, WASI_ENOTDIR},
    {"fd_renumber", "ii->i", 0, WASI_ENOTSUP},
    {"fd_seek", "iIii->i", 0, WASI_ESPIPE},
    {"fd_sync", "i->i", 0, WASI_EINVAL},
    {"fd_tell", "ii->i", 0, WASI_ESPIPE},
    {"path_create_directory", "iii->i", 0, WASI_ENOTDIR},
    {"path_filestat_get", "iiiii->i", 0, WASI_ENOTDIR},
    {"path_filestat_set_times", "iiiiIIi->i", 0, WASI_ENOTDIR},
    {"path_link", "iiiiiii->i", 0, WASI_ENOTDIR},
    {"path_open", "iiiiiIIii->i", 0, WASI_ENOTDIR},
    {"path_readlink", "iiiiii->i", 0, WASI_ENOTDIR},
    {"path_remove_directory", "iii->i", 0, WASI_ENOTDIR},
    {"path_rename", "iiiiii->i", 0, WASI_ENOTDIR},
    {"path_symlink", "iiiii->i", 2, WASI_ENOTDIR},
    {"path_unlink_file", "iii->i", 0, WASI_ENOTDIR},
    {"poll_oneoff", "iiii->i", -1, WASI_ENOSYS},
    {"sock_accept", "iii->i", 0, WASI_ENOTSOCK},
    {"sock_recv", "iiiiii->i", 0, WASI_ENOTSOCK},
    {"sock_send", "iiiii->i", 0, WASI_ENOTSOCK},
    {"sock_shutdown", "ii->i", 0, WASI_ENOTSOCK},
};

static seam_err refuse(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                       uint64_t *results) {
    (void)ctx;
    const refusal *which = env;
    uint32_t err = WASI_ENOSYS;
    if (which->fd_arg >= 0) {
        uint32_t fd = (uint32_t)args[which->fd_arg];
        err = fd == 1 || fd == 2 ? which->std_errno : WASI_EBADF;
    }
    results[0] = err;
    return SEAM_OK;
}

/* ---- registration --------------------------------------------------- */

typedef struct {
    const char *name;
    const char *signature;
    seam_wasm_host_fn fn;
} provided;

static const provided provided_fns[] = {
    {"args_get", "ii->i", args_get},
    {"args_sizes_get", "ii->i", args_sizes_get},
    {"environ_get", "ii->i", environ_get},
    {"environ_sizes_get", "ii->i", environ_sizes_get},
    {"fd_write", "iiii->i", fd_write},
    {"fd_fdstat_get", "ii->i", fd_fdstat_get},
    {"clock_time_get", "iIi->i", clock_time_get},
    {"clock_res_get", "ii->i", clock_res_get},
    {"random_get", "ii->i", random_get},
    {"proc_exit", "i->", proc_exit},
    {"sched_yield", "->i", sched_yield},
};

seam_err seam_wasi_add_imports(seam_wasi *wasi, seam_wasm_imports *imports,
                               seam_wasm_store *store) {
    seam_err err = SEAM_OK;
    for (size_t i = 0; i < sizeof provided_fns / sizeof provided_fns[0] && err == SEAM_OK; i++)
        err = seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME(SEAM_WASI_MODULE),
                                         seam_wasm_name_of(provided_fns[i].name),
                                         provided_fns[i].signature, provided_fns[i].fn, wasi);
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0] && err == SEAM_OK; i++)
        err = seam_wasm_imports_add_host(imports, store, SEAM_WASM_NAME(SEAM_WASI_MODULE),
                                         seam_wasm_name_of(refusals[i].name), refusals[i].signature,
                                         refuse, (void *)&refusals[i]);
    return err;
}
