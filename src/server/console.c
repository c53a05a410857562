/*
 * The console's two routes (console.h): they answer the embedded files with the
 * headers that keep a page from doing more than the console needs. The policy
 * lets the page load its own scripts, styles and images and talk to this server
 * only: no inline script or style, no other origin, no framing, no form posts
 * (the pages send JSON with fetch). Every answer says no-cache so a new binary's
 * console is what the browser runs after a restart.
 */
#include "console.h"

#include <stdlib.h>
#include <string.h>

#define CONSOLE_POLICY                                                                             \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* The embedded file called name, or NULL. */
static const seam_console_asset *find(const char *name) {
    for (unsigned i = 0; i < seam_console_asset_count; i++)
        if (!strcmp(seam_console_assets[i].name, name))
            return &seam_console_assets[i];
    return NULL;
}

/* The Content-Type for a file called name (by its extension). */
static const char *content_type(const char *name) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* Fills res with the file (a copy: the core frees the body) or a 404. */
static void answer(seam_srv_response *res, const seam_console_asset *a) {
    if (!a) {
        seam_srv_error(res, 404, "not_found", "no such console file");
        return;
    }
    res->body = malloc(a->len ? a->len : 1);
    if (!res->body) {
        seam_srv_error(res, 500, "internal", "out of memory");
        return;
    }
    memcpy(res->body, a->data, a->len);
    res->body_len = a->len;
    res->status = 200;
    res->content_type = content_type(a->name);
    if (!seam_srv_header(res, "Content-Security-Policy", CONSOLE_POLICY) ||
        !seam_srv_header(res, "X-Content-Type-Options", "nosniff") ||
        !seam_srv_header(res, "Referrer-Policy", "no-referrer") ||
        !seam_srv_header(res, "Cache-Control", "no-cache")) {
        free(res->body);
        res->body = NULL;
        res->body_len = 0;
        res->header_count = 0;
        seam_srv_error(res, 500, "internal", "console headers do not fit");
    }
}

void seam_console_index(struct seam_server *srv, const seam_srv_request *req,
                        seam_srv_response *res) {
    (void)srv;
    (void)req;
    answer(res, find("index.html"));
}

void seam_console_file(struct seam_server *srv, const seam_srv_request *req,
                       seam_srv_response *res) {
    (void)srv;
    answer(res, find(req->params[0]));
}
