/*
 * Tests for logging. The threshold is read from $SEAM_LOG once per process,
 * so environment cases run this program again as a child ("--child MODE")
 * with a chosen environment and check what it printed on stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seam/util.h"

/* Child: optionally set the level through the API, then log one line per level. */
static int child_main(const char *mode) {
    if (strcmp(mode, "set-info") == 0)
        seam_log_set_level(SEAM_LOG_INFO);
    seam_log(SEAM_LOG_ERROR, "message %s", "e1");
    seam_log(SEAM_LOG_WARN, "message %s", "w1");
    seam_log(SEAM_LOG_INFO, "message %s", "i1");
    seam_log(SEAM_LOG_DEBUG, "message %s", "d1");
    printf("%s\n", seam_log_level_name(seam_log_get_level()));
    return 0;
}

/* Runs this program as a child in MODE with SEAM_LOG=env_value (unset if NULL). */
static void run_child(const char *env_value, const char *mode, char *err_out, size_t size) {
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char env_entry[64];
        char *envp[] = {env_entry, NULL};
        char *argv[] = {"test_util_log", "--child", (char *)mode, NULL};
        snprintf(env_entry, sizeof env_entry, "SEAM_LOG=%s", env_value ? env_value : "");
        dup2(pipe_fds[1], STDERR_FILENO);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execve("/proc/self/exe", argv, env_value ? envp : envp + 1);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], err_out + used, size - 1 - used)) > 0)
        used += (size_t)n;
    err_out[used] = '\0';
    close(pipe_fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void default_threshold_is_warn(void **state) {
    (void)state;
    char out[1024];
    run_child(NULL, "plain", out, sizeof out);
    assert_string_equal(out, "seam: error: message e1\nseam: warn: message w1\n");
}

static void env_selects_threshold_in_any_case(void **state) {
    (void)state;
    char out[1024];
    run_child("debug", "plain", out, sizeof out);
    assert_string_equal(out, "seam: error: message e1\nseam: warn: message w1\n"
                             "seam: info: message i1\nseam: debug: message d1\n");
    run_child("ERROR", "plain", out, sizeof out);
    assert_string_equal(out, "seam: error: message e1\n");
    run_child("Info", "plain", out, sizeof out);
    assert_string_equal(out, "seam: error: message e1\nseam: warn: message w1\n"
                             "seam: info: message i1\n");
}

static void bad_env_is_reported_and_ignored(void **state) {
    (void)state;
    char out[1024];
    run_child("loud", "plain", out, sizeof out);
    assert_non_null(strstr(out, "ignoring SEAM_LOG=loud"));
    assert_non_null(strstr(out, "seam: warn: message w1\n"));
    assert_null(strstr(out, "message i1"));
}

static void api_overrides_env(void **state) {
    (void)state;
    char out[1024];
    run_child("error", "set-info", out, sizeof out);
    assert_string_equal(out, "seam: error: message e1\nseam: warn: message w1\n"
                             "seam: info: message i1\n");
}

/* Calls seam_log with stderr redirected to a file; returns what it wrote. */
static void capture_log(seam_log_level level, const char *word, char *out, size_t size) {
    FILE *capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    seam_log(level, "%d apples in %s", 3, word);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(capture);
    size_t n = fread(out, 1, size - 1, capture);
    out[n] = '\0';
    fclose(capture);
}

static void formats_and_filters_in_process(void **state) {
    (void)state;
    char out[256];
    assert_int_equal(seam_log_set_level(SEAM_LOG_DEBUG), SEAM_OK);
    assert_int_equal(seam_log_get_level(), SEAM_LOG_DEBUG);
    capture_log(SEAM_LOG_INFO, "a bag", out, sizeof out);
    assert_string_equal(out, "seam: info: 3 apples in a bag\n");
    assert_int_equal(seam_log_set_level(SEAM_LOG_ERROR), SEAM_OK);
    capture_log(SEAM_LOG_WARN, "a bag", out, sizeof out);
    assert_string_equal(out, "");
    capture_log(SEAM_LOG_ERROR, "the cart", out, sizeof out);
    assert_string_equal(out, "seam: error: 3 apples in the cart\n");
    /* An unknown level is refused and changes nothing. */
    assert_int_equal(seam_log_set_level((seam_log_level)7), SEAM_ERR_ARG);
    assert_int_equal(seam_log_get_level(), SEAM_LOG_ERROR);
    capture_log((seam_log_level)7, "nowhere", out, sizeof out);
    assert_string_equal(out, "");
}

static void parses_and_names_levels(void **state) {
    (void)state;
    static const struct {
        const char *name;
        seam_err err;
        seam_log_level level;
    } cases[] = {
        {"error", SEAM_OK, SEAM_LOG_ERROR}, {"WARN", SEAM_OK, SEAM_LOG_WARN},
        {"Info", SEAM_OK, SEAM_LOG_INFO},   {"debug", SEAM_OK, SEAM_LOG_DEBUG},
        {"warning", SEAM_ERR_ARG, 0},       {"", SEAM_ERR_ARG, 0},
        {"debug ", SEAM_ERR_ARG, 0},        {NULL, SEAM_ERR_ARG, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seam_log_level level = (seam_log_level)42;
        assert_int_equal(seam_log_level_parse(cases[i].name, &level), cases[i].err);
        assert_int_equal(level, cases[i].err == SEAM_OK ? cases[i].level : 42);
    }
    assert_string_equal(seam_log_level_name(SEAM_LOG_WARN), "warn");
    assert_string_equal(seam_log_level_name(SEAM_LOG_DEBUG), "debug");
    assert_string_equal(seam_log_level_name((seam_log_level)9), "?");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_threshold_is_warn),
        cmocka_unit_test(env_selects_threshold_in_any_case),
        cmocka_unit_test(bad_env_is_reported_and_ignored),
        cmocka_unit_test(api_overrides_env),
        cmocka_unit_test(formats_and_filters_in_process),
        cmocka_unit_test(parses_and_names_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
