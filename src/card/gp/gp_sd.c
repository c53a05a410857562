/*
 * The commands every security domain answers about itself: GET DATA (its
 * data objects and the card's), and INITIALIZE UPDATE and EXTERNAL
 * AUTHENTICATE, which open a secure channel session with it (the session
 * state machine is sm/scp03.c's). docs/card.md "GET DATA objects", "Secure
 * channel".
 */
#include <string.h>

#include "gp.h"
#include "card/iso/sw.h"
#include "card/store/registry.h"
#include "seam/card.h"
#include "seam/util.h"

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

/* GET DATA for the SD selected on ch, or the ISD in TERMINATED (the Final Application). */
seam_err gp_get_data(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    bool terminated = cmd->lifecycle == CARD_TERMINATED;
    const uint8_t *aid = terminated ? seam_card_isd_aid : ch->selected;
    size_t aid_len = terminated ? sizeof seam_card_isd_aid : ch->selected_len;
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

seam_err gp_initialize_update(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
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
        e = scp03_initialize_update_parsed(&ch->session, &view, sd.sequence_counter, &new_seq,
                                           &cmd->apdu, c->data, sizeof c->data, &r->len, &r->sw);
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

seam_err gp_external_authenticate(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    (void)c;
    return scp03_external_authenticate_parsed(&ch->session, &cmd->apdu, &r->sw);
}
