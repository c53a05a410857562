/*
 * Opening the host link a command names (--image FILE or --reader NAME), with
 * the messages every command gives for the ways it fails: an image in use or
 * without its key file, pcscd not running, a reader that does not exist.
 * Shared by seam gp and seam card script.
 */
#include <stdio.h>
#include <string.h>

#include "card_diag.h"
#include "cli.h"
#include "seam/link.h"
#include "seam/nvm.h"
#include "seam/util.h"

void seam_cli_image_failed(const char *prefix, const char *image, seam_err e) {
    char detail[512];
    if (e == SEAM_ERR_NVM_BUSY && seam_nvm_describe_holder(image, detail, sizeof detail) == 0) {
        fprintf(stderr, "%s: %s is in use by %s\n", prefix, image, detail);
    } else if ((e == SEAM_ERR_CARD_KEY_FILE || e == SEAM_ERR_NVM_KEY) &&
               seam_card_key_file(image, detail, sizeof detail) == 0) {
        fprintf(stderr, "%s: %s: %s; key file: %s\n", prefix, image, seam_err_str(e), detail);
    } else {
        fprintf(stderr, "%s: %s: %s\n", prefix, image, seam_err_str(e));
    }
}

int seam_cli_link_open(const char *prefix, const char *image, const char *reader,
                       seam_gp_link *link) {
    seam_err e;
    if (!!image == !!reader) {
        fprintf(stderr, "%s: give one of --image FILE or --reader NAME\n", prefix);
        return 2;
    }
    if (image) {
        e = cli_image_link(image, link); /* applet diagnostics on stderr (card_diag.h) */
        if (e)
            seam_cli_image_failed(prefix, image, e);
        return e ? 1 : -1;
    }
    e = seam_link_pcsc_open(reader, link);
    if (e == SEAM_ERR_LINK_NO_SERVICE) {
        fprintf(stderr, "%s: PC/SC is not available: is pcscd running? (%s)\n", prefix,
                seam_link_pcsc_error());
    } else if (e == SEAM_ERR_LINK_NO_READER) {
        char names[4096];
        size_t len = 0;
        fprintf(stderr, "%s: no reader called '%s'", prefix, reader);
        if (seam_link_pcsc_readers(names, sizeof names, &len) == SEAM_OK && len > 1) {
            fprintf(stderr, "; the readers are:");
            for (const char *r = names; r < names + len && *r; r += strlen(r) + 1)
                fprintf(stderr, " '%s'", r);
        }
        fprintf(stderr, "\n");
    } else if (e) {
        fprintf(stderr, "%s: reader '%s': %s (%s)\n", prefix, reader, seam_err_str(e),
                seam_link_pcsc_error());
    }
    return e ? 1 : -1;
}
