/*
 * perso's private parts shared by its files: the restore store's record and journal
 * operations and the release rule the flows go through (store.c), and a fault hook
 * for tests. Not part of the public contract (include/seam/perso.h).
 */
#ifndef SEAM_PERSO_INT_H
#define SEAM_PERSO_INT_H

#include "seam/perso.h"

/* An application identity on one card, as the store keys and binds it. */
typedef struct {
    uint8_t cin[SEAM_PERSO_CIN_MAX];
    size_t cin_len;
    seam_gp_aid sd;
    seam_gp_aid instance;
    seam_gp_aid package;
} perso_identity;

/*
 * What the card accepted: an INSTALL [for load] of `package` (9000) in the level-33
 * session of domain `sd`, on the card `cin`, sent on `gp`. The flows make one right
 * after the card's answer (perso_grant_after_load); the store releases a record only
 * against a grant of the same identity whose session is still open.
 */
typedef struct {
    const seam_gp *gp;
    uint8_t cin[SEAM_PERSO_CIN_MAX];
    size_t cin_len;
    seam_gp_aid sd;
    seam_gp_aid package;
    bool accepted;
} perso_grant;

/* Fills *g for an INSTALL [for load] of package the card answered sw on gp. */
void perso_grant_after_load(perso_grant *g, const seam_gp *gp, const seam_perso_actor *actor,
                            const seam_gp_aid *package, uint16_t sw);

/* Files record[0..len) (an export, A2 ...) for id, sealed under the domain's store key:
   one transaction, replacing the one there. Errors: SEAM_ERR_PERSO_STORE, crypto's. */
seam_err perso_store_put(seam_perso_store *s, const seam_perso_domain *d, const perso_identity *id,
                         const uint8_t *record, size_t len);

/* Checks that id's record opens (and wipes what it read): SEAM_OK, SEAM_ERR_NOT_FOUND
   (none), SEAM_ERR_PERSO_SEAL (for another identity, tampered: logged). */
seam_err perso_store_check(seam_perso_store *s, const seam_perso_domain *d,
                           const perso_identity *id);

/* Checks that id's record opens, as perso_store_check, and gives the version it was
   exported from (*version, 0 when unknown); what it read is wiped, nothing leaves. */
seam_err perso_store_version(seam_perso_store *s, const seam_perso_domain *d,
                             const perso_identity *id, uint16_t *version);

/* Releases id's record into out[0..cap) only against a grant of the same identity
   (SEAM_ERR_PERSO_DENIED otherwise, logged). Errors also those of perso_store_check,
   SEAM_ERR_BUFFER_SMALL. */
seam_err perso_store_release(seam_perso_store *s, const seam_perso_domain *d,
                             const perso_identity *id, const perso_grant *grant, uint8_t *out,
                             size_t cap, size_t *out_len);

/* Appends a refusal to the log (its own transaction); instance may be NULL. */
seam_err perso_store_refuse(seam_perso_store *s, const uint8_t *cin, size_t cin_len,
                            const seam_gp_aid *instance, const char *reason);

/* The update flow's journal: one row per (card, domain, old package). */
typedef struct {
    uint16_t version;      /* the new version */
    uint8_t digest[32];    /* SHA-256 of the new module */
    size_t instance_count; /* the domain's instances of the package at the start */
    seam_gp_aid instances[SEAM_PERSO_BLOCKS_MAX];
} perso_journal;

/* Reads the journal row of id (its package; instance ignored): SEAM_ERR_NOT_FOUND. */
seam_err perso_journal_get(seam_perso_store *s, const perso_identity *id, perso_journal *j);

/* Writes (replacing) the journal row of id: one transaction. */
seam_err perso_journal_put(seam_perso_store *s, const perso_identity *id, const perso_journal *j);

/* Deletes the journal row of id: one transaction. */
seam_err perso_journal_delete(seam_perso_store *s, const perso_identity *id);

/* ---- the flows' common steps (flows.c) ---------------------------------------------- */

/* The identity of instance of package in the actor's domain on its card. */
void perso_flow_identity(const seam_perso_actor *actor, const seam_gp_aid *instance,
                         const seam_gp_aid *package, perso_identity *id);

/* Writes a refusal into report (sw, reason "what: the SW's words") and the store's log. */
void perso_flow_refused(const seam_perso_actor *actor, seam_perso_report *report,
                        const seam_gp_aid *instance, uint16_t sw, const char *what);

/* Refuses (SEAM_ERR_GP_PACKAGE, report->reason, logged) a module that carries a seam.perso
   section already, before anything is sent to the card; SEAM_OK otherwise. */
seam_err perso_flow_no_perso(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                             seam_perso_report *report);

/* Starts a flow: reads the package file (SEAM_ERR_GP_PACKAGE), checks the card's CIN
   (SEAM_ERR_PERSO_WRONG_CARD, logged; read in clear before the channel) and opens the
   domain at level 33, unless the session already has a level-33 channel (the caller's,
   opened with seam_perso_domain_open). A card that refuses: SEAM_OK with *refused and
   report filled. */
seam_err perso_flow_begin(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                          seam_perso_report *report, bool *refused);

/* *at: the card holds package at version in its useful space (GET STATUS of the ELFs). */
seam_err perso_flow_package_at(const seam_perso_actor *actor, const seam_gp_aid *package,
                               uint16_t version, bool *at);

/* Exports instance's record (P1 10, R-ENC) into the store under package. */
seam_err perso_flow_export(const seam_perso_actor *actor, seam_perso_report *report,
                           const seam_gp_aid *instance, const seam_gp_aid *package, bool *refused);

/* INSTALL [for load] of module's package; once the card accepted it, the record of id
   (NULL: none) is released from the store into *record_bytes (the caller's,
   SEAM_PERSO_RECORD_MAX bytes) and decoded into *record, the module personalized from
   it (or from extra, the caller's record, when id is NULL and extra is not), and the
   load file LOADed. */
seam_err perso_flow_load(const seam_perso_actor *actor, seam_perso_report *report,
                         const uint8_t *module, size_t len, const perso_identity *id,
                         const seam_perso_record *extra, uint8_t *record_bytes,
                         seam_perso_record *record, bool *refused);

/* Sends record's entries as DGI 7F71 (as many DGIs as the blocks need) to the domain. */
seam_err perso_flow_entries(const seam_perso_actor *actor, seam_perso_report *report,
                            const seam_perso_record *record, bool *refused);

/* Opens ct[0..n) with tag under key (AES-256-GCM, 12-byte nonce, aad) into out[0..n), or
   only checks that it opens when out is NULL; out is written only when it opens and the
   plain text is wiped on the way (seal.c). SEAM_ERR_PERSO_SEAL, SEAM_ERR_NOMEM, crypto's. */
seam_err perso_gcm_open(const uint8_t key[32], const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *ct, size_t n, const uint8_t *tag,
                        uint8_t *out);

/* FOR TESTS: after `transactions` more committed transactions, every write fails with
   SEAM_ERR_PERSO_STORE (a cut of the store between two of its transactions); -1 off. */
void perso_store_fault_after(seam_perso_store *s, long transactions);

/* TEST HOOK (docs/terminal.md "Faults"): when the environment variable SEAM_TEST_KILL_AT
   names point, the process SIGKILLs itself there (a kill -9 at a point inside a flow, between
   two card commands or store transactions, that no HTTP proxy can reach); nothing
   otherwise. */
void perso_kill_point(const char *point);

#endif
