/*
 * Supplementary security domains and who manages what (requirements X1, U1;
 * GP 2.3.1 chapter 9; docs/card.md "Security domains"): the ISD installs an
 * SSD from the built-in SD package, the SSD's owner takes its keys over with
 * PUT KEY, and every SD manages only the content associated with it.
 */
#include "sd_host.h"

static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t purse_b[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB1};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};

/* Privileges: an SSD with Authorized Management (+ Trusted Path), and one without. */
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};
static const uint8_t priv_plain[3] = {0x80, 0x80, 0x00};

/* INSTALL [for load] naming SD aid (len 0: none). */
static uint16_t install_for_load_to(seam_card *card, const uint8_t *pkg, size_t pkg_len,
                                    const uint8_t *sd, size_t sd_len) {
    seam_gp_install_fields in = {
        .role = SEAM_GP_FOR_LOAD, .elf = aid_of(pkg, pkg_len), .sd = aid_of(sd, sd_len)};
    return install_with(card, &in);
}

/* GET STATUS P1 (TLV format) for all AIDs: the response data in response[]. */
static uint16_t get_status(seam_card *card, uint8_t p1) {
    const uint8_t all[] = {0x4F, 0x00};
    return gp(card, true, 0xF2, p1, 0x02, all, sizeof all);
}

static bool response_has(const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i + len <= response_len; i++)
        if (!memcmp(response + i, bytes, len))
            return true;
    return false;
}

/* The ISD installs bank A (AM) and, with purse loaded, bank A's purse instance. */
static void two_owners(seam_card *card, const uint8_t *key_a) {
    power_on(card);
    open_channel(card);
    assert_int_equal(install_sd(card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_a), 0x9000);
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(install(card, 0x0C, purse_pkg, purse_cls, purse_a, NULL, 0), 0x9000);
}

static void ssd_installed_listed_and_handed_over_x1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16];
    memset(key_a, 0xA5, sizeof key_a);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    /* E3 { 4F bank A, 9F70 07, C5 80 C0 00, C4 SD ELF, CC ISD } */
    const uint8_t entry[] = {0x4F, 7,    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A, 0x9F,
                             0x70, 0x01, 0x07, 0xC5, 0x03, 0x80, 0xC0, 0x00, 0xC4, 0x07};
    assert_true(response_has(entry, sizeof entry));
    assert_true(response_has(isd, sizeof isd));
    /* the new SSD opens with the creator's key set; its owner replaces it */
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(put_key_30(f->card, key_a), 0x9000);
    reopen(f); /* kept across a restart */
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0); /* issuer locked out */
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    /* and the ISD still opens with its own */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
}

static void each_sd_manages_only_its_own_content_u1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16], key_b[16];
    memset(key_a, 0xA5, sizeof key_a);
    memset(key_b, 0xB5, sizeof key_b);
    two_owners(f->card, key_a);
    /* bank B, installed by the ISD */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(install_sd(f->card, 0x0C, bank_b, sizeof bank_b, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, test_key), 0x9000);
    assert_int_equal(put_key_30(f->card, key_b), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, key_b), 0x9000);
    /* U1: bank B creates its own instance from the same package */
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, NULL, 0), 0x9000);
    /* but cannot touch bank A's instance, nor the ISD's package */
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x6982);
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x6982);
    assert_int_equal(install_perso(f->card, purse_a, sizeof purse_a), 0x6A88);
    uint8_t lock[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, lock, sizeof lock), 0x6982);
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a), 0x6982);
    /* bank B sees only its own content; the ISD (Global Registry) sees everything */
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_true(response_has(purse_b, sizeof purse_b));
    assert_false(response_has(purse_a, sizeof purse_a));
    assert_int_equal(get_status(f->card, 0x20), 0x6A88); /* no package of its own */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_true(response_has(purse_a, sizeof purse_a));
    assert_true(response_has(purse_b, sizeof purse_b));
    /* bank A's purse still answers */
    assert_int_equal(select_aid(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    /* its owner deletes it; the ISD deletes bank B's with Global Delete */
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_b, sizeof purse_b, 0x00), 0x9000);
}

static void sd_without_authorized_management_is_refused_x1(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_b, sizeof bank_b, priv_plain, 3), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, test_key), 0x9000);
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x6982);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x6982);
    assert_int_equal(delete_aid(f->card, bank_b, sizeof bank_b, 0x00), 0x6982);
    /* but it manages its own keys */
    uint8_t key[16];
    memset(key, 0x77, sizeof key);
    assert_int_equal(put_key_30(f->card, key), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, key), 0x9000);
}

static void content_management_needs_the_right_sds_channel_x1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16];
    memset(key_a, 0xA5, sizeof key_a);
    two_owners(f->card, key_a);
    /* an ISD session on channel 0; bank A selected on channel 1 without a session */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(response[0], 1);
    uint8_t sel[5 + 7 + 1] = {0x01, 0xA4, 0x04, 0x00, 7};
    memcpy(sel + 5, bank_a, 7);
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    uint8_t del[] = {0x81, 0xE4, 0x00, 0x00, 9, 0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
    assert_int_equal(send(f->card, del, sizeof del), 0x6982);
    /* the ISD's open channel on channel 0 does not lend bank A anything: the
       instance is still there */
    assert_int_equal(select_aid(f->card, purse_a, sizeof purse_a), 0x9000);
}

static void ssd_privileges_and_lifecycle_checked_x1(void **state) {
    fixture *f = *state;
    const uint8_t final_app[3] = {0x80, 0x82, 0x00};
    const uint8_t am_and_dm[3] = {0xA0, 0x40, 0x00};
    const uint8_t card_reset[3] = {0x84, 0x00, 0x00};
    const uint8_t applet_as_sd[3] = {0x80, 0x00, 0x00};
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, final_app, 3), 0x6A80);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, am_and_dm, 3), 0x6A80);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, card_reset, 3), 0x6A80);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, applet_as_sd, 1), 0x9000);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x6985);
    /* an applet instance cannot hold the Security Domain privilege */
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    seam_gp_install_fields as_sd = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                    .elf = aid_of(purse_pkg, sizeof purse_pkg),
                                    .module = aid_of(purse_cls, sizeof purse_cls),
                                    .application = aid_of(purse_a, sizeof purse_a),
                                    .privileges = {0x80},
                                    .privileges_len = 1};
    assert_int_equal(install_with(f->card, &as_sd), 0x6A80);
    /* an INSTALLED SSD is not selectable until made selectable by its owner */
    assert_int_equal(install_sd(f->card, 0x04, bank_b, sizeof bank_b, priv_am, 3), 0x9000);
    assert_int_equal(select_aid(f->card, bank_b, sizeof bank_b), 0x6A82);
    open_channel(f->card);
    assert_int_equal(make_selectable(f->card, bank_b, sizeof bank_b), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, test_key), 0x9000);
    /* a locked SSD is not selectable; its owner unlocks it */
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, bank_b, sizeof bank_b), 0x9000);
    assert_int_equal(select_aid(f->card, bank_b, sizeof bank_b), 0x6A82);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x00, bank_b, sizeof bank_b), 0x9000);
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, test_key), 0x9000);
}

static void ssd_deleted_only_when_empty_x1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16];
    memset(key_a, 0xA5, sizeof key_a);
    two_owners(f->card, key_a);
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(delete_aid(f->card, bank_a, sizeof bank_a, 0x00), 0x6985); /* owns purse_a */
    assert_int_equal(delete_aid(f->card, isd, sizeof isd, 0x00), 0x6985);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(delete_aid(f->card, bank_a, sizeof bank_a, 0x00), 0x6982); /* not its own */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(delete_aid(f->card, bank_a, sizeof bank_a, 0x00), 0x9000);
    assert_int_equal(select_aid(f->card, bank_a, sizeof bank_a), 0x6A82);
    reopen(f);
    assert_int_equal(select_aid(f->card, bank_a, sizeof bank_a), 0x6A82);
    /* the AID is free again, and a new SSD under it has fresh keys */
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0x9000);
}

static void package_owned_by_the_sd_that_loaded_it_x1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16];
    memset(key_a, 0xA5, sizeof key_a);
    two_owners(f->card, key_a);
    /* bank A loads hello: the package is bank A's */
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(install_for_load_to(f->card, hello_pkg, sizeof hello_pkg, isd, sizeof isd),
                     0x6A80); /* it cannot load into the ISD's name */
    assert_int_equal(
        install_for_load_to(f->card, hello_pkg, sizeof hello_pkg, bank_a, sizeof bank_a), 0x9000);
    size_t len;
    uint8_t *file = read_app("hello", &len);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    assert_int_equal(get_status(f->card, 0x20), 0x9000);
    assert_true(response_has(hello_pkg, sizeof hello_pkg));
    assert_false(response_has(purse_pkg, sizeof purse_pkg));
    const uint8_t cc_a[] = {0xCC, 7, 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
    assert_true(response_has(cc_a, sizeof cc_a));
    reopen(f);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, key_a), 0x9000);
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x80), 0x9000);
}

/* X4: a power cut at every write of an SSD install leaves no SSD or a whole one. */
static void ssd_install_survives_a_power_cut_at_every_write_x4(void **state) {
    fixture *f = *state;
    int n = 1;
    power_on(f->card);
    for (; n < 100; n++) {
        open_channel(f->card);
        seam_nvm *nvm = seam_card_nvm(f->card);
        assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n), SEAM_OK);
        cut_expected = true;
        uint16_t sw = install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3);
        cut_expected = false;
        if (sw == 0x9000) {
            assert_int_equal(seam_nvm_fault_set(nvm, SEAM_NVM_FAULT_OFF, 0), SEAM_OK);
            break;
        }
        assert_int_equal(sw, 0);
        reopen(f);
        assert_int_equal(select_aid(f->card, bank_a, sizeof bank_a), 0x6A82); /* before */
    }
    print_message("SSD install: %d write points swept\n", n - 1);
    assert_true(n > 1 && n < 100);
    reopen(f);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0x9000); /* after */
}

/* An SSD that owns a package in the temporary useful space (its upgrade started) still
   owns something: it cannot be deleted (X1). */
static void ssd_owning_a_package_being_upgraded_stays_x1(void **state) {
    fixture *f = *state;
    uint8_t key_a[16];
    memset(key_a, 0xA5, sizeof key_a);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(f->card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(
        install_for_load_to(f->card, hello_pkg, sizeof hello_pkg, bank_a, sizeof bank_a), 0x9000);
    size_t len;
    uint8_t *file = read_app("hello", &len);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    uint8_t start[2 + 6] = {0x4F, 6};
    memcpy(start + 2, hello_pkg, 6);
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, start, sizeof start), 0x9000);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(delete_aid(f->card, bank_a, sizeof bank_a, 0x00), 0x6985);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
}

/* ---- X4 over the security-domain commands ------------------------------------------ */

/* An SSD bank B INSTALLED (not selectable) and bank A SELECTABLE, hello loaded; the
   ISD's channel open. */
static void two_ssds(fixture *f) {
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    assert_int_equal(install_sd(f->card, 0x04, bank_b, sizeof bank_b, priv_am, 3), 0x9000);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
}

static uint16_t op_make_selectable(seam_card *card) {
    return make_selectable(card, bank_b, sizeof bank_b);
}

static uint16_t op_lock(seam_card *card) {
    return gp(card, true, 0xF0, 0x40, 0x80, bank_a, sizeof bank_a);
}

static uint16_t op_delete_ssd(seam_card *card) {
    return delete_aid(card, bank_b, sizeof bank_b, 0x00);
}

static uint16_t op_extradite_package(seam_card *card) {
    return extradite(card, bank_a, sizeof bank_a, hello_pkg, sizeof hello_pkg);
}

static void ssd_commands_survive_a_power_cut_at_every_write_x4(void **state) {
    fixture *f = *state;
    print_message("X4 make selectable: %d write points swept\n",
                  sweep_every_write(f, two_ssds, op_make_selectable));
    print_message("X4 SET STATUS lock SSD: %d write points swept\n",
                  sweep_every_write(f, two_ssds, op_lock));
    print_message("X4 DELETE SSD: %d write points swept\n",
                  sweep_every_write(f, two_ssds, op_delete_ssd));
    print_message("X4 extradition of a package: %d write points swept\n",
                  sweep_every_write(f, two_ssds, op_extradite_package));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ssd_installed_listed_and_handed_over_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(each_sd_manages_only_its_own_content_u1, setup, teardown),
        cmocka_unit_test_setup_teardown(sd_without_authorized_management_is_refused_x1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(content_management_needs_the_right_sds_channel_x1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ssd_privileges_and_lifecycle_checked_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(ssd_deleted_only_when_empty_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(ssd_owning_a_package_being_upgraded_stays_x1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(package_owned_by_the_sd_that_loaded_it_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(ssd_commands_survive_a_power_cut_at_every_write_x4, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ssd_install_survives_a_power_cut_at_every_write_x4, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
