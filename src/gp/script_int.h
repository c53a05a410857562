/*
 * Internal to the gp layer: card scripts (docs/card-script.md). The line
 * parser (script_parse.c) turns one line into a script_line with every
 * argument checked and decoded, without I/O or allocation, so that it can be
 * fuzzed (fuzz/script_fuzz.c); the runner (script.c) reads the files a
 * directive names and acts on the result.
 */
#ifndef SEAM_GP_SCRIPT_INT_H
#define SEAM_GP_SCRIPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/gp.h"

#define SCRIPT_LINE_MAX   8192             /* longest line, bytes, its newline included */
#define SCRIPT_APDU_MAX   SEAM_GP_APDU_MAX /* longest command APDU, bytes */
#define SCRIPT_DATA_MAX   4096u            /* longest expected response data, bytes */
#define SCRIPT_PARAMS_MAX 1024u            /* .install params= (the value of C9), bytes */
#define SCRIPT_STORE_MAX  4096u            /* .store-data HEX, bytes */
#define SCRIPT_WORDS_MAX  16               /* words of a directive, its name included */
#define SCRIPT_ERROR_MAX  320              /* a parse error's message, NUL included */

typedef enum {
    SCRIPT_BLANK,     /* empty, spaces or a comment only */
    SCRIPT_APDU,      /* APDU [=> SW [DATA[*]]] */
    SCRIPT_DIRECTIVE, /* .name [arguments] [=> SW] */
    SCRIPT_BAD,       /* not a valid line: error says why */
} script_kind;

typedef enum {
    DIRECTIVE_SCP03,
    DIRECTIVE_PUTKEY,
    DIRECTIVE_LOAD,
    DIRECTIVE_INSTALL,
    DIRECTIVE_DELETE,
    DIRECTIVE_UPGRADE,
    DIRECTIVE_STORE_DATA,
    DIRECTIVE_TRAFFIC,
    DIRECTIVE_POWER,
} script_directive;

/* A directive's arguments, decoded; what a directive does not take stays zero. */
typedef struct {
    script_directive which;
    const char *name;    /* ".scp03", ...: points into the line's text */
    uint8_t level, kvn;  /* .scp03 level= kvn=; .putkey kvn= (the set replaced) */
    uint8_t new_kvn;     /* .putkey new= */
    seam_gp_keys keys;   /* .scp03 key= (default the test key); .putkey key= */
    const char *file;    /* .load, .install, .upgrade FILE: points into the text */
    seam_gp_aid aid;     /* .install aid=, .delete AID */
    seam_gp_aid module;  /* .install module= */
    seam_gp_aid package; /* .install package= (an ELF already on the card) */
    seam_gp_aid domain;  /* .load / .install domain=: INSTALL [for load]'s SD */
    seam_gp_aid old;     /* .upgrade old=: the package upgraded */
    seam_gp_aid perso;   /* .store-data perso=: INSTALL [for personalization] first */
    uint8_t privileges[3];
    size_t privileges_len; /* .install privileges=: 0, 1 or 3 */
    uint8_t params[SCRIPT_PARAMS_MAX];
    size_t params_len; /* .install params= */
    bool hash;         /* .load / .install hash: the load file data block hash */
    bool related;      /* .delete related: with what depends on it (P2 80) */
    uint8_t store_p1;  /* .store-data: the format and encryption bits */
    uint8_t store[SCRIPT_STORE_MAX];
    size_t store_len; /* .store-data HEX */
} script_args;

/* One parsed line; every pointer points into text. */
typedef struct {
    script_kind kind;
    char error[SCRIPT_ERROR_MAX]; /* SCRIPT_BAD: the message, without file and line */
    uint8_t apdu[SCRIPT_APDU_MAX];
    size_t apdu_len;
    bool check_sw;        /* "=> SW" given (always for a directive: default 9000) */
    char sw[5];           /* 4 characters, each a hex digit or x/X (any nibble) */
    bool check_data;      /* DATA given after the SW */
    bool data_prefix;     /* DATA ended with '*': a prefix of the response */
    const char *data_hex; /* DATA as written, for messages */
    uint8_t data[SCRIPT_DATA_MAX];
    size_t data_len;
    script_args args;               /* SCRIPT_DIRECTIVE */
    char *words[SCRIPT_WORDS_MAX];  /* SCRIPT_DIRECTIVE: words[0] is ".name" */
    int word_count;                 /* ... and how many there are */
    char text[SCRIPT_LINE_MAX + 1]; /* the line without its comment and outer spaces */
} script_line;

/* Parses line[0..len) (never reading past len; NUL is an ordinary byte) into *out:
   its kind, and for an APDU or a directive every argument checked and decoded. */
void script_parse_line(const char *line, size_t len, script_line *out);

/* True when sw matches the pattern (4 characters; x or X matches any nibble). */
bool script_sw_matches(uint16_t sw, const char *pattern);

#endif
