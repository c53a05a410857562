/*
 * seam server: the operator's admin server (docs/server.md). An HTTP server
 * (libmicrohttpd, loopback by default) with a JSON admin API under /api/
 * (bearer token) and the GlobalPlatform Amendment B remote-management
 * endpoint /admin that terminals relay to their cards; its state lives in a
 * store (SQLite beside the config, or PostgreSQL) under a master key.
 *
 * A server folder holds: `config` (listen address and database URL, one
 * `name=value` per line), `master.key` (mode 0600), the TLS key `tls.key`
 * (mode 0600) with its self-signed certificate `tls.crt`, and, by default,
 * the SQLite database `server.db`.
 *
 * Transport: plain HTTP on loopback; HTTPS only (TLS 1.2+, GnuTLS through
 * libmicrohttpd, the folder's certificate) on any other address, unless
 * insecure_http says otherwise; tls asks for HTTPS on loopback too.
 */
#ifndef SEAM_SERVER_H
#define SEAM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

typedef struct seam_server seam_server;

/* The bearer token's text size: 64 hex digits and a NUL. */
#define SEAM_SERVER_TOKEN_SIZE 65u

/* How seam_server_start runs a server folder; NULL fields take the config's values. */
typedef struct {
    const char *dir;    /* the server folder (seam_server_init made it) */
    const char *db_url; /* sqlite:PATH, a path, or postgresql://... */
    const char *listen; /* ADDR:PORT (IPv4); port 0: the system chooses */
    int threads;        /* HTTP worker threads, each with its own store handle; 0: four per
                           CPU on PostgreSQL (at most 16), one on SQLite */
    int lease_seconds;  /* how long a claim on a card's campaign step holds; 0: 300 */
    bool tls;           /* HTTPS on loopback too (beyond loopback it always is) */
    bool insecure_http; /* plain HTTP allowed beyond loopback (refused otherwise) */
} seam_server_options;

/* Creates server folder dir (which must not hold a config yet): config, master key, database,
   and a fresh bearer token, written to token (shown once; only its SHA-256 is stored).
   Errors: SEAM_ERR_SERVER_CONFIG (already a server folder), the store's errors, IO. */
seam_err seam_server_init(const char *dir, char token[SEAM_SERVER_TOKEN_SIZE]);

/* seam_server_init, with the TLS certificate's subjectAltName naming tls_names[0..count) (host
   names or IP addresses) besides localhost and 127.0.0.1. Also SEAM_ERR_ARG (a bad name),
   SEAM_ERR_SERVER_TLS_EXISTS (tls.key or tls.crt already there: not overwritten). */
seam_err seam_server_init_tls(const char *dir, const char *const *tls_names, size_t count,
                              char token[SEAM_SERVER_TOKEN_SIZE]);

/* seam_server_init_tls with the store at db_url (sqlite:PATH, a path, or postgresql://...;
   NULL: DIR/server.db): everything init stores (the store's key check, the token's hash)
   goes there, and the config records db=URL. Also SEAM_ERR_ARG (an empty URL or one with a
   line break), SEAM_ERR_SERVER_MASTER_KEY (that store belongs to another master key); on
   an error the folder is left without config, master key or TLS files. */
seam_err seam_server_init_db(const char *dir, const char *db_url, const char *const *tls_names,
                             size_t count, char token[SEAM_SERVER_TOKEN_SIZE]);

/* Opens the folder's store and starts listening (its own thread); *out is the server.
   Errors: SEAM_ERR_SERVER_CONFIG, SEAM_ERR_ARG (bad listen address),
   SEAM_ERR_SERVER_LISTEN, SEAM_ERR_SERVER_INSECURE_HTTP (plain HTTP beyond loopback not
   allowed), SEAM_ERR_SERVER_TLS (TLS wanted, no usable key and certificate), the store's. */
seam_err seam_server_start(const seam_server_options *options, seam_server **out);

/* The TCP port the server listens on (the chosen one when 0 was asked). */
uint16_t seam_server_port(const seam_server *server);

/* True when the server speaks HTTPS. */
bool seam_server_tls(const seam_server *server);

/* Stops listening, waits for the request in progress, closes the store; NULL allowed. */
void seam_server_stop(seam_server *server);

/* Writes the byte report (per card and campaign step: request, response and
   personalization bytes) of server folder dir to out as text. */
seam_err seam_server_report(const char *dir, const char *db_url, void *out_file);

/* Writes the upgrade proposals (S10) of server folder dir to out as text: per card package
   version older than the newest one the server holds, how many devices run it, the cards
   an update campaign would target and the devices skipped (card unknown); then how many
   devices run each version of each application (card and terminal). */
seam_err seam_server_report_proposals(const char *dir, const char *db_url, void *out_file);

/* Writes the digest of every row of the store of server folder dir (SHA-256, as 64 lower-case
   hex characters and a line break) to out: equal digests mean equal contents, so a check
   that something "changed nothing" can run while the server runs. */
seam_err seam_server_report_digest(const char *dir, const char *db_url, void *out_file);

#endif
