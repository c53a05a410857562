/*
 * seam_card_registry_foreach: the card's registry (card record, security
 * domains, packages, instances) read-only, for `seam card list` and tools.
 * Key sets are walked by key only: no key material is ever read.
 */
#include <string.h>

#include "package_store.h"
#include "registry.h"
#include "seam/card.h"

/* Fills e->kvns with the key set versions of the SD named in e->aid. */
static seam_err sd_kvns(seam_nvm *nvm, seam_card_entry *e) {
    seam_nvm_cursor cur;
    uint8_t key[SEAM_NVM_KEY_MAX];
    size_t key_len = 0, value_len = 0;
    seam_err err = seam_nvm_cursor_init(&cur, REGISTRY_KEYSET, e->aid, e->aid_len);
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!err && key_len == e->aid_len + 1 && e->kvn_count < sizeof e->kvns)
            e->kvns[e->kvn_count++] = key[key_len - 1];
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

/* Fills e from the record of one table named by its key (an AID). */
static seam_err read_entry(seam_nvm *nvm, uint16_t table, const uint8_t *aid, size_t len,
                           seam_card_entry *e) {
    registry_sd sd;
    store_package p;
    store_instance inst;
    size_t module_len = 0;
    seam_err err = SEAM_ERR_ARG;
    memset(e, 0, sizeof *e);
    memcpy(e->aid, aid, len);
    e->aid_len = len;
    if (table == REGISTRY_SD) {
        e->kind = SEAM_CARD_ENTRY_SD;
        err = registry_sd_get(nvm, aid, len, &sd);
        if (!err) {
            e->lifecycle = sd.lifecycle;
            memcpy(e->privileges, sd.privileges, 3);
            err = sd_kvns(nvm, e);
        }
    } else if (table == STORE_PACKAGE) {
        e->kind = SEAM_CARD_ENTRY_PACKAGE;
        err = store_package_get(nvm, aid, len, &p);
        if (!err)
            err = seam_nvm_get(nvm, STORE_MODULE, aid, len, NULL, 0, &module_len);
        if (err == SEAM_ERR_BUFFER_SMALL)
            err = SEAM_OK;
        if (!err) {
            e->version = p.version;
            e->module_size = module_len ? module_len - 1 : 0; /* less the format byte */
        }
    } else if (table == STORE_INSTANCE) {
        e->kind = SEAM_CARD_ENTRY_INSTANCE;
        err = store_instance_get(nvm, aid, len, &inst);
        if (!err) {
            e->lifecycle = inst.lifecycle;
            memcpy(e->privileges, inst.privileges, 3);
            memcpy(e->package, inst.package, inst.package_len);
            e->package_len = inst.package_len;
            memcpy(e->sd, inst.sd, inst.sd_len);
            e->sd_len = inst.sd_len;
        }
    }
    return err;
}

/* Reports every record of one table (keys are AIDs) to fn. */
static seam_err walk_table(seam_nvm *nvm, uint16_t table, seam_card_entry_fn fn, void *ctx) {
    seam_nvm_cursor cur;
    uint8_t key[SEAM_NVM_KEY_MAX];
    size_t key_len = 0, value_len = 0;
    seam_card_entry e;
    seam_err err = seam_nvm_cursor_init(&cur, table, NULL, 0);
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (!err && key_len > REGISTRY_AID_MAX)
            err = SEAM_ERR_NVM_CORRUPT;
        if (!err)
            err = read_entry(nvm, table, key, key_len, &e);
        if (!err)
            err = fn(ctx, &e);
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

seam_err seam_card_registry_foreach(seam_card *card, seam_card_entry_fn fn, void *ctx) {
    static const uint16_t tables[] = {REGISTRY_SD, STORE_PACKAGE, STORE_INSTANCE};
    seam_nvm *nvm = card ? seam_card_nvm(card) : NULL;
    registry_card rc;
    seam_card_entry e;
    seam_err err = nvm && fn ? registry_card_get(nvm, &rc) : SEAM_ERR_ARG;
    if (!err) {
        memset(&e, 0, sizeof e);
        e.kind = SEAM_CARD_ENTRY_CARD;
        e.lifecycle = rc.lifecycle;
        err = fn(ctx, &e);
    }
    for (size_t i = 0; !err && i < sizeof tables / sizeof tables[0]; i++)
        err = walk_table(nvm, tables[i], fn, ctx);
    return err;
}
