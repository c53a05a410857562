/* devmgmt: a sync, its result and what the user is shown (devmgmt.h, devmgmt.c's header). */
#include "devmgmt.h"

/* ---- the sync chain ----------------------------------------------------------------- */

void record(uint8_t outcome, uint8_t general) {
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

void tell(void) {
    static const char *const texts[] = {"",
                                        "Device synchronized",
                                        "Sync not supported",
                                        "Sync failed",
                                        "Sync cancelled",
                                        "Sync started"};
    static const char *const classes[] = {"server unreachable", "authentication refused",
                                          "slow sync refused",  "bad server messages",
                                          "not supported",      "device database error"};
    uint8_t outcome = dm.last[0] <= OUT_PENDING ? dm.last[0] : OUT_FAILED;
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

void finish(void) {
    if (dm.trigger == TRIG_TIMER && has_timer()) {
        start_timer();
    }
}

bool request_sync(void) {
    static const char default_uri[] = "./devinfo";
    static const char default_device[] = "IMEI:unknown";
    builder b;
    uint8_t byte;
    begin(&b, CMD_REQUEST_SYNC, 0x00, 0x82u);
    byte = dm.protocol != 0 ? dm.protocol : 0x01u; /* DF1A; OMA DS 1.2 by default */
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
    byte = dm.report_later ? 0x02u : 0x01u; /* S7: wants the result, now or later (DF1B) */
    put_object(&b, 0x5308u, &byte, 1);
    return send_command(&b);
}

void take_result(uint8_t general, const uint8_t *objects, uint32_t len, bool counted) {
    const uint8_t *value;
    uint32_t value_len;
    uint8_t requests[2];
    memcpy(requests, dm.last + 10, 2);
    if (general <= 0x0Fu) {
        record(OUT_OK, general);
        /* the counts: the type that ran, sent, received, conflicts (S7) */
        if (seam_toolkit_find(objects, len, TAG_COUNTS, &value, &value_len) && value_len == 7 &&
            value[0] >= 200u && value[0] <= 205u) {
            memcpy(dm.last + 13, value, 7);
        }
    } else if (general == 0x30u || general == 0x31u) {
        record(OUT_UNSUPPORTED, general);
    } else {
        record(OUT_FAILED, general);
        /* 20 and the failure class (additional information: 83 02 20 Ex) */
        if (general == 0x20u && seam_toolkit_find(objects, len, 0x03u, &value, &value_len) &&
            value_len == 2 && value[1] >= FAIL_FIRST && value[1] <= FAIL_LAST) {
            dm.last[12] = value[1];
        }
    }
    if (counted) { /* a later report: its request was counted when it was accepted */
        memcpy(dm.last + 10, requests, 2);
    }
}

void after_result(void) {
    builder b;
    begin(&b, CMD_PROVIDE_LOCAL, 0x03u, 0x82u); /* date, time and time zone */
    if (!send_command(&b)) {
        tell();
    }
}

/* A trigger: starts a sync unless the policy lacks the server or a command of the
   applet is outstanding (the card's queue says BUSY: one sync at a time). */
bool trigger(uint8_t source, uint8_t sync_type) {
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
