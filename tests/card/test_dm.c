/*
 * Delegated Management (requirement X1; GP 2.3.1 chapter 9; docs/card.md
 * "Security domains"): an SSD with Delegated Management loads, installs and
 * deletes only with tokens signed by the card issuer (ECDSA P-256 over
 * SHA-256(P1 || P2 || Lc' || data without the token field)) and verified with
 * the ISD's token key, KVN 70, put with PUT KEY. Every refusal leaves the
 * card's nvm as it was.
 */
#include "sd_host.h"

static const uint8_t bank_dm[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0D};
static const uint8_t bank_am[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0A};
static const uint8_t hello_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
static const uint8_t hello_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0x01};
static const uint8_t hello_a[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0xA1};
static const uint8_t hello_b[] = {0xA0, 0x00, 0x00, 0x05, 0x48, 0x45, 0xB1};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};

/* Privileges: an SSD with Delegated Management, one with Authorized Management. */
static const uint8_t priv_dm[3] = {0xA0, 0x80, 0x00};
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};

/* The issuer's token key pair; the card gets the public half with PUT KEY. */
static uint8_t token_priv[SEAM_CRYPTO_P256_PRIVATE_SIZE];
static uint8_t token_pub[SEAM_CRYPTO_P256_PUBLIC_SIZE];

/* What a command carries in its token field. */
typedef enum {
    TOKEN_NONE,  /* an empty token LV (INSTALL) / no 9E (DELETE) */
    TOKEN_GOOD,  /* the issuer's signature of this command */
    TOKEN_BAD,   /* that signature with one byte flipped */
    TOKEN_OTHER, /* a valid signature of other data (other_data) */
} token_mode;

static const uint8_t *other_data;
static size_t other_len;

/* The PUT KEY data of token key pub: 70 B0 41 pub 00 F0 01 00 00 (73 bytes). */
static size_t token_key_data(const uint8_t *pub, uint8_t d[73]) {
    d[0] = 0x70;
    d[1] = 0xB0;
    d[2] = 0x41;
    memcpy(d + 3, pub, 65);
    d[68] = 0x00; /* no KCV */
    d[69] = 0xF0;
    d[70] = 0x01;
    d[71] = 0x00; /* P-256 */
    d[72] = 0x00;
    return 73;
}

/* PUT KEY of the token key pub (P1 00 add, 70 replace). The host library builds PUT KEY
   of AES key sets only; this one (an ECC public key, GP 2.3.1 §11.8) is built here. */
static uint16_t put_token_key(seam_card *card, uint8_t p1, const uint8_t *pub) {
    uint8_t d[73];
    return gp(card, true, 0xD8, p1, 0x01, d, token_key_data(pub, d));
}

/* Writes the token of P1 P2 data[0..n) signed with priv: SHA-256(P1 P2 Lc' data). */
static void sign_token(const uint8_t *priv, uint8_t p1, uint8_t p2, const uint8_t *data, size_t n,
                       uint8_t sig[64]) {
    uint8_t msg[3 + 255] = {p1, p2, (uint8_t)n};
    uint8_t digest[32];
    assert_true(n <= 255);
    memcpy(msg + 3, data, n);
    assert_int_equal(seam_crypto_sha256(msg, 3 + n, digest), SEAM_OK);
    assert_int_equal(seam_crypto_p256_sign(priv, 32, digest, sig), SEAM_OK);
}

/* Sends INSTALL (E6) or DELETE (E4) with data[0..n) and a token field as mode says. */
static uint16_t with_token(seam_card *card, uint8_t ins, uint8_t p1, uint8_t p2,
                           const uint8_t *data, size_t n, token_mode mode) {
    uint8_t d[255], sig[64];
    size_t len = n;
    memcpy(d, data, n);
    if (mode == TOKEN_OTHER)
        sign_token(token_priv, p1, p2, other_data, other_len, sig);
    else
        sign_token(token_priv, p1, p2, data, n, sig);
    if (mode == TOKEN_BAD)
        sig[17] ^= 0x01;
    if (mode == TOKEN_NONE && ins == 0xE6) {
        d[len++] = 0x00;
    } else if (mode != TOKEN_NONE) {
        if (ins == 0xE4)
            d[len++] = 0x9E;
        d[len++] = 64;
        memcpy(d + len, sig, 64);
        len += 64;
    }
    return gp(card, true, ins, p1, p2, d, len);
}

/* The data of an INSTALL the library builds, without its token field (empty there):
   what a token signs, and what with_token completes. */
static size_t install_data(const seam_gp_install_fields *in, uint8_t *d) {
    uint8_t apdu[SEAM_GP_APDU_MAX];
    size_t n = 0;
    assert_int_equal(seam_gp_build_install(in, apdu, sizeof apdu, &n), SEAM_OK);
    assert_true(apdu[4] >= 1 && apdu[5 + apdu[4] - 1] == 0x00); /* the empty token LV */
    memcpy(d, apdu + 5, apdu[4] - 1u);
    return apdu[4] - 1u;
}

/* The INSTALL [for load] data without the token field: package, SD, hash, no params. */
static size_t for_load_data(const uint8_t *pkg, size_t pkg_len, const uint8_t *sd, size_t sd_len,
                            const uint8_t *hash, size_t hash_len, uint8_t *d) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD,
                                 .elf = aid_of(pkg, pkg_len),
                                 .sd = aid_of(sd, sd_len),
                                 .hash = hash,
                                 .hash_len = hash_len};
    return install_data(&in, d);
}

/* The INSTALL [for install] data of hello instance aid without the token field. */
static size_t for_install_data(const uint8_t *aid, uint8_t *d) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL,
                                 .elf = aid_of(hello_pkg, sizeof hello_pkg),
                                 .module = aid_of(hello_cls, sizeof hello_cls),
                                 .application = aid_of(aid, 7),
                                 .privileges_len = 1};
    return install_data(&in, d);
}

/* The INSTALL [for make selectable] data of instance aid without the token field. */
static size_t make_selectable_data(const uint8_t *aid, uint8_t *d) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_MAKE_SELECTABLE,
                                 .application = aid_of(aid, 7)};
    return install_data(&in, d);
}

/* The DELETE data of aid without the token: 4F len aid. */
static size_t delete_data(const uint8_t *aid, size_t len, uint8_t *d) {
    uint8_t apdu[5 + 2 + SEAM_GP_AID_MAX + 1];
    size_t n = 0;
    assert_int_equal(seam_gp_build_delete(aid, len, false, NULL, 0, apdu, sizeof apdu, &n),
                     SEAM_OK);
    memcpy(d, apdu + 5, apdu[4]);
    return apdu[4];
}

static size_t used(seam_card *card) {
    return seam_nvm_used_bytes(seam_card_nvm(card));
}

/* Sends a command that must be refused with sw and leave the nvm's used bytes unchanged. */
#define REFUSED(card, sw, call)                                                                    \
    do {                                                                                           \
        size_t before_ = used(card);                                                               \
        assert_int_equal((call), (sw));                                                            \
        assert_int_equal(used(card), before_);                                                     \
    } while (0)

/* The ISD (session open) gets the token key; it installs the DM SSD, whose owner
   takes its keys over; the DM SSD's channel is left open with key_dm. */
static void dm_card(seam_card *card, bool token_key, const uint8_t *key_dm) {
    assert_int_equal(seam_crypto_p256_generate(token_priv, token_pub), SEAM_OK);
    power_on(card);
    open_channel(card);
    if (token_key) {
        assert_int_equal(put_token_key(card, 0x00, token_pub), 0x9000);
        assert_int_equal(response_len, 3); /* 70 9000: no KCV */
        assert_int_equal(response[0], 0x70);
    }
    assert_int_equal(install_sd(card, 0x0C, bank_dm, sizeof bank_dm, priv_dm, 3), 0x9000);
    assert_int_equal(open_sd(card, bank_dm, sizeof bank_dm, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key_dm), 0x9000);
    assert_int_equal(open_sd(card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
}

/* The SHA-256 of the hello load file's data block, and the file itself. */
static uint8_t *hello_file(size_t *len, uint8_t hash[32]) {
    uint8_t *file = read_app("hello", len);
    assert_int_equal(seam_crypto_sha256(file + 4, *len - 4, hash), SEAM_OK);
    return file;
}

static void dm_ssd_loads_installs_and_deletes_with_tokens_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], hash[32], d[128];
    size_t len, n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, true, key_dm);
    uint8_t *file = hello_file(&len, hash);
    /* INSTALL [for load] with the hash and a load token, then LOAD as usual */
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    /* INSTALL [for install and make selectable] with an install token */
    n = for_install_data(hello_a, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_GOOD), 0x9000);
    /* INSTALL [for install], then [for make selectable], each with its token */
    n = for_install_data(hello_b, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x04, 0x00, d, n, TOKEN_GOOD), 0x9000);
    n = make_selectable_data(hello_b, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x08, 0x00, d, n, TOKEN_NONE));
    assert_int_equal(with_token(f->card, 0xE6, 0x08, 0x00, d, n, TOKEN_GOOD), 0x9000);
    /* INSTALL [for personalization] of its own instance carries no token */
    assert_int_equal(install_perso(f->card, hello_a, sizeof hello_a), 0x9000);
    /* everything is the DM SSD's; the instances answer */
    reopen(f);
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x9000);
    assert_int_equal(select_aid(f->card, hello_b, sizeof hello_b), 0x9000);
    /* MANAGE ELF UPGRADE has no token: refused to a DM SSD even on its own package */
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    uint8_t up[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x48, 0x45};
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xEA, 0x01, 0x00, up, sizeof up));
    /* DELETE with a delete token (9E): an instance, then the package with the other */
    n = delete_data(hello_a, sizeof hello_a, d);
    assert_int_equal(with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_GOOD), 0x9000);
    n = delete_data(hello_pkg, sizeof hello_pkg, d);
    assert_int_equal(with_token(f->card, 0xE4, 0x00, 0x80, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x6A82);
    assert_int_equal(select_aid(f->card, hello_b, sizeof hello_b), 0x6A82);
}

static void dm_refusals_change_nothing_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], hash[32], d[128], other[128];
    size_t len, n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, true, key_dm);
    uint8_t *file = hello_file(&len, hash);
    other_data = other;

    /* load: no token, a flipped byte, a token for another package, for other P1 */
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    other_len =
        for_load_data(purse_pkg, sizeof purse_pkg, bank_dm, sizeof bank_dm, hash, 32, other);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_NONE));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_BAD));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_OTHER));
    /* a load token without the load file hash: 6A80 */
    size_t m = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, NULL, 0, d);
    REFUSED(f->card, 0x6A80, with_token(f->card, 0xE6, 0x02, 0x00, d, m, TOKEN_GOOD));
    /* a token of 63 bytes: 6982 */
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    d[n] = 63;
    memset(d + n + 1, 0x11, 63);
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xE6, 0x02, 0x00, d, n + 64));
    /* no load began: LOAD is refused */
    REFUSED(f->card, 0x6985, load_one(f->card, 0x00, true, file, 16));
    /* a wrong hash under a good token: accepted, but the last LOAD fails */
    hash[0] ^= 1;
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    REFUSED(f->card, 0x6A80, load_blocks(f->card, file, len));
    hash[0] ^= 1;
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);

    /* install: no token, a flipped byte, a token for another instance AID */
    n = for_install_data(hello_a, d);
    other_len = for_install_data(hello_b, other);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_NONE));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_BAD));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_OTHER));
    /* the install token of P1 04 does not make the instance selectable (P1 0C) */
    uint8_t sig[64];
    sign_token(token_priv, 0x04, 0x00, d, n, sig);
    d[n] = 64;
    memcpy(d + n + 1, sig, 64);
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xE6, 0x0C, 0x00, d, n + 65));
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x6A82);
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    assert_int_equal(with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_GOOD), 0x9000);

    /* delete: no token, a flipped byte, a token for another AID, one for P2 00 sent
       with P2 80, a 9E that is not last */
    n = delete_data(hello_a, sizeof hello_a, d);
    other_len = delete_data(hello_b, sizeof hello_b, other);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_NONE));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_BAD));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_OTHER));
    n = delete_data(hello_pkg, sizeof hello_pkg, d);
    sign_token(token_priv, 0x00, 0x00, d, n, sig);
    d[n] = 0x9E;
    d[n + 1] = 64;
    memcpy(d + n + 2, sig, 64);
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xE4, 0x00, 0x80, d, n + 66));
    d[n + 66] = 0xB6;
    d[n + 67] = 0x00;
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xE4, 0x00, 0x00, d, n + 68));
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x9000);
    /* a B6 before the 9E is signed with the rest */
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    n = delete_data(hello_a, sizeof hello_a, d);
    d[n++] = 0xB6;
    d[n++] = 0x00;
    assert_int_equal(with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_GOOD), 0x9000);
}

static void dm_ssd_manages_only_its_own_content_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], d[128];
    size_t n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, true, key_dm);
    /* the ISD loads purse; the DM SSD cannot delete it, even with a valid token */
    assert_int_equal(open_sd(f->card, isd, sizeof isd, test_key), 0x9000);
    load(f->card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    n = delete_data(purse_pkg, sizeof purse_pkg, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE4, 0x00, 0x80, d, n, TOKEN_GOOD));
    /* nor load into the ISD's name */
    uint8_t hash[32] = {0};
    n = for_load_data(hello_pkg, sizeof hello_pkg, isd, sizeof isd, hash, 32, d);
    REFUSED(f->card, 0x6A80, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD));
    /* nor delete itself */
    n = delete_data(bank_dm, sizeof bank_dm, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_GOOD));
}

static void dm_without_a_token_key_is_refused_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], hash[32], d[128];
    size_t len, n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, false, key_dm);
    uint8_t *file = hello_file(&len, hash);
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, hash, 32, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_NONE));
    reopen(f);
    /* once the ISD holds the key, the same token verifies */
    open_channel(f->card);
    assert_int_equal(put_token_key(f->card, 0x00, token_pub), 0x9000);
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
}

static void am_sd_needs_no_token_x1(void **state) {
    fixture *f = *state;
    uint8_t key_am[16], hash[32], d[128];
    size_t len, n;
    memset(key_am, 0xA5, sizeof key_am);
    power_on(f->card);
    open_channel(f->card);
    assert_int_equal(install_sd(f->card, 0x0C, bank_am, sizeof bank_am, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(f->card, bank_am, sizeof bank_am, test_key), 0x9000);
    assert_int_equal(put_key_30(f->card, key_am), 0x9000);
    assert_int_equal(open_sd(f->card, bank_am, sizeof bank_am, key_am), 0x9000);
    /* no token key on the card: an AM SSD loads and installs without tokens... */
    uint8_t *file = hello_file(&len, hash);
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_am, sizeof bank_am, NULL, 0, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_NONE), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    free(file);
    /* ...and ignores a token it is given (here one no key verifies) */
    assert_int_equal(seam_crypto_p256_generate(token_priv, token_pub), SEAM_OK);
    n = for_install_data(hello_a, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0C, 0x00, d, n, TOKEN_BAD), 0x9000);
    n = delete_data(hello_a, sizeof hello_a, d);
    assert_int_equal(with_token(f->card, 0xE4, 0x00, 0x00, d, n, TOKEN_NONE), 0x9000);
}

static void token_key_put_key_checked_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], d[128], pk[80], other_priv[32], other_pub[65];
    size_t n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, false, key_dm);
    assert_int_equal(seam_crypto_p256_generate(other_priv, other_pub), SEAM_OK);
    open_channel(f->card);
    /* a point off the curve, not uncompressed, bad lengths, parameters, a KCV */
    uint8_t bad[65];
    memcpy(bad, token_pub, 65);
    bad[64] ^= 0x01;
    REFUSED(f->card, 0x6A80, put_token_key(f->card, 0x00, bad));
    memcpy(bad, token_pub, 65);
    bad[0] = 0x05;
    REFUSED(f->card, 0x6A80, put_token_key(f->card, 0x00, bad));
    memset(bad, 0, 65);
    bad[0] = 0x04;
    REFUSED(f->card, 0x6A80, put_token_key(f->card, 0x00, bad));
    n = token_key_data(token_pub, pk);
    pk[71] = 0x01; /* another curve */
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xD8, 0x00, 0x01, pk, n));
    n = token_key_data(token_pub, pk);
    pk[68] = 0x03; /* a KCV length */
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xD8, 0x00, 0x01, pk, n));
    n = token_key_data(token_pub, pk);
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xD8, 0x00, 0x01, pk, n - 4)); /* no F0 */
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xD8, 0x30, 0x01, pk, n));     /* replacing AES */
    REFUSED(f->card, 0x6A86, gp(f->card, true, 0xD8, 0x00, 0x02, pk, n));
    REFUSED(f->card, 0x6A88, put_token_key(f->card, 0x70, token_pub)); /* nothing to replace */
    /* an AES key set cannot take KVN 70 */
    uint8_t aes[] = {0x70, 0x88, 0x10};
    REFUSED(f->card, 0x6A80, gp(f->card, true, 0xD8, 0x00, 0x81, aes, sizeof aes));
    /* added; an add again is refused; the SSD cannot hold one */
    assert_int_equal(put_token_key(f->card, 0x00, other_pub), 0x9000);
    REFUSED(f->card, 0x6A80, put_token_key(f->card, 0x00, token_pub));
    /* a DM token signed with other_priv verifies */
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    REFUSED(f->card, 0x6A80, put_token_key(f->card, 0x00, token_pub));
    n = for_load_data(hello_pkg, sizeof hello_pkg, bank_dm, sizeof bank_dm, (const uint8_t[32]){1},
                      32, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD));
    uint8_t keep[32];
    memcpy(keep, token_priv, 32);
    memcpy(token_priv, other_priv, 32);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    memcpy(token_priv, keep, 32);
    /* replaced by token_pub (kept across a restart): other_priv's tokens no longer verify */
    open_channel(f->card);
    assert_int_equal(put_token_key(f->card, 0x70, token_pub), 0x9000);
    reopen(f);
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    assert_int_equal(with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD), 0x9000);
    memcpy(token_priv, other_priv, 32);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x02, 0x00, d, n, TOKEN_GOOD));
}

/* ---- the combined INSTALL [for load, install and make selectable] ------------------ */

/* The data of the combined sequence's first command (P1 0E P2 01, the for-load layout)
   without the token field. */
static size_t combined_load_data(const uint8_t *hash, size_t hash_len, uint8_t *d) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x01,
                                 .elf = aid_of(hello_pkg, sizeof hello_pkg),
                                 .sd = aid_of(bank_dm, sizeof bank_dm),
                                 .hash = hash,
                                 .hash_len = hash_len};
    return install_data(&in, d);
}

/* The data of its final command (P1 0E P2 03, the for-install layout, ELF AID empty) of
   hello instance aid without the token field. */
static size_t combined_final_data(const uint8_t *aid, uint8_t *d) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE,
                                 .p2 = 0x03,
                                 .module = aid_of(hello_cls, sizeof hello_cls),
                                 .application = aid_of(aid, 7),
                                 .privileges_len = 1};
    return install_data(&in, d);
}

/* A DM SSD's combined sequence needs a token on its first command (a load token: the
   hash is mandatory) and one on its final command, each signing its own P1 P2 and data;
   a refused final command keeps nothing and ends the sequence. */
static void dm_combined_sequence_needs_both_tokens_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], hash[32], d[128], sig[64], before[32], now[32];
    size_t len, n, m;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, true, key_dm);
    uint8_t *file = hello_file(&len, hash);
    fingerprint(f->card, before);
    /* first command: no token, a flipped byte, INSTALL [for load]'s token (P1 02 P2 00
       signed), a load token without the hash */
    n = combined_load_data(hash, 32, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_NONE));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_BAD));
    sign_token(token_priv, 0x02, 0x00, d, n, sig);
    d[n] = 64;
    memcpy(d + n + 1, sig, 64);
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xE6, 0x0E, 0x01, d, n + 65));
    m = combined_load_data(NULL, 0, d);
    REFUSED(f->card, 0x6A80, with_token(f->card, 0xE6, 0x0E, 0x01, d, m, TOKEN_GOOD));
    REFUSED(f->card, 0x6985, load_one(f->card, 0x00, true, file, 16)); /* no load began */
    /* with its token: the LOADs, then a final command without a token, with a flipped
       byte, with the token of INSTALL [for install and make selectable] (0C 00 signed) */
    n = combined_load_data(hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    n = combined_final_data(hello_a, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x03, d, n, TOKEN_NONE));
    REFUSED(f->card, 0x6985, with_token(f->card, 0xE6, 0x0E, 0x03, d, n, TOKEN_GOOD));
    n = combined_load_data(hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    n = combined_final_data(hello_a, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x03, d, n, TOKEN_BAD));
    n = combined_load_data(hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    n = combined_final_data(hello_a, d);
    sign_token(token_priv, 0x0C, 0x00, d, n, sig);
    d[n] = 64;
    memcpy(d + n + 1, sig, 64);
    REFUSED(f->card, 0x6982, gp(f->card, true, 0xE6, 0x0E, 0x03, d, n + 65));
    fingerprint(f->card, now);
    assert_memory_equal(before, now, 32); /* nothing of any of them was kept */
    /* both tokens good: the package and the instance are the DM SSD's */
    n = combined_load_data(hash, 32, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_GOOD), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    n = combined_final_data(hello_a, d);
    assert_int_equal(with_token(f->card, 0xE6, 0x0E, 0x03, d, n, TOKEN_GOOD), 0x9000);
    free(file);
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x9000);
    assert_int_equal(open_sd(f->card, bank_dm, sizeof bank_dm, key_dm), 0x9000);
    n = delete_data(hello_pkg, sizeof hello_pkg, d);
    assert_int_equal(with_token(f->card, 0xE4, 0x00, 0x80, d, n, TOKEN_GOOD), 0x9000);
}

/* Without a token key on the card a DM SSD cannot begin the combined sequence; an AM SD
   needs no token for it. */
static void dm_combined_sequence_without_a_token_key_x1(void **state) {
    fixture *f = *state;
    uint8_t key_dm[16], hash[32], d[128];
    size_t len, n;
    memset(key_dm, 0xD5, sizeof key_dm);
    dm_card(f->card, false, key_dm);
    uint8_t *file = hello_file(&len, hash);
    n = combined_load_data(hash, 32, d);
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_GOOD));
    REFUSED(f->card, 0x6982, with_token(f->card, 0xE6, 0x0E, 0x01, d, n, TOKEN_NONE));
    /* the ISD (Authorized Management): no token, no hash */
    open_channel(f->card);
    assert_int_equal(combined_for_load(f->card, hello_pkg, sizeof hello_pkg), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x9000);
    assert_int_equal(combined_final(f->card, NULL, 0, hello_cls, sizeof hello_cls, hello_a,
                                    sizeof hello_a, NULL, 0),
                     0x9000);
    assert_int_equal(select_aid(f->card, hello_a, sizeof hello_a), 0x9000);
    free(file);
}

/* X4: the token key's PUT KEY, cut at every write point. */
static void token_key_prepare(fixture *f) {
    power_on(f->card);
    open_channel(f->card);
}

static uint16_t token_key_put(seam_card *card) {
    return put_token_key(card, 0x00, token_pub);
}

static void token_key_put_key_survives_a_power_cut_at_every_write_x4(void **state) {
    fixture *f = *state;
    assert_int_equal(seam_crypto_p256_generate(token_priv, token_pub), SEAM_OK);
    print_message("X4 PUT KEY of the token key: %d write points swept\n",
                  sweep_every_write(f, token_key_prepare, token_key_put));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(token_key_put_key_survives_a_power_cut_at_every_write_x4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dm_ssd_loads_installs_and_deletes_with_tokens_x1, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dm_refusals_change_nothing_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(dm_ssd_manages_only_its_own_content_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(dm_without_a_token_key_is_refused_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(am_sd_needs_no_token_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(token_key_put_key_checked_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(dm_combined_sequence_needs_both_tokens_x1, setup, teardown),
        cmocka_unit_test_setup_teardown(dm_combined_sequence_without_a_token_key_x1, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
