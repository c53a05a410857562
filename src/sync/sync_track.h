/*
 * Change tracking, working copies, anchors and the merge under the conflict
 * policy (src/sync/track.c); used by the protocol engines (engine.c).
 */
#ifndef SEAM_SYNC_TRACK_H
#define SEAM_SYNC_TRACK_H

#include "sync_int.h"

/* A changeset or patchset made by the session extension (free with sync_changes_free). */
typedef struct {
    uint8_t *bytes; /* sqlite3_malloc'd */
    int len;
    uint32_t count; /* changes in it */
} sync_changes;

typedef struct {
    bool found; /* a sync with this peer on this database succeeded before */
    char own_last[SEAM_SYNC_ANCHOR_MAX + 1];
    char peer_last[SEAM_SYNC_ANCHOR_MAX + 1];
    char prev_peer_last[SEAM_SYNC_ANCHOR_MAX +
                        1]; /* the server's: the peer's anchor one sync back */
    int64_t counter;        /* makes this side's next anchor */
} sync_anchor;

typedef struct {
    uint32_t applied, conflicts_client, conflicts_server;
} sync_merge_counts;

/* Makes temp.<table> the base of (peer, t), or empty. */
seam_err sync_work_load(seam_sync_db *db, const sync_table *t, const char *peer, bool empty);
/* Replaces to.<table> with from.<table> ("main", "temp"). */
seam_err sync_copy_table(seam_sync_db *db, const sync_table *t, const char *from, const char *to);
/* Makes the base of (peer, t) the records of from.<table>. */
seam_err sync_base_set(seam_sync_db *db, const sync_table *t, const char *peer, const char *from);
/* " prev <peer>": the peer name the server's previous base of peer is kept under (a space is
 * never in a peer id). */
#define SYNC_PREV_NAME_MAX (SEAM_SYNC_PEER_MAX + 8)
void sync_prev_name(const char *peer, char out[SYNC_PREV_NAME_MAX]);
/* The server's previous base of (peer, t), one sync back (kept under a name no peer id can have):
 * keep copies the base there, restore copies it back. */
seam_err sync_base_keep_prev(seam_sync_db *db, const sync_table *t, const char *peer);
seam_err sync_base_restore_prev(seam_sync_db *db, const sync_table *t, const char *peer);
/* The changes that turn temp.<table> into main.<table>, as a patchset or a changeset. */
seam_err sync_diff(seam_sync_db *db, const sync_table *t, bool patchset, sync_changes *out);
/* Calls each(ctx, op, rec) per change that turns temp.<table> into main.<table> (rec as in main;
 * for DELETED only its key); a nonzero return stops the walk. */
seam_err sync_diff_each(seam_sync_db *db, const sync_table *t,
                        int (*each)(void *ctx, seam_sync_op op, const seam_sync_record *rec),
                        void *ctx);
/* Frees c's bytes. */
void sync_changes_free(sync_changes *c);
/* Applies a validated changeset to schema.<table> exactly: SEAM_ERR_SYNC_MISMATCH when a change
 * does not fit (insert over a record, update or delete of a missing one). */
seam_err sync_apply_to(seam_sync_db *db, const sync_table *t, const char *schema_name,
                       const uint8_t *bytes, int len);
/* Applies the peer's changes (relative to the working copy, which becomes the peer's state) to
 * main under the conflict policy; slow: no base, any difference is a conflict. */
seam_err sync_merge(seam_sync_db *db, const sync_table *t, const char *peer, bool remote_is_client,
                    bool slow, const uint8_t *bytes, int len, sync_merge_counts *counts);
/* The conflict policy (docs/sync.md): true when the client's version of a record changed on both
 * sides wins; NULL is a deleted record. */
bool sync_client_wins(const sync_table *t, const seam_sync_record *client,
                      const seam_sync_record *server);
/* True when key of t is a fact of ./card (the card's, read-only; not a param. key). */
bool sync_card_fact(const sync_table *t, const char *key);
/* ./card on the server (docs/sync.md "./card"): every fact of main that differs from the
 * working copy (the client's records, which the card gave) is set back to the client's,
 * each counted in counts->conflicts_client: a server change to a fact is refused. Other
 * databases: nothing. */
seam_err sync_card_facts_follow(seam_sync_db *db, const sync_table *t, sync_merge_counts *counts);
/* Reads / writes the anchors of (peer, uri). */
seam_err sync_anchor_load(seam_sync_db *db, const char *peer, const char *uri, sync_anchor *out);
seam_err sync_anchor_store(seam_sync_db *db, const char *peer, const char *uri,
                           const sync_anchor *a);

#endif
