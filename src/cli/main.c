/*
 * seam: the command. It only parses the first words and hands over to the
 * subcommand that owns the rest.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *group;
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} command;

static const command commands[] = {
    {"wasm", "spec", seam_cli_wasm_spec, "seam wasm spec DIR...     run wast2json output"},
    {"wasm", "run", seam_cli_wasm_run, "seam wasm run FILE.wasm [ARGS...]   run a WASI program"},
    {"card", "new", seam_cli_card, "seam card new --image FILE [--capacity BYTES]"},
    {"card", "serve", seam_cli_card, "seam card serve --image FILE [--vpcd HOST:PORT]"},
    {"card", "script", seam_cli_card_script, "seam card script --image FILE SCRIPT"},
    {"card", "list", seam_cli_card, "seam card list --image FILE [--json]"},
    {"gp", NULL, seam_cli_gp, "seam gp [--image FILE | --reader NAME] [OPTIONS] ACTION   (--help)"},
};

static int usage(FILE *to) {
    fprintf(to, "usage:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %s\n", commands[i].usage);
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return usage(stdout), 0;
    for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
        if (!commands[i].name && !strcmp(argv[1], commands[i].group))
            return commands[i].run(argc - 1, argv + 1); /* a group that parses the rest */
    if (argc < 3)
        return usage(stderr);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (commands[i].name && !strcmp(argv[1], commands[i].group) &&
            !strcmp(argv[2], commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "seam: unknown command '%s %s'\n", argv[1], argv[2]);
    return usage(stderr);
}
