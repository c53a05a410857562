/*
 * The card's registry read by an applet (applet_registry.h): entry index of the
 * security domains, then the packages of the useful space, then the instances,
 * then the restore records, each table in key order (AID; (SD, instance) for a
 * restore record). The caller's privileges are read from its own instance record
 * at every call (a privilege taken away is gone at once): without Global Registry
 * (privileges byte 2, b3; gp_facts §1.8) the answer is SEAM_REGISTRY_ERR_DENIED
 * before anything else is read, so a refused caller does not learn whether the
 * index exists. Nothing is written; key sets are never read, and of a restore
 * record only its header (its size), never its blocks or entries.
 *
 * An entry (include/seam/applet.h): kind | life cycle | version (2) | LV AID |
 * LV associated SD AID (empty for the ISD) [| LV package AID: an instance, a restore
 * record (empty when the card holds no instance of it under that SD)] [| size (4,
 * big endian): a restore record].
 */
#include "applet_registry.h"

#include <string.h>

#include "card/store/package_store.h"
#include "card/store/registry.h"
#include "card/store/restore_records.h"
#include "card/store/schema.h"

/* The walk's bound: past this many entries of one table the card's image is not one
   seam makes (each table holds far fewer); the walk stops there as corrupt. */
#define REGISTRY_WALK_MAX 4096u

/* Finds the key of entry *index of table (keys of min..max bytes); *index is what is
   left for the next table. */
static seam_err nth_key(seam_nvm *nvm, uint16_t table, size_t min, size_t max, uint32_t *index,
                        uint8_t *key, size_t *key_len, bool *found) {
    seam_nvm_cursor cur;
    size_t value_len = 0;
    uint32_t seen = 0;
    seam_err err = seam_nvm_cursor_init(&cur, table, NULL, 0);
    *found = false;
    while (!err) {
        err = seam_nvm_cursor_next(nvm, &cur, key, SEAM_NVM_KEY_MAX, key_len, NULL, 0, &value_len);
        if (err)
            break;
        if (*key_len < min || *key_len > max || ++seen > REGISTRY_WALK_MAX)
            return SEAM_ERR_NVM_CORRUPT;
        if ((*index)-- == 0) {
            *found = true;
            return SEAM_OK;
        }
    }
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err;
}

/* An entry being written into out (at most SEAM_REGISTRY_ENTRY_MAX bytes). */
typedef struct {
    uint8_t *out;
    int32_t len;
} entry;

static void entry_start(entry *e, uint8_t kind, uint8_t lifecycle, uint16_t version) {
    e->out[0] = kind;
    e->out[1] = lifecycle;
    e->out[2] = (uint8_t)(version >> 8);
    e->out[3] = (uint8_t)version;
    e->len = 4;
}

/* Appends an AID (0..16 bytes) as a length byte and its bytes. */
static void entry_aid(entry *e, const uint8_t *aid, size_t aid_len) {
    e->out[e->len++] = (uint8_t)aid_len;
    memcpy(e->out + e->len, aid, aid_len);
    e->len += (int32_t)aid_len;
}

/* Splits a restore record's key (its identity: LV SD AID || LV instance AID). */
static bool identity_split(const uint8_t *key, size_t len, const uint8_t **sd, size_t *sd_len,
                           const uint8_t **aid, size_t *aid_len) {
    if (len < 1 || key[0] < 5 || key[0] > REGISTRY_AID_MAX || len < 2u + key[0])
        return false;
    *sd = key + 1;
    *sd_len = key[0];
    *aid = key + 2 + key[0];
    *aid_len = key[1 + key[0]];
    return *aid_len >= 5 && *aid_len <= REGISTRY_AID_MAX && len == 2u + *sd_len + *aid_len;
}

/* A restore record: its instance, owner, the package of that instance under that owner
   (if the card holds it) and its size. */
static seam_err restore_entry(seam_nvm *nvm, const uint8_t *key, size_t key_len, entry *out) {
    const uint8_t *sd, *aid;
    size_t sd_len = 0, aid_len = 0;
    restore_identity id;
    store_instance inst;
    uint16_t used = 0;
    if (!identity_split(key, key_len, &sd, &sd_len, &aid, &aid_len))
        return SEAM_ERR_NVM_CORRUPT;
    restore_identity_make(&id, sd, sd_len, aid, aid_len);
    seam_err e = restore_record_size(nvm, &id, &used);
    if (e)
        return e;
    e = store_instance_get(nvm, aid, aid_len, &inst);
    if (e && e != SEAM_ERR_NOT_FOUND)
        return e;
    bool same = !e && inst.sd_len == sd_len && !memcmp(inst.sd, sd, sd_len);
    entry_start(out, SEAM_REGISTRY_RESTORE, 0, 0);
    entry_aid(out, aid, aid_len);
    entry_aid(out, sd, sd_len);
    entry_aid(out, inst.package, same ? inst.package_len : 0);
    out->out[out->len++] = 0;
    out->out[out->len++] = 0;
    out->out[out->len++] = (uint8_t)(used >> 8);
    out->out[out->len++] = (uint8_t)used;
    return SEAM_OK;
}

/* Writes the entry of key, found in table, into out. */
static seam_err entry_of(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                         entry *out) {
    store_instance inst;
    store_package p;
    registry_sd sd;
    seam_err e;
    if (table == REGISTRY_SD) {
        if ((e = registry_sd_get(nvm, key, key_len, &sd)) == SEAM_OK) {
            entry_start(out, SEAM_REGISTRY_DOMAIN, sd.lifecycle, 0);
            entry_aid(out, key, key_len);
            entry_aid(out, sd.parent, sd.parent_len);
        }
    } else if (table == STORE_PACKAGE) {
        if ((e = store_package_get(nvm, key, key_len, &p)) == SEAM_OK) {
            entry_start(out, SEAM_REGISTRY_PACKAGE, 0x01, p.version); /* LOADED */
            entry_aid(out, key, key_len);
            entry_aid(out, p.sd, p.sd_len);
        }
    } else if (table == STORE_INSTANCE) {
        e = store_instance_get(nvm, key, key_len, &inst);
        if (!e)
            e = store_package_get_in(nvm, inst.space, inst.package, inst.package_len, &p);
        if (!e) {
            entry_start(out, SEAM_REGISTRY_INSTANCE, inst.lifecycle, p.version);
            entry_aid(out, key, key_len);
            entry_aid(out, inst.sd, inst.sd_len);
            entry_aid(out, inst.package, inst.package_len);
        }
    } else {
        e = restore_entry(nvm, key, key_len, out);
    }
    return e;
}

static seam_err registry_entry(void *ctx, const uint8_t *caller, size_t caller_len, uint32_t index,
                               uint8_t out[SEAM_REGISTRY_ENTRY_MAX], int32_t *result) {
    static const struct {
        uint16_t table;
        size_t key_min, key_max;
    } tables[] = {{REGISTRY_SD, 5, REGISTRY_AID_MAX},
                  {STORE_PACKAGE, 5, REGISTRY_AID_MAX},
                  {STORE_INSTANCE, 5, REGISTRY_AID_MAX},
                  {RESTORE_RECORD, 12, RESTORE_ID_MAX}};
    seam_card *c = ctx;
    store_instance self;
    uint8_t key[SEAM_NVM_KEY_MAX];
    size_t key_len = 0;
    bool found = false;
    entry built = {.out = out};
    seam_err e;
    *result = SEAM_REGISTRY_ERR_DENIED;
    e = store_instance_get(c->nvm, caller, caller_len, &self);
    if (e == SEAM_ERR_NOT_FOUND) /* not installed yet (install): no privileges */
        return SEAM_OK;
    if (e || !(self.privileges[1] & PRIV2_GLOBAL_REGISTRY))
        return e;
    *result = SEAM_REGISTRY_END;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        e = nth_key(c->nvm, tables[t].table, tables[t].key_min, tables[t].key_max, &index, key,
                    &key_len, &found);
        if (e)
            break; /* a corrupt table ends the walk: the next table must not clear e */
        if (!found)
            continue;
        e = entry_of(c->nvm, tables[t].table, key, key_len, &built);
        if (!e)
            *result = built.len;
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
