/*
 * seam card script: runs a text script of APDUs and directives against a card
 * (docs/card-script.md), a seam image in this process (--image) or any card in
 * a PC/SC reader (--reader), or only checks it (--check). The runner is the
 * host library's (seam_gp_script_run in include/seam/gp.h); this file parses
 * the command line, opens the link and prints what the runner reports, every
 * line through print_line.
 *
 * Exit status: 0 every check held, 1 a check failed or the script or card
 * could not be used (the message says which), 2 a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gp_cli.h"
#include "seam/gp.h"
#include "seam/link.h"

#define USAGE                                                                                      \
    "usage: seam card script (--image FILE | --reader NAME) [--stop-on-error] [-d | --trace]\n"    \
    "                        SCRIPT\n"                                                             \
    "       seam card script --check [--stop-on-error] SCRIPT\n"

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(
            to,
            "\n"
            "Runs SCRIPT, a text file of APDUs (\"APDU [=> SW [DATA]]\") and directives\n"
            "(.scp03 .putkey .load .install .delete .upgrade .store-data .traffic .power),\n"
            "and prints every command, response and failed check; docs/card-script.md\n"
            "describes the lines.\n\n"
            "  --image FILE     a seam card image, in this process\n"
            "  --reader NAME    a card in a PC/SC reader (seam gp readers lists them)\n"
            "  --check          parse and check every line and the files it names; send\n"
            "                   nothing (no card needed)\n"
            "  --stop-on-error  stop at the first failure\n"
            "  -d, --trace      every APDU on stderr: > plain, => sent, <= received, < plain\n");
    return to == stdout ? 0 : 2;
}

/* Prints one line of the runner's output: everything on stdout, in order. */
static void print_line(void *ctx, seam_gp_script_output kind, const char *text) {
    const bool *tracing = ctx;
    (void)kind;
    printf("%s\n", text);
    if (*tracing) /* the trace goes to stderr: keep the two in step */
        fflush(stdout);
}

int seam_cli_card_script(int argc, char **argv) {
    const char *image = NULL, *reader = NULL, *path = NULL;
    seam_gp_script_options o;
    seam_gp_script_result result;
    seam_gp_link link;
    bool trace = false;
    int status;
    memset(&o, 0, sizeof o);
    memset(&link, 0, sizeof link);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        if (!strcmp(a, "--check")) {
            o.check_only = true;
        } else if (!strcmp(a, "--stop-on-error")) {
            o.stop_on_error = true;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--trace")) {
            trace = true;
        } else if ((!strcmp(a, "--image") || !strcmp(a, "--reader")) && i + 1 < argc) {
            *(!strcmp(a, "--image") ? &image : &reader) = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "seam card script: unknown option '%s'\n", a);
            return usage(stderr);
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "seam card script: one SCRIPT only ('%s' is one too many)\n", a);
            return usage(stderr);
        }
    }
    if (!path || (!o.check_only && !!image == !!reader) || (image && reader)) {
        if (path)
            fprintf(stderr, "seam card script: give one of --image FILE or --reader NAME\n");
        return usage(stderr);
    }
    o.path = path;
    o.print = print_line;
    o.print_ctx = &trace;
    if (trace) {
        o.trace = gp_show_trace;
        o.trace_ctx = NULL;
    }
    if (!o.check_only) {
        status = seam_cli_link_open("seam card script", image, reader, &link);
        if (status >= 0)
            return status;
    }
    seam_err e = seam_gp_script_run(o.check_only ? NULL : &link, &o, &result);
    seam_gp_link_close(&link);
    if (e == SEAM_ERR_IO)
        return 1; /* the runner said why */
    if (e) {
        fprintf(stderr, "seam card script: %s%s\n",
                e == SEAM_ERR_LINK_NO_CARD ? "the card does not power on: " : "", seam_err_str(e));
        return 1;
    }
    return result.failed ? 1 : 0;
}
