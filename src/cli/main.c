/*
 * seam: the command. It only parses the first words and hands over to the
 * subcommand that owns the rest.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef SEAM_VERSION
#error "SEAM_VERSION comes from CMake (project VERSION in the top CMakeLists.txt)"
#endif
#ifndef SEAM_GIT_COMMIT
#define SEAM_GIT_COMMIT ""
#endif

/* seam version, seam --version: "seam 0.1.0", and the commit when built from git. */
static int version(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: seam version   (or seam --version)\n\nPrints the version of seam, and "
               "the git commit it was built from when known.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: seam version   (or seam --version)\n");
        return 2;
    }
    printf("seam %s%s%s%s\n", SEAM_VERSION, *SEAM_GIT_COMMIT ? " (git " : "", SEAM_GIT_COMMIT,
           *SEAM_GIT_COMMIT ? ")" : "");
    return 0;
}

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
    {"card", "script", seam_cli_card_script,
     "seam card script (--image FILE | --reader NAME | --check) [--stop-on-error] SCRIPT"},
    {"card", "list", seam_cli_card, "seam card list --image FILE [--json]"},
    {"gp", NULL, seam_cli_gp, "seam gp [--image FILE | --reader NAME] [OPTIONS] ACTION   (--help)"},
    {"server", NULL, seam_cli_server,
     "seam server (init DIR | run DIR [--db URL] [--listen ADDR:PORT] | report DIR)"},
    {"terminal", NULL, seam_cli_terminal,
     "seam terminal (run --server URL (--image FILE | --reader NAME) [--toolkit] | poke | status | "
     "event KIND | menu ITEM | dm ACTION | sync | perso ACTION | key --out FILE)   (--help)"},
    {"fleet", NULL, seam_cli_fleet,
     "seam fleet --cards N --server URL [--dir DIR] [--threads T] [--register TOKEN]   (--help)"},
    {"flashcard", NULL, seam_cli_flashcard,
     "seam flashcard (new | status | store | list | update | install | restore | apdu | "
     "terminal-update) DIR ...   (--help)"},
    {"version", NULL, version, "seam version | seam --version"},
};

/* The usage lines of every command, or of group's only (NULL: all). */
static int usage(FILE *to, const char *group) {
    fprintf(to, "usage:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!group || !strcmp(group, commands[i].group))
            fprintf(to, "  %s\n", commands[i].usage);
    if (!group)
        fprintf(to, "Every command takes --help.\n");
    return 2;
}

static bool is_help(const char *arg) {
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int main(int argc, char **argv) {
    if (argc >= 2 && is_help(argv[1]))
        return usage(stdout, NULL), 0;
    if (argc >= 2 && !strcmp(argv[1], "--version"))
        return version(argc - 1, argv + 1);
    for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
        if (!commands[i].name && !strcmp(argv[1], commands[i].group))
            return commands[i].run(argc - 1, argv + 1); /* a group that parses the rest */
    if (argc == 3 && is_help(argv[2])) /* seam card --help: that group's commands */
        return usage(stdout, argv[1]), 0;
    if (argc < 3)
        return usage(stderr, argc == 2 ? argv[1] : NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (commands[i].name && !strcmp(argv[1], commands[i].group) &&
            !strcmp(argv[2], commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "seam: unknown command '%s %s'\n", argv[1], argv[2]);
    return usage(stderr, NULL);
}
