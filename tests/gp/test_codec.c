/*
 * The gp layer's codecs without a card: every builder against the bytes
 * GlobalPlatform lays down (gp_facts.md §1.3-§1.9, the purse's INSTALL of
 * bench/card_bench.c, kaoh's DELETE vector), their refusals, and the
 * decoders (GET STATUS, MANAGE ELF UPGRADE, DGIs, seam.package) on good and
 * broken input.
 */
#include "gp_test.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

/* Builds *in and compares with want[0..n). */
static void install_is(const seam_gp_install_fields *in, const uint8_t *want, size_t n) {
    uint8_t out[SEAM_GP_APDU_MAX];
    size_t len = 0;
    assert_int_equal(seam_gp_build_install(in, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);
}

#define INSTALL_IS(in, ...)                                                                        \
    install_is(in, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static seam_gp_install_fields fields(uint8_t role) {
    seam_gp_install_fields in;
    memset(&in, 0, sizeof in);
    in.role = role;
    return in;
}

static void install_builders_lay_out_every_role(void **state) {
    (void)state;
    seam_gp_install_fields in = fields(SEAM_GP_FOR_LOAD);
    uint8_t hash[32];
    memset(hash, 0xAB, sizeof hash);
    seam_gp_aid_set(&in.elf, hello_pkg, sizeof hello_pkg);
    INSTALL_IS(&in, 0x80, 0xE6, 0x02, 0x00, 0x0B, 6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0, 0, 0, 0,
               0x00);
    in.hash = hash;
    in.hash_len = 32;
    seam_gp_aid_set(&in.sd, isd_aid, sizeof isd_aid);
    uint8_t out[SEAM_GP_APDU_MAX];
    size_t len = 0;
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 5 + 7 + 9 + 33 + 2 + 1);
    assert_int_equal(out[4], 7 + 9 + 33 + 2);
    assert_memory_equal(out + 12, ((uint8_t[]){8, 0xA0, 0, 0, 1, 0x51, 0, 0, 0, 32}), 10);
    assert_memory_equal(out + 22, hash, 32);

    /* the purse's INSTALL [for install and make selectable], PIN 1234 (card_bench.c) */
    in = fields(SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE);
    seam_gp_aid_set(&in.elf, purse_pkg, sizeof purse_pkg);
    seam_gp_aid_set(&in.module, purse_cls, sizeof purse_cls);
    seam_gp_aid_set(&in.application, purse_cls, sizeof purse_cls);
    in.privileges_len = 1;
    in.app_params = (const uint8_t[]){0x04, '1', '2', '3', '4'};
    in.app_params_len = 5;
    INSTALL_IS(&in, 0x80, 0xE6, 0x0C, 0x00, 0x22, 0x06, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x07, 0xA0, 0,
               0, 0x05, 0x50, 0x55, 0x01, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01, 0x01, 0x00,
               0x07, 0xC9, 0x05, 0x04, '1', '2', '3', '4', 0x00, 0x00);
    /* for install alone, 3 privilege bytes, no C9 value: C9 00 all the same */
    in.role = SEAM_GP_FOR_INSTALL;
    in.privileges_len = 3;
    in.app_params = NULL;
    in.app_params_len = 0;
    INSTALL_IS(&in, 0x80, 0xE6, 0x04, 0x00, 0x1F, 0x06, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x07, 0xA0, 0,
               0, 0x05, 0x50, 0x55, 0x01, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01, 0x03, 0, 0, 0,
               0x02, 0xC9, 0x00, 0x00, 0x00);

    in = fields(SEAM_GP_FOR_MAKE_SELECTABLE);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    in.privileges_len = 1;
    INSTALL_IS(&in, 0x80, 0xE6, 0x08, 0x00, 0x0E, 0, 0, 7, 0xA0, 0, 0, 5, 0x48, 0x45, 0x01, 1, 0, 0,
               0, 0x00);

    in = fields(SEAM_GP_FOR_EXTRADITION);
    seam_gp_aid_set(&in.sd, isd_aid, sizeof isd_aid);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    INSTALL_IS(&in, 0x80, 0xE6, 0x10, 0x00, 0x15, 8, 0xA0, 0, 0, 1, 0x51, 0, 0, 0, 0, 7, 0xA0, 0, 0,
               5, 0x48, 0x45, 0x01, 0, 0, 0, 0x00);

    in = fields(SEAM_GP_FOR_PERSONALIZATION);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    INSTALL_IS(&in, 0x80, 0xE6, 0x20, 0x00, 0x0D, 0, 0, 7, 0xA0, 0, 0, 5, 0x48, 0x45, 0x01, 0, 0, 0,
               0x00);

    in = fields(SEAM_GP_FOR_REGISTRY_UPDATE);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    in.privileges_len = 3;
    in.privileges[1] = 0x10; /* Global Lock */
    in.params = (const uint8_t[]){0xEF, 0x03, 0xD9, 0x01, 0x02};
    in.params_len = 5;
    INSTALL_IS(&in, 0x80, 0xE6, 0x40, 0x00, 0x15, 0, 0, 7, 0xA0, 0, 0, 5, 0x48, 0x45, 0x01, 3, 0,
               0x10, 0, 5, 0xEF, 0x03, 0xD9, 0x01, 0x02, 0, 0x00);

    /* the combined [load, install and make selectable]: P2 01 the load layout, 03 the rest */
    in = fields(SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE);
    in.p2 = 0x01;
    seam_gp_aid_set(&in.elf, hello_pkg, sizeof hello_pkg);
    INSTALL_IS(&in, 0x80, 0xE6, 0x0E, 0x01, 0x0B, 6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0, 0, 0, 0,
               0x00);
    in.p2 = 0x03;
    in.elf.len = 0; /* its ELF AID may be empty */
    seam_gp_aid_set(&in.module, hello_cls, sizeof hello_cls);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    in.privileges_len = 1;
    INSTALL_IS(&in, 0x80, 0xE6, 0x0E, 0x03, 0x17, 0, 7, 0xA0, 0, 0, 5, 0x48, 0x45, 0x01, 7, 0xA0, 0,
               0, 5, 0x48, 0x45, 0x01, 1, 0, 2, 0xC9, 0, 0, 0x00);

    /* a token with a BER length over 127 bytes, and parameters making the data extended */
    static uint8_t big[300];
    in = fields(SEAM_GP_FOR_INSTALL);
    seam_gp_aid_set(&in.elf, hello_pkg, sizeof hello_pkg);
    seam_gp_aid_set(&in.module, hello_cls, sizeof hello_cls);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    in.privileges_len = 1;
    in.app_params = big;
    in.app_params_len = 200;
    in.token = big;
    in.token_len = 130;
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_OK);
    size_t data = 7 + 8 + 8 + 2 + (2 + 1 + 2 + 200) + (2 + 130);
    assert_int_equal(len, 7 + data + 2); /* 80 E6 04 00 00 hh ll ... 00 00 */
    assert_memory_equal(
        out, ((uint8_t[]){0x80, 0xE6, 0x04, 0x00, 0x00, (uint8_t)(data >> 8), (uint8_t)data}), 7);
    assert_memory_equal(out + 7 + 25, ((uint8_t[]){0x81, 203, 0xC9, 0x81, 200}), 5);
    assert_memory_equal(out + 7 + 25 + 5 + 200, ((uint8_t[]){0x81, 130}), 2);
}

static void install_builder_refuses_what_the_role_does_not_take(void **state) {
    (void)state;
    uint8_t out[64], before[64];
    size_t len = 1234;
    memset(out, 0x5A, sizeof out);
    memcpy(before, out, sizeof out);
    seam_gp_install_fields in = fields(SEAM_GP_FOR_LOAD);
    /* no ELF AID */
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    seam_gp_aid_set(&in.elf, hello_pkg, sizeof hello_pkg);
    in.hash_len = 65;
    in.hash = out;
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    in.hash_len = 0;
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls); /* not a load field */
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    in = fields(SEAM_GP_FOR_INSTALL);
    seam_gp_aid_set(&in.elf, hello_pkg, sizeof hello_pkg);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    in.privileges_len = 1;
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG); /* module */
    seam_gp_aid_set(&in.module, hello_cls, 4); /* an AID of 4 bytes */
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    seam_gp_aid_set(&in.module, hello_cls, sizeof hello_cls);
    in.privileges_len = 2;
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    in.privileges_len = 1;
    in.p2 = 0x01; /* P2 01 belongs to the combined role */
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    in = fields(0x06); /* no such role */
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    in = fields(SEAM_GP_FOR_EXTRADITION); /* the target SD is required */
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    assert_int_equal(seam_gp_build_install(&in, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_memory_equal(out, before, sizeof out);
    /* too small: the size needed, nothing written */
    in = fields(SEAM_GP_FOR_PERSONALIZATION);
    seam_gp_aid_set(&in.application, hello_cls, sizeof hello_cls);
    assert_int_equal(seam_gp_build_install(&in, out, 10, &len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 19);
    assert_memory_equal(out, before, sizeof out);
    assert_int_equal(seam_gp_aid_set(&in.sd, isd_aid, 17), SEAM_ERR_ARG);
}

static void other_builders_write_the_gp_commands(void **state) {
    (void)state;
    uint8_t out[SEAM_GP_APDU_MAX];
    size_t len = 0;
    /* kaoh's DELETE vector (gp_facts §3.9), plain, with Le */
    static const uint8_t app[] = {0xA0, 0x01, 0x00, 0x01, 0x51, 0x41, 0x43, 0x4C};
    assert_int_equal(seam_gp_build_delete(app, sizeof app, true, NULL, 0, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(out,
                        ((uint8_t[]){0x80, 0xE4, 0x00, 0x80, 0x0A, 0x4F, 0x08, 0xA0, 0x01, 0x00,
                                     0x01, 0x51, 0x41, 0x43, 0x4C, 0x00}),
                        16);
    assert_int_equal(seam_gp_build_delete(app, 4, false, NULL, 0, out, sizeof out, &len),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_gp_build_delete_key(0x30, 0, out, sizeof out, &len), SEAM_OK);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xE4, 0, 0, 3, 0xD2, 1, 0x30, 0}), 9);
    assert_int_equal(seam_gp_build_delete_key(0, 0, out, sizeof out, &len), SEAM_ERR_ARG);

    assert_int_equal(seam_gp_build_get_status(SEAM_GP_APPS, false, NULL, 0, out, sizeof out, &len),
                     SEAM_OK);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xF2, 0x40, 0x02, 0x02, 0x4F, 0x00, 0x00}), 8);
    assert_int_equal(
        seam_gp_build_get_status(SEAM_GP_ELFS_MODULES, true, hello_pkg, 3, out, sizeof out, &len),
        SEAM_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xF2, 0x10, 0x03, 5, 0x4F, 3, 0xA0, 0, 0, 0}), 11);
    assert_int_equal(seam_gp_build_get_status(0x30, false, NULL, 0, out, sizeof out, &len),
                     SEAM_ERR_ARG);

    assert_int_equal(seam_gp_build_set_status(0x80, 0x7F, NULL, 0, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xF0, 0x80, 0x7F}), 4);
    assert_int_equal(
        seam_gp_build_set_status(0x40, 0x80, hello_cls, sizeof hello_cls, out, sizeof out, &len),
        SEAM_OK);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xF0, 0x40, 0x80, 7, 0xA0, 0, 0, 5, 0x48}), 10);
    assert_int_equal(seam_gp_build_set_status(0x80, 0x7F, hello_cls, 7, out, sizeof out, &len),
                     SEAM_ERR_ARG);

    assert_int_equal(
        seam_gp_build_load(3, true, (const uint8_t[]){0xAA, 0xBB}, 2, out, sizeof out, &len),
        SEAM_OK);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xE8, 0x80, 0x03, 0x02, 0xAA, 0xBB, 0x00}), 8);
    assert_int_equal(seam_gp_build_load(0, false, out, 256, out, sizeof out, &len), SEAM_ERR_ARG);

    assert_int_equal(seam_gp_build_store_data(SEAM_GP_STORE_LAST | SEAM_GP_STORE_DGI, 0,
                                              (const uint8_t[]){0x00, 0x70, 0x01, 0x42}, 4, out,
                                              sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(len, 9); /* case 3: no Le */
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xE2, 0x88, 0x00, 4, 0x00, 0x70, 0x01, 0x42}), 9);
    assert_int_equal(seam_gp_build_store_data(0x18, 0, out, 1, out, sizeof out, &len),
                     SEAM_ERR_ARG); /* format 11 */

    /* MANAGE ELF UPGRADE start, as card_bench.c sends it; a new AID only with start */
    assert_int_equal(seam_gp_build_upgrade(SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg, NULL,
                                           0, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(len, 14);
    assert_memory_equal(
        out,
        ((uint8_t[]){0x80, 0xEA, 0x01, 0x00, 0x08, 0x4F, 0x06, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x00}),
        14);
    assert_int_equal(seam_gp_build_upgrade(SEAM_GP_UPGRADE_MIGRATE, purse_pkg, 6, hello_pkg, 6, out,
                                           sizeof out, &len),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_gp_build_upgrade(0x03, purse_pkg, 6, NULL, 0, out, sizeof out, &len),
                     SEAM_ERR_ARG);
}

static void put_key_builder_encrypts_under_the_dek_with_kcvs(void **state) {
    (void)state;
    static const uint8_t zero[16] = {0};
    seam_gp_keys keys, dek;
    uint8_t out[SEAM_GP_APDU_MAX], expected[10], clear[16], kcv[3];
    size_t len = 0;
    seam_gp_keys_default(&dek);
    memset(&keys, 0, sizeof keys);
    for (int i = 0; i < 16; i++) {
        keys.enc[i] = (uint8_t)i;
        keys.mac[i] = (uint8_t)(0x10 + i);
        keys.dek[i] = (uint8_t)(0x20 + i);
    }
    keys.len = 16;
    assert_int_equal(
        seam_gp_build_put_key(dek.dek, 16, 0x30, 0x31, &keys, out, sizeof out, &len, expected),
        SEAM_OK);
    assert_int_equal(len, 5 + 70 + 1);
    assert_memory_equal(out, ((uint8_t[]){0x80, 0xD8, 0x30, 0x81, 70, 0x31}), 6);
    const uint8_t *key[3] = {keys.enc, keys.mac, keys.dek};
    for (int i = 0; i < 3; i++) {
        const uint8_t *block = out + 6 + 23 * i;
        assert_memory_equal(block, ((uint8_t[]){0x88, 0x11, 0x10}), 3);
        assert_int_equal(seam_crypto_aes_cbc_decrypt(dek.dek, 16, zero, block + 3, 16, clear),
                         SEAM_OK);
        assert_memory_equal(clear, key[i], 16);
        assert_int_equal(seam_crypto_aes_kcv(key[i], 16, kcv), SEAM_OK);
        assert_int_equal(block[19], 0x03);
        assert_memory_equal(block + 20, kcv, 3);
        assert_memory_equal(expected + 1 + 3 * i, kcv, 3);
    }
    assert_int_equal(expected[0], 0x31);
    /* 24-byte keys: 88 21 18 <32 bytes> */
    keys.len = 24;
    assert_int_equal(
        seam_gp_build_put_key(dek.dek, 16, 0x00, 0x32, &keys, out, sizeof out, &len, expected),
        SEAM_OK);
    assert_memory_equal(out + 6, ((uint8_t[]){0x88, 0x21, 0x18}), 3);
    assert_int_equal(
        seam_gp_build_put_key(dek.dek, 16, 0x30, 0x00, &keys, out, sizeof out, &len, expected),
        SEAM_ERR_ARG);
    keys.len = 20;
    assert_int_equal(
        seam_gp_build_put_key(dek.dek, 16, 0x30, 0x31, &keys, out, sizeof out, &len, expected),
        SEAM_ERR_CRYPTO_KEY);
}

static void status_decoder_reads_e3_templates(void **state) {
    (void)state;
    static const uint8_t data[] = {
        0xE3, 0x13, 0x4F, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x9F, 0x70, 0x01,
        0x0F, 0xC5, 0x03, 0x9E, 0xFE, 0x80,
        /* a package: version, a module, its SD, seam's space, and CF (skipped) */
        0xE3, 0x2A, 0x4F, 0x06, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x9F, 0x70, 0x01, 0x01, 0xCE,
        0x02, 0x01, 0x02, 0x84, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0xCC, 0x08, 0xA0,
        0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0xDF, 0x71, 0x01, 0x02, 0xCF, 0x01, 0x00};
    seam_gp_status_iter it;
    seam_gp_status_entry e;
    seam_gp_status_iter_init(&it, data, sizeof data);
    assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_OK);
    assert_int_equal(e.aid.len, 8);
    assert_int_equal(e.lifecycle, 0x0F);
    assert_int_equal(e.privileges_len, 3);
    assert_memory_equal(e.privileges, ((uint8_t[]){0x9E, 0xFE, 0x80}), 3);
    assert_false(e.has_version);
    assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_OK);
    assert_memory_equal(e.aid.bytes, hello_pkg, 6);
    assert_true(e.has_version);
    assert_int_equal(e.version, 0x0102);
    assert_int_equal(e.module_count, 1);
    assert_memory_equal(e.modules[0].bytes, hello_cls, 7);
    assert_int_equal(e.sd.len, 8);
    assert_int_equal(e.space, 2);
    assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_ERR_NOT_FOUND);

    /* broken inputs: each is malformed, and the iterator stays put */
    static const uint8_t not_e3[] = {0xE2, 0x03, 0x4F, 0x01, 0x00};
    static const uint8_t short_aid[] = {0xE3, 0x06, 0x4F, 0x04, 0xA0, 0, 0, 1};
    static const uint8_t no_aid[] = {0xE3, 0x04, 0x9F, 0x70, 0x01, 0x07};
    static const uint8_t two_aids[] = {0xE3, 0x0E, 0x4F, 0x05, 1, 2, 3, 4,
                                       5,    0x4F, 0x05, 1,    2, 3, 4, 5};
    static const uint8_t long_lifecycle[] = {0xE3, 0x0C, 0x4F, 0x05, 1,    2,    3,
                                             4,    5,    0x9F, 0x70, 0x02, 0x07, 0x00};
    static const uint8_t truncated[] = {0xE3, 0x10, 0x4F, 0x05, 1, 2, 3};
    static const uint8_t inner_cut[] = {0xE3, 0x09, 0x4F, 0x05, 1, 2, 3, 4, 5, 0xC5, 0x03};
    const struct {
        const uint8_t *b;
        size_t n;
    } bad[] = {{not_e3, sizeof not_e3},
               {short_aid, sizeof short_aid},
               {no_aid, sizeof no_aid},
               {two_aids, sizeof two_aids},
               {long_lifecycle, sizeof long_lifecycle},
               {truncated, sizeof truncated},
               {inner_cut, sizeof inner_cut}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0x77, sizeof e);
        seam_gp_status_iter_init(&it, bad[i].b, bad[i].n);
        assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_ERR_MALFORMED);
        assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_ERR_MALFORMED);
        assert_int_equal(e.lifecycle, 0x77); /* untouched */
    }
    /* 33 modules: more than an entry keeps */
    static uint8_t many[4 + 7 + 33 * 7];
    size_t n = 0;
    many[n++] = 0xE3;
    many[n++] = 0x81;
    many[n++] = 7 + 33 * 7;
    many[n++] = 0x4F, many[n++] = 5, n += 5;
    for (int m = 0; m < 33; m++)
        many[n++] = 0x84, many[n++] = 5, n += 5;
    seam_gp_status_iter_init(&it, many, n);
    assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_ERR_MALFORMED);
}

static void upgrade_and_dgi_decoders(void **state) {
    (void)state;
    static const uint8_t ok[] = {0xA1, 0x12, 0x90, 0x01, 0x03, 0x4F, 0x06, 0xA0, 0,    0,
                                 0x05, 0x50, 0x55, 0x82, 0x02, 0x00, 0x02, 0x83, 0x01, 0x01};
    static const uint8_t empty_migrated[] = {0xA1, 0x0D, 0x90, 0x01, 0x01, 0x4F, 0x06, 0xA0,
                                             0,    0,    0x05, 0x50, 0x55, 0x81, 0x00};
    seam_gp_upgrade_status s;
    assert_int_equal(seam_gp_upgrade_decode(ok, sizeof ok, &s), SEAM_OK);
    assert_int_equal(seam_gp_upgrade_decode(ok, sizeof ok - 1, &s), SEAM_ERR_MALFORMED);
    assert_int_equal(seam_gp_upgrade_decode(empty_migrated, sizeof empty_migrated, &s),
                     SEAM_ERR_MALFORMED);
    assert_int_equal(s.status, 3);
    assert_memory_equal(s.package.bytes, purse_pkg, 6);
    assert_true(s.has_remaining);
    assert_int_equal(s.remaining, 2);
    assert_true(s.has_waiting);
    assert_int_equal(s.waiting, 1);
    assert_false(s.has_migrated);
    static const uint8_t no_status[] = {0xA1, 0x08, 0x4F, 0x06, 0xA0, 0, 0, 0x05, 0x50, 0x55};
    assert_int_equal(seam_gp_upgrade_decode(no_status, sizeof no_status, &s), SEAM_ERR_MALFORMED);

    static const uint8_t dgis[] = {0x00, 0x70, 0x03, 0x42, 0x01, 0x99, 0x7F,
                                   0x71, 0xFF, 0x00, 0x02, 0xAA, 0xBB};
    size_t pos = 0, vlen = 0;
    uint16_t tag = 0;
    const uint8_t *v = NULL;
    assert_int_equal(seam_gp_dgi_next(dgis, sizeof dgis, &pos, &tag, &v, &vlen), SEAM_OK);
    assert_int_equal(tag, 0x0070);
    assert_int_equal(vlen, 3);
    assert_int_equal(seam_gp_dgi_next(dgis, sizeof dgis, &pos, &tag, &v, &vlen), SEAM_OK);
    assert_int_equal(tag, 0x7F71);
    assert_int_equal(vlen, 2);
    assert_ptr_equal(v, dgis + 11);
    assert_int_equal(seam_gp_dgi_next(dgis, sizeof dgis, &pos, &tag, &v, &vlen),
                     SEAM_ERR_NOT_FOUND);
    pos = 0;
    assert_int_equal(seam_gp_dgi_next(dgis, 5, &pos, &tag, &v, &vlen), SEAM_ERR_TRUNCATED);
    pos = 6;
    assert_int_equal(seam_gp_dgi_next(dgis, 10, &pos, &tag, &v, &vlen), SEAM_ERR_TRUNCATED);
    assert_int_equal(pos, 6);
}

static void package_section_and_files(void **state) {
    (void)state;
    static const uint8_t section[] = {0x4F, 0x06, 0xA0, 0,    0,    0x05, 0x48, 0x45, 0xC0,
                                      0x02, 0x01, 0x00, 0xC1, 0x02, 0x01, 0x00, 0x61, 0x09,
                                      0x4F, 0x07, 0xA0, 0,    0,    0x05, 0x48, 0x45, 0x01};
    seam_gp_package p;
    assert_int_equal(seam_gp_package_parse(section, sizeof section, &p), SEAM_OK);
    assert_memory_equal(p.aid.bytes, hello_pkg, 6);
    assert_int_equal(p.version, 0x0100);
    assert_int_equal(p.applet_count, 1);
    assert_memory_equal(p.applets[0].bytes, hello_cls, 7);
    uint8_t twice[sizeof section + 11];
    memcpy(twice, section, sizeof section);
    memcpy(twice + sizeof section, section + 16, 11); /* the same applet again */
    assert_int_equal(seam_gp_package_parse(twice, sizeof twice, &p), SEAM_ERR_MALFORMED);
    assert_int_equal(seam_gp_package_parse(section, 12, &p), SEAM_ERR_MALFORMED); /* no C1, 61 */
    uint8_t odd[sizeof section];
    memcpy(odd, section, sizeof odd);
    odd[8] = 0xC2; /* an unknown tag */
    assert_int_equal(seam_gp_package_parse(odd, sizeof odd, &p), SEAM_ERR_MALFORMED);

    size_t len = 0;
    char why[200];
    uint8_t *hello = read_app("hello", &len);
    assert_int_equal(seam_gp_package_read(hello, len, &p, why, sizeof why), SEAM_OK);
    assert_memory_equal(p.applets[0].bytes, hello_cls, 7);
    hello[0] = 'X';
    assert_int_equal(seam_gp_package_read(hello, len, &p, why, sizeof why), SEAM_ERR_GP_PACKAGE);
    assert_non_null(strstr(why, "not a WebAssembly module"));
    static const uint8_t empty_module[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    assert_int_equal(seam_gp_package_read(empty_module, sizeof empty_module, &p, why, sizeof why),
                     SEAM_ERR_GP_PACKAGE);
    assert_non_null(strstr(why, "without a seam.package section"));
    free(hello);

    uint8_t out[400], module[300];
    memset(module, 0x11, sizeof module);
    assert_int_equal(seam_gp_load_file(module, 5, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(out, ((uint8_t[]){0xC4, 0x05, 0x11}), 3);
    assert_int_equal(seam_gp_load_file(module, 300, out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 304);
    assert_memory_equal(out, ((uint8_t[]){0xC4, 0x82, 0x01, 0x2C, 0x11}), 5);
    assert_int_equal(seam_gp_load_file(module, 300, out, 100, &len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 304);
}

static void words_for_status_words_lifecycles_and_privileges(void **state) {
    (void)state;
    char buf[400];
    assert_string_equal(seam_gp_sw_text(0x6A88), "referenced data not found");
    assert_string_equal(seam_gp_sw_text(0x6982), "security status not satisfied");
    assert_string_equal(seam_gp_sw_text(0x61FF), "more response data (GET RESPONSE)");
    assert_string_equal(seam_gp_sw_text(0x1234), "unknown status word");
    assert_string_equal(seam_gp_lifecycle_text(SEAM_GP_ISD, 0x0F, buf, sizeof buf), "SECURED");
    assert_string_equal(seam_gp_lifecycle_text(SEAM_GP_APPS, 0x87, buf, sizeof buf), "LOCKED");
    assert_string_equal(seam_gp_lifecycle_text(SEAM_GP_APPS, 0x07, buf, sizeof buf), "SELECTABLE");
    assert_string_equal(seam_gp_lifecycle_text(SEAM_GP_ELFS, 0x01, buf, sizeof buf), "LOADED");
    assert_string_equal(seam_gp_privileges_text((const uint8_t[]){0, 0, 0}, 3, buf, sizeof buf),
                        "none");
    assert_string_equal(
        seam_gp_privileges_text((const uint8_t[]){0x80, 0x40, 0x00}, 3, buf, sizeof buf),
        "SecurityDomain,AuthorizedManagement");
    assert_string_equal(seam_gp_privileges_text((const uint8_t[]){0xA0}, 1, buf, sizeof buf),
                        "SecurityDomain,DelegatedManagement");
}

/* The steps of the combined INSTALL are told apart (the first from the final command),
   within the 96 bytes the header promises. */
static void words_for_the_commands_a_header_names(void **state) {
    (void)state;
    char buf[96];
    assert_string_equal(
        seam_gp_command_text((const uint8_t[]){0x80, 0xE6, 0x0E, 0x01}, buf, sizeof buf),
        "INSTALL [for load, install and make selectable] (first, P2 01)");
    assert_string_equal(
        seam_gp_command_text((const uint8_t[]){0x80, 0xE6, 0x8E, 0x03}, buf, sizeof buf),
        "INSTALL [for load, install and make selectable] (final, P2 03)");
    assert_string_equal(
        seam_gp_command_text((const uint8_t[]){0x80, 0xE6, 0x02, 0x00}, buf, sizeof buf),
        "INSTALL [for load]");
    assert_string_equal(
        seam_gp_command_text((const uint8_t[]){0x84, 0xE8, 0x80, 0x1B}, buf, sizeof buf),
        "LOAD block 27");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(install_builders_lay_out_every_role),
        cmocka_unit_test(install_builder_refuses_what_the_role_does_not_take),
        cmocka_unit_test(other_builders_write_the_gp_commands),
        cmocka_unit_test(put_key_builder_encrypts_under_the_dek_with_kcvs),
        cmocka_unit_test(status_decoder_reads_e3_templates),
        cmocka_unit_test(upgrade_and_dgi_decoders),
        cmocka_unit_test(package_section_and_files),
        cmocka_unit_test(words_for_status_words_lifecycles_and_privileges),
        cmocka_unit_test(words_for_the_commands_a_header_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
