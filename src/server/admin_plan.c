/*
 * Campaign steps behind /admin (admin_plan.h): the remote SCP03 session of
 * the gp layer with the card's ISD and the step's plan, round by round.
 *
 * States of a step:
 *
 *   HELLO     script: SELECT ISD + INITIALIZE UPDATE (a new SCP03 session, the card's key set)
 *   REGISTRY  script: EXTERNAL AUTHENTICATE + GET STATUS of the package, and for install and
 *             personalize GET STATUS of each application instance it personalizes, for update
 *             and upgrade MANAGE ELF UPGRADE status of the package (resumed steps, every
 *             personalize step, an update whose start the card refused)
 *   APPLY     script: [EXTERNAL AUTHENTICATE +] the step's plan
 *
 *   HELLO    --both 9000, cryptogram verified--> APPLY, or REGISTRY when the target was
 *              claimed before (its server died or lost the session: read what the card has)
 *              or the step personalizes (never over data already personalized)
 *   REGISTRY --the package's entries, the instances' lifecycles--> done (already applied: at the
 *              version, every instance PERSONALIZED) | APPLY (same session; personalization
 *              only for the instances not PERSONALIZED when the package is there)
 *   REGISTRY --update/upgrade: the card's upgrade session of the package--> APPLY from where
 *              it stands (none: start; waiting for the package: load + migrate; the package
 *              loaded at the campaign's version: migrate; towards another package: abort
 *              first) | failed (a session of another SD, never touched; another version
 *              loaded under the package's AID: neither continued nor aborted)
 *   REGISTRY --6A88 (no such package; the refusal ended the SCP03 session)--> done (delete)
 *              | HELLO again (a new session), then APPLY
 *   REGISTRY --6A88 on an instance (the package without it)--> failed
 *   APPLY    --every command 9000 (upgrade: migrate completed)--> done
 *   APPLY    --update/upgrade, registry not read: start refused 6985 (a session is open; the
 *              refusal ended the SCP03 session)--> HELLO again, then REGISTRY
 *   any      --a command refused--> failed: the command and its SW
 *   any      --a response script that does not answer the script (count, R-MAC, cryptogram,
 *              shape)--> failed: why; the session is dead, nothing more is sent
 *
 * Campaign state advances only from what the card answered. Personalization data
 * goes only into install and personalize plans, each instance's STORE DATA followed
 * by SET STATUS of the instance to PERSONALIZED (0F), so that the card's registry
 * tells whether the personalization was applied; perso_bytes counts the data of the
 * STORE DATA commands put in a script, so an update shows 0 (P8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_plan.h"
#include "seam/gp.h"
#include "seam/util.h"

#define SCP_LEVEL       0x33u /* C-MAC, C-DEC, R-MAC, R-ENC: every answer authenticated */
#define SPACE_TEMPORARY 2u    /* GET STATUS DF71: an upgrade session holds the package */

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

typedef enum { PHASE_HELLO = 1, PHASE_REGISTRY, PHASE_APPLY, PHASE_DELIVERY } step_phase;

struct seam_srv_step {
    seam_gp_remote *remote;
    seam_gp_remote_config config; /* kept for a new session after a refused GET STATUS */
    step_phase phase;
    bool resumed;        /* claimed before, or a personalize step: read the registry first */
    bool registry_known; /* the registry was read */
    bool perso_only;     /* the package is there: send only the missing personalization */
    bool in_terminal;    /* personalized in the terminal: a delivery, then the registry read */
    bool delivered;      /* the terminal reported its delivery applied */
    seam_gp_upgrade_from upgrade_from; /* update, upgrade: what the card's session has done */
    size_t plan_count;                 /* commands of the plan sent in APPLY */
    size_t inst_count; /* instances the step personalizes (applets with data for the card) */
    seam_gp_aid inst[SEAM_GP_PACKAGE_APPLETS_MAX];
    bool inst_needed[SEAM_GP_PACKAGE_APPLETS_MAX]; /* not PERSONALIZED on the card */
};

void seam_srv_step_free(seam_srv_step *step) {
    if (!step)
        return;
    seam_gp_remote_free(step->remote);
    seam_secure_zero(step, sizeof *step);
    free(step);
}

static void fail(seam_srv_plan_round *out, const char *why) {
    out->outcome = SEAM_SRV_PLAN_FAILED;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

/* Counts the C-APDUs of a command script. */
static uint32_t script_items(const uint8_t *script, size_t len) {
    seam_gp_rscript_reader r;
    const uint8_t *item;
    size_t item_len;
    uint32_t n = 0;
    if (seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_COMMANDS, script, len) == SEAM_OK)
        while (seam_gp_rscript_next(&r, &item, &item_len) == SEAM_OK)
            n++;
    return n;
}

/* Copies the session's script into out (malloc'd). */
static seam_err take_script(const uint8_t *script, size_t len, seam_srv_plan_round *out) {
    out->script = malloc(len ? len : 1);
    if (!out->script)
        return SEAM_ERR_NOMEM;
    memcpy(out->script, script, len);
    out->script_len = len;
    out->expected_responses = script_items(script, len);
    out->outcome = SEAM_SRV_PLAN_SCRIPT;
    return SEAM_OK;
}

/* A new SCP03 session: round 1's script in out. */
static seam_err hello(seam_srv_step *step, seam_srv_plan_round *out) {
    seam_gp_remote_free(step->remote);
    step->remote = NULL;
    seam_err e = seam_gp_remote_new(&step->config, &step->remote);
    const uint8_t *script = NULL;
    size_t len = 0;
    if (!e)
        e = seam_gp_remote_start(step->remote, &script, &len);
    if (!e)
        e = take_script(script, len, out);
    step->phase = PHASE_HELLO;
    return e;
}

/* The data bytes of the plan's STORE DATA commands: the personalization it carries. */
static uint64_t perso_in(const seam_gp_plan *plan) {
    uint64_t n = 0;
    for (size_t i = 0; i < plan->count; i++) {
        size_t len = 0;
        const uint8_t *c = seam_gp_plan_command(plan, i, &len);
        if (len > 5 && c[1] == 0xE2)
            n += c[4];
    }
    return n;
}

/* Sends plan in the open session: its wrapped script in out. */
static seam_err send_plan(seam_srv_step *step, step_phase phase, const seam_gp_plan *plan,
                          seam_srv_plan_round *out) {
    const uint8_t *script = NULL;
    size_t len = 0;
    seam_err e = seam_gp_remote_commands(step->remote, plan, &script, &len);
    if (!e)
        e = take_script(script, len, out);
    if (!e) {
        step->phase = phase;
        step->plan_count = plan->count;
        out->perso_bytes = perso_in(plan);
    }
    return e;
}

static bool same_aid(const seam_gp_aid *a, const seam_gp_aid *b) {
    return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* True when the step's registry read found instance aid PERSONALIZED (nothing to send). */
static bool inst_done(const seam_srv_step *step, const seam_gp_aid *aid) {
    if (!step->registry_known)
        return false;
    for (size_t i = 0; i < step->inst_count; i++)
        if (same_aid(&step->inst[i], aid))
            return !step->inst_needed[i];
    return false;
}

seam_err seam_srv_perso_of(struct seam_server *srv, const seam_store_id *cin,
                           const seam_gp_aid *applet, uint8_t **data, size_t *len) {
    seam_store_id app = {.len = applet->len};
    memcpy(app.bytes, applet->bytes, app.len);
    return seam_store_perso_get(seam_srv_store(srv), cin, &app, data, len);
}

/* Adds INSTALL [for personalization] + STORE DATA + SET STATUS PERSONALIZED (0F) for every
   applet of the package that has personalization data for this card and that the registry
   read did not find PERSONALIZED; *found counts them. */
static seam_err plan_perso(struct seam_server *srv, const seam_srv_step *step,
                           const seam_store_id *cin, const seam_gp_package *pkg, size_t block,
                           seam_gp_plan *plan, size_t *found) {
    *found = 0;
    for (size_t i = 0; i < pkg->applet_count; i++) {
        if (inst_done(step, &pkg->applets[i]))
            continue;
        uint8_t *data = NULL;
        size_t len = 0;
        seam_err e = seam_srv_perso_of(srv, cin, &pkg->applets[i], &data, &len);
        if (e == SEAM_ERR_NOT_FOUND)
            continue;
        if (!e)
            e = seam_gp_plan_store_data(plan, &pkg->applets[i], SEAM_GP_STORE_BER_TLV, data, len,
                                        block, NULL, 0);
        seam_store_free_secret(data, len);
        uint8_t cmd[64];
        size_t n = 0;
        if (!e)
            e = seam_gp_build_set_status(0x40, 0x0F, pkg->applets[i].bytes, pkg->applets[i].len,
                                         cmd, sizeof cmd, &n);
        if (!e)
            e = seam_gp_plan_add(plan, cmd, n);
        if (e)
            return e;
        (*found)++;
    }
    return SEAM_OK;
}

/* The applets of campaign c's package with personalization data for this card, into
   step->inst (all needed until the registry says otherwise). */
static seam_err perso_instances(struct seam_server *srv, seam_srv_step *step,
                                const seam_store_campaign *c, const seam_store_id *cin) {
    step->inst_count = 0;
    if (c->kind != SEAM_STORE_INSTALL && c->kind != SEAM_STORE_PERSONALIZE)
        return SEAM_OK;
    seam_store_package info;
    uint8_t *module = NULL;
    seam_gp_package pkg;
    char why[96];
    memset(&pkg, 0, sizeof pkg);
    seam_err e = seam_store_package_get(seam_srv_store(srv), &c->package_aid, c->package_version,
                                        &info, &module);
    if (e == SEAM_ERR_NOT_FOUND)
        return SEAM_OK; /* APPLY says so */
    if (!e && seam_gp_package_read(module, info.module_len, &pkg, why, sizeof why))
        e = SEAM_ERR_NOT_FOUND; /* APPLY says so */
    for (size_t i = 0; !e && i < pkg.applet_count; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        seam_err g = seam_srv_perso_of(srv, cin, &pkg.applets[i], &data, &len);
        if (!g)
            seam_store_free_secret(data, len);
        if (g == SEAM_ERR_NOT_FOUND)
            continue;
        if (g) {
            e = g;
            break;
        }
        step->inst[step->inst_count] = pkg.applets[i];
        step->inst_needed[step->inst_count++] = true;
    }
    free(module);
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}

/* Builds and sends the step's plan (APPLY). */
static seam_err apply(struct seam_server *srv, seam_srv_step *step, const seam_store_campaign *c,
                      const seam_store_id *cin, seam_srv_plan_round *out) {
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    uint8_t *module = NULL;
    seam_store_package info;
    seam_gp_package pkg;
    char why[96] = "";
    memset(&info, 0, sizeof info);
    memset(&pkg, 0, sizeof pkg);
    seam_err e = SEAM_OK;
    if (c->kind != SEAM_STORE_DELETE) {
        e = seam_store_package_get(seam_srv_store(srv), &c->package_aid, c->package_version, &info,
                                   &module);
        if (e == SEAM_ERR_NOT_FOUND) {
            fail(out, "the campaign's package is not stored");
            return SEAM_OK;
        }
        if (!e && seam_gp_package_read(module, info.module_len, &pkg, why, sizeof why)) {
            free(module);
            fail(out, "the campaign's package does not read");
            return SEAM_OK;
        }
    }
    size_t found = 0;
    if (e) {
        /* the store failed */
    } else if (c->kind == SEAM_STORE_INSTALL) {
        seam_gp_package_install in;
        memset(&in, 0, sizeof in);
        in.module = module;
        in.module_len = info.module_len;
        in.hash = true;
        if (!step->perso_only) /* else the package is on the card already */
            e = seam_gp_plan_install_package(&plan, &in,
                                             seam_gp_remote_load_block_size(step->remote));
        if (!e)
            e = plan_perso(srv, step, cin, &pkg, seam_gp_remote_block_size(step->remote), &plan,
                           &found);
    } else if (c->kind == SEAM_STORE_PERSONALIZE) {
        e = plan_perso(srv, step, cin, &pkg, seam_gp_remote_block_size(step->remote), &plan,
                       &found);
        if (!e && !found) {
            free(module);
            seam_gp_plan_free(&plan);
            fail(out, "no personalization data for this card and package");
            return SEAM_OK;
        }
    } else if (c->kind == SEAM_STORE_UPDATE || c->kind == SEAM_STORE_UPGRADE) {
        /* the new package and nothing else: the card keeps the applications' data (P8) */
        e = seam_gp_plan_upgrade_from(&plan, module, info.module_len, NULL, step->upgrade_from,
                                      seam_gp_remote_load_block_size(step->remote));
    } else {
        e = seam_gp_plan_delete(&plan, c->package_aid.bytes, c->package_aid.len, true);
    }
    free(module);
    if (!e)
        e = send_plan(step, PHASE_APPLY, &plan, out);
    seam_gp_plan_free(&plan);
    return e;
}

static bool upgrades(const seam_store_campaign *c) {
    return c->kind == SEAM_STORE_UPDATE || c->kind == SEAM_STORE_UPGRADE;
}

/* Sends GET STATUS of the campaign's package, then of each instance the step personalizes,
   and for an update or upgrade the card's upgrade status of the package (REGISTRY). */
static seam_err registry(struct seam_server *srv, seam_srv_step *step, const seam_store_campaign *c,
                         const seam_store_id *cin, seam_srv_plan_round *out) {
    uint8_t cmd[64];
    size_t n = 0;
    seam_gp_plan plan;
    seam_gp_plan_init(&plan);
    seam_err e = perso_instances(srv, step, c, cin);
    if (!e && c->kind == SEAM_STORE_PERSONALIZE && step->inst_count == 0) {
        fail(out, "no personalization data for this card and package");
        return SEAM_OK;
    }
    if (!e)
        e = seam_gp_build_get_status(SEAM_GP_ELFS, false, c->package_aid.bytes, c->package_aid.len,
                                     cmd, sizeof cmd, &n);
    if (!e)
        e = seam_gp_plan_add(&plan, cmd, n);
    for (size_t i = 0; !e && i < step->inst_count; i++) {
        e = seam_gp_build_get_status(SEAM_GP_APPS, false, step->inst[i].bytes, step->inst[i].len,
                                     cmd, sizeof cmd, &n);
        if (!e)
            e = seam_gp_plan_add(&plan, cmd, n);
    }
    if (!e && upgrades(c)) /* the card's upgrade session of the package, if any */
        e = seam_gp_plan_upgrade_step(&plan, SEAM_GP_UPGRADE_STATUS, c->package_aid.bytes,
                                      c->package_aid.len, NULL, 0);
    if (!e)
        e = send_plan(step, PHASE_REGISTRY, &plan, out);
    seam_gp_plan_free(&plan);
    return e;
}

/* Sends the step's delivery to the terminal (P6, P9): its body in out, the step waiting
   for the terminal's result. */
static seam_err deliver(struct seam_server *srv, seam_srv_step *step, const seam_store_campaign *c,
                        const seam_store_id *cin, seam_srv_plan_round *out) {
    memset(out, 0, sizeof *out);
    seam_err e = seam_srv_delivery_build(srv, c, cin, out);
    if (!e && out->outcome == SEAM_SRV_PLAN_DELIVERY)
        step->phase = PHASE_DELIVERY;
    return e;
}

seam_err seam_srv_step_result(struct seam_server *srv, seam_srv_step *step,
                              const seam_store_campaign *c, const seam_store_id *cin,
                              const seam_perso_result *result, seam_srv_plan_round *out) {
    (void)srv;
    (void)c;
    (void)cin;
    memset(out, 0, sizeof *out);
    if (step->phase != PHASE_DELIVERY) {
        fail(out, "a delivery result out of turn");
        return SEAM_OK;
    }
    if (!result->ok) {
        char why[SEAM_STORE_TEXT_MAX], sw[16] = "";
        if (result->sw)
            snprintf(sw, sizeof sw, " (SW %04X)", result->sw);
        int room = (int)(sizeof why - sizeof "the terminal: " - strlen(sw));
        snprintf(why, sizeof why, "the terminal: %.*s%s", room, result->reason, sw);
        fail(out, why);
        return SEAM_OK;
    }
    /* the terminal says it is applied: the server reads the card itself before done */
    step->delivered = true;
    step->resumed = true;
    step->registry_known = false;
    return hello(step, out);
}

seam_err seam_srv_step_start(struct seam_server *srv, const seam_store_campaign *c,
                             const seam_store_target *t, seam_srv_step **step,
                             seam_srv_plan_round *out) {
    /* the plan is built once round 1 is answered (the load block size depends on the
       session) */
    memset(out, 0, sizeof *out);
    *step = NULL;
    seam_store_keyset ks;
    seam_store_id isd = {.len = sizeof isd_aid};
    memcpy(isd.bytes, isd_aid, sizeof isd_aid);
    seam_err e = seam_store_keyset_get(seam_srv_store(srv), &t->cin, &isd, 0, &ks);
    if (e == SEAM_ERR_NOT_FOUND) {
        fail(out, "no key set of the ISD for this card");
        return SEAM_OK;
    }
    if (e)
        return e;
    seam_srv_step *s = calloc(1, sizeof *s);
    if (!s) {
        seam_secure_zero(&ks, sizeof ks);
        return SEAM_ERR_NOMEM;
    }
    seam_gp_aid_set(&s->config.sd, isd_aid, sizeof isd_aid);
    memcpy(s->config.keys.enc, ks.enc, ks.key_len);
    memcpy(s->config.keys.mac, ks.mac, ks.key_len);
    memcpy(s->config.keys.dek, ks.dek, ks.key_len);
    s->config.keys.len = ks.key_len;
    s->config.kvn = ks.kvn;
    s->config.level = SCP_LEVEL;
    seam_secure_zero(&ks, sizeof ks);
    /* claimed before: its server died or lost the session, and the card may have
       applied the step already */
    s->resumed = t->claims > 1;
    /* a personalize step never writes over an instance already personalized: the card's
       data (a purse's balance) is the holder's */
    if (c->kind == SEAM_STORE_PERSONALIZE)
        s->resumed = true;
    /* personalized in the terminal: the delivery first (a resumed step reads the registry
       first and delivers only what the card does not show applied) */
    s->in_terminal = seam_srv_campaign_in_terminal(c);
    if (s->in_terminal && !s->resumed) {
        e = deliver(srv, s, c, &t->cin, out);
        if (!e && out->outcome == SEAM_SRV_PLAN_DELIVERY) {
            *step = s;
            return SEAM_OK;
        }
        seam_srv_step_free(s);
        return e;
    }
    e = hello(s, out);
    if (e) {
        free(out->script);
        out->script = NULL;
        seam_srv_step_free(s);
        return e;
    }
    *step = s;
    return SEAM_OK;
}

/* The reason for a refused command: which it was and its SW. */
static void refused(const seam_gp_remote_report *rep, seam_srv_plan_round *out) {
    char what[96], why[SEAM_STORE_TEXT_MAX];
    if (rep->authentication_refused)
        snprintf(what, sizeof what, "EXTERNAL AUTHENTICATE");
    else
        seam_gp_command_text(rep->header, what, sizeof what);
    snprintf(why, sizeof why, "%s refused: SW %04X (%s)", what, rep->sw, seam_gp_sw_text(rep->sw));
    fail(out, why);
}

/* The lifecycle of each instance the step personalizes, from REGISTRY's answers 1..: not
   PERSONALIZED (0F) means its personalization is still to send. True when out says the
   step failed (an answer that does not decode, a locked instance). */
static bool instance_states(seam_srv_step *step, seam_srv_plan_round *out) {
    for (size_t i = 0; i < step->inst_count; i++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        uint16_t sw = 0;
        seam_gp_status_iter it;
        seam_gp_status_entry entry;
        seam_err e = seam_gp_remote_response(step->remote, 1 + i, &sw, &data, &len);
        bool found = false;
        seam_gp_status_iter_init(&it, data, e ? 0 : len);
        while (!e && (e = seam_gp_status_iter_next(&it, &entry)) == SEAM_OK)
            if (same_aid(&entry.aid, &step->inst[i])) {
                found = true;
                step->inst_needed[i] = entry.lifecycle != 0x0F;
                if (entry.lifecycle & 0x80) {
                    fail(out, "an application instance to personalize is locked");
                    return true;
                }
            }
        if (e != SEAM_ERR_NOT_FOUND || !found) {
            fail(out, "the card's registry does not decode");
            return true;
        }
    }
    return false;
}

/* An update's REGISTRY: the card's upgrade session of the package (the status query,
   REGISTRY's last answer) says where the plan starts (step->upgrade_from). held: the
   listing showed the old package in the temporary useful space, loaded by held_by;
   version: the package's in the useful space (0: none). True when out says the step
   ends here (failed, and why). */
static bool upgrade_session(seam_srv_step *step, const seam_store_campaign *c, bool held,
                            const seam_gp_aid *held_by, uint16_t version,
                            seam_srv_plan_round *out) {
    const uint8_t *data = NULL;
    size_t len = 0;
    uint16_t sw = 0;
    seam_gp_upgrade_status st;
    seam_gp_aid isd, pkg;
    char why[SEAM_STORE_TEXT_MAX];
    seam_gp_aid_set(&isd, isd_aid, sizeof isd_aid);
    seam_gp_aid_set(&pkg, c->package_aid.bytes, c->package_aid.len);
    step->upgrade_from = SEAM_GP_UPGRADE_FROM_START;
    if (seam_gp_remote_response(step->remote, 1 + step->inst_count, &sw, &data, &len) ||
        seam_gp_upgrade_decode(data, len, &st)) {
        fail(out, "the card's upgrade status does not decode");
        return true;
    }
    if (st.status == 0x00)
        return false; /* no session: the registry alone decides */
    if (!held || !same_aid(held_by, &isd)) {
        /* only the old package's SD may abort or continue its session (U5): never ours */
        fail(out, "an upgrade session of another security domain is open on the package: "
                  "not touched");
        return true;
    }
    if (!same_aid(&st.new_package, &pkg)) {
        step->upgrade_from = SEAM_GP_UPGRADE_FROM_ABORT; /* towards another package */
    } else if (st.status == 0x02) {
        step->upgrade_from = SEAM_GP_UPGRADE_FROM_LOAD;
    } else if (st.status == 0x03 && version == c->package_version) {
        step->upgrade_from = SEAM_GP_UPGRADE_FROM_MIGRATE;
    } else if (st.status == 0x03) {
        /* another version holds the package's AID: abort would be refused (6985) */
        snprintf(why, sizeof why,
                 "an upgrade session holds version %u.%u loaded: neither continued nor aborted",
                 version >> 8, version & 0xFF);
        fail(out, why);
        return true;
    } else {
        snprintf(why, sizeof why, "an upgrade session the server cannot resume: %s",
                 seam_gp_upgrade_text(st.status));
        fail(out, why);
        return true;
    }
    return false;
}

/* A terminal campaign's update: true when the card's upgrade status (REGISTRY's last answer)
   shows a session of the package open (the terminal's flow was cut: it resumes from its
   journal), or does not decode. */
static bool upgrade_open(seam_srv_step *step) {
    const uint8_t *data = NULL;
    size_t len = 0;
    uint16_t sw = 0;
    seam_gp_upgrade_status st;
    return seam_gp_remote_response(step->remote, 1 + step->inst_count, &sw, &data, &len) ||
           seam_gp_upgrade_decode(data, len, &st) || st.status != 0x00;
}

/* A terminal campaign's registry read found the step not applied: before the delivery (a
   resumed step) the delivery goes, after it the step fails with what the card shows. */
static seam_err not_applied(struct seam_server *srv, seam_srv_step *step,
                            const seam_store_campaign *c, const seam_store_id *cin, bool present,
                            uint16_t version, bool session_open, seam_srv_plan_round *out) {
    char why[SEAM_STORE_TEXT_MAX];
    if (!step->delivered)
        return deliver(srv, step, c, cin, out);
    if (session_open)
        snprintf(why, sizeof why,
                 "after the terminal's delivery an upgrade session of the "
                 "package is still open on the card");
    else if (present && version == c->package_version)
        snprintf(why, sizeof why,
                 "after the terminal's delivery an instance is not "
                 "PERSONALIZED on the card");
    else
        snprintf(why, sizeof why,
                 "after the terminal's delivery the card does not list the "
                 "package at %u.%u",
                 c->package_version >> 8, c->package_version & 0xFF);
    fail(out, why);
    return SEAM_OK;
}

/* REGISTRY's answer: the package's entry (or none) and the instances' lifecycles decide. */
static seam_err judge_registry(struct seam_server *srv, seam_srv_step *step,
                               const seam_store_campaign *c, const seam_store_id *cin,
                               const seam_gp_remote_report *rep, seam_srv_plan_round *out) {
    bool present = false, held = false, session_open = false;
    uint16_t version = 0; /* of the package in the useful space */
    seam_gp_aid held_by;  /* the SD of the old package an upgrade session holds */
    memset(&held_by, 0, sizeof held_by);
    if (!rep->ok && !rep->authentication_refused && rep->failed == 0 && rep->sw == 0x6A88) {
        present = false; /* no such package; the refusal ended the SCP03 session */
    } else if (!rep->ok && !rep->authentication_refused && rep->failed > 0 && rep->sw == 0x6A88) {
        /* a terminal's install cut between its LOAD and its INSTALL: the terminal's flow
           reads the card and finishes it when the delivery comes again (P6, X5) */
        if (step->in_terminal && !step->delivered && c->kind == SEAM_STORE_INSTALL)
            return deliver(srv, step, c, cin, out);
        fail(out, "the package is on the card without its application instance");
        return SEAM_OK;
    } else if (!rep->ok) {
        refused(rep, out);
        return SEAM_OK;
    } else {
        const uint8_t *data = NULL;
        size_t len = 0;
        uint16_t sw = 0;
        seam_gp_status_iter it;
        seam_gp_status_entry entry;
        seam_err e = seam_gp_remote_response(step->remote, 0, &sw, &data, &len);
        if (e)
            return e;
        seam_gp_status_iter_init(&it, data, len);
        while ((e = seam_gp_status_iter_next(&it, &entry)) == SEAM_OK)
            if (entry.aid.len == c->package_aid.len &&
                !memcmp(entry.aid.bytes, c->package_aid.bytes, entry.aid.len)) {
                present = true;
                if (entry.space == SPACE_TEMPORARY) { /* an upgrade session's old package */
                    held = true;
                    held_by = entry.sd;
                } else {
                    version = entry.version;
                }
            }
        if (e != SEAM_ERR_NOT_FOUND) {
            fail(out, "the card's registry does not decode");
            return SEAM_OK;
        }
        if (instance_states(step, out))
            return SEAM_OK;
        if (upgrades(c) && step->in_terminal)
            session_open = upgrade_open(step);
        else if (upgrades(c) && upgrade_session(step, c, held, &held_by, version, out))
            return SEAM_OK;
    }
    step->registry_known = true;
    bool at_target = present && version == c->package_version && !session_open &&
                     step->upgrade_from == SEAM_GP_UPGRADE_FROM_START;
    size_t needed = 0;
    for (size_t i = 0; i < step->inst_count; i++)
        needed += step->inst_needed[i];
    switch (c->kind) {
    case SEAM_STORE_INSTALL:
        if (at_target && needed) {
            step->perso_only = true; /* cut between the install and its personalization */
            break;
        }
        /* fall through */
    case SEAM_STORE_UPDATE:
    case SEAM_STORE_UPGRADE:
        /* a terminal's update cut after its migrate: the card is done, the terminal's store
           not (its journal, the records as they were before); the delivery comes once
           more and the terminal's flow, finding the card done, files the records and
           closes its journal (P9, X5); the registry is read again after its result */
        if (at_target && step->in_terminal && !step->delivered && c->kind == SEAM_STORE_UPDATE)
            return deliver(srv, step, c, cin, out);
        if (at_target) {
            out->outcome = SEAM_SRV_PLAN_DONE;
            snprintf(out->reason, sizeof out->reason,
                     "already applied: the package is on the "
                     "card at this version");
            return SEAM_OK;
        }
        if (c->kind == SEAM_STORE_INSTALL && present) {
            fail(out, "the package is on the card at another version");
            return SEAM_OK;
        }
        if (c->kind != SEAM_STORE_INSTALL && !present) {
            fail(out, "the package to update is not on the card");
            return SEAM_OK;
        }
        break;
    case SEAM_STORE_PERSONALIZE:
        if (!present) {
            fail(out, "the package to personalize is not on the card");
            return SEAM_OK;
        }
        if (!needed) {
            out->outcome = SEAM_SRV_PLAN_DONE;
            snprintf(out->reason, sizeof out->reason,
                     "already applied: every instance is PERSONALIZED (its data kept)");
            return SEAM_OK;
        }
        break;
    case SEAM_STORE_DELETE:
        if (!present) {
            out->outcome = SEAM_SRV_PLAN_DONE;
            snprintf(out->reason, sizeof out->reason, "already applied: the package is gone");
            return SEAM_OK;
        }
        break;
    default:
        break;
    }
    if (step->in_terminal)
        return not_applied(srv, step, c, cin, present, version, session_open, out);
    if (!rep->ok)
        return hello(step, out); /* a new session; APPLY follows its round 1 */
    return apply(srv, step, c, cin, out);
}

seam_err seam_srv_step_next(struct seam_server *srv, seam_srv_step *step,
                            const seam_store_campaign *c, const seam_store_id *cin,
                            const uint8_t *responses, size_t len, seam_srv_plan_round *out) {
    memset(out, 0, sizeof *out);
    seam_gp_remote_report rep;
    memset(&rep, 0, sizeof rep);
    seam_err e = seam_gp_remote_read(step->remote, responses, len, &rep);
    if (e) {
        char why[SEAM_STORE_TEXT_MAX];
        snprintf(why, sizeof why, "the responses do not answer the script: %s", seam_err_str(e));
        fail(out, why);
        return SEAM_OK;
    }
    switch (step->phase) {
    case PHASE_HELLO:
        if (!rep.ok) {
            refused(&rep, out);
            return SEAM_OK;
        }
        if (step->resumed && !step->registry_known)
            return registry(srv, step, c, cin, out);
        return apply(srv, step, c, cin, out);
    case PHASE_REGISTRY:
        return judge_registry(srv, step, c, cin, &rep, out);
    case PHASE_APPLY:
        if (!rep.ok && upgrades(c) && !step->registry_known && !rep.authentication_refused &&
            rep.sw == 0x6985 && rep.header[1] == 0xEA && rep.header[2] == SEAM_GP_UPGRADE_START) {
            /* the card holds an upgrade session of the package already: read it (the
               refusal ended the SCP03 session) */
            step->resumed = true;
            return hello(step, out);
        }
        if (!rep.ok) {
            refused(&rep, out);
            return SEAM_OK;
        }
        if (c->kind == SEAM_STORE_UPDATE || c->kind == SEAM_STORE_UPGRADE) {
            /* the last command is migrate: the card says whether the upgrade completed */
            const uint8_t *data = NULL;
            size_t n = 0;
            uint16_t sw = 0;
            seam_gp_upgrade_status st;
            if (seam_gp_remote_response(step->remote, step->plan_count - 1, &sw, &data, &n) ||
                seam_gp_upgrade_decode(data, n, &st)) {
                fail(out, "MANAGE ELF UPGRADE migrate: an answer that does not decode");
                return SEAM_OK;
            }
            if (st.status != 0x01) {
                char why[SEAM_STORE_TEXT_MAX];
                snprintf(why, sizeof why, "upgrade not completed: %s",
                         seam_gp_upgrade_text(st.status));
                fail(out, why);
                return SEAM_OK;
            }
        }
        out->outcome = SEAM_SRV_PLAN_DONE;
        if (step->upgrade_from != SEAM_GP_UPGRADE_FROM_START)
            snprintf(out->reason, sizeof out->reason, "%s",
                     step->upgrade_from == SEAM_GP_UPGRADE_FROM_LOAD
                         ? "resumed the card's upgrade session: load and migrate"
                     : step->upgrade_from == SEAM_GP_UPGRADE_FROM_MIGRATE
                         ? "resumed the card's upgrade session: migrate"
                         : "aborted the card's upgrade session towards another package, then "
                           "upgraded");
        return SEAM_OK;
    case PHASE_DELIVERY: /* the terminal owes a delivery result, not responses */
        break;
    }
    fail(out, "step out of turn");
    return SEAM_OK;
}
