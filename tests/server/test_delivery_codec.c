/*
 * The delivery codec (include/seam/perso.h "deliveries", src/perso/delivery.c): what
 * the admin server sends a terminal for a step personalized in the terminal and the
 * result it answers with (P6, P9). Round trips; every refusal leaves the output
 * untouched; no prefix of a valid delivery decodes (nothing read past the input, ASan);
 * the sealed perso is bound to the card, the package and the instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/perso.h"

static const uint8_t cin[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static const uint8_t module[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x11, 0x22};
static uint8_t sealed_a[SEAM_PERSO_SEAL_OVERHEAD + 14], sealed_b[SEAM_PERSO_SEAL_OVERHEAD + 3];

static seam_gp_aid aid(const char *hex) {
    seam_gp_aid a;
    memset(&a, 0, sizeof a);
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        a.bytes[a.len++] = (uint8_t)v;
    }
    return a;
}

static seam_perso_delivery install_delivery(void) {
    seam_perso_delivery d;
    memset(&d, 0, sizeof d);
    memcpy(d.cin, cin, sizeof cin);
    d.cin_len = sizeof cin;
    d.kind = SEAM_PERSO_DELIVER_INSTALL;
    d.module = module;
    d.module_len = sizeof module;
    d.count = 2;
    d.perso[0] = (seam_perso_sealed){aid("A0000005505501"), sealed_a, sizeof sealed_a};
    d.perso[1] = (seam_perso_sealed){aid("A0000005505502"), sealed_b, sizeof sealed_b};
    return d;
}

static size_t encode(const seam_perso_delivery *d, uint8_t *out, size_t cap) {
    size_t n = 0;
    assert_int_equal(seam_perso_delivery_encode(d, out, cap, &n), SEAM_OK);
    return n;
}

static void delivery_round_trip_install_and_update_P6_P9(void **state) {
    (void)state;
    uint8_t out[512];
    size_t need = 0;
    seam_perso_delivery d = install_delivery(), back;
    assert_int_equal(seam_perso_delivery_encode(&d, out, 10, &need), SEAM_ERR_BUFFER_SMALL);
    size_t n = encode(&d, out, sizeof out);
    assert_int_equal(need, n);
    assert_int_equal(seam_perso_delivery_decode(out, n, &back), SEAM_OK);
    assert_int_equal(back.kind, SEAM_PERSO_DELIVER_INSTALL);
    assert_memory_equal(back.cin, cin, sizeof cin);
    assert_int_equal(back.module_len, sizeof module);
    assert_memory_equal(back.module, module, sizeof module);
    assert_int_equal(back.count, 2);
    assert_int_equal(back.perso[1].sealed_len, sizeof sealed_b);
    assert_true(back.perso[1].sealed >= out && back.perso[1].sealed < out + n);
    d.kind = SEAM_PERSO_DELIVER_UPDATE;
    d.count = 0;
    n = encode(&d, out, sizeof out);
    assert_int_equal(seam_perso_delivery_decode(out, n, &back), SEAM_OK);
    assert_int_equal(back.kind, SEAM_PERSO_DELIVER_UPDATE);
    assert_int_equal(back.count, 0);
}

/* The encoder refuses what the decoder would refuse. */
static void delivery_encode_refuses_out_of_bounds(void **state) {
    (void)state;
    uint8_t out[512];
    size_t n = 0;
    seam_perso_delivery d = install_delivery();
    d.kind = SEAM_PERSO_DELIVER_UPDATE; /* an update with personalization (P9: none) */
    assert_int_equal(seam_perso_delivery_encode(&d, out, sizeof out, &n), SEAM_ERR_ARG);
    d = install_delivery();
    d.perso[1].instance = d.perso[0].instance; /* twice */
    assert_int_equal(seam_perso_delivery_encode(&d, out, sizeof out, &n), SEAM_ERR_ARG);
    d = install_delivery();
    d.perso[0].sealed_len = SEAM_PERSO_SEAL_OVERHEAD; /* no data in it */
    assert_int_equal(seam_perso_delivery_encode(&d, out, sizeof out, &n), SEAM_ERR_ARG);
    d = install_delivery();
    d.cin_len = 0;
    assert_int_equal(seam_perso_delivery_encode(&d, out, sizeof out, &n), SEAM_ERR_ARG);
}

/* Decodes data[0..len) into a poisoned struct: the error, and the struct untouched. */
static seam_err refused(const uint8_t *data, size_t len) {
    seam_perso_delivery d, poison;
    memset(&d, 0xA5, sizeof d);
    memset(&poison, 0xA5, sizeof poison);
    seam_err e = seam_perso_delivery_decode(data, len, &d);
    if (e)
        assert_memory_equal(&d, &poison, sizeof d);
    return e;
}

static void delivery_decode_refuses_every_prefix_and_bad_shapes(void **state) {
    (void)state;
    uint8_t out[512], bad[600];
    seam_perso_delivery d = install_delivery();
    size_t n = encode(&d, out, sizeof out);
    for (size_t k = 0; k < n; k++) { /* a copy of each prefix alone: ASan sees any overread */
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, out, k);
        assert_int_not_equal(refused(p, k), SEAM_OK);
        free(p);
    }
    memcpy(bad, out, n);
    bad[n] = 0x00; /* a byte after the TLV */
    assert_int_equal(refused(bad, n + 1), SEAM_ERR_MALFORMED);
    memcpy(bad, out, n);
    bad[0] = 0xE4; /* another outer tag */
    assert_int_equal(refused(bad, n), SEAM_ERR_MALFORMED);
    /* kind 03 */
    static const uint8_t kind3[] = {0xE5, 0x0C, 0x45, 0x01, 0x01, 0x80, 0x01,
                                    0x03, 0xC4, 0x04, 0x00, 0x61, 0x73, 0x6D};
    assert_int_equal(refused(kind3, sizeof kind3), SEAM_ERR_MALFORMED);
    /* the CIN twice */
    static const uint8_t cin2[] = {0xE5, 0x0D, 0x45, 0x01, 0x01, 0x45, 0x01, 0x02,
                                   0x80, 0x01, 0x02, 0xC4, 0x02, 0x00, 0x61};
    assert_int_equal(refused(cin2, sizeof cin2), SEAM_ERR_MALFORMED);
    /* an unknown tag */
    static const uint8_t unknown[] = {0xE5, 0x0D, 0x45, 0x01, 0x01, 0x80, 0x01, 0x02,
                                      0x99, 0x01, 0x00, 0xC4, 0x02, 0x00, 0x61};
    assert_int_equal(refused(unknown, sizeof unknown), SEAM_ERR_MALFORMED);
    /* no module */
    static const uint8_t nomodule[] = {0xE5, 0x06, 0x45, 0x01, 0x01, 0x80, 0x01, 0x02};
    assert_int_equal(refused(nomodule, sizeof nomodule), SEAM_ERR_MALFORMED);
    /* an update carrying personalization */
    d.kind = SEAM_PERSO_DELIVER_INSTALL;
    n = encode(&d, out, sizeof out);
    uint8_t *kind = memchr(out, 0x80, n); /* the kind's tag: 80 01 01 */
    assert_non_null(kind);
    kind[2] = SEAM_PERSO_DELIVER_UPDATE;
    assert_int_equal(refused(out, n), SEAM_ERR_MALFORMED);
    /* over the delivery's bound: refused before anything is read */
    assert_int_equal(refused(out, SEAM_PERSO_DELIVERY_MAX + 1), SEAM_ERR_MALFORMED);
}

static void result_round_trip_and_refusals(void **state) {
    (void)state;
    uint8_t out[SEAM_PERSO_RESULT_MAX];
    size_t n = 0;
    seam_perso_result r = {.ok = false, .sw = 0x6A80}, back;
    snprintf(r.reason, sizeof r.reason, "refused\n\x01 by the card");
    assert_int_equal(seam_perso_result_encode(&r, out, sizeof out, &n), SEAM_OK);
    assert_int_equal(seam_perso_result_decode(out, n, &back), SEAM_OK);
    assert_false(back.ok);
    assert_int_equal(back.sw, 0x6A80);
    assert_string_equal(back.reason, "refused?? by the card"); /* printable only */
    memset(r.reason, 'x', sizeof r.reason - 1);                /* the longest reason */
    r.ok = true;
    assert_int_equal(seam_perso_result_encode(&r, out, sizeof out, &n), SEAM_OK);
    assert_int_equal(seam_perso_result_decode(out, n, &back), SEAM_OK);
    assert_true(back.ok);
    assert_int_equal(strlen(back.reason), SEAM_PERSO_RESULT_REASON_MAX);
    seam_perso_result poison;
    memset(&back, 0x5A, sizeof back);
    memset(&poison, 0x5A, sizeof poison);
    static const uint8_t outcome2[] = {0xE6, 0x0A, 0x80, 0x01, 0x02, 0x81,
                                       0x02, 0x90, 0x00, 0x82, 0x01, 0x41};
    assert_int_equal(seam_perso_result_decode(outcome2, sizeof outcome2, &back),
                     SEAM_ERR_MALFORMED);
    static const uint8_t control[] = {0xE6, 0x0A, 0x80, 0x01, 0x01, 0x81,
                                      0x02, 0x90, 0x00, 0x82, 0x01, 0x07};
    assert_int_equal(seam_perso_result_decode(control, sizeof control, &back), SEAM_ERR_MALFORMED);
    static const uint8_t no_sw[] = {0xE6, 0x06, 0x80, 0x01, 0x01, 0x82, 0x01, 0x41};
    assert_int_equal(seam_perso_result_decode(no_sw, sizeof no_sw, &back), SEAM_ERR_MALFORMED);
    assert_memory_equal(&back, &poison, sizeof back);
}

/* The sealed perso opens only for the card, package and instance it was sealed for (P6). */
static void sealed_perso_is_bound_to_card_package_and_instance_P6(void **state) {
    (void)state;
    uint8_t priv[32], pub[65], other_priv[32], other_pub[65];
    uint8_t aad[SEAM_PERSO_DELIVERY_AAD_MAX], aad2[SEAM_PERSO_DELIVERY_AAD_MAX];
    uint8_t sealed[SEAM_PERSO_SEAL_OVERHEAD + 14], plain[64];
    static const uint8_t data[14] = {0xDF, 0x01, 0x04, '4',  '3',  '2',  '1',
                                     0xDF, 0x02, 0x04, 0x00, 0x00, 0x01, 0xF4};
    size_t aad_len = 0, aad2_len = 0, n = 0;
    seam_gp_aid pkg = aid("A00000055055"), inst = aid("A0000005505501");
    assert_int_equal(seam_perso_terminal_key_new(priv, pub), SEAM_OK);
    assert_int_equal(seam_perso_terminal_key_new(other_priv, other_pub), SEAM_OK);
    assert_int_equal(
        seam_perso_delivery_aad(cin, sizeof cin, &pkg, 0x0100, &inst, aad, sizeof aad, &aad_len),
        SEAM_OK);
    assert_int_equal(
        seam_perso_seal(pub, aad, aad_len, data, sizeof data, sealed, sizeof sealed, &n), SEAM_OK);
    assert_int_equal(n, sizeof sealed);
    assert_int_equal(seam_perso_open(priv, aad, aad_len, sealed, n, plain, sizeof plain, &n),
                     SEAM_OK);
    assert_memory_equal(plain, data, sizeof data);
    /* another terminal */
    assert_int_equal(
        seam_perso_open(other_priv, aad, aad_len, sealed, sizeof sealed, plain, sizeof plain, &n),
        SEAM_ERR_PERSO_SEAL);
    /* another card, another version, another instance */
    static const uint8_t cin_b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09};
    seam_gp_aid inst_b = aid("A0000005505502");
    struct {
        const uint8_t *cin;
        uint16_t version;
        const seam_gp_aid *inst;
    } other[] = {{cin_b, 0x0100, &inst}, {cin, 0x0200, &inst}, {cin, 0x0100, &inst_b}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(seam_perso_delivery_aad(other[i].cin, sizeof cin, &pkg, other[i].version,
                                                 other[i].inst, aad2, sizeof aad2, &aad2_len),
                         SEAM_OK);
        assert_int_equal(
            seam_perso_open(priv, aad2, aad2_len, sealed, sizeof sealed, plain, sizeof plain, &n),
            SEAM_ERR_PERSO_SEAL);
    }
    assert_int_equal(
        seam_perso_delivery_aad(cin, 0, &pkg, 0x0100, &inst, aad2, sizeof aad2, &aad2_len),
        SEAM_ERR_ARG);
    assert_int_equal(
        seam_perso_delivery_aad(cin, sizeof cin, &pkg, 0x0100, &inst, aad2, 8, &aad2_len),
        SEAM_ERR_BUFFER_SMALL);
}

int main(void) {
    memset(sealed_a, 0x3C, sizeof sealed_a);
    memset(sealed_b, 0xC3, sizeof sealed_b);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivery_round_trip_install_and_update_P6_P9),
        cmocka_unit_test(delivery_encode_refuses_out_of_bounds),
        cmocka_unit_test(delivery_decode_refuses_every_prefix_and_bad_shapes),
        cmocka_unit_test(result_round_trip_and_refusals),
        cmocka_unit_test(sealed_perso_is_bound_to_card_package_and_instance_P6),
    };
    return cmocka_run_group_tests_name("perso deliveries", tests, NULL, NULL);
}
