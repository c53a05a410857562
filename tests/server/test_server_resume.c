/*
 * An update step that an interrupted session leaves half-way on the card (docs/server.md,
 * "Faults"; X5, P8). The server is the built `seam server` (a subprocess, --lease 1) on
 * SQLite, or with `postgresql` on a PostgreSQL of the test's own; the card is in this
 * process with a stand-in terminal (kill_harness.h) that can lose power in the middle of
 * a command script: the card then holds an open MANAGE ELF UPGRADE session.
 *
 * The operator installs the purse 1.0 with its personalization, the holder spends 120,
 * the operator updates to 2.0, and the terminal is cut right after MANAGE ELF UPGRADE
 * start, in the middle of the LOAD, or after the LOAD before migrate (and once with the
 * server SIGKILLed at the same moment). Its next session resumes the step from what the
 * card reports: every time the target ends done, the card has 2.0, PIN 4321 and balance
 * 380, no upgrade session is left, and the card received exactly one start.
 *
 * An upgrade session the campaign cannot continue (another new package) is aborted and
 * the update applied; one of another security domain is never touched: the step fails
 * and says why.
 */
#include "kill_harness.h"
#include "store_backend.h"

static const uint8_t other_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x56};

/* Where the terminal is cut in the update's script (the nth command INS/P1), whether the
   server is SIGKILLed at that moment too, and what the server's note on the card's log
   says it sent to finish (only what the card's upgrade session was missing). */
typedef struct {
    uint8_t ins;
    int p1, nth;
    bool kill_server;
    const char *note;
} cut_point;

#define LOAD_AND_MIGRATE "resumed the card's upgrade session: load and migrate"
#define MIGRATE_ONLY     "resumed the card's upgrade session: migrate\""

/* before INSTALL [for load], before the third LOAD, after the last LOAD; both die */
static const cut_point after_start = {0xE6, 0x02, 1, false, LOAD_AND_MIGRATE};
static const cut_point mid_load = {0xE8, -1, 3, false, LOAD_AND_MIGRATE};
static const cut_point before_migrate = {0xEA, 0x02, 1, false, MIGRATE_ONLY};
static const cut_point mid_load_server_killed = {0xE8, -1, 5, true, LOAD_AND_MIGRATE};

/* True when the card's event log on the server holds text. */
static bool card_log_has(const server_proc *s, const card_agent *a, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/api/cards/%s/events", a->cin);
    char *r = api(s, "GET", path, NULL, NULL, 0, 200);
    bool found = strstr(r, text) != NULL;
    free(r);
    return found;
}

/* The card's MANAGE ELF UPGRADE status of the purse package (00: no session). */
static uint8_t upgrade_status(card_agent *a) {
    seam_gp *gp = isd_session(&a->link);
    uint8_t status = registry_purse_upgrade(gp);
    seam_gp_free(gp);
    return status;
}

/* Drives the card's terminal until campaign id's target ends (done or failed); a cut with
   kill_server SIGKILLs the server and starts it again on the same folder / database. */
static void drive(server_proc *s, card_agent *a, int id, bool kill_server, char state[16],
                  char reason[256]) {
    time_t deadline = time(NULL) + 60;
    for (;;) {
        long st = agent_exchange(a, s->port, false);
        if (a->was_cut && kill_server) {
            server_kill(s);
            server_spawn(s, 1);
        }
        if (st == 200 || a->in_session || st == 0)
            continue;
        target_read(s, id, a->cin, state, NULL, reason);
        if (!strcmp(state, "done") || !strcmp(state, "failed"))
            return;
        if (time(NULL) > deadline)
            fail_msg("the target did not end (state %s)", state);
        usleep(200 * 1000); /* the cut session's claim has not expired yet */
    }
}

/* The purse 1.0 installed and personalized on one card through a campaign, 120 spent. */
static void installed_and_spent(server_proc *s, card_agent *a, const char *db) {
    char state[16], reason[256];
    server_folder(s, db);
    server_spawn(s, 1);
    agent_open(a, s->dir, 0);
    upload(s, "purse.wasm");
    upload(s, "purse_v2.wasm");
    add_card(s, a);
    int install = campaign(s, "install", "1.0", a, 1);
    drive(s, a, install, false, state, reason);
    assert_string_equal(state, "done");
    assert_int_equal(purse_open(&a->link), 0x9000);
    const uint8_t debit[] = {0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 120};
    assert_int_equal(purse_send(&a->link, debit, sizeof debit, NULL, NULL), 0x9000);
}

static void finish(server_proc *s, card_agent *a) {
    server_kill(s);
    agent_close(a);
    server_folder_remove(s);
}

/* The update to 2.0 with the terminal cut at cut, then resumed: done, the card at 2.0 with
   its PIN and balance, no session left, one start received. */
static void update_cut_then_resumed(const char *db, cut_point cut) {
    server_proc s;
    card_agent a;
    char state[16], reason[256];
    installed_and_spent(&s, &a, db);
    a.cut.ins = cut.ins;
    a.cut.p1 = cut.p1;
    a.cut.nth = cut.nth;
    a.starts = 0;
    int update = campaign(&s, "update", "2.0", &a, 1);
    drive(&s, &a, update, cut.kill_server, state, reason);
    printf("# cut before command %02X/%d #%d%s: %s (%s), %d start(s)\n", cut.ins, cut.p1, cut.nth,
           cut.kill_server ? ", server killed" : "", state, reason, a.starts);
    assert_true(a.cut.done); /* the cut did land in the update's script */
    assert_string_equal(state, "done");
    assert_int_equal(a.starts, 1);
    assert_true(card_log_has(&s, &a, cut.note));
    assert_int_equal(upgrade_status(&a), 0x00);
    assert_int_equal(purse_version(&a), 0x0200);
    assert_int_equal(purse_open(&a.link), 0x9000);
    assert_int_equal(purse_balance(&a.link), 380);
    finish(&s, &a);
}

static void update_cut_after_start_resumes_without_a_second_start_X5_P8(void **state) {
    (void)state;
    update_cut_then_resumed(NULL, after_start);
}

static void update_cut_mid_load_resumes_with_the_load_and_migrate_X5_P8(void **state) {
    (void)state;
    update_cut_then_resumed(NULL, mid_load);
}

static void update_cut_before_migrate_resumes_with_migrate_only_X5_P8(void **state) {
    (void)state;
    update_cut_then_resumed(NULL, before_migrate);
}

static void update_cut_with_the_server_killed_resumes_the_same_X5(void **state) {
    (void)state;
    update_cut_then_resumed(NULL, mid_load_server_killed);
}

/* A session the campaign cannot continue: started by the ISD towards another new package
   (its C4), nothing loaded. The update aborts it (the package back as it was) and applies
   itself: done, 2.0, the data kept. */
static void update_over_a_foreign_upgrade_session_aborts_it_first_X5(void **state) {
    (void)state;
    server_proc s;
    card_agent a;
    char st[16], reason[256];
    installed_and_spent(&s, &a, NULL);
    seam_gp *gp = isd_session(&a.link);
    seam_gp_upgrade_status started;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_upgrade(gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg,
                                     other_pkg, sizeof other_pkg, &started, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    seam_gp_free(gp);
    assert_int_equal(upgrade_status(&a), 0x02);
    int update = campaign(&s, "update", "2.0", &a, 1);
    drive(&s, &a, update, false, st, reason);
    printf("# a session towards another package: %s (%s)\n", st, reason);
    assert_string_equal(st, "done");
    assert_true(card_log_has(&s, &a, "aborted the card's upgrade session towards another"));
    assert_int_equal(upgrade_status(&a), 0x00);
    assert_int_equal(purse_version(&a), 0x0200);
    assert_int_equal(purse_open(&a.link), 0x9000);
    assert_int_equal(purse_balance(&a.link), 380);
    finish(&s, &a);
}

/* A session of another security domain: bank A (an SSD the ISD installed) was handed the
   purse package and started its upgrade. The ISD's update never touches it (no abort):
   the step fails and says why, and the session is still there. */
static void update_leaves_another_domains_upgrade_session_alone_X5(void **state) {
    (void)state;
    static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
    static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
    static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};
    server_proc s;
    card_agent a;
    char st[16], reason[256];
    uint16_t sw = 0;
    installed_and_spent(&s, &a, NULL);
    seam_gp *gp = isd_session(&a.link);
    seam_gp_install_fields in;
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
    seam_gp_aid_set(&in.elf, sd_elf, sizeof sd_elf);
    seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
    seam_gp_aid_set(&in.application, bank_a, sizeof bank_a);
    memcpy(in.privileges, (const uint8_t[]){0x80, 0xC0, 0x00}, 3); /* Authorized Management */
    in.privileges_len = 3;
    assert_int_equal(seam_gp_install(gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_EXTRADITION;
    seam_gp_aid_set(&in.sd, bank_a, sizeof bank_a);
    seam_gp_aid_set(&in.application, purse_pkg, sizeof purse_pkg);
    assert_int_equal(seam_gp_install(gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    seam_gp_free(gp);
    seam_gp_keys keys; /* bank A has the key set of the session that installed it */
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_new(&a.link, &gp), SEAM_OK);
    assert_int_equal(seam_gp_select(gp, bank_a, sizeof bank_a, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x01, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(
        seam_gp_upgrade(gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg, NULL, 0, NULL, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x9000);
    seam_gp_free(gp);
    a.starts = a.aborts = 0;
    int update = campaign(&s, "update", "2.0", &a, 1);
    drive(&s, &a, update, false, st, reason);
    printf("# another domain's session: %s (%s), %d start(s), %d abort(s)\n", st, reason, a.starts,
           a.aborts);
    assert_string_equal(st, "failed");
    assert_non_null(strstr(reason, "another security domain"));
    assert_int_equal(a.aborts, 0);
    assert_int_equal(upgrade_status(&a), 0x02); /* bank A's session, as it was */
    finish(&s, &a);
}

/* X5 on PostgreSQL: the same cuts, the server killed once. */
static void update_cut_resumes_postgresql_X5_P8(void **state) {
    (void)state;
    update_cut_then_resumed(backend_fresh_url(), after_start);
    update_cut_then_resumed(backend_fresh_url(), mid_load);
    update_cut_then_resumed(backend_fresh_url(), before_migrate);
    update_cut_then_resumed(backend_fresh_url(), mid_load_server_killed);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = 0;
    if (!strcmp(backend, "postgresql")) {
        if (backend_start("postgresql"))
            return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(update_cut_resumes_postgresql_X5_P8),
        };
        failed = cmocka_run_group_tests_name("update resumed, postgresql", tests, NULL, NULL);
        backend_stop();
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(update_cut_after_start_resumes_without_a_second_start_X5_P8),
            cmocka_unit_test(update_cut_mid_load_resumes_with_the_load_and_migrate_X5_P8),
            cmocka_unit_test(update_cut_before_migrate_resumes_with_migrate_only_X5_P8),
            cmocka_unit_test(update_cut_with_the_server_killed_resumes_the_same_X5),
            cmocka_unit_test(update_over_a_foreign_upgrade_session_aborts_it_first_X5),
            cmocka_unit_test(update_leaves_another_domains_upgrade_session_alone_X5),
        };
        failed = cmocka_run_group_tests_name("update resumed, sqlite", tests, NULL, NULL);
    }
    spawned_kill_all();
    curl_global_cleanup();
    return failed;
}
