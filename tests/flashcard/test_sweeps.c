/*
 * P12 / X4: a power cut at every write point of the controller-driven update
 * (FIG. 11): every card nvm transaction, then every flash transaction. After each
 * cut the flash card is powered on again (its recovery runs) and card and flash
 * must agree: the purse whole at 1.0 with no upgrade session, or whole at 2.0, and
 * the journal empty; never between (docs/flashcard.md "Power cuts").
 */
#include "fc_fixture.h"

/* One run: a fresh flash card holding purse 2.0; the cut armed by arm (n); the update;
   power on again; the checks. Returns true when the update ran to its end uncut. */
static bool run_cut(bool flash_cut, uint64_t n, int *at_v2) {
    fc_fixture x;
    fc_ready(&x, PURSE_CONTROLLER, "purse_v2");
    if (flash_cut)
        seam_flashcard_flash_fault(x.fc, n);
    else
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(seam_flashcard_card(x.fc)),
                                            SEAM_NVM_FAULT_POWER_CUT, n),
                         SEAM_OK);
    seam_err e = fc_update_purse(x.fc);
    bool completed = e == SEAM_OK;
    if (completed)
        assert_int_equal(refusal(), 0);
    else
        assert_int_equal(e, SEAM_ERR_FLASHCARD_POWER_CUT);
    /* the flash card is dead until powered on again */
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0),
                     completed ? SEAM_OK : SEAM_ERR_FLASHCARD_POWER_CUT);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK); /* recovery */
    assert_false(fc_journal(x.fc));
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    if (purse_checked(&x) == 0x0200)
        (*at_v2)++;
    else
        print_message("cut %llu: left at 1.0\n", (unsigned long long)n);
    fc_remove(&x);
    return completed;
}

static int sweep(bool flash_cut, int *at_v2) {
    uint64_t n = 1;
    *at_v2 = 0;
    while (!run_cut(flash_cut, n, at_v2)) {
        n++;
        assert_true(n < 1000);
    }
    return (int)n - 1;
}

static void p12_x4_power_cut_at_every_card_write_of_the_controllers_update(void **state) {
    (void)state;
    int v2 = 0, points = sweep(false, &v2);
    print_message("card write points swept: %d (%d recovered to 2.0, %d left at 1.0)\n", points,
                  v2 - 1, points - (v2 - 1));
    assert_true(points > 3);
}

static void p12_x4_power_cut_at_every_flash_write_of_the_controllers_update(void **state) {
    (void)state;
    int v2 = 0, points = sweep(true, &v2);
    print_message("flash write points swept: %d (%d recovered to 2.0, %d left at 1.0)\n", points,
                  v2 - 1, points - (v2 - 1));
    /* the controller's journal set and cleared, the restore store's record and journal */
    assert_true(points >= 4);
}

/* One run of the refused update's roll back: purse 2.0 on the card, the host STOREs purse
   1.0 and asks for an UPDATE, which the card refuses at migrate (6985); the cut armed at
   n; power on again: the purse whole at 2.0, no upgrade session, no journal, the flash card
   opens. Returns true when the command ran to its end uncut (the refusal). */
static bool run_cut_roll_back(bool flash_cut, uint64_t n) {
    fc_fixture x;
    fc_ready(&x, PURSE_CONTROLLER, "purse_v2");
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(fc_store(x.fc, "purse", x.cin, x.cin_len), SEAM_OK);
    assert_int_equal(refusal(), 0);
    if (flash_cut)
        seam_flashcard_flash_fault(x.fc, n);
    else
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(seam_flashcard_card(x.fc)),
                                            SEAM_NVM_FAULT_POWER_CUT, n),
                         SEAM_OK);
    seam_err e = fc_update_purse(x.fc);
    bool completed = e == SEAM_OK;
    if (completed)
        assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_REFUSED);
    else
        assert_int_equal(e, SEAM_ERR_FLASHCARD_POWER_CUT);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK); /* recovery */
    assert_false(fc_journal(x.fc));
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0200);
    fc_remove(&x);
    return completed;
}

static void p12_x4_power_cut_at_every_write_of_a_refused_updates_roll_back(void **state) {
    (void)state;
    for (int flash = 0; flash < 2; flash++) {
        uint64_t n = 1;
        while (!run_cut_roll_back(flash, n)) {
            n++;
            assert_true(n < 1000);
        }
        print_message("%s write points of the refused update swept: %llu\n",
                      flash ? "flash" : "card", (unsigned long long)(n - 1));
        assert_true(n - 1 >= 3);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(p12_x4_power_cut_at_every_card_write_of_the_controllers_update),
        cmocka_unit_test(p12_x4_power_cut_at_every_flash_write_of_the_controllers_update),
        cmocka_unit_test(p12_x4_power_cut_at_every_write_of_a_refused_updates_roll_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
