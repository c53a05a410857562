/*
 * The line parser of `seam card script`: one line of text in, its kind and
 * contents out (docs/card-script.md). Nothing here does I/O or allocates; the
 * input is a (pointer, length) pair and is never read past its length.
 */
#include <ctype.h>
#include <string.h>

#include "card_script.h"
#include "seam/util.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static bool is_space(char c) {
    return isspace((unsigned char)c) != 0;
}

/* Decodes hex with optional spaces into out; false if not hex or too long. */
static bool parse_hex(const char *text, size_t len, uint8_t *out, size_t cap, size_t *out_len) {
    return seam_hex_decode(text, len, out, cap, out_len) == SEAM_OK;
}

/* The offset of the first "=>" in text[0..len), or len when there is none. */
static size_t find_arrow(const char *text, size_t len) {
    size_t i = 0;
    while (i + 1 < len && !(text[i] == '=' && text[i + 1] == '>'))
        i++;
    return i + 1 < len ? i : len;
}

static bool sw_char_ok(char c) {
    return isxdigit((unsigned char)c) || c == 'x' || c == 'X';
}

static void bad(script_line *out, const char *error, const char *detail) {
    out->kind = SCRIPT_BAD;
    out->error = error;
    out->detail = detail;
}

/* APDU [=> SW [DATA[*]]] in out->text[0..len). */
static void parse_apdu(script_line *out, size_t len) {
    char *text = out->text;
    size_t arrow = find_arrow(text, len), pos;
    if (arrow < len)
        text[arrow] = 0; /* the APDU's text alone, for messages */
    if (!parse_hex(text, arrow, out->apdu, sizeof out->apdu, &out->apdu_len) || out->apdu_len < 4) {
        bad(out, "not an APDU in hex: '%s'", text);
        goto out;
    }
    out->kind = SCRIPT_APDU;
    if (arrow == len)
        goto out;
    pos = arrow + 2;
    while (pos < len && text[pos] == ' ')
        pos++;
    if (len - pos < 4 || !(len - pos == 4 || text[pos + 4] == ' ') || !sw_char_ok(text[pos]) ||
        !sw_char_ok(text[pos + 1]) || !sw_char_ok(text[pos + 2]) || !sw_char_ok(text[pos + 3])) {
        bad(out, "expected status word after =>: '%s'", text + arrow + 2);
        goto out;
    }
    memcpy(out->sw, text + pos, 4);
    out->sw[4] = 0;
    out->check_sw = true;
    pos += 4;
    while (pos < len && text[pos] == ' ')
        pos++;
    if (pos == len)
        goto out;
    out->data_hex = text + pos;
    out->data_prefix = text[len - 1] == '*';
    if (!parse_hex(text + pos, len - pos - (out->data_prefix ? 1 : 0), out->data, sizeof out->data,
                   &out->data_len)) {
        bad(out, "expected data is not hex: '%s'", text + pos);
        goto out;
    }
    out->check_data = true;
out:
    return;
}

/* .name word ... in out->text[0..len): words split at spaces and tabs. */
static void parse_directive(script_line *out, size_t len) {
    char *text = out->text;
    size_t pos = 0;
    out->kind = SCRIPT_DIRECTIVE;
    while (pos < len && out->word_count < SCRIPT_WORDS_MAX) {
        while (pos < len && (text[pos] == ' ' || text[pos] == '\t'))
            pos++;
        if (pos == len)
            break;
        out->words[out->word_count++] = text + pos;
        while (pos < len && text[pos] != ' ' && text[pos] != '\t')
            pos++;
        text[pos] = 0; /* text[len] is the terminator: pos <= len */
        pos++;
    }
}

void script_parse_line(const char *line, size_t len, script_line *out) {
    const char *hash = len ? memchr(line, '#', len) : NULL;
    size_t start = 0, end = hash ? (size_t)(hash - line) : len;
    out->kind = SCRIPT_BLANK;
    out->error = out->detail = out->data_hex = NULL;
    out->apdu_len = out->data_len = 0;
    out->check_sw = out->check_data = out->data_prefix = false;
    out->sw[0] = 0;
    out->word_count = 0;
    out->text[0] = 0;
    while (start < end && is_space(line[start]))
        start++;
    while (end > start && is_space(line[end - 1]))
        end--;
    if (end - start > SCRIPT_LINE_MAX) {
        bad(out, "line longer than %s bytes", STR(SCRIPT_LINE_MAX));
        goto out;
    }
    if (end == start)
        goto out;
    memcpy(out->text, line + start, end - start);
    out->text[end - start] = 0;
    if (out->text[0] == '.')
        parse_directive(out, end - start);
    else
        parse_apdu(out, end - start);
out:
    return;
}
