/*
 * libFuzzer target for the reading side of a remote SCP03 session
 * (seam_gp_remote_read): the server reads response scripts that come from
 * the network. The first input byte picks round 1 (the bytes are the
 * answers to SELECT + INITIALIZE UPDATE) or a wrapped round at level 01, 03,
 * 13 or 33 (a session brought there with a card simulated here: its
 * cryptogram computed with the crypto layer) whose plan holds a GET STATUS,
 * a chained INSTALL and a DELETE; the rest of the input, copied to a buffer
 * of its exact size, is the response script. Checks what the session
 * promises: an error leaves it DEAD; SEAM_OK leaves it OPEN (every command
 * 9000), AUTHENTICATING (round 1) or ENDED (a refusal, named within the
 * plan); every answer handed out lies in what the report says was answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/crypto.h"
#include "seam/gp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gp_remote_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t levels[] = {0x01, 0x03, 0x13, 0x33};

/* Answers round 1 as a card holding the default keys would, into out. */
static void answer_round_one(const uint8_t *cmds, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len) {
    seam_gp_rscript_reader rd;
    const uint8_t *item = NULL;
    size_t item_len = 0;
    seam_gp_keys keys;
    seam_crypto_scp03_session s;
    uint8_t init[29 + 2] = {0};
    seam_gp_keys_default(&keys);
    CHECK(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, cmds, len) == SEAM_OK);
    CHECK(seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK); /* SELECT */
    CHECK(seam_gp_rscript_next(&rd, &item, &item_len) == SEAM_OK); /* INITIALIZE UPDATE */
    CHECK(item_len == 14);
    init[10] = 0x30; /* kvn */
    init[11] = 0x03;
    init[12] = 0x70;
    for (int i = 0; i < 8; i++)
        init[13 + i] = (uint8_t)(0xC0 + i); /* card challenge */
    CHECK(seam_crypto_scp03_derive_session(&s, keys.enc, keys.mac, keys.len, item + 5, init + 13,
                                           8) == SEAM_OK);
    CHECK(seam_crypto_scp03_card_cryptogram(&s, init + 21) == SEAM_OK);
    seam_crypto_scp03_session_wipe(&s);
    init[29] = 0x90;
    *out_len = 0;
    CHECK(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out, cap, out_len) == SEAM_OK);
    CHECK(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, (const uint8_t[]){0x90, 0x00}, 2, out, cap,
                              out_len) == SEAM_OK);
    CHECK(seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, init, sizeof init, out, cap, out_len) ==
          SEAM_OK);
    CHECK(seam_gp_rscript_end(out, cap, out_len) == SEAM_OK);
}

/* The plan of the wrapped round: GET STATUS, a chained INSTALL, DELETE. */
static void make_plan(seam_gp_plan *plan) {
    static uint8_t params[400];
    static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
    uint8_t cmd[SEAM_GP_APDU_MAX];
    size_t n = 0;
    seam_gp_install_fields in;
    CHECK(seam_gp_build_get_status(SEAM_GP_ISD, false, NULL, 0, cmd, sizeof cmd, &n) == SEAM_OK);
    CHECK(seam_gp_plan_add(plan, cmd, n) == SEAM_OK);
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_REGISTRY_UPDATE;
    seam_gp_aid_set(&in.application, aid, sizeof aid);
    params[0] = 0xEF;
    params[1] = 0x82;
    params[2] = (uint8_t)((sizeof params - 4) >> 8);
    params[3] = (uint8_t)(sizeof params - 4);
    in.params = params;
    in.params_len = sizeof params;
    CHECK(seam_gp_build_install(&in, cmd, sizeof cmd, &n) == SEAM_OK);
    CHECK(seam_gp_plan_add(plan, cmd, n) == SEAM_OK);
    CHECK(seam_gp_plan_delete(plan, aid, sizeof aid, false) == SEAM_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t answers[1024];
    seam_gp_remote_config c;
    seam_gp_remote *r = NULL;
    seam_gp_remote_report rep;
    seam_gp_plan plan;
    const uint8_t *cmds = NULL;
    size_t len = 0, answers_len = 0, planned = 2;
    if (size < 1)
        return 0;
    memset(&c, 0, sizeof c);
    seam_gp_keys_default(&c.keys);
    c.level = levels[data[0] % sizeof levels];
    CHECK(seam_gp_remote_new(&c, &r) == SEAM_OK);
    CHECK(seam_gp_remote_start(r, &cmds, &len) == SEAM_OK);
    seam_gp_plan_init(&plan);
    bool round1 = data[0] >= 0x80;
    if (!round1) {
        answer_round_one(cmds, len, answers, sizeof answers, &answers_len);
        CHECK(seam_gp_remote_read(r, answers, answers_len, NULL) == SEAM_OK);
        make_plan(&plan);
        planned = plan.count;
        CHECK(seam_gp_remote_commands(r, &plan, &cmds, &len) == SEAM_OK);
    }
    uint8_t *in = malloc(size - 1 ? size - 1 : 1);
    if (!in) {
        seam_gp_remote_free(r);
        seam_gp_plan_free(&plan);
        return 0;
    }
    if (size > 1)
        memcpy(in, data + 1, size - 1);
    memset(&rep, 0xA5, sizeof rep);
    seam_err err = seam_gp_remote_read(r, in, size - 1, &rep);
    seam_gp_remote_state st = seam_gp_remote_get_state(r);
    if (err != SEAM_OK) {
        CHECK(st == SEAM_GP_REMOTE_DEAD);
    } else {
        CHECK(rep.commands == planned && rep.answered <= planned);
        CHECK(st == (rep.ok ? (round1 ? SEAM_GP_REMOTE_AUTHENTICATING : SEAM_GP_REMOTE_OPEN)
                            : SEAM_GP_REMOTE_ENDED));
        CHECK(rep.ok ? rep.sw == 0x9000 && rep.answered == planned
                     : rep.sw != 0x9000 && (rep.authentication_refused || rep.failed < planned));
        for (size_t i = 0; i < planned; i++) {
            const uint8_t *d = NULL;
            size_t n = 0;
            uint16_t sw = 0;
            if (seam_gp_remote_response(r, i, &sw, &d, &n) == SEAM_OK)
                CHECK(n < size && (n == 0 || d != NULL));
        }
        CHECK(seam_gp_remote_read(r, in, size - 1, NULL) == SEAM_ERR_GP_SCRIPT);
    }
    free(in);
    seam_gp_plan_free(&plan);
    seam_gp_remote_free(r);
    return 0;
}
