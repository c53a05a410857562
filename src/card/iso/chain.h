/*
 * GP command chaining (gp_facts §1.1), internal to the card layer: a
 * command too long for one APDU comes as blocks with the same CLA INS P2,
 * P1.b8 = 1 on every block but the last. This module collects one logical
 * channel's chain; which commands may be chained, where the data lives and
 * how much of it is allowed are the caller's (dispatch.c). It knows nothing
 * of the card.
 *
 * States of one chain:
 *
 *   IDLE --a block with `more` (P1.b8 of a chainable command)--> COLLECTING
 *   COLLECTING --a block of the same command with `more`--> COLLECTING (9000)
 *   COLLECTING --the same command without `more`--> IDLE: the whole command
 *   COLLECTING --another command, or over max bytes--> IDLE (6985 / 6A86)
 *   any --chain_abort--> IDLE
 */
#ifndef SEAM_CARD_ISO_CHAIN_H
#define SEAM_CARD_ISO_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"

/* A chain in progress on one channel; zero-initialise it. Its data is the caller's. */
typedef struct {
    bool active;
    uint8_t header[4]; /* the first block's CLA INS P1 (b8 clear) P2 */
    size_t len;        /* bytes of data so far */
} command_chain;

/* What chain_block made of a command. */
typedef enum {
    CHAIN_NONE,     /* not part of a chain: nothing changed */
    CHAIN_ANSWERED, /* kept (*sw 9000, no data) or refused (*sw 6985, 6A86) */
    CHAIN_WHOLE,    /* the last block: *a is now the whole command */
    CHAIN_ABORTED,  /* another whole command ended the chain: answer it 6985 */
} chain_step;

/*
 * Takes command *a on the chain's channel. chainable says whether a's P1.b8
 * means "more blocks follow". A block with more is appended to data (at most
 * max bytes in all) and answered 9000 with no data; the last block turns *a
 * into the whole command (its header, all the data in data[0..len)). A
 * chained block whose header differs from the first's (but for P1.b8)
 * aborts the chain with 6985 (ANSWERED); any other command ends it (ABORTED:
 * the caller answers 6985); a chain over max bytes aborts with 6A86.
 */
chain_step chain_block(command_chain *chain, uint8_t *data, size_t max, bool chainable,
                       seam_apdu *a, uint16_t *sw);

/* Drops the chain in progress, if any. */
void chain_abort(command_chain *chain);

#endif
