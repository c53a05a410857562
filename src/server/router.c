/*
 * The route table and the router (http.h). Patterns are literal segments and
 * "{name}" segments that match one non-empty segment of up to
 * SEAM_SRV_PARAM_MAX characters from [0-9A-Za-z_.-]; docs/openapi.yaml
 * describes the same table (a test checks both ways).
 */
#include "http.h"

#include <string.h>

#include "api.h"
#include "console.h"
#include "seam/syncml.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static const seam_srv_route routes[] = {
    {"GET", "/api/packages", 0, true, seam_api_packages_list},
    {"POST", "/api/packages", 4 * MIB, true, seam_api_packages_upload},
    {"GET", "/api/cards", 0, true, seam_api_cards_list},
    {"GET", "/api/cards/{cin}", 0, true, seam_api_card_get},
    {"PUT", "/api/cards/{cin}", 16 * KIB, true, seam_api_card_put},
    {"GET", "/api/cards/{cin}/events", 0, true, seam_api_card_events},
    {"PUT", "/api/cards/{cin}/terminal", 4 * KIB, true, seam_api_card_terminal_put},
    {"PUT", "/api/cards/{cin}/personalization/{aid}", 64 * KIB, true, seam_api_perso_put},
    {"GET", "/api/campaigns", 0, true, seam_api_campaigns_list},
    {"POST", "/api/campaigns", 512 * KIB, true, seam_api_campaign_create},
    {"GET", "/api/campaigns/{id}", 0, true, seam_api_campaign_get},
    {"POST", "/api/campaigns/{id}/start", 0, true, seam_api_campaign_start},
    {"POST", "/api/campaigns/{id}/pause", 0, true, seam_api_campaign_pause},
    {"POST", "/api/campaigns/{id}/cancel", 0, true, seam_api_campaign_cancel},
    {"GET", "/api/campaigns/{id}/timeline", 0, true, seam_api_campaign_timeline},
    {"GET", "/api/health", 0, true, seam_api_health},
    {"GET", "/api/devices", 0, true, seam_api_devices_list},
    {"POST", "/api/devices", 4 * KIB, true, seam_api_device_enrol},
    {"GET", "/api/devices/{id}", 0, true, seam_api_device_get},
    {"GET", "/api/devices/{id}/history", 0, true, seam_api_device_history},
    {"PUT", "/api/devices/{id}/secret", 1 * KIB, true, seam_api_device_secret_put},
    {"GET", "/api/proposals", 0, true, seam_api_proposals_list},
    {"POST", "/api/proposals/{id}/campaign", 0, true, seam_api_proposal_accept},
    {"GET", "/", 0, false, seam_console_index},
    {"GET", "/console/{file}", 0, false, seam_console_file},
    {"POST", "/admin", 0, false, seam_admin_open},
    {"POST", "/admin/session/{id}/{round}", 256 * KIB, false, seam_admin_respond},
    {"POST", "/sync/changeset", 8 * MIB, false, seam_sync_changeset},
    {"POST", "/sync/omads", SEAM_SYNCML_MAX_MESSAGE, false, seam_sync_omads},
};

const seam_srv_route *seam_srv_routes(size_t *count) {
    *count = sizeof routes / sizeof routes[0];
    return routes;
}

static bool param_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '.' || c == '-';
}

/* True when path matches pattern; the {…} segments are copied to params. */
static bool match(const char *pattern, const char *path, seam_srv_request *req) {
    size_t n = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            if (!close || n >= SEAM_SRV_PARAMS_MAX)
                return false;
            size_t len = 0;
            while (path[len] && path[len] != '/') {
                if (!param_char(path[len]) || len >= SEAM_SRV_PARAM_MAX)
                    return false;
                len++;
            }
            if (!len)
                return false;
            memcpy(req->params[n], path, len);
            req->params[n][len] = '\0';
            n++;
            pattern = close + 1;
            path += len;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return !*pattern && !*path;
}

const seam_srv_route *seam_srv_route_find(const char *method, const char *path,
                                          seam_srv_request *req, unsigned *status) {
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!match(routes[i].pattern, path, req))
            continue;
        path_known = true;
        if (!strcmp(routes[i].method, method))
            return &routes[i];
    }
    *status = path_known ? 405 : 404;
    return NULL;
}
