/*
 * Crash tests for requirement X4: "cutting power at any point leaves the card
 * as it was before the command or as it is after it, and never loses
 * personalization or application data."
 *
 * The command under test is a transfer: move 10 from balance A to balance B
 * and append a log record, in one transaction. Each balance sits at the end
 * of a padded record, on that record's own overflow page, so one command
 * rewrites several database pages; the image also holds a personalization
 * record spanning several pages that no command touches.
 *
 * Each sweep first runs the transfer cleanly to count its fault points, then
 * for N = 1..count (and one past the end) starts again from the same image,
 * arms a fault at point N, runs the transfer, and - for a power cut - closes
 * the handle and reopens the image as the next power-up would. The image
 * must then be exactly "before" or exactly "after", with the personalization
 * record intact, and must accept the next command.
 *
 * Every sweep runs twice: on a plain image and on an image sealed under a
 * storage key (the card's kind), whose values are longer and stored encrypted.
 * The image runs with its write-ahead log (the default); the "rollback_"
 * runs switch it to the rollback journal of earlier versions first
 * (seam_nvm_set_journal), which benches still use and which an old image's
 * hot journal needs at its first open.
 *
 * The checkpoint sweeps cut the power at every I/O call of a checkpoint, the
 * explicit one (seam_nvm_checkpoint, as at power-off and close) and the one a
 * commit runs when the log is long: every transaction committed before must
 * be there at the power-up, whatever the cut hit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvm/nvm_int.h"
#include "nvm_test.h"

#define T_PURSE 3
#define T_LOG   4
#define T_PERSO 5
#define T_EXTRA 6

#define PAD_LEN   2500 /* balance records: they overflow their B-tree page */
#define PERSO_LEN 9000 /* personalization: overflow pages */
#define EXTRA_LEN 6000 /* what a growing transfer adds: new pages, a new image size on page 1 */
#define START_A   100
#define AMOUNT    10

typedef enum { IMAGE_BEFORE, IMAGE_AFTER, IMAGE_BROKEN } image_verdict;

typedef struct {
    char pristine[320];
    char work[320];
    char journal[340];
    char log[340];
    bool unsafe_sync; /* run with synchronous=OFF: only for the sweep's self-test */
    bool sealed;      /* the image is sealed under storage_key */
    bool rollback;    /* run in rollback-journal mode instead of with the log */
} sweep_setup;

static const uint8_t storage_key[SEAM_NVM_STORAGE_KEY_SIZE] = {
    0x5E, 0xA1, 0xED, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
    0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C};

/* Whether the running test works on a sealed image, in rollback-journal mode: set by its
   cmocka setup. */
static bool run_sealed, run_rollback;

/* Whether transfers also put the extra record (the checkpoint sweeps: their log then
   holds page 1, which a checkpoint rewrites). */
static bool grow_commands;

static int plain_setup(void **state) {
    grow_commands = false;
    run_sealed = false;
    run_rollback = false;
    return scratch_setup(state);
}

static int sealed_setup(void **state) {
    grow_commands = false;
    run_sealed = true;
    run_rollback = false;
    return scratch_setup(state);
}

static int rollback_setup(void **state) {
    grow_commands = false;
    run_sealed = true;
    run_rollback = true;
    return scratch_setup(state);
}

/* Opens the image at path as the setup says (sealed under storage_key or not). */
static seam_err open_image(const sweep_setup *setup, const char *path, seam_nvm **nvm) {
    return setup->sealed ? seam_nvm_open_sealed(path, storage_key, nvm) : seam_nvm_open(path, nvm);
}

static void fill_perso(uint8_t *perso) {
    for (size_t i = 0; i < PERSO_LEN; i++)
        perso[i] = (uint8_t)(i * 31 + 7);
}

static void fill_extra(uint8_t *extra) {
    for (size_t i = 0; i < EXTRA_LEN; i++)
        extra[i] = (uint8_t)(i * 13 + 1);
}

static seam_err put_balance(seam_nvm *nvm, const char *name, uint32_t balance) {
    uint8_t record[PAD_LEN];
    uint8_t *tail = record + PAD_LEN - 4; /* on the record's last overflow page */
    memset(record, name[0], sizeof record);
    tail[0] = (uint8_t)(balance >> 24);
    tail[1] = (uint8_t)(balance >> 16);
    tail[2] = (uint8_t)(balance >> 8);
    tail[3] = (uint8_t)balance;
    return seam_nvm_put(nvm, T_PURSE, (const uint8_t *)name, 1, record, sizeof record);
}

static seam_err get_balance(seam_nvm *nvm, const char *name, uint32_t *balance) {
    uint8_t record[PAD_LEN];
    size_t len = 0;
    seam_err err =
        seam_nvm_get(nvm, T_PURSE, (const uint8_t *)name, 1, record, sizeof record, &len);
    if (err == SEAM_OK && len != PAD_LEN)
        err = SEAM_ERR_NVM_CORRUPT;
    for (size_t i = 0; err == SEAM_OK && i < len - 4; i++)
        if (record[i] != (uint8_t)name[0])
            err = SEAM_ERR_NVM_CORRUPT;
    const uint8_t *tail = record + PAD_LEN - 4;
    if (err == SEAM_OK)
        *balance =
            (uint32_t)tail[0] << 24 | (uint32_t)tail[1] << 16 | (uint32_t)tail[2] << 8 | tail[3];
    return err;
}

/*
 * The command: one transaction with three puts and a commit (four write
 * points). Stops at the first error and returns it, as the card would.
 */
static seam_err transfer(seam_nvm *nvm) {
    uint32_t a = 0, b = 0;
    seam_err err = seam_nvm_begin(nvm);
    if (err == SEAM_OK)
        err = get_balance(nvm, "A", &a);
    if (err == SEAM_OK)
        err = get_balance(nvm, "B", &b);
    if (err == SEAM_OK)
        err = put_balance(nvm, "A", a - AMOUNT);
    if (err == SEAM_OK)
        err = put_balance(nvm, "B", b + AMOUNT);
    if (err == SEAM_OK) {
        char entry[64];
        int len = snprintf(entry, sizeof entry, "A->B %d, A was %u", AMOUNT, a);
        err = seam_nvm_put(nvm, T_LOG, (const uint8_t *)&a, sizeof a, (const uint8_t *)entry,
                           (size_t)len);
    }
    if (err == SEAM_OK && grow_commands) {
        static uint8_t extra[EXTRA_LEN];
        fill_extra(extra);
        err = seam_nvm_put(nvm, T_EXTRA, (const uint8_t *)"extra", 5, extra, sizeof extra);
    }
    if (err == SEAM_OK)
        err = seam_nvm_commit(nvm);
    return err;
}

/* Counts log records (callback for foreach). */
static int count_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(size_t *)ctx)++;
    return 0;
}

/* The cost of the log record the transfer from balance a puts. */
static size_t log_cost(seam_nvm *nvm, uint32_t a) {
    char entry[64];
    int len = snprintf(entry, sizeof entry, "A->B %d, A was %u", AMOUNT, a);
    return seam_nvm_put_cost(nvm, 4, (size_t)len);
}

/* How many whole transfers an opened image holds (0 is the pristine image), or -1 when it
   is not the pristine image after a whole number of transfers; *extra says whether it holds
   the extra record (whole: else -1). */
static int transfers_in(seam_nvm *nvm, bool *extra) {
    uint32_t a = 0, b = 0;
    size_t logs = 0, perso_len = 0, extra_len = 0;
    static uint8_t perso[PERSO_LEN], want[PERSO_LEN], more[EXTRA_LEN], want_more[EXTRA_LEN];
    seam_err err =
        seam_nvm_get(nvm, T_EXTRA, (const uint8_t *)"extra", 5, more, sizeof more, &extra_len);
    fill_extra(want_more);
    *extra = err == SEAM_OK;
    if ((err != SEAM_OK && err != SEAM_ERR_NOT_FOUND) ||
        (*extra && (extra_len != EXTRA_LEN || memcmp(more, want_more, EXTRA_LEN) != 0)))
        return -1;
    if (get_balance(nvm, "A", &a) != SEAM_OK || get_balance(nvm, "B", &b) != SEAM_OK ||
        seam_nvm_foreach(nvm, T_LOG, NULL, 0, count_visit, &logs) != SEAM_OK ||
        seam_nvm_get(nvm, T_PERSO, (const uint8_t *)"perso", 5, perso, sizeof perso, &perso_len) !=
            SEAM_OK)
        return -1;
    fill_perso(want);
    if (perso_len != PERSO_LEN || memcmp(perso, want, PERSO_LEN) != 0)
        return -1;
    size_t used = seam_nvm_put_cost(nvm, 1, PAD_LEN) * 2 + seam_nvm_put_cost(nvm, 5, PERSO_LEN);
    if (*extra)
        used += seam_nvm_put_cost(nvm, 5, EXTRA_LEN);
    for (size_t k = 0; k < logs; k++)
        used += log_cost(nvm, START_A - (uint32_t)k * AMOUNT);
    if (a != START_A - (uint32_t)logs * AMOUNT || b != (uint32_t)logs * AMOUNT ||
        seam_nvm_used_bytes(nvm) != used)
        return -1;
    return (int)logs;
}

/* Decides whether an opened image is wholly before or wholly after one transfer. */
static image_verdict classify(seam_nvm *nvm) {
    bool extra = false;
    int k = transfers_in(nvm, &extra);
    if (k == 0 && !extra)
        return IMAGE_BEFORE;
    return k == 1 && extra == grow_commands ? IMAGE_AFTER : IMAGE_BROKEN;
}

/* Makes the image every run of a sweep starts from. */
static void make_pristine(scratch *s, sweep_setup *setup) {
    memset(setup, 0, sizeof *setup);
    setup->sealed = run_sealed;
    setup->rollback = run_rollback;
    snprintf(setup->pristine, sizeof setup->pristine, "%s", scratch_path(s, "pristine.db"));
    snprintf(setup->work, sizeof setup->work, "%s", scratch_path(s, "card.db"));
    snprintf(setup->journal, sizeof setup->journal, "%s-journal", setup->work);
    snprintf(setup->log, sizeof setup->log, "%s-wal", setup->work);
    seam_nvm *nvm = NULL;
    static uint8_t perso[PERSO_LEN];
    fill_perso(perso);
    assert_int_equal(setup->sealed ? seam_nvm_create_sealed(setup->pristine, 0, storage_key, &nvm)
                                   : seam_nvm_create(setup->pristine, 0, &nvm),
                     SEAM_OK);
    assert_int_equal(seam_nvm_is_sealed(nvm), setup->sealed);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_PERSO, (const uint8_t *)"perso", 5, perso, sizeof perso),
                     SEAM_OK);
    assert_int_equal(put_balance(nvm, "A", START_A), SEAM_OK);
    assert_int_equal(put_balance(nvm, "B", 0), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    assert_int_equal(classify(nvm), IMAGE_BEFORE);
    seam_nvm_close(nvm);
    /* a clean close leaves the image file alone: no log, no journal, no shared memory */
    char sibling[340];
    snprintf(sibling, sizeof sibling, "%s-wal", setup->pristine);
    assert_false(file_exists(sibling));
    snprintf(sibling, sizeof sibling, "%s-shm", setup->pristine);
    assert_false(file_exists(sibling));
}

/* True when a hot log or journal waits beside the work image for the power-up. */
static bool log_left(const sweep_setup *setup) {
    return file_has_content(setup->log) || file_has_content(setup->journal);
}

/* Opens a fresh copy of the pristine image. */
static seam_nvm *open_fresh(const sweep_setup *setup) {
    seam_nvm *nvm = NULL;
    copy_file(setup->pristine, setup->work);
    remove(setup->journal);
    remove(setup->log);
    assert_int_equal(open_image(setup, setup->work, &nvm), SEAM_OK);
    if (setup->rollback)
        assert_int_equal(seam_nvm_set_journal(nvm, SEAM_NVM_JOURNAL_ROLLBACK), SEAM_OK);
    if (setup->unsafe_sync)
        assert_int_equal(sqlite3_exec(nvm->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL),
                         SQLITE_OK);
    return nvm;
}

/*
 * The power comes back: reopen and classify. Unless the setup is unsafe on
 * purpose, the image must be before or after (X4) and take the next command.
 */
static image_verdict power_up(const sweep_setup *setup, uint64_t n) {
    seam_nvm *nvm = NULL;
    seam_err err = open_image(setup, setup->work, &nvm);
    image_verdict verdict = err == SEAM_OK ? classify(nvm) : IMAGE_BROKEN;
    if (verdict == IMAGE_BROKEN && !setup->unsafe_sync)
        fail_msg("N=%llu: the image is neither before nor after the transfer (X4); open: %s",
                 (unsigned long long)n, err_name(err));
    if (verdict != IMAGE_BROKEN) {
        err = transfer(nvm);
        if (err != SEAM_OK)
            fail_msg("N=%llu: the next command after power-up: %s", (unsigned long long)n,
                     err_name(err));
    }
    seam_nvm_close(nvm);
    return verdict;
}

/* Counts the write points (nvm level) or I/O points (SQLite level) of one clean transfer. */
static uint64_t count_points(const sweep_setup *setup, bool io_level) {
    seam_nvm *nvm = open_fresh(setup);
    uint64_t start = io_level ? seam_nvm_io_points(nvm) : seam_nvm_write_points(nvm);
    assert_int_equal(transfer(nvm), SEAM_OK);
    uint64_t count = (io_level ? seam_nvm_io_points(nvm) : seam_nvm_write_points(nvm)) - start;
    assert_int_equal(classify(nvm), IMAGE_AFTER);
    seam_nvm_close(nvm);
    return count;
}

/* What a sweep saw over N = 1..points; the run at points + 1 (no fault) is checked apart. */
typedef struct {
    uint64_t points;
    unsigned before, after, broken, journals;
} sweep_result;

static void tally(sweep_result *result, image_verdict verdict) {
    if (verdict == IMAGE_BEFORE)
        result->before++;
    else if (verdict == IMAGE_AFTER)
        result->after++;
    else
        result->broken++;
}

static void report(const char *what, const sweep_result *result) {
    print_message("      X4 %s%s%s: %llu points: %u before, %u after, %u broken; "
                  "%u hot logs or journals left for the power-up\n",
                  run_sealed ? "sealed, " : "", run_rollback ? "rollback journal, " : "", what,
                  (unsigned long long)result->points, result->before, result->after, result->broken,
                  result->journals);
}

/* X4, nvm level: a power cut at every write point of the transfer. */
static void x4_power_cut_at_every_write_point(void **state) {
    sweep_setup setup;
    sweep_result result = {0};
    make_pristine(*state, &setup);
    result.points = count_points(&setup, false);
    assert_int_equal(result.points, 4); /* three puts and the commit */
    for (uint64_t n = 1; n <= result.points + 1; n++) {
        seam_nvm *nvm = open_fresh(&setup);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, n), SEAM_OK);
        seam_err err = transfer(nvm);
        if (n <= result.points) {
            assert_int_equal(err, SEAM_ERR_NVM_POWER_CUT);
            assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_POWER_CUT);
            assert_int_equal(seam_nvm_begin(nvm), SEAM_ERR_NVM_POWER_CUT);
        } else {
            assert_int_equal(err, SEAM_OK);
        }
        seam_nvm_close(nvm);
        bool journal = log_left(&setup);
        image_verdict verdict = power_up(&setup, n);
        if (n > result.points) {
            assert_int_equal(verdict, IMAGE_AFTER);
            break;
        }
        /* The cut always hits before SQLite commits: nothing of the command may survive. */
        assert_int_equal(verdict, IMAGE_BEFORE);
        result.journals += journal;
        tally(&result, verdict);
    }
    report("nvm-level POWER_CUT sweep", &result);
    /* With the rollback journal the puts reach the disk (the journal) before the commit's
       write point, and the recovery path is really taken; with the log nothing reaches it
       before the commit: a cut at a write point leaves no frame to recover. */
    if (setup.rollback)
        assert_true(result.journals > 0);
    else
        assert_int_equal(result.journals, 0);
}

/* X4, nvm level: a failure at every write point, rolled back, leaves the image before. */
static void x4_fail_at_every_write_point_rolls_back(void **state) {
    sweep_setup setup;
    sweep_result result = {0};
    make_pristine(*state, &setup);
    result.points = count_points(&setup, false);
    for (uint64_t n = 1; n <= result.points; n++) {
        seam_nvm *nvm = open_fresh(&setup);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_FAIL, n), SEAM_OK);
        assert_int_equal(transfer(nvm), SEAM_ERR_NVM);
        assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_FAILED);
        assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
        image_verdict verdict = classify(nvm);
        assert_int_equal(verdict, IMAGE_BEFORE);
        tally(&result, verdict);
        /* The card continues on the same handle. */
        assert_int_equal(transfer(nvm), SEAM_OK);
        assert_int_equal(classify(nvm), IMAGE_AFTER);
        seam_nvm_close(nvm);
        seam_nvm *again = NULL;
        assert_int_equal(open_image(&setup, setup.work, &again), SEAM_OK);
        assert_int_equal(classify(again), IMAGE_AFTER);
        seam_nvm_close(again);
    }
    report("nvm-level FAIL sweep, rolled back", &result);
}

/* One I/O-level sweep: a fault of the given mode at every I/O call of the transfer. */
static sweep_result io_sweep(const sweep_setup *setup, seam_nvm_io_fault_mode mode) {
    sweep_result result = {0};
    result.points = count_points(setup, true);
    assert_true(result.points > 4);
    for (uint64_t n = 1; n <= result.points + 1; n++) {
        seam_nvm *nvm = open_fresh(setup);
        assert_int_equal(seam_nvm_io_fault_set(nvm, mode, n), SEAM_OK);
        seam_err err = transfer(nvm);
        if (n > result.points)
            assert_int_equal(err, SEAM_OK);
        else if (mode != SEAM_NVM_IO_FAIL && err != SEAM_ERR_NVM_POWER_CUT)
            fail_msg("N=%llu: transfer returned %s, want SEAM_ERR_NVM_POWER_CUT",
                     (unsigned long long)n, err_name(err));
        if (mode == SEAM_NVM_IO_FAIL && err != SEAM_OK) {
            /* A transient I/O error: the command fails, the card rolls back and goes on. */
            assert_int_equal(err, SEAM_ERR_NVM);
            assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
            assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_READ);
            image_verdict verdict = classify(nvm);
            if (verdict != IMAGE_BEFORE)
                fail_msg("N=%llu: a failed command left the image %s", (unsigned long long)n,
                         verdict == IMAGE_AFTER ? "after" : "broken");
        }
        seam_nvm_close(nvm);
        bool journal = log_left(setup);
        image_verdict verdict = power_up(setup, n);
        if (n > result.points) {
            assert_int_equal(verdict, IMAGE_AFTER);
            break;
        }
        result.journals += journal;
        tally(&result, verdict);
    }
    return result;
}

/* X4 inside SQLite: the power goes at every xWrite/xSync/xTruncate/xDelete. */
static void x4_io_power_cut_at_every_io_call(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    sweep_result result = io_sweep(&setup, SEAM_NVM_IO_POWER_CUT);
    report("I/O-level POWER_CUT sweep", &result);
    assert_true(result.journals > 0);
}

/* X4 inside SQLite: as above, with the write that the power hits torn in half. */
static void x4_io_torn_write_at_every_io_call(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    sweep_result result = io_sweep(&setup, SEAM_NVM_IO_TORN_WRITE);
    report("I/O-level TORN_WRITE sweep", &result);
}

/* X4 inside SQLite: as above, and the disk cache loses part of what was not synced. */
static void x4_io_lost_cache_at_every_io_call(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    sweep_result result = io_sweep(&setup, SEAM_NVM_IO_LOSE_UNSYNCED);
    report("I/O-level LOSE_UNSYNCED sweep", &result);
}

/* X4 inside SQLite: a transient I/O error at every call; the card rolls back and goes on. */
static void x4_io_error_at_every_io_call(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    sweep_result result = io_sweep(&setup, SEAM_NVM_IO_FAIL);
    report("I/O-level FAIL sweep", &result);
}

/*
 * X4 with the header garbled as well, in rollback-journal mode: the power goes
 * at the commit point (deleting the journal), after the new pages reached the
 * file, and the cut also wiped the file's first 100 bytes. The journal beside
 * the image must repair it at the power-up; without the journal the file is
 * refused.
 */
static void x4_journal_repairs_a_garbled_header(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    uint64_t points = count_points(&setup, true);
    seam_nvm *nvm = open_fresh(&setup);
    assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_POWER_CUT, points), SEAM_OK);
    assert_int_equal(transfer(nvm), SEAM_ERR_NVM_POWER_CUT);
    seam_nvm_close(nvm);
    assert_true(file_has_content(setup.journal));

    size_t len = 0;
    uint8_t *bytes = read_file(setup.work, &len);
    assert_non_null(bytes);
    memset(bytes, 0, 100);
    write_file(setup.work, bytes, len);
    char orphan[320];
    snprintf(orphan, sizeof orphan, "%s", scratch_path(*state, "orphan.db"));
    write_file(orphan, bytes, len);
    free(bytes);

    assert_int_equal(power_up(&setup, points), IMAGE_BEFORE);
    nvm = (seam_nvm *)&len;
    assert_int_equal(open_image(&setup, orphan, &nvm), SEAM_ERR_NVM_CORRUPT);
    assert_null(nvm);
}

/* ---- checkpoints ---------------------------------------------------------------- */

/* What a checkpoint sweep saw: besides the verdicts, how many cuts hit after the
   transfer had committed, and how many of those lost it (X4's "never loses"). */
typedef struct {
    sweep_result verdicts;
    unsigned committed, lost;
} durable_result;

/*
 * The command of a checkpoint sweep: a growing transfer, then (explicit) the
 * checkpoint the card runs at power-off, or (not explicit) the one its commit
 * runs because the log is long. *committed says whether the transfer's commit
 * returned SEAM_OK.
 */
static seam_err transfer_and_checkpoint(seam_nvm *nvm, bool explicit, bool *committed) {
    seam_err err = transfer(nvm);
    *committed = err == SEAM_OK;
    if (err == SEAM_OK && explicit)
        err = seam_nvm_checkpoint(nvm);
    return err;
}

/* Opens a fresh copy for a checkpoint sweep: the commit checkpoints after every frame
   when the checkpoint is not explicit. */
static seam_nvm *open_for_checkpoint(const sweep_setup *setup, bool explicit) {
    seam_nvm *nvm = open_fresh(setup);
    if (!explicit)
        nvm->checkpoint_frames = 1;
    return nvm;
}

/*
 * X4 through checkpoints: a fault of mode at every I/O call of a growing
 * transfer and the checkpoint after it. A cut before the transfer's commit
 * returned may leave the image before or after it; once the commit returned,
 * every power-up must find it (the card answered 9000), whatever the cut did
 * to the checkpoint: a torn page 1, lost image writes, a half-truncated log.
 */
static durable_result checkpoint_sweep(const sweep_setup *setup, seam_nvm_io_fault_mode mode,
                                       bool explicit) {
    durable_result result = {0};
    bool committed = false;
    seam_nvm *nvm = open_for_checkpoint(setup, explicit);
    uint64_t start = seam_nvm_io_points(nvm);
    assert_int_equal(transfer_and_checkpoint(nvm, explicit, &committed), SEAM_OK);
    result.verdicts.points = seam_nvm_io_points(nvm) - start;
    seam_nvm_close(nvm);
    for (uint64_t n = 1; n <= result.verdicts.points + 1; n++) {
        nvm = open_for_checkpoint(setup, explicit);
        assert_int_equal(seam_nvm_io_fault_set(nvm, mode, n), SEAM_OK);
        seam_err err = transfer_and_checkpoint(nvm, explicit, &committed);
        if (n > result.verdicts.points) /* the fault waits past the command (for close) */
            assert_int_equal(err, SEAM_OK);
        if (mode == SEAM_NVM_IO_FAIL && err != SEAM_OK) {
            /* a transient error: a failed commit is rolled back, a failed checkpoint
               loses nothing and the next one (at close) goes through */
            assert_int_equal(err, SEAM_ERR_NVM);
            if (!committed)
                assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
            assert_int_equal(seam_nvm_get_state(nvm), SEAM_NVM_STATE_READ);
            assert_int_equal(classify(nvm), committed ? IMAGE_AFTER : IMAGE_BEFORE);
        } else if (mode != SEAM_NVM_IO_FAIL && n <= result.verdicts.points &&
                   seam_nvm_get_state(nvm) != SEAM_NVM_STATE_POWER_CUT) {
            fail_msg("N=%llu: the handle is not POWER_CUT after the cut", (unsigned long long)n);
        }
        seam_nvm_close(nvm);
        bool journal = log_left(setup);
        image_verdict verdict = power_up(setup, n);
        if (n > result.verdicts.points && !setup->unsafe_sync) {
            assert_int_equal(verdict, IMAGE_AFTER);
            break;
        }
        if (committed) {
            result.committed++;
            if (verdict != IMAGE_AFTER) {
                result.lost++;
                if (!setup->unsafe_sync)
                    fail_msg("N=%llu: the transfer committed, the power-up does not show it",
                             (unsigned long long)n);
            }
        }
        result.verdicts.journals += journal;
        tally(&result.verdicts, verdict);
    }
    return result;
}

static void report_durable(const char *what, const durable_result *result) {
    report(what, &result->verdicts);
    print_message("        %u cuts after the commit returned, %u of them lost it\n",
                  result->committed, result->lost);
}

/* One checkpoint sweep per fault mode, explicit or run by a commit. */
static void checkpoint_sweeps(void **state, bool explicit) {
    static const seam_nvm_io_fault_mode modes[] = {SEAM_NVM_IO_POWER_CUT, SEAM_NVM_IO_TORN_WRITE,
                                                   SEAM_NVM_IO_LOSE_UNSYNCED, SEAM_NVM_IO_FAIL};
    static const char *const names[] = {"POWER_CUT", "TORN_WRITE", "LOSE_UNSYNCED", "FAIL"};
    sweep_setup setup;
    char what[96];
    make_pristine(*state, &setup);
    grow_commands = true;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        durable_result result = checkpoint_sweep(&setup, modes[m], explicit);
        snprintf(what, sizeof what, "%s checkpoint sweep, %s", explicit ? "explicit" : "commit's",
                 names[m]);
        report_durable(what, &result);
        assert_int_equal(result.lost, 0);
        assert_int_equal(result.verdicts.broken, 0);
        assert_true(result.committed > 2); /* the checkpoint's own points were swept */
        if (modes[m] != SEAM_NVM_IO_FAIL)
            assert_true(result.verdicts.journals > 0);
    }
    grow_commands = false;
}

/* X4: a power cut at every I/O call of seam_nvm_checkpoint (power-off, close). */
static void x4_cut_inside_a_checkpoint_keeps_every_commit(void **state) {
    checkpoint_sweeps(state, true);
}

/* X4: a power cut at every I/O call of a commit that checkpoints a long log: the commit is
   durable from its log sync on, whatever happens to the checkpoint after it. */
static void x4_cut_inside_a_commits_checkpoint_keeps_the_commit(void **state) {
    checkpoint_sweeps(state, false);
}

/*
 * X4 with the header garbled by a checkpoint: a growing transfer commits (its
 * log holds page 1), the power goes at the checkpoint's first write into the
 * image file, and the cut also wiped the file's first 100 bytes. The log
 * beside the image repairs it at the power-up; without the log the file is
 * refused.
 */
static void x4_log_repairs_a_garbled_header(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    grow_commands = true;
    seam_nvm *nvm = open_fresh(&setup);
    seam_nvm_io_counts before, after;
    assert_int_equal(transfer(nvm), SEAM_OK);
    uint64_t n = 0;
    /* find the checkpoint's first image write: the first point after which the
       image file has been written to */
    for (n = 1;; n++) {
        seam_nvm_close(nvm);
        nvm = open_fresh(&setup);
        assert_int_equal(transfer(nvm), SEAM_OK);
        seam_nvm_io_counts_get(nvm, &before);
        assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_POWER_CUT, n + 1), SEAM_OK);
        seam_err err = seam_nvm_checkpoint(nvm);
        seam_nvm_io_counts_get(nvm, &after);
        if (after.image_bytes > before.image_bytes) {
            assert_int_equal(err, SEAM_ERR_NVM_POWER_CUT); /* cut at the write after it */
            break;
        }
        assert_true(n < 20);
    }
    seam_nvm_close(nvm);
    /* again, cut right at that first image write */
    nvm = open_fresh(&setup);
    assert_int_equal(transfer(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_io_fault_set(nvm, SEAM_NVM_IO_POWER_CUT, n), SEAM_OK);
    assert_int_equal(seam_nvm_checkpoint(nvm), SEAM_ERR_NVM_POWER_CUT);
    seam_nvm_close(nvm);
    assert_true(file_has_content(setup.log));

    size_t len = 0;
    uint8_t *bytes = read_file(setup.work, &len);
    assert_non_null(bytes);
    memset(bytes, 0, 100);
    write_file(setup.work, bytes, len);
    char orphan[320];
    snprintf(orphan, sizeof orphan, "%s", scratch_path(*state, "orphan.db"));
    write_file(orphan, bytes, len);
    free(bytes);

    assert_int_equal(power_up(&setup, n), IMAGE_AFTER);
    nvm = (seam_nvm *)&len;
    assert_int_equal(open_image(&setup, orphan, &nvm), SEAM_ERR_NVM_CORRUPT);
    assert_null(nvm);
    grow_commands = false;
}

/*
 * The sweeps' self-test: with synchronous=OFF (what seam must never run with)
 * the lost-cache sweeps have to find a command that is lost or broken: in
 * rollback-journal mode an image that is neither before nor after, with the
 * log a transfer that committed and is gone after a checkpoint was cut (the
 * log's checksums keep every image whole, but without syncs nothing keeps a
 * commit). If they did not, the sweeps above would prove nothing about our
 * settings.
 */
static void sweep_catches_an_unsafe_setting(void **state) {
    sweep_setup setup;
    make_pristine(*state, &setup);
    setup.unsafe_sync = true;
    if (setup.rollback) {
        sweep_result result = io_sweep(&setup, SEAM_NVM_IO_LOSE_UNSYNCED);
        report("self-test, synchronous=OFF, LOSE_UNSYNCED", &result);
        assert_true(result.broken > 0);
        return;
    }
    grow_commands = true;
    durable_result result = checkpoint_sweep(&setup, SEAM_NVM_IO_LOSE_UNSYNCED, true);
    report_durable("self-test, synchronous=OFF, explicit checkpoint, LOSE_UNSYNCED", &result);
    assert_true(result.lost + result.verdicts.broken > 0);
    grow_commands = false;
}

int main(void) {
#define PLAIN(name)                                                                                \
    { #name, name, plain_setup, scratch_teardown, NULL }
#define SEALED(name)                                                                               \
    { "sealed_" #name, name, sealed_setup, scratch_teardown, NULL }
#define ROLLBACK(name)                                                                             \
    { "rollback_" #name, name, rollback_setup, scratch_teardown, NULL }
    const struct CMUnitTest tests[] = {
        PLAIN(x4_power_cut_at_every_write_point),
        PLAIN(x4_fail_at_every_write_point_rolls_back),
        PLAIN(x4_io_power_cut_at_every_io_call),
        PLAIN(x4_io_torn_write_at_every_io_call),
        PLAIN(x4_io_lost_cache_at_every_io_call),
        PLAIN(x4_io_error_at_every_io_call),
        PLAIN(x4_cut_inside_a_checkpoint_keeps_every_commit),
        PLAIN(x4_cut_inside_a_commits_checkpoint_keeps_the_commit),
        PLAIN(x4_log_repairs_a_garbled_header),
        PLAIN(sweep_catches_an_unsafe_setting),
        SEALED(x4_power_cut_at_every_write_point),
        SEALED(x4_fail_at_every_write_point_rolls_back),
        SEALED(x4_io_power_cut_at_every_io_call),
        SEALED(x4_io_torn_write_at_every_io_call),
        SEALED(x4_io_lost_cache_at_every_io_call),
        SEALED(x4_io_error_at_every_io_call),
        SEALED(x4_cut_inside_a_checkpoint_keeps_every_commit),
        SEALED(x4_cut_inside_a_commits_checkpoint_keeps_the_commit),
        SEALED(x4_log_repairs_a_garbled_header),
        SEALED(sweep_catches_an_unsafe_setting),
        ROLLBACK(x4_power_cut_at_every_write_point),
        ROLLBACK(x4_io_power_cut_at_every_io_call),
        ROLLBACK(x4_io_torn_write_at_every_io_call),
        ROLLBACK(x4_io_lost_cache_at_every_io_call),
        ROLLBACK(x4_journal_repairs_a_garbled_header),
        ROLLBACK(sweep_catches_an_unsafe_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
