/*
 * libFuzzer target for the server's strict JSON bodies (src/server/body.c):
 * the input is parsed against each admin API schema. A success must give a
 * tree whose every required field is there; a refusal must give no tree, a
 * stable code and a terminated reason. ASan checks that nothing leaks or
 * reads past the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "server_body_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void one(const char *text, size_t len, const seam_srv_schema *schema) {
    cJSON *root = (cJSON *)1;
    const char *code = NULL;
    char why[SEAM_SRV_WHY_MAX];
    memset(why, 'x', sizeof why);
    seam_err err = seam_srv_body_parse(text, len, schema, &root, &code, why, sizeof why);
    if (err) {
        CHECK(err == SEAM_ERR_MALFORMED);
        CHECK(root == NULL);
        CHECK(code != NULL);
        CHECK(memchr(why, '\0', sizeof why) != NULL);
        return;
    }
    CHECK(cJSON_IsObject(root));
    for (size_t i = 0; i < schema->count; i++)
        if (schema->fields[i].required)
            CHECK(cJSON_GetObjectItemCaseSensitive(root, schema->fields[i].name) != NULL);
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes, so that ASan sees any read past the body. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    one(text, size, &seam_srv_schema_card);
    one(text, size, &seam_srv_schema_perso);
    one(text, size, &seam_srv_schema_campaign);
    free(text);
    return 0;
}
