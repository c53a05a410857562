/*
 * The flash card's controller: power on (open flash, card and domain, read the
 * CIN, recover), the host interface's dispatcher, and the link a terminal uses
 * to reach the card through the host interface (FIG. 12).
 *
 * States of the flash card as the host sees it:
 *   OFF    (no seam_flashcard)       -- seam_flashcard_open: recovery runs --> ON
 *   ON     host frames are served    -- a fault cuts the power --> DEAD
 *   DEAD   every frame fails with SEAM_ERR_FLASHCARD_POWER_CUT; only close (OFF)
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flashcard_int.h"
#include "seam/crypto.h"
#include "seam/link.h"
#include "seam/util.h"

static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00,
                                     0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00};

seam_err fc_refuse(seam_flashcard *fc, seam_err e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fc->reason, sizeof fc->reason, fmt, ap);
    va_end(ap);
    return e;
}

/* Reads the card's CIN (GET DATA 45 with the ISD selected) into fc->cin. */
static seam_err read_cin(seam_flashcard *fc) {
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t resp[258];
    size_t len = 0;
    seam_err e =
        seam_gp_link_transmit(&fc->link, select_isd, sizeof select_isd, resp, sizeof resp, &len);
    if (!e)
        e = seam_gp_link_transmit(&fc->link, get_cin, sizeof get_cin, resp, sizeof resp, &len);
    if (e)
        return e;
    seam_tlv tlv;
    if (len < 2 || resp[len - 2] != 0x90 || seam_tlv_parse(resp, len - 2, &tlv) != SEAM_OK ||
        tlv.tag != 0x45 || tlv.length == 0 || tlv.length > SEAM_FLASHCARD_CIN_MAX)
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED, "the card gave no CIN");
    memcpy(fc->cin, tlv.value, tlv.length);
    fc->cin_len = tlv.length;
    return SEAM_OK;
}

seam_err seam_flashcard_open(const char *dir, seam_flashcard **out) {
    seam_flashcard *fc = calloc(1, sizeof *fc);
    if (!fc)
        return SEAM_ERR_NOMEM;
    char path[PATH_MAX + 16];
    seam_err e = SEAM_OK;
    if (strlen(dir) >= sizeof fc->dir)
        e = SEAM_ERR_ARG;
    if (!e) {
        snprintf(fc->dir, sizeof fc->dir, "%s", dir);
        snprintf(path, sizeof path, "%s/domain.keys", dir);
        e = seam_perso_domain_load(path, &fc->domain);
    }
    char real[PATH_MAX];
    if (!e && !realpath(dir, real))
        e = SEAM_ERR_IO;
    if (!e) {
        snprintf(path, sizeof path, "%s/flash.db", real);
        e = fc_flash_open(path, &fc->flash);
    }
    if (!e)
        e = seam_perso_store_open(fc_flash_name(&fc->flash, path), &fc->store);
    if (!e) {
        snprintf(path, sizeof path, "%s/card.db", dir);
        e = seam_card_open(path, &fc->card);
    }
    if (!e) {
        e = seam_link_card_owned(fc->card, &fc->link);
        if (e)
            fc->card = NULL; /* closed by the failed opener */
    }
    if (!e)
        e = seam_gp_new(&fc->link, &fc->gp);
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    if (!e)
        e = seam_gp_link_power_on(&fc->link, atr, sizeof atr, &atr_len);
    if (!e)
        e = read_cin(fc);
    if (!e)
        e = fc_recover(fc);
    if (fc->gp)
        seam_gp_close_channel(fc->gp);
    if (e) {
        seam_flashcard_close(fc);
        return e;
    }
    fc->powered = true;
    *out = fc;
    return SEAM_OK;
}

void seam_flashcard_close(seam_flashcard *fc) {
    if (!fc)
        return;
    seam_gp_free(fc->gp);
    if (fc->link.ops)
        seam_gp_link_close(&fc->link);
    else
        seam_card_close(fc->card);
    seam_perso_store_close(fc->store);
    fc_flash_close(&fc->flash);
    seam_secure_zero(&fc->domain, sizeof fc->domain);
    free(fc);
}

seam_card *seam_flashcard_card(seam_flashcard *fc) {
    return fc->card;
}

const char *seam_flashcard_reason(const seam_flashcard *fc) {
    return fc->reason;
}

seam_err seam_flashcard_flash_digest(seam_flashcard *fc, uint8_t digest[32]) {
    uint8_t both[64]; /* the controller's tables, then the restore store's */
    seam_err e = fc_flash_digest(&fc->flash, both);
    if (!e)
        e = seam_perso_store_digest(fc->store, both + 32);
    if (!e)
        e = seam_crypto_sha256(both, sizeof both, digest);
    return e;
}

void seam_flashcard_flash_fault(seam_flashcard *fc, uint64_t n) {
    fc->flash.power.cut_at = n;
    fc->flash.power.tried = 0;
}

uint64_t seam_flashcard_flash_writes(const seam_flashcard *fc) {
    return fc->flash.power.commits;
}

void seam_flashcard_set_relay_trace(seam_flashcard *fc,
                                    void (*fn)(void *ctx, const uint8_t *bytes, size_t len),
                                    void *ctx) {
    fc->trace = fn;
    fc->trace_ctx = ctx;
}

/* ---- the host interface ----------------------------------------------------------------- */

static bool is_cut(seam_flashcard *fc, seam_err e) {
    if (e == SEAM_ERR_NVM_POWER_CUT || e == SEAM_ERR_FLASHCARD_POWER_CUT)
        fc->flash.power.dead = true; /* the card or the flash lost power: the flash card did */
    return fc->flash.power.dead;
}

/* STORE: a package for this card (its CIN), a seam package, kept in flash. */
static seam_err store(seam_flashcard *fc, const seam_flashcard_frame *f) {
    const uint8_t *cin, *module;
    size_t cin_len, module_len;
    seam_err e =
        seam_flashcard_store_decode(f->value, f->len, &cin, &cin_len, &module, &module_len);
    if (e)
        return fc_refuse(fc, e, "STORE: the value is not cin_len || CIN || package");
    if (cin_len != fc->cin_len || memcmp(cin, fc->cin, cin_len))
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_WRONG_CARD,
                         "STORE: the package is for another card (its CIN is not this card's)");
    seam_gp_package pkg;
    char why[120] = "";
    e = seam_gp_package_read(module, module_len, &pkg, why, sizeof why);
    if (e)
        return fc_refuse(fc, e, "STORE: not a seam package: %s", why);
    if (seam_perso_package_has_perso(module, module_len))
        return fc_refuse(fc, SEAM_ERR_GP_PACKAGE,
                         "STORE: the package carries a seam.perso section (personalization "
                         "comes from the controller's store only)");
    return fc_flash_put_package(&fc->flash, &pkg.aid, pkg.version, module, module_len);
}

static seam_err status(seam_flashcard *fc, uint8_t *v, size_t cap, size_t *n) {
    bool journal = false;
    seam_gp_aid pkg;
    uint16_t count = 0;
    seam_err e = fc_flash_journal_get(&fc->flash, &journal, &pkg);
    if (!e)
        e = fc_flash_list(&fc->flash, NULL, 0, NULL, &count);
    if (e)
        return e;
    if (cap < 1 + fc->cin_len + 7)
        return SEAM_ERR_BUFFER_SMALL;
    size_t k = 0;
    v[k++] = (uint8_t)fc->cin_len;
    memcpy(v + k, fc->cin, fc->cin_len);
    k += fc->cin_len;
    v[k++] = journal;
    v[k++] = (uint8_t)(count >> 8), v[k++] = (uint8_t)count;
    seam_put_be32(v + k, fc->relayed);
    *n = k + 4;
    return SEAM_OK;
}

/* Runs the command of frame f; its answer value goes to v[0..cap). */
static seam_err dispatch(seam_flashcard *fc, const seam_flashcard_frame *f, uint8_t *v, size_t cap,
                         size_t *n) {
    seam_err e;
    *n = 0;
    switch (f->tag) {
    case SEAM_FLASHCARD_CMD_POWER:
        if (f->len != 1 || f->value[0] > 1)
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "POWER: the value is 00 or 01");
        fc->powered = f->value[0] == 1;
        if (!fc->powered)
            return seam_gp_link_power_off(&fc->link);
        return seam_gp_link_power_on(&fc->link, v, cap < SEAM_GP_ATR_MAX ? cap : SEAM_GP_ATR_MAX,
                                     n);
    case SEAM_FLASHCARD_CMD_APDU:
        if (f->len < 4 || f->len > SEAM_GP_APDU_MAX)
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "APDU: not a command APDU");
        if (!fc->powered)
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED, "APDU: the card is powered off");
        if (fc->trace)
            fc->trace(fc->trace_ctx, f->value, f->len);
        e = seam_gp_link_transmit(&fc->link, f->value, f->len, v, cap, n);
        if (!e) {
            fc->relayed++;
            if (fc->trace)
                fc->trace(fc->trace_ctx, v, *n);
        }
        return e;
    case SEAM_FLASHCARD_CMD_STORE:
        return store(fc, f);
    case SEAM_FLASHCARD_CMD_LIST: {
        uint16_t count;
        if (f->len)
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "LIST takes no value");
        return fc_flash_list(&fc->flash, v, cap, n, &count);
    }
    case SEAM_FLASHCARD_CMD_UPDATE: {
        seam_gp_aid pkg;
        if (seam_flashcard_aid_decode(f->value, f->len, &pkg))
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "UPDATE: the value is aid_len || AID");
        return fc_update(fc, &pkg);
    }
    case SEAM_FLASHCARD_CMD_INSTALL: {
        seam_gp_aid pkg;
        seam_perso_data perso[SEAM_FLASHCARD_PERSO_MAX];
        size_t count = 0;
        if (seam_flashcard_install_decode(f->value, f->len, &pkg, perso, &count))
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME,
                             "INSTALL: the value is package (LV) || {instance (LV) || data (LV)}*");
        return fc_install(fc, &pkg, perso, count);
    }
    case SEAM_FLASHCARD_CMD_RESTORE: {
        seam_gp_aid pkg, inst;
        if (seam_flashcard_restore_decode(f->value, f->len, &pkg, &inst))
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME,
                             "RESTORE: the value is package (LV) || instance (LV)");
        return fc_restore(fc, &pkg, &inst);
    }
    case SEAM_FLASHCARD_CMD_STATUS:
        if (f->len)
            return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "STATUS takes no value");
        return status(fc, v, cap, n);
    default:
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "unknown command %02X", f->tag);
    }
}

seam_err seam_flashcard_host(seam_flashcard *fc, const uint8_t *in, size_t in_len, uint8_t *out,
                             size_t cap, size_t *out_len) {
    if (fc->flash.power.dead)
        return SEAM_ERR_FLASHCARD_POWER_CUT;
    if (cap < SEAM_FLASHCARD_HEADER_LEN + 2 + SEAM_FLASHCARD_REASON_MAX)
        return SEAM_ERR_BUFFER_SMALL;
    fc->reason[0] = 0;
    seam_flashcard_frame f;
    size_t used = 0, n = 0;
    seam_err e = seam_flashcard_frame_decode(in, in_len, &f, &used);
    if (!e && used != in_len)
        e = SEAM_ERR_FLASHCARD_FRAME;
    if (e) {
        e = fc_refuse(fc, SEAM_ERR_FLASHCARD_FRAME, "the host frame does not decode (%s)",
                      seam_err_str(e));
    } else {
        e = dispatch(fc, &f, out + SEAM_FLASHCARD_HEADER_LEN, cap - SEAM_FLASHCARD_HEADER_LEN, &n);
    }
    seam_gp_close_channel(fc->gp); /* a controller flow's session keys go with its command */
    if (is_cut(fc, e))
        return SEAM_ERR_FLASHCARD_POWER_CUT;
    if (!e)
        return seam_flashcard_frame_encode(SEAM_FLASHCARD_ANSWER_DONE,
                                           out + SEAM_FLASHCARD_HEADER_LEN, n, out, cap, out_len);
    if (!fc->reason[0])
        snprintf(fc->reason, sizeof fc->reason, "%s", seam_err_str(e));
    uint8_t v[2 + SEAM_FLASHCARD_REASON_MAX];
    size_t rlen = strlen(fc->reason);
    v[0] = (uint8_t)((unsigned)-e >> 8);
    v[1] = (uint8_t)(unsigned)-e;
    memcpy(v + 2, fc->reason, rlen);
    return seam_flashcard_frame_encode(SEAM_FLASHCARD_ANSWER_REFUSED, v, 2 + rlen, out, cap,
                                       out_len);
}

/* ---- the host's link through the interface (FIG. 12) ------------------------------------ */

typedef struct {
    seam_flashcard *fc;
    uint8_t in[SEAM_FLASHCARD_HEADER_LEN + SEAM_GP_APDU_MAX];
    uint8_t out[SEAM_FLASHCARD_HEADER_LEN + SEAM_GP_RESPONSE_MAX];
} host_link;

/* Sends one frame (tag, value) and gives the DONE answer's value in *ans. */
static seam_err exchange(host_link *h, uint8_t tag, const uint8_t *value, size_t len,
                         seam_flashcard_frame *ans) {
    size_t n = 0, used = 0;
    seam_err e = seam_flashcard_frame_encode(tag, value, len, h->in, sizeof h->in, &n);
    if (!e)
        e = seam_flashcard_host(h->fc, h->in, n, h->out, sizeof h->out, &n);
    if (!e)
        e = seam_flashcard_frame_decode(h->out, n, ans, &used);
    if (!e && ans->tag != SEAM_FLASHCARD_ANSWER_DONE)
        e = SEAM_ERR_LINK;
    return e;
}

static seam_err hl_power(void *ctx, uint8_t on, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    seam_flashcard_frame ans;
    seam_err e = exchange(ctx, SEAM_FLASHCARD_CMD_POWER, &on, 1, &ans);
    if (e || !atr)
        return e;
    if (ans.len > atr_size)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(atr, ans.value, ans.len);
    *atr_len = ans.len;
    return SEAM_OK;
}

static seam_err hl_power_on(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    return hl_power(ctx, 1, atr, atr_size, atr_len);
}

static seam_err hl_power_off(void *ctx) {
    return hl_power(ctx, 0, NULL, 0, NULL);
}

static seam_err hl_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                            size_t response_size, size_t *response_len) {
    seam_flashcard_frame ans;
    seam_err e = exchange(ctx, SEAM_FLASHCARD_CMD_APDU, command, len, &ans);
    if (e)
        return e;
    if (ans.len > response_size)
        return SEAM_ERR_BUFFER_SMALL;
    memcpy(response, ans.value, ans.len);
    *response_len = ans.len;
    return SEAM_OK;
}

static void hl_close(void *ctx) {
    seam_secure_zero(ctx, sizeof(host_link)); /* the last APDU and answer (a PIN, say) */
    free(ctx);
}

static const seam_gp_link_ops host_link_ops = {
    .power_on = hl_power_on,
    .reset = hl_power_on,
    .power_off = hl_power_off,
    .transmit = hl_transmit,
    .close = hl_close,
};

seam_err seam_flashcard_host_link(seam_flashcard *fc, seam_gp_link *out) {
    host_link *h = calloc(1, sizeof *h);
    if (!h)
        return SEAM_ERR_NOMEM;
    h->fc = fc;
    out->ops = &host_link_ops;
    out->ctx = h;
    out->kind = "flashcard";
    return SEAM_OK;
}
