/*
 * AES block and CBC operations, the key check value and ISO/IEC 9797-1
 * method 2 padding: known answers from FIPS 197 and SP 800-38A, and the
 * error contract (bad keys and lengths leave outputs untouched).
 */
#include "crypto/hex.h"

#include <string.h>

#include "seam/crypto.h"

/* FIPS 197 appendix C: one plaintext under 128-, 192- and 256-bit keys. */
static const struct {
    const char *key, *plain, *cipher;
} fips197[] = {
    {"000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
     "69c4e0d86a7b0430d8cdb78070b4c55a"},
    {"000102030405060708090a0b0c0d0e0f1011121314151617", "00112233445566778899aabbccddeeff",
     "dda97ca4864cdfe06eaf70a0ec0d7191"},
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"},
};

/* SP 800-38A F.2.1 and F.2.5: CBC over four blocks. */
static const char sp800_38a_plain[] =
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
static const char sp800_38a_iv[] = "000102030405060708090a0b0c0d0e0f";
static const struct {
    const char *key, *cipher;
} sp800_38a_cbc[] = {
    {"2b7e151628aed2a6abf7158809cf4f3c",
     "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
     "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7"},
    {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d"
     "39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b"},
};

static void aes_ecb_matches_fips197(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof fips197 / sizeof fips197[0]; i++) {
        uint8_t key[32], plain[16], cipher[16], out[16];
        size_t key_len = hex(fips197[i].key, key, sizeof key);
        hex(fips197[i].plain, plain, sizeof plain);
        hex(fips197[i].cipher, cipher, sizeof cipher);

        assert_int_equal(seam_crypto_aes_ecb_encrypt(key, key_len, plain, out), SEAM_OK);
        assert_memory_equal(out, cipher, 16);
        assert_int_equal(seam_crypto_aes_ecb_decrypt(key, key_len, cipher, out), SEAM_OK);
        assert_memory_equal(out, plain, 16);
        /* In place. */
        memcpy(out, plain, 16);
        assert_int_equal(seam_crypto_aes_ecb_encrypt(key, key_len, out, out), SEAM_OK);
        assert_memory_equal(out, cipher, 16);
    }
}

static void aes_cbc_matches_sp800_38a(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof sp800_38a_cbc / sizeof sp800_38a_cbc[0]; i++) {
        uint8_t key[32], iv[16], plain[64], cipher[64], out[64];
        size_t key_len = hex(sp800_38a_cbc[i].key, key, sizeof key);
        hex(sp800_38a_iv, iv, sizeof iv);
        hex(sp800_38a_plain, plain, sizeof plain);
        hex(sp800_38a_cbc[i].cipher, cipher, sizeof cipher);

        assert_int_equal(seam_crypto_aes_cbc_encrypt(key, key_len, iv, plain, 64, out), SEAM_OK);
        assert_memory_equal(out, cipher, 64);
        assert_int_equal(seam_crypto_aes_cbc_decrypt(key, key_len, iv, cipher, 64, out), SEAM_OK);
        assert_memory_equal(out, plain, 64);
        /* In place, both directions. */
        assert_int_equal(seam_crypto_aes_cbc_encrypt(key, key_len, iv, out, 64, out), SEAM_OK);
        assert_memory_equal(out, cipher, 64);
        assert_int_equal(seam_crypto_aes_cbc_decrypt(key, key_len, iv, out, 64, out), SEAM_OK);
        assert_memory_equal(out, plain, 64);
    }
}

static void aes_cbc_rejects_partial_block_and_leaves_output(void **state) {
    uint8_t key[16] = {0}, iv[16] = {0}, in[33] = {0}, out[33];
    (void)state;

    memset(out, 0xA5, sizeof out);
    assert_int_equal(seam_crypto_aes_cbc_encrypt(key, 16, iv, in, 33, out), SEAM_ERR_ARG);
    assert_int_equal(seam_crypto_aes_cbc_decrypt(key, 16, iv, in, 15, out), SEAM_ERR_ARG);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xA5);
    /* Zero length is a valid, empty operation. */
    assert_int_equal(seam_crypto_aes_cbc_encrypt(key, 16, iv, NULL, 0, NULL), SEAM_OK);
}

static void aes_bad_key_lengths_give_key_error_and_leave_outputs(void **state) {
    static const size_t bad[] = {0, 1, 8, 15, 17, 20, 23, 25, 31, 33, 64};
    uint8_t key[64] = {0}, iv[16] = {0}, in[32] = {0}, out[32], kcv[3];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 0x5A, sizeof out);
        memset(kcv, 0x5A, sizeof kcv);
        assert_int_equal(seam_crypto_aes_ecb_encrypt(key, bad[i], in, out), SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_aes_ecb_decrypt(key, bad[i], in, out), SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_aes_cbc_encrypt(key, bad[i], iv, in, 32, out),
                         SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_aes_cbc_decrypt(key, bad[i], iv, in, 32, out),
                         SEAM_ERR_CRYPTO_KEY);
        assert_int_equal(seam_crypto_aes_kcv(key, bad[i], kcv), SEAM_ERR_CRYPTO_KEY);
        for (size_t j = 0; j < sizeof out; j++)
            assert_int_equal(out[j], 0x5A);
        for (size_t j = 0; j < sizeof kcv; j++)
            assert_int_equal(kcv[j], 0x5A);
    }
}

/* X1: the KCV GlobalPlatform PUT KEY carries; value from gp_facts.md 3.9. */
static void aes_kcv_matches_gp_vector(void **state) {
    uint8_t key[16], kcv[3], expected[3];
    (void)state;

    hex("F995D0A069335C7DF42E590317FFEA6D", key, sizeof key);
    hex("A6C0D9", expected, sizeof expected);
    assert_int_equal(seam_crypto_aes_kcv(key, sizeof key, kcv), SEAM_OK);
    assert_memory_equal(kcv, expected, 3);
}

static void iso9797_pad_adds_80_then_zeros_to_next_block(void **state) {
    static const struct {
        size_t len, padded;
    } cases[] = {{0, 16}, {1, 16}, {15, 16}, {16, 32}, {17, 32}, {31, 32}, {32, 48}};
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[48];
        size_t padded = 0, data_len = 0;

        memset(buf, 0xEE, sizeof buf);
        assert_int_equal(seam_crypto_iso9797_padded_len(cases[i].len), cases[i].padded);
        assert_int_equal(seam_crypto_iso9797_pad(buf, cases[i].len, sizeof buf, &padded), SEAM_OK);
        assert_int_equal(padded, cases[i].padded);
        for (size_t j = 0; j < cases[i].len; j++)
            assert_int_equal(buf[j], 0xEE);
        assert_int_equal(buf[cases[i].len], 0x80);
        for (size_t j = cases[i].len + 1; j < padded; j++)
            assert_int_equal(buf[j], 0x00);
        assert_int_equal(seam_crypto_iso9797_unpad(buf, padded, &data_len), SEAM_OK);
        assert_int_equal(data_len, cases[i].len);
    }
}

static void iso9797_pad_too_small_reports_size_and_leaves_buffer(void **state) {
    uint8_t buf[16];
    size_t padded = 0;
    (void)state;

    memset(buf, 0x11, sizeof buf);
    assert_int_equal(seam_crypto_iso9797_pad(buf, 16, sizeof buf, &padded), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(padded, 32);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0x11);
}

static void iso9797_unpad_rejects_bad_padding_and_leaves_length(void **state) {
    static const char *bad[] = {
        "",                                                                  /* empty */
        "00112233445566778899aabbccdd80",                                    /* 15 bytes */
        "00112233445566778899aabbccddee00",                                  /* no marker */
        "00112233445566778899aabbcc800100",                                  /* 01 after marker */
        "00112233445566778899aabbccddee81",                                  /* 81, not 80 */
        "0011223344556677889980000000000000000000000000000000000000000000",  /* marker too early */
        "00112233445566778899aabbccddee80 00000000000000000000000000000000", /* padding > block */
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len, data_len = 12345;
        uint8_t *buf = hex_alloc(bad[i], &len);

        assert_int_equal(seam_crypto_iso9797_unpad(buf, len, &data_len), SEAM_ERR_CRYPTO_PADDING);
        assert_int_equal(data_len, 12345);
        free(buf);
    }
}

static void iso9797_unpad_accepts_marker_anywhere_in_last_block(void **state) {
    uint8_t buf[32];
    size_t data_len = 0;
    (void)state;

    /* A data byte equal to 80 before the real marker is data, not padding. */
    for (size_t marker = 16; marker < 32; marker++) {
        memset(buf, 0x80, sizeof buf);
        memset(buf + marker + 1, 0, 31 - marker);
        assert_int_equal(seam_crypto_iso9797_unpad(buf, sizeof buf, &data_len), SEAM_OK);
        assert_int_equal(data_len, marker);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aes_ecb_matches_fips197),
        cmocka_unit_test(aes_cbc_matches_sp800_38a),
        cmocka_unit_test(aes_cbc_rejects_partial_block_and_leaves_output),
        cmocka_unit_test(aes_bad_key_lengths_give_key_error_and_leave_outputs),
        cmocka_unit_test(aes_kcv_matches_gp_vector),
        cmocka_unit_test(iso9797_pad_adds_80_then_zeros_to_next_block),
        cmocka_unit_test(iso9797_pad_too_small_reports_size_and_leaves_buffer),
        cmocka_unit_test(iso9797_unpad_rejects_bad_padding_and_leaves_length),
        cmocka_unit_test(iso9797_unpad_accepts_marker_anywhere_in_last_block),
    };
    return cmocka_run_group_tests_name("crypto_aes", tests, NULL, NULL);
}
