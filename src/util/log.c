/*
 * Leveled logging to stderr. The threshold is an atomic so any thread may log
 * or change it; a line is written under stderr's lock so lines never mix.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "seam/util.h"

#define THRESHOLD_UNSET (-1)

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static atomic_int threshold = THRESHOLD_UNSET;

const char *seam_log_level_name(seam_log_level level) {
    const char *name = "?";
    if ((int)level >= SEAM_LOG_ERROR && (int)level <= SEAM_LOG_DEBUG)
        name = level_names[level];
    return name;
}

seam_err seam_log_level_parse(const char *name, seam_log_level *level) {
    seam_err err = SEAM_ERR_ARG;
    for (int i = SEAM_LOG_ERROR; name && level && i <= SEAM_LOG_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = (seam_log_level)i;
            err = SEAM_OK;
            break;
        }
    }
    return err;
}

seam_err seam_log_set_level(seam_log_level level) {
    seam_err err = SEAM_ERR_ARG;
    if ((int)level >= SEAM_LOG_ERROR && (int)level <= SEAM_LOG_DEBUG) {
        atomic_store(&threshold, (int)level);
        err = SEAM_OK;
    }
    return err;
}

seam_log_level seam_log_get_level(void) {
    int current = atomic_load(&threshold);
    if (current == THRESHOLD_UNSET) {
        const char *env = getenv("SEAM_LOG");
        seam_log_level from_env = SEAM_LOG_WARN;
        bool bad_env = env && *env && seam_log_level_parse(env, &from_env) != SEAM_OK;
        int expected = THRESHOLD_UNSET;
        /* Only the first reader installs it, so a concurrent set_level wins. */
        if (atomic_compare_exchange_strong(&threshold, &expected, (int)from_env) && bad_env)
            fprintf(stderr, "seam: warn: ignoring SEAM_LOG=%s (want error|warn|info|debug)\n", env);
        current = atomic_load(&threshold);
    }
    return (seam_log_level)current;
}

void seam_log(seam_log_level level, const char *fmt, ...) {
    va_list args;
    bool shown = fmt && (int)level >= SEAM_LOG_ERROR && (int)level <= (int)seam_log_get_level();
    if (shown) {
        va_start(args, fmt);
        flockfile(stderr);
        fprintf(stderr, "seam: %s: ", level_names[level]);
        vfprintf(stderr, fmt, args);
        fputc('\n', stderr);
        funlockfile(stderr);
        va_end(args);
    }
}
