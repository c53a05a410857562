/*
 * libFuzzer target for a card's registry tree (src/server/card_registry.c): the `./card`
 * facts a device sent, read into the tree that GET /api/cards/{cin} shows. The input is a
 * list of facts separated by NUL bytes, each `key` TAB `value` (the value in a buffer of
 * exactly its length, so ASan sees any read past it). Whatever the facts hold, every text
 * the tree shows is an AID, a version or a life cycle state: hex digits and dots only, so
 * nothing else of a fact (a key, data) can reach the JSON.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_registry.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "server_registry_fuzz: check failed: %s (line %d)\n", #cond,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_texts(const cJSON *node) {
    for (const cJSON *c = node; c; c = c->next) {
        if (cJSON_IsString(c)) {
            CHECK(c->valuestring[0] != '\0');
            CHECK(strspn(c->valuestring, "0123456789ABCDEFabcdef.") == strlen(c->valuestring));
        }
        check_texts(c->child);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_srv_registry *r = seam_srv_registry_new();
    if (!r)
        return 0;
    for (size_t at = 0; at < size;) {
        const uint8_t *end = memchr(data + at, 0, size - at);
        size_t n = end ? (size_t)(end - (data + at)) : size - at;
        const uint8_t *tab = memchr(data + at, '\t', n);
        size_t key_len = tab ? (size_t)(tab - (data + at)) : n;
        size_t value_len = tab ? n - key_len - 1 : 0;
        char *key = malloc(key_len + 1), *value = malloc(value_len ? value_len : 1);
        if (key && value) {
            memcpy(key, data + at, key_len);
            key[key_len] = '\0';
            if (value_len)
                memcpy(value, tab + 1, value_len);
            seam_srv_registry_add(r, key, value, value_len);
        }
        free(key);
        free(value);
        at += n + 1;
    }
    cJSON *o = cJSON_CreateObject();
    if (o && seam_srv_registry_json(r, o))
        check_texts(o->child);
    cJSON_Delete(o);
    seam_srv_registry_free(r);
    return 0;
}
