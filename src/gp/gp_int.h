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

#endif
