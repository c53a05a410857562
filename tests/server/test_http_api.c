/*
 * The admin API over real HTTP: a `seam server` in this process on
 * 127.0.0.1 (port chosen by the system), spoken to with libcurl. Bearer
 * token, stable error codes, per-route size limits, strict bodies with
 * nothing stored on refusal (the store's digest of every row), packages,
 * cards whose keys are never returned, personalization data, campaigns.
 */
#include "http_test.h"

#define KEY1 "404142434445464748494A4B4C4D4E4F"
#define CARD_BODY                                                                                  \
    "{\"iin\":\"42\",\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1                \
    "\",\"dek\":\"" KEY1 "\"}]}"

static void the_api_needs_the_bearer_token(void **state) {
    http_fixture *f = *state;
    http_reply r = http_call(f, "GET", "/api/packages", NULL, NULL, 0, 0);
    assert_true(http_is_error(&r, 401, "unauthorized"));
    free(r.body);
    static const char *const wrong[] = {
        "Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000",
        NULL};
    r = http_call(f, "GET", "/api/packages", wrong, NULL, 0, 0);
    assert_true(http_is_error(&r, 401, "unauthorized"));
    free(r.body);
    r = http_call(f, "GET", "/api/packages", NULL, NULL, 0, 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "[]");
    free(r.body);
}

static void unknown_paths_and_methods_get_404_and_405(void **state) {
    http_fixture *f = *state;
    http_reply r = http_call(f, "GET", "/api/nothing", NULL, NULL, 0, 1);
    assert_true(http_is_error(&r, 404, "not_found"));
    free(r.body);
    r = http_call(f, "DELETE", "/api/packages", NULL, NULL, 0, 1);
    assert_true(http_is_error(&r, 405, "method_not_allowed"));
    free(r.body);
    r = http_call(f, "GET", "/api/cards/01%2F02", NULL, NULL, 0, 1);
    assert_true(r.status == 404 || r.status == 400);
    free(r.body);
}

static void an_oversized_body_gets_413_and_stores_nothing(void **state) {
    http_fixture *f = *state;
    uint8_t before[32], after[32];
    http_store_digest(f, before);
    size_t n = 20000; /* the card route takes 16 KiB */
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, CARD_BODY, strlen(CARD_BODY));
    big[n] = '\0';
    http_reply r = http_json(f, "PUT", "/api/cards/0102030405060708", big);
    assert_true(http_is_error(&r, 413, "too_large"));
    free(r.body);
    free(big);
    http_store_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void bad_bodies_get_400_and_store_nothing(void **state) {
    http_fixture *f = *state;
    static const char *const bodies[] = {
        "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
        "\"}],\"admin\":true}", /* unknown */
        "{\"iin\":\"42\"}",     /* missing */
        "{\"keysets\":[{\"kvn\":\"48\",\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
        "\"}]}", /* type */
        "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "00\",\"dek\":\"" KEY1
        "\"}]}",         /* lengths */
        "{\"keysets\":", /* truncated */
    };
    uint8_t before[32], after[32];
    http_store_digest(f, before);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        http_reply r = http_json(f, "PUT", "/api/cards/0102030405060708", bodies[i]);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "{\"error\":{\"code\":\""));
        free(r.body);
    }
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    http_reply r =
        http_call(f, "PUT", "/api/cards/0102030405060708", text, CARD_BODY, strlen(CARD_BODY), 1);
    assert_true(http_is_error(&r, 415, "bad_content_type"));
    free(r.body);
    http_store_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void a_card_is_stored_and_its_keys_never_come_back(void **state) {
    http_fixture *f = *state;
    http_reply r = http_json(f, "PUT", "/api/cards/0102030405060708", CARD_BODY);
    assert_int_equal(r.status, 201);
    free(r.body);
    r = http_json(f, "GET", "/api/cards/0102030405060708", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"cin\":\"0102030405060708\""));
    assert_non_null(strstr(r.body, "\"iin\":\"42\""));
    assert_non_null(strstr(r.body, "\"kvn\":48"));
    assert_null(strstr(r.body, KEY1));
    assert_null(strstr(r.body, "404142"));
    free(r.body);
    r = http_json(f, "GET", "/api/cards", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "0102030405060708"));
    assert_null(strstr(r.body, KEY1));
    free(r.body);
    /* and the IIN of a card does not change */
    r = http_json(f, "PUT", "/api/cards/0102030405060708",
                  "{\"iin\":\"43\",\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1
                  "\",\"dek\":\"" KEY1 "\"}]}");
    assert_true(http_is_error(&r, 409, "conflict"));
    free(r.body);
    r = http_json(f, "GET", "/api/cards/0A0B", NULL);
    assert_true(http_is_error(&r, 404, "not_found"));
    free(r.body);
}

static void packages_are_read_from_their_own_section(void **state) {
    http_fixture *f = *state;
    size_t len;
    uint8_t *module = http_read_app("purse.wasm", &len);
    static const char *const wasm[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(f, "POST", "/api/packages", wasm, module, len, 1);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"version\":\"1.0\""));
    assert_non_null(strstr(r.body, "\"aid\":\""));
    free(r.body);
    r = http_call(f, "POST", "/api/packages", wasm, module, len, 1);
    assert_true(http_is_error(&r, 409, "conflict"));
    free(r.body);
    r = http_call(f, "POST", "/api/packages", wasm, "\0asm", 4, 1);
    assert_true(http_is_error(&r, 400, "bad_package"));
    free(r.body);
    static const char *const json[] = {"Content-Type: application/json", NULL};
    r = http_call(f, "POST", "/api/packages", json, module, len, 1);
    assert_true(http_is_error(&r, 415, "bad_content_type"));
    free(r.body);
    r = http_json(f, "GET", "/api/packages", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"size\":"));
    free(r.body);
    free(module);
}

static void personalization_and_campaigns(void **state) {
    http_fixture *f = *state;
    size_t len;
    uint8_t *module = http_read_app("purse.wasm", &len);
    static const char *const wasm[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(f, "POST", "/api/packages", wasm, module, len, 1);
    assert_int_equal(r.status, 201);
    char aid[40] = "";
    const char *a = strstr(r.body, "\"aid\":\"");
    assert_non_null(a);
    sscanf(a + 7, "%32[0-9A-F]", aid);
    free(r.body);
    free(module);
    r = http_json(f, "PUT", "/api/cards/0102030405060708", CARD_BODY);
    assert_int_equal(r.status, 201);
    free(r.body);

    char path[160], body[400];
    snprintf(path, sizeof path, "/api/cards/0102030405060708/personalization/%s", aid);
    r = http_json(f, "PUT", path, "{\"data\":\"8001020304\"}");
    assert_int_equal(r.status, 204);
    free(r.body);
    snprintf(path, sizeof path, "/api/cards/0A0B/personalization/%s", aid);
    r = http_json(f, "PUT", path, "{\"data\":\"8001020304\"}");
    assert_true(http_is_error(&r, 404, "not_found"));
    free(r.body);

    uint8_t before[32], after[32];
    http_store_digest(f, before);
    snprintf(body, sizeof body,
             "{\"kind\":\"install\",\"package\":\"%s\",\"version\":\"1.0\",\"targets\":[\"0A0B\"]}",
             aid);
    r = http_json(f, "POST", "/api/campaigns", body);
    assert_true(http_is_error(&r, 404, "unknown_card"));
    free(r.body);
    snprintf(body, sizeof body,
             "{\"kind\":\"install\",\"package\":\"%s\",\"version\":\"9.0\",\"targets\":"
             "[\"0102030405060708\"]}",
             aid);
    r = http_json(f, "POST", "/api/campaigns", body);
    assert_true(http_is_error(&r, 404, "unknown_package"));
    free(r.body);
    http_store_digest(f, after);
    assert_memory_equal(before, after, 32);

    snprintf(body, sizeof body,
             "{\"kind\":\"install\",\"package\":\"%s\",\"version\":\"1.0\",\"targets\":"
             "[\"0102030405060708\"]}",
             aid);
    r = http_json(f, "POST", "/api/campaigns", body);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"state\":\"running\""));
    assert_non_null(strstr(r.body, "\"id\":1"));
    free(r.body);
    r = http_json(f, "GET", "/api/campaigns/1", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"cin\":\"0102030405060708\",\"state\":\"pending\""));
    free(r.body);
    r = http_json(f, "GET", "/api/campaigns", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"kind\":\"install\""));
    free(r.body);
    r = http_json(f, "GET", "/api/campaigns/2", NULL);
    assert_true(http_is_error(&r, 404, "unknown_campaign"));
    free(r.body);
    r = http_json(f, "GET", "/api/cards/0102030405060708/events", NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.body[0] == '[');
    free(r.body);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_api_needs_the_bearer_token, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(unknown_paths_and_methods_get_404_and_405, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(an_oversized_body_gets_413_and_stores_nothing, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(bad_bodies_get_400_and_store_nothing, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(a_card_is_stored_and_its_keys_never_come_back, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(packages_are_read_from_their_own_section, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(personalization_and_campaigns, http_setup, http_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
