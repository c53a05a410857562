/*
 * What the OMA DS over HTTP tests share: a real `seam server` in this process on the
 * backend under test (sqlite or postgresql, tests/server/store_backend.h), a second store
 * handle on the same database to look at (and tamper with) the device copies, and the
 * terminal's device-management databases in the same temporary folder.
 */
#ifndef SEAM_TESTS_SERVER_OMADS_FIXTURE_H
#define SEAM_TESTS_SERVER_OMADS_FIXTURE_H

#define _XOPEN_SOURCE 700 /* nftw */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <unistd.h>

#include "seam/server.h"
#include "seam/sync.h"
#include "seam/terminal.h"
#include "server/store.h"
#include "store_backend.h"

#define SECRET_A "secret-of-device-A"
#define SECRET_B "secret-of-device-B"

typedef struct {
    char root[64];
    char dir[96];
    char db_url[512];
    char token[SEAM_SERVER_TOKEN_SIZE];
    seam_server *server;
    seam_store *store; /* a handle of the test's own on the server's database */
    char url[128];     /* http://127.0.0.1:PORT/sync/omads */
    char term_a[128], term_b[128];
} omads_fx;

__attribute__((unused)) static int omads_setup(void **state) {
    omads_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/seam-omads-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/srv", f->root);
    snprintf(f->db_url, sizeof f->db_url, "%s", backend_fresh_url());
    assert_int_equal(seam_server_init_db(f->dir, f->db_url, NULL, 0, f->token), SEAM_OK);
    seam_server_options o = {.dir = f->dir, .db_url = f->db_url, .listen = "127.0.0.1:0"};
    assert_int_equal(seam_server_start(&o, &f->server), SEAM_OK);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/sync/omads",
             (unsigned)seam_server_port(f->server));
    char key_path[160];
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    snprintf(key_path, sizeof key_path, "%s/master.key", f->dir);
    assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
    assert_int_equal(seam_store_open(f->db_url, key, &f->store), SEAM_OK);
    assert_int_equal(seam_store_device_secret_put(f->store, "A", SECRET_A, NULL), SEAM_OK);
    assert_int_equal(seam_store_device_secret_put(f->store, "B", SECRET_B, NULL), SEAM_OK);
    snprintf(f->term_a, sizeof f->term_a, "%s/term-a.db", f->root);
    snprintf(f->term_b, sizeof f->term_b, "%s/term-b.db", f->root);
    *state = f;
    return 0;
}

static int omads_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

__attribute__((unused)) static int omads_teardown(void **state) {
    omads_fx *f = *state;
    seam_server_stop(f->server);
    seam_store_close(f->store);
    nftw(f->root, omads_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* One synchronization of the terminal database path as device, with user/password. */
__attribute__((unused)) static seam_terminal_sync_outcome
omads_sync(omads_fx *f, const char *path, const char *device, const char *user,
           const char *password, const char *uri, seam_sync_type type, uint32_t max_msg) {
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_OMADS,
                                      .type = type,
                                      .dm_path = path,
                                      .device_id = device,
                                      .source_uri = uri,
                                      .server_url = f->url,
                                      .user = user,
                                      .password = password,
                                      .max_msg_size = max_msg};
    seam_terminal_sync_outcome out;
    assert_int_equal(seam_terminal_sync_omads(&req, &out), SEAM_OK);
    return out;
}

/* Device A's sync with its own credentials. */
__attribute__((unused)) static seam_terminal_sync_outcome omads_sync_a(omads_fx *f, const char *uri,
                                                                       seam_sync_type type) {
    return omads_sync(f, f->term_a, "A", "A", SECRET_A, uri, type, 0);
}

__attribute__((unused)) static void term_put(const char *path, const char *uri, const char *key,
                                             const char *value, const char *version) {
    seam_sync_db *db;
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", value);
    if (version) {
        r.kind = SEAM_SYNC_KIND_CARD;
        snprintf(r.version, sizeof r.version, "%s", version);
        r.size = 1000;
    }
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    assert_int_equal(seam_sync_put(db, uri, &r), SEAM_OK);
    seam_sync_close(db);
}

__attribute__((unused)) static void term_del(const char *path, const char *uri, const char *key) {
    seam_sync_db *db;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    assert_int_equal(seam_sync_delete(db, uri, key), SEAM_OK);
    seam_sync_close(db);
}

typedef struct {
    const char *uri;
    char *text;
    size_t len, cap;
} listing;

static void listing_add(listing *l, const char *key, const char *content, size_t n) {
    size_t need = l->len + strlen(key) + n + 4;
    if (need > l->cap) {
        l->cap = need * 2;
        l->text = realloc(l->text, l->cap);
        assert_non_null(l->text);
    }
    l->len += (size_t)sprintf(l->text + l->len, "%s=", key);
    memcpy(l->text + l->len, content, n);
    l->len += n;
    l->text[l->len++] = '|';
    l->text[l->len] = '\0';
}

static int listing_each(void *ctx, const seam_sync_record *rec) {
    listing *l = ctx;
    char text[SEAM_SYNC_TEXT_MAX + 1];
    size_t n = 0;
    assert_int_equal(seam_sync_record_format(l->uri, rec, text, sizeof text, &n), SEAM_OK);
    listing_add(l, rec->key, text, n);
    return 0;
}

/* The terminal's records of uri as "key=text|..." in key order (malloc'd). */
__attribute__((unused)) static char *term_records(const char *path, const char *uri) {
    seam_sync_db *db;
    listing l = {uri, calloc(1, 1), 0, 1};
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    assert_int_equal(seam_sync_list(db, uri, listing_each, &l), SEAM_OK);
    seam_sync_close(db);
    return l.text;
}

static int by_key(const void *a, const void *b) {
    return strcmp(((const seam_store_record *)a)->key, ((const seam_store_record *)b)->key);
}

/* The server's live records of device's uri in the same form (malloc'd; "" when none). */
__attribute__((unused)) static char *server_records(omads_fx *f, const char *device,
                                                    const char *uri) {
    seam_store_record *items = NULL;
    size_t count = 0;
    listing l = {uri, calloc(1, 1), 0, 1};
    seam_err e =
        seam_store_record_list(f->store, device, 0, SEAM_STORE_RECORDS_MAX, &items, &count);
    if (e == SEAM_ERR_NOT_FOUND)
        return l.text;
    assert_int_equal(e, SEAM_OK);
    qsort(items, count, sizeof *items, by_key);
    for (size_t i = 0; i < count; i++)
        if (!items[i].deleted && !strcmp(items[i].uri, uri))
            listing_add(&l, items[i].key, items[i].content, items[i].content_len);
    free(items);
    return l.text;
}

/* Asserts that the terminal at path and the server's copy of device hold the same records of uri,
   and returns how many there are. */
__attribute__((unused)) static size_t assert_converged(omads_fx *f, const char *path,
                                                       const char *device, const char *uri) {
    char *t = term_records(path, uri), *s = server_records(f, device, uri);
    assert_string_equal(t, s);
    size_t n = 0;
    for (const char *p = t; *p; p++)
        n += *p == '|';
    free(t);
    free(s);
    return n;
}

#endif
