/*
 * The flows' test fixture: a card image whose issuer created and handed over the
 * domain, a restore store next to it, the actor the flows take, and the purse of
 * tests/card/test_upgrade.c (PIN 5678, credit 100, debit 30). Header-only.
 */
#ifndef SEAM_TESTS_PERSO_FLOWS_HOST_H
#define SEAM_TESTS_PERSO_FLOWS_HOST_H

#include <sqlite3.h>

#include "perso/perso_int.h"
#include "perso_host.h"
#include "purse_host.h"

static const uint8_t pin_block[] = {0xDF, 0x01, 4, '5', '6', '7', '8'};

typedef struct {
    fixture card;
    char store_path[128];
    seam_perso_store *store;
    seam_perso_domain domain;
    seam_perso_actor actor;
} flows_fixture;

static inline void store_files_remove(const char *path) {
    char p[160];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* The actor on the fixture's card (a session of its own, as after a reopen). */
static inline seam_perso_actor *actor_of(flows_fixture *ff) {
    ff->actor.gp = session(ff->card.card);
    ff->actor.domain = &ff->domain;
    ff->actor.store = ff->store;
    return &ff->actor;
}

/* A fresh card (the issuer's domain on it) and an empty store. */
static inline void flows_fresh(flows_fixture *ff) {
    fresh_image(&ff->card);
    seam_perso_store_close(ff->store);
    ff->store = NULL;
    store_files_remove(ff->store_path);
    assert_int_equal(seam_perso_store_open(ff->store_path, &ff->store), SEAM_OK);
    power_on(ff->card.card);
    issuer_creates_domain(ff->card.card, domain_aid, sizeof domain_aid, &ff->domain);
    card_cin(ff->card.card, ff->actor.cin, &ff->actor.cin_len);
    actor_of(ff);
}

static inline int flows_setup(void **state) {
    flows_fixture *ff = calloc(1, sizeof *ff);
    void *card_state = NULL;
    setup(&card_state);
    ff->card = *(fixture *)card_state;
    free(card_state);
    snprintf(ff->store_path, sizeof ff->store_path, "%s/store.db", ff->card.dir);
    assert_int_equal(seam_perso_store_open(ff->store_path, &ff->store), SEAM_OK);
    power_on(ff->card.card);
    issuer_creates_domain(ff->card.card, domain_aid, sizeof domain_aid, &ff->domain);
    card_cin(ff->card.card, ff->actor.cin, &ff->actor.cin_len);
    actor_of(ff);
    *state = ff;
    return 0;
}

static inline int flows_teardown(void **state) {
    flows_fixture *ff = *state;
    fixture *f = malloc(sizeof *f);
    seam_perso_store_close(ff->store);
    store_files_remove(ff->store_path);
    *f = ff->card;
    free(ff);
    void *fs = f;
    return teardown(&fs);
}

/* P6 through the flow: purse 1.0 personalized with PIN 5678 in the terminal. */
static inline void terminal_installs_purse(flows_fixture *ff) {
    seam_perso_data data = {.data = pin_block, .len = sizeof pin_block};
    seam_perso_report report;
    size_t len = 0;
    uint8_t *module = read_module("purse", &len);
    data.instance = aid_of(purse, sizeof purse);
    assert_int_equal(seam_perso_install(actor_of(ff), module, len, &data, 1, &report), SEAM_OK);
    assert_string_equal(report.reason, "");
    assert_int_equal(report.sw, 0x9000);
    assert_int_equal(report.instances, 1);
    free(module);
}

/* True when the purse runs 2.0 (its new GET LIMIT, 80 71, answers). */
static inline bool purse_is_v2(seam_card *card) {
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x9000);
    return SEND(card, 0x80, 0x71, 0x00, 0x00, 0x00) != 0x6D00;
}

static size_t refusals_count;
static char last_reason[128];
static inline seam_err count_refusal(void *ctx, const seam_perso_refusal *r) {
    (void)ctx;
    refusals_count++;
    snprintf(last_reason, sizeof last_reason, "%s", r->reason);
    return SEAM_OK;
}

/* How many refusals the store logged (the last one's reason in last_reason). */
static inline size_t refusals(seam_perso_store *s) {
    refusals_count = 0;
    assert_int_equal(seam_perso_store_log(s, count_refusal, NULL), SEAM_OK);
    return refusals_count;
}

/* Runs sql on the store's file with another connection (an attacker with the file). */
static inline void tamper(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_true(sqlite3_changes(db) > 0);
    sqlite3_close(db);
}

#endif
