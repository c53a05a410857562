/*
 * seam toolkit: the card application toolkit's messages (ETSI TS 102 223),
 * shared by the card and the terminal. Part of the util layer.
 *
 *   - constants: COMPREHENSION-TLV tags, BER-TLV templates, type of command,
 *     device identities, general results, events, TERMINAL PROFILE bits
 *   - proactive commands (D0): decode into a struct, build (generic and one
 *     builder per command seam uses)
 *   - TERMINAL RESPONSE: build and decode
 *   - ENVELOPE: menu selection (D3), event download (D6), timer expiration
 *     (D7): build and decode
 *   - REQUEST SYNCHRONIZATION, seam's own proactive command, and its objects
 *   - TERMINAL PROFILE: set and test a feature bit
 *
 * Conventions are util's (seam/util.h): nothing allocates, decoded values
 * point into the input, input is never read past its length. Builders write
 * out[0..cap) and put the byte count in *out_len; on SEAM_ERR_BUFFER_SMALL
 * *out_len gets the size needed and out is unchanged. Decoders leave *out
 * unchanged on error. SEAM_ERR_TRUNCATED / SEAM_ERR_MALFORMED as util's.
 *
 * Values marked "seam's choice" are not assigned by TS 102 223; they are
 * seam's, each in one define, and docs/toolkit.md ("Codecs") lists them.
 */
#ifndef SEAM_TOOLKIT_H
#define SEAM_TOOLKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/util.h"

/* ------------------------------------------------------------------------ */
/* Constants                                                                 */
/* ------------------------------------------------------------------------ */

/* BER-TLV templates (ETSI TS 101 220 table 7.17). */
#define SEAM_TK_PROACTIVE_COMMAND 0xD0u
#define SEAM_TK_SMS_PP_DOWNLOAD   0xD1u
#define SEAM_TK_MENU_SELECTION    0xD3u
#define SEAM_TK_EVENT_DOWNLOAD    0xD6u
#define SEAM_TK_TIMER_EXPIRATION  0xD7u

/* The largest template value: a length of 81 FF (TS 101 220 §7.1.2). */
#define SEAM_TK_MAX_VALUE 255u
/* The largest whole template: D0 81 FF + 255 bytes. */
#define SEAM_TK_MAX_MESSAGE (3u + SEAM_TK_MAX_VALUE)

/* COMPREHENSION-TLV tags, without the CR bit (TS 102 223 §9.3, TS 101 220 §7.2). */
#define SEAM_TK_TAG_COMMAND_DETAILS    0x01u
#define SEAM_TK_TAG_DEVICE_IDENTITIES  0x02u
#define SEAM_TK_TAG_RESULT             0x03u
#define SEAM_TK_TAG_DURATION           0x04u
#define SEAM_TK_TAG_ALPHA_IDENTIFIER   0x05u
#define SEAM_TK_TAG_TEXT_STRING        0x0Du
#define SEAM_TK_TAG_ITEM               0x0Fu
#define SEAM_TK_TAG_ITEM_IDENTIFIER    0x10u
#define SEAM_TK_TAG_RESPONSE_LENGTH    0x11u
#define SEAM_TK_TAG_LOCATION_INFO      0x13u
#define SEAM_TK_TAG_IMEI               0x14u
#define SEAM_TK_TAG_HELP_REQUEST       0x15u
#define SEAM_TK_TAG_EVENT_LIST         0x19u
#define SEAM_TK_TAG_CAUSE              0x1Au
#define SEAM_TK_TAG_LOCATION_STATUS    0x1Bu
#define SEAM_TK_TAG_TRANSACTION_ID     0x1Cu
#define SEAM_TK_TAG_ICON_IDENTIFIER    0x1Eu
#define SEAM_TK_TAG_TIMER_IDENTIFIER   0x24u
#define SEAM_TK_TAG_TIMER_VALUE        0x25u
#define SEAM_TK_TAG_DATE_TIME          0x26u
#define SEAM_TK_TAG_IMMEDIATE_RESPONSE 0x2Bu
#define SEAM_TK_TAG_LANGUAGE           0x2Du
#define SEAM_TK_TAG_CHANNEL_DATA_LEN   0x37u
#define SEAM_TK_TAG_CHANNEL_STATUS     0x38u

/*
 * REQUEST SYNCHRONIZATION's objects, seam's choice: 3-byte tags 7F 53 01..
 * (tag values 0x5301..0x5308, "S" for seam). TS 102 223's objects use
 * 1-byte tags; none of these 3-byte values is assigned in the sources seam
 * checked (pySim's cat.py, oFono's stkutil). Builders set CR on
 * every one: a terminal that knows the command but not an object must answer
 * result 32, not guess.
 */
#define SEAM_TK_TAG_SYNC_PROTOCOL      0x5301u /* 1 byte: SEAM_TK_SYNC_PROTO_* */
#define SEAM_TK_TAG_SYNC_TRANSPORT     0x5302u /* 1 byte: SEAM_TK_SYNC_TRANSPORT_* */
#define SEAM_TK_TAG_SYNC_TYPE          0x5303u /* 1 byte: OMA DS alert code 200..205 */
#define SEAM_TK_TAG_SYNC_SOURCE_DEVICE 0x5304u /* device identifier, e.g. "IMEI:..." */
#define SEAM_TK_TAG_SYNC_SOURCE_URI    0x5305u /* source database URI */
#define SEAM_TK_TAG_SYNC_TARGET_URL    0x5306u /* server URL */
#define SEAM_TK_TAG_SYNC_TARGET_URI    0x5307u /* target database URI */
#define SEAM_TK_TAG_SYNC_WANTS_RESULT  0x5308u /* 1 byte: SEAM_TK_SYNC_RESULT_* */
/*
 * In the TERMINAL RESPONSE to REQUEST SYNCHRONIZATION (seam's choice, same
 * 3-byte space): with result 00, the outcome's counts, 7 bytes: the type of
 * synchronization that ran (201 after a slow-sync fallback), then records
 * sent, records received and conflicts, 2 bytes each, big-endian, capped at
 * FFFF (seam_tk_sync_counts_put / _decode).
 */
#define SEAM_TK_TAG_SYNC_COUNTS 0x5309u
/*
 * The request's reference, 1 byte (seam's choice, same space): the command
 * number of the REQUEST SYNCHRONIZATION. In its TERMINAL RESPONSE with result
 * 00 it says "accepted, the result follows by ENVELOPE" (the request asked
 * SEAM_TK_SYNC_RESULT_LATER); the later report (SEAM_TK_EVENT_SYNC_RESULT)
 * carries it again so the applet knows which request it answers.
 */
#define SEAM_TK_TAG_SYNC_REFERENCE 0x530Au

/* Type of command (TS 102 223 §9.4). */
#define SEAM_TK_CMD_REFRESH           0x01u
#define SEAM_TK_CMD_MORE_TIME         0x02u
#define SEAM_TK_CMD_POLL_INTERVAL     0x03u
#define SEAM_TK_CMD_POLLING_OFF       0x04u
#define SEAM_TK_CMD_SET_UP_EVENT_LIST 0x05u
#define SEAM_TK_CMD_DISPLAY_TEXT      0x21u
#define SEAM_TK_CMD_GET_INKEY         0x22u
#define SEAM_TK_CMD_GET_INPUT         0x23u
#define SEAM_TK_CMD_SELECT_ITEM       0x24u
#define SEAM_TK_CMD_SET_UP_MENU       0x25u
#define SEAM_TK_CMD_PROVIDE_LOCAL     0x26u
#define SEAM_TK_CMD_TIMER_MANAGEMENT  0x27u
/*
 * REQUEST SYNCHRONIZATION, seam's choice: 0x5F, in 52..5F, a range TS 102
 * 223 leaves unassigned (ETSI defines no proprietary range; this one is far
 * from the ranges recent releases grew into). A terminal that does not know
 * it answers result 30 or 31; the card treats both as "not supported".
 */
#define SEAM_TK_CMD_REQUEST_SYNC 0x5Fu

/* Command qualifiers used by seam's builders (TS 102 223 §8.6). */
#define SEAM_TK_DISPLAY_HIGH_PRIORITY 0x01u /* DISPLAY TEXT b1 */
#define SEAM_TK_DISPLAY_WAIT_USER     0x80u /* DISPLAY TEXT b8: wait for the user to clear */
#define SEAM_TK_INKEY_DIGITS          0x00u /* GET INKEY: digits (0-9, *, #, +) */
#define SEAM_TK_INKEY_ALPHABET        0x01u /* GET INKEY b1: SMS default alphabet */
#define SEAM_TK_INKEY_YES_NO          0x04u /* GET INKEY b3: yes/no */
#define SEAM_TK_INKEY_HELP            0x80u /* GET INKEY b8: help available */
#define SEAM_TK_TIMER_START           0x00u /* TIMER MANAGEMENT: start */
#define SEAM_TK_TIMER_DEACTIVATE      0x01u /* TIMER MANAGEMENT: deactivate */
#define SEAM_TK_TIMER_GET             0x02u /* TIMER MANAGEMENT: get current value */
#define SEAM_TK_LOCAL_LOCATION        0x00u /* PROVIDE LOCAL INFORMATION: location */
#define SEAM_TK_LOCAL_IMEI            0x01u /* ... IMEI */
#define SEAM_TK_LOCAL_DATE_TIME       0x03u /* ... date, time and time zone */
#define SEAM_TK_LOCAL_LANGUAGE        0x04u /* ... language */

/* Data coding schemes of a text string (TS 102 223 §8.15). */
#define SEAM_TK_DCS_GSM7_PACKED 0x00u
#define SEAM_TK_DCS_8BIT        0x04u
#define SEAM_TK_DCS_UCS2        0x08u

/* Device identities (TS 102 223 §8.7). */
#define SEAM_TK_DEV_KEYPAD   0x01u
#define SEAM_TK_DEV_DISPLAY  0x02u
#define SEAM_TK_DEV_EARPIECE 0x03u
#define SEAM_TK_DEV_UICC     0x81u
#define SEAM_TK_DEV_TERMINAL 0x82u
#define SEAM_TK_DEV_NETWORK  0x83u

/* General results (TS 102 223 §8.12). */
#define SEAM_TK_RES_OK                  0x00u
#define SEAM_TK_RES_OK_PARTIAL          0x01u
#define SEAM_TK_RES_OK_MISSING_INFO     0x02u
#define SEAM_TK_RES_OK_NO_ICON          0x04u
#define SEAM_TK_RES_SESSION_TERMINATED  0x10u /* by the user */
#define SEAM_TK_RES_BACKWARD_MOVE       0x11u
#define SEAM_TK_RES_NO_RESPONSE         0x12u /* no response from the user */
#define SEAM_TK_RES_HELP_REQUESTED      0x13u
#define SEAM_TK_RES_TERMINAL_BUSY       0x20u /* temporary: additional info says why */
#define SEAM_TK_RES_NETWORK_BUSY        0x21u
#define SEAM_TK_RES_USER_REJECTED       0x22u /* user did not accept the command */
#define SEAM_TK_RES_TIMER_CONTRADICTION 0x24u
#define SEAM_TK_RES_BEYOND_CAPABILITIES 0x30u
#define SEAM_TK_RES_TYPE_NOT_UNDERSTOOD 0x31u
#define SEAM_TK_RES_DATA_NOT_UNDERSTOOD 0x32u
#define SEAM_TK_RES_NUMBER_NOT_KNOWN    0x33u
#define SEAM_TK_RES_REQUIRED_MISSING    0x36u

/* Events (TS 102 223 §8.25). */
#define SEAM_TK_EVENT_MT_CALL            0x00u
#define SEAM_TK_EVENT_CALL_CONNECTED     0x01u
#define SEAM_TK_EVENT_CALL_DISCONNECTED  0x02u
#define SEAM_TK_EVENT_LOCATION_STATUS    0x03u
#define SEAM_TK_EVENT_USER_ACTIVITY      0x04u
#define SEAM_TK_EVENT_IDLE_SCREEN        0x05u
#define SEAM_TK_EVENT_LANGUAGE_SELECTION 0x07u
#define SEAM_TK_EVENT_DATA_AVAILABLE     0x09u
#define SEAM_TK_EVENT_CHANNEL_STATUS     0x0Au
/*
 * "Terminal capabilities changed", seam's choice: 0xE0. TS 102 223 assigns
 * event values from 00 upward (0x1D in recent releases); E0 is far above them.
 */
#define SEAM_TK_EVENT_CAPABILITIES_CHANGED 0xE0u
/*
 * "Terminal profile arrived", seam's choice: 0xE1 (TS 102 241's
 * EVENT_PROFILE_DOWNLOAD, which TS 102 223 has no event value for). The card
 * makes it, never the terminal: after each TERMINAL PROFILE the card calls the
 * event_download entry point of every instance holding registrations with
 * D6 { 82 02 82 81, 99 01 E1 }; an ENVELOPE carrying it is refused (6A80).
 */
#define SEAM_TK_EVENT_PROFILE_DOWNLOAD 0xE1u
/*
 * "Synchronization result", seam's choice: 0xE2. The terminal sends it,
 * unasked by any SET UP EVENT LIST, when a REQUEST SYNCHRONIZATION asked for
 * its result later (SEAM_TK_SYNC_RESULT_LATER): D6 { 82 02 82 81, 99 01 E2,
 * 83 result, [counts], reference } (seam_tk_envelope_sync_result). The card
 * routes it to the instances holding event E2 (6A88 when none does).
 */
#define SEAM_TK_EVENT_SYNC_RESULT 0xE2u

/* False for seam's events that never go into a SET UP EVENT LIST: the card's own E1 (made
   by the card) and E2 (sent by the terminal because a request asked for it). */
bool seam_tk_event_listed(uint8_t event);

/* ------------------------------------------------------------------------ */
/* TERMINAL PROFILE                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Feature bits, numbered as TS 102 223 §5.2 does: bit n is in byte
 * (n-1)/8 (0-based), at b((n-1)%8 + 1), b1 the least significant.
 */
#define SEAM_TK_PROFILE_BIT(byte, b)  ((unsigned)(((byte)-1) * 8 + (b)))
#define SEAM_TK_PF_MENU_SELECTION     SEAM_TK_PROFILE_BIT(1, 4)
#define SEAM_TK_PF_TIMER_EXPIRATION   SEAM_TK_PROFILE_BIT(1, 6)
#define SEAM_TK_PF_COMMAND_RESULT     SEAM_TK_PROFILE_BIT(2, 1)
#define SEAM_TK_PF_DISPLAY_TEXT       SEAM_TK_PROFILE_BIT(3, 1)
#define SEAM_TK_PF_GET_INKEY          SEAM_TK_PROFILE_BIT(3, 2)
#define SEAM_TK_PF_POLL_INTERVAL      SEAM_TK_PROFILE_BIT(3, 6)
#define SEAM_TK_PF_SET_UP_MENU        SEAM_TK_PROFILE_BIT(4, 6)
#define SEAM_TK_PF_LOCAL_INFO         SEAM_TK_PROFILE_BIT(4, 7) /* location, IMEI */
#define SEAM_TK_PF_SET_UP_EVENT_LIST  SEAM_TK_PROFILE_BIT(5, 1)
#define SEAM_TK_PF_EV_CALL_CONNECTED  SEAM_TK_PROFILE_BIT(5, 3)
#define SEAM_TK_PF_EV_CALL_DISCONN    SEAM_TK_PROFILE_BIT(5, 4)
#define SEAM_TK_PF_EV_LOCATION_STATUS SEAM_TK_PROFILE_BIT(5, 5)
#define SEAM_TK_PF_EV_USER_ACTIVITY   SEAM_TK_PROFILE_BIT(5, 6)
#define SEAM_TK_PF_EV_IDLE_SCREEN     SEAM_TK_PROFILE_BIT(5, 7)
#define SEAM_TK_PF_EV_LANGUAGE        SEAM_TK_PROFILE_BIT(6, 1)
#define SEAM_TK_PF_EV_DATA_AVAILABLE  SEAM_TK_PROFILE_BIT(6, 3)
#define SEAM_TK_PF_TIMER_START_STOP   SEAM_TK_PROFILE_BIT(8, 1)
#define SEAM_TK_PF_TIMER_GET_VALUE    SEAM_TK_PROFILE_BIT(8, 2)
#define SEAM_TK_PF_LOCAL_DATE_TIME    SEAM_TK_PROFILE_BIT(8, 3)
#define SEAM_TK_PF_LOCAL_LANGUAGE     SEAM_TK_PROFILE_BIT(9, 4)
/*
 * REQUEST SYNCHRONIZATION, seam's choice: byte 7 b8, RFU in TS 102 223 §5.2
 * (byte 7 b6..b8). Non-standard: meaningful only between seam's terminal and
 * seam's card; a card must still handle result 30/31 when the bit is set.
 */
#define SEAM_TK_PF_REQUEST_SYNC SEAM_TK_PROFILE_BIT(7, 8)
/* The profile length seam's terminal sends: enough for every bit above. */
#define SEAM_TK_PROFILE_LEN 20u

/* Sets feature bit (1-based) in profile[0..len); SEAM_ERR_ARG when it is beyond len. */
seam_err seam_tk_profile_set(uint8_t *profile, size_t len, unsigned bit);

/* True when feature bit (1-based) is set in profile[0..len); false beyond len. */
bool seam_tk_profile_test(const uint8_t *profile, size_t len, unsigned bit);

/* ------------------------------------------------------------------------ */
/* Proactive commands                                                        */
/* ------------------------------------------------------------------------ */

/* Command details (tag 01/81). */
typedef struct {
    uint8_t number;    /* 01..FE */
    uint8_t type;      /* SEAM_TK_CMD_* */
    uint8_t qualifier; /* meaning depends on type */
} seam_tk_details;

/* A decoded proactive command. Pointers point into the decoded input. */
typedef struct {
    seam_tk_details details;
    uint8_t source;          /* device identities: SEAM_TK_DEV_UICC */
    uint8_t dest;            /* SEAM_TK_DEV_TERMINAL, _DISPLAY, ... */
    const uint8_t *objects;  /* the objects after device identities, */
    size_t objects_len;      /* reachable with seam_ctlv_find */
    uint16_t unknown_cr_tag; /* first object with CR set this type does not know, or 0 */
} seam_tk_command;

/*
 * Decodes a proactive command: exactly one D0 template (length 00..7F or
 * 81 80..FF, nothing after it) whose value starts with command details (01/81,
 * 3 bytes) and device identities (02/82, 2 bytes), followed by objects that
 * are all well-formed COMPREHENSION-TLVs. Command details or device
 * identities missing, misplaced or of the wrong length, and any other
 * template tag, are SEAM_ERR_MALFORMED.
 *
 * unknown_cr_tag reports an object with CR set that the type of command does
 * not use (seam_tk_known_tag), so the receiver answers result 32; objects
 * without CR that it does not know are skipped (left in objects). For a type
 * seam does not know, unknown_cr_tag is 0: the receiver answers 31 anyway.
 */
seam_err seam_tk_command_decode(const uint8_t *data, size_t len, seam_tk_command *out);

/*
 * Reads just the command details of a proactive command (D0, then 01/81),
 * so that a receiver that cannot decode the rest can still echo them in a
 * TERMINAL RESPONSE with result 32. Errors as seam_tk_command_decode.
 */
seam_err seam_tk_command_peek_details(const uint8_t *data, size_t len, seam_tk_details *out);

/* True when type of command `type` uses objects with tag `tag` (CR not part of tag). */
bool seam_tk_known_tag(uint8_t type, uint16_t tag);

/*
 * Builds D0 { 81 03 details, 82 02 81 dest, objects[0..objects_len) }.
 * objects are already-encoded COMPREHENSION-TLVs (seam_ctlv_put).
 * SEAM_ERR_ARG when the template value would exceed SEAM_TK_MAX_VALUE.
 */
seam_err seam_tk_command_build(const seam_tk_details *details, uint8_t dest, const uint8_t *objects,
                               size_t objects_len, uint8_t *out, size_t cap, size_t *out_len);

/* DISPLAY TEXT to the display: 8D text string (dcs + text), 2B when immediate. */
seam_err seam_tk_build_display_text(uint8_t number, uint8_t qualifier, uint8_t dcs,
                                    const uint8_t *text, size_t text_len, bool immediate,
                                    uint8_t *out, size_t cap, size_t *out_len);

/* GET INKEY to the terminal: 8D text string (dcs + text). */
seam_err seam_tk_build_get_inkey(uint8_t number, uint8_t qualifier, uint8_t dcs,
                                 const uint8_t *text, size_t text_len, uint8_t *out, size_t cap,
                                 size_t *out_len);

/* One menu item: identifier and text (8-bit, as an alpha identifier). */
typedef struct {
    uint8_t id;
    const char *text;
} seam_tk_item;

/*
 * SET UP MENU: 85 alpha identifier (title), one 8F item per entry. No items
 * (count 0) removes the menu: 8F 00, as TS 102 223 §6.6.7 says.
 */
seam_err seam_tk_build_set_up_menu(uint8_t number, uint8_t qualifier, const char *title,
                                   const seam_tk_item *items, size_t count, uint8_t *out,
                                   size_t cap, size_t *out_len);

/* SET UP EVENT LIST: 99 events[0..count) (count 0 removes every event). */
seam_err seam_tk_build_set_up_event_list(uint8_t number, const uint8_t *events, size_t count,
                                         uint8_t *out, size_t cap, size_t *out_len);

/*
 * TIMER MANAGEMENT: A4 timer id (1..8), and A5 value (3 bytes hh mm ss, BCD
 * with swapped nibbles as TS 102 223 §8.38 has it) when op is
 * SEAM_TK_TIMER_START (value must then be non-NULL).
 */
seam_err seam_tk_build_timer_management(uint8_t number, uint8_t op, uint8_t timer_id,
                                        const uint8_t value[3], uint8_t *out, size_t cap,
                                        size_t *out_len);

/* POLL INTERVAL: 84 duration (unit 00 min, 01 s, 02 tenths; interval 1..255). */
seam_err seam_tk_build_poll_interval(uint8_t number, uint8_t unit, uint8_t interval, uint8_t *out,
                                     size_t cap, size_t *out_len);

/* PROVIDE LOCAL INFORMATION: no objects; qualifier says what (SEAM_TK_LOCAL_*). */
seam_err seam_tk_build_provide_local_info(uint8_t number, uint8_t qualifier, uint8_t *out,
                                          size_t cap, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* REQUEST SYNCHRONIZATION (seam's own command)                              */
/* ------------------------------------------------------------------------ */

#define SEAM_TK_SYNC_PROTO_OMA_DS_12 0x01u /* OMA DS (SyncML) 1.2 */
#define SEAM_TK_SYNC_PROTO_CHANGESET 0x02u /* seam's compact changeset protocol */
#define SEAM_TK_SYNC_TRANSPORT_HTTP  0x01u
#define SEAM_TK_SYNC_TRANSPORT_WSP   0x02u /* a terminal may refuse it (result 30) */
/* Types of synchronization: the OMA DS alert codes. */
#define SEAM_TK_SYNC_TWO_WAY             200u
#define SEAM_TK_SYNC_SLOW                201u
#define SEAM_TK_SYNC_ONE_WAY_FROM_CLIENT 202u
#define SEAM_TK_SYNC_REFRESH_FROM_CLIENT 203u
#define SEAM_TK_SYNC_ONE_WAY_FROM_SERVER 204u
#define SEAM_TK_SYNC_REFRESH_FROM_SERVER 205u

/*
 * The failure class of a synchronization that ran and failed, seam's choice:
 * the additional-information byte of result 20 (terminal currently unable to
 * process command). TS 102 223 §8.12.2 assigns 00..0B for result 20; seam's
 * values are E1..E6, far above. A transport or protocol the terminal refuses
 * before running anything (WSP) is result 30, not 20.
 */
#define SEAM_TK_SYNC_FAIL_UNREACHABLE  0xE1u /* no connection, TLS, timeout, HTTP 5xx */
#define SEAM_TK_SYNC_FAIL_AUTH         0xE2u /* credentials refused */
#define SEAM_TK_SYNC_FAIL_SLOW_REFUSED 0xE3u /* a slow sync was needed and refused */
#define SEAM_TK_SYNC_FAIL_MALFORMED    0xE4u /* the server's messages did not decode */
#define SEAM_TK_SYNC_FAIL_UNSUPPORTED  0xE5u /* a type, database or URL it does not run */
#define SEAM_TK_SYNC_FAIL_LOCAL        0xE6u /* the terminal's own database failed */

/* What the application asks for the outcome (SEAM_TK_TAG_SYNC_WANTS_RESULT, S7). */
#define SEAM_TK_SYNC_RESULT_NONE 0x00u /* no outcome wanted */
#define SEAM_TK_SYNC_RESULT_NOW  0x01u /* in the TERMINAL RESPONSE */
/* the terminal may answer at once (00 + the reference) and report by ENVELOPE later */
#define SEAM_TK_SYNC_RESULT_LATER 0x02u

/* The counts object (SEAM_TK_TAG_SYNC_COUNTS). */
typedef struct {
    uint8_t sync_type; /* 200..205: the type that ran */
    uint16_t sent, received, conflicts;
} seam_tk_sync_counts;

/* Appends the counts object (CR set) to out[*len..cap); *len advances. SEAM_ERR_ARG for a
   type outside 200..205; SEAM_ERR_BUFFER_SMALL leaves *len unchanged. */
seam_err seam_tk_sync_counts_put(const seam_tk_sync_counts *counts, uint8_t *out, size_t cap,
                                 size_t *len);

/* Finds and decodes the counts object in a TERMINAL RESPONSE's objects. SEAM_ERR_NOT_FOUND
   when absent, SEAM_ERR_MALFORMED when not 7 bytes or a type outside 200..205. */
seam_err seam_tk_sync_counts_decode(const uint8_t *objects, size_t len, seam_tk_sync_counts *out);

/* Appends the reference object (CR set, 1 byte) to out[*len..cap); *len advances.
   SEAM_ERR_BUFFER_SMALL leaves *len unchanged. */
seam_err seam_tk_sync_reference_put(uint8_t reference, uint8_t *out, size_t cap, size_t *len);

/* Finds and decodes the reference object in objects[0..len). SEAM_ERR_NOT_FOUND when
   absent, SEAM_ERR_MALFORMED when not 1 byte (or the objects are not well-formed). */
seam_err seam_tk_sync_reference_decode(const uint8_t *objects, size_t len, uint8_t *out);

/* The later report of a synchronization (event SEAM_TK_EVENT_SYNC_RESULT). */
typedef struct {
    uint8_t reference;          /* the request's (SEAM_TK_TAG_SYNC_REFERENCE) */
    uint8_t general;            /* SEAM_TK_RES_OK or SEAM_TK_RES_TERMINAL_BUSY (it failed) */
    uint8_t failure;            /* with TERMINAL_BUSY: SEAM_TK_SYNC_FAIL_*; else 0 */
    seam_tk_sync_counts counts; /* with OK */
} seam_tk_sync_report;

/*
 * Builds the report D6 { 82 02 82 81, 99 01 E2, 83 result (00, or 20 and the failure
 * class), 7F D3 09 counts (with 00 only), 7F D3 0A reference }. SEAM_ERR_ARG for another
 * general result, a class outside E1..E6, or a counts type outside 200..205.
 */
seam_err seam_tk_envelope_sync_result(const seam_tk_sync_report *report, uint8_t *out, size_t cap,
                                      size_t *out_len);

/*
 * Decodes a report: an ENVELOPE seam_tk_envelope_decode takes, D6 from the terminal
 * (82) with event E2, a result of exactly 00 (and then the counts, required) or 20 and a
 * class E1..E6 (and then no counts), and the reference. Another envelope is
 * SEAM_ERR_UNSUPPORTED (as the decoder says, or D3/D7/another event), a broken report
 * SEAM_ERR_MALFORMED, a short one SEAM_ERR_TRUNCATED.
 */
seam_err seam_tk_sync_report_decode(const uint8_t *data, size_t len, seam_tk_sync_report *out);

/* The request's data. Strings are (pointer, length), not NUL-terminated. */
typedef struct {
    uint8_t protocol;             /* SEAM_TK_SYNC_PROTO_* */
    uint8_t transport;            /* SEAM_TK_SYNC_TRANSPORT_* */
    uint8_t sync_type;            /* 200..205 */
    const uint8_t *source_device; /* device identifier, e.g. "IMEI:490154203237518" */
    size_t source_device_len;
    const uint8_t *source_uri; /* the terminal's database */
    size_t source_uri_len;
    const uint8_t *target_url; /* the server */
    size_t target_url_len;
    const uint8_t *target_uri; /* the server's database */
    size_t target_uri_len;
    uint8_t wants_result; /* S7: SEAM_TK_SYNC_RESULT_* */
} seam_tk_sync_request;

/*
 * Builds REQUEST SYNCHRONIZATION (type SEAM_TK_CMD_REQUEST_SYNC, qualifier
 * 00, to the terminal) with every object of *req, each with CR set.
 * SEAM_ERR_ARG for values out of range, empty strings, or a command that
 * does not fit one template.
 */
seam_err seam_tk_build_request_sync(uint8_t number, const seam_tk_sync_request *req, uint8_t *out,
                                    size_t cap, size_t *out_len);

/*
 * Decodes the objects of a REQUEST SYNCHRONIZATION (seam_tk_command.objects).
 * Every object is required, values in range, and each string non-empty: a
 * missing one is SEAM_ERR_NOT_FOUND (answer 36), a bad one SEAM_ERR_MALFORMED
 * (answer 32).
 */
seam_err seam_tk_sync_request_decode(const uint8_t *objects, size_t len, seam_tk_sync_request *out);

/* ------------------------------------------------------------------------ */
/* TERMINAL RESPONSE                                                         */
/* ------------------------------------------------------------------------ */

/* A decoded TERMINAL RESPONSE. Pointers point into the decoded input. */
typedef struct {
    seam_tk_details details;   /* as the command had them */
    uint8_t source;            /* SEAM_TK_DEV_TERMINAL */
    uint8_t dest;              /* SEAM_TK_DEV_UICC */
    uint8_t general;           /* SEAM_TK_RES_* */
    const uint8_t *additional; /* additional information on the result, */
    size_t additional_len;     /* may be empty */
    const uint8_t *objects;    /* the objects after the result */
    size_t objects_len;
} seam_tk_response;

/*
 * Builds a TERMINAL RESPONSE (no template): 81 03 details, 82 02 82 81,
 * 83 (general + additional[0..additional_len)), then extra[0..extra_len)
 * (already-encoded objects, e.g. 8D for GET INKEY, 94 for the IMEI). The whole
 * must fit SEAM_TK_MAX_VALUE bytes (one APDU's data), else SEAM_ERR_ARG.
 */
seam_err seam_tk_response_build(const seam_tk_details *details, uint8_t general,
                                const uint8_t *additional, size_t additional_len,
                                const uint8_t *extra, size_t extra_len, uint8_t *out, size_t cap,
                                size_t *out_len);

/*
 * Decodes a TERMINAL RESPONSE: command details (3 bytes), device identities
 * (2 bytes), result (at least 1 byte), in that order, then well-formed
 * objects. Anything else is SEAM_ERR_MALFORMED (or SEAM_ERR_TRUNCATED).
 */
seam_err seam_tk_response_decode(const uint8_t *data, size_t len, seam_tk_response *out);

/* ------------------------------------------------------------------------ */
/* ENVELOPE                                                                  */
/* ------------------------------------------------------------------------ */

/* A decoded ENVELOPE. Fields a kind does not have are 0 / NULL / false. */
typedef struct {
    uint8_t kind;   /* the template: SEAM_TK_MENU_SELECTION, _EVENT_DOWNLOAD, _TIMER_EXPIRATION */
    uint8_t source; /* device identities */
    uint8_t dest;
    uint8_t item_id;        /* D3: the item chosen */
    bool help;              /* D3: help requested */
    uint8_t event;          /* D6: the event (the list holds exactly one) */
    uint8_t timer_id;       /* D7: 1..8 */
    uint8_t timer_value[3]; /* D7: hh mm ss, swapped BCD */
    const uint8_t *objects; /* every object of the template, for seam_ctlv_find */
    size_t objects_len;
} seam_tk_envelope;

/* D3 { 82 02 01 81, 90 01 item_id, [95 00 when help] }. */
seam_err seam_tk_envelope_menu_selection(uint8_t item_id, bool help, uint8_t *out, size_t cap,
                                         size_t *out_len);

/*
 * D6 { 99 01 event, 82 02 source 81, extra[0..extra_len) } (extra: the
 * event's objects, already encoded, e.g. 9B location status).
 */
seam_err seam_tk_envelope_event(uint8_t event, uint8_t source, const uint8_t *extra,
                                size_t extra_len, uint8_t *out, size_t cap, size_t *out_len);

/* D7 { 82 02 82 81, A4 01 timer_id, A5 03 value }. timer_id 1..8. */
seam_err seam_tk_envelope_timer(uint8_t timer_id, const uint8_t value[3], uint8_t *out, size_t cap,
                                size_t *out_len);

/*
 * Decodes an ENVELOPE of the three kinds above (exactly one template, nothing
 * after it): device identities required (2 bytes, destination UICC); D3
 * needs an item identifier (1 byte); D6 an event list of exactly one event;
 * D7 a timer identifier (1..8) and a timer value (3 bytes). Other templates
 * are SEAM_ERR_UNSUPPORTED; shapes that break these rules SEAM_ERR_MALFORMED.
 */
seam_err seam_tk_envelope_decode(const uint8_t *data, size_t len, seam_tk_envelope *out);

#endif
