/*
 * The actions of `seam gp` (docs/gp.md): each connects (gp.c), opens the
 * secure channel when the card needs one, calls the host library and says in
 * words what happened. A refusal names the command and its status word.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_cli.h"
#include "seam/crypto.h"
#include "seam/link.h"
#include "seam/util.h"

/* The words for the command a multi-step operation stopped at. */
static const char *step_name(const seam_gp *gp, char *buf, size_t size) {
    uint8_t h[4];
    seam_gp_last_command(gp, h);
    return seam_gp_command_text(h, buf, size);
}

/* Reports a library error or a refused step; returns the exit status (0 when neither). */
static int outcome(gp_session *s, const char *action, seam_err e, uint16_t sw) {
    char buf[96];
    if (e) {
        fprintf(stderr, "seam gp %s: %s\n", action, seam_err_str(e));
        return 1;
    }
    if (sw != 0x9000)
        return gp_refused(action, step_name(s->gp, buf, sizeof buf), sw);
    return 0;
}

/* Connects and opens the secure channel; -1 when ready. */
static int ready(gp_session *s, const char *action) {
    int status = gp_connect(s, action);
    return status >= 0 ? status : gp_open_channel(s, action);
}

static void print_aid(const char *before, const seam_gp_aid *aid) {
    printf("%s", before);
    gp_show_hex(aid->bytes, aid->len);
}

static int do_install(gp_session *s, const char *action) {
    gp_options *o = s->o;
    seam_gp_package_install in;
    seam_gp_package pkg;
    size_t len = 0;
    uint16_t sw = 0;
    int status;
    if (o->positional_count != 2)
        return 2;
    uint8_t *file = gp_read_package(action, o->positional[1], &len, &pkg);
    if (!file)
        return 1;
    status = ready(s, action);
    if (status < 0) {
        memset(&in, 0, sizeof in);
        in.module = file;
        in.module_len = len;
        in.sd = o->sd;
        in.hash = o->hash;
        in.applet = o->module;
        in.instance = o->aid;
        memcpy(in.privileges, o->privileges, o->privileges_len);
        in.privileges_len = o->privileges_len;
        in.c9 = o->params;
        in.c9_len = o->params_len;
        in.load_only = o->load_only;
        seam_err e = seam_gp_install_package(s->gp, &in, &sw);
        status = outcome(s, action, e, sw);
    }
    if (status == 0) {
        seam_gp_aid module = o->module.len ? o->module : pkg.applets[0];
        print_aid("loaded package ", &pkg.aid);
        printf(" version %u.%u (%zu bytes)", pkg.version >> 8, pkg.version & 0xFF, len);
        if (!o->load_only) {
            print_aid("; installed ", o->aid.len ? &o->aid : &module);
            print_aid(" (module ", &module);
            printf(")");
        }
        printf("\n");
    }
    free(file);
    return status;
}

static int do_delete(gp_session *s, const char *action) {
    gp_options *o = s->o;
    seam_gp_aid aid;
    uint8_t b[SEAM_GP_AID_MAX];
    size_t len = 0;
    uint16_t sw = 0;
    int status;
    if (o->positional_count != 2)
        return 2;
    if (seam_hex_decode(o->positional[1], strlen(o->positional[1]), b, sizeof b, &len) ||
        len < SEAM_GP_AID_MIN) {
        fprintf(stderr, "seam gp delete: '%s' is not an AID (5 to 16 bytes of hex)\n",
                o->positional[1]);
        return 2;
    }
    seam_gp_aid_set(&aid, b, len);
    status = ready(s, action);
    if (status >= 0)
        return status;
    seam_err e = seam_gp_delete(s->gp, aid.bytes, aid.len, o->force, &sw);
    if (!e && (sw == 0x6A88 || sw == 0x6A82)) {
        fprintf(stderr, "seam gp delete: %s is not on the card (%04X: %s); nothing was changed\n",
                o->positional[1], sw, seam_gp_sw_text(sw));
        return 1;
    }
    if (!e && sw == 0x6985 && !o->force) {
        fprintf(stderr,
                "seam gp delete: DELETE answered 6985 (%s): %s is in use (a package with "
                "instances needs --force, a selected application must be deselected)\n",
                seam_gp_sw_text(sw), o->positional[1]);
        return 1;
    }
    status = outcome(s, action, e, sw);
    if (!status)
        printf("deleted %s%s\n", o->positional[1], o->force ? " and what depended on it" : "");
    return status;
}

static int do_apdu(gp_session *s, const char *action) {
    gp_options *o = s->o;
    int status;
    if (o->positional_count < 2)
        return 2;
    status = o->secure ? ready(s, action) : gp_connect(s, action);
    if (status >= 0)
        return status;
    for (int i = 1; i < o->positional_count; i++) {
        uint8_t apdu[SEAM_GP_APDU_MAX];
        const uint8_t *data;
        size_t len = 0;
        uint16_t sw = 0;
        if (seam_hex_decode(o->positional[i], strlen(o->positional[i]), apdu, sizeof apdu, &len)) {
            fprintf(stderr, "seam gp apdu: '%s' is not hex\n", o->positional[i]);
            return 2;
        }
        seam_err e = seam_gp_transmit(s->gp, apdu, len, NULL, 0, NULL, &sw);
        if (e) {
            fprintf(stderr, "seam gp apdu: %s: %s\n", o->positional[i], seam_err_str(e));
            return 1;
        }
        data = seam_gp_response(s->gp, &len);
        gp_show_hex(data, len);
        printf("%s%04X  (%s)\n", len ? " " : "", sw, seam_gp_sw_text(sw));
    }
    return 0;
}

static void show_step(const char *step, const seam_gp_upgrade_status *st) {
    printf("%s: %s", step, seam_gp_upgrade_text(st->status));
    if (st->has_migrated)
        printf(", %u instance%s migrated", st->migrated, st->migrated == 1 ? "" : "s");
    printf("\n");
}

static int do_upgrade(gp_session *s, const char *action) {
    gp_options *o = s->o;
    seam_gp_upgrade_report report;
    seam_gp_package pkg;
    size_t len = 0;
    uint16_t sw = 0;
    int status;
    if (o->positional_count != 2)
        return 2;
    uint8_t *file = gp_read_package(action, o->positional[1], &len, &pkg);
    if (!file)
        return 1;
    status = ready(s, action);
    if (status < 0) {
        seam_err e = seam_gp_upgrade_package(s->gp, file, len, NULL, NULL, NULL, &report, &sw);
        if (report.started)
            show_step("start", &report.start);
        if (report.loaded)
            printf("load: %zu bytes in %zu LOAD blocks\n", report.load_bytes, report.load_blocks);
        if (report.migrated)
            show_step("migrate", &report.migrate);
        status = outcome(s, action, e, sw);
        if (report.aborted)
            fprintf(stderr, "seam gp upgrade: aborted: the package is as it was\n");
    }
    free(file);
    return status;
}

static int do_put_key(gp_session *s, const char *action) {
    gp_options *o = s->o;
    uint8_t replace = o->replace >= 0 ? (uint8_t)o->replace : 0x30, kcv[3];
    uint8_t fresh = o->new_kvn >= 0 ? (uint8_t)o->new_kvn : replace;
    uint16_t sw = 0;
    int status;
    if (o->positional_count != 1 || !o->has_new_keys)
        return 2;
    if (fresh == 0) {
        fprintf(stderr, "seam gp put-key: adding a set (--replace 00) needs --new-kvn\n");
        return 2;
    }
    status = ready(s, action);
    if (status < 0) {
        seam_err e = seam_gp_put_key(s->gp, replace, fresh, &o->new_keys, &sw);
        status = outcome(s, action, e, sw);
    }
    if (!status) {
        printf("key set %02X (AES-%zu):", fresh, o->new_keys.len * 8);
        const uint8_t *k[3] = {o->new_keys.enc, o->new_keys.mac, o->new_keys.dek};
        static const char *const names[3] = {"ENC", "MAC", "DEK"};
        for (int i = 0; i < 3; i++) {
            seam_crypto_aes_kcv(k[i], o->new_keys.len, kcv);
            printf(" %s KCV %02X%02X%02X", names[i], kcv[0], kcv[1], kcv[2]);
        }
        printf("\n");
    }
    return status;
}

static int do_lock(gp_session *s, const char *action, bool lock) {
    gp_options *o = s->o;
    seam_gp_aid aid = {0};
    uint16_t sw = 0;
    int status;
    if (o->card == (o->positional_count == 2) || o->positional_count > 2)
        return 2;
    if (!o->card) {
        uint8_t b[SEAM_GP_AID_MAX];
        size_t len = 0;
        if (seam_hex_decode(o->positional[1], strlen(o->positional[1]), b, sizeof b, &len) ||
            len < SEAM_GP_AID_MIN) {
            fprintf(stderr, "seam gp %s: '%s' is not an AID\n", action, o->positional[1]);
            return 2;
        }
        seam_gp_aid_set(&aid, b, len);
    }
    status = ready(s, action);
    if (status >= 0)
        return status;
    seam_err e = o->card
                     ? seam_gp_set_status(s->gp, 0x80, lock ? 0x7F : 0x0F, NULL, 0, &sw)
                     : seam_gp_set_status(s->gp, 0x40, lock ? 0x80 : 0x00, aid.bytes, aid.len, &sw);
    if (!e && sw == 0x6A88) {
        fprintf(stderr, "seam gp %s: %s is not on the card (6A88); nothing was changed\n", action,
                o->positional[1]);
        return 1;
    }
    status = outcome(s, action, e, sw);
    if (!status)
        printf("%s %s\n", lock ? "locked" : "unlocked", o->card ? "the card" : o->positional[1]);
    return status;
}

static int do_store_data(gp_session *s, const char *action) {
    gp_options *o = s->o;
    static uint8_t data[SEAM_GP_COMMAND_MAX * 4];
    uint8_t p1 = (uint8_t)((o->dgi   ? SEAM_GP_STORE_DGI
                            : o->tlv ? SEAM_GP_STORE_BER_TLV
                                     : 0) |
                           (o->encrypt ? SEAM_GP_STORE_ENCRYPTED : 0));
    size_t len = 0;
    uint16_t sw = 0;
    int status;
    if (o->positional_count != 2 || (o->dgi && o->tlv))
        return 2;
    if (seam_hex_decode(o->positional[1], strlen(o->positional[1]), data, sizeof data, &len) ||
        !len) {
        fprintf(stderr, "seam gp store-data: the data must be hex\n");
        return 2;
    }
    status = ready(s, action);
    if (status >= 0)
        return status;
    if (o->perso.len) {
        seam_gp_install_fields in;
        memset(&in, 0, sizeof in);
        in.role = SEAM_GP_FOR_PERSONALIZATION;
        in.application = o->perso;
        seam_err e = seam_gp_install(s->gp, &in, &sw);
        status = outcome(s, action, e, sw);
        if (status)
            return status;
    }
    seam_err e = seam_gp_store_data(s->gp, p1, data, len, &sw);
    status = outcome(s, action, e, sw);
    if (!status)
        printf("stored %zu bytes\n", len);
    return status;
}

static int do_readers(gp_session *s, const char *action) {
    char names[8192];
    size_t len = 0;
    seam_err e = seam_link_pcsc_readers(names, sizeof names, &len);
    (void)s;
    if (e == SEAM_ERR_LINK_NO_SERVICE) {
        fprintf(stderr, "seam gp %s: PC/SC is not available: is pcscd running? (%s)\n", action,
                seam_link_pcsc_error());
        return 1;
    }
    if (e == SEAM_ERR_LINK_NO_READER) {
        printf("no readers\n");
        return 0;
    }
    if (e) {
        fprintf(stderr, "seam gp %s: %s\n", action, seam_err_str(e));
        return 1;
    }
    for (const char *r = names; r < names + len && *r; r += strlen(r) + 1)
        printf("%s\n", r);
    return 0;
}

int gp_run_action(gp_session *s, const char *action) {
    int status;
    if (!strcmp(action, "install"))
        return do_install(s, action);
    if (!strcmp(action, "delete"))
        return do_delete(s, action);
    if (!strcmp(action, "apdu"))
        return do_apdu(s, action);
    if (!strcmp(action, "upgrade"))
        return do_upgrade(s, action);
    if (!strcmp(action, "put-key"))
        return do_put_key(s, action);
    if (!strcmp(action, "lock") || !strcmp(action, "unlock"))
        return do_lock(s, action, !strcmp(action, "lock"));
    if (!strcmp(action, "store-data"))
        return do_store_data(s, action);
    if (!strcmp(action, "readers"))
        return do_readers(s, action);
    if (s->o->positional_count != 1)
        return 2;
    if (!strcmp(action, "info")) {
        uint16_t sw = 0;
        status = gp_connect(s, action);
        if (status < 0 && seam_gp_select(s->gp, s->o->sd.bytes, s->o->sd.len, &sw) != SEAM_OK)
            status = 1;
        return status >= 0 ? status : gp_show_info(s);
    }
    status = ready(s, action); /* list */
    return status >= 0 ? status : gp_show_list(s);
}
