/*
 * libFuzzer target for the server's device-management record text (src/server/dm_record.c):
 * the UTF-8 check and the `field: value` reader that the proposals run over every `./apps`
 * record a device sent. A value found is NUL-terminated inside its buffer, holds no line
 * break and no blank at either end; ASan checks that nothing reads past the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_record.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "server_record_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool has_nul; /* a value may then end early at a NUL (the store refuses such text) */

static void check_value(seam_err err, const char *value, size_t cap) {
    CHECK(err == SEAM_OK || err == SEAM_ERR_NOT_FOUND || err == SEAM_ERR_BUFFER_SMALL);
    if (err)
        return;
    size_t n = strnlen(value, cap);
    CHECK(n < cap);
    CHECK(!memchr(value, '\n', n));
    CHECK(has_nul || n == 0 || (value[0] != ' ' && value[n - 1] != ' ' && value[n - 1] != '\r'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes, so that ASan sees any read past the text. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    has_nul = memchr(text, 0, size) != NULL;
    CHECK(!seam_dm_text_ok(text, size) || !has_nul);
    static const char *const names[] = {"kind", "version", "name", "package", "size"};
    char small[8], value[64];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        check_value(seam_dm_field(text, size, names[i], value, sizeof value), value, sizeof value);
        check_value(seam_dm_field(text, size, names[i], small, sizeof small), small, sizeof small);
    }
    seam_err err = seam_dm_first_line(text, size, value, sizeof value);
    CHECK(err == SEAM_OK || err == SEAM_ERR_BUFFER_SMALL);
    free(text);
    return 0;
}
