/*
 * seam wasm spec DIR...: runs the WebAssembly core test suite as wast2json
 * writes it (one .json of commands plus .wasm modules per .wast file).
 *
 * Every .json file under each DIR runs in a child process with its own store,
 * so an engine crash or hang costs one failure, not the run. Each command is
 * passed, failed or (assert_malformed on text modules only) skipped; the last
 * line reads "N passed, M failed, K skipped" and the status is 0 when M is 0.
 * Export and registered names are compared as exact byte strings (spec_json.h:
 * a JSON "\u0000" stays a NUL byte). See docs/wasm-spec-runner.md.
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "seam/wasm.h"
#include "spec_json.h"

/* Fuel per top-level call: far above any spec test, bounds a runaway loop. */
#define SPEC_FUEL (UINT64_C(1) << 32)

/* Seconds one .json file may run before its child is killed. */
#define SPEC_FILE_TIMEOUT 300

/* Most arguments or results of one action (the suite needs 17). */
#define SPEC_MAX_VALUES 64

#define SPEC_WHY_SIZE 1024

/* Room for a name written for people (spec_json_name_text). */
#define SPEC_NAME_TEXT 160

/* Options, and the tallies a child shares with the parent (hence no pointers). */
typedef struct {
    bool verbose;
    bool in_process; /* --no-fork: run files in this process, for debuggers */
    uint64_t passed;
    uint64_t failed;
    uint64_t skipped;
    long line;        /* the command being run, for crash reports */
    char source[512]; /* the .wast file named by the .json */
} spec_counts;

/* A module loaded by a command: its name ("$M") and instance, if any. */
typedef struct {
    seam_wasm_module *module;
    char *name;
    seam_wasm_instance *instance;
} spec_module;

/* What one .json file runs with. */
typedef struct {
    spec_counts *counts;
    char *dir; /* folder of the .json: module files are relative to it */
    seam_wasm_store *store;
    seam_wasm_imports *imports; /* spectest plus every register command */
    spec_module *modules;       /* freed after the store */
    size_t module_count;
    size_t module_capacity;
    seam_wasm_instance *current; /* the last module command's instance */
    long current_line;           /* and its line, 0 before any */
} spec_run;

/* An expected or argument value: exact bits or one of the NaN classes. */
typedef enum { SPEC_BITS, SPEC_NAN_CANONICAL, SPEC_NAN_ARITHMETIC } spec_value_kind;

typedef struct {
    seam_wasm_valtype type;
    spec_value_kind kind;
    uint64_t bits;
} spec_value;

/* Spec trap texts and the trap codes they stand for; matched as prefixes. */
static const struct {
    const char *text;
    seam_wasm_trap_code code;
} trap_texts[] = {
    {"unreachable", SEAM_WASM_TRAP_UNREACHABLE},
    {"out of bounds memory access", SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS},
    {"out of bounds table access", SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS},
    {"integer divide by zero", SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO},
    {"integer overflow", SEAM_WASM_TRAP_INTEGER_OVERFLOW},
    {"invalid conversion to integer", SEAM_WASM_TRAP_INVALID_CONVERSION},
    {"undefined element", SEAM_WASM_TRAP_UNDEFINED_ELEMENT},
    {"uninitialized element", SEAM_WASM_TRAP_UNINITIALIZED_ELEMENT},
    {"indirect call type mismatch", SEAM_WASM_TRAP_INDIRECT_CALL_TYPE},
    {"call stack exhausted", SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED},
};

/* Writes a printf-style reason to why and returns SEAM_ERR_CLI_MISMATCH. */
static seam_err mismatch(char *why, size_t why_size, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(why, why_size, format, ap);
    va_end(ap);
    return SEAM_ERR_CLI_MISMATCH;
}

/* Appends printf-style text to the string in buf, truncating at size. */
static void append(char *buf, size_t size, const char *format, ...) {
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, format);
    vsnprintf(buf + used, size - used, format, ap);
    va_end(ap);
}

/* Returns a new string "dir/name", or NULL when memory runs out. */
static char *join_path(const char *dir, const char *name) {
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    if (path)
        snprintf(path, size, "%s/%s", dir, name);
    return path;
}

/* Reads a whole file into a new NUL-terminated buffer; *len excludes the NUL. */
static seam_err read_file(const char *path, uint8_t **out, size_t *len) {
    seam_err err = SEAM_OK;
    uint8_t *data = NULL;
    long size = -1;
    FILE *file = fopen(path, "rb");
    if (file && fseek(file, 0, SEEK_END) == 0)
        size = ftell(file);
    if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
        err = SEAM_ERR_IO;
        goto done;
    }
    data = malloc((size_t)size + 1);
    if (!data) {
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    if (fread(data, 1, (size_t)size, file) != (size_t)size) {
        err = SEAM_ERR_IO;
        goto done;
    }
    data[size] = 0;
    *out = data;
    *len = (size_t)size;
    data = NULL;
done:
    if (file)
        fclose(file);
    free(data);
    return err;
}

/* Parses a JSON value {"type": ..., "value": ...} as wast2json writes it. */
static seam_err parse_value(const cJSON *json, spec_value *out) {
    seam_err err = SEAM_OK;
    static const struct {
        const char *name;
        seam_wasm_valtype type;
        uint64_t max;
    } types[] = {
        {"i32", SEAM_WASM_I32, UINT32_MAX}, {"i64", SEAM_WASM_I64, UINT64_MAX},
        {"f32", SEAM_WASM_F32, UINT32_MAX}, {"f64", SEAM_WASM_F64, UINT64_MAX},
        {"funcref", SEAM_WASM_FUNCREF, 0},  {"externref", SEAM_WASM_EXTERNREF, UINT64_MAX - 1},
    };
    const char *type = spec_json_string(json, "type");
    const char *value = spec_json_string(json, "value");
    size_t t = 0;
    while (t < sizeof types / sizeof types[0] && strcmp(type, types[t].name))
        t++;
    if (t == sizeof types / sizeof types[0]) {
        err = SEAM_ERR_UNSUPPORTED;
        goto done;
    }
    *out = (spec_value){.type = types[t].type, .kind = SPEC_BITS, .bits = 0};
    bool is_float = out->type == SEAM_WASM_F32 || out->type == SEAM_WASM_F64;
    bool is_ref = out->type == SEAM_WASM_FUNCREF || out->type == SEAM_WASM_EXTERNREF;
    if (is_float && !strcmp(value, "nan:canonical")) {
        out->kind = SPEC_NAN_CANONICAL;
    } else if (is_float && !strcmp(value, "nan:arithmetic")) {
        out->kind = SPEC_NAN_ARITHMETIC;
    } else if (!is_ref || strcmp(value, "null")) {
        char *end = NULL;
        errno = 0;
        unsigned long long number = strtoull(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || *end || errno || number > types[t].max) {
            err = SEAM_ERR_UNSUPPORTED;
            goto done;
        }
        /* externref N is the embedder's word N + 1, so that 0 stays null */
        out->bits = out->type == SEAM_WASM_EXTERNREF ? number + 1 : number;
    }
done:
    return err;
}

/* Appends "type:value" to buf: decimal integers, hex float bits, refs as in the .wast. */
static void format_value(char *buf, size_t size, const spec_value *value) {
    const char *name = seam_wasm_valtype_name(value->type);
    if (value->kind != SPEC_BITS)
        append(buf, size, "%s:nan:%s", name,
               value->kind == SPEC_NAN_CANONICAL ? "canonical" : "arithmetic");
    else if (value->type == SEAM_WASM_F32)
        append(buf, size, "%s:0x%08" PRIx64, name, value->bits);
    else if (value->type == SEAM_WASM_F64)
        append(buf, size, "%s:0x%016" PRIx64, name, value->bits);
    else if (value->type == SEAM_WASM_I32 || value->type == SEAM_WASM_I64)
        append(buf, size, "%s:%" PRIu64, name, value->bits);
    else if (value->bits == 0)
        append(buf, size, "%s:null", name);
    else if (value->type == SEAM_WASM_EXTERNREF)
        append(buf, size, "%s:%" PRIu64, name, value->bits - 1);
    else
        append(buf, size, "%s:0x%" PRIx64, name, value->bits);
}

/* Whether an actual value meets an expected one (bit-exact, or in the NaN class). */
static bool value_matches(const spec_value *expected, const seam_wasm_value *actual) {
    bool f32 = expected->type == SEAM_WASM_F32;
    uint64_t nan = f32 ? UINT64_C(0x7fc00000) : UINT64_C(0x7ff8000000000000);
    uint64_t sign = f32 ? UINT64_C(0x80000000) : UINT64_C(0x8000000000000000);
    uint64_t payload = f32 ? UINT64_C(0x003fffff) : UINT64_C(0x0007ffffffffffff);
    if (actual->type != expected->type)
        return false;
    if (expected->kind == SPEC_NAN_CANONICAL)
        return (actual->bits & ~sign) == nan;
    if (expected->kind == SPEC_NAN_ARITHMETIC)
        return (actual->bits & ~(sign | payload)) == nan;
    return actual->bits == expected->bits;
}

/* Whether a trap code fits the spec's text for it (any trap fits an unknown text). */
static bool trap_matches(const char *text, seam_wasm_trap_code code) {
    for (size_t i = 0; i < sizeof trap_texts / sizeof trap_texts[0]; i++) {
        if (!strncmp(text, trap_texts[i].text, strlen(trap_texts[i].text)))
            return code == trap_texts[i].code;
    }
    return code != SEAM_WASM_TRAP_NONE;
}

/* Describes a failed call or instantiation: the trap's name and message, or the error. */
static void describe_failure(char *buf, size_t size, seam_err err, const seam_wasm_trap *trap,
                             const char *err_text) {
    if (err == SEAM_ERR_WASM_TRAP)
        snprintf(buf, size, "trap \"%s\" (%s)", seam_wasm_trap_name(trap->code), trap->message);
    else
        snprintf(buf, size, "%s (%s)", seam_err_str(err), err_text);
}

/* The instance an action or register names (a module command's name), or the current one. */
static seam_err target_instance(const spec_run *run, const char *name, seam_wasm_instance **out,
                                char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    size_t i = run->module_count;
    while (name[0] && i > 0 &&
           strcmp(run->modules[i - 1].name ? run->modules[i - 1].name : "", name))
        i--;
    *out = name[0] ? (i ? run->modules[i - 1].instance : NULL) : run->current;
    if (name[0] && !i)
        err = mismatch(why, why_size, "no module named %s (or it did not decode)", name);
    else if (!*out && name[0])
        err = mismatch(why, why_size, "module %s failed earlier", name);
    else if (!*out && run->current_line)
        err = mismatch(why, why_size, "the module at line %ld failed earlier", run->current_line);
    else if (!*out)
        err = mismatch(why, why_size, "no module defined yet");
    return err;
}

/*
 * Decodes and validates the module file named by cmd's "filename" and keeps it
 * in run->modules (instances point into it) until the run ends.
 */
static seam_err load_module(spec_run *run, const cJSON *cmd, spec_module **out, char *why,
                            size_t why_size) {
    seam_err err = SEAM_OK;
    uint8_t *bytes = NULL;
    size_t len = 0;
    seam_wasm_module *module = NULL;
    char err_text[256] = "";
    const char *filename = spec_json_string(cmd, "filename");
    char *path = join_path(run->dir, filename);
    if (!path) {
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    err = read_file(path, &bytes, &len);
    if (err) {
        snprintf(why, why_size, "cannot read %s: %s", path, seam_err_str(err));
        goto done;
    }
    err = seam_wasm_module_new(bytes, len, &module, err_text, sizeof err_text);
    if (err) {
        snprintf(why, why_size, "%s: %s (%s)", filename, seam_err_str(err), err_text);
        goto done;
    }
    if (run->module_count == run->module_capacity) {
        size_t capacity = run->module_capacity ? run->module_capacity * 2 : 16;
        spec_module *modules = realloc(run->modules, capacity * sizeof *modules);
        if (!modules) {
            err = SEAM_ERR_NOMEM;
            goto done;
        }
        run->modules = modules;
        run->module_capacity = capacity;
    }
    *out = &run->modules[run->module_count++];
    **out = (spec_module){.module = module};
    module = NULL;
done:
    seam_wasm_module_free(module);
    free(bytes);
    free(path);
    return err;
}

/*
 * Runs an action (invoke or get), writing up to SPEC_MAX_VALUES results. A
 * call that traps returns SEAM_ERR_WASM_TRAP with *trap filled.
 */
static seam_err run_action(spec_run *run, const cJSON *action, seam_wasm_value *results,
                           uint32_t *count, seam_wasm_trap *trap, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    seam_wasm_instance *instance = NULL;
    seam_wasm_extern ext;
    seam_wasm_value args[SPEC_MAX_VALUES];
    const char *type = spec_json_string(action, "type");
    spec_name name = {0};
    char field[SPEC_NAME_TEXT];
    const cJSON *json_args = cJSON_GetObjectItemCaseSensitive(action, "args");
    int arg_count = cJSON_IsArray(json_args) ? cJSON_GetArraySize(json_args) : 0;
    *count = 0;
    memset(trap, 0, sizeof *trap);
    spec_json_name_text(action, "field", field, sizeof field);
    err = target_instance(run, spec_json_string(action, "module"), &instance, why, why_size);
    if (err)
        goto done;
    if (!spec_json_name(action, "field", &name)) {
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    err = seam_wasm_instance_export(instance, spec_name_view(&name), &ext);
    if (err) {
        snprintf(why, why_size, "export \"%s\": %s", field, seam_err_str(err));
        goto done;
    }
    if (!strcmp(type, "get") && ext.kind == SEAM_WASM_EXTERN_GLOBAL) {
        results[0] = seam_wasm_global_get(ext.as.global);
        *count = 1;
        goto done;
    }
    uint32_t result_count = ext.kind == SEAM_WASM_EXTERN_FUNC
                                ? seam_wasm_func_result_count(ext.as.func)
                                : SPEC_MAX_VALUES + 1;
    if (strcmp(type, "invoke") || result_count > SPEC_MAX_VALUES || arg_count > SPEC_MAX_VALUES) {
        err = mismatch(why, why_size, "cannot %s export \"%s\"", type, field);
        goto done;
    }
    for (int i = 0; i < arg_count; i++) {
        spec_value value;
        err = parse_value(cJSON_GetArrayItem(json_args, i), &value);
        if (err || value.kind != SPEC_BITS) {
            err = mismatch(why, why_size, "argument %d of \"%s\" is not understood", i, field);
            goto done;
        }
        args[i] = (seam_wasm_value){.type = value.type, .bits = value.bits};
    }
    for (uint32_t i = 0; i < result_count; i++)
        results[i] = (seam_wasm_value){.type = seam_wasm_func_result_type(ext.as.func, i)};
    err = seam_wasm_call(run->store, ext.as.func, args, (uint32_t)arg_count, results, result_count,
                         trap);
    if (err == SEAM_ERR_WASM_TRAP)
        snprintf(why, why_size, "invoke \"%s\" trapped: \"%s\" (%s)", field,
                 seam_wasm_trap_name(trap->code), trap->message);
    else if (err)
        snprintf(why, why_size, "invoke \"%s\": %s", field, seam_err_str(err));
    else
        *count = result_count;
done:
    free(name.bytes);
    return err;
}

/* module: instantiate and make it current (and named, when it has a name). */
static seam_err command_module(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    spec_module *loaded = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_trap trap = {0};
    char err_text[256] = "";
    char failure[512];
    const char *name = spec_json_string(cmd, "name");
    run->current = NULL;
    run->current_line = spec_json_line(cmd);
    err = load_module(run, cmd, &loaded, why, why_size);
    if (err)
        goto done;
    if (name[0] && !(loaded->name = strdup(name))) {
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    err = seam_wasm_instantiate(run->store, loaded->module, run->imports, NULL, &instance, &trap,
                                err_text, sizeof err_text);
    if (err) {
        describe_failure(failure, sizeof failure, err, &trap, err_text);
        snprintf(why, why_size, "%s: expected an instance, got %s",
                 spec_json_string(cmd, "filename"), failure);
        goto done;
    }
    loaded->instance = instance;
    run->current = instance;
done:
    return err;
}

/* register: offer a module's exports to later imports under the name "as". */
static seam_err command_register(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    seam_wasm_instance *instance = NULL;
    spec_name as = {0};
    char as_text[SPEC_NAME_TEXT];
    err = target_instance(run, spec_json_string(cmd, "name"), &instance, why, why_size);
    if (err)
        goto done;
    err = spec_json_name(cmd, "as", &as) ? SEAM_OK : SEAM_ERR_NOMEM;
    if (!err)
        err = seam_wasm_imports_add_instance(run->imports, spec_name_view(&as), instance);
    if (err)
        snprintf(why, why_size, "registering \"%s\": %s",
                 spec_json_name_text(cmd, "as", as_text, sizeof as_text), seam_err_str(err));
done:
    free(as.bytes);
    return err;
}

/* action and assert_return: the action succeeds (with the expected results). */
static seam_err command_return(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    seam_wasm_value results[SPEC_MAX_VALUES];
    uint32_t count = 0;
    seam_wasm_trap trap;
    char want[SPEC_WHY_SIZE / 2] = "";
    char got[SPEC_WHY_SIZE / 2] = "";
    char field[SPEC_NAME_TEXT];
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    int expected_count = cJSON_IsArray(expected) ? cJSON_GetArraySize(expected) : 0;
    bool same = false;
    err = run_action(run, action, results, &count, &trap, why, why_size);
    if (err || strcmp(spec_json_string(cmd, "type"), "assert_return"))
        goto done;
    same = (uint32_t)expected_count == count;
    for (int i = 0; i < expected_count; i++) {
        spec_value value;
        if (parse_value(cJSON_GetArrayItem(expected, i), &value)) {
            err = mismatch(why, why_size, "expected value %d is not understood", i);
            goto done;
        }
        append(want, sizeof want, i ? " " : "");
        format_value(want, sizeof want, &value);
        same = same && value_matches(&value, &results[i]);
    }
    for (uint32_t i = 0; i < count; i++) {
        spec_value value = {.type = results[i].type, .kind = SPEC_BITS, .bits = results[i].bits};
        append(got, sizeof got, i ? " " : "");
        format_value(got, sizeof got, &value);
    }
    if (!same)
        err = mismatch(why, why_size, "invoke \"%s\": expected (%s), got (%s)",
                       spec_json_name_text(action, "field", field, sizeof field), want, got);
done:
    return err;
}

/* assert_trap and assert_exhaustion: the action traps for the stated reason. */
static seam_err command_trap(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    seam_wasm_value results[SPEC_MAX_VALUES];
    uint32_t count = 0;
    seam_wasm_trap trap;
    const char *text = spec_json_string(cmd, "text");
    char field[SPEC_NAME_TEXT];
    spec_json_name_text(cJSON_GetObjectItemCaseSensitive(cmd, "action"), "field", field,
                        sizeof field);
    err = run_action(run, cJSON_GetObjectItemCaseSensitive(cmd, "action"), results, &count, &trap,
                     why, why_size);
    if (err == SEAM_ERR_WASM_TRAP && trap_matches(text, trap.code))
        err = SEAM_OK;
    else if (err == SEAM_ERR_WASM_TRAP)
        err = mismatch(why, why_size, "invoke \"%s\": expected trap \"%s\", got trap \"%s\" (%s)",
                       field, text, seam_wasm_trap_name(trap.code), trap.message);
    else if (!err)
        err = mismatch(why, why_size, "invoke \"%s\": expected trap \"%s\", got success", field,
                       text);
    return err;
}

/* assert_invalid and assert_malformed: validation or decoding fails, in the right class. */
static seam_err command_reject(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    spec_module *loaded = NULL;
    char detail[SPEC_WHY_SIZE / 2] = "";
    const char *filename = spec_json_string(cmd, "filename");
    const char *text = spec_json_string(cmd, "text");
    bool invalid = !strcmp(spec_json_string(cmd, "type"), "assert_invalid");
    seam_err wanted = invalid ? SEAM_ERR_WASM_INVALID : SEAM_ERR_WASM_MALFORMED;
    seam_err other = invalid ? SEAM_ERR_WASM_MALFORMED : SEAM_ERR_WASM_INVALID;
    err = load_module(run, cmd, &loaded, detail, sizeof detail);
    if (err == wanted)
        err = SEAM_OK;
    else if (!err)
        err = mismatch(why, why_size, "%s: expected %s \"%s\", got a valid module", filename,
                       invalid ? "invalid" : "malformed", text);
    else
        err = mismatch(why, why_size, "%sexpected %s \"%s\", got %s",
                       err == other ? "wrong error class: " : "", invalid ? "invalid" : "malformed",
                       text, detail);
    return err;
}

/* assert_unlinkable (link error) and assert_uninstantiable (trap): instantiation fails. */
static seam_err command_no_instance(spec_run *run, const cJSON *cmd, char *why, size_t why_size) {
    seam_err err = SEAM_OK;
    spec_module *loaded = NULL;
    seam_wasm_instance *instance = NULL;
    seam_wasm_trap trap = {0};
    char err_text[256] = "";
    char failure[512];
    const char *text = spec_json_string(cmd, "text");
    const char *filename = spec_json_string(cmd, "filename");
    bool unlinkable = !strcmp(spec_json_string(cmd, "type"), "assert_unlinkable");
    seam_err wanted = unlinkable ? SEAM_ERR_WASM_LINK : SEAM_ERR_WASM_TRAP;
    err = load_module(run, cmd, &loaded, why, why_size);
    if (err)
        goto done;
    err = seam_wasm_instantiate(run->store, loaded->module, run->imports, NULL, &instance, &trap,
                                err_text, sizeof err_text);
    describe_failure(failure, sizeof failure, err, &trap, err_text);
    if (err == wanted && (unlinkable || trap_matches(text, trap.code)))
        err = SEAM_OK;
    else if (!err)
        err = mismatch(why, why_size, "%s: expected %s \"%s\", got an instance", filename,
                       unlinkable ? "link error" : "trap", text);
    else
        err = mismatch(why, why_size, "%s%s: expected %s \"%s\", got %s",
                       err != wanted ? "wrong error class: " : "", filename,
                       unlinkable ? "link error" : "trap", text, failure);
done:
    return err;
}

/* The spectest module's print functions: they print nothing. */
static seam_err spectest_print(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    (void)ctx, (void)env, (void)args, (void)results;
    return SEAM_OK;
}

/* Offers the spectest host module the suite imports from. */
static seam_err spectest_register(spec_run *run) {
    seam_err err = SEAM_OK;
    const seam_wasm_name spectest = SEAM_WASM_NAME("spectest");
    static const char *const prints[][2] = {
        {"print", "->"},           {"print_i32", "i->"}, {"print_i64", "I->"},
        {"print_f32", "f->"},      {"print_f64", "F->"}, {"print_i32_f32", "if->"},
        {"print_f64_f64", "FF->"},
    };
    float f32 = 666.6f;
    double f64 = 666.6;
    seam_wasm_value globals[4] = {
        {SEAM_WASM_I32, 666}, {SEAM_WASM_I64, 666}, {SEAM_WASM_F32, 0}, {SEAM_WASM_F64, 0}};
    static const char *const global_names[4] = {"global_i32", "global_i64", "global_f32",
                                                "global_f64"};
    uint32_t f32_bits;
    memcpy(&f32_bits, &f32, sizeof f32_bits);
    globals[2].bits = f32_bits;
    memcpy(&globals[3].bits, &f64, sizeof f64);
    seam_wasm_extern ext;
    for (size_t i = 0; !err && i < sizeof prints / sizeof prints[0]; i++)
        err = seam_wasm_imports_add_host(run->imports, run->store, spectest,
                                         seam_wasm_name_of(prints[i][0]), prints[i][1],
                                         spectest_print, NULL);
    for (size_t i = 0; !err && i < 4; i++) {
        ext.kind = SEAM_WASM_EXTERN_GLOBAL;
        err = seam_wasm_global_new(run->store, globals[i], false, &ext.as.global);
        if (!err)
            err = seam_wasm_imports_add(run->imports, spectest, seam_wasm_name_of(global_names[i]),
                                        ext);
    }
    ext.kind = SEAM_WASM_EXTERN_TABLE;
    if (!err)
        err = seam_wasm_table_new(run->store, SEAM_WASM_FUNCREF, 10, 20, true, &ext.as.table);
    if (!err)
        err = seam_wasm_imports_add(run->imports, spectest, SEAM_WASM_NAME("table"), ext);
    ext.kind = SEAM_WASM_EXTERN_MEMORY;
    if (!err)
        err = seam_wasm_memory_new(run->store, 1, 2, true, &ext.as.memory);
    if (!err)
        err = seam_wasm_imports_add(run->imports, spectest, SEAM_WASM_NAME("memory"), ext);
    return err;
}

/* Runs one command of a .json file, prints its failure (or, verbose, its result) and counts it. */
static void run_command(spec_run *run, const cJSON *cmd) {
    static const struct {
        const char *type;
        seam_err (*run)(spec_run *run, const cJSON *cmd, char *why, size_t why_size);
    } handlers[] = {
        {"module", command_module},
        {"register", command_register},
        {"action", command_return},
        {"assert_return", command_return},
        {"assert_trap", command_trap},
        {"assert_exhaustion", command_trap},
        {"assert_invalid", command_reject},
        {"assert_malformed", command_reject},
        {"assert_unlinkable", command_no_instance},
        {"assert_uninstantiable", command_no_instance},
    };
    spec_counts *counts = run->counts;
    char why[SPEC_WHY_SIZE] = "unknown command type";
    seam_err err = SEAM_ERR_CLI_MISMATCH;
    const char *type = spec_json_string(cmd, "type");
    counts->line = spec_json_line(cmd);
    if (!strcmp(spec_json_string(cmd, "module_type"), "text")) {
        snprintf(why, sizeof why, "text modules are out of scope");
        if (!strcmp(type, "assert_malformed")) {
            counts->skipped++;
            if (counts->verbose)
                printf("%s:%ld: %s: skipped (text module)\n", counts->source, counts->line, type);
            return;
        }
    } else {
        for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
            if (!strcmp(type, handlers[i].type)) {
                why[0] = 0;
                err = handlers[i].run(run, cmd, why, sizeof why);
                break;
            }
        }
    }
    if (err) {
        counts->failed++;
        printf("%s:%ld: %s: %s\n", counts->source, counts->line, type,
               why[0] ? why : seam_err_str(err));
    } else {
        counts->passed++;
        if (counts->verbose)
            printf("%s:%ld: %s: ok\n", counts->source, counts->line, type);
    }
    fflush(stdout);
}

/* Runs every command of one .json file, adding to counts; problems are counted as failures. */
static seam_err run_file(const char *json_path, spec_counts *counts) {
    seam_err err = SEAM_OK;
    spec_run run = {.counts = counts};
    uint8_t *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    const cJSON *cmd = NULL;
    const char *problem = "cannot read the file";
    snprintf(counts->source, sizeof counts->source, "%s", json_path);
    counts->line = 0;
    err = read_file(json_path, &text, &len);
    if (err)
        goto done;
    root = spec_json_parse((const char *)text, len);
    const cJSON *commands = cJSON_GetObjectItemCaseSensitive(root, "commands");
    problem = root ? "no \"commands\" array" : "malformed JSON";
    if (!cJSON_IsArray(commands)) {
        err = SEAM_ERR_MALFORMED;
        goto done;
    }
    if (spec_json_string(root, "source_filename")[0])
        snprintf(counts->source, sizeof counts->source, "%s",
                 spec_json_string(root, "source_filename"));
    const char *slash = strrchr(json_path, '/');
    run.dir = slash ? strndup(json_path, (size_t)(slash - json_path)) : strdup(".");
    problem = "cannot set up the store and the spectest module";
    err = run.dir ? seam_wasm_store_new(NULL, &run.store) : SEAM_ERR_NOMEM;
    if (!err)
        err = seam_wasm_imports_new(&run.imports);
    if (!err)
        err = spectest_register(&run);
    if (err)
        goto done;
    seam_wasm_store_set_fuel(run.store, SPEC_FUEL);
    cJSON_ArrayForEach(cmd, commands) {
        run_command(&run, cmd);
    }
done:
    if (err) {
        counts->failed++;
        printf("%s:%ld: file: %s (%s)\n", counts->source, counts->line, problem, seam_err_str(err));
        fflush(stdout);
    }
    seam_wasm_imports_free(run.imports);
    seam_wasm_store_free(run.store); /* the instances go before their modules */
    for (size_t i = 0; i < run.module_count; i++) {
        seam_wasm_module_free(run.modules[i].module);
        free(run.modules[i].name);
    }
    free(run.modules);
    free(run.dir);
    cJSON_Delete(root);
    free(text);
    return err;
}

/* Runs one .json file in a child process (unless in_process); a crash or hang is one failure. */
static seam_err run_file_guarded(const char *json_path, spec_counts *total) {
    seam_err err = SEAM_OK;
    int status = 0;
    spec_counts *counts = NULL;
    if (total->in_process) {
        run_file(json_path, total);
        goto done;
    }
    counts = mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED) {
        counts = NULL;
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    *counts = (spec_counts){.verbose = total->verbose};
    snprintf(counts->source, sizeof counts->source, "%s", json_path);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        alarm(SPEC_FILE_TIMEOUT);
        run_file(json_path, counts);
        fflush(stdout);
        _exit(0);
    }
    while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
        continue;
    if (child < 0) {
        err = SEAM_ERR_IO;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        counts->failed++;
        printf("%s:%ld: timeout: the file did not finish within %d s\n", counts->source,
               counts->line, SPEC_FILE_TIMEOUT);
    } else if (WIFSIGNALED(status) || !WIFEXITED(status) || WEXITSTATUS(status)) {
        counts->failed++;
        printf("%s:%ld: crash: the runner died (%s) in this command\n", counts->source,
               counts->line, WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit status");
    }
done:
    if (err) {
        total->failed++;
        printf("%s: cannot run it: %s\n", json_path, seam_err_str(err));
    }
    if (counts) {
        total->passed += counts->passed;
        total->failed += counts->failed;
        total->skipped += counts->skipped;
        munmap(counts, sizeof *counts);
    }
    return err;
}

/* Runs path if it is a .json file, or every .json file below it (in name order) if a folder. */
static seam_err walk(const char *path, spec_counts *total, size_t *found) {
    seam_err err = SEAM_OK;
    struct dirent **entries = NULL;
    int count = 0;
    struct stat info;
    size_t len = strlen(path);
    if (stat(path, &info) != 0) {
        err = SEAM_ERR_IO;
        goto done;
    }
    if (S_ISREG(info.st_mode) && len > 5 && !strcmp(path + len - 5, ".json")) {
        (*found)++;
        run_file_guarded(path, total); /* counts its own problems */
        goto done;
    }
    count = S_ISDIR(info.st_mode) ? scandir(path, &entries, NULL, alphasort) : 0;
    if (count < 0) {
        count = 0;
        err = SEAM_ERR_IO;
    }
    for (int i = 0; i < count; i++) {
        char *child = entries[i]->d_name[0] == '.' ? NULL : join_path(path, entries[i]->d_name);
        if (child)
            walk(child, total, found); /* an unreadable entry is not suite input */
        free(child);
    }
done:
    for (int i = 0; i < count; i++)
        free(entries[i]);
    free(entries);
    return err;
}

/* seam wasm spec [-v] [--no-fork] DIR...: runs every .json file found under the DIRs. */
int seam_cli_wasm_spec(int argc, char **argv) {
    spec_counts total = {0};
    int status = 2;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
            printf("usage: seam wasm spec [-v] [--no-fork] DIR...\n\n"
                   "Runs the WebAssembly core test suite as wast2json wrote it: every .json file\n"
                   "under the DIRs (docs/wasm-spec-runner.md).\n"
                   "  -v          every failed assertion, not only the counts\n"
                   "  --no-fork   run the files in this process (for debuggers)\n");
            return 0;
        }
        if (!strcmp(argv[first], "-v"))
            total.verbose = true;
        else if (!strcmp(argv[first], "--no-fork"))
            total.in_process = true;
        else
            first = argc; /* unknown option: usage */
    }
    if (first >= argc) {
        fprintf(stderr, "usage: seam wasm spec [-v] [--no-fork] DIR...\n");
        goto done;
    }
    for (int i = first; i < argc; i++) {
        size_t found = 0;
        seam_err err = walk(argv[i], &total, &found);
        if (err || !found) {
            printf("%s: %s\n", argv[i], err ? "cannot read it" : "no .json files in it");
            total.failed++;
        }
    }
    printf("%" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", total.passed,
           total.failed, total.skipped);
    status = total.failed ? 1 : 0;
done:
    return status;
}
