/*
 * One image, one owner (issue 9, item 7; X4): a second handle on an image file
 * that a handle holds, in this process or in another one, is refused at open
 * with SEAM_ERR_NVM_BUSY, and seam_nvm_describe_holder names the holder (pid
 * and command line). When the holder closes, or dies, the image is free again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvm_test.h"

#define T_REG 1

static const uint8_t storage_key[SEAM_NVM_STORAGE_KEY_SIZE] = {7, 7, 7};

static void make_image(const char *path) {
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_create(path, 0, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "balance", "100"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    seam_nvm_close(nvm);
}

/* Expects an open of path to be refused as busy, with holder described as "pid N (". */
static void expect_busy(const char *path, long holder) {
    seam_nvm *nvm = (seam_nvm *)&holder; /* must come back NULL */
    assert_int_equal(seam_nvm_open(path, &nvm), SEAM_ERR_NVM_BUSY);
    assert_null(nvm);
    nvm = (seam_nvm *)&holder;
    assert_int_equal(seam_nvm_open_sealed(path, storage_key, &nvm), SEAM_ERR_NVM_BUSY);
    assert_null(nvm);
    char who[300], want[32];
    assert_int_equal(seam_nvm_describe_holder(path, who, sizeof who), SEAM_OK);
    snprintf(want, sizeof want, "pid %ld (", holder);
    if (strncmp(who, want, strlen(want)) != 0)
        fail_msg("holder described as '%s', want it to start with '%s'", who, want);
}

/* A second handle in the same process: refused, through any name of the image. */
static void hardening_07_second_handle_in_one_process_X4(void **state) {
    scratch *s = *state;
    char path[320], link[320], out[16];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    snprintf(link, sizeof link, "%s", scratch_path(s, "link.db"));
    make_image(path);
    assert_int_equal(symlink(path, link), 0);
    seam_nvm *first = NULL;
    assert_int_equal(seam_nvm_open(path, &first), SEAM_OK);
    assert_int_equal(seam_nvm_begin(first), SEAM_OK);
    assert_int_equal(put_str(first, T_REG, "balance", "150"), SEAM_OK);

    size_t len = 0;
    uint8_t *before = read_file(path, &len);
    expect_busy(path, (long)getpid());
    expect_busy(link, (long)getpid());
    seam_nvm *again = NULL;
    assert_int_equal(seam_nvm_create(path, 0, &again), SEAM_ERR_NVM_BUSY);
    size_t after_len = 0;
    uint8_t *after = read_file(path, &after_len);
    assert_int_equal(len, after_len); /* the refusals did not touch the image */
    assert_memory_equal(before, after, len);
    free(before);
    free(after);

    /* the first handle never noticed: its transaction commits */
    assert_int_equal(seam_nvm_commit(first), SEAM_OK);
    seam_nvm_close(first);
    char who[64];
    assert_int_equal(seam_nvm_describe_holder(path, who, sizeof who), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_nvm_open(link, &again), SEAM_OK);
    assert_int_equal(get_str(again, T_REG, "balance", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "150");
    seam_nvm_close(again);

    /* an image being created is held as well */
    snprintf(path, sizeof path, "%s", scratch_path(s, "new.db"));
    assert_int_equal(seam_nvm_create(path, 0, &first), SEAM_OK);
    expect_busy(path, (long)getpid());
    seam_nvm_close(first);
    /* in-memory images have no owner to compete with */
    assert_int_equal(seam_nvm_open_memory(0, &first), SEAM_OK);
    assert_int_equal(seam_nvm_open_memory(0, &again), SEAM_OK);
    seam_nvm_close(first);
    seam_nvm_close(again);
}

/* A forked holder still running; the teardown kills it if a test failed midway. */
static pid_t holder_pid;

static int lock_teardown(void **state) {
    if (holder_pid > 0) {
        kill(holder_pid, SIGKILL);
        waitpid(holder_pid, NULL, 0);
        holder_pid = 0;
    }
    return scratch_teardown(state);
}

/* Reads one byte from fd; aborts the test if the other side is gone. */
static char await(int fd) {
    char c = 0;
    assert_int_equal(read(fd, &c, 1), 1);
    return c;
}

/*
 * Another process holds the image: the open is refused and names that process's
 * pid; once it exits (here: killed, as a crash), the image opens again.
 */
static void hardening_07_another_process_holds_the_image_X4(void **state) {
    scratch *s = *state;
    char path[320], out[16];
    int to_child[2], to_parent[2];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    make_image(path);
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* the holder: open, say so, wait to be told (or killed) */
        close(to_child[1]);
        close(to_parent[0]);
        seam_nvm *nvm = NULL;
        char c = seam_nvm_open(path, &nvm) == SEAM_OK ? 'o' : 'e';
        if (write(to_parent[1], &c, 1) != 1)
            _exit(2);
        if (read(to_child[0], &c, 1) != 1)
            _exit(3);
        seam_nvm_close(nvm);
        _exit(0);
    }
    holder_pid = child;
    close(to_child[0]);
    close(to_parent[1]);
    assert_int_equal(await(to_parent[0]), 'o');
    expect_busy(path, (long)child);

    kill(child, SIGKILL); /* the holder dies without closing */
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    holder_pid = 0;
    assert_true(WIFSIGNALED(status));
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_open(path, &nvm), SEAM_OK);
    assert_int_equal(get_str(nvm, T_REG, "balance", out, sizeof out), SEAM_OK);
    assert_string_equal(out, "100");
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(put_str(nvm, T_REG, "balance", "90"), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);

    /* and now this process holds it: a child is refused, naming the parent */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        seam_nvm *other = NULL;
        char who[300], want[32];
        snprintf(want, sizeof want, "pid %ld (", (long)getppid());
        char c = seam_nvm_open(path, &other) == SEAM_ERR_NVM_BUSY &&
                         seam_nvm_describe_holder(path, who, sizeof who) == SEAM_OK &&
                         strncmp(who, want, strlen(want)) == 0
                     ? 'b'
                     : 'x';
        _exit(c == 'b' ? 0 : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    seam_nvm_close(nvm);
    close(to_child[1]);
    close(to_parent[0]);
}

/* describe_holder's contract: arguments checked, nothing recorded is NOT_FOUND. */
static void describe_holder_contract(void **state) {
    scratch *s = *state;
    char who[8];
    assert_int_equal(seam_nvm_describe_holder(NULL, who, sizeof who), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_describe_holder(scratch_path(s, "card.db"), NULL, 8), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_describe_holder(scratch_path(s, "card.db"), who, sizeof who),
                     SEAM_ERR_NOT_FOUND);
    /* a description longer than the buffer is cut, and always terminated */
    seam_nvm *nvm = NULL;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    assert_int_equal(seam_nvm_create(path, 0, &nvm), SEAM_OK);
    assert_int_equal(seam_nvm_describe_holder(path, who, sizeof who), SEAM_OK);
    assert_int_equal(strlen(who), sizeof who - 1);
    assert_memory_equal(who, "pid ", 4);
    seam_nvm_close(nvm);
}

int main(void) {
#define SCRATCH_TEST(name) cmocka_unit_test_setup_teardown(name, scratch_setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(hardening_07_second_handle_in_one_process_X4),
        cmocka_unit_test_setup_teardown(hardening_07_another_process_holds_the_image_X4,
                                        scratch_setup, lock_teardown),
        SCRATCH_TEST(describe_holder_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
