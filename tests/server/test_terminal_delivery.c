/*
 * Campaigns personalized in the terminal (issue 15: P6, P9; docs/server.md "Terminal
 * campaigns", docs/terminal.md "Deliveries"), end to end with the real binaries: the
 * built `seam server run` (a subprocess, SQLite or PostgreSQL: kill_harness.h) and the
 * built `seam terminal run --once` (a subprocess on a card image, with its --state,
 * --domain-keys and --terminal-key). The card's issuer creates the terminal's domain in
 * test setup with the built `seam terminal perso domain` (ISD: INSTALL of an SSD with
 * Authorized Management, PUT KEY handover to fresh keys, the key file written 0600); the
 * stand-in terminals of this file do it in process (tests/perso/perso_host.h).
 *
 * What is checked is what a user would see: the target's state and reason, the
 * server's byte report (perso = the sealed bytes for an install, 0 for an update), the
 * purse on the card (its version in the registry, PIN 4321, the balance), the restore
 * record in the terminal's store, and for every refusal the whole card state unchanged
 * (fingerprint of every nvm record, tests/card/card_host.h).
 */
#define _GNU_SOURCE
#include "kill_harness.h"
#include "delivery_rig.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* the card host's send() is not the socket's */
#define send card_host_send
#include "perso/perso_host.h"
#undef send
#include "seam/perso.h"
#include "store_backend.h"

#define PURSE_PERSO "DF010434333231DF0204000001F4" /* PIN 4321, balance 500: 14 bytes */

typedef struct {
    server_proc srv;
    char url[64];
} rig;

typedef struct {
    char image[160], state[160], log[160], domain[160], key[160];
    char cin[40];
    char pub[140]; /* the terminal's public key, hex */
} term_card;

static void rig_up(rig *r, const char *db) {
    server_folder(&r->srv, db);
    server_spawn(&r->srv, 1);
    upload(&r->srv, "purse.wasm");
    upload(&r->srv, "purse_v2.wasm");
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)r->srv.port);
}

static void rig_down(rig *r) {
    server_kill(&r->srv);
    server_folder_remove(&r->srv);
}

/* A card personalized by its issuer: the image, the terminal's domain created on it and
   handed over by the real `seam terminal perso domain` (its key file, 0600), the
   terminal's key pair (`seam terminal key`), and the card registered with the server (the
   ISD key set, the purse's personalization data, and the terminal's public key unless
   !with_key). */
static void card_new(rig *r, int i, term_card *c, bool with_key) {
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
    assert_int_equal(strlen(c->pub), 130);
    snprintf(path, sizeof path, "/api/cards/%s", c->cin);
    free(api(&r->srv, "PUT", path, NULL,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}",
             0, 201));
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", c->cin);
    free(api(&r->srv, "PUT", path, NULL, "{\"data\":\"" PURSE_PERSO "\"}", 0, 204));
    if (with_key) {
        snprintf(path, sizeof path, "/api/cards/%s/terminal", c->cin);
        snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", c->pub);
        free(api(&r->srv, "PUT", path, NULL, body, 0, 204));
    }
}

/* A terminal campaign of kind on card cin. */
static int terminal_campaign(const rig *r, const char *kind, const char *version, const char *cin) {
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\",\"targets\":[\"%s\"],"
        "\"personalization\":\"terminal\"}",
        kind, version, cin);
    char *res = api(&r->srv, "POST", "/api/campaigns", NULL, body, 0, 201);
    cJSON *o = cJSON_Parse(res);
    assert_string_equal(cJSON_GetObjectItem(o, "personalization")->valuestring, "terminal");
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(res);
    return id;
}

/* `seam terminal run --once` on card c (extra: more options, may be ""); its exit status. */
static int terminal_once(const rig *r, const term_card *c, const char *extra) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' terminal run --once --server %s --image '%s' --state '%s' %s 2>>'%s'",
             seam_bin(), r->url, c->image, c->state, extra, c->log);
    return run_cmd(cmd, NULL, 0);
}

/* The usual options: the terminal's domain and key. */
static void with_domain(const term_card *c, char *out, size_t cap) {
    snprintf(out, cap, "--domain-keys '%s' --terminal-key '%s'", c->domain, c->key);
}

typedef struct {
    char state[16], reason[256];
    double perso, request, response;
} target_view;

static target_view target_get(const rig *r, int id, const char *cin) {
    target_view v;
    char path[64];
    memset(&v, 0, sizeof v);
    target_read(&r->srv, id, cin, v.state, NULL, v.reason);
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    char *body = api(&r->srv, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(body), *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "targets")) {
        if (strcasecmp(cJSON_GetObjectItem(t, "cin")->valuestring, cin))
            continue;
        cJSON *b = cJSON_GetObjectItem(t, "bytes");
        v.perso = cJSON_GetObjectItem(b, "perso")->valuedouble;
        v.request = cJSON_GetObjectItem(b, "request")->valuedouble;
        v.response = cJSON_GetObjectItem(b, "response")->valuedouble;
    }
    cJSON_Delete(o);
    free(body);
    return v;
}

/* What the card says once the terminal is gone; its whole state's digest in digest. */
typedef struct {
    uint16_t version, verify;
    uint8_t upgrade;
    uint32_t balance;
    uint8_t digest[32];
} card_facts;

static card_facts card_read(const term_card *c) {
    card_facts f;
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    memset(&f, 0, sizeof f);
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    fingerprint(card, f.digest);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    seam_gp *g = isd_session(&link);
    f.version = registry_purse_version(g);
    f.upgrade = registry_purse_upgrade(g);
    seam_gp_free(g);
    if (f.version) {
        f.verify = purse_open(&link);
        if (f.verify == 0x9000)
            f.balance = purse_balance(&link);
    }
    seam_gp_link_close(&link);
    seam_card_close(card);
    return f;
}

/* The whole card state's digest alone (no APDU sent: reading the purse would change it). */
static void card_digest(const term_card *c, uint8_t digest[32]) {
    seam_card *card = NULL;
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    fingerprint(card, digest);
    seam_card_close(card);
}

/* Restore records the terminal's store (its --state file) holds. */
static int store_records(const term_card *c) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int n = -1;
    assert_int_equal(sqlite3_open_v2(c->state, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM perso_records", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
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

/* P6: the install campaign personalized in the terminal, on card c: done, the purse works,
   the server's perso bytes are the sealed bytes, the terminal's store holds the record. */
static void install_in_the_terminal(rig *r, const term_card *c, target_view *out) {
    char opts[512];
    int id = terminal_campaign(r, "install", "1.0", c->cin);
    with_domain(c, opts, sizeof opts);
    assert_int_equal(terminal_once(r, c, opts), 0);
    target_view v = target_get(r, id, c->cin);
    printf("# install in the terminal: %s (%s), request %.0f, response %.0f, perso %.0f\n", v.state,
           v.reason, v.request, v.response, v.perso);
    assert_string_equal(v.state, "done");
    assert_true(v.perso == 14 + SEAM_PERSO_SEAL_OVERHEAD); /* the sealed perso, nothing else */
    card_facts f = card_read(c);
    assert_int_equal(f.version, 0x0100);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 500);
    assert_int_equal(store_records(c), 1);
    *out = v;
}

static void p6_install_personalized_in_the_terminal(const char *db) {
    rig r;
    term_card c;
    target_view v;
    rig_up(&r, db);
    card_new(&r, 0, &c, true);
    install_in_the_terminal(&r, &c, &v);
    rig_down(&r);
}

static void p6_install_personalized_in_the_terminal_sqlite(void **state) {
    (void)state;
    p6_install_personalized_in_the_terminal(NULL);
}

static void p6_install_personalized_in_the_terminal_postgresql(void **state) {
    (void)state;
    p6_install_personalized_in_the_terminal(backend_fresh_url());
}

/* P9: the purse in use (spent 120), then the update to 2.0 personalized in the terminal
   from the card's own record: PIN and balance kept, and the server's report shows no
   personalization byte on the connection. */
static void p9_update_personalized_in_the_terminal(const char *db) {
    rig r;
    term_card c;
    target_view installed;
    char opts[512];
    rig_up(&r, db);
    card_new(&r, 0, &c, true);
    install_in_the_terminal(&r, &c, &installed);
    card_spend(&c, 120);
    int id = terminal_campaign(&r, "update", "2.0", c.cin);
    with_domain(&c, opts, sizeof opts);
    assert_int_equal(terminal_once(&r, &c, opts), 0);
    target_view v = target_get(&r, id, c.cin);
    printf("# update in the terminal: %s (%s), request %.0f, response %.0f, perso %.0f\n", v.state,
           v.reason, v.request, v.response, v.perso);
    assert_string_equal(v.state, "done");
    assert_true(v.perso == 0); /* P9: no personalization byte on the server-side connection */
    card_facts f = card_read(&c);
    assert_int_equal(f.version, 0x0200);
    assert_int_equal(f.upgrade, 0x00);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 380);
    rig_down(&r);
}

static void p9_update_personalized_in_the_terminal_sends_no_perso_bytes(void **state) {
    (void)state;
    p9_update_personalized_in_the_terminal(NULL);
}

static void p9_update_personalized_in_the_terminal_sends_no_perso_bytes_postgresql(void **state) {
    (void)state;
    p9_update_personalized_in_the_terminal(backend_fresh_url());
}

/* A refusal: campaign id's target on cin failed with a reason holding why; card c's whole
   state what it was (digest before). */
static void refused_and_unchanged(rig *r, int id, const char *cin, const char *why,
                                  const term_card *c, const uint8_t before[32]) {
    uint8_t after[32];
    target_view v = target_get(r, id, cin);
    printf("# %s: %s\n", v.state, v.reason);
    assert_string_equal(v.state, "failed");
    assert_non_null(strstr(v.reason, why));
    card_digest(c, after);
    assert_memory_equal(before, after, 32);
}

/* The delivery for another card (the terminal claims card B's CIN with --card-id while
   card A is in it): refused by the terminal, nothing sent to card A. */
static void delivery_for_another_cards_cin_changes_nothing_P6(void **state) {
    (void)state;
    rig r;
    term_card a, b;
    char opts[1024];
    uint8_t before[32];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, true);
    card_new(&r, 1, &b, true);
    int id = terminal_campaign(&r, "install", "1.0", b.cin);
    card_digest(&a, before);
    with_domain(&a, opts, sizeof opts);
    strcat(opts, " --card-id ");
    strcat(opts, b.cin);
    terminal_once(&r, &a, opts);
    refused_and_unchanged(&r, id, b.cin, "another card", &a, before);
    rig_down(&r);
}

/* The personalization sealed for another terminal's key: it does not open, nothing sent. */
static void sealed_perso_for_another_terminal_changes_nothing_P6(void **state) {
    (void)state;
    rig r;
    term_card a, other;
    char opts[512], path[96], body[256];
    uint8_t before[32];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, true);
    card_new(&r, 1, &other, false);
    /* the operator registered another terminal's key for card A */
    snprintf(path, sizeof path, "/api/cards/%s/terminal", a.cin);
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", other.pub);
    free(api(&r.srv, "PUT", path, NULL, body, 0, 204));
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    card_digest(&a, before);
    with_domain(&a, opts, sizeof opts);
    terminal_once(&r, &a, opts);
    refused_and_unchanged(&r, id, a.cin, "does not open", &a, before);
    assert_int_equal(store_records(&a), 0);
    rig_down(&r);
}

/* No terminal key registered: the install step fails at the server, nothing delivered. */
static void install_without_a_terminal_key_fails_at_the_server_P6(void **state) {
    (void)state;
    rig r;
    term_card a;
    char opts[512];
    uint8_t before[32];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, false);
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    card_digest(&a, before);
    with_domain(&a, opts, sizeof opts);
    assert_int_equal(terminal_once(&r, &a, opts), 0);
    refused_and_unchanged(&r, id, a.cin, "no terminal key for this card", &a, before);
    target_view v = target_get(&r, id, a.cin);
    assert_true(v.perso == 0);
    rig_down(&r);
}

/* A terminal without the domain (no --domain-keys) answers failed; nothing sent. */
static void terminal_without_its_domain_answers_failed_P6(void **state) {
    (void)state;
    rig r;
    term_card a;
    char opts[512];
    uint8_t before[32];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, true);
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    card_digest(&a, before);
    snprintf(opts, sizeof opts, "--terminal-key '%s'", a.key);
    terminal_once(&r, &a, opts);
    refused_and_unchanged(&r, id, a.cin, "no security domain", &a, before);
    rig_down(&r);
}

/* A delivery over the terminal's bound (--max-script): answered failed, nothing sent. */
static void oversize_delivery_is_refused_by_the_terminal_P6(void **state) {
    (void)state;
    rig r;
    term_card a;
    char opts[512];
    uint8_t before[32];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, true);
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    card_digest(&a, before);
    with_domain(&a, opts, sizeof opts);
    strcat(opts, " --max-script 4096"); /* the purse's delivery is over 5 KB */
    terminal_once(&r, &a, opts);
    refused_and_unchanged(&r, id, a.cin, "over this terminal's bound", &a, before);
    rig_down(&r);
}

/* A terminal that says ok without doing anything (a stand-in speaking the protocol, the
   card in this process): the server reads the card's registry in its own ISD session and
   fails the step; a response script to a delivery round, a result that does not decode and
   a result posted twice are refused (400, 400, 409) and change nothing. */
static void terminal_saying_ok_is_checked_on_the_card_P6(void **state) {
    (void)state;
    rig r;
    card_agent a;
    uint8_t priv[32], pub[65], one[16], result[SEAM_PERSO_RESULT_MAX];
    char path[96], body[256], hex[140], type[160], uri[160];
    size_t n = 0, one_len = 0;
    rig_up(&r, NULL);
    agent_open(&a, r.srv.dir, 7);
    add_card(&r.srv, &a);
    assert_int_equal(seam_perso_terminal_key_new(priv, pub), SEAM_OK);
    assert_int_equal(seam_hex_encode(pub, sizeof pub, hex, sizeof hex, &n), SEAM_OK);
    snprintf(path, sizeof path, "/api/cards/%s/terminal", a.cin);
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", hex);
    free(api(&r.srv, "PUT", path, NULL, body, 0, 204));
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    const char *open_h[] = {PROTO, a.from, NO_CT, NULL};
    reply d = call(r.srv.port, NULL, "POST", "/admin", open_h, "", 0);
    assert_int_equal(d.status, 200);
    assert_true(reply_header(&d, "Content-Type", type, sizeof type));
    assert_string_equal(type, "application/vnd.seam.delivery;version=1");
    assert_true(reply_header(&d, "X-Admin-Next-URI", uri, sizeof uri));
    seam_perso_delivery del;
    assert_int_equal(seam_perso_delivery_decode((const uint8_t *)d.body, d.len, &del), SEAM_OK);
    assert_int_equal(del.kind, SEAM_PERSO_DELIVER_INSTALL);
    assert_int_equal(del.count, 1);
    free(d.body);
    /* a response script where a result is due */
    static const uint8_t ok_sw[] = {0x90, 0x00};
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, one, sizeof one, &one_len),
                     SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, ok_sw, 2, one, sizeof one, &one_len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(one, sizeof one, &one_len), SEAM_OK);
    const char *resp_h[] = {PROTO, a.from, RESP_CT, NULL};
    reply x = call(r.srv.port, NULL, "POST", uri, resp_h, one, one_len);
    assert_int_equal(x.status, 400);
    free(x.body);
    const char *result_h[] = {PROTO, a.from,
                              "Content-Type: application/vnd.seam.delivery-result;version=1", NULL};
    x = call(r.srv.port, NULL, "POST", uri, result_h, "\xE6\x01", 2);
    assert_int_equal(x.status, 400);
    free(x.body);
    seam_perso_result said = {.ok = true, .sw = 0x9000};
    snprintf(said.reason, sizeof said.reason, "installed (not really)");
    assert_int_equal(seam_perso_result_encode(&said, result, sizeof result, &n), SEAM_OK);
    x = call(r.srv.port, NULL, "POST", uri, result_h, result, n);
    assert_int_equal(x.status, 200); /* the server's own ISD session: round 1 */
    char next[160];
    assert_true(reply_header(&x, "X-Admin-Next-URI", next, sizeof next));
    a.in_session = relay(&a, (const uint8_t *)x.body, x.len);
    snprintf(a.uri, sizeof a.uri, "%s", next);
    free(x.body);
    x = call(r.srv.port, NULL, "POST", uri, result_h, result, n); /* the result again */
    assert_int_equal(x.status, 409);
    free(x.body);
    long st = 200;
    for (int i = 0; i < 8 && st == 200; i++)
        st = agent_exchange(&a, r.srv.port, false);
    assert_int_equal(st, 204);
    target_view v = target_get(&r, id, a.cin);
    printf("# a terminal saying ok: %s (%s), perso %.0f\n", v.state, v.reason, v.perso);
    assert_string_equal(v.state, "failed");
    assert_non_null(strstr(v.reason, "does not list the package at 1.0"));
    assert_true(v.perso == 14 + SEAM_PERSO_SEAL_OVERHEAD);
    assert_int_equal(purse_version(&a), 0);
    agent_close(&a);
    rig_down(&r);
}

/* X5 with a terminal campaign: the stand-in terminal applies the delivery on the card
   (the perso flow itself, in this process), the server is SIGKILLed and started again
   before the result arrives: the result finds the session lost (204), and when the claim
   expires the step is claimed again and reads the card's registry first: done, "already
   applied", the delivery not sent again (perso counted once). */
static void terminal_step_resumed_after_a_server_kill_reads_the_card_X5_P6(void **state) {
    (void)state;
    rig r;
    card_agent a;
    seam_perso_domain dom;
    uint8_t priv[32], pub[65], cin[SEAM_PERSO_CIN_MAX], result[SEAM_PERSO_RESULT_MAX];
    char path[96], body[256], hex[140], uri[160], type[160], store_path[160];
    size_t n = 0, cin_len = 0;
    rig_up(&r, NULL);
    agent_open(&a, r.srv.dir, 8);
    issuer_creates_domain(a.card, domain_aid, sizeof domain_aid, &dom);
    card_cin(a.card, cin, &cin_len);
    host_forget();
    for (size_t k = 0; k < cin_len; k++) /* the card's own CIN: the flow checks it */
        snprintf(a.cin + 2 * k, 3, "%02X", cin[k]);
    snprintf(a.from, sizeof a.from, "X-Admin-From: //se-id/cin/%s", a.cin);
    add_card(&r.srv, &a);
    assert_int_equal(seam_perso_terminal_key_new(priv, pub), SEAM_OK);
    assert_int_equal(seam_hex_encode(pub, sizeof pub, hex, sizeof hex, &n), SEAM_OK);
    snprintf(path, sizeof path, "/api/cards/%s/terminal", a.cin);
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", hex);
    free(api(&r.srv, "PUT", path, NULL, body, 0, 204));
    int id = terminal_campaign(&r, "install", "1.0", a.cin);
    const char *open_h[] = {PROTO, a.from, NO_CT, NULL};
    reply d = call(r.srv.port, NULL, "POST", "/admin", open_h, "", 0);
    assert_int_equal(d.status, 200);
    assert_true(reply_header(&d, "X-Admin-Next-URI", uri, sizeof uri));
    /* the stand-in terminal applies it: open the sealed perso, install through the domain */
    seam_perso_delivery del;
    seam_gp_package pkg;
    uint8_t aad[SEAM_PERSO_DELIVERY_AAD_MAX], plain[SEAM_PERSO_DELIVERY_DATA_MAX];
    size_t aad_len = 0, plain_len = 0;
    assert_int_equal(seam_perso_delivery_decode((const uint8_t *)d.body, d.len, &del), SEAM_OK);
    assert_int_equal(seam_gp_package_read(del.module, del.module_len, &pkg, NULL, 0), SEAM_OK);
    assert_int_equal(seam_perso_delivery_aad(del.cin, del.cin_len, &pkg.aid, pkg.version,
                                             &del.perso[0].instance, aad, sizeof aad, &aad_len),
                     SEAM_OK);
    assert_int_equal(seam_perso_open(priv, aad, aad_len, del.perso[0].sealed,
                                     del.perso[0].sealed_len, plain, sizeof plain, &plain_len),
                     SEAM_OK);
    seam_perso_data data = {.instance = del.perso[0].instance, .data = plain, .len = plain_len};
    seam_perso_store *store = NULL;
    snprintf(store_path, sizeof store_path, "%s/../restore8.db", r.srv.dir);
    assert_int_equal(seam_perso_store_open(store_path, &store), SEAM_OK);
    seam_gp *g = NULL;
    assert_int_equal(seam_gp_new(&a.link, &g), SEAM_OK);
    seam_perso_actor actor = {.gp = g, .domain = &dom, .store = store, .cin_len = cin_len};
    memcpy(actor.cin, cin, cin_len);
    seam_perso_report rep;
    assert_int_equal(seam_perso_install(&actor, del.module, del.module_len, &data, 1, &rep),
                     SEAM_OK);
    assert_string_equal(rep.reason, "");
    seam_gp_free(g);
    seam_perso_store_close(store);
    free(d.body);
    /* the server dies before the result arrives */
    server_kill(&r.srv);
    server_spawn(&r.srv, 1);
    seam_perso_result said = {.ok = true, .sw = 0x9000};
    assert_int_equal(seam_perso_result_encode(&said, result, sizeof result, &n), SEAM_OK);
    const char *result_h[] = {PROTO, a.from,
                              "Content-Type: application/vnd.seam.delivery-result;version=1", NULL};
    reply x = call(r.srv.port, NULL, "POST", uri, result_h, result, n);
    assert_int_equal(x.status, 204); /* session lost */
    free(x.body);
    /* the claim expires (1 s lease): the next poll claims the step again */
    long st = 204;
    for (int i = 0; i < 50 && st == 204; i++) {
        usleep(200 * 1000);
        x = call(r.srv.port, NULL, "POST", "/admin", open_h, "", 0);
        st = x.status;
        if (st == 200) {
            assert_true(reply_header(&x, "Content-Type", type, sizeof type));
            assert_string_equal(type, /* a script: the registry first, no delivery */
                                "application/vnd.globalplatform.card-content-mgt;version=1.0");
            assert_true(reply_header(&x, "X-Admin-Next-URI", a.uri, sizeof a.uri));
            a.in_session = relay(&a, (const uint8_t *)x.body, x.len);
        }
        free(x.body);
    }
    assert_int_equal(st, 200);
    for (int i = 0; i < 8 && st == 200; i++)
        st = agent_exchange(&a, r.srv.port, false);
    assert_int_equal(st, 204);
    target_view v = target_get(&r, id, a.cin);
    int claims = 0;
    char state_s[16];
    target_state(&r.srv, id, a.cin, state_s, &claims);
    printf("# resumed terminal step: %s, %d claims, perso %.0f\n", v.state, claims, v.perso);
    assert_string_equal(v.state, "done");
    assert_int_equal(claims, 2);
    assert_true(v.perso == 14 + SEAM_PERSO_SEAL_OVERHEAD); /* delivered once */
    snprintf(path, sizeof path, "/api/cards/%s/events", a.cin);
    char *events = api(&r.srv, "GET", path, NULL, NULL, 0, 200);
    assert_non_null(strstr(events, "already applied"));
    free(events);
    assert_int_equal(purse_version(&a), 0x0100);
    seam_secure_zero(&dom, sizeof dom);
    agent_close(&a);
    rig_down(&r);
}

/* The API: the terminal's key is checked (a P-256 point), stored and shown; the campaign's
   personalization place is checked; a refusal stores nothing. */
static void terminal_key_and_campaign_option_are_checked(void **state) {
    (void)state;
    rig r;
    term_card a;
    char path[96], body[512];
    rig_up(&r, NULL);
    card_new(&r, 0, &a, true);
    snprintf(path, sizeof path, "/api/cards/%s", a.cin);
    char *got = api(&r.srv, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(got);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "terminal"), "public_key")->valuestring, a.pub);
    cJSON_Delete(o);
    free(got);
    snprintf(path, sizeof path, "/api/cards/%s/terminal", a.cin);
    char bad[140];
    snprintf(bad, sizeof bad, "%s", a.pub);
    bad[129] = bad[129] == '0' ? '1' : '0'; /* off the curve */
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", bad);
    free(api(&r.srv, "PUT", path, NULL, body, 0, 400));
    free(api(&r.srv, "PUT", path, NULL, "{\"public_key\":\"04AA\"}", 0, 400));
    free(api(&r.srv, "PUT", "/api/cards/0102/terminal", NULL, body, 0, 400));
    snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", a.pub);
    free(api(&r.srv, "PUT", "/api/cards/0102/terminal", NULL, body, 0, 404));
    snprintf(path, sizeof path, "/api/cards/%s", a.cin);
    got = api(&r.srv, "GET", path, NULL, NULL, 0, 200);
    assert_non_null(strstr(got, a.pub)); /* the good key stays */
    free(got);
    static const char *const refused[] = {"personalize", "upgrade", "delete"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"1.0\","
                 "\"targets\":[\"%s\"],\"personalization\":\"terminal\"}",
                 refused[i], a.cin);
        got = api(&r.srv, "POST", "/api/campaigns", NULL, body, 0, 400);
        assert_non_null(strstr(got, "install and update"));
        free(got);
    }
    snprintf(body, sizeof body,
             "{\"kind\":\"install\",\"package\":\"A00000055055\",\"version\":\"1.0\","
             "\"targets\":[\"%s\"],\"personalization\":\"phone\"}",
             a.cin);
    free(api(&r.srv, "POST", "/api/campaigns", NULL, body, 0, 400));
    got = api(&r.srv, "GET", "/api/campaigns", NULL, NULL, 0, 200);
    assert_string_equal(got, "[]"); /* nothing stored */
    free(got);
    rig_down(&r);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    int failed = 0;
    if (!strcmp(backend, "postgresql")) {
        if (backend_start("postgresql"))
            return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(p6_install_personalized_in_the_terminal_postgresql),
            cmocka_unit_test(
                p9_update_personalized_in_the_terminal_sends_no_perso_bytes_postgresql),
        };
        failed = cmocka_run_group_tests_name("terminal campaigns, postgresql", tests, NULL, NULL);
        backend_stop();
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(terminal_key_and_campaign_option_are_checked),
            cmocka_unit_test(install_without_a_terminal_key_fails_at_the_server_P6),
            cmocka_unit_test(terminal_without_its_domain_answers_failed_P6),
            cmocka_unit_test(delivery_for_another_cards_cin_changes_nothing_P6),
            cmocka_unit_test(sealed_perso_for_another_terminal_changes_nothing_P6),
            cmocka_unit_test(oversize_delivery_is_refused_by_the_terminal_P6),
            cmocka_unit_test(terminal_saying_ok_is_checked_on_the_card_P6),
            cmocka_unit_test(terminal_step_resumed_after_a_server_kill_reads_the_card_X5_P6),
            cmocka_unit_test(p6_install_personalized_in_the_terminal_sqlite),
            cmocka_unit_test(p9_update_personalized_in_the_terminal_sends_no_perso_bytes),
        };
        failed = cmocka_run_group_tests_name("terminal campaigns, sqlite", tests, NULL, NULL);
    }
    spawned_kill_all();
    curl_global_cleanup();
    return failed;
}
