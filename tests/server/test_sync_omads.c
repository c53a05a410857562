/*
 * OMA DS over HTTP, end to end in one process (docs/sync.md "OMA DS over HTTP"): the
 * terminal's seam_terminal_sync_omads against `seam server`'s POST /sync/omads on the
 * backend named by argv[1] (sqlite or postgresql): every sync type, the anchors, the
 * conflict policy, credentials and the device boundary (S6, X4, X5).
 */
#include "omads_fixture.h"

#define DEVINFO SEAM_SYNC_DEVINFO
#define APPS    SEAM_SYNC_APPS

/* The first sync is slow (201) and brings the terminal's records to the server, with history
   naming the session; then two-way syncs carry changes both ways. */
static void slow_then_two_way_carries_changes_both_ways_S6(void **state) {
    omads_fx *f = *state;
    term_put(f->term_a, DEVINFO, "imei", "356938035643809", NULL);
    term_put(f->term_a, DEVINFO, "language", "en", NULL);
    term_put(f->term_a, DEVINFO, "cin", "0102030405060708", NULL);
    seam_terminal_sync_outcome o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_SLOW);
    assert_int_equal(o.counts.sent, 3);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 3);
    seam_store_device d;
    assert_int_equal(seam_store_device_get(f->store, "A", &d), SEAM_OK);
    assert_int_equal(d.cin.len, 8); /* the CIN reached the server for proposals (S10) */
    seam_store_history *h = NULL;
    size_t n = 0;
    assert_int_equal(seam_store_history_list(f->store, "A", &h, &n), SEAM_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(h[0].session, "omads:", 6);
    free(h);

    /* a change on each side, then a two-way sync */
    term_put(f->term_a, DEVINFO, "ringtone", "bells", NULL);
    term_del(f->term_a, DEVINFO, "language");
    assert_int_equal(seam_store_record_put(f->store, "A", "admin", DEVINFO, "firmware", "2.1", 3),
                     SEAM_OK);
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.counts.sent, 2);
    assert_int_equal(o.counts.received, 1);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 4);

    /* nothing changed: nothing travels */
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.sent + o.counts.received, 0);
}

/* The server keeps a change of its own: admin edits of the device's copy. */
static void server_put(omads_fx *f, const char *uri, const char *key, const char *text) {
    assert_int_equal(seam_store_record_put(f->store, "A", "admin", uri, key, text, strlen(text)),
                     SEAM_OK);
}

static bool term_has(omads_fx *f, const char *uri, const char *key) {
    char *t = term_records(f->term_a, uri);
    char want[160], bar[162];
    snprintf(want, sizeof want, "%s=", key);
    snprintf(bar, sizeof bar, "|%s=", key);
    bool found = !strncmp(t, want, strlen(want)) || strstr(t, bar) != NULL;
    free(t);
    return found;
}

static bool server_has(omads_fx *f, const char *uri, const char *key) {
    char *t = server_records(f, "A", uri);
    char want[160], bar[162];
    snprintf(want, sizeof want, "%s=", key);
    snprintf(bar, sizeof bar, "|%s=", key);
    bool found = !strncmp(t, want, strlen(want)) || strstr(t, bar) != NULL;
    free(t);
    return found;
}

static void first_sync(omads_fx *f) {
    term_put(f->term_a, DEVINFO, "imei", "356938035643809", NULL);
    term_put(f->term_a, DEVINFO, "language", "en", NULL);
    seam_terminal_sync_outcome o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 2);
}

/* 202 and 204 carry one side's changes and keep the other's for later; 203 and 205 make one
   side the copy of the other; 201 on request merges without duplicates. */
static void every_sync_type_200_to_205_S6(void **state) {
    omads_fx *f = *state;
    first_sync(f);

    term_put(f->term_a, DEVINFO, "language", "fr", NULL);
    server_put(f, DEVINFO, "firmware", "2.1");
    seam_terminal_sync_outcome o = omads_sync_a(f, DEVINFO, SEAM_SYNC_ONE_WAY_FROM_CLIENT);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_ONE_WAY_FROM_CLIENT);
    assert_int_equal(o.counts.received, 0);
    assert_false(term_has(f, DEVINFO, "firmware")); /* the server's change waits */
    char *srv = server_records(f, "A", DEVINFO);
    assert_non_null(strstr(srv, "language=fr|"));
    free(srv);

    term_put(f->term_a, DEVINFO, "ringtone", "bells", NULL);
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_ONE_WAY_FROM_SERVER);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_ONE_WAY_FROM_SERVER);
    assert_int_equal(o.counts.sent, 0);
    assert_true(term_has(f, DEVINFO, "firmware"));
    assert_false(server_has(f, DEVINFO, "ringtone")); /* the terminal's change waits */

    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY); /* what waited goes now */
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 4);

    server_put(f, DEVINFO, "junk", "x");
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_REFRESH_FROM_CLIENT);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_REFRESH_FROM_CLIENT);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 4); /* junk is gone */

    term_put(f->term_a, DEVINFO, "local", "y", NULL);
    server_put(f, DEVINFO, "model", "seam-1");
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_REFRESH_FROM_SERVER);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_REFRESH_FROM_SERVER);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 5); /* local is gone */
    assert_true(term_has(f, DEVINFO, "model"));

    term_put(f->term_a, DEVINFO, "language", "de", NULL);
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_SLOW);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_SLOW);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 5); /* no duplicates */
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.counts.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.counts.sent + o.counts.received, 0);
}

/* Anchors that disagree (the server's copy restored from a backup, a lost reply) turn a
   two-way sync into a slow one, which converges without duplicating anything. */
static void anchor_mismatch_falls_back_to_slow_sync_S6(void **state) {
    omads_fx *f = *state;
    first_sync(f);
    seam_store_anchor a;
    assert_int_equal(seam_store_anchor_get(f->store, "A", DEVINFO, &a), SEAM_OK);
    snprintf(a.peer_last, sizeof a.peer_last, "999-restored");
    assert_int_equal(seam_store_anchor_put(f->store, "A", DEVINFO, &a), SEAM_OK);
    term_put(f->term_a, DEVINFO, "ringtone", "bells", NULL);
    seam_terminal_sync_outcome o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.type, SEAM_SYNC_SLOW);
    assert_int_equal(o.counts.slow_fallback, 1);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 3);
    o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.counts.type, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.counts.sent + o.counts.received, 0);
}

/* The conflict policy of docs/sync.md, as the adapter's hook applies it: ./devinfo the
   terminal wins; ./apps the higher version, a tie the server; a modify beats a delete. */
static void conflicts_follow_the_policy_S6(void **state) {
    omads_fx *f = *state;
    first_sync(f);
    term_put(f->term_a, APPS, "A0000000041010", "purse", "1.0");
    term_put(f->term_a, APPS, "com.example.snake", "Snake", "1.0");
    term_put(f->term_a, APPS, "com.example.chess", "Chess", "1.0");
    assert_int_equal(omads_sync_a(f, APPS, SEAM_SYNC_TWO_WAY).failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(assert_converged(f, f->term_a, "A", APPS), 3);

    term_put(f->term_a, DEVINFO, "language", "de", NULL);
    server_put(f, DEVINFO, "language", "fr");
    term_del(f->term_a, DEVINFO, "imei");
    server_put(f, DEVINFO, "imei", "356938035643810");
    seam_terminal_sync_outcome o = omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 2);
    char *t = term_records(f->term_a, DEVINFO);
    assert_string_equal(t, "imei=356938035643810|language=de|"); /* terminal; the modify */
    free(t);

    term_put(f->term_a, APPS, "A0000000041010", "purse", "1.2"); /* higher: the terminal's */
    server_put(f, APPS, "A0000000041010", "name: purse\nkind: card\nversion: 1.1\nsize: 1000\n");
    term_put(f->term_a, APPS, "com.example.snake", "Snake", "2.0"); /* lower: the server's */
    server_put(f, APPS, "com.example.snake", "name: Snake\nkind: card\nversion: 3.0\nsize: 1000\n");
    term_put(f->term_a, APPS, "com.example.chess", "Chess T", "1.5"); /* a tie: the server's */
    server_put(f, APPS, "com.example.chess",
               "name: Chess S\nkind: card\nversion: 1.5\nsize: 1000\n");
    o = omads_sync_a(f, APPS, SEAM_SYNC_TWO_WAY);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.conflicts_server, 2); /* the terminal is told of its two losses */
    assert_int_equal(assert_converged(f, f->term_a, "A", APPS), 3);
    t = term_records(f->term_a, APPS);
    assert_non_null(strstr(t, "A0000000041010=name: purse\nkind: card\nversion: 1.2\n"));
    assert_non_null(strstr(t, "com.example.snake=name: Snake\nkind: card\nversion: 3.0\n"));
    assert_non_null(strstr(t, "com.example.chess=name: Chess S\n"));
    free(t);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    seam_terminal_global_init();
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(slow_then_two_way_carries_changes_both_ways_S6, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(every_sync_type_200_to_205_S6, omads_setup, omads_teardown),
        cmocka_unit_test_setup_teardown(anchor_mismatch_falls_back_to_slow_sync_S6, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(conflicts_follow_the_policy_S6, omads_setup,
                                        omads_teardown),
    };
    char group[64];
    snprintf(group, sizeof group, "OMA DS over HTTP on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
