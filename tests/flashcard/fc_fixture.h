/*
 * The flash card tests' fixture (on top of tests/card/card_host.h and sd_host.h):
 * a folder with a card image whose issuer installed the controller's domain (and,
 * for FIG. 12, a terminal's domain), handed over to random keys; purse 1.0 loaded
 * and installed through one of them, personalized (PIN 5678) and used (balance 70);
 * the controller's key file domain.keys (0600). Helpers send host frames and check
 * the purse the way tests/card/test_upgrade.c does (tests/perso/purse_host.h).
 */
#ifndef SEAM_TESTS_FC_FIXTURE_H
#define SEAM_TESTS_FC_FIXTURE_H

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "card/sd_host.h"
#include "perso/purse_host.h"
#include "seam/crypto.h"
#include "seam/flashcard.h"
#include "seam/link.h"
#include "seam/perso.h"

static const uint8_t controller_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0C};
static const uint8_t terminal_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0D};
static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00};

typedef struct {
    char root[64];
    char dir[96]; /* the flash card's folder */
    char image[128];
    char flash[128];
    uint8_t controller_key[16]; /* ENC = MAC = DEK of each domain after the handover */
    uint8_t terminal_key[16];
    seam_perso_domain controller, terminal;
    uint8_t cin[16]; /* the card's CIN (GET DATA 45) */
    size_t cin_len;
    seam_flashcard *fc;
} fc_fixture;

static uint8_t answer[SEAM_FLASHCARD_HEADER_LEN + SEAM_GP_RESPONSE_MAX];
static seam_flashcard_frame reply; /* the last answer frame, pointing into answer */

/* Sends one host frame (tag, value) to fc; the answer in reply. Returns the host call's
   error (SEAM_OK when an answer came). */
static inline seam_err host(seam_flashcard *fc, uint8_t tag, const uint8_t *value, size_t len) {
    static uint8_t frame[SEAM_FLASHCARD_HEADER_LEN + 200000];
    size_t n = 0, used = 0;
    assert_int_equal(seam_flashcard_frame_encode(tag, value, len, frame, sizeof frame, &n),
                     SEAM_OK);
    seam_err e = seam_flashcard_host(fc, frame, n, answer, sizeof answer, &n);
    if (!e)
        assert_int_equal(seam_flashcard_frame_decode(answer, n, &reply, &used), SEAM_OK);
    return e;
}

/* The seam_err a REFUSED answer carries (0 for DONE). */
static inline int refusal(void) {
    if (reply.tag == SEAM_FLASHCARD_ANSWER_DONE)
        return 0;
    assert_int_equal(reply.tag, SEAM_FLASHCARD_ANSWER_REFUSED);
    assert_true(reply.len >= 2);
    return -(int)(reply.value[0] << 8 | reply.value[1]);
}

static inline void domain_of(seam_perso_domain *d, const uint8_t *aid, size_t len,
                             const uint8_t key[16]) {
    memset(d, 0, sizeof *d);
    assert_int_equal(seam_gp_aid_set(&d->aid, aid, len), SEAM_OK);
    d->kvn = 0x30;
    assert_int_equal(seam_gp_keys_set(&d->keys, key, 16), SEAM_OK);
}

/* The issuer installs SSD aid (Authorized Management) and hands it over to key. */
static inline void issue_domain(seam_card *card, const uint8_t *aid, size_t len,
                                const uint8_t *key) {
    open_channel(card);
    assert_int_equal(install_sd(card, 0x0C, aid, len, priv_am, 3), 0x9000);
    assert_int_equal(open_sd(card, aid, len, test_key), 0x9000);
    assert_int_equal(put_key_30(card, key), 0x9000);
}

typedef enum { PURSE_CONTROLLER, PURSE_TERMINAL, PURSE_NONE } purse_owner;

/* Builds the flash card's folder: the card, both domains, purse 1.0 owned by one of them
   (or not there), personalized and used; the controller's key file. The card is closed
   again: the flash card opens it. */
static inline void fc_build(fc_fixture *x, purse_owner owner) {
    memset(x, 0, sizeof *x);
    strcpy(x->root, "/tmp/seam-fc-XXXXXX");
    assert_non_null(mkdtemp(x->root));
    snprintf(x->dir, sizeof x->dir, "%s/fc", x->root);
    assert_int_equal(mkdir(x->dir, 0700), 0);
    snprintf(x->image, sizeof x->image, "%s/card.db", x->dir);
    snprintf(x->flash, sizeof x->flash, "%s/flash.db", x->dir);
    assert_int_equal(seam_crypto_random(x->controller_key, 16), SEAM_OK);
    assert_int_equal(seam_crypto_random(x->terminal_key, 16), SEAM_OK);
    domain_of(&x->controller, controller_aid, sizeof controller_aid, x->controller_key);
    domain_of(&x->terminal, terminal_aid, sizeof terminal_aid, x->terminal_key);
    seam_card *card = NULL;
    assert_int_equal(seam_card_create(x->image, 0, &card), SEAM_OK);
    power_on(card);
    assert_int_equal(select_aid(card, isd, sizeof isd), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0xCA, 0x00, 0x45, 0x00), 0x9000);
    assert_int_equal(response[0], 0x45);
    assert_true(response[1] >= 1 && response[1] <= 16);
    x->cin_len = response[1];
    memcpy(x->cin, response + 2, x->cin_len);
    issue_domain(card, controller_aid, sizeof controller_aid, x->controller_key);
    issue_domain(card, terminal_aid, sizeof terminal_aid, x->terminal_key);
    /* purse 1.0 through its owner's domain, personalized with PIN 5678, then used */
    if (owner == PURSE_NONE) {
        host_forget();
        seam_card_close(card);
        card = NULL;
    } else if (owner == PURSE_TERMINAL)
        assert_int_equal(open_sd(card, terminal_aid, sizeof terminal_aid, x->terminal_key), 0x9000);
    else
        assert_int_equal(open_sd(card, controller_aid, sizeof controller_aid, x->controller_key),
                         0x9000);
    if (card)
        load(card, "purse", purse_pkg, sizeof purse_pkg);
    if (card)
        assert_int_equal(install(card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    if (card) {
        assert_int_equal(install_perso(card, purse, sizeof purse), 0x9000);
        uint8_t block[] = {0xDF, 0x01, 4, '5', '6', '7', '8'};
        assert_int_equal(gp(card, true, 0xE2, 0x90, 0x00, block, sizeof block), 0x9000);
        purse_used(card);
        host_forget();
        seam_card_close(card);
    }
    /* the controller's key file, as the factory writes it */
    char text[512], path[160];
    assert_int_equal(seam_perso_domain_format(&x->controller, text, sizeof text), SEAM_OK);
    snprintf(path, sizeof path, "%s/domain.keys", x->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Removes the fixture's folder (everything closed). */
static inline void fc_remove(fc_fixture *x) {
    char cmd[200];
    seam_flashcard_close(x->fc);
    x->fc = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->root);
    assert_int_equal(system(cmd), 0);
}

/* The CIN the flash card reports (STATUS). */
static inline void fc_cin(seam_flashcard *fc, uint8_t cin[16], size_t *len) {
    seam_flashcard_status st;
    assert_int_equal(host(fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0), SEAM_OK);
    assert_int_equal(refusal(), 0);
    assert_int_equal(seam_flashcard_status_decode(reply.value, reply.len, &st), SEAM_OK);
    memcpy(cin, st.cin, st.cin_len);
    *len = st.cin_len;
}

static inline bool fc_journal(seam_flashcard *fc) {
    seam_flashcard_status st;
    assert_int_equal(host(fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0), SEAM_OK);
    assert_int_equal(seam_flashcard_status_decode(reply.value, reply.len, &st), SEAM_OK);
    return st.journal;
}

/* STORE of apps/NAME.wasm for the card whose CIN is cin[0..cin_len): the host call's
   error; the answer in reply. */
static inline seam_err fc_store(seam_flashcard *fc, const char *name, const uint8_t *cin,
                                size_t cin_len) {
    size_t len = 0;
    uint8_t *module = read_module(name, &len);
    uint8_t *v = malloc(1 + cin_len + len);
    assert_non_null(v);
    v[0] = (uint8_t)cin_len;
    memcpy(v + 1, cin, cin_len);
    memcpy(v + 1 + cin_len, module, len);
    seam_err e = host(fc, SEAM_FLASHCARD_CMD_STORE, v, 1 + cin_len + len);
    free(v);
    free(module);
    return e;
}

/* Builds x (the purse owned by owner), powers the flash card on and STOREs apps/NAME.wasm
   for the card whose CIN its STATUS answer gives: the start of most tests. */
static inline void fc_ready(fc_fixture *x, purse_owner owner, const char *name) {
    uint8_t cin[16];
    size_t cin_len;
    fc_build(x, owner);
    assert_int_equal(seam_flashcard_open(x->dir, &x->fc), SEAM_OK);
    fc_cin(x->fc, cin, &cin_len);
    assert_int_equal(fc_store(x->fc, name, cin, cin_len), SEAM_OK);
    assert_int_equal(refusal(), 0);
}

static inline seam_err fc_update_purse(seam_flashcard *fc) {
    uint8_t v[1 + sizeof purse_pkg] = {sizeof purse_pkg};
    memcpy(v + 1, purse_pkg, sizeof purse_pkg);
    return host(fc, SEAM_FLASHCARD_CMD_UPDATE, v, sizeof v);
}

/* The purse package's version (GET STATUS, ISD channel) and its upgrade session status
   (MANAGE ELF UPGRADE P1 08) on the card in image. */
static inline uint16_t purse_state(seam_card *card, uint8_t *upgrade_status) {
    const uint8_t crit[] = {0x4F, 6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    uint16_t v = 0;
    open_channel(card);
    assert_int_equal(gp(card, true, 0xF2, 0x20, 0x02, crit, sizeof crit), 0x9000);
    for (size_t i = 0; i + 4 <= response_len; i++)
        if (response[i] == 0xCE && response[i + 1] == 2)
            v = (uint16_t)(response[i + 2] << 8 | response[i + 3]);
    uint16_t sw = 0;
    seam_gp_upgrade_status st;
    assert_int_equal(seam_gp_upgrade(session(card), SEAM_GP_UPGRADE_STATUS, purse_pkg,
                                     sizeof purse_pkg, NULL, 0, &st, &sw),
                     SEAM_OK);
    assert_int_equal(sw, 0x9000);
    *upgrade_status = st.status;
    return v;
}

/* Opens the card image of x (the flash card closed), checks the purse is whole at 1.0 with
   no upgrade session or at 2.0, and returns its version. */
static inline uint16_t purse_checked(fc_fixture *x) {
    seam_card *card = NULL;
    uint8_t status = 0xFF;
    assert_int_equal(seam_card_open(x->image, &card), SEAM_OK);
    power_on(card);
    purse_kept_its_data(card);
    uint16_t v = purse_state(card, &status);
    assert_true(v == 0x0100 || v == 0x0200);
    assert_true(status == 0x00 || status == 0x01);
    host_forget();
    seam_card_close(card);
    return v;
}

#endif
