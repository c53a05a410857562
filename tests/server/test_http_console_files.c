/*
 * The console's files as `seam server` answers them (issue 16, docs/console.md):
 * GET / and every file of console/ come back byte for byte as they are in the
 * source tree (the build embedded the files a browser will run), with their
 * content type and the security policy, and without the token; any other name
 * is a 404 and nothing but GET is answered. The pages hold no inline script,
 * inline handler or inline style, which that policy would refuse to run.
 */
#include "http_test.h"

#include <dirent.h>

/* The file console/name of the source tree; *len its size. */
static char *source_file(const char *name, size_t *len) {
    const char *src = getenv("SEAM_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/console/%s", src ? src : ".", name);
    return (char *)http_read_file(path, len);
}

static bool has_header(const http_reply *r, const char *line) {
    return strstr(r->headers, line) != NULL;
}

static void the_index_is_served_at_the_root_without_the_token(void **state) {
    http_fixture *f = *state;
    http_reply r = http_call(f, "GET", "/", NULL, NULL, 0, 0);
    assert_int_equal(r.status, 200);
    size_t len;
    char *want = source_file("index.html", &len);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, want, len);
    assert_true(has_header(&r, "Content-Type: text/html; charset=utf-8"));
    assert_true(has_header(&r, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
    assert_true(has_header(&r, "frame-ancestors 'none'"));
    assert_true(has_header(&r, "X-Content-Type-Options: nosniff"));
    free(want);
    free(r.body);
}

static const char *expected_type(const char *name) {
    const char *dot = strrchr(name, '.');
    if (dot && !strcmp(dot, ".js"))
        return "Content-Type: text/javascript; charset=utf-8";
    if (dot && !strcmp(dot, ".css"))
        return "Content-Type: text/css; charset=utf-8";
    if (dot && !strcmp(dot, ".html"))
        return "Content-Type: text/html; charset=utf-8";
    return "Content-Type: ";
}

static void every_console_file_comes_back_as_in_the_source(void **state) {
    http_fixture *f = *state;
    const char *src = getenv("SEAM_SOURCE_DIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/console", src ? src : ".");
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned files = 0, scripts = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[320];
        snprintf(path, sizeof path, "/console/%s", e->d_name);
        http_reply r = http_call(f, "GET", path, NULL, NULL, 0, 0);
        assert_int_equal(r.status, 200);
        size_t len;
        char *want = source_file(e->d_name, &len);
        assert_int_equal(r.len, len);
        assert_memory_equal(r.body, want, len);
        assert_true(has_header(&r, expected_type(e->d_name)));
        assert_true(has_header(&r, "Content-Security-Policy: "));
        scripts += strstr(e->d_name, ".js") != NULL;
        files++;
        free(want);
        free(r.body);
    }
    closedir(d);
    assert_true(files >= 3 && scripts >= 1); /* index.html, a style sheet, the scripts */
}

static void other_names_and_methods_are_refused(void **state) {
    http_fixture *f = *state;
    static const char *const missing[] = {"/console/nothing.js", "/console/index.html.bak",
                                          "/console/%2e%2e", "/console/", "/index.html"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        http_reply r = http_call(f, "GET", missing[i], NULL, NULL, 0, 0);
        assert_true(r.status == 404 || r.status == 400);
        assert_null(strstr(r.body, "<html"));
        free(r.body);
    }
    http_reply r = http_call(f, "POST", "/", NULL, "x", 1, 1);
    assert_true(http_is_error(&r, 405, "method_not_allowed"));
    free(r.body);
    r = http_call(f, "DELETE", "/console/app.js", NULL, NULL, 0, 1);
    assert_true(http_is_error(&r, 405, "method_not_allowed"));
    free(r.body);
    /* the API behind the pages still wants the token */
    r = http_call(f, "GET", "/api/health", NULL, NULL, 0, 0);
    assert_true(http_is_error(&r, 401, "unauthorized"));
    free(r.body);
}

/* What the policy would block: <script> without src, on…= handlers, style attributes. */
static void the_page_holds_nothing_the_policy_blocks(void **state) {
    (void)state;
    size_t len;
    char *html = source_file("index.html", &len);
    for (char *p = html; (p = strstr(p, "<script")); p++) {
        char *end = strchr(p, '>');
        assert_non_null(end);
        *end = '\0';
        assert_non_null(strstr(p, " src=\"/console/"));
        *end = '>';
    }
    assert_null(strstr(html, " style="));
    assert_null(strstr(html, " onclick="));
    assert_null(strstr(html, " onsubmit="));
    assert_null(strstr(html, " onload="));
    assert_null(strstr(html, "javascript:"));
    free(html);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_index_is_served_at_the_root_without_the_token,
                                        http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(every_console_file_comes_back_as_in_the_source, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(other_names_and_methods_are_refused, http_setup,
                                        http_teardown),
        cmocka_unit_test(the_page_holds_nothing_the_policy_blocks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
