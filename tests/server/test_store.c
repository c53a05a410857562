/*
 * The server's store (src/server/store.h), X5: one suite, run against every backend —
 * `test_server_store sqlite` and `test_server_store postgresql` (a PostgreSQL server of
 * its own, see store_backend.h). "Changes nothing" is checked on seam_store_digest, a
 * digest of every row of every table.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seam/crypto.h"
#include "server/store.h"
#include "server/store_backend.h"

static uint8_t master[SEAM_STORE_MASTER_KEY_SIZE];
static const char *backend_name;

static seam_store_id id_of(const char *hex_like, size_t len) {
    seam_store_id id = {.len = len};
    memcpy(id.bytes, hex_like, len);
    return id;
}

static seam_store_id cin_n(int n) {
    seam_store_id id = {.len = 8};
    memcpy(id.bytes, "CIN\0\0\0\0\0", 8);
    id.bytes[6] = (uint8_t)(n >> 8);
    id.bytes[7] = (uint8_t)n;
    return id;
}

static seam_store *open_fresh(char *url_out, size_t cap) {
    const char *url = backend_fresh_url();
    assert_non_null(url);
    if (url_out)
        snprintf(url_out, cap, "%s", url);
    seam_store *s = NULL;
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    return s;
}

static void add_cards(seam_store *s, int n) {
    for (int i = 0; i < n; i++) {
        seam_store_card card = {.cin = cin_n(i), .iin = id_of("\x42\x00\x01", 3)};
        assert_int_equal(seam_store_card_put(s, &card), SEAM_OK);
    }
}

static int64_t start_campaign(seam_store *s, seam_store_kind kind, int first, int n) {
    seam_store_campaign c = {.kind = kind,
                             .package_aid = id_of("\xA0\x00\x00\x06\x47\x01", 6),
                             .package_version = 0x0200};
    snprintf(c.params, sizeof c.params, "{\"instance\":\"A0000006470101\"}");
    seam_store_id cins[64];
    for (int i = 0; i < n; i++)
        cins[i] = cin_n(first + i);
    assert_int_equal(seam_store_campaign_create(s, &c, cins, (size_t)n), SEAM_OK);
    assert_true(c.id > 0);
    assert_int_equal(seam_store_campaign_set_state(s, c.id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    return c.id;
}

static void digest(seam_store *s, uint8_t d[32]) {
    assert_int_equal(seam_store_digest(s, d), SEAM_OK);
}

/* ---- round trips ---- */

static void store_round_trips_every_record_X5(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    char value[64];
    assert_int_equal(seam_store_setting_put(s, "admin_token_sha256", "ab12"), SEAM_OK);
    assert_int_equal(seam_store_setting_put(s, "admin_token_sha256", "cd34"), SEAM_OK);
    assert_int_equal(seam_store_setting_get(s, "admin_token_sha256", value, sizeof value), SEAM_OK);
    assert_string_equal(value, "cd34");
    assert_int_equal(seam_store_setting_get(s, "nothing", value, sizeof value), SEAM_ERR_NOT_FOUND);

    seam_store_id aid = id_of("\xA0\x00\x00\x06\x47\x01", 6);
    uint8_t module[300];
    for (size_t i = 0; i < sizeof module; i++)
        module[i] = (uint8_t)(i * 7);
    assert_int_equal(seam_store_package_put(s, &aid, 0x0100, module, sizeof module), SEAM_OK);
    assert_int_equal(seam_store_package_put(s, &aid, 0x0200, module, 10), SEAM_OK);
    assert_int_equal(seam_store_package_put(s, &aid, 0x0100, module, 5), SEAM_ERR_SERVER_CONFLICT);
    seam_store_package info;
    uint8_t *got = NULL;
    assert_int_equal(seam_store_package_get(s, &aid, 0x0100, &info, &got), SEAM_OK);
    assert_int_equal(info.module_len, sizeof module);
    assert_memory_equal(got, module, sizeof module);
    assert_int_equal(info.version, 0x0100);
    free(got);
    seam_store_package *pkgs = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_package_list(s, &pkgs, &count), SEAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(pkgs[1].version, 0x0200);
    assert_int_equal(pkgs[1].module_len, 10);
    free(pkgs);

    add_cards(s, 2);
    seam_store_card card;
    seam_store_id cin = cin_n(1);
    assert_int_equal(seam_store_card_get(s, &cin, &card), SEAM_OK);
    assert_memory_equal(card.iin.bytes, "\x42\x00\x01", 3);
    assert_int_equal(seam_store_card_put(s, &(seam_store_card){.cin = cin}),
                     SEAM_ERR_SERVER_CONFLICT);

    seam_store_keyset ks = {
        .sd_aid = id_of("\xA0\x00\x00\x01\x51\x00\x00\x00", 8), .kvn = 0x30, .key_len = 16};
    memset(ks.enc, 0x11, 16), memset(ks.mac, 0x22, 16), memset(ks.dek, 0x33, 16);
    assert_int_equal(seam_store_keyset_put(s, &cin, &ks), SEAM_OK);
    ks.kvn = 0x31, ks.enc[0] = 0x99;
    assert_int_equal(seam_store_keyset_put(s, &cin, &ks), SEAM_OK);
    seam_store_keyset out;
    assert_int_equal(seam_store_keyset_get(s, &cin, &ks.sd_aid, 0, &out), SEAM_OK);
    assert_int_equal(out.kvn, 0x31);
    assert_memory_equal(out.enc, ks.enc, 16);
    assert_int_equal(seam_store_keyset_get(s, &cin, &ks.sd_aid, 0x30, &out), SEAM_OK);
    assert_int_equal(out.enc[0], 0x11);
    assert_memory_equal(out.dek, ks.dek, 16);
    seam_store_id unknown = cin_n(99);
    assert_int_equal(seam_store_keyset_put(s, &unknown, &ks), SEAM_ERR_NOT_FOUND);

    uint8_t *perso = NULL;
    size_t perso_len = 0;
    assert_int_equal(seam_store_perso_put(s, &cin, &aid, (const uint8_t *)"balance=100", 11),
                     SEAM_OK);
    assert_int_equal(seam_store_perso_get(s, &cin, &aid, &perso, &perso_len), SEAM_OK);
    assert_int_equal(perso_len, 11);
    assert_memory_equal(perso, "balance=100", 11);
    seam_store_free_secret(perso, perso_len);

    seam_store_event ev = {.cin = cin, .kind = "seen", .message = "first contact"};
    assert_int_equal(seam_store_event_add(s, &ev), SEAM_OK);
    seam_store_event *evs = NULL;
    assert_int_equal(seam_store_event_list(s, &cin, &evs, &count), SEAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(evs[0].message, "first contact");
    free(evs);

    seam_store_session ss = {
        .cin = cin, .step = "install", .round = 1, .expected_responses = 3, .context_len = 5};
    memcpy(ss.context, "scp03", 5);
    assert_int_equal(seam_store_session_create(s, &ss), SEAM_OK);
    assert_int_equal(strlen(ss.id), 32);
    seam_store_session back;
    assert_int_equal(seam_store_session_get(s, ss.id, &back), SEAM_OK);
    assert_int_equal(back.round, 1);
    assert_int_equal(back.expected_responses, 3);
    assert_int_equal(back.context_len, 5);
    assert_memory_equal(back.context, "scp03", 5);
    assert_string_equal(seam_store_backend(s), backend_name);
    seam_store_close(s);
}

/* ---- secrets at rest ---- */

static void store_secrets_not_in_clear_in_its_files_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    add_cards(s, 1);
    seam_store_id cin = cin_n(0), aid = id_of("\xA0\x00\x00\x06\x47\x01", 6);
    seam_store_keyset ks = {.sd_aid = aid, .kvn = 1, .key_len = 32};
    assert_int_equal(seam_crypto_random_fresh(ks.enc, 32), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(ks.mac, 32), SEAM_OK);
    assert_int_equal(seam_crypto_random_fresh(ks.dek, 32), SEAM_OK);
    uint8_t perso[48];
    assert_int_equal(seam_crypto_random_fresh(perso, sizeof perso), SEAM_OK);
    assert_int_equal(seam_store_keyset_put(s, &cin, &ks), SEAM_OK);
    assert_int_equal(seam_store_perso_put(s, &cin, &aid, perso, sizeof perso), SEAM_OK);
    /* the scan works: a package (not a secret) is found in clear */
    uint8_t module[48];
    assert_int_equal(seam_crypto_random_fresh(module, sizeof module), SEAM_OK);
    assert_int_equal(seam_store_package_put(s, &aid, 1, module, sizeof module), SEAM_OK);
    seam_store_close(s);
    assert_true(backend_files_contain(module, sizeof module));
    assert_false(backend_files_contain(ks.enc, 16));
    assert_false(backend_files_contain(ks.mac, 16));
    assert_false(backend_files_contain(ks.dek, 16));
    assert_false(backend_files_contain(perso, 16));
    assert_false(backend_files_contain(master, 16));
}

static void store_refuses_a_wrong_master_key_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    seam_store_close(s);
    uint8_t other[SEAM_STORE_MASTER_KEY_SIZE];
    memcpy(other, master, sizeof other);
    other[31] ^= 1;
    s = NULL;
    assert_int_equal(seam_store_open(url, other, &s), SEAM_ERR_SERVER_MASTER_KEY);
    assert_null(s);
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    seam_store_close(s);
    assert_int_equal(seam_store_open("mysql://localhost/seam", master, &s), SEAM_ERR_UNSUPPORTED);
    if (strncmp(url, "sqlite:", 7) == 0) {
        struct stat st;
        assert_int_equal(stat(url + 7, &st), 0);
        assert_int_equal(st.st_mode & 077, 0); /* the database file is private */
    }
}

/* A sealed value copied onto another row does not open there: the AAD binds the row. */
static void store_sealed_values_cannot_be_swapped_between_rows_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    add_cards(s, 2);
    seam_store_id a = cin_n(0), b = cin_n(1), aid = id_of("\xA0\x00\x00\x06\x47\x01", 6);
    assert_int_equal(seam_store_perso_put(s, &a, &aid, (const uint8_t *)"rich", 4), SEAM_OK);
    assert_int_equal(seam_store_perso_put(s, &b, &aid, (const uint8_t *)"poor", 4), SEAM_OK);
    seam_store_close(s);
    assert_int_equal(
        backend_sql(
            url,
            "UPDATE perso SET sealed = (SELECT sealed FROM perso p WHERE "
            "p.cin < perso.cin) WHERE cin = (SELECT cin FROM perso ORDER BY cin DESC LIMIT 1)"),
        0);
    assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(seam_store_perso_get(s, &b, &aid, &data, &len), SEAM_ERR_SERVER_MASTER_KEY);
    assert_null(data);
    seam_store_close(s);
}

static void store_master_key_file_is_private_and_never_overwritten(void **state) {
    (void)state;
    char dir[] = "/tmp/seam-master-key-XXXXXX", path[128], link_path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/master.key", dir);
    snprintf(link_path, sizeof link_path, "%s/link.key", dir);
    uint8_t key[32], again[32], loaded[32];
    assert_int_equal(seam_store_master_key_create(path, key), SEAM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(seam_store_master_key_create(path, again), SEAM_ERR_SERVER_KEY_EXISTS);
    assert_int_equal(seam_store_master_key_load(path, loaded), SEAM_OK);
    assert_memory_equal(loaded, key, 32);
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_equal(seam_store_master_key_create(link_path, again), SEAM_ERR_SERVER_KEY_EXISTS);
    assert_int_equal(seam_store_master_key_load(path, loaded), SEAM_OK);
    assert_memory_equal(loaded, key, 32); /* still the first key */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(seam_store_master_key_load(path, loaded), SEAM_ERR_SERVER_KEY_FILE);
    unlink(link_path);
    unlink(path);
    snprintf(path, sizeof path, "%s/none.key", dir);
    assert_int_equal(seam_store_master_key_load(path, loaded), SEAM_ERR_NOT_FOUND);
    rmdir(dir);
}

/* ---- campaigns and claims ---- */

static void store_claims_move_targets_only_forward_and_refusals_change_nothing_X5(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    add_cards(s, 3);
    seam_store_target t;
    uint8_t before[32], after[32];
    seam_store_id cins[2] = {cin_n(0), cin_n(1)};
    seam_store_campaign c = {.kind = SEAM_STORE_UPDATE,
                             .package_aid = id_of("\xA0\x00\x00\x06\x47\x01", 6)};
    assert_int_equal(seam_store_campaign_create(s, &c, cins, 2), SEAM_OK);

    /* a campaign not started yet: no work, nothing changed */
    digest(s, before);
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_ERR_NOT_FOUND);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    /* an unknown card, a duplicate target: refused whole */
    seam_store_id bad[2] = {cin_n(2), cin_n(50)}, dup[2] = {cin_n(2), cin_n(2)};
    seam_store_campaign c2 = c;
    assert_int_equal(seam_store_campaign_create(s, &c2, bad, 2), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_campaign_create(s, &c2, dup, 2), SEAM_ERR_ARG);
    digest(s, after);
    assert_memory_equal(before, after, 32);

    assert_int_equal(seam_store_campaign_set_state(s, c.id, SEAM_STORE_CAMPAIGN_RUNNING), SEAM_OK);
    assert_int_equal(seam_store_campaign_set_state(s, c.id, SEAM_STORE_CAMPAIGN_RUNNING),
                     SEAM_ERR_SERVER_CONFLICT);
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    assert_int_equal(t.state, SEAM_STORE_RUNNING);
    assert_string_equal(t.owner, "srv-a");
    assert_int_equal(t.lease_until, 1060);
    assert_int_equal(t.claims, 1);
    seam_store_id first = t.cin;

    /* another owner may not renew or finish it; finishing twice is refused */
    digest(s, before);
    assert_int_equal(seam_store_target_finish(s, c.id, &first, "srv-b", true, NULL),
                     SEAM_ERR_SERVER_CONFLICT);
    assert_int_equal(seam_store_target_renew(s, c.id, &first, "srv-b", 1000, 60),
                     SEAM_ERR_SERVER_CONFLICT);
    seam_store_id other = cin_n(1);
    assert_int_equal(seam_store_target_finish(s, c.id, &other, "srv-a", true, NULL),
                     SEAM_ERR_SERVER_CONFLICT); /* still pending: not claimed */
    assert_int_equal(seam_store_claim(s, &first, "srv-b", 1059, 60, &t), SEAM_ERR_NOT_FOUND);
    digest(s, after);
    assert_memory_equal(before, after, 32);

    assert_int_equal(seam_store_target_finish(s, c.id, &first, "srv-a", false, "card said 6A80"),
                     SEAM_OK);
    digest(s, before);
    assert_int_equal(seam_store_target_finish(s, c.id, &first, "srv-a", true, NULL),
                     SEAM_ERR_SERVER_CONFLICT);
    /* a failed target is never claimed again, even long after */
    assert_int_equal(seam_store_claim(s, &first, "srv-a", 99999, 60, &t), SEAM_ERR_NOT_FOUND);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(seam_store_target_get(s, c.id, &first, &t), SEAM_OK);
    assert_int_equal(t.state, SEAM_STORE_FAILED);
    assert_string_equal(t.reason, "card said 6A80");

    /* the last target done: the campaign is done */
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    assert_int_equal(seam_store_campaign_get(s, c.id, &c2), SEAM_OK);
    assert_int_equal(c2.state, SEAM_STORE_CAMPAIGN_RUNNING);
    assert_int_equal(seam_store_target_finish(s, c.id, &t.cin, "srv-a", true, NULL), SEAM_OK);
    assert_int_equal(seam_store_campaign_get(s, c.id, &c2), SEAM_OK);
    assert_int_equal(c2.state, SEAM_STORE_CAMPAIGN_DONE);
    assert_int_equal(seam_store_campaign_set_state(s, c.id, SEAM_STORE_CAMPAIGN_CANCELLED),
                     SEAM_ERR_SERVER_CONFLICT);
    seam_store_event *evs = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_event_list(s, &first, &evs, &count), SEAM_OK);
    assert_int_equal(count, 2); /* claimed, failed */
    assert_string_equal(evs[1].kind, "failed");
    free(evs);
    seam_store_close(s);
}

/* A card is driven by one claim at a time, across campaigns; an expired lease is resumed. */
static void store_one_live_claim_per_card_and_expired_leases_resume_X5(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    add_cards(s, 1);
    int64_t c1 = start_campaign(s, SEAM_STORE_INSTALL, 0, 1);
    int64_t c2 = start_campaign(s, SEAM_STORE_PERSONALIZE, 0, 1);
    seam_store_target t;
    seam_store_id cin = cin_n(0);
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1000, 60, &t), SEAM_OK);
    assert_int_equal(t.campaign, c1);
    assert_int_equal(seam_store_claim(s, NULL, "srv-b", 1000, 60, &t), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_target_renew(s, c1, &cin, "srv-a", 1050, 60), SEAM_OK);
    assert_int_equal(seam_store_claim(s, &cin, "srv-b", 1100, 60, &t), SEAM_ERR_NOT_FOUND);
    /* srv-a died: once its lease is over, srv-b resumes the same target */
    assert_int_equal(seam_store_claim(s, &cin, "srv-b", 1111, 60, &t), SEAM_OK);
    assert_int_equal(t.campaign, c1);
    assert_string_equal(t.owner, "srv-b");
    assert_int_equal(t.claims, 2);
    assert_int_equal(seam_store_target_finish(s, c1, &cin, "srv-a", true, NULL),
                     SEAM_ERR_SERVER_CONFLICT);
    assert_int_equal(seam_store_target_finish(s, c1, &cin, "srv-b", true, NULL), SEAM_OK);
    assert_int_equal(seam_store_claim(s, NULL, "srv-a", 1112, 60, &t), SEAM_OK);
    assert_int_equal(t.campaign, c2);
    seam_store_close(s);
}

#define WORKERS     2
#define CLAIM_CARDS 40

typedef struct {
    const char *url;
    char owner[16];
    int claimed[CLAIM_CARDS];
    int count;
    seam_err err;
} worker;

static void *claim_all(void *arg) {
    worker *w = arg;
    seam_store *s = NULL;
    w->err = seam_store_open(w->url, master, &s);
    while (!w->err) {
        seam_store_target t;
        seam_err e = seam_store_claim(s, NULL, w->owner, 1000, 600, &t);
        if (e == SEAM_ERR_NOT_FOUND)
            break;
        if (e) {
            w->err = e;
            break;
        }
        if (w->count < CLAIM_CARDS)
            w->claimed[w->count] = t.cin.bytes[7];
        w->count++;
        w->err = seam_store_target_finish(s, t.campaign, &t.cin, w->owner, true, NULL);
    }
    seam_store_close(s);
    return NULL;
}

/* Two handles (two servers) claim concurrently: every card exactly once (X5). */
static void store_two_handles_never_claim_the_same_card_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    add_cards(s, CLAIM_CARDS);
    int64_t c = start_campaign(s, SEAM_STORE_UPDATE, 0, CLAIM_CARDS);
    worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].url = url;
        snprintf(w[i].owner, sizeof w[i].owner, "srv-%d", i);
        assert_int_equal(pthread_create(&th[i], NULL, claim_all, &w[i]), 0);
    }
    int seen[CLAIM_CARDS] = {0};
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].err, SEAM_OK);
        for (int k = 0; k < w[i].count && k < CLAIM_CARDS; k++)
            seen[w[i].claimed[k]]++;
    }
    assert_int_equal(w[0].count + w[1].count, CLAIM_CARDS);
    for (int k = 0; k < CLAIM_CARDS; k++)
        assert_int_equal(seen[k], 1);
    seam_store_campaign got;
    assert_int_equal(seam_store_campaign_get(s, c, &got), SEAM_OK);
    assert_int_equal(got.state, SEAM_STORE_CAMPAIGN_DONE);
    seam_store_close(s);
}

/* ---- sessions and accounting ---- */

static void store_replayed_session_response_changes_nothing_P1_P8(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    add_cards(s, 1);
    int64_t c = start_campaign(s, SEAM_STORE_UPDATE, 0, 1);
    seam_store_session ss = {
        .cin = cin_n(0), .campaign = c, .step = "load", .round = 1, .expected_responses = 2};
    assert_int_equal(seam_store_session_create(s, &ss), SEAM_OK);
    seam_store_session next = ss;
    next.round = 2;
    next.expected_responses = 5;
    seam_store_bytes b = {.campaign = c,
                          .cin = ss.cin,
                          .step = "load",
                          .bytes = {.request = 300, .response = 4000, .perso = 0}};
    assert_int_equal(seam_store_session_advance(s, &next, 1, &b), SEAM_OK);
    uint8_t before[32], after[32];
    digest(s, before);
    assert_int_equal(seam_store_session_advance(s, &next, 1, &b), SEAM_ERR_SERVER_CONFLICT);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    snprintf(next.id, sizeof next.id, "%032d", 0);
    assert_int_equal(seam_store_session_advance(s, &next, 2, &b), SEAM_ERR_NOT_FOUND);

    /* P1/P8: bytes per step are summed per target; an update's personalization bytes are 0 */
    seam_store_bytes b2 = {.campaign = c,
                           .cin = ss.cin,
                           .step = "install",
                           .bytes = {.request = 20, .response = 100, .perso = 0}};
    assert_int_equal(seam_store_bytes_add(s, &b2), SEAM_OK);
    assert_int_equal(seam_store_bytes_add(s, &b2), SEAM_OK);
    seam_store_target t;
    assert_int_equal(seam_store_target_get(s, c, &ss.cin, &t), SEAM_OK);
    assert_int_equal(t.bytes.request, 340);
    assert_int_equal(t.bytes.response, 4200);
    assert_int_equal(t.bytes.perso, 0);
    seam_store_bytes *rows = NULL;
    size_t count = 0;
    assert_int_equal(seam_store_bytes_list(s, c, NULL, &rows, &count), SEAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(rows[0].step, "install");
    assert_int_equal(rows[0].bytes.response, 200);
    free(rows);
    seam_store_bytes b3 = {.cin = ss.cin, .step = "perso", .bytes = {.response = 77, .perso = 50}};
    assert_int_equal(seam_store_bytes_add(s, &b3), SEAM_OK);
    assert_int_equal(seam_store_bytes_list(s, 0, &ss.cin, &rows, &count), SEAM_OK);
    assert_int_equal(count, 3);
    assert_int_equal(rows[0].bytes.perso, 50);
    free(rows);
    seam_store_close(s);
}

/* ---- kill -9 ---- */

#define KILL_ROUNDS 6

/* The child: appends events and acknowledges each one (its number) once it returned. */
static void writer(const char *url, int fd, int round) {
    seam_store *s = NULL;
    if (seam_store_open(url, master, &s))
        _exit(2);
    seam_store_id cin = cin_n(round);
    for (int i = 0;; i++) {
        seam_store_event ev = {.cin = cin};
        snprintf(ev.kind, sizeof ev.kind, "ack");
        snprintf(ev.message, sizeof ev.message, "%d", i);
        if (seam_store_event_add(s, &ev))
            _exit(3);
        seam_store_bytes b = {.cin = cin, .step = "w", .bytes = {.request = 1}};
        if (seam_store_bytes_add(s, &b))
            _exit(3);
        if (write(fd, &i, sizeof i) != sizeof i)
            _exit(4);
    }
}

static void store_kill_9_loses_nothing_acknowledged_X5(void **state) {
    (void)state;
    char url[1024];
    seam_store *s = open_fresh(url, sizeof url);
    seam_store_close(s);
    srand(12);
    for (int round = 0; round < KILL_ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer(url, fds[1], round);
        }
        close(fds[1]);
        int stop_after = 1 + rand() % 40, acked = -1, got;
        while (acked + 1 < stop_after && read(fds[0], &got, sizeof got) == sizeof got)
            acked = got;
        kill(pid, SIGKILL);
        while (read(fds[0], &got, sizeof got) == sizeof got) /* acknowledged before it died */
            acked = got;
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        assert_true(acked >= 0);

        assert_int_equal(seam_store_open(url, master, &s), SEAM_OK);
        seam_store_id cin = cin_n(round);
        seam_store_event *evs = NULL;
        size_t count = 0;
        assert_int_equal(seam_store_event_list(s, &cin, &evs, &count), SEAM_OK);
        assert_true(count >= (size_t)acked + 1);
        for (int i = 0; i <= acked; i++)
            assert_int_equal(atoi(evs[i].message), i);
        free(evs);
        seam_store_bytes *rows = NULL;
        assert_int_equal(seam_store_bytes_list(s, 0, &cin, &rows, &count), SEAM_OK);
        assert_int_equal(count, 1);
        assert_true(rows[0].bytes.request >= (uint64_t)acked + 1);
        free(rows);
        seam_store_close(s);
    }
}

/* The terminal's public key per card (P6): stored, replaced, read back; on an unknown card
   refused with the store unchanged; in the store's digest. */
static void store_terminal_key_per_card_P6(void **state) {
    (void)state;
    seam_store *s = open_fresh(NULL, 0);
    uint8_t key[SEAM_STORE_TERMINAL_KEY_SIZE], other[SEAM_STORE_TERMINAL_KEY_SIZE], got[65];
    uint8_t before[32], after[32];
    memset(key, 0x11, sizeof key);
    memset(other, 0x22, sizeof other);
    key[0] = other[0] = 0x04;
    add_cards(s, 2);
    seam_store_id a = cin_n(0), b = cin_n(1), unknown = cin_n(9);
    assert_int_equal(seam_store_terminal_key_get(s, &a, got), SEAM_ERR_NOT_FOUND);
    digest(s, before);
    assert_int_equal(seam_store_terminal_key_put(s, &unknown, key), SEAM_ERR_NOT_FOUND);
    digest(s, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(seam_store_terminal_key_put(s, &a, key), SEAM_OK);
    digest(s, after);
    assert_memory_not_equal(before, after, 32);
    assert_int_equal(seam_store_terminal_key_get(s, &a, got), SEAM_OK);
    assert_memory_equal(got, key, sizeof key);
    assert_int_equal(seam_store_terminal_key_get(s, &b, got), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_store_terminal_key_put(s, &a, other), SEAM_OK); /* replaced */
    assert_int_equal(seam_store_terminal_key_get(s, &a, got), SEAM_OK);
    assert_memory_equal(got, other, sizeof other);
    seam_store_close(s);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    backend_name = backend;
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    assert_int_equal(seam_crypto_random_fresh(master, sizeof master), SEAM_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_round_trips_every_record_X5),
        cmocka_unit_test(store_secrets_not_in_clear_in_its_files_X5),
        cmocka_unit_test(store_refuses_a_wrong_master_key_X5),
        cmocka_unit_test(store_sealed_values_cannot_be_swapped_between_rows_X5),
        cmocka_unit_test(store_master_key_file_is_private_and_never_overwritten),
        cmocka_unit_test(store_claims_move_targets_only_forward_and_refusals_change_nothing_X5),
        cmocka_unit_test(store_one_live_claim_per_card_and_expired_leases_resume_X5),
        cmocka_unit_test(store_two_handles_never_claim_the_same_card_X5),
        cmocka_unit_test(store_replayed_session_response_changes_nothing_P1_P8),
        cmocka_unit_test(store_kill_9_loses_nothing_acknowledged_X5),
        cmocka_unit_test(store_terminal_key_per_card_P6),
    };
    char group[64];
    snprintf(group, sizeof group, "store on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
