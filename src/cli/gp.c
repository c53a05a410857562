/*
 * seam gp: manage a GlobalPlatform card, a seam image in this process
 * (--image) or any card in a PC/SC reader (--reader), the way
 * GlobalPlatformPro users expect (docs/gp.md). Everything card-facing is the
 * host library's (include/seam/gp.h); this file parses the command line,
 * connects, opens the secure channel and explains the outcome.
 *
 * Exit status: 0 done, 1 the card refused or something failed (the message
 * says which), 2 a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gp_cli.h"
#include "seam/link.h"
#include "seam/util.h"

#define USAGE                                                                                      \
    "usage: seam gp [--image FILE | --reader NAME] [--sd AID] [--key HEX | --key-enc HEX\n"        \
    "               --key-mac HEX --key-dek HEX] [--kvn KK] [--level LL] [-d | --trace]\n"         \
    "               [--json] ACTION [ARGS]\n"

static const struct {
    const char *name, *args, *help;
} actions[] = {
    {"list", "",
     "the registry: the ISD, security domains, applications with lifecycle and\n"
     "privileges, packages with versions, modules and seam's space"},
    {"info", "",
     "ATR, card data (66), CPLC (9F7F), key information (E0), IIN, CIN,\n"
     "sequence counter (C1): GET DATA, no secure channel"},
    {"install",
     "FILE [--aid AID] [--module AID] [--params HEX] [--privileges HEX] [--domain AID]\n"
     "        [--hash] [--load-only]",
     "loads the package FILE and installs it with the combined INSTALL [for load,\n"
     "install and make selectable] (P1 0E: P2 01 with the SHA-256 load file hash when\n"
     "--hash, LOAD, P2 03), so the card keeps the package and its instance or neither:\n"
     "the module --module (default the package's first applet) as instance --aid\n"
     "(default the module AID), with C9 install parameters --params and privileges\n"
     "--privileges (1 or 3 bytes, default 00), in security domain --domain (default the\n"
     "ISD); --load-only sends INSTALL [for load] and LOAD only"},
    {"delete", "AID [--force]",
     "DELETE of a package, application or security domain; --force deletes a package\n"
     "with its applications (P2 80)"},
    {"apdu", "[--secure] HEX...",
     "sends each APDU and prints its response; with --secure (or any key, --kvn or\n"
     "--level) through a secure channel with the security domain (GP-class APDUs wrapped)"},
    {"upgrade", "FILE",
     "updates a package to the version in FILE: MANAGE ELF UPGRADE start, LOAD of the new\n"
     "version, migrate of this domain's instances, reporting each step"},
    {"put-key",
     "(--new-key HEX | --new-enc HEX --new-mac HEX --new-dek HEX) [--replace KK]\n"
     "        [--new-kvn KK]",
     "PUT KEY of an AES key set encrypted under the channel's DEK: replaces key set\n"
     "--replace (default 30; 00 adds a set) with version --new-kvn (default the same)"},
    {"lock", "AID | --card", "SET STATUS: locks an application or security domain, or the card"},
    {"unlock", "AID | --card", "SET STATUS: unlocks it (the card: back to SECURED)"},
    {"store-data", "HEX [--dgi | --tlv] [--encrypt] [--perso AID]",
     "STORE DATA of HEX in blocks (whole DGIs or TLVs per block with --dgi or --tlv),\n"
     "encrypted under the DEK with --encrypt, to application AID after INSTALL [for\n"
     "personalization] with --perso"},
    {"readers", "", "lists the PC/SC readers"},
};

#define ACTION_COUNT (sizeof actions / sizeof actions[0])

static int usage(FILE *to, int action) {
    if (action >= 0) {
        fprintf(to, "usage: seam gp [OPTIONS] %s %s\n\n%s\n", actions[action].name,
                actions[action].args, actions[action].help);
        return to == stdout ? 0 : 2;
    }
    fprintf(to, USAGE "\n");
    fprintf(to, "  --image FILE    a seam card image, in this process\n"
                "  --reader NAME   a PC/SC reader (seam gp readers lists them)\n"
                "  --sd AID        the security domain to work through (default the ISD)\n"
                "  --key HEX       ENC = MAC = DEK (default the test key 404142..4F)\n"
                "  --kvn KK        the key set version for INITIALIZE UPDATE (hex, default 00)\n"
                "  --level LL      SCP03 security level 00 01 03 11 13 33 (default 01)\n"
                "  -d, --trace     every APDU on stderr: > plain, => sent, <= received, < plain\n"
                "  --json          JSON output, every byte value a hex string\n\nactions:\n");
    for (size_t i = 0; i < ACTION_COUNT; i++)
        fprintf(to, "  %-10s %s\n", actions[i].name, actions[i].args);
    fprintf(to, "\nseam gp ACTION --help describes an action.\n");
    return to == stdout ? 0 : 2;
}

/* Decodes hex into out[0..cap); false (with a message) when it is not hex or too long. */
static bool hex_arg(const char *what, const char *text, uint8_t *out, size_t cap, size_t *len) {
    if (seam_hex_decode(text, strlen(text), out, cap, len) == SEAM_OK)
        return true;
    fprintf(stderr, "seam gp: %s must be hex of at most %zu bytes: '%s'\n", what, cap, text);
    return false;
}

static bool aid_arg(const char *what, const char *text, seam_gp_aid *aid) {
    uint8_t b[SEAM_GP_AID_MAX];
    size_t len = 0;
    if (!hex_arg(what, text, b, sizeof b, &len))
        return false;
    if (len < SEAM_GP_AID_MIN) {
        fprintf(stderr, "seam gp: %s must be an AID of 5 to 16 bytes: '%s'\n", what, text);
        return false;
    }
    seam_gp_aid_set(aid, b, len);
    return true;
}

/* A key of 16, 24 or 32 bytes into key. */
static bool key_arg(const char *what, const char *text, uint8_t key[32], size_t *len) {
    if (!hex_arg(what, text, key, 32, len))
        return false;
    if (*len != 16 && *len != 24 && *len != 32) {
        fprintf(stderr, "seam gp: %s must be 16, 24 or 32 bytes of hex\n", what);
        return false;
    }
    return true;
}

/* One hex byte (KVN, level). */
static bool byte_arg(const char *what, const char *text, int *out) {
    uint8_t b[1];
    size_t len = 0;
    if (seam_hex_decode(text, strlen(text), b, 1, &len) || len != 1) {
        fprintf(stderr, "seam gp: %s must be one hex byte: '%s'\n", what, text);
        return false;
    }
    *out = b[0];
    return true;
}

/* Keys given one by one: which of ENC, MAC, DEK came, their length. */
typedef struct {
    uint8_t k[3][32];
    size_t len[3];
} key_parts;

/* Applies --key-enc/-mac/-dek (or --new-...) over a base key set; the three keys
   must end up of one length. */
static bool merge_keys(seam_gp_keys *keys, const key_parts *p, const char *what) {
    uint8_t *dst[3] = {keys->enc, keys->mac, keys->dek};
    size_t len[3] = {keys->len, keys->len, keys->len};
    for (int i = 0; i < 3; i++) {
        if (p->len[i]) {
            memcpy(dst[i], p->k[i], p->len[i]);
            len[i] = p->len[i];
        }
    }
    if (len[0] != len[1] || len[1] != len[2]) {
        fprintf(stderr, "seam gp: the %s keys ENC, MAC and DEK must all be given, of one length\n",
                what);
        return false;
    }
    keys->len = len[0];
    return true;
}

/* Parses argv into *o; returns -1 on success, else the exit status. */
static int parse(int argc, char **argv, gp_options *o) {
    key_parts keys = {0}, fresh = {0};
    int v = 0;
    seam_gp_keys_default(&o->keys);
    memset(&o->new_keys, 0, sizeof o->new_keys);
    o->level = 0x01;
    o->new_kvn = o->replace = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
#define IS(name) (!strcmp(a, name))
        if (a[0] != '-' || !a[1]) {
            if (o->positional_count == 64)
                return fprintf(stderr, "seam gp: too many arguments\n"), 2;
            o->positional[o->positional_count++] = a;
            continue;
        }
        if (IS("-d") || IS("--trace") || IS("--json") || IS("--secure") || IS("--force") ||
            IS("--hash") || IS("--load-only") || IS("--card") || IS("--dgi") || IS("--tlv") ||
            IS("--encrypt") || IS("--help") || IS("-h")) {
            takes = false;
            o->trace |= IS("-d") || IS("--trace");
            o->json |= IS("--json");
            o->secure |= IS("--secure");
            o->force |= IS("--force");
            o->hash |= IS("--hash");
            o->load_only |= IS("--load-only");
            o->card |= IS("--card");
            o->dgi |= IS("--dgi");
            o->tlv |= IS("--tlv");
            o->encrypt |= IS("--encrypt");
            o->help |= IS("--help") || IS("-h");
        } else if (!val) {
            fprintf(stderr, "seam gp: %s needs a value\n", a);
            return 2;
        } else if (IS("--image")) {
            o->image = val;
        } else if (IS("--reader")) {
            o->reader = val;
        } else if (IS("--sd") || IS("--domain")) {
            ok = aid_arg(a, val, &o->sd);
        } else if (IS("--key")) {
            size_t len = 0;
            uint8_t k[32];
            ok = key_arg(a, val, k, &len) && seam_gp_keys_set(&o->keys, k, len) == SEAM_OK;
            o->secure = true;
        } else if (IS("--key-enc") || IS("--key-mac") || IS("--key-dek")) {
            int which = IS("--key-enc") ? 0 : IS("--key-mac") ? 1 : 2;
            ok = key_arg(a, val, keys.k[which], &keys.len[which]);
            o->secure = true;
        } else if (IS("--new-key")) {
            size_t len = 0;
            uint8_t k[32];
            ok = key_arg(a, val, k, &len) && seam_gp_keys_set(&o->new_keys, k, len) == SEAM_OK;
            o->has_new_keys = true;
        } else if (IS("--new-enc") || IS("--new-mac") || IS("--new-dek")) {
            int which = IS("--new-enc") ? 0 : IS("--new-mac") ? 1 : 2;
            ok = key_arg(a, val, fresh.k[which], &fresh.len[which]);
            o->has_new_keys = true;
        } else if (IS("--kvn")) {
            ok = byte_arg(a, val, &v) && v <= 0x7F;
            o->kvn = (uint8_t)v;
            o->secure = true;
        } else if (IS("--level")) {
            ok = byte_arg(a, val, &v) &&
                 (v == 0x00 || v == 0x01 || v == 0x03 || v == 0x11 || v == 0x13 || v == 0x33);
            if (!ok)
                fprintf(stderr, "seam gp: --level is one of 00 01 03 11 13 33\n");
            o->level = (uint8_t)v;
            o->secure = true;
        } else if (IS("--new-kvn") || IS("--replace")) {
            ok = byte_arg(a, val, &v) && v <= 0x7F;
            *(IS("--new-kvn") ? &o->new_kvn : &o->replace) = v;
        } else if (IS("--aid")) {
            ok = aid_arg(a, val, &o->aid);
        } else if (IS("--module")) {
            ok = aid_arg(a, val, &o->module);
        } else if (IS("--perso")) {
            ok = aid_arg(a, val, &o->perso);
        } else if (IS("--params")) {
            ok = hex_arg(a, val, o->params, sizeof o->params, &o->params_len);
            o->has_params = true;
        } else if (IS("--privileges")) {
            ok = hex_arg(a, val, o->privileges, 3, &o->privileges_len) &&
                 (o->privileges_len == 1 || o->privileges_len == 3);
            if (!ok)
                fprintf(stderr, "seam gp: --privileges is 1 or 3 bytes of hex\n");
        } else {
            fprintf(stderr, "seam gp: unknown option '%s' (seam gp --help)\n", a);
            return 2;
        }
#undef IS
        if (!ok)
            return 2;
        i += takes;
    }
    if (!merge_keys(&o->keys, &keys, "channel"))
        return 2;
    if (o->has_new_keys && !merge_keys(&o->new_keys, &fresh, "new"))
        return 2;
    return -1;
}

/* Opens the link (image or reader), powers the card on and makes a session. */
int gp_connect(gp_session *s, const char *action) {
    const gp_options *o = s->o;
    char prefix[48];
    seam_err e;
    snprintf(prefix, sizeof prefix, "seam gp %s", action);
    int status = seam_cli_link_open(prefix, o->image, o->reader, &s->link);
    if (status >= 0)
        return status;
    e = seam_gp_link_power_on(&s->link, s->atr, sizeof s->atr, &s->atr_len);
    if (!e)
        e = seam_gp_new(&s->link, &s->gp);
    if (e) {
        fprintf(stderr, "seam gp: the card does not power on: %s\n", seam_err_str(e));
        return 1;
    }
    if (o->trace)
        seam_gp_set_trace(s->gp, gp_show_trace, NULL);
    return -1;
}

/* Prints what the card refused: "seam gp ACTION: WHAT answered SW (words)". */
int gp_refused(const char *action, const char *what, uint16_t sw) {
    fprintf(stderr, "seam gp %s: %s answered %04X (%s)\n", action, what, sw, seam_gp_sw_text(sw));
    return 1;
}

/* Selects the security domain and opens the secure channel; -1 when open. */
int gp_open_channel(gp_session *s, const char *action) {
    const gp_options *o = s->o;
    uint16_t sw = 0;
    seam_err e = seam_gp_select(s->gp, o->sd.bytes, o->sd.len, &sw);
    if (e) {
        fprintf(stderr, "seam gp %s: %s\n", action, seam_err_str(e));
        return 1;
    }
    if (sw != 0x9000 && sw != 0x6283)
        return gp_refused(action, "SELECT of the security domain", sw);
    e = seam_gp_open_channel(s->gp, &o->keys, o->kvn, o->level, NULL, &sw);
    if (e == SEAM_ERR_GP_CRYPTOGRAM) {
        fprintf(stderr,
                "seam gp %s: the card cryptogram does not verify: the card does not hold this key "
                "(key version %02X); nothing was changed\n",
                action, o->kvn);
        return 1;
    }
    if (e) {
        fprintf(stderr, "seam gp %s: cannot open the secure channel: %s\n", action,
                seam_err_str(e));
        return 1;
    }
    if (sw != 0x9000) {
        uint8_t header[4];
        seam_gp_last_command(s->gp, header);
        return gp_refused(action, header[1] == 0x50 ? "INITIALIZE UPDATE" : "EXTERNAL AUTHENTICATE",
                          sw);
    }
    return -1;
}

/* Reads a whole file (the caller frees it); NULL with a message. */
uint8_t *gp_read_file(const char *action, const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (f && size >= 0 && size <= 16L * 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0) {
        b = malloc((size_t)size + 1);
        if (b && fread(b, 1, (size_t)size, f) != (size_t)size) {
            free(b);
            b = NULL;
        }
    }
    if (!b)
        fprintf(stderr, "seam gp %s: cannot read '%s'\n", action, path);
    if (f)
        fclose(f);
    *len = b ? (size_t)size : 0;
    return b;
}

/* Reads and checks a package file before anything is sent. */
uint8_t *gp_read_package(const char *action, const char *path, size_t *len, seam_gp_package *pkg) {
    char why[256];
    uint8_t *b = gp_read_file(action, path, len);
    if (b && seam_gp_package_read(b, *len, pkg, why, sizeof why) != SEAM_OK) {
        fprintf(stderr, "seam gp %s: '%s' is not a seam package: %s; nothing was sent\n", action,
                path, why);
        free(b);
        b = NULL;
    }
    return b;
}

int seam_cli_gp(int argc, char **argv) {
    gp_options *o = calloc(1, sizeof *o);
    gp_session s;
    int status = 2, action = -1;
    memset(&s, 0, sizeof s);
    if (!o)
        return 1;
    s.o = o;
    status = parse(argc, argv, o);
    if (status >= 0)
        goto out;
    if (o->positional_count > 0)
        for (size_t i = 0; i < ACTION_COUNT; i++)
            if (!strcmp(o->positional[0], actions[i].name))
                action = (int)i;
    if (o->help) {
        status = usage(stdout, action);
        goto out;
    }
    if (action < 0) {
        if (o->positional_count)
            fprintf(stderr, "seam gp: unknown action '%s'\n", o->positional[0]);
        status = usage(stderr, -1);
        goto out;
    }
    status = gp_run_action(&s, actions[action].name);
    if (status == 2)
        usage(stderr, action);
out:
    seam_gp_free(s.gp);
    seam_gp_link_close(&s.link);
    seam_secure_zero(o, sizeof *o);
    free(o);
    return status;
}
