/*
 * sync: the device-management database and seam's compact changeset protocol
 * (docs/sync.md "Databases", "Compact changeset protocol"; S6, S8).
 *
 * A database file (SQLite, WAL, synchronous=FULL) holds the records of the
 * database URIs `./devinfo` (terminal parameters), `./apps` (installed
 * applications) and `./card` (the card's own database, S8), and, per peer it synchronizes with, the
 * base (the records as of the last successful sync) and the anchors. Every call that changes the
 * file is one transaction: once it returned SEAM_OK a kill -9 loses nothing.
 *
 * The protocol engines are transport-agnostic: they take the peer's message
 * bytes and produce the next message bytes. A sync runs as
 *   client: seam_sync_client_start -> message 1 to the server
 *   server: seam_sync_serve(message 1) -> reply
 *   client: seam_sync_client_receive(reply) -> done, or a new message 1 when
 *           the server asked for a slow sync (then once more through serve).
 */
#ifndef SEAM_SYNC_H
#define SEAM_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* Limits on every field and on the size of a database (docs/sync.md "Limits"). */
#define SEAM_SYNC_KEY_MAX     128                   /* bytes of a key (LUID) */
#define SEAM_SYNC_VALUE_MAX   256                   /* bytes of a devinfo value or an app's name */
#define SEAM_SYNC_VERSION_MAX 32                    /* bytes of an app's version */
#define SEAM_SYNC_RECORDS_MAX 100000                /* records in one database URI */
#define SEAM_SYNC_PEER_MAX    64                    /* bytes of a peer (device or server) id */
#define SEAM_SYNC_ANCHOR_MAX  64                    /* bytes of an anchor */
#define SEAM_SYNC_TEXT_MAX    512                   /* bytes of a record's text form */
#define SEAM_SYNC_MESSAGE_MAX (16u * 1024u * 1024u) /* bytes of one protocol message */

/* The database URIs (shared vocabulary with the OMA DS lane). */
#define SEAM_SYNC_DEVINFO "./devinfo"
#define SEAM_SYNC_APPS    "./apps"
/* The card's own database (S8): devinfo's key/value schema, read from apps/carddb by the
 * terminal (docs/sync.md "./card"). Keys "package.<AID>" and "instance.<AID>" are the card's
 * facts (read-only: the card's always win); keys "param.<name>" are writable parameters. */
#define SEAM_SYNC_CARD       "./card"
#define SEAM_SYNC_CARD_PARAM "param." /* the prefix of a writable ./card key */

/* True when key of ./card names a writable parameter (SEAM_SYNC_CARD_PARAM...), false for a
 * card fact. */
bool seam_sync_card_key_writable(const char *key);

/* Sync types: the OMA DS alert codes. */
typedef enum {
    SEAM_SYNC_TWO_WAY = 200,
    SEAM_SYNC_SLOW = 201,
    SEAM_SYNC_ONE_WAY_FROM_CLIENT = 202,
    SEAM_SYNC_REFRESH_FROM_CLIENT = 203,
    SEAM_SYNC_ONE_WAY_FROM_SERVER = 204,
    SEAM_SYNC_REFRESH_FROM_SERVER = 205,
} seam_sync_type;

typedef enum { SEAM_SYNC_KIND_TERMINAL = 0, SEAM_SYNC_KIND_CARD = 1 } seam_sync_kind;

/* One record. ./devinfo uses key and value; ./apps uses key (AID in hex or a
 * package name), value (the app's name), kind, version and size. Strings are
 * NUL-terminated UTF-8 without control characters. */
typedef struct {
    char key[SEAM_SYNC_KEY_MAX + 1];
    char value[SEAM_SYNC_VALUE_MAX + 1];
    seam_sync_kind kind;
    char version[SEAM_SYNC_VERSION_MAX + 1];
    uint64_t size;
} seam_sync_record;

typedef struct seam_sync_db seam_sync_db;

/* Opens (creating if needed) the database file at path; *out is closed with seam_sync_close. */
seam_err seam_sync_open(const char *path, seam_sync_db **out);
/* Closes db (NULL is fine); free an unfinished seam_sync_client on it first (rolls it back). */
void seam_sync_close(seam_sync_db *db);

/* Adds or replaces rec in the database uri, in one transaction; SEAM_ERR_SYNC_FIELD on a bad field,
 * SEAM_ERR_SYNC_FULL past SEAM_SYNC_RECORDS_MAX. */
seam_err seam_sync_put(seam_sync_db *db, const char *uri, const seam_sync_record *rec);
/* Adds or replaces n records in one transaction: all of them or none. */
seam_err seam_sync_put_many(seam_sync_db *db, const char *uri, const seam_sync_record *recs,
                            size_t n);
/* What seam_sync_card_view changed in ./card. */
typedef struct {
    uint32_t added, replaced, deleted;
} seam_sync_card_counts;
/* Makes ./card exactly card[0..n_card) (the card's view: adds, replaces, deletes) and the ./apps
 * records of kind card exactly apps[0..n_apps) (each of kind card; other ./apps records are
 * kept), in one transaction: all of it or nothing. SEAM_ERR_SYNC_FIELD for a bad field or a key
 * given twice. counts may be NULL. */
seam_err seam_sync_card_view(seam_sync_db *db, const seam_sync_record *card, size_t n_card,
                             const seam_sync_record *apps, size_t n_apps,
                             seam_sync_card_counts *counts);
/* Reads the record key of uri into *out; SEAM_ERR_NOT_FOUND when there is none. */
seam_err seam_sync_get(seam_sync_db *db, const char *uri, const char *key, seam_sync_record *out);
/* Deletes the record key of uri in one transaction; SEAM_ERR_NOT_FOUND when there is none. */
seam_err seam_sync_delete(seam_sync_db *db, const char *uri, const char *key);
/* Calls each(ctx, rec) for every record of uri in key order; a nonzero return stops the walk. */
seam_err seam_sync_list(seam_sync_db *db, const char *uri,
                        int (*each)(void *ctx, const seam_sync_record *rec), void *ctx);
/* Sets *count to the number of records of uri. */
seam_err seam_sync_count(seam_sync_db *db, const char *uri, size_t *count);
/* A 64-bit digest of every row of every table (records, bases, anchors): equal digests, equal
 * files. */
seam_err seam_sync_fingerprint(seam_sync_db *db, uint64_t *out);
/* A 64-bit digest of the records of uri alone (to compare a client's database with a server's). */
seam_err seam_sync_records_fingerprint(seam_sync_db *db, const char *uri, uint64_t *out);

/* Checks rec's fields against the limits of uri: SEAM_OK or SEAM_ERR_SYNC_FIELD / _URI. */
seam_err seam_sync_record_check(const char *uri, const seam_sync_record *rec);

/* Writes rec's content in uri's text form (docs/sync.md; ./devinfo: the value; ./apps: "name: ..\n
 * kind: ..\nversion: ..\nsize: ..\n") and a NUL into out; *out_len = its length, also with
 * SEAM_ERR_BUFFER_SMALL (then cap must be at least *out_len + 1). */
seam_err seam_sync_record_format(const char *uri, const seam_sync_record *rec, char *out,
                                 size_t cap, size_t *out_len);
/* Parses content (len bytes) in uri's text form into rec's fields (rec->key is kept);
 * SEAM_ERR_SYNC_FIELD when a field is missing, repeated, unknown or over its limit, or when the
 * result fails seam_sync_record_check (rec->key included when it is not ""). */
seam_err seam_sync_record_parse(const char *uri, const char *content, size_t len,
                                seam_sync_record *rec);

/* What changed in uri since the last successful sync with peer. */
typedef enum { SEAM_SYNC_ADDED = 1, SEAM_SYNC_REPLACED = 2, SEAM_SYNC_DELETED = 3 } seam_sync_op;
/* Calls each(ctx, op, rec) per record of uri changed since the last sync with peer (every record
 * as ADDED when there was none); for DELETED only rec->key is set. */
seam_err seam_sync_changes(seam_sync_db *db, const char *peer, const char *uri,
                           int (*each)(void *ctx, seam_sync_op op, const seam_sync_record *rec),
                           void *ctx);
/* Copies the anchors of (peer, uri) as of the last successful sync ("" when none). */
seam_err seam_sync_anchors(seam_sync_db *db, const char *peer, const char *uri,
                           char own_last[SEAM_SYNC_ANCHOR_MAX + 1],
                           char peer_last[SEAM_SYNC_ANCHOR_MAX + 1]);

/* The peer id seam server answers as in the compact changeset protocol (docs/sync.md "Over HTTP").
 */
#define SEAM_SYNC_SERVER_ID "seam-server"

/* Writes the sync state this database keeps for (peer, uri) — anchors, base, previous base — as
 * bytes into *out (malloc'd, the caller frees; docs/sync.md "Over HTTP"). */
seam_err seam_sync_state_export(seam_sync_db *db, const char *peer, const char *uri, uint8_t **out,
                                size_t *out_len);
/* Replaces the sync state of (peer, uri) with in[0..len) from seam_sync_state_export (len 0: none),
 * in one transaction; SEAM_ERR_SYNC_FRAME (nothing changed) when the bytes are not such a state. */
seam_err seam_sync_state_import(seam_sync_db *db, const char *peer, const char *uri,
                                const uint8_t *in, size_t len);

/* Outcome of a sync, as the user is told. */
typedef struct {
    seam_sync_type type;       /* the type that ran (201 after a slow-sync fallback) */
    uint32_t sent;             /* changes this side sent */
    uint32_t received;         /* changes this side received */
    uint32_t conflicts_client; /* conflicts the client's change won */
    uint32_t conflicts_server; /* conflicts the server's change won */
    int slow_fallback;         /* 1 when the anchors disagreed and a slow sync ran */
} seam_sync_result;

typedef struct seam_sync_client seam_sync_client;

/* Starts a sync of uri with server_id as device self_id: holds the database's write lock until the
 * sync ends, and returns message 1 in *msg (malloc'd, the caller frees). */
seam_err seam_sync_client_start(seam_sync_db *db, const char *self_id, const char *server_id,
                                const char *uri, seam_sync_type type, seam_sync_client **out,
                                uint8_t **msg, size_t *msg_len);
/* Takes the server's reply; on SEAM_OK either the sync is committed (*msg NULL) or *msg is the
 * next message to send (slow-sync fallback). On an error nothing of the sync is applied. */
seam_err seam_sync_client_receive(seam_sync_client *client, const uint8_t *reply, size_t len,
                                  uint8_t **msg, size_t *msg_len);
/* Copies the outcome of the client's sync so far. */
void seam_sync_client_result(const seam_sync_client *client, seam_sync_result *out);
/* Ends the client (NULL is fine); a sync not committed is rolled back. */
void seam_sync_client_free(seam_sync_client *client);

/* Serves one client message on db (the server's copy for that device) as server self_id: applies it
 * under the conflict policy in one transaction and returns the reply in *reply (malloc'd). When
 * device_id is not NULL a message from another sender is SEAM_ERR_SYNC_MISMATCH. On an error
 * nothing is applied and *reply is NULL. result may be NULL. */
seam_err seam_sync_serve(seam_sync_db *db, const char *self_id, const char *device_id,
                         const uint8_t *msg, size_t len, uint8_t **reply, size_t *reply_len,
                         seam_sync_result *result);

/* A decoded protocol message (fields point into the input). */
typedef struct {
    uint8_t direction; /* 1 client to server, 2 server to client */
    uint16_t type;     /* 200..205 */
    uint8_t status;    /* 0 ok, 1 slow sync required */
    uint8_t flags;     /* bit 0: the payload is a patchset */
    const char *uri, *sender, *last, *next;
    uint8_t uri_len, sender_len, last_len, next_len;
    uint32_t changes, conflicts_client, conflicts_server;
    uint64_t digest; /* server to client: records digest after the sync, 0 when not stated */
    const uint8_t *payload;
    uint32_t payload_len;
} seam_sync_frame;

/* Decodes a whole message; never reads past len; checks the CRC, every length and limit, and that
 * the payload is a changeset of the URI's table whose change count and fields are valid. */
seam_err seam_sync_frame_decode(const uint8_t *in, size_t len, seam_sync_frame *out);
/* Encodes f into out (cap bytes); *out_len = bytes written, or bytes needed with
 * SEAM_ERR_BUFFER_SMALL. */
seam_err seam_sync_frame_encode(const seam_sync_frame *f, uint8_t *out, size_t cap,
                                size_t *out_len);

/* The conflict policy (docs/sync.md "Databases"), for another protocol's engine: true when the
 * client's version of a record of uri changed on both sides wins over the server's (NULL: the
 * record was deleted on that side). */
bool seam_sync_client_wins(const char *uri, const seam_sync_record *client,
                           const seam_sync_record *server);

/* ---- A sync session driven by another protocol's engine (OMA DS; docs/sync.md "OMA DS") ----
 * begin takes the database's write lock (one transaction until commit or free) and the base of
 * (peer, uri); changes lists what changed since it; put/delete/wipe change the records and move
 * the session's copy of the base with them (the peer holds them now); commit stores the anchor
 * and the new base with the records; free before commit rolls everything back. */
typedef struct seam_sync_session seam_sync_session;

/* Starts a session on uri with peer (1..64 printable bytes, no space). SEAM_ERR_SYNC_STATE when a
 * sync holds the database. */
seam_err seam_sync_session_begin(seam_sync_db *db, const char *peer, const char *uri,
                                 seam_sync_session **out);
/* This side's anchor of the last committed session with peer ("" when none). */
void seam_sync_session_anchor(const seam_sync_session *s, char last[SEAM_SYNC_ANCHOR_MAX + 1]);
/* A fresh anchor for this session (never one an earlier session used). */
void seam_sync_session_next_anchor(const seam_sync_session *s, char next[SEAM_SYNC_ANCHOR_MAX + 1]);
/* Calls each per change since the base (all: every record as ADDED); call it before any put. */
seam_err seam_sync_session_changes(seam_sync_session *s, bool all,
                                   int (*each)(void *ctx, seam_sync_op op,
                                               const seam_sync_record *rec),
                                   void *ctx);
/* Reads record key; SEAM_ERR_NOT_FOUND. */
seam_err seam_sync_session_get(seam_sync_session *s, const char *key, seam_sync_record *out);
/* Adds or replaces rec (checked: SEAM_ERR_SYNC_FIELD). */
seam_err seam_sync_session_put(seam_sync_session *s, const seam_sync_record *rec);
/* Deletes record key; SEAM_ERR_NOT_FOUND when there is none. */
seam_err seam_sync_session_delete(seam_sync_session *s, const char *key);
/* Deletes every record of the session's uri (a refresh from the peer). */
seam_err seam_sync_session_wipe(seam_sync_session *s);
/* Commits: the records (at most SEAM_SYNC_RECORDS_MAX, else SEAM_ERR_SYNC_FULL), anchor as this
 * side's last, and the base: the records when this side's changes were sent, else the old base
 * with what was applied. On an error everything is rolled back. The session ends either way. */
seam_err seam_sync_session_commit(seam_sync_session *s, const char *anchor, bool sent);
/* Ends s (NULL is fine), rolling back a session not committed. */
void seam_sync_session_free(seam_sync_session *s);

#endif
