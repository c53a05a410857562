/*
 * The OMA DS session engines (include/seam/syncml.h) against each other, an
 * in-memory store on each side (memstore.h): every sync type, the anchor
 * mismatch and its slow sync, multi-message packages under a small
 * MaxMsgSize, basic and MD5 authentication, malformed messages, store
 * failures, and sessions interrupted at every message (S6, X6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MS_RECORDS 1024 /* 300 tiny records each way, 600 on each side */
#include "memstore.h"

/* The operations one side sent and the statuses the other answered them with, in order. */
#define AUDIT_MAX 4096
typedef struct {
    unsigned op_msg[AUDIT_MAX], op_cmd[AUDIT_MAX], st_msg[AUDIT_MAX], st_cmd[AUDIT_MAX];
    size_t n_ops, n_statuses;
} audit;

typedef struct {
    memstore client, server;
    seam_syncml_config ccfg, scfg;
    seam_syncml_report crep, srep;
    seam_syncml_state cstate, sstate;
    unsigned messages;   /* messages sent, both directions */
    size_t largest;      /* bytes of the largest message */
    size_t bytes;        /* bytes of all messages, both directions */
    size_t from[2];      /* bytes of the largest message from the client [0], the server [1] */
    audit ops[2];        /* [0]: the client's operations, [1]: the server's */
    unsigned last_id[2]; /* MsgID of the last message from the client [0], the server [1] */
    unsigned late[2];    /* statuses each side sent after the message answering their command */
} world;

static void world_init(world *w) {
    memset(w, 0, sizeof *w);
    ms_init(&w->client, 'L');
    ms_init(&w->server, 'G');
    w->ccfg = (seam_syncml_config){.db = "./apps",
                                   .device_id = "seam-t-1",
                                   .server_uri = "http://127.0.0.1/sync",
                                   .type = SEAM_SYNCML_TWO_WAY,
                                   .format = SEAM_SYNCML_XML};
    w->scfg = (seam_syncml_config){
        .db = "./apps", .device_id = "http://127.0.0.1/sync", .format = SEAM_SYNCML_XML};
}

/* Notes the operations and the operation statuses of a message from side `from` (0 client). */
static void note(world *w, int from, const uint8_t *bytes, size_t len) {
    seam_syncml_msg m;
    w->messages++;
    w->bytes += len;
    w->largest = len > w->largest ? len : w->largest;
    w->from[from] = len > w->from[from] ? len : w->from[from];
    if (seam_syncml_decode(bytes, len, w->ccfg.format, &m) != SEAM_OK)
        return; /* the engines' own answer decides what happens */
    audit *mine = &w->ops[from], *theirs = &w->ops[1 - from];
    for (size_t i = 0; i < m.n_cmds; i++) {
        const seam_syncml_cmd *c = &m.cmds[i];
        for (size_t j = 0; c->kind == SEAM_SYNCML_CMD_SYNC && j < c->n_ops; j++)
            if (mine->n_ops < AUDIT_MAX) {
                mine->op_msg[mine->n_ops] = m.hdr.msg_id;
                mine->op_cmd[mine->n_ops++] = c->ops[j].cmd_id;
            }
        bool op_status = c->kind == SEAM_SYNCML_CMD_STATUS &&
                         (strcmp(c->cmd_name, "Add") == 0 || strcmp(c->cmd_name, "Replace") == 0 ||
                          strcmp(c->cmd_name, "Delete") == 0);
        /* A status for a message older than the peer's last: it waited for room. */
        w->late[from] += c->kind == SEAM_SYNCML_CMD_STATUS && c->msg_ref < w->last_id[1 - from];
        if (op_status && theirs->n_statuses < AUDIT_MAX) {
            theirs->st_msg[theirs->n_statuses] = c->msg_ref;
            theirs->st_cmd[theirs->n_statuses++] = c->cmd_ref;
        }
    }
    w->last_id[from] = m.hdr.msg_id;
    seam_syncml_msg_free(&m);
}

/* Every operation of the session got exactly one status, in the order they were sent. */
static void each_op_answered_once_in_order(const world *w) {
    for (int side = 0; side < 2; side++) {
        const audit *a = &w->ops[side];
        assert_true(a->n_ops < AUDIT_MAX);
        assert_int_equal(a->n_statuses, a->n_ops);
        for (size_t i = 0; i < a->n_ops; i++) {
            assert_int_equal(a->st_msg[i], a->op_msg[i]);
            assert_int_equal(a->st_cmd[i], a->op_cmd[i]);
        }
    }
}

/* Runs one session; stops after `cut` messages (0 = never) as if the link died. */
static void session(world *w, unsigned cut) {
    seam_syncml_store cs = ms_store(&w->client), ss = ms_store(&w->server);
    seam_syncml_client *c = seam_syncml_client_new(&cs, &w->ccfg);
    seam_syncml_server *s = seam_syncml_server_new(&ss, &w->scfg);
    assert_non_null(c);
    assert_non_null(s);
    uint8_t *msg = NULL;
    size_t len = 0;
    w->messages = 0;
    w->largest = w->bytes = w->from[0] = w->from[1] = 0;
    memset(w->last_id, 0, sizeof w->last_id);
    memset(w->late, 0, sizeof w->late);
    memset(w->ops, 0, sizeof w->ops);
    w->cstate = seam_syncml_client_start(c, &msg, &len);
    w->sstate = SEAM_SYNCML_CONTINUE;
    while (w->cstate == SEAM_SYNCML_CONTINUE && (cut == 0 || w->messages < cut)) {
        note(w, 0, msg, len);
        uint8_t *answer = NULL;
        size_t answer_len = 0;
        w->sstate = seam_syncml_server_step(s, msg, len, &answer, &answer_len);
        seam_syncml_bytes_free(msg);
        msg = NULL;
        if (!answer || (cut && w->messages >= cut)) {
            seam_syncml_bytes_free(answer);
            break;
        }
        note(w, 1, answer, answer_len);
        w->cstate = seam_syncml_client_step(c, answer, answer_len, &msg, &len);
        seam_syncml_bytes_free(answer);
        if (w->sstate != SEAM_SYNCML_CONTINUE)
            break;
    }
    seam_syncml_bytes_free(msg);
    w->crep = *seam_syncml_client_report(c);
    w->srep = *seam_syncml_server_report(s);
    seam_syncml_client_free(c);
    seam_syncml_server_free(s);
}

static void synced(world *w) {
    session(w, 0);
    if (w->cstate != SEAM_SYNCML_DONE || w->sstate != SEAM_SYNCML_DONE)
        fail_msg("client %d (status %u, %s), server %d (status %u, %s)", w->cstate, w->crep.status,
                 seam_err_str(w->crep.err), w->sstate, w->srep.status, seam_err_str(w->srep.err));
    assert_false(w->client.in_session);
    assert_false(w->server.in_session);
}

/* Both sides: first a slow sync (no anchors), then the edits below, then two-way. */
static void first_sync(world *w) {
    ms_put(&w->client, "L100", "name: purse\nversion: 1.0\n");
    ms_put(&w->client, "L101", "name: game\nversion: 2\n");
    ms_put(&w->server, "G100", "name: loyalty\nversion: 3\n");
    synced(w);
    assert_int_equal(w->crep.type, SEAM_SYNCML_SLOW);
    assert_int_equal(w->client.now.n, 3);
    assert_true(ms_same_records(&w->client, &w->server));
}

static void two_way_exchanges_adds_replaces_deletes_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    first_sync(&w);
    ms_put(&w.client, "L100", "name: purse\nversion: 1.1\n");
    ms_del(&w.client, "L101");
    ms_put(&w.client, "L102", "name: maps\nversion: 9\n");
    ms_put(&w.server, "G100", "name: loyalty\nversion: 4\n");
    ms_put(&w.server, "G200", "name: ringtone\nvalue: bells\n");
    synced(&w);
    assert_int_equal(w.crep.type, SEAM_SYNCML_TWO_WAY);
    assert_int_equal(w.crep.sent, 3);
    assert_int_equal(w.crep.received, 2);
    assert_int_equal(w.client.now.n, 4);
    assert_true(ms_same_records(&w.client, &w.server));
    assert_true(ms_has(&w.server, "name: purse\nversion: 1.1\n"));
    assert_false(ms_has(&w.server, "name: game\nversion: 2\n"));
    assert_true(ms_has(&w.client, "name: loyalty\nversion: 4\n"));
    /* Nothing left to say: a third sync sends and receives nothing. */
    synced(&w);
    assert_int_equal(w.crep.sent + w.crep.received, 0);
    assert_true(ms_same_records(&w.client, &w.server));
}

static void wbxml_sessions_work_the_same_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    w.ccfg.format = w.scfg.format = SEAM_SYNCML_WBXML;
    first_sync(&w);
    ms_put(&w.server, "G300", "language: fr\n");
    synced(&w);
    assert_true(ms_has(&w.client, "language: fr\n"));
}

static void one_way_and_refresh_types_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    first_sync(&w);
    /* 202 one-way from client: the server takes the client's change, keeps its own. */
    ms_put(&w.client, "L500", "c: 1\n");
    ms_put(&w.server, "G500", "s: 1\n");
    w.ccfg.type = SEAM_SYNCML_ONE_WAY_FROM_CLIENT;
    synced(&w);
    assert_int_equal(w.srep.type, SEAM_SYNCML_ONE_WAY_FROM_CLIENT);
    assert_true(ms_has(&w.server, "c: 1\n"));
    assert_false(ms_has(&w.client, "s: 1\n"));
    /* 204 one-way from server: now the client gets the server's (still pending) change. */
    ms_put(&w.client, "L501", "c: 2\n");
    w.ccfg.type = SEAM_SYNCML_ONE_WAY_FROM_SERVER;
    synced(&w);
    assert_true(ms_has(&w.client, "s: 1\n"));
    assert_false(ms_has(&w.server, "c: 2\n"));
    /* 203 refresh from client: the server's data becomes exactly the client's. */
    ms_put(&w.server, "G501", "s: 2\n");
    w.ccfg.type = SEAM_SYNCML_REFRESH_FROM_CLIENT;
    synced(&w);
    assert_true(ms_same_records(&w.client, &w.server));
    assert_false(ms_has(&w.server, "s: 2\n"));
    /* 205 refresh from server: the client's data becomes exactly the server's. */
    ms_put(&w.client, "L502", "c: 3\n");
    ms_put(&w.server, "G502", "s: 3\n");
    w.ccfg.type = SEAM_SYNCML_REFRESH_FROM_SERVER;
    synced(&w);
    assert_true(ms_same_records(&w.client, &w.server));
    assert_false(ms_has(&w.client, "c: 3\n"));
    assert_true(ms_has(&w.client, "s: 3\n"));
    /* 201 asked by the client: nothing duplicated. */
    size_t n = w.client.now.n;
    w.ccfg.type = SEAM_SYNCML_SLOW;
    synced(&w);
    assert_int_equal(w.client.now.n, n);
    assert_true(ms_same_records(&w.client, &w.server));
}

static void anchor_mismatch_falls_back_to_slow_sync_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    first_sync(&w);
    /* The client lost its anchor state (restored from a backup). */
    snprintf(w.client.now.anchor, sizeof w.client.now.anchor, "L999");
    ms_put(&w.client, "L100", "name: purse\nversion: 1.2\n");
    synced(&w);
    assert_int_equal(w.crep.type, SEAM_SYNCML_SLOW);
    assert_int_equal(w.srep.type, SEAM_SYNCML_SLOW);
    assert_int_equal(w.client.now.n, 3); /* nothing duplicated */
    assert_true(ms_same_records(&w.client, &w.server));
    assert_true(ms_has(&w.server, "name: purse\nversion: 1.2\n"));
    /* And the next one is incremental again. */
    synced(&w);
    assert_int_equal(w.crep.type, SEAM_SYNCML_TWO_WAY);
}

static void multi_message_packages_honour_max_msg_size_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    w.ccfg.max_msg_size = w.scfg.max_msg_size = SEAM_SYNCML_MIN_MSG_SIZE;
    char key[16], content[128];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "L%d", i);
        snprintf(content, sizeof content, "name: client app %d\nversion: %d.0\nsize: %d\n", i, i,
                 1000 * i);
        ms_put(&w.client, key, content);
        snprintf(key, sizeof key, "G%d", i);
        snprintf(content, sizeof content, "name: server app %d\nversion: %d.0\nsize: %d\n", i, i,
                 1000 * i);
        ms_put(&w.server, key, content);
    }
    synced(&w);
    assert_int_equal(w.client.now.n, 80);
    assert_true(ms_same_records(&w.client, &w.server));
    assert_true(w.largest <= SEAM_SYNCML_MIN_MSG_SIZE);
    assert_true(w.messages > 10); /* both packages took several messages */
    assert_int_equal(w.crep.sent, 40);
    assert_int_equal(w.srep.sent, 40);
    /* The same with WBXML. */
    world_init(&w);
    w.ccfg.format = w.scfg.format = SEAM_SYNCML_WBXML;
    w.ccfg.max_msg_size = w.scfg.max_msg_size = SEAM_SYNCML_MIN_MSG_SIZE;
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "L%d", i);
        snprintf(content, sizeof content, "name: app %d\n", i);
        ms_put(&w.client, key, content);
    }
    synced(&w);
    assert_true(ms_same_records(&w.client, &w.server));
    assert_true(w.largest <= SEAM_SYNCML_MIN_MSG_SIZE);
}

/* A session that must end with both sides the same, each message within its receiver's
   MaxMsgSize, every operation answered once and in order. */
static void synced_within(world *w) {
    synced(w);
    assert_true(ms_same_records(&w->client, &w->server));
    size_t cmax = w->ccfg.max_msg_size ? w->ccfg.max_msg_size : SEAM_SYNCML_MAX_MESSAGE;
    size_t smax = w->scfg.max_msg_size ? w->scfg.max_msg_size : SEAM_SYNCML_MAX_MESSAGE;
    if (w->from[0] > smax || w->from[1] > cmax)
        fail_msg("largest messages %zu (client, server takes %zu) and %zu (server, client takes "
                 "%zu)",
                 w->from[0], smax, w->from[1], cmax);
    each_op_answered_once_in_order(w);
}

/* n tiny records on each side (values of one to three bytes, the client's apart from the
   server's): the statuses answering them are larger than the items. */
static void tiny_items(world *w, int n, const char *tag) {
    char key[16], value[8];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "Lu%d", i); /* apart from the keys the stores make */
        snprintf(value, sizeof value, "%s%x", tag, i);
        ms_put(&w->client, key, value);
        snprintf(key, sizeof key, "Gu%d", i);
        snprintf(value, sizeof value, "%c%x", tag[0] + 1, i);
        ms_put(&w->server, key, value);
    }
}

/* What the last session took, for docs/sync.md. */
static void figures(const world *w, const char *what, const char *format) {
    print_message("%-7s %-5s client %4lu server %4lu: %3u messages, %6zu bytes, largest %6zu; "
                  "statuses that waited: %u from the client, %u from the server\n",
                  what, format, w->ccfg.max_msg_size, w->scfg.max_msg_size, w->messages, w->bytes,
                  w->largest, w->late[0], w->late[1]);
}

/* 300 tiny items each way through every sync type; MaxMsgSize of client and server as given. */
static void tiny_items_every_type(world *w, unsigned long cmax, unsigned long smax,
                                  seam_syncml_format format) {
    world_init(w);
    w->ccfg.max_msg_size = cmax;
    w->scfg.max_msg_size = smax;
    w->ccfg.format = w->scfg.format = format;
    const char *name = format == SEAM_SYNCML_WBXML ? "WBXML" : "XML";
    tiny_items(w, 300, "a");
    synced_within(w); /* slow: 300 each way */
    assert_int_equal(w->crep.type, SEAM_SYNCML_SLOW);
    assert_int_equal(w->client.now.n, 600);
    assert_int_equal(w->crep.sent, 300);
    assert_int_equal(w->srep.sent, 300);
    figures(w, "slow", name);
    tiny_items(w, 300, "c"); /* two-way: 300 replaces each way */
    synced_within(w);
    assert_int_equal(w->crep.type, SEAM_SYNCML_TWO_WAY);
    assert_int_equal(w->crep.sent, 300);
    assert_int_equal(w->crep.received, 300);
    assert_int_equal(w->client.now.n, 600);
    assert_true(ms_has(&w->server, "c12b") && ms_has(&w->client, "d12b"));
    figures(w, "two-way", name);
    /* At 2 KiB the statuses waited for later messages: the server's whenever the client takes
       2 KiB, the client's when the server's 2 KiB bounds both ways. */
    if (cmax || smax)
        assert_true(w->late[1] > 0);
    if (smax)
        assert_true(w->late[0] > 0);
    synced_within(w); /* nothing left to send */
    assert_int_equal(w->crep.sent + w->crep.received, 0);
    char key[16];
    for (int i = 0; i < 300; i += 2) { /* two-way: 150 deletes each way (the smallest items) */
        snprintf(key, sizeof key, "Lu%d", i);
        ms_del(&w->client, key);
        snprintf(key, sizeof key, "Gu%d", i + 1);
        ms_del(&w->server, key);
    }
    synced_within(w);
    assert_int_equal(w->crep.sent, 150);
    assert_int_equal(w->crep.received, 150);
    assert_int_equal(w->client.now.n, 300);
    assert_false(ms_has(&w->server, "c0") || ms_has(&w->client, "d1"));
    assert_true(ms_has(&w->server, "c1") && ms_has(&w->client, "d0"));
    figures(w, "deletes", name);
    w->ccfg.type = SEAM_SYNCML_SLOW; /* 300 each way, matched, nothing doubled */
    synced_within(w);
    assert_int_equal(w->client.now.n, 300);
    ms_put(&w->client, "Lu1", "x");
    ms_put(&w->server, "Gu0", "y");
    w->ccfg.type = SEAM_SYNCML_REFRESH_FROM_CLIENT;
    synced_within(w);
    assert_true(ms_has(&w->server, "x") && !ms_has(&w->server, "y"));
    char some[SEAM_SYNCML_KEY_MAX];
    snprintf(some, sizeof some, "%s", w->server.now.rec[1].key);
    ms_put(&w->server, some, "z");
    w->ccfg.type = SEAM_SYNCML_REFRESH_FROM_SERVER;
    synced_within(w);
    assert_true(ms_has(&w->client, "z"));
    assert_int_equal(w->client.now.n, 300);
    w->ccfg.type = SEAM_SYNCML_TWO_WAY;
    synced_within(w);
    assert_int_equal(w->crep.sent + w->crep.received, 0);
}

/* The statuses answering a message of many tiny items do not fit in one message: they span the
   package's messages (a message without Final, the peer's Alert 222, the rest first in the
   next one), in every sync type, at the smallest MaxMsgSize on either side or both (S6). */
static void statuses_span_messages_with_many_tiny_items_S6(void **state) {
    (void)state;
    static world w;
    const unsigned long min = SEAM_SYNCML_MIN_MSG_SIZE;
    tiny_items_every_type(&w, min, min, SEAM_SYNCML_XML);
    tiny_items_every_type(&w, min, min, SEAM_SYNCML_WBXML);
    /* A client taking 2 KiB, a server taking 1 MiB: the client's message of 300 items is
       answered by 300 statuses in 2 KiB messages. */
    tiny_items_every_type(&w, min, 0, SEAM_SYNCML_XML);
    /* The other way round: the server's Sync in 1 MiB, the client's statuses in 2 KiB. */
    tiny_items_every_type(&w, 0, min, SEAM_SYNCML_WBXML);
    /* The figures at the default size, for docs/sync.md. */
    tiny_items_every_type(&w, 0, 0, SEAM_SYNCML_XML);
}

/* A client that sends operations far faster than the statuses can go back (it takes 2 KiB,
   its messages hold 400 items with 1000-byte keys): the statuses waiting on the server are
   bounded, the session ends (OVERSIZE), nothing applied (S6, X6). */
static void waiting_statuses_are_bounded_X6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    w.ccfg.max_msg_size = SEAM_SYNCML_MIN_MSG_SIZE;
    ms_put(&w.server, "G1", "kept");
    seam_syncml_store cs = ms_store(&w.client), ss = ms_store(&w.server);
    seam_syncml_client *c = seam_syncml_client_new(&cs, &w.ccfg);
    seam_syncml_server *s = seam_syncml_server_new(&ss, &w.scfg);
    uint8_t *msg = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    assert_int_equal(seam_syncml_client_start(c, &msg, &len), SEAM_SYNCML_CONTINUE);
    assert_int_equal(seam_syncml_server_step(s, msg, len, &answer, &answer_len),
                     SEAM_SYNCML_CONTINUE);
    seam_syncml_bytes_free(msg);
    seam_syncml_bytes_free(answer);
    uint64_t before = ms_digest(&w.server);
    static char key[1001];
    memset(key, 'k', sizeof key - 1);
    static seam_syncml_cmd ops[400];
    static seam_syncml_item items[400];
    for (size_t i = 0; i < 400; i++) {
        ops[i] = (seam_syncml_cmd){
            .kind = SEAM_SYNCML_CMD_DELETE, .cmd_id = (unsigned)i + 2, .items = &items[i]};
        ops[i].n_items = 1;
        items[i] = (seam_syncml_item){.source = key, .target = key};
    }
    seam_syncml_cmd sync = {.kind = SEAM_SYNCML_CMD_SYNC,
                            .cmd_id = 1,
                            .target = "./apps",
                            .source = "./apps",
                            .ops = ops,
                            .n_ops = 400};
    seam_syncml_msg flood = {.hdr = {.session_id = "1",
                                     .target = w.ccfg.server_uri,
                                     .source = w.ccfg.device_id,
                                     .max_msg_size = SEAM_SYNCML_MIN_MSG_SIZE},
                             .cmds = &sync,
                             .n_cmds = 1};
    seam_syncml_state st = SEAM_SYNCML_CONTINUE;
    unsigned sent = 0;
    for (unsigned id = 2; id < 40 && st == SEAM_SYNCML_CONTINUE; id++, sent++) {
        flood.hdr.msg_id = id;
        assert_int_equal(seam_syncml_encode(&flood, SEAM_SYNCML_XML, 0, &msg, &len), SEAM_OK);
        st = seam_syncml_server_step(s, msg, len, &answer, &answer_len);
        seam_syncml_bytes_free(msg);
        seam_syncml_bytes_free(answer);
    }
    assert_int_equal(st, SEAM_SYNCML_FAILED);
    assert_int_equal(seam_syncml_server_report(s)->err, SEAM_ERR_SYNCML_OVERSIZE);
    assert_true(sent > 10); /* ~8 MiB of statuses waited first */
    assert_false(w.server.in_session);
    assert_true(ms_digest(&w.server) == before);
    seam_syncml_client_free(c);
    seam_syncml_server_free(s);
}

static void bad_credentials_are_refused_and_nothing_applied_S6_X6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    w.scfg.user = "alice";
    w.scfg.password = "right";
    w.scfg.auth = SEAM_SYNCML_AUTH_BASIC;
    w.ccfg.user = "alice";
    w.ccfg.password = "wrong";
    w.ccfg.auth = SEAM_SYNCML_AUTH_BASIC;
    ms_put(&w.client, "L1", "a: 1\n");
    ms_put(&w.server, "G1", "b: 1\n");
    uint64_t client_before = ms_digest(&w.client), server_before = ms_digest(&w.server);
    session(&w, 0);
    assert_int_equal(w.sstate, SEAM_SYNCML_FAILED);
    assert_int_equal(w.srep.status, SEAM_SYNCML_INVALID_CRED);
    assert_int_equal(w.cstate, SEAM_SYNCML_FAILED);
    assert_int_equal(w.crep.status, SEAM_SYNCML_INVALID_CRED);
    assert_true(ms_digest(&w.client) == client_before);
    assert_true(ms_digest(&w.server) == server_before);
    /* No credentials at all: 407. */
    w.ccfg.user = NULL;
    session(&w, 0);
    assert_int_equal(w.crep.status, SEAM_SYNCML_MISSING_CRED);
    assert_true(ms_digest(&w.server) == server_before);
    /* The right password: the session runs. */
    w.ccfg.user = "alice";
    w.ccfg.password = "right";
    synced(&w);
    assert_true(ms_same_records(&w.client, &w.server));
}

static void md5_challenge_then_session_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    w.scfg.user = w.ccfg.user = "bob";
    w.scfg.password = w.ccfg.password = "secret";
    w.scfg.auth = w.ccfg.auth = SEAM_SYNCML_AUTH_MD5;
    ms_put(&w.client, "L1", "a: 1\n");
    synced(&w);
    assert_true(ms_has(&w.server, "a: 1\n"));
    /* A nonce from an earlier session: the server challenges again, the session runs. */
    w.ccfg.nonce = "c3RhbGUgbm9uY2U=";
    ms_put(&w.client, "L3", "a: 3\n");
    synced(&w);
    assert_true(ms_has(&w.server, "a: 3\n"));
    w.ccfg.nonce = NULL;
    /* A wrong password answers the challenge: 401, nothing applied. */
    ms_put(&w.client, "L2", "a: 2\n");
    w.ccfg.password = "guess";
    uint64_t before = ms_digest(&w.server);
    session(&w, 0);
    assert_int_equal(w.sstate, SEAM_SYNCML_FAILED);
    assert_int_equal(w.crep.status, SEAM_SYNCML_INVALID_CRED);
    assert_true(ms_digest(&w.server) == before);
}

/* Hands the server a broken Pkg3 after a good Pkg1: it fails, its store untouched. */
static void malformed_messages_fail_cleanly_and_change_nothing_X6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    first_sync(&w);
    ms_put(&w.client, "L100", "name: purse\nversion: 5\n");
    ms_put(&w.server, "G100", "name: loyalty\nversion: 5\n");
    seam_syncml_store cs = ms_store(&w.client), ss = ms_store(&w.server);
    static const char *const broken[] = {
        "",
        "<SyncML",
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr/></SyncML>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]><SyncML/>",
    };
    for (size_t b = 0; b < sizeof broken / sizeof broken[0]; b++) {
        uint64_t client_before = ms_digest(&w.client), server_before = ms_digest(&w.server);
        seam_syncml_client *c = seam_syncml_client_new(&cs, &w.ccfg);
        seam_syncml_server *s = seam_syncml_server_new(&ss, &w.scfg);
        uint8_t *pkg1 = NULL, *pkg2 = NULL, *out = NULL;
        size_t pkg1_len = 0, pkg2_len = 0, out_len = 0;
        assert_int_equal(seam_syncml_client_start(c, &pkg1, &pkg1_len), SEAM_SYNCML_CONTINUE);
        assert_int_equal(seam_syncml_server_step(s, pkg1, pkg1_len, &pkg2, &pkg2_len),
                         SEAM_SYNCML_CONTINUE);
        /* The server gets garbage instead of Pkg3; the client gets garbage instead of Pkg4. */
        assert_int_equal(seam_syncml_server_step(s, (const uint8_t *)broken[b], strlen(broken[b]),
                                                 &out, &out_len),
                         SEAM_SYNCML_FAILED);
        assert_null(out);
        assert_int_equal(seam_syncml_client_step(c, pkg2, pkg2_len, &out, &out_len),
                         SEAM_SYNCML_CONTINUE);
        seam_syncml_bytes_free(out);
        assert_int_equal(seam_syncml_client_step(c, (const uint8_t *)broken[b], strlen(broken[b]),
                                                 &out, &out_len),
                         SEAM_SYNCML_FAILED);
        assert_int_not_equal(seam_syncml_client_report(c)->err, SEAM_OK);
        seam_syncml_bytes_free(pkg1);
        seam_syncml_bytes_free(pkg2);
        seam_syncml_client_free(c);
        seam_syncml_server_free(s);
        assert_true(ms_digest(&w.client) == client_before);
        assert_true(ms_digest(&w.server) == server_before);
    }
    /* A store failure in the middle of the client's changes: rolled back, then a clean retry. */
    uint64_t server_before = ms_digest(&w.server);
    w.server.fail_apply_after = 1;
    session(&w, 0);
    assert_int_equal(w.sstate, SEAM_SYNCML_FAILED);
    assert_int_equal(w.srep.status, SEAM_SYNCML_STORE_FAILURE);
    assert_true(ms_digest(&w.server) == server_before);
    synced(&w);
    assert_true(ms_same_records(&w.client, &w.server));
}

/* Cuts a copy of base after each message of its session, syncs again: the records end as the
   uncut session leaves them, nothing doubled, and a further sync has nothing to send. */
static void cut_at_every_message(const world *base) {
    static world full, w;
    memcpy(&full, base, sizeof *base);
    synced(&full);
    unsigned total = full.messages;
    assert_true(total >= 6);
    for (unsigned cut = 1; cut < total; cut++) {
        memcpy(&w, base, sizeof *base);
        session(&w, cut);
        assert_false(w.client.in_session);
        assert_false(w.server.in_session);
        synced(&w); /* then the user syncs again */
        assert_true(ms_same_records(&w.client, &w.server));
        if (!ms_same_records(&w.client, &full.client)) {
            for (size_t i = 0; i < w.client.now.n; i++)
                print_message("cut %u got: %s", cut, w.client.now.rec[i].content);
            for (size_t i = 0; i < full.client.now.n; i++)
                print_message("cut %u want: %s", cut, full.client.now.rec[i].content);
        }
        assert_true(ms_same_records(&w.client, &full.client));
        synced(&w);
        assert_int_equal(w.crep.sent + w.crep.received, 0);
    }
}

static void interrupted_at_every_message_then_sync_converges_S6(void **state) {
    (void)state;
    static world base;
    world_init(&base);
    first_sync(&base);
    ms_put(&base.client, "L100", "name: purse\nversion: 2.0\n");
    ms_put(&base.client, "L300", "name: new client app\n");
    ms_put(&base.server, "G300", "name: new server app\n");
    ms_del(&base.server, base.server.now.rec[0].key);
    cut_at_every_message(&base);
    /* At 2 KiB with tiny items: the cuts fall also after messages whose statuses span the
       package (the client's and the server's), and after the Map's messages; XML and WBXML. */
    for (int wbxml = 0; wbxml < 2; wbxml++) {
        world_init(&base);
        base.ccfg.max_msg_size = base.scfg.max_msg_size = SEAM_SYNCML_MIN_MSG_SIZE;
        base.ccfg.format = base.scfg.format = wbxml ? SEAM_SYNCML_WBXML : SEAM_SYNCML_XML;
        tiny_items(&base, wbxml ? 60 : 30, "a");
        synced(&base);
        tiny_items(&base, wbxml ? 60 : 30, "c");
        char key[16], value[8];
        for (int i = 0; i < (wbxml ? 50 : 20); i++) {
            snprintf(key, sizeof key, "Lv%d", i);
            snprintf(value, sizeof value, "e%x", i);
            ms_put(&base.client, key, value);
            snprintf(key, sizeof key, "Gv%d", i);
            snprintf(value, sizeof value, "f%x", i);
            ms_put(&base.server, key, value);
        }
        static world probe;
        memcpy(&probe, &base, sizeof base);
        synced(&probe);
        each_op_answered_once_in_order(&probe);
        assert_true(probe.late[0] > 0 && probe.late[1] > 0);
        print_message("cut at each of %u messages, %s\n", probe.messages, wbxml ? "WBXML" : "XML");
        cut_at_every_message(&base);
    }
}

static void conflicts_follow_the_store_policy_S6(void **state) {
    (void)state;
    static world w;
    world_init(&w);
    first_sync(&w);
    ms_put(&w.client, "L100", "name: purse\nversion: client\n");
    const char *guid = NULL;
    for (size_t i = 0; i < w.server.now.n; i++)
        if (strstr(w.server.now.rec[i].content, "purse"))
            guid = w.server.now.rec[i].key;
    assert_non_null(guid);
    char g[SEAM_SYNCML_KEY_MAX];
    snprintf(g, sizeof g, "%s", guid);
    ms_put(&w.server, g, "name: purse\nversion: server\n");
    synced(&w); /* no hook answer: the server wins */
    assert_int_equal(w.srep.conflicts, 1);
    assert_int_equal(w.crep.conflicts, 1); /* 419: the user is told */
    assert_true(ms_has(&w.client, "name: purse\nversion: server\n"));
    assert_true(ms_same_records(&w.client, &w.server));
    ms_put(&w.client, "L100", "name: purse\nversion: client 2\n");
    ms_put(&w.server, g, "name: purse\nversion: server 2\n");
    w.server.client_wins = true;
    synced(&w);
    assert_int_equal(w.srep.conflicts, 1);
    assert_int_equal(w.crep.conflicts, 0); /* 208: the client's change stood */
    assert_true(ms_has(&w.server, "name: purse\nversion: client 2\n"));
    assert_true(ms_same_records(&w.client, &w.server));
    /* A delete against a modify: the modify wins on both sides. */
    ms_del(&w.client, "L100");
    ms_put(&w.server, g, "name: purse\nversion: server 3\n");
    synced(&w);
    assert_true(ms_has(&w.client, "name: purse\nversion: server 3\n"));
    assert_true(ms_same_records(&w.client, &w.server));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_way_exchanges_adds_replaces_deletes_S6),
        cmocka_unit_test(wbxml_sessions_work_the_same_S6),
        cmocka_unit_test(one_way_and_refresh_types_S6),
        cmocka_unit_test(anchor_mismatch_falls_back_to_slow_sync_S6),
        cmocka_unit_test(multi_message_packages_honour_max_msg_size_S6),
        cmocka_unit_test(statuses_span_messages_with_many_tiny_items_S6),
        cmocka_unit_test(waiting_statuses_are_bounded_X6),
        cmocka_unit_test(bad_credentials_are_refused_and_nothing_applied_S6_X6),
        cmocka_unit_test(md5_challenge_then_session_S6),
        cmocka_unit_test(malformed_messages_fail_cleanly_and_change_nothing_X6),
        cmocka_unit_test(interrupted_at_every_message_then_sync_converges_S6),
        cmocka_unit_test(conflicts_follow_the_store_policy_S6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
