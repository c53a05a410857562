/*
 * The server's strict JSON bodies (src/server/body.c) against the admin API's
 * own schemas: what a client gets refused, and why, before anything is stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/body.h"

static const char *refused(const char *text, const seam_srv_schema *schema) {
    cJSON *root = NULL;
    const char *code = NULL;
    char why[SEAM_SRV_WHY_MAX];
    seam_err err = seam_srv_body_parse(text, strlen(text), schema, &root, &code, why, sizeof why);
    if (!err) {
        cJSON_Delete(root);
        return NULL;
    }
    assert_int_equal(err, SEAM_ERR_MALFORMED);
    assert_null(root);
    return code;
}

#define KEY "\"404142434445464748494A4B4C4D4E4F\""

static void a_valid_card_body_is_taken(void **state) {
    (void)state;
    assert_null(refused("{\"iin\":\"0102\",\"keysets\":[{\"kvn\":1,\"enc\":" KEY ",\"mac\":" KEY
                        ",\"dek\":" KEY "}]}",
                        &seam_srv_schema_card));
    assert_null(refused("{\"data\":\"0102\"}  \n", &seam_srv_schema_perso));
}

static void unknown_missing_and_repeated_fields_are_refused(void **state) {
    (void)state;
    assert_string_equal(refused("{\"data\":\"01\",\"extra\":1}", &seam_srv_schema_perso),
                        "unknown_field");
    assert_string_equal(refused("{}", &seam_srv_schema_perso), "missing_field");
    assert_string_equal(refused("{\"data\":\"01\",\"data\":\"02\"}", &seam_srv_schema_perso),
                        "duplicate_field");
    /* also inside the nested key set objects */
    assert_string_equal(refused("{\"keysets\":[{\"kvn\":1,\"enc\":" KEY ",\"mac\":" KEY
                                ",\"dek\":" KEY ",\"pin\":\"1234\"}]}",
                                &seam_srv_schema_card),
                        "unknown_field");
}

static void wrong_types_and_ranges_are_refused(void **state) {
    (void)state;
    assert_string_equal(refused("{\"data\":1}", &seam_srv_schema_perso), "bad_field");
    assert_string_equal(refused("{\"data\":\"0\"}", &seam_srv_schema_perso), "bad_field");
    assert_string_equal(refused("{\"data\":\"0G\"}", &seam_srv_schema_perso), "bad_field");
    assert_string_equal(refused("{\"data\":\"\"}", &seam_srv_schema_perso), "bad_field");
    assert_string_equal(refused("{\"keysets\":[{\"kvn\":1.5,\"enc\":" KEY ",\"mac\":" KEY
                                ",\"dek\":" KEY "}]}",
                                &seam_srv_schema_card),
                        "bad_field");
    assert_string_equal(refused("{\"keysets\":[{\"kvn\":128,\"enc\":" KEY ",\"mac\":" KEY
                                ",\"dek\":" KEY "}]}",
                                &seam_srv_schema_card),
                        "bad_field");
    assert_string_equal(refused("{\"keysets\":[]}", &seam_srv_schema_card), "bad_field");
    assert_string_equal(refused("{\"kind\":\"format\",\"package\":\"A000000951\","
                                "\"version\":\"1.0\",\"targets\":[\"01\"]}",
                                &seam_srv_schema_campaign),
                        "bad_field");
    assert_string_equal(refused("{\"kind\":\"install\",\"package\":\"A000000951\","
                                "\"version\":\"1.0\",\"targets\":[1]}",
                                &seam_srv_schema_campaign),
                        "bad_field");
}

static void text_that_is_not_one_object_is_refused(void **state) {
    (void)state;
    assert_string_equal(refused("", &seam_srv_schema_perso), "bad_json");
    assert_string_equal(refused("{\"data\":\"01\"", &seam_srv_schema_perso), "bad_json");
    assert_string_equal(refused("{\"data\":\"01\"} {}", &seam_srv_schema_perso), "bad_json");
    assert_string_equal(refused("[{\"data\":\"01\"}]", &seam_srv_schema_perso), "bad_json");
    assert_string_equal(refused("\"data\"", &seam_srv_schema_perso), "bad_json");
}

static void the_body_is_read_only_within_its_length(void **state) {
    (void)state;
    /* The valid object is followed by bytes outside the length: they are not read. */
    const char text[] = "{\"data\":\"01\"}GARBAGE";
    cJSON *root = NULL;
    const char *code = NULL;
    assert_int_equal(seam_srv_body_parse(text, 13, &seam_srv_schema_perso, &root, &code, NULL, 0),
                     SEAM_OK);
    cJSON_Delete(root);
    /* Cut short, the same text is not JSON. */
    assert_int_equal(seam_srv_body_parse(text, 12, &seam_srv_schema_perso, &root, &code, NULL, 0),
                     SEAM_ERR_MALFORMED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_valid_card_body_is_taken),
        cmocka_unit_test(unknown_missing_and_repeated_fields_are_refused),
        cmocka_unit_test(wrong_types_and_ranges_are_refused),
        cmocka_unit_test(text_that_is_not_one_object_is_refused),
        cmocka_unit_test(the_body_is_read_only_within_its_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
