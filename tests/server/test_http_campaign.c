/*
 * Campaigns driven over /admin against a real card (docs/server.md, "Campaign
 * steps"): a real server on 127.0.0.1 (port 0) and, in this process, a card
 * (seam_card over the host link) with a stand-in terminal that plays the
 * card's admin agent: it POSTs /admin, runs every C-APDU of each command
 * script on the card as it is, and POSTs the response script to the
 * Next-URI, until 204 (P2: the package reaches the card relayed, the terminal
 * never holds a key). The purse is installed with its personalization, then
 * updated to 2.0 with the balance kept and 0 bytes of personalization data in
 * the server's report (P1, P8). A replayed response gets 409 and changes
 * nothing; a flipped R-MAC byte fails that card's target and nothing else.
 */
#include "http_test.h"
#include "purse_link.h"

#include <cjson/cJSON.h>
#include <strings.h>

#include "seam/card.h"
#include "seam/gp.h"
#include "seam/link.h"

#define PROTO      "X-Admin-Protocol: globalplatform-remote-admin/1.0"
#define CIN_HEX    "0102030405060708"
#define FROM       "X-Admin-From: //se-id/cin/" CIN_HEX
#define KEY1       "404142434445464748494A4B4C4D4E4F"
#define NO_CT      "Content-Type:"
#define RESP_CT    "Content-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define SCRIPT_MAX (512u * 1024u)

/* The server and, beside it, one card on a host link. */
typedef struct {
    http_fixture *http;
    char card_path[160];
    seam_card *card;
    seam_gp_link link;
} fixture;

static int setup(void **state) {
    void *h = NULL;
    http_setup(&h);
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->http = h;
    snprintf(f->card_path, sizeof f->card_path, "%s/card.db", f->http->dir);
    assert_int_equal(seam_card_create(f->card_path, 0, &f->card), SEAM_OK);
    assert_int_equal(seam_link_card(f->card, &f->link), SEAM_OK);
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_int_equal(seam_gp_link_power_on(&f->link, atr, sizeof atr, &atr_len), SEAM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    seam_gp_link_close(&f->link);
    seam_card_close(f->card);
    void *h = f->http;
    free(f);
    return http_teardown(&h);
}

/* ---- the operator, through the admin API ---- */

static void upload(fixture *f, const char *name) {
    size_t len = 0;
    uint8_t *module = http_read_app(name, &len);
    static const char *const h[] = {"Content-Type: application/wasm", NULL};
    http_reply r = http_call(f->http, "POST", "/api/packages", h, module, len, 1);
    assert_int_equal(r.status, 201);
    free(r.body);
    free(module);
}

static void add_card(fixture *f, const char *cin) {
    char path[64];
    snprintf(path, sizeof path, "/api/cards/%s", cin);
    http_reply r = http_json(f->http, "PUT", path,
                             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1
                             "\",\"dek\":\"" KEY1 "\"}]}");
    assert_int_equal(r.status, 201);
    free(r.body);
}

/* The purse's personalization: PIN 4321, balance 500 (DF01, DF02; apps/purse/purse.c). */
static void add_perso(fixture *f) {
    http_reply r =
        http_json(f->http, "PUT", "/api/cards/" CIN_HEX "/personalization/A0000005505501",
                  "{\"data\":\"DF010434333231DF0204000001F4\"}");
    assert_int_equal(r.status, 204);
    free(r.body);
}

/* Creates a campaign; returns its id. */
static int campaign(fixture *f, const char *kind, const char *version, const char *targets) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\",\"targets\":[%s]}",
             kind, version, targets);
    http_reply r = http_json(f->http, "POST", "/api/campaigns", body);
    assert_int_equal(r.status, 201);
    cJSON *o = cJSON_Parse(r.body);
    assert_non_null(o);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(r.body);
    return id;
}

typedef struct {
    char state[16];
    char reason[128];
    double request, response, perso, total;
    int claims;
} target_view;

/* Target number i of campaign id, as GET /api/campaigns/{id} reports it. */
static target_view target(fixture *f, int id, int i) {
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    http_reply r = http_json(f->http, "GET", path, NULL);
    assert_int_equal(r.status, 200);
    cJSON *o = cJSON_Parse(r.body);
    assert_non_null(o);
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "targets"), i);
    assert_non_null(t);
    target_view v;
    memset(&v, 0, sizeof v);
    snprintf(v.state, sizeof v.state, "%s", cJSON_GetObjectItem(t, "state")->valuestring);
    snprintf(v.reason, sizeof v.reason, "%s", cJSON_GetObjectItem(t, "reason")->valuestring);
    v.claims = cJSON_GetObjectItem(t, "claims")->valueint;
    cJSON *b = cJSON_GetObjectItem(t, "bytes");
    v.request = cJSON_GetObjectItem(b, "request")->valuedouble;
    v.response = cJSON_GetObjectItem(b, "response")->valuedouble;
    v.perso = cJSON_GetObjectItem(b, "perso")->valuedouble;
    v.total = cJSON_GetObjectItem(b, "total")->valuedouble;
    cJSON_Delete(o);
    free(r.body);
    return v;
}

/* ---- the terminal: the card's admin agent ---- */

/* The value of header name in the reply's header lines (into out), or false. */
static bool reply_header(const http_reply *r, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (!strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return true;
        }
        line = end + 2;
    }
    return false;
}

/* Runs every C-APDU of the command script on the card as it is and writes the response
   script (data || SW1 SW2 as the card answered) to out[0..*out_len). */
static void relay(fixture *f, const uint8_t *cmds, size_t len, uint8_t *out, size_t *out_len) {
    static uint8_t answer[SEAM_GP_RESPONSE_MAX];
    seam_gp_rscript_reader rd;
    const uint8_t *apdu = NULL;
    size_t apdu_len = 0;
    *out_len = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, cmds, len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out, SCRIPT_MAX, out_len),
                     SEAM_OK);
    while (seam_gp_rscript_next(&rd, &apdu, &apdu_len) == SEAM_OK) {
        size_t got = 0;
        assert_int_equal(
            seam_gp_link_transmit(&f->link, apdu, apdu_len, answer, sizeof answer, &got), SEAM_OK);
        assert_int_equal(
            seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, answer, got, out, SCRIPT_MAX, out_len),
            SEAM_OK);
        if (answer[got - 2] != 0x90 || answer[got - 1] != 0x00)
            break; /* the server judges; nothing after a refusal */
    }
    assert_int_equal(seam_gp_rscript_end(out, SCRIPT_MAX, out_len), SEAM_OK);
}

/* As relay, but the card is cut (the terminal powered off) just before the first command
   of INS ins and P1 p1: the commands before it ran, none after. */
static void relay_until(fixture *f, const uint8_t *cmds, size_t len, uint8_t ins, uint8_t p1) {
    static uint8_t answer[SEAM_GP_RESPONSE_MAX];
    seam_gp_rscript_reader rd;
    const uint8_t *apdu = NULL;
    size_t apdu_len = 0;
    bool cut = false;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, cmds, len), SEAM_OK);
    while (seam_gp_rscript_next(&rd, &apdu, &apdu_len) == SEAM_OK) {
        if (apdu[1] == ins && apdu[2] == p1) {
            cut = true;
            break;
        }
        size_t got = 0;
        assert_int_equal(
            seam_gp_link_transmit(&f->link, apdu, apdu_len, answer, sizeof answer, &got), SEAM_OK);
        assert_int_equal(answer[got - 2], 0x90);
    }
    assert_true(cut);
}

/* Rewrites a response script with one byte of its last R-APDU's R-MAC flipped. */
static void flip_last_rmac(uint8_t *script, size_t *len) {
    static uint8_t copy[SCRIPT_MAX], item_copy[SEAM_GP_RESPONSE_MAX];
    memcpy(copy, script, *len);
    size_t copy_len = *len, n = 0, count = 0;
    seam_gp_rscript_reader rd;
    const uint8_t *item;
    size_t item_len;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, copy, copy_len), SEAM_OK);
    while (seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK)
        count++;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, copy, copy_len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, script, SCRIPT_MAX, &n),
                     SEAM_OK);
    for (size_t i = 0; seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK; i++) {
        memcpy(item_copy, item, item_len);
        if (i == count - 1) {
            assert_true(item_len >= 10); /* R-MAC (8) || SW */
            item_copy[item_len - 3] ^= 0x01;
        }
        assert_int_equal(
            seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, item_copy, item_len, script, SCRIPT_MAX, &n),
            SEAM_OK);
    }
    assert_int_equal(seam_gp_rscript_end(script, SCRIPT_MAX, &n), SEAM_OK);
    *len = n;
}

typedef struct {
    int rounds;        /* command scripts run */
    size_t script_in;  /* bytes of command scripts received */
    size_t script_out; /* bytes of response scripts sent */
    long last_status;  /* of the last POST */
} session_view;

/* One admin session as the terminal runs it: POST /admin, then relay each script and POST
   its responses to the Next-URI until the server answers something other than 200. With
   tamper_round > 0, the responses of that round get a flipped R-MAC byte. */
static session_view admin_session(fixture *f, int tamper_round) {
    static uint8_t resp[SCRIPT_MAX];
    static const char *const open_h[] = {PROTO, FROM, NO_CT, NULL};
    static const char *const resp_h[] = {PROTO, FROM, RESP_CT, NULL};
    session_view v;
    memset(&v, 0, sizeof v);
    http_reply r = http_call(f->http, "POST", "/admin", open_h, "", 0, 0);
    while (r.status == 200) {
        char uri[160], type[128];
        assert_true(reply_header(&r, "Content-Type", type, sizeof type));
        assert_string_equal(type, "application/vnd.globalplatform.card-content-mgt;version=1.0");
        assert_true(reply_header(&r, "X-Admin-Next-URI", uri, sizeof uri));
        v.rounds++;
        v.script_in += r.len;
        size_t len = 0;
        relay(f, (const uint8_t *)r.body, r.len, resp, &len);
        if (v.rounds == tamper_round)
            flip_last_rmac(resp, &len);
        v.script_out += len;
        free(r.body);
        r = http_call(f->http, "POST", uri, resp_h, resp, len, 0);
    }
    v.last_status = r.status;
    free(r.body);
    return v;
}

/* ---- the card, used live as its holder would ---- */

static void purse_debit(fixture *f, uint8_t amount) {
    const uint8_t debit[] = {0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, amount};
    assert_int_equal(purse_send(&f->link, debit, sizeof debit, NULL, NULL), 0x9000);
}

/* The package versions the card's registry lists for the purse's package (GET STATUS
   through a live SCP03 session with the ISD): major << 8 | minor, 0 if absent. */
static uint16_t card_purse_version(fixture *f) {
    static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    static const uint8_t pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    seam_gp *gp = NULL;
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_new(&f->link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_select(gp, isd, sizeof isd, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x01, NULL, &sw), SEAM_OK);
    uint8_t cmd[32], data[512];
    size_t n = 0, got = 0;
    assert_int_equal(
        seam_gp_build_get_status(SEAM_GP_ELFS, false, pkg, sizeof pkg, cmd, sizeof cmd, &n),
        SEAM_OK);
    assert_int_equal(seam_gp_transmit(gp, cmd, n, data, sizeof data, &got, &sw), SEAM_OK);
    uint16_t version = 0;
    if (sw == 0x9000) {
        seam_gp_status_iter it;
        seam_gp_status_entry e;
        seam_gp_status_iter_init(&it, data, got);
        while (seam_gp_status_iter_next(&it, &e) == SEAM_OK)
            version = e.version;
    }
    seam_gp_free(gp);
    return version;
}

/* ---- the tests ---- */

/* P1, P2, P8: install with personalization, use, update to 2.0, balance kept, 0 perso bytes. */
static void terminal_relays_install_then_update_of_the_purse_P1_P2_P8(void **state) {
    fixture *f = *state;
    upload(f, "purse.wasm");
    upload(f, "purse_v2.wasm");
    add_card(f, CIN_HEX);
    add_perso(f);

    int install = campaign(f, "install", "1.0", "\"" CIN_HEX "\"");
    session_view s = admin_session(f, 0);
    assert_int_equal(s.last_status, 204);
    assert_int_equal(s.rounds, 2); /* SELECT + INITIALIZE UPDATE; EXTERNAL AUTHENTICATE + plan */
    target_view t = target(f, install, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.claims, 1);
    assert_int_equal(t.perso, 14); /* the STORE DATA payload: DF01 (7) and DF02 (7) */
    assert_true(t.request > (double)s.script_out && t.response > (double)s.script_in);
    assert_int_equal(card_purse_version(f), 0x0100);
    /* the personalization took: PIN 4321 opens the purse, balance 500; the holder spends */
    assert_int_equal(purse_open(&f->link), 0x9000);
    assert_int_equal(purse_balance(&f->link), 500);
    purse_debit(f, 120);
    assert_int_equal(purse_balance(&f->link), 380);
    /* nothing more for this card */
    assert_int_equal(admin_session(f, 0).last_status, 204);

    int update = campaign(f, "update", "2.0", "\"" CIN_HEX "\"");
    s = admin_session(f, 0);
    assert_int_equal(s.last_status, 204);
    assert_int_equal(s.rounds, 2);
    target_view u = target(f, update, 0);
    assert_string_equal(u.state, "done");
    assert_int_equal(u.perso, 0); /* P8: measured from the scripts sent */
    assert_true(u.total > 0);
    assert_int_equal(card_purse_version(f), 0x0200);
    assert_int_equal(purse_open(&f->link), 0x9000); /* the PIN kept */
    assert_int_equal(purse_balance(&f->link), 380); /* the balance kept across the upgrade */
    printf("# purse install campaign: %.0f bytes (request %.0f, response %.0f, perso %.0f)\n",
           t.total, t.request, t.response, t.perso);
    printf("# purse update campaign: %.0f bytes (request %.0f, response %.0f, perso %.0f)\n",
           u.total, u.request, u.response, u.perso);
}

/* A response POSTed twice to one Next-URI: 409 replayed, the store unchanged; the session
   then goes on from where it was. */
static void replayed_response_is_refused_and_changes_nothing(void **state) {
    fixture *f = *state;
    static uint8_t resp[SCRIPT_MAX];
    static const char *const open_h[] = {PROTO, FROM, NO_CT, NULL};
    static const char *const resp_h[] = {PROTO, FROM, RESP_CT, NULL};
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    add_perso(f);
    int id = campaign(f, "install", "1.0", "\"" CIN_HEX "\"");

    http_reply r = http_call(f->http, "POST", "/admin", open_h, "", 0, 0);
    assert_int_equal(r.status, 200);
    char uri1[160], uri2[160];
    assert_true(reply_header(&r, "X-Admin-Next-URI", uri1, sizeof uri1));
    size_t len = 0;
    relay(f, (const uint8_t *)r.body, r.len, resp, &len);
    free(r.body);
    r = http_call(f->http, "POST", uri1, resp_h, resp, len, 0);
    assert_int_equal(r.status, 200);
    assert_true(reply_header(&r, "X-Admin-Next-URI", uri2, sizeof uri2));
    uint8_t before[32], after[32];
    http_store_digest(f->http, before);
    http_reply again = http_call(f->http, "POST", uri1, resp_h, resp, len, 0);
    assert_true(http_is_error(&again, 409, "replayed"));
    free(again.body);
    http_store_digest(f->http, after);
    assert_memory_equal(before, after, 32);

    /* round 2 is still the open one: the step completes */
    size_t len2 = 0;
    static uint8_t resp2[SCRIPT_MAX];
    relay(f, (const uint8_t *)r.body, r.len, resp2, &len2);
    free(r.body);
    r = http_call(f->http, "POST", uri2, resp_h, resp2, len2, 0);
    assert_int_equal(r.status, 204);
    free(r.body);
    assert_string_equal(target(f, id, 0).state, "done");
    /* and round 2's responses again: the session is closed */
    http_store_digest(f->http, before);
    again = http_call(f->http, "POST", uri2, resp_h, resp2, len2, 0);
    assert_true(http_is_error(&again, 409, "replayed"));
    free(again.body);
    http_store_digest(f->http, after);
    assert_memory_equal(before, after, 32);
}

/* A flipped R-MAC byte in the card's responses: that card's target failed with the reason,
   the other card's target untouched, the campaign still running. */
static void flipped_rmac_fails_the_target_and_nothing_else(void **state) {
    fixture *f = *state;
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    add_card(f, "1112131415161718");
    add_perso(f);
    int id = campaign(f, "install", "1.0", "\"" CIN_HEX "\",\"1112131415161718\"");
    session_view s = admin_session(f, 2);
    assert_int_equal(s.last_status, 204);
    target_view t = target(f, id, 0);
    assert_string_equal(t.state, "failed");
    if (!strstr(t.reason, "do not answer"))
        fail_msg("reason: %s", t.reason);
    target_view other = target(f, id, 1);
    assert_string_equal(other.state, "pending");
    assert_int_equal(other.claims, 0);
    assert_int_equal(other.total, 0);
    http_reply r = http_json(f->http, "GET", "/api/campaigns/1", NULL);
    assert_non_null(strstr(r.body, "\"state\":\"running\""));
    free(r.body);
    /* the card is not driven again for that campaign */
    assert_int_equal(admin_session(f, 0).last_status, 204);
    assert_string_equal(target(f, id, 0).state, "failed");
}

/* Restarts the server on the same folder with a lease of 1 s (the claim of a step the old
   server held expires 2 s later). */
static void restart_server(fixture *f) {
    seam_server_stop(f->http->server);
    seam_server_options o = {.dir = f->http->dir, .listen = "127.0.0.1:0", .lease_seconds = 1};
    assert_int_equal(seam_server_start(&o, &f->http->server), SEAM_OK);
    f->http->port = seam_server_port(f->http->server);
}

/* A server restarts after sending round 2 of an install; the card ran it (applied) or not
   (cut). The response to the lost session gets 204 and changes no target; once the claim
   expires the step is claimed again, reads the card's registry first (GET STATUS) and the
   package is not sent twice: done at once when applied, sent in a new session when not. */
static void resumed_step_reads_the_registry_first(fixture *f, bool card_ran_round_2) {
    static uint8_t resp[SCRIPT_MAX];
    static const char *const open_h[] = {PROTO, FROM, NO_CT, NULL};
    static const char *const resp_h[] = {PROTO, FROM, RESP_CT, NULL};
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    add_perso(f);
    restart_server(f); /* lease 1 s from here on */
    int id = campaign(f, "install", "1.0", "\"" CIN_HEX "\"");
    http_reply r = http_call(f->http, "POST", "/admin", open_h, "", 0, 0);
    assert_int_equal(r.status, 200);
    char uri[160];
    assert_true(reply_header(&r, "X-Admin-Next-URI", uri, sizeof uri));
    size_t len = 0;
    relay(f, (const uint8_t *)r.body, r.len, resp, &len);
    free(r.body);
    r = http_call(f->http, "POST", uri, resp_h, resp, len, 0);
    assert_int_equal(r.status, 200); /* round 2: the install and the personalization */
    assert_true(reply_header(&r, "X-Admin-Next-URI", uri, sizeof uri));
    if (card_ran_round_2)
        relay(f, (const uint8_t *)r.body, r.len, resp, &len);
    free(r.body);

    restart_server(f); /* the SCP03 session was in the old server's memory only */
    if (card_ran_round_2) {
        r = http_call(f->http, "POST", uri, resp_h, resp, len, 0);
        assert_int_equal(r.status, 204); /* a session this server does not hold */
        free(r.body);
    }
    assert_string_equal(target(f, id, 0).state, "running");
    assert_int_equal(admin_session(f, 0).last_status, 204); /* still claimed: nothing now */
    sleep(2);                                               /* the claim expires */
    session_view s = admin_session(f, 0);
    assert_int_equal(s.last_status, 204);
    target_view t = target(f, id, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.claims, 2);
    size_t module_len = 0;
    free(http_read_app("purse.wasm", &module_len));
    if (card_ran_round_2) {
        /* SELECT + INITIALIZE UPDATE, then EXTERNAL AUTHENTICATE + GET STATUS: 1.0 is there */
        assert_int_equal(s.rounds, 2);
        assert_true(s.script_in < module_len);
    } else {
        /* the registry has no package (6A88 ends that SCP03 session): a new one sends it */
        assert_int_equal(s.rounds, 4);
        assert_true(s.script_in > module_len);
    }
    assert_int_equal(card_purse_version(f), 0x0100);
    assert_int_equal(purse_open(&f->link), 0x9000);
    assert_int_equal(purse_balance(&f->link), 500);
}

static void restart_after_the_card_applied_the_step_does_not_apply_it_twice(void **state) {
    resumed_step_reads_the_registry_first(*state, true);
}

static void restart_before_the_card_got_the_step_sends_it_in_a_new_session(void **state) {
    resumed_step_reads_the_registry_first(*state, false);
}

/* The card is cut after the install of round 2 and before its INSTALL [for personalization]
   (the package is there, its instance SELECTABLE, not personalized), and the server restarts.
   The resumed step reads the registry (package and instance), finds the instance not
   PERSONALIZED and sends its personalization only, not the package: PIN and balance work.
   (Before the fix the step was done at once and the purse had no PIN.) */
static void resumed_install_cut_before_personalization_sends_it_X5(void **state) {
    fixture *f = *state;
    static uint8_t resp[SCRIPT_MAX];
    static const char *const open_h[] = {PROTO, FROM, NO_CT, NULL};
    static const char *const resp_h[] = {PROTO, FROM, RESP_CT, NULL};
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    add_perso(f);
    restart_server(f); /* lease 1 s from here on */
    int id = campaign(f, "install", "1.0", "\"" CIN_HEX "\"");
    http_reply r = http_call(f->http, "POST", "/admin", open_h, "", 0, 0);
    assert_int_equal(r.status, 200);
    char uri[160];
    assert_true(reply_header(&r, "X-Admin-Next-URI", uri, sizeof uri));
    size_t len = 0;
    relay(f, (const uint8_t *)r.body, r.len, resp, &len);
    free(r.body);
    r = http_call(f->http, "POST", uri, resp_h, resp, len, 0);
    assert_int_equal(r.status, 200);
    relay_until(f, (const uint8_t *)r.body, r.len, 0xE6, 0x20); /* INSTALL [for perso] */
    free(r.body);
    assert_int_equal(card_purse_version(f), 0x0100);    /* installed, */
    assert_int_not_equal(purse_open(&f->link), 0x9000); /* with no PIN 4321 yet */

    restart_server(f);
    sleep(2); /* the old claim expires */
    size_t module_len = 0;
    free(http_read_app("purse.wasm", &module_len));
    session_view s = admin_session(f, 0);
    assert_int_equal(s.last_status, 204);
    assert_int_equal(s.rounds, 3); /* hello; registry; the personalization in the same session */
    assert_true(s.script_in < module_len); /* the package is not sent again */
    target_view t = target(f, id, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.claims, 2);
    assert_int_equal(t.perso, 28); /* 14 in the cut script, 14 again */
    assert_int_equal(purse_open(&f->link), 0x9000);
    assert_int_equal(purse_balance(&f->link), 500);
}

/* Personalize campaigns and the card's data (docs/server.md, "Personalize"): on an instance
   installed without personalization (SELECTABLE) the step sends it and marks the instance
   PERSONALIZED; on a purse personalized and used since, a second personalize campaign finds
   it PERSONALIZED and is done without sending the data: the balance spent stays spent. */
static void personalize_never_resets_a_used_purse(void **state) {
    fixture *f = *state;
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    int install = campaign(f, "install", "1.0", "\"" CIN_HEX "\""); /* no data stored yet */
    assert_int_equal(admin_session(f, 0).last_status, 204);
    target_view t = target(f, install, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.perso, 0);
    assert_int_not_equal(purse_open(&f->link), 0x9000); /* no PIN 4321 */

    add_perso(f);
    int first = campaign(f, "personalize", "1.0", "\"" CIN_HEX "\"");
    assert_int_equal(admin_session(f, 0).last_status, 204);
    t = target(f, first, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.perso, 14);
    assert_int_equal(purse_open(&f->link), 0x9000);
    assert_int_equal(purse_balance(&f->link), 500);
    purse_debit(f, 120);

    int second = campaign(f, "personalize", "1.0", "\"" CIN_HEX "\"");
    assert_int_equal(admin_session(f, 0).last_status, 204);
    t = target(f, second, 0);
    assert_string_equal(t.state, "done");
    assert_int_equal(t.perso, 0); /* nothing sent */
    assert_int_equal(purse_open(&f->link), 0x9000);
    assert_int_equal(purse_balance(&f->link), 380);
    http_reply r = http_json(f->http, "GET", "/api/cards/" CIN_HEX "/events", NULL);
    assert_non_null(strstr(r.body, "PERSONALIZED"));
    free(r.body);
}

/* A card the server does not know: 404 unknown_card, nothing stored. */
static void unknown_card_is_refused(void **state) {
    fixture *f = *state;
    upload(f, "purse.wasm");
    add_card(f, CIN_HEX);
    campaign(f, "install", "1.0", "\"" CIN_HEX "\"");
    uint8_t before[32], after[32];
    http_store_digest(f->http, before);
    static const char *const h[] = {PROTO, "X-Admin-From: //se-id/cin/0A0B0C0D0E0F", NO_CT, NULL};
    http_reply r = http_call(f->http, "POST", "/admin", h, "", 0, 0);
    assert_true(http_is_error(&r, 404, "unknown_card"));
    free(r.body);
    http_store_digest(f->http, after);
    assert_memory_equal(before, after, 32);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(terminal_relays_install_then_update_of_the_purse_P1_P2_P8,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(replayed_response_is_refused_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(flipped_rmac_fails_the_target_and_nothing_else, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_card_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            restart_after_the_card_applied_the_step_does_not_apply_it_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(
            restart_before_the_card_got_the_step_sends_it_in_a_new_session, setup, teardown),
        cmocka_unit_test_setup_teardown(resumed_install_cut_before_personalization_sends_it_X5,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(personalize_never_resets_a_used_purse, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
