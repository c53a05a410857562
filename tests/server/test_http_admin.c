/*
 * The /admin remote-management endpoint over real HTTP (docs/server.md, "The
 * admin protocol"): wrong or missing protocol headers, unknown cards, wrong
 * content types, oversized bodies and unknown sessions each get a clear 4xx
 * and change nothing in the store (its digest of every row); a known card with
 * nothing to do gets 204, and that exchange's bytes are counted for the card
 * (P1), measured from the request and response the server handled.
 */
#include "http_test.h"

#define PROTO "X-Admin-Protocol: globalplatform-remote-admin/1.0"
#define FROM  "X-Admin-From: //se-id/cin/0102030405060708"
#define KEY1  "404142434445464748494A4B4C4D4E4F"
/* libcurl would send a form content type with any POST body: a terminal removes it. */
#define NO_CT   "Content-Type:"
#define RESP_CT "Content-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0"

static void add_card(http_fixture *f) {
    http_reply r = http_json(f, "PUT", "/api/cards/0102030405060708",
                             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1
                             "\",\"dek\":\"" KEY1 "\"}]}");
    assert_int_equal(r.status, 201);
    free(r.body);
}

/* Posts to path with headers and body, expects status and code, and checks that the store
   did not change. */
static void refused(http_fixture *f, const char *path, const char *const *headers, const char *body,
                    long status, const char *code) {
    uint8_t before[32], after[32];
    http_store_digest(f, before);
    http_reply r =
        http_call(f, "POST", path, headers, body ? body : "", body ? strlen(body) : 0, 0);
    if (!http_is_error(&r, status, code))
        fail_msg("POST %s: got %ld %s, wanted %ld %s", path, r.status, r.body, status, code);
    free(r.body);
    http_store_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void bad_protocol_headers_are_refused_and_change_nothing(void **state) {
    http_fixture *f = *state;
    add_card(f);
    static const char *const no_proto[] = {FROM, NO_CT, NULL};
    refused(f, "/admin", no_proto, NULL, 400, "bad_protocol");
    static const char *const old_proto[] = {"X-Admin-Protocol: globalplatform-remote-admin/0.9",
                                            FROM, NO_CT, NULL};
    refused(f, "/admin", old_proto, NULL, 400, "bad_protocol");
    static const char *const no_from[] = {PROTO, NO_CT, NULL};
    refused(f, "/admin", no_from, NULL, 400, "bad_admin_from");
    static const char *const bad_from[] = {PROTO, "X-Admin-From: //se-id/iin/0102", NULL};
    refused(f, "/admin", bad_from, NULL, 400, "bad_admin_from");
    static const char *const odd_cin[] = {PROTO, "X-Admin-From: //se-id/cin/010", NULL};
    refused(f, "/admin", odd_cin, NULL, 400, "bad_admin_from");
}

static void unknown_cards_and_sessions_are_refused_and_change_nothing(void **state) {
    http_fixture *f = *state;
    add_card(f);
    static const char *const stranger[] = {PROTO, "X-Admin-From: //se-id/cin/0A0B0C0D", NO_CT,
                                           NULL};
    refused(f, "/admin", stranger, NULL, 404, "unknown_card");
    static const char *const known[] = {PROTO, FROM, RESP_CT, NULL};
    refused(f, "/admin/session/00112233445566778899aabbccddeeff/1", known,
            "\xAF\x80\x23\x02\x90\x00\x00\x00", 404, "unknown_session");
}

static void wrong_content_types_and_oversized_bodies_are_refused(void **state) {
    http_fixture *f = *state;
    add_card(f);
    static const char *const json[] = {PROTO, FROM, "Content-Type: application/json", NULL};
    refused(f, "/admin", json, NULL, 415, "bad_content_type");
    /* The first POST has an empty body: one byte is too many. */
    static const char *const ok[] = {PROTO, FROM, NO_CT, NULL};
    refused(f, "/admin", ok, "x", 413, "too_large");
    /* A response script over the session route's limit. */
    static const char *const resp[] = {PROTO, FROM, RESP_CT, NULL};
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'A', n);
    big[n] = '\0';
    refused(f, "/admin/session/00112233445566778899aabbccddeeff/1", resp, big, 413, "too_large");
    free(big);
    static const char *const plain[] = {PROTO, FROM, "Content-Type: text/plain", NULL};
    refused(f, "/admin/session/00112233445566778899aabbccddeeff/1", plain, "x", 415,
            "bad_content_type");
}

/* P1: a poll with nothing to do ends the session (204), and its bytes are the card's. */
static void a_card_with_nothing_to_do_gets_204_and_its_bytes_are_counted_P1(void **state) {
    http_fixture *f = *state;
    add_card(f);
    static const char *const ok[] = {PROTO, FROM, NO_CT, NULL};
    http_reply r = http_call(f, "POST", "/admin", ok, "", 0, 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    free(r.body);

    char key_path[128], db[128];
    snprintf(key_path, sizeof key_path, "%s/master.key", f->dir);
    snprintf(db, sizeof db, "%s/server.db", f->dir);
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
    seam_store *s = NULL;
    assert_int_equal(seam_store_open(db, key, &s), SEAM_OK);
    seam_store_id cin = {.len = 8, .bytes = {1, 2, 3, 4, 5, 6, 7, 8}};
    seam_store_bytes *rows = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_bytes_list(s, 0, &cin, &rows, &count), SEAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].step, "poll");
    /* The request line and the two protocol headers alone are more than 90 bytes; the
       response is a status line and no body. */
    assert_true(rows[0].bytes.request >
                strlen("POST /admin HTTP/1.1\r\n" PROTO "\r\n" FROM "\r\n"));
    assert_true(rows[0].bytes.response >= strlen("HTTP/1.1 204 No Content\r\n\r\n"));
    assert_int_equal(rows[0].bytes.perso, 0);
    free(rows);
    seam_store_close(s);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_protocol_headers_are_refused_and_change_nothing,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(unknown_cards_and_sessions_are_refused_and_change_nothing,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(wrong_content_types_and_oversized_bodies_are_refused,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(
            a_card_with_nothing_to_do_gets_204_and_its_bytes_are_counted_P1, http_setup,
            http_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
