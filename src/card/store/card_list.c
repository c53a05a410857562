/*
 * seam_card_registry_foreach: the card's registry (card record, security
 * domains, packages, instances) read-only, for `seam card list` and tools.
 * Key sets are walked by key only: no key material is ever read.
 */
#include <string.h>

#include "package_store.h"
#include "registry.h"
#include "restore_records.h"
#include "schema.h"
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
            memcpy(e->sd, sd.parent, sd.parent_len);
            e->sd_len = sd.parent_len;
            err = sd_kvns(nvm, e);
        }
    } else if (table == STORE_PACKAGE || table == STORE_PACKAGE_TEMPORARY) {
        uint8_t space = table == STORE_PACKAGE ? SPACE_USEFUL : SPACE_TEMPORARY;
        e->kind = SEAM_CARD_ENTRY_PACKAGE;
        err = store_package_get_in(nvm, space, aid, len, &p);
        if (!err)
            err = seam_nvm_get(nvm, space == SPACE_USEFUL ? STORE_MODULE : STORE_MODULE_TEMPORARY,
                               aid, len, NULL, 0, &module_len);
        if (err == SEAM_ERR_BUFFER_SMALL)
            err = SEAM_OK;
        if (!err) {
            e->version = p.version;
            e->module_size = module_len ? module_len - 1 : 0; /* less the format byte */
            memcpy(e->sd, p.sd, p.sd_len);
            e->sd_len = p.sd_len;
            e->space = space;
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
            e->space = inst.space;
        }
    }
    return err;
}

/* Reports the restore-module records: identity = len SD || SD || len AID || AID. */
static seam_err walk_records(seam_nvm *nvm, seam_card_entry_fn fn, void *ctx) {
    seam_nvm_cursor cur;
    uint8_t key[SEAM_NVM_KEY_MAX], value[8];
    size_t key_len = 0, value_len = 0;
    seam_card_entry e;
    seam_err err = seam_nvm_cursor_init(&cur, RESTORE_RECORD, NULL, 0);
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, value, sizeof value,
                                   &value_len);
        if (err)
            break;
        size_t sd_len = key_len ? key[0] : 0;
        size_t aid_len = key_len > sd_len + 1 ? key[1 + sd_len] : 0;
        if (sd_len > 16 || aid_len > 16 || key_len != 2 + sd_len + aid_len || value_len != 5) {
            err = SEAM_ERR_NVM_CORRUPT;
            break;
        }
        memset(&e, 0, sizeof e);
        e.kind = SEAM_CARD_ENTRY_RECORD;
        memcpy(e.sd, key + 1, sd_len);
        e.sd_len = sd_len;
        memcpy(e.aid, key + 2 + sd_len, aid_len);
        e.aid_len = aid_len;
        e.used_bytes = (size_t)value[3] << 8 | value[4];
        err = fn(ctx, &e);
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

/* Reports the upgrade sessions (schema.h: LV owner, LV new package AID, ...). */
static seam_err walk_upgrades(seam_nvm *nvm, seam_card_entry_fn fn, void *ctx) {
    seam_nvm_cursor cur;
    uint8_t key[SEAM_NVM_KEY_MAX], value[64];
    size_t key_len = 0, value_len = 0;
    seam_card_entry e;
    seam_err err = seam_nvm_cursor_init(&cur, UPGRADE_SESSION, NULL, 0);
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, value, sizeof value,
                                   &value_len);
        if (err)
            break;
        size_t owner = value_len > 1 ? value[1] : 0;
        size_t fresh = value_len > 2 + owner ? value[2 + owner] : 0;
        if (key_len > 16 || owner > 16 || fresh > 16 || value_len != 3 + owner + fresh + 4) {
            err = SEAM_ERR_NVM_CORRUPT;
            break;
        }
        memset(&e, 0, sizeof e);
        e.kind = SEAM_CARD_ENTRY_UPGRADE;
        memcpy(e.aid, key, key_len);
        e.aid_len = key_len;
        memcpy(e.sd, value + 2, owner);
        e.sd_len = owner;
        memcpy(e.package, value + 3 + owner, fresh);
        e.package_len = fresh;
        err = fn(ctx, &e);
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
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
    static const uint16_t tables[] = {REGISTRY_SD, STORE_PACKAGE, STORE_PACKAGE_TEMPORARY,
                                      STORE_INSTANCE};
    seam_nvm *nvm = card ? seam_card_nvm(card) : NULL;
    registry_card rc;
    seam_card_entry e;
    seam_err err = nvm && fn ? registry_card_get(nvm, &rc) : SEAM_ERR_ARG;
    if (!err) {
        memset(&e, 0, sizeof e);
        e.kind = SEAM_CARD_ENTRY_CARD;
        e.lifecycle = rc.lifecycle;
        e.profile = rc.profile;
        err = fn(ctx, &e);
    }
    for (size_t i = 0; !err && i < sizeof tables / sizeof tables[0]; i++)
        err = walk_table(nvm, tables[i], fn, ctx);
    if (!err)
        err = walk_records(nvm, fn, ctx);
    if (!err)
        err = walk_upgrades(nvm, fn, ctx);
    return err;
}
