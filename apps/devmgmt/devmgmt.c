/*
 * devmgmt: the operator's device-management applet (issue 13; S1, S2, S5, S7,
 * S9). It decides, by the operator's policy, when the terminal's
 * device-management database should be synchronized with the operator's
 * server, and asks the terminal with REQUEST SYNCHRONIZATION (seam's proactive
 * command, type 5F, include/seam/toolkit.h and docs/toolkit.md).
 *
 * Policy (entry point personalize): STORE DATA blocks (80 E2 P1 P2 || data, at
 * most 255 data bytes, else 6700; an INS other than E2 6D00) sent by the
 * operator to the applet's security domain over SCP03 (INSTALL [for
 * personalization], then STORE DATA). Each block is a sequence of BER-TLV;
 * the whole block is checked before anything is set (an unknown tag, a bad
 * length or malformed TLV: 6A80, nothing changed); a repeated tag: the last
 * wins.
 *
 *   DF10  events that count, 0..8 event values (TS 102 223 §8.25, e.g. 03
 *         location status); empty: none. A new list registers its events with
 *         the card and releases those of the old list it drops
 *   DF11  threshold, 1 byte: a sync when that many counting events came (0 off)
 *   DF12  sync interval, 3 bytes: a TIMER MANAGEMENT value (hh mm ss, swapped
 *         BCD); 00 00 00: no timer
 *   DF13  server URL, 1..64 bytes
 *   DF14  server database URI, 1..48 bytes
 *   DF15  ask the user first, 1 byte: 00 no, 01 yes
 *   DF16  the terminal's database URI, 1..32 bytes (default "./devinfo")
 *   DF17  device identifier, 1..32 bytes (default "IMEI:unknown")
 *   DF18  the applets that may ask for a sync (service, below): 0..4 entries
 *         of AID length (5..16) and AID; empty: none (the default)
 *   DF19  how the result is shown, 1 byte: 01 DISPLAY TEXT waits for the user
 *         to clear it (qualifier bit 8, the default), 00 the terminal clears
 *         it after a delay. Whatever the terminal answers (00, 12 no response
 *         from the user, 10 ended by the user), the session ends there and the
 *         result stays as recorded.
 *   DF1A  the protocol REQUEST SYNCHRONIZATION names, 1 byte: 01 OMA DS 1.2
 *         (the default), 02 seam's changeset protocol
 *   DF1B  how the result comes, 1 byte: 01 in the TERMINAL RESPONSE (the
 *         default), 02 later by ENVELOPE (S7): devmgmt registers seam's
 *         event E2 ("synchronization result") with the card (01 releases it)
 *         and asks with wants result 02
 *   DF20  the operator's remote trigger, 1 byte: the type of synchronization
 *         (OMA DS alert code 200..205). A sync request now (S5); not acted on
 *         when the block is replayed after an upgrade. A block of DF20 alone
 *         is a command, not data: devmgmt declares it so
 *         (seam_personalize_command) and the card does not file it, so
 *         repeated triggers spend no restore quota; a block mixing DF20 with
 *         policy tags is filed (its DF20 is ignored at the replay). Chosen over an ENVELOPE
 *         because STORE DATA reaches the applet only through the security
 *         domain's secure channel (SCP03): nobody but the operator can send it.
 *
 * The card files STORE DATA blocks in the restore module and replays them into
 * personalize after an upgrade: the policy is kept across updates that way.
 * The last result (below) is kept with save_for_upgrade ("last", 20 bytes: STATUS
 * bytes 0..11 then 14..21) and restore_after_upgrade (which takes 1.0's 12 bytes too,
 * with no counts).
 *
 * Service (S5, another applet): an instance of devmgmt's security domain calls
 * seam_service_call(devmgmt's AID, request); the request is 1 byte, the type
 * of synchronization (200..205; else 6A80). A caller whose AID is not in DF18
 * gets 6982 and nothing changes; an allowed one starts a sync (trigger 05):
 * 9000, or 6985 when none could start (one outstanding, or no server in the
 * policy). The card tells devmgmt the caller's AID (seam_service_caller); the
 * status word is all the caller learns.
 *
 * Commands (any CLA, on the applet's channel):
 *
 *   INS 10 REGISTER  registers the menu item (1, "Sync device"), the counting
 *                    events and the timer (1) with the card, and sends SET UP
 *                    MENU, SET UP EVENT LIST and TIMER MANAGEMENT (start) to
 *                    the terminal, one after the other. 6985 when the card
 *                    refuses (a command of the applet outstanding, no room).
 *                    A policy block (personalize, not at a replay after an
 *                    upgrade) registers the item and events with the card,
 *                    which keeps them in its image and announces them after
 *                    every TERMINAL PROFILE: no SELECT is needed. The first
 *                    such block also queues the SET UP MENU that gives the card
 *                    the item's text and starts the chain (events, timer) once
 *                    fetched. At every select after the terminal's profile the
 *                    applet registers again (the timer is RAM), and sends the
 *                    three commands when it never did.
 *   INS 20 STATUS    answers the last result (S7), 22 bytes: outcome (00 none
 *                    yet, 01 synchronized, 02 not supported by the terminal,
 *                    03 failed, 04 refused by the user, 05 pending: accepted,
 *                    the result comes later), the terminal's general
 *                    result (FF none), the trigger (01 policy event, 02 timer,
 *                    03 menu, 04 operator, 05 another applet), the date and time (7 bytes, TS 102
 *                    223 §8.39, from PROVIDE LOCAL INFORMATION; zeros when the
 *                    terminal gave none), the number of requests sent
 *                    (2 bytes); then the counting events seen since the last
 *                    sync (1 byte) and the type of the command that awaits its
 *                    answer (1 byte, 00 none; informative); then the terminal's
 *                    account of that sync (issue 14's answer, docs/toolkit.md
 *                    "seam's choices"): the failure class (1 byte, E1..E6 from
 *                    result 20, else 00) and the counts object's value (7
 *                    bytes: the type that ran, records sent, received and
 *                    conflicts, 2 bytes each; all 00 when the terminal gave none)
 *   other INS        6D00
 *
 * Triggers (S5): a counting event (ENVELOPE D6) that reaches the threshold;
 * the timer's expiration (D7; the timer is started again after the sync, and
 * after every TERMINAL PROFILE: the card's event E1, applet.h, registers the
 * timer again and sends TIMER MANAGEMENT, no SELECT needed);
 * the user choosing the menu item (D3); the operator's DF20 (also while
 * devmgmt is selected on a channel: the card gives the block to the live
 * state there). A trigger while a
 * command of the applet is outstanding is dropped (one sync at a time: the
 * card's queue holds one command per applet). The applet decides what comes
 * next from the type of command each TERMINAL RESPONSE answers, not from its
 * memory, so a power cut in a session leaves nothing stale.
 *
 * A sync: with ask-first, GET INKEY yes/no "Synchronize device now?"; anything
 * but yes records 04 and ends (S9: no REQUEST SYNCHRONIZATION). Then REQUEST
 * SYNCHRONIZATION (OMA DS 1.2, HTTP, the type given, two-way 200 by default,
 * wants the result); its TERMINAL RESPONSE gives the outcome: result 0x =
 * 01, 30 or 31 (the terminal lacks the command) = 02, anything else 03, with
 * the counts (7F D3 09) or the failure class (20 Ex) kept beside it. With
 * DF1B 02 the request asks for the result later (5308 = 02): a TERMINAL
 * RESPONSE 00 with the reference (7F D3 0A, 1 byte) records 05 "pending" and
 * the reference, shows nothing and ends the session; the terminal's report,
 * ENVELOPE D6 { 82 02 82 81, 99 01 E2, 83 result, [counts], 7F D3 0A ref },
 * carrying that reference records the outcome as above (the request counted
 * once) and goes on as below; a report of another reference, or with nothing
 * pending, is ignored. A 00 without the reference is the result itself. A
 * trigger while pending starts a new sync (the old reference is forgotten).
 * Then
 * PROVIDE LOCAL INFORMATION (date and time) for the record, then DISPLAY TEXT
 * of the outcome to the user (S9): "Sync done: 3 sent, 5 received" with
 * counts, "Sync failed: server unreachable" (E1; E2 authentication refused,
 * E3 slow sync refused, E4 bad server messages, E5 not supported, E6 device
 * database error) with a class, else "Device synchronized", "Sync not
 * supported", "Sync failed", "Sync cancelled".
 */
#include "devmgmt.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01));

devmgmt_state dm = {.last = {OUT_NONE, 0xFF}};

/* ---- toolkit entry points ------------------------------------------------------------ */

/* The running entry point's message into buf; its length (0 when too long). */
static uint32_t message(uint8_t *buf, uint32_t cap) {
    uint32_t len = seam_toolkit_message(buf, cap);
    return len <= cap ? len : 0;
}

/* The COMPREHENSION-TLV objects of an ENVELOPE's BER-TLV. */
/* Reads the ENVELOPE's simple-TLV object with tag (a 1-byte value) into *out; false when absent. */
static bool envelope_byte(uint8_t tag, uint8_t *out) {
    uint8_t buf[255];
    uint32_t len = message(buf, sizeof buf);
    uint32_t header = len >= 2 && buf[1] == 0x81u ? 3u : 2u;
    const uint8_t *value;
    uint32_t value_len;
    if (len < header || !seam_toolkit_find(buf + header, len - header, tag, &value, &value_len) ||
        value_len != 1) {
        return false;
    }
    *out = value[0];
    return true;
}

SEAM_ENTRY(terminal_response) uint32_t terminal_response(void) {
    uint8_t buf[255];
    uint32_t len = message(buf, sizeof buf);
    const uint8_t *value;
    uint32_t value_len;
    uint8_t general = 0xFF;
    uint8_t type = 0;
    dm.step = 0;
    if (seam_toolkit_find(buf, len, 0x03u, &value, &value_len) && value_len > 0) {
        general = value[0];
    }
    if (seam_toolkit_find(buf, len, 0x01u, &value, &value_len) && value_len == 3) {
        type = value[1]; /* the card checked it is the type of the command we sent */
    }
    switch (type) {
    case CMD_SET_UP_MENU:
        send_event_list();
        break;
    case CMD_SET_UP_EVENT_LIST:
        if (has_timer()) {
            start_timer();
        }
        break;
    case CMD_GET_INKEY:
        /* yes: 00 and 8D 02 04 01 */
        if (general == 0x00u && seam_toolkit_find(buf, len, 0x0Du, &value, &value_len) &&
            value_len == 2 && value[1] == 0x01u) {
            if (!request_sync()) {
                record(OUT_FAILED, 0xFF);
                tell();
            }
        } else {
            record(OUT_REFUSED, general);
            tell();
        }
        break;
    case CMD_REQUEST_SYNC:
        if (general == 0x00u && dm.report_later &&
            seam_toolkit_find(buf, len, TAG_REFERENCE, &value, &value_len) && value_len == 1) {
            /* accepted: the result follows by ENVELOPE (event E2) with this reference */
            record(OUT_PENDING, general);
            dm.pending_ref = value[0];
            break;
        }
        take_result(general, buf, len, false);
        after_result();
        break;
    case CMD_PROVIDE_LOCAL:
        /* A6 date-time and time zone: 7 bytes */
        if (general <= 0x0Fu && seam_toolkit_find(buf, len, 0x26u, &value, &value_len) &&
            value_len == 7) {
            memcpy(dm.last + 3, value, 7);
        }
        tell();
        break;
    case CMD_DISPLAY_TEXT:
        finish();
        break;
    default:
        break;
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(menu_selection) uint32_t menu_selection(void) {
    uint8_t item;
    if (envelope_byte(0x10u, &item) && item == MENU_ITEM) {
        (void)trigger(TRIG_MENU, 200u);
    }
    return SW_NO_ERROR;
}

/* The terminal's later report (event E2, DF1B 02): D6 { 82 02 82 81, 99 01 E2, 83 result
   (00, or 20 and the class), [counts], 7F D3 0A reference }. Taken when it answers the
   pending request (its reference), else ignored (an old or a foreign report). */
static void sync_result(void) {
    uint8_t buf[255];
    uint32_t len = message(buf, sizeof buf);
    uint32_t header = len >= 2 && buf[1] == 0x81u ? 3u : 2u;
    const uint8_t *value;
    uint32_t value_len;
    uint8_t general;
    if (len < header || dm.last[0] != OUT_PENDING) {
        return;
    }
    if (!seam_toolkit_find(buf + header, len - header, TAG_REFERENCE, &value, &value_len) ||
        value_len != 1 || value[0] != dm.pending_ref) {
        return;
    }
    if (!seam_toolkit_find(buf + header, len - header, 0x03u, &value, &value_len) ||
        value_len < 1) {
        return;
    }
    general = value[0];
    take_result(general, buf + header, len - header, true);
    after_result(); /* the date and time, then DISPLAY TEXT "Sync done: ..." as ever (S9) */
}

SEAM_ENTRY(event_download) uint32_t event_download(void) {
    uint8_t event;
    if (!envelope_byte(0x19u, &event)) {
        return SW_NO_ERROR;
    }
    if (event == SEAM_TOOLKIT_EVENT_SYNC_RESULT) {
        sync_result();
        return SW_NO_ERROR;
    }
    if (event == SEAM_TOOLKIT_EVENT_PROFILE_DOWNLOAD) {
        /* a TERMINAL PROFILE (a power-up): the timer is RAM, start it again (S5) */
        if (register_card() && has_timer()) {
            start_timer();
        }
        return SW_NO_ERROR;
    }
    for (uint32_t i = 0; i < dm.events_len; i++) {
        if (dm.events[i] == event) {
            if (dm.counted < 0xFFu) {
                dm.counted++;
            }
            if (dm.threshold != 0 && dm.counted >= dm.threshold) {
                (void)trigger(TRIG_EVENT, 200u);
            }
            break;
        }
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(timer_expiration) uint32_t timer_expiration(void) {
    uint8_t timer;
    if (envelope_byte(0x24u, &timer) && timer == TIMER_ID) {
        (void)trigger(TRIG_TIMER, 200u);
    }
    return SW_NO_ERROR;
}

/* ---- service: another applet asks (S5) ---------------------------------------------- */

/* True when aid[0..len) is in the DF18 list. */
static bool caller_allowed(const uint8_t *aid, uint32_t len) {
    uint32_t o = 0;
    while (o < dm.callers_len) {
        uint32_t n = dm.callers[o];
        if (n == len && memcmp(dm.callers + o + 1, aid, len) == 0) {
            return true;
        }
        o += 1 + n;
    }
    return false;
}

SEAM_ENTRY(service) uint32_t service(void) {
    uint8_t caller[16];
    uint8_t request[2];
    uint32_t caller_len = seam_service_caller(caller, sizeof caller);
    uint32_t len = seam_toolkit_message(request, sizeof request);
    if (caller_len > sizeof caller || !caller_allowed(caller, caller_len)) {
        return SW_SECURITY_STATUS; /* checked before anything changes */
    }
    if (len != 1 || request[0] < 200u || request[0] > 205u) {
        return SW_WRONG_DATA;
    }
    return trigger(TRIG_APPLET, request[0]) ? SW_NO_ERROR : SW_CONDITIONS_NOT_SATISFIED;
}

/* ---- select and commands ---------------------------------------------------------------- */

SEAM_ENTRY(select) uint32_t select(void) {
    uint8_t profile[1];
    if (seam_toolkit_profile(profile, sizeof profile) != 0 && register_card() && !dm.set_up) {
        dm.set_up = send_menu() ? 1u : 0u;
    }
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t buf[SEAM_APDU_HEADER_SIZE + 16];
    seam_command cmd;
    uint8_t out[LAST_SIZE + 2];
    seam_command_read(&cmd, buf, sizeof buf);
    switch (cmd.ins) {
    case INS_REGISTER:
        if (!register_card() || !send_menu()) {
            return SW_CONDITIONS_NOT_SATISFIED;
        }
        dm.set_up = 1;
        return SW_NO_ERROR;
    case INS_STATUS:
        memcpy(out, dm.last, 12);
        out[12] = dm.counted;
        out[13] = dm.step;
        memcpy(out + 14, dm.last + 12, LAST_SIZE - 12); /* the class and the counts (S7) */
        seam_apdu_send(out, sizeof out);
        return SW_NO_ERROR;
    default:
        return SW_INS_NOT_SUPPORTED;
    }
}
