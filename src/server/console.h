/*
 * The operator's console (issue 16, docs/console.md), internal to the server layer:
 * the files of console/ as the build embedded them (console_embed.cmake) and the two
 * routes that answer them, GET / (index.html) and GET /console/{file}. The files are
 * public; everything they show comes from the admin API behind the bearer token.
 */
#ifndef SEAM_SERVER_CONSOLE_H
#define SEAM_SERVER_CONSOLE_H

#include <stddef.h>

#include "http.h"

/* One embedded file: its name in console/ and its bytes. */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t len;
} seam_console_asset;

/* The embedded files, sorted by name, ended by a {0} entry (generated at build time). */
extern const seam_console_asset seam_console_assets[];
extern const unsigned seam_console_asset_count;

/* GET /: the console's index.html. */
void seam_console_index(struct seam_server *srv, const seam_srv_request *req,
                        seam_srv_response *res);

/* GET /console/{file}: one embedded file, 404 not_found for any other name. */
void seam_console_file(struct seam_server *srv, const seam_srv_request *req,
                       seam_srv_response *res);

#endif
