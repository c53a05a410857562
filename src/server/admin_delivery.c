/*
 * The delivery of a campaign step personalized in the terminal (P6, P9;
 * docs/server.md "Terminal campaigns"): the package as stored, and for an
 * install each applet's personalization data for the card sealed for the
 * public key of the terminal that hosts it (PUT /api/cards/{cin}/terminal),
 * bound to the card's CIN, the package's AID and version and the instance's
 * AID. Only that terminal opens it; the server's byte report counts the sealed
 * bytes as the step's personalization bytes (an update carries none: 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_plan.h"
#include "seam/gp.h"
#include "seam/util.h"

#define SEALED_MAX (SEAM_PERSO_SEAL_OVERHEAD + SEAM_PERSO_DELIVERY_DATA_MAX)

static void refuse(seam_srv_plan_round *out, const char *why) {
    out->outcome = SEAM_SRV_PLAN_FAILED;
    snprintf(out->reason, sizeof out->reason, "%s", why);
}

/* Seals the personalization data each applet of pkg has for card cin into sealed[] (one
   SEALED_MAX slot per applet) and d->perso; FAILED in out when there is none to seal for
   (no terminal key) or one does not fit a block. */
static seam_err seal_perso(struct seam_server *srv, const seam_store_id *cin,
                           const seam_gp_package *pkg, uint8_t *sealed, seam_perso_delivery *d,
                           uint64_t *perso_bytes, seam_srv_plan_round *out) {
    uint8_t pub[SEAM_STORE_TERMINAL_KEY_SIZE];
    bool have_key = false;
    for (size_t i = 0; i < pkg->applet_count; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        seam_err e = seam_srv_perso_of(srv, cin, &pkg->applets[i], &data, &len);
        if (e == SEAM_ERR_NOT_FOUND)
            continue;
        if (e)
            return e;
        if (!have_key) {
            e = seam_store_terminal_key_get(seam_srv_store(srv), cin, pub);
            if (e == SEAM_ERR_NOT_FOUND) {
                seam_store_free_secret(data, len);
                refuse(out, "no terminal key for this card");
                return SEAM_OK;
            }
            if (e) {
                seam_store_free_secret(data, len);
                return e;
            }
            have_key = true;
        }
        if (len == 0 || len > SEAM_PERSO_DELIVERY_DATA_MAX) {
            seam_store_free_secret(data, len);
            refuse(out, "personalization data over 255 bytes cannot be delivered in one block");
            return SEAM_OK;
        }
        uint8_t aad[SEAM_PERSO_DELIVERY_AAD_MAX];
        size_t aad_len = 0, n = 0;
        seam_perso_sealed *p = &d->perso[d->count];
        p->instance = pkg->applets[i];
        e = seam_perso_delivery_aad(cin->bytes, cin->len, &pkg->aid, pkg->version, &p->instance,
                                    aad, sizeof aad, &aad_len);
        if (!e)
            e = seam_perso_seal(pub, aad, aad_len, data, len, sealed + d->count * SEALED_MAX,
                                SEALED_MAX, &n);
        seam_store_free_secret(data, len);
        if (e == SEAM_ERR_ARG) {
            refuse(out, "the card's terminal key is not a P-256 point");
            return SEAM_OK;
        }
        if (e)
            return e;
        p->sealed = sealed + d->count * SEALED_MAX;
        p->sealed_len = n;
        *perso_bytes += n;
        d->count++;
    }
    return SEAM_OK;
}

seam_err seam_srv_delivery_build(struct seam_server *srv, const seam_store_campaign *c,
                                 const seam_store_id *cin, seam_srv_plan_round *out) {
    memset(out, 0, sizeof *out);
    seam_store_package info;
    uint8_t *module = NULL;
    seam_gp_package pkg;
    seam_perso_delivery d;
    memset(&pkg, 0, sizeof pkg);
    memset(&d, 0, sizeof d);
    seam_err e = seam_store_package_get(seam_srv_store(srv), &c->package_aid, c->package_version,
                                        &info, &module);
    if (e == SEAM_ERR_NOT_FOUND) {
        refuse(out, "the campaign's package is not stored");
        return SEAM_OK;
    }
    if (e)
        return e;
    if (seam_gp_package_read(module, info.module_len, &pkg, NULL, 0) ||
        info.module_len > SEAM_PERSO_DELIVERY_MODULE_MAX || cin->len > SEAM_PERSO_CIN_MAX) {
        free(module);
        refuse(out, "the campaign's package cannot be delivered (it does not read, or is over "
                    "the delivery's bound)");
        return SEAM_OK;
    }
    memcpy(d.cin, cin->bytes, cin->len);
    d.cin_len = cin->len;
    d.kind = c->kind == SEAM_STORE_INSTALL ? SEAM_PERSO_DELIVER_INSTALL : SEAM_PERSO_DELIVER_UPDATE;
    d.module = module;
    d.module_len = info.module_len;
    size_t sealed_cap = SEAM_GP_PACKAGE_APPLETS_MAX * SEALED_MAX;
    uint8_t *sealed = NULL;
    uint64_t perso = 0;
    if (d.kind == SEAM_PERSO_DELIVER_INSTALL) { /* an update carries no personalization (P9) */
        sealed = malloc(sealed_cap);
        e = sealed ? seal_perso(srv, cin, &pkg, sealed, &d, &perso, out) : SEAM_ERR_NOMEM;
    }
    size_t need = 0;
    if (!e && out->outcome != SEAM_SRV_PLAN_FAILED) {
        e = seam_perso_delivery_encode(&d, NULL, 0, &need);
        if (e == SEAM_ERR_BUFFER_SMALL)
            e = (out->script = malloc(need)) ? SEAM_OK : SEAM_ERR_NOMEM;
        if (!e)
            e = seam_perso_delivery_encode(&d, out->script, need, &out->script_len);
        if (e == SEAM_ERR_ARG) {
            e = SEAM_OK;
            refuse(out, "the delivery is over its bound");
        } else if (!e) {
            out->outcome = SEAM_SRV_PLAN_DELIVERY;
            out->perso_bytes = perso;
        }
        if (out->outcome != SEAM_SRV_PLAN_DELIVERY) {
            free(out->script);
            out->script = NULL;
            out->script_len = 0;
        }
    }
    free(sealed);
    free(module);
    return e;
}
