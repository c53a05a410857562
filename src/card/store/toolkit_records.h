/*
 * The card application toolkit's registrations kept in the image (schema.h,
 * table 16, TOOLKIT_REGISTRATION; docs/card.md "Registry records"): per
 * instance, the menu items it holds with their text and the events it
 * registered. Timers are not kept (TS 102 223: they do not survive a power
 * cycle). Internal to the card layer; toolkit/registry.c decides when.
 */
#ifndef SEAM_CARD_STORE_TOOLKIT_RECORDS_H
#define SEAM_CARD_STORE_TOOLKIT_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "seam/nvm.h"

#define TOOLKIT_RECORD_ITEMS_MAX  4u  /* menu items of one instance */
#define TOOLKIT_RECORD_EVENTS_MAX 16u /* events of one instance */
#define TOOLKIT_RECORD_TEXT_MAX   32u /* bytes of an item's text */

typedef struct {
    uint8_t id;
    uint8_t text_len;
    uint8_t text[TOOLKIT_RECORD_TEXT_MAX];
} toolkit_record_item;

/* One instance's registrations. */
typedef struct {
    uint8_t aid[REGISTRY_AID_MAX];
    uint8_t aid_len;
    uint8_t items;
    toolkit_record_item item[TOOLKIT_RECORD_ITEMS_MAX];
    uint8_t events;
    uint8_t event[TOOLKIT_RECORD_EVENTS_MAX];
} toolkit_record;

/* Writes r (its aid the key); deletes the record when r holds nothing (none there is no
   error). Errors: the nvm's, SEAM_ERR_ARG (more than the maxima). */
seam_err toolkit_record_write(seam_nvm *nvm, const toolkit_record *r);

/* Calls visit for every instance's record, in key order: SEAM_ERR_NVM_CORRUPT for a record
   of an unknown format or one that does not fill its value exactly; visit's error stops. */
seam_err toolkit_records_each(seam_nvm *nvm, seam_err (*visit)(void *ctx, const toolkit_record *r),
                              void *ctx);

#endif
