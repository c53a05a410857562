/*
 * A server on a store of either backend (argv[1]: sqlite or postgresql, as
 * tests/server/store_backend.c starts them):
 *
 * - `seam server init DIR --db URL` puts what init stores (the store's key
 *   check, the bearer token's hash) into the chosen store and names it in the
 *   config: a server started from the folder alone serves the admin API with
 *   that token, and so does a second folder holding the same config and master
 *   key (two servers on one store). A folder of another master key is refused
 *   on that store and leaves nothing behind (X5).
 * - One server with a pool of worker threads (each with its own store
 *   handle) serves concurrent admin sessions of different cards: a fleet of
 *   CARDS in-process cards relayed by THREADS terminal threads at once, an
 *   install then an update campaign of the purse; every target ends done
 *   after exactly one claim, every card ran one session of two scripts (no
 *   card driven twice, none forgotten), the campaigns end done and every card
 *   answers SELECT of the purse (P2, X5).
 */
#include "http_test.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "seam/card.h"
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/terminal.h"
#include "store_backend.h"

#define CARDS   12
#define THREADS 8 /* terminal threads: more sessions at once than the server's workers */
#define WORKERS 4 /* the server's worker threads */
#define KEY1    "404142434445464748494A4B4C4D4E4F"

static const char *backend_name = "sqlite";

/* A fresh folder (mkdtemp) into dir. */
static void temp_folder(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/seam-pool-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static bool file_contains(const char *path, const char *needle) {
    char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void remove_tree(const char *dir) {
    nftw(dir, http_test_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* Starts a server on folder dir (its config names the store) with workers threads. */
static void start(http_fixture *f, const char *dir, int workers) {
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    seam_server_options o = {.dir = f->dir, .listen = "127.0.0.1:0", .threads = workers};
    assert_int_equal(seam_server_start(&o, &f->server), SEAM_OK);
    f->port = seam_server_port(f->server);
}

static void init_db_puts_the_token_in_the_chosen_store_X5(void **state) {
    (void)state;
    char top[64], a[96], b[96], c[96], path[160];
    temp_folder(top, sizeof top);
    snprintf(a, sizeof a, "%s/a", top);
    snprintf(b, sizeof b, "%s/b", top);
    snprintf(c, sizeof c, "%s/c", top);
    char url[1024];
    snprintf(url, sizeof url, "%s", backend_fresh_url());
    http_fixture f1, f2;
    memset(&f1, 0, sizeof f1);
    memset(&f2, 0, sizeof f2);
    assert_int_equal(seam_server_init_db(a, url, NULL, 0, f1.token), SEAM_OK);
    /* the config names the store; the default SQLite file was not made */
    snprintf(path, sizeof path, "%s/config", a);
    char line[1100];
    snprintf(line, sizeof line, "db=%s\n", url);
    assert_true(file_contains(path, line));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* a URL may carry a password */
    snprintf(path, sizeof path, "%s/server.db", a);
    assert_int_not_equal(access(path, F_OK), 0);
    /* started from the folder alone, the server takes the token */
    start(&f1, a, 2);
    http_reply r = http_call(&f1, "GET", "/api/packages", NULL, NULL, 0, 1);
    assert_int_equal(r.status, 200);
    free(r.body);
    r = http_call(&f1, "GET", "/api/packages", NULL, NULL, 0, 0);
    assert_int_equal(r.status, 401);
    free(r.body);
    /* a second folder with the same config and master key: a second server on the store */
    assert_int_equal(mkdir(b, 0700), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp -p %s/config %s/master.key %s/", a, a, b);
    assert_int_equal(system(cmd), 0);
    memcpy(f2.token, f1.token, sizeof f2.token);
    start(&f2, b, 2);
    r = http_call(&f2, "GET", "/api/cards", NULL, NULL, 0, 1);
    assert_int_equal(r.status, 200);
    free(r.body);
    seam_server_stop(f2.server);
    seam_server_stop(f1.server);
    /* another master key on that store: refused, and the folder can be made again */
    char token[SEAM_SERVER_TOKEN_SIZE];
    assert_int_equal(seam_server_init_db(c, url, NULL, 0, token), SEAM_ERR_SERVER_MASTER_KEY);
    snprintf(path, sizeof path, "%s/master.key", c);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/config", c);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/tls.key", c);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a URL with a line break would forge config lines */
    assert_int_equal(seam_server_init_db(c, "sqlite:/tmp/x\nlisten=0.0.0.0:80", NULL, 0, token),
                     SEAM_ERR_ARG);
    remove_tree(top);
}

/* ---- a fleet of in-process cards against one server with worker threads ---- */

typedef struct {
    seam_card *card[CARDS];
    char cin[CARDS][SEAM_TERMINAL_CIN_HEX];
} cards;

static seam_err open_card(void *ctx, size_t index, seam_gp_link *out) {
    cards *c = ctx;
    return seam_link_card(c->card[index], out);
}

/* Powers card on through a link, selects the ISD, sends apdu; the answer to answer[0..*got). */
static void card_ask(seam_card *card, const uint8_t *apdu, size_t len, uint8_t *answer, size_t cap,
                     size_t *got) {
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00,
                                         0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00};
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_gp_link_transmit(&link, select_isd, sizeof select_isd, answer, cap, got),
                     SEAM_OK);
    assert_int_equal(seam_gp_link_transmit(&link, apdu, len, answer, cap, got), SEAM_OK);
    seam_gp_link_close(&link);
}

static void card_create(cards *c, size_t i, const char *dir) {
    char path[160];
    snprintf(path, sizeof path, "%s/card%zu.db", dir, i);
    assert_int_equal(seam_card_create(path, 0, &c->card[i]), SEAM_OK);
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t answer[64];
    size_t got = 0;
    card_ask(c->card[i], get_cin, sizeof get_cin, answer, sizeof answer, &got);
    assert_true(got > 4 && answer[0] == 0x45 && answer[1] + 4u == got);
    for (size_t k = 0; k < answer[1]; k++)
        snprintf(c->cin[i] + 2 * k, 3, "%02X", answer[2 + k]);
}

static void put(http_fixture *f, const char *path, const char *type, const void *body, size_t len,
                long want) {
    char header[96];
    snprintf(header, sizeof header, "Content-Type: %s", type);
    const char *const h[] = {header, NULL};
    http_reply r =
        http_call(f, strncmp(path, "/api/cards/", 11) ? "POST" : "PUT", path, h, body, len, 1);
    assert_int_equal(r.status, want);
    free(r.body);
}

static int campaign(http_fixture *f, const cards *c, const char *kind, const char *version) {
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\","
                     "\"targets\":[",
                     kind, version);
    for (size_t i = 0; i < CARDS; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s\"%s\"", i ? "," : "", c->cin[i]);
    snprintf(body + n, sizeof body - (size_t)n, "]}");
    http_reply r = http_json(f, "POST", "/api/campaigns", body);
    assert_int_equal(r.status, 201);
    cJSON *o = cJSON_Parse(r.body);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(r.body);
    return id;
}

/* Every card one session of two scripts ending 204, all at once from THREADS threads. */
static void run_fleet(http_fixture *f, cards *c) {
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%u", (unsigned)f->port);
    seam_terminal_options session = {.server = server, .max_attempts = 3};
    seam_terminal_fleet_card per_card[CARDS];
    seam_terminal_fleet_report report;
    seam_terminal_fleet_options o = {.cards = CARDS,
                                     .threads = THREADS,
                                     .open = open_card,
                                     .ctx = c,
                                     .session = &session,
                                     .per_card = per_card};
    assert_int_equal(seam_terminal_fleet_run(&o, &report), SEAM_OK);
    assert_int_equal(report.done, CARDS);
    for (size_t i = 0; i < CARDS; i++) {
        assert_string_equal(per_card[i].cin, c->cin[i]);
        assert_string_equal(per_card[i].outcome, "done");
        assert_int_equal(per_card[i].sessions, 1);
        assert_int_equal(per_card[i].scripts, 2); /* INITIALIZE UPDATE, then the plan */
    }
}

/* Campaign id ended done, every target done after one claim, each card claimed once. */
static void check_campaign(http_fixture *f, const cards *c, int id) {
    char path[96];
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    http_reply r = http_json(f, "GET", path, NULL);
    assert_int_equal(r.status, 200);
    cJSON *o = cJSON_Parse(r.body);
    assert_string_equal(cJSON_GetObjectItem(o, "state")->valuestring, "done");
    cJSON *targets = cJSON_GetObjectItem(o, "targets");
    assert_int_equal(cJSON_GetArraySize(targets), CARDS);
    for (int i = 0; i < CARDS; i++) {
        cJSON *t = cJSON_GetArrayItem(targets, i);
        assert_string_equal(cJSON_GetObjectItem(t, "state")->valuestring, "done");
        assert_int_equal(cJSON_GetObjectItem(t, "claims")->valueint, 1);
    }
    cJSON_Delete(o);
    free(r.body);
    for (size_t i = 0; i < CARDS; i++) {
        snprintf(path, sizeof path, "/api/cards/%s/events", c->cin[i]);
        r = http_json(f, "GET", path, NULL);
        assert_int_equal(r.status, 200);
        cJSON *events = cJSON_Parse(r.body);
        int claimed = 0, done = 0;
        for (int k = 0; k < cJSON_GetArraySize(events); k++) {
            cJSON *e = cJSON_GetArrayItem(events, k);
            if (cJSON_GetObjectItem(e, "campaign")->valueint != id)
                continue;
            claimed += !strcmp(cJSON_GetObjectItem(e, "kind")->valuestring, "claimed");
            done += !strcmp(cJSON_GetObjectItem(e, "kind")->valuestring, "done");
        }
        assert_int_equal(claimed, 1);
        assert_int_equal(done, 1);
        cJSON_Delete(events);
        free(r.body);
    }
}

static void worker_threads_serve_concurrent_sessions_of_different_cards_X5(void **state) {
    (void)state;
    char top[64], dir[96];
    temp_folder(top, sizeof top);
    snprintf(dir, sizeof dir, "%s/srv", top);
    http_fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(seam_server_init_db(dir, backend_fresh_url(), NULL, 0, f.token), SEAM_OK);
    start(&f, dir, WORKERS);
    cards *c = calloc(1, sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < CARDS; i++) {
        card_create(c, i, top);
        char path[96], body[256];
        snprintf(path, sizeof path, "/api/cards/%s", c->cin[i]);
        snprintf(body, sizeof body, "%s",
                 "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1
                 "\",\"dek\":\"" KEY1 "\"}]}");
        put(&f, path, "application/json", body, strlen(body), 201);
    }
    const char *apps[] = {"purse.wasm", "purse_v2.wasm"};
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        uint8_t *module = http_read_app(apps[i], &len);
        put(&f, "/api/packages", "application/wasm", module, len, 201);
        free(module);
    }
    int install = campaign(&f, c, "install", "1.0");
    run_fleet(&f, c);
    check_campaign(&f, c, install);
    int update = campaign(&f, c, "update", "2.0");
    run_fleet(&f, c);
    check_campaign(&f, c, update);
    /* the cards themselves: the purse answers on each */
    static const uint8_t select_purse[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0,
                                           0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    for (size_t i = 0; i < CARDS; i++) {
        uint8_t answer[64];
        size_t got = 0;
        card_ask(c->card[i], select_purse, sizeof select_purse, answer, sizeof answer, &got);
        assert_true(got >= 2 && answer[got - 2] == 0x90 && answer[got - 1] == 0x00);
        seam_card_close(c->card[i]);
    }
    free(c);
    seam_server_stop(f.server);
    remove_tree(top);
}

int main(int argc, char **argv) {
    backend_name = argc > 1 ? argv[1] : "sqlite";
    (void)http_setup, (void)http_teardown;
    if (backend_start(backend_name) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend_name);
        return 1;
    }
    if (seam_terminal_global_init() != SEAM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_db_puts_the_token_in_the_chosen_store_X5),
        cmocka_unit_test(worker_threads_serve_concurrent_sessions_of_different_cards_X5),
    };
    char group[64];
    snprintf(group, sizeof group, "server threads and init --db on %s", backend_name);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
