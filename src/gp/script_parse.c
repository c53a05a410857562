/*
 * The line parser of card scripts: one line of text in, its kind and every
 * argument checked and decoded out (docs/card-script.md). Nothing here does
 * I/O or allocates; the input is a (pointer, length) pair and is never read
 * past its length. A line is refused here, before anything is sent, when an
 * APDU's Lc does not match its data or a directive's argument is unknown,
 * repeated, missing or out of range.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "script_int.h"
#include "seam/util.h"

static bool is_space(char c) {
    return isspace((unsigned char)c) != 0;
}

static bool sw_char_ok(char c) {
    return isxdigit((unsigned char)c) || c == 'x' || c == 'X';
}

bool script_sw_matches(uint16_t sw, const char *pattern) {
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < 4; i++) {
        char want = (char)toupper((unsigned char)pattern[i]);
        if (want != 'X' && want != digits[(sw >> (12 - 4 * i)) & 0xF])
            return false;
    }
    return true;
}

/* Marks the line bad with a message (printf format). */
static void bad(script_line *out, const char *fmt, ...) {
    va_list ap;
    out->kind = SCRIPT_BAD;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
}

/* Decodes hex with optional spaces into out; false if not hex or too long. */
static bool hex(const char *text, size_t len, uint8_t *out, size_t cap, size_t *out_len) {
    return seam_hex_decode(text, len, out, cap, out_len) == SEAM_OK;
}

/* The offset of the first "=>" in text[0..len), or len when there is none. */
static size_t find_arrow(const char *text, size_t len) {
    size_t i = 0;
    while (i + 1 < len && !(text[i] == '=' && text[i + 1] == '>'))
        i++;
    return i + 1 < len ? i : len;
}

/*
 * Checks that apdu[0..len) is one command APDU whose Lc matches its data
 * (ISO/IEC 7816-3 cases 1 to 4, short or extended); false with a message.
 */
static bool apdu_shape_ok(script_line *out, const uint8_t *a, size_t len) {
    size_t nc;
    if (len < 4) {
        bad(out, "an APDU has at least 4 bytes (CLA INS P1 P2): '%s'", out->text);
        return false;
    }
    if (len <= 5)
        return true; /* case 1, or case 2 with a short Le */
    if (a[4] != 0) {
        nc = a[4];
        if (len == 5 + nc || len == 6 + nc)
            return true;
        bad(out, "Lc is %02X (%zu bytes) but %zu bytes follow the header: '%s'", a[4], nc, len - 5,
            out->text);
        return false;
    }
    if (len == 7)
        return true; /* case 2 with an extended Le */
    nc = (size_t)a[5] << 8 | a[6];
    if (nc && (len == 7 + nc || len == 9 + nc))
        return true;
    bad(out, "extended Lc is %04zX (%zu bytes) but %zu bytes follow it: '%s'", nc, nc,
        len >= 7 ? len - 7 : 0, out->text);
    return false;
}

/* "=> SW" at text[arrow..len): the pattern into out->sw; the offset past it, or 0. */
static size_t parse_sw(script_line *out, char *text, size_t arrow, size_t len) {
    size_t pos = arrow + 2;
    while (pos < len && text[pos] == ' ')
        pos++;
    if (len - pos < 4 || !(len - pos == 4 || text[pos + 4] == ' ') || !sw_char_ok(text[pos]) ||
        !sw_char_ok(text[pos + 1]) || !sw_char_ok(text[pos + 2]) || !sw_char_ok(text[pos + 3])) {
        bad(out, "expected a status word after =>: '%s'", text + arrow + 2);
        return 0;
    }
    memcpy(out->sw, text + pos, 4);
    out->sw[4] = 0;
    out->check_sw = true;
    pos += 4;
    while (pos < len && text[pos] == ' ')
        pos++;
    return pos;
}

/* APDU [=> SW [DATA[*]]] in out->text[0..len). */
static void parse_apdu(script_line *out, size_t len) {
    char *text = out->text;
    size_t arrow = find_arrow(text, len), pos;
    if (arrow < len)
        text[arrow] = 0; /* the APDU's text alone, for messages */
    if (!hex(text, arrow, out->apdu, sizeof out->apdu, &out->apdu_len)) {
        bad(out, "not an APDU in hex: '%s'", text);
        return;
    }
    if (!apdu_shape_ok(out, out->apdu, out->apdu_len))
        return;
    out->kind = SCRIPT_APDU;
    if (arrow == len)
        return;
    pos = parse_sw(out, text, arrow, len);
    if (pos == 0 || pos == len)
        return;
    out->data_hex = text + pos;
    out->data_prefix = text[len - 1] == '*';
    if (!hex(text + pos, len - pos - (out->data_prefix ? 1 : 0), out->data, sizeof out->data,
             &out->data_len)) {
        bad(out, "expected data is not hex (at most %u bytes): '%s'", SCRIPT_DATA_MAX, text + pos);
        return;
    }
    out->check_data = true;
}

/* ---- directives ------------------------------------------------------------------------ */

/* What each directive takes: its name= arguments and its bare words. */
typedef struct {
    const char *name;
    script_directive which;
    const char *named;  /* "level kvn key": the name= arguments, space-separated */
    const char *flags;  /* bare words taken as they are ("hash", "related") */
    int positional;     /* how many other bare words (FILE, AID, HEX): 0 or 1 */
    bool positional_ok; /* the bare word may be missing (.install with package=) */
    bool expects;       /* "=> SW" allowed */
} directive_spec;

static const directive_spec specs[] = {
    {".scp03", DIRECTIVE_SCP03, "level kvn key", "", 0, true, true},
    {".putkey", DIRECTIVE_PUTKEY, "kvn new key", "", 0, true, true},
    {".load", DIRECTIVE_LOAD, "domain", "hash", 1, false, true},
    {".install", DIRECTIVE_INSTALL, "aid module package params privileges domain", "hash", 1, true,
     true},
    {".delete", DIRECTIVE_DELETE, "", "related", 1, false, true},
    {".upgrade", DIRECTIVE_UPGRADE, "old", "", 1, false, true},
    {".store-data", DIRECTIVE_STORE_DATA, "perso", "dgi tlv encrypt", 1, false, true},
    {".traffic", DIRECTIVE_TRAFFIC, "", "", 0, true, false},
    {".power", DIRECTIVE_POWER, "", "", 0, true, false},
};

#define SPEC_COUNT (sizeof specs / sizeof specs[0])

/* True when word[0..len) is one of the space-separated names in list. */
static bool listed(const char *list, const char *word, size_t len) {
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && !strncmp(p, word, len))
            return true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* What a directive takes, in words: "FILE, domain=, hash". */
static void describe(const directive_spec *s, char *buf, size_t size) {
    const char *lists[2] = {s->named, s->flags};
    size_t at = 0;
    buf[0] = 0;
    if (s->positional)
        at += (size_t)snprintf(buf, size, "%s",
                               s->which == DIRECTIVE_DELETE       ? "AID"
                               : s->which == DIRECTIVE_STORE_DATA ? "HEX"
                                                                  : "FILE");
    for (int l = 0; l < 2; l++) {
        for (const char *p = lists[l]; *p && at < size;) {
            int n = (int)strcspn(p, " ");
            at += (size_t)snprintf(buf + at, size - at, "%s%.*s%s", at ? ", " : "", n, p,
                                   l == 0 ? "=" : "");
            p += n;
            while (*p == ' ')
                p++;
        }
    }
    if (!at)
        snprintf(buf, size, "no arguments");
}

/* One hex byte into *out; false (with a message) otherwise. */
static bool byte_value(script_line *out, const char *what, const char *value, uint8_t *b) {
    size_t len = 0;
    if (!hex(value, strlen(value), b, 1, &len) || len != 1) {
        bad(out, "%s must be one hex byte: '%s'", what, value);
        return false;
    }
    return true;
}

static bool aid_value(script_line *out, const char *what, const char *value, seam_gp_aid *aid) {
    uint8_t b[SEAM_GP_AID_MAX];
    size_t len = 0;
    if (!hex(value, strlen(value), b, sizeof b, &len) || len < SEAM_GP_AID_MIN) {
        bad(out, "%s must be an AID of 5 to 16 bytes of hex: '%s'", what, value);
        return false;
    }
    seam_gp_aid_set(aid, b, len);
    return true;
}

static bool key_value(script_line *out, const char *what, const char *value, seam_gp_keys *keys) {
    uint8_t k[32];
    size_t len = 0;
    bool ok = hex(value, strlen(value), k, sizeof k, &len) && seam_gp_keys_set(keys, k, len) == 0;
    seam_secure_zero(k, sizeof k);
    if (!ok)
        bad(out, "%s must be 16, 24 or 32 bytes of hex", what);
    return ok;
}

/* Applies name=value to the directive's arguments; false (with a message) if refused. */
static bool named_value(script_line *out, const char *dir, const char *name, const char *value) {
    script_args *a = &out->args;
    char what[48];
    snprintf(what, sizeof what, "%s %s=", dir, name);
    if (!strcmp(name, "level")) {
        uint8_t l = 0;
        if (!byte_value(out, what, value, &l))
            return false;
        if (l != 0x00 && l != 0x01 && l != 0x03 && l != 0x11 && l != 0x13 && l != 0x33) {
            bad(out, "%s is one of 00 01 03 11 13 33: '%s'", what, value);
            return false;
        }
        a->level = l;
        return true;
    }
    if (!strcmp(name, "kvn") || !strcmp(name, "new")) {
        uint8_t v = 0;
        if (!byte_value(out, what, value, &v))
            return false;
        if (v > 0x7F) {
            bad(out, "%s is a key version 00 to 7F: '%s'", what, value);
            return false;
        }
        *(!strcmp(name, "kvn") ? &a->kvn : &a->new_kvn) = v;
        return true;
    }
    if (!strcmp(name, "key"))
        return key_value(out, what, value, &a->keys);
    if (!strcmp(name, "params")) {
        if (!hex(value, strlen(value), a->params, sizeof a->params, &a->params_len)) {
            bad(out, "%s must be hex of at most %u bytes: '%s'", what, SCRIPT_PARAMS_MAX, value);
            return false;
        }
        return true;
    }
    if (!strcmp(name, "privileges")) {
        if (!hex(value, strlen(value), a->privileges, 3, &a->privileges_len) ||
            a->privileges_len == 0 || a->privileges_len == 2) {
            bad(out, "%s is 1 or 3 bytes of hex: '%s'", what, value);
            return false;
        }
        return true;
    }
    seam_gp_aid *aid = !strcmp(name, "aid")       ? &a->aid
                       : !strcmp(name, "module")  ? &a->module
                       : !strcmp(name, "package") ? &a->package
                       : !strcmp(name, "domain")  ? &a->domain
                       : !strcmp(name, "old")     ? &a->old
                                                  : &a->perso;
    return aid_value(out, what, value, aid);
}

/* The bare word of a directive: FILE, AID or HEX. */
static bool positional_value(script_line *out, const directive_spec *s, char *word) {
    script_args *a = &out->args;
    if (s->which == DIRECTIVE_DELETE)
        return aid_value(out, ".delete AID", word, &a->aid);
    if (s->which == DIRECTIVE_STORE_DATA) {
        if (!hex(word, strlen(word), a->store, sizeof a->store, &a->store_len) || !a->store_len) {
            bad(out, ".store-data: the data must be hex of 1 to %u bytes: '%s'", SCRIPT_STORE_MAX,
                word);
            return false;
        }
        return true;
    }
    a->file = word;
    return true;
}

/* The rules between arguments, once all are read. */
static bool arguments_agree(script_line *out, const directive_spec *s, bool given_new,
                            int positional) {
    script_args *a = &out->args;
    if (positional < s->positional && !s->positional_ok) {
        bad(out, "%s needs %s", s->name,
            s->which == DIRECTIVE_DELETE       ? "an AID"
            : s->which == DIRECTIVE_STORE_DATA ? "the data (hex)"
                                               : "a package FILE");
        return false;
    }
    switch (s->which) {
    case DIRECTIVE_PUTKEY:
        if (!a->keys.len) {
            bad(out, "%s needs key=HEX (16, 24 or 32 bytes)", s->name);
            return false;
        }
        if (!given_new)
            a->new_kvn = a->kvn;
        if (a->new_kvn == 0) {
            bad(out, "%s kvn=00 adds a key set: give its version with new=NN (01 to 7F)", s->name);
            return false;
        }
        return true;
    case DIRECTIVE_INSTALL:
        if (!!a->file == !!a->package.len) {
            bad(out, ".install takes a package FILE, or package=AID of a package on the card "
                     "(with module=AID)");
            return false;
        }
        if (a->package.len && !a->module.len) {
            bad(out, ".install package= needs module=AID (the applet class to install)");
            return false;
        }
        if (a->package.len && (a->domain.len || a->hash)) {
            bad(out, ".install package= loads nothing: domain= and hash are for a FILE");
            return false;
        }
        return true;
    case DIRECTIVE_STORE_DATA:
        if ((a->store_p1 & 0x18) == 0x18) {
            bad(out, ".store-data takes one of dgi and tlv");
            return false;
        }
        return true;
    default:
        return true;
    }
}

/* .name [arguments] [=> SW] in out->text[0..len): words split at spaces and tabs. */
static void parse_directive(script_line *out, size_t len) {
    char *text = out->text;
    size_t arrow = find_arrow(text, len), pos = 0, end = arrow;
    const directive_spec *s = NULL;
    int positional = 0;
    bool given_new = false;
    if (arrow < len && parse_sw(out, text, arrow, len) != len) {
        if (out->kind != SCRIPT_BAD)
            bad(out, "a directive expects a status word only after =>: '%s'", text + arrow + 2);
        return;
    }
    while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    text[end] = 0;
    while (pos < end) {
        while (pos < end && (text[pos] == ' ' || text[pos] == '\t'))
            pos++;
        if (pos == end)
            break;
        if (out->word_count == SCRIPT_WORDS_MAX) {
            bad(out, "a directive has at most %d words", SCRIPT_WORDS_MAX);
            return;
        }
        out->words[out->word_count++] = text + pos;
        while (pos < end && text[pos] != ' ' && text[pos] != '\t')
            pos++;
        text[pos] = 0; /* text[end] is a terminator already: pos <= end */
        pos++;
    }
    for (size_t i = 0; i < SPEC_COUNT && !s; i++)
        if (!strcmp(out->words[0], specs[i].name))
            s = &specs[i];
    if (!s) {
        bad(out,
            "unknown directive '%s' (.scp03 .putkey .load .install .delete .upgrade "
            ".store-data .traffic .power)",
            out->words[0]);
        return;
    }
    memset(&out->args, 0, sizeof out->args);
    out->args.which = s->which;
    out->args.name = out->words[0];
    out->args.level = 0x01;
    if (s->which == DIRECTIVE_PUTKEY)
        out->args.kvn = 0x30;
    if (s->which == DIRECTIVE_SCP03)
        seam_gp_keys_default(&out->args.keys);
    if (out->check_sw && !s->expects) {
        bad(out, "%s has no status word to expect", s->name);
        return;
    }
    if (!out->check_sw) { /* a directive must succeed unless the line says otherwise */
        memcpy(out->sw, "9000", 5);
        out->check_sw = true;
    }
    unsigned seen = 0; /* bit i: the i-th name= of s->named was given */
    for (int i = 1; i < out->word_count; i++) {
        char *w = out->words[i], *eq = strchr(w, '=');
        if (eq && listed(s->named, w, (size_t)(eq - w))) {
            size_t n = (size_t)(eq - w);
            unsigned bit = 0;
            for (const char *p = s->named; strncmp(p, w, n) || (p[n] != ' ' && p[n]);
                 p += strcspn(p, " ") + 1)
                bit++;
            if (seen & (1u << bit)) {
                bad(out, "%s: %.*s= is given twice", s->name, (int)n, w);
                return;
            }
            seen |= 1u << bit;
            *eq = 0;
            given_new |= !strcmp(w, "new");
            bool ok = named_value(out, s->name, w, eq + 1);
            *eq = '=';
            if (!ok)
                return;
        } else if (!eq && listed(s->flags, w, strlen(w))) {
            script_args *a = &out->args;
            bool *flag = !strcmp(w, "hash") ? &a->hash : !strcmp(w, "related") ? &a->related : NULL;
            uint8_t bit = !strcmp(w, "dgi")   ? SEAM_GP_STORE_DGI
                          : !strcmp(w, "tlv") ? SEAM_GP_STORE_BER_TLV
                                              : SEAM_GP_STORE_ENCRYPTED;
            if (flag ? *flag : (a->store_p1 & bit) == bit) {
                bad(out, "%s: '%s' is given twice", s->name, w);
                return;
            }
            if (flag)
                *flag = true;
            else
                a->store_p1 |= bit;
        } else if (!eq && positional < s->positional) {
            if (!positional_value(out, s, w))
                return;
            positional++;
        } else {
            char takes[128];
            describe(s, takes, sizeof takes);
            bad(out, "%s does not take '%s' (%s)", s->name, w, takes);
            return;
        }
    }
    if (!arguments_agree(out, s, given_new, positional))
        return;
    out->kind = SCRIPT_DIRECTIVE;
}

void script_parse_line(const char *line, size_t len, script_line *out) {
    const char *hash = len ? memchr(line, '#', len) : NULL;
    size_t start = 0, end = hash ? (size_t)(hash - line) : len;
    out->kind = SCRIPT_BLANK;
    out->error[0] = 0;
    out->data_hex = NULL;
    out->apdu_len = out->data_len = 0;
    out->check_sw = out->check_data = out->data_prefix = false;
    out->sw[0] = 0;
    out->word_count = 0;
    out->text[0] = 0;
    while (start < end && is_space(line[start]))
        start++;
    while (end > start && is_space(line[end - 1]))
        end--;
    if (end - start > SCRIPT_LINE_MAX) {
        bad(out, "line longer than %d bytes", SCRIPT_LINE_MAX);
        return;
    }
    if (end == start)
        return;
    memcpy(out->text, line + start, end - start);
    out->text[end - start] = 0;
    if (out->text[0] == '.')
        parse_directive(out, end - start);
    else
        parse_apdu(out, end - start);
}
