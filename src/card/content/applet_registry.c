/*
 * The card's registry read by an applet (applet_registry.h): entry index of the
 * security domains, then the packages of the useful space, then the instances,
 * each table in key (AID) order. The caller's privileges are read from its own
 * instance record at every call (a privilege taken away is gone at once): without
 * Global Registry (privileges byte 2, b3; gp_facts §1.8) the answer is
 * SEAM_REGISTRY_ERR_DENIED before anything else is read, so a refused caller does
 * not learn whether the index exists. Nothing is written; key sets are never read.
 */
#include "applet_registry.h"

#include <string.h>

#include "card/store/package_store.h"
#include "card/store/registry.h"
#include "card/store/schema.h"

/* The walk's bound: past this many entries of one table the card's image is not one
   seam makes (each table holds far fewer); the walk stops there as corrupt. */
#define REGISTRY_WALK_MAX 4096u

/* Finds the key of entry *index of table; *index is what is left for the next table. */
static seam_err nth_key(seam_nvm *nvm, uint16_t table, uint32_t *index, uint8_t *key,
                        size_t *key_len, bool *found) {
    seam_nvm_cursor cur;
    size_t value_len = 0;
    uint32_t seen = 0;
    seam_err err = seam_nvm_cursor_init(&cur, table, NULL, 0);
    *found = false;
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, SEAM_NVM_KEY_MAX, key_len, NULL, 0, &value_len);
        if (err)
            break;
        if (*key_len < 5 || *key_len > REGISTRY_AID_MAX || ++seen > REGISTRY_WALK_MAX)
            return SEAM_ERR_NVM_CORRUPT;
        if ((*index)-- == 0) {
            *found = true;
            return SEAM_OK;
        }
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

/* Writes entry (kind, lifecycle, version, AID) into out; its length. */
static int32_t entry_put(uint8_t out[SEAM_REGISTRY_ENTRY_MAX], uint8_t kind, uint8_t lifecycle,
                         uint16_t version, const uint8_t *aid, size_t aid_len) {
    out[0] = kind;
    out[1] = lifecycle;
    out[2] = (uint8_t)(version >> 8);
    out[3] = (uint8_t)version;
    out[4] = (uint8_t)aid_len;
    memcpy(out + 5, aid, aid_len);
    return (int32_t)(5 + aid_len);
}

static seam_err registry_entry(void *ctx, const uint8_t *caller, size_t caller_len, uint32_t index,
                               uint8_t out[SEAM_REGISTRY_ENTRY_MAX], int32_t *result) {
    static const uint16_t tables[] = {REGISTRY_SD, STORE_PACKAGE, STORE_INSTANCE};
    seam_card *c = ctx;
    store_instance self, inst;
    store_package p;
    registry_sd sd;
    uint8_t key[SEAM_NVM_KEY_MAX];
    size_t key_len = 0;
    bool found = false;
    seam_err e;
    *result = SEAM_REGISTRY_ERR_DENIED;
    e = store_instance_get(c->nvm, caller, caller_len, &self);
    if (e == SEAM_ERR_NOT_FOUND) /* not installed yet (install): no privileges */
        return SEAM_OK;
    if (e || !(self.privileges[1] & PRIV2_GLOBAL_REGISTRY))
        return e;
    *result = SEAM_REGISTRY_END;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        e = nth_key(c->nvm, tables[t], &index, key, &key_len, &found);
        if (e)
            break; /* a corrupt table ends the walk: the next table must not clear e */
        if (!found)
            continue;
        if (tables[t] == REGISTRY_SD) {
            e = registry_sd_get(c->nvm, key, key_len, &sd);
            if (!e)
                *result = entry_put(out, 1, sd.lifecycle, 0, key, key_len);
        } else if (tables[t] == STORE_PACKAGE) {
            e = store_package_get(c->nvm, key, key_len, &p);
            if (!e)
                *result = entry_put(out, 2, 0x01, p.version, key, key_len); /* LOADED */
        } else {
            e = store_instance_get(c->nvm, key, key_len, &inst);
            if (!e)
                e = store_package_get_in(c->nvm, inst.space, inst.package, inst.package_len, &p);
            if (!e)
                *result = entry_put(out, 3, inst.lifecycle, p.version, key, key_len);
        }
        break;
    }
    if (e)
        *result = SEAM_REGISTRY_ERR_DENIED;
    return e;
}

void card_registry_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                        seam_applet_registry_host *out) {
    memset(out, 0, sizeof *out);
    out->ctx = c;
    out->aid_len = aid_len <= sizeof out->aid ? aid_len : sizeof out->aid;
    memcpy(out->aid, aid, out->aid_len);
    out->entry = registry_entry;
}
