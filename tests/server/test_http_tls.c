/*
 * TLS for `seam server` (docs/server.md "TLS"): a server in this process on
 * 127.0.0.1 (port 0) with --tls, and the real `seam terminal run --once`
 * (the built binary, a subprocess) pinning the server's certificate with
 * --cacert. The right certificate: the session completes and the server
 * counts it (P1); another CA, or a host name the certificate does not name:
 * the terminal stops at once with a clear error and the server's store does
 * not change (nothing counted). Plain HTTP to the TLS port gets no answer.
 * `seam server init` makes the key 0600 and never overwrites it; a server
 * refuses plain HTTP beyond loopback.
 */
#include "http_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "server/tls.h"

#define CARD_ID "0102030405060708"

/* A card image the terminal opens (the CIN is given with --card-id). */
#include "seam/card.h"
#include "seam/sync.h"
#include "seam/terminal.h"

typedef struct {
    http_fixture http;
    char image[160];
    char other[96]; /* a second folder with a certificate of its own */
} tls_fixture;

static int tls_setup(void **state) {
    tls_fixture *t = calloc(1, sizeof *t);
    assert_non_null(t);
    http_fixture *f = &t->http;
    snprintf(f->dir, sizeof f->dir, "/tmp/seam-tls-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char base[32];
    snprintf(base, sizeof base, "%.24s", f->dir);
    snprintf(f->dir, sizeof f->dir, "%s/srv", base);
    snprintf(t->other, sizeof t->other, "%s/other", base);
    snprintf(t->image, sizeof t->image, "%s/card.db", base);
    static const char *const names[] = {"seam.test"};
    assert_int_equal(seam_server_init_tls(f->dir, names, 1, f->token), SEAM_OK);
    assert_int_equal(mkdir(t->other, 0700), 0);
    assert_int_equal(seam_srv_tls_create(t->other, NULL, 0), SEAM_OK);
    seam_server_options o = {.dir = f->dir, .listen = "127.0.0.1:0", .tls = true};
    assert_int_equal(seam_server_start(&o, &f->server), SEAM_OK);
    assert_true(seam_server_tls(f->server));
    f->port = seam_server_port(f->server);
    seam_card *card = NULL;
    assert_int_equal(seam_card_create(t->image, 0, &card), SEAM_OK);
    seam_card_close(card);
    *state = t;
    return 0;
}

static int tls_teardown(void **state) {
    tls_fixture *t = *state;
    seam_server_stop(t->http.server);
    char *slash = strrchr(t->http.dir, '/');
    *slash = '\0';
    nftw(t->http.dir, http_test_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

/* Registers the card (an ISD key set) over HTTPS with the bearer token. */
static void put_card(tls_fixture *t) {
    char url[128], auth[128], path[96];
    snprintf(path, sizeof path, "%s/tls.crt", t->http.dir);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/api/cards/" CARD_ID, (unsigned)t->http.port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->http.token);
    static const char body[] =
        "{\"keysets\":[{\"kvn\":48,\"enc\":\"404142434445464748494A4B4C4D4E4F\""
        ",\"mac\":\"404142434445464748494A4B4C4D4E4F\",\"dek\":"
        "\"404142434445464748494A4B4C4D4E4F\"}]}";
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    CURL *c = curl_easy_init();
    http_reply r;
    memset(&r, 0, sizeof r);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, path);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_test_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 201);
    free(r.body);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* `seam terminal run --once` against url with --cacert cacert; its exit status, and its
   standard error in err (NUL-terminated). */
static int terminal_once(tls_fixture *t, const char *url, const char *cacert, char *err,
                         size_t cap) {
    const char *build = getenv("SEAM_BUILD_DIR");
    char cmd[1024], err_path[128];
    snprintf(err_path, sizeof err_path, "%s/terminal.err", t->http.dir);
    snprintf(cmd, sizeof cmd,
             "'%s/seam' terminal run --server '%s' --cacert '%s' --image '%s' --state "
             "'%s/terminal.db' --card-id " CARD_ID " --interval 0 --once >/dev/null 2>'%s'",
             build ? build : "build/release", url, cacert, t->image, t->http.dir, err_path);
    int rc = system(cmd);
    FILE *fp = fopen(err_path, "r");
    assert_non_null(fp);
    size_t n = fread(err, 1, cap - 1, fp);
    err[n] = '\0';
    fclose(fp);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The bytes the server counted for the card, all steps. */
static uint64_t counted(tls_fixture *t) {
    seam_store *s = http_store_open(&t->http);
    seam_store_bytes *rows = NULL;
    size_t count = 0;
    uint64_t total = 0;
    assert_int_equal(seam_store_bytes_list(s, 0, NULL, &rows, &count), SEAM_OK);
    for (size_t i = 0; i < count; i++)
        total += rows[i].bytes.request + rows[i].bytes.response;
    free(rows);
    seam_store_close(s);
    return total;
}

static void tls_terminal_session_with_the_servers_certificate_completes_P1(void **state) {
    tls_fixture *t = *state;
    char url[96], cacert[128], err[2048];
    put_card(t);
    snprintf(cacert, sizeof cacert, "%s/tls.crt", t->http.dir);
    /* by address (IP SAN 127.0.0.1) and by name (DNS SAN localhost) */
    snprintf(url, sizeof url, "https://127.0.0.1:%u", (unsigned)t->http.port);
    assert_int_equal(terminal_once(t, url, cacert, err, sizeof err), 0);
    uint64_t first = counted(t);
    assert_true(first > 0); /* the poll (204) was counted, at the HTTP level */
    snprintf(url, sizeof url, "https://localhost:%u/admin", (unsigned)t->http.port);
    assert_int_equal(terminal_once(t, url, cacert, err, sizeof err), 0);
    assert_true(counted(t) > first);
}

static void tls_terminal_refuses_another_ca_clearly_and_the_server_counts_nothing(void **state) {
    tls_fixture *t = *state;
    char url[96], cacert[128], err[2048];
    uint8_t before[32], after[32];
    put_card(t);
    http_store_digest(&t->http, before);
    snprintf(cacert, sizeof cacert, "%s/tls.crt", t->other);
    snprintf(url, sizeof url, "https://127.0.0.1:%u", (unsigned)t->http.port);
    assert_int_equal(terminal_once(t, url, cacert, err, sizeof err), 1);
    assert_non_null(strstr(err, "TLS certificate did not verify"));
    assert_non_null(strstr(err, "SSL certificate problem")); /* libcurl's reason, logged */
    assert_null(strstr(err, "unreachable")); /* not retried as a server that is down */
    http_store_digest(&t->http, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(counted(t), 0);
}

/* The certificate names 127.0.0.1, localhost and seam.test; the server listens on 127.0.0.2,
   which it does not name: the right CA is not enough (host name verification). */
static void tls_terminal_refuses_a_host_the_certificate_does_not_name(void **state) {
    tls_fixture *t = *state;
    char url[96], cacert[128], err[2048];
    seam_server_stop(t->http.server);
    seam_server_options o = {.dir = t->http.dir, .listen = "127.0.0.2:0", .tls = true};
    assert_int_equal(seam_server_start(&o, &t->http.server), SEAM_OK);
    t->http.port = seam_server_port(t->http.server);
    snprintf(cacert, sizeof cacert, "%s/tls.crt", t->http.dir);
    snprintf(url, sizeof url, "https://127.0.0.2:%u", (unsigned)t->http.port);
    assert_int_equal(terminal_once(t, url, cacert, err, sizeof err), 1);
    assert_non_null(strstr(err, "TLS certificate did not verify"));
    assert_non_null(strstr(err, "subject name")); /* libcurl: no SAN matches 127.0.0.2 */
    assert_int_equal(counted(t), 0);
}

static void tls_plain_http_to_the_tls_port_gets_no_answer(void **state) {
    tls_fixture *t = *state;
    char url[96];
    uint8_t before[32], after[32];
    http_store_digest(&t->http, before);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/admin", (unsigned)t->http.port);
    struct curl_slist *h =
        curl_slist_append(NULL, "X-Admin-Protocol: globalplatform-remote-admin/1.0");
    h = curl_slist_append(h, "X-Admin-From: //se-id/cin/" CARD_ID);
    CURL *c = curl_easy_init();
    http_reply r;
    memset(&r, 0, sizeof r);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_test_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    CURLcode rc = curl_easy_perform(c);
    assert_int_not_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 0); /* no HTTP answer at all */
    free(r.body);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    http_store_digest(&t->http, after);
    assert_memory_equal(before, after, sizeof before);
}

static void file_bytes(const char *path, char *out, size_t cap) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(out, 1, cap - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

static void tls_init_makes_a_0600_key_and_never_overwrites_it(void **state) {
    tls_fixture *t = *state;
    char key[128], crt[128], was[4096], now[4096];
    struct stat st;
    snprintf(key, sizeof key, "%s/tls.key", t->http.dir);
    snprintf(crt, sizeof crt, "%s/tls.crt", t->http.dir);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(crt, &st), 0);
    assert_int_equal(st.st_mode & 077, 044); /* the certificate is public */
    file_bytes(key, was, sizeof was);
    assert_non_null(strstr(was, "-----BEGIN PRIVATE KEY-----"));
    /* again on the same folder, directly and through init (the config is there too) */
    assert_int_equal(seam_srv_tls_create(t->http.dir, NULL, 0), SEAM_ERR_SERVER_TLS_EXISTS);
    char token[SEAM_SERVER_TOKEN_SIZE];
    assert_int_not_equal(seam_server_init(t->http.dir, token), SEAM_OK);
    file_bytes(key, now, sizeof now);
    assert_string_equal(was, now);
    /* a folder holding only a key (or a link planted as tls.key): init refuses, before it
       makes a master key, and the planted file is untouched */
    char fresh[128], path[160], target[160];
    snprintf(fresh, sizeof fresh, "%s/fresh", t->other);
    assert_int_equal(mkdir(fresh, 0700), 0);
    snprintf(target, sizeof target, "%s/elsewhere", t->other);
    snprintf(path, sizeof path, "%s/tls.key", fresh);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(seam_server_init(fresh, token), SEAM_ERR_SERVER_TLS_EXISTS);
    assert_int_equal(lstat(target, &st), -1);
    snprintf(path, sizeof path, "%s/master.key", fresh);
    assert_int_equal(lstat(path, &st), -1);
    /* a bad --tls-name is refused before anything is made */
    static const char *const bad[] = {"a,DNS:evil.example"};
    snprintf(fresh, sizeof fresh, "%s/fresh2", t->other);
    assert_int_equal(seam_server_init_tls(fresh, bad, 1, token), SEAM_ERR_ARG);
}

/* Beyond loopback the server speaks HTTPS only. These addresses are never bound: each
   refusal comes before the socket (TEST-NET-1, 192.0.2.1, is not this machine's). */
static void tls_plain_http_beyond_loopback_is_refused_without_insecure_http(void **state) {
    tls_fixture *t = *state;
    seam_server *s = NULL;
    char key[128], hidden[128];
    snprintf(key, sizeof key, "%s/tls.key", t->http.dir);
    snprintf(hidden, sizeof hidden, "%s/tls.key.aside", t->http.dir);
    /* a folder without TLS material: plain HTTP would be the only way, refused by name */
    assert_int_equal(rename(key, hidden), 0);
    char crt[128], crt_hidden[128];
    snprintf(crt, sizeof crt, "%s/tls.crt", t->http.dir);
    snprintf(crt_hidden, sizeof crt_hidden, "%s/tls.crt.aside", t->http.dir);
    assert_int_equal(rename(crt, crt_hidden), 0);
    seam_server_options o = {.dir = t->http.dir, .listen = "192.0.2.1:0"};
    assert_int_equal(seam_server_start(&o, &s), SEAM_ERR_SERVER_INSECURE_HTTP);
    o.listen = "0.0.0.0:0";
    assert_int_equal(seam_server_start(&o, &s), SEAM_ERR_SERVER_INSECURE_HTTP);
    /* --tls on loopback without the files: the TLS error */
    o.listen = "127.0.0.1:0";
    o.tls = true;
    assert_int_equal(seam_server_start(&o, &s), SEAM_ERR_SERVER_TLS);
    assert_int_equal(rename(hidden, key), 0);
    assert_int_equal(rename(crt_hidden, crt), 0);
    /* a key readable by others is refused (TLS error), not served */
    assert_int_equal(chmod(key, 0644), 0);
    o.listen = "192.0.2.1:0";
    o.tls = false;
    assert_int_equal(seam_server_start(&o, &s), SEAM_ERR_SERVER_TLS);
    assert_int_equal(chmod(key, 0600), 0);
    /* --insecure-http lifts the refusal: the server goes on to bind (and fails here,
       the address is not this machine's) */
    assert_int_equal(rename(key, hidden), 0);
    o.insecure_http = true;
    assert_int_equal(seam_server_start(&o, &s), SEAM_ERR_SERVER_LISTEN);
    assert_int_equal(rename(hidden, key), 0);
    assert_null(s);
}

/* The changeset protocol over https (S6, P2): with the server's certificate the sync runs;
   with another CA's it is refused before anything is sent (unreachable, nothing applied). */
static void tls_changeset_sync_with_the_servers_certificate_S6(void **state) {
    tls_fixture *t = *state;
    char dm[160], url[96], cacert[128];
    snprintf(dm, sizeof dm, "%s/../dm.db", t->http.dir);
    seam_store *st = http_store_open(&t->http);
    assert_int_equal(
        seam_store_device_secret_put(st, "356938035643809", "tls-device-secret-01", NULL), SEAM_OK);
    seam_store_close(st);
    seam_sync_db *db = NULL;
    seam_sync_record r = {.key = "ringtone", .value = "jazz"};
    assert_int_equal(seam_sync_open(dm, &db), SEAM_OK);
    assert_int_equal(seam_sync_put(db, SEAM_SYNC_DEVINFO, &r), SEAM_OK);
    seam_sync_close(db);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/sync/changeset", (unsigned)t->http.port);
    snprintf(cacert, sizeof cacert, "%s/tls.crt", t->other);
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_CHANGESET,
                                      .type = SEAM_SYNC_TWO_WAY,
                                      .dm_path = dm,
                                      .device_id = "356938035643809",
                                      .source_uri = SEAM_SYNC_DEVINFO,
                                      .server_url = url,
                                      .cacert = cacert,
                                      .password = "tls-device-secret-01"};
    seam_terminal_sync_outcome o;
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_UNREACHABLE);
    assert_int_equal(o.bytes_received, 0);
    snprintf(cacert, sizeof cacert, "%s/tls.crt", t->http.dir);
    assert_int_equal(seam_terminal_sync(&req, &o), SEAM_OK);
    assert_int_equal(o.failure, SEAM_TERMINAL_SYNC_OK);
    assert_int_equal(o.counts.sent, 1);
}

int main(void) {
    (void)http_setup, (void)http_teardown; /* the plain fixture of http_test.h, not used here */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            tls_terminal_session_with_the_servers_certificate_completes_P1, tls_setup,
            tls_teardown),
        cmocka_unit_test_setup_teardown(
            tls_terminal_refuses_another_ca_clearly_and_the_server_counts_nothing, tls_setup,
            tls_teardown),
        cmocka_unit_test_setup_teardown(tls_terminal_refuses_a_host_the_certificate_does_not_name,
                                        tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(tls_changeset_sync_with_the_servers_certificate_S6,
                                        tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(tls_plain_http_to_the_tls_port_gets_no_answer, tls_setup,
                                        tls_teardown),
        cmocka_unit_test_setup_teardown(tls_init_makes_a_0600_key_and_never_overwrites_it,
                                        tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(
            tls_plain_http_beyond_loopback_is_refused_without_insecure_http, tls_setup,
            tls_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
