/*
 * The API the operator's console reads and acts through (issue 16; docs/server.md), on a
 * server of either backend (argv[1]: sqlite or postgresql, as store_backend.h starts
 * them): campaign control (start, pause, cancel) with its refusals, the campaign's counts,
 * bytes and timeline, GET /api/health, `seam server report --digest`, and the cards: search
 * by CIN, IMEI or AID (q=) and one card's devices, registry tree (from `./card` facts put
 * straight into the store, as a device's sync would) and byte accounting, never a key or
 * personalization data (S8). Targets are moved
 * through a second handle on the server's store, as another server sharing it would.
 * Every refusal changes nothing (seam_store_digest).
 */
#include "http_test.h"

#include <cjson/cJSON.h>

#include "delivery_rig.h"
#include "store_backend.h"

#define KEY1 "404142434445464748494A4B4C4D4E4F"
#define CIN1 "0102030405060708"
#define CIN2 "0102030405060709"

static const char *backend_name = "sqlite";

typedef struct {
    http_fixture http;
    char top[48];
    seam_store *store; /* a second handle on the server's store */
    char url[1024];    /* its URL */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->top, sizeof f->top, "/tmp/seam-console-XXXXXX");
    assert_non_null(mkdtemp(f->top));
    snprintf(f->http.dir, sizeof f->http.dir, "%s/srv", f->top);
    char *url = f->url;
    snprintf(f->url, sizeof f->url, "%s", backend_fresh_url());
    assert_int_equal(seam_server_init_db(f->http.dir, url, NULL, 0, f->http.token), SEAM_OK);
    seam_server_options o = {.dir = f->http.dir, .listen = "127.0.0.1:0", .threads = 2};
    assert_int_equal(seam_server_start(&o, &f->http.server), SEAM_OK);
    f->http.port = seam_server_port(f->http.server);
    char key_path[128];
    snprintf(key_path, sizeof key_path, "%s/master.key", f->http.dir);
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
    assert_int_equal(seam_store_open(url, key, &f->store), SEAM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    seam_store_close(f->store);
    seam_server_stop(f->http.server);
    nftw(f->top, http_test_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void digest(fixture *f, uint8_t d[32]) {
    assert_int_equal(seam_store_digest(f->store, d), SEAM_OK);
}

static cJSON *json_of(http_reply *r, long status) {
    assert_int_equal(r->status, status);
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    free(r->body);
    r->body = NULL;
    return j;
}

static double number(const cJSON *o, const char *a, const char *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *text(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* The purse uploaded, two cards, and a campaign over both (start as given); its id. */
static int64_t purse_campaign(fixture *f, bool start) {
    size_t len = 0;
    uint8_t *module = http_read_app("purse.wasm", &len);
    static const char *const h[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(&f->http, "POST", "/api/packages", h, module, len, 1);
    assert_int_equal(r.status, 201);
    free(r.body);
    free(module);
    const char *cins[] = {CIN1, CIN2};
    for (size_t i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof path, "/api/cards/%s", cins[i]);
        r = http_json(&f->http, "PUT", path,
                      "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1
                      "\",\"dek\":\"" KEY1 "\"}]}");
        assert_int_equal(r.status, 201);
        free(r.body);
    }
    char body[256];
    snprintf(body, sizeof body,
             "{\"kind\":\"install\",\"package\":\"A00000055055\",\"version\":\"1.0\","
             "\"targets\":[\"" CIN1 "\",\"" CIN2 "\"]%s}",
             start ? "" : ",\"start\":false");
    r = http_json(&f->http, "POST", "/api/campaigns", body);
    cJSON *c = json_of(&r, 201);
    int64_t id = (int64_t)number(c, "id", NULL);
    assert_string_equal(text(c, "state"), start ? "running" : "created");
    assert_int_equal(number(c, "counts", "pending"), 2);
    assert_int_equal(number(c, "bytes", "total"), 0);
    assert_int_equal(number(c, "updated", NULL), number(c, "created", NULL));
    cJSON_Delete(c);
    return id;
}

/* POSTs /api/campaigns/{id}/{verb}: the reply. */
static http_reply control(fixture *f, int64_t id, const char *verb) {
    char path[96];
    snprintf(path, sizeof path, "/api/campaigns/%lld/%s", (long long)id, verb);
    return http_json(&f->http, "POST", path, NULL);
}

/* A refused control: status and code, the message as given, nothing changed. */
static void refused(fixture *f, int64_t id, const char *verb, long status, const char *code,
                    const char *message) {
    uint8_t before[32], after[32];
    digest(f, before);
    http_reply r = control(f, id, verb);
    assert_true(http_is_error(&r, status, code));
    if (message)
        assert_non_null(strstr(r.body, message));
    free(r.body);
    digest(f, after);
    assert_memory_equal(before, after, 32);
}

/* Controls campaign id with verb: its state afterwards. */
static void moved(fixture *f, int64_t id, const char *verb, const char *state) {
    http_reply r = control(f, id, verb);
    cJSON *c = json_of(&r, 200);
    assert_string_equal(text(c, "state"), state);
    cJSON_Delete(c);
}

static cJSON *get(fixture *f, const char *path) {
    http_reply r = http_call(&f->http, "GET", path, NULL, NULL, 0, 1);
    return json_of(&r, 200);
}

static void campaign_start_pause_cancel_move_only_where_allowed(void **state) {
    fixture *f = *state;
    int64_t id = purse_campaign(f, false);
    char message[128];
    snprintf(message, sizeof message,
             "campaign %lld is created: only a running campaign can be paused", (long long)id);
    refused(f, id, "pause", 409, "conflict", message);
    /* created: nothing is claimed */
    seam_store_target t;
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t), SEAM_ERR_NOT_FOUND);
    moved(f, id, "start", "running");
    refused(f, id, "start", 409, "conflict", "is running: only a created or a paused campaign");
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t), SEAM_OK);
    moved(f, id, "pause", "paused");
    refused(f, id, "pause", 409, "conflict", "is paused: only a running campaign");
    /* paused: the other card waits, the running step finishes */
    seam_store_target t2;
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t2), SEAM_ERR_NOT_FOUND);
    cJSON *h = get(f, "/api/health");
    assert_int_equal(number(h, "queue", "paused"), 1);
    assert_int_equal(number(h, "queue", "pending"), 0);
    assert_int_equal(number(h, "campaigns", "paused"), 1);
    cJSON_Delete(h);
    assert_int_equal(seam_store_target_finish(f->store, id, &t.cin, "other", true, NULL), SEAM_OK);
    moved(f, id, "start", "running");
    moved(f, id, "cancel", "cancelled");
    refused(f, id, "cancel", 409, "conflict",
            "is cancelled: only a created, running or paused campaign can be cancelled");
    refused(f, id, "start", 409, "conflict", "is cancelled");
    refused(f, id + 1, "start", 404, "unknown_campaign", NULL);
    refused(f, id + 1, "cancel", 404, "unknown_campaign", NULL);
    refused(f, 0, "pause", 400, "bad_id", NULL);
    refused(f, id, "stop", 404, "not_found", NULL);

    /* the campaign's counts: one done, one failed (cancelled) */
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%lld", (long long)id);
    cJSON *c = get(f, path);
    assert_int_equal(number(c, "counts", "done"), 1);
    assert_int_equal(number(c, "counts", "failed"), 1);
    assert_int_equal(number(c, "counts", "pending") + number(c, "counts", "running"), 0);
    cJSON *target = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "targets"), 1);
    assert_string_equal(text(target, "reason"), "cancelled");
    cJSON_Delete(c);
}

static void campaign_json_sums_bytes_and_timeline_ends_at_the_counts_P1(void **state) {
    fixture *f = *state;
    int64_t id = purse_campaign(f, true);
    seam_store_target t;
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t), SEAM_OK);
    seam_store_bytes b = {.campaign = id, .cin = t.cin, .step = "install"};
    b.bytes = (seam_store_counts){.request = 300, .response = 4000, .perso = 50};
    assert_int_equal(seam_store_bytes_add(f->store, &b), SEAM_OK);
    assert_int_equal(
        seam_store_target_finish(f->store, id, &t.cin, "other", false, "card said 6A80"), SEAM_OK);
    cJSON *list = get(f, "/api/campaigns");
    cJSON *c = cJSON_GetArrayItem(list, 0);
    assert_int_equal(number(c, "bytes", "request"), 300);
    assert_int_equal(number(c, "bytes", "response"), 4000);
    assert_int_equal(number(c, "bytes", "perso"), 50);
    assert_int_equal(number(c, "bytes", "total"), 4300);
    assert_int_equal(number(c, "counts", "failed"), 1);
    assert_int_equal(number(c, "counts", "pending"), 1);
    assert_true(number(c, "updated", NULL) >= number(c, "created", NULL));
    cJSON_Delete(list);

    moved(f, id, "cancel", "cancelled");
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%lld/timeline", (long long)id);
    cJSON *tl = get(f, path);
    assert_int_equal(number(tl, "campaign", NULL), id);
    cJSON *points = cJSON_GetObjectItemCaseSensitive(tl, "points");
    int n = cJSON_GetArraySize(points);
    assert_true(n >= 2);
    cJSON *first = cJSON_GetArrayItem(points, 0), *last = cJSON_GetArrayItem(points, n - 1);
    assert_int_equal(number(first, "at", NULL), number(tl, "created", NULL));
    assert_int_equal(number(first, "pending", NULL), 2);
    assert_int_equal(number(first, "failed", NULL), 0);
    assert_int_equal(number(last, "failed", NULL), 2); /* 6A80, then cancelled */
    assert_int_equal(number(last, "pending", NULL) + number(last, "running", NULL), 0);
    for (int i = 1; i < n; i++) /* in time order, each point a change */
        assert_true(number(cJSON_GetArrayItem(points, i), "at", NULL) >=
                    number(cJSON_GetArrayItem(points, i - 1), "at", NULL));
    cJSON_Delete(tl);
    snprintf(path, sizeof path, "/api/campaigns/%lld/timeline", (long long)id + 1);
    http_reply r = http_call(&f->http, "GET", path, NULL, NULL, 0, 1);
    assert_true(http_is_error(&r, 404, "unknown_campaign"));
    free(r.body);
    snprintf(path, sizeof path, "/api/campaigns/%lld", (long long)id + 1);
    r = http_call(&f->http, "GET", path, NULL, NULL, 0, 1);
    assert_true(http_is_error(&r, 404, "unknown_campaign"));
    free(r.body);
}

/* Campaign id's timeline: its points as "at-created:pending/running/done/failed", joined. */
static void timeline(fixture *f, int64_t id, char *out, size_t cap) {
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%lld/timeline", (long long)id);
    cJSON *tl = get(f, path);
    double created = number(tl, "created", NULL);
    out[0] = '\0';
    for (cJSON *p = cJSON_GetObjectItemCaseSensitive(tl, "points")->child; p; p = p->next)
        snprintf(out + strlen(out), cap - strlen(out), "%s%d:%d/%d/%d/%d", out[0] ? " " : "",
                 (int)(number(p, "at", NULL) - created), (int)number(p, "pending", NULL),
                 (int)number(p, "running", NULL), (int)number(p, "done", NULL),
                 (int)number(p, "failed", NULL));
    cJSON_Delete(tl);
}

/* The event log's times set by hand (the store stamps them with the clock): one point per
   second in which a count changed, a claim and its end in one second show only the end, an
   event that changes no count (a note) shows nothing. */
static void timeline_has_one_point_per_second_that_changed_a_count(void **state) {
    fixture *f = *state;
    int64_t id = purse_campaign(f, true);
    seam_store_target t;
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t), SEAM_OK); /* 1 */
    assert_int_equal(seam_store_target_finish(f->store, id, &t.cin, "other", true, NULL),
                     SEAM_OK);                                                          /* 2 */
    assert_int_equal(seam_store_claim(f->store, NULL, "other", 1000, 60, &t), SEAM_OK); /* 3 */
    seam_store_event note = {.cin = t.cin, .campaign = id, .kind = "note", .message = "x"};
    assert_int_equal(seam_store_event_add(f->store, &note), SEAM_OK); /* 4 */
    assert_int_equal(seam_store_target_finish(f->store, id, &t.cin, "other", false, "6A80"),
                     SEAM_OK); /* 5 */
    static const int seconds[] = {1, 1, 3, 4, 5};
    for (size_t i = 0; i < 5; i++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "UPDATE events SET at = (SELECT created FROM campaigns WHERE id = %lld) + %d "
                 "WHERE id = %zu",
                 (long long)id, seconds[i], i + 1);
        assert_int_equal(backend_sql(f->url, sql), 0);
    }
    char got[256];
    timeline(f, id, got, sizeof got);
    assert_string_equal(got, "0:2/0/0/0 1:1/0/1/0 3:0/1/1/0 5:0/0/1/1");
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%lld", (long long)id);
    cJSON *c = get(f, path);
    assert_int_equal(number(c, "updated", NULL) - number(c, "created", NULL), 5);
    assert_string_equal(text(c, "state"), "done");
    cJSON_Delete(c);
}

static void health_counts_the_store_and_this_process(void **state) {
    fixture *f = *state;
    http_reply r = http_call(&f->http, "GET", "/api/health", NULL, NULL, 0, 0);
    assert_true(http_is_error(&r, 401, "unauthorized"));
    free(r.body);
    cJSON *h = get(f, "/api/health");
    assert_string_equal(text(h, "backend"), backend_name);
    assert_int_equal(number(h, "threads", NULL), 2);
    assert_true(number(h, "uptime", NULL) >= 0);
    double requests = number(h, "requests", NULL);
    assert_true(requests >= 1); /* the refused one (this one is not answered yet) */
    assert_int_equal(number(h, "campaigns", "running"), 0);
    assert_int_equal(number(h, "sessions", "last_minute"), 0);
    assert_int_equal(number(h, "sessions", "live"), 0);
    assert_int_equal(number(h, "sessions", "omads"), 0);
    cJSON_Delete(h);
    int64_t id = purse_campaign(f, true);
    seam_store_session s = {.campaign = id, .step = "install"};
    s.cin = (seam_store_id){.len = 8, .bytes = {1, 2, 3, 4, 5, 6, 7, 8}}; /* CIN1 */
    assert_int_equal(seam_store_session_create(f->store, &s), SEAM_OK);
    h = get(f, "/api/health");
    assert_true(number(h, "requests", NULL) > requests);
    assert_int_equal(number(h, "campaigns", "running"), 1);
    assert_int_equal(number(h, "queue", "pending"), 2);
    assert_int_equal(number(h, "sessions", "last_minute"), 1);
    assert_true(number(h, "sessions", "per_second") > 0);
    cJSON_Delete(h);
}

static void report_digest_prints_the_stores_digest_while_the_server_runs(void **state) {
    fixture *f = *state;
    purse_campaign(f, true);
    uint8_t d[32];
    digest(f, d);
    char want[65], cmd[1200], line[512];
    for (size_t i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", d[i]);
    snprintf(cmd, sizeof cmd, "%s server report %s --digest", seam_bin(), f->http.dir);
    assert_int_equal(run_cmd(cmd, line, sizeof line), 0);
    assert_string_equal(line, want);
}

/* ---- cards ---- */

static void record(fixture *f, const char *device, const char *uri, const char *key,
                   const char *content) {
    assert_int_equal(
        seam_store_record_put(f->store, device, "sync-1", uri, key, content, strlen(content)),
        SEAM_OK);
}

static cJSON *item(const cJSON *o, const char *name) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_non_null(v);
    return v;
}

static cJSON *at(const cJSON *arr, int i) {
    cJSON *v = cJSON_GetArrayItem(arr, i);
    assert_non_null(v);
    return v;
}

/* The CINs GET /api/cards?q=... answers, joined by spaces. */
static void search(fixture *f, const char *q, const char *want) {
    char path[128], got[256] = "";
    snprintf(path, sizeof path, "/api/cards?q=%s", q);
    cJSON *list = get(f, path);
    for (cJSON *c = list->child; c; c = c->next)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", got[0] ? " " : "",
                 text(c, "cin"));
    cJSON_Delete(list);
    assert_string_equal(got, want);
}

#define ISD    "A000000151000000"
#define SSD    "A0000001515350"
#define PURSE  "A00000055055"
#define PURSE1 "A0000005505501"
#define PERSO  "DF010434333231DF0204000001F4"

static void cards_found_by_cin_imei_or_aid_and_shown_with_their_registry_tree_S8(void **state) {
    fixture *f = *state;
    int64_t id = purse_campaign(f, true);
    http_reply r = http_json(&f->http, "PUT", "/api/cards/" CIN1 "/personalization/" PURSE1,
                             "{\"data\":\"" PERSO "\"}");
    assert_int_equal(r.status, 204);
    free(r.body);
    record(f, "dev-1", "./devinfo", "cin", CIN1);
    record(f, "dev-1", "./devinfo", "imei", "490154203237518");
    record(f, "dev-2", "./devinfo", "cin", CIN2);
    record(f, "dev-2", "./devinfo", "imei", "356938035643809");
    record(f, "dev-2", "./apps", PURSE1, "kind: card\nname: purse\nversion: 1.0\nsize: 900");
    record(f, "dev-1", "./card", "domain." ISD, "lifecycle=0F");
    record(f, "dev-1", "./card", "domain." SSD, "lifecycle=0F sd=" ISD);
    record(f, "dev-1", "./card", "package." PURSE, "version=1.0 sd=" SSD);
    record(f, "dev-1", "./card", "instance." PURSE1,
           "version=1.0 lifecycle=07 package=" PURSE " sd=" SSD " future=1");
    record(f, "dev-1", "./card", "package.A0000006470000", "version=2.1");
    record(f, "dev-1", "./card", "instance.A0000009990001",
           "version=1.0 lifecycle=07 package=A0000009990000 sd=" ISD);
    record(f, "dev-1", "./card", "restore." PURSE1, "owner=" SSD " package=" PURSE " bytes=42");
    record(f, "dev-1", "./card", "param.colour", "blue");
    seam_store_bytes b = {.campaign = id, .step = "install"};
    b.cin = (seam_store_id){.len = 8, .bytes = {1, 2, 3, 4, 5, 6, 7, 8}}; /* CIN1 */
    b.bytes = (seam_store_counts){.request = 120, .response = 3400, .perso = 28};
    assert_int_equal(seam_store_bytes_add(f->store, &b), SEAM_OK);

    search(f, "0708", CIN1);
    search(f, "0102", CIN1 " " CIN2);
    search(f, "35693803", CIN2);                /* dev-2's IMEI */
    search(f, "a0000005505501", CIN1 " " CIN2); /* ./card instance key, ./apps key */
    search(f, "9990001", CIN1);
    search(f, "colour", ""); /* a param is not an AID */
    cJSON *all = get(f, "/api/cards");
    assert_int_equal(cJSON_GetArraySize(all), 2);
    cJSON_Delete(all);
    uint8_t before[32], after[32];
    digest(f, before);
    const char *bad[] = {
        "/api/cards?q=", "/api/cards?q=0708%21",
        "/api/cards?q=01234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = http_call(&f->http, "GET", bad[i], NULL, NULL, 0, 1);
        assert_true(http_is_error(&r, 400, "bad_query"));
        free(r.body);
    }
    digest(f, after);
    assert_memory_equal(before, after, 32);

    r = http_call(&f->http, "GET", "/api/cards/" CIN1, NULL, NULL, 0, 1);
    assert_int_equal(r.status, 200);
    /* no key, no personalization data, in any case */
    assert_null(strstr(r.body, KEY1));
    assert_null(strstr(r.body, "404142434445"));
    assert_null(strstr(r.body, PERSO));
    assert_null(strstr(r.body, "df010434333231"));
    assert_null(strstr(r.body, "blue"));
    cJSON *c = json_of(&r, 200);
    cJSON *dev = at(item(c, "devices"), 0);
    assert_string_equal(text(dev, "id"), "dev-1");
    assert_string_equal(text(dev, "imei"), "490154203237518");
    assert_int_equal(cJSON_GetArraySize(item(c, "devices")), 1);
    cJSON *reg = item(c, "registry");
    assert_string_equal(text(reg, "device"), "dev-1");
    assert_true(number(reg, "reported", NULL) > 0);
    cJSON *isd = at(item(reg, "domains"), 0), *ssd = at(item(reg, "domains"), 1);
    assert_string_equal(text(isd, "aid"), ISD);
    assert_true(cJSON_IsNull(item(isd, "sd")));
    assert_string_equal(text(isd, "lifecycle"), "0F");
    /* an instance whose package is unknown: a package entry of its own, in its domain */
    cJSON *unknown = at(item(isd, "packages"), 0);
    assert_string_equal(text(unknown, "aid"), "A0000009990000");
    assert_true(cJSON_IsNull(item(unknown, "version")));
    assert_string_equal(text(at(item(unknown, "instances"), 0), "aid"), "A0000009990001");
    assert_string_equal(text(ssd, "aid"), SSD);
    assert_string_equal(text(ssd, "sd"), ISD);
    cJSON *purse = at(item(ssd, "packages"), 0);
    assert_string_equal(text(purse, "aid"), PURSE);
    assert_string_equal(text(purse, "version"), "1.0");
    cJSON *inst = at(item(purse, "instances"), 0);
    assert_string_equal(text(inst, "aid"), PURSE1);
    assert_string_equal(text(inst, "lifecycle"), "07");
    assert_string_equal(text(inst, "version"), "1.0");
    cJSON *lone = at(item(item(reg, "unassociated"), "packages"), 0);
    assert_string_equal(text(lone, "aid"), "A0000006470000");
    assert_string_equal(text(lone, "version"), "2.1");
    assert_int_equal(cJSON_GetArraySize(item(lone, "instances")), 0);
    cJSON *owner = at(item(reg, "restore"), 0);
    assert_string_equal(text(owner, "owner"), SSD);
    cJSON *rec = at(item(owner, "records"), 0);
    assert_string_equal(text(rec, "instance"), PURSE1);
    assert_string_equal(text(rec, "package"), PURSE);
    assert_int_equal(number(rec, "bytes", NULL), 42);
    cJSON *sess = at(item(c, "sessions"), 0);
    assert_int_equal(number(sess, "campaign", NULL), id);
    assert_string_equal(text(sess, "step"), "install");
    assert_int_equal(number(sess, "perso", NULL), 28);
    assert_int_equal(number(sess, "total", NULL), 3520);
    cJSON_Delete(c);

    /* a card no device reported ./card for */
    c = get(f, "/api/cards/" CIN2);
    assert_true(cJSON_IsNull(item(c, "registry")));
    assert_string_equal(text(at(item(c, "devices"), 0), "id"), "dev-2");
    assert_int_equal(cJSON_GetArraySize(item(c, "sessions")), 0);
    cJSON_Delete(c);
}

int main(int argc, char **argv) {
    backend_name = argc > 1 ? argv[1] : "sqlite";
    (void)http_setup, (void)http_teardown;
    if (backend_start(backend_name) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend_name);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(campaign_start_pause_cancel_move_only_where_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(campaign_json_sums_bytes_and_timeline_ends_at_the_counts_P1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(timeline_has_one_point_per_second_that_changed_a_count,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(health_counts_the_store_and_this_process, setup, teardown),
        cmocka_unit_test_setup_teardown(
            report_digest_prints_the_stores_digest_while_the_server_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(
            cards_found_by_cin_imei_or_aid_and_shown_with_their_registry_tree_S8, setup, teardown),
    };
    char group[64];
    snprintf(group, sizeof group, "console API on %s", backend_name);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
