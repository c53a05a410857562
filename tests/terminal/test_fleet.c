/*
 * seam fleet (src/terminal/fleet.c, src/cli/fleet*.c): many in-process cards,
 * one terminal session each from a pool of threads.
 *
 * - The pool at the API level: every card index is opened exactly once, a
 *   card that does not open and a server that cannot be reached are counted
 *   as outcomes, and the call says that not every card ended done.
 * - End to end against a real `seam server` subprocess (init + run on
 *   127.0.0.1 port 0, SQLite): the fleet's cards are created under one storage
 *   key, registered with their personalization through the admin API, and an
 *   install campaign of the purse reaches every card once: each target done
 *   after exactly one claim (no card driven twice, X5), one session per card
 *   ending 204, the terminal's bytes per card reported (P1), and a second run
 *   finds nothing to do.
 */
#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/terminal.h"

#define CARDS   20
#define THREADS 4
#define PERSO   "A0000005505501:DF010434333231DF0204000001F4"

/* ---- the pool, at the API level ------------------------------------------------------------- */

typedef struct {
    int opened[CARDS];
} open_log;

static seam_err refuse_all(void *ctx, size_t index, seam_gp_link *out) {
    open_log *log = ctx;
    (void)out;
    __atomic_add_fetch(&log->opened[index], 1, __ATOMIC_SEQ_CST);
    return SEAM_ERR_LINK_NO_CARD;
}

static void fleet_opens_every_card_once_and_counts_outcomes(void **state) {
    open_log log = {{0}};
    seam_terminal_fleet_card per_card[CARDS];
    seam_terminal_fleet_report report;
    seam_terminal_options session = {.server = "http://127.0.0.1:9/admin", .max_attempts = 1};
    seam_terminal_fleet_options o = {.cards = CARDS,
                                     .threads = THREADS,
                                     .open = refuse_all,
                                     .ctx = &log,
                                     .session = &session,
                                     .per_card = per_card};
    (void)state;
    assert_int_equal(seam_terminal_fleet_run(&o, &report), SEAM_ERR_TERMINAL_REFUSED);
    for (size_t i = 0; i < CARDS; i++) {
        assert_int_equal(log.opened[i], 1);
        assert_string_equal(per_card[i].outcome, "open");
        assert_int_equal(per_card[i].sessions, 0);
    }
    assert_int_equal(report.cards, CARDS);
    assert_int_equal(report.done, 0);
    assert_int_equal(report.outcome_count, 1);
    assert_string_equal(report.outcomes[0].outcome, "open");
    assert_int_equal(report.outcomes[0].count, CARDS);
    o.session = NULL;
    assert_int_equal(seam_terminal_fleet_run(&o, &report), SEAM_ERR_ARG);
}

/* ---- end to end with seam server ------------------------------------------------------------ */

typedef struct {
    char dir[64];
    char seam[512];
    char token[80];
    char url[64];
    pid_t server;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    const char *build = getenv("SEAM_BUILD_DIR");
    char cmd[1024], log[128], line[256];
    FILE *p;
    strcpy(f->dir, "/tmp/seam-tfleet-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->seam, sizeof f->seam, "%s/seam", build ? build : "build/release");
    snprintf(cmd, sizeof cmd, "'%s' server init '%s/srv'", f->seam, f->dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof line, p))
        if (strlen(line) == 65 && line[64] == '\n')
            memcpy(f->token, line, 64);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(strlen(f->token), 64);
    snprintf(log, sizeof log, "%s/server.log", f->dir);
    f->server = fork();
    if (f->server == 0) {
        char srv[128];
        snprintf(srv, sizeof srv, "%s/srv", f->dir);
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
            _exit(127);
        execl(f->seam, "seam", "server", "run", srv, "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    assert_true(f->server > 0);
    for (int i = 0; i < 200 && !f->url[0]; i++) {
        FILE *l = fopen(log, "r");
        unsigned port;
        while (l && fgets(line, sizeof line, l))
            if (sscanf(line, "seam server: listening on port %u", &port) == 1)
                snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", port);
        if (l)
            fclose(l);
        if (!f->url[0])
            usleep(50000);
    }
    assert_true(f->url[0] != 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[128];
    kill(f->server, SIGTERM);
    waitpid(f->server, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

typedef struct {
    char *data;
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ctx) {
    body *b = ctx;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, p, size * n);
    b->data = grown;
    b->len += size * n;
    b->data[b->len] = 0;
    return size * n;
}

/* An admin API request; returns the status, the answer in *out (caller frees). */
static long api(const fixture *f, const char *method, const char *path, const char *type,
                const void *data, size_t len, char **out) {
    char url[256], auth[128], ct[128];
    body b = {0};
    long status = 0;
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "%s%s", f->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", f->token);
    snprintf(ct, sizeof ct, "Content-Type: %s", type ? type : "application/json");
    h = curl_slist_append(curl_slist_append(h, auth), ct);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (data) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.data;
    else
        free(b.data);
    return status;
}

static void upload(const fixture *f, const char *name) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/apps/%s", build ? build : "build/release", name);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    static char module[1 << 20];
    size_t n = fread(module, 1, sizeof module, in);
    fclose(in);
    assert_int_equal(api(f, "POST", "/api/packages", "application/wasm", module, n, NULL), 201);
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Runs `seam fleet` with args; its exit status, its output in out. */
static int fleet(const fixture *f, const char *args, char *out, size_t size) {
    char cmd[1024];
    size_t n;
    snprintf(cmd, sizeof cmd, "'%s' fleet --cards %d --dir '%s/cards' --server %s %s", f->seam,
             CARDS, f->dir, f->url, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void fleet_install_campaign_reaches_every_card_once_P1_X5(void **state) {
    fixture *f = *state;
    char out[4096], cmd[1024], line[40], path[256], cins[CARDS][40];
    char campaign[CARDS * 20 + 200] = "";
    char *answer = NULL;
    size_t n = 0;
    FILE *in;

    /* the cards, one storage key, registered with their personalization */
    snprintf(cmd, sizeof cmd, "--no-run --threads %d --register %s --perso %s", THREADS, f->token,
             PERSO);
    assert_int_equal(fleet(f, cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "created 20 cards"));
    assert_non_null(strstr(out, "registered 20 cards"));
    snprintf(path, sizeof path, "%s/cards/fleet.key", f->dir);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/cards/card-00000.db.key", f->dir);
    assert_int_not_equal(access(path, F_OK), 0); /* no key file per image */
    snprintf(path, sizeof path, "%s/cards/fleet.cins", f->dir);
    in = fopen(path, "r");
    assert_non_null(in);
    while (n < CARDS && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        memcpy(cins[n], line, sizeof line);
        for (size_t k = 0; k < n; k++)
            assert_string_not_equal(cins[k], cins[n]); /* each card its own CIN */
        n++;
    }
    fclose(in);
    assert_int_equal(n, CARDS);

    upload(f, "purse.wasm");
    strcat(campaign, "{\"kind\":\"install\",\"package\":\"A00000055055\",\"version\":\"1.0\","
                     "\"targets\":[");
    for (size_t i = 0; i < CARDS; i++) {
        strcat(campaign, i ? ",\"" : "\"");
        strcat(campaign, cins[i]);
        strcat(campaign, "\"");
    }
    strcat(campaign, "]}");
    assert_int_equal(api(f, "POST", "/api/campaigns", NULL, campaign, strlen(campaign), NULL), 201);

    /* the run: every card one session, done */
    snprintf(cmd, sizeof cmd, "--threads %d --per-card '%s/per-card.tsv'", THREADS, f->dir);
    assert_int_equal(fleet(f, cmd, out, sizeof out), 0);
    printf("# %s", out);
    assert_non_null(strstr(out, "20 cards, 20 done"));
    assert_non_null(strstr(out, "bytes per card"));
    assert_non_null(strstr(out, "outcome done 20"));
    snprintf(path, sizeof path, "%s/per-card.tsv", f->dir);
    in = fopen(path, "r");
    assert_non_null(in);
    n = 0;
    char row[256];
    while (fgets(row, sizeof row, in)) {
        size_t index;
        char cin[40], outcome[32];
        unsigned sessions;
        unsigned long long up, down;
        assert_int_equal(
            sscanf(row, "%zu %39s %31s %u %llu %llu", &index, cin, outcome, &sessions, &up, &down),
            6);
        assert_int_equal(index, n);
        assert_string_equal(cin, cins[n]);
        assert_string_equal(outcome, "done");
        assert_int_equal(sessions, 1);
        assert_true(up > 0 && down > 1000); /* the package came down */
        n++;
    }
    fclose(in);
    assert_int_equal(n, CARDS);

    /* the server: every target done after exactly one claim */
    assert_int_equal(api(f, "GET", "/api/campaigns/1", NULL, NULL, 0, &answer), 200);
    assert_int_equal(count(answer, "\"state\":\"done\""), CARDS + 1); /* targets + campaign */
    assert_int_equal(count(answer, "\"claims\":1,"), CARDS);
    free(answer);

    /* nothing left: a second run gets 204 at once for every card */
    assert_int_equal(fleet(f, "--threads 2", out, sizeof out), 0);
    assert_non_null(strstr(out, "20 cards, 20 done"));
    assert_non_null(strstr(out, "0 scripts, 0 commands"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fleet_opens_every_card_once_and_counts_outcomes),
        cmocka_unit_test_setup_teardown(fleet_install_campaign_reaches_every_card_once_P1_X5, setup,
                                        teardown),
    };
    assert_int_equal(seam_terminal_global_init(), SEAM_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
