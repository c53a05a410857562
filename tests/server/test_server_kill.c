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
#include "kill_harness.h"
#include "store_backend.h"

#define CARDS      3
#define PAIR_CARDS 8

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
