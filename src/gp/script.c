/*
 * The card script runner (docs/card-script.md): reads a script line by line,
 * has script_parse.c check each line, and acts on it through a host session
 * (seam_gp) over any link: APDU lines are sent as they are (wrapped inside a
 * secure channel, 61xx answers collected), directives call the operations of
 * ops.c. The session talks through a link of this file that counts every
 * APDU and response on the caller's link, for .traffic and the closing line.
 *
 * States of a run:
 *
 *   READING ──a line──▶ CHECKED (parsed, its files read) ──run──▶ READING
 *   READING ──end of the script, or the first failure with stop_on_error──▶ DONE
 *
 * With check_only nothing is sent: CHECKED goes back to READING at once. All
 * output goes through emit(), the one place that calls options->print.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gp_int.h"
#include "script_int.h"
#include "seam/crypto.h"
#include "seam/util.h"

#define OUT_MAX         (2u * SEAM_GP_RESPONSE_MAX + 128u)
#define PACKAGE_MAX     (16u * 1024u * 1024u)
#define SCRIPT_READ_MAX (SCRIPT_LINE_MAX + 1) /* one line as read, its newline, a NUL */

typedef struct {
    uint64_t commands, bytes_in, bytes_out;
} counter;

typedef struct {
    const seam_gp_script_options *o;
    seam_gp_script_result *result;
    seam_gp_link *inner;   /* the caller's link */
    seam_gp_link counting; /* the session's: counts, then passes on to inner */
    counter total, by_ins[256];
    seam_gp *gp;
    unsigned line_no;
    script_line parsed;
    char line[SCRIPT_READ_MAX];
    char out[OUT_MAX];
} runner;

/* ---- output: every line goes through emit ------------------------------------------- */

static void emit(runner *r, seam_gp_script_output kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->out, sizeof r->out, fmt, ap);
    va_end(ap);
    if (r->o->print)
        r->o->print(r->o->print_ctx, kind, r->out);
}

/* emit of prefix || hex(b[0..n)) || hex(tail[0..tail_len)). */
static void emit_hex(runner *r, seam_gp_script_output kind, const char *prefix, const uint8_t *b,
                     size_t n, const uint8_t *tail, size_t tail_len) {
    size_t at = (size_t)snprintf(r->out, sizeof r->out, "%s", prefix);
    for (size_t i = 0; i < n + tail_len && at + 3 < sizeof r->out; i++)
        at += (size_t)snprintf(r->out + at, sizeof r->out - at, "%02X", i < n ? b[i] : tail[i - n]);
    if (r->o->print)
        r->o->print(r->o->print_ctx, kind, r->out);
}

/* A failed check or a bad line: "PATH:LINE: message". */
static void fail(runner *r, const char *fmt, ...) {
    char message[OUT_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    emit(r, SEAM_GP_SCRIPT_FAILURE, "%s:%u: %s", r->o->path, r->line_no, message);
    r->result->failed++;
}

static const char *aid_hex(const seam_gp_aid *aid, char *buf, size_t size) {
    size_t n = 0;
    if (seam_hex_encode(aid->bytes, aid->len, buf, size, &n) != SEAM_OK)
        buf[0] = 0;
    return buf;
}

/* ---- the counting link ---------------------------------------------------------------- */

static seam_err count_power_on(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    runner *r = ctx;
    return seam_gp_link_power_on(r->inner, atr, size, len);
}

static seam_err count_reset(void *ctx, uint8_t *atr, size_t size, size_t *len) {
    runner *r = ctx;
    return seam_gp_link_reset(r->inner, atr, size, len);
}

static seam_err count_power_off(void *ctx) {
    runner *r = ctx;
    return seam_gp_link_power_off(r->inner);
}

/* As the card counts (docs/card.md, "Byte counters"): the command when it is sent,
   by its INS byte; the response, SW included, when it comes back. */
static seam_err count_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                               size_t size, size_t *response_len) {
    runner *r = ctx;
    counter *c[2] = {&r->total, len >= 2 ? &r->by_ins[command[1]] : NULL};
    for (int i = 0; i < 2 && c[i]; i++) {
        c[i]->commands++;
        c[i]->bytes_in += len;
    }
    seam_err e = seam_gp_link_transmit(r->inner, command, len, response, size, response_len);
    for (int i = 0; i < 2 && c[i] && !e; i++)
        c[i]->bytes_out += *response_len;
    return e;
}

static void count_close(void *ctx) {
    (void)ctx; /* the caller's link stays the caller's */
}

static const seam_gp_link_ops counting_ops = {
    .power_on = count_power_on,
    .reset = count_reset,
    .power_off = count_power_off,
    .transmit = count_transmit,
    .close = count_close,
};

/* ---- files ----------------------------------------------------------------------------- */

/* Reads a whole package file and checks it (the wasm layer decodes and validates the
   module); NULL with the failure reported. The caller frees it. */
static uint8_t *read_package(runner *r, const char *what, const char *path, size_t *len,
                             seam_gp_package *pkg) {
    struct stat st;
    char why[256];
    uint8_t *b = NULL;
    FILE *f = NULL;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)PACKAGE_MAX) {
        fail(r, "%s: cannot read '%s': %s", what, path,
             stat(path, &st) != 0   ? "no such file"
             : !S_ISREG(st.st_mode) ? "not a regular file"
                                    : "larger than 16 MiB");
        return NULL;
    }
    f = fopen(path, "rb");
    b = f ? malloc((size_t)st.st_size + 1) : NULL;
    if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fail(r, "%s: cannot read '%s'", what, path);
        free(b);
        b = NULL;
    } else if (seam_gp_package_read(b, (size_t)st.st_size, pkg, why, sizeof why) != SEAM_OK) {
        fail(r, "%s: '%s' is not a seam package: %s", what, path, why);
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    *len = b ? (size_t)st.st_size : 0;
    return b;
}

/* ---- APDU lines --------------------------------------------------------------------- */

/* Words for a session error while sending a line's command. */
static const char *send_error(seam_err e) {
    switch (e) {
    case SEAM_ERR_CRYPTO_AUTH:
        return "the response does not verify (R-MAC): the secure channel is closed";
    case SEAM_ERR_ARG:
        return "too long for one APDU through the secure channel";
    default:
        return seam_err_str(e);
    }
}

static void run_apdu(runner *r, const script_line *l) {
    const uint8_t *data;
    size_t len = 0;
    uint16_t sw = 0;
    /* a line that expects 61xx or 6Cxx gets that answer, not what follows it */
    bool follow = !(l->check_sw && (l->sw[0] == '6') &&
                    (l->sw[1] == '1' || l->sw[1] == 'C' || l->sw[1] == 'c'));
    emit_hex(r, SEAM_GP_SCRIPT_COMMAND, "> ", l->apdu, l->apdu_len, NULL, 0);
    seam_gp_set_response_chaining(r->gp, follow);
    seam_err e = seam_gp_transmit(r->gp, l->apdu, l->apdu_len, NULL, 0, NULL, &sw);
    seam_gp_set_response_chaining(r->gp, true);
    if (e) {
        fail(r, "%s", send_error(e));
        return;
    }
    data = seam_gp_response(r->gp, &len);
    uint8_t sw_bytes[2] = {(uint8_t)(sw >> 8), (uint8_t)sw};
    emit_hex(r, SEAM_GP_SCRIPT_RESPONSE, "< ", data, len, sw_bytes, 2);
    if (!l->check_sw)
        return;
    if (!script_sw_matches(sw, l->sw)) {
        fail(r, "expected %s, got %04X", l->sw, sw);
        return;
    }
    if (l->check_data && (len < l->data_len || (!l->data_prefix && len != l->data_len) ||
                          memcmp(data, l->data, l->data_len))) {
        fail(r, "response data differs from %s", l->data_hex);
        return;
    }
    r->result->passed++;
}

/* ---- directives ----------------------------------------------------------------------- */

/* What a directive came to: a host-side error, or the status word it stopped at. */
typedef struct {
    seam_err e;
    uint16_t sw;
    bool reported; /* the failure was reported already */
} outcome;

static void count_block(void *ctx, size_t done, size_t total) {
    size_t *blocks = ctx;
    (void)done;
    (void)total;
    ++*blocks;
}

static outcome do_scp03(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    emit(r, SEAM_GP_SCRIPT_COMMAND, "> INITIALIZE UPDATE (key version %02X)", a->kvn);
    o.e = seam_gp_open_channel(r->gp, &a->keys, a->kvn, a->level, NULL, &o.sw);
    if (o.e == SEAM_ERR_GP_CRYPTOGRAM) {
        fail(r,
             "%s: the card cryptogram does not verify: the card does not hold this key "
             "(key version %02X); no secure channel is open",
             a->name, a->kvn);
        o.reported = true;
    } else if (!o.e && o.sw == 0x9000) {
        emit(r, SEAM_GP_SCRIPT_COMMAND, "> EXTERNAL AUTHENTICATE (security level %02X)", a->level);
        emit(r, SEAM_GP_SCRIPT_NOTE, "  secure channel open");
    }
    return o;
}

static outcome do_putkey(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    uint8_t kcv[3] = {0};
    const uint8_t *data;
    size_t len = 0;
    if (!seam_gp_channel_is_open(r->gp, NULL)) {
        fail(r, "%s: no secure channel is open (.scp03 first)", a->name);
        o.reported = true;
        return o;
    }
    seam_crypto_aes_kcv(a->keys.enc, a->keys.len, kcv);
    emit(r, SEAM_GP_SCRIPT_COMMAND,
         "> PUT KEY (key version %02X -> %02X: AES-%zu, ENC = MAC = DEK, KCV %02X%02X%02X)", a->kvn,
         a->new_kvn, a->keys.len * 8, kcv[0], kcv[1], kcv[2]);
    o.e = seam_gp_put_key(r->gp, a->kvn, a->new_kvn, &a->keys, &o.sw);
    if (!o.e || o.e == SEAM_ERR_GP_RESPONSE) {
        uint8_t sw_bytes[2] = {(uint8_t)(o.sw >> 8), (uint8_t)o.sw};
        data = seam_gp_response(r->gp, &len);
        emit_hex(r, SEAM_GP_SCRIPT_RESPONSE, "< ", data, len, sw_bytes, 2);
    }
    if (o.e == SEAM_ERR_GP_RESPONSE) {
        fail(r, "%s: the card's key version and KCVs differ from the key sent", a->name);
        o.reported = true;
    }
    return o;
}

/* .load FILE: INSTALL [for load] and LOAD; .install FILE: the combined INSTALL [for
   load, install and make selectable] (P1 0E: P2 01, LOAD, P2 03). */
static outcome do_package(runner *r, const script_args *a, bool install) {
    outcome o = {0, 0, false};
    seam_gp_package_install in;
    seam_gp_package pkg;
    char elf[40], inst[40], mod[40];
    size_t len = 0, blocks = 0;
    uint8_t *file = read_package(r, a->name, a->file, &len, &pkg);
    if (!file) {
        o.reported = true;
        return o;
    }
    memset(&in, 0, sizeof in);
    in.module = file;
    in.module_len = len;
    in.sd = a->domain;
    in.hash = a->hash;
    in.applet = a->module.len ? a->module : pkg.applets[0];
    in.instance = a->aid.len ? a->aid : in.applet;
    memcpy(in.privileges, a->privileges, a->privileges_len);
    in.privileges_len = a->privileges_len;
    in.c9 = a->params;
    in.c9_len = a->params_len;
    in.load_only = !install;
    in.progress = count_block;
    in.progress_ctx = &blocks;
    emit(r, SEAM_GP_SCRIPT_COMMAND,
         install ? "> INSTALL [for load, install and make selectable] of package %s (version "
                   "%u.%u): P2 01, LOAD, P2 03"
                 : "> INSTALL [for load] of package %s (version %u.%u), LOAD",
         aid_hex(&pkg.aid, elf, sizeof elf), pkg.version >> 8, pkg.version & 0xFF);
    o.e = seam_gp_install_package(r->gp, &in, &o.sw);
    if (!o.e && (o.sw == 0x9000 || blocks))
        emit(r, SEAM_GP_SCRIPT_NOTE, "  loaded %s: %zu bytes in %zu LOAD blocks", a->file, len,
             blocks);
    if (!o.e && o.sw == 0x9000 && install)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  installed %s (module %s)",
             aid_hex(&in.instance, inst, sizeof inst), aid_hex(&in.applet, mod, sizeof mod));
    free(file);
    return o;
}

/* .install package=AID module=AID ...: INSTALL [for install and make selectable] only. */
static outcome do_install_from(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    seam_gp_install_fields in;
    char inst[40], mod[40], elf[40];
    memset(&in, 0, sizeof in);
    in.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE;
    in.elf = a->package;
    in.module = a->module;
    in.application = a->aid.len ? a->aid : a->module;
    memcpy(in.privileges, a->privileges, a->privileges_len);
    in.privileges_len = a->privileges_len ? a->privileges_len : 1;
    in.app_params = a->params;
    in.app_params_len = a->params_len;
    emit(r, SEAM_GP_SCRIPT_COMMAND,
         "> INSTALL [for install and make selectable] %s (module %s of package %s)",
         aid_hex(&in.application, inst, sizeof inst), aid_hex(&in.module, mod, sizeof mod),
         aid_hex(&in.elf, elf, sizeof elf));
    o.e = seam_gp_install(r->gp, &in, &o.sw);
    if (!o.e && o.sw == 0x9000)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  installed %s", inst);
    return o;
}

static outcome do_delete(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    char aid[40];
    emit(r, SEAM_GP_SCRIPT_COMMAND, "> DELETE %s%s", aid_hex(&a->aid, aid, sizeof aid),
         a->related ? " and what depends on it" : "");
    o.e = seam_gp_delete(r->gp, a->aid.bytes, a->aid.len, a->related, &o.sw);
    if (!o.e && o.sw == 0x9000)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  deleted %s", aid);
    return o;
}

static void show_step(runner *r, const char *step, const seam_gp_upgrade_status *st) {
    if (st->has_migrated)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  %s: %s, %u instance%s migrated", step,
             seam_gp_upgrade_text(st->status), st->migrated, st->migrated == 1 ? "" : "s");
    else
        emit(r, SEAM_GP_SCRIPT_NOTE, "  %s: %s", step, seam_gp_upgrade_text(st->status));
}

static outcome do_upgrade(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    seam_gp_upgrade_report report;
    seam_gp_package pkg;
    char elf[40];
    size_t len = 0;
    uint8_t *file = read_package(r, a->name, a->file, &len, &pkg);
    if (!file) {
        o.reported = true;
        return o;
    }
    emit(r, SEAM_GP_SCRIPT_COMMAND, "> MANAGE ELF UPGRADE of package %s to %s (version %u.%u)",
         aid_hex(a->old.len ? &a->old : &pkg.aid, elf, sizeof elf), a->file, pkg.version >> 8,
         pkg.version & 0xFF);
    o.e = seam_gp_upgrade_package(r->gp, file, len, &a->old, NULL, NULL, &report, &o.sw);
    if (report.started)
        show_step(r, "start", &report.start);
    if (report.loaded)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  load: %zu bytes in %zu LOAD blocks", report.load_bytes,
             report.load_blocks);
    if (report.migrated)
        show_step(r, "migrate", &report.migrate);
    if (report.aborted)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  aborted: the package is as it was");
    free(file);
    return o;
}

static outcome do_store_data(runner *r, const script_args *a) {
    outcome o = {0, 0, false};
    char aid[40];
    if (a->perso.len) {
        seam_gp_install_fields in;
        memset(&in, 0, sizeof in);
        in.role = SEAM_GP_FOR_PERSONALIZATION;
        in.application = a->perso;
        emit(r, SEAM_GP_SCRIPT_COMMAND, "> INSTALL [for personalization] %s",
             aid_hex(&a->perso, aid, sizeof aid));
        o.e = seam_gp_install(r->gp, &in, &o.sw);
        if (o.e || o.sw != 0x9000)
            return o;
    }
    emit(r, SEAM_GP_SCRIPT_COMMAND, "> STORE DATA of %zu bytes%s%s", a->store_len,
         (a->store_p1 & 0x18) == SEAM_GP_STORE_DGI       ? " in DGIs"
         : (a->store_p1 & 0x18) == SEAM_GP_STORE_BER_TLV ? " in BER-TLVs"
                                                         : "",
         (a->store_p1 & 0x60) == SEAM_GP_STORE_ENCRYPTED ? ", encrypted under the DEK" : "");
    o.e = seam_gp_store_data(r->gp, a->store_p1, a->store, a->store_len, &o.sw);
    if (!o.e && o.sw == 0x9000)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  stored %zu bytes", a->store_len);
    if (o.e == SEAM_ERR_GP_CHANNEL) {
        fail(r, "%s: encrypt needs a secure channel (.scp03 first)", a->name);
        o.reported = true;
    }
    return o;
}

/* .traffic: the byte counters so far, per instruction byte then in total. */
static void do_traffic(runner *r) {
    for (unsigned ins = 0; ins < 256; ins++)
        if (r->by_ins[ins].commands)
            emit(r, SEAM_GP_SCRIPT_NOTE,
                 "  INS %02X: %" PRIu64 " command%s, %" PRIu64 " bytes in, %" PRIu64 " bytes out",
                 ins, r->by_ins[ins].commands, r->by_ins[ins].commands == 1 ? "" : "s",
                 r->by_ins[ins].bytes_in, r->by_ins[ins].bytes_out);
    emit(r, SEAM_GP_SCRIPT_NOTE,
         "  all:    %" PRIu64 " commands, %" PRIu64 " bytes in, %" PRIu64 " bytes out",
         r->total.commands, r->total.bytes_in, r->total.bytes_out);
}

/* .power: a warm reset; the secure channel ends with it. */
static void do_power(runner *r) {
    uint8_t atr[SEAM_GP_ATR_MAX];
    size_t atr_len = 0;
    seam_gp_close_channel(r->gp);
    seam_err e = seam_gp_link_reset(&r->counting, atr, sizeof atr, &atr_len);
    if (e)
        fail(r, ".power: the card did not power on: %s", seam_err_str(e));
    else
        emit_hex(r, SEAM_GP_SCRIPT_NOTE, "  ATR ", atr, atr_len, NULL, 0);
}

/* Checks a directive's files without sending anything (check_only). */
static void check_directive(runner *r, const script_args *a) {
    seam_gp_package pkg;
    size_t len = 0;
    if (a->file) {
        uint8_t *file = read_package(r, a->name, a->file, &len, &pkg);
        free(file);
    }
}

static void run_directive(runner *r, const script_line *l) {
    const script_args *a = &l->args;
    outcome o = {0, 0, false};
    char step[96];
    switch (a->which) {
    case DIRECTIVE_TRAFFIC:
        do_traffic(r);
        return;
    case DIRECTIVE_POWER:
        do_power(r);
        return;
    case DIRECTIVE_SCP03:
        o = do_scp03(r, a);
        break;
    case DIRECTIVE_PUTKEY:
        o = do_putkey(r, a);
        break;
    case DIRECTIVE_LOAD:
        o = do_package(r, a, false);
        break;
    case DIRECTIVE_INSTALL:
        o = a->file ? do_package(r, a, true) : do_install_from(r, a);
        break;
    case DIRECTIVE_DELETE:
        o = do_delete(r, a);
        break;
    case DIRECTIVE_UPGRADE:
        o = do_upgrade(r, a);
        break;
    case DIRECTIVE_STORE_DATA:
        o = do_store_data(r, a);
        break;
    }
    if (o.reported)
        return;
    if (o.e) {
        fail(r, "%s: %s", a->name, send_error(o.e));
        return;
    }
    uint8_t header[4];
    seam_gp_last_command(r->gp, header);
    seam_gp_command_text(header, step, sizeof step);
    if (!script_sw_matches(o.sw, l->sw)) {
        fail(r, "%s: %s answered %04X (%s)%s%s", a->name, step, o.sw, seam_gp_sw_text(o.sw),
             strcmp(l->sw, "9000") ? ", expected " : "", strcmp(l->sw, "9000") ? l->sw : "");
        return;
    }
    if (o.sw != 0x9000)
        emit(r, SEAM_GP_SCRIPT_NOTE, "  %s answered %04X (%s), as expected", step, o.sw,
             seam_gp_sw_text(o.sw));
    r->result->passed++;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Parses, checks and (unless check_only) runs the line in r->line[0..len). */
static void one_line(runner *r, size_t len) {
    script_line *l = &r->parsed;
    script_parse_line(r->line, len, l);
    if (l->kind == SCRIPT_BAD)
        fail(r, "%s", l->error);
    else if (r->o->check_only && l->kind == SCRIPT_DIRECTIVE)
        check_directive(r, &l->args);
    else if (l->kind == SCRIPT_DIRECTIVE)
        run_directive(r, l);
    else if (l->kind == SCRIPT_APDU && !r->o->check_only)
        run_apdu(r, l);
}

static void read_lines(runner *r, FILE *f) {
    while (fgets(r->line, sizeof r->line, f)) {
        size_t len = strlen(r->line); /* a NUL in the line ends it */
        bool whole = (len && r->line[len - 1] == '\n') || feof(f);
        unsigned failed = r->result->failed;
        r->line_no++;
        r->result->lines++;
        if (!whole) { /* longer than the buffer: report it, skip the rest */
            fail(r, "line longer than %d bytes", SCRIPT_LINE_MAX);
            for (int ch = fgetc(f); ch != EOF && ch != '\n';)
                ch = fgetc(f);
        } else {
            one_line(r, len);
        }
        if (r->o->stop_on_error && r->result->failed > failed) {
            r->result->stopped = true;
            break;
        }
    }
}

seam_err seam_gp_script_run(seam_gp_link *link, const seam_gp_script_options *options,
                            seam_gp_script_result *result) {
    struct stat st;
    runner *r;
    FILE *f = NULL;
    seam_err e = SEAM_OK;
    if (!options || !options->path || !result || (!link && !options->check_only))
        return SEAM_ERR_ARG;
    memset(result, 0, sizeof *result);
    r = calloc(1, sizeof *r);
    if (!r)
        return SEAM_ERR_NOMEM;
    r->o = options;
    r->result = result;
    r->inner = link;
    if (stat(options->path, &st) != 0 || !S_ISREG(st.st_mode) || !(f = fopen(options->path, "r"))) {
        emit(r, SEAM_GP_SCRIPT_FAILURE, "%s: %s", options->path,
             stat(options->path, &st) != 0 ? "no such file"
             : !S_ISREG(st.st_mode)        ? "not a regular file"
                                           : "cannot be read");
        e = SEAM_ERR_IO;
        goto out;
    }
    if (!options->check_only) {
        uint8_t atr[SEAM_GP_ATR_MAX];
        size_t atr_len = 0;
        r->counting.ops = &counting_ops;
        r->counting.ctx = r;
        r->counting.kind = link->kind;
        e = seam_gp_link_power_on(&r->counting, atr, sizeof atr, &atr_len);
        if (!e)
            e = seam_gp_new(&r->counting, &r->gp);
        if (e)
            goto out;
        seam_gp_set_trace(r->gp, options->trace, options->trace_ctx);
    }
    read_lines(r, f);
    if (r->o->check_only) {
        emit(r, SEAM_GP_SCRIPT_SUMMARY, "%s: %u line%s checked, %u error%s%s", options->path,
             result->lines, result->lines == 1 ? "" : "s", result->failed,
             result->failed == 1 ? "" : "s", result->stopped ? " (stopped at the first)" : "");
    } else {
        result->commands = r->total.commands;
        result->bytes_in = r->total.bytes_in;
        result->bytes_out = r->total.bytes_out;
        if (result->stopped)
            emit(r, SEAM_GP_SCRIPT_SUMMARY, "stopped at line %u, the first failure", r->line_no);
        emit(r, SEAM_GP_SCRIPT_SUMMARY,
             "bytes in %" PRIu64 ", bytes out %" PRIu64 ", commands %" PRIu64, r->total.bytes_in,
             r->total.bytes_out, r->total.commands);
        emit(r, SEAM_GP_SCRIPT_SUMMARY, "%u passed, %u failed", result->passed, result->failed);
    }
out:
    if (f)
        fclose(f);
    seam_gp_free(r->gp);
    seam_secure_zero(&r->parsed, sizeof r->parsed);
    free(r);
    return e;
}
