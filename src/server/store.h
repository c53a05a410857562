/*
 * The server's storage: one interface, two backends (docs/server.md, "Storage").
 *
 * A seam_store is opened from a URL: `sqlite:PATH` or a plain file path (SQLite, the
 * default) or `postgresql://...` / `postgres://...` (PostgreSQL through libpq). The same
 * functions, the same semantics and the same tests (tests/server/) hold for both.
 *
 * Rules, for every function below:
 *   - Every state change is one database transaction: it happens whole or not at all.
 *     A function that fails has changed nothing.
 *   - Secrets (SD key sets, personalization data, session contexts) are stored only
 *     sealed with AES-256-GCM under the server master key; the AAD binds the table and
 *     the row's key, so a sealed value moved to another row does not open.
 *   - Buffers belong to the caller. Lists are returned as one malloc'd array the caller
 *     frees with free(); arrays or buffers holding secrets are freed with
 *     seam_store_free_secret, which wipes them first.
 *   - Times are seconds since the Unix epoch. The store reads the clock for the
 *     `created`/`uploaded`/`at` stamps; lease decisions use the `now` the caller passes.
 *   - Errors: SEAM_ERR_ARG (an argument out of range), SEAM_ERR_NOT_FOUND,
 *     SEAM_ERR_SERVER_CONFLICT (already exists, or a state change that is not allowed:
 *     states only move forward), SEAM_ERR_SERVER_STORE (the database failed),
 *     SEAM_ERR_SERVER_MASTER_KEY (the master key does not open this store), NOMEM.
 *   - A handle is used by one thread at a time; several handles (in one or several
 *     processes) may share one database.
 *
 * States of a campaign:  created → running ⇄ paused; created | running | paused → cancelled;
 *   running → done (set by the store when no target is pending or running any more). A
 *   paused campaign's targets are not claimed; a step already running finishes.
 * States of a target (one card in one campaign):  pending → running → done | failed
 *   (running is entered only by a claim; a running target whose lease has expired may
 *   be claimed again by anyone: that is how a card is resumed after a server died).
 */
#ifndef SEAM_SERVER_STORE_H
#define SEAM_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

#define SEAM_STORE_MASTER_KEY_SIZE 32
#define SEAM_STORE_ID_MAX          16   /* longest CIN, IIN or AID */
#define SEAM_STORE_KEY_MAX         32   /* longest SD key (AES-128/192/256) */
#define SEAM_STORE_TEXT_MAX        128  /* owner ids, step names, reasons, event kinds */
#define SEAM_STORE_PARAMS_MAX      1024 /* a campaign's parameters (JSON text, opaque here) */
#define SEAM_STORE_CONTEXT_MAX     1024 /* a session's sealed context */
#define SEAM_STORE_SESSION_ID_SIZE 33   /* 32 lower-case hex digits and a NUL */
/* Device databases (S6, S8): the limits on every field. */
#define SEAM_STORE_DEVICE_ID_MAX  64    /* characters [0-9A-Za-z_.-] (an IMEI, a serial) */
#define SEAM_STORE_URI_MAX        64    /* a database URI: printable ASCII, no blank */
#define SEAM_STORE_RECORD_KEY_MAX 128   /* a record's key (LUID): printable ASCII, no blank */
#define SEAM_STORE_CONTENT_MAX    2048  /* a record's content: UTF-8 text, no NUL */
#define SEAM_STORE_BATCH_MAX      20000 /* changes in one sync session's batch */
#define SEAM_STORE_RECORDS_MAX    20000 /* records (live or deleted) one device may have */
#define SEAM_STORE_HISTORY_KEEP   512   /* history entries kept per device, newest */

/* An open store; opaque. */
typedef struct seam_store seam_store;

/* A short byte string: a CIN, an IIN or an AID (len 0 = absent). */
typedef struct {
    size_t len;
    uint8_t bytes[SEAM_STORE_ID_MAX];
} seam_store_id;

typedef struct {
    seam_store_id aid;
    uint16_t version; /* major << 8 | minor, as in the package's seam.package section */
    int64_t uploaded;
    size_t module_len;
} seam_store_package;

typedef struct {
    seam_store_id cin; /* the key: the Card Image Number (GET DATA tag 45) */
    seam_store_id iin; /* the Issuer Identification Number */
    int64_t created;
} seam_store_card;

/* One SD key set the server may use on a card (a secret: wipe it). */
typedef struct {
    seam_store_id sd_aid;
    uint8_t kvn;
    size_t key_len; /* 16, 24 or 32 */
    uint8_t enc[SEAM_STORE_KEY_MAX], mac[SEAM_STORE_KEY_MAX], dek[SEAM_STORE_KEY_MAX];
} seam_store_keyset;

typedef enum {
    SEAM_STORE_INSTALL = 1,
    SEAM_STORE_PERSONALIZE,
    SEAM_STORE_UPDATE,
    SEAM_STORE_UPGRADE,
    SEAM_STORE_DELETE,
} seam_store_kind;

typedef enum {
    SEAM_STORE_CAMPAIGN_CREATED = 1,
    SEAM_STORE_CAMPAIGN_RUNNING,
    SEAM_STORE_CAMPAIGN_DONE,
    SEAM_STORE_CAMPAIGN_CANCELLED,
    SEAM_STORE_CAMPAIGN_PAUSED, /* last: the numbers are stored */
} seam_store_campaign_state;

typedef struct {
    int64_t id; /* given by the store, > 0 */
    seam_store_kind kind;
    seam_store_id package_aid;
    uint16_t package_version;
    char params[SEAM_STORE_PARAMS_MAX]; /* NUL-terminated */
    int64_t created;
    seam_store_campaign_state state;
} seam_store_campaign;

typedef enum {
    SEAM_STORE_PENDING = 1,
    SEAM_STORE_RUNNING,
    SEAM_STORE_DONE,
    SEAM_STORE_FAILED,
} seam_store_target_state;

/* Bytes on the server-side connection (headers and bodies). */
typedef struct {
    uint64_t request;  /* bytes the server received */
    uint64_t response; /* bytes the server sent */
    uint64_t perso;    /* of those sent, bytes of personalization data (P8: 0 on an update) */
} seam_store_counts;

typedef struct {
    int64_t campaign;
    seam_store_id cin;
    seam_store_target_state state;
    char reason[SEAM_STORE_TEXT_MAX]; /* why it failed; empty otherwise */
    char owner[SEAM_STORE_TEXT_MAX];  /* who claimed it last; empty if never */
    int64_t lease_until;              /* the claim holds until then */
    uint32_t claims;                  /* how many times it was claimed */
    seam_store_counts bytes;          /* the sum over its steps */
} seam_store_target;

/* One row of byte accounting: a card, a campaign (0: none) and a step name. */
typedef struct {
    int64_t campaign;
    seam_store_id cin;
    char step[SEAM_STORE_TEXT_MAX];
    seam_store_counts bytes;
} seam_store_bytes;

/* An admin session (Amendment B): which card, which step, which round. */
typedef struct {
    char id[SEAM_STORE_SESSION_ID_SIZE]; /* opaque, from the store's random generator */
    seam_store_id cin;
    int64_t campaign; /* 0: none */
    char step[SEAM_STORE_TEXT_MAX];
    uint32_t round;              /* scripts sent so far; a response names the round it answers */
    uint32_t expected_responses; /* R-APDUs the current script asks for */
    bool closed;
    size_t context_len; /* a secret (e.g. the SCP03 host state), sealed at rest */
    uint8_t context[SEAM_STORE_CONTEXT_MAX];
    int64_t created, updated;
} seam_store_session;

typedef struct {
    int64_t id; /* given by the store, increasing */
    seam_store_id cin;
    int64_t campaign; /* 0: none */
    int64_t at;
    char kind[SEAM_STORE_TEXT_MAX];
    char message[256];
} seam_store_event;

/* A device whose device-management database the server keeps a copy of (S6, S8). */
typedef struct {
    char id[SEAM_STORE_DEVICE_ID_MAX + 1]; /* the key: its device identifier (IMEI) */
    seam_store_id cin; /* the card it hosts, from its `./devinfo` record `cin`; len 0: unknown */
    int64_t created, updated;
    int64_t counter; /* its server-side change counter: the version of its latest change */
    size_t records;  /* live (not deleted) records */
} seam_store_device;

/* One record of a device's copy: (database URI, key) with its content. */
typedef struct {
    char uri[SEAM_STORE_URI_MAX + 1];
    char key[SEAM_STORE_RECORD_KEY_MAX + 1];
    int64_t version; /* the device's change counter when it last changed */
    bool deleted;    /* a tombstone (content empty): kept so that the change reaches peers */
    int64_t updated;
    size_t content_len;
    char content[SEAM_STORE_CONTENT_MAX + 1]; /* NUL-terminated */
} seam_store_record;

/* One change of a batch (the caller's buffers). */
typedef struct {
    const char *uri;
    const char *key;
    const char *content; /* content[0..content_len); ignored when deleted */
    size_t content_len;
    bool deleted;
} seam_store_change;

/* One entry of a device's history: which session changed which record when, old → new. */
typedef struct {
    int64_t id; /* increasing */
    char uri[SEAM_STORE_URI_MAX + 1];
    char key[SEAM_STORE_RECORD_KEY_MAX + 1];
    char session[SEAM_STORE_TEXT_MAX]; /* who: the sync session (or admin) that changed it */
    int64_t at;
    int64_t version;              /* the record's version after the change */
    bool old_exists, new_deleted; /* created (no old), deleted (no new) */
    size_t old_len, new_len;
    char old_content[SEAM_STORE_CONTENT_MAX + 1], new_content[SEAM_STORE_CONTENT_MAX + 1];
} seam_store_history;

/* ---- the master key file (created by `seam server init`) ---- */

/* Draws a fresh 32-byte master key into key and writes it as hex to path, mode 0600,
 * never overwriting (SEAM_ERR_SERVER_KEY_EXISTS; a symbolic link counts as existing). */
seam_err seam_store_master_key_create(const char *path, uint8_t key[SEAM_STORE_MASTER_KEY_SIZE]);

/* Reads the master key from path: SEAM_ERR_NOT_FOUND, or SEAM_ERR_SERVER_KEY_FILE when it
 * is not exactly one key or readable by group or others; key is untouched on error. */
seam_err seam_store_master_key_load(const char *path, uint8_t key[SEAM_STORE_MASTER_KEY_SIZE]);

/* ---- handles ---- */

/* Opens (creating the schema if needed) the store at url under master_key (copied).
 * A store created under another key gives SEAM_ERR_SERVER_MASTER_KEY; an unknown URL
 * scheme SEAM_ERR_UNSUPPORTED. */
seam_err seam_store_open(const char *url, const uint8_t master_key[SEAM_STORE_MASTER_KEY_SIZE],
                         seam_store **out);

/* Closes a store and wipes its copy of the master key; NULL is allowed. */
void seam_store_close(seam_store *store);

/* "sqlite" or "postgresql". */
const char *seam_store_backend(const seam_store *store);

/* Wipes p[0..len) and frees it; NULL is allowed. */
void seam_store_free_secret(void *p, size_t len);

/* SHA-256 over every row of every table in a fixed order: equal digests mean equal
 * contents (for tests: "a refused operation changed nothing"). */
seam_err seam_store_digest(seam_store *store, uint8_t digest[32]);

/* ---- grouping calls into one transaction ---- */

/* Starts a group on this handle: the calls that follow, up to seam_store_end, make one
 * transaction (each call's own transaction joins it; groups do not nest further). */
seam_err seam_store_begin(seam_store *store);

/* Ends the group: commits when err is SEAM_OK, else rolls back everything since
 * seam_store_begin; returns err, or the commit's failure (then nothing of the group
 * happened). A call in the group that fails changed nothing of its own, but a failure of
 * the database (SERVER_STORE) spoils the group: end it with that error. */
seam_err seam_store_end(seam_store *store, seam_err err);

/* ---- settings ---- */

/* Sets name (non-empty) to the NUL-terminated value, replacing any previous one. */
seam_err seam_store_setting_put(seam_store *store, const char *name, const char *value);

/* Copies the value of name into value[0..cap) (NUL-terminated); NOT_FOUND, BUFFER_SMALL. */
seam_err seam_store_setting_get(seam_store *store, const char *name, char *value, size_t cap);

/* ---- packages ---- */

/* Stores module[0..len) as package aid at version; CONFLICT if that pair exists. */
seam_err seam_store_package_put(seam_store *store, const seam_store_id *aid, uint16_t version,
                                const uint8_t *module, size_t len);

/* Reads package aid at version: its description to *info and, if module is not NULL,
 * a malloc'd copy of its bytes to *module (the caller frees). NOT_FOUND. */
seam_err seam_store_package_get(seam_store *store, const seam_store_id *aid, uint16_t version,
                                seam_store_package *info, uint8_t **module);

/* Lists every package, by AID then version. */
seam_err seam_store_package_list(seam_store *store, seam_store_package **items, size_t *count);

/* ---- cards, their key sets and personalization data ---- */

/* Adds card (by its CIN; created is set by the store); CONFLICT if the CIN exists. */
seam_err seam_store_card_put(seam_store *store, const seam_store_card *card);

/* Reads the card with this CIN. NOT_FOUND. */
seam_err seam_store_card_get(seam_store *store, const seam_store_id *cin, seam_store_card *out);

/* Lists every card, by CIN. */
seam_err seam_store_card_list(seam_store *store, seam_store_card **items, size_t *count);

/* Stores (or replaces) the key set (sd_aid, kvn) of a known card, sealed. NOT_FOUND. */
seam_err seam_store_keyset_put(seam_store *store, const seam_store_id *cin,
                               const seam_store_keyset *keyset);

/* Reads the key set of SD sd_aid with version kvn (0: the highest stored) of card cin into
 * *out (a secret). NOT_FOUND; SEAM_ERR_SERVER_MASTER_KEY when it does not open. */
seam_err seam_store_keyset_get(seam_store *store, const seam_store_id *cin,
                               const seam_store_id *sd_aid, uint8_t kvn, seam_store_keyset *out);

/* Stores (or replaces) the personalization data of application app_aid on card cin. */
seam_err seam_store_perso_put(seam_store *store, const seam_store_id *cin,
                              const seam_store_id *app_aid, const uint8_t *data, size_t len);

/* Reads that data into a malloc'd buffer *data of *len bytes (the caller frees it with
 * seam_store_free_secret). NOT_FOUND; SEAM_ERR_SERVER_MASTER_KEY when it does not open. */
seam_err seam_store_perso_get(seam_store *store, const seam_store_id *cin,
                              const seam_store_id *app_aid, uint8_t **data, size_t *len);

#define SEAM_STORE_TERMINAL_KEY_SIZE 65 /* a P-256 point, uncompressed: 04 || X || Y */

/* Stores (or replaces) the public key of the terminal that hosts card cin (P6: the server
 * seals personalization data for it; public, stored clear). NOT_FOUND (no such card). */
seam_err seam_store_terminal_key_put(seam_store *store, const seam_store_id *cin,
                                     const uint8_t key[SEAM_STORE_TERMINAL_KEY_SIZE]);

/* Reads that key. NOT_FOUND when the card has none (or is not known). */
seam_err seam_store_terminal_key_get(seam_store *store, const seam_store_id *cin,
                                     uint8_t key[SEAM_STORE_TERMINAL_KEY_SIZE]);

/* ---- campaigns and their targets ---- */

/* Creates campaign *c (state created; id and created are written back to *c) with
 * targets cins[0..count), each pending. Every card must exist (NOT_FOUND) and appear
 * once (ARG); nothing is stored on error. */
seam_err seam_store_campaign_create(seam_store *store, seam_store_campaign *c,
                                    const seam_store_id *cins, size_t count);

/* Reads campaign id. NOT_FOUND. */
seam_err seam_store_campaign_get(seam_store *store, int64_t id, seam_store_campaign *out);

/* Lists every campaign, by id. */
seam_err seam_store_campaign_list(seam_store *store, seam_store_campaign **items, size_t *count);

/* Moves campaign id to state: running from created or paused (then done at once if nothing
 * is left pending or running); paused from running; cancelled from created, running or
 * paused, which also fails every pending target with reason "cancelled" (one `failed`
 * event each). CONFLICT otherwise (nothing changed). */
seam_err seam_store_campaign_set_state(seam_store *store, int64_t id,
                                       seam_store_campaign_state state);

/* Reads the target (campaign, cin) with its byte totals. NOT_FOUND. */
seam_err seam_store_target_get(seam_store *store, int64_t campaign, const seam_store_id *cin,
                               seam_store_target *out);

/* Lists the targets of a campaign, by CIN, with their byte totals. */
seam_err seam_store_target_list(seam_store *store, int64_t campaign, seam_store_target **items,
                                size_t *count);

/*
 * Claims work, atomically: a target of a running campaign (restricted to card cin if it
 * is not NULL) that is running with lease_until < now (its server died: resumed first) or
 * else the oldest pending one, whose card holds no other live claim, becomes running,
 * owned by owner until now + lease_seconds; it is written to *out. NOT_FOUND when there is
 * none right now (nothing changed): ask again later. Two handles never claim one card at
 * once (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED on the
 * target and on the card's row).
 */
seam_err seam_store_claim(seam_store *store, const seam_store_id *cin, const char *owner,
                          int64_t now, int64_t lease_seconds, seam_store_target *out);

/* Extends owner's running claim on (campaign, cin) to now + lease_seconds. CONFLICT if the
 * target is not running under owner. */
seam_err seam_store_target_renew(seam_store *store, int64_t campaign, const seam_store_id *cin,
                                 const char *owner, int64_t now, int64_t lease_seconds);

/* Ends owner's running claim on (campaign, cin): done when ok, else failed with reason;
 * logs an event; marks the campaign done when no target is left pending or running (just
 * after the commit, in a statement of its own). CONFLICT if the target is not running
 * under owner. */
seam_err seam_store_target_finish(seam_store *store, int64_t campaign, const seam_store_id *cin,
                                  const char *owner, bool ok, const char *reason);

/* ---- admin sessions ---- */

/* Creates session *s (closed false, round as given) with a fresh random id, which is
 * written to s->id with created and updated. */
seam_err seam_store_session_create(seam_store *store, seam_store_session *s);

/* Reads session id (its context unsealed: a secret). NOT_FOUND. */
seam_err seam_store_session_get(seam_store *store, const char *id, seam_store_session *out);

/*
 * Advances session next->id to *next (step, round, expected responses, closed, context),
 * adding *bytes (may be NULL) to the byte accounting, in one transaction, if and only if
 * the stored session is open and at round expected_round: otherwise CONFLICT (a replayed
 * or late response) and nothing changes. NOT_FOUND.
 */
seam_err seam_store_session_advance(seam_store *store, const seam_store_session *next,
                                    uint32_t expected_round, const seam_store_bytes *bytes);

/* ---- device databases (S6, S8; store_devices.c) ----
 *
 * The server's copy of each device's device-management database. Contents are sealed at
 * rest (they may hold personal data; docs/security.md); ids, URIs and keys are clear.
 * Each change that alters a record takes the next value of its device's counter as the
 * record's version and adds a history entry; a put of the same content onto a live
 * record, or a delete of a missing or deleted one, changes nothing (a replayed session
 * is harmless). A `./devinfo` record `cin` whose first line is 1..16 bytes of hex sets
 * the device's CIN (anything else, or its deletion, makes it unknown).
 */

/* True if id is a device id: 1..SEAM_STORE_DEVICE_ID_MAX characters of [0-9A-Za-z_.-]. */
bool seam_store_device_id_ok(const char *id);

/*
 * Applies changes[0..count) (1..SEAM_STORE_BATCH_MAX) of sync session `session` (1..127
 * characters) to device id's copy, creating the device at its first batch: all of them in
 * one transaction or none. *counter (may be NULL) gets the device's counter after it.
 * SEAM_ERR_ARG when any field breaks its limit (checked before anything is written) or the
 * device would hold more than SEAM_STORE_RECORDS_MAX records.
 */
seam_err seam_store_device_apply(seam_store *store, const char *id, const char *session,
                                 const seam_store_change *changes, size_t count, int64_t *counter);

/* One change as a batch of one: puts content[0..len) as record (uri, key) of device id. */
seam_err seam_store_record_put(seam_store *store, const char *id, const char *session,
                               const char *uri, const char *key, const char *content, size_t len);

/* One change as a batch of one: deletes record (uri, key) of device id (a tombstone). */
seam_err seam_store_record_delete(seam_store *store, const char *id, const char *session,
                                  const char *uri, const char *key);

/* Reads device id. NOT_FOUND. */
seam_err seam_store_device_get(seam_store *store, const char *id, seam_store_device *out);

/* Lists every device, by id. */
seam_err seam_store_device_list(seam_store *store, seam_store_device **items, size_t *count);

/* Lists the records of device id whose version is > since (deleted ones too), by version,
 * at most max (>= 1) of them: what a sync protocol sends the device (since = the counter
 * it last saw; 0: every record). NOT_FOUND when the device is not known. */
seam_err seam_store_record_list(seam_store *store, const char *id, int64_t since, size_t max,
                                seam_store_record **items, size_t *count);

/* Calls fn for every live record of database uri of every device, by device then key (the
 * device's `records` is not filled: 0); a non-zero return of fn stops the scan and is
 * returned. */
seam_err seam_store_record_scan(seam_store *store, const char *uri,
                                seam_err (*fn)(void *ctx, const seam_store_device *device,
                                               const seam_store_record *record),
                                void *ctx);

/* The same for the devices bound to card cin only (their ./devinfo cin): what a card's own
 * page reads, at a cost that does not grow with the fleet. */
seam_err seam_store_record_scan_card(seam_store *store, const char *uri, const seam_store_id *cin,
                                     seam_err (*fn)(void *ctx, const seam_store_device *device,
                                                    const seam_store_record *record),
                                     void *ctx);

/* Lists the history of device id, newest first (at most SEAM_STORE_HISTORY_KEEP entries
 * are kept per device; older ones are dropped by the batch that passes the bound).
 * NOT_FOUND when the device is not known. */
seam_err seam_store_history_list(seam_store *store, const char *id, seam_store_history **items,
                                 size_t *count);

/* ---- device credentials and sync state (store_device_sync.c; docs/server.md "Device sync") */

#define SEAM_STORE_SECRET_MIN 16 /* characters of a device's secret, printable ASCII */
#define SEAM_STORE_SECRET_MAX 64

/* Sets device id's secret (sealed at rest), enrolling the device (known, no records) when it is
 * new; *created (may be NULL) tells whether it had no secret before. */
seam_err seam_store_device_secret_put(seam_store *store, const char *id, const char *secret,
                                      bool *created);

/* Copies device id's secret (a secret: wipe it) into secret, NUL-terminated. NOT_FOUND. */
seam_err seam_store_device_secret_get(seam_store *store, const char *id,
                                      char secret[SEAM_STORE_SECRET_MAX + 1]);

/* Locks device id's row to the end of the caller's group and reads the sync state `protocol`
 * ("changeset", "omads") keeps for its database uri: a malloc'd copy in *state (a secret), NULL
 * with *len 0 when there is none. NOT_FOUND when the device is not known. */
seam_err seam_store_device_sync_get(seam_store *store, const char *id, const char *protocol,
                                    const char *uri, uint8_t **state, size_t *len);

/* Replaces that sync state with state[0..len) (sealed at rest). */
seam_err seam_store_device_sync_put(seam_store *store, const char *id, const char *protocol,
                                    const char *uri, const uint8_t *state, size_t len);

/* ---- what a sync protocol keeps per device (store_sync.c; docs/sync.md "OMA DS") ---- */

#define SEAM_STORE_ANCHOR_MAX 64 /* an OMA DS anchor: printable ASCII, no blank */

/* The anchors of (device, database URI): the device's Next of the last committed session, the
   server's own Next then, and the device's change counter then (records with a higher version
   are changes to send). */
typedef struct {
    char peer_last[SEAM_STORE_ANCHOR_MAX + 1];
    char own_last[SEAM_STORE_ANCHOR_MAX + 1];
    int64_t synced;
} seam_store_anchor;

/* One LUID <-> GUID pair of OMA DS (the device's key, the record's key here). */
typedef struct {
    char luid[SEAM_STORE_RECORD_KEY_MAX + 1];
    char guid[SEAM_STORE_RECORD_KEY_MAX + 1];
} seam_store_map_entry;

/* Within a group (seam_store_begin): locks device id's row until the group ends (two servers on
   one database take turns) and reads its counter into *counter (0 when the device is unknown). */
seam_err seam_store_device_lock(seam_store *store, const char *id, int64_t *counter);

/* Reads the anchors of (id, uri). NOT_FOUND when no sync committed. */
seam_err seam_store_anchor_get(seam_store *store, const char *id, const char *uri,
                               seam_store_anchor *out);

/* Sets the anchors of (id, uri). */
seam_err seam_store_anchor_put(seam_store *store, const char *id, const char *uri,
                               const seam_store_anchor *a);

/* Lists the map of (id, uri), by LUID. */
seam_err seam_store_map_list(seam_store *store, const char *id, const char *uri,
                             seam_store_map_entry **items, size_t *count);

/* Maps luid to guid in (id, uri), replacing luid's earlier pair. */
seam_err seam_store_map_put(seam_store *store, const char *id, const char *uri, const char *luid,
                            const char *guid);

/* Forgets the map of (id, uri). */
seam_err seam_store_map_clear(seam_store *store, const char *id, const char *uri);

/* ---- accounting and events ---- */

/* Adds bytes->bytes to the row (campaign, cin, step), creating it at zero first. */
seam_err seam_store_bytes_add(seam_store *store, const seam_store_bytes *bytes);

/* Lists accounting rows, filtered by campaign (if > 0) and cin (if not NULL), by
 * campaign, CIN, then step. */
seam_err seam_store_bytes_list(seam_store *store, int64_t campaign, const seam_store_id *cin,
                               seam_store_bytes **items, size_t *count);

/* ---- what the operator's console reads (store_console.c) ---- */

/* A campaign's targets by state, its bytes summed over its targets, and the time of its
 * last event (its creation when it has none). */
typedef struct {
    uint64_t pending, running, done, failed;
    seam_store_counts bytes;
    int64_t updated;
} seam_store_campaign_totals;

/* Reads the totals of campaign id. NOT_FOUND. */
seam_err seam_store_campaign_totals_get(seam_store *store, int64_t id,
                                        seam_store_campaign_totals *out);

/* What the whole store holds right now (every server sharing it), for GET /api/health. */
typedef struct {
    uint64_t campaigns[SEAM_STORE_CAMPAIGN_PAUSED + 1]; /* by seam_store_campaign_state */
    uint64_t pending, running; /* targets pending / running in running campaigns */
    uint64_t paused;           /* targets pending in paused campaigns */
    uint64_t sessions_since;   /* admin sessions created at or after `since` */
} seam_store_health;

/* Fills *out; sessions_since counts the sessions created at or after since. */
seam_err seam_store_health_get(seam_store *store, int64_t since, seam_store_health *out);

/* Lists the events of campaign id, oldest first (none when it is not known). */
seam_err seam_store_campaign_events(seam_store *store, int64_t id, seam_store_event **items,
                                    size_t *count);

/* Appends event *e (id and at written back to *e). */
seam_err seam_store_event_add(seam_store *store, seam_store_event *e);

/* Lists the events of card cin, oldest first. */
seam_err seam_store_event_list(seam_store *store, const seam_store_id *cin,
                               seam_store_event **items, size_t *count);

#endif
