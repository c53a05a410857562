/*
 * seam flashcard: the secure flash card (docs/flashcard.md). Every command but
 * `new` powers the flash card in DIR on (its controller's recovery runs), sends
 * its host frames through the host interface, prints the answers and powers it
 * off. Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/flashcard.h"
#include "seam/perso.h"
#include "seam/util.h"

#define USAGE                                                                                      \
    "usage: seam flashcard new DIR [--domain AID]     the factory: card, domain, key file\n"       \
    "       seam flashcard status DIR\n"                                                           \
    "       seam flashcard store DIR FILE.wasm [--cin HEX]\n"                                      \
    "       seam flashcard list DIR\n"                                                             \
    "       seam flashcard update DIR AID             the controller updates the package\n"        \
    "       seam flashcard install DIR AID [--perso INSTANCE:HEX]...   the controller installs\n"  \
    "       seam flashcard restore DIR AID INSTANCE   the controller restores from its flash\n"    \
    "       seam flashcard apdu DIR HEX...            APDUs passed through to the card\n"          \
    "       seam flashcard terminal-update DIR --domain-keys FILE --state FILE PACKAGE.wasm\n"     \
    "                                 the terminal updates the card through the flash card\n"

static const uint8_t default_domain[] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x0C};

static uint8_t frame[SEAM_FLASHCARD_HEADER_LEN + SEAM_FLASHCARD_VALUE_MAX];
static uint8_t answer[SEAM_FLASHCARD_HEADER_LEN + SEAM_GP_RESPONSE_MAX];

/* Sends (tag, value) through fc's host interface; *reply gets a DONE answer. Returns 0,
   or 1 with the refusal printed. */
static int send_frame(seam_flashcard *fc, uint8_t tag, const uint8_t *value, size_t len,
                      seam_flashcard_frame *reply) {
    size_t n = 0, used = 0;
    seam_err e = seam_flashcard_frame_encode(tag, value, len, frame, sizeof frame, &n);
    if (!e)
        e = seam_flashcard_host(fc, frame, n, answer, sizeof answer, &n);
    if (!e)
        e = seam_flashcard_frame_decode(answer, n, reply, &used);
    if (e) {
        fprintf(stderr, "seam flashcard: %s\n", seam_err_str(e));
        return 1;
    }
    if (reply->tag != SEAM_FLASHCARD_ANSWER_DONE) {
        fprintf(stderr, "seam flashcard: refused: %.*s\n", reply->len > 2 ? (int)reply->len - 2 : 0,
                (const char *)reply->value + 2);
        return 1;
    }
    return 0;
}

static void print_hex(const char *prefix, const uint8_t *b, size_t len) {
    printf("%s", prefix);
    for (size_t i = 0; i < len; i++)
        printf("%02X", b[i]);
    printf("\n");
}

static int aid_arg(const char *text, seam_gp_aid *aid) {
    size_t n = 0;
    if (seam_hex_decode(text, strlen(text), aid->bytes, sizeof aid->bytes, &n) ||
        n < SEAM_GP_AID_MIN) {
        fprintf(stderr, "seam flashcard: '%s' is not an AID (5..16 bytes in hex)\n", text);
        return 2;
    }
    aid->len = n;
    return 0;
}

static int status(seam_flashcard *fc) {
    seam_flashcard_frame r;
    seam_flashcard_status st;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0, &r))
        return 1;
    if (seam_flashcard_status_decode(r.value, r.len, &st))
        return 1;
    print_hex("cin ", st.cin, st.cin_len);
    printf("journal %s\npackages %u\nrelayed %u\n", st.journal ? "update under way" : "empty",
           (unsigned)st.packages, (unsigned)st.relayed);
    return 0;
}

static int list(seam_flashcard *fc) {
    seam_flashcard_frame r;
    seam_flashcard_package p;
    size_t pos = 0;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_LIST, NULL, 0, &r))
        return 1;
    while (seam_flashcard_list_next(r.value, r.len, &pos, &p) == SEAM_OK) {
        print_hex("PKG ", p.aid.bytes, p.aid.len);
        printf("    version %u.%u  %u bytes\n", p.version >> 8, p.version & 0xFF, (unsigned)p.size);
    }
    return 0;
}

/* The card's CIN as the flash card reports it. */
static int own_cin(seam_flashcard *fc, uint8_t cin[SEAM_FLASHCARD_CIN_MAX], size_t *len) {
    seam_flashcard_frame r;
    seam_flashcard_status st;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0, &r) ||
        seam_flashcard_status_decode(r.value, r.len, &st))
        return 1;
    memcpy(cin, st.cin, st.cin_len);
    *len = st.cin_len;
    return 0;
}

static int store(seam_flashcard *fc, int argc, char **argv) {
    uint8_t cin[SEAM_FLASHCARD_CIN_MAX];
    size_t cin_len = 0;
    if (argc == 3 && !strcmp(argv[1], "--cin")) {
        if (seam_hex_decode(argv[2], strlen(argv[2]), cin, sizeof cin, &cin_len) || !cin_len) {
            fprintf(stderr, "seam flashcard store: --cin takes 1..16 bytes in hex\n");
            return 2;
        }
    } else if (argc != 1) {
        fprintf(stderr, USAGE);
        return 2;
    } else if (own_cin(fc, cin, &cin_len)) {
        return 1;
    }
    FILE *f = fopen(argv[0], "rb");
    if (!f) {
        fprintf(stderr, "seam flashcard store: cannot read %s\n", argv[0]);
        return 1;
    }
    static uint8_t value[SEAM_FLASHCARD_VALUE_MAX];
    value[0] = (uint8_t)cin_len;
    memcpy(value + 1, cin, cin_len);
    size_t n = fread(value + 1 + cin_len, 1, sizeof value - 1 - cin_len, f);
    bool too_long = !feof(f);
    fclose(f);
    if (too_long) {
        fprintf(stderr, "seam flashcard store: %s is too large\n", argv[0]);
        return 1;
    }
    seam_flashcard_frame r;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_STORE, value, 1 + cin_len + n, &r))
        return 1;
    printf("stored %s (%zu bytes)\n", argv[0], n);
    return 0;
}

static int update(seam_flashcard *fc, const char *aid_text) {
    seam_gp_aid aid;
    if (aid_arg(aid_text, &aid))
        return 2;
    uint8_t v[1 + SEAM_GP_AID_MAX];
    v[0] = (uint8_t)aid.len;
    memcpy(v + 1, aid.bytes, aid.len);
    seam_flashcard_frame r;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_UPDATE, v, 1 + aid.len, &r))
        return 1;
    printf("updated %s by the controller\n", aid_text);
    return 0;
}

/* INSTALL: package AID, then --perso INSTANCE:HEX entries. */
static int install(seam_flashcard *fc, int argc, char **argv) {
    static uint8_t v[1 + SEAM_GP_AID_MAX + SEAM_FLASHCARD_PERSO_MAX * (2 + SEAM_GP_AID_MAX + 255)];
    seam_gp_aid aid;
    size_t n = 0;
    if (aid_arg(argv[0], &aid))
        return 2;
    v[n++] = (uint8_t)aid.len;
    memcpy(v + n, aid.bytes, aid.len);
    n += aid.len;
    for (int i = 1; i < argc; i += 2) {
        const char *colon = i + 1 < argc ? strchr(argv[i + 1], ':') : NULL;
        size_t alen = 0, dlen = 0;
        if (strcmp(argv[i], "--perso") || !colon || (i - 1) / 2 >= (int)SEAM_FLASHCARD_PERSO_MAX ||
            seam_hex_decode(argv[i + 1], (size_t)(colon - argv[i + 1]), v + n + 1, SEAM_GP_AID_MAX,
                            &alen) ||
            alen < SEAM_GP_AID_MIN ||
            seam_hex_decode(colon + 1, strlen(colon + 1), v + n + 2 + alen, 255, &dlen) || !dlen) {
            fprintf(stderr, "seam flashcard install: --perso takes INSTANCE_AID:HEX (1..255 "
                            "bytes), at most 16\n");
            return 2;
        }
        v[n] = (uint8_t)alen;
        v[n + 1 + alen] = (uint8_t)dlen;
        n += 2 + alen + dlen;
    }
    seam_flashcard_frame r;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_INSTALL, v, n, &r))
        return 1;
    printf("installed %s by the controller\n", argv[0]);
    return 0;
}

static int restore(seam_flashcard *fc, const char *package, const char *instance) {
    seam_gp_aid pkg, inst;
    if (aid_arg(package, &pkg) || aid_arg(instance, &inst))
        return 2;
    uint8_t v[2 + 2 * SEAM_GP_AID_MAX];
    v[0] = (uint8_t)pkg.len;
    memcpy(v + 1, pkg.bytes, pkg.len);
    v[1 + pkg.len] = (uint8_t)inst.len;
    memcpy(v + 2 + pkg.len, inst.bytes, inst.len);
    seam_flashcard_frame r;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_RESTORE, v, 2 + pkg.len + inst.len, &r))
        return 1;
    printf("restored %s from the flash\n", instance);
    return 0;
}

static int apdus(seam_flashcard *fc, int argc, char **argv) {
    seam_flashcard_frame r;
    uint8_t on = 1;
    if (send_frame(fc, SEAM_FLASHCARD_CMD_POWER, &on, 1, &r))
        return 1;
    for (int i = 0; i < argc; i++) {
        uint8_t apdu[SEAM_GP_APDU_MAX];
        size_t n = 0;
        if (seam_hex_decode(argv[i], strlen(argv[i]), apdu, sizeof apdu, &n) || n < 4) {
            fprintf(stderr, "seam flashcard apdu: '%s' is not an APDU in hex\n", argv[i]);
            return 2;
        }
        if (send_frame(fc, SEAM_FLASHCARD_CMD_APDU, apdu, n, &r))
            return 1;
        print_hex("< ", r.value, r.len);
    }
    return 0;
}

/* Reads the file at path into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    *len = (size_t)(n < 0 ? 0 : n);
    return b;
}

/* FIG. 12: the terminal's update flow (seam_perso_update, the terminal's domain and
   store) over the link the flash card's host interface gives; the controller relays. */
static int terminal_update(seam_flashcard *fc, const char *keys, const char *state,
                           const char *file) {
    seam_perso_domain d;
    seam_perso_store *store = NULL;
    seam_gp_link link = {0};
    seam_gp *gp = NULL;
    seam_perso_report report;
    size_t len = 0, atr_len = 0;
    uint8_t atr[SEAM_GP_ATR_MAX];
    seam_perso_actor a = {.domain = &d};
    int rc = 1;
    uint8_t *module = read_file(file, &len);
    if (!module) {
        fprintf(stderr, "seam flashcard terminal-update: cannot read %s\n", file);
        return 1;
    }
    seam_err e = seam_perso_domain_load(keys, &d);
    if (!e)
        e = seam_perso_store_open(state, &store);
    if (!e && own_cin(fc, a.cin, &a.cin_len))
        e = SEAM_ERR_FLASHCARD_REFUSED;
    if (!e)
        e = seam_flashcard_host_link(fc, &link);
    if (!e)
        e = seam_gp_new(&link, &gp);
    if (!e)
        e = seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len);
    a.gp = gp;
    a.store = store;
    if (!e)
        e = seam_perso_update(&a, module, len, &report);
    if (e || report.reason[0]) {
        fprintf(stderr, "seam flashcard terminal-update: %s\n",
                e ? seam_err_str(e) : report.reason);
    } else {
        seam_flashcard_frame r;
        seam_flashcard_status st;
        if (!send_frame(fc, SEAM_FLASHCARD_CMD_STATUS, NULL, 0, &r) &&
            !seam_flashcard_status_decode(r.value, r.len, &st)) {
            printf("update: package ");
            for (size_t i = 0; i < report.package.aid.len; i++)
                printf("%02X", report.package.aid.bytes[i]);
            printf(" %u.%u, %zu instance(s), by the terminal; the controller relayed %u APDUs\n",
                   report.package.version >> 8, report.package.version & 0xFF, report.instances,
                   (unsigned)st.relayed);
            rc = 0;
        }
    }
    seam_gp_free(gp);
    seam_gp_link_close(&link);
    seam_perso_store_close(store);
    seam_secure_zero(&d, sizeof d);
    free(module);
    return rc;
}

int seam_cli_flashcard(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf(USAGE);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, USAGE);
        return 2;
    }
    const char *cmd = argv[1], *dir = argv[2];
    if (!strcmp(cmd, "new")) {
        seam_gp_aid aid;
        memcpy(aid.bytes, default_domain, sizeof default_domain);
        aid.len = sizeof default_domain;
        if (argc == 5 && !strcmp(argv[3], "--domain")) {
            if (aid_arg(argv[4], &aid))
                return 2;
        } else if (argc != 3) {
            fprintf(stderr, USAGE);
            return 2;
        }
        seam_err e = seam_flashcard_new(dir, &aid);
        if (e) {
            fprintf(stderr, "seam flashcard new: %s: %s\n", dir, seam_err_str(e));
            return 1;
        }
        printf("made flash card %s: card.db, flash.db, domain.keys (0600)\n", dir);
        return 0;
    }
    bool known = !strcmp(cmd, "status") || !strcmp(cmd, "list") || !strcmp(cmd, "store") ||
                 !strcmp(cmd, "update") || !strcmp(cmd, "apdu") || !strcmp(cmd, "install") ||
                 !strcmp(cmd, "restore") || !strcmp(cmd, "terminal-update");
    bool tu = !strcmp(cmd, "terminal-update") && argc == 8 && !strcmp(argv[3], "--domain-keys") &&
              !strcmp(argv[5], "--state");
    if (!known || ((!strcmp(cmd, "status") || !strcmp(cmd, "list")) && argc != 3) ||
        (!strcmp(cmd, "update") && argc != 4) || (!strcmp(cmd, "store") && argc < 4) ||
        (!strcmp(cmd, "apdu") && argc < 4) || (!strcmp(cmd, "install") && argc % 2 != 0) ||
        (!strcmp(cmd, "install") && argc < 4) || (!strcmp(cmd, "restore") && argc != 5) ||
        (!strcmp(cmd, "terminal-update") && !tu)) {
        fprintf(stderr, USAGE);
        return 2;
    }
    seam_flashcard *fc = NULL;
    seam_err e = seam_flashcard_open(dir, &fc);
    if (e) {
        fprintf(stderr, "seam flashcard %s: cannot power %s on: %s\n", cmd, dir, seam_err_str(e));
        return 1;
    }
    int rc;
    if (!strcmp(cmd, "status"))
        rc = status(fc);
    else if (!strcmp(cmd, "list"))
        rc = list(fc);
    else if (!strcmp(cmd, "store"))
        rc = store(fc, argc - 3, argv + 3);
    else if (!strcmp(cmd, "update"))
        rc = update(fc, argv[3]);
    else if (!strcmp(cmd, "install"))
        rc = install(fc, argc - 3, argv + 3);
    else if (!strcmp(cmd, "restore"))
        rc = restore(fc, argv[3], argv[4]);
    else if (tu)
        rc = terminal_update(fc, argv[4], argv[6], argv[7]);
    else
        rc = apdus(fc, argc - 3, argv + 3);
    seam_flashcard_close(fc);
    return rc;
}
