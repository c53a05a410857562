/*
 * Function bodies: validation and translation to threaded code, in one pass.
 *
 * The same walk serves both purposes. wasm_validate runs it without emitting
 * (the module is checked once, when it is loaded); wasm_translate runs it
 * again at the first instantiation and emits cells. Validation follows the
 * algorithm of the specification's appendix: an operand type stack and a
 * control stack, with a polymorphic stack after unconditional branches.
 *
 * Translation resolves everything the interpreter would otherwise compute:
 *   - operand stack heights are static, so each branch knows where its
 *     values go (slots above the frame pointer) and how many to move;
 *   - forward branch targets are chained through their own cells and
 *     patched when the block's `end` is reached; loop targets are known;
 *   - fuel: each region that a branch can enter starts with CHARGE n, n the
 *     number of instructions up to the next region (docs/wasm.md);
 *   - operands: ops name the frame slots they read and write; emit.c keeps
 *     local.get and constants lazy so that ops read locals and take constants
 *     directly (walk.h).
 */
#include <stdlib.h>
#include <string.h>

#include "walk.h"

static const uint8_t valtype_storage[256] = {
    [SEAM_WASM_I32] = SEAM_WASM_I32,         [SEAM_WASM_I64] = SEAM_WASM_I64,
    [SEAM_WASM_F32] = SEAM_WASM_F32,         [SEAM_WASM_F64] = SEAM_WASM_F64,
    [SEAM_WASM_FUNCREF] = SEAM_WASM_FUNCREF, [SEAM_WASM_EXTERNREF] = SEAM_WASM_EXTERNREF,
};

#define INVALID(...)                                                                               \
    do {                                                                                           \
        w->status = wasm_fail(SEAM_ERR_WASM_INVALID, w->err, w->errlen, __VA_ARGS__);              \
        return false;                                                                              \
    } while (0)
#define MALFORMED(...)                                                                             \
    do {                                                                                           \
        w->status = wasm_fail(SEAM_ERR_WASM_MALFORMED, w->err, w->errlen, __VA_ARGS__);            \
        return false;                                                                              \
    } while (0)
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if (!(expr))                                                                               \
            return false;                                                                          \
    } while (0)

static bool is_ref(uint8_t t) {
    return t == SEAM_WASM_FUNCREF || t == SEAM_WASM_EXTERNREF;
}

/* ---- reading ------------------------------------------------------------------ */

static bool read_fail(walker *w) {
    if (!w->status)
        w->status = wasm_fail(SEAM_ERR_WASM_MALFORMED, w->err, w->errlen, "%s",
                              w->r.error ? w->r.error : "unexpected end");
    return false;
}

static bool get_u8(walker *w, uint8_t *v) {
    return rd_u8(&w->r, v) || read_fail(w);
}
static bool get_u32(walker *w, uint32_t *v) {
    return rd_u32(&w->r, v) || read_fail(w);
}
static bool get_sleb(walker *w, unsigned bits, int64_t *v) {
    return rd_sleb(&w->r, bits, v) || read_fail(w);
}
static bool get_fixed(walker *w, size_t n, uint64_t *v) {
    const uint8_t *b;
    if (!rd_bytes(&w->r, n, &b))
        return read_fail(w);
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return true;
}
static bool zero_byte(walker *w) {
    uint8_t b;
    TRY(get_u8(w, &b));
    if (b != 0)
        MALFORMED("zero byte expected");
    return true;
}

/* ---- type stack ------------------------------------------------------------------ */

static bool push(walker *w, uint8_t t) {
    if (w->sp == WASM_MAX_OPERANDS) {
        w->status = wasm_fail(SEAM_ERR_WASM_LIMIT, w->err, w->errlen,
                              "more than %u operands on a function's stack", WASM_MAX_OPERANDS);
        return false;
    }
    if (w->sp == w->stack_cap) {
        uint32_t cap = w->stack_cap ? w->stack_cap * 2 : 64;
        uint8_t *grown = realloc(w->stack, cap);
        if (grown)
            w->stack = grown;
        value_loc *vals = grown && w->emit ? realloc(w->vals, cap * sizeof *vals) : w->vals;
        if (!grown || (w->emit && !vals)) {
            w->status = wasm_fail(SEAM_ERR_NOMEM, w->err, w->errlen, "out of memory");
            return false;
        }
        w->vals = vals;
        w->stack_cap = cap;
    }
    w->stack[w->sp++] = t;
    val_pushed(w);
    if (w->nlocals + w->sp > w->max_height)
        w->max_height = w->nlocals + w->sp;
    return true;
}

static bool pop_any(walker *w, uint8_t *out) {
    ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    if (w->sp == f->height) {
        if (f->unreachable) {
            *out = WASM_TYPE_UNKNOWN;
            return true;
        }
        INVALID("type mismatch: operand stack is empty");
    }
    *out = w->stack[--w->sp];
    val_popped(w);
    return true;
}

static bool pop(walker *w, uint8_t want) {
    uint8_t got;
    TRY(pop_any(w, &got));
    if (got != want && got != WASM_TYPE_UNKNOWN && want != WASM_TYPE_UNKNOWN)
        INVALID("type mismatch: expected %s, found %s", seam_wasm_valtype_name(want),
                seam_wasm_valtype_name(got));
    return true;
}

static bool pop_list(walker *w, const uint8_t *types, uint32_t n) {
    for (uint32_t i = n; i-- > 0;)
        TRY(pop(w, types[i]));
    return true;
}

static bool push_list(walker *w, const uint8_t *types, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        TRY(push(w, types[i]));
    return true;
}

/*
 * Checks that the top n operands have the given types and leaves them (and
 * where their values are) in place: a pop_list and push_list, except that in
 * reachable code nothing moves.
 */
static bool keep_list(walker *w, const uint8_t *types, uint32_t n) {
    const ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    if (f->unreachable || w->sp - f->height < n)
        return pop_list(w, types, n) && push_list(w, types, n);
    for (uint32_t i = n; i-- > 0;) {
        uint8_t got = w->stack[w->sp - n + i];
        if (got != types[i] && got != WASM_TYPE_UNKNOWN && types[i] != WASM_TYPE_UNKNOWN)
            INVALID("type mismatch: expected %s, found %s", seam_wasm_valtype_name(types[i]),
                    seam_wasm_valtype_name(got));
    }
    return true;
}

static bool push_ctrl(walker *w, uint8_t kind, const uint8_t *params, uint32_t np,
                      const uint8_t *results, uint32_t nr) {
    if (w->nctrl == w->ctrl_cap) {
        uint32_t cap = w->ctrl_cap ? w->ctrl_cap * 2 : 16;
        ctrl_frame *grown = realloc(w->ctrl, cap * sizeof *grown);
        if (!grown) {
            w->status = wasm_fail(SEAM_ERR_NOMEM, w->err, w->errlen, "out of memory");
            return false;
        }
        w->ctrl = grown;
        w->ctrl_cap = cap;
    }
    bool dead = false;
    if (w->nctrl) {
        const ctrl_frame *up = &w->ctrl[w->nctrl - 1];
        dead = up->dead || up->unreachable;
    }
    w->ctrl[w->nctrl++] = (ctrl_frame){.kind = kind,
                                       .dead = dead,
                                       .height = w->sp,
                                       .nparams = np,
                                       .nresults = nr,
                                       .params = params,
                                       .results = results};
    return push_list(w, params, np);
}

static void set_unreachable(walker *w) {
    ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    val_truncate(w, f->height);
    w->sp = f->height;
    f->unreachable = true;
}

static uint32_t label_arity(const ctrl_frame *f, const uint8_t **types) {
    if (f->kind == FRAME_LOOP) {
        *types = f->params;
        return f->nparams;
    }
    *types = f->results;
    return f->nresults;
}

/* Reads a block type: empty, one value type, or a type index (s33). */
static bool block_type(walker *w, const uint8_t **params, uint32_t *np, const uint8_t **results,
                       uint32_t *nr) {
    if (w->r.pos < w->r.end) {
        uint8_t b = w->r.bytes[w->r.pos];
        if (b == 0x40) {
            w->r.pos++;
            *np = *nr = 0;
            *params = *results = NULL;
            return true;
        }
        if (valtype_storage[b] && b != 0) {
            w->r.pos++;
            *np = 0;
            *params = NULL;
            *nr = 1;
            *results = &valtype_storage[b];
            return true;
        }
    }
    int64_t index;
    TRY(get_sleb(w, 33, &index));
    if (index < 0)
        MALFORMED("malformed block type");
    if ((uint64_t)index >= w->m->ntypes)
        INVALID("unknown type %lld", (long long)index);
    const functype *t = &w->m->types[index];
    *params = t->params;
    *np = t->nparams;
    *results = t->results;
    *nr = t->nresults;
    return true;
}

/* ---- branches ------------------------------------------------------------------- */

static bool check_label(walker *w, uint32_t depth) {
    if (depth >= w->nctrl)
        INVALID("unknown label %u", depth);
    return true;
}

static bool do_br_table(walker *w) {
    uint32_t n, depth;
    TRY(get_u32(w, &n));
    if (n > w->r.end - w->r.pos)
        MALFORMED("unexpected end");
    TRY(pop(w, SEAM_WASM_I32));
    size_t labels_at = w->r.pos;
    /* first pass: arity and types agree with the default label */
    for (uint32_t i = 0; i < n; i++)
        TRY(get_u32(w, &depth));
    TRY(get_u32(w, &depth));
    TRY(check_label(w, depth));
    const uint8_t *dtypes;
    uint32_t arity = label_arity(&w->ctrl[w->nctrl - 1 - depth], &dtypes);
    size_t end_at = w->r.pos;
    w->r.pos = labels_at;
    /* translation only walks valid bodies: the operands are there when live */
    TRY(emit_br_table(w, n, arity));
    for (uint32_t i = 0; i <= n; i++) {
        TRY(get_u32(w, &depth));
        TRY(check_label(w, depth));
        ctrl_frame *f = &w->ctrl[w->nctrl - 1 - depth];
        const uint8_t *types;
        if (label_arity(f, &types) != arity)
            INVALID("type mismatch: br_table labels have different arities");
        /* each label's types must accept the operands (checked without consuming) */
        for (uint32_t k = arity; k-- > 0;) {
            uint32_t pos = w->sp - (arity - k);
            ctrl_frame *top = &w->ctrl[w->nctrl - 1];
            if (w->sp < top->height + (arity - k)) {
                if (!top->unreachable)
                    INVALID("type mismatch: br_table operand missing");
                continue;
            }
            uint8_t got = w->stack[pos];
            if (got != types[k] && got != WASM_TYPE_UNKNOWN)
                INVALID("type mismatch in br_table");
        }
        TRY(emit_br_table_label(w, f));
    }
    w->r.pos = end_at;
    TRY(pop_list(w, dtypes, arity));
    set_unreachable(w);
    return true;
}

/* ---- instructions ------------------------------------------------------------------ */

static bool memarg(walker *w, unsigned natural_log2, uint32_t *offset) {
    uint32_t align;
    TRY(get_u32(w, &align));
    TRY(get_u32(w, offset));
    if (w->m->nmemories == 0)
        INVALID("unknown memory 0");
    if (align > natural_log2)
        INVALID("alignment must not be larger than natural");
    return true;
}

static bool do_load(walker *w, int opc, unsigned natural, uint8_t result) {
    uint32_t offset;
    TRY(memarg(w, natural, &offset));
    TRY(pop(w, SEAM_WASM_I32));
    TRY(emit_load(w, opc, offset));
    return push(w, result);
}

static bool do_store(walker *w, int opc, unsigned natural, uint8_t value) {
    uint32_t offset;
    TRY(memarg(w, natural, &offset));
    TRY(pop(w, value));
    TRY(pop(w, SEAM_WASM_I32));
    return emit_store(w, opc, offset);
}

/* Operand and result types of the numeric opcodes 0x45..0xC4. */
typedef struct {
    uint8_t in1, in2, out;
} numeric_sig;

static numeric_sig numeric_type(uint8_t opcode) {
    const uint8_t I = SEAM_WASM_I32, L = SEAM_WASM_I64, F = SEAM_WASM_F32, D = SEAM_WASM_F64;
    static const struct {
        uint8_t first, last;
        numeric_sig sig;
    } ranges[] = {
        {0x45, 0x45, {I, 0, I}}, {0x46, 0x4f, {I, I, I}}, {0x50, 0x50, {L, 0, I}},
        {0x51, 0x5a, {L, L, I}}, {0x5b, 0x60, {F, F, I}}, {0x61, 0x66, {D, D, I}},
        {0x67, 0x69, {I, 0, I}}, {0x6a, 0x78, {I, I, I}}, {0x79, 0x7b, {L, 0, L}},
        {0x7c, 0x8a, {L, L, L}}, {0x8b, 0x91, {F, 0, F}}, {0x92, 0x98, {F, F, F}},
        {0x99, 0x9f, {D, 0, D}}, {0xa0, 0xa6, {D, D, D}}, {0xa7, 0xa7, {L, 0, I}},
        {0xa8, 0xa9, {F, 0, I}}, {0xaa, 0xab, {D, 0, I}}, {0xac, 0xad, {I, 0, L}},
        {0xae, 0xaf, {F, 0, L}}, {0xb0, 0xb1, {D, 0, L}}, {0xb2, 0xb3, {I, 0, F}},
        {0xb4, 0xb5, {L, 0, F}}, {0xb6, 0xb6, {D, 0, F}}, {0xb7, 0xb8, {I, 0, D}},
        {0xb9, 0xba, {L, 0, D}}, {0xbb, 0xbb, {F, 0, D}}, {0xbc, 0xbc, {F, 0, I}},
        {0xbd, 0xbd, {D, 0, L}}, {0xbe, 0xbe, {I, 0, F}}, {0xbf, 0xbf, {L, 0, D}},
        {0xc0, 0xc1, {I, 0, I}}, {0xc2, 0xc4, {L, 0, L}},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (opcode >= ranges[i].first && opcode <= ranges[i].last)
            return ranges[i].sig;
    return (numeric_sig){0, 0, 0};
}

static bool do_numeric(walker *w, uint8_t opcode) {
    numeric_sig s = numeric_type(opcode);
    if (opcode >= 0xbc && opcode <= 0xbf) {
        /* reinterpretations keep the bits: nothing to execute, the value stays where it is */
        bool keep = live(w) && w->sp > w->ctrl[w->nctrl - 1].height;
        value_loc v = keep ? val_top(w) : (value_loc){0, NO_ENTRY, VAL_HOME};
        TRY(pop(w, s.in1));
        TRY(push(w, s.out));
        if (keep)
            val_restore_top(w, v);
        return true;
    }
    if (s.in2)
        TRY(pop(w, s.in2));
    TRY(pop(w, s.in1));
    TRY(emit_numeric(w, opcode, s.in2 ? 2 : 1));
    return push(w, s.out);
}

static bool do_call(walker *w, uint32_t fidx) {
    if (fidx >= w->m->nfuncs)
        INVALID("unknown function %u", fidx);
    const functype *t = &w->m->types[w->m->func_type[fidx]];
    TRY(pop_list(w, t->params, t->nparams));
    TRY(emit_call(w, fidx, t->nparams));
    return push_list(w, t->results, t->nresults);
}

static bool do_call_indirect(walker *w) {
    uint32_t tidx, table;
    TRY(get_u32(w, &tidx));
    TRY(get_u32(w, &table));
    if (table >= w->m->ntables)
        INVALID("unknown table %u", table);
    if (w->m->tables[table].elem_type != SEAM_WASM_FUNCREF)
        INVALID("type mismatch: call_indirect needs a funcref table");
    if (tidx >= w->m->ntypes)
        INVALID("unknown type %u", tidx);
    const functype *t = &w->m->types[tidx];
    TRY(pop(w, SEAM_WASM_I32));
    TRY(pop_list(w, t->params, t->nparams));
    TRY(emit_call_indirect(w, tidx, table, t->nparams));
    return push_list(w, t->results, t->nresults);
}

static bool do_select(walker *w, bool typed) {
    uint8_t t = WASM_TYPE_UNKNOWN;
    if (typed) {
        uint32_t n;
        TRY(get_u32(w, &n));
        if (n != 1)
            INVALID("invalid result arity");
        TRY(get_u8(w, &t));
        if (!valtype_storage[t])
            MALFORMED("malformed value type");
    }
    TRY(pop(w, SEAM_WASM_I32));
    if (typed) {
        TRY(pop(w, t));
        TRY(pop(w, t));
    } else {
        uint8_t a, b;
        TRY(pop_any(w, &a));
        TRY(pop_any(w, &b));
        if (is_ref(a) || is_ref(b))
            INVALID("type mismatch: select needs numeric operands");
        if (a != b && a != WASM_TYPE_UNKNOWN && b != WASM_TYPE_UNKNOWN)
            INVALID("type mismatch: select operands differ");
        t = a != WASM_TYPE_UNKNOWN ? a : b;
    }
    TRY(emit_select(w));
    return push(w, t);
}

static bool check_table(walker *w, uint32_t t) {
    if (t >= w->m->ntables)
        INVALID("unknown table %u", t);
    return true;
}

static bool check_elem(walker *w, uint32_t e) {
    if (e >= w->m->nelems)
        INVALID("unknown elem segment %u", e);
    return true;
}

static bool check_data(walker *w, uint32_t d) {
    uint32_t count = w->m->has_data_count ? w->m->data_count : w->m->ndatas;
    if (d < count && !w->m->has_data_count)
        MALFORMED("data count section required");
    if (d >= count)
        INVALID("unknown data segment %u", d);
    return true;
}

static bool do_prefixed(walker *w) {
    uint32_t sub, a, b;
    const uint8_t I = SEAM_WASM_I32;
    TRY(get_u32(w, &sub));
    if (sub <= 7) {
        static const uint8_t in[8] = {SEAM_WASM_F32, SEAM_WASM_F32, SEAM_WASM_F64, SEAM_WASM_F64,
                                      SEAM_WASM_F32, SEAM_WASM_F32, SEAM_WASM_F64, SEAM_WASM_F64};
        TRY(pop(w, in[sub]));
        TRY(emit_unary(w, OP_I32_TRUNC_SAT_F32_S + (int)sub));
        return push(w, sub < 4 ? SEAM_WASM_I32 : SEAM_WASM_I64);
    }
    switch (sub) {
    case 8: /* memory.init */
        TRY(get_u32(w, &a));
        TRY(zero_byte(w));
        if (w->m->nmemories == 0)
            INVALID("unknown memory 0");
        TRY(check_data(w, a));
        TRY(pop(w, I) && pop(w, I) && pop(w, I));
        return emit_at_base(w, OP_MEMORY_INIT, 3, (uint64_t[]){a}, 1);
    case 9: /* data.drop */
        TRY(get_u32(w, &a));
        TRY(check_data(w, a));
        TRY(op(w, OP_DATA_DROP));
        return imm(w, a);
    case 10: /* memory.copy */
        TRY(zero_byte(w) && zero_byte(w));
        if (w->m->nmemories == 0)
            INVALID("unknown memory 0");
        TRY(pop(w, I) && pop(w, I) && pop(w, I));
        return emit_at_base(w, OP_MEMORY_COPY, 3, NULL, 0);
    case 11: /* memory.fill */
        TRY(zero_byte(w));
        if (w->m->nmemories == 0)
            INVALID("unknown memory 0");
        TRY(pop(w, I) && pop(w, I) && pop(w, I));
        return emit_at_base(w, OP_MEMORY_FILL, 3, NULL, 0);
    case 12: /* table.init elem table */
        TRY(get_u32(w, &a));
        TRY(get_u32(w, &b));
        TRY(check_table(w, b));
        TRY(check_elem(w, a));
        if (w->m->elems[a].elem_type != w->m->tables[b].elem_type)
            INVALID("type mismatch: element segment and table types differ");
        TRY(pop(w, I) && pop(w, I) && pop(w, I));
        return emit_at_base(w, OP_TABLE_INIT, 3, (uint64_t[]){a, b}, 2);
    case 13: /* elem.drop */
        TRY(get_u32(w, &a));
        TRY(check_elem(w, a));
        TRY(op(w, OP_ELEM_DROP));
        return imm(w, a);
    case 14: /* table.copy dst src */
        TRY(get_u32(w, &a));
        TRY(get_u32(w, &b));
        TRY(check_table(w, a));
        TRY(check_table(w, b));
        if (w->m->tables[a].elem_type != w->m->tables[b].elem_type)
            INVALID("type mismatch: table types differ");
        TRY(pop(w, I) && pop(w, I) && pop(w, I));
        return emit_at_base(w, OP_TABLE_COPY, 3, (uint64_t[]){a, b}, 2);
    case 15: /* table.grow */
        TRY(get_u32(w, &a));
        TRY(check_table(w, a));
        TRY(pop(w, I));
        TRY(pop(w, w->m->tables[a].elem_type));
        TRY(emit_at_base(w, OP_TABLE_GROW, 2, (uint64_t[]){a}, 1));
        return push(w, I);
    case 16: /* table.size */
        TRY(get_u32(w, &a));
        TRY(check_table(w, a));
        TRY(op(w, OP_TABLE_SIZE));
        TRY(imm(w, home(w, w->sp)));
        TRY(imm(w, a));
        produced(w, w->sp);
        return push(w, I);
    case 17: /* table.fill */
        TRY(get_u32(w, &a));
        TRY(check_table(w, a));
        TRY(pop(w, I));
        TRY(pop(w, w->m->tables[a].elem_type));
        TRY(pop(w, I));
        return emit_at_base(w, OP_TABLE_FILL, 3, (uint64_t[]){a}, 1);
    default:
        MALFORMED("illegal opcode 0xfc %u", sub);
    }
}

static bool do_block(walker *w, uint8_t kind) {
    const uint8_t *params, *results;
    uint32_t np, nr;
    TRY(block_type(w, &params, &np, &results, &nr));
    uint32_t cond = w->sp - 1; /* if: the condition stays readable there once popped */
    if (kind == FRAME_IF)
        TRY(pop(w, SEAM_WASM_I32));
    /* every path into and out of the block finds each value in its home slot */
    TRY(materialize_from(w, 0));
    TRY(pop_list(w, params, np));
    size_t else_cell = 0;
    if (kind == FRAME_IF) {
        else_cell = emit_if(w, cond);
        if (else_cell == SIZE_MAX)
            return false;
    }
    TRY(push_ctrl(w, kind, params, np, results, nr));
    ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    f->else_cell = else_cell;
    if (kind == FRAME_LOOP) { /* back edges land after the loop's CHARGE */
        TRY(region(w, true));
        f->loop_pc = w->ncode;
        w->barrier = w->ncode;
    } else if (kind == FRAME_IF) {
        TRY(region(w, false));
    }
    return true;
}

static bool do_else(walker *w) {
    ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    if (f->kind != FRAME_IF)
        INVALID("else without if");
    TRY(materialize_from(w, 0));
    TRY(pop_list(w, f->results, f->nresults));
    if (w->sp != f->height)
        INVALID("type mismatch: values remain at the end of the then branch");
    /* then branch falls through to the end */
    TRY(emit_jump_to_end(w, f));
    f->kind = FRAME_ELSE;
    f->unreachable = false;
    TRY(region(w, f->else_cell != 0)); /* the if's false edge lands here */
    if (f->else_cell) {
        patch(w, f->else_cell);
        f->else_cell = 0;
    }
    return push_list(w, f->params, f->nparams);
}

/* Handles `end`; returns true with *function_done set at the body's last end. */
static bool do_end(walker *w, bool *function_done) {
    ctrl_frame *f = &w->ctrl[w->nctrl - 1];
    if (f->kind == FRAME_FUNC && live(w) && !f->fixups) {
        /* reached only by falling through: return the values from where they are */
        TRY(keep_list(w, f->results, f->nresults));
        if (w->sp != f->height + f->nresults)
            INVALID("type mismatch: values remain at the end of a block");
        TRY(emit_return(w, f->nresults));
        close_region(w);
        *function_done = true;
        w->nctrl--;
        return true;
    }
    TRY(materialize_from(w, 0));
    TRY(pop_list(w, f->results, f->nresults));
    if (w->sp != f->height)
        INVALID("type mismatch: values remain at the end of a block");
    if (f->kind == FRAME_IF) {
        /* an if without else behaves as if the else passed its parameters on */
        if (f->nparams != f->nresults || (f->nparams && memcmp(f->params, f->results, f->nparams)))
            INVALID("type mismatch: if without else must not change the stack type");
    }
    if (f->kind == FRAME_FUNC) {
        if (w->emit) {
            /* branches land here with the results in their home slots */
            /* the RETURN is not counted: its region is empty, but it is
               charged (0) by the branches that land there */
            TRY(region(w, true));
            patch(w, f->fixups);
            TRY(emit_landing_return(w, f->nresults));
        }
        *function_done = true;
        w->nctrl--;
        return true;
    }
    const uint8_t *results = f->results;
    uint32_t nr = f->nresults;
    size_t fixups = f->fixups, else_cell = f->else_cell;
    w->nctrl--;
    /* the code after the end: a region, entered by falling through or by the
       branches to the label, which land after its CHARGE */
    TRY(region(w, fixups || else_cell));
    if (w->emit) {
        patch(w, fixups);
        patch(w, else_cell);
    }
    return push_list(w, results, nr);
}

static bool do_instruction(walker *w, uint8_t opcode, bool *done) {
    uint32_t a;
    int64_t s;
    uint64_t bits;
    const uint8_t I = SEAM_WASM_I32, L = SEAM_WASM_I64, F = SEAM_WASM_F32, D = SEAM_WASM_F64;
    switch (opcode) {
    case 0x00:
        TRY(op(w, OP_UNREACHABLE));
        set_unreachable(w);
        return true;
    case 0x01:
        return true;
    case 0x02:
        return do_block(w, FRAME_BLOCK);
    case 0x03:
        return do_block(w, FRAME_LOOP);
    case 0x04:
        return do_block(w, FRAME_IF);
    case 0x05:
        return do_else(w);
    case 0x0b:
        return do_end(w, done);
    case 0x0c: {
        TRY(get_u32(w, &a));
        TRY(check_label(w, a));
        const uint8_t *types;
        uint32_t n = label_arity(&w->ctrl[w->nctrl - 1 - a], &types);
        TRY(keep_list(w, types, n)); /* to emit with the operands in place */
        TRY(emit_branch(w, a, false));
        set_unreachable(w);
        return true;
    }
    case 0x0d: {
        TRY(get_u32(w, &a));
        TRY(check_label(w, a));
        TRY(pop(w, I));
        const uint8_t *types;
        uint32_t n = label_arity(&w->ctrl[w->nctrl - 1 - a], &types);
        TRY(keep_list(w, types, n));
        return emit_branch(w, a, true);
    }
    case 0x0e:
        return do_br_table(w);
    case 0x0f: {
        ctrl_frame *f = &w->ctrl[0];
        TRY(keep_list(w, f->results, f->nresults));
        TRY(emit_return(w, f->nresults));
        set_unreachable(w);
        return true;
    }
    case 0x10:
        TRY(get_u32(w, &a));
        return do_call(w, a);
    case 0x11:
        return do_call_indirect(w);
    case 0x1a: {
        uint8_t t;
        return pop_any(w, &t); /* nothing to execute */
    }
    case 0x1b:
        return do_select(w, false);
    case 0x1c:
        return do_select(w, true);
    case 0x20:
    case 0x21:
    case 0x22:
        TRY(get_u32(w, &a));
        if (a >= w->nlocals)
            INVALID("unknown local %u", a);
        if (opcode == 0x20) { /* lazy: the op that uses the value reads the local */
            TRY(push(w, w->local_types[a]));
            val_local(w, a);
            return true;
        }
        TRY(pop(w, w->local_types[a]));
        if (opcode == 0x21)
            return emit_local_set(w, a);
        {
            value_loc v = w->emit ? w->vals[w->sp] : (value_loc){0, NO_ENTRY, VAL_HOME};
            TRY(emit_local_set(w, a));
            TRY(push(w, w->local_types[a]));
            if (v.kind == VAL_CONST)
                val_const(w, v.value);
            else
                val_local(w, a); /* the value is the local's now */
            return true;
        }
    case 0x23:
    case 0x24:
        TRY(get_u32(w, &a));
        if (a >= w->m->nglobals)
            INVALID("unknown global %u", a);
        if (opcode == 0x23) {
            TRY(op(w, OP_GLOBAL_GET));
            TRY(imm(w, home(w, w->sp)));
            TRY(imm(w, a));
            produced(w, w->sp);
            return push(w, w->m->global_types[a].type);
        }
        if (!w->m->global_types[a].is_mutable)
            INVALID("global is immutable");
        TRY(pop(w, w->m->global_types[a].type));
        if (live(w)) {
            uint64_t from;
            TRY(source(w, w->sp, &from));
            TRY(op(w, OP_GLOBAL_SET));
            TRY(imm(w, a));
            TRY(imm(w, from));
        }
        return true;
    case 0x25:
        TRY(get_u32(w, &a));
        TRY(check_table(w, a));
        TRY(pop(w, I));
        if (live(w)) {
            uint64_t index;
            TRY(source(w, w->sp, &index));
            TRY(op(w, OP_TABLE_GET));
            TRY(imm(w, home(w, w->sp)));
            TRY(imm(w, a));
            TRY(imm(w, index));
            produced(w, w->sp);
        }
        return push(w, w->m->tables[a].elem_type);
    case 0x26:
        TRY(get_u32(w, &a));
        TRY(check_table(w, a));
        TRY(pop(w, w->m->tables[a].elem_type));
        TRY(pop(w, I));
        if (live(w)) {
            uint64_t index, value;
            TRY(source(w, w->sp, &index));
            TRY(source(w, w->sp + 1, &value));
            TRY(op(w, OP_TABLE_SET));
            TRY(imm(w, a));
            TRY(imm(w, index));
            TRY(imm(w, value));
        }
        return true;
    case 0x28:
        return do_load(w, OP_LOAD32, 2, I);
    case 0x29:
        return do_load(w, OP_LOAD64, 3, L);
    case 0x2a:
        return do_load(w, OP_LOAD32, 2, F);
    case 0x2b:
        return do_load(w, OP_LOAD64, 3, D);
    case 0x2c:
        return do_load(w, OP_I32_LOAD8_S, 0, I);
    case 0x2d:
        return do_load(w, OP_I32_LOAD8_U, 0, I);
    case 0x2e:
        return do_load(w, OP_I32_LOAD16_S, 1, I);
    case 0x2f:
        return do_load(w, OP_I32_LOAD16_U, 1, I);
    case 0x30:
        return do_load(w, OP_I64_LOAD8_S, 0, L);
    case 0x31:
        return do_load(w, OP_I64_LOAD8_U, 0, L);
    case 0x32:
        return do_load(w, OP_I64_LOAD16_S, 1, L);
    case 0x33:
        return do_load(w, OP_I64_LOAD16_U, 1, L);
    case 0x34:
        return do_load(w, OP_I64_LOAD32_S, 2, L);
    case 0x35:
        return do_load(w, OP_I64_LOAD32_U, 2, L);
    case 0x36:
        return do_store(w, OP_STORE32, 2, I);
    case 0x37:
        return do_store(w, OP_STORE64, 3, L);
    case 0x38:
        return do_store(w, OP_STORE32, 2, F);
    case 0x39:
        return do_store(w, OP_STORE64, 3, D);
    case 0x3a:
        return do_store(w, OP_STORE8, 0, I);
    case 0x3b:
        return do_store(w, OP_STORE16, 1, I);
    case 0x3c:
        return do_store(w, OP_STORE8, 0, L);
    case 0x3d:
        return do_store(w, OP_STORE16, 1, L);
    case 0x3e:
        return do_store(w, OP_STORE32, 2, L);
    case 0x3f:
    case 0x40:
        TRY(zero_byte(w));
        if (w->m->nmemories == 0)
            INVALID("unknown memory 0");
        if (opcode == 0x3f) {
            TRY(op(w, OP_MEMORY_SIZE));
            TRY(imm(w, home(w, w->sp)));
            produced(w, w->sp);
            return push(w, I);
        }
        TRY(pop(w, I));
        TRY(emit_unary(w, OP_MEMORY_GROW));
        return push(w, I);
    case 0x41:
        TRY(get_sleb(w, 32, &s));
        TRY(push(w, I));
        val_const(w, (uint32_t)s); /* lazy: the op that uses it takes it as an immediate */
        return true;
    case 0x42:
        TRY(get_sleb(w, 64, &s));
        TRY(push(w, L));
        val_const(w, (uint64_t)s);
        return true;
    case 0x43:
        TRY(get_fixed(w, 4, &bits));
        TRY(push(w, F));
        val_const(w, bits);
        return true;
    case 0x44:
        TRY(get_fixed(w, 8, &bits));
        TRY(push(w, D));
        val_const(w, bits);
        return true;
    case 0xd0: {
        uint8_t t;
        TRY(get_u8(w, &t));
        if (!is_ref(t))
            MALFORMED("malformed reference type");
        TRY(push(w, t));
        val_const(w, 0);
        return true;
    }
    case 0xd1: {
        uint8_t t;
        TRY(pop_any(w, &t));
        if (t != WASM_TYPE_UNKNOWN && !is_ref(t))
            INVALID("type mismatch: ref.is_null needs a reference");
        TRY(emit_unary(w, OP_REF_IS_NULL));
        return push(w, I);
    }
    case 0xd2:
        TRY(get_u32(w, &a));
        if (a >= w->m->nfuncs)
            INVALID("unknown function %u", a);
        if (!w->m->declared_funcs[a])
            INVALID("undeclared function reference");
        TRY(op(w, OP_REF_FUNC));
        TRY(imm(w, home(w, w->sp)));
        TRY(imm(w, a));
        produced(w, w->sp);
        return push(w, SEAM_WASM_FUNCREF);
    case 0xfc:
        return do_prefixed(w);
    default:
        if (opcode >= 0x45 && opcode <= 0xc4)
            return do_numeric(w, opcode);
        MALFORMED("illegal opcode 0x%02x", opcode);
    }
}

/*
 * Expands the parameters and the local groups of body b (checked by the
 * decoder) into w->local_types, a buffer reused from body to body: at most
 * WASM_MAX_ARITY + WASM_MAX_LOCALS bytes, whatever the module holds.
 */
static bool expand_locals(walker *w, const func_body *b) {
    seam_wasm_module *m = w->m;
    size_t need = (size_t)w->type->nparams + b->nlocals + 1;
    if (need > w->local_cap) {
        uint8_t *grown = realloc(w->local_types, need);
        if (grown)
            w->local_types = grown;
        uint32_t *heads =
            grown && w->emit ? realloc(w->lazy_head, need * sizeof *heads) : w->lazy_head;
        if (!grown || (w->emit && !heads)) {
            w->status = wasm_fail(SEAM_ERR_NOMEM, w->err, w->errlen, "out of memory");
            return false;
        }
        w->lazy_head = heads;
        w->local_cap = need;
    }
    if (w->type->nparams)
        memcpy(w->local_types, w->type->params, w->type->nparams);
    reader r = {m->bytes, b->locals_start, b->code_start, NULL};
    size_t at = w->type->nparams;
    for (uint32_t g = 0; g < b->ngroups; g++) {
        uint32_t n = 0;
        uint8_t t = 0;
        rd_u32(&r, &n);
        rd_u8(&r, &t);
        memset(w->local_types + at, t, n);
        at += n;
    }
    w->nlocals = (uint32_t)at;
    if (w->emit) /* NO_ENTRY is all ones */
        memset(w->lazy_head, 0xff, (size_t)w->nlocals * sizeof *w->lazy_head);
    return true;
}

/* Walks body fidx (a defined function's index); emits when w->emit. */
static bool walk_body(walker *w, uint32_t body_index) {
    seam_wasm_module *m = w->m;
    func_body *b = &m->bodies[body_index];
    w->type = &m->types[b->type_index];
    if (!expand_locals(w, b))
        return false;
    w->r = (reader){m->bytes, b->code_start, b->code_end, NULL};
    w->sp = 0;
    w->nctrl = 0;
    w->max_height = w->nlocals;
    w->charge_cell = 0;
    w->region_count = 0;
    w->last_pos = SIZE_MAX;
    w->result_pos = SIZE_MAX;
    w->watermark = 0;
    w->result_pending = false;
    w->barrier = w->ncode;
    w->instr = b->code_start;
    bool ok =
        push_ctrl(w, FRAME_FUNC, NULL, 0, w->type->results, w->type->nresults) && region(w, false);
    bool done = false;
    while (ok && !done) {
        uint8_t opcode;
        w->instr = w->r.pos;
        if (w->r.pos >= w->r.end) {
            w->status =
                wasm_fail(SEAM_ERR_WASM_MALFORMED, w->err, w->errlen, "END opcode expected");
            ok = false;
            break;
        }
        if (!get_u8(w, &opcode)) {
            ok = false;
            break;
        }
        /* fuel: one unit per instruction, but for the structure (block, loop,
           else, end) and nop */
        if (live(w) && opcode != 0x01 && opcode != 0x02 && opcode != 0x03 && opcode != 0x05 &&
            opcode != 0x0b)
            w->region_count++;
        ok = do_instruction(w, opcode, &done);
    }
    if (ok && w->r.pos != w->r.end) {
        w->status = wasm_fail(SEAM_ERR_WASM_MALFORMED, w->err, w->errlen,
                              "section size mismatch: bytes after the function's end");
        ok = false;
    }
    return ok;
}

/* ---- constant expressions and segments ---------------------------------------------- */

/* Checks that expression e yields exactly one value of type want. */
static seam_err check_const(seam_wasm_module *m, const_expr e, uint8_t want, char *err,
                            size_t errlen) {
    reader r = {m->bytes, e.start, e.end, NULL};
    uint8_t stack_types[8];
    unsigned depth = 0;
    for (;;) {
        uint8_t opc = 0, t = 0;
        uint32_t index = 0;
        int64_t ignored;
        const uint8_t *bytes;
        rd_u8(&r, &opc);
        switch (opc) {
        case 0x0b:
            if (depth != 1 || (stack_types[0] != want))
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen,
                                 "type mismatch in constant expression");
            return SEAM_OK;
        case 0x41:
            rd_sleb(&r, 32, &ignored);
            t = SEAM_WASM_I32;
            break;
        case 0x42:
            rd_sleb(&r, 64, &ignored);
            t = SEAM_WASM_I64;
            break;
        case 0x43:
            rd_bytes(&r, 4, &bytes);
            t = SEAM_WASM_F32;
            break;
        case 0x44:
            rd_bytes(&r, 8, &bytes);
            t = SEAM_WASM_F64;
            break;
        case 0xd0:
            rd_u8(&r, &t);
            break;
        case 0xd2:
            rd_u32(&r, &index);
            if (index >= m->nfuncs)
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen, "unknown function %u", index);
            m->declared_funcs[index] = 1;
            t = SEAM_WASM_FUNCREF;
            break;
        case 0x23:
            rd_u32(&r, &index);
            if (index >= m->nglobal_imports)
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen, "unknown global %u", index);
            if (m->global_types[index].is_mutable)
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen,
                                 "constant expression required");
            t = m->global_types[index].type;
            break;
        default:
            return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen, "constant expression required");
        }
        if (depth == sizeof stack_types)
            return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen,
                             "type mismatch in constant expression");
        stack_types[depth++] = t;
    }
}

static seam_err validate_module_level(seam_wasm_module *m, char *err, size_t errlen) {
    seam_err e = SEAM_OK;
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports && !e; i++)
        e = check_const(m, m->globals[i].init, m->globals[i].type.type, err, errlen);
    for (uint32_t i = 0; i < m->nelems && !e; i++) {
        elem_segment *s = &m->elems[i];
        if (s->mode == SEG_ACTIVE) {
            if (s->table_index >= m->ntables)
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen, "unknown table %u",
                                 s->table_index);
            if (m->tables[s->table_index].elem_type != s->elem_type)
                return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen,
                                 "type mismatch: element segment and table types differ");
            e = check_const(m, s->offset, SEAM_WASM_I32, err, errlen);
        }
        for (uint32_t k = 0; k < s->count && !e; k++) {
            if (s->items[k].end == 0) {
                reader r = {m->bytes, s->items[k].start, m->len, NULL};
                uint32_t f = 0;
                rd_u32(&r, &f);
                if (f >= m->nfuncs)
                    return wasm_fail(SEAM_ERR_WASM_INVALID, err, errlen, "unknown function %u", f);
                m->declared_funcs[f] = 1;
            } else {
                e = check_const(m, s->items[k], s->elem_type, err, errlen);
            }
        }
    }
    for (uint32_t i = 0; i < m->ndatas && !e; i++)
        if (m->datas[i].mode == SEG_ACTIVE)
            e = check_const(m, m->datas[i].offset, SEAM_WASM_I32, err, errlen);
    return e;
}

static void walker_free(walker *w) {
    free(w->locs);
    free(w->local_types);
    free(w->lazy_head);
    free(w->vals);
    free(w->stack);
    free(w->ctrl);
    free(w->code);
}

seam_err wasm_validate(seam_wasm_module *m, char *err, size_t errlen) {
    seam_err e = validate_module_level(m, err, errlen);
    walker w = {.m = m, .err = err, .errlen = errlen};
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    for (uint32_t i = 0; !e && i < ndefined; i++) {
        if (!walk_body(&w, i))
            e = w.status;
        /* invalid (or past a limit), unless this or a later body is malformed */
        for (uint32_t k = i;
             (e == SEAM_ERR_WASM_INVALID || e == SEAM_ERR_WASM_LIMIT) && k < ndefined; k++) {
            reader r = {m->bytes, m->bodies[k].code_start, m->bodies[k].code_end, NULL};
            if (!wasm_skim_body(&r))
                e = wasm_fail(SEAM_ERR_WASM_MALFORMED, err, errlen, "%s", r.error);
        }
    }
    walker_free(&w);
    return e;
}

void wasm_compiled_free(compiled_code *c) {
    if (!c)
        return;
    free(c->cells);
    free(c->funcs);
    free(c->locs);
    free(c);
}

seam_err wasm_translate(seam_wasm_module *m, bool metering_off, compiled_code **out) {
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    char err[128];
    walker w = {.m = m,
                .emit = true,
                .metering = !metering_off,
                .handlers = wasm_op_handlers(),
                .err = err,
                .errlen = sizeof err};
    compiled_code *c = calloc(1, sizeof *c);
    size_t *entries = calloc((size_t)ndefined + 1, sizeof *entries);
    seam_err e = SEAM_OK;
    if (!c || !entries || !(c->funcs = calloc((size_t)ndefined + 1, sizeof *c->funcs))) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < ndefined; i++) {
        entries[i] = w.ncode;
        if (!walk_body(&w, i)) {
            e = w.status;
            goto done;
        }
        c->funcs[i].type = w.type;
        c->funcs[i].nlocals = w.nlocals;
        c->funcs[i].max_height = w.max_height;
    }
    /* the cells stay as long as the module: give back what doubling left over
       (if the smaller block cannot be had, the larger one does as well) */
    c->cells = w.code;
    if (w.ncode) {
        cell *fit = realloc(w.code, w.ncode * sizeof(cell));
        if (fit)
            c->cells = fit;
    }
    c->ncells = w.ncode;
    w.code = NULL;
    c->locs = w.locs;
    if (w.nlocs) {
        code_loc *fit = realloc(w.locs, w.nlocs * sizeof *fit);
        if (fit)
            c->locs = fit;
    }
    c->nlocs = w.nlocs;
    w.locs = NULL;
    for (uint32_t i = 0; i < ndefined; i++)
        c->funcs[i].entry = c->cells + entries[i];
    *out = c;
    c = NULL;
done:
    wasm_compiled_free(c);
    free(entries);
    walker_free(&w);
    return e;
}
