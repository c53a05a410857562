/*
 * seam terminal sync: one synchronization of the terminal's device-management
 * database with the operator's server (docs/terminal.md "seam terminal sync"):
 *
 *   seam terminal sync --server URL --protocol omads|changeset [--type 200..205]
 *        [--db ./devinfo|./apps] [--dm FILE] [--device ID] [--user U --password P]
 *        [--cacert F] [--timeout SECONDS] [--image FILE | --reader NAME]
 *
 * --database is --db. With --db ./card the card is read first (--image or --reader,
 * as seam terminal run takes it; src/terminal/card_db.c): its applets through carddb
 * into ./card and ./apps, and the parameters the sync changed are written back.
 *
 * --device defaults to the database's ./devinfo `imei`; --user to the device id.
 * Prints one line with the outcome. Exit status: 0 synchronized, 1 a failure (the
 * line names its class: unreachable, auth, slow-refused, malformed, unsupported,
 * local), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/terminal.h"

#define DEFAULT_DM "seam-dm.db"

#define USAGE                                                                                      \
    "usage: seam terminal sync --server URL --protocol omads|changeset [--type 200..205]\n"        \
    "         [--db ./devinfo|./apps] [--dm FILE] [--device ID] [--user U --password P]\n"         \
    "         [--target DBNAME] [--cacert F] [--timeout SECONDS]\n"                                \
    "         [--image FILE | --reader NAME]   (with --db ./card: the card to read)\n"

static const char *const failures[] = {"ok",        "unreachable", "auth", "slow-refused",
                                       "malformed", "unsupported", "local"};

static int usage(FILE *to) {
    fprintf(to, USAGE);
    if (to == stdout)
        fprintf(to, "Synchronizes database --db (default ./devinfo) of the device-management\n"
                    "database --dm (default " DEFAULT_DM ") with the server's copy, as the\n"
                    "device --device (default: its ./devinfo imei), authenticating with\n"
                    "--user (default: the device id) and --password. Types: 200 two-way\n"
                    "(default), 201 slow, 202 one-way from the terminal, 203 refresh from the\n"
                    "terminal, 204 one-way from the server, 205 refresh from the server.\n"
                    "--target names the server's database when it differs (e.g. memo for\n"
                    "a SyncEvolution server).\n");
    return to == stdout ? 0 : 2;
}

int seam_cli_terminal_sync(int argc, char **argv) {
    seam_terminal_sync_request req;
    memset(&req, 0, sizeof req);
    req.type = SEAM_SYNC_TWO_WAY;
    req.dm_path = DEFAULT_DM;
    req.source_uri = SEAM_SYNC_DEVINFO;
    const char *protocol = NULL, *type = NULL, *timeout = NULL, *image = NULL, *reader = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(stdout);
        const char **opt = !strcmp(argv[i], "--server")     ? &req.server_url
                           : !strcmp(argv[i], "--protocol") ? &protocol
                           : !strcmp(argv[i], "--type")     ? &type
                           : !strcmp(argv[i], "--db")       ? &req.source_uri
                           : !strcmp(argv[i], "--database") ? &req.source_uri
                           : !strcmp(argv[i], "--image")    ? &image
                           : !strcmp(argv[i], "--reader")   ? &reader
                           : !strcmp(argv[i], "--target")   ? &req.target_uri
                           : !strcmp(argv[i], "--dm")       ? &req.dm_path
                           : !strcmp(argv[i], "--device")   ? &req.device_id
                           : !strcmp(argv[i], "--user")     ? &req.user
                           : !strcmp(argv[i], "--password") ? &req.password
                           : !strcmp(argv[i], "--cacert")   ? &req.cacert
                           : !strcmp(argv[i], "--timeout")  ? &timeout
                                                            : NULL;
        if (!opt || i + 1 >= argc) {
            fprintf(stderr, "seam terminal sync: %s: unknown option or missing value\n", argv[i]);
            return usage(stderr);
        }
        *opt = argv[++i];
    }
    if (!req.server_url || !protocol)
        return usage(stderr);
    if (!strcmp(protocol, "changeset"))
        req.protocol = SEAM_TERMINAL_SYNC_CHANGESET;
    else if (!strcmp(protocol, "omads"))
        req.protocol = SEAM_TERMINAL_SYNC_OMADS;
    else
        return usage(stderr);
    if (type) {
        char *end = NULL;
        long t = strtol(type, &end, 10);
        if (*end || t < SEAM_SYNC_TWO_WAY || t > SEAM_SYNC_REFRESH_FROM_SERVER) {
            fprintf(stderr, "seam terminal sync: --type is 200..205\n");
            return 2;
        }
        req.type = (seam_sync_type)t;
    }
    if (timeout) {
        char *end = NULL;
        long s = strtol(timeout, &end, 10);
        if (*end || s < 1 || s > 3600) {
            fprintf(stderr, "seam terminal sync: --timeout is 1..3600 seconds\n");
            return 2;
        }
        req.timeout_ms = (uint32_t)s * 1000u;
    }
    if (!req.target_uri) /* a seam server names the database as the terminal does */
        req.target_uri = req.source_uri;
    seam_sync_record imei;
    if (!req.device_id) { /* the device is the terminal whose IMEI the database holds */
        seam_sync_db *db = NULL;
        seam_err err = seam_sync_open(req.dm_path, &db);
        if (!err)
            err = seam_sync_get(db, SEAM_SYNC_DEVINFO, "imei", &imei);
        seam_sync_close(db);
        if (err) {
            fprintf(stderr, "seam terminal sync: no --device and no ./devinfo imei in %s: %s\n",
                    req.dm_path, seam_err_str(err));
            return 1;
        }
        req.device_id = imei.value;
    }
    if (seam_terminal_global_init() != SEAM_OK) {
        fprintf(stderr, "seam terminal sync: cannot start libcurl\n");
        return 1;
    }
    seam_terminal_sync_outcome out;
    seam_err err;
    if (!strcmp(req.source_uri, SEAM_SYNC_CARD)) { /* the card's own database (S8) */
        seam_gp_link link;
        uint8_t atr[64];
        size_t atr_len = 0;
        int status = seam_cli_link_open("seam terminal sync", image, reader, &link);
        if (status >= 0)
            return status;
        err = seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len);
        if (!err)
            err = seam_terminal_sync_card(&link, NULL, &req, &out);
        seam_gp_link_close(&link);
    } else {
        err = seam_terminal_sync(&req, &out);
    }
    if (err) {
        fprintf(stderr, "seam terminal sync: %s\n", seam_err_str(err));
        return 2;
    }
    if (out.failure != SEAM_TERMINAL_SYNC_OK) {
        fprintf(stderr, "seam terminal sync: failed (%s): %s\n", failures[out.failure], out.reason);
        return 1;
    }
    printf("seam terminal sync: ok: %s type %d%s: sent %u, received %u, conflicts %u (terminal "
           "won) %u (server won); %llu bytes up, %llu down\n",
           req.source_uri, (int)out.counts.type, out.counts.slow_fallback ? " (slow fallback)" : "",
           out.counts.sent, out.counts.received, out.counts.conflicts_client,
           out.counts.conflicts_server, (unsigned long long)out.bytes_sent,
           (unsigned long long)out.bytes_received);
    return 0;
}
