/*
 * seam's own WBXML decoder (docs/sync.md "OMA DS"): WBXML 1.2/1.3 (the token
 * grammar of WAP-192) with the SyncML 1.2 code pages (page 0 SyncML, page 1
 * MetInf) and DevInf 1.2 (its own public id, carried as OPAQUE inside Data),
 * written out as the XML text the decoder's guarded parser then reads. The
 * body is hostile (seam server takes it before authentication), so every
 * length is checked against what is left of the input, nesting is bounded
 * (MAX_DEPTH) and so is the text written (SEAM_SYNCML_MAX_MESSAGE). Anything
 * SyncML does not use (attributes, LITERAL, EXT, PI, other charsets, other
 * public ids) is refused.
 *
 * States of one document: header (version, public id, charset, string
 * table) -> before the root element -> inside elements (depth >= 1) -> after
 * the root's END (only the end of input may follow). A SWITCH_PAGE may come
 * before any tag.
 */
#include <string.h>

#include "syncml_int.h"

#define MAX_DEPTH 32 /* elements open at once, an embedded DevInf included */

enum {
    TOK_SWITCH_PAGE = 0x00,
    TOK_END = 0x01,
    TOK_ENTITY = 0x02,
    TOK_STR_I = 0x03,
    TOK_STR_T = 0x83,
    TOK_OPAQUE = 0xC3,
    TAG_CONTENT = 0x40,
    TAG_ATTRIBUTES = 0x80,
    TAG_ID = 0x3F,
    CHARSET_UTF8 = 106, /* IANA MIBenum */
};

/* ---- the code pages (OMA SyncML RepPro 1.2, MetaInfo 1.2, DevInf 1.2) ---------------------- */

/* SyncML RepPro 1.2, page 0 (SyncML). */
static const char *const syncml_tags[0x40] = {
    [0x05] = "Add",
    [0x06] = "Alert",
    [0x07] = "Archive",
    [0x08] = "Atomic",
    [0x09] = "Chal",
    [0x0A] = "Cmd",
    [0x0B] = "CmdID",
    [0x0C] = "CmdRef",
    [0x0D] = "Copy",
    [0x0E] = "Cred",
    [0x0F] = "Data",
    [0x10] = "Delete",
    [0x11] = "Exec",
    [0x12] = "Final",
    [0x13] = "Get",
    [0x14] = "Item",
    [0x15] = "Lang",
    [0x16] = "LocName",
    [0x17] = "LocURI",
    [0x18] = "Map",
    [0x19] = "MapItem",
    [0x1A] = "Meta",
    [0x1B] = "MsgID",
    [0x1C] = "MsgRef",
    [0x1D] = "NoResp",
    [0x1E] = "NoResults",
    [0x1F] = "Put",
    [0x20] = "Replace",
    [0x21] = "RespURI",
    [0x22] = "Results",
    [0x23] = "Search",
    [0x24] = "Sequence",
    [0x25] = "SessionID",
    [0x26] = "SftDel",
    [0x27] = "Source",
    [0x28] = "SourceRef",
    [0x29] = "Status",
    [0x2A] = "Sync",
    [0x2B] = "SyncBody",
    [0x2C] = "SyncHdr",
    [0x2D] = "SyncML",
    [0x2E] = "Target",
    [0x2F] = "TargetRef",
    [0x30] = "Reserved",
    [0x31] = "VerDTD",
    [0x32] = "VerProto",
    [0x33] = "NumberOfChanges",
    [0x34] = "MoreData",
    [0x35] = "Field",
    [0x36] = "Filter",
    [0x37] = "Record",
    [0x38] = "FilterType",
    [0x39] = "SourceParent",
    [0x3A] = "TargetParent",
    [0x3B] = "Move",
    [0x3C] = "Correlator",
};

/* MetaInfo 1.2, page 1 of SyncML (MetInf). */
static const char *const metinf_tags[0x40] = {
    [0x05] = "Anchor",     [0x06] = "EMI",        [0x07] = "Format", [0x08] = "FreeID",
    [0x09] = "FreeMem",    [0x0A] = "Last",       [0x0B] = "Mark",   [0x0C] = "MaxMsgSize",
    [0x0D] = "Mem",        [0x0E] = "MetInf",     [0x0F] = "Next",   [0x10] = "NextNonce",
    [0x11] = "SharedMem",  [0x12] = "Size",       [0x13] = "Type",   [0x14] = "Version",
    [0x15] = "MaxObjSize", [0x16] = "FieldLevel",
};

/* DevInf 1.2, page 0. */
static const char *const devinf_tags[0x40] = {
    [0x05] = "CTCap",
    [0x06] = "CTType",
    [0x07] = "DataStore",
    [0x08] = "DataType",
    [0x09] = "DevID",
    [0x0A] = "DevInf",
    [0x0B] = "DevTyp",
    [0x0C] = "DisplayName",
    [0x0D] = "DSMem",
    [0x0E] = "Ext",
    [0x0F] = "FwV",
    [0x10] = "HwV",
    [0x11] = "Man",
    [0x12] = "MaxGUIDSize",
    [0x13] = "MaxID",
    [0x14] = "MaxMem",
    [0x15] = "Mod",
    [0x16] = "OEM",
    [0x17] = "ParamName",
    [0x18] = "PropName",
    [0x19] = "Rx",
    [0x1A] = "Rx-Pref",
    [0x1B] = "SharedMem",
    [0x1C] = "MaxSize",
    [0x1D] = "SourceRef",
    [0x1E] = "SwV",
    [0x1F] = "SyncCap",
    [0x20] = "SyncType",
    [0x21] = "Tx",
    [0x22] = "Tx-Pref",
    [0x23] = "ValEnum",
    [0x24] = "VerCT",
    [0x25] = "VerDTD",
    [0x26] = "XNam",
    [0x27] = "XVal",
    [0x28] = "UTC",
    [0x29] = "SupportNumberOfChanges",
    [0x2A] = "SupportLargeObjs",
    [0x2B] = "Property",
    [0x2C] = "PropParam",
    [0x2D] = "MaxOccur",
    [0x2E] = "NoTruncate",
    [0x30] = "Filter-Rx",
    [0x31] = "FilterCap",
    [0x32] = "FilterKeyword",
    [0x33] = "FieldLevel",
    [0x34] = "SupportHierarchicalSync",
};

typedef struct {
    const char *const *tags; /* by token; NULL: no such tag */
    const char *ns;
} code_page;

typedef struct {
    uint32_t public_id;
    const char *fpi; /* the formal public identifier, for a public id given in the string table */
    uint8_t root;    /* the token of the root element on page 0 */
    const code_page *pages;
    size_t n_pages;
} language;

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

static const code_page syncml_pages[] = {
    {syncml_tags, "SYNCML:SYNCML1.2"},
    {metinf_tags, "syncml:metinf"},
};
static const code_page devinf_pages[] = {{devinf_tags, "syncml:devinf"}};

static const language syncml12 = {0x1201, "-//SYNCML//DTD SyncML 1.2//EN", 0x2D, syncml_pages,
                                  COUNT(syncml_pages)};
static const language devinf12 = {0x1203, "-//SYNCML//DTD DevInf 1.2//EN", 0x0A, devinf_pages,
                                  COUNT(devinf_pages)};

#define SYNCML_DATA 0x0F /* page 0 */
#define METINF_PAGE 1
#define METINF_TYPE 0x13 /* page 1 */

/* The libwbxml2 encoder writes a DevInf Type as "+wbxml" (the DevInf goes as WBXML); the decoder
   writes the DevInf as XML again, so its Type says so. */
static const char devinf_wbxml_type[] = "application/vnd.syncml-devinf+wbxml";
static const char devinf_xml_type[] = "application/vnd.syncml-devinf+xml";

/* ---- output ---------------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    seam_err err;
} sink;

static bool put(sink *s, const void *bytes, size_t n) {
    if (s->err)
        return false;
    if (n > SEAM_SYNCML_MAX_MESSAGE - s->len) {
        s->err = SEAM_ERR_SYNCML_OVERSIZE;
        return false;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown) {
            s->err = SEAM_ERR_NOMEM;
            return false;
        }
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
    return true;
}

static bool put_str(sink *s, const char *text) {
    return put(s, text, strlen(text));
}

/* Text content with markup characters escaped. A CR stays raw, so the XML parser folds CR LF
   into LF as XML does: libwbxml2's encoder writes every LF as CR LF, and a kept CR would grow by
   one at each round trip. */
static bool put_text(sink *s, const uint8_t *text, size_t n) {
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ref = text[i] == '&'   ? "&amp;"
                          : text[i] == '<' ? "&lt;"
                          : text[i] == '>' ? "&gt;"
                                           : NULL;
        if (!ref)
            continue;
        if (!put(s, text + from, i - from) || !put_str(s, ref))
            return false;
        from = i + 1;
    }
    return put(s, text + from, n - from);
}

static bool contains(const uint8_t *bytes, size_t n, const char *what) {
    size_t k = strlen(what);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(bytes + i, what, k) == 0)
            return true;
    return false;
}

/* ---- input ----------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *in;
    size_t len, at;
    const uint8_t *strtbl;
    size_t strtbl_len;
    const language *lang;
} document;

static bool byte_of(document *d, uint8_t *b) {
    if (d->at >= d->len)
        return false;
    *b = d->in[d->at++];
    return true;
}

/* mb_u_int32: 7 bits a byte, high bit = more; at most 5 bytes and 32 bits. */
static bool mb_u_int32(document *d, uint32_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b;
        if (!byte_of(d, &b))
            return false;
        v = (v << 7) | (b & 0x7Fu);
        if (!(b & 0x80u)) {
            if (v > UINT32_MAX)
                return false;
            *out = (uint32_t)v;
            return true;
        }
    }
    return false;
}

/* The NUL-terminated string at in[at..len): its length, false when no NUL ends it. */
static bool terminated(const uint8_t *in, size_t len, size_t at, size_t *n) {
    const uint8_t *nul = at < len ? memchr(in + at, 0, len - at) : NULL;
    if (!nul)
        return false;
    *n = (size_t)(nul - (in + at));
    return true;
}

/* Version, public id, charset and string table; d->lang is the language named, NULL for one
   this decoder does not know. */
static seam_err read_header(document *d) {
    uint8_t version;
    uint32_t public_id, fpi_index = 0, charset, strtbl_len;
    if (!byte_of(d, &version) || (version != 0x02 && version != 0x03) ||
        !mb_u_int32(d, &public_id) || (public_id == 0 && !mb_u_int32(d, &fpi_index)) ||
        !mb_u_int32(d, &charset) || !mb_u_int32(d, &strtbl_len) || strtbl_len > d->len - d->at)
        return SEAM_ERR_SYNCML_WBXML;
    if (charset != CHARSET_UTF8)
        return SEAM_ERR_SYNCML_WBXML;
    d->strtbl = d->in + d->at;
    d->strtbl_len = strtbl_len;
    d->at += strtbl_len;
    static const language *const known[] = {&syncml12, &devinf12};
    size_t fpi_len = 0;
    if (public_id == 0 && !terminated(d->strtbl, d->strtbl_len, fpi_index, &fpi_len))
        return SEAM_ERR_SYNCML_WBXML;
    d->lang = NULL;
    for (size_t i = 0; i < COUNT(known); i++) {
        if (public_id ? public_id == known[i]->public_id
                      : fpi_len == strlen(known[i]->fpi) &&
                            memcmp(d->strtbl + fpi_index, known[i]->fpi, fpi_len) == 0)
            d->lang = known[i];
    }
    return SEAM_OK;
}

/* ---- the body -------------------------------------------------------------------------------- */

typedef struct {
    uint8_t page, token;
} open_element;

static seam_err decode_document(sink *s, const uint8_t *in, size_t len, const language *want,
                                unsigned depth_before);

static seam_err put_string(sink *s, const document *d, const open_element *top, const uint8_t *text,
                           size_t n) {
    if (d->lang == &syncml12 && top->page == METINF_PAGE && top->token == METINF_TYPE &&
        n == strlen(devinf_wbxml_type) && memcmp(text, devinf_wbxml_type, n) == 0)
        return put_str(s, devinf_xml_type) ? SEAM_OK : s->err;
    return put_text(s, text, n) ? SEAM_OK : s->err;
}

/* OPAQUE: inside a SyncML Data, a whole DevInf document is decoded in place; otherwise the bytes
   are character data (CDATA, or escaped text when they hold "]]>"; nothing when empty). */
static seam_err put_opaque(sink *s, const document *d, const open_element *top,
                           const uint8_t *bytes, size_t n, unsigned depth) {
    if (d->lang == &syncml12 && top->page == 0 && top->token == SYNCML_DATA) {
        document inner = {.in = bytes, .len = n};
        if (read_header(&inner) == SEAM_OK && inner.lang == &devinf12)
            return decode_document(s, bytes, n, &devinf12, depth);
    }
    if (n == 0)
        return SEAM_OK; /* no CDATA section: an empty one would not survive libwbxml2's encoder */
    if (contains(bytes, n, "]]>"))
        return put_text(s, bytes, n) ? SEAM_OK : s->err;
    put_str(s, "<![CDATA[");
    put(s, bytes, n);
    put_str(s, "]]>");
    return s->err;
}

static seam_err put_entity(sink *s, uint32_t code) {
    if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return SEAM_ERR_SYNCML_WBXML;
    char ref[16];
    static const char hex[] = "0123456789ABCDEF";
    size_t at = sizeof ref;
    ref[--at] = ';';
    do {
        ref[--at] = hex[code & 0xF];
        code >>= 4;
    } while (code);
    ref[--at] = 'x';
    ref[--at] = '#';
    ref[--at] = '&';
    return put(s, ref + at, sizeof ref - at) ? SEAM_OK : s->err;
}

/* A start tag; *content tells whether the element has content (an END closes it). */
static seam_err put_tag(sink *s, const document *d, uint8_t page, uint8_t tok,
                        const open_element *parent, bool *content) {
    uint8_t id = tok & TAG_ID;
    const code_page *cp = &d->lang->pages[page];
    if ((tok & TAG_ATTRIBUTES) || !cp->tags[id])
        return SEAM_ERR_SYNCML_WBXML;
    if (!parent && (page != 0 || id != d->lang->root))
        return SEAM_ERR_SYNCML_WBXML;
    put_str(s, "<");
    put_str(s, cp->tags[id]);
    if (!parent || parent->page != page) {
        put_str(s, " xmlns=\"");
        put_str(s, cp->ns);
        put_str(s, "\"");
    }
    *content = (tok & TAG_CONTENT) != 0;
    put_str(s, *content ? ">" : "/>");
    return s->err;
}

/* One document in[0..len) of language want, its elements nested depth_before deep. */
static seam_err decode_document(sink *s, const uint8_t *in, size_t len, const language *want,
                                unsigned depth_before) {
    document d = {.in = in, .len = len};
    seam_err err = read_header(&d);
    if (err)
        return err;
    if (d.lang != want)
        return SEAM_ERR_SYNCML_WBXML;
    open_element stack[MAX_DEPTH];
    unsigned depth = 0;
    uint8_t page = 0;
    bool done = false;
    while (!done && !err) {
        uint8_t tok;
        if (!byte_of(&d, &tok))
            return SEAM_ERR_SYNCML_WBXML; /* the root is not closed */
        const open_element *top = depth ? &stack[depth - 1] : NULL;
        uint32_t v;
        size_t n;
        if (tok == TOK_SWITCH_PAGE) {
            if (!byte_of(&d, &page) || page >= d.lang->n_pages)
                return SEAM_ERR_SYNCML_WBXML;
        } else if (tok == TOK_END) {
            if (!top)
                return SEAM_ERR_SYNCML_WBXML;
            const code_page *cp = &d.lang->pages[top->page];
            put_str(s, "</");
            put_str(s, cp->tags[top->token]);
            put_str(s, ">");
            err = s->err;
            done = --depth == 0;
        } else if (!top && (tok == TOK_ENTITY || tok == TOK_STR_I || tok == TOK_STR_T ||
                            tok == TOK_OPAQUE)) {
            return SEAM_ERR_SYNCML_WBXML; /* content outside the root */
        } else if (tok == TOK_ENTITY) {
            if (!mb_u_int32(&d, &v))
                return SEAM_ERR_SYNCML_WBXML;
            err = put_entity(s, v);
        } else if (tok == TOK_STR_I) {
            if (!terminated(d.in, d.len, d.at, &n))
                return SEAM_ERR_SYNCML_WBXML;
            err = put_string(s, &d, top, d.in + d.at, n);
            d.at += n + 1;
        } else if (tok == TOK_STR_T) {
            if (!mb_u_int32(&d, &v) || !terminated(d.strtbl, d.strtbl_len, v, &n))
                return SEAM_ERR_SYNCML_WBXML;
            err = put_string(s, &d, top, d.strtbl + v, n);
        } else if (tok == TOK_OPAQUE) {
            if (!mb_u_int32(&d, &v) || v > d.len - d.at)
                return SEAM_ERR_SYNCML_WBXML;
            err = put_opaque(s, &d, top, d.in + d.at, v, depth_before + depth);
            d.at += v;
        } else {
            bool content = false;
            if (depth_before + depth >= MAX_DEPTH)
                return SEAM_ERR_SYNCML_WBXML;
            err = put_tag(s, &d, page, tok, top, &content);
            if (content)
                stack[depth++] = (open_element){page, (uint8_t)(tok & TAG_ID)};
            else
                done = depth == 0;
        }
    }
    if (!err && d.at != d.len)
        err = SEAM_ERR_SYNCML_WBXML; /* bytes after the root */
    return err;
}

seam_err syncml_wbxml_to_xml(const uint8_t *in, size_t len, uint8_t **xml, size_t *xml_len) {
    if (len > SEAM_SYNCML_MAX_MESSAGE)
        return SEAM_ERR_SYNCML_OVERSIZE;
    sink s = {.err = SEAM_OK};
    seam_err err = decode_document(&s, in, len, &syncml12, 0);
    if (err) {
        free(s.buf);
        return err;
    }
    *xml = (uint8_t *)s.buf;
    *xml_len = s.len;
    return SEAM_OK;
}
