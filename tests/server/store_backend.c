/* The store tests' backends: see store_backend.h. */
#define _XOPEN_SOURCE 700
#include "store_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"

static char folder[256];
static char url[1024];
static bool pg;
static int fresh;
static pid_t watchdog = -1;
static int watchdog_fd = -1;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_folder(void) {
    if (folder[0])
        nftw(folder, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs argv (as user nobody when as_nobody and we are root), quiet; its exit status. */
static int run(char *const argv[], bool as_nobody) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0 && !getenv("SEAM_STORE_DEBUG")) {
            dup2(null, 1);
            dup2(null, 2);
        }
        if (as_nobody && geteuid() == 0) {
            char *args[32] = {"runuser", "-u", "nobody", "--"};
            int n = 4;
            for (int i = 0; argv[i] && n < 31; i++)
                args[n++] = argv[i];
            args[n] = NULL;
            execvp("runuser", args);
        } else {
            execv(argv[0], argv);
        }
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void pg_ctl_stop(void) {
    char data[300];
    snprintf(data, sizeof data, "%s/data", folder);
    run((char *[]){PG_BIN "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", NULL}, true);
}

/* The watchdog: waits for the test process to end (its pipe closes), then cleans up. */
static void watch(int fd) {
    int null = open("/dev/null", O_RDWR); /* nobody may be reading our output any more */
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    setpgid(0, 0);
    char c;
    while (read(fd, &c, 1) != 0 && errno == EINTR) {
    }
    pg_ctl_stop();
    remove_folder();
    _exit(0);
}

static int pg_start(void) {
    char data[300], opts[600], log[300];
    struct passwd *nobody = getpwnam("nobody");
    if (access(PG_BIN "/initdb", X_OK) != 0) {
        fprintf(stderr, "postgresql: no %s/initdb\n", PG_BIN);
        return -1;
    }
    if (geteuid() == 0 && (!nobody || chown(folder, nobody->pw_uid, nobody->pw_gid) != 0)) {
        fprintf(stderr, "postgresql: cannot give %s to nobody\n", folder);
        return -1;
    }
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    watchdog = fork();
    if (watchdog == 0) {
        close(fds[1]);
        watch(fds[0]);
    }
    close(fds[0]);
    watchdog_fd = fds[1];
    fcntl(watchdog_fd, F_SETFD, FD_CLOEXEC);
    snprintf(data, sizeof data, "%s/data", folder);
    snprintf(log, sizeof log, "%s/log", folder);
    snprintf(opts, sizeof opts, "-k %s -c listen_addresses='' -c fsync=on", folder);
    if (run((char *[]){PG_BIN "/initdb", "-D", data, "-U", "seam", "--auth=trust", "-E", "UTF8",
                       "--no-instructions", NULL},
            true) != 0) {
        fprintf(stderr, "postgresql: initdb failed\n");
        return -1;
    }
    if (run((char *[]){PG_BIN "/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "start", NULL},
            true) != 0) {
        fprintf(stderr, "postgresql: pg_ctl start failed (see %s)\n", log);
        return -1;
    }
    return 0;
}

int backend_start(const char *name) {
    snprintf(folder, sizeof folder, "/tmp/seam-store-test-XXXXXX");
    if (!mkdtemp(folder)) {
        folder[0] = 0;
        return -1;
    }
    pg = strcmp(name, "postgresql") == 0;
    if (!pg)
        return strcmp(name, "sqlite") == 0 ? 0 : -1;
    return pg_start();
}

static PGconn *pg_admin(const char *db) {
    char conninfo[600];
    snprintf(conninfo, sizeof conninfo, "host=%s user=seam dbname=%s", folder, db);
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "postgresql: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

const char *backend_fresh_url(void) {
    fresh++;
    if (!pg) {
        snprintf(url, sizeof url, "sqlite:%s/store%d.db", folder, fresh);
        return url;
    }
    char sql[64];
    PGconn *c = pg_admin("postgres");
    if (!c)
        return NULL;
    snprintf(sql, sizeof sql, "CREATE DATABASE t%d", fresh);
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    snprintf(url, sizeof url, "postgresql:///t%d?host=%s&user=seam", fresh, folder);
    return ok ? url : NULL;
}

int backend_sql(const char *target, const char *sql) {
    int rc = -1;
    if (strncmp(target, "sqlite:", 7) == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open(target + 7, &db) == SQLITE_OK &&
            sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
            rc = 0;
        sqlite3_close(db);
        return rc;
    }
    PGconn *c = PQconnectdb(target);
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

static bool file_contains(const char *path, const uint8_t *needle, size_t len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool found = false;
    size_t cap = 1 << 16, have = 0;
    uint8_t *buf = malloc(cap + len);
    while (buf && !found) {
        size_t got = fread(buf + have, 1, cap, f);
        if (got == 0)
            break;
        have += got;
        for (size_t i = 0; i + len <= have && !found; i++)
            found = memcmp(buf + i, needle, len) == 0;
        /* keep the last len - 1 bytes: a match may straddle two reads */
        size_t keep = have < len ? have : len - 1;
        memmove(buf, buf + have - keep, keep);
        have = keep;
    }
    free(buf);
    fclose(f);
    return found;
}

static const uint8_t *scan_needle;
static size_t scan_len;
static bool scan_found;

static int scan_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode) && file_contains(path, scan_needle, scan_len))
        scan_found = true;
    return 0;
}

bool backend_files_contain(const uint8_t *needle, size_t len) {
    if (pg) {
        PGconn *c = pg_admin("postgres");
        if (c) {
            PQclear(PQexec(c, "CHECKPOINT"));
            PQfinish(c);
        }
    }
    scan_needle = needle;
    scan_len = len;
    scan_found = false;
    nftw(folder, scan_one, 16, FTW_PHYS);
    return scan_found;
}

void backend_stop(void) {
    if (watchdog > 0) {
        close(watchdog_fd); /* the watchdog stops the server and removes the folder */
        while (waitpid(watchdog, NULL, 0) < 0 && errno == EINTR) {
        }
        watchdog = -1;
    } else {
        remove_folder();
    }
    folder[0] = 0;
}
