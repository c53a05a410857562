/*
 * seam link: transports between a card and the outside world.
 *
 * vpcd (vsmartcard's virtual reader driver for pcscd): the card connects over
 * TCP to the driver, which then sends requests and reads one answer for each.
 * Every message in both directions is a 2-byte big-endian length and that
 * many payload bytes. A 1-byte payload from vpcd is a control byte (00 power
 * off, 01 power on, 02 reset, 04 get ATR; only get ATR is answered, unknown
 * bytes are ignored); 2 or more bytes are a command APDU, answered with the
 * response APDU. Link loss is power loss: the card is powered off before the
 * first connection and after every connection, however it ended. See
 * docs/link.md.
 *
 * The frame codec never allocates: decoded payloads point into the input or
 * into caller storage.
 *
 * Host links (the end of this file): the other direction, how a host reaches
 * a card. Each opener fills a seam_gp_link (seam/gp.h) for the host library:
 * a card in this process (an image file, through seam/card.h) or a PC/SC
 * reader through libpcsclite. They live here, below both the card and the gp
 * layers, so that gp never depends on the card (docs/architecture.md).
 */
#ifndef SEAM_LINK_H
#define SEAM_LINK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/card.h"
#include "seam/errors.h"
#include "seam/gp.h"

#define SEAM_VPCD_DEFAULT_HOST  "127.0.0.1"
#define SEAM_VPCD_DEFAULT_PORT  35963u
#define SEAM_VPCD_HEADER_LEN    2u     /* big-endian payload length */
#define SEAM_VPCD_MAX_PAYLOAD   65535u /* largest length the header can carry */
#define SEAM_VPCD_MAX_ATR       33u    /* pcscd's MAX_ATR_SIZE */
#define SEAM_VPCD_BACKOFF_MIN   100u   /* ms before the first reconnect attempt */
#define SEAM_VPCD_BACKOFF_MAX   5000u  /* ms cap of the doubling backoff */
#define SEAM_VPCD_STOP_CHECK_MS 200u   /* the stop flag is checked at least this often */

/* What a vpcd payload asks for. */
typedef enum {
    SEAM_VPCD_POWER_OFF = 0x00,
    SEAM_VPCD_POWER_ON = 0x01,
    SEAM_VPCD_RESET = 0x02,
    SEAM_VPCD_GET_ATR = 0x04,
    SEAM_VPCD_UNKNOWN_CONTROL = 0x100, /* another 1-byte payload: ignore it */
    SEAM_VPCD_APDU = 0x200,            /* 2 bytes or more: a command APDU */
} seam_vpcd_request;

/*
 * Writes the frame header and payload[0..len) into out[0..out_size); payload
 * may overlap out (it is moved). SEAM_ERR_LINK_OVERSIZE for len > 65535;
 * SEAM_ERR_BUFFER_SMALL puts len + 2 in *out_len and writes nothing.
 */
seam_err seam_vpcd_frame_encode(const uint8_t *payload, size_t len, uint8_t *out, size_t out_size,
                                size_t *out_len);

/*
 * Decodes the frame at the start of in[0..in_len): *payload points into in,
 * *payload_len is its length and *frame_len the bytes the frame takes (header
 * included). SEAM_ERR_TRUNCATED when the input ends before the frame does;
 * outputs unchanged on error. A 0-length frame decodes (payload_len 0).
 */
seam_err seam_vpcd_frame_decode(const uint8_t *in, size_t in_len, const uint8_t **payload,
                                size_t *payload_len, size_t *frame_len);

/*
 * Classifies a payload from vpcd into *request. SEAM_ERR_MALFORMED for an
 * empty payload (vpcd never sends one); *request unchanged on error.
 */
seam_err seam_vpcd_classify(const uint8_t *payload, size_t len, seam_vpcd_request *request);

/*
 * An incremental frame decoder for a byte stream that arrives in pieces.
 * The payload is collected in caller-owned storage; frames longer than the
 * storage are refused when their header arrives.
 */
typedef struct {
    uint8_t *storage;  /* caller-owned, capacity bytes */
    size_t capacity;   /* longest payload accepted */
    uint8_t header[2]; /* header bytes received so far */
    size_t header_len; /* 0..2 */
    size_t length;     /* payload length from the header, once header_len = 2 */
    size_t received;   /* payload bytes received so far */
    seam_err err;      /* sticky: SEAM_ERR_LINK_OVERSIZE once a frame was refused */
} seam_vpcd_decoder;

/* Starts a decoder collecting payloads into storage[0..capacity), which stays the caller's. */
void seam_vpcd_decoder_init(seam_vpcd_decoder *dec, uint8_t *storage, size_t capacity);

/*
 * Consumes bytes of in[0..in_len) up to the end of the current frame;
 * *consumed gets how many. When a frame completes, *complete is true and
 * storage[0..*payload_len) holds its payload, valid until the next call;
 * otherwise *complete is false. SEAM_ERR_LINK_OVERSIZE when a header
 * announces more than capacity bytes: nothing of that frame is stored and the
 * error sticks (the stream cannot be resynchronized; drop the connection).
 */
seam_err seam_vpcd_decoder_feed(seam_vpcd_decoder *dec, const uint8_t *in, size_t in_len,
                                size_t *consumed, bool *complete, size_t *payload_len);

/*
 * What the card does for each vpcd request. Every callback gets ctx. A
 * callback that fails is logged; for apdu the card then answers 6F00, for atr
 * the connection is dropped (vpcd sees the card removed) and retried.
 * power_off is also called when no connection holds the card (see
 * seam_vpcd_serve); atr may come while the card is powered off (vpcd's
 * presence poll) and should not power it on.
 */
typedef struct {
    void *ctx;
    seam_err (*power_on)(void *ctx);  /* fresh session: clear transient state */
    seam_err (*power_off)(void *ctx); /* power removed */
    seam_err (*reset)(void *ctx);     /* warm reset: a fresh session as power_on */
    /* Writes the ATR (at most SEAM_VPCD_MAX_ATR bytes) into out[0..out_size). */
    seam_err (*atr)(void *ctx, uint8_t *out, size_t out_size, size_t *out_len);
    /* Processes the command APDU in[0..in_len); writes response data || SW into out. */
    seam_err (*apdu)(void *ctx, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size,
                     size_t *out_len);
} seam_vpcd_handler;

/* Where and how to connect; zero fields take the defaults. */
typedef struct {
    const char *host;        /* name or address; NULL: SEAM_VPCD_DEFAULT_HOST */
    uint16_t port;           /* 0: SEAM_VPCD_DEFAULT_PORT */
    unsigned backoff_min_ms; /* 0: SEAM_VPCD_BACKOFF_MIN */
    unsigned backoff_max_ms; /* 0: SEAM_VPCD_BACKOFF_MAX */
    unsigned io_timeout_ms;  /* 0: 5000; a half-written answer that long drops the link */
} seam_vpcd_options;

/*
 * Connects to vpcd and serves requests through handler until *stop becomes
 * nonzero (checked at least every SEAM_VPCD_STOP_CHECK_MS), then closes the
 * connection and returns SEAM_OK. A refused or dropped connection is retried
 * with a backoff doubling from backoff_min_ms to backoff_max_ms (back to the
 * minimum after each successful connect). Calls handler->power_off before
 * the first connection attempt and after every connection, whatever ended it
 * (peer closed, I/O error or timeout, oversize frame, ATR failure, stop), so
 * each connection starts with the card powered off and the card is off when
 * this returns SEAM_OK. options may be NULL. Errors:
 * SEAM_ERR_ARG (NULL handler or stop, missing callback),
 * SEAM_ERR_LINK_ADDRESS (host does not resolve), SEAM_ERR_NOMEM, SEAM_ERR_IO
 * (no socket can be created). Call from one thread; the stop flag may be set
 * from a signal handler or another thread.
 */
seam_err seam_vpcd_serve(const seam_vpcd_options *options, const seam_vpcd_handler *handler,
                         volatile sig_atomic_t *stop);

/* ------------------------------------------------------------------------ */
/* Host links                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Fills *out with a link to card, which stays the caller's (it must outlive
 * the link; closing the link leaves it open). Every call goes to
 * seam_card_power_on / _power_off / _transmit. Errors: SEAM_ERR_ARG,
 * SEAM_ERR_NOMEM.
 */
seam_err seam_link_card(seam_card *card, seam_gp_link *out);

/* As seam_link_card, but the link owns card: seam_gp_link_close closes it, and so
   does a failure here. Errors: SEAM_ERR_ARG, SEAM_ERR_NOMEM. */
seam_err seam_link_card_owned(seam_card *card, seam_gp_link *out);

/*
 * Opens the card image at path (seam_card_open) and fills *out with a link
 * that owns it: seam_gp_link_close closes the card. The card is powered off
 * until the first power on. Errors: those of seam_card_open, SEAM_ERR_NOMEM.
 */
seam_err seam_link_image_open(const char *path, seam_gp_link *out);

/*
 * Lists the PC/SC readers: their names, each ended by a NUL, into
 * names[0..size) (an empty list is one more NUL), *len the bytes used.
 * Errors: SEAM_ERR_LINK_NO_SERVICE (pcscd is not running),
 * SEAM_ERR_LINK_NO_READER (none), SEAM_ERR_BUFFER_SMALL (size needed in
 * *len), SEAM_ERR_LINK (another PC/SC failure).
 */
seam_err seam_link_pcsc_readers(char *names, size_t size, size_t *len);

/*
 * Connects to the card in the PC/SC reader called reader (NULL: the first
 * reader), T=0 or T=1, shared, and fills *out; seam_gp_link_close
 * disconnects. Power on connects (or reconnects), reset resets the card,
 * power off unpowers it. Errors: SEAM_ERR_LINK_NO_SERVICE (pcscd is not
 * running), SEAM_ERR_LINK_NO_READER (no reader of that name, or none),
 * SEAM_ERR_LINK_NO_CARD (the reader is empty), SEAM_ERR_LINK, SEAM_ERR_NOMEM.
 */
seam_err seam_link_pcsc_open(const char *reader, seam_gp_link *out);

/* The text of the last PC/SC failure of this thread (pcsc_stringify_error), for
   messages; "" when there was none. */
const char *seam_link_pcsc_error(void);

#endif
