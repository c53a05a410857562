/*
 * GP command chaining (gp_facts §1.1) for INSTALL, DELETE and PUT KEY:
 * P1.b8 = 1 means more blocks follow. Each block is a whole APDU through
 * SCP03 (its own C-MAC); the card keeps the data of the blocks, in RAM only,
 * up to CARD_CHAIN_MAX bytes, and hands the last block's header with all the
 * data to the command's handler (docs/card.md).
 */
#include <string.h>

#include "card_int.h"
#include "sw.h"

/* Drops the chain of channel chno (card_int.h). */
void card_chain_abort(seam_card *c, uint8_t chno) {
    if (c->chain_channel == chno)
        c->chain_active = false;
}

/* INSTALL, DELETE and PUT KEY may come in a GP chain: P1.b8 = 1 means "more" (§1.1). */
static bool chainable(uint8_t ins) {
    return ins == 0xE6 || ins == 0xE4 || ins == 0xD8;
}

/* One block of a chain, or an ordinary command (*done false); see card_int.h. */
void card_chain_block(seam_card *c, uint8_t chno, seam_apdu *a, reply *r, bool *done) {
    bool mine = c->chain_active && c->chain_channel == chno;
    bool more = chainable(a->ins) && (a->p1 & 0x80);
    *done = true;
    if (!mine && !more) {
        *done = false; /* an ordinary command */
        return;
    }
    if (mine && (a->cla != c->chain_header[0] || a->ins != c->chain_header[1] ||
                 (a->p1 & 0x7F) != c->chain_header[2] || a->p2 != c->chain_header[3])) {
        c->chain_active = false;
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return;
    }
    if (!mine) {
        c->chain_active = true;
        c->chain_channel = chno;
        c->chain_header[0] = a->cla;
        c->chain_header[1] = a->ins;
        c->chain_header[2] = (uint8_t)(a->p1 & 0x7F);
        c->chain_header[3] = a->p2;
        c->chain_len = 0;
    }
    if (a->nc > CARD_CHAIN_MAX - c->chain_len) {
        c->chain_active = false;
        r->sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        return;
    }
    if (a->nc)
        memcpy(c->chain + c->chain_len, a->data, a->nc);
    c->chain_len += a->nc;
    if (more) {
        r->sw = SEAM_SW_SUCCESS;
        return;
    }
    c->chain_active = false; /* the last block: hand the whole command on */
    a->data = c->chain_len ? c->chain : NULL;
    a->nc = c->chain_len;
    *done = false;
}
