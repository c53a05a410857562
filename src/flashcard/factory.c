/*
 * The factory (`seam flashcard new`): a new folder with a new card image whose
 * issuer (the ISD, default test keys) installs the controller's domain, an SSD
 * with Authorized Management (privileges 80 C0 00), and hands its key set over
 * to random keys only the controller's key file holds (docs/card.md "Security
 * domains").
 */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flashcard_int.h"
#include "seam/crypto.h"
#include "seam/link.h"
#include "seam/util.h"

static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};

/* Installs the domain with the ISD and hands its keys over to d->keys (KVN 30). */
static seam_err make_domain(seam_gp *gp, seam_perso_domain *d) {
    seam_gp_keys issuer;
    uint16_t sw = 0;
    seam_gp_keys_default(&issuer);
    seam_gp_install_fields in = {
        .role = 0x0C, .privileges = {0x80, 0xC0, 0x00}, .privileges_len = 3};
    seam_gp_aid_set(&in.elf, sd_elf, sizeof sd_elf);
    seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
    in.application = d->aid;
    seam_err e = seam_gp_open_channel(gp, &issuer, 0, 0x03, NULL, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_install(gp, &in, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_select(gp, d->aid.bytes, d->aid.len, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_open_channel(gp, &issuer, 0, 0x03, NULL, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_put_key(gp, 0x30, 0x30, &d->keys, &sw);
    if (!e && sw != 0x9000)
        e = SEAM_ERR_FLASHCARD_REFUSED;
    return e;
}

seam_err seam_flashcard_new(const char *dir, const seam_gp_aid *domain_aid) {
    char path[PATH_MAX + 16];
    if (strlen(dir) > 500 || mkdir(dir, 0700) != 0)
        return SEAM_ERR_IO;
    seam_perso_domain d = {.aid = *domain_aid, .kvn = 0x30};
    uint8_t key[16];
    seam_err e = seam_crypto_random(key, sizeof key);
    if (!e)
        e = seam_crypto_random(d.keys.mac, sizeof key);
    if (!e)
        e = seam_crypto_random(d.keys.dek, sizeof key);
    memcpy(d.keys.enc, key, sizeof key);
    d.keys.len = sizeof key;
    seam_card *card = NULL;
    seam_gp_link link = {0};
    seam_gp *gp = NULL;
    snprintf(path, sizeof path, "%s/card.db", dir);
    if (!e)
        e = seam_card_create(path, 0, &card);
    if (!e)
        e = seam_link_card_owned(card, &link);
    if (!e)
        e = seam_gp_new(&link, &gp);
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len;
    if (!e)
        e = seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len);
    if (!e)
        e = make_domain(gp, &d);
    seam_gp_free(gp);
    seam_gp_link_close(&link);
    char text[512];
    if (!e)
        e = seam_perso_domain_format(&d, text, sizeof text);
    if (!e) {
        snprintf(path, sizeof path, "%s/domain.keys", dir);
        FILE *f = NULL;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || !(f = fdopen(fd, "w")) || fputs(text, f) < 0)
            e = SEAM_ERR_IO;
        if (f ? fclose(f) != 0 : fd >= 0 && close(fd) != 0)
            e = SEAM_ERR_IO;
    }
    seam_secure_zero(text, sizeof text);
    seam_secure_zero(&d, sizeof d);
    seam_secure_zero(key, sizeof key);
    if (!e) {
        fc_flash f;
        char real[PATH_MAX];
        if (!realpath(dir, real))
            return SEAM_ERR_IO;
        snprintf(path, sizeof path, "%s/flash.db", real);
        e = fc_flash_open(path, &f);
        fc_flash_close(&f);
    }
    return e;
}
