/*
 * GP command chaining (gp_facts §1.1) for INSTALL, DELETE and PUT KEY:
 * P1.b8 = 1 means more blocks follow. Requirement X1. On a secure channel
 * with C-MAC the host protects the whole unsegmented command once (C-ENC
 * over all its data, one C-MAC over CLA' INS P1 P2 00 hh ll || data, with
 * the last block's P1/P2) and cuts (data || C-MAC) into blocks: the card
 * keeps the blocks as received, without secure messaging (no counter, no
 * R-MAC), and at the last block card.c rebuilds that extended command and
 * unwraps it once. Without a C-MAC (no session, level 00) each block is a
 * clear command and the plain data is kept. Either way the data lives in
 * RAM only, up to CARD_CHAIN_MAX bytes (+ CARD_CHAIN_SM raw), and the last
 * block's header with all the data goes to the command's handler
 * (docs/card.md, "Card lifecycle, chaining and GET STATUS"). Each logical
 * channel has its own chain (seam_card.channels[n].chain and chain_data[n]):
 * blocks and commands on one channel never touch another's.
 */
#include <string.h>

#include "card_int.h"
#include "card/iso/sw.h"

/* Drops the chain of channel chno (card_int.h). */
void card_chain_abort(seam_card *c, uint8_t chno) {
    if (chno < CHANNELS)
        c->channels[chno].chain.active = false;
}

/* INSTALL, DELETE and PUT KEY may come in a GP chain: P1.b8 = 1 means "more" (§1.1). */
static bool chainable(uint8_t ins) {
    return ins == 0xE6 || ins == 0xE4 || ins == 0xD8;
}

/* One block of a chain, or an ordinary command (CARD_CHAIN_NONE); see card_int.h. */
void card_chain_block(seam_card *c, uint8_t chno, bool raw, seam_apdu *a, reply *r,
                      card_chain_step *step) {
    card_chain *chain = &c->channels[chno].chain;
    uint8_t *data = c->chain_data[chno];
    bool more = chainable(a->ins) && (a->p1 & 0x80);
    size_t max = raw ? CARD_CHAIN_MAX + CARD_CHAIN_SM : CARD_CHAIN_MAX;
    *step = CARD_CHAIN_ANSWERED;
    if (!chain->active && !more) {
        *step = CARD_CHAIN_NONE; /* an ordinary command */
        goto done;
    }
    if (chain->active && (a->cla != chain->header[0] || a->ins != chain->header[1] ||
                          (a->p1 & 0x7F) != chain->header[2] || a->p2 != chain->header[3])) {
        chain->active = false;
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        if (!more) /* a whole command of its own: answered after secure messaging */
            *step = CARD_CHAIN_ABORTED;
        goto done;
    }
    if (!chain->active) {
        chain->active = true;
        chain->header[0] = a->cla;
        chain->header[1] = a->ins;
        chain->header[2] = (uint8_t)(a->p1 & 0x7F);
        chain->header[3] = a->p2;
        chain->len = 0;
    }
    if (a->nc > max - chain->len) {
        chain->active = false;
        r->sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        goto done;
    }
    if (a->nc)
        memcpy(data + chain->len, a->data, a->nc);
    chain->len += a->nc;
    if (more) {
        r->sw = SEAM_SW_SUCCESS;
        goto done;
    }
    chain->active = false; /* the last block: hand the whole command on */
    a->data = chain->len ? data : NULL;
    a->nc = chain->len;
    a->extended = raw; /* its C-MAC covers Lc' as 00 hh ll (gp_facts §1.1) */
    *step = CARD_CHAIN_WHOLE;

done:
    return;
}
