/*
 * Remote SCP03 sessions (seam_gp_remote) and plans against an in-process
 * card: a stand-in terminal reads each C-APDU of a command script with the
 * codec, transmits it on the host link as it is, and writes the R-APDUs into
 * a response script, as `seam terminal` does over HTTP (P2: the package
 * reaches the card relayed by the terminal, which never holds a key). The
 * server side installs and personalizes the purse at levels 01 and 33,
 * upgrades it (P8: the update script carries the package and no
 * personalization data), and refuses response scripts that do not answer
 * what it sent: a flipped R-MAC byte, a replayed script, one response too
 * few, too many, a wrong card cryptogram; each kills the session.
 */
#include "gp_test.h"

static const uint8_t purse_app[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

/* The purse's personalization: PIN 4321, balance 500 (DF01, DF02; apps/purse/purse.c). */
static const uint8_t purse_perso[] = {0xDF, 0x01, 0x04, '4',  '3',  '2',  '1',
                                      0xDF, 0x02, 0x04, 0x00, 0x00, 0x01, 0xF4};

#define SCRIPT_MAX (256u * 1024u)

typedef struct {
    uint8_t bytes[SCRIPT_MAX];
    size_t len;
} script;

/* The terminal: runs every C-APDU of cmds on the card as it is, in order (stop: not
   after the first answer other than 9000), and writes the response script to *out.
   Returns the number of C-APDUs run. */
static size_t relay(fixture *f, const uint8_t *cmds, size_t len, bool stop, script *out) {
    static uint8_t answer[SEAM_GP_RESPONSE_MAX];
    seam_gp_rscript_reader rd;
    const uint8_t *apdu = NULL;
    size_t apdu_len = 0, n = 0;
    out->len = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, cmds, len), SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out->bytes, sizeof out->bytes, &out->len),
        SEAM_OK);
    while (seam_gp_rscript_next(&rd, &apdu, &apdu_len) == SEAM_OK) {
        size_t got = 0;
        assert_int_equal(
            seam_gp_link_transmit(&f->link, apdu, apdu_len, answer, sizeof answer, &got), SEAM_OK);
        assert_true(got >= 2);
        assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, answer, got, out->bytes,
                                             sizeof out->bytes, &out->len),
                         SEAM_OK);
        n++;
        if (stop && (answer[got - 2] != 0x90 || answer[got - 1] != 0x00))
            break;
    }
    assert_int_equal(seam_gp_rscript_end(out->bytes, sizeof out->bytes, &out->len), SEAM_OK);
    return n;
}

/* Writes a response script of the first n R-APDUs of in (n may exceed: all). */
static void keep_first(const script *in, size_t n, script *out) {
    seam_gp_rscript_reader rd;
    const uint8_t *item;
    size_t item_len;
    out->len = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, in->bytes, in->len),
                     SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out->bytes, sizeof out->bytes, &out->len),
        SEAM_OK);
    for (size_t i = 0; i < n && seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK; i++)
        assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, item, item_len, out->bytes,
                                             sizeof out->bytes, &out->len),
                         SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(out->bytes, sizeof out->bytes, &out->len), SEAM_OK);
}

/* The number of items of a script. */
static size_t items(uint8_t tmpl, const uint8_t *s, size_t len) {
    seam_gp_rscript_reader rd;
    const uint8_t *item;
    size_t item_len, n = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, tmpl, s, len), SEAM_OK);
    while (seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK)
        n++;
    return n;
}

static seam_gp_remote *new_remote(uint8_t level, bool extended) {
    seam_gp_remote_config c;
    seam_gp_remote *r = NULL;
    memset(&c, 0, sizeof c);
    seam_gp_aid_set(&c.sd, isd_aid, sizeof isd_aid);
    seam_gp_keys_default(&c.keys);
    c.level = level;
    c.extended = extended;
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_OK);
    return r;
}

/* Round 1 through the terminal: SELECT + INITIALIZE UPDATE, the cryptogram checked. */
static seam_gp_remote *open_remote(fixture *f, uint8_t level, bool extended) {
    static script resp;
    seam_gp_remote_report rep;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    seam_gp_remote *r = new_remote(level, extended);
    assert_int_equal(seam_gp_remote_start(r, &cmds, &len), SEAM_OK);
    assert_int_equal(items(SEAM_GP_RSCRIPT_COMMANDS, cmds, len), 2);
    assert_int_equal(relay(f, cmds, len, false, &resp), 2);
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, &rep), SEAM_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.commands, 2);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_AUTHENTICATING);
    return r;
}

/* One round of plan through the terminal; returns the report (asserting SEAM_OK). */
static seam_gp_remote_report round_trip(fixture *f, seam_gp_remote *r, const seam_gp_plan *plan,
                                        script *resp) {
    seam_gp_remote_report rep;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    assert_int_equal(seam_gp_remote_commands(r, plan, &cmds, &len), SEAM_OK);
    relay(f, cmds, len, false, resp);
    assert_int_equal(seam_gp_remote_read(r, resp->bytes, resp->len, &rep), SEAM_OK);
    return rep;
}

/* A plan of GET STATUS of scope for aid (answers data: R-ENC at 33). */
static void plan_get_status(seam_gp_plan *plan, seam_gp_scope scope, const uint8_t *aid,
                            size_t len) {
    uint8_t cmd[64];
    size_t n = 0;
    assert_int_equal(seam_gp_build_get_status(scope, false, aid, len, cmd, sizeof cmd, &n),
                     SEAM_OK);
    assert_int_equal(seam_gp_plan_add(plan, cmd, n), SEAM_OK);
}

/* The purse's balance, read live after VERIFY with pin (4 bytes). */
static uint32_t purse_balance(fixture *f, const char *pin) {
    uint8_t verify[9] = {0x00, 0x20, 0x00, 0x00, 0x04};
    uint8_t data[16];
    size_t len = 0;
    uint16_t sw = 0;
    memcpy(verify + 5, pin, 4);
    assert_int_equal(seam_gp_select(f->gp, purse_app, sizeof purse_app, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(transmit(f, verify, sizeof verify), 0x9000);
    assert_int_equal(seam_gp_transmit(f->gp, (const uint8_t[]){0x80, 0x50, 0x00, 0x00, 0x00}, 5,
                                      data, sizeof data, &len, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(len, 8);
    return (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
}

/* Installs and personalizes the purse remotely at level, in one wrapped round, then a
   GET STATUS round in the same session. */
static void install_and_personalize(fixture *f, uint8_t level, bool extended) {
    static script resp;
    seam_gp_plan plan;
    seam_gp_package_install in;
    seam_gp_aid inst;
    size_t len = 0, n = 0;
    seam_gp_remote *r = open_remote(f, level, extended);
    seam_gp_plan_init(&plan);
    memset(&in, 0, sizeof in);
    in.module = read_app("purse", &len);
    in.module_len = len;
    in.hash = true;
    assert_int_equal(seam_gp_plan_install_package(&plan, &in, seam_gp_remote_load_block_size(r)),
                     SEAM_OK);
    size_t install_commands = plan.count;
    seam_gp_aid_set(&inst, purse_app, sizeof purse_app);
    assert_int_equal(seam_gp_plan_store_data(&plan, &inst, SEAM_GP_STORE_BER_TLV, purse_perso,
                                             sizeof purse_perso, seam_gp_remote_block_size(r), NULL,
                                             0),
                     SEAM_OK);
    assert_int_equal(plan.count, install_commands + 2); /* for personalization, one block */
    seam_gp_remote_report rep = round_trip(f, r, &plan, &resp);
    assert_true(rep.ok);
    assert_int_equal(rep.commands, plan.count);
    assert_int_equal(rep.answered, plan.count);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_OPEN);
    /* the script's C-APDUs: EXTERNAL AUTHENTICATE, then one per command (no chain) */
    assert_int_equal(items(SEAM_GP_RSCRIPT_RESPONSES, resp.bytes, resp.len), 1 + plan.count);
    if (extended) /* purse 1.0's load file fits in 2 extended blocks */
        assert_true(install_commands <= 2 + 2);
    else
        assert_true(install_commands > 10);
    free((void *)in.module);
    seam_gp_plan_free(&plan);

    /* a further round in the same session: GET STATUS answers the entry (R-ENC at 33) */
    seam_gp_plan_init(&plan);
    plan_get_status(&plan, SEAM_GP_APPS, purse_app, sizeof purse_app);
    rep = round_trip(f, r, &plan, &resp);
    assert_true(rep.ok);
    const uint8_t *data = NULL;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_remote_response(r, 0, &sw, &data, &n), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    seam_gp_status_iter it;
    seam_gp_status_entry e;
    seam_gp_status_iter_init(&it, data, n);
    assert_int_equal(seam_gp_status_iter_next(&it, &e), SEAM_OK);
    assert_int_equal(e.aid.len, sizeof purse_app);
    assert_memory_equal(e.aid.bytes, purse_app, sizeof purse_app);
    assert_int_equal(e.lifecycle, 0x07); /* SELECTABLE */
    assert_int_equal(seam_gp_remote_response(r, 1, &sw, &data, &n), SEAM_ERR_NOT_FOUND);
    seam_gp_plan_free(&plan);

    /* a long INSTALL goes as one GP chain (3 C-APDUs, one C-MAC), the channel still in
       step after it: INSTALL [for registry update] with 600 bytes of EF parameters */
    static uint8_t params[600];
    seam_gp_install_fields ru;
    params[0] = 0xEF; /* accepted and ignored by the card */
    params[1] = 0x82;
    params[2] = (uint8_t)((sizeof params - 4) >> 8);
    params[3] = (uint8_t)(sizeof params - 4);
    memset(&ru, 0, sizeof ru);
    ru.role = SEAM_GP_FOR_REGISTRY_UPDATE;
    ru.application = inst;
    ru.params = params;
    ru.params_len = sizeof params;
    uint8_t cmd[SEAM_GP_APDU_MAX];
    assert_int_equal(seam_gp_build_install(&ru, cmd, sizeof cmd, &n), SEAM_OK);
    seam_gp_plan_init(&plan);
    assert_int_equal(seam_gp_plan_add(&plan, cmd, n), SEAM_OK);
    plan_get_status(&plan, SEAM_GP_APPS, purse_app, sizeof purse_app);
    rep = round_trip(f, r, &plan, &resp);
    assert_true(rep.ok);
    assert_int_equal(rep.commands, 2);
    assert_int_equal(items(SEAM_GP_RSCRIPT_RESPONSES, resp.bytes, resp.len), 3 + 1);
    assert_int_equal(seam_gp_remote_response(r, 1, &sw, &data, &n), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_true(n > 0);
    seam_gp_plan_free(&plan);
    seam_gp_remote_free(r);

    /* the personalization took: PIN 4321 opens it, balance 500 */
    assert_int_equal(purse_balance(f, "4321"), 500);
}

static void remote_install_and_personalize_purse_at_level_01_P2(void **state) {
    install_and_personalize(*state, 0x01, false);
}

static void remote_install_and_personalize_purse_at_level_33_P2(void **state) {
    install_and_personalize(*state, 0x33, false);
}

/* The card's ATR announces extended lengths: LOAD blocks go as extended C-APDUs in the
   script (2 instead of 28), under C-DEC too. */
static void remote_install_with_extended_load_blocks_at_level_13(void **state) {
    install_and_personalize(*state, 0x13, true);
}

static void remote_install_with_extended_load_blocks_at_level_33(void **state) {
    install_and_personalize(*state, 0x33, true);
}

/* The session stays in the first round's state after a round with nothing but EXTERNAL
   AUTHENTICATE; round-order misuse is refused. */
static void remote_calls_out_of_turn_are_refused(void **state) {
    fixture *f = *state;
    static script resp;
    seam_gp_plan plan;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    seam_gp_plan_init(&plan);
    seam_gp_remote *r = new_remote(0x03, false);
    assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_ERR_GP_CHANNEL);
    seam_gp_remote_free(r);
    r = open_remote(f, 0x03, false);
    assert_int_equal(seam_gp_remote_start(r, &cmds, &len), SEAM_ERR_GP_CHANNEL);
    /* a SELECT in a plan would end the channel on the card: refused, nothing changes */
    assert_int_equal(seam_gp_plan_add(&plan, (const uint8_t[]){0x00, 0xA4, 0x04, 0x00, 0x00}, 5),
                     SEAM_OK);
    assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_AUTHENTICATING);
    seam_gp_plan_free(&plan);
    /* an empty plan: EXTERNAL AUTHENTICATE alone */
    seam_gp_remote_report rep = round_trip(f, r, &plan, &resp);
    assert_true(rep.ok);
    assert_int_equal(rep.commands, 0);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_OPEN);
    seam_gp_remote_free(r);
}

/* Opens a session at level, runs a GET STATUS round and returns its response script in
 *resp with the session SENT again for a second identical round (its commands in *cmds). */
static seam_gp_remote *two_rounds(fixture *f, uint8_t level, script *first, const uint8_t **cmds,
                                  size_t *cmds_len) {
    seam_gp_plan plan;
    seam_gp_remote *r = open_remote(f, level, false);
    seam_gp_plan_init(&plan);
    plan_get_status(&plan, SEAM_GP_ISD, NULL, 0);
    plan_get_status(&plan, SEAM_GP_ISD, NULL, 0);
    assert_true(round_trip(f, r, &plan, first).ok);
    assert_int_equal(seam_gp_remote_commands(r, &plan, cmds, cmds_len), SEAM_OK);
    seam_gp_plan_free(&plan);
    return r;
}

/* A flipped byte of an R-MAC (level 33): refused, the session dead, nothing more is
   written or read. */
static void remote_tampered_response_mac_is_refused(void **state) {
    fixture *f = *state;
    static script first, resp;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    seam_gp_remote *r = two_rounds(f, 0x33, &first, &cmds, &len);
    relay(f, cmds, len, false, &resp);
    /* the last R-APDU: ... R-MAC (8) || 90 00, then 00 00 */
    resp.bytes[resp.len - 2 - 2 - 1] ^= 0x01;
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    resp.bytes[resp.len - 2 - 2 - 1] ^= 0x01; /* the true answer is too late */
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_GP_SCRIPT);
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_ERR_GP_CHANNEL);
    seam_gp_remote_free(r);
}

/* A response script replayed: the first round's answers for the second round's identical
   commands fail their R-MACs at 33 (another chaining value and counter); and at any
   level the same script read twice is refused (one reading per round). */
static void remote_replayed_response_script_is_refused(void **state) {
    fixture *f = *state;
    static script first, resp;
    static const uint8_t levels[] = {0x01, 0x03, 0x13, 0x33};
    const uint8_t *cmds = NULL;
    size_t len = 0;
    seam_gp_remote *r = two_rounds(f, 0x33, &first, &cmds, &len);
    relay(f, cmds, len, false, &resp);
    assert_int_equal(seam_gp_remote_read(r, first.bytes, first.len, NULL), SEAM_ERR_CRYPTO_AUTH);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_GP_SCRIPT);
    seam_gp_remote_free(r);
    for (size_t i = 0; i < sizeof levels; i++) {
        r = two_rounds(f, levels[i], &first, &cmds, &len);
        relay(f, cmds, len, false, &resp);
        assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_OK);
        assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_OPEN);
        assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_GP_SCRIPT);
        assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
        seam_gp_remote_free(r);
    }
}

/* One response too few (every one 9000), or one too many: refused, the session dead. */
static void remote_response_count_must_match(void **state) {
    fixture *f = *state;
    static script first, resp, cut;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    seam_gp_remote *r = two_rounds(f, 0x13, &first, &cmds, &len);
    assert_int_equal(relay(f, cmds, len, false, &resp), 2);
    keep_first(&resp, 1, &cut);
    assert_int_equal(seam_gp_remote_read(r, cut.bytes, cut.len, NULL), SEAM_ERR_GP_SCRIPT);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    seam_gp_remote_free(r);

    r = two_rounds(f, 0x13, &first, &cmds, &len);
    relay(f, cmds, len, false, &resp);
    resp.len -= 2; /* one more 9000 before the end */
    assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, (const uint8_t[]){0x90, 0x00}, 2,
                                         resp.bytes, sizeof resp.bytes, &resp.len),
                     SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(resp.bytes, sizeof resp.bytes, &resp.len), SEAM_OK);
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_GP_SCRIPT);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    seam_gp_remote_free(r);

    /* not a response script at all */
    r = two_rounds(f, 0x13, &first, &cmds, &len);
    assert_int_equal(seam_gp_remote_read(r, cmds, len, NULL), SEAM_ERR_MALFORMED);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    seam_gp_remote_free(r);
}

/* A command the card refuses: the round reports which (DELETE, 6A88), the session ends;
   a terminal that stopped there sends fewer responses, and that is read the same. */
static void remote_refusal_names_the_command_and_ends_the_session(void **state) {
    fixture *f = *state;
    static script resp;
    static const uint8_t nothing[] = {0xA0, 0x00, 0x00, 0x05, 0x99, 0x99};
    for (int stop = 0; stop < 2; stop++) {
        seam_gp_plan plan;
        seam_gp_remote_report rep;
        const uint8_t *cmds = NULL;
        size_t len = 0;
        seam_gp_remote *r = open_remote(f, 0x33, false);
        seam_gp_plan_init(&plan);
        plan_get_status(&plan, SEAM_GP_ISD, NULL, 0);
        assert_int_equal(seam_gp_plan_delete(&plan, nothing, sizeof nothing, false), SEAM_OK);
        plan_get_status(&plan, SEAM_GP_ISD, NULL, 0);
        assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_OK);
        assert_int_equal(relay(f, cmds, len, stop, &resp), stop ? 3 : 4);
        assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, &rep), SEAM_OK);
        assert_false(rep.ok);
        assert_false(rep.authentication_refused);
        assert_int_equal(rep.failed, 1);
        assert_int_equal(rep.sw, 0x6A88);
        assert_memory_equal(rep.header, ((const uint8_t[]){0x80, 0xE4, 0x00, 0x00}), 4);
        assert_int_equal(rep.answered, stop ? 2 : 2); /* what came after is not read */
        assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_ENDED);
        uint16_t sw = 0;
        assert_int_equal(seam_gp_remote_response(r, 0, &sw, NULL, NULL), SEAM_OK);
        assert_int_equal(sw, 0x9000);
        assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_ERR_GP_CHANNEL);
        seam_gp_plan_free(&plan);
        seam_gp_remote_free(r);
    }
}

/* Round 1 with keys the card does not hold, and round 1's answers replayed into a
   new session (another host challenge): the card cryptogram does not verify, the
   session is dead (the card consumed a sequence counter value, as for a live
   session with wrong keys, and nothing else was sent). */
static void remote_wrong_keys_and_replayed_round_one_are_refused(void **state) {
    fixture *f = *state;
    static script resp;
    seam_gp_remote_config c;
    seam_gp_remote *r = NULL, *again = NULL;
    const uint8_t *cmds = NULL;
    size_t len = 0;
    memset(&c, 0, sizeof c);
    seam_gp_keys_default(&c.keys);
    c.keys.mac[0] ^= 0x01;
    c.level = 0x01;
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_OK);
    assert_int_equal(seam_gp_remote_start(r, &cmds, &len), SEAM_OK);
    relay(f, cmds, len, false, &resp);
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_ERR_GP_CRYPTOGRAM);
    assert_int_equal(seam_gp_remote_get_state(r), SEAM_GP_REMOTE_DEAD);
    seam_gp_remote_free(r);

    r = new_remote(0x33, false);
    again = new_remote(0x33, false);
    assert_int_equal(seam_gp_remote_start(r, &cmds, &len), SEAM_OK);
    relay(f, cmds, len, false, &resp);
    assert_int_equal(seam_gp_remote_start(again, &cmds, &len), SEAM_OK);
    assert_int_equal(seam_gp_remote_read(again, resp.bytes, resp.len, NULL),
                     SEAM_ERR_GP_CRYPTOGRAM);
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, NULL), SEAM_OK);
    seam_gp_remote_free(again);
    seam_gp_remote_free(r);
}

/* A configuration the session cannot use is refused. */
static void remote_config_is_checked(void **state) {
    (void)state;
    seam_gp_remote_config c;
    seam_gp_remote *r = NULL;
    memset(&c, 0, sizeof c);
    seam_gp_keys_default(&c.keys);
    c.level = 0x00; /* commands must carry a C-MAC */
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_ERR_ARG);
    c.level = 0x02;
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_ERR_ARG);
    c.level = 0x01;
    c.kvn = 0x80;
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_ERR_ARG);
    c.kvn = 0;
    c.keys.len = 20;
    assert_int_equal(seam_gp_remote_new(&c, &r), SEAM_ERR_ARG);
    assert_null(r);
}

/* The INS and P1 of each command of plan, as "EA01 E602 E800 ... EA02". */
static void plan_headers(const seam_gp_plan *plan, uint8_t (*hdr)[2], size_t *n) {
    for (size_t i = 0; i < plan->count; i++) {
        size_t len = 0;
        const uint8_t *c = seam_gp_plan_command(plan, i, &len);
        hdr[i][0] = c[1];
        hdr[i][1] = c[2];
    }
    *n = plan->count;
}

/* An upgrade plan from where a card's session stands: never a second start; migrate last;
   abort first when the session goes elsewhere (docs/gp.md, Plans; X5). */
static void upgrade_plan_from_a_session_sends_only_what_is_missing_X5(void **state) {
    (void)state;
    size_t len = 0, n = 0, full = 0;
    uint8_t *module = read_app("purse_v2", &len);
    uint8_t hdr[300][2];
    seam_gp_plan plan;
    static const seam_gp_upgrade_from from[] = {
        SEAM_GP_UPGRADE_FROM_START, SEAM_GP_UPGRADE_FROM_LOAD, SEAM_GP_UPGRADE_FROM_MIGRATE,
        SEAM_GP_UPGRADE_FROM_ABORT};
    for (size_t k = 0; k < 4; k++) {
        seam_gp_plan_init(&plan);
        assert_int_equal(seam_gp_plan_upgrade_from(&plan, module, len, NULL, from[k], 239),
                         SEAM_OK);
        plan_headers(&plan, hdr, &n);
        size_t starts = 0, aborts = 0, loads = 0;
        for (size_t i = 0; i < n; i++) {
            starts += hdr[i][0] == 0xEA && hdr[i][1] == 0x01;
            aborts += hdr[i][0] == 0xEA && hdr[i][1] == 0x04;
            loads += hdr[i][0] == 0xE8;
        }
        assert_int_equal(hdr[n - 1][0], 0xEA); /* migrate last */
        assert_int_equal(hdr[n - 1][1], 0x02);
        if (from[k] == SEAM_GP_UPGRADE_FROM_START)
            full = n;
        assert_int_equal(starts, from[k] == SEAM_GP_UPGRADE_FROM_START ||
                                     from[k] == SEAM_GP_UPGRADE_FROM_ABORT);
        assert_int_equal(aborts, from[k] == SEAM_GP_UPGRADE_FROM_ABORT);
        if (from[k] == SEAM_GP_UPGRADE_FROM_ABORT)
            assert_int_equal(hdr[0][1], 0x04);
        assert_int_equal(n, from[k] == SEAM_GP_UPGRADE_FROM_LOAD      ? full - 1
                            : from[k] == SEAM_GP_UPGRADE_FROM_MIGRATE ? 1
                            : from[k] == SEAM_GP_UPGRADE_FROM_ABORT   ? full + 1
                                                                      : full);
        assert_true(from[k] == SEAM_GP_UPGRADE_FROM_MIGRATE ? loads == 0 : loads > 1);
        seam_gp_plan_free(&plan);
    }
    seam_gp_plan_init(&plan);
    assert_int_equal(
        seam_gp_plan_upgrade_from(&plan, module, len, NULL, (seam_gp_upgrade_from)9, 239),
        SEAM_ERR_ARG);
    assert_int_equal(plan.count, 0);
    free(module);
}

/* A plan builder that fails leaves the plan as it was. */
static void plan_builders_leave_the_plan_unchanged_on_error(void **state) {
    (void)state;
    seam_gp_plan plan;
    seam_gp_package_install in;
    seam_gp_aid inst;
    static uint8_t big_dgi[5 + 300];
    size_t len = 0;
    seam_gp_plan_init(&plan);
    assert_int_equal(seam_gp_plan_delete(&plan, purse_app, sizeof purse_app, true), SEAM_OK);
    size_t bytes = plan.len;
    /* not a package */
    memset(&in, 0, sizeof in);
    in.module = purse_perso;
    in.module_len = sizeof purse_perso;
    assert_int_equal(seam_gp_plan_install_package(&plan, &in, 247), SEAM_ERR_GP_PACKAGE);
    /* a load block size that makes more than 256 blocks: after the first INSTALL */
    in.module = read_app("purse", &len);
    in.module_len = len;
    assert_int_equal(seam_gp_plan_install_package(&plan, &in, 8), SEAM_ERR_ARG);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.len, bytes);
    free((void *)in.module);
    /* a DGI larger than a block, after the INSTALL [for personalization] */
    big_dgi[0] = 0x01;
    big_dgi[1] = 0x01;
    big_dgi[2] = 0xFF;
    big_dgi[3] = 0x01;
    big_dgi[4] = 0x2C; /* FF 01 2C: 300 bytes */
    seam_gp_aid_set(&inst, purse_app, sizeof purse_app);
    assert_int_equal(seam_gp_plan_store_data(&plan, &inst, SEAM_GP_STORE_DGI, big_dgi,
                                             sizeof big_dgi, 247, NULL, 0),
                     SEAM_ERR_ARG);
    /* encrypted without a DEK */
    assert_int_equal(seam_gp_plan_store_data(&plan, &inst, SEAM_GP_STORE_ENCRYPTED, purse_perso,
                                             sizeof purse_perso, 247, NULL, 0),
                     SEAM_ERR_GP_CHANNEL);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.len, bytes);
    size_t n = 0;
    assert_non_null(seam_gp_plan_command(&plan, 0, &n));
    assert_int_equal(n, bytes);
    assert_null(seam_gp_plan_command(&plan, 1, &n));
    seam_gp_plan_free(&plan);
    assert_int_equal(plan.count, 0);
}

/* Upgrade to purse 2.0 remotely (start, INSTALL [for load], LOADs, migrate in one round):
   the balance and PIN are kept by the card (P8), and the update's script holds the
   package and none of the personalization bytes. */
static void remote_upgrade_keeps_the_balance_P8(void **state) {
    fixture *f = *state;
    static script resp;
    install_and_personalize(f, 0x03, false);
    seam_gp_remote *r = open_remote(f, 0x03, false);
    seam_gp_plan plan;
    size_t len = 0;
    const uint8_t *cmds = NULL;
    uint8_t *module = read_app("purse_v2", &len);
    seam_gp_plan_init(&plan);
    assert_int_equal(
        seam_gp_plan_upgrade(&plan, module, len, NULL, seam_gp_remote_load_block_size(r)), SEAM_OK);
    size_t plain = plan.len;
    assert_true(plain > len && plain < len + len / 10);
    for (size_t i = 0; i < plan.count; i++) { /* no STORE DATA, no [for personalization] */
        size_t n = 0;
        const uint8_t *c = seam_gp_plan_command(&plan, i, &n);
        assert_int_not_equal(c[1], 0xE2);
        assert_false(c[1] == 0xE6 && c[2] == SEAM_GP_FOR_PERSONALIZATION);
    }
    assert_int_equal(seam_gp_remote_commands(r, &plan, &cmds, &len), SEAM_OK);
    relay(f, cmds, len, false, &resp);
    seam_gp_remote_report rep;
    assert_int_equal(seam_gp_remote_read(r, resp.bytes, resp.len, &rep), SEAM_OK);
    assert_true(rep.ok);
    /* migrate's answer: completed */
    seam_gp_upgrade_status st;
    const uint8_t *data = NULL;
    size_t n = 0;
    uint16_t sw = 0;
    assert_int_equal(seam_gp_remote_response(r, plan.count - 1, &sw, &data, &n), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_upgrade_decode(data, n, &st), SEAM_OK);
    assert_int_equal(st.status, 0x01);
    seam_gp_plan_free(&plan);
    seam_gp_remote_free(r);
    free(module);
    assert_int_equal(purse_balance(f, "4321"), 500);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(remote_install_and_personalize_purse_at_level_01_P2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remote_install_and_personalize_purse_at_level_33_P2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remote_install_with_extended_load_blocks_at_level_13, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remote_install_with_extended_load_blocks_at_level_33, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remote_calls_out_of_turn_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(remote_tampered_response_mac_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(remote_replayed_response_script_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remote_response_count_must_match, setup, teardown),
        cmocka_unit_test_setup_teardown(remote_refusal_names_the_command_and_ends_the_session,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(remote_wrong_keys_and_replayed_round_one_are_refused, setup,
                                        teardown),
        cmocka_unit_test(remote_config_is_checked),
        cmocka_unit_test(plan_builders_leave_the_plan_unchanged_on_error),
        cmocka_unit_test(upgrade_plan_from_a_session_sends_only_what_is_missing_X5),
        cmocka_unit_test_setup_teardown(remote_upgrade_keeps_the_balance_P8, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
