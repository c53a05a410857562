/*
 * The stderr side of applet diagnostics (card_diag.h): the card formats each
 * event (seam_card_diag_format), this file decides what a person at a terminal
 * sees. Nothing here reaches the card's reader: the card answers as it would
 * without it.
 */
#include <stdio.h>

#include "card_diag.h"
#include "seam/link.h"
#include "seam/util.h"

/* Failures and seam_debug lines always; fuel at debug level. */
static void to_stderr(void *ctx, const seam_card_diag *event) {
    char line[640];
    (void)ctx;
    seam_card_diag_format(event, line, sizeof line);
    if (event->kind == SEAM_CARD_DIAG_FUEL) {
        seam_log(SEAM_LOG_DEBUG, "%s", line);
    } else {
        flockfile(stderr);
        fprintf(stderr, "seam: %s\n", line);
        funlockfile(stderr);
    }
}

void cli_card_diagnostics(seam_card *card) {
    seam_card_set_diag(card, to_stderr, NULL);
}

seam_err cli_image_link(const char *path, seam_gp_link *out) {
    seam_card *card = NULL;
    seam_err e = path && out ? seam_card_open(path, &card) : SEAM_ERR_ARG;
    if (!e) {
        cli_card_diagnostics(card);
        e = seam_link_card_owned(card, out); /* closed with the link, even on error */
    }
    return e;
}
