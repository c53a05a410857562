/*
 * The admin API's request bodies (body.h): every field each one may hold.
 * docs/openapi.yaml describes the same; the fuzz target server_body checks
 * the validator against these very schemas.
 */
#include "body.h"

#define TARGETS_MAX 10000u

static const seam_srv_field keyset_fields[] = {
    {.name = "sd", .type = SEAM_SRV_HEX, .min = 5, .max = 16},
    {.name = "kvn", .type = SEAM_SRV_INT, .required = true, .min = 1, .max = 127},
    {.name = "enc", .type = SEAM_SRV_HEX, .required = true, .min = 16, .max = 32},
    {.name = "mac", .type = SEAM_SRV_HEX, .required = true, .min = 16, .max = 32},
    {.name = "dek", .type = SEAM_SRV_HEX, .required = true, .min = 16, .max = 32},
};
static const seam_srv_schema keyset_schema = {keyset_fields, 5};

static const seam_srv_field card_fields[] = {
    {.name = "iin", .type = SEAM_SRV_HEX, .min = 1, .max = 16},
    {.name = "keysets",
     .type = SEAM_SRV_OBJECT_ARRAY,
     .required = true,
     .max_items = 8,
     .items = &keyset_schema},
};
const seam_srv_schema seam_srv_schema_card = {card_fields, 2};

static const seam_srv_field perso_fields[] = {
    {.name = "data", .type = SEAM_SRV_HEX, .required = true, .min = 1, .max = 16384},
};
const seam_srv_schema seam_srv_schema_perso = {perso_fields, 1};

static const seam_srv_field terminal_fields[] = {
    {.name = "public_key", .type = SEAM_SRV_HEX, .required = true, .min = 65, .max = 65},
};
const seam_srv_schema seam_srv_schema_terminal = {terminal_fields, 1};

const char *const seam_srv_personalization_places[] = {"server", "terminal", NULL};

const char *const seam_srv_campaign_kinds[] = {"install", "personalize", "update",
                                               "upgrade", "delete",      NULL};

static const seam_srv_field campaign_fields[] = {
    {.name = "kind",
     .type = SEAM_SRV_STRING,
     .required = true,
     .max = 16,
     .one_of = seam_srv_campaign_kinds},
    {.name = "package", .type = SEAM_SRV_HEX, .required = true, .min = 5, .max = 16},
    {.name = "version", .type = SEAM_SRV_STRING, .required = true, .max = 7},
    {.name = "targets",
     .type = SEAM_SRV_HEX_ARRAY,
     .required = true,
     .min = 1,
     .max = 16,
     .max_items = TARGETS_MAX},
    {.name = "personalization",
     .type = SEAM_SRV_STRING,
     .max = 16,
     .one_of = seam_srv_personalization_places},
    {.name = "start", .type = SEAM_SRV_BOOL},
};
const seam_srv_schema seam_srv_schema_campaign = {campaign_fields, 6};
