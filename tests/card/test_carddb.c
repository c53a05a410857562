/*
 * The card's own database (issue 14, S8; docs/applet-abi.md "The card's registry",
 * docs/sync.md "./card"; issue 16): apps/carddb, installed with Global Registry,
 * answers the card's registry as a tree (domains with their associated domain,
 * packages and instances with their versions, packages and domains) and the restore
 * records it holds (owner, package, size: never their contents), then its writable
 * parameters (80 30), and sets a parameter (80 32) in one transaction. Attacks: an
 * applet without the privilege reads the registry (apps/test_thief INS 02), carddb
 * installed without the privilege, a parameter name or value out of bounds, a power
 * cut at every write of a parameter; a privileged reader with a short buffer gets only
 * what fits.
 */
#include "sd_host.h"

static const uint8_t db_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44};
static const uint8_t db_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t thief_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t thief_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t pin_1234[] = {0x04, '1', '2', '3', '4'};

/* INSTALL [for install and make selectable] of carddb with privileges priv (3 bytes). */
static uint16_t install_carddb(seam_card *card, const uint8_t priv[3]) {
    seam_gp_install_fields in = {.role = 0x0C,
                                 .elf = aid_of(db_pkg, sizeof db_pkg),
                                 .module = aid_of(db_cls, sizeof db_cls),
                                 .application = aid_of(db_cls, sizeof db_cls),
                                 .privileges_len = 3};
    memcpy(in.privileges, priv, 3);
    return install_with(card, &in);
}

/* hello and carddb (with priv) installed, carddb selected on channel 1. */
static void carddb_card_with(fixture *f, const uint8_t priv[3]) {
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_cls, NULL, 0), 0x9000);
    load(f->card, "carddb", db_pkg, sizeof db_pkg);
    assert_int_equal(install_carddb(f->card, priv), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01, 0x00),
        0x9000);
}

static void carddb_card(fixture *f) {
    static const uint8_t global_registry[3] = {0x00, 0x04, 0x00};
    carddb_card_with(f, global_registry);
}

/* Reads record index into key and value (NUL-terminated); its status word. */
static uint16_t read_record(seam_card *card, uint8_t index, char key[129], char value[129],
                            bool *writable) {
    uint16_t sw = SEND(card, 0x81, 0x30, index, 0x00, 0x00);
    if (sw != 0x9000)
        return sw;
    size_t o = 2;
    assert_int_equal(response[0], 0xE1);
    if (response[1] == 0x81) { /* BER: the long form from 128 bytes on, only there */
        assert_true(response[2] >= 0x80);
        o = 3;
    } else {
        assert_true(response[1] < 0x80);
    }
    assert_int_equal(response[o - 1], response_len - 2 - o);
    assert_int_equal(response[o], 0x80);
    assert_true(response[o + 1] <= 128);
    memcpy(key, response + o + 2, response[o + 1]);
    key[response[o + 1]] = 0;
    o += 2 + response[o + 1];
    assert_int_equal(response[o], 0x81);
    assert_true(response[o + 1] <= 128);
    memcpy(value, response + o + 2, response[o + 1]);
    value[response[o + 1]] = 0;
    o += 2 + response[o + 1];
    assert_int_equal(response[o], 0x82);
    *writable = response[o + 2] == 1;
    return sw;
}

/* Asserts record index is the fact key -> value. */
static void assert_fact(seam_card *card, uint8_t index, const char *key, const char *value) {
    char k[129], v[129];
    bool w = true;
    assert_int_equal(read_record(card, index, k, v, &w), 0x9000);
    assert_string_equal(k, key);
    assert_string_equal(v, value);
    assert_false(w);
}

/* 80 32 on channel 1: parameter name = value. */
static uint16_t write_param(seam_card *card, const char *name, const char *value) {
    uint8_t apdu[5 + 4 + 255];
    size_t n = strlen(name), v = strlen(value), o = 5;
    apdu[0] = 0x81;
    apdu[1] = 0x32;
    apdu[2] = apdu[3] = 0;
    apdu[o++] = 0x80;
    apdu[o++] = (uint8_t)n;
    memcpy(apdu + o, name, n);
    o += n;
    apdu[o++] = 0x81;
    apdu[o++] = (uint8_t)v;
    memcpy(apdu + o, value, v);
    o += v;
    apdu[4] = (uint8_t)(o - 5);
    return send(card, apdu, o);
}

#define ISD "A000000151000000"

/* The value of the record with key want (NUL-terminated into value); false when carddb
   has none. */
static bool find_record(seam_card *card, const char *want, char value[129]) {
    char key[129];
    bool w = true;
    for (unsigned i = 0; i < 32; i++) {
        if (read_record(card, (uint8_t)i, key, value, &w) != 0x9000)
            return false;
        if (!strcmp(key, want)) {
            assert_false(w);
            return true;
        }
    }
    return false;
}

static void s8_carddb_lists_the_registry_as_a_tree(void **state) {
    fixture *f = *state;
    char key[129], value[129];
    bool w = true;
    carddb_card(f);
    /* the ISD (no associated domain), packages in AID order (carddb's A0000005 4344
       before hello's 4845) with their domain, then instances with package and domain */
    assert_fact(f->card, 0, "domain." ISD, "lifecycle=0F");
    assert_fact(f->card, 1, "package.A00000054344", "version=1.0 sd=" ISD);
    assert_fact(f->card, 2, "package.A00000054845", "version=1.0 sd=" ISD);
    assert_fact(f->card, 3, "instance.A0000005434401",
                "version=1.0 lifecycle=07 package=A00000054344 sd=" ISD);
    assert_fact(f->card, 4, "instance.A0000005484501",
                "version=1.0 lifecycle=07 package=A00000054845 sd=" ISD);
    /* every instance has its restore record (empty: 0 bytes) */
    assert_fact(f->card, 5, "restore.A0000005434401", "owner=" ISD " package=A00000054344 bytes=0");
    assert_fact(f->card, 6, "restore.A0000005484501", "owner=" ISD " package=A00000054845 bytes=0");
    assert_int_equal(read_record(f->card, 7, key, value, &w), 0x6A83);
}

/* A restore record is reported by owner, package and size, never by its contents; it
   stays reported (without a package) when its instance is deleted. */
static void s8_carddb_reports_restore_records_by_size_only_P4(void **state) {
    fixture *f = *state;
    char value[129];
    /* PIN 9999 and balance 500 through the SD: one block of P1 + 14 bytes */
    const uint8_t block[] = {0xDF, 0x01, 4, '9', '9', '9', '9', 0xDF, 0x02, 4, 0, 0, 0x01, 0xF4};
    carddb_card(f);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, pin_1234, sizeof pin_1234), 0x9000);
    assert_true(find_record(f->card, "restore.A0000005505501", value));
    unsigned before = 0, after = 0;
    assert_int_equal(sscanf(value, "owner=" ISD " package=A00000055055 bytes=%u", &before), 1);
    assert_int_equal(install_perso(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
    assert_fact(f->card, 6, "instance.A0000005505501",
                "version=1.0 lifecycle=07 package=A00000055055 sd=" ISD);
    assert_true(find_record(f->card, "restore.A0000005505501", value));
    assert_int_equal(sscanf(value, "owner=" ISD " package=A00000055055 bytes=%u", &after), 1);
    assert_int_equal(after, before + 1 + sizeof block); /* the block: P1 and its data */
    assert_null(strstr(value, "39393939"));             /* the PIN, in no form */
    /* the instance deleted: its record stays, with no package the card could name */
    assert_int_equal(delete_aid(f->card, purse_cls, sizeof purse_cls, 0x00), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01, 0x00),
        0x9000);
    assert_false(find_record(f->card, "instance.A0000005505501", value));
    assert_true(find_record(f->card, "restore.A0000005505501", value));
    assert_int_equal(sscanf(value, "owner=" ISD " bytes=%u", &before), 1);
    assert_int_equal(before, after);
}

#define BANK    "A000000559100A010203040506070809"
#define HELLO16 "A0000005484501010203040506070809"

/* A supplementary domain with a 16-byte AID and an instance extradited to it: the tree
   names the SSD's associated domain (the ISD), the instance's new domain and its restore
   record's new owner; an instance record passes 127 bytes (E1 81 L). */
static void s8_carddb_names_a_supplementary_domain_in_long_records(void **state) {
    fixture *f = *state;
    static const uint8_t bank[16] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A, 0x01,
                                     0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    static const uint8_t hello16[16] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0x01,
                                        0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};
    char value[129];
    carddb_card(f);
    assert_int_equal(install_sd(f->card, 0x0C, bank, sizeof bank, priv_am, 3), 0x9000);
    assert_int_equal(install_aids(f->card, 0x0C, hello_pkg, sizeof hello_pkg, hello_cls,
                                  sizeof hello_cls, hello16, sizeof hello16, NULL, 0),
                     0x9000);
    assert_int_equal(extradite(f->card, bank, sizeof bank, hello16, sizeof hello16), 0x9000);
    assert_true(find_record(f->card, "domain." BANK, value));
    assert_string_equal(value, "lifecycle=07 sd=" ISD);
    assert_true(find_record(f->card, "instance." HELLO16, value)); /* 41 + 82 bytes: E1 81 */
    assert_string_equal(value, "version=1.0 lifecycle=07 package=A00000054845 sd=" BANK);
    assert_true(find_record(f->card, "restore." HELLO16, value));
    assert_string_equal(value, "owner=" BANK " package=A00000054845 bytes=0");
}

static void s8_carddb_parameter_is_written_and_read_back(void **state) {
    fixture *f = *state;
    char key[129], value[129];
    bool w = false;
    carddb_card(f);
    assert_int_equal(write_param(f->card, "label", "Anna's phone"), 0x9000);
    assert_int_equal(write_param(f->card, "label", "Anna"), 0x9000); /* replaced, not added */
    assert_int_equal(read_record(f->card, 7, key, value, &w), 0x9000);
    assert_string_equal(key, "param.label");
    assert_string_equal(value, "Anna");
    assert_true(w);
    assert_int_equal(read_record(f->card, 8, key, value, &w), 0x6A83);
    /* kept across a power cycle: the command's transaction was committed */
    reopen(f);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01, 0x00),
        0x9000);
    assert_int_equal(read_record(f->card, 7, key, value, &w), 0x9000);
    assert_string_equal(value, "Anna");
}

static void s8_carddb_refuses_bad_parameters_and_changes_nothing(void **state) {
    fixture *f = *state;
    uint8_t before[32], after[32];
    carddb_card(f);
    assert_int_equal(write_param(f->card, "label", "x"), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(write_param(f->card, "", "x"), 0x6A80);
    assert_int_equal(write_param(f->card, "Label", "x"), 0x6A80);
    assert_int_equal(write_param(f->card, "a-name-far-too-long", "x"), 0x6A80);
    assert_int_equal(write_param(f->card, "label", "line\nbreak"), 0x6A80);
    assert_int_equal(
        write_param(f->card, "label",
                    "sixty-five bytes sixty-five bytes sixty-five bytes sixty-five byte"),
        0x6A80);
    assert_int_equal(write_param(f->card, "a", "1"), 0x9000);
    assert_int_equal(write_param(f->card, "b", "2"), 0x9000);
    assert_int_equal(write_param(f->card, "c", "3"), 0x9000);
    fingerprint(f->card, after);
    assert_memory_not_equal(before, after, 32);
    fingerprint(f->card, before);
    assert_int_equal(write_param(f->card, "d", "4"), 0x6A84); /* four slots, all taken */
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
}

#define ENTRY_MAX 59 /* SEAM_REGISTRY_ENTRY_MAX of include/seam/applet.h */

/* test_thief's INS 02: registry entry index into a buffer of cap bytes (0: ENTRY_MAX) on
   channel 2; the int32 result, the buffer in response + 4. */
static int32_t thief_reads(seam_card *card, uint8_t index, uint8_t cap) {
    assert_int_equal(SEND(card, 0x82, 0x02, index, cap, 0x00), 0x9000);
    assert_int_equal(response_len, 4 + ENTRY_MAX + 2);
    return (int32_t)((uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 |
                     (uint32_t)response[2] << 8 | response[3]);
}

/* test_thief (with privileges priv) selected on channel 2 of a carddb card. */
static void thief_card(fixture *f, const uint8_t priv[3]) {
    seam_gp_install_fields in = {.role = 0x0C,
                                 .elf = aid_of(thief_pkg, sizeof thief_pkg),
                                 .module = aid_of(thief_cls, sizeof thief_cls),
                                 .application = aid_of(thief_cls, sizeof thief_cls),
                                 .privileges_len = 3};
    memcpy(in.privileges, priv, 3);
    carddb_card(f);
    load(f->card, "test_thief", thief_pkg, sizeof thief_pkg);
    assert_int_equal(install_with(f->card, &in), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* channel 2 */
    assert_int_equal(
        SEND(f->card, 0x02, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01, 0x00),
        0x9000);
}

static void s8_an_applet_without_global_registry_learns_nothing(void **state) {
    fixture *f = *state;
    static const uint8_t none[3] = {0x00, 0x00, 0x00};
    static const uint8_t zero[ENTRY_MAX] = {0};
    char key[129], value[129];
    bool w;
    thief_card(f, none);
    /* 10 entries (1 domain, 3 packages, 3 instances, 3 restore records), index 10.. none:
       the same answer for all, with the largest buffer or a small one */
    for (uint8_t i = 0; i < 12; i++) {
        assert_int_equal(thief_reads(f->card, i, 0), -2);
        assert_memory_equal(response + 4, zero, sizeof zero);
        assert_int_equal(thief_reads(f->card, i, 5), -2);
        assert_memory_equal(response + 4, zero, sizeof zero);
    }
    /* carddb itself installed without the privilege: refused too */
    fresh_image(f);
    carddb_card_with(f, none);
    assert_int_equal(read_record(f->card, 0, key, value, &w), 0x6985);
}

/* A reader with the privilege and a short buffer gets what fits and the whole length;
   the entries are the tree (domain, package and SD AIDs) and a restore record's size. */
static void s8_a_registry_entry_is_cut_to_the_callers_buffer(void **state) {
    fixture *f = *state;
    static const uint8_t global_registry[3] = {0x00, 0x04, 0x00};
    static const uint8_t isd_entry[] = {1, 0x0F, 0, 0, 8, 0xA0, 0, 0, 0x01, 0x51, 0, 0, 0, 0};
    static const uint8_t zero[ENTRY_MAX] = {0};
    thief_card(f, global_registry);
    assert_int_equal(thief_reads(f->card, 0, 0), (int32_t)sizeof isd_entry);
    assert_memory_equal(response + 4, isd_entry, sizeof isd_entry);
    assert_memory_equal(response + 4 + sizeof isd_entry, zero, ENTRY_MAX - sizeof isd_entry);
    assert_int_equal(thief_reads(f->card, 0, 6), (int32_t)sizeof isd_entry);
    assert_memory_equal(response + 4, isd_entry, 6);
    assert_memory_equal(response + 4 + 6, zero, ENTRY_MAX - 6);
    /* entry 4: carddb's instance, with its SD then its package */
    static const uint8_t inst[] = {3,    0x07, 1,    0,    7, 0xA0, 0,    0,    0x05, 0x43,
                                   0x44, 0x01, 8,    0xA0, 0, 0,    0x01, 0x51, 0,    0,
                                   0,    6,    0xA0, 0,    0, 0x05, 0x43, 0x44};
    assert_int_equal(thief_reads(f->card, 4, 0), (int32_t)sizeof inst);
    assert_memory_equal(response + 4, inst, sizeof inst);
    /* entry 7: carddb's restore record (empty), the largest kind: size 0 at its end */
    assert_int_equal(thief_reads(f->card, 7, 0), (int32_t)sizeof inst + 4);
    assert_int_equal(response[4], 4);
    assert_memory_equal(response + 4 + 4, inst + 4, sizeof inst - 4);
    assert_memory_equal(response + 4 + sizeof inst, zero, 4);
    assert_int_equal(thief_reads(f->card, 10, 0), -1);
}

/* X4: a parameter write is one transaction: a cut at any write leaves the card as it was. */
static void prepare_param(fixture *f) {
    carddb_card(f);
    assert_int_equal(write_param(f->card, "label", "old"), 0x9000);
}

static uint16_t op_param(seam_card *card) {
    return write_param(card, "label", "new value");
}

static void x4_s8_power_cut_at_every_write_of_a_parameter(void **state) {
    fixture *f = *state;
    assert_true(sweep_every_write(f, prepare_param, op_param) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s8_carddb_lists_the_registry_as_a_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_reports_restore_records_by_size_only_P4, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_names_a_supplementary_domain_in_long_records,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_parameter_is_written_and_read_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_refuses_bad_parameters_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_an_applet_without_global_registry_learns_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_a_registry_entry_is_cut_to_the_callers_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(x4_s8_power_cut_at_every_write_of_a_parameter, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
