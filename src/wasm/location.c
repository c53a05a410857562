/*
 * Where code is, for people: the location of a trap (the function and the
 * module offset of the failing instruction, from the side table the translator
 * builds) and function names from the "name" custom section.
 *
 * Nothing here runs unless something failed: the interpreter's handlers never
 * read the side table, so locating a trap costs nothing on the hot path. The
 * name section is decoded on demand, without allocating, and a malformed one
 * is ignored (it is a custom section: it never makes a module invalid).
 */
#include <stddef.h>

#include "internal.h"
#include "reader.h"

void wasm_code_locate(const seam_wasm_instance *inst, const cell *pc,
                      seam_wasm_trap_location *where) {
    *where = (seam_wasm_trap_location){0};
    if (!pc || !inst || !inst->code)
        return;
    const compiled_code *code = inst->code;
    const seam_wasm_module *m = inst->module;
    if (pc <= code->cells || pc > code->cells + code->ncells)
        return;
    size_t at = (size_t)(pc - 1 - code->cells); /* a cell of the failing op */
    /* the last op starting at or before `at` */
    size_t lo = 0, hi = code->nlocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (code->locs[mid].cell <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* the last function whose entry is at or before `at` */
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    uint32_t flo = 0, fhi = ndefined;
    while (flo < fhi) {
        uint32_t mid = flo + (fhi - flo) / 2;
        if ((size_t)(code->funcs[mid].entry - code->cells) <= at)
            flo = mid + 1;
        else
            fhi = mid;
    }
    if (lo == 0 || flo == 0)
        return;
    const code_loc *loc = &code->locs[lo - 1];
    uint32_t body = flo - 1;
    size_t entry = (size_t)(code->funcs[body].entry - code->cells);
    where->known = true;
    where->module = m;
    where->func_index = m->nfunc_imports + body;
    /* an op without an entry of its own in this function: the function's start */
    where->offset = loc->cell >= entry ? loc->offset : (uint32_t)m->bodies[body].code_start;
}

seam_err seam_wasm_name_section_func(const uint8_t *data, size_t len, uint32_t func_index,
                                     seam_wasm_name *name) {
    reader r = {data, 0, len, NULL};
    int last_id = -1;
    bool found = false;
    seam_wasm_name hit = {0};
    if (!data && len)
        return SEAM_ERR_ARG;
    while (r.pos < r.end) {
        uint8_t id = 0;
        uint32_t size = 0;
        if (!rd_u8(&r, &id) || !rd_u32(&r, &size) || size > r.end - r.pos)
            return SEAM_ERR_MALFORMED;
        if ((int)id <= last_id) /* each subsection once, in increasing order */
            return SEAM_ERR_MALFORMED;
        last_id = id;
        size_t end = r.pos + size;
        if (id == 1) { /* function names: vec(index, name), indices increasing */
            reader s = {data, r.pos, end, NULL};
            uint32_t count = 0, previous = 0;
            if (!rd_u32(&s, &count) || count > (end - s.pos) / 2)
                return SEAM_ERR_MALFORMED;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t index = 0, n = 0;
                const uint8_t *bytes = NULL;
                if (!rd_u32(&s, &index) || !rd_u32(&s, &n) || !rd_bytes(&s, n, &bytes))
                    return SEAM_ERR_MALFORMED;
                if ((i > 0 && index <= previous) || !wasm_utf8_valid(bytes, n))
                    return SEAM_ERR_MALFORMED;
                previous = index;
                if (index == func_index) {
                    hit = (seam_wasm_name){(const char *)bytes, n};
                    found = true;
                }
            }
            if (s.pos != end)
                return SEAM_ERR_MALFORMED;
        }
        r.pos = end;
    }
    if (!found)
        return SEAM_ERR_NOT_FOUND;
    if (name)
        *name = hit;
    return SEAM_OK;
}

seam_err seam_wasm_module_func_name(const seam_wasm_module *module, uint32_t func_index,
                                    seam_wasm_name *name) {
    const uint8_t *data = NULL;
    size_t len = 0;
    seam_err e = module ? seam_wasm_module_custom(module, SEAM_WASM_NAME("name"), &data, &len)
                        : SEAM_ERR_ARG;
    if (!e)
        e = seam_wasm_name_section_func(data, len, func_index, name);
    return e == SEAM_ERR_MALFORMED ? SEAM_ERR_NOT_FOUND : e;
}
