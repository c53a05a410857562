/*
 * AES-GCM: known answers from the test cases published with the GCM
 * specification (McGrew and Viega, "The Galois/Counter Mode of Operation",
 * test cases 2, 13, 14, 15 and 16, also used by NIST SP 800-38D's validation),
 * one context used for several messages, in-place operation, and refusals: any
 * changed bit of nonce, data, tag or associated data fails to open, and the
 * output is wiped.
 */
#include "crypto/hex.h"

#include <string.h>

#include "seam/crypto.h"

/* The key, nonce and plaintext of cases 15 and 16 (case 16 takes the first 60
 * plaintext bytes and adds 20 bytes of associated data). */
static const char k15[] = "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308";
static const char n15[] = "cafebabefacedbaddecaf888";
static const char p15[] = "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
                          "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255";

static const struct {
    const char *name, *key, *nonce, *aad, *plain, *cipher, *tag;
} cases[] = {
    {"case 2 (AES-128, zero key and block)", "00000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {"case 13 (AES-256, nothing to encrypt: a MAC)",
     "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"case 14 (AES-256, one zero block)",
     "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case 15 (AES-256, four blocks)", k15, n15, "", p15,
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"case 16 (AES-256, 60 bytes, associated data)", k15, n15,
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

typedef struct {
    uint8_t key[32], nonce[12], tag[16];
    uint8_t *aad, *plain, *cipher;
    size_t key_len, aad_len, len;
} vector;

static void load(size_t i, vector *v) {
    size_t n = 0;
    v->key_len = hex(cases[i].key, v->key, sizeof v->key);
    assert_int_equal(hex(cases[i].nonce, v->nonce, sizeof v->nonce), 12);
    assert_int_equal(hex(cases[i].tag, v->tag, sizeof v->tag), 16);
    v->aad = hex_alloc(cases[i].aad, &v->aad_len);
    v->plain = hex_alloc(cases[i].plain, &v->len);
    v->cipher = hex_alloc(cases[i].cipher, &n);
    assert_int_equal(n, v->len);
}

static void unload(vector *v) {
    free(v->aad);
    free(v->plain);
    free(v->cipher);
}

static void gcm_matches_the_published_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vector v;
        seam_crypto_aes_gcm *gcm = NULL;
        uint8_t out[64], tag[16];
        load(i, &v);
        print_message("      %s\n", cases[i].name);
        assert_int_equal(seam_crypto_aes_gcm_new(v.key, v.key_len, &gcm), SEAM_OK);
        /* twice with one context: the second message starts afresh */
        for (int round = 0; round < 2; round++) {
            memset(out, 0xEE, sizeof out);
            assert_int_equal(
                seam_crypto_aes_gcm_seal(gcm, v.nonce, v.aad, v.aad_len, v.plain, v.len, out, tag),
                SEAM_OK);
            assert_memory_equal(out, v.cipher, v.len);
            assert_memory_equal(tag, v.tag, 16);
            memset(out, 0xEE, sizeof out);
            assert_int_equal(seam_crypto_aes_gcm_open(gcm, v.nonce, v.aad, v.aad_len, v.cipher,
                                                      v.len, v.tag, out),
                             SEAM_OK);
            assert_memory_equal(out, v.plain, v.len);
        }
        seam_crypto_aes_gcm_free(gcm);
        unload(&v);
    }
}

static void gcm_works_in_place(void **state) {
    vector v;
    seam_crypto_aes_gcm *gcm = NULL;
    uint8_t buf[64], tag[16];
    (void)state;
    load(3, &v);
    assert_int_equal(seam_crypto_aes_gcm_new(v.key, v.key_len, &gcm), SEAM_OK);
    memcpy(buf, v.plain, v.len);
    assert_int_equal(seam_crypto_aes_gcm_seal(gcm, v.nonce, NULL, 0, buf, v.len, buf, tag),
                     SEAM_OK);
    assert_memory_equal(buf, v.cipher, v.len);
    assert_int_equal(seam_crypto_aes_gcm_open(gcm, v.nonce, NULL, 0, buf, v.len, tag, buf),
                     SEAM_OK);
    assert_memory_equal(buf, v.plain, v.len);
    seam_crypto_aes_gcm_free(gcm);
    unload(&v);
}

/* Case 16 with one bit changed at a time, in every input: never opens, output wiped. */
static void gcm_refuses_any_changed_bit(void **state) {
    vector v;
    seam_crypto_aes_gcm *gcm = NULL;
    uint8_t out[64];
    (void)state;
    load(4, &v);
    assert_int_equal(seam_crypto_aes_gcm_new(v.key, v.key_len, &gcm), SEAM_OK);
    uint8_t *parts[] = {v.nonce, v.aad, v.cipher, v.tag};
    size_t sizes[] = {12, v.aad_len, v.len, 16};
    for (size_t p = 0; p < 4; p++) {
        for (size_t bit = 0; bit < sizes[p] * 8; bit += 5) {
            parts[p][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            memset(out, 0xEE, sizeof out);
            assert_int_equal(seam_crypto_aes_gcm_open(gcm, v.nonce, v.aad, v.aad_len, v.cipher,
                                                      v.len, v.tag, out),
                             SEAM_ERR_CRYPTO_AUTH);
            for (size_t i = 0; i < v.len; i++)
                assert_int_equal(out[i], 0);
            parts[p][bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    /* associated data cut short or missing */
    assert_int_equal(
        seam_crypto_aes_gcm_open(gcm, v.nonce, v.aad, v.aad_len - 1, v.cipher, v.len, v.tag, out),
        SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_crypto_aes_gcm_open(gcm, v.nonce, NULL, 0, v.cipher, v.len, v.tag, out),
                     SEAM_ERR_CRYPTO_AUTH);
    /* and the untouched vector still opens with the same context */
    assert_int_equal(
        seam_crypto_aes_gcm_open(gcm, v.nonce, v.aad, v.aad_len, v.cipher, v.len, v.tag, out),
        SEAM_OK);
    seam_crypto_aes_gcm_free(gcm);
    unload(&v);
}

static void gcm_refuses_bad_keys(void **state) {
    static const uint8_t key[33] = {0};
    seam_crypto_aes_gcm *gcm = (seam_crypto_aes_gcm *)&gcm;
    (void)state;
    assert_int_equal(seam_crypto_aes_gcm_new(key, 15, &gcm), SEAM_ERR_CRYPTO_KEY);
    assert_int_equal(seam_crypto_aes_gcm_new(key, 33, &gcm), SEAM_ERR_CRYPTO_KEY);
    assert_int_equal(seam_crypto_aes_gcm_new(key, 0, &gcm), SEAM_ERR_CRYPTO_KEY);
    seam_crypto_aes_gcm_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcm_matches_the_published_cases),
        cmocka_unit_test(gcm_works_in_place),
        cmocka_unit_test(gcm_refuses_any_changed_bit),
        cmocka_unit_test(gcm_refuses_bad_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
