/*
 * The OMA DS server engine's record store over the server's copy of one device's database
 * (internal to the server layer; docs/sync.md "OMA DS over HTTP").
 *
 * A session reads the device's records of one URI, its anchors and its map at begin, works
 * on them in memory across the session's HTTP requests, and writes everything at commit in
 * one store transaction (the records through seam_store_device_apply with a history entry
 * naming the session, the map, the anchors), after locking the device's row and checking
 * that nobody changed the device since begin (else the commit fails and the session ends
 * with 510: nothing written). Until the commit nothing is written, so a session cut at any
 * message, or a server restart, leaves the store as it was.
 */
#ifndef SEAM_SERVER_OMADS_STORE_H
#define SEAM_SERVER_OMADS_STORE_H

#include "seam/syncml.h"
#include "store.h"

typedef struct omads_store omads_store;

/* A store for device id's database uri; label names the session in the history. NULL when
   out of memory. */
omads_store *omads_store_new(const char *id, const char *uri, const char *label);

/* The store handle the next engine step uses (the request's own). */
void omads_store_use(omads_store *s, seam_store *store);

/* The engine's view of s. */
seam_syncml_store omads_store_iface(omads_store *s);

/* True while the engine's session on s is open: its device authenticated (the engine begins
   the store only after the credentials passed). */
bool omads_store_is_open(const omads_store *s);

/* Conflicts the device's change won / the server's change won, so far. */
void omads_store_conflicts(const omads_store *s, unsigned *client, unsigned *server);

/* Frees s (what it holds is in memory only: nothing to roll back in the store). */
void omads_store_free(omads_store *s);

#endif
