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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_records_cards_and_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_kill9_loses_nothing_acknowledged, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
