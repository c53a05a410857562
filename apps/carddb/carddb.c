/*
 * carddb: the card's own database (issue 14, S8; docs/sync.md "./card"). Installed
 * with GlobalPlatform's Global Registry privilege (privileges 00 04 00), it reads the
 * card's registry (seam_registry_entry) and answers it, with a few card-side
 * parameters it keeps in its own memory, as records key -> value that the terminal
 * synchronizes on the card's behalf (src/terminal/card_db.c):
 *
 *   domain.<AID>    "lifecycle=LL sd=<AID>"                       a fact: read-only
 *   package.<AID>   "version=M.m sd=<AID>"                        a fact
 *   instance.<AID>  "version=M.m lifecycle=LL package=<AID> sd=<AID>"
 *                                                   a fact (version of its package)
 *   restore.<AID>   "owner=<AID> package=<AID> bytes=N"           a fact: a restore
 *                   record of instance <AID>, its size only, never its contents
 *   param.<name>    the value                                     writable (80 32)
 *
 * AIDs in upper-case hex. sd= is the associated security domain (none for the ISD,
 * whose record has no sd=); a restore record's package= is left out when the card
 * holds no instance of that AID under that domain.
 *
 * Commands (CLA 80):
 *   80 30 P1=index 00 Le   record index (0..): E1 L { 80 key, 81 value, 82 01 writable
 *                          or 00 } (L in BER: 81 L from 128 on); 6A83 past the last
 *                          record. The registry first (domains, packages, instances,
 *                          restore records, in its order), then the parameters.
 *   80 32 00 00 Lc data    sets parameter name to value: data = 80 len name (1..16 of
 *                          a-z 0-9 _ -), 81 len value (0..64 printable ASCII); a new
 *                          name takes a free slot (PARAMS_MAX, else 6A84). One command,
 *                          one transaction of the card: all of it or nothing.
 * Without the privilege the registry answers nothing and the read answers 6985.
 */
#include "seam/applet.h"

SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x43, 0x44), 1, 0, 1, 0,
             SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x43, 0x44, 0x01));

#define SW_NOT_ENOUGH_MEMORY 0x6A84u
#define PARAMS_MAX           4u
#define NAME_MAX             16u
#define VALUE_MAX            64u
#define WALK_MAX             256u /* registry entries looked at per read */

static struct {
    uint8_t name_len; /* 0: a free slot */
    uint8_t value_len;
    char name[NAME_MAX];
    char value[VALUE_MAX];
} params[PARAMS_MAX];

static const char hex[] = "0123456789ABCDEF";

#define KEY_CAP   64u  /* "instance." and 32 hex digits */
#define VALUE_CAP 128u /* the longest fact: an instance's, 105 characters */

/* A record being built: E1 L { 80 key, 81 value, 82 writable }. */
static uint8_t record[3 + 2 + KEY_CAP + 2 + VALUE_CAP + 3];
static uint32_t key_len, value_len;
static char key[KEY_CAP], value[VALUE_CAP];

static void put_text(char *to, uint32_t *len, uint32_t cap, const char *text) {
    while (*text != 0 && *len < cap) {
        to[(*len)++] = *text++;
    }
}

static void put_hex(char *to, uint32_t *len, uint32_t cap, const uint8_t *bytes, uint32_t n) {
    for (uint32_t i = 0; i < n && *len + 2u <= cap; i++) {
        to[(*len)++] = hex[bytes[i] >> 4];
        to[(*len)++] = hex[bytes[i] & 0x0Fu];
    }
}

static void put_number(char *to, uint32_t *len, uint32_t cap, uint32_t v) {
    char digits[10];
    uint32_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n < sizeof digits);
    while (n > 0 && *len < cap) {
        to[(*len)++] = digits[--n];
    }
}

/* Sends the record built in key and value. */
static uint32_t send_record(bool writable) {
    uint32_t n = 0, len = 2u + key_len + 2u + value_len + 3u;
    record[n++] = 0xE1;
    if (len > 0x7Fu) {
        record[n++] = 0x81;
    }
    record[n++] = (uint8_t)len;
    record[n++] = 0x80;
    record[n++] = (uint8_t)key_len;
    memcpy(record + n, key, key_len);
    n += key_len;
    record[n++] = 0x81;
    record[n++] = (uint8_t)value_len;
    memcpy(record + n, value, value_len);
    n += value_len;
    record[n++] = 0x82;
    record[n++] = 1;
    record[n++] = writable ? 1u : 0u;
    return seam_apdu_send(record, n) == 0 ? SW_NO_ERROR : SW_UNKNOWN;
}

/* Appends " name=" and AID aid[0..len) in hex; nothing for an empty AID. */
static void put_aid_field(const char *name, const uint8_t *aid, uint32_t len) {
    if (len == 0) {
        return;
    }
    put_text(value, &value_len, sizeof value, name);
    put_hex(value, &value_len, sizeof value, aid, len);
}

/* Reads LV at e[*o..n) into *aid, *len; false when it does not fit. */
static bool take_aid(const uint8_t *e, uint32_t n, uint32_t *o, const uint8_t **aid,
                     uint32_t *len) {
    if (*o >= n || e[*o] > 16u || *o + 1u + e[*o] > n) {
        return false;
    }
    *len = e[*o];
    *aid = e + *o + 1u;
    *o += 1u + *len;
    return true;
}

static const char *const prefix[] = {"", "domain.", "package.", "instance.", "restore."};

/* Builds the record of registry entry e[0..n); false when the entry does not read. */
static bool registry_record(const uint8_t *e, uint32_t n) {
    const uint8_t *aid, *sd, *package = 0;
    uint32_t aid_len = 0, sd_len = 0, package_len = 0, o = 4;
    bool two = e[0] == SEAM_REGISTRY_INSTANCE || e[0] == SEAM_REGISTRY_RESTORE;
    if (e[0] < SEAM_REGISTRY_DOMAIN || e[0] > SEAM_REGISTRY_RESTORE ||
        !take_aid(e, n, &o, &aid, &aid_len) || aid_len < 5u || !take_aid(e, n, &o, &sd, &sd_len) ||
        (two && !take_aid(e, n, &o, &package, &package_len)) ||
        o + (e[0] == SEAM_REGISTRY_RESTORE ? 4u : 0u) != n) {
        return false;
    }
    key_len = 0;
    value_len = 0;
    put_text(key, &key_len, sizeof key, prefix[e[0]]);
    put_hex(key, &key_len, sizeof key, aid, aid_len);
    if (e[0] == SEAM_REGISTRY_RESTORE) {
        put_aid_field("owner=", sd, sd_len);
        put_aid_field(" package=", package, package_len);
        put_text(value, &value_len, sizeof value, " bytes=");
        put_number(value, &value_len, sizeof value, seam_get_u32(e + o));
        return true;
    }
    if (e[0] != SEAM_REGISTRY_DOMAIN) {
        put_text(value, &value_len, sizeof value, "version=");
        put_number(value, &value_len, sizeof value, e[2]);
        put_text(value, &value_len, sizeof value, ".");
        put_number(value, &value_len, sizeof value, e[3]);
    }
    if (e[0] != SEAM_REGISTRY_PACKAGE) {
        put_text(value, &value_len, sizeof value,
                 e[0] == SEAM_REGISTRY_DOMAIN ? "lifecycle=" : " lifecycle=");
        put_hex(value, &value_len, sizeof value, e + 1, 1);
    }
    put_aid_field(" package=", package, package_len);
    put_aid_field(" sd=", sd, sd_len);
    return true;
}

/* 80 30: record index. */
static uint32_t read_record(uint32_t index) {
    uint8_t e[SEAM_REGISTRY_ENTRY_MAX];
    uint32_t seen = 0;
    for (uint32_t i = 0; i < WALK_MAX; i++) {
        int32_t r = seam_registry_entry(i, e, sizeof e);
        if (r == SEAM_REGISTRY_ERR_DENIED) {
            return SW_CONDITIONS_NOT_SATISFIED;
        }
        if (r == SEAM_REGISTRY_END) {
            break;
        }
        if (r < 6 || (uint32_t)r > sizeof e || !registry_record(e, (uint32_t)r)) {
            continue; /* an entry this carddb does not read: not a record */
        }
        if (seen++ == index) {
            return send_record(false);
        }
    }
    for (uint32_t p = 0; p < PARAMS_MAX; p++) {
        if (params[p].name_len == 0 || seen++ != index) {
            continue;
        }
        key_len = 0;
        put_text(key, &key_len, sizeof key, "param.");
        memcpy(key + key_len, params[p].name, params[p].name_len);
        key_len += params[p].name_len;
        value_len = params[p].value_len;
        memcpy(value, params[p].value, value_len);
        return send_record(true);
    }
    return SW_RECORD_NOT_FOUND;
}

static bool name_ok(const uint8_t *n, uint32_t len) {
    if (len == 0 || len > NAME_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < len; i++) {
        uint8_t ch = n[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            return false;
        }
    }
    return true;
}

static bool value_ok(const uint8_t *v, uint32_t len) {
    if (len > VALUE_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (v[i] < 0x20u || v[i] > 0x7Eu) {
            return false;
        }
    }
    return true;
}

/* 80 32: sets a parameter; data = 80 name, 81 value, nothing else. */
static uint32_t write_param(const seam_command *cmd) {
    const uint8_t *name, *val;
    uint32_t off = 0, tag = 0, name_len = 0, val_len = 0, slot = PARAMS_MAX;
    if (!cmd->complete) {
        return SW_WRONG_LENGTH;
    }
    if (!seam_ber_next(cmd->data, cmd->nc, &off, &tag, &name, &name_len) || tag != 0x80u ||
        !seam_ber_next(cmd->data, cmd->nc, &off, &tag, &val, &val_len) || tag != 0x81u ||
        off != cmd->nc || !name_ok(name, name_len) || !value_ok(val, val_len)) {
        return SW_WRONG_DATA;
    }
    for (uint32_t p = 0; p < PARAMS_MAX; p++) {
        if (params[p].name_len == name_len && memcmp(params[p].name, name, name_len) == 0) {
            slot = p;
            break;
        }
        if (params[p].name_len == 0 && slot == PARAMS_MAX) {
            slot = p;
        }
    }
    if (slot == PARAMS_MAX) {
        return SW_NOT_ENOUGH_MEMORY;
    }
    params[slot].name_len = (uint8_t)name_len;
    memcpy(params[slot].name, name, name_len);
    params[slot].value_len = (uint8_t)val_len;
    memcpy(params[slot].value, val, val_len);
    return SW_NO_ERROR;
}

SEAM_ENTRY(process) uint32_t process(void) {
    uint8_t command[SEAM_APDU_HEADER_SIZE + 255];
    seam_command cmd;
    seam_command_read(&cmd, command, sizeof command);
    if ((cmd.cla & 0xFCu) != 0x80u) { /* its logical channel in b1 b2 */
        return SW_CLA_NOT_SUPPORTED;
    }
    if (cmd.ins == 0x30u) {
        return cmd.p2 == 0 && cmd.nc == 0 ? read_record(cmd.p1) : SW_WRONG_P1P2;
    }
    if (cmd.ins == 0x32u) {
        return cmd.p1 == 0 && cmd.p2 == 0 ? write_param(&cmd) : SW_WRONG_P1P2;
    }
    return SW_INS_NOT_SUPPORTED;
}
