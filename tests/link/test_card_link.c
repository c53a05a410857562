/*
 * A real seam card behind the vpcd link: the handler `seam card serve` uses
 * (src/cli/card_serve.c) over a card image in a temporary folder, served by
 * seam_vpcd_serve to a fake pcscd on 127.0.0.1 (ephemeral port) that this
 * test plays. Link loss is power loss (issue 9 item 11): after the connection
 * drops, nothing of the card's volatile state (selected applets, a verified
 * PIN, a secure channel) reaches the next connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/card_serve.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/link.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

/* Bound on every wait of the fake reader: a broken client fails the test, not hangs it. */
#define WAIT_MS 5000

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t test_key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                     0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};

/* ---- the card and the serving thread -------------------------------------------- */

typedef struct {
    char dir[64];
    char path[96];
    seam_card *card;
    card_serving serving;
    seam_vpcd_handler handler;
    seam_vpcd_options options;
    volatile sig_atomic_t stop;
    seam_err result;
    pthread_t thread;
    int listener;
} served_card;

static void *serve_main(void *arg) {
    served_card *s = arg;
    s->result = seam_vpcd_serve(&s->options, &s->handler, &s->stop);
    return NULL;
}

/* A listening socket on 127.0.0.1 with an ephemeral port. */
static int listen_loopback(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

/* A new card image served the way `seam card serve` serves it. */
static int setup(void **state) {
    served_card *s = calloc(1, sizeof *s);
    assert_non_null(s);
    strcpy(s->dir, "/tmp/seam-link-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof s->path, "%s/card.db", s->dir);
    assert_int_equal(seam_card_create(s->path, 0, &s->card), SEAM_OK);
    assert_int_equal(card_serving_bind(&s->serving, s->card, &s->handler), SEAM_OK);
    uint16_t port = 0;
    s->listener = listen_loopback(&port);
    s->options = (seam_vpcd_options){.host = "127.0.0.1",
                                     .port = port,
                                     .backoff_min_ms = 20,
                                     .backoff_max_ms = 100,
                                     .io_timeout_ms = 2000};
    assert_int_equal(pthread_create(&s->thread, NULL, serve_main, s), 0);
    *state = s;
    return 0;
}

/* Stops the serving thread (test_vpcd.c checks how soon), closes everything. */
static int teardown(void **state) {
    served_card *s = *state;
    s->stop = 1;
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    assert_int_equal(s->result, SEAM_OK);
    close(s->listener);
    seam_card_close(s->card);
    assert_int_equal(seam_card_remove(s->path), SEAM_OK);
    rmdir(s->dir);
    free(s);
    return 0;
}

/* ---- the fake reader ---------------------------------------------------------------- */

static int accept_card(served_card *s) {
    struct pollfd pfd = {.fd = s->listener, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    int fd = accept(s->listener, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* Closes fd so that the card side gets a reset (ECONNRESET): the link breaks. */
static void break_link(int fd) {
    struct linger hard = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
    close(fd);
}

static void send_frame(int fd, const uint8_t *payload, size_t len) {
    uint8_t frame[2 + 300];
    assert_true(len <= sizeof frame - 2);
    frame[0] = (uint8_t)(len >> 8);
    frame[1] = (uint8_t)len;
    memcpy(frame + 2, payload, len);
    assert_int_equal(send(fd, frame, len + 2, MSG_NOSIGNAL), (ssize_t)(len + 2));
}

static void read_exact(int fd, uint8_t *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
        ssize_t n = recv(fd, buf + got, len - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

static uint8_t answer[SEAM_VPCD_MAX_PAYLOAD];
static size_t answer_len;

/* Reads one answer frame into answer[0..answer_len). */
static void read_answer(int fd) {
    uint8_t header[2];
    read_exact(fd, header, 2);
    answer_len = (size_t)header[0] << 8 | header[1];
    read_exact(fd, answer, answer_len);
}

/* Sends a control byte (power off 00, on 01, reset 02): vpcd reads no answer. */
static void control(int fd, uint8_t byte) {
    send_frame(fd, &byte, 1);
}

/* Asks for the ATR, as vpcd does after a power on and to see whether a card is there. */
static void get_atr(int fd) {
    control(fd, 0x04);
    read_answer(fd);
    const uint8_t atr[] = {0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x80, 0x01, 0xCB, 0xBD};
    assert_int_equal(answer_len, sizeof atr);
    assert_memory_equal(answer, atr, sizeof atr);
}

/* Sends a command APDU and returns the status word of its answer. */
static uint16_t transmit(int fd, const uint8_t *apdu, size_t len) {
    send_frame(fd, apdu, len);
    read_answer(fd);
    assert_true(answer_len >= 2);
    return (uint16_t)(answer[answer_len - 2] << 8 | answer[answer_len - 1]);
}

#define APDU(fd, ...)                                                                              \
    transmit(fd, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static uint16_t select_on(int fd, uint8_t cla, const uint8_t *aid, size_t len) {
    uint8_t cmd[5 + 16 + 1] = {cla, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    return transmit(fd, cmd, 6 + len);
}

/* The host side of an SCP03 session at C-MAC level. */
typedef struct {
    seam_crypto_scp03_session keys;
    uint8_t chain[16];
} host_session;

/* Opens SCP03 (C-MAC) with the test keys on the ISD, selected on channel 0. */
static void open_secure_channel(int fd, host_session *h) {
    const uint8_t host_challenge[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(select_on(fd, 0x00, isd_aid, sizeof isd_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00), 0x9000);
    assert_int_equal(seam_crypto_scp03_derive_session(&h->keys, test_key, test_key, 16,
                                                      host_challenge, answer + 13, 8),
                     SEAM_OK);
    uint8_t cmd[5 + 16] = {0x84, 0x82, 0x01, 0x00, 0x10};
    assert_int_equal(seam_crypto_scp03_host_cryptogram(&h->keys, cmd + 5), SEAM_OK);
    memset(h->chain, 0, sizeof h->chain);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, cmd, 5, cmd + 5, 8, cmd + 13), SEAM_OK);
    assert_int_equal(transmit(fd, cmd, sizeof cmd), 0x9000);
}

/* Sends a GP command (CLA 84) with the session's next C-MAC. */
static uint16_t gp_mac(int fd, host_session *h, uint8_t ins, uint8_t p1, uint8_t p2,
                       const uint8_t *data, size_t nc) {
    uint8_t cmd[5 + 255 + 1] = {0x84, ins, p1, p2, (uint8_t)(nc + 8)};
    assert_true(nc + 8 <= 255);
    if (nc)
        memcpy(cmd + 5, data, nc);
    assert_int_equal(
        seam_crypto_scp03_command_mac(&h->keys, h->chain, cmd, 5, data, nc, cmd + 5 + nc), SEAM_OK);
    cmd[5 + nc + 8] = 0x00;
    return transmit(fd, cmd, 5 + nc + 8 + 1);
}

/* GET STATUS of the ISD under C-MAC: what a session of the card manager sends. */
static uint16_t get_status_mac(int fd, host_session *h) {
    const uint8_t all[] = {0x4F, 0x00};
    return gp_mac(fd, h, 0xF2, 0x80, 0x02, all, sizeof all);
}

/* Loads apps/purse and installs its instance (PIN 1234, balance 0) through the session. */
static void install_purse(int fd, host_session *h) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    snprintf(path, sizeof path, "%s/purse.wasm", dir ? dir : SEAM_TEST_APPS);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long module_len = ftell(f);
    assert_true(module_len > 0 && module_len < 0xFFFF);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    size_t len = (size_t)module_len + 4;
    uint8_t *file = malloc(len);
    assert_non_null(file);
    file[0] = 0xC4; /* the load file: C4 82 hh ll || module */
    file[1] = 0x82;
    file[2] = (uint8_t)(module_len >> 8);
    file[3] = (uint8_t)module_len;
    assert_int_equal(fread(file + 4, 1, (size_t)module_len, f), (size_t)module_len);
    fclose(f);
    uint8_t d[64] = {sizeof purse_pkg};
    memcpy(d + 1, purse_pkg, sizeof purse_pkg);
    memset(d + 1 + sizeof purse_pkg, 0, 4); /* SD (the ISD), hash, params, token: empty */
    assert_int_equal(gp_mac(fd, h, 0xE6, 0x02, 0x00, d, 1 + sizeof purse_pkg + 4), 0x9000);
    uint16_t sw = 0x9000;
    for (size_t off = 0, block = 0; off < len && sw == 0x9000; off += 200, block++) {
        size_t n = len - off < 200 ? len - off : 200;
        sw = gp_mac(fd, h, 0xE8, off + n == len ? 0x80 : 0x00, (uint8_t)block, file + off, n);
    }
    assert_int_equal(sw, 0x9000);
    free(file);
    size_t n = 0;
    d[n++] = sizeof purse_pkg;
    memcpy(d + n, purse_pkg, sizeof purse_pkg);
    n += sizeof purse_pkg;
    for (unsigned i = 0; i < 2; i++) { /* class and instance: the same AID */
        d[n++] = sizeof purse_aid;
        memcpy(d + n, purse_aid, sizeof purse_aid);
        n += sizeof purse_aid;
    }
    const uint8_t tail[] = {1, 0x00, 2, 0xC9, 0x00, 0}; /* privileges, params C9 00, token */
    memcpy(d + n, tail, sizeof tail);
    n += sizeof tail;
    assert_int_equal(gp_mac(fd, h, 0xE6, 0x0C, 0x00, d, n), 0x9000);
}

/* ---- tests ------------------------------------------------------------------------- */

/*
 * Connect, power on, open SCP03 on the ISD (channel 0), open channel 1 with
 * the purse selected and its PIN verified, then break the link. The next
 * connection finds the card powered off: before the reader powers it on,
 * every command (the session's next C-MAC'd command, a purse command on
 * channel 1) answers 6F00; after the power on, the secure channel, channel
 * 1, the selected purse and its verified PIN are gone, and what was
 * committed (the credit) is still there.
 */
static void hardening_11_link_loss_is_power_loss(void **state) {
    served_card *s = *state;
    host_session h;
    int fd = accept_card(s);
    control(fd, 0x01);
    get_atr(fd);
    open_secure_channel(fd, &h);
    install_purse(fd, &h);
    assert_int_equal(get_status_mac(fd, &h), 0x9000);
    assert_int_equal(APDU(fd, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* MANAGE CHANNEL open */
    assert_int_equal(answer[0], 0x01);
    assert_int_equal(select_on(fd, 0x01, purse_aid, sizeof purse_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x01, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(APDU(fd, 0x01, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 7), 0x9000); /* CREDIT 7 */
    break_link(fd);

    /* The card comes back on a new connection; vpcd probes it with GET ATR. */
    fd = accept_card(s);
    get_atr(fd);
    /* No power on yet: the card answers nothing but 6F00. */
    assert_int_equal(get_status_mac(fd, &h), 0x6F00);
    assert_int_equal(APDU(fd, 0x01, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 9), 0x6F00);
    assert_int_equal(APDU(fd, 0x01, 0x50, 0x00, 0x00, 0x00), 0x6F00);

    /* Powered on: a fresh card. */
    control(fd, 0x01);
    get_atr(fd);
    assert_int_equal(get_status_mac(fd, &h), 0x6982);                 /* no secure channel */
    assert_int_equal(APDU(fd, 0x01, 0x50, 0x00, 0x00, 0x00), 0x6881); /* channel 1 closed */
    assert_int_equal(APDU(fd, 0x00, 0x50, 0x00, 0x00, 0x00), 0x6D00); /* the ISD, not the purse */
    assert_int_equal(select_on(fd, 0x00, purse_aid, sizeof purse_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x00, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 9), 0x6985); /* no PIN */
    assert_int_equal(APDU(fd, 0x00, 0x50, 0x00, 0x00, 0x00), 0x9000);
    const uint8_t balance[8] = {0, 0, 0, 7, 0, 0, 0, 1}; /* balance 7 after 1 transaction */
    assert_int_equal(answer_len, sizeof balance + 2);
    assert_memory_equal(answer, balance, sizeof balance);
    close(fd);
}

/*
 * vpcd asks for the ATR to see whether a card is present, powered or not: the
 * answer must not power the card on. On the first connection of a freshly
 * opened card and after the reader powered the card off, a command sent
 * before a power on answers 6F00.
 */
static void hardening_11_get_atr_leaves_the_card_powered_off(void **state) {
    served_card *s = *state;
    int fd = accept_card(s);
    get_atr(fd);
    assert_int_equal(select_on(fd, 0x00, isd_aid, sizeof isd_aid), 0x6F00);
    control(fd, 0x01);
    get_atr(fd);
    assert_int_equal(select_on(fd, 0x00, isd_aid, sizeof isd_aid), 0x9000);
    control(fd, 0x00);
    get_atr(fd);
    assert_int_equal(select_on(fd, 0x00, isd_aid, sizeof isd_aid), 0x6F00);
    close(fd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hardening_11_link_loss_is_power_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(hardening_11_get_atr_leaves_the_card_powered_off, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
