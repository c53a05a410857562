/*
 * ISO/IEC 7816-4 and GlobalPlatform status words the card layer answers with
 * (gp_facts.md §1.10). Status words are response data, never seam_err values.
 */
#ifndef SEAM_CARD_SW_H
#define SEAM_CARD_SW_H

#define SEAM_SW_SUCCESS                0x9000u /* normal processing */
#define SEAM_SW_BYTES_REMAINING        0x6100u /* 61xx: xx more bytes, fetch with GET RESPONSE */
#define SEAM_SW_SELECTED_CARD_LOCKED   0x6283u /* the Final Application selected in CARD_LOCKED */
#define SEAM_SW_MORE_DATA_AVAILABLE    0x6310u /* GET STATUS: more data, send P2 = 03 */
#define SEAM_SW_WRONG_LENGTH           0x6700u /* wrong length (Lc or Le) */
#define SEAM_SW_CHANNEL_NOT_SUPPORTED  0x6881u /* logical channel not supported or not open */
#define SEAM_SW_SM_NOT_SUPPORTED       0x6882u /* secure messaging not supported */
#define SEAM_SW_LAST_COMMAND_EXPECTED  0x6883u /* command chaining: last command expected */
#define SEAM_SW_CHAINING_UNSUPPORTED   0x6884u /* command chaining not supported */
#define SEAM_SW_SECURITY_STATUS        0x6982u /* security status not satisfied */
#define SEAM_SW_CONDITIONS_NOT_MET     0x6985u /* conditions of use not satisfied */
#define SEAM_SW_WRONG_DATA             0x6A80u /* incorrect values in the command data */
#define SEAM_SW_FUNCTION_NOT_SUPPORTED 0x6A81u /* card locked or terminated (gp_facts §1.10) */
#define SEAM_SW_FILE_NOT_FOUND         0x6A82u /* application or file not found */
#define SEAM_SW_NOT_ENOUGH_MEMORY      0x6A84u /* not enough memory space */
#define SEAM_SW_WRONG_P1P2             0x6A86u /* incorrect P1-P2 */
#define SEAM_SW_DATA_NOT_FOUND         0x6A88u /* referenced data not found */
#define SEAM_SW_INS_NOT_SUPPORTED      0x6D00u /* instruction not supported */
#define SEAM_SW_CLA_NOT_SUPPORTED      0x6E00u /* class not supported */
#define SEAM_SW_UNKNOWN                0x6F00u /* no precise diagnosis */

#include <stdbool.h>
#include <stdint.h>

/* True for the status words after which a command's changes are kept: 9000 and
   the 61xx, 62xx and 63xx warnings (transmit.c commits the transaction on them). */
static inline bool sw_success(uint16_t sw) {
    uint8_t sw1 = (uint8_t)(sw >> 8);
    return sw == SEAM_SW_SUCCESS || sw1 == 0x61 || sw1 == 0x62 || sw1 == 0x63;
}

#endif
