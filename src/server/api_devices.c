/*
 * /api/devices and /api/proposals: the server's copy of every device's device-management
 * database (S6, S8) with its history, and the upgrade proposals drawn from them (S10),
 * one of which a call turns into an update campaign for exactly the cards of its devices.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "proposals.h"
#include "seam/util.h"
#include "server_int.h"

#define PAGE 512 /* records read from the store at a time */

static bool add_cin(cJSON *o, const seam_store_id *cin) {
    return cin->len ? seam_api_add_hex(o, "cin", cin->bytes, cin->len)
                    : cJSON_AddNullToObject(o, "cin") != NULL;
}

static cJSON *device_json(const seam_store_device *d) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "id", d->id) || !add_cin(o, &d->cin) ||
        !cJSON_AddNumberToObject(o, "records", (double)d->records) ||
        !cJSON_AddNumberToObject(o, "counter", (double)d->counter) ||
        !cJSON_AddNumberToObject(o, "created", (double)d->created) ||
        !cJSON_AddNumberToObject(o, "updated", (double)d->updated)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds a string member of text[0..len) (UTF-8, checked by the store), or null when absent. */
static bool add_text(cJSON *o, const char *name, bool present, const char *text) {
    return present ? cJSON_AddStringToObject(o, name, text) != NULL
                   : cJSON_AddNullToObject(o, name) != NULL;
}

/* The device id in the path, or false with res filled (the router allows only its
   characters; the store's bound is the router's). */
static bool device_of(struct seam_server *srv, const seam_srv_request *req, seam_store_device *d,
                      seam_srv_response *res) {
    seam_err err = seam_store_device_get(seam_srv_store(srv), req->params[0], d);
    if (err == SEAM_ERR_ARG)
        seam_srv_error(res, 400, "bad_id", "a device id is 1..64 of [0-9A-Za-z_.-]");
    else if (err)
        seam_api_store_error(res, err);
    return !err;
}

static cJSON *device_item(const void *d) {
    return device_json(d);
}

API_HANDLER(seam_api_devices_list) {
    (void)req;
    seam_store_device *items = NULL;
    size_t count = 0;
    seam_err err = seam_store_device_list(seam_srv_store(srv), &items, &count);
    cJSON *arr = err ? NULL : seam_api_array(items, count, sizeof *items, device_item);
    free(items);
    seam_api_reply(res, 200, err, arr);
}

/* Adds the live records of device id to databases (an object: URI → array), by version. */
static seam_err add_records(seam_store *store, const char *id, cJSON *databases) {
    int64_t since = 0;
    for (;;) {
        seam_store_record *recs = NULL;
        size_t count = 0;
        seam_err err = seam_store_record_list(store, id, since, PAGE, &recs, &count);
        for (size_t i = 0; !err && i < count; i++) {
            const seam_store_record *r = &recs[i];
            since = r->version;
            if (r->deleted)
                continue;
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(databases, r->uri);
            if (!arr)
                arr = cJSON_AddArrayToObject(databases, r->uri);
            cJSON *o = cJSON_CreateObject();
            bool ok = arr && o && cJSON_AddStringToObject(o, "key", r->key) &&
                      cJSON_AddStringToObject(o, "content", r->content) &&
                      cJSON_AddNumberToObject(o, "version", (double)r->version) &&
                      cJSON_AddNumberToObject(o, "updated", (double)r->updated);
            if (!ok || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                err = SEAM_ERR_NOMEM;
            }
        }
        free(recs);
        if (err || count < PAGE)
            return err;
    }
}

API_HANDLER(seam_api_device_get) {
    seam_store_device d;
    if (!device_of(srv, req, &d, res))
        return;
    cJSON *o = device_json(&d);
    cJSON *databases = o ? cJSON_AddObjectToObject(o, "databases") : NULL;
    seam_err err = databases ? add_records(seam_srv_store(srv), d.id, databases) : SEAM_ERR_NOMEM;
    if (err) {
        cJSON_Delete(o);
        o = NULL;
    }
    seam_api_reply(res, 200, err, o);
}

API_HANDLER(seam_api_device_history) {
    seam_store_device d;
    if (!device_of(srv, req, &d, res))
        return;
    seam_store_history *h = NULL;
    size_t count = 0;
    seam_err err = seam_store_history_list(seam_srv_store(srv), d.id, &h, &count);
    cJSON *arr = err ? NULL : cJSON_CreateArray();
    for (size_t i = 0; arr && i < count; i++) {
        cJSON *o = cJSON_CreateObject();
        bool ok = o && cJSON_AddNumberToObject(o, "id", (double)h[i].id) &&
                  cJSON_AddStringToObject(o, "database", h[i].uri) &&
                  cJSON_AddStringToObject(o, "key", h[i].key) &&
                  cJSON_AddStringToObject(o, "session", h[i].session) &&
                  cJSON_AddNumberToObject(o, "at", (double)h[i].at) &&
                  cJSON_AddNumberToObject(o, "version", (double)h[i].version) &&
                  add_text(o, "old", h[i].old_exists, h[i].old_content) &&
                  add_text(o, "new", !h[i].new_deleted, h[i].new_content);
        if (!ok || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    seam_store_free_secret(h, (count ? count : 1) * sizeof *h);
    seam_api_reply(res, 200, err, arr);
}

/* ---- proposals (S10) ---- */

static cJSON *proposal_json(const seam_proposal *p) {
    char from[8], to[8];
    seam_api_version_text(p->from, from);
    seam_api_version_text(p->to, to);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "id", p->id) &&
              seam_api_add_hex(o, "package", p->package.bytes, p->package.len) &&
              cJSON_AddStringToObject(o, "name", p->name) &&
              cJSON_AddStringToObject(o, "from", from) && cJSON_AddStringToObject(o, "to", to) &&
              cJSON_AddNumberToObject(o, "devices", (double)p->devices);
    cJSON *cins = ok ? cJSON_AddArrayToObject(o, "cins") : NULL;
    for (size_t i = 0; cins && i < p->cin_count; i++) {
        char hex[2 * SEAM_STORE_ID_MAX + 1];
        size_t n = 0;
        cJSON *one = seam_hex_encode(p->cins[i].bytes, p->cins[i].len, hex, sizeof hex, &n)
                         ? NULL
                         : cJSON_CreateString(hex);
        if (!one || !cJSON_AddItemToArray(cins, one)) {
            cJSON_Delete(one);
            cins = NULL;
        }
    }
    cJSON *skipped = cins ? cJSON_AddArrayToObject(o, "skipped") : NULL;
    for (size_t i = 0; skipped && i < p->skipped_count; i++) {
        cJSON *s = cJSON_CreateObject();
        if (!s || !cJSON_AddStringToObject(s, "device", p->skipped[i].device) ||
            !cJSON_AddStringToObject(s, "reason", p->skipped[i].reason) ||
            !cJSON_AddItemToArray(skipped, s)) {
            cJSON_Delete(s);
            skipped = NULL;
        }
    }
    if (!skipped) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *app_json(const seam_proposal_app *a) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "kind", a->card ? "card" : "terminal") ||
        !cJSON_AddStringToObject(o, "id", a->id) || !cJSON_AddStringToObject(o, "name", a->name) ||
        !cJSON_AddStringToObject(o, "version", a->version) ||
        !cJSON_AddNumberToObject(o, "devices", (double)a->devices)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *proposal_item(const void *p) {
    return proposal_json(p);
}

static cJSON *app_item(const void *a) {
    return app_json(a);
}

API_HANDLER(seam_api_proposals_list) {
    (void)req;
    seam_proposals all;
    seam_err err = seam_proposals_make(seam_srv_store(srv), &all);
    cJSON *o = err ? NULL : cJSON_CreateObject();
    if (o && !(seam_api_add_array(o, "proposals", all.items, all.count, sizeof *all.items,
                                  proposal_item) &&
               seam_api_add_array(o, "applications", all.apps, all.app_count, sizeof *all.apps,
                                  app_item))) {
        cJSON_Delete(o);
        o = NULL;
    }
    seam_proposals_free(&all);
    seam_api_reply(res, 200, err, o);
}

API_HANDLER(seam_api_proposal_accept) {
    seam_store_campaign c;
    seam_proposals accepted = {0};
    seam_err err = seam_proposal_accept(seam_srv_store(srv), req->params[0], &c, &accepted);
    if (err == SEAM_ERR_NOT_FOUND) {
        seam_srv_error(res, 404, "unknown_proposal", "no such proposal (now)");
        return;
    }
    if (err == SEAM_ERR_SERVER_CONFLICT) {
        seam_srv_error(res, 409, "no_known_cards",
                       "none of the proposal's devices hosts a card the server knows");
        return;
    }
    cJSON *o = err ? NULL : seam_api_campaign_json(seam_srv_store(srv), &c, &err);
    cJSON *p = o && accepted.count ? proposal_json(&accepted.items[0]) : NULL;
    if (o && (!p || !cJSON_AddItemToObject(o, "proposal", p))) {
        cJSON_Delete(p);
        cJSON_Delete(o);
        o = NULL;
    }
    seam_proposals_free(&accepted);
    seam_api_reply(res, 201, err, o);
}
