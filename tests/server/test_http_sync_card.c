/*
 * The card's own database synchronized by the terminal (issue 14, S8, S6, S10;
 * docs/sync.md "./card"): a card image made with `seam card script` holding
 * apps/carddb (Global Registry) and the purse, `seam terminal sync --database ./card
 * --image` against the real `seam server` (changeset protocol). The server's copy
 * gets the card's packages and instances; a server change to a card fact is refused
 * and the card is unchanged; a server change to a writable parameter reaches the card.
 */
#define _GNU_SOURCE
#include "toolkit_loop.h"

#define IMEI LOOP_IMEI

/* The server, the terminal's database and the card image (no policy: db unused). */
typedef toolkit_loop fixture;

/* A card with carddb (Global Registry, privileges 00 04 00) and the purse. */
static void make_card(fixture *f) {
    char script[224];
    assert_int_equal(
        loop_run("'%s/seam' card new --image '%s' >/dev/null", loop_build_dir(), f->image), 0);
    snprintf(script, sizeof script, "%s/carddb.script", f->dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fprintf(fp,
            "00A4040008A000000151000000 00 => 9000\n"
            ".scp03 level=03\n"
            ".install %s/apps/carddb.wasm privileges=000400\n"
            ".install %s/apps/purse.wasm params=0431323334\n",
            loop_build_dir(), loop_build_dir());
    fclose(fp);
    assert_int_equal(loop_run("'%s/seam' card script --image '%s' '%s' >'%s/script.out' 2>&1",
                              loop_build_dir(), f->image, script, f->dir),
                     0);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    loop_serve(f);
    make_card(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    loop_close(f);
    free(f);
    return 0;
}

/* `seam terminal sync --database ./card --image` over protocol (changeset or omads, each to
   its endpoint of seam server); its exit status. */
static int card_sync_over(fixture *f, const char *protocol) {
    int rc = loop_run("'%s/seam' terminal sync --server http://127.0.0.1:%u/sync/%s "
                      "--protocol %s --database ./card --image '%s' --dm '%s' --device %s "
                      "--password %s >>'%s/sync.out' 2>&1",
                      loop_build_dir(), (unsigned)f->srv.port, protocol, protocol, f->image, f->dm,
                      IMEI, SECRET_A, f->dir);
    if (rc)
        loop_run("cat '%s/sync.out' >&2", f->dir); /* what the terminal said, for the failure */
    return rc;
}

static int card_sync(fixture *f) {
    return card_sync_over(f, "changeset");
}

static uint64_t dm_digest_of(const char *path, const char *uri) {
    seam_sync_db *db = NULL;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    uint64_t h = records_digest(db, uri);
    seam_sync_close(db);
    return h;
}

static bool copy_card_has(const server_proc *s, const char *key, const char *value) {
    seam_sync_db *db = server_copy(s, IMEI, SEAM_SYNC_CARD);
    seam_sync_record r;
    bool yes = seam_sync_get(db, SEAM_SYNC_CARD, key, &r) == SEAM_OK && !strcmp(r.value, value);
    seam_sync_close(db);
    return yes;
}

/* A fresh terminal database reads the card again over protocol: its param.label is
   label. */
static void fresh_read_has_label(fixture *f, const char *protocol, const char *label) {
    remove(f->dm);
    dm_put(f->dm, "imei", IMEI);
    assert_int_equal(card_sync_over(f, protocol), 0);
    seam_sync_db *db = NULL;
    seam_sync_record r;
    assert_int_equal(seam_sync_open(f->dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_CARD, "param.label", &r), SEAM_OK);
    assert_string_equal(r.value, label);
    seam_sync_close(db);
}

/* The card's registry as `seam card list` shows it, as text: the card's digest here. */
static void card_listing(fixture *f, char *out, size_t cap) {
    char path[224];
    snprintf(path, sizeof path, "%s/list.out", f->dir);
    assert_int_equal(
        loop_run("'%s/seam' card list --image '%s' >'%s' 2>&1", loop_build_dir(), f->image, path),
        0);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(out, 1, cap - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

#define ISD "A000000151000000"

/* Fails on a ./card value holding the purse's PIN, as text or as hex. */
static int no_pin(void *ctx, const seam_sync_record *r) {
    (void)ctx;
    assert_null(strstr(r->value, "1234"));
    assert_null(strstr(r->value, "31323334"));
    return 0;
}

static void s8_terminal_reads_the_card_into_card_and_syncs_it_S8_S6(void **state) {
    fixture *f = *state;
    assert_int_equal(card_sync(f), 0);
    /* the terminal's ./card and the server's copy: the card's packages and instances */
    assert_int_equal(dm_digest_of(f->dm, SEAM_SYNC_CARD),
                     server_digest(&f->srv, IMEI, SEAM_SYNC_CARD));
    assert_true(copy_card_has(&f->srv, "domain." ISD, "lifecycle=0F"));
    assert_true(copy_card_has(&f->srv, "package.A00000055055", "version=1.0 sd=" ISD));
    assert_true(copy_card_has(&f->srv, "instance.A0000005505501",
                              "version=1.0 lifecycle=07 package=A00000055055 sd=" ISD));
    assert_true(copy_card_has(&f->srv, "restore.A0000005434401",
                              "owner=" ISD " package=A00000054344 bytes=0"));
    /* the purse's record is there by its size; its PIN (1234) is in no ./card value */
    seam_sync_db *copy = server_copy(&f->srv, IMEI, SEAM_SYNC_CARD);
    seam_sync_record rec;
    assert_int_equal(seam_sync_get(copy, SEAM_SYNC_CARD, "restore.A0000005505501", &rec), SEAM_OK);
    assert_true(!strncmp(rec.value, "owner=" ISD " package=A00000055055 bytes=", 49));
    assert_int_equal(seam_sync_list(copy, SEAM_SYNC_CARD, no_pin, NULL), SEAM_OK);
    seam_sync_close(copy);
    /* and ./apps holds the card's instances as kind card with their package version */
    seam_sync_db *db = NULL;
    seam_sync_record r;
    assert_int_equal(seam_sync_open(f->dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, "A0000005505501", &r), SEAM_OK);
    assert_int_equal(r.kind, SEAM_SYNC_KIND_CARD);
    assert_string_equal(r.version, "1.0");
    seam_sync_close(db);
}

static void s8_a_server_change_to_a_card_fact_is_refused_S8(void **state) {
    fixture *f = *state;
    char before[8192], after[8192];
    assert_int_equal(card_sync(f), 0);
    card_listing(f, before, sizeof before);
    seam_store *st = store_of(&f->srv);
    assert_int_equal(seam_store_record_put(st, IMEI, "admin", SEAM_SYNC_CARD,
                                           "package.A00000055055", "version=9.9", 11),
                     SEAM_OK);
    seam_store_close(st);
    assert_int_equal(card_sync(f), 0);
    assert_true(copy_card_has(&f->srv, "package.A00000055055", "version=1.0 sd=" ISD));
    assert_int_equal(dm_digest_of(f->dm, SEAM_SYNC_CARD),
                     server_digest(&f->srv, IMEI, SEAM_SYNC_CARD));
    card_listing(f, after, sizeof after);
    assert_string_equal(before, after); /* the card is unchanged */
}

static void s8_a_server_change_to_a_parameter_reaches_the_card_S8(void **state) {
    fixture *f = *state;
    assert_int_equal(card_sync(f), 0);
    seam_store *st = store_of(&f->srv);
    assert_int_equal(
        seam_store_record_put(st, IMEI, "admin", SEAM_SYNC_CARD, "param.label", "Anna", 4),
        SEAM_OK);
    seam_store_close(st);
    assert_int_equal(card_sync(f), 0);
    /* a fresh terminal database reads the card again: the label is on the card */
    fresh_read_has_label(f, "changeset", "Anna");
}

/* Over OMA DS the server's endpoint does not refuse a change to a card fact: the terminal
   puts the card's value back and synchronizes once more, so both sides end on the card's
   facts and the card is unchanged (S8, docs/sync.md "./card"). */
static void s8_over_omads_a_server_change_to_a_card_fact_is_put_back_S8(void **state) {
    fixture *f = *state;
    char before[8192], after[8192];
    assert_int_equal(card_sync_over(f, "omads"), 0);
    assert_true(copy_card_has(&f->srv, "package.A00000055055", "version=1.0 sd=" ISD));
    card_listing(f, before, sizeof before);
    seam_store *st = store_of(&f->srv);
    assert_int_equal(seam_store_record_put(st, IMEI, "admin", SEAM_SYNC_CARD,
                                           "package.A00000055055", "version=9.9", 11),
                     SEAM_OK);
    seam_store_close(st);
    assert_int_equal(card_sync_over(f, "omads"), 0);
    assert_true(copy_card_has(&f->srv, "package.A00000055055", "version=1.0 sd=" ISD));
    assert_int_equal(dm_digest_of(f->dm, SEAM_SYNC_CARD),
                     server_digest(&f->srv, IMEI, SEAM_SYNC_CARD));
    card_listing(f, after, sizeof after);
    assert_string_equal(before, after); /* no fact reached the card */
    /* a parameter does: a fresh terminal database reads it from the card */
    st = store_of(&f->srv);
    assert_int_equal(
        seam_store_record_put(st, IMEI, "admin", SEAM_SYNC_CARD, "param.label", "Bo", 2), SEAM_OK);
    seam_store_close(st);
    assert_int_equal(card_sync_over(f, "omads"), 0);
    fresh_read_has_label(f, "omads", "Bo");
}

int main(int argc, char **argv) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(s8_terminal_reads_the_card_into_card_and_syncs_it_S8_S6),
        T(s8_a_server_change_to_a_card_fact_is_refused_S8),
        T(s8_a_server_change_to_a_parameter_reaches_the_card_S8),
        T(s8_over_omads_a_server_change_to_a_card_fact_is_put_back_S8),
    };
    return sync_tests_main(argc, argv, NULL, tests, sizeof tests / sizeof *tests);
}
