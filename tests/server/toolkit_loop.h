/*
 * What the whole-loop tests of issue 14 share (test_http_sync_toolkit.c, the terminal as
 * a subprocess; test_http_sync_toolkit_later.c, the terminal's toolkit and the card in
 * this process; S6, S7, S9): the real `seam server` on a fresh store with the device
 * enrolled, the terminal's device-management database with three records, and a card
 * image holding apps/devmgmt personalized over SCP03 (by `seam card script`) with a
 * policy whose target is the server's /sync/changeset and whose device id is the
 * enrolled IMEI.
 */
#ifndef SEAM_TESTS_SERVER_TOOLKIT_LOOP_H
#define SEAM_TESTS_SERVER_TOOLKIT_LOOP_H

#include "sync_wire.h"

#define LOOP_IMEI DEV_A

/* The server, the terminal's database and the card image of one test. */
typedef struct {
    server_proc srv;
    char dir[160], dm[192], image[192];
    const char *db; /* the database URI on both sides (NULL: ./devinfo; ./card adds carddb) */
} toolkit_loop;

static inline const char *loop_build_dir(void) {
    const char *b = getenv("SEAM_BUILD_DIR");
    return b ? b : "build/release";
}

/* Runs the shell command; its exit status. */
static inline int loop_run(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static inline void loop_hex_of(const char *s, char *out) {
    for (size_t i = 0; s[i]; i++)
        sprintf(out + 2 * i, "%02X", (unsigned char)s[i]);
}

/* A card image with devmgmt and its policy: each location change (03) asks for a sync
   (threshold 1), ask first, the server's changeset endpoint, l->db on both sides, the
   device "IMEI:<the IMEI the server enrolled>", then extra_hex (more policy TLVs, e.g.
   DF1A / DF1B; "" for none); with ./card also apps/carddb (Global Registry, privileges
   00 04 00), the card's own database (S8). */
static inline void loop_make_card(toolkit_loop *l, const char *extra_hex) {
    char url[96], url_hex[200], imei_hex[64], db_hex[64], script[224];
    const char *db = l->db ? l->db : SEAM_SYNC_DEVINFO;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", (unsigned)l->srv.port);
    loop_hex_of(url, url_hex);
    loop_hex_of("IMEI:" LOOP_IMEI, imei_hex); /* docs/toolkit.md's form; the server's id */
    loop_hex_of(db, db_hex);
    assert_int_equal(
        loop_run("'%s/seam' card new --image '%s' >/dev/null", loop_build_dir(), l->image), 0);
    snprintf(script, sizeof script, "%s/devmgmt.script", l->dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fprintf(fp,
            "00A4040008A000000151000000 00 => 9000\n"
            ".scp03 level=03\n"
            ".install %s/apps/devmgmt.wasm\n"
            ".store-data DF100103DF110101DF150101DF13%02X%sDF14%02X%s"
            "DF16%02X%sDF17%02X%s%s tlv perso=A0000005444D01\n",
            loop_build_dir(), (unsigned)strlen(url), url_hex, (unsigned)strlen(db), db_hex,
            (unsigned)strlen(db), db_hex, (unsigned)strlen("IMEI:" LOOP_IMEI), imei_hex, extra_hex);
    if (!strcmp(db, SEAM_SYNC_CARD))
        fprintf(fp, ".install %s/apps/carddb.wasm privileges=000400\n", loop_build_dir());
    fclose(fp);
    assert_int_equal(loop_run("'%s/seam' card script --image '%s' '%s' >'%s/script.out' 2>&1",
                              loop_build_dir(), l->image, script, l->dir),
                     0);
}

/* The server up on a fresh store of the backend under test, the device enrolled, the
   paths of the terminal's database and the card image named, the database holding the
   imei (no card made yet). */
static inline void loop_serve(toolkit_loop *l) {
    const char *url = backend_fresh_url();
    assert_non_null(url);
    server_folder(&l->srv, strdup(url));
    server_spawn(&l->srv, 0);
    snprintf(l->dir, sizeof l->dir, "%s/..", l->srv.dir);
    snprintf(l->dm, sizeof l->dm, "%s/dm.db", l->dir);
    snprintf(l->image, sizeof l->image, "%s/handset.db", l->dir);
    enrol(&l->srv, LOOP_IMEI, SECRET_A);
    dm_put(l->dm, "imei", LOOP_IMEI);
}

/* loop_serve, then the terminal's database (imei, ringtone "classic", language "fi"),
   the card made with extra_hex in its policy. */
static inline void loop_open(toolkit_loop *l, const char *extra_hex) {
    loop_serve(l);
    dm_put(l->dm, "ringtone", "classic");
    dm_put(l->dm, "language", "fi");
    loop_make_card(l, extra_hex);
}

/* Stops the server and removes what loop_serve (or loop_open) made. */
static inline void loop_close(toolkit_loop *l) {
    server_kill(&l->srv);
    free((char *)l->srv.db);
    remove(l->dm);
    server_folder_remove(&l->srv);
}

/* ---- the terminal's link to the card opened in this process ----
   The ops of a link whose ctx is the card's own link (the card_link of the test's
   struct): each passes to it; the test writes only its transmit (which may cut the link
   or kill the terminal), finding its struct with LOOP_OWNER. */

#define LOOP_OWNER(type, ctx) ((type *)(void *)((char *)(ctx)-offsetof(type, card_link)))

static inline seam_err loop_link_power_on(void *ctx, uint8_t *atr, size_t atr_size,
                                          size_t *atr_len) {
    return seam_gp_link_power_on(ctx, atr, atr_size, atr_len);
}

static inline seam_err loop_link_reset(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    return seam_gp_link_reset(ctx, atr, atr_size, atr_len);
}

static inline seam_err loop_link_power_off(void *ctx) {
    return seam_gp_link_power_off(ctx);
}

static inline void loop_link_close(void *ctx) {
    (void)ctx;
}

#endif
