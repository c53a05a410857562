/*
 * seam wasm run [--fuel N] [--no-metering] [--stats] FILE.wasm [ARGS...]
 *
 * Runs a WASI preview1 command module in the seam engine: decode, validate,
 * instantiate with the WASI subset (the wasi layer, seam/wasi.h), call
 * _start. The process exit status is the program's: its proc_exit status (as
 * the host shell would see it, modulo 256) or 0 when _start returns. seam's own failures use
 * statuses the program cannot be confused with in the tests: 2 for a file
 * that cannot be run (unreadable, invalid, unlinkable) or bad usage, 134 for
 * a trap (the status of an aborted native program).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "seam/wasm.h"
#include "seam/wasi.h"

enum {
    RUN_STATUS_USAGE = 2, /* bad command line or a module that cannot run */
    RUN_STATUS_TRAP = 134,
};

/* Modules larger than this are refused before reading them whole. */
#define RUN_MAX_MODULE_BYTES (256u * 1024u * 1024u)

typedef struct {
    uint64_t fuel;
    bool has_fuel;
    bool metering_off;
    bool stats;
    const char *path;
    int guest_argc; /* the guest's argv: FILE, ARGS... */
    char **guest_argv;
} run_options;

static void print_usage(FILE *to) {
    fprintf(to, "usage: seam wasm run [--fuel N] [--no-metering] [--stats] FILE.wasm [ARGS...]\n"
                "  --fuel N        stop the program with a trap after N units of fuel\n"
                "  --no-metering   translate the code without fuel charges (faster)\n"
                "  --stats         print the module size, fuel used and time to stderr\n");
}

/* Parses a decimal fuel budget into *out. Errors: SEAM_ERR_CLI_USAGE. */
static seam_err parse_fuel(const char *text, uint64_t *out) {
    seam_err err = SEAM_OK;
    char *end = NULL;
    if (text == NULL || text[0] < '0' || text[0] > '9') {
        err = SEAM_ERR_CLI_USAGE;
        goto done;
    }
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        err = SEAM_ERR_CLI_USAGE;
        goto done;
    }
    *out = value;
done:
    if (err != SEAM_OK)
        fprintf(stderr, "seam: --fuel needs a decimal number, not '%s'\n", text ? text : "");
    return err;
}

/*
 * Reads options up to FILE; FILE and what follows become the guest's argv.
 * Errors: SEAM_ERR_CLI_USAGE (message printed); SEAM_ERR_NOT_FOUND for --help.
 */
static seam_err parse_options(int argc, char **argv, run_options *opts) {
    seam_err err = SEAM_OK;
    int i = 1;
    for (; i < argc && err == SEAM_OK; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        if (!strcmp(arg, "--fuel")) {
            err = parse_fuel(i + 1 < argc ? argv[++i] : NULL, &opts->fuel);
            opts->has_fuel = true;
        } else if (!strncmp(arg, "--fuel=", 7)) {
            err = parse_fuel(arg + 7, &opts->fuel);
            opts->has_fuel = true;
        } else if (!strcmp(arg, "--no-metering")) {
            opts->metering_off = true;
        } else if (!strcmp(arg, "--stats")) {
            opts->stats = true;
        } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            err = SEAM_ERR_NOT_FOUND;
        } else {
            fprintf(stderr, "seam: unknown option '%s'\n", arg);
            err = SEAM_ERR_CLI_USAGE;
        }
    }
    if (err == SEAM_OK && i >= argc) {
        fprintf(stderr, "seam: no module given\n");
        err = SEAM_ERR_CLI_USAGE;
    }
    if (err == SEAM_OK) {
        opts->path = argv[i];
        opts->guest_argc = argc - i;
        opts->guest_argv = argv + i;
    }
    return err;
}

/* Reads the whole file at path into a new buffer (*out, the caller's). Errors: SEAM_ERR_IO. */
static seam_err read_file(const char *path, uint8_t **out, size_t *len) {
    seam_err err = SEAM_OK;
    uint8_t *bytes = NULL;
    size_t size = 0, capacity = 0;
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "seam: %s: %s\n", path, strerror(errno));
        err = SEAM_ERR_IO;
        goto done;
    }
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 64 * 1024;
            uint8_t *grown = capacity <= RUN_MAX_MODULE_BYTES ? realloc(bytes, capacity) : NULL;
            if (grown == NULL) {
                fprintf(stderr, "seam: %s: too large to load\n", path);
                err = SEAM_ERR_NOMEM;
                goto done;
            }
            bytes = grown;
        }
        size_t got = fread(bytes + size, 1, capacity - size, file);
        size += got;
        if (got == 0)
            break;
    }
    if (ferror(file)) {
        fprintf(stderr, "seam: %s: %s\n", path, strerror(errno));
        err = SEAM_ERR_IO;
        goto done;
    }
    *out = bytes;
    *len = size;
    bytes = NULL;
done:
    if (file != NULL)
        fclose(file);
    free(bytes);
    return err;
}

/* The status a trap (or proc_exit) gives the process; prints the trap. */
static int trap_status(const seam_wasm_trap *trap) {
    int status = RUN_STATUS_TRAP;
    if (trap->code == SEAM_WASM_TRAP_EXIT) {
        status = (int)((uint32_t)trap->exit_code & 0xffu);
    } else {
        fflush(stdout);
        fprintf(stderr, "seam: trap: %s\n",
                trap->message[0] ? trap->message : seam_wasm_trap_name(trap->code));
    }
    return status;
}

/* Prints why instantiation failed (or the trap) and returns the process status. */
static int instantiate_status(const char *path, seam_err err, const seam_wasm_trap *trap,
                              const char *err_text) {
    int status = RUN_STATUS_USAGE;
    if (err == SEAM_ERR_WASM_TRAP)
        status = trap_status(trap);
    else if (err == SEAM_ERR_WASM_LINK)
        fprintf(stderr, "seam: %s: cannot link: %s\n", path, err_text);
    else if (err == SEAM_ERR_WASM_LIMIT)
        fprintf(stderr, "seam: %s: exceeds the store's limits: %s\n", path, err_text);
    else
        fprintf(stderr, "seam: %s: cannot instantiate: %s\n", path, seam_err_str(err));
    return status;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Runs a decoded module's _start under opts and returns the process status. */
static int run_module(const run_options *opts, const seam_wasm_module *module, size_t module_len) {
    int status = RUN_STATUS_USAGE;
    seam_wasm_store *store = NULL;
    seam_wasm_imports *imports = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_extern start;
    seam_wasm_trap trap = {0};
    char err_text[256] = "";
    seam_wasm_limits limits = {.metering_off = opts->metering_off};
    seam_wasi wasi = {.argc = (uint32_t)opts->guest_argc, .argv = opts->guest_argv};
    /*
     * The engine counts at most INT64_MAX units of fuel per call (UINT64_MAX
     * means unlimited to it but is counted as INT64_MAX), so the budget is
     * capped there and fuel used is exact for every budget.
     */
    uint64_t budget = opts->has_fuel && opts->fuel < INT64_MAX ? opts->fuel : INT64_MAX;
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);

    seam_err err = seam_wasm_store_new(&limits, &store);
    if (err == SEAM_OK)
        err = seam_wasm_imports_new(&imports);
    if (err == SEAM_OK)
        err = seam_wasi_add_imports(&wasi, imports, store);
    if (err != SEAM_OK) {
        fprintf(stderr, "seam: cannot set up the engine: %s\n", seam_err_str(err));
        goto done;
    }
    seam_wasm_store_set_fuel(store, budget);
    err = seam_wasm_instantiate(store, module, imports, NULL, &instance, &trap, err_text,
                                sizeof err_text);
    if (err != SEAM_OK) {
        status = instantiate_status(opts->path, err, &trap, err_text);
        goto done;
    }
    if (seam_wasm_instance_export(instance, SEAM_WASM_NAME("_start"), &start) != SEAM_OK ||
        start.kind != SEAM_WASM_EXTERN_FUNC || seam_wasm_func_param_count(start.as.func) != 0 ||
        seam_wasm_func_result_count(start.as.func) != 0) {
        fprintf(stderr, "seam: %s: not a WASI command: no function _start() exported\n",
                opts->path);
        goto done;
    }
    seam_wasm_store_set_fuel(store, budget);
    err = seam_wasm_call(store, start.as.func, NULL, 0, NULL, 0, &trap);
    if (err == SEAM_OK)
        status = 0;
    else if (err == SEAM_ERR_WASM_TRAP)
        status = trap_status(&trap);
    else
        fprintf(stderr, "seam: %s: cannot call _start: %s\n", opts->path, seam_err_str(err));
    if (opts->stats) {
        fprintf(stderr, "seam: module: %zu bytes\n", module_len);
        if (opts->metering_off)
            fprintf(stderr, "seam: fuel used: not metered (--no-metering)\n");
        else
            fprintf(stderr, "seam: fuel used: %" PRIu64 "\n", budget - seam_wasm_store_fuel(store));
        fprintf(stderr, "seam: time: %.3f s\n", seconds_since(&started));
    }
done:
    seam_wasm_imports_free(imports);
    seam_wasm_store_free(store);
    return status;
}

int seam_cli_wasm_run(int argc, char **argv) {
    int status = RUN_STATUS_USAGE;
    run_options opts = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    seam_wasm_module *module = NULL;
    char err_text[256] = "";

    seam_err err = parse_options(argc, argv, &opts);
    if (err == SEAM_ERR_NOT_FOUND) {
        print_usage(stdout);
        status = 0;
        goto done;
    }
    if (err != SEAM_OK) {
        print_usage(stderr);
        goto done;
    }
    if (read_file(opts.path, &bytes, &len) != SEAM_OK)
        goto done;
    err = seam_wasm_module_new(bytes, len, &module, err_text, sizeof err_text);
    if (err != SEAM_OK) {
        fprintf(stderr, "seam: %s: invalid module: %s\n", opts.path,
                err_text[0] ? err_text : seam_err_str(err));
        goto done;
    }
    free(bytes);
    bytes = NULL;
    status = run_module(&opts, module, len);
done:
    seam_wasm_module_free(module);
    free(bytes);
    return status;
}
