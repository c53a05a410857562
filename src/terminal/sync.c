/*
 * seam_terminal_sync: runs a synchronization over the protocol it names (docs/terminal.md
 * "seam terminal sync"): seam's compact changeset protocol (sync_changeset.c) or OMA DS 1.2
 * (sync_omads.c).
 */
#include <stdio.h>
#include <string.h>

#include "seam/terminal.h"

seam_err seam_terminal_sync(const seam_terminal_sync_request *req,
                            seam_terminal_sync_outcome *out) {
    if (!req || !out)
        return SEAM_ERR_ARG;
    switch (req->protocol) {
    case SEAM_TERMINAL_SYNC_CHANGESET:
        return seam_terminal_sync_changeset(req, out);
    case SEAM_TERMINAL_SYNC_OMADS:
        return seam_terminal_sync_omads(req, out);
    default:
        memset(out, 0, sizeof *out);
        out->failure = SEAM_TERMINAL_SYNC_UNSUPPORTED;
        snprintf(out->reason, sizeof out->reason, "protocol %d is not run by this terminal",
                 (int)req->protocol);
        return SEAM_OK;
    }
}
