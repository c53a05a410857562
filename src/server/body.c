/*
 * Strict JSON request bodies (body.h): one pass over the object's members
 * against the schema, then a check that every required field was seen.
 */
#include "body.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "seam/util.h"

static seam_err refuse(const char **code, const char *what, char *why, size_t why_size,
                       const char *fmt, const char *name) {
    *code = what;
    if (why && why_size)
        snprintf(why, why_size, fmt, name);
    return SEAM_ERR_MALFORMED;
}

/* True when s is hex of an even length between min and max bytes. */
static bool hex_ok(const char *s, int64_t min, int64_t max) {
    size_t n = strlen(s);
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return (int64_t)(n / 2) >= min && (int64_t)(n / 2) <= max;
}

static seam_err check_object(const cJSON *obj, const seam_srv_schema *schema, const char **code,
                             char *why, size_t why_size, int depth);

static seam_err check_field(const cJSON *item, const seam_srv_field *f, const char **code,
                            char *why, size_t why_size, int depth) {
    static const char bad[] = "field '%s' has the wrong type or is out of range";
    switch (f->type) {
    case SEAM_SRV_STRING: {
        if (!cJSON_IsString(item) || !item->valuestring[0] ||
            (int64_t)strlen(item->valuestring) > f->max)
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        if (f->one_of) {
            for (const char *const *v = f->one_of; *v; v++)
                if (!strcmp(*v, item->valuestring))
                    return SEAM_OK;
            return refuse(code, "bad_field", why, why_size, "field '%s' has no allowed value",
                          f->name);
        }
        return SEAM_OK;
    }
    case SEAM_SRV_HEX:
        if (!cJSON_IsString(item) || !hex_ok(item->valuestring, f->min, f->max))
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        return SEAM_OK;
    case SEAM_SRV_INT: {
        if (!cJSON_IsNumber(item))
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        double d = item->valuedouble;
        if (!isfinite(d) || d != floor(d) || d < (double)f->min || d > (double)f->max)
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        return SEAM_OK;
    }
    case SEAM_SRV_BOOL:
        if (!cJSON_IsBool(item))
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        return SEAM_OK;
    case SEAM_SRV_HEX_ARRAY:
    case SEAM_SRV_OBJECT_ARRAY: {
        if (!cJSON_IsArray(item))
            return refuse(code, "bad_field", why, why_size, bad, f->name);
        size_t n = 0;
        for (const cJSON *e = item->child; e; e = e->next) {
            if (++n > f->max_items)
                return refuse(code, "bad_field", why, why_size, "field '%s' has too many items",
                              f->name);
            if (f->type == SEAM_SRV_HEX_ARRAY) {
                if (!cJSON_IsString(e) || !hex_ok(e->valuestring, f->min, f->max))
                    return refuse(code, "bad_field", why, why_size, bad, f->name);
            } else {
                seam_err err = check_object(e, f->items, code, why, why_size, depth + 1);
                if (err)
                    return err;
            }
        }
        if (!n)
            return refuse(code, "bad_field", why, why_size, "field '%s' is empty", f->name);
        return SEAM_OK;
    }
    }
    return refuse(code, "bad_field", why, why_size, bad, f->name);
}

static seam_err check_object(const cJSON *obj, const seam_srv_schema *schema, const char **code,
                             char *why, size_t why_size, int depth) {
    if (!cJSON_IsObject(obj) || depth > 2)
        return refuse(code, "bad_json", why, why_size, "%s", "the body must be a JSON object");
    uint32_t seen = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        size_t i = 0;
        while (i < schema->count && strcmp(schema->fields[i].name, m->string))
            i++;
        if (i == schema->count)
            return refuse(code, "unknown_field", why, why_size, "unknown field '%.64s'", m->string);
        if (seen & (1u << i))
            return refuse(code, "duplicate_field", why, why_size, "field '%s' appears twice",
                          schema->fields[i].name);
        seen |= 1u << i;
        seam_err err = check_field(m, &schema->fields[i], code, why, why_size, depth);
        if (err)
            return err;
    }
    for (size_t i = 0; i < schema->count; i++)
        if (schema->fields[i].required && !(seen & (1u << i)))
            return refuse(code, "missing_field", why, why_size, "field '%s' is required",
                          schema->fields[i].name);
    return SEAM_OK;
}

seam_err seam_srv_body_parse(const char *text, size_t len, const seam_srv_schema *schema,
                             cJSON **out, const char **code, char *why, size_t why_size) {
    if (!out || !code || !schema || schema->count > 32 || (!text && len))
        return SEAM_ERR_ARG;
    *out = NULL;
    const char *end = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(text, len, &end, false) : NULL;
    if (!root)
        return refuse(code, "bad_json", why, why_size, "%s", "the body is not JSON");
    /* Only white space may follow the value; cJSON stops at the value's end. */
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(root);
            return refuse(code, "bad_json", why, why_size, "%s", "text after the JSON value");
        }
    }
    seam_err err = check_object(root, schema, code, why, why_size, 0);
    if (err) {
        cJSON_Delete(root);
        return err;
    }
    *out = root;
    return SEAM_OK;
}

seam_err seam_srv_body_hex(const cJSON *obj, const char *name, uint8_t *out, size_t cap,
                           size_t *len) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(item))
        return SEAM_ERR_NOT_FOUND;
    return seam_hex_decode(item->valuestring, strlen(item->valuestring), out, cap, len);
}
