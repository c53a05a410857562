/*
 * ECDSA and ECDH on P-256: known answers (RFC 5903 section 8.1 for ECDH,
 * the NIST CSRC "ECDSA with P-256" worked example for a signature),
 * sign/verify round trips, tampering, and malformed keys.
 */
#include "crypto/hex.h"

#include <string.h>

#include "seam/crypto.h"

/* RFC 5903 section 8.1: i, g^i, r, g^r and the shared x coordinate. */
#define RFC5903_I "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
#define RFC5903_GI                                                                                 \
    "04 DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"                          \
    "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
#define RFC5903_R "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
#define RFC5903_GR                                                                                 \
    "04 D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"                          \
    "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
#define RFC5903_GIR "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"

/* NIST CSRC example "ECDSA with P-256 and SHA-256", message "Example of
 * ECDSA with P-256": private key d, public Q, signature (R, S). */
#define NIST_D "C477F9F65C22CCE20657FAA5B2D1D8122336F851A508A1ED04E479C34985BF96"
#define NIST_Q                                                                                     \
    "04 B7E08AFDFE94BAD3F1DC8C734798BA1C62B3A0AD1E9EA2A38201CD0889BC7A19"                          \
    "3603F747959DBF7A4BB226E41928729063ADC7AE43529E61B563BBC606CC5E09"
#define NIST_MSG "Example of ECDSA with P-256"
#define NIST_SIG                                                                                   \
    "2B42F576D07F4165FF65D1F3B1500F81E44C316F1F0B3EF57325B69ACA46104F"                             \
    "DC42C2122D6392CD3E3A993A89502A8198C1886FE69D262C4B329BDB6B63FAF1"

/* The group order n, which is not a valid private key. */
#define P256_ORDER "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

static void expect_untouched(const uint8_t *buf, size_t len, uint8_t fill) {
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], fill);
}

static void p256_public_keys_match_rfc5903(void **state) {
    uint8_t priv[32], expected[65], pub[65];
    (void)state;

    hex(RFC5903_I, priv, sizeof priv);
    hex(RFC5903_GI, expected, sizeof expected);
    assert_int_equal(seam_crypto_p256_public_key(priv, 32, pub), SEAM_OK);
    assert_memory_equal(pub, expected, 65);
    hex(RFC5903_R, priv, sizeof priv);
    hex(RFC5903_GR, expected, sizeof expected);
    assert_int_equal(seam_crypto_p256_public_key(priv, 32, pub), SEAM_OK);
    assert_memory_equal(pub, expected, 65);
    assert_int_equal(seam_crypto_p256_check_public(pub, 65), SEAM_OK);
}

static void p256_ecdh_matches_rfc5903_from_both_sides(void **state) {
    uint8_t i[32], r[32], gi[65], gr[65], expected[32], secret[32];
    (void)state;

    hex(RFC5903_I, i, sizeof i);
    hex(RFC5903_R, r, sizeof r);
    hex(RFC5903_GI, gi, sizeof gi);
    hex(RFC5903_GR, gr, sizeof gr);
    hex(RFC5903_GIR, expected, sizeof expected);
    assert_int_equal(seam_crypto_p256_ecdh(i, 32, gr, 65, secret), SEAM_OK);
    assert_memory_equal(secret, expected, 32);
    memset(secret, 0, sizeof secret);
    assert_int_equal(seam_crypto_p256_ecdh(r, 32, gi, 65, secret), SEAM_OK);
    assert_memory_equal(secret, expected, 32);
}

static void p256_ecdh_generated_pairs_agree(void **state) {
    uint8_t a_priv[32], a_pub[65], b_priv[32], b_pub[65], ab[32], ba[32];
    (void)state;

    assert_int_equal(seam_crypto_p256_generate(a_priv, a_pub), SEAM_OK);
    assert_int_equal(seam_crypto_p256_generate(b_priv, b_pub), SEAM_OK);
    assert_true(memcmp(a_priv, b_priv, 32) != 0);
    assert_int_equal(seam_crypto_p256_ecdh(a_priv, 32, b_pub, 65, ab), SEAM_OK);
    assert_int_equal(seam_crypto_p256_ecdh(b_priv, 32, a_pub, 65, ba), SEAM_OK);
    assert_memory_equal(ab, ba, 32);
}

static void p256_verify_accepts_nist_example_and_rejects_tampering(void **state) {
    uint8_t q[65], sig[64], digest[32];
    (void)state;

    hex(NIST_Q, q, sizeof q);
    hex(NIST_SIG, sig, sizeof sig);
    assert_int_equal(seam_crypto_sha256((const uint8_t *)NIST_MSG, strlen(NIST_MSG), digest),
                     SEAM_OK);
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_OK);
    /* One bit of r, of s, of the digest, of the key. */
    sig[5] ^= 0x10;
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    sig[5] ^= 0x10;
    sig[63] ^= 0x01;
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    sig[63] ^= 0x01;
    digest[0] ^= 0x80;
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    digest[0] ^= 0x80;
    q[64] ^= 0x01; /* off the curve now */
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    q[64] ^= 0x01;
    /* Wrong lengths, and r = s = 0. */
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 63), SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_p256_verify(q, 64, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    memset(sig, 0, sizeof sig);
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
}

static void p256_sign_then_verify_and_wrong_key_fails(void **state) {
    uint8_t d[32], q[65], other_priv[32], other_pub[65], digest[32], sig[64];
    (void)state;

    hex(NIST_D, d, sizeof d);
    hex(NIST_Q, q, sizeof q);
    assert_int_equal(seam_crypto_sha256((const uint8_t *)NIST_MSG, strlen(NIST_MSG), digest),
                     SEAM_OK);
    assert_int_equal(seam_crypto_p256_sign(d, 32, digest, sig), SEAM_OK);
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_OK);
    assert_int_equal(seam_crypto_p256_generate(other_priv, other_pub), SEAM_OK);
    assert_int_equal(seam_crypto_p256_verify(other_pub, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_p256_sign(other_priv, 32, digest, sig), SEAM_OK);
    assert_int_equal(seam_crypto_p256_verify(other_pub, 65, digest, sig, 64), SEAM_OK);
    assert_int_equal(seam_crypto_p256_verify(q, 65, digest, sig, 64), SEAM_ERR_CRYPTO_AUTH);
}

static void p256_bad_private_keys_give_key_error_and_leave_outputs(void **state) {
    static const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",   /* zero */
        P256_ORDER,                                                           /* n */
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",   /* > n */
        "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D14",     /* 31 bytes */
        "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D143300", /* 33 bytes */
    };
    uint8_t gr[65], digest[32] = {0}, pub[65], sig[64], secret[32];
    (void)state;

    hex(RFC5903_GR, gr, sizeof gr);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        uint8_t *priv = hex_alloc(bad[i], &len);

        memset(pub, 0x77, sizeof pub);
        memset(sig, 0x77, sizeof sig);
        memset(secret, 0x77, sizeof secret);
        assert_int_equal(seam_crypto_p256_public_key(priv, len, pub), SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_p256_sign(priv, len, digest, sig), SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_p256_ecdh(priv, len, gr, 65, secret), SEAM_ERR_CRYPTO_KEY);
        expect_untouched(pub, sizeof pub, 0x77);
        expect_untouched(sig, sizeof sig, 0x77);
        expect_untouched(secret, sizeof secret, 0x77);
        free(priv);
    }
}

static void p256_bad_public_keys_give_key_error_and_leave_outputs(void **state) {
    static const char *bad[] = {
        /* g^r with the last bit of y flipped: not on the curve */
        "04 D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AA",
        /* compressed form prefix with an uncompressed body */
        "02 D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
        /* 64 bytes: the 04 prefix is missing */
        "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
        /* x = p: a coordinate out of the field */
        "04 FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
        /* all zero */
        "04 0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000",
    };
    uint8_t i_priv[32], secret[32];
    (void)state;

    hex(RFC5903_I, i_priv, sizeof i_priv);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        uint8_t *pub = hex_alloc(bad[i], &len);

        memset(secret, 0x99, sizeof secret);
        assert_int_equal(seam_crypto_p256_check_public(pub, len), SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_p256_ecdh(i_priv, 32, pub, len, secret), SEAM_ERR_CRYPTO_KEY);
        expect_untouched(secret, sizeof secret, 0x99);
        free(pub);
    }
}

static void p256_generate_is_reproducible_under_test_seed(void **state) {
    static const uint8_t seed[] = "p256 test seed";
    uint8_t priv1[32], pub1[65], priv2[32], pub2[65], check[65];
    (void)state;

    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_p256_generate(priv1, pub1), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_p256_generate(priv2, pub2), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
    assert_memory_equal(priv1, priv2, 32);
    assert_memory_equal(pub1, pub2, 65);
    assert_int_equal(seam_crypto_p256_public_key(priv1, 32, check), SEAM_OK);
    assert_memory_equal(check, pub1, 65);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(p256_public_keys_match_rfc5903),
        cmocka_unit_test(p256_ecdh_matches_rfc5903_from_both_sides),
        cmocka_unit_test(p256_ecdh_generated_pairs_agree),
        cmocka_unit_test(p256_verify_accepts_nist_example_and_rejects_tampering),
        cmocka_unit_test(p256_sign_then_verify_and_wrong_key_fails),
        cmocka_unit_test(p256_bad_private_keys_give_key_error_and_leave_outputs),
        cmocka_unit_test(p256_bad_public_keys_give_key_error_and_leave_outputs),
        cmocka_unit_test(p256_generate_is_reproducible_under_test_seed),
    };
    return cmocka_run_group_tests_name("crypto_p256", tests, NULL, NULL);
}
