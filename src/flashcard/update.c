/*
 * The controller's flows (FIG. 11; docs/flashcard.md "The controller's update"):
 * update, install and restore of a package stored in flash, through the
 * controller's own domain at SCP03 level 33 and the perso layer's flows
 * (seam_perso_update / _install / _restore) with the restore store in flash.
 *
 * The update of package P, as the controller's journal sees it:
 *   IDLE      no journal
 *   JOURNAL   flash: journal := P                                   (write point)
 *   RUNNING   seam_perso_update: the records exported into the store,
 *             its own journal, start, INSTALL [for load] + LOAD,
 *             DGI 7F71, migrate                   (card and flash write points)
 *   IDLE      flash: journal cleared                                (write point)
 * A cut leaves the journal (or nothing). At power on, fc_recover finds it and
 * runs seam_perso_update again with the stored package: perso's journal and the
 * card's upgrade status (MANAGE ELF UPGRADE P1 08) tell it where to continue.
 * When the card refuses that, the recovery rolls back: MANAGE ELF UPGRADE abort
 * of a session still open (the old version, with its data). Then the journal
 * goes. A step refused during the update itself is rolled back the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "flashcard_int.h"
#include "seam/util.h"

/* Resets the card (a fresh session for the flow: the domain is opened by perso). The
   controller's session object forgets (and wipes) the keys of the session before: the
   reset ended it on the card, and perso takes an open channel as the domain's. */
static seam_err fresh_session(seam_flashcard *fc) {
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    seam_gp_close_channel(fc->gp);
    seam_err e = seam_gp_link_power_on(&fc->link, atr, sizeof atr, &atr_len);
    if (!e)
        fc->powered = true;
    return e;
}

static seam_perso_actor actor_of(seam_flashcard *fc) {
    seam_perso_actor a = {.gp = fc->gp, .domain = &fc->domain, .store = fc->store};
    memcpy(a.cin, fc->cin, fc->cin_len);
    a.cin_len = fc->cin_len;
    return a;
}

/* The stored module of package, refused in words when absent or tampered. */
static seam_err stored(seam_flashcard *fc, const seam_gp_aid *package, uint8_t **module,
                       size_t *len) {
    seam_err e = fc_flash_get_package(&fc->flash, package, module, len);
    if (e == SEAM_ERR_FLASHCARD_TAMPERED)
        return fc_refuse(fc, e, "the stored package does not match its digest: refused");
    if (e == SEAM_ERR_FLASHCARD_NO_PACKAGE)
        return fc_refuse(fc, e, "no stored package of that AID");
    return e;
}

/* A flow's outcome: its error, or the card's refusal in report->reason. */
static seam_err outcome(seam_flashcard *fc, seam_err e, const seam_perso_report *r) {
    if (e == SEAM_ERR_NVM_POWER_CUT || fc->flash.power.dead)
        return SEAM_ERR_FLASHCARD_POWER_CUT;
    if (e && r->reason[0])
        return fc_refuse(fc, e, "%s", r->reason);
    if (!e && r->reason[0])
        return fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED, "%s", r->reason);
    return e;
}

static seam_err roll_back(seam_flashcard *fc, const seam_gp_aid *package);

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
    if ((e = stored(fc, package, &module, &len)) != SEAM_OK)
        return e;
    seam_perso_report report;
    seam_perso_actor a = actor_of(fc);
    memset(&report, 0, sizeof report);
    e = fresh_session(fc);
    if (!e)
        e = fc_flash_journal_set(&fc->flash, package);
    if (!e)
        e = outcome(fc, seam_perso_update(&a, module, len, &report), &report);
    free(module);
    if (e == SEAM_ERR_FLASHCARD_POWER_CUT || fc->flash.power.dead)
        return SEAM_ERR_FLASHCARD_POWER_CUT;
    if (e && report.reason[0]) {
        /* a step refused (by the card or by perso's rules): the update is rolled back
           (abort of a session the refusal left open) and the journal goes; the refusal
           and its reason stay. Any other failure keeps the journal for the next power on. */
        char reason[SEAM_FLASHCARD_REASON_MAX];
        memcpy(reason, fc->reason, sizeof reason);
        seam_err c = roll_back(fc, package);
        if (!c)
            c = seam_perso_update_forget(&a, package);
        if (!c)
            c = fc_flash_journal_clear(&fc->flash);
        memcpy(fc->reason, reason, sizeof reason);
        return c == SEAM_ERR_FLASHCARD_POWER_CUT || c == SEAM_ERR_NVM_POWER_CUT
                   ? SEAM_ERR_FLASHCARD_POWER_CUT
                   : e;
    }
    if (!e)
        e = fc_flash_journal_clear(&fc->flash);
    return e;
}

/* What a flow from flash is asked: install with perso[0..n) (instance NULL), or restore
   instance. */
typedef struct {
    const seam_perso_data *perso;
    size_t n;
    const seam_gp_aid *instance;
} flow_ask;

/* Runs the install or restore flow of ask on the stored module of package, in a fresh
   session through the controller's domain. */
static seam_err from_flash(seam_flashcard *fc, const seam_gp_aid *package, const flow_ask *ask) {
    uint8_t *module = NULL;
    size_t len = 0;
    seam_err e = stored(fc, package, &module, &len);
    if (e)
        return e;
    seam_perso_report report;
    seam_perso_actor a = actor_of(fc);
    memset(&report, 0, sizeof report);
    e = fresh_session(fc);
    if (!e)
        e = outcome(fc,
                    ask->instance
                        ? seam_perso_restore(&a, module, len, ask->instance, &report)
                        : seam_perso_install(&a, module, len, ask->perso, ask->n, &report),
                    &report);
    free(module);
    return e;
}

seam_err fc_install(seam_flashcard *fc, const seam_gp_aid *package, const seam_perso_data *perso,
                    size_t n) {
    flow_ask ask = {perso, n, NULL};
    return from_flash(fc, package, &ask);
}

seam_err fc_restore(seam_flashcard *fc, const seam_gp_aid *package, const seam_gp_aid *instance) {
    flow_ask ask = {NULL, 0, instance};
    return from_flash(fc, package, &ask);
}

/* Rolls an update of package back: MANAGE ELF UPGRADE abort of a session still open (the
   new version deleted first when it was loaded). */
static seam_err roll_back(seam_flashcard *fc, const seam_gp_aid *package) {
    seam_gp_upgrade_status st;
    uint16_t sw = 0;
    seam_err e = fresh_session(fc);
    if (!e)
        e = seam_perso_domain_open(fc->gp, &fc->domain, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_STATUS, package->bytes, package->len, NULL, 0,
                            &st, &sw);
    /* 03: the new version is loaded under the package's AID; the card aborts only once that
       AID is free (docs/upgrade.md "abort"): the new version goes first, alone (an instance
       of it, which a migrate would have made, keeps it there and the session goes on) */
    if (!e && sw == 0x9000 && st.status == 0x03)
        e = seam_gp_delete(fc->gp, package->bytes, package->len, false, &sw);
    if (!e && sw == 0x9000 && (st.status == 0x02 || st.status == 0x03))
        e = seam_gp_upgrade(fc->gp, SEAM_GP_UPGRADE_ABORT, package->bytes, package->len, NULL, 0,
                            NULL, &sw);
    if (!e && sw != 0x9000)
        e = fc_refuse(fc, SEAM_ERR_FLASHCARD_REFUSED, "recovery: the card answered %04X (%s)", sw,
                      seam_gp_sw_text(sw));
    return e;
}

seam_err fc_recover(seam_flashcard *fc) {
    bool journal = false;
    seam_gp_aid package;
    seam_err e = fc_flash_journal_get(&fc->flash, &journal, &package);
    if (e || !journal)
        return e;
    uint8_t *module = NULL;
    size_t len = 0;
    seam_perso_report report;
    seam_perso_actor a = actor_of(fc);
    memset(&report, 0, sizeof report);
    e = stored(fc, &package, &module, &len);
    if (!e)
        e = fresh_session(fc);
    if (!e)
        e = outcome(fc, seam_perso_update(&a, module, len, &report), &report);
    free(module);
    if (e && e != SEAM_ERR_FLASHCARD_POWER_CUT) {
        e = roll_back(fc, &package);
        if (!e)
            e = seam_perso_update_forget(&a, &package);
    }
    if (!e)
        e = fc_flash_journal_clear(&fc->flash);
    return e;
}
