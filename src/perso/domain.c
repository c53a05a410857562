/*
 * The domain: the key file a terminal or a controller keeps for its security
 * domain on the card, and the level-33 session with it (docs/restore-module.md
 * "Outside the card").
 *
 * File format: fields `name=value` separated by blanks or newlines, each once:
 * aid (5..16 bytes, hex), kvn (the key set version, 1..2 hex digits, 01..7F),
 * enc, mac, dek (16, 24 or 32 bytes each, hex, all of one length).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seam/perso.h"
#include "seam/util.h"

#define KEY_FILE_MAX 1024u

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static seam_err hex_field(const char *v, size_t n, uint8_t *out, size_t cap, size_t *len) {
    if (n == 0 || n > 2 * cap)
        return SEAM_ERR_MALFORMED;
    return seam_hex_decode(v, n, out, cap, len) == SEAM_OK ? SEAM_OK : SEAM_ERR_MALFORMED;
}

seam_err seam_perso_domain_parse(const char *text, size_t len, seam_perso_domain *out) {
    seam_perso_domain d;
    uint8_t keys[3][32];
    size_t key_len[3] = {0, 0, 0}, aid_len = 0;
    unsigned seen = 0;
    size_t i = 0;
    seam_err e = SEAM_OK;
    memset(&d, 0, sizeof d);
    while (!e) {
        while (i < len && is_blank(text[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !is_blank(text[i]) && text[i] != '\0')
            i++;
        if (i < len && text[i] == '\0') {
            e = SEAM_ERR_MALFORMED;
            break;
        }
        const char *f = text + start, *eq = memchr(f, '=', i - start);
        if (!eq) {
            e = SEAM_ERR_MALFORMED;
            break;
        }
        size_t name_len = (size_t)(eq - f), vlen = i - start - name_len - 1;
        const char *v = eq + 1;
        static const char *const names[] = {"aid", "kvn", "enc", "mac", "dek"};
        unsigned which = 5;
        for (unsigned k = 0; k < 5; k++)
            if (name_len == 3 && !memcmp(f, names[k], 3))
                which = k;
        if (which == 5 || (seen & (1u << which))) {
            e = SEAM_ERR_MALFORMED;
            break;
        }
        seen |= 1u << which;
        if (which == 0) {
            e = hex_field(v, vlen, d.aid.bytes, SEAM_GP_AID_MAX, &aid_len);
            if (!e && aid_len < SEAM_GP_AID_MIN)
                e = SEAM_ERR_MALFORMED;
            d.aid.len = aid_len;
        } else if (which == 1) {
            unsigned kvn = 0;
            if (vlen == 0 || vlen > 2)
                e = SEAM_ERR_MALFORMED;
            for (size_t k = 0; !e && k < vlen; k++) {
                char c = v[k];
                int digit = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
                if (digit < 0)
                    e = SEAM_ERR_MALFORMED;
                kvn = kvn * 16 + (unsigned)digit;
            }
            if (!e && (kvn < 1 || kvn > 0x7F))
                e = SEAM_ERR_MALFORMED;
            d.kvn = (uint8_t)kvn;
        } else {
            e = hex_field(v, vlen, keys[which - 2], 32, &key_len[which - 2]);
        }
    }
    if (!e && seen != 0x1F)
        e = SEAM_ERR_MALFORMED;
    if (!e && (key_len[0] != key_len[1] || key_len[1] != key_len[2] ||
               (key_len[0] != 16 && key_len[0] != 24 && key_len[0] != 32)))
        e = SEAM_ERR_MALFORMED;
    if (!e) {
        memcpy(d.keys.enc, keys[0], key_len[0]);
        memcpy(d.keys.mac, keys[1], key_len[0]);
        memcpy(d.keys.dek, keys[2], key_len[0]);
        d.keys.len = key_len[0];
        *out = d;
    }
    seam_secure_zero(keys, sizeof keys);
    seam_secure_zero(&d, sizeof d);
    return e;
}

seam_err seam_perso_domain_format(const seam_perso_domain *d, char *out, size_t cap) {
    char aid[2 * SEAM_GP_AID_MAX + 1], k[3][65];
    size_t n;
    seam_err e = SEAM_OK;
    if (d->aid.len < SEAM_GP_AID_MIN || d->aid.len > SEAM_GP_AID_MAX || d->kvn < 1 ||
        d->kvn > 0x7F || (d->keys.len != 16 && d->keys.len != 24 && d->keys.len != 32))
        return SEAM_ERR_ARG;
    e = seam_hex_encode(d->aid.bytes, d->aid.len, aid, sizeof aid, &n);
    if (!e)
        e = seam_hex_encode(d->keys.enc, d->keys.len, k[0], sizeof k[0], &n);
    if (!e)
        e = seam_hex_encode(d->keys.mac, d->keys.len, k[1], sizeof k[1], &n);
    if (!e)
        e = seam_hex_encode(d->keys.dek, d->keys.len, k[2], sizeof k[2], &n);
    if (!e) {
        int w = snprintf(out, cap, "aid=%s\nkvn=%02X\nenc=%s\nmac=%s\ndek=%s\n", aid, d->kvn, k[0],
                         k[1], k[2]);
        if (w < 0 || (size_t)w >= cap) {
            if (cap)
                seam_secure_zero(out, cap);
            e = SEAM_ERR_BUFFER_SMALL;
        }
    }
    seam_secure_zero(k, sizeof k);
    return e;
}

seam_err seam_perso_domain_load(const char *path, seam_perso_domain *out) {
    char text[KEY_FILE_MAX + 1];
    struct stat st;
    ssize_t n;
    size_t len = 0;
    seam_err e = SEAM_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return SEAM_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SEAM_ERR_IO;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO) || st.st_uid != geteuid()) {
        close(fd);
        return SEAM_ERR_PERSO_KEY_FILE; /* others may read (or change) the domain's keys */
    }
    while (len < sizeof text && (n = read(fd, text + len, sizeof text - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = SEAM_ERR_IO;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (!e && len > KEY_FILE_MAX)
        e = SEAM_ERR_MALFORMED;
    if (!e)
        e = seam_perso_domain_parse(text, len, out);
    seam_secure_zero(text, sizeof text);
    return e;
}

seam_err seam_perso_domain_open(seam_gp *gp, const seam_perso_domain *d, uint16_t *sw) {
    seam_err e = seam_gp_select(gp, d->aid.bytes, d->aid.len, sw);
    if (e || *sw != 0x9000)
        return e;
    return seam_gp_open_channel(gp, &d->keys, d->kvn, 0x33, NULL, sw);
}
