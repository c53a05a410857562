/*
 * The test host for apps/devmgmt (tests/card/test_devmgmt*.c): the policy block,
 * STORE DATA through the ISD's secure channel, devmgmt selected on channel 1,
 * and the terminal's half played by the test (TERMINAL PROFILE, FETCH, TERMINAL
 * RESPONSE and ENVELOPE on channel 0, decoded with include/seam/toolkit.h).
 * Header-only, like card_host.h.
 */
#ifndef SEAM_TESTS_DEVMGMT_HOST_H
#define SEAM_TESTS_DEVMGMT_HOST_H

#include "card_host.h"
#include "seam/toolkit.h"

static const uint8_t dm_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D};
static const uint8_t dm_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01};

static const char url[] = "https://dm.example.net/sync";
static const char uri[] = "./devices";

/* A profile with some bits set (the card does not read it; devmgmt needs one). */
#define PROFILE 0x80, 0x10, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x01

/* A policy block: head[0..len) then the server (DF13 url, DF14 uri) into b; its length. */
static inline size_t policy_with_server(uint8_t *b, const uint8_t *head, size_t len) {
    size_t n = len;
    memcpy(b, head, len);
    b[n++] = 0xDF;
    b[n++] = 0x13;
    b[n++] = (uint8_t)strlen(url);
    memcpy(b + n, url, strlen(url));
    n += strlen(url);
    b[n++] = 0xDF;
    b[n++] = 0x14;
    b[n++] = (uint8_t)strlen(uri);
    memcpy(b + n, uri, strlen(uri));
    return n + strlen(uri);
}

/* The policy block: location status (03) counts, threshold 2, a timer of 1 s
   (00 00 01 as TIMER MANAGEMENT's swapped BCD: ss = 0x10), the server, ask. */
static inline size_t policy(uint8_t *b, bool ask) {
    const uint8_t head[] = {0xDF, 0x10, 1,    0x03, 0xDF, 0x11, 1,    2, 0xDF,
                            0x12, 3,    0x00, 0x00, 0x10, 0xDF, 0x15, 1, ask ? 1 : 0};
    return policy_with_server(b, head, sizeof head);
}

/* STORE DATA block[0..len) to devmgmt through the ISD's secure channel on channel 0,
   whatever is selected on channel 1 (devmgmt's live state there gets it). */
static inline uint16_t store_live(seam_card *card, const uint8_t *block, size_t len) {
    open_channel(card);
    assert_int_equal(install_perso(card, dm_cls, sizeof dm_cls), 0x9000);
    return gp(card, true, 0xE2, 0x90, 0x00, block, len);
}

/* STORE DATA block[0..len) to devmgmt through the ISD's secure channel, channel 1 closed
   first (devmgmt not selected anywhere). */
static inline uint16_t store(seam_card *card, const uint8_t *block, size_t len) {
    (void)SEND(card, 0x00, 0x70, 0x80, 0x01);
    open_channel(card);
    assert_int_equal(install_perso(card, dm_cls, sizeof dm_cls), 0x9000);
    return gp(card, true, 0xE2, 0x90, 0x00, block, len);
}

static uint16_t last_sw;

/* Opens channel 1 and selects devmgmt on it. */
static inline uint16_t select_dm(seam_card *card) {
    uint16_t sw = SEND(card, 0x00, 0x70, 0x00, 0x00, 0x01);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response[0], 1);
    return SEND(card, 0x01, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x44, 0x4D, 0x01, 0x00);
}

/* The fetched command, decoded. */
static uint8_t fetched[256];
static seam_tk_command cmd;

/* FETCH of the command last_sw (91xx) announces; decodes it. */
static inline void fetch(seam_card *card, uint8_t type) {
    assert_int_equal(last_sw & 0xFF00, 0x9100);
    uint8_t le = (uint8_t)last_sw;
    assert_int_equal(SEND(card, 0x80, 0x12, 0x00, 0x00, le), 0x9000);
    assert_int_equal(response_len, (size_t)le + 2);
    memcpy(fetched, response, le);
    assert_int_equal(seam_tk_command_decode(fetched, le, &cmd), SEAM_OK);
    assert_int_equal(cmd.details.type, type);
    assert_int_equal(cmd.source, SEAM_TK_DEV_UICC);
    assert_int_equal(cmd.unknown_cr_tag, 0);
}

/* TERMINAL RESPONSE to the fetched command: general result and extra objects. */
static inline void answer(seam_card *card, uint8_t general, const uint8_t *extra,
                          size_t extra_len) {
    uint8_t apdu[5 + 255] = {0x80, 0x14, 0x00, 0x00};
    size_t len = 0;
    assert_int_equal(seam_tk_response_build(&cmd.details, general, NULL, 0, extra, extra_len,
                                            apdu + 5, 255, &len),
                     SEAM_OK);
    apdu[4] = (uint8_t)len;
    last_sw = send(card, apdu, 5 + len);
}

/* TERMINAL RESPONSE to the fetched command with additional information on the result. */
static inline void answer_info(seam_card *card, uint8_t general, const uint8_t *info,
                               size_t info_len, const uint8_t *extra, size_t extra_len) {
    uint8_t apdu[5 + 255] = {0x80, 0x14, 0x00, 0x00};
    size_t len = 0;
    assert_int_equal(seam_tk_response_build(&cmd.details, general, info, info_len, extra, extra_len,
                                            apdu + 5, 255, &len),
                     SEAM_OK);
    apdu[4] = (uint8_t)len;
    last_sw = send(card, apdu, 5 + len);
}

static inline void envelope(seam_card *card, const uint8_t *env, size_t len) {
    uint8_t apdu[5 + 255] = {0x80, 0xC2, 0x00, 0x00, (uint8_t)len};
    memcpy(apdu + 5, env, len);
    last_sw = send(card, apdu, 5 + len);
}

static inline void menu(seam_card *card) {
    uint8_t env[16];
    size_t len;
    assert_int_equal(seam_tk_envelope_menu_selection(1, false, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
}

static inline void location_event(seam_card *card) {
    uint8_t env[32];
    size_t len;
    const uint8_t status[] = {0x9B, 0x01, 0x00};
    assert_int_equal(
        seam_tk_envelope_event(0x03, 0x82, status, sizeof status, env, sizeof env, &len), SEAM_OK);
    envelope(card, env, len);
}

/* The length of devmgmt's STATUS answer (apps/devmgmt/devmgmt.c, INS 20). */
#define DM_STATUS_LEN 22

/* devmgmt's STATUS (INS 20): DM_STATUS_LEN bytes into out. */
static inline void status(seam_card *card, uint8_t out[DM_STATUS_LEN]) {
    uint16_t sw = SEND(card, 0x81, 0x20, 0x00, 0x00, 0x00);
    assert_true(sw == 0x9000 || (sw & 0xFF00) == 0x9100);
    assert_int_equal(response_len, DM_STATUS_LEN + 2);
    memcpy(out, response, DM_STATUS_LEN);
}

/* The card's own SET UP MENU and SET UP EVENT LIST after a TERMINAL PROFILE: devmgmt's
   item 1 "Sync device" and the location status event, from what the card keeps. */
static inline void card_announces(seam_card *card) {
    seam_ctlv obj;
    fetch(card, SEAM_TK_CMD_SET_UP_MENU);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &obj), SEAM_OK);
    assert_int_equal(obj.value[0], 1);
    assert_int_equal(obj.len, 1 + strlen("Sync device"));
    assert_memory_equal(obj.value + 1, "Sync device", strlen("Sync device"));
    answer(card, SEAM_TK_RES_OK, NULL, 0);
    fetch(card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_EVENT_LIST, &obj),
                     SEAM_OK);
    assert_int_equal(obj.len, 1);
    assert_int_equal(obj.value[0], SEAM_TK_EVENT_LOCATION_STATUS);
    answer(card, SEAM_TK_RES_OK, NULL, 0);
}

/* devmgmt's TIMER MANAGEMENT (start) that a TERMINAL PROFILE gets from it (seam's event
   E1: the timer is RAM), answered. */
static inline void profile_timer(seam_card *card) {
    fetch(card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_TIMER_START);
    answer(card, SEAM_TK_RES_OK, NULL, 0);
}

/* devmgmt loaded, installed and given the policy (ask or not), selected nowhere; no
   profile yet. */
static inline void dm_personalized(fixture *f, bool ask) {
    uint8_t block[128];
    power_on(f->card);
    open_channel(f->card);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(install(f->card, 0x0C, dm_pkg, dm_cls, dm_cls, NULL, 0), 0x9000);
    assert_int_equal(store(f->card, block, policy(block, ask)), 0x9000);
}

/* devmgmt installed and given the policy (no profile yet), then the profile: nothing
   selects devmgmt, yet the card announces its item and event and devmgmt's own
   registration chain (queued by personalize) runs and is answered (issue 13). Then
   devmgmt is selected on channel 1, for the operator's STATUS reads only. */
static inline void dm_card(fixture *f, bool ask) {
    dm_personalized(f, ask);
    last_sw = SEND(f->card, PROFILE);
    card_announces(f->card);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU); /* devmgmt's own, queued at personalization */
    seam_ctlv item;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_ITEM, &item),
                     SEAM_OK);
    assert_int_equal(item.value[0], 1);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    seam_ctlv events;
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_EVENT_LIST, &events),
                     SEAM_OK);
    assert_int_equal(events.len, 1);
    assert_int_equal(events.value[0], SEAM_TK_EVENT_LOCATION_STATUS);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_TIMER_START);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    assert_int_equal(last_sw, 0x9000);
    assert_int_equal(select_dm(f->card), 0x9000); /* registered already: nothing queued */
}

/* The REQUEST SYNCHRONIZATION fetched: its objects are the policy's. */
static inline void fetch_sync(seam_card *card, uint8_t sync_type) {
    seam_tk_sync_request req;
    fetch(card, SEAM_TK_CMD_REQUEST_SYNC);
    assert_int_equal(cmd.dest, SEAM_TK_DEV_TERMINAL);
    assert_int_equal(seam_tk_sync_request_decode(cmd.objects, cmd.objects_len, &req), SEAM_OK);
    assert_int_equal(req.protocol, SEAM_TK_SYNC_PROTO_OMA_DS_12);
    assert_int_equal(req.transport, SEAM_TK_SYNC_TRANSPORT_HTTP);
    assert_int_equal(req.sync_type, sync_type);
    assert_int_equal(req.target_url_len, strlen(url));
    assert_memory_equal(req.target_url, url, strlen(url));
    assert_int_equal(req.target_uri_len, strlen(uri));
    assert_memory_equal(req.target_uri, uri, strlen(uri));
    assert_true(req.wants_result); /* S7 */
}

/* A date and time for PROVIDE LOCAL INFORMATION: 2026-12-03 15:04:05 (swapped BCD). */
static const uint8_t date_time[] = {0xA6, 0x07, 0x62, 0x21, 0x30, 0x51, 0x40, 0x50, 0x00};

/* After the answer to REQUEST SYNCHRONIZATION: the date and time, then DISPLAY TEXT
   of text to the user (S9); the session ends. */
static inline void after_sync(seam_card *card, const char *text) {
    seam_ctlv t;
    fetch(card, SEAM_TK_CMD_PROVIDE_LOCAL);
    assert_int_equal(cmd.details.qualifier, SEAM_TK_LOCAL_DATE_TIME);
    answer(card, SEAM_TK_RES_OK, date_time, sizeof date_time);
    fetch(card, SEAM_TK_CMD_DISPLAY_TEXT);
    assert_int_equal(seam_ctlv_find(cmd.objects, cmd.objects_len, SEAM_TK_TAG_TEXT_STRING, &t),
                     SEAM_OK);
    assert_int_equal(t.len, 1 + strlen(text));
    assert_int_equal(t.value[0], SEAM_TK_DCS_8BIT);
    assert_memory_equal(t.value + 1, text, strlen(text));
    answer(card, SEAM_TK_RES_OK, NULL, 0);
}

/* A digest of the restore module's tables (records, personalization blocks, entries:
   docs/restore-module.md): what a quota counts. */
static inline void restore_digest(seam_card *card, uint8_t out[32]) {
    memset(out, 0, 32);
    for (uint16_t table = 8; table <= 10; table++)
        assert_int_equal(
            seam_nvm_foreach(seam_card_nvm(card), table, NULL, 0, fingerprint_record, out),
            SEAM_OK);
}

/* Upgrades devmgmt by (the same build of) devmgmt, then a new power-up: the profile and
   the card's own SET UP MENU and SET UP EVENT LIST (what it kept), devmgmt selected on
   channel 1, its registration chain answered. */
static inline void upgrade_dm(fixture *f) {
    uint16_t sw = 0;
    (void)SEND(f->card, 0x00, 0x70, 0x80, 0x01);
    open_channel(f->card);
    assert_int_equal(host_result(seam_gp_upgrade(session(f->card), 0x01, dm_pkg, sizeof dm_pkg,
                                                 NULL, 0, NULL, &sw),
                                 &sw),
                     0x9000);
    load(f->card, "devmgmt", dm_pkg, sizeof dm_pkg);
    assert_int_equal(host_result(seam_gp_upgrade(session(f->card), 0x02, dm_pkg, sizeof dm_pkg,
                                                 NULL, 0, NULL, &sw),
                                 &sw),
                     0x9000);
    assert_int_equal(response[4], 0x01); /* completed */
    /* the card tells the terminal the menu and events it kept across the upgrade (S1) */
    reopen(f);
    last_sw = SEND(f->card, PROFILE);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    profile_timer(f->card);
    assert_int_equal(last_sw, 0x9000);
    last_sw = select_dm(f->card);
    fetch(f->card, SEAM_TK_CMD_SET_UP_MENU);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_SET_UP_EVENT_LIST);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
    fetch(f->card, SEAM_TK_CMD_TIMER_MANAGEMENT);
    answer(f->card, SEAM_TK_RES_OK, NULL, 0);
}

#endif
