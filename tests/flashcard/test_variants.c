/*
 * P12, the three control variants of the seed's FIG. 10-12, end to end on a real
 * card image (docs/flashcard.md): purse 1.0, personalized and used, becomes purse
 * 2.0 with its PIN, balance, counter and log kept. And bad input at the host
 * interface: a clear refusal, the card's whole state and the flash unchanged.
 */
#include "fc_fixture.h"

static uint16_t version_after_update(fc_fixture *x) {
    return purse_checked(x);
}

/* FIG. 11: the host stores the package into flash, then tells the controller to
   update; the controller runs the update itself through its own domain. */
static void p12_fig11_controller_updates_from_its_flash(void **state) {
    (void)state;
    fc_fixture x;
    fc_ready(&x, PURSE_CONTROLLER, "purse_v2");
    /* LIST: purse 2.0 is in flash */
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_LIST, NULL, 0), SEAM_OK);
    seam_flashcard_package p;
    size_t pos = 0;
    assert_int_equal(seam_flashcard_list_next(reply.value, reply.len, &pos, &p), SEAM_OK);
    assert_memory_equal(p.aid.bytes, purse_pkg, sizeof purse_pkg);
    assert_int_equal(p.version, 0x0200);
    assert_int_equal(seam_flashcard_list_next(reply.value, reply.len, &pos, &p),
                     SEAM_ERR_NOT_FOUND);
    uint64_t writes = seam_flashcard_flash_writes(x.fc);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_false(fc_journal(x.fc));
    /* the controller's journal set and cleared around perso's flow, and the restore
       store's transactions (the record, its journal) in between */
    writes = seam_flashcard_flash_writes(x.fc) - writes;
    print_message("flash transactions of the update: %llu\n", (unsigned long long)writes);
    assert_true(writes >= 4);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(version_after_update(&x), 0x0200);
    /* the record the controller exported sits in the restore store in flash, sealed: no
       PIN in clear */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(x.flash, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT instance, sealed FROM perso_records", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_memory_equal(sqlite3_column_blob(st, 0), purse, sizeof purse);
    const uint8_t *sealed = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1);
    for (int i = 0; i + 4 <= n; i++)
        assert_false(!memcmp(sealed + i, "5678", 4));
    assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* one record: the purse's */
    sqlite3_finalize(st);
    sqlite3_close(db);
    fc_remove(&x);
}

/* The terminal's side of FIG. 10 and 12: seam_perso_update through its own domain over
   gp, its restore store in its own state file; the purse at 2.0 afterwards. */
static void terminal_updates(fc_fixture *x, seam_gp *gp) {
    char path[160];
    seam_perso_store *store = NULL;
    seam_perso_report report;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/terminal-state.db", x->root);
    assert_int_equal(seam_perso_store_open(path, &store), SEAM_OK);
    seam_perso_actor a = {.gp = gp, .domain = &x->terminal, .store = store};
    memcpy(a.cin, x->cin, x->cin_len);
    a.cin_len = x->cin_len;
    uint8_t *module = read_module("purse_v2", &len);
    assert_int_equal(seam_perso_update(&a, module, len, &report), SEAM_OK);
    assert_string_equal(report.reason, "");
    assert_int_equal(report.instances, 1);
    free(module);
    seam_perso_store_close(store);
}

/* FIG. 10: the card in the terminal; the terminal opens the image directly and runs
   the update through its own domain (perso's update flow over the image link). */
static void p12_fig10_terminal_updates_the_card_it_holds(void **state) {
    (void)state;
    fc_fixture x;
    fc_build(&x, PURSE_TERMINAL);
    seam_gp_link link;
    seam_gp *gp = NULL;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    assert_int_equal(seam_link_image_open(x.image, &link), SEAM_OK);
    assert_int_equal(seam_gp_new(&link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    terminal_updates(&x, gp);
    seam_gp_free(gp);
    seam_gp_link_close(&link);
    assert_int_equal(version_after_update(&x), 0x0200);
    fc_remove(&x);
}

/* Everything the controller relays, both directions. */
static uint8_t relayed[400000];
static size_t relayed_len;

static void relay_trace(void *ctx, const uint8_t *bytes, size_t len) {
    (void)ctx;
    assert_true(relayed_len + len <= sizeof relayed);
    memcpy(relayed + relayed_len, bytes, len);
    relayed_len += len;
}

/* FIG. 12: the card sits in the flash card; the terminal drives it through the
   controller's host interface (APDU frames) with its own domain; the controller only
   relays and counts, and cannot read the record the card exports under R-ENC. */
static void p12_fig12_terminal_drives_the_card_through_the_controller(void **state) {
    (void)state;
    fc_fixture x;
    fc_build(&x, PURSE_TERMINAL);
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK);
    seam_flashcard_set_relay_trace(x.fc, relay_trace, NULL);
    relayed_len = 0;
    seam_gp_link link;
    seam_gp *gp = NULL;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    uint16_t sw = 0;
    assert_int_equal(seam_flashcard_host_link(x.fc, &link), SEAM_OK);
    assert_int_equal(seam_gp_new(&link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_perso_domain_open(gp, &x.terminal, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* the terminal exports the purse's record: it reads the PIN block, the relay does not */
    assert_int_equal(
        seam_gp_upgrade(gp, SEAM_GP_UPGRADE_EXPORT, purse, sizeof purse, NULL, 0, NULL, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x9000);
    size_t rec_len = 0;
    const uint8_t *rec = seam_gp_response(gp, &rec_len);
    seam_perso_record r;
    assert_int_equal(seam_perso_record_decode(rec, rec_len, &r), SEAM_OK);
    assert_int_equal(r.block_count, 1);
    assert_memory_equal(r.blocks[0].data, ((uint8_t[]){0xDF, 0x01, 4, '5', '6', '7', '8'}), 7);
    for (size_t i = 0; i + 4 <= relayed_len; i++)
        assert_false(!memcmp(relayed + i, "5678", 4));
    for (size_t i = 0; i + 5 <= relayed_len; i++) /* no record template in clear */
        assert_false(!memcmp(relayed + i, ((uint8_t[]){0xA2}), 1) &&
                     !memcmp(relayed + i + 2, ((uint8_t[]){0x4F, 7, 0xA0}), 3));
    /* the update, run by the terminal over the relay: perso's flow, the terminal's
       domain and store; the relay again sees no PIN */
    terminal_updates(&x, gp);
    for (size_t i = 0; i + 4 <= relayed_len; i++)
        assert_false(!memcmp(relayed + i, "5678", 4));
    seam_gp_free(gp);
    seam_gp_link_close(&link);
    /* the controller counted what it relayed; its own domain cannot open the terminal's */
    seam_flashcard_status st;
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0), SEAM_OK);
    assert_int_equal(seam_flashcard_status_decode(reply.value, reply.len, &st), SEAM_OK);
    assert_true(st.relayed > 20);
    assert_false(st.journal);
    seam_gp *cgp = NULL;
    assert_int_equal(seam_flashcard_host_link(x.fc, &link), SEAM_OK);
    assert_int_equal(seam_gp_new(&link, &cgp), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    seam_perso_domain wrong = x.terminal;
    wrong.keys = x.controller.keys;
    assert_int_not_equal(seam_perso_domain_open(cgp, &wrong, &sw), SEAM_OK);
    seam_gp_free(cgp);
    seam_gp_link_close(&link);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(version_after_update(&x), 0x0200);
    /* the record went to the terminal's store, not into the flash */
    sqlite3 *db;
    sqlite3_stmt *count;
    assert_int_equal(sqlite3_open(x.flash, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM perso_records", -1, &count, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(count), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(count, 0), 0);
    sqlite3_finalize(count);
    sqlite3_close(db);
    fc_remove(&x);
}

/* The card's whole state and the flash's, for "changes nothing". */
static void snapshot(fc_fixture *x, uint8_t card[32], uint8_t flash[32]) {
    fingerprint(seam_flashcard_card(x->fc), card);
    assert_int_equal(seam_flashcard_flash_digest(x->fc, flash), SEAM_OK);
}

static void unchanged(fc_fixture *x, const uint8_t card[32], const uint8_t flash[32]) {
    uint8_t c[32], f[32];
    snapshot(x, c, f);
    assert_memory_equal(c, card, 32);
    assert_memory_equal(f, flash, 32);
}

/* Bad input: a package for another card, a tampered package in flash, malformed host
   frames, an update of a package the flash does not hold. Each is refused with its
   error and a reason; card and flash are unchanged. */
static void p12_bad_input_is_refused_and_changes_nothing(void **state) {
    (void)state;
    fc_fixture x;
    uint8_t cin[16], card0[32], flash0[32];
    size_t cin_len;
    fc_build(&x, PURSE_CONTROLLER);
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK);
    fc_cin(x.fc, cin, &cin_len);
    snapshot(&x, card0, flash0);
    /* a package for another card */
    uint8_t other[16];
    memcpy(other, cin, cin_len);
    other[cin_len - 1] ^= 0x01;
    assert_int_equal(fc_store(x.fc, "purse_v2", other, cin_len), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_WRONG_CARD);
    print_message("refused: %.*s\n", (int)reply.len - 2, (const char *)reply.value + 2);
    unchanged(&x, card0, flash0);
    /* malformed frames: truncated header, a length past the input, bytes after the
       frame, an oversize length, an unknown command, bad values */
    const uint8_t bad[][8] = {
        {0x11, 0, 0},       {0x11, 0, 0, 0, 5, 1},    {0x11, 0, 0, 0, 0, 0}, {0x11, 0xFF, 0, 0, 0},
        {0x7E, 0, 0, 0, 0}, {0x12, 0, 0, 0, 2, 9, 1}, {0x13, 0, 0, 0, 1, 0}, {0x01, 0, 0, 0, 1, 7}};
    const size_t bad_len[] = {3, 6, 6, 5, 5, 7, 6, 6};
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        size_t n = 0, used = 0;
        assert_int_equal(seam_flashcard_host(x.fc, bad[i], bad_len[i], answer, sizeof answer, &n),
                         SEAM_OK);
        assert_int_equal(seam_flashcard_frame_decode(answer, n, &reply, &used), SEAM_OK);
        assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_FRAME);
    }
    unchanged(&x, card0, flash0);
    /* a STORE of something that is not a package */
    uint8_t junk[1 + 16 + 8];
    junk[0] = (uint8_t)cin_len;
    memcpy(junk + 1, cin, cin_len);
    memset(junk + 1 + cin_len, 0x5A, 8);
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_STORE, junk, 1 + cin_len + 8), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_GP_PACKAGE);
    /* an update of a package the flash does not hold */
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_NO_PACKAGE);
    unchanged(&x, card0, flash0);
    /* a tampered package in flash: one byte of the module changed behind the controller */
    assert_int_equal(fc_store(x.fc, "purse_v2", cin, cin_len), SEAM_OK);
    assert_int_equal(refusal(), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(x.flash, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE fc_packages SET module = substr(module, 1, 100) || CASE "
                                  "WHEN substr(module, 101, 1) = X'00' THEN X'01' ELSE X'00' END "
                                  "|| substr(module, 102)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    snapshot(&x, card0, flash0);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_TAMPERED);
    print_message("refused: %.*s\n", (int)reply.len - 2, (const char *)reply.value + 2);
    unchanged(&x, card0, flash0);
    assert_false(fc_journal(x.fc));
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0100);
    fc_remove(&x);
}

/* The controller asked to update a package its domain does not own (the purse is the
   terminal's domain's): perso refuses after opening the domain (whose SCP03 sequence
   counter moves: the card's nvm is not compared here), the controller rolls back what it
   began (its journal): the flash unchanged, the purse still 1.0 with its data and no
   upgrade session. */
static void p12_update_of_another_domains_package_is_refused(void **state) {
    (void)state;
    fc_fixture x;
    uint8_t flash0[32], flash1[32];
    fc_ready(&x, PURSE_TERMINAL, "purse_v2");
    assert_int_equal(seam_flashcard_flash_digest(x.fc, flash0), SEAM_OK);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_REFUSED);
    print_message("refused: %.*s\n", (int)reply.len - 2, (const char *)reply.value + 2);
    assert_int_equal(seam_flashcard_flash_digest(x.fc, flash1), SEAM_OK);
    assert_memory_equal(flash0, flash1, 32);
    assert_false(fc_journal(x.fc));
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0100);
    fc_remove(&x);
}

/* One APDU through the host interface: its SW. */
static uint16_t relay(seam_flashcard *fc, const uint8_t *apdu, size_t len) {
    assert_int_equal(host(fc, SEAM_FLASHCARD_CMD_APDU, apdu, len), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_true(reply.len >= 2);
    return (uint16_t)(reply.value[reply.len - 2] << 8 | reply.value[reply.len - 1]);
}

#define RELAY(fc, ...)                                                                             \
    relay(fc, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* The purse answers PIN 5678 and refuses 1234, through the host interface. */
static void purse_pin_is_5678(seam_flashcard *fc) {
    uint8_t on = 1;
    assert_int_equal(host(fc, SEAM_FLASHCARD_CMD_POWER, &on, 1), SEAM_OK);
    assert_int_equal(RELAY(fc, 0x00, 0xA4, 0x04, 0x00, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11),
                     0x9000);
    assert_int_equal(RELAY(fc, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(RELAY(fc, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
}

/* The card loses the purse (the flash card off): its package, instance and restore-module
   record deleted through the controller's domain. */
static void card_loses_purse(fc_fixture *x) {
    seam_card *card = NULL;
    uint8_t del_record[] = {0x80, 0xE4, 0x00, 0x00, 10,   0xDF, 0x70, 7,
                            0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11, 0x00};
    seam_flashcard_close(x->fc);
    x->fc = NULL;
    assert_int_equal(seam_card_open(x->image, &card), SEAM_OK);
    power_on(card);
    assert_int_equal(open_at(card, controller_aid, sizeof controller_aid, x->controller_key, 0x33),
                     0x9000);
    assert_int_equal(delete_aid(card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
    assert_int_equal(host_send(card, del_record, sizeof del_record), 0x9000);
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x6A82);
    host_forget();
    seam_card_close(card);
    assert_int_equal(seam_flashcard_open(x->dir, &x->fc), SEAM_OK);
}

static seam_err restore_purse(seam_flashcard *fc) {
    uint8_t v[1 + sizeof purse_pkg + 1 + sizeof purse] = {sizeof purse_pkg};
    memcpy(v + 1, purse_pkg, sizeof purse_pkg);
    v[1 + sizeof purse_pkg] = sizeof purse;
    memcpy(v + 2 + sizeof purse_pkg, purse, sizeof purse);
    return host(fc, SEAM_FLASHCARD_CMD_RESTORE, v, sizeof v);
}

/* P6 and P4 by the controller: the host stores purse 1.0; the controller installs it
   through its domain, personalized with PIN 5678 (the record filed in the restore store
   in flash); the card loses the purse; the controller restores it from its flash. A
   record tampered with in flash is refused (SEAM_ERR_PERSO_SEAL) and changes nothing. */
static void p12_controller_installs_and_restores_from_its_flash(void **state) {
    (void)state;
    fc_fixture x;
    uint8_t card0[32], flash0[32];
    fc_ready(&x, PURSE_NONE, "purse");
    uint8_t v[] = {6,    0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 7,   0xA0, 0x00, 0x00, 0x05,
                   0x50, 0x55, 0x11, 7,    0xDF, 0x01, 4,    '5', '6',  '7',  '8'};
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_INSTALL, v, sizeof v), SEAM_OK);
    assert_int_equal(refusal(), 0);
    purse_pin_is_5678(x.fc);
    /* lost, then restored from the flash */
    card_loses_purse(&x);
    assert_int_equal(restore_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), 0);
    purse_pin_is_5678(x.fc);
    /* lost again; the record in flash tampered with: refused, nothing changes */
    card_loses_purse(&x);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(x.flash, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE perso_records SET sealed = substr(sealed, 1, 20) || CASE "
                                  "WHEN substr(sealed, 21, 1) = X'FF' THEN X'00' ELSE X'FF' END "
                                  "|| substr(sealed, 22)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    snapshot(&x, card0, flash0);
    assert_int_equal(restore_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_PERSO_SEAL);
    print_message("refused: %.*s\n", (int)reply.len - 2, (const char *)reply.value + 2);
    unchanged(&x, card0, flash0);
    fc_remove(&x);
}

/* X6, P12: the host (attacker (c), holding no key) relays plain APDUs right after the
   controller's own INSTALL, while the card may still hold the controller's level-33
   session with its domain: none acts for that domain (no DELETE of its purse, no GET
   STATUS of its content), the card and the flash unchanged. */
static void p12_host_cannot_act_in_the_controllers_session_X6(void **state) {
    (void)state;
    fc_fixture x;
    uint8_t card0[32], flash0[32];
    fc_ready(&x, PURSE_NONE, "purse");
    uint8_t v[] = {6,    0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 7,   0xA0, 0x00, 0x00, 0x05,
                   0x50, 0x55, 0x11, 7,    0xDF, 0x01, 4,    '5', '6',  '7',  '8'};
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_INSTALL, v, sizeof v), SEAM_OK);
    assert_int_equal(refusal(), 0);
    snapshot(&x, card0, flash0);
    /* no POWER frame: straight into whatever session the controller left */
    uint16_t sw = RELAY(x.fc, 0x80, 0xF2, 0x40, 0x02, 2, 0x4F, 0x00, 0x00);
    print_message("GET STATUS relayed after the controller's INSTALL: %04X\n", sw);
    assert_int_not_equal(sw, 0x9000);
    sw = RELAY(x.fc, 0x80, 0xE4, 0x00, 0x00, 9, 0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11);
    print_message("DELETE relayed after the controller's INSTALL: %04X\n", sw);
    assert_int_not_equal(sw, 0x9000);
    unchanged(&x, card0, flash0);
    purse_pin_is_5678(x.fc);
    fc_remove(&x);
}

/* P12, X6: two controller flows in one power on. The first (UPDATE to 2.0) leaves the
   controller's session object with the domain's session keys; the card is reset before the
   second (UPDATE again: nothing to do at 2.0), whose flow must open a fresh level-33
   session, not wrap its commands under the first one's keys (the card answered 6982). */
static void p12_two_controller_flows_in_one_power_on_open_fresh_sessions_X6(void **state) {
    (void)state;
    fc_fixture x;
    fc_ready(&x, PURSE_CONTROLLER, "purse_v2");
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    print_message("the second UPDATE: %d %.*s\n", refusal(), reply.len > 2 ? (int)reply.len - 2 : 0,
                  (const char *)reply.value + 2);
    assert_int_equal(refusal(), 0);
    assert_false(fc_journal(x.fc));
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0200);
    fc_remove(&x);
}

/* X4, X6, P12: the host (attacker (c)) STOREs an older purse over the newer one in flash and
   asks for an UPDATE: the card loads it, then refuses its migrate (6985). The controller
   rolls back (the loaded version deleted, then MANAGE ELF UPGRADE abort: the card allows
   abort only once P1's AID is free): no upgrade session left on the card, no journal in
   the flash (else every power on would retry and refuse again, and the flash card would
   never open), the purse at 2.0 with its data. */
static void p12_host_downgrade_the_card_refuses_is_rolled_back_X4_X6(void **state) {
    (void)state;
    fc_fixture x;
    fc_ready(&x, PURSE_CONTROLLER, "purse_v2");
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(fc_store(x.fc, "purse", x.cin, x.cin_len), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    print_message("the downgrade: %d %.*s\n", refusal(), reply.len > 2 ? (int)reply.len - 2 : 0,
                  (const char *)reply.value + 2);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_REFUSED);
    bool journal = fc_journal(x.fc);
    print_message("journal after the refusal: %d\n", journal);
    assert_false(journal);
    seam_flashcard_close(x.fc);
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK);
    /* nothing of the refused update is left to hold the next one up */
    assert_int_equal(fc_store(x.fc, "purse_v2", x.cin, x.cin_len), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    print_message("the update after: %d %.*s\n", refusal(), reply.len > 2 ? (int)reply.len - 2 : 0,
                  (const char *)reply.value + 2);
    assert_int_equal(refusal(), 0);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0200);
    fc_remove(&x);
}

/* X6, P12: the host (attacker (c)) STOREs a package that already carries a seam.perso
   section (personalization it chose: the controller personalizes from its own store only).
   Refused at STORE, before anything reaches the card (an UPDATE of it started an upgrade
   session on the card, then failed at the personalization and left the journal); card and
   flash unchanged. */
static void p12_host_package_with_its_own_perso_section_is_refused_at_store_X6(void **state) {
    (void)state;
    fc_fixture x;
    uint8_t card0[32], flash0[32];
    fc_build(&x, PURSE_CONTROLLER);
    assert_int_equal(seam_flashcard_open(x.dir, &x.fc), SEAM_OK);
    size_t len = 0, n = 0;
    uint8_t *module = read_module("purse_v2", &len);
    seam_perso_record r;
    memset(&r, 0, sizeof r);
    assert_int_equal(seam_gp_aid_set(&r.instance, purse, sizeof purse), SEAM_OK);
    const uint8_t pin[] = {0xDF, 0x01, 4, '0', '0', '0', '0'};
    r.block_count = 1;
    r.blocks[0] = (seam_perso_block){0x90, pin, sizeof pin};
    uint8_t *v = malloc(1 + x.cin_len + len + 64);
    assert_non_null(v);
    v[0] = (uint8_t)x.cin_len;
    memcpy(v + 1, x.cin, x.cin_len);
    assert_int_equal(
        seam_perso_package_personalize(module, len, &r, v + 1 + x.cin_len, len + 64, &n), SEAM_OK);
    snapshot(&x, card0, flash0);
    assert_int_equal(host(x.fc, SEAM_FLASHCARD_CMD_STORE, v, 1 + x.cin_len + n), SEAM_OK);
    print_message("STORE of a package with seam.perso: %d %.*s\n", refusal(),
                  reply.len > 2 ? (int)reply.len - 2 : 0, (const char *)reply.value + 2);
    assert_int_equal(refusal(), SEAM_ERR_GP_PACKAGE);
    unchanged(&x, card0, flash0);
    assert_int_equal(fc_update_purse(x.fc), SEAM_OK);
    assert_int_equal(refusal(), SEAM_ERR_FLASHCARD_NO_PACKAGE);
    unchanged(&x, card0, flash0);
    free(v);
    free(module);
    seam_flashcard_close(x.fc);
    x.fc = NULL;
    assert_int_equal(purse_checked(&x), 0x0100);
    fc_remove(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(p12_fig11_controller_updates_from_its_flash),
        cmocka_unit_test(p12_fig10_terminal_updates_the_card_it_holds),
        cmocka_unit_test(p12_fig12_terminal_drives_the_card_through_the_controller),
        cmocka_unit_test(p12_bad_input_is_refused_and_changes_nothing),
        cmocka_unit_test(p12_controller_installs_and_restores_from_its_flash),
        cmocka_unit_test(p12_update_of_another_domains_package_is_refused),
        cmocka_unit_test(p12_host_cannot_act_in_the_controllers_session_X6),
        cmocka_unit_test(p12_two_controller_flows_in_one_power_on_open_fresh_sessions_X6),
        cmocka_unit_test(p12_host_downgrade_the_card_refuses_is_rolled_back_X4_X6),
        cmocka_unit_test(p12_host_package_with_its_own_perso_section_is_refused_at_store_X6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
