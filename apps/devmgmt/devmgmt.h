/*
 * devmgmt's parts (apps/devmgmt/devmgmt.c has the reference): the state kept in
 * the applet's globals, and the functions the files share. devmgmt.c: the
 * entry points (select, commands, toolkit, service); commands.c: proactive
 * commands and the registration chain; sync.c: a sync, its result and what
 * the user is shown; policy.c: the operator's STORE DATA and the upgrade's
 * restore entry.
 */
#ifndef DEVMGMT_H
#define DEVMGMT_H

#include "seam/applet.h"

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
#define TAG_PROTOCOL  0xDF1Au
#define TAG_REPORT    0xDF1Bu
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
#define OUT_PENDING     5u /* accepted; the result comes later by ENVELOPE (DF1B 02) */

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
#define TAG_REFERENCE 0x530Au /* the request's reference, 7F D3 0A: "the result follows" */
#define FAIL_FIRST    0xE1u   /* the failure classes E1..E6 of result 20 */
#define FAIL_LAST     0xE6u

/* The applet's state: its globals, which the card keeps (applet-abi.md). */
typedef struct {
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
    /* kept last, after the fields of devmgmt before S7's later report */
    uint8_t protocol;     /* DF1A: 01 OMA DS 1.2, 02 seam's changeset protocol (0: 01) */
    uint8_t report_later; /* DF1B 02: the result later by ENVELOPE (event E2) */
    uint8_t pending_ref;  /* OUT_PENDING: the reference the terminal gave */
} devmgmt_state;

extern devmgmt_state dm;

/* A proactive command being built: the D0 header goes in the 3-byte slot at the front. */
typedef struct {
    uint8_t buf[SEAM_TOOLKIT_COMMAND_MAX + 3];
    uint32_t len; /* bytes of the value so far (after a 3-byte header slot) */
    bool overflow;
} builder;

/* commands.c */
/* Appends data[0..len) to the command's value; overflow marks the command unsendable. */
void put(builder *b, const void *data, uint32_t len);
/* Appends a COMPREHENSION-TLV: a 1-byte tag (CR as given) or a 3-byte seam tag with CR. */
void put_object(builder *b, uint32_t tag, const void *value, uint32_t len);
/* Starts a command: command details (a new number) and device identities 81 -> dest. */
void begin(builder *b, uint8_t type, uint8_t qualifier, uint8_t dest);
/* Wraps the objects in D0 and queues the command; true when the card queued it. */
bool send_command(builder *b);
/* Queues a command with one 8-bit text string (8D); true when queued. */
bool text_command(uint8_t type, uint8_t qualifier, uint8_t dest, const char *text);
/* True when the policy has a sync interval. */
bool has_timer(void);
/* Queues TIMER MANAGEMENT (start timer 1 with the interval). */
void start_timer(void);
/* Queues SET UP EVENT LIST of the counting events. */
void send_event_list(void);
/* Queues SET UP MENU with the item "Sync device"; true when queued. */
bool send_menu(void);
/* Registers the menu item, the counting events and the timer with the card; true when all were. */
bool register_card(void);
/* Releases the events of old[0..len) that the policy no longer lists. */
void release_dropped(const uint8_t *old, uint32_t len);

/* sync.c */
/* Records an outcome and the terminal's general result as the last result (counts one request
   unless refused by the user). */
void record(uint8_t outcome, uint8_t general);
/* Queues DISPLAY TEXT of the last result (S9). */
void tell(void);
/* After the result was shown: starts the timer again when the timer triggered the sync. */
void finish(void);
/* Records the terminal's account of a sync: general result and objects[0..len) of its
   TERMINAL RESPONSE (counted a request) or of its later report (counted already). */
void take_result(uint8_t general, const uint8_t *objects, uint32_t len, bool counted);
/* Queues PROVIDE LOCAL INFORMATION (date, time) for the record, then DISPLAY TEXT follows;
   the DISPLAY TEXT at once when it cannot be queued. */
void after_result(void);
/* Queues REQUEST SYNCHRONIZATION from the policy; true when queued. */
bool request_sync(void);
/* A trigger from source: starts a sync of sync_type; false when none could start. */
bool trigger(uint8_t source, uint8_t sync_type);

#endif
