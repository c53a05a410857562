/*
 * Tests for the vpcd link: the frame codec and incremental decoder, and the
 * client loop against a fake pcscd listening on 127.0.0.1 (ephemeral port).
 * Every wait is bounded so a broken client fails the test instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seam/link.h"
#include "seam/util.h"
#include "util/util_test.h"

#define COUNT(a)      (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS       5000 /* bound on every wait of the fake reader */
#define STOP_BOUND_MS 1000 /* the client must return this soon after stop */

/* ------------------------------------------------------------------------ */
/* Frame codec                                                               */
/* ------------------------------------------------------------------------ */

static void encode_writes_length_and_payload(void **state) {
    (void)state;
    const uint8_t apdu[] = {0x00, 0xA4, 0x04, 0x00};
    uint8_t out[8];
    memset(out, 0xEE, sizeof out);
    size_t out_len = 0;
    assert_int_equal(seam_vpcd_frame_encode(apdu, 4, out, 5, &out_len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(out_len, 6);
    assert_int_equal(out[0], 0xEE);
    assert_int_equal(seam_vpcd_frame_encode(apdu, 4, out, sizeof out, &out_len), SEAM_OK);
    const uint8_t want[] = {0x00, 0x04, 0x00, 0xA4, 0x04, 0x00};
    assert_int_equal(out_len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(seam_vpcd_frame_encode(NULL, 0, out, sizeof out, &out_len), SEAM_OK);
    assert_int_equal(out_len, 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    out_len = 99;
    assert_int_equal(
        seam_vpcd_frame_encode(apdu, SEAM_VPCD_MAX_PAYLOAD + 1, out, sizeof out, &out_len),
        SEAM_ERR_LINK_OVERSIZE);
    assert_int_equal(out_len, 99);
}

static void decode_finds_frames_and_reports_truncation(void **state) {
    (void)state;
    static const struct {
        const char *hex;
        seam_err err;
        size_t payload_len;
    } vectors[] = {
        {"", SEAM_ERR_TRUNCATED, 0},
        {"00", SEAM_ERR_TRUNCATED, 0},
        {"00 01", SEAM_ERR_TRUNCATED, 0},
        {"00 04 00 A4 04", SEAM_ERR_TRUNCATED, 0},
        {"00 00", SEAM_OK, 0},
        {"00 01 04", SEAM_OK, 1},
        {"00 01 04 00 01 01", SEAM_OK, 1}, /* the next frame is left alone */
        {"00 04 00 A4 04 00", SEAM_OK, 4},
    };
    for (size_t i = 0; i < COUNT(vectors); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(vectors[i].hex, &len);
        const uint8_t *payload = (const uint8_t *)"x";
        size_t payload_len = 77, frame_len = 77;
        assert_int_equal(seam_vpcd_frame_decode(in, len, &payload, &payload_len, &frame_len),
                         vectors[i].err);
        if (vectors[i].err == SEAM_OK) {
            assert_ptr_equal(payload, in + 2);
            assert_int_equal(payload_len, vectors[i].payload_len);
            assert_int_equal(frame_len, vectors[i].payload_len + 2);
        } else {
            assert_int_equal(payload_len, 77);
            assert_int_equal(frame_len, 77);
        }
        free(in);
    }
}

static void classify_tells_control_bytes_from_apdus(void **state) {
    (void)state;
    static const struct {
        const char *hex;
        seam_vpcd_request request;
    } vectors[] = {
        {"00", SEAM_VPCD_POWER_OFF},       {"01", SEAM_VPCD_POWER_ON},
        {"02", SEAM_VPCD_RESET},           {"04", SEAM_VPCD_GET_ATR},
        {"03", SEAM_VPCD_UNKNOWN_CONTROL}, {"FF", SEAM_VPCD_UNKNOWN_CONTROL},
        {"00 01", SEAM_VPCD_APDU},         {"00 A4 04 00", SEAM_VPCD_APDU},
    };
    for (size_t i = 0; i < COUNT(vectors); i++) {
        size_t len = 0;
        uint8_t *in = from_hex(vectors[i].hex, &len);
        seam_vpcd_request request = (seam_vpcd_request)-1;
        assert_int_equal(seam_vpcd_classify(in, len, &request), SEAM_OK);
        assert_int_equal(request, vectors[i].request);
        free(in);
    }
    seam_vpcd_request request = SEAM_VPCD_RESET;
    assert_int_equal(seam_vpcd_classify(NULL, 0, &request), SEAM_ERR_MALFORMED);
    assert_int_equal(request, SEAM_VPCD_RESET);
}

/* A stream of four frames: an APDU, power on, an empty frame, get ATR. */
static const char stream_hex[] = "00 08 80 CA 00 66 02 AA BB 00"
                                 " 00 01 01"
                                 " 00 00"
                                 " 00 01 04";
static const size_t stream_payloads[] = {8, 1, 0, 1};

/* Feeds stream[0..len) in pieces of `piece` bytes; checks every frame comes out whole. */
static void feed_in_pieces(const uint8_t *stream, size_t len, size_t piece) {
    uint8_t storage[64];
    seam_vpcd_decoder dec;
    seam_vpcd_decoder_init(&dec, storage, sizeof storage);
    size_t frames = 0, offset = 0, frame_start = 0;
    while (offset < len) {
        size_t end = offset + piece < len ? offset + piece : len;
        while (offset < end) {
            size_t used = 0, payload_len = 0;
            bool complete = false;
            uint8_t *chunk = exact_copy(stream + offset, end - offset);
            assert_int_equal(
                seam_vpcd_decoder_feed(&dec, chunk, end - offset, &used, &complete, &payload_len),
                SEAM_OK);
            free(chunk);
            assert_true(used > 0 && used <= end - offset);
            offset += used;
            if (complete) {
                assert_true(frames < COUNT(stream_payloads));
                assert_int_equal(payload_len, stream_payloads[frames]);
                assert_int_equal(offset - frame_start, payload_len + 2);
                if (payload_len)
                    assert_memory_equal(storage, stream + frame_start + 2, payload_len);
                frames++;
                frame_start = offset;
            }
        }
    }
    assert_int_equal(frames, COUNT(stream_payloads));
}

static void decoder_reassembles_frames_split_across_reads(void **state) {
    (void)state;
    size_t len = 0;
    uint8_t *stream = from_hex(stream_hex, &len);
    for (size_t piece = 1; piece <= len; piece++)
        feed_in_pieces(stream, len, piece);
    free(stream);
}

static void decoder_refuses_oversize_frames_and_stays_refused(void **state) {
    (void)state;
    uint8_t storage[16];
    seam_vpcd_decoder dec;
    seam_vpcd_decoder_init(&dec, storage, sizeof storage);
    uint8_t frame[18] = {0x00, 0x10};
    size_t used = 0, payload_len = 0;
    bool complete = false;
    assert_int_equal(
        seam_vpcd_decoder_feed(&dec, frame, sizeof frame, &used, &complete, &payload_len), SEAM_OK);
    assert_true(complete);
    assert_int_equal(payload_len, 16);
    memset(storage, 0xEE, sizeof storage);
    const uint8_t oversize[] = {0x00, 0x11, 0xAA};
    payload_len = 55;
    assert_int_equal(
        seam_vpcd_decoder_feed(&dec, oversize, sizeof oversize, &used, &complete, &payload_len),
        SEAM_ERR_LINK_OVERSIZE);
    assert_false(complete);
    assert_int_equal(used, 2);
    assert_int_equal(payload_len, 55);
    assert_int_equal(storage[0], 0xEE);
    assert_int_equal(
        seam_vpcd_decoder_feed(&dec, frame, sizeof frame, &used, &complete, &payload_len),
        SEAM_ERR_LINK_OVERSIZE);
    /* The full 65535-byte frame fits a decoder that has room for it. */
    uint8_t *big = calloc(1, SEAM_VPCD_MAX_PAYLOAD);
    seam_vpcd_decoder_init(&dec, big, SEAM_VPCD_MAX_PAYLOAD);
    const uint8_t header[] = {0xFF, 0xFF};
    assert_int_equal(seam_vpcd_decoder_feed(&dec, header, 2, &used, &complete, &payload_len),
                     SEAM_OK);
    assert_false(complete);
    free(big);
}

/* ------------------------------------------------------------------------ */
/* Client against a fake pcscd                                               */
/* ------------------------------------------------------------------------ */

static const uint8_t test_atr[] = {0x3B, 0x80, 0x80, 0x01, 0x01};

/*
 * What the client thread saw; read by the test only after the thread ended,
 * except fail_atr, which the test sets while the client runs. The trace has
 * one letter per callback in call order: N power on, F power off, R reset,
 * A get ATR, P APDU.
 */
typedef struct {
    int power_on, power_off, reset, atr, apdu;
    char trace[64];
    size_t trace_len;
    atomic_bool fail_atr; /* the atr callback fails while set */
} card_calls;

static void note(card_calls *calls, char letter) {
    if (calls->trace_len + 1 < sizeof calls->trace)
        calls->trace[calls->trace_len++] = letter;
}

static seam_err card_power_on(void *ctx) {
    ((card_calls *)ctx)->power_on++;
    note(ctx, 'N');
    return SEAM_OK;
}

static seam_err card_power_off(void *ctx) {
    ((card_calls *)ctx)->power_off++;
    note(ctx, 'F');
    return SEAM_OK;
}

static seam_err card_reset(void *ctx) {
    ((card_calls *)ctx)->reset++;
    note(ctx, 'R');
    return SEAM_OK;
}

static seam_err card_atr(void *ctx, uint8_t *out, size_t out_size, size_t *out_len) {
    ((card_calls *)ctx)->atr++;
    note(ctx, 'A');
    if (atomic_load(&((card_calls *)ctx)->fail_atr))
        return SEAM_ERR_CARD;
    if (out_size < sizeof test_atr)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(out, test_atr, sizeof test_atr);
    *out_len = sizeof test_atr;
    return SEAM_OK;
}

/* Echoes the bytes after the fifth with 9000; INS EE fails (the link must answer 6F00). */
static seam_err card_apdu(void *ctx, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t out_size, size_t *out_len) {
    ((card_calls *)ctx)->apdu++;
    note(ctx, 'P');
    if (in_len >= 2 && in[1] == 0xEE)
        return SEAM_ERR_CARD;
    size_t data_len = in_len > 5 ? in_len - 5 : 0;
    if (out_size < data_len + 2)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(out, in + 5, data_len);
    out[data_len] = 0x90;
    out[data_len + 1] = 0x00;
    *out_len = data_len + 2;
    return SEAM_OK;
}

typedef struct {
    seam_vpcd_options options;
    seam_vpcd_handler handler;
    card_calls calls;
    volatile sig_atomic_t stop;
    atomic_bool finished;
    seam_err result;
    pthread_t thread;
} client_run;

static void *client_main(void *arg) {
    client_run *run = arg;
    run->result = seam_vpcd_serve(&run->options, &run->handler, &run->stop);
    atomic_store(&run->finished, true);
    return NULL;
}

static void start_client(client_run *run, uint16_t port) {
    memset(run, 0, sizeof *run);
    run->options = (seam_vpcd_options){.host = "127.0.0.1",
                                       .port = port,
                                       .backoff_min_ms = 20,
                                       .backoff_max_ms = 100,
                                       .io_timeout_ms = 2000};
    run->handler = (seam_vpcd_handler){&run->calls, card_power_on, card_power_off,
                                       card_reset,  card_atr,      card_apdu};
    atomic_init(&run->finished, false);
    atomic_init(&run->calls.fail_atr, false);
    assert_int_equal(pthread_create(&run->thread, NULL, client_main, run), 0);
}

static long elapsed_ms(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* Sets the stop flag and joins, failing if the client takes longer than STOP_BOUND_MS. */
static void stop_client(client_run *run) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    run->stop = 1;
    while (!atomic_load(&run->finished) && elapsed_ms(&start) < STOP_BOUND_MS)
        poll(NULL, 0, 10);
    if (!atomic_load(&run->finished))
        fail_msg("the vpcd client did not stop within %d ms", STOP_BOUND_MS);
    assert_int_equal(pthread_join(run->thread, NULL), 0);
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

static int accept_within(int listener, int timeout_ms) {
    struct pollfd pfd = {.fd = listener, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
    int fd = accept(listener, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

static void send_hex(int fd, const char *hex) {
    size_t len = 0;
    uint8_t *bytes = from_hex(hex, &len);
    assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    free(bytes);
}

/* Reads exactly len bytes within WAIT_MS; false if the peer closed first. */
static bool read_exact(int fd, uint8_t *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Reads one frame and checks it is exactly the expected hex frame. */
static void expect_frame(int fd, const char *hex) {
    size_t len = 0;
    uint8_t *want = from_hex(hex, &len);
    uint8_t *got = malloc(len);
    assert_true(read_exact(fd, got, len));
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
}

static void client_serves_reader_and_reconnects(void **state) {
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    client_run run;
    start_client(&run, port);

    /* Session 1: power on, ATR, APDUs (one split across writes), power off. */
    int conn = accept_within(listener, WAIT_MS);
    send_hex(conn, "00 01 01");
    send_hex(conn, "00 01 04");
    expect_frame(conn, "00 05 3B 80 80 01 01");
    send_hex(conn, "00 08 00 A4 04 00 02 A0 00 00");
    expect_frame(conn, "00 05 A0 00 00 90 00");
    send_hex(conn, "00 07 80 CA");
    poll(NULL, 0, 30);
    send_hex(conn, "00 66 01 5A");
    poll(NULL, 0, 30);
    send_hex(conn, "00");
    expect_frame(conn, "00 04 5A 00 90 00");
    send_hex(conn, "00 04 80 EE 00 00");
    expect_frame(conn, "00 02 6F 00");
    send_hex(conn, "00 01 03 00 00 00 01 00 00 01 04"); /* unknown, empty, off, ATR */
    expect_frame(conn, "00 05 3B 80 80 01 01");
    close(conn);

    /* Session 2: the client comes back on its own; stop it while connected. */
    conn = accept_within(listener, WAIT_MS);
    send_hex(conn, "00 01 02 00 01 04");
    expect_frame(conn, "00 05 3B 80 80 01 01");
    stop_client(&run);
    uint8_t byte;
    assert_false(read_exact(conn, &byte, 1)); /* the client closed its end */
    close(conn);
    close(listener);

    assert_int_equal(run.result, SEAM_OK);
    /* off before connecting; on, ATR, 3 APDUs, off, ATR; off as session 1 ends;
       reset, ATR; off as the stop ends session 2 */
    assert_string_equal(run.calls.trace, "FNAPPPFAFRAF");
    assert_int_equal(run.calls.power_on, 1);
    assert_int_equal(run.calls.power_off, 4);
    assert_int_equal(run.calls.reset, 1);
    assert_int_equal(run.calls.atr, 3);
    assert_int_equal(run.calls.apdu, 3);
}

/* Closes fd so that the peer gets a reset (ECONNRESET), not an orderly end. */
static void close_with_reset(int fd) {
    struct linger hard = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
    close(fd);
}

/*
 * Link loss is power loss (issue 9 item 11): whatever ends a session, the
 * card is powered off before anything of the next connection reaches it, and
 * before serve returns. The trace orders every callback.
 */
static void hardening_11_every_session_end_powers_the_card_off(void **state) {
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    client_run run;
    start_client(&run, port);

    /* Session 1: the reader closes the connection. */
    int conn = accept_within(listener, WAIT_MS);
    send_hex(conn, "00 01 01 00 06 80 CA 00 66 01 5A");
    expect_frame(conn, "00 03 5A 90 00");
    close(conn);

    /* Session 2: the connection breaks (a reset: the client's receive fails). */
    conn = accept_within(listener, WAIT_MS);
    send_hex(conn, "00 01 01 00 06 80 CA 00 66 01 5B");
    expect_frame(conn, "00 03 5B 90 00");
    close_with_reset(conn);

    /* Session 3: the card gives no ATR; the client drops the connection. */
    conn = accept_within(listener, WAIT_MS);
    atomic_store(&run.calls.fail_atr, true);
    send_hex(conn, "00 01 01 00 01 04");
    uint8_t byte;
    assert_false(read_exact(conn, &byte, 1));
    close(conn);

    /* Session 4: stopped while connected. */
    conn = accept_within(listener, WAIT_MS);
    atomic_store(&run.calls.fail_atr, false);
    send_hex(conn, "00 01 01 00 06 80 CA 00 66 01 5C");
    expect_frame(conn, "00 03 5C 90 00");
    stop_client(&run);
    assert_false(read_exact(conn, &byte, 1));
    close(conn);
    close(listener);

    assert_int_equal(run.result, SEAM_OK);
    assert_string_equal(run.calls.trace, "F"
                                         "NPF"
                                         "NPF"
                                         "NAF"
                                         "NPF");
}

static void client_retries_refused_connection_and_stops_promptly(void **state) {
    (void)state;
    uint16_t port = 0;
    int listener = listen_loopback(&port);
    close(listener); /* nothing listens there now: connections are refused */
    client_run run;
    start_client(&run, port);
    poll(NULL, 0, 300);
    assert_false(atomic_load(&run.finished));
    stop_client(&run);
    assert_int_equal(run.result, SEAM_OK);
    assert_int_equal(run.calls.atr, 0);
}

static void serve_refuses_missing_arguments(void **state) {
    (void)state;
    volatile sig_atomic_t stop = 1;
    card_calls calls = {0};
    seam_vpcd_handler handler = {&calls,     card_power_on, card_power_off,
                                 card_reset, card_atr,      card_apdu};
    assert_int_equal(seam_vpcd_serve(NULL, NULL, &stop), SEAM_ERR_ARG);
    assert_int_equal(seam_vpcd_serve(NULL, &handler, NULL), SEAM_ERR_ARG);
    handler.apdu = NULL;
    assert_int_equal(seam_vpcd_serve(NULL, &handler, &stop), SEAM_ERR_ARG);
    /* Already stopped: returns at once without connecting. */
    handler.apdu = card_apdu;
    assert_int_equal(seam_vpcd_serve(NULL, &handler, &stop), SEAM_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_writes_length_and_payload),
        cmocka_unit_test(decode_finds_frames_and_reports_truncation),
        cmocka_unit_test(classify_tells_control_bytes_from_apdus),
        cmocka_unit_test(decoder_reassembles_frames_split_across_reads),
        cmocka_unit_test(decoder_refuses_oversize_frames_and_stays_refused),
        cmocka_unit_test(client_serves_reader_and_reconnects),
        cmocka_unit_test(hardening_11_every_session_end_powers_the_card_off),
        cmocka_unit_test(client_retries_refused_connection_and_stops_promptly),
        cmocka_unit_test(serve_refuses_missing_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
