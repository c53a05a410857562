/*
 * The terminal's relay (include/seam/terminal.h) between an in-process card and
 * a scripted admin-protocol peer (scripted_peer.h: a real HTTP server that
 * serves fixed command scripts and judges nothing). These tests show the relay
 * mechanics only: what the card really answered reaches the peer, the headers
 * and content types sent, retries after 503 and refused connections (counted
 * attempts, no timing), 204 ending the session, the bytes recorded, and the
 * refusals (oversize, wrong type, foreign Next-URI, malformed script) that end
 * a session with nothing sent to the card. The end-to-end test with
 * `seam server` is the lead's, after merging.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "scripted_peer.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/link.h"
#include "seam/terminal.h"
#include "seam/util.h"

/* A link that counts the APDUs reaching the card, around the in-process one. */
typedef struct {
    seam_gp_link inner;
    unsigned transmits;
} counting;

static seam_err count_power_on(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    return seam_gp_link_power_on(&((counting *)ctx)->inner, atr, size, len);
}
static seam_err count_power_off(void *ctx) {
    return seam_gp_link_power_off(&((counting *)ctx)->inner);
}
static seam_err count_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp,
                               size_t size, size_t *resp_len) {
    counting *c = ctx;
    c->transmits++;
    return seam_gp_link_transmit(&c->inner, cmd, len, resp, size, resp_len);
}
static void count_close(void *ctx) {
    (void)ctx;
}
static const seam_gp_link_ops counting_ops = {.power_on = count_power_on,
                                              .reset = count_power_on,
                                              .power_off = count_power_off,
                                              .transmit = count_transmit,
                                              .close = count_close};

typedef struct {
    counting counted;
    seam_gp_link relay_link; /* what the terminal is given: counts, then the card */
    char dir[64];
    char image[128];
    char state_path[128];
    seam_card *card;
    seam_gp_link link;
    seam_terminal_state *st;
    scripted_peer peer;
    char url[64];
} fixture;

static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
static const uint8_t get_status_isd[] = {0x80, 0xF2, 0x80, 0x00, 0x02, 0x4F, 0x00, 0x00};

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/seam-terminal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->image, sizeof f->image, "%s/card.db", f->dir);
    snprintf(f->state_path, sizeof f->state_path, "%s/terminal.db", f->dir);
    assert_int_equal(seam_card_create(f->image, 0, &f->card), SEAM_OK);
    assert_int_equal(seam_link_card(f->card, &f->link), SEAM_OK);
    f->counted.inner = f->link;
    f->relay_link = (seam_gp_link){&counting_ops, &f->counted, "counting"};
    assert_int_equal(seam_terminal_state_open(f->state_path, &f->st), SEAM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char path[160];
    peer_stop(&f->peer);
    seam_terminal_state_close(f->st);
    seam_gp_link_close(&f->link);
    seam_card_close(f->card);
    assert_int_equal(seam_card_remove(f->image), SEAM_OK);
    for (int k = 0; k < 3; k++) {
        static const char *const suffix[] = {"", "-wal", "-shm"};
        snprintf(path, sizeof path, "%s%s", f->state_path, suffix[k]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void start_peer(fixture *f, const peer_answer *answers, size_t n) {
    assert_int_equal(peer_start(&f->peer, answers, n), 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", f->peer.port);
}

/* A command script of the given C-APDUs (NULL-ended pairs of pointer and length). */
static size_t script(uint8_t *out, size_t cap, size_t n, const uint8_t *const *cmds,
                     const size_t *lens) {
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, out, cap, &len), SEAM_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, cmds[i], lens[i], out, cap, &len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(out, cap, &len), SEAM_OK);
    return len;
}

static seam_terminal_options quick(const fixture *f) {
    seam_terminal_options o = {.server = f->url,
                               .backoff_min_ms = 1,
                               .backoff_max_ms = 4,
                               .max_attempts = 5,
                               .timeout_ms = 10000};
    return o;
}

/* The host challenge of the peer's INITIALIZE UPDATE, and the channel it opens. */
static const uint8_t host_challenge[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t test_key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                     0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};
static const uint8_t initialize_update[] = {0x80, 0x50, 0x00, 0x00, 0x08, 1, 2,
                                            3,    4,    5,    6,    7,    8, 0x00};

/* The peer's second script, from the card's answer to INITIALIZE UPDATE (the third
   R-APDU of the last request): EXTERNAL AUTHENTICATE at level 00, then GET STATUS of the
   ISD in clear. The keys stay with the peer: the terminal only relays. */
static size_t second_script(const scripted_peer *p, uint8_t *out, size_t cap) {
    const peer_request *last = &p->requests[p->request_count - 1];
    seam_gp_rscript_reader rd;
    seam_crypto_scp03_host host;
    uint8_t ext[21];
    const uint8_t *item = NULL;
    size_t item_len = 0, len = 0;
    if (seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, last->body, last->body_len))
        return 0;
    for (int i = 0; i < 3; i++)
        if (seam_gp_rscript_next(&rd, &item, &item_len))
            return 0;
    if (item_len < 2 || seam_crypto_scp03_host_open(&host, test_key, test_key, 16, host_challenge,
                                                    item, item_len - 2, 0x00, 0, ext))
        return 0;
    if (seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, out, cap, &len) ||
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, ext, sizeof ext, out, cap, &len) ||
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, get_status_isd, sizeof get_status_isd, out, cap,
                            &len) ||
        seam_gp_rscript_end(out, cap, &len))
        return 0;
    seam_secure_zero(&host, sizeof host);
    return len;
}

/* The R-APDUs of request i of the peer, decoded with the codec, into items[0..*n). */
static void responses(const fixture *f, size_t i, const uint8_t **items, size_t *lens, size_t *n,
                      size_t max) {
    seam_gp_rscript_reader rd;
    seam_err e;
    *n = 0;
    assert_int_equal(seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_RESPONSES, f->peer.requests[i].body,
                                          f->peer.requests[i].body_len),
                     SEAM_OK);
    while ((e = seam_gp_rscript_next(&rd, &items[*n], &lens[*n])) == SEAM_OK)
        assert_true(++*n < max);
    assert_int_equal(e, SEAM_ERR_NOT_FOUND);
}

static uint16_t sw_of(const uint8_t *r, size_t len) {
    assert_true(len >= 2);
    return (uint16_t)(r[len - 2] << 8 | r[len - 1]);
}

/* The relay runs each C-APDU on the card and returns exactly what the card answered, with
   the admin headers and content types; a channel opened by the peer (INITIALIZE UPDATE,
   EXTERNAL AUTHENTICATE) passes through the terminal, which holds no key; GET STATUS in
   clear then lists the ISD; 204 ends the session; the bytes are recorded. */
static void test_relay_against_scripted_peer(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {select_isd, get_cin, initialize_update};
    const size_t lens[] = {sizeof select_isd, sizeof get_cin, sizeof initialize_update};
    /* the ISD's AID with its length, as GET STATUS lists it */
    static const uint8_t isd_aid_tlv[] = {0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    uint8_t body[256];
    size_t body_len = script(body, sizeof body, 3, cmds, lens);
    peer_answer answers[] = {
        {200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/s1", body, body_len, NULL},
        {200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/s1/2", NULL, 0, second_script},
        {204, NULL, NULL, NULL, 0, NULL},
    };
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    seam_terminal_card card;
    const uint8_t *items[8];
    size_t item_lens[8], n;
    char from[64];

    start_peer(f, answers, 3);
    o = quick(f);
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), SEAM_OK);
    assert_string_equal(r.outcome, "done");
    assert_int_equal(r.scripts, 2);
    assert_int_equal(r.commands, 5);
    assert_int_equal(f->counted.transmits, 2 + 5);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.retries, 0);
    assert_int_equal(f->peer.request_count, 3);

    /* The opening POST: the admin URI, empty, with the protocol and the card's CIN. */
    snprintf(from, sizeof from, "//se-id/cin/%s", r.cin);
    assert_int_equal(strlen(r.cin), 16); /* the 8-byte CIN of a new card */
    assert_string_equal(f->peer.requests[0].path, "/admin");
    assert_string_equal(f->peer.requests[0].protocol, SEAM_TERMINAL_PROTOCOL);
    assert_string_equal(f->peer.requests[0].from, from);
    assert_int_equal(f->peer.requests[0].body_len, 0);

    /* The responses: to each Next-URI, typed, one R-APDU per C-APDU as the card answered. */
    for (size_t i = 1; i < 3; i++) {
        assert_string_equal(f->peer.requests[i].protocol, SEAM_TERMINAL_PROTOCOL);
        assert_string_equal(f->peer.requests[i].from, from);
        assert_string_equal(f->peer.requests[i].content_type, SEAM_TERMINAL_CT_RESPONSES);
    }
    assert_string_equal(f->peer.requests[1].path, "/admin/session/s1");
    assert_string_equal(f->peer.requests[2].path, "/admin/session/s1/2");
    responses(f, 1, items, item_lens, &n, 8);
    assert_int_equal(n, 3);
    assert_int_equal(sw_of(items[0], item_lens[0]), 0x9000); /* SELECT ISD */
    assert_int_equal(item_lens[1], 2 + 8 + 2);               /* 45 08 CIN 90 00 */
    assert_int_equal(items[1][0], 0x45);
    for (size_t i = 0; i < 8; i++) {
        char hex[3];
        snprintf(hex, sizeof hex, "%02X", items[1][2 + i]);
        assert_memory_equal(hex, r.cin + 2 * i, 2);
    }
    assert_int_equal(sw_of(items[1], item_lens[1]), 0x9000);
    assert_int_equal(sw_of(items[2], item_lens[2]), 0x9000); /* INITIALIZE UPDATE */
    assert_int_equal(item_lens[2], 32 + 2);
    responses(f, 2, items, item_lens, &n, 8);
    assert_int_equal(n, 2);
    assert_int_equal(sw_of(items[0], item_lens[0]), 0x9000); /* EXTERNAL AUTHENTICATE */
    assert_int_equal(sw_of(items[1], item_lens[1]), 0x9000); /* GET STATUS in clear */
    assert_true(item_lens[1] > sizeof isd_aid_tlv);
    assert_non_null(memmem(items[1], item_lens[1], isd_aid_tlv, sizeof isd_aid_tlv));

    /* The bytes: scripts exactly, and on the wire (headers too) in the local state. */
    assert_int_equal(r.script_up, f->peer.requests[1].body_len + f->peer.requests[2].body_len);
    assert_true(r.script_down > body_len);
    assert_true(r.bytes_up > r.script_up);
    assert_true(r.bytes_down > r.script_down);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, "done");
    assert_true(s.end > 0);
    assert_int_equal(s.scripts, 2);
    assert_int_equal(s.commands, 5);
    assert_int_equal(s.bytes_up, r.bytes_up);
    assert_int_equal(s.bytes_down, r.bytes_down);
    assert_int_equal(seam_terminal_state_card_get(f->st, r.cin, &card), SEAM_OK);
    assert_int_equal(card.sessions, 1);
    assert_int_equal(card.bytes_up, r.bytes_up);
    assert_int_equal(card.bytes_down, r.bytes_down);
}

/* 503 twice, then a script: the terminal retries the same request and carries on. */
static void test_relay_retries_after_503(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {select_isd};
    const size_t lens[] = {sizeof select_isd};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 1, cmds, lens);
    peer_answer answers[] = {
        {503, NULL, NULL, NULL, 0, NULL},
        {503, NULL, NULL, NULL, 0, NULL},
        {200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/s2", body, body_len, NULL},
        {503, NULL, NULL, NULL, 0, NULL},
        {204, NULL, NULL, NULL, 0, NULL},
    };
    seam_terminal_options o;
    seam_terminal_result r;
    start_peer(f, answers, 5);
    o = quick(f);
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), SEAM_OK);
    assert_string_equal(r.outcome, "done");
    assert_int_equal(r.attempts, 5);
    assert_int_equal(r.retries, 3);
    assert_int_equal(f->peer.request_count, 5);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(f->peer.requests[i].path, "/admin");
        assert_int_equal(f->peer.requests[i].body_len, 0);
    }
    /* the response POST after the 503 is the same request again */
    assert_string_equal(f->peer.requests[3].path, "/admin/session/s2");
    assert_string_equal(f->peer.requests[4].path, "/admin/session/s2");
    assert_int_equal(f->peer.requests[3].body_len, f->peer.requests[4].body_len);
    assert_memory_equal(f->peer.requests[3].body, f->peer.requests[4].body,
                        f->peer.requests[3].body_len);
    assert_int_equal(r.commands, 1); /* the script ran once */
}

/* Always 503: the terminal gives up after max_attempts and records "unreachable". */
static void test_relay_gives_up_on_503_after_max_attempts(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{503, NULL, NULL, NULL, 0, NULL},
                             {503, NULL, NULL, NULL, 0, NULL},
                             {503, NULL, NULL, NULL, 0, NULL},
                             {503, NULL, NULL, NULL, 0, NULL}};
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    start_peer(f, answers, 4);
    o = quick(f);
    o.max_attempts = 3;
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r),
                     SEAM_ERR_TERMINAL_UNREACHABLE);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(f->peer.request_count, 3);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, "unreachable");
    assert_true(s.end > 0);
}

/* Nobody listens: connection refused is retried (counted), then given up. */
static void test_relay_backs_off_when_connection_refused(void **state) {
    fixture *f = *state;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t alen = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    close(fd); /* the port was free a moment ago and nothing listens on it */
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/admin", ntohs(addr.sin_port));
    o = quick(f);
    o.max_attempts = 4;
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r),
                     SEAM_ERR_TERMINAL_UNREACHABLE);
    assert_int_equal(r.attempts, 4);
    assert_int_equal(r.retries, 3);
    assert_int_equal(r.last_status, 0);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, "unreachable");
}

/* Runs one session against answers and checks that it ended with err and outcome,
   that nothing of the script reached the card, and that the session is closed. */
static void refused_case(fixture *f, const peer_answer *answers, size_t n, size_t max_script,
                         seam_err err, const char *outcome) {
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    start_peer(f, answers, n);
    o = quick(f);
    o.max_script = max_script;
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), err);
    assert_string_equal(r.outcome, outcome);
    assert_int_equal(r.commands, 0);
    assert_int_equal(f->counted.transmits, 2); /* SELECT ISD and GET DATA CIN only */
    assert_int_equal(r.attempts, 1);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, outcome);
    assert_true(s.end > 0);
    assert_int_equal(s.commands, 0);
}

/* A script longer than the bound is refused as it arrives; the session ends cleanly. */
static void test_relay_refuses_oversized_script(void **state) {
    fixture *f = *state;
    static uint8_t big[4096];
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, big, sizeof big, &len),
                     SEAM_OK);
    while (len + 16 < 2000)
        assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, select_isd, sizeof select_isd,
                                             big, sizeof big, &len),
                         SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(big, sizeof big, &len), SEAM_OK);
    peer_answer answers[] = {{200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/x", big, len, NULL}};
    refused_case(f, answers, 1, 1024, SEAM_ERR_TERMINAL_OVERSIZE, "oversize");
}

/* The wrong content type: nothing runs. */
static void test_relay_refuses_wrong_content_type(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {get_cin};
    const size_t lens[] = {sizeof get_cin};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 1, cmds, lens);
    peer_answer answers[] = {
        {200, "application/octet-stream", "/admin/session/x", body, body_len, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_PROTOCOL, "protocol");
}

/* A Next-URI on another host (or a missing one): the terminal never follows it. */
static void test_relay_refuses_foreign_next_uri(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {get_cin};
    const size_t lens[] = {sizeof get_cin};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 1, cmds, lens);
    peer_answer answers[] = {
        {200, SEAM_TERMINAL_CT_COMMANDS, "http://attacker.example/collect", body, body_len, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_PROTOCOL, "protocol");
}

static void test_relay_refuses_missing_next_uri(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {get_cin};
    const size_t lens[] = {sizeof get_cin};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 1, cmds, lens);
    peer_answer answers[] = {{200, SEAM_TERMINAL_CT_COMMANDS, NULL, body, body_len, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_PROTOCOL, "protocol");
}

/* A script cut short: the codec refuses it and no command of it reaches the card, not
   even those before the cut (X5). */
static void test_relay_runs_nothing_of_a_truncated_script_X5(void **state) {
    fixture *f = *state;
    const uint8_t *cmds[] = {select_isd, get_cin};
    const size_t lens[] = {sizeof select_isd, sizeof get_cin};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 2, cmds, lens);
    peer_answer answers[] = {
        {200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/x", body, body_len - 4, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_PROTOCOL, "protocol");
}

/* A 4xx ends the session as refused, a 409 (replay) as conflict. */
static void test_relay_ends_on_4xx(void **state) {
    fixture *f = *state;
    static const uint8_t json[] = "{\"error\":{\"code\":\"unknown_card\",\"message\":\"no\"}}";
    peer_answer answers[] = {{404, "application/json", NULL, json, sizeof json - 1, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_REFUSED, "refused");
}

static void test_relay_ends_on_409_conflict(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{409, "application/json", NULL, NULL, 0, NULL}};
    refused_case(f, answers, 1, 0, SEAM_ERR_TERMINAL_REFUSED, "conflict");
}

/* A session left unfinished (the terminal was killed) is closed as interrupted when the
   card comes back, and a new session opens from the start: the server judges. */
static void test_relay_resumes_after_restart(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}};
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    int64_t old;
    start_peer(f, answers, 1);
    o = quick(f);
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), SEAM_OK);
    assert_false(r.resumed);
    assert_int_equal(seam_terminal_state_session_begin(f->st, r.cin, 1000, &old), SEAM_OK);
    seam_terminal_state_close(f->st); /* the terminal "restarts" */
    assert_int_equal(seam_terminal_state_open(f->state_path, &f->st), SEAM_OK);
    peer_stop(&f->peer);
    start_peer(f, answers, 1);
    o = quick(f);
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), SEAM_OK);
    assert_true(r.resumed);
    assert_true(r.session_id > old);
    assert_string_equal(f->peer.requests[0].path, "/admin"); /* opened anew, empty */
    assert_int_equal(f->peer.requests[0].body_len, 0);
    assert_int_equal(seam_terminal_state_session_get(f->st, old, &s), SEAM_OK);
    assert_string_equal(s.outcome, "interrupted");
}

/* --card-id names the card when given. */
static void test_relay_card_id_names_the_card(void **state) {
    fixture *f = *state;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}};
    seam_terminal_options o;
    seam_terminal_result r;
    start_peer(f, answers, 1);
    o = quick(f);
    o.card_id = "0102a0ff";
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r), SEAM_OK);
    assert_string_equal(r.cin, "0102A0FF");
    assert_string_equal(f->peer.requests[0].from, "//se-id/cin/0102A0FF");
}

/* Responses that would exceed the bound: the commands ran, nothing is posted, the session
   ends as oversize (the server judges the card's state in the next session). */
static void test_relay_refuses_oversized_response_script(void **state) {
    fixture *f = *state;
    static const uint8_t get_cplc[] = {0x80, 0xCA, 0x9F, 0x7F, 0x00};
    const uint8_t *cmds[] = {get_cplc, get_cplc, get_cplc};
    const size_t lens[] = {sizeof get_cplc, sizeof get_cplc, sizeof get_cplc};
    uint8_t body[64];
    size_t body_len = script(body, sizeof body, 3, cmds, lens);
    peer_answer answers[] = {
        {200, SEAM_TERMINAL_CT_COMMANDS, "/admin/session/x", body, body_len, NULL}};
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    start_peer(f, answers, 1);
    o = quick(f);
    o.max_script = 128; /* the script fits, three 47-byte answers do not */
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r),
                     SEAM_ERR_TERMINAL_OVERSIZE);
    assert_string_equal(r.outcome, "oversize");
    assert_int_equal(f->peer.request_count, 1);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, "oversize");
    assert_true(s.end > 0);
}

/* The stop flag (SIGTERM in seam terminal run) ends a session as stopped. */
static void test_relay_stops_on_request(void **state) {
    fixture *f = *state;
    static volatile sig_atomic_t stop = 1;
    peer_answer answers[] = {{204, NULL, NULL, NULL, 0, NULL}};
    seam_terminal_options o;
    seam_terminal_result r;
    seam_terminal_session s;
    start_peer(f, answers, 1);
    o = quick(f);
    o.stop = &stop;
    assert_int_equal(seam_terminal_run_session(&f->relay_link, f->st, &o, &r),
                     SEAM_ERR_TERMINAL_STOPPED);
    assert_int_equal(f->peer.request_count, 0);
    assert_int_equal(seam_terminal_state_session_get(f->st, r.session_id, &s), SEAM_OK);
    assert_string_equal(s.outcome, "stopped");
}

/* The backoff doubles from min to the cap, each wait in the upper half of its step. */
static void test_backoff_doubles_capped_with_jitter(void **state) {
    uint64_t rng = 12345;
    bool varied = false;
    unsigned first = 0;
    (void)state;
    for (unsigned attempt = 1; attempt <= 12; attempt++) {
        unsigned cap = attempt >= 8 ? 6400 : 100u << (attempt - 1);
        if (cap > 6400)
            cap = 6400;
        for (int k = 0; k < 50; k++) {
            unsigned ms = seam_terminal_backoff_ms(attempt, 100, 6400, &rng);
            assert_true(ms >= cap - cap / 2);
            assert_true(ms <= cap);
            if (attempt == 12 && k == 0)
                first = ms;
            else if (attempt == 12 && ms != first)
                varied = true;
        }
    }
    assert_true(varied);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relay_against_scripted_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_retries_after_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_gives_up_on_503_after_max_attempts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relay_backs_off_when_connection_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relay_refuses_oversized_script, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_refuses_wrong_content_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_refuses_foreign_next_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_refuses_missing_next_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_runs_nothing_of_a_truncated_script_X5, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relay_ends_on_4xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_ends_on_409_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_resumes_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_card_id_names_the_card, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_refuses_oversized_response_script, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relay_stops_on_request, setup, teardown),
        cmocka_unit_test(test_backoff_doubles_capped_with_jitter),
    };
    assert_int_equal(seam_terminal_global_init(), SEAM_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
