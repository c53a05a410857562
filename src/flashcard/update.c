/*
 * The controller's update (FIG. 11; docs/flashcard.md "The controller's
 * update") and its recovery at power on.
 *
 * The update of package P to the version stored in flash, through the
 * controller's own domain at SCP03 level 33:
 *   IDLE      no journal
 *   JOURNAL   flash: journal := P                                (write point)
 *   EXPORTED  each of the domain's instances of P: MANAGE ELF UPGRADE export
 *             (R-ENC), the record sealed into flash              (write points)
 *   UPGRADED  card: start, INSTALL [for load] + LOAD, migrate    (card write points)
 *   IDLE      flash: journal cleared                             (write point)
 * A cut anywhere leaves the journal (or nothing). At power on, fc_recover
 * reads the journal and the card's upgrade status (MANAGE ELF UPGRADE P1 08):
 * a session waiting for the package is resumed (INSTALL [for load], LOAD,
 * migrate) or, when the card refuses that, aborted (rolled back to P's old
 * version); no session means the card is at one version or the other with all
 * its data: the journal is cleared.
 */
#include <stdlib.h>
#include <string.h>

#include "flashcard_int.h"
#include "seam/crypto.h"
#include "seam/util.h"

static const char record_label[] = "seam.flashcard.record";

/* The key records are sealed under: HMAC-SHA256(domain DEK, label || CIN). */
static seam_err record_key(const seam_flashcard *fc, uint8_t key[32]) {
    uint8_t in[sizeof record_label + SEAM_FLASHCARD_CIN_MAX];
    memcpy(in, record_label, sizeof record_label - 1);
    memcpy(in + sizeof record_label - 1, fc->cin, fc->cin_len);
    return seam_crypto_hmac_sha256(fc->domain.keys.dek, fc->domain.keys.len, in,
                                   sizeof record_label - 1 + fc->cin_len, key);
}

/* Seals the export of instance (the card's record, plain under the session) into flash:
   nonce || AES-256-GCM(record) || tag, AAD = CIN || instance || package. */
static seam_err keep_record(seam_flashcard *fc, const seam_gp_aid *instance,
                            const seam_gp_aid *package, const uint8_t *rec, size_t len) {
    uint8_t key[32], aad[SEAM_FLASHCARD_CIN_MAX + 2 * SEAM_GP_AID_MAX];
    size_t aad_len = 0;
    uint8_t *sealed = malloc(12 + len + 16);
    if (!sealed)
        return SEAM_ERR_NOMEM;
    memcpy(aad, fc->cin, fc->cin_len);
    aad_len += fc->cin_len;
    memcpy(aad + aad_len, instance->bytes, instance->len);
    aad_len += instance->len;
    memcpy(aad + aad_len, package->bytes, package->len);
    aad_len += package->len;
    seam_crypto_aes_gcm *gcm = NULL;
    seam_err e = record_key(fc, key);
    if (!e)
        e = seam_crypto_random(sealed, 12);
    if (!e)
        e = seam_crypto_aes_gcm_new(key, sizeof key, &gcm);
    if (!e)
        e = seam_crypto_aes_gcm_seal(gcm, sealed, aad, aad_len, rec, len, sealed + 12,
                                     sealed + 12 + len);
    if (!e)
        e = fc_flash_put_record(&fc->flash, instance, package, sealed, 12 + len + 16);
    seam_crypto_aes_gcm_free(gcm);
    seam_secure_zero(key, sizeof key);
    free(sealed);
    return e;
}

typedef struct {
    const seam_gp_aid *package;
    seam_gp_aid instances[16];
    size_t count;
} instance_list;

static seam_err collect(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *entry) {
    instance_list *l = ctx;
    (void)scope;
    if (entry->elf.len == l->package->len &&
        !memcmp(entry->elf.bytes, l->package->bytes, entry->elf.len) &&
        l->count < sizeof l->instances / sizeof l->instances[0])
        l->instances[l->count++] = entry->aid;
    return SEAM_OK;
}

/* Resets the card and opens the controller's domain at level 33. */
static seam_err open_domain(seam_flashcard *fc) {
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    uint16_t sw = 0;
    seam_err e = seam_gp_link_power_on(&fc->link, atr, sizeof atr, &atr_len);
    if (!e) {
        fc->powered = true;
        e = seam_perso_domain_open(fc->gp, &fc->domain, &sw);
    }
    if (!e && sw != 0x9000)
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED,
                         "the card refused the controller's domain (%04X)", sw);
    return e;
}

static seam_err refused(seam_flashcard *fc, const char *step, uint16_t sw) {
    return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED, "%s: the card answered %04X (%s)", step, sw,
                     seam_gp_sw_text(sw));
}

seam_err fc_update(seam_flashcard *fc, const seam_gp_aid *package) {
    bool journal = false;
    seam_gp_aid pending;
    seam_err e = fc_flash_journal_get(&fc->flash, &journal, &pending);
    if (e)
        return e;
    if (journal)
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED,
                         "an update is under way: power the flash card on again");
    uint8_t *module = NULL;
    size_t len = 0;
    e = fc_flash_get_package(&fc->flash, package, &module, &len);
    if (e == SEAM_ERR_FLASHCARD_TAMPERED)
        return fc_refuse(fc, e, "the stored package does not match its digest: refused");
    if (e)
        return fc_refuse(fc, e, "no stored package of that AID");
    instance_list list = {.package = package};
    uint16_t sw = 0;
    e = open_domain(fc);
    if (!e)
        e = seam_gp_get_status(fc->gp, SEAM_GP_APPS, NULL, 0, collect, &list, &sw);
    if (!e && sw != 0x9000)
        e = refused(fc, "GET STATUS", sw);
    if (!e)
        e = fc_flash_journal_set(&fc->flash, package);
    for (size_t i = 0; !e && i < list.count; i++) {
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_EXPORT, list.instances[i].bytes,
                            list.instances[i].len, NULL, 0, NULL, &sw);
        if (!e && sw != 0x9000)
            e = refused(fc, "MANAGE ELF UPGRADE export", sw);
        size_t rec_len = 0;
        const uint8_t *rec = e ? NULL : seam_gp_response(fc->gp, &rec_len);
        if (!e)
            e = keep_record(fc, &list.instances[i], package, rec, rec_len);
    }
    seam_gp_upgrade_report report;
    if (!e)
        e = seam_gp_upgrade_package(fc->gp, module, len, NULL, NULL, NULL, &report, &sw);
    free(module);
    if (!e && sw != 0x9000)
        e = refused(fc, "the upgrade", sw);
    if (e == SEAM_ERR_FLASHCARD_REFUSED && !fc->flash.dead) {
        /* the card refused before migrate (seam_gp_upgrade_package aborted a refused
           LOAD): nothing is under way, the journal goes */
        seam_err c = fc_flash_journal_clear(&fc->flash);
        return c ? c : e;
    }
    if (!e)
        e = fc_flash_journal_clear(&fc->flash);
    return e;
}

/* Continues an update whose session waits for the new package: INSTALL [for load],
   LOAD, migrate; a refusal aborts (back to the old version). */
static seam_err resume(seam_flashcard *fc, const seam_gp_aid *package) {
    uint8_t *module = NULL;
    size_t len = 0;
    uint16_t sw = 0;
    seam_err e = fc_flash_get_package(&fc->flash, package, &module, &len);
    if (!e) {
        seam_gp_package_install in = {.module = module, .module_len = len, .load_only = true};
        e = seam_gp_install_package(fc->gp, &in, &sw);
    }
    free(module);
    if (!e && sw == 0x9000)
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_MIGRATE, package->bytes, package->len, NULL, 0,
                            NULL, &sw);
    if (!e && sw != 0x9000) /* roll back */
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_ABORT, package->bytes, package->len, NULL, 0,
                            NULL, &sw);
    if (!e && sw != 0x9000)
        e = refused(fc, "recovery", sw);
    return e;
}

seam_err fc_recover(seam_flashcard *fc) {
    bool journal = false;
    seam_gp_aid package;
    seam_err e = fc_flash_journal_get(&fc->flash, &journal, &package);
    if (e || !journal)
        return e;
    seam_gp_upgrade_status st;
    uint16_t sw = 0;
    e = open_domain(fc);
    if (!e)
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_STATUS, package.bytes, package.len, NULL, 0,
                            &st, &sw);
    if (!e && sw != 0x9000)
        e = refused(fc, "MANAGE ELF UPGRADE status", sw);
    if (!e && st.status == 0x02)
        e = resume(fc, &package);
    else if (!e && st.status == 0x03)
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_MIGRATE, package.bytes, package.len, NULL, 0,
                            NULL, &sw);
    if (!e)
        e = fc_flash_journal_clear(&fc->flash);
    return e;
}
