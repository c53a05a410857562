/*
 * seam syncml: OMA DS 1.2 (SyncML) for the terminal's client and the server's
 * endpoint (docs/sync.md "OMA DS").
 *
 *   - codec:   one SyncML 1.2 message <-> seam_syncml_msg, as XML
 *              (application/vnd.syncml+xml, libxml2) or WBXML
 *              (application/vnd.syncml+wbxml: decoded by seam's own bounded
 *              decoder, encoded through libwbxml2)
 *   - store:   the abstract record store the session engines work on
 *              (seam_syncml_store, a struct of function pointers)
 *   - engines: the client and server session state machines, transport-agnostic:
 *              feed the peer's message, get the next message and a state
 *
 * Memory: a decoded message (seam_syncml_decode) owns every string it points
 * to; they come from libxml2's allocator and are released together by
 * seam_syncml_msg_free, the only free function for a decoded message. Encoded
 * bytes (seam_syncml_encode, the engines' output) are allocated with libxml2's
 * allocator and released with seam_syncml_bytes_free. A message built by the
 * caller for seam_syncml_encode points to the caller's strings; the encoder
 * only reads them.
 *
 * Safety: the XML parser never touches the network, never loads a DTD, never
 * expands entities: a document that declares an internal DTD subset, an
 * entity, or references one is refused (SEAM_ERR_SYNCML_DTD). Every size is
 * bounded (SEAM_SYNCML_MAX_*); the input is never read past its length.
 */
#ifndef SEAM_SYNCML_H
#define SEAM_SYNCML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

#define SEAM_SYNCML_MAX_MESSAGE  (1024u * 1024u) /* bytes of one encoded message */
#define SEAM_SYNCML_MAX_COMMANDS 1024u           /* commands in one message, Sync's included */
#define SEAM_SYNCML_MAX_ITEMS    1024u           /* items in one message, all commands */
#define SEAM_SYNCML_MAX_DATA     (64u * 1024u)   /* bytes of one item's Data */
#define SEAM_SYNCML_MAX_STRING   1024u           /* bytes of any other text (LocURI, anchors...) */
#define SEAM_SYNCML_MIN_MSG_SIZE 2048u           /* smallest MaxMsgSize the engines accept */

/* ------------------------------------------------------------------------ */
/* Codes                                                                     */
/* ------------------------------------------------------------------------ */

/* Sync types: the OMA DS alert codes (cat_sync.md B.2). */
typedef enum {
    SEAM_SYNCML_TWO_WAY = 200,
    SEAM_SYNCML_SLOW = 201,
    SEAM_SYNCML_ONE_WAY_FROM_CLIENT = 202,
    SEAM_SYNCML_REFRESH_FROM_CLIENT = 203,
    SEAM_SYNCML_ONE_WAY_FROM_SERVER = 204,
    SEAM_SYNCML_REFRESH_FROM_SERVER = 205,
} seam_syncml_sync_type;

#define SEAM_SYNCML_ALERT_NEXT_MESSAGE 222 /* ask the peer for the rest of a package */

/* OMA DS status codes the engines send or act upon (cat_sync.md B.6). */
enum {
    SEAM_SYNCML_OK = 200,
    SEAM_SYNCML_ITEM_ADDED = 201,
    SEAM_SYNCML_CONFLICT_CLIENT_WON = 208,
    SEAM_SYNCML_NOT_DELETED = 211,
    SEAM_SYNCML_AUTH_ACCEPTED = 212,
    SEAM_SYNCML_BAD_REQUEST = 400,
    SEAM_SYNCML_INVALID_CRED = 401,
    SEAM_SYNCML_NOT_FOUND = 404,
    SEAM_SYNCML_MISSING_CRED = 407,
    SEAM_SYNCML_ALREADY_EXISTS = 418,
    SEAM_SYNCML_CONFLICT_SERVER_WON = 419,
    SEAM_SYNCML_COMMAND_FAILED = 500,
    SEAM_SYNCML_REFRESH_REQUIRED = 508,
    SEAM_SYNCML_STORE_FAILURE = 510,
};

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum { SEAM_SYNCML_XML, SEAM_SYNCML_WBXML } seam_syncml_format;

typedef enum {
    SEAM_SYNCML_AUTH_NONE,
    SEAM_SYNCML_AUTH_BASIC, /* syncml:auth-basic: b64(user:password) */
    SEAM_SYNCML_AUTH_MD5,   /* syncml:auth-md5: b64(md5(b64(md5(user:password)):nonce)) */
} seam_syncml_auth;

typedef enum {
    SEAM_SYNCML_CMD_STATUS,
    SEAM_SYNCML_CMD_ALERT,
    SEAM_SYNCML_CMD_SYNC,
    SEAM_SYNCML_CMD_ADD,
    SEAM_SYNCML_CMD_REPLACE,
    SEAM_SYNCML_CMD_DELETE,
    SEAM_SYNCML_CMD_MAP,
    SEAM_SYNCML_CMD_PUT,
    SEAM_SYNCML_CMD_GET,
    SEAM_SYNCML_CMD_RESULTS,
} seam_syncml_cmd_kind;

/* One Item (or MapItem). Every pointer may be NULL when the element is absent. */
typedef struct {
    const char *target; /* Target/LocURI: GUID or LUID, a database URI (Alert), GUID (MapItem) */
    const char *source; /* Source/LocURI: LUID or GUID, a database URI (Alert), LUID (MapItem) */
    const char *type;   /* Meta/Type (MIME type of Data) */
    const char *data;   /* Data: text, CDATA, or an embedded document (DevInf) as XML text */
    bool cdata;         /* encode Data as CDATA (decode: it was CDATA) */
    const char *anchor_last; /* Meta/Anchor/Last (Alert, Status) */
    const char *anchor_next; /* Meta/Anchor/Next (Alert, Status) */
} seam_syncml_item;

typedef struct seam_syncml_cmd seam_syncml_cmd;

/* One command of SyncBody. Fields a kind does not use are zero/NULL. */
struct seam_syncml_cmd {
    seam_syncml_cmd_kind kind;
    unsigned cmd_id;
    /* Status */
    unsigned msg_ref, cmd_ref; /* CmdRef 0 = the SyncHdr */
    const char *cmd_name;      /* Cmd: "SyncHdr", "Alert", "Add"... */
    const char *target_ref;    /* TargetRef */
    const char *source_ref;    /* SourceRef */
    const char *chal_type;     /* Chal/Meta/Type: syncml:auth-basic or syncml:auth-md5 */
    const char *chal_nonce;    /* Chal/Meta/NextNonce (base64) */
    /* Status and Alert: the code in Data */
    unsigned code;
    /* Sync and Map: the database URIs; Put/Get/Results: not used */
    const char *target;
    const char *source;
    const char *meta_type;   /* command-level Meta/Type (Add/Replace/Put/Results) */
    unsigned long n_changes; /* Sync NumberOfChanges, 0 = absent */
    seam_syncml_item *items;
    size_t n_items;
    seam_syncml_cmd *ops; /* Sync only: its Add/Replace/Delete commands */
    size_t n_ops;
};

typedef struct {
    const char *session_id;
    unsigned msg_id;
    const char *target;   /* Target/LocURI: the server's URL (client) or device id (server) */
    const char *source;   /* Source/LocURI */
    const char *resp_uri; /* RespURI, server only */
    seam_syncml_auth cred_type;
    const char *cred_data;      /* Cred/Data (base64) */
    unsigned long max_msg_size; /* Meta/MaxMsgSize, 0 = absent */
} seam_syncml_hdr;

typedef struct {
    seam_syncml_hdr hdr;
    seam_syncml_cmd *cmds;
    size_t n_cmds;
    bool final; /* <Final/>: the last message of its package */
    void *pool; /* decoded messages: the strings and arrays above; NULL when caller-built */
} seam_syncml_msg;

/*
 * Decodes one SyncML 1.2 message in[0..len) (format as its MIME type says)
 * into *out, which the caller releases with seam_syncml_msg_free. Errors:
 * SEAM_ERR_SYNCML_OVERSIZE (a limit above), SEAM_ERR_SYNCML_DTD (DTD subset or
 * entities), SEAM_ERR_SYNCML_WBXML, SEAM_ERR_SYNCML_VERSION (not 1.2),
 * SEAM_ERR_SYNCML_MALFORMED (anything else); *out is untouched on error.
 */
seam_err seam_syncml_decode(const uint8_t *in, size_t len, seam_syncml_format format,
                            seam_syncml_msg *out);

/* Releases everything a decoded message owns; NULL or a zeroed message is fine. */
void seam_syncml_msg_free(seam_syncml_msg *msg);

/*
 * Encodes msg as a SyncML 1.2 message in format; *out (release with
 * seam_syncml_bytes_free) holds *out_len bytes. SEAM_ERR_SYNCML_OVERSIZE when
 * the message breaks a limit or is longer than max_bytes (0 = SEAM_SYNCML_MAX_MESSAGE).
 */
seam_err seam_syncml_encode(const seam_syncml_msg *msg, seam_syncml_format format, size_t max_bytes,
                            uint8_t **out, size_t *out_len);

/* Releases bytes from seam_syncml_encode or an engine; NULL is fine. */
void seam_syncml_bytes_free(uint8_t *bytes);

/* The format a Content-Type names (parameters after ';' ignored); SEAM_ERR_UNSUPPORTED otherwise.
 */
seam_err seam_syncml_format_of(const char *content_type, seam_syncml_format *format);

/* The Content-Type of format: "application/vnd.syncml+xml" or "...+wbxml". */
const char *seam_syncml_content_type(seam_syncml_format format);

/* ------------------------------------------------------------------------ */
/* Authentication                                                            */
/* ------------------------------------------------------------------------ */

#define SEAM_SYNCML_CRED_MAX 128 /* bytes of a Cred/Data the helpers write, NUL included */

/*
 * Writes the Cred/Data for user:password (basic) or for user:password and the
 * base64 nonce the server gave (md5) into out[SEAM_SYNCML_CRED_MAX].
 * SEAM_ERR_ARG when user:password is longer than SEAM_SYNCML_MAX_STRING.
 */
seam_err seam_syncml_cred(seam_syncml_auth type, const char *user, const char *password,
                          const char *nonce_b64, char out[SEAM_SYNCML_CRED_MAX]);

/* ------------------------------------------------------------------------ */
/* Store                                                                     */
/* ------------------------------------------------------------------------ */

#define SEAM_SYNCML_ANCHOR_MAX 64  /* bytes of an anchor, NUL included */
#define SEAM_SYNCML_KEY_MAX    128 /* bytes of a LUID or GUID, NUL included */

typedef enum { SEAM_SYNCML_OP_ADD, SEAM_SYNCML_OP_REPLACE, SEAM_SYNCML_OP_DELETE } seam_syncml_op;

/* One change a store reports: an Add/Replace (content) or a Delete (content NULL). */
typedef struct {
    seam_syncml_op op;
    const char *key; /* the store's own key: the client's LUID or the server's GUID */
    const char *content;
    size_t content_len;
} seam_syncml_change;

typedef seam_err (*seam_syncml_change_fn)(void *arg, const seam_syncml_change *change);

/*
 * The record store the engines work on: one per side, one database URI per
 * session. Every function returns SEAM_OK or a seam_err (the engine then fails
 * the session with 510 and rolls back). Within one session the engine calls
 * begin first, then any others, then exactly one of commit or rollback.
 */
typedef struct {
    void *ctx;
    /* Starts one sync session on db with peer: every apply until commit is one transaction. */
    seam_err (*begin)(void *ctx, const char *db, const char *peer);
    /* Makes the session's applies durable, stores anchor as the last anchor with peer and
     * forgets the changes reported to peer (they are synchronized). */
    seam_err (*commit)(void *ctx, const char *db, const char *peer, const char *anchor);
    /* Undoes every apply of the session; anchors and pending changes stay as they were. */
    seam_err (*rollback)(void *ctx, const char *db, const char *peer);
    /* Writes the anchor of the last completed sync with peer into out ("" when none). */
    seam_err (*last_anchor)(void *ctx, const char *db, const char *peer,
                            char out[SEAM_SYNCML_ANCHOR_MAX]);
    /* Writes a fresh anchor for this session (different from every earlier one) into out. */
    seam_err (*next_anchor)(void *ctx, const char *db, char out[SEAM_SYNCML_ANCHOR_MAX]);
    /* Calls each(arg, change) for every change since the last commit with peer, or for every
     * record as an Add when all is true (slow sync, refresh). A change made by apply in a
     * session with peer is never reported back to that peer (it is to any other). */
    seam_err (*changes)(void *ctx, const char *db, const char *peer, bool all,
                        seam_syncml_change_fn each, void *arg);
    /* Applies one change; an Add writes the new record's key into key_out. *status gets the OMA
     * status: 200/201 done, 211 delete of a missing record, 404 replace of a missing one, 418
     * add of an existing key, 500 refused. */
    seam_err (*apply)(void *ctx, const char *db, const seam_syncml_change *change,
                      char key_out[SEAM_SYNCML_KEY_MAX], unsigned *status);
    /* Deletes every record of db (refresh from the peer), within the session. */
    seam_err (*wipe)(void *ctx, const char *db);
    /* Server only, optional: a record changed on both sides since the last sync. Returns true when
     * the client's change wins (applied, 208), false when the server's does (419, and the server's
     * version goes to the client). NULL: the server wins. content is NULL for a delete. */
    bool (*client_wins)(void *ctx, const char *db, const char *guid,
                        const seam_syncml_change *server, const seam_syncml_change *client);
    /* Server only: the LUID<->GUID map with peer, within the session. map_get writes "" when the
     * key has no mapping; by_luid selects the direction (LUID -> GUID or GUID -> LUID). */
    seam_err (*map_get)(void *ctx, const char *db, const char *peer, bool by_luid, const char *key,
                        char out[SEAM_SYNCML_KEY_MAX]);
    seam_err (*map_put)(void *ctx, const char *db, const char *peer, const char *luid,
                        const char *guid);
    /* Server only, optional: this side's own anchor of the last session committed with peer (the
     * Next it sent then; "" when none), sent as Last in the server's Alert, where clients such as
     * libsynthesis check it against what they kept. The next commit keeps the Next of this
     * session (from next_anchor). NULL: the server's Alert carries the peer's anchor as Last. */
    seam_err (*own_anchor)(void *ctx, const char *db, const char *peer,
                           char out[SEAM_SYNCML_ANCHOR_MAX]);
} seam_syncml_store;

/* ------------------------------------------------------------------------ */
/* Session engines                                                           */
/* ------------------------------------------------------------------------ */

typedef enum {
    SEAM_SYNCML_CONTINUE, /* send *out to the peer and feed its answer */
    SEAM_SYNCML_DONE,     /* the session completed and was committed on this side */
    SEAM_SYNCML_FAILED,   /* the session ended without change on this side; see status */
} seam_syncml_state;

typedef struct {
    const char *db;         /* local database URI, e.g. "./apps" */
    const char *remote_db;  /* the peer's database URI (client); NULL = same as db */
    const char *device_id;  /* client: its Source/LocURI; server: its own URI */
    const char *server_uri; /* client: Target/LocURI of the SyncHdr */
    const char *user;       /* credentials (client) or the only account (server); NULL = none */
    const char *password;
    seam_syncml_auth auth;      /* client: what it sends; server: what it requires */
    seam_syncml_sync_type type; /* client: the sync type it asks for */
    seam_syncml_format format;  /* of every message this side sends */
    unsigned long max_msg_size; /* this side's MaxMsgSize (0 = SEAM_SYNCML_MAX_MESSAGE) */
    const char *session_id;     /* client: the SessionID to use (NULL = "1") */
    const char *nonce;          /* client, MD5: the server's last NextNonce (base64), NULL = none */
    const char *resp_uri;       /* server: RespURI of every message it sends (NULL = none) */
} seam_syncml_config;

/* What a session did on this side, for the user (and the tests). */
typedef struct {
    seam_syncml_sync_type type; /* the sync type that actually ran (201 after a 508) */
    unsigned sent, received;    /* changes sent to the peer, applied from the peer */
    unsigned conflicts;         /* changes that lost a conflict */
    unsigned status;            /* FAILED: the OMA status that ended it (401, 508, 500...) */
    seam_err err;               /* FAILED: the local cause, SEAM_OK when the peer ended it */
    unsigned messages;          /* messages received */
} seam_syncml_report;

typedef struct seam_syncml_client seam_syncml_client;
typedef struct seam_syncml_server seam_syncml_server;

/* Creates a client session on store with cfg (strings copied); NULL when out of memory. */
seam_syncml_client *seam_syncml_client_new(const seam_syncml_store *store,
                                           const seam_syncml_config *cfg);

/* Starts the session: begins the store session and writes Pkg1 into *out (seam_syncml_bytes_free).
 */
seam_syncml_state seam_syncml_client_start(seam_syncml_client *c, uint8_t **out, size_t *out_len);

/* Feeds the server's message in[0..len); on CONTINUE *out is the next message to send. */
seam_syncml_state seam_syncml_client_step(seam_syncml_client *c, const uint8_t *in, size_t len,
                                          uint8_t **out, size_t *out_len);

/* The RespURI of the server's last message (where the next message goes), NULL when none. */
const char *seam_syncml_client_resp_uri(const seam_syncml_client *c);

/* The last MD5 nonce the server gave (base64, "" when none): keep it for the next session. */
const char *seam_syncml_client_nonce(const seam_syncml_client *c);

/* The client's report so far. */
const seam_syncml_report *seam_syncml_client_report(const seam_syncml_client *c);

/* Ends the session (rolling back the store when it did not finish) and frees c; NULL is fine. */
void seam_syncml_client_free(seam_syncml_client *c);

/* Creates a server session on store with cfg (strings copied); NULL when out of memory. */
seam_syncml_server *seam_syncml_server_new(const seam_syncml_store *store,
                                           const seam_syncml_config *cfg);

/* Feeds the client's message in[0..len); *out is the answer to send (also on FAILED when the
 * client must learn why, e.g. 401; *out is NULL when there is nothing to send). */
seam_syncml_state seam_syncml_server_step(seam_syncml_server *s, const uint8_t *in, size_t len,
                                          uint8_t **out, size_t *out_len);

/* The server's report so far. */
const seam_syncml_report *seam_syncml_server_report(const seam_syncml_server *s);

/* Ends the session (rolling back the store when it did not finish) and frees s; NULL is fine. */
void seam_syncml_server_free(seam_syncml_server *s);

#endif
