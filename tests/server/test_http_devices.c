/*
 * The devices' copies and the upgrade proposals over the admin API (S6, S10, P8): a real
 * `seam server` in this process, its store filled through a second handle as a sync
 * session would fill it, then read with libcurl as an operator would.
 */
#include "http_test.h"

#include <cjson/cJSON.h>

#define C1   "0102030405060701"
#define C2   "0102030405060702"
#define C5   "0102030405060705"
#define C9   "0102030405060709" /* a card the server does not know */
#define KEY1 "404142434445464748494A4B4C4D4E4F"
#define CARD_BODY                                                                                  \
    "{\"iin\":\"42\",\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1                \
    "\",\"dek\":\"" KEY1 "\"}]}"

/* Uploads a package; its AID (hex) to aid. */
static void upload(http_fixture *f, const char *file, char aid[40]) {
    size_t len;
    uint8_t *module = http_read_app(file, &len);
    static const char *const wasm[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(f, "POST", "/api/packages", wasm, module, len, 1);
    assert_int_equal(r.status, 201);
    const char *a = strstr(r.body, "\"aid\":\"");
    assert_non_null(a);
    sscanf(a + 7, "%32[0-9A-F]", aid);
    free(r.body);
    free(module);
}

static void add_card(http_fixture *f, const char *cin) {
    char path[64];
    snprintf(path, sizeof path, "/api/cards/%s", cin);
    http_reply r = http_json(f, "PUT", path, CARD_BODY);
    assert_int_equal(r.status, 201);
    free(r.body);
}

/* A sync session of device id: its CIN (NULL: none) and one app record per (key, text). */
static void sync_device(seam_store *s, const char *id, const char *cin, const char *key1,
                        const char *text1, const char *key2, const char *text2) {
    seam_store_change c[3];
    size_t n = 0;
    c[n++] = (seam_store_change){"./devinfo", "imei", id, strlen(id), false};
    if (cin)
        c[n++] = (seam_store_change){"./devinfo", "cin", cin, strlen(cin), false};
    c[n++] = (seam_store_change){"./apps", key1, text1, strlen(text1), false};
    assert_int_equal(seam_store_device_apply(s, id, "sync-1", c, n, NULL), SEAM_OK);
    if (key2)
        assert_int_equal(
            seam_store_record_put(s, id, "sync-2", "./apps", key2, text2, strlen(text2)), SEAM_OK);
}

static cJSON *get_json(http_fixture *f, const char *path, long status) {
    http_reply r = http_json(f, "GET", path, NULL);
    assert_int_equal(r.status, status);
    cJSON *j = cJSON_Parse(r.body);
    free(r.body);
    assert_non_null(j);
    return j;
}

static const char *str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double num(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char PURSE1[] = "name: purse\nkind: card\nversion: 1.0\nsize: 4096\n";
static const char PURSE2[] = "name: purse\nkind: card\nversion: 2.0\nsize: 4200\n";
static const char SNAKE31[] = "name: Snake\nkind: terminal\nversion: 3.1\n";
static const char SNAKE32[] = "name: Snake\nkind: terminal\nversion: 3.2\n";

/* The copy of a device, its records by database and its history, as the operator sees them. */
static void a_device_copy_is_shown_with_its_records_and_history_S6(void **state) {
    http_fixture *f = *state;
    seam_store *s = http_store_open(f);
    sync_device(s, "356938035643809", C1, "A00000064701", PURSE1, "org.example.snake", SNAKE31);
    assert_int_equal(
        seam_store_record_put(s, "356938035643809", "sync-3", "./devinfo", "ringtone", "bells", 5),
        SEAM_OK);
    assert_int_equal(seam_store_record_put(s, "356938035643809", "sync-4", "./devinfo", "ringtone",
                                           "birds \xC3\xA9t\xC3\xA9", 11),
                     SEAM_OK);
    seam_store_close(s);

    cJSON *list = get_json(f, "/api/devices", 200);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    const cJSON *d = cJSON_GetArrayItem(list, 0);
    assert_string_equal(str(d, "id"), "356938035643809");
    assert_string_equal(str(d, "cin"), C1);
    assert_int_equal(num(d, "records"), 5);
    assert_int_equal(num(d, "counter"), 6);
    cJSON_Delete(list);

    cJSON *one = get_json(f, "/api/devices/356938035643809", 200);
    const cJSON *dbs = cJSON_GetObjectItemCaseSensitive(one, "databases");
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(dbs, "./apps");
    const cJSON *devinfo = cJSON_GetObjectItemCaseSensitive(dbs, "./devinfo");
    assert_int_equal(cJSON_GetArraySize(apps), 2);
    assert_int_equal(cJSON_GetArraySize(devinfo), 3);
    assert_string_equal(str(cJSON_GetArrayItem(apps, 0), "content"), PURSE1);
    const cJSON *ring = cJSON_GetArrayItem(devinfo, 2);
    assert_string_equal(str(ring, "key"), "ringtone");
    assert_string_equal(str(ring, "content"), "birds \xC3\xA9t\xC3\xA9"); /* UTF-8 as given */
    cJSON_Delete(one);

    cJSON *h = get_json(f, "/api/devices/356938035643809/history", 200);
    assert_int_equal(cJSON_GetArraySize(h), 6);
    const cJSON *newest = cJSON_GetArrayItem(h, 0);
    assert_string_equal(str(newest, "session"), "sync-4");
    assert_string_equal(str(newest, "old"), "bells");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 1), "old")));
    cJSON_Delete(h);

    cJSON *e = get_json(f, "/api/devices/490154203237518", 404);
    cJSON_Delete(e);
    http_reply r = http_json(f, "GET", "/api/devices/a%20b", NULL);
    assert_int_equal(r.status, 404); /* not a device id: no such path */
    free(r.body);
    r = http_call(f, "GET", "/api/devices", NULL, NULL, 0, 0);
    assert_true(http_is_error(&r, 401, "unauthorized"));
    free(r.body);
}

/*
 * S10, P8: devices with mixed versions; the proposal counts them right, names exactly the
 * known cards, reports the devices whose card is unknown; accepting it creates an update
 * campaign whose targets are exactly those cards.
 */
static void proposals_count_mixed_versions_and_target_exactly_the_known_cards_S10_P8(void **state) {
    http_fixture *f = *state;
    char purse[40] = "", paytv[40] = "";
    upload(f, "purse.wasm", purse);
    upload(f, "purse_v2.wasm", purse);
    upload(f, "paytv_v2.wasm", paytv);
    add_card(f, C1);
    add_card(f, C2);
    add_card(f, C5);
    seam_store *s = http_store_open(f);
    sync_device(s, "dev-1", C1, purse, PURSE1, "org.example.snake", SNAKE31);
    sync_device(s, "dev-2", C2, purse, PURSE1, "org.example.snake", SNAKE31);
    sync_device(s, "dev-3", NULL, purse, PURSE1, "org.example.snake", SNAKE32); /* no CIN */
    sync_device(s, "dev-4", C9, purse, PURSE1, NULL, NULL); /* a card the server lacks */
    sync_device(s, "dev-5", C5, purse, PURSE2, NULL, NULL); /* up to date */
    char instance[48], by_package[128];
    snprintf(instance, sizeof instance, "%s01", purse); /* keyed by instance, names its package */
    snprintf(by_package, sizeof by_package, "name: purse\nkind: card\nversion: 1.0\npackage: %s\n",
             purse);
    sync_device(s, "dev-6", C1, instance, by_package, NULL, NULL); /* C1 moved here: one target */
    sync_device(s, "dev-7", NULL, paytv, "name: paytv\nkind: card\nversion: 1.0\n", NULL, NULL);
    seam_store_close(s);

    cJSON *all = get_json(f, "/api/proposals", 200);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(all, "proposals");
    assert_int_equal(cJSON_GetArraySize(props), 2);
    char id[80];
    snprintf(id, sizeof id, "%s-1.0-2.0", purse);
    const cJSON *p = NULL;
    for (const cJSON *one = props->child; one; one = one->next)
        if (!strcmp(str(one, "id"), id))
            p = one;
    assert_non_null(p);
    assert_string_equal(str(p, "name"), "purse");
    assert_string_equal(str(p, "from"), "1.0");
    assert_string_equal(str(p, "to"), "2.0");
    assert_int_equal(num(p, "devices"), 5); /* dev-1, 2, 3, 4, 6; not dev-5 */
    const cJSON *cins = cJSON_GetObjectItemCaseSensitive(p, "cins");
    assert_int_equal(cJSON_GetArraySize(cins), 2);
    assert_string_equal(cJSON_GetArrayItem(cins, 0)->valuestring, C1);
    assert_string_equal(cJSON_GetArrayItem(cins, 1)->valuestring, C2);
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(p, "skipped");
    assert_int_equal(cJSON_GetArraySize(skipped), 2);
    assert_string_equal(str(cJSON_GetArrayItem(skipped, 0), "device"), "dev-3");
    assert_string_equal(str(cJSON_GetArrayItem(skipped, 0), "reason"), "no_cin");
    assert_string_equal(str(cJSON_GetArrayItem(skipped, 1), "device"), "dev-4");
    assert_string_equal(str(cJSON_GetArrayItem(skipped, 1), "reason"), "unknown_card");
    /* which devices run which version of which application, terminal ones too */
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(all, "applications");
    int seen = 0;
    for (const cJSON *a = apps->child; a; a = a->next) {
        const char *key = str(a, "id"), *version = str(a, "version");
        int devices = (int)num(a, "devices");
        if (!strcmp(key, purse) && !strcmp(version, "1.0"))
            seen++, assert_int_equal(devices, 4);
        if (!strcmp(key, purse) && !strcmp(version, "2.0"))
            seen++, assert_int_equal(devices, 1);
        if (!strcmp(key, "org.example.snake") && !strcmp(version, "3.1"))
            seen++, assert_int_equal(devices, 2), assert_string_equal(str(a, "kind"), "terminal");
        if (!strcmp(key, "org.example.snake") && !strcmp(version, "3.2"))
            seen++, assert_int_equal(devices, 1);
    }
    assert_int_equal(seen, 4);
    cJSON_Delete(all);

    /* accept: an update campaign for exactly C1 and C2 */
    char path[160];
    snprintf(path, sizeof path, "/api/proposals/%s/campaign", id);
    http_reply r = http_json(f, "POST", path, NULL);
    assert_int_equal(r.status, 201);
    cJSON *c = cJSON_Parse(r.body);
    free(r.body);
    assert_non_null(c);
    assert_string_equal(str(c, "kind"), "update");
    assert_string_equal(str(c, "package"), purse);
    assert_string_equal(str(c, "version"), "2.0");
    assert_string_equal(str(c, "state"), "running");
    snprintf(path, sizeof path, "/api/campaigns/%d", (int)num(c, "id"));
    cJSON_Delete(c);
    c = get_json(f, path, 200);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(c, "targets");
    assert_int_equal(cJSON_GetArraySize(targets), 2);
    assert_string_equal(str(cJSON_GetArrayItem(targets, 0), "cin"), C1);
    assert_string_equal(str(cJSON_GetArrayItem(targets, 1), "cin"), C2);
    cJSON_Delete(c);

    /* a proposal none of whose cards is known, an unknown proposal, a body: nothing stored */
    uint8_t before[32], after[32];
    http_store_digest(f, before);
    snprintf(path, sizeof path, "/api/proposals/%s-1.0-2.0/campaign", paytv);
    r = http_json(f, "POST", path, NULL);
    assert_true(http_is_error(&r, 409, "no_known_cards"));
    free(r.body);
    snprintf(path, sizeof path, "/api/proposals/%s-1.0-9.0/campaign", purse);
    r = http_json(f, "POST", path, NULL);
    assert_true(http_is_error(&r, 404, "unknown_proposal"));
    free(r.body);
    snprintf(path, sizeof path, "/api/proposals/%s/campaign", id);
    r = http_json(f, "POST", path, "{\"targets\":[\"" C9 "\"]}");
    assert_true(http_is_error(&r, 413, "too_large"));
    free(r.body);
    http_store_digest(f, after);
    assert_memory_equal(before, after, 32);

    /* `seam server report --proposals` says the same */
    FILE *out = tmpfile();
    assert_non_null(out);
    assert_int_equal(seam_server_report_proposals(f->dir, NULL, out), SEAM_OK);
    char text[4096];
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    fclose(out);
    char line[160];
    snprintf(line, sizeof line, "5 devices run purse 1.0 (package %s); 2.0 is available", purse);
    assert_non_null(strstr(text, line));
    assert_non_null(
        strstr(text, "cards an update campaign would target: 2\n      " C1 "\n      " C2));
    assert_non_null(strstr(text, "dev-4 (unknown_card)"));
    assert_non_null(strstr(text, "org.example.snake"));
}

/* A device's ./card fact `package.<AID>` (S8: the card's own database, read from carddb). */
static void card_fact(seam_store *s, const char *id, const char *aid, const char *version) {
    char key[80], value[40];
    snprintf(key, sizeof key, "package.%s", aid);
    snprintf(value, sizeof value, "version=%s", version);
    assert_int_equal(seam_store_record_put(s, id, "sync-3", "./card", key, value, strlen(value)),
                     SEAM_OK);
}

/*
 * S10, S8: a card package known only from a device's ./card database is proposed for update
 * like one from ./apps; a device that reports the package in both is counted once, and the
 * inventory of applications stays the ./apps one.
 */
static void a_card_package_known_only_from_the_card_database_is_proposed_S10_S8(void **state) {
    http_fixture *f = *state;
    char purse[40] = "";
    upload(f, "purse.wasm", purse);
    upload(f, "purse_v2.wasm", purse);
    add_card(f, C1);
    add_card(f, C2);
    seam_store *s = http_store_open(f);
    /* dev-c: its ./apps names only a terminal app; its card says purse 1.0 */
    sync_device(s, "dev-c", C1, "org.example.snake", SNAKE31, NULL, NULL);
    card_fact(s, "dev-c", purse, "1.0");
    /* dev-d: purse 1.0 in ./apps and in ./card: one device */
    sync_device(s, "dev-d", C2, purse, PURSE1, NULL, NULL);
    card_fact(s, "dev-d", purse, "1.0");
    /* dev-e: its card already runs 2.0 */
    sync_device(s, "dev-e", NULL, "org.example.snake", SNAKE32, NULL, NULL);
    card_fact(s, "dev-e", purse, "2.0");
    seam_store_close(s);

    cJSON *all = get_json(f, "/api/proposals", 200);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(all, "proposals");
    assert_int_equal(cJSON_GetArraySize(props), 1);
    const cJSON *p = cJSON_GetArrayItem(props, 0);
    char id[80];
    snprintf(id, sizeof id, "%s-1.0-2.0", purse);
    assert_string_equal(str(p, "id"), id);
    assert_string_equal(str(p, "name"), "purse"); /* from dev-d's ./apps record */
    assert_int_equal(num(p, "devices"), 2);
    const cJSON *cins = cJSON_GetObjectItemCaseSensitive(p, "cins");
    assert_int_equal(cJSON_GetArraySize(cins), 2);
    assert_string_equal(cJSON_GetArrayItem(cins, 0)->valuestring, C1);
    assert_string_equal(cJSON_GetArrayItem(cins, 1)->valuestring, C2);
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(all, "applications");
    for (const cJSON *a = apps->child; a; a = a->next)
        if (!strcmp(str(a, "id"), purse))
            assert_int_equal(num(a, "devices"), 1); /* dev-d's ./apps record alone */
    cJSON_Delete(all);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_device_copy_is_shown_with_its_records_and_history_S6,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(
            proposals_count_mixed_versions_and_target_exactly_the_known_cards_S10_P8, http_setup,
            http_teardown),
        cmocka_unit_test_setup_teardown(
            a_card_package_known_only_from_the_card_database_is_proposed_S10_S8, http_setup,
            http_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
