/*
 * The terminal's local state (include/seam/terminal.h): cards seen, sessions
 * with their counts and bytes, one transaction per change; and kill -9 at
 * random points loses nothing that was acknowledged (a child process makes
 * changes and acknowledges each through a pipe after the call returned; the
 * parent kills it, reopens the file and finds every acknowledged change).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/terminal.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static void remove_state(const char *path) {
    char p[160];
    snprintf(p, sizeof p, "%s", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/seam-tstate-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/terminal.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    remove_state(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_state_records_cards_and_sessions(void **state) {
    fixture *f = *state;
    seam_terminal_state *st;
    seam_terminal_card c;
    seam_terminal_session s;
    int64_t id, open;
    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_card_get(st, "0102", &c), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_terminal_state_card_seen(st, "0102", 100), SEAM_OK);
    assert_int_equal(seam_terminal_state_card_seen(st, "0102", 150), SEAM_OK);
    assert_int_equal(seam_terminal_state_card_get(st, "0102", &c), SEAM_OK);
    assert_int_equal(c.first_seen, 100);
    assert_int_equal(c.last_seen, 150);
    assert_int_equal(c.sessions, 0);

    assert_int_equal(seam_terminal_state_session_begin(st, "0102", 200, &id), SEAM_OK);
    assert_int_equal(seam_terminal_state_unfinished(st, "0102", &open), SEAM_OK);
    assert_int_equal(open, id);
    assert_int_equal(seam_terminal_state_session_add(st, id, 1, 3, 500, 700), SEAM_OK);
    assert_int_equal(seam_terminal_state_session_add(st, id, 1, 2, 50, 70), SEAM_OK);
    assert_int_equal(seam_terminal_state_session_end(st, id, "done", 210), SEAM_OK);
    assert_int_equal(seam_terminal_state_unfinished(st, "0102", &open), SEAM_ERR_NOT_FOUND);
    /* an ended session takes nothing more */
    assert_int_equal(seam_terminal_state_session_add(st, id, 1, 1, 1, 1), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_terminal_state_session_end(st, id, "done", 220), SEAM_ERR_NOT_FOUND);
    seam_terminal_state_close(st);

    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_session_get(st, id, &s), SEAM_OK);
    assert_string_equal(s.cin, "0102");
    assert_int_equal(s.start, 200);
    assert_int_equal(s.end, 210);
    assert_string_equal(s.outcome, "done");
    assert_int_equal(s.scripts, 2);
    assert_int_equal(s.commands, 5);
    assert_int_equal(s.bytes_up, 550);
    assert_int_equal(s.bytes_down, 770);
    assert_int_equal(seam_terminal_state_card_get(st, "0102", &c), SEAM_OK);
    assert_int_equal(c.sessions, 1);
    assert_int_equal(c.last_seen, 200);
    assert_int_equal(c.bytes_up, 550);
    assert_int_equal(c.bytes_down, 770);
    /* names that are not upper-case hex are refused */
    assert_int_equal(seam_terminal_state_card_seen(st, "01g2", 1), SEAM_ERR_ARG);
    assert_int_equal(seam_terminal_state_card_seen(st, "abcd", 1), SEAM_ERR_ARG);
    assert_int_equal(seam_terminal_state_card_seen(st, "'; DROP", 1), SEAM_ERR_ARG);
    seam_terminal_state_close(st);
}

/* Totals over every session, read back after a crash. */
typedef struct {
    unsigned begun, ended;
    uint64_t scripts, bytes_up;
} totals;

static int add_up(void *ctx, const seam_terminal_session *s) {
    totals *t = ctx;
    t->begun++;
    t->ended += s->end != 0;
    t->scripts += s->scripts;
    t->bytes_up += s->bytes_up;
    return 0;
}

/* The totals after the first n operations of the child's sequence: op j begins a session
   (j % 3 == 0), adds one script and 100 bytes (1), ends it (2). */
static totals expected_after(unsigned n) {
    totals t = {(n + 2) / 3, n / 3, (n + 1) / 3, 100ull * ((n + 1) / 3)};
    return t;
}

static bool totals_equal(totals a, totals b) {
    return a.begun == b.begun && a.ended == b.ended && a.scripts == b.scripts &&
           a.bytes_up == b.bytes_up;
}

/* The child: runs operations for ever, writing one byte to fd after each returned. */
static void child_run(const char *path, int fd) {
    seam_terminal_state *st;
    int64_t id = 0;
    if (seam_terminal_state_open(path, &st) != SEAM_OK)
        _exit(3);
    for (unsigned j = 0;; j++) {
        seam_err e = j % 3 == 0   ? seam_terminal_state_session_begin(st, "A1B2", j, &id)
                     : j % 3 == 1 ? seam_terminal_state_session_add(st, id, 1, 2, 100, 200)
                                  : seam_terminal_state_session_end(st, id, "done", j);
        if (e)
            _exit(4);
        if (write(fd, "+", 1) != 1)
            _exit(5);
    }
}

/* kill -9 at random points: every acknowledged change is there after reopening, and at
   most the one in flight more. */
static void test_state_kill9_loses_nothing_acknowledged(void **state) {
    fixture *f = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int round = 0; round < 6; round++) {
        unsigned target = 1 + (unsigned)(rand() % 120), acked = 0;
        int fds[2], status;
        char buf[64];
        ssize_t n;
        pid_t pid;
        seam_terminal_state *st;
        totals got = {0};
        remove_state(f->path);
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(f->path, fds[1]);
        }
        close(fds[1]);
        while (acked < target && (n = read(fds[0], buf, 1)) == 1)
            acked++;
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        while ((n = read(fds[0], buf, sizeof buf)) > 0) /* acks written before the kill */
            acked += (unsigned)n;
        close(fds[0]);

        assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
        assert_int_equal(seam_terminal_state_sessions(st, 0, add_up, &got), SEAM_OK);
        seam_terminal_state_close(st);
        if (!totals_equal(got, expected_after(acked)) &&
            !totals_equal(got, expected_after(acked + 1)))
            fail_msg("round %d: %u acknowledged, found %u begun, %u ended, %llu scripts", round,
                     acked, got.begun, got.ended, (unsigned long long)got.scripts);
    }
}

/* The toolkit's later reports (S7, X4): one row per card, replaced, read back whole,
   deleted; bad arguments and a row this code did not write are refused, never read past. */
static void test_state_keeps_one_report_per_card_S7(void **state) {
    fixture *f = *state;
    seam_terminal_state *st;
    seam_terminal_report r, got;
    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
    memset(&r, 0, sizeof r);
    r.state = SEAM_TERMINAL_REPORT_TO_RUN;
    r.number = 7;
    r.type = 0x5F;
    r.qualifier = 0x02;
    r.objects_len = sizeof r.objects; /* the longest the toolkit keeps */
    memset(r.objects, 0xA5, r.objects_len);
    assert_int_equal(seam_terminal_state_report_put(st, "A1B2", &r), SEAM_OK);
    assert_int_equal(seam_terminal_state_report_get(st, "C3D4", &got), SEAM_ERR_NOT_FOUND);
    r.state = SEAM_TERMINAL_REPORT_TO_SEND;
    r.envelope_len = 3;
    memcpy(r.envelope, "\xD6\x01\xE2", 3);
    assert_int_equal(seam_terminal_state_report_put(st, "A1B2", &r), SEAM_OK); /* replaced */
    seam_terminal_state_close(st);
    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK); /* as after a restart */
    assert_int_equal(seam_terminal_state_report_get(st, "A1B2", &got), SEAM_OK);
    assert_int_equal(got.state, SEAM_TERMINAL_REPORT_TO_SEND);
    assert_int_equal(got.number, 7);
    assert_int_equal(got.type, 0x5F);
    assert_int_equal(got.qualifier, 0x02);
    assert_int_equal(got.objects_len, sizeof r.objects);
    assert_memory_equal(got.objects, r.objects, sizeof r.objects);
    assert_int_equal(got.envelope_len, 3);
    assert_memory_equal(got.envelope, "\xD6\x01\xE2", 3);
    /* refused: a bad CIN, a state that is none, lengths past the buffers */
    assert_int_equal(seam_terminal_state_report_put(st, "a1b2", &r), SEAM_ERR_ARG);
    assert_int_equal(seam_terminal_state_report_put(st, "", &r), SEAM_ERR_ARG);
    r.state = 0;
    assert_int_equal(seam_terminal_state_report_put(st, "C3D4", &r), SEAM_ERR_ARG);
    r.state = SEAM_TERMINAL_REPORT_TO_RUN;
    r.objects_len = sizeof r.objects + 1;
    assert_int_equal(seam_terminal_state_report_put(st, "C3D4", &r), SEAM_ERR_ARG);
    assert_int_equal(seam_terminal_state_report_get(st, "C3D4", &got), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_terminal_state_report_delete(st, "A1B2"), SEAM_OK);
    assert_int_equal(seam_terminal_state_report_get(st, "A1B2", &got), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_terminal_state_report_delete(st, "A1B2"), SEAM_OK); /* none: fine */
    seam_terminal_state_close(st);
}

/* A row too long for the buffers (written by something else) is refused, not copied. */
static void test_state_refuses_a_malformed_report_S7(void **state) {
    fixture *f = *state;
    seam_terminal_state *st;
    seam_terminal_report got;
    char cmd[512];
    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
    seam_terminal_state_close(st);
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"INSERT INTO tk_report VALUES('A1B2', 1, 7, zeroblob(300), x'')\"",
             f->path);
    if (system(cmd) != 0)
        skip(); /* no sqlite3 tool */
    assert_int_equal(seam_terminal_state_open(f->path, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_report_get(st, "A1B2", &got), SEAM_ERR_TERMINAL_STATE);
    seam_terminal_state_close(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_records_cards_and_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_kill9_loses_nothing_acknowledged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_keeps_one_report_per_card_S7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_refuses_a_malformed_report_S7, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
