/*
 * A remote SCP03 session (include/seam/gp.h, docs/gp.md "Remote scripts"): a
 * server's secure channel with one security domain of a card it reaches only
 * through command scripts that a terminal runs, one round trip per script.
 *
 * States (seam_gp_remote_state):
 *
 *   NEW ──start──▶ STARTED ──read: 9000 x 2, card cryptogram verifies──▶ AUTHENTICATING
 *   AUTHENTICATING ──commands (EXTERNAL AUTHENTICATE first)──▶ SENT
 *   OPEN ──commands──▶ SENT ──read: all 9000──▶ OPEN
 *   STARTED, SENT ──read: a refusal──▶ ENDED
 *   any ──read of a script that does not answer the one sent──▶ DEAD
 *
 * Commands are wrapped ahead of their answers: SCP03's C-MAC chain depends
 * only on the commands, so each command's chaining value and counter are kept
 * and its R-APDU is unwrapped with them when the response script comes back
 * (the crypto layer's seam_crypto_scp03_host_* do all the cryptography, as for
 * the live session of session.c).
 *
 * Replays: one reading per round (a second is refused and kills the session);
 * an earlier round's answers fed to a later round fail their R-MACs at levels
 * 11, 13 and 33 (another chaining value, another counter). At 01 and 03 the
 * card's answers carry no MAC: nothing in the bytes tells a replay from the
 * true answer, and the transport must refuse a second response to one
 * command script (the server's Next-URI does).
 */
#include <stdlib.h>
#include <string.h>

#include "gp_int.h"
#include "seam/util.h"

#define LEVEL_C_MAC 0x01u
#define LEVEL_C_DEC 0x02u
#define MAC_LEN     8u
#define WIRE_BLOCKS 64u

/* One plain command of a round and its answer. */
typedef struct {
    uint8_t header[4]; /* CLA INS P1 P2 as planned */
    size_t wires;      /* the C-APDUs it became (a GP chain: more than one) */
    bool wrapped;      /* sent under the channel: its answer is unwrapped */
    uint8_t chain[16]; /* the C-MAC chaining value after it */
    uint32_t counter;  /* the channel's counter for it */
    bool answered;
    uint16_t sw;
    size_t data_at, data_len; /* its plain data in answers */
} entry;

struct seam_gp_remote {
    seam_gp_remote_config config;
    seam_gp_remote_state state;
    seam_crypto_scp03_host scp;
    uint8_t host_challenge[8];
    uint8_t external_authenticate[21]; /* ready after round 1 */
    entry *entries;                    /* the round's commands */
    size_t count, entries_cap;
    size_t plan_first; /* 1 when the round opened with EXTERNAL AUTHENTICATE */
    uint8_t *script;   /* the round's command script */
    size_t script_len, script_cap;
    uint8_t *answers; /* the plain data of the round's answers */
    size_t answers_cap;
    uint8_t wire[GP_WIRE_MAX];
    size_t block_len[WIRE_BLOCKS];
};

static bool level_ok(uint8_t level) {
    return level == 0x01 || level == 0x03 || level == 0x11 || level == 0x13 || level == 0x33;
}

/* Wipes and frees what the round holds (script, answers). */
static void wipe_round(seam_gp_remote *r) {
    if (r->script)
        seam_secure_zero(r->script, r->script_cap);
    if (r->answers)
        seam_secure_zero(r->answers, r->answers_cap);
    free(r->script);
    free(r->answers);
    r->script = r->answers = NULL;
    r->script_len = r->script_cap = r->answers_cap = 0;
}

/* Ends the session for good: keys wiped, state, err returned. */
static seam_err finish(seam_gp_remote *r, seam_gp_remote_state state, seam_err err) {
    seam_crypto_scp03_host_close(&r->scp);
    seam_secure_zero(&r->config.keys, sizeof r->config.keys);
    seam_secure_zero(r->external_authenticate, sizeof r->external_authenticate);
    seam_secure_zero(r->wire, sizeof r->wire);
    r->state = state;
    return err;
}

static seam_err die(seam_gp_remote *r, seam_err err) {
    return finish(r, SEAM_GP_REMOTE_DEAD, err);
}

seam_err seam_gp_remote_new(const seam_gp_remote_config *config, seam_gp_remote **out) {
    if (!config || !out || !level_ok(config->level) || config->kvn > 0x7F ||
        config->block_cap > 255 || config->sd.len > SEAM_GP_AID_MAX ||
        (config->keys.len != 16 && config->keys.len != 24 && config->keys.len != 32))
        return SEAM_ERR_ARG;
    seam_gp_remote *r = calloc(1, sizeof *r);
    if (!r)
        return SEAM_ERR_NOMEM;
    r->config = *config;
    r->state = SEAM_GP_REMOTE_NEW;
    *out = r;
    return SEAM_OK;
}

void seam_gp_remote_free(seam_gp_remote *r) {
    if (!r)
        return;
    finish(r, SEAM_GP_REMOTE_DEAD, SEAM_OK);
    wipe_round(r);
    free(r->entries);
    seam_secure_zero(r, sizeof *r);
    free(r);
}

seam_gp_remote_state seam_gp_remote_get_state(const seam_gp_remote *r) {
    return r->state;
}

size_t seam_gp_remote_block_size(const seam_gp_remote *r) {
    size_t level = (r->config.level & LEVEL_C_DEC) ? 239 : 255 - MAC_LEN;
    return r->config.block_cap && r->config.block_cap < level ? r->config.block_cap : level;
}

size_t seam_gp_remote_load_block_size(const seam_gp_remote *r) {
    if (!r->config.extended || r->config.block_cap)
        return seam_gp_remote_block_size(r);
    return SEAM_GP_COMMAND_MAX - MAC_LEN - ((r->config.level & LEVEL_C_DEC) ? 16u : 0u);
}

/* Room for more bytes at the end of the command script. */
static seam_err script_room(seam_gp_remote *r, size_t more) {
    if (r->script_cap - r->script_len >= more)
        return SEAM_OK;
    size_t cap = r->script_cap ? r->script_cap : 4096;
    while (cap - r->script_len < more)
        cap *= 2;
    uint8_t *s = malloc(cap);
    if (!s)
        return SEAM_ERR_NOMEM;
    if (r->script_len)
        memcpy(s, r->script, r->script_len);
    if (r->script)
        seam_secure_zero(r->script, r->script_cap);
    free(r->script);
    r->script = s;
    r->script_cap = cap;
    return SEAM_OK;
}

/* Appends one C-APDU to the command script. */
static seam_err script_add(seam_gp_remote *r, const uint8_t *apdu, size_t len) {
    seam_err e = script_room(r, len + 4);
    if (!e)
        e = seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, apdu, len, r->script, r->script_cap,
                                &r->script_len);
    return e;
}

/* A new entry for a command with header apdu[0..4). */
static seam_err entry_add(seam_gp_remote *r, const uint8_t *apdu, entry **out) {
    if (r->count == r->entries_cap) {
        size_t n = r->entries_cap ? r->entries_cap * 2 : 16;
        entry *e = realloc(r->entries, n * sizeof *e);
        if (!e)
            return SEAM_ERR_NOMEM;
        r->entries = e;
        r->entries_cap = n;
    }
    entry *e = &r->entries[r->count++];
    memset(e, 0, sizeof *e);
    memcpy(e->header, apdu, 4);
    e->wires = 1;
    *out = e;
    return SEAM_OK;
}

/* Starts a round's command script. */
static seam_err round_begin(seam_gp_remote *r) {
    r->count = 0;
    r->plan_first = 0;
    r->script_len = 0;
    seam_err e = script_room(r, 2);
    if (!e)
        e = seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, r->script, r->script_cap,
                                  &r->script_len);
    return e;
}

/* Appends a command that goes as it is. */
static seam_err add_plain(seam_gp_remote *r, const uint8_t *apdu, size_t len) {
    entry *e = NULL;
    seam_err err = entry_add(r, apdu, &e);
    if (!err)
        err = script_add(r, apdu, len);
    return err;
}

static seam_err round_end(seam_gp_remote *r, const uint8_t **script, size_t *len) {
    seam_err e = script_room(r, 2);
    if (!e)
        e = seam_gp_rscript_end(r->script, r->script_cap, &r->script_len);
    if (!e) {
        *script = r->script;
        *len = r->script_len;
    }
    return e;
}

seam_err seam_gp_remote_start(seam_gp_remote *r, const uint8_t **script, size_t *len) {
    uint8_t select[6 + SEAM_GP_AID_MAX] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)r->config.sd.len};
    uint8_t init[14] = {0x80, 0x50, r->config.kvn, 0x00, 0x08};
    size_t select_len = 5;
    if (!script || !len)
        return SEAM_ERR_ARG;
    if (r->state != SEAM_GP_REMOTE_NEW)
        return SEAM_ERR_GP_CHANNEL;
    if (r->config.sd.len) { /* else case 2: no data, Le 00 */
        memcpy(select + 5, r->config.sd.bytes, r->config.sd.len);
        select[5 + r->config.sd.len] = 0x00;
        select_len = 6 + r->config.sd.len;
    }
    seam_err e = seam_crypto_random(r->host_challenge, sizeof r->host_challenge);
    memcpy(init + 5, r->host_challenge, 8);
    if (!e)
        e = round_begin(r);
    if (!e)
        e = add_plain(r, select, select_len);
    if (!e)
        e = add_plain(r, init, sizeof init);
    if (!e)
        e = round_end(r, script, len);
    if (e)
        return die(r, e);
    r->state = SEAM_GP_REMOTE_STARTED;
    return SEAM_OK;
}

/* The length of nc data bytes once wrapped: padded and encrypted at C-DEC, then the C-MAC. */
static size_t wrapped_body(const seam_gp_remote *r, size_t nc) {
    return ((r->config.level & LEVEL_C_DEC) && nc ? (nc / 16 + 1) * 16 : nc) + MAC_LEN;
}

/* Whether the channel carries apdu[0..len): SEAM_ERR_ARG when not (checked before
   anything is wrapped, so that a refusal changes nothing). */
static seam_err carriable(const seam_gp_remote *r, const uint8_t *apdu, size_t len) {
    size_t nc = 0;
    bool extended = false;
    if (!apdu || !gp_apdu_shape(apdu, len, &nc, &extended) || gp_selects(apdu))
        return SEAM_ERR_ARG;
    if ((apdu[0] & 0xFC) != 0x80)
        return SEAM_OK; /* ISO class: as it is */
    if (gp_chainable(apdu))
        return nc <= SEAM_CRYPTO_SCP03_CHAIN_MAX ? SEAM_OK : SEAM_ERR_ARG;
    size_t body = wrapped_body(r, nc);
    if ((extended || body > 255) && (!r->config.extended || body > 0xFFFF))
        return SEAM_ERR_ARG;
    return SEAM_OK;
}

/* Wraps one plan command into the script (one entry, one or more C-APDUs). */
static seam_err add_wrapped(seam_gp_remote *r, const uint8_t *apdu, size_t len) {
    size_t nc = 0, blocks = 1, wire_len = 0;
    bool extended = false;
    entry *e = NULL;
    seam_err err = entry_add(r, apdu, &e);
    if (err)
        return err;
    if ((apdu[0] & 0xFC) != 0x80)
        return script_add(r, apdu, len);
    gp_apdu_shape(apdu, len, &nc, &extended);
    size_t body = wrapped_body(r, nc);
    if (gp_chainable(apdu)) {
        err = seam_crypto_scp03_host_wrap_chain(&r->scp, apdu, len, 255, r->wire, sizeof r->wire,
                                                &wire_len, r->block_len, WIRE_BLOCKS, &blocks);
    } else if (extended || body > 255) {
        size_t at = extended ? 7 : 5;
        bool le = nc ? len > at + nc : len > 4;
        err = gp_wrap_extended(&r->scp, apdu, apdu + at, nc, le, r->wire, sizeof r->wire,
                               &r->block_len[0]);
    } else {
        err = seam_crypto_scp03_host_wrap(&r->scp, apdu, len, r->wire, sizeof r->wire,
                                          &r->block_len[0]);
    }
    if (err)
        return err;
    e->wires = blocks;
    e->wrapped = true;
    memcpy(e->chain, r->scp.chain, sizeof e->chain);
    e->counter = r->scp.counter;
    for (size_t k = 0, at = 0; k < blocks && !err; k++) {
        err = script_add(r, r->wire + at, r->block_len[k]);
        at += r->block_len[k];
    }
    seam_secure_zero(r->wire, sizeof r->wire);
    return err;
}

seam_err seam_gp_remote_commands(seam_gp_remote *r, const seam_gp_plan *plan,
                                 const uint8_t **script, size_t *len) {
    size_t n = 0;
    if (!plan || !script || !len)
        return SEAM_ERR_ARG;
    if (r->state != SEAM_GP_REMOTE_AUTHENTICATING && r->state != SEAM_GP_REMOTE_OPEN)
        return SEAM_ERR_GP_CHANNEL;
    for (size_t i = 0; i < plan->count; i++) {
        const uint8_t *apdu = seam_gp_plan_command(plan, i, &n);
        seam_err e = carriable(r, apdu, n);
        if (e)
            return e;
    }
    seam_err e = round_begin(r);
    if (!e && r->state == SEAM_GP_REMOTE_AUTHENTICATING) {
        e = add_plain(r, r->external_authenticate, sizeof r->external_authenticate);
        r->plan_first = 1;
    }
    for (size_t i = 0; i < plan->count && !e; i++) {
        const uint8_t *apdu = seam_gp_plan_command(plan, i, &n);
        e = add_wrapped(r, apdu, n);
    }
    if (!e)
        e = round_end(r, script, len);
    if (e)
        return die(r, e); /* the channel's counter and chain moved: no going back */
    r->state = SEAM_GP_REMOTE_SENT;
    return SEAM_OK;
}

static bool protected_sw(uint16_t sw) {
    return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/* Takes one R-APDU as the answer of entry e (its last C-APDU); r->answers has room
   for it at *used. */
static seam_err take_answer(seam_gp_remote *r, entry *e, const uint8_t *item, size_t len,
                            size_t *used) {
    uint16_t sw = (uint16_t)(item[len - 2] << 8 | item[len - 1]);
    size_t out_len = 0;
    if (!protected_sw(sw) && len != 2)
        return SEAM_ERR_GP_SCRIPT; /* a card answers an error with its SW alone */
    if (e->wrapped) {
        seam_crypto_scp03_host h = r->scp; /* the channel as this command left it */
        memcpy(h.chain, e->chain, sizeof h.chain);
        h.counter = e->counter;
        seam_err err = seam_crypto_scp03_host_unwrap(&h, item, len, r->answers + *used,
                                                     r->answers_cap - *used, &out_len);
        seam_secure_zero(&h, sizeof h);
        if (err)
            return err;
    } else {
        memcpy(r->answers + *used, item, len);
        out_len = len;
    }
    e->answered = true;
    e->sw = sw;
    e->data_at = *used;
    e->data_len = out_len - 2;
    *used += out_len - 2;
    return SEAM_OK;
}

/* Round 1's end: the card cryptogram of INITIALIZE UPDATE's answer (entry 1). */
static seam_err authenticate(seam_gp_remote *r) {
    const entry *init = &r->entries[1];
    if (init->data_len != 29 && init->data_len != 32)
        return SEAM_ERR_GP_RESPONSE;
    seam_err e = seam_crypto_scp03_host_open(
        &r->scp, r->config.keys.enc, r->config.keys.mac, r->config.keys.len, r->host_challenge,
        r->answers + init->data_at, init->data_len, r->config.level, 0, r->external_authenticate);
    return e == SEAM_ERR_CRYPTO_AUTH ? SEAM_ERR_GP_CRYPTOGRAM : e;
}

/* Reads the R-APDUs into the entries; *refused gets the first entry not 9000 (count
   when none). */
static seam_err read_answers(seam_gp_remote *r, seam_gp_rscript_reader *rd, size_t *refused) {
    size_t used = 0;
    *refused = r->count;
    for (size_t i = 0; i < r->count; i++) {
        entry *e = &r->entries[i];
        for (size_t k = 0; k < e->wires; k++) {
            const uint8_t *item = NULL;
            size_t len = 0;
            seam_err err = seam_gp_rscript_next(rd, &item, &len);
            if (err == SEAM_ERR_NOT_FOUND && *refused < r->count)
                return SEAM_OK; /* the terminal stopped after the refusal */
            if (err == SEAM_ERR_NOT_FOUND)
                return SEAM_ERR_GP_SCRIPT; /* too few */
            if (err)
                return err;
            if (*refused < r->count)
                continue; /* after a refusal: counted, not read */
            if (len < 2 || item[len - 2] == 0x61)
                return SEAM_ERR_GP_SCRIPT;
            uint16_t sw = (uint16_t)(item[len - 2] << 8 | item[len - 1]);
            if (k + 1 < e->wires) { /* a block of a chain: 9000 alone */
                if (len != 2)
                    return SEAM_ERR_GP_SCRIPT;
                if (sw != 0x9000) {
                    e->answered = true;
                    e->sw = sw;
                    *refused = i;
                }
                continue;
            }
            if ((err = take_answer(r, e, item, len, &used)) != SEAM_OK)
                return err;
            if (sw != 0x9000)
                *refused = i;
        }
    }
    const uint8_t *item = NULL;
    size_t len = 0;
    seam_err err = seam_gp_rscript_next(rd, &item, &len);
    return err == SEAM_ERR_NOT_FOUND ? SEAM_OK : err ? err : SEAM_ERR_GP_SCRIPT; /* too many */
}

seam_err seam_gp_remote_read(seam_gp_remote *r, const uint8_t *script, size_t len,
                             seam_gp_remote_report *report) {
    seam_gp_rscript_reader rd;
    size_t refused = 0;
    bool round1 = r->state == SEAM_GP_REMOTE_STARTED;
    if (!script && len)
        return SEAM_ERR_ARG;
    if (r->state != SEAM_GP_REMOTE_STARTED && r->state != SEAM_GP_REMOTE_SENT)
        return die(r, SEAM_ERR_GP_SCRIPT); /* nothing outstanding: a replay, or out of turn */
    seam_err e = seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, script, len);
    if (e)
        return die(r, e);
    if (r->answers_cap < len) {
        if (r->answers)
            seam_secure_zero(r->answers, r->answers_cap);
        free(r->answers);
        r->answers_cap = 0;
        if (!(r->answers = malloc(len)))
            return die(r, SEAM_ERR_NOMEM);
        r->answers_cap = len;
    }
    if ((e = read_answers(r, &rd, &refused)) != SEAM_OK)
        return die(r, e);
    if (round1 && refused == r->count && (e = authenticate(r)) != SEAM_OK)
        return die(r, e);
    if (report) {
        memset(report, 0, sizeof *report);
        report->commands = r->count - r->plan_first;
        for (size_t i = r->plan_first; i < r->count; i++)
            report->answered += r->entries[i].answered;
        report->ok = refused == r->count;
        report->sw = report->ok ? 0x9000 : r->entries[refused].sw;
        if (!report->ok) {
            report->authentication_refused = refused < r->plan_first;
            report->failed = report->authentication_refused ? 0 : refused - r->plan_first;
            memcpy(report->header, r->entries[refused].header, 4);
        }
        report->script_out = r->script_len;
        report->script_in = len;
    }
    if (refused < r->count)
        return finish(r, SEAM_GP_REMOTE_ENDED, SEAM_OK);
    r->state = round1 ? SEAM_GP_REMOTE_AUTHENTICATING : SEAM_GP_REMOTE_OPEN;
    return SEAM_OK;
}

seam_err seam_gp_remote_response(const seam_gp_remote *r, size_t i, uint16_t *sw,
                                 const uint8_t **data, size_t *len) {
    if (i >= r->count - r->plan_first || !r->entries[r->plan_first + i].answered)
        return SEAM_ERR_NOT_FOUND;
    const entry *e = &r->entries[r->plan_first + i];
    if (sw)
        *sw = e->sw;
    if (data)
        *data = r->answers + e->data_at;
    if (len)
        *len = e->data_len;
    return SEAM_OK;
}
