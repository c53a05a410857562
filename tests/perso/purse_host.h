/*
 * The purse of tests/card/test_upgrade.c as the perso and flashcard tests use it: its
 * AIDs, its use (PIN 5678, credit 100, debit 30) and the check that an update or a
 * restore kept its data. Header-only, on top of tests/card/card_host.h.
 */
#ifndef SEAM_TESTS_PERSO_PURSE_HOST_H
#define SEAM_TESTS_PERSO_PURSE_HOST_H

#include "card/card_host.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};

/* The purse used: PIN 5678, credit 100, debit 30 (balance 70, counter 2). */
static inline void purse_used(seam_card *card) {
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 100), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 30), 0x9000);
}

/* PIN 5678 (1234 refused), balance 70, counter 2, the log (tests/card/test_upgrade.c). */
static inline void purse_kept_its_data(seam_card *card) {
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 70, 0, 0, 0, 2}), 8);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 2 * 13 + 2); /* newest first: the debit */
    assert_memory_equal(response, ((uint8_t[]){2, 0, 0, 0, 30, 0, 0, 0, 70, 0, 0, 0, 2}), 13);
}

#endif
