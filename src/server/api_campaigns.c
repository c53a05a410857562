/*
 * /api/campaigns: a campaign is one kind of step (install, personalize,
 * update, upgrade, delete) of one package version across a set of cards; each
 * target card moves pending → running → done | failed, with the reason and the
 * bytes used (P1). Created campaigns start at once unless the request says "start": false.
 * Their control (start, pause, cancel) and timeline are in api_campaign_control.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "server_int.h"

static const char *kind_name(seam_store_kind k) {
    return k >= SEAM_STORE_INSTALL && k <= SEAM_STORE_DELETE ? seam_srv_campaign_kinds[k - 1]
                                                             : "unknown";
}

static const char *campaign_state_name(seam_store_campaign_state s) {
    static const char *const names[] = {"created", "running", "done", "cancelled", "paused"};
    return s >= SEAM_STORE_CAMPAIGN_CREATED && s <= SEAM_STORE_CAMPAIGN_PAUSED ? names[s - 1]
                                                                               : "unknown";
}

static const char *target_state_name(seam_store_target_state s) {
    static const char *const names[] = {"pending", "running", "done", "failed"};
    return s >= SEAM_STORE_PENDING && s <= SEAM_STORE_FAILED ? names[s - 1] : "unknown";
}

static bool add_bytes(cJSON *o, const seam_store_counts *b) {
    cJSON *bytes = cJSON_AddObjectToObject(o, "bytes");
    return bytes && cJSON_AddNumberToObject(bytes, "request", (double)b->request) &&
           cJSON_AddNumberToObject(bytes, "response", (double)b->response) &&
           cJSON_AddNumberToObject(bytes, "perso", (double)b->perso) &&
           cJSON_AddNumberToObject(bytes, "total", (double)(b->request + b->response));
}

static bool add_counts(cJSON *o, const seam_store_campaign_totals *t) {
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    return counts && cJSON_AddNumberToObject(counts, "pending", (double)t->pending) &&
           cJSON_AddNumberToObject(counts, "running", (double)t->running) &&
           cJSON_AddNumberToObject(counts, "done", (double)t->done) &&
           cJSON_AddNumberToObject(counts, "failed", (double)t->failed);
}

cJSON *seam_api_campaign_json(seam_store *st, const seam_store_campaign *c, seam_err *err) {
    seam_store_campaign_totals totals;
    *err = seam_store_campaign_totals_get(st, c->id, &totals);
    if (*err)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char version[8];
    seam_api_version_text(c->package_version, version);
    bool ok = o && cJSON_AddNumberToObject(o, "id", (double)c->id) &&
              cJSON_AddStringToObject(o, "kind", kind_name(c->kind)) &&
              seam_api_add_hex(o, "package", c->package_aid.bytes, c->package_aid.len) &&
              cJSON_AddStringToObject(o, "version", version) &&
              cJSON_AddStringToObject(o, "state", campaign_state_name(c->state)) &&
              cJSON_AddStringToObject(o, "personalization",
                                      seam_srv_campaign_in_terminal(c) ? "terminal" : "server") &&
              cJSON_AddNumberToObject(o, "created", (double)c->created) &&
              cJSON_AddNumberToObject(o, "updated", (double)totals.updated) &&
              add_counts(o, &totals) && add_bytes(o, &totals.bytes);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

API_HANDLER(seam_api_campaign_create) {
    cJSON *root = seam_api_body(req, &seam_srv_schema_campaign, res);
    if (!root)
        return;
    seam_store_campaign c;
    memset(&c, 0, sizeof c);
    const char *kind = cJSON_GetObjectItemCaseSensitive(root, "kind")->valuestring;
    for (size_t i = 0; seam_srv_campaign_kinds[i]; i++)
        if (!strcmp(seam_srv_campaign_kinds[i], kind))
            c.kind = (seam_store_kind)(SEAM_STORE_INSTALL + i);
    size_t n = 0;
    seam_srv_body_hex(root, "package", c.package_aid.bytes, sizeof c.package_aid.bytes, &n);
    c.package_aid.len = n;
    const char *version = cJSON_GetObjectItemCaseSensitive(root, "version")->valuestring;
    if (!seam_api_version_parse(version, &c.package_version)) {
        cJSON_Delete(root);
        seam_srv_error(res, 400, "bad_field", "field 'version' must be MAJOR.MINOR");
        return;
    }
    const cJSON *place = cJSON_GetObjectItemCaseSensitive(root, "personalization");
    if (place && !strcmp(place->valuestring, "terminal")) {
        if (c.kind != SEAM_STORE_INSTALL && c.kind != SEAM_STORE_UPDATE) {
            cJSON_Delete(root);
            seam_srv_error(res, 400, "bad_field",
                           "personalization 'terminal' is for install and update campaigns only");
            return;
        }
        snprintf(c.params, sizeof c.params, "%s", SEAM_SRV_PARAMS_TERMINAL);
    }
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(root, "start");
    bool start_now = !start || cJSON_IsTrue(start);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
    size_t count = (size_t)cJSON_GetArraySize(targets), i = 0;
    seam_store_id *cins = calloc(count, sizeof *cins);
    for (const cJSON *e = targets->child; cins && e; e = e->next, i++)
        seam_api_id(e->valuestring, &cins[i]);
    cJSON_Delete(root);
    if (!cins) {
        seam_api_store_error(res, SEAM_ERR_NOMEM);
        return;
    }
    /* The package must be there before any card is told to fetch it. */
    seam_store_package pkg;
    seam_err err =
        seam_store_package_get(seam_srv_store(srv), &c.package_aid, c.package_version, &pkg, NULL);
    if (err == SEAM_ERR_NOT_FOUND) {
        free(cins);
        seam_srv_error(res, 404, "unknown_package", "no package with that AID and version");
        return;
    }
    if (!err)
        err = seam_store_campaign_create(seam_srv_store(srv), &c, cins, count);
    free(cins);
    if (err == SEAM_ERR_NOT_FOUND) {
        seam_srv_error(res, 404, "unknown_card", "a target is not a known card");
        return;
    }
    if (err == SEAM_ERR_ARG) {
        seam_srv_error(res, 400, "bad_field", "a target appears twice");
        return;
    }
    if (!err && start_now)
        err = seam_store_campaign_set_state(seam_srv_store(srv), c.id, SEAM_STORE_CAMPAIGN_RUNNING);
    if (!err)
        err = seam_store_campaign_get(seam_srv_store(srv), c.id, &c);
    cJSON *o = err ? NULL : seam_api_campaign_json(seam_srv_store(srv), &c, &err);
    seam_api_reply(res, 201, err, o);
}

bool seam_api_campaign_id(const seam_srv_request *req, int64_t *id, seam_srv_response *res) {
    char *end;
    long long v = strtoll(req->params[0], &end, 10);
    if (*end || v <= 0 || req->params[0][0] < '1' || req->params[0][0] > '9') {
        seam_srv_error(res, 400, "bad_id", "a campaign id is a positive integer");
        return false;
    }
    *id = v;
    return true;
}

API_HANDLER(seam_api_campaign_get) {
    int64_t id;
    if (!seam_api_campaign_id(req, &id, res))
        return;
    seam_store_campaign c;
    seam_err err = seam_store_campaign_get(seam_srv_store(srv), id, &c);
    seam_store_target *targets = NULL;
    size_t count = 0;
    if (!err)
        err = seam_store_target_list(seam_srv_store(srv), id, &targets, &count);
    cJSON *o = err ? NULL : seam_api_campaign_json(seam_srv_store(srv), &c, &err);
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "targets") : NULL;
    for (size_t i = 0; arr && i < count; i++) {
        cJSON *t = cJSON_CreateObject();
        bool ok = t && seam_api_add_hex(t, "cin", targets[i].cin.bytes, targets[i].cin.len) &&
                  cJSON_AddStringToObject(t, "state", target_state_name(targets[i].state)) &&
                  cJSON_AddStringToObject(t, "reason", targets[i].reason) &&
                  cJSON_AddNumberToObject(t, "claims", targets[i].claims) &&
                  add_bytes(t, &targets[i].bytes);
        if (!ok || !cJSON_AddItemToArray(arr, t)) {
            cJSON_Delete(t);
            arr = NULL;
        }
    }
    free(targets);
    if (!arr) { /* a target's object failed: send no partial list */
        cJSON_Delete(o);
        o = NULL;
    }
    if (err == SEAM_ERR_NOT_FOUND) { /* the same code as its start, pause, cancel, timeline */
        seam_srv_error(res, 404, "unknown_campaign", "no campaign with that id");
        return;
    }
    seam_api_reply(res, 200, err, o);
}

API_HANDLER(seam_api_campaigns_list) {
    (void)req;
    seam_store_campaign *items = NULL;
    size_t count = 0;
    seam_err err = seam_store_campaign_list(seam_srv_store(srv), &items, &count);
    cJSON *arr = err ? NULL : cJSON_CreateArray();
    for (size_t i = 0; arr && i < count; i++) {
        cJSON *o = seam_api_campaign_json(seam_srv_store(srv), &items[i], &err);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    free(items);
    seam_api_reply(res, 200, err, arr);
}
