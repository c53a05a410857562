/*
 * /api/cards: cards by CIN with their IIN and the SD key sets the server may
 * use on them (stored sealed, never returned: only their SD, version and
 * length are shown), personalization data per card and application (sealed),
 * and each card's event log.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "server_int.h"

/* The issuer security domain's AID, the default SD of a key set. */
static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* The card's CIN from the path, or false with res filled. */
static bool path_cin(const seam_srv_request *req, seam_store_id *cin, seam_srv_response *res) {
    if (!seam_api_id(req->params[0], cin)) {
        seam_srv_error(res, 400, "bad_cin", "a CIN is 1 to 16 bytes in hex");
        return false;
    }
    return true;
}

/* Reads one key set object (checked by the schema) into *ks; false when its three keys
   differ in length or are not an AES key length. */
static bool keyset_read(const cJSON *o, seam_store_keyset *ks) {
    memset(ks, 0, sizeof *ks);
    size_t n;
    if (seam_srv_body_hex(o, "sd", ks->sd_aid.bytes, sizeof ks->sd_aid.bytes, &n) == SEAM_OK) {
        ks->sd_aid.len = n;
    } else {
        memcpy(ks->sd_aid.bytes, isd_aid, sizeof isd_aid);
        ks->sd_aid.len = sizeof isd_aid;
    }
    ks->kvn = (uint8_t)cJSON_GetObjectItemCaseSensitive(o, "kvn")->valueint;
    size_t le, lm, ld;
    if (seam_srv_body_hex(o, "enc", ks->enc, sizeof ks->enc, &le) ||
        seam_srv_body_hex(o, "mac", ks->mac, sizeof ks->mac, &lm) ||
        seam_srv_body_hex(o, "dek", ks->dek, sizeof ks->dek, &ld))
        return false;
    ks->key_len = le;
    return le == lm && lm == ld && (le == 16 || le == 24 || le == 32);
}

API_HANDLER(seam_api_card_put) {
    seam_store_id cin;
    if (!path_cin(req, &cin, res))
        return;
    cJSON *root = seam_api_body(req, &seam_srv_schema_card, res);
    if (!root)
        return;
    seam_store_card card;
    memset(&card, 0, sizeof card);
    card.cin = cin;
    size_t n = 0;
    if (seam_srv_body_hex(root, "iin", card.iin.bytes, sizeof card.iin.bytes, &n) == SEAM_OK)
        card.iin.len = n;
    /* Every key set is checked before anything is stored. */
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(root, "keysets");
    size_t count = (size_t)cJSON_GetArraySize(sets);
    seam_store_keyset *ks = calloc(count, sizeof *ks);
    bool ok = ks != NULL;
    size_t i = 0;
    for (const cJSON *e = sets->child; ok && e; e = e->next, i++)
        ok = keyset_read(e, &ks[i]);
    cJSON_Delete(root);
    if (!ks) {
        seam_api_store_error(res, SEAM_ERR_NOMEM);
        return;
    }
    if (!ok) {
        seam_store_free_secret(ks, count * sizeof *ks);
        seam_srv_error(res, 400, "bad_field",
                       "a key set's enc, mac and dek must be AES keys of one length");
        return;
    }
    seam_store_card existing;
    seam_err err = seam_store_card_get(seam_srv_store(srv), &cin, &existing);
    unsigned status = 200;
    if (err == SEAM_ERR_NOT_FOUND) {
        err = seam_store_card_put(seam_srv_store(srv), &card);
        status = 201;
    } else if (!err && (existing.iin.len != card.iin.len ||
                        memcmp(existing.iin.bytes, card.iin.bytes, card.iin.len))) {
        err = SEAM_ERR_SERVER_CONFLICT; /* a card's IIN does not change */
    }
    for (i = 0; !err && i < count; i++)
        err = seam_store_keyset_put(seam_srv_store(srv), &cin, &ks[i]);
    seam_store_free_secret(ks, count * sizeof *ks);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o && !seam_api_add_hex(o, "cin", cin.bytes, cin.len)) {
        cJSON_Delete(o);
        o = NULL;
    }
    seam_api_reply(res, status, SEAM_OK, o);
}

static cJSON *card_json(struct seam_server *srv, const seam_store_card *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !seam_api_add_hex(o, "cin", c->cin.bytes, c->cin.len) ||
        !seam_api_add_hex(o, "iin", c->iin.bytes, c->iin.len) ||
        !cJSON_AddNumberToObject(o, "created", (double)c->created)) {
        cJSON_Delete(o);
        return NULL;
    }
    /* The ISD key set the server would use: its version and length, never the keys. */
    seam_store_keyset ks;
    seam_store_id sd = {.len = sizeof isd_aid};
    memcpy(sd.bytes, isd_aid, sizeof isd_aid);
    if (srv && seam_store_keyset_get(seam_srv_store(srv), &c->cin, &sd, 0, &ks) == SEAM_OK) {
        cJSON *k = cJSON_AddObjectToObject(o, "isd_keyset");
        if (!k || !cJSON_AddNumberToObject(k, "kvn", ks.kvn) ||
            !cJSON_AddNumberToObject(k, "key_length", (double)ks.key_len)) {
            seam_secure_zero(&ks, sizeof ks);
            cJSON_Delete(o);
            return NULL;
        }
        seam_secure_zero(&ks, sizeof ks);
    }
    /* The terminal's public key (P6): public, shown whole. */
    uint8_t pub[SEAM_STORE_TERMINAL_KEY_SIZE];
    if (srv && seam_store_terminal_key_get(seam_srv_store(srv), &c->cin, pub) == SEAM_OK) {
        cJSON *t = cJSON_AddObjectToObject(o, "terminal");
        if (!t || !seam_api_add_hex(t, "public_key", pub, sizeof pub)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

API_HANDLER(seam_api_card_get) {
    seam_store_id cin;
    if (!path_cin(req, &cin, res))
        return;
    seam_store_card card;
    seam_err err = seam_store_card_get(seam_srv_store(srv), &cin, &card);
    cJSON *o = err ? NULL : card_json(srv, &card);
    if (o && !seam_api_card_detail(srv, &cin, o, &err)) {
        cJSON_Delete(o);
        o = NULL;
    }
    seam_api_reply(res, 200, err, o);
}

static cJSON *card_item(const void *c) {
    return card_json(NULL, c);
}

API_HANDLER(seam_api_cards_list) {
    seam_store_card *items = NULL;
    size_t count = 0;
    seam_err err = seam_store_card_list(seam_srv_store(srv), &items, &count);
    if (!err && !seam_api_card_search(srv, req, items, &count, res)) {
        free(items);
        return;
    }
    cJSON *arr = err ? NULL : seam_api_array(items, count, sizeof *items, card_item);
    free(items);
    seam_api_reply(res, 200, err, arr);
}

API_HANDLER(seam_api_perso_put) {
    seam_store_id cin, aid;
    if (!path_cin(req, &cin, res))
        return;
    if (!seam_api_id(req->params[1], &aid) || aid.len < 5) {
        seam_srv_error(res, 400, "bad_aid", "an AID is 5 to 16 bytes in hex");
        return;
    }
    cJSON *root = seam_api_body(req, &seam_srv_schema_perso, res);
    if (!root)
        return;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    size_t hex_len = strlen(data->valuestring), len = 0;
    uint8_t *bytes = malloc(hex_len / 2);
    seam_err err = bytes ? seam_hex_decode(data->valuestring, hex_len, bytes, hex_len / 2, &len)
                         : SEAM_ERR_NOMEM;
    cJSON_Delete(root);
    seam_store_card card;
    if (!err)
        err = seam_store_card_get(seam_srv_store(srv), &cin, &card);
    if (!err)
        err = seam_store_perso_put(seam_srv_store(srv), &cin, &aid, bytes, len);
    seam_store_free_secret(bytes, hex_len / 2);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    res->status = 204;
}

API_HANDLER(seam_api_card_events) {
    seam_store_id cin;
    if (!path_cin(req, &cin, res))
        return;
    seam_store_card card;
    seam_err err = seam_store_card_get(seam_srv_store(srv), &cin, &card);
    seam_store_event *items = NULL;
    size_t count = 0;
    if (!err)
        err = seam_store_event_list(seam_srv_store(srv), &cin, &items, &count);
    cJSON *arr = err ? NULL : cJSON_CreateArray();
    for (size_t i = 0; arr && i < count; i++) {
        cJSON *o = cJSON_CreateObject();
        bool ok = o && cJSON_AddNumberToObject(o, "id", (double)items[i].id) &&
                  cJSON_AddNumberToObject(o, "at", (double)items[i].at) &&
                  cJSON_AddNumberToObject(o, "campaign", (double)items[i].campaign) &&
                  cJSON_AddStringToObject(o, "kind", items[i].kind) &&
                  cJSON_AddStringToObject(o, "message", items[i].message);
        if (!ok || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    free(items);
    seam_api_reply(res, 200, err, arr);
}

/* PUT /api/cards/{cin}/terminal: the public key of the terminal hosting the card, which
   install campaigns personalized in the terminal seal the card's data for (P6). */
API_HANDLER(seam_api_card_terminal_put) {
    seam_store_id cin;
    if (!path_cin(req, &cin, res))
        return;
    cJSON *root = seam_api_body(req, &seam_srv_schema_terminal, res);
    if (!root)
        return;
    uint8_t pub[SEAM_STORE_TERMINAL_KEY_SIZE];
    size_t n = 0;
    seam_err err = seam_srv_body_hex(root, "public_key", pub, sizeof pub, &n);
    cJSON_Delete(root);
    if (err || n != sizeof pub || seam_crypto_p256_check_public(pub, n) != SEAM_OK) {
        seam_srv_error(res, 400, "bad_field",
                       "field 'public_key' must be a P-256 point: 65 bytes, 04 || X || Y, on the "
                       "curve");
        return;
    }
    err = seam_store_terminal_key_put(seam_srv_store(srv), &cin, pub);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    res->status = 204;
}
