/*
 * What the /admin endpoint asks of a campaign step's plan (internal to the
 * server layer): the first command script for a claimed target, and, from the
 * card's responses to one script, either the next script or the step's end.
 * The plan's state (the SCP03 host session among it) is an opaque context the
 * endpoint keeps sealed in the store's session row between rounds.
 */
#ifndef SEAM_SERVER_ADMIN_PLAN_H
#define SEAM_SERVER_ADMIN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server_int.h"
#include "store.h"

typedef enum {
    SEAM_SRV_PLAN_SCRIPT = 1, /* *script holds the next command script */
    SEAM_SRV_PLAN_DONE,       /* the step succeeded */
    SEAM_SRV_PLAN_FAILED      /* the step failed; reason says why */
} seam_srv_plan_outcome;

/* One round's output. script is malloc'd (the caller frees it). */
typedef struct {
    seam_srv_plan_outcome outcome;
    uint8_t *script;
    size_t script_len;
    uint32_t expected_responses; /* R-APDUs the script asks for */
    uint64_t perso_bytes;        /* bytes of personalization data in the script (P8) */
    uint8_t context[SEAM_STORE_CONTEXT_MAX];
    size_t context_len;
    char reason[SEAM_STORE_TEXT_MAX];
} seam_srv_plan_round;

/* Starts the step of claimed target t (campaign c): fills *out. */
seam_err seam_srv_plan_start(struct seam_server *srv, const seam_store_campaign *c,
                             const seam_store_target *t, seam_srv_plan_round *out);

/* Continues from context[0..context_len) with the card's response script
   responses[0..len) (already checked to hold expected R-APDUs): fills *out. */
seam_err seam_srv_plan_next(struct seam_server *srv, const seam_store_campaign *c,
                            const seam_store_id *cin, const uint8_t *context, size_t context_len,
                            const uint8_t *responses, size_t len, seam_srv_plan_round *out);

#endif
