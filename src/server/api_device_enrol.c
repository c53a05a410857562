/*
 * POST /api/devices: the operator enrols a device for synchronization (docs/server.md
 * "Device sync"): its id and the secret it will present (HTTP basic on /sync/changeset;
 * the same secret serves OMA DS authentication). The secret is sealed at rest; a second
 * POST for the same id replaces it (a rotation).
 */
#include <string.h>

#include "api.h"
#include "seam/util.h"
#include "server_int.h"

static const seam_srv_field enrol_fields[] = {
    {.name = "id", .type = SEAM_SRV_STRING, .required = true, .max = SEAM_STORE_DEVICE_ID_MAX},
    {.name = "secret", .type = SEAM_SRV_STRING, .required = true, .max = SEAM_STORE_SECRET_MAX},
};
static const seam_srv_schema enrol_schema = {enrol_fields, 2};

API_HANDLER(seam_api_device_enrol) {
    cJSON *body = seam_api_body(req, &enrol_schema, res);
    if (!body)
        return;
    const char *id = cJSON_GetObjectItemCaseSensitive(body, "id")->valuestring;
    char *secret = cJSON_GetObjectItemCaseSensitive(body, "secret")->valuestring;
    bool created = false;
    seam_err err = seam_store_device_secret_put(seam_srv_store(srv), id, secret, &created);
    if (err == SEAM_ERR_ARG) {
        seam_srv_error(res, 400, "bad_field",
                       "id is 1..64 of [0-9A-Za-z_.-]; secret 16..64 printable ASCII characters");
    } else if (err) {
        seam_api_store_error(res, err);
    } else {
        cJSON *o = cJSON_CreateObject();
        if (o && !cJSON_AddStringToObject(o, "id", id)) {
            cJSON_Delete(o);
            o = NULL;
        }
        seam_api_reply(res, created ? 201 : 200, SEAM_OK, o);
    }
    seam_secure_zero(secret, strlen(secret));
    cJSON_Delete(body);
}
