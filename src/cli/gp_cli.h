/*
 * `seam gp` (docs/gp.md), internal to src/cli: the options and connection
 * every action shares (gp.c) and the printing of listings and traces
 * (gp_show.c).
 */
#ifndef SEAM_CLI_GP_H
#define SEAM_CLI_GP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/gp.h"

/* Everything the command line said. */
typedef struct {
    const char *image, *reader;
    seam_gp_aid sd; /* --sd / --domain: the security domain to work through */
    seam_gp_keys keys;
    uint8_t kvn, level;
    bool trace, json, secure, force, hash, load_only, card, dgi, tlv, encrypt, help;
    seam_gp_aid aid, module, perso;
    uint8_t privileges[3];
    size_t privileges_len;
    uint8_t params[1024];
    size_t params_len;
    bool has_params;
    seam_gp_keys new_keys;
    bool has_new_keys;
    int new_kvn, replace; /* -1: not given */
    const char *positional[64];
    int positional_count;
} gp_options;

/* One connected session. */
typedef struct {
    gp_options *o;
    seam_gp_link link;
    seam_gp *gp;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len;
} gp_session;

/* Opens the link the options name, powers the card on, makes the session; returns -1
   when connected, else the exit status (the message printed). */
int gp_connect(gp_session *s, const char *action);

/* Selects the security domain (--sd) and opens the secure channel; -1 when open. */
int gp_open_channel(gp_session *s, const char *action);

/* Prints "seam gp ACTION: WHAT answered SW (words)" and returns 1. */
int gp_refused(const char *action, const char *what, uint16_t sw);

/* Reads a whole file (the caller frees it); NULL with a message. */
uint8_t *gp_read_file(const char *action, const char *path, size_t *len);

/* Reads a file and checks it is a seam package, before anything is sent. */
uint8_t *gp_read_package(const char *action, const char *path, size_t *len, seam_gp_package *pkg);

/* Runs action on s (its options parsed); returns the exit status. */
int gp_run_action(gp_session *s, const char *action);

/* Prints one traced APDU to stderr (a seam_gp_trace_fn). */
void gp_show_trace(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len);

/* Prints bytes as upper-case hex to stdout. */
void gp_show_hex(const uint8_t *b, size_t n);

/* Lists the registry (seam_gp_list) as text or JSON; returns the exit status. */
int gp_show_list(gp_session *s);

/* Prints ATR, card data, CPLC, key information, IIN, CIN, counter; returns the exit status. */
int gp_show_info(gp_session *s);

#endif
