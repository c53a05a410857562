/*
 * kill -9 of the real `seam terminal run` in the middle of campaigns (docs/terminal.md,
 * "Faults"; X5, X4, P8). The terminal is the built binary, a subprocess on a card image
 * and a local state file (--state), as in test_http_terminal.c; the server is the built
 * `seam server run --lease 1` (kill_harness.h) on SQLite. Between them, an HTTP proxy of
 * the test (admin_proxy.h: it forwards, counts and cuts; it judges nothing).
 *
 * A run without a cut counts the POSTs of the campaign's admin session (the exchanges).
 * Then, for every exchange k and both ways, on a fresh card: the proxy holds the terminal's
 * request k, SIGKILLs the terminal, and drops the request (the server never saw the
 * responses) or forwards it and drops the server's answer (the server processed them; the
 * terminal never got the answer). The terminal is started again on the same image and
 * state and poked until the target ends. Then, after the cut that leaves the longest
 * resumed session (the answer of exchange 2 dropped), a second kill at every exchange of
 * the resumed session, both ways. For the install of the purse 1.0 and for the update to
 * 2.0 (after the holder spent 120), every time:
 *  - the target is done;
 *  - read on the card afterwards: the purse at the campaign's version, PIN 4321, balance
 *    500 (install) or 380 (update), no MANAGE ELF UPGRADE session left;
 *  - every state-changing command (INSTALL, LOAD, STORE DATA, SET STATUS, MANAGE ELF
 *    UPGRADE start / migrate / abort, DELETE) applied by the card (answered 9000, seen by
 *    the proxy in the response scripts the terminal posted, the cut one included) exactly
 *    as many times as in the run without a cut: start, INSTALL and the personalization once;
 *  - the terminal's local state: one session per admin session the proxy saw, each killed
 *    one closed "interrupted", the others "done"; each session's scripts, commands and
 *    bytes up/down equal to what the proxy delivered (every exchange the terminal got an
 *    answer for, nothing of the one in flight); the card's row the sum;
 *  - the server's byte accounting: 0 personalization bytes for the update (P8).
 */
#define _GNU_SOURCE /* pipe2 */
#include "kill_harness.h"

#include "admin_proxy.h"

#include <fcntl.h>
#include <poll.h>

#include "seam/terminal.h"

typedef struct {
    char image[160], state[160], log[160];
    char cin[40];
    bool has_cin;
} term_card;

typedef struct {
    server_proc srv;
    admin_proxy proxy;
    char url[64];
} rig;

/* ---- the card image ---- */

/* A card image, the terminal's state and log beside the server's folder; its CIN. */
static void card_new(rig *r, int i, term_card *c) {
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX], answer[64];
    size_t atr_len = 0, got = 0;
    memset(c, 0, sizeof *c);
    snprintf(c->image, sizeof c->image, "%s/../card%d.db", r->srv.dir, i);
    snprintf(c->state, sizeof c->state, "%s/../term%d.db", r->srv.dir, i);
    snprintf(c->log, sizeof c->log, "%s/../term%d.log", r->srv.dir, i);
    assert_int_equal(seam_card_create(c->image, 0, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    assert_int_equal(
        seam_gp_link_transmit(&link, select_isd, sizeof select_isd, answer, sizeof answer, &got),
        SEAM_OK);
    assert_int_equal(
        seam_gp_link_transmit(&link, get_cin, sizeof get_cin, answer, sizeof answer, &got),
        SEAM_OK);
    c->has_cin = got > 4 && answer[got - 2] == 0x90 && answer[0] == 0x45 && answer[1] > 0;
    if (c->has_cin)
        for (size_t k = 0; k < answer[1]; k++)
            snprintf(c->cin + 2 * k, 3, "%02X", answer[2 + k]);
    else
        snprintf(c->cin, sizeof c->cin, "0A0B0C0D0E0F%04X", (unsigned)i);
    seam_gp_link_close(&link);
    seam_card_close(card); /* the terminal process opens it */
}

/* What the card says once the terminal is gone. */
typedef struct {
    uint16_t version; /* of the purse package, 0: absent */
    uint8_t upgrade;  /* its MANAGE ELF UPGRADE status, 00: no session */
    uint16_t verify;  /* VERIFY 4321 */
    uint32_t balance; /* after VERIFY, when it was accepted */
} card_facts;

static card_facts card_read(const term_card *c) {
    card_facts f;
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    memset(&f, 0, sizeof f);
    assert_int_equal(seam_card_open(c->image, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    seam_gp *gp = isd_session(&link);
    f.version = registry_purse_version(gp);
    f.upgrade = registry_purse_upgrade(gp);
    seam_gp_free(gp);
    f.verify = purse_open(&link);
    if (f.verify == 0x9000)
        f.balance = purse_balance(&link);
    seam_gp_link_close(&link);
    seam_card_close(card);
    return f;
}

/* The holder spends amount (PIN 4321), the terminal gone. */
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

/* ---- the terminal, a subprocess ---- */

typedef struct {
    pid_t pid;
    int out; /* its stdout: one line per session that ended */
    char buf[1024];
    size_t len;
} term_proc;

static void terminal_start(rig *r, const term_card *c, term_proc *t) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char bin[512];
    snprintf(bin, sizeof bin, "%s/seam", build ? build : "build/release");
    const char *argv[16] = {"seam",   "terminal", "run",    "--server",   r->url, "--image",
                            c->image, "--state",  c->state, "--interval", "0"};
    int n = 11;
    if (!c->has_cin)
        argv[n++] = "--card-id", argv[n++] = c->cin;
    argv[n] = NULL;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    memset(t, 0, sizeof *t);
    t->pid = fork();
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a test that aborts */
        int log = open(c->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(p[1], 1);
        if (log >= 0)
            dup2(log, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    t->out = p[0];
    proxy_victim(&r->proxy, t->pid);
}

/* The next line the terminal printed: 1, 0 at EOF (it is gone), -1 after 30 s. */
static int terminal_line(term_proc *t, char *line, size_t cap) {
    for (;;) {
        char *nl = memchr(t->buf, '\n', t->len);
        if (nl) {
            size_t n = (size_t)(nl - t->buf);
            snprintf(line, cap, "%.*s", (int)n, t->buf);
            memmove(t->buf, nl + 1, t->len - n - 1);
            t->len -= n + 1;
            return 1;
        }
        struct pollfd pf = {.fd = t->out, .events = POLLIN};
        if (poll(&pf, 1, 30000) <= 0)
            return -1;
        ssize_t got = read(t->out, t->buf + t->len, sizeof t->buf - 1 - t->len);
        if (got <= 0)
            return 0;
        t->len += (size_t)got;
    }
}

static int wait_exit(pid_t pid) {
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

static void terminal_poke(const term_card *c) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s/seam' terminal poke --state '%s'",
             build ? build : "build/release", c->state);
    assert_int_equal(system(cmd), 0);
}

/* ---- the server's view ---- */

typedef struct {
    char state[16];
    int claims;
    double perso, total;
} target_view;

static target_view target_get(const rig *r, int id, const char *cin) {
    target_view v;
    char path[64];
    memset(&v, 0, sizeof v);
    snprintf(path, sizeof path, "/api/campaigns/%d", id);
    char *body = api(&r->srv, "GET", path, NULL, NULL, 0, 200);
    cJSON *o = cJSON_Parse(body);
    cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "targets")) {
        if (strcasecmp(cJSON_GetObjectItem(t, "cin")->valuestring, cin))
            continue;
        snprintf(v.state, sizeof v.state, "%s", cJSON_GetObjectItem(t, "state")->valuestring);
        v.claims = cJSON_GetObjectItem(t, "claims")->valueint;
        cJSON *b = cJSON_GetObjectItem(t, "bytes");
        v.perso = cJSON_GetObjectItem(b, "perso")->valuedouble;
        v.total = cJSON_GetObjectItem(b, "total")->valuedouble;
    }
    cJSON_Delete(o);
    free(body);
    return v;
}

static int campaign_one(const rig *r, const char *kind, const char *version, const char *cin) {
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"kind\":\"%s\",\"package\":\"A00000055055\",\"version\":\"%s\",\"targets\":[\"%s\"]}",
        kind, version, cin);
    char *res = api(&r->srv, "POST", "/api/campaigns", NULL, body, 0, 201);
    cJSON *o = cJSON_Parse(res);
    int id = cJSON_GetObjectItem(o, "id")->valueint;
    cJSON_Delete(o);
    free(res);
    return id;
}

static void card_register(const rig *r, const term_card *c) {
    char path[96];
    snprintf(path, sizeof path, "/api/cards/%s", c->cin);
    free(api(&r->srv, "PUT", path, NULL,
             "{\"keysets\":[{\"kvn\":48,\"enc\":\"" KEY1 "\",\"mac\":\"" KEY1 "\",\"dek\":\"" KEY1
             "\"}]}",
             0, 201));
    snprintf(path, sizeof path, "/api/cards/%s/personalization/A0000005505501", c->cin);
    free(api(&r->srv, "PUT", path, NULL, "{\"data\":\"DF010434333231DF0204000001F4\"}", 0, 204));
}

/* ---- one campaign driven by the terminal, cut at exchange cut_at ---- */

/* The terminal's local state before a drive: sessions and the card's totals. */
typedef struct {
    size_t count;
    seam_terminal_session sessions[PROXY_SESSIONS];
} state_sessions;

static int collect(void *ctx, const seam_terminal_session *s) {
    state_sessions *all = ctx;
    if (all->count < PROXY_SESSIONS)
        all->sessions[all->count++] = *s; /* newest first */
    return 0;
}

static void state_read(const term_card *c, state_sessions *all, seam_terminal_card *card) {
    seam_terminal_state *st = NULL;
    memset(all, 0, sizeof *all);
    memset(card, 0, sizeof *card);
    assert_int_equal(seam_terminal_state_open(c->state, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_sessions(st, 0, collect, all), SEAM_OK);
    seam_err e = seam_terminal_state_card_get(st, c->cin, card);
    assert_true(e == SEAM_OK || e == SEAM_ERR_NOT_FOUND);
    seam_terminal_state_close(st);
}

/* What a drive saw: exchanges, admin sessions, the POSTs of the second claimed one. */
typedef struct {
    int exchanges, sessions, resumed_posts;
} drive_result;

/* Runs the terminal on card c until campaign id's target ends, the proxy cutting at
   cuts[0..count); restarts it after each kill and pokes it until the target ends.
   Checks the local state against what the proxy saw. */
static drive_result drive(rig *r, const term_card *c, int id, const cut_point *cuts, int count) {
    state_sessions before, after;
    seam_terminal_card card_before, card_after;
    term_proc t;
    char line[512];
    int kills = 0, killed_in[PROXY_CUTS];
    drive_result res;
    state_read(c, &before, &card_before);
    proxy_arm(&r->proxy, cuts, count);
    terminal_start(r, c, &t);
    time_t deadline = time(NULL) + 60;
    for (;;) {
        int got = terminal_line(&t, line, sizeof line);
        if (got == 0) { /* the proxy killed it: start it again on the same image and state */
            close(t.out);
            assert_int_equal(wait_exit(t.pid), 128 + SIGKILL);
            if (kills == count)
                fail_msg("the terminal died with no cut");
            killed_in[kills] = proxy_cut_over(&r->proxy, kills + 1);
            kills++;
            terminal_start(r, c, &t);
            continue;
        }
        if (got < 0)
            fail_msg("the terminal ended no session in 30 s");
        target_view v = target_get(r, id, c->cin);
        if (!strcmp(v.state, "done") || !strcmp(v.state, "failed"))
            break;
        if (time(NULL) > deadline)
            fail_msg("the target did not end (state %s)", v.state);
        usleep(200 * 1000); /* the killed session's claim has not expired yet */
        terminal_poke(c);
    }
    assert_int_equal(kill(t.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(t.pid), 0);
    close(t.out);
    assert_int_equal(kills, count);

    /* the local state: every session the proxy saw, each as the proxy delivered it */
    state_read(c, &after, &card_after);
    admin_proxy *p = &r->proxy;
    pthread_mutex_lock(&p->lock);
    int n = p->session_count;
    res.exchanges = p->exchanges;
    res.sessions = n;
    res.resumed_posts = 0;
    assert_int_equal(after.count, before.count + (size_t)n);
    uint64_t up = 0, down = 0;
    for (int i = 0; i < n; i++) {
        const seam_terminal_session *s = &after.sessions[n - 1 - i]; /* oldest first */
        const proxy_session *seen = &p->sessions[i];
        if (s->scripts != seen->scripts || s->commands != seen->commands ||
            s->bytes_up != seen->up || s->bytes_down != seen->down)
            fail_msg("session %d (%s): the state says %u scripts, %u commands, %llu up, %llu "
                     "down; the proxy delivered %u, %u, %llu, %llu",
                     i, s->outcome, s->scripts, s->commands, (unsigned long long)s->bytes_up,
                     (unsigned long long)s->bytes_down, seen->scripts, seen->commands,
                     (unsigned long long)seen->up, (unsigned long long)seen->down);
        bool killed = false;
        for (int k = 0; k < kills; k++)
            killed |= killed_in[k] == i;
        assert_true(s->end != 0);
        assert_string_equal(s->outcome, killed ? "interrupted" : "done");
        if (seen->claimed == 2)
            res.resumed_posts = seen->posts;
        up += s->bytes_up, down += s->bytes_down;
    }
    pthread_mutex_unlock(&p->lock);
    assert_int_equal(card_after.sessions, card_before.sessions + (uint32_t)n);
    assert_int_equal(card_after.bytes_up, card_before.bytes_up + up);
    assert_int_equal(card_after.bytes_down, card_before.bytes_down + down);
    return res;
}

/* ---- the commands the card applied ---- */

/* True for an INS/P1 that changes the card's state when the card answers 9000. */
static bool state_changing(uint8_t ins, uint8_t p1) {
    return ins == 0xE6 || ins == 0xE8 || ins == 0xE2 || ins == 0xF0 || ins == 0xE4 ||
           (ins == 0xEA && p1 != SEAM_GP_UPGRADE_STATUS);
}

typedef struct {
    proxy_command commands[PROXY_COMMANDS];
    int kinds;
} applied_set;

static applied_set applied_now(admin_proxy *p) {
    applied_set a;
    pthread_mutex_lock(&p->lock);
    memcpy(a.commands, p->commands, sizeof a.commands);
    a.kinds = p->command_kinds;
    pthread_mutex_unlock(&p->lock);
    return a;
}

static int applied_of(const applied_set *a, uint8_t ins, uint8_t p1, uint8_t p2, int *sent) {
    for (int i = 0; i < a->kinds; i++)
        if (a->commands[i].ins == ins && a->commands[i].p1 == p1 && a->commands[i].p2 == p2) {
            if (sent)
                *sent = a->commands[i].sent;
            return a->commands[i].applied;
        }
    if (sent)
        *sent = 0;
    return 0;
}

/* The commands with INS ins, P1 with every bit of p1_bits and, for INSTALL, not in the
   load layout (P2 01) applied; sent into *sent. */
static int applied_ins(const applied_set *a, uint8_t ins, uint8_t p1_bits, int *sent) {
    int applied = 0;
    *sent = 0;
    for (int i = 0; i < a->kinds; i++)
        if (a->commands[i].ins == ins && (a->commands[i].p1 & p1_bits) == p1_bits &&
            !(ins == 0xE6 && a->commands[i].p2 == 0x01)) {
            applied += a->commands[i].applied;
            *sent += a->commands[i].sent;
        }
    return applied;
}

/* One line: every INS/P1 the card was sent, applied/sent. */
static void applied_print(const applied_set *a) {
    printf("#   commands (INS/P1 applied/sent):");
    for (int i = 0; i < a->kinds; i++)
        printf(" %02X/%02X%s%.0X %d/%d", a->commands[i].ins, a->commands[i].p1,
               a->commands[i].ins == 0xE6 ? "/" : "", (unsigned)a->commands[i].p2,
               a->commands[i].applied, a->commands[i].sent);
    printf("\n");
}

/* Every state-changing command applied as many times as in the run without a cut. */
static void applied_as_once(const applied_set *got, const applied_set *want, const char *what) {
    const applied_set *both[2] = {got, want};
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < both[side]->kinds; i++) {
            const proxy_command *k = &both[side]->commands[i];
            if (!state_changing(k->ins, k->p1))
                continue;
            int sent = 0, g = applied_of(got, k->ins, k->p1, k->p2, &sent),
                w = applied_of(want, k->ins, k->p1, k->p2, NULL);
            if (g != w)
                fail_msg("%s: %02X/%02X/%02X applied %d times (sent %d), %d without a cut", what,
                         k->ins, k->p1, k->p2, g, sent, w);
        }
}

/* ---- the sweep ---- */

static const char *const way_name[] = {"-", "request dropped", "answer dropped"};

/* "no cut", or where the cuts landed, into text. */
static const char *cuts_text(const cut_point *cuts, int count, char *text, size_t cap) {
    size_t n = 0;
    text[0] = '\0';
    if (!count)
        snprintf(text, cap, "no cut");
    for (int i = 0; i < count && n < cap; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s%s at exchange %d%s", i ? ", then " : "",
                              way_name[cuts[i].way], cuts[i].at,
                              cuts[i].claimed ? " of the resumed session" : "");
    return text;
}

typedef struct {
    drive_result drive;
    applied_set applied;
} baseline;

/* The install of 1.0 on card i, cut at cuts[0..count) (none: the baseline b is
   measured), then the checks; the card left installed. */
static drive_result install_run(rig *r, int i, const cut_point *cuts, int count, baseline *b,
                                term_card *c) {
    char text[160];
    card_new(r, i, c);
    card_register(r, c);
    int id = campaign_one(r, "install", "1.0", c->cin);
    drive_result d = drive(r, c, id, cuts, count);
    applied_set applied = applied_now(&r->proxy);
    target_view v = target_get(r, id, c->cin);
    card_facts f = card_read(c);
    int inst_sent = 0, perso_sent = 0;
    int inst = applied_ins(&applied, 0xE6, SEAM_GP_FOR_INSTALL, &inst_sent);
    int perso = applied_ins(&applied, 0xE6, SEAM_GP_FOR_PERSONALIZATION, &perso_sent);
    printf("# install, %s: %s, %d claim(s), %d session(s), %d exchanges; "
           "INSTALL [install] applied %d (sent %d), [personalization] applied %d (sent %d); "
           "server: %.0f bytes, perso %.0f\n",
           cuts_text(cuts, count, text, sizeof text), v.state, v.claims, d.sessions, d.exchanges,
           inst, inst_sent, perso, perso_sent, v.total, v.perso);
    applied_print(&applied);
    assert_string_equal(v.state, "done");
    assert_int_equal(f.version, 0x0100);
    assert_int_equal(f.upgrade, 0x00);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 500);
    if (!count) {
        b->drive = d;
        b->applied = applied;
        assert_int_equal(inst, 1);
        assert_int_equal(perso, 1);
    } else {
        applied_as_once(&applied, &b->applied, "install");
    }
    return d;
}

/* On card i: the install without a cut, 120 spent, then the update to 2.0 cut at
   cuts[0..count) (none: the baseline b is measured). */
static drive_result update_run(rig *r, int i, const cut_point *cuts, int count, baseline *install_b,
                               baseline *b) {
    term_card c;
    char text[160];
    install_run(r, i, NULL, 0, install_b, &c);
    card_spend(&c, 120);
    int id = campaign_one(r, "update", "2.0", c.cin);
    drive_result d = drive(r, &c, id, cuts, count);
    applied_set applied = applied_now(&r->proxy);
    target_view v = target_get(r, id, c.cin);
    card_facts f = card_read(&c);
    int start_sent = 0, migrate_sent = 0;
    int start = applied_of(&applied, 0xEA, SEAM_GP_UPGRADE_START, 0, &start_sent);
    int migrate = applied_of(&applied, 0xEA, SEAM_GP_UPGRADE_MIGRATE, 0, &migrate_sent);
    printf("# update, %s: %s, %d claim(s), %d session(s), %d exchanges; "
           "MANAGE ELF UPGRADE start applied %d (sent %d), migrate applied %d (sent %d); "
           "server: %.0f bytes, perso %.0f\n",
           cuts_text(cuts, count, text, sizeof text), v.state, v.claims, d.sessions, d.exchanges,
           start, start_sent, migrate, migrate_sent, v.total, v.perso);
    applied_print(&applied);
    assert_string_equal(v.state, "done");
    assert_int_equal(v.perso, 0); /* P8 */
    assert_int_equal(f.version, 0x0200);
    assert_int_equal(f.upgrade, 0x00);
    assert_int_equal(f.verify, 0x9000);
    assert_int_equal(f.balance, 380);
    int none = 0; /* no personalization reached the card */
    assert_int_equal(applied_ins(&applied, 0xE6, SEAM_GP_FOR_PERSONALIZATION, &none), 0);
    assert_int_equal(none, 0);
    assert_int_equal(applied_ins(&applied, 0xE2, 0x00, &none), 0);
    assert_int_equal(none, 0);
    if (!count) {
        b->drive = d;
        b->applied = applied;
        assert_int_equal(start, 1);
        assert_int_equal(migrate, 1);
    } else {
        applied_as_once(&applied, &b->applied, "update");
    }
    return d;
}

static void rig_up(rig *r) {
    server_folder(&r->srv, NULL);
    server_spawn(&r->srv, 1);
    upload(&r->srv, "purse.wasm");
    upload(&r->srv, "purse_v2.wasm");
    proxy_start(&r->proxy, r->srv.port);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)r->proxy.port);
}

static void rig_down(rig *r) {
    proxy_stop(&r->proxy);
    server_kill(&r->srv);
    server_folder_remove(&r->srv);
}

/* The sweep of one campaign kind: the baseline, then a cut at every exchange k of it, both
   ways; then, after the cut that makes the longest resumed session (the answer of
   exchange 2 dropped: the server sent a script nobody ran), a second cut at every
   exchange of the resumed session, both ways. */
typedef drive_result (*campaign_run)(rig *r, int i, const cut_point *cuts, int count, baseline *b);

static void sweep(campaign_run run) {
    rig r;
    baseline b;
    int card = 0;
    rig_up(&r);
    int resumed_posts = 0;
    run(&r, card++, NULL, 0, &b);
    for (int k = 1; k <= b.drive.exchanges; k++)
        for (cut_way w = CUT_DROP; w <= CUT_FORWARD; w++) {
            drive_result d = run(&r, card++, &(cut_point){.at = k, .way = w}, 1, &b);
            if (k == 2 && w == CUT_FORWARD)
                resumed_posts = d.resumed_posts;
        }
    cut_point two[2] = {{.at = 2, .way = CUT_FORWARD}};
    assert_true(resumed_posts >= 2);
    for (int j = 2; j <= resumed_posts; j++)
        for (cut_way w = CUT_DROP; w <= CUT_FORWARD; w++) {
            two[1] = (cut_point){.at = j, .claimed = 2, .way = w};
            run(&r, card++, two, 2, &b);
        }
    printf("# %d runs\n", card);
    rig_down(&r);
}

static baseline install_b; /* the update runs' installs */

static drive_result install_only(rig *r, int i, const cut_point *cuts, int count, baseline *b) {
    term_card c;
    return install_run(r, i, cuts, count, b, &c);
}

static drive_result update_after_install(rig *r, int i, const cut_point *cuts, int count,
                                         baseline *b) {
    return update_run(r, i, cuts, count, &install_b, b);
}

/* X5, X4: the terminal SIGKILLed at each exchange of an install's admin session (and of
   its resumed session), both ways, and started again: done once, nothing acknowledged
   lost. */
static void terminal_killed_at_each_exchange_of_an_install_resumes_X5_X4(void **state) {
    (void)state;
    sweep(install_only);
}

/* X5, X4, P8: the same for an update of a spent purse: done once, the data kept, no
   personalization byte on the connection. */
static void terminal_killed_at_each_exchange_of_an_update_resumes_X5_X4_P8(void **state) {
    (void)state;
    sweep(update_after_install);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(terminal_killed_at_each_exchange_of_an_install_resumes_X5_X4),
        cmocka_unit_test(terminal_killed_at_each_exchange_of_an_update_resumes_X5_X4_P8),
    };
    int failed = cmocka_run_group_tests_name("seam terminal kill -9", tests, NULL, NULL);
    spawned_kill_all();
    curl_global_cleanup();
    return failed;
}
