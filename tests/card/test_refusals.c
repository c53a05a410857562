/*
 * Unusable packages are refused at LOAD, and a refused applet or package never
 * ends the secure channel (issue 9 item 13; requirements X1, X6; docs/card.md
 * "Packages and applets"). The modules are assembled here byte by byte, each
 * with one defect: an import the runtime does not bind, no process export,
 * more memory than the card allows, and so on. Refused at the last LOAD block
 * with 6A80, they leave the card as it was; a start function that traps
 * (which only running it shows) fails INSTALL with 6F00, and the session goes
 * on. Packages stored by an older card without these checks are refused at
 * INSTALL, STORE DATA and migrate with a status word, not a storage failure.
 */
#include "card/applet/applet_runtime.h"
#include "card/store/package_store.h"
#include "card_host.h"

static const uint8_t test_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x01};
static const uint8_t test_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x01, 0x01};
static const uint8_t test_app[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x01, 0xA1};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_app[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};

/* A refused command: the expected status word and the whole card state unchanged. */
#define REFUSED(card, call, sw)                                                                    \
    do {                                                                                           \
        uint8_t before_[32], after_[32];                                                           \
        fingerprint(card, before_);                                                                \
        assert_int_equal((call), (sw));                                                            \
        fingerprint(card, after_);                                                                 \
        assert_memory_equal(before_, after_, 32);                                                  \
    } while (0)

/* ---- assembling a module ------------------------------------------------------------ */

typedef struct {
    uint8_t b[1024];
    size_t n;
} bytes;

static void put(bytes *w, const void *p, size_t n) {
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put_byte(bytes *w, uint8_t v) {
    put(w, &v, 1);
}

static void put_uleb(bytes *w, uint32_t v) {
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        put_byte(w, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void put_sleb(bytes *w, int32_t v) {
    bool more = true;
    while (more) {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        more = !((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40)));
        put_byte(w, (uint8_t)(b | (more ? 0x80 : 0)));
    }
}

static void put_name(bytes *w, const char *s) {
    put_uleb(w, (uint32_t)strlen(s));
    put(w, s, strlen(s));
}

static void section(bytes *m, uint8_t id, const bytes *body) {
    put_byte(m, id);
    put_uleb(m, (uint32_t)body->n);
    put(m, body->b, body->n);
}

/* One module; the zero spec is a good applet: process () -> i32 answering 9000,
   memory of 2 pages exported, the package metadata of test_pkg / test_cls. */
typedef struct {
    const char *import_module; /* NULL: no import */
    const char *import_name;
    bool import_i32;     /* the import's type: () -> i32, else () -> () */
    const char *process; /* the name process is exported under (NULL: "process") */
    bool process_void;   /* process of type () -> () */
    bool no_memory;
    uint32_t memory_pages; /* 0: 2 */
    uint32_t table_min;    /* 0: no table */
    bool start_traps;      /* a start function that executes unreachable */
    bool data_outside;     /* an active data segment crossing the memory's end */
    const uint8_t *aid;    /* 6 bytes; NULL: test_pkg */
    const uint8_t *cls;    /* 7 bytes; NULL: test_cls */
} spec;

/* The load file of s: C4 81|82 length || module. */
static void assemble(const spec *s, bytes *file) {
    bytes m = {{0}, 0}, body;
    uint32_t imports = s->import_module ? 1 : 0, pages = s->memory_pages ? s->memory_pages : 2;
    put(&m, "\0asm\1\0\0\0", 8);
    body.n = 0; /* types: 0 () -> i32, 1 () -> () */
    put(&body, "\x02\x60\x00\x01\x7F\x60\x00\x00", 8);
    section(&m, 1, &body);
    if (s->import_module) {
        body.n = 0;
        put_byte(&body, 1);
        put_name(&body, s->import_module);
        put_name(&body, s->import_name);
        put_byte(&body, 0x00);
        put_byte(&body, s->import_i32 ? 0 : 1);
        section(&m, 2, &body);
    }
    body.n = 0; /* process, then the start function */
    put_byte(&body, s->start_traps ? 2 : 1);
    put_byte(&body, s->process_void ? 1 : 0);
    if (s->start_traps)
        put_byte(&body, 1);
    section(&m, 3, &body);
    if (s->table_min) {
        body.n = 0;
        put(&body, "\x01\x70\x00", 3);
        put_uleb(&body, s->table_min);
        section(&m, 4, &body);
    }
    if (!s->no_memory) {
        body.n = 0;
        put(&body, "\x01\x00", 2);
        put_uleb(&body, pages);
        section(&m, 5, &body);
    }
    body.n = 0;
    put_byte(&body, s->no_memory ? 1 : 2);
    put_name(&body, s->process ? s->process : "process");
    put_byte(&body, 0x00);
    put_uleb(&body, imports);
    if (!s->no_memory) {
        put_name(&body, "memory");
        put(&body, "\x02\x00", 2);
    }
    section(&m, 7, &body);
    if (s->start_traps) {
        body.n = 0;
        put_uleb(&body, imports + 1);
        section(&m, 8, &body);
    }
    body.n = 0;
    put_byte(&body, s->start_traps ? 2 : 1);
    if (s->process_void) {
        put(&body, "\x02\x00\x0B", 3);
    } else {
        bytes code = {{0}, 0};
        put(&code, "\x00\x41", 2);
        put_sleb(&code, 0x9000);
        put_byte(&code, 0x0B);
        put_uleb(&body, (uint32_t)code.n);
        put(&body, code.b, code.n);
    }
    if (s->start_traps)
        put(&body, "\x03\x00\x00\x0B", 4);
    section(&m, 10, &body);
    if (s->data_outside) {
        body.n = 0;
        put(&body, "\x01\x00\x41", 3);
        put_sleb(&body, (int32_t)(pages * 65536u - 2));
        put(&body, "\x0B\x04seam", 6);
        section(&m, 11, &body);
    }
    body.n = 0;
    put_name(&body, "seam.package");
    put(&body, "\x4F\x06", 2);
    put(&body, s->aid ? s->aid : test_pkg, 6);
    put(&body, "\xC0\x02\x01\x00\xC1\x02\x01\x00\x61\x09\x4F\x07", 12);
    put(&body, s->cls ? s->cls : test_cls, 7);
    section(&m, 0, &body);
    assert_int_equal(seam_gp_load_file(m.b, m.n, file->b, sizeof file->b, &file->n), SEAM_OK);
}

/* INSTALL [for load] of aid and LOAD of s: the first refusal, or 9000. */
static uint16_t load_spec(seam_card *card, const spec *s, const uint8_t *aid) {
    bytes file;
    assemble(s, &file);
    uint16_t sw = install_for_load(card, aid, 6);
    return sw == 0x9000 ? load_blocks(card, file.b, file.n) : sw;
}

/* INSTALL [for install and make selectable] of test_app from test_pkg. */
static uint16_t install_test_app(seam_card *card) {
    return install(card, 0x0C, test_pkg, test_cls, test_app, NULL, 0);
}

/* The secure channel still works: GET STATUS of the ISD, C-MAC'd in step. */
static void channel_still_open(seam_card *card) {
    const uint8_t all[] = {0x4F, 0x00};
    assert_int_equal(gp(card, true, 0xF2, 0x80, 0x02, all, sizeof all), 0x9000);
}

/* Writes package aid (class cls, owner the ISD) with the module of s directly into
   the nvm, as a card without the LOAD checks would have kept it. */
static void stored_by_an_older_card(seam_card *card, const spec *s, const uint8_t *aid,
                                    const uint8_t *cls) {
    store_package p;
    bytes file;
    seam_nvm *nvm = seam_card_nvm(card);
    size_t hdr = 0;
    assemble(s, &file);
    hdr = file.b[1] == 0x81 ? 3 : 4;
    memset(&p, 0, sizeof p);
    memcpy(p.aid, aid, 6);
    p.aid_len = 6;
    p.version = 0x0200;
    p.applet_count = 1;
    memcpy(p.applets[0], cls, 7);
    p.applet_lens[0] = 7;
    memcpy(p.sd, seam_card_isd_aid, sizeof seam_card_isd_aid);
    p.sd_len = sizeof seam_card_isd_aid;
    p.space = SPACE_USEFUL;
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(store_package_put(nvm, &p, file.b + hdr, file.n - hdr), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
}

/* ---- at LOAD ------------------------------------------------------------------------ */

static void hardening_13_unusable_packages_refused_at_load_X6(void **state) {
    fixture *f = *state;
    const struct {
        const char *why;
        spec s;
        seam_err runtime; /* what the applet runtime finds */
    } bad[] = {
        {"an import the runtime does not bind",
         {.import_module = "seam", .import_name = "steal"},
         SEAM_ERR_WASM_LINK},
        {"a bound name with another signature",
         {.import_module = "seam", .import_name = "apdu_ne"},
         SEAM_ERR_WASM_LINK},
        {"an import from another module",
         {.import_module = "env", .import_name = "apdu_ne", .import_i32 = true},
         SEAM_ERR_WASM_LINK},
        {"no process export", {.process = "run"}, SEAM_ERR_CARD_APPLET},
        {"process of the wrong type", {.process_void = true}, SEAM_ERR_CARD_APPLET},
        {"no memory", {.no_memory = true}, SEAM_ERR_CARD_APPLET},
        {"more memory than the card allows", {.memory_pages = 17}, SEAM_ERR_WASM_LIMIT},
        {"a table beyond the card's limit", {.table_min = 20000000}, SEAM_ERR_WASM_LIMIT},
        {"a data segment outside its memory", {.data_outside = true}, SEAM_ERR_CARD_APPLET},
    };
    power_on(f->card);
    open_channel(f->card);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bytes file;
        seam_wasm_module *module = NULL;
        print_message("LOAD of a module with %s\n", bad[i].why);
        /* a valid WebAssembly module with the one defect the runtime names */
        assemble(&bad[i].s, &file);
        size_t hdr = file.b[1] < 0x80 ? 2u : 2u + (file.b[1] & 0x7Fu); /* C4, BER length */
        assert_int_equal(seam_wasm_module_new(file.b + hdr, file.n - hdr, &module, NULL, 0),
                         SEAM_OK);
        assert_int_equal(seam_applet_check(module), bad[i].runtime);
        seam_wasm_module_free(module);
        REFUSED(f->card, load_spec(f->card, &bad[i].s, test_pkg), 0x6A80);
        channel_still_open(f->card);
    }
    /* the good module, and one importing a function the runtime binds, go in and run */
    const spec good = {.import_module = "seam", .import_name = "apdu_ne", .import_i32 = true};
    assert_int_equal(load_spec(f->card, &good, test_pkg), 0x9000);
    channel_still_open(f->card);
    assert_int_equal(install_test_app(f->card), 0x9000);
    assert_int_equal(select_aid(f->card, test_app, sizeof test_app), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x10, 0x00, 0x00), 0x9000);
}

/* ---- at INSTALL, STORE DATA and migrate -------------------------------------------- */

/* A start function that traps is only found by running it: LOAD keeps the package,
   INSTALL answers 6F00, changes nothing, and the channel stays open. */
static void hardening_13_refused_install_keeps_the_secure_channel_X6(void **state) {
    fixture *f = *state;
    const spec traps = {.start_traps = true};
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(load_spec(f->card, &traps, test_pkg), 0x9000);
    REFUSED(f->card, install_test_app(f->card), 0x6F00);
    channel_still_open(f->card);
    REFUSED(f->card, install_test_app(f->card), 0x6F00);
    channel_still_open(f->card);
}

/* A package an older card accepted with an import nobody binds: INSTALL refuses it as
   a bad package (6A80), and the channel stays open. */
static void hardening_13_unusable_package_of_an_older_card_refused_at_install_X6(void **state) {
    fixture *f = *state;
    const spec unbound = {.import_module = "seam", .import_name = "steal"};
    power_on(f->card);
    stored_by_an_older_card(f->card, &unbound, test_pkg, test_cls);
    open_channel(f->card);
    REFUSED(f->card, install_test_app(f->card), 0x6A80);
    channel_still_open(f->card);
}

/* An instance whose package an older card replaced by an unusable one: STORE DATA to
   it is refused (6A80) and the channel stays open. */
static void hardening_13_refused_personalization_keeps_the_secure_channel_X6(void **state) {
    fixture *f = *state;
    const spec good = {0}, unbound = {.import_module = "seam", .import_name = "steal"};
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(load_spec(f->card, &good, test_pkg), 0x9000);
    assert_int_equal(install_test_app(f->card), 0x9000);
    stored_by_an_older_card(f->card, &unbound, test_pkg, test_cls);
    assert_int_equal(install_perso(f->card, test_app, sizeof test_app), 0x9000);
    const uint8_t block[] = {0xDF, 0x01, 0x01, 0x00};
    REFUSED(f->card, gp(f->card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x6A80);
    channel_still_open(f->card);
}

/* The same instance selected on the channel of a secure channel session: the
   selection is refused (6A80), the ISD stays selected and its session open. */
static void hardening_13_refused_selection_keeps_the_secure_channel_X6(void **state) {
    fixture *f = *state;
    const spec good = {0}, unbound = {.import_module = "seam", .import_name = "steal"};
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(load_spec(f->card, &good, test_pkg), 0x9000);
    assert_int_equal(install_test_app(f->card), 0x9000);
    stored_by_an_older_card(f->card, &unbound, test_pkg, test_cls);
    REFUSED(f->card, select_aid(f->card, test_app, sizeof test_app), 0x6A80);
    channel_still_open(f->card);
}

/* A new version whose install traps: migrate answers 6F00, the purse stays 1.0 with
   its data, and the channel stays open. */
static void hardening_13_refused_migrate_keeps_the_secure_channel_X6(void **state) {
    fixture *f = *state;
    const spec traps = {.start_traps = true, .aid = purse_pkg, .cls = purse_cls};
    const uint8_t old[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(f->card, 0x0C, purse_pkg, purse_cls, purse_app, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, purse_app, sizeof purse_app), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 42), 0x9000);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xEA, 0x01, 0x00, old, sizeof old), 0x9000);
    assert_int_equal(load_spec(f->card, &traps, purse_pkg), 0x9000);
    REFUSED(f->card, gp(f->card, true, 0xEA, 0x02, 0x00, old, sizeof old), 0x6F00);
    channel_still_open(f->card);
    assert_int_equal(select_aid(f->card, purse_app, sizeof purse_app), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 42}), 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_13_unusable_packages_refused_at_load_X6, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_13_refused_install_keeps_the_secure_channel_X6,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_13_unusable_package_of_an_older_card_refused_at_install_X6, setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_13_refused_personalization_keeps_the_secure_channel_X6, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_13_refused_migrate_keeps_the_secure_channel_X6,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_13_refused_selection_keeps_the_secure_channel_X6,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
