/*
 * seam card: the virtual secure element.
 *
 * A card is an nvm image (one SQLite file) plus the volatile state of a
 * powered card: logical channels, the application selected on each, and on
 * each its secure channel session, command chain and pending GET RESPONSE
 * remainder.
 * Every command that changes persistent state is one nvm transaction
 * (requirement X4). See docs/card.md.
 */
#ifndef SEAM_CARD_H
#define SEAM_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/nvm.h"

typedef struct seam_card seam_card;

/* The default issuer security domain AID: A0 00 00 01 51 00 00 00. */
extern const uint8_t seam_card_isd_aid[8];

/* Largest response seam_card_transmit writes: 65536 data bytes and the status word. */
#define SEAM_CARD_RESPONSE_MAX (65536u + 2u)

/* Largest ATR seam_card_power_on writes (pcscd accepts at most 33 bytes). */
#define SEAM_CARD_ATR_MAX 33u

/*
 * What a card is for, chosen when it is created and kept in its image for good
 * (docs/card.md, "Profiles"): no call changes it, so a production card never
 * becomes a development one. On a production card seam_debug (applet.h) does
 * nothing; everything else behaves the same, so an applet runs on both.
 */
typedef enum {
    SEAM_CARD_PROFILE_DEVELOPMENT = 0, /* seam_debug text reaches the card's diagnostics */
    SEAM_CARD_PROFILE_PRODUCTION = 1,  /* seam_debug is a no-op */
} seam_card_profile;

/*
 * Creates a new card image at path (which must not exist) with capacity bytes
 * of stored state (0: 512 KiB): lifecycle SECURED, the issuer security domain
 * with the GlobalPlatform test keys 40..4F as AES-128 key set version 0x30.
 * The image is sealed under a new random storage key written to the key file
 * "<path>.key" (mode 0600; never over an existing file); without that key the
 * image cannot be opened. The card is returned powered off and holds the
 * image until closed; the caller owns it. Errors: SEAM_ERR_ARG (path exists
 * or bad capacity), SEAM_ERR_CARD_KEY_EXISTS (the key file exists), nvm
 * errors; on error neither file is left.
 */
seam_err seam_card_create(const char *path, size_t capacity, seam_card **out);

/* As seam_card_create, for a card of the given profile (seam_card_create makes a
   development card). Errors: as seam_card_create, SEAM_ERR_ARG for another value. */
seam_err seam_card_create_profile(const char *path, size_t capacity, seam_card_profile profile,
                                  seam_card **out);

/* Opens an existing card image, powered off, with the storage key read from the
   file seam_card_key_file names; the card holds the image until closed. Errors:
   SEAM_ERR_NOT_FOUND (no image), SEAM_ERR_CARD_KEY_FILE (key file missing,
   unreadable or malformed), SEAM_ERR_NVM_KEY (the key does not open the image),
   SEAM_ERR_NVM_BUSY (another handle or process holds it: seam_nvm_describe_holder
   says who), SEAM_ERR_NVM_CORRUPT (not a seam card), nvm errors. */
seam_err seam_card_open(const char *path, seam_card **out);

/* Writes to out the path of the storage key file seam_card_open reads for the image
   at path: $SEAM_CARD_KEY_FILE when set and not empty, else path followed by ".key".
   Errors: SEAM_ERR_ARG, SEAM_ERR_BUFFER_SMALL. */
seam_err seam_card_key_file(const char *path, char *out, size_t out_size);

/* Deletes a closed card image with the files beside it: its journal, its lock file
   and its key file "<path>.key" (not a key file $SEAM_CARD_KEY_FILE names
   elsewhere); for tools and tests done with a card. Errors: as seam_nvm_remove. */
seam_err seam_card_remove(const char *path);

/* Wraps an nvm the caller created (e.g. in memory); the card takes ownership of it
   whether or not this succeeds. Errors: as seam_card_create. */
seam_err seam_card_create_on(seam_nvm *nvm, seam_card **out);

/* As seam_card_create_on, for a card of the given profile. */
seam_err seam_card_create_on_profile(seam_nvm *nvm, seam_card_profile profile, seam_card **out);

/* The card's profile, as its image records it. */
seam_card_profile seam_card_get_profile(const seam_card *card);

/* "development" or "production"; NULL for another value. */
const char *seam_card_profile_name(seam_card_profile profile);

/* Closes the card and its image; NULL is allowed. */
void seam_card_close(seam_card *card);

/*
 * Powers the card on (cold reset) or, when already on, resets it (warm
 * reset): channels other than the basic one close, the ISD is selected on
 * channel 0, sessions end. Writes the ATR (T=1, extended lengths announced)
 * to atr[0..SEAM_CARD_ATR_MAX) and its length to *atr_len.
 */
seam_err seam_card_power_on(seam_card *card, uint8_t *atr, size_t atr_size, size_t *atr_len);

/* Powers the card off: all volatile state is gone. */
void seam_card_power_off(seam_card *card);

/*
 * Processes one command APDU and writes the response (data then SW1 SW2) to
 * response[0..response_size) with its length in *response_len. Status words
 * are data: a refused command still returns SEAM_OK. A response longer than
 * Ne or than response_size - 2 data bytes goes out in parts (61xx, then GET
 * RESPONSE on the same logical channel), so any size works; with
 * SEAM_CARD_RESPONSE_MAX a response of up to 65536 data bytes comes whole.
 * Errors: SEAM_ERR_CARD (card powered off), SEAM_ERR_BUFFER_SMALL
 * (response_size < 2: the command is not taken; or a GET RESPONSE that cannot
 * take one byte of what waits: nothing taken), SEAM_ERR_NVM_POWER_CUT
 * (injected power cut: the card must be reopened).
 */
seam_err seam_card_transmit(seam_card *card, const uint8_t *command, size_t command_len,
                            uint8_t *response, size_t response_size, size_t *response_len);

/* Traffic of one kind of command on the card's external interface (APDU level). */
typedef struct {
    uint64_t commands;  /* command APDUs received */
    uint64_t bytes_in;  /* their bytes, as received */
    uint64_t bytes_out; /* response bytes sent, SW included */
} seam_card_counter;

/*
 * The card's byte counters, in RAM only: zero when the card object is
 * created or opened, kept across power off / on of the same object, gone
 * when it is closed. by_ins[i] counts commands whose INS byte is i (GET
 * RESPONSE under C0); a command shorter than 2 bytes counts in total only.
 * A command counts once seam_card_transmit takes it (powered, alive); its
 * response counts when transmit returns SEAM_OK. See docs/card.md.
 */
typedef struct {
    seam_card_counter total;
    seam_card_counter by_ins[256];
} seam_card_traffic;

/* Copies the card's byte counters to *out; the card may be powered on or off. */
void seam_card_traffic_get(const seam_card *card, seam_card_traffic *out);

/* Sets every byte counter of the card to zero. */
void seam_card_traffic_reset(seam_card *card);

/*
 * Applet diagnostics (docs/applet-abi.md, "Diagnostics"): what the card tells
 * the people who write and run applets. They go to the function a host gives
 * seam_card_set_diag, or else to seam_log at debug level (shown with
 * SEAM_LOG=debug): the card never prints on its own. They never reach the
 * reader: a failed applet command still answers 6F00 and nothing more.
 */
typedef enum {
    /* an entry point trapped, ran out of fuel or returned a value that is not a
       status word; an instance could not be made (its start function trapped);
       or a package was refused at its last LOAD block (it could not be installed,
       e.g. it imports a host function the card does not have) */
    SEAM_CARD_DIAG_FAILURE,
    SEAM_CARD_DIAG_DEBUG, /* an applet called seam_debug (development cards only) */
    SEAM_CARD_DIAG_FUEL,  /* an entry point ended, well or not: the fuel it used */
} seam_card_diag_kind;

/* One diagnostic event; pointers are valid during the call only. Applet bytes
   (debug text) are given as they are: seam_card_diag_format escapes them. */
typedef struct {
    seam_card_diag_kind kind;
    const uint8_t *aid; /* the instance; for a package refused at LOAD, the package */
    size_t aid_len;
    /* the entry point: "install", "select", "process", "personalize",
       "save_for_upgrade", "restore_after_upgrade", "deselect"; "start" for the
       module's start function (at install), "instantiate" for an instance that
       could not be made otherwise, "load" for a refused package */
    const char *entry;
    /* FAILURE: what went wrong, in a few words: the trap's name ("integer divide
       by zero", "out of bounds memory access", "unreachable", "fuel exhausted",
       "call stack exhausted", "host function failed", ...), "invalid status
       word", "link error", "instantiation failed" */
    const char *reason;
    const char *detail;    /* FAILURE: more ("unknown import: seam.frobnicate", the host
                              function and the range it refused, the value returned); "" if none */
    bool located;          /* FAILURE: the code where it happened is known: */
    uint32_t func_index;   /* the function (imports first, as the name section counts) */
    uint32_t offset;       /* byte offset of the failing instruction in the module binary */
    const char *func_name; /* from the module's name section, escaped; "" when absent */
    const uint8_t *text;   /* DEBUG: the applet's bytes (at most SEAM_CARD_DEBUG_TEXT_MAX) */
    size_t text_len;
    bool truncated;       /* DEBUG: the applet gave more bytes than were kept */
    uint32_t dropped;     /* DEBUG: lines dropped past SEAM_CARD_DEBUG_LINES_MAX (then no text) */
    uint64_t fuel_used;   /* FUEL, FAILURE: fuel the entry point used */
    uint64_t fuel_budget; /* FUEL, FAILURE: fuel it was given */
} seam_card_diag;

/* seam_debug limits: bytes kept of one call, calls shown per entry-point call. */
#define SEAM_CARD_DEBUG_TEXT_MAX  256u
#define SEAM_CARD_DEBUG_LINES_MAX 32u

/* Receives the card's diagnostic events, one at a time, during seam_card_transmit. */
typedef void (*seam_card_diag_fn)(void *ctx, const seam_card_diag *event);

/* Sends the card's diagnostics to fn with ctx (NULL fn: back to seam_log at debug
   level). Kept in RAM by the card object, across power off / on. */
void seam_card_set_diag(seam_card *card, seam_card_diag_fn fn, void *ctx);

/*
 * Writes event as one line for people into buf (NUL-terminated, truncated to
 * size; no newline), e.g. "applet A0000005440101 process: integer divide by
 * zero in function 3 <divide> at module offset 0x1f4 (fuel 812 of 10000000)".
 * Applet bytes and names are escaped (\xhh for anything but printable ASCII).
 * Returns buf.
 */
char *seam_card_diag_format(const seam_card_diag *event, char *buf, size_t size);

/* Fuel the card's applets have spent, every entry-point call together, since the
   card object was created or opened (RAM only, like the byte counters): the fuel
   of one command is the difference across its seam_card_transmit. */
uint64_t seam_card_applet_fuel(const seam_card *card);

/* What the card object's RAM caches did since it was created or opened (RAM only, like
   the byte counters; docs/card.md, "RAM caches"). */
typedef struct {
    uint64_t modules_built;  /* package modules decoded, validated and translated */
    uint64_t module_hits;    /* a package's module found already translated */
    uint64_t applets_reused; /* a SELECT that found the instance still in RAM, as committed */
} seam_card_cache_stats;

/* Copies the cache counters of card into *out. */
void seam_card_cache_stats_get(const seam_card *card, seam_card_cache_stats *out);

/* Turns the card object's RAM caches on (the default) or off (what they hold is dropped,
   and every command reads, decodes and translates again, as before they existed), for
   benchmarks and tests that compare both. Responses and the image never differ. */
void seam_card_set_cache(seam_card *card, bool on);

/* The card's nvm, for fault injection and accounting in tests and benches. */
seam_nvm *seam_card_nvm(seam_card *card);

/* What seam_card_registry_foreach reports, one registry record at a time. */
typedef enum {
    SEAM_CARD_ENTRY_CARD,     /* the card itself: lifecycle */
    SEAM_CARD_ENTRY_SD,       /* a security domain: aid, lifecycle, privileges, kvns */
    SEAM_CARD_ENTRY_PACKAGE,  /* a loaded package: aid, version, module_size, sd (owner), space */
    SEAM_CARD_ENTRY_INSTANCE, /* an applet instance: aid, lifecycle, package, sd, privileges, space
                               */
    SEAM_CARD_ENTRY_RECORD,   /* a restore-module record: aid (instance), sd, used_bytes */
    SEAM_CARD_ENTRY_UPGRADE,  /* an upgrade session: aid (old package), package (new), sd (owner) */
} seam_card_entry_kind;

/* One registry entry; fields a kind does not use are zero. Never key material. */
typedef struct {
    seam_card_entry_kind kind;
    uint8_t lifecycle; /* GP lifecycle byte (card, SD or application) */
    uint8_t aid[16];
    size_t aid_len;
    uint8_t privileges[3];
    uint8_t kvns[8]; /* SD: key set versions, ascending */
    size_t kvn_count;
    uint16_t version;   /* package: major << 8 | minor */
    size_t module_size; /* package: bytes of WebAssembly stored */
    uint8_t package[16];
    size_t package_len; /* instance: its package's AID */
    uint8_t sd[16];
    size_t sd_len;     /* instance, record: its SD; package, upgrade: the owner; SD: its
                          associated SD (none for the ISD) */
    uint8_t space;     /* package, instance: 1 the useful space, 2 the temporary one */
    size_t used_bytes; /* record: bytes of blocks and entries (of SEAM_RESTORE_QUOTA) */
    uint8_t profile;   /* card: its seam_card_profile */
} seam_card_entry;

/* Called for each entry; return SEAM_OK to go on, an error to stop with it. */
typedef seam_err (*seam_card_entry_fn)(void *ctx, const seam_card_entry *entry);

/*
 * Reports the card's registry read-only, in this order: the card, then its
 * security domains, packages (useful space, then temporary), instances,
 * restore-module records and upgrade sessions, each in key order. The card may
 * be powered on or off; nothing is written. Errors: SEAM_ERR_ARG (NULL
 * card or fn), SEAM_ERR_NVM_CORRUPT, nvm errors, what fn returned.
 */
seam_err seam_card_registry_foreach(seam_card *card, seam_card_entry_fn fn, void *ctx);

#endif
