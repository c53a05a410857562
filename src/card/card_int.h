/*
 * The card's hub header: the state of a powered card (its channels, the load
 * in progress, the RAM saved around a command), the command and handler types
 * of the command table (dispatch.c), and the few services of the top-level
 * files every command may use. Included by the folders above store/
 * (content/, restore/, upgrade/, gp/) and the top level; never by iso/, sm/,
 * applet/ or store/ (docs/card.md "Structure").
 */
#ifndef SEAM_CARD_INT_H
#define SEAM_CARD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "card/iso/apdu.h"
#include "card/iso/chain.h"
#include "card/applet/applet_runtime.h"
#include "card/store/package_store.h"
#include "card/store/registry.h"
#include "card/store/restore_records.h"
#include "card/sm/scp03.h"
#include "seam/card.h"

#define CHANNELS       4u
#define CARD_CHAIN_MAX 4096u /* longest GP command chain accepted (6A86 beyond) */
#define CARD_CHAIN_SM  24u   /* a protected chain's padding block and C-MAC on top */
/* Longest response data after secure messaging: 65536 bytes, R-ENC padding, R-MAC. */
#define CARD_WRAPPED_MAX (SEAM_CARD_RESPONSE_MAX - 2u + 16u + 8u)

typedef struct {
    bool open;
    uint8_t selected[REGISTRY_AID_MAX];
    uint8_t selected_len;
    scp03_session session;
    /* when an applet instance is selected (selected = its AID): */
    seam_wasm_module *module;
    seam_applet *applet;
    uint32_t pages;          /* committed memory size, 64 KiB pages */
    restore_binding restore; /* its restore-module record (the applet points here) */
    /* STORE DATA sequence of this channel (gp_perso.c): its personalization
       target (INSTALL [for personalization]; target_len 0 = the SD itself),
       the next block number, and the host || card challenge of the session
       it belongs to (a new session ends it). */
    struct {
        uint8_t target[REGISTRY_AID_MAX];
        uint8_t target_len;
        uint8_t next_block;
        uint8_t session[32];
    } perso;
    /* GET STATUS continuation (gp_keys.c): P1 of the listing answered with
       6310 and how many entries it has sent; status_next 0 = none pending. */
    uint8_t status_p1;
    uint16_t status_next;
    /* GP command chaining on this channel (iso/chain.c); its data is in
       seam_card.chain_data[channel] */
    command_chain chain;
    /* the part of a response GET RESPONSE on this channel fetches next
       (transmit.c); its storage is malloc'd for that response, NULL when
       nothing waits */
    seam_apdu_remainder remainder;
} channel;

/* A load in progress (INSTALL [for load] then LOAD blocks; or the combined
   INSTALL 0E 01, LOAD blocks, INSTALL 0E 03), in memory only: a power cut or
   reset before the command that stores it leaves nothing behind. It belongs
   to the SD that began it, on its channel and in its secure channel session
   (the host || card challenge names it): a LOAD or final INSTALL from anywhere
   else ends it (gp/gp_content.c has its states). */
typedef struct {
    bool active;
    bool combined; /* begun by INSTALL 0E 01: its last block stores nothing */
    bool held;     /* combined, its last block checked: the package waits for INSTALL 0E 03 */
    uint8_t channel;
    uint8_t sd[REGISTRY_AID_MAX]; /* the SD that sent INSTALL [for load]: the owner */
    uint8_t sd_len;
    uint8_t session[32];
    uint8_t next_block;
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t hash[64]; /* the LFDB hash of INSTALL [for load]: SHA-1/256/384/512 */
    uint8_t hash_len; /* 0: none given */
    uint8_t *bytes;
    size_t len, cap;
    /* held: the package record the final INSTALL stores, and where in bytes the
       module starts (after C4 and its length) */
    store_package package;
    size_t module_offset;
} content_load;

/* An applet instance a command took off its channel, kept until the command ends. */
typedef struct {
    seam_wasm_module *module;
    seam_applet *applet;
} card_retired;

/*
 * The RAM a command may change, saved before it runs (transmit.c): when its
 * commit (or any write) fails, the card puts it back, so the card is exactly
 * as before the command. While `running`, an applet taken off a channel is
 * retired (kept alive), not freed, so the saved channels can take it back.
 */
typedef struct {
    bool running;
    channel channels[CHANNELS];
    content_load load;
    uint8_t *load_bytes; /* a copy of the load's bytes when the command may end the load */
    card_retired retired[2 * CHANNELS];
    size_t retired_count;
} card_saved;

/* The card object's applet diagnostics (content/card_diag.c): its profile (from its
   image), where events go (seam_card_set_diag), the fuel its applets spent. RAM only. */
typedef struct {
    seam_card_profile profile;
    seam_card_diag_fn fn; /* NULL: seam_log at debug level */
    void *ctx;
    uint64_t fuel;
} card_diag_state;

struct seam_card {
    seam_nvm *nvm;
    bool powered;
    bool dead; /* an injected power cut: reopen */
    channel channels[CHANNELS];
    content_load load;
    /* the data of each channel's GP command chain (P1.b8) of INSTALL, DELETE,
       PUT KEY (dispatch.c): as received on a C-MAC channel, plain otherwise */
    uint8_t chain_data[CHANNELS][CARD_CHAIN_MAX + CARD_CHAIN_SM];
    card_saved saved;                     /* transmit.c */
    uint8_t plain[SEAM_APDU_MAX_LEN];     /* the command after secure messaging */
    uint8_t data[SEAM_CARD_RESPONSE_MAX]; /* response data being built */
    uint8_t wrapped[CARD_WRAPPED_MAX];    /* response data after secure messaging */
    seam_card_traffic traffic;            /* byte counters (seam_card_transmit), RAM only */
    card_diag_state diag; /* the profile, applet diagnostics, fuel (content/card_diag.c) */
};

/* What a command handler produced: r->len bytes of response data in card->data. */
typedef struct {
    size_t len;
    uint16_t sw;
} reply;

/* A command as its handler receives it: parsed once (transmit.c); for the
   commands that pass the channel's secure channel session, with secure
   messaging removed and a GP chain reassembled (dispatch.c). */
typedef struct {
    seam_apdu apdu;    /* CLA INS P1 P2, the plain data, Ne */
    uint8_t lifecycle; /* the card's lifecycle when the command arrived (CARD_*) */
} card_command;

/*
 * A command handler (a row of dispatch.c's command table): runs inside the
 * command's nvm transaction (transmit.c commits it when r->sw reports
 * success and rolls it back otherwise), reads cmd, which already met the
 * row's security level, writes response data to c->data and sets r. A
 * seam_err return is a storage failure (the card answers 6F00/6A84).
 */
typedef seam_err (*card_handler)(seam_card *c, channel *ch, const card_command *cmd, reply *r);

/* The command pipeline (transmit.c) and the dispatch it calls (dispatch.c). */
/* What a command did to its channel's secure channel session. */
typedef enum {
    CARD_SM_UNTOUCHED, /* it did not pass secure messaging (ISO, applet commands) */
    CARD_SM_PASSED,    /* it passed scp03_unwrap: the MAC chain moved with the host's */
    CARD_SM_HANDSHAKE, /* INITIALIZE UPDATE or EXTERNAL AUTHENTICATE */
} card_sm;
/* How dispatch ran a command, for the end of the command in transmit.c. */
typedef struct {
    bool secured;   /* it came through an authenticated session: wrap its response */
    card_sm sm;     /* what it did to the channel's session */
    bool chain_end; /* it was the last block of a GP chain (whatever its outcome) */
    bool untouched; /* refused for its class (6882): what waits on the channel stays */
} card_outcome;
/*
 * Runs one command on the open channel ch inside the command's nvm
 * transaction: a as transmit.c parsed it, cls its class byte decoded; fills
 * r (data in c->data) and *out. A seam_err is a storage failure.
 */
seam_err card_dispatch(seam_card *c, channel *ch, const seam_apdu *a, const seam_apdu_class *cls,
                       card_outcome *out, reply *r);
/* The card's own ISO commands on logical channels (card.c), handlers as above. */
/* SELECT by AID on ch; in CARD_LOCKED only the Final Application is selectable. */
seam_err card_select(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* MANAGE CHANNEL open (P1 00) from ch, or close (P1 80) of channel P2 (its applet deselected). */
seam_err card_manage_channel(seam_card *c, channel *ch, const card_command *cmd, reply *r);
/* Drops what waits for GET RESPONSE on ch and frees its storage. */
void card_response_drop(channel *ch);
/* Rolls back the nvm transaction if one is still open (after e, a failed write or
   commit, or a refusal); returns e, or SEAM_ERR_NVM_POWER_CUT when the rollback met one. */
seam_err card_transaction_end(seam_card *c, seam_err e);

/* Takes the applet (and module) a command took off a channel: true when a command is
   running and keeps them until it ends (transmit.c); false: the caller frees them. */
bool card_retire(seam_card *c, seam_wasm_module *module, seam_applet *applet);

#endif
