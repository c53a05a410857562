/*
 * What the operator's console reads of cards (docs/server.md, "Admin API"):
 *   GET /api/cards?q=TEXT  the cards whose CIN contains TEXT (hex, any case), or bound to a
 *                          device whose `./devinfo` imei contains it, or whose device copy
 *                          has an AID containing it in `./apps` keys or `./card` keys
 *                          (package., instance., domain.); q is 1..64 of [0-9A-Za-z]
 *   GET /api/cards/{cin}   also: the devices bound to it, its registry tree from the
 *                          `./card` facts of the device that reported last (card_registry.h)
 *                          and its byte accounting per session step.
 * Only ids, versions, life cycle states, sizes and byte counts are shown: never a key,
 * personalization data or restore contents.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "card_registry.h"
#include "dm_record.h"
#include "seam/util.h"
#include "server_int.h"

#define QUERY_MAX 64

#define DEVINFO "./devinfo"
#define APPS    "./apps"
#define CARD    "./card"

static char fold(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True when needle occurs in hay, ASCII letters compared in any case. */
static bool contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && fold(hay[i]) == fold(needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool same_id(const seam_store_id *a, const seam_store_id *b) {
    return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* ---- search ---- */

typedef struct {
    const char *q;
    seam_store_id *cins; /* the cards of devices that match */
    size_t count, cap;
} search;

static seam_err search_add(search *s, const seam_store_id *cin) {
    for (size_t i = 0; i < s->count; i++)
        if (same_id(&s->cins[i], cin))
            return SEAM_OK;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        seam_store_id *grown = realloc(s->cins, cap * sizeof *grown);
        if (!grown)
            return SEAM_ERR_NOMEM;
        s->cins = grown;
        s->cap = cap;
    }
    s->cins[s->count++] = *cin;
    return SEAM_OK;
}

static seam_err search_devinfo(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    char imei[SEAM_STORE_CONTENT_MAX + 1];
    if (!d->cin.len || strcmp(r->key, "imei") ||
        seam_dm_first_line(r->content, r->content_len, imei, sizeof imei) ||
        !contains(imei, ((search *)ctx)->q))
        return SEAM_OK;
    return search_add(ctx, &d->cin);
}

static seam_err search_apps(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    return d->cin.len && contains(r->key, ((search *)ctx)->q) ? search_add(ctx, &d->cin) : SEAM_OK;
}

static seam_err search_card(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    static const char *const prefixes[] = {"package.", "instance.", "domain."};
    for (size_t i = 0; d->cin.len && i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(r->key, prefixes[i], n) && contains(r->key + n, ((search *)ctx)->q))
            return search_add(ctx, &d->cin);
    }
    return SEAM_OK;
}

/* The query q of the request: NULL when there is none, "" when it is not 1..64 of
   [0-9A-Za-z]. */
static const char *query(const seam_srv_request *req) {
    const char *q = MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, "q");
    if (!q)
        return NULL;
    size_t n = strlen(q);
    if (!n || n > QUERY_MAX)
        return "";
    for (size_t i = 0; i < n; i++)
        if (!((q[i] >= '0' && q[i] <= '9') || ((q[i] | 0x20) >= 'a' && (q[i] | 0x20) <= 'z')))
            return "";
    return q;
}

bool seam_api_card_search(struct seam_server *srv, const seam_srv_request *req,
                          seam_store_card *items, size_t *count, seam_srv_response *res) {
    const char *q = query(req);
    if (!q)
        return true;
    if (!*q) {
        seam_srv_error(res, 400, "bad_query", "q is 1 to 64 letters and digits");
        return false;
    }
    search s = {.q = q};
    seam_store *st = seam_srv_store(srv);
    seam_err err = seam_store_record_scan(st, DEVINFO, search_devinfo, &s);
    if (!err)
        err = seam_store_record_scan(st, APPS, search_apps, &s);
    if (!err)
        err = seam_store_record_scan(st, CARD, search_card, &s);
    size_t kept = 0;
    for (size_t i = 0; !err && i < *count; i++) {
        char hex[2 * SEAM_STORE_ID_MAX + 1];
        size_t n = 0;
        seam_hex_encode(items[i].cin.bytes, items[i].cin.len, hex, sizeof hex, &n);
        hex[n] = '\0';
        bool hit = contains(hex, q);
        for (size_t j = 0; !hit && j < s.count; j++)
            hit = same_id(&s.cins[j], &items[i].cin);
        if (hit)
            items[kept++] = items[i];
    }
    free(s.cins);
    if (err) {
        seam_api_store_error(res, err);
        return false;
    }
    *count = kept;
    return true;
}

/* ---- one card ---- */

typedef struct {
    const seam_store_id *cin;
    cJSON *devices;                            /* the devices bound to the card */
    char device[SEAM_STORE_DEVICE_ID_MAX + 1]; /* the one whose ./card is newest */
    int64_t reported;
    seam_srv_registry *registry;
    bool nomem;
} detail;

/* The scans below see only the card's own devices (seam_store_record_scan_card). */
static seam_err detail_devinfo(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    detail *t = ctx;
    char imei[SEAM_STORE_CONTENT_MAX + 1];
    if (strcmp(r->key, "imei") || seam_dm_first_line(r->content, r->content_len, imei, sizeof imei))
        return SEAM_OK;
    for (cJSON *o = t->devices->child; o; o = o->next)
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(o, "id")->valuestring, d->id)) {
            cJSON *v = cJSON_CreateString(imei);
            if (!v || !cJSON_ReplaceItemInObjectCaseSensitive(o, "imei", v)) {
                cJSON_Delete(v);
                return SEAM_ERR_NOMEM;
            }
        }
    return SEAM_OK;
}

static seam_err detail_newest(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    detail *t = ctx;
    if (!t->device[0] || r->updated > t->reported) {
        memcpy(t->device, d->id, sizeof t->device);
        t->reported = r->updated;
    }
    return SEAM_OK;
}

static seam_err detail_facts(void *ctx, const seam_store_device *d, const seam_store_record *r) {
    detail *t = ctx;
    if (!strcmp(d->id, t->device))
        seam_srv_registry_add(t->registry, r->key, r->content, r->content_len);
    return SEAM_OK;
}

static bool add_devices(seam_store *st, const seam_store_id *cin, detail *t, seam_err *err) {
    seam_store_device *devices = NULL;
    size_t count = 0;
    *err = seam_store_device_list(st, &devices, &count);
    for (size_t i = 0; !*err && i < count; i++) {
        if (!same_id(&devices[i].cin, cin))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(t->devices, o)) {
            cJSON_Delete(o);
            *err = SEAM_ERR_NOMEM;
        } else if (!cJSON_AddStringToObject(o, "id", devices[i].id) ||
                   !cJSON_AddNullToObject(o, "imei") ||
                   !cJSON_AddNumberToObject(o, "updated", (double)devices[i].updated)) {
            *err = SEAM_ERR_NOMEM;
        }
    }
    free(devices);
    if (!*err)
        *err = seam_store_record_scan_card(st, DEVINFO, cin, detail_devinfo, t);
    return !*err;
}

static bool add_registry(seam_store *st, cJSON *o, detail *t, seam_err *err) {
    *err = seam_store_record_scan_card(st, CARD, t->cin, detail_newest, t);
    if (*err)
        return false;
    if (!t->device[0] && !cJSON_AddNullToObject(o, "registry"))
        *err = SEAM_ERR_NOMEM;
    if (!t->device[0])
        return !*err;
    if (!(t->registry = seam_srv_registry_new())) {
        *err = SEAM_ERR_NOMEM;
        return false;
    }
    *err = seam_store_record_scan_card(st, CARD, t->cin, detail_facts, t);
    cJSON *reg = *err ? NULL : cJSON_AddObjectToObject(o, "registry");
    if (!*err && !(reg && cJSON_AddStringToObject(reg, "device", t->device) &&
                   cJSON_AddNumberToObject(reg, "reported", (double)t->reported) &&
                   seam_srv_registry_json(t->registry, reg)))
        *err = SEAM_ERR_NOMEM;
    return !*err;
}

static bool add_sessions(seam_store *st, const seam_store_id *cin, cJSON *o, seam_err *err) {
    seam_store_bytes *rows = NULL;
    size_t count = 0;
    *err = seam_store_bytes_list(st, 0, cin, &rows, &count);
    cJSON *arr = *err ? NULL : cJSON_AddArrayToObject(o, "sessions");
    if (!*err && !arr)
        *err = SEAM_ERR_NOMEM;
    for (size_t i = 0; arr && i < count; i++) {
        const seam_store_bytes *b = &rows[i];
        cJSON *s = cJSON_CreateObject();
        bool ok = s && cJSON_AddItemToArray(arr, s);
        if (!ok)
            cJSON_Delete(s);
        ok = ok &&
             (b->campaign ? cJSON_AddNumberToObject(s, "campaign", (double)b->campaign)
                          : cJSON_AddNullToObject(s, "campaign")) &&
             cJSON_AddStringToObject(s, "step", b->step) &&
             cJSON_AddNumberToObject(s, "request", (double)b->bytes.request) &&
             cJSON_AddNumberToObject(s, "response", (double)b->bytes.response) &&
             cJSON_AddNumberToObject(s, "perso", (double)b->bytes.perso) &&
             cJSON_AddNumberToObject(s, "total", (double)(b->bytes.request + b->bytes.response));
        if (!ok) {
            *err = SEAM_ERR_NOMEM;
            arr = NULL;
        }
    }
    free(rows);
    return !*err;
}

bool seam_api_card_detail(struct seam_server *srv, const seam_store_id *cin, cJSON *o,
                          seam_err *err) {
    seam_store *st = seam_srv_store(srv);
    detail t = {.cin = cin, .devices = cJSON_AddArrayToObject(o, "devices")};
    if (!t.devices) {
        *err = SEAM_ERR_NOMEM;
        return false;
    }
    bool ok = add_devices(st, cin, &t, err) && add_registry(st, o, &t, err) &&
              add_sessions(st, cin, o, err);
    seam_srv_registry_free(t.registry);
    return ok;
}
