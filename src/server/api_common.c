/*
 * What the admin API's handlers share (api.h): identifiers in hex, versions
 * as "M.m", store errors as HTTP errors, strict bodies.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "seam/util.h"

bool seam_api_id(const char *hex, seam_store_id *id) {
    size_t n = strlen(hex), len = 0;
    if (!n || n > 2 * SEAM_STORE_ID_MAX || n % 2)
        return false;
    for (size_t i = 0; i < n; i++) /* seam_hex_decode allows spaces: an id does not */
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f') ||
              (hex[i] >= 'A' && hex[i] <= 'F')))
            return false;
    memset(id, 0, sizeof *id);
    if (seam_hex_decode(hex, n, id->bytes, sizeof id->bytes, &len))
        return false;
    id->len = len;
    return true;
}

bool seam_api_add_hex(cJSON *obj, const char *name, const uint8_t *bytes, size_t len) {
    char text[2 * 65 + 1]; /* a P-256 point is the longest (the terminal's public key) */
    size_t n;
    if (len > 65 || seam_hex_encode(bytes, len, text, sizeof text, &n))
        return false;
    return cJSON_AddStringToObject(obj, name, text) != NULL;
}

bool seam_api_version_parse(const char *text, uint16_t *version) {
    unsigned major = 0, minor = 0;
    int used = 0;
    if (strlen(text) > 7 || sscanf(text, "%3u.%3u%n", &major, &minor, &used) != 2 ||
        (size_t)used != strlen(text) || text[0] < '0' || text[0] > '9' || major > 255 ||
        minor > 255)
        return false;
    *version = (uint16_t)(major << 8 | minor);
    return true;
}

void seam_api_version_text(uint16_t version, char out[8]) {
    snprintf(out, 8, "%u.%u", (unsigned)(version >> 8), (unsigned)(version & 0xFF));
}

void seam_api_store_error(seam_srv_response *res, seam_err err) {
    if (err == SEAM_ERR_NOT_FOUND)
        seam_srv_error(res, 404, "not_found", "no such resource");
    else if (err == SEAM_ERR_SERVER_CONFLICT)
        seam_srv_error(res, 409, "conflict", "it exists already, or its state does not allow it");
    else if (err == SEAM_ERR_ARG)
        seam_srv_error(res, 400, "bad_field", "a value is out of its range");
    else
        seam_srv_error(res, 500, "internal", seam_err_str(err));
}

cJSON *seam_api_array(const void *items, size_t count, size_t size, seam_api_item_fn item) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < count; i++) {
        cJSON *o = item((const char *)items + i * size);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    return arr;
}

bool seam_api_add_array(cJSON *obj, const char *name, const void *items, size_t count, size_t size,
                        seam_api_item_fn item) {
    cJSON *arr = seam_api_array(items, count, size, item);
    if (arr && cJSON_AddItemToObject(obj, name, arr))
        return true;
    cJSON_Delete(arr);
    return false;
}

void seam_api_reply(seam_srv_response *res, unsigned status, seam_err err, cJSON *json) {
    if (!json) {
        seam_api_store_error(res, err ? err : SEAM_ERR_NOMEM);
        return;
    }
    seam_srv_json(res, status, json);
    cJSON_Delete(json);
}

cJSON *seam_api_body(const seam_srv_request *req, const seam_srv_schema *schema,
                     seam_srv_response *res) {
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (!type || strncmp(type, "application/json", 16) || (type[16] && type[16] != ';')) {
        seam_srv_error(res, 415, "bad_content_type", "the body must be application/json");
        return NULL;
    }
    cJSON *root = NULL;
    const char *code = "bad_json";
    char why[SEAM_SRV_WHY_MAX];
    if (seam_srv_body_parse((const char *)req->body, req->body_len, schema, &root, &code, why,
                            sizeof why)) {
        seam_srv_error(res, 400, code, why);
        return NULL;
    }
    return root;
}
