/*
 * seam WebAssembly engine: the card's processor.
 *
 * WebAssembly 2.0 core without SIMD: decoding, validation, instantiation and
 * a metered interpreter over code translated once at instantiation.
 *
 * Object model (after the specification's store):
 *   - A seam_wasm_store owns every runtime object made in it: instances,
 *     functions, memories, tables and globals. Objects of one store can be
 *     shared between its instances (imports); seam_wasm_store_free releases
 *     them all. Objects never cross stores.
 *   - A seam_wasm_module is the decoded, validated binary. It is independent
 *     of any store, can be instantiated many times and is freed by its owner
 *     after the instances made from it (instances keep pointers into it).
 *   - A seam_wasm_imports lists what the embedder offers to a module: host
 *     functions registered by module and name with their signature, and
 *     exports of other instances.
 *
 * Values cross the API as seam_wasm_value: a type and 64 raw bits. Integers
 * are stored zero-extended, floats as their IEEE bit patterns, references as
 * an opaque non-zero word (0 is the null reference). An externref's word is
 * chosen by the embedder; a funcref's word is a seam_wasm_func pointer.
 *
 * Safety: every memory and table access is bounds-checked; the store's
 * limits bound memory pages, table sizes, call depth and the value stack;
 * a fuel budget bounds each call. A trap never leaves the store unusable.
 */
#ifndef SEAM_WASM_H
#define SEAM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* Value types, numbered as in the binary format. */
typedef enum {
    SEAM_WASM_I32 = 0x7f,
    SEAM_WASM_I64 = 0x7e,
    SEAM_WASM_F32 = 0x7d,
    SEAM_WASM_F64 = 0x7c,
    SEAM_WASM_FUNCREF = 0x70,
    SEAM_WASM_EXTERNREF = 0x6f,
} seam_wasm_valtype;

/* Kinds of importable and exportable objects, numbered as in the binary. */
typedef enum {
    SEAM_WASM_EXTERN_FUNC = 0,
    SEAM_WASM_EXTERN_TABLE = 1,
    SEAM_WASM_EXTERN_MEMORY = 2,
    SEAM_WASM_EXTERN_GLOBAL = 3,
} seam_wasm_extern_kind;

/* Why execution stopped abnormally. */
typedef enum {
    SEAM_WASM_TRAP_NONE = 0,
    SEAM_WASM_TRAP_UNREACHABLE,          /* "unreachable" executed */
    SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, /* load, store or bulk op outside memory */
    SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS,  /* table access outside the table */
    SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO,
    SEAM_WASM_TRAP_INTEGER_OVERFLOW,      /* INT_MIN / -1 and truncation overflow */
    SEAM_WASM_TRAP_INVALID_CONVERSION,    /* NaN truncated to an integer */
    SEAM_WASM_TRAP_UNDEFINED_ELEMENT,     /* call_indirect index past the table */
    SEAM_WASM_TRAP_UNINITIALIZED_ELEMENT, /* call_indirect through a null entry */
    SEAM_WASM_TRAP_INDIRECT_CALL_TYPE,    /* call_indirect signature mismatch */
    SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED,  /* call depth or value stack limit */
    SEAM_WASM_TRAP_FUEL_EXHAUSTED,        /* the call's fuel budget ran out */
    SEAM_WASM_TRAP_HOST,                  /* a host function failed */
    SEAM_WASM_TRAP_EXIT,                  /* a host function asked to exit */
} seam_wasm_trap_code;

typedef struct seam_wasm_module seam_wasm_module;

/*
 * Where a trap happened (docs/wasm.md, "Trap locations"): the function and the
 * failing instruction. For a host function that failed, the call instruction;
 * for running out of fuel, the first instruction of the straight-line region
 * (function start, loop body, code after a block) that could not be paid for,
 * or the bulk operation or host call that could not. Not known (known false)
 * for a trap outside any function body: a segment out of bounds at
 * instantiation, a host function called directly by the embedder, a call that
 * could not even start (call stack exhausted on entry).
 */
typedef struct {
    bool known;
    const seam_wasm_module *module; /* the module whose code trapped; valid while it lives */
    uint32_t func_index;            /* in the module's function index space: imports first, as the
                                       name section numbers functions */
    uint32_t offset;                /* byte offset of the failing instruction from the start of the
                                       module binary (as wasm-objdump -d prints addresses) */
} seam_wasm_trap_location;

/* What a failed call reports: a reason code, a text for people and where it happened. */
typedef struct {
    seam_wasm_trap_code code;
    int32_t exit_code; /* for SEAM_WASM_TRAP_EXIT: the requested status */
    char message[160];
    seam_wasm_trap_location where;
} seam_wasm_trap;

/* A typed value; see the header comment for the meaning of bits. */
typedef struct {
    seam_wasm_valtype type;
    uint64_t bits;
} seam_wasm_value;

/*
 * Embedder limits and options for a store. Zero fields take the defaults. A
 * table or memory past a limit is refused at creation (SEAM_ERR_WASM_LIMIT);
 * table.grow and memory.grow past one return -1.
 */
typedef struct {
    uint32_t max_memory_pages;  /* 64 KiB pages per memory; default 65536 */
    uint32_t max_table_size;    /* entries per table; default 10,000,000 */
    uint32_t max_table_entries; /* entries of all the store's tables together; default 10,000,000 */
    uint32_t max_call_depth;    /* nested wasm calls; default 1,000 */
    uint32_t value_stack_slots; /* 64-bit slots for operands and locals; default 1 Mi */
    bool metering_off;          /* translate code without fuel charges */
} seam_wasm_limits;

/*
 * A WebAssembly name (export, import and custom section names): len bytes of
 * UTF-8, not NUL-terminated, which may contain NUL bytes. Names are equal when
 * their bytes are: "", "\0" and "\0\1" are three different names.
 */
typedef struct {
    const char *bytes;
    size_t len;
} seam_wasm_name;

/* The name spelt by a string literal, NUL bytes included ("a\0b" has 3 bytes). */
#define SEAM_WASM_NAME(literal) ((seam_wasm_name){"" literal, sizeof(literal) - 1})

/* The name of a NUL-terminated C string (its bytes up to the NUL); text is borrowed. */
seam_wasm_name seam_wasm_name_of(const char *text);

/* Whether two names are the same byte string. */
bool seam_wasm_name_equal(seam_wasm_name a, seam_wasm_name b);

/*
 * Writes name for people into buf (NUL-terminated, truncated to size): printable
 * ASCII as is, '"' and '\\' and every other byte as \hh, as the text format
 * spells strings ("\00\01", "caf\c3\a9"). Returns buf.
 */
char *seam_wasm_name_print(char *buf, size_t size, seam_wasm_name name);

typedef struct seam_wasm_store seam_wasm_store;
typedef struct seam_wasm_instance seam_wasm_instance;
typedef struct seam_wasm_func seam_wasm_func;
typedef struct seam_wasm_memory seam_wasm_memory;
typedef struct seam_wasm_table seam_wasm_table;
typedef struct seam_wasm_global seam_wasm_global;
typedef struct seam_wasm_imports seam_wasm_imports;
typedef struct seam_wasm_call_ctx seam_wasm_call_ctx;

/* A reference to one importable object of a store. */
typedef struct {
    seam_wasm_extern_kind kind;
    union {
        seam_wasm_func *func;
        seam_wasm_table *table;
        seam_wasm_memory *memory;
        seam_wasm_global *global;
    } as;
} seam_wasm_extern;

/*
 * A host function. args holds the parameters and results receives the
 * results, each as raw bits in signature order. Return SEAM_OK, or call
 * seam_wasm_ctx_trap and return SEAM_ERR_WASM_TRAP to stop the wasm caller.
 */
typedef seam_err (*seam_wasm_host_fn)(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                      uint64_t *results);

/* ---- modules -------------------------------------------------------- */

/*
 * Decodes and validates a binary module. The module copies what it needs, so
 * bytes may be freed afterwards. On success *out is the caller's, to free with
 * seam_wasm_module_free. Errors: SEAM_ERR_WASM_MALFORMED (does not decode),
 * SEAM_ERR_WASM_INVALID (does not validate), SEAM_ERR_WASM_LIMIT (past one of
 * the engine's implementation limits, docs/wasm.md), SEAM_ERR_NOMEM; a reason
 * is written to err_text (may be NULL) when it has room.
 */
seam_err seam_wasm_module_new(const uint8_t *bytes, size_t len, seam_wasm_module **out,
                              char *err_text, size_t err_text_size);

/* Frees a module; NULL is allowed. Instances made from it must be gone. */
void seam_wasm_module_free(seam_wasm_module *module);

/* Number of custom sections in the module. */
uint32_t seam_wasm_module_custom_count(const seam_wasm_module *module);

/*
 * Finds the first custom section called name (compared byte for byte); *data
 * and *len point into the module (valid while it lives). Errors:
 * SEAM_ERR_NOT_FOUND.
 */
seam_err seam_wasm_module_custom(const seam_wasm_module *module, seam_wasm_name name,
                                 const uint8_t **data, size_t *len);

/*
 * Finds the name of function func_index (imports first) in the module's "name"
 * custom section (its function names subsection); *name points into the
 * module. A name section that does not decode is ignored, never an error of
 * the module. Errors: SEAM_ERR_NOT_FOUND (no name section, no name for that
 * function, or a malformed name section).
 */
seam_err seam_wasm_module_func_name(const seam_wasm_module *module, uint32_t func_index,
                                    seam_wasm_name *name);

/*
 * The same lookup in the content of a name section, data[0..len) (the bytes
 * after the section's name): reads nothing outside it and allocates nothing.
 * The whole function names subsection is checked (sizes, counts, UTF-8, indices
 * in increasing order) before anything is answered, so a malformed one yields
 * no name at all. Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_MALFORMED (the
 * section's framing or its function names subsection does not decode).
 */
seam_err seam_wasm_name_section_func(const uint8_t *data, size_t len, uint32_t func_index,
                                     seam_wasm_name *name);

/* ---- stores --------------------------------------------------------- */

/* Creates an empty store with the given limits (NULL for defaults); *out is the caller's. */
seam_err seam_wasm_store_new(const seam_wasm_limits *limits, seam_wasm_store **out);

/* Frees a store and every object made in it; NULL is allowed. */
void seam_wasm_store_free(seam_wasm_store *store);

/*
 * Sets the fuel each following top-level call may spend (default UINT64_MAX,
 * in effect unlimited). A store created with metering_off charges nothing.
 */
void seam_wasm_store_set_fuel(seam_wasm_store *store, uint64_t fuel);

/* Fuel left of the budget after the last top-level call (budget minus fuel used). */
uint64_t seam_wasm_store_fuel(const seam_wasm_store *store);

/* ---- imports -------------------------------------------------------- */

/* Creates an empty import list; *out is the caller's, to free with seam_wasm_imports_free. */
seam_err seam_wasm_imports_new(seam_wasm_imports **out);

/* Frees an import list (not the objects it names); NULL is allowed. */
void seam_wasm_imports_free(seam_wasm_imports *imports);

/*
 * Offers an object of a store as import module.name; the names' bytes are
 * copied. An import matches an offer when both names are the same bytes. A
 * later entry with the same names replaces the earlier one.
 */
seam_err seam_wasm_imports_add(seam_wasm_imports *imports, seam_wasm_name module,
                               seam_wasm_name name, seam_wasm_extern ext);

/*
 * Creates a host function in store and offers it as module.name. signature
 * reads "params->results" with one letter per value: i (i32), I (i64), f (f32),
 * F (f64), r (funcref), e (externref); e.g. "ii->i" or "->". env is borrowed
 * and passed to fn on every call. Errors: SEAM_ERR_ARG for a bad signature.
 */
seam_err seam_wasm_imports_add_host(seam_wasm_imports *imports, seam_wasm_store *store,
                                    seam_wasm_name module, seam_wasm_name name,
                                    const char *signature, seam_wasm_host_fn fn, void *env);

/* Offers every export of instance under module name `module`. */
seam_err seam_wasm_imports_add_instance(seam_wasm_imports *imports, seam_wasm_name module,
                                        seam_wasm_instance *instance);

/* ---- instances ------------------------------------------------------ */

/* Options for instantiation; zero-initialise for the normal case. */
typedef struct {
    /*
     * Restore the module's own memory from this image (pages * 65536 bytes,
     * copied) instead of applying active data segments: the instance continues
     * from a state saved earlier. NULL for a fresh instance.
     */
    const uint8_t *memory_image;
    uint32_t memory_image_pages;
    /* Do not run the start function (e.g. when restoring). */
    bool skip_start;
} seam_wasm_instance_options;

/*
 * Instantiates module in store, resolving its imports from imports (may be
 * NULL when it has none), then applies segments and runs the start function.
 * The instance belongs to the store. Errors: SEAM_ERR_WASM_LINK (missing or
 * mismatched import; err_text names it), SEAM_ERR_WASM_LIMIT, SEAM_ERR_WASM_TRAP
 * (a segment is out of bounds or start trapped; *trap says why; the instance is
 * not returned), SEAM_ERR_NOMEM.
 */
seam_err seam_wasm_instantiate(seam_wasm_store *store, const seam_wasm_module *module,
                               const seam_wasm_imports *imports,
                               const seam_wasm_instance_options *options, seam_wasm_instance **out,
                               seam_wasm_trap *trap, char *err_text, size_t err_text_size);

/*
 * Puts everything of instance but its memories back as seam_wasm_instantiate
 * with a memory image (options->memory_image) left it, reusing its objects:
 * its own globals get their initial values, its own tables their initial size
 * with the active element segments written again, and each segment is dropped
 * or not as instantiation leaves it. Its memories keep their bytes and size
 * (the embedder knows them, e.g. equal to the image it would instantiate
 * with) and the start function is not run. Imported objects are not touched.
 * Meant for an embedder that keeps an instance between uses instead of
 * making it again (the card's deselected applets, docs/card.md "RAM caches").
 * Errors: SEAM_ERR_WASM_TRAP (an active element segment no longer fits its
 * table, which cannot happen to an instance of a module without imported
 * tables); SEAM_ERR_ARG for NULL.
 */
seam_err seam_wasm_instance_reset(seam_wasm_instance *instance);

/* Looks up an export by its exact name. Errors: SEAM_ERR_WASM_EXPORT when absent. */
seam_err seam_wasm_instance_export(const seam_wasm_instance *instance, seam_wasm_name name,
                                   seam_wasm_extern *out);

/* Number of exports, and the name (pointing into the module) and object of the i-th one. */
uint32_t seam_wasm_instance_export_count(const seam_wasm_instance *instance);
seam_err seam_wasm_instance_export_at(const seam_wasm_instance *instance, uint32_t i,
                                      seam_wasm_name *name, seam_wasm_extern *out);

/* The instance's memory 0 (own or imported), or NULL when it has none. */
seam_wasm_memory *seam_wasm_instance_memory(const seam_wasm_instance *instance);

/* ---- functions and calls ------------------------------------------- */

/* Number of parameters and results of func, and their types. */
uint32_t seam_wasm_func_param_count(const seam_wasm_func *func);
uint32_t seam_wasm_func_result_count(const seam_wasm_func *func);
seam_wasm_valtype seam_wasm_func_param_type(const seam_wasm_func *func, uint32_t i);
seam_wasm_valtype seam_wasm_func_result_type(const seam_wasm_func *func, uint32_t i);

/*
 * Calls func with args (types must match: SEAM_ERR_WASM_SIGNATURE otherwise)
 * and writes its results to results[0..result_count). Spends at most the
 * store's fuel. Errors: SEAM_ERR_WASM_TRAP with *trap filled (trap may be NULL);
 * the store stays usable after any trap.
 */
seam_err seam_wasm_call(seam_wasm_store *store, seam_wasm_func *func, const seam_wasm_value *args,
                        uint32_t arg_count, seam_wasm_value *results, uint32_t result_count,
                        seam_wasm_trap *trap);

/* ---- inside host functions ----------------------------------------- */

/* The memory 0 of the instance whose code called the host function, or NULL. */
seam_wasm_memory *seam_wasm_ctx_memory(seam_wasm_call_ctx *ctx);

/* The store the call runs in. */
seam_wasm_store *seam_wasm_ctx_store(seam_wasm_call_ctx *ctx);

/* Records why the host function fails; it then returns SEAM_ERR_WASM_TRAP. */
void seam_wasm_ctx_trap(seam_wasm_call_ctx *ctx, seam_wasm_trap_code code, int32_t exit_code,
                        const char *message);

/* Charges fuel for host work (nothing when metering is off); false, with the trap
   recorded, when it runs out: the host function then returns SEAM_ERR_WASM_TRAP. */
bool seam_wasm_ctx_charge(seam_wasm_call_ctx *ctx, uint64_t fuel);

/* ---- memories ------------------------------------------------------- */

/* Current size in bytes (a multiple of 65536). */
size_t seam_wasm_memory_size(const seam_wasm_memory *memory);

/* Base of the bytes; valid until the memory grows. Writes through it must be marked dirty. */
uint8_t *seam_wasm_memory_data(seam_wasm_memory *memory);

/*
 * Copies len bytes at offset out of memory, or into it (marking the pages
 * dirty). Errors: SEAM_ERR_ARG when the range is outside the memory.
 */
seam_err seam_wasm_memory_read(const seam_wasm_memory *memory, uint64_t offset, void *out,
                               size_t len);
seam_err seam_wasm_memory_write(seam_wasm_memory *memory, uint64_t offset, const void *data,
                                size_t len);

/* Size of the dirty-page unit: 4 KiB. */
#define SEAM_WASM_DIRTY_PAGE_SIZE 4096u

/* Marks the 4 KiB pages covering [offset, offset+len) as written. */
void seam_wasm_memory_mark_dirty(seam_wasm_memory *memory, uint64_t offset, size_t len);

/*
 * Lists the indices of the 4 KiB pages written since the last clear, in
 * increasing order, into pages[0..max); returns how many there are (which may
 * exceed max). A grow marks every new page dirty.
 */
size_t seam_wasm_memory_dirty_pages(const seam_wasm_memory *memory, uint32_t *pages, size_t max);

/* Forgets which pages were written (after the embedder has saved them). */
void seam_wasm_memory_clear_dirty(seam_wasm_memory *memory);

/* ---- globals and tables --------------------------------------------- */

/* Reads a global's value. */
seam_wasm_value seam_wasm_global_get(const seam_wasm_global *global);

/* Sets a mutable global. Errors: SEAM_ERR_ARG when immutable or the type differs. */
seam_err seam_wasm_global_set(seam_wasm_global *global, seam_wasm_value value);

/* Creates a global, table or memory in store (for hosts that export them); the object
   belongs to the store. Errors: SEAM_ERR_NOMEM, SEAM_ERR_WASM_LIMIT (a table or
   memory minimum above the store's limits). */
seam_err seam_wasm_global_new(seam_wasm_store *store, seam_wasm_value value, bool is_mutable,
                              seam_wasm_global **out);
seam_err seam_wasm_table_new(seam_wasm_store *store, seam_wasm_valtype elem_type, uint32_t min,
                             uint32_t max, bool has_max, seam_wasm_table **out);
seam_err seam_wasm_memory_new(seam_wasm_store *store, uint32_t min_pages, uint32_t max_pages,
                              bool has_max, seam_wasm_memory **out);

/* Current number of entries of a table. */
uint32_t seam_wasm_table_size(const seam_wasm_table *table);

/* ---- names ---------------------------------------------------------- */

/* Static names for diagnostics ("i32", "out of bounds memory access", ...). */
const char *seam_wasm_valtype_name(seam_wasm_valtype type);
const char *seam_wasm_trap_name(seam_wasm_trap_code code);

#endif
