/*
 * The card: power, logical channels, command dispatch (transmit.c runs each
 * command around it, GET RESPONSE included) and the issuer security
 * domain's commands that exist so far (SELECT, MANAGE CHANNEL, GET DATA,
 * INITIALIZE UPDATE, EXTERNAL AUTHENTICATE), the
 * gates of the card lifecycle (CARD_LOCKED: only the Final Application is
 * selectable and content changes answer 6985; TERMINATED: only GET DATA,
 * 6A81 otherwise) and GP command chaining of INSTALL, DELETE and PUT KEY
 * (docs/card.md "Card lifecycle, chaining and GET STATUS").
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
 *      one selected application (today: a security domain).
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
#include "card/gp/gp.h"
#include "card/content/applet_channel.h"
#include "card/store/package_store.h"
#include "card/upgrade/upgrade.h"
#include "card/store/registry.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "card/store/storage_key.h"
#include "card/iso/sw.h"

#define SW_FUNCTION_NOT_SUPPORTED 0x6A81u /* card locked / terminated (gp_facts §1.10) */
#define SW_CARD_LOCKED_SELECTED   0x6283u /* the Final Application SD selected in CARD_LOCKED */

const uint8_t seam_card_isd_aid[8] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};

/* ATR: T0 = 85 (TD1, 5 historical bytes), TD1 = 80 (T=0, TD2), TD2 = 01 (T=1);
   historical bytes 80 73 80 01 CB: card capabilities with command chaining,
   extended Lc/Le, logical channels assigned by the card, 4 channels; then TCK. */
static const uint8_t atr_body[] = {0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x80, 0x01, 0xCB};

/* ---- creation ------------------------------------------------------------------ */

static seam_err card_new(seam_nvm *nvm, seam_card **out) {
    seam_card *c = calloc(1, sizeof *c);
    if (!c) {
        seam_nvm_close(nvm);
        return SEAM_ERR_NOMEM;
    }
    c->nvm = nvm;
    *out = c;
    return SEAM_OK;
}

/* Writes the factory state: card record, ISD, test key set. */
static seam_err personalize_factory(seam_nvm *nvm) {
    registry_card card = {.lifecycle = CARD_SECURED, .iin_len = 2, .cin_len = 8};
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

seam_err seam_card_create_on(seam_nvm *nvm, seam_card **out) {
    seam_err e = personalize_factory(nvm);
    if (e) {
        seam_nvm_close(nvm);
        return e;
    }
    return card_new(nvm, out);
}

/* The image is sealed under a new storage key, kept in <path>.key (storage_key.c). */
seam_err seam_card_create(const char *path, size_t capacity, seam_card **out) {
    seam_nvm *nvm = NULL;
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
    e = seam_card_create_on(nvm, out);
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
    return card_new(nvm, out);
}

void seam_card_close(seam_card *c) {
    if (!c)
        return;
    seam_card_power_off(c);
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
        card_chain_abort(c, (uint8_t)i);
        card_response_drop(&c->channels[i]);
    }
    content_power_off(c);
    c->powered = false;
}

seam_err seam_card_power_on(seam_card *c, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    if (c->dead)
        return SEAM_ERR_NVM_POWER_CUT;
    if (atr_size < sizeof atr_body + 1)
        return SEAM_ERR_BUFFER_SMALL;
    seam_card_power_off(c);
    seam_err e = seam_nvm_begin(c->nvm); /* a clean-up that waited for a deselection */
    if (!e)
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

/* SELECT by AID; in CARD_LOCKED (locked) only the Final Application is selectable. */
static seam_err cmd_select(seam_card *c, channel *ch, const seam_apdu *a, bool locked, reply *r) {
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
    seam_err e = seam_nvm_foreach(c->nvm, REGISTRY_SD, NULL, 0, visit_selectable, &s);
    if (!e && !s.found_len) { /* then the applet instances, after the security domains */
        s.instances = true;
        e = seam_nvm_foreach(c->nvm, STORE_INSTANCE, NULL, 0, visit_selectable, &s);
    }
    if (!e && s.found_len && locked)
        e = final_application(c, s.found, s.found_len, &final);
    if (e)
        return e;
    if (s.found_len && locked && !final) {
        r->sw = SW_FUNCTION_NOT_SUPPORTED; /* the previous selection stays */
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
    r->sw = locked ? SW_CARD_LOCKED_SELECTED : SEAM_SW_SUCCESS;
    return SEAM_OK;
}

static void cmd_manage_channel(seam_card *c, channel *from, const seam_apdu *a, reply *r) {
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
        card_chain_abort(c, a->p2);
        r->sw = SEAM_SW_SUCCESS;
    } else {
        r->sw = SEAM_SW_WRONG_P1P2;
    }
}

/* ---- GET DATA ------------------------------------------------------------------- */

/* Card recognition data for GP 2.3.1 with SCP03 i=70 (gp_facts 1.9). */
static const uint8_t card_recognition[] = {
    0x73, 0x2F, 0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x01, 0x60, 0x0C,
    0x06, 0x0A, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x02, 0x02, 0x03, 0x01, 0x63,
    0x09, 0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x03, 0x64, 0x0B, 0x06,
    0x09, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x04, 0x03, 0x70};

/* Writes the value of GET DATA object `tag` for the selected SD; false if unknown. */
static seam_err get_data_value(seam_card *c, const registry_sd *sd, uint32_t tag, uint8_t *out,
                               size_t *len, bool *known) {
    registry_card card;
    seam_err e = registry_card_get(c->nvm, &card);
    *known = true;
    *len = 0;
    if (e)
        return e;
    switch (tag) {
    case 0x42: /* issuer identification number */
        memcpy(out, card.iin, card.iin_len);
        *len = card.iin_len;
        break;
    case 0x45: /* card image number */
        memcpy(out, card.cin, card.cin_len);
        *len = card.cin_len;
        break;
    case 0x66: /* card data */
        memcpy(out, card_recognition, sizeof card_recognition);
        *len = sizeof card_recognition;
        break;
    case 0xC1: /* sequence counter of the default key version */
        out[0] = (uint8_t)(sd->sequence_counter >> 16);
        out[1] = (uint8_t)(sd->sequence_counter >> 8);
        out[2] = (uint8_t)sd->sequence_counter;
        *len = 3;
        break;
    case 0xE0: { /* key information template: C0 { id, KVN, AES (88), length } per key */
        scp03_keyset sets[REGISTRY_KEYSETS_MAX];
        size_t count = 0;
        e = registry_keysets_get(c->nvm, sd->aid, sd->aid_len, sets, REGISTRY_KEYSETS_MAX, &count);
        for (size_t k = 0; !e && k < count; k++) {
            for (uint8_t id = 1; id <= 3; id++) {
                uint8_t entry[6] = {0xC0, 4, id, sets[k].kvn, 0x88, (uint8_t)sets[k].key_len};
                memcpy(out + *len, entry, sizeof entry);
                *len += sizeof entry;
            }
        }
        seam_secure_zero(sets, sizeof sets);
        break;
    }
    case 0x9F7F: { /* CPLC: fixed fabricator and type identifiers, the CIN as serial */
        memset(out, 0, 42);
        out[0] = 0x53; /* IC fabricator "SE" */
        out[1] = 0x45;
        out[2] = 0x41; /* IC type "AM" */
        out[3] = 0x4D;
        memcpy(out + 13, card.cin, 4 < card.cin_len ? 4 : card.cin_len); /* IC serial number */
        *len = 42;
        break;
    }
    case 0xFF21: { /* extended card resources: free non-volatile memory */
        size_t free_bytes = seam_nvm_free_bytes(c->nvm);
        uint8_t v[] = {0x81,
                       1,
                       0,
                       0x82,
                       4,
                       (uint8_t)(free_bytes >> 24),
                       (uint8_t)(free_bytes >> 16),
                       (uint8_t)(free_bytes >> 8),
                       (uint8_t)free_bytes};
        memcpy(out, v, sizeof v);
        *len = sizeof v;
        break;
    }
    default:
        *known = false;
        break;
    }
    return e;
}

/* GET DATA for the SD aid (the one selected, or the ISD in TERMINATED). */
static seam_err cmd_get_data(seam_card *c, const uint8_t *aid, size_t aid_len, const seam_apdu *a,
                             reply *r) {
    registry_sd sd;
    uint8_t value[256];
    size_t len = 0;
    bool known = false;
    uint32_t tag = a->p1 ? (uint32_t)a->p1 << 8 | a->p2 : a->p2;
    seam_err e = registry_sd_get(c->nvm, aid, aid_len, &sd);
    if (e)
        return e;
    e = get_data_value(c, &sd, tag, value, &len, &known);
    if (e)
        return e;
    if (!known) {
        r->sw = SEAM_SW_DATA_NOT_FOUND;
        return SEAM_OK;
    }
    if (seam_apdu_cla_proprietary(a->cla)) {
        /* GP class: the whole TLV. The tag is P1-P2 as sent: GP's FF21 is not a
           valid ISO 7816-4 tag, so util's BER-TLV encoder would refuse it. */
        size_t n = 0;
        if (a->p1)
            c->data[n++] = a->p1;
        c->data[n++] = a->p2;
        if (len > 0x7F)
            c->data[n++] = 0x81;
        c->data[n++] = (uint8_t)len;
        memcpy(c->data + n, value, len);
        r->len = n + len;
    } else { /* ISO class: the value alone */
        memcpy(c->data, value, len);
        r->len = len;
    }
    r->sw = SEAM_SW_SUCCESS;
    return SEAM_OK;
}

/* ---- secure channel ---------------------------------------------------------------- */

static seam_err cmd_initialize_update(seam_card *c, channel *ch, const uint8_t *apdu,
                                      size_t apdu_len, reply *r) {
    registry_sd sd;
    scp03_keyset sets[REGISTRY_KEYSETS_MAX];
    size_t count = 0;
    uint32_t new_seq = 0;
    seam_err e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &sd);
    if (!e)
        e = registry_keysets_get(c->nvm, sd.aid, sd.aid_len, sets, REGISTRY_KEYSETS_MAX, &count);
    if (!e) {
        scp03_sd view = {.keysets = sets,
                         .n_keysets = count,
                         .aid = sd.aid,
                         .aid_len = sd.aid_len,
                         .i = sd.scp_i};
        memcpy(view.diversification, sd.diversification, sizeof view.diversification);
        e = scp03_initialize_update(&ch->session, &view, sd.sequence_counter, &new_seq, apdu,
                                    apdu_len, c->data, sizeof c->data, &r->len, &r->sw);
    }
    /* the counter is persisted in this command's transaction, before the response leaves */
    if (!e && r->sw == SEAM_SW_SUCCESS && new_seq != sd.sequence_counter) {
        sd.sequence_counter = new_seq;
        e = registry_sd_put(c->nvm, &sd);
    }
    if (e)
        scp03_end_session(&ch->session);
    seam_secure_zero(sets, sizeof sets);
    return e;
}

/* ---- dispatch ----------------------------------------------------------------------- */

/* True for the commands that change card content or keys (refused in CARD_LOCKED,
   gp_facts §1.7); SET STATUS P1 80 moves the card itself and stays allowed. */
static bool content_change(const seam_apdu *a) {
    switch (a->ins) {
    case 0xE6: /* INSTALL */
    case 0xE8: /* LOAD */
    case 0xE4: /* DELETE */
    case 0xD8: /* PUT KEY */
    case 0xE2: /* STORE DATA */
    case 0xEA: /* MANAGE ELF UPGRADE */
        return true;
    case 0xF0: /* SET STATUS */
        return a->p1 != 0x80;
    default:
        return false;
    }
}

/*
 * GP chaining on a channel with C-MAC (chain.c): blocks of a protected GP
 * command are kept as received and answered without secure messaging
 * (*step ANSWERED, r set); at the last block the whole command, extended, is
 * rebuilt in c->wrapped and *cmd, *cmd_len point to it (WHOLE). *raw_chain
 * says whether this path applies (a C-MAC level and a CLA with secure
 * messaging); otherwise chaining waits until the command is unwrapped.
 */
static seam_err protected_chain(seam_card *c, channel *ch, const seam_apdu *a, bool *raw_chain,
                                const uint8_t **cmd, size_t *cmd_len, reply *r,
                                card_chain_step *step) {
    seam_err e = SEAM_OK;
    seam_apdu whole = *a;
    seam_apdu_class cls;
    *step = CARD_CHAIN_NONE;
    *raw_chain = (scp03_security_level(&ch->session) & SCP03_LEVEL_C_MAC) &&
                 seam_apdu_class_decode(a->cla, &cls) == SEAM_OK && cls.sm != SEAM_APDU_SM_NONE;
    if (!*raw_chain)
        goto done;
    card_chain_block(c, (uint8_t)(ch - c->channels), true, &whole, r, step);
    if (*step == CARD_CHAIN_WHOLE) {
        e = seam_apdu_encode(&whole, c->wrapped, sizeof c->wrapped, cmd_len);
        *cmd = c->wrapped;
    }

done:
    return e;
}

/* Runs one command on an open channel (card_int.h); fills r (data in c->data). */
seam_err card_dispatch(seam_card *c, channel *ch, const seam_apdu *a, const uint8_t *raw,
                       size_t raw_len, card_outcome *out, reply *r) {
    bool gp_class = seam_apdu_cla_proprietary(a->cla);
    bool sd_command = a->ins == 0x70 || (a->ins == 0xA4 && a->p1 == 0x04);
    uint8_t chno = (uint8_t)(ch - c->channels);
    seam_apdu plain = *a;
    seam_apdu_class cls = {0};
    registry_card card;
    uint8_t state = 0;
    seam_err e = registry_card_get(c->nvm, &card);
    *out = (card_outcome){.sm = CARD_SM_UNTOUCHED};
    if (e)
        return e;
    state = card.lifecycle;
    (void)seam_apdu_class_decode(a->cla, &cls); /* transmit.c decoded it already */
    if (state == CARD_TERMINATED) { /* only GET DATA, answered by the ISD (Final Application) */
        if (!(a->ins == 0xCA || a->ins == 0xCB) || cls.sm != SEAM_APDU_SM_NONE)
            r->sw = SW_FUNCTION_NOT_SUPPORTED;
        else
            e = cmd_get_data(c, seam_card_isd_aid, sizeof seam_card_isd_aid, a, r);
        return e;
    }
    if (ch->applet && (gp_class || !sd_command)) {
        if (state == CARD_LOCKED) { /* selected before the lock: it answers no more */
            r->sw = SW_FUNCTION_NOT_SUPPORTED;
            return SEAM_OK;
        }
        return content_process(c, ch, raw, raw_len, r); /* secure messaging is the applet's */
    }
    if (!gp_class && (cls.sm != SEAM_APDU_SM_NONE || cls.chained)) {
        /* the card's own ISO commands have neither secure messaging (6882) nor
           ISO command chaining (6884); refused as they come, they change nothing
           on the channel */
        r->sw =
            cls.sm != SEAM_APDU_SM_NONE ? SEAM_SW_SM_NOT_SUPPORTED : SEAM_SW_CHAINING_UNSUPPORTED;
        out->untouched = true;
        return SEAM_OK;
    }
    if (!gp_class || a->ins == 0x50 || a->ins == 0x82)
        card_chain_abort(c, chno); /* any ISO or secure channel command ends a chain */
    if (!gp_class) {
        switch (a->ins) {
        case 0xA4:
            return cmd_select(c, ch, a, state == CARD_LOCKED, r);
        case 0x70: {
            channel *closing = a->p1 == 0x80 && a->p2 < CHANNELS ? &c->channels[a->p2] : NULL;
            if (closing && closing->open && a->p2 != 0) {
                e = content_deselect(c, closing);
                if (e)
                    return e;
            }
            bool from_applet = ch->applet != NULL;
            cmd_manage_channel(c, ch, a, r);
            if (from_applet && a->p1 == 0x00 &&
                r->sw == SEAM_SW_SUCCESS) { /* a new channel gets the ISD */
                channel *opened = &c->channels[a->p2 ? a->p2 : c->data[0]];
                memcpy(opened->selected, seam_card_isd_aid, sizeof seam_card_isd_aid);
                opened->selected_len = sizeof seam_card_isd_aid;
            }
            return SEAM_OK;
        }
        case 0xCA:
        case 0xCB:
            return cmd_get_data(c, ch->selected, ch->selected_len, a, r);
        default:
            r->sw = SEAM_SW_INS_NOT_SUPPORTED;
            return SEAM_OK;
        }
    }
    if (a->ins == 0x50 || a->ins == 0x82)
        out->sm = CARD_SM_HANDSHAKE;
    if (a->ins == 0x50)
        return cmd_initialize_update(c, ch, raw, raw_len, r);
    if (a->ins == 0x82) {
        e = scp03_external_authenticate(&ch->session, raw, raw_len, &r->sw);
        return e;
    }
    /* every other GP command passes the secure channel first; with a C-MAC a
       GP chain is collected before it, as its MAC covers the whole command */
    const uint8_t *cmd = raw;
    size_t cmd_len = raw_len, plain_len = 0;
    card_chain_step step = CARD_CHAIN_NONE;
    bool raw_chain = false;
    e = protected_chain(c, ch, a, &raw_chain, &cmd, &cmd_len, r, &step);
    out->chain_end = step == CARD_CHAIN_WHOLE;
    if (e || step == CARD_CHAIN_ANSWERED)
        return e; /* an intermediate block: 9000 without R-MAC, no count; or a refusal */
    out->sm = CARD_SM_PASSED; /* from here the session moved with the host's */
    e = scp03_unwrap_command(&ch->session, cmd, cmd_len, c->plain, sizeof c->plain, &plain_len,
                             &r->sw);
    if (e || r->sw != SEAM_SW_SUCCESS) {
        card_chain_abort(c, chno);
        return e;
    }
    out->secured = scp03_session_state(&ch->session) == SCP03_AUTHENTICATED;
    if (seam_apdu_parse(c->plain, plain_len, &plain)) {
        r->sw = SEAM_SW_WRONG_LENGTH;
        return SEAM_OK;
    }
    if (step == CARD_CHAIN_ABORTED) { /* another command ended the chain */
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (step == CARD_CHAIN_WHOLE && plain.nc > CARD_CHAIN_MAX) {
        r->sw = SEAM_SW_WRONG_P1P2; /* chain too long */
        return SEAM_OK;
    }
    if (state == CARD_LOCKED && content_change(&plain)) {
        card_chain_abort(c, chno);
        r->sw = SEAM_SW_CONDITIONS_NOT_MET;
        return SEAM_OK;
    }
    if (!raw_chain) {
        card_chain_block(c, chno, false, &plain, r, &step);
        out->chain_end = step == CARD_CHAIN_WHOLE;
    }
    if (step == CARD_CHAIN_ANSWERED || step == CARD_CHAIN_ABORTED) {
        if (r->sw == SEAM_SW_SUCCESS) { /* an intermediate block: 9000 without R-MAC */
            out->secured = false;
            ch->session.response_pending = false;
        }
        return SEAM_OK;
    }
    bool secured = out->secured;
    switch (plain.ins) {
    case 0xCA:
        return cmd_get_data(c, ch->selected, ch->selected_len, &plain, r);
    case 0xD8:
        return gp_put_key(c, ch, &plain, secured, r);
    case 0xF0:
        return gp_set_status(c, ch, &plain, secured, r);
    case 0xF2:
        return gp_get_status(c, ch, &plain, secured, r);
    case 0xE8:
        return gp_load(c, ch, &plain, secured, r);
    case 0xE6:
        return gp_install(c, ch, &plain, secured, r);
    case 0xE4:
        return gp_delete(c, ch, &plain, secured, r);
    case 0xE2:
        return gp_store_data(c, ch, &plain, secured, r);
    case 0xEA:
        return gp_manage_elf_upgrade(c, ch, &plain, secured, r);
    default:
        r->sw = SEAM_SW_INS_NOT_SUPPORTED;
        return SEAM_OK;
    }
}

void seam_card_traffic_get(const seam_card *c, seam_card_traffic *out) {
    *out = c->traffic;
}

void seam_card_traffic_reset(seam_card *c) {
    memset(&c->traffic, 0, sizeof c->traffic);
}
