/*
 * Strict JSON request bodies (internal to the server layer). A schema names
 * every field an object may hold, its type, bounds and whether it is required;
 * anything else (unknown or repeated fields, wrong types, out-of-range values,
 * trailing text) is refused with a reason, before anything is stored.
 * Nothing here allocates except cJSON's own parse tree.
 */
#ifndef SEAM_SERVER_BODY_H
#define SEAM_SERVER_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "seam/errors.h"

typedef enum {
    SEAM_SRV_STRING,      /* text, 1..max characters */
    SEAM_SRV_HEX,         /* upper- or lower-case hex, min..max bytes */
    SEAM_SRV_INT,         /* an integer in min..max */
    SEAM_SRV_BOOL,        /* true or false */
    SEAM_SRV_HEX_ARRAY,   /* an array of 1..max_items hex strings of min..max bytes each */
    SEAM_SRV_OBJECT_ARRAY /* an array of 1..max_items objects following items */
} seam_srv_type;

struct seam_srv_schema;

typedef struct {
    const char *name;
    seam_srv_type type;
    bool required;
    int64_t min; /* INT: least value; HEX: least bytes */
    int64_t max; /* INT: greatest value; HEX: most bytes; STRING: most characters */
    size_t max_items;
    const struct seam_srv_schema *items; /* OBJECT_ARRAY */
    const char *const *one_of;           /* STRING: NULL-terminated allowed values, or NULL */
} seam_srv_field;

typedef struct seam_srv_schema {
    const seam_srv_field *fields;
    size_t count; /* at most 32 */
} seam_srv_schema;

/* The size limit on why[] messages that fits every reason. */
#define SEAM_SRV_WHY_MAX 160u

/*
 * Parses text[0..len) as exactly one JSON object following schema. On success
 * *out is the parse tree (the caller frees it with cJSON_Delete). Errors:
 * SEAM_ERR_MALFORMED with *code "bad_json" (not JSON, trailing text, not an
 * object), "unknown_field", "missing_field", "duplicate_field" or "bad_field";
 * the reason in why[0..why_size). *out is NULL on error.
 */
seam_err seam_srv_body_parse(const char *text, size_t len, const seam_srv_schema *schema,
                             cJSON **out, const char **code, char *why, size_t why_size);

/* Decodes the hex string of field name in obj into out[0..cap), *len its length;
   for a field the schema has checked. SEAM_ERR_NOT_FOUND when absent. */
seam_err seam_srv_body_hex(const cJSON *obj, const char *name, uint8_t *out, size_t cap,
                           size_t *len);

/* The admin API's bodies (schemas.c): PUT /api/cards/{cin}, PUT
   /api/cards/{cin}/personalization/{aid}, POST /api/campaigns; and the campaign kinds
   in the order of seam_store_kind (NULL-terminated). */
extern const seam_srv_schema seam_srv_schema_card;
extern const seam_srv_schema seam_srv_schema_perso;
extern const seam_srv_schema seam_srv_schema_terminal;
extern const seam_srv_schema seam_srv_schema_campaign;
extern const char *const seam_srv_campaign_kinds[];
/* A campaign's "personalization": "server" (the default) or "terminal" (P6, P9). */
extern const char *const seam_srv_personalization_places[];

#endif
