/*
 * Deliveries (P6, P9; docs/terminal.md "Deliveries"): a step of a campaign
 * personalized in the terminal. The server sends the package (and for an
 * install each instance's personalization sealed for this terminal's key); the
 * terminal acts on the card through its own security domain with the perso
 * layer's flows, over a seam_gp session on the card's link, and answers with a
 * result. Everything is checked before the first APDU of the flow: the
 * delivery decodes, it names this card's CIN, the terminal has its domain, key
 * and restore store, every sealed perso opens for this card, package and
 * instance. A refusal is a failed result and sends nothing to the card.
 *
 * Also the terminal's key file: its P-256 private key, 64 hex digits, 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seam/crypto.h"
#include "seam/util.h"
#include "terminal_int.h"

#define KEY_HEX 64u

seam_err seam_terminal_key_create(const char *path, uint8_t pub[65]) {
    uint8_t priv[32];
    char text[KEY_HEX + 2];
    size_t n = 0;
    if (!path || !*path || !pub)
        return SEAM_ERR_ARG;
    seam_err e = seam_perso_terminal_key_new(priv, pub);
    if (!e)
        e = seam_hex_encode(priv, sizeof priv, text, sizeof text, &n);
    if (!e) {
        text[n++] = '\n';
        /* O_EXCL | O_NOFOLLOW: never over a key that exists, nor through a planted link */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            e = SEAM_ERR_IO;
        } else {
            if (fchmod(fd, 0600) != 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
                e = SEAM_ERR_IO;
            close(fd);
            if (e)
                unlink(path);
        }
    }
    seam_secure_zero(priv, sizeof priv);
    seam_secure_zero(text, sizeof text);
    return e;
}

seam_err seam_terminal_key_load(const char *path, uint8_t priv[32]) {
    char text[KEY_HEX + 3];
    uint8_t key[32], pub[65];
    size_t len = 0;
    ssize_t got = -1;
    struct stat st;
    if (!path || !*path || !priv)
        return SEAM_ERR_ARG;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return SEAM_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SEAM_ERR_IO;
    }
    if (st.st_mode & 077) { /* a private key others may read is not this terminal's alone */
        close(fd);
        return SEAM_ERR_PERSO_KEY_FILE;
    }
    got = read(fd, text, sizeof text);
    close(fd);
    size_t digits =
        got > 0 && text[got - 1] == '\n' ? (size_t)got - 1 : (got > 0 ? (size_t)got : 0);
    seam_err e = SEAM_ERR_MALFORMED;
    if (got > 0 && digits == KEY_HEX &&
        seam_hex_decode(text, digits, key, sizeof key, &len) == SEAM_OK && len == sizeof key &&
        seam_crypto_p256_public_key(key, sizeof key, pub) == SEAM_OK) {
        memcpy(priv, key, sizeof key);
        e = SEAM_OK;
    }
    seam_secure_zero(key, sizeof key);
    seam_secure_zero(text, sizeof text);
    return e;
}

/* Fills *r as failed with the reason. */
static void refused(seam_perso_result *r, uint16_t sw, const char *fmt, const char *arg) {
    r->ok = false;
    r->sw = sw;
    snprintf(r->reason, sizeof r->reason, fmt, arg);
}

/* Reads the card's CIN (SELECT of the ISD, GET DATA 45) and compares it with d's. */
static bool same_card(const seam_gp_link *link, const seam_perso_delivery *d, uint8_t *cin,
                      size_t *cin_len) {
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    uint8_t resp[258];
    size_t len = 0;
    char hex[SEAM_TERMINAL_CIN_HEX];
    if (seam_gp_link_transmit(link, select_isd, sizeof select_isd, resp, sizeof resp, &len) ||
        term_card_cin(link, hex) ||
        seam_hex_decode(hex, strlen(hex), cin, SEAM_PERSO_CIN_MAX, cin_len))
        return false;
    return *cin_len == d->cin_len && !memcmp(cin, d->cin, d->cin_len);
}

/* Opens every sealed perso of d into plain (SEAM_PERSO_DELIVERY_DATA_MAX bytes a slot) and
   perso[]; false with r filled when one does not open. */
static bool open_perso(const seam_terminal_options *o, const seam_perso_delivery *d,
                       const seam_gp_package *pkg, uint8_t *plain, seam_perso_data *perso,
                       seam_perso_result *r) {
    for (size_t i = 0; i < d->count; i++) {
        uint8_t aad[SEAM_PERSO_DELIVERY_AAD_MAX];
        size_t aad_len = 0, n = 0;
        char aid[2 * SEAM_GP_AID_MAX + 1];
        uint8_t *slot = plain + i * SEAM_PERSO_DELIVERY_DATA_MAX;
        seam_err e = seam_perso_delivery_aad(d->cin, d->cin_len, &pkg->aid, pkg->version,
                                             &d->perso[i].instance, aad, sizeof aad, &aad_len);
        if (!e)
            e = seam_perso_open(o->terminal_key, aad, aad_len, d->perso[i].sealed,
                                d->perso[i].sealed_len, slot, SEAM_PERSO_DELIVERY_DATA_MAX, &n);
        if (e || n == 0) {
            size_t hl = 0;
            seam_hex_encode(d->perso[i].instance.bytes, d->perso[i].instance.len, aid, sizeof aid,
                            &hl);
            refused(r, 0,
                    "instance %s: its perso does not open (another terminal's key, card or "
                    "package, or tampered)",
                    aid);
            return false;
        }
        perso[i].instance = d->perso[i].instance;
        perso[i].data = slot;
        perso[i].len = n;
    }
    return true;
}

seam_err term_delivery_run(const seam_gp_link *link, const seam_terminal_options *o,
                           const uint8_t *body, size_t len, seam_perso_result *r) {
    seam_perso_delivery d;
    seam_gp_package pkg;
    seam_perso_data perso[SEAM_PERSO_DELIVERY_INSTANCES];
    uint8_t plain[SEAM_PERSO_DELIVERY_INSTANCES * SEAM_PERSO_DELIVERY_DATA_MAX];
    seam_perso_actor actor;
    seam_perso_report report;
    memset(r, 0, sizeof *r);
    memset(&actor, 0, sizeof actor);
    memset(&report, 0, sizeof report);
    seam_err e = seam_perso_delivery_decode(body, len, &d);
    if (e) {
        refused(r, 0, "the delivery does not decode: %s", seam_err_str(e));
        return SEAM_OK;
    }
    if (!o->domain || !o->restore) {
        refused(r, 0, "%s", "this terminal has no security domain on the card (no --domain-keys)");
        return SEAM_OK;
    }
    if (d.count && !o->terminal_key) {
        refused(r, 0, "%s",
                "this terminal has no key to open the personalization (--terminal-key)");
        return SEAM_OK;
    }
    if (!same_card(link, &d, actor.cin, &actor.cin_len)) {
        refused(r, 0, "%s", "the delivery is for another card (its CIN is not this card's)");
        return SEAM_OK;
    }
    if (seam_gp_package_read(d.module, d.module_len, &pkg, NULL, 0)) {
        refused(r, 0, "%s", "the delivered package is not a seam package");
        return SEAM_OK;
    }
    bool opened = open_perso(o, &d, &pkg, plain, perso, r);
    seam_gp_link card = *link;
    seam_gp *gp = NULL;
    if (opened)
        e = seam_gp_new(&card, &gp);
    if (opened && !e) {
        actor.gp = gp;
        actor.domain = o->domain;
        actor.store = o->restore;
        e = d.kind == SEAM_PERSO_DELIVER_INSTALL
                ? seam_perso_install(&actor, d.module, d.module_len, perso, d.count, &report)
                : seam_perso_update(&actor, d.module, d.module_len, &report);
        if (e)
            refused(r, report.sw, "the flow failed: %s", seam_err_str(e));
        else if (report.reason[0])
            refused(r, report.sw, "%s", report.reason);
        else {
            r->ok = true;
            r->sw = report.sw;
            snprintf(r->reason, sizeof r->reason, "%s %zu instance(s), %zu perso bytes to the card",
                     d.kind == SEAM_PERSO_DELIVER_INSTALL ? "installed" : "updated",
                     report.instances, report.perso_bytes);
        }
        e = SEAM_OK;
        /* TEST HOOK (docs/terminal.md "Faults"): killed after the card work, before the
           result is posted */
        const char *kill_at = getenv("SEAM_TEST_KILL_AT");
        if (kill_at && !strcmp(kill_at, "delivery.result"))
            (void)raise(SIGKILL);
    }
    seam_gp_free(gp);
    seam_secure_zero(plain, sizeof plain);
    seam_secure_zero(&report, sizeof report);
    return e;
}
