/*
 * A probe, not a test (not registered with ctest): seam's OMA DS client
 * engine against a SyncML server over HTTP (libcurl), e.g. SyncEvolution's
 * syncevo-http-server (cat_sync.md B.8; docs/sync.md "OMA DS").
 *
 *   syncevo_probe URL DB TYPE STATEFILE [+content | =KEY=content | -KEY ...]
 *
 * The client's records live in memstore.h, saved to STATEFILE between runs
 * (raw bytes, a probe's convenience). Before the session, "+content" adds a
 * record, "=KEY=content" replaces one, "-KEY" deletes one; SEAM_PROBE_ANCHOR
 * overrides the last anchor (to provoke the server's 508), SEAM_PROBE_MAXMSG
 * sets the MaxMsgSize, SEAM_PROBE_WBXML=1 speaks WBXML, SEAM_PROBE_USER/_PASSWORD/_MD5/_NONCE the
 * credentials. Prints every message sent and received and the outcome.
 */
#include <time.h>

#include <curl/curl.h>

#include "memstore.h"

typedef struct {
    uint8_t *bytes;
    size_t len;
} buffer;

static size_t collect(char *data, size_t size, size_t n, void *arg) {
    buffer *b = arg;
    uint8_t *more = realloc(b->bytes, b->len + size * n + 1);
    if (!more)
        return 0;
    memcpy(more + b->len, data, size * n);
    b->bytes = more;
    b->len += size * n;
    return size * n;
}

static bool post(const char *url, seam_syncml_format format, const uint8_t *body, size_t len,
                 buffer *answer) {
    CURL *curl = curl_easy_init();
    char type[96];
    snprintf(type, sizeof type, "Content-Type: %s", seam_syncml_content_type(format));
    struct curl_slist *headers = curl_slist_append(NULL, type);
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || code != 200) {
        fprintf(stderr, "probe: POST %s: %s, HTTP %ld\n", url, curl_easy_strerror(rc), code);
        return false;
    }
    return true;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: syncevo_probe URL DB TYPE STATEFILE [+content ...]\n");
        return 2;
    }
    static memstore store;
    ms_init(&store, 'L');
    FILE *f = fopen(argv[4], "rb");
    if (f) {
        if (fread(&store.now, sizeof store.now, 1, f) != 1)
            ms_init(&store, 'L');
        fclose(f);
    }
    if (getenv("SEAM_PROBE_ANCHOR")) /* pretend the last anchor was another one */
        snprintf(store.now.anchor, sizeof store.now.anchor, "%s", getenv("SEAM_PROBE_ANCHOR"));
    for (int i = 5; i < argc; i++) {
        char key[32];
        if (argv[i][0] == '-') { /* -KEY deletes a record */
            ms_del(&store, argv[i] + 1);
            continue;
        }
        if (argv[i][0] == '=') { /* =KEY=content replaces one */
            char *eq = strchr(argv[i] + 1, '=');
            if (eq) {
                char content[MS_CONTENT];
                snprintf(content, sizeof content, "%s\n", eq + 1);
                *eq = '\0';
                ms_put(&store, argv[i] + 1, content);
            }
            continue;
        }
        snprintf(key, sizeof key, "L%u", ++store.now.next_key);
        char content[MS_CONTENT];
        snprintf(content, sizeof content, "%s\n", argv[i] + 1);
        ms_put(&store, key, content);
    }
    store.anchors = (unsigned)time(NULL);
    seam_syncml_store s = ms_store(&store);
    seam_syncml_config cfg = {.db = "./apps",
                              .remote_db = argv[2],
                              .device_id = "seam-t-1",
                              .server_uri = argv[1],
                              .type = (seam_syncml_sync_type)atoi(argv[3]),
                              .format = SEAM_SYNCML_XML,
                              .session_id = "1"};
    if (getenv("SEAM_PROBE_WBXML"))
        cfg.format = SEAM_SYNCML_WBXML;
    if (getenv("SEAM_PROBE_MAXMSG")) /* this client's MaxMsgSize */
        cfg.max_msg_size = strtoul(getenv("SEAM_PROBE_MAXMSG"), NULL, 10);
    if (getenv("SEAM_PROBE_USER")) { /* credentials: SEAM_PROBE_USER, _PASSWORD, _MD5=1 */
        cfg.user = getenv("SEAM_PROBE_USER");
        cfg.password = getenv("SEAM_PROBE_PASSWORD") ? getenv("SEAM_PROBE_PASSWORD") : "";
        cfg.auth = getenv("SEAM_PROBE_MD5") ? SEAM_SYNCML_AUTH_MD5 : SEAM_SYNCML_AUTH_BASIC;
        cfg.nonce = getenv("SEAM_PROBE_NONCE");
    }
    seam_syncml_client *c = seam_syncml_client_new(&s, &cfg);
    uint8_t *out = NULL;
    size_t out_len = 0;
    seam_syncml_state state = seam_syncml_client_start(c, &out, &out_len);
    while (state == SEAM_SYNCML_CONTINUE) {
        const char *url = seam_syncml_client_resp_uri(c) ? seam_syncml_client_resp_uri(c) : argv[1];
        printf(">>> %s (%zu bytes)\n%.*s\n", url, out_len,
               cfg.format == SEAM_SYNCML_XML ? (int)out_len : 0, (const char *)out);
        buffer answer = {0};
        bool ok = post(url, cfg.format, out, out_len, &answer);
        seam_syncml_bytes_free(out);
        out = NULL;
        if (!ok)
            break;
        printf("<<< (%zu bytes)\n%.*s\n", answer.len,
               cfg.format == SEAM_SYNCML_XML ? (int)answer.len : 0, (const char *)answer.bytes);
        state = seam_syncml_client_step(c, answer.bytes, answer.len, &out, &out_len);
        free(answer.bytes);
    }
    if (state == SEAM_SYNCML_CONTINUE && out) {
        /* The final Pkg5 went out... not: the loop ended on a transport failure. */
        seam_syncml_bytes_free(out);
    }
    const seam_syncml_report *r = seam_syncml_client_report(c);
    printf("state %d type %d sent %u received %u conflicts %u status %u err %s\n", state, r->type,
           r->sent, r->received, r->conflicts, r->status, seam_err_str(r->err));
    printf("nonce %s\n", seam_syncml_client_nonce(c));
    seam_syncml_client_free(c);
    for (size_t i = 0; i < store.now.n; i++)
        printf("record %s: %s", store.now.rec[i].key, store.now.rec[i].content);
    f = fopen(argv[4], "wb");
    if (f) {
        fwrite(&store.now, sizeof store.now, 1, f);
        fclose(f);
    }
    return state == SEAM_SYNCML_DONE ? 0 : 1;
}
