/*
 * seam fleet --register TOKEN: tells the server about the fleet's cards
 * through its admin API (docs/server.md): PUT /api/cards/{cin} with the IIN
 * and the ISD key set a new seam card has (KVN 30, the GlobalPlatform test
 * keys 40..4F), one request per card over kept-alive connections, from a
 * pool of threads; with --perso AID:HEX also that personalization data for
 * application AID on every card. A card the server already knows (409)
 * counts as registered, so the step can be repeated.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleet_cli.h"
#include "seam/util.h"

#define TEST_KEY "404142434445464748494A4B4C4D4E4F"
#define CARD_BODY                                                                                  \
    "{\"iin\":\"9999\",\"keysets\":[{\"sd\":\"A000000151000000\",\"kvn\":48,\"enc\":\"" TEST_KEY   \
    "\",\"mac\":\"" TEST_KEY "\",\"dek\":\"" TEST_KEY "\"}]}"

typedef struct {
    char origin[512];
    char auth[160];
    const char (*cins)[SEAM_TERMINAL_CIN_HEX];
    size_t n;
    char perso_aid[40];
    char *perso_body; /* {"data":"HEX"}, or NULL */
    pthread_mutex_t lock;
    size_t next, registered;
    seam_err failure;
} registration;

static size_t discard(char *p, size_t size, size_t n, void *ctx) {
    (void)p;
    (void)ctx;
    return size * n;
}

/* PUTs body to url for card cin; SEAM_OK for 2xx and 409. */
static seam_err put(CURL *curl, const char *cin, const char *url, const char *body) {
    long status = 0;
    CURLcode rc;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "seam fleet: register %s: %s\n", cin, curl_easy_strerror(rc));
        return SEAM_ERR_TERMINAL_UNREACHABLE;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if ((status >= 200 && status < 300) || status == 409)
        return SEAM_OK;
    fprintf(stderr, "seam fleet: register %s: the server answered %ld\n", cin, status);
    return SEAM_ERR_TERMINAL_REFUSED;
}

/* Puts one card, and its personalization data when asked. */
static seam_err put_card(registration *r, CURL *curl, const char *cin) {
    char url[700];
    seam_err e;
    snprintf(url, sizeof url, "%s/api/cards/%s", r->origin, cin);
    e = put(curl, cin, url, CARD_BODY);
    if (!e && r->perso_body) {
        snprintf(url, sizeof url, "%s/api/cards/%s/personalization/%s", r->origin, cin,
                 r->perso_aid);
        e = put(curl, cin, url, r->perso_body);
    }
    return e;
}

static void *register_work(void *arg) {
    registration *r = arg;
    struct curl_slist *headers = NULL;
    CURL *curl = curl_easy_init();
    seam_err e = curl ? SEAM_OK : SEAM_ERR_NOMEM;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, r->auth);
    if (!e && !headers)
        e = SEAM_ERR_NOMEM;
    if (!e) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    for (;;) {
        size_t index;
        pthread_mutex_lock(&r->lock);
        if (e && !r->failure)
            r->failure = e;
        index = r->next++;
        if (r->failure || index >= r->n) {
            pthread_mutex_unlock(&r->lock);
            break;
        }
        pthread_mutex_unlock(&r->lock);
        e = put_card(r, curl, r->cins[index]);
        if (!e) {
            pthread_mutex_lock(&r->lock);
            r->registered++;
            pthread_mutex_unlock(&r->lock);
        }
    }
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

seam_err fleet_register(const char *server, const char *token,
                        const char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t n, unsigned threads,
                        const char *perso, size_t *registered) {
    registration r = {.cins = cins, .n = n};
    const char *authority;
    pthread_t *pool;
    unsigned started = 0;
    size_t len;
    *registered = 0;
    if (strncasecmp(server, "http://", 7) == 0)
        authority = server + 7;
    else if (strncasecmp(server, "https://", 8) == 0)
        authority = server + 8;
    else
        return SEAM_ERR_ARG;
    len = (size_t)(authority - server) + strcspn(authority, "/");
    if (len >= sizeof r.origin || strlen(token) + 24 > sizeof r.auth)
        return SEAM_ERR_ARG;
    memcpy(r.origin, server, len);
    r.origin[len] = 0;
    snprintf(r.auth, sizeof r.auth, "Authorization: Bearer %s", token);
    if (perso) {
        const char *colon = strchr(perso, ':');
        size_t aid_len = colon ? (size_t)(colon - perso) : 0;
        if (!colon || aid_len == 0 || aid_len >= sizeof r.perso_aid || strlen(colon + 1) > 65536)
            return SEAM_ERR_ARG;
        memcpy(r.perso_aid, perso, aid_len);
        r.perso_aid[aid_len] = 0;
        r.perso_body = malloc(strlen(colon + 1) + 16);
        if (!r.perso_body)
            return SEAM_ERR_NOMEM;
        sprintf(r.perso_body, "{\"data\":\"%s\"}", colon + 1);
    }
    pool = calloc(threads ? threads : 1, sizeof *pool);
    if (!pool || pthread_mutex_init(&r.lock, NULL) != 0) {
        free(pool);
        free(r.perso_body);
        return SEAM_ERR_NOMEM;
    }
    for (unsigned i = 0; i < (threads ? threads : 1); i++)
        if (pthread_create(&pool[started], NULL, register_work, &r) == 0)
            started++;
    for (unsigned i = 0; i < started; i++)
        pthread_join(pool[i], NULL);
    pthread_mutex_destroy(&r.lock);
    free(pool);
    seam_secure_zero(r.auth, sizeof r.auth);
    free(r.perso_body);
    *registered = r.registered;
    if (!started)
        return SEAM_ERR_NOMEM;
    return r.failure;
}
