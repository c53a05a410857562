/*
 * The restore store (P4, P10; docs/restore-module.md "Outside the card"): records sealed
 * under the domain's store key and bound to (CIN, SD, instance, package); a row moved
 * to another identity or card, or a flipped byte, does not open; a record is released
 * only against an INSTALL [for load] the card accepted in the domain's level-33
 * session for the same identity; every refusal is logged and changes no record.
 */
#include <sqlite3.h>

#include "perso/perso_int.h"
#include "perso_host.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};
static const uint8_t other[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x12};
static const uint8_t record[] = {0xA2, 0x0D, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x05,
                                 0x50, 0x55, 0x11, 0xC0, 0x02, 0x01, 0x00};

typedef struct {
    fixture card;
    char store_path[128];
    seam_perso_store *store;
    seam_perso_domain domain;
    perso_identity id;
} store_fixture;

static int store_setup(void **state) {
    store_fixture *sf = calloc(1, sizeof *sf);
    void *card_state = NULL;
    setup(&card_state);
    sf->card = *(fixture *)card_state;
    free(card_state);
    snprintf(sf->store_path, sizeof sf->store_path, "%s/store.db", sf->card.dir);
    assert_int_equal(seam_perso_store_open(sf->store_path, &sf->store), SEAM_OK);
    power_on(sf->card.card);
    issuer_creates_domain(sf->card.card, domain_aid, sizeof domain_aid, &sf->domain);
    card_cin(sf->card.card, sf->id.cin, &sf->id.cin_len);
    sf->id.sd = sf->domain.aid;
    sf->id.instance = aid_of(purse, sizeof purse);
    sf->id.package = aid_of(purse_pkg, sizeof purse_pkg);
    *state = sf;
    return 0;
}

static int store_teardown(void **state) {
    store_fixture *sf = *state;
    fixture *f = malloc(sizeof *f);
    char wal[160];
    seam_perso_store_close(sf->store);
    unlink(sf->store_path);
    snprintf(wal, sizeof wal, "%s-wal", sf->store_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", sf->store_path);
    unlink(wal);
    *f = sf->card;
    free(sf);
    void *fs = f;
    return teardown(&fs);
}

typedef struct {
    seam_perso_refusal r;
    size_t n;
} seam_refusal_seen;

static size_t refusals_count;
static seam_err count_refusal(void *ctx, const seam_perso_refusal *r) {
    (void)ctx;
    assert_true(strlen(r->reason) > 10);
    refusals_count++;
    return SEAM_OK;
}

static size_t refusals(seam_perso_store *s) {
    refusals_count = 0;
    assert_int_equal(seam_perso_store_log(s, count_refusal, NULL), SEAM_OK);
    return refusals_count;
}

/* Opens the domain on the card and makes the grant an accepted INSTALL [for load] of
   the purse package gives. */
static void granted(store_fixture *sf, perso_grant *g, seam_perso_actor *actor) {
    uint16_t sw = 0;
    memset(actor, 0, sizeof *actor);
    actor->gp = session(sf->card.card);
    actor->domain = &sf->domain;
    actor->store = sf->store;
    memcpy(actor->cin, sf->id.cin, sf->id.cin_len);
    actor->cin_len = sf->id.cin_len;
    assert_int_equal(seam_perso_domain_open(actor->gp, &sf->domain, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    perso_grant_after_load(g, actor->gp, actor, &sf->id.package, 0x9000);
}

static void p4_record_released_only_inside_an_authorized_load(void **state) {
    store_fixture *sf = *state;
    uint8_t out[64], before[32], after[32];
    size_t n = 0;
    perso_grant g;
    seam_perso_actor actor;
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &sf->id), SEAM_OK);
    assert_int_equal(seam_perso_store_digest(sf->store, before), SEAM_OK);
    /* no grant, a grant the card refused, a grant for another package: denied, logged */
    assert_int_equal(
        perso_store_release(sf->store, &sf->domain, &sf->id, NULL, out, sizeof out, &n),
        SEAM_ERR_PERSO_DENIED);
    granted(sf, &g, &actor);
    perso_grant refused = g;
    refused.accepted = false;
    assert_int_equal(
        perso_store_release(sf->store, &sf->domain, &sf->id, &refused, out, sizeof out, &n),
        SEAM_ERR_PERSO_DENIED);
    perso_grant elsewhere = g;
    elsewhere.package.bytes[5] ^= 1;
    assert_int_equal(
        perso_store_release(sf->store, &sf->domain, &sf->id, &elsewhere, out, sizeof out, &n),
        SEAM_ERR_PERSO_DENIED);
    assert_int_equal(refusals(sf->store), 3);
    assert_int_equal(seam_perso_store_digest(sf->store, after), SEAM_OK);
    assert_memory_equal(before, after, 32);
    /* the grant of the same identity, its session open: released */
    assert_int_equal(perso_store_release(sf->store, &sf->domain, &sf->id, &g, out, sizeof out, &n),
                     SEAM_OK);
    assert_int_equal(n, sizeof record);
    assert_memory_equal(out, record, n);
    /* the session ended (a SELECT): the grant no longer holds */
    assert_int_equal(select_aid(sf->card.card, NULL, 0), 0x9000);
    assert_int_equal(perso_store_release(sf->store, &sf->domain, &sf->id, &g, out, sizeof out, &n),
                     SEAM_ERR_PERSO_DENIED);
}

/* Runs sql on the store's file with another connection (what an attacker with the file
   does). */
static void tamper(store_fixture *sf, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(sf->store_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db) > 0, 1);
    sqlite3_close(db);
}

static void p10_a_record_moved_to_another_identity_or_card_does_not_open(void **state) {
    store_fixture *sf = *state;
    perso_identity id2 = sf->id;
    id2.instance = aid_of(other, sizeof other);
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &id2, record, sizeof record), SEAM_OK);
    /* swap the two rows' sealed records */
    tamper(sf, "UPDATE perso_records SET instance = X'00' WHERE instance = X'A0000005505511';"
               "UPDATE perso_records SET instance = X'A0000005505511'"
               " WHERE instance = X'A0000005505512';"
               "UPDATE perso_records SET instance = X'A0000005505512' WHERE instance = X'00'");
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &sf->id), SEAM_ERR_PERSO_SEAL);
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &id2), SEAM_ERR_PERSO_SEAL);
    /* moved to another card's CIN */
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    tamper(sf, "DELETE FROM perso_records WHERE instance = X'A0000005505512';"
               "UPDATE perso_records SET cin = X'0102030405060708090A'");
    perso_identity card2 = sf->id;
    memcpy(card2.cin, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A", 10);
    card2.cin_len = 10;
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &card2), SEAM_ERR_PERSO_SEAL);
    /* a flipped byte */
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &sf->id), SEAM_OK);
    tamper(sf, "UPDATE perso_records SET sealed = CASE WHEN substr(sealed, 1, 1) = X'00'"
               " THEN X'01' ELSE X'00' END || substr(sealed, 2)"
               " WHERE instance = X'A0000005505511' AND cin != X'0102030405060708090A'");
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &sf->id), SEAM_ERR_PERSO_SEAL);
    /* another domain's key set (same AID, another DEK) */
    seam_perso_domain thief = sf->domain;
    thief.keys.dek[0] ^= 1;
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    assert_int_equal(perso_store_check(sf->store, &thief, &sf->id), SEAM_ERR_PERSO_SEAL);
    assert_int_equal(refusals(sf->store), 5);
}

static void journal_kept_until_deleted_and_store_cut_between_transactions(void **state) {
    store_fixture *sf = *state;
    perso_journal j = {.version = 0x0200, .instance_count = 1}, back;
    uint8_t before[32], after[32];
    j.instances[0] = sf->id.instance;
    memset(j.digest, 0x11, 32);
    assert_int_equal(perso_journal_get(sf->store, &sf->id, &back), SEAM_ERR_NOT_FOUND);
    assert_int_equal(perso_journal_put(sf->store, &sf->id, &j), SEAM_OK);
    assert_int_equal(perso_journal_get(sf->store, &sf->id, &back), SEAM_OK);
    assert_memory_equal(&back.instances[0], &j.instances[0], sizeof j.instances[0]);
    assert_int_equal(back.version, 0x0200);
    assert_int_equal(seam_perso_store_digest(sf->store, before), SEAM_OK);
    perso_store_fault_after(sf->store, 0);
    assert_int_equal(perso_journal_delete(sf->store, &sf->id), SEAM_ERR_PERSO_STORE);
    assert_int_equal(seam_perso_store_digest(sf->store, after), SEAM_OK);
    assert_memory_equal(before, after, 32);
    perso_store_fault_after(sf->store, -1);
    assert_int_equal(perso_journal_delete(sf->store, &sf->id), SEAM_OK);
    assert_int_equal(perso_journal_get(sf->store, &sf->id, &back), SEAM_ERR_NOT_FOUND);
    /* and the store reopens with what it held */
    assert_int_equal(perso_store_put(sf->store, &sf->domain, &sf->id, record, sizeof record),
                     SEAM_OK);
    seam_perso_store_close(sf->store);
    assert_int_equal(seam_perso_store_open(sf->store_path, &sf->store), SEAM_OK);
    assert_int_equal(perso_store_check(sf->store, &sf->domain, &sf->id), SEAM_OK);
}

/* P10, X6: whoever owns the terminal's state file (attacker (a)) rewrites the refusal
   log's table without its NOT NULL rules and leaves NULLs in it: the log still reads,
   each NULL as an empty field (never "%s" of a NULL pointer). */
static seam_refusal_seen seen;
static seam_err keep_refusal(void *ctx, const seam_perso_refusal *r) {
    (void)ctx;
    seen.r = *r;
    seen.n++;
    return SEAM_OK;
}

static void p10_a_hostile_state_file_with_null_log_fields_reads_as_empty_X6(void **state) {
    store_fixture *sf = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(sf->store_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE perso_refusals; CREATE TABLE perso_refusals (id "
                                  "INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER, cin TEXT, "
                                  "instance TEXT, reason TEXT); INSERT INTO perso_refusals (time, "
                                  "cin, instance, reason) VALUES (NULL, NULL, NULL, NULL)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(seam_perso_store_log(sf->store, keep_refusal, NULL), SEAM_OK);
    assert_int_equal(seen.n, 1);
    print_message("a NULL cin reads as \"%s\", reason \"%s\"\n", seen.r.cin, seen.r.reason);
    assert_string_equal(seen.r.cin, "");
    assert_string_equal(seen.r.instance, "");
    assert_string_equal(seen.r.reason, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(p4_record_released_only_inside_an_authorized_load,
                                        store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(
            p10_a_record_moved_to_another_identity_or_card_does_not_open, store_setup,
            store_teardown),
        cmocka_unit_test_setup_teardown(
            journal_kept_until_deleted_and_store_cut_between_transactions, store_setup,
            store_teardown),
        cmocka_unit_test_setup_teardown(
            p10_a_hostile_state_file_with_null_log_fields_reads_as_empty_X6, store_setup,
            store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
