/*
 * seam gp: the host side of GlobalPlatform, for every program that manages a
 * card from outside (the `seam gp` command, `seam card script`, the tests,
 * the benchmarks, later the server and the terminal agent). See docs/gp.md.
 *
 * Its parts:
 *   - the link: the small interface through which a host reaches a card
 *     (power on, reset, power off, transmit). The link layer implements it
 *     for a card image in this process and for a PC/SC reader (seam/link.h);
 *     this layer only calls it, so it never depends on the card layer.
 *   - builders and decoders: pure codecs that write one command APDU or read
 *     one response into caller storage. They never allocate, never read past
 *     their input and leave their outputs unchanged on error.
 *   - the session (seam_gp): selection, an SCP03 secure channel at level 00,
 *     01, 03, 11, 13 or 33 (the crypto layer's seam_crypto_scp03_host does the
 *     cryptography), GP command chaining, response chaining (61xx + GET
 *     RESPONSE) and the GlobalPlatform operations built on them.
 *   - remote scripts: the expanded remote command format (seam_gp_rscript),
 *     plans (the plain commands of one operation, which the live operations
 *     send too) and remote SCP03 sessions (seam_gp_remote) that wrap plans
 *     into scripts for a card reached only through a terminal.
 *
 * Status words are data: an operation the card refuses returns SEAM_OK with
 * the refusing status word in *sw (and stops at the first refusal); seam_err
 * reports what went wrong on the host side or on the link.
 */
#ifndef SEAM_GP_H
#define SEAM_GP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

#define SEAM_GP_AID_MIN      5u
#define SEAM_GP_AID_MAX      16u
#define SEAM_GP_MODULES_MAX  32u               /* module AIDs kept per GET STATUS entry */
#define SEAM_GP_COMMAND_MAX  4096u             /* longest command data a builder writes */
#define SEAM_GP_APDU_MAX     (7u + 4096u + 2u) /* longest command APDU a builder writes */
#define SEAM_GP_RESPONSE_MAX (65536u + 2u)     /* longest response data || SW */
#define SEAM_GP_ATR_MAX      33u

/* An application identifier, 0 (none) or 5..16 bytes. */
typedef struct {
    uint8_t bytes[SEAM_GP_AID_MAX];
    size_t len;
} seam_gp_aid;

/* Sets *aid to bytes[0..len); SEAM_ERR_ARG when len is above 16 (*aid unchanged). */
seam_err seam_gp_aid_set(seam_gp_aid *aid, const uint8_t *bytes, size_t len);

/* ------------------------------------------------------------------------ */
/* The link                                                                  */
/* ------------------------------------------------------------------------ */

/* What a host needs from a transport. Every function gets the link's ctx. */
typedef struct {
    /* Powers the card on (or resets it when on); writes the ATR. */
    seam_err (*power_on)(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len);
    /* Warm reset; writes the ATR. */
    seam_err (*reset)(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len);
    /* Powers the card off. */
    seam_err (*power_off)(void *ctx);
    /* Sends command[0..len) and writes the response (data || SW1 SW2). */
    seam_err (*transmit)(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                         size_t response_size, size_t *response_len);
    /* Releases ctx and whatever it holds. */
    void (*close)(void *ctx);
} seam_gp_link_ops;

/* One link to one card, filled by an opener (seam_link_image_open, ...). */
typedef struct {
    const seam_gp_link_ops *ops;
    void *ctx;
    const char *kind; /* "image", "card", "pcsc": for messages */
} seam_gp_link;

/* Powers the card on (cold, or warm when on). Errors: the link's; SEAM_ERR_ARG (closed). */
seam_err seam_gp_link_power_on(const seam_gp_link *link, uint8_t *atr, size_t atr_size,
                               size_t *atr_len);

/* Resets the card (warm). Errors: the link's; SEAM_ERR_ARG (closed). */
seam_err seam_gp_link_reset(const seam_gp_link *link, uint8_t *atr, size_t atr_size,
                            size_t *atr_len);

/* Powers the card off. Errors: the link's; SEAM_ERR_ARG (closed). */
seam_err seam_gp_link_power_off(const seam_gp_link *link);

/* Sends one command APDU as it is; the response is data || SW. Errors: the link's. */
seam_err seam_gp_link_transmit(const seam_gp_link *link, const uint8_t *command, size_t len,
                               uint8_t *response, size_t response_size, size_t *response_len);

/* Closes the link and zeroes *link; safe on a closed (zeroed) link. */
void seam_gp_link_close(seam_gp_link *link);

/* ------------------------------------------------------------------------ */
/* Words for bytes                                                           */
/* ------------------------------------------------------------------------ */

/* What a status word means, in a few words ("referenced data not found"); never NULL. */
const char *seam_gp_sw_text(uint16_t sw);

/* Kinds of registry entries, as GET STATUS lists them (its P1). */
typedef enum {
    SEAM_GP_ISD = 0x80,          /* the issuer security domain (and the card's lifecycle) */
    SEAM_GP_APPS = 0x40,         /* applications and supplementary security domains */
    SEAM_GP_ELFS = 0x20,         /* executable load files (packages) */
    SEAM_GP_ELFS_MODULES = 0x10, /* packages with their modules (applet classes) */
} seam_gp_scope;

/* The name of a lifecycle byte of an entry of that scope ("SELECTABLE", "LOCKED",
   "SECURED"); application-specific states give "SELECTABLE+xx". Writes into buf. */
const char *seam_gp_lifecycle_text(seam_gp_scope scope, uint8_t lifecycle, char *buf, size_t size);

/* Words for the command a header (CLA INS P1 P2, as seam_gp_last_command gives it)
   names, written into buf: "INSTALL [for load]", "INSTALL [for load, install and make
   selectable] (first, P2 01)", "LOAD block 3", "DELETE", or "the command 80 F0 40 80"
   for one without a name here (96 bytes hold any). */
const char *seam_gp_command_text(const uint8_t header[4], char *buf, size_t size);

/* What a MANAGE ELF UPGRADE status byte means ("waiting for the new package"); never NULL. */
const char *seam_gp_upgrade_text(uint8_t status);

/* Writes the names of the privileges set in priv[0..len) (1 or 3 bytes),
   comma-separated ("SecurityDomain,CardLock,...", "none") into buf. */
const char *seam_gp_privileges_text(const uint8_t *priv, size_t len, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Packages (seam's load files)                                              */
/* ------------------------------------------------------------------------ */

#define SEAM_GP_PACKAGE_APPLETS_MAX 16u

/* What a host reads from a package's "seam.package" section. */
typedef struct {
    seam_gp_aid aid;
    uint16_t version;          /* major << 8 | minor */
    uint16_t platform_version; /* major << 8 | minor */
    size_t applet_count;       /* 1..16 */
    seam_gp_aid applets[SEAM_GP_PACKAGE_APPLETS_MAX];
} seam_gp_package;

/*
 * Parses the bytes of a "seam.package" section (top-level BER-TLV: 4F AID,
 * C0 version, C1 platform, 61 { 4F applet } ...; docs/applet-abi.md) into
 * *out. Errors: SEAM_ERR_MALFORMED (bad TLV, bad length, unknown tag, missing
 * or repeated field, more than 16 applets); *out unchanged on error.
 */
seam_err seam_gp_package_parse(const uint8_t *section, size_t len, seam_gp_package *out);

/*
 * Reads a package file: module[0..len) must be a WebAssembly module that
 * decodes and validates (the wasm layer) and holds a "seam.package" section
 * that parses. Errors: SEAM_ERR_GP_PACKAGE (not a seam package; a reason is
 * written to why[0..why_size) when why is not NULL), SEAM_ERR_NOMEM.
 */
seam_err seam_gp_package_read(const uint8_t *module, size_t len, seam_gp_package *out, char *why,
                              size_t why_size);

/* Writes the load file of a module: C4 || BER length || module[0..len) into
   out[0..cap). Errors: SEAM_ERR_ARG (len above 0xFFFFFF), SEAM_ERR_BUFFER_SMALL
   (size needed in *out_len). */
seam_err seam_gp_load_file(const uint8_t *module, size_t len, uint8_t *out, size_t cap,
                           size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Builders: one command APDU each, CLA 80, into out[0..cap)                 */
/*                                                                           */
/* Each writes the plain command (short form, or extended when its data is   */
/* over 255 bytes: the session then chains it) with Le 00 when the command   */
/* answers data. Errors: SEAM_ERR_ARG (a field out of its range),            */
/* SEAM_ERR_BUFFER_SMALL (size needed in *out_len); out unchanged on error.   */
/* ------------------------------------------------------------------------ */

/* INSTALL roles: the P1 bits (gp_facts §1.3). */
enum {
    SEAM_GP_FOR_LOAD = 0x02,
    SEAM_GP_FOR_INSTALL = 0x04,
    SEAM_GP_FOR_MAKE_SELECTABLE = 0x08,
    SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE = 0x0C,
    SEAM_GP_FOR_LOAD_INSTALL_AND_MAKE_SELECTABLE = 0x0E, /* P2 01 (load layout) or 03 */
    SEAM_GP_FOR_EXTRADITION = 0x10,
    SEAM_GP_FOR_PERSONALIZATION = 0x20,
    SEAM_GP_FOR_REGISTRY_UPDATE = 0x40,
};

/*
 * The fields of one INSTALL command; each role uses some of them (gp_facts
 * §1.4) and the others must be empty:
 *   for load (02, and 0E with P2 01): elf, sd, hash, params (load parameters), token
 *   for install (04, 0C, and 0E with P2 03): elf, module, application,
 *       privileges, app_params (the C9 value) and params (more install
 *       parameters, e.g. EF {...}), token
 *   for make selectable (08): application, privileges, params, token
 *   for extradition (10): sd (the target), application (or an ELF), params, token
 *   for registry update (40): sd, application, privileges (0, 1 or 3 bytes), params, token
 *   for personalization (20): application
 */
typedef struct {
    uint8_t role; /* SEAM_GP_FOR_... */
    uint8_t p2;   /* 00; 01 or 03 in the combined sequence */
    seam_gp_aid elf;
    seam_gp_aid module;
    seam_gp_aid application;
    seam_gp_aid sd;
    uint8_t privileges[3];
    size_t privileges_len; /* 0, 1 or 3 */
    const uint8_t *hash;   /* load file data block hash, 0..64 bytes */
    size_t hash_len;
    const uint8_t *app_params; /* the value of C9, always written for install */
    size_t app_params_len;
    const uint8_t *params; /* further parameters (raw TLVs) */
    size_t params_len;
    const uint8_t *token; /* a Delegated Management token */
    size_t token_len;
} seam_gp_install_fields;

/* INSTALL (80 E6 role p2 Lc data 00) from *in. */
seam_err seam_gp_build_install(const seam_gp_install_fields *in, uint8_t *out, size_t cap,
                               size_t *out_len);

/* LOAD block number block (80 E8 00|80 block Lc data 00); last sets P1 80. len 1..255. */
seam_err seam_gp_build_load(uint8_t block, bool last, const uint8_t *data, size_t len, uint8_t *out,
                            size_t cap, size_t *out_len);

/* seam_gp_build_load for a card that takes extended lengths: len 1..SEAM_GP_COMMAND_MAX,
   extended (80 E8 P1 block 00 hh ll data 00 00) above 255 bytes, short up to 255. */
seam_err seam_gp_build_load_extended(uint8_t block, bool last, const uint8_t *data, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len);

/* DELETE of card content (80 E4 00 00|80 Lc 4F aid [9E token] 00); related
   deletes what depends on it too (a package's instances). */
seam_err seam_gp_build_delete(const uint8_t *aid, size_t len, bool related, const uint8_t *token,
                              size_t token_len, uint8_t *out, size_t cap, size_t *out_len);

/* DELETE of keys (80 E4 00 00 Lc [D0 key id] [D2 kvn] 00); a 0 leaves its TLV out
   (both 0: SEAM_ERR_ARG). */
seam_err seam_gp_build_delete_key(uint8_t kvn, uint8_t key_id, uint8_t *out, size_t cap,
                                  size_t *out_len);

/* GET STATUS (80 F2 scope 02|03 Lc 4F prefix 00), TLV format; next asks for the
   continuation after 6310. prefix may be empty (everything). */
seam_err seam_gp_build_get_status(seam_gp_scope scope, bool next, const uint8_t *prefix,
                                  size_t prefix_len, uint8_t *out, size_t cap, size_t *out_len);

/* SET STATUS (80 F0 scope state [Lc aid]): scope 80 (the card; aid must be
   empty), 40 (an application or SD) or 60 (an SD and its applications). */
seam_err seam_gp_build_set_status(uint8_t scope, uint8_t state, const uint8_t *aid, size_t len,
                                  uint8_t *out, size_t cap, size_t *out_len);

/* The three static keys of an SCP03 key set, all of len (16, 24 or 32) bytes. */
typedef struct {
    uint8_t enc[32];
    uint8_t mac[32];
    uint8_t dek[32];
    size_t len;
} seam_gp_keys;

/* Sets *keys to the GlobalPlatform test key 40 41 .. 4F for ENC, MAC and DEK. */
void seam_gp_keys_default(seam_gp_keys *keys);

/* Sets ENC = MAC = DEK = key[0..len); SEAM_ERR_ARG unless len is 16, 24 or 32. */
seam_err seam_gp_keys_set(seam_gp_keys *keys, const uint8_t *key, size_t len);

/*
 * PUT KEY of an AES key set (80 D8 replace 81 Lc new {88 L len enc 03 KCV} x 3 00):
 * replace is the KVN replaced (00 adds a set), new_kvn (01..7F) the new set's
 * version; each key is encrypted with AES-CBC, zero ICV, under dek[0..dek_len)
 * (the open channel's static Key-DEK). expected[0..10) gets the answer the card
 * must give: new_kvn || KCV(ENC) || KCV(MAC) || KCV(DEK). Errors also
 * SEAM_ERR_CRYPTO_KEY (a key or the DEK of a bad length).
 */
seam_err seam_gp_build_put_key(const uint8_t *dek, size_t dek_len, uint8_t replace, uint8_t new_kvn,
                               const seam_gp_keys *keys, uint8_t *out, size_t cap, size_t *out_len,
                               uint8_t expected[10]);

/* STORE DATA P1 bits (gp_facts §1.9). */
enum {
    SEAM_GP_STORE_LAST = 0x80,
    SEAM_GP_STORE_APP_DEPENDENT = 0x20, /* b7b6 01 */
    SEAM_GP_STORE_ENCRYPTED = 0x60,     /* b7b6 11 */
    SEAM_GP_STORE_DGI = 0x08,           /* b5b4 01 */
    SEAM_GP_STORE_BER_TLV = 0x10,       /* b5b4 10 */
    SEAM_GP_STORE_CASE4 = 0x01,         /* the block expects response data */
};

/* STORE DATA block number block (80 E2 p1 block Lc data [00]); len 1..255. */
seam_err seam_gp_build_store_data(uint8_t p1, uint8_t block, const uint8_t *data, size_t len,
                                  uint8_t *out, size_t cap, size_t *out_len);

/* MANAGE ELF UPGRADE actions (P1; docs/upgrade.md). */
typedef enum {
    SEAM_GP_UPGRADE_START = 0x01,
    SEAM_GP_UPGRADE_MIGRATE = 0x02,
    SEAM_GP_UPGRADE_ABORT = 0x04,
    SEAM_GP_UPGRADE_STATUS = 0x08,
    SEAM_GP_UPGRADE_EXPORT = 0x10, /* aid is an instance: its restore-module record */
} seam_gp_upgrade_action;

/* MANAGE ELF UPGRADE (80 EA action 00 Lc 4F aid [C4 new_aid] 00); new_aid only
   with START (empty: the same AID). */
seam_err seam_gp_build_upgrade(seam_gp_upgrade_action action, const uint8_t *aid, size_t len,
                               const uint8_t *new_aid, size_t new_len, uint8_t *out, size_t cap,
                               size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Decoders                                                                  */
/* ------------------------------------------------------------------------ */

/* One GET STATUS entry (an E3 template); absent fields are zero. */
typedef struct {
    seam_gp_aid aid;       /* 4F */
    uint8_t lifecycle;     /* 9F70 */
    uint8_t privileges[3]; /* C5 */
    size_t privileges_len; /* 0, 1 or 3 */
    seam_gp_aid elf;       /* C4: an application's package */
    seam_gp_aid sd;        /* CC: the associated security domain */
    bool has_version;
    uint16_t version; /* CE, 2 bytes: major << 8 | minor (1 byte: major << 8) */
    size_t module_count;
    seam_gp_aid modules[SEAM_GP_MODULES_MAX]; /* 84 */
    uint8_t space;                            /* seam's DF71: 1 useful, 2 temporary; 0 absent */
} seam_gp_status_entry;

/* An iterator over the E3 templates of GET STATUS response data; borrows it. */
typedef struct {
    const uint8_t *next;
    size_t remaining;
} seam_gp_status_iter;

/* Starts iterating over data[0..len). */
void seam_gp_status_iter_init(seam_gp_status_iter *it, const uint8_t *data, size_t len);

/*
 * Decodes the next E3 template into *entry. SEAM_ERR_NOT_FOUND at the end;
 * SEAM_ERR_MALFORMED (anything but E3 at the top, a bad TLV, 4F missing or
 * repeated, a field of the wrong length, more than SEAM_GP_MODULES_MAX
 * modules), and the iterator then stays where it is. Unknown tags inside E3
 * are skipped. *entry is unchanged on error.
 */
seam_err seam_gp_status_iter_next(seam_gp_status_iter *it, seam_gp_status_entry *entry);

/* What MANAGE ELF UPGRADE answers: A1 { 90 status, 4F package, ... }. */
typedef struct {
    uint8_t status; /* 00 none, 01 completed, 02 waiting for the package, 03 for domains */
    seam_gp_aid package;
    seam_gp_aid new_package; /* C4, status query */
    bool has_migrated;
    uint8_t migrated; /* 81: instances this migrate moved */
    bool has_remaining;
    uint16_t remaining; /* 82: instances of the old package left */
    bool has_waiting;
    uint8_t waiting; /* 83: domains that have not migrated */
} seam_gp_upgrade_status;

/* Decodes a MANAGE ELF UPGRADE response. Errors: SEAM_ERR_MALFORMED; *out unchanged. */
seam_err seam_gp_upgrade_decode(const uint8_t *data, size_t len, seam_gp_upgrade_status *out);

/*
 * Reads the DGI at data[*pos..len): a 2-byte tag, a length of 1 byte (00..FE)
 * or FF and 2 bytes, the value. *tag, *value (into data), *value_len and *pos
 * (past the DGI) are set on success. SEAM_ERR_NOT_FOUND when *pos == len,
 * SEAM_ERR_TRUNCATED when the DGI runs past len; outputs unchanged on error.
 */
seam_err seam_gp_dgi_next(const uint8_t *data, size_t len, size_t *pos, uint16_t *tag,
                          const uint8_t **value, size_t *value_len);

/* ------------------------------------------------------------------------ */
/* Remote scripts: the expanded remote command format (ETSI TS 102 226)      */
/* ------------------------------------------------------------------------ */

/* Expanded remote command format (ETSI TS 102 226): a command scripting template
   (AE 80 ... 00 00 indefinite, or AA definite) holding C-APDUs under tag 22, and a
   response scripting template (AF 80 ... 00 00, or AB) holding R-APDUs (data || SW1 SW2)
   under tag 23. */
#define SEAM_GP_RSCRIPT_COMMANDS  0xAEu
#define SEAM_GP_RSCRIPT_RESPONSES 0xAFu
#define SEAM_GP_RSCRIPT_CAPDU     0x22u
#define SEAM_GP_RSCRIPT_RAPDU     0x23u
#define SEAM_GP_RSCRIPT_ITEM_MAX  0xFFFFu /* the longest item: BER lengths of 1..3 bytes */

/* A reader over one script; borrows data. Fields are the codec's: read, do not set. */
typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint8_t tmpl;
    bool ended;
} seam_gp_rscript_reader;

/* Writer: begin puts the template's tag (AE or AF, else SEAM_ERR_ARG) and 80. Each
   writer appends to out[*len..cap) and advances *len; SEAM_ERR_BUFFER_SMALL leaves
   *len (and out) unchanged. */
seam_err seam_gp_rscript_begin(uint8_t tmpl, uint8_t *out, size_t cap, size_t *len);

/* Appends one item: tag (one byte, not 00 nor a multi-byte tag's first: SEAM_ERR_ARG),
   its BER length (1..3 bytes) and item[0..item_len); SEAM_ERR_ARG above
   SEAM_GP_RSCRIPT_ITEM_MAX. */
seam_err seam_gp_rscript_add(uint8_t tag, const uint8_t *item, size_t item_len, uint8_t *out,
                             size_t cap, size_t *len);

/* Appends the end of contents, 00 00. */
seam_err seam_gp_rscript_end(uint8_t *out, size_t cap, size_t *len);

/*
 * Opens data[0..len) as a script of template tmpl (AE commands, AF responses;
 * the definite AA and AB forms are accepted too) and checks it whole before
 * anything is read: every item a well formed TLV (tag of 1..3 bytes, length of
 * 1..3 bytes: 00..7F, 81 xx, 82 xx xx), the indefinite form closed by 00 00
 * with nothing after it, the definite form's length exactly the rest of the
 * input. Errors: SEAM_ERR_MALFORMED (another template, a bad length form, 00
 * not followed by 00, bytes after the end), SEAM_ERR_TRUNCATED (the input
 * ends before the script does), SEAM_ERR_ARG (tmpl); *r unchanged on error.
 */
seam_err seam_gp_rscript_open(seam_gp_rscript_reader *r, uint8_t tmpl, const uint8_t *data,
                              size_t len);

/* The next item of tag 22 (command scripts) or 23 (response scripts), in order, as
   *item (into the script) and *item_len; other tags are skipped. SEAM_ERR_NOT_FOUND
   after the last; SEAM_ERR_MALFORMED / SEAM_ERR_TRUNCATED on bad input (a reader
   that open did not accept); outputs unchanged on error. Never reads past data+len. */
seam_err seam_gp_rscript_next(seam_gp_rscript_reader *r, const uint8_t **item, size_t *item_len);

/* ------------------------------------------------------------------------ */
/* The session                                                               */
/* ------------------------------------------------------------------------ */

typedef struct seam_gp seam_gp;

/* Where a traced APDU was seen. */
typedef enum {
    SEAM_GP_TRACE_COMMAND,          /* a command as the host means it (plain) */
    SEAM_GP_TRACE_COMMAND_WRAPPED,  /* the bytes sent, after secure messaging or chaining */
    SEAM_GP_TRACE_RESPONSE_WRAPPED, /* the bytes received, before unwrapping */
    SEAM_GP_TRACE_RESPONSE,         /* the response as the host reads it (data || SW) */
} seam_gp_trace_point;

/* Called with every APDU; bytes are valid during the call only. */
typedef void (*seam_gp_trace_fn)(void *ctx, seam_gp_trace_point point, const uint8_t *bytes,
                                 size_t len);

/* Called during long operations (LOAD) with the bytes done so far out of total. */
typedef void (*seam_gp_progress_fn)(void *ctx, size_t done, size_t total);

/* Creates a session over link (borrowed: it must outlive the session) in *out;
   free it with seam_gp_free. Errors: SEAM_ERR_ARG, SEAM_ERR_NOMEM. */
seam_err seam_gp_new(seam_gp_link *link, seam_gp **out);

/* Closes the channel (wiping its keys) and frees the session; NULL is allowed. */
void seam_gp_free(seam_gp *gp);

/* Sets (or, with NULL, removes) the function that sees every APDU. */
void seam_gp_set_trace(seam_gp *gp, seam_gp_trace_fn fn, void *ctx);

/*
 * Sends one command through the session and returns the whole answer: GP-class
 * commands (CLA 80..83) are wrapped while a channel with C-MAC is open, and
 * chained when they are longer than one APDU (INSTALL, DELETE and PUT KEY; one
 * C-MAC over the whole command); 61xx answers are collected with GET RESPONSE
 * and the whole response is unwrapped (R-MAC, R-ENC). The response data (no
 * SW) goes to data[0..cap) when data is not NULL, and stays readable with
 * seam_gp_response until the next command. Errors: SEAM_ERR_MALFORMED (not an
 * APDU), SEAM_ERR_ARG (too long for the session), SEAM_ERR_BUFFER_SMALL (data;
 * the length in *data_len), SEAM_ERR_CRYPTO_AUTH (the response's R-MAC does not
 * verify: the channel is closed), the link's errors.
 */
seam_err seam_gp_transmit(seam_gp *gp, const uint8_t *apdu, size_t len, uint8_t *data, size_t cap,
                          size_t *data_len, uint16_t *sw);

/* The data of the last response (unwrapped, no SW) and its length. */
const uint8_t *seam_gp_response(const seam_gp *gp, size_t *len);

/* SELECT by AID (00 A4 04 00 Lc aid 00; empty: the card's default, the ISD). A
   selection the card accepts (9000, 62xx, 63xx) ends the secure channel, as it does on
   the card; a refused one leaves it open. The FCI is seam_gp_response. */
seam_err seam_gp_select(seam_gp *gp, const uint8_t *aid, size_t len, uint16_t *sw);

/* What INITIALIZE UPDATE told about the key set and the card. */
typedef struct {
    uint8_t diversification[10];
    uint8_t kvn; /* the key set version the card used */
    uint8_t scp; /* 03 */
    uint8_t i;   /* the SCP03 i parameter */
    bool has_counter;
    uint8_t counter[3]; /* the sequence counter (pseudo-random challenges) */
} seam_gp_channel_info;

/*
 * Opens an SCP03 channel with the selected security domain: INITIALIZE UPDATE
 * (key version kvn, 00 = the first), checks the card cryptogram, then
 * EXTERNAL AUTHENTICATE at level (00, 01, 03, 11, 13, 33). keys->dek is kept
 * for PUT KEY and encrypted STORE DATA while the channel is open. info may be
 * NULL. A card that refuses either command: SEAM_OK with its SW, the channel
 * closed. Errors: SEAM_ERR_ARG (level, key length), SEAM_ERR_GP_CRYPTOGRAM
 * (the card cryptogram does not verify: the card does not hold these keys;
 * nothing more is sent), SEAM_ERR_GP_RESPONSE (INITIALIZE UPDATE's answer is
 * not 29 or 32 bytes), the link's errors.
 */
seam_err seam_gp_open_channel(seam_gp *gp, const seam_gp_keys *keys, uint8_t kvn, uint8_t level,
                              seam_gp_channel_info *info, uint16_t *sw);

/* Forgets the channel and wipes its keys (the card ends it at its next SELECT or reset). */
void seam_gp_close_channel(seam_gp *gp);

/* True while a secure channel is open; *level (may be NULL) gets its level. */
bool seam_gp_channel_is_open(const seam_gp *gp, uint8_t *level);

/* The most command data one APDU carries at the channel's level: 255 plain or at
   level 00, 247 with C-MAC, 239 with C-DEC (padding and C-MAC within 255). */
size_t seam_gp_block_size(const seam_gp *gp);

/* Caps the data of LOAD and STORE DATA blocks at max bytes (0: no cap, the level's
   size), for hosts whose cards or figures want smaller blocks. SEAM_ERR_ARG above 255. */
seam_err seam_gp_set_block_size(seam_gp *gp, size_t max);

/*
 * Tells the session the card's ATR (from the link's power on or reset): when
 * its card capabilities (historical bytes, compact-TLV tag 7, third byte b7:
 * ISO/IEC 7816-4 8.1.1.2.7) announce extended Lc and Le, LOAD blocks become
 * extended APDUs (seam_gp_load_block_size); anything else, short ones, as
 * without an ATR. Errors: SEAM_ERR_MALFORMED (not an ATR: short blocks).
 */
seam_err seam_gp_set_atr(seam_gp *gp, const uint8_t *atr, size_t len);

/*
 * The data of one LOAD block: with a card that announced extended lengths
 * (seam_gp_set_atr) and no cap set (seam_gp_set_block_size), as much as fits
 * in SEAM_GP_COMMAND_MAX bytes once the channel added its padding and C-MAC
 * (4096, 4088 with C-MAC, 4072 with C-DEC), sent as one extended APDU with one
 * C-MAC (over CLA INS P1 P2 00 hh ll and the data, as the card checks it); else
 * seam_gp_block_size.
 */
size_t seam_gp_load_block_size(const seam_gp *gp);

/* Sets the most data of one block of a GP chain (1..255; 0: 255, the default): INSTALL,
   DELETE and PUT KEY longer than that are chained (for cards with small buffers, and
   tests of chaining). SEAM_ERR_ARG above 255. */
seam_err seam_gp_set_chain_size(seam_gp *gp, size_t block);

/* Whether seam_gp_transmit follows a 61xx answer with GET RESPONSE and resends a
   command sent in clear with the Le of a 6Cxx answer (follow, the default); with
   false those answers are handed back as they are. */
void seam_gp_set_response_chaining(seam_gp *gp, bool follow);

/* INSTALL [for ...] as *in says (seam_gp_build_install), through the channel. */
seam_err seam_gp_install(seam_gp *gp, const seam_gp_install_fields *in, uint16_t *sw);

/* LOADs load_file[0..len) (C4 ...) in blocks of seam_gp_load_block_size, numbered
   from 00; at most 256 blocks (SEAM_ERR_ARG beyond). progress may be NULL. */
seam_err seam_gp_load(seam_gp *gp, const uint8_t *load_file, size_t len,
                      seam_gp_progress_fn progress, void *progress_ctx, uint16_t *sw);

/* What seam_gp_install_package needs; empty AIDs take their defaults. */
typedef struct {
    const uint8_t *module; /* the package file (a WebAssembly module) */
    size_t module_len;
    seam_gp_aid sd;        /* INSTALL [for load]'s SD AID (empty: none given) */
    bool hash;             /* give the SHA-256 load file data block hash */
    seam_gp_aid applet;    /* the module (applet class) AID; default the package's first */
    seam_gp_aid instance;  /* the instance AID; default the applet AID */
    uint8_t privileges[3]; /* privileges_len 0 gives 00 */
    size_t privileges_len; /* 0, 1 or 3 */
    const uint8_t *c9;     /* the application's install parameters (C9's value) */
    size_t c9_len;
    bool load_only; /* INSTALL [for load] (02) and LOAD only: the package, no instance */
    /* INSTALL [for load] (02), LOAD, INSTALL [for install and make selectable] (0C)
       instead of the combined sequence, for cards that do not take P1 0E */
    bool separate;
    seam_gp_progress_fn progress;
    void *progress_ctx;
} seam_gp_package_install;

/*
 * Loads and installs a package with the combined INSTALL [for load, install and
 * make selectable]: P1 0E P2 01 (the for-load layout), the LOADs, P1 0E P2 03
 * (the for-install layout, naming the package), so that the card stores the
 * package and its instance together or not at all. load_only sends INSTALL [for
 * load] (02) and the LOADs; separate sends 02, the LOADs, then 0C. The file is
 * checked first (SEAM_ERR_GP_PACKAGE, nothing sent); a refusal stops at that
 * command with its SW, and seam_gp_last_command tells which it was.
 */
seam_err seam_gp_install_package(seam_gp *gp, const seam_gp_package_install *in, uint16_t *sw);

/* DELETE of card content aid (related: with what depends on it). */
seam_err seam_gp_delete(seam_gp *gp, const uint8_t *aid, size_t len, bool related, uint16_t *sw);

/* Called with each decoded GET STATUS entry; an error stops the walk with it. */
typedef seam_err (*seam_gp_status_fn)(void *ctx, seam_gp_scope scope,
                                      const seam_gp_status_entry *entry);

/*
 * GET STATUS of scope for AIDs starting with prefix (empty: all), following
 * 6310 with P2 03 until the card has said everything, each entry decoded and
 * passed to fn. The card's "nothing found" (6A88) is SEAM_OK with sw 6A88.
 * Errors: SEAM_ERR_GP_RESPONSE (data that does not decode), what fn returned.
 */
seam_err seam_gp_get_status(seam_gp *gp, seam_gp_scope scope, const uint8_t *prefix,
                            size_t prefix_len, seam_gp_status_fn fn, void *ctx, uint16_t *sw);

/* The whole registry: GET STATUS of the ISD, the applications and SDs, then the
   packages with their modules (P1 20 when the card refuses 10); empty scopes are
   skipped. *sw is 9000 unless a scope was refused otherwise. */
seam_err seam_gp_list(seam_gp *gp, seam_gp_status_fn fn, void *ctx, uint16_t *sw);

/* SET STATUS (seam_gp_build_set_status) through the channel. */
seam_err seam_gp_set_status(seam_gp *gp, uint8_t scope, uint8_t state, const uint8_t *aid,
                            size_t len, uint16_t *sw);

/*
 * PUT KEY of keys as key set new_kvn, replacing set replace (00: adding it),
 * encrypted under the open channel's DEK. The card must answer new_kvn and the
 * three KCVs: SEAM_ERR_GP_RESPONSE when its 9000 carries anything else. The
 * channel stays open under the old keys. Errors also SEAM_ERR_GP_CHANNEL (no
 * channel open).
 */
seam_err seam_gp_put_key(seam_gp *gp, uint8_t replace, uint8_t new_kvn, const seam_gp_keys *keys,
                         uint16_t *sw);

/*
 * STORE DATA of data[0..len) in blocks numbered from 00, p1 giving the format
 * and encryption bits (SEAM_GP_STORE_..., without LAST: set on the last block).
 * With SEAM_GP_STORE_DGI or SEAM_GP_STORE_BER_TLV whole DGIs or TLVs are packed
 * into blocks and never cut (SEAM_ERR_ARG for one larger than a block,
 * SEAM_ERR_MALFORMED when data does not parse); otherwise data is cut at the
 * block size. With SEAM_GP_STORE_ENCRYPTED each block's data is padded
 * (80 00..) and encrypted with AES-CBC, zero ICV, under the channel's static
 * DEK (SEAM_ERR_GP_CHANNEL without a channel); at C-DEC levels the channel
 * encrypts each whole command again with S-ENC.
 */
seam_err seam_gp_store_data(seam_gp *gp, uint8_t p1, const uint8_t *data, size_t len, uint16_t *sw);

/* MANAGE ELF UPGRADE action on package (or instance, for EXPORT) aid; a 9000
   answer other than EXPORT's is decoded into *status (may be NULL;
   SEAM_ERR_GP_RESPONSE when it does not decode). EXPORT's record is
   seam_gp_response. */
seam_err seam_gp_upgrade(seam_gp *gp, seam_gp_upgrade_action action, const uint8_t *aid, size_t len,
                         const uint8_t *new_aid, size_t new_len, seam_gp_upgrade_status *status,
                         uint16_t *sw);

/* What seam_gp_upgrade_package did, step by step. */
typedef struct {
    seam_gp_package package;        /* the new version, as its file says */
    bool started, loaded, migrated; /* the steps the card accepted */
    seam_gp_upgrade_status start;   /* MANAGE ELF UPGRADE start's answer */
    seam_gp_upgrade_status migrate; /* migrate's answer */
    size_t load_bytes;              /* the load file (C4 ...) sent */
    size_t load_blocks;             /* in that many LOAD blocks */
    bool aborted; /* the card refused the LOAD, and abort put the old package back */
} seam_gp_upgrade_report;

/*
 * Upgrades a package to the version in module[0..len) (docs/upgrade.md):
 * MANAGE ELF UPGRADE start of package old (NULL or empty: the new version's
 * AID; the new AID goes in C4 when it differs), INSTALL [for load] and LOAD of
 * the new version, migrate of the selected SD's instances. A LOAD the card
 * refuses is followed by abort, so that the package is as it was
 * (report->aborted). The file is checked first (SEAM_ERR_GP_PACKAGE, nothing
 * sent); a refusal stops with its SW and seam_gp_last_command tells which step
 * it was. progress (may be NULL) sees the LOAD.
 */
seam_err seam_gp_upgrade_package(seam_gp *gp, const uint8_t *module, size_t len,
                                 const seam_gp_aid *old, seam_gp_progress_fn progress,
                                 void *progress_ctx, seam_gp_upgrade_report *report, uint16_t *sw);

/* The header (CLA INS P1 P2) of the last command the session sent, and for a
   LOAD or STORE DATA its block number in P2: which step of an operation answered. */
void seam_gp_last_command(const seam_gp *gp, uint8_t header[4]);

/* ------------------------------------------------------------------------ */
/* Plans: the plain commands of one campaign step (docs/gp.md, "Remote       */
/* scripts"). The live operations above send the same commands.              */
/* ------------------------------------------------------------------------ */

/* A list of plain command APDUs (as the builders write them), owned by the plan. */
typedef struct {
    uint8_t *bytes; /* the commands one after the other */
    size_t len, cap;
    size_t *ends; /* command i is bytes[i ? ends[i - 1] : 0 .. ends[i]) */
    size_t count, ends_cap;
} seam_gp_plan;

/* Sets *plan empty (nothing allocated yet). */
void seam_gp_plan_init(seam_gp_plan *plan);

/* Wipes and frees what the plan holds, and sets it empty; safe on an empty plan. */
void seam_gp_plan_free(seam_gp_plan *plan);

/* Appends a copy of apdu[0..len) (4..SEAM_GP_APDU_MAX bytes: SEAM_ERR_ARG). Errors
   also SEAM_ERR_NOMEM (the plan unchanged). */
seam_err seam_gp_plan_add(seam_gp_plan *plan, const uint8_t *apdu, size_t len);

/* Command i of the plan (NULL when i >= count), its length in *len. */
const uint8_t *seam_gp_plan_command(const seam_gp_plan *plan, size_t i, size_t *len);

/*
 * Appends what seam_gp_install_package sends, in its order: INSTALL [for
 * load] (0E P2 01, or 02), the LOADs of load_block bytes (1..SEAM_GP_COMMAND_MAX;
 * above 255 only for a card that takes extended lengths) and the final INSTALL
 * (0E P2 03, or 0C; none with load_only). in->progress is not used. The file is
 * checked first: SEAM_ERR_GP_PACKAGE, SEAM_ERR_ARG (fields, more than 256
 * blocks), SEAM_ERR_NOMEM; the plan is unchanged on error.
 */
seam_err seam_gp_plan_install_package(seam_gp_plan *plan, const seam_gp_package_install *in,
                                      size_t load_block);

/*
 * Appends STORE DATA of data[0..len) cut as seam_gp_store_data cuts it (whole
 * DGIs or TLVs per block with those formats, blocks of at most block bytes,
 * 1..255; with SEAM_GP_STORE_ENCRYPTED each block encrypted under
 * dek[0..dek_len), else dek may be NULL). With instance not NULL, an INSTALL
 * [for personalization] of that application goes first (the SD then forwards
 * the blocks to it). Errors: SEAM_ERR_ARG, SEAM_ERR_MALFORMED (data does not
 * parse in its format), SEAM_ERR_GP_CHANNEL (encrypted without a DEK),
 * SEAM_ERR_NOMEM; the plan is unchanged on error.
 */
seam_err seam_gp_plan_store_data(seam_gp_plan *plan, const seam_gp_aid *instance, uint8_t p1,
                                 const uint8_t *data, size_t len, size_t block, const uint8_t *dek,
                                 size_t dek_len);

/*
 * Appends the steps of seam_gp_upgrade_package that need no answer: MANAGE ELF
 * UPGRADE start of old (NULL or empty: the new version's AID; C4 the new AID
 * when it differs), INSTALL [for load] and the LOADs (load_block as above),
 * migrate of the session's SD's instances. The live operation sends abort when
 * the card refuses a LOAD; remotely that answer comes a round later: the caller
 * then sends seam_gp_plan_upgrade_step(ABORT) in a round of its own. Instances
 * in other domains migrate in a session with each of those domains
 * (seam_gp_plan_upgrade_step(MIGRATE)). Errors as seam_gp_plan_install_package.
 */
seam_err seam_gp_plan_upgrade(seam_gp_plan *plan, const uint8_t *module, size_t len,
                              const seam_gp_aid *old, size_t load_block);

/* Where an upgrade plan starts: what a card's upgrade session of the old package
   already has (seam_gp_upgrade_decode of the status query, P1 08). */
typedef enum {
    SEAM_GP_UPGRADE_FROM_START = 0, /* no session: start, load, migrate */
    SEAM_GP_UPGRADE_FROM_LOAD,      /* a session waiting for the new package (02): load, migrate */
    SEAM_GP_UPGRADE_FROM_MIGRATE,   /* the new package loaded (03): migrate */
    SEAM_GP_UPGRADE_FROM_ABORT,     /* a session this plan cannot continue (no migration yet):
                                       abort, then start, load, migrate */
} seam_gp_upgrade_from;

/*
 * The steps of seam_gp_plan_upgrade from a point an earlier, interrupted upgrade
 * reached on the card (from), so that no step the card has taken is sent twice:
 * FROM_START is seam_gp_plan_upgrade; FROM_LOAD leaves out start, FROM_MIGRATE
 * start and the load; FROM_ABORT puts MANAGE ELF UPGRADE abort of old first. Migrate
 * is always the last command. Errors as seam_gp_plan_upgrade, and SEAM_ERR_ARG for
 * another from; the plan is unchanged on error.
 */
seam_err seam_gp_plan_upgrade_from(seam_gp_plan *plan, const uint8_t *module, size_t len,
                                   const seam_gp_aid *old, seam_gp_upgrade_from from,
                                   size_t load_block);

/* Appends one MANAGE ELF UPGRADE (seam_gp_build_upgrade). */
seam_err seam_gp_plan_upgrade_step(seam_gp_plan *plan, seam_gp_upgrade_action action,
                                   const uint8_t *aid, size_t len, const uint8_t *new_aid,
                                   size_t new_len);

/* Appends DELETE of aid (related: with what depends on it), as seam_gp_delete. */
seam_err seam_gp_plan_delete(seam_gp_plan *plan, const uint8_t *aid, size_t len, bool related);

/* ------------------------------------------------------------------------ */
/* Remote sessions: SCP03 with a card reached only through scripts           */
/* ------------------------------------------------------------------------ */

/*
 * A server's SCP03 session with one security domain of a card it cannot talk
 * to: each round writes a command script (seam_gp_rscript) that a terminal
 * runs on the card as it is, and reads the response script the terminal sends
 * back. The server holds the keys; the terminal sees only wrapped commands.
 *
 * States:
 *
 *   NEW ──start: SELECT sd + INITIALIZE UPDATE (fresh host challenge)──▶ STARTED
 *   STARTED ──read: both 9000, the card cryptogram verifies──▶ AUTHENTICATING
 *   AUTHENTICATING ──commands: EXTERNAL AUTHENTICATE + the plan, wrapped──▶ SENT
 *   OPEN ──commands: the plan, wrapped──▶ SENT
 *   SENT ──read: every command 9000, every R-MAC verifies──▶ OPEN
 *   STARTED, SENT ──read: a command refused (its SW is data)──▶ ENDED
 *   any ──read: a response script that does not answer the one sent (count,
 *         a replay, a bad MAC, a wrong cryptogram), a call out of turn──▶ DEAD
 *
 * ENDED and DEAD wipe the keys; nothing more is written or read (SEAM_ERR_GP_CHANNEL).
 * At levels 01 and 03 the card's answers carry no R-MAC: a replayed or altered
 * response script is then caught only by its shape, and the transport must
 * refuse a second response to one script; use 13 or 33 where that matters.
 */
typedef struct seam_gp_remote seam_gp_remote;

typedef enum {
    SEAM_GP_REMOTE_NEW,
    SEAM_GP_REMOTE_STARTED,
    SEAM_GP_REMOTE_AUTHENTICATING,
    SEAM_GP_REMOTE_OPEN,
    SEAM_GP_REMOTE_SENT,
    SEAM_GP_REMOTE_ENDED,
    SEAM_GP_REMOTE_DEAD,
} seam_gp_remote_state;

typedef struct {
    seam_gp_aid sd;    /* the security domain (empty: the card's default, the ISD) */
    seam_gp_keys keys; /* its key set (copied, wiped with the session) */
    uint8_t kvn;       /* INITIALIZE UPDATE's key version (00: the first) */
    uint8_t level;     /* 01, 03, 11, 13 or 33: commands always carry a C-MAC */
    bool extended;     /* the card's ATR announced extended lengths: LOAD blocks up to 4 KB */
    size_t block_cap;  /* 0, or the most data of a LOAD / STORE DATA block (1..255) */
} seam_gp_remote_config;

/* How a round went. Indexes count the plan's commands (round 1: 0 SELECT, 1
   INITIALIZE UPDATE); EXTERNAL AUTHENTICATE refused is authentication_refused. */
typedef struct {
    size_t commands; /* plain commands in the round */
    size_t answered; /* of them, answered (the terminal stops after a refusal, or not) */
    bool ok;         /* every command answered 9000 */
    bool authentication_refused;  /* EXTERNAL AUTHENTICATE's SW is sw */
    size_t failed;                /* the first command not answered 9000 (when !ok) */
    uint16_t sw;                  /* its SW; 9000 when ok */
    uint8_t header[4];            /* its CLA INS P1 P2 as planned (seam_gp_command_text) */
    size_t script_out, script_in; /* bytes of the command script and of the response script */
} seam_gp_remote_report;

/* Creates a session in state NEW. Errors: SEAM_ERR_ARG (level, key length, kvn above
   7F, block_cap above 255), SEAM_ERR_NOMEM. */
seam_err seam_gp_remote_new(const seam_gp_remote_config *config, seam_gp_remote **out);

/* Wipes the keys and everything the session holds, and frees it; NULL is allowed. */
void seam_gp_remote_free(seam_gp_remote *r);

/* The session's state. */
seam_gp_remote_state seam_gp_remote_get_state(const seam_gp_remote *r);

/* Round 1: the command script SELECT sd, INITIALIZE UPDATE (kvn, a fresh host
   challenge) in *script[0..*len) (the session's, valid until its next call).
   Errors: SEAM_ERR_GP_CHANNEL (not NEW), SEAM_ERR_CRYPTO, SEAM_ERR_NOMEM. */
seam_err seam_gp_remote_start(seam_gp_remote *r, const uint8_t **script, size_t *len);

/*
 * The next round: the plan's commands wrapped for the channel (C-MAC, C-DEC at
 * 03/13/33; INSTALL, DELETE, PUT KEY longer than one APDU as a GP chain, one
 * C-APDU per block; commands over 255 bytes as extended APDUs when the config
 * says the card takes them), after EXTERNAL AUTHENTICATE in the first one.
 * ISO-class commands go as they are; a SELECT is refused (it would end the
 * channel). An empty plan is allowed. Errors: SEAM_ERR_GP_CHANNEL (not
 * AUTHENTICATING or OPEN), SEAM_ERR_ARG (a command the channel cannot carry:
 * nothing is written, the state unchanged), SEAM_ERR_NOMEM; a crypto error
 * kills the session.
 */
seam_err seam_gp_remote_commands(seam_gp_remote *r, const seam_gp_plan *plan,
                                 const uint8_t **script, size_t *len);

/*
 * Reads the response script to the last command script: one R-APDU per
 * C-APDU, in order, each R-MAC verified and R-ENC data decrypted; each
 * command's SW and data are then seam_gp_remote_response's. Fewer responses
 * are accepted only after a refused command (the terminal stopped there). A
 * refusal is SEAM_OK with report->ok false and the session ENDED. Errors (the
 * session DEAD): SEAM_ERR_GP_SCRIPT (no round outstanding: a second reading,
 * too many or too few responses, a chained block answered
 * with data, an answer with 61xx or an error SW with data), SEAM_ERR_MALFORMED /
 * SEAM_ERR_TRUNCATED (not a response script), SEAM_ERR_CRYPTO_AUTH (an R-MAC
 * that does not verify), SEAM_ERR_GP_CRYPTOGRAM (round 1: not these keys, or
 * not this session's challenge), SEAM_ERR_GP_RESPONSE (INITIALIZE UPDATE's
 * answer of the wrong length), SEAM_ERR_NOMEM. report may be NULL.
 */
seam_err seam_gp_remote_read(seam_gp_remote *r, const uint8_t *script, size_t len,
                             seam_gp_remote_report *report);

/* The answer to command i of the last round read: its SW and its plain data
   (the session's, valid until its next call). SEAM_ERR_NOT_FOUND when command
   i was not answered. */
seam_err seam_gp_remote_response(const seam_gp_remote *r, size_t i, uint16_t *sw,
                                 const uint8_t **data, size_t *len);

/* The most command data of a STORE DATA block at the session's level (247 with
   C-MAC, 239 with C-DEC, or the config's block_cap when smaller). */
size_t seam_gp_remote_block_size(const seam_gp_remote *r);

/* The most data of a LOAD block: as seam_gp_load_block_size for the config (4088
   or 4072 bytes with extended, else seam_gp_remote_block_size). */
size_t seam_gp_remote_load_block_size(const seam_gp_remote *r);

/* ------------------------------------------------------------------------ */
/* Card scripts: the runner of `seam card script` (docs/card-script.md)      */
/* ------------------------------------------------------------------------ */

/* What a line of the runner's output is. */
typedef enum {
    SEAM_GP_SCRIPT_COMMAND,  /* "> ...": an APDU line, or a directive's step, as meant (plain) */
    SEAM_GP_SCRIPT_RESPONSE, /* "< ...": a response as read (unwrapped), data || SW */
    SEAM_GP_SCRIPT_NOTE,     /* "  ...": what a directive did, the byte counters */
    SEAM_GP_SCRIPT_FAILURE,  /* "FILE:LINE: ...": a failed check, or a line that is not valid */
    SEAM_GP_SCRIPT_SUMMARY,  /* the closing lines */
} seam_gp_script_output;

/* Called with each line of output (no newline); text is valid during the call only. */
typedef void (*seam_gp_script_print_fn)(void *ctx, seam_gp_script_output kind, const char *text);

typedef struct {
    const char *path;   /* the script: a regular file */
    bool check_only;    /* parse and validate every line and the files it names; send nothing */
    bool stop_on_error; /* stop at the first failure (the summary is still printed) */
    seam_gp_script_print_fn print; /* NULL: no output */
    void *print_ctx;
    seam_gp_trace_fn trace; /* NULL, or sees every APDU of the session */
    void *trace_ctx;
} seam_gp_script_options;

/* How a run went. Byte counters: every APDU sent on the link, as sent (wrapped,
   chained, GET RESPONSE included), and every response, SW included. */
typedef struct {
    unsigned lines;  /* lines read */
    unsigned passed; /* checks that held (APDU lines with => and directives) */
    unsigned failed; /* failed checks and lines that are not valid */
    bool stopped;    /* stop_on_error ended the run early */
    uint64_t commands, bytes_in, bytes_out;
} seam_gp_script_result;

/*
 * Runs the card script at options->path over link (powered on first), or with
 * check_only parses and validates it without a link (link may be NULL). Each
 * line's outcome goes to options->print; a failure does not stop the run
 * unless stop_on_error. Returns SEAM_OK when the script was read to its end
 * (or to the stop), whatever failed in it (*result tells). Errors: SEAM_ERR_IO
 * (the script is not a regular file or cannot be read: a FAILURE line says
 * which), SEAM_ERR_ARG, SEAM_ERR_NOMEM, the link's power-on errors.
 */
seam_err seam_gp_script_run(seam_gp_link *link, const seam_gp_script_options *options,
                            seam_gp_script_result *result);

#endif
