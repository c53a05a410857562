/*
 * A card's registry tree from its `./card` facts (card_registry.h).
 */
#include "card_registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AID_HEX 33 /* 5..16 bytes in upper-case hex, and a NUL */

typedef enum { FACT_DOMAIN, FACT_PACKAGE, FACT_INSTANCE, FACT_RESTORE } fact_kind;

typedef struct {
    fact_kind kind;
    char aid[AID_HEX];
    char sd[AID_HEX];      /* its domain (a restore record: its owner); "" none */
    char package[AID_HEX]; /* an instance's or a restore record's package; "" none */
    char version[8];       /* "M.m"; "" none */
    char lifecycle[4];     /* "LL" in hex; "" none */
    uint64_t bytes;        /* a restore record's stored size */
    bool has_bytes;
} fact;

struct seam_srv_registry {
    size_t count;
    fact facts[SEAM_SRV_REGISTRY_FACTS_MAX];
};

seam_srv_registry *seam_srv_registry_new(void) {
    return calloc(1, sizeof(seam_srv_registry));
}

void seam_srv_registry_free(seam_srv_registry *r) {
    free(r);
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Copies an AID of 5..16 bytes in hex from s[0..n) into out, upper case; false when it is
   not one. */
static bool aid_copy(const char *s, size_t n, char out[AID_HEX]) {
    if (n < 10 || n > 32 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_hex(s[i]))
            return false;
        out[i] = s[i] >= 'a' ? (char)(s[i] - 'a' + 'A') : s[i];
    }
    out[n] = '\0';
    return true;
}

/* True when every character of s[0..n) is one of `allowed` (reads nothing past s[n-1]). */
static bool all_of(const char *s, size_t n, const char *allowed) {
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(allowed, s[i]))
            return false;
    return true;
}

/* Copies s[0..n) into out[0..cap) when it is 1..cap-1 characters of `allowed`. */
static void field_copy(const char *s, size_t n, char *out, size_t cap, const char *allowed) {
    if (!n || n >= cap || !all_of(s, n, allowed))
        return;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Reads one `name=value` field s[0..n) into f. */
static void field_read(fact *f, const char *s, size_t n) {
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return;
    size_t name = (size_t)(eq - s), len = n - name - 1;
    const char *v = eq + 1;
    if (name == 7 && !memcmp(s, "version", 7)) {
        field_copy(v, len, f->version, sizeof f->version, "0123456789.");
    } else if (name == 9 && !memcmp(s, "lifecycle", 9)) {
        field_copy(v, len, f->lifecycle, sizeof f->lifecycle, "0123456789abcdefABCDEF");
    } else if ((name == 2 && !memcmp(s, "sd", 2)) || (name == 5 && !memcmp(s, "owner", 5))) {
        if (!aid_copy(v, len, f->sd))
            f->sd[0] = '\0';
    } else if (name == 7 && !memcmp(s, "package", 7)) {
        if (!aid_copy(v, len, f->package))
            f->package[0] = '\0';
    } else if (name == 5 && !memcmp(s, "bytes", 5) && len && len <= 10 &&
               all_of(v, len, "0123456789")) {
        f->bytes = 0;
        for (size_t i = 0; i < len; i++)
            f->bytes = f->bytes * 10 + (uint64_t)(v[i] - '0');
        f->has_bytes = true;
    }
}

void seam_srv_registry_add(seam_srv_registry *r, const char *key, const char *value, size_t len) {
    static const struct {
        const char *prefix;
        fact_kind kind;
    } kinds[] = {{"domain.", FACT_DOMAIN},
                 {"package.", FACT_PACKAGE},
                 {"instance.", FACT_INSTANCE},
                 {"restore.", FACT_RESTORE}};
    if (r->count == SEAM_SRV_REGISTRY_FACTS_MAX)
        return;
    fact *f = &r->facts[r->count];
    memset(f, 0, sizeof *f);
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] &&
           strncmp(key, kinds[k].prefix, strlen(kinds[k].prefix)))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return;
    const char *aid = key + strlen(kinds[k].prefix);
    if (!aid_copy(aid, strlen(aid), f->aid))
        return;
    f->kind = kinds[k].kind;
    size_t line = 0; /* the first line only */
    while (line < len && value[line] != '\n' && value[line] != '\r')
        line++;
    for (size_t at = 0; at < line;) {
        size_t end = at;
        while (end < line && value[end] != ' ')
            end++;
        field_read(f, value + at, end - at);
        at = end + 1;
    }
    r->count++;
}

/* ---- the tree ---- */

static const fact *find(const seam_srv_registry *r, fact_kind kind, const char *aid) {
    for (size_t i = 0; aid[0] && i < r->count; i++)
        if (r->facts[i].kind == kind && !strcmp(r->facts[i].aid, aid))
            return &r->facts[i];
    return NULL;
}

/* Where a package or instance with domain sd goes: sd when that domain is known, else ""
   (unassociated). */
static const char *place(const seam_srv_registry *r, const char *sd) {
    return find(r, FACT_DOMAIN, sd) ? sd : "";
}

static bool add_text_or_null(cJSON *o, const char *name, const char *text) {
    return text[0] ? cJSON_AddStringToObject(o, name, text) != NULL
                   : cJSON_AddNullToObject(o, name) != NULL;
}

/* The instances of package aid placed at p (only_place: an unknown package's). */
static bool add_instances(const seam_srv_registry *r, cJSON *pkg, const char *aid, const char *p,
                          bool only_place) {
    cJSON *arr = cJSON_AddArrayToObject(pkg, "instances");
    for (size_t i = 0; arr && i < r->count; i++) {
        const fact *f = &r->facts[i];
        if (f->kind != FACT_INSTANCE || strcmp(f->package, aid) ||
            (only_place && strcmp(place(r, f->sd), p)))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return false;
        }
        if (!cJSON_AddStringToObject(o, "aid", f->aid) ||
            !add_text_or_null(o, "lifecycle", f->lifecycle) ||
            !add_text_or_null(o, "version", f->version))
            return false; /* o is in the tree: freed with it */
    }
    return arr != NULL;
}

static cJSON *package_json(cJSON *arr, const char *aid, const char *version) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return NULL;
    }
    if (!add_text_or_null(o, "aid", aid) || !add_text_or_null(o, "version", version))
        return NULL;
    return o;
}

/* The packages placed at p (a domain's AID, or "" for the unassociated ones) as member
   "packages" of obj: the package facts, then one entry per unknown package of an instance. */
static bool add_packages(const seam_srv_registry *r, cJSON *obj, const char *p) {
    cJSON *arr = cJSON_AddArrayToObject(obj, "packages");
    for (size_t i = 0; arr && i < r->count; i++) {
        const fact *f = &r->facts[i];
        if (f->kind != FACT_PACKAGE || strcmp(place(r, f->sd), p))
            continue;
        cJSON *o = package_json(arr, f->aid, f->version);
        if (!o || !add_instances(r, o, f->aid, p, false))
            return false;
    }
    for (size_t i = 0; arr && i < r->count; i++) {
        const fact *f = &r->facts[i];
        if (f->kind != FACT_INSTANCE || find(r, FACT_PACKAGE, f->package) ||
            strcmp(place(r, f->sd), p))
            continue;
        bool seen = false; /* one entry per unknown package and place */
        for (size_t j = 0; j < i && !seen; j++)
            seen = r->facts[j].kind == FACT_INSTANCE && !strcmp(r->facts[j].package, f->package) &&
                   !strcmp(place(r, r->facts[j].sd), p);
        cJSON *o = seen ? NULL : package_json(arr, f->package, "");
        if (!seen && (!o || !add_instances(r, o, f->package, p, true)))
            return false;
    }
    return arr != NULL;
}

static bool add_restore(const seam_srv_registry *r, cJSON *obj) {
    cJSON *arr = cJSON_AddArrayToObject(obj, "restore");
    for (size_t i = 0; arr && i < r->count; i++) {
        const fact *f = &r->facts[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = r->facts[j].kind == FACT_RESTORE && !strcmp(r->facts[j].sd, f->sd);
        if (f->kind != FACT_RESTORE || seen)
            continue;
        cJSON *owner = cJSON_CreateObject();
        if (!owner || !cJSON_AddItemToArray(arr, owner)) {
            cJSON_Delete(owner);
            return false;
        }
        cJSON *records = NULL;
        if (!add_text_or_null(owner, "owner", f->sd) ||
            !(records = cJSON_AddArrayToObject(owner, "records")))
            return false;
        for (size_t j = i; j < r->count; j++) {
            const fact *g = &r->facts[j];
            if (g->kind != FACT_RESTORE || strcmp(g->sd, f->sd))
                continue;
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(records, o)) {
                cJSON_Delete(o);
                return false;
            }
            if (!cJSON_AddStringToObject(o, "instance", g->aid) ||
                !add_text_or_null(o, "package", g->package) ||
                !(g->has_bytes ? cJSON_AddNumberToObject(o, "bytes", (double)g->bytes)
                               : cJSON_AddNullToObject(o, "bytes")))
                return false;
        }
    }
    return arr != NULL;
}

bool seam_srv_registry_json(const seam_srv_registry *r, cJSON *obj) {
    cJSON *domains = cJSON_AddArrayToObject(obj, "domains");
    for (size_t i = 0; domains && i < r->count; i++) {
        const fact *f = &r->facts[i];
        if (f->kind != FACT_DOMAIN)
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(domains, o)) {
            cJSON_Delete(o);
            return false;
        }
        if (!cJSON_AddStringToObject(o, "aid", f->aid) ||
            !add_text_or_null(o, "lifecycle", f->lifecycle) || !add_text_or_null(o, "sd", f->sd) ||
            !add_packages(r, o, f->aid))
            return false;
    }
    cJSON *unassociated = domains ? cJSON_AddObjectToObject(obj, "unassociated") : NULL;
    return unassociated && add_packages(r, unassociated, "") && add_restore(r, obj);
}
