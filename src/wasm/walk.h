/*
 * The walk over a function body, shared by the validator (code.c) and the
 * emitter (emit.c). code.c reads instructions and checks types; with emission
 * on, it calls emit.c, which writes the threaded code.
 *
 * The emitter tracks, next to each operand's type, where its value is
 * (value_loc): in its home slot (fp[nlocals + height]), still in a local
 * (`local.get` emits nothing until the value must move), or a constant
 * (`i32.const` likewise). Ops then name their operands' slots directly. Lazy
 * entries are made real ("materialized") where the value must sit in its home
 * slot: at every block boundary, before a branch that carries values, before
 * a call (the arguments become the callee's frame), and before the local they
 * name is written. docs/wasm.md describes the scheme and its invariants.
 */
#ifndef SEAM_WASM_WALK_H
#define SEAM_WASM_WALK_H

#include "internal.h"
#include "reader.h"

enum { FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_ELSE };

typedef struct {
    uint8_t kind;
    bool unreachable;
    bool dead; /* enclosing code is unreachable: emit nothing */
    uint32_t height;
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    size_t loop_pc;   /* FRAME_LOOP: cell index of the loop head */
    size_t fixups;    /* chain of cells waiting for the end address (index + 1) */
    size_t else_cell; /* FRAME_IF: the false branch's target cell (index + 1) */
} ctrl_frame;

/* Where an operand's value is while the body is translated. */
enum { VAL_HOME, VAL_LOCAL, VAL_CONST };
#define NO_ENTRY UINT32_MAX

typedef struct {
    uint64_t value; /* VAL_LOCAL: the local's index; VAL_CONST: the bits */
    uint32_t next;  /* VAL_LOCAL: the next lazy entry of the same local, lower down */
    uint8_t kind;
} value_loc;

typedef struct {
    seam_wasm_module *m;
    reader r;
    const functype *type;
    uint32_t nlocals;
    uint8_t *local_types; /* parameters and declared locals, expanded for this body */
    uint32_t *lazy_head;  /* per local: its topmost lazy entry, or NO_ENTRY (emission) */
    size_t local_cap;

    uint8_t *stack; /* operand types */
    value_loc *vals;
    uint32_t sp, stack_cap;
    uint32_t watermark; /* every entry below is in its home slot */
    ctrl_frame *ctrl;
    uint32_t nctrl, ctrl_cap;
    uint32_t max_height;

    bool emit;
    bool metering;
    const void *const *handlers;
    cell *code;
    size_t ncode, code_cap;
    size_t charge_cell; /* index + 1 of the open region's count */
    size_t charge_note; /* the cell of its location entry (its CHARGE, or its count) */
    uint64_t region_count;
    size_t last_pos; /* cell index of the last emitted op, SIZE_MAX if none */
    int last_op;
    size_t result_pos;   /* the last op, when it computed a value into its first immediate */
    uint32_t result_at;  /* ... the stack index of that value */
    bool result_pending; /* ... which is about to be pushed */
    size_t barrier;      /* a branch lands here: no fusing across it */
    size_t instr;        /* module offset of the instruction being walked */
    code_loc *locs;      /* where each emitted op came from (emission only) */
    size_t nlocs, locs_cap;

    seam_err status;
    char *err;
    size_t errlen;
} walker;

/* ---- emit.c: cells, regions, branch targets -------------------------------------- */

/* Whether code at this point is emitted (emission on, reachable, not dead). */
bool live(const walker *w);
/* Appends a cell. */
bool put_cell(walker *w, cell c);
/* Emits op's handler cell (when live), with its location entry. */
bool op(walker *w, int opcode);
/* Emits an immediate (when live). */
bool imm(walker *w, uint64_t v);
/*
 * Closes the open fuel region and opens another here, if live or if branches
 * land here (landing): [CHARGE][n] on the path that falls into it; a branch
 * that lands here jumps past the pair and pays n itself (its _C form).
 */
bool region(walker *w, bool landing);
/* Closes the open fuel region (its count is final). */
void close_region(walker *w);
/* Emits a branch target cell for frame f: known for loops, chained otherwise. */
bool target(walker *w, ctrl_frame *f);
/* Points every chained cell of list at the current position. */
void patch(walker *w, size_t list);

/* ---- emit.c: where operand values are ----------------------------------------------- */

/* The slot of the operand stack entry at height index. */
uint32_t home(const walker *w, uint32_t index);
/* Bookkeeping of push and pop (called by code.c's type stack). */
void val_pushed(walker *w);
void val_popped(walker *w);
/* Forgets the entries at heights >= height (unreachable code follows). */
void val_truncate(walker *w, uint32_t height);
/* The entry just pushed is local x's value, or the constant bits. */
void val_local(walker *w, uint32_t x);
void val_const(walker *w, uint64_t bits);
/* The top entry; and putting a saved one back after a pop and push of its type. */
value_loc val_top(const walker *w);
void val_restore_top(walker *w, value_loc v);
/* Moves every lazy entry at heights >= from into its home slot. */
bool materialize_from(walker *w, uint32_t from);
/* Moves the top n entries into their home slots. */
bool materialize_top(walker *w, uint32_t n);
/* The slot to read the popped entry at index from (a constant is moved to its home). */
bool source(walker *w, uint32_t index, uint64_t *slot);
/* Moves the n popped entries from index up into their home slots. */
bool home_popped(walker *w, uint32_t index, uint32_t n);
/* The last op computed the value about to be pushed at index into its first immediate. */
void produced(walker *w, uint32_t index);

/* ---- emit.c: instructions (operands already popped by the validator) ------------- */

bool emit_unary(walker *w, int internal);
bool emit_numeric(walker *w, uint8_t opcode, unsigned arity);
bool emit_load(walker *w, int opc, uint32_t offset);
bool emit_store(walker *w, int opc, uint32_t offset);
/* local.set x (and the set of local.tee x) of the value just popped. */
bool emit_local_set(walker *w, uint32_t x);
bool emit_select(walker *w);
/* An op whose n popped operands are moved to their home slots and named by the
   first one's slot, after nimms immediates (rare instructions: bulk memory, tables). */
bool emit_at_base(walker *w, int opc, uint32_t n, const uint64_t *imms, uint32_t nimms);
bool emit_call(walker *w, uint32_t fidx, uint32_t nparams);
bool emit_call_indirect(walker *w, uint32_t tidx, uint32_t table, uint32_t nparams);
/* Returns the top n values (kept on the stack) from the function. */
bool emit_return(walker *w, uint32_t n);
/* br (or br_if, its condition just popped) to the label depth frames out. */
bool emit_branch(walker *w, uint32_t depth, bool conditional);
/* The jump from the end of an if's then branch to its end. */
bool emit_jump_to_end(walker *w, ctrl_frame *f);
/* At the function's last end, where branches land with n results at home(0):
   the RETURN, emitted even when the end cannot be reached by falling through. */
bool emit_landing_return(walker *w, uint32_t n);
/* The false edge of an if (condition popped from index cond): returns the cell to patch
   (index + 1), 0 when not live, SIZE_MAX on failure. */
size_t emit_if(walker *w, uint32_t cond);
/* br_table over n + 1 labels carrying arity values; then one call per label. */
bool emit_br_table(walker *w, uint32_t n, uint32_t arity);
bool emit_br_table_label(walker *w, ctrl_frame *f);

#endif
