/*
 * What the card's commands cost on disk, and what sits there (issue 11, NVM;
 * docs/nvm.md "Durability"), counted by the nvm's I/O shim
 * (seam_nvm_io_counts_get), never timed:
 *
 * - a command that only reads (BALANCE on a selected purse) or is refused makes
 *   no I/O at all;
 * - a purse DEBIT syncs once (the log), writes nothing to the image file and
 *   no directory;
 * - after power-off, and after close, the image file alone is the card: a copy
 *   of it (with its key file) opens with every committed change;
 * - a power cut at any I/O call of the checkpoint at power-off loses no
 *   acknowledged DEBIT and leaves a card that works.
 */
#include "card_host.h"

#include <sys/stat.h>

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0x27, 0x10}; /* 10000 */

/* Powers on, loads and installs the purse, selects it and verifies its PIN. */
static void purse_ready(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(
        install(card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
    assert_int_equal(select_aid(card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
}

static uint32_t balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    return seam_get_be32(response);
}

static uint16_t debit(seam_card *card) {
    return SEND(card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1);
}

/* The I/O since *before (which it moves to now). */
static seam_nvm_io_counts io_since(seam_card *card, seam_nvm_io_counts *before) {
    seam_nvm_io_counts now, cost;
    seam_nvm_io_counts_get(seam_card_nvm(card), &now);
    cost.writes = now.writes - before->writes;
    cost.image_bytes = now.image_bytes - before->image_bytes;
    cost.log_bytes = now.log_bytes - before->log_bytes;
    cost.syncs = now.syncs - before->syncs;
    cost.directory_syncs = now.directory_syncs - before->directory_syncs;
    *before = now;
    return cost;
}

static void assert_no_io(const seam_nvm_io_counts *cost, const char *what) {
    if (cost->writes || cost->syncs || cost->directory_syncs)
        fail_msg("%s: %llu writes, %llu syncs, %llu directory syncs", what,
                 (unsigned long long)cost->writes, (unsigned long long)cost->syncs,
                 (unsigned long long)cost->directory_syncs);
}

/* Read-only commands reach no file: not a write, not a sync, not a lock file. */
static void a_read_only_command_writes_nothing(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    seam_nvm_io_counts before;
    uint8_t card_before[32], card_after[32];
    purse_ready(f->card);
    assert_int_equal(debit(f->card), 0x9000);
    fingerprint(f->card, card_before);
    seam_nvm_io_counts_get(nvm, &before);
    uint64_t points = seam_nvm_io_points(nvm);
    for (int i = 0; i < 20; i++)
        assert_int_equal(balance(f->card), 9999);
    seam_nvm_io_counts cost = io_since(f->card, &before);
    assert_no_io(&cost, "BALANCE");
    /* a refused command commits nothing either */
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x02, 0, 1), 0x6A80);
    cost = io_since(f->card, &before);
    assert_no_io(&cost, "a refused DEBIT");
    assert_int_equal(seam_nvm_io_points(nvm), points);
    fingerprint(f->card, card_after);
    assert_memory_equal(card_before, card_after, 32);
}

/* A DEBIT: one sync of the log, nothing into the image file, no directory sync. */
static void a_debit_syncs_once(void **state) {
    fixture *f = *state;
    seam_nvm_io_counts before, cost = {0};
    purse_ready(f->card);
    assert_int_equal(debit(f->card), 0x9000); /* the log exists from here */
    seam_nvm_io_counts_get(seam_card_nvm(f->card), &before);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(debit(f->card), 0x9000);
        cost = io_since(f->card, &before);
        assert_int_equal(cost.syncs, 1);
        assert_int_equal(cost.directory_syncs, 0);
        assert_int_equal(cost.image_bytes, 0);
        assert_true(cost.log_bytes > 0);
    }
    print_message("purse DEBIT: %llu bytes to the log in %llu writes, 1 sync\n",
                  (unsigned long long)cost.log_bytes, (unsigned long long)cost.writes);
    assert_int_equal(balance(f->card), 10000 - 11);
}

/* Copies the image file alone (and its key file) to dir/copy.db; returns its path. */
static const char *copy_image_alone(const fixture *f) {
    static char copy[128];
    char key[160], copy_key[160];
    snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
    snprintf(key, sizeof key, "%s.key", f->path);
    snprintf(copy_key, sizeof copy_key, "%s.key", copy);
    const char *from[] = {f->path, key}, *to[] = {copy, copy_key};
    for (int i = 0; i < 2; i++) {
        FILE *in = fopen(from[i], "rb"), *out = fopen(to[i], "wb");
        assert_non_null(in);
        assert_non_null(out);
        uint8_t buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(in);
        assert_int_equal(fclose(out), 0);
    }
    return copy;
}

/* After power-off (the card keeps its handle) and after close, the image file alone
   holds every committed change: its copy opens as the same card. */
static void power_off_leaves_the_image_file_complete(void **state) {
    fixture *f = *state;
    uint8_t card_state[32], copied_state[32];
    char log[128];
    struct stat st;
    snprintf(log, sizeof log, "%s-wal", f->path);
    purse_ready(f->card);
    for (int i = 0; i < 5; i++)
        assert_int_equal(debit(f->card), 0x9000);
    assert_true(stat(log, &st) == 0 && st.st_size > 0); /* the debits are in the log */
    fingerprint(f->card, card_state);
    host_forget();
    seam_card_power_off(f->card);
    assert_true(stat(log, &st) != 0 || st.st_size == 0); /* emptied into the image */
    const char *copy = copy_image_alone(f);
    seam_card *copied = NULL;
    assert_int_equal(seam_card_open(copy, &copied), SEAM_OK);
    fingerprint(copied, copied_state);
    assert_memory_equal(card_state, copied_state, 32);
    seam_card_close(copied);
    assert_int_equal(seam_card_remove(copy), SEAM_OK);

    /* more debits, then close: nothing is left beside the image */
    power_on(f->card);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(debit(f->card), 0x9000);
    fingerprint(f->card, card_state);
    host_forget();
    seam_card_close(f->card);
    f->card = NULL;
    assert_true(stat(log, &st) != 0);
    copy = copy_image_alone(f);
    assert_int_equal(seam_card_open(copy, &copied), SEAM_OK);
    fingerprint(copied, copied_state);
    assert_memory_equal(card_state, copied_state, 32);
    power_on(copied);
    assert_int_equal(select_aid(copied, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(balance(copied), 10000 - 6);
    host_forget();
    seam_card_close(copied);
    assert_int_equal(seam_card_remove(copy), SEAM_OK);
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
}

/* Fresh image, purse ready, five DEBITs acknowledged (in the log); their state in out. */
static void debits_in_the_log(fixture *f, uint8_t out[32]) {
    fresh_image(f);
    purse_ready(f->card);
    for (int i = 0; i < 5; i++)
        assert_int_equal(debit(f->card), 0x9000);
    fingerprint(f->card, out);
    host_forget();
}

/* The reader powers the card off (its checkpoint), on again, and a sixth DEBIT: the calls
   answer 0 once the power is cut. */
static void power_cycle_and_debit(seam_card *card) {
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    seam_card_power_off(card);
    if (seam_card_power_on(card, atr, sizeof atr, &atr_len))
        return;
    cut_expected = true;
    SEND(card, 0x00, 0xA4, 0x04, 0x00, sizeof purse_cls, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01);
    SEND(card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4');
    debit(card);
    cut_expected = false;
}

/* X4 over the checkpoint itself: cut the power (cleanly, tearing a write, or losing what the
   disk had not synced) at every I/O call of the checkpoint the card runs at power-off and of
   the power-on and sixth DEBIT after it (a checkpoint that left the image unsynced would lose
   the log's DEBITs there). After each cut the reopened card holds all five acknowledged
   DEBITs (and the sixth, or not: it was not acknowledged), and the next DEBIT goes through. */
static void x4_power_cut_in_the_power_off_checkpoint_keeps_every_debit(void **state) {
    fixture *f = *state;
    static const seam_nvm_io_fault_mode modes[] = {SEAM_NVM_IO_POWER_CUT, SEAM_NVM_IO_TORN_WRITE,
                                                   SEAM_NVM_IO_LOSE_UNSYNCED};
    static const char *const names[] = {"POWER_CUT", "TORN_WRITE", "LOSE_UNSYNCED"};
    uint8_t five[32], now[32];
    /* the reference run: how many I/O calls the checkpoint, and all of it, make */
    debits_in_the_log(f, five);
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint64_t start = seam_nvm_io_points(nvm);
    seam_card_power_off(f->card);
    uint64_t in_checkpoint = seam_nvm_io_points(nvm) - start;
    power_cycle_and_debit(f->card);
    uint64_t points = seam_nvm_io_points(nvm) - start;
    assert_int_equal(balance(f->card), 10000 - 6);
    assert_true(in_checkpoint >= 3); /* log sync, a page into the image, image sync, ... */
    assert_true(points > in_checkpoint);
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        int kept_sixth = 0;
        for (uint64_t n = 1; n <= points; n++) {
            debits_in_the_log(f, five);
            nvm = seam_card_nvm(f->card);
            assert_int_equal(seam_nvm_io_fault_set(nvm, modes[m], n), SEAM_OK);
            power_cycle_and_debit(f->card);
            seam_card_close(f->card); /* nothing more reaches the disk */
            f->card = NULL;
            assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
            fingerprint(f->card, now);
            power_on(f->card);
            uint16_t sw = SEND(f->card, 0x00, 0xA4, 0x04, 0x00, sizeof purse_cls, 0xA0, 0x00, 0x00,
                               0x05, 0x50, 0x55, 0x01);
            if (sw == 0x9000)
                sw = SEND(f->card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4');
            if (sw != 0x9000)
                fail_msg("%s at I/O call %llu of %llu (%llu in the checkpoint): the purse "
                         "answers %04X",
                         names[m], (unsigned long long)n, (unsigned long long)points,
                         (unsigned long long)in_checkpoint, sw);
            uint32_t left = balance(f->card);
            /* five DEBITs and nothing else changed, or the sixth went through too */
            if (!(left == 10000 - 5 && !memcmp(now, five, 32)) && left != 10000 - 6)
                fail_msg("%s at I/O call %llu of %llu (%llu in the checkpoint): balance %u",
                         names[m], (unsigned long long)n, (unsigned long long)points,
                         (unsigned long long)in_checkpoint, (unsigned)left);
            kept_sixth += left == 10000 - 6;
            assert_int_equal(debit(f->card), 0x9000);
        }
        assert_true(kept_sixth < (int)points); /* the cuts before its commit lose the sixth */
        print_message("X4 power-off checkpoint after 5 DEBITs, %s: %llu I/O points (%llu in the "
                      "checkpoint), none lost a DEBIT, %d kept the unacknowledged sixth\n",
                      names[m], (unsigned long long)points, (unsigned long long)in_checkpoint,
                      kept_sixth);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_read_only_command_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_debit_syncs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(power_off_leaves_the_image_file_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_in_the_power_off_checkpoint_keeps_every_debit,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
