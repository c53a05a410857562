/*
 * Package upgrades across providers' security domains: the useful and the
 * temporary useful space (requirements U1-U10, X4; docs/restore-module.md
 * "Upgrade: MANAGE ELF UPGRADE"; src/card/upgrade/upgrade.c).
 *
 * The ISD loads purse 1.0 (P1, package A00000055055); bank A and bank B,
 * supplementary SDs with Authorized Management created by the ISD and handed
 * their own keys, each install purse instances from the ISD's package,
 * personalize them under their own channel and use them. The ISD then starts
 * the upgrade (P1 moves to the temporary useful space) and loads purse 2.0
 * (P2) under the same AID; each bank replaces its own instances when it
 * chooses; the old code goes once the last bank has moved. Every refusal
 * leaves the nvm's used bytes unchanged.
 */
#include "sd_host.h"

static const uint8_t bank_a[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t bank_b[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0B};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_a1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA1};
static const uint8_t purse_a2[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA2};
static const uint8_t purse_a3[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xA3};
static const uint8_t purse_b1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB1};
static const uint8_t purse_b2[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0xB2};
static const uint8_t purse_i1[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};
static const uint8_t tv_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56};
static const uint8_t tv_next[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x57};
static const uint8_t tv_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0x01};
static const uint8_t tv_a[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0xA1};
static const uint8_t tv_b[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0xB1};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};

static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00}; /* SD, Authorized Management, TP */

static uint8_t key_a[16], key_b[16];

#define SPACE_USEFUL    0x01
#define SPACE_TEMPORARY 0x02

/* ---- nvm accounting ---------------------------------------------------------------- */

static size_t used(seam_card *card) {
    return seam_nvm_used_bytes(seam_card_nvm(card));
}

/* A refused command: the expected status word and no nvm byte more or less. */
#define REFUSED(card, call, sw)                                                                    \
    do {                                                                                           \
        size_t used_before = used(card);                                                           \
        assert_int_equal((call), (sw));                                                            \
        assert_int_equal(used(card), used_before);                                                 \
    } while (0)

/* ---- security domains (as tests/card/test_domains.c) ------------------------------- */

static void as_isd(seam_card *card) {
    assert_int_equal(open_sd(card, isd, sizeof isd, test_key), 0x9000);
}
static void as_bank_a(seam_card *card) {
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, key_a), 0x9000);
}
static void as_bank_b(seam_card *card) {
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, key_b), 0x9000);
}

/* INSTALL [for install (and make selectable)] with AIDs of any length, no parameters. */
static uint16_t install_app(seam_card *card, uint8_t p1, const uint8_t *pkg, size_t pkg_len,
                            const uint8_t *cls, size_t cls_len, const uint8_t *aid,
                            size_t aid_len) {
    return install_aids(card, p1, pkg, pkg_len, cls, cls_len, aid, aid_len, NULL, 0);
}

static uint16_t install_purse(seam_card *card, const uint8_t *aid) {
    return install_app(card, 0x0C, purse_pkg, sizeof purse_pkg, purse_cls, sizeof purse_cls, aid,
                       7);
}

/* INSTALL [for personalization] of aid, then one STORE DATA block (P1 90). */
static void personalize(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *block,
                        size_t block_len) {
    assert_int_equal(install_perso(card, aid, len), 0x9000);
    assert_int_equal(gp(card, true, 0xE2, 0x90, 0x00, block, block_len), 0x9000);
}

/* ---- MANAGE ELF UPGRADE -------------------------------------------------------------- */

static uint16_t upgrade(seam_card *card, uint8_t p1, const uint8_t *aid, size_t len) {
    uint8_t d[2 + 16] = {0x4F, (uint8_t)len};
    memcpy(d + 2, aid, len);
    return gp(card, true, 0xEA, p1, 0x00, d, 2 + len);
}

/* start naming the new package's AID (C4) */
static uint16_t upgrade_to(seam_card *card, const uint8_t *aid, size_t len, const uint8_t *to,
                           size_t to_len) {
    uint8_t d[4 + 32] = {0x4F, (uint8_t)len};
    memcpy(d + 2, aid, len);
    d[2 + len] = 0xC4;
    d[3 + len] = (uint8_t)to_len;
    memcpy(d + 4 + len, to, to_len);
    return gp(card, true, 0xEA, 0x01, 0x00, d, 4 + len + to_len);
}

/* The status byte (tag 90) of the last MANAGE ELF UPGRADE response. */
static uint8_t upgrade_status(void) {
    assert_true(response_len >= 2 + 5);
    assert_int_equal(response[0], 0xA1);
    assert_int_equal(response[2], 0x90);
    return response[4];
}

/* A value of the last response's A1 { ... } by tag (one byte), NULL when absent. */
static const uint8_t *upgrade_field(uint8_t tag, size_t *len) {
    size_t end = 2 + (size_t)response[1];
    assert_true(end + 2 <= response_len);
    for (size_t i = 2; i + 2 <= end; i += 2 + response[i + 1])
        if (response[i] == tag) {
            *len = response[i + 1];
            return response + i + 2;
        }
    return NULL;
}

/* Session status of package aid through the open channel (any SD). */
static uint8_t session_of(seam_card *card, const uint8_t *aid, size_t len) {
    assert_int_equal(upgrade(card, 0x08, aid, len), 0x9000);
    return upgrade_status();
}

/* A migrate that answers 9000: its status byte; *count the instances migrated (81). */
static uint8_t migrate(seam_card *card, const uint8_t *aid, size_t len, uint8_t count) {
    size_t l = 0;
    assert_int_equal(upgrade(card, 0x02, aid, len), 0x9000);
    uint8_t st = upgrade_status();
    const uint8_t *v = upgrade_field(0x81, &l);
    assert_non_null(v);
    assert_int_equal(l, 1);
    assert_int_equal(v[0], count);
    return st;
}

/* ---- GET STATUS (TLV), all parts --------------------------------------------------- */

static uint8_t listing[4096];
static size_t listing_len;

static uint16_t get_status(seam_card *card, uint8_t p1) {
    const uint8_t all[] = {0x4F, 0x00};
    uint16_t sw = gp(card, true, 0xF2, p1, 0x02, all, sizeof all);
    listing_len = 0;
    while (sw == 0x9000 || sw == 0x6310) {
        assert_true(listing_len + response_len - 2 <= sizeof listing);
        memcpy(listing + listing_len, response, response_len - 2);
        listing_len += response_len - 2;
        if (sw == 0x9000)
            break;
        sw = gp(card, true, 0xF2, p1, 0x03, all, sizeof all);
    }
    return sw;
}

/* Reads one BER-TLV (one- or two-byte tag, length short or 81 xx) at buf[*pos..end). */
static bool tlv(const uint8_t *buf, size_t end, size_t *pos, unsigned *tag, const uint8_t **v,
                size_t *len) {
    size_t p = *pos;
    if (p >= end)
        return false;
    *tag = buf[p++];
    if ((*tag & 0x1Fu) == 0x1Fu) {
        assert_true(p < end);
        *tag = *tag << 8 | buf[p++];
    }
    assert_true(p < end);
    *len = buf[p++];
    if (*len == 0x81) {
        assert_true(p < end);
        *len = buf[p++];
    }
    assert_true(p + *len <= end);
    *v = buf + p;
    *pos = p + *len;
    return true;
}

/* The value of tag in E3 entry body[0..n), NULL when absent. */
static const uint8_t *field(const uint8_t *body, size_t n, unsigned want, size_t *len) {
    size_t pos = 0;
    unsigned tag;
    const uint8_t *v;
    while (tlv(body, n, &pos, &tag, &v, len))
        if (tag == want)
            return v;
    return NULL;
}

/* How many listed entries have 4F = aid (NULL: any) and tag = value (tag 0: any). */
static int entries(const uint8_t *aid, size_t aid_len, unsigned tag, const uint8_t *value,
                   size_t value_len) {
    size_t pos = 0, len = 0, l = 0;
    unsigned t;
    const uint8_t *body, *v;
    int count = 0;
    while (tlv(listing, listing_len, &pos, &t, &body, &len)) {
        assert_int_equal(t, 0xE3);
        v = field(body, len, 0x4F, &l);
        assert_non_null(v);
        if (aid && (l != aid_len || memcmp(v, aid, l)))
            continue;
        if (tag) {
            v = field(body, len, tag, &l);
            if (!v || l != value_len || memcmp(v, value, l))
                continue;
        }
        count++;
    }
    return count;
}

/* Packages listed (GET STATUS P1 20 through the ISD) in space, AID aid (NULL: any). */
static int packages_in(seam_card *card, const uint8_t *aid, size_t len, uint8_t space) {
    uint16_t sw = get_status(card, 0x20);
    if (sw == 0x6A88) /* no package at all */
        return 0;
    assert_int_equal(sw, 0x9000);
    return entries(aid, len, 0xDF71, &space, 1);
}

/* The version (CE) of package aid listed in space, 0 when not listed. */
static uint16_t package_version(seam_card *card, const uint8_t *aid, size_t len, uint8_t space) {
    size_t pos = 0, n = 0, l = 0;
    unsigned t;
    const uint8_t *body, *v;
    assert_int_equal(get_status(card, 0x20), 0x9000);
    while (tlv(listing, listing_len, &pos, &t, &body, &n)) {
        v = field(body, n, 0x4F, &l);
        if (l != len || memcmp(v, aid, len))
            continue;
        v = field(body, n, 0xDF71, &l);
        if (!v || l != 1 || v[0] != space)
            continue;
        v = field(body, n, 0xCE, &l);
        assert_non_null(v);
        assert_int_equal(l, 2);
        return (uint16_t)(v[0] << 8 | v[1]);
    }
    return 0;
}

/* ---- the purses ---------------------------------------------------------------------- */

typedef struct {
    const uint8_t *aid;
    const uint8_t *sd;
    uint8_t pin[4];
    uint8_t balance[8]; /* what BALANCE answers */
    uint8_t log[8 * 13];
    size_t log_len;
} purse_ref;

enum { A1, A2, B1, PURSES };
static purse_ref purses[PURSES];

/* Checks purse p against its reference: balance and counter, PIN (a wrong one counted,
   the right one verified), log. Returns its version: 1 or 2 (GET LIMIT, INS 71). */
static int purse_check(seam_card *card, const purse_ref *p) {
    uint8_t wrong[4] = {'9', '9', '9', '9'};
    assert_int_equal(select_aid(card, p->aid, 7), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    assert_memory_equal(response, p->balance, 8);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 4, wrong[0], wrong[1], wrong[2], wrong[3]),
                     0x63C2);
    assert_int_equal(
        SEND(card, 0x80, 0x20, 0x00, 0x00, 4, p->pin[0], p->pin[1], p->pin[2], p->pin[3]), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, p->log_len + 2);
    assert_memory_equal(response, p->log, p->log_len);
    uint16_t sw = SEND(card, 0x80, 0x71, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || sw == 0x6D00);
    return sw == 0x9000 ? 2 : 1;
}

/* Takes the purse's balance and log as its reference (after checking the balance). */
static void purse_snapshot(seam_card *card, purse_ref *p, uint32_t balance, uint32_t counter) {
    assert_int_equal(select_aid(card, p->aid, 7), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 8 + 2);
    uint8_t want[8] = {(uint8_t)(balance >> 24), (uint8_t)(balance >> 16), (uint8_t)(balance >> 8),
                       (uint8_t)balance,         (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
                       (uint8_t)(counter >> 8),  (uint8_t)counter};
    assert_memory_equal(response, want, 8);
    memcpy(p->balance, want, 8);
    assert_int_equal(SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00), 0x9000);
    p->log_len = response_len - 2;
    memcpy(p->log, response, p->log_len);
}

/* Verifies the PIN of the selected purse and credits (type 1) or debits (2) amount. */
static void purse_use(seam_card *card, const purse_ref *p, uint8_t ins, uint8_t amount) {
    assert_int_equal(select_aid(card, p->aid, 7), 0x9000);
    assert_int_equal(
        SEND(card, 0x80, 0x20, 0x00, 0x00, 4, p->pin[0], p->pin[1], p->pin[2], p->pin[3]), 0x9000);
    assert_int_equal(SEND(card, 0x80, ins, 0x00, 0x00, 4, 0, 0, 0, amount), 0x9000);
}

/* Installs purse p from the ISD's package under p's SD's open channel, personalizes
   its PIN (STORE DATA DF01). */
static void purse_install(seam_card *card, const purse_ref *p) {
    uint8_t block[] = {0xDF, 0x01, 4, p->pin[0], p->pin[1], p->pin[2], p->pin[3]};
    assert_int_equal(install_purse(card, p->aid), 0x9000);
    personalize(card, p->aid, 7, block, sizeof block);
}

/*
 * The common start: the ISD creates bank A and bank B (AM) and loads purse 1.0; each
 * bank takes its own keys over, installs its purses from the ISD's package (U1),
 * personalizes and uses them. Bank A: A1 (PIN 1111, balance 70, 2 operations), A2
 * (PIN 2222, 50, 1); bank B: B1 (PIN 3333, 175, 3).
 */
static void two_banks(seam_card *card) {
    memset(key_a, 0xA5, sizeof key_a);
    memset(key_b, 0xB5, sizeof key_b);
    purses[A1] = (purse_ref){.aid = purse_a1, .sd = bank_a, .pin = {'1', '1', '1', '1'}};
    purses[A2] = (purse_ref){.aid = purse_a2, .sd = bank_a, .pin = {'2', '2', '2', '2'}};
    purses[B1] = (purse_ref){.aid = purse_b1, .sd = bank_b, .pin = {'3', '3', '3', '3'}};
    power_on(card);
    open_channel(card);
    assert_int_equal(install_sd(card, 0x0C, bank_a, sizeof bank_a, priv_am, sizeof priv_am),
                     0x9000);
    assert_int_equal(install_sd(card, 0x0C, bank_b, sizeof bank_b, priv_am, sizeof priv_am),
                     0x9000);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(open_sd(card, bank_a, sizeof bank_a, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_a), 0x9000);
    as_bank_a(card);
    purse_install(card, &purses[A1]);
    purse_install(card, &purses[A2]);
    assert_int_equal(open_sd(card, bank_b, sizeof bank_b, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_b), 0x9000);
    as_bank_b(card);
    purse_install(card, &purses[B1]);
    purse_use(card, &purses[A1], 0x30, 100);
    purse_use(card, &purses[A1], 0x40, 30);
    purse_use(card, &purses[A2], 0x30, 50);
    purse_use(card, &purses[B1], 0x30, 200);
    purse_use(card, &purses[B1], 0x40, 20);
    purse_use(card, &purses[B1], 0x40, 5);
    purse_snapshot(card, &purses[A1], 70, 2);
    purse_snapshot(card, &purses[A2], 50, 1);
    purse_snapshot(card, &purses[B1], 175, 3);
}

/* The ISD starts the purse's upgrade (status 02) and loads purse 2.0 (status 03). */
static void start_and_load(seam_card *card) {
    as_isd(card);
    assert_int_equal(upgrade(card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x02);
    load(card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(session_of(card, purse_pkg, sizeof purse_pkg), 0x03);
}

/* A new, empty card image in place of the fixture's. */
static void fresh_card(fixture *f) {
    seam_card_close(f->card);
    f->card = NULL;
    remove_image(f->path);
    assert_int_equal(seam_card_create(f->path, 0, &f->card), SEAM_OK);
}

/* After the upgrade: all purses 2.0 with their data, no temporary package, no session. */
static void upgrade_finished(seam_card *card) {
    for (int i = 0; i < PURSES; i++) {
        assert_int_equal(purse_check(card, &purses[i]), 2);
    }
    as_isd(card);
    assert_int_equal(packages_in(card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(package_version(card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(session_of(card, purse_pkg, sizeof purse_pkg), 0x00);
}

/* ---- U1 ------------------------------------------------------------------------------ */

static void u1_instances_of_one_useful_package_in_several_domains(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    /* one package, the ISD's, in the useful space; instances in bank A and bank B */
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xCC, isd, sizeof isd), 1);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_int_equal(entries(purse_a1, 7, 0xC4, purse_pkg, sizeof purse_pkg), 1);
    assert_int_equal(entries(purse_a1, 7, 0xCC, bank_a, sizeof bank_a), 1);
    assert_int_equal(entries(purse_a2, 7, 0xCC, bank_a, sizeof bank_a), 1);
    assert_int_equal(entries(purse_b1, 7, 0xC4, purse_pkg, sizeof purse_pkg), 1);
    assert_int_equal(entries(purse_b1, 7, 0xCC, bank_b, sizeof bank_b), 1);
    /* each bank sees its own instances only */
    as_bank_b(f->card);
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_int_equal(entries(purse_b1, 7, 0, NULL, 0), 1);
    assert_int_equal(entries(purse_a1, 7, 0, NULL, 0), 0);
    /* U1: any SD creates instances from any package of the useful space, the ISD too */
    as_isd(f->card);
    assert_int_equal(install_purse(f->card, purse_i1), 0x9000);
    assert_int_equal(select_aid(f->card, purse_i1, 7), 0x9000);
    for (int i = 0; i < PURSES; i++)
        assert_int_equal(purse_check(f->card, &purses[i]), 1);
    reopen(f);
    for (int i = 0; i < PURSES; i++)
        assert_int_equal(purse_check(f->card, &purses[i]), 1);
}

/* ---- U2 ------------------------------------------------------------------------------ */

static void u2_no_new_instance_from_the_temporary_space(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x02);
    /* P1 is only in the temporary space: nobody installs from it */
    REFUSED(f->card, install_purse(f->card, purse_i1), 0x6985);
    REFUSED(f->card,
            install_app(f->card, 0x04, purse_pkg, sizeof purse_pkg, purse_cls, sizeof purse_cls,
                        purse_i1, 7),
            0x6985);
    as_bank_a(f->card);
    REFUSED(f->card, install_purse(f->card, purse_a3), 0x6985);
    as_bank_b(f->card);
    REFUSED(f->card, install_purse(f->card, purse_b2), 0x6985);
    reopen(f); /* still after a restart */
    as_bank_a(f->card);
    REFUSED(f->card, install_purse(f->card, purse_a3), 0x6985);
    assert_int_equal(select_aid(f->card, purse_a3, 7), 0x6A82);
    /* its instances keep working meanwhile */
    for (int i = 0; i < PURSES; i++)
        assert_int_equal(purse_check(f->card, &purses[i]), 1);
    /* once P2 is loaded under the same AID, that AID names P2: a new instance is 2.0 */
    as_isd(f->card);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install_purse(f->card, purse_i1), 0x9000);
    assert_int_equal(select_aid(f->card, purse_i1, 7), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x71, 0x00, 0x00, 0x00), 0x9000);
    as_isd(f->card);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03); /* banks hold P1 */

    /* a second package whose new version goes under another AID (C4) */
    load(f->card, "paytv", tv_pkg, sizeof tv_pkg);
    as_bank_a(f->card);
    assert_int_equal(
        install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_a, sizeof tv_a),
        0x9000);
    as_isd(f->card);
    assert_int_equal(upgrade_to(f->card, tv_pkg, sizeof tv_pkg, tv_next, sizeof tv_next), 0x9000);
    assert_int_equal(upgrade_status(), 0x02);
    size_t l = 0;
    assert_int_equal(session_of(f->card, tv_pkg, sizeof tv_pkg), 0x02);
    const uint8_t *to = upgrade_field(0xC4, &l);
    assert_non_null(to);
    assert_int_equal(l, sizeof tv_next);
    assert_memory_equal(to, tv_next, l);
    as_bank_b(f->card);
    REFUSED(
        f->card,
        install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_b, sizeof tv_b),
        0x6985);
    /* with nothing migrated the owner takes it back; then installing works again */
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x04, tv_pkg, sizeof tv_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x00);
    as_bank_b(f->card);
    assert_int_equal(
        install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_b, sizeof tv_b),
        0x9000);
}

/* ---- U3 ------------------------------------------------------------------------------ */

static void u3_start_moves_the_package_into_a_new_temporary_space(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    as_isd(f->card);
    /* before: no temporary useful space */
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0100);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x02);
    /* moved, not copied: P1 in the temporary space only, still the ISD's */
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 1);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xCC, isd, sizeof isd), 1);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY),
                     0x0100);
    /* one session per package */
    REFUSED(f->card, upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x6985);
    /* P2 then goes into the useful space: both listed, told apart by DF71 */
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY),
                     0x0100);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0, NULL, 0), 2);
    reopen(f);
    as_isd(f->card);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY),
                     0x0100);
    /* the instances are still listed, in their SDs */
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_int_equal(entries(purse_a1, 7, 0xCC, bank_a, sizeof bank_a), 1);
    assert_int_equal(entries(purse_b1, 7, 0xCC, bank_b, sizeof bank_b), 1);
}

/* ---- U4 ------------------------------------------------------------------------------ */

static void u4_new_package_useful_while_old_instances_keep_working(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    /* between start and load, P1's instances answer from the temporary space */
    purse_use(f->card, &purses[B1], 0x40, 5);
    purse_snapshot(f->card, &purses[B1], 170, 4);
    as_isd(f->card);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03);
    /* bank A moves to P2; bank B's P1 instance keeps working alongside */
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    assert_int_equal(purse_check(f->card, &purses[A1]), 2);
    assert_int_equal(purse_check(f->card, &purses[A2]), 2);
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 10), 0x9000); /* DEBIT */
    purse_snapshot(f->card, &purses[B1], 160, 5);
    reopen(f);
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    purse_use(f->card, &purses[B1], 0x30, 1);
    purse_snapshot(f->card, &purses[B1], 161, 6);
    /* and what it did as 1.0 comes over to 2.0 */
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01);
    upgrade_finished(f->card);
}

/* ---- U5 ------------------------------------------------------------------------------ */

static void u5_each_domain_migrates_its_own_instances_when_it_chooses(void **state) {
    fixture *f = *state;
    size_t l = 0;
    two_banks(f->card);
    start_and_load(f->card);
    /* A1 in use on logical channel 1: bank A's migrate is refused as a whole */
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000);
    uint8_t ch = response[0];
    assert_true(ch >= 1 && ch <= 3);
    uint8_t sel[5 + 7 + 1] = {ch, 0xA4, 0x04, 0x00, 7};
    memcpy(sel + 5, purse_a1, 7);
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6985);
    assert_int_equal(send(f->card, (const uint8_t[]){0x00, 0x70, 0x80, ch}, 4), 0x9000);
    assert_int_equal(purse_check(f->card, &purses[A1]), 1);
    assert_int_equal(purse_check(f->card, &purses[A2]), 1);
    /* bank A migrates, under its own channel, both its instances at once */
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    for (int i = A1; i <= A2; i++) {
        assert_int_equal(purse_check(f->card, &purses[i]), 2); /* PIN, balance, log kept */
        assert_int_equal(SEND(f->card, 0x80, 0x70, 0x00, 0x00, 4, 0, 0, 0, 10), 0x9000);
        assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 4, 0, 0, 0, 11), 0x6985);
        assert_int_equal(SEND(f->card, 0x80, 0x71, 0x00, 0x00, 0x00), 0x9000);
        assert_memory_equal(response, ((uint8_t[]){0, 0, 0, 10}), 4);
    }
    /* bank B's is still 1.0: no SET LIMIT */
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    assert_int_equal(SEND(f->card, 0x80, 0x70, 0x00, 0x00, 4, 0, 0, 0, 10), 0x6D00);
    /* bank A has nothing left to migrate, and cannot touch bank B's instance */
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6A88);
    REFUSED(f->card, delete_aid(f->card, purse_b1, 7, 0x00), 0x6982);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03);
    const uint8_t *v = upgrade_field(0x82, &l); /* one P1 instance left */
    assert_non_null(v);
    assert_int_equal(l, 2);
    assert_int_equal(v[0] << 8 | v[1], 1);
    v = upgrade_field(0x83, &l); /* one SD still to move */
    assert_non_null(v);
    assert_int_equal(v[0], 1);
    /* the package's owner migrates only its own instances: it has none */
    as_isd(f->card);
    REFUSED(f->card, upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6A88);
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    reopen(f);
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    assert_int_equal(purse_check(f->card, &purses[A1]), 2);
}

/* ---- U6 ------------------------------------------------------------------------------ */

static void u6_u9_temporary_space_deleted_when_the_last_domain_moves(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    start_and_load(f->card);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    reopen(f);
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01); /* completed */
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    REFUSED(f->card, upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg), 0x6A88);
    upgrade_finished(f->card);
    reopen(f);
    upgrade_finished(f->card);
}

/* ---- U7 ------------------------------------------------------------------------------ */

static void u7_remaining_old_instances_deleted_with_the_temporary_space(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    start_and_load(f->card);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    /* bank B, instead of migrating, installs a fresh instance of P2 */
    as_bank_b(f->card);
    assert_int_equal(install_purse(f->card, purse_b2), 0x9000);
    assert_int_equal(select_aid(f->card, purse_b1, 7), 0x6A82); /* gone with P1 */
    assert_int_equal(select_aid(f->card, purse_b2, 7), 0x9000);
    assert_int_equal(SEND(f->card, 0x80, 0x71, 0x00, 0x00, 0x00), 0x9000); /* 2.0 */
    as_isd(f->card);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(get_status(f->card, 0x40), 0x9000);
    assert_int_equal(entries(purse_b1, 7, 0, NULL, 0), 0);
    assert_int_equal(entries(purse_b2, 7, 0xCC, bank_b, sizeof bank_b), 1);
    assert_int_equal(purse_check(f->card, &purses[A1]), 2);
    assert_int_equal(purse_check(f->card, &purses[A2]), 2);
    reopen(f);
    assert_int_equal(select_aid(f->card, purse_b1, 7), 0x6A82);

    /* the other way round: bank B's P2 instance first, then bank A's migrate ends it */
    fresh_card(f);
    two_banks(f->card);
    start_and_load(f->card);
    as_bank_b(f->card);
    assert_int_equal(install_purse(f->card, purse_b2), 0x9000);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03); /* A holds P1 only */
    assert_int_equal(purse_check(f->card, &purses[B1]), 1);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x01);
    assert_int_equal(select_aid(f->card, purse_b1, 7), 0x6A82);
    assert_int_equal(purse_check(f->card, &purses[A1]), 2);
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
}

/* ---- U8 ------------------------------------------------------------------------------ */

static void u8_no_extradition_from_the_temporary_space(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    as_isd(f->card);
    load(f->card, "hello", hello_pkg, sizeof hello_pkg);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    REFUSED(f->card, extradite(f->card, bank_a, sizeof bank_a, purse_pkg, sizeof purse_pkg),
            0x6985);
    REFUSED(f->card, extradite(f->card, bank_b, sizeof bank_b, purse_pkg, sizeof purse_pkg),
            0x6985);
    as_bank_a(f->card);
    REFUSED(f->card, extradite(f->card, bank_a, sizeof bank_a, purse_pkg, sizeof purse_pkg),
            0x6985);
    /* still the ISD's, in the temporary space */
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xCC, isd, sizeof isd), 1);
    /* for contrast: a package of the useful space goes */
    assert_int_equal(extradite(f->card, bank_a, sizeof bank_a, hello_pkg, sizeof hello_pkg),
                     0x9000);
    as_bank_a(f->card);
    assert_int_equal(packages_in(f->card, hello_pkg, sizeof hello_pkg, SPACE_USEFUL), 1);
    assert_int_equal(entries(hello_pkg, sizeof hello_pkg, 0xCC, bank_a, sizeof bank_a), 1);
    /* P2 (useful space) stays its owner's while the session lives (issue 9 item 1: a
       migration installs only code of the session's owner), and goes once it is over */
    as_isd(f->card);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    REFUSED(f->card, extradite(f->card, bank_a, sizeof bank_a, purse_pkg, sizeof purse_pkg),
            0x6985);
    assert_int_equal(get_status(f->card, 0x20), 0x9000);
    const uint8_t useful = SPACE_USEFUL, temporary = SPACE_TEMPORARY;
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xDF71, &useful, 1), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xCC, isd, sizeof isd), 2);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xDF71, &temporary, 1), 1);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01);
    as_isd(f->card);
    assert_int_equal(extradite(f->card, bank_a, sizeof bank_a, purse_pkg, sizeof purse_pkg),
                     0x9000);
    assert_int_equal(get_status(f->card, 0x20), 0x9000);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xDF71, &useful, 1), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xCC, bank_a, sizeof bank_a), 1);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0xDF71, &temporary, 1), 0);
}

/* ---- U9 ------------------------------------------------------------------------------ */

static void u9_temporary_space_deleted_as_soon_as_it_empties(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    as_bank_a(f->card);
    assert_int_equal(delete_aid(f->card, purse_a1, 7, 0x00), 0x9000);
    assert_int_equal(delete_aid(f->card, purse_a2, 7, 0x00), 0x9000);
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x02);
    as_bank_b(f->card);
    assert_int_equal(delete_aid(f->card, purse_b1, 7, 0x00), 0x9000); /* the last instance */
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(entries(purse_pkg, sizeof purse_pkg, 0, NULL, 0), 0);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    REFUSED(f->card, install_purse(f->card, purse_i1), 0x6A88); /* P1 is gone */
    reopen(f);
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);

    /* the same once P2 is loaded: deleting the last P1 instance ends it */
    fresh_card(f);
    two_banks(f->card);
    start_and_load(f->card);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    as_bank_b(f->card);
    assert_int_equal(delete_aid(f->card, purse_b1, 7, 0x00), 0x9000);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    as_isd(f->card);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(purse_check(f->card, &purses[A1]), 2);
}

/* ---- U10 ----------------------------------------------------------------------------- */

static const uint8_t tv_key_a[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                     0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01};
static const uint8_t tv_key_b[16] = {0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7,
                                     0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF};

/* ADD ENTITLEMENT to the selected paytv: channel || expiry || HMAC-SHA256(key, ...)[0..8). */
static uint16_t tv_entitle(seam_card *card, const uint8_t *key, uint16_t channel, uint32_t expiry) {
    uint8_t cmd[5 + 14] = {0x80, 0x10, 0x00, 0x00, 14}, mac[32];
    uint8_t *d = cmd + 5;
    d[0] = (uint8_t)(channel >> 8);
    d[1] = (uint8_t)channel;
    d[2] = (uint8_t)(expiry >> 24);
    d[3] = (uint8_t)(expiry >> 16);
    d[4] = (uint8_t)(expiry >> 8);
    d[5] = (uint8_t)expiry;
    assert_int_equal(seam_crypto_hmac_sha256(key, 16, d, 6, mac), SEAM_OK);
    memcpy(d + 6, mac, 8);
    return send(card, cmd, sizeof cmd);
}

static uint16_t tv_day(seam_card *card, uint8_t ins, uint16_t channel, uint32_t day) {
    uint8_t cmd[5 + 6] = {0x80,
                          ins,
                          0x00,
                          0x00,
                          6,
                          (uint8_t)(channel >> 8),
                          (uint8_t)channel,
                          (uint8_t)(day >> 24),
                          (uint8_t)(day >> 16),
                          (uint8_t)(day >> 8),
                          (uint8_t)day};
    return send(card, cmd, sizeof cmd);
}

typedef struct {
    uint8_t list[32 * 6], view[32 * 6], id[16];
    size_t list_len, view_len, id_len;
} tv_ref;

static void tv_read(seam_card *card, const uint8_t *aid, tv_ref *r) {
    assert_int_equal(select_aid(card, aid, 8), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x30, 0x00, 0x00, 0x00), 0x9000);
    memcpy(r->list, response, r->list_len = response_len - 2);
    assert_int_equal(SEND(card, 0x80, 0x40, 0x00, 0x00, 0x00), 0x9000);
    memcpy(r->view, response, r->view_len = response_len - 2);
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    memcpy(r->id, response, r->id_len = response_len - 2);
}

/* Checks the paytv instance against ref; returns its version (INS 60: 6700 in 2.0). */
static int tv_check(seam_card *card, const uint8_t *aid, const tv_ref *ref) {
    tv_ref now;
    tv_read(card, aid, &now);
    assert_int_equal(now.list_len, ref->list_len);
    assert_memory_equal(now.list, ref->list, ref->list_len);
    assert_int_equal(now.view_len, ref->view_len);
    assert_memory_equal(now.view, ref->view, ref->view_len);
    assert_int_equal(now.id_len, ref->id_len);
    assert_memory_equal(now.id, ref->id, ref->id_len);
    uint16_t sw = SEND(card, 0x80, 0x60, 0x00, 0x00, 0x00);
    assert_true(sw == 0x6700 || sw == 0x6D00);
    return sw == 0x6700 ? 2 : 1;
}

static void u10_a_second_family_of_native_modules_upgraded_at_the_same_time(void **state) {
    fixture *f = *state;
    tv_ref ref_a, ref_b;
    size_t len;
    /* the packages are WebAssembly modules (from C), not Java class files */
    const char *names[] = {"purse", "purse_v2", "paytv", "paytv_v2"};
    for (size_t i = 0; i < 4; i++) {
        uint8_t *file = read_app(names[i], &len);
        assert_memory_equal(file + 4, ((uint8_t[]){0x00, 0x61, 0x73, 0x6D}), 4);
        free(file);
    }
    two_banks(f->card);
    as_isd(f->card);
    load(f->card, "paytv", tv_pkg, sizeof tv_pkg);
    uint8_t perso_a[] = {0xDF, 0x10, 5, 'A', 'L', 'I', 'C', 'E', 0xDF, 0x11, 16};
    uint8_t block[sizeof perso_a + 16];
    as_bank_a(f->card);
    assert_int_equal(
        install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_a, sizeof tv_a),
        0x9000);
    memcpy(block, perso_a, sizeof perso_a);
    memcpy(block + sizeof perso_a, tv_key_a, 16);
    personalize(f->card, tv_a, sizeof tv_a, block, sizeof block);
    as_bank_b(f->card);
    assert_int_equal(
        install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_b, sizeof tv_b),
        0x9000);
    memcpy(block, ((uint8_t[]){0xDF, 0x10, 5, 'B', 'O', 'B', 'B', 'Y', 0xDF, 0x11, 16}),
           sizeof perso_a);
    memcpy(block + sizeof perso_a, tv_key_b, 16);
    personalize(f->card, tv_b, sizeof tv_b, block, sizeof block);
    /* entitlements (dates YYYYMMDD as numbers) and a viewing */
    assert_int_equal(select_aid(f->card, tv_a, sizeof tv_a), 0x9000);
    assert_int_equal(tv_entitle(f->card, tv_key_a, 1, 20261231), 0x9000);
    assert_int_equal(tv_entitle(f->card, tv_key_a, 2, 20250101), 0x9000);
    assert_int_equal(tv_entitle(f->card, tv_key_a, 3, 20270101), 0x9000);
    assert_int_equal(tv_entitle(f->card, tv_key_b, 4, 20270101), 0x6982); /* not its key */
    assert_int_equal(tv_day(f->card, 0x20, 1, 20260115), 0x9000);
    tv_read(f->card, tv_a, &ref_a);
    assert_int_equal(ref_a.list_len, 18);
    assert_int_equal(ref_a.view_len, 6);
    assert_int_equal(select_aid(f->card, tv_b, sizeof tv_b), 0x9000);
    assert_int_equal(tv_entitle(f->card, tv_key_b, 7, 20260630), 0x9000);
    tv_read(f->card, tv_b, &ref_b);
    assert_int_equal(tv_check(f->card, tv_a, &ref_a), 1);
    assert_int_equal(tv_check(f->card, tv_b, &ref_b), 1);

    /* two upgrade sessions at once */
    as_isd(f->card);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade(f->card, 0x01, tv_pkg, sizeof tv_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x02);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 2);
    as_bank_a(f->card);
    REFUSED(f->card,
            install_app(f->card, 0x0C, tv_pkg, sizeof tv_pkg, tv_cls, sizeof tv_cls, tv_next, 7),
            0x6985);
    as_isd(f->card);
    load(f->card, "paytv_v2", tv_pkg, sizeof tv_pkg);
    assert_int_equal(session_of(f->card, tv_pkg, sizeof tv_pkg), 0x03);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x02);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    assert_int_equal(package_version(f->card, tv_pkg, sizeof tv_pkg, SPACE_USEFUL), 0x0200);
    assert_int_equal(package_version(f->card, tv_pkg, sizeof tv_pkg, SPACE_TEMPORARY), 0x0100);

    /* bank A moves its paytv first */
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, tv_pkg, sizeof tv_pkg, 1), 0x03);
    assert_int_equal(tv_check(f->card, tv_a, &ref_a), 2);
    assert_int_equal(
        send(f->card, (const uint8_t[]){0x80, 0x60, 0x00, 0x00, 4, 0x01, 0x35, 0x29, 0x6F}, 9),
        0x9000); /* REMOVE EXPIRED, today 20261231: channel 2 goes */
    assert_int_equal(response_len, 1 + 2);
    assert_int_equal(response[0], 1);
    assert_int_equal(SEND(f->card, 0x80, 0x30, 0x00, 0x00, 0x00), 0x9000);
    assert_int_equal(response_len, 12 + 2);
    assert_memory_equal(response, ref_a.list, 6);                         /* channel 1 */
    assert_memory_equal(response + 6, ref_a.list + 12, 6);                /* channel 3 */
    assert_int_equal(tv_entitle(f->card, tv_key_a, 5, 20280101), 0x9000); /* the key came back */
    assert_int_equal(tv_day(f->card, 0x20, 3, 20260601), 0x9000);
    /* the other session is untouched; bank B's paytv is still 1.0 */
    assert_int_equal(purse_check(f->card, &purses[A1]), 1);
    assert_int_equal(tv_check(f->card, tv_b, &ref_b), 1);
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, tv_pkg, sizeof tv_pkg, 1), 0x01);
    assert_int_equal(tv_check(f->card, tv_b, &ref_b), 2);
    as_isd(f->card);
    assert_int_equal(session_of(f->card, tv_pkg, sizeof tv_pkg), 0x00);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 1);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    /* then the purses */
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x03);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x01);
    upgrade_finished(f->card);
    reopen(f);
    assert_int_equal(tv_check(f->card, tv_b, &ref_b), 2);
    assert_int_equal(select_aid(f->card, tv_a, sizeof tv_a), 0x9000);
    assert_int_equal(tv_day(f->card, 0x20, 5, 20270101), 0x9000);
}

/* ---- abort ----------------------------------------------------------------------------- */

static void abort_only_by_the_owner_and_before_any_migration(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    /* a bank cannot start the upgrade of the ISD's package */
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x6982);
    as_isd(f->card);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    assert_int_equal(upgrade(f->card, 0x01, purse_pkg, sizeof purse_pkg), 0x9000);
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x6982);
    /* P2 in the useful space under P1's AID: no way back */
    as_isd(f->card);
    load(f->card, "purse_v2", purse_pkg, sizeof purse_pkg);
    REFUSED(f->card, upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x6985);
    /* once P2 is deleted, the owner aborts: P1 back in the useful space */
    assert_int_equal(delete_aid(f->card, purse_pkg, sizeof purse_pkg, 0x00), 0x9000);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0);
    assert_int_equal(packages_in(f->card, purse_pkg, sizeof purse_pkg, SPACE_TEMPORARY), 1);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x02);
    assert_int_equal(upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x9000);
    assert_int_equal(upgrade_status(), 0x00);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    assert_int_equal(package_version(f->card, purse_pkg, sizeof purse_pkg, SPACE_USEFUL), 0x0100);
    assert_int_equal(packages_in(f->card, NULL, 0, SPACE_TEMPORARY), 0);
    for (int i = 0; i < PURSES; i++)
        assert_int_equal(purse_check(f->card, &purses[i]), 1);
    as_bank_a(f->card);
    assert_int_equal(install_purse(f->card, purse_a3), 0x9000); /* installable again */
    assert_int_equal(delete_aid(f->card, purse_a3, 7, 0x00), 0x9000);
    /* again, and after bank A's migration there is no way back */
    start_and_load(f->card);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    as_isd(f->card);
    REFUSED(f->card, upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x6985);
    as_bank_a(f->card);
    REFUSED(f->card, upgrade(f->card, 0x04, purse_pkg, sizeof purse_pkg), 0x6982);
    as_bank_b(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01);
    upgrade_finished(f->card);
}

/* ---- X4 -------------------------------------------------------------------------------- */

/* Cuts power at every write point of bank A's migrate (second: bank B's, which
   completes the session); returns the number of write points swept. */
static int sweep(fixture *f, bool second) {
    int n = 1;
    for (; n < 400; n++) {
        fresh_card(f);
        two_banks(f->card);
        start_and_load(f->card);
        if (second) {
            as_bank_a(f->card);
            assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
            as_bank_b(f->card);
        } else {
            as_bank_a(f->card);
        }
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        cut_expected = true;
        uint16_t sw = upgrade(f->card, 0x02, purse_pkg, sizeof purse_pkg);
        cut_expected = false;
        if (sw == 0x9000) { /* no cut left */
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            assert_int_equal(upgrade_status(), second ? 0x01 : 0x03);
            break;
        }
        assert_int_equal(sw, 0);
        reopen(f);
        /* every purse answers with its data, as 1.0 or 2.0; a bank's purses move together */
        int a1 = purse_check(f->card, &purses[A1]);
        int a2 = purse_check(f->card, &purses[A2]);
        int b1 = purse_check(f->card, &purses[B1]);
        assert_int_equal(a1, a2);
        as_isd(f->card);
        uint8_t st = session_of(f->card, purse_pkg, sizeof purse_pkg);
        int temporary = packages_in(f->card, NULL, 0, SPACE_TEMPORARY);
        if (!second) {
            assert_int_equal(b1, 1);
            assert_int_equal(st, 0x03);
            assert_int_equal(temporary, 1);
        } else {
            assert_int_equal(a1, 2);
            assert_int_equal(st, b1 == 1 ? 0x03 : 0x00);
            assert_int_equal(temporary, b1 == 1 ? 1 : 0);
        }
        /* finish from where it stands */
        if (a1 == 1) {
            as_bank_a(f->card);
            assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
        }
        if (b1 == 1) {
            as_bank_b(f->card);
            assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01);
        }
        upgrade_finished(f->card);
    }
    assert_true(n > 1 && n < 400);
    reopen(f);
    if (!second) { /* bank A's migrate went through: bank B's ends the session */
        assert_int_equal(purse_check(f->card, &purses[A1]), 2);
        assert_int_equal(purse_check(f->card, &purses[B1]), 1);
        as_bank_b(f->card);
        assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 1), 0x01);
    }
    upgrade_finished(f->card);
    return n - 1;
}

static void sweep_x4_power_cut_at_every_write_of_both_migrations(void **state) {
    fixture *f = *state;
    int a = sweep(f, false);
    int b = sweep(f, true);
    print_message("X4 spaces: bank A's migrate (2 instances) %d write points, bank B's "
                  "(completing the session) %d write points\n",
                  a, b);
}

/* U7 with an old instance in use: the clean-up waits while it is selected on a logical
   channel (its live state belongs to that channel), and completes on a later command. */
static void u7_clean_up_waits_for_a_selected_old_instance(void **state) {
    fixture *f = *state;
    two_banks(f->card);
    start_and_load(f->card);
    as_bank_a(f->card);
    assert_int_equal(migrate(f->card, purse_pkg, sizeof purse_pkg, 2), 0x03);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* channel 1 */
    uint8_t ch = response[0];
    uint8_t sel[5 + 7 + 1] = {ch, 0xA4, 0x04, 0x00, 7};
    memcpy(sel + 5, purse_b1, 7);
    assert_int_equal(send(f->card, sel, sizeof sel), 0x9000);
    as_bank_b(f->card);
    /* bank B installs a 2.0 instance: every holder of P1 now holds P2, but B1 is busy */
    assert_int_equal(install_purse(f->card, purse_b2), 0x9000);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x03);
    size_t before = used(f->card);
    uint8_t credit[] = {(uint8_t)(0x80 | ch), 0x30, 0, 0, 4, 0, 0, 0, 9};
    assert_int_equal(
        send(f->card, (const uint8_t[]){(uint8_t)(0x80 | ch), 0x20, 0, 0, 4, '3', '3', '3', '3'},
             9),
        0x9000);
    assert_int_equal(send(f->card, credit, sizeof credit), 0x9000); /* B1 still works */
    assert_true(used(f->card) >= before);
    /* closing the channel frees B1; the next status query completes the upgrade */
    assert_int_equal(send(f->card, (const uint8_t[]){0x00, 0x70, 0x80, ch}, 4), 0x9000);
    as_isd(f->card);
    assert_int_equal(session_of(f->card, purse_pkg, sizeof purse_pkg), 0x00);
    assert_int_equal(select_aid(f->card, purse_b1, sizeof purse_b1), 0x6A82);
    assert_int_equal(packages_in(f->card, NULL, 0, 2), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(u1_instances_of_one_useful_package_in_several_domains,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u2_no_new_instance_from_the_temporary_space, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(u3_start_moves_the_package_into_a_new_temporary_space,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u4_new_package_useful_while_old_instances_keep_working,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u5_each_domain_migrates_its_own_instances_when_it_chooses,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u6_u9_temporary_space_deleted_when_the_last_domain_moves,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u7_clean_up_waits_for_a_selected_old_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(u7_remaining_old_instances_deleted_with_the_temporary_space,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(u8_no_extradition_from_the_temporary_space, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(u9_temporary_space_deleted_as_soon_as_it_empties, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            u10_a_second_family_of_native_modules_upgraded_at_the_same_time, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_only_by_the_owner_and_before_any_migration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sweep_x4_power_cut_at_every_write_of_both_migrations, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
