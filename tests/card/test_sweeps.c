/*
 * Power-cut sweeps of card content management (requirement X4): DELETE of an
 * instance, DELETE of a package with its instances (P2 80), INSTALL [for
 * install and make selectable] of a loaded package, SET STATUS locking an
 * applet. Each sweep builds the starting state on a new image, cuts power at
 * write point N (1, 2, ...) of the command, reopens the image and checks that
 * the card is exactly as before or exactly as after the command: the registry
 * listing, and the purse's balance when the purse is there. The sweep ends at
 * the first N the command completes without a cut.
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

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_two[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x02};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0, 100};

/* A registry listing, one fixed-size line per entry, compared as bytes. */
typedef struct {
    char text[4096];
    size_t len;
} listing;

static seam_err list_entry(void *ctx, const seam_card_entry *e) {
    listing *l = ctx;
    char line[256];
    int n = snprintf(line, sizeof line, "%d %02X ", (int)e->kind, e->lifecycle);
    for (size_t i = 0; i < e->aid_len; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02X", e->aid[i]);
    n += snprintf(line + n, sizeof line - (size_t)n, " %02X%02X%02X %04X %zu ", e->privileges[0],
                  e->privileges[1], e->privileges[2], e->version, e->module_size);
    for (size_t i = 0; i < e->package_len; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%02X", e->package[i]);
    n += snprintf(line + n, sizeof line - (size_t)n, "\n");
    assert_true(l->len + (size_t)n < sizeof l->text);
    memcpy(l->text + l->len, line, (size_t)n + 1);
    l->len += (size_t)n;
    return SEAM_OK;
}

static void list_card(seam_card *card, listing *l) {
    l->len = 0;
    l->text[0] = 0;
    assert_int_equal(seam_card_registry_foreach(card, list_entry, l), SEAM_OK);
}

/* What the card looks like: the registry and the purse's balance (-1: the
   purse instance does not answer SELECT). */
typedef struct {
    listing reg;
    long balance;
} card_view;

static void view_card(seam_card *card, card_view *v) {
    list_card(card, &v->reg);
    v->balance = -1;
    if (select_aid(card, purse_cls, sizeof purse_cls) == 0x9000) {
        assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(response_len, 8 + 2);
        v->balance = (long)((uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 |
                            (uint32_t)response[2] << 8 | response[3]);
    }
    assert_true(SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00) == 0x9000); /* back to the ISD */
}

static bool same_view(const card_view *a, const card_view *b) {
    return a->balance == b->balance && a->reg.len == b->reg.len &&
           !memcmp(a->reg.text, b->reg.text, a->reg.len);
}

/* Replaces the image by a new card, powered on, with an SCP03 channel open. */
static void fresh(fixture *f) {
    seam_card_close(f->card);
    f->card = NULL;
    remove_image(f->path);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
    power_on(f->card);
    open_channel(f->card);
}

/* ---- starting states and operations ------------------------------------------------ */

/* hello and purse loaded; hello and two purses (100 and 0) installed and selectable. */
static void prep_full(fixture *f) {
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_two, NULL, 0), 0x9000);
}

/* hello installed, the purse package loaded with no instance. */
static void prep_loaded(fixture *f) {
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
}

static uint16_t op_delete_instance(seam_card *card) {
    return delete_aid(card, purse_cls, sizeof purse_cls, 0x00);
}

static uint16_t op_delete_package(seam_card *card) {
    return delete_aid(card, purse_pkg, sizeof purse_pkg, 0x80);
}

static uint16_t op_install(seam_card *card) {
    return install(card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params);
}

static uint16_t op_lock(seam_card *card) {
    return gp(card, true, 0xF0, 0x40, 0x80, purse_cls, sizeof purse_cls);
}

/*
 * Sweeps op over every write point: prep builds the starting state on a new
 * card, op is the command under test (answering 9000 when it completes).
 * Returns the number of write points swept.
 */
static uint64_t sweep(fixture *f, const char *name, void (*prep)(fixture *),
                      uint16_t (*op)(seam_card *)) {
    card_view before, after, now;
    /* the two acceptable outcomes, from a run without a cut */
    fresh(f);
    prep(f);
    reopen(f);
    view_card(f->card, &before);
    open_channel(f->card);
    uint64_t start = seam_nvm_write_points(seam_card_nvm(f->card));
    assert_int_equal(op(f->card), 0x9000);
    uint64_t points = seam_nvm_write_points(seam_card_nvm(f->card)) - start;
    reopen(f);
    view_card(f->card, &after);
    assert_false(same_view(&before, &after));
    uint64_t n = 1;
    for (;; n++) {
        fresh(f);
        prep(f);
        reopen(f);
        open_channel(f->card);
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, n),
                         SEAM_OK);
        cut_expected = true;
        uint16_t sw = op(f->card);
        cut_expected = false;
        if (sw == 0x9000) { /* no cut left: the sweep is over */
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            reopen(f);
            view_card(f->card, &now);
            assert_true(same_view(&now, &after));
            break;
        }
        assert_int_equal(sw, 0);
        reopen(f);
        view_card(f->card, &now);
        bool is_before = same_view(&now, &before), is_after = same_view(&now, &after);
        if (!is_before && !is_after)
            fail_msg("%s: cut at write point %llu left neither state:\n%s(balance %ld)", name,
                     (unsigned long long)n, now.reg.text, now.balance);
        /* the card still works: the command goes through after the cut */
        if (is_before) {
            open_channel(f->card);
            assert_int_equal(op(f->card), 0x9000);
            reopen(f);
            view_card(f->card, &now);
            assert_true(same_view(&now, &after));
        }
    }
    print_message("X4 %s: %llu write points swept (%llu in a run without a cut)\n", name,
                  (unsigned long long)(n - 1), (unsigned long long)points);
    assert_int_equal(n - 1, points);
    assert_true(points >= 1);
    return n - 1;
}

/* ---- tests ------------------------------------------------------------------------ */

static void x4_power_cut_at_every_write_of_delete_instance(void **state) {
    fixture *f = *state;
    sweep(f, "DELETE instance", prep_full, op_delete_instance);
}

static void x4_power_cut_at_every_write_of_delete_package_and_instances(void **state) {
    fixture *f = *state;
    sweep(f, "DELETE package P2 80", prep_full, op_delete_package);
}

static void x4_power_cut_at_every_write_of_install_and_make_selectable(void **state) {
    fixture *f = *state;
    sweep(f, "INSTALL [for install and make selectable]", prep_loaded, op_install);
}

static void x4_power_cut_at_every_write_of_set_status_lock(void **state) {
    fixture *f = *state;
    sweep(f, "SET STATUS lock", prep_full, op_lock);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_delete_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_delete_package_and_instances,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_install_and_make_selectable,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_set_status_lock, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
