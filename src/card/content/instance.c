/*
 * Applet instances outside a logical channel (instance.h): one loader for
 * personalization, installation and upgrade, the replay of a restore
 * record's personalization blocks into an instance, and the commit of an
 * instance's memory as chunks that differ from its module's initial image
 * (store/memory_store.h).
 */
#include "instance.h"
#include "applet_registry.h"
#include "applet_service.h"
#include "card_cache.h"
#include "card_diag.h"
#include "card/store/memory_store.h"

#include <stdlib.h>
#include <string.h>

#include "seam/util.h"
#include "card/iso/sw.h"

#define DIRTY_MAX (SEAM_APPLET_MAX_PAGES * 16u)

seam_err instance_module_ref(seam_card *c, const store_instance *inst, seam_wasm_module **out) {
    return module_get(c, inst->space, inst->package, inst->package_len, out);
}

bool instance_refused(seam_err *e, uint16_t *sw) {
    switch (*e) {
    case SEAM_ERR_WASM_MALFORMED:
    case SEAM_ERR_WASM_INVALID:
    case SEAM_ERR_WASM_LINK:
    case SEAM_ERR_WASM_LIMIT:
    case SEAM_ERR_CARD_PACKAGE_MISSING:
    case SEAM_ERR_CARD_PACKAGE_MALFORMED:
    case SEAM_ERR_CARD_PACKAGE_FIELD:
    case SEAM_ERR_CARD_PLATFORM:
    case SEAM_ERR_CARD_APPLET:
        *sw = SEAM_SW_WRONG_DATA;
        *e = SEAM_OK;
        return true;
    default:
        return false;
    }
}

void instance_bind_restore(seam_card *c, instance_loaded *li, uint32_t previous_version) {
    li->restore.nvm = c->nvm;
    restore_identity_make(&li->restore.id, li->record.sd, li->record.sd_len, li->record.aid,
                          li->record.aid_len);
    restore_bind(li->applet, &li->restore, previous_version);
}

/* What instance_restore's fill writes: the stored chunks of one instance. */
typedef struct {
    seam_nvm *nvm;
    const uint8_t *aid;
    size_t aid_len;
} chunks_of;

static seam_err fill_chunks(void *ctx, uint8_t *memory, size_t size) {
    chunks_of *of = ctx;
    return store_memory_overlay(of->nvm, of->aid, of->aid_len, memory, size);
}

seam_err instance_restore(seam_card *c, const seam_wasm_module *module, const uint8_t *aid,
                          size_t aid_len, uint32_t pages, seam_applet **out) {
    seam_applet_diag diag;
    seam_applet_toolkit_host toolkit;
    seam_applet_service_host service;
    seam_applet_registry_host registry;
    seam_applet_options options = {
        .diag = &diag, .toolkit = &toolkit, .service = &service, .registry = &registry};
    chunks_of of = {c->nvm, aid, aid_len};
    card_applet_diag(c, aid, aid_len, &diag);
    card_toolkit_host(c, aid, aid_len, &toolkit);
    card_service_host(c, aid, aid_len, &service);
    card_registry_host(c, aid, aid_len, &registry);
    return seam_applet_restore_over_initial(module, &options, pages, fill_chunks, &of, out);
}

seam_err instance_load(seam_card *c, const uint8_t *aid, size_t len, instance_loaded *li) {
    seam_err e = SEAM_OK;
    memset(li, 0, sizeof *li);
    li->card = c;
    e = store_instance_get(c->nvm, aid, len, &li->record);
    if (!e)
        e = instance_module_ref(c, &li->record, &li->module);
    if (!e)
        e = instance_restore(c, li->module, aid, len, li->record.pages, &li->applet);
    if (!e) {
        seam_applet_clear_dirty(li->applet); /* memory = the committed image */
        instance_bind_restore(c, li, 0);
    } else {
        instance_unload(li);
    }
    return e;
}

/* The store's view of applet's memory: instance aid, its module's initial image. */
static seam_err memory_of(seam_applet *applet, const uint8_t *aid, size_t aid_len,
                          store_memory *m) {
    *m = (store_memory){.aid = aid, .aid_len = aid_len, .stack_end = seam_applet_stack_end(applet)};
    m->initial = seam_applet_initial(applet, &m->initial_pages);
    return m->initial ? SEAM_OK : SEAM_ERR_NOMEM; /* its module made it once already */
}

seam_err instance_commit_applet(seam_card *c, const uint8_t *aid, size_t aid_len,
                                seam_applet *applet, uint32_t *committed_pages) {
    uint32_t dirty[DIRTY_MAX], pages = 0;
    store_memory m;
    const uint8_t *memory = seam_applet_memory(applet, &pages);
    size_t n = seam_applet_dirty_pages(applet, dirty, DIRTY_MAX);
    seam_err e = n > DIRTY_MAX ? SEAM_ERR_CARD_IMAGE : SEAM_OK;
    if (!e && n > 0)
        e = memory_of(applet, aid, aid_len, &m);
    for (size_t i = 0; !e && i < n; i++)
        e = store_memory_commit_page(c->nvm, &m, dirty[i], memory);
    if (!e && pages != *committed_pages) {
        store_instance inst;
        e = store_instance_get(c->nvm, aid, aid_len, &inst);
        inst.pages = (uint8_t)pages;
        if (!e)
            e = store_instance_put(c->nvm, &inst);
        if (!e)
            *committed_pages = pages;
    }
    if (!e)
        seam_applet_clear_dirty(applet);
    return e;
}

seam_err instance_commit(seam_card *c, instance_loaded *li) {
    uint32_t pages = li->record.pages;
    seam_err e = instance_commit_applet(c, li->record.aid, li->record.aid_len, li->applet, &pages);
    li->record.pages = (uint8_t)pages;
    return e;
}

void instance_unload(instance_loaded *li) {
    seam_applet_free(li->applet);
    if (li->card)
        module_release(li->card, li->module);
    li->applet = NULL;
    li->module = NULL;
}

seam_err instance_replay_perso(seam_card *c, instance_loaded *li, uint16_t *sw) {
    restore_blocks blocks = {0};
    seam_applet_result res = {0};
    seam_err e = restore_blocks_read(c->nvm, &li->restore.id, &blocks);
    *sw = SEAM_SW_SUCCESS;
    for (size_t i = 0; !e && i < blocks.count && *sw == SEAM_SW_SUCCESS; i++) {
        /* STORE DATA 80 E2 P1 block-number [data], as the block first came (short) */
        seam_apdu block = {.cla = 0x80,
                           .ins = 0xE2,
                           .p1 = blocks.p1[i],
                           .p2 = (uint8_t)i,
                           .apdu_case = (uint8_t)(blocks.len[i] ? 3 : 1),
                           .data = blocks.len[i] ? blocks.data + blocks.offset[i] : NULL,
                           .nc = blocks.len[i]};
        e = seam_applet_personalize(li->applet, &block, &res);
        if (!e && res.storage)
            e = res.storage;
        if (!e && (res.rollback || !sw_success(res.sw)))
            *sw = res.rollback || sw_success(res.sw) ? SEAM_SW_UNKNOWN : res.sw;
    }
    restore_blocks_free(&blocks);
    return e;
}

seam_err instance_file_package_perso(seam_card *c, instance_loaded *li,
                                     const seam_wasm_module *module, uint16_t *sw) {
    const uint8_t *data = NULL;
    size_t len = 0;
    seam_tlv_iter it;
    seam_tlv tlv;
    int32_t result = 0;
    seam_err e =
        seam_wasm_module_custom(module, SEAM_WASM_NAME(INSTANCE_PERSO_SECTION), &data, &len);
    *sw = SEAM_SW_SUCCESS;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        goto done;
    }
    if (e)
        goto done;
    if (!restore_blocks_valid(data, len)) /* checked whole before anything changes */
        *sw = SEAM_SW_WRONG_DATA;
    if (*sw != SEAM_SW_SUCCESS || len == 0)
        goto done;
    e = restore_perso_clear(c->nvm, &li->restore.id);
    seam_tlv_iter_init(&it, data, len);
    while (!e && result == 0 && seam_tlv_iter_next(&it, &tlv) == SEAM_OK)
        e = restore_perso_append(c->nvm, &li->restore.id, tlv.value[0], tlv.value + 1,
                                 tlv.length - 1, &result);
    if (!e && result != 0)
        *sw = SEAM_SW_NOT_ENOUGH_MEMORY;
done:
    return e;
}

seam_err instance_create(seam_card *c, instance_loaded *li, const uint8_t *params,
                         size_t params_len, uint32_t previous_version, uint16_t *sw) {
    seam_applet_restore_host host;
    seam_applet_diag diag; /* its failures, fuel and seam_debug lines go to the card's log */
    seam_applet_toolkit_host toolkit; /* install may queue or register already */
    seam_applet_options options = {.restore = &host, .diag = &diag, .toolkit = &toolkit};
    seam_applet_result res = {0};
    int32_t quota = 0;
    seam_err e;
    li->card = c;
    e = instance_module_ref(c, &li->record, &li->module);
    *sw = SEAM_SW_UNKNOWN;
    li->restore.nvm = c->nvm;
    restore_identity_make(&li->restore.id, li->record.sd, li->record.sd_len, li->record.aid,
                          li->record.aid_len);
    restore_host(&li->restore, previous_version, &host);
    card_applet_diag(c, li->record.aid, li->record.aid_len, &diag);
    card_toolkit_host(c, li->record.aid, li->record.aid_len, &toolkit);
    if (!e)
        e = seam_applet_install(li->module, &options, params, params_len, &res, &li->applet);
    if (e == SEAM_ERR_CARD_APPLET && seam_applet_check(li->module) == SEAM_OK)
        e = SEAM_OK; /* the package is usable: its start function trapped (*sw 6F00) */
    else if (!e && res.storage)
        e = res.storage; /* a restore_* call could not write: a storage failure */
    if (e || !li->applet) {
        instance_refused(&e, sw);
        goto done;
    }
    if (res.rollback || res.sw != SEAM_SW_SUCCESS) {
        *sw = res.rollback || sw_success(res.sw) ? SEAM_SW_UNKNOWN : res.sw;
        goto done; /* a warning must not commit a failed install either */
    }
    e = restore_record_ensure(c->nvm, &li->restore.id, &quota);
    if (!e && quota != 0) {
        *sw = SEAM_SW_NOT_ENOUGH_MEMORY; /* the SD has no room for the instance's record */
        goto done;
    }
    if (!e)
        e = instance_file_package_perso(c, li, li->module, sw);
    if (!e && *sw == SEAM_SW_SUCCESS)
        e = instance_replay_perso(c, li, sw);
done:
    return e;
}

seam_err instance_store(seam_card *c, instance_loaded *li) {
    uint32_t pages = 0;
    store_memory m;
    const uint8_t *memory = seam_applet_memory(li->applet, &pages);
    seam_err e = memory_of(li->applet, li->record.aid, li->record.aid_len, &m);
    li->record.pages = (uint8_t)pages;
    if (!e)
        e = store_instance_put(c->nvm, &li->record);
    if (!e)
        e = store_memory_write(c->nvm, &m, memory, pages);
    if (!e)
        seam_applet_clear_dirty(li->applet);
    return e;
}

/*
 * Stores the memory of instance aid, which an earlier version kept in pages
 * over zeros, as chunks over its module's initial image, and deletes the
 * pages. An instance whose package cannot be made into an applet any more
 * keeps its pages (it cannot be selected either); *converted says which.
 */
static seam_err convert_paged(seam_card *c, const uint8_t *aid, size_t len, bool *converted) {
    store_instance inst;
    seam_wasm_module *module = NULL;
    uint8_t *initial = NULL, *image = NULL;
    store_memory m = {.aid = aid, .aid_len = len};
    uint16_t sw = 0;
    *converted = false;
    seam_err e = store_instance_get(c->nvm, aid, len, &inst);
    if (!e)
        e = instance_module_ref(c, &inst, &module);
    if (!e)
        e = seam_applet_initial_image(module, NULL, &initial, &m.initial_pages, &m.stack_end);
    m.initial = initial;
    if (!e)
        e = store_memory_read_pages(c->nvm, aid, len, inst.pages, &image);
    if (!e)
        e = store_memory_write(c->nvm, &m, image, inst.pages);
    if (!e)
        e = store_memory_delete_pages(c->nvm, aid, len);
    *converted = !e;
    if (e == SEAM_ERR_NOT_FOUND || instance_refused(&e, &sw))
        e = SEAM_OK; /* no instance record, or no applet: the pages stay as they are */
    free(image);
    free(initial);
    module_release(c, module);
    return e;
}

seam_err instance_convert_paged_memory(seam_card *c, size_t *converted) {
    uint8_t aid[REGISTRY_AID_MAX];
    size_t len = 0;
    bool done = false;
    seam_err e = SEAM_OK;
    *converted = 0;
    while (!e) {
        e = store_memory_next_paged(c->nvm, aid, &len);
        if (!e)
            e = convert_paged(c, aid, len, &done);
        *converted += !e && done;
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}
