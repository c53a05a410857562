/*
 * Updating an application without losing its data (requirements P8, P9, X4;
 * docs/restore-module.md "Upgrade"): purse 1.0, personalized once over
 * SCP03 and used, is replaced by purse 2.0 with MANAGE ELF UPGRADE; its PIN
 * comes back from the restore module and its balance, counter and log
 * through save_for_upgrade / restore_after_upgrade.
 */
#include "card_host.h"
#include "seam/util.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};
static const uint8_t pin[] = {'5', '6', '7', '8'};

/* MANAGE ELF UPGRADE action p1 on package (or instance) aid, through the channel. */
static uint16_t upgrade(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len) {
    uint16_t sw = 0;
    seam_err e = seam_gp_upgrade(session(card), p1, aid, len, NULL, 0, NULL, &sw);
    return host_result(e, &sw);
}

/* STORE DATA of whole DGIs data[0..len) to the selected SD, through the channel. */
static uint16_t store_dgis(seam_card *card, const uint8_t *data, size_t len) {
    uint16_t sw = 0;
    seam_err e = seam_gp_store_data(session(card), SEAM_GP_STORE_DGI, data, len, &sw);
    return host_result(e, &sw);
}

/* Opens SCP03 at level 33 with the ISD. */
static void open_level_33(seam_card *card) {
    assert_int_equal(open_at(card, NULL, 0, test_key, 0x33), 0x9000);
}

/* The status byte (tag 90) of the last MANAGE ELF UPGRADE response. */
static uint8_t upgrade_status(void) {
    assert_true(response_len >= 2 + 5);
    assert_int_equal(response[0], 0xA1);
    assert_int_equal(response[2], 0x90);
    return response[4];
}

/* purse 1.0 installed as `purse`, personalized with PIN 5678 by STORE DATA, then
   used: credit 100, debit 30 (balance 70, counter 2, two log entries). */
static void personalized_and_used(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    assert_int_equal(install_perso(card, purse, sizeof purse), 0x9000);
    uint8_t block[] = {0xDF, 0x01, 4, '5', '6', '7', '8'};
    assert_int_equal(gp(card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 100), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 30), 0x9000);
}

/* Checks the purse: PIN 5678 (1234 refused), balance 70, counter 2, the log. */
static void purse_kept_its_data(seam_card *card) {
    assert_int_equal(select_aid(card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 70, 0, 0, 0, 2}), 8);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 2 * 13 + 2); /* newest first: the debit */
    assert_memory_equal(response, ((uint8_t[]){2, 0, 0, 0, 30, 0, 0, 0, 70, 0, 0, 0, 2}), 13);
}

/* The purse package's version, from GET STATUS (CE), with the ISD's channel open. */
static uint16_t purse_version(seam_card *card) {
    const uint8_t crit[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    uint16_t v = 0;
    assert_int_equal(gp(card, true, 0xF2, 0x20, 0x02, crit, sizeof crit), 0x9000);
    for (size_t i = 0; i + 4 <= response_len; i++)
        if (response[i] == 0xCE && response[i + 1] == 2)
            v = (uint16_t)(response[i + 2] << 8 | response[i + 3]);
    return v;
}

static void p8_update_keeps_personalization_and_application_data(void **state) {
    fixture *f = *state;
    seam_card_traffic before, after;
    personalized_and_used(f->card);
    open_channel(f->card);
    seam_card_traffic_get(f->card, &before);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x02); /* waiting for the new package */
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x01); /* completed */
    seam_card_traffic_get(f->card, &after);
    /* P8: no personalization data crossed the interface during the update: no STORE
       DATA, and only the package bytes (LOAD) beyond a few commands */
    assert_int_equal(after.by_ins[0xE2].commands, before.by_ins[0xE2].commands);
    size_t file_len;
    free(read_app("purse_v2", &file_len));
    uint64_t load_in = after.by_ins[0xE8].bytes_in - before.by_ins[0xE8].bytes_in;
    uint64_t other_in = after.total.bytes_in - before.total.bytes_in - load_in;
    print_message("P8 update: %llu LOAD bytes for a %zu-byte load file, %llu other bytes in\n",
                  (unsigned long long)load_in, file_len, (unsigned long long)other_in);
    assert_true(other_in < 200);
    purse_kept_its_data(f->card);
    /* 2.0's new feature, and its version in the registry */
    assert_int_equal(SEND(f->card, 0x80, 0x70, 0x00, 0x00, 4, 0, 0, 0, 10), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 11), 0x6985);
    open_channel(f->card);
    assert_int_equal(purse_version(f->card), 0x0200);
    assert_int_equal(upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x00); /* no session left */
    reopen(f);
    purse_kept_its_data(f->card);
}

static void p8_upgrade_refusals_change_nothing(void **state) {
    fixture *f = *state;
    personalized_and_used(f->card);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    /* no channel */
    assert_int_equal(SEND(f->card, 0x00, 0xA4, 0x04, 0x00, 0x00), 0x9000);
    assert_int_equal(
        SEND(f->card, 0x80, 0xEA, 0x01, 0x00, 8, 0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55),
        0x6982);
    open_channel(f->card);
    /* migrate or abort without a session, an unknown package, bad data, bad P1/P2 */
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6A88);
    assert_int_equal(upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x6A88);
    const uint8_t unknown[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x99};
    assert_int_equal(upgrade(f->card, 0x01, unknown, sizeof unknown), 0x6A88);
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, (const uint8_t[]){0x4F, 2, 1, 2}, 4),
                     0x6A80);
    assert_int_equal(gp(f->card, true, 0xEA, 0x03, 0x00, NULL, 0), 0x6A86);
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x01, NULL, 0), 0x6A86);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    /* start, then migrate before the new package is there: 6985, the session stays */
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x6985);
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6985);
    /* abort puts the package back; the purse never stopped working */
    assert_int_equal(upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    purse_kept_its_data(f->card);
}

/* P9: the record leaves the card only at level 33, encrypted and MACed. */
static void p9_record_exported_only_encrypted(void **state) {
    fixture *f = *state;
    personalized_and_used(f->card);
    open_channel(f->card); /* C-MAC only */
    assert_int_equal(upgrade(f->card, 0x10, purse, sizeof purse), 0x6982);
    /* at 33 the exported record comes back under R-ENC and R-MAC */
    assert_int_equal(open_at(f->card,
                             (const uint8_t[]){0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}, 8,
                             test_key, 0x33),
                     0x9000);
    assert_int_equal(upgrade(f->card, 0x10, purse, sizeof purse), 0x9000);
    /* what the terminal relays: no PIN in clear */
    for (size_t i = 0; i + 4 <= last_received_len; i++)
        assert_false(!memcmp(last_received + i, pin, 4));
    /* A2 { 4F purse, C0 01 00, E2 90 DF01 04 5678, E1 { 80 "balance" ... } ... } */
    const uint8_t *plain = response;
    size_t plain_len = response_len - 2;
    assert_int_equal(plain[0], 0xA2);
    bool has_pin = false, has_version = false;
    for (size_t i = 0; i + 8 <= plain_len; i++) {
        has_pin |= !memcmp(plain + i, ((uint8_t[]){0xE2, 8, 0x90, 0xDF, 0x01, 4, '5', '6'}), 8);
        has_version |= !memcmp(plain + i, ((uint8_t[]){0xC0, 2, 1, 0}), 4);
    }
    assert_true(has_pin);
    assert_true(has_version);
}

/*
 * X4 over the whole update: a power cut at every write point of start, the new
 * package's load and migrate. After each cut the card is reopened; the purse
 * answers with all its data (as 1.0 or as 2.0, never neither), the session
 * status says where the upgrade stands, and finishing it from there works.
 */
static void x4_power_cut_at_every_write_of_an_update(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *file = read_app("purse_v2", &len);
    int n = 1;
    for (; n < 400; n++) {
        seam_card_close(f->card);
        f->card = NULL;
        remove_image(f->path);
        assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
        personalized_and_used(f->card);
        open_channel(f->card);
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        cut_expected = true;
        uint16_t sw = upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg);
        if (sw == 0x9000)
            sw = install_for_load(f->card, purse_pkg, sizeof purse_pkg);
        if (sw == 0x9000)
            sw = load_blocks(f->card, file, len);
        if (sw == 0x9000)
            sw = upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg);
        cut_expected = false;
        if (sw == 0x9000) { /* no cut left */
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            break;
        }
        assert_int_equal(sw, 0);
        reopen(f);
        purse_kept_its_data(f->card);
        /* finish the update from where it stands */
        open_channel(f->card);
        assert_int_equal(upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg), 0x9000);
        uint8_t st = upgrade_status();
        assert_true(st == 0x00 || st == 0x02 || st == 0x03);
        if (st == 0x00 && purse_version(f->card) == 0x0100) /* cut during start */
            assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
        if (st != 0x03 && purse_version(f->card) != 0x0200 &&
            upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg) == 0x9000 &&
            upgrade_status() == 0x02)
            load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
        if (upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg) == 0x9000 &&
            upgrade_status() == 0x03)
            assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x9000);
        assert_int_equal(purse_version(f->card), 0x0200);
        purse_kept_its_data(f->card);
    }
    free(file);
    print_message("X4 update (start, load, migrate): %d write points swept\n", n - 1);
    assert_true(n > 5 && n < 400);
    reopen(f);
    purse_kept_its_data(f->card);
}

/* ---- the terminal variants (P6, P9) and the interfaces (P11) ------------------------- */

/* Appends a custom section `seam.perso` with blocks[0..n) (E2 len P1 || data each) to
   module[0..*len) (frees it); returns the load file of the new module. */
static uint8_t *with_perso_section(uint8_t *module, size_t *len, const uint8_t *blocks, size_t n) {
    static const char name[] = "seam.perso";
    size_t payload = 1 + (sizeof name - 1) + n;
    uint8_t *out = malloc(*len + 3 + payload);
    size_t m = *len;
    assert_non_null(out);
    assert_true(payload < 128);
    memcpy(out, module, *len);
    out[m++] = 0x00; /* custom section */
    out[m++] = (uint8_t)payload;
    out[m++] = (uint8_t)(sizeof name - 1);
    memcpy(out + m, name, sizeof name - 1);
    m += sizeof name - 1;
    memcpy(out + m, blocks, n);
    m += n;
    free(module);
    return load_file_of(out, m, len);
}

/* P6: the terminal personalizes the package (its seam.perso section) and loads the
   result; the card files the data in the restore module and personalizes from it. */
static void p6_terminal_personalizes_the_package(void **state) {
    fixture *f = *state;
    static const uint8_t blocks[] = {0xE2, 8, 0x90, 0xDF, 0x01, 4, '5', '6', '7', '8'};
    size_t len;
    uint8_t *file = with_perso_section(read_module("purse", &len), &len, blocks, sizeof blocks);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    /* and the record keeps it: a reinstall from a package without the section */
    open_channel(f->card);
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
}

/*
 * P9: the update done through the terminal. The card exports the record under the
 * session (the terminal relays what it cannot read); the server takes the
 * personalization blocks out of it into the new package's seam.perso section and
 * sends the application data back as DGI 7F71; the card updates from those.
 */
static void p9_update_through_the_terminal(void **state) {
    fixture *f = *state;
    uint8_t plain[1024], blocks[300], dgi[600];
    size_t plain_len = 0, nb = 0, nd = 0;
    personalized_and_used(f->card);
    open_level_33(f->card);
    assert_int_equal(upgrade(f->card, 0x10, purse, sizeof purse), 0x9000);
    plain_len = response_len - 2;
    assert_true(plain_len <= sizeof plain);
    memcpy(plain, response, plain_len);
    /* the server: E2 blocks into the package, E1 entries into DGI 7F71 */
    seam_tlv outer, item;
    seam_tlv_iter it;
    assert_int_equal(seam_tlv_parse(plain, plain_len, &outer), SEAM_OK);
    assert_int_equal(outer.tag, 0xA2);
    dgi[nd++] = 0x7F;
    dgi[nd++] = 0x71;
    dgi[nd++] = 0; /* the DGI's length, below */
    dgi[nd++] = 0x4F;
    dgi[nd++] = 7;
    memcpy(dgi + nd, purse, 7);
    nd += 7;
    seam_tlv_iter_init(&it, outer.value, outer.length);
    while (seam_tlv_iter_next(&it, &item) == SEAM_OK) {
        uint8_t *to = item.tag == 0xE2 ? blocks + nb : item.tag == 0xE1 ? dgi + nd : NULL;
        size_t whole = item.header_len + item.length;
        if (!to)
            continue;
        memcpy(to, item.value - item.header_len, whole);
        *(item.tag == 0xE2 ? &nb : &nd) += whole;
    }
    assert_true(nb > 0 && nd > 12 && nd - 3 < 0xFF);
    dgi[2] = (uint8_t)(nd - 3);
    /* the card: start, the personalized package, the data, migrate */
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    size_t len;
    uint8_t *file = with_perso_section(read_module("purse_v2", &len), &len, blocks, nb);
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    assert_int_equal(store_dgis(f->card, dgi, nd), 0x9000);
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x01); /* completed */
    purse_kept_its_data(f->card);
}

/* P11: the external interface has a path to application memory (the applet's APDUs)
   and one to the restore module (DGI 7F70), and the internal interface joins them
   (the applet's restore_put, the card's replay at install). */
static void p11_both_paths_and_the_internal_interface(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_level_33(f->card);
    /* external -> restore module, before any application exists */
    static const uint8_t dgi[] = {0x7F, 0x70, 19, 0x4F, 7,    0xA0, 0x00, 0x00, 0x05, 0x50, 0x55,
                                  0x11, 0xE2, 8,  0x90, 0xDF, 0x01, 4,    '4',  '3',  '2',  '1'};
    assert_int_equal(store_dgis(f->card, dgi, sizeof dgi), 0x9000);
    open_channel(f->card);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    /* internal restore module -> application memory, at install */
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    /* external -> application memory */
    assert_int_equal(select_aid(f->card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '4', '3', '2', '1'), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 9), 0x9000);
    /* application memory -> restore module (save_for_upgrade's puts), seen after an
       update: the balance came through the internal interface */
    open_channel(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(select_aid(f->card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 9, 0, 0, 0, 1}), 8);
}

/* ---- the second example: pay-TV (P7 data through an update) --------------------------- */

static const uint8_t paytv_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56};
static const uint8_t paytv_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0x01};
static const uint8_t paytv_key[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                      0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00};

static uint16_t add_entitlement(seam_card *card, uint16_t channel, uint32_t expiry) {
    uint8_t cmd[5 + 14] = {0x80,
                           0x10,
                           0x00,
                           0x00,
                           14,
                           (uint8_t)(channel >> 8),
                           (uint8_t)channel,
                           (uint8_t)(expiry >> 24),
                           (uint8_t)(expiry >> 16),
                           (uint8_t)(expiry >> 8),
                           (uint8_t)expiry};
    uint8_t mac[32];
    assert_int_equal(seam_crypto_hmac_sha256(paytv_key, 16, cmd + 5, 6, mac), SEAM_OK);
    memcpy(cmd + 11, mac, 8);
    return send(card, cmd, sizeof cmd);
}

static void p7_paytv_entitlements_survive_the_update(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_channel(f->card);
    size_t len;
    uint8_t *file = read_app("paytv", &len);
    assert_int_equal(install_for_load(f->card, paytv_pkg, sizeof paytv_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(paytv_pkg, sizeof paytv_pkg),
                                 .module = aid_of(paytv_cls, sizeof paytv_cls),
                                 .application = aid_of(paytv_cls, sizeof paytv_cls),
                                 .privileges_len = 1};
    assert_int_equal(install_with(f->card, &in), 0x9000);
    assert_int_equal(install_perso(f->card, paytv_cls, sizeof paytv_cls), 0x9000);
    uint8_t block[3 + 4 + 3 + 16] = {0xDF, 0x10, 4, 'S', 'U', 'B', '1', 0xDF, 0x11, 16};
    memcpy(block + 10, paytv_key, 16);
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
    assert_int_equal(select_aid(f->card, paytv_cls, sizeof paytv_cls), 0x9000);
    assert_int_equal(add_entitlement(f->card, 7, 20261130), 0x9000);
    assert_int_equal(add_entitlement(f->card, 9, 20270131), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 6, 0, 7, 0x01, 0x35, 0x29, 0x03),
                     0x9000); /* WATCH channel 7 on 20261123 */
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 0x00), 0x9000);
    uint8_t list[12];
    assert_int_equal(response_len, sizeof list + 2);
    memcpy(list, response, sizeof list);
    /* the update: paytv 1.0 -> 2.0, no personalization data sent again */
    open_channel(f->card);
    assert_int_equal(upgrade(f->card, 0x01, paytv_pkg, sizeof paytv_pkg), 0x9000);
    file = read_app("paytv_v2", &len);
    assert_int_equal(install_for_load(f->card, paytv_pkg, sizeof paytv_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    assert_int_equal(upgrade(f->card, 0x02, paytv_pkg, sizeof paytv_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x01);
    assert_int_equal(select_aid(f->card, paytv_cls, sizeof paytv_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, sizeof list + 2);
    assert_memory_equal(response, list, sizeof list);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0, 7, 0x01, 0x35, 0x29, 0x03}), 6);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, "SUB1", 4);
    /* 2.0's new feature: REMOVE EXPIRED on 20261201 drops channel 7 */
    assert_int_equal(SEND(f->card, 0x80, 0x60, 0x00, 0x00, 4, 0x01, 0x35, 0x29, 0x51, 0x00),
                     0x9000);
    assert_int_equal(response[0], 1);
    assert_int_equal(add_entitlement(f->card, 5, 20271231), 0x9000); /* the key came back */
}

/* ---- X4 over the restore module's own commands ------------------------------------ */

typedef uint16_t (*restore_op)(seam_card *card);

/* DGI 7F70: a new PIN block for the purse, filed and replayed into it at once. */
static uint16_t op_dgi_7f70(seam_card *card) {
    static const uint8_t dgi[] = {0x7F, 0x70, 19, 0x4F, 7,    0xA0, 0x00, 0x00, 0x05, 0x50, 0x55,
                                  0x11, 0xE2, 8,  0x90, 0xDF, 0x01, 4,    '9',  '9',  '9',  '9'};
    return store_dgis(card, dgi, sizeof dgi);
}

/* The record's export: save_for_upgrade files the purse's data first. */
static uint16_t op_export(seam_card *card) {
    return upgrade(card, 0x10, purse, sizeof purse);
}

/* DELETE of the record (the instance stays): DF70, seam's own tag, so by hand. */
static uint16_t op_delete_record(seam_card *card) {
    uint8_t d[10] = {0xDF, 0x70, 7};
    memcpy(d + 3, purse, 7);
    return gp(card, true, 0xE4, 0x00, 0x00, d, sizeof d);
}

/* MANAGE ELF UPGRADE start then abort: the sweep is over the abort. */
static uint16_t op_abort(seam_card *card) {
    return upgrade(card, 0x04, purse_pkg, sizeof purse_pkg);
}

/* The card with the purse personalized and used and a level-33 channel open (and, for
   the abort, an upgrade started); the fingerprint taken right before the command. */
static void prepare(fixture *f, restore_op op, uint8_t before[32]) {
    fresh_image(f);
    personalized_and_used(f->card);
    open_level_33(f->card);
    if (op == op_abort)
        assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    fingerprint(f->card, before);
}

static void x4_power_cut_at_every_write_of_the_restore_commands(void **state) {
    fixture *f = *state;
    static const struct {
        const char *name;
        restore_op op;
    } ops[] = {{"STORE DATA DGI 7F70", op_dgi_7f70},
               {"export (P1 10)", op_export},
               {"DELETE DF70", op_delete_record},
               {"MANAGE ELF UPGRADE abort", op_abort}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        uint8_t before[32], after[32], now[32];
        prepare(f, ops[i].op, before); /* the reference run, without a cut */
        assert_int_equal(ops[i].op(f->card), 0x9000);
        fingerprint(f->card, after);
        assert_memory_not_equal(before, after, 32);
        int n = 1;
        for (; n < 200; n++) {
            prepare(f, ops[i].op, before);
            assert_int_equal(
                seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
                SEAM_OK);
            cut_expected = true;
            uint16_t sw = ops[i].op(f->card);
            cut_expected = false;
            if (sw == 0x9000) { /* no cut left */
                assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                                 SEAM_OK);
                break;
            }
            assert_int_equal(sw, 0);
            reopen(f);
            fingerprint(f->card, now);
            assert_memory_equal(now, before, 32); /* the command's transaction is gone */
        }
        print_message("X4 %s: %d write points swept\n", ops[i].name, n - 1);
        assert_true(n > 1 && n < 200);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(p8_update_keeps_personalization_and_application_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p8_upgrade_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(p9_record_exported_only_encrypted, setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_an_update, setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_the_restore_commands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p6_terminal_personalizes_the_package, setup, teardown),
        cmocka_unit_test_setup_teardown(p9_update_through_the_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(p11_both_paths_and_the_internal_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(p7_paytv_entitlements_survive_the_update, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
