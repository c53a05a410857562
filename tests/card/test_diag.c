/*
 * Applet diagnostics (issue 10, section 3): a failing applet command says
 * which instance, which entry point, what failed and where (function index,
 * module offset, function name), its fuel is counted, seam_debug lines reach
 * the host on a development card and nowhere on a production one, and none
 * of it changes a byte the reader receives. The applets are apps/test_diag
 * and apps/test_import.
 */
#include "card/card_host.h"
#include "seam/util.h"

static const uint8_t pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x44};
static const uint8_t cls[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x44, 0x01};
static const uint8_t inst[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x44, 0x01};

/* What the sink kept of one event. */
typedef struct {
    seam_card_diag_kind kind;
    uint8_t aid[16];
    size_t aid_len;
    char entry[32], reason[64], detail[160], func_name[64], line[640];
    bool located;
    uint32_t func_index, offset, dropped;
    uint8_t text[SEAM_CARD_DEBUG_TEXT_MAX];
    size_t text_len;
    bool truncated;
    uint64_t fuel_used, fuel_budget;
} kept_event;

typedef struct {
    kept_event events[64];
    size_t count;
} sink;

static void keep(void *ctx, const seam_card_diag *d) {
    sink *s = ctx;
    if (s->count == sizeof s->events / sizeof s->events[0])
        fail_msg("too many events");
    kept_event *k = &s->events[s->count++];
    memset(k, 0, sizeof *k);
    k->kind = d->kind;
    assert_true(d->aid_len <= sizeof k->aid);
    memcpy(k->aid, d->aid, d->aid_len);
    k->aid_len = d->aid_len;
    snprintf(k->entry, sizeof k->entry, "%s", d->entry ? d->entry : "");
    snprintf(k->reason, sizeof k->reason, "%s", d->reason ? d->reason : "");
    snprintf(k->detail, sizeof k->detail, "%s", d->detail ? d->detail : "");
    snprintf(k->func_name, sizeof k->func_name, "%s", d->func_name ? d->func_name : "");
    k->located = d->located;
    k->func_index = d->func_index;
    k->offset = d->offset;
    k->dropped = d->dropped;
    assert_true(d->text_len <= sizeof k->text);
    if (d->text_len)
        memcpy(k->text, d->text, d->text_len);
    k->text_len = d->text_len;
    k->truncated = d->truncated;
    k->fuel_used = d->fuel_used;
    k->fuel_budget = d->fuel_budget;
    seam_card_diag_format(d, k->line, sizeof k->line);
}

/* The first kept event of kind, or NULL. */
static const kept_event *first(const sink *s, seam_card_diag_kind kind) {
    for (size_t i = 0; i < s->count; i++)
        if (s->events[i].kind == kind)
            return &s->events[i];
    return NULL;
}

static size_t count(const sink *s, seam_card_diag_kind kind) {
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->events[i].kind == kind;
    return n;
}

/* Loads test_diag, installs it (params), opens the channel first. */
static uint16_t install_diag(seam_card *card, const uint8_t *params, size_t len) {
    power_on(card);
    open_channel(card);
    load(card, "test_diag", pkg, sizeof pkg);
    return install(card, 0x0C, pkg, cls, inst, params, len);
}

/* The code section of test_diag.wasm: [*start, *end) in module offsets. */
static void code_section(size_t *start, size_t *end) {
    size_t len;
    uint8_t *file = read_app("test_diag", &len);
    const uint8_t *m = file + 4; /* after the load file header */
    size_t n = len - 4, at = 8;
    *start = *end = 0;
    while (at < n) {
        uint8_t id = m[at++];
        size_t size = 0;
        for (unsigned shift = 0;; shift += 7) {
            uint8_t b = m[at++];
            size |= (size_t)(b & 0x7F) << shift;
            if (!(b & 0x80))
                break;
        }
        if (id == 10) {
            *start = at;
            *end = at + size;
        }
        at += size;
    }
    free(file);
    assert_true(*end > *start);
}

/* Sends 80 ins p1 00 to the selected test_diag and returns the response. */
static uint16_t command(seam_card *card, uint8_t ins, uint8_t p1) {
    return SEND(card, 0x80, ins, p1, 0x00);
}

/* Each way to fail: its INS, the reason, and the function it fails in. */
static const struct {
    uint8_t ins;
    const char *reason;
    const char *func; /* NULL: no location (the value returned is the failure) */
    const char *detail;
} failures[] = {
    {0x01, "integer divide by zero", "divide", ""},
    {0x02, "out of bounds memory access", "read_far", ""},
    {0x03, "unreachable", "give_up", ""},
    {0x04, "fuel exhausted", "spin", ""},
    {0x05, "invalid status word", NULL, "returned 0x1234, not 6000..6FFF or 9000..9FFF"},
    {0x09, "host function failed", "process",
     "seam.apdu_send: range [0xffffff00, +16) outside linear memory"},
};

static void each_failure_names_instance_entry_reason_and_place(void **state) {
    fixture *f = *state;
    sink s = {0};
    size_t code_start, code_end;
    code_section(&code_start, &code_end);
    assert_int_equal(install_diag(f->card, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, inst, sizeof inst), 0x9000);
    seam_card_set_diag(f->card, keep, &s);
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        s.count = 0;
        assert_int_equal(command(f->card, failures[i].ins, 0), 0x6F00);
        assert_int_equal(response_len, 2); /* nothing but the status word */
        const kept_event *e = first(&s, SEAM_CARD_DIAG_FAILURE);
        assert_non_null(e);
        assert_int_equal(count(&s, SEAM_CARD_DIAG_FAILURE), 1);
        assert_memory_equal(e->aid, inst, sizeof inst);
        assert_int_equal(e->aid_len, sizeof inst);
        assert_string_equal(e->entry, "process");
        assert_string_equal(e->reason, failures[i].reason);
        assert_string_equal(e->detail, failures[i].detail);
        if (failures[i].func) {
            assert_true(e->located);
            assert_string_equal(e->func_name, failures[i].func);
            assert_true(e->func_index > 0); /* after the imports */
            assert_true(e->offset >= code_start && e->offset < code_end);
            /* the text names all of it */
            char where[96];
            snprintf(where, sizeof where, "in function %u <%s> at module offset 0x%x",
                     (unsigned)e->func_index, failures[i].func, (unsigned)e->offset);
            if (!strstr(e->line, where) || !strstr(e->line, "applet A0000005544401 process: ") ||
                !strstr(e->line, failures[i].reason))
                fail_msg("line: %s", e->line);
        } else {
            assert_false(e->located);
        }
        assert_int_equal(e->fuel_budget, 10000000);
        if (failures[i].ins == 0x04)
            assert_int_equal(e->fuel_used, e->fuel_budget);
        else
            assert_true(e->fuel_used > 0 && e->fuel_used < 1000);
        /* and the instance goes on working */
        assert_int_equal(command(f->card, 0x10, 0), 0x9000);
    }
    /* the counter kept only the successful commands */
    assert_int_equal(command(f->card, 0x10, 0), 0x9000);
    assert_int_equal(response[1], sizeof failures / sizeof failures[0] + 1);
}

/* Response bytes with diagnostics to a host function, to the log at debug level and
   to nowhere: the same for every command. */
static void diagnostics_never_reach_the_reader(void **state) {
    fixture *f = *state;
    static const uint8_t commands[][2] = {{0x01, 0}, {0x02, 0},  {0x03, 0}, {0x04, 0}, {0x05, 0},
                                          {0x06, 0}, {0x07, 40}, {0x08, 0}, {0x09, 0}, {0x99, 0}};
    sink s = {0};
    uint8_t with[SEAM_CARD_RESPONSE_MAX];
    size_t with_len;
    assert_int_equal(install_diag(f->card, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, inst, sizeof inst), 0x9000);
    seam_log_level level = seam_log_get_level();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        s.count = 0;
        seam_card_set_diag(f->card, keep, &s);
        command(f->card, commands[i][0], commands[i][1]);
        memcpy(with, response, response_len);
        with_len = response_len;
        assert_true(s.count > 0); /* something was said, at least the fuel */
        for (int quiet = 0; quiet < 2; quiet++) {
            seam_card_set_diag(f->card, NULL, NULL);
            seam_log_set_level(quiet ? SEAM_LOG_ERROR : SEAM_LOG_DEBUG);
            command(f->card, commands[i][0], commands[i][1]);
            assert_int_equal(response_len, with_len);
            assert_memory_equal(response, with, with_len);
        }
        seam_log_set_level(level);
    }
}

static void seam_debug_lines_are_bounded(void **state) {
    fixture *f = *state;
    sink s = {0};
    assert_int_equal(install_diag(f->card, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, inst, sizeof inst), 0x9000);
    seam_card_set_diag(f->card, keep, &s);
    assert_int_equal(command(f->card, 0x06, 0), 0x9000);
    const kept_event *e = first(&s, SEAM_CARD_DIAG_DEBUG);
    assert_non_null(e);
    assert_memory_equal(e->aid, inst, sizeof inst);
    assert_string_equal(e->entry, "process");
    assert_int_equal(e->text_len, 20);
    assert_memory_equal(e->text, "hello from test_diag", 20);
    assert_string_equal(e->line, "applet A0000005544401 process: debug: hello from test_diag");

    /* 40 lines and a long one: 32 shown, the other 9 counted */
    s.count = 0;
    assert_int_equal(command(f->card, 0x07, 40), 0x9000);
    assert_int_equal(count(&s, SEAM_CARD_DIAG_DEBUG), SEAM_CARD_DEBUG_LINES_MAX + 1);
    assert_memory_equal(s.events[31].text, "line 31", 7);
    assert_int_equal(s.events[32].dropped, 9);
    assert_int_equal(s.events[32].text_len, 0);

    /* one line of 300 bytes: 256 kept, marked cut */
    s.count = 0;
    assert_int_equal(command(f->card, 0x07, 0), 0x9000);
    e = first(&s, SEAM_CARD_DIAG_DEBUG);
    assert_non_null(e);
    assert_int_equal(e->text_len, SEAM_CARD_DEBUG_TEXT_MAX);
    assert_true(e->truncated);

    /* a range outside memory: said, never a failure */
    s.count = 0;
    assert_int_equal(command(f->card, 0x08, 0), 0x9000);
    e = first(&s, SEAM_CARD_DIAG_DEBUG);
    assert_non_null(e);
    assert_int_equal(e->text_len, 0);
    assert_string_equal(e->detail, "range [0xffffff00, +200) outside linear memory");
    assert_null(first(&s, SEAM_CARD_DIAG_FAILURE));
}

/* Applet bytes are escaped in the text of an event. */
static void debug_text_is_escaped(void **state) {
    (void)state;
    static const uint8_t text[] = {'o', 'k', '\n', 0x1B, '[', '2', 'J', '\\', 0xC3, 0xA9};
    seam_card_diag d;
    char line[160];
    memset(&d, 0, sizeof d);
    d.kind = SEAM_CARD_DIAG_DEBUG;
    d.aid = inst;
    d.aid_len = sizeof inst;
    d.entry = "process";
    d.text = text;
    d.text_len = sizeof text;
    seam_card_diag_format(&d, line, sizeof line);
    assert_string_equal(line,
                        "applet A0000005544401 process: debug: ok\\x0a\\x1b[2J\\x5c\\xc3\\xa9");
    /* a short buffer: cut, still terminated */
    seam_card_diag_format(&d, line, 12);
    assert_string_equal(line, "applet A000");
}

static void an_install_that_traps_is_reported(void **state) {
    fixture *f = *state;
    sink s = {0};
    static const uint8_t params[] = {0xDE, 0x00};
    seam_card_set_diag(f->card, keep, &s);
    assert_int_equal(install_diag(f->card, params, sizeof params), 0x6F00);
    const kept_event *e = first(&s, SEAM_CARD_DIAG_FAILURE);
    assert_non_null(e);
    assert_string_equal(e->entry, "install");
    assert_string_equal(e->reason, "integer divide by zero");
    assert_true(e->located);
    assert_string_equal(e->func_name, "divide");
    assert_memory_equal(e->aid, inst, sizeof inst);
}

/* A package with an import the card lacks is refused at LOAD, naming the import. */
static void an_unknown_import_is_named_at_load(void **state) {
    fixture *f = *state;
    static const uint8_t bad[] = {0xA0, 0x00, 0x00, 0x05, 0x54, 0x49};
    sink s = {0};
    size_t len;
    uint8_t *file = read_app("test_import", &len);
    power_on(f->card);
    open_channel(f->card);
    seam_card_set_diag(f->card, keep, &s);
    assert_int_equal(install_for_load(f->card, bad, sizeof bad), 0x9000);
    assert_int_equal(load_blocks(f->card, file, len), 0x6A80);
    free(file);
    const kept_event *e = first(&s, SEAM_CARD_DIAG_FAILURE);
    assert_non_null(e);
    assert_string_equal(e->entry, "load");
    assert_memory_equal(e->aid, bad, sizeof bad);
    assert_string_equal(e->reason, "link error");
    assert_string_equal(e->detail, "unknown import seam.frobnicate");
    assert_string_equal(e->line, "package A00000055449 load: link error: unknown import "
                                 "seam.frobnicate; the package is refused (6A80)");
}

/* The card's fuel counter is the sum of the fuel events, command by command. */
static void fuel_is_counted_per_command(void **state) {
    fixture *f = *state;
    sink s = {0};
    assert_int_equal(install_diag(f->card, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, inst, sizeof inst), 0x9000);
    seam_card_set_diag(f->card, keep, &s);
    uint64_t before = seam_card_applet_fuel(f->card);
    assert_int_equal(command(f->card, 0x10, 0), 0x9000);
    const kept_event *e = first(&s, SEAM_CARD_DIAG_FUEL);
    assert_non_null(e);
    assert_string_equal(e->entry, "process");
    assert_true(e->fuel_used > 0);
    assert_int_equal(seam_card_applet_fuel(f->card) - before, e->fuel_used);
    /* a command that runs out pays its whole budget */
    before = seam_card_applet_fuel(f->card);
    assert_int_equal(command(f->card, 0x04, 0), 0x6F00);
    assert_int_equal(seam_card_applet_fuel(f->card) - before, 10000000);
    /* a card command runs no applet: no fuel */
    before = seam_card_applet_fuel(f->card);
    assert_int_equal(SEND(f->card, 0x00, 0x70, 0x00, 0x00, 0x01), 0x9000); /* MANAGE CHANNEL */
    assert_int_equal(seam_card_applet_fuel(f->card), before);
}

/* ---- profiles ------------------------------------------------------------------------ */

/* Replaces f's card by a new one of profile. */
static void new_card(fixture *f, seam_card_profile profile) {
    seam_card_close(f->card);
    f->card = NULL;
    remove_image(f->path);
    assert_int_equal(seam_card_create_profile(f->path, 0, profile, &f->card), SEAM_OK);
}

/* The fuel of INS ins with P1 p1, on profile; the events are kept in s. */
static uint64_t fuel_on(fixture *f, seam_card_profile profile, uint8_t ins, uint8_t p1, sink *s) {
    new_card(f, profile);
    assert_int_equal(seam_card_get_profile(f->card), profile);
    assert_int_equal(install_diag(f->card, NULL, 0), 0x9000);
    assert_int_equal(select_aid(f->card, inst, sizeof inst), 0x9000);
    seam_card_set_diag(f->card, keep, s);
    s->count = 0;
    uint64_t before = seam_card_applet_fuel(f->card);
    assert_int_equal(command(f->card, ins, p1), 0x9000);
    return seam_card_applet_fuel(f->card) - before;
}

static void seam_debug_is_silent_and_harmless_on_a_production_card(void **state) {
    fixture *f = *state;
    static const uint8_t lines[][2] = {{0x06, 0}, {0x07, 40}, {0x07, 0}, {0x08, 0}};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        sink dev = {0}, prod = {0};
        uint64_t dev_fuel =
            fuel_on(f, SEAM_CARD_PROFILE_DEVELOPMENT, lines[i][0], lines[i][1], &dev);
        assert_true(count(&dev, SEAM_CARD_DIAG_DEBUG) > 0);
        uint64_t prod_fuel =
            fuel_on(f, SEAM_CARD_PROFILE_PRODUCTION, lines[i][0], lines[i][1], &prod);
        assert_int_equal(count(&prod, SEAM_CARD_DIAG_DEBUG), 0);
        assert_null(first(&prod, SEAM_CARD_DIAG_FAILURE));
        /* the same applet, the same work: the same fuel on both */
        assert_int_equal(prod_fuel, dev_fuel);
    }
    /* failures are still the card's to report */
    sink s = {0};
    seam_card_set_diag(f->card, keep, &s);
    assert_int_equal(command(f->card, 0x01, 0), 0x6F00);
    assert_non_null(first(&s, SEAM_CARD_DIAG_FAILURE));
}

/* The profile is in the image for good: reopening and rewriting the card record
   (a lifecycle change) keep it. */
static void the_profile_is_kept_for_good(void **state) {
    fixture *f = *state;
    new_card(f, SEAM_CARD_PROFILE_PRODUCTION);
    reopen(f);
    assert_int_equal(seam_card_get_profile(f->card), SEAM_CARD_PROFILE_PRODUCTION);
    open_channel(f->card);
    /* SET STATUS of the card: CARD_LOCKED, then back to SECURED */
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x7F, NULL, 0), 0x9000);
    open_channel(f->card);
    assert_int_equal(gp(f->card, true, 0xF0, 0x80, 0x0F, NULL, 0), 0x9000);
    reopen(f);
    assert_int_equal(seam_card_get_profile(f->card), SEAM_CARD_PROFILE_PRODUCTION);
    /* a development card stays one too */
    new_card(f, SEAM_CARD_PROFILE_DEVELOPMENT);
    reopen(f);
    assert_int_equal(seam_card_get_profile(f->card), SEAM_CARD_PROFILE_DEVELOPMENT);
    assert_string_equal(seam_card_profile_name(SEAM_CARD_PROFILE_PRODUCTION), "production");
    assert_null(seam_card_profile_name((seam_card_profile)7));
    seam_card *none = NULL;
    char other[128];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    assert_int_equal(seam_card_create_profile(other, 0, (seam_card_profile)7, &none), SEAM_ERR_ARG);
    assert_null(none);
    assert_int_equal(access(other, F_OK), -1); /* nothing left behind */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_failure_names_instance_entry_reason_and_place, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(diagnostics_never_reach_the_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(seam_debug_lines_are_bounded, setup, teardown),
        cmocka_unit_test(debug_text_is_escaped),
        cmocka_unit_test_setup_teardown(an_install_that_traps_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unknown_import_is_named_at_load, setup, teardown),
        cmocka_unit_test_setup_teardown(fuel_is_counted_per_command, setup, teardown),
        cmocka_unit_test_setup_teardown(seam_debug_is_silent_and_harmless_on_a_production_card,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_profile_is_kept_for_good, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
