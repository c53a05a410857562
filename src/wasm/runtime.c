/*
 * Runtime objects and the public API: modules, stores, imports, memories,
 * tables, globals and calls. Instantiation lives in instance.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct store_object {
    store_object *next;
    void *buffer; /* a memory's bytes or dirty bitmap, or a table's entries */
};

/* ---- names ---------------------------------------------------------------- */

seam_wasm_name seam_wasm_name_of(const char *text) {
    return (seam_wasm_name){text, text ? strlen(text) : 0};
}

bool seam_wasm_name_equal(seam_wasm_name a, seam_wasm_name b) {
    return a.len == b.len && (a.len == 0 || !memcmp(a.bytes, b.bytes, a.len));
}

char *seam_wasm_name_print(char *buf, size_t size, seam_wasm_name name) {
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    if (!size)
        return buf;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = (uint8_t)name.bytes[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        size_t need = plain ? 1 : 3;
        if (at + need >= size)
            break;
        if (plain) {
            buf[at++] = (char)c;
        } else {
            buf[at++] = '\\';
            buf[at++] = hex[c >> 4];
            buf[at++] = hex[c & 15];
        }
    }
    buf[at] = 0;
    return buf;
}

const char *seam_wasm_valtype_name(seam_wasm_valtype type) {
    switch (type) {
    case SEAM_WASM_I32:
        return "i32";
    case SEAM_WASM_I64:
        return "i64";
    case SEAM_WASM_F32:
        return "f32";
    case SEAM_WASM_F64:
        return "f64";
    case SEAM_WASM_FUNCREF:
        return "funcref";
    case SEAM_WASM_EXTERNREF:
        return "externref";
    }
    return "unknown";
}

const char *seam_wasm_trap_name(seam_wasm_trap_code code) {
    static const char *const names[] = {
        [SEAM_WASM_TRAP_NONE] = "no trap",
        [SEAM_WASM_TRAP_UNREACHABLE] = "unreachable",
        [SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS] = "out of bounds memory access",
        [SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS] = "out of bounds table access",
        [SEAM_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO] = "integer divide by zero",
        [SEAM_WASM_TRAP_INTEGER_OVERFLOW] = "integer overflow",
        [SEAM_WASM_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
        [SEAM_WASM_TRAP_UNDEFINED_ELEMENT] = "undefined element",
        [SEAM_WASM_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
        [SEAM_WASM_TRAP_INDIRECT_CALL_TYPE] = "indirect call type mismatch",
        [SEAM_WASM_TRAP_CALL_STACK_EXHAUSTED] = "call stack exhausted",
        [SEAM_WASM_TRAP_FUEL_EXHAUSTED] = "fuel exhausted",
        [SEAM_WASM_TRAP_HOST] = "host function failed",
        [SEAM_WASM_TRAP_EXIT] = "exit",
    };
    if ((unsigned)code < sizeof names / sizeof names[0] && names[code])
        return names[code];
    return "unknown trap";
}

void wasm_set_trap(seam_wasm_store *s, seam_wasm_trap_code code, const char *message) {
    s->trap.code = code;
    s->trap.where.known = false; /* a new trap: located afresh (interp.c) */
    const char *text = message ? message : seam_wasm_trap_name(code);
    snprintf(s->trap.message, sizeof s->trap.message, "%s", text);
}

bool wasm_functype_equal(const functype *a, const functype *b) {
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           (!a->nparams || !memcmp(a->params, b->params, a->nparams)) &&
           (!a->nresults || !memcmp(a->results, b->results, a->nresults));
}

/* ---- modules ---------------------------------------------------------------- */

seam_err seam_wasm_module_new(const uint8_t *bytes, size_t len, seam_wasm_module **out,
                              char *err_text, size_t err_text_size) {
    seam_err e = SEAM_OK;
    seam_wasm_module *m = NULL;
    if (err_text && err_text_size)
        err_text[0] = 0;
    if (!out || (!bytes && len)) {
        e = SEAM_ERR_ARG;
        goto done;
    }
    m = calloc(1, sizeof *m);
    if (!m || !(m->bytes = malloc(len ? len : 1))) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;
    e = wasm_decode(m, err_text, err_text_size);
    if (!e)
        e = wasm_validate(m, err_text, err_text_size);
    if (!e) {
        *out = m;
        m = NULL;
    }
done:
    seam_wasm_module_free(m);
    return e;
}

void seam_wasm_module_free(seam_wasm_module *m) {
    if (!m)
        return;
    wasm_compiled_free(m->compiled[0]);
    wasm_compiled_free(m->compiled[1]);
    arena_release(&m->mem);
    free(m->bytes);
    free(m);
}

uint32_t seam_wasm_module_custom_count(const seam_wasm_module *m) {
    return m->ncustoms;
}

seam_err seam_wasm_module_custom(const seam_wasm_module *m, seam_wasm_name name,
                                 const uint8_t **data, size_t *len) {
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        if (seam_wasm_name_equal(m->customs[i].name, name)) {
            *data = m->bytes + m->customs[i].data_start;
            *len = m->customs[i].data_len;
            return SEAM_OK;
        }
    }
    return SEAM_ERR_NOT_FOUND;
}

/* ---- stores ------------------------------------------------------------------ */

seam_err seam_wasm_store_new(const seam_wasm_limits *limits, seam_wasm_store **out) {
    seam_err e = SEAM_OK;
    seam_wasm_store *s = calloc(1, sizeof *s);
    if (!s) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (limits)
        s->limits = *limits;
    if (!s->limits.max_memory_pages || s->limits.max_memory_pages > WASM_MAX_PAGES)
        s->limits.max_memory_pages = WASM_MAX_PAGES;
    if (!s->limits.max_table_size)
        s->limits.max_table_size = 10000000;
    if (!s->limits.max_table_entries)
        s->limits.max_table_entries = 10000000;
    if (!s->limits.max_call_depth)
        s->limits.max_call_depth = 1000;
    if (!s->limits.value_stack_slots)
        s->limits.value_stack_slots = 1u << 20;
    s->stack = calloc(s->limits.value_stack_slots, sizeof(uint64_t));
    s->frames = calloc(s->limits.max_call_depth, sizeof(call_frame));
    if (!s->stack || !s->frames) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    s->stack_end = s->stack + s->limits.value_stack_slots;
    s->stack_top = s->stack;
    s->fuel_budget = UINT64_MAX;
    s->fuel_left = UINT64_MAX;
    *out = s;
    s = NULL;
done:
    seam_wasm_store_free(s);
    return e;
}

void seam_wasm_store_free(seam_wasm_store *s) {
    if (!s)
        return;
    for (store_object *o = s->objects; o;) {
        store_object *next = o->next;
        free(o->buffer);
        free(o);
        o = next;
    }
    arena_release(&s->mem);
    free(s->stack);
    free(s->frames);
    free(s);
}

void seam_wasm_store_set_fuel(seam_wasm_store *s, uint64_t fuel) {
    s->fuel_budget = fuel;
    s->fuel_left = fuel;
}

uint64_t seam_wasm_store_fuel(const seam_wasm_store *s) {
    return s->fuel_left;
}

/* Makes the store responsible for freeing buffer; false (buffer not taken) on failure. */
static bool store_own(seam_wasm_store *s, void *buffer) {
    store_object *o = malloc(sizeof *o);
    if (!o)
        return false;
    o->buffer = buffer;
    o->next = s->objects;
    s->objects = o;
    return true;
}

/* Replaces an owned buffer after realloc. */
static void store_rebind(seam_wasm_store *s, void *old, void *now) {
    for (store_object *o = s->objects; o; o = o->next)
        if (o->buffer == old) {
            o->buffer = now;
            return;
        }
}

/* ---- memories ---------------------------------------------------------------- */

static size_t dirty_words_for(uint32_t pages) {
    return ((size_t)pages * (WASM_PAGE_SIZE / SEAM_WASM_DIRTY_PAGE_SIZE) + 63) / 64 + 1;
}

seam_err seam_wasm_memory_new(seam_wasm_store *s, uint32_t min_pages, uint32_t max_pages,
                              bool has_max, seam_wasm_memory **out) {
    seam_err e = SEAM_OK;
    seam_wasm_memory *m = arena_alloc(&s->mem, sizeof *m);
    if (!m) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (min_pages > s->limits.max_memory_pages) {
        e = SEAM_ERR_WASM_LIMIT;
        goto done;
    }
    m->pages = min_pages;
    m->max_pages = has_max ? max_pages : WASM_MAX_PAGES;
    m->has_max = has_max;
    m->size = (uint64_t)min_pages * WASM_PAGE_SIZE;
    m->dirty_words = dirty_words_for(min_pages);
    m->data = calloc(1, m->size ? m->size : 1);
    m->dirty = calloc(m->dirty_words, sizeof(uint64_t));
    if (!m->data || !m->dirty || !store_own(s, m->data)) {
        free(m->data);
        free(m->dirty);
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (!store_own(s, m->dirty)) {
        free(m->dirty);
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    *out = m;
done:
    return e;
}

int64_t wasm_memory_grow(seam_wasm_store *s, seam_wasm_memory *m, uint32_t delta) {
    uint64_t old = m->pages;
    uint64_t want = old + delta;
    uint64_t limit =
        m->max_pages < s->limits.max_memory_pages ? m->max_pages : s->limits.max_memory_pages;
    if (want > limit)
        return -1;
    if (delta == 0)
        return (int64_t)old;
    uint64_t bytes = want * WASM_PAGE_SIZE;
    uint8_t *data = realloc(m->data, bytes);
    if (!data)
        return -1;
    store_rebind(s, m->data, data);
    m->data = data;
    size_t words = dirty_words_for((uint32_t)want);
    uint64_t *dirty = realloc(m->dirty, words * sizeof(uint64_t));
    if (!dirty)
        return -1; /* the data grew but the size did not: still consistent */
    store_rebind(s, m->dirty, dirty);
    memset(dirty + m->dirty_words, 0, (words - m->dirty_words) * sizeof(uint64_t));
    m->dirty = dirty;
    m->dirty_words = words;
    uint64_t old_size = m->size;
    memset(data + old_size, 0, bytes - old_size);
    m->size = bytes;
    m->pages = (uint32_t)want;
    seam_wasm_memory_mark_dirty(m, old_size, bytes - old_size);
    return (int64_t)old;
}

size_t seam_wasm_memory_size(const seam_wasm_memory *m) {
    return (size_t)m->size;
}

uint8_t *seam_wasm_memory_data(seam_wasm_memory *m) {
    return m->data;
}

seam_err seam_wasm_memory_read(const seam_wasm_memory *m, uint64_t offset, void *out, size_t len) {
    if (offset > m->size || len > m->size - offset)
        return SEAM_ERR_ARG;
    if (len)
        memcpy(out, m->data + offset, len);
    return SEAM_OK;
}

seam_err seam_wasm_memory_write(seam_wasm_memory *m, uint64_t offset, const void *data,
                                size_t len) {
    if (offset > m->size || len > m->size - offset)
        return SEAM_ERR_ARG;
    if (len)
        memcpy(m->data + offset, data, len);
    seam_wasm_memory_mark_dirty(m, offset, len);
    return SEAM_OK;
}

void seam_wasm_memory_mark_dirty(seam_wasm_memory *m, uint64_t offset, size_t len) {
    if (!len || offset >= m->size)
        return;
    if (len > m->size - offset)
        len = (size_t)(m->size - offset);
    for (uint64_t p = offset / SEAM_WASM_DIRTY_PAGE_SIZE,
                  last = (offset + len - 1) / SEAM_WASM_DIRTY_PAGE_SIZE;
         p <= last; p++)
        m->dirty[p / 64] |= 1ull << (p % 64);
}

size_t seam_wasm_memory_dirty_pages(const seam_wasm_memory *m, uint32_t *pages, size_t max) {
    size_t count = 0;
    uint64_t npages = m->size / SEAM_WASM_DIRTY_PAGE_SIZE;
    for (size_t w = 0; w < m->dirty_words; w++) {
        uint64_t bits = m->dirty[w];
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            uint64_t page = (uint64_t)w * 64 + b;
            if (page >= npages)
                continue;
            if (count < max)
                pages[count] = (uint32_t)page;
            count++;
        }
    }
    return count;
}

void seam_wasm_memory_clear_dirty(seam_wasm_memory *m) {
    memset(m->dirty, 0, m->dirty_words * sizeof(uint64_t));
}

/* ---- tables and globals --------------------------------------------------------- */

seam_err seam_wasm_table_new(seam_wasm_store *s, seam_wasm_valtype elem_type, uint32_t min,
                             uint32_t max, bool has_max, seam_wasm_table **out) {
    seam_err e = SEAM_OK;
    seam_wasm_table *t = arena_alloc(&s->mem, sizeof *t);
    if (!t) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    if (min > s->limits.max_table_size || min > s->limits.max_table_entries - s->table_entries) {
        e = SEAM_ERR_WASM_LIMIT;
        goto done;
    }
    t->elem_type = (uint8_t)elem_type;
    t->size = min;
    t->max = has_max ? max : UINT32_MAX;
    t->has_max = has_max;
    t->elems = calloc((size_t)min + 1, sizeof(uint64_t));
    if (!t->elems || !store_own(s, t->elems)) {
        free(t->elems);
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    s->table_entries += min;
    *out = t;
done:
    return e;
}

int64_t wasm_table_grow(seam_wasm_store *s, seam_wasm_table *t, uint32_t delta, uint64_t init) {
    uint64_t old = t->size, want = old + delta;
    uint64_t limit = t->max < s->limits.max_table_size ? t->max : s->limits.max_table_size;
    if (want > limit || delta > s->limits.max_table_entries - s->table_entries)
        return -1;
    uint64_t *elems = realloc(t->elems, (size_t)(want + 1) * sizeof(uint64_t));
    if (!elems)
        return -1;
    store_rebind(s, t->elems, elems);
    t->elems = elems;
    for (uint64_t i = old; i < want; i++)
        elems[i] = init;
    t->size = (uint32_t)want;
    s->table_entries += delta;
    return (int64_t)old;
}

uint32_t seam_wasm_table_size(const seam_wasm_table *t) {
    return t->size;
}

seam_err seam_wasm_global_new(seam_wasm_store *s, seam_wasm_value value, bool is_mutable,
                              seam_wasm_global **out) {
    seam_wasm_global *g = arena_alloc(&s->mem, sizeof *g);
    if (!g)
        return SEAM_ERR_NOMEM;
    g->type = (globaltype){(uint8_t)value.type, is_mutable};
    g->value = value.bits;
    *out = g;
    return SEAM_OK;
}

seam_wasm_value seam_wasm_global_get(const seam_wasm_global *g) {
    return (seam_wasm_value){(seam_wasm_valtype)g->type.type, g->value};
}

seam_err seam_wasm_global_set(seam_wasm_global *g, seam_wasm_value value) {
    if (!g->type.is_mutable || value.type != (seam_wasm_valtype)g->type.type)
        return SEAM_ERR_ARG;
    g->value = value.bits;
    return SEAM_OK;
}

/* ---- functions and calls ------------------------------------------------------------ */

uint32_t seam_wasm_func_param_count(const seam_wasm_func *f) {
    return f->type->nparams;
}
uint32_t seam_wasm_func_result_count(const seam_wasm_func *f) {
    return f->type->nresults;
}
seam_wasm_valtype seam_wasm_func_param_type(const seam_wasm_func *f, uint32_t i) {
    return (seam_wasm_valtype)f->type->params[i];
}
seam_wasm_valtype seam_wasm_func_result_type(const seam_wasm_func *f, uint32_t i) {
    return (seam_wasm_valtype)f->type->results[i];
}

static uint64_t normalise(uint8_t type, uint64_t bits) {
    return (type == SEAM_WASM_I32 || type == SEAM_WASM_F32) ? (uint32_t)bits : bits;
}

seam_err seam_wasm_call(seam_wasm_store *s, seam_wasm_func *f, const seam_wasm_value *args,
                        uint32_t arg_count, seam_wasm_value *results, uint32_t result_count,
                        seam_wasm_trap *trap) {
    const functype *t = f->type;
    uint64_t small[32];
    uint64_t *slots = small;
    size_t nslots = t->nparams > t->nresults ? t->nparams : t->nresults;
    seam_err e = SEAM_OK;
    bool outermost = s->depth == 0 && s->stack_top == s->stack;
    if (arg_count != t->nparams || result_count < t->nresults) {
        e = SEAM_ERR_WASM_SIGNATURE;
        goto done;
    }
    for (uint32_t i = 0; i < arg_count; i++)
        if ((uint8_t)args[i].type != t->params[i]) {
            e = SEAM_ERR_WASM_SIGNATURE;
            goto done;
        }
    if (nslots > 32 && !(slots = malloc(nslots * sizeof(uint64_t)))) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < arg_count; i++)
        slots[i] = normalise(t->params[i], args[i].bits);
    if (outermost)
        s->fuel_left = s->fuel_budget;
    s->trap.code = SEAM_WASM_TRAP_NONE;
    s->trap.exit_code = 0;
    s->trap.message[0] = 0;
    s->trap.where = (seam_wasm_trap_location){0};
    e = wasm_interp_call(s, f, slots);
    if (e) {
        if (trap)
            *trap = s->trap;
        goto done;
    }
    for (uint32_t i = 0; i < t->nresults; i++)
        results[i] =
            (seam_wasm_value){(seam_wasm_valtype)t->results[i], normalise(t->results[i], slots[i])};
done:
    if (slots != small)
        free(slots);
    return e;
}

/* ---- host context ---------------------------------------------------------------------- */

seam_wasm_memory *seam_wasm_ctx_memory(seam_wasm_call_ctx *ctx) {
    return ctx->caller ? ctx->caller->memory0 : NULL;
}

seam_wasm_store *seam_wasm_ctx_store(seam_wasm_call_ctx *ctx) {
    return ctx->store;
}

void seam_wasm_ctx_trap(seam_wasm_call_ctx *ctx, seam_wasm_trap_code code, int32_t exit_code,
                        const char *message) {
    wasm_set_trap(ctx->store, code, message);
    ctx->store->trap.exit_code = exit_code;
}

bool seam_wasm_ctx_charge(seam_wasm_call_ctx *ctx, uint64_t fuel) {
    seam_wasm_store *s = ctx->store;
    if (s->limits.metering_off)
        return true;
    if (s->fuel_left < fuel) {
        s->fuel_left = 0;
        wasm_set_trap(s, SEAM_WASM_TRAP_FUEL_EXHAUSTED, NULL);
        return false;
    }
    s->fuel_left -= fuel;
    return true;
}
