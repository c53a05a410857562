/*
 * Hex codec. Decoding validates the whole input before writing anything, so
 * a malformed string or a small buffer leaves the output untouched.
 */
#include "seam/util.h"

static int hex_digit_value(char c) {
    int value = -1;
    if (c >= '0' && c <= '9')
        value = c - '0';
    else if (c >= 'a' && c <= 'f')
        value = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        value = c - 'A' + 10;
    return value;
}

static bool hex_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

seam_err seam_hex_encode(const uint8_t *bytes, size_t len, char *out, size_t out_size,
                         size_t *out_len) {
    static const char digits[] = "0123456789ABCDEF";
    seam_err err = SEAM_OK;
    if ((len > 0 && !bytes) || !out_len || len > (SIZE_MAX - 1) / 2) {
        err = SEAM_ERR_ARG;
    } else if (!out || out_size < 2 * len + 1) {
        *out_len = 2 * len + 1;
        err = SEAM_ERR_BUFFER_SMALL;
    } else {
        for (size_t i = 0; i < len; i++) {
            out[2 * i] = digits[bytes[i] >> 4];
            out[2 * i + 1] = digits[bytes[i] & 0x0F];
        }
        out[2 * len] = '\0';
        *out_len = 2 * len;
    }
    return err;
}

/* Counts the bytes hex[0..hex_len) decodes to; SEAM_ERR_MALFORMED if it does not decode. */
static seam_err hex_count(const char *hex, size_t hex_len, size_t *count) {
    seam_err err = SEAM_OK;
    size_t digits = 0;
    for (size_t i = 0; i < hex_len && err == SEAM_OK; i++) {
        if (hex_is_space(hex[i])) {
            if (digits % 2 != 0)
                err = SEAM_ERR_MALFORMED; /* whitespace splits a byte */
        } else if (hex_digit_value(hex[i]) < 0) {
            err = SEAM_ERR_MALFORMED;
        } else {
            digits++;
        }
    }
    if (err == SEAM_OK && digits % 2 != 0)
        err = SEAM_ERR_MALFORMED;
    if (err == SEAM_OK)
        *count = digits / 2;
    return err;
}

seam_err seam_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
                         size_t *out_len) {
    seam_err err = SEAM_OK;
    size_t count = 0;
    if ((hex_len > 0 && !hex) || !out_len)
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK)
        err = hex_count(hex, hex_len, &count);
    if (err == SEAM_OK && (count > out_size || (count > 0 && !out))) {
        *out_len = count;
        err = SEAM_ERR_BUFFER_SMALL;
    }
    if (err == SEAM_OK) {
        size_t written = 0;
        int high = -1;
        for (size_t i = 0; i < hex_len; i++) {
            int value = hex_digit_value(hex[i]);
            if (value < 0)
                continue; /* whitespace, already validated */
            if (high < 0) {
                high = value;
            } else {
                out[written++] = (uint8_t)(high << 4 | value);
                high = -1;
            }
        }
        *out_len = written;
    }
    return err;
}
