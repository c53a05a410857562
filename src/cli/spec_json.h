/*
 * JSON for `seam wasm spec`: cJSON, with names kept as exact byte strings.
 *
 * cJSON hands out NUL-terminated strings, so a name written "\u0000" would
 * lose its length (and "" and "\u0000" would be the same). spec_json_parse
 * therefore rewrites the text before cJSON sees it: inside every JSON string,
 * the character U+0000 (escaped \u0000, or a raw 00 byte) becomes the two
 * characters 01 '0', and U+0001 (\u0001 or a raw 01 byte) becomes 01 '1', both
 * written as the escape \u0001 followed by the digit. Nothing else changes, so
 * cJSON still decodes every other escape, surrogate pair and raw UTF-8 byte.
 * spec_json_name undoes the code. The code is one-to-one on string contents,
 * so a decoded name holds exactly the bytes its JSON string denotes.
 */
#ifndef SEAM_CLI_SPEC_JSON_H
#define SEAM_CLI_SPEC_JSON_H

#include <stddef.h>

#include <cJSON.h>

#include "seam/wasm.h"

/* A name decoded from the JSON text; bytes is the holder's, to free with free(). */
typedef struct {
    char *bytes;
    size_t len;
} spec_name;

/* Parses text[0..len) with the NUL-keeping rewrite above; NULL when malformed or out of memory. */
cJSON *spec_json_parse(const char *text, size_t len);

/* The string member key of object as exact bytes (an absent member is the empty name);
   false when out of memory. Free out->bytes afterwards. */
bool spec_json_name(const cJSON *object, const char *key, spec_name *out);

/* The engine's view of a decoded name (borrowing its bytes). */
seam_wasm_name spec_name_view(const spec_name *name);

/* Writes the name member key of object for people (NUL and non-ASCII bytes as \hh); returns buf. */
const char *spec_json_name_text(const cJSON *object, const char *key, char *buf, size_t size);

/* The string member key of object (not a name: cut at a NUL), or "" when absent or not a string. */
const char *spec_json_string(const cJSON *object, const char *key);

/* The member "line" of a command, or 0. */
long spec_json_line(const cJSON *cmd);

#endif
