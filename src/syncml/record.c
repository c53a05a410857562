/*
 * The one serializer of a record's content on the OMA DS wire: "name: value"
 * lines (docs/sync.md "OMA DS", "Record content"). Caller buffers only.
 */
#include <string.h>

#include "seam/syncml.h"

static size_t name_length(const char *name, size_t max) {
    size_t i = 0;
    while (i < max && ((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
                       name[i] == '_' || name[i] == '-'))
        i++;
    return i;
}

seam_err seam_syncml_fields_encode(const seam_syncml_field *fields, size_t n, char *out, size_t cap,
                                   size_t *len) {
    if ((!fields && n) || !len || (!out && cap))
        return SEAM_ERR_ARG;
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = fields[i].name, *value = fields[i].value;
        if (!name || !value)
            return SEAM_ERR_ARG;
        size_t nlen = name_length(name, SEAM_SYNCML_FIELD_NAME_MAX);
        if (nlen == 0 || nlen >= SEAM_SYNCML_FIELD_NAME_MAX || name[nlen] != '\0' ||
            strpbrk(value, "\r\n"))
            return SEAM_ERR_ARG;
        need += nlen + 2 + strlen(value) + 1;
    }
    if (need + 1 > cap) {
        *len = need + 1;
        return SEAM_ERR_BUFFER_SMALL;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(fields[i].name), vlen = strlen(fields[i].value);
        memcpy(out + at, fields[i].name, nlen);
        memcpy(out + at + nlen, ": ", 2);
        memcpy(out + at + nlen + 2, fields[i].value, vlen);
        out[at + nlen + 2 + vlen] = '\n';
        at += nlen + 3 + vlen;
    }
    out[at] = '\0';
    *len = at;
    return SEAM_OK;
}

seam_err seam_syncml_fields_decode(const char *content, size_t len, seam_syncml_field *fields,
                                   size_t max, size_t *n) {
    if ((!content && len) || !n || (!fields && max))
        return SEAM_ERR_ARG;
    size_t count = 0, at = 0;
    while (at < len) {
        const char *line = content + at;
        const char *end = memchr(line, '\n', len - at);
        if (!end)
            return SEAM_ERR_MALFORMED; /* every line ends in LF */
        size_t line_len = (size_t)(end - line);
        size_t nlen = name_length(
            line, line_len < SEAM_SYNCML_FIELD_NAME_MAX ? line_len : SEAM_SYNCML_FIELD_NAME_MAX);
        if (nlen == 0 || nlen >= SEAM_SYNCML_FIELD_NAME_MAX || line_len < nlen + 2 ||
            line[nlen] != ':' || line[nlen + 1] != ' ' || memchr(line, '\r', line_len))
            return SEAM_ERR_MALFORMED;
        if (count == max)
            return SEAM_ERR_SYNCML_OVERSIZE;
        fields[count].name = line;
        fields[count].value = line + nlen + 2;
        fields[count].value_len = line_len - nlen - 2;
        count++;
        at += line_len + 1;
    }
    *n = count;
    return SEAM_OK;
}
