/*
 * The write-ahead log (issue 11, NVM): what sits on disk and what a command
 * costs there.
 *
 * - A clean close leaves the image file complete alone: no log, no shared
 *   memory, and a copy of the image file alone holds every commit.
 * - A process killed while it commits (kill -9, a crash) loses nothing it
 *   committed: the image with its log (what a copy after a crash must
 *   include) holds every commit the dead process reported; the image file
 *   alone holds a consistent older state.
 * - A transaction that only reads (or commits nothing) does no I/O at all.
 * - A commit costs one sync of the log and whole pages in it, the image file
 *   untouched; the log is checkpointed when it grows long and stays bounded.
 * - An image written by earlier versions (rollback-journal mode) opens, and
 *   is in WAL mode from then on.
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

#include "nvm/nvm_int.h"
#include "nvm_test.h"

#define T_COUNTER 1
#define T_DATA    2
#define PAGE      NVM_PAGE_SIZE /* the image's page size */
#define FRAME     (PAGE + 24)   /* a page in the log: a 24-byte header and the page */

static const uint8_t storage_key[SEAM_NVM_STORAGE_KEY_SIZE] = {
    0x10, 0x9A, 0x77, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
    0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C};

/* Path of image's sibling with suffix, in a static buffer per slot. */
static const char *sibling(const char *image, const char *suffix, int slot) {
    static char paths[4][400];
    snprintf(paths[slot], sizeof paths[slot], "%s%s", image, suffix);
    return paths[slot];
}

static seam_nvm *create_sealed(const char *path) {
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_create_sealed(path, 0, storage_key, &nvm), SEAM_OK);
    return nvm;
}

static seam_nvm *open_sealed(const char *path) {
    seam_nvm *nvm = NULL;
    assert_int_equal(seam_nvm_open_sealed(path, storage_key, &nvm), SEAM_OK);
    return nvm;
}

/* Commit number i: the counter record says i, and a data record keyed i holds i's bytes. */
static seam_err commit_number(seam_nvm *nvm, uint32_t i) {
    uint8_t key[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    uint8_t value[200];
    memset(value, (int)(i * 7 + 1), sizeof value);
    seam_err err = seam_nvm_begin(nvm);
    if (err == SEAM_OK)
        err = seam_nvm_put(nvm, T_COUNTER, (const uint8_t *)"n", 1, key, sizeof key);
    if (err == SEAM_OK)
        err = seam_nvm_put(nvm, T_DATA, key, sizeof key, value, sizeof value);
    if (err == SEAM_OK)
        err = seam_nvm_commit(nvm);
    return err;
}

/* The number of the last commit an image holds, checking every commit up to it is whole. */
static uint32_t commits_in(seam_nvm *nvm) {
    uint8_t key[4], value[200], want[200];
    size_t len = 0;
    seam_err err = seam_nvm_get(nvm, T_COUNTER, (const uint8_t *)"n", 1, key, sizeof key, &len);
    if (err == SEAM_ERR_NOT_FOUND)
        return 0;
    assert_int_equal(err, SEAM_OK);
    assert_int_equal(len, 4);
    uint32_t last =
        (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
    for (uint32_t i = 1; i <= last; i++) {
        uint8_t k[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        memset(want, (int)(i * 7 + 1), sizeof want);
        assert_int_equal(seam_nvm_get(nvm, T_DATA, k, sizeof k, value, sizeof value, &len),
                         SEAM_OK);
        assert_int_equal(len, sizeof value);
        assert_memory_equal(value, want, sizeof value);
    }
    size_t records = 0;
    seam_nvm_cursor cursor;
    assert_int_equal(seam_nvm_cursor_init(&cursor, T_DATA, NULL, 0), SEAM_OK);
    while (seam_nvm_cursor_next(nvm, &cursor, NULL, 0, &len, NULL, 0, &len) == SEAM_OK)
        records++;
    assert_int_equal(records, last); /* nothing of a later, uncommitted one */
    return last;
}

/* Copies image (and its log when with_log) into dir's copy.db; returns the copy's path. */
static const char *copy_card(scratch *s, const char *image, bool with_log) {
    static char copy[320];
    snprintf(copy, sizeof copy, "%s", scratch_path(s, "copy.db"));
    copy_file(image, copy);
    remove(sibling(copy, "-wal", 0));
    if (with_log && file_exists(sibling(image, "-wal", 1)))
        copy_file(sibling(image, "-wal", 1), sibling(copy, "-wal", 0));
    return copy;
}

/* After a clean close the image file is the card: nothing beside it, and a copy of it
   alone holds every commit. */
static void clean_close_leaves_the_image_file_complete_alone(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    for (uint32_t i = 1; i <= 20; i++) {
        assert_int_equal(commit_number(nvm, i), SEAM_OK);
        /* while open: the log holds the commits, and there is never shared memory */
        assert_true(file_has_content(sibling(path, "-wal", 0)));
        assert_false(file_exists(sibling(path, "-shm", 1)));
        assert_false(file_exists(sibling(path, "-journal", 2)));
    }
    seam_nvm_close(nvm);
    assert_false(file_exists(sibling(path, "-wal", 0)));
    assert_false(file_exists(sibling(path, "-shm", 1)));
    assert_false(file_exists(sibling(path, "-journal", 2)));
    const char *copy = copy_card(s, path, false);
    nvm = open_sealed(copy);
    assert_int_equal(commits_in(nvm), 20);
    seam_nvm_close(nvm);
    /* a checkpoint between commands (the card's power-off) does the same while open */
    nvm = open_sealed(path);
    assert_int_equal(commit_number(nvm, 21), SEAM_OK);
    assert_int_equal(seam_nvm_checkpoint(nvm), SEAM_OK);
    copy = copy_card(s, path, false);
    seam_nvm *copied = open_sealed(copy);
    assert_int_equal(commits_in(copied), 21);
    seam_nvm_close(copied);
    /* not inside a transaction */
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_checkpoint(nvm), SEAM_ERR_NVM_STATE);
    assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
    seam_nvm_close(nvm);
}

/* A holder still running; the teardown kills it if a test failed midway. */
static pid_t holder_pid;

static int log_teardown(void **state) {
    if (holder_pid > 0) {
        kill(holder_pid, SIGKILL);
        waitpid(holder_pid, NULL, 0);
        holder_pid = 0;
    }
    return scratch_teardown(state);
}

/*
 * X4 against a real crash: a child process commits as fast as it can and
 * reports each commit after seam_nvm_commit returned; the parent kills it
 * with SIGKILL in the middle of the run. Every commit it reported is in the
 * image with its log (and in a copy of both); the image file alone is a
 * consistent older state; nothing of a commit in flight is half there.
 */
static void x4_a_killed_owner_loses_nothing_committed(void **state) {
    scratch *s = *state;
    char path[320];
    int reports[2];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm_close(create_sealed(path));
    assert_int_equal(pipe(reports), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* the owner: commit forever, report each commit */
        close(reports[0]);
        seam_nvm *nvm = NULL;
        if (seam_nvm_open_sealed(path, storage_key, &nvm) != SEAM_OK)
            _exit(2);
        for (uint32_t i = 1;; i++) {
            if (commit_number(nvm, i) != SEAM_OK)
                _exit(3);
            if (write(reports[1], &i, sizeof i) != sizeof i)
                _exit(4);
        }
    }
    holder_pid = child;
    close(reports[1]);
    uint32_t reported = 0, got = 0;
    while (reported < 60 && read(reports[0], &got, sizeof got) == sizeof got)
        reported = got;
    kill(child, SIGKILL); /* in the middle of commit 61 or so */
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    holder_pid = 0;
    assert_true(WIFSIGNALED(status));
    while (read(reports[0], &got, sizeof got) == sizeof got) /* reports still in the pipe */
        reported = got;
    close(reports[0]);
    assert_true(reported >= 60);
    assert_true(file_has_content(sibling(path, "-wal", 0)));

    /* a copy of what a crash left must include the log */
    const char *copy = copy_card(s, path, true);
    seam_nvm *nvm = open_sealed(copy);
    uint32_t in_copy = commits_in(nvm);
    seam_nvm_close(nvm);
    assert_true(in_copy >= reported);
    /* the image file alone: consistent, but without what only the log holds */
    copy = copy_card(s, path, false);
    nvm = open_sealed(copy);
    assert_true(commits_in(nvm) < reported);
    seam_nvm_close(nvm);
    /* the power-up on the image itself */
    nvm = open_sealed(path);
    assert_int_equal(commits_in(nvm), in_copy);
    assert_int_equal(commit_number(nvm, in_copy + 1), SEAM_OK);
    seam_nvm_close(nvm);
    print_message("      %u commits reported before SIGKILL, %u in the image and its log\n",
                  reported, in_copy);
}

/* Counts of nvm since *before, for the current command. */
static seam_nvm_io_counts counts_since(seam_nvm *nvm, const seam_nvm_io_counts *before) {
    seam_nvm_io_counts now;
    seam_nvm_io_counts_get(nvm, &now);
    now.writes -= before->writes;
    now.image_bytes -= before->image_bytes;
    now.log_bytes -= before->log_bytes;
    now.syncs -= before->syncs;
    now.directory_syncs -= before->directory_syncs;
    return now;
}

static int count_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(size_t *)ctx)++;
    return 0;
}

/*
 * A command that only reads does no I/O: its begin and commit reach nothing
 * below the nvm (no lock, no journal, no sync), and its write point is
 * still there (a fault armed on it fires).
 */
static void a_read_only_transaction_does_no_io(void **state) {
    scratch *s = *state;
    char path[320];
    uint8_t value[300];
    size_t len = 0, records = 0;
    seam_nvm_io_counts before, cost;
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    for (uint32_t i = 1; i <= 5; i++)
        assert_int_equal(commit_number(nvm, i), SEAM_OK);
    seam_nvm_io_counts_get(nvm, &before);
    uint64_t points = seam_nvm_io_points(nvm), write_points = seam_nvm_write_points(nvm);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
        assert_int_equal(
            seam_nvm_get(nvm, T_DATA, (const uint8_t *)"\0\0\0\3", 4, value, sizeof value, &len),
            SEAM_OK);
        assert_int_equal(seam_nvm_foreach(nvm, T_DATA, NULL, 0, count_visit, &records), SEAM_OK);
        /* a delete of nothing is a write point that changes nothing */
        size_t deleted = 9;
        assert_int_equal(seam_nvm_delete_prefix(nvm, T_DATA, (const uint8_t *)"zz", 2, &deleted),
                         SEAM_OK);
        assert_int_equal(deleted, 0);
        assert_int_equal(seam_nvm_delete(nvm, T_DATA, (const uint8_t *)"zz", 2),
                         SEAM_ERR_NOT_FOUND);
        assert_int_equal(round == 1 ? seam_nvm_rollback(nvm) : seam_nvm_commit(nvm), SEAM_OK);
    }
    cost = counts_since(nvm, &before);
    assert_int_equal(seam_nvm_io_points(nvm), points);
    assert_int_equal(cost.writes + cost.syncs + cost.directory_syncs, 0);
    assert_int_equal(seam_nvm_write_points(nvm), write_points + 3 * 2 + 2); /* commits too */
    /* the commit of nothing is still a write point: a fault there fails it */
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_ERR_NVM);
    assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_FAILED);
    assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
    assert_int_equal(commits_in(nvm), 5);
    seam_nvm_close(nvm);
}

/*
 * What a commit costs on disk, counted by the I/O shim: with the log, one sync
 * and whole pages (each a frame: the page and a 24-byte header) appended to the
 * log, the image file untouched, no directory sync once the log exists; in the
 * rollback-journal mode of earlier versions, three syncs and two directory syncs,
 * and the pages written twice (journal, image).
 */
static void a_commit_syncs_the_log_once(void **state) {
    scratch *s = *state;
    char path[320];
    seam_nvm_io_counts before, cost;
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    assert_int_equal(commit_number(nvm, 1), SEAM_OK);
    for (uint32_t i = 2; i <= 10; i++) {
        seam_nvm_io_counts_get(nvm, &before);
        assert_int_equal(commit_number(nvm, i), SEAM_OK);
        cost = counts_since(nvm, &before);
        assert_int_equal(cost.syncs, 1);
        assert_int_equal(cost.directory_syncs, 0);
        assert_int_equal(cost.image_bytes, 0);
        assert_true(cost.log_bytes >= FRAME);
        assert_int_equal(cost.log_bytes % FRAME, 0);
    }
    print_message("      a commit with the log: %llu bytes in %llu writes, 1 sync\n",
                  (unsigned long long)cost.log_bytes, (unsigned long long)cost.writes);
    assert_int_equal(seam_nvm_set_journal(nvm, SEAM_NVM_JOURNAL_ROLLBACK), SEAM_OK);
    assert_int_equal(commit_number(nvm, 11), SEAM_OK);
    seam_nvm_io_counts_get(nvm, &before);
    assert_int_equal(commit_number(nvm, 12), SEAM_OK);
    cost = counts_since(nvm, &before);
    print_message("      a commit with the rollback journal: %llu + %llu bytes, %llu syncs, "
                  "%llu directory syncs\n",
                  (unsigned long long)cost.log_bytes, (unsigned long long)cost.image_bytes,
                  (unsigned long long)cost.syncs, (unsigned long long)cost.directory_syncs);
    assert_int_equal(cost.syncs, 3);
    assert_int_equal(cost.directory_syncs, 2);
    assert_true(cost.image_bytes >= PAGE);
    /* and back */
    assert_int_equal(seam_nvm_set_journal(nvm, SEAM_NVM_JOURNAL_WAL), SEAM_OK);
    assert_int_equal(commit_number(nvm, 13), SEAM_OK);
    seam_nvm_io_counts_get(nvm, &before);
    assert_int_equal(commit_number(nvm, 14), SEAM_OK);
    cost = counts_since(nvm, &before);
    assert_int_equal(cost.syncs, 1);
    assert_int_equal(cost.image_bytes, 0);
    assert_int_equal(commits_in(nvm), 14);
    seam_nvm_close(nvm);
}

/* The log is checkpointed when a commit leaves it long, and so stays bounded; the
   commits that checkpoint are as durable as any. */
static void the_log_stays_bounded(void **state) {
    scratch *s = *state;
    char path[320];
    struct stat st;
    off_t largest = 0;
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    nvm->checkpoint_frames = 8; /* the bound, lowered for the test */
    for (uint32_t i = 1; i <= 200; i++) {
        assert_int_equal(commit_number(nvm, i), SEAM_OK);
        assert_int_equal(stat(sibling(path, "-wal", 0), &st), 0);
        largest = st.st_size > largest ? st.st_size : largest;
    }
    print_message("      200 commits, the log at most %lld bytes\n", (long long)largest);
    /* 8 frames and one commit's worth (a commit here is a few frames: its records
       overflow their small pages); 200 commits without checkpoints would be ~800 */
    assert_true(largest <= 32 + 24 * FRAME);
    assert_int_equal(commits_in(nvm), 200);
    seam_nvm_close(nvm);
    nvm = open_sealed(path);
    assert_int_equal(commits_in(nvm), 200);
    seam_nvm_close(nvm);
}

/* An image written in rollback-journal mode (what earlier versions left) opens, reads the
   same, and is in WAL mode from then on; its header check accepts both modes. */
static void an_image_from_the_rollback_journal_opens(void **state) {
    scratch *s = *state;
    char path[320];
    uint8_t header[20];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    assert_int_equal(commit_number(nvm, 1), SEAM_OK);
    assert_int_equal(seam_nvm_set_journal(nvm, SEAM_NVM_JOURNAL_ROLLBACK), SEAM_OK);
    assert_int_equal(commit_number(nvm, 2), SEAM_OK);
    seam_nvm_close(nvm);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    assert_non_null(bytes);
    memcpy(header, bytes, sizeof header);
    free(bytes);
    assert_int_equal(header[18], 1); /* rollback-journal mode on disk */
    assert_int_equal(header[19], 1);
    assert_false(file_exists(sibling(path, "-wal", 0)));
    nvm = open_sealed(path);
    assert_int_equal(commits_in(nvm), 2);
    assert_int_equal(commit_number(nvm, 3), SEAM_OK);
    seam_nvm_close(nvm);
    bytes = read_file(path, &len);
    assert_non_null(bytes);
    assert_int_equal(bytes[18], 2); /* WAL mode from its first open on */
    assert_int_equal(bytes[19], 2);
    free(bytes);
    nvm = open_sealed(path);
    assert_int_equal(commits_in(nvm), 3);
    seam_nvm_close(nvm);
}

/* seam_nvm_remove takes the log with the image; in-memory images have no log to checkpoint. */
static void remove_takes_the_log_and_memory_has_none(void **state) {
    scratch *s = *state;
    char path[320];
    snprintf(path, sizeof path, "%s", scratch_path(s, "card.db"));
    seam_nvm *nvm = create_sealed(path);
    assert_int_equal(commit_number(nvm, 1), SEAM_OK);
    assert_int_equal(seam_nvm_remove(path), SEAM_ERR_NVM_BUSY);
    /* a crash leaves the log: copy both, as a backup after a crash must */
    copy_file(path, scratch_path(s, "crashed.db"));
    copy_file(sibling(path, "-wal", 0), scratch_path(s, "crashed.db-wal"));
    seam_nvm_close(nvm);
    char crashed[320];
    snprintf(crashed, sizeof crashed, "%s", scratch_path(s, "crashed.db"));
    assert_true(file_has_content(sibling(crashed, "-wal", 0)));
    assert_int_equal(seam_nvm_remove(crashed), SEAM_OK);
    assert_false(file_exists(crashed));
    assert_false(file_exists(sibling(crashed, "-wal", 0)));
    assert_false(file_exists(sibling(crashed, ".lock", 1)));

    seam_nvm_io_counts counts;
    assert_int_equal(seam_nvm_open_memory(0, &nvm), SEAM_OK);
    assert_int_equal(commit_number(nvm, 1), SEAM_OK);
    assert_int_equal(seam_nvm_checkpoint(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_set_journal(nvm, SEAM_NVM_JOURNAL_ROLLBACK), SEAM_OK);
    seam_nvm_io_counts_get(nvm, &counts);
    assert_int_equal(counts.writes + counts.syncs, 0);
    assert_int_equal(seam_nvm_set_journal(nvm, (seam_nvm_journal)7), SEAM_ERR_ARG);
    seam_nvm_close(nvm);
}

int main(void) {
#define SCRATCH_TEST(name) cmocka_unit_test_setup_teardown(name, scratch_setup, log_teardown)
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(clean_close_leaves_the_image_file_complete_alone),
        SCRATCH_TEST(x4_a_killed_owner_loses_nothing_committed),
        SCRATCH_TEST(a_read_only_transaction_does_no_io),
        SCRATCH_TEST(a_commit_syncs_the_log_once),
        SCRATCH_TEST(the_log_stays_bounded),
        SCRATCH_TEST(an_image_from_the_rollback_journal_opens),
        SCRATCH_TEST(remove_takes_the_log_and_memory_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
