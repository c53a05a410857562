/*
 * seam terminal perso: personalization and restore outside the card, run by a local
 * operator through the terminal's own security domain (docs/perso.md,
 * docs/restore-module.md "Outside the card"):
 *
 *   seam terminal perso install (--image FILE | --reader NAME) --domain-keys FILE
 *        --state FILE --perso INSTANCE_AID:HEX PACKAGE.wasm
 *   seam terminal perso update  (--image | --reader) --domain-keys FILE --state FILE PACKAGE.wasm
 *   seam terminal perso restore (--image | --reader) --domain-keys FILE --state FILE
 *        --instance AID PACKAGE.wasm
 *   seam terminal perso records --state FILE
 *   seam terminal perso domain (--image | --reader) --isd-keys default|HEX --aid HEX --out FILE
 *
 * `domain` does what the card's issuer does at personalization: in an ISD session it
 * creates the domain (an SSD with Authorized Management, privileges 80 C0 00) and hands
 * it over with PUT KEY to fresh random keys, written to --out (mode 0600, never
 * overwritten). Exit status: 0 done, 1 refused or failed (one line says why), 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "seam/crypto.h"
#include "seam/perso.h"
#include "seam/util.h"

#define PREFIX "seam terminal perso"

#define USAGE                                                                                      \
    "usage: seam terminal perso install (--image FILE | --reader NAME) --domain-keys FILE\n"       \
    "           --state FILE --perso INSTANCE_AID:HEX PACKAGE.wasm\n"                              \
    "       seam terminal perso update (--image | --reader) --domain-keys FILE --state FILE\n"     \
    "           PACKAGE.wasm\n"                                                                    \
    "       seam terminal perso restore (--image | --reader) --domain-keys FILE --state FILE\n"    \
    "           --instance AID PACKAGE.wasm\n"                                                     \
    "       seam terminal perso records --state FILE\n"                                            \
    "       seam terminal perso domain (--image | --reader) --isd-keys default|HEX --aid HEX\n"    \
    "           --out FILE\n"

/* The card's built-in security domain package and module (docs/card.md). */
static const uint8_t sd_package[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

typedef struct {
    const char *image, *reader, *keys, *state, *perso, *instance, *isd_keys, *aid, *out;
    const char *package;
} args;

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(to, "install: personalizes PACKAGE with the STORE DATA payload HEX (P1 90) for\n"
                    "INSTANCE_AID, loads and installs it through the domain, files its record in\n"
                    "--state. update: updates the domain's package to PACKAGE, its records\n"
                    "exported into --state and put back (resumes after a cut). restore: installs\n"
                    "PACKAGE again for --instance from its record in --state. records: the\n"
                    "records and the refusal log of --state.\n");
    return to == stdout ? 0 : 2;
}

static int parse(int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(stdout);
        const char **opt = !strcmp(argv[i], "--image")         ? &a->image
                           : !strcmp(argv[i], "--reader")      ? &a->reader
                           : !strcmp(argv[i], "--domain-keys") ? &a->keys
                           : !strcmp(argv[i], "--state")       ? &a->state
                           : !strcmp(argv[i], "--perso")       ? &a->perso
                           : !strcmp(argv[i], "--instance")    ? &a->instance
                           : !strcmp(argv[i], "--isd-keys")    ? &a->isd_keys
                           : !strcmp(argv[i], "--aid")         ? &a->aid
                           : !strcmp(argv[i], "--out")         ? &a->out
                                                               : NULL;
        if (opt && i + 1 < argc) {
            *opt = argv[++i];
        } else if (!opt && argv[i][0] != '-' && !a->package) {
            a->package = argv[i];
        } else {
            fprintf(stderr, PREFIX ": unexpected argument %s\n", argv[i]);
            return usage(stderr);
        }
    }
    return -1;
}

static bool aid_hex(const char *hex, size_t n, seam_gp_aid *aid) {
    size_t len = 0;
    if (seam_hex_decode(hex, n, aid->bytes, sizeof aid->bytes, &len) != SEAM_OK ||
        len < SEAM_GP_AID_MIN)
        return false;
    aid->len = len;
    return true;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long l;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (l = ftell(f)) > 0 && l < (16l << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)l)) != NULL &&
        fread(b, 1, (size_t)l, f) != (size_t)l) {
        free(b);
        b = NULL;
    }
    if (b)
        *len = (size_t)l;
    fclose(f);
    return b;
}

/* The card: its link powered on and a session over it. */
typedef struct {
    seam_gp_link link;
    seam_gp *gp;
} card;

static int card_open(const args *a, card *c) {
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    memset(c, 0, sizeof *c);
    int status = seam_cli_link_open(PREFIX, a->image, a->reader, &c->link);
    if (status >= 0)
        return status;
    seam_err e = seam_gp_link_power_on(&c->link, atr, sizeof atr, &atr_len);
    if (!e)
        e = seam_gp_new(&c->link, &c->gp);
    if (!e)
        (void)seam_gp_set_atr(c->gp, atr, atr_len);
    if (e) {
        fprintf(stderr, PREFIX ": the card: %s\n", seam_err_str(e));
        seam_gp_link_close(&c->link);
        return 1;
    }
    return -1;
}

static void card_close(card *c) {
    seam_gp_free(c->gp);
    seam_gp_link_close(&c->link);
}

/* The card's CIN (GET DATA 45 on the ISD, in clear). */
static seam_err read_cin(seam_gp *gp, uint8_t *cin, size_t *len) {
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t data[64];
    size_t n = 0;
    uint16_t sw = 0;
    seam_tlv t;
    seam_err e = seam_gp_select(gp, NULL, 0, &sw);
    if (!e)
        e = seam_gp_transmit(gp, get_cin, sizeof get_cin, data, sizeof data, &n, &sw);
    if (!e && (sw != 0x9000 || seam_tlv_parse(data, n, &t) != SEAM_OK || t.tag != 0x45 ||
               t.length == 0 || t.length > SEAM_PERSO_CIN_MAX))
        e = SEAM_ERR_GP_RESPONSE;
    if (!e) {
        memcpy(cin, t.value, t.length);
        *len = t.length;
    }
    return e;
}

static void print_report(const char *what, const seam_perso_report *r) {
    char aid[2 * SEAM_GP_AID_MAX + 1] = "";
    size_t n;
    (void)seam_hex_encode(r->package.aid.bytes, r->package.aid.len, aid, sizeof aid, &n);
    if (r->reason[0])
        printf("%s refused: %s\n", what, r->reason);
    else
        printf("%s: package %s %u.%u, %zu instance(s), %zu load file bytes, %zu "
               "personalization bytes%s\n",
               what, aid, r->package.version >> 8, r->package.version & 0xFF, r->instances,
               r->load_bytes, r->perso_bytes, r->resumed ? ", resumed after a cut" : "");
}

static int flow(const char *what, const args *a) {
    seam_perso_domain domain;
    seam_perso_store *store = NULL;
    seam_perso_actor actor;
    seam_perso_report report;
    uint8_t perso[255], *module = NULL;
    size_t module_len = 0, perso_len = 0;
    seam_perso_data data;
    seam_gp_aid instance;
    card c;
    seam_err e;
    memset(&actor, 0, sizeof actor);
    memset(&report, 0, sizeof report);
    if (!a->keys || !a->state || !a->package) {
        fprintf(stderr, PREFIX " %s: --domain-keys, --state and PACKAGE are needed\n", what);
        return usage(stderr);
    }
    if (!strcmp(what, "install")) {
        const char *colon = a->perso ? strchr(a->perso, ':') : NULL;
        memset(&data, 0, sizeof data);
        if (!colon || !aid_hex(a->perso, (size_t)(colon - a->perso), &data.instance) ||
            seam_hex_decode(colon + 1, strlen(colon + 1), perso, sizeof perso, &perso_len) ||
            perso_len == 0) {
            fprintf(stderr, PREFIX " install: --perso INSTANCE_AID:HEX (1..255 bytes) needed\n");
            return 2;
        }
        data.data = perso;
        data.len = perso_len;
    }
    if (!strcmp(what, "restore") &&
        (!a->instance || !aid_hex(a->instance, strlen(a->instance), &instance))) {
        fprintf(stderr, PREFIX " restore: --instance AID needed\n");
        return 2;
    }
    e = seam_perso_domain_load(a->keys, &domain);
    if (e) {
        fprintf(stderr, PREFIX ": %s: %s\n", a->keys, seam_err_str(e));
        return 1;
    }
    if (!(module = read_file(a->package, &module_len))) {
        fprintf(stderr, PREFIX ": %s: cannot read it\n", a->package);
        return 1;
    }
    e = seam_perso_store_open(a->state, &store);
    if (e) {
        fprintf(stderr, PREFIX ": %s: %s\n", a->state, seam_err_str(e));
        free(module);
        return 1;
    }
    int status = card_open(a, &c);
    if (status < 0) {
        actor.gp = c.gp;
        actor.domain = &domain;
        actor.store = store;
        e = read_cin(c.gp, actor.cin, &actor.cin_len);
        if (!e && !strcmp(what, "install"))
            e = seam_perso_install(&actor, module, module_len, &data, 1, &report);
        else if (!e && !strcmp(what, "update"))
            e = seam_perso_update(&actor, module, module_len, &report);
        else if (!e)
            e = seam_perso_restore(&actor, module, module_len, &instance, &report);
        if (e)
            fprintf(stderr, PREFIX " %s: %s%s%s\n", what, seam_err_str(e),
                    report.reason[0] ? ": " : "", report.reason);
        else
            print_report(what, &report);
        status = e || report.reason[0] ? 1 : 0;
        card_close(&c);
    }
    seam_secure_zero(&domain, sizeof domain);
    seam_secure_zero(perso, sizeof perso);
    seam_perso_store_close(store);
    free(module);
    return status;
}

static seam_err print_record(void *ctx, const seam_perso_stored *r) {
    (void)ctx;
    printf("record\t%s\t%s\t%s\t%s\t%zu\n", r->cin, r->sd, r->instance, r->package, r->sealed_len);
    return SEAM_OK;
}

static seam_err print_refusal(void *ctx, const seam_perso_refusal *r) {
    (void)ctx;
    printf("refused\t%lld\t%s\t%s\t%s\n", (long long)r->time, r->cin, r->instance, r->reason);
    return SEAM_OK;
}

static int records(const args *a) {
    seam_perso_store *store = NULL;
    if (!a->state) {
        fprintf(stderr, PREFIX " records: --state FILE needed\n");
        return 2;
    }
    seam_err e = seam_perso_store_open(a->state, &store);
    if (!e) {
        printf("kind\tcin\tsd\tinstance\tpackage\tsealed_bytes\n");
        e = seam_perso_store_records(store, print_record, NULL);
    }
    if (!e)
        e = seam_perso_store_log(store, print_refusal, NULL);
    seam_perso_store_close(store);
    if (e)
        fprintf(stderr, PREFIX " records: %s: %s\n", a->state, seam_err_str(e));
    return e ? 1 : 0;
}

/* The issuer's step: the domain created in an ISD session and handed over. */
static int domain_cmd(const args *a) {
    seam_perso_domain d;
    seam_gp_keys isd;
    seam_gp_channel_info info;
    uint8_t key[32];
    char text[512];
    size_t n = 0;
    uint16_t sw = 0;
    card c;
    memset(&d, 0, sizeof d);
    if (!a->isd_keys || !a->aid || !a->out || !aid_hex(a->aid, strlen(a->aid), &d.aid)) {
        fprintf(stderr, PREFIX " domain: --isd-keys, --aid HEX and --out FILE needed\n");
        return 2;
    }
    if (!strcmp(a->isd_keys, "default")) {
        seam_gp_keys_default(&isd);
    } else if (seam_hex_decode(a->isd_keys, strlen(a->isd_keys), key, sizeof key, &n) ||
               seam_gp_keys_set(&isd, key, n)) {
        fprintf(stderr, PREFIX " domain: --isd-keys: default, or 16, 24 or 32 bytes of hex\n");
        return 2;
    }
    int fd = open(a->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, PREFIX " domain: %s: cannot create it (it must not exist)\n", a->out);
        return 1;
    }
    int status = card_open(a, &c);
    if (status >= 0) {
        close(fd);
        unlink(a->out);
        return status;
    }
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .privileges = {0x80, 0xC0, 0x00},
                                 .privileges_len = 3,
                                 .application = d.aid};
    (void)seam_gp_aid_set(&in.elf, sd_package, sizeof sd_package);
    (void)seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
    const char *step = "SELECT of the ISD";
    seam_err e = seam_gp_select(c.gp, NULL, 0, &sw);
    if (!e && sw == 0x9000 && (step = "the ISD's secure channel"))
        e = seam_gp_open_channel(c.gp, &isd, 0, 0x33, NULL, &sw);
    if (!e && sw == 0x9000 && (step = "INSTALL of the domain"))
        e = seam_gp_install(c.gp, &in, &sw);
    if (!e && sw == 0x9000 && (step = "SELECT of the domain"))
        e = seam_gp_select(c.gp, d.aid.bytes, d.aid.len, &sw);
    if (!e && sw == 0x9000 && (step = "the domain's secure channel (the issuer's keys)"))
        e = seam_gp_open_channel(c.gp, &isd, 0, 0x33, &info, &sw);
    if (!e && sw == 0x9000) {
        step = "PUT KEY (the handover)";
        d.kvn = info.kvn ? info.kvn : 0x30;
        e = seam_crypto_random_fresh(key, sizeof key);
        if (!e)
            e = seam_gp_keys_set(&d.keys, key, 16);
        if (!e)
            e = seam_crypto_random_fresh(d.keys.mac, 16);
        if (!e)
            e = seam_crypto_random_fresh(d.keys.dek, 16);
        if (!e)
            e = seam_gp_put_key(c.gp, d.kvn, d.kvn, &d.keys, &sw);
    }
    if (!e && sw == 0x9000)
        e = seam_perso_domain_format(&d, text, sizeof text);
    if (!e && sw == 0x9000 && write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        e = SEAM_ERR_IO;
    close(fd);
    card_close(&c);
    if (e || sw != 0x9000) {
        unlink(a->out);
        if (e)
            fprintf(stderr, PREFIX " domain: %s: %s\n", step, seam_err_str(e));
        else
            fprintf(stderr, PREFIX " domain: %s refused: %04X %s\n", step, sw, seam_gp_sw_text(sw));
    } else {
        printf("domain %s created and handed over (kvn %02X): its keys are in %s\n", a->aid, d.kvn,
               a->out);
    }
    seam_secure_zero(&d, sizeof d);
    seam_secure_zero(key, sizeof key);
    seam_secure_zero(text, sizeof text);
    seam_secure_zero(&isd, sizeof isd);
    return e || sw != 0x9000 ? 1 : 0;
}

int seam_cli_terminal_perso(int argc, char **argv) {
    args a;
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    int status = parse(argc - 1, argv + 1, &a);
    if (status >= 0)
        return status;
    if (!strcmp(argv[1], "install") || !strcmp(argv[1], "update") || !strcmp(argv[1], "restore"))
        return flow(argv[1], &a);
    if (!strcmp(argv[1], "records"))
        return records(&a);
    if (!strcmp(argv[1], "domain"))
        return domain_cmd(&a);
    return usage(stderr);
}
