/*
 * Upgrade sessions and the other security domains (issue 9 item 1;
 * requirements P10, U5, U7, X1; docs/upgrade.md "Ownership"): while the
 * issuer upgrades its purse package, bank B, another security domain with
 * Authorized Management, must not get its own code into the place of the new
 * version (upgrade target squatting), a migration must hand bank A's restore
 * record only to code loaded by the session's owner, and nothing bank B does
 * may make the clean-up (U7) delete bank A's instances before bank A moves.
 *
 * The card: the ISD loads purse 1.0 and creates bank A and bank B (AM), each
 * taking its own keys; bank A installs purse A1 and personalizes its PIN
 * (1111) by STORE DATA, then uses it (balance 100). Bank B's weapon is
 * apps/test_thief: a package claiming the purse's package AID and class at
 * version 2.0 that keeps every personalization block and application data
 * entry it is handed and answers them to anyone (INS 01).
 */
#include "card/store/package_store.h"
#include "sd_host.h"

static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_next[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x56}; /* new version's AID */
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t pin_a[] = {'1', '1', '1', '1'};

static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00}; /* SD, Authorized Management, TP */

static uint8_t key_a[16], key_b[16];

static void as_isd(seam_card *card) {
    assert_int_equal(open_sd(card, isd, sizeof isd, test_key), 0x9000);
}
static void as_bank_a(seam_card *card) {
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, key_a), 0x9000);
}
static void as_bank_b(seam_card *card) {
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, key_b), 0x9000);
}

/* A refused command: the expected status word and the whole card state unchanged. */
#define REFUSED(card, call, sw)                                                                    \
    do {                                                                                           \
        uint8_t before_[32], after_[32];                                                           \
        fingerprint(card, before_);                                                                \
        assert_int_equal((call), (sw));                                                            \
        fingerprint(card, after_);                                                                 \
        assert_memory_equal(before_, after_, 32);                                                  \
    } while (0)

/* INSTALL [for install and make selectable] with AIDs of any length, C9 00. */
static uint16_t install_app(seam_card *card, const uint8_t *pkg, size_t pkg_len, const uint8_t *cls,
                            size_t cls_len, const uint8_t *aid, size_t aid_len) {
    return install_aids(card, 0x0C, pkg, pkg_len, cls, cls_len, aid, aid_len, NULL, 0);
}

/* MANAGE ELF UPGRADE P1 with 4F aid [C4 to]. */
static uint16_t upgrade(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len,
                        const uint8_t *to, size_t to_len) {
    uint8_t d[4 + 32] = {0x4F, (uint8_t)len};
    size_t n = 2 + len;
    memcpy(d + 2, aid, len);
    if (to) {
        d[n++] = 0xC4;
        d[n++] = (uint8_t)to_len;
        memcpy(d + n, to, to_len);
        n += to_len;
    }
    return gp(card, true, 0xEA, p1, 0x00, d, n);
}

/* The load file of apps/<name>.wasm with its package AID (4F 06 `from` in the
   seam.package section) replaced by aid (6 bytes). */
static uint8_t *app_from_as(const char *name, const uint8_t *from, const uint8_t *aid,
                            size_t *len) {
    uint8_t *file = read_app(name, len);
    uint8_t pattern[2 + sizeof purse_pkg] = {0x4F, sizeof purse_pkg};
    memcpy(pattern + 2, from, sizeof purse_pkg);
    for (size_t i = 0; i + sizeof pattern <= *len; i++)
        if (!memcmp(file + i, pattern, sizeof pattern)) {
            memcpy(file + i + 2, aid, sizeof purse_pkg);
            return file;
        }
    fail_msg("no package AID in %s", name);
    return NULL;
}

/* apps/<name>.wasm, a package with the purse's AID, renamed to aid. */
static uint8_t *app_as(const char *name, const uint8_t *aid, size_t *len) {
    return app_from_as(name, purse_pkg, aid, len);
}

/* INSTALL [for load] of aid and LOAD of apps/<name>.wasm renamed to aid: the first
   refusal, or 9000. */
static uint16_t load_as(seam_card *card, const char *name, const uint8_t *aid) {
    size_t len;
    uint8_t *file = app_as(name, aid, &len);
    uint16_t sw = install_for_load(card, aid, 6);
    if (sw == 0x9000)
        sw = load_blocks(card, file, len);
    free(file);
    return sw;
}

/* True when the last response's data holds bytes[0..len). */
static bool response_has(const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i + len <= response_len - 2; i++)
        if (!memcmp(response + i, bytes, len))
            return true;
    return false;
}

/* Bank A's purse A1: PIN 1111 verifies (a wrong one does not), balance 100, and its
   version (GET LIMIT, INS 71: 2.0 has it). */
static int purse_a1_check(seam_card *card) {
    assert_int_equal(select_aid(card, purse_a1, sizeof purse_a1), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '9', '9', '9', '9'), 0x63C2);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '1', '1', '1', '1'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 100}), 4);
    uint16_t sw = SEND(card, 0x80, 0x71, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || sw == 0x6D00);
    return sw == 0x9000 ? 2 : 1;
}

/* The card described at the top. */
static void banks(seam_card *card) {
    memset(key_a, 0xA5, sizeof key_a);
    memset(key_b, 0xB5, sizeof key_b);
    power_on(card);
    open_channel(card);
    assert_int_equal(install_sd(card, 0x0C, bank_a, sizeof bank_a, priv_am, 3), 0x9000);
    assert_int_equal(install_sd(card, 0x0C, bank_b, sizeof bank_b, priv_am, 3), 0x9000);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_a), 0x9000);
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_b), 0x9000);
    as_bank_a(card);
    assert_int_equal(
        install_app(card, purse_pkg, sizeof purse_pkg, purse_cls, 7, purse_a1, sizeof purse_a1),
        0x9000);
    assert_int_equal(install_perso(card, purse_a1, sizeof purse_a1), 0x9000);
    uint8_t block[] = {0xDF, 0x01, 4, pin_a[0], pin_a[1], pin_a[2], pin_a[3]};
    assert_int_equal(gp(card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
    assert_int_equal(select_aid(card, purse_a1, sizeof purse_a1), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '1', '1', '1', '1'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 100), 0x9000);
    assert_int_equal(purse_a1_check(card), 1);
}

/* Bank A migrates A1 and gets purse 2.0 with its PIN and balance; the thief's loot
   (if its code had been installed) would hold neither. */
static void bank_a_migrates_to_the_issuers_code(seam_card *card) {
    as_bank_a(card);
    assert_int_equal(upgrade(card, 0x02, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(purse_a1_check(card), 2);
    assert_int_equal(select_aid(card, purse_a1, sizeof purse_a1), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x6D00); /* not the thief */
}

/* The attack as told: the issuer starts the upgrade of its purse (same AID);
   bank B loads its thief under that AID before the issuer loads purse 2.0. */
static void hardening_01_squatting_the_new_version_refused_P10_U5(void **state) {
    fixture *f = *state;
    banks(f->card);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    as_bank_b(f->card);
    REFUSED(f->card, install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x6985);
    /* the issuer's real new version goes in; bank A's record goes to it */
    as_isd(f->card);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    bank_a_migrates_to_the_issuers_code(f->card);
}

/* The same with the new version under another AID (C4): bank B can take neither that
   AID nor the old one (free in the useful space meanwhile), nor use them for an SSD
   or an instance; the issuer's new package cannot be given away while the session
   lives. */
static void hardening_01_squatting_another_new_aid_refused_P10_U5(void **state) {
    fixture *f = *state;
    banks(f->card);
    as_bank_b(f->card);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg); /* its own, for later */
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, purse_next, 6), 0x9000);
    as_bank_b(f->card);
    REFUSED(f->card, install_for_load(f->card, purse_next, sizeof purse_next), 0x6985);
    REFUSED(f->card, install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x6985);
    REFUSED(f->card, install_sd(f->card, 0x0C, purse_next, 6, priv_am, 3), 0x6985);
    REFUSED(f->card, install_sd(f->card, 0x0C, purse_pkg, 6, priv_am, 3), 0x6985);
    REFUSED(f->card, install_app(f->card, hello_pkg, 6, hello_cls, 7, purse_next, 6), 0x6985);
    REFUSED(f->card, install_app(f->card, hello_pkg, 6, hello_cls, 7, purse_pkg, 6), 0x6985);
    /* the owner loads its new version there, and cannot give it away meanwhile */
    as_isd(f->card);
    assert_int_equal(load_as(f->card, "purse_v2", purse_next), 0x9000);
    REFUSED(f->card, extradite(f->card, bank_b, sizeof bank_b, purse_next, 6), 0x6985);
    bank_a_migrates_to_the_issuers_code(f->card);
    /* the session is over: the AIDs are ordinary again */
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x00);
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_next, 6), 0x9000);
}

/* A new version named by C4 must be the starter's own: bank B's package loaded there
   beforehand cannot be made the new version of the issuer's purse. */
static void hardening_01_start_naming_another_domains_package_refused_P10(void **state) {
    fixture *f = *state;
    banks(f->card);
    as_bank_b(f->card);
    assert_int_equal(load_as(f->card, "test_thief", purse_next), 0x9000);
    as_isd(f->card);
    REFUSED(f->card, upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, purse_next, 6), 0x6982);
    /* nor an AID that can never hold a package (an SD, an instance) */
    REFUSED(f->card, upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, bank_b, 7), 0x6985);
    REFUSED(f->card, upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, purse_a1, 7), 0x6985);
    /* the purse is untouched */
    assert_int_equal(purse_a1_check(f->card), 1);
}

/* Defence in depth: an image where another SD's package already sits under the new
   version's AID (made by an older card, here written directly): migrate refuses to
   hand bank A's record to it and changes nothing. */
static void hardening_01_migrate_only_to_the_session_owners_code_P10_U5(void **state) {
    fixture *f = *state;
    store_package p;
    banks(f->card);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, purse_next, 6), 0x9000);
    as_bank_b(f->card);
    size_t len;
    uint8_t *file = app_as("test_thief", purse_next, &len);
    seam_nvm *nvm = seam_card_nvm(f->card);
    memset(&p, 0, sizeof p);
    memcpy(p.aid, purse_next, 6);
    p.aid_len = 6;
    p.version = 0x0200;
    p.applet_count = 1;
    memcpy(p.applets[0], purse_cls, 7);
    p.applet_lens[0] = 7;
    memcpy(p.sd, bank_b, sizeof bank_b);
    p.sd_len = sizeof bank_b;
    p.space = SPACE_USEFUL;
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(store_package_put(nvm, &p, file + 4, len - 4), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    free(file);
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg, NULL, 0), 0x6985);
    assert_int_equal(purse_a1_check(f->card), 1);
    /* the thief never saw the PIN: it has no instance at all */
    as_bank_b(f->card);
    assert_int_equal(select_aid(f->card, purse_a1, sizeof purse_a1), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x6D00);
    assert_false(response_has(pin_a, sizeof pin_a));
}

/* Nor can bank B make bank A look as if it had moved: an instance of the new version
   extradited into bank A would let the clean-up (U7) delete bank A's purse, balance
   and all, as soon as bank B migrates. Instances of either version stay in their SD
   while the session lives. */
static void hardening_01_no_extradition_into_another_domains_upgrade_U5_U7(void **state) {
    fixture *f = *state;
    static const uint8_t purse_b1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB1};
    static const uint8_t purse_b2[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB2};
    banks(f->card);
    as_bank_b(f->card);
    assert_int_equal(install_app(f->card, purse_pkg, 6, purse_cls, 7, purse_b1, 7), 0x9000);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    as_bank_b(f->card);
    assert_int_equal(install_app(f->card, purse_pkg, 6, purse_cls, 7, purse_b2, 7), 0x9000);
    REFUSED(f->card, extradite(f->card, bank_a, sizeof bank_a, purse_b2, 7), 0x6985);
    REFUSED(f->card, extradite(f->card, bank_a, sizeof bank_a, purse_b1, 7), 0x6985);
    /* bank B moves; the session waits for bank A, whose purse is untouched */
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x03);
    assert_int_equal(purse_a1_check(f->card), 1);
    bank_a_migrates_to_the_issuers_code(f->card);
    /* once the session is over, instances move again */
    as_bank_b(f->card);
    assert_int_equal(extradite(f->card, bank_a, sizeof bank_a, purse_b2, 7), 0x9000);
}

/* The clean-up (U7) deletes P1's remaining instances once every SD holding one also
   holds an instance of P2. Bank B creates 32 SSDs, each with a P1 instance whose AID
   sorts before bank A's, and after the start gives each a P2 instance: a survey that
   looks at 32 SDs only would find them all moved and delete bank A's purse. */
static void hardening_01_clean_up_looks_at_every_domain_U5_U7(void **state) {
    fixture *f = *state;
    enum { SSDS = 32 };
    uint8_t ssd[7] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x20, 0x00};
    uint8_t old_app[7] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x00};
    uint8_t new_app[7] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x57, 0x00};
    banks(f->card);
    for (uint8_t i = 0; i < SSDS; i++) {
        ssd[6] = old_app[6] = i;
        as_bank_b(f->card);
        assert_int_equal(install_sd(f->card, 0x0C, ssd, sizeof ssd, priv_am, 3), 0x9000);
        assert_int_equal(open_sd(f->card, ssd, sizeof ssd, key_b), 0x9000);
        assert_int_equal(install_app(f->card, purse_pkg, 6, purse_cls, 7, old_app, 7), 0x9000);
    }
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    for (uint8_t i = 0; i < SSDS; i++) {
        ssd[6] = new_app[6] = i;
        assert_int_equal(open_sd(f->card, ssd, sizeof ssd, key_b), 0x9000);
        assert_int_equal(install_app(f->card, purse_pkg, 6, purse_cls, 7, new_app, 7), 0x9000);
    }
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x03); /* still waiting: for bank A */
    assert_int_equal(purse_a1_check(f->card), 1);
    as_bank_a(f->card);
    assert_int_equal(upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x01); /* bank A was the last: the old instances go */
    assert_int_equal(purse_a1_check(f->card), 2);
    ssd[6] = old_app[6] = 0;
    assert_int_equal(select_aid(f->card, old_app, sizeof old_app), 0x6A82);
}

/* Bank B's own upgrades cannot hold the issuer's back: with 8 sessions of bank B's
   packages whose AIDs sort first (each waiting, with an instance of its old version),
   the issuer's session still completes when its last old instance is deleted (U9;
   the clean-up looked at the first 8 sessions only). */
static void hardening_01_clean_up_looks_at_every_session_U9(void **state) {
    fixture *f = *state;
    uint8_t aid[6] = {0xA0, 0x00, 0x00, 0x05, 0x00, 0x00};
    banks(f->card);
    as_bank_b(f->card);
    for (uint8_t i = 0; i < 8; i++) {
        size_t len;
        aid[5] = i;
        uint8_t *file = app_from_as("hello", hello_pkg, aid, &len);
        assert_int_equal(install_for_load(f->card, aid, sizeof aid), 0x9000);
        assert_int_equal(load_blocks(f->card, file, len), 0x9000);
        free(file);
        uint8_t app[7] = {aid[0], aid[1], aid[2], aid[3], aid[4], aid[5], 0x01};
        assert_int_equal(install_app(f->card, aid, 6, hello_cls, 7, app, 7), 0x9000);
        assert_int_equal(upgrade(f->card, 0x01, aid, sizeof aid, NULL, 0), 0x9000);
    }
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    as_bank_a(f->card);
    assert_int_equal(delete_aid(f->card, purse_a1, sizeof purse_a1, 0x00), 0x9000);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x08, purse_pkg, sizeof purse_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x00); /* completed: P1 has gone */
    assert_int_equal(upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg, NULL, 0), 0x6A88);
}

/* Completion deletes every old instance, not the first 64: the 65th went on pointing
   at the deleted old package. Three SDs hold 22 instances of hello each (an SD keeps
   at most 32 restore records) and move by installing one instance of the new one. */
static void hardening_01_clean_up_deletes_every_old_instance_U7(void **state) {
    fixture *f = *state;
    enum { SDS = 3, EACH = 22 };
    uint8_t sd[7] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x30, 0x00};
    uint8_t app[7] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x00};
    power_on(f->card);
    as_isd(f->card);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    for (uint8_t d = 0; d < SDS; d++) {
        sd[6] = d;
        as_isd(f->card);
        assert_int_equal(install_sd(f->card, 0x0C, sd, sizeof sd, priv_am, 3), 0x9000);
        assert_int_equal(open_sd(f->card, sd, sizeof sd, test_key), 0x9000);
        for (uint8_t i = 0; i < EACH; i++) {
            app[6] = (uint8_t)(d * EACH + i);
            assert_int_equal(install_app(f->card, hello_pkg, 6, hello_cls, 7, app, 7), 0x9000);
        }
    }
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, hello_pkg, sizeof hello_pkg, NULL, 0), 0x9000);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg); /* the "new" version */
    for (uint8_t d = 0; d < SDS; d++) {
        sd[6] = d;
        app[6] = (uint8_t)(0xF0 + d);
        assert_int_equal(open_sd(f->card, sd, sizeof sd, test_key), 0x9000);
        assert_int_equal(install_app(f->card, hello_pkg, 6, hello_cls, 7, app, 7), 0x9000);
    }
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x08, hello_pkg, sizeof hello_pkg, NULL, 0), 0x9000);
    assert_int_equal(response[4], 0x00);
    for (uint8_t i = 0; i < SDS * EACH; i++) {
        app[6] = i;
        assert_int_equal(select_aid(f->card, app, sizeof app), 0x6A82);
    }
    app[6] = 0xF0;
    assert_int_equal(select_aid(f->card, app, sizeof app), 0x9000);
}

/* The same rule for the card's own names: the built-in security domain package's AID
   names no stored package, but a package loaded under it could never be installed
   (INSTALL of that AID creates an SSD) nor told apart from it. */
static void hardening_01_builtin_domain_package_aid_cannot_be_taken_X1(void **state) {
    fixture *f = *state;
    banks(f->card);
    as_bank_b(f->card);
    REFUSED(f->card, install_for_load(f->card, sd_elf, sizeof sd_elf), 0x6985);
    as_isd(f->card);
    REFUSED(f->card, install_for_load(f->card, sd_elf, sizeof sd_elf), 0x6985);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_01_squatting_the_new_version_refused_P10_U5,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_01_squatting_another_new_aid_refused_P10_U5,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_01_start_naming_another_domains_package_refused_P10, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_01_migrate_only_to_the_session_owners_code_P10_U5,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_01_no_extradition_into_another_domains_upgrade_U5_U7, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_01_clean_up_looks_at_every_domain_U5_U7, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_01_clean_up_looks_at_every_session_U9, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_01_clean_up_deletes_every_old_instance_U7, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_01_builtin_domain_package_aid_cannot_be_taken_X1,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
