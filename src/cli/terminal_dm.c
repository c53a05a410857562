/*
 * seam terminal dm: the terminal's device-management database
 * (include/seam/sync.h, docs/sync.md "Databases") shown and edited as a user
 * would: change the ringtone, add or remove an application.
 *
 *   seam terminal dm [--db FILE] show [URI]
 *   seam terminal dm [--db FILE] set PARAMETER VALUE
 *   seam terminal dm [--db FILE] unset PARAMETER
 *   seam terminal dm [--db FILE] app-add KEY --name NAME --version V [--size BYTES] [--card]
 *   seam terminal dm [--db FILE] app-remove KEY
 *
 * Exit status: 0 done, 1 a failure (the message says which limit or why), 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/sync.h"

#define DEFAULT_DB  "seam-dm.db"
#define DM_ARGS_MAX 4

#define USAGE                                                                                      \
    "usage: seam terminal dm [--db FILE] show [./devinfo | ./apps]\n"                              \
    "       seam terminal dm [--db FILE] set PARAMETER VALUE\n"                                    \
    "       seam terminal dm [--db FILE] unset PARAMETER\n"                                        \
    "       seam terminal dm [--db FILE] app-add KEY --name NAME --version V [--size BYTES] "      \
    "[--card]\n"                                                                                   \
    "       seam terminal dm [--db FILE] app-remove KEY\n"

typedef struct {
    const char *db, *name, *version, *size;
    int card;
    const char *args[DM_ARGS_MAX];
    int nargs;
} dm_args;

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(to,
                "The terminal's device-management database (default %s): parameters in\n"
                "./devinfo (imei, language, ringtone, model, firmware, ...), installed\n"
                "applications in ./apps (key: AID in hex for a card applet, else a package\n"
                "name). Every change is one transaction.\n",
                DEFAULT_DB);
    return to == stdout ? 0 : 2;
}

/* Parses argv[1..argc); -1 when parsed, else the exit status. */
static int parse(int argc, char **argv, dm_args *a) {
    memset(a, 0, sizeof *a);
    a->db = DEFAULT_DB;
    for (int i = 1; i < argc; i++) {
        const char **opt = !strcmp(argv[i], "--db")        ? &a->db
                           : !strcmp(argv[i], "--name")    ? &a->name
                           : !strcmp(argv[i], "--version") ? &a->version
                           : !strcmp(argv[i], "--size")    ? &a->size
                                                           : NULL;
        if (opt) {
            if (++i == argc)
                return usage(stderr);
            *opt = argv[i];
        } else if (!strcmp(argv[i], "--card")) {
            a->card = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return usage(stdout);
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "seam terminal dm: unknown option %s\n", argv[i]);
            return usage(stderr);
        } else if (a->nargs < DM_ARGS_MAX) {
            a->args[a->nargs++] = argv[i];
        } else {
            return usage(stderr);
        }
    }
    return a->nargs ? -1 : usage(stderr);
}

static int failed(const char *what, seam_err e) {
    fprintf(stderr, "seam terminal dm: %s: %s\n", what, seam_err_str(e));
    return 1;
}

static int print_devinfo(void *ctx, const seam_sync_record *r) {
    (void)ctx;
    printf("  %s: %s\n", r->key, r->value);
    return 0;
}

static int print_app(void *ctx, const seam_sync_record *r) {
    (void)ctx;
    printf("  %s  %s  %s  %s  %" PRIu64 " B\n", r->key,
           r->kind == SEAM_SYNC_KIND_CARD ? "card" : "terminal", r->value, r->version, r->size);
    return 0;
}

static int show(seam_sync_db *db, const char *only) {
    const char *uris[] = {SEAM_SYNC_DEVINFO, SEAM_SYNC_APPS};
    for (int i = 0; i < 2; i++) {
        size_t n = 0;
        if (only && strcmp(only, uris[i]))
            continue;
        seam_err e = seam_sync_count(db, uris[i], &n);
        if (e)
            return failed(uris[i], e);
        printf("%s (%zu record%s)\n", uris[i], n, n == 1 ? "" : "s");
        e = seam_sync_list(db, uris[i], i ? print_app : print_devinfo, NULL);
        if (e)
            return failed(uris[i], e);
    }
    return 0;
}

/* Copies s into dst (cap bytes); false when it does not fit (the limit check then says why). */
static int fits(char *dst, size_t cap, const char *s) {
    return snprintf(dst, cap, "%s", s) < (int)cap;
}

/* Says which limits a refused field breaks; exit status 1. */
static int field_refused(void) {
    fprintf(stderr,
            "seam terminal dm: a field is empty, too long or not plain text (limits: key "
            "%d bytes, value and name %d, version %d; UTF-8 without control characters)\n",
            SEAM_SYNC_KEY_MAX, SEAM_SYNC_VALUE_MAX, SEAM_SYNC_VERSION_MAX);
    return failed("not saved", SEAM_ERR_SYNC_FIELD);
}

static int put(seam_sync_db *db, const char *uri, const seam_sync_record *r) {
    seam_err e = seam_sync_put(db, uri, r);
    if (e == SEAM_ERR_SYNC_FIELD)
        return field_refused();
    return e ? failed("not saved", e) : 0;
}

static int act(seam_sync_db *db, const dm_args *a) {
    const char *what = a->args[0];
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    if (!strcmp(what, "show") && a->nargs <= 2) {
        if (a->nargs == 2 && strcmp(a->args[1], SEAM_SYNC_DEVINFO) &&
            strcmp(a->args[1], SEAM_SYNC_APPS))
            return failed(a->args[1], SEAM_ERR_SYNC_URI);
        return show(db, a->nargs == 2 ? a->args[1] : NULL);
    }
    if (!strcmp(what, "set") && a->nargs == 3) {
        if (!fits(r.key, sizeof r.key, a->args[1]) || !fits(r.value, sizeof r.value, a->args[2]))
            return field_refused();
        return put(db, SEAM_SYNC_DEVINFO, &r);
    }
    if ((!strcmp(what, "unset") || !strcmp(what, "app-remove")) && a->nargs == 2) {
        const char *uri = what[0] == 'u' ? SEAM_SYNC_DEVINFO : SEAM_SYNC_APPS;
        seam_err e = seam_sync_delete(db, uri, a->args[1]);
        return e ? failed(a->args[1], e) : 0;
    }
    if (!strcmp(what, "app-add") && a->nargs == 2 && a->name && a->version) {
        char *end = NULL;
        errno = 0;
        unsigned long long size = a->size ? strtoull(a->size, &end, 10) : 0;
        if (a->size && (errno || !*a->size || *end || a->size[0] == '-')) {
            fprintf(stderr, "seam terminal dm: --size %s: not a number of bytes\n", a->size);
            return 2;
        }
        r.size = size;
        r.kind = a->card ? SEAM_SYNC_KIND_CARD : SEAM_SYNC_KIND_TERMINAL;
        if (!fits(r.key, sizeof r.key, a->args[1]) || !fits(r.value, sizeof r.value, a->name) ||
            !fits(r.version, sizeof r.version, a->version))
            return field_refused();
        return put(db, SEAM_SYNC_APPS, &r);
    }
    return usage(stderr);
}

int seam_cli_terminal_dm(int argc, char **argv) {
    dm_args a;
    seam_sync_db *db;
    int status = parse(argc, argv, &a);
    if (status >= 0)
        return status;
    seam_err e = seam_sync_open(a.db, &db);
    if (e)
        return failed(a.db, e);
    status = act(db, &a);
    seam_sync_close(db);
    return status;
}
