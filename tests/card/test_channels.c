/*
 * Logical channels as separate sessions (issue 9, items 10 and 14; X1).
 *
 * Item 10: a GP command chain and the part of a response waiting for GET
 * RESPONSE belong to their logical channel: commands, chained blocks and GET
 * RESPONSE on another channel leave them alone, and closing a channel drops
 * only its own.
 *
 * Item 14: an ISO-class command the card handles itself (SELECT, MANAGE
 * CHANNEL, GET DATA, GET RESPONSE, and any other INS) with secure messaging
 * indicated in its class byte is answered 6882 (ISO 7816-4: secure messaging
 * not supported) and changes nothing; a selected applet gets such commands as
 * they are; a TERMINATED card answers them 6A81.
 */
#include "card_host.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};

/* Powers on, opens SCP03 (level 01) on channel 0 and installs hello. */
static void build(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(install(card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
}

/*
 * These tests stop a protected chain half way, send other channels' commands and
 * then the rest of it: the chain is cut here with the crypto layer's host
 * primitives (the host library's session sends a chain whole), on a channel
 * opened the same way.
 */

/* Opens SCP03 on channel 0 at level with the test keys, as a host would. */
static void open_host(seam_card *card, uint8_t level, seam_crypto_scp03_host *h) {
    static const uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t ea[21];
    assert_int_equal(SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x9000);
    assert_int_equal(seam_crypto_scp03_host_open(h, test_key, test_key, 16, hc, response,
                                                 response_len - 2, level, 0, ea),
                     SEAM_OK);
    assert_int_equal(send(card, ea, sizeof ea), 0x9000);
}

/* The blocks of one protected chain: DELETE 4F 07 hello_cls cut into 4-byte blocks. */
typedef struct {
    uint8_t bytes[512];
    size_t len[32];
    size_t count;
} chain_blocks;

static void wrap_delete_hello(seam_crypto_scp03_host *h, chain_blocks *c) {
    uint8_t apdu[5 + 2 + sizeof hello_cls] = {
        0x80, 0xE4, 0x00, 0x00, 2 + sizeof hello_cls, 0x4F, sizeof hello_cls};
    size_t total = 0;
    memcpy(apdu + 7, hello_cls, sizeof hello_cls);
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(h, apdu, sizeof apdu, 4, c->bytes,
                                                       sizeof c->bytes, &total, c->len, 32,
                                                       &c->count),
                     SEAM_OK);
    assert_true(c->count >= 4);
}

/* Sends blocks [from, to) of c; returns the last SW. */
static uint16_t send_blocks(seam_card *card, const chain_blocks *c, size_t from, size_t to) {
    uint16_t sw = 0x9000;
    size_t off = 0;
    for (size_t i = 0; i < from; i++)
        off += c->len[i];
    for (size_t i = from; i < to && sw == 0x9000; off += c->len[i], i++)
        sw = send(card, c->bytes + off, c->len[i]);
    return sw;
}

/* The whole CPLC (GET DATA 9F7F, GP class: 9F 7F 2A || 42 bytes) in one response, from
   the ISD selected anew on channel 0 (which ends a secure channel there). */
static void read_cplc(seam_card *card, uint8_t cplc[45]) {
    assert_int_equal(SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0xCA, 0x9F, 0x7F, 0x00), 0x9000);
    assert_int_equal(response_len, 45 + 2);
    memcpy(cplc, response, 45);
}

/* ---- item 10: chains and GET RESPONSE per logical channel -------------------------- */

static void hardening_10_chain_on_channel_0_survives_channel_1_X1(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h;
    chain_blocks c;
    build(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    open_host(f->card, 0x01, &h);
    wrap_delete_hello(&h, &c);
    assert_int_equal(send_blocks(f->card, &c, 0, 2), 0x9000);
    /* channel 1: an ISO command, then a chained block of its own (a clear DELETE chain) */
    assert_int_equal(SEND(f->card, 0x01, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0xE4, 0x80, 0x00, 0x02, 0x4F, 0x07), 0x9000);
    /* channel 0's chain goes on where it was: its one C-MAC verifies, hello is deleted */
    uint16_t sw = send_blocks(f->card, &c, 2, c.count);
    if (sw != 0x9000)
        print_message("the end of channel 0's chain answered %04X\n", sw);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    /* and channel 1's chain is still its own: a block with another P2 aborts it */
    assert_int_equal(SEND(f->card, 0x81, 0xE4, 0x80, 0x01, 0x02, 0x4F, 0x07), 0x6985);
}

static void hardening_10_get_response_is_kept_per_channel_X1(void **state) {
    fixture *f = *state;
    uint8_t cplc[45];
    power_on(f->card);
    read_cplc(f->card, cplc);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x02), 0x9000);
    /* 10 bytes on channel 0, 35 left for GET RESPONSE */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123);
    assert_memory_equal(response, cplc, 10);
    /* commands on channel 1, one of them leaving 40 bytes of its own to fetch */
    assert_int_equal(SEND(f->card, 0x01, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0xCA, 0x9F, 0x7F, 0x05), 0x6128);
    assert_int_equal(SEND(f->card, 0x81, 0xE4, 0x80, 0x00, 0x02, 0x4F, 0x07), 0x9000);
    /* nothing waits on channel 2; asking there takes nothing from 0 */
    assert_int_equal(SEND(f->card, 0x02, 0xC0, 0x00, 0x00, 0x00), 0x6985);
    uint16_t sw = SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00);
    if (sw != 0x9000)
        print_message("GET RESPONSE on channel 0 answered %04X\n", sw);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(response_len, 35 + 2);
    assert_memory_equal(response, cplc + 10, 35);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x6985);
}

static void hardening_10_closing_a_channel_drops_only_its_state_X1(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h;
    chain_blocks c;
    uint8_t cplc[45];
    build(f->card);
    read_cplc(f->card, cplc);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x02), 0x9000);
    /* channel 2: 40 bytes waiting; channel 1: a chain and then ... */
    assert_int_equal(SEND(f->card, 0x82, 0xCA, 0x9F, 0x7F, 0x05), 0x6128);
    assert_int_equal(SEND(f->card, 0x81, 0xE4, 0x80, 0x00, 0x02, 0x4F, 0x07), 0x9000);
    /* channel 0: a protected chain half sent */
    open_host(f->card, 0x01, &h);
    wrap_delete_hello(&h, &c);
    assert_int_equal(send_blocks(f->card, &c, 0, 2), 0x9000);
    /* channel 1 closes itself: only its chain goes */
    assert_int_equal(SEND(f->card, 0x01, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(send_blocks(f->card, &c, 2, c.count), 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    assert_int_equal(SEND(f->card, 0x02, 0xC0, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 40 + 2);
    assert_memory_equal(response, cplc + 5, 40);
    /* reopened, channel 1 starts clean: a first block is a new chain, not a mismatch */
    assert_int_equal(SEND(f->card, 0x02, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x81, 0xE4, 0x80, 0x01, 0x02, 0x4F, 0x07), 0x9000);
    /* channel 1 with 32 bytes waiting, closed from channel 2: they go with it */
    assert_int_equal(SEND(f->card, 0x01, 0xCA, 0x9F, 0x7F, 0x0A), 0x6120);
    assert_int_equal(SEND(f->card, 0x02, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x02, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(SEND(f->card, 0x01, 0xC0, 0x00, 0x00, 0x00), 0x6985);
}

/* ---- item 14: secure messaging indicated on ISO commands --------------------------- */

static void hardening_14_iso_commands_with_secure_messaging_get_6882_X1(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h;
    chain_blocks c;
    uint8_t cplc[45], before[32], after[32];
    static const struct {
        size_t len;
        uint8_t apdu[9];
    } refused[] = {
        {5, {0x0C, 0xCA, 0x00, 0x42, 0x00}}, /* GET DATA, ISO SM, header authenticated */
        {5, {0x08, 0xCA, 0x00, 0x42, 0x00}}, /* GET DATA, ISO SM */
        {5, {0x04, 0xCA, 0x9F, 0x7F, 0x00}}, /* GET DATA, proprietary SM */
        {5, {0x0C, 0xCB, 0x00, 0x42, 0x00}}, /* GET DATA, odd INS */
        {8, {0x0C, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00, 0x00}}, /* SELECT by AID */
        {5, {0x04, 0xA4, 0x04, 0x00, 0x00}},                   /* SELECT, proprietary SM */
        {5, {0x0C, 0x70, 0x00, 0x00, 0x01}},                   /* MANAGE CHANNEL open */
        {4, {0x0C, 0x70, 0x80, 0x01}},                         /* MANAGE CHANNEL close */
        {5, {0x0C, 0xC0, 0x00, 0x00, 0x00}},                   /* GET RESPONSE */
        {4, {0x08, 0x12, 0x00, 0x00}},                         /* an INS the card does not know */
    };
    build(f->card);
    read_cplc(f->card, cplc);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    open_host(f->card, 0x01, &h);
    wrap_delete_hello(&h, &c);
    assert_int_equal(send_blocks(f->card, &c, 0, 2), 0x9000); /* a chain on channel 0 ... */
    assert_int_equal(SEND(f->card, 0x81, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123); /* ... 35 on 1 */
    fingerprint(f->card, before);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint8_t cmd[9];
        memcpy(cmd, refused[i].apdu, sizeof cmd);
        uint16_t sw = send(f->card, cmd, refused[i].len);
        if (sw != 0x6882)
            print_message("%02X %02X %02X %02X answered %04X\n", cmd[0], cmd[1], cmd[2], cmd[3],
                          sw);
        assert_int_equal(sw, 0x6882);
        cmd[0] |= 0x01; /* the same on channel 1 */
        assert_int_equal(send(f->card, cmd, refused[i].len), 0x6882);
    }
    fingerprint(f->card, after);
    assert_memory_equal(after, before, 32);
    /* nothing changed: no channel opened or closed, the chain and the 35 bytes wait */
    assert_int_equal(SEND(f->card, 0x02, 0xCA, 0x00, 0x42, 0x00), 0x6881);
    assert_int_equal(SEND(f->card, 0x01, 0xC0, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, cplc + 10, 35);
    assert_int_equal(send_blocks(f->card, &c, 2, c.count), 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x6A82);
    /* the same commands without secure messaging work */
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x42, 0x00), 0x9000);
}

static void hardening_14_iso_chaining_bit_gets_6884_X1(void **state) {
    /* the same family: ISO command chaining (CLA b5) is not the card's either */
    fixture *f = *state;
    uint8_t cplc[45], before[32], after[32];
    power_on(f->card);
    read_cplc(f->card, cplc);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123);
    fingerprint(f->card, before);
    assert_int_equal(SEND(f->card, 0x10, 0xCA, 0x00, 0x42, 0x00), 0x6884);
    assert_int_equal(SEND(f->card, 0x10, 0xA4, 0x04, 0x00, 0x00), 0x6884);
    assert_int_equal(SEND(f->card, 0x10, 0x70, 0x00, 0x00, 0x01), 0x6884);
    assert_int_equal(SEND(f->card, 0x10, 0xC0, 0x00, 0x00, 0x00), 0x6884);
    assert_int_equal(SEND(f->card, 0x1C, 0xCA, 0x00, 0x42, 0x00), 0x6882); /* SM first */
    fingerprint(f->card, after);
    assert_memory_equal(after, before, 32);
    assert_int_equal(SEND(f->card, 0x01, 0xCA, 0x00, 0x42, 0x00), 0x6881); /* none opened */
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x9000); /* still waiting */
    assert_memory_equal(response, cplc + 10, 35);
}

static void hardening_14_applet_gets_secure_messaging_as_sent_X1(void **state) {
    fixture *f = *state;
    build(f->card);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
    /* hello's ECHO with an ISO SM class: the applet sees the command unchanged */
    assert_int_equal(SEND(f->card, 0x0C, 0x10, 0x00, 0x00, 0x03, 1, 2, 3, 0x00), 0x9000);
    assert_int_equal(response_len, 3 + 2);
    assert_memory_equal(response, ((const uint8_t[]){1, 2, 3}), 3);
    /* SELECT by AID is the card's: refused, hello stays selected */
    assert_int_equal(SEND(f->card, 0x0C, 0xA4, 0x04, 0x00, 0x00), 0x6882);
    assert_int_equal(SEND(f->card, 0x00, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, "hello 1.0", 9);
}

static void hardening_14_terminated_card_answers_6a81_to_secure_messaging_X1(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0xFF, NULL, 0), 0x9000); /* TERMINATED */
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x0C, 0xCA, 0x00, 0x42, 0x00), 0x6A81);
    assert_int_equal(SEND(f->card, 0x04, 0xCA, 0x00, 0x42, 0x00), 0x6A81);
    assert_int_equal(SEND(f->card, 0x84, 0xCA, 0x00, 0x42, 0x00), 0x6A81);
    assert_int_equal(SEND(f->card, 0x0C, 0xA4, 0x04, 0x00, 0x00), 0x6A81);
    assert_int_equal(SEND(f->card, 0x0C, 0x70, 0x00, 0x00, 0x01), 0x6A81);
    /* GET RESPONSE is not a command of the card's lifecycle: its own answer */
    assert_int_equal(SEND(f->card, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x6123);
    assert_int_equal(SEND(f->card, 0x0C, 0xC0, 0x00, 0x00, 0x00), 0x6882);
    assert_int_equal(SEND(f->card, 0x00, 0xC0, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 35 + 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_10_chain_on_channel_0_survives_channel_1_X1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_10_get_response_is_kept_per_channel_X1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_10_closing_a_channel_drops_only_its_state_X1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_14_iso_commands_with_secure_messaging_get_6882_X1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_14_iso_chaining_bit_gets_6884_X1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_14_applet_gets_secure_messaging_as_sent_X1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            hardening_14_terminated_card_answers_6a81_to_secure_messaging_X1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
