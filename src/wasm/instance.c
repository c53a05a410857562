/*
 * Import lists and instantiation (WebAssembly 2.0, section "Instantiation"):
 * resolve and type-check imports, allocate functions, tables, memories and
 * globals, evaluate element segments, apply active segments in order (a
 * bounds failure traps, leaving earlier writes in place as the specification
 * says), then run the start function.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reader.h"

/* An offer; its names' bytes are the list's own copies. */
typedef struct {
    seam_wasm_name module;
    seam_wasm_name name;
    seam_wasm_extern ext;
} import_offer;

struct seam_wasm_imports {
    import_offer *offers;
    size_t count, cap;
};

seam_err seam_wasm_imports_new(seam_wasm_imports **out) {
    *out = calloc(1, sizeof **out);
    return *out ? SEAM_OK : SEAM_ERR_NOMEM;
}

void seam_wasm_imports_free(seam_wasm_imports *im) {
    if (!im)
        return;
    for (size_t i = 0; i < im->count; i++) {
        free((char *)im->offers[i].module.bytes);
        free((char *)im->offers[i].name.bytes);
    }
    free(im->offers);
    free(im);
}

static import_offer *find_offer(const seam_wasm_imports *im, seam_wasm_name module,
                                seam_wasm_name name) {
    for (size_t i = 0; im && i < im->count; i++)
        if (seam_wasm_name_equal(im->offers[i].module, module) &&
            seam_wasm_name_equal(im->offers[i].name, name))
            return &im->offers[i];
    return NULL;
}

/* A malloc'd copy of name's bytes (never NULL for an empty name), or NULL. */
static char *copy_name(seam_wasm_name name) {
    char *copy = malloc(name.len ? name.len : 1);
    if (copy && name.len)
        memcpy(copy, name.bytes, name.len);
    return copy;
}

seam_err seam_wasm_imports_add(seam_wasm_imports *im, seam_wasm_name module, seam_wasm_name name,
                               seam_wasm_extern ext) {
    if ((!module.bytes && module.len) || (!name.bytes && name.len))
        return SEAM_ERR_ARG;
    import_offer *o = find_offer(im, module, name);
    if (o) {
        o->ext = ext;
        return SEAM_OK;
    }
    if (im->count == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 16;
        import_offer *grown = realloc(im->offers, cap * sizeof *grown);
        if (!grown)
            return SEAM_ERR_NOMEM;
        im->offers = grown;
        im->cap = cap;
    }
    char *m = copy_name(module), *n = copy_name(name);
    if (!m || !n) {
        free(m);
        free(n);
        return SEAM_ERR_NOMEM;
    }
    im->offers[im->count++] = (import_offer){{m, module.len}, {n, name.len}, ext};
    return SEAM_OK;
}

static bool letter_type(char c, uint8_t *t) {
    switch (c) {
    case 'i':
        *t = SEAM_WASM_I32;
        return true;
    case 'I':
        *t = SEAM_WASM_I64;
        return true;
    case 'f':
        *t = SEAM_WASM_F32;
        return true;
    case 'F':
        *t = SEAM_WASM_F64;
        return true;
    case 'r':
        *t = SEAM_WASM_FUNCREF;
        return true;
    case 'e':
        *t = SEAM_WASM_EXTERNREF;
        return true;
    }
    return false;
}

seam_err seam_wasm_imports_add_host(seam_wasm_imports *im, seam_wasm_store *s,
                                    seam_wasm_name module, seam_wasm_name name,
                                    const char *signature, seam_wasm_host_fn fn, void *env) {
    const char *arrow = signature ? strstr(signature, "->") : NULL;
    if (!arrow || !fn)
        return SEAM_ERR_ARG;
    size_t np = (size_t)(arrow - signature), nr = strlen(arrow + 2);
    if (nr > 16)
        return SEAM_ERR_ARG;
    functype *t = arena_alloc(&s->mem, sizeof *t);
    uint8_t *types = arena_alloc(&s->mem, np + nr + 1);
    seam_wasm_func *f = arena_alloc(&s->mem, sizeof *f);
    if (!t || !types || !f)
        return SEAM_ERR_NOMEM;
    for (size_t i = 0; i < np; i++)
        if (!letter_type(signature[i], &types[i]))
            return SEAM_ERR_ARG;
    for (size_t i = 0; i < nr; i++)
        if (!letter_type(arrow[2 + i], &types[np + i]))
            return SEAM_ERR_ARG;
    *t = (functype){(uint32_t)np, (uint32_t)nr, types, types + np};
    *f = (seam_wasm_func){.type = t, .host = fn, .env = env};
    return seam_wasm_imports_add(im, module, name,
                                 (seam_wasm_extern){SEAM_WASM_EXTERN_FUNC, {.func = f}});
}

seam_err seam_wasm_imports_add_instance(seam_wasm_imports *im, seam_wasm_name module,
                                        seam_wasm_instance *inst) {
    seam_err e = SEAM_OK;
    for (uint32_t i = 0; !e && i < inst->module->nexports; i++) {
        seam_wasm_name name;
        seam_wasm_extern ext;
        e = seam_wasm_instance_export_at(inst, i, &name, &ext);
        if (!e)
            e = seam_wasm_imports_add(im, module, name, ext);
    }
    return e;
}

/* ---- exports ---------------------------------------------------------------------- */

static seam_wasm_extern extern_of(const seam_wasm_instance *inst, uint8_t kind, uint32_t index) {
    seam_wasm_extern x = {.kind = (seam_wasm_extern_kind)kind};
    switch (kind) {
    case SEAM_WASM_EXTERN_FUNC:
        x.as.func = inst->funcs[index];
        break;
    case SEAM_WASM_EXTERN_TABLE:
        x.as.table = inst->tables[index];
        break;
    case SEAM_WASM_EXTERN_MEMORY:
        x.as.memory = inst->memories[index];
        break;
    default:
        x.as.global = inst->globals[index];
        break;
    }
    return x;
}

uint32_t seam_wasm_instance_export_count(const seam_wasm_instance *inst) {
    return inst->module->nexports;
}

seam_err seam_wasm_instance_export_at(const seam_wasm_instance *inst, uint32_t i,
                                      seam_wasm_name *name, seam_wasm_extern *out) {
    if (i >= inst->module->nexports)
        return SEAM_ERR_WASM_EXPORT;
    const export_entry *e = &inst->module->exports[i];
    *name = e->name;
    *out = extern_of(inst, e->kind, e->index);
    return SEAM_OK;
}

seam_err seam_wasm_instance_export(const seam_wasm_instance *inst, seam_wasm_name name,
                                   seam_wasm_extern *out) {
    for (uint32_t i = 0; i < inst->module->nexports; i++) {
        const export_entry *e = &inst->module->exports[i];
        if (seam_wasm_name_equal(e->name, name)) {
            *out = extern_of(inst, e->kind, e->index);
            return SEAM_OK;
        }
    }
    return SEAM_ERR_WASM_EXPORT;
}

seam_wasm_memory *seam_wasm_instance_memory(const seam_wasm_instance *inst) {
    return inst->memory0;
}

/* ---- instantiation ------------------------------------------------------------------- */

static const char *kind_name(uint8_t kind) {
    static const char *const names[] = {"function", "table", "memory", "global"};
    return kind < 4 ? names[kind] : "unknown";
}

static bool limits_match(uint64_t have_min, bool have_has_max, uint64_t have_max,
                         const limits *want) {
    if (have_min < want->min)
        return false;
    if (want->has_max && (!have_has_max || have_max > want->max))
        return false;
    return true;
}

static seam_err link_import(seam_wasm_instance *inst, const import_entry *im,
                            const seam_wasm_imports *imports, uint32_t *next, char *err,
                            size_t errlen) {
    const seam_wasm_module *m = inst->module;
    const import_offer *o = find_offer(imports, im->module, im->name);
    char module[64], name[64]; /* the names for people, NUL bytes escaped */
    seam_wasm_name_print(module, sizeof module, im->module);
    seam_wasm_name_print(name, sizeof name, im->name);
    if (!o)
        return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen, "unknown import %s.%s", module, name);
    if ((uint8_t)o->ext.kind != im->kind)
        return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen,
                         "incompatible import type: %s.%s is a %s, the module wants a %s", module,
                         name, kind_name((uint8_t)o->ext.kind), kind_name(im->kind));
    switch (im->kind) {
    case SEAM_WASM_EXTERN_FUNC: {
        const functype *want = &m->types[im->type_index];
        if (!wasm_functype_equal(o->ext.as.func->type, want))
            return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen,
                             "incompatible import type: %s.%s has another signature", module, name);
        inst->funcs[next[0]++] = o->ext.as.func;
        break;
    }
    case SEAM_WASM_EXTERN_TABLE: {
        seam_wasm_table *t = o->ext.as.table;
        if (t->elem_type != im->table.elem_type ||
            !limits_match(t->size, t->has_max, t->max, &im->table.lim))
            return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen,
                             "incompatible import type: table %s.%s", module, name);
        inst->tables[next[1]++] = t;
        break;
    }
    case SEAM_WASM_EXTERN_MEMORY: {
        seam_wasm_memory *mem = o->ext.as.memory;
        if (!limits_match(mem->pages, mem->has_max, mem->max_pages, &im->memory))
            return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen,
                             "incompatible import type: memory %s.%s", module, name);
        inst->memories[next[2]++] = mem;
        break;
    }
    default: {
        seam_wasm_global *g = o->ext.as.global;
        if (g->type.type != im->global.type || g->type.is_mutable != im->global.is_mutable)
            return wasm_fail(SEAM_ERR_WASM_LINK, err, errlen,
                             "incompatible import type: global %s.%s", module, name);
        inst->globals[next[3]++] = g;
        break;
    }
    }
    return SEAM_OK;
}

/* Evaluates a validated constant expression in the instance being built. */
static uint64_t eval_const(const seam_wasm_instance *inst, const_expr e) {
    const seam_wasm_module *m = inst->module;
    reader r = {m->bytes, e.start, m->len, NULL};
    uint8_t op = 0;
    uint64_t v = 0;
    int64_t sv = 0;
    uint32_t index = 0;
    const uint8_t *b = NULL;
    if (e.end == 0) { /* a bare function index of an element segment */
        rd_u32(&r, &index);
        return (uint64_t)(uintptr_t)inst->funcs[index];
    }
    rd_u8(&r, &op);
    switch (op) {
    case 0x41:
        rd_sleb(&r, 32, &sv);
        v = (uint32_t)sv;
        break;
    case 0x42:
        rd_sleb(&r, 64, &sv);
        v = (uint64_t)sv;
        break;
    case 0x43:
    case 0x44:
        rd_bytes(&r, op == 0x43 ? 4 : 8, &b);
        for (int i = 0; i < (op == 0x43 ? 4 : 8); i++)
            v |= (uint64_t)b[i] << (8 * i);
        break;
    case 0x23:
        rd_u32(&r, &index);
        v = inst->globals[index]->value;
        break;
    case 0xd2:
        rd_u32(&r, &index);
        v = (uint64_t)(uintptr_t)inst->funcs[index];
        break;
    default: /* ref.null */
        v = 0;
        break;
    }
    return v;
}

static seam_err allocate(seam_wasm_store *s, seam_wasm_instance *inst,
                         const seam_wasm_instance_options *opt) {
    const seam_wasm_module *m = inst->module;
    seam_err e = SEAM_OK;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        seam_wasm_func *f = arena_alloc(&s->mem, sizeof *f);
        if (!f)
            return SEAM_ERR_NOMEM;
        const compiled_func *c = &inst->code->funcs[i - m->nfunc_imports];
        *f = (seam_wasm_func){.type = c->type, .instance = inst, .code = c};
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables && !e; i++) {
        const tabletype *t = &m->tables[i];
        e = seam_wasm_table_new(s, (seam_wasm_valtype)t->elem_type, t->lim.min, t->lim.max,
                                t->lim.has_max, &inst->tables[i]);
    }
    for (uint32_t i = m->nmemory_imports; i < m->nmemories && !e; i++) {
        const limits *l = &m->memories[i];
        uint32_t pages = l->min;
        if (opt && opt->memory_image && i == 0) {
            pages = opt->memory_image_pages;
            if (pages < l->min || (l->has_max && pages > l->max))
                return SEAM_ERR_WASM_LIMIT;
        }
        e = seam_wasm_memory_new(s, pages, l->max, l->has_max, &inst->memories[i]);
        if (!e && opt && opt->memory_image && i == 0) {
            memcpy(inst->memories[i]->data, opt->memory_image, (size_t)pages * WASM_PAGE_SIZE);
            seam_wasm_memory_clear_dirty(inst->memories[i]);
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals && !e; i++) {
        seam_wasm_global *g = arena_alloc(&s->mem, sizeof *g);
        if (!g)
            return SEAM_ERR_NOMEM;
        g->type = m->global_types[i];
        g->value = eval_const(inst, m->globals[i - m->nglobal_imports].init);
        inst->globals[i] = g;
    }
    for (uint32_t i = 0; i < m->nelems && !e; i++) {
        const elem_segment *seg = &m->elems[i];
        uint64_t *refs = arena_alloc(&s->mem, ((size_t)seg->count + 1) * sizeof(uint64_t));
        if (!refs)
            return SEAM_ERR_NOMEM;
        for (uint32_t k = 0; k < seg->count; k++)
            refs[k] = eval_const(inst, seg->items[k]);
        inst->elem_refs[i] = refs;
    }
    return e;
}

/* Applies active element and data segments in order; false with *trap on a bounds failure. */
static bool apply_segments(seam_wasm_store *s, seam_wasm_instance *inst, bool restoring) {
    const seam_wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const elem_segment *seg = &m->elems[i];
        if (seg->mode == SEG_PASSIVE)
            continue;
        inst->elem_dropped[i] = 1;
        if (seg->mode == SEG_DECLARATIVE)
            continue;
        seam_wasm_table *t = inst->tables[seg->table_index];
        uint64_t at = (uint32_t)eval_const(inst, seg->offset);
        if (at + seg->count > t->size) {
            wasm_set_trap(s, SEAM_WASM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
            return false;
        }
        if (seg->count)
            memcpy(t->elems + at, inst->elem_refs[i], (size_t)seg->count * 8);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const data_segment *seg = &m->datas[i];
        if (seg->mode != SEG_ACTIVE)
            continue;
        inst->data_dropped[i] = 1;
        if (restoring)
            continue;
        seam_wasm_memory *mem = inst->memories[seg->memory_index];
        uint64_t at = (uint32_t)eval_const(inst, seg->offset);
        if (at + seg->data_len > mem->size) {
            wasm_set_trap(s, SEAM_WASM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
            return false;
        }
        memcpy(mem->data + at, m->bytes + seg->data_start, seg->data_len);
        seam_wasm_memory_mark_dirty(mem, at, seg->data_len);
    }
    return true;
}

seam_err seam_wasm_instance_reset(seam_wasm_instance *inst) {
    if (!inst)
        return SEAM_ERR_ARG;
    const seam_wasm_module *m = inst->module;
    seam_wasm_store *s = inst->store;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        inst->globals[i]->value = eval_const(inst, m->globals[i - m->nglobal_imports].init);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        seam_wasm_table *t = inst->tables[i];
        uint32_t min = m->tables[i].lim.min;
        if (t->size > min) { /* grown: back to its first size, the storage kept */
            s->table_entries -= t->size - min;
            t->size = min;
        }
        memset(t->elems, 0, (size_t)t->size * sizeof(uint64_t));
    }
    if (m->nelems)
        memset(inst->elem_dropped, 0, m->nelems);
    if (m->ndatas)
        memset(inst->data_dropped, 0, m->ndatas);
    return apply_segments(s, inst, true) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
}

seam_err seam_wasm_instantiate(seam_wasm_store *s, const seam_wasm_module *cm,
                               const seam_wasm_imports *imports,
                               const seam_wasm_instance_options *opt, seam_wasm_instance **out,
                               seam_wasm_trap *trap, char *err, size_t errlen) {
    /* the module is logically const: the compiled code is a cache inside it */
    seam_wasm_module *m = (seam_wasm_module *)cm;
    bool metering_off = s->limits.metering_off;
    seam_err e = SEAM_OK;
    seam_wasm_instance *inst = NULL;
    uint32_t next[4] = {0, 0, 0, 0};
    if (err && errlen)
        err[0] = 0;
    if (!m->compiled[metering_off]) {
        e = wasm_translate(m, metering_off, &m->compiled[metering_off]);
        if (e)
            goto done;
    }
    inst = arena_alloc(&s->mem, sizeof *inst);
    if (!inst || !(inst->funcs = arena_alloc(&s->mem, sizeof(void *) * ((size_t)m->nfuncs + 1))) ||
        !(inst->tables = arena_alloc(&s->mem, sizeof(void *) * ((size_t)m->ntables + 1))) ||
        !(inst->memories = arena_alloc(&s->mem, sizeof(void *) * ((size_t)m->nmemories + 1))) ||
        !(inst->globals = arena_alloc(&s->mem, sizeof(void *) * ((size_t)m->nglobals + 1))) ||
        !(inst->elem_dropped = arena_alloc(&s->mem, (size_t)m->nelems + 1)) ||
        !(inst->elem_refs = arena_alloc(&s->mem, sizeof(void *) * ((size_t)m->nelems + 1))) ||
        !(inst->data_dropped = arena_alloc(&s->mem, (size_t)m->ndatas + 1))) {
        e = SEAM_ERR_NOMEM;
        goto done;
    }
    inst->module = m;
    inst->code = m->compiled[metering_off];
    inst->store = s;
    for (uint32_t i = 0; i < m->nimports && !e; i++)
        e = link_import(inst, &m->imports[i], imports, next, err, errlen);
    if (e)
        goto done;
    e = allocate(s, inst, opt);
    if (e) {
        if (e == SEAM_ERR_WASM_LIMIT)
            wasm_fail(e, err, errlen, "a memory or table exceeds the store's limits");
        goto done;
    }
    inst->memory0 = m->nmemories ? inst->memories[0] : NULL;
    s->trap.code = SEAM_WASM_TRAP_NONE;
    s->trap.where = (seam_wasm_trap_location){0};
    if (!apply_segments(s, inst, opt && opt->memory_image)) {
        e = SEAM_ERR_WASM_TRAP;
        goto done;
    }
    if (m->has_start && !(opt && opt->skip_start)) {
        e = seam_wasm_call(s, inst->funcs[m->start], NULL, 0, NULL, 0, NULL);
        if (e)
            goto done;
    }
    *out = inst;
done:
    if (e == SEAM_ERR_WASM_TRAP) {
        if (trap)
            *trap = s->trap;
        wasm_fail(e, err, errlen, "%s", s->trap.message);
    }
    return e;
}
