/*
 * /api/packages: upload a package file (the module's raw bytes; the server
 * reads its AID and version from its seam.package section) and list them.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "seam/gp.h"
#include "server_int.h"

static cJSON *package_json(const seam_store_package *p) {
    cJSON *o = cJSON_CreateObject();
    char version[8];
    seam_api_version_text(p->version, version);
    if (!o || !seam_api_add_hex(o, "aid", p->aid.bytes, p->aid.len) ||
        !cJSON_AddStringToObject(o, "version", version) ||
        !cJSON_AddNumberToObject(o, "size", (double)p->module_len) ||
        !cJSON_AddNumberToObject(o, "uploaded", (double)p->uploaded)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

API_HANDLER(seam_api_packages_upload) {
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (!type || (strcmp(type, "application/wasm") && strcmp(type, "application/octet-stream"))) {
        seam_srv_error(res, 415, "bad_content_type",
                       "a package is uploaded as application/wasm (its module's bytes)");
        return;
    }
    seam_gp_package pkg;
    char why[128] = "";
    seam_err err = seam_gp_package_read(req->body, req->body_len, &pkg, why, sizeof why);
    if (err) {
        seam_srv_error(res, 400, "bad_package", why[0] ? why : "not a seam package");
        return;
    }
    seam_store_package info;
    memset(&info, 0, sizeof info);
    info.aid.len = pkg.aid.len;
    memcpy(info.aid.bytes, pkg.aid.bytes, pkg.aid.len);
    info.version = pkg.version;
    err = seam_store_package_put(seam_srv_store(srv), &info.aid, pkg.version, req->body,
                                 req->body_len);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    seam_store_package stored;
    err = seam_store_package_get(seam_srv_store(srv), &info.aid, pkg.version, &stored, NULL);
    cJSON *o = err ? NULL : package_json(&stored);
    seam_api_reply(res, 201, err, o);
}

static cJSON *package_item(const void *p) {
    return package_json(p);
}

API_HANDLER(seam_api_packages_list) {
    (void)req;
    seam_store_package *items = NULL;
    size_t count = 0;
    seam_err err = seam_store_package_list(seam_srv_store(srv), &items, &count);
    cJSON *arr = err ? NULL : seam_api_array(items, count, sizeof *items, package_item);
    free(items);
    seam_api_reply(res, 200, err, arr);
}
