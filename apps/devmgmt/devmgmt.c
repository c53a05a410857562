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
 *                    03 failed, 04 refused by the user), the terminal's general
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
 * the counts (7F D3 09) or the failure class (20 Ex) kept beside it. Then
 * PROVIDE LOCAL INFORMATION (date and time) for the record, then DISPLAY TEXT
 * of the outcome to the user (S9): "Sync done: 3 sent, 5 received" with
 * counts, "Sync failed: server unreachable" (E1; E2 authentication refused,
 * E3 slow sync refused, E4 bad server messages, E5 not supported, E6 device
 * database error) with a class, else "Device synchronized", "Sync not
 * supported", "Sync failed", "Sync cancelled".
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01));

#define INS_REGISTER   0x10u
#define INS_STATUS     0x20u
#define INS_STORE_DATA 0xE2u

#define TAG_EVENTS    0xDF10u
#define TAG_THRESHOLD 0xDF11u
#define TAG_INTERVAL  0xDF12u
#define TAG_URL       0xDF13u
#define TAG_URI       0xDF14u
#define TAG_ASK       0xDF15u
#define TAG_LOCAL_URI 0xDF16u
#define TAG_DEVICE    0xDF17u
#define TAG_CALLERS   0xDF18u
#define TAG_DISPLAY   0xDF19u
#define TAG_SYNC_NOW  0xDF20u

#define EVENTS_MAX    8u
#define URL_MAX       64u
#define URI_MAX       48u
#define LOCAL_URI_MAX 32u
#define DEVICE_MAX    32u
#define CALLERS_MAX   (4u * 17u)
#define PERSO_MAX     255u

#define MENU_ITEM 1u
#define TIMER_ID  1u

/* outcomes */
#define OUT_NONE        0u
#define OUT_OK          1u
#define OUT_UNSUPPORTED 2u
#define OUT_FAILED      3u
#define OUT_REFUSED     4u

/* triggers */
#define TRIG_EVENT    1u
#define TRIG_TIMER    2u
#define TRIG_MENU     3u
#define TRIG_OPERATOR 4u
#define TRIG_APPLET   5u

/* proactive command types (TS 102 223 §9.4; 5F is seam's) */
#define CMD_SET_UP_EVENT_LIST 0x05u
#define CMD_DISPLAY_TEXT      0x21u
#define CMD_GET_INKEY         0x22u
#define CMD_SET_UP_MENU       0x25u
#define CMD_PROVIDE_LOCAL     0x26u
#define CMD_TIMER_MANAGEMENT  0x27u
#define CMD_REQUEST_SYNC      0x5Fu

#define LAST_SIZE     20u
#define LAST_SIZE_V10 12u     /* the entry "last" of version 1.0, before the counts */
#define TAG_COUNTS    0x5309u /* seam's counts object, 7F D3 09 (docs/toolkit.md) */
#define FAIL_FIRST    0xE1u   /* the failure classes E1..E6 of result 20 */
#define FAIL_LAST     0xE6u

static struct {
    /* policy */
    uint8_t events[EVENTS_MAX];
    uint8_t events_len;
    uint8_t threshold;
    uint8_t interval[3];
    uint8_t url[URL_MAX];
    uint8_t url_len;
    uint8_t uri[URI_MAX];
    uint8_t uri_len;
    uint8_t local_uri[LOCAL_URI_MAX];
    uint8_t local_uri_len;
    uint8_t device[DEVICE_MAX];
    uint8_t device_len;
    uint8_t ask;
    uint8_t callers[CALLERS_MAX]; /* DF18: AID length, AID, ... */
    uint8_t callers_len;
    uint8_t display_quick; /* DF19 00: the result clears after a delay (0: waits for the user) */
    /* the last result (S7) */
    uint8_t last[LAST_SIZE];
    /* the running sync */
    uint8_t counted;
    uint8_t step;   /* the type of the command awaiting its answer, 0 none (informative) */
    uint8_t set_up; /* the registration chain ran once */
    uint8_t trigger;
    uint8_t sync_type;
    uint8_t number; /* the last command number used */
} dm = {.last = {OUT_NONE, 0xFF}};

/* ---- building proactive commands ------------------------------------------------- */

typedef struct {
    uint8_t buf[SEAM_TOOLKIT_COMMAND_MAX + 3];
    uint32_t len; /* bytes of the value so far (after a 3-byte header slot) */
    bool overflow;
} builder;

static void put(builder *b, const void *data, uint32_t len) {
    if (b->overflow || len > SEAM_TOOLKIT_COMMAND_MAX - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->buf + 3 + b->len, data, len);
    b->len += len;
}

/* A COMPREHENSION-TLV: a 1-byte tag (CR as given in it) or a 3-byte seam tag with CR. */
static void put_object(builder *b, uint32_t tag, const void *value, uint32_t len) {
    uint8_t head[5];
    uint32_t n = 0;
    if (tag > 0xFFu) {
        head[n++] = 0x7Fu;
        head[n++] = (uint8_t)((tag >> 8) | 0x80u); /* CR: bit 16 of the two tag bytes */
        head[n++] = (uint8_t)tag;
    } else {
        head[n++] = (uint8_t)tag;
    }
    if (len > 0x7Fu) {
        head[n++] = 0x81u;
    }
    head[n++] = (uint8_t)len;
    put(b, head, n);
    put(b, value, len);
}

/* Starts a command: command details (a new number) and device identities. */
static void begin(builder *b, uint8_t type, uint8_t qualifier, uint8_t dest) {
    uint8_t details[3];
    uint8_t devices[2] = {0x81u, dest};
    b->len = 0;
    b->overflow = false;
    dm.number = dm.number >= 0xFEu ? 1u : (uint8_t)(dm.number + 1u);
    details[0] = dm.number;
    details[1] = type;
    details[2] = qualifier;
    put_object(b, 0x81u, details, 3);
    put_object(b, 0x82u, devices, 2);
}

/* Wraps the objects in D0 and queues the command; true when queued. */
static bool send_command(builder *b) {
    const uint8_t *start;
    uint32_t total;
    if (b->overflow || b->len > 0xFFu) {
        return false;
    }
    if (b->len > 0x7Fu) {
        b->buf[0] = 0xD0u;
        b->buf[1] = 0x81u;
        b->buf[2] = (uint8_t)b->len;
        start = b->buf;
        total = b->len + 3;
    } else {
        b->buf[1] = 0xD0u;
        b->buf[2] = (uint8_t)b->len;
        start = b->buf + 1;
        total = b->len + 2;
    }
    if (seam_toolkit_proactive(start, total) != 0) {
        return false;
    }
    dm.step = b->buf[3 + 3]; /* the type in command details (81 03 nn type qq) */
    return true;
}

static bool text_command(uint8_t type, uint8_t qualifier, uint8_t dest, const char *text) {
    builder b;
    uint8_t value[64];
    uint32_t n = 0;
    value[n++] = 0x04u; /* 8-bit data */
    while (text[n - 1] != 0 && n < sizeof value) {
        value[n] = (uint8_t)text[n - 1];
        n++;
    }
    begin(&b, type, qualifier, dest);
    put_object(&b, 0x8Du, value, n);
    return send_command(&b);
}

/* ---- the registration chain ------------------------------------------------------- */

static bool has_timer(void) {
    return (dm.interval[0] | dm.interval[1] | dm.interval[2]) != 0;
}

static void start_timer(void) {
    builder b;
    uint8_t id = TIMER_ID;
    begin(&b, CMD_TIMER_MANAGEMENT, 0x00, 0x82u);
    put_object(&b, 0xA4u, &id, 1);
    put_object(&b, 0xA5u, dm.interval, 3);
    (void)send_command(&b);
}

static void send_event_list(void) {
    builder b;
    begin(&b, CMD_SET_UP_EVENT_LIST, 0x00, 0x82u);
    put_object(&b, 0x99u, dm.events, dm.events_len);
    (void)send_command(&b);
}

static bool send_menu(void) {
    static const char title[] = "Device management";
    static const char item[] = "Sync device";
    builder b;
    uint8_t entry[1 + sizeof item - 1];
    entry[0] = MENU_ITEM;
    memcpy(entry + 1, item, sizeof item - 1);
    begin(&b, CMD_SET_UP_MENU, 0x00, 0x82u);
    put_object(&b, 0x85u, title, sizeof title - 1);
    put_object(&b, 0x8Fu, entry, sizeof entry);
    return send_command(&b);
}

/* Registers the menu item, the counting events and the timer with the card (its RAM:
   again after every power-up). */
static bool register_card(void) {
    if (seam_toolkit_register(SEAM_TOOLKIT_MENU_ITEM, MENU_ITEM, 1) != 0) {
        return false;
    }
    for (uint32_t i = 0; i < dm.events_len; i++) {
        if (seam_toolkit_register(SEAM_TOOLKIT_EVENT, dm.events[i], 1) != 0) {
            return false;
        }
    }
    return !has_timer() || seam_toolkit_register(SEAM_TOOLKIT_TIMER, TIMER_ID, 1) == 0;
}

/* Releases the events of old[0..len) that the policy no longer lists (a new DF10): the
   card forgets them in its image and stops telling the terminal of them. */
static void release_dropped(const uint8_t *old, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) {
        bool kept = false;
        for (uint32_t j = 0; j < dm.events_len && !kept; j++) {
            kept = dm.events[j] == old[i];
        }
        if (!kept) {
            (void)seam_toolkit_register(SEAM_TOOLKIT_EVENT, old[i], 0);
        }
    }
}

/* ---- the sync chain ----------------------------------------------------------------- */

static void record(uint8_t outcome, uint8_t general) {
    uint32_t count = seam_get_u16(dm.last + 10);
    dm.last[0] = outcome;
    dm.last[1] = general;
    dm.last[2] = dm.trigger;
    memset(dm.last + 3, 0, 7);
    memset(dm.last + 12, 0, LAST_SIZE - 12); /* the class and counts of this one only */
    if (outcome != OUT_REFUSED) {
        seam_put_u16(dm.last + 10, count + 1u);
    }
}

/* Appends text to out[*n..cap - 1) and keeps it a C string. */
static void append(char *out, uint32_t cap, uint32_t *n, const char *text) {
    while (*text != 0 && *n + 1 < cap) {
        out[(*n)++] = *text++;
    }
    out[*n] = 0;
}

/* Appends v in decimal. */
static void append_number(char *out, uint32_t cap, uint32_t *n, uint32_t v) {
    char digits[6];
    uint32_t d = sizeof digits - 1;
    digits[d] = 0;
    do {
        digits[--d] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && d > 0);
    append(out, cap, n, digits + d);
}

static void tell(void) {
    static const char *const texts[] = {"", "Device synchronized", "Sync not supported",
                                        "Sync failed", "Sync cancelled"};
    static const char *const classes[] = {"server unreachable", "authentication refused",
                                          "slow sync refused",  "bad server messages",
                                          "not supported",      "device database error"};
    uint8_t outcome = dm.last[0] <= OUT_REFUSED ? dm.last[0] : OUT_FAILED;
    char text[48];
    uint32_t n = 0;
    text[0] = 0;
    if (outcome == OUT_OK && dm.last[13] != 0) { /* the terminal's counts (S7) */
        append(text, sizeof text, &n, "Sync done: ");
        append_number(text, sizeof text, &n, seam_get_u16(dm.last + 14));
        append(text, sizeof text, &n, " sent, ");
        append_number(text, sizeof text, &n, seam_get_u16(dm.last + 16));
        append(text, sizeof text, &n, " received");
    } else if (outcome == OUT_FAILED && dm.last[12] != 0) { /* its failure class */
        append(text, sizeof text, &n, "Sync failed: ");
        append(text, sizeof text, &n, classes[dm.last[12] - FAIL_FIRST]);
    } else {
        append(text, sizeof text, &n, texts[outcome]);
    }
    /* qualifier bit 8: wait for the user to clear the message (TS 102 223 §8.6) */
    (void)text_command(CMD_DISPLAY_TEXT, dm.display_quick ? 0x00u : 0x80u, 0x02u, text);
}

static void finish(void) {
    if (dm.trigger == TRIG_TIMER && has_timer()) {
        start_timer();
    }
}

static bool request_sync(void) {
    static const char default_uri[] = "./devinfo";
    static const char default_device[] = "IMEI:unknown";
    builder b;
    uint8_t byte;
    begin(&b, CMD_REQUEST_SYNC, 0x00, 0x82u);
    byte = 0x01u; /* OMA DS 1.2 */
    put_object(&b, 0x5301u, &byte, 1);
    byte = 0x01u; /* HTTP */
    put_object(&b, 0x5302u, &byte, 1);
    put_object(&b, 0x5303u, &dm.sync_type, 1);
    if (dm.device_len != 0) {
        put_object(&b, 0x5304u, dm.device, dm.device_len);
    } else {
        put_object(&b, 0x5304u, default_device, sizeof default_device - 1);
    }
    if (dm.local_uri_len != 0) {
        put_object(&b, 0x5305u, dm.local_uri, dm.local_uri_len);
    } else {
        put_object(&b, 0x5305u, default_uri, sizeof default_uri - 1);
    }
    put_object(&b, 0x5306u, dm.url, dm.url_len);
    put_object(&b, 0x5307u, dm.uri, dm.uri_len);
    byte = 0x01u; /* S7: wants the result */
    put_object(&b, 0x5308u, &byte, 1);
    return send_command(&b);
}

/* A trigger: starts a sync unless the policy lacks the server or a command of the
   applet is outstanding (the card's queue says BUSY: one sync at a time). */
static bool trigger(uint8_t source, uint8_t sync_type) {
    uint8_t old_trigger = dm.trigger;
    uint8_t old_type = dm.sync_type;
    bool queued;
    if (dm.url_len == 0 || dm.uri_len == 0) {
        return false;
    }
    dm.trigger = source;
    dm.sync_type = sync_type;
    if (dm.ask) {
        queued = text_command(CMD_GET_INKEY, 0x04u, 0x82u, "Synchronize device now?");
    } else {
        queued = request_sync();
    }
    if (queued) {
        dm.counted = 0;
    } else {
        dm.trigger = old_trigger;
        dm.sync_type = old_type;
    }
    return queued;
}

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
    builder b;
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
        if (general <= 0x0Fu) {
            record(OUT_OK, general);
            /* the counts: the type that ran, sent, received, conflicts (S7) */
            if (seam_toolkit_find(buf, len, TAG_COUNTS, &value, &value_len) && value_len == 7 &&
                value[0] >= 200u && value[0] <= 205u) {
                memcpy(dm.last + 13, value, 7);
            }
        } else if (general == 0x30u || general == 0x31u) {
            record(OUT_UNSUPPORTED, general);
        } else {
            record(OUT_FAILED, general);
            /* 20 and the failure class (additional information: 83 02 20 Ex) */
            if (general == 0x20u && seam_toolkit_find(buf, len, 0x03u, &value, &value_len) &&
                value_len == 2 && value[1] >= FAIL_FIRST && value[1] <= FAIL_LAST) {
                dm.last[12] = value[1];
            }
        }
        begin(&b, CMD_PROVIDE_LOCAL, 0x03u, 0x82u); /* date, time and time zone */
        if (!send_command(&b)) {
            tell();
        }
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

SEAM_ENTRY(event_download) uint32_t event_download(void) {
    uint8_t event;
    if (!envelope_byte(0x19u, &event)) {
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

/* ---- personalization: the operator's policy ------------------------------------------ */

static bool string_ok(uint32_t len, uint32_t max) {
    return len >= 1 && len <= max;
}

/* DF18: entries of AID length (5..16) and AID filling value[0..len), at most 4. */
static bool callers_ok(const uint8_t *value, uint32_t len) {
    uint32_t o = 0;
    uint32_t entries = 0;
    while (o < len) {
        uint32_t n = value[o];
        if (n < 5u || n > 16u || n > len - o - 1 || ++entries > 4u) {
            return false;
        }
        o += 1 + n;
    }
    return true;
}

SEAM_ENTRY(personalize) uint32_t personalize(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + PERSO_MAX];
    seam_command cmd;
    uint32_t off = 0;
    uint32_t tag;
    const uint8_t *value;
    uint32_t value_len;
    int32_t sync_now = -1;
    bool policy = false; /* the block sets policy (else it is only the trigger) */
    uint8_t old_events[EVENTS_MAX];
    uint32_t old_events_len = dm.events_len;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.ins != INS_STORE_DATA) {
        return SW_INS_NOT_SUPPORTED;
    }
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    /* check the whole block first */
    while (off < cmd.nc) {
        bool ok;
        if (!seam_ber_next(cmd.data, cmd.nc, &off, &tag, &value, &value_len)) {
            return SW_WRONG_DATA;
        }
        switch (tag) {
        case TAG_EVENTS:
            ok = value_len <= EVENTS_MAX;
            break;
        case TAG_THRESHOLD:
            ok = value_len == 1;
            break;
        case TAG_INTERVAL:
            ok = value_len == 3;
            break;
        case TAG_URL:
            ok = string_ok(value_len, URL_MAX);
            break;
        case TAG_URI:
            ok = string_ok(value_len, URI_MAX);
            break;
        case TAG_ASK:
            ok = value_len == 1 && value[0] <= 1u;
            break;
        case TAG_LOCAL_URI:
            ok = string_ok(value_len, LOCAL_URI_MAX);
            break;
        case TAG_DEVICE:
            ok = string_ok(value_len, DEVICE_MAX);
            break;
        case TAG_SYNC_NOW:
            ok = value_len == 1 && value[0] >= 200u && value[0] <= 205u;
            break;
        case TAG_CALLERS:
            ok = callers_ok(value, value_len);
            break;
        case TAG_DISPLAY:
            ok = value_len == 1 && value[0] <= 1u;
            break;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            return SW_WRONG_DATA;
        }
    }
    memcpy(old_events, dm.events, sizeof old_events);
    off = 0;
    while (seam_ber_next(cmd.data, cmd.nc, &off, &tag, &value, &value_len)) {
        switch (tag) {
        case TAG_EVENTS:
            memcpy(dm.events, value, value_len);
            dm.events_len = (uint8_t)value_len;
            break;
        case TAG_THRESHOLD:
            dm.threshold = value[0];
            break;
        case TAG_INTERVAL:
            memcpy(dm.interval, value, 3);
            break;
        case TAG_URL:
            memcpy(dm.url, value, value_len);
            dm.url_len = (uint8_t)value_len;
            break;
        case TAG_URI:
            memcpy(dm.uri, value, value_len);
            dm.uri_len = (uint8_t)value_len;
            break;
        case TAG_ASK:
            dm.ask = value[0];
            break;
        case TAG_LOCAL_URI:
            memcpy(dm.local_uri, value, value_len);
            dm.local_uri_len = (uint8_t)value_len;
            break;
        case TAG_DEVICE:
            memcpy(dm.device, value, value_len);
            dm.device_len = (uint8_t)value_len;
            break;
        case TAG_CALLERS:
            memcpy(dm.callers, value, value_len);
            dm.callers_len = (uint8_t)value_len;
            break;
        case TAG_DISPLAY:
            dm.display_quick = value[0] == 0 ? 1u : 0u;
            break;
        default: /* TAG_SYNC_NOW */
            sync_now = value[0];
            break;
        }
        policy = policy || tag != TAG_SYNC_NOW;
    }
    if (policy && seam_upgrade_previous_version() == 0) {
        release_dropped(old_events, old_events_len);
    }
    if (!policy) {
        /* only DF20: a command, not data; the card does not file it (no restore quota) */
        (void)seam_personalize_command();
    } else if (seam_upgrade_previous_version() == 0 && register_card() && !dm.set_up) {
        /* A fresh policy: registered with the card now, no SELECT needed (issue 13). The
           card keeps the item and events in its image and tells the terminal after every
           TERMINAL PROFILE; the SET UP MENU queued here gives the card the item's text and,
           once fetched, starts the chain (events, timer). Not at a replay after an upgrade:
           the card kept the registrations across it. */
        dm.set_up = send_menu() ? 1u : 0u;
    }
    if (sync_now >= 0 && seam_upgrade_previous_version() == 0) {
        (void)trigger(TRIG_OPERATOR, (uint8_t)sync_now);
    }
    return SW_NO_ERROR;
}

/* ---- upgrade: the last result --------------------------------------------------------- */

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    static const char name[] = "last";
    return seam_restore_put(name, sizeof name - 1, dm.last, LAST_SIZE) == 0 ? SW_NO_ERROR : 0x6A84u;
}

SEAM_ENTRY(restore_after_upgrade) uint32_t restore_after_upgrade(void) {
    static const char name[] = "last";
    uint8_t last[LAST_SIZE] = {0};
    int32_t r = seam_restore_get(name, sizeof name - 1, last, sizeof last);
    if (r == SEAM_RESTORE_ERR_ABSENT) {
        return SW_NO_ERROR;
    }
    if ((r != (int32_t)LAST_SIZE && r != (int32_t)LAST_SIZE_V10) || last[0] > OUT_REFUSED ||
        (last[12] != 0 && (last[12] < FAIL_FIRST || last[12] > FAIL_LAST))) {
        return SW_WRONG_DATA;
    }
    if (r == (int32_t)LAST_SIZE_V10) {
        memset(last + LAST_SIZE_V10, 0, LAST_SIZE - LAST_SIZE_V10); /* 1.0 kept no counts */
    }
    memcpy(dm.last, last, LAST_SIZE);
    return SW_NO_ERROR;
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
