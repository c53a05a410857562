/*
 * The kill tests' harness (test_server_kill.c, test_server_resume.c; X5): the real
 * `seam server` as a subprocess on a fresh folder (SQLite) or a PostgreSQL store,
 * libcurl as a client that may find no server, and cards in this process with their
 * stand-in terminals: admin agents that speak the protocol as `seam terminal` does
 * (POST /admin, run each script on the card as it is, stop after a refused command,
 * POST the responses to the Next-URI). An agent can also be cut in the middle of a
 * script (card_agent.cut: the terminal lost power before that command), and counts
 * the MANAGE ELF UPGRADE start and abort commands its card received.
 */
#ifndef SEAM_TESTS_SERVER_KILL_HARNESS_H
#define SEAM_TESTS_SERVER_KILL_HARNESS_H

#include "http_test.h"
#include "purse_link.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/util.h"

#define PROTO      "X-Admin-Protocol: globalplatform-remote-admin/1.0"
#define KEY1       "404142434445464748494A4B4C4D4E4F"
#define NO_CT      "Content-Type:"
#define RESP_CT    "Content-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define SCRIPT_MAX (512u * 1024u)

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

static inline void spawned_track(pid_t pid, pid_t gone) {
    for (size_t i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] == gone) {
            spawned[i] = pid;
            return;
        }
}

static inline void spawned_kill_all(void) {
    for (size_t i = 0; i < sizeof spawned / sizeof spawned[0]; i++)
        if (spawned[i] > 0) {
            kill(spawned[i], SIGKILL);
            waitpid(spawned[i], NULL, 0);
            spawned[i] = 0;
        }
}

/* Starts `seam server run` on the folder (lease seconds; 0: the default) and reads the
   port it prints. */
static inline void server_spawn(server_proc *s, int lease) {
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
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a test that aborts */
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

static inline void server_kill(server_proc *s) {
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
static inline void server_folder(server_proc *s, const char *db) {
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

static inline void server_folder_remove(server_proc *s) {
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

static inline reply call(uint16_t port, const char *token, const char *method, const char *path,
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
static inline char *api(const server_proc *s, const char *method, const char *path, const char *ct,
                        const void *body, size_t len, long want) {
    char type[64];
    snprintf(type, sizeof type, "Content-Type: %s", ct ? ct : "application/json");
    const char *h[] = {type, NULL};
    reply r = call(s->port, s->token, method, path, h, body, body && !len ? strlen(body) : len);
    if (r.status != want)
        fail_msg("%s %s: %ld %s", method, path, r.status, r.body);
    return r.body;
}

static inline bool reply_header(const reply *r, const char *name, char *out, size_t cap) {
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
    /* A cut, the terminal losing power mid-script: before the nth command of a script with
       INS ins (and P1 p1 unless -1), the agent stops; nothing more reaches the card, no
       response is posted, and its next exchange opens a new session. Once (done). */
    struct {
        uint8_t ins;
        int p1, nth, seen;
        bool done;
    } cut;
    bool was_cut; /* the last exchange was cut */
    int starts;   /* MANAGE ELF UPGRADE start commands the card received */
    int aborts;   /* MANAGE ELF UPGRADE abort commands the card received */
} card_agent;

static inline void agent_open(card_agent *a, const char *dir, int i) {
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

static inline void agent_close(card_agent *a) {
    seam_gp_link_close(&a->link);
    seam_card_close(a->card);
    free(a->resp);
    pthread_mutex_destroy(&a->lock);
}

/* True (and the cut spent) when apdu is where a->cut stops the agent. */
static inline bool cut_here(card_agent *a, const uint8_t *apdu, size_t len) {
    if (a->cut.nth <= 0 || a->cut.done || len < 4 || apdu[1] != a->cut.ins ||
        (a->cut.p1 >= 0 && apdu[2] != a->cut.p1))
        return false;
    a->cut.done = ++a->cut.seen == a->cut.nth;
    return a->cut.done;
}

/* Runs the command script on the card as it is; the response script in a->resp. False when
   a->cut stopped it half-way (the responses are not to be posted). */
static inline bool relay(card_agent *a, const uint8_t *cmds, size_t len) {
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
        if (cut_here(a, apdu, apdu_len))
            return false;
        a->starts += apdu_len > 4 && apdu[1] == 0xEA && apdu[2] == 0x01;
        a->aborts += apdu_len > 4 && apdu[1] == 0xEA && apdu[2] == 0x04;
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
    return true;
}

/* One exchange of the card's terminal with the server at port: the session's open or
   its next responses. 200: the script is run on the card (unless drop: the terminal
   lost it; or a cut stops it half-way: a->was_cut); any other answer ends the session; no
   answer (0) keeps the request to send again. Returns the status. */
static inline long agent_exchange(card_agent *a, uint16_t port, bool drop) {
    const char *open_h[] = {PROTO, a->from, NO_CT, NULL};
    const char *resp_h[] = {PROTO, a->from, RESP_CT, NULL};
    a->was_cut = false;
    reply r = a->in_session ? call(port, NULL, "POST", a->uri, resp_h, a->resp, a->resp_len)
                            : call(port, NULL, "POST", "/admin", open_h, "", 0);
    if (r.status == 200) {
        assert_true(reply_header(&r, "X-Admin-Next-URI", a->uri, sizeof a->uri));
        if (drop) {
            a->in_session = false;
        } else {
            a->in_session = relay(a, (const uint8_t *)r.body, r.len);
            a->was_cut = !a->in_session;
        }
    } else if (r.status != 0) {
        a->in_session = false;
    }
    free(r.body);
    return r.status;
}

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};

/* An SCP03 session of the test with the card's ISD over link (the default keys);
   seam_gp_free it. */
static inline seam_gp *isd_session(seam_gp_link *link) {
    seam_gp *gp = NULL;
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_new(link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_select(gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x01, NULL, &sw), SEAM_OK);
    return gp;
}

/* The purse package's version in the card's registry (GET STATUS over gp), 0 when absent. */
static inline uint16_t registry_purse_version(seam_gp *gp) {
    uint8_t cmd[32], data[512];
    size_t n = 0, got = 0;
    uint16_t sw = 0, version = 0;
    assert_int_equal(seam_gp_build_get_status(SEAM_GP_ELFS, false, purse_pkg, sizeof purse_pkg, cmd,
                                              sizeof cmd, &n),
                     SEAM_OK);
    assert_int_equal(seam_gp_transmit(gp, cmd, n, data, sizeof data, &got, &sw), SEAM_OK);
    if (sw == 0x9000) {
        seam_gp_status_iter it;
        seam_gp_status_entry e;
        seam_gp_status_iter_init(&it, data, got);
        while (seam_gp_status_iter_next(&it, &e) == SEAM_OK)
            version = e.version;
    }
    return version;
}

/* The card's MANAGE ELF UPGRADE status of the purse package over gp (00: no session). */
static inline uint8_t registry_purse_upgrade(seam_gp *gp) {
    seam_gp_upgrade_status st;
    uint16_t sw = 0;
    memset(&st, 0, sizeof st);
    assert_int_equal(
        seam_gp_upgrade(gp, SEAM_GP_UPGRADE_STATUS, purse_pkg, sizeof purse_pkg, NULL, 0, &st, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x9000);
    return st.status;
}

/* The purse package's version in the card's registry (GET STATUS over SCP03 with the
   ISD), 0 when absent. */
static inline uint16_t purse_version(card_agent *a) {
    seam_gp *gp = isd_session(&a->link);
    uint16_t version = registry_purse_version(gp);
    seam_gp_free(gp);
    return version;
}

/* ---- the operator ---- */

static inline void upload(const server_proc *s, const char *name) {
    size_t len = 0;
    uint8_t *module = http_read_app(name, &len);
    free(api(s, "POST", "/api/packages", "application/wasm", module, len, 201));
    free(module);
}

static inline void add_card(const server_proc *s, const card_agent *a) {
    char path[64];
    snprintf(path, sizeof path, "/api/cards/%s", a->cin);
    free(api(s, "PUT", path, NULL,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}",
             0, 201));
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", a->cin);
    free(api(s, "PUT", path, NULL, "{\"data\":\"DF010434333231DF0204000001F4\"}", 0, 204));
}

static inline int campaign(const server_proc *s, const char *kind, const char *version,
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

/* The state of cin's target in campaign id ("" when absent); when not NULL, its claims in
 *claims and its reason ("" when none) in reason[0..256). */
static inline void target_read(const server_proc *s, int id, const char *cin, char state[16],
                               int *claims, char *reason) {
    char path[64];
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    char *r = api(s, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(r);
    cJSON *t;
    state[0] = '\0';
    if (reason)
        reason[0] = '\0';
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "targets")) {
        if (!strcasecmp(cJSON_GetObjectItem(t, "cin")->valuestring, cin)) {
            snprintf(state, 16, "%s", cJSON_GetObjectItem(t, "state")->valuestring);
            if (claims)
                *claims = cJSON_GetObjectItem(t, "claims")->valueint;
            if (reason) {
                cJSON *why = cJSON_GetObjectItem(t, "reason");
                snprintf(reason, 256, "%s", cJSON_IsString(why) ? why->valuestring : "");
            }
        }
    }
    cJSON_Delete(o);
    free(r);
}

/* The state of cin's target in campaign id ("" when absent); its claims in *claims. */
static inline void target_state(const server_proc *s, int id, const char *cin, char state[16],
                                int *claims) {
    target_read(s, id, cin, state, claims, NULL);
}

#endif
