/*
 * The host session against an in-process card: SCP03 at every level, GP
 * command chaining with one C-MAC over the whole command, response chaining
 * (61xx + GET RESPONSE) under secure messaging, a wrong key, a response whose
 * R-MAC does not verify, and the session's refusals.
 */
#include "gp_test.h"

static const uint8_t levels[] = {0x00, 0x01, 0x03, 0x11, 0x13, 0x33};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};

/* What a trace saw. */
typedef struct {
    int commands, wire_commands, wire_responses, responses;
    uint8_t wire[32][8]; /* the first bytes of each command sent */
} seen;

static void count(void *ctx, seam_gp_trace_point point, const uint8_t *b, size_t n) {
    seen *s = ctx;
    if (point == SEAM_GP_TRACE_COMMAND)
        s->commands++;
    if (point == SEAM_GP_TRACE_COMMAND_WRAPPED && s->wire_commands < 32)
        memcpy(s->wire[s->wire_commands++], b, n < 8 ? n : 8);
    if (point == SEAM_GP_TRACE_RESPONSE_WRAPPED)
        s->wire_responses++;
    if (point == SEAM_GP_TRACE_RESPONSE)
        s->responses++;
}

static seam_err collect(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *e) {
    seam_gp_status_entry *out = ctx;
    (void)scope;
    *out = *e;
    return SEAM_OK;
}

static void every_level_opens_and_round_trips(void **state) {
    fixture *f = *state;
    for (size_t i = 0; i < sizeof levels; i++) {
        seam_gp_status_entry e;
        uint8_t level = 0xFF, data[64];
        size_t len = 0;
        uint16_t sw = 0;
        open_isd(f, levels[i]);
        assert_true(seam_gp_channel_is_open(f->gp, &level));
        assert_int_equal(level, levels[i]);
        memset(&e, 0, sizeof e);
        assert_int_equal(seam_gp_get_status(f->gp, SEAM_GP_ISD, NULL, 0, collect, &e, &sw),
                         SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_memory_equal(e.aid.bytes, isd_aid, sizeof isd_aid);
        assert_int_equal(e.lifecycle, 0x0F);
        /* GET DATA C1 (the sequence counter) through the channel, with data back */
        assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0xC1, 0x00}, 5,
                                          data, sizeof data, &len, &sw),
                         SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_int_equal(len, 5);
        assert_int_equal(data[0], 0xC1);
        assert_int_equal(data[4], (uint8_t)(i + 1)); /* one INITIALIZE UPDATE per level */
    }
    assert_int_equal(seam_gp_block_size(f->gp), 239); /* level 33: C-DEC */
}

static void responses_longer_than_le_are_collected_and_unwrapped(void **state) {
    fixture *f = *state;
    uint8_t data[128];
    size_t len = 0;
    uint16_t sw = 0;
    seen s = {0};
    /* CPLC (9F7F, 42 bytes) asked with Le 10: the card cuts it with 61xx */
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x9F, 0x7F, 0x10}, 5,
                                      data, sizeof data, &len, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(len, 45);
    assert_memory_equal(data, ((uint8_t[]){0x9F, 0x7F, 0x2A}), 3);
    open_isd(f, 0x33);
    seam_gp_set_trace(f->gp, count, &s);
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x9F, 0x7F, 0x10}, 5,
                                      data, sizeof data, &len, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(len, 45); /* R-ENC and R-MAC over the whole response, before the cut */
    assert_memory_equal(data, ((uint8_t[]){0x9F, 0x7F, 0x2A}), 3);
    assert_true(s.wire_commands >= 2);
    assert_memory_equal(s.wire[1], ((uint8_t[]){0x00, 0xC0, 0x00, 0x00}), 4);
    assert_int_equal(s.responses, 1);
    /* too small a buffer: the length needed */
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x9F, 0x7F, 0x00}, 5,
                                      data, 10, &len, &sw),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 45);
}

/* Installs hello through the ISD at level 01; the channel stays open. */
static void install_hello(fixture *f) {
    seam_gp_package_install in;
    size_t len = 0;
    uint16_t sw = 0;
    memset(&in, 0, sizeof in);
    in.module = read_app("hello", &len);
    in.module_len = len;
    open_isd(f, 0x01);
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    free((void *)in.module);
}

static void long_commands_go_as_one_gp_chain_at_every_level(void **state) {
    fixture *f = *state;
    static uint8_t params[600];
    install_hello(f);
    params[0] = 0xEF; /* registry update parameters: accepted and ignored by the card */
    params[1] = 0x82;
    params[2] = (uint8_t)((sizeof params - 4) >> 8);
    params[3] = (uint8_t)(sizeof params - 4);
    for (size_t i = 0; i < sizeof levels; i++) {
        seam_gp_install_fields in;
        seen s = {0};
        uint16_t sw = 0;
        memset(&in, 0, sizeof in);
        in.role = SEAM_GP_FOR_REGISTRY_UPDATE;
        seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
        in.params = params;
        in.params_len = sizeof params;
        open_isd(f, levels[i]);
        seam_gp_set_trace(f->gp, count, &s);
        assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_int_equal(s.commands, 1);
        assert_int_equal(s.wire_commands, 3); /* 612 bytes (+ padding and C-MAC): 3 blocks */
        assert_int_equal(s.wire[0][2], 0xC0); /* P1 40 with b8: more blocks follow */
        assert_int_equal(s.wire[1][2], 0xC0);
        assert_int_equal(s.wire[2][2], 0x40);
        assert_int_equal(s.wire[0][0], levels[i] & 0x01 ? 0x84 : 0x80);
        /* the channel is still in step with the card */
        assert_int_equal(TRANSMIT(f, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
        seam_gp_set_trace(f->gp, NULL, NULL);
    }
}

static void a_wrong_key_is_told_and_sends_nothing_more(void **state) {
    fixture *f = *state;
    seam_gp_keys keys;
    uint8_t before[32], after[32];
    uint16_t sw = 0;
    seen s = {0};
    static const uint8_t wrong[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                      0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4E};
    assert_int_equal(seam_gp_keys_set(&keys, wrong, sizeof wrong), SEAM_OK);
    assert_int_equal(seam_gp_select(f->gp, NULL, 0, &sw), SEAM_OK); /* the default: the ISD */
    assert_int_equal(sw, 0x9000);
    fingerprint(f->card, before);
    seam_gp_set_trace(f->gp, count, &s);
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0, 0x01, NULL, &sw),
                     SEAM_ERR_GP_CRYPTOGRAM);
    assert_false(seam_gp_channel_is_open(f->gp, NULL));
    assert_int_equal(s.wire_commands, 1); /* INITIALIZE UPDATE only: no EXTERNAL AUTHENTICATE */
    assert_int_equal(s.wire[0][1], 0x50);
    /* the card consumed one sequence counter value (INITIALIZE UPDATE), nothing else */
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0xC1, 0x00}, 5,
                                      NULL, 0, NULL, &sw),
                     SEAM_OK);
    fingerprint(f->card, after);
    assert_memory_not_equal(before, after, 32);
    /* a key set version the card does not hold: its status word, no channel */
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0x45, 0x01, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A88);
    assert_false(seam_gp_channel_is_open(f->gp, NULL));
    /* the right key still opens it, and tells the key set */
    seam_gp_channel_info info;
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0, 0x03, &info, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(info.kvn, 0x30);
    assert_int_equal(info.scp, 0x03);
    assert_int_equal(info.i, 0x70);
    assert_true(info.has_counter);
    /* caller mistakes */
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0, 0x02, NULL, &sw), SEAM_ERR_ARG);
    keys.len = 15;
    assert_int_equal(seam_gp_open_channel(f->gp, &keys, 0, 0x01, NULL, &sw), SEAM_ERR_ARG);
}

/* A link that passes everything to the card and can flip the response's first byte. */
typedef struct {
    seam_gp_link inner;
    bool corrupt;
} flipping;

static seam_err flip_power_on(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    flipping *l = ctx;
    return seam_gp_link_power_on(&l->inner, atr, size, len);
}

static seam_err flip_power_off(void *ctx) {
    flipping *l = ctx;
    return seam_gp_link_power_off(&l->inner);
}

static seam_err flip_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp, size_t size,
                              size_t *resp_len) {
    flipping *l = ctx;
    seam_err e = seam_gp_link_transmit(&l->inner, cmd, len, resp, size, resp_len);
    if (!e && l->corrupt && *resp_len > 2)
        resp[0] ^= 0x01;
    return e;
}

static void flip_close(void *ctx) {
    (void)ctx;
}

static const seam_gp_link_ops flip_ops = {flip_power_on, flip_power_on, flip_power_off,
                                          flip_transmit, flip_close};

static void a_response_that_fails_its_r_mac_or_its_kcvs_is_refused(void **state) {
    fixture *f = *state;
    flipping l = {.inner = f->link};
    seam_gp_link link = {&flip_ops, &l, "flipping"};
    seam_gp *gp = NULL;
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_new(&link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_select(gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x11, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    l.corrupt = true;
    assert_int_equal(seam_gp_transmit(gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0xC1, 0x00}, 5, NULL,
                                      0, NULL, &sw),
                     SEAM_ERR_CRYPTO_AUTH);
    assert_false(seam_gp_channel_is_open(gp, NULL));
    /* at level 01 (no R-MAC) a PUT KEY answer naming another key set or other KCVs
       is caught by comparing it with the keys sent */
    l.corrupt = false;
    assert_int_equal(seam_gp_select(gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x01, NULL, &sw), SEAM_OK);
    l.corrupt = true;
    assert_int_equal(seam_gp_put_key(gp, 0x30, 0x30, &keys, &sw), SEAM_ERR_GP_RESPONSE);
    assert_int_equal(sw, 0x9000);
    seam_gp_free(gp);
}

static void the_session_refuses_what_it_cannot_send(void **state) {
    fixture *f = *state;
    static uint8_t big[5 + 250 + 1];
    uint16_t sw = 0;
    /* not an APDU */
    assert_int_equal(
        seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00}, 3, NULL, 0, NULL, &sw),
        SEAM_ERR_MALFORMED);
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0xC1, 0x02, 0x01},
                                      6, NULL, 0, NULL, &sw),
                     SEAM_ERR_MALFORMED);
    /* a GET DATA with 250 bytes of data does not fit one wrapped APDU and does not chain;
       the channel stays open and in step */
    open_isd(f, 0x03);
    big[0] = 0x80;
    big[1] = 0xCA;
    big[4] = 250;
    assert_int_equal(seam_gp_transmit(f->gp, big, sizeof big, NULL, 0, NULL, &sw), SEAM_ERR_ARG);
    assert_true(seam_gp_channel_is_open(f->gp, NULL));
    assert_int_equal(TRANSMIT(f, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
    /* operations that need a channel */
    seam_gp_close_channel(f->gp);
    seam_gp_keys keys;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_put_key(f->gp, 0x30, 0x30, &keys, &sw), SEAM_ERR_GP_CHANNEL);
    assert_int_equal(
        seam_gp_store_data(f->gp, SEAM_GP_STORE_ENCRYPTED, (const uint8_t[]){1}, 1, &sw),
        SEAM_ERR_GP_CHANNEL);
    /* without a channel the card refuses GP content commands: a status word */
    assert_int_equal(seam_gp_delete(f->gp, hello_cls, sizeof hello_cls, false, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6982);
}

/* A SELECT the card refuses leaves the selected SD and its session, on the card and in
   the host; one it accepts ends both. 61xx handed back when chaining is off. */
static void a_refused_select_keeps_the_channel(void **state) {
    fixture *f = *state;
    static const uint8_t nowhere[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x99, 0x99};
    uint8_t level = 0;
    uint16_t sw = 0;
    open_isd(f, 0x33);
    assert_int_equal(seam_gp_select(f->gp, nowhere, sizeof nowhere, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A82);
    assert_true(seam_gp_channel_is_open(f->gp, &level));
    assert_int_equal(level, 0x33);
    assert_int_equal(TRANSMIT(f, 0x80, 0xCA, 0x00, 0xC1, 0x00), 0x9000); /* still in step */
    assert_int_equal(seam_gp_select(f->gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_false(seam_gp_channel_is_open(f->gp, NULL));
    /* a response longer than Le: 61xx as it is, then collected again by default */
    seam_gp_set_response_chaining(f->gp, false);
    sw = TRANSMIT(f, 0x80, 0xCA, 0x9F, 0x7F, 0x0A);
    assert_int_equal(sw >> 8, 0x61);
    seam_gp_set_response_chaining(f->gp, true);
    assert_int_equal(TRANSMIT(f, 0x80, 0xCA, 0x9F, 0x7F, 0x0A), 0x9000);
    size_t len = 0;
    seam_gp_response(f->gp, &len);
    assert_int_equal(len, 45);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_level_opens_and_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(responses_longer_than_le_are_collected_and_unwrapped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(long_commands_go_as_one_gp_chain_at_every_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_wrong_key_is_told_and_sends_nothing_more, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_response_that_fails_its_r_mac_or_its_kcvs_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_session_refuses_what_it_cannot_send, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_select_keeps_the_channel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
