/*
 * vpcd link, card side: the frame codec and the client loop that connects to
 * pcscd's vpcd driver and serves its requests (include/seam/link.h,
 * docs/link.md).
 *
 * Client states and transitions (seam_vpcd_serve):
 *
 *   (start)    --------------------------> CONNECTING (card powered off)
 *   CONNECTING --connected---------------> SERVING    (backoff back to minimum)
 *   CONNECTING --refused / unreachable---> BACKOFF
 *   SERVING    --peer closed / I/O error--> BACKOFF    (socket closed, card powered off)
 *   SERVING    --oversize frame / ATR fails-> BACKOFF  (socket closed, card powered off)
 *   BACKOFF    --backoff elapsed----------> CONNECTING (backoff doubles, capped)
 *   SERVING    --*stop != 0---------------> STOPPED    (socket closed, card powered off)
 *   CONNECTING / BACKOFF --*stop != 0-----> STOPPED    (the card is already off)
 *   STOPPED: seam_vpcd_serve returns SEAM_OK
 *
 * Link loss is power loss: the card is powered only while a connection holds
 * it, so no session state of the card (selected applications, verified PINs,
 * secure channels) outlives the connection it began on. Every wait is a poll
 * of at most SEAM_VPCD_STOP_CHECK_MS, so the stop flag is seen within that
 * time in every state.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seam/link.h"
#include "seam/util.h"

#define DEFAULT_IO_TIMEOUT_MS 5000u
#define RECV_CHUNK            4096u
#define LOG_APDU_BYTES        256u /* bytes of an APDU shown in a debug line */

/* ------------------------------------------------------------------------ */
/* Frame codec                                                               */
/* ------------------------------------------------------------------------ */

seam_err seam_vpcd_frame_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t out_size,
                                size_t *out_len) {
    seam_err err = SEAM_ERR_ARG;
    if (!out_len || (!payload && len) || (!out && out_size))
        goto out;
    if (len > SEAM_VPCD_MAX_PAYLOAD) {
        err = SEAM_ERR_LINK_OVERSIZE;
        goto out;
    }
    if (out_size < len + SEAM_VPCD_HEADER_LEN) {
        *out_len = len + SEAM_VPCD_HEADER_LEN;
        err = SEAM_ERR_BUFFER_SMALL;
        goto out;
    }
    if (len)
        memmove(out + SEAM_VPCD_HEADER_LEN, payload, len);
    seam_put_be16(out, (uint16_t)len);
    *out_len = len + SEAM_VPCD_HEADER_LEN;
    err = SEAM_OK;
out:
    return err;
}

seam_err seam_vpcd_frame_decode(const uint8_t *in, size_t in_len, const uint8_t **payload,
                                size_t *payload_len, size_t *frame_len) {
    seam_err err = SEAM_ERR_ARG;
    if ((!in && in_len) || !payload || !payload_len || !frame_len)
        goto out;
    err = SEAM_ERR_TRUNCATED;
    if (in_len < SEAM_VPCD_HEADER_LEN)
        goto out;
    size_t length = seam_get_be16(in);
    if (in_len - SEAM_VPCD_HEADER_LEN < length)
        goto out;
    *payload = in + SEAM_VPCD_HEADER_LEN;
    *payload_len = length;
    *frame_len = length + SEAM_VPCD_HEADER_LEN;
    err = SEAM_OK;
out:
    return err;
}

seam_err seam_vpcd_classify(const uint8_t *payload, size_t len, seam_vpcd_request *request) {
    seam_err err = SEAM_ERR_ARG;
    if (!request || (!payload && len))
        goto out;
    err = SEAM_ERR_MALFORMED;
    if (len == 0)
        goto out;
    if (len >= 2) {
        *request = SEAM_VPCD_APDU;
    } else {
        switch (payload[0]) {
        case SEAM_VPCD_POWER_OFF:
        case SEAM_VPCD_POWER_ON:
        case SEAM_VPCD_RESET:
        case SEAM_VPCD_GET_ATR:
            *request = (seam_vpcd_request)payload[0];
            break;
        default:
            *request = SEAM_VPCD_UNKNOWN_CONTROL;
            break;
        }
    }
    err = SEAM_OK;
out:
    return err;
}

void seam_vpcd_decoder_init(seam_vpcd_decoder *dec, uint8_t *storage, size_t capacity) {
    memset(dec, 0, sizeof *dec);
    dec->storage = storage;
    dec->capacity = storage ? capacity : 0;
    dec->err = SEAM_OK;
}

seam_err seam_vpcd_decoder_feed(seam_vpcd_decoder *dec, const uint8_t *in, size_t in_len,
                                size_t *consumed, bool *complete, size_t *payload_len) {
    seam_err err = SEAM_ERR_ARG;
    size_t used = 0;
    if (!dec || (!in && in_len) || !consumed || !complete || !payload_len)
        goto out;
    err = dec->err;
    if (err != SEAM_OK)
        goto out;
    *complete = false;
    while (dec->header_len < SEAM_VPCD_HEADER_LEN && used < in_len)
        dec->header[dec->header_len++] = in[used++];
    if (dec->header_len < SEAM_VPCD_HEADER_LEN)
        goto done;
    if (dec->received == 0)
        dec->length = seam_get_be16(dec->header);
    if (dec->length > dec->capacity) {
        dec->err = SEAM_ERR_LINK_OVERSIZE;
        err = dec->err;
        goto done;
    }
    size_t take = dec->length - dec->received;
    if (take > in_len - used)
        take = in_len - used;
    if (take)
        memcpy(dec->storage + dec->received, in + used, take);
    used += take;
    dec->received += take;
    if (dec->received == dec->length) {
        *complete = true;
        *payload_len = dec->length;
        dec->header_len = 0;
        dec->received = 0;
        dec->length = 0;
    }
done:
    *consumed = used;
out:
    return err;
}

/* ------------------------------------------------------------------------ */
/* Client                                                                    */
/* ------------------------------------------------------------------------ */

/* Why a session ended. */
typedef enum { SESSION_STOPPED, SESSION_DROPPED } session_end;

/* Everything one seam_vpcd_serve call owns; heap-allocated once (the buffers are 128 KiB). */
typedef struct {
    const seam_vpcd_handler *handler;
    volatile sig_atomic_t *stop;
    unsigned io_timeout_ms;
    seam_vpcd_decoder decoder;
    uint8_t request[SEAM_VPCD_MAX_PAYLOAD];
    uint8_t answer[SEAM_VPCD_HEADER_LEN + SEAM_VPCD_MAX_PAYLOAD];
    uint8_t chunk[RECV_CHUNK];
} vpcd_client;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Polls fd for events, at most SEAM_VPCD_STOP_CHECK_MS; returns poll's result (EINTR as 0). */
static int poll_slice(int fd, short events, unsigned limit_ms) {
    struct pollfd pfd = {.fd = fd, .events = events};
    int timeout = (int)(limit_ms < SEAM_VPCD_STOP_CHECK_MS ? limit_ms : SEAM_VPCD_STOP_CHECK_MS);
    int ready = poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, timeout);
    if (ready < 0 && errno == EINTR)
        ready = 0;
    return ready;
}

/* Sleeps ms milliseconds in stop-checked slices; true if stopped. */
static bool wait_ms(unsigned ms, volatile sig_atomic_t *stop) {
    uint64_t deadline = now_ms() + ms;
    uint64_t now = now_ms();
    while (!*stop && now < deadline) {
        poll_slice(-1, 0, (unsigned)(deadline - now));
        now = now_ms();
    }
    return *stop != 0;
}

/* Connects to one address without blocking past the timeout or a stop; returns fd or -1. */
static int connect_one(const struct addrinfo *ai, unsigned timeout_ms,
                       volatile sig_atomic_t *stop) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int result = -1;
    if (fd < 0)
        goto out;
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        goto out;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            goto out;
        uint64_t deadline = now_ms() + timeout_ms;
        int ready = 0;
        while (!ready && !*stop && now_ms() < deadline)
            ready = poll_slice(fd, POLLOUT, (unsigned)(deadline - now_ms() + 1));
        int so_error = 0;
        socklen_t so_len = sizeof so_error;
        if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0 ||
            so_error != 0)
            goto out;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    result = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return result;
}

/* Writes buf[0..len) completely; false on error, timeout or stop. */
static bool send_all(vpcd_client *client, int fd, const uint8_t *buf, size_t len) {
    uint64_t deadline = now_ms() + client->io_timeout_ms;
    size_t sent = 0;
    bool ok = false;
    while (sent < len) {
        if (*client->stop || now_ms() >= deadline)
            goto out;
        ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (poll_slice(fd, POLLOUT, client->io_timeout_ms) < 0)
                goto out;
        } else {
            goto out;
        }
    }
    ok = true;
out:
    return ok;
}

/* Logs "label: <hex>" at debug level, at most LOG_APDU_BYTES bytes of it. */
static void log_bytes(const char *label, const uint8_t *bytes, size_t len) {
    char hex[2 * LOG_APDU_BYTES + 1];
    size_t shown = len < LOG_APDU_BYTES ? len : LOG_APDU_BYTES;
    size_t hex_len = 0;
    if (seam_log_get_level() >= SEAM_LOG_DEBUG &&
        seam_hex_encode(bytes, shown, hex, sizeof hex, &hex_len) == SEAM_OK)
        seam_log(SEAM_LOG_DEBUG, "vpcd: %s (%zu bytes): %s%s", label, len, hex,
                 shown < len ? "..." : "");
}

/* Logs a failed callback. */
static void log_callback(const char *name, seam_err err) {
    if (err != SEAM_OK)
        seam_log(SEAM_LOG_WARN, "vpcd: %s handler failed: %s", name, seam_err_str(err));
}

/* Frames answer[2..2+len) and sends it; false if the link must be dropped. */
static bool send_answer(vpcd_client *client, int fd, size_t len) {
    size_t frame_len = 0;
    bool ok = seam_vpcd_frame_encode(client->answer + SEAM_VPCD_HEADER_LEN, len, client->answer,
                                     sizeof client->answer, &frame_len) == SEAM_OK;
    return ok && send_all(client, fd, client->answer, frame_len);
}

/* Serves one request payload; false if the link must be dropped. */
static bool serve_request(vpcd_client *client, int fd, const uint8_t *payload, size_t len) {
    const seam_vpcd_handler *h = client->handler;
    uint8_t *answer = client->answer + SEAM_VPCD_HEADER_LEN;
    size_t answer_len = 0;
    seam_vpcd_request request;
    bool keep = true;
    seam_err err = seam_vpcd_classify(payload, len, &request);
    if (err != SEAM_OK) {
        seam_log(SEAM_LOG_WARN, "vpcd: ignoring an empty frame");
        goto out;
    }
    switch (request) {
    case SEAM_VPCD_POWER_ON:
        seam_log(SEAM_LOG_DEBUG, "vpcd: power on");
        log_callback("power_on", h->power_on(h->ctx));
        break;
    case SEAM_VPCD_POWER_OFF:
        seam_log(SEAM_LOG_DEBUG, "vpcd: power off");
        log_callback("power_off", h->power_off(h->ctx));
        break;
    case SEAM_VPCD_RESET:
        seam_log(SEAM_LOG_DEBUG, "vpcd: reset");
        log_callback("reset", h->reset(h->ctx));
        break;
    case SEAM_VPCD_GET_ATR:
        err = h->atr(h->ctx, answer, SEAM_VPCD_MAX_ATR, &answer_len);
        if (err == SEAM_OK && (answer_len == 0 || answer_len > SEAM_VPCD_MAX_ATR))
            err = SEAM_ERR_ARG;
        log_callback("atr", err);
        keep = err == SEAM_OK && send_answer(client, fd, answer_len);
        break;
    case SEAM_VPCD_APDU:
        log_bytes("C-APDU", payload, len);
        err = h->apdu(h->ctx, payload, len, answer, SEAM_VPCD_MAX_PAYLOAD, &answer_len);
        if (err == SEAM_OK && (answer_len < 2 || answer_len > SEAM_VPCD_MAX_PAYLOAD))
            err = SEAM_ERR_ARG;
        if (err != SEAM_OK) {
            log_callback("apdu", err);
            answer[0] = 0x6F;
            answer[1] = 0x00;
            answer_len = 2;
        }
        log_bytes("R-APDU", answer, answer_len);
        keep = send_answer(client, fd, answer_len);
        break;
    default:
        seam_log(SEAM_LOG_DEBUG, "vpcd: ignoring control byte %02X", payload[0]);
        break;
    }
out:
    return keep;
}

/* Serves requests on a connected socket until the peer leaves, an error, or stop. */
static session_end serve_connection(vpcd_client *client, int fd) {
    session_end end = SESSION_DROPPED;
    seam_vpcd_decoder_init(&client->decoder, client->request, sizeof client->request);
    while (!*client->stop) {
        int ready = poll_slice(fd, POLLIN, SEAM_VPCD_STOP_CHECK_MS);
        if (ready < 0)
            goto out;
        if (ready == 0)
            continue;
        /* ACK at once: with delayed ACKs, Nagle's rule on the reader's side (vpcd
           sets no TCP_NODELAY) held each APDU back by about 40 ms (measured:
           20 DEBITs/s through pcscd, 430 with this). Linux clears QUICKACK after
           use, so it is set before every receive. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        ssize_t n = recv(fd, client->chunk, sizeof client->chunk, 0);
        if (n == 0) {
            seam_log(SEAM_LOG_INFO, "vpcd: connection closed by the reader");
            goto out;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            seam_log(SEAM_LOG_WARN, "vpcd: receive failed: %s", strerror(errno));
            goto out;
        }
        size_t offset = 0;
        while (offset < (size_t)n) {
            size_t used = 0;
            size_t payload_len = 0;
            bool complete = false;
            seam_err err =
                seam_vpcd_decoder_feed(&client->decoder, client->chunk + offset, (size_t)n - offset,
                                       &used, &complete, &payload_len);
            if (err != SEAM_OK) {
                seam_log(SEAM_LOG_WARN, "vpcd: %s", seam_err_str(err));
                goto out;
            }
            offset += used;
            if (complete && !serve_request(client, fd, client->request, payload_len))
                goto out;
        }
    }
    end = SESSION_STOPPED;
out:
    return end;
}

/* Powers the card off because no connection holds it (before the first, after each). */
static void power_down(const seam_vpcd_handler *h, const char *why) {
    seam_log(SEAM_LOG_DEBUG, "vpcd: power off (%s)", why);
    log_callback("power_off", h->power_off(h->ctx));
}

/* Tries each resolved address in turn; returns a connected fd or -1. */
static int connect_any(const struct addrinfo *addresses, unsigned timeout_ms,
                       volatile sig_atomic_t *stop) {
    int fd = -1;
    for (const struct addrinfo *ai = addresses; ai && fd < 0 && !*stop; ai = ai->ai_next)
        fd = connect_one(ai, timeout_ms, stop);
    return fd;
}

seam_err seam_vpcd_serve(const seam_vpcd_options *options, const seam_vpcd_handler *handler,
                         volatile sig_atomic_t *stop) {
    seam_err err = SEAM_ERR_ARG;
    struct addrinfo *addresses = NULL;
    vpcd_client *client = NULL;
    seam_vpcd_options opts = {0};
    if (options)
        opts = *options;
    if (!handler || !stop || !handler->power_on || !handler->power_off || !handler->reset ||
        !handler->atr || !handler->apdu)
        goto out;
    const char *host = opts.host ? opts.host : SEAM_VPCD_DEFAULT_HOST;
    unsigned port = opts.port ? opts.port : SEAM_VPCD_DEFAULT_PORT;
    unsigned backoff_min = opts.backoff_min_ms ? opts.backoff_min_ms : SEAM_VPCD_BACKOFF_MIN;
    unsigned backoff_max = opts.backoff_max_ms ? opts.backoff_max_ms : SEAM_VPCD_BACKOFF_MAX;
    if (backoff_max < backoff_min)
        backoff_max = backoff_min;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (getaddrinfo(host, service, &hints, &addresses) != 0) {
        seam_log(SEAM_LOG_ERROR, "vpcd: cannot resolve %s", host);
        err = SEAM_ERR_LINK_ADDRESS;
        goto out;
    }
    client = calloc(1, sizeof *client);
    if (!client) {
        err = SEAM_ERR_NOMEM;
        goto out;
    }
    client->handler = handler;
    client->stop = stop;
    client->io_timeout_ms = opts.io_timeout_ms ? opts.io_timeout_ms : DEFAULT_IO_TIMEOUT_MS;
    unsigned backoff = backoff_min;
    bool refused_logged = false;
    power_down(handler, "not connected yet");
    while (!*stop) {
        int fd = connect_any(addresses, client->io_timeout_ms, stop);
        if (fd >= 0) {
            seam_log(SEAM_LOG_INFO, "vpcd: connected to %s:%u", host, port);
            refused_logged = false;
            backoff = backoff_min;
            session_end end = serve_connection(client, fd);
            close(fd);
            power_down(handler, "connection ended");
            if (end == SESSION_STOPPED)
                break;
        } else if (!refused_logged && !*stop) {
            seam_log(SEAM_LOG_INFO, "vpcd: cannot connect to %s:%u; retrying", host, port);
            refused_logged = true;
        }
        if (wait_ms(backoff, stop))
            break;
        backoff = backoff > backoff_max / 2 ? backoff_max : backoff * 2;
    }
    err = SEAM_OK;
out:
    if (addresses)
        freeaddrinfo(addresses);
    free(client);
    return err;
}
