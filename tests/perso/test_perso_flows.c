/*
 * The flows outside the card against a real card image (P4, P6, P9, P10;
 * docs/restore-module.md "Outside the card"): the terminal personalizes and loads a
 * package through its domain, updates it with the card's exported record, restores
 * an application the card lost from its store; what it must refuse changes neither
 * the card (the whole nvm) nor the store's records and journal, and is logged.
 */
#include "flows_host.h"

static void p6_terminal_personalizes_and_loads(void **state) {
    flows_fixture *ff = *state;
    terminal_installs_purse(ff);
    assert_int_equal(select_aid(ff->card.card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    /* the record went into the store, sealed */
    perso_identity id;
    seam_gp_aid inst = aid_of(purse, sizeof purse), pkg = aid_of(purse_pkg, sizeof purse_pkg);
    perso_flow_identity(actor_of(ff), &inst, &pkg, &id);
    assert_int_equal(perso_store_check(ff->store, &ff->domain, &id), SEAM_OK);
    /* PERSONALIZED (0F), and the domain's: the ISD lists it with CC = the domain */
    open_channel(ff->card.card);
    const uint8_t crit[] = {0x4F, 7, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11};
    assert_int_equal(gp(ff->card.card, true, 0xF2, 0x40, 0x02, crit, sizeof crit), 0x9000);
    bool personalized = false, owned = false;
    for (size_t i = 0; i + 3 <= response_len; i++) {
        if (response[i] == 0x9F && response[i + 1] == 0x70 && response[i + 2] == 1)
            personalized = response[i + 3] == 0x0F;
        if (response[i] == 0xCC && response[i + 1] == sizeof domain_aid)
            owned = !memcmp(response + i + 2, domain_aid, sizeof domain_aid);
    }
    assert_true(personalized);
    assert_true(owned);
}

/* Whether the PIN's bytes crossed the interface in clear (a wrapped response holding
   them) and whether the terminal read them (a plain response holding them). */
static bool pin_on_the_wire, pin_read;
static bool has_pin(const uint8_t *b, size_t n) {
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(b + i, "5678", 4))
            return true;
    return false;
}
static void watch_pin(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    (void)ctx;
    if (point == SEAM_GP_TRACE_RESPONSE_WRAPPED && has_pin(bytes, len))
        pin_on_the_wire = true;
    if (point == SEAM_GP_TRACE_RESPONSE && has_pin(bytes, len))
        pin_read = true;
}

static void p9_update_personalized_outside_the_card_keeps_pin_and_balance(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    seam_card_traffic before, after;
    size_t len = 0;
    terminal_installs_purse(ff);
    purse_used(ff->card.card);
    uint8_t *module = read_module("purse_v2", &len);
    seam_card_traffic_get(ff->card.card, &before);
    pin_on_the_wire = pin_read = false;
    seam_gp_set_trace(actor_of(ff)->gp, watch_pin, NULL);
    assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    seam_card_traffic_get(ff->card.card, &after);
    /* the export reached the terminal (it read the PIN block), under R-ENC on the wire */
    assert_true(pin_read);
    assert_false(pin_on_the_wire);
    assert_string_equal(report.reason, "");
    assert_int_equal(report.instances, 1);
    assert_false(report.resumed);
    assert_int_equal(report.package.version, 0x0200);
    print_message("P9 update in the terminal: %zu load file bytes, %zu personalization bytes "
                  "(seam.perso + DGI 7F71) sent to the card, %llu bytes in\n",
                  report.load_bytes, report.perso_bytes,
                  (unsigned long long)(after.total.bytes_in - before.total.bytes_in));
    assert_true(report.perso_bytes > 0);
    free(module);
    assert_true(purse_is_v2(ff->card.card));
    purse_kept_its_data(ff->card.card);
    /* nothing left behind: no journal, the store's record of the new version */
    perso_identity id;
    perso_journal j;
    seam_gp_aid pkg = aid_of(purse_pkg, sizeof purse_pkg);
    perso_flow_identity(actor_of(ff), &pkg, &pkg, &id);
    assert_int_equal(perso_journal_get(ff->store, &id, &j), SEAM_ERR_NOT_FOUND);
    /* called again with the same file: nothing to do, nothing done */
    module = read_module("purse_v2", &len);
    assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
    free(module);
    purse_kept_its_data(ff->card.card);
}

/* The card loses the purse: its package, instance and record deleted by the domain. */
static void card_loses_purse(flows_fixture *ff) {
    uint16_t sw = 0;
    uint8_t del_record[] = {0x80, 0xE4, 0x00, 0x00, 10,   0xDF, 0x70, 7,
                            0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x11, 0x00};
    assert_int_equal(seam_perso_domain_open(session(ff->card.card), &ff->domain, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(delete_aid(ff->card.card, purse_pkg, sizeof purse_pkg, 0x80), 0x9000);
    assert_int_equal(host_send(ff->card.card, del_record, sizeof del_record), 0x9000);
    assert_int_equal(select_aid(ff->card.card, purse, sizeof purse), 0x6A82);
}

/* The commands a flow sent (plain, as meant): their CLA INS P1, in order. */
static uint8_t sent[64][3];
static size_t sent_count;
static void count_sent(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    (void)ctx;
    if (point == SEAM_GP_TRACE_COMMAND && len >= 4 && sent_count < 64) {
        memcpy(sent[sent_count], bytes, 3);
        sent_count++;
    }
}

static void trace_flow(seam_perso_actor *actor) {
    sent_count = 0;
    seam_gp_set_trace(actor->gp, count_sent, NULL);
}

/* The index of the first command sent with INS ins and P1 p1 (sent_count: none). */
static size_t first_sent(uint8_t ins, uint8_t p1) {
    for (size_t i = 0; i < sent_count; i++)
        if (sent[i][1] == ins && sent[i][2] == p1)
            return i;
    return sent_count;
}

static void p4_restore_from_the_terminal_store_after_the_card_lost_it(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    size_t len = 0;
    seam_gp_aid inst = aid_of(purse, sizeof purse);
    terminal_installs_purse(ff);
    purse_used(ff->card.card);
    card_loses_purse(ff);
    uint8_t *module = read_module("purse", &len);
    trace_flow(actor_of(ff));
    assert_int_equal(seam_perso_restore(actor_of(ff), module, len, &inst, &report), SEAM_OK);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    free(module);
    assert_string_equal(report.reason, "");
    assert_int_equal(report.instances, 1);
    /* INSTALL [for load] first, then the LOAD carrying the released record, the
       instance, the entries (STORE DATA), PERSONALIZED */
    size_t for_load = first_sent(0xE6, 0x02), load = first_sent(0xE8, 0x00);
    assert_true(for_load < load && load < sent_count);
    assert_true(load < first_sent(0xE6, 0x0C) && first_sent(0xE6, 0x0C) < sent_count);
    assert_true(first_sent(0xE6, 0x0C) < first_sent(0xE2, 0x88));
    assert_true(first_sent(0xE2, 0x88) < first_sent(0xF0, 0x40) &&
                first_sent(0xF0, 0x40) < sent_count);
    /* personalized again from the store: PIN 5678, nothing sent by a server */
    assert_int_equal(select_aid(ff->card.card, purse, sizeof purse), 0x9000);
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
    assert_int_equal(refusals(ff->store), 0);
}

/* ---- P10: refusals change nothing and are logged ------------------------------------ */

typedef struct {
    uint8_t card[32], store[32];
    size_t log;
} snapshot;

static void snap(flows_fixture *ff, snapshot *s) {
    fingerprint(ff->card.card, s->card);
    assert_int_equal(seam_perso_store_digest(ff->store, s->store), SEAM_OK);
    s->log = refusals(ff->store);
}

/* The card's nvm and the store's records and journal as in before; one more refusal. */
static void nothing_changed_but_logged(flows_fixture *ff, const snapshot *before) {
    snapshot now;
    snap(ff, &now);
    assert_memory_equal(now.card, before->card, 32);
    assert_memory_equal(now.store, before->store, 32);
    assert_int_equal(now.log, before->log + 1);
    print_message("refused and logged: %s\n", last_reason);
}

static void p10_a_record_for_another_identity_is_refused(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    snapshot before;
    size_t len = 0;
    const uint8_t other[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x12};
    seam_gp_aid inst = aid_of(other, sizeof other);
    terminal_installs_purse(ff);
    card_loses_purse(ff);
    /* the purse's row filed under another instance: the record for another identity */
    tamper(ff->store_path, "UPDATE perso_records SET instance = X'A0000005505512' WHERE instance = "
                           "X'A0000005505511'");
    uint8_t *module = read_module("purse", &len);
    snap(ff, &before);
    assert_int_equal(seam_perso_restore(actor_of(ff), module, len, &inst, &report),
                     SEAM_ERR_PERSO_SEAL);
    assert_true(strlen(report.reason) > 0);
    nothing_changed_but_logged(ff, &before);
    free(module);
}

static void p10_a_tampered_record_is_refused(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    snapshot before;
    size_t len = 0;
    seam_gp_aid inst = aid_of(purse, sizeof purse);
    terminal_installs_purse(ff);
    card_loses_purse(ff);
    /* byte 21 always changes: FF becomes 00, anything else FF */
    tamper(ff->store_path, "UPDATE perso_records SET sealed = substr(sealed, 1, 20) ||"
                           " CASE WHEN substr(sealed, 21, 1) = X'FF' THEN X'00' ELSE X'FF' END"
                           " || substr(sealed, 22)");
    uint8_t *module = read_module("purse", &len);
    snap(ff, &before);
    trace_flow(actor_of(ff));
    assert_int_equal(seam_perso_restore(actor_of(ff), module, len, &inst, &report),
                     SEAM_ERR_PERSO_SEAL);
    assert_int_equal(sent_count, 0); /* nothing sent */
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    nothing_changed_but_logged(ff, &before);
    free(module);
}

static void p10_a_package_for_another_card_is_refused(void **state) {
    flows_fixture *ff = *state;
    seam_perso_data data = {.data = pin_block, .len = sizeof pin_block};
    seam_perso_report report;
    snapshot before;
    size_t len = 0;
    uint8_t *module = read_module("purse", &len);
    data.instance = aid_of(purse, sizeof purse);
    seam_perso_actor *actor = actor_of(ff);
    actor->cin[actor->cin_len - 1] ^= 0x01; /* the data is for another card */
    snap(ff, &before);
    assert_int_equal(seam_perso_install(actor, module, len, &data, 1, &report),
                     SEAM_ERR_PERSO_WRONG_CARD);
    assert_true(strstr(report.reason, "CIN") != NULL);
    nothing_changed_but_logged(ff, &before);
    snap(ff, &before);
    assert_int_equal(seam_perso_update(actor, module, len, &report), SEAM_ERR_PERSO_WRONG_CARD);
    nothing_changed_but_logged(ff, &before);
    free(module);
}

static void p10_release_outside_an_authorized_load_is_refused(void **state) {
    flows_fixture *ff = *state;
    snapshot before;
    uint8_t out[SEAM_PERSO_RECORD_MAX];
    size_t n = 0;
    perso_identity id;
    perso_grant refused_load;
    seam_gp_aid inst = aid_of(purse, sizeof purse), pkg = aid_of(purse_pkg, sizeof purse_pkg);
    terminal_installs_purse(ff);
    perso_flow_identity(actor_of(ff), &inst, &pkg, &id);
    snap(ff, &before);
    /* no load at all */
    assert_int_equal(perso_store_release(ff->store, &ff->domain, &id, NULL, out, sizeof out, &n),
                     SEAM_ERR_PERSO_DENIED);
    nothing_changed_but_logged(ff, &before);
    /* an INSTALL [for load] the card refused (the package is there: 6985) */
    uint16_t sw = 0;
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_LOAD, .elf = pkg};
    assert_int_equal(seam_perso_domain_open(session(ff->card.card), &ff->domain, &sw), SEAM_OK);
    assert_int_equal(seam_gp_install(session(ff->card.card), &in, &sw), SEAM_OK);
    assert_int_not_equal(sw, 0x9000);
    perso_grant_after_load(&refused_load, session(ff->card.card), actor_of(ff), &pkg, sw);
    snap(ff, &before);
    assert_int_equal(
        perso_store_release(ff->store, &ff->domain, &id, &refused_load, out, sizeof out, &n),
        SEAM_ERR_PERSO_DENIED);
    nothing_changed_but_logged(ff, &before);
}

static void p10_another_sds_content_is_refused(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    snapshot before;
    size_t len = 0;
    uint16_t sw = 0;
    /* the issuer's own purse, personalized by the ISD */
    open_channel(ff->card.card);
    load(ff->card.card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(install(ff->card.card, 0x0C, purse_pkg, purse_cls, purse, NULL, 0), 0x9000);
    assert_int_equal(install_perso(ff->card.card, purse, sizeof purse), 0x9000);
    assert_int_equal(gp(ff->card.card, true, 0xE2, 0x90, 0x00, pin_block, sizeof pin_block),
                     0x9000);
    purse_used(ff->card.card);
    uint8_t *module = read_module("purse_v2", &len);
    /* the domain's session open (its INITIALIZE UPDATE counts), then the flow */
    assert_int_equal(seam_perso_domain_open(session(ff->card.card), &ff->domain, &sw), SEAM_OK);
    snap(ff, &before);
    assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
    assert_int_not_equal(report.sw, 0x9000);
    assert_true(strlen(report.reason) > 0);
    nothing_changed_but_logged(ff, &before);
    /* the card refuses the domain the ISD's record (the export of another SD's instance) */
    bool refused = false;
    seam_gp_aid pkg = aid_of(purse_pkg, sizeof purse_pkg), isd_purse = aid_of(purse, sizeof purse);
    assert_int_equal(seam_perso_domain_open(session(ff->card.card), &ff->domain, &sw), SEAM_OK);
    snap(ff, &before);
    memset(&report, 0, sizeof report);
    assert_int_equal(perso_flow_export(actor_of(ff), &report, &isd_purse, &pkg, &refused), SEAM_OK);
    assert_true(refused);
    assert_true(report.sw == 0x6A88 || report.sw == 0x6982);
    nothing_changed_but_logged(ff, &before);
    /* and its record cannot be asked for: none of the domain's */
    seam_gp_aid inst = aid_of(purse, sizeof purse);
    free(module);
    module = read_module("purse", &len);
    snap(ff, &before);
    assert_int_equal(seam_perso_restore(actor_of(ff), module, len, &inst, &report),
                     SEAM_ERR_PERSO_DENIED);
    nothing_changed_but_logged(ff, &before);
    free(module);
    purse_kept_its_data(ff->card.card);
}

/* ---- a refused update is rolled back; what perso refuses before sending ------------- */

/* The card's upgrade session of the purse package, read through the domain: 00 none. */
static uint8_t purse_upgrade_status(flows_fixture *ff) {
    seam_gp_upgrade_status st;
    uint16_t sw = 0;
    seam_gp *gp = session(ff->card.card);
    assert_int_equal(seam_perso_domain_open(gp, &ff->domain, &sw), SEAM_OK);
    assert_int_equal(sw, 0x9000);
    memset(&st, 0, sizeof st);
    assert_int_equal(
        seam_gp_upgrade(gp, SEAM_GP_UPGRADE_STATUS, purse_pkg, sizeof purse_pkg, NULL, 0, &st, &sw),
        SEAM_OK);
    assert_int_equal(sw, 0x9000);
    return st.status;
}

static bool purse_journaled(flows_fixture *ff) {
    perso_identity id;
    perso_journal j;
    seam_gp_aid pkg = aid_of(purse_pkg, sizeof purse_pkg);
    perso_flow_identity(actor_of(ff), &pkg, &pkg, &id);
    return perso_journal_get(ff->store, &id, &j) == SEAM_OK;
}

static void update_to(flows_fixture *ff, const char *name) {
    seam_perso_report report;
    size_t len = 0;
    uint8_t *module = read_module(name, &len);
    assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
    assert_string_equal(report.reason, "");
    free(module);
}

static void p9_an_update_the_card_refuses_is_rolled_back_and_the_next_one_works_X4(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    size_t len = 0;
    terminal_installs_purse(ff);
    purse_used(ff->card.card);
    update_to(ff, "purse_v2");
    /* purse 1.0 over 2.0: started and loaded, then the card refuses (1.0's restore
       answers 6985 to a previous version of 2.0) */
    uint8_t *module = read_module("purse", &len);
    assert_int_equal(seam_perso_update(actor_of(ff), module, len, &report), SEAM_OK);
    free(module);
    print_message("refused: %s\n", report.reason);
    assert_int_not_equal(report.sw, 0x9000);
    assert_true(strlen(report.reason) > 0);
    /* rolled back: 2.0 with its data, no upgrade session, no journal */
    assert_int_equal(purse_upgrade_status(ff), 0x00);
    assert_false(purse_journaled(ff));
    assert_true(purse_is_v2(ff->card.card));
    purse_kept_its_data(ff->card.card);
    /* the next update with another file is not refused */
    update_to(ff, "purse_v2");
    assert_true(purse_is_v2(ff->card.card));
    purse_kept_its_data(ff->card.card);
}

/* A module that carries a seam.perso section already (someone else's personalization). */
static uint8_t *module_with_perso(const char *name, size_t *len) {
    size_t n = 0;
    uint8_t *module = read_module(name, &n);
    seam_perso_record r = {.instance = aid_of(purse, sizeof purse), .block_count = 1};
    r.blocks[0] = (seam_perso_block){0x90, pin_block, sizeof pin_block};
    uint8_t *out = malloc(n + 1024);
    assert_non_null(out);
    assert_int_equal(seam_perso_package_personalize(module, n, &r, out, n + 1024, len), SEAM_OK);
    assert_true(seam_perso_package_has_perso(out, *len));
    free(module);
    return out;
}

/* Each flow refuses before sending anything: the card and the store as before. */
static void p10_a_module_with_a_perso_section_is_refused_before_anything_is_sent(void **state) {
    flows_fixture *ff = *state;
    seam_perso_data data = {.data = pin_block, .len = sizeof pin_block};
    seam_perso_report report;
    uint8_t card_before[32], store_before[32], card_now[32], store_now[32];
    size_t len = 0;
    seam_gp_aid inst = aid_of(purse, sizeof purse);
    data.instance = inst;
    uint8_t *v1 = module_with_perso("purse", &len);
    /* install */
    fingerprint(ff->card.card, card_before);
    assert_int_equal(seam_perso_store_digest(ff->store, store_before), SEAM_OK);
    trace_flow(actor_of(ff));
    seam_err e = seam_perso_install(actor_of(ff), v1, len, &data, 1, &report);
    print_message("install: %d, %zu commands sent\n", e, sent_count);
    assert_int_equal(e, SEAM_ERR_GP_PACKAGE);
    assert_int_equal(sent_count, 0);
    fingerprint(ff->card.card, card_now);
    assert_int_equal(seam_perso_store_digest(ff->store, store_now), SEAM_OK);
    assert_memory_equal(card_now, card_before, 32);
    assert_memory_equal(store_now, store_before, 32);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    /* update */
    terminal_installs_purse(ff);
    purse_used(ff->card.card);
    size_t v2_len = 0;
    uint8_t *v2 = module_with_perso("purse_v2", &v2_len);
    fingerprint(ff->card.card, card_before);
    assert_int_equal(seam_perso_store_digest(ff->store, store_before), SEAM_OK);
    trace_flow(actor_of(ff));
    e = seam_perso_update(actor_of(ff), v2, v2_len, &report);
    print_message("update: %d, %zu commands sent\n", e, sent_count);
    assert_int_equal(e, SEAM_ERR_GP_PACKAGE);
    assert_int_equal(sent_count, 0);
    fingerprint(ff->card.card, card_now);
    assert_int_equal(seam_perso_store_digest(ff->store, store_now), SEAM_OK);
    assert_memory_equal(card_now, card_before, 32);
    assert_memory_equal(store_now, store_before, 32);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    /* restore */
    card_loses_purse(ff);
    fingerprint(ff->card.card, card_before);
    assert_int_equal(seam_perso_store_digest(ff->store, store_before), SEAM_OK);
    trace_flow(actor_of(ff));
    e = seam_perso_restore(actor_of(ff), v1, len, &inst, &report);
    print_message("restore: %d, %zu commands sent\n", e, sent_count);
    assert_int_equal(e, SEAM_ERR_GP_PACKAGE);
    assert_int_equal(sent_count, 0);
    fingerprint(ff->card.card, card_now);
    assert_int_equal(seam_perso_store_digest(ff->store, store_now), SEAM_OK);
    assert_memory_equal(card_now, card_before, 32);
    assert_memory_equal(store_now, store_before, 32);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    free(v1);
    free(v2);
}

static void p10_a_restore_of_an_older_version_than_the_record_is_refused(void **state) {
    flows_fixture *ff = *state;
    seam_perso_report report;
    snapshot before;
    size_t len = 0;
    seam_gp_aid inst = aid_of(purse, sizeof purse);
    terminal_installs_purse(ff);
    purse_used(ff->card.card);
    update_to(ff, "purse_v2"); /* the store's record: exported from 2.0 */
    card_loses_purse(ff);
    uint8_t *module = read_module("purse", &len);
    snap(ff, &before);
    trace_flow(actor_of(ff));
    seam_err e = seam_perso_restore(actor_of(ff), module, len, &inst, &report);
    print_message("restore of 1.0 from a 2.0 record: %d, %zu commands sent\n", e, sent_count);
    seam_gp_set_trace(actor_of(ff)->gp, host_trace, NULL);
    assert_int_equal(e, SEAM_ERR_PERSO_DENIED);
    assert_int_equal(sent_count, 0);
    nothing_changed_but_logged(ff, &before);
    free(module);
    /* the version it was exported from restores it */
    module = read_module("purse_v2", &len);
    assert_int_equal(seam_perso_restore(actor_of(ff), module, len, &inst, &report), SEAM_OK);
    free(module);
    assert_true(purse_is_v2(ff->card.card));
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '1', '2', '3', '4'), 0x63C2);
    assert_int_equal(SEND(ff->card.card, 0x80, 0x20, 0x00, 0x00, 4, '5', '6', '7', '8'), 0x9000);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, flows_setup, flows_teardown)
    const struct CMUnitTest tests[] = {
        T(p6_terminal_personalizes_and_loads),
        T(p9_update_personalized_outside_the_card_keeps_pin_and_balance),
        T(p4_restore_from_the_terminal_store_after_the_card_lost_it),
        T(p10_a_record_for_another_identity_is_refused),
        T(p10_a_tampered_record_is_refused),
        T(p10_a_package_for_another_card_is_refused),
        T(p10_release_outside_an_authorized_load_is_refused),
        T(p10_another_sds_content_is_refused),
        T(p9_an_update_the_card_refuses_is_rolled_back_and_the_next_one_works_X4),
        T(p10_a_module_with_a_perso_section_is_refused_before_anything_is_sent),
        T(p10_a_restore_of_an_older_version_than_the_record_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
