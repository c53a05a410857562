/*
 * kill -9 of the real `seam terminal run` inside the card work of a campaign personalized
 * in the terminal (issue 15: P6, P9; X5, X4; docs/terminal.md "Faults", docs/server.md
 * "Terminal campaigns"). The server is the built `seam server run --lease 1` (SQLite,
 * kill_harness.h); the terminal the built `seam terminal run --once` with its --state,
 * --domain-keys and --terminal-key, on a card image whose issuer created the terminal's
 * domain with the built `seam terminal perso domain`.
 *
 * The points lie between two card commands (or store transactions) of one delivery, where
 * no HTTP proxy can cut: the terminal SIGKILLs itself there through its test hook, the
 * environment variable SEAM_TEST_KILL_AT=<point> (src/perso/flows.c perso_kill_point,
 * src/terminal/delivery.c for "delivery.result"). Then the terminal runs again on the same
 * image and --state (no hook) until the target ends, and every time:
 *  - the target is done;
 *  - the card (read afterwards): the purse at the campaign's version, PIN 4321, balance 500
 *    (install) or 380 (update, after a spend of 120), no MANAGE ELF UPGRADE session, one
 *    instance of the purse;
 *  - the terminal's store: one restore record, no update journal left, no refusal logged
 *    (a step sent again, an INSTALL [for load] or a start, would be refused and logged);
 *  - the server's perso bytes: the sealed bytes once for the install, 0 for the update.
 */
#define _GNU_SOURCE
#include "kill_harness.h"
#include "delivery_rig.h"

#include <sqlite3.h>

#include "seam/perso.h"

#define PURSE_PERSO "DF010434333231DF0204000001F4" /* PIN 4321, balance 500: 14 bytes */

typedef struct {
    server_proc srv;
    char url[64];
} rig;

typedef struct {
    char image[160], state[160], log[160], domain[160], key[160];
    char cin[40];
    char pub[140];
} term_card;

/* A card with the terminal's domain (the real `seam terminal perso domain`), the
   terminal's key pair, registered with the server (ISD keys, purse perso, terminal key). */
static void card_new(rig *r, int i, term_card *c) {
    seam_card *card = NULL;
    char cmd[2048], path[160], body[256];
    memset(c, 0, sizeof *c);
    snprintf(c->image, sizeof c->image, "%s/../card%d.db", r->srv.dir, i);
    snprintf(c->state, sizeof c->state, "%s/../term%d.db", r->srv.dir, i);
    snprintf(c->log, sizeof c->log, "%s/../term%d.log", r->srv.dir, i);
    snprintf(c->domain, sizeof c->domain, "%s/../domain%d.keys", r->srv.dir, i);
    snprintf(c->key, sizeof c->key, "%s/../terminal%d.key", r->srv.dir, i);
    assert_int_equal(seam_card_create(c->image, 0, &card), SEAM_OK);
    seam_card_close(card);
    snprintf(cmd, sizeof cmd,
             "'%s' terminal perso domain --image '%s' --isd-keys default --aid A0000005591000DD "
             "--out '%s' 2>>'%s'",
             seam_bin(), c->image, c->domain, c->log);
    assert_int_equal(run_cmd(cmd, NULL, 0), 0);
    image_cin(c->image, c->cin);
    snprintf(cmd, sizeof cmd, "'%s' terminal key --out '%s'", seam_bin(), c->key);
    assert_int_equal(run_cmd(cmd, c->pub, sizeof c->pub), 0);
    snprintf(path, sizeof path, "/api/cards/%s", c->cin);
    free(api(&r->srv, "PUT", path, NULL,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}",
             0, 201));
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", c->cin);
    free(api(&r->srv, "PUT", path, NULL, "{\"data\":\"" PURSE_PERSO "\"}", 0, 204));
    snprintf(path, sizeof path, "/api/cards/%s/terminal", c->cin);
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", c->pub);
    free(api(&r->srv, "PUT", path, NULL, body, 0, 204));
}

static int terminal_campaign(const rig *r, const char *kind, const char *version, const char *cin) {
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\",\"targets\":[\"%s\"],"
        "\"personalization\":\"terminal\"}",
        kind, version, cin);
    char *res = api(&r->srv, "POST", "/api/campaigns", NULL, body, 0, 201);
    cJSON *o = cJSON_Parse(res);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(res);
    return id;
}

/* `seam terminal run --once` on card c with its domain and key, SIGKILLed at kill_at
   (NULL: no hook); its exit status (128 + 9 when the hook killed it). */
static int terminal_once(const rig *r, const term_card *c, const char *kill_at) {
    char cmd[2048], env[96] = "";
    if (kill_at)
        snprintf(env, sizeof env, "SEAM_TEST_KILL_AT=%s ", kill_at);
    snprintf(cmd, sizeof cmd,
             "%sexec '%s' terminal run --once --server %s --image '%s' --state '%s' "
             "--domain-keys '%s' --terminal-key '%s' 2>>'%s'",
             env, seam_bin(), r->url, c->image, c->state, c->domain, c->key, c->log);
    return run_cmd(cmd, NULL, 0);
}

typedef struct {
    char state[16], reason[256];
    int claims;
    double perso;
} target_view;

static target_view target_get(const rig *r, int id, const char *cin) {
    target_view v;
    char path[64];
    memset(&v, 0, sizeof v);
    target_read(&r->srv, id, cin, v.state, &v.claims, v.reason);
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    char *body = api(&r->srv, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(body), *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "targets")) {
        if (!strcasecmp(cJSON_GetObjectItem(t, "cin")->valuestring, cin))
            v.perso = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "bytes"), "perso")->valuedouble;
    }
    cJSON_Delete(o);
    free(body);
    return v;
}

/* Counts the instances of the purse package the ISD's GET STATUS lists. */
static seam_err count_purse(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *e) {
    (void)scope;
    if (e->elf.len == sizeof purse_pkg && !memcmp(e->elf.bytes, purse_pkg, sizeof purse_pkg))
        (*(int *)ctx)++;
    return SEAM_OK;
}

typedef struct {
    uint16_t version, verify;
    uint8_t upgrade;
    uint32_t balance;
    int instances;
} card_facts;

static card_facts card_read(const term_card *c) {
    card_facts f;
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    uint16_t sw = 0;
    memset(&f, 0, sizeof f);
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    seam_gp *g = isd_session(&link);
    f.version = registry_purse_version(g);
    f.upgrade = registry_purse_upgrade(g);
    assert_int_equal(seam_gp_get_status(g, SEAM_GP_APPS, NULL, 0, count_purse, &f.instances, &sw),
                     SEAM_OK);
    seam_gp_free(g);
    if (f.version && f.instances) {
        f.verify = purse_open(&link);
        if (f.verify == 0x9000)
            f.balance = purse_balance(&link);
    }
    seam_gp_link_close(&link);
    seam_card_close(card);
    return f;
}

/* Rows of table in the terminal's --state file. */
static int state_rows(const term_card *c, const char *table) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char sql[96];
    int n = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    assert_int_equal(sqlite3_open_v2(c->state, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void card_spend(const term_card *c, uint8_t amount) {
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(purse_open(&link), 0x9000);
    const uint8_t debit[] = {0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, amount};
    assert_int_equal(purse_send(&link, debit, sizeof debit, NULL, NULL), 0x9000);
    seam_gp_link_close(&link);
    seam_card_close(card);
}

/* Campaign id on card c: the terminal killed at each point of kill_at in turn ("a,b,c":
   killed at a, then at b in a later run, ...; NULL: not killed), then run again on the
   same image and state until the target ends (a killed session's claim expires after the
   1 s lease; a run before that finds nothing to do). */
static target_view drive(rig *r, const term_card *c, int id, const char *kill_at) {
    char chain[256], *next = chain, *point = NULL;
    snprintf(chain, sizeof chain, "%s", kill_at ? kill_at : "");
    point = *next ? strsep(&next, ",") : NULL;
    target_view v;
    for (int i = 0;; i++) {
        int st = terminal_once(r, c, point);
        if (st == 128 + SIGKILL && point)
            point = next ? strsep(&next, ",") : NULL;
        else
            assert_int_equal(st, 0);
        v = target_get(r, id, c->cin);
        if (!strcmp(v.state, "done") || !strcmp(v.state, "failed"))
            break;
        if (i == 80)
            fail_msg("the target did not end (state %s)", v.state);
        usleep(200 * 1000);
    }
    if (point)
        fail_msg("the target ended before the terminal reached %s", point);
    return v;
}

static void rig_up(rig *r) {
    server_folder(&r->srv, NULL);
    server_spawn(&r->srv, 1);
    upload(&r->srv, "purse.wasm");
    upload(&r->srv, "purse_v2.wasm");
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)r->srv.port);
}

static void rig_down(rig *r) {
    server_kill(&r->srv);
    server_folder_remove(&r->srv);
}

/* The install of 1.0 on card i killed at kill_at, then the checks; deliveries: how many
   times the server sends the delivery (twice when the card shows the instance not yet
   PERSONALIZED after the kill: the sealed bytes cross the connection again). */
static void install_killed_at(rig *r, int i, const char *kill_at, int deliveries, term_card *c) {
    card_new(r, i, c);
    int id = terminal_campaign(r, "install", "1.0", c->cin);
    target_view v = drive(r, c, id, kill_at);
    card_facts f = card_read(c);
    printf("# install killed at %s: %s (%s), %d claim(s), perso %.0f; card: version %04X, %d "
           "instance(s), VERIFY %04X, balance %u, upgrade %02X; store: %d record(s), %d "
           "journal row(s)\n",
           kill_at ? kill_at : "-", v.state, v.reason, v.claims, v.perso, f.version, f.instances,
           f.verify, (unsigned)f.balance, f.upgrade, state_rows(c, "perso_records"),
           state_rows(c, "perso_journal"));
    assert_string_equal(v.state, "done");
    assert_true(v.perso == deliveries * (14 + SEAM_PERSO_SEAL_OVERHEAD)); /* the row's bytes */
    assert_int_equal(f.version, 0x0100);
    assert_int_equal(f.instances, 1);
    assert_int_equal(f.upgrade, 0x00);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 500);
    assert_int_equal(state_rows(c, "perso_records"), 1);
    assert_int_equal(state_rows(c, "perso_journal"), 0);
    assert_int_equal(state_rows(c, "perso_refusals"), 0); /* no step sent twice and refused */
}

/* The install without a kill, 120 spent, then the update to 2.0 killed at kill_at. */
static void update_killed_at(rig *r, int i, const char *kill_at) {
    term_card c;
    install_killed_at(r, i, NULL, 1, &c);
    card_spend(&c, 120);
    int id = terminal_campaign(r, "update", "2.0", c.cin);
    target_view v = drive(r, &c, id, kill_at);
    card_facts f = card_read(&c);
    printf("# update killed at %s: %s (%s), %d claim(s), perso %.0f; card: version %04X, %d "
           "instance(s), VERIFY %04X, balance %u, upgrade %02X; store: %d record(s), %d "
           "journal row(s)\n",
           kill_at, v.state, v.reason, v.claims, v.perso, f.version, f.instances, f.verify,
           (unsigned)f.balance, f.upgrade, state_rows(&c, "perso_records"),
           state_rows(&c, "perso_journal"));
    assert_string_equal(v.state, "done");
    assert_true(v.perso == 0); /* P9 */
    assert_int_equal(f.version, 0x0200);
    assert_int_equal(f.instances, 1);
    assert_int_equal(f.upgrade, 0x00);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 380);
    assert_int_equal(state_rows(&c, "perso_records"), 1);
    assert_int_equal(state_rows(&c, "perso_journal"), 0);
    assert_int_equal(state_rows(&c, "perso_refusals"), 0);
}

/* X5, X4, P6: the terminal killed inside an install's card work (after the LOAD, after
   the INSTALL before the store's record and SET STATUS PERSONALIZED, after the record
   before SET STATUS, after the flow before the result), then run again: done once; and
   killed at the three first points in three runs in a row (each resumed run cut at the
   next step). */
static void terminal_killed_inside_an_install_delivery_resumes_X5_X4_P6(void **state) {
    (void)state;
    static const char *const points[] = {"install.loaded", "install.installed", "install.exported",
                                         "delivery.result",
                                         "install.loaded,install.installed,install.exported"};
    static const int deliveries[] = {2, 2, 2, 1, 4};
    rig r;
    term_card c;
    rig_up(&r);
    for (size_t k = 0; k < sizeof points / sizeof points[0]; k++)
        install_killed_at(&r, (int)k, points[k], deliveries[k], &c);
    rig_down(&r);
}

/* X5, X4, P9: the terminal killed inside an update's card work (after the export into
   the store, after MANAGE ELF UPGRADE start, after the LOAD before migrate, after migrate,
   after the flow before the result), then run again: done once, PIN and balance kept;
   and killed at four points in four runs in a row. */
static void terminal_killed_inside_an_update_delivery_resumes_X5_X4_P9(void **state) {
    (void)state;
    static const char *const points[] = {"update.exported",
                                         "update.started",
                                         "update.loaded",
                                         "update.migrated",
                                         "delivery.result",
                                         "update.exported,update.started,update.loaded,"
                                         "update.migrated"};
    rig r;
    rig_up(&r);
    for (size_t k = 0; k < sizeof points / sizeof points[0]; k++)
        update_killed_at(&r, 10 + (int)k, points[k]);
    rig_down(&r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(terminal_killed_inside_an_install_delivery_resumes_X5_X4_P6),
        cmocka_unit_test(terminal_killed_inside_an_update_delivery_resumes_X5_X4_P9),
    };
    int failed =
        cmocka_run_group_tests_name("seam terminal kill -9 inside a delivery", tests, NULL, NULL);
    spawned_kill_all();
    curl_global_cleanup();
    return failed;
}
