/*
 * The terminal's reading of the card's own database (S8; src/terminal/card_db.c,
 * docs/sync.md "./card"; issue 16) against the real card in process and apps/carddb:
 * ./card gets the registry as a tree (domain., package., instance., restore. facts),
 * records past 127 bytes included (E1 81 L), and ./apps keeps its view of the card's
 * instances. The synchronization itself is a stand-in that changes nothing, so what is
 * checked is the terminal's view of the card.
 */
#include "card/sd_host.h"
#include "seam/sync.h"
#include "seam/terminal.h"

#define ISD     "A000000151000000"
#define BANK    "A000000559100A010203040506070809"
#define HELLO16 "A0000005484501010203040506070809"

static const uint8_t db_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44};
static const uint8_t db_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t bank[16] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A, 0x01,
                                 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
static const uint8_t hello16[16] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0x01,
                                    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

/* The synchronization stand-in: the peer accepted everything and sent nothing. */
static seam_err no_peer(const seam_terminal_sync_request *req, seam_terminal_sync_outcome *out) {
    (void)req;
    out->failure = SEAM_TERMINAL_SYNC_OK;
    return SEAM_OK;
}

/* carddb (Global Registry), hello, the SSD bank (16-byte AID) holding hello16 (16 bytes),
   all installed by the ISD; hello16 extradited to bank with its restore record. */
static void tree_card(fixture *f) {
    static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};
    seam_gp_install_fields in = {.role = 0x0C,
                                 .elf = aid_of(db_pkg, sizeof db_pkg),
                                 .module = aid_of(db_cls, sizeof db_cls),
                                 .application = aid_of(db_cls, sizeof db_cls),
                                 .privileges = {0x00, 0x04, 0x00},
                                 .privileges_len = 3};
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "carddb", db_pkg, sizeof db_pkg);
    assert_int_equal(install_with(f->card, &in), 0x9000);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(install_sd(f->card, 0x0C, bank, sizeof bank, priv_am, 3), 0x9000);
    assert_int_equal(install_aids(f->card, 0x0C, hello_pkg, sizeof hello_pkg, hello_cls,
                                  sizeof hello_cls, hello16, sizeof hello16, NULL, 0),
                     0x9000);
    assert_int_equal(extradite(f->card, bank, sizeof bank, hello16, sizeof hello16), 0x9000);
}

/* Runs the terminal's ./card sync into a fresh database at f->path + ".dm"; its path. */
static void read_card(fixture *f, char dm[128]) {
    seam_terminal_sync_outcome out;
    snprintf(dm, 128, "%s.dm", f->path);
    remove(dm);
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_CHANGESET,
                                      .type = SEAM_SYNC_TWO_WAY,
                                      .dm_path = dm,
                                      .device_id = "IMEI:490154203237518",
                                      .source_uri = SEAM_SYNC_CARD,
                                      .target_uri = SEAM_SYNC_CARD,
                                      .server_url = "http://127.0.0.1:9/unused"};
    assert_int_equal(seam_terminal_sync_card(&host_link, no_peer, &req, &out), SEAM_OK);
    assert_int_equal(out.failure, SEAM_TERMINAL_SYNC_OK);
}

static void assert_card_has(seam_sync_db *db, const char *key, const char *value) {
    seam_sync_record r;
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_CARD, key, &r), SEAM_OK);
    assert_string_equal(r.value, value);
}

static void s8_the_terminal_reads_the_registry_tree_into_card(void **state) {
    fixture *f = *state;
    char dm[128];
    seam_sync_db *db = NULL;
    seam_sync_record r;
    tree_card(f);
    read_card(f, dm);
    assert_int_equal(seam_sync_open(dm, &db), SEAM_OK);
    assert_card_has(db, "domain." ISD, "lifecycle=0F");
    assert_card_has(db, "domain." BANK, "lifecycle=07 sd=" ISD);
    assert_card_has(db, "package.A00000054845", "version=1.0 sd=" ISD);
    assert_card_has(db, "instance." HELLO16, /* a 130-byte record: E1 81 82 */
                    "version=1.0 lifecycle=07 package=A00000054845 sd=" BANK);
    assert_card_has(db, "instance.A0000005434401",
                    "version=1.0 lifecycle=07 package=A00000054344 sd=" ISD);
    assert_card_has(db, "restore." HELLO16, "owner=" BANK " package=A00000054845 bytes=0");
    /* ./apps: the card's instances, as before */
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, HELLO16, &r), SEAM_OK);
    assert_int_equal(r.kind, SEAM_SYNC_KIND_CARD);
    assert_string_equal(r.version, "1.0");
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, "A0000005434401", &r), SEAM_OK);
    assert_int_equal(seam_sync_get(db, SEAM_SYNC_APPS, "A00000054845", &r), SEAM_ERR_NOT_FOUND);
    seam_sync_close(db);
    remove(dm);
}

/* Two restore records of one instance AID (bank's, left when bank deleted its instance,
   and the ISD's, made when the ISD installed the AID again) share the key
   restore.<AID>: the terminal keeps the first carddb answers (the ISD's: identities sort
   by the owner's AID length first) and the sync still runs. */
static void s8_two_restore_records_of_one_aid_do_not_stop_the_sync(void **state) {
    fixture *f = *state;
    char dm[128];
    seam_sync_db *db = NULL;
    tree_card(f);
    assert_int_equal(open_sd(f->card, bank, sizeof bank, test_key), 0x9000);
    assert_int_equal(delete_aid(f->card, hello16, sizeof hello16, 0x00), 0x9000);
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    assert_int_equal(install_aids(f->card, 0x0C, hello_pkg, sizeof hello_pkg, hello_cls,
                                  sizeof hello_cls, hello16, sizeof hello16, NULL, 0),
                     0x9000);
    read_card(f, dm);
    assert_int_equal(seam_sync_open(dm, &db), SEAM_OK);
    assert_card_has(db, "instance." HELLO16,
                    "version=1.0 lifecycle=07 package=A00000054845 sd=" ISD);
    assert_card_has(db, "restore." HELLO16, "owner=" ISD " package=A00000054845 bytes=0");
    seam_sync_close(db);
    remove(dm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s8_the_terminal_reads_the_registry_tree_into_card, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_two_restore_records_of_one_aid_do_not_stop_the_sync,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
