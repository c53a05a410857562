/*
 * OMA DS over HTTP when things go wrong (docs/sync.md "OMA DS over HTTP"): credentials, one
 * device against another's copy, malformed and oversized input, a terminal killed at each
 * message, a server restarted mid-session, two servers on one database; on the backend named
 * by argv[1] (S6, X4, X5, X6).
 */
#include "omads_fixture.h" /* first: it sets _XOPEN_SOURCE */

#include <curl/curl.h>
#include <strings.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "seam/syncml.h"
#include "syncml/memstore.h"

#define DEVINFO SEAM_SYNC_DEVINFO
#define APPS    SEAM_SYNC_APPS

/* ---- raw HTTP and a raw client engine ---- */

typedef struct {
    long status;
    uint8_t *body;
    size_t len;
} raw_reply;

static size_t raw_collect(char *p, size_t size, size_t n, void *ctx) {
    raw_reply *r = ctx;
    uint8_t *grown = realloc(r->body, r->len + size * n + 1);
    assert_non_null(grown);
    memcpy(grown + r->len, p, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = 0;
    return size * n;
}

static raw_reply raw_post(const char *url, const char *type, const void *body, size_t len) {
    raw_reply r = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", type);
    h = curl_slist_append(h, ct);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* Runs client engine c against url for at most max messages (0: all); the last RespURI to
   resp (may be NULL). The engine's state at the end. */
static seam_syncml_state raw_run(const char *url, seam_syncml_client *c, seam_syncml_format fmt,
                                 unsigned max, char resp[256]) {
    uint8_t *msg = NULL;
    size_t len = 0;
    seam_syncml_state st = seam_syncml_client_start(c, &msg, &len);
    for (unsigned sent = 0; st == SEAM_SYNCML_CONTINUE && (!max || sent < max); sent++) {
        const char *to = seam_syncml_client_resp_uri(c);
        raw_reply r = raw_post(to ? to : url, seam_syncml_content_type(fmt), msg, len);
        seam_syncml_bytes_free(msg);
        msg = NULL;
        assert_int_equal(r.status, 200);
        st = seam_syncml_client_step(c, r.body, r.len, &msg, &len);
        free(r.body);
    }
    seam_syncml_bytes_free(msg);
    if (resp) {
        const char *to = seam_syncml_client_resp_uri(c);
        snprintf(resp, 256, "%s", to ? to : "");
    }
    return st;
}

/* A raw client engine on m for DEVINFO as device user (NULL: no credentials; its id is then
   "X") with password, asking for sync type. */
static seam_syncml_client *raw_client(omads_fx *f, memstore *m, const char *user,
                                      const char *password, seam_syncml_auth auth,
                                      seam_syncml_sync_type type) {
    seam_syncml_store st = ms_store(m);
    seam_syncml_config cfg = {.db = DEVINFO,
                              .device_id = user ? user : "X",
                              .server_uri = f->url,
                              .user = user,
                              .password = password,
                              .auth = auth,
                              .type = type};
    seam_syncml_client *c = seam_syncml_client_new(&st, &cfg);
    assert_non_null(c);
    return c;
}

static void digest(omads_fx *f, uint8_t out[32]) {
    assert_int_equal(seam_store_digest(f->store, out), SEAM_OK);
}

static uint64_t term_fingerprint(const char *path) {
    seam_sync_db *db;
    uint64_t fp = 0;
    assert_int_equal(seam_sync_open(path, &db), SEAM_OK);
    assert_int_equal(seam_sync_fingerprint(db, &fp), SEAM_OK);
    seam_sync_close(db);
    return fp;
}

/* ---- credentials and the device boundary ---- */

/* A wrong secret (401), none (407), a device with no secret: refused, and neither the store
   nor the terminal's database changed. */
static void bad_credentials_are_refused_and_change_nothing_S6(void **state) {
    omads_fx *f = *state;
    term_put(f->term_a, DEVINFO, "language", "en", NULL);
    uint8_t before[32], after[32];
    digest(f, before);
    uint64_t term_before = term_fingerprint(f->term_a);
    seam_terminal_sync_outcome o =
        omads_sync(f, f->term_a, "A", "A", "wrong-secret", DEVINFO, SEAM_SYNC_TWO_WAY, 0);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    assert_non_null(strstr(o.reason, "status 401"));
    o = omads_sync(f, f->term_a, "A", NULL, NULL, DEVINFO, SEAM_SYNC_TWO_WAY, 0);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    assert_non_null(strstr(o.reason, "status 407"));
    o = omads_sync(f, f->term_a, "C", "C", "any-secret-at-all", DEVINFO, SEAM_SYNC_TWO_WAY, 0);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_AUTH);
    digest(f, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(term_fingerprint(f->term_a), term_before);
    /* and basic authentication (the raw engine): wrong 401, right works */
    memstore m;
    ms_init(&m, 'L');
    ms_put(&m, "language", "en");
    seam_syncml_client *c =
        raw_client(f, &m, "A", "wrong-secret", SEAM_SYNCML_AUTH_BASIC, SEAM_SYNCML_TWO_WAY);
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 0, NULL), SEAM_SYNCML_FAILED);
    assert_int_equal(seam_syncml_client_report(c)->status, 401);
    seam_syncml_client_free(c);
    digest(f, after);
    assert_memory_equal(before, after, 32);
    c = raw_client(f, &m, "A", SECRET_A, SEAM_SYNCML_AUTH_BASIC, SEAM_SYNCML_TWO_WAY);
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 0, NULL), SEAM_SYNCML_DONE);
    seam_syncml_client_free(c);
    char *s = server_records(f, "A", DEVINFO);
    assert_string_equal(s, "language=en|");
    free(s);
}

/* Device A, with its own valid secret, can neither name itself B nor continue B's session:
   B's copy stays as B left it. */
static void a_device_cannot_touch_another_devices_copy_S6(void **state) {
    omads_fx *f = *state;
    term_put(f->term_b, DEVINFO, "language", "en", NULL);
    assert_int_equal(
        omads_sync(f, f->term_b, "B", "B", SECRET_B, DEVINFO, SEAM_SYNC_TWO_WAY, 0).failure,
        SEAM_TERMINAL_SYNC_OK);
    char *b_before = server_records(f, "B", DEVINFO);
    term_put(f->term_a, DEVINFO, "language", "xx-attacker", NULL);
    /* A's secret under B's name, and B's name with A's user */
    assert_int_equal(
        omads_sync(f, f->term_a, "B", "A", SECRET_A, DEVINFO, SEAM_SYNC_REFRESH_FROM_CLIENT, 0)
            .failure,
        SEAM_TERMINAL_SYNC_AUTH);
    assert_int_equal(
        omads_sync(f, f->term_a, "B", "B", SECRET_A, DEVINFO, SEAM_SYNC_REFRESH_FROM_CLIENT, 0)
            .failure,
        SEAM_TERMINAL_SYNC_AUTH);
    /* B opens a session; A sends its own (valid) messages to B's RespURI */
    memstore mb, ma;
    ms_init(&mb, 'L');
    ms_init(&ma, 'L');
    ms_put(&ma, "language", "xx-attacker");
    seam_syncml_client *b = raw_client(f, &mb, "B", SECRET_B, SEAM_SYNCML_AUTH_BASIC,
                                       SEAM_SYNCML_REFRESH_FROM_CLIENT),
                       *a = raw_client(f, &ma, "A", SECRET_A, SEAM_SYNCML_AUTH_BASIC,
                                       SEAM_SYNCML_REFRESH_FROM_CLIENT);
    char resp[256];
    assert_int_equal(raw_run(f->url, b, SEAM_SYNCML_XML, 1, resp), SEAM_SYNCML_CONTINUE);
    assert_true(resp[0]);
    uint8_t *msg = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    assert_int_equal(seam_syncml_client_start(a, &msg, &len), SEAM_SYNCML_CONTINUE);
    raw_reply r = raw_post(resp, "application/vnd.syncml+xml", msg, len);
    assert_int_equal(r.status, 400); /* another sender in B's session: the session ends */
    free(r.body);
    r = raw_post(resp, "application/vnd.syncml+xml", msg, len);
    assert_int_equal(r.status, 404); /* and is gone */
    free(r.body);
    seam_syncml_bytes_free(msg);
    seam_syncml_bytes_free(answer);
    (void)answer_len;
    seam_syncml_client_free(a);
    seam_syncml_client_free(b);
    char *b_after = server_records(f, "B", DEVINFO);
    assert_string_equal(b_before, b_after);
    free(b_before);
    free(b_after);
}

/* ---- malformed and oversized input ---- */

static void malformed_and_oversized_syncml_store_nothing_X6(void **state) {
    omads_fx *f = *state;
    uint8_t before[32], after[32];
    digest(f, before);
    raw_reply r = raw_post(f->url, "application/vnd.syncml+xml", "<SyncML><oops", 13);
    assert_int_equal(r.status, 400);
    free(r.body);
    r = raw_post(f->url, "text/plain", "hello", 5);
    assert_int_equal(r.status, 415);
    free(r.body);
    static const char laughs[] =
        "<?xml version=\"1.0\"?><!DOCTYPE SyncML [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><SyncML>&b;</SyncML>";
    r = raw_post(f->url, "application/vnd.syncml+xml", laughs, sizeof laughs - 1);
    assert_int_equal(r.status, 400);
    free(r.body);
    size_t big = SEAM_SYNCML_MAX_MESSAGE + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    r = raw_post(f->url, "application/vnd.syncml+xml", huge, big);
    assert_int_equal(r.status, 413);
    free(r.body);
    free(huge);
    r = raw_post(f->url, "application/vnd.syncml+wbxml", "\x02\xa4\x01\x6a\x00\x6d\x6c", 7);
    assert_int_equal(r.status, 400);
    free(r.body);
    /* a good Pkg1, then a broken message in the session: it ends, nothing stored */
    memstore m;
    ms_init(&m, 'L');
    ms_put(&m, "language", "en");
    seam_syncml_client *c =
        raw_client(f, &m, "A", SECRET_A, SEAM_SYNCML_AUTH_BASIC, SEAM_SYNCML_TWO_WAY);
    char resp[256];
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 1, resp), SEAM_SYNCML_CONTINUE);
    seam_syncml_client_free(c);
    r = raw_post(resp, "application/vnd.syncml+xml", "<SyncML/>", 9);
    assert_int_equal(r.status, 400);
    free(r.body);
    r = raw_post(resp, "application/vnd.syncml+xml", "<SyncML/>", 9);
    assert_int_equal(r.status, 404);
    free(r.body);
    digest(f, after);
    assert_memory_equal(before, after, 32);
}

/* A record whose content is not the database's text form is refused (415) and not stored; the
   rest of the session goes on. */
static void records_not_in_the_text_form_are_refused_S6(void **state) {
    omads_fx *f = *state;
    memstore m;
    ms_init(&m, 'L');
    ms_put(&m, "good", "name: purse\nkind: card\nversion: 1.0\nsize: 10\n");
    ms_put(&m, "bad", "name: purse\nflavour: sweet\n");
    ms_put(&m, "ctl", "name: a\tb\nkind: card\nversion: 1.0\nsize: 10\n");
    seam_syncml_store st = ms_store(&m);
    seam_syncml_config cfg = {.db = APPS,
                              .device_id = "A",
                              .server_uri = f->url,
                              .user = "A",
                              .password = SECRET_A,
                              .auth = SEAM_SYNCML_AUTH_MD5,
                              .type = SEAM_SYNCML_SLOW,
                              .format = SEAM_SYNCML_WBXML};
    seam_syncml_client *c = seam_syncml_client_new(&st, &cfg);
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_WBXML, 0, NULL), SEAM_SYNCML_DONE);
    seam_syncml_client_free(c);
    char *s = server_records(f, "A", APPS);
    assert_string_equal(s, "good=name: purse\nkind: card\nversion: 1.0\nsize: 10\n|");
    free(s);
}

/* ---- a terminal killed at each message ---- */

/* A one-connection-at-a-time HTTP relay in front of the server(s), as a load balancer would be:
   the terminal always sees the relay's URL. It sends each new session (a POST without ?s=) to
   the next server in turn and the session's further messages to the same one (affinity), and
   relays with its own Host, so that the RespURI points back at it. It counts the POSTs and, at
   POST number cut, kills the terminal (a child process) with SIGKILL before relaying it (the
   server never sees it) or after the server answered (the terminal never sees the answer). */
typedef struct {
    int listener;
    uint16_t port;
    char url[128];       /* the relay's /sync/omads */
    char servers[2][64]; /* http://127.0.0.1:PORT */
    unsigned n_servers, turn, current;
    unsigned cut;
    bool after;
    atomic_bool stop;
    pid_t child;
    unsigned posts;
    seam_sync_type ran; /* the type the last uncut sync ran */
    pthread_t thread;
} relay;

static bool read_request(int fd, char **head, uint8_t **body, size_t *body_len) {
    char *buf = malloc(8192);
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        ssize_t got = n < 8191 ? read(fd, buf + n, 8191 - n) : -1;
        if (got <= 0) {
            free(buf);
            return false;
        }
        n += (size_t)got;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - buf) + 4;
    const char *cl = NULL;
    for (const char *line = buf; line && line < end && !cl; line = strstr(line, "\r\n"))
        if (!strncasecmp(line += (line != buf) * 2, "Content-Length:", 15))
            cl = line;
    size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
    uint8_t *b = malloc(want + 1);
    size_t have = n - head_len < want ? n - head_len : want;
    memcpy(b, buf + head_len, have);
    while (have < want) {
        ssize_t got = read(fd, b + have, want - have);
        if (got <= 0) {
            free(buf);
            free(b);
            return false;
        }
        have += (size_t)got;
    }
    buf[head_len] = 0;
    *head = buf;
    *body = b;
    *body_len = want;
    return true;
}

static void relay_one(relay *r, int fd) {
    char *head;
    uint8_t *body;
    size_t len;
    if (!read_request(fd, &head, &body, &len))
        return;
    unsigned post = ++r->posts;
    char path[512] = "", url[700], host[64];
    sscanf(head, "POST %511s", path);
    if (!strchr(path, '?')) /* a new session: the next server */
        r->current = r->turn++ % r->n_servers;
    if (post == r->cut && !r->after) {
        kill(r->child, SIGKILL);
        free(head);
        free(body);
        return;
    }
    snprintf(url, sizeof url, "%s%s", r->servers[r->current], path);
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u", (unsigned)r->port);
    raw_reply a = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/vnd.syncml+xml");
    h = curl_slist_append(h, host);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (post == r->cut) {
        kill(r->child, SIGKILL);
    } else if (rc == CURLE_OK) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "HTTP/1.1 %ld X\r\nContent-Type: application/vnd.syncml+xml\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         a.status, a.len);
        if (write(fd, line, (size_t)n) < 0 || (a.len && write(fd, a.body, a.len) < 0))
            fprintf(stderr, "relay: write failed\n");
    }
    free(a.body);
    free(head);
    free(body);
}

static void *relay_run(void *arg) {
    relay *r = arg;
    for (;;) {
        int fd = accept(r->listener, NULL, NULL);
        if (fd < 0 || r->stop) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        relay_one(r, fd);
        close(fd);
    }
}

/* Starts a relay in front of servers s1 (and s2 when not NULL). */
static void relay_start(relay *r, seam_server *s1, seam_server *s2) {
    memset(r, 0, sizeof *r);
    snprintf(r->servers[0], sizeof r->servers[0], "http://127.0.0.1:%u",
             (unsigned)seam_server_port(s1));
    snprintf(r->servers[1], sizeof r->servers[1], "http://127.0.0.1:%u",
             (unsigned)seam_server_port(s2 ? s2 : s1));
    r->n_servers = s2 ? 2 : 1;
    r->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(r->listener, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->listener, 8), 0);
    assert_int_equal(getsockname(r->listener, (struct sockaddr *)&a, &alen), 0);
    r->port = ntohs(a.sin_port);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u/sync/omads", (unsigned)r->port);
    assert_int_equal(pthread_create(&r->thread, NULL, relay_run, r), 0);
}

static void relay_stop(relay *r) {
    r->stop = true;
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* wakes the accept */
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(r->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    (void)connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    pthread_join(r->thread, NULL);
    close(r->listener);
}

/* Device A's two-way sync through the relay (so always to the same URL): in a child process
   that the relay kills at POST cut (0: none, in this process). The POSTs the relay saw. */
static unsigned sync_through(omads_fx *f, relay *r, unsigned cut, bool after) {
    r->posts = 0;
    r->cut = cut;
    r->after = after;
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_OMADS,
                                      .type = SEAM_SYNC_TWO_WAY,
                                      .dm_path = f->term_a,
                                      .device_id = "A",
                                      .source_uri = DEVINFO,
                                      .server_url = r->url,
                                      .user = "A",
                                      .password = SECRET_A,
                                      .max_msg_size = 2048};
    seam_terminal_sync_outcome out;
    if (!cut) {
        assert_int_equal(seam_terminal_sync_omads(&req, &out), SEAM_OK);
        assert_int_equal(out.failure, SEAM_TERMINAL_SYNC_OK);
        r->ran = out.counts.type;
        return r->posts;
    }
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        seam_terminal_sync_omads(&req, &out);
        _exit(0);
    }
    r->child = pid;
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status)); /* killed at the cut, not ended on its own */
    return r->posts;
}

/* Values longer than a status: the server's statuses for the terminal's message must fit in
   the terminal's 2 KiB, and the engines do not split statuses across messages (docs/sync.md
   "OMA DS over HTTP", what is not done). */
#define PADDING                                                                                    \
    "padding padding padding padding padding padding padding padding padding padding padding "     \
    "padding padding padding"

/* Some changes on both sides, enough for several messages of 2 KiB each way. */
static void edits(omads_fx *f, unsigned round) {
    char key[32], value[200];
    for (unsigned i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "t%u-%u", round, i);
        snprintf(value, sizeof value, "terminal value %u of round %u %s", i, round, PADDING);
        term_put(f->term_a, DEVINFO, key, value, NULL);
        snprintf(key, sizeof key, "s%u-%u", round, i);
        snprintf(value, sizeof value, "server value %u of round %u %s", i, round, PADDING);
        assert_int_equal(
            seam_store_record_put(f->store, "A", "admin", DEVINFO, key, value, strlen(value)),
            SEAM_OK);
    }
    if (round) {
        snprintf(key, sizeof key, "t%u-0", round - 1);
        term_del(f->term_a, DEVINFO, key);
        snprintf(key, sizeof key, "s%u-1", round - 1);
        assert_int_equal(seam_store_record_delete(f->store, "A", "admin", DEVINFO, key), SEAM_OK);
    }
}

/* Killed before or after each of its messages, the terminal syncs again: both sides hold the
   same records, exactly as many as the edits made (nothing doubled, nothing lost), and one
   more sync has nothing to carry (X4: what either side acknowledged survives). */
static void terminal_killed_at_each_message_converges_X4(void **state) {
    omads_fx *f = *state;
    relay r;
    relay_start(&r, f->server, NULL);
    unsigned round = 0, slow = 0;
    edits(f, round++);
    sync_through(f, &r, 0, false);
    assert_int_equal(r.ran, SEAM_SYNC_SLOW);
    edits(f, round++);
    unsigned posts = sync_through(f, &r, 0, false); /* the length of every round below */
    assert_int_equal(r.ran, SEAM_SYNC_TWO_WAY);
    assert_true(posts >= 6);
    size_t expected = 16 + 14;
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), expected);
    for (unsigned cut = 1; cut <= posts; cut++) {
        for (int after = 0; after < 2; after++) {
            edits(f, round++);
            expected += 16 - 2;
            sync_through(f, &r, cut, after);
            sync_through(f, &r, 0, false);
            /* the last message cut before the server saw it: the terminal committed, the server
               did not, the anchors disagree and the sync is slow; otherwise two-way */
            slow += r.ran == SEAM_SYNC_SLOW;
            assert_int_equal(r.ran, cut == posts && !after ? SEAM_SYNC_SLOW : SEAM_SYNC_TWO_WAY);
            if (r.ran == SEAM_SYNC_SLOW) {
                /* a slow sync never deletes: the terminal's delete the server never committed
                   comes back (docs/sync.md), the only difference, on both sides */
                char key[32];
                seam_sync_db *db;
                seam_sync_record rec;
                snprintf(key, sizeof key, "t%u-0", round - 2);
                assert_int_equal(seam_sync_open(f->term_a, &db), SEAM_OK);
                assert_int_equal(seam_sync_get(db, DEVINFO, key, &rec), SEAM_OK);
                seam_sync_close(db);
                expected++;
            }
            assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), expected);
        }
    }
    assert_int_equal(slow, 1);
    relay_stop(&r);
}

/* ---- restarts and two servers ---- */

/* A server restarted in the middle of a session does not know its RespURI any more: 404, the
   device starts again, and nothing was half-applied (X5). */
static void a_restart_mid_session_means_a_new_session_X5(void **state) {
    omads_fx *f = *state;
    term_put(f->term_a, DEVINFO, "language", "en", NULL);
    memstore m;
    ms_init(&m, 'L');
    ms_put(&m, "language", "xx");
    seam_syncml_client *c =
        raw_client(f, &m, "A", SECRET_A, SEAM_SYNCML_AUTH_BASIC, SEAM_SYNCML_SLOW);
    char resp[256];
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 1, resp), SEAM_SYNCML_CONTINUE);
    uint8_t before[32], after[32];
    digest(f, before);
    seam_server_stop(f->server);
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", strrchr(f->url, ':') + 1);
    *strchr(listen + 10, '/') = '\0'; /* the same port */
    seam_server_options o = {.dir = f->dir, .db_url = f->db_url, .listen = listen};
    assert_int_equal(seam_server_start(&o, &f->server), SEAM_OK);
    seam_syncml_bytes_free(NULL);
    raw_reply r = raw_post(resp, "application/vnd.syncml+xml", "<SyncML/>", 9);
    assert_int_equal(r.status, 404);
    free(r.body);
    seam_syncml_client_free(c);
    digest(f, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY).failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 1);
}

/* Two servers on one database behind one URL (a relay that alternates sessions between them):
   the device sees one copy, since the state between sessions is the store's; a server
   cannot continue the other one's session (404). */
static void two_servers_on_one_database_share_the_copies_X5(void **state) {
    omads_fx *f = *state;
    seam_server *second = NULL;
    seam_server_options o = {.dir = f->dir, .db_url = f->db_url, .listen = "127.0.0.1:0"};
    assert_int_equal(seam_server_start(&o, &second), SEAM_OK);
    relay r;
    relay_start(&r, f->server, second);
    for (unsigned i = 0; i < 6; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%u", i);
        term_put(f->term_a, DEVINFO, key, i % 2 ? "odd" : "even", NULL);
        snprintf(key, sizeof key, "s%u", i);
        assert_int_equal(seam_store_record_put(f->store, "A", "admin", DEVINFO, key, "srv", 3),
                         SEAM_OK);
        sync_through(f, &r, 0, false); /* slow the first time, then two-way on either server */
        assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 2 * (i + 1));
    }
    relay_stop(&r);
    memstore m;
    ms_init(&m, 'L');
    seam_syncml_client *c =
        raw_client(f, &m, "A", SECRET_A, SEAM_SYNCML_AUTH_BASIC, SEAM_SYNCML_SLOW);
    char resp[256], other[300];
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 1, resp), SEAM_SYNCML_CONTINUE);
    snprintf(other, sizeof other, "http://127.0.0.1:%u/sync/omads%s",
             (unsigned)seam_server_port(second), strchr(resp, '?'));
    raw_reply rr = raw_post(other, "application/vnd.syncml+xml", "<SyncML/>", 9);
    assert_int_equal(rr.status, 404);
    free(rr.body);
    seam_syncml_client_free(c);
    seam_server_stop(second);
}

/* A device the server keeps a copy of but that has no secret gets a random password nobody
   knows: not even who reads the RespURI of its session (the token is no password). Here C's
   copy exists (written by the admin) and an attacker answers C's MD5 challenge with the token
   of the RespURI it got: refused (401), nothing read, nothing written (S6). */
static void a_device_without_a_secret_cannot_be_entered_with_its_session_token_S6(void **state) {
    omads_fx *f = *state;
    assert_int_equal(seam_store_record_put(f->store, "C", "admin", DEVINFO, "language", "en", 2),
                     SEAM_OK);
    uint8_t before[32], after[32];
    digest(f, before);
    memstore probe, m;
    ms_init(&probe, 'L');
    ms_init(&m, 'L');
    ms_put(&m, "language", "xx-attacker");
    seam_syncml_client *c =
        raw_client(f, &probe, "C", "a-guess-at-all", SEAM_SYNCML_AUTH_MD5, SEAM_SYNCML_SLOW);
    char resp[256];
    assert_int_equal(raw_run(f->url, c, SEAM_SYNCML_XML, 1, resp), SEAM_SYNCML_CONTINUE);
    const char *token = strstr(resp, "?s=");
    assert_non_null(token);
    token += 3;
    seam_syncml_store st = ms_store(&m);
    seam_syncml_config cfg = {.db = DEVINFO,
                              .device_id = "C",
                              .server_uri = f->url,
                              .user = "C",
                              .password = token,
                              .auth = SEAM_SYNCML_AUTH_MD5,
                              .type = SEAM_SYNCML_SLOW,
                              .nonce = seam_syncml_client_nonce(c)};
    seam_syncml_client *attacker = seam_syncml_client_new(&st, &cfg);
    assert_non_null(attacker);
    assert_int_equal(raw_run(resp, attacker, SEAM_SYNCML_XML, 0, NULL), SEAM_SYNCML_FAILED);
    assert_int_equal(seam_syncml_client_report(attacker)->status, 401);
    assert_false(ms_has(&m, "language: en") || ms_has(&m, "en"));
    seam_syncml_client_free(attacker);
    seam_syncml_client_free(c);
    digest(f, after);
    assert_memory_equal(before, after, 32);
}

/* Pkg1 of a client with the given credentials (user NULL: none, the MD5 challenge's case). */
static uint8_t *pkg1_of(omads_fx *f, const char *user, const char *password, seam_syncml_auth auth,
                        size_t *len) {
    memstore m;
    ms_init(&m, 'L');
    seam_syncml_client *c = raw_client(f, &m, user, password, auth, SEAM_SYNCML_TWO_WAY);
    uint8_t *msg = NULL;
    assert_int_equal(seam_syncml_client_start(c, &msg, len), SEAM_SYNCML_CONTINUE);
    seam_syncml_client_free(c);
    return msg;
}

/* Anyone can open a session (a Pkg1 without credentials gets the MD5 challenge and a
   RespURI), but such sessions do not hold the 64 places: a device still gets in after more
   than 64 of them. Sessions whose device authenticated do hold them (then 503 busy). */
static void sessions_without_credentials_cannot_lock_devices_out_S6(void **state) {
    omads_fx *f = *state;
    size_t len = 0;
    uint8_t *anon = pkg1_of(f, NULL, NULL, SEAM_SYNCML_AUTH_MD5, &len);
    for (unsigned i = 0; i < 65; i++) {
        raw_reply r = raw_post(f->url, "application/vnd.syncml+xml", anon, len);
        assert_int_equal(r.status, 200); /* the challenge */
        free(r.body);
    }
    term_put(f->term_a, DEVINFO, "language", "en", NULL);
    assert_int_equal(omads_sync_a(f, DEVINFO, SEAM_SYNC_TWO_WAY).failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(assert_converged(f, f->term_a, "A", DEVINFO), 1);
    /* 64 sessions of an authenticated device, each left after Pkg2: the table is full */
    size_t auth_len = 0;
    uint8_t *authed = pkg1_of(f, "B", SECRET_B, SEAM_SYNCML_AUTH_BASIC, &auth_len);
    for (unsigned i = 0; i < 64; i++) {
        raw_reply r = raw_post(f->url, "application/vnd.syncml+xml", authed, auth_len);
        assert_int_equal(r.status, 200);
        free(r.body);
    }
    raw_reply r = raw_post(f->url, "application/vnd.syncml+xml", anon, len);
    assert_int_equal(r.status, 503);
    free(r.body);
    r = raw_post(f->url, "application/vnd.syncml+xml", authed, auth_len);
    assert_int_equal(r.status, 503);
    free(r.body);
    seam_syncml_bytes_free(anon);
    seam_syncml_bytes_free(authed);
}

int main(int argc, char **argv) {
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    seam_terminal_global_init(); /* libcurl, before the relay's thread and the terminal's */
    if (backend_start(backend) != 0) {
        backend_stop();
        fprintf(stderr, "backend %s unavailable\n", backend);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_credentials_are_refused_and_change_nothing_S6,
                                        omads_setup, omads_teardown),
        cmocka_unit_test_setup_teardown(a_device_cannot_touch_another_devices_copy_S6, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(malformed_and_oversized_syncml_store_nothing_X6,
                                        omads_setup, omads_teardown),
        cmocka_unit_test_setup_teardown(records_not_in_the_text_form_are_refused_S6, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(terminal_killed_at_each_message_converges_X4, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(a_restart_mid_session_means_a_new_session_X5, omads_setup,
                                        omads_teardown),
        cmocka_unit_test_setup_teardown(two_servers_on_one_database_share_the_copies_X5,
                                        omads_setup, omads_teardown),
        cmocka_unit_test_setup_teardown(sessions_without_credentials_cannot_lock_devices_out_S6,
                                        omads_setup, omads_teardown),
        cmocka_unit_test_setup_teardown(
            a_device_without_a_secret_cannot_be_entered_with_its_session_token_S6, omads_setup,
            omads_teardown),
    };
    char group[64];
    snprintf(group, sizeof group, "OMA DS faults on %s", backend);
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof *tests, NULL, NULL);
    backend_stop();
    return failed;
}
