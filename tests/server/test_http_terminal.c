/*
 * End to end: a real server (in this process, 127.0.0.1, port 0) and the real
 * `seam terminal run --once` (the built binary, a subprocess) with a card
 * image (P2: the server reaches the card only through the terminal). The
 * purse is installed with its personalization, then updated to 2.0: each
 * campaign's target done after one terminal session, the update's
 * personalization bytes 0 in the server's report and the balance kept on the
 * card (P1, P8).
 */
#include "http_test.h"

#include <cjson/cJSON.h>

#include "seam/card.h"
#include "seam/gp.h"
#include "seam/link.h"

#define KEY1 "404142434445464748494A4B4C4D4E4F"

static const uint8_t purse_app[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

typedef struct {
    char image[160];
    char cin[40]; /* the card's CIN in hex (its own, or the one given with --card-id) */
    bool card_has_cin;
} card_image;

static void upload(http_fixture *f, const char *name) {
    size_t len = 0;
    uint8_t *module = http_read_app(name, &len);
    static const char *const h[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(f, "POST", "/api/packages", h, module, len, 1);
    assert_int_equal(r.status, 201);
    free(r.body);
    free(module);
}

/* Creates the card image and reads its CIN (GET DATA 45) as the terminal will. */
static void make_card(http_fixture *f, card_image *c) {
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX], answer[64];
    size_t atr_len = 0, got = 0;
    snprintf(c->image, sizeof c->image, "%s/card.db", f->dir);
    assert_int_equal(seam_card_create(c->image, 0, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00,
                                         0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(
        seam_gp_link_transmit(&link, select_isd, sizeof select_isd, answer, sizeof answer, &got),
        SEAM_OK);
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    assert_int_equal(
        seam_gp_link_transmit(&link, get_cin, sizeof get_cin, answer, sizeof answer, &got),
        SEAM_OK);
    c->card_has_cin = got > 4 && answer[got - 2] == 0x90 && answer[0] == 0x45 && answer[1] > 0;
    if (c->card_has_cin) {
        for (size_t i = 0; i < answer[1]; i++)
            snprintf(c->cin + 2 * i, 3, "%02X", answer[2 + i]);
    } else {
        snprintf(c->cin, sizeof c->cin, "0102030405060708");
    }
    seam_gp_link_close(&link);
    seam_card_close(card); /* the terminal process opens it */
}

/* One `seam terminal run --once` session; returns its exit status. */
static int terminal_once(http_fixture *f, const card_image *c) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char cmd[1024], id[64] = "";
    if (!c->card_has_cin)
        snprintf(id, sizeof id, "--card-id %s", c->cin);
    snprintf(cmd, sizeof cmd,
             "'%s/seam' terminal run --server http://127.0.0.1:%u --image '%s' --state "
             "'%s/terminal.db' --interval 0 --once %s >/dev/null",
             build ? build : "build/release", (unsigned)f->port, c->image, f->dir, id);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* State and personalization bytes of campaign id's only target. */
static void target(http_fixture *f, int id, char state[16], double *perso, double *total) {
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    http_reply r = http_json(f, "GET", path, NULL);
    assert_int_equal(r.status, 200);
    cJSON *o = cJSON_Parse(r.body);
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "targets"), 0);
    assert_non_null(t);
    snprintf(state, 16, "%s", cJSON_GetObjectItem(t, "state")->valuestring);
    cJSON *b = cJSON_GetObjectItem(t, "bytes");
    *perso = cJSON_GetObjectItem(b, "perso")->valuedouble;
    *total = cJSON_GetObjectItem(b, "total")->valuedouble;
    cJSON_Delete(o);
    free(r.body);
}

static int campaign(http_fixture *f, const char *kind, const char *version, const char *cin) {
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\",\"targets\":[\"%s\"]}",
        kind, version, cin);
    http_reply r = http_json(f, "POST", "/api/campaigns", body);
    assert_int_equal(r.status, 201);
    cJSON *o = cJSON_Parse(r.body);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(r.body);
    return id;
}

/* The purse's balance after VERIFY 4321, read on the image once the terminal is gone. */
static uint32_t purse_balance(const card_image *c) {
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX], answer[64];
    size_t atr_len = 0, got = 0;
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    uint8_t select[5 + sizeof purse_app + 1] = {0x00, 0xA4, 0x04, 0x00, sizeof purse_app};
    memcpy(select + 5, purse_app, sizeof purse_app);
    static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x00, 0x04, '4', '3', '2', '1'};
    static const uint8_t balance[] = {0x80, 0x50, 0x00, 0x00, 0x00};
    assert_int_equal(
        seam_gp_link_transmit(&link, select, sizeof select, answer, sizeof answer, &got), SEAM_OK);
    assert_int_equal(answer[got - 2], 0x90);
    assert_int_equal(
        seam_gp_link_transmit(&link, verify, sizeof verify, answer, sizeof answer, &got), SEAM_OK);
    assert_int_equal(answer[got - 2], 0x90);
    assert_int_equal(
        seam_gp_link_transmit(&link, balance, sizeof balance, answer, sizeof answer, &got),
        SEAM_OK);
    assert_int_equal(got, 10);
    uint32_t v = (uint32_t)answer[0] << 24 | (uint32_t)answer[1] << 16 | (uint32_t)answer[2] << 8 |
                 answer[3];
    seam_gp_link_close(&link);
    seam_card_close(card);
    return v;
}

static void seam_terminal_installs_then_updates_the_purse_end_to_end_P1_P2_P8(void **state) {
    http_fixture *f = *state;
    card_image c;
    make_card(f, &c);
    upload(f, "purse.wasm");
    upload(f, "purse_v2.wasm");
    char path[96], body[256];
    snprintf(path, sizeof path, "/api/cards/%s", c.cin);
    snprintf(body, sizeof body,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}");
    http_reply r = http_json(f, "PUT", path, body);
    assert_int_equal(r.status, 201);
    free(r.body);
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", c.cin);
    r = http_json(f, "PUT", path, "{\"data\":\"DF010434333231DF0204000001F4\"}");
    assert_int_equal(r.status, 204);
    free(r.body);

    char st[16];
    double perso = 0, total_install = 0, total_update = 0;
    int install = campaign(f, "install", "1.0", c.cin);
    assert_int_equal(terminal_once(f, &c), 0);
    target(f, install, st, &perso, &total_install);
    assert_string_equal(st, "done");
    assert_int_equal(perso, 14);
    assert_int_equal(purse_balance(&c), 500);

    int update = campaign(f, "update", "2.0", c.cin);
    assert_int_equal(terminal_once(f, &c), 0);
    target(f, update, st, &perso, &total_update);
    assert_string_equal(st, "done");
    assert_int_equal(perso, 0); /* P8 */
    assert_int_equal(purse_balance(&c), 500);
    printf("# seam terminal: install %.0f bytes, update %.0f bytes (perso 0)\n", total_install,
           total_update);
    assert_int_equal(seam_card_remove(c.image), SEAM_OK);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            seam_terminal_installs_then_updates_the_purse_end_to_end_P1_P2_P8, http_setup,
            http_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
