/*
 * Device-management record text (dm_record.h): a UTF-8 check and the `field: value`
 * line reader, written once for the store (which refuses content that is not text)
 * and the proposals (which read `kind`, `version` and `package` of `./apps` records).
 */
#include "dm_record.h"

#include <stdint.h>
#include <string.h>

bool seam_dm_text_ok(const char *text, size_t len) {
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;
    if (!text && len)
        return false;
    while (i < len) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            more = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3, cp = c & 0x07;
        else
            return false; /* a continuation byte first, an overlong lead (C0, C1), or > F4 */
        if (len - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += more + 1;
    }
    return true;
}

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/* Copies line[0..n) without the blanks around it into value[0..cap). */
static seam_err copy_trimmed(const char *line, size_t n, char *value, size_t cap) {
    while (n && blank(*line))
        line++, n--;
    while (n && blank(line[n - 1]))
        n--;
    if (n >= cap)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(value, line, n);
    value[n] = '\0';
    return SEAM_OK;
}

/* The length of the line at text[0..len), without its LF or CRLF; *next past it. */
static size_t line_at(const char *text, size_t len, size_t *next) {
    const char *lf = memchr(text, '\n', len);
    size_t n = lf ? (size_t)(lf - text) : len;
    *next = lf ? n + 1 : len;
    if (n && text[n - 1] == '\r')
        n--;
    return n;
}

seam_err seam_dm_field(const char *text, size_t len, const char *name, char *value, size_t cap) {
    if ((!text && len) || !name || !*name || !value || cap == 0)
        return SEAM_ERR_ARG;
    size_t name_len = strlen(name);
    while (len) {
        size_t next;
        size_t n = line_at(text, len, &next);
        if (n > name_len && !memcmp(text, name, name_len) && text[name_len] == ':')
            return copy_trimmed(text + name_len + 1, n - name_len - 1, value, cap);
        text += next;
        len -= next;
    }
    return SEAM_ERR_NOT_FOUND;
}

seam_err seam_dm_first_line(const char *text, size_t len, char *value, size_t cap) {
    if ((!text && len) || !value || cap == 0)
        return SEAM_ERR_ARG;
    size_t next;
    size_t n = len ? line_at(text, len, &next) : 0;
    return copy_trimmed(text, n, value, cap);
}
