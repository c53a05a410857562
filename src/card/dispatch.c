/*
 * Command dispatch: the card's lifecycle gates, routing to the applet
 * selected on the channel, the card's own ISO commands, the secure channel
 * handshake, GP command chaining and secure messaging, then the command's
 * handler (docs/card.md "One command", "Card lifecycle, chaining and GET
 * STATUS"). transmit.c runs it inside the command's transaction.
 */
#include <string.h>

#include "card_int.h"
#include "card/content/applet_channel.h"
#include "card/gp/gp.h"
#include "card/iso/apdu.h"
#include "card/iso/sw.h"
#include "card/store/registry.h"
#include "card/upgrade/upgrade.h"
#include "seam/card.h"

/* True for the commands that change card content or keys (refused in CARD_LOCKED,
   gp_facts §1.7); SET STATUS P1 80 moves the card itself and stays allowed. */
static bool content_change(const seam_apdu *a) {
    switch (a->ins) {
    case 0xE6: /* INSTALL */
    case 0xE8: /* LOAD */
    case 0xE4: /* DELETE */
    case 0xD8: /* PUT KEY */
    case 0xE2: /* STORE DATA */
    case 0xEA: /* MANAGE ELF UPGRADE */
        return true;
    case 0xF0: /* SET STATUS */
        return a->p1 != 0x80;
    default:
        return false;
    }
}

/*
 * GP chaining on a channel with C-MAC (chain.c): blocks of a protected GP
 * command are kept as received and answered without secure messaging
 * (*step ANSWERED, r set); at the last block the whole command, extended, is
 * rebuilt in c->wrapped and *cmd, *cmd_len point to it (WHOLE). *raw_chain
 * says whether this path applies (a C-MAC level and a CLA with secure
 * messaging); otherwise chaining waits until the command is unwrapped.
 */
static seam_err protected_chain(seam_card *c, channel *ch, const seam_apdu *a, bool *raw_chain,
                                const uint8_t **cmd, size_t *cmd_len, reply *r,
                                card_chain_step *step) {
    seam_err e = SEAM_OK;
    seam_apdu whole = *a;
    seam_apdu_class cls;
    *step = CARD_CHAIN_NONE;
    *raw_chain = (scp03_security_level(&ch->session) & SCP03_LEVEL_C_MAC) &&
                 seam_apdu_class_decode(a->cla, &cls) == SEAM_OK && cls.sm != SEAM_APDU_SM_NONE;
    if (!*raw_chain)
        goto done;
    card_chain_block(c, (uint8_t)(ch - c->channels), true, &whole, r, step);
    if (*step == CARD_CHAIN_WHOLE) {
        e = seam_apdu_encode(&whole, c->wrapped, sizeof c->wrapped, cmd_len);
        *cmd = c->wrapped;
    }

done:
    return e;
}

/* Runs one command on an open channel (card_int.h); fills r (data in c->data). */
seam_err card_dispatch(seam_card *c, channel *ch, const seam_apdu *a, const uint8_t *raw,
                       size_t raw_len, card_outcome *out, reply *r) {
    bool gp_class = seam_apdu_cla_proprietary(a->cla);
    bool sd_command = a->ins == 0x70 || (a->ins == 0xA4 && a->p1 == 0x04);
    uint8_t chno = (uint8_t)(ch - c->channels);
    seam_apdu plain = *a;
    seam_apdu_class cls = {0};
    registry_card card;
    uint8_t state = 0;
    seam_err e = registry_card_get(c->nvm, &card);
    *out = (card_outcome){.sm = CARD_SM_UNTOUCHED};
    if (e)
        return e;
    state = card.lifecycle;
    (void)seam_apdu_class_decode(a->cla, &cls); /* transmit.c decoded it already */
    if (state == CARD_TERMINATED) { /* only GET DATA, answered by the ISD (Final Application) */
        if (!(a->ins == 0xCA || a->ins == 0xCB) || cls.sm != SEAM_APDU_SM_NONE)
            r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED;
        else
            e = gp_get_data(c, seam_card_isd_aid, sizeof seam_card_isd_aid, a, r);
        return e;
    }
    if (ch->applet && (gp_class || !sd_command)) {
        if (state == CARD_LOCKED) { /* selected before the lock: it answers no more */
            r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED;
            return SEAM_OK;
        }
        return content_process(c, ch, raw, raw_len, r); /* secure messaging is the applet's */
    }
    if (!gp_class && (cls.sm != SEAM_APDU_SM_NONE || cls.chained)) {
        /* the card's own ISO commands have neither secure messaging (6882) nor
           ISO command chaining (6884); refused as they come, they change nothing
           on the channel */
        r->sw =
            cls.sm != SEAM_APDU_SM_NONE ? SEAM_SW_SM_NOT_SUPPORTED : SEAM_SW_CHAINING_UNSUPPORTED;
        out->untouched = true;
        return SEAM_OK;
    }
    if (!gp_class || a->ins == 0x50 || a->ins == 0x82)
        card_chain_abort(c, chno); /* any ISO or secure channel command ends a chain */
    if (!gp_class) {
        switch (a->ins) {
        case 0xA4:
            return card_select(c, ch, a, state == CARD_LOCKED, r);
        case 0x70: {
            channel *closing = a->p1 == 0x80 && a->p2 < CHANNELS ? &c->channels[a->p2] : NULL;
            if (closing && closing->open && a->p2 != 0) {
                e = content_deselect(c, closing);
                if (e)
                    return e;
            }
            bool from_applet = ch->applet != NULL;
            card_manage_channel(c, ch, a, r);
            if (from_applet && a->p1 == 0x00 &&
                r->sw == SEAM_SW_SUCCESS) { /* a new channel gets the ISD */
                channel *opened = &c->channels[a->p2 ? a->p2 : c->data[0]];
                memcpy(opened->selected, seam_card_isd_aid, sizeof seam_card_isd_aid);
                opened->selected_len = sizeof seam_card_isd_aid;
            }
            return SEAM_OK;
        }
        case 0xCA:
        case 0xCB:
            return gp_get_data(c, ch->selected, ch->selected_len, a, r);
        default:
            r->sw = SEAM_SW_INS_NOT_SUPPORTED;
            return SEAM_OK;
        }
    }
    if (a->ins == 0x50 || a->ins == 0x82)
        out->sm = CARD_SM_HANDSHAKE;
    if (a->ins == 0x50)
        return gp_initialize_update(c, ch, raw, raw_len, r);
    if (a->ins == 0x82) {
        e = scp03_external_authenticate(&ch->session, raw, raw_len, &r->sw);
        return e;
    }
    /* every other GP command passes the secure channel first; with a C-MAC a
       GP chain is collected before it, as its MAC covers the whole command */
    const uint8_t *cmd = raw;
    size_t cmd_len = raw_len, plain_len = 0;
    card_chain_step step = CARD_CHAIN_NONE;
    bool raw_chain = false;
    e = protected_chain(c, ch, a, &raw_chain, &cmd, &cmd_len, r, &step);
    out->chain_end = step == CARD_CHAIN_WHOLE;
    if (e || step == CARD_CHAIN_ANSWERED)
        return e; /* an intermediate block: 9000 without R-MAC, no count; or a refusal */
    out->sm = CARD_SM_PASSED; /* from here the session moved with the host's */
    e = scp03_unwrap_command(&ch->session, cmd, cmd_len, c->plain, sizeof c->plain, &plain_len,
                             &r->sw);
    if (e || r->sw != SEAM_SW_SUCCESS) {
        card_chain_abort(c, chno);
        return e;
    }
    out->secured = scp03_session_state(&ch->session) == SCP03_AUTHENTICATED;
    if (seam_apdu_parse(c->plain, plain_len, &plain)) {
        r->sw = SEAM_SW_WRONG_LENGTH;
        return SEAM_OK;
    }
    if (step == CARD_CHAIN_ABORTED) { /* another command ended the chain */
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (step == CARD_CHAIN_WHOLE && plain.nc > CARD_CHAIN_MAX) {
        r->sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        return SEAM_OK;
    }
    if (state == CARD_LOCKED && content_change(&plain)) {
        card_chain_abort(c, chno);
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (!raw_chain) {
        card_chain_block(c, chno, false, &plain, r, &step);
        out->chain_end = step == CARD_CHAIN_WHOLE;
    }
    if (step == CARD_CHAIN_ANSWERED || step == CARD_CHAIN_ABORTED) {
        if (r->sw == SEAM_SW_SUCCESS) { /* an intermediate block: 9000 without R-MAC */
            out->secured = false;
            ch->session.response_pending = false;
        }
        return SEAM_OK;
    }
    bool secured = out->secured;
    switch (plain.ins) {
    case 0xCA:
        return gp_get_data(c, ch->selected, ch->selected_len, &plain, r);
    case 0xD8:
        return gp_put_key(c, ch, &plain, secured, r);
    case 0xF0:
        return gp_set_status(c, ch, &plain, secured, r);
    case 0xF2:
        return gp_get_status(c, ch, &plain, secured, r);
    case 0xE8:
        return gp_load(c, ch, &plain, secured, r);
    case 0xE6:
        return gp_install(c, ch, &plain, secured, r);
    case 0xE4:
        return gp_delete(c, ch, &plain, secured, r);
    case 0xE2:
        return gp_store_data(c, ch, &plain, secured, r);
    case 0xEA:
        return gp_manage_elf_upgrade(c, ch, &plain, secured, r);
    default:
        r->sw = SEAM_SW_INS_NOT_SUPPORTED;
        return SEAM_OK;
    }
}
