/*
 * GP command chaining under SCP03 (gp_facts §1.1), requirement X1: the host
 * protects the whole unsegmented command once (seam_crypto_scp03_host_wrap_chain:
 * C-ENC over all the data, one C-MAC over CLA' INS P1 P2 00 hh ll || data)
 * and cuts it into P1.b8 blocks; the card keeps the blocks as received and
 * unwraps the rebuilt command once. Every refusal leaves the key sets as they
 * were. The new key set comes from the recorded sessions of scp03_vectors.h.
 *
 * Good chains go through the host library's session (blocks of 20 or 32 bytes:
 * seam_gp_set_chain_size), watched block by block through its trace. The chains
 * the tests break on purpose (a tampered block, a changed header, a command in
 * the middle, the rest of a chain alone) are cut here with the crypto layer's
 * host primitives, so that each block can be sent, altered or held back.
 */
#include "card_host.h"

#include "card/store/registry.h"
#include "crypto/hex.h"
#include "scp03_vectors.h"

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8};

/* A new AES-128 key set: ENC and MAC of the first recorded session, its DEK = ENC. */
typedef struct {
    uint8_t kvn;
    uint8_t enc[16], mac[16], dek[16];
} keys;

static keys vector_keys(uint8_t kvn) {
    keys k = {.kvn = kvn};
    assert_int_equal(hex(vectors[0].key_enc, k.enc, sizeof k.enc), 16);
    assert_int_equal(hex(vectors[0].key_mac, k.mac, sizeof k.mac), 16);
    memcpy(k.dek, k.enc, 16);
    return k;
}

/* The ISD's key sets, to compare before and after. */
typedef struct {
    scp03_keyset sets[REGISTRY_KEYSETS_MAX];
    size_t count;
} keysets;

static void read_keysets(seam_card *card, keysets *k) {
    memset(k, 0, sizeof *k);
    assert_int_equal(registry_keysets_get(seam_card_nvm(card), isd, sizeof isd, k->sets,
                                          REGISTRY_KEYSETS_MAX, &k->count),
                     SEAM_OK);
}

static void assert_keysets_unchanged(seam_card *card, const keysets *before) {
    keysets now;
    read_keysets(card, &now);
    assert_int_equal(now.count, before->count);
    assert_memory_equal(now.sets, before->sets, sizeof now.sets);
}

/* What the session's trace saw of the last chain: its blocks' P1, and whether the key
   sets were unchanged when each intermediate block had been answered. */
static struct {
    seam_card *card;
    const keysets *before;
    uint8_t p1[64];
    size_t blocks;
} watched;

static void watch(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    host_trace(ctx, point, bytes, len);
    if (point == SEAM_GP_TRACE_COMMAND_WRAPPED && watched.blocks < sizeof watched.p1)
        watched.p1[watched.blocks++] = bytes[2];
    /* an intermediate block answered: 9000, no data, no R-MAC, and nothing written */
    if (point == SEAM_GP_TRACE_RESPONSE_WRAPPED && watched.blocks &&
        (watched.p1[watched.blocks - 1] & 0x80)) {
        assert_int_equal(len, 2);
        if (watched.before)
            assert_keysets_unchanged(watched.card, watched.before);
    }
}

/* Sends the plain command apdu through the session as a chain of `block`-byte blocks,
   watching each block; the last SW. */
static uint16_t send_chained(seam_card *card, const uint8_t *apdu, size_t len, size_t block,
                             const keysets *before) {
    memset(&watched, 0, sizeof watched);
    watched.card = card;
    watched.before = before;
    seam_gp_set_trace(session(card), watch, NULL);
    assert_int_equal(seam_gp_set_chain_size(session(card), block), SEAM_OK);
    uint16_t sw = host_send(card, apdu, len);
    assert_int_equal(seam_gp_set_chain_size(session(card), 0), SEAM_OK);
    seam_gp_set_trace(session(card), host_trace, NULL);
    return sw;
}

/* A protected GET DATA (card data, tag 66) through the session: 9000 when in step. */
static uint16_t session_get_data(seam_card *card) {
    static const uint8_t cmd[] = {0x80, 0xCA, 0x00, 0x66, 0x00};
    return host_send(card, cmd, sizeof cmd);
}

/* SELECT ISD, INITIALIZE UPDATE (P1 kvn, key k) and EXTERNAL AUTHENTICATE at level. */
static void open_host(seam_card *card, uint8_t kvn, const uint8_t key_enc[16],
                      const uint8_t key_mac[16], uint8_t level, seam_crypto_scp03_host *h) {
    uint8_t ea[21];
    assert_int_equal(SEND(card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, kvn, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00), 0x9000);
    assert_int_equal(seam_crypto_scp03_host_open(h, key_enc, key_mac, 16, hc, response,
                                                 response_len - 2, level, 0, ea),
                     SEAM_OK);
    assert_int_equal(send(card, ea, sizeof ea), 0x9000);
}

static void open_test_keys(seam_card *card, uint8_t level, seam_crypto_scp03_host *h) {
    open_host(card, 0x00, test_key, test_key, level, h);
}

/* PUT KEY 80 D8 00 81 (add k) under the test DEK, case 4: the whole plain command. */
static size_t put_key_apdu(const keys *k, uint8_t *apdu) {
    seam_gp_keys g = {.len = 16};
    uint8_t expected[10];
    size_t n = 0;
    memcpy(g.enc, k->enc, 16);
    memcpy(g.mac, k->mac, 16);
    memcpy(g.dek, k->dek, 16);
    assert_int_equal(seam_gp_build_put_key(test_key, 16, 0x00, k->kvn, &g, apdu, 300, &n, expected),
                     SEAM_OK);
    return n;
}

/* Blocks of one wrapped chain. */
typedef struct {
    uint8_t bytes[6000];
    size_t len[64];
    size_t count;
} chain_blocks;

static void wrap_chain(seam_crypto_scp03_host *h, const uint8_t *apdu, size_t len, size_t block,
                       chain_blocks *c) {
    size_t total = 0;
    assert_int_equal(seam_crypto_scp03_host_wrap_chain(h, apdu, len, block, c->bytes,
                                                       sizeof c->bytes, &total, c->len, 64,
                                                       &c->count),
                     SEAM_OK);
}

static const uint8_t *block_at(const chain_blocks *c, size_t i) {
    size_t off = 0;
    for (size_t k = 0; k < i; k++)
        off += c->len[k];
    return c->bytes + off;
}

/* Sends blocks [from, to); every block but the chain's last answers 9000, no data. */
static uint16_t send_blocks(seam_card *card, const chain_blocks *c, size_t from, size_t to) {
    uint16_t sw = 0x9000;
    for (size_t i = from; i < to && sw == 0x9000; i++) {
        sw = send(card, block_at(c, i), c->len[i]);
        if (i + 1 < c->count && sw == 0x9000)
            assert_int_equal(response_len, 2); /* no data, no R-MAC */
    }
    return sw;
}

/* A protected GET DATA (card data, tag 66) through h: 9000 when the channel is in step. */
static uint16_t get_data(seam_card *card, seam_crypto_scp03_host *h) {
    static const uint8_t cmd[] = {0x80, 0xCA, 0x00, 0x66, 0x00};
    uint8_t wrapped[64];
    size_t n = 0;
    assert_int_equal(seam_crypto_scp03_host_wrap(h, cmd, sizeof cmd, wrapped, sizeof wrapped, &n),
                     SEAM_OK);
    return send(card, wrapped, n);
}

/* The session's channel with key set k (KVN k->kvn) at level. */
static void open_keys(seam_card *card, const keys *k, uint8_t level) {
    seam_gp_keys g = {.len = 16};
    uint16_t sw = 0;
    memcpy(g.enc, k->enc, 16);
    memcpy(g.mac, k->mac, 16);
    memcpy(g.dek, k->dek, 16);
    assert_int_equal(seam_gp_select(session(card), NULL, 0, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(session(card), &g, k->kvn, level, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
}

static void x1_chained_put_key_one_mac_at_levels_01_03_33(void **state) {
    /* X1: one C-MAC (and C-ENC) over the whole command, the card unwraps it once */
    fixture *f = *state;
    static const uint8_t levels[] = {0x01, 0x03, 0x33};
    power_on(f->card);
    for (size_t l = 0; l < sizeof levels; l++) {
        uint8_t apdu[300];
        keys k = vector_keys((uint8_t)(0x31 + l));
        size_t len = put_key_apdu(&k, apdu);
        keysets before;
        assert_int_equal(open_at(f->card, NULL, 0, test_key, levels[l]), 0x9000);
        read_keysets(f->card, &before);
        /* intermediate blocks write nothing and do not count on the channel */
        assert_int_equal(send_chained(f->card, apdu, len, 20, &before), 0x9000);
        assert_true(watched.blocks >= 4);
        for (size_t i = 0; i + 1 < watched.blocks; i++)
            assert_int_equal(watched.p1[i], 0x80); /* P1.b8: more blocks */
        assert_int_equal(watched.p1[watched.blocks - 1], 0x00);
        assert_int_equal(response_len, 1 + 9 + 2); /* KVN, three KCVs, 9000 */
        assert_int_equal(response[0], k.kvn);
        /* the channel stays in step, and the new key set opens a channel */
        assert_int_equal(session_get_data(f->card), 0x9000);
        open_keys(f->card, &k, 0x01);
    }
}

static void x1_clear_chain_at_level_00_still_works(void **state) {
    /* X1: without a C-MAC each block is a clear command, chained after secure messaging */
    fixture *f = *state;
    uint8_t apdu[300];
    keys k = vector_keys(0x31);
    size_t len = put_key_apdu(&k, apdu);
    keysets before;
    power_on(f->card);
    assert_int_equal(open_at(f->card, NULL, 0, test_key, 0x00), 0x9000);
    read_keysets(f->card, &before);
    assert_int_equal(send_chained(f->card, apdu, len, 32, &before), 0x9000);
    assert_true(watched.blocks >= 2);
    assert_int_equal(last_wrapped[0], 0x80); /* no secure messaging at level 00 */
    assert_int_equal(response_len, 1 + 9 + 2);
    keysets after;
    read_keysets(f->card, &after);
    assert_int_equal(after.count, before.count + 1);
    open_keys(f->card, &k, 0x01);
}

static void x1_long_chain_macs_an_extended_length(void **state) {
    /* X1: data over 255 bytes: the MAC covers Lc' = 00 hh ll; a DELETE of an
       unknown AID is refused by its handler, not by secure messaging */
    fixture *f = *state;
    uint8_t apdu[7 + 300];
    power_on(f->card);
    assert_int_equal(open_at(f->card, NULL, 0, test_key, 0x03), 0x9000);
    memcpy(apdu, (const uint8_t[]){0x80, 0xE4, 0x00, 0x00, 0x00, 0x01, 0x2C}, 7);
    apdu[7] = 0x4F;
    apdu[8] = 0x10;
    memset(apdu + 9, 0xA5, 300 - 2);
    uint16_t sw = send_chained(f->card, apdu, sizeof apdu, 255, NULL);
    assert_int_equal(watched.blocks, 2); /* 304 + 8 bytes */
    assert_int_equal(sw, 0x6A88);        /* referenced data not found: the MAC verified */
    assert_int_equal(session_get_data(f->card), 0x9000); /* the session is in step */
}

static void x1_per_block_macs_are_refused_6982(void **state) {
    /* X1: the old way (each block with its own C-MAC) does not verify as a whole */
    fixture *f = *state;
    uint8_t apdu[300];
    keys k = vector_keys(0x31);
    size_t nc = (put_key_apdu(&k, apdu), apdu[4]);
    keysets before;
    power_on(f->card);
    open_channel(f->card); /* card_host.h: the session's channel, level 01 */
    read_keysets(f->card, &before);
    assert_int_equal(gp(f->card, true, 0xD8, 0x80, 0x81, apdu + 5, 30), 0x9000);
    assert_int_equal(gp(f->card, true, 0xD8, 0x80, 0x81, apdu + 35, 30), 0x9000);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, apdu + 65, nc - 60), 0x6982);
    assert_keysets_unchanged(f->card, &before);
    /* the session ended: even a well-formed command is refused */
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x66, NULL, 0), 0x6982);
}

static void x1_tampered_middle_block_is_refused_6982(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h;
    chain_blocks c;
    uint8_t apdu[300];
    keys k = vector_keys(0x31);
    size_t len = put_key_apdu(&k, apdu);
    keysets before;
    power_on(f->card);
    open_test_keys(f->card, 0x03, &h);
    read_keysets(f->card, &before);
    wrap_chain(&h, apdu, len, 20, &c);
    ((uint8_t *)block_at(&c, 1))[7] ^= 0x01; /* X1: one bit of a middle block */
    assert_int_equal(send_blocks(f->card, &c, 0, c.count - 1), 0x9000);
    assert_int_equal(send_blocks(f->card, &c, c.count - 1, c.count), 0x6982);
    assert_keysets_unchanged(f->card, &before);
    assert_int_equal(get_data(f->card, &h), 0x6982); /* the session ended */
}

static void x1_header_mismatch_6985_and_too_long_6a86(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h;
    chain_blocks c;
    uint8_t apdu[300], block[5 + 240];
    keys k = vector_keys(0x31);
    size_t len = put_key_apdu(&k, apdu);
    keysets before;
    power_on(f->card);
    open_test_keys(f->card, 0x01, &h);
    read_keysets(f->card, &before);
    wrap_chain(&h, apdu, len, 20, &c);
    /* X1: a block with another P2 aborts the chain with 6985 */
    assert_int_equal(send_blocks(f->card, &c, 0, 1), 0x9000);
    uint8_t *second = (uint8_t *)block_at(&c, 1);
    second[3] = 0x01;
    assert_int_equal(send(f->card, second, c.len[1]), 0x6985);
    second[3] = 0x81;
    /* the rest alone is not the whole command: refused */
    assert_int_equal(send_blocks(f->card, &c, 2, c.count), 0x6982);
    assert_keysets_unchanged(f->card, &before);

    /* X1: over CARD_CHAIN_MAX (+ its padding and C-MAC) the chain aborts with 6A86 */
    open_test_keys(f->card, 0x01, &h);
    memcpy(block, (const uint8_t[]){0x84, 0xD8, 0x80, 0x81, 240}, 5);
    memset(block + 5, 0x5A, 240);
    uint16_t sw = 0x9000;
    size_t blocks = 0;
    while (sw == 0x9000 && blocks < 40) {
        sw = send(f->card, block, sizeof block);
        blocks++;
    }
    assert_int_equal(sw, 0x6A86);
    assert_int_equal(blocks, (4096 + 24) / 240 + 1);
    assert_keysets_unchanged(f->card, &before);
    /* no block went through secure messaging: the channel is still in step */
    assert_int_equal(get_data(f->card, &h), 0x9000);
}

static void x1_interleaved_command_aborts_the_chain(void **state) {
    fixture *f = *state;
    seam_crypto_scp03_host h, ahead;
    chain_blocks c;
    uint8_t apdu[300];
    keys k = vector_keys(0x31);
    size_t len = put_key_apdu(&k, apdu);
    keysets before;
    power_on(f->card);
    open_test_keys(f->card, 0x03, &h);
    read_keysets(f->card, &before);
    ahead = h;
    wrap_chain(&ahead, apdu, len, 20, &c);
    /* X1: a whole GP command in the middle ends the chain: 6985, after secure
       messaging (the channel stays in step with a host that sent it) */
    assert_int_equal(send_blocks(f->card, &c, 0, 2), 0x9000);
    assert_int_equal(get_data(f->card, &h), 0x6985);
    assert_keysets_unchanged(f->card, &before);
    assert_int_equal(get_data(f->card, &h), 0x9000);
    /* an ISO command drops the chain silently; the rest alone is refused */
    ahead = h;
    wrap_chain(&ahead, apdu, len, 20, &c);
    assert_int_equal(send_blocks(f->card, &c, 0, 2), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x66, 0x00), 0x9000);
    assert_int_equal(send_blocks(f->card, &c, 2, c.count), 0x6982);
    assert_keysets_unchanged(f->card, &before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(x1_chained_put_key_one_mac_at_levels_01_03_33, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(x1_clear_chain_at_level_00_still_works, setup, teardown),
        cmocka_unit_test_setup_teardown(x1_long_chain_macs_an_extended_length, setup, teardown),
        cmocka_unit_test_setup_teardown(x1_per_block_macs_are_refused_6982, setup, teardown),
        cmocka_unit_test_setup_teardown(x1_tampered_middle_block_is_refused_6982, setup, teardown),
        cmocka_unit_test_setup_teardown(x1_header_mismatch_6985_and_too_long_6a86, setup, teardown),
        cmocka_unit_test_setup_teardown(x1_interleaved_command_aborts_the_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
