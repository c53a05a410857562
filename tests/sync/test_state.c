/*
 * A peer's sync state as bytes (seam_sync_state_export / _import; docs/sync.md
 * "Over HTTP"): a server that rebuilds its copy for every message (as seam
 * server does from its store) syncs exactly as one that keeps the file, and a
 * state cut or corrupted at any byte is refused with nothing changed (S6, X4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sync_test.h"

static int copy_record(void *ctx, const seam_sync_record *rec) {
    assert_int_equal(seam_sync_put(ctx, SEAM_SYNC_DEVINFO, rec), SEAM_OK);
    return 0;
}

/* A fresh in-memory database holding from's records of ./devinfo and its state for the client. */
static seam_sync_db *rebuild(seam_sync_db *from) {
    seam_sync_db *to = NULL;
    uint8_t *state = NULL;
    size_t len = 0;
    assert_int_equal(seam_sync_open(":memory:", &to), SEAM_OK);
    assert_int_equal(seam_sync_list(from, SEAM_SYNC_DEVINFO, copy_record, to), SEAM_OK);
    assert_int_equal(seam_sync_state_export(from, CLIENT_ID, SEAM_SYNC_DEVINFO, &state, &len),
                     SEAM_OK);
    assert_int_equal(seam_sync_state_import(to, CLIENT_ID, SEAM_SYNC_DEVINFO, state, len), SEAM_OK);
    free(state);
    return to;
}

static void server_rebuilt_from_exported_state_syncs_as_the_file_does_S6(void **state) {
    (void)state;
    sync_scratch s;
    scratch_make(&s);
    seam_sync_db *client = open_db(&s, "client.db"), *server = open_db(&s, "server.db");
    seam_sync_record r = devinfo("ringtone", "classic");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    r = devinfo("model", "3310");
    assert_int_equal(seam_sync_put(server, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    seam_sync_result res;
    for (int round = 0; round < 4; round++) {
        seam_sync_db *copy = rebuild(server);
        assert_int_equal(fingerprint(copy), fingerprint(server)); /* records, bases, anchors */
        char value[16];
        snprintf(value, sizeof value, "v%d", round);
        r = devinfo("language", value);
        assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
        assert_int_equal(run_sync(client, copy, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &res),
                         SEAM_OK);
        /* only the first sync is slow: the anchors and the base came across */
        assert_int_equal(res.type, round == 0 ? SEAM_SYNC_SLOW : SEAM_SYNC_TWO_WAY);
        assert_int_equal(records_of(client, SEAM_SYNC_DEVINFO),
                         records_of(copy, SEAM_SYNC_DEVINFO));
        seam_sync_close(server);
        server = copy;
    }
    /* the state of a peer never synced is empty, and importing it clears that peer */
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(seam_sync_state_export(server, "nobody", SEAM_SYNC_DEVINFO, &blob, &len),
                     SEAM_OK);
    assert_int_equal(seam_sync_state_import(server, CLIENT_ID, SEAM_SYNC_DEVINFO, blob, len),
                     SEAM_OK);
    free(blob);
    assert_int_equal(run_sync(client, server, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, &res), SEAM_OK);
    assert_int_equal(res.type, SEAM_SYNC_SLOW);
    seam_sync_close(client);
    seam_sync_close(server);
    scratch_remove(&s);
}

static void state_cut_or_corrupted_is_refused_and_changes_nothing_X4(void **state) {
    (void)state;
    sync_scratch s;
    scratch_make(&s);
    seam_sync_db *client = open_db(&s, "client.db"), *server = open_db(&s, "server.db");
    seam_sync_record r = devinfo("ringtone", "classic");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    assert_int_equal(run_sync(client, server, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL), SEAM_OK);
    r = devinfo("language", "fr");
    assert_int_equal(seam_sync_put(client, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    assert_int_equal(run_sync(client, server, SEAM_SYNC_DEVINFO, SEAM_SYNC_TWO_WAY, NULL), SEAM_OK);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(seam_sync_state_export(server, CLIENT_ID, SEAM_SYNC_DEVINFO, &blob, &len),
                     SEAM_OK);
    uint64_t before = fingerprint(server);
    for (size_t cut = 1; cut < len; cut++)
        assert_int_equal(seam_sync_state_import(server, CLIENT_ID, SEAM_SYNC_DEVINFO, blob, cut),
                         SEAM_ERR_SYNC_FRAME);
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(seam_sync_state_import(server, CLIENT_ID, SEAM_SYNC_DEVINFO, longer, len + 1),
                     SEAM_ERR_SYNC_FRAME);
    longer[0] ^= 1;
    assert_int_equal(seam_sync_state_import(server, CLIENT_ID, SEAM_SYNC_DEVINFO, longer, len),
                     SEAM_ERR_SYNC_FRAME);
    free(longer);
    assert_int_equal(fingerprint(server), before);
    assert_int_equal(seam_sync_state_import(server, CLIENT_ID, "./nothing", blob, len),
                     SEAM_ERR_SYNC_URI);
    free(blob);
    seam_sync_close(client);
    seam_sync_close(server);
    scratch_remove(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_rebuilt_from_exported_state_syncs_as_the_file_does_S6),
        cmocka_unit_test(state_cut_or_corrupted_is_refused_and_changes_nothing_X4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
