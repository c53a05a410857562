/*
 * ./card, the card's own database as the terminal writes it after reading the
 * card (S8; docs/sync.md "./card"): one transaction makes ./card equal to the
 * card's view and the ./apps records of kind card equal to the card's instances,
 * so that a kill at any point leaves either the old view or the new one.
 */
#include <string.h>

#include "sync_track.h"

seam_err seam_sync_card_view(seam_sync_db *db, const seam_sync_record *card, size_t n_card,
                             const seam_sync_record *apps, size_t n_apps,
                             seam_sync_card_counts *counts) {
    const sync_table *t, *ta = sync_table_named(SEAM_SYNC_APPS);
    seam_sync_card_counts c = {0};
    seam_sync_record old;
    size_t before = 0, count = 0;
    seam_err err = sync_enter(db, SEAM_SYNC_CARD, &t);
    if (err)
        return err;
    if ((n_card && !card) || (n_apps && !apps) || n_card > SEAM_SYNC_RECORDS_MAX ||
        n_apps > SEAM_SYNC_RECORDS_MAX)
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < n_card && !err; i++)
        err = seam_sync_record_check(SEAM_SYNC_CARD, &card[i]);
    for (size_t i = 0; i < n_apps && !err; i++)
        err = apps[i].kind != SEAM_SYNC_KIND_CARD
                  ? SEAM_ERR_SYNC_FIELD
                  : seam_sync_record_check(SEAM_SYNC_APPS, &apps[i]);
    if (!err)
        err = sync_begin(db);
    if (err)
        return err;
    err = sync_count_in(db, "main", t, &before);
    for (size_t i = 0; i < n_card && !err; i++) {
        err = sync_load(db, "main", t, card[i].key, &old);
        if (err == SEAM_ERR_NOT_FOUND) {
            c.added++;
            err = SEAM_OK;
        } else if (!err && !sync_record_equal(t, &old, &card[i])) {
            c.replaced++;
        }
    }
    if (!err)
        err = sync_exec(db, "DELETE FROM main.card; DELETE FROM main.apps WHERE kind = 'card'");
    for (size_t i = 0; i < n_card && !err; i++)
        err = sync_store(db, "main", t, card[i].key, &card[i]);
    for (size_t i = 0; i < n_apps && !err; i++)
        err = sync_store(db, "main", ta, apps[i].key, &apps[i]);
    if (!err)
        err = sync_count_in(db, "main", t, &count);
    if (!err && count != n_card)
        err = SEAM_ERR_SYNC_FIELD; /* a key twice in the card's view */
    if (!err)
        err = sync_count_in(db, "main", ta, &count);
    if (!err && count > SEAM_SYNC_RECORDS_MAX)
        err = SEAM_ERR_SYNC_FULL;
    if (!err)
        err = sync_commit(db);
    if (err) {
        sync_rollback(db);
        return err;
    }
    c.deleted = (uint32_t)(before - (n_card - c.added));
    if (counts)
        *counts = c;
    return SEAM_OK;
}
