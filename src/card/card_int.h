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
#include "card/store/toolkit_records.h"
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
    /* a service call committed into this applet during the running command
       (content/applet_service.c): put back if the command is not kept */
    bool served;
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
    uint8_t aid[REGISTRY_AID_MAX]; /* the instance, and its committed memory size */
    uint8_t aid_len;
    uint32_t pages;
} card_retired;

/*
 * The card application toolkit's RAM (toolkit/, docs/toolkit.md "The card"):
 * the terminal profile of this power-up, the proactive command queue (FIFO,
 * queue[0] goes out next), whether queue[0] was fetched and awaits its
 * TERMINAL RESPONSE, and which instance registered which menu item, event and
 * timer. The profile, the queue and the timers are RAM only: every power-up
 * (and reset) starts with none. Menu items (with the text the instance's SET
 * UP MENU gave them) and events are also kept in the image, one
 * TOOLKIT_REGISTRATION record per instance (store/toolkit_records.h), written
 * at the end of the command that changed them (card_toolkit_persist) and read
 * back at power-up (card_toolkit_load). A command that is refused or fails puts
 * the RAM back as it was (transmit.c).
 */
#define TOOLKIT_QUEUE_MAX   4u   /* proactive commands of applets waiting, all together */
#define TOOLKIT_CARD_QUEUED 2u   /* and the card's own: SET UP MENU, SET UP EVENT LIST */
#define TOOLKIT_COMMAND_MAX 255u /* bytes of one, D0 and its length included (91xx) */
#define TOOLKIT_PROFILE_MAX 255u /* bytes of TERMINAL PROFILE kept (a short Lc) */
#define TOOLKIT_ENROL_MAX   96u  /* menu items, events and timers registered, all instances */
/* What one instance may register (docs/applet-abi.md "Limits"): a greedy applet
   cannot take the shared table, the timers or the menu from the others. */
#define TOOLKIT_INSTANCE_MENU_MAX  TOOLKIT_RECORD_ITEMS_MAX  /* 4 */
#define TOOLKIT_INSTANCE_EVENT_MAX TOOLKIT_RECORD_EVENTS_MAX /* 16 */
#define TOOLKIT_INSTANCE_TIMER_MAX 2u
#define TOOLKIT_MENU_TEXT_MAX      TOOLKIT_RECORD_TEXT_MAX /* bytes of a menu item's text kept */
/* A fetched command whose TERMINAL RESPONSE is not among the commands that follow its
   FETCH, this many, is dropped before the next one runs (transmit.c): its applet's slot
   is free again, the envelopes no longer wait (9300), a late answer gets 6985. */
#define TOOLKIT_ANSWER_WITHIN 16u

typedef struct {
    uint8_t aid[REGISTRY_AID_MAX]; /* the instance that queued it; empty: the card's own */
    uint8_t aid_len;
    uint8_t len;
    uint8_t bytes[TOOLKIT_COMMAND_MAX];
} toolkit_command;

typedef struct {
    uint8_t kind; /* SEAM_TOOLKIT_MENU_ITEM, _EVENT or _TIMER */
    uint8_t id;   /* item identifier, event value or timer identifier */
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t text_len; /* a menu item: its text from the instance's SET UP MENU (0: none yet) */
    uint8_t text[TOOLKIT_MENU_TEXT_MAX];
} toolkit_enrolment;

typedef struct {
    bool profiled; /* TERMINAL PROFILE received since power-up */
    uint8_t profile_len;
    uint8_t profile[TOOLKIT_PROFILE_MAX];
    uint8_t queued;
    bool fetched;   /* queue[0] went out with FETCH and awaits its TERMINAL RESPONSE */
    uint8_t waited; /* commands since that FETCH (TOOLKIT_ANSWER_WITHIN) */
    toolkit_command queue[TOOLKIT_QUEUE_MAX + TOOLKIT_CARD_QUEUED];
    uint8_t enrolled;
    toolkit_enrolment enrolment[TOOLKIT_ENROL_MAX];
} card_toolkit;

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
    card_toolkit toolkit;
} card_saved;

/*
 * The card's RAM caches (content/card_cache.c): what commands would otherwise
 * read and decrypt, or decode, validate and translate, again and again. They
 * hold committed state only: whatever a command writes is dropped from them
 * when it writes it, and nothing is added to them once the running command
 * has changed it, so a rollback never leaves them stale (docs/card.md, "RAM
 * caches"). RAM only, per card object.
 */
#define CARD_MODULES_MAX      8u          /* translated modules kept */
#define CARD_MODULES_BYTES    (16u << 20) /* their estimated host bytes (64 per wasm byte) */
#define CARD_MODULE_HOST_COST 64u

/* A package's translated module, shared by the applets made from it. */
typedef struct {
    seam_wasm_module *module; /* NULL: a free entry */
    uint8_t space;            /* the package's space and AID: the key */
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    bool stale;    /* its package was deleted, moved or replaced: never handed out again,
                      freed when its last applet goes */
    uint32_t refs; /* applets (and loaded instances) using it */
    uint64_t used; /* when it was last handed out (least recently used goes first) */
    size_t cost;   /* estimated host bytes */
} card_module_entry;

/* A deselected applet kept as its last commit left it, for the next SELECT of its
   instance; dropped by any command that may change content (docs/card.md). */
#define CARD_PARKED_MAX 4u
typedef struct {
    seam_applet *applet;           /* NULL: a free entry */
    seam_wasm_module *module;      /* its module reference */
    uint8_t aid[REGISTRY_AID_MAX]; /* the instance */
    uint8_t aid_len;
    uint32_t pages; /* its committed memory size */
    uint64_t used;
} card_parked;

typedef struct {
    bool off; /* seam_card_set_cache(false): nothing is kept */
    /* the card record (read by every command's dispatch) */
    bool record_valid;
    registry_card record;
    bool record_changed; /* the running command wrote it: not cached again before it ends */
    /* translated modules */
    card_module_entry modules[CARD_MODULES_MAX];
    uint64_t tick;
    bool packages_changed; /* the running command wrote a package: no new entry before it ends */
    /* the nvm's write points when the card's last transaction ended: any other number at
       the next command means the image was written behind the card (seam_card_nvm) */
    uint64_t write_points;
    /* deselected applets, as committed (content/card_cache.c: applet_park) */
    card_parked parked[CARD_PARKED_MAX];
    seam_card_cache_stats stats;
} card_caches;

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
    card_caches caches;   /* content/card_cache.c */
    card_toolkit toolkit; /* toolkit/: RAM, per power-up */
    bool serving;         /* a service call runs (content/applet_service.c): no other */
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

/* Takes the applet (and module) of instance aid, committed memory size pages, that a
   command took off a channel: true when a command is running and keeps them until it
   ends (transmit.c); false: the caller frees them. */
bool card_retire(seam_card *c, seam_wasm_module *module, seam_applet *applet, const uint8_t *aid,
                 size_t aid_len, uint32_t pages);

/* The toolkit callbacks (toolkit/proactive.c) that instance aid's applet reaches its
   card's queue, profile and registrations through (for seam_applet_options). */
void card_toolkit_host(seam_card *c, const uint8_t *aid, size_t aid_len,
                       seam_applet_toolkit_host *out);
/* Instance aid was deleted (toolkit/proactive.c): its queued commands that were not
   fetched and its registrations go (a fetched one still takes its answer, which then
   reaches nobody), in RAM (put back with the rest when the command fails) and its
   TOOLKIT_REGISTRATION record in the running transaction. Errors: the nvm's. */
seam_err card_toolkit_forget(seam_card *c, const uint8_t *aid, size_t aid_len);
/* Writes the menu items and events that the running command changed (against the RAM
   saved before it, c->saved.toolkit) to the image: one TOOLKIT_REGISTRATION record per
   instance that changed, deleted when it has none left (toolkit/registry.c). */
seam_err card_toolkit_persist(seam_card *c);
/* At power-up: the registrations kept in the image back into RAM (toolkit/registry.c). */
seam_err card_toolkit_load(seam_card *c);

#endif
