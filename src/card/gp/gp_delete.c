/*
 * DELETE (gp_facts §1.5; docs/card.md "Packages and applets"): an instance, a
 * package (P2 80: with its instances), a supplementary security domain (its
 * key sets and restore records with it), or a restore-module record of the
 * selected SD (DF70). Answers the data field 00 on success; everything a
 * DELETE removes goes in the command's one transaction.
 */
#include <string.h>

#include "card/card_int.h"
#include "card/content/applet_channel.h"
#include "card/content/card_cache.h"
#include "card/content/domains.h"
#include "card/iso/sw.h"
#include "card/store/package_store.h"
#include "card/upgrade/upgrade.h"
#include "gp.h"
#include "gp_content.h"

static seam_err delete_package(seam_card *c, const seam_apdu *a, const uint8_t *aid, size_t len,
                               reply *r) {
    store_instance inst;
    size_t count = 0;
    seam_err e = store_package_instances(c->nvm, aid, len, &count, &inst);
    while (!e && count) {
        if (a->p2 != 0x80 || content_instance_selected(c, inst.aid, inst.aid_len)) {
            r->sw = SEAM_SW_CONDITIONS_NOT_MET;
            goto out;
        }
        e = store_instance_delete(c->nvm, inst.aid, inst.aid_len);
        if (!e) /* its commands, its registrations */
            e = card_toolkit_forget(c, inst.aid, inst.aid_len);
        if (!e)
            e = store_package_instances(c->nvm, aid, len, &count, &inst);
    }
    if (!e) {
        module_forget(c, SPACE_USEFUL, aid, len); /* its module is never run again */
        e = store_package_delete(c->nvm, aid, len);
    }
    if (!e)
        gp_reply_ok(c, r);
out:
    return e;
}

/* DELETE of a restore-module record: DF70 len instance-AID, P1 P2 00 00, through the
   SD the identity belongs to (docs/restore-module.md): 6A88 when it has none. */
static seam_err delete_restore_record(seam_card *c, channel *ch, const seam_apdu *a, reply *r) {
    registry_sd self;
    restore_identity id;
    bool exists = false;
    size_t len = a->data[2];
    seam_err e = registry_sd_get(c->nvm, ch->selected, ch->selected_len, &self);
    r->sw = SEAM_SW_WRONG_DATA;
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_SECURITY_STATUS;
    }
    if (e || !self.aid_len || a->p1 != 0x00 || a->p2 != 0x00 || !gp_aid_ok(len, false) ||
        a->nc != 3 + len)
        goto out;
    restore_identity_make(&id, self.aid, self.aid_len, a->data + 3, len);
    e = restore_record_exists(c->nvm, &id, &exists);
    if (!e && !exists)
        r->sw = SEAM_SW_DATA_NOT_FOUND;
    if (!e && exists)
        e = restore_record_delete(c->nvm, &id);
    if (!e && exists)
        gp_reply_ok(c, r);
out:
    return e;
}

seam_err gp_delete(seam_card *c, channel *ch, const card_command *cmd, reply *r) {
    const seam_apdu *a = &cmd->apdu;
    store_instance inst;
    store_package p;
    registry_sd sd, self;
    seam_err e = SEAM_OK;
    size_t len = a->nc >= 2 ? a->data[1] : 0;
    const uint8_t *aid = a->nc >= 2 ? a->data + 2 : NULL;
    if (a->nc >= 3 && a->data[0] == 0xDF && a->data[1] == 0x70) {
        e = delete_restore_record(c, ch, a, r);
        goto out;
    }
    e = domain_authority_token(c, ch, a, &self, &r->sw);
    if (e || r->sw != SEAM_SW_SUCCESS)
        goto out;
    if (a->p1 != 0x00 || (a->p2 != 0x00 && a->p2 != 0x80)) {
        r->sw = SEAM_SW_WRONG_P1P2;
        goto out;
    }
    if (a->nc < 2 || a->data[0] != 0x4F || !gp_aid_ok(len, false) || a->nc < 2 + len) {
        r->sw = SEAM_SW_WRONG_DATA;
        goto out;
    }
    e = store_instance_get(c->nvm, aid, len, &inst);
    if (!e && !domain_owns(&self, inst.sd, inst.sd_len, PRIV2_GLOBAL_DELETE)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
        goto out;
    }
    if (!e) {
        if (content_instance_selected(c, aid, len)) {
            r->sw = SEAM_SW_CONDITIONS_NOT_MET;
            goto out;
        }
        e = store_instance_delete(c->nvm, aid, len);
        if (!e) /* its commands, its registrations */
            e = card_toolkit_forget(c, aid, len);
        if (!e)
            gp_reply_ok(c, r);
        goto out;
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = store_package_get(c->nvm, aid, len, &p);
    if (!e && !domain_owns(&self, p.sd, p.sd_len, PRIV2_GLOBAL_DELETE)) {
        r->sw = SEAM_SW_SECURITY_STATUS;
        goto out;
    }
    if (!e) {
        e = delete_package(c, a, aid, len, r);
        goto out;
    }
    if (e == SEAM_ERR_NOT_FOUND)
        e = registry_sd_get(c->nvm, aid, len, &sd);
    if (!e) {
        e = domain_delete(c, &self, &sd, &r->sw);
        if (!e && r->sw == SEAM_SW_SUCCESS)
            gp_reply_ok(c, r);
    }
    if (e == SEAM_ERR_NOT_FOUND) {
        e = SEAM_OK;
        r->sw = SEAM_SW_DATA_NOT_FOUND;
    }
out:
    if (!e && r->sw == SEAM_SW_SUCCESS)
        e = upgrade_tidy_all(c); /* U9: the temporary space goes when it empties */
    return e;
}
