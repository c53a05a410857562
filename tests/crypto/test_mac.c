/*
 * AES-CMAC (SP 800-38B examples), SHA-1/SHA-2 (FIPS 180 examples) and
 * HMAC-SHA256 (RFC 4231): known answers, incremental use, and failures.
 */
#include "crypto/hex.h"

#include <string.h>

#include "seam/crypto.h"

/* SP 800-38B appendix D: the SP 800-38A message, cut to 0, 16, 40 and 64
 * bytes, under one key of each AES size. */
static const char cmac_message[] =
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
static const size_t cmac_lengths[4] = {0, 16, 40, 64};
static const struct {
    const char *key;
    const char *mac[4];
} sp800_38b[] = {
    {"2b7e151628aed2a6abf7158809cf4f3c",
     {"bb1d6929e95937287fa37d129b756746", "070a16b46b4d4144f79bdd9dd04a287c",
      "dfa66747de9ae63030ca32611497c827", "51f0bebf7e3b9d92fc49741779363cfe"}},
    {"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     {"d17ddf46adaacde531cac483de7a9367", "9e99a7bf31e710900662f65e617c5184",
      "8a1de5be2eb31aad089a82e6ee908b0e", "a1d5df0eed790f794d77589659f39a11"}},
    {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     {"028962f61b7bf89efc6b551f4667d983", "28a7023f452e8f82bd4bf28d8c37c35c",
      "aaf3d8f1de5640c232f5b169b9c911e6", "e1992190549f6ed5696a2c056c315410"}},
};

static void cmac_matches_sp800_38b(void **state) {
    uint8_t message[64];
    (void)state;

    hex(cmac_message, message, sizeof message);
    for (size_t k = 0; k < sizeof sp800_38b / sizeof sp800_38b[0]; k++) {
        uint8_t key[32];
        size_t key_len = hex(sp800_38b[k].key, key, sizeof key);
        for (size_t m = 0; m < 4; m++) {
            uint8_t expected[16], mac[16];
            hex(sp800_38b[k].mac[m], expected, sizeof expected);
            assert_int_equal(seam_crypto_cmac(key, key_len, message, cmac_lengths[m], mac),
                             SEAM_OK);
            assert_memory_equal(mac, expected, 16);
        }
    }
}

static void cmac_incremental_equals_oneshot_and_restarts(void **state) {
    uint8_t message[64], key[16], expected[16], mac[16];
    seam_crypto_cmac_ctx *ctx = NULL;
    (void)state;

    hex(cmac_message, message, sizeof message);
    hex(sp800_38b[0].key, key, sizeof key);
    hex(sp800_38b[0].mac[2], expected, sizeof expected); /* 40 bytes */
    assert_int_equal(seam_crypto_cmac_new(key, sizeof key, &ctx), SEAM_OK);
    /* Pieces that straddle block boundaries, and an empty piece. */
    assert_int_equal(seam_crypto_cmac_update(ctx, message, 3), SEAM_OK);
    assert_int_equal(seam_crypto_cmac_update(ctx, NULL, 0), SEAM_OK);
    assert_int_equal(seam_crypto_cmac_update(ctx, message + 3, 14), SEAM_OK);
    assert_int_equal(seam_crypto_cmac_update(ctx, message + 17, 23), SEAM_OK);
    assert_int_equal(seam_crypto_cmac_final(ctx, mac), SEAM_OK);
    assert_memory_equal(mac, expected, 16);
    /* After final the context MACs a new message under the same key. */
    hex(sp800_38b[0].mac[3], expected, sizeof expected); /* 64 bytes */
    assert_int_equal(seam_crypto_cmac_update(ctx, message, 64), SEAM_OK);
    assert_int_equal(seam_crypto_cmac_final(ctx, mac), SEAM_OK);
    assert_memory_equal(mac, expected, 16);
    hex(sp800_38b[0].mac[0], expected, sizeof expected); /* empty */
    assert_int_equal(seam_crypto_cmac_final(ctx, mac), SEAM_OK);
    assert_memory_equal(mac, expected, 16);
    seam_crypto_cmac_free(ctx);
    seam_crypto_cmac_free(NULL);
}

static void cmac_bad_key_lengths_give_key_error_and_leave_outputs(void **state) {
    static const size_t bad[] = {0, 15, 17, 31, 33};
    uint8_t key[40] = {0}, mac[16];
    seam_crypto_cmac_ctx *ctx = (seam_crypto_cmac_ctx *)&key; /* a sentinel, never used */
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(mac, 0x3C, sizeof mac);
        assert_int_equal(seam_crypto_cmac(key, bad[i], key, 16, mac), SEAM_ERR_CRYPTO_KEY);
        for (size_t j = 0; j < sizeof mac; j++)
            assert_int_equal(mac[j], 0x3C);
        assert_int_equal(seam_crypto_cmac_new(key, bad[i], &ctx), SEAM_ERR_CRYPTO_KEY);
        assert_ptr_equal(ctx, (seam_crypto_cmac_ctx *)&key);
    }
}

static void cmac_one_bit_flip_changes_mac(void **state) {
    uint8_t message[64], key[16], a[16], b[16];
    (void)state;

    hex(cmac_message, message, sizeof message);
    hex(sp800_38b[0].key, key, sizeof key);
    assert_int_equal(seam_crypto_cmac(key, sizeof key, message, 64, a), SEAM_OK);
    message[63] ^= 0x01;
    assert_int_equal(seam_crypto_cmac(key, sizeof key, message, 64, b), SEAM_OK);
    assert_true(memcmp(a, b, 16) != 0);
}

/* FIPS 180-4 examples ("abc", the two-block message) and the empty string. */
static const char two_block[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const struct {
    const char *text;
    seam_err (*fn)(const uint8_t *, size_t, uint8_t *);
    size_t size;
    const char *digest;
} fips180[] = {
    {"abc", seam_crypto_sha1, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {two_block, seam_crypto_sha1, 20, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {"", seam_crypto_sha1, 20, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"abc", seam_crypto_sha256, 32,
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {two_block, seam_crypto_sha256, 32,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"", seam_crypto_sha256, 32,
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", seam_crypto_sha384, 48,
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7"},
    {"", seam_crypto_sha384, 48,
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
     "274edebfe76f65fbd51ad2f14898b95b"},
    {"abc", seam_crypto_sha512, 64,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {"", seam_crypto_sha512, 64,
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
};

static void sha_digests_match_fips180(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof fips180 / sizeof fips180[0]; i++) {
        uint8_t expected[64], out[64];
        size_t len = strlen(fips180[i].text);
        assert_int_equal(hex(fips180[i].digest, expected, sizeof expected), fips180[i].size);
        assert_int_equal(fips180[i].fn((const uint8_t *)fips180[i].text, len, out), SEAM_OK);
        assert_memory_equal(out, expected, fips180[i].size);
    }
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block), and the
 * empty key and message (well-known value). */
static const struct {
    const char *key_hex, *data, *mac;
} rfc4231[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"4a656665", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
};

static void hmac_sha256_matches_rfc4231_and_verifies(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
        uint8_t key[131], expected[32], mac[32];
        size_t key_len = hex(rfc4231[i].key_hex, key, sizeof key);
        const uint8_t *data = (const uint8_t *)rfc4231[i].data;
        size_t len = strlen(rfc4231[i].data);

        hex(rfc4231[i].mac, expected, sizeof expected);
        assert_int_equal(seam_crypto_hmac_sha256(key, key_len, data, len, mac), SEAM_OK);
        assert_memory_equal(mac, expected, 32);
        assert_int_equal(seam_crypto_hmac_sha256_verify(key, key_len, data, len, mac, 32), SEAM_OK);
    }
}

static void hmac_sha256_verify_fails_on_any_change(void **state) {
    uint8_t key[20], mac[32];
    const uint8_t *data = (const uint8_t *)"Hi There";
    (void)state;

    hex(rfc4231[0].key_hex, key, sizeof key);
    assert_int_equal(seam_crypto_hmac_sha256(key, sizeof key, data, 8, mac), SEAM_OK);
    /* Each bit of the tag. */
    for (size_t bit = 0; bit < 256; bit++) {
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(seam_crypto_hmac_sha256_verify(key, sizeof key, data, 8, mac, 32),
                         SEAM_ERR_CRYPTO_AUTH);
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Truncated tag, wrong key, changed message. */
    assert_int_equal(seam_crypto_hmac_sha256_verify(key, sizeof key, data, 8, mac, 16),
                     SEAM_ERR_CRYPTO_AUTH);
    key[0] ^= 0x80;
    assert_int_equal(seam_crypto_hmac_sha256_verify(key, sizeof key, data, 8, mac, 32),
                     SEAM_ERR_CRYPTO_AUTH);
    key[0] ^= 0x80;
    assert_int_equal(seam_crypto_hmac_sha256_verify(key, sizeof key, data, 7, mac, 32),
                     SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_hmac_sha256_verify(key, sizeof key, data, 8, mac, 32), SEAM_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cmac_matches_sp800_38b),
        cmocka_unit_test(cmac_incremental_equals_oneshot_and_restarts),
        cmocka_unit_test(cmac_bad_key_lengths_give_key_error_and_leave_outputs),
        cmocka_unit_test(cmac_one_bit_flip_changes_mac),
        cmocka_unit_test(sha_digests_match_fips180),
        cmocka_unit_test(hmac_sha256_matches_rfc4231_and_verifies),
        cmocka_unit_test(hmac_sha256_verify_fails_on_any_change),
    };
    return cmocka_run_group_tests_name("crypto_mac", tests, NULL, NULL);
}
