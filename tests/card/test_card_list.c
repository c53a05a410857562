/*
 * seam_card_registry_foreach: what a new card lists, what it lists after a
 * package is loaded and an instance installed through the APDU interface,
 * and that the listing stops on a callback's error and writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"
#include "card_host.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0, 100};

#define MAX_ENTRIES 16

typedef struct {
    seam_card_entry e[MAX_ENTRIES];
    size_t n;
    size_t stop_after; /* 0: never stop */
} collected;

static seam_err collect(void *ctx, const seam_card_entry *e) {
    collected *c = ctx;
    if (c->stop_after && c->n == c->stop_after)
        return SEAM_ERR_CARD;
    assert_true(c->n < MAX_ENTRIES);
    c->e[c->n++] = *e;
    return SEAM_OK;
}

static void a_new_card_lists_itself_and_the_isd_with_its_key_version(void **state) {
    fixture *f = *state;
    collected c = {0};
    assert_int_equal(seam_card_registry_foreach(f->card, collect, &c), SEAM_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[0].kind, SEAM_CARD_ENTRY_CARD);
    assert_int_equal(c.e[0].lifecycle, 0x0F); /* SECURED */
    assert_int_equal(c.e[1].kind, SEAM_CARD_ENTRY_SD);
    assert_int_equal(c.e[1].aid_len, sizeof isd);
    assert_memory_equal(c.e[1].aid, isd, sizeof isd);
    assert_int_equal(c.e[1].kvn_count, 1);
    assert_int_equal(c.e[1].kvns[0], 0x30);
}

static void a_loaded_package_and_its_instance_are_listed(void **state) {
    fixture *f = *state;
    size_t file_len;
    uint8_t *file = read_app("purse", &file_len);
    free(file);
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
    collected c = {0};
    assert_int_equal(seam_card_registry_foreach(f->card, collect, &c), SEAM_OK);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.e[2].kind, SEAM_CARD_ENTRY_PACKAGE);
    assert_int_equal(c.e[2].space, 1);           /* the useful space */
    assert_int_equal(c.e[2].sd_len, sizeof isd); /* its owner */
    assert_memory_equal(c.e[2].aid, purse_pkg, sizeof purse_pkg);
    assert_int_equal(c.e[2].version, 0x0100);
    assert_int_equal(c.e[2].module_size, file_len - 4); /* the load file less C4 82 hh ll */
    assert_int_equal(c.e[3].kind, SEAM_CARD_ENTRY_INSTANCE);
    assert_int_equal(c.e[3].aid_len, sizeof purse_cls);
    assert_memory_equal(c.e[3].aid, purse_cls, sizeof purse_cls);
    assert_int_equal(c.e[3].lifecycle, 0x07); /* SELECTABLE */
    assert_int_equal(c.e[3].package_len, sizeof purse_pkg);
    assert_memory_equal(c.e[3].package, purse_pkg, sizeof purse_pkg);
    assert_int_equal(c.e[3].sd_len, sizeof isd);
    assert_memory_equal(c.e[3].sd, isd, sizeof isd);
    /* the instance's restore-module record (P4), under the same identity */
    assert_int_equal(c.e[4].kind, SEAM_CARD_ENTRY_RECORD);
    assert_memory_equal(c.e[4].aid, purse_cls, sizeof purse_cls);
    assert_memory_equal(c.e[4].sd, isd, sizeof isd);
    assert_true(c.e[4].used_bytes > 0); /* the purse filed its install-parameter PIN */
}

static void listing_stops_on_a_callback_error_and_writes_nothing(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    uint64_t written = seam_nvm_txn_bytes_written(nvm);
    collected c = {.stop_after = 1};
    assert_int_equal(seam_card_registry_foreach(f->card, collect, &c), SEAM_ERR_CARD);
    assert_int_equal(c.n, 1);
    assert_int_equal(seam_card_registry_foreach(NULL, collect, &c), SEAM_ERR_ARG);
    assert_int_equal(seam_card_registry_foreach(f->card, NULL, &c), SEAM_ERR_ARG);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_int_equal(seam_nvm_txn_bytes_written(nvm), written);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_new_card_lists_itself_and_the_isd_with_its_key_version,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_loaded_package_and_its_instance_are_listed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(listing_stops_on_a_callback_error_and_writes_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
