/*
 * The whole loop of issue 14, end to end (S6, S7, S9, S10): the real `seam server` and
 * the real `seam terminal run --toolkit --dm` as subprocesses with a card image that
 * holds apps/devmgmt, personalized over SCP03 with a policy whose target is the server's
 * /sync/changeset, its device id the enrolled IMEI. A location event (`seam terminal
 * event`) reaches the threshold; devmgmt asks the user (GET INKEY, answered from a
 * file); on "yes" its REQUEST SYNCHRONIZATION makes the terminal synchronize its
 * database with the server; the TERMINAL RESPONSE carries the counts (read in the
 * terminal's trace); devmgmt's last result (INS 20, read through the card) says what
 * happened. The server's copy is read from the store.
 */
#define _GNU_SOURCE
#include "toolkit_loop.h"

#define IMEI LOOP_IMEI

typedef struct {
    toolkit_loop l; /* the server, the terminal's database, the card image */
    char state[192], answers[192], display[192], out[192];
    pid_t terminal;
} fixture;

static int setup_with(void **state, const char *db) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->l.db = db;
    loop_open(&f->l, "");
    snprintf(f->state, sizeof f->state, "%s/handset-terminal.db", f->l.dir);
    snprintf(f->answers, sizeof f->answers, "%s/answers.txt", f->l.dir);
    snprintf(f->display, sizeof f->display, "%s/display.log", f->l.dir);
    snprintf(f->out, sizeof f->out, "%s/terminal.out", f->l.dir);
    *state = f;
    return 0;
}

static int setup(void **state) {
    return setup_with(state, SEAM_SYNC_DEVINFO);
}

static int setup_card(void **state) {
    return setup_with(state, SEAM_SYNC_CARD);
}

static void terminal_stop(fixture *f) {
    if (f->terminal > 0) {
        kill(f->terminal, SIGTERM);
        waitpid(f->terminal, NULL, 0);
        f->terminal = 0;
    }
}

static int teardown(void **state) {
    fixture *f = *state;
    terminal_stop(f);
    loop_close(&f->l);
    free(f);
    return 0;
}

/* Whether file holds text, waiting while the terminal lives (bounded: a stuck run fails,
   it never passes on time). */
static bool wait_for(fixture *f, const char *file, const char *text) {
    for (int i = 0; i < 1200; i++) {
        FILE *fp = fopen(file, "r");
        if (fp) {
            char buf[16384];
            size_t n = fread(buf, 1, sizeof buf - 1, fp);
            buf[n] = 0;
            fclose(fp);
            if (strstr(buf, text))
                return true;
        }
        if (f->terminal <= 0 || waitpid(f->terminal, NULL, WNOHANG) != 0)
            break;
        usleep(50000);
    }
    loop_run("cat '%s' '%s' >&2", f->out, f->display); /* what the terminal did, for the failure */
    return false;
}

/* `seam terminal run --toolkit --dm` in the background with the user's answer, traced. */
static void terminal_start(fixture *f, const char *answer) {
    FILE *fp = fopen(f->answers, "w");
    assert_non_null(fp);
    fprintf(fp, "%s\n", answer);
    fclose(fp);
    fclose(fopen(f->display, "w"));
    remove(f->out); /* the previous run's "profile sent" must not count */
    char bin[512];
    snprintf(bin, sizeof bin, "%s/seam", loop_build_dir());
    const char *argv[] = {"seam",
                          "terminal",
                          "run",
                          "--toolkit",
                          "--image",
                          f->l.image,
                          "--state",
                          f->state,
                          "--answers",
                          f->answers,
                          "--display-log",
                          f->display,
                          "--imei",
                          IMEI,
                          "--dm",
                          f->l.dm,
                          "--sync-password",
                          SECRET_A,
                          "--sync-protocol",
                          "changeset",
                          "--trace",
                          NULL};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    f->terminal = pid;
    assert_true(wait_for(f, f->out, "toolkit: profile sent"));
}

/* One location event: the policy's threshold. */
static void location_event(fixture *f) {
    assert_int_equal(loop_run("'%s/seam' terminal event location normal --state '%s' >/dev/null",
                              loop_build_dir(), f->state),
                     0);
}

/* devmgmt's last result (INS 20) starts with expect (hex), read through the card. */
static void last_result_is(fixture *f, const char *expect) {
    char script[224];
    snprintf(script, sizeof script, "%s/status.script", f->l.dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fprintf(fp, "00A4040007A0000005444D01 00 => 9000\n8020000000 => 9000 %s*\n", expect);
    fclose(fp);
    if (loop_run("'%s/seam' card script --image '%s' '%s' >'%s/status.out' 2>&1", loop_build_dir(),
                 f->l.image, script, f->l.dir)) {
        loop_run("cat '%s/status.out' '%s' '%s' >&2", f->l.dir, f->out, f->display);
        fail_msg("devmgmt's last result is not %s", expect);
    }
}

/* The counts object of the REQUEST SYNCHRONIZATION's TERMINAL RESPONSE in the trace. */
static void response_counts(fixture *f, unsigned *type, unsigned *sent, unsigned *received) {
    FILE *fp = fopen(f->out, "r");
    assert_non_null(fp);
    char line[1024];
    bool found = false;
    while (fgets(line, sizeof line, fp)) {
        char *tr = strstr(line, "toolkit: terminal response ");
        char *c = tr ? strstr(tr, "7FD30907") : NULL;
        if (c && sscanf(c + 8, "%2x%4x%4x", type, sent, received) == 3)
            found = true;
    }
    fclose(fp);
    assert_true(found);
}

/* Yes: the terminal's three records reach the server's copy; the TERMINAL RESPONSE says
   so (a first sync is slow: 201, 3 sent); devmgmt records "synchronized, result 00". */
static void card_asks_user_agrees_terminal_syncs_with_server_S6_S7_S9(void **state) {
    fixture *f = *state;
    assert_false(copy_has(&f->l.srv, IMEI, "ringtone", "classic"));
    terminal_start(f, "yes");
    location_event(f);
    assert_true(wait_for(f, f->display, "Sync done"));
    terminal_stop(f);
    unsigned type = 0, sent = 0, received = 0;
    response_counts(f, &type, &sent, &received);
    assert_int_equal(type, SEAM_SYNC_SLOW);
    assert_int_equal(sent, 3);
    assert_int_equal(received, 0);
    last_result_is(f, "010001"); /* synchronized, terminal result 00, trigger: the policy */
    assert_true(copy_has(&f->l.srv, IMEI, "ringtone", "classic"));
    assert_int_equal(dm_digest(f->l.dm), server_digest(&f->l.srv, IMEI, SEAM_SYNC_DEVINFO));
    char *dev = api(&f->l.srv, "GET", "/api/devices/" IMEI, NULL, NULL, 0, 200);
    assert_non_null(strstr(dev, "classic"));
    free(dev);

    /* the user changes the ringtone; the next event syncs the change two-way */
    dm_put(f->l.dm, "ringtone", "Nokia tune");
    terminal_start(f, "yes");
    location_event(f);
    assert_true(wait_for(f, f->display, "Sync done"));
    terminal_stop(f);
    response_counts(f, &type, &sent, &received);
    assert_int_equal(type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(sent, 1);
    assert_true(copy_has(&f->l.srv, IMEI, "ringtone", "Nokia tune"));
}

/* No: GET INKEY answered no, no REQUEST SYNCHRONIZATION, the server's store unchanged. */
static void user_says_no_nothing_synced_S9(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32];
    store_digest_of(&f->l.srv, before);
    terminal_start(f, "no");
    location_event(f);
    assert_true(wait_for(f, f->display, "Sync cancelled"));
    terminal_stop(f);
    last_result_is(f, "04"); /* refused by the user */
    store_digest_of(&f->l.srv, after);
    assert_memory_equal(before, after, 32);
    FILE *fp = fopen(f->out, "r");
    char line[1024];
    while (fp && fgets(line, sizeof line, fp))
        assert_null(strstr(line, "toolkit: synchronization"));
    if (fp)
        fclose(fp);
}

/* Server down: devmgmt's last result is a failure (20, unreachable E1), the terminal's
   database unchanged (its record digest). */
static void server_down_is_a_failure_and_changes_nothing_S7(void **state) {
    fixture *f = *state;
    uint64_t before = dm_digest(f->l.dm);
    server_kill(&f->l.srv);
    terminal_start(f, "yes");
    location_event(f);
    assert_true(wait_for(f, f->display, "Sync failed"));
    terminal_stop(f);
    last_result_is(f, "0320"); /* failed, terminal result 20 */
    char cmd[512];             /* its TERMINAL RESPONSE: 20 E1, unreachable */
    snprintf(cmd, sizeof cmd, "grep -q 'terminal response 8103..5F.*830220E1' '%s'", f->out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(dm_digest(f->l.dm), before);
}

/* S8: the card's request names its own database (./card) as the source; the terminal reads
   it from apps/carddb on another channel during the proactive session and synchronizes it:
   the server's copy holds the card's facts (devmgmt's instance among them) and equals the
   terminal's ./card. */
static void the_cards_own_database_is_the_source_of_its_request_S8(void **state) {
    fixture *f = *state;
    terminal_start(f, "yes");
    location_event(f);
    assert_true(wait_for(f, f->display, "Sync done"));
    terminal_stop(f);
    last_result_is(f, "010001"); /* synchronized, terminal result 00, trigger: the policy */
    seam_sync_db *copy = server_copy(&f->l.srv, IMEI, SEAM_SYNC_CARD);
    seam_sync_record r;
    assert_int_equal(seam_sync_get(copy, SEAM_SYNC_CARD, "instance.A0000005444D01", &r), SEAM_OK);
    assert_non_null(strstr(r.value, "version="));
    uint64_t server = records_digest(copy, SEAM_SYNC_CARD);
    seam_sync_close(copy);
    seam_sync_db *dm = NULL;
    assert_int_equal(seam_sync_open(f->l.dm, &dm), SEAM_OK);
    size_t n = 0;
    assert_int_equal(seam_sync_count(dm, SEAM_SYNC_CARD, &n), SEAM_OK);
    assert_true(n >= 2); /* devmgmt's and carddb's instances and packages at least */
    assert_int_equal(records_digest(dm, SEAM_SYNC_CARD), server);
    seam_sync_close(dm);
}

int main(int argc, char **argv) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(card_asks_user_agrees_terminal_syncs_with_server_S6_S7_S9),
        T(user_says_no_nothing_synced_S9),
        T(server_down_is_a_failure_and_changes_nothing_S7),
        cmocka_unit_test_setup_teardown(the_cards_own_database_is_the_source_of_its_request_S8,
                                        setup_card, teardown),
    };
    return sync_tests_main(argc, argv, "devmgmt -> terminal -> server on ", tests,
                           sizeof tests / sizeof *tests);
}
