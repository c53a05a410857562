/*
 * Applet diagnostics, the runtime's side (docs/applet-abi.md, "Diagnostics"):
 * after every entry-point call, the fuel it used and, when it failed, why and
 * where (the trap's name, the function and module offset the engine located,
 * the function's name from the module's name section); why an instance could
 * not be made; seam_debug lines, bounded in length and in number per
 * entry-point call, and dropped when the instance's sink says so (a
 * production card: the call costs the same fuel on both profiles and never
 * fails, so an applet runs the same on both). And the one-line text of an
 * event, for every sink. The card's side (where events go, its profile, the
 * fuel total) is content/card_diag.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "applet_int.h"
#include "seam/util.h"

/* ---- the runtime's side ---------------------------------------------------------- */

const char *applet_entry_name(const seam_applet *applet, const seam_wasm_func *func) {
    const struct {
        const seam_wasm_func *func;
        const char *name;
    } entries[] = {
        {applet->process, "process"},
        {applet->install, "install"},
        {applet->select, "select"},
        {applet->deselect, "deselect"},
        {applet->personalize, "personalize"},
        {applet->save_for_upgrade, "save_for_upgrade"},
        {applet->restore_after_upgrade, "restore_after_upgrade"},
        {applet->toolkit_entry[0], "terminal_response"},
        {applet->toolkit_entry[1], "menu_selection"},
        {applet->toolkit_entry[2], "event_download"},
        {applet->toolkit_entry[3], "timer_expiration"},
        {applet->toolkit_entry[4], "service"},
    };
    const char *name = "?";
    for (size_t i = 0; func != NULL && i < sizeof entries / sizeof entries[0]; i++) {
        if (entries[i].func == func) {
            name = entries[i].name;
            break;
        }
    }
    return name;
}

/* An event of the applet's, with its AID and entry point filled in. */
static seam_card_diag event_of(const seam_applet *applet, seam_card_diag_kind kind,
                               const char *entry) {
    seam_card_diag d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.aid = applet->diag.aid;
    d.aid_len = applet->diag.aid_len;
    d.entry = entry;
    d.reason = "";
    d.detail = "";
    d.func_name = "";
    return d;
}

/* Fills the location fields of d from the engine's; name receives the escaped name. */
static void locate(seam_card_diag *d, const seam_wasm_trap_location *where, char *name,
                   size_t name_size) {
    seam_wasm_name n;
    if (!where->known) {
        return;
    }
    d->located = true;
    d->func_index = where->func_index;
    d->offset = where->offset;
    if (seam_wasm_module_func_name(where->module, where->func_index, &n) == SEAM_OK) {
        d->func_name = seam_wasm_name_print(name, name_size, n);
    }
}

void applet_diag_call_done(seam_applet *applet, seam_wasm_func *func,
                           const seam_applet_result *result, bool bad_sw, uint64_t value) {
    const char *entry = applet_entry_name(applet, func);
    uint64_t left = seam_wasm_store_fuel(applet->store);
    uint64_t used = left < applet->fuel ? applet->fuel - left : 0;
    char name[80], detail[64];
    seam_card_diag d;
    if (applet->diag.fn == NULL) {
        return;
    }
    if (applet->debug_dropped > 0) {
        d = event_of(applet, SEAM_CARD_DIAG_DEBUG, entry);
        d.dropped = applet->debug_dropped;
        applet->diag.fn(applet->diag.ctx, &d);
    }
    /* a storage failure inside a restore call is the card's, not the applet's */
    if (result->rollback && result->storage == SEAM_OK) {
        d = event_of(applet, SEAM_CARD_DIAG_FAILURE, entry);
        d.fuel_used = used;
        d.fuel_budget = applet->fuel;
        if (bad_sw) {
            d.reason = "invalid status word";
            snprintf(detail, sizeof detail, "returned 0x%" PRIx64 ", not 6000..6FFF or 9000..9FFF",
                     value);
            d.detail = detail;
        } else {
            d.reason = seam_wasm_trap_name(result->trap.code);
            if (strcmp(result->trap.message, d.reason) != 0) {
                d.detail = result->trap.message;
            }
            locate(&d, &result->trap.where, name, sizeof name);
        }
        applet->diag.fn(applet->diag.ctx, &d);
    }
    d = event_of(applet, SEAM_CARD_DIAG_FUEL, entry);
    d.fuel_used = used;
    d.fuel_budget = applet->fuel;
    applet->diag.fn(applet->diag.ctx, &d);
}

void applet_diag_instantiate_failed(seam_applet *applet, seam_err e, const char *text,
                                    const seam_wasm_trap *trap) {
    char name[80];
    seam_card_diag d;
    if (applet->diag.fn == NULL) {
        return;
    }
    bool start = e == SEAM_ERR_WASM_TRAP && trap->where.known;
    d = event_of(applet, SEAM_CARD_DIAG_FAILURE, start ? "start" : "instantiate");
    if (e == SEAM_ERR_WASM_TRAP) {
        d.reason = seam_wasm_trap_name(trap->code);
        if (!start) {
            d.detail = "in a data or element segment";
        }
        locate(&d, &trap->where, name, sizeof name);
    } else {
        d.reason = e == SEAM_ERR_WASM_LINK ? "link error" : "instantiation failed";
        d.detail = text[0] ? text : seam_err_str(e);
    }
    applet->diag.fn(applet->diag.ctx, &d);
}

seam_err applet_host_debug(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                           uint64_t *results) {
    seam_applet *applet = env;
    uint32_t addr = (uint32_t)args[0], len = (uint32_t)args[1];
    uint32_t kept = len < SEAM_CARD_DEBUG_TEXT_MAX ? len : SEAM_CARD_DEBUG_TEXT_MAX;
    uint8_t *p = NULL;
    char detail[80];
    seam_card_diag d;
    (void)results;
    /* the same price on every card, whatever happens next: a base and the bytes kept */
    if (!applet_charge(ctx, kept, 0)) {
        return SEAM_ERR_WASM_TRAP;
    }
    if (!applet->diag.debug || applet->diag.fn == NULL) {
        return SEAM_OK; /* a production card: nothing, and no failure */
    }
    if (applet->debug_lines >= SEAM_CARD_DEBUG_LINES_MAX) {
        applet->debug_dropped++;
        return SEAM_OK;
    }
    applet->debug_lines++;
    d = event_of(applet, SEAM_CARD_DIAG_DEBUG, applet_entry_name(applet, applet->running));
    if (applet_guest_range(ctx, addr, kept, &p)) {
        d.text = p;
        d.text_len = kept;
        d.truncated = kept < len;
    } else { /* never a trap: shown as what it is */
        snprintf(detail, sizeof detail, "range [0x%x, +%u) outside linear memory", (unsigned)addr,
                 (unsigned)len);
        d.detail = detail;
    }
    applet->diag.fn(applet->diag.ctx, &d);
    return SEAM_OK;
}

void seam_applet_bind_diag(seam_applet *applet, const seam_applet_diag *diag) {
    if (applet == NULL) {
        return;
    }
    if (diag != NULL) {
        applet->diag = *diag;
    } else {
        memset(&applet->diag, 0, sizeof applet->diag);
    }
}

/* ---- names and text ---------------------------------------------------------------- */

const char *seam_card_profile_name(seam_card_profile profile) {
    switch (profile) {
    case SEAM_CARD_PROFILE_DEVELOPMENT:
        return "development";
    case SEAM_CARD_PROFILE_PRODUCTION:
        return "production";
    }
    return NULL;
}

/* A bounded writer of text: appends while there is room, always NUL-terminated. */
typedef struct {
    char *buf;
    size_t size, len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    va_list args;
    if (t->len + 1 >= t->size) {
        return;
    }
    va_start(args, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, args);
    va_end(args);
    if (n > 0) {
        t->len += (size_t)n < t->size - t->len ? (size_t)n : t->size - t->len - 1;
    }
}

/* Applet bytes for people: printable ASCII as is, the rest (and '\\') as \xhh. */
static void put_escaped(text *t, const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        uint8_t b = bytes[i];
        if (b >= 0x20 && b < 0x7F && b != '\\') {
            put(t, "%c", b);
        } else {
            put(t, "\\x%02x", b);
        }
    }
}

char *seam_card_diag_format(const seam_card_diag *event, char *buf, size_t size) {
    text t = {buf, size, 0};
    const seam_card_diag *d = event;
    if (buf == NULL || size == 0) {
        return buf;
    }
    buf[0] = 0;
    if (d == NULL) {
        return buf;
    }
    bool load = d->entry != NULL && strcmp(d->entry, "load") == 0;
    put(&t, "%s ", load ? "package" : "applet");
    for (size_t i = 0; i < d->aid_len; i++) {
        put(&t, "%02X", d->aid[i]);
    }
    put(&t, " %s: ", d->entry != NULL ? d->entry : "?");
    switch (d->kind) {
    case SEAM_CARD_DIAG_FAILURE:
        put(&t, "%s", d->reason != NULL && d->reason[0] ? d->reason : "failed");
        if (d->detail != NULL && d->detail[0]) {
            put(&t, ": %s", d->detail);
        }
        if (d->located) {
            put(&t, " in function %" PRIu32, d->func_index);
            if (d->func_name != NULL && d->func_name[0]) {
                put(&t, " <%s>", d->func_name);
            }
            put(&t, " at module offset 0x%" PRIx32, d->offset);
        }
        if (d->fuel_budget > 0) {
            put(&t, " (fuel %" PRIu64 " of %" PRIu64 ")", d->fuel_used, d->fuel_budget);
        }
        if (load) {
            put(&t, "; the package is refused (6A80)");
        }
        break;
    case SEAM_CARD_DIAG_DEBUG:
        if (d->dropped > 0) {
            put(&t, "%" PRIu32 " more seam_debug line%s dropped (at most %u per entry-point call)",
                d->dropped, d->dropped == 1 ? "" : "s", SEAM_CARD_DEBUG_LINES_MAX);
        } else if (d->text == NULL) {
            put(&t, "seam_debug: %s", d->detail != NULL ? d->detail : "");
        } else {
            put(&t, "debug: ");
            put_escaped(&t, d->text, d->text_len);
            if (d->truncated) {
                put(&t, " [cut at %u bytes]", SEAM_CARD_DEBUG_TEXT_MAX);
            }
        }
        break;
    case SEAM_CARD_DIAG_FUEL:
        put(&t, "fuel %" PRIu64 " of %" PRIu64, d->fuel_used, d->fuel_budget);
        break;
    }
    return buf;
}
