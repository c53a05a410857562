/*
 * SyncML 1.2 decoder: XML (libxml2) or WBXML (wbxml_decode.c turns it into
 * XML first) into a seam_syncml_msg whose strings and arrays live in one pool
 * (libxml2's allocator), released by seam_syncml_msg_free.
 *
 * The parser runs with XML_PARSE_NONET and without DTD loading or entity
 * substitution; SAX hooks stop it at the first declaration of an internal DTD
 * subset (entities, elements, attributes, notations) or entity reference, so
 * neither XXE nor entity expansion ("billion laughs") can happen.
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "syncml_int.h"

/* ---- pool ---------------------------------------------------------------- */

struct syncml_pool {
    void **blocks;
    size_t n, cap;
};

static void *pool_alloc(syncml_pool *p, size_t size) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 32;
        void **blocks = xmlRealloc(p->blocks, cap * sizeof *blocks);
        if (!blocks)
            return NULL;
        p->blocks = blocks;
        p->cap = cap;
    }
    void *block = xmlMalloc(size ? size : 1);
    if (!block)
        return NULL;
    memset(block, 0, size ? size : 1);
    p->blocks[p->n++] = block;
    return block;
}

static void pool_free(syncml_pool *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        xmlFree(p->blocks[i]);
    xmlFree(p->blocks);
    xmlFree(p);
}

void seam_syncml_msg_free(seam_syncml_msg *msg) {
    if (!msg)
        return;
    pool_free(msg->pool);
    memset(msg, 0, sizeof *msg);
}

/* ---- walking ------------------------------------------------------------- */

typedef struct {
    syncml_pool *pool;
    size_t n_cmds, n_items;
    seam_err err;
} walker;

static bool fail(walker *w, seam_err err) {
    if (w->err == SEAM_OK)
        w->err = err;
    return false;
}

static bool is(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name);
}

static const xmlNode *child(const xmlNode *n, const char *name) {
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* The text of n (text and CDATA children) copied into the pool; NULL with w->err on failure. */
static const char *text_of(walker *w, const xmlNode *n, size_t max, bool *cdata) {
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_ENTITY_REF_NODE || c->type == XML_ENTITY_NODE) {
            fail(w, SEAM_ERR_SYNCML_DTD);
            return NULL;
        }
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            size_t piece = c->content ? strlen((const char *)c->content) : 0;
            if (piece > max || len > max - piece) {
                fail(w, SEAM_ERR_SYNCML_OVERSIZE);
                return NULL;
            }
            len += piece;
            if (cdata && c->type == XML_CDATA_SECTION_NODE)
                *cdata = true;
        } else if (c->type == XML_ELEMENT_NODE) {
            fail(w, SEAM_ERR_SYNCML_MALFORMED);
            return NULL;
        }
    }
    char *out = pool_alloc(w->pool, len + 1);
    if (!out) {
        fail(w, SEAM_ERR_NOMEM);
        return NULL;
    }
    size_t at = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t piece = strlen((const char *)c->content);
            memcpy(out + at, c->content, piece);
            at += piece;
        }
    }
    out[at] = '\0';
    return out;
}

/* The text of the child `name` of n, NULL when absent (check w->err). */
static const char *text_child(walker *w, const xmlNode *n, const char *name) {
    const xmlNode *c = child(n, name);
    return c ? text_of(w, c, SEAM_SYNCML_MAX_STRING, NULL) : NULL;
}

/* Target/LocURI or Source/LocURI under n. */
static const char *locuri(walker *w, const xmlNode *n, const char *which) {
    const xmlNode *c = child(n, which);
    return c ? text_child(w, c, "LocURI") : NULL;
}

static bool number(walker *w, const char *text, unsigned long max, unsigned long *out) {
    if (!text || !*text)
        return fail(w, SEAM_ERR_SYNCML_MALFORMED);
    unsigned long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (max - (unsigned long)(*p - '0')) / 10)
            return fail(w, SEAM_ERR_SYNCML_MALFORMED);
        v = v * 10 + (unsigned long)(*p - '0');
    }
    *out = v;
    return true;
}

static bool number_child(walker *w, const xmlNode *n, const char *name, bool required,
                         unsigned *out) {
    const char *text = text_child(w, n, name);
    if (w->err)
        return false;
    if (!text) {
        if (required)
            return fail(w, SEAM_ERR_SYNCML_MALFORMED);
        *out = 0;
        return true;
    }
    unsigned long v = 0;
    if (!number(w, text, 0xFFFFFFFFul, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

/* Data: text/CDATA, or an embedded document (DevInf) serialized as XML text. */
static const char *data_of(walker *w, const xmlNode *d, bool *cdata) {
    const xmlNode *element = NULL;
    for (const xmlNode *c = d->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            element = c;
    if (!element)
        return text_of(w, d, SEAM_SYNCML_MAX_DATA, cdata);
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) {
        fail(w, SEAM_ERR_NOMEM);
        return NULL;
    }
    int written = xmlNodeDump(buf, element->doc, (xmlNodePtr)element, 0, 0);
    const char *out = NULL;
    size_t len = written < 0 ? 0 : (size_t)xmlBufferLength(buf);
    if (written < 0)
        fail(w, SEAM_ERR_SYNCML_MALFORMED);
    else if (len > SEAM_SYNCML_MAX_DATA)
        fail(w, SEAM_ERR_SYNCML_OVERSIZE);
    else {
        char *copy = pool_alloc(w->pool, len + 1);
        if (!copy)
            fail(w, SEAM_ERR_NOMEM);
        else {
            memcpy(copy, xmlBufferContent(buf), len);
            out = copy;
        }
    }
    xmlBufferFree(buf);
    return out;
}

static void meta_of(walker *w, const xmlNode *meta, const char **type, seam_syncml_item *anchors) {
    if (!meta)
        return;
    if (type)
        *type = text_child(w, meta, "Type");
    const xmlNode *anchor = child(meta, "Anchor");
    if (anchor && anchors) {
        anchors->anchor_last = text_child(w, anchor, "Last");
        anchors->anchor_next = text_child(w, anchor, "Next");
    }
}

static bool items_of(walker *w, const xmlNode *n, const char *name, seam_syncml_cmd *cmd) {
    size_t count = 0;
    for (const xmlNode *c = n->children; c; c = c->next)
        if (is(c, name))
            count++;
    if (count > SEAM_SYNCML_MAX_ITEMS - w->n_items)
        return fail(w, SEAM_ERR_SYNCML_OVERSIZE);
    w->n_items += count;
    if (count == 0)
        return true;
    cmd->items = pool_alloc(w->pool, count * sizeof *cmd->items);
    if (!cmd->items)
        return fail(w, SEAM_ERR_NOMEM);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is(c, name))
            continue;
        seam_syncml_item *item = &cmd->items[cmd->n_items++];
        item->target = locuri(w, c, "Target");
        item->source = locuri(w, c, "Source");
        meta_of(w, child(c, "Meta"), &item->type, item);
        const xmlNode *d = child(c, "Data");
        if (d)
            item->data = data_of(w, d, &item->cdata);
        if (w->err)
            return false;
    }
    return true;
}

static bool command_of(walker *w, const xmlNode *n, seam_syncml_cmd *cmd, bool in_sync);

static const struct {
    const char *name;
    seam_syncml_cmd_kind kind;
} KINDS[] = {
    {"Status", SEAM_SYNCML_CMD_STATUS},   {"Alert", SEAM_SYNCML_CMD_ALERT},
    {"Sync", SEAM_SYNCML_CMD_SYNC},       {"Add", SEAM_SYNCML_CMD_ADD},
    {"Replace", SEAM_SYNCML_CMD_REPLACE}, {"Delete", SEAM_SYNCML_CMD_DELETE},
    {"Map", SEAM_SYNCML_CMD_MAP},         {"Put", SEAM_SYNCML_CMD_PUT},
    {"Get", SEAM_SYNCML_CMD_GET},         {"Results", SEAM_SYNCML_CMD_RESULTS},
};

static bool kind_of(const xmlNode *n, seam_syncml_cmd_kind *kind) {
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (is(n, KINDS[i].name)) {
            *kind = KINDS[i].kind;
            return true;
        }
    return false;
}

const char *syncml_cmd_name(seam_syncml_cmd_kind kind) {
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (KINDS[i].kind == kind)
            return KINDS[i].name;
    return "?";
}

/* The commands among n's children (SyncBody, or a Sync's operations). */
static bool commands_of(walker *w, const xmlNode *n, bool in_sync, seam_syncml_cmd **out,
                        size_t *n_out) {
    size_t count = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        seam_syncml_cmd_kind kind;
        if (c->type != XML_ELEMENT_NODE || is(c, "Final") || is(c, "Target") || is(c, "Source") ||
            is(c, "CmdID") || is(c, "Meta") || is(c, "NumberOfChanges") || is(c, "Cred") ||
            is(c, "NoResp"))
            continue;
        if (!kind_of(c, &kind))
            return fail(w, SEAM_ERR_UNSUPPORTED);
        count++;
    }
    if (count > SEAM_SYNCML_MAX_COMMANDS - w->n_cmds)
        return fail(w, SEAM_ERR_SYNCML_OVERSIZE);
    w->n_cmds += count;
    if (count == 0)
        return true;
    seam_syncml_cmd *cmds = pool_alloc(w->pool, count * sizeof *cmds);
    if (!cmds)
        return fail(w, SEAM_ERR_NOMEM);
    size_t i = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        seam_syncml_cmd_kind kind;
        if (c->type == XML_ELEMENT_NODE && kind_of(c, &kind)) {
            cmds[i].kind = kind;
            if (!command_of(w, c, &cmds[i], in_sync))
                return false;
            i++;
        }
    }
    *out = cmds;
    *n_out = count;
    return true;
}

static bool command_of(walker *w, const xmlNode *n, seam_syncml_cmd *cmd, bool in_sync) {
    bool op = cmd->kind == SEAM_SYNCML_CMD_ADD || cmd->kind == SEAM_SYNCML_CMD_REPLACE ||
              cmd->kind == SEAM_SYNCML_CMD_DELETE;
    if (op != in_sync)
        return fail(w, in_sync ? SEAM_ERR_SYNCML_MALFORMED : SEAM_ERR_UNSUPPORTED);
    if (!number_child(w, n, "CmdID", true, &cmd->cmd_id))
        return false;
    switch (cmd->kind) {
    case SEAM_SYNCML_CMD_STATUS: {
        if (!number_child(w, n, "MsgRef", true, &cmd->msg_ref) ||
            !number_child(w, n, "CmdRef", true, &cmd->cmd_ref) ||
            !number_child(w, n, "Data", true, &cmd->code))
            return false;
        cmd->cmd_name = text_child(w, n, "Cmd");
        cmd->target_ref = text_child(w, n, "TargetRef");
        cmd->source_ref = text_child(w, n, "SourceRef");
        const xmlNode *chal = child(child(n, "Chal"), "Meta");
        if (chal) {
            cmd->chal_type = text_child(w, chal, "Type");
            cmd->chal_nonce = text_child(w, chal, "NextNonce");
        }
        if (!cmd->cmd_name && !w->err)
            return fail(w, SEAM_ERR_SYNCML_MALFORMED);
        return items_of(w, n, "Item", cmd);
    }
    case SEAM_SYNCML_CMD_ALERT:
        return number_child(w, n, "Data", true, &cmd->code) && items_of(w, n, "Item", cmd);
    case SEAM_SYNCML_CMD_SYNC: {
        cmd->target = locuri(w, n, "Target");
        cmd->source = locuri(w, n, "Source");
        unsigned changes = 0;
        if (!number_child(w, n, "NumberOfChanges", false, &changes))
            return false;
        cmd->n_changes = changes;
        return commands_of(w, n, true, &cmd->ops, &cmd->n_ops);
    }
    case SEAM_SYNCML_CMD_MAP:
        cmd->target = locuri(w, n, "Target");
        cmd->source = locuri(w, n, "Source");
        return !w->err && items_of(w, n, "MapItem", cmd);
    default:
        if (cmd->kind == SEAM_SYNCML_CMD_RESULTS &&
            (!number_child(w, n, "MsgRef", false, &cmd->msg_ref) ||
             !number_child(w, n, "CmdRef", true, &cmd->cmd_ref)))
            return false;
        meta_of(w, child(n, "Meta"), &cmd->meta_type, NULL);
        return !w->err && items_of(w, n, "Item", cmd);
    }
}

static bool header_of(walker *w, const xmlNode *h, seam_syncml_hdr *hdr) {
    const char *dtd = text_child(w, h, "VerDTD");
    const char *proto = text_child(w, h, "VerProto");
    if (w->err)
        return false;
    if (!dtd || !proto || strcmp(dtd, "1.2") != 0 || strcmp(proto, "SyncML/1.2") != 0)
        return fail(w, SEAM_ERR_SYNCML_VERSION);
    hdr->session_id = text_child(w, h, "SessionID");
    if (!hdr->session_id && !w->err)
        return fail(w, SEAM_ERR_SYNCML_MALFORMED);
    if (!number_child(w, h, "MsgID", true, &hdr->msg_id))
        return false;
    hdr->target = locuri(w, h, "Target");
    hdr->source = locuri(w, h, "Source");
    hdr->resp_uri = text_child(w, h, "RespURI");
    const xmlNode *cred = child(h, "Cred");
    if (cred) {
        const char *type = NULL;
        meta_of(w, child(cred, "Meta"), &type, NULL);
        hdr->cred_data = text_child(w, cred, "Data");
        if (w->err)
            return false;
        if (type && strcmp(type, "syncml:auth-basic") == 0)
            hdr->cred_type = SEAM_SYNCML_AUTH_BASIC;
        else if (type && strcmp(type, "syncml:auth-md5") == 0)
            hdr->cred_type = SEAM_SYNCML_AUTH_MD5;
        else
            return fail(w, SEAM_ERR_SYNCML_MALFORMED);
        if (!hdr->cred_data)
            return fail(w, SEAM_ERR_SYNCML_MALFORMED);
    }
    const xmlNode *meta = child(h, "Meta");
    const char *max = meta ? text_child(w, meta, "MaxMsgSize") : NULL;
    if (max && !number(w, max, 0xFFFFFFFFul, &hdr->max_msg_size))
        return false;
    if (!hdr->target || !hdr->source)
        return fail(w, SEAM_ERR_SYNCML_MALFORMED);
    return !w->err;
}

/* ---- the parser ----------------------------------------------------------- */

typedef struct {
    bool refused;
} guard;

static void refuse(void *user) {
    xmlParserCtxtPtr ctxt = user;
    ((guard *)ctxt->_private)->refused = true;
    xmlStopParser(ctxt);
}

static void on_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                      const xmlChar *system_id, xmlChar *content) {
    (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
    refuse(ctx);
}

static void on_element(void *ctx, const xmlChar *name, int type, xmlElementContentPtr content) {
    (void)name, (void)type, (void)content;
    refuse(ctx);
}

static void on_attribute(void *ctx, const xmlChar *elem, const xmlChar *fullname, int type, int def,
                         const xmlChar *default_value, xmlEnumerationPtr tree) {
    (void)elem, (void)fullname, (void)type, (void)def, (void)default_value;
    xmlFreeEnumeration(tree);
    refuse(ctx);
}

static void on_notation(void *ctx, const xmlChar *name, const xmlChar *public_id,
                        const xmlChar *system_id) {
    (void)name, (void)public_id, (void)system_id;
    refuse(ctx);
}

static void on_unparsed(void *ctx, const xmlChar *name, const xmlChar *public_id,
                        const xmlChar *system_id, const xmlChar *notation) {
    (void)name, (void)public_id, (void)system_id, (void)notation;
    refuse(ctx);
}

static void on_reference(void *ctx, const xmlChar *name) {
    (void)name;
    refuse(ctx);
}

/* Parses XML in[0..len) with the guards above; *doc NULL on error. */
seam_err syncml_parse_xml(const uint8_t *in, size_t len, xmlDocPtr *doc) {
    *doc = NULL;
    if (len > SEAM_SYNCML_MAX_MESSAGE)
        return SEAM_ERR_SYNCML_OVERSIZE;
    if (len == 0)
        return SEAM_ERR_SYNCML_MALFORMED;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return SEAM_ERR_NOMEM;
    guard g = {false};
    ctxt->_private = &g;
    ctxt->sax->entityDecl = on_entity;
    ctxt->sax->elementDecl = on_element;
    ctxt->sax->attributeDecl = on_attribute;
    ctxt->sax->notationDecl = on_notation;
    ctxt->sax->unparsedEntityDecl = on_unparsed;
    ctxt->sax->reference = on_reference;
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDocPtr parsed = xmlCtxtReadMemory(ctxt, (const char *)in, (int)len, NULL, NULL, options);
    bool well_formed = ctxt->wellFormed != 0;
    xmlFreeParserCtxt(ctxt);
    if (g.refused) {
        xmlFreeDoc(parsed);
        return SEAM_ERR_SYNCML_DTD;
    }
    if (!parsed || !well_formed) {
        xmlFreeDoc(parsed);
        return SEAM_ERR_SYNCML_MALFORMED;
    }
    if (parsed->intSubset && parsed->intSubset->children) {
        xmlFreeDoc(parsed);
        return SEAM_ERR_SYNCML_DTD;
    }
    *doc = parsed;
    return SEAM_OK;
}

seam_err seam_syncml_decode(const uint8_t *in, size_t len, seam_syncml_format format,
                            seam_syncml_msg *out) {
    if (!in || !out)
        return SEAM_ERR_ARG;
    if (len > SEAM_SYNCML_MAX_MESSAGE)
        return SEAM_ERR_SYNCML_OVERSIZE;
    xmlDocPtr doc = NULL;
    seam_err err;
    if (format == SEAM_SYNCML_WBXML) {
        uint8_t *xml = NULL;
        size_t xml_len = 0;
        err = syncml_wbxml_to_xml(in, len, &xml, &xml_len);
        if (err)
            return err;
        err = syncml_parse_xml(xml, xml_len, &doc);
        free(xml);
    } else {
        err = syncml_parse_xml(in, len, &doc);
    }
    if (err)
        return err;
    walker w = {.pool = xmlMalloc(sizeof(syncml_pool)), .err = SEAM_OK};
    if (!w.pool) {
        xmlFreeDoc(doc);
        return SEAM_ERR_NOMEM;
    }
    memset(w.pool, 0, sizeof *w.pool);
    seam_syncml_msg msg = {.pool = w.pool};
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *hdr = child(root, "SyncHdr");
    const xmlNode *body = child(root, "SyncBody");
    if (!root || !is(root, "SyncML") || !hdr || !body)
        fail(&w, SEAM_ERR_SYNCML_MALFORMED);
    else if (header_of(&w, hdr, &msg.hdr) && commands_of(&w, body, false, &msg.cmds, &msg.n_cmds))
        msg.final = child(body, "Final") != NULL;
    xmlFreeDoc(doc);
    if (w.err) {
        pool_free(w.pool);
        return w.err;
    }
    *out = msg;
    return SEAM_OK;
}
