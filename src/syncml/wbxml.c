/*
 * The WBXML side of the codec: libwbxml2 converts between WBXML and XML text
 * (SyncML 1.2 code pages, cat_sync.md B.7); the XML then goes through the
 * decoder's guarded parser, so both formats meet the same checks.
 */
#include <string.h>

#include <libxml/xmlmemory.h>
#include <wbxml/wbxml.h>
#include <wbxml/wbxml_conv.h>

#include "syncml_int.h"

/* True when some byte 02 (WBXML's ENTITY token) is followed by a multi-byte integer that does
   not fit in 31 bits: libwbxml2 0.11.8 asserts (aborts the process) on such an entity. The scan
   looks at every position, not only where a token can start, so whatever the library's parser
   reads as ENTITY has been checked; a string or opaque byte 02 that looks like one only costs
   a refusal. SyncML never needs entities of that size. */
static bool entity_out_of_range(const uint8_t *in, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] != 0x02)
            continue;
        uint64_t v = 0;
        size_t n = 0;
        for (size_t j = i + 1; j < len && n < 6; j++, n++) {
            v = (v << 7) | (in[j] & 0x7Fu);
            if (!(in[j] & 0x80u))
                break;
        }
        if (n >= 5 || v >= 0x80000000u)
            return true;
    }
    return false;
}

seam_err syncml_wbxml_to_xml(const uint8_t *in, size_t len, uint8_t **xml, size_t *xml_len) {
    if (len > SEAM_SYNCML_MAX_MESSAGE)
        return SEAM_ERR_SYNCML_OVERSIZE;
    if (len < 4 || entity_out_of_range(in, len))
        return SEAM_ERR_SYNCML_WBXML;
    /* libwbxml2 takes a mutable buffer: give it a copy, never the caller's input. */
    WB_UTINY *copy = malloc(len);
    if (!copy)
        return SEAM_ERR_NOMEM;
    memcpy(copy, in, len);
    WBXMLConvWBXML2XML *conv = NULL;
    if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) {
        free(copy);
        return SEAM_ERR_NOMEM;
    }
    wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
    wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
    WB_UTINY *text = NULL;
    WB_ULONG text_len = 0;
    WBXMLError ret = wbxml_conv_wbxml2xml_run(conv, copy, (WB_ULONG)len, &text, &text_len);
    wbxml_conv_wbxml2xml_destroy(conv);
    free(copy);
    if (ret != WBXML_OK || !text) {
        free(text);
        return SEAM_ERR_SYNCML_WBXML;
    }
    if (text_len > SEAM_SYNCML_MAX_MESSAGE) {
        free(text);
        return SEAM_ERR_SYNCML_OVERSIZE;
    }
    *xml = text;
    *xml_len = text_len;
    return SEAM_OK;
}

seam_err syncml_xml_to_wbxml(const uint8_t *xml, size_t len, uint8_t **out, size_t *out_len) {
    WB_UTINY *copy = malloc(len + 1);
    if (!copy)
        return SEAM_ERR_NOMEM;
    memcpy(copy, xml, len);
    copy[len] = '\0';
    WBXMLConvXML2WBXML *conv = NULL;
    if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) {
        free(copy);
        return SEAM_ERR_NOMEM;
    }
    wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_12);
    wbxml_conv_xml2wbxml_disable_string_table(conv);
    wbxml_conv_xml2wbxml_enable_preserve_whitespaces(conv);
    WB_UTINY *bin = NULL;
    WB_ULONG bin_len = 0;
    WBXMLError ret = wbxml_conv_xml2wbxml_run(conv, copy, (WB_ULONG)len, &bin, &bin_len);
    wbxml_conv_xml2wbxml_destroy(conv);
    free(copy);
    if (ret != WBXML_OK || !bin) {
        free(bin);
        return SEAM_ERR_SYNCML_WBXML;
    }
    uint8_t *result = xmlMalloc(bin_len ? bin_len : 1);
    if (!result) {
        free(bin);
        return SEAM_ERR_NOMEM;
    }
    memcpy(result, bin, bin_len);
    free(bin);
    *out = result;
    *out_len = bin_len;
    return SEAM_OK;
}
