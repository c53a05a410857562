/*
 * seam server init|run|report DIR: the operator's admin server
 * (docs/server.md).
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seam/server.h"
#include "seam/util.h"

static const char usage_text[] =
    "usage: seam server init DIR [--db URL] [--tls-name NAME]...\n"
    "       seam server run DIR [--db URL] [--listen ADDR:PORT] [--tls] [--insecure-http]\n"
    "                           [--lease SECONDS] [--threads N]\n"
    "       seam server report DIR [--db URL] [--proposals | --digest]\n"
    "\n"
    "init    creates the server folder DIR (config, master key, the store: SQLite in DIR\n"
    "        or --db URL, which the config then names) and prints the admin API's bearer\n"
    "        token once (only its hash is kept, in that store); makes the TLS key and\n"
    "        self-signed certificate DIR/tls.crt, valid for localhost, 127.0.0.1 and\n"
    "        each --tls-name (a host name or an address)\n"
    "run     serves the admin API (/api/...) and the remote-management endpoint\n"
    "        (/admin) until SIGINT or SIGTERM; --listen defaults to the config's\n"
    "        address (127.0.0.1:8080); port 0 lets the system choose; the address\n"
    "        it listens on is printed; HTTPS only (DIR/tls.crt) on an address that\n"
    "        is not loopback, plain HTTP there only with --insecure-http; --tls:\n"
    "        HTTPS on loopback too; --threads: HTTP worker threads, each with its own\n"
    "        database connection (default: 4 per CPU on PostgreSQL, at most 16;\n"
    "        1 on SQLite)\n"
    "report  prints the bytes counted per card and campaign step; with --proposals,\n"
    "        the upgrade proposals drawn from the devices' copies (S10): which devices\n"
    "        run which version of which application, and the updates to propose;\n"
    "        with --digest, the SHA-256 of every row of the store (64 hex characters):\n"
    "        equal digests, equal contents (safe while the server runs)\n"
    "--db    sqlite:PATH, a path, or postgresql://... (default: DIR/server.db)\n"
    "--lease how long a claim on a card's campaign step holds (1..86400 s, default 300):\n"
    "        a step its server lost (killed, restarted) is resumed after that\n";

static int fail(const char *what, seam_err err) {
    fprintf(stderr, "seam server %s: %s\n", what, seam_err_str(err));
    return 1;
}

static int run(const seam_server_options *options) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Blocked before the server's thread starts, so that only sigwait takes them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    seam_server *server = NULL;
    seam_err err = seam_server_start(options, &server);
    if (err)
        return fail("run", err);
    if (seam_server_tls(server))
        printf("seam server: https, certificate %s/tls.crt\n", options->dir);
    printf("seam server: listening on port %u\n", (unsigned)seam_server_port(server));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    seam_server_stop(server);
    return 0;
}

int seam_cli_server(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc < 3) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *action = argv[1], *dir = argv[2], *db = NULL, *listen = NULL;
    int threads = 0;
    const char *names[16];
    size_t name_count = 0;
    bool tls = false, insecure_http = false, proposals = false, digest = false;
    int lease = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
        else if (!strcmp(argv[i], "--listen") && i + 1 < argc && !strcmp(action, "run"))
            listen = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && !strcmp(action, "run") &&
                 (threads = atoi(argv[i + 1])) >= 1 && threads <= 64)
            i++;
        else if (!strcmp(argv[i], "--tls-name") && i + 1 < argc && !strcmp(action, "init") &&
                 name_count < sizeof names / sizeof names[0])
            names[name_count++] = argv[++i];
        else if (!strcmp(argv[i], "--proposals") && !strcmp(action, "report"))
            proposals = true;
        else if (!strcmp(argv[i], "--digest") && !strcmp(action, "report"))
            digest = true;
        else if (!strcmp(argv[i], "--tls") && !strcmp(action, "run"))
            tls = true;
        else if (!strcmp(argv[i], "--insecure-http") && !strcmp(action, "run"))
            insecure_http = true;
        else if (!strcmp(argv[i], "--lease") && i + 1 < argc && !strcmp(action, "run")) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || v < 1 || v > 86400) {
                fprintf(stderr, "seam server run: --lease takes 1..86400 seconds\n");
                return 2;
            }
            lease = (int)v;
        } else {
            fprintf(stderr, "seam server %s: unexpected argument '%s'\n", action, argv[i]);
            return 2;
        }
    }
    if (!strcmp(action, "init")) {
        char token[SEAM_SERVER_TOKEN_SIZE];
        seam_err err = seam_server_init_db(dir, db, names, name_count, token);
        if (err)
            return fail("init", err);
        printf("server folder %s created\nadmin API bearer token (shown once, keep it):\n%s\n", dir,
               token);
        seam_secure_zero(token, sizeof token);
        return 0;
    }
    if (!strcmp(action, "run")) {
        seam_server_options options = {.dir = dir,
                                       .db_url = db,
                                       .listen = listen,
                                       .tls = tls,
                                       .insecure_http = insecure_http,
                                       .lease_seconds = lease,
                                       .threads = threads};
        return run(&options);
    }
    if (!strcmp(action, "report")) {
        seam_err err = digest      ? seam_server_report_digest(dir, db, stdout)
                       : proposals ? seam_server_report_proposals(dir, db, stdout)
                                   : seam_server_report(dir, db, stdout);
        return err ? fail("report", err) : 0;
    }
    fputs(usage_text, stderr);
    return 2;
}
