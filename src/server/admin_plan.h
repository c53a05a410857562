/*
 * A campaign step behind /admin (internal to the server layer): for one
 * claimed target, the remote SCP03 session with the card's security domain
 * (seam_gp_remote) and the step's plan (seam_gp_plan_*), turned into command
 * scripts round by round and judged from the card's responses.
 *
 * A step lives in this server's memory only (the gp layer's remote session
 * cannot be exported): the server keeps its live steps in a table keyed by
 * the store's admin session id. After a restart the table is empty; the step's
 * target is claimed again when its lease expires and starts a new session that
 * reads the card's registry first (docs/server.md, "Faults").
 */
#ifndef SEAM_SERVER_ADMIN_PLAN_H
#define SEAM_SERVER_ADMIN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/perso.h"
#include "server_int.h"
#include "store.h"

typedef enum {
    SEAM_SRV_PLAN_SCRIPT = 1, /* *script holds the next command script */
    SEAM_SRV_PLAN_DONE,       /* the step succeeded (reason may say why: "already applied") */
    SEAM_SRV_PLAN_FAILED,     /* the step failed; reason says why */
    SEAM_SRV_PLAN_DELIVERY    /* *script holds a delivery for the terminal (P6, P9) */
} seam_srv_plan_outcome;

/* One round's output. script is malloc'd (the caller frees it). */
typedef struct {
    seam_srv_plan_outcome outcome;
    uint8_t *script;
    size_t script_len;
    uint32_t expected_responses; /* C-APDUs in the script: at most that many R-APDUs */
    uint64_t perso_bytes;        /* personalization data in the script's STORE DATA (P8), or the
                                    sealed personalization in a delivery (P6; 0 for P9) */
    char reason[SEAM_STORE_TEXT_MAX];
} seam_srv_plan_round;

/* One step's live state (the remote SCP03 session among it); opaque. */
typedef struct seam_srv_step seam_srv_step;

/* Starts the step of claimed target t (campaign c): round 1 (SELECT of the ISD and
   INITIALIZE UPDATE with the card's key set) in *out, and *step (NULL unless the outcome
   is SCRIPT). Errors: SEAM_ERR_NOMEM, store errors; a missing key set or package is a
   FAILED outcome, not an error. */
seam_err seam_srv_step_start(struct seam_server *srv, const seam_store_campaign *c,
                             const seam_store_target *t, seam_srv_step **step,
                             seam_srv_plan_round *out);

/* Judges the card's response script responses[0..len) to the step's last script and
   fills *out: the next script, or the step's end (the card's refusal, or a response
   script that does not answer the one sent: FAILED with the reason). */
seam_err seam_srv_step_next(struct seam_server *srv, seam_srv_step *step,
                            const seam_store_campaign *c, const seam_store_id *cin,
                            const uint8_t *responses, size_t len, seam_srv_plan_round *out);

/* The terminal's result for the step's delivery (P6, P9; the step waits for one): ok goes on
   with a new ISD session that reads the card's registry (the step is done only when the
   card shows it applied), failed ends the step with the terminal's reason. */
seam_err seam_srv_step_result(struct seam_server *srv, seam_srv_step *step,
                              const seam_store_campaign *c, const seam_store_id *cin,
                              const seam_perso_result *result, seam_srv_plan_round *out);

/* Builds the delivery of campaign c's step on card cin (admin_delivery.c): the package, and
   for an install each applet's personalization data for this card sealed for the terminal's
   public key. out: DELIVERY with the body in script, or FAILED with the reason (no terminal
   key, no package, data that does not fit). Errors: the store's, SEAM_ERR_NOMEM. */
seam_err seam_srv_delivery_build(struct seam_server *srv, const seam_store_campaign *c,
                                 const seam_store_id *cin, seam_srv_plan_round *out);

/* The operator's personalization data of applet for card cin (seam_store_perso_get: free
   it with seam_store_free_secret). SEAM_ERR_NOT_FOUND when there is none. */
seam_err seam_srv_perso_of(struct seam_server *srv, const seam_store_id *cin,
                           const seam_gp_aid *applet, uint8_t **data, size_t *len);

/* Wipes and frees a step; NULL is allowed. */
void seam_srv_step_free(seam_srv_step *step);

/* The server's table of live steps, by admin session id (memory only), shared by the
   HTTP worker threads under srv->live_lock. Steps not touched for longer than max_age
   seconds are dropped at each put and take (their claim has expired: the target may be
   claimed again), unless a request holds them. */
seam_err seam_srv_live_put(struct seam_server *srv, const char *id, seam_srv_step *step,
                           int64_t now, int64_t max_age);

/* Takes the live step of session id for this request, touched at now: no other request
   gets it until seam_srv_live_release or seam_srv_live_drop. NULL when there is none
   (e.g. after a restart; *busy false) or another request holds it (*busy true). */
seam_srv_step *seam_srv_live_take(struct seam_server *srv, const char *id, int64_t now,
                                  int64_t max_age, bool *busy);

/* Gives a taken step back to the table, touched at now. */
void seam_srv_live_release(struct seam_server *srv, const char *id, int64_t now);

/* Removes session id's step from the table (taken or not) and frees it. */
void seam_srv_live_drop(struct seam_server *srv, const char *id);

/* How many steps the table holds right now (idle ones not yet pruned included). */
size_t seam_srv_live_count(struct seam_server *srv);

/* Frees every live step (the server stops). */
void seam_srv_live_clear(struct seam_server *srv);

#endif
