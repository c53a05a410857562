/*
 * The terminal's half of the card application toolkit (include/seam/terminal.h
 * "The toolkit", docs/terminal.md): TERMINAL PROFILE at power-up (and again
 * when its capabilities change, before the event E0), the proactive
 * loop (91xx -> FETCH -> execute -> TERMINAL RESPONSE, while 91xx), the menu,
 * the event list, the timers and polling. The commands' execution is
 * toolkit_exec.c.
 *
 * States of the loop (one call of run_loop):
 *
 *   IDLE      the card's last answer was not 91xx: nothing to do
 *   FETCH     the answer was 91xx: FETCH xx; not 9000 -> IDLE
 *   EXECUTE   decode and run the command (toolkit_exec.c) -> a TERMINAL RESPONSE
 *   RESPOND   TERMINAL RESPONSE; its answer 91xx -> FETCH, else IDLE
 *
 * At most SEAM_TERMINAL_TK_LOOP_MAX commands are run for one answer, so a card
 * that always has another command cannot keep the terminal forever.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam/toolkit.h"
#include "toolkit_int.h"

static uint64_t system_now_ms(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t system_wall(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL);
}

static const uint8_t default_location[7] = {0x00, 0xF1, 0x10, 0x00, 0x01, 0x00, 0x01};

seam_err seam_terminal_tk_new(const seam_gp_link *link, const seam_terminal_tk_config *config,
                              seam_terminal_tk **out) {
    seam_terminal_tk *tk;
    if (!link || !config || !out || !config->ui.display || !config->ui.inkey)
        return SEAM_ERR_ARG;
    tk = calloc(1, sizeof *tk);
    if (!tk)
        return SEAM_ERR_NOMEM;
    tk->link = link;
    tk->cfg = *config;
    if (!tk->cfg.clock.now_ms)
        tk->cfg.clock = (seam_terminal_clock){system_now_ms, system_wall, NULL};
    if (!tk->cfg.clock.wall)
        tk->cfg.clock.wall = system_wall;
    if (!tk->cfg.imei)
        tk->cfg.imei = "490154203237518";
    if (!tk->cfg.language)
        tk->cfg.language = "en";
    if (!tk->cfg.location || !tk->cfg.location_len) {
        tk->cfg.location = default_location;
        tk->cfg.location_len = sizeof default_location;
    }
    if (strlen(tk->cfg.imei) != 15 || strspn(tk->cfg.imei, "0123456789") != 15 ||
        strlen(tk->cfg.language) != 2 || tk->cfg.location_len > 16) {
        free(tk);
        return SEAM_ERR_ARG;
    }
    *out = tk;
    return SEAM_OK;
}

seam_err seam_terminal_tk_set_sync(seam_terminal_tk *tk, const seam_terminal_tk_sync *sync) {
    if (!tk || !sync || !sync->run || !sync->dm_path)
        return SEAM_ERR_ARG;
    tk->sync = *sync;
    return SEAM_OK;
}

seam_err seam_terminal_tk_set_state(seam_terminal_tk *tk, seam_terminal_state *st) {
    if (!tk)
        return SEAM_ERR_ARG;
    tk->report.st = st;
    return SEAM_OK;
}

void seam_terminal_tk_free(seam_terminal_tk *tk) {
    free(tk);
}

void seam_terminal_tk_profile(uint8_t profile[20]) {
    static const unsigned bits[] = {
        SEAM_TK_PF_MENU_SELECTION,    SEAM_TK_PF_TIMER_EXPIRATION, SEAM_TK_PF_COMMAND_RESULT,
        SEAM_TK_PF_DISPLAY_TEXT,      SEAM_TK_PF_GET_INKEY,        SEAM_TK_PF_POLL_INTERVAL,
        SEAM_TK_PF_SET_UP_MENU,       SEAM_TK_PF_LOCAL_INFO,       SEAM_TK_PF_SET_UP_EVENT_LIST,
        SEAM_TK_PF_EV_CALL_CONNECTED, SEAM_TK_PF_EV_CALL_DISCONN,  SEAM_TK_PF_EV_LOCATION_STATUS,
        SEAM_TK_PF_EV_IDLE_SCREEN,    SEAM_TK_PF_EV_LANGUAGE,      SEAM_TK_PF_EV_DATA_AVAILABLE,
        SEAM_TK_PF_TIMER_START_STOP,  SEAM_TK_PF_TIMER_GET_VALUE,  SEAM_TK_PF_LOCAL_DATE_TIME,
        SEAM_TK_PF_LOCAL_LANGUAGE,
    };
    /* Not SEAM_TK_PF_REQUEST_SYNC: power-up adds it when the terminal has a database. */
    memset(profile, 0, SEAM_TK_PROFILE_LEN);
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        (void)seam_tk_profile_set(profile, SEAM_TK_PROFILE_LEN, bits[i]);
}

void tk_log(seam_terminal_tk *tk, const char *what, const uint8_t *data, size_t len) {
    if (!tk->cfg.log)
        return;
    fprintf(tk->cfg.log, "toolkit: %s", what);
    for (size_t i = 0; i < len; i++)
        fprintf(tk->cfg.log, "%s%02X", i ? "" : " ", data[i]);
    fputc('\n', tk->cfg.log);
    fflush(tk->cfg.log);
}

/* Sends one APDU; the status word into tk->status.last_sw. */
static seam_err send(seam_terminal_tk *tk, const uint8_t *apdu, size_t len, uint8_t *resp,
                     size_t size, size_t *resp_len) {
    seam_err e = seam_gp_link_transmit(tk->link, apdu, len, resp, size, resp_len);
    if (e)
        return e;
    if (*resp_len < 2)
        return SEAM_ERR_TERMINAL;
    tk->status.last_sw = (uint16_t)(resp[*resp_len - 2] << 8 | resp[*resp_len - 1]);
    return SEAM_OK;
}

/* Sends CLA 80 INS P1=P2=0 with data (Lc) or, with len 0 and le, Le only. */
static seam_err send_case(seam_terminal_tk *tk, uint8_t ins, const uint8_t *data, size_t len,
                          uint8_t le, uint8_t *resp, size_t size, size_t *resp_len) {
    uint8_t apdu[5 + SEAM_TK_MAX_VALUE + 3];
    size_t n = 4;
    if (len > SEAM_TK_MAX_VALUE)
        return SEAM_ERR_ARG;
    apdu[0] = 0x80;
    apdu[1] = ins;
    apdu[2] = apdu[3] = 0;
    if (len) {
        apdu[n++] = (uint8_t)len;
        memcpy(apdu + n, data, len);
        n += len;
    } else {
        apdu[n++] = le;
    }
    return send(tk, apdu, n, resp, size, resp_len);
}

static seam_err session_end(seam_terminal_tk *tk);

/* The loop, from an answer whose status word is tk->status.last_sw; when the session ends,
   a synchronization accepted for a later report runs and is reported (session_end). */
static seam_err run_loop(seam_terminal_tk *tk) {
    uint8_t resp[SEAM_TK_MAX_MESSAGE + 2], tr[SEAM_TK_MAX_VALUE];
    size_t resp_len, tr_len;
    seam_err e;
    for (unsigned n = 0; n < SEAM_TERMINAL_TK_LOOP_MAX; n++) {
        if ((tk->status.last_sw & 0xFF00u) != 0x9100u)
            return session_end(tk);
        e = send_case(tk, 0x12, NULL, 0, (uint8_t)tk->status.last_sw, resp, sizeof resp, &resp_len);
        if (e)
            return e;
        if (tk->status.last_sw != 0x9000u) {
            tk_log(tk, "FETCH refused, status", resp + resp_len - 2, 2);
            return SEAM_OK;
        }
        tk->status.fetched++;
        tk_log(tk, "fetched", resp, resp_len - 2);
        tk_execute(tk, resp, resp_len - 2, tr, sizeof tr, &tr_len);
        if (tr_len == 0) { /* no answer can be built: cannot happen with a 255-byte buffer */
            tk_log(tk, "no TERMINAL RESPONSE could be built", NULL, 0);
            return SEAM_OK;
        }
        tk_log(tk, "terminal response", tr, tr_len);
        e = send_case(tk, 0x14, tr, tr_len, 0, resp, sizeof resp, &resp_len);
        if (e)
            return e;
        tk->status.responses++;
    }
    tk_log(tk, "proactive loop stopped after its limit", NULL, 0);
    return SEAM_OK;
}

/* At most this many reports are sent at one session end (each envelope's session may
   accept another request). */
#define REPORTS_AT_ONCE 4u

/* The proactive session ended: runs an accepted synchronization and sends its report
   (ENVELOPE D6, event E2; toolkit_report.c), then the loop of that envelope. Not again
   from inside that loop (sending). A report the link could not carry stays. */
static seam_err session_end(seam_terminal_tk *tk) {
    uint8_t resp[SEAM_TK_MAX_MESSAGE + 2];
    size_t resp_len;
    seam_err e = SEAM_OK;
    if (tk->report.sending)
        return SEAM_OK;
    tk->report.sending = true;
    for (unsigned n = 0; n < REPORTS_AT_ONCE && !e && tk_report_ready(tk); n++) {
        tk_log(tk, "envelope", tk->report.envelope, tk->report.envelope_len);
        e = send_case(tk, 0xC2, tk->report.envelope, tk->report.envelope_len, 0, resp, sizeof resp,
                      &resp_len);
        if (e)
            break; /* the card went away: the report waits for its next profile */
        tk->status.envelopes++;
        tk_report_answered(tk, tk->status.last_sw);
        if (tk->report.state == TK_REPORT_TO_SEND)
            break; /* 9300: at the next session end */
        e = run_loop(tk);
    }
    tk->report.sending = false;
    return e;
}

/* The TERMINAL PROFILE of what tk can do now: seam_terminal_tk_profile, and REQUEST
   SYNCHRONIZATION while it has the engine (set_sync) and has not withdrawn it. */
static void profile_now(const seam_terminal_tk *tk, uint8_t profile[SEAM_TK_PROFILE_LEN]) {
    seam_terminal_tk_profile(profile);
    if (tk->sync.run && !tk->sync_off)
        (void)seam_tk_profile_set(profile, SEAM_TK_PROFILE_LEN, SEAM_TK_PF_REQUEST_SYNC);
}

/* Sends the TERMINAL PROFILE of what tk can do now and keeps it as the card's; the link's
   errors, SEAM_ERR_TERMINAL when the card refuses it. The loop is not run. */
static seam_err send_profile(seam_terminal_tk *tk) {
    uint8_t profile[SEAM_TK_PROFILE_LEN], resp[8];
    size_t resp_len;
    seam_err e;
    profile_now(tk, profile);
    tk_log(tk, "terminal profile", profile, sizeof profile);
    e = send_case(tk, 0x10, profile, sizeof profile, 0, resp, sizeof resp, &resp_len);
    if (e)
        return e;
    if (tk->status.last_sw != 0x9000u && (tk->status.last_sw & 0xFF00u) != 0x9100u)
        return SEAM_ERR_TERMINAL;
    memcpy(tk->profile, profile, sizeof profile);
    return SEAM_OK;
}

seam_err seam_terminal_tk_power_up(seam_terminal_tk *tk) {
    seam_err e;
    if (!tk)
        return SEAM_ERR_ARG;
    memset(tk->timers, 0, sizeof tk->timers);
    memset(tk->events, 0, sizeof tk->events);
    tk->menu_count = 0;
    tk->status.poll_ms = 0;
    e = tk->report.st ? tk_report_card(tk) : SEAM_OK;
    if (!e)
        e = send_profile(tk);
    return e ? e : run_loop(tk);
}

seam_err seam_terminal_tk_capabilities(seam_terminal_tk *tk, bool sync, bool *sent) {
    uint8_t profile[SEAM_TK_PROFILE_LEN];
    bool was_off;
    seam_err e;
    if (!tk || !sent)
        return SEAM_ERR_ARG;
    *sent = false;
    if (sync && !tk->sync.run)
        return SEAM_ERR_ARG; /* no engine: it cannot gain the capability */
    was_off = tk->sync_off;
    tk->sync_off = !sync;
    profile_now(tk, profile);
    if (memcmp(profile, tk->profile, sizeof profile) != 0) {
        /* the card's profile first (applets read it), then the event (TS 102 223 has the
           terminal send TERMINAL PROFILE whenever its capabilities change) */
        e = send_profile(tk);
        if (!e)
            e = run_loop(tk);
        if (e) {
            if (e == SEAM_ERR_TERMINAL) /* refused: the card keeps the old profile */
                tk->sync_off = was_off;
            return e;
        }
    }
    return seam_terminal_tk_event(tk, SEAM_TK_EVENT_CAPABILITIES_CHANGED, NULL, 0, sent);
}

seam_err seam_terminal_tk_transmit(seam_terminal_tk *tk, const uint8_t *command, size_t len,
                                   uint8_t *response, size_t size, size_t *response_len) {
    seam_err e;
    if (!tk || !command || !response || !response_len)
        return SEAM_ERR_ARG;
    e = send(tk, command, len, response, size, response_len);
    return e ? e : run_loop(tk);
}

seam_err tk_envelope(seam_terminal_tk *tk, const uint8_t *env, size_t len) {
    uint8_t resp[SEAM_TK_MAX_MESSAGE + 2];
    size_t resp_len;
    seam_err e;
    tk_log(tk, "envelope", env, len);
    e = send_case(tk, 0xC2, env, len, 0, resp, sizeof resp, &resp_len);
    if (e)
        return e;
    tk->status.envelopes++;
    return run_loop(tk);
}

seam_err seam_terminal_tk_menu_select(seam_terminal_tk *tk, uint8_t item_id, bool help) {
    uint8_t env[16];
    size_t len;
    size_t i;
    if (!tk)
        return SEAM_ERR_ARG;
    for (i = 0; i < tk->menu_count && tk->menu[i].id != item_id; i++)
        ;
    if (i == tk->menu_count)
        return SEAM_ERR_NOT_FOUND;
    if (seam_tk_envelope_menu_selection(item_id, help, env, sizeof env, &len))
        return SEAM_ERR_ARG;
    return tk_envelope(tk, env, len);
}

seam_err seam_terminal_tk_event(seam_terminal_tk *tk, uint8_t ev, const uint8_t *extra,
                                size_t extra_len, bool *sent) {
    uint8_t env[SEAM_TK_MAX_MESSAGE], with_location[64];
    size_t len;
    uint8_t source = SEAM_TK_DEV_TERMINAL;
    if (!tk || !sent || (extra_len && !extra))
        return SEAM_ERR_ARG;
    *sent = false;
    if (!seam_terminal_tk_event_wanted(tk, ev))
        return SEAM_OK;
    if (ev == SEAM_TK_EVENT_IDLE_SCREEN)
        source = SEAM_TK_DEV_DISPLAY;
    else if (ev == SEAM_TK_EVENT_CALL_CONNECTED || ev == SEAM_TK_EVENT_CALL_DISCONNECTED)
        source = SEAM_TK_DEV_NETWORK;
    if (ev == SEAM_TK_EVENT_LOCATION_STATUS && extra_len <= sizeof with_location) {
        /* Normal service (9B 01 00) without location information: the terminal's own. */
        seam_ctlv status, where;
        if (!seam_ctlv_find(extra, extra_len, SEAM_TK_TAG_LOCATION_STATUS, &status) &&
            status.len == 1 && status.value[0] == 0 &&
            seam_ctlv_find(extra, extra_len, SEAM_TK_TAG_LOCATION_INFO, &where) ==
                SEAM_ERR_NOT_FOUND) {
            size_t n = extra_len;
            memcpy(with_location, extra, extra_len);
            if (!seam_ctlv_put(SEAM_TK_TAG_LOCATION_INFO, true, tk->cfg.location,
                               tk->cfg.location_len, with_location, sizeof with_location, &n)) {
                extra = with_location;
                extra_len = n;
            }
        }
    }
    if (seam_tk_envelope_event(ev, source, extra, extra_len, env, sizeof env, &len))
        return SEAM_ERR_ARG;
    *sent = true;
    return tk_envelope(tk, env, len);
}

/* Seconds as a timer value: hh mm ss, each BCD with swapped nibbles (TS 102 223 §8.38). */
void tk_timer_value(uint64_t seconds, uint8_t out[3]) {
    unsigned v[3];
    if (seconds > 99u * 3600u + 59u * 60u + 59u)
        seconds = 99u * 3600u + 59u * 60u + 59u;
    v[0] = (unsigned)(seconds / 3600u);
    v[1] = (unsigned)(seconds / 60u % 60u);
    v[2] = (unsigned)(seconds % 60u);
    for (int i = 0; i < 3; i++)
        out[i] = (uint8_t)((v[i] % 10u) << 4 | v[i] / 10u);
}

seam_err seam_terminal_tk_tick(seam_terminal_tk *tk) {
    uint8_t env[32], resp[SEAM_TK_MAX_MESSAGE + 2], value[3];
    size_t len, resp_len;
    uint64_t now;
    seam_err e;
    if (!tk)
        return SEAM_ERR_ARG;
    now = tk->cfg.clock.now_ms(tk->cfg.clock.ctx);
    for (uint8_t id = 1; id <= SEAM_TERMINAL_TK_TIMERS; id++) {
        tk_timer *t = &tk->timers[id - 1];
        if (!t->running || now < t->start_ms + t->duration_ms)
            continue;
        /* Expired: the value is how long it has been running (TS 102 223 §6.6.21 / §7.4). */
        t->running = false;
        tk_timer_value((now - t->start_ms) / 1000u, value);
        if (seam_tk_envelope_timer(id, value, env, sizeof env, &len))
            return SEAM_ERR_ARG;
        e = tk_envelope(tk, env, len);
        if (e)
            return e;
    }
    if (tk->status.poll_ms && now >= tk->last_poll_ms + tk->status.poll_ms) {
        /* TS 102 221 STATUS, no data returned (80 F2 00 0C): its 9000 becomes 91xx when
           the card has a proactive command (docs/terminal.md "The toolkit"). */
        static const uint8_t status_apdu[4] = {0x80, 0xF2, 0x00, 0x0C};
        tk->last_poll_ms = now;
        e = send(tk, status_apdu, sizeof status_apdu, resp, sizeof resp, &resp_len);
        if (e)
            return e;
        tk->status.polls++;
        return run_loop(tk);
    }
    return SEAM_OK;
}

uint64_t seam_terminal_tk_next_due_ms(const seam_terminal_tk *tk) {
    uint64_t now = tk->cfg.clock.now_ms(tk->cfg.clock.ctx), next = UINT64_MAX;
    for (size_t i = 0; i < SEAM_TERMINAL_TK_TIMERS; i++) {
        const tk_timer *t = &tk->timers[i];
        if (t->running) {
            uint64_t due = t->start_ms + t->duration_ms;
            uint64_t wait = due > now ? due - now : 0;
            if (wait < next)
                next = wait;
        }
    }
    if (tk->status.poll_ms) {
        uint64_t due = tk->last_poll_ms + tk->status.poll_ms;
        uint64_t wait = due > now ? due - now : 0;
        if (wait < next)
            next = wait;
    }
    return next;
}

void seam_terminal_tk_get_status(const seam_terminal_tk *tk, seam_terminal_tk_status *out) {
    *out = tk->status;
    out->menu_items = tk->menu_count;
}

const char *seam_terminal_tk_menu_item(const seam_terminal_tk *tk, size_t i, uint8_t *id) {
    if (i >= tk->menu_count)
        return NULL;
    if (id)
        *id = tk->menu[i].id;
    return tk->menu[i].text;
}

bool seam_terminal_tk_event_wanted(const seam_terminal_tk *tk, uint8_t ev) {
    return (tk->events[ev / 8u] >> (ev % 8u)) & 1u;
}
