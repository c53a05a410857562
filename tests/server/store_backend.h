/*
 * The backends the store tests run against. `sqlite` always works (files in a temporary
 * folder); `postgresql` starts a PostgreSQL server of its own: initdb into a temporary
 * folder as the unprivileged user nobody when run as root, a Unix socket in that folder,
 * no TCP; a watchdog process stops it and removes the folder when the test process ends,
 * however it ends (even on SIGKILL).
 */
#ifndef SEAM_TESTS_STORE_BACKEND_H
#define SEAM_TESTS_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts backend name ("sqlite" or "postgresql"): 0, or -1 when it cannot (why on stderr). */
int backend_start(const char *name);

/* A URL naming a new, empty store (each call a different one). */
const char *backend_fresh_url(void);

/* Runs one SQL statement on the store at url, bypassing the store (for tampering). */
int backend_sql(const char *url, const char *sql);

/* True if needle[0..len) occurs in any file the backend keeps (after a checkpoint). */
bool backend_files_contain(const uint8_t *needle, size_t len);

/* Stops the backend and removes its files. */
void backend_stop(void);

#endif
