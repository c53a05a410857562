/*
 * A card's registry as the console shows it (internal to the server layer): built from
 * the `./card` facts a device reported (docs/sync.md "./card"; values are `name=value`
 * fields separated by one space, unknown fields ignored):
 *   domain.<AID>   lifecycle=LL [sd=<AID>]
 *   package.<AID>  version=M.m [sd=<AID>]
 *   instance.<AID> version=M.m lifecycle=LL package=<AID> [sd=<AID>]
 *   restore.<AID>  owner=<SD AID> package=<AID> bytes=N   (sizes only, never contents)
 * Packages go under their domain (without a known one: "unassociated"), instances under
 * their package (an unknown package gets an entry of its own). Only these fields are ever
 * copied out: nothing else of a fact reaches the JSON.
 */
#ifndef SEAM_SERVER_CARD_REGISTRY_H
#define SEAM_SERVER_CARD_REGISTRY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define SEAM_SRV_REGISTRY_FACTS_MAX 512 /* facts read of one card; more are left out */

typedef struct seam_srv_registry seam_srv_registry;

/* A new empty registry; NULL when out of memory. */
seam_srv_registry *seam_srv_registry_new(void);

/* Frees r; NULL allowed. */
void seam_srv_registry_free(seam_srv_registry *r);

/* Adds the fact key = value[0..len) (other keys, malformed AIDs and a full registry are
   ignored). */
void seam_srv_registry_add(seam_srv_registry *r, const char *key, const char *value, size_t len);

/* The tree as members "domains", "unassociated" and "restore" of obj; false when out of
   memory. */
bool seam_srv_registry_json(const seam_srv_registry *r, cJSON *obj);

#endif
