/*
 * The server object (include/seam/server.h): the server folder (config,
 * master key, database), the bearer token, start and stop, the byte report.
 */
#include "server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_plan.h"
#include "proposals.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "tls.h"

#define TOKEN_SETTING "api_token_sha256"

typedef struct {
    char listen[128];
    char db[1024];
} server_config;

static seam_err path_in(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? SEAM_ERR_ARG : SEAM_OK;
}

/* Reads DIR/config: name=value lines (listen, db); '#' starts a comment. */
static seam_err config_read(const char *dir, server_config *cfg) {
    char path[1024];
    if (path_in(path, sizeof path, dir, "config"))
        return SEAM_ERR_ARG;
    FILE *f = fopen(path, "r");
    if (!f)
        return SEAM_ERR_SERVER_CONFIG;
    memset(cfg, 0, sizeof *cfg);
    char line[1200];
    seam_err err = SEAM_OK;
    while (!err && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            err = SEAM_ERR_SERVER_CONFIG;
            break;
        }
        *eq = '\0';
        const char *value = eq + 1;
        if (!strcmp(line, "listen") && strlen(value) < sizeof cfg->listen)
            strcpy(cfg->listen, value);
        else if (!strcmp(line, "db") && strlen(value) < sizeof cfg->db)
            strcpy(cfg->db, value);
        else
            err = SEAM_ERR_SERVER_CONFIG;
    }
    fclose(f);
    return err;
}

/* The store URL: the option, else the config's, else DIR/server.db. */
static seam_err store_url(const char *dir, const char *option, const server_config *cfg, char *out,
                          size_t cap) {
    const char *url = option && *option ? option : cfg->db;
    if (*url) {
        if (strlen(url) >= cap)
            return SEAM_ERR_ARG;
        strcpy(out, url);
        return SEAM_OK;
    }
    return path_in(out, cap, dir, "server.db");
}

/* Opens count handles on the folder's store (count >= 1), into stores[0..count). */
static seam_err open_stores(const char *dir, const char *db_option, server_config *cfg,
                            seam_store **stores, unsigned count) {
    seam_err err = config_read(dir, cfg);
    if (err)
        return err;
    char key_path[1024], url[1024];
    if (path_in(key_path, sizeof key_path, dir, "master.key") ||
        store_url(dir, db_option, cfg, url, sizeof url))
        return SEAM_ERR_ARG;
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    err = seam_store_master_key_load(key_path, key);
    for (unsigned i = 0; !err && i < count; i++)
        err = seam_store_open(url, key, &stores[i]);
    seam_secure_zero(key, sizeof key);
    return err;
}

static seam_err open_store(const char *dir, const char *db_option, server_config *cfg,
                           seam_store **store) {
    return open_stores(dir, db_option, cfg, store, 1);
}

seam_err seam_server_init(const char *dir, char token[SEAM_SERVER_TOKEN_SIZE]) {
    return seam_server_init_tls(dir, NULL, 0, token);
}

seam_err seam_server_init_tls(const char *dir, const char *const *tls_names, size_t count,
                              char token[SEAM_SERVER_TOKEN_SIZE]) {
    return seam_server_init_db(dir, NULL, tls_names, count, token);
}

/* Writes DIR/config (mode 0600: a database URL may carry a password), never over one. */
static seam_err config_write(const char *path, const char *db_url) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return SEAM_ERR_IO;
    }
    fprintf(f, "# seam server folder (docs/server.md)\nlisten=127.0.0.1:8080\n");
    if (db_url)
        fprintf(f, "db=%s\n", db_url);
    else
        fprintf(f, "# db=postgresql://...   (default: server.db in this folder)\n");
    return fclose(f) ? SEAM_ERR_IO : SEAM_OK;
}

/* Stores the hash of a fresh bearer token (written to token) in the store. */
static seam_err token_create(seam_store *store, char token[SEAM_SERVER_TOKEN_SIZE]) {
    uint8_t secret[32], hash[32];
    char hash_hex[65];
    size_t n;
    seam_err err = seam_crypto_random(secret, sizeof secret);
    if (!err)
        err = seam_hex_encode(secret, sizeof secret, token, SEAM_SERVER_TOKEN_SIZE, &n);
    if (!err)
        err = seam_crypto_sha256((const uint8_t *)token, 64, hash);
    if (!err)
        err = seam_hex_encode(hash, sizeof hash, hash_hex, sizeof hash_hex, &n);
    if (!err)
        err = seam_store_setting_put(store, TOKEN_SETTING, hash_hex);
    seam_secure_zero(secret, sizeof secret);
    return err;
}

seam_err seam_server_init_db(const char *dir, const char *db_url, const char *const *tls_names,
                             size_t count, char token[SEAM_SERVER_TOKEN_SIZE]) {
    if (!dir || !token || (count && !tls_names) ||
        (db_url && (!*db_url || strpbrk(db_url, "\r\n"))))
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        if (!seam_srv_tls_name_ok(tls_names[i]))
            return SEAM_ERR_ARG;
    char path[1024], key_path[1024], url[1024];
    if (path_in(path, sizeof path, dir, "config") ||
        path_in(key_path, sizeof key_path, dir, "master.key") ||
        (db_url ? snprintf(url, sizeof url, "%s", db_url) >= (int)sizeof url
                : path_in(url, sizeof url, dir, "server.db") != SEAM_OK))
        return SEAM_ERR_ARG;
    if (mkdir(dir, 0700) && errno != EEXIST)
        return SEAM_ERR_IO;
    if (access(path, F_OK) == 0)
        return SEAM_ERR_SERVER_CONFIG;
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    seam_err err = seam_srv_tls_create(dir, tls_names, count);
    if (err)
        return err;
    err = seam_store_master_key_create(key_path, key);
    bool key_made = err == SEAM_OK;
    /* the chosen store gets everything init keeps (its key check, the token's hash): a
       server started on that store alone finds them there */
    seam_store *store = NULL;
    if (!err)
        err = seam_store_open(url, key, &store);
    seam_secure_zero(key, sizeof key);
    if (!err)
        err = token_create(store, token);
    seam_store_close(store);
    if (!err)
        err = config_write(path, db_url);
    if (err) {
        seam_secure_zero(token, SEAM_SERVER_TOKEN_SIZE);
        /* nothing usable was made: a new init may start over */
        if (key_made)
            unlink(key_path);
        if (!path_in(path, sizeof path, dir, "tls.key"))
            unlink(path);
        if (!path_in(path, sizeof path, dir, "tls.crt"))
            unlink(path);
    }
    return err;
}

/* How many HTTP worker threads (each with a store handle): as asked, else, on PostgreSQL,
   four per CPU (a request waits mostly for its commit's WAL flush: more of them in flight
   share flushes), at most 16; on SQLite one (its writers take turns on one file anyway,
   and a second thread measured slower: bench/README.md, "Fleet"). */
static unsigned worker_threads(int asked, const seam_store *store) {
    if (asked > 0)
        return (unsigned)asked;
    if (strcmp(seam_store_backend(store), "postgresql"))
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = 4 * (cpus > 1 ? (unsigned)cpus : 1u);
    return n < 16 ? n : 16;
}

seam_err seam_server_start(const seam_server_options *options, seam_server **out) {
    if (!options || !options->dir || !out)
        return SEAM_ERR_ARG;
    seam_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return SEAM_ERR_NOMEM;
    srv->lease_seconds = options->lease_seconds > 0 ? options->lease_seconds : 300;
    srv->started = (int64_t)time(NULL);
    pthread_mutex_init(&srv->live_lock, NULL);
    pthread_mutex_init(&srv->omads_lock, NULL);
    pthread_mutex_init(&srv->stores_lock, NULL);
    pthread_cond_init(&srv->store_free, NULL);
    server_config cfg;
    seam_store *first = NULL;
    seam_err err = open_store(options->dir, options->db_url, &cfg, &first);
    if (!err) {
        srv->threads = worker_threads(options->threads, first);
        srv->stores = calloc(srv->threads, sizeof *srv->stores);
        srv->store_busy = calloc(srv->threads, sizeof *srv->store_busy);
        if (!srv->stores || !srv->store_busy)
            err = SEAM_ERR_NOMEM;
    }
    if (srv->stores) {
        srv->stores[0] = first;
        first = NULL;
    }
    if (!err && srv->threads > 1)
        err = open_stores(options->dir, options->db_url, &cfg, srv->stores + 1, srv->threads - 1);
    seam_store_close(first);
    char hash_hex[65];
    size_t n;
    if (!err)
        err = seam_store_setting_get(srv->stores[0], TOKEN_SETTING, hash_hex, sizeof hash_hex);
    if (err == SEAM_ERR_NOT_FOUND)
        err = SEAM_ERR_SERVER_CONFIG;
    if (!err &&
        (seam_hex_decode(hash_hex, strlen(hash_hex), srv->token_hash, sizeof srv->token_hash, &n) ||
         n != sizeof srv->token_hash))
        err = SEAM_ERR_SERVER_CONFIG;
    if (!err) {
        char host[48] = "?";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        snprintf(srv->owner, sizeof srv->owner, "%s:%ld", host, (long)getpid());
        const char *listen = options->listen ? options->listen : cfg.listen[0] ? cfg.listen : NULL;
        err = seam_srv_http_start(srv, listen, options);
    }
    if (err) {
        seam_server_stop(srv);
        return err;
    }
    *out = srv;
    return SEAM_OK;
}

uint16_t seam_server_port(const seam_server *server) {
    return server ? server->port : 0;
}

bool seam_server_tls(const seam_server *server) {
    return server && server->tls;
}

void seam_server_stop(seam_server *server) {
    if (!server)
        return;
    seam_srv_http_stop(server);
    seam_srv_tls_free(&server->tls_key, &server->tls_cert);
    seam_srv_live_clear(server);
    seam_srv_omads_clear(server);
    for (unsigned i = 0; server->stores && i < server->threads; i++)
        seam_store_close(server->stores[i]);
    free(server->stores);
    free(server->store_busy);
    pthread_mutex_destroy(&server->live_lock);
    pthread_mutex_destroy(&server->omads_lock);
    pthread_mutex_destroy(&server->stores_lock);
    pthread_cond_destroy(&server->store_free);
    seam_secure_zero(server, sizeof *server);
    free(server);
}

void seam_srv_account(struct seam_server *srv, uint64_t bytes_in, uint64_t bytes_out,
                      const seam_srv_response *res) {
    seam_store_bytes row;
    memset(&row, 0, sizeof row);
    row.cin = res->account.cin;
    row.campaign = res->account.campaign;
    memcpy(row.step, res->account.step, sizeof row.step);
    row.bytes.request = bytes_in;
    row.bytes.response = bytes_out;
    row.bytes.perso = res->account.perso;
    (void)seam_store_bytes_add(seam_srv_store(srv), &row);
}

seam_err seam_server_report(const char *dir, const char *db_url, void *out_file) {
    FILE *out = out_file;
    server_config cfg;
    seam_store *store = NULL;
    seam_err err = open_store(dir, db_url, &cfg, &store);
    if (err)
        return err;
    seam_store_bytes *rows = NULL;
    size_t count = 0;
    err = seam_store_bytes_list(store, 0, NULL, &rows, &count);
    if (!err) {
        fprintf(out, "%-8s %-32s %-24s %10s %10s %10s %10s\n", "campaign", "card", "step",
                "request", "response", "perso", "total");
        for (size_t i = 0; i < count; i++) {
            char cin[2 * SEAM_STORE_ID_MAX + 1];
            size_t n;
            seam_hex_encode(rows[i].cin.bytes, rows[i].cin.len, cin, sizeof cin, &n);
            const seam_store_counts *b = &rows[i].bytes;
            fprintf(out, "%-8lld %-32s %-24s %10llu %10llu %10llu %10llu\n",
                    (long long)rows[i].campaign, cin, rows[i].step[0] ? rows[i].step : "-",
                    (unsigned long long)b->request, (unsigned long long)b->response,
                    (unsigned long long)b->perso, (unsigned long long)(b->request + b->response));
        }
    }
    free(rows);
    seam_store_close(store);
    return err;
}

seam_err seam_server_report_proposals(const char *dir, const char *db_url, void *out_file) {
    server_config cfg;
    seam_store *store = NULL;
    seam_proposals all;
    seam_err err = open_store(dir, db_url, &cfg, &store);
    if (!err)
        err = seam_proposals_make(store, &all);
    if (!err) {
        seam_proposals_print(&all, out_file);
        seam_proposals_free(&all);
    }
    seam_store_close(store);
    return err;
}

seam_err seam_server_report_digest(const char *dir, const char *db_url, void *out_file) {
    server_config cfg;
    seam_store *store = NULL;
    uint8_t digest[32];
    seam_err err = open_store(dir, db_url, &cfg, &store);
    if (!err)
        err = seam_store_digest(store, digest);
    seam_store_close(store);
    for (size_t i = 0; !err && i < sizeof digest; i++)
        fprintf(out_file, "%02x", digest[i]);
    if (!err)
        fputc('\n', out_file);
    return err;
}
