/*
 * docs/openapi.yaml and the server's route table describe the same API: every
 * (method, path) of the document is a route, and every route is in the
 * document (the paths are read from the document's "paths:" section, the
 * two-space-indented keys, and their four-space-indented methods).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/http.h"

#define OPS_MAX 64

typedef struct {
    char method[8];
    char path[128];
    bool matched;
} operation;

static size_t read_document(operation *ops) {
    const char *src = getenv("SEAM_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/docs/openapi.yaml", src ? src : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024], current[128] = "";
    bool in_paths = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "paths:", 6)) {
            in_paths = true;
            continue;
        }
        if (in_paths && line[0] != ' ' && line[0] != '\n')
            break; /* the next top-level key */
        if (!in_paths)
            continue;
        if (!strncmp(line, "  /", 3) && line[2] == '/') {
            sscanf(line + 2, "%127[^:]", current);
            continue;
        }
        char word[16];
        if (!strncmp(line, "    ", 4) && line[4] != ' ' &&
            sscanf(line + 4, "%15[a-z]:", word) == 1 &&
            (!strcmp(word, "get") || !strcmp(word, "post") || !strcmp(word, "put") ||
             !strcmp(word, "delete") || !strcmp(word, "patch"))) {
            assert_true(n < OPS_MAX);
            for (size_t i = 0; word[i]; i++)
                ops[n].method[i] = (char)toupper((unsigned char)word[i]);
            snprintf(ops[n].path, sizeof ops[n].path, "%s", current);
            n++;
        }
    }
    fclose(f);
    return n;
}

static void every_route_is_documented_and_every_documented_path_is_a_route(void **state) {
    (void)state;
    operation ops[OPS_MAX];
    memset(ops, 0, sizeof ops);
    size_t n = read_document(ops);
    assert_true(n > 0);
    size_t count;
    const seam_srv_route *routes = seam_srv_routes(&count);
    for (size_t r = 0; r < count; r++) {
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(ops[i].method, routes[r].method) &&
                !strcmp(ops[i].path, routes[r].pattern)) {
                found = ops[i].matched = true;
            }
        }
        if (!found)
            fail_msg("route %s %s is not in docs/openapi.yaml", routes[r].method,
                     routes[r].pattern);
    }
    for (size_t i = 0; i < n; i++)
        if (!ops[i].matched)
            fail_msg("docs/openapi.yaml has %s %s, which is no route", ops[i].method, ops[i].path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented_and_every_documented_path_is_a_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
