/*
 * seam_crypto_random and its test seed: OpenSSL output varies, a seeded
 * stream repeats exactly, differs between seeds, and can be switched off.
 */
#include "crypto/hex.h"

#include <string.h>

#include "seam/crypto.h"

static void random_from_openssl_differs_between_calls(void **state) {
    uint8_t a[32], b[32];
    (void)state;

    assert_false(seam_crypto_random_is_deterministic());
    assert_int_equal(seam_crypto_random(a, sizeof a), SEAM_OK);
    assert_int_equal(seam_crypto_random(b, sizeof b), SEAM_OK);
    assert_true(memcmp(a, b, sizeof a) != 0);
    assert_int_equal(seam_crypto_random(NULL, 0), SEAM_OK);
}

static void random_test_seed_repeats_stream(void **state) {
    static const uint8_t seed[] = {1, 2, 3, 4};
    uint8_t first[100], second[100];
    (void)state;

    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_true(seam_crypto_random_is_deterministic());
    assert_int_equal(seam_crypto_random(first, 8), SEAM_OK);
    assert_int_equal(seam_crypto_random(first + 8, 92), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_random(second, 8), SEAM_OK);
    assert_int_equal(seam_crypto_random(second + 8, 92), SEAM_OK);
    assert_memory_equal(first, second, sizeof first);
    /* Consecutive calls continue the stream rather than repeat it. */
    assert_true(memcmp(first, first + 8, 8) != 0);
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
}

/* Storage keys and nonces come from seam_crypto_random_fresh: a test seed does not
 * make them repeat. */
static void random_fresh_ignores_the_test_seed(void **state) {
    static const uint8_t seed[] = {9, 9};
    uint8_t first[32], second[32];
    (void)state;

    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(first, sizeof first), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(second, sizeof second), SEAM_OK);
    assert_true(memcmp(first, second, sizeof first) != 0);
    assert_int_equal(seam_crypto_random(first, sizeof first), SEAM_OK); /* the stream */
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_random(second, sizeof second), SEAM_OK);
    assert_memory_equal(first, second, sizeof first);
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(NULL, 0), SEAM_OK);
}

static void random_test_stream_matches_its_definition(void **state) {
    static const uint8_t seed[] = "card-1";
    uint8_t key_and_counter[40], expected[32], got[32];
    (void)state;

    /* Block 0 = SHA-256(SHA-256(seed) || 00 x 8), as the header documents. */
    assert_int_equal(seam_crypto_sha256(seed, sizeof seed, key_and_counter), SEAM_OK);
    memset(key_and_counter + 32, 0, 8);
    assert_int_equal(seam_crypto_sha256(key_and_counter, sizeof key_and_counter, expected),
                     SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(seam_crypto_random(got, sizeof got), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
    assert_memory_equal(got, expected, 32);
}

static void random_different_seeds_give_different_streams(void **state) {
    static const uint8_t seed_a[] = "seed a", seed_b[] = "seed b";
    uint8_t a[16], b[16];
    (void)state;

    assert_int_equal(seam_crypto_random_set_test_seed(seed_a, sizeof seed_a), SEAM_OK);
    assert_int_equal(seam_crypto_random(a, sizeof a), SEAM_OK);
    assert_int_equal(seam_crypto_random_set_test_seed(seed_b, sizeof seed_b), SEAM_OK);
    assert_int_equal(seam_crypto_random(b, sizeof b), SEAM_OK);
    assert_true(memcmp(a, b, sizeof a) != 0);
    /* An empty seed is a seed too. */
    assert_int_equal(seam_crypto_random_set_test_seed(seed_a, 0), SEAM_OK);
    assert_true(seam_crypto_random_is_deterministic());
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
    assert_false(seam_crypto_random_is_deterministic());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_from_openssl_differs_between_calls),
        cmocka_unit_test(random_test_seed_repeats_stream),
        cmocka_unit_test(random_fresh_ignores_the_test_seed),
        cmocka_unit_test(random_test_stream_matches_its_definition),
        cmocka_unit_test(random_different_seeds_give_different_streams),
    };
    return cmocka_run_group_tests_name("crypto_random", tests, NULL, NULL);
}
