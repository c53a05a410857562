/*
 * libFuzzer target for the line parser of `seam card script`
 * (src/cli/card_script_parse.c): the input is one line (its bytes, any of
 * them, newlines and NULs included), parsed from a copy of exactly its size
 * so that ASan sees any read past the end; the result's invariants are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_script.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "script_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static script_line parsed;

/* True when p points into the parsed line's text (the terminator included). */
static bool in_text(const char *p) {
    return p >= parsed.text && p <= parsed.text + SCRIPT_LINE_MAX;
}

static void check_parsed(void) {
    switch (parsed.kind) {
    case SCRIPT_BLANK:
        break;
    case SCRIPT_BAD:
        CHECK(parsed.error != NULL && parsed.detail != NULL);
        CHECK(in_text(parsed.detail) || strstr(parsed.error, "longer") != NULL);
        break;
    case SCRIPT_APDU:
        CHECK(parsed.apdu_len >= 4 && parsed.apdu_len <= SCRIPT_APDU_MAX);
        CHECK(!parsed.check_data || parsed.check_sw);
        if (parsed.check_sw)
            CHECK(strlen(parsed.sw) == 4);
        if (parsed.check_data)
            CHECK(in_text(parsed.data_hex) && parsed.data_len <= sizeof parsed.data);
        break;
    case SCRIPT_DIRECTIVE:
        CHECK(parsed.word_count >= 1 && parsed.word_count <= SCRIPT_WORDS_MAX);
        CHECK(parsed.words[0][0] == '.');
        for (int i = 0; i < parsed.word_count; i++)
            CHECK(in_text(parsed.words[i]) && strlen(parsed.words[i]) <= SCRIPT_LINE_MAX);
        break;
    default:
        CHECK(!"unknown kind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *line = malloc(size ? size : 1);
    CHECK(line != NULL);
    if (size)
        memcpy(line, data, size);
    script_parse_line(line, size, &parsed);
    check_parsed();
    free(line);
    return 0;
}
