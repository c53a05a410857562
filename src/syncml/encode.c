/*
 * SyncML 1.2 encoder: a seam_syncml_msg into XML (libxml2's tree and
 * serializer) or WBXML (the XML through libwbxml2). Meta children carry
 * xmlns='syncml:metinf' (cat_sync.md B.1); Data with an embedded document
 * (DevInf) is parsed with the decoder's guards and inserted as elements.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "syncml_int.h"

#define NS_SYNCML   "SYNCML:SYNCML1.2"
#define NS_METINF   "syncml:metinf"
#define DEVINF_TYPE "application/vnd.syncml-devinf+xml"

typedef struct {
    seam_err err;
    size_t n_cmds, n_items;
} builder;

static bool oversize(const char *s, size_t max) {
    return s && strnlen(s, max + 1) > max;
}

static xmlNodePtr add(builder *b, xmlNodePtr parent, const char *name, const char *text) {
    if (b->err)
        return NULL;
    if (oversize(text, SEAM_SYNCML_MAX_STRING)) {
        b->err = SEAM_ERR_SYNCML_OVERSIZE;
        return NULL;
    }
    xmlNodePtr n = xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
    if (!n)
        b->err = SEAM_ERR_NOMEM;
    return n;
}

static void add_number(builder *b, xmlNodePtr parent, const char *name, unsigned long v) {
    char text[24];
    snprintf(text, sizeof text, "%lu", v);
    add(b, parent, name, text);
}

/* A Meta child in the metinf namespace. */
static xmlNodePtr add_meta(builder *b, xmlNodePtr meta, const char *name, const char *text) {
    xmlNodePtr n = add(b, meta, name, text);
    if (n) {
        xmlNsPtr ns = xmlNewNs(n, (const xmlChar *)NS_METINF, NULL);
        if (!ns)
            b->err = SEAM_ERR_NOMEM;
        xmlSetNs(n, ns);
    }
    return n;
}

static void add_locuri(builder *b, xmlNodePtr parent, const char *which, const char *uri) {
    if (uri)
        add(b, add(b, parent, which, NULL), "LocURI", uri);
}

static void add_data(builder *b, xmlNodePtr parent, const seam_syncml_item *item) {
    if (oversize(item->data, SEAM_SYNCML_MAX_DATA)) {
        b->err = SEAM_ERR_SYNCML_OVERSIZE;
        return;
    }
    if (item->type && strcmp(item->type, DEVINF_TYPE) == 0 && item->data[0] == '<') {
        xmlDocPtr doc = NULL;
        b->err = syncml_parse_xml((const uint8_t *)item->data, strlen(item->data), &doc);
        if (b->err)
            return;
        xmlNodePtr data = add(b, parent, "Data", NULL);
        xmlNodePtr copy = data ? xmlDocCopyNode(xmlDocGetRootElement(doc), data->doc, 1) : NULL;
        if (data && (!copy || !xmlAddChild(data, copy))) {
            xmlFreeNode(copy);
            b->err = SEAM_ERR_NOMEM;
        }
        xmlFreeDoc(doc);
        return;
    }
    if (!item->cdata) {
        xmlNodePtr n =
            xmlNewTextChild(parent, NULL, (const xmlChar *)"Data", (const xmlChar *)item->data);
        if (!n)
            b->err = SEAM_ERR_NOMEM;
        return;
    }
    /* CDATA cannot hold "]]>": such data goes as escaped text. */
    xmlNodePtr data = add(b, parent, "Data", NULL);
    if (!data)
        return;
    if (strstr(item->data, "]]>")) {
        xmlNodeAddContent(data, (const xmlChar *)item->data);
        return;
    }
    xmlNodePtr cdata =
        xmlNewCDataBlock(data->doc, (const xmlChar *)item->data, (int)strlen(item->data));
    if (!cdata || !xmlAddChild(data, cdata)) {
        xmlFreeNode(cdata);
        b->err = SEAM_ERR_NOMEM;
    }
}

static void add_items(builder *b, xmlNodePtr parent, const seam_syncml_cmd *cmd) {
    bool map = cmd->kind == SEAM_SYNCML_CMD_MAP;
    if (cmd->n_items > SEAM_SYNCML_MAX_ITEMS - b->n_items) {
        b->err = SEAM_ERR_SYNCML_OVERSIZE;
        return;
    }
    b->n_items += cmd->n_items;
    for (size_t i = 0; i < cmd->n_items && !b->err; i++) {
        const seam_syncml_item *item = &cmd->items[i];
        xmlNodePtr n = add(b, parent, map ? "MapItem" : "Item", NULL);
        add_locuri(b, n, "Target", item->target);
        add_locuri(b, n, "Source", item->source);
        if (item->type || item->anchor_last || item->anchor_next) {
            xmlNodePtr meta = add(b, n, "Meta", NULL);
            if (item->type)
                add_meta(b, meta, "Type", item->type);
            if (item->anchor_last || item->anchor_next) {
                xmlNodePtr anchor = add_meta(b, meta, "Anchor", NULL);
                if (item->anchor_last)
                    add(b, anchor, "Last", item->anchor_last);
                if (item->anchor_next)
                    add(b, anchor, "Next", item->anchor_next);
            }
        }
        if (item->data && !b->err)
            add_data(b, n, item);
    }
}

static void add_commands(builder *b, xmlNodePtr parent, const seam_syncml_cmd *cmds, size_t n);

static void add_command(builder *b, xmlNodePtr parent, const seam_syncml_cmd *cmd) {
    xmlNodePtr n = add(b, parent, syncml_cmd_name(cmd->kind), NULL);
    add_number(b, n, "CmdID", cmd->cmd_id);
    switch (cmd->kind) {
    case SEAM_SYNCML_CMD_STATUS:
        add_number(b, n, "MsgRef", cmd->msg_ref);
        add_number(b, n, "CmdRef", cmd->cmd_ref);
        add(b, n, "Cmd", cmd->cmd_name ? cmd->cmd_name : "");
        if (cmd->target_ref)
            add(b, n, "TargetRef", cmd->target_ref);
        if (cmd->source_ref)
            add(b, n, "SourceRef", cmd->source_ref);
        if (cmd->chal_type) {
            xmlNodePtr meta = add(b, add(b, n, "Chal", NULL), "Meta", NULL);
            add_meta(b, meta, "Type", cmd->chal_type);
            add_meta(b, meta, "Format", "b64");
            if (cmd->chal_nonce)
                add_meta(b, meta, "NextNonce", cmd->chal_nonce);
        }
        add_number(b, n, "Data", cmd->code);
        add_items(b, n, cmd);
        break;
    case SEAM_SYNCML_CMD_ALERT:
        add_number(b, n, "Data", cmd->code);
        add_items(b, n, cmd);
        break;
    case SEAM_SYNCML_CMD_SYNC:
        add_locuri(b, n, "Target", cmd->target);
        add_locuri(b, n, "Source", cmd->source);
        if (cmd->n_changes)
            add_number(b, n, "NumberOfChanges", cmd->n_changes);
        add_commands(b, n, cmd->ops, cmd->n_ops);
        break;
    case SEAM_SYNCML_CMD_MAP:
        add_locuri(b, n, "Target", cmd->target);
        add_locuri(b, n, "Source", cmd->source);
        add_items(b, n, cmd);
        break;
    default:
        if (cmd->kind == SEAM_SYNCML_CMD_RESULTS) {
            add_number(b, n, "MsgRef", cmd->msg_ref);
            add_number(b, n, "CmdRef", cmd->cmd_ref);
        }
        if (cmd->meta_type)
            add_meta(b, add(b, n, "Meta", NULL), "Type", cmd->meta_type);
        add_items(b, n, cmd);
        break;
    }
}

static void add_commands(builder *b, xmlNodePtr parent, const seam_syncml_cmd *cmds, size_t n) {
    if (n > SEAM_SYNCML_MAX_COMMANDS - b->n_cmds) {
        b->err = SEAM_ERR_SYNCML_OVERSIZE;
        return;
    }
    b->n_cmds += n;
    for (size_t i = 0; i < n && !b->err; i++)
        add_command(b, parent, &cmds[i]);
}

static void add_header(builder *b, xmlNodePtr root, const seam_syncml_hdr *h) {
    xmlNodePtr hdr = add(b, root, "SyncHdr", NULL);
    add(b, hdr, "VerDTD", "1.2");
    add(b, hdr, "VerProto", "SyncML/1.2");
    add(b, hdr, "SessionID", h->session_id ? h->session_id : "1");
    add_number(b, hdr, "MsgID", h->msg_id);
    add_locuri(b, hdr, "Target", h->target ? h->target : "");
    add_locuri(b, hdr, "Source", h->source ? h->source : "");
    if (h->resp_uri)
        add(b, hdr, "RespURI", h->resp_uri);
    if (h->cred_type != SEAM_SYNCML_AUTH_NONE) {
        xmlNodePtr cred = add(b, hdr, "Cred", NULL);
        xmlNodePtr meta = add(b, cred, "Meta", NULL);
        add_meta(b, meta, "Format", "b64");
        add_meta(b, meta, "Type",
                 h->cred_type == SEAM_SYNCML_AUTH_MD5 ? "syncml:auth-md5" : "syncml:auth-basic");
        add(b, cred, "Data", h->cred_data ? h->cred_data : "");
    }
    if (h->max_msg_size) {
        char text[24];
        snprintf(text, sizeof text, "%lu", h->max_msg_size);
        add_meta(b, add(b, hdr, "Meta", NULL), "MaxMsgSize", text);
    }
}

seam_err seam_syncml_encode(const seam_syncml_msg *msg, seam_syncml_format format, size_t max_bytes,
                            uint8_t **out, size_t *out_len) {
    if (!msg || !out || !out_len)
        return SEAM_ERR_ARG;
    if (max_bytes == 0 || max_bytes > SEAM_SYNCML_MAX_MESSAGE)
        max_bytes = SEAM_SYNCML_MAX_MESSAGE;
    builder b = {SEAM_OK, 0, 0};
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = doc ? xmlNewNode(NULL, (const xmlChar *)"SyncML") : NULL;
    if (!root) {
        xmlFreeDoc(doc);
        return SEAM_ERR_NOMEM;
    }
    xmlDocSetRootElement(doc, root);
    xmlSetNs(root, xmlNewNs(root, (const xmlChar *)NS_SYNCML, NULL));
    add_header(&b, root, &msg->hdr);
    xmlNodePtr body = add(&b, root, "SyncBody", NULL);
    add_commands(&b, body, msg->cmds, msg->n_cmds);
    if (msg->final)
        add(&b, body, "Final", NULL);
    xmlChar *xml = NULL;
    int xml_len = 0;
    if (!b.err) {
        xmlDocDumpMemoryEnc(doc, &xml, &xml_len, "UTF-8");
        if (!xml)
            b.err = SEAM_ERR_NOMEM;
    }
    xmlFreeDoc(doc);
    if (b.err)
        return b.err;
    if (format == SEAM_SYNCML_WBXML) {
        uint8_t *wbxml = NULL;
        size_t wbxml_len = 0;
        seam_err err = syncml_xml_to_wbxml(xml, (size_t)xml_len, &wbxml, &wbxml_len);
        xmlFree(xml);
        if (err)
            return err;
        xml = wbxml;
        xml_len = (int)wbxml_len;
    }
    if ((size_t)xml_len > max_bytes) {
        xmlFree(xml);
        return SEAM_ERR_SYNCML_OVERSIZE;
    }
    *out = xml;
    *out_len = (size_t)xml_len;
    return SEAM_OK;
}

void seam_syncml_bytes_free(uint8_t *bytes) {
    if (bytes)
        xmlFree(bytes);
}

seam_err seam_syncml_format_of(const char *content_type, seam_syncml_format *format) {
    if (!content_type || !format)
        return SEAM_ERR_ARG;
    size_t len = strcspn(content_type, ";");
    while (len && content_type[len - 1] == ' ')
        len--;
    static const char xml[] = "application/vnd.syncml+xml";
    static const char wbxml[] = "application/vnd.syncml+wbxml";
    if (len == sizeof xml - 1 && strncasecmp(content_type, xml, len) == 0)
        *format = SEAM_SYNCML_XML;
    else if (len == sizeof wbxml - 1 && strncasecmp(content_type, wbxml, len) == 0)
        *format = SEAM_SYNCML_WBXML;
    else
        return SEAM_ERR_UNSUPPORTED;
    return SEAM_OK;
}

const char *seam_syncml_content_type(seam_syncml_format format) {
    return format == SEAM_SYNCML_WBXML ? "application/vnd.syncml+wbxml"
                                       : "application/vnd.syncml+xml";
}
