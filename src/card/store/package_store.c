/*
 * Card content records: packages and instances (the layouts are in schema.h;
 * an instance's memory is memory_store.c's).
 */
#include "package_store.h"
#include "memory_store.h"
#include "seam/card.h"

#include <stdlib.h>
#include <string.h>

#define FORMAT   1u
#define FORMAT_2 2u /* packages: owner SD and space added */

#define PACKAGE_RECORD_MAX (4 + 17 * (1 + REGISTRY_AID_MAX) + 1)

/* Appends an LV; returns the new length. */
static size_t put_lv(uint8_t *out, size_t n, const uint8_t *v, uint8_t len) {
    out[n++] = len;
    memcpy(out + n, v, len);
    return n + len;
}

/* Reads an LV of at most max bytes at in[*n..len); false when malformed. */
static bool get_lv(const uint8_t *in, size_t len, size_t *n, uint8_t *v, uint8_t *v_len,
                   size_t max) {
    if (*n >= len || in[*n] > max || len - *n - 1 < in[*n])
        return false;
    *v_len = in[*n];
    memcpy(v, in + *n + 1, *v_len);
    *n += 1u + *v_len;
    return true;
}

/* The package and module tables of a space. */
static uint16_t package_table(uint8_t space) {
    return space == SPACE_TEMPORARY ? STORE_PACKAGE_TEMPORARY : STORE_PACKAGE;
}

static uint16_t module_table(uint8_t space) {
    return space == SPACE_TEMPORARY ? STORE_MODULE_TEMPORARY : STORE_MODULE;
}

seam_err store_package_get(seam_nvm *nvm, const uint8_t *aid, size_t len, store_package *out) {
    return store_package_get_in(nvm, SPACE_USEFUL, aid, len, out);
}

seam_err store_package_get_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len,
                              store_package *out) {
    uint8_t v[PACKAGE_RECORD_MAX];
    size_t v_len = 0, n = 4;
    seam_err e = seam_nvm_get(nvm, package_table(space), aid, len, v, sizeof v, &v_len);
    if (e == SEAM_ERR_BUFFER_SMALL)
        e = SEAM_ERR_NVM_CORRUPT;
    if (e)
        return e;
    memset(out, 0, sizeof *out);
    if (v_len < 4 || (v[0] != FORMAT && v[0] != FORMAT_2) || v[3] > 16 || len > REGISTRY_AID_MAX)
        return SEAM_ERR_NVM_CORRUPT;
    memcpy(out->aid, aid, len);
    out->aid_len = (uint8_t)len;
    out->version = (uint16_t)(v[1] << 8 | v[2]);
    out->applet_count = v[3];
    for (uint8_t i = 0; i < out->applet_count; i++)
        if (!get_lv(v, v_len, &n, out->applets[i], &out->applet_lens[i], REGISTRY_AID_MAX))
            return SEAM_ERR_NVM_CORRUPT;
    out->space = SPACE_USEFUL;
    if (v[0] == FORMAT) { /* format 1: the ISD's, in the useful space */
        memcpy(out->sd, seam_card_isd_aid, sizeof seam_card_isd_aid);
        out->sd_len = sizeof seam_card_isd_aid;
    } else if (!get_lv(v, v_len, &n, out->sd, &out->sd_len, REGISTRY_AID_MAX) || n >= v_len ||
               (v[n] != SPACE_USEFUL && v[n] != SPACE_TEMPORARY)) {
        return SEAM_ERR_NVM_CORRUPT;
    } else {
        out->space = v[n++];
    }
    if (out->space != space)
        return SEAM_ERR_NVM_CORRUPT;
    return n == v_len ? SEAM_OK : SEAM_ERR_NVM_CORRUPT;
}

seam_err store_package_update(seam_nvm *nvm, const store_package *p) {
    uint8_t v[PACKAGE_RECORD_MAX];
    size_t n = 4;
    if (p->applet_count > 16 || p->sd_len > REGISTRY_AID_MAX || p->sd_len == 0)
        return SEAM_ERR_ARG;
    v[0] = FORMAT_2;
    v[1] = (uint8_t)(p->version >> 8);
    v[2] = (uint8_t)p->version;
    v[3] = p->applet_count;
    for (uint8_t i = 0; i < p->applet_count; i++)
        n = put_lv(v, n, p->applets[i], p->applet_lens[i]);
    n = put_lv(v, n, p->sd, p->sd_len);
    v[n++] = p->space;
    return seam_nvm_put(nvm, package_table(p->space), p->aid, p->aid_len, v, n);
}

seam_err store_package_put(seam_nvm *nvm, const store_package *p, const uint8_t *module,
                           size_t module_len) {
    uint8_t *m = module ? malloc(module_len + 1) : NULL;
    seam_err e = m || !module ? store_package_update(nvm, p) : SEAM_ERR_NOMEM;
    if (!e && module) {
        m[0] = FORMAT;
        memcpy(m + 1, module, module_len);
        e = seam_nvm_put(nvm, module_table(p->space), p->aid, p->aid_len, m, module_len + 1);
    }
    free(m);
    return e;
}

seam_err store_module_get(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t **out,
                          size_t *out_len) {
    return store_module_get_in(nvm, SPACE_USEFUL, aid, len, out, out_len);
}

seam_err store_module_get_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len,
                             uint8_t **out, size_t *out_len) {
    size_t v_len = 0;
    uint8_t *v = NULL;
    uint16_t table = module_table(space);
    seam_err e = seam_nvm_get(nvm, table, aid, len, NULL, 0, &v_len);
    if (!e && v_len < 1)
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e) {
        v = malloc(v_len);
        e = v ? seam_nvm_get(nvm, table, aid, len, v, v_len, &v_len) : SEAM_ERR_NOMEM;
    }
    if (!e && v[0] != FORMAT)
        e = SEAM_ERR_NVM_CORRUPT;
    if (!e) {
        memmove(v, v + 1, v_len - 1);
        *out = v;
        *out_len = v_len - 1;
    } else {
        free(v);
    }
    return e;
}

seam_err store_package_delete(seam_nvm *nvm, const uint8_t *aid, size_t len) {
    return store_package_delete_in(nvm, SPACE_USEFUL, aid, len);
}

seam_err store_package_delete_in(seam_nvm *nvm, uint8_t space, const uint8_t *aid, size_t len) {
    seam_err e = seam_nvm_delete(nvm, package_table(space), aid, len);
    if (!e)
        e = seam_nvm_delete(nvm, module_table(space), aid, len);
    return e;
}

seam_err store_package_move(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t from,
                            uint8_t to) {
    store_package p;
    uint8_t *module = NULL;
    size_t module_len = 0;
    seam_err e = store_package_get_in(nvm, from, aid, len, &p);
    if (!e)
        e = store_module_get_in(nvm, from, aid, len, &module, &module_len);
    if (!e)
        e = store_package_delete_in(nvm, from, aid, len);
    if (!e) {
        p.space = to;
        e = store_package_put(nvm, &p, module, module_len);
    }
    free(module);
    return e;
}

static seam_err instance_parse(const uint8_t *v, size_t v_len, store_instance *out) {
    size_t n = 4;
    uint8_t priv_len = 0;
    if (v_len < 4 || (v[0] != FORMAT && v[0] != FORMAT_2))
        return SEAM_ERR_NVM_CORRUPT;
    out->lifecycle = v[1];
    out->pages = v[2];
    n = 3;
    if (!get_lv(v, v_len, &n, out->package, &out->package_len, REGISTRY_AID_MAX) ||
        !get_lv(v, v_len, &n, out->applet, &out->applet_len, REGISTRY_AID_MAX) ||
        !get_lv(v, v_len, &n, out->sd, &out->sd_len, REGISTRY_AID_MAX) ||
        !get_lv(v, v_len, &n, out->privileges, &priv_len, 3))
        return SEAM_ERR_NVM_CORRUPT;
    out->space = SPACE_USEFUL; /* format 1 */
    if (v[0] == FORMAT_2 && n < v_len)
        out->space = v[n++];
    if (n != v_len || (out->space != SPACE_USEFUL && out->space != SPACE_TEMPORARY))
        return SEAM_ERR_NVM_CORRUPT;
    return SEAM_OK;
}

seam_err store_instance_get(seam_nvm *nvm, const uint8_t *aid, size_t len, store_instance *out) {
    uint8_t v[8 + 4 * REGISTRY_AID_MAX];
    size_t v_len = 0;
    seam_err e = seam_nvm_get(nvm, STORE_INSTANCE, aid, len, v, sizeof v, &v_len);
    if (e == SEAM_ERR_BUFFER_SMALL || (!e && len > REGISTRY_AID_MAX))
        e = SEAM_ERR_NVM_CORRUPT;
    if (e)
        return e;
    memset(out, 0, sizeof *out);
    memcpy(out->aid, aid, len);
    out->aid_len = (uint8_t)len;
    return instance_parse(v, v_len, out);
}

seam_err store_instance_put(seam_nvm *nvm, const store_instance *inst) {
    uint8_t v[8 + 4 * REGISTRY_AID_MAX];
    size_t n = 3;
    v[0] = FORMAT_2;
    v[1] = inst->lifecycle;
    v[2] = inst->pages;
    n = put_lv(v, n, inst->package, inst->package_len);
    n = put_lv(v, n, inst->applet, inst->applet_len);
    n = put_lv(v, n, inst->sd, inst->sd_len);
    n = put_lv(v, n, inst->privileges, 3);
    v[n++] = inst->space ? inst->space : SPACE_USEFUL;
    return seam_nvm_put(nvm, STORE_INSTANCE, inst->aid, inst->aid_len, v, n);
}

seam_err store_instance_delete(seam_nvm *nvm, const uint8_t *aid, size_t len) {
    seam_err e = seam_nvm_delete(nvm, STORE_INSTANCE, aid, len);
    if (!e)
        e = store_memory_delete(nvm, aid, len);
    return e;
}

typedef struct {
    const uint8_t *package;
    size_t len;
    size_t count;
    store_instance *first;
} instances_walk;

static int visit_instance(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len) {
    instances_walk *w = ctx;
    store_instance inst = {0};
    if (key_len > REGISTRY_AID_MAX || instance_parse(value, value_len, &inst))
        return SEAM_ERR_NVM_CORRUPT;
    if (inst.package_len != w->len || memcmp(inst.package, w->package, w->len) ||
        inst.space != SPACE_USEFUL)
        return 0; /* an instance of the temporary space's package of that AID */
    memcpy(inst.aid, key, key_len);
    inst.aid_len = (uint8_t)key_len;
    if (w->first && !w->count)
        *w->first = inst;
    w->count++;
    return 0;
}

seam_err store_package_instances(seam_nvm *nvm, const uint8_t *package, size_t len, size_t *count,
                                 store_instance *first) {
    instances_walk w = {package, len, 0, first};
    seam_err e = seam_nvm_foreach(nvm, STORE_INSTANCE, NULL, 0, visit_instance, &w);
    *count = w.count;
    return e;
}

seam_err store_instances_each(seam_nvm *nvm, seam_err (*visit)(void *ctx, store_instance *inst),
                              void *ctx) {
    seam_nvm_cursor cur;
    uint8_t key[REGISTRY_AID_MAX];
    size_t key_len = 0, value_len = 0;
    store_instance inst;
    seam_err e = seam_nvm_cursor_init(&cur, STORE_INSTANCE, NULL, 0);
    while (!e) {
        e = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!e)
            e = store_instance_get(nvm, key, key_len, &inst);
        if (!e)
            e = visit(ctx, &inst);
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

bool store_instance_selectable(uint8_t lifecycle) {
    return lifecycle == INSTANCE_SELECTABLE || lifecycle == INSTANCE_PERSONALIZED;
}

bool store_instance_value_selectable(const uint8_t *value, size_t len) {
    return len >= 2 && (value[0] == FORMAT || value[0] == FORMAT_2) &&
           store_instance_selectable(value[1]);
}
