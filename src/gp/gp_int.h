/*
 * Internal to the gp layer: the session's state, shared by session.c (the
 * channel and the exchange of APDUs) and ops.c (the GlobalPlatform operations).
 */
#ifndef SEAM_GP_INT_H
#define SEAM_GP_INT_H

#include "seam/crypto.h"
#include "seam/gp.h"

#define GP_WIRE_MAX 8192u /* the blocks of one chained, wrapped command */

struct seam_gp {
    seam_gp_link *link;
    seam_crypto_scp03_host scp; /* scp.open: a channel is open */
    uint8_t dek[32];            /* the open channel's static Key-DEK */
    size_t dek_len;
    seam_gp_trace_fn trace;
    void *trace_ctx;
    uint8_t last[4];  /* header of the last command sent */
    size_t block_cap; /* seam_gp_set_block_size: 0, or the most data of a LOAD / STORE DATA block */
    size_t chain_block; /* seam_gp_set_chain_size: 0 (255), or the data of one chained block */
    bool no_chaining;   /* seam_gp_set_response_chaining(false): 61xx and 6Cxx handed back */
    bool extended;      /* the card's ATR announced extended Lc and Le (seam_gp_set_atr) */
    size_t data_len;    /* data of the last response, in response[0..data_len) */
    uint8_t wire[GP_WIRE_MAX];
    size_t block_len[64];
    uint8_t response[SEAM_GP_RESPONSE_MAX + 256];
};

/* Sends apdu through the session (seam_gp_transmit without the copy-out):
   the data lands in gp->response[0..gp->data_len). */
seam_err gp_exchange(seam_gp *gp, const uint8_t *apdu, size_t len, uint16_t *sw);

/* SELECT by name (ISO class): a selection that succeeds ends the secure channel; one the
   card refuses leaves the selected application, and its session, as they were. */
static inline bool gp_selects(const uint8_t *a) {
    return (a[0] & 0x80) == 0 && a[1] == 0xA4 && a[2] == 0x04;
}

/* GP commands that chain with P1.b8 (gp_facts §1.1). */
static inline bool gp_chainable(const uint8_t *a) {
    return (a[0] & 0xFC) == 0x80 && (a[1] == 0xE6 || a[1] == 0xE4 || a[1] == 0xD8) &&
           !(a[2] & 0x80);
}

/* The data length (*nc) and form of a short or extended command APDU; false if malformed. */
bool gp_apdu_shape(const uint8_t *a, size_t len, size_t *nc, bool *extended);

/*
 * Wraps a command (header CLA INS P1 P2 from apdu, nc bytes of data; le: it has
 * an Le) for the open channel h into out[0..cap) as an extended APDU, as
 * seam_crypto_scp03_host_wrap does a short one: counted, its data encrypted at
 * C-DEC, then one C-MAC over CLA' INS P1 P2 00 hh ll || data, the header the card
 * checks for an extended command; Le 00 00 when it had one. Only for a card that
 * announced extended lengths. Errors: SEAM_ERR_ARG (closed, too long: nothing
 * changed), a crypto error (h closed).
 */
seam_err gp_wrap_extended(seam_crypto_scp03_host *h, const uint8_t *apdu, const uint8_t *data,
                          size_t nc, bool le, uint8_t *out, size_t cap, size_t *out_len);

/* Appends the LOADs of file[0..len) in blocks of block bytes (1..SEAM_GP_COMMAND_MAX),
   numbered from 00; SEAM_ERR_ARG for none or more than 256. */
seam_err gp_plan_loads(seam_gp_plan *plan, const uint8_t *file, size_t len, size_t block);

#endif
