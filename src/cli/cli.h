/*
 * The seam command's subcommands. Each takes the arguments after its own
 * name (argv[0] is the subcommand's name) and returns the process exit status.
 */
#ifndef SEAM_CLI_H
#define SEAM_CLI_H

#include "seam/errors.h"
#include "seam/gp.h"

/* seam wasm spec DIR...: runs wast2json output; see docs/wasm.md. */
int seam_cli_wasm_spec(int argc, char **argv);

/* seam wasm run FILE.wasm [ARGS...]: runs a WASI preview1 program. */
int seam_cli_wasm_run(int argc, char **argv);

/* seam card new|serve ...: create a card image, serve it through vpcd; argv[0] is
   the card subcommand's name. */
int seam_cli_card(int argc, char **argv);

/* seam card script (--image FILE | --reader NAME | --check) SCRIPT: argv[0] is "script". */
int seam_cli_card_script(int argc, char **argv);

/* seam gp [OPTIONS] ACTION ...: manage a GlobalPlatform card; argv[0] is "gp". */
int seam_cli_gp(int argc, char **argv);
/* seam server init|run|report DIR ...: the admin server; argv[0] is "server". */
int seam_cli_server(int argc, char **argv);

/* seam terminal run|poke|status ...: the card's admin agent; argv[0] is "terminal". */
int seam_cli_terminal(int argc, char **argv);

/* seam terminal dm show|set|unset|app-add|app-remove ...: the terminal's device-management
   database; argv[0] is "dm". */
int seam_cli_terminal_dm(int argc, char **argv);
/* seam terminal sync (terminal_sync.c): one synchronization with the server; argv[0] is
   "sync". */
int seam_cli_terminal_sync(int argc, char **argv);

/* seam terminal perso install|update|restore|records|domain (terminal_perso.c): personalization
   and restore outside the card through the terminal's domain; argv[0] is "perso". */
int seam_cli_terminal_perso(int argc, char **argv);

/* seam fleet --cards N --server URL ...: many in-process cards, one terminal loop each;
   argv[0] is "fleet". */
int seam_cli_fleet(int argc, char **argv);

/* seam flashcard new|status|store|list|update|apdu DIR ...: the secure flash card
   (docs/flashcard.md); argv[0] is "flashcard". */
int seam_cli_flashcard(int argc, char **argv);

/* Prints why seam_card_open(image) failed with e, as "seam card COMMAND: ..." on
   stderr: who holds a busy image, which key file is missing or wrong. */
void seam_cli_card_open_failed(const char *command, const char *image, seam_err e);

/* Prints why an image did not open with e, as "PREFIX: ...": who holds it, which key
   file is missing or wrong. */
void seam_cli_image_failed(const char *prefix, const char *image, seam_err e);

/* Opens the link of --image FILE or --reader NAME (exactly one may be given) into
   *link; returns -1 when open, else the exit status (2 usage, 1 failure) with the
   message printed as "PREFIX: ...". */
int seam_cli_link_open(const char *prefix, const char *image, const char *reader,
                       seam_gp_link *link);

#endif
