/*
 * /admin: remote application management over HTTP (GlobalPlatform
 * Amendment B style; docs/server.md, "The admin protocol"). The terminal is
 * the card's admin agent, the server the admin server.
 *
 * States of an admin session (a row in the store):
 *   (none)  --POST /admin, a step claimed-->  round 1 open (script 1 sent)
 *   round r --POST /admin/session/ID/r, responses judged--> round r+1 open
 *                                                       | closed (step done or failed)
 *   round r --POST, the server holds no live step for it (restarted, lease gone)-->
 *                                                         closed, 204, target untouched
 *   A POST naming a round that is not the open one, or a closed session, is a
 *   replay: 409, nothing changes (the store advances a session only from the
 *   round it expects, in one transaction).
 * The step behind a session (its SCP03 state) lives in this server's memory only
 * (admin_plan.h); the store's session row carries no context.
 * Every request and response is counted per card and campaign step (P1); the
 * personalization bytes a script carries are counted apart (P8).
 *
 * A step of a campaign personalized in the terminal (P6, P9) answers a round with a
 * *delivery* (TYPE_DELIVERY) instead of a script; the terminal answers that round with
 * its *result* (TYPE_RESULT); an ok result is followed by the server's own ISD session
 * that reads the card's registry before the step is done. Same rounds, same rules.
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
#define TYPE_DELIVERY "application/vnd.seam.delivery;version=1"
#define TYPE_RESULT   "application/vnd.seam.delivery-result;version=1"

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

/* Answers with the round's script (or delivery) and the URI of its responses. */
static void send_script(seam_srv_response *res, const seam_store_session *s,
                        seam_srv_plan_round *round) {
    char uri[96];
    snprintf(uri, sizeof uri, "/admin/session/%s/%u", s->id, (unsigned)s->round);
    res->status = 200;
    res->content_type = round->outcome == SEAM_SRV_PLAN_DELIVERY ? TYPE_DELIVERY : TYPE_SCRIPT;
    res->body = (char *)round->script;
    res->body_len = round->script_len;
    round->script = NULL;
    seam_srv_header(res, "X-Admin-Next-URI", uri);
    res->account.perso = round->perso_bytes;
}

/* Ends the claimed target with the step's outcome and logs why (in the caller's
   transaction). A target no longer running under this server is left as it is. */
static seam_err finish_step(struct seam_server *srv, const seam_store_campaign *c,
                            const seam_store_id *cin, const seam_srv_plan_round *round) {
    seam_store *st = seam_srv_store(srv);
    bool ok = round->outcome == SEAM_SRV_PLAN_DONE;
    seam_err err = SEAM_OK;
    if (ok && round->reason[0]) { /* done without sending it again: say so in the log */
        seam_store_event ev = {.cin = *cin, .campaign = c->id};
        snprintf(ev.kind, sizeof ev.kind, "note");
        snprintf(ev.message, sizeof ev.message, "%s", round->reason);
        err = seam_store_event_add(st, &ev);
    }
    if (!err)
        err = seam_store_target_finish(st, c->id, cin, srv->owner, ok, ok ? "" : round->reason);
    return err == SEAM_ERR_SERVER_CONFLICT ? SEAM_OK : err;
}

/* Counts this exchange's bytes (P1) in the caller's transaction, with the response as it
   stands (final: the core sends it as it is), so that a step's advance and its bytes are
   one commit. */
static seam_err account(struct seam_server *srv, const seam_srv_request *req,
                        seam_srv_response *res) {
    seam_store_bytes row;
    memset(&row, 0, sizeof row);
    row.cin = res->account.cin;
    row.campaign = res->account.campaign;
    memcpy(row.step, res->account.step, sizeof row.step);
    row.bytes.request = req->bytes_in;
    row.bytes.response = seam_srv_response_bytes(res);
    row.bytes.perso = res->account.perso;
    seam_err err = seam_store_bytes_add(seam_srv_store(srv), &row);
    res->account.counted = err == SEAM_OK;
    return err;
}

/* Forgets what a handler put in res before its transaction failed. */
static void response_reset(seam_srv_response *res) {
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->content_type = NULL;
    res->header_count = 0;
    res->account.counted = false;
}

/* The first POST: claims the card's next campaign step and sends its first script, or
   204. The claim, the session, the step's end (when it ends at once) and the bytes are
   one transaction. */
API_HANDLER(seam_admin_open) {
    seam_store_id cin;
    if (!admin_headers(req, &cin, res))
        return;
    const char *type = seam_srv_request_header(req, "Content-Type");
    if (type && strcmp(type, TYPE_RESPONSE)) {
        seam_srv_error(res, 415, "bad_content_type", "the first POST carries no script");
        return;
    }
    seam_store *st = seam_srv_store(srv);
    seam_store_card card;
    seam_err err = seam_store_card_get(st, &cin, &card);
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
    seam_store_campaign c;
    seam_store_session s;
    seam_srv_plan_round round;
    seam_srv_step *step = NULL;
    memset(&s, 0, sizeof s);
    memset(&round, 0, sizeof round);
    int64_t now = (int64_t)time(NULL);
    err = seam_store_begin(st);
    if (err) {
        seam_api_store_error(res, err);
        return;
    }
    err = seam_store_claim(st, &cin, srv->owner, now, srv->lease_seconds, &t);
    if (err == SEAM_ERR_NOT_FOUND) {
        err = SEAM_OK;
        res->status = 204; /* nothing for this card: the session ends */
    } else if (!err) {
        err = seam_store_campaign_get(st, t.campaign, &c);
    }
    if (!err && res->status != 204) {
        res->account.campaign = c.id;
        snprintf(res->account.step, sizeof res->account.step, "%s", kind_step(c.kind));
        seam_err plan = seam_srv_step_start(srv, &c, &t, &step, &round);
        if (plan) {
            round.outcome = SEAM_SRV_PLAN_FAILED;
            snprintf(round.reason, sizeof round.reason, "plan: %s", seam_err_str(plan));
        }
        if (round.outcome != SEAM_SRV_PLAN_SCRIPT && round.outcome != SEAM_SRV_PLAN_DELIVERY) {
            err = finish_step(srv, &c, &cin, &round);
            res->status = 204;
        } else {
            s.cin = cin;
            s.campaign = c.id;
            snprintf(s.step, sizeof s.step, "%s", kind_step(c.kind));
            s.round = 1;
            s.expected_responses = round.expected_responses;
            err = seam_store_session_create(st, &s);
            if (!err)
                send_script(res, &s, &round);
        }
    }
    if (!err)
        err = account(srv, req, res);
    err = seam_store_end(st, err);
    if (err) {
        response_reset(res);
        seam_api_store_error(res, err);
    } else if (step) {
        /* committed: the step goes live (without room for it, its responses find it
           lost and the target resumes when its claim expires) */
        if (seam_srv_live_put(srv, s.id, step, now, srv->lease_seconds) == SEAM_OK)
            step = NULL;
    }
    seam_srv_step_free(step);
    free(round.script);
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

/* A response script: judged by the live step, which answers with the next script or
   ends the step. The lease's renewal, the session's advance, the step's end and the
   bytes are one transaction. */
API_HANDLER(seam_admin_respond) {
    seam_store_id cin;
    if (!admin_headers(req, &cin, res))
        return;
    const char *type = seam_srv_request_header(req, "Content-Type");
    bool is_result = type && !strcmp(type, TYPE_RESULT);
    if (!type || (strcmp(type, TYPE_RESPONSE) && !is_result)) {
        seam_srv_error(res, 415, "bad_content_type",
                       "responses are " TYPE_RESPONSE " (a delivery's result " TYPE_RESULT ")");
        return;
    }
    seam_store *st = seam_srv_store(srv);
    char *end;
    unsigned long round_no = strtoul(req->params[1], &end, 10);
    seam_store_session s;
    seam_err err = *end ? SEAM_ERR_NOT_FOUND : seam_store_session_get(st, req->params[0], &s);
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
    seam_perso_result result;
    memset(&result, 0, sizeof result);
    if (is_result) { /* a delivery's round expects no R-APDU, a script's at least one */
        if (s.expected_responses != 0 ||
            seam_perso_result_decode(req->body, req->body_len, &result) != SEAM_OK) {
            seam_secure_zero(&s, sizeof s);
            seam_srv_error(res, 400, "bad_result",
                           "the body is not a delivery result, or this round sent no delivery");
            return;
        }
    } else if (!count_responses(req->body, req->body_len, &count) || count > s.expected_responses ||
               count == 0) {
        seam_secure_zero(&s, sizeof s);
        seam_srv_error(res, 400, "bad_script", "the body is not a response script for this round");
        return;
    }
    seam_store_campaign c;
    err = seam_store_campaign_get(st, s.campaign, &c);
    if (err) {
        seam_secure_zero(&s, sizeof s);
        seam_api_store_error(res, err);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    bool busy = false;
    seam_srv_step *step = seam_srv_live_take(srv, s.id, now, srv->lease_seconds, &busy);
    if (busy) { /* the same round, answered twice at once: the other one goes on */
        seam_secure_zero(&s, sizeof s);
        seam_srv_error(res, 409, "replayed", "this round is being answered");
        return;
    }
    seam_srv_plan_round round;
    memset(&round, 0, sizeof round);
    if (step) {
        err = is_result ? seam_srv_step_result(srv, step, &c, &cin, &result, &round)
                        : seam_srv_step_next(srv, step, &c, &cin, req->body, req->body_len, &round);
        if (err) {
            round.outcome = SEAM_SRV_PLAN_FAILED;
            snprintf(round.reason, sizeof round.reason, "plan: %s", seam_err_str(err));
        }
    }
    bool lost = !step;
    err = seam_store_begin(st);
    /* the step goes on only while this server's claim on the card holds */
    if (!err && step) {
        err = seam_store_target_renew(st, c.id, &cin, srv->owner, now, srv->lease_seconds);
        if (err == SEAM_ERR_SERVER_CONFLICT) {
            err = SEAM_OK;
            lost = true;
        }
    }
    seam_store_session next = s;
    next.round = s.round + 1;
    next.closed =
        lost || (round.outcome != SEAM_SRV_PLAN_SCRIPT && round.outcome != SEAM_SRV_PLAN_DELIVERY);
    next.expected_responses = lost ? 0 : round.expected_responses;
    next.context_len = 0;
    if (!err)
        err = seam_store_session_advance(st, &next, s.round, NULL);
    if (!err && lost) {
        /* this server no longer holds the session (it restarted, or the claim expired):
           the target stays as it is and is claimed again when its lease expires */
        seam_store_event ev = {.cin = cin, .campaign = c.id};
        snprintf(ev.kind, sizeof ev.kind, "session_lost");
        snprintf(ev.message, sizeof ev.message,
                 "the server holds no state for this session; the step resumes when its claim "
                 "expires");
        err = seam_store_event_add(st, &ev);
        res->status = 204;
    } else if (!err && next.closed) {
        err = finish_step(srv, &c, &cin, &round);
        res->status = 204;
    } else if (!err) {
        send_script(res, &next, &round);
    }
    if (!err)
        err = account(srv, req, res);
    err = seam_store_end(st, err);
    if (err == SEAM_ERR_SERVER_CONFLICT) {
        response_reset(res);
        seam_srv_error(res, 409, "replayed", "this round was answered already");
    } else if (err) {
        response_reset(res);
        seam_api_store_error(res, err);
    }
    if (step) {
        if (next.closed || err)
            seam_srv_live_drop(srv, s.id);
        else
            seam_srv_live_release(srv, s.id, now);
    }
    free(round.script);
    seam_secure_zero(&round, sizeof round);
    seam_secure_zero(&s, sizeof s);
    seam_secure_zero(&next, sizeof next);
}
