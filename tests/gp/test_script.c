/*
 * The card script runner of the host library (seam_gp_script_run; docs/card-script.md)
 * against an in-process card: a script run over a link, with its byte counters equal
 * to the card's own; --check without a link; stop at the first failure; a path that
 * is not a file. tests/cli/card_script*.cmake test it through seam card script.
 */
#include "gp_test.h"

/* What the runner printed, one line after the other, and the failures apart. */
typedef struct {
    char all[16384];
    size_t len;
    unsigned failures;
} output;

static void keep_line(void *ctx, seam_gp_script_output kind, const char *text) {
    output *o = ctx;
    int n = snprintf(o->all + o->len, sizeof o->all - o->len, "%s\n", text);
    assert_true(n > 0 && (size_t)n < sizeof o->all - o->len);
    o->len += (size_t)n;
    o->failures += kind == SEAM_GP_SCRIPT_FAILURE;
}

/* Writes text to a script file in f's folder; its path in path. */
static void write_script(const fixture *f, const char *text, char path[128]) {
    snprintf(path, 128, "%s/test.script", f->dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

static void a_script_runs_over_a_link_and_counts_what_it_sent(void **state) {
    fixture *f = *state;
    output out = {.len = 0};
    seam_gp_script_result r;
    seam_card_traffic before, after;
    char path[128];
    write_script(f,
                 "00A4040008A000000151000000 00 => 9000 6F*  # the ISD\n"
                 ".scp03 level=33\n"
                 "80CA00E000 => 9000 E0*\n"
                 ".delete A0000005999901 => 6A88\n"
                 "80CA9F7F00 => 9000 9F7F2A*\n"
                 ".traffic\n",
                 path);
    seam_gp_script_options o = {.path = path, .print = keep_line, .print_ctx = &out};
    seam_card_traffic_get(f->card, &before);
    assert_int_equal(seam_gp_script_run(&f->link, &o, &r), SEAM_OK);
    seam_card_traffic_get(f->card, &after);
    assert_int_equal(r.lines, 6);
    assert_int_equal(r.passed, 5);
    assert_int_equal(r.failed, 0);
    assert_int_equal(out.failures, 0);
    assert_false(r.stopped);
    /* counted on the link, as the card counts them */
    assert_int_equal(r.commands, after.total.commands - before.total.commands);
    assert_int_equal(r.bytes_in, after.total.bytes_in - before.total.bytes_in);
    assert_int_equal(r.bytes_out, after.total.bytes_out - before.total.bytes_out);
    assert_non_null(
        strstr(out.all, "DELETE answered 6A88 (referenced data not found), as expected"));
    assert_non_null(strstr(out.all, "  INS E4: 1 command,"));
}

static void check_sends_nothing_and_names_each_bad_line(void **state) {
    fixture *f = *state;
    output out = {.len = 0};
    seam_gp_script_result r;
    seam_card_traffic before, after;
    char path[128];
    write_script(f,
                 "80CA00E000\n"
                 ".scp03 level=02\n"
                 "80CA00E0 02 00\n"
                 ".delete A0000005999901 related => 6A88\n"
                 ".install package=A00000055055\n",
                 path);
    seam_gp_script_options o = {
        .path = path, .check_only = true, .print = keep_line, .print_ctx = &out};
    seam_card_traffic_get(f->card, &before);
    assert_int_equal(seam_gp_script_run(NULL, &o, &r), SEAM_OK);
    seam_card_traffic_get(f->card, &after);
    assert_int_equal(after.total.commands, before.total.commands);
    assert_int_equal(r.lines, 5);
    assert_int_equal(r.failed, 3);
    assert_int_equal(out.failures, 3);
    assert_non_null(strstr(out.all, "test.script:2: .scp03 level= is one of"));
    assert_non_null(strstr(out.all, "test.script:3: Lc is 02 (2 bytes) but 1 bytes follow"));
    assert_non_null(strstr(out.all, "test.script:5: .install package= needs module=AID"));
    assert_non_null(strstr(out.all, "test.script: 5 lines checked, 3 errors"));
    /* stopped at the first */
    out.len = 0;
    out.failures = 0;
    o.stop_on_error = true;
    assert_int_equal(seam_gp_script_run(NULL, &o, &r), SEAM_OK);
    assert_true(r.stopped);
    assert_int_equal(r.lines, 2);
    assert_int_equal(r.failed, 1);
}

static void a_run_stops_at_its_first_failure(void **state) {
    fixture *f = *state;
    output out = {.len = 0};
    seam_gp_script_result r;
    uint8_t before[32], after[32];
    char path[128];
    write_script(f,
                 "00A4040000 => 9000\n"
                 ".scp03\n"
                 ".delete A0000005999901\n"
                 "80E602000B 06A00000054845 00000000 00 => 9000  # INSTALL [for load] of hello\n",
                 path);
    seam_gp_script_options o = {
        .path = path, .stop_on_error = true, .print = keep_line, .print_ctx = &out};
    fingerprint(f->card, before);
    assert_int_equal(seam_gp_script_run(&f->link, &o, &r), SEAM_OK);
    assert_true(r.stopped);
    assert_int_equal(r.passed, 2);
    assert_int_equal(r.failed, 1);
    assert_non_null(strstr(out.all, "test.script:3: .delete: DELETE answered 6A88"));
    assert_null(strstr(out.all, "80E60200"));
    /* what ran: the sequence counter of the one channel, nothing of the line after */
    fingerprint(f->card, after);
    assert_memory_not_equal(before, after, 32);
    open_isd(f, 0x01);
    uint16_t sw = 0;
    assert_int_equal(
        seam_gp_delete(f->gp, (const uint8_t[]){0xA0, 0, 0, 5, 0x48, 0x45}, 6, true, &sw), SEAM_OK);
    assert_int_equal(sw, 0x6A88); /* no load began: there is no hello package */
}

static void a_path_that_is_not_a_file_is_refused(void **state) {
    fixture *f = *state;
    output out = {.len = 0};
    seam_gp_script_result r;
    seam_gp_script_options o = {.path = f->dir, .print = keep_line, .print_ctx = &out};
    assert_int_equal(seam_gp_script_run(&f->link, &o, &r), SEAM_ERR_IO);
    assert_non_null(strstr(out.all, "not a regular file"));
    o.check_only = true;
    assert_int_equal(seam_gp_script_run(NULL, &o, &r), SEAM_ERR_IO);
    o.check_only = false;
    assert_int_equal(seam_gp_script_run(NULL, &o, &r), SEAM_ERR_ARG); /* a run needs a link */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_script_runs_over_a_link_and_counts_what_it_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(check_sends_nothing_and_names_each_bad_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_run_stops_at_its_first_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(a_path_that_is_not_a_file_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
