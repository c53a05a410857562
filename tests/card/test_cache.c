/*
 * The card's RAM caches (docs/card.md "RAM caches", issue 11): translated
 * modules shared by the applets of every channel, and deselected applets kept
 * for the next SELECT of their instance. Kept things must never be told
 * apart from things made afresh: an applet taken back holds its own
 * committed memory only (never another instance's, never what a refused
 * command wrote), a zeroed stack and zeroed transient buffers; a package
 * that was deleted, moved by an upgrade or replaced is never run again; a
 * failed command leaves nothing stale behind. Each scenario also runs with
 * the caches off and must answer the same.
 */
#include "sd_host.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t purse_b[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB1};
static const uint8_t host_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x48};
static const uint8_t host_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x48, 0x01};
static const uint8_t host_1[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x48, 0xA1};
static const uint8_t host_2[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x48, 0xA2};
static const uint8_t bank[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0xBA};
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00}; /* SD, Authorized Management, TP */
static const uint8_t pin_1234[] = {0x04, '1', '2', '3', '4'};

/* ---- helpers ---------------------------------------------------------------------------- */

/* What the applets answered in a scenario, every response (data || SW) one after another,
   to compare a run with the caches on against one with them off. */
static uint8_t transcript[16384];
static size_t transcript_len;

/* Sends a raw APDU on the card, appends its response to the transcript; returns the SW. */
static uint16_t say(seam_card *card, const uint8_t *apdu, size_t len) {
    uint16_t sw = send(card, apdu, len);
    assert_true(transcript_len + response_len + 1 <= sizeof transcript);
    transcript[transcript_len++] = (uint8_t)response_len;
    memcpy(transcript + transcript_len, response, response_len);
    transcript_len += response_len;
    return sw;
}

#define SAY(card, ...)                                                                             \
    say(card, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* SELECT of instance aid (7 bytes) on logical channel ch, raw. */
static uint16_t select_on(seam_card *card, uint8_t ch, const uint8_t *aid) {
    uint8_t cmd[5 + 7 + 1] = {ch, 0xA4, 0x04, 0x00, 7};
    memcpy(cmd + 5, aid, 7);
    return say(card, cmd, sizeof cmd);
}

/* The 4-byte big-endian number at the start of the last response. */
static uint32_t answered(void) {
    assert_true(response_len >= 4 + 2);
    return (uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 | (uint32_t)response[2] << 8 |
           response[3];
}

/* Balance of the purse selected on channel ch. */
static uint32_t balance_on(seam_card *card, uint8_t ch) {
    assert_int_equal(SAY(card, ch, 0x50, 0x00, 0x00, 0x00), 0x9000);
    return answered();
}

static uint64_t reused(seam_card *card) {
    seam_card_cache_stats s;
    seam_card_cache_stats_get(card, &s);
    return s.applets_reused;
}

static uint64_t built(seam_card *card) {
    seam_card_cache_stats s;
    seam_card_cache_stats_get(card, &s);
    return s.modules_built;
}

/* Under the ISD's channel: package name loaded as pkg, instance inst of cls installed
   (C9 params, none when params is NULL). */
static void load_and_install(seam_card *card, const char *name, const uint8_t *pkg,
                             const uint8_t *cls, const uint8_t *inst, const uint8_t *params,
                             size_t params_len) {
    open_channel(card);
    load(card, name, pkg, 6);
    assert_int_equal(install(card, 0x0C, pkg, cls, inst, params, params_len), 0x9000);
}

/* Runs scenario on a new card with the caches on, then on another with them off: both
   must answer the same, and the first must have reused kept applets. */
static void on_and_off(fixture *f, void (*scenario)(fixture *f)) {
    static uint8_t first[sizeof transcript];
    size_t first_len;
    transcript_len = 0;
    power_on(f->card);
    scenario(f);
    first_len = transcript_len;
    memcpy(first, transcript, first_len);
    assert_true(reused(f->card) > 0);

    fresh_image(f);
    seam_card_set_cache(f->card, false);
    transcript_len = 0;
    power_on(f->card);
    scenario(f);
    assert_int_equal(reused(f->card), 0);
    assert_int_equal(transcript_len, first_len);
    assert_memory_equal(transcript, first, first_len);
}

/* ---- kept applets hold their own memory only ---------------------------------------------- */

/* Two purses selected in turn on one channel: each answers its own balance, a PIN
   verified before a deselection is never verified after it, a refused DEBIT leaves
   nothing behind. */
static void two_purses(fixture *f) {
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, pin_1234, sizeof pin_1234), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x30, 0x00, 0x00, 4, 0, 0, 0, 100), 0x9000);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(select_on(f->card, 0, purse_b), 0x9000);
        assert_int_equal(balance_on(f->card, 0), (uint32_t)(7 * round));
        /* A's PIN was verified, not B's; and B's own verification goes with B */
        assert_int_equal(SAY(f->card, 0x00, 0x30, 0x00, 0x00, 4, 0, 0, 0, 7), 0x6985);
        assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
        assert_int_equal(SAY(f->card, 0x00, 0x30, 0x00, 0x00, 4, 0, 0, 0, 7), 0x9000);
        assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
        assert_int_equal(balance_on(f->card, 0), 100u - (uint32_t)round);
        assert_int_equal(SAY(f->card, 0x00, 0x40, 0x00, 0x00, 4, 0, 0, 0, 1), 0x6985);
        assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
        /* more than the balance: refused, rolled back */
        assert_int_equal(SAY(f->card, 0x00, 0x40, 0x00, 0x00, 4, 0, 0, 1, 0), 0x6985);
        assert_int_equal(SAY(f->card, 0x00, 0x40, 0x00, 0x00, 4, 0, 0, 0, 1), 0x9000);
    }
    assert_int_equal(balance_on(f->card, 0), 97);
    /* A selected again on its own channel, then B: the A kept is the latest one */
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x40, 0x00, 0x00, 4, 0, 0, 0, 7), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 90);
    assert_int_equal(select_on(f->card, 0, purse_b), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 90);
}

static void kept_purses_answer_their_own_balance(void **state) {
    on_and_off(*state, two_purses);
}

/* test_host instances: what one wrote in its stack scratch, its clear-on-reset buffer
   and its counter, seen again after a deselection only where a fresh instance would:
   the counter (linear memory, committed), not the scratch nor the transient buffer;
   and never by the other instance. */
static void two_hosts(fixture *f) {
    load_and_install(f->card, "test_host", host_pkg, host_cls, host_1, NULL, 0);
    assert_int_equal(install(f->card, 0x0C, host_pkg, host_cls, host_2, NULL, 0), 0x9000);
    assert_int_equal(select_on(f->card, 0, host_1), 0x9000);
    assert_int_equal(SAY(f->card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(answered(), 1);
    assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x01, 4, 0xAA, 0xBB, 0xCC, 0xDD), 0x9000);
    assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(answered(), 0xAABBCCDD); /* while selected, the scratch is there */
    assert_int_equal(SAY(f->card, 0x80, 0x15, 0x00, 0x01, 4, 0x11, 0x22, 0x33, 0x44), 0x9000);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(select_on(f->card, 0, host_2), 0x9000);
        assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0);
        assert_int_equal(SAY(f->card, 0x80, 0x15, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0);
        assert_int_equal(SAY(f->card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), (uint32_t)round + 1);
        assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x01, 4, 0x55, 0x66, 0x77, 0x88), 0x9000);
        assert_int_equal(select_on(f->card, 0, host_1), 0x9000);
        assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0); /* a fresh instance's stack: zero */
        assert_int_equal(SAY(f->card, 0x80, 0x15, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0); /* and its transient buffers */
        assert_int_equal(SAY(f->card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 2 * (uint32_t)round + 2);
        /* a trap rolls the counter back: the kept applet must not keep it either */
        assert_int_equal(SAY(f->card, 0x80, 0x02, 0x00, 0x00, 0x00), 0x6F00);
        /* a trap that wrote no page: the applet goes on from its committed memory, its
           transient buffer kept as a rollback keeps it */
        assert_int_equal(SAY(f->card, 0x80, 0x15, 0x00, 0x01, 4, 0x55, 0x66, 0x77, 0x88), 0x9000);
        assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x01, 4, 0x55, 0x66, 0x77, 0x88), 0x9000);
        assert_int_equal(SAY(f->card, 0x80, 0x04, 0x00, 0x00, 0x00), 0x6F00);
        assert_int_equal(SAY(f->card, 0x80, 0x15, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0x55667788);
        assert_int_equal(SAY(f->card, 0x80, 0x16, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 0); /* the stack of a rolled back applet: zero */
        assert_int_equal(SAY(f->card, 0x80, 0x01, 0x00, 0x00, 0x00), 0x9000);
        assert_int_equal(answered(), 2 * (uint32_t)round + 3);
        assert_int_equal(SAY(f->card, 0x80, 0x02, 0x00, 0x00, 0x00), 0x6F00);
    }
}

static void kept_applets_are_as_fresh_as_restored_ones(void **state) {
    on_and_off(*state, two_hosts);
}

/* ---- a package deleted, moved or replaced is never run again ------------------------------ */

/* Purse 1.0's instance A is in use on channel 1 while the package is deleted (refused),
   then kept after the channel closes while it is; purse 2.0 under the same package AID
   gets a new instance A: it runs 2.0's code on memory of its own. */
static void delete_and_replace(fixture *f) {
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x01, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x01, 0x30, 0x00, 0x00, 4, 0, 0, 0, 42), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x6985);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* A kept, deselected */
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000); /* taken back */
    assert_int_equal(balance_on(f->card, 1), 42);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* kept again */
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x6A82);
    load_and_install(f->card, "purse_v2", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 0); /* not the old instance's 42 */
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000); /* 2.0: GET LIMIT */
}

static void a_deleted_package_is_never_run_again(void **state) {
    on_and_off(*state, delete_and_replace);
}

/* Purse 1.0's instance A in use on channel 1 through an upgrade's start (its package
   moves to the temporary space) and 2.0's LOAD; migrate waits for the channel to close,
   then A runs 2.0 with its balance. Another instance, B, selected in the temporary
   space, still runs 1.0 until its own migration. A second upgrade then moves 2.0 into
   the temporary space that held 1.0: its instances run 2.0. */
static void upgrade_under_a_channel(fixture *f) {
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, pin_1234, sizeof pin_1234), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_b), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000); /* B kept */
    assert_int_equal(SAY(f->card, 0x01, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x01, 0x30, 0x00, 0x00, 4, 0, 0, 0, 42), 0x9000);
    const uint8_t start[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, start, sizeof start), 0x9000);
    assert_int_equal(balance_on(f->card, 1), 42);                         /* still works (U4) */
    assert_int_equal(SAY(f->card, 0x01, 0x71, 0x00, 0x00, 0x00), 0x6D00); /* 1.0 */
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(select_on(f->card, 1, purse_b), 0x9000); /* from the temporary space */
    assert_int_equal(SAY(f->card, 0x01, 0x71, 0x00, 0x00, 0x00), 0x6D00); /* 1.0 still */
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(gp(f->card, true, 0xEA, 0x02, 0x00, start, sizeof start), 0x6985);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    assert_int_equal(gp(f->card, true, 0xEA, 0x02, 0x00, start, sizeof start), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 42);
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000); /* 2.0 */
    assert_int_equal(select_on(f->card, 0, purse_b), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 42);
    /* the upgrade is complete (1.0 deleted); the next one moves 2.0 where 1.0 was */
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, start, sizeof start), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000); /* 2.0, not 1.0 */
    assert_int_equal(balance_on(f->card, 0), 42);
}

static void an_upgrade_leaves_no_old_code_behind(void **state) {
    on_and_off(*state, upgrade_under_a_channel);
}

/* An instance kept after its deselection is extradited to another SD: selected again
   it keeps its memory; selected on another channel, it cannot be extradited. */
static void extradite_kept(fixture *f) {
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, pin_1234, sizeof pin_1234), 0x9000);
    assert_int_equal(install_sd(f->card, 0x0C, bank, sizeof bank, priv_am, sizeof priv_am), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x01, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x01, 0x30, 0x00, 0x00, 4, 0, 0, 0, 42), 0x9000);
    assert_int_equal(extradite(f->card, bank, sizeof bank, purse_a, 7), 0x6985);
    assert_int_equal(select_on(f->card, 1, purse_b), 0x9000); /* A kept */
    assert_int_equal(extradite(f->card, bank, sizeof bank, purse_a, 7), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 1), 42);
    assert_int_equal(select_on(f->card, 1, purse_b), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 1), 42);
}

static void an_extradited_instance_keeps_its_memory(void **state) {
    on_and_off(*state, extradite_kept);
}

/* The combined INSTALL of purse_pkg from apps/name.wasm: INSTALL 0E 01, the LOAD blocks,
   then the final 0E 03 of instance inst with C9 params, a failed write armed at its write
   point fail (0: none); returns the final's SW. */
static uint16_t combined(seam_card *card, const char *name, const uint8_t *inst,
                         const uint8_t *params, size_t params_len, uint64_t fail) {
    size_t len = 0;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(combined_for_load(card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
    if (fail)
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(card), SEAM_NVM_FAULT_FAIL, fail),
                         SEAM_OK);
    return combined_final(card, NULL, 0, purse_cls, sizeof purse_cls, inst, 7, params, params_len);
}

/* Purse 1.0 stored by a combined INSTALL whose final command rolls back (the applet's
   install refuses its PIN; then a failed write at each write point of that command, the
   power on): its module was translated from bytes that were never committed and must
   not stay in RAM. Purse 2.0, stored next under the same package AID by a combined
   INSTALL, must run its own code (GET LIMIT), not 1.0's. */
static void a_rolled_back_package_leaves_no_module_behind(void **state) {
    fixture *f = *state;
    static const uint8_t bad_pin[] = {1, '1'}; /* the purse's install answers 6A80 */
    power_on(f->card);
    open_channel(f->card);
    for (uint64_t n = 0;; n++) {
        uint8_t before[32], after[32];
        fingerprint(f->card, before);
        uint16_t sw = n ? combined(f->card, "purse", purse_a, pin_1234, sizeof pin_1234, n)
                        : combined(f->card, "purse", purse_a, bad_pin, sizeof bad_pin, 0);
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                         SEAM_OK);
        if (sw == 0x9000)
            break; /* no write point left to fail */
        fingerprint(f->card, after);
        assert_memory_equal(before, after, 32); /* the final command left nothing */
        open_channel(f->card);                  /* a failed command may have ended the session */
        assert_int_equal(combined(f->card, "purse_v2", purse_a, pin_1234, sizeof pin_1234, 0),
                         0x9000);
        assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
        assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000); /* 2.0 */
        open_channel(f->card); /* the ISD selected again */
        assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
        assert_true(n < 100);
    }
    /* 1.0, committed at last: it runs 1.0 */
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x6D00);
}

/* ---- failures ------------------------------------------------------------------------------ */

/* A SELECT that takes a kept purse back and fails at its commit: the card is as before
   (the other purse selected, as committed), and the next SELECT finds A's committed
   balance, not what the failed one ran. */
static void a_failed_select_leaves_nothing_stale(void **state) {
    fixture *f = *state;
    power_on(f->card);
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, pin_1234, sizeof pin_1234), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x30, 0x00, 0x00, 4, 0, 0, 0, 42), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_b), 0x9000); /* A kept */
    uint64_t before = reused(f->card);
    assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_FAIL, 1), SEAM_OK);
    assert_int_equal(select_on(f->card, 0, purse_a), 0x6F00);
    assert_int_equal(reused(f->card), before + 1); /* A was taken back, then given up */
    assert_int_equal(balance_on(f->card, 0), 0);   /* B is still selected */
    assert_int_equal(select_on(f->card, 0, purse_a), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 42);
}

/* Card content commands drop every kept applet: a DEBIT refused by a personalization
   (STORE DATA) of a kept instance is not answered from the old memory. */
static void personalization_of_a_kept_instance(fixture *f) {
    load_and_install(f->card, "purse", purse_pkg, purse_cls, purse_a, pin_1234, sizeof pin_1234);
    assert_int_equal(
        install(f->card, 0x0C, purse_pkg, purse_cls, purse_b, pin_1234, sizeof pin_1234), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x00, 0x01), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000);
    assert_int_equal(select_on(f->card, 1, purse_b), 0x9000); /* A kept */
    assert_int_equal(select_on(f->card, 1, purse_a), 0x9000); /* B kept */
    assert_int_equal(SAY(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000);
    /* B's PIN becomes 9999 and its balance 500, through the SD */
    assert_int_equal(install_perso(f->card, purse_b, sizeof purse_b), 0x9000);
    const uint8_t block[] = {0xDF, 0x01, 4, '9', '9', '9', '9', 0xDF, 0x02, 4, 0, 0, 0x01, 0xF4};
    assert_int_equal(gp(f->card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
    assert_int_equal(select_on(f->card, 0, purse_b), 0x9000);
    assert_int_equal(balance_on(f->card, 0), 500);
    assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SAY(f->card, 0x00, 0x20, 0x00, 0x00, 4, '9', '9', '9', '9'), 0x9000);
}

static void a_personalized_instance_is_not_taken_from_ram(void **state) {
    on_and_off(*state, personalization_of_a_kept_instance);
}

/* ---- modules ------------------------------------------------------------------------------- */

/* A migration of two SDs' purses translates purse 1.0 once and 2.0 once, whatever the
   number of instances (before, every instance built both again). */
static void a_migration_translates_each_module_once(void **state) {
    fixture *f = *state;
    uint8_t aid[7];
    power_on(f->card);
    open_channel(f->card);
    for (uint8_t d = 0; d < 2; d++) {
        uint8_t sd[8];
        memcpy(sd, bank, sizeof sd);
        sd[7] = (uint8_t)(0xB0 + d);
        assert_int_equal(install_sd(f->card, 0x0C, sd, sizeof sd, priv_am, sizeof priv_am), 0x9000);
    }
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    for (uint8_t d = 0; d < 2; d++) {
        uint8_t sd[8];
        memcpy(sd, bank, sizeof sd);
        sd[7] = (uint8_t)(0xB0 + d);
        assert_int_equal(open_sd(f->card, sd, sizeof sd, test_key), 0x9000);
        for (uint8_t i = 0; i < 4; i++) {
            memcpy(aid, purse_pkg, 6);
            aid[6] = (uint8_t)(d << 4 | i);
            assert_int_equal(
                install(f->card, 0x0C, purse_pkg, purse_cls, aid, pin_1234, sizeof pin_1234),
                0x9000);
        }
    }
    open_channel(f->card);
    const uint8_t start[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, start, sizeof start), 0x9000);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    uint64_t before = built(f->card);
    for (uint8_t d = 0; d < 2; d++) {
        uint8_t sd[8];
        memcpy(sd, bank, sizeof sd);
        sd[7] = (uint8_t)(0xB0 + d);
        assert_int_equal(open_sd(f->card, sd, sizeof sd, test_key), 0x9000);
        assert_int_equal(gp(f->card, true, 0xEA, 0x02, 0x00, start, sizeof start), 0x9000);
    }
    assert_int_equal(built(f->card) - before, 2);
    memcpy(aid, purse_pkg, 6);
    aid[6] = 0x13;
    assert_int_equal(select_on(f->card, 0, aid), 0x9000);
    assert_int_equal(SAY(f->card, 0x00, 0x71, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(built(f->card) - before, 2); /* the SELECT found 2.0 translated */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(kept_purses_answer_their_own_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(kept_applets_are_as_fresh_as_restored_ones, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_deleted_package_is_never_run_again, setup, teardown),
        cmocka_unit_test_setup_teardown(an_upgrade_leaves_no_old_code_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(an_extradited_instance_keeps_its_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(a_rolled_back_package_leaves_no_module_behind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_failed_select_leaves_nothing_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(a_personalized_instance_is_not_taken_from_ram, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_migration_translates_each_module_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
