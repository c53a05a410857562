/*
 * The handlers of the server's routes (internal to the server layer): the
 * admin API under /api/ (api_*.c) and the remote-management endpoint /admin
 * (admin.c). Each reads one complete request and fills the response.
 */
#ifndef SEAM_SERVER_API_H
#define SEAM_SERVER_API_H

#include <cjson/cJSON.h>

#include "body.h"
#include "http.h"
#include "store.h"

#define API_HANDLER(name)                                                                          \
    void name(struct seam_server *srv, const seam_srv_request *req, seam_srv_response *res)

API_HANDLER(seam_api_packages_list);
API_HANDLER(seam_api_packages_upload);
API_HANDLER(seam_api_cards_list);
API_HANDLER(seam_api_card_get);
API_HANDLER(seam_api_card_put);
API_HANDLER(seam_api_card_events);
API_HANDLER(seam_api_perso_put);
API_HANDLER(seam_api_card_terminal_put);
API_HANDLER(seam_api_campaigns_list);
API_HANDLER(seam_api_campaign_create);
API_HANDLER(seam_api_campaign_get);
API_HANDLER(seam_api_campaign_start); /* api_campaign_control.c */
API_HANDLER(seam_api_campaign_pause);
API_HANDLER(seam_api_campaign_cancel);
API_HANDLER(seam_api_campaign_timeline);
API_HANDLER(seam_api_health);
API_HANDLER(seam_api_devices_list);
API_HANDLER(seam_api_device_get);
API_HANDLER(seam_api_device_history);
API_HANDLER(seam_api_proposals_list);
API_HANDLER(seam_api_proposal_accept);
API_HANDLER(seam_admin_open);
API_HANDLER(seam_admin_respond);
API_HANDLER(seam_api_device_enrol); /* api_device_enrol.c */
API_HANDLER(seam_sync_changeset);   /* sync_changeset.c */
API_HANDLER(seam_sync_omads);
API_HANDLER(seam_api_device_secret_put);

/* The console's views of cards (api_card_detail.c). */

/* Keeps of items[0..*count) the cards the request's q matches (all when it has none);
   false with res filled (400 bad_query, a store error). */
bool seam_api_card_search(struct seam_server *srv, const seam_srv_request *req,
                          seam_store_card *items, size_t *count, seam_srv_response *res);

/* Adds "devices", "registry" and "sessions" of card cin to o; false with *err set. */
bool seam_api_card_detail(struct seam_server *srv, const seam_store_id *cin, cJSON *o,
                          seam_err *err);

/* Shared by the handlers (api_common.c). */

/* Decodes hex text (1..16 bytes) into *id; false when it is not. */
bool seam_api_id(const char *hex, seam_store_id *id);

/* Adds member name = hex of id to obj; false when out of memory. */
bool seam_api_add_hex(cJSON *obj, const char *name, const uint8_t *bytes, size_t len);

/* Parses "M.m" (each 0..255) into major << 8 | minor; false when it is not that. */
bool seam_api_version_parse(const char *text, uint16_t *version);

/* Writes "M.m" of version into out[0..8). */
void seam_api_version_text(uint16_t version, char out[8]);

/* A campaign as the API shows it (id, kind, package, version, state, created, and from
   store st its counts, bytes and updated); NULL with *err set when the store fails (0: out
   of memory). */
cJSON *seam_api_campaign_json(seam_store *st, const seam_store_campaign *c, seam_err *err);

/* The campaign id in the path (params[0]), or false with res filled (400 bad_id). */
bool seam_api_campaign_id(const seam_srv_request *req, int64_t *id, seam_srv_response *res);

/* Makes one array element of an item of a list (the list's element type); NULL when out of
   memory. */
typedef cJSON *(*seam_api_item_fn)(const void *item);

/* A JSON array of item(items[i]) for the count items of size bytes each; NULL when out of
   memory. */
cJSON *seam_api_array(const void *items, size_t count, size_t size, seam_api_item_fn item);

/* The same array as member name of obj; false (obj unchanged) when out of memory. */
bool seam_api_add_array(cJSON *obj, const char *name, const void *items, size_t count, size_t size,
                        seam_api_item_fn item);

/* Fills res with the error that stands for store error err (404 not_found, 409 conflict,
   500 internal). */
void seam_api_store_error(seam_srv_response *res, seam_err err);

/* Sends json with status and frees it; when json is NULL, the error for err instead
   (out of memory when err is 0). */
void seam_api_reply(seam_srv_response *res, unsigned status, seam_err err, cJSON *json);

/* Parses the request body against schema: the tree, or NULL with res filled (400). */
cJSON *seam_api_body(const seam_srv_request *req, const seam_srv_schema *schema,
                     seam_srv_response *res);

#endif
