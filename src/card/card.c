/*
 * The card as a device: creation, power and ATR, logical channels and what
 * is selected on them (SELECT, MANAGE CHANNEL; in CARD_LOCKED only the Final
 * Application is selectable), the byte counters. dispatch.c routes each
 * command, transmit.c runs it from bytes in to bytes out.
 *
 * States of the card as a device:
 *
 *      seam_card_create / seam_card_open
 *                  │
 *                  ▼
 *            ┌───────────┐ seam_card_power_on ┌──────────┐
 *            │ POWERED   │ ─────────────────▶ │ POWERED  │◀─┐ seam_card_power_on
 *            │   OFF     │ ◀───────────────── │   ON     │──┘ (warm reset)
 *            └───────────┘ seam_card_power_off└──────────┘
 *                                                  │ injected power cut
 *                                                  ▼
 *                                          every call fails until the
 *                                          image is closed and reopened
 *
 * Invariants:
 *  (1) While POWERED ON, channel 0 is open and every open channel has exactly
 *      one selected application: a security domain or an applet instance.
 *  (2) A secure channel session belongs to one channel; SELECT on that
 *      channel, closing it, a reset or power off ends it (keys wiped).
 *  (3) Each command runs in one nvm transaction, committed only when its
 *      status word reports success (9000, 61xx, 62xx, 63xx) and rolled back
 *      otherwise, so a refused command changes nothing (X4, X6); when a write
 *      or the commit fails the card's RAM is put back too (transmit.c).
 *  (4) Each channel has its own GP command chain and GET RESPONSE remainder:
 *      a command on one channel leaves the others' alone (transmit.c).
 *  (5) The card's own ISO-class commands have no secure messaging and no ISO
 *      command chaining: such class bits answer 6882 / 6884 and change
 *      nothing; a selected applet gets its commands as they come.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "card/iso/apdu.h"
#include "card_int.h"
#include "card/content/applet_channel.h"
#include "card/content/card_cache.h"
#include "card/content/instance.h"
#include "card/store/package_store.h"
#include "card/upgrade/upgrade.h"
#include "card/store/registry.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "card/store/storage_key.h"
#include "card/iso/sw.h"

const uint8_t seam_card_isd_aid[8] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* ATR: T0 = 85 (TD1, 5 historical bytes), TD1 = 80 (T=0, TD2), TD2 = 01 (T=1);
   historical bytes 80 73 80 01 CB: card capabilities with command chaining,
   extended Lc/Le, logical channels assigned by the card, 4 channels; then TCK. */
static const uint8_t atr_body[] = {0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x80, 0x01, 0xCB};

/* ---- creation ------------------------------------------------------------------ */

static seam_err card_new(seam_nvm *nvm, seam_card_profile profile, seam_card **out) {
    seam_card *c = calloc(1, sizeof *c);
    if (!c) {
        seam_nvm_close(nvm);
        return SEAM_ERR_NOMEM;
    }
    c->nvm = nvm;
    c->diag.profile = profile; /* as the card record holds it (applet_diag.c) */
    *out = c;
    return SEAM_OK;
}

/* Writes the factory state: card record (with the profile, for good), ISD, test key set. */
static seam_err personalize_factory(seam_nvm *nvm, seam_card_profile profile) {
    registry_card card = {
        .lifecycle = CARD_SECURED, .iin_len = 2, .cin_len = 8, .profile = (uint8_t)profile};
    registry_sd isd = {.aid_len = sizeof seam_card_isd_aid,
                       .lifecycle = CARD_SECURED,
                       .privileges = {0x9E, 0xFE, 0x80},
                       .sequence_counter = 0,
                       .scp_i = SCP03_I_DEFAULT};
    scp03_keyset keys = {.kvn = 0x30, .key_len = 16};
    seam_err e;
    card.iin[0] = 0x99; /* issuer identification number: test range */
    card.iin[1] = 0x99;
    e = seam_crypto_random(card.cin, card.cin_len);
    if (e)
        return e;
    memcpy(isd.aid, seam_card_isd_aid, sizeof seam_card_isd_aid);
    memcpy(isd.diversification, card.cin, 8);
    memcpy(isd.diversification + 8, card.iin, 2);
    for (uint8_t i = 0; i < 16; i++)
        keys.enc[i] = keys.mac[i] = keys.dek[i] = (uint8_t)(0x40 + i);
    e = seam_nvm_begin(nvm);
    if (!e)
        e = registry_card_put(nvm, &card);
    if (!e)
        e = registry_sd_put(nvm, &isd);
    if (!e)
        e = registry_keyset_put(nvm, isd.aid, isd.aid_len, &keys);
    if (!e)
        e = seam_nvm_commit(nvm);
    else
        seam_nvm_rollback(nvm);
    seam_secure_zero(&keys, sizeof keys);
    return e;
}

static bool profile_known(seam_card_profile profile) {
    return profile == SEAM_CARD_PROFILE_DEVELOPMENT || profile == SEAM_CARD_PROFILE_PRODUCTION;
}

seam_err seam_card_create_on_profile(seam_nvm *nvm, seam_card_profile profile, seam_card **out) {
    seam_err e = profile_known(profile) ? personalize_factory(nvm, profile) : SEAM_ERR_ARG;
    if (e) {
        seam_nvm_close(nvm);
        return e;
    }
    return card_new(nvm, profile, out);
}

seam_err seam_card_create_on(seam_nvm *nvm, seam_card **out) {
    return seam_card_create_on_profile(nvm, SEAM_CARD_PROFILE_DEVELOPMENT, out);
}

seam_err seam_card_create(const char *path, size_t capacity, seam_card **out) {
    return seam_card_create_profile(path, capacity, SEAM_CARD_PROFILE_DEVELOPMENT, out);
}

/* The image is sealed under a new storage key, kept in <path>.key (storage_key.c). */
seam_err seam_card_create_profile(const char *path, size_t capacity, seam_card_profile profile,
                                  seam_card **out) {
    seam_nvm *nvm = NULL;
    if (!profile_known(profile))
        return SEAM_ERR_ARG;
    uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE];
    char key_path[4096];
    seam_err e = storage_key_create(path, key, key_path, sizeof key_path);
    if (e)
        return e;
    e = seam_nvm_create_sealed(path, capacity, key, &nvm);
    seam_secure_zero(key, sizeof key);
    if (e) {
        unlink(key_path);
        return e;
    }
    e = seam_card_create_on_profile(nvm, profile, out);
    if (e) {
        unlink(path);
        unlink(key_path);
    }
    return e;
}

seam_err seam_card_open(const char *path, seam_card **out) {
    seam_nvm *nvm = NULL;
    registry_card card;
    uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE];
    seam_err e = storage_key_load(path, key);
    if (!e)
        e = seam_nvm_open_sealed(path, key, &nvm);
    seam_secure_zero(key, sizeof key);
    if (e)
        return e;
    e = registry_card_get(nvm, &card);
    if (e) {
        seam_nvm_close(nvm);
        return e == SEAM_ERR_NOT_FOUND ? SEAM_ERR_NVM_CORRUPT : e;
    }
    return card_new(nvm, (seam_card_profile)card.profile, out);
}

void seam_card_close(seam_card *c) {
    if (!c)
        return;
    seam_card_power_off(c);
    card_cache_flush(c); /* nothing uses a module any more: all go */
    seam_nvm_close(c->nvm);
    free(c);
}

seam_nvm *seam_card_nvm(seam_card *c) {
    return c->nvm;
}

/* ---- power ---------------------------------------------------------------------- */

static void select_isd(channel *ch) {
    memcpy(ch->selected, seam_card_isd_aid, sizeof seam_card_isd_aid);
    ch->selected_len = sizeof seam_card_isd_aid;
}

void seam_card_power_off(seam_card *c) {
    for (unsigned i = 0; i < CHANNELS; i++) {
        scp03_end_session(&c->channels[i].session);
        c->channels[i].open = false;
        c->channels[i].status_next = 0; /* no GET STATUS continuation */
        chain_abort(&c->channels[i].chain);
        card_response_drop(&c->channels[i]);
    }
    content_power_off(c);
    memset(&c->toolkit, 0, sizeof c->toolkit); /* RAM: the terminal starts again with its profile */
    c->powered = false;
    /* From here the image file alone holds the card: the log is copied into it
       (docs/nvm.md "Durability"). A failure loses nothing: the log keeps it. */
    seam_err e = c->dead ? SEAM_OK : seam_nvm_checkpoint(c->nvm);
    if (e && e != SEAM_ERR_NVM_POWER_CUT)
        seam_log(SEAM_LOG_WARN, "card: checkpoint at power-off failed: %s", seam_err_str(e));
}

seam_err seam_card_power_on(seam_card *c, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    if (c->dead)
        return SEAM_ERR_NVM_POWER_CUT;
    if (atr_size < sizeof atr_body + 1)
        return SEAM_ERR_BUFFER_SMALL;
    seam_card_power_off(c);
    card_cache_command_begin(c);
    size_t converted = 0;
    seam_err e = seam_nvm_begin(c->nvm);
    if (!e) /* applet memory an earlier version kept in pages, once */
        e = instance_convert_paged_memory(c, &converted);
    if (!e) /* a clean-up that waited for a deselection */
        e = upgrade_tidy_all(c);
    if (!e)
        e = seam_nvm_commit(c->nvm);
    e = card_transaction_end(c, e); /* a failed commit too: the image stays usable */
    if (e == SEAM_ERR_NVM_POWER_CUT) {
        c->dead = true;
        return e;
    }
    if (e)
        seam_log(SEAM_LOG_WARN, "card: power-up clean-up failed: %s", seam_err_str(e));
    else if (converted)
        seam_log(SEAM_LOG_INFO, "card: memory of %zu instances stored as chunks", converted);
    e = card_toolkit_load(c); /* the menu items and events the image keeps */
    if (e)
        seam_log(SEAM_LOG_WARN, "card: toolkit registrations not read: %s", seam_err_str(e));
    c->powered = true;
    c->channels[0].open = true;
    select_isd(&c->channels[0]);
    uint8_t tck = 0;
    for (size_t i = 1; i < sizeof atr_body; i++)
        tck ^= atr_body[i];
    memcpy(atr, atr_body, sizeof atr_body);
    atr[sizeof atr_body] = tck;
    *atr_len = sizeof atr_body + 1;
    return SEAM_OK;
}

/* ---- SELECT and MANAGE CHANNEL ----------------------------------------------------- */

typedef struct {
    const uint8_t *prefix;
    size_t prefix_len;
    const uint8_t *after; /* for "next occurrence": the currently selected AID */
    size_t after_len;
    bool passed;    /* the walk has passed `after` */
    bool instances; /* walking applet instances: only SELECTABLE ones count */
    uint8_t found[REGISTRY_AID_MAX];
    size_t found_len;
} select_search;

/* True when an SD record may be selected: the ISD always (its lifecycle is the
   card's), an SSD once SELECTABLE and while not LOCKED (gp_facts §1.7). */
static bool sd_value_selectable(const uint8_t *key, size_t key_len, const uint8_t *value,
                                size_t value_len) {
    bool isd = key_len == sizeof seam_card_isd_aid && !memcmp(key, seam_card_isd_aid, key_len);
    return isd || (value_len >= 2 && value[1] != SD_INSTALLED && !(value[1] & SD_LOCKED_BIT));
}

static int visit_selectable(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len) {
    select_search *s = ctx;
    if (s->instances && !store_instance_value_selectable(value, value_len))
        return 0;
    if (!s->instances && !sd_value_selectable(key, key_len, value, value_len))
        return 0;
    if (key_len < s->prefix_len || memcmp(key, s->prefix, s->prefix_len))
        return 0;
    if (s->after && !s->passed) {
        if (key_len == s->after_len && !memcmp(key, s->after, key_len))
            s->passed = true;
        return 0;
    }
    memcpy(s->found, key, key_len);
    s->found_len = key_len;
    return 1;
}

/* Builds the FCI of a security domain: 6F { 84 AID, A5 { 9F65 max command data } }. */
static size_t sd_fci(const uint8_t *aid, size_t aid_len, uint8_t *out) {
    size_t n = 0;
    out[n++] = 0x6F;
    out[n++] = (uint8_t)(2 + aid_len + 2 + 4);
    out[n++] = 0x84;
    out[n++] = (uint8_t)aid_len;
    memcpy(out + n, aid, aid_len);
    n += aid_len;
    out[n++] = 0xA5;
    out[n++] = 4;
    out[n++] = 0x9F;
    out[n++] = 0x65;
    out[n++] = 1;
    out[n++] = 0xFF; /* max command data: 255 (short APDUs, GP 1.1) */
    return n;
}

/* True when the SD or applet instance aid holds the Final Application privilege. */
static seam_err final_application(seam_card *c, const uint8_t *aid, size_t aid_len, bool *final) {
    registry_sd sd;
    store_instance inst;
    seam_err e = registry_sd_get(c->nvm, aid, aid_len, &sd);
    *final = false;
    if (!e) {
        *final = (sd.privileges[1] & PRIV2_FINAL_APPLICATION) != 0;
    } else if (e == SEAM_ERR_NOT_FOUND) {
        e = store_instance_get(c->nvm, aid, aid_len, &inst);
        if (!e)
            *final = (inst.privileges[1] & PRIV2_FINAL_APPLICATION) != 0;
    }
    return e;
}

/* SELECT by AID; in CARD_LOCKED only the Final Application is selectable. */
seam_err card_select(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    bool locked = cmd->lifecycle == CARD_LOCKED;
    select_search s = {0};
    bool final = false;
    if (a->p1 != 0x04) {
        r->sw = SEAM_SW_WRONG_P1P2;
        return SEAM_OK;
    }
    if (a->p2 != 0x00 && a->p2 != 0x02 && a->p2 != 0x0C) {
        r->sw = SEAM_SW_WRONG_P1P2;
        return SEAM_OK;
    }
    if (a->nc > REGISTRY_AID_MAX) {
        r->sw = SEAM_SW_WRONG_LENGTH;
        return SEAM_OK;
    }
    s.prefix = a->nc ? a->data : seam_card_isd_aid;
    s.prefix_len = a->nc ? a->nc : sizeof seam_card_isd_aid;
    if (a->p2 == 0x02) {
        s.after = ch->selected;
        s.after_len = ch->selected_len;
    }
    /* only the records whose AID starts with the one given: a SELECT reads (and decrypts)
       what it may select, not every SD and instance of the card; the current selection,
       for "next occurrence", matters only when it starts with it too */
    seam_err e =
        seam_nvm_foreach(c->nvm, REGISTRY_SD, s.prefix, s.prefix_len, visit_selectable, &s);
    if (!e && !s.found_len) { /* then the applet instances, after the security domains */
        s.instances = true;
        e = seam_nvm_foreach(c->nvm, STORE_INSTANCE, s.prefix, s.prefix_len, visit_selectable, &s);
    }
    if (!e && s.found_len && locked)
        e = final_application(c, s.found, s.found_len, &final);
    if (e)
        return e;
    if (s.found_len && locked && !final) {
        r->sw = SEAM_SW_FUNCTION_NOT_SUPPORTED; /* the previous selection stays */
        return SEAM_OK;
    }
    if (s.found_len && s.instances)
        return content_select_instance(c, ch, s.found, s.found_len, a->p2, r);
    if (!s.found_len) {
        r->sw = SEAM_SW_FILE_NOT_FOUND; /* the previous selection stays */
        return SEAM_OK;
    }
    e = content_deselect(c, ch);
    if (e)
        return e;
    scp03_end_session(&ch->session);
    ch->status_next = 0; /* a new application session */
    memcpy(ch->selected, s.found, s.found_len);
    ch->selected_len = (uint8_t)s.found_len;
    r->len = a->p2 == 0x0C ? 0 : sd_fci(s.found, s.found_len, c->data);
    r->sw = locked ? SEAM_SW_SELECTED_CARD_LOCKED : SEAM_SW_SUCCESS;
    return SEAM_OK;
}

static void manage_channel(seam_card *c, channel *from, const seam_apdu *a, reply *r) {
    if (a->p1 == 0x00) { /* open: P2 00 = the card picks, else that channel */
        unsigned want = a->p2;
        if (want == 0) {
            for (want = 1; want < CHANNELS && c->channels[want].open; want++)
                ;
        }
        if (want >= CHANNELS || c->channels[want].open || a->nc) {
            r->sw = a->nc ? SEAM_SW_WRONG_LENGTH : SEAM_SW_CHANNEL_NOT_SUPPORTED;
            return;
        }
        channel *ch = &c->channels[want];
        memset(ch, 0, sizeof *ch);
        ch->open = true;
        memcpy(ch->selected, from->selected, from->selected_len); /* the SD of the origin */
        ch->selected_len = from->selected_len;
        if (a->p2 == 0) {
            c->data[0] = (uint8_t)want;
            r->len = 1;
        }
        r->sw = SEAM_SW_SUCCESS;
    } else if (a->p1 == 0x80) { /* close */
        if (a->p2 == 0 || a->p2 >= CHANNELS || !c->channels[a->p2].open) {
            r->sw = a->p2 == 0 ? SEAM_SW_WRONG_P1P2 : SEAM_SW_CHANNEL_NOT_SUPPORTED;
            return;
        }
        /* its chain goes now, what waits for GET RESPONSE on it when the
           command ends (transmit.c: a failed commit gives the channel back) */
        scp03_end_session(&c->channels[a->p2].session);
        c->channels[a->p2].open = false;
        c->channels[a->p2].status_next = 0;
        chain_abort(&c->channels[a->p2].chain);
        r->sw = SEAM_SW_SUCCESS;
    } else {
        r->sw = SEAM_SW_WRONG_P1P2;
    }
}

seam_err card_manage_channel(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    channel *closing = a->p1 == 0x80 && a->p2 < CHANNELS ? &c->channels[a->p2] : NULL;
    if (closing && closing->open && a->p2 != 0) {
        seam_err e = content_deselect(c, closing);
        if (e)
            return e;
    }
    bool from_applet = ch->applet != NULL;
    manage_channel(c, ch, a, r);
    if (from_applet && a->p1 == 0x00 && r->sw == SEAM_SW_SUCCESS) { /* a new channel gets the ISD */
        channel *opened = &c->channels[a->p2 ? a->p2 : c->data[0]];
        select_isd(opened);
    }
    return SEAM_OK;
}

void seam_card_traffic_get(const seam_card *c, seam_card_traffic *out) {
    *out = c->traffic;
}

void seam_card_traffic_reset(seam_card *c) {
    memset(&c->traffic, 0, sizeof c->traffic);
}
