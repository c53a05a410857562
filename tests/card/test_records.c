/*
 * Restore-module records belong to a security domain instance (issue 9, items
 * 2, 3 and 5; docs/restore-module.md "Ownership" and "Quota"; requirements
 * P8, P10, X1, X4):
 *
 *   - deleting an SSD deletes its records in the same command, so a new SD
 *     created later under the same AID finds nothing of the old one (item 2);
 *   - INSTALL [for extradition] moves an instance's record to the target SD
 *     in the same command, so the target's upgrade restores it (item 3);
 *   - only an SD that manages content writes records with DGIs 7F70/7F71, one
 *     SD's records are bounded (count and bytes), and their owner can always
 *     delete them (item 5);
 *   - a power cut at any write of these commands leaves the card as before.
 *
 * Management commands go through the host library's secure channel (levels 03
 * and 33; tests/card/card_host.h); records are counted directly in the nvm tables 8-10, whose keys
 * start with len(SD AID) || SD AID (no APDU reads them in clear).
 */
#include "card_host.h"

#define T_RECORD 8u
#define T_BLOCK  9u
#define T_ENTRY  10u

/* documented in docs/restore-module.md ("Quota") and include/seam/applet.h */
#define DOMAIN_RECORDS_MAX     32u
#define DOMAIN_BYTES_MAX       65536u
#define SEAM_RESTORE_ERR_QUOTA (-1)

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};
static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t bank_x[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x58};
static const uint8_t plain_sd[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x50};
static const uint8_t dm_sd[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x44};

static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};    /* SD, AM, Trusted Path */
static const uint8_t priv_plain[3] = {0x80, 0x80, 0x00}; /* SD, Trusted Path: no management */
static const uint8_t priv_dm[3] = {0xA0, 0x80, 0x00};    /* SD, Delegated Management */

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t tr_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52};
static const uint8_t tr_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01};
static const uint8_t tr_a[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0xA1};
static const uint8_t lonely[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x00, 0x01}; /* no instance */

/* ---- the secure channel and GP commands (the host library, card_host.h) ---------------- */

/* Selects SD aid on channel 0 and opens SCP03 with the test keys at level. */
static uint16_t open_sd(seam_card *card, const uint8_t *aid, size_t len, uint8_t level) {
    return open_at(card, aid, len, test_key, level);
}

static void as(seam_card *card, const uint8_t *aid, size_t len) {
    assert_int_equal(open_sd(card, aid, len, 0x03), 0x9000);
}

/* 80 ins p1 p2 [Lc data] 00, through the open channel. */
static uint16_t x(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                  size_t nc) {
    return gp(card, true, ins, p1, p2, data, nc);
}

static size_t lv(uint8_t *d, const uint8_t *v, size_t len) {
    d[0] = (uint8_t)len;
    if (len)
        memcpy(d + 1, v, len);
    return 1 + len;
}

/* INSTALL [for install and make selectable] of SSD aid from the built-in SD package. */
static uint16_t install_sd(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *priv) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(sd_elf, sizeof sd_elf),
                                 .module = aid_of(sd_module, sizeof sd_module),
                                 .application = aid_of(aid, len),
                                 .privileges_len = 3};
    memcpy(in.privileges, priv, 3);
    return install_with(card, &in);
}

/* INSTALL [for load] (the package goes to the selected SD) and LOAD of app `name`. */
static void load_app(seam_card *card, const char *name, const uint8_t *pkg, size_t pkg_len) {
    size_t len = 0;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(install_for_load(card, pkg, pkg_len), 0x9000);
    assert_int_equal(load_blocks(card, file, len), 0x9000);
    free(file);
}

/* INSTALL [for install and make selectable] of class cls of pkg as instance aid. */
static uint16_t install_app(seam_card *card, const uint8_t *pkg, size_t pkg_len, const uint8_t *cls,
                            const uint8_t *aid, const uint8_t *params, size_t params_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(pkg, pkg_len),
                                 .module = aid_of(cls, 7),
                                 .application = aid_of(aid, 7),
                                 .privileges_len = 1,
                                 .app_params = params,
                                 .app_params_len = params_len};
    return install_with(card, &in);
}

static uint16_t install_purse(seam_card *card, const uint8_t *aid, const uint8_t *pin) {
    uint8_t params[5] = {4};
    if (pin)
        memcpy(params + 1, pin, 4);
    return install_app(card, purse_pkg, sizeof purse_pkg, purse_cls, aid, params, pin ? 5 : 0);
}

/* DELETE of the restore record of instance aid in the selected SD: DF70 len aid. */
static uint16_t delete_record(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t d[19] = {0xDF, 0x70, (uint8_t)len};
    memcpy(d + 3, aid, len);
    return x(card, 0xE4, 0x00, 0x00, d, 3 + len);
}

/* INSTALL [for personalization] of instance aid: the STORE DATA target. */
static uint16_t perso_target(seam_card *card, const uint8_t *aid, size_t len) {
    return install_perso(card, aid, len);
}

/* STORE DATA block p2 to the personalization target: DF01 04 pin (the purse's PIN). */
static uint16_t store_pin(seam_card *card, uint8_t p1, uint8_t p2, const uint8_t *pin) {
    const uint8_t block[7] = {0xDF, 0x01, 4, pin[0], pin[1], pin[2], pin[3]};
    return x(card, 0xE2, p1, p2, block, sizeof block);
}

/* STORE DATA (last block, DGI) to the selected SD: 7F71 for instance aid with one entry. */
static uint16_t store_7f71(seam_card *card, const uint8_t *aid, const char *name,
                           const uint8_t *value, size_t len) {
    uint8_t d[240];
    size_t k = strlen(name), n = 0;
    assert_true(len <= 200);
    d[n++] = 0x7F;
    d[n++] = 0x71;
    d[n++] = (uint8_t)(2 + 7 + 2 + 2 + k + 2 + len);
    d[n++] = 0x4F;
    n += lv(d + n, aid, 7);
    d[n++] = 0xE1;
    d[n++] = (uint8_t)(2 + k + 2 + len);
    d[n++] = 0x80;
    n += lv(d + n, (const uint8_t *)name, k);
    d[n++] = 0x81;
    n += lv(d + n, value, len);
    return x(card, 0xE2, 0x88, 0x00, d, n);
}

/* STORE DATA (last block, DGI) to the selected SD: 7F70 for aid, one block DF01 04 pin. */
static uint16_t store_7f70_pin(seam_card *card, const uint8_t *aid, const uint8_t *pin) {
    uint8_t d[32];
    size_t n = 0;
    d[n++] = 0x7F;
    d[n++] = 0x70;
    d[n++] = 2 + 7 + 2 + 1 + 7;
    d[n++] = 0x4F;
    n += lv(d + n, aid, 7);
    d[n++] = 0xE2;
    d[n++] = 1 + 7;
    d[n++] = 0x90;
    memcpy(d + n, (const uint8_t[]){0xDF, 0x01, 4, pin[0], pin[1], pin[2], pin[3]}, 7);
    return x(card, 0xE2, 0x88, 0x00, d, n + 7);
}

/* MANAGE ELF UPGRADE P1 with 4F aid. */
static uint16_t manage_upgrade(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len) {
    uint8_t d[18] = {0x4F, (uint8_t)len};
    memcpy(d + 2, aid, len);
    return x(card, 0xEA, p1, 0x00, d, 2 + len);
}

/* ---- applets -------------------------------------------------------------------------- */

/* Selects instance aid on channel 0 and sends 80 ins 00 00 [Lc data]. */
static uint16_t applet(seam_card *card, const uint8_t *aid, uint8_t ins, const uint8_t *d,
                       size_t n) {
    uint8_t cmd[5 + 16] = {0x80, ins, 0x00, 0x00, (uint8_t)n}; /* no data: Le 00 */
    assert_int_equal(select_aid(card, aid, 7), 0x9000);
    if (n)
        memcpy(cmd + 5, d, n);
    return send(card, cmd, 5 + n);
}

static uint16_t verify(seam_card *card, const uint8_t *aid, const uint8_t *pin) {
    return applet(card, aid, 0x20, pin, 4);
}

/* test_restore's seam_restore_put of `len` bytes 5A under a one-letter name. */
static int32_t tr_fill(seam_card *card, const uint8_t *aid, char name, size_t len) {
    uint8_t cmd[5 + 3 + 1] = {0x80, 0x11, (uint8_t)(len >> 8), (uint8_t)len, 3, 1, (uint8_t)name,
                              0x5A, 0x00};
    assert_int_equal(select_aid(card, aid, 7), 0x9000);
    assert_int_equal(send(card, cmd, sizeof cmd), 0x9000);
    return (int32_t)((uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 |
                     (uint32_t)response[2] << 8 | response[3]);
}

/* test_restore's STATE: how many personalization blocks install replayed into it. */
static uint32_t tr_blocks_received(seam_card *card, const uint8_t *aid) {
    assert_int_equal(applet(card, aid, 0x50, NULL, 0), 0x9000);
    return (uint32_t)response[12] << 24 | (uint32_t)response[13] << 16 |
           (uint32_t)response[14] << 8 | response[15];
}

/* ---- records, read directly ----------------------------------------------------------- */

typedef struct {
    size_t rows, bytes; /* bytes: what the rows cost the card image, as stored */
    const seam_nvm *nvm;
} usage;

static int count_row(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len) {
    usage *u = ctx;
    (void)key;
    (void)value;
    u->rows++;
    u->bytes += seam_nvm_put_cost(u->nvm, key_len, value_len);
    return 0;
}

/* The rows of `table` under len(sd) || sd [|| len(aid) || aid] (aid NULL: every identity). */
static usage rows_of(seam_card *card, uint16_t table, const uint8_t *sd, size_t sd_len,
                     const uint8_t *aid, size_t aid_len) {
    uint8_t prefix[40];
    size_t n = lv(prefix, sd, sd_len);
    usage u = {0, 0, seam_card_nvm(card)};
    if (aid)
        n += lv(prefix + n, aid, aid_len);
    assert_int_equal(seam_nvm_foreach(seam_card_nvm(card), table, prefix, n, count_row, &u),
                     SEAM_OK);
    return u;
}

/* Every row of SD sd's records (tables 8-10). */
static usage domain_usage(seam_card *card, const uint8_t *sd, size_t sd_len) {
    usage all = {0, 0, NULL};
    for (uint16_t t = T_RECORD; t <= T_ENTRY; t++) {
        usage u = rows_of(card, t, sd, sd_len, NULL, 0);
        all.rows += u.rows;
        all.bytes += u.bytes;
    }
    return all;
}

static bool has_record(seam_card *card, const uint8_t *sd, size_t sd_len, const uint8_t *aid) {
    return rows_of(card, T_RECORD, sd, sd_len, aid, 7).rows == 1;
}

static void expect_unchanged(seam_card *card, const uint8_t before[32]) {
    uint8_t now[32];
    fingerprint(card, now);
    assert_memory_equal(now, before, 32);
}

/* ---- item 2: a deleted domain takes its records along ---------------------------------- */

static const uint8_t pin_x[] = {'2', '7', '1', '8'};
static const uint8_t key_x[16] = {0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45,
                                  0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26};

/* The ISD loads purse and test_restore and creates bank X (AM); X installs purse_a,
   personalizes it (PIN 2718), files an entry for an AID with no instance, and deletes
   purse_a: its record stays. The ISD's channel is open at the end. */
static void domain_x_with_records(fixture *f) {
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    load_app(f->card, "test_restore", tr_pkg, sizeof tr_pkg);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    as(f->card, bank_x, sizeof bank_x);
    assert_int_equal(install_purse(f->card, purse_a, NULL), 0x9000);
    assert_int_equal(perso_target(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(store_pin(f->card, 0x90, 0x00, pin_x), 0x9000);
    assert_int_equal(store_7f71(f->card, lonely, "k", (const uint8_t *)"secret", 6), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_true(has_record(f->card, bank_x, sizeof bank_x, purse_a));
    assert_true(has_record(f->card, bank_x, sizeof bank_x, lonely));
    as(f->card, isd, sizeof isd);
}

static void hardening_02_a_new_domain_under_a_deleted_ones_aid_finds_nothing_P10(void **state) {
    fixture *f = *state;
    domain_x_with_records(f);
    assert_int_equal(delete_aid(f->card, bank_x, sizeof bank_x, 0x00), 0x9000);
    /* another party with Authorized Management creates a domain under X's AID */
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b, priv_am), 0x9000);
    as(f->card, bank_b, sizeof bank_b);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    /* the export of X's records at level 33 */
    assert_int_equal(open_sd(f->card, bank_x, sizeof bank_x, 0x33), 0x9000);
    uint16_t sw = manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a);
    print_message("export of the old X's purse record by the new X: %04X\n", sw);
    assert_int_equal(sw, 0x6A88);
    assert_int_equal(manage_upgrade(f->card, 0x10, lonely, sizeof lonely), 0x6A88);
    /* code of its own installed under the old instance AID gets no replayed block */
    as(f->card, bank_x, sizeof bank_x);
    assert_int_equal(install_app(f->card, tr_pkg, sizeof tr_pkg, tr_cls, purse_a, NULL, 0), 0x9000);
    uint32_t replayed = tr_blocks_received(f->card, purse_a);
    print_message("blocks of the old X replayed into the new X's applet: %u\n", replayed);
    assert_int_equal(replayed, 0);
    /* what is left under X's AID is the new instance's empty record, nothing else */
    assert_int_equal(rows_of(f->card, T_BLOCK, bank_x, sizeof bank_x, NULL, 0).rows, 0);
    assert_int_equal(rows_of(f->card, T_ENTRY, bank_x, sizeof bank_x, NULL, 0).rows, 0);
    assert_int_equal(rows_of(f->card, T_RECORD, bank_x, sizeof bank_x, NULL, 0).rows, 1);
}

static void hardening_02_deleting_a_domain_deletes_its_records_P10(void **state) {
    fixture *f = *state;
    domain_x_with_records(f);
    /* two records, a block, an entry */
    assert_int_equal(domain_usage(f->card, bank_x, sizeof bank_x).rows, 4);
    assert_int_equal(delete_aid(f->card, bank_x, sizeof bank_x, 0x00), 0x9000);
    usage left = domain_usage(f->card, bank_x, sizeof bank_x);
    print_message("rows of the deleted X's records: %zu\n", left.rows);
    assert_int_equal(left.rows, 0);
    /* and the same instance AID in the ISD is not personalized from X's record */
    assert_int_equal(install_purse(f->card, purse_a, NULL), 0x9000);
    assert_int_equal(verify(f->card, purse_a, (const uint8_t *)"1234"), 0x9000);
}

static void hardening_02_records_an_older_image_left_go_when_the_aid_is_reused(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint8_t id[2 + 7 + 1 + 7], key[sizeof id + 2];
    size_t n = lv(id, bank_x, sizeof bank_x);
    n += lv(id + n, purse_a, sizeof purse_a);
    memcpy(key, id, n);
    key[n] = 0;
    key[n + 1] = 0;
    /* a record of a deleted X, as an image written before the fix keeps it */
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_RECORD, id, n, (const uint8_t[]){1, 0, 1, 0, 8}, 5),
                     SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, T_BLOCK, key, n + 2,
                                  (const uint8_t[]){1, 0x90, 0xDF, 0x01, 4, '2', '7', '1', '8'}, 9),
                     SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    assert_int_equal(domain_usage(f->card, bank_x, sizeof bank_x).rows, 0);
    assert_int_equal(open_sd(f->card, bank_x, sizeof bank_x, 0x33), 0x9000);
    assert_int_equal(manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a), 0x6A88);
}

/* The family of item 2: nothing keyed by the AID string outlives the SD. X adds a key
   set (KVN 31) before it is deleted; the new X has only the one its creator gave it. */
static void hardening_02_a_reused_aid_gets_none_of_the_old_key_sets_X1(void **state) {
    fixture *f = *state;
    seam_gp_keys keys;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_keys_set(&keys, key_x, 16), SEAM_OK);
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    as(f->card, bank_x, sizeof bank_x);
    /* PUT KEY adding KVN 31: three AES-128 keys under the DEK, with KCVs */
    assert_int_equal(seam_gp_put_key(session(f->card), 0x00, 0x31, &keys, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(select_aid(f->card, bank_x, sizeof bank_x), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x31, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x9000); /* X holds KVN 31 */
    as(f->card, isd, sizeof isd);
    assert_int_equal(delete_aid(f->card, bank_x, sizeof bank_x, 0x00), 0x9000);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    assert_int_equal(select_aid(f->card, bank_x, sizeof bank_x), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x31, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x6A88);
    assert_int_equal(open_sd(f->card, bank_x, sizeof bank_x, 0x03), 0x9000); /* KVN 30 */
}

/* A STORE DATA sequence is the selected SD's: once its target belongs to another SD
   (extradited, or deleted and installed again by someone else), the next block is
   refused and the other SD's instance is not touched. */
static void hardening_02_perso_sequence_stops_at_another_domains_instance_X1(void **state) {
    fixture *f = *state;
    const uint8_t pin_1[] = {'1', '1', '1', '1'}, pin_2[] = {'2', '2', '2', '2'};
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b, priv_am), 0x9000);
    assert_int_equal(install_purse(f->card, purse_a, NULL), 0x9000);
    assert_int_equal(perso_target(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(store_pin(f->card, 0x10, 0x00, pin_1), 0x9000); /* not the last block */
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a), 0x9000);
    uint8_t before[32];
    fingerprint(f->card, before);
    uint16_t sw = store_pin(f->card, 0x90, 0x01, pin_2);
    print_message("the ISD's next block to bank B's purse: %04X\n", sw);
    assert_int_equal(sw, 0x6A88);
    expect_unchanged(f->card, before);
    assert_int_equal(verify(f->card, purse_a, pin_2), 0x63C2);
    assert_int_equal(verify(f->card, purse_a, pin_1), 0x9000);
}

/* ---- item 3: extradition moves the record --------------------------------------------- */

static const uint8_t pin_a[] = {'5', '6', '7', '8'};

/* Bank A and bank B (AM) created by the ISD, which loaded purse 1.0; bank A installs
   purse_a, personalizes it (PIN 5678 by STORE DATA) and uses it: credit 100, debit 30. */
static void purse_of_bank_a_used(seam_card *card) {
    power_on(card);
    as(card, isd, sizeof isd);
    load_app(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_sd(card, bank_a, sizeof bank_a, priv_am), 0x9000);
    assert_int_equal(install_sd(card, bank_b, sizeof bank_b, priv_am), 0x9000);
    as(card, bank_a, sizeof bank_a);
    assert_int_equal(install_purse(card, purse_a, NULL), 0x9000);
    assert_int_equal(perso_target(card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(store_pin(card, 0x90, 0x00, pin_a), 0x9000);
    assert_int_equal(verify(card, purse_a, pin_a), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x30, 0x00, 0x00, 4, 0, 0, 0, 100), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 30), 0x9000);
}

/* PIN 5678 (the default 1234 refused), balance 70 after 2 operations, the debit logged. */
static void purse_kept_its_data(seam_card *card) {
    assert_int_equal(applet(card, purse_a, 0x50, NULL, 0), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 70, 0, 0, 0, 2}), 8);
    uint16_t sw = SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4');
    print_message("the default PIN after the upgrade: %04X\n", sw);
    assert_int_equal(sw, 0x63C2);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 2 * 13 + 2);
    assert_memory_equal(response, ((uint8_t[]){2, 0, 0, 0, 30, 0, 0, 0, 70, 0, 0, 0, 2}), 13);
}

static void
hardening_03_extradited_purse_keeps_pin_balance_and_log_through_an_upgrade_P8(void **state) {
    fixture *f = *state;
    purse_of_bank_a_used(f->card);
    as(f->card, bank_a, sizeof bank_a);
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a), 0x9000);
    bool moved = has_record(f->card, bank_b, sizeof bank_b, purse_a) &&
                 !has_record(f->card, bank_a, sizeof bank_a, purse_a);
    print_message("record moved to bank B with the instance: %s\n", moved ? "yes" : "no");
    /* the issuer upgrades purse to 2.0; bank B migrates the purse it now holds */
    as(f->card, isd, sizeof isd);
    assert_int_equal(manage_upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    load_app(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    as(f->card, bank_b, sizeof bank_b);
    assert_int_equal(manage_upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x9000);
    purse_kept_its_data(f->card);
    assert_true(moved);
    assert_int_equal(domain_usage(f->card, bank_a, sizeof bank_a).rows, 0);
}

static void hardening_03_extradition_onto_the_targets_own_record_is_refused(void **state) {
    fixture *f = *state;
    uint8_t before[32];
    purse_of_bank_a_used(f->card);
    /* bank B filed personalization of its own for the AID purse_a (P5 c) */
    as(f->card, bank_b, sizeof bank_b);
    assert_int_equal(store_7f70_pin(f->card, purse_a, (const uint8_t *)"4321"), 0x9000);
    as(f->card, bank_a, sizeof bank_a);
    fingerprint(f->card, before);
    uint16_t sw = extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a);
    print_message("extradition onto bank B's record for the same AID: %04X\n", sw);
    assert_int_equal(sw, 0x6985);
    expect_unchanged(f->card, before);
    /* once bank B deletes its record, the extradition goes through with A's */
    as(f->card, bank_b, sizeof bank_b);
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x9000);
    as(f->card, bank_a, sizeof bank_a);
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a), 0x9000);
    assert_true(has_record(f->card, bank_b, sizeof bank_b, purse_a));
    assert_int_equal(verify(f->card, purse_a, pin_a), 0x9000);
}

/* An instance selected on a channel writes to the record it was bound to when selected:
   it is not extradited under it (as it is not deleted). */
static void hardening_03_a_selected_instance_is_not_extradited_X4(void **state) {
    fixture *f = *state;
    uint8_t before[32];
    purse_of_bank_a_used(f->card);
    assert_int_equal(select_aid(f->card, isd, sizeof isd), 0x9000);        /* purse off channel 0 */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* channel 1 */
    assert_int_equal(response[0], 1);
    uint8_t sel[5 + 7 + 1] = {0x01, 0xA4, 0x04, 0x00, 7};
    memcpy(sel + 5, purse_a, 7);
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    as(f->card, bank_a, sizeof bank_a);
    fingerprint(f->card, before);
    uint16_t sw = extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a);
    print_message("extradition of an instance selected on channel 1: %04X\n", sw);
    assert_int_equal(sw, 0x6985);
    expect_unchanged(f->card, before);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x80, 0x01), 0x9000); /* close channel 1 */
    as(f->card, bank_a, sizeof bank_a);
    assert_int_equal(extradite(f->card, bank_b, sizeof bank_b, purse_a, sizeof purse_a), 0x9000);
}

/* ---- item 5: who writes records, how many, and who deletes them ------------------------ */

static void hardening_05_records_are_written_by_content_managers_only_P10(void **state) {
    fixture *f = *state;
    uint8_t before[32];
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    assert_int_equal(install_sd(f->card, plain_sd, sizeof plain_sd, priv_plain), 0x9000);
    assert_int_equal(install_sd(f->card, dm_sd, sizeof dm_sd, priv_dm), 0x9000);
    /* an SD without Authorized or Delegated Management, at level 03 */
    as(f->card, plain_sd, sizeof plain_sd);
    fingerprint(f->card, before);
    uint16_t sw = store_7f71(f->card, lonely, "k", (const uint8_t *)"v", 1);
    print_message("DGI 7F71 by an SD without content management: %04X\n", sw);
    assert_int_equal(sw, 0x6982);
    assert_int_equal(store_7f70_pin(f->card, lonely, (const uint8_t *)"4321"), 0x6982);
    expect_unchanged(f->card, before);
    /* Delegated Management personalizes its own content without a token */
    as(f->card, dm_sd, sizeof dm_sd);
    assert_int_equal(store_7f71(f->card, lonely, "k", (const uint8_t *)"v", 1), 0x9000);
    assert_true(has_record(f->card, dm_sd, sizeof dm_sd, lonely));
}

/* One AID per record: A0 00 00 05 99 01 i. */
static void nth_aid(uint8_t aid[7], unsigned i) {
    memcpy(aid, (const uint8_t[]){0xA0, 0x00, 0x00, 0x05, 0x99, 0x01, (uint8_t)i}, 7);
}

static void hardening_05_a_domain_at_its_record_count_gets_6A84_and_others_go_on(void **state) {
    fixture *f = *state;
    uint8_t before[32], aid[7];
    unsigned accepted = 0;
    uint16_t sw = 0x9000;
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    as(f->card, bank_x, sizeof bank_x);
    for (unsigned i = 0; i < 200 && sw == 0x9000; i++) {
        nth_aid(aid, i);
        fingerprint(f->card, before);
        sw = store_7f71(f->card, aid, "k", (const uint8_t *)"v", 1);
        accepted += sw == 0x9000;
    }
    print_message("7F71 records accepted for one domain: %u, then %04X\n", accepted, sw);
    assert_int_equal(accepted, DOMAIN_RECORDS_MAX);
    assert_int_equal(sw, 0x6A84);
    expect_unchanged(f->card, before);
    /* INSTALL needs a record for its instance: refused too, nothing kept */
    assert_int_equal(install_purse(f->card, purse_a, (const uint8_t *)"9999"), 0x6A84);
    expect_unchanged(f->card, before);
    /* an existing record may still change */
    nth_aid(aid, 0);
    assert_int_equal(store_7f71(f->card, aid, "k", (const uint8_t *)"w", 1), 0x9000);
    /* the other domains and the card go on */
    as(f->card, isd, sizeof isd);
    assert_int_equal(store_7f71(f->card, lonely, "k", (const uint8_t *)"v", 1), 0x9000);
    assert_int_equal(install_purse(f->card, purse_a, NULL), 0x9000);
    assert_int_equal(verify(f->card, purse_a, (const uint8_t *)"1234"), 0x9000);
    /* extradition into the full domain: 6A84, nothing changed */
    as(f->card, isd, sizeof isd);
    fingerprint(f->card, before);
    assert_int_equal(extradite(f->card, bank_x, sizeof bank_x, purse_a, sizeof purse_a), 0x6A84);
    expect_unchanged(f->card, before);
    /* its owner frees a record: room for one more */
    as(f->card, bank_x, sizeof bank_x);
    assert_int_equal(delete_record(f->card, aid, sizeof aid), 0x9000);
    nth_aid(aid, 200);
    assert_int_equal(store_7f71(f->card, aid, "k", (const uint8_t *)"v", 1), 0x9000);
}

/* Fills instance aid's record with entries of `size` bytes under new names from *name on,
   until a put is refused; returns that refusal, *before the card state right before it. */
static int32_t fill_until_refused(seam_card *card, const uint8_t *aid, size_t size, char *name,
                                  uint8_t before[32]) {
    int32_t r = 0;
    while (r == 0) {
        fingerprint(card, before);
        r = tr_fill(card, aid, (*name)++, size);
    }
    return r;
}

#define INSTANCES 14u /* more than the domain quota holds at 3 x 2049 bytes each */

static void hardening_05_a_domain_at_its_byte_quota_gets_quota_on_every_path(void **state) {
    fixture *f = *state;
    uint8_t before[32], aids[INSTANCES][7];
    int32_t r = 0;
    unsigned i = 0;
    char name = 'a';
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "test_restore", tr_pkg, sizeof tr_pkg);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    as(f->card, bank_x, sizeof bank_x);
    for (i = 0; i < INSTANCES; i++) {
        nth_aid(aids[i], 0x40 + i);
        assert_int_equal(install_app(f->card, tr_pkg, sizeof tr_pkg, tr_cls, aids[i], NULL, 0),
                         0x9000);
    }
    /* bank X's instances fill their records with 2048-byte entries (at most 3 fit in one
       record's 8192 bytes) until the domain is full */
    for (i = 0; i < INSTANCES; i++) {
        name = 'a';
        r = fill_until_refused(f->card, aids[i], 2048, &name, before);
        if (name != 'a' + 4) /* refused before the record's own quota */
            break;
    }
    usage u = domain_usage(f->card, bank_x, sizeof bank_x);
    print_message("domain full in its record %u: %zu bytes of %u, seam_restore_put %d\n", i,
                  u.bytes, DOMAIN_BYTES_MAX, r);
    assert_int_equal(r, SEAM_RESTORE_ERR_QUOTA);
    assert_true(i >= 1 && i + 2 < INSTANCES);
    expect_unchanged(f->card, before);
    /* the last bytes, with smaller and smaller entries in the next record */
    name = 'a';
    for (size_t size = 1024; size >= 1; size /= 2)
        assert_int_equal(fill_until_refused(f->card, aids[i + 1], size, &name, before),
                         SEAM_RESTORE_ERR_QUOTA);
    expect_unchanged(f->card, before);
    u = domain_usage(f->card, bank_x, sizeof bank_x);
    /* within one smallest entry (a 1-byte name and a 1-byte value) of the quota */
    size_t smallest =
        seam_nvm_put_cost(seam_card_nvm(f->card), 1 + sizeof bank_x + 1 + 7 + 1, 1 + 1);
    assert_true(u.bytes <= DOMAIN_BYTES_MAX && u.bytes > DOMAIN_BYTES_MAX - smallest);
    /* a block filed by the applet itself (one byte), and one sent by STORE DATA */
    assert_int_equal(select_aid(f->card, aids[i + 1], 7), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x31, 0x00, 0x01, 1, 0x11, 0x00), 0x9000);
    assert_int_equal((int32_t)((uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 |
                               (uint32_t)response[2] << 8 | response[3]),
                     SEAM_RESTORE_ERR_QUOTA);
    expect_unchanged(f->card, before);
    as(f->card, bank_x, sizeof bank_x);
    assert_int_equal(perso_target(f->card, aids[i + 2], 7), 0x9000);
    fingerprint(f->card, before);
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, (const uint8_t[]){0x11}, 1), 0x6A84);
    expect_unchanged(f->card, before);
    /* the ISD's own instance writes on */
    as(f->card, isd, sizeof isd);
    assert_int_equal(install_app(f->card, tr_pkg, sizeof tr_pkg, tr_cls, tr_a, NULL, 0), 0x9000);
    assert_int_equal(tr_fill(f->card, tr_a, 'a', 2048), 0);
}

/* The family of item 5: an SSD writes nothing that is not its own. The IIN and CIN (tags
   42 and 45, or DGI 0070, in STORE DATA without a target) are the card's: the ISD's. */
static void hardening_05_an_ssd_does_not_write_the_cards_iin_and_cin_X1(void **state) {
    fixture *f = *state;
    uint8_t before[32];
    const uint8_t iin[] = {0x42, 0x02, 0x12, 0x34};
    const uint8_t cin_dgi[] = {0x00, 0x70, 0x04, 0x45, 0x02, 0x56, 0x78};
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    assert_int_equal(install_sd(f->card, bank_x, sizeof bank_x, priv_am), 0x9000);
    as(f->card, bank_x, sizeof bank_x);
    fingerprint(f->card, before);
    uint16_t sw = x(f->card, 0xE2, 0x90, 0x00, iin, sizeof iin);
    print_message("STORE DATA of the card's IIN by an SSD: %04X\n", sw);
    assert_int_equal(sw, 0x6982);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, cin_dgi, sizeof cin_dgi), 0x6982);
    expect_unchanged(f->card, before);
    as(f->card, isd, sizeof isd);
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, iin, sizeof iin), 0x9000);
    assert_int_equal(SEND(f->card, 0x00, 0xCA, 0x00, 0x42, 0x00), 0x9000);
    assert_memory_equal(response, ((uint8_t[]){0x12, 0x34, 0x90, 0x00}), 4);
}

/* Bank N has no privilege at all; an instance extradited to it brings its record along,
   which N cannot write to but can always delete (and nobody else can). */
static void hardening_05_the_owner_always_deletes_its_record(void **state) {
    fixture *f = *state;
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_sd(f->card, plain_sd, sizeof plain_sd, priv_plain), 0x9000);
    assert_int_equal(install_purse(f->card, purse_a, pin_a), 0x9000);
    assert_int_equal(extradite(f->card, plain_sd, sizeof plain_sd, purse_a, sizeof purse_a),
                     0x9000);
    assert_true(has_record(f->card, plain_sd, sizeof plain_sd, purse_a));
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x6A88); /* not the ISD's */
    as(f->card, plain_sd, sizeof plain_sd);
    assert_int_equal(store_7f71(f->card, purse_a, "k", (const uint8_t *)"v", 1), 0x6982);
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(domain_usage(f->card, plain_sd, sizeof plain_sd).rows, 0);
    assert_int_equal(verify(f->card, purse_a, pin_a), 0x9000); /* the live purse keeps its PIN */
}

/* ---- X4: power cuts over the new write paths ------------------------------------------ */

/* The ISD (channel open) with purse loaded, bank B, and purse_a of the ISD personalized by
   its install parameters (PIN 5678: a block in its record). */
static void prep_extradition(fixture *f) {
    power_on(f->card);
    as(f->card, isd, sizeof isd);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b, priv_am), 0x9000);
    assert_int_equal(install_purse(f->card, purse_a, pin_a), 0x9000);
}

static uint16_t op_extradite(seam_card *card) {
    return extradite(card, bank_b, sizeof bank_b, purse_a, sizeof purse_a);
}

static uint16_t op_delete_x(seam_card *card) {
    return delete_aid(card, bank_x, sizeof bank_x, 0x00);
}

static void prep_x_own_channel(fixture *f) {
    domain_x_with_records(f);
    as(f->card, bank_x, sizeof bank_x);
}

static uint16_t op_delete_record(seam_card *card) {
    return delete_record(card, purse_a, sizeof purse_a);
}

static void hardening_03_x4_extradition_with_its_record(void **state) {
    fixture *f = *state;
    int n = sweep_every_write(f, prep_extradition, op_extradite);
    print_message("X4 extradition with its record: %d write points swept\n", n);
    assert_true(has_record(f->card, bank_b, sizeof bank_b, purse_a));
    assert_false(has_record(f->card, isd, sizeof isd, purse_a));
}

static void hardening_02_x4_domain_deletion_with_its_records(void **state) {
    fixture *f = *state;
    int n = sweep_every_write(f, domain_x_with_records, op_delete_x);
    print_message("X4 DELETE SSD with its records: %d write points swept\n", n);
    assert_int_equal(domain_usage(f->card, bank_x, sizeof bank_x).rows, 0);
}

static void hardening_05_x4_record_deletion_by_its_owner(void **state) {
    fixture *f = *state;
    int n = sweep_every_write(f, prep_x_own_channel, op_delete_record);
    print_message("X4 DELETE DF70: %d write points swept\n", n);
    assert_false(has_record(f->card, bank_x, sizeof bank_x, purse_a));
    assert_true(has_record(f->card, bank_x, sizeof bank_x, lonely));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            hardening_02_a_new_domain_under_a_deleted_ones_aid_finds_nothing_P10, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_02_deleting_a_domain_deletes_its_records_P10,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_02_records_an_older_image_left_go_when_the_aid_is_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_02_a_reused_aid_gets_none_of_the_old_key_sets_X1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_02_perso_sequence_stops_at_another_domains_instance_X1, setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_03_extradited_purse_keeps_pin_balance_and_log_through_an_upgrade_P8, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            hardening_03_extradition_onto_the_targets_own_record_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_03_a_selected_instance_is_not_extradited_X4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_05_records_are_written_by_content_managers_only_P10, setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_05_a_domain_at_its_record_count_gets_6A84_and_others_go_on, setup, teardown),
        cmocka_unit_test_setup_teardown(
            hardening_05_a_domain_at_its_byte_quota_gets_quota_on_every_path, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_05_the_owner_always_deletes_its_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_05_an_ssd_does_not_write_the_cards_iin_and_cin_X1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_03_x4_extradition_with_its_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_02_x4_domain_deletion_with_its_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hardening_05_x4_record_deletion_by_its_owner, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
