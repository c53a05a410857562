/*
 * What the operator's console reads and does through the store (docs/server.md, issue 16):
 * pausing, resuming and cancelling a campaign, a campaign's totals and the store's health
 * figures. Run against every backend: `test_server_store_console sqlite|postgresql`.
 * "Changes nothing" is checked on seam_store_digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/crypto.h"
#include "server/store.h"
#include "server/store_backend.h"

static uint8_t master[SEAM_STORE_MASTER_KEY_SIZE];

static seam_store_id cin_n(int n) {
    seam_store_id id = {.len = 8};
    memcpy(id.bytes, "CIN\0\0\0\0\0", 8);
    id.bytes[6] = (uint8_t)(n >> 8);
    id.bytes[7] = (uint8_t)n;
    return id;
}

static seam_store *open_fresh(void) {
    seam_store *s = NULL;
    assert_int_equal(seam_store_open(backend_fresh_url(), master, &s), SEAM_OK);
    return s;
}

/* n cards and a created campaign over all of them; its id. */
static int64_t campaign_over(seam_store *s, int n) {
    for (int i = 0; i < n; i++) {
        seam_store_card card = {.cin = cin_n(i), .iin = {.len = 3, .bytes = {0x42, 0, 1}}};
        assert_int_equal(seam_store_card_put(s, &card), SEAM_OK);
    }
    seam_store_campaign c = {.kind = SEAM_STORE_UPDATE,
                             .package_aid = {.len = 6, .bytes = {0xA0, 0, 0, 6, 0x47, 1}},
                             .package_version = 0x0200};
    seam_store_id cins[16];
    for (int i = 0; i < n; i++)
        cins[i] = cin_n(i);
    assert_int_equal(seam_store_campaign_create(s, &c, cins, (size_t)n), SEAM_OK);
    return c.id;
}

static seam_store_campaign_state state_of(seam_store *s, int64_t id) {
    seam_store_campaign c;
    assert_int_equal(seam_store_campaign_get(s, id, &c), SEAM_OK);
    return c.state;
}

/* A move that is not allowed is refused and changes nothing. */
static void refused(seam_store *s, int64_t id, seam_store_campaign_state to) {
    uint8_t before[32], after[32];
    assert_int_equal(seam_store_digest(s, before), SEAM_OK);
    assert_int_equal(seam_store_campaign_set_state(s, id, to), SEAM_ERR_SERVER_CONFLICT);
    assert_int_equal(seam_store_digest(s, after), SEAM_OK);
    assert_memory_equal(before, after, 32);
}

static void paused_campaign_is_not_claimed_and_its_running_step_finishes(void **state) {
    (void)state;
    seam_store *s = open_fresh();
    int64_t id = campaign_over(s, 3);
    refused(s, id, SEAM_STORE_CAMPAIGN_PAUSED); /* created: only a running one pauses */
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    seam_store_target t;
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    seam_store_id running = t.cin;
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_PAUSED), SEAM_OK);
    assert_int_equal(state_of(s, id), SEAM_STORE_CAMPAIGN_PAUSED);
    refused(s, id, SEAM_STORE_CAMPAIGN_PAUSED);

    /* paused: nothing more is claimed, not even a step whose server died */
    uint8_t before[32], after[32];
    assert_int_equal(seam_store_digest(s, before), SEAM_OK);
    assert_int_equal(seam_store_claim(s, NULL, "srv-b", 1000, 60, &t), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_claim(s, NULL, "srv-b", 99999, 60, &t), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_digest(s, after), SEAM_OK);
    assert_memory_equal(before, after, 32);
    /* the step already running finishes */
    assert_int_equal(seam_store_target_finish(s, id, &running, "srv-a", true, NULL), SEAM_OK);
    assert_int_equal(state_of(s, id), SEAM_STORE_CAMPAIGN_PAUSED);

    /* resumed: work is claimed again */
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    refused(s, id, SEAM_STORE_CAMPAIGN_RUNNING);
    assert_int_equal(seam_store_claim(s, NULL, "srv-b", 1000, 60, &t), SEAM_OK);

    /* cancelled while paused: the pending target fails with reason cancelled, logged */
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_PAUSED), SEAM_OK);
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_CANCELLED), SEAM_OK);
    refused(s, id, SEAM_STORE_CAMPAIGN_RUNNING);
    refused(s, id, SEAM_STORE_CAMPAIGN_PAUSED);
    refused(s, id, SEAM_STORE_CAMPAIGN_CANCELLED);
    seam_store_campaign_totals tot;
    assert_int_equal(seam_store_campaign_totals_get(s, id, &tot), SEAM_OK);
    assert_int_equal(tot.pending, 0);
    assert_int_equal(tot.running, 1); /* claimed before the pause: it still finishes */
    assert_int_equal(tot.done, 1);
    assert_int_equal(tot.failed, 1);
    seam_store_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(seam_store_campaign_events(s, id, &evs, &n), SEAM_OK);
    assert_int_equal(n, 4); /* claimed, done, claimed, failed (cancelled) */
    assert_string_equal(evs[3].kind, "failed");
    assert_string_equal(evs[3].message, "cancelled");
    free(evs);
    seam_store_close(s);
}

static void resumed_campaign_with_nothing_left_is_done(void **state) {
    (void)state;
    seam_store *s = open_fresh();
    int64_t id = campaign_over(s, 1);
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    seam_store_target t;
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_PAUSED), SEAM_OK);
    assert_int_equal(seam_store_target_finish(s, id, &t.cin, "srv-a", true, NULL), SEAM_OK);
    assert_int_equal(state_of(s, id), SEAM_STORE_CAMPAIGN_PAUSED);
    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    assert_int_equal(state_of(s, id), SEAM_STORE_CAMPAIGN_DONE);
    refused(s, id, SEAM_STORE_CAMPAIGN_PAUSED);
    refused(s, id, SEAM_STORE_CAMPAIGN_CANCELLED);
    seam_store_close(s);
}

static void campaign_totals_and_health_count_what_the_store_holds_P1(void **state) {
    (void)state;
    seam_store *s = open_fresh();
    int64_t id = campaign_over(s, 4);
    seam_store_health h;
    assert_int_equal(seam_store_health_get(s, 0, &h), SEAM_OK);
    assert_int_equal(h.campaigns[SEAM_STORE_CAMPAIGN_CREATED], 1);
    assert_int_equal(h.pending, 0); /* a created campaign queues nothing */
    assert_int_equal(h.sessions_since, 0);
    seam_store_campaign_totals tot;
    assert_int_equal(seam_store_campaign_totals_get(s, id, &tot), SEAM_OK);
    assert_int_equal(tot.pending, 4);
    assert_int_equal(tot.bytes.request + tot.bytes.response, 0);
    seam_store_campaign c;
    assert_int_equal(seam_store_campaign_get(s, id, &c), SEAM_OK);
    assert_int_equal(tot.updated, c.created); /* no event yet */

    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    seam_store_target t;
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    seam_store_bytes b = {.campaign = id, .cin = t.cin, .step = "update"};
    b.bytes = (seam_store_counts){.request = 100, .response = 2000, .perso = 0};
    assert_int_equal(seam_store_bytes_add(s, &b), SEAM_OK);
    b.cin = cin_n(3);
    b.bytes = (seam_store_counts){.request = 7, .response = 30, .perso = 5};
    assert_int_equal(seam_store_bytes_add(s, &b), SEAM_OK);
    seam_store_session sess = {.cin = t.cin, .campaign = id, .step = "update"};
    assert_int_equal(seam_store_session_create(s, &sess), SEAM_OK);

    assert_int_equal(seam_store_campaign_totals_get(s, id, &tot), SEAM_OK);
    assert_int_equal(tot.pending, 3);
    assert_int_equal(tot.running, 1);
    assert_int_equal(tot.bytes.request, 107);
    assert_int_equal(tot.bytes.response, 2030);
    assert_int_equal(tot.bytes.perso, 5);
    assert_true(tot.updated >= c.created);
    assert_int_equal(seam_store_health_get(s, 0, &h), SEAM_OK);
    assert_int_equal(h.campaigns[SEAM_STORE_CAMPAIGN_CREATED], 0);
    assert_int_equal(h.campaigns[SEAM_STORE_CAMPAIGN_RUNNING], 1);
    assert_int_equal(h.pending, 3);
    assert_int_equal(h.running, 1);
    assert_int_equal(h.paused, 0);
    assert_int_equal(h.sessions_since, 1);
    assert_int_equal(seam_store_health_get(s, sess.created + 1, &h), SEAM_OK);
    assert_int_equal(h.sessions_since, 0); /* created before `since` */

    assert_int_equal(seam_store_campaign_set_state(s, id, SEAM_STORE_CAMPAIGN_PAUSED), SEAM_OK);
    assert_int_equal(seam_store_health_get(s, 0, &h), SEAM_OK);
    assert_int_equal(h.campaigns[SEAM_STORE_CAMPAIGN_PAUSED], 1);
    assert_int_equal(h.pending, 0);
    assert_int_equal(h.running, 0);
    assert_int_equal(h.paused, 3);
    assert_int_equal(seam_store_campaign_totals_get(s, id + 1, &tot), SEAM_ERR_NOT_FOUND);
    seam_store_close(s);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    assert_int_equal(seam_crypto_random_fresh(master, sizeof master), SEAM_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paused_campaign_is_not_claimed_and_its_running_step_finishes),
        cmocka_unit_test(resumed_campaign_with_nothing_left_is_done),
        cmocka_unit_test(campaign_totals_and_health_count_what_the_store_holds_P1),
    };
    char group[64];
    snprintf(group, sizeof group, "console store on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
