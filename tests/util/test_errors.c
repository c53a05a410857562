/*
 * Tests for seam_err_str. The list of codes is read from errors.h itself, so
 * a code added there without a message in src/util/errors.c fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/errors.h"

#define MAX_CODES 256

typedef struct {
    char name[64];
    int value;
} code_entry;

/* Reads every "SEAM_OK = 0" / "SEAM_ERR_X = -N" line of errors.h. */
static size_t read_codes(code_entry *codes, size_t max) {
    FILE *header = fopen(SEAM_ERRORS_HEADER, "r");
    assert_non_null(header);
    char line[256];
    size_t count = 0;
    while (fgets(line, sizeof line, header) && count < max) {
        char name[64];
        int value = 0;
        if (sscanf(line, " %63[A-Z0-9_] = %d ,", name, &value) == 2 &&
            strncmp(name, "SEAM_", 5) == 0) {
            strcpy(codes[count].name, name);
            codes[count].value = value;
            count++;
        }
    }
    fclose(header);
    return count;
}

static void every_code_has_its_own_message(void **state) {
    (void)state;
    static code_entry codes[MAX_CODES];
    size_t count = read_codes(codes, MAX_CODES);
    /* errors.h had 28 codes when this test was written; it only grows. */
    assert_true(count >= 28);
    const char *unknown = seam_err_str(-12345);
    for (size_t i = 0; i < count; i++) {
        const char *message = seam_err_str(codes[i].value);
        assert_non_null(message);
        if (strcmp(message, unknown) == 0 || message[0] == '\0')
            fail_msg("%s (%d) has no message in src/util/errors.c", codes[i].name, codes[i].value);
        for (size_t j = 0; j < i; j++) {
            if (codes[j].value != codes[i].value &&
                strcmp(seam_err_str(codes[j].value), message) == 0)
                fail_msg("%s and %s share the message \"%s\"", codes[j].name, codes[i].name,
                         message);
        }
    }
}

static void known_codes_read_well_and_unknown_codes_say_so(void **state) {
    (void)state;
    assert_string_equal(seam_err_str(SEAM_OK), "ok");
    assert_string_equal(seam_err_str(SEAM_ERR_BUFFER_SMALL), "output buffer too small");
    assert_string_equal(seam_err_str(SEAM_ERR_TRUNCATED), "input truncated");
    assert_string_equal(seam_err_str(SEAM_ERR_MALFORMED), "malformed input");
    static const seam_err strangers[] = {1, 42, 1000, -1999, -12345}; /* outside every range */
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++)
        assert_string_equal(seam_err_str(strangers[i]), "unknown error");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_its_own_message),
        cmocka_unit_test(known_codes_read_well_and_unknown_codes_say_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
