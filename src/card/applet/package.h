/*
 * Package metadata, internal to the card layer: the custom section
 * "seam.package" of an applet module (docs/applet-abi.md).
 *
 * The section holds BER-TLV, top level only:
 *
 *   4F  package AID, 5..16 bytes                        exactly once
 *   C0  package version, 2 bytes: major, minor          exactly once
 *   C1  required platform version, 2 bytes              exactly once
 *   61  applet entry, holding exactly one 4F (the       1..SEAM_PACKAGE_MAX_APPLETS,
 *       applet class AID, 5..16 bytes)                  distinct AIDs
 *
 * Any other tag, a bad length, trailing bytes or a constructed 61 with other
 * content is SEAM_ERR_CARD_PACKAGE_MALFORMED; a missing or repeated field is
 * SEAM_ERR_CARD_PACKAGE_FIELD; a required platform newer than
 * SEAM_PLATFORM_VERSION is SEAM_ERR_CARD_PLATFORM. The parser never allocates
 * and never reads past its input; the result points into it.
 */
#ifndef SEAM_CARD_PACKAGE_H
#define SEAM_CARD_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/wasm.h"

#define SEAM_PACKAGE_SECTION     "seam.package"
#define SEAM_PACKAGE_MAX_APPLETS 16u
#define SEAM_PACKAGE_AID_MIN     5u
#define SEAM_PACKAGE_AID_MAX     16u
#define SEAM_PLATFORM_VERSION    0x0100u /* this platform: 1.0 (major << 8 | minor) */

#define SEAM_PACKAGE_TAG_AID      0x4Fu
#define SEAM_PACKAGE_TAG_VERSION  0xC0u
#define SEAM_PACKAGE_TAG_PLATFORM 0xC1u
#define SEAM_PACKAGE_TAG_APPLET   0x61u

/* An AID inside the parsed section; the section's owner owns the bytes. */
typedef struct {
    const uint8_t *bytes;
    size_t len;
} seam_package_aid;

/* The validated metadata of one package. */
typedef struct {
    seam_package_aid aid;
    uint16_t version;          /* major << 8 | minor */
    uint16_t platform_version; /* major << 8 | minor */
    size_t applet_count;       /* 1..SEAM_PACKAGE_MAX_APPLETS */
    seam_package_aid applets[SEAM_PACKAGE_MAX_APPLETS];
} seam_package_info;

/* Parses and validates section bytes in[0..len) into *info (pointing into in).
 * Errors as the header comment says, SEAM_ERR_ARG for NULL; *info is
 * unchanged on error. */
seam_err seam_package_parse(const uint8_t *in, size_t len, seam_package_info *info);

/* Finds the "seam.package" section of module and parses it into *info
 * (pointing into the module, valid while it lives). Errors:
 * SEAM_ERR_CARD_PACKAGE_MISSING, then as seam_package_parse. */
seam_err seam_package_read(const seam_wasm_module *module, seam_package_info *info);

/* True when info lists an applet with AID aid[0..len). */
bool seam_package_has_applet(const seam_package_info *info, const uint8_t *aid, size_t len);

#endif
