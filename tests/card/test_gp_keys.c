/*
 * PUT KEY, SET STATUS and GET STATUS as a terminal drives them over an SCP03
 * channel (X1): new key sets open SCP03, every refusal leaves the card as it
 * was (X6), and a power cut at any write point of PUT KEY leaves either the
 * old key set or the new one, with SCP03 still opening (X4).
 */
#include "card/store/registry.h"
#include "card_host.h"

static const uint8_t isd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* ---- host side: the host library's session (card_host.h) -------------------------- */

typedef struct {
    uint8_t kvn;
    size_t len;
    uint8_t enc[32], mac[32], dek[32];
} keys;

/* The open channel's static keys: their DEK encrypts the PUT KEY bodies built by hand. */
typedef struct {
    const keys *k;
} host_channel;

static keys test_keys(void) {
    keys k = {.kvn = 0x30, .len = 16};
    for (uint8_t i = 0; i < 16; i++)
        k.enc[i] = k.mac[i] = k.dek[i] = (uint8_t)(0x40 + i);
    return k;
}

static keys new_keys(uint8_t kvn, size_t len, uint8_t seed) {
    keys k = {.kvn = kvn, .len = len};
    for (size_t i = 0; i < len; i++) {
        k.enc[i] = (uint8_t)(seed + i);
        k.mac[i] = (uint8_t)(seed * 3 + i);
        k.dek[i] = (uint8_t)(seed * 7 + i);
    }
    return k;
}

static seam_gp_keys library_keys(const keys *k) {
    seam_gp_keys g = {.len = k->len};
    memcpy(g.enc, k->enc, k->len);
    memcpy(g.mac, k->mac, k->len);
    memcpy(g.dek, k->dek, k->len);
    return g;
}

/* INITIALIZE UPDATE with P1 = kvn and EXTERNAL AUTHENTICATE (C-MAC) through the
   session; false when the card cryptogram does not verify under k. */
static bool try_open(seam_card *card, uint8_t kvn, const keys *k, host_channel *h) {
    seam_gp_keys g = library_keys(k);
    seam_gp_channel_info info;
    uint16_t sw = 0;
    seam_err e = seam_gp_open_channel(session(card), &g, kvn, 0x01, &info, &sw);
    if (e == SEAM_ERR_GP_CRYPTOGRAM)
        return false;
    assert_int_equal(e, SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(info.kvn, k->kvn);
    h->k = k;
    return true;
}

/* Opens a C-MAC channel with key set k. */
static void open_keys(seam_card *card, const keys *k, host_channel *h) {
    assert_true(try_open(card, k->kvn, k, h));
}

/* Appends one key block 88 len [clear-len] enc 03 kcv of key (len bytes) under dek. */
static size_t key_block(const keys *under, const uint8_t *key, size_t len, bool clear_len,
                        uint8_t *out) {
    static const uint8_t iv[16] = {0};
    uint8_t padded[32] = {0};
    size_t enc_len = (len + 15) / 16 * 16, n = 0;
    memcpy(padded, key, len);
    out[n++] = 0x88;
    out[n++] = (uint8_t)(enc_len + (clear_len ? 1 : 0));
    if (clear_len)
        out[n++] = (uint8_t)len;
    assert_int_equal(
        seam_crypto_aes_cbc_encrypt(under->dek, under->len, iv, padded, enc_len, out + n), SEAM_OK);
    n += enc_len;
    out[n++] = 3;
    assert_int_equal(seam_crypto_aes_kcv(key, len, out + n), SEAM_OK);
    return n + 3;
}

/* PUT KEY data: new KVN, then ENC, MAC, DEK of k encrypted under the channel's DEK. */
static size_t put_key_data(const host_channel *h, const keys *k, bool clear_len, uint8_t *out) {
    size_t n = 0;
    out[n++] = k->kvn;
    n += key_block(h->k, k->enc, k->len, clear_len, out + n);
    n += key_block(h->k, k->mac, k->len, clear_len, out + n);
    n += key_block(h->k, k->dek, k->len, clear_len, out + n);
    return n;
}

/* PUT KEY of key set k (a new KVN, or replacing set p1), built by the library under the
   channel's DEK; the card's answer (KVN and KCVs) is checked there too. */
static uint16_t put_key(seam_card *card, uint8_t p1, const keys *k) {
    seam_gp_keys g = library_keys(k);
    uint16_t sw = 0;
    seam_err e = seam_gp_put_key(session(card), p1, k->kvn, &g, &sw);
    return host_result(e, &sw);
}

/* What a refusal must leave unchanged: key info, sequence counter, lifecycles. */
typedef struct {
    uint8_t e0[256];
    size_t e0_len;
    uint8_t c1[3];
    uint8_t card_lifecycle, isd_lifecycle;
} snapshot;

static void take(seam_card *card, snapshot *s) {
    registry_card rc;
    registry_sd sd;
    memset(s, 0, sizeof *s);
    assert_int_equal(SEND(card, 0x00, 0xCA, 0x00, 0xE0, 0x00), 0x9000);
    s->e0_len = response_len - 2;
    memcpy(s->e0, response, s->e0_len);
    assert_int_equal(SEND(card, 0x00, 0xCA, 0x00, 0xC1, 0x00), 0x9000);
    memcpy(s->c1, response, 3);
    assert_int_equal(registry_card_get(seam_card_nvm(card), &rc), SEAM_OK);
    assert_int_equal(registry_sd_get(seam_card_nvm(card), isd, sizeof isd, &sd), SEAM_OK);
    s->card_lifecycle = rc.lifecycle;
    s->isd_lifecycle = sd.lifecycle;
}

static void assert_unchanged(seam_card *card, const snapshot *before) {
    snapshot now;
    take(card, &now);
    assert_int_equal(now.e0_len, before->e0_len);
    assert_memory_equal(now.e0, before->e0, now.e0_len);
    assert_memory_equal(now.c1, before->c1, 3);
    assert_int_equal(now.card_lifecycle, before->card_lifecycle);
    assert_int_equal(now.isd_lifecycle, before->isd_lifecycle);
}

/* Number of key sets in GET DATA E0 (three C0 entries of 6 bytes per set). */
static size_t keyset_count(seam_card *card) {
    assert_int_equal(SEND(card, 0x00, 0xCA, 0x00, 0xE0, 0x00), 0x9000);
    return (response_len - 2) / 18;
}

static void add_sd(seam_card *card, const uint8_t *aid, size_t aid_len, uint8_t lifecycle) {
    seam_nvm *nvm = seam_card_nvm(card);
    registry_sd sd = {.aid_len = (uint8_t)aid_len,
                      .lifecycle = lifecycle,
                      .privileges = {0x80, 0x80, 0x00},
                      .scp_i = 0x70};
    memcpy(sd.aid, aid, aid_len);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(registry_sd_put(nvm, &sd), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
}

static uint8_t sd_lifecycle(seam_card *card, const uint8_t *aid, size_t aid_len) {
    registry_sd sd;
    assert_int_equal(registry_sd_get(seam_card_nvm(card), aid, aid_len, &sd), SEAM_OK);
    return sd.lifecycle;
}

/* ---- PUT KEY ---------------------------------------------------------------------- */

static void put_key_adds_a_key_set_that_opens_scp03(void **state) {
    /* X1 */
    fixture *f = *state;
    keys old = test_keys(), fresh = new_keys(0x31, 16, 0x10);
    host_channel h;
    uint8_t kcv[3];
    power_on(f->card);
    open_keys(f->card, &old, &h);
    assert_int_equal(put_key(f->card, 0x00, &fresh), 0x9000);
    assert_int_equal(response_len, 1 + 9 + 2);
    assert_int_equal(response[0], 0x31);
    assert_int_equal(seam_crypto_aes_kcv(fresh.enc, 16, kcv), SEAM_OK);
    assert_memory_equal(response + 1, kcv, 3);
    assert_int_equal(seam_crypto_aes_kcv(fresh.mac, 16, kcv), SEAM_OK);
    assert_memory_equal(response + 4, kcv, 3);
    assert_int_equal(seam_crypto_aes_kcv(fresh.dek, 16, kcv), SEAM_OK);
    assert_memory_equal(response + 7, kcv, 3);
    assert_int_equal(keyset_count(f->card), 2);
    open_keys(f->card, &fresh, &h);
    open_keys(f->card, &old, &h); /* the old set stays */
    reopen(f);
    open_keys(f->card, &fresh, &h); /* and the new one survives a restart */
}

static void put_key_takes_192_and_256_bit_keys_and_replaces(void **state) {
    /* X1 */
    fixture *f = *state;
    keys old = test_keys(), k192 = new_keys(0x32, 24, 0x20), k256 = new_keys(0x33, 32, 0x30);
    keys again = new_keys(0x30, 16, 0x50), moved = new_keys(0x34, 24, 0x60);
    host_channel h;
    uint8_t data[256];
    power_on(f->card);
    open_keys(f->card, &old, &h);
    assert_int_equal(put_key(f->card, 0x00, &k192), 0x9000);
    /* 256-bit keys without the clear-length byte: a card must accept both forms */
    size_t n = put_key_data(&h, &k256, false, data);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x9000);
    assert_int_equal(response[0], 0x33);
    open_keys(f->card, &k192, &h);
    open_keys(f->card, &k256, &h); /* PUT KEY under a 256-bit DEK */
    assert_int_equal(put_key(f->card, 0x30, &again), 0x9000);
    assert_false(try_open(f->card, 0x30, &old, &h)); /* the old keys are gone */
    open_keys(f->card, &again, &h);
    /* a replace may change the KVN: 32 becomes 34 */
    assert_int_equal(put_key(f->card, 0x32, &moved), 0x9000);
    assert_int_equal(keyset_count(f->card), 3);
    assert_int_equal(SEND(f->card, 0x80, 0x50, 0x32, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00),
                     0x6A88);
    open_keys(f->card, &moved, &h);
}

static void put_key_refusals_change_nothing(void **state) {
    /* X6 */
    fixture *f = *state;
    keys old = test_keys(), fresh = new_keys(0x31, 16, 0x10), wide = new_keys(0x30, 32, 0x10);
    host_channel h;
    snapshot s;
    uint8_t data[256];
    size_t n;
    power_on(f->card);
    take(f->card, &s);
    /* no channel: the plain command reaches PUT KEY unsecured */
    n = put_key_data(&(host_channel){.k = &old}, &fresh, true, data);
    uint8_t plain[300] = {0x80, 0xD8, 0x00, 0x81, (uint8_t)n};
    memcpy(plain + 5, data, n);
    assert_int_equal(send(f->card, plain, 5 + n), 0x6982);
    assert_unchanged(f->card, &s);

    open_keys(f->card, &old, &h);
    take(f->card, &s);
    n = put_key_data(&h, &fresh, true, data);
    data[n - 1] ^= 1; /* DEK's KCV */
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x6982);
    assert_unchanged(f->card, &s);
    n = put_key_data(&h, &fresh, true, data);
    data[1 + 23 + 3 + 5] ^= 1; /* MAC key ciphertext: its KCV no longer matches */
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x6982);
    assert_unchanged(f->card, &s);
    assert_int_equal(put_key(f->card, 0x35, &fresh), 0x6A88); /* replace: unknown KVN */
    assert_unchanged(f->card, &s);
    assert_int_equal(put_key(f->card, 0x00, &(keys){.kvn = 0x30, .len = 16}), 0x6A80);
    assert_unchanged(f->card, &s);                           /* add: the KVN exists */
    assert_int_equal(put_key(f->card, 0x30, &wide), 0x6A80); /* replace: other length */
    assert_unchanged(f->card, &s);
    n = put_key_data(&h, &fresh, true, data);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n - 1), 0x6A80); /* truncated */
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, 1 + 23 + 23), 0x6A80); /* 2 keys */
    data[n] = 0x00;
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n + 1), 0x6A80); /* trailing */
    data[0] = 0x00;
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x6A80); /* KVN 00 */
    data[0] = 0x31;
    data[1] = 0x80; /* DES */
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, NULL, 0), 0x6700);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x01, data, n), 0x6A86); /* single key */
    /* a chain whose next command changes P2 is aborted (test_chain.c has more); the
       first block, a fragment of a chain protected as a whole, carries no C-MAC */
    uint8_t fragment[5 + 40] = {0x84, 0xD8, 0x80, 0x81, 40};
    memcpy(fragment + 5, data, 40);
    assert_int_equal(send(f->card, fragment, sizeof fragment), 0x9000);
    assert_int_equal(response_len, 2); /* an intermediate block: no data */
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x01, data, n), 0x6985);
    assert_unchanged(f->card, &s);
    /* mixed key lengths in one set */
    keys mixed = new_keys(0x31, 16, 0x10);
    n = 1 + key_block(&old, mixed.enc, 16, true, data + 1);
    data[0] = 0x31;
    n += key_block(&old, mixed.mac, 24, true, data + n);
    n += key_block(&old, mixed.dek, 16, true, data + n);
    assert_int_equal(gp(f->card, true, 0xD8, 0x00, 0x81, data, n), 0x6A80);
    assert_unchanged(f->card, &s);
    /* the channel survived every refusal: a good PUT KEY still works */
    assert_int_equal(put_key(f->card, 0x00, &fresh), 0x9000);
}

static void power_cut_at_every_write_of_put_key(void **state) {
    /* X4: after a cut, KVN 30 holds the old keys or the new, and SCP03 opens */
    fixture *f = *state;
    keys old = test_keys(), fresh = new_keys(0x30, 16, 0x70);
    host_channel h;
    power_on(f->card);
    open_keys(f->card, &old, &h);
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint64_t before = seam_nvm_write_points(nvm);
    assert_int_equal(put_key(f->card, 0x30, &fresh), 0x9000);
    uint64_t points = seam_nvm_write_points(nvm) - before;
    assert_true(points >= 2); /* the key set record and the commit */
    print_message("PUT KEY write points: %llu\n", (unsigned long long)points);
    const keys *current = &fresh;
    for (uint64_t p = 1; p <= points; p++) {
        const keys *next = current == &fresh ? &old : &fresh;
        open_keys(f->card, current, &h);
        assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, p),
                         SEAM_OK);
        cut_expected = true;
        assert_int_equal(put_key(f->card, 0x30, next), 0); /* cut */
        cut_expected = false;
        reopen(f);
        assert_int_equal(keyset_count(f->card), 1);
        if (!try_open(f->card, 0x30, current, &h))
            current = next; /* the cut came after the commit */
        open_keys(f->card, current, &h);
    }
}

/* The session's trace while a chain goes out: after its first block (answered 9000,
   no data) the card has written nothing yet (read behind the card: a GET DATA would
   end the chain). */
static seam_card *chain_card;
static int chain_blocks;

static void watch_chain(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    host_trace(ctx, point, bytes, len);
    if (point != SEAM_GP_TRACE_RESPONSE_WRAPPED || chain_blocks++ != 0)
        return;
    scp03_keyset sets[REGISTRY_KEYSETS_MAX];
    size_t count = 0;
    assert_int_equal(len, 2);
    assert_int_equal(registry_keysets_get(seam_card_nvm(chain_card), isd, sizeof isd, sets,
                                          REGISTRY_KEYSETS_MAX, &count),
                     SEAM_OK);
    assert_int_equal(count, 1);
}

static void put_key_arrives_in_a_gp_chain(void **state) {
    /* X1: the card reassembles P1.b8 blocks, one C-MAC over the whole command */
    fixture *f = *state;
    keys old = test_keys(), fresh = new_keys(0x31, 16, 0x10);
    host_channel h;
    power_on(f->card);
    open_keys(f->card, &old, &h);
    /* 70 bytes + the C-MAC in blocks of 28: three blocks */
    chain_card = f->card;
    chain_blocks = 0;
    seam_gp_set_trace(session(f->card), watch_chain, NULL);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 28), SEAM_OK);
    assert_int_equal(put_key(f->card, 0x00, &fresh), 0x9000);
    assert_int_equal(seam_gp_set_chain_size(session(f->card), 0), SEAM_OK);
    seam_gp_set_trace(session(f->card), host_trace, NULL);
    assert_int_equal(chain_blocks, 3);
    assert_int_equal(response_len, 1 + 9 + 2);
    assert_int_equal(response[0], 0x31);
    assert_int_equal(keyset_count(f->card), 2);
    open_keys(f->card, &fresh, &h);
}

/* ---- SET STATUS ------------------------------------------------------------------- */

static void set_status_moves_the_card_lifecycle(void **state) {
    /* X1, X6 */
    fixture *f = *state;
    keys k = test_keys();
    host_channel h;
    snapshot s;
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x80, 0xF0, 0x80, 0x7F), 0x6982); /* no channel */
    open_keys(f->card, &k, &h);
    take(f->card, &s);
    assert_int_equal(s.card_lifecycle, 0x0F);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x6985); /* same state */
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x07, NULL, 0), 0x6985); /* irreversible */
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x55, NULL, 0), 0x6A80); /* not a state */
    assert_int_equal(gp(f->card, true, 0xF0, 0x20, 0x7F, NULL, 0), 0x6A86);
    assert_unchanged(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x9000);
    take(f->card, &s);
    assert_int_equal(s.card_lifecycle, 0x7F);
    assert_int_equal(s.isd_lifecycle, 0x7F);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x07, NULL, 0), 0x6985);
    assert_unchanged(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x9000);
    reopen(f);
    take(f->card, &s);
    assert_int_equal(s.card_lifecycle, 0x0F);
    open_keys(f->card, &k, &h);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0xFF, NULL, 0), 0x9000);
    take(f->card, &s);
    assert_int_equal(s.card_lifecycle, 0xFF);
    /* final: in TERMINATED only GET DATA is answered (test_lifecycle.c) */
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x6A81);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x6A81);
    assert_unchanged(f->card, &s);
}

static void set_status_locks_and_unlocks_an_sd(void **state) {
    /* X1, X6 */
    fixture *f = *state;
    static const uint8_t ssd[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x01};
    static const uint8_t other[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x02};
    keys k = test_keys();
    host_channel h;
    snapshot s;
    power_on(f->card);
    add_sd(f->card, ssd, sizeof ssd, 0x0F);
    open_keys(f->card, &k, &h);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, ssd, sizeof ssd), 0x9000);
    assert_int_equal(sd_lifecycle(f->card, ssd, sizeof ssd), 0x8F);
    take(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, ssd, sizeof ssd), 0x6985);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, other, sizeof other), 0x6A88);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, ssd, 3), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x80, isd, sizeof isd), 0x6A80);
    assert_int_equal(sd_lifecycle(f->card, ssd, sizeof ssd), 0x8F);
    assert_unchanged(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x00, ssd, sizeof ssd), 0x9000);
    assert_int_equal(sd_lifecycle(f->card, ssd, sizeof ssd), 0x0F);
    assert_int_equal(gp(f->card, true, 0xF0, 0x40, 0x00, ssd, sizeof ssd), 0x6985);
    assert_int_equal(sd_lifecycle(f->card, ssd, sizeof ssd), 0x0F);
    assert_int_equal(
        SEND(f->card, 0x80, 0xF0, 0x40, 0x80, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x01),
        0x6982); /* the plain command ended the channel */
    assert_int_equal(sd_lifecycle(f->card, ssd, sizeof ssd), 0x0F);
}

/* ---- GET STATUS ------------------------------------------------------------------- */

static void get_status_lists_the_isd_and_sds(void **state) {
    /* X1, X6 */
    fixture *f = *state;
    static const uint8_t ssd1[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x01};
    static const uint8_t ssd2[] = {0xA0, 0x00, 0x00, 0x09, 0x99, 0x01};
    static const uint8_t all[] = {0x4F, 0x00};
    static const uint8_t gp_rid[] = {0x4F, 0x05, 0xA0, 0x00, 0x00, 0x01, 0x51};
    static const uint8_t none[] = {0x4F, 0x03, 0xB0, 0x00, 0x00};
    static const uint8_t with_list[] = {0x4F, 0x00, 0x5C, 0x03, 0x4F, 0x9F, 0x70};
    static const uint8_t bad[] = {0x5C, 0x00};
    keys k = test_keys();
    host_channel h;
    snapshot s;
    power_on(f->card);
    assert_int_equal(SEND(f->card, 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F, 0x00, 0x00), 0x6982);
    open_keys(f->card, &k, &h);
    assert_int_equal(gp(f->card, true, 0xF2, 0x80, 0x02, all, sizeof all), 0x9000);
    static const uint8_t isd_tlv[] = {0xE3, 0x13, 0x4F, 0x08, 0xA0, 0x00, 0x00,
                                      0x01, 0x51, 0x00, 0x00, 0x00, 0x9F, 0x70,
                                      0x01, 0x0F, 0xC5, 0x03, 0x9E, 0xFE, 0x80};
    assert_int_equal(response_len, sizeof isd_tlv + 2);
    assert_memory_equal(response, isd_tlv, sizeof isd_tlv);
    assert_int_equal(gp(f->card, true, 0xF2, 0x80, 0x00, all, sizeof all), 0x9000);
    static const uint8_t isd_legacy[] = {0x08, 0xA0, 0x00, 0x00, 0x01, 0x51,
                                         0x00, 0x00, 0x00, 0x0F, 0x9E};
    assert_int_equal(response_len, sizeof isd_legacy + 2);
    assert_memory_equal(response, isd_legacy, sizeof isd_legacy);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x6A88); /* no SSD */

    add_sd(f->card, ssd1, sizeof ssd1, 0x0F);
    add_sd(f->card, ssd2, sizeof ssd2, 0x87);
    open_keys(f->card, &k, &h);
    take(f->card, &s);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, sizeof all), 0x9000);
    /* + C4 the SD package (no CC: these records name no associated SD) */
    assert_int_equal(response_len, (2 + 19 + 9) + (2 + 17 + 9) + 2);
    assert_int_equal(response[0], 0xE3);
    assert_int_equal(response[30], 0xE3);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, gp_rid, sizeof gp_rid), 0x9000);
    assert_int_equal(response_len, 2 + 19 + 9 + 2);
    assert_memory_equal(response + 4, ssd1, sizeof ssd1);
    assert_int_equal(response[4 + 8 + 3], 0x0F);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x00, all, sizeof all), 0x9000);
    assert_int_equal(response_len, (1 + 8 + 2) + (1 + 6 + 2) + 2);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, with_list, sizeof with_list), 0x9000);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, none, sizeof none), 0x6A88);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, bad, sizeof bad), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, all, 1), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x02, NULL, 0), 0x6A80);
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x03, all, sizeof all), 0x6985); /* no 6310 */
    assert_int_equal(gp(f->card, true, 0xF2, 0x20, 0x02, all, sizeof all), 0x6A88); /* no ELF */
    assert_int_equal(gp(f->card, true, 0xF2, 0x20, 0x00, all, sizeof all), 0x6A86); /* legacy */
    assert_int_equal(gp(f->card, true, 0xF2, 0x40, 0x06, all, sizeof all), 0x6A86);
    assert_unchanged(f->card, &s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_key_adds_a_key_set_that_opens_scp03, setup, teardown),
        cmocka_unit_test_setup_teardown(put_key_takes_192_and_256_bit_keys_and_replaces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(put_key_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(power_cut_at_every_write_of_put_key, setup, teardown),
        cmocka_unit_test_setup_teardown(put_key_arrives_in_a_gp_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(set_status_moves_the_card_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(set_status_locks_and_unlocks_an_sd, setup, teardown),
        cmocka_unit_test_setup_teardown(get_status_lists_the_isd_and_sds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
