/*
 * GP command chaining (gp_facts §1.1); chain.h has its states. Requirement
 * X1. The card (dispatch.c) keeps one chain per logical channel and decides
 * which commands may be chained (INSTALL, DELETE, PUT KEY) and where the
 * data goes: on a secure channel with C-MAC the blocks as received (the
 * host protected the whole command once), otherwise the plain data of each
 * block (docs/card.md, "Card lifecycle, chaining and GET STATUS").
 */
#include "chain.h"

#include <string.h>

#include "sw.h"

void chain_abort(command_chain *chain) {
    chain->active = false;
}

chain_step chain_block(command_chain *chain, uint8_t *data, size_t max, bool chainable,
                       seam_apdu *a, uint16_t *sw) {
    bool more = chainable && (a->p1 & 0x80);
    chain_step step = CHAIN_ANSWERED;
    if (!chain->active && !more) {
        step = CHAIN_NONE; /* an ordinary command */
        goto done;
    }
    if (chain->active && (a->cla != chain->header[0] || a->ins != chain->header[1] ||
                          (a->p1 & 0x7F) != chain->header[2] || a->p2 != chain->header[3])) {
        chain->active = false;
        *sw = SEAM_SW_CONDITIONS_NOT_MET;
        if (!more) /* a whole command of its own: answered after secure messaging */
            step = CHAIN_ABORTED;
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
        *sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        goto done;
    }
    if (a->nc)
        memcpy(data + chain->len, a->data, a->nc);
    chain->len += a->nc;
    if (more) {
        *sw = SEAM_SW_SUCCESS;
        goto done;
    }
    chain->active = false; /* the last block: hand the whole command on */
    a->data = chain->len ? data : NULL;
    a->nc = chain->len;
    step = CHAIN_WHOLE;

done:
    return step;
}
