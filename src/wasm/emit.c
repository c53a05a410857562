/*
 * Emission of threaded code for the walk of code.c (see walk.h).
 *
 * Ops name their operands as frame slots: fp[i] for i < nlocals is a local,
 * fp[nlocals + h] the operand stack entry at height h (its "home"). Because
 * every height is static, no stack pointer exists at run time. The emitter
 * keeps `local.get` and constants lazy (value_loc) and lets the op that
 * consumes them read the local or take the constant as an immediate, so
 * `local.get a; local.get b; i32.add; local.set c` becomes one op,
 * I32_ADD c a b: the op computing a value writes it into the slot of its
 * result, and a `local.set` right after retargets that slot to the local.
 *
 * Invariants (each emission path below keeps them):
 *   - every entry below the height of the innermost block frame is in its
 *     home slot: block boundaries materialize the whole stack, so all paths
 *     that meet at a label agree on where every value is;
 *   - a lazy local entry is on lazy_head's list of its local; before the
 *     local is written, the list is materialized (the entries keep the old
 *     value);
 *   - entries below `watermark` are in their home slots.
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if (!(expr))                                                                               \
            return false;                                                                          \
    } while (0)

/* ---- cells and locations ------------------------------------------------------------ */

bool live(const walker *w) {
    const ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    return w->emit && !f->dead && !f->unreachable;
}

bool put_cell(walker *w, cell c) {
    if (w->ncode == w->code_cap) {
        size_t cap = w->code_cap ? w->code_cap * 2 : 1024;
        cell *grown = realloc(w->code, cap * sizeof(cell));
        if (!grown) {
            w->status = wasm_fail(SEAM_ERR_NOMEM, w->err, w->errlen, "out of memory");
            return false;
        }
        w->code = grown;
        w->code_cap = cap;
    }
    w->code[w->ncode++] = c;
    return true;
}

/*
 * The location side table: for each emitted op, its first cell and the module
 * offset of the wasm instruction it does. Consulted only when a trap happens
 * (wasm_code_locate); the interpreter never reads it. An op that a later one
 * rewrites keeps its entry (its first cell does not move), so the table stays
 * sorted by cell.
 */
static bool note(walker *w, size_t cell_index, size_t offset) {
    while (w->nlocs && w->locs[w->nlocs - 1].cell >= cell_index)
        w->nlocs--;
    if (cell_index > UINT32_MAX || offset > UINT32_MAX)
        return true; /* past what an entry holds: that code has no location */
    if (w->nlocs == w->locs_cap) {
        size_t cap = w->locs_cap ? w->locs_cap * 2 : 256;
        code_loc *grown = realloc(w->locs, cap * sizeof *grown);
        if (!grown) {
            w->status = wasm_fail(SEAM_ERR_NOMEM, w->err, w->errlen, "out of memory");
            return false;
        }
        w->locs = grown;
        w->locs_cap = cap;
    }
    w->locs[w->nlocs++] = (code_loc){(uint32_t)cell_index, (uint32_t)offset};
    return true;
}

bool op(walker *w, int opcode) {
    if (!live(w))
        return true;
    TRY(note(w, w->ncode, w->instr));
    w->last_pos = w->ncode;
    w->last_op = opcode;
    return put_cell(w, (cell){.op = w->handlers[opcode]});
}

bool imm(walker *w, uint64_t v) {
    return !live(w) || put_cell(w, (cell){.u64 = v});
}

void close_region(walker *w) {
    if (w->charge_cell) {
        w->code[w->charge_cell - 1].u64 = w->region_count;
        w->charge_cell = 0;
    }
    w->region_count = 0;
}

/* The ops that can take the CHARGE of the region they fall into as one more
   cell (their _C form), with the cells they have before it. */
static const struct {
    int plain, charged, cells;
} pays_next[] = {
    {OP_MOVE, OP_MOVE_C, 3},
    {OP_SET_K, OP_SET_K_C, 3},
    {OP_MOVE_MOVE, OP_MOVE_MOVE_C, 5},
    {OP_MOVE_SET_K, OP_MOVE_SET_K_C, 5},
    {OP_SET_K_MOVE, OP_SET_K_MOVE_C, 5},
    {OP_SET_K_SET_K, OP_SET_K_SET_K_C, 5},
    {OP_STORE32, OP_STORE32_C, 4},
};

bool region(walker *w, bool landing) {
    if (!w->emit || !w->metering)
        return true;
    if (w->charge_cell && w->charge_cell == w->ncode && w->region_count == 0) {
        /* the open region is empty and starts here too (consecutive ends): it
           becomes this one, and its fuel runs out at this one's first instruction */
        if (w->nlocs && w->locs[w->nlocs - 1].cell == w->charge_note && w->r.pos <= UINT32_MAX)
            w->locs[w->nlocs - 1].offset = (uint32_t)w->r.pos;
        return true;
    }
    close_region(w);
    if (!live(w) && !landing)
        return true;
    /* the last op falls into the region (it is live and ends here): it pays
       the count itself, its _C form, instead of a CHARGE op after it */
    int charged = -1;
    for (size_t i = 0;
         live(w) && w->last_pos != SIZE_MAX && i < sizeof pays_next / sizeof pays_next[0]; i++)
        if (w->last_op == pays_next[i].plain &&
            w->ncode == w->last_pos + (size_t)pays_next[i].cells)
            charged = pays_next[i].charged;
    /* running out of fuel here, or at a branch landing here, is placed at the
       region's first instruction: the CHARGE op, or the count cell of a _C op */
    w->charge_note = w->ncode;
    TRY(note(w, w->ncode, w->r.pos));
    if (charged >= 0) {
        w->code[w->last_pos].op = w->handlers[charged];
        w->last_op = charged;
    } else {
        TRY(put_cell(w, (cell){.op = w->handlers[OP_CHARGE]}));
    }
    TRY(put_cell(w, (cell){.u64 = 0}));
    w->charge_cell = w->ncode;
    w->barrier = w->ncode;
    return true;
}

bool target(walker *w, ctrl_frame *f) {
    if (!live(w))
        return true;
    if (f->kind == FRAME_LOOP)
        return put_cell(w, (cell){.i64 = (int64_t)f->loop_pc - (int64_t)w->ncode});
    TRY(put_cell(w, (cell){.u64 = f->fixups}));
    f->fixups = w->ncode;
    return true;
}

void patch(walker *w, size_t list) {
    if (list)
        w->barrier = w->ncode;
    while (list) {
        size_t at = list - 1;
        list = w->code[at].u64;
        w->code[at].i64 = (int64_t)w->ncode - (int64_t)at;
    }
}

/* A branch into a fuel region pays it: the charged form of op when metered. */
static int branch_op(const walker *w, int opcode, bool charged) {
    _Static_assert(OP_BR_UNLESS_F64_GE_C - OP_JMP_C == OP_BR_UNLESS_F64_GE - OP_JMP,
                   "the charged branches follow the plain ones' order");
    return charged && w->metering ? opcode + (OP_JMP_C - OP_JMP) : opcode;
}

/* ---- where operand values are ----------------------------------------------------------- */

uint32_t home(const walker *w, uint32_t index) {
    return w->nlocals + index;
}

void val_pushed(walker *w) {
    if (!w->emit)
        return;
    w->vals[w->sp - 1] = (value_loc){0, NO_ENTRY, VAL_HOME};
    if (w->result_pending) /* the result of the last op takes its place */
        w->result_pending = false;
    else if (w->sp - 1 == w->result_at) /* that result was popped: another entry is here now */
        w->result_pos = SIZE_MAX;
}

void val_popped(walker *w) {
    if (!w->emit)
        return;
    const value_loc *v = &w->vals[w->sp];
    if (v->kind == VAL_LOCAL) /* the top lazy entry of its local is its list's head */
        w->lazy_head[v->value] = v->next;
    if (w->watermark > w->sp)
        w->watermark = w->sp;
}

void val_truncate(walker *w, uint32_t height) {
    if (!w->emit)
        return;
    for (uint32_t i = w->sp; i-- > height;) {
        const value_loc *v = &w->vals[i];
        if (v->kind == VAL_LOCAL)
            w->lazy_head[v->value] = v->next;
    }
    if (w->watermark > height)
        w->watermark = height;
}

void val_local(walker *w, uint32_t x) {
    if (!live(w))
        return;
    uint32_t i = w->sp - 1;
    w->vals[i] = (value_loc){x, w->lazy_head[x], VAL_LOCAL};
    w->lazy_head[x] = i;
}

void val_const(walker *w, uint64_t bits) {
    if (live(w))
        w->vals[w->sp - 1] = (value_loc){bits, NO_ENTRY, VAL_CONST};
}

value_loc val_top(const walker *w) {
    return w->vals[w->sp - 1];
}

void val_restore_top(walker *w, value_loc v) {
    if (!live(w))
        return;
    if (v.kind == VAL_LOCAL)
        val_local(w, (uint32_t)v.value);
    else
        w->vals[w->sp - 1] = v;
}

/* Emits fp[dst] = fp[from] (MOVE) or = the bits from (SET_K); two in a row
   become one op (MOVE_MOVE, ...), which does them in order. */
static bool emit_move(walker *w, uint64_t dst, bool constant, uint64_t from) {
    if (!live(w))
        return true;
    int last = w->last_op;
    if (w->last_pos != SIZE_MAX && w->last_pos >= w->barrier && w->ncode == w->last_pos + 3 &&
        (last == OP_MOVE || last == OP_SET_K)) {
        int pair = last == OP_MOVE ? (constant ? OP_MOVE_SET_K : OP_MOVE_MOVE)
                                   : (constant ? OP_SET_K_SET_K : OP_SET_K_MOVE);
        w->code[w->last_pos].op = w->handlers[pair];
        w->last_op = pair;
        TRY(put_cell(w, (cell){.u64 = dst}));
        return put_cell(w, (cell){.u64 = from});
    }
    TRY(op(w, constant ? OP_SET_K : OP_MOVE));
    TRY(imm(w, dst));
    return imm(w, from);
}

/* Writes entry i's value into its home slot (list bookkeeping is the caller's). */
static bool make_home(walker *w, uint32_t i) {
    value_loc *v = &w->vals[i];
    if (v->kind != VAL_HOME) {
        TRY(emit_move(w, home(w, i), v->kind == VAL_CONST, v->value));
        v->kind = VAL_HOME;
    }
    return true;
}

bool materialize_from(walker *w, uint32_t from) {
    if (!w->emit)
        return true;
    uint32_t low = from > w->watermark ? from : w->watermark;
    /* top down: each lazy local entry met is the head of its local's list */
    for (uint32_t i = w->sp; i-- > low;) {
        const value_loc *v = &w->vals[i];
        if (v->kind == VAL_LOCAL)
            w->lazy_head[v->value] = v->next;
        TRY(make_home(w, i));
    }
    if (low == w->watermark)
        w->watermark = w->sp;
    return true;
}

bool materialize_top(walker *w, uint32_t n) {
    return materialize_from(w, w->sp - n);
}

/* Before local x is written: its lazy entries take the value it has now. */
static bool materialize_local(walker *w, uint32_t x) {
    for (uint32_t i = w->lazy_head[x]; i != NO_ENTRY;) {
        uint32_t next = w->vals[i].next;
        TRY(make_home(w, i));
        i = next;
    }
    w->lazy_head[x] = NO_ENTRY;
    return true;
}

bool source(walker *w, uint32_t index, uint64_t *slot) {
    const value_loc *v = &w->vals[index];
    if (v->kind == VAL_LOCAL) {
        *slot = v->value;
        return true;
    }
    *slot = home(w, index);
    return make_home(w, index);
}

bool home_popped(walker *w, uint32_t index, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        TRY(make_home(w, index + i));
    return true;
}

void produced(walker *w, uint32_t index) {
    if (!live(w))
        return;
    w->result_pos = w->last_pos;
    w->result_at = index;
    w->result_pending = true; /* the caller pushes the result next */
}

/* Whether the value at stack index `index` (on the stack or just popped) was
   computed by the last op, into the slot that op's first immediate names, with
   nothing landing in between: no other op since, no label bound, no other entry
   pushed at that index since (lazy entries above it do not matter). */
static bool is_result(const walker *w, uint32_t index) {
    return w->result_pos != SIZE_MAX && w->result_pos == w->last_pos && w->last_pos >= w->barrier &&
           w->result_at == index && w->vals[index].kind == VAL_HOME;
}

/* ---- instructions ------------------------------------------------------------------------- */

/* The op with a constant right operand for a numeric opcode, or -1. */
static int const_form(uint8_t opcode) {
    if (opcode >= 0x46 && opcode <= 0x4f)
        return OP_I32_EQ_K + (opcode - 0x46);
    if (opcode >= 0x51 && opcode <= 0x5a)
        return OP_I64_EQ_K + (opcode - 0x51);
    if (opcode >= 0x6a && opcode <= 0x78)
        return OP_I32_ADD_K + (opcode - 0x6a);
    if (opcode >= 0x7c && opcode <= 0x8a)
        return OP_I64_ADD_K + (opcode - 0x7c);
    return -1;
}

/* add mul and or xor eq ne, i32 and i64: a constant on the left can go right. */
static bool commutative(uint8_t opcode) {
    switch (opcode) {
    case 0x46:
    case 0x47:
    case 0x6a:
    case 0x6c:
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x51:
    case 0x52:
    case 0x7c:
    case 0x7e:
    case 0x83:
    case 0x84:
    case 0x85:
        return true;
    default:
        return false;
    }
}

/*
 * Superinstructions: when an operand of the op being emitted was computed by
 * the last op (and nothing lands in between), that op's slot is read by this
 * op only, so the two become one op that writes just the final result:
 * [fused][dst][the first op's two operands][this op's other operand].
 */
static const struct {
    int first, then, fused;
} folds[] = {
    {OP_I32_MUL, OP_I32_ADD, OP_I32_MUL_ADD},
    {OP_I32_MUL, OP_I32_ADD_K, OP_I32_MUL_ADD_K},
    {OP_I32_MUL_K, OP_I32_ADD, OP_I32_MUL_K_ADD},
    {OP_I32_MUL_K, OP_I32_ADD_K, OP_I32_MUL_K_ADD_K},
    {OP_I32_ADD, OP_I32_ADD, OP_I32_ADD_ADD},
    {OP_I32_ADD, OP_I32_ADD_K, OP_I32_ADD_ADD_K},
    {OP_I32_SHL_K, OP_I32_ADD, OP_I32_SHL_K_ADD},
    {OP_I32_SHL_K, OP_I32_ADD_K, OP_I32_SHL_K_ADD_K},
    {OP_I32_SHR_U_K, OP_I32_AND_K, OP_I32_SHR_U_K_AND_K},
    {OP_I32_SHR_U_K, OP_I32_XOR, OP_I32_SHR_U_K_XOR},
    {OP_I32_SHL_K, OP_I32_XOR, OP_I32_SHL_K_XOR},
    {OP_I32_XOR, OP_I32_XOR, OP_I32_XOR_XOR},
    {OP_I32_XOR, OP_I32_SHL_K, OP_I32_XOR_SHL_K},
    {OP_I32_SHL_K, OP_I32_SHR_S_K, OP_I32_SHL_K_SHR_S_K},
};

/* Folds the last op, which computed the operand at stack index `mid`, into op
   `then` whose result goes to index at and whose other operand is `other`. */
static bool fold(walker *w, int then, uint32_t mid, uint32_t at, uint64_t other, bool *done) {
    *done = false;
    if (!is_result(w, mid) || w->ncode != w->last_pos + 4)
        return true;
    for (size_t i = 0; i < sizeof folds / sizeof folds[0]; i++) {
        if (folds[i].first != w->last_op || folds[i].then != then)
            continue;
        size_t p = w->last_pos;
        w->code[p].op = w->handlers[folds[i].fused];
        w->code[p + 1].u64 = home(w, at);
        w->last_op = folds[i].fused;
        *done = true;
        TRY(put_cell(w, (cell){.u64 = other}));
        produced(w, at);
        return true;
    }
    return true;
}

bool emit_unary(walker *w, int internal) {
    if (!live(w))
        return true;
    uint32_t at = w->sp;
    uint64_t a;
    TRY(source(w, at, &a));
    TRY(op(w, internal));
    TRY(imm(w, home(w, at)));
    TRY(imm(w, a));
    produced(w, at);
    return true;
}

bool emit_numeric(walker *w, uint8_t opcode, unsigned arity) {
    int internal = OP_I32_EQZ + (opcode - 0x45);
    if (arity == 1 || !live(w))
        return emit_unary(w, internal);
    uint32_t at = w->sp;
    const value_loc *va = &w->vals[at], *vb = &w->vals[at + 1];
    int k = const_form(opcode);
    uint64_t a, b;
    bool done;
    if (k >= 0 && (vb->kind == VAL_CONST || (va->kind == VAL_CONST && commutative(opcode)))) {
        uint32_t var = vb->kind == VAL_CONST ? at : at + 1;
        uint64_t bits = vb->kind == VAL_CONST ? vb->value : va->value;
        TRY(fold(w, k, var, at, bits, &done));
        if (done)
            return true;
        TRY(source(w, var, &a));
        TRY(op(w, k));
        TRY(imm(w, home(w, at)));
        TRY(imm(w, a));
        TRY(imm(w, bits));
    } else {
        if (commutative(opcode) && va->kind != VAL_CONST && vb->kind != VAL_CONST) {
            /* either operand may come from the last op; the other is read in place */
            uint32_t mid = is_result(w, at + 1) ? at + 1 : at, other = mid == at ? at + 1 : at;
            TRY(fold(w, internal, mid, at,
                     w->vals[other].kind == VAL_LOCAL ? w->vals[other].value : home(w, other),
                     &done));
            if (done)
                return true;
        }
        TRY(source(w, at, &a));
        TRY(source(w, at + 1, &b));
        TRY(op(w, internal));
        TRY(imm(w, home(w, at)));
        TRY(imm(w, a));
        TRY(imm(w, b));
    }
    produced(w, at);
    return true;
}

bool emit_load(walker *w, int opc, uint32_t offset) {
    if (!live(w))
        return true;
    uint32_t at = w->sp;
    int kind = opc - OP_LOAD32; /* LOAD32 LOAD64 I32_LOAD8_S .. I32_LOAD16_U: _AK and _AA forms */
    _Static_assert(OP_I32_LOAD16_U - OP_LOAD32 == 5 && OP_LOAD32_AA - OP_LOAD32_AK == 6 &&
                       OP_I32_LOAD16_U_AA - OP_LOAD32_AA == 5,
                   "the summed loads follow the loads' order");
    if (kind >= 0 && kind < 6 && is_result(w, at) && w->ncode == w->last_pos + 4 &&
        (w->last_op == OP_I32_ADD_K || w->last_op == OP_I32_ADD)) {
        /* the address is the sum the last op computed: one op, placed at the load */
        int fused = (w->last_op == OP_I32_ADD_K ? OP_LOAD32_AK : OP_LOAD32_AA) + kind;
        w->code[w->last_pos].op = w->handlers[fused];
        w->last_op = fused;
        if (w->nlocs && w->locs[w->nlocs - 1].cell == w->last_pos && w->instr <= UINT32_MAX)
            w->locs[w->nlocs - 1].offset = (uint32_t)w->instr;
        TRY(put_cell(w, (cell){.u64 = offset}));
        produced(w, at);
        return true;
    }
    uint64_t addr;
    TRY(source(w, at, &addr));
    TRY(op(w, opc));
    TRY(imm(w, home(w, at)));
    TRY(imm(w, addr));
    TRY(imm(w, offset));
    produced(w, at);
    return true;
}

bool emit_store(walker *w, int opc, uint32_t offset) {
    if (!live(w))
        return true;
    uint32_t at = w->sp;
    uint64_t addr, value;
    TRY(source(w, at, &addr));
    if (w->vals[at + 1].kind == VAL_CONST) { /* the bits go in the op */
        _Static_assert(OP_STORE64 - OP_STORE8 == 3 && OP_STORE64_K - OP_STORE8_K == 3,
                       "the constant stores follow the stores' order");
        TRY(op(w, OP_STORE8_K + (opc - OP_STORE8)));
        TRY(imm(w, addr));
        TRY(imm(w, w->vals[at + 1].value));
        return imm(w, offset);
    }
    TRY(source(w, at + 1, &value));
    TRY(op(w, opc));
    TRY(imm(w, addr));
    TRY(imm(w, value));
    return imm(w, offset);
}

bool emit_local_set(walker *w, uint32_t x) {
    if (!live(w))
        return true;
    uint32_t at = w->sp;
    value_loc v = w->vals[at];
    if (v.kind == VAL_LOCAL && v.value == x)
        return true; /* local.get x; local.set x */
    bool retarget = v.kind == VAL_HOME && is_result(w, at) && w->lazy_head[x] == NO_ENTRY;
    TRY(materialize_local(w, x));
    if (retarget) { /* the op that computed the value writes it into x instead */
        w->code[w->result_pos + 1].u64 = x;
        w->result_pos = SIZE_MAX;
        return true;
    }
    return emit_move(w, x, v.kind == VAL_CONST, v.kind == VAL_HOME ? home(w, at) : v.value);
}

bool emit_select(walker *w) {
    if (!live(w))
        return true;
    uint32_t at = w->sp;
    uint64_t a, b, c;
    TRY(source(w, at, &a));
    TRY(source(w, at + 1, &b));
    TRY(source(w, at + 2, &c));
    TRY(op(w, OP_SELECT));
    TRY(imm(w, home(w, at)));
    TRY(imm(w, a));
    TRY(imm(w, b));
    TRY(imm(w, c));
    produced(w, at);
    return true;
}

bool emit_at_base(walker *w, int opc, uint32_t n, const uint64_t *imms, uint32_t nimms) {
    if (!live(w))
        return true;
    TRY(home_popped(w, w->sp, n));
    TRY(op(w, opc));
    for (uint32_t i = 0; i < nimms; i++)
        TRY(imm(w, imms[i]));
    return imm(w, home(w, w->sp));
}

bool emit_call(walker *w, uint32_t fidx, uint32_t nparams) {
    if (!live(w))
        return true;
    TRY(home_popped(w, w->sp, nparams));
    TRY(op(w, OP_CALL));
    TRY(imm(w, fidx));
    return imm(w, home(w, w->sp));
}

bool emit_call_indirect(walker *w, uint32_t tidx, uint32_t table, uint32_t nparams) {
    if (!live(w))
        return true;
    uint64_t index;
    TRY(source(w, w->sp + nparams, &index));
    TRY(home_popped(w, w->sp, nparams));
    TRY(op(w, OP_CALL_INDIRECT));
    TRY(imm(w, tidx));
    TRY(imm(w, table));
    TRY(imm(w, index));
    return imm(w, home(w, w->sp));
}

/* Makes the top n values ready for emit_return without emitting anything more. */
static bool prepare_return(walker *w, uint32_t n) {
    if (n == 1 && w->vals[w->sp - 1].kind != VAL_CONST)
        return true;
    return materialize_top(w, n);
}

bool emit_return(walker *w, uint32_t n) {
    if (!live(w))
        return true;
    TRY(prepare_return(w, n));
    if (n == 0)
        return op(w, OP_RETURN0);
    if (n == 1) {
        const value_loc *v = &w->vals[w->sp - 1];
        TRY(op(w, OP_RETURN1));
        return imm(w, v->kind == VAL_LOCAL ? v->value : home(w, w->sp - 1));
    }
    TRY(op(w, OP_RETURN));
    TRY(imm(w, home(w, w->sp - n)));
    return imm(w, n);
}

/* For each compare (eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u), its negation. */
static const uint8_t negated_compare[] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};

/*
 * Emits a conditional branch on the condition popped from stack index at
 * up to its target cell, which the caller appends: taken when the condition
 * is true, or false with `negate` (the false edge of an `if`). When the last
 * op computed the condition with a compare or eqz, the two become one op.
 */
static bool emit_cond_branch(walker *w, uint32_t at, bool negate, bool charged) {
    if (is_result(w, at)) {
        int last = w->last_op, fused = -1;
        size_t p = w->last_pos;
        if (last == OP_I32_EQZ || last == OP_I64_EQZ) {
            bool wide = last == OP_I64_EQZ;
            fused =
                negate ? (wide ? OP_BR_IF64 : OP_BR_IF) : (wide ? OP_BR_UNLESS64 : OP_BR_UNLESS);
            w->code[p].op = w->handlers[fused];
            w->code[p + 1] = w->code[p + 2];
            w->ncode = p + 2;
        } else {
            static const struct {
                int first, count, branch, negated;
            } compares[] = {
                {OP_I32_EQ, 10, OP_BR_IF_I32_EQ, -1},
                {OP_I32_EQ_K, 10, OP_BR_IF_I32_EQ_K, -1},
                {OP_I64_EQ, 10, OP_BR_IF_I64_EQ, -1},
                {OP_I64_EQ_K, 10, OP_BR_IF_I64_EQ_K, -1},
                {OP_F32_EQ, 6, OP_BR_IF_F32_EQ, OP_BR_UNLESS_F32_EQ},
                {OP_F64_EQ, 6, OP_BR_IF_F64_EQ, OP_BR_UNLESS_F64_EQ},
            };
            for (size_t i = 0; i < sizeof compares / sizeof compares[0]; i++) {
                int c = last - compares[i].first;
                if (c < 0 || c >= compares[i].count)
                    continue;
                if (!negate)
                    fused = compares[i].branch + c;
                else if (compares[i].negated < 0)
                    fused = compares[i].branch + negated_compare[c];
                else /* a float compare's negation is not a compare: NaN */
                    fused = compares[i].negated + c;
                w->code[p].op = w->handlers[fused];
                w->code[p + 1] = w->code[p + 2];
                w->code[p + 2] = w->code[p + 3];
                w->ncode = p + 3;
                break;
            }
        }
        if (fused >= 0) {
            fused = branch_op(w, fused, charged);
            w->code[p].op = w->handlers[fused];
            w->last_op = fused;
            w->result_pos = SIZE_MAX;
            return true;
        }
    }
    uint64_t c;
    TRY(source(w, at, &c));
    TRY(op(w, branch_op(w, negate ? OP_BR_UNLESS : OP_BR_IF, charged)));
    return imm(w, c);
}

static uint32_t label_arity(const ctrl_frame *f) {
    return f->kind == FRAME_LOOP ? f->nparams : f->nresults;
}

bool emit_branch(walker *w, uint32_t depth, bool conditional) {
    ctrl_frame *f = &w->ctrl[w->nctrl - 1 - depth];
    uint32_t arity = label_arity(f);
    if (!live(w))
        return true;
    if (depth == w->nctrl - 1) { /* the function's label: a return */
        if (!conditional)
            return emit_return(w, arity);
        TRY(prepare_return(w, arity));
        TRY(emit_cond_branch(w, w->sp, true, false)); /* a jump over the return, no landing */
        size_t skip = w->ncode;
        TRY(put_cell(w, (cell){.i64 = 0}));
        TRY(emit_return(w, arity));
        w->code[skip].i64 = (int64_t)(w->ncode - skip);
        w->barrier = w->ncode;
        return true;
    }
    uint32_t cond = w->sp; /* conditional: the condition, just popped */
    if (arity)
        TRY(materialize_top(w, arity));
    uint32_t dest = home(w, f->height);
    if (home(w, w->sp) == dest + arity) { /* the values are where the label wants them */
        if (conditional)
            TRY(emit_cond_branch(w, cond, false, true));
        else
            TRY(op(w, branch_op(w, OP_JMP, true)));
        return target(w, f);
    }
    if (conditional) {
        uint64_t c;
        TRY(source(w, cond, &c));
        TRY(op(w, branch_op(w, OP_BR_IF_MOVE, true)));
        TRY(imm(w, c));
    } else {
        TRY(op(w, branch_op(w, OP_BR_MOVE, true)));
    }
    TRY(target(w, f));
    TRY(imm(w, dest));
    TRY(imm(w, home(w, w->sp - arity)));
    return imm(w, arity);
}

bool emit_jump_to_end(walker *w, ctrl_frame *f) {
    if (!live(w))
        return true;
    TRY(op(w, branch_op(w, OP_JMP, true)));
    return target(w, f);
}

bool emit_landing_return(walker *w, uint32_t n) {
    TRY(note(w, w->ncode, w->instr));
    TRY(put_cell(w, (cell){.op = w->handlers[OP_RETURN]}));
    TRY(put_cell(w, (cell){.u64 = home(w, 0)}));
    return put_cell(w, (cell){.u64 = n});
}

size_t emit_if(walker *w, uint32_t cond) {
    if (!live(w))
        return 0;
    if (!emit_cond_branch(w, cond, true, true))
        return SIZE_MAX;
    size_t at = w->ncode;
    if (!put_cell(w, (cell){.u64 = 0}))
        return SIZE_MAX;
    return at + 1;
}

bool emit_br_table(walker *w, uint32_t n, uint32_t arity) {
    if (!live(w))
        return true;
    uint64_t index;
    TRY(source(w, w->sp, &index));
    TRY(materialize_top(w, arity));
    TRY(op(w, branch_op(w, OP_BR_TABLE, true)));
    TRY(imm(w, index));
    TRY(imm(w, n));
    TRY(imm(w, home(w, w->sp - arity)));
    return imm(w, arity);
}

bool emit_br_table_label(walker *w, ctrl_frame *f) {
    TRY(target(w, f));
    return imm(w, home(w, f->height));
}
