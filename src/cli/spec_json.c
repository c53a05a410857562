/*
 * JSON for `seam wasm spec` (spec_json.h): the NUL-keeping rewrite of JSON
 * strings before cJSON parses them, the decoding of names after, and the
 * runner's accessors of command members.
 */
#include "spec_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The code of U+0000 and U+0001 inside strings: the escape \u0001, then a digit. */
#define ESCAPE_ONE  "\\u0001"
#define CODE_MARK   '\1'
#define CODE_OF_NUL '0'
#define CODE_OF_ONE '1'

/* Writes n bytes at out + at (when out is not NULL, i.e. not only measuring); returns at + n. */
static size_t put(char *out, size_t at, const char *bytes, size_t n) {
    if (out)
        memcpy(out + at, bytes, n);
    return at + n;
}

/* Writes the code of U+0000 (digit '0') or U+0001 (digit '1'). */
static size_t put_code(char *out, size_t at, char digit) {
    at = put(out, at, ESCAPE_ONE, sizeof ESCAPE_ONE - 1);
    return put(out, at, &digit, 1);
}

/*
 * Rewrites text[0..len) into out (NULL: only measures) and returns the length
 * of the result. Outside strings the text is copied as it is; a string starts
 * and ends with an unescaped '"'; an escape is a backslash and the character
 * after it, so "\\u0000" (an escaped backslash, then u0000) is left alone.
 */
static size_t rewrite(const char *text, size_t len, char *out) {
    size_t at = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!in_string) {
            in_string = c == '"';
            at = put(out, at, &c, 1);
        } else if (c == '"') {
            in_string = false;
            at = put(out, at, &c, 1);
        } else if (c == '\0' || c == '\1') {
            at = put_code(out, at, c == '\0' ? CODE_OF_NUL : CODE_OF_ONE);
        } else if (c == '\\' && i + 5 < len && text[i + 1] == 'u' &&
                   !memcmp(text + i + 2, "000", 3) && (text[i + 5] == '0' || text[i + 5] == '1')) {
            at = put_code(out, at, text[i + 5] == '0' ? CODE_OF_NUL : CODE_OF_ONE);
            i += 5;
        } else if (c == '\\' && i + 1 < len) {
            at = put(out, at, text + i, 2);
            i++;
        } else {
            at = put(out, at, &c, 1);
        }
    }
    return at;
}

cJSON *spec_json_parse(const char *text, size_t len) {
    size_t size = rewrite(text, len, NULL);
    char *coded = malloc(size + 1);
    cJSON *root = NULL;
    if (coded) {
        rewrite(text, len, coded);
        coded[size] = 0;
        root = cJSON_ParseWithLength(coded, size);
        free(coded);
    }
    return root;
}

bool spec_json_name(const cJSON *object, const char *key, spec_name *out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    const char *coded = cJSON_IsString(item) ? item->valuestring : "";
    size_t n = strlen(coded), len = 0;
    out->len = 0;
    out->bytes = malloc(n + 1); /* decoding only shortens */
    if (!out->bytes)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (coded[i] == CODE_MARK && i + 1 < n &&
            (coded[i + 1] == CODE_OF_NUL || coded[i + 1] == CODE_OF_ONE)) {
            out->bytes[len++] = coded[i + 1] == CODE_OF_NUL ? '\0' : '\1';
            i++;
        } else {
            out->bytes[len++] = coded[i];
        }
    }
    out->len = len;
    return true;
}

seam_wasm_name spec_name_view(const spec_name *name) {
    return (seam_wasm_name){name->bytes, name->len};
}

const char *spec_json_name_text(const cJSON *object, const char *key, char *buf, size_t size) {
    spec_name name;
    if (spec_json_name(object, key, &name))
        seam_wasm_name_print(buf, size, spec_name_view(&name));
    else
        snprintf(buf, size, "(out of memory)");
    free(name.bytes);
    return buf;
}

const char *spec_json_string(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : "";
}

long spec_json_line(const cJSON *cmd) {
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(cmd, "line");
    return cJSON_IsNumber(line) ? (long)line->valuedouble : 0;
}
