/*
 * What the server's HTTP tests share: a real `seam server` started in this
 * process on 127.0.0.1 with a port the system chooses, in a fresh server
 * folder, and libcurl to talk to it as any client would.
 */
#ifndef SEAM_TESTS_SERVER_HTTP_TEST_H
#define SEAM_TESTS_SERVER_HTTP_TEST_H

#define _XOPEN_SOURCE 700 /* nftw */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <ftw.h>
#include <unistd.h>

#include "seam/server.h"
#include "server/store.h"

typedef struct {
    char dir[64];
    char token[SEAM_SERVER_TOKEN_SIZE];
    seam_server *server;
    uint16_t port;
} http_fixture;

typedef struct {
    long status;
    char *body; /* NUL-terminated; free() it */
    size_t len;
    char headers[2048]; /* the response's header lines, as received */
} http_reply;

static size_t http_test_collect(char *p, size_t size, size_t n, void *cls) {
    http_reply *r = cls;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + r->len, p, size * n);
    r->len += size * n;
    grown[r->len] = '\0';
    r->body = grown;
    return size * n;
}

static size_t http_test_header(char *p, size_t size, size_t n, void *cls) {
    http_reply *r = cls;
    size_t used = strlen(r->headers);
    if (used + size * n < sizeof r->headers)
        memcpy(r->headers + used, p, size * n), r->headers[used + size * n] = '\0';
    return size * n;
}

/* Starts a fresh server; returns 0 (cmocka setup). */
__attribute__((unused)) static int http_setup(void **state) {
    http_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/seam-http-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char sub[96];
    snprintf(sub, sizeof sub, "%s/srv", f->dir);
    memmove(f->dir, sub, strlen(sub) + 1);
    assert_int_equal(seam_server_init(f->dir, f->token), SEAM_OK);
    seam_server_options o = {.dir = f->dir, .listen = "127.0.0.1:0"};
    assert_int_equal(seam_server_start(&o, &f->server), SEAM_OK);
    f->port = seam_server_port(f->server);
    assert_true(f->port != 0);
    *state = f;
    return 0;
}

static int http_test_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

__attribute__((unused)) static int http_teardown(void **state) {
    http_fixture *f = *state;
    seam_server_stop(f->server);
    char *slash = strrchr(f->dir, '/');
    *slash = '\0'; /* the mkdtemp folder */
    nftw(f->dir, http_test_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/*
 * Sends one request: method, path, the header lines in headers (NULL-terminated,
 * may be NULL), body[0..len) (NULL: none); with_token adds the bearer token.
 */
static http_reply http_call(http_fixture *f, const char *method, const char *path,
                            const char *const *headers, const void *body, size_t len,
                            int with_token) {
    http_reply r;
    memset(&r, 0, sizeof r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256], auth[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)f->port, path);
    struct curl_slist *list = NULL;
    if (with_token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", f->token);
        list = curl_slist_append(list, auth);
    }
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_test_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_test_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    if (!r.body) {
        r.body = calloc(1, 1);
        assert_non_null(r.body);
    }
    return r;
}

/* A JSON request with the token. */
__attribute__((unused)) static http_reply http_json(http_fixture *f, const char *method,
                                                    const char *path, const char *json) {
    static const char *const h[] = {"Content-Type: application/json", NULL};
    return http_call(f, method, path, h, json, json ? strlen(json) : 0, 1);
}

/* True when the reply is the JSON error with this stable code. */
__attribute__((unused)) static int http_is_error(const http_reply *r, long status,
                                                 const char *code) {
    char want[96];
    snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",", code);
    return r->status == status && !strncmp(r->body, want, strlen(want));
}

/* A second handle on the server's store (its folder's master key and database): close it. */
__attribute__((unused)) static seam_store *http_store_open(http_fixture *f) {
    char key_path[128], db[128];
    snprintf(key_path, sizeof key_path, "%s/master.key", f->dir);
    snprintf(db, sizeof db, "%s/server.db", f->dir);
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
    seam_store *s = NULL;
    assert_int_equal(seam_store_open(db, key, &s), SEAM_OK);
    return s;
}

/* The digest of every row of the server's store, read through a second handle. */
__attribute__((unused)) static void http_store_digest(http_fixture *f, uint8_t digest[32]) {
    seam_store *s = http_store_open(f);
    assert_int_equal(seam_store_digest(s, digest), SEAM_OK);
    seam_store_close(s);
}

/* Reads the whole file at path, NUL-terminated (not counted); *len its size. */
__attribute__((unused)) static uint8_t *http_read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    assert_true(n >= 0);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* Reads a whole file (a package from the build's apps/); *len its size. */
__attribute__((unused)) static uint8_t *http_read_app(const char *name, size_t *len) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/apps/%s", build ? build : "build/release", name);
    return http_read_file(path, len);
}

#endif
