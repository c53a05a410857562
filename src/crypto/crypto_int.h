/*
 * Private to the crypto layer: what its files share. Include it first in
 * every .c file of src/crypto, so that OpenSSL's deprecated interfaces are hidden
 * and any use of them fails to compile.
 */
#ifndef SEAM_CRYPTO_INT_H
#define SEAM_CRYPTO_INT_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/crypto.h"
#include "seam/util.h"

/* True for the AES key lengths: 16, 24 and 32 bytes. */
static inline bool seam_crypto_aes_key_len_ok(size_t key_len) {
    return key_len == 16 || key_len == 24 || key_len == 32;
}

#endif
