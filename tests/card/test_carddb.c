/*
 * The card's own database (issue 14, S8; docs/applet-abi.md "The card's registry",
 * docs/sync.md "./card"): apps/carddb, installed with Global Registry, answers the
 * card's packages and instances with their versions and its writable parameters
 * (80 30), and sets a parameter (80 32) in one transaction. Attacks: an applet
 * without the privilege reads the registry (apps/test_thief INS 02), carddb
 * installed without the privilege, a parameter name or value out of bounds, a
 * power cut at every write of a parameter.
 */
#include "card_host.h"

static const uint8_t db_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44};
static const uint8_t db_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t thief_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t thief_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

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
static uint16_t read_record(seam_card *card, uint8_t index, char key[65], char value[65],
                            bool *writable) {
    uint16_t sw = SEND(card, 0x81, 0x30, index, 0x00, 0x00);
    if (sw != 0x9000)
        return sw;
    assert_int_equal(response[0], 0xE1);
    assert_int_equal(response[1], response_len - 4);
    size_t o = 2;
    assert_int_equal(response[o], 0x80);
    memcpy(key, response + o + 2, response[o + 1]);
    key[response[o + 1]] = 0;
    o += 2 + response[o + 1];
    assert_int_equal(response[o], 0x81);
    memcpy(value, response + o + 2, response[o + 1]);
    value[response[o + 1]] = 0;
    o += 2 + response[o + 1];
    assert_int_equal(response[o], 0x82);
    *writable = response[o + 2] == 1;
    return sw;
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

static void s8_carddb_lists_packages_and_instances_with_versions(void **state) {
    fixture *f = *state;
    char key[65], value[65];
    bool w = true;
    carddb_card(f);
    /* packages in AID order (carddb's A0000005 4344 before hello's 4845), then instances */
    assert_int_equal(read_record(f->card, 0, key, value, &w), 0x9000);
    assert_string_equal(key, "package.A00000054344");
    assert_string_equal(value, "version=1.0");
    assert_false(w);
    assert_int_equal(read_record(f->card, 1, key, value, &w), 0x9000);
    assert_string_equal(key, "package.A00000054845");
    assert_int_equal(read_record(f->card, 2, key, value, &w), 0x9000);
    assert_string_equal(key, "instance.A0000005434401");
    assert_int_equal(read_record(f->card, 3, key, value, &w), 0x9000);
    assert_string_equal(key, "instance.A0000005484501");
    assert_string_equal(value, "version=1.0 lifecycle=07");
    assert_false(w);
    assert_int_equal(read_record(f->card, 4, key, value, &w), 0x6A83);
}

static void s8_carddb_parameter_is_written_and_read_back(void **state) {
    fixture *f = *state;
    char key[65], value[65];
    bool w = false;
    carddb_card(f);
    assert_int_equal(write_param(f->card, "label", "Anna's phone"), 0x9000);
    assert_int_equal(write_param(f->card, "label", "Anna"), 0x9000); /* replaced, not added */
    assert_int_equal(read_record(f->card, 4, key, value, &w), 0x9000);
    assert_string_equal(key, "param.label");
    assert_string_equal(value, "Anna");
    assert_true(w);
    assert_int_equal(read_record(f->card, 5, key, value, &w), 0x6A83);
    /* kept across a power cycle: the command's transaction was committed */
    reopen(f);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01, 0x00),
        0x9000);
    assert_int_equal(read_record(f->card, 4, key, value, &w), 0x9000);
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

static void s8_an_applet_without_global_registry_learns_nothing(void **state) {
    fixture *f = *state;
    static const uint8_t none[3] = {0x00, 0x00, 0x00};
    static const uint8_t zero[21] = {0};
    char key[65], value[65];
    bool w;
    carddb_card(f);
    load(f->card, "test_thief", thief_pkg, sizeof thief_pkg);
    assert_int_equal(install(f->card, 0x0C, thief_pkg, thief_cls, thief_cls, NULL, 0), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* channel 2 */
    assert_int_equal(
        SEND(f->card, 0x02, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01, 0x00),
        0x9000);
    for (uint8_t i = 0; i < 8; i++) { /* index 0..5 exist, 6.. do not: the same answer */
        assert_int_equal(SEND(f->card, 0x82, 0x02, i, 0x00, 0x00), 0x9000);
        assert_int_equal(response_len, 4 + 21 + 2);
        assert_memory_equal(response, ((const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFE}), 4); /* -2 */
        assert_memory_equal(response + 4, zero, sizeof zero);
    }
    /* carddb itself installed without the privilege: refused too */
    fresh_image(f);
    carddb_card_with(f, none);
    assert_int_equal(read_record(f->card, 0, key, value, &w), 0x6985);
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
        cmocka_unit_test_setup_teardown(s8_carddb_lists_packages_and_instances_with_versions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_parameter_is_written_and_read_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_carddb_refuses_bad_parameters_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s8_an_applet_without_global_registry_learns_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(x4_s8_power_cut_at_every_write_of_a_parameter, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
