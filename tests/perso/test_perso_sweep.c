/*
 * X4 for the update outside the card (P9; docs/restore-module.md "Outside the card"):
 * seam_perso_update cut at every write point of the card's nvm, and the restore store
 * cut between each two of its transactions. After each cut the purse is either 1.0
 * with its PIN, balance, counter and log, or 2.0 with them, never between; called
 * again, the flow finishes the same upgrade (never a second one) and the purse is
 * 2.0 with its data.
 */
#include "flows_host.h"

static void update_cut_at_every_card_write_point_resumes_x4_p9(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    size_t len = 0, resumed = 0, was_v2 = 0;
    uint8_t *module = read_module("purse_v2", &len);
    int n = 1;
    for (;; n++) {
        flows_fresh(ff);
        terminal_installs_purse(ff);
        purse_used(ff->card.card);
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(ff->card.card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        cut_expected = true;
        seam_err e = seam_perso_update(actor_of(ff), module, len, &report);
        cut_expected = false;
        if (e == SEAM_OK) { /* no write point left to cut */
            assert_int_equal(
                seam_nvm_fault_set(seam_card_nvm(ff->card.card), SEAM_NVM_FAULT_OFF, 0), SEAM_OK);
            assert_string_equal(report.reason, "");
            break;
        }
        assert_int_equal(e, SEAM_ERR_NVM_POWER_CUT);
        reopen(&ff->card);
        was_v2 += purse_is_v2(ff->card.card);
        purse_kept_its_data(ff->card.card); /* 1.0 or 2.0, with its data */
        assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
        assert_string_equal(report.reason, "");
        resumed += report.resumed;
        assert_true(purse_is_v2(ff->card.card));
        purse_kept_its_data(ff->card.card);
        assert_true(n < 2000);
    }
    print_message("P9 update: %d card write points cut, %zu resumed from the journal, %zu "
                  "already 2.0 at the cut\n",
                  n - 1, resumed, was_v2);
    assert_true(n > 5);
    assert_true(resumed > 0);
    assert_true(purse_is_v2(ff->card.card));
    purse_kept_its_data(ff->card.card);
    free(module);
}

static void update_with_the_store_cut_between_its_transactions_resumes_x4_p9(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    size_t len = 0;
    uint8_t *module = read_module("purse_v2", &len);
    long k = 0;
    for (;; k++) {
        flows_fresh(ff);
        terminal_installs_purse(ff);
        purse_used(ff->card.card);
        perso_store_fault_after(ff->store, k);
        seam_err e = seam_perso_update(actor_of(ff), module, len, &report);
        if (e == SEAM_OK) {
            assert_string_equal(report.reason, "");
            break;
        }
        assert_int_equal(e, SEAM_ERR_PERSO_STORE);
        /* the terminal restarts: its store opened again, the card reset */
        seam_perso_store_close(ff->store);
        assert_int_equal(seam_perso_store_open(ff->store_path, &ff->store), SEAM_OK);
        host_forget();
        power_on(ff->card.card);
        purse_kept_its_data(ff->card.card);
        assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
        assert_string_equal(report.reason, "");
        assert_true(purse_is_v2(ff->card.card));
        purse_kept_its_data(ff->card.card);
        assert_true(k < 100);
    }
    print_message("P9 update: the store cut after each of its %ld transactions\n", k);
    assert_true(k >= 3);
    free(module);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(update_cut_at_every_card_write_point_resumes_x4_p9,
                                        flows_setup, flows_teardown),
        cmocka_unit_test_setup_teardown(
            update_with_the_store_cut_between_its_transactions_resumes_x4_p9, flows_setup,
            flows_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
