/*
 * REQUEST SYNCHRONIZATION, executed by the terminal (toolkit_int.h; issue 14,
 * S6, S7; docs/terminal.md "REQUEST SYNCHRONIZATION"). The command's objects
 * (include/seam/toolkit.h, seam's 7F 53xx tags) become a
 * seam_terminal_sync_request on the terminal's database, the synchronization
 * runs through the engine given with seam_terminal_tk_set_sync
 * (seam_terminal_sync in seam terminal), and its outcome becomes the TERMINAL
 * RESPONSE:
 *
 *   no engine (no --dm), or the WSP transport     30 beyond capabilities
 *   an object missing / bad                        36 / 32
 *   ran, success                                   00 + counts (7F D3 09 07 ...)
 *   ran, failure                                   20 + the failure class (E1..E6)
 *
 * The rule for time: with wants result 01 the synchronization runs inside the
 * proactive session, before the TERMINAL RESPONSE, bounded by the engine's
 * timeout (a timeout is a failure: unreachable); the card's fetched-command
 * limit counts commands, not time, and the terminal sends none while it
 * runs. With 02 (S7) the request is checked the same way, then answered at
 * once (00 and the reference, toolkit_report.c) and run here again, with
 * the same engine, when the session has ended; its answer becomes the report
 * (ENVELOPE D6, event E2).
 */
#include <string.h>

#include "seam/toolkit.h"
#include "toolkit_int.h"

#define TEXT_MAX 256u /* each string of the command, NUL included (a command is 255 bytes) */

/* value[0..len) as a C string in out; false when it holds a NUL (not a string). */
static bool c_string(const uint8_t *value, size_t len, char out[TEXT_MAX]) {
    if (len >= TEXT_MAX || memchr(value, 0, len))
        return false;
    memcpy(out, value, len);
    out[len] = 0;
    return true;
}

/* The failure class as result 20's additional information. */
static uint8_t failure_class(seam_terminal_sync_failure f) {
    switch (f) {
    case SEAM_TERMINAL_SYNC_UNREACHABLE:
        return SEAM_TK_SYNC_FAIL_UNREACHABLE;
    case SEAM_TERMINAL_SYNC_AUTH:
        return SEAM_TK_SYNC_FAIL_AUTH;
    case SEAM_TERMINAL_SYNC_SLOW_REFUSED:
        return SEAM_TK_SYNC_FAIL_SLOW_REFUSED;
    case SEAM_TERMINAL_SYNC_MALFORMED:
        return SEAM_TK_SYNC_FAIL_MALFORMED;
    case SEAM_TERMINAL_SYNC_LOCAL:
        return SEAM_TK_SYNC_FAIL_LOCAL;
    default:
        return SEAM_TK_SYNC_FAIL_UNSUPPORTED;
    }
}

static uint16_t capped(uint32_t v) {
    return v > 0xFFFFu ? 0xFFFFu : (uint16_t)v;
}

void tk_request_sync(seam_terminal_tk *tk, const seam_tk_command *c, tk_answer *a) {
    seam_tk_sync_request cmd;
    seam_terminal_sync_request req;
    seam_terminal_sync_outcome out;
    char device[TEXT_MAX], source[TEXT_MAX], url[TEXT_MAX], target[TEXT_MAX];
    seam_err e;
    a->additional_len = 0;
    a->extra_len = 0;
    if (!tk->sync.run || tk->sync_off) {
        a->general = SEAM_TK_RES_BEYOND_CAPABILITIES; /* no database (or withdrawn) */
        return;
    }
    e = seam_tk_sync_request_decode(c->objects, c->objects_len, &cmd);
    if (e) {
        a->general = e == SEAM_ERR_NOT_FOUND ? SEAM_TK_RES_REQUIRED_MISSING
                                             : SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
        return;
    }
    if (cmd.transport != SEAM_TK_SYNC_TRANSPORT_HTTP) {
        a->general = SEAM_TK_RES_BEYOND_CAPABILITIES; /* WSP: refused before anything runs */
        return;
    }
    if (!c_string(cmd.source_device, cmd.source_device_len, device) ||
        !c_string(cmd.source_uri, cmd.source_uri_len, source) ||
        !c_string(cmd.target_url, cmd.target_url_len, url) ||
        !c_string(cmd.target_uri, cmd.target_uri_len, target)) {
        a->general = SEAM_TK_RES_DATA_NOT_UNDERSTOOD;
        return;
    }
    if (cmd.wants_result == SEAM_TK_SYNC_RESULT_LATER && !tk->report.run_now) {
        tk_report_accept(tk, c, a); /* S7: runs when the session ends, reported by ENVELOPE */
        return;
    }
    memset(&req, 0, sizeof req);
    req.protocol = cmd.protocol == SEAM_TK_SYNC_PROTO_CHANGESET ? SEAM_TERMINAL_SYNC_CHANGESET
                                                                : SEAM_TERMINAL_SYNC_OMADS;
    if (tk->sync.protocol) /* the terminal's setting (seam terminal run --sync-protocol) */
        req.protocol = tk->sync.protocol;
    req.type = (seam_sync_type)cmd.sync_type;
    req.dm_path = tk->sync.dm_path;
    /* "IMEI:<digits>" (docs/toolkit.md's form of the source device) names the device the
       server enrolled by its IMEI: the server's device ids have no ':' (docs/server.md) */
    req.device_id = strncmp(device, "IMEI:", 5) ? device : device + 5;
    req.source_uri = source;
    req.server_url = url;
    req.target_uri = target;
    req.cacert = tk->sync.cacert;
    req.user = tk->sync.user;
    req.password = tk->sync.password;
    req.timeout_ms = tk->sync.timeout_ms;
    memset(&out, 0, sizeof out);
    e = seam_terminal_sync_card(tk->link, tk->sync.run, &req, &out); /* ./card: reads it (S8) */
    if (tk->cfg.log)
        fprintf(tk->cfg.log, "toolkit: synchronization of %s with %s %s: %s%s%s\n", source, url,
                target,
                e             ? seam_err_str(e)
                : out.failure ? "failed"
                              : "done",
                out.reason[0] ? ": " : "", out.reason);
    if (e || out.failure != SEAM_TERMINAL_SYNC_OK) {
        a->general = SEAM_TK_RES_TERMINAL_BUSY;
        a->additional[0] = e ? SEAM_TK_SYNC_FAIL_UNSUPPORTED : failure_class(out.failure);
        a->additional_len = 1;
        return;
    }
    seam_tk_sync_counts counts = {
        .sync_type = (uint8_t)(out.counts.type >= 200 && out.counts.type <= 205 ? out.counts.type
                                                                                : cmd.sync_type),
        .sent = capped(out.counts.sent),
        .received = capped(out.counts.received),
        .conflicts = capped(out.counts.conflicts_client + out.counts.conflicts_server),
    };
    a->general = SEAM_TK_RES_OK;
    if (seam_tk_sync_counts_put(&counts, a->extra, sizeof a->extra, &a->extra_len))
        a->extra_len = 0; /* cannot happen: 10 bytes */
}
