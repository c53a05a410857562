/*
 * The card side of SCP03 (src/card/scp03.c) against recorded sessions and a
 * host built from the crypto layer. Requirement X1: an SCP03 secure channel
 * between each SD's owner and its SD.
 *
 * Vector provenance: the sessions below are those of tests/crypto/test_scp03.c
 * (docs/crypto.md), recorded by the kaoh/globalplatform C library's
 * scp03Test.c; the first is gp_facts.md §3.9. Here the card must produce the
 * recorded INITIALIZE UPDATE response from the same counter and challenge,
 * accept the recorded EXTERNAL AUTHENTICATE, unwrap each recorded command to
 * its plain form and, at level 33, wrap each plain response to the recorded
 * bytes.
 */
#include "crypto/hex.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "card/sm/scp03.h"
#include "seam/crypto.h"
#include "seam/util.h"

#include "scp03_vectors.h"

#define MAX_APDU 300
#define SW_OK    0x9000

#define N_VECTORS (sizeof vectors / sizeof vectors[0])
/* indices into vectors (tests/scp03_vectors.h) */
enum { V_DELETE, V_MUTUAL_AUTH, V_GET_STATUS, V_AES192, V_LEVEL33 };

/* A card holding one vector's key set, and the bytes of its exchange. */
typedef struct {
    scp03_session s;
    scp03_keyset keyset;
    scp03_sd sd;
    uint8_t aid[16];
    uint32_t seq; /* the counter as stored before INITIALIZE UPDATE */
    uint8_t host_challenge[8];
    uint8_t init_update[32];
    uint8_t ext_auth[21];
    bool derived; /* the challenge derives from sd.aid */
} card;

static void load_card(const session_vector *v, card *c) {
    memset(c, 0, sizeof *c);
    print_message("  session: %s\n", v->name);
    c->keyset.key_len = hex(v->key_enc, c->keyset.enc, sizeof c->keyset.enc);
    assert_int_equal(hex(v->key_mac, c->keyset.mac, 32), c->keyset.key_len);
    memset(c->keyset.dek, 0xD5, c->keyset.key_len);
    assert_int_equal(hex(v->host_challenge, c->host_challenge, 8), 8);
    assert_int_equal(hex(v->init_update, c->init_update, 32), 32);
    assert_int_equal(hex(v->external_authenticate, c->ext_auth, 21), 21);
    c->keyset.kvn = c->init_update[10];
    memcpy(c->sd.diversification, c->init_update, 10);
    c->sd.i = c->init_update[12];
    c->sd.keysets = &c->keyset;
    c->sd.n_keysets = 1;
    c->seq = (seam_get_be32(c->init_update + 28) & SCP03_SEQ_MAX) - 1;
    c->derived = v->sd_aid != NULL;
    c->sd.aid = c->aid;
    c->sd.aid_len = hex(v->sd_aid ? v->sd_aid : "A000000151000000", c->aid, sizeof c->aid);
}

/* Sends INITIALIZE UPDATE (80 50 p1 00 08 host-challenge 00) and returns the
 * status word; the response goes to out (32 bytes). */
static uint16_t send_init_update(card *c, uint8_t p1, uint8_t *out, size_t *out_len) {
    uint8_t apdu[14] = {0x80, 0x50, p1, 0x00, 0x08};
    uint32_t new_seq = 0xDEAD;
    uint16_t sw = 0;

    memcpy(apdu + 5, c->host_challenge, 8);
    if (c->derived)
        assert_int_equal(scp03_initialize_update(&c->s, &c->sd, c->seq, &new_seq, apdu, sizeof apdu,
                                                 out, 32, out_len, &sw),
                         SEAM_OK);
    else
        assert_int_equal(scp03_initialize_update_with_challenge(&c->s, &c->sd, c->seq, &new_seq,
                                                                c->init_update + 13, apdu,
                                                                sizeof apdu, out, 32, out_len, &sw),
                         SEAM_OK);
    /* The counter is consumed by pseudo-random challenges that are sent. */
    assert_int_equal(new_seq, c->seq + (sw == SW_OK && (c->sd.i & SCP03_I_PSEUDO_RANDOM)));
    return sw;
}

static void init_update_ok(card *c) {
    uint8_t out[32];
    size_t out_len = 0;

    assert_int_equal(send_init_update(c, 0x00, out, &out_len), SW_OK);
    assert_int_equal(out_len, 32);
    assert_memory_equal(out, c->init_update, 32);
    assert_int_equal(scp03_session_state(&c->s), SCP03_INITIALIZED);
}

static uint16_t ext_auth(card *c, const uint8_t *apdu, size_t len) {
    uint16_t sw = 0;

    assert_int_equal(scp03_external_authenticate(&c->s, apdu, len, &sw), SEAM_OK);
    return sw;
}

/* Answers the recorded INITIALIZE UPDATE and EXTERNAL AUTHENTICATE. */
static void authenticate_recorded(card *c) {
    init_update_ok(c);
    assert_int_equal(ext_auth(c, c->ext_auth, sizeof c->ext_auth), SW_OK);
    assert_int_equal(scp03_session_state(&c->s), SCP03_AUTHENTICATED);
    assert_int_equal(scp03_security_level(&c->s), c->ext_auth[2]);
}

static uint16_t unwrap(card *c, const uint8_t *apdu, size_t len, uint8_t *out, size_t *out_len) {
    uint16_t sw = 0;

    assert_int_equal(scp03_unwrap_command(&c->s, apdu, len, out, MAX_APDU, out_len, &sw), SEAM_OK);
    return sw;
}

static void assert_session_gone(const card *c) {
    const uint8_t *bytes = (const uint8_t *)&c->s;

    assert_int_equal(scp03_session_state(&c->s), SCP03_NO_SESSION);
    for (size_t k = 0; k < sizeof c->s; k++)
        assert_int_equal(bytes[k], 0); /* keys, chain and counter wiped */
}

/* Sends one recorded command of vector v and checks it unwraps to its plain form. */
static void unwrap_recorded(card *c, const command_vector *cv) {
    uint8_t apdu[MAX_APDU], plain[MAX_APDU], out[MAX_APDU];
    size_t apdu_len = hex(cv->wrapped, apdu, sizeof apdu);
    size_t plain_len = hex(cv->plain, plain, sizeof plain), out_len = 0;

    assert_int_equal(unwrap(c, apdu, apdu_len, out, &out_len), SW_OK);
    assert_int_equal(out_len, plain_len);
    assert_memory_equal(out, plain, plain_len);
}

/* ------------------------------------------------------------------ */
/* A host made of the crypto layer, for levels the recordings lack     */

typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
    uint32_t counter;
    uint8_t level;
} host;

/* Opens the host side from the card's INITIALIZE UPDATE response. */
static void host_open(host *h, const card *c, const uint8_t *response) {
    memset(h, 0, sizeof *h);
    assert_int_equal(seam_crypto_scp03_derive_session(&h->keys, c->keyset.enc, c->keyset.mac,
                                                      c->keyset.key_len, c->host_challenge,
                                                      response + 13, 8),
                     SEAM_OK);
    assert_int_equal(seam_crypto_scp03_verify_card_cryptogram(&h->keys, response + 21, 8), SEAM_OK);
}

/* Builds EXTERNAL AUTHENTICATE at level into apdu (21 bytes). */
static void host_ext_auth(host *h, uint8_t level, uint8_t *apdu) {
    uint8_t header[5] = {0x84, 0x82, level, 0x00, 0x10};

    memcpy(apdu, header, 5);
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&h->keys, apdu + 5), SEAM_OK);
    memset(h->chain, 0, 16);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, apdu, 5, apdu + 5, 8, apdu + 13),
        SEAM_OK);
    h->level = level;
    h->counter = 0;
}

/* CLA' of the C-MAC as gp_facts §3.6 states it: logical channel cleared. */
static uint8_t host_mac_cla(uint8_t cla) {
    return (cla & 0x40) ? (uint8_t)(cla & 0xF0) : (uint8_t)(cla & 0xFC);
}

/* Writes the plain APDU CLA INS P1 P2 [Lc data] [Le] (le < 0: none). */
static size_t plain_apdu(const uint8_t header[4], const uint8_t *data, size_t len, int le,
                         uint8_t *out) {
    size_t n = 4;

    memcpy(out, header, 4);
    if (len > 0) {
        out[n++] = (uint8_t)len;
        memcpy(out + n, data, len);
        n += len;
    }
    if (le >= 0)
        out[n++] = (uint8_t)le;
    return n;
}

/* Sends a command from the host at its level: header[0] is the CLA with its
 * secure messaging bit, which level 00 clears. Returns the APDU length. */
static size_t host_wrap(host *h, const uint8_t header[4], const uint8_t *data, size_t len, int le,
                        uint8_t *out) {
    uint8_t mac_header[5] = {host_mac_cla(header[0]), header[1], header[2], header[3], 0};
    size_t body = len;

    h->counter++;
    if (h->level == 0x00) {
        memcpy(mac_header, header, 4);
        mac_header[0] &= (header[0] & 0x40) ? 0xDF : 0xF3;
        return plain_apdu(mac_header, data, len, le, out);
    }
    memcpy(out, header, 4);
    if ((h->level & SCP03_LEVEL_C_DEC) && len > 0)
        assert_int_equal(seam_crypto_scp03_encrypt_command(&h->keys, h->counter, data, len, out + 5,
                                                           MAX_APDU - 14, &body),
                         SEAM_OK);
    else if (len > 0)
        memcpy(out + 5, data, len);
    out[4] = mac_header[4] = (uint8_t)(body + 8);
    assert_int_equal(seam_crypto_scp03_command_mac(&h->keys, h->chain, mac_header, 5, out + 5, body,
                                                   out + 5 + body),
                     SEAM_OK);
    if (le >= 0)
        out[5 + body + 8] = (uint8_t)le;
    return 5 + body + 8 + (le >= 0 ? 1 : 0);
}

/* Loads vector v into the card, answers INITIALIZE UPDATE, opens the host
 * on the answer and sends a fresh EXTERNAL AUTHENTICATE at level; returns
 * its status word. */
static uint16_t open_with_host(card *c, host *h, const session_vector *v, uint8_t level) {
    uint8_t init[32], apdu[21];
    size_t init_len = 0;

    load_card(v, c);
    assert_int_equal(send_init_update(c, 0, init, &init_len), SW_OK);
    host_open(h, c, init);
    host_ext_auth(h, level, apdu);
    return ext_auth(c, apdu, sizeof apdu);
}

/* ------------------------------------------------------------------ */
/* Recorded sessions                                                   */

/* X1: each recorded session replayed from the card side, end to end. */
static void scp03_card_replays_recorded_sessions(void **state) {
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        card c;
        const session_vector *v = &vectors[i];

        load_card(v, &c);
        authenticate_recorded(&c);
        for (size_t k = 0; k < 4 && v->commands[k].plain != NULL; k++) {
            const command_vector *cv = &v->commands[k];
            uint8_t plain[MAX_APDU], expected[MAX_APDU], out[MAX_APDU];
            size_t plain_len, expected_len, out_len = 0;

            unwrap_recorded(&c, cv);
            if (cv->response_plain == NULL)
                continue; /* level 03: responses pass unchanged (every_security_level) */
            plain_len = hex(cv->response_plain, plain, sizeof plain);
            expected_len = hex(cv->response_wrapped, expected, sizeof expected);
            assert_int_equal(
                scp03_wrap_response(&c.s, plain, plain_len, SW_OK, out, sizeof out, &out_len),
                SEAM_OK);
            assert_int_equal(out_len, expected_len);
            assert_memory_equal(out, expected, expected_len);
        }
        /* SELECT, channel close or reset: everything wiped, nothing protected passes. */
        scp03_end_session(&c.s);
        assert_session_gone(&c);
        assert_int_equal(scp03_security_level(&c.s), 0);
        if (v->commands[1].plain != NULL) {
            uint8_t apdu[MAX_APDU], out[MAX_APDU];
            size_t apdu_len = hex(v->commands[1].wrapped, apdu, sizeof apdu), out_len = 0;
            assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
        }
    }
    scp03_end_session(NULL);
}

/* X1: with P1 naming the key set's version the answer is the same as with
 * P1 = 00 (the first key set); a second key set is found by its version. */
static void scp03_init_update_selects_key_set_by_version(void **state) {
    card c;
    scp03_keyset two[2];
    uint8_t out[32];
    size_t out_len = 0;
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    assert_int_equal(send_init_update(&c, 0x30, out, &out_len), SW_OK);
    assert_memory_equal(out, c.init_update, 32);

    two[0] = c.keyset;
    two[0].kvn = 0x20;
    memset(two[0].enc, 0x11, 16);
    two[1] = c.keyset;
    c.sd.keysets = two;
    c.sd.n_keysets = 2;
    assert_int_equal(send_init_update(&c, 0x30, out, &out_len), SW_OK);
    assert_memory_equal(out, c.init_update, 32);
    assert_int_equal(ext_auth(&c, c.ext_auth, sizeof c.ext_auth), SW_OK);
    assert_int_equal(send_init_update(&c, 0x00, out, &out_len), SW_OK);
    assert_int_equal(out[10], 0x20); /* the first key set answers P1 = 00 */
    scp03_end_session(&c.s);
}

/* ------------------------------------------------------------------ */
/* Every level, against the crypto-layer host                          */

/* X1: levels 00 01 03 11 13 33 open and protect what they say, including a
 * command without data (counted but not encrypted), an R-MAC'd 63xx and an
 * unprotected error status. */
static void scp03_every_security_level_round_trips(void **state) {
    static const uint8_t levels[] = {0x00, 0x01, 0x03, 0x11, 0x13, 0x33};
    static const uint8_t header[4] = {0x84, 0xF2, 0x40, 0x00}, plain_header[4] = {0x80, 0xF2, 0x40};
    static const uint8_t data[] = {0x4F, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    static const uint8_t response[20] = {0xE3, 0x12, 0x4F, 0x07};
    /* Data and Le, then no data (case 2: counted, not encrypted), then no
     * Le and a 6310 (protected), an error status (never protected) and an
     * empty response (R-MAC only, even at R-ENC). */
    static const struct {
        size_t len, resp_len;
        int le;
        uint16_t sw;
    } rounds[] = {{10, 20, 0, SW_OK},
                  {0, 20, 0, SW_OK},
                  {10, 20, -1, 0x6310},
                  {10, 0, 0, 0x6A88},
                  {10, 0, 0, SW_OK}};
    (void)state;

    for (size_t l = 0; l < sizeof levels; l++) {
        card c;
        host h;
        uint8_t level = levels[l];

        print_message("  level %02X\n", level);
        assert_int_equal(open_with_host(&c, &h, &vectors[V_DELETE], level), SW_OK);
        assert_int_equal(scp03_security_level(&c.s), level);
        for (size_t r = 0; r < sizeof rounds / sizeof rounds[0]; r++) {
            uint8_t apdu[MAX_APDU], out[MAX_APDU], expected[MAX_APDU], resp[MAX_APDU];
            size_t out_len = 0, resp_len = 0, plain_len = 0, n = rounds[r].resp_len, body = n;
            size_t apdu_len = host_wrap(&h, header, data, rounds[r].len, rounds[r].le, apdu);
            size_t expected_len =
                plain_apdu(plain_header, data, rounds[r].len, rounds[r].le, expected);
            bool rmac = (level & SCP03_LEVEL_R_MAC) && rounds[r].sw != 0x6A88;
            bool renc = rmac && (level & SCP03_LEVEL_R_ENC) && n > 0;

            assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), SW_OK);
            assert_int_equal(out_len, expected_len);
            assert_memory_equal(out, expected, expected_len);
            assert_int_equal(scp03_wrap_response(&c.s, n ? response : NULL, n, rounds[r].sw, resp,
                                                 sizeof resp, &resp_len),
                             SEAM_OK);
            if (renc)
                body = seam_crypto_iso9797_padded_len(n);
            assert_int_equal(resp_len, body + (rmac ? 8 : 0));
            if (rmac)
                assert_int_equal(seam_crypto_scp03_verify_response_mac(
                                     &h.keys, h.chain, resp, body, rounds[r].sw, resp + body, 8),
                                 SEAM_OK);
            if (renc)
                assert_int_equal(seam_crypto_scp03_decrypt_response(&h.keys, h.counter, resp, body,
                                                                    resp, &plain_len),
                                 SEAM_OK);
            if (renc)
                assert_int_equal(plain_len, n);
            if (n > 0)
                assert_memory_equal(resp, response, n);
        }
        assert_int_equal(scp03_session_state(&c.s), SCP03_AUTHENTICATED);
        scp03_end_session(&c.s);
        seam_crypto_scp03_session_wipe(&h.keys);
    }
}

/* X1: logical channels: the C-MAC covers CLA with the channel cleared and the
 * plain command keeps its channel without the SM bit, for channel 1 (CLA 85)
 * and channel 5 in the further interindustry coding (CLA E1). */
static void scp03_logical_channels_keep_their_class(void **state) {
    static const uint8_t headers[2][4] = {{0x85, 0xF2, 0x40, 0x02}, {0xE1, 0xF2, 0x40, 0x02}};
    static const uint8_t plain[2][4] = {{0x81, 0xF2, 0x40, 0x02}, {0xC1, 0xF2, 0x40, 0x02}};
    static const uint8_t data[] = {0x4F, 0x00};
    (void)state;

    for (size_t k = 0; k < 2; k++) {
        card c;
        host h;
        uint8_t apdu[MAX_APDU], out[MAX_APDU], expected[MAX_APDU];
        size_t apdu_len, out_len = 0, expected_len = plain_apdu(plain[k], data, 2, -1, expected);

        assert_int_equal(open_with_host(&c, &h, &vectors[V_DELETE], 0x03), SW_OK);
        apdu_len = host_wrap(&h, headers[k], data, sizeof data, -1, apdu);
        assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), SW_OK);
        assert_int_equal(out_len, expected_len);
        assert_memory_equal(out, expected, expected_len);
        scp03_end_session(&c.s);
        seam_crypto_scp03_session_wipe(&h.keys);
    }
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */

/* X1: EXTERNAL AUTHENTICATE refused ends the session: a wrong host
 * cryptogram is 6300; a good one under a bad C-MAC, or without the secure
 * messaging bit, is 6982; with no INITIALIZE UPDATE before it, 6985. The
 * next INITIALIZE UPDATE works and the recorded session then goes through. */
static void scp03_bad_external_authenticate_ends_session(void **state) {
    static const struct {
        size_t at;
        uint8_t xor ;
        uint16_t sw;
    } faults[] = {{5, 0x01, 0x6300}, {12, 0x80, 0x6300}, {20, 0x80, 0x6982}, {0, 0x04, 0x6982}};
    card c;
    uint8_t bad[21];
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++) {
        init_update_ok(&c);
        memcpy(bad, c.ext_auth, sizeof bad);
        bad[faults[f].at] ^= faults[f].xor ;
        assert_int_equal(ext_auth(&c, bad, sizeof bad), faults[f].sw);
        assert_session_gone(&c);
        /* The genuine EXTERNAL AUTHENTICATE has nothing left to authenticate to. */
        assert_int_equal(ext_auth(&c, c.ext_auth, sizeof c.ext_auth), 0x6985);
    }
    authenticate_recorded(&c);
    unwrap_recorded(&c, &vectors[V_DELETE].commands[0]);
    scp03_end_session(&c.s);
}

/* X1: a protected command with a bad C-MAC (or bad encrypted data, which the
 * MAC covers) is 6982 and ends the session; the genuine command then finds
 * no session. */
static void scp03_bad_command_mac_answers_6982(void **state) {
    const command_vector *cv = &vectors[V_GET_STATUS].commands[0];
    const size_t flips[] = {3, 10, 28}; /* header, encrypted data, C-MAC */
    (void)state;

    for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
        card c;
        uint8_t apdu[MAX_APDU], out[MAX_APDU];
        size_t apdu_len, out_len = 99;

        load_card(&vectors[V_GET_STATUS], &c);
        authenticate_recorded(&c);
        apdu_len = hex(cv->wrapped, apdu, sizeof apdu);
        apdu[flips[f]] ^= 0x01;
        assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
        assert_int_equal(out_len, 0);
        assert_session_gone(&c);
        apdu[flips[f]] ^= 0x01;
        assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
    }
}

/* X1: a replayed command, and a command sent out of order, meet a chaining
 * value they were not MACed with: 6982 and the session ends. */
static void scp03_replayed_or_reordered_command_fails(void **state) {
    const session_vector *v = &vectors[V_GET_STATUS];
    card c;
    uint8_t apdu[MAX_APDU], out[MAX_APDU];
    size_t apdu_len, out_len = 0;
    (void)state;

    load_card(v, &c);
    authenticate_recorded(&c);
    unwrap_recorded(&c, &v->commands[0]);
    apdu_len = hex(v->commands[0].wrapped, apdu, sizeof apdu);
    assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982); /* replay */
    assert_session_gone(&c);

    authenticate_recorded(&c);
    apdu_len = hex(v->commands[1].wrapped, apdu, sizeof apdu);
    assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982); /* skips one */
    assert_session_gone(&c);

    /* Replaying the whole session in order after a fresh INITIALIZE UPDATE
     * with the same counter works: the card challenge is the same. */
    authenticate_recorded(&c);
    for (size_t k = 0; k < 4; k++)
        unwrap_recorded(&c, &v->commands[k]);
    scp03_end_session(&c.s);
}

/* X1: INITIALIZE UPDATE naming a key version the SD does not hold is 6A88;
 * with the sequence counter at FFFFFF it is 6985. Neither consumes the
 * counter, and each ends the session open before it. FFFFFE gives FFFFFF. */
static void scp03_init_update_refusals_consume_nothing(void **state) {
    static const uint8_t max_seq[3] = {0xFF, 0xFF, 0xFF};
    card c;
    uint8_t out[32];
    size_t out_len = 99;
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    init_update_ok(&c);
    assert_int_equal(send_init_update(&c, 0x31, out, &out_len), 0x6A88);
    assert_int_equal(out_len, 0);
    assert_session_gone(&c);
    c.sd.n_keysets = 0;
    assert_int_equal(send_init_update(&c, 0x00, out, &out_len), 0x6A88);
    c.sd.n_keysets = 1;
    init_update_ok(&c);
    c.seq = SCP03_SEQ_MAX;
    assert_int_equal(send_init_update(&c, 0, out, &out_len), 0x6985);
    assert_session_gone(&c);
    c.seq = SCP03_SEQ_MAX - 1;
    assert_int_equal(send_init_update(&c, 0, out, &out_len), SW_OK);
    assert_memory_equal(out + 29, max_seq, 3);
    scp03_end_session(&c.s);
}

/* X1: a level outside 00 01 03 11 13 33, or one needing R-MAC from an SD
 * whose i offers none (vector 3 has i = 10), is 6A86 and ends the session;
 * so is P2 other than 00. */
static void scp03_unsupported_security_level_answers_6a86(void **state) {
    static const uint8_t bad_levels[] = {0x02, 0x10, 0x12, 0x20, 0x23, 0x30, 0x31, 0x07, 0xFF};
    static const uint8_t rmac_levels[] = {0x11, 0x13, 0x33};
    card c;
    host h;
    uint8_t apdu[21];
    (void)state;

    for (size_t k = 0; k < sizeof bad_levels; k++) {
        assert_int_equal(open_with_host(&c, &h, &vectors[V_DELETE], bad_levels[k]), 0x6A86);
        assert_session_gone(&c);
    }
    for (size_t k = 0; k < sizeof rmac_levels; k++) {
        assert_int_equal(open_with_host(&c, &h, &vectors[V_AES192], rmac_levels[k]), 0x6A86);
        assert_int_equal(c.sd.i, 0x10);
        assert_session_gone(&c);
    }
    init_update_ok(&c);
    memcpy(apdu, c.ext_auth, 21);
    apdu[3] = 0x01;
    assert_int_equal(ext_auth(&c, apdu, 21), 0x6A86);
    assert_session_gone(&c);
    seam_crypto_scp03_session_wipe(&h.keys);
}

/* X1: wrong lengths are 6700: INITIALIZE UPDATE with Lc 7 or 9, without
 * data or as an extended APDU; EXTERNAL AUTHENTICATE with Lc 15 or 17; a
 * protected command shorter than its C-MAC; a truncated APDU. */
static void scp03_wrong_lengths_answer_6700(void **state) {
    static const char *const bad_iu[] = {
        "8050000007 B2BDE1A2DC66BD",     "8050000009 B2BDE1A2DC66BD5600", "8050000000", "80500000",
        "805000000008 B2BDE1A2DC66BD56", "8050000008 B2BDE1A2DC66BD",
    };
    static const uint8_t short_mac[] = {0x84, 0xE4, 0x00, 0x80, 0x07, 1, 2, 3, 4, 5, 6, 7};
    card c;
    uint8_t apdu[MAX_APDU], out[MAX_APDU];
    size_t out_len = 0;
    uint32_t new_seq = 0;
    uint16_t sw = 0;
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    for (size_t k = 0; k < sizeof bad_iu / sizeof bad_iu[0]; k++) {
        size_t len = hex(bad_iu[k], apdu, sizeof apdu);
        assert_int_equal(scp03_initialize_update(&c.s, &c.sd, c.seq, &new_seq, apdu, len, out, 32,
                                                 &out_len, &sw),
                         SEAM_OK);
        assert_int_equal(sw, 0x6700);
        assert_int_equal(new_seq, c.seq);
        assert_session_gone(&c);
    }

    for (size_t lc = 15; lc <= 17; lc += 2) {
        init_update_ok(&c);
        memset(apdu, 0, sizeof apdu);
        memcpy(apdu, c.ext_auth, 21);
        apdu[4] = (uint8_t)lc;
        assert_int_equal(ext_auth(&c, apdu, 5 + lc), 0x6700);
        assert_session_gone(&c);
    }
    init_update_ok(&c);
    assert_int_equal(ext_auth(&c, c.ext_auth, 20), 0x6700); /* Lc says 16, 15 follow */

    authenticate_recorded(&c);
    assert_int_equal(unwrap(&c, short_mac, sizeof short_mac, out, &out_len), 0x6700);
    assert_session_gone(&c);
    authenticate_recorded(&c);
    assert_int_equal(unwrap(&c, short_mac, 3, out, &out_len), 0x6700);
    assert_session_gone(&c);
}

/* X1: outside a session clear commands pass unchanged and protected ones
 * are 6982; between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE every other
 * command is 6982 and ends the session; once a level with C-MAC is open a
 * clear command is 6982 and ends it; ISO secure messaging codings are 6882. */
static void scp03_secure_messaging_is_required_exactly_when_open(void **state) {
    static const uint8_t clear[] = {0x80, 0xF2, 0x40, 0x00, 0x02, 0x4F, 0x00, 0x00};
    static const uint8_t iso_sm[] = {0x0C, 0xA4, 0x04, 0x00, 0x00};
    card c;
    uint8_t apdu[MAX_APDU], out[MAX_APDU];
    size_t apdu_len, out_len = 0;
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    assert_int_equal(unwrap(&c, clear, sizeof clear, out, &out_len), SW_OK);
    assert_int_equal(out_len, sizeof clear);
    assert_memory_equal(out, clear, sizeof clear);
    assert_int_equal(scp03_wrap_response(&c.s, clear, 3, SW_OK, out, 3, &out_len), SEAM_OK);
    assert_int_equal(out_len, 3); /* no session: no R-MAC */
    apdu_len = hex(vectors[V_DELETE].commands[0].wrapped, apdu, sizeof apdu);
    assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
    assert_int_equal(unwrap(&c, iso_sm, sizeof iso_sm, out, &out_len), 0x6882);

    for (int protected_cmd = 0; protected_cmd < 2; protected_cmd++) {
        init_update_ok(&c); /* command before EXTERNAL AUTHENTICATE */
        if (protected_cmd)
            assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
        else
            assert_int_equal(unwrap(&c, clear, sizeof clear, out, &out_len), 0x6982);
        assert_session_gone(&c);
        assert_int_equal(ext_auth(&c, c.ext_auth, sizeof c.ext_auth), 0x6985);
    }
    authenticate_recorded(&c);
    assert_int_equal(unwrap(&c, clear, sizeof clear, out, &out_len), 0x6982);
    assert_session_gone(&c);
}

/* X1: a good C-MAC over data that does not decrypt to method-2 padding (or
 * is not whole blocks) is 6982 and ends the session. */
static void scp03_bad_padding_under_good_mac_answers_6982(void **state) {
    static const uint8_t header[4] = {0x84, 0xE4, 0x00, 0x80};
    (void)state;

    for (size_t data_len = 15; data_len <= 16; data_len++) {
        card c;
        host h;
        uint8_t apdu[MAX_APDU], out[MAX_APDU], block[16], icv[16], one[16] = {[15] = 1};
        size_t apdu_len, out_len = 0;

        assert_int_equal(open_with_host(&c, &h, &vectors[V_DELETE], 0x03), SW_OK);
        /* 16 bytes of 11 encrypted under counter 1's ICV: no 80 marker. */
        memset(block, 0x11, sizeof block);
        assert_int_equal(seam_crypto_aes_ecb_encrypt(h.keys.s_enc, 16, one, icv), SEAM_OK);
        assert_int_equal(seam_crypto_aes_cbc_encrypt(h.keys.s_enc, 16, icv, block, 16, block),
                         SEAM_OK);
        h.level = 0x01; /* MAC the ciphertext as it is */
        apdu_len = host_wrap(&h, header, block, data_len, -1, apdu);
        assert_int_equal(unwrap(&c, apdu, apdu_len, out, &out_len), 0x6982);
        assert_session_gone(&c);
        seam_crypto_scp03_session_wipe(&h.keys);
    }
}

/* X1: random card challenges (i without b5): a 29-byte answer, the counter
 * untouched, a challenge from seam_crypto_random, and the host can open the
 * channel on it. */
static void scp03_random_challenge_mode(void **state) {
    static const uint8_t seed[] = {0x5E, 0xA3};
    card c;
    host h;
    uint8_t first[32], second[32], apdu[21];
    size_t len1 = 0, len2 = 0;
    (void)state;

    load_card(&vectors[V_DELETE], &c);
    c.sd.i = 0x60;
    assert_int_equal(seam_crypto_random_set_test_seed(seed, sizeof seed), SEAM_OK);
    assert_int_equal(send_init_update(&c, 0, first, &len1), SW_OK);
    assert_int_equal(len1, 29);
    assert_int_equal(first[12], 0x60);
    host_open(&h, &c, first);
    host_ext_auth(&h, 0x33, apdu);
    assert_int_equal(ext_auth(&c, apdu, 21), SW_OK);
    assert_int_equal(send_init_update(&c, 0, second, &len2), SW_OK);
    assert_int_equal(len2, 29);
    assert_memory_not_equal(first + 13, second + 13, 8); /* a fresh challenge */
    assert_int_equal(seam_crypto_random_set_test_seed(NULL, 0), SEAM_OK);
    scp03_end_session(&c.s);
    seam_crypto_scp03_session_wipe(&h.keys);
}

/* Caller mistakes (NULL, small buffers) are seam_err values that change
 * neither the session nor the counter. */
static void scp03_caller_mistakes_change_nothing(void **state) {
    card c;
    scp03_session before;
    uint8_t apdu[MAX_APDU], out[MAX_APDU];
    size_t apdu_len, out_len = 0;
    uint32_t new_seq = 0;
    uint16_t sw = 0;
    (void)state;

    load_card(&vectors[V_LEVEL33], &c);
    authenticate_recorded(&c);
    before = c.s;
    apdu_len = hex(vectors[V_LEVEL33].commands[0].wrapped, apdu, sizeof apdu);
    assert_int_equal(scp03_unwrap_command(&c.s, apdu, apdu_len, out, apdu_len - 1, &out_len, &sw),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, apdu_len);
    assert_int_equal(scp03_unwrap_command(&c.s, NULL, 5, out, sizeof out, &out_len, &sw),
                     SEAM_ERR_ARG);
    assert_int_equal(scp03_external_authenticate(&c.s, c.ext_auth, 21, NULL), SEAM_ERR_ARG);
    assert_int_equal(
        scp03_initialize_update(&c.s, &c.sd, c.seq, &new_seq, apdu, 14, out, 31, &out_len, &sw),
        SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 32);
    assert_int_equal(scp03_initialize_update(&c.s, &c.sd, SCP03_SEQ_MAX + 1, &new_seq, apdu, 14,
                                             out, 32, &out_len, &sw),
                     SEAM_ERR_ARG);
    c.sd.aid_len = 4; /* too short for the pseudo-random challenge's context */
    assert_int_equal(
        scp03_initialize_update(&c.s, &c.sd, c.seq, &new_seq, apdu, 14, out, 32, &out_len, &sw),
        SEAM_ERR_ARG);
    assert_memory_equal(&c.s, &before, sizeof before);

    unwrap_recorded(&c, &vectors[V_LEVEL33].commands[0]);
    before = c.s;
    assert_int_equal(scp03_wrap_response(&c.s, out, 165, SW_OK, out + 165, 100, &out_len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 176 + 8);
    assert_memory_equal(&c.s, &before, sizeof before);
    assert_int_equal(scp03_wrap_response(&c.s, NULL, 3, SW_OK, out, 100, &out_len), SEAM_ERR_ARG);
    seam_secure_zero(&before, sizeof before);
    scp03_end_session(&c.s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scp03_card_replays_recorded_sessions),
        cmocka_unit_test(scp03_init_update_selects_key_set_by_version),
        cmocka_unit_test(scp03_every_security_level_round_trips),
        cmocka_unit_test(scp03_logical_channels_keep_their_class),
        cmocka_unit_test(scp03_bad_external_authenticate_ends_session),
        cmocka_unit_test(scp03_bad_command_mac_answers_6982),
        cmocka_unit_test(scp03_replayed_or_reordered_command_fails),
        cmocka_unit_test(scp03_init_update_refusals_consume_nothing),
        cmocka_unit_test(scp03_unsupported_security_level_answers_6a86),
        cmocka_unit_test(scp03_wrong_lengths_answer_6700),
        cmocka_unit_test(scp03_secure_messaging_is_required_exactly_when_open),
        cmocka_unit_test(scp03_bad_padding_under_good_mac_answers_6982),
        cmocka_unit_test(scp03_random_challenge_mode),
        cmocka_unit_test(scp03_caller_mistakes_change_nothing),
    };
    return cmocka_run_group_tests_name("card_scp03", tests, NULL, NULL);
}
