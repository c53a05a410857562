/*
 * The restore module through the card's APDU interface (docs/restore-module.md;
 * requirements P3-P5, P7, P9, P10): personalization data reach an instance's
 * record in the four orders of P5 and come back when the instance is deleted
 * and installed again; application data entries are written while the card
 * operates (P7); the record is refused to everyone but the identity's own SD
 * under the right secure channel level (P10).
 *
 * Every management command goes through the host library's secure channel
 * (levels 01, 03 and 33; tests/card/card_host.h); the records are read directly from the nvm with
 * the documented tables (8 record, 9 personalization block, 10 entry) since no APDU reads them in
 * clear.
 */
#include "card_host.h"

#define T_RECORD 8u
#define T_BLOCK  9u
#define T_ENTRY  10u

/* the applet-side results (include/seam/applet.h, which is for wasm code only) */
#define SEAM_RESTORE_ERR_QUOTA  (-1)
#define SEAM_RESTORE_ERR_DENIED (-3)

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};
static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t paytv_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56};
static const uint8_t paytv_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0x01};
static const uint8_t paytv_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0xA1};
static const uint8_t tr_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52};
static const uint8_t tr_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0x01};
static const uint8_t tr_a[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x52, 0xA1};

static const uint8_t default_pin[] = {'1', '2', '3', '4'};
static const uint8_t pin_a[] = {'9', '8', '7', '6'};
static const uint8_t pin_b[] = {'5', '6', '7', '8'};
static const uint8_t pin_c[] = {'4', '3', '2', '1'};

/* ---- the secure channel and GP commands (the host library, card_host.h) ------------ */

/* Selects SD aid on channel 0 and opens an SCP03 session with the test keys at level;
   returns the EXTERNAL AUTHENTICATE status. */
static uint16_t open_sd(seam_card *card, const uint8_t *aid, size_t len, uint8_t level) {
    return open_at(card, aid, len, test_key, level);
}

static void open_isd(seam_card *card, uint8_t level) {
    assert_int_equal(open_sd(card, isd, sizeof isd, level), 0x9000);
}

/* A GP command through the open channel (C-MAC, and C-DEC at 03/33). */
static uint16_t x(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                  size_t nc) {
    return gp(card, true, ins, p1, p2, data, nc);
}

/* The same GP command without secure messaging. */
static uint16_t plain(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                      size_t nc) {
    return gp(card, false, ins, p1, p2, data, nc);
}

/* INSTALL [for load] (into the ISD's name) and LOAD of load file C4 || module. */
static uint16_t load_module(seam_card *card, const uint8_t *pkg, size_t pkg_len,
                            const uint8_t *file, size_t len) {
    uint16_t sw = install_for_load(card, pkg, pkg_len);
    return sw == 0x9000 ? load_blocks(card, file, len) : sw;
}

static void load_app(seam_card *card, const char *name, const uint8_t *pkg, size_t pkg_len) {
    size_t len;
    uint8_t *file = read_app(name, &len);
    assert_int_equal(load_module(card, pkg, pkg_len, file, len), 0x9000);
    free(file);
}

/* INSTALL [for install and make selectable] (P1 0C) with C9 params, no privileges. */
static uint16_t install_app(seam_card *card, const uint8_t *pkg, size_t pkg_len, const uint8_t *cls,
                            size_t cls_len, const uint8_t *aid, size_t aid_len,
                            const uint8_t *params, size_t params_len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(pkg, pkg_len),
                                 .module = aid_of(cls, cls_len),
                                 .application = aid_of(aid, aid_len),
                                 .privileges_len = 1,
                                 .app_params = params,
                                 .app_params_len = params_len};
    return install_with(card, &in);
}

static uint16_t install_purse(seam_card *card, const uint8_t *params, size_t len) {
    return install_app(card, purse_pkg, sizeof purse_pkg, purse_cls, sizeof purse_cls, purse_a,
                       sizeof purse_a, params, len);
}

static uint16_t install_tr(seam_card *card, const uint8_t *params, size_t len) {
    return install_app(card, tr_pkg, sizeof tr_pkg, tr_cls, sizeof tr_cls, tr_a, sizeof tr_a,
                       params, len);
}

/* INSTALL [for install and make selectable] of an SSD from the built-in SD package. */
static uint16_t install_sd(seam_card *card, const uint8_t *aid, size_t len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .elf = aid_of(sd_elf, sizeof sd_elf),
                                 .module = aid_of(sd_module, sizeof sd_module),
                                 .application = aid_of(aid, len),
                                 .privileges_len = 3};
    memcpy(in.privileges, priv_am, 3);
    return install_with(card, &in);
}

static size_t put_aid(uint8_t *d, const uint8_t *aid, size_t len) {
    d[0] = (uint8_t)len;
    memcpy(d + 1, aid, len);
    return 1 + len;
}

/* DELETE of the restore record of instance aid: DF70 len aid. */
static size_t record_delete_data(uint8_t *d, const uint8_t *aid, size_t len) {
    d[0] = 0xDF;
    d[1] = 0x70;
    d[2] = (uint8_t)len;
    memcpy(d + 3, aid, len);
    return 3 + len;
}

static uint16_t delete_record(seam_card *card, const uint8_t *aid, size_t len) {
    uint8_t d[19];
    return x(card, 0xE4, 0x00, 0x00, d, record_delete_data(d, aid, len));
}

/* DGI 7F70 for instance aid holding one block (P1 90, data): 7F70 L 4F aid E2 len P1 data. */
static size_t dgi_7f70(uint8_t *d, const uint8_t *aid, size_t aid_len, const uint8_t *block,
                       size_t block_len) {
    size_t n = 0;
    d[n++] = 0x7F;
    d[n++] = 0x70;
    d[n++] = (uint8_t)(2 + aid_len + 2 + 1 + block_len);
    d[n++] = 0x4F;
    n += put_aid(d + n, aid, aid_len);
    d[n++] = 0xE2;
    d[n++] = (uint8_t)(1 + block_len);
    d[n++] = 0x90;
    memcpy(d + n, block, block_len);
    return n + block_len;
}

/* The personalization TLV DF01 (the purse's PIN). */
static size_t pin_tlv(uint8_t *d, const uint8_t *pin, size_t len) {
    d[0] = 0xDF;
    d[1] = 0x01;
    d[2] = (uint8_t)len;
    memcpy(d + 3, pin, len);
    return 3 + len;
}

/* STORE DATA to the selected SD, P1 88 (last block, DGI), block 00: 7F70 with a PIN. */
static uint16_t store_7f70_pin(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *pin,
                               size_t pin_len) {
    uint8_t block[16], d[64];
    size_t b = pin_tlv(block, pin, pin_len);
    return x(card, 0xE2, 0x88, 0x00, d, dgi_7f70(d, aid, len, block, b));
}

/* ---- applet commands --------------------------------------------------------------- */

/* Selects the purse on channel 0 (this ends the SD's session) and sends VERIFY pin. */
static uint16_t purse_verify(seam_card *card, const uint8_t *pin, size_t len) {
    uint8_t cmd[5 + 8] = {0x00, 0x20, 0x00, 0x00, (uint8_t)len};
    assert_int_equal(select_aid(card, purse_a, sizeof purse_a), 0x9000);
    memcpy(cmd + 5, pin, len);
    return send(card, cmd, 5 + len);
}

/* The PIN that opens the purse is `pin` and the default one does not. */
static void assert_purse_pin(seam_card *card, const uint8_t *pin) {
    assert_int_equal(purse_verify(card, pin, 4), 0x9000);
    assert_int_equal(purse_verify(card, default_pin, sizeof default_pin), 0x63C2);
    assert_int_equal(purse_verify(card, pin, 4), 0x9000); /* back to 3 tries */
}

/* A test_restore command (the instance selected on channel 0); the 4-byte result in *result. */
static uint16_t tr_cmd(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                       size_t nc, int32_t *result) {
    uint8_t cmd[5 + 255 + 1] = {0x80, ins, p1, p2};
    size_t n = 4;
    uint16_t sw;
    if (nc) {
        cmd[n++] = (uint8_t)nc;
        memcpy(cmd + n, data, nc);
        n += nc;
    }
    cmd[n++] = 0x00;
    sw = send(card, cmd, n);
    if (result && sw == 0x9000) {
        assert_true(response_len >= 6);
        *result = (int32_t)((uint32_t)response[0] << 24 | (uint32_t)response[1] << 16 |
                            (uint32_t)response[2] << 8 | response[3]);
    }
    return sw;
}

/* seam_restore_put(name, len fill bytes) by the applet. */
static int32_t tr_put_fill(seam_card *card, const char *name, size_t name_len, size_t len) {
    uint8_t d[20];
    int32_t r = 99;
    d[0] = (uint8_t)name_len;
    memcpy(d + 1, name, name_len);
    d[1 + name_len] = 0x5A;
    assert_int_equal(tr_cmd(card, 0x11, (uint8_t)(len >> 8), (uint8_t)len, d, 2 + name_len, &r),
                     0x9000);
    return r;
}

static int32_t tr_get(seam_card *card, const char *name, uint8_t cap) {
    int32_t r = 99;
    assert_int_equal(tr_cmd(card, 0x20, cap, 0x00, (const uint8_t *)name, strlen(name), &r),
                     0x9000);
    return r;
}

static int32_t be32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* INS 50 STATE of test_restore (offsets as apps/test_restore documents). */
typedef struct {
    int32_t install_add, install_get, install_previous, blocks;
    uint8_t last_p1, last_len, last[32];
    int32_t restore_get, restore_previous;
    uint8_t restored_len, restored[16];
} tr_state;

static tr_state tr_status(seam_card *card) {
    tr_state s;
    assert_int_equal(select_aid(card, tr_a, sizeof tr_a), 0x9000);
    assert_int_equal(tr_cmd(card, 0x50, 0, 0, NULL, 0, NULL), 0x9000);
    assert_int_equal(response_len, 16 + 2 + 32 + 8 + 1 + 16 + 2);
    s.install_add = be32(response);
    s.install_get = be32(response + 4);
    s.install_previous = be32(response + 8);
    s.blocks = be32(response + 12);
    s.last_p1 = response[16];
    s.last_len = response[17];
    memcpy(s.last, response + 18, 32);
    s.restore_get = be32(response + 50);
    s.restore_previous = be32(response + 54);
    s.restored_len = response[58];
    memcpy(s.restored, response + 59, 16);
    return s;
}

/* ---- the records, read directly (docs/restore-module.md, "Records") ------------------- */

typedef struct {
    uint8_t bytes[40];
    size_t len;
} identity;

static identity make_identity(const uint8_t *sd, size_t sd_len, const uint8_t *aid, size_t len) {
    identity id;
    id.len = put_aid(id.bytes, sd, sd_len);
    id.len += put_aid(id.bytes + id.len, aid, len);
    return id;
}

static bool record_exists(seam_card *card, const identity *id) {
    size_t len = 0;
    seam_err e = seam_nvm_get(seam_card_nvm(card), T_RECORD, id->bytes, id->len, NULL, 0, &len);
    assert_true(e == SEAM_OK || e == SEAM_ERR_NOT_FOUND);
    return e == SEAM_OK;
}

/* Block seq of the record: format 1, P1, data; returns false when absent. */
static bool record_block(seam_card *card, const identity *id, uint16_t seq, uint8_t *out,
                         size_t cap, size_t *len) {
    uint8_t key[48];
    memcpy(key, id->bytes, id->len);
    key[id->len] = (uint8_t)(seq >> 8);
    key[id->len + 1] = (uint8_t)seq;
    seam_err e = seam_nvm_get(seam_card_nvm(card), T_BLOCK, key, id->len + 2, out, cap, len);
    assert_true(e == SEAM_OK || e == SEAM_ERR_NOT_FOUND);
    return e == SEAM_OK;
}

/* Entry name of the record: format 1, value; returns false when absent. */
static bool record_entry(seam_card *card, const identity *id, const char *name, uint8_t *out,
                         size_t cap, size_t *len) {
    uint8_t key[64];
    size_t n = strlen(name);
    memcpy(key, id->bytes, id->len);
    memcpy(key + id->len, name, n);
    seam_err e = seam_nvm_get(seam_card_nvm(card), T_ENTRY, key, id->len + n, out, cap, len);
    assert_true(e == SEAM_OK || e == SEAM_ERR_NOT_FOUND);
    return e == SEAM_OK;
}

typedef struct {
    uint8_t bytes[12000];
    size_t len;
} snapshot;

static int snap_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len) {
    snapshot *s = ctx;
    assert_true(s->len + key_len + value_len + 4 <= sizeof s->bytes);
    s->bytes[s->len++] = (uint8_t)key_len;
    memcpy(s->bytes + s->len, key, key_len);
    s->len += key_len;
    s->bytes[s->len++] = (uint8_t)(value_len >> 8);
    s->bytes[s->len++] = (uint8_t)value_len;
    memcpy(s->bytes + s->len, value, value_len);
    s->len += value_len;
    return 0;
}

/* Everything the three tables hold for identity id. */
static void take_snapshot(seam_card *card, const identity *id, snapshot *s) {
    s->len = 0;
    for (uint16_t t = T_RECORD; t <= T_ENTRY; t++) {
        s->bytes[s->len++] = (uint8_t)t;
        assert_int_equal(
            seam_nvm_foreach(seam_card_nvm(card), t, id->bytes, id->len, snap_visit, s), SEAM_OK);
    }
}

static void assert_snapshot(seam_card *card, const identity *id, const snapshot *before) {
    static snapshot now;
    take_snapshot(card, id, &now);
    assert_int_equal(now.len, before->len);
    assert_memory_equal(now.bytes, before->bytes, before->len);
}

static bool response_has(const uint8_t *data, size_t len, const uint8_t *bytes, size_t n) {
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(data + i, bytes, n))
            return true;
    return false;
}

/* The ISD loads purse and installs purse_a (no parameters); the session stays open. */
static void purse_installed(seam_card *card, uint8_t level) {
    power_on(card);
    open_isd(card, level);
    load_app(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_purse(card, NULL, 0), 0x9000);
}

/* The ISD loads test_restore and installs tr_a with params; selects it. */
static void tr_installed(seam_card *card, const uint8_t *params, size_t len) {
    power_on(card);
    open_isd(card, 0x01);
    load_app(card, "test_restore", tr_pkg, sizeof tr_pkg);
    assert_int_equal(install_tr(card, params, len), 0x9000);
    assert_int_equal(select_aid(card, tr_a, sizeof tr_a), 0x9000);
}

/* ---- P3, P4, P5 (a): INSTALL [for personalization] + STORE DATA ------------------------ */

static void p3_p4_p5a_store_data_personalizes_and_files_the_block(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    uint8_t block[16], v[300];
    size_t n = pin_tlv(block, pin_a, sizeof pin_a), len = 0;
    purse_installed(f->card, 0x01);
    assert_true(record_exists(f->card, &id)); /* created at the first install */
    assert_false(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(install_perso(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, block, n), 0x9000);
    /* P3: the purse is personalized */
    assert_purse_pin(f->card, pin_a);
    /* P4: the block (P1, data) is in the record */
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 2 + n);
    assert_int_equal(v[0], 0x01);
    assert_int_equal(v[1], 0x90);
    assert_memory_equal(v + 2, block, n);
    assert_false(record_block(f->card, &id, 1, v, sizeof v, &len));
    /* delete the instance: the record stays; the same AID in the same SD comes back
       personalized without any STORE DATA */
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(select_aid(f->card, purse_a, sizeof purse_a), 0x6A82);
    assert_true(record_exists(f->card, &id));
    reopen(f);
    open_isd(f->card, 0x01);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_purse_pin(f->card, pin_a);
}

static void p4_block_refused_by_the_applet_is_not_filed(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    static snapshot before;
    uint8_t v[300];
    size_t len = 0;
    const uint8_t bad[] = {0xDF, 0x01, 0x02, '1', '2'}; /* a 2-byte PIN: the purse says 6A80 */
    purse_installed(f->card, 0x01);
    take_snapshot(f->card, &id, &before);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(install_perso(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, bad, sizeof bad), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_snapshot(f->card, &id, &before);
    assert_false(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(purse_verify(f->card, default_pin, sizeof default_pin), 0x9000);
}

/* ---- P5 (b): the applet files a block itself ---------------------------------------- */

static void p5b_purse_files_its_install_parameter_pin(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    const uint8_t params[] = {4, '5', '6', '7', '8'};
    uint8_t v[300];
    size_t len = 0;
    power_on(f->card);
    open_isd(f->card, 0x01);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_purse(f->card, params, sizeof params), 0x9000);
    assert_purse_pin(f->card, pin_b);
    /* the block DF01 04 5678 with P1 90, filed by the purse's install */
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 2 + 7);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xDF, 0x01, 0x04, '5', '6', '7', '8'}), 9);
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000); /* no parameters */
    assert_purse_pin(f->card, pin_b);
}

static void p5b_test_applet_files_blocks_in_install_and_process(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, tr_a, sizeof tr_a);
    const uint8_t params[] = {0x01, 0x90, 0xAA, 0xBB};
    const uint8_t more[] = {0xCC, 0xDD, 0xEE};
    uint8_t v[300];
    size_t len = 0;
    int32_t r = 99;
    tr_installed(f->card, params, sizeof params);
    tr_state s = tr_status(f->card);
    assert_int_equal(s.install_add, 0);
    assert_int_equal(s.install_previous, 0);
    /* from process, with the applet selected */
    assert_int_equal(tr_cmd(f->card, 0x30, 0x80, 0x00, more, sizeof more, &r), 0x9000);
    assert_int_equal(r, 0);
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 4);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xAA, 0xBB}), 4);
    assert_true(record_block(f->card, &id, 1, v, sizeof v, &len));
    assert_int_equal(len, 5);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x80, 0xCC, 0xDD, 0xEE}), 5);
    /* reinstalled without parameters: both blocks replayed, in order */
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, tr_a, sizeof tr_a, 0x00), 0x9000);
    assert_int_equal(install_tr(f->card, NULL, 0), 0x9000);
    s = tr_status(f->card);
    assert_int_equal(s.blocks, 2);
    assert_int_equal(s.last_p1, 0x80);
    assert_int_equal(s.last_len, 3);
    assert_memory_equal(s.last, more, 3);
    /* a block over 255 bytes is refused and nothing is filed */
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(tr_cmd(f->card, 0x31, 0x01, 0x00, (const uint8_t[]){0x11}, 1, &r), 0x9000);
    assert_int_equal(r, -1);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_false(record_block(f->card, &id, 2, v, sizeof v, &len));
}

static void p5_replayed_block_refused_fails_the_install(void **state) {
    fixture *f = *state;
    int32_t r = 99;
    tr_installed(f->card, NULL, 0);
    assert_int_equal(tr_cmd(f->card, 0x30, 0x90, 0x00, (const uint8_t[]){0xFF, 0x01}, 2, &r),
                     0x9000);
    assert_int_equal(r, 0);
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, tr_a, sizeof tr_a, 0x00), 0x9000);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(install_tr(f->card, NULL, 0), 0x6A80); /* the applet's status word */
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_int_equal(select_aid(f->card, tr_a, sizeof tr_a), 0x6A82);
}

/* ---- P5 (c): DGI 7F70 to the SD first ----------------------------------------------- */

static void p5c_dgi_7f70_before_load_personalizes_the_instance(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    uint8_t v[300];
    size_t len = 0;
    power_on(f->card);
    /* at level 01 (no C-DECRYPTION): 6982, nothing filed */
    open_isd(f->card, 0x01);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(store_7f70_pin(f->card, purse_a, sizeof purse_a, pin_c, sizeof pin_c), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_false(record_exists(f->card, &id));
    /* at level 03: filed before the package is even loaded */
    open_isd(f->card, 0x03);
    assert_int_equal(store_7f70_pin(f->card, purse_a, sizeof purse_a, pin_c, sizeof pin_c), 0x9000);
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 2 + 7);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xDF, 0x01, 0x04, '4', '3', '2', '1'}), 9);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_purse_pin(f->card, pin_c);
}

static void p5c_dgi_7f70_replaces_the_blocks(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    const uint8_t params[] = {4, '5', '6', '7', '8'};
    uint8_t v[300];
    size_t len = 0;
    power_on(f->card);
    open_isd(f->card, 0x03);
    load_app(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_purse(f->card, params, sizeof params), 0x9000); /* block 0: 5678 */
    open_isd(f->card, 0x03);
    assert_int_equal(store_7f70_pin(f->card, purse_a, sizeof purse_a, pin_c, sizeof pin_c), 0x9000);
    /* the record holds the new block only */
    size_t blocks = 0;
    for (uint16_t seq = 0; seq < 8; seq++) {
        if (record_block(f->card, &id, seq, v, sizeof v, &len)) {
            blocks++;
            assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xDF, 0x01, 0x04, '4', '3', '2', '1'}),
                                9);
        }
    }
    assert_int_equal(blocks, 1);
    /* and the instance already there is personalized from it */
    assert_purse_pin(f->card, pin_c);
    open_isd(f->card, 0x03);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_purse_pin(f->card, pin_c);
}

/* ---- P5 (d): a package carrying seam.perso -------------------------------------------- */

/* The purse's load file with a custom section seam.perso holding payload appended. */
static uint8_t *purse_with_perso(const uint8_t *payload, size_t payload_len, size_t *out_len) {
    size_t len;
    uint8_t *file = read_app("purse", &len);
    size_t module_len = len - 4;
    size_t body = 1 + 10 + payload_len;
    uint8_t *out = malloc(len + 16 + body);
    size_t n = 4;
    assert_true(body < 128);
    memcpy(out + n, file + 4, module_len);
    n += module_len;
    out[n++] = 0x00;          /* custom section */
    out[n++] = (uint8_t)body; /* size (one LEB byte) */
    out[n++] = 10;            /* name length */
    memcpy(out + n, "seam.perso", 10);
    n += 10;
    memcpy(out + n, payload, payload_len);
    n += payload_len;
    out[0] = 0xC4;
    out[1] = 0x82;
    out[2] = (uint8_t)((n - 4) >> 8);
    out[3] = (uint8_t)(n - 4);
    free(file);
    *out_len = n;
    return out;
}

static void p5d_package_with_seam_perso_is_personalized(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    const uint8_t payload[] = {0xE2, 0x08, 0x90, 0xDF, 0x01, 0x04, '4', '3', '2', '1'};
    uint8_t v[300];
    size_t len = 0, file_len = 0;
    uint8_t *file = purse_with_perso(payload, sizeof payload, &file_len);
    power_on(f->card);
    open_isd(f->card, 0x01);
    assert_int_equal(load_module(f->card, purse_pkg, sizeof purse_pkg, file, file_len), 0x9000);
    free(file);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_purse_pin(f->card, pin_c);
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 2 + 7);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xDF, 0x01, 0x04, '4', '3', '2', '1'}), 9);
}

static void p5d_malformed_seam_perso_refuses_the_install(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    /* E2 claims 8 bytes, 3 follow */
    const uint8_t payload[] = {0xE2, 0x08, 0x90, 0xDF, 0x01};
    size_t file_len = 0;
    uint8_t *file = purse_with_perso(payload, sizeof payload, &file_len);
    power_on(f->card);
    open_isd(f->card, 0x01);
    assert_int_equal(load_module(f->card, purse_pkg, sizeof purse_pkg, file, file_len), 0x9000);
    free(file);
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(install_purse(f->card, NULL, 0), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_false(record_exists(f->card, &id));
    assert_int_equal(select_aid(f->card, purse_a, sizeof purse_a), 0x6A82);
    /* a block of another tag is malformed too */
    const uint8_t other[] = {0xE3, 0x02, 0x90, 0x00};
    file = purse_with_perso(other, sizeof other, &file_len);
    open_isd(f->card, 0x01);
    assert_int_equal(x(f->card, 0xE4, 0x00, 0x80,
                       (const uint8_t[]){0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55}, 8),
                     0x9000);
    assert_int_equal(load_module(f->card, purse_pkg, sizeof purse_pkg, file, file_len), 0x9000);
    free(file);
    used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    assert_int_equal(install_purse(f->card, NULL, 0), 0x6A80);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_false(record_exists(f->card, &id));
}

/* ---- P7: application data written while the card operates ------------------------------ */

static void p7_paytv_entitlement_written_to_the_record(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, paytv_a, sizeof paytv_a);
    uint8_t key[16], perso[64], mac[32], v[300];
    size_t n = 0, len = 0;
    memset(key, 0x3C, sizeof key);
    power_on(f->card);
    open_isd(f->card, 0x01);
    load_app(f->card, "paytv", paytv_pkg, sizeof paytv_pkg);
    assert_int_equal(install_app(f->card, paytv_pkg, sizeof paytv_pkg, paytv_cls, sizeof paytv_cls,
                                 paytv_a, sizeof paytv_a, NULL, 0),
                     0x9000);
    assert_int_equal(install_perso(f->card, paytv_a, sizeof paytv_a), 0x9000);
    perso[n++] = 0xDF;
    perso[n++] = 0x10;
    perso[n++] = 4;
    memcpy(perso + n, "SUB1", 4);
    n += 4;
    perso[n++] = 0xDF;
    perso[n++] = 0x11;
    perso[n++] = 16;
    memcpy(perso + n, key, 16);
    n += 16;
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, perso, n), 0x9000);
    assert_int_equal(select_aid(f->card, paytv_a, sizeof paytv_a), 0x9000);
    /* ADD ENTITLEMENT channel 0007 until 2026-12-31 with the right MAC */
    uint8_t add[5 + 14] = {0x80, 0x10, 0x00, 0x00, 14, 0x00, 0x07, 0x01, 0x35, 0x29, 0x6F};
    assert_int_equal(seam_crypto_hmac_sha256(key, sizeof key, add + 5, 6, mac), SEAM_OK);
    memcpy(add + 11, mac, 8);
    assert_int_equal(send(f->card, add, sizeof add), 0x9000);
    const uint8_t ent[] = {0x01, 0x00, 0x07, 0x01, 0x35, 0x29, 0x6F};
    assert_true(record_entry(f->card, &id, "entitlements", v, sizeof v, &len));
    assert_int_equal(len, sizeof ent);
    assert_memory_equal(v, ent, sizeof ent);
    /* a bad MAC: 6982 and the entry is unchanged */
    size_t used = seam_nvm_used_bytes(seam_card_nvm(f->card));
    uint8_t bad[sizeof add];
    memcpy(bad, add, sizeof add);
    bad[6] = 0x08;
    assert_int_equal(send(f->card, bad, sizeof bad), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(seam_card_nvm(f->card)), used);
    assert_true(record_entry(f->card, &id, "entitlements", v, sizeof v, &len));
    assert_int_equal(len, sizeof ent);
    assert_memory_equal(v, ent, sizeof ent);
    /* a granted viewing is logged in the record as well */
    assert_int_equal(SEND(f->card, 0x80, 0x20, 0x00, 0x00, 6, 0x00, 0x07, 0x01, 0x35, 0x29, 0x00),
                     0x9000);
    assert_true(record_entry(f->card, &id, "viewlog", v, sizeof v, &len));
    assert_int_equal(len, 7);
    assert_memory_equal(v, ((uint8_t[]){0x01, 0x00, 0x07, 0x01, 0x35, 0x29, 0x00}), 7);
    /* the perso block (identity and key) is in the record, not in an entry */
    assert_true(record_block(f->card, &id, 0, v, sizeof v, &len));
    assert_int_equal(len, 2 + n);
    assert_memory_equal(v + 2, perso, n);
}

static void p7_quota_refuses_puts_and_changes_nothing(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, tr_a, sizeof tr_a);
    static snapshot before;
    uint8_t v[3000];
    size_t len = 0;
    int32_t r = 99;
    seam_nvm *nvm;
    tr_installed(f->card, NULL, 0);
    nvm = seam_card_nvm(f->card);
    assert_int_equal(tr_put_fill(f->card, "a", 1, 2048), 0);
    assert_int_equal(tr_put_fill(f->card, "b", 1, 2048), 0);
    assert_int_equal(tr_put_fill(f->card, "c", 1, 2048), 0); /* 3 x 2049 = 6147 bytes */
    assert_true(record_entry(f->card, &id, "c", v, sizeof v, &len));
    assert_int_equal(len, 1 + 2048);
    take_snapshot(f->card, &id, &before);
    size_t used = seam_nvm_used_bytes(nvm);
    /* past the quota: 6147 + 1 + 2045 = 8193 */
    assert_int_equal(tr_put_fill(f->card, "d", 1, 2048), SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(tr_put_fill(f->card, "d", 1, 2045), SEAM_RESTORE_ERR_QUOTA);
    /* a value over 2048, a name of 0 or 17 bytes */
    assert_int_equal(tr_put_fill(f->card, "e", 1, 2049), SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(tr_put_fill(f->card, "", 0, 4), SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(tr_put_fill(f->card, "abcdefghijklmnopq", 17, 4), SEAM_RESTORE_ERR_QUOTA);
    /* growing an entry past the quota */
    assert_int_equal(tr_put_fill(f->card, "a", 1, 2048), 0); /* same size: fine */
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_snapshot(f->card, &id, &before);
    assert_false(record_entry(f->card, &id, "d", v, sizeof v, &len));
    /* exactly the quota: 6147 + 1 + 2044 = 8192 */
    assert_int_equal(tr_put_fill(f->card, "d", 1, 2044), 0);
    assert_true(record_entry(f->card, &id, "d", v, sizeof v, &len));
    assert_int_equal(len, 1 + 2044);
    take_snapshot(f->card, &id, &before);
    used = seam_nvm_used_bytes(nvm);
    /* now full: one more byte anywhere is refused, a block as well */
    assert_int_equal(tr_put_fill(f->card, "e", 1, 1), SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(tr_put_fill(f->card, "d", 1, 2045), SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(tr_cmd(f->card, 0x30, 0x90, 0x00, (const uint8_t[]){0x01}, 1, &r), 0x9000);
    assert_int_equal(r, SEAM_RESTORE_ERR_QUOTA);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_snapshot(f->card, &id, &before);
    /* deleting an entry (length 0) frees its bytes */
    assert_int_equal(tr_put_fill(f->card, "b", 1, 0), 0);
    assert_false(record_entry(f->card, &id, "b", v, sizeof v, &len));
    assert_int_equal(tr_put_fill(f->card, "e", 1, 2000), 0);
}

/* ---- P10: refusals ---------------------------------------------------------------------- */

static void p10_record_delete_by_its_sd_only(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    static snapshot before;
    uint8_t d[19];
    size_t n = record_delete_data(d, purse_a, sizeof purse_a);
    purse_installed(f->card, 0x01);
    assert_int_equal(install_perso(f->card, purse_a, sizeof purse_a), 0x9000);
    uint8_t block[16];
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, block, pin_tlv(block, pin_a, sizeof pin_a)),
                     0x9000);
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b), 0x9000);
    take_snapshot(f->card, &id, &before);
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    /* another SD: it has no such record */
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, 0x01), 0x9000);
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x6A88);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    /* no secure channel */
    assert_int_equal(select_aid(f->card, isd, sizeof isd), 0x9000);
    assert_int_equal(plain(f->card, 0xE4, 0x00, 0x00, d, n), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_snapshot(f->card, &id, &before);
    /* a replayed DELETE: the first deletes, the same wrapped APDU again is 6982 */
    open_isd(f->card, 0x01);
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_false(record_exists(f->card, &id));
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(send(f->card, last_wrapped, last_wrapped_len), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    /* the ISD again: none left */
    open_isd(f->card, 0x01);
    assert_int_equal(delete_record(f->card, purse_a, sizeof purse_a), 0x6A88);
    /* the live instance keeps its PIN; a new install of the same AID is not personalized */
    assert_int_equal(purse_verify(f->card, pin_a, sizeof pin_a), 0x9000);
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_int_equal(purse_verify(f->card, default_pin, sizeof default_pin), 0x9000);
}

static void p10_another_sd_7f70_does_not_reach_the_instance(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    static snapshot before;
    purse_installed(f->card, 0x03);
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b), 0x9000);
    take_snapshot(f->card, &id, &before);
    /* bank B files a PIN for the AID purse_a: under its own identity at most */
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, 0x03), 0x9000);
    uint16_t sw = store_7f70_pin(f->card, purse_a, sizeof purse_a, pin_c, sizeof pin_c);
    print_message("7F70 by another SD for the ISD's instance AID: %04X\n", sw);
    assert_snapshot(f->card, &id, &before);
    if (sw == 0x9000) { /* accepted: then filed under (bank B, purse_a) */
        identity own = make_identity(bank_b, sizeof bank_b, purse_a, sizeof purse_a);
        uint8_t v[300];
        size_t len = 0;
        assert_true(record_block(f->card, &own, 0, v, sizeof v, &len));
        assert_int_equal(len, 2 + 7);
        assert_memory_equal(v, ((uint8_t[]){0x01, 0x90, 0xDF, 0x01, 0x04, '4', '3', '2', '1'}), 9);
    } else {
        assert_true(sw == 0x6982 || sw == 0x6A88);
    }
    assert_int_equal(purse_verify(f->card, default_pin, sizeof default_pin), 0x9000);
    /* and the ISD's instance installed again still is not personalized */
    open_isd(f->card, 0x03);
    assert_int_equal(delete_aid(f->card, purse_a, sizeof purse_a, 0x00), 0x9000);
    assert_int_equal(install_purse(f->card, NULL, 0), 0x9000);
    assert_int_equal(purse_verify(f->card, pin_c, sizeof pin_c), 0x63C2);
    assert_int_equal(purse_verify(f->card, default_pin, sizeof default_pin), 0x9000);
}

static void p10_7f70_without_channel_wrong_level_or_replayed(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, purse_a, sizeof purse_a);
    static snapshot before;
    uint8_t block[16], d[64];
    size_t n = dgi_7f70(d, purse_a, sizeof purse_a, block, pin_tlv(block, pin_c, sizeof pin_c));
    purse_installed(f->card, 0x01);
    seam_nvm *nvm = seam_card_nvm(f->card);
    take_snapshot(f->card, &id, &before);
    size_t used = seam_nvm_used_bytes(nvm);
    /* no channel */
    assert_int_equal(select_aid(f->card, isd, sizeof isd), 0x9000);
    assert_int_equal(plain(f->card, 0xE2, 0x88, 0x00, d, n), 0x6982);
    /* C-MAC only (level 01) */
    open_isd(f->card, 0x01);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, d, n), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_snapshot(f->card, &id, &before);
    assert_int_equal(purse_verify(f->card, default_pin, sizeof default_pin), 0x9000);
    /* level 03: accepted once; the same wrapped APDU replayed is 6982 */
    open_isd(f->card, 0x03);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, d, n), 0x9000);
    take_snapshot(f->card, &id, &before);
    used = seam_nvm_used_bytes(nvm);
    assert_int_equal(send(f->card, last_wrapped, last_wrapped_len), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_snapshot(f->card, &id, &before);
}

static void p10_restore_get_denied_outside_restore_after_upgrade(void **state) {
    fixture *f = *state;
    int32_t r = 99;
    tr_installed(f->card, NULL, 0);
    tr_state s = tr_status(f->card);
    assert_int_equal(s.install_get, SEAM_RESTORE_ERR_DENIED); /* in install */
    assert_int_equal(s.install_previous, 0);
    /* in process: even an entry that is there */
    assert_int_equal(tr_cmd(f->card, 0x10, 0, 0, (const uint8_t[]){1, 'a', 'x', 'y'}, 4, &r),
                     0x9000);
    assert_int_equal(r, 0);
    assert_int_equal(tr_get(f->card, "a", 16), SEAM_RESTORE_ERR_DENIED);
    assert_int_equal(response_len, 4 + 2); /* nothing copied */
    assert_int_equal(tr_get(f->card, "zz", 16), SEAM_RESTORE_ERR_DENIED);
    assert_int_equal(tr_cmd(f->card, 0x40, 0, 0, NULL, 0, &r), 0x9000);
    assert_int_equal(r, 0); /* no upgrade */
    /* and after a reinstall (platform replay, not an upgrade): still denied in install */
    open_isd(f->card, 0x01);
    assert_int_equal(delete_aid(f->card, tr_a, sizeof tr_a, 0x00), 0x9000);
    assert_int_equal(install_tr(f->card, NULL, 0), 0x9000);
    s = tr_status(f->card);
    assert_int_equal(s.install_get, SEAM_RESTORE_ERR_DENIED);
    assert_int_equal(s.restore_get, 0); /* restore_after_upgrade never ran */
}

/* DGI 7F71 for tr_a: E1 { 80 name, 81 value } for one entry. */
static size_t dgi_7f71(uint8_t *d, const char *name, const uint8_t *value, size_t len) {
    size_t n = 0, k = strlen(name);
    d[n++] = 0x7F;
    d[n++] = 0x71;
    d[n++] = (uint8_t)(2 + sizeof tr_a + 2 + 2 + k + 2 + len);
    d[n++] = 0x4F;
    n += put_aid(d + n, tr_a, sizeof tr_a);
    d[n++] = 0xE1;
    d[n++] = (uint8_t)(2 + k + 2 + len);
    d[n++] = 0x80;
    d[n++] = (uint8_t)k;
    memcpy(d + n, name, k);
    n += k;
    d[n++] = 0x81;
    d[n++] = (uint8_t)len;
    if (len)
        memcpy(d + n, value, len);
    return n + len;
}

static void p9_p10_dgi_7f71_sets_and_deletes_entries_with_c_dec_only(void **state) {
    fixture *f = *state;
    identity id = make_identity(isd, sizeof isd, tr_a, sizeof tr_a);
    uint8_t d[64], v[64];
    size_t len = 0, n = dgi_7f71(d, "a", (const uint8_t *)"xy", 2);
    tr_installed(f->card, NULL, 0);
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    assert_int_equal(select_aid(f->card, isd, sizeof isd), 0x9000);
    assert_int_equal(plain(f->card, 0xE2, 0x88, 0x00, d, n), 0x6982);
    open_isd(f->card, 0x01);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, d, n), 0x6982);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    assert_false(record_entry(f->card, &id, "a", v, sizeof v, &len));
    open_isd(f->card, 0x03);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, d, n), 0x9000);
    assert_true(record_entry(f->card, &id, "a", v, sizeof v, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(v, ((uint8_t[]){0x01, 'x', 'y'}), 3);
    /* the applet still cannot read it outside restore_after_upgrade */
    assert_int_equal(select_aid(f->card, tr_a, sizeof tr_a), 0x9000);
    assert_int_equal(tr_get(f->card, "a", 16), SEAM_RESTORE_ERR_DENIED);
    /* an empty value deletes the entry */
    open_isd(f->card, 0x03);
    n = dgi_7f71(d, "a", NULL, 0);
    assert_int_equal(x(f->card, 0xE2, 0x88, 0x00, d, n), 0x9000);
    assert_false(record_entry(f->card, &id, "a", v, sizeof v, &len));
}

/* MANAGE ELF UPGRADE (80 EA P1 00 4F aid). */
static uint16_t manage_upgrade(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len) {
    uint8_t d[18] = {0x4F, (uint8_t)len};
    memcpy(d + 2, aid, len);
    return x(card, 0xEA, p1, 0x00, d, 2 + len);
}

static void p8_p10_restore_get_allowed_in_restore_after_upgrade(void **state) {
    fixture *f = *state;
    int32_t r = 99;
    tr_installed(f->card, NULL, 0);
    assert_int_equal(tr_cmd(f->card, 0x10, 0, 0, (const uint8_t[]){1, 'a', 'x', 'y'}, 4, &r),
                     0x9000);
    assert_int_equal(r, 0);
    open_isd(f->card, 0x01);
    uint16_t sw = manage_upgrade(f->card, 0x01, tr_pkg, sizeof tr_pkg);
    print_message("MANAGE ELF UPGRADE start: %04X\n", sw);
    assert_int_equal(sw, 0x9000);
    load_app(f->card, "test_restore", tr_pkg, sizeof tr_pkg); /* the new version, same AID */
    sw = manage_upgrade(f->card, 0x02, tr_pkg, sizeof tr_pkg);
    print_message("MANAGE ELF UPGRADE migrate: %04X\n", sw);
    assert_int_equal(sw, 0x9000);
    tr_state s = tr_status(f->card);
    assert_int_equal(s.install_previous, 0x0100);
    assert_int_equal(s.install_get, SEAM_RESTORE_ERR_DENIED);
    assert_int_equal(s.restore_previous, 0x0100);
    assert_int_equal(s.restore_get, 2);
    assert_int_equal(s.restored_len, 2);
    assert_memory_equal(s.restored, "xy", 2);
    /* after the upgrade, process is denied again */
    assert_int_equal(tr_get(f->card, "a", 16), SEAM_RESTORE_ERR_DENIED);
}

static void p9_p10_export_only_by_its_sd_at_level_33(void **state) {
    fixture *f = *state;
    uint8_t block[16];
    size_t n = pin_tlv(block, pin_a, sizeof pin_a);
    purse_installed(f->card, 0x01);
    assert_int_equal(install_perso(f->card, purse_a, sizeof purse_a), 0x9000);
    assert_int_equal(x(f->card, 0xE2, 0x90, 0x00, block, n), 0x9000);
    assert_int_equal(install_sd(f->card, bank_b, sizeof bank_b), 0x9000);
    seam_nvm *nvm = seam_card_nvm(f->card);
    size_t used = seam_nvm_used_bytes(nvm);
    /* no channel, level 01, level 03: 6982 */
    uint8_t d[9] = {0x4F, 7};
    memcpy(d + 2, purse_a, 7);
    assert_int_equal(select_aid(f->card, isd, sizeof isd), 0x9000);
    assert_int_equal(plain(f->card, 0xEA, 0x10, 0x00, d, sizeof d), 0x6982);
    open_isd(f->card, 0x01);
    assert_int_equal(manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a), 0x6982);
    open_isd(f->card, 0x03);
    assert_int_equal(manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a), 0x6982);
    /* another SD at level 33 */
    assert_int_equal(open_sd(f->card, bank_b, sizeof bank_b, 0x33), 0x9000);
    uint16_t sw = manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a);
    assert_true(sw == 0x6982 || sw == 0x6A88);
    assert_int_equal(seam_nvm_used_bytes(nvm), used);
    /* the ISD at level 33: A2 { 4F aid, C0 version, E2 blocks }, encrypted on the wire */
    open_isd(f->card, 0x33);
    sw = manage_upgrade(f->card, 0x10, purse_a, sizeof purse_a);
    /* on the wire (what a terminal relays): no PIN in clear; the session unwrapped it */
    print_message("export at level 33: %04X (%zu bytes)\n", sw, last_received_len);
    assert_int_equal(sw, 0x9000);
    assert_false(response_has(last_received, last_received_len, pin_a, sizeof pin_a));
    const uint8_t *plain_out = response;
    size_t out_len = response_len;
    assert_true(out_len > 2);
    assert_int_equal(plain_out[0], 0xA2);
    const uint8_t aid_tlv[] = {0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
    const uint8_t version[] = {0xC0, 2, 1, 0};
    const uint8_t filed[] = {0xE2, 8, 0x90, 0xDF, 0x01, 0x04, '9', '8', '7', '6'};
    assert_true(response_has(plain_out, out_len, aid_tlv, sizeof aid_tlv));
    assert_true(response_has(plain_out, out_len, version, sizeof version));
    assert_true(response_has(plain_out, out_len, filed, sizeof filed));
    /* the export first runs save_for_upgrade: the purse's current application data
       is filed in the record and exported with it */
    const uint8_t balance[] = {0x80, 7, 'b', 'a', 'l', 'a', 'n', 'c', 'e', 0x81, 4};
    assert_true(response_has(plain_out, out_len, balance, sizeof balance));
    assert_true(seam_nvm_used_bytes(nvm) > used);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(p3_p4_p5a_store_data_personalizes_and_files_the_block,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(p4_block_refused_by_the_applet_is_not_filed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p5b_purse_files_its_install_parameter_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(p5b_test_applet_files_blocks_in_install_and_process, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p5_replayed_block_refused_fails_the_install, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p5c_dgi_7f70_before_load_personalizes_the_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p5c_dgi_7f70_replaces_the_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(p5d_package_with_seam_perso_is_personalized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p5d_malformed_seam_perso_refuses_the_install, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p7_paytv_entitlement_written_to_the_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p7_quota_refuses_puts_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(p10_record_delete_by_its_sd_only, setup, teardown),
        cmocka_unit_test_setup_teardown(p10_another_sd_7f70_does_not_reach_the_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p10_7f70_without_channel_wrong_level_or_replayed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p10_restore_get_denied_outside_restore_after_upgrade, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p9_p10_dgi_7f71_sets_and_deletes_entries_with_c_dec_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(p8_p10_restore_get_allowed_in_restore_after_upgrade, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(p9_p10_export_only_by_its_sd_at_level_33, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
