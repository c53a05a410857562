/*
 * Private to the syncml layer: the pieces the codec files and the engines
 * share (docs/sync.md "OMA DS").
 */
#ifndef SEAM_SYNCML_INT_H
#define SEAM_SYNCML_INT_H

#include <stdlib.h>

#include <libxml/tree.h>

#include "seam/syncml.h"

typedef struct syncml_pool syncml_pool;

/* Parses XML in[0..len) refusing DTD subsets, entities and the network; *doc for xmlFreeDoc. */
seam_err syncml_parse_xml(const uint8_t *in, size_t len, xmlDocPtr *doc);

/* WBXML in[0..len) to XML text in *xml (malloc; free) of *xml_len bytes. */
seam_err syncml_wbxml_to_xml(const uint8_t *in, size_t len, uint8_t **xml, size_t *xml_len);

/* XML text to WBXML in *out (xmlMalloc; seam_syncml_bytes_free) of *out_len bytes. */
seam_err syncml_xml_to_wbxml(const uint8_t *xml, size_t len, uint8_t **out, size_t *out_len);

/* The element name of a command kind ("Add", "Status"...). */
const char *syncml_cmd_name(seam_syncml_cmd_kind kind);

#endif
