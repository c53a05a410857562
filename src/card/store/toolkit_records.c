/*
 * The toolkit's registration records (toolkit_records.h; schema.h table 16):
 *   key   instance AID
 *   value format 1, item count n, n x (item identifier, LV text), event count m,
 *         m event values
 */
#include "toolkit_records.h"

#include <string.h>

#define FORMAT 1u

seam_err toolkit_record_write(seam_nvm *nvm, const toolkit_record *r) {
    uint8_t
        v[3 + TOOLKIT_RECORD_ITEMS_MAX * (2 + TOOLKIT_RECORD_TEXT_MAX) + TOOLKIT_RECORD_EVENTS_MAX];
    size_t n = 0;
    if (r->aid_len == 0 || r->aid_len > REGISTRY_AID_MAX || r->items > TOOLKIT_RECORD_ITEMS_MAX ||
        r->events > TOOLKIT_RECORD_EVENTS_MAX)
        return SEAM_ERR_ARG;
    if (r->items == 0 && r->events == 0) {
        seam_err e = seam_nvm_delete(nvm, TOOLKIT_REGISTRATION, r->aid, r->aid_len);
        return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
    }
    v[n++] = FORMAT;
    v[n++] = r->items;
    for (unsigned i = 0; i < r->items; i++) {
        const toolkit_record_item *it = &r->item[i];
        if (it->text_len > TOOLKIT_RECORD_TEXT_MAX)
            return SEAM_ERR_ARG;
        v[n++] = it->id;
        v[n++] = it->text_len;
        memcpy(v + n, it->text, it->text_len);
        n += it->text_len;
    }
    v[n++] = r->events;
    memcpy(v + n, r->event, r->events);
    n += r->events;
    return seam_nvm_put(nvm, TOOLKIT_REGISTRATION, r->aid, r->aid_len, v, n);
}

/* r from value[0..len): false when it is not a well-formed format 1 value. */
static bool parse(const uint8_t *v, size_t len, toolkit_record *r) {
    size_t n = 2;
    if (len < 3 || v[0] != FORMAT || v[1] > TOOLKIT_RECORD_ITEMS_MAX)
        return false;
    r->items = v[1];
    for (unsigned i = 0; i < r->items; i++) {
        toolkit_record_item *it = &r->item[i];
        if (len - n < 2 || v[n + 1] > TOOLKIT_RECORD_TEXT_MAX || len - n - 2 < v[n + 1])
            return false;
        it->id = v[n];
        it->text_len = v[n + 1];
        memcpy(it->text, v + n + 2, it->text_len);
        n += 2u + it->text_len;
    }
    if (len - n < 1 || v[n] > TOOLKIT_RECORD_EVENTS_MAX || len - n - 1 != v[n])
        return false;
    r->events = v[n];
    memcpy(r->event, v + n + 1, r->events);
    return true;
}

seam_err toolkit_records_each(seam_nvm *nvm, seam_err (*visit)(void *ctx, const toolkit_record *r),
                              void *ctx) {
    seam_nvm_cursor cur;
    uint8_t
        v[3 + TOOLKIT_RECORD_ITEMS_MAX * (2 + TOOLKIT_RECORD_TEXT_MAX) + TOOLKIT_RECORD_EVENTS_MAX];
    size_t key_len = 0, len = 0;
    toolkit_record r;
    seam_err e = seam_nvm_cursor_init(&cur, TOOLKIT_REGISTRATION, NULL, 0);
    while (!e) {
        memset(&r, 0, sizeof r);
        e = seam_nvm_cursor_next(nvm, &cur, r.aid, sizeof r.aid, &key_len, v, sizeof v, &len);
        if (e == SEAM_ERR_BUFFER_SMALL)
            e = SEAM_ERR_NVM_CORRUPT; /* longer than any record this version writes */
        if (!e && (key_len == 0 || !parse(v, len, &r)))
            e = SEAM_ERR_NVM_CORRUPT;
        r.aid_len = (uint8_t)key_len;
        if (!e)
            e = visit(ctx, &r);
    }
    return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e;
}
