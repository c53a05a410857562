/*
 * libFuzzer target for the line parser of card scripts
 * (src/gp/script_parse.c, the runner of `seam card script`): the input is one
 * line (its bytes, any of them, newlines and NULs included), parsed from a
 * copy of exactly its size so that ASan sees any read past the end; the
 * result's invariants are checked: a bad line has a message, an APDU's Lc
 * matches its data, a directive's arguments are in their ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

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

static bool aid_ok(const seam_gp_aid *aid, bool optional) {
    return (optional && aid->len == 0) ||
           (aid->len >= SEAM_GP_AID_MIN && aid->len <= SEAM_GP_AID_MAX);
}

static void check_apdu(void) {
    const uint8_t *a = parsed.apdu;
    size_t len = parsed.apdu_len;
    CHECK(len >= 4 && len <= SCRIPT_APDU_MAX);
    if (len > 5 && a[4] != 0)
        CHECK(len == 5u + a[4] || len == 6u + a[4]);
    if (len > 7 && a[4] == 0) {
        size_t nc = (size_t)a[5] << 8 | a[6];
        CHECK(nc && (len == 7 + nc || len == 9 + nc));
    }
    CHECK(!parsed.check_data || parsed.check_sw);
    if (parsed.check_sw)
        CHECK(strlen(parsed.sw) == 4);
    if (parsed.check_data)
        CHECK(in_text(parsed.data_hex) && parsed.data_len <= sizeof parsed.data);
}

static void check_directive(void) {
    const script_args *a = &parsed.args;
    CHECK(parsed.word_count >= 1 && parsed.word_count <= SCRIPT_WORDS_MAX);
    CHECK(parsed.words[0][0] == '.' && a->name == parsed.words[0]);
    for (int i = 0; i < parsed.word_count; i++)
        CHECK(in_text(parsed.words[i]) && strlen(parsed.words[i]) <= SCRIPT_LINE_MAX);
    CHECK(parsed.check_sw && strlen(parsed.sw) == 4);
    CHECK(a->level == 0x00 || a->level == 0x01 || a->level == 0x03 || a->level == 0x11 ||
          a->level == 0x13 || a->level == 0x33);
    CHECK(a->kvn <= 0x7F && a->new_kvn <= 0x7F);
    CHECK(a->keys.len == 0 || a->keys.len == 16 || a->keys.len == 24 || a->keys.len == 32);
    CHECK(!a->file || in_text(a->file));
    CHECK(aid_ok(&a->aid, a->which != DIRECTIVE_DELETE) && aid_ok(&a->module, true) &&
          aid_ok(&a->package, true) && aid_ok(&a->domain, true) && aid_ok(&a->old, true) &&
          aid_ok(&a->perso, true));
    CHECK(a->privileges_len == 0 || a->privileges_len == 1 || a->privileges_len == 3);
    CHECK(a->params_len <= sizeof a->params && a->store_len <= sizeof a->store);
    if (a->which == DIRECTIVE_PUTKEY)
        CHECK(a->keys.len && a->new_kvn != 0);
    if (a->which == DIRECTIVE_SCP03)
        CHECK(a->keys.len != 0);
    if (a->which == DIRECTIVE_INSTALL)
        CHECK(!!a->file != !!a->package.len && (!a->package.len || a->module.len));
    if (a->which == DIRECTIVE_LOAD || a->which == DIRECTIVE_UPGRADE)
        CHECK(a->file != NULL);
    if (a->which == DIRECTIVE_STORE_DATA)
        CHECK(a->store_len > 0 && (a->store_p1 & 0x18) != 0x18);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *line = malloc(size ? size : 1);
    CHECK(line != NULL);
    if (size)
        memcpy(line, data, size);
    script_parse_line(line, size, &parsed);
    switch (parsed.kind) {
    case SCRIPT_BLANK:
        break;
    case SCRIPT_BAD:
        CHECK(parsed.error[0] != 0 && memchr(parsed.error, 0, sizeof parsed.error) != NULL);
        break;
    case SCRIPT_APDU:
        check_apdu();
        break;
    case SCRIPT_DIRECTIVE:
        check_directive();
        break;
    default:
        CHECK(!"unknown kind");
    }
    free(line);
    return 0;
}
