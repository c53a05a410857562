/*
 * Binary decoding of a WebAssembly 2.0 module (no SIMD).
 *
 * Decoding checks the binary format only: section order and sizes, LEB128
 * encodings, UTF-8 names, flags and kinds. It records function bodies and
 * constant expressions as byte ranges; code.c decodes and validates those.
 * Index-space checks that the specification calls validation (unknown type,
 * unknown function, ...) are made here too but reported as invalid.
 *
 * Host memory: every vector count is checked against the bytes left in its
 * section before room for the entries is allocated (each entry takes at least
 * one byte), names point into the module's copy of the binary, and locals stay
 * compressed, so a decoded module holds a bounded multiple of its size.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reader.h"

/* ---- arena ---------------------------------------------------------------- */

struct arena_block {
    arena_block *next;
    size_t used;
    size_t size;
    max_align_t data[];
};

void *arena_alloc(arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        b = calloc(1, sizeof *b + cap);
        if (!b)
            return NULL;
        b->size = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (uint8_t *)b->data + b->used;
    b->used += size;
    return p;
}

void arena_release(arena *a) {
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

seam_err wasm_fail(seam_err code, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- helpers ---------------------------------------------------------------- */

typedef struct {
    seam_wasm_module *m;
    reader r;
    seam_err invalid; /* first validation-class (or limit) error seen while decoding */
    char invalid_text[128];
    uint32_t customs_cap; /* room in m->customs */
} decoder;

/* Records the first validation-class error (code INVALID or LIMIT); decoding goes on. */
static void note_error(decoder *d, seam_err code, const char *fmt, uint32_t value) {
    if (d->invalid)
        return;
    d->invalid = code;
    snprintf(d->invalid_text, sizeof d->invalid_text, fmt, value);
}

static void note_invalid(decoder *d, const char *fmt, uint32_t value) {
    note_error(d, SEAM_ERR_WASM_INVALID, fmt, value);
}

/* Room for count entries of a vector whose count was just read: each entry takes
   at least one byte, so a count above the bytes left in the section is refused
   before anything is allocated. */
static void *alloc_array(decoder *d, uint32_t count, size_t elem) {
    if (count > d->r.end - d->r.pos) {
        rd_fail(&d->r, "length out of bounds");
        return NULL;
    }
    void *p = arena_alloc(&d->m->mem, (size_t)count * elem + 1);
    if (!p)
        rd_fail(&d->r, "out of memory");
    return p;
}

/* Room for an index space; its count is a sum of counts already checked. */
static void *alloc_space(decoder *d, uint32_t count, size_t elem) {
    void *p = arena_alloc(&d->m->mem, (size_t)count * elem + 1);
    if (!p)
        rd_fail(&d->r, "out of memory");
    return p;
}

bool wasm_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Reads a name: its bytes stay in the module's copy of the binary (NUL bytes included). */
static bool read_name(decoder *d, seam_wasm_name *out) {
    uint32_t n;
    const uint8_t *s;
    if (!rd_u32(&d->r, &n))
        return false;
    if (n > d->r.end - d->r.pos)
        return rd_fail(&d->r, "length out of bounds");
    if (!rd_bytes(&d->r, n, &s))
        return false;
    if (!wasm_utf8_valid(s, n))
        return rd_fail(&d->r, "malformed UTF-8 encoding");
    *out = (seam_wasm_name){(const char *)s, n};
    return true;
}

static bool is_valtype(uint8_t t) {
    return t == SEAM_WASM_I32 || t == SEAM_WASM_I64 || t == SEAM_WASM_F32 || t == SEAM_WASM_F64 ||
           t == SEAM_WASM_FUNCREF || t == SEAM_WASM_EXTERNREF;
}

static bool read_valtype(decoder *d, uint8_t *out) {
    if (!rd_u8(&d->r, out))
        return false;
    if (!is_valtype(*out))
        return rd_fail(&d->r, "malformed value type");
    return true;
}

static bool read_reftype(decoder *d, uint8_t *out) {
    if (!rd_u8(&d->r, out))
        return false;
    if (*out != SEAM_WASM_FUNCREF && *out != SEAM_WASM_EXTERNREF)
        return rd_fail(&d->r, "malformed reference type");
    return true;
}

static bool read_limits(decoder *d, limits *lim, uint32_t bound, const char *what) {
    uint8_t flag;
    if (!rd_u8(&d->r, &flag))
        return false;
    if (flag > 1)
        return rd_fail(&d->r, "integer too large");
    if (!rd_u32(&d->r, &lim->min))
        return false;
    lim->has_max = flag == 1;
    if (lim->has_max && !rd_u32(&d->r, &lim->max))
        return false;
    if (lim->min > bound || (lim->has_max && lim->max > bound))
        note_invalid(d, what, bound);
    if (lim->has_max && lim->min > lim->max)
        note_invalid(d, "size minimum must not be greater than maximum%.0u", 0);
    return true;
}

static bool read_tabletype(decoder *d, tabletype *t) {
    return read_reftype(d, &t->elem_type) &&
           read_limits(d, &t->lim, UINT32_MAX, "table size must be at most %u");
}

static bool read_memtype(decoder *d, limits *lim) {
    return read_limits(d, lim, WASM_MAX_PAGES, "memory size must be at most %u pages (4GiB)");
}

static bool read_globaltype(decoder *d, globaltype *g) {
    uint8_t mut;
    if (!read_valtype(d, &g->type) || !rd_u8(&d->r, &mut))
        return false;
    if (mut > 1)
        return rd_fail(&d->r, "malformed mutability");
    g->is_mutable = mut == 1;
    return true;
}

/*
 * Skips a constant expression up to and including its `end`, recording its
 * range. Only constant instructions are accepted; any other instruction makes
 * the module invalid ("constant expression required").
 */
static bool read_const_expr(decoder *d, const_expr *e) {
    e->start = d->r.pos;
    for (;;) {
        uint8_t op;
        int64_t ignored;
        uint32_t index;
        const uint8_t *bytes;
        if (!rd_u8(&d->r, &op))
            return false;
        switch (op) {
        case 0x0b:
            e->end = d->r.pos;
            return true;
        case 0x41:
            if (!rd_sleb(&d->r, 32, &ignored))
                return false;
            break;
        case 0x42:
            if (!rd_sleb(&d->r, 64, &ignored))
                return false;
            break;
        case 0x43:
            if (!rd_bytes(&d->r, 4, &bytes))
                return false;
            break;
        case 0x44:
            if (!rd_bytes(&d->r, 8, &bytes))
                return false;
            break;
        case 0x23: /* global.get */
        case 0xd2: /* ref.func */
            if (!rd_u32(&d->r, &index))
                return false;
            break;
        case 0xd0: {
            uint8_t t;
            if (!read_reftype(d, &t))
                return false;
            break;
        }
        default: {
            /* not constant: invalid, but the expression must still decode */
            int depth = 1;
            note_invalid(d, "constant expression required%.0u", 0);
            if (!wasm_skim_instruction(&d->r, op, &depth))
                return false;
            while (depth > 0) {
                if (!rd_u8(&d->r, &op) || !wasm_skim_instruction(&d->r, op, &depth))
                    return false;
            }
            e->end = d->r.pos;
            return true;
        }
        }
    }
}

/* ---- sections ------------------------------------------------------------------ */

static bool section_type(decoder *d) {
    seam_wasm_module *m = d->m;
    if (!rd_u32(&d->r, &m->ntypes) || !(m->types = alloc_array(d, m->ntypes, sizeof(functype))))
        return false;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        uint8_t form;
        uint32_t np, nr;
        if (!rd_u8(&d->r, &form))
            return false;
        if (form != 0x60)
            return rd_fail(&d->r, "integer representation too long");
        if (!rd_u32(&d->r, &np))
            return false;
        if (np > WASM_MAX_ARITY)
            note_error(d, SEAM_ERR_WASM_LIMIT, "a function type has more than %u parameters",
                       WASM_MAX_ARITY);
        uint8_t *params = alloc_array(d, np, 1);
        if (!params)
            return false;
        for (uint32_t k = 0; k < np; k++)
            if (!read_valtype(d, &params[k]))
                return false;
        if (!rd_u32(&d->r, &nr))
            return false;
        if (nr > WASM_MAX_ARITY)
            note_error(d, SEAM_ERR_WASM_LIMIT, "a function type has more than %u results",
                       WASM_MAX_ARITY);
        uint8_t *results = alloc_array(d, nr, 1);
        if (!results)
            return false;
        for (uint32_t k = 0; k < nr; k++)
            if (!read_valtype(d, &results[k]))
                return false;
        m->types[i] = (functype){np, nr, params, results};
    }
    return true;
}

static bool section_import(decoder *d) {
    seam_wasm_module *m = d->m;
    if (!rd_u32(&d->r, &m->nimports) ||
        !(m->imports = alloc_array(d, m->nimports, sizeof(import_entry))))
        return false;
    for (uint32_t i = 0; i < m->nimports; i++) {
        import_entry *im = &m->imports[i];
        if (!read_name(d, &im->module) || !read_name(d, &im->name) || !rd_u8(&d->r, &im->kind))
            return false;
        switch (im->kind) {
        case SEAM_WASM_EXTERN_FUNC:
            if (!rd_u32(&d->r, &im->type_index))
                return false;
            if (im->type_index >= m->ntypes)
                note_invalid(d, "unknown type %u", im->type_index);
            m->nfunc_imports++;
            break;
        case SEAM_WASM_EXTERN_TABLE:
            if (!read_tabletype(d, &im->table))
                return false;
            m->ntable_imports++;
            break;
        case SEAM_WASM_EXTERN_MEMORY:
            if (!read_memtype(d, &im->memory))
                return false;
            m->nmemory_imports++;
            break;
        case SEAM_WASM_EXTERN_GLOBAL:
            if (!read_globaltype(d, &im->global))
                return false;
            m->nglobal_imports++;
            break;
        default:
            return rd_fail(&d->r, "malformed import kind");
        }
    }
    return true;
}

/* Builds the index spaces' import parts once the import section is known. */
static bool index_spaces(decoder *d, uint32_t nfuncs, uint32_t ntables, uint32_t nmems,
                         uint32_t nglobals) {
    seam_wasm_module *m = d->m;
    m->nfuncs = m->nfunc_imports + nfuncs;
    m->ntables = m->ntable_imports + ntables;
    m->nmemories = m->nmemory_imports + nmems;
    m->nglobals = m->nglobal_imports + nglobals;
    if (!(m->func_type = alloc_space(d, m->nfuncs, sizeof(uint32_t))) ||
        !(m->tables = alloc_space(d, m->ntables, sizeof(tabletype))) ||
        !(m->memories = alloc_space(d, m->nmemories, sizeof(limits))) ||
        !(m->global_types = alloc_space(d, m->nglobals, sizeof(globaltype))) ||
        !(m->declared_funcs = alloc_space(d, m->nfuncs, 1)))
        return false;
    uint32_t f = 0, t = 0, me = 0, g = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const import_entry *im = &m->imports[i];
        switch (im->kind) {
        case SEAM_WASM_EXTERN_FUNC:
            m->func_type[f++] = im->type_index;
            break;
        case SEAM_WASM_EXTERN_TABLE:
            m->tables[t++] = im->table;
            break;
        case SEAM_WASM_EXTERN_MEMORY:
            m->memories[me++] = im->memory;
            break;
        default:
            m->global_types[g++] = im->global;
            break;
        }
    }
    return true;
}

static bool section_function(decoder *d, uint32_t *count, uint32_t **types) {
    if (!rd_u32(&d->r, count) || !(*types = alloc_array(d, *count, sizeof(uint32_t))))
        return false;
    for (uint32_t i = 0; i < *count; i++) {
        if (!rd_u32(&d->r, &(*types)[i]))
            return false;
        if ((*types)[i] >= d->m->ntypes)
            note_invalid(d, "unknown type %u", (*types)[i]);
    }
    return true;
}

static bool section_table(decoder *d, uint32_t *count, tabletype **tables) {
    if (!rd_u32(&d->r, count) || !(*tables = alloc_array(d, *count, sizeof(tabletype))))
        return false;
    for (uint32_t i = 0; i < *count; i++)
        if (!read_tabletype(d, &(*tables)[i]))
            return false;
    return true;
}

static bool section_memory(decoder *d, uint32_t *count, limits **mems) {
    if (!rd_u32(&d->r, count) || !(*mems = alloc_array(d, *count, sizeof(limits))))
        return false;
    for (uint32_t i = 0; i < *count; i++)
        if (!read_memtype(d, &(*mems)[i]))
            return false;
    return true;
}

static bool section_global(decoder *d, uint32_t *count, global_def **globals) {
    if (!rd_u32(&d->r, count) || !(*globals = alloc_array(d, *count, sizeof(global_def))))
        return false;
    for (uint32_t i = 0; i < *count; i++)
        if (!read_globaltype(d, &(*globals)[i].type) || !read_const_expr(d, &(*globals)[i].init))
            return false;
    return true;
}

/* Orders names by length, then bytes (for the duplicate check). */
static int name_order(const void *a, const void *b) {
    const seam_wasm_name *x = *(const seam_wasm_name *const *)a;
    const seam_wasm_name *y = *(const seam_wasm_name *const *)b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->len ? memcmp(x->bytes, y->bytes, x->len) : 0;
}

/* Notes "duplicate export name" when two exports have the same bytes: sorted, so
   that many exports cost n log n comparisons, not n^2. */
static bool check_export_names(decoder *d) {
    seam_wasm_module *m = d->m;
    if (m->nexports < 2)
        return true;
    const seam_wasm_name **sorted = malloc(sizeof *sorted * m->nexports);
    if (!sorted)
        return rd_fail(&d->r, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i].name;
    qsort(sorted, m->nexports, sizeof *sorted, name_order);
    for (uint32_t i = 1; i < m->nexports; i++)
        if (name_order(&sorted[i - 1], &sorted[i]) == 0)
            note_invalid(d, "duplicate export name%.0u", 0);
    free(sorted);
    return true;
}

static bool section_export(decoder *d) {
    seam_wasm_module *m = d->m;
    if (!rd_u32(&d->r, &m->nexports) ||
        !(m->exports = alloc_array(d, m->nexports, sizeof(export_entry))))
        return false;
    for (uint32_t i = 0; i < m->nexports; i++) {
        export_entry *e = &m->exports[i];
        if (!read_name(d, &e->name) || !rd_u8(&d->r, &e->kind) || !rd_u32(&d->r, &e->index))
            return false;
        if (e->kind > SEAM_WASM_EXTERN_GLOBAL)
            return rd_fail(&d->r, "malformed export kind");
    }
    return check_export_names(d);
}

static bool section_element(decoder *d) {
    seam_wasm_module *m = d->m;
    if (!rd_u32(&d->r, &m->nelems) || !(m->elems = alloc_array(d, m->nelems, sizeof(elem_segment))))
        return false;
    for (uint32_t i = 0; i < m->nelems; i++) {
        elem_segment *s = &m->elems[i];
        uint32_t flags;
        if (!rd_u32(&d->r, &flags))
            return false;
        if (flags > 7)
            return rd_fail(&d->r, "malformed elements segment kind");
        s->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
        s->elem_type = SEAM_WASM_FUNCREF;
        if (s->mode == SEG_ACTIVE) {
            if ((flags & 2) && !rd_u32(&d->r, &s->table_index))
                return false;
            if (!read_const_expr(d, &s->offset))
                return false;
        }
        bool exprs = flags & 4;
        if (flags & 3) { /* explicit element kind or type */
            if (exprs) {
                if (!read_reftype(d, &s->elem_type))
                    return false;
            } else {
                uint8_t kind;
                if (!rd_u8(&d->r, &kind))
                    return false;
                if (kind != 0)
                    return rd_fail(&d->r, "malformed element kind");
            }
        }
        if (!rd_u32(&d->r, &s->count) || !(s->items = alloc_array(d, s->count, sizeof(const_expr))))
            return false;
        for (uint32_t k = 0; k < s->count; k++) {
            if (exprs) {
                if (!read_const_expr(d, &s->items[k]))
                    return false;
            } else {
                /* a bare function index: its LEB bytes stand for ref.func */
                uint32_t f;
                s->items[k].start = d->r.pos;
                if (!rd_u32(&d->r, &f))
                    return false;
                s->items[k].end = 0; /* marks "function index at start" */
            }
        }
    }
    return true;
}

static bool section_data_count(decoder *d) {
    d->m->has_data_count = true;
    return rd_u32(&d->r, &d->m->data_count);
}

static bool section_code(decoder *d, uint32_t declared) {
    seam_wasm_module *m = d->m;
    uint32_t count;
    if (!rd_u32(&d->r, &count))
        return false;
    if (count != declared)
        return rd_fail(&d->r, "function and code section have inconsistent lengths");
    if (!(m->bodies = alloc_array(d, count, sizeof(func_body))))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        func_body *b = &m->bodies[i];
        uint32_t size, ngroups;
        if (!rd_u32(&d->r, &size))
            return false;
        if (size > d->r.end - d->r.pos)
            return rd_fail(&d->r, "unexpected end");
        size_t body_end = d->r.pos + size;
        reader outer = d->r;
        d->r.end = body_end;
        if (!rd_u32(&d->r, &ngroups))
            return false;
        if (ngroups > d->r.end - d->r.pos) /* a group takes at least two bytes */
            return rd_fail(&d->r, "length out of bounds");
        uint64_t total = 0;
        b->locals_start = d->r.pos;
        b->ngroups = ngroups;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t n;
            uint8_t t;
            if (!rd_u32(&d->r, &n) || !read_valtype(d, &t))
                return false;
            total += n;
            if (total > UINT32_MAX)
                return rd_fail(&d->r, "too many locals");
        }
        /* kept compressed: a walk over the body expands them (code.c) */
        if (total > WASM_MAX_LOCALS)
            return rd_fail(&d->r, "too many locals");
        b->nlocals = (uint32_t)total;
        b->code_start = d->r.pos;
        b->code_end = body_end;
        d->r = outer;
        d->r.pos = body_end;
    }
    return true;
}

static bool section_data(decoder *d) {
    seam_wasm_module *m = d->m;
    uint32_t count;
    if (!rd_u32(&d->r, &count))
        return false;
    if (m->has_data_count && count != m->data_count)
        return rd_fail(&d->r, "data count and data section have inconsistent lengths");
    m->ndatas = count;
    if (!(m->datas = alloc_array(d, count, sizeof(data_segment))))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        data_segment *s = &m->datas[i];
        uint32_t flags;
        const uint8_t *bytes;
        if (!rd_u32(&d->r, &flags))
            return false;
        if (flags > 2)
            return rd_fail(&d->r, "malformed data segment kind");
        s->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
        if (flags == 2 && !rd_u32(&d->r, &s->memory_index))
            return false;
        if (s->mode == SEG_ACTIVE && !read_const_expr(d, &s->offset))
            return false;
        if (!rd_u32(&d->r, &s->data_len))
            return false;
        s->data_start = d->r.pos;
        if (s->data_len > d->r.end - d->r.pos)
            return rd_fail(&d->r, "unexpected end of section or function");
        if (!rd_bytes(&d->r, s->data_len, &bytes))
            return false;
    }
    return true;
}

static bool section_custom(decoder *d) {
    seam_wasm_module *m = d->m;
    seam_wasm_name name;
    if (!read_name(d, &name))
        return false;
    if (m->ncustoms == d->customs_cap) {
        /* doubling: the arena keeps the old arrays, at most as much again in all */
        uint32_t cap = d->customs_cap ? d->customs_cap * 2 : 8;
        custom_section *grown = arena_alloc(&m->mem, sizeof(custom_section) * cap);
        if (!grown)
            return rd_fail(&d->r, "out of memory");
        if (m->ncustoms)
            memcpy(grown, m->customs, sizeof(custom_section) * m->ncustoms);
        m->customs = grown;
        d->customs_cap = cap;
    }
    m->customs[m->ncustoms++] = (custom_section){name, d->r.pos, d->r.end - d->r.pos};
    d->r.pos = d->r.end;
    return true;
}

/* Position of each known section id in the required order (0: custom, any place). */
static int section_rank(uint8_t id) {
    static const int rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < 13 ? rank[id] : -1;
}

static void check_indices(decoder *d) {
    seam_wasm_module *m = d->m;
    if (m->nmemories > 1)
        note_invalid(d, "multiple memories%.0u", 0);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const export_entry *e = &m->exports[i];
        uint32_t limit = e->kind == SEAM_WASM_EXTERN_FUNC     ? m->nfuncs
                         : e->kind == SEAM_WASM_EXTERN_TABLE  ? m->ntables
                         : e->kind == SEAM_WASM_EXTERN_MEMORY ? m->nmemories
                                                              : m->nglobals;
        if (e->index >= limit)
            note_invalid(d, "unknown export index %u", e->index);
        else if (e->kind == SEAM_WASM_EXTERN_FUNC)
            m->declared_funcs[e->index] = 1;
    }
    if (m->has_start) {
        if (m->start >= m->nfuncs)
            note_invalid(d, "unknown function %u", m->start);
        else if (m->func_type[m->start] < m->ntypes) { /* else already noted invalid */
            const functype *t = &m->types[m->func_type[m->start]];
            if (t->nparams || t->nresults)
                note_invalid(d, "start function must have type [] -> []%.0u", 0);
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        if (m->datas[i].mode == SEG_ACTIVE && m->datas[i].memory_index >= m->nmemories)
            note_invalid(d, "unknown memory %u", m->datas[i].memory_index);
}

seam_err wasm_decode(seam_wasm_module *m, char *err, size_t errlen) {
    decoder d = {.m = m, .r = {m->bytes, 0, m->len, NULL}};
    const uint8_t *magic;
    uint32_t nfuncs = 0, ntables = 0, nmems = 0, nglobals = 0;
    uint32_t *func_types = NULL;
    tabletype *tables = NULL;
    limits *mems = NULL;
    global_def *globals = NULL;
    int last_rank = 0;
    bool spaces_built = false, have_code = false;

    if (!rd_bytes(&d.r, 4, &magic) || memcmp(magic, "\0asm", 4))
        return wasm_fail(SEAM_ERR_WASM_MALFORMED, err, errlen, "magic header not detected");
    if (!rd_bytes(&d.r, 4, &magic) || memcmp(magic, "\1\0\0\0", 4))
        return wasm_fail(SEAM_ERR_WASM_MALFORMED, err, errlen, "unknown binary version");

    while (d.r.pos < d.r.end && !d.r.error) {
        uint8_t id;
        uint32_t size;
        rd_u8(&d.r, &id);
        if (!rd_u32(&d.r, &size))
            break;
        int rank = section_rank(id);
        if (rank < 0) {
            rd_fail(&d.r, "malformed section id");
            break;
        }
        if (size > d.r.end - d.r.pos) {
            rd_fail(&d.r, "length out of bounds");
            break;
        }
        if (rank != 0) {
            if (rank <= last_rank) {
                rd_fail(&d.r, "unexpected content after last section");
                break;
            }
            last_rank = rank;
        }
        /* index spaces are fixed once the sections that declare them are read */
        if (!spaces_built && rank >= 7) {
            if (!index_spaces(&d, nfuncs, ntables, nmems, nglobals))
                break;
            spaces_built = true;
        }
        reader whole = d.r;
        d.r.end = d.r.pos + size;
        bool ok = true;
        switch (id) {
        case 0:
            ok = section_custom(&d);
            break;
        case 1:
            ok = section_type(&d);
            break;
        case 2:
            ok = section_import(&d);
            break;
        case 3:
            ok = section_function(&d, &nfuncs, &func_types);
            break;
        case 4:
            ok = section_table(&d, &ntables, &tables);
            break;
        case 5:
            ok = section_memory(&d, &nmems, &mems);
            break;
        case 6:
            ok = section_global(&d, &nglobals, &globals);
            break;
        case 7:
            ok = section_export(&d);
            break;
        case 8:
            m->has_start = true;
            ok = rd_u32(&d.r, &m->start);
            break;
        case 9:
            ok = section_element(&d);
            break;
        case 10:
            ok = section_code(&d, nfuncs);
            have_code = true;
            break;
        case 11:
            ok = section_data(&d);
            break;
        case 12:
            ok = section_data_count(&d);
            break;
        }
        if (!ok || d.r.error)
            break;
        if (d.r.pos != d.r.end) {
            rd_fail(&d.r, "section size mismatch");
            break;
        }
        d.r.end = whole.end;
    }
    if (!d.r.error && !spaces_built)
        index_spaces(&d, nfuncs, ntables, nmems, nglobals);
    if (!d.r.error && nfuncs && !have_code)
        rd_fail(&d.r, "function and code section have inconsistent lengths");
    if (!d.r.error && m->has_data_count && m->data_count != m->ndatas && m->ndatas == 0)
        rd_fail(&d.r, "data count and data section have inconsistent lengths");
    if (d.r.error)
        return wasm_fail(SEAM_ERR_WASM_MALFORMED, err, errlen, "%s", d.r.error);

    /* merge defined entries into the index spaces */
    for (uint32_t i = 0; i < nfuncs; i++) {
        m->func_type[m->nfunc_imports + i] = func_types[i];
        m->bodies[i].type_index = func_types[i];
    }
    for (uint32_t i = 0; i < ntables; i++)
        m->tables[m->ntable_imports + i] = tables[i];
    for (uint32_t i = 0; i < nmems; i++)
        m->memories[m->nmemory_imports + i] = mems[i];
    for (uint32_t i = 0; i < nglobals; i++)
        m->global_types[m->nglobal_imports + i] = globals[i].type;
    m->globals = globals;
    check_indices(&d);
    if (d.invalid)
        return wasm_fail(d.invalid, err, errlen, "%s", d.invalid_text);
    return SEAM_OK;
}
