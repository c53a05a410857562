/*
 * paytv_v2: version 2.0 of the pay-TV subscription card (apps/paytv), same
 * package AID and applet class AID, to be installed over it as an upgrade.
 * Everything paytv 1.0 does works with the same APDUs; new in 2.0 are INS 60
 * REMOVE EXPIRED, room for 32 entitlements and 32 viewings, and a different
 * memory layout (date before channel in each record, the key before the
 * identity). The restore module entries keep 1.0's byte layout.
 *
 * paytv: a pay-TV subscription card. The broadcaster sends entitlements
 * (channel, expiry date) authenticated with a MAC under the card's
 * entitlement key; the set-top box asks whether a channel may be watched,
 * and every granted viewing is logged.
 *
 * Dates (expiry, today) are 4 bytes big-endian, compared as unsigned numbers:
 * YYYYMMDD as a binary number (2026-12-31 = 20261231 = 01 35 29 6F) or a day
 * count, as long as the broadcaster and the box agree. An entitlement is
 * unexpired while today <= expiry.
 *
 * Personalization (entry point personalize): each STORE DATA block
 * (80 E2 P1 P2 || data, P1 and P2 ignored, at most 255 data bytes, else 6700)
 * is a sequence of BER-TLV (one- or two-byte tags, lengths in short form or
 * 81 xx):
 *
 *   DF10  the subscriber identity, 1..16 bytes
 *   DF11  the entitlement key, 16 bytes (an HMAC-SHA256 key)
 *
 * The whole block is checked first: an unknown tag, a bad length or malformed
 * TLV answers 6A80 and changes nothing. The card files the blocks in the
 * restore module, so the identity and key come back after an upgrade through
 * the personalization replay.
 *
 * Commands (any CLA):
 *
 *   INS 10 ADD ENTITLEMENT  data = channel (2) || expiry (4) || MAC (8), the
 *                  MAC being the first 8 bytes of HMAC-SHA256(entitlement
 *                  key, channel || expiry). Adds the entitlement, or replaces
 *                  the expiry of the channel's entitlement (later or
 *                  earlier: the broadcaster may shorten it). 6700 when the
 *                  data is not 14 bytes, 6985 before the key is personalized,
 *                  6982 for a bad MAC, 6A84 when 32 channels are entitled
 *                  already (or the restore module refuses the entry).
 *   INS 20 WATCH   data = channel (2) || today (4). 9000 when the channel has
 *                  an unexpired entitlement; the viewing (channel || today)
 *                  goes into the viewing log (the newest 32 are kept). 6985
 *                  otherwise (nothing logged). 6700 when the data is not 6
 *                  bytes; 6A84 when the restore module refuses the entry.
 *   INS 30 LIST    answers the entitlements in the order they were first
 *                  added, 6 bytes each: channel (2) || expiry (4).
 *   INS 40 READ VIEWING LOG  answers the viewing log, newest first, 6 bytes
 *                  each: channel (2) || date (4).
 *   INS 50 GET IDENTITY  answers the subscriber identity; 6985 before it is
 *                  personalized.
 *   INS 60 REMOVE EXPIRED  data = today (4). Removes the entitlements with
 *                  expiry < today (the others keep their order) and answers
 *                  how many it removed (1 byte). 6700 when the data is not 4
 *                  bytes; 6A84 when the restore module refuses the entry.
 *   other INS      6D00
 *
 * Restore module entries (P7): every command that changes the entitlements
 * or the viewing log first writes the new contents with seam_restore_put,
 * then changes its own memory (a refused put changes nothing):
 *
 *   "entitlements"  what LIST answers: n x (channel (2) || expiry (4))
 *   "viewlog"       what READ VIEWING LOG answers: n x (channel (2) ||
 *                   date (4)), newest first
 *
 * An empty list is written as a deletion (no entry). save_for_upgrade writes
 * both entries again (9000, or 6A84 when refused: the upgrade is cancelled).
 * restore_after_upgrade reads them, by seam_upgrade_previous_version(): 1.x
 * (an upgrade from paytv 1.0, whose entries have the same layout, at most 16
 * records each) and 2.0 (a re-install) alike, converting each 6-byte record
 * into 2.0's memory layout. An absent entry is an empty list (an upgrade with
 * no saved data keeps the freshly personalized, empty state); a length that
 * is not a multiple of 6 or over 32 records answers 6A80 and the old instance
 * stays. A previous version above 2.0 (a downgrade) or 0 (no upgrade)
 * answers 6985, one below 1.0 6A80.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56), 2, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x50, 0x54, 0x56, 0x01));

#define INS_ADD_ENTITLEMENT 0x10u
#define INS_WATCH           0x20u
#define INS_LIST            0x30u
#define INS_READ_VIEW_LOG   0x40u
#define INS_GET_IDENTITY    0x50u
#define INS_REMOVE_EXPIRED  0x60u
#define INS_STORE_DATA      0xE2u

#define ID_MAX     16u
#define KEY_SIZE   16u
#define MAC_SIZE   8u
#define ENT_MAX    32u
#define VIEW_MAX   32u
#define REC_SIZE   6u /* channel (2) || date (4), in APDUs and entries */
#define PERSO_MAX  255u
#define TAG_ID     0xDF10u
#define TAG_KEY    0xDF11u
#define VERSION_10 0x0100u
#define VERSION_20 0x0200u

#define SW_NOT_ENOUGH_MEMORY 0x6A84u

/* seam_restore_put with a string literal as the name. */
#define RESTORE_PUT(name, value, len) seam_restore_put(name, sizeof name - 1, value, len)

typedef struct {
    uint32_t date; /* expiry, or the day watched */
    uint16_t channel;
} record;

static struct {
    uint8_t key[KEY_SIZE];
    uint8_t key_set;
    uint8_t id_len; /* 0: not personalized */
    uint8_t id[ID_MAX];
    uint16_t ent_count;
    uint16_t view_count;
    record ent[ENT_MAX];   /* in the order first added */
    record view[VIEW_MAX]; /* newest first */
} tv;

/* Writes records[0..n) as n x (channel || date) to out; returns the length. */
static uint32_t records_encode(const record *records, uint32_t n, uint8_t *out) {
    for (uint32_t i = 0; i < n; i++) {
        seam_put_u16(out + i * REC_SIZE, records[i].channel);
        seam_put_u32(out + i * REC_SIZE + 2, records[i].date);
    }
    return n * REC_SIZE;
}

/* Reads len bytes of n x (channel || date) into records; returns n. */
static uint32_t records_decode(const uint8_t *in, uint32_t len, record *records) {
    uint32_t n = len / REC_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        records[i].channel = (uint16_t)seam_get_u16(in + i * REC_SIZE);
        records[i].date = seam_get_u32(in + i * REC_SIZE + 2);
    }
    return n;
}

SEAM_ENTRY(personalize) uint32_t personalize(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + PERSO_MAX];
    seam_command cmd;
    const uint8_t *id = NULL;
    uint32_t id_len = 0;
    const uint8_t *key = NULL;
    uint32_t off = 0;
    seam_command_read(&cmd, command, sizeof command);
    if (cmd.ins != INS_STORE_DATA) {
        return SW_INS_NOT_SUPPORTED;
    }
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    while (off < cmd.nc) {
        uint32_t tag;
        const uint8_t *value;
        uint32_t value_len;
        if (!seam_ber_next(cmd.data, cmd.nc, &off, &tag, &value, &value_len)) {
            return SW_WRONG_DATA;
        }
        if (tag == TAG_ID && value_len >= 1 && value_len <= ID_MAX) {
            id = value;
            id_len = value_len;
        } else if (tag == TAG_KEY && value_len == KEY_SIZE) {
            key = value;
        } else {
            return SW_WRONG_DATA;
        }
    }
    if (id != NULL) {
        memcpy(tv.id, id, id_len);
        tv.id_len = (uint8_t)id_len;
    }
    if (key != NULL) {
        memcpy(tv.key, key, KEY_SIZE);
        tv.key_set = 1;
    }
    return SW_NO_ERROR;
}

/* Compares MAC_SIZE bytes without an early exit. */
static bool mac_matches(const uint8_t *a, const uint8_t *b) {
    uint32_t diff = 0;
    for (uint32_t i = 0; i < MAC_SIZE; i++) {
        diff |= (uint32_t)(a[i] ^ b[i]);
    }
    return diff == 0;
}

static uint32_t add_entitlement(const seam_command *cmd) {
    uint8_t mac[SEAM_SHA256_SIZE];
    uint8_t list[(ENT_MAX + 1) * REC_SIZE];
    uint32_t len;
    uint32_t channel;
    uint32_t i;
    if (cmd->nc != REC_SIZE + MAC_SIZE) {
        return SW_WRONG_LENGTH;
    }
    if (!tv.key_set) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    seam_hmac_sha256(tv.key, KEY_SIZE, cmd->data, REC_SIZE, mac);
    if (!mac_matches(mac, cmd->data + REC_SIZE)) {
        return SW_SECURITY_STATUS;
    }
    /* The new list: replace the channel's record or append one. */
    channel = seam_get_u16(cmd->data);
    len = records_encode(tv.ent, tv.ent_count, list);
    for (i = 0; i < tv.ent_count && tv.ent[i].channel != channel; i++) {
    }
    if (i == ENT_MAX) {
        return SW_NOT_ENOUGH_MEMORY;
    }
    memcpy(list + i * REC_SIZE, cmd->data, REC_SIZE);
    if (i == tv.ent_count) {
        len += REC_SIZE;
    }
    if (RESTORE_PUT("entitlements", list, len) != 0) {
        return SW_NOT_ENOUGH_MEMORY;
    }
    tv.ent_count = (uint16_t)records_decode(list, len, tv.ent);
    return SW_NO_ERROR;
}

static uint32_t watch(const seam_command *cmd) {
    uint8_t log[VIEW_MAX * REC_SIZE];
    uint32_t channel;
    uint32_t today;
    uint32_t len;
    bool entitled = false;
    if (cmd->nc != REC_SIZE) {
        return SW_WRONG_LENGTH;
    }
    channel = seam_get_u16(cmd->data);
    today = seam_get_u32(cmd->data + 2);
    for (uint32_t i = 0; i < tv.ent_count; i++) {
        if (tv.ent[i].channel == channel && today <= tv.ent[i].date) {
            entitled = true;
        }
    }
    if (!entitled) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    /* The new log: this viewing, then the newest VIEW_MAX - 1 before it. */
    memcpy(log, cmd->data, REC_SIZE);
    len =
        REC_SIZE + records_encode(tv.view, tv.view_count < VIEW_MAX ? tv.view_count : VIEW_MAX - 1,
                                  log + REC_SIZE);
    if (RESTORE_PUT("viewlog", log, len) != 0) {
        return SW_NOT_ENOUGH_MEMORY;
    }
    tv.view_count = (uint16_t)records_decode(log, len, tv.view);
    return SW_NO_ERROR;
}

static uint32_t remove_expired(const seam_command *cmd) {
    uint8_t list[ENT_MAX * REC_SIZE];
    uint8_t removed;
    uint32_t today;
    uint32_t n = 0;
    if (cmd->nc != 4) {
        return SW_WRONG_LENGTH;
    }
    today = seam_get_u32(cmd->data);
    for (uint32_t i = 0; i < tv.ent_count; i++) {
        if (tv.ent[i].date >= today) {
            records_encode(&tv.ent[i], 1, list + n * REC_SIZE);
            n++;
        }
    }
    removed = (uint8_t)(tv.ent_count - n);
    if (removed != 0) {
        if (RESTORE_PUT("entitlements", list, n * REC_SIZE) != 0) {
            return SW_NOT_ENOUGH_MEMORY;
        }
        tv.ent_count = (uint16_t)records_decode(list, n * REC_SIZE, tv.ent);
    }
    seam_apdu_send(&removed, 1);
    return SW_NO_ERROR;
}

static uint32_t send_records(const record *records, uint32_t n) {
    uint8_t out[ENT_MAX * REC_SIZE]; /* ENT_MAX == VIEW_MAX */
    seam_apdu_send(out, records_encode(records, n, out));
    return SW_NO_ERROR;
}

static uint32_t get_identity(void) {
    if (tv.id_len == 0) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    seam_apdu_send(tv.id, tv.id_len);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 32];
    seam_command cmd;
    uint32_t sw;
    seam_command_read(&cmd, command, sizeof command);
    if (!cmd.complete) {
        return SW_WRONG_LENGTH;
    }
    switch (cmd.ins) {
    case INS_ADD_ENTITLEMENT:
        sw = add_entitlement(&cmd);
        break;
    case INS_WATCH:
        sw = watch(&cmd);
        break;
    case INS_LIST:
        sw = send_records(tv.ent, tv.ent_count);
        break;
    case INS_READ_VIEW_LOG:
        sw = send_records(tv.view, tv.view_count);
        break;
    case INS_GET_IDENTITY:
        sw = get_identity();
        break;
    case INS_REMOVE_EXPIRED:
        sw = remove_expired(&cmd);
        break;
    default:
        sw = SW_INS_NOT_SUPPORTED;
        break;
    }
    return sw;
}

SEAM_ENTRY(save_for_upgrade) uint32_t save_for_upgrade(void) {
    uint8_t buf[ENT_MAX * REC_SIZE];
    uint32_t sw = SW_NO_ERROR;
    if (RESTORE_PUT("entitlements", buf, records_encode(tv.ent, tv.ent_count, buf)) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    if (RESTORE_PUT("viewlog", buf, records_encode(tv.view, tv.view_count, buf)) != 0) {
        sw = SW_NOT_ENOUGH_MEMORY;
    }
    return sw;
}

/* Reads entry name (a list of at most max records) into buf: its length, 0
 * when absent, -1 when it is not a list of at most max records. */
static int32_t read_list(const char *name, uint32_t name_len, uint8_t *buf, uint32_t max) {
    int32_t r = seam_restore_get(name, name_len, buf, max * REC_SIZE);
    if (r == SEAM_RESTORE_ERR_ABSENT) {
        return 0;
    }
    if (r < 0 || (uint32_t)r > max * REC_SIZE || (uint32_t)r % REC_SIZE != 0) {
        return -1;
    }
    return r;
}

SEAM_ENTRY(restore_after_upgrade) uint32_t restore_after_upgrade(void) {
    uint8_t ent[ENT_MAX * REC_SIZE];
    uint8_t view[VIEW_MAX * REC_SIZE];
    int32_t ent_len;
    int32_t view_len;
    uint32_t previous = seam_upgrade_previous_version();
    if (previous == 0 || previous > VERSION_20) {
        return SW_CONDITIONS_NOT_SATISFIED;
    }
    if (previous < VERSION_10) {
        return SW_WRONG_DATA;
    }
    ent_len = read_list("entitlements", sizeof "entitlements" - 1, ent, ENT_MAX);
    view_len = read_list("viewlog", sizeof "viewlog" - 1, view, VIEW_MAX);
    if (ent_len < 0 || view_len < 0) {
        return SW_WRONG_DATA;
    }
    tv.ent_count = (uint16_t)records_decode(ent, (uint32_t)ent_len, tv.ent);
    tv.view_count = (uint16_t)records_decode(view, (uint32_t)view_len, tv.view);
    return SW_NO_ERROR;
}
