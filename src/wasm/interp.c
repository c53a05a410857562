/*
 * The interpreter: direct-threaded code over frames of 64-bit slots.
 *
 * Registers of the machine (C locals the compiler keeps in registers):
 *   pc    next cell: on entry to a handler it points at the first immediate
 *   fp    slot of local 0 of the running function (parameters first); the
 *         operand stack lies above the locals, at heights the translator
 *         knows, so every op names its operand and result slots (fp[i]) in
 *         its immediates and no stack pointer exists at run time
 *   inst  instance of the running function
 *   mem, mem_size, dirty   memory 0 of inst, reloaded after calls and grows
 *   fuel  budget left; CHARGE n subtracts a region's instruction count
 *
 * A call pushes (return pc, fp, inst) on the store's frame stack; the callee's
 * parameters are the caller's operand slots named by the call, so fp of the
 * callee points at them and no copy is made. RETURN moves the results down to
 * fp[0..n).
 *
 * A trap stores its reason in the store and unwinds every frame of this
 * entry at once; the store's stack and frame depth are restored, so the
 * engine and its embedder keep working. The trap site notes pc and inst in the
 * store (trap_note, a cold call); once unwound, the trap is located from them
 * and the translator's side table (location.c): no handler pays for it.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "seam's interpreter assumes a little-endian host"
#endif

static inline float f32_of(uint64_t v) {
    float f;
    uint32_t b = (uint32_t)v;
    memcpy(&f, &b, 4);
    return f;
}
static inline uint64_t of_f32(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}
static inline double f64_of(uint64_t v) {
    double d;
    memcpy(&d, &v, 8);
    return d;
}
static inline uint64_t of_f64(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* Rounding functions quiet a signalling NaN as arithmetic operations do. */
static inline float f32_round(float x, int how) {
    if (x != x)
        return x + x;
    switch (how) {
    case 0:
        return ceilf(x);
    case 1:
        return floorf(x);
    case 2:
        return truncf(x);
    default:
        return nearbyintf(x);
    }
}
static inline double f64_round(double x, int how) {
    if (x != x)
        return x + x;
    switch (how) {
    case 0:
        return ceil(x);
    case 1:
        return floor(x);
    case 2:
        return trunc(x);
    default:
        return nearbyint(x);
    }
}
static inline float f32_min(float a, float b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b) {
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static void mark_dirty_range(uint64_t *dirty, uint64_t start, uint64_t len) {
    if (!len)
        return;
    for (uint64_t p = start >> 12, last = (start + len - 1) >> 12; p <= last; p++)
        dirty[p >> 6] |= 1ull << (p & 63);
}

#define DIRTY(ea, n)                                                                               \
    do {                                                                                           \
        uint64_t p0_ = (ea) >> 12, p1_ = ((ea) + (n)-1) >> 12;                                     \
        dirty[p0_ >> 6] |= 1ull << (p0_ & 63);                                                     \
        dirty[p1_ >> 6] |= 1ull << (p1_ & 63);                                                     \
    } while (0)

/*
 * Notes where a trap happened, for location.c to place it after unwinding.
 * Cold and out of line on purpose: the call makes every trap site a cold block,
 * which the compiler moves out of the handlers' section, so what a trap site
 * does never shifts or squeezes the handlers (reading pc and inst at the shared
 * trap label instead cost a register in every bounds check: 5-20 % on make
 * bench).
 */
__attribute__((cold, noinline)) static void trap_note(seam_wasm_store *s, const cell *pc,
                                                      seam_wasm_instance *inst) {
    s->trap_pc = pc;
    s->trap_instance = inst;
}

static seam_err run(seam_wasm_store *s, seam_wasm_func *func, uint64_t *slots,
                    const void *const **table_out) {
#define LABEL_ADDRESS(name) &&L_##name,
    static const void *const labels[OP_COUNT] = {WASM_OPS(LABEL_ADDRESS)};
#undef LABEL_ADDRESS
    if (table_out) {
        *table_out = labels;
        return SEAM_OK;
    }

    const uint32_t base_depth = s->depth;
    uint64_t *const base_top = s->stack_top;
    const uint32_t max_depth = s->limits.max_call_depth;
    uint64_t *const stack_end = s->stack_end;
    seam_wasm_trap_code trap_code = SEAM_WASM_TRAP_NONE;
    const char *trap_text = NULL;

    /* fuel counts down in a signed register from at most INT64_MAX; the store
       keeps the exact remainder of its (possibly larger) budget */
    const bool metered = !s->limits.metering_off;
    uint64_t fuel_base = s->fuel_left;
    int64_t fuel_start = fuel_base > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel_base;
    int64_t fuel = fuel_start;
    seam_wasm_instance *inst = func->instance;
    const compiled_func *cf = func->code;
    uint64_t *fp = base_top;
    uint64_t *nfp;         /* the callee's frame at a call: its arguments */
    const cell *pc = NULL; /* NULL until the function starts: a trap before has no place */
    uint8_t *mem;
    uint64_t mem_size;
    uint64_t *dirty;
    seam_wasm_func *callee;
    call_frame *const frames = s->frames;
    uint32_t depth = base_depth; /* s->depth is written back at host calls and exits */

#define RELOAD_MEMORY()                                                                            \
    do {                                                                                           \
        seam_wasm_memory *m_ = inst->memory0;                                                      \
        mem = m_ ? m_->data : NULL;                                                                \
        mem_size = m_ ? m_->size : 0;                                                              \
        dirty = m_ ? m_->dirty : NULL;                                                             \
    } while (0)
#define NEXT() goto *(pc++)->op
/* the slot named by the op's immediate n, and the immediate itself */
#define SLOT(n) fp[pc[n].u64]
#define IMM(n)  pc[n].u64
#define BULK_CHARGE(units)                                                                         \
    do {                                                                                           \
        if (metered) {                                                                             \
            fuel -= (int64_t)(units);                                                              \
            if (fuel < 0)                                                                          \
                TRAP(SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);                                         \
        }                                                                                          \
    } while (0)
#define TRAP(code, text)                                                                           \
    do {                                                                                           \
        trap_note(s, pc, inst);                                                                    \
        trap_code = (code);                                                                        \
        trap_text = (text);                                                                        \
        goto trap;                                                                                 \
    } while (0)

    if (fp + cf->max_height > stack_end || max_depth == 0)
        TRAP(SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED, NULL);
    memcpy(fp, slots, (size_t)cf->type->nparams * 8);
    memset(fp + cf->type->nparams, 0, (size_t)(cf->nlocals - cf->type->nparams) * 8);
    pc = cf->entry;
    RELOAD_MEMORY();
    NEXT();

    /* ---- control ---------------------------------------------------------- */
L_UNREACHABLE:
    TRAP(SEAM_WASM_TRAP_UNREACHABLE, NULL);
L_CHARGE:
    fuel -= pc->i64;
    if (fuel < 0)
        TRAP(SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);
    pc++;
    NEXT();
    /* ---- superinstructions (docs/wasm.md): [dst][x][y][z], the first op's two
       operands, then the second op's other one ---- */
#define FOLD(name, xv, yv, zv, expr)                                                               \
    L_##name : {                                                                                   \
        uint32_t x = (uint32_t)(xv), y = (uint32_t)(yv), z = (uint32_t)(zv);                       \
        SLOT(0) = (uint32_t)(expr);                                                                \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
    FOLD(I32_MUL_ADD, SLOT(1), SLOT(2), SLOT(3), x * y + z)
    FOLD(I32_MUL_ADD_K, SLOT(1), SLOT(2), IMM(3), x * y + z)
    FOLD(I32_MUL_K_ADD, SLOT(1), IMM(2), SLOT(3), x * y + z)
    FOLD(I32_MUL_K_ADD_K, SLOT(1), IMM(2), IMM(3), x * y + z)
    FOLD(I32_ADD_ADD, SLOT(1), SLOT(2), SLOT(3), x + y + z)
    FOLD(I32_ADD_ADD_K, SLOT(1), SLOT(2), IMM(3), x + y + z)
    FOLD(I32_SHL_K_ADD, SLOT(1), IMM(2), SLOT(3), (x << (y & 31)) + z)
    FOLD(I32_SHL_K_ADD_K, SLOT(1), IMM(2), IMM(3), (x << (y & 31)) + z)
    FOLD(I32_SHR_U_K_AND_K, SLOT(1), IMM(2), IMM(3), (x >> (y & 31)) & z)
    FOLD(I32_SHR_U_K_XOR, SLOT(1), IMM(2), SLOT(3), (x >> (y & 31)) ^ z)
    FOLD(I32_SHL_K_XOR, SLOT(1), IMM(2), SLOT(3), (x << (y & 31)) ^ z)
    FOLD(I32_XOR_XOR, SLOT(1), SLOT(2), SLOT(3), x ^ y ^ z)
    FOLD(I32_XOR_SHL_K, SLOT(1), SLOT(2), IMM(3), (x ^ y) << (z & 31))
    FOLD(I32_SHL_K_SHR_S_K, SLOT(1), IMM(2), IMM(3), (int32_t)(x << (y & 31)) >> (z & 31))
#undef FOLD
/* the body of a load from (uint32_t)(addr) + IMM(off) into SLOT(0), width slots long */
#define LOAD_AT(addr, off, ctype, size, convert, width)                                            \
    {                                                                                              \
        uint64_t ea = (uint64_t)(uint32_t)(addr) + IMM(off);                                       \
        if (ea + (size) > mem_size)                                                                \
            TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);                                       \
        ctype v;                                                                                   \
        memcpy(&v, mem + ea, size);                                                                \
        SLOT(0) = convert;                                                                         \
        pc += (width);                                                                             \
        NEXT();                                                                                    \
    }
/* the body of a store of bits to SLOT(0) + IMM(2): [address][value or bits][offset] */
#define STORE_AT(bits, ctype, size)                                                                \
    {                                                                                              \
        uint64_t ea = (uint64_t)(uint32_t)SLOT(0) + IMM(2);                                        \
        if (ea + (size) > mem_size)                                                                \
            TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);                                       \
        ctype v = (ctype)(bits);                                                                   \
        memcpy(mem + ea, &v, size);                                                                \
        DIRTY(ea, size);                                                                           \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* a load whose address is an i32.add: [dst][x][y or constant][offset]; the sum wraps at 32 bits */
#define LOAD_SUM(name, ctype, size, convert, sum)                                                  \
    L_##name : LOAD_AT(sum, 3, ctype, size, convert, 4)
#define LOAD_SUMS(name, ctype, size, convert)                                                      \
    LOAD_SUM(name##_AK, ctype, size, convert, SLOT(1) + IMM(2))                                    \
    LOAD_SUM(name##_AA, ctype, size, convert, SLOT(1) + SLOT(2))
    LOAD_SUMS(LOAD32, uint32_t, 4, v)
    LOAD_SUMS(LOAD64, uint64_t, 8, v)
    LOAD_SUMS(I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v)
    LOAD_SUMS(I32_LOAD8_U, uint8_t, 1, v)
    LOAD_SUMS(I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v)
    LOAD_SUMS(I32_LOAD16_U, uint16_t, 2, v)
#undef LOAD_SUMS
#undef LOAD_SUM
/* a store of a constant: [address][bits][offset] */
#define STORE_K(name, ctype, size) L_##name : STORE_AT(IMM(1), ctype, size)
    STORE_K(STORE8_K, uint8_t, 1)
    STORE_K(STORE16_K, uint16_t, 2)
    STORE_K(STORE32_K, uint32_t, 4)
    STORE_K(STORE64_K, uint64_t, 8)
#undef STORE_K
    /* two moves, in order: [dst][src or bits][dst][src or bits] */
L_MOVE_MOVE:
    SLOT(0) = SLOT(1);
    SLOT(2) = SLOT(3);
    pc += 4;
    NEXT();
L_MOVE_SET_K:
    SLOT(0) = SLOT(1);
    SLOT(2) = IMM(3);
    pc += 4;
    NEXT();
L_SET_K_MOVE:
    SLOT(0) = IMM(1);
    SLOT(2) = SLOT(3);
    pc += 4;
    NEXT();
L_SET_K_SET_K:
    SLOT(0) = IMM(1);
    SLOT(2) = IMM(3);
    pc += 4;
    NEXT();
    /* an op with the CHARGE of the region it falls into folded in (docs/wasm.md,
       "Fuel"): the count is the op's last cell, n cells in, where branches that
       land on the region read it too; running out is placed at that cell */
#define PAY_NEXT_REGION(n)                                                                         \
    do {                                                                                           \
        fuel -= pc[n].i64;                                                                         \
        pc += (n) + 1;                                                                             \
        if (fuel < 0)                                                                              \
            TRAP(SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);                                             \
    } while (0)
L_MOVE_C:
    SLOT(0) = SLOT(1);
    PAY_NEXT_REGION(2);
    NEXT();
L_SET_K_C:
    SLOT(0) = IMM(1);
    PAY_NEXT_REGION(2);
    NEXT();
L_MOVE_MOVE_C:
    SLOT(0) = SLOT(1);
    SLOT(2) = SLOT(3);
    PAY_NEXT_REGION(4);
    NEXT();
L_MOVE_SET_K_C:
    SLOT(0) = SLOT(1);
    SLOT(2) = IMM(3);
    PAY_NEXT_REGION(4);
    NEXT();
L_SET_K_MOVE_C:
    SLOT(0) = IMM(1);
    SLOT(2) = SLOT(3);
    PAY_NEXT_REGION(4);
    NEXT();
L_SET_K_SET_K_C:
    SLOT(0) = IMM(1);
    SLOT(2) = IMM(3);
    PAY_NEXT_REGION(4);
    NEXT();
L_STORE32_C : { /* STORE32's [address][value][offset], then the count */
    uint64_t ea = (uint64_t)(uint32_t)SLOT(0) + IMM(2);
    if (ea + 4 > mem_size)
        TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    uint32_t v = (uint32_t)SLOT(1);
    memcpy(mem + ea, &v, 4);
    DIRTY(ea, 4);
    PAY_NEXT_REGION(3);
    NEXT();
}
#undef PAY_NEXT_REGION

/*
 * Branches, twice: plain, and charged (_C), used when the code is metered.
 * A branch lands where a fuel region starts; the CHARGE that falls into
 * that region sits just before the target, so a charged branch pays the
 * region by reading the cell before its target (pc[-1] once landed). Running
 * out there notes the target: the trap is placed at the region's first
 * instruction, as for the CHARGE itself.
 */
#define LAND(charged, target)                                                                      \
    do {                                                                                           \
        pc = (target);                                                                             \
        if (charged) {                                                                             \
            fuel -= pc[-1].i64;                                                                    \
            if (fuel < 0)                                                                          \
                TRAP(SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);                                         \
        }                                                                                          \
    } while (0)
/* compare and branch: [a][b][offset], _K [a][constant][offset] */
#define CMP_BRANCH(S, C, name, T, conv_in, rhs, expr)                                              \
    L_BR_IF_##name##S : {                                                                          \
        T a = conv_in(SLOT(0)), b = conv_in(rhs);                                                  \
        if (expr)                                                                                  \
            LAND(C, pc + 2 + pc[2].i64);                                                           \
        else                                                                                       \
            pc += 3;                                                                               \
        NEXT();                                                                                    \
    }
#define INT_BRANCH(S, C, name, T, conv_in, expr)                                                   \
    CMP_BRANCH(S, C, name, T, conv_in, SLOT(1), expr)                                              \
    CMP_BRANCH(S, C, name##_K, T, conv_in, IMM(1), expr)
/* a float compare, and its branch when false (unordered operands included) */
#define FLOAT_BRANCH(S, C, name, T, conv_in, expr)                                                 \
    CMP_BRANCH(S, C, name, T, conv_in, SLOT(1), expr)                                              \
    L_BR_UNLESS_##name##S : {                                                                      \
        T a = conv_in(SLOT(0)), b = conv_in(SLOT(1));                                              \
        if (expr)                                                                                  \
            pc += 3;                                                                               \
        else                                                                                       \
            LAND(C, pc + 2 + pc[2].i64);                                                           \
        NEXT();                                                                                    \
    }
#define TEST_BRANCH(S, C, name, test)                                                              \
    L_##name##S : if (test) LAND(C, pc + 1 + pc[1].i64);                                           \
    else pc += 2;                                                                                  \
    NEXT();
#define BRANCHES(S, C)                                                                             \
    L_JMP##S : LAND(C, pc + pc->i64);                                                              \
    NEXT();                                                                                        \
    L_BR_MOVE##S : { /* [offset][dest][src][n] */                                                  \
        uint64_t *dest = fp + pc[1].u64, *src = fp + pc[2].u64;                                    \
        uint64_t n = pc[3].u64;                                                                    \
        if (n == 1)                                                                                \
            *dest = *src;                                                                          \
        else                                                                                       \
            memmove(dest, src, n * 8);                                                             \
        LAND(C, pc + pc->i64);                                                                     \
        NEXT();                                                                                    \
    }                                                                                              \
    /* [cond][offset] */                                                                           \
    TEST_BRANCH(S, C, BR_IF, (uint32_t)SLOT(0))                                                    \
    TEST_BRANCH(S, C, BR_UNLESS, !(uint32_t)SLOT(0))                                               \
    TEST_BRANCH(S, C, BR_IF64, SLOT(0))                                                            \
    TEST_BRANCH(S, C, BR_UNLESS64, !SLOT(0))                                                       \
    L_BR_IF_MOVE##S : /* [cond] then BR_MOVE's cells */                                            \
                      if ((uint32_t)SLOT(0)) {                                                     \
        pc++;                                                                                      \
        goto L_BR_MOVE##S;                                                                         \
    }                                                                                              \
    pc += 5;                                                                                       \
    NEXT();                                                                                        \
    L_BR_TABLE##S : { /* [index][n][src][arity], n + 1 times [offset][dest], default last */       \
        uint32_t i = (uint32_t)SLOT(0);                                                            \
        uint64_t n = pc[1].u64, k = pc[3].u64;                                                     \
        const cell *e = pc + 4 + 2 * (i < n ? i : n);                                              \
        uint64_t *dest = fp + e[1].u64, *src = fp + pc[2].u64;                                     \
        if (k && dest != src)                                                                      \
            memmove(dest, src, k * 8);                                                             \
        LAND(C, e + e->i64);                                                                       \
        NEXT();                                                                                    \
    }                                                                                              \
    INT_BRANCH(S, C, I32_EQ, uint32_t, U32, a == b)                                                \
    INT_BRANCH(S, C, I32_NE, uint32_t, U32, a != b)                                                \
    INT_BRANCH(S, C, I32_LT_S, int32_t, S32, a < b)                                                \
    INT_BRANCH(S, C, I32_LT_U, uint32_t, U32, a < b)                                               \
    INT_BRANCH(S, C, I32_GT_S, int32_t, S32, a > b)                                                \
    INT_BRANCH(S, C, I32_GT_U, uint32_t, U32, a > b)                                               \
    INT_BRANCH(S, C, I32_LE_S, int32_t, S32, a <= b)                                               \
    INT_BRANCH(S, C, I32_LE_U, uint32_t, U32, a <= b)                                              \
    INT_BRANCH(S, C, I32_GE_S, int32_t, S32, a >= b)                                               \
    INT_BRANCH(S, C, I32_GE_U, uint32_t, U32, a >= b)                                              \
    INT_BRANCH(S, C, I64_EQ, uint64_t, U64, a == b)                                                \
    INT_BRANCH(S, C, I64_NE, uint64_t, U64, a != b)                                                \
    INT_BRANCH(S, C, I64_LT_S, int64_t, S64, a < b)                                                \
    INT_BRANCH(S, C, I64_LT_U, uint64_t, U64, a < b)                                               \
    INT_BRANCH(S, C, I64_GT_S, int64_t, S64, a > b)                                                \
    INT_BRANCH(S, C, I64_GT_U, uint64_t, U64, a > b)                                               \
    INT_BRANCH(S, C, I64_LE_S, int64_t, S64, a <= b)                                               \
    INT_BRANCH(S, C, I64_LE_U, uint64_t, U64, a <= b)                                              \
    INT_BRANCH(S, C, I64_GE_S, int64_t, S64, a >= b)                                               \
    INT_BRANCH(S, C, I64_GE_U, uint64_t, U64, a >= b)                                              \
    FLOAT_BRANCH(S, C, F32_EQ, float, f32_of, a == b)                                              \
    FLOAT_BRANCH(S, C, F32_NE, float, f32_of, a != b)                                              \
    FLOAT_BRANCH(S, C, F32_LT, float, f32_of, a < b)                                               \
    FLOAT_BRANCH(S, C, F32_GT, float, f32_of, a > b)                                               \
    FLOAT_BRANCH(S, C, F32_LE, float, f32_of, a <= b)                                              \
    FLOAT_BRANCH(S, C, F32_GE, float, f32_of, a >= b)                                              \
    FLOAT_BRANCH(S, C, F64_EQ, double, f64_of, a == b)                                             \
    FLOAT_BRANCH(S, C, F64_NE, double, f64_of, a != b)                                             \
    FLOAT_BRANCH(S, C, F64_LT, double, f64_of, a < b)                                              \
    FLOAT_BRANCH(S, C, F64_GT, double, f64_of, a > b)                                              \
    FLOAT_BRANCH(S, C, F64_LE, double, f64_of, a <= b)                                             \
    FLOAT_BRANCH(S, C, F64_GE, double, f64_of, a >= b)
#define U32(x) ((uint32_t)(x))
#define S32(x) ((int32_t)(uint32_t)(x))
#define U64(x) ((uint64_t)(x))
#define S64(x) ((int64_t)(x))

    BRANCHES(, 0)
    BRANCHES(_C, 1)
#undef BRANCHES

L_RETURN : { /* [src][n]: the results move to fp[0..n) */
    uint64_t *src = fp + pc[0].u64;
    if (src != fp)
        memmove(fp, src, pc[1].u64 * 8);
    goto leave;
}
L_RETURN1:
    fp[0] = SLOT(0);
    goto leave;
L_RETURN0:
leave : {
    if (depth == base_depth)
        goto finished;
    const call_frame *f = &frames[--depth];
    pc = f->pc;
    fp = f->fp;
    if (inst != f->instance) {
        inst = f->instance;
        RELOAD_MEMORY();
    }
    NEXT();
}
L_CALL: /* [function][args]: the callee's frame starts at the caller's slot args */
    callee = inst->funcs[pc[0].u64];
    nfp = fp + pc[1].u64;
    pc += 2;
    goto call;
L_CALL_INDIRECT : { /* [type][table][index][args] */
    const seam_wasm_table *t = inst->tables[pc[1].u64];
    uint32_t i = (uint32_t)SLOT(2);
    if (i >= t->size)
        TRAP(SEAM_WASM_TRAP_UNDEFINED_ELEMENT, NULL);
    callee = (seam_wasm_func *)(uintptr_t)t->elems[i];
    if (!callee)
        TRAP(SEAM_WASM_TRAP_UNINITIALIZED_ELEMENT, NULL);
    const functype *want = &inst->module->types[pc[0].u64];
    if (callee->type != want && !wasm_functype_equal(callee->type, want))
        TRAP(SEAM_WASM_TRAP_INDIRECT_CALL_TYPE, NULL);
    nfp = fp + pc[3].u64;
    pc += 4;
    goto call;
}
call : {
    const functype *t = callee->type;
    if (callee->host) {
        uint64_t results[16];
        uint64_t *out = t->nresults <= 16 ? results : nfp;
        seam_wasm_call_ctx ctx = {s, inst};
        /* a call back into wasm from the host builds its frames above the arguments */
        s->stack_top = nfp + (t->nparams > t->nresults ? t->nparams : t->nresults);
        s->depth = depth;
        s->fuel_left = fuel_base - (uint64_t)(fuel_start - fuel);
        seam_err e = callee->host(&ctx, callee->env, nfp, out);
        fuel = fuel_start - (int64_t)(fuel_base - s->fuel_left);
        s->stack_top = base_top;
        if (e != SEAM_OK) {
            if (s->trap.code == SEAM_WASM_TRAP_NONE)
                wasm_set_trap(s, SEAM_WASM_TRAP_HOST, "host function failed");
            trap_code = s->trap.code;
            trap_note(s, pc, inst);
            goto trap_recorded;
        }
        if (out != nfp)
            memcpy(nfp, out, (size_t)t->nresults * 8);
        RELOAD_MEMORY();
        NEXT();
    }
    const compiled_func *c = callee->code;
    if (depth + 1 >= max_depth || nfp + c->max_height > stack_end)
        TRAP(SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED, NULL);
    frames[depth++] = (call_frame){pc, fp, inst};
    fp = nfp;
    for (uint64_t *p = fp + t->nparams, *locals_end = fp + c->nlocals; p < locals_end;)
        *p++ = 0;
    pc = c->entry;
    if (inst != callee->instance) {
        inst = callee->instance;
        RELOAD_MEMORY();
    }
    if (pc->op == labels[OP_CHARGE]) { /* the entry region's CHARGE, done here: no dispatch */
        pc++;
        fuel -= pc->i64;
        if (fuel < 0)
            TRAP(SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);
        pc++;
    }
    NEXT();
}

    /* ---- parametric, variables ------------------------------------------------ */
L_SELECT: /* [dst][a][b][cond] */
    SLOT(0) = (uint32_t)SLOT(3) ? SLOT(1) : SLOT(2);
    pc += 4;
    NEXT();
L_MOVE: /* [dst][src] */
    SLOT(0) = SLOT(1);
    pc += 2;
    NEXT();
L_SET_K: /* [dst][bits] */
    SLOT(0) = IMM(1);
    pc += 2;
    NEXT();
L_GLOBAL_GET: /* [dst][global] */
    SLOT(0) = inst->globals[IMM(1)]->value;
    pc += 2;
    NEXT();
L_GLOBAL_SET: /* [global][src] */
    inst->globals[IMM(0)]->value = SLOT(1);
    pc += 2;
    NEXT();

    /* ---- memory: loads [dst][address][offset], stores [address][value][offset] ---- */
#define LOAD(name, ctype, size, convert) L_##name : LOAD_AT(SLOT(1), 2, ctype, size, convert, 3)
    LOAD(LOAD32, uint32_t, 4, v)
    LOAD(LOAD64, uint64_t, 8, v)
    LOAD(I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v)
    LOAD(I32_LOAD8_U, uint8_t, 1, v)
    LOAD(I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v)
    LOAD(I32_LOAD16_U, uint16_t, 2, v)
    LOAD(I64_LOAD8_S, int8_t, 1, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD8_U, uint8_t, 1, v)
    LOAD(I64_LOAD16_S, int16_t, 2, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD16_U, uint16_t, 2, v)
    LOAD(I64_LOAD32_S, int32_t, 4, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD32_U, uint32_t, 4, v)
#undef LOAD
#define STORE(name, ctype, size) L_##name : STORE_AT(SLOT(1), ctype, size)
    STORE(STORE8, uint8_t, 1)
    STORE(STORE16, uint16_t, 2)
    STORE(STORE32, uint32_t, 4)
    STORE(STORE64, uint64_t, 8)
#undef STORE
#undef STORE_AT
#undef LOAD_AT
L_MEMORY_SIZE: /* [dst] */
    SLOT(0) = inst->memory0->pages;
    pc++;
    NEXT();
L_MEMORY_GROW: /* [dst][delta] */
    SLOT(0) = (uint32_t)wasm_memory_grow(s, inst->memory0, (uint32_t)SLOT(1));
    RELOAD_MEMORY();
    pc += 2;
    NEXT();
    /* bulk operations: [immediates...][base], their operands at fp[base], fp[base + 1], ... */
L_MEMORY_FILL : {
    const uint64_t *b = fp + IMM(0);
    uint64_t d = (uint32_t)b[0], n = (uint32_t)b[2];
    uint8_t v = (uint8_t)b[1];
    if (d + n > mem_size)
        TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 6);
    memset(mem + d, v, n);
    mark_dirty_range(dirty, d, n);
    pc++;
    NEXT();
}
L_MEMORY_COPY : {
    const uint64_t *b = fp + IMM(0);
    uint64_t d = (uint32_t)b[0], src = (uint32_t)b[1], n = (uint32_t)b[2];
    if (src + n > mem_size || d + n > mem_size)
        TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 6);
    memmove(mem + d, mem + src, n);
    mark_dirty_range(dirty, d, n);
    pc++;
    NEXT();
}
L_MEMORY_INIT : { /* [segment][base] */
    const data_segment *seg = &inst->module->datas[IMM(0)];
    uint64_t len = inst->data_dropped[IMM(0)] ? 0 : seg->data_len;
    const uint64_t *b = fp + IMM(1);
    uint64_t d = (uint32_t)b[0], src = (uint32_t)b[1], n = (uint32_t)b[2];
    if (src + n > len || d + n > mem_size)
        TRAP(SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 6);
    memcpy(mem + d, inst->module->bytes + seg->data_start + src, n);
    mark_dirty_range(dirty, d, n);
    pc += 2;
    NEXT();
}
L_DATA_DROP: /* [segment] */
    inst->data_dropped[IMM(0)] = 1;
    pc++;
    NEXT();

    /* ---- tables and references ------------------------------------------------ */
L_TABLE_GET : { /* [dst][table][index] */
    const seam_wasm_table *t = inst->tables[IMM(1)];
    uint32_t i = (uint32_t)SLOT(2);
    if (i >= t->size)
        TRAP(SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    SLOT(0) = t->elems[i];
    pc += 3;
    NEXT();
}
L_TABLE_SET : { /* [table][index][value] */
    seam_wasm_table *t = inst->tables[IMM(0)];
    uint32_t i = (uint32_t)SLOT(1);
    if (i >= t->size)
        TRAP(SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    t->elems[i] = SLOT(2);
    pc += 3;
    NEXT();
}
L_TABLE_SIZE: /* [dst][table] */
    SLOT(0) = inst->tables[IMM(1)]->size;
    pc += 2;
    NEXT();
L_TABLE_GROW : { /* [table][base]: init, delta; the old size replaces init */
    seam_wasm_table *t = inst->tables[IMM(0)];
    uint64_t *b = fp + IMM(1);
    b[0] = (uint32_t)wasm_table_grow(s, t, (uint32_t)b[1], b[0]);
    pc += 2;
    NEXT();
}
L_TABLE_FILL : { /* [table][base]: index, value, n */
    seam_wasm_table *t = inst->tables[IMM(0)];
    const uint64_t *b = fp + IMM(1);
    uint64_t i = (uint32_t)b[0], v = b[1], n = (uint32_t)b[2];
    if (i + n > t->size)
        TRAP(SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 3);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    pc += 2;
    NEXT();
}
L_TABLE_COPY : { /* [dst table][src table][base]: d, s, n */
    seam_wasm_table *dt = inst->tables[IMM(0)];
    const seam_wasm_table *st = inst->tables[IMM(1)];
    const uint64_t *b = fp + IMM(2);
    uint64_t d = (uint32_t)b[0], src = (uint32_t)b[1], n = (uint32_t)b[2];
    if (src + n > st->size || d + n > dt->size)
        TRAP(SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 3);
    memmove(dt->elems + d, st->elems + src, n * 8);
    pc += 3;
    NEXT();
}
L_TABLE_INIT : { /* [segment][table][base]: d, s, n */
    uint64_t seg = IMM(0);
    seam_wasm_table *t = inst->tables[IMM(1)];
    uint64_t len = inst->elem_dropped[seg] ? 0 : inst->module->elems[seg].count;
    const uint64_t *b = fp + IMM(2);
    uint64_t d = (uint32_t)b[0], src = (uint32_t)b[1], n = (uint32_t)b[2];
    if (src + n > len || d + n > t->size)
        TRAP(SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
    BULK_CHARGE(n >> 3);
    memcpy(t->elems + d, inst->elem_refs[seg] + src, n * 8);
    pc += 3;
    NEXT();
}
L_ELEM_DROP: /* [segment] */
    inst->elem_dropped[IMM(0)] = 1;
    pc++;
    NEXT();
L_REF_IS_NULL: /* [dst][ref] */
    SLOT(0) = SLOT(1) == 0;
    pc += 2;
    NEXT();
L_REF_FUNC: /* [dst][function] */
    SLOT(0) = (uint64_t)(uintptr_t)inst->funcs[IMM(1)];
    pc += 2;
    NEXT();

    /* ---- numeric: unary [dst][a], binary [dst][a][b], _K [dst][a][constant] ---- */
#define UN(name, T, conv_in, conv_out, expr)                                                       \
    L_##name : {                                                                                   \
        T a = conv_in(SLOT(1));                                                                    \
        SLOT(0) = conv_out(expr);                                                                  \
        pc += 2;                                                                                   \
        NEXT();                                                                                    \
    }
#define BIN(name, T, conv_in, conv_out, expr)                                                      \
    L_##name : {                                                                                   \
        T a = conv_in(SLOT(1)), b = conv_in(SLOT(2));                                              \
        SLOT(0) = conv_out(expr);                                                                  \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* an integer operator, in both forms; check may trap before anything is written */
#define IBIN(name, T, conv_in, conv_out, check, expr)                                              \
    L_##name : {                                                                                   \
        T a = conv_in(SLOT(1)), b = conv_in(SLOT(2));                                              \
        check;                                                                                     \
        SLOT(0) = conv_out(expr);                                                                  \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }                                                                                              \
    L_##name##_K : {                                                                               \
        T a = conv_in(SLOT(1)), b = conv_in(IMM(2));                                               \
        check;                                                                                     \
        SLOT(0) = conv_out(expr);                                                                  \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }
#define OUT32(x) ((uint64_t)(uint32_t)(x))
#define OUT64(x) ((uint64_t)(x))
#define OUTB(x)  ((uint64_t)((x) ? 1 : 0))
#define NONE     (void)0
#define DIVIDES(zero_trap)                                                                         \
    if (b == 0)                                                                                    \
        TRAP(SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO, NULL);                                         \
    zero_trap
#define NO_OVERFLOW(min)                                                                           \
    if (a == (min) && b == -1)                                                                     \
    TRAP(SEAM_WASM_TRAP_INTEGER_OVERFLOW, NULL)

    UN(I32_EQZ, uint32_t, U32, OUTB, a == 0)
    IBIN(I32_EQ, uint32_t, U32, OUTB, NONE, a == b)
    IBIN(I32_NE, uint32_t, U32, OUTB, NONE, a != b)
    IBIN(I32_LT_S, int32_t, S32, OUTB, NONE, a < b)
    IBIN(I32_LT_U, uint32_t, U32, OUTB, NONE, a < b)
    IBIN(I32_GT_S, int32_t, S32, OUTB, NONE, a > b)
    IBIN(I32_GT_U, uint32_t, U32, OUTB, NONE, a > b)
    IBIN(I32_LE_S, int32_t, S32, OUTB, NONE, a <= b)
    IBIN(I32_LE_U, uint32_t, U32, OUTB, NONE, a <= b)
    IBIN(I32_GE_S, int32_t, S32, OUTB, NONE, a >= b)
    IBIN(I32_GE_U, uint32_t, U32, OUTB, NONE, a >= b)
    UN(I64_EQZ, uint64_t, U64, OUTB, a == 0)
    IBIN(I64_EQ, uint64_t, U64, OUTB, NONE, a == b)
    IBIN(I64_NE, uint64_t, U64, OUTB, NONE, a != b)
    IBIN(I64_LT_S, int64_t, S64, OUTB, NONE, a < b)
    IBIN(I64_LT_U, uint64_t, U64, OUTB, NONE, a < b)
    IBIN(I64_GT_S, int64_t, S64, OUTB, NONE, a > b)
    IBIN(I64_GT_U, uint64_t, U64, OUTB, NONE, a > b)
    IBIN(I64_LE_S, int64_t, S64, OUTB, NONE, a <= b)
    IBIN(I64_LE_U, uint64_t, U64, OUTB, NONE, a <= b)
    IBIN(I64_GE_S, int64_t, S64, OUTB, NONE, a >= b)
    IBIN(I64_GE_U, uint64_t, U64, OUTB, NONE, a >= b)
    BIN(F32_EQ, float, f32_of, OUTB, a == b)
    BIN(F32_NE, float, f32_of, OUTB, a != b)
    BIN(F32_LT, float, f32_of, OUTB, a < b)
    BIN(F32_GT, float, f32_of, OUTB, a > b)
    BIN(F32_LE, float, f32_of, OUTB, a <= b)
    BIN(F32_GE, float, f32_of, OUTB, a >= b)
    BIN(F64_EQ, double, f64_of, OUTB, a == b)
    BIN(F64_NE, double, f64_of, OUTB, a != b)
    BIN(F64_LT, double, f64_of, OUTB, a < b)
    BIN(F64_GT, double, f64_of, OUTB, a > b)
    BIN(F64_LE, double, f64_of, OUTB, a <= b)
    BIN(F64_GE, double, f64_of, OUTB, a >= b)

    UN(I32_CLZ, uint32_t, U32, OUT32, a ? __builtin_clz(a) : 32)
    UN(I32_CTZ, uint32_t, U32, OUT32, a ? __builtin_ctz(a) : 32)
    UN(I32_POPCNT, uint32_t, U32, OUT32, __builtin_popcount(a))
    IBIN(I32_ADD, uint32_t, U32, OUT32, NONE, a + b)
    IBIN(I32_SUB, uint32_t, U32, OUT32, NONE, a - b)
    IBIN(I32_MUL, uint32_t, U32, OUT32, NONE, a * b)
    IBIN(I32_DIV_S, int32_t, S32, OUT32, DIVIDES(NO_OVERFLOW(INT32_MIN)), a / b)
    IBIN(I32_DIV_U, uint32_t, U32, OUT32, DIVIDES(NONE), a / b)
    IBIN(I32_REM_S, int32_t, S32, OUT32, DIVIDES(NONE), b == -1 ? 0 : a % b)
    IBIN(I32_REM_U, uint32_t, U32, OUT32, DIVIDES(NONE), a % b)
    IBIN(I32_AND, uint32_t, U32, OUT32, NONE, a & b)
    IBIN(I32_OR, uint32_t, U32, OUT32, NONE, a | b)
    IBIN(I32_XOR, uint32_t, U32, OUT32, NONE, a ^ b)
    IBIN(I32_SHL, uint32_t, U32, OUT32, NONE, a << (b & 31))
    IBIN(I32_SHR_S, uint32_t, U32, OUT32, NONE, (uint32_t)((int32_t)a >> (b & 31)))
    IBIN(I32_SHR_U, uint32_t, U32, OUT32, NONE, a >> (b & 31))
    IBIN(I32_ROTL, uint32_t, U32, OUT32, NONE, (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)))
    IBIN(I32_ROTR, uint32_t, U32, OUT32, NONE, (a >> (b & 31)) | (a << ((32 - (b & 31)) & 31)))

    UN(I64_CLZ, uint64_t, U64, OUT64, a ? (uint64_t)__builtin_clzll(a) : 64)
    UN(I64_CTZ, uint64_t, U64, OUT64, a ? (uint64_t)__builtin_ctzll(a) : 64)
    UN(I64_POPCNT, uint64_t, U64, OUT64, (uint64_t)__builtin_popcountll(a))
    IBIN(I64_ADD, uint64_t, U64, OUT64, NONE, a + b)
    IBIN(I64_SUB, uint64_t, U64, OUT64, NONE, a - b)
    IBIN(I64_MUL, uint64_t, U64, OUT64, NONE, a * b)
    IBIN(I64_DIV_S, int64_t, S64, OUT64, DIVIDES(NO_OVERFLOW(INT64_MIN)), a / b)
    IBIN(I64_DIV_U, uint64_t, U64, OUT64, DIVIDES(NONE), a / b)
    IBIN(I64_REM_S, int64_t, S64, OUT64, DIVIDES(NONE), b == -1 ? 0 : a % b)
    IBIN(I64_REM_U, uint64_t, U64, OUT64, DIVIDES(NONE), a % b)
    IBIN(I64_AND, uint64_t, U64, OUT64, NONE, a & b)
    IBIN(I64_OR, uint64_t, U64, OUT64, NONE, a | b)
    IBIN(I64_XOR, uint64_t, U64, OUT64, NONE, a ^ b)
    IBIN(I64_SHL, uint64_t, U64, OUT64, NONE, a << (b & 63))
    IBIN(I64_SHR_S, uint64_t, U64, OUT64, NONE, (uint64_t)((int64_t)a >> (b & 63)))
    IBIN(I64_SHR_U, uint64_t, U64, OUT64, NONE, a >> (b & 63))
    IBIN(I64_ROTL, uint64_t, U64, OUT64, NONE, (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)))
    IBIN(I64_ROTR, uint64_t, U64, OUT64, NONE, (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63)))

    UN(F32_ABS, uint32_t, U32, OUT32, a & 0x7fffffffu)
    UN(F32_NEG, uint32_t, U32, OUT32, a ^ 0x80000000u)
    UN(F32_CEIL, float, f32_of, of_f32, f32_round(a, 0))
    UN(F32_FLOOR, float, f32_of, of_f32, f32_round(a, 1))
    UN(F32_TRUNC, float, f32_of, of_f32, f32_round(a, 2))
    UN(F32_NEAREST, float, f32_of, of_f32, f32_round(a, 3))
    UN(F32_SQRT, float, f32_of, of_f32, sqrtf(a))
    BIN(F32_ADD, float, f32_of, of_f32, a + b)
    BIN(F32_SUB, float, f32_of, of_f32, a - b)
    BIN(F32_MUL, float, f32_of, of_f32, a *b)
    BIN(F32_DIV, float, f32_of, of_f32, a / b)
    BIN(F32_MIN, float, f32_of, of_f32, f32_min(a, b))
    BIN(F32_MAX, float, f32_of, of_f32, f32_max(a, b))
    BIN(F32_COPYSIGN, uint32_t, U32, OUT32, (a & 0x7fffffffu) | (b & 0x80000000u))
    UN(F64_ABS, uint64_t, U64, OUT64, a & 0x7fffffffffffffffull)
    UN(F64_NEG, uint64_t, U64, OUT64, a ^ 0x8000000000000000ull)
    UN(F64_CEIL, double, f64_of, of_f64, f64_round(a, 0))
    UN(F64_FLOOR, double, f64_of, of_f64, f64_round(a, 1))
    UN(F64_TRUNC, double, f64_of, of_f64, f64_round(a, 2))
    UN(F64_NEAREST, double, f64_of, of_f64, f64_round(a, 3))
    UN(F64_SQRT, double, f64_of, of_f64, sqrt(a))
    BIN(F64_ADD, double, f64_of, of_f64, a + b)
    BIN(F64_SUB, double, f64_of, of_f64, a - b)
    BIN(F64_MUL, double, f64_of, of_f64, a *b)
    BIN(F64_DIV, double, f64_of, of_f64, a / b)
    BIN(F64_MIN, double, f64_of, of_f64, f64_min(a, b))
    BIN(F64_MAX, double, f64_of, of_f64, f64_max(a, b))
    BIN(F64_COPYSIGN, uint64_t, U64, OUT64,
        (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))

    /* conversions */
    UN(I32_WRAP_I64, uint64_t, U64, OUT32, (uint32_t)a)
#define TRUNC(name, T, conv_in, lo_ok, hi_ok, ctype, conv_out)                                     \
    L_##name : {                                                                                   \
        T a = conv_in(SLOT(1));                                                                    \
        if (a != a)                                                                                \
            TRAP(SEAM_WASM_TRAP_INVALID_CONVERSION, NULL);                                         \
        if (!(lo_ok && hi_ok))                                                                     \
            TRAP(SEAM_WASM_TRAP_INTEGER_OVERFLOW, NULL);                                           \
        SLOT(0) = conv_out((ctype)a);                                                              \
        pc += 2;                                                                                   \
        NEXT();                                                                                    \
    }
    TRUNC(I32_TRUNC_F32_S, float, f32_of, a >= -2147483648.0f, a < 2147483648.0f, int32_t, OUT32)
    TRUNC(I32_TRUNC_F32_U, float, f32_of, a > -1.0f, a < 4294967296.0f, uint32_t, OUT32)
    TRUNC(I32_TRUNC_F64_S, double, f64_of, a > -2147483649.0, a < 2147483648.0, int32_t, OUT32)
    TRUNC(I32_TRUNC_F64_U, double, f64_of, a > -1.0, a < 4294967296.0, uint32_t, OUT32)
    UN(I64_EXTEND_I32_S, int32_t, S32, OUT64, (int64_t)a)
    UN(I64_EXTEND_I32_U, uint32_t, U32, OUT64, a)
    TRUNC(I64_TRUNC_F32_S, float, f32_of, a >= -9223372036854775808.0f, a < 9223372036854775808.0f,
          int64_t, OUT64)
    TRUNC(I64_TRUNC_F32_U, float, f32_of, a > -1.0f, a < 18446744073709551616.0f, uint64_t, OUT64)
    TRUNC(I64_TRUNC_F64_S, double, f64_of, a >= -9223372036854775808.0, a < 9223372036854775808.0,
          int64_t, OUT64)
    TRUNC(I64_TRUNC_F64_U, double, f64_of, a > -1.0, a < 18446744073709551616.0, uint64_t, OUT64)
#undef TRUNC
    UN(F32_CONVERT_I32_S, int32_t, S32, of_f32, (float)a)
    UN(F32_CONVERT_I32_U, uint32_t, U32, of_f32, (float)a)
    UN(F32_CONVERT_I64_S, int64_t, S64, of_f32, (float)a)
    UN(F32_CONVERT_I64_U, uint64_t, U64, of_f32, (float)a)
    UN(F32_DEMOTE_F64, double, f64_of, of_f32, (float)a)
    UN(F64_CONVERT_I32_S, int32_t, S32, of_f64, (double)a)
    UN(F64_CONVERT_I32_U, uint32_t, U32, of_f64, (double)a)
    UN(F64_CONVERT_I64_S, int64_t, S64, of_f64, (double)a)
    UN(F64_CONVERT_I64_U, uint64_t, U64, of_f64, (double)a)
    UN(F64_PROMOTE_F32, float, f32_of, of_f64, (double)a)
    /* reinterpretations are never emitted (the bits stay where they are) */
    UN(I32_REINTERPRET_F32, uint64_t, U64, OUT64, a)
    UN(I64_REINTERPRET_F64, uint64_t, U64, OUT64, a)
    UN(F32_REINTERPRET_I32, uint64_t, U64, OUT64, a)
    UN(F64_REINTERPRET_I64, uint64_t, U64, OUT64, a)
    UN(I32_EXTEND8_S, uint32_t, U32, OUT32, (uint32_t)(int32_t)(int8_t)a)
    UN(I32_EXTEND16_S, uint32_t, U32, OUT32, (uint32_t)(int32_t)(int16_t)a)
    UN(I64_EXTEND8_S, uint64_t, U64, OUT64, (uint64_t)(int64_t)(int8_t)a)
    UN(I64_EXTEND16_S, uint64_t, U64, OUT64, (uint64_t)(int64_t)(int16_t)a)
    UN(I64_EXTEND32_S, uint64_t, U64, OUT64, (uint64_t)(int64_t)(int32_t)a)

#define SAT(name, T, conv_in, lo, hi, min, max, ctype, conv_out)                                   \
    L_##name : {                                                                                   \
        T a = conv_in(SLOT(1));                                                                    \
        ctype r;                                                                                   \
        if (a != a)                                                                                \
            r = 0;                                                                                 \
        else if (!(lo))                                                                            \
            r = min;                                                                               \
        else if (!(hi))                                                                            \
            r = max;                                                                               \
        else                                                                                       \
            r = (ctype)a;                                                                          \
        SLOT(0) = conv_out(r);                                                                     \
        pc += 2;                                                                                   \
        NEXT();                                                                                    \
    }
    SAT(I32_TRUNC_SAT_F32_S, float, f32_of, a >= -2147483648.0f, a < 2147483648.0f, INT32_MIN,
        INT32_MAX, int32_t, OUT32)
    SAT(I32_TRUNC_SAT_F32_U, float, f32_of, a > -1.0f, a < 4294967296.0f, 0, UINT32_MAX, uint32_t,
        OUT32)
    SAT(I32_TRUNC_SAT_F64_S, double, f64_of, a > -2147483649.0, a < 2147483648.0, INT32_MIN,
        INT32_MAX, int32_t, OUT32)
    SAT(I32_TRUNC_SAT_F64_U, double, f64_of, a > -1.0, a < 4294967296.0, 0, UINT32_MAX, uint32_t,
        OUT32)
    SAT(I64_TRUNC_SAT_F32_S, float, f32_of, a >= -9223372036854775808.0f,
        a < 9223372036854775808.0f, INT64_MIN, INT64_MAX, int64_t, OUT64)
    SAT(I64_TRUNC_SAT_F32_U, float, f32_of, a > -1.0f, a < 18446744073709551616.0f, 0, UINT64_MAX,
        uint64_t, OUT64)
    SAT(I64_TRUNC_SAT_F64_S, double, f64_of, a >= -9223372036854775808.0, a < 9223372036854775808.0,
        INT64_MIN, INT64_MAX, int64_t, OUT64)
    SAT(I64_TRUNC_SAT_F64_U, double, f64_of, a > -1.0, a < 18446744073709551616.0, 0, UINT64_MAX,
        uint64_t, OUT64)
#undef SAT

finished:
    memcpy(slots, fp, (size_t)func->type->nresults * 8);
    s->fuel_left = fuel < 0 ? 0 : fuel_base - (uint64_t)(fuel_start - fuel);
    s->depth = base_depth;
    s->stack_top = base_top;
    return SEAM_OK;

trap:
    wasm_set_trap(s, trap_code, trap_text);
trap_recorded: /* a host function failed: its trap is recorded (and maybe located) */
    s->fuel_left = fuel < 0 ? 0 : fuel_base - (uint64_t)(fuel_start - fuel);
    s->depth = base_depth;
    s->stack_top = base_top;
    return SEAM_ERR_WASM_TRAP;
}

const void *const *wasm_op_handlers(void) {
    const void *const *table = NULL;
    run(NULL, NULL, NULL, &table);
    return table;
}

seam_err wasm_interp_call(seam_wasm_store *s, seam_wasm_func *func, uint64_t *slots) {
    if (func->host) {
        seam_wasm_call_ctx ctx = {s, NULL};
        uint64_t results[16];
        uint32_t nr = func->type->nresults;
        uint64_t *out = nr <= 16 ? results : slots;
        seam_err e = func->host(&ctx, func->env, slots, out);
        if (e != SEAM_OK) {
            if (s->trap.code == SEAM_WASM_TRAP_NONE)
                wasm_set_trap(s, SEAM_WASM_TRAP_HOST, "host function failed");
            return SEAM_ERR_WASM_TRAP;
        }
        if (out != slots)
            memcpy(slots, out, (size_t)nr * 8);
        return SEAM_OK;
    }
    seam_err e = run(s, func, slots, NULL);
    /* known already: a host function passed on the trap of a wasm call it made */
    if (e == SEAM_ERR_WASM_TRAP && !s->trap.where.known)
        wasm_code_locate(s->trap_instance, s->trap_pc, &s->trap.where);
    return e;
}
