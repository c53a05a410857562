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

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(slow_then_two_way_carries_changes_both_ways_S6, omads_setup,
                                        omads_teardown),
    };
    char group[64];
    snprintf(group, sizeof group, "OMA DS over HTTP on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
