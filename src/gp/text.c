/*
 * Words for bytes: status words (gp_facts.md §1.10), lifecycle states (§1.7)
 * and privileges (§1.8), for traces and listings.
 */
#include <stdio.h>
#include <string.h>

#include "seam/gp.h"

const char *seam_gp_sw_text(uint16_t sw) {
    static const struct {
        uint16_t sw;
        const char *text;
    } table[] = {
        {0x9000, "success"},
        {0x6200, "warning: no information given (channel already closed)"},
        {0x6283, "warning: card locked, the final application was selected"},
        {0x6300, "authentication failed (host cryptogram)"},
        {0x6310, "more data available (GET STATUS next)"},
        {0x6400, "no specific diagnosis"},
        {0x6581, "memory failure"},
        {0x6700, "wrong length"},
        {0x6881, "logical channel not supported or not open"},
        {0x6882, "secure messaging not supported"},
        {0x6982, "security status not satisfied"},
        {0x6985, "conditions of use not satisfied"},
        {0x6A80, "incorrect values in the command data"},
        {0x6A81, "function not supported"},
        {0x6A82, "application not found"},
        {0x6A84, "not enough memory space"},
        {0x6A86, "incorrect P1 P2"},
        {0x6A88, "referenced data not found"},
        {0x6D00, "instruction not supported"},
        {0x6E00, "class not supported"},
        {0x6F00, "no precise diagnosis (the applet failed)"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].sw == sw)
            return table[i].text;
    switch (sw >> 8) {
    case 0x61:
        return "more response data (GET RESPONSE)";
    case 0x62:
        return "warning: state unchanged";
    case 0x63:
        return "warning: state changed";
    case 0x6C:
        return "wrong Le (the right one is in SW2)";
    case 0x64:
    case 0x65:
        return "execution error";
    case 0x67:
    case 0x68:
    case 0x69:
    case 0x6A:
    case 0x6B:
        return "checking error";
    default:
        return "unknown status word";
    }
}

const char *seam_gp_lifecycle_text(seam_gp_scope scope, uint8_t lifecycle, char *buf, size_t size) {
    const char *name = NULL;
    if (scope == SEAM_GP_ISD) {
        name = lifecycle == 0x01   ? "OP_READY"
               : lifecycle == 0x07 ? "INITIALIZED"
               : lifecycle == 0x0F ? "SECURED"
               : lifecycle == 0x7F ? "CARD_LOCKED"
               : lifecycle == 0xFF ? "TERMINATED"
                                   : NULL;
    } else if (scope == SEAM_GP_ELFS || scope == SEAM_GP_ELFS_MODULES) {
        name = lifecycle == 0x01 ? "LOADED" : NULL;
    } else if ((lifecycle & 0x83) == 0x83) {
        name = "LOCKED";
    } else {
        name = lifecycle == 0x03   ? "INSTALLED"
               : lifecycle == 0x07 ? "SELECTABLE"
               : lifecycle == 0x0F ? "PERSONALIZED"
                                   : NULL;
        if (!name && (lifecycle & 0x87) == 0x07) {
            snprintf(buf, size, "SELECTABLE+%02X", lifecycle);
            return buf;
        }
    }
    if (name)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%02X", lifecycle);
    return buf;
}

const char *seam_gp_privileges_text(const uint8_t *priv, size_t len, char *buf, size_t size) {
    static const char *const names[24] = {
        "SecurityDomain",
        "DAPVerification",
        "DelegatedManagement",
        "CardLock",
        "CardTerminate",
        "CardReset",
        "CVMManagement",
        "MandatedDAPVerification",
        "TrustedPath",
        "AuthorizedManagement",
        "TokenVerification",
        "GlobalDelete",
        "GlobalLock",
        "GlobalRegistry",
        "FinalApplication",
        "GlobalService",
        "ReceiptGeneration",
        "CipheredLoadFileDataBlock",
        "ContactlessActivation",
        "ContactlessSelfActivation",
        NULL,
        NULL,
        NULL,
        NULL,
    };
    uint8_t p[3] = {0};
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = 0;
    memcpy(p, priv, len > 3 ? 3 : len);
    /* byte 1: b8 SD; b7 DAP (with b8; b1 as well: mandated DAP); b6 DM; b5..b2 */
    bool flags[24] = {0};
    flags[0] = p[0] & 0x80;
    flags[1] = (p[0] & 0xC1) == 0xC0;
    flags[7] = (p[0] & 0xC1) == 0xC1;
    flags[2] = (p[0] & 0xA0) == 0xA0;
    flags[3] = p[0] & 0x10;
    flags[4] = p[0] & 0x08;
    flags[5] = p[0] & 0x04;
    flags[6] = p[0] & 0x02;
    for (int bit = 0; bit < 8; bit++) {
        flags[8 + bit] = p[1] & (0x80 >> bit);
        if (bit < 4)
            flags[16 + bit] = p[2] & (0x80 >> bit);
    }
    for (int i = 0; i < 24; i++) {
        if (!flags[i] || !names[i])
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i]);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, size, "none");
    return buf;
}

const char *seam_gp_upgrade_text(uint8_t status) {
    static const char *const words[] = {"no session", "completed", "waiting for the new package",
                                        "waiting for other domains to migrate"};
    return status < sizeof words / sizeof words[0] ? words[status] : "unknown status";
}

const char *seam_gp_command_text(const uint8_t header[4], char *buf, size_t size) {
    static const struct {
        uint8_t ins, p1;
        bool any_p1;
        const char *text;
    } names[] = {
        {0xE6, 0x02, false, "INSTALL [for load]"},
        {0xE6, 0x04, false, "INSTALL [for install]"},
        {0xE6, 0x08, false, "INSTALL [for make selectable]"},
        {0xE6, 0x0C, false, "INSTALL [for install and make selectable]"},
        {0xE6, 0x0E, false, "INSTALL [for load, install and make selectable]"},
        {0xE6, 0x10, false, "INSTALL [for extradition]"},
        {0xE6, 0x20, false, "INSTALL [for personalization]"},
        {0xE6, 0x40, false, "INSTALL [for registry update]"},
        {0xEA, 0x01, false, "MANAGE ELF UPGRADE start"},
        {0xEA, 0x02, false, "MANAGE ELF UPGRADE migrate"},
        {0xEA, 0x04, false, "MANAGE ELF UPGRADE abort"},
        {0xEA, 0x08, false, "MANAGE ELF UPGRADE status"},
        {0xEA, 0x10, false, "MANAGE ELF UPGRADE export"},
        {0xE4, 0, true, "DELETE"},
        {0xF2, 0, true, "GET STATUS"},
        {0xF0, 0, true, "SET STATUS"},
        {0xD8, 0, true, "PUT KEY"},
        {0x50, 0, true, "INITIALIZE UPDATE"},
        {0x82, 0, true, "EXTERNAL AUTHENTICATE"},
        {0xA4, 0, true, "SELECT"},
        {0xCA, 0, true, "GET DATA"},
        {0xC0, 0, true, "GET RESPONSE"},
    };
    uint8_t p1 = header[1] == 0xE6 ? (uint8_t)(header[2] & 0x7F) : header[2];
    if (header[1] == 0xE8 || header[1] == 0xE2) {
        snprintf(buf, size, "%s block %u", header[1] == 0xE8 ? "LOAD" : "STORE DATA", header[3]);
        return buf;
    }
    if (header[1] == 0xE6 && p1 == 0x0E && (header[3] == 0x01 || header[3] == 0x03)) {
        snprintf(buf, size, "INSTALL [for load, install and make selectable] (%s, P2 %02X)",
                 header[3] == 0x01 ? "first" : "final", header[3]);
        return buf;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].ins == header[1] && (names[i].any_p1 || names[i].p1 == p1)) {
            snprintf(buf, size, "%s", names[i].text);
            return buf;
        }
    snprintf(buf, size, "the command %02X %02X %02X %02X", header[0], header[1], header[2],
             header[3]);
    return buf;
}
