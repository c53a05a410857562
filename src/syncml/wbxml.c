/*
 * The encoding side of WBXML: libwbxml2 turns the XML text seam wrote itself
 * (trusted) into WBXML (SyncML 1.2 code pages, cat_sync.md B.7). Decoding a
 * peer's WBXML is seam's own code (wbxml_decode.c): libwbxml2 0.11.8 crashes
 * on hostile input, so it never sees any.
 */
#include <string.h>

#include <libxml/xmlmemory.h>
#include <wbxml/wbxml.h>
#include <wbxml/wbxml_conv.h>

#include "syncml_int.h"

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
