/*
 * The expanded remote command format (ETSI TS 102 226, cat_sync.md A.11) of
 * the gp layer: command and response scripts written and read back, the
 * definite AA/AB forms, unknown tags skipped, and every malformed shape the
 * reader must refuse (truncated lengths, lengths past the end, no 00 00,
 * bytes after it, another template) without reading past the input (the
 * server and the terminal read these from the network).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seam/gp.h"

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static void mem_is(const uint8_t *got, const uint8_t *want, size_t n) {
    assert_memory_equal(got, want, n);
}

/* Opens data[0..n) (copied into an exact-size heap buffer, so ASan sees any read
   past it) and returns the error. */
static seam_err open_exact(uint8_t tmpl, const uint8_t *data, size_t n) {
    uint8_t *copy = malloc(n ? n : 1);
    seam_gp_rscript_reader r;
    assert_non_null(copy);
    if (n)
        memcpy(copy, data, n);
    memset(&r, 0x5A, sizeof r);
    seam_gp_rscript_reader before = r;
    seam_err err = seam_gp_rscript_open(&r, tmpl, copy, n);
    if (err != SEAM_OK)
        assert_memory_equal(&r, &before, sizeof r);
    free(copy);
    return err;
}

static void command_script_round_trip(void **state) {
    (void)state;
    uint8_t big[300];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0, 0, 1, 0x51, 0, 0, 0, 0x00};
    uint8_t out[512];
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, select, sizeof select, out, sizeof out, &len),
        SEAM_OK);
    assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, big, 200, out, sizeof out, &len),
                     SEAM_OK); /* 81 C8 */
    assert_int_equal(seam_gp_rscript_add(SEAM_GP_RSCRIPT_CAPDU, big, 0, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 2 + 2 + sizeof select + 3 + 200 + 2 + 2);
    mem_is(out, BYTES(0xAE, 0x80, 0x22, 14));
    mem_is(out + 2 + 2 + sizeof select, BYTES(0x22, 0x81, 200));
    mem_is(out + len - 4, BYTES(0x22, 0x00, 0x00, 0x00));

    seam_gp_rscript_reader r;
    const uint8_t *item = NULL;
    size_t item_len = 0;
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_COMMANDS, out, len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    assert_int_equal(item_len, sizeof select);
    assert_memory_equal(item, select, sizeof select);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    assert_int_equal(item_len, 200);
    assert_memory_equal(item, big, 200);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    assert_int_equal(item_len, 0);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
    /* a command script is not a response script */
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_RESPONSES, out, len),
                     SEAM_ERR_MALFORMED);
}

static void response_script_with_long_items_round_trip(void **state) {
    (void)state;
    static uint8_t rapdu[4098], out[8192];
    for (size_t i = 0; i < sizeof rapdu; i++)
        rapdu[i] = (uint8_t)(i * 7);
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, rapdu, sizeof rapdu, out, sizeof out, &len),
        SEAM_OK);
    mem_is(out + 2, BYTES(0x23, 0x82, 0x10, 0x02));
    assert_int_equal(
        seam_gp_rscript_add(SEAM_GP_RSCRIPT_RAPDU, BYTES(0x90, 0x00), out, sizeof out, &len),
        SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(out, sizeof out, &len), SEAM_OK);
    seam_gp_rscript_reader r;
    const uint8_t *item;
    size_t item_len;
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_RESPONSES, out, len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    assert_int_equal(item_len, sizeof rapdu);
    assert_memory_equal(item, rapdu, sizeof rapdu);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    mem_is(item, BYTES(0x90, 0x00));
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
}

static void writers_refuse_and_leave_len_unchanged(void **state) {
    (void)state;
    uint8_t out[8];
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(0xAA, out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, out, 1, &len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 0);
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_COMMANDS, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(seam_gp_rscript_add(0x22, BYTES(1, 2, 3, 4, 5, 6), out, sizeof out, &len),
                     SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 2);
    assert_int_equal(seam_gp_rscript_add(0x00, BYTES(1), out, sizeof out, &len), SEAM_ERR_ARG);
    assert_int_equal(seam_gp_rscript_add(0x1F, BYTES(1), out, sizeof out, &len), SEAM_ERR_ARG);
    static uint8_t huge[0x10000];
    static uint8_t room[0x10010];
    size_t l2 = 0;
    assert_int_equal(seam_gp_rscript_add(0x22, huge, sizeof huge, room, sizeof room, &l2),
                     SEAM_ERR_ARG);
    assert_int_equal(seam_gp_rscript_add(0x22, huge, sizeof huge - 1, room, sizeof room, &l2),
                     SEAM_OK);
    assert_int_equal(l2, 4 + 0xFFFF); /* 22 82 FF FF ... */
    assert_int_equal(seam_gp_rscript_add(0x22, BYTES(1, 2, 3), out, sizeof out, &len), SEAM_OK);
    assert_int_equal(len, 7);
    assert_int_equal(seam_gp_rscript_end(out, sizeof out, &len), SEAM_ERR_BUFFER_SMALL);
    assert_int_equal(len, 7);
}

static void definite_forms_are_read(void **state) {
    (void)state;
    const uint8_t aa[] = {0xAA, 0x08, 0x22, 0x02, 0x80, 0xCA, 0x22, 0x02, 0x00, 0x01};
    seam_gp_rscript_reader r;
    const uint8_t *item;
    size_t item_len;
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_COMMANDS, aa, sizeof aa), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    mem_is(item, BYTES(0x80, 0xCA));
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    mem_is(item, BYTES(0x00, 0x01));
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
    /* AB with a two-byte length form and a count 80 01 02 skipped */
    const uint8_t ab[] = {0xAB, 0x81, 0x07, 0x80, 0x01, 0x01, 0x23, 0x02, 0x90, 0x00};
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_RESPONSES, ab, sizeof ab), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    mem_is(item, BYTES(0x90, 0x00));
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
    /* an empty script */
    assert_int_equal(open_exact(SEAM_GP_RSCRIPT_COMMANDS, BYTES(0xAA, 0x00)), SEAM_OK);
    assert_int_equal(open_exact(SEAM_GP_RSCRIPT_COMMANDS, BYTES(0xAE, 0x80, 0x00, 0x00)), SEAM_OK);
}

static void unknown_tags_are_skipped_nested_or_not(void **state) {
    (void)state;
    /* 81 immediate action, a constructed A5 { 22 .. } (its inner 22 is not a command of
       the script), a two-byte tag 5F20, then the command */
    const uint8_t s[] = {0xAE, 0x80, 0x81, 0x01, 0x10, 0xA5, 0x04, 0x22, 0x02, 0xDE,
                         0xAD, 0x5F, 0x20, 0x01, 0x33, 0x22, 0x01, 0x42, 0x00, 0x00};
    seam_gp_rscript_reader r;
    const uint8_t *item;
    size_t item_len;
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_COMMANDS, s, sizeof s), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_OK);
    assert_int_equal(item_len, 1);
    assert_int_equal(item[0], 0x42);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
    /* responses (23) in a command script are not commands */
    const uint8_t t[] = {0xAE, 0x80, 0x23, 0x02, 0x90, 0x00, 0x00, 0x00};
    assert_int_equal(seam_gp_rscript_open(&r, SEAM_GP_RSCRIPT_COMMANDS, t, sizeof t), SEAM_OK);
    assert_int_equal(seam_gp_rscript_next(&r, &item, &item_len), SEAM_ERR_NOT_FOUND);
}

static void malformed_scripts_are_refused(void **state) {
    (void)state;
    const uint8_t C = SEAM_GP_RSCRIPT_COMMANDS;
    /* empty, lone tag */
    assert_int_equal(open_exact(C, NULL, 0), SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAE)), SEAM_ERR_TRUNCATED);
    /* wrong template, or AE with a definite length */
    assert_int_equal(open_exact(C, BYTES(0xAF, 0x80, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAB, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0x22, 0x01, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x02, 0x22, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x80, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    /* missing 00 00, or half of it */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x01, 0x42)), SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x01, 0x42, 0x00)), SEAM_ERR_TRUNCATED);
    /* 00 followed by something else; trailing garbage after 00 00 */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x00, 0x01)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x00, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x00, 0x00, 0x22, 0x00)), SEAM_ERR_MALFORMED);
    /* truncated lengths: 81 and 82 without their bytes */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x81)), SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x82, 0x01)), SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x82, 0x01)), SEAM_ERR_TRUNCATED);
    /* lengths past the end (item, template) */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x05, 0x01, 0x00, 0x00)),
                     SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x82, 0xFF, 0xFF, 0x00, 0x00)),
                     SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x05, 0x22, 0x01, 0x42)), SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x03, 0x22, 0x02, 0x42)), SEAM_ERR_TRUNCATED);
    /* the definite template shorter than the input; an end of contents inside it */
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x02, 0x22, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x02, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    /* length forms seam does not take: 80 inside, 83 and above */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x80, 0x00, 0x00)), SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x83, 0, 0, 1, 0x42, 0x00, 0x00)),
                     SEAM_ERR_MALFORMED);
    /* a tag of more than 3 bytes; a multi-byte tag cut short */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x5F, 0x81, 0x81, 0x01, 0x00, 0x00, 0x00)),
                     SEAM_ERR_MALFORMED);
    assert_int_equal(open_exact(C, BYTES(0xAA, 0x01, 0x5F)), SEAM_ERR_TRUNCATED);
    /* a bad item after good ones is found at open, before any is handed out */
    assert_int_equal(open_exact(C, BYTES(0xAE, 0x80, 0x22, 0x01, 0x42, 0x22, 0x03, 0x00, 0x00)),
                     SEAM_ERR_TRUNCATED);
    assert_int_equal(open_exact(0x22, BYTES(0xAE, 0x80, 0x00, 0x00)), SEAM_ERR_ARG);
}

/* Every prefix of a good script is refused (never read past), and so is every single
   byte flip that makes it unreadable, without a crash (run under ASan). */
static void every_prefix_of_a_script_is_refused(void **state) {
    (void)state;
    uint8_t out[64];
    size_t len = 0;
    assert_int_equal(seam_gp_rscript_begin(SEAM_GP_RSCRIPT_RESPONSES, out, sizeof out, &len),
                     SEAM_OK);
    assert_int_equal(
        seam_gp_rscript_add(0x23, BYTES(0x01, 0x02, 0x90, 0x00), out, sizeof out, &len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_add(0x23, BYTES(0x6A, 0x82), out, sizeof out, &len), SEAM_OK);
    assert_int_equal(seam_gp_rscript_end(out, sizeof out, &len), SEAM_OK);
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(open_exact(SEAM_GP_RSCRIPT_RESPONSES, out, n), SEAM_OK);
    assert_int_equal(open_exact(SEAM_GP_RSCRIPT_RESPONSES, out, len), SEAM_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_script_round_trip),
        cmocka_unit_test(response_script_with_long_items_round_trip),
        cmocka_unit_test(writers_refuse_and_leave_len_unchanged),
        cmocka_unit_test(definite_forms_are_read),
        cmocka_unit_test(unknown_tags_are_skipped_nested_or_not),
        cmocka_unit_test(malformed_scripts_are_refused),
        cmocka_unit_test(every_prefix_of_a_script_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
