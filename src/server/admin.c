/*
 * /admin: remote application management over HTTP (GlobalPlatform
 * Amendment B style; docs/server.md, "The admin protocol"). The terminal is
 * the card's admin agent, the server the admin server.
 *
 * States of an admin session (a row in the store):
 *   (none)  --POST /admin, a step claimed-->  round 1 open (script 1 sent)
 *   round r --POST /admin/session/ID/r, responses judged--> round r+1 open
 *                                                       | closed (step done or failed)
 *   A POST naming a round that is not the open one, or a closed session, is a
 *   replay: 409, nothing changes (the store advances a session only from the
 *   round it expects, in one transaction).
 * Every request and response is counted per card and campaign step (P1); the
 * personalization bytes a script carries are counted apart (P8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_plan.h"
#include "api.h"
#include "seam/gp.h"
#include "seam/util.h"

#define PROTOCOL      "globalplatform-remote-admin/1.0"
#define FROM_PREFIX   "//se-id/cin/"
#define TYPE_SCRIPT   "application/vnd.globalplatform.card-content-mgt;version=1.0"
#define TYPE_RESPONSE "application/vnd.globalplatform.card-content-mgt-response;version=1.0"

/* Checks the protocol headers and reads the card's CIN from X-Admin-From; false with
   res filled (400) when they are wrong. */
static bool admin_headers(const seam_srv_request *req, seam_store_id *cin, seam_srv_response *res) {
    const char *proto = seam_srv_request_header(req, "X-Admin-Protocol");
    if (!proto || strcmp(proto, PROTOCOL)) {
        seam_srv_error(res, 400, "bad_protocol", "X-Admin-Protocol must be " PROTOCOL);
        return false;
    }
    const char *from = seam_srv_request_header(req, "X-Admin-From");
    if (!from || strncmp(from, FROM_PREFIX, sizeof FROM_PREFIX - 1) ||
        !seam_api_id(from + sizeof FROM_PREFIX - 1, cin)) {
        seam_srv_error(res, 400, "bad_admin_from",
                       "X-Admin-From must be " FROM_PREFIX "<CIN in hex>");
        return false;
    }
    return true;
}

static const char *kind_step(seam_store_kind k) {
    static const char *const names[] = {"install", "personalize", "update", "upgrade", "delete"};
    return k >= SEAM_STORE_INSTALL && k <= SEAM_STORE_DELETE ? names[k - 1] : "step";
}

/* Answers with the round's script and the URI of its responses. */
static void send_script(seam_srv_response *res, const seam_store_session *s,
                        seam_srv_plan_round *round) {
    char uri[96];
    snprintf(uri, sizeof uri, "/admin/session/%s/%u", s->id, (unsigned)s->round);
    res->status = 200;
    res->content_type = TYPE_SCRIPT;
    res->body = (char *)round->script;
    res->body_len = round->script_len;
    round->script = NULL;
    seam_srv_header(res, "X-Admin-Next-URI", uri);
    res->account.perso = round->perso_bytes;
}

/* Ends the claimed target with the step's outcome and logs why. */
static void finish_step(struct seam_server *srv, const seam_store_campaign *c,
                        const seam_store_id *cin, const seam_srv_plan_round *round) {
    bool ok = round->outcome == SEAM_SRV_PLAN_DONE;
    if (ok && round->reason[0]) { /* done without sending it again: say so in the log */
        seam_store_event ev = {.cin = *cin, .campaign = c->id};
        snprintf(ev.kind, sizeof ev.kind, "note");
        snprintf(ev.message, sizeof ev.message, "%s", round->reason);
        (void)seam_store_event_add(srv->store, &ev);
    }
    (void)seam_store_target_finish(srv->store, c->id, cin, srv->owner, ok, ok ? "" : round->reason);
}

API_HANDLER(seam_admin_open) {
    seam_store_id cin;
    if (!admin_headers(req, &cin, res))
        return;
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (type && strcmp(type, TYPE_RESPONSE)) {
        seam_srv_error(res, 415, "bad_content_type", "the first POST carries no script");
        return;
    }
    seam_store_card card;
    seam_err err = seam_store_card_get(srv->store, &cin, &card);
    if (err) {
        if (err == SEAM_ERR_NOT_FOUND)
            seam_srv_error(res, 404, "unknown_card", "the server does not know this card");
        else
            seam_api_store_error(res, err);
        return;
    }
    res->account.cin = cin;
    snprintf(res->account.step, sizeof res->account.step, "poll");
    seam_store_target t;
    int64_t now = (int64_t)time(NULL);
    err = seam_store_claim(srv->store, &cin, srv->owner, now, srv->lease_seconds, &t);
    if (err == SEAM_ERR_NOT_FOUND) {
        res->status = 204; /* nothing for this card: the session ends */
        return;
    }
    seam_store_campaign c;
    if (!err)
        err = seam_store_campaign_get(srv->store, t.campaign, &c);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    res->account.campaign = c.id;
    snprintf(res->account.step, sizeof res->account.step, "%s", kind_step(c.kind));
    seam_srv_plan_round round;
    seam_srv_step *step = NULL;
    err = seam_srv_step_start(srv, &c, &t, &step, &round);
    if (err || round.outcome != SEAM_SRV_PLAN_SCRIPT) {
        if (err) {
            round.outcome = SEAM_SRV_PLAN_FAILED;
            snprintf(round.reason, sizeof round.reason, "plan: %s", seam_err_str(err));
        }
        finish_step(srv, &c, &cin, &round);
        free(round.script);
        seam_srv_step_free(step);
        seam_secure_zero(&round, sizeof round);
        res->status = 204;
        return;
    }
    seam_store_session s;
    memset(&s, 0, sizeof s);
    s.cin = cin;
    s.campaign = c.id;
    snprintf(s.step, sizeof s.step, "%s", kind_step(c.kind));
    s.round = 1;
    s.expected_responses = round.expected_responses;
    err = seam_store_session_create(srv->store, &s);
    if (!err)
        err = seam_srv_live_put(srv, s.id, step, now, srv->lease_seconds);
    if (err) {
        free(round.script);
        seam_srv_step_free(step);
        seam_api_store_error(res, err);
    } else {
        send_script(res, &s, &round);
    }
    seam_secure_zero(&s, sizeof s);
    seam_secure_zero(&round, sizeof round);
}

/* Counts the R-APDUs of a response script; false when it does not decode. */
static bool count_responses(const uint8_t *data, size_t len, uint32_t *count) {
    seam_gp_rscript_reader r;
    if (seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_RESPONSES, data, len))
        return false;
    const uint8_t *item;
    size_t item_len;
    seam_err err;
    *count = 0;
    while ((err = seam_gp_rscript_next(&r, &item, &item_len)) == SEAM_OK) {
        if (item_len < 2)
            return false; /* an R-APDU ends with SW1 SW2 */
        (*count)++;
    }
    return err == SEAM_ERR_NOT_FOUND;
}

API_HANDLER(seam_admin_respond) {
    seam_store_id cin;
    if (!admin_headers(req, &cin, res))
        return;
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (!type || strcmp(type, TYPE_RESPONSE)) {
        seam_srv_error(res, 415, "bad_content_type", "responses are " TYPE_RESPONSE);
        return;
    }
    char *end;
    unsigned long round_no = strtoul(req->params[1], &end, 10);
    seam_store_session s;
    seam_err err =
        *end ? SEAM_ERR_NOT_FOUND : seam_store_session_get(srv->store, req->params[0], &s);
    if (err == SEAM_ERR_NOT_FOUND ||
        (!err && (s.cin.len != cin.len || memcmp(s.cin.bytes, cin.bytes, cin.len)))) {
        if (!err)
            seam_secure_zero(&s, sizeof s);
        seam_srv_error(res, 404, "unknown_session", "no such admin session for this card");
        return;
    }
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    res->account.cin = cin;
    res->account.campaign = s.campaign;
    snprintf(res->account.step, sizeof res->account.step, "%s", s.step);
    if (s.closed || round_no != s.round) {
        seam_secure_zero(&s, sizeof s);
        seam_srv_error(res, 409, "replayed", "this round was answered already");
        return;
    }
    uint32_t count = 0;
    if (!count_responses(req->body, req->body_len, &count) || count > s.expected_responses ||
        count == 0) {
        seam_secure_zero(&s, sizeof s);
        seam_srv_error(res, 400, "bad_script", "the body is not a response script for this round");
        return;
    }
    seam_store_campaign c;
    err = seam_store_campaign_get(srv->store, s.campaign, &c);
    if (err) {
        seam_secure_zero(&s, sizeof s);
        seam_api_store_error(res, err);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    seam_srv_step *step = seam_srv_live_get(srv, s.id, now, srv->lease_seconds);
    /* the step goes on only while this server's claim on the card holds */
    if (step &&
        seam_store_target_renew(srv->store, c.id, &cin, srv->owner, now, srv->lease_seconds)) {
        seam_srv_live_drop(srv, s.id);
        step = NULL;
    }
    seam_srv_plan_round round;
    memset(&round, 0, sizeof round);
    bool lost = !step;
    if (step) {
        err = seam_srv_step_next(srv, step, &c, &cin, req->body, req->body_len, &round);
        if (err) {
            round.outcome = SEAM_SRV_PLAN_FAILED;
            snprintf(round.reason, sizeof round.reason, "plan: %s", seam_err_str(err));
        }
    }
    seam_store_session next = s;
    uint32_t expected_round = s.round;
    next.round = s.round + 1;
    next.closed = lost || round.outcome != SEAM_SRV_PLAN_SCRIPT;
    next.expected_responses = round.expected_responses;
    next.context_len = 0;
    err = seam_store_session_advance(srv->store, &next, expected_round, NULL);
    if (err == SEAM_ERR_SERVER_CONFLICT) {
        seam_srv_error(res, 409, "replayed", "this round was answered already");
    } else if (err) {
        seam_api_store_error(res, err);
    } else if (lost) {
        /* this server no longer holds the session (it restarted, or the claim expired):
           the target stays as it is and is claimed again when its lease expires */
        seam_store_event ev = {.cin = cin, .campaign = c.id};
        snprintf(ev.kind, sizeof ev.kind, "session_lost");
        snprintf(ev.message, sizeof ev.message,
                 "the server holds no state for this session; the step resumes when its claim "
                 "expires");
        (void)seam_store_event_add(srv->store, &ev);
        res->status = 204;
    } else if (next.closed) {
        finish_step(srv, &c, &cin, &round);
        res->status = 204;
    } else {
        send_script(res, &next, &round);
    }
    if (next.closed || err)
        seam_srv_live_drop(srv, s.id);
    free(round.script);
    seam_secure_zero(&round, sizeof round);
    seam_secure_zero(&s, sizeof s);
    seam_secure_zero(&next, sizeof next);
}
