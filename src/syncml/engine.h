/*
 * Private to the syncml layer: what the client and server engines share: the
 * outgoing message being assembled (it owns its strings), the list of
 * pending changes, authentication checks, and small string helpers.
 */
#ifndef SEAM_SYNCML_ENGINE_H
#define SEAM_SYNCML_ENGINE_H

#include "syncml_int.h"

/* Allocation-owning copy of s (NULL stays NULL); NULL on out of memory sets *err. */
char *syncml_strdup(const char *s, seam_err *err);

/* ---- outgoing message ---------------------------------------------------- */

/* A status waiting for room in a later message of the package (owned copies). */
typedef struct {
    unsigned msg_ref, cmd_ref, code;
    char *cmd, *target_ref, *source_ref;
} syncml_status;

/* At most this many statuses, and bytes of their strings, wait at once; more ends the session
   (a peer sending operations faster than their statuses can go back). */
#define SYNCML_MAX_WAITING       65536u
#define SYNCML_MAX_WAITING_BYTES (8u * 1024u * 1024u)

/* Bytes a message keeps free after its statuses, for the commands that follow them. */
#define SYNCML_STATUS_RESERVE 320u

typedef struct {
    seam_syncml_msg msg;
    seam_syncml_cmd *cmds;   /* capacity SEAM_SYNCML_MAX_COMMANDS */
    seam_syncml_cmd *ops;    /* the operations of the message's one Sync */
    seam_syncml_item *items; /* capacity SEAM_SYNCML_MAX_ITEMS */
    size_t n_ops, n_items;
    char **strings; /* owned copies, freed by out_reset */
    size_t n_strings, cap_strings;
    unsigned next_cmd_id;
    size_t estimate; /* bytes the commands added so far will take in XML, roughly */
    size_t text;     /* of which the strings themselves */
    bool wbxml;      /* the message goes out as WBXML: the tags take about a third */
    seam_err err;    /* sticky: the first failure */
    /* Statuses not yet in a message, oldest first; they outlive out_reset. */
    syncml_status *waiting;
    size_t n_waiting, cap_waiting, waiting_bytes;
} syncml_out;

/* Empty message for the format the messages go out in (its estimates differ). */
seam_err out_init(syncml_out *o, seam_syncml_format format);
void out_reset(syncml_out *o); /* empties the message, keeps the arrays */
void out_free(syncml_out *o);

/* Sets the SyncHdr (strings copied). */
void out_header(syncml_out *o, const char *session_id, unsigned msg_id, const char *target,
                const char *source);

/* A copy of s owned by the message. */
const char *out_str(syncml_out *o, const char *s);

/* Appends a Status for command cmd_ref (0 = SyncHdr) of the peer's message msg_ref. */
seam_syncml_cmd *out_status(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *cmd,
                            const char *target_ref, const char *source_ref, unsigned code);

/* Queues a Status (as out_status) for the next message with room: out_flush places it. */
void out_status_later(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *cmd,
                      const char *target_ref, const char *source_ref, unsigned code);

/* True when queued statuses wait for a message: the package cannot end yet. */
bool out_waiting(const syncml_out *o);

/* Moves the queued statuses, oldest first, into the message while it stays under max less
   SYNCML_STATUS_RESERVE bytes once encoded in format; the rest wait for the next message. */
seam_err out_flush(syncml_out *o, seam_syncml_format format, size_t max);

/* Appends an Alert with one item (target/source database, anchors), or none when target NULL. */
void out_alert(syncml_out *o, unsigned code, const char *target, const char *source,
               const char *last, const char *next);

/* Appends Results for the peer's Get msg_ref/cmd_ref: one DevInf document (XML text). */
void out_results(syncml_out *o, unsigned msg_ref, unsigned cmd_ref, const char *devinf);

/* Appends the message's Sync (target/source database URIs); ops go into it. */
void out_sync(syncml_out *o, const char *target, const char *source);

/* Appends an Add/Replace/Delete to the Sync: target/source keys, content (NULL for Delete). */
void out_op(syncml_out *o, seam_syncml_op op, const char *target_key, const char *source_key,
            const char *content);

/* Removes the last operation added to the Sync. */
void out_pop_op(syncml_out *o);

/* Appends a Map of target/source databases with no items yet; out_map_item adds to it. */
void out_map(syncml_out *o, const char *target, const char *source);
void out_map_item(syncml_out *o, const char *guid, const char *luid);

/* Encodes the message; SEAM_ERR_SYNCML_OVERSIZE when longer than max. */
seam_err out_encode(syncml_out *o, seam_syncml_format format, size_t max, uint8_t **bytes,
                    size_t *len);

/* Room left for more commands in a message that must stay under max bytes. */
bool out_has_room(const syncml_out *o, size_t max, size_t more);

/* ---- pending changes --------------------------------------------------------- */

typedef struct {
    seam_syncml_op op;
    char *key;     /* the local key (LUID on the client, GUID on the server) */
    char *content; /* NULL for a delete */
    bool done;     /* sent, or settled by a conflict */
} syncml_change;

typedef struct {
    syncml_change *v;
    size_t n, cap, next; /* next: the first change not yet sent */
} syncml_changes;

/* Collects every change the store reports (all: every record). */
seam_err changes_load(syncml_changes *c, const seam_syncml_store *store, const char *db,
                      const char *peer, bool all);
syncml_change *changes_find(syncml_changes *c, const char *key);
void changes_free(syncml_changes *c);

/* ---- authentication ----------------------------------------------------------- */

/* True when the Cred of hdr is user:password in auth (md5: with the nonce nonce_b64). */
bool auth_check(const seam_syncml_hdr *hdr, seam_syncml_auth auth, const char *user,
                const char *password, const char *nonce_b64);

/* A fresh random nonce, base64, into out[32]. */
seam_err auth_nonce(char out[32]);

/* ---- reading the peer's message --------------------------------------------------- */

/* The first Status in msg answering command cmd_name (NULL: any) of our message msg_ref. */
const seam_syncml_cmd *find_status(const seam_syncml_msg *msg, const char *cmd_name);

/* The first command of kind in msg, NULL if none. */
const seam_syncml_cmd *find_cmd(const seam_syncml_msg *msg, seam_syncml_cmd_kind kind);

/* True when s is a usable anchor or key: 1..max-1 printable bytes. */
bool valid_token(const char *s, size_t max);

#endif
