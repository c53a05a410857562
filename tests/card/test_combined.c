/*
 * The combined INSTALL [for load, install and make selectable] (gp_facts
 * §1.3-1.4; docs/card.md "Packages and applets"): INSTALL P1 0E P2 01 (the
 * for-load layout), the LOAD blocks, INSTALL P1 0E P2 03 (the for-install
 * layout, its ELF AID empty or the package's). The package and the instance
 * are stored by the final command, in one transaction (X4): the last LOAD
 * block stores nothing, and a final command that is refused, by the card or
 * by the applet's install, leaves the whole card as it was and ends the
 * sequence. The rules for what else ends it are a load's (the binding to
 * channel, SD and session is in test_load_binding.c, tokens in test_dm.c).
 */
#include "card_host.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t hello_two[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x02};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t diag_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x44};
static const uint8_t diag_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x44, 0x01};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0, 100};
static const uint8_t purse_bad_pin[] = {1, '1'}; /* a 1-digit PIN: install answers 6A80 */
static const uint8_t diag_trap[] = {0xDE, 0x00}; /* install divides by zero: 6F00 */

/* A refused command: the expected status word and the whole card state unchanged. */
#define REFUSED(card, call, sw)                                                                    \
    do {                                                                                           \
        uint8_t before_[32], after_[32];                                                           \
        fingerprint(card, before_);                                                                \
        assert_int_equal((call), (sw));                                                            \
        fingerprint(card, after_);                                                                 \
        assert_memory_equal(before_, after_, 32);                                                  \
    } while (0)

/* INSTALL 0E 01 of package pkg and the LOAD blocks of apps/name.wasm, all answered 9000;
   the last block stores nothing (the card's whole state as before the INSTALL). */
static void combined_load(seam_card *card, const char *name, const uint8_t *pkg, size_t pkg_len) {
    uint8_t before[32], after[32];
    size_t len = 0;
    uint8_t *file = read_app(name, &len);
    fingerprint(card, before);
    assert_int_equal(combined_for_load(card, pkg, pkg_len), 0x9000);
    assert_int_equal(response_len, 3); /* 00 9000 */
    assert_int_equal(response[0], 0x00);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    assert_int_equal(response_len, 3); /* the last block too: 00 9000 */
    assert_int_equal(response[0], 0x00);
    fingerprint(card, after);
    assert_memory_equal(before, after, 32);
    free(file);
}

/* The final command of hello's sequence: instance hello_cls, ELF AID empty. */
static uint16_t final_hello(seam_card *card) {
    return combined_final(card, NULL, 0, hello_cls, sizeof hello_cls, hello_cls, sizeof hello_cls,
                          NULL, 0);
}

/* What GET STATUS lists for one AID. */
typedef struct {
    const uint8_t *aid;
    size_t len;
    bool found;
    seam_gp_status_entry entry;
} wanted;

static seam_err find_entry(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *e) {
    wanted *w = ctx;
    (void)scope;
    if (e->aid.len == w->len && !memcmp(e->aid.bytes, w->aid, w->len)) {
        w->found = true;
        w->entry = *e;
    }
    return SEAM_OK;
}

/* GET STATUS of scope (through the open channel) for aid: false when it is not listed. */
static bool listed(seam_card *card, seam_gp_scope scope, const uint8_t *aid, size_t len,
                   seam_gp_status_entry *out) {
    wanted w = {.aid = aid, .len = len};
    uint16_t sw = 0;
    assert_int_equal(seam_gp_get_status(session(card), scope, NULL, 0, find_entry, &w, &sw),
                     SEAM_OK);
    assert_true(sw == 0x9000 || sw == 0x6A88);
    if (out)
        *out = w.entry;
    return w.found;
}

static uint32_t purse_balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    return (uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 | (uint32_t)response[2] << 8 |
           response[3];
}

/* ---- the sequence ------------------------------------------------------------------ */

static void combined_sequence_installs_a_working_instance(void **state) {
    fixture *f = *state;
    seam_gp_status_entry pkg, app;
    power_on(f->card);
    open_channel(f->card);
    /* hello, with the ELF AID of the final command left empty */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_false(listed(f->card, SEAM_GP_ELFS_MODULES, hello_pkg, sizeof hello_pkg, NULL));
    assert_int_equal(final_hello(f->card), 0x9000);
    assert_int_equal(response_len, 3);
    assert_int_equal(response[0], 0x00);
    /* the purse, with the package's AID named, the final command as a GP chain of
       16-byte blocks (P1 8E, ..., 0E) */
    combined_load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 16), SEAM_OK);
    assert_int_equal(combined_final(f->card, purse_pkg, sizeof purse_pkg, purse_cls,
                                    sizeof purse_cls, purse_cls, sizeof purse_cls, purse_params,
                                    sizeof purse_params),
                     0x9000);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 0), SEAM_OK);
    /* GET STATUS lists both packages with their module and both instances SELECTABLE,
       the ISD's */
    assert_true(listed(f->card, SEAM_GP_ELFS_MODULES, hello_pkg, sizeof hello_pkg, &pkg));
    assert_int_equal(pkg.module_count, 1);
    assert_memory_equal(pkg.modules[0].bytes, hello_cls, sizeof hello_cls);
    assert_int_equal(pkg.version, 0x0100);
    assert_true(listed(f->card, SEAM_GP_APPS, hello_cls, sizeof hello_cls, &app));
    assert_int_equal(app.lifecycle, 0x07);
    assert_memory_equal(app.elf.bytes, hello_pkg, sizeof hello_pkg);
    assert_int_equal(app.sd.len, 8);
    assert_true(listed(f->card, SEAM_GP_ELFS, purse_pkg, sizeof purse_pkg, NULL));
    assert_true(listed(f->card, SEAM_GP_APPS, purse_cls, sizeof purse_cls, &app));
    assert_int_equal(app.lifecycle, 0x07);
    /* ...and they work, across a restart */
    reopen(f);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0x20, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, "hello 1.0", 9);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(purse_balance(f->card), 100);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
    assert_int_equal(purse_balance(f->card), 99);
    /* the package is an ordinary one: another instance of it, then DELETE with both */
    open_channel(f->card);
    assert_int_equal(install(f->card, 0x0C, hello_pkg, hello_cls, hello_two, NULL, 0), 0x9000);
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x80), 0x9000);
    assert_false(listed(f->card, SEAM_GP_APPS, hello_two, sizeof hello_two, NULL));
}

/* The applet's install refuses (an error SW, a trap): nothing of the package or the
   instance is kept, the secure channel stays open, and the sequence is over. */
static void final_install_refused_by_the_applet_keeps_nothing(void **state) {
    fixture *f = *state;
    uint8_t before[32];
    power_on(f->card);
    open_channel(f->card);
    fingerprint(f->card, before);
    combined_load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    REFUSED(f->card,
            combined_final(f->card, NULL, 0, purse_cls, sizeof purse_cls, purse_cls,
                           sizeof purse_cls, purse_bad_pin, sizeof purse_bad_pin),
            0x6A80);
    assert_true(seam_gp_channel_is_open(session(f->card), NULL));
    assert_false(listed(f->card, SEAM_GP_ELFS, purse_pkg, sizeof purse_pkg, NULL));
    REFUSED(f->card,
            combined_final(f->card, NULL, 0, purse_cls, sizeof purse_cls, purse_cls,
                           sizeof purse_cls, purse_params, sizeof purse_params),
            0x6985); /* the sequence ended with the refusal */
    /* an install that traps */
    combined_load(f->card, "test_diag", diag_pkg, sizeof diag_pkg);
    REFUSED(f->card,
            combined_final(f->card, NULL, 0, diag_cls, sizeof diag_cls, diag_cls, sizeof diag_cls,
                           diag_trap, sizeof diag_trap),
            0x6F00);
    assert_true(seam_gp_channel_is_open(session(f->card), NULL));
    assert_false(listed(f->card, SEAM_GP_ELFS, diag_pkg, sizeof diag_pkg, NULL));
    /* the card's refusals of the final command: an unknown module, an instance AID in
       use, privileges of a security domain */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card,
            combined_final(f->card, NULL, 0, hello_two, sizeof hello_two, hello_cls,
                           sizeof hello_cls, NULL, 0),
            0x6A88);
    static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card,
            combined_final(f->card, NULL, 0, hello_cls, sizeof hello_cls, isd_aid, sizeof isd_aid,
                           NULL, 0),
            0x6985);
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    seam_gp_install_fields sd = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x03,
                                 .module = aid_of(hello_cls, sizeof hello_cls),
                                 .application = aid_of(hello_cls, sizeof hello_cls),
                                 .privileges = {0x80},
                                 .privileges_len = 1};
    REFUSED(f->card, install_with(f->card, &sd), 0x6A80);
    assert_false(listed(f->card, SEAM_GP_ELFS, hello_pkg, sizeof hello_pkg, NULL));
    /* nothing at all was kept by any of them */
    uint8_t now[32];
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32);
    /* and the card goes on: the whole sequence again works */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(final_hello(f->card), 0x9000);
}

/* The final command needs the combined load it ends, completed: not none, not a plain
   load (finished or not), not a combined load whose last block has not come. */
static void final_install_without_a_completed_combined_load(void **state) {
    fixture *f = *state;
    size_t len = 0;
    uint8_t *file = read_app("hello", &len);
    power_on(f->card);
    open_channel(f->card);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    /* after a plain load (INSTALL [for load], LOAD): the package is there, but the
       final command does not install from it */
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    REFUSED(f->card,
            combined_final(f->card, hello_pkg, sizeof hello_pkg, hello_cls, sizeof hello_cls,
                           hello_cls, sizeof hello_cls, NULL, 0),
            0x6985);
    assert_int_equal(delete_aid(f->card, hello_pkg, sizeof hello_pkg, 0x80), 0x9000);
    /* in the middle of a plain load: refused, and that load is over (as after a refused
       LOAD block) */
    assert_int_equal(install_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_one(f->card, 0x00, false, file, HOST_BLOCK), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    REFUSED(f->card, load_one(f->card, 0x01, false, file + HOST_BLOCK, HOST_BLOCK), 0x6985);
    /* in the middle of a combined load: the same */
    assert_int_equal(combined_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_one(f->card, 0x00, false, file, HOST_BLOCK), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    REFUSED(f->card, load_one(f->card, 0x01, false, file + HOST_BLOCK, HOST_BLOCK), 0x6985);
    /* a final command that was answered once cannot be sent again */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(final_hello(f->card), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    free(file);
}

/* The ELF AID of the final command is empty or the package's: another one is 6A80 (even
   a package on the card), and that ends the sequence. */
static void final_install_names_the_package_just_loaded(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card,
            combined_final(f->card, purse_pkg, sizeof purse_pkg, purse_cls, sizeof purse_cls,
                           purse_cls, sizeof purse_cls, NULL, 0),
            0x6A80);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    static const uint8_t longer[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x00};
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card,
            combined_final(f->card, longer, sizeof longer, hello_cls, sizeof hello_cls, hello_cls,
                           sizeof hello_cls, NULL, 0),
            0x6A80);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    /* a malformed final command (a truncated LV) is 6A80 and ends it too */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    static const uint8_t cut[] = {0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01, 0x07};
    REFUSED(f->card, gp(f->card, true, 0xE6, 0x0E, 0x03, cut, sizeof cut), 0x6A80);
    REFUSED(f->card, final_hello(f->card), 0x6985);
}

/*
 * What ends the sequence between its last LOAD block and its final command is what
 * ends a load: a LOAD (there is no load to continue), a new INSTALL [for load] or
 * combined P2 01 (it replaces it); the final command's binding (test_load_binding.c).
 * Other commands leave it: GET STATUS, GET DATA, INSTALL of another instance.
 */
static void what_ends_the_sequence_before_its_final_command(void **state) {
    fixture *f = *state;
    size_t len = 0;
    uint8_t *file = read_app("hello", &len);
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    /* a LOAD after the last block */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    REFUSED(f->card, load_one(f->card, 0x00, true, file, 16), 0x6985);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    /* INSTALL [for load] of another package */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(install_for_load(f->card, diag_pkg, sizeof diag_pkg), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    /* a new combined sequence: the final command installs its package, not the first */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    combined_load(f->card, "test_diag", diag_pkg, sizeof diag_pkg);
    REFUSED(f->card, final_hello(f->card), 0x6A88); /* hello's module is not in test_diag */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    combined_load(f->card, "test_diag", diag_pkg, sizeof diag_pkg);
    assert_int_equal(combined_final(f->card, NULL, 0, diag_cls, sizeof diag_cls, diag_cls,
                                    sizeof diag_cls, NULL, 0),
                     0x9000);
    assert_false(listed(f->card, SEAM_GP_ELFS, hello_pkg, sizeof hello_pkg, NULL));
    /* commands that leave it: GET STATUS, GET DATA, an INSTALL of another package's
       instance, a refused INSTALL [for load] */
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_true(listed(f->card, SEAM_GP_ELFS, purse_pkg, sizeof purse_pkg, NULL));
    assert_int_equal(gp(f->card, true, 0xCA, 0x00, 0x66, NULL, 0), 0x9000);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_cls, NULL, 0), 0x9000);
    assert_int_equal(install_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x6985);
    assert_int_equal(final_hello(f->card), 0x9000);
    assert_int_equal(select_aid(f->card, hello_cls, sizeof hello_cls), 0x9000);
    free(file);
}

/* An AID taken between the last LOAD block and the final command (here by an SSD
   created meanwhile) is checked again: 6985, nothing kept. */
static void final_install_checks_the_package_aid_again(void **state) {
    fixture *f = *state;
    static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
    static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};
    power_on(f->card);
    open_channel(f->card);
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    seam_gp_install_fields ssd = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                  .elf = aid_of(sd_elf, sizeof sd_elf),
                                  .module = aid_of(sd_module, sizeof sd_module),
                                  .application = aid_of(hello_pkg, sizeof hello_pkg),
                                  .privileges = {0x80, 0xC0, 0x00},
                                  .privileges_len = 3};
    assert_int_equal(install_with(f->card, &ssd), 0x9000);
    REFUSED(f->card, final_hello(f->card), 0x6985);
    assert_false(listed(f->card, SEAM_GP_ELFS, hello_pkg, sizeof hello_pkg, NULL));
}

/* A final command refused before the card looks at it, on a CARD_LOCKED card, ends the
   sequence as any refusal of it does: unlocked again, the card has nothing to finish. */
static void final_install_refused_on_a_locked_card_ends_the_sequence(void **state) {
    fixture *f = *state;
    power_on(f->card);
    open_channel(f->card);
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x9000); /* CARD_LOCKED */
    REFUSED(f->card, final_hello(f->card), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x9000); /* SECURED */
    REFUSED(f->card, final_hello(f->card), 0x6985);
    assert_false(listed(f->card, SEAM_GP_ELFS, hello_pkg, sizeof hello_pkg, NULL));
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(final_hello(f->card), 0x9000);
}

/* P2 01 and 03 belong to P1 0E, and P1 0E needs one of them: 6A86, nothing changes, and
   a sequence in progress goes on. */
static void combined_p1_and_p2_go_together(void **state) {
    fixture *f = *state;
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x01,
                                 .elf = aid_of(hello_pkg, sizeof hello_pkg)};
    uint8_t apdu[SEAM_GP_APDU_MAX];
    size_t n = 0;
    power_on(f->card);
    open_channel(f->card);
    combined_load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    /* the for-load layout with P1 02 P2 01, 0E 00, 0E 02, 0E 05 */
    assert_int_equal(seam_gp_build_install(&in, apdu, sizeof apdu, &n), SEAM_OK);
    static const uint8_t for_load[][2] = {{0x02, 0x01}, {0x0E, 0x00}, {0x0E, 0x02},
                                          {0x0E, 0x05}, {0x0A, 0x01}, {0x06, 0x01}};
    for (size_t i = 0; i < sizeof for_load / sizeof for_load[0]; i++)
        REFUSED(f->card, gp(f->card, true, 0xE6, for_load[i][0], for_load[i][1], apdu + 5, apdu[4]),
                0x6A86);
    /* the for-install layout with 0C 03, 04 03, 08 03, 0E 00 */
    in.p2 = 0x03;
    in.elf.len = 0;
    in.module = aid_of(hello_cls, sizeof hello_cls);
    in.application = aid_of(hello_cls, sizeof hello_cls);
    in.privileges_len = 1;
    assert_int_equal(seam_gp_build_install(&in, apdu, sizeof apdu, &n), SEAM_OK);
    static const uint8_t for_install[][2] = {
        {0x0C, 0x03}, {0x04, 0x03}, {0x08, 0x03}, {0x0E, 0x00}, {0x0C, 0x01}};
    for (size_t i = 0; i < sizeof for_install / sizeof for_install[0]; i++)
        REFUSED(f->card,
                gp(f->card, true, 0xE6, for_install[i][0], for_install[i][1], apdu + 5, apdu[4]),
                0x6A86);
    assert_int_equal(final_hello(f->card), 0x9000);
}

/* ---- power cuts and failed commits (X4) -------------------------------------------- */

/* A card with the purse's combined load done, waiting for the final command. */
static void prep_purse_loaded(fixture *f) {
    size_t len = 0;
    uint8_t *file = read_app("purse", &len);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(combined_for_load(f->card, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
}

static uint16_t op_final_purse(seam_card *card) {
    return combined_final(card, NULL, 0, purse_cls, sizeof purse_cls, purse_cls, sizeof purse_cls,
                          purse_params, sizeof purse_params);
}

/* A cut at any write of the final command leaves the card as before the sequence: no
   package without its instance. */
static void x4_power_cut_at_every_write_of_the_final_install(void **state) {
    fixture *f = *state;
    int points = sweep_every_write(f, prep_purse_loaded, op_final_purse);
    print_message("X4 INSTALL [for load, install and make selectable] P2 03: %d write points "
                  "swept\n",
                  points);
    assert_true(points >= 3); /* package, module, instance and more: one transaction */
    /* after the reference run the purse works */
    reopen(f);
    assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(purse_balance(f->card), 100);
}

/* A failed commit of the final command (an I/O error, a full disk at each I/O point)
   changes nothing and puts the sequence back: the final command sent again goes
   through, as a last LOAD block does (docs/card.md "One command"). */
static void x4_failed_commit_of_the_final_install_puts_the_sequence_back(void **state) {
    fixture *f = *state;
    static const seam_nvm_io_fault_mode modes[] = {SEAM_NVM_IO_FAIL, SEAM_NVM_IO_DISK_FULL};
    uint8_t before[32], now[32];
    unsigned failures = 0;
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t n = 1;; n++) {
            fresh_image(f);
            prep_purse_loaded(f);
            fingerprint(f->card, before);
            assert_int_equal(seam_nvm_io_fault_set(seam_card_nvm(f->card), modes[m], n), SEAM_OK);
            uint16_t sw = op_final_purse(f->card);
            assert_int_equal(seam_nvm_io_fault_set(seam_card_nvm(f->card), SEAM_NVM_IO_OFF, 0),
                             SEAM_OK);
            if (sw == 0x9000)
                break;
            assert_int_equal(sw, modes[m] == SEAM_NVM_IO_DISK_FULL ? 0x6A84 : 0x6F00);
            failures++;
            fingerprint(f->card, now);
            assert_memory_equal(before, now, 32);
            assert_int_equal(op_final_purse(f->card), 0x9000);
            assert_int_equal(select_aid(f->card, purse_cls, sizeof purse_cls), 0x9000);
            assert_int_equal(purse_balance(f->card), 100);
            assert_true(n < 200);
        }
    }
    print_message("final INSTALL: %u failed commits put back\n", failures);
    assert_true(failures >= 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(combined_sequence_installs_a_working_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(final_install_refused_by_the_applet_keeps_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(final_install_without_a_completed_combined_load, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(final_install_names_the_package_just_loaded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(what_ends_the_sequence_before_its_final_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(final_install_checks_the_package_aid_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(final_install_refused_on_a_locked_card_ends_the_sequence,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(combined_p1_and_p2_go_together, setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_the_final_install, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            x4_failed_commit_of_the_final_install_puts_the_sequence_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
