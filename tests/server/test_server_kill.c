/*
 * kill -9 of `seam server` in the middle of campaigns (docs/server.md, "Faults"; X5).
 * The server is the built binary, a subprocess (`seam server run --lease 1`), on
 * SQLite or on a PostgreSQL of the test's own (store_backend.c). Beside it, in this
 * process, three cards (seam_card over the host link) and their terminals: stand-in
 * admin agents that speak the protocol as `seam terminal` does (POST /admin, run each
 * script on the card as it is, POST the responses to the Next-URI; a request that
 * finds no server is sent again, as the terminal retries). The agents take turns,
 * one HTTP exchange each, so that several cards are mid-session at any moment.
 *
 * The operator installs the purse 1.0 with its personalization on the three cards;
 * as soon as a card's install is done, its holder spends 120 on it; once the first
 * install is done the operator starts the update to 2.0. The server is SIGKILLed
 * after exchange k and started again on the same folder / database, for every k of
 * a whole run (SQLite) or a few (PostgreSQL), three ways in turn: the terminal
 * carries on (it runs the script and posts the responses to the new server), the
 * terminal drops the script (it lost power too), or the kill lands while the server
 * handles exchange k (after a delay drawn from a fixed seed). Every time: every
 * target ends done; each card has 2.0, PIN 4321 and balance 380 (the personalization
 * was applied once and never replayed over the spent purse, the upgrade kept the
 * data); every acknowledged API write (packages, cards, personalization, campaigns)
 * is there.
 *
 * With `postgresql`, also two `seam server` processes on one database run one
 * campaign over eight cards, each card's terminal asking both servers at once: at no
 * moment do two admin sessions hold one card, every target is claimed once and done.
 */
#include "http_test.h"
#include "purse_link.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/util.h"
#include "store_backend.h"

#define PROTO      "X-Admin-Protocol: globalplatform-remote-admin/1.0"
#define KEY1       "404142434445464748494A4B4C4D4E4F"
#define NO_CT      "Content-Type:"
#define RESP_CT    "Content-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define SCRIPT_MAX (512u * 1024u)
#define CARDS      3
#define PAIR_CARDS 8

/* ---- the server, a subprocess ---- */

typedef struct {
    char dir[96];
    const char *db; /* NULL: the folder's SQLite */
    char token[SEAM_SERVER_TOKEN_SIZE];
    pid_t pid;
    uint16_t port;
} server_proc;

/* Every server started and not yet killed, killed at the end whatever happened. */
static pid_t spawned[8];

static void spawned_track(pid_t pid, pid_t gone) {
    for (size_t i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] == gone) {
            spawned[i] = pid;
            return;
        }
}

static void spawned_kill_all(void) {
    for (size_t i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] > 0) {
            kill(spawned[i], SIGKILL);
            waitpid(spawned[i], NULL, 0);
            spawned[i] = 0;
        }
}

/* Starts `seam server run` on the folder (lease seconds; 0: the default) and reads the
   port it prints. */
static void server_spawn(server_proc *s, int lease) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char bin[512], lease_s[16];
    snprintf(bin, sizeof bin, "%s/seam", build ? build : "build/release");
    snprintf(lease_s, sizeof lease_s, "%d", lease);
    const char *argv[12] = {"seam", "server", "run", s->dir, "--listen", "127.0.0.1:0"};
    int n = 6;
    if (lease)
        argv[n++] = "--lease", argv[n++] = lease_s;
    if (s->db)
        argv[n++] = "--db", argv[n++] = s->db;
    argv[n] = NULL;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    spawned_track(pid, 0);
    FILE *out = fdopen(p[0], "r");
    char line[128] = "";
    unsigned port = 0;
    assert_non_null(fgets(line, sizeof line, out));
    assert_int_equal(sscanf(line, "seam server: listening on port %u", &port), 1);
    fclose(out);
    s->pid = pid;
    s->port = (uint16_t)port;
}

static void server_kill(server_proc *s) {
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    int st = 0;
    waitpid(s->pid, &st, 0);
    spawned_track(0, s->pid);
    s->pid = 0;
}

/* A fresh server folder (init), its store on the folder's SQLite or on db (the token's
   hash put there too). */
static void server_folder(server_proc *s, const char *db) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/seam-kill-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    strcat(s->dir, "/srv");
    assert_int_equal(seam_server_init(s->dir, s->token), SEAM_OK);
    s->db = db;
    if (db) {
        char key_path[160], hex[65];
        uint8_t key[SEAM_STORE_MASTER_KEY_SIZE], hash[32];
        size_t n = 0;
        snprintf(key_path, sizeof key_path, "%s/master.key", s->dir);
        assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
        seam_store *st = NULL;
        assert_int_equal(seam_store_open(db, key, &st), SEAM_OK);
        assert_int_equal(seam_crypto_sha256((const uint8_t *)s->token, 64, hash), SEAM_OK);
        assert_int_equal(seam_hex_encode(hash, sizeof hash, hex, sizeof hex, &n), SEAM_OK);
        assert_int_equal(seam_store_setting_put(st, "api_token_sha256", hex), SEAM_OK);
        seam_store_close(st);
    }
}

static void server_folder_remove(server_proc *s) {
    char *slash = strrchr(s->dir, '/');
    *slash = '\0';
    nftw(s->dir, http_test_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- HTTP, as a client that may find no server ---- */

typedef struct {
    long status; /* 0: no answer (no server, or it died mid-exchange) */
    char *body;
    size_t len;
    char headers[2048];
} reply;

static reply call(uint16_t port, const char *token, const char *method, const char *path,
                  const char *const *headers, const void *body, size_t len) {
    reply r;
    memset(&r, 0, sizeof r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256], auth[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        list = curl_slist_append(list, auth);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_test_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_test_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    else
        r.status = 0;
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    if (r.status == 0) {
        free(r.body);
        r.body = NULL;
        r.len = 0;
    }
    if (!r.body) {
        r.body = calloc(1, 1);
        assert_non_null(r.body);
    }
    return r;
}

/* An admin API request that must be acknowledged with status want; the body is returned
   (free it). */
static char *api(const server_proc *s, const char *method, const char *path, const char *ct,
                 const void *body, size_t len, long want) {
    char type[64];
    snprintf(type, sizeof type, "Content-Type: %s", ct ? ct : "application/json");
    const char *h[] = {type, NULL};
    reply r = call(s->port, s->token, method, path, h, body, body && !len ? strlen(body) : len);
    if (r.status != want)
        fail_msg("%s %s: %ld %s", method, path, r.status, r.body);
    return r.body;
}

static bool reply_header(const reply *r, const char *name, char *out, size_t cap) {
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

/* ---- the cards and their terminals ---- */

typedef struct {
    char path[160];
    char cin[17];
    char from[64];
    seam_card *card;
    seam_gp_link link;
    bool in_session; /* a Next-URI and the responses to post there */
    char uri[160];
    uint8_t *resp;
    size_t resp_len;
    bool spent; /* the holder spent 120 after the install */
    pthread_mutex_t lock;
    int driven_by; /* pair test: the server whose session holds the card, -1 none */
} card_agent;

static void agent_open(card_agent *a, const char *dir, int i) {
    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s/../card%d.db", dir, i);
    snprintf(a->cin, sizeof a->cin, "01020304050607%02X", i);
    snprintf(a->from, sizeof a->from, "X-Admin-From: //se-id/cin/%s", a->cin);
    assert_int_equal(seam_card_create(a->path, 0, &a->card), SEAM_OK);
    assert_int_equal(seam_link_card(a->card, &a->link), SEAM_OK);
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_int_equal(seam_gp_link_power_on(&a->link, atr, sizeof atr, &atr_len), SEAM_OK);
    a->resp = malloc(SCRIPT_MAX);
    assert_non_null(a->resp);
    pthread_mutex_init(&a->lock, NULL);
    a->driven_by = -1;
}

static void agent_close(card_agent *a) {
    seam_gp_link_close(&a->link);
    seam_card_close(a->card);
    free(a->resp);
    pthread_mutex_destroy(&a->lock);
}

/* Runs the command script on the card as it is; the response script in a->resp. */
static void relay(card_agent *a, const uint8_t *cmds, size_t len) {
    uint8_t answer[SEAM_GP_RESPONSE_MAX];
    seam_gp_rscript_reader rd;
    const uint8_t *apdu = NULL;
    size_t apdu_len = 0;
    a->resp_len = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, cmds, len), SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, a->resp, SCRIPT_MAX, &a->resp_len),
        SEAM_OK);
    while (seam_gp_rscript_next(&rd, &apdu, &apdu_len) == SEAM_OK) {
        size_t got = 0;
        assert_int_equal(
            seam_gp_link_transmit(&a->link, apdu, apdu_len, answer, sizeof answer, &got), SEAM_OK);
        assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, answer, got, a->resp,
                                             SCRIPT_MAX, &a->resp_len),
                         SEAM_OK);
        uint8_t sw1 = answer[got - 2];
        if (sw1 != 0x90 && sw1 != 0x61 && sw1 != 0x62 && sw1 != 0x63 && sw1 != 0x91)
            break; /* as seam terminal: nothing after an error status */
    }
    assert_int_equal(seam_gp_rscript_end(a->resp, SCRIPT_MAX, &a->resp_len), SEAM_OK);
}

/* One exchange of the card's terminal with the server at port: the session's open or
   its next responses. 200: the script is run on the card (unless drop: the terminal
   lost it); any other answer ends the session; no answer (0) keeps the request to send
   again. Returns the status. */
static long agent_exchange(card_agent *a, uint16_t port, bool drop) {
    const char *open_h[] = {PROTO, a->from, NO_CT, NULL};
    const char *resp_h[] = {PROTO, a->from, RESP_CT, NULL};
    reply r = a->in_session ? call(port, NULL, "POST", a->uri, resp_h, a->resp, a->resp_len)
                            : call(port, NULL, "POST", "/admin", open_h, "", 0);
    if (r.status == 200) {
        assert_true(reply_header(&r, "X-Admin-Next-URI", a->uri, sizeof a->uri));
        if (drop) {
            a->in_session = false;
        } else {
            relay(a, (const uint8_t *)r.body, r.len);
            a->in_session = true;
        }
    } else if (r.status != 0) {
        a->in_session = false;
    }
    free(r.body);
    return r.status;
}

/* The purse package's version in the card's registry (GET STATUS over SCP03 with the
   ISD), 0 when absent. */
static uint16_t purse_version(card_agent *a) {
    static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    static const uint8_t pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    seam_gp *gp = NULL;
    seam_gp_keys keys;
    uint16_t sw = 0, version = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_new(&a->link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_select(gp, isd, sizeof isd, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x01, NULL, &sw), SEAM_OK);
    uint8_t cmd[32], data[512];
    size_t n = 0, got = 0;
    assert_int_equal(
        seam_gp_build_get_status(SEAM_GP_ELFS, false, pkg, sizeof pkg, cmd, sizeof cmd, &n),
        SEAM_OK);
    assert_int_equal(seam_gp_transmit(gp, cmd, n, data, sizeof data, &got, &sw), SEAM_OK);
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

/* ---- the operator ---- */

static void upload(const server_proc *s, const char *name) {
    size_t len = 0;
    uint8_t *module = http_read_app(name, &len);
    free(api(s, "POST", "/api/packages", "application/wasm", module, len, 201));
    free(module);
}

static void add_card(const server_proc *s, const card_agent *a) {
    char path[64];
    snprintf(path, sizeof path, "/api/cards/%s", a->cin);
    free(api(s, "PUT", path, NULL,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}",
             0, 201));
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", a->cin);
    free(api(s, "PUT", path, NULL, "{\"data\":\"DF010434333231DF0204000001F4\"}", 0, 204));
}

static int campaign(const server_proc *s, const char *kind, const char *version,
                    const card_agent *cards, int count) {
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\","
                     "\"targets\":[",
                     kind, version);
    for (int i = 0; i < count; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s\"%s\"", i ? "," : "", cards[i].cin);
    snprintf(body + n, sizeof body - (size_t)n, "]}");
    char *r = api(s, "POST", "/api/campaigns", NULL, body, 0, 201);
    cJSON *o = cJSON_Parse(r);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(r);
    return id;
}

/* The state of cin's target in campaign id ("" when absent); its claims in *claims. */
static void target_state(const server_proc *s, int id, const char *cin, char state[16],
                         int *claims) {
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    char *r = api(s, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(r);
    cJSON *t;
    state[0] = '\0';
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "targets")) {
        if (!strcasecmp(cJSON_GetObjectItem(t, "cin")->valuestring, cin)) {
            snprintf(state, 16, "%s", cJSON_GetObjectItem(t, "state")->valuestring);
            if (claims)
                *claims = cJSON_GetObjectItem(t, "claims")->valueint;
        }
    }
    cJSON_Delete(o);
    free(r);
}

/* ---- one run: the campaigns, with the server killed after exchange kill_at ---- */

typedef enum { CARRY_ON, DROP_SCRIPT, DURING } kill_way;

typedef struct {
    int at; /* after exchange number at (1, 2, ...) */
    kill_way way;
} kill_point;

typedef struct {
    pid_t pid;
    unsigned delay_us;
} killer_arg;

static void *killer(void *p) {
    killer_arg *k = p;
    usleep(k->delay_us);
    kill(k->pid, SIGKILL);
    return NULL;
}

/* Runs install then update over CARDS cards, with the server killed at points[0..kills)
   (increasing); returns the number of /admin exchanges. */
static int resumed; /* targets claimed again (their server was killed), over the runs */

static int run_campaigns(const char *db, const kill_point *points, int kills, unsigned *seed) {
    server_proc s;
    server_folder(&s, db);
    server_spawn(&s, 1);
    card_agent cards[CARDS];
    for (int i = 0; i < CARDS; i++)
        agent_open(&cards[i], s.dir, i);
    upload(&s, "purse.wasm");
    upload(&s, "purse_v2.wasm");
    for (int i = 0; i < CARDS; i++)
        add_card(&s, &cards[i]);
    int install = campaign(&s, "install", "1.0", cards, CARDS), update = 0;
    int exchanges = 0, next_kill = 0, killed = 0;
    time_t deadline = time(NULL) + 120;
    for (;;) {
        bool busy = false;
        for (int i = 0; i < CARDS; i++) {
            card_agent *a = &cards[i];
            bool kill_now = next_kill < kills && exchanges + 1 == points[next_kill].at;
            kill_way way = kill_now ? points[next_kill].way : CARRY_ON;
            pthread_t th;
            killer_arg ka = {.pid = s.pid, .delay_us = seed ? (unsigned)rand_r(seed) % 3000 : 0};
            if (kill_now && way == DURING)
                assert_int_equal(pthread_create(&th, NULL, killer, &ka), 0);
            long st = agent_exchange(a, s.port, kill_now && way == DROP_SCRIPT);
            exchanges++;
            if (kill_now) {
                if (way == DURING)
                    pthread_join(th, NULL);
                server_kill(&s);
                server_spawn(&s, 1); /* the same folder and database, a new port */
                next_kill++;
                killed++;
            }
            busy |= st == 200 || a->in_session || st == 0;
            if (st != 200 && st != 0 && !a->in_session && !a->spent) {
                char state[16];
                target_state(&s, install, a->cin, state, NULL);
                if (!strcmp(state, "done")) { /* the holder uses the purse at once */
                    assert_int_equal(purse_open(&a->link), 0x9000);
                    assert_int_equal(purse_balance(&a->link), 500);
                    const uint8_t debit[] = {0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 120};
                    assert_int_equal(purse_send(&a->link, debit, sizeof debit, NULL, NULL), 0x9000);
                    a->spent = true;
                    if (!update) /* API writes while the work goes on */
                        update = campaign(&s, "update", "2.0", cards, CARDS);
                }
            }
        }
        if (busy)
            continue;
        bool all_done = update != 0;
        for (int i = 0; all_done && i < CARDS; i++) {
            char state[16];
            target_state(&s, update, cards[i].cin, state, NULL);
            all_done = !strcmp(state, "done");
        }
        if (all_done)
            break;
        if (time(NULL) > deadline)
            fail_msg("the campaigns did not end (%d exchanges, %d kills)", exchanges, killed);
        usleep(200 * 1000); /* a claim of the killed server has not expired yet */
    }
    /* every target done; every card at 2.0, PIN 4321, the spent balance kept */
    for (int i = 0; i < CARDS; i++) {
        char state[16];
        int claims = 0;
        target_state(&s, install, cards[i].cin, state, &claims);
        assert_string_equal(state, "done");
        resumed += claims - 1;
        target_state(&s, update, cards[i].cin, state, &claims);
        assert_string_equal(state, "done");
        resumed += claims - 1;
        assert_int_equal(purse_version(&cards[i]), 0x0200);
        assert_int_equal(purse_open(&cards[i].link), 0x9000);
        assert_int_equal(purse_balance(&cards[i].link), 380);
    }
    /* every acknowledged API write is there */
    char *r = api(&s, "GET", "/api/packages", NULL, NULL, 0, 200);
    assert_non_null(strstr(r, "\"1.0\""));
    assert_non_null(strstr(r, "\"2.0\""));
    free(r);
    for (int i = 0; i < CARDS; i++) {
        char path[64];
        snprintf(path, sizeof path, "/api/cards/%s", cards[i].cin);
        free(api(&s, "GET", path, NULL, NULL, 0, 200));
    }
    r = api(&s, "GET", "/api/campaigns", NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(r);
    cJSON *list = cJSON_IsArray(o) ? o : cJSON_GetObjectItem(o, "campaigns");
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON_Delete(o);
    free(r);
    assert_int_equal(killed, kills);
    server_kill(&s);
    for (int i = 0; i < CARDS; i++)
        agent_close(&cards[i]);
    server_folder_remove(&s);
    return exchanges;
}

/* X5: SIGKILL at each exchange k of a whole run, on SQLite, the way cycling with k. */
static void kill_9_at_every_exchange_loses_nothing_sqlite_X5(void **state) {
    (void)state;
    int total = run_campaigns(NULL, NULL, 0, NULL); /* no kill: how many exchanges */
    printf("# a run without kills: %d exchanges; one run per kill point follows\n", total);
    unsigned seed = 12;
    for (int k = 1; k <= total; k++) {
        kill_point p = {.at = k, .way = (kill_way)(k % 3)};
        run_campaigns(NULL, &p, 1, &seed);
    }
    printf("# %d targets resumed after a kill\n", resumed);
    assert_true(resumed > 0); /* the kills did land on claimed steps */
}

/* X5: the same on PostgreSQL, at a few points (each way once) and twice in one run. */
static void kill_9_mid_campaign_loses_nothing_postgresql_X5(void **state) {
    (void)state;
    unsigned seed = 34;
    static const kill_point one[][1] = {{{2, CARRY_ON}}, {{5, DROP_SCRIPT}}, {{8, DURING}}};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        run_campaigns(backend_fresh_url(), one[i], 1, &seed);
    static const kill_point two[] = {{4, DURING}, {11, CARRY_ON}};
    run_campaigns(backend_fresh_url(), two, 2, &seed);
}

/* ---- two servers on one PostgreSQL ---- */

typedef struct {
    server_proc *srv;
    int index; /* 0 or 1 */
    card_agent *cards;
    int sessions, steps_done, overlaps;
} pair_worker;

static pthread_mutex_t pair_lock = PTHREAD_MUTEX_INITIALIZER;

/* One terminal per server, walking the cards in its own order until nothing is left: a
   session that gets a script marks its card driven by this server until the session
   ends; finding it marked by the other server is an overlap. */
static void *pair_run(void *p) {
    pair_worker *w = p;
    for (int pass = 0; pass < 200; pass++) {
        bool any = false;
        for (int j = 0; j < PAIR_CARDS; j++) {
            card_agent *a = &w->cards[w->index ? PAIR_CARDS - 1 - j : j];
            const char *open_h[] = {PROTO, a->from, NO_CT, NULL};
            const char *resp_h[] = {PROTO, a->from, RESP_CT, NULL};
            reply r = call(w->srv->port, NULL, "POST", "/admin", open_h, "", 0);
            if (r.status != 200) {
                free(r.body);
                continue;
            }
            any = true;
            pthread_mutex_lock(&pair_lock);
            if (a->driven_by >= 0)
                w->overlaps++;
            a->driven_by = w->index;
            pthread_mutex_unlock(&pair_lock);
            w->sessions++;
            pthread_mutex_lock(&a->lock);
            while (r.status == 200) {
                char uri[160];
                if (!reply_header(&r, "X-Admin-Next-URI", uri, sizeof uri))
                    break;
                relay(a, (const uint8_t *)r.body, r.len);
                free(r.body);
                r = call(w->srv->port, NULL, "POST", uri, resp_h, a->resp, a->resp_len);
            }
            pthread_mutex_unlock(&a->lock);
            w->steps_done += r.status == 204;
            free(r.body);
            pthread_mutex_lock(&pair_lock);
            if (a->driven_by == w->index)
                a->driven_by = -1;
            pthread_mutex_unlock(&pair_lock);
        }
        if (!any)
            break;
    }
    return NULL;
}

/* Two `seam server` processes on one PostgreSQL, one install campaign over eight cards,
   each card asked for by a terminal of each server at the same time: never two
   sessions on one card, every target claimed once and done, every card personalized. */
static void two_servers_on_one_postgresql_drive_each_card_once_X5(void **state) {
    (void)state;
    server_proc a, b;
    server_folder(&a, backend_fresh_url());
    server_spawn(&a, 0);
    b = a; /* the same folder (master key, token) and database, another process */
    server_spawn(&b, 0);
    card_agent cards[PAIR_CARDS];
    for (int i = 0; i < PAIR_CARDS; i++)
        agent_open(&cards[i], a.dir, i);
    upload(&a, "purse.wasm");
    for (int i = 0; i < PAIR_CARDS; i++)
        add_card(i % 2 ? &b : &a, &cards[i]); /* either server takes API writes */
    int id = campaign(&b, "install", "1.0", cards, PAIR_CARDS);
    pair_worker w[2] = {{.srv = &a, .index = 0, .cards = cards},
                        {.srv = &b, .index = 1, .cards = cards}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, pair_run, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("# two servers: %d and %d sessions\n", w[0].sessions, w[1].sessions);
    assert_int_equal(w[0].overlaps + w[1].overlaps, 0);
    assert_int_equal(w[0].sessions + w[1].sessions, PAIR_CARDS);
    for (int i = 0; i < PAIR_CARDS; i++) {
        char st[16];
        int claims = 0;
        target_state(i % 2 ? &a : &b, id, cards[i].cin, st, &claims);
        assert_string_equal(st, "done");
        assert_int_equal(claims, 1);
        assert_int_equal(purse_open(&cards[i].link), 0x9000);
        assert_int_equal(purse_balance(&cards[i].link), 500);
    }
    server_kill(&a);
    server_kill(&b);
    for (int i = 0; i < PAIR_CARDS; i++)
        agent_close(&cards[i]);
    server_folder_remove(&a);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = 0;
    if (!strcmp(backend, "postgresql")) {
        if (backend_start("postgresql"))
            return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(kill_9_mid_campaign_loses_nothing_postgresql_X5),
            cmocka_unit_test(two_servers_on_one_postgresql_drive_each_card_once_X5),
        };
        failed = cmocka_run_group_tests_name("server kill -9, postgresql", tests, NULL, NULL);
        backend_stop();
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(kill_9_at_every_exchange_loses_nothing_sqlite_X5),
        };
        failed = cmocka_run_group_tests_name("server kill -9, sqlite", tests, NULL, NULL);
    }
    spawned_kill_all();
    curl_global_cleanup();
    return failed;
}
