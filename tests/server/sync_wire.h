/*
 * What the changeset-over-HTTP tests share (test_http_sync_changeset.c; docs/sync.md
 * "Over HTTP"): the real `seam server` as a subprocess on a store of the backend under
 * test, the device's enrolment, a terminal database, the server's copy read back from
 * the store as a seam_sync_db (to compare record digests), and a proxy between the
 * terminal and the server that can kill either of them with SIGKILL at a chosen
 * exchange, or stand in for a server with a canned answer.
 */
#ifndef SEAM_TESTS_SERVER_SYNC_WIRE_H
#define SEAM_TESTS_SERVER_SYNC_WIRE_H

#include "kill_harness.h"
#include "store_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "seam/sync.h"
#include "seam/terminal.h"

#define SECRET_A "secret-of-device-a-0001"
#define SECRET_B "secret-of-device-b-0002"
#define DEV_A    "356938035643809"
#define DEV_B    "490154203237518"
#define CS_TYPE  "application/vnd.seam.changeset"

/* ---- the server and its store ---- */

static inline seam_store *store_of(const server_proc *s) {
    char key_path[160];
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    snprintf(key_path, sizeof key_path, "%s/master.key", s->dir);
    assert_int_equal(seam_store_master_key_load(key_path, key), SEAM_OK);
    seam_store *st = NULL;
    assert_int_equal(seam_store_open(s->db, key, &st), SEAM_OK);
    return st;
}

static inline void store_digest_of(const server_proc *s, uint8_t d[32]) {
    seam_store *st = store_of(s);
    assert_int_equal(seam_store_digest(st, d), SEAM_OK);
    seam_store_close(st);
}

static inline void enrol(const server_proc *s, const char *id, const char *secret) {
    char body[160];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"secret\":\"%s\"}", id, secret);
    free(api(s, "POST", "/api/devices", NULL, body, 0, 201));
}

/* The server's copy of device id's database uri, as a seam_sync_db in memory. */
static inline seam_sync_db *server_copy(const server_proc *s, const char *id, const char *uri) {
    seam_store *st = store_of(s);
    seam_sync_db *db = NULL;
    assert_int_equal(seam_sync_open(":memory:", &db), SEAM_OK);
    seam_store_record *recs = NULL;
    size_t count = 0;
    seam_err err = seam_store_record_list(st, id, 0, SEAM_STORE_RECORDS_MAX, &recs, &count);
    assert_true(err == SEAM_OK || err == SEAM_ERR_NOT_FOUND);
    for (size_t i = 0; !err && i < count; i++) {
        if (recs[i].deleted || strcmp(recs[i].uri, uri))
            continue;
        seam_sync_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.key, sizeof r.key, "%s", recs[i].key);
        assert_int_equal(seam_sync_record_parse(uri, recs[i].content, recs[i].content_len, &r),
                         SEAM_OK);
        assert_int_equal(seam_sync_put(db, uri, &r), SEAM_OK);
    }
    free(recs);
    seam_store_close(st);
    return db;
}

static inline uint64_t records_digest(seam_sync_db *db, const char *uri) {
    uint64_t h = 0;
    assert_int_equal(seam_sync_records_fingerprint(db, uri, &h), SEAM_OK);
    return h;
}

static inline uint64_t server_digest(const server_proc *s, const char *id, const char *uri) {
    seam_sync_db *db = server_copy(s, id, uri);
    uint64_t h = records_digest(db, uri);
    seam_sync_close(db);
    return h;
}

/* A change to the server's copy as the operator's side makes it (not through a sync). */
static inline void server_put(const server_proc *s, const char *id, const char *key,
                              const char *value) {
    seam_store *st = store_of(s);
    assert_int_equal(
        seam_store_record_put(st, id, "admin", SEAM_SYNC_DEVINFO, key, value, strlen(value)),
        SEAM_OK);
    seam_store_close(st);
}

/* ---- the terminal's database ---- */

static inline void dm_put(const char *path, const char *key, const char *value) {
    seam_sync_db *db = NULL;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    seam_sync_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "%s", key);
    snprintf(r.value, sizeof r.value, "%s", value);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    seam_sync_close(db);
}

static inline bool dm_has(const char *path, const char *key, const char *value) {
    seam_sync_db *db = NULL;
    seam_sync_record r;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    bool yes = seam_sync_get(db, SEAM_SYNC_DEVINFO, key, &r) == SEAM_OK && !strcmp(r.value, value);
    seam_sync_close(db);
    return yes;
}

static inline uint64_t dm_digest(const char *path) {
    seam_sync_db *db = NULL;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    uint64_t h = records_digest(db, SEAM_SYNC_DEVINFO);
    seam_sync_close(db);
    return h;
}

static inline bool copy_has(const server_proc *s, const char *id, const char *key,
                            const char *value) {
    seam_sync_db *db = server_copy(s, id, SEAM_SYNC_DEVINFO);
    seam_sync_record r;
    bool yes = seam_sync_get(db, SEAM_SYNC_DEVINFO, key, &r) == SEAM_OK && !strcmp(r.value, value);
    seam_sync_close(db);
    return yes;
}

/* One synchronization through seam_terminal_sync (in this process) to url. */
static inline seam_terminal_sync_outcome term_sync_url(const char *url, const char *dm,
                                                       const char *id, const char *secret,
                                                       seam_sync_type type) {
    seam_terminal_sync_request req;
    memset(&req, 0, sizeof req);
    req.protocol = SEAM_TERMINAL_SYNC_CHANGESET;
    req.type = type;
    req.dm_path = dm;
    req.device_id = id;
    req.source_uri = SEAM_SYNC_DEVINFO;
    req.target_uri = SEAM_SYNC_DEVINFO;
    req.server_url = url;
    req.password = secret;
    req.timeout_ms = 20000;
    seam_terminal_sync_outcome out;
    assert_int_equal(seam_terminal_sync(&req, &out), SEAM_OK);
    return out;
}

static inline seam_terminal_sync_outcome term_sync(const server_proc *s, const char *dm,
                                                   const char *id, const char *secret,
                                                   seam_sync_type type) {
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", (unsigned)s->port);
    return term_sync_url(url, dm, id, secret, type);
}

/* "Authorization: Basic base64(user:pass)" into out. */
static inline void basic_auth(const char *user, const char *pass, char *out, size_t cap) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[160];
    size_t n = (size_t)snprintf(plain, sizeof plain, "%s:%s", user, pass);
    size_t o = (size_t)snprintf(out, cap, "Authorization: Basic ");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)plain[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(uint8_t)plain[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint8_t)plain[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = 0;
}

/* ---- a proxy (or a canned server) between the terminal and the server ---- */

typedef enum {
    FORWARD = 0,
    KILL_TERMINAL_BEFORE, /* the request came; the terminal dies before it is forwarded */
    KILL_TERMINAL_AFTER,  /* the server answered (and committed); the terminal dies first */
    KILL_SERVER_BEFORE,   /* the server dies before the request reaches it */
    KILL_SERVER_AFTER,    /* the server answered (and committed), then dies; reply lost */
} kill_act;

typedef struct {
    int fd;
    uint16_t port;
    server_proc *srv;   /* NULL: canned answers */
    const char *canned; /* the whole HTTP answer to every request */
    size_t canned_len;
    int kill_at; /* the exchange (1-based) of the act */
    kill_act act;
    _Atomic pid_t terminal;
    int exchanges;
    pthread_t thread;
} proxy;

/* Reads one HTTP message (headers and Content-Length body) from fd into buf; its length,
   or 0 when the peer went away. */
static inline size_t read_message(int fd, char *buf, size_t cap) {
    size_t got = 0, need = 0;
    for (;;) {
        if (got == cap)
            return 0;
        ssize_t n = read(fd, buf + got, cap - got);
        if (n <= 0)
            return 0;
        got += (size_t)n;
        if (!need) {
            buf[got < cap ? got : cap - 1] = 0;
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            need = (size_t)(end + 4 - buf) + body;
        }
        if (got >= need)
            return need;
    }
}

static inline void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

enum { PROXY_BUF = 4 * 1024 * 1024 };

static inline void kill_terminal(proxy *p) {
    pid_t pid;
    while ((pid = atomic_load(&p->terminal)) == 0)
        usleep(1000);
    kill(pid, SIGKILL);
}

static inline void *proxy_run(void *arg) {
    proxy *p = arg;
    char *req = malloc(PROXY_BUF), *ans = malloc(PROXY_BUF);
    assert_non_null(req);
    assert_non_null(ans);
    for (;;) {
        int c = accept(p->fd, NULL, NULL);
        if (c < 0)
            break;
        size_t n = read_message(c, req, PROXY_BUF);
        if (!n) {
            close(c);
            continue;
        }
        int at = ++p->exchanges;
        kill_act act = at == p->kill_at ? p->act : FORWARD;
        if (!p->srv) {
            write_all(c, p->canned, p->canned_len);
            close(c);
            continue;
        }
        if (act == KILL_TERMINAL_BEFORE)
            kill_terminal(p);
        if (act == KILL_SERVER_BEFORE)
            server_kill(p->srv);
        if (act == KILL_TERMINAL_BEFORE || act == KILL_SERVER_BEFORE) {
            close(c);
            continue;
        }
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p->srv->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        size_t m = 0;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            write_all(s, req, n);
            m = read_message(s, ans, PROXY_BUF);
        }
        close(s);
        if (act == KILL_TERMINAL_AFTER)
            kill_terminal(p);
        if (act == KILL_SERVER_AFTER)
            server_kill(p->srv);
        if (act == FORWARD && m)
            write_all(c, ans, m);
        close(c);
    }
    free(req);
    free(ans);
    return NULL;
}

static inline void proxy_start(proxy *p) {
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->fd, 8), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->thread, NULL, proxy_run, p), 0);
}

static inline void proxy_stop(proxy *p) {
    shutdown(p->fd, SHUT_RDWR);
    close(p->fd);
    pthread_join(p->thread, NULL);
}

/* Runs the real `seam terminal sync` binary to port with the device's secret; the pid is
   published to p (when not NULL) for its kill; returns the exit status, or -SIGNAL. */
static inline int terminal_binary(proxy *p, uint16_t port, const char *dm, const char *id,
                                  const char *secret, const char *type) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char bin[512], url[96];
    snprintf(bin, sizeof bin, "%s/seam", build ? build : "build/release");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync/changeset", (unsigned)port);
    const char *argv[] = {"seam",      "terminal", "sync", "--server",  url,  "--protocol",
                          "changeset", "--dm",     dm,     "--device",  id,   "--password",
                          secret,      "--type",   type,   "--timeout", "20", NULL};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (p)
        atomic_store(&p->terminal, pid);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (p)
        atomic_store(&p->terminal, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* ---- the main() of these tests ---- */

/* Runs the group tests[n] on a store of the backend argv[1] ("sqlite" when not given),
   named group_prefix followed by the backend's name (NULL: cmocka's own "tests"); the
   server's children are killed and the backend stopped after it. Its failures, or 1 when
   the backend did not start. */
static inline int sync_tests_main(int argc, char **argv, const char *group_prefix,
                                  const struct CMUnitTest *tests, size_t n) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (backend_start(backend) != 0) {
        backend_stop();
        return 1;
    }
    char group[128];
    snprintf(group, sizeof group, "%s%s", group_prefix ? group_prefix : "tests",
             group_prefix ? backend : "");
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    spawned_kill_all();
    backend_stop();
    curl_global_cleanup();
    return failed;
}

#endif
