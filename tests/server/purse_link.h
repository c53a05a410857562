/*
 * The purse applet driven over a GP link as its holder would (shared by the
 * campaign tests): SELECT, VERIFY of PIN 4321, GET BALANCE.
 */
#ifndef SEAM_TESTS_SERVER_PURSE_LINK_H
#define SEAM_TESTS_SERVER_PURSE_LINK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "seam/gp.h"
#include "seam/link.h"

/* The purse application's AID. */
static const uint8_t purse_app[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

/* Sends one APDU on link: its SW; the data before it into data[0..*n) when data. */
static inline uint16_t purse_send(seam_gp_link *link, const uint8_t *apdu, size_t len,
                                  uint8_t *data, size_t *n) {
    uint8_t answer[300];
    size_t got = 0;
    assert_int_equal(seam_gp_link_transmit(link, apdu, len, answer, sizeof answer, &got), SEAM_OK);
    assert_true(got >= 2);
    if (data) {
        memcpy(data, answer, got - 2);
        *n = got - 2;
    }
    return (uint16_t)(answer[got - 2] << 8 | answer[got - 1]);
}

/* Selects the purse and presents PIN 4321; returns VERIFY's SW. */
static inline uint16_t purse_open(seam_gp_link *link) {
    uint8_t select[5 + sizeof purse_app + 1] = {0x00, 0xA4, 0x04, 0x00, sizeof purse_app};
    memcpy(select + 5, purse_app, sizeof purse_app);
    assert_int_equal(purse_send(link, select, sizeof select, NULL, NULL), 0x9000);
    static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x00, 0x04, '4', '3', '2', '1'};
    return purse_send(link, verify, sizeof verify, NULL, NULL);
}

/* The purse's balance (GET BALANCE after purse_open). */
static inline uint32_t purse_balance(seam_gp_link *link) {
    uint8_t data[16];
    size_t n = 0;
    static const uint8_t balance[] = {0x80, 0x50, 0x00, 0x00, 0x00};
    assert_int_equal(purse_send(link, balance, sizeof balance, data, &n), 0x9000);
    assert_true(n >= 4);
    return (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
}

#endif
