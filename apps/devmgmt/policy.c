/* devmgmt: the operator's policy (STORE DATA) and the last result across an upgrade
   (devmgmt.h, devmgmt.c's header). */
#include "devmgmt.h"

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
        case TAG_PROTOCOL: /* 01 OMA DS 1.2, 02 seam's changeset protocol */
        case TAG_REPORT:   /* 01 in the TERMINAL RESPONSE, 02 later by ENVELOPE */
            ok = value_len == 1 && value[0] >= 1u && value[0] <= 2u;
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
        case TAG_PROTOCOL:
            dm.protocol = value[0];
            break;
        case TAG_REPORT:
            dm.report_later = value[0] == 2u ? 1u : 0u;
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
    if ((r != (int32_t)LAST_SIZE && r != (int32_t)LAST_SIZE_V10) || last[0] > OUT_PENDING ||
        (last[12] != 0 && (last[12] < FAIL_FIRST || last[12] > FAIL_LAST))) {
        return SW_WRONG_DATA;
    }
    if (r == (int32_t)LAST_SIZE_V10) {
        memset(last + LAST_SIZE_V10, 0, LAST_SIZE - LAST_SIZE_V10); /* 1.0 kept no counts */
    }
    memcpy(dm.last, last, LAST_SIZE);
    return SW_NO_ERROR;
}
