/*
 * Helpers for the nvm tests: a scratch directory per test (mkdtemp, removed
 * with everything in it afterwards), file copies and comparisons, and
 * records with string keys.
 */
#ifndef SEAM_TESTS_NVM_TEST_H
#define SEAM_TESTS_NVM_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/nvm.h"

/* A scratch directory and the paths made in it. */
typedef struct {
    char dir[256];
    char path[320]; /* the last path built by scratch_path */
} scratch;

/* cmocka setup: allocates a scratch with a fresh directory into *state. */
int scratch_setup(void **state);

/* cmocka teardown: removes the directory and every file in it, frees the scratch. */
int scratch_teardown(void **state);

/* Returns dir/name in the scratch's path buffer (valid until the next call). */
const char *scratch_path(scratch *s, const char *name);

/* Copies file from to file to (replacing it); aborts on failure. */
void copy_file(const char *from, const char *to);

/* Reads a whole regular file into a malloc'd buffer (*len its size); NULL if it cannot. */
uint8_t *read_file(const char *path, size_t *len);

/* Writes bytes as the whole content of path (created 0600 or truncated); aborts on failure. */
void write_file(const char *path, const void *bytes, size_t len);

/* True when the file at path exists and has content. */
bool file_has_content(const char *path);

/* True when something exists at path. */
bool file_exists(const char *path);

/* Puts a record whose key and value are C strings. */
seam_err put_str(seam_nvm *nvm, uint16_t table, const char *key, const char *value);

/*
 * Gets the value of a string key as a C string into out (size bytes);
 * returns what seam_nvm_get returned.
 */
seam_err get_str(seam_nvm *nvm, uint16_t table, const char *key, char *out, size_t size);

/* Returns a readable name for a seam_err, for failure messages. */
const char *err_name(seam_err err);

#endif
