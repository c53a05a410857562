/*
 * Upgrade proposals (S10; internal to the server layer; docs/server.md, "Proposals"):
 * the server reads every device's `./apps` records, counts which devices run which
 * version of which application (card applets and terminal applications), and, for each
 * card package version older than the newest version of that package the server holds,
 * proposes an update campaign for exactly the cards of those devices. A device whose card
 * is not known (no CIN learned from its `./devinfo`, or a CIN that is not among the
 * server's cards) is reported and skipped, never guessed.
 */
#ifndef SEAM_SERVER_PROPOSALS_H
#define SEAM_SERVER_PROPOSALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SEAM_PROPOSAL_ID_MAX   64 /* "AIDHEX-M.m-M.m" */
#define SEAM_PROPOSAL_TEXT_MAX 32 /* an application's name or version as reported */

/* A device left out of a proposal, and why: "no_cin" or "unknown_card". */
typedef struct {
    char device[SEAM_STORE_DEVICE_ID_MAX + 1];
    const char *reason; /* static */
} seam_proposal_skip;

/* "devices devices run package `from`; `to` is available". */
typedef struct {
    char id[SEAM_PROPOSAL_ID_MAX + 1];
    char name[SEAM_PROPOSAL_TEXT_MAX + 1]; /* the `name` a device reported (may be empty) */
    seam_store_id package;
    uint16_t from, to;   /* major << 8 | minor */
    size_t devices;      /* devices that run it */
    seam_store_id *cins; /* the distinct known cards of those devices, by CIN */
    size_t cin_count;
    seam_proposal_skip *skipped;
    size_t skipped_count;
} seam_proposal;

/* How many devices run one version of one application. */
typedef struct {
    bool card; /* kind card (id an AID in hex) or terminal (id a package name) */
    char id[SEAM_STORE_RECORD_KEY_MAX + 1];
    char name[SEAM_PROPOSAL_TEXT_MAX + 1];
    char version[SEAM_PROPOSAL_TEXT_MAX + 1];
    size_t devices;
} seam_proposal_app;

typedef struct {
    seam_proposal *items; /* by package AID, then from-version */
    size_t count;
    seam_proposal_app *apps; /* by kind, id, version */
    size_t app_count;
} seam_proposals;

/* Analyses the store's device copies into *out (free it with seam_proposals_free). */
seam_err seam_proposals_make(seam_store *store, seam_proposals *out);

/* Frees what seam_proposals_make gave; a zeroed one is allowed. */
void seam_proposals_free(seam_proposals *p);

/* Writes p as text to out (a FILE *): the form of `seam server report --proposals`. */
void seam_proposals_print(const seam_proposals *p, void *out);

/* Turns proposal id (as seam_proposals_make names it now) into a running update campaign
 * of its package's `to` version targeting exactly its known cards, in one transaction;
 * *campaign gets the campaign, *proposal (may be NULL; free it with seam_proposals_free)
 * the proposal as accepted. NOT_FOUND (no such proposal now), SEAM_ERR_SERVER_CONFLICT
 * (none of its devices has a known card: nothing to update). */
seam_err seam_proposal_accept(seam_store *store, const char *id, seam_store_campaign *campaign,
                              seam_proposals *proposal);

#endif
