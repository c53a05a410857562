/*
 * Random bytes: OpenSSL's DRBG, or, for tests only, a deterministic stream
 * seeded by the test so that card challenges and generated keys repeat from
 * run to run. One lock guards the choice and the stream.
 */
#include "crypto_int.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>

/* The test stream: block i = SHA-256(key || i as 8 bytes big-endian). */
static struct {
    pthread_mutex_t lock;
    bool on;
    uint8_t key[SEAM_CRYPTO_SHA256_SIZE];
    uint64_t counter;
} test_stream = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Fills buf from the test stream; the caller holds the lock. Bytes left over
 * in the last block are dropped, so each call starts on a fresh block. */
static seam_err stream_fill(uint8_t *buf, size_t len) {
    seam_err err = SEAM_OK;
    uint8_t input[SEAM_CRYPTO_SHA256_SIZE + 8];
    uint8_t block[SEAM_CRYPTO_SHA256_SIZE];

    memcpy(input, test_stream.key, sizeof test_stream.key);
    for (size_t done = 0; done < len && err == SEAM_OK;) {
        size_t piece = len - done < sizeof block ? len - done : sizeof block;
        for (int i = 0; i < 8; i++)
            input[sizeof test_stream.key + (size_t)i] =
                (uint8_t)(test_stream.counter >> (56 - 8 * i));
        test_stream.counter++;
        err = seam_crypto_sha256(input, sizeof input, block);
        if (err == SEAM_OK) {
            memcpy(buf + done, block, piece);
            done += piece;
        }
    }
    seam_secure_zero(input, sizeof input);
    seam_secure_zero(block, sizeof block);
    return err;
}

/* Fills buf from OpenSSL's DRBG (thread-safe on its own). */
static seam_err drbg_fill(uint8_t *buf, size_t len) {
    for (size_t done = 0; done < len;) {
        size_t piece = len - done < (size_t)INT_MAX ? len - done : (size_t)INT_MAX;
        if (RAND_bytes(buf + done, (int)piece) != 1)
            return SEAM_ERR_CRYPTO;
        done += piece;
    }
    return SEAM_OK;
}

seam_err seam_crypto_random(uint8_t *buf, size_t len) {
    seam_err err = SEAM_OK;

    assert(len == 0 || buf != NULL);
    pthread_mutex_lock(&test_stream.lock);
    if (test_stream.on) {
        err = stream_fill(buf, len);
        goto out;
    }
    err = drbg_fill(buf, len);
out:
    pthread_mutex_unlock(&test_stream.lock);
    return err;
}

seam_err seam_crypto_random_fresh(uint8_t *buf, size_t len) {
    assert(len == 0 || buf != NULL);
    return drbg_fill(buf, len);
}

seam_err seam_crypto_random_set_test_seed(const uint8_t *seed, size_t seed_len) {
    seam_err err = SEAM_OK;

    pthread_mutex_lock(&test_stream.lock);
    seam_secure_zero(test_stream.key, sizeof test_stream.key);
    test_stream.counter = 0;
    test_stream.on = false;
    if (seed != NULL) {
        err = seam_crypto_sha256(seed, seed_len, test_stream.key);
        test_stream.on = err == SEAM_OK;
    }
    pthread_mutex_unlock(&test_stream.lock);
    return err;
}

bool seam_crypto_random_is_deterministic(void) {
    bool on;

    pthread_mutex_lock(&test_stream.lock);
    on = test_stream.on;
    pthread_mutex_unlock(&test_stream.lock);
    return on;
}
