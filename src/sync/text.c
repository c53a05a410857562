/*
 * A record's content in the text form both protocols' OMA DS side uses
 * (text/plain, UTF-8; docs/sync.md "Databases"): for ./devinfo the value
 * itself; for ./apps one "field: value" line each, in this order, each line
 * ending with "\n":
 *
 *   name: Snake
 *   kind: terminal
 *   version: 1.2
 *   size: 20480
 *
 * The parser takes the fields in any order, each exactly once, "\r\n" as
 * well as "\n", the last line with or without its end (and a ./devinfo value
 * with any line ends after it: text/plain peers such as SyncEvolution add
 * them); it round-trips with the formatter.
 */
#include <stdio.h>
#include <string.h>

#include "sync_int.h"

seam_err seam_sync_record_format(const char *uri, const seam_sync_record *rec, char *out,
                                 size_t cap, size_t *out_len) {
    const sync_table *t = sync_table_named(uri);
    char text[SEAM_SYNC_TEXT_MAX + 1];
    int n;
    if (!t)
        return SEAM_ERR_SYNC_URI;
    if (!rec || !out_len || (cap && !out))
        return SEAM_ERR_ARG;
    seam_err err = seam_sync_record_check(uri, rec);
    if (err)
        return err;
    if (t->ncols == 2)
        n = snprintf(text, sizeof text, "%s", rec->value);
    else
        n = snprintf(text, sizeof text, "name: %s\nkind: %s\nversion: %s\nsize: %llu\n", rec->value,
                     rec->kind == SEAM_SYNC_KIND_CARD ? "card" : "terminal", rec->version,
                     (unsigned long long)rec->size);
    if (n < 0 || (size_t)n > SEAM_SYNC_TEXT_MAX)
        return SEAM_ERR_SYNC_FIELD;
    *out_len = (size_t)n;
    if (cap < (size_t)n + 1)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(out, text, (size_t)n + 1);
    return SEAM_OK;
}

/* Copies p[0..n) into dst (cap bytes with the NUL); false when it does not fit. */
static bool take(char *dst, size_t cap, const char *p, size_t n) {
    if (n >= cap)
        return false;
    memcpy(dst, p, n);
    dst[n] = 0;
    return true;
}

seam_err seam_sync_record_parse(const char *uri, const char *content, size_t len,
                                seam_sync_record *rec) {
    const sync_table *t = sync_table_named(uri);
    seam_sync_record r;
    if (!t)
        return SEAM_ERR_SYNC_URI;
    if (!rec || (len && !content))
        return SEAM_ERR_ARG;
    if (len > SEAM_SYNC_TEXT_MAX)
        return SEAM_ERR_SYNC_FIELD;
    r = *rec;
    if (t->ncols == 2) {
        /* one line: line ends after it are not part of it (text/plain peers such as
           SyncEvolution add "\r\n", some twice) */
        while (len && (content[len - 1] == '\n' || content[len - 1] == '\r'))
            len--;
        if (!take(r.value, sizeof r.value, content, len))
            return SEAM_ERR_SYNC_FIELD;
    } else {
        static const char *const names[] = {"name", "kind", "version", "size"};
        bool seen[4] = {false};
        size_t pos = 0;
        while (pos < len) {
            const char *line = content + pos;
            const char *nl = memchr(line, '\n', len - pos);
            size_t n = nl ? (size_t)(nl - line) : len - pos;
            pos += n + (nl != NULL);
            if (n && line[n - 1] == '\r')
                n--;
            const char *colon = memchr(line, ':', n);
            if (!colon || (size_t)(colon - line) + 1 >= n || colon[1] != ' ')
                return SEAM_ERR_SYNC_FIELD;
            size_t name_len = (size_t)(colon - line), value_len = n - name_len - 2;
            const char *value = colon + 2;
            char text[32];
            int field = -1;
            for (int i = 0; i < 4; i++)
                if (strlen(names[i]) == name_len && memcmp(names[i], line, name_len) == 0)
                    field = i;
            if (field < 0 || seen[field])
                return SEAM_ERR_SYNC_FIELD;
            seen[field] = true;
            bool ok = true;
            switch (field) {
            case 0:
                ok = take(r.value, sizeof r.value, value, value_len);
                break;
            case 1:
                ok = take(text, sizeof text, value, value_len) &&
                     (!strcmp(text, "card") || !strcmp(text, "terminal"));
                r.kind = ok && text[0] == 'c' ? SEAM_SYNC_KIND_CARD : SEAM_SYNC_KIND_TERMINAL;
                break;
            case 2:
                ok = take(r.version, sizeof r.version, value, value_len);
                break;
            default:
                ok = take(text, 21, value, value_len) && value_len > 0;
                r.size = 0;
                for (size_t i = 0; ok && i < value_len; i++) {
                    ok = text[i] >= '0' && text[i] <= '9' && r.size <= (UINT64_MAX - 9) / 10;
                    r.size = r.size * 10 + (uint64_t)(text[i] - '0');
                }
            }
            if (!ok)
                return SEAM_ERR_SYNC_FIELD;
        }
        if (!seen[0] || !seen[1] || !seen[2] || !seen[3])
            return SEAM_ERR_SYNC_FIELD;
    }
    if (!r.key[0]) /* the key comes from the protocol (LUID); check the fields with a stand-in */
        snprintf(r.key, sizeof r.key, "-");
    seam_err err = seam_sync_record_check(uri, &r);
    if (err)
        return err;
    if (!rec->key[0])
        r.key[0] = 0;
    *rec = r;
    return SEAM_OK;
}
