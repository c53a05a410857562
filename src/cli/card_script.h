/*
 * The line parser of `seam card script` (docs/card-script.md), apart from the
 * runner so that it can be fuzzed (fuzz/script_fuzz.c). Internal to src/cli.
 */
#ifndef SEAM_CLI_CARD_SCRIPT_H
#define SEAM_CLI_CARD_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/card.h"

#define SCRIPT_LINE_MAX  8192 /* longest line, bytes, its newline included */
#define SCRIPT_APDU_MAX  300  /* longest command APDU, bytes */
#define SCRIPT_WORDS_MAX 16   /* words of a directive kept; more are ignored */

typedef enum {
    SCRIPT_BLANK,     /* empty, spaces or a comment only */
    SCRIPT_APDU,      /* APDU [=> SW [DATA[*]]] */
    SCRIPT_DIRECTIVE, /* .name word ... */
    SCRIPT_BAD,       /* not a valid line: error and detail say why */
} script_kind;

/* One parsed line; every pointer points into text. */
typedef struct {
    script_kind kind;
    const char *error;  /* SCRIPT_BAD: a printf format with one %s ... */
    const char *detail; /* ... and its argument */
    uint8_t apdu[SCRIPT_APDU_MAX];
    size_t apdu_len;
    bool check_sw;        /* "=> SW" given */
    char sw[5];           /* 4 characters, each a hex digit or x/X (any nibble) */
    bool check_data;      /* DATA given after the SW */
    bool data_prefix;     /* DATA ended with '*': a prefix of the response */
    const char *data_hex; /* DATA as written, for messages */
    uint8_t data[SEAM_CARD_RESPONSE_MAX];
    size_t data_len;
    char *words[SCRIPT_WORDS_MAX]; /* SCRIPT_DIRECTIVE: words[0] is ".name" */
    int word_count;
    char text[SCRIPT_LINE_MAX + 1]; /* the line without its comment and outer spaces */
} script_line;

/* Parses line[0..len) (never reading past len; NUL is an ordinary byte) into *out. */
void script_parse_line(const char *line, size_t len, script_line *out);

#endif
