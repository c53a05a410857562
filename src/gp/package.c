/*
 * Packages as a host sees them: the "seam.package" section of an applet
 * module (docs/applet-abi.md) read for its AIDs and version, and the load
 * file (C4 || length || module) that LOAD carries. The section parser reads
 * only its input and never allocates (fuzz target: fuzz/gp_package_fuzz.c);
 * reading a whole file lets the wasm layer decode and validate the module, so
 * that a file the card would refuse is refused before anything is sent.
 */
#include <stdio.h>
#include <string.h>

#include "seam/gp.h"
#include "seam/util.h"
#include "seam/wasm.h"

/* Copies an AID TLV value into *aid; false unless it is 5..16 bytes. */
static bool aid_of(const seam_tlv *t, seam_gp_aid *aid) {
    if (t->length < SEAM_GP_AID_MIN || t->length > SEAM_GP_AID_MAX)
        return false;
    memcpy(aid->bytes, t->value, t->length);
    aid->len = t->length;
    return true;
}

/* The applet AID of one 61 template: exactly one 4F inside. */
static bool applet_of(const seam_tlv *t, seam_gp_aid *aid) {
    seam_tlv inner;
    return t->constructed && seam_tlv_parse(t->value, t->length, &inner) == SEAM_OK &&
           inner.tag == 0x4F && inner.header_len + inner.length == t->length && aid_of(&inner, aid);
}

seam_err seam_gp_package_parse(const uint8_t *section, size_t len, seam_gp_package *out) {
    seam_gp_package p;
    seam_tlv_iter it;
    seam_tlv t;
    seam_err err = SEAM_OK;
    bool ok = section != NULL, version = false, platform = false;
    memset(&p, 0, sizeof p);
    seam_tlv_iter_init(&it, section, section ? len : 0);
    while (ok && (err = seam_tlv_iter_next(&it, &t)) == SEAM_OK) {
        if (t.tag == 0x4F) {
            ok = p.aid.len == 0 && aid_of(&t, &p.aid);
        } else if (t.tag == 0xC0 || t.tag == 0xC1) {
            bool *seen = t.tag == 0xC0 ? &version : &platform;
            ok = !*seen && t.length == 2;
            *seen = true;
            if (ok)
                *(t.tag == 0xC0 ? &p.version : &p.platform_version) =
                    (uint16_t)(t.value[0] << 8 | t.value[1]);
        } else if (t.tag == 0x61) {
            ok = p.applet_count < SEAM_GP_PACKAGE_APPLETS_MAX &&
                 applet_of(&t, &p.applets[p.applet_count]);
            for (size_t i = 0; ok && i < p.applet_count; i++)
                ok = p.applets[i].len != p.applets[p.applet_count].len ||
                     memcmp(p.applets[i].bytes, p.applets[p.applet_count].bytes,
                            p.applets[i].len) != 0;
            p.applet_count++;
        } else {
            ok = false;
        }
    }
    if (!ok || err != SEAM_ERR_NOT_FOUND || p.aid.len == 0 || !version || !platform ||
        p.applet_count == 0)
        return SEAM_ERR_MALFORMED;
    *out = p;
    return SEAM_OK;
}

seam_err seam_gp_package_read(const uint8_t *module, size_t len, seam_gp_package *out, char *why,
                              size_t why_size) {
    seam_wasm_module *m = NULL;
    const uint8_t *section = NULL;
    size_t section_len = 0;
    char reason[160] = "";
    seam_err e = module ? seam_wasm_module_new(module, len, &m, reason, sizeof reason)
                        : SEAM_ERR_WASM_MALFORMED;
    const char *text = NULL;
    if (e == SEAM_ERR_NOMEM) {
        text = "out of memory";
    } else if (e) {
        text = e == SEAM_ERR_WASM_INVALID ? "the WebAssembly module does not validate"
                                          : "not a WebAssembly module";
        e = SEAM_ERR_GP_PACKAGE;
    } else if (seam_wasm_module_custom(m, SEAM_WASM_NAME("seam.package"), &section, &section_len) !=
               SEAM_OK) {
        text = "a WebAssembly module without a seam.package section";
        e = SEAM_ERR_GP_PACKAGE;
    } else if (seam_gp_package_parse(section, section_len, out) != SEAM_OK) {
        text = "its seam.package section is malformed";
        e = SEAM_ERR_GP_PACKAGE;
    }
    if (e && why && why_size)
        snprintf(why, why_size, "%s%s%s", text, reason[0] ? ": " : "", reason);
    seam_wasm_module_free(m);
    return e;
}

seam_err seam_gp_load_file(const uint8_t *module, size_t len, uint8_t *out, size_t cap,
                           size_t *out_len) {
    size_t header;
    if (len > 0xFFFFFF || (len && !module))
        return SEAM_ERR_ARG;
    header = seam_tlv_header_size(0xC4, len);
    *out_len = header + len;
    if (cap < header + len)
        return SEAM_ERR_BUFFER_SMALL;
    memmove(out + header, module, len);
    return seam_tlv_encode_header(0xC4, len, out, header, &header);
}
