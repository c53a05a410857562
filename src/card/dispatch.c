/*
 * Command dispatch through a table of commands (docs/card.md "One command",
 * "The command table"). transmit.c parses a command once and runs
 * card_dispatch inside its nvm transaction; each row of `commands` says:
 *
 *   class, INS, P1      which commands it takes: ISO class (CLA b8 clear) or
 *                       GP class (b8 set), the INS, and where needed a P1
 *                       pattern (P1 & p1_mask == p1); the first row that
 *                       matches wins
 *   level               what the command needs of the channel's secure
 *                       channel session: CLEAR (taken as received; never
 *                       through the session), SESSION (through it: C-MAC
 *                       checked, data decrypted at its level, a clear command
 *                       when there is none) or AUTHENTICATED (through it, and
 *                       it must be open: 6982 otherwise). Finer conditions
 *                       (C-DECRYPTION for some DGIs, level 33 for an export)
 *                       are the handler's business.
 *   flags               the channel and lifecycle rules below
 *   handler             what answers it, with the parsed, unwrapped command
 *
 * Rules, in the order they apply:
 *
 *  1. TERMINATED: only rows with CMD_TERMINATED (GET DATA), in any class and
 *     without secure messaging in the class byte, answered by the ISD; 6A81
 *     for everything else.
 *  2. An applet selected on the channel gets every command as received
 *     (secure messaging is its business) but the rows with CMD_OVER_APPLET
 *     (SELECT by AID, MANAGE CHANNEL); in CARD_LOCKED it answers no more
 *     (6A81).
 *  3. The card's own ISO-class commands have neither secure messaging (6882)
 *     nor ISO command chaining (6884); so refused, they change nothing on the
 *     channel.
 *  4. A CLEAR command ends the channel's GP chain and goes to its handler;
 *     CMD_HANDSHAKE marks the two that open a session (a failed commit ends
 *     it, transmit.c).
 *  5. Any other GP-class command passes the session, with GP chaining
 *     (CMD_CHAINABLE: P1.b8 = more blocks) collected before it on a C-MAC
 *     channel (the MAC covers the whole command) and after it otherwise;
 *     in CARD_LOCKED a CMD_CONTENT row answers 6985 after secure messaging;
 *     then the row's level, then its handler.
 *
 * Every row is answered on whichever open channel it arrives (transmit.c
 * answers 6881 for a closed one). A command no row matches answers 6D00: in
 * the ISO class as a CLEAR row, in the GP class after the session.
 */
#include <string.h>

#include "card_int.h"
#include "card/content/applet_channel.h"
#include "card/content/card_cache.h"
#include "card/gp/gp.h"
#include "card/iso/apdu.h"
#include "card/iso/sw.h"
#include "card/store/registry.h"
#include "card/toolkit/toolkit_apdu.h"
#include "card/upgrade/upgrade.h"
#include "seam/card.h"

/* What a command needs of its channel's secure channel session. */
typedef enum {
    LEVEL_CLEAR,         /* taken as received, never through the session */
    LEVEL_SESSION,       /* through the session, whatever its state */
    LEVEL_AUTHENTICATED, /* through an AUTHENTICATED session, else 6982 */
} command_level;

/* Channel and lifecycle rules of a row. */
enum {
    CMD_OVER_APPLET = 0x01, /* the card answers it even when an applet is selected */
    CMD_CHAINABLE = 0x02,   /* may come as a GP chain (P1.b8 = more blocks, gp_facts §1.1) */
    CMD_CONTENT = 0x04,     /* changes card content or keys: 6985 in CARD_LOCKED */
    CMD_TERMINATED = 0x08,  /* answered in TERMINATED, by the ISD */
    CMD_HANDSHAKE = 0x10,   /* opens a secure channel session (INITIALIZE UPDATE, EXTERNAL
                               AUTHENTICATE): a failed commit ends it */
};

enum { CLASS_ISO = 0, CLASS_GP = 1 };

typedef struct {
    uint8_t gp_class; /* CLASS_ISO or CLASS_GP */
    uint8_t ins;
    uint8_t p1_mask; /* the row takes P1 with P1 & p1_mask == p1 (mask 00: any P1) */
    uint8_t p1;
    command_level level;
    uint8_t flags;
    card_handler handler; /* NULL: 6D00 */
    /* called when the command is refused before any handler: for its level, or as
       a CMD_CONTENT row in CARD_LOCKED */
    void (*refused)(seam_card *c, const seam_apdu *a);
} command_row;

static const command_row commands[] = {
    /* ISO class: the card's own commands */
    {CLASS_ISO, 0xA4, 0xFF, 0x04, LEVEL_CLEAR, CMD_OVER_APPLET, card_select, NULL},
    {CLASS_ISO, 0xA4, 0x00, 0x00, LEVEL_CLEAR, 0, card_select, NULL}, /* other P1: 6A86 */
    {CLASS_ISO, 0x70, 0x00, 0x00, LEVEL_CLEAR, CMD_OVER_APPLET, card_manage_channel, NULL},
    {CLASS_ISO, 0xCA, 0x00, 0x00, LEVEL_CLEAR, CMD_TERMINATED, gp_get_data, NULL},
    {CLASS_ISO, 0xCB, 0x00, 0x00, LEVEL_CLEAR, CMD_TERMINATED, gp_get_data, NULL},
    /* GP class: the secure channel handshake */
    {CLASS_GP, 0x50, 0x00, 0x00, LEVEL_CLEAR, CMD_HANDSHAKE, gp_initialize_update, NULL},
    {CLASS_GP, 0x82, 0x00, 0x00, LEVEL_CLEAR, CMD_HANDSHAKE, gp_external_authenticate, NULL},
    /* GP class: the card application toolkit (TS 102 221 §10.1.2; docs/toolkit.md) */
    {CLASS_GP, 0x10, 0x00, 0x00, LEVEL_CLEAR, 0, toolkit_terminal_profile, NULL},
    {CLASS_GP, 0x12, 0x00, 0x00, LEVEL_CLEAR, 0, toolkit_fetch, NULL},
    {CLASS_GP, 0x14, 0x00, 0x00, LEVEL_CLEAR, 0, toolkit_terminal_response, NULL},
    {CLASS_GP, 0xC2, 0x00, 0x00, LEVEL_CLEAR, 0, toolkit_envelope, NULL},
    /* TS 102 221 STATUS: P1 00..03 (GP GET STATUS, below, has P1 80/40/20/10) */
    {CLASS_GP, 0xF2, 0xFC, 0x00, LEVEL_CLEAR, 0, toolkit_status_command, NULL},
    /* GP class: through the session */
    {CLASS_GP, 0xCA, 0x00, 0x00, LEVEL_SESSION, CMD_TERMINATED, gp_get_data, NULL},
    {CLASS_GP, 0xD8, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CHAINABLE | CMD_CONTENT, gp_put_key,
     NULL},
    /* SET STATUS of the card itself (P1 80) may take it out of CARD_LOCKED */
    {CLASS_GP, 0xF0, 0xFF, 0x80, LEVEL_AUTHENTICATED, 0, gp_set_status, NULL},
    {CLASS_GP, 0xF0, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CONTENT, gp_set_status, NULL},
    {CLASS_GP, 0xF2, 0x00, 0x00, LEVEL_AUTHENTICATED, 0, gp_get_status, NULL},
    {CLASS_GP, 0xE8, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CONTENT, gp_load, gp_load_refused},
    {CLASS_GP, 0xE6, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CHAINABLE | CMD_CONTENT, gp_install,
     gp_install_refused},
    {CLASS_GP, 0xE4, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CHAINABLE | CMD_CONTENT, gp_delete, NULL},
    {CLASS_GP, 0xE2, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CONTENT, gp_store_data, NULL},
    {CLASS_GP, 0xEA, 0x00, 0x00, LEVEL_AUTHENTICATED, CMD_CONTENT, gp_manage_elf_upgrade, NULL},
};

/* What a command no row matches gets: 6D00, as the class would take it. */
static const command_row unknown[2] = {
    {CLASS_ISO, 0x00, 0x00, 0x00, LEVEL_CLEAR, 0, NULL, NULL},
    {CLASS_GP, 0x00, 0x00, 0x00, LEVEL_SESSION, 0, NULL, NULL},
};

static bool row_matches(const command_row *row, const seam_apdu *a) {
    return row->ins == a->ins && (a->p1 & row->p1_mask) == row->p1;
}

/* The row of command a in its class; unknown[class] when none matches. */
static const command_row *row_of(const seam_apdu *a, bool gp_class) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].gp_class == gp_class && row_matches(&commands[i], a))
            return &commands[i];
    return &unknown[gp_class];
}

/* The row a TERMINATED card answers for a, in any class; NULL for none. */
static const command_row *terminated_row_of(const seam_apdu *a) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if ((commands[i].flags & CMD_TERMINATED) && row_matches(&commands[i], a))
            return &commands[i];
    return NULL;
}

static seam_err run_handler(seam_card *c, channel *ch, const command_row *row,
                            const card_command *cmd, reply *r) {
    if (!row->handler) {
        r->sw = SEAM_SW_INS_NOT_SUPPORTED;
        return SEAM_OK;
    }
    return row->handler(c, ch, cmd, r);
}

/*
 * Rule 5: a GP command through the channel's session, then its row's level
 * and handler. On a channel with C-MAC a protected GP chain is collected as
 * received (iso/chain.c: its blocks answered without secure messaging) and
 * unwrapped once whole, as its MAC covers the whole command; otherwise each
 * block is unwrapped and the plain data collected.
 */
static seam_err through_session(seam_card *c, channel *ch, const command_row *row,
                                card_command *cmd, const seam_apdu_class *cls, card_outcome *out,
                                reply *r) {
    uint8_t chno = (uint8_t)(ch - c->channels);
    seam_apdu sent = cmd->apdu; /* as received, or the whole protected chain */
    chain_step step = CHAIN_NONE;
    bool chainable = (row->flags & CMD_CHAINABLE) != 0;
    bool raw_chain =
        (scp03_security_level(&ch->session) & SCP03_LEVEL_C_MAC) && cls->sm != SEAM_APDU_SM_NONE;
    seam_err e;
    if (raw_chain) {
        step = chain_block(&ch->chain, c->chain_data[chno], CARD_CHAIN_MAX + CARD_CHAIN_SM,
                           chainable, &sent, &r->sw);
        if (step == CHAIN_WHOLE)
            sent.extended = true; /* its C-MAC covers Lc' as 00 hh ll (gp_facts §1.1) */
    }
    out->chain_end = step == CHAIN_WHOLE;
    if (step == CHAIN_ANSWERED)
        return SEAM_OK; /* an intermediate block: 9000 without R-MAC, no count; or a refusal */
    out->sm = CARD_SM_PASSED; /* from here the session moved with the host's */
    e = scp03_unwrap(&ch->session, &sent, c->plain, sizeof c->plain, &cmd->apdu, &r->sw);
    if (e || r->sw != SEAM_SW_SUCCESS) {
        chain_abort(&ch->chain);
        return e;
    }
    out->secured = scp03_session_state(&ch->session) == SCP03_AUTHENTICATED;
    if (step == CHAIN_ABORTED) { /* another command ended the chain */
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (step == CHAIN_WHOLE && cmd->apdu.nc > CARD_CHAIN_MAX) {
        r->sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        return SEAM_OK;
    }
    if (row->flags & CMD_CONTENT) /* it may change what a kept applet stands for */
        applets_parked_drop(c);
    if (cmd->lifecycle == CARD_LOCKED && (row->flags & CMD_CONTENT)) {
        chain_abort(&ch->chain);
        if (row->refused)
            row->refused(c, &cmd->apdu);
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (!raw_chain) {
        step = chain_block(&ch->chain, c->chain_data[chno], CARD_CHAIN_MAX, chainable, &cmd->apdu,
                           &r->sw);
        out->chain_end = step == CHAIN_WHOLE;
    }
    if (step == CHAIN_ANSWERED || step == CHAIN_ABORTED) {
        if (r->sw == SEAM_SW_SUCCESS) { /* an intermediate block: 9000 without R-MAC */
            out->secured = false;
            ch->session.response_pending = false;
        }
        return SEAM_OK;
    }
    if (row->level == LEVEL_AUTHENTICATED && !out->secured) {
        if (row->refused)
            row->refused(c, &cmd->apdu);
        r->sw = SEAM_SW_SECURITY_STATUS;
        return SEAM_OK;
    }
    return run_handler(c, ch, row, cmd, r);
}

/* Runs one command on an open channel (card_int.h); fills r (data in c->data). */
seam_err card_dispatch(seam_card *c, channel *ch, const seam_apdu *a, const seam_apdu_class *cls,
                       card_outcome *out, reply *r) {
    const command_row *row = row_of(a, cls->proprietary);
    card_command cmd = {.apdu = *a};
    registry_card card;
    seam_err e = card_record_get(c, &card); /* every command: from RAM */
    *out = (card_outcome){.sm = CARD_SM_UNTOUCHED};
    if (e)
        return e;
    cmd.lifecycle = card.lifecycle;
    if (cmd.lifecycle == CARD_TERMINATED) { /* rule 1 */
        const command_row *answered = terminated_row_of(a);
        if (!answered || cls->sm != SEAM_APDU_SM_NONE) {
            r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED;
            return SEAM_OK;
        }
        return run_handler(c, ch, answered, &cmd, r);
    }
    if (ch->applet && !(row->flags & CMD_OVER_APPLET)) { /* rule 2 */
        if (cmd.lifecycle == CARD_LOCKED) { /* selected before the lock: it answers no more */
            r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED;
            return SEAM_OK;
        }
        return content_process(c, ch, a, r); /* secure messaging is the applet's */
    }
    if (!cls->proprietary && (cls->sm != SEAM_APDU_SM_NONE || cls->chained)) { /* rule 3 */
        r->sw =
            cls->sm != SEAM_APDU_SM_NONE ? SEAM_SW_SM_NOT_SUPPORTED : SEAM_SW_CHAINING_UNSUPPORTED;
        out->untouched = true;
        return SEAM_OK;
    }
    if (row->level == LEVEL_CLEAR) { /* rule 4 */
        chain_abort(&ch->chain);
        if (row->flags & CMD_HANDSHAKE)
            out->sm = CARD_SM_HANDSHAKE;
        return run_handler(c, ch, row, &cmd, r);
    }
    return through_session(c, ch, row, &cmd, cls, out, r); /* rule 5 */
}
