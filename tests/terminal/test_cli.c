/*
 * seam terminal as a program (src/cli/terminal.c) against a scripted
 * admin-protocol peer (scripted_peer.h, relay mechanics only): a session at
 * start and one per `seam terminal poke`; SIGTERM ends it cleanly; a terminal
 * killed with kill -9 in the middle of a session leaves it unfinished, and the
 * next start closes it as "interrupted" and opens a new one. With --toolkit,
 * toolkit messages (seam terminal event|menu) reach the toolkit and start no
 * session, an invalid one is dropped, a plain poke still starts a session.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scripted_peer.h"
#include "seam/card.h"
#include "seam/terminal.h"

typedef struct {
    char dir[64];
    char image[128];
    char state[128];
    char seam[512];
    char url[64];
    scripted_peer peer;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    seam_card *card;
    const char *build = getenv("SEAM_BUILD_DIR");
    strcpy(f->dir, "/tmp/seam-tcli-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->image, sizeof f->image, "%s/card.db", f->dir);
    snprintf(f->state, sizeof f->state, "%s/terminal.db", f->dir);
    snprintf(f->seam, sizeof f->seam, "%s/seam", build ? build : "build/release");
    assert_int_equal(seam_card_create(f->image, 0, &card), SEAM_OK);
    seam_card_close(card); /* the terminal process opens it */
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[400];
    peer_stop(&f->peer);
    assert_int_equal(seam_card_remove(f->image), SEAM_OK);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void start_peer(fixture *f, const peer_answer *answers, size_t n) {
    assert_int_equal(peer_start(&f->peer, answers, n), 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", f->peer.port);
}

/* Starts seam with the NULL-ended arguments; returns its pid. */
static pid_t spawn(const fixture *f, const char *const *args) {
    char *argv[24];
    size_t n = 0;
    pid_t pid;
    argv[n++] = (char *)f->seam;
    while (*args && n < 23)
        argv[n++] = (char *)*args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(f->seam, argv);
        _exit(127);
    }
    return pid;
}

/* As spawn, stdout and stderr into the files out and err. */
static pid_t spawn_to(const fixture *f, const char *out, const char *err, const char *const *args) {
    char *argv[24];
    size_t n = 0;
    pid_t pid;
    argv[n++] = (char *)f->seam;
    while (*args && n < 23)
        argv[n++] = (char *)*args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execv(f->seam, argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Waits (no deadline but the test's) until the peer has seen n requests. */
static void wait_requests(scripted_peer *p, size_t n) {
    for (;;) {
        size_t seen;
        struct timespec ts = {0, 20 * 1000000L};
        pthread_mutex_lock(&p->lock);
        seen = p->request_count;
        pthread_mutex_unlock(&p->lock);
        if (seen >= n)
            return;
        nanosleep(&ts, NULL);
    }
}

typedef struct {
    size_t count, done, interrupted;
} tally;

static int count_session(void *ctx, const seam_terminal_session *s) {
    tally *t = ctx;
    t->count++;
    t->done += !strcmp(s->outcome, "done");
    t->interrupted += !strcmp(s->outcome, "interrupted");
    return 0;
}

static tally sessions(const fixture *f) {
    seam_terminal_state *st;
    tally t = {0};
    assert_int_equal(seam_terminal_state_open(f->state, &st), SEAM_OK);
    assert_int_equal(seam_terminal_state_sessions(st, 0, count_session, &t), SEAM_OK);
    seam_terminal_state_close(st);
    return t;
}

/* 20 ms: the pause of the waits below (none has a deadline but the test's). */
static void nap(void) {
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs the command args again until it exits 0 (e.g. poke, until the terminal's socket
   exists). */
static void until_it_succeeds(const fixture *f, const char *const *args) {
    while (wait_exit(spawn(f, args)) != 0)
        nap();
}

/* Waits until the local state says n sessions ended done. The peer may have answered a
   POST that the terminal is still reading: SIGTERM before then could cut that reading. */
static void wait_sessions_done(const fixture *f, size_t n) {
    while (sessions(f).done < n)
        nap();
}

/* A session at start, one more on poke; SIGTERM stops the terminal with exit 0. */
static void test_terminal_run_opens_a_session_on_poke(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}, {204, NULL, NULL, NULL, 0, NULL}};
    pid_t pid;
    tally t;
    start_peer(f, answers, 2);
    pid = spawn(f, (const char *const[]){"terminal", "run", "--server", f->url, "--image", f->image,
                                         "--state", f->state, "--interval", "0", NULL});
    wait_requests(&f->peer, 1);
    /* the socket exists once the first session is under way; poke until it answers */
    until_it_succeeds(f, (const char *const[]){"terminal", "poke", "--state", f->state, NULL});
    wait_requests(&f->peer, 2);
    wait_sessions_done(f, 2);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(f->peer.request_count, 2);
    assert_string_equal(f->peer.requests[1].path, "/admin");
    t = sessions(f);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.done, 2);
    /* no terminal listens any more: poke says so */
    pid = spawn(f, (const char *const[]){"terminal", "poke", "--state", f->state, NULL});
    assert_int_equal(wait_exit(pid), 1);
}

/* kill -9 while the server answers 503 (the session is open, retrying): the next start
   closes it as interrupted and runs a new one to 204. */
static void test_terminal_resumes_after_kill9(void **state) {
    fixture *f = *state;
    peer_answer busy[8];
    peer_answer done[] = {{204, NULL, NULL, NULL, 0, NULL}};
    pid_t pid;
    tally t;
    for (size_t i = 0; i < 8; i++)
        busy[i] = (peer_answer){503, NULL, NULL, NULL, 0, NULL};
    start_peer(f, busy, 8);
    f->peer.fallback = 503; /* and 503 for ever after */
    pid = spawn(f, (const char *const[]){"terminal", "run", "--server", f->url, "--image", f->image,
                                         "--state", f->state, NULL});
    wait_requests(&f->peer, 2); /* retried once: the session is open */
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    t = sessions(f);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.done, 0);

    peer_stop(&f->peer);
    start_peer(f, done, 1);
    pid = spawn(f, (const char *const[]){"terminal", "run", "--once", "--server", f->url, "--image",
                                         f->image, "--state", f->state, NULL});
    assert_int_equal(wait_exit(pid), 0);
    t = sessions(f);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.interrupted, 1);
    assert_int_equal(t.done, 1);
}

/* The whole of file path (at most size - 1 bytes) into buf, NUL-terminated. */
static void slurp(const char *path, char *buf, size_t size) {
    FILE *fp = fopen(path, "r");
    size_t n;
    assert_non_null(fp);
    n = fread(buf, 1, size - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

/* With --toolkit: an event the card did not ask for and a menu item it has not set up are
   reported and not sent; a toolkit message that breaks the rules is dropped; none of them
   starts an admin session, while a plain poke still does. */
static void test_terminal_toolkit_messages_start_no_session(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}, {204, NULL, NULL, NULL, 0, NULL}};
    char out[160], err[160], sock[160], text[4096];
    struct sockaddr_un addr;
    pid_t pid;
    int fd;
    snprintf(out, sizeof out, "%s/out.txt", f->dir);
    snprintf(err, sizeof err, "%s/err.txt", f->dir);
    snprintf(sock, sizeof sock, "%s.sock", f->state);
    start_peer(f, answers, 2);
    pid = spawn_to(f, out, err,
                   (const char *const[]){"terminal", "run", "--toolkit", "--answers", "/dev/null",
                                         "--server", f->url, "--image", f->image, "--state",
                                         f->state, "--interval", "0", NULL});
    wait_requests(&f->peer, 1);
    until_it_succeeds(
        f, (const char *const[]){"terminal", "event", "idle-screen", "--state", f->state, NULL});
    pid_t menu =
        spawn(f, (const char *const[]){"terminal", "menu", "7", "--state", f->state, NULL});
    assert_int_equal(wait_exit(menu), 0);
    /* the sender refuses what the terminal would drop: an upper-case language */
    pid_t bad = spawn(
        f, (const char *const[]){"terminal", "event", "language", "EN", "--state", f->state, NULL});
    assert_int_equal(wait_exit(bad), 2);
    /* sent anyway, raw: dropped by the terminal */
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    assert_true(strlen(sock) < sizeof addr.sun_path);
    memcpy(addr.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(
        sendto(fd, "seam-tk1 event language EN", 26, 0, (struct sockaddr *)&addr, sizeof addr), 26);
    close(fd);
    pid_t poker = spawn(f, (const char *const[]){"terminal", "poke", "--state", f->state, NULL});
    assert_int_equal(wait_exit(poker), 0);
    wait_requests(&f->peer, 2);
    wait_sessions_done(f, 2);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(f->peer.request_count, 2); /* the start and the poke, nothing else */
    slurp(out, text, sizeof text);
    assert_non_null(strstr(text, "toolkit: event 05 not asked for by the card"));
    assert_non_null(strstr(text, "toolkit: menu item 7 is not in the card's menu"));
    slurp(err, text, sizeof text);
    assert_non_null(strstr(text, "dropped an invalid toolkit message"));
}

/* Counts the lines of text that start with line. */
static size_t count_lines(const char *text, const char *line) {
    size_t n = 0, len = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, line, len) == 0;
    return n;
}

/* With --toolkit and --server: the card stays on across an admin session and the toolkit goes
   on after it; TERMINAL PROFILE goes once, at start, not after each session (S1). */
static void test_terminal_toolkit_goes_on_after_an_admin_session_S1(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}, {204, NULL, NULL, NULL, 0, NULL}};
    char out[160], err[160], text[8192];
    pid_t pid;
    snprintf(out, sizeof out, "%s/out.txt", f->dir);
    snprintf(err, sizeof err, "%s/err.txt", f->dir);
    start_peer(f, answers, 2);
    pid = spawn_to(f, out, err,
                   (const char *const[]){"terminal", "run", "--toolkit", "--trace", "--answers",
                                         "/dev/null", "--server", f->url, "--image", f->image,
                                         "--state", f->state, "--interval", "0", NULL});
    wait_requests(&f->peer, 1);
    /* the socket exists once the first session and the power-up are done */
    until_it_succeeds(f, (const char *const[]){"terminal", "poke", "--state", f->state, NULL});
    wait_requests(&f->peer, 2);
    wait_sessions_done(f, 2);
    /* an event after it: handled by the toolkit's loop, which went on */
    pid_t sender = spawn(
        f, (const char *const[]){"terminal", "event", "idle-screen", "--state", f->state, NULL});
    assert_int_equal(wait_exit(sender), 0);
    for (slurp(out, text, sizeof text); !strstr(text, "toolkit: event 05");
         slurp(out, text, sizeof text))
        nap();
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_exit(pid), 0);
    slurp(err, text, sizeof text);
    assert_int_equal(count_lines(text, "toolkit: terminal profile"), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_terminal_run_opens_a_session_on_poke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_resumes_after_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_toolkit_goes_on_after_an_admin_session_S1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_toolkit_messages_start_no_session, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
