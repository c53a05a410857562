/*
 * The later report survives the terminal (issue 14, S7, X4; docs/terminal.md "The result
 * later"): the terminal's toolkit keeps the report it owes a card in its state file, one
 * row per card (its CIN), written before the TERMINAL RESPONSE that acknowledges it. A
 * child process runs the terminal (seam_terminal_tk on the card image, with the state
 * file) and is killed with SIGKILL at one point of the report's life: after the TERMINAL
 * RESPONSE (00 + reference) reached the card, after the synchronization ran, before the
 * ENVELOPE (event E2) went. A terminal started afresh on the same state and card image
 * finds the row at the card's TERMINAL PROFILE and goes on: devmgmt's INS 20 ends with
 * the outcome, the report is sent exactly once, the row is gone. Another card gets
 * nothing and the row stays for the card it belongs to. The same with the real `seam
 * terminal run --toolkit --state` as a subprocess, killed by a proxy in front of the
 * server during the synchronization (before its request is forwarded; after the server
 * answered), then `seam terminal run --toolkit --once` afresh.
 */
#define _GNU_SOURCE
#include "toolkit_loop.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "seam/toolkit.h"

#define POLICY "DF1A0102DF1B0102" /* changeset, the result later */

typedef enum { KILL_NONE, KILL_AFTER_RESPONSE, KILL_AFTER_SYNC, KILL_BEFORE_ENVELOPE } kill_point;

static kill_point kill_at;       /* the child's kill point */
static const char *state_to_see; /* the child checks the row is written before the TR */

/* One terminal on one card image: the card opened in this process, the toolkit with the
   sync engine and the state file, answering "yes" to GET INKEY, tracing to a file. */
typedef struct {
    seam_card *card;
    seam_gp_link card_link, link;
    seam_terminal_state *st;
    seam_terminal_tk *tk;
    FILE *answers, *display, *trace;
    seam_terminal_unattended ui;
    uint8_t response[258];
    size_t response_len;
} term;

static bool is_report(const uint8_t *c, size_t len) {
    return len > 12 && c[1] == 0xC2 && c[5] == SEAM_TK_EVENT_DOWNLOAD &&
           memmem(c, len, "\x99\x01\xE2", 3);
}

static bool is_later_response(const uint8_t *c, size_t len) {
    return len > 5 && c[1] == 0x14 && memmem(c, len, "\x7F\xD3\x0A", 3);
}

/* Rows of state_to_see in TO_RUN (a separate connection, as another process would). */
static int rows_to_run(void) {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_open_v2(state_to_see, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM tk_report WHERE state = 1", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* The card's link, where the child dies at its kill point. */
static seam_err link_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                              size_t size, size_t *response_len) {
    term *t = LOOP_OWNER(term, ctx);
    bool later = is_later_response(command, len);
    if (kill_at == KILL_BEFORE_ENVELOPE && is_report(command, len))
        raise(SIGKILL);
    if (kill_at != KILL_NONE && later && rows_to_run() != 1)
        _exit(4); /* the acknowledgement would go before the row: the test fails */
    seam_err e = seam_gp_link_transmit(&t->card_link, command, len, response, size, response_len);
    if (kill_at == KILL_AFTER_RESPONSE && later)
        raise(SIGKILL);
    return e;
}

static const seam_gp_link_ops term_ops = {loop_link_power_on, loop_link_reset, loop_link_power_off,
                                          link_transmit, loop_link_close};

static seam_err sync_then_die(const seam_terminal_sync_request *req,
                              seam_terminal_sync_outcome *out) {
    seam_err e = seam_terminal_sync(req, out);
    if (kill_at == KILL_AFTER_SYNC)
        raise(SIGKILL);
    return e;
}

/* Opens t on image with the state file, the trace appended to trace_path, and powers it
   up (the profile: a row for this card is found and goes on). No cmocka: the child too. */
static seam_err term_open(term *t, const toolkit_loop *l, const char *image, const char *state,
                          const char *trace_path) {
    static const char yes[] = "yes\nyes\nyes\n";
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    seam_terminal_tk_config cfg;
    seam_err e;
    memset(t, 0, sizeof *t);
    if ((e = seam_card_open(image, &t->card)) || (e = seam_link_card(t->card, &t->card_link)) ||
        (e = seam_terminal_state_open(state, &t->st)))
        return e;
    t->link = (seam_gp_link){&term_ops, &t->card_link, "card"};
    t->answers = fmemopen((void *)yes, strlen(yes), "r");
    t->display = fopen("/dev/null", "w");
    t->trace = fopen(trace_path, "a");
    if (!t->answers || !t->display || !t->trace)
        return SEAM_ERR_ARG;
    t->ui.answers = t->answers;
    t->ui.log = t->display;
    memset(&cfg, 0, sizeof cfg);
    cfg.ui = seam_terminal_ui_unattended(&t->ui);
    cfg.imei = LOOP_IMEI;
    cfg.log = t->trace;
    if ((e = seam_terminal_tk_new(&t->link, &cfg, &t->tk)))
        return e;
    const seam_terminal_tk_sync sync = {
        .run = sync_then_die, .dm_path = l->dm, .password = SECRET_A};
    if ((e = seam_terminal_tk_set_sync(t->tk, &sync)) ||
        (e = seam_terminal_tk_set_state(t->tk, t->st)))
        return e;
    if ((e = seam_gp_link_power_on(&t->link, atr, sizeof atr, &atr_len)))
        return e;
    return seam_terminal_tk_power_up(t->tk);
}

static void term_close(term *t) {
    seam_terminal_tk_free(t->tk);
    seam_terminal_state_close(t->st);
    seam_gp_link_close(&t->card_link);
    seam_card_close(t->card);
    if (t->answers)
        fclose(t->answers);
    if (t->display)
        fclose(t->display);
    if (t->trace)
        fclose(t->trace);
}

/* devmgmt's last result (INS 20, 22 bytes) into t->response, through the terminal. */
static void last_result(term *t) {
    static const uint8_t open[] = {0x00, 0x70, 0x00, 0x00, 0x01};
    static const uint8_t select[] = {0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00,
                                     0x00, 0x05, 0x44, 0x4D, 0x01, 0x00};
    static const uint8_t status[] = {0x81, 0x20, 0x00, 0x00, 0x00};
    static const uint8_t close[] = {0x00, 0x70, 0x80, 0x01};
    uint8_t r[258];
    size_t n;
    assert_int_equal(seam_terminal_tk_transmit(t->tk, open, sizeof open, r, sizeof r, &n), 0);
    assert_int_equal(seam_terminal_tk_transmit(t->tk, select, sizeof select, r, sizeof r, &n), 0);
    assert_int_equal(seam_terminal_tk_transmit(t->tk, status, sizeof status, t->response,
                                               sizeof t->response, &t->response_len),
                     SEAM_OK);
    assert_int_equal(t->response_len, 22 + 2);
    assert_int_equal(seam_terminal_tk_transmit(t->tk, close, sizeof close, r, sizeof r, &n), 0);
}

/* How often text occurs in the file at path. */
static int occurrences(const char *path, const char *text) {
    static char buf[1 << 18];
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    int count = 0;
    if (fp)
        fclose(fp);
    buf[n] = 0;
    for (const char *p = buf; (p = strstr(p, text)) != NULL; p++)
        count++;
    return count;
}

/* The CIN the toolkit read ("toolkit: card CIN XX..") from the trace at path. */
static void cin_of(const char *path, char cin[SEAM_TERMINAL_CIN_HEX]) {
    char line[256];
    FILE *fp = fopen(path, "r");
    cin[0] = 0;
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "toolkit: card CIN %32[0-9A-F]", cin) == 1)
            break;
    fclose(fp);
    assert_true(cin[0] != 0);
}

typedef struct {
    toolkit_loop l;
    char state[192], child_trace[192], trace[192], other[192];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    loop_open(&f->l, POLICY);
    snprintf(f->state, sizeof f->state, "%s/terminal.db", f->l.dir);
    snprintf(f->child_trace, sizeof f->child_trace, "%s/child.trace", f->l.dir);
    snprintf(f->trace, sizeof f->trace, "%s/fresh.trace", f->l.dir);
    snprintf(f->other, sizeof f->other, "%s/other.db", f->l.dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    loop_close(&f->l);
    free(f);
    return 0;
}

/* A terminal in a child process on the card and the state, killed at point k while the
   location event's session runs; the row it left is in state `left`. */
static void killed_at(fixture *f, kill_point k, seam_terminal_report_state left) {
    static const uint8_t normal[] = {0x9B, 0x01, 0x00};
    int status = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        term t;
        bool sent = false;
        kill_at = k;
        state_to_see = f->state;
        if (term_open(&t, &f->l, f->l.image, f->state, f->child_trace))
            _exit(3);
        (void)seam_terminal_tk_event(t.tk, SEAM_TK_EVENT_LOCATION_STATUS, normal, 3, &sent);
        _exit(5); /* not killed: the kill point was never reached */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* nothing reported yet (before the envelope: logged as it was about to go, not sent) */
    assert_int_equal(occurrences(f->child_trace, "9901E2"), k == KILL_BEFORE_ENVELOPE ? 1 : 0);
    char cin[SEAM_TERMINAL_CIN_HEX];
    seam_terminal_state *st = NULL;
    seam_terminal_report row;
    cin_of(f->child_trace, cin);
    assert_int_equal(seam_terminal_state_open(f->state, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_report_get(st, cin, &row), SEAM_OK);
    assert_int_equal(row.state, left);
    assert_true(row.number != 0);
    seam_terminal_state_close(st);
}

/* A fresh terminal on the same card and state: the report is delivered at the profile,
   exactly once (a second power-up sends nothing), devmgmt has the outcome, the row is
   gone; sent: the counts devmgmt records (-1: not checked). */
static void fresh_terminal_delivers(fixture *f, int sent) {
    term t;
    char cin[SEAM_TERMINAL_CIN_HEX];
    seam_terminal_report row;
    assert_int_equal(term_open(&t, &f->l, f->l.image, f->state, f->trace), SEAM_OK);
    fflush(t.trace);
    assert_int_equal(occurrences(f->trace, "9901E2"), 1);
    last_result(&t);
    assert_int_equal(t.response[0], 0x01); /* synchronized, no longer 05 pending */
    assert_int_equal(t.response[1], 0x00);
    if (sent >= 0)
        assert_int_equal(t.response[16] << 8 | t.response[17], sent);
    cin_of(f->trace, cin);
    assert_int_equal(seam_terminal_state_report_get(t.st, cin, &row), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_terminal_tk_power_up(t.tk), SEAM_OK); /* the next profile */
    fflush(t.trace);
    assert_int_equal(occurrences(f->trace, "9901E2"), 1);
    term_close(&t);
    assert_true(copy_has(&f->l.srv, LOOP_IMEI, "ringtone", "classic"));
}

/* Killed after the TERMINAL RESPONSE (00 + reference) reached the card: the row, written
   before it, is TO_RUN; the fresh terminal synchronizes and reports. */
static void report_survives_a_kill_after_the_response_S7_X4(void **state) {
    fixture *f = *state;
    killed_at(f, KILL_AFTER_RESPONSE, SEAM_TERMINAL_REPORT_TO_RUN);
    fresh_terminal_delivers(f, 3);
}

/* Killed after the synchronization ran, before its report was built: the row is TO_RUN;
   the fresh terminal synchronizes again (the server has the records) and reports. */
static void report_survives_a_kill_after_the_sync_S7_X4(void **state) {
    fixture *f = *state;
    killed_at(f, KILL_AFTER_SYNC, SEAM_TERMINAL_REPORT_TO_RUN);
    fresh_terminal_delivers(f, -1);
}

/* Killed before the ENVELOPE went: the row is TO_SEND with the envelope; the fresh
   terminal sends it as built (the first run's counts: 3 sent). */
static void report_survives_a_kill_before_the_envelope_S7_X4(void **state) {
    fixture *f = *state;
    killed_at(f, KILL_BEFORE_ENVELOPE, SEAM_TERMINAL_REPORT_TO_SEND);
    fresh_terminal_delivers(f, 3);
}

/* Another card behind the restarted terminal gets nothing (its INS 20: 00 none) and the
   row stays; the card it belongs to gets it afterwards. */
static void report_only_for_its_own_card_S7_X4(void **state) {
    fixture *f = *state;
    char cin[SEAM_TERMINAL_CIN_HEX], other_trace[240];
    seam_terminal_report row;
    term t;
    killed_at(f, KILL_BEFORE_ENVELOPE, SEAM_TERMINAL_REPORT_TO_SEND);
    cin_of(f->child_trace, cin);
    char first[192];
    snprintf(first, sizeof first, "%s", f->l.image);
    snprintf(f->l.image, sizeof f->l.image, "%s", f->other); /* a second card, its own CIN */
    loop_make_card(&f->l, POLICY);
    snprintf(f->l.image, sizeof f->l.image, "%s", first);
    snprintf(other_trace, sizeof other_trace, "%s/other.trace", f->l.dir);
    assert_int_equal(term_open(&t, &f->l, f->other, f->state, other_trace), SEAM_OK);
    fflush(t.trace);
    assert_int_equal(occurrences(other_trace, "9901E2"), 0);
    assert_int_equal(occurrences(other_trace, cin), 0); /* a different CIN was read */
    last_result(&t);
    assert_int_equal(t.response[0], 0x00); /* none */
    assert_int_equal(seam_terminal_state_report_get(t.st, cin, &row), SEAM_OK);
    assert_int_equal(row.state, SEAM_TERMINAL_REPORT_TO_SEND);
    term_close(&t);
    seam_card_remove(f->other);
    fresh_terminal_delivers(f, 3);
}

/* ---- the same with `seam terminal run --toolkit --state` as a subprocess ----------- */

/* `seam terminal run --toolkit` on image with the state, the sync through port, traced
   into out; once: power-up, the loop, exit (its status), else in the background (its pid
   once the profile is sent). */
static pid_t terminal_cli(fixture *f, const char *image, const char *out, bool once) {
    char bin[512], answers[224], display[224];
    snprintf(bin, sizeof bin, "%s/seam", loop_build_dir());
    snprintf(answers, sizeof answers, "%s/answers.txt", f->l.dir);
    snprintf(display, sizeof display, "%s/display.log", f->l.dir);
    FILE *fp = fopen(answers, "w");
    assert_non_null(fp);
    fputs("yes\nyes\n", fp);
    fclose(fp);
    const char *argv[] = {"seam",
                          "terminal",
                          "run",
                          "--toolkit",
                          "--image",
                          image,
                          "--state",
                          f->state,
                          "--answers",
                          answers,
                          "--display-log",
                          display,
                          "--imei",
                          LOOP_IMEI,
                          "--dm",
                          f->l.dm,
                          "--sync-password",
                          SECRET_A,
                          "--trace",
                          once ? "--once" : NULL,
                          NULL};
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (once) {
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        return 0;
    }
    for (int i = 0; i < 1200 && occurrences(out, "toolkit: profile sent") == 0; i++) {
        assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* bounded, never on time */
        usleep(50000);
    }
    assert_int_equal(occurrences(out, "toolkit: profile sent"), 1);
    return pid;
}

/* `seam terminal run --toolkit` killed by the proxy at exchange `at` of the sync (before
   it is forwarded: the TERMINAL RESPONSE went, nothing ran; after the server answered:
   the sync ran on the server); a fresh `seam terminal run --toolkit --once` on the same
   state and card delivers the report once; devmgmt's INS 20 has the outcome. */
static void cli_killed_then_fresh(fixture *f, int at, kill_act act) {
    proxy p = {.srv = &f->l.srv, .kill_at = at, .act = act};
    char image[192], out[224], fresh[224], after[224], cin[SEAM_TERMINAL_CIN_HEX];
    seam_terminal_report row;
    seam_terminal_state *st = NULL;
    int status = 0;
    term t;
    proxy_start(&p);
    snprintf(image, sizeof image, "%s/proxied.db", f->l.dir);
    snprintf(out, sizeof out, "%s/cli.out", f->l.dir);
    snprintf(fresh, sizeof fresh, "%s/cli-fresh.out", f->l.dir);
    snprintf(after, sizeof after, "%s/after.trace", f->l.dir);
    char first[192];
    uint16_t port = f->l.srv.port;
    snprintf(first, sizeof first, "%s", f->l.image);
    snprintf(f->l.image, sizeof f->l.image, "%s", image); /* its policy's URL: the proxy */
    f->l.srv.port = p.port;
    loop_make_card(&f->l, POLICY);
    f->l.srv.port = port;
    snprintf(f->l.image, sizeof f->l.image, "%s", first);
    pid_t pid = terminal_cli(f, image, out, false);
    atomic_store(&p.terminal, pid);
    assert_int_equal(loop_run("'%s/seam' terminal event location normal --state '%s' >/dev/null",
                              loop_build_dir(), f->state),
                     0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_int_equal(occurrences(out, "9901E2"), 0);
    assert_int_equal(occurrences(out, "5F0082028281830100"), 1); /* acknowledged: 00 + ref */
    cin_of(out, cin);
    assert_int_equal(seam_terminal_state_open(f->state, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_report_get(st, cin, &row), SEAM_OK);
    assert_int_equal(row.state, SEAM_TERMINAL_REPORT_TO_RUN);
    seam_terminal_state_close(st);
    /* the server has the records only when it answered before the kill */
    assert_int_equal(copy_has(&f->l.srv, LOOP_IMEI, "ringtone", "classic"),
                     act == KILL_TERMINAL_AFTER);
    /* afresh, through the proxy (past its kill point it forwards) */
    terminal_cli(f, image, fresh, true);
    proxy_stop(&p);
    assert_int_equal(occurrences(fresh, "9901E2"), 1);
    assert_int_equal(occurrences(fresh, "report found, to run"), 1);
    assert_int_equal(term_open(&t, &f->l, image, f->state, after), SEAM_OK);
    last_result(&t);
    assert_int_equal(t.response[0], 0x01); /* synchronized, no longer 05 pending */
    assert_int_equal(seam_terminal_state_report_get(t.st, cin, &row), SEAM_ERR_NOT_FOUND);
    fflush(t.trace);
    assert_int_equal(occurrences(after, "9901E2"), 0); /* once: not again */
    term_close(&t);
    assert_true(copy_has(&f->l.srv, LOOP_IMEI, "ringtone", "classic"));
    seam_card_remove(image);
}

static void cli_report_survives_a_kill_during_the_sync_S7_X4(void **state) {
    cli_killed_then_fresh(*state, 1, KILL_TERMINAL_BEFORE);
}

static void cli_report_survives_a_kill_after_the_server_answered_S7_X4(void **state) {
    cli_killed_then_fresh(*state, 1, KILL_TERMINAL_AFTER);
}

int main(int argc, char **argv) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(report_survives_a_kill_after_the_response_S7_X4),
        T(report_survives_a_kill_after_the_sync_S7_X4),
        T(report_survives_a_kill_before_the_envelope_S7_X4),
        T(report_only_for_its_own_card_S7_X4),
        T(cli_report_survives_a_kill_during_the_sync_S7_X4),
        T(cli_report_survives_a_kill_after_the_server_answered_S7_X4),
    };
    return sync_tests_main(argc, argv, "the later report survives the terminal, server on ", tests,
                           sizeof tests / sizeof *tests);
}
