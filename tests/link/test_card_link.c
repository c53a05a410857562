/*
 * A real seam card behind the vpcd link: the handler `seam card serve` uses
 * (src/cli/card_serve.c) over a card image in a temporary folder, served by
 * seam_vpcd_serve to a fake pcscd on 127.0.0.1 (ephemeral port) that this
 * test plays. Link loss is power loss (issue 9 item 11): after the connection
 * drops, nothing of the card's volatile state (selected applets, a verified
 * PIN, a secure channel) reaches the next connection. The test's host side is
 * the host library (seam/gp.h) over a seam_gp_link that speaks vpcd's frames
 * from the reader's side: the session that manages the card is the same one
 * `seam gp` uses.
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
#include "seam/gp.h"
#include "seam/link.h"

#ifndef SEAM_TEST_APPS
#define SEAM_TEST_APPS "build/apps"
#endif

/* Bound on every wait of the fake reader: a broken client fails the test, not hangs it. */
#define WAIT_MS 5000

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t purse_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};

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
    static uint8_t frame[2 + SEAM_VPCD_MAX_PAYLOAD];
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

/* ---- the host library over the fake reader ------------------------------------------ */

/* The connection the link talks on (the test replaces it when the card reconnects). */
static int reader_fd = -1;

static seam_err reader_power_on(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    (void)ctx;
    control(reader_fd, 0x01);
    get_atr(reader_fd);
    if (answer_len > size)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(atr, answer, answer_len);
    *len = answer_len;
    return SEAM_OK;
}

static seam_err reader_power_off(void *ctx) {
    (void)ctx;
    control(reader_fd, 0x00);
    return SEAM_OK;
}

static size_t longest_command; /* the longest command APDU the fake reader carried */

static seam_err reader_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                                size_t size, size_t *response_len) {
    (void)ctx;
    if (len > longest_command)
        longest_command = len;
    transmit(reader_fd, command, len);
    if (answer_len > size)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(response, answer, answer_len);
    *response_len = answer_len;
    return SEAM_OK;
}

static void reader_close(void *ctx) {
    (void)ctx;
}

static const seam_gp_link_ops reader_ops = {
    .power_on = reader_power_on,
    .reset = reader_power_on,
    .power_off = reader_power_off,
    .transmit = reader_transmit,
    .close = reader_close,
};

/* A session over the fake reader, on connection fd. */
typedef struct {
    seam_gp_link link;
    seam_gp *gp;
} host_session;

static void host_start(host_session *h, int fd) {
    reader_fd = fd;
    h->link = (seam_gp_link){.ops = &reader_ops, .ctx = NULL, .kind = "test reader"};
    assert_int_equal(seam_gp_new(&h->link, &h->gp), SEAM_OK);
}

static void host_end(host_session *h) {
    seam_gp_free(h->gp);
    seam_gp_link_close(&h->link);
}

/* Selects the ISD on channel 0 and opens SCP03 (C-MAC) with the test keys. */
static void open_secure_channel(host_session *h) {
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    assert_int_equal(seam_gp_select(h->gp, isd_aid, sizeof isd_aid, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(seam_gp_open_channel(h->gp, &keys, 0x00, 0x01, NULL, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
}

/* GET STATUS of the ISD through the session (C-MAC while its channel is open): what a
   session of the card manager sends; its status word. */
static uint16_t get_status_mac(host_session *h) {
    static const uint8_t cmd[] = {0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F, 0x00, 0x00};
    uint16_t sw = 0;
    assert_int_equal(seam_gp_transmit(h->gp, cmd, sizeof cmd, NULL, 0, NULL, &sw), SEAM_OK);
    return sw;
}

/* Loads apps/purse and installs its instance (PIN 1234, balance 0) through the session. */
static void install_purse(host_session *h) {
    char path[512];
    const char *dir = getenv("SEAM_TEST_APPS");
    snprintf(path, sizeof path, "%s/purse.wasm", dir ? dir : SEAM_TEST_APPS);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long module_len = ftell(f);
    assert_true(module_len > 0 && module_len < 0xFFFF);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    uint8_t *module = malloc((size_t)module_len);
    assert_non_null(module);
    assert_int_equal(fread(module, 1, (size_t)module_len, f), (size_t)module_len);
    fclose(f);
    seam_gp_package_install in = {.module = module, .module_len = (size_t)module_len};
    uint16_t sw = 0;
    assert_int_equal(seam_gp_aid_set(&in.applet, purse_aid, sizeof purse_aid), SEAM_OK);
    assert_int_equal(seam_gp_install_package(h->gp, &in, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    free(module);
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
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    int fd = accept_card(s);
    host_start(&h, fd);
    assert_int_equal(seam_gp_link_power_on(&h.link, atr, sizeof atr, &atr_len), SEAM_OK);
    open_secure_channel(&h);
    install_purse(&h);
    assert_int_equal(get_status_mac(&h), 0x9000);
    assert_int_equal(APDU(fd, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* MANAGE CHANNEL open */
    assert_int_equal(answer[0], 0x01);
    assert_int_equal(select_on(fd, 0x01, purse_aid, sizeof purse_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x01, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
    assert_int_equal(APDU(fd, 0x01, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 7), 0x9000); /* CREDIT 7 */
    break_link(fd);

    /* The card comes back on a new connection; vpcd probes it with GET ATR. */
    fd = accept_card(s);
    reader_fd = fd; /* the session goes on, its channel as it was */
    get_atr(fd);
    /* No power on yet: the card answers nothing but 6F00. */
    assert_int_equal(get_status_mac(&h), 0x6F00);
    assert_int_equal(APDU(fd, 0x01, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 9), 0x6F00);
    assert_int_equal(APDU(fd, 0x01, 0x50, 0x00, 0x00, 0x00), 0x6F00);

    /* Powered on: a fresh card. */
    control(fd, 0x01);
    get_atr(fd);
    assert_int_equal(get_status_mac(&h), 0x6982);                     /* no secure channel */
    assert_int_equal(APDU(fd, 0x01, 0x50, 0x00, 0x00, 0x00), 0x6881); /* channel 1 closed */
    assert_int_equal(APDU(fd, 0x00, 0x50, 0x00, 0x00, 0x00), 0x6D00); /* the ISD, not the purse */
    assert_int_equal(select_on(fd, 0x00, purse_aid, sizeof purse_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x00, 0x30, 0x00, 0x00, 0x04, 0, 0, 0, 9), 0x6985); /* no PIN */
    assert_int_equal(APDU(fd, 0x00, 0x50, 0x00, 0x00, 0x00), 0x9000);
    const uint8_t balance[8] = {0, 0, 0, 7, 0, 0, 0, 1}; /* balance 7 after 1 transaction */
    assert_int_equal(answer_len, sizeof balance + 2);
    assert_memory_equal(answer, balance, sizeof balance);
    host_end(&h);
    close(fd);
}

/*
 * The ATR the card gives through vpcd announces extended Lc and Le: the host
 * library told it sends the purse's LOAD blocks as extended APDUs (4 KiB
 * frames, one C-MAC each), the card behind vpcd takes them, and the purse runs.
 */
static void an_extended_load_crosses_the_vpcd_link(void **state) {
    served_card *s = *state;
    host_session h;
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    int fd = accept_card(s);
    host_start(&h, fd);
    assert_int_equal(seam_gp_link_power_on(&h.link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(seam_gp_set_atr(h.gp, atr, atr_len), SEAM_OK);
    open_secure_channel(&h);
    assert_true(seam_gp_load_block_size(h.gp) > 255);
    longest_command = 0;
    install_purse(&h);
    assert_true(longest_command > 4 + 1 + 255 + 1); /* no short APDU is that long */
    assert_int_equal(select_on(fd, 0x00, purse_aid, sizeof purse_aid), 0x9000);
    assert_int_equal(APDU(fd, 0x00, 0x50, 0x00, 0x00, 0x00), 0x9000);
    host_end(&h);
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
        cmocka_unit_test_setup_teardown(an_extended_load_crosses_the_vpcd_link, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
