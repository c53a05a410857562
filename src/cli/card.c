/*
 * seam card new | list | serve: create a card image, list what it holds, and
 * serve it to pcscd through vsmartcard's vpcd driver so that any PC/SC tool
 * sees it as a reader.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_diag.h"
#include "card_serve.h"
#include "cli.h"
#include "seam/card.h"
#include "seam/link.h"
#include "seam/util.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* Finds --name VALUE in argv; NULL when absent. */
static const char *option(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

/* Refuses arguments that are neither known options nor their values. */
static bool only_options(int argc, char **argv, const char *const *known) {
    for (int i = 1; i < argc; i += 2) { /* --name VALUE pairs */
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(argv[i], *k) && i + 1 < argc;
        if (!ok) {
            fprintf(stderr, "seam card %s: unexpected argument '%s'\n", argv[0], argv[i]);
            return false;
        }
    }
    return true;
}

static int card_new(int argc, char **argv) {
    static const char *const known[] = {"--image", "--capacity", "--profile", NULL};
    const char *image = option(argc, argv, "--image");
    const char *capacity_text = option(argc, argv, "--capacity");
    const char *profile_text = option(argc, argv, "--profile");
    seam_card_profile profile = SEAM_CARD_PROFILE_DEVELOPMENT;
    size_t capacity = 0;
    seam_card *card = NULL;
    if (!only_options(argc, argv, known) || !image) {
        fprintf(stderr, "usage: seam card new --image FILE [--capacity BYTES]\n"
                        "                     [--profile development|production]\n");
        return 2;
    }
    if (profile_text && !strcmp(profile_text, "production")) {
        profile = SEAM_CARD_PROFILE_PRODUCTION;
    } else if (profile_text && strcmp(profile_text, "development")) {
        fprintf(stderr, "seam card new: --profile is development (the default) or production\n");
        return 2;
    }
    if (capacity_text) {
        char *end = NULL;
        unsigned long long v = strtoull(capacity_text, &end, 10);
        if (!*capacity_text || *end || v < 4096 || v > SEAM_NVM_CAPACITY_MAX) {
            fprintf(stderr,
                    "seam card new: --capacity must be a number of bytes from 4096 to %zu\n",
                    (size_t)SEAM_NVM_CAPACITY_MAX);
            return 2;
        }
        capacity = (size_t)v;
    }
    seam_err e = seam_card_create_profile(image, capacity, profile, &card);
    if (e == SEAM_ERR_CARD_KEY_EXISTS) {
        fprintf(stderr, "seam card new: %s.key: %s\n", image, seam_err_str(e));
        return 1;
    }
    if (e == SEAM_ERR_NVM_BUSY) {
        seam_cli_card_open_failed("new", image, e);
        return 1;
    }
    if (e) {
        fprintf(stderr, "seam card new: %s: %s\n", image, seam_err_str(e));
        return 1;
    }
    printf("Created card %s: lifecycle SECURED, %s profile, %zu bytes of storage (%zu free).\n"
           "Issuer security domain A000000151000000 holds the GlobalPlatform test keys\n"
           "404142434445464748494A4B4C4D4E4F (AES-128, key version 0x30) for ENC, MAC and DEK:\n"
           "anyone can open a secure channel; replace them with PUT KEY before real use.\n"
           "The image is encrypted under a new storage key, written to %s.key (mode 0600).\n"
           "The image is useless without it: keep the key file, and back it up apart from\n"
           "the image (seam reads it from $SEAM_CARD_KEY_FILE when that is set).\n",
           image, seam_card_profile_name(profile), seam_nvm_capacity(seam_card_nvm(card)),
           seam_nvm_free_bytes(seam_card_nvm(card)), image);
    if (profile == SEAM_CARD_PROFILE_PRODUCTION)
        printf("Production profile: applets' seam_debug output is dropped, for good (the\n"
               "profile cannot be changed).\n");
    const char *elsewhere = getenv("SEAM_CARD_KEY_FILE");
    if (elsewhere && *elsewhere)
        fprintf(stderr,
                "seam card new: note: SEAM_CARD_KEY_FILE is set (%s): opening %s will read that\n"
                "file, not %s.key\n",
                elsewhere, image, image);
    seam_card_close(card);
    return 0;
}

void seam_cli_card_open_failed(const char *command, const char *image, seam_err e) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "seam card %s", command);
    seam_cli_image_failed(prefix, image, e);
}

static int card_serve(int argc, char **argv) {
    static const char *const known[] = {"--image", "--vpcd", NULL};
    const char *image = option(argc, argv, "--image");
    const char *vpcd = option(argc, argv, "--vpcd");
    seam_vpcd_options opt = {0};
    char host[256] = SEAM_VPCD_DEFAULT_HOST;
    card_serving s;
    seam_vpcd_handler handler;
    seam_card *card = NULL;
    if (!only_options(argc, argv, known) || !image) {
        fprintf(stderr, "usage: seam card serve --image FILE [--vpcd HOST:PORT]\n");
        return 2;
    }
    if (vpcd) {
        const char *colon = strrchr(vpcd, ':');
        char *end = NULL;
        unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
        if (!colon || colon == vpcd || (size_t)(colon - vpcd) >= sizeof host || !*(colon + 1) ||
            *end || port == 0 || port > 65535) {
            fprintf(stderr, "seam card serve: --vpcd wants HOST:PORT, e.g. 127.0.0.1:35963\n");
            return 2;
        }
        memcpy(host, vpcd, (size_t)(colon - vpcd));
        host[colon - vpcd] = 0;
        opt.port = (uint16_t)port;
    }
    opt.host = host;
    seam_err e = seam_card_open(image, &card);
    if (!e)
        cli_card_diagnostics(card); /* applet failures and seam_debug lines on stderr */
    if (!e)
        e = card_serving_bind(&s, card, &handler);
    if (e) {
        seam_card_close(card);
        seam_cli_card_open_failed("serve", image, e);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    seam_log(SEAM_LOG_INFO, "serving %s to vpcd at %s:%u", image, host,
             opt.port ? opt.port : SEAM_VPCD_DEFAULT_PORT);
    e = seam_vpcd_serve(&opt, &handler, &stop_requested);
    seam_card_close(card);
    if (e) {
        fprintf(stderr, "seam card serve: %s\n", seam_err_str(e));
        return 1;
    }
    seam_log(SEAM_LOG_INFO, "stopped; the card image is closed");
    return 0;
}

typedef struct {
    bool json;
    int count; /* entries printed so far (JSON commas) */
    seam_card_entry_kind last;
} lister;

static const char *const kind_names[] = {"card",      "security_domains", "packages",
                                         "instances", "restore_records",  "upgrades"};

static void print_aid(const uint8_t *aid, size_t len) {
    for (size_t i = 0; i < len; i++)
        printf("%02X", aid[i]);
}

static const char *lifecycle_name(seam_card_entry_kind kind, uint8_t lc) {
    if (kind == SEAM_CARD_ENTRY_CARD)
        return lc == 0x01   ? "OP_READY"
               : lc == 0x07 ? "INITIALIZED"
               : lc == 0x0F ? "SECURED"
               : lc == 0x7F ? "CARD_LOCKED"
               : lc == 0xFF ? "TERMINATED"
                            : "?";
    if (kind == SEAM_CARD_ENTRY_SD)
        return lc == 0x03    ? "INSTALLED"
               : lc == 0x07  ? "SELECTABLE"
               : lc == 0x0F  ? "PERSONALIZED"
               : (lc & 0x80) ? "LOCKED"
                             : "?";
    return lc == 0x03    ? "INSTALLED"
           : lc == 0x07  ? "SELECTABLE"
           : (lc & 0x80) ? "LOCKED"
                         : "APPLICATION_SPECIFIC";
}

/* Prints one entry as text or as a JSON member, opening arrays when the kind changes. */
static seam_err list_entry(void *ctx, const seam_card_entry *e) {
    lister *l = ctx;
    /* the ISD (an SD with no associated SD) carries the card's lifecycle */
    bool isd = e->kind == SEAM_CARD_ENTRY_SD && e->sd_len == 0;
    const char *lc = lifecycle_name(isd ? SEAM_CARD_ENTRY_CARD : e->kind, e->lifecycle);
    if (l->json) {
        if (e->kind != l->last || !l->count) {
            if (l->count)
                printf("%s", l->last == SEAM_CARD_ENTRY_CARD ? ",\n" : "\n  ],\n");
            if (e->kind != SEAM_CARD_ENTRY_CARD)
                printf("  \"%s\": [\n", kind_names[e->kind]);
        } else {
            printf(",\n");
        }
    } else if (e->kind != l->last && e->kind != SEAM_CARD_ENTRY_CARD) {
        printf("%s:\n", kind_names[e->kind]);
    }
    if (e->kind == SEAM_CARD_ENTRY_CARD) {
        const char *profile = seam_card_profile_name((seam_card_profile)e->profile);
        if (l->json)
            printf("  \"card\": {\"lifecycle\": \"%02X\", \"state\": \"%s\", \"profile\": \"%s\"}",
                   e->lifecycle, lc, profile ? profile : "?");
        else
            printf("card: lifecycle %s (%02X), %s profile\n", lc, e->lifecycle,
                   profile ? profile : "?");
        goto next;
    }
    printf(l->json ? "    {\"aid\": \"" : "  ");
    print_aid(e->aid, e->aid_len);
    if (e->kind == SEAM_CARD_ENTRY_PACKAGE && l->json) {
        printf("\", \"version\": \"%04X\", \"size\": %zu, \"space\": \"%02X\"", e->version,
               e->module_size, e->space == 2 ? 2u : 1u);
    } else if (e->kind == SEAM_CARD_ENTRY_PACKAGE) {
        printf("  version %u.%u, %zu bytes, %s space", e->version >> 8, e->version & 0xFFu,
               e->module_size, e->space == 2 ? "temporary" : "useful");
    } else if (e->kind == SEAM_CARD_ENTRY_RECORD) {
        printf(l->json ? "\", \"used\": %zu" : "  %zu bytes", e->used_bytes);
    } else if (e->kind == SEAM_CARD_ENTRY_UPGRADE) {
        printf(l->json ? "\", \"to\": \"" : "  to ");
        print_aid(e->package, e->package_len);
        printf(l->json ? "\"" : "");
    } else {
        if (l->json)
            printf("\", \"lifecycle\": \"%02X\", \"state\": \"%s\"", e->lifecycle, lc);
        else
            printf("  lifecycle %s (%02X)", lc, e->lifecycle);
        printf(l->json ? ", \"privileges\": \"%02X%02X%02X\"" : ", privileges %02X%02X%02X",
               e->privileges[0], e->privileges[1], e->privileges[2]);
    }
    if (e->kind == SEAM_CARD_ENTRY_INSTANCE) {
        printf(l->json ? ", \"package\": \"" : ", package ");
        print_aid(e->package, e->package_len);
        printf(l->json ? "\"" : "");
        if (e->space == 2)
            printf(l->json ? ", \"space\": \"02\"" : " (temporary space)");
    }
    /* the associated SD: an instance's or a record's, a package's or an upgrade's
       owner, an SD's creator (none for the ISD) */
    if (e->sd_len) {
        printf(l->json ? ", \"sd\": \"" : ", SD ");
        print_aid(e->sd, e->sd_len);
        printf(l->json ? "\"" : "");
    }
    if (e->kind == SEAM_CARD_ENTRY_SD) {
        printf(l->json ? ", \"key_versions\": [" : ", key versions");
        for (size_t i = 0; i < e->kvn_count; i++)
            printf(l->json ? "%s\"%02X\"" : "%s%02X", l->json ? (i ? ", " : "") : " ", e->kvns[i]);
        printf(l->json ? "]" : "");
    }
    printf(l->json ? "}" : "\n");
next:
    l->last = e->kind;
    l->count++;
    return SEAM_OK;
}

static int card_list(int argc, char **argv) {
    const char *image = NULL;
    lister l = {0};
    seam_card *card = NULL;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "--json"))
            l.json = true;
        else if (!strcmp(argv[i], "--image") && i + 1 < argc)
            image = argv[++i];
        else
            rc = 2;
    }
    if (rc || !image) {
        fprintf(stderr, "usage: seam card list --image FILE [--json]\n");
        return 2;
    }
    seam_err e = seam_card_open(image, &card);
    if (e) {
        seam_cli_card_open_failed("list", image, e);
        return 1;
    }
    if (l.json)
        printf("{\n");
    e = seam_card_registry_foreach(card, list_entry, &l);
    if (!e) {
        seam_nvm *nvm = seam_card_nvm(card);
        if (l.json) {
            printf("%s  \"nvm\": {\"capacity\": %zu, \"used\": %zu, \"free\": %zu}\n}\n",
                   l.last == SEAM_CARD_ENTRY_CARD ? ",\n" : "\n  ],\n", seam_nvm_capacity(nvm),
                   seam_nvm_used_bytes(nvm), seam_nvm_free_bytes(nvm));
        } else {
            printf("nvm: %zu bytes used of %zu (%zu free)\n", seam_nvm_used_bytes(nvm),
                   seam_nvm_capacity(nvm), seam_nvm_free_bytes(nvm));
        }
    }
    seam_card_close(card);
    if (e) {
        fprintf(stderr, "seam card list: %s: %s\n", image, seam_err_str(e));
        rc = 1;
    }
    return rc;
}

/* The usage line of each card subcommand, and what it does, for --help. */
static const struct {
    const char *name, *usage, *help;
} card_help[] = {
    {"new", "seam card new --image FILE [--capacity BYTES]",
     "Creates a card image (and its storage key file FILE.key): lifecycle SECURED, the\n"
     "issuer security domain with the GlobalPlatform test keys (docs/card.md)."},
    {"serve", "seam card serve --image FILE [--vpcd HOST:PORT]",
     "Serves the card to pcscd through vsmartcard's vpcd driver (default 127.0.0.1:35963)\n"
     "until SIGINT or SIGTERM; PC/SC tools then see it in the reader \"Virtual PCD 00 00\"."},
    {"list", "seam card list --image FILE [--json]",
     "Lists what the card holds, read from its image: security domains, packages,\n"
     "instances, restore records, upgrades, storage. With --json every byte value is a\n"
     "hex string."},
};

/* --help or -h among the arguments: prints the subcommand's usage to stdout. */
static bool card_help_asked(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            for (size_t k = 0; k < sizeof card_help / sizeof card_help[0]; k++)
                if (!strcmp(argv[0], card_help[k].name)) {
                    printf("usage: %s\n\n%s\n", card_help[k].usage, card_help[k].help);
                    return true;
                }
    return false;
}

int seam_cli_card(int argc, char **argv) {
    if (argc >= 1 && card_help_asked(argc, argv))
        return 0;
    if (argc >= 1 && !strcmp(argv[0], "new"))
        return card_new(argc, argv);
    if (argc >= 1 && !strcmp(argv[0], "serve"))
        return card_serve(argc, argv);
    if (argc >= 1 && !strcmp(argv[0], "list"))
        return card_list(argc, argv);
    fprintf(stderr, "usage: seam card new|serve|list ...\n");
    return 2;
}
