/*
 * test_import: a package the card must refuse (issue 10, section 3): it
 * imports a host function the card does not have, so it could never be
 * installed. The card refuses it at its last LOAD block (6A80), and its
 * diagnostics name the missing import.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x49), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x54, 0x49, 0x01));

__attribute__((import_module("seam"), import_name("frobnicate"))) uint32_t frobnicate(uint32_t x);

SEAM_ENTRY(process) uint32_t process(void) {
    return frobnicate(SW_NO_ERROR);
}
