/*
 * Card content through the host library, against an in-process card: the
 * install / list / delete cycle, every INSTALL role the card takes, SET
 * STATUS, STORE DATA, PUT KEY handing a security domain over, GET STATUS
 * continuation, MANAGE ELF UPGRADE (step by step, and whole with
 * seam_gp_upgrade_package, aborted when the card refuses the load), and each
 * bad input with the card unchanged (the digest of its whole nvm).
 */
#include "gp_test.h"

static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t tp_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50};
static const uint8_t tp_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x50, 0x01};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

/* The registry as GET STATUS lists it. */
typedef struct {
    size_t count;
    seam_gp_scope scope[64];
    seam_gp_status_entry entry[64];
} registry;

static seam_err keep(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *e) {
    registry *r = ctx;
    if (r->count < 64) {
        r->scope[r->count] = scope;
        r->entry[r->count] = *e;
    }
    r->count++;
    return SEAM_OK;
}

/* The entry of scope (APPS or a package scope) with aid, or NULL. */
static const seam_gp_status_entry *find(const registry *r, bool package, const uint8_t *aid,
                                        size_t len) {
    for (size_t i = 0; i < r->count && i < 64; i++)
        if ((r->scope[i] == SEAM_GP_ELFS_MODULES) == package && r->entry[i].aid.len == len &&
            !memcmp(r->entry[i].aid.bytes, aid, len))
            return &r->entry[i];
    return NULL;
}

static void list(fixture *f, registry *r) {
    uint16_t sw = 0;
    memset(r, 0, sizeof *r);
    assert_int_equal(seam_gp_list(f->gp, keep, r, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
}

/* Loads and installs package name (instance = its first applet) through the open channel. */
static uint16_t install_app(fixture *f, const char *name, bool hash) {
    seam_gp_package_install in;
    size_t len = 0;
    uint16_t sw = 0;
    memset(&in, 0, sizeof in);
    in.module = read_app(name, &len);
    in.module_len = len;
    in.hash = hash;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    free((void *)in.module);
    return sw;
}

static void progress(void *ctx, size_t done, size_t total) {
    size_t *last = ctx;
    assert_true(done > *last && done <= total);
    *last = done;
}

static void install_list_delete_cycle(void **state) {
    fixture *f = *state;
    static const uint8_t levels[] = {0x01, 0x33};
    registry r, empty;
    open_isd(f, 0x01);
    list(f, &empty);
    for (size_t i = 0; i < sizeof levels; i++) {
        seam_gp_package_install in;
        size_t len = 0, done = 0;
        uint16_t sw = 0;
        open_isd(f, levels[i]);
        memset(&in, 0, sizeof in);
        in.module = read_app("hello", &len);
        in.module_len = len;
        in.hash = i == 1; /* with the SHA-256 load file hash the second time */
        in.progress = progress;
        in.progress_ctx = &done;
        assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_true(done > len); /* the load file: C4, its length, the module */
        free((void *)in.module);

        list(f, &r);
        assert_int_equal(r.scope[0], SEAM_GP_ISD);
        assert_memory_equal(r.entry[0].aid.bytes, isd_aid, sizeof isd_aid);
        assert_int_equal(r.entry[0].lifecycle, 0x0F);
        const seam_gp_status_entry *app = find(&r, false, hello_cls, sizeof hello_cls);
        const seam_gp_status_entry *pkg = find(&r, true, hello_pkg, sizeof hello_pkg);
        assert_non_null(app);
        assert_non_null(pkg);
        assert_int_equal(app->lifecycle, 0x07);
        assert_int_equal(app->privileges_len, 3);
        assert_memory_equal(app->elf.bytes, hello_pkg, sizeof hello_pkg);
        assert_memory_equal(app->sd.bytes, isd_aid, sizeof isd_aid);
        assert_true(pkg->has_version);
        assert_int_equal(pkg->version, 0x0100);
        assert_int_equal(pkg->module_count, 1);
        assert_memory_equal(pkg->modules[0].bytes, hello_cls, sizeof hello_cls);
        assert_int_equal(pkg->space, 1);

        /* the applet answers, then goes with its package */
        assert_int_equal(seam_gp_select(f->gp, hello_cls, sizeof hello_cls, &sw), SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_int_equal(TRANSMIT(f, 0x00, 0x10, 0x00, 0x00, 0x02, 0xAB, 0xCD, 0x00), 0x9000);
        open_isd(f, levels[i]);
        assert_int_equal(seam_gp_delete(f->gp, hello_pkg, sizeof hello_pkg, true, &sw), SEAM_OK);
        assert_int_equal(sw, 0x9000);
        list(f, &r);
        assert_null(find(&r, false, hello_cls, sizeof hello_cls));
        assert_null(find(&r, true, hello_pkg, sizeof hello_pkg));
        assert_int_equal(r.count, empty.count); /* as it was before (the ISD only) */
        assert_int_equal(r.count, 1);
    }
}

static void every_install_role_the_card_takes(void **state) {
    fixture *f = *state;
    seam_gp_install_fields in;
    uint8_t data[64];
    size_t len = 0;
    uint16_t sw = 0;
    registry r;
    open_isd(f, 0x03);
    /* for load, LOAD (load_only), then for install: INSTALLED */
    seam_gp_package_install pi;
    memset(&pi, 0, sizeof pi);
    pi.module = read_app("test_perso", &len);
    pi.module_len = len;
    pi.load_only = true;
    assert_int_equal(seam_gp_install_package(f->gp, &pi, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    free((void *)pi.module);
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_INSTALL;
    seam_gp_aid_set(&in.elf, tp_pkg, sizeof tp_pkg);
    seam_gp_aid_set(&in.module, tp_cls, sizeof tp_cls);
    seam_gp_aid_set(&in.application, tp_cls, sizeof tp_cls);
    in.privileges_len = 1;
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    list(f, &r);
    assert_int_equal(find(&r, false, tp_cls, sizeof tp_cls)->lifecycle, 0x03);
    /* for personalization, then STORE DATA in two blocks (block size 239 at level 03) */
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_PERSONALIZATION;
    seam_gp_aid_set(&in.application, tp_cls, sizeof tp_cls);
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    static uint8_t perso[300];
    for (size_t i = 0; i < sizeof perso; i++)
        perso[i] = (uint8_t)(i & 0x7F);
    assert_int_equal(seam_gp_store_data(f->gp, 0x00, perso, 200, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* for make selectable: SELECTABLE */
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_MAKE_SELECTABLE;
    seam_gp_aid_set(&in.application, tp_cls, sizeof tp_cls);
    in.privileges_len = 1;
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* for registry update: new privileges (Global Lock is not an SD privilege) */
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_REGISTRY_UPDATE;
    seam_gp_aid_set(&in.application, tp_cls, sizeof tp_cls);
    in.privileges_len = 3;
    in.privileges[1] = 0x10;
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* for extradition to the ISD, the SD it already has */
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_EXTRADITION;
    seam_gp_aid_set(&in.sd, isd_aid, sizeof isd_aid);
    seam_gp_aid_set(&in.application, tp_cls, sizeof tp_cls);
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    list(f, &r);
    const seam_gp_status_entry *e = find(&r, false, tp_cls, sizeof tp_cls);
    assert_int_equal(e->lifecycle, 0x07);
    assert_memory_equal(e->privileges, ((uint8_t[]){0x00, 0x10, 0x00}), 3);
    /* SET STATUS locks it: not selectable; unlocked: back */
    assert_int_equal(seam_gp_set_status(f->gp, 0x40, 0x80, tp_cls, sizeof tp_cls, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    list(f, &r);
    assert_int_equal(find(&r, false, tp_cls, sizeof tp_cls)->lifecycle, 0x87);
    assert_int_equal(seam_gp_set_status(f->gp, 0x40, 0x00, tp_cls, sizeof tp_cls, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* the applet holds the 200 bytes STORE DATA brought, personalized by the last block */
    assert_int_equal(seam_gp_select(f->gp, tp_cls, sizeof tp_cls, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0x00, 0x00}, 5,
                                      data, sizeof data, &len, &sw),
                     SEAM_ERR_BUFFER_SMALL);
    size_t got = 0;
    const uint8_t *all = seam_gp_response(f->gp, &got);
    assert_int_equal(got, 201);
    assert_int_equal(all[0], 1);
    assert_memory_equal(all + 1, perso, 200);
}

static void store_data_to_the_isd_in_dgis(void **state) {
    fixture *f = *state;
    uint8_t data[16], before[32], after[32];
    size_t len = 0;
    uint16_t sw = 0;
    static const uint8_t dgis[] = {0x00, 0x70, 0x05, 0x42, 0x03, 0x11, 0x22, 0x33,
                                   0x00, 0x70, 0x04, 0x45, 0x02, 0x44, 0x55};
    open_isd(f, 0x13);
    assert_int_equal(seam_gp_store_data(f->gp, SEAM_GP_STORE_DGI, dgis, sizeof dgis, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0xCA, 0x00, 0x42, 0x00}, 5,
                                      data, sizeof data, &len, &sw),
                     SEAM_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(data, ((uint8_t[]){0x42, 0x03, 0x11, 0x22, 0x33}), 5);
    /* the SD's objects are not secret: encrypted STORE DATA is refused, nothing changes */
    fingerprint(f->card, before);
    assert_int_equal(
        seam_gp_store_data(f->gp, SEAM_GP_STORE_DGI | SEAM_GP_STORE_ENCRYPTED, dgis, 8, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x6A86);
    /* a DGI that does not parse, one larger than a block: nothing sent */
    assert_int_equal(seam_gp_store_data(f->gp, SEAM_GP_STORE_DGI, dgis, 7, &sw),
                     SEAM_ERR_MALFORMED);
    static uint8_t huge[3 + 2 + 300] = {0x00, 0x70, 0xFF, 0x01, 0x2C};
    assert_int_equal(seam_gp_store_data(f->gp, SEAM_GP_STORE_DGI, huge, sizeof huge, &sw),
                     SEAM_ERR_ARG);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
}

static void put_key_hands_a_security_domain_over(void **state) {
    fixture *f = *state;
    static const uint8_t bank[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
    seam_gp_install_fields in;
    seam_gp_keys isd_keys, owner, separate;
    uint16_t sw = 0;
    seam_gp_keys_default(&isd_keys);
    open_isd(f, 0x01);
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
    seam_gp_aid_set(&in.elf, sd_elf, sizeof sd_elf);
    seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
    seam_gp_aid_set(&in.application, bank, sizeof bank);
    memcpy(in.privileges, (uint8_t[]){0x80, 0xC0, 0x00}, 3); /* SD, AM, Trusted Path */
    in.privileges_len = 3;
    assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* the bank opens its SD with the keys it inherited and replaces them */
    for (size_t i = 0; i < 16; i++)
        owner.enc[i] = owner.mac[i] = owner.dek[i] = (uint8_t)(0xA5 ^ i);
    owner.len = 16;
    assert_int_equal(seam_gp_select(f->gp, bank, sizeof bank, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(f->gp, &isd_keys, 0, 0x03, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_put_key(f->gp, 0x30, 0x30, &owner, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* and adds a set of three different keys as version 31 */
    for (size_t i = 0; i < 32; i++) {
        separate.enc[i] = (uint8_t)i;
        separate.mac[i] = (uint8_t)(0x40 + i);
        separate.dek[i] = (uint8_t)(0x80 + i);
    }
    separate.len = 16;
    assert_int_equal(seam_gp_put_key(f->gp, 0x00, 0x31, &separate, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* from now on only the owner opens it */
    assert_int_equal(seam_gp_select(f->gp, bank, sizeof bank, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(f->gp, &isd_keys, 0x30, 0x01, NULL, &sw),
                     SEAM_ERR_GP_CRYPTOGRAM);
    assert_int_equal(seam_gp_open_channel(f->gp, &owner, 0x30, 0x33, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_open_channel(f->gp, &separate, 0x31, 0x13, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    /* a PUT KEY the card refuses (an add of a version it holds): its SW */
    assert_int_equal(seam_gp_put_key(f->gp, 0x00, 0x30, &owner, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A80);
}

/* Installs SSDs with 16-byte AIDs until GET STATUS needs several parts. */
static void get_status_follows_6310(void **state) {
    fixture *f = *state;
    seam_gp_install_fields in;
    uint16_t sw = 0;
    registry r;
    open_isd(f, 0x33);
    for (uint8_t n = 0; n < 12; n++) {
        uint8_t aid[16] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, n};
        memset(&in, 0, sizeof in);
        in.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
        seam_gp_aid_set(&in.elf, sd_elf, sizeof sd_elf);
        seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
        seam_gp_aid_set(&in.application, aid, sizeof aid);
        in.privileges[0] = 0x80;
        in.privileges_len = 1;
        assert_int_equal(seam_gp_install(f->gp, &in, &sw), SEAM_OK);
        assert_int_equal(sw, 0x9000);
    }
    memset(&r, 0, sizeof r);
    assert_int_equal(seam_gp_get_status(f->gp, SEAM_GP_APPS, (const uint8_t[]){0xA0, 0, 0, 5, 0x59},
                                        5, keep, &r, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(r.count, 12);
    for (uint8_t n = 0; n < 12; n++)
        assert_int_equal(r.entry[n].aid.bytes[15], n); /* in key order, none twice */
    /* a prefix nothing matches: the card's 6A88, no entry */
    memset(&r, 0, sizeof r);
    assert_int_equal(
        seam_gp_get_status(f->gp, SEAM_GP_APPS, (const uint8_t[]){0xB0}, 1, keep, &r, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x6A88);
    assert_int_equal(r.count, 0);
}

static void manage_elf_upgrade_start_load_migrate(void **state) {
    fixture *f = *state;
    seam_gp_upgrade_status st;
    seam_gp_package_install in;
    size_t len = 0;
    uint16_t sw = 0;
    registry r;
    open_isd(f, 0x01);
    assert_int_equal(install_app(f, "purse", false), 0x9000);
    assert_int_equal(seam_gp_upgrade(f->gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg,
                                     NULL, 0, &st, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(st.status, 0x02); /* waiting for the new package */
    list(f, &r);
    assert_int_equal(find(&r, true, purse_pkg, sizeof purse_pkg)->space, 2);
    memset(&in, 0, sizeof in);
    in.module = read_app("purse_v2", &len);
    in.module_len = len;
    in.load_only = true;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    free((void *)in.module);
    assert_int_equal(seam_gp_upgrade(f->gp, SEAM_GP_UPGRADE_STATUS, purse_pkg, sizeof purse_pkg,
                                     NULL, 0, &st, &sw),
                     SEAM_OK);
    assert_int_equal(st.status, 0x03);
    assert_true(st.has_remaining);
    assert_int_equal(st.remaining, 1);
    assert_int_equal(seam_gp_upgrade(f->gp, SEAM_GP_UPGRADE_MIGRATE, purse_pkg, sizeof purse_pkg,
                                     NULL, 0, &st, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(st.status, 0x01); /* completed */
    assert_true(st.has_migrated);
    assert_int_equal(st.migrated, 1);
    list(f, &r);
    const seam_gp_status_entry *pkg = find(&r, true, purse_pkg, sizeof purse_pkg);
    assert_int_equal(pkg->version, 0x0200);
    assert_int_equal(pkg->space, 1);
    /* abort with no session: the card's 6A88 */
    assert_int_equal(seam_gp_upgrade(f->gp, SEAM_GP_UPGRADE_ABORT, purse_pkg, sizeof purse_pkg,
                                     NULL, 0, &st, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x6A88);
}

static void bad_inputs_leave_the_card_as_it_was(void **state) {
    fixture *f = *state;
    seam_gp_package_install in;
    seam_card_traffic t0, t1;
    uint8_t before[32], after[32], header[4];
    static const uint8_t unknown[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x99, 0x01};
    static const uint8_t garbage[] = "this is not a package";
    size_t len = 0;
    uint16_t sw = 0;
    open_isd(f, 0x01);
    assert_int_equal(install_app(f, "hello", false), 0x9000);
    fingerprint(f->card, before);
    /* an unknown AID */
    assert_int_equal(seam_gp_delete(f->gp, unknown, sizeof unknown, true, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A88);
    /* a file that is not a package: refused before anything is sent */
    seam_card_traffic_get(f->card, &t0);
    memset(&in, 0, sizeof in);
    in.module = garbage;
    in.module_len = sizeof garbage;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_ERR_GP_PACKAGE);
    seam_card_traffic_get(f->card, &t1);
    assert_int_equal(t1.total.commands, t0.total.commands);
    /* a package loaded already: INSTALL [for load] is refused, nothing loaded (the
       two-step sequence, asked for: the combined one is in
       combined_install_keeps_both_or_neither) */
    in.module = read_app("hello", &len);
    in.module_len = len;
    in.separate = true;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    seam_gp_last_command(f->gp, header);
    assert_memory_equal(header, ((uint8_t[]){0x80, 0xE6, 0x02, 0x00}), 4);
    free((void *)in.module);
    /* an instance AID in use: the last step refuses, after a load of another package */
    in.module = read_app("test_perso", &len);
    in.module_len = len;
    seam_gp_aid_set(&in.instance, hello_cls, sizeof hello_cls);
    fingerprint(f->card, before);
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    seam_gp_last_command(f->gp, header);
    assert_memory_equal(header, ((uint8_t[]){0x80, 0xE6, 0x0C, 0x00}), 4);
    free((void *)in.module);
    assert_int_equal(seam_gp_delete(f->gp, tp_pkg, sizeof tp_pkg, false, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000); /* the package it had loaded goes again */
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    /* an instance still in use by its package: DELETE without related refused */
    assert_int_equal(seam_gp_delete(f->gp, hello_pkg, sizeof hello_pkg, false, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
}

/* The P1 P2 of each INSTALL the session sends (plain), in order. */
typedef struct {
    size_t count;
    uint8_t p1p2[8][2];
} installs;

static void note_install(void *ctx, seam_gp_trace_point point, const uint8_t *b, size_t n) {
    installs *i = ctx;
    if (point == SEAM_GP_TRACE_COMMAND && n >= 4 && b[1] == 0xE6 && i->count < 8) {
        i->p1p2[i->count][0] = b[2];
        i->p1p2[i->count++][1] = b[3];
    }
}

/* seam_gp_install_package sends the combined sequence (0E 01, LOADs, 0E 03) unless told
   otherwise: a refusal at either end leaves the card as it was, the package included. */
static void combined_install_keeps_both_or_neither(void **state) {
    fixture *f = *state;
    seam_gp_package_install in;
    uint8_t before[32], after[32], header[4];
    size_t len = 0;
    uint16_t sw = 0;
    registry r;
    installs sent = {0};
    open_isd(f, 0x01);
    seam_gp_set_trace(f->gp, note_install, &sent);
    assert_int_equal(install_app(f, "hello", false), 0x9000);
    assert_int_equal(sent.count, 2);
    assert_memory_equal(sent.p1p2[0], ((uint8_t[]){0x0E, 0x01}), 2);
    assert_memory_equal(sent.p1p2[1], ((uint8_t[]){0x0E, 0x03}), 2);
    list(f, &r);
    assert_non_null(find(&r, false, hello_cls, sizeof hello_cls));
    assert_non_null(find(&r, true, hello_pkg, sizeof hello_pkg));
    seam_gp_set_trace(f->gp, NULL, NULL);
    fingerprint(f->card, before);
    /* the package is on the card already: the first command is refused */
    memset(&in, 0, sizeof in);
    in.module = read_app("hello", &len);
    in.module_len = len;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    seam_gp_last_command(f->gp, header);
    assert_memory_equal(header, ((uint8_t[]){0x80, 0xE6, 0x0E, 0x01}), 4);
    free((void *)in.module);
    /* the instance AID is in use: the final command is refused and the package it
       carried is not kept (no DELETE needed) */
    in.module = read_app("test_perso", &len);
    in.module_len = len;
    seam_gp_aid_set(&in.instance, hello_cls, sizeof hello_cls);
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    seam_gp_last_command(f->gp, header);
    assert_memory_equal(header, ((uint8_t[]){0x80, 0xE6, 0x0E, 0x03}), 4);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    list(f, &r);
    assert_null(find(&r, true, tp_pkg, sizeof tp_pkg));
    /* the same with the two-step sequence keeps the package (02, LOADs, 0C refused) */
    in.separate = true;
    assert_int_equal(seam_gp_install_package(f->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6985);
    seam_gp_last_command(f->gp, header);
    assert_memory_equal(header, ((uint8_t[]){0x80, 0xE6, 0x0C, 0x00}), 4);
    list(f, &r);
    assert_non_null(find(&r, true, tp_pkg, sizeof tp_pkg));
    free((void *)in.module);
}

/* A link to the card that spoils the last LOAD block on its way (its data all FF):
   the card refuses the new version at the end of its load. The channel must be at level
   00, where no C-MAC would catch the change first. */
typedef struct {
    seam_gp_link *card;
} refusing;

static seam_err refusing_power_on(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    refusing *l = ctx;
    return seam_gp_link_power_on(l->card, atr, size, len);
}

static seam_err refusing_power_off(void *ctx) {
    refusing *l = ctx;
    return seam_gp_link_power_off(l->card);
}

static seam_err refusing_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp,
                                  size_t size, size_t *resp_len) {
    refusing *l = ctx;
    uint8_t spoilt[5 + 255 + 1];
    if (len >= 7 && len <= sizeof spoilt && cmd[1] == 0xE8 && (cmd[2] & 0x80)) {
        memcpy(spoilt, cmd, len);
        memset(spoilt + 5, 0xFF, len - 6); /* the block's data, up to Le */
        cmd = spoilt;
    }
    return seam_gp_link_transmit(l->card, cmd, len, resp, size, resp_len);
}

static void refusing_close(void *ctx) {
    (void)ctx;
}

static const seam_gp_link_ops refusing_ops = {
    refusing_power_on, refusing_power_on, refusing_power_off, refusing_transmit, refusing_close};

static void upgrade_package_whole_and_aborted(void **state) {
    fixture *f = *state;
    seam_gp_upgrade_report report;
    uint8_t before[32], after[32], header[4];
    size_t len = 0;
    uint16_t sw = 0;
    registry r;
    open_isd(f, 0x01);
    assert_int_equal(install_app(f, "purse", false), 0x9000);
    uint8_t *v2 = read_app("purse_v2", &len);
    /* the card refuses the new version's last LOAD block: abort puts the package back */
    refusing wrapper = {&f->link};
    seam_gp_link link = {&refusing_ops, &wrapper, "refusing"};
    seam_gp *gp = NULL;
    seam_gp_keys keys;
    assert_int_equal(seam_gp_new(&link, &gp), SEAM_OK);
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_select(gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(seam_gp_open_channel(gp, &keys, 0, 0x00, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(seam_gp_upgrade_package(gp, v2, len, NULL, NULL, NULL, &report, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A80);
    assert_true(report.started && !report.loaded && !report.migrated && report.aborted);
    assert_int_equal(report.start.status, 0x02);
    seam_gp_last_command(gp, header); /* the step that failed, not the abort after it */
    assert_int_equal(header[1], 0xE8);
    assert_int_equal(header[2], 0x80);
    fingerprint(f->card, after);
    assert_memory_equal(before, after, 32);
    seam_gp_free(gp);
    /* the whole upgrade: start, load, migrate */
    open_isd(f, 0x01);
    assert_int_equal(seam_gp_upgrade_package(f->gp, v2, len, NULL, NULL, NULL, &report, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_true(report.started && report.loaded && report.migrated && !report.aborted);
    assert_int_equal(report.start.status, 0x02);
    assert_int_equal(report.migrate.status, 0x01);
    assert_true(report.migrate.has_migrated);
    assert_int_equal(report.migrate.migrated, 1);
    assert_true(report.load_blocks > 1 && report.load_bytes > len);
    list(f, &r);
    assert_int_equal(find(&r, true, purse_pkg, sizeof purse_pkg)->version, 0x0200);
    /* a file that is not a package: nothing sent */
    assert_int_equal(
        seam_gp_upgrade_package(f->gp, (const uint8_t *)"nope", 4, NULL, NULL, NULL, &report, &sw),
        SEAM_ERR_GP_PACKAGE);
    assert_false(report.started);
    free(v2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(install_list_delete_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(every_install_role_the_card_takes, setup, teardown),
        cmocka_unit_test_setup_teardown(store_data_to_the_isd_in_dgis, setup, teardown),
        cmocka_unit_test_setup_teardown(put_key_hands_a_security_domain_over, setup, teardown),
        cmocka_unit_test_setup_teardown(get_status_follows_6310, setup, teardown),
        cmocka_unit_test_setup_teardown(manage_elf_upgrade_start_load_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_inputs_leave_the_card_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(combined_install_keeps_both_or_neither, setup, teardown),
        cmocka_unit_test_setup_teardown(upgrade_package_whole_and_aborted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
