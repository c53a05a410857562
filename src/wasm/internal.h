/*
 * Internals of the WebAssembly engine, shared by its files only.
 *
 * Pipeline:
 *   bytes --decode.c--> seam_wasm_module (sections, types, byte ranges of bodies)
 *         --code.c (validate only)--> the module is known valid
 *   instantiate --code.c (translate)--> compiled code (cached in the module,
 *         once per metering mode) --runtime.c--> instance objects
 *   call --interp.c--> threaded code over a slot stack
 *
 * See docs/wasm.md for the internal code format.
 */
#ifndef SEAM_WASM_INTERNAL_H
#define SEAM_WASM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/wasm.h"

#define WASM_PAGE_SIZE    65536u
#define WASM_MAX_PAGES    65536u
#define WASM_TYPE_UNKNOWN 0 /* the bottom type of unreachable code */

/*
 * Implementation limits (docs/wasm.md, "Limits"). They bound the host memory
 * and time that decoding, validating and translating a module can take; a
 * module past one is refused with SEAM_ERR_WASM_LIMIT (locals: malformed,
 * "too many locals", as the specification's tests expect).
 */
#define WASM_MAX_ARITY    1000u  /* parameters, and results, of one function type */
#define WASM_MAX_LOCALS   50000u /* declared locals of one function */
#define WASM_MAX_OPERANDS 65536u /* operand stack height inside one function */

/* ---- a bump allocator owning a module's or store's small objects ---- */

typedef struct arena_block arena_block;
typedef struct {
    arena_block *head;
} arena;

/* Returns zeroed storage of size bytes owned by the arena, or NULL. */
void *arena_alloc(arena *a, size_t size);
/* Frees every block of the arena. */
void arena_release(arena *a);

/* ---- module ----------------------------------------------------------- */

typedef struct {
    uint32_t nparams;
    uint32_t nresults;
    const uint8_t *params;  /* nparams value types */
    const uint8_t *results; /* nresults value types */
} functype;

typedef struct {
    uint32_t min;
    uint32_t max;
    bool has_max;
} limits;

typedef struct {
    uint8_t elem_type;
    limits lim;
} tabletype;

typedef struct {
    uint8_t type;
    bool is_mutable;
} globaltype;

/* A constant expression kept as its byte range in the module's copy. */
typedef struct {
    size_t start;
    size_t end;
} const_expr;

typedef struct {
    seam_wasm_name module; /* names point into the module's copy of the binary */
    seam_wasm_name name;
    uint8_t kind;
    uint32_t type_index; /* func */
    tabletype table;     /* table */
    limits memory;       /* memory */
    globaltype global;   /* global */
} import_entry;

typedef struct {
    seam_wasm_name name;
    uint8_t kind;
    uint32_t index;
} export_entry;

/* A function body. Its locals stay in their compressed form (groups of count
   and type, already checked) until a walk over the body expands them. */
typedef struct {
    uint32_t type_index;
    size_t locals_start; /* the first local group */
    uint32_t ngroups;    /* local groups */
    uint32_t nlocals;    /* declared locals, parameters excluded */
    size_t code_start;   /* first instruction byte */
    size_t code_end;     /* one past the final `end` */
} func_body;

typedef struct {
    globaltype type;
    const_expr init;
} global_def;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct {
    uint8_t mode;
    uint8_t elem_type;
    uint32_t table_index;
    const_expr offset;
    uint32_t count;
    const_expr *items; /* count constant expressions */
} elem_segment;

typedef struct {
    uint8_t mode;
    uint32_t memory_index;
    const_expr offset;
    size_t data_start;
    uint32_t data_len;
} data_segment;

typedef struct {
    seam_wasm_name name;
    size_t data_start;
    size_t data_len;
} custom_section;

typedef struct compiled_func compiled_func;
typedef struct compiled_code compiled_code;

struct seam_wasm_module {
    arena mem;
    uint8_t *bytes;
    size_t len;

    functype *types;
    uint32_t ntypes;

    import_entry *imports;
    uint32_t nimports;

    /* function index space: imports first */
    uint32_t nfuncs;
    uint32_t nfunc_imports;
    uint32_t *func_type; /* type index per function */
    func_body *bodies;   /* nfuncs - nfunc_imports */

    tabletype *tables;
    uint32_t ntables;
    uint32_t ntable_imports;

    limits *memories;
    uint32_t nmemories;
    uint32_t nmemory_imports;

    globaltype *global_types; /* whole index space */
    global_def *globals;      /* defined ones */
    uint32_t nglobals;
    uint32_t nglobal_imports;

    export_entry *exports;
    uint32_t nexports;

    bool has_start;
    uint32_t start;

    elem_segment *elems;
    uint32_t nelems;

    data_segment *datas;
    uint32_t ndatas;
    bool has_data_count;
    uint32_t data_count;

    custom_section *customs;
    uint32_t ncustoms;

    uint8_t *declared_funcs; /* per function: referenced outside bodies (C.refs) */

    compiled_code *compiled[2]; /* [metering_off] */
};

/* Decodes bytes into module m (already zeroed; bytes already copied into m). */
seam_err wasm_decode(seam_wasm_module *m, char *err, size_t errlen);

/* Validates every function body and constant expression of m. */
seam_err wasm_validate(seam_wasm_module *m, char *err, size_t errlen);

/* ---- compiled code ------------------------------------------------------ */

/* One 8-byte unit of threaded code: a handler address or an immediate. */
typedef union {
    const void *op;
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
    const compiled_func *fn;
} cell;

struct compiled_func {
    const cell *entry;
    const functype *type;
    uint32_t nlocals;    /* parameters + declared locals */
    uint32_t max_height; /* slots: locals + deepest operand stack */
};

/* Where an op of compiled code came from: its first cell and the module offset
   of the wasm instruction it does (for a CHARGE, the first instruction of its
   region). Sorted by cell; read only when a trap is located. */
typedef struct {
    uint32_t cell;
    uint32_t offset;
} code_loc;

struct compiled_code {
    cell *cells;
    size_t ncells;
    compiled_func *funcs; /* per defined function */
    code_loc *locs;       /* the location side table */
    size_t nlocs;
};

/* Translates every body of m into threaded code; *out is owned by m. */
seam_err wasm_translate(seam_wasm_module *m, bool metering_off, compiled_code **out);
void wasm_compiled_free(compiled_code *c);

/* Internal operation numbers; the interpreter maps them to handler addresses. */
#include "ops.h"

/* Handler address of each internal op (filled by the interpreter on first use). */
const void *const *wasm_op_handlers(void);

/* ---- runtime objects ------------------------------------------------------ */

struct seam_wasm_memory {
    uint8_t *data;
    uint64_t size; /* bytes */
    uint32_t pages;
    uint32_t max_pages;
    bool has_max;
    uint64_t *dirty; /* one bit per 4 KiB page */
    size_t dirty_words;
};

struct seam_wasm_table {
    uint64_t *elems; /* references: 0 is null */
    uint32_t size;
    uint32_t max;
    bool has_max;
    uint8_t elem_type;
};

struct seam_wasm_global {
    uint64_t value;
    globaltype type;
};

struct seam_wasm_func {
    const functype *type;
    seam_wasm_instance *instance; /* NULL for host functions */
    const compiled_func *code;
    seam_wasm_host_fn host;
    void *env;
};

struct seam_wasm_instance {
    const seam_wasm_module *module;
    const compiled_code *code;
    seam_wasm_store *store;
    seam_wasm_func **funcs;
    seam_wasm_table **tables;
    seam_wasm_memory **memories;
    seam_wasm_global **globals;
    uint8_t *elem_dropped; /* per elem segment */
    uint64_t **elem_refs;  /* per elem segment: its evaluated references */
    uint8_t *data_dropped; /* per data segment */
    seam_wasm_memory *memory0;
};

typedef struct {
    const cell *pc;
    uint64_t *fp;
    seam_wasm_instance *instance;
} call_frame;

typedef struct store_object store_object;

struct seam_wasm_store {
    arena mem;
    seam_wasm_limits limits;
    uint32_t table_entries; /* entries of all the store's tables (<= limits.max_table_entries) */
    store_object *objects;  /* memories and tables to free */
    uint64_t *stack;
    uint64_t *stack_end;
    uint64_t *stack_top; /* first free slot (re-entrant calls start here) */
    call_frame *frames;
    uint32_t depth; /* frames in use */
    uint64_t fuel_budget;
    uint64_t fuel_left;
    seam_wasm_trap trap;
    /* where the interpreter stopped at its last trap (noted by the trap site) */
    const cell *trap_pc;
    seam_wasm_instance *trap_instance;
};

struct seam_wasm_call_ctx {
    seam_wasm_store *store;
    seam_wasm_instance *caller;
};

/* Runs func with its arguments at slots[0..nparams); results land at slots[0..). */
seam_err wasm_interp_call(seam_wasm_store *s, seam_wasm_func *func, uint64_t *slots);

/* Sets the store's trap record: code and message, location not known (yet). */
void wasm_set_trap(seam_wasm_store *s, seam_wasm_trap_code code, const char *message);

/*
 * Fills *where with the function and instruction of inst's code that cell pc
 * belongs to: pc is the interpreter's pc when it trapped, which points just
 * past the failing op's cell or into its immediates. NULL pc (nothing ran yet)
 * leaves where->known false. Reads the side table: for trap paths only.
 */
void wasm_code_locate(const seam_wasm_instance *inst, const cell *pc,
                      seam_wasm_trap_location *where);

/* Whether s[0..n) is well-formed UTF-8 (names of the binary format). */
bool wasm_utf8_valid(const uint8_t *s, size_t n);

/* Grows memory by delta pages; returns the old page count or -1. */
int64_t wasm_memory_grow(seam_wasm_store *s, seam_wasm_memory *mem, uint32_t delta);
/* Grows a table by delta entries filled with init; returns the old size or -1. */
int64_t wasm_table_grow(seam_wasm_store *s, seam_wasm_table *t, uint32_t delta, uint64_t init);

/* Structural equality of function types. */
bool wasm_functype_equal(const functype *a, const functype *b);

/* Writes printf-style text into err (when non-NULL); returns code. */
seam_err wasm_fail(seam_err code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
