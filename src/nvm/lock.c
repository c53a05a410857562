/*
 * seam nvm: one owner per image file.
 *
 * A handle on an image file holds an exclusive, non-blocking flock(2) on a
 * lock file beside it, "<image>.lock", from open (or create) to close. A
 * second handle, in another process or in this one (flock conflicts between
 * two open file descriptions even of one process), is refused with
 * SEAM_ERR_NVM_BUSY. The holder writes "pid N (program and arguments)" into
 * the lock file and clears it when it lets go, so the refused side can say
 * who holds the image (seam_nvm_describe_holder). The kernel drops the lock
 * when the holder dies, so a crash leaves no stale lock (only a stale
 * description, which the next holder overwrites).
 *
 * Why a separate file and not a lock on the image itself: SQLite keeps POSIX
 * (fcntl) locks on the image, and closing any descriptor of a file drops all
 * of the process's POSIX locks on it. A refused second handle would have to
 * open and close the image, silently dropping the first handle's SQLite
 * locks. The lock file is never opened by SQLite, so nothing here can touch
 * those. The lock file is never removed: removing it while another process
 * has it open would let two holders lock two different files.
 *
 * The lock file sits beside the image's real path (symbolic links resolved),
 * so two names for one image through a symbolic link share one lock. Hard
 * links are not detected. The lock is advisory: programs that ignore it (the
 * sqlite3 shell) are not kept out by it; while a handle is open they are kept
 * out by SQLite's own lock on the image, which the handle holds from its
 * first read to close (durability.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvm_int.h"

#define LOCK_SUFFIX   ".lock"
#define HOLDER_MAX    256 /* bytes of "pid N (command line)" */
#define CMDLINE_LIMIT 200 /* bytes of the command line kept */

/* Builds the lock file's path: beside the image's real path when it exists. */
static seam_err lock_path(const char *path, bool creating, char *out, size_t size) {
    char real[PATH_MAX];
    const char *base = path;
    if (!creating && realpath(path, real))
        base = real;
    int len = snprintf(out, size, "%s" LOCK_SUFFIX, base);
    return len > 0 && (size_t)len < size ? SEAM_OK : SEAM_ERR_ARG;
}

/* Replaces bytes that are not printable ASCII with '?' (a description is printed). */
static void printable(char *text) {
    for (; *text; text++)
        if ((unsigned char)*text < 0x20 || (unsigned char)*text > 0x7e)
            *text = '?';
}

/* Writes "pid N (program args...)" for this process: the program's base name and its
   arguments as /proc/self/cmdline has them, cut at CMDLINE_LIMIT bytes. */
static void holder_text(char *out, size_t size) {
    char cmdline[CMDLINE_LIMIT + 1];
    size_t got = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, cmdline, CMDLINE_LIMIT);
        got = n > 0 ? (size_t)n : 0;
        close(fd);
    }
    cmdline[got] = 0;
    /* argv[0] to its base name, then the NULs between arguments to spaces */
    const char *program = got ? cmdline : "unknown program";
    const char *slash = strrchr(program, '/');
    size_t start = slash ? (size_t)(slash + 1 - cmdline) : 0;
    for (size_t i = start; got && i < got; i++)
        if (cmdline[i] == 0)
            cmdline[i] = ' ';
    while (got > start && cmdline[got - 1] == ' ')
        cmdline[--got] = 0;
    snprintf(out, size, "pid %ld (%s)", (long)getpid(), got ? cmdline + start : program);
    printable(out);
}

seam_err nvm_lock_take(const char *path, bool creating, int *out_fd) {
    char file[PATH_MAX + sizeof LOCK_SUFFIX], holder[HOLDER_MAX + 1];
    seam_err err = lock_path(path, creating, file, sizeof file);
    int fd = -1;
    *out_fd = -1;
    if (err != SEAM_OK)
        goto done;
    /* O_NOFOLLOW: a planted symbolic link must not make us lock or truncate another file. */
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = SEAM_ERR_IO;
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err = errno == EWOULDBLOCK ? SEAM_ERR_NVM_BUSY : SEAM_ERR_IO;
        goto done;
    }
    /* The description is a courtesy: failing to write it does not fail the open. */
    holder_text(holder, sizeof holder);
    size_t len = strlen(holder);
    holder[len++] = '\n';
    if (ftruncate(fd, 0) == 0 && pwrite(fd, holder, len, 0) != (ssize_t)len &&
        ftruncate(fd, 0) != 0) {
        /* a partial description stays; describe_holder prints what is there */
    }
    *out_fd = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    return err;
}

void nvm_lock_release(int fd) {
    if (fd < 0)
        return;
    /* Cleared while still held, so nobody reads a half-cleared description; a
       failure leaves a stale one, which the next holder overwrites. */
    if (ftruncate(fd, 0) != 0) {
    }
    close(fd); /* the last descriptor of the lock's file description: unlocked */
}

seam_err seam_nvm_describe_holder(const char *path, char *out, size_t out_size) {
    char file[PATH_MAX + sizeof LOCK_SUFFIX], holder[HOLDER_MAX + 1];
    seam_err err = SEAM_OK;
    int fd = -1;
    if (!path || !*path || !out || out_size == 0) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    out[0] = 0;
    err = lock_path(path, false, file, sizeof file);
    if (err != SEAM_OK)
        goto done;
    fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        err = errno == ENOENT ? SEAM_ERR_NOT_FOUND : SEAM_ERR_IO;
        goto done;
    }
    ssize_t got = read(fd, holder, HOLDER_MAX);
    if (got < 0) {
        err = SEAM_ERR_IO;
        goto done;
    }
    holder[got] = 0;
    holder[strcspn(holder, "\n")] = 0;
    printable(holder);
    if (!holder[0]) {
        err = SEAM_ERR_NOT_FOUND;
        goto done;
    }
    snprintf(out, out_size, "%s", holder);
done:
    if (fd >= 0)
        close(fd);
    return err;
}

seam_err seam_nvm_remove(const char *path) {
    /* -shm: never made by seam (the log's index is in memory), but SQLite's name for it */
    static const char *const siblings[] = {"-wal", "-journal", "-shm"};
    char file[PATH_MAX + sizeof LOCK_SUFFIX], sibling[PATH_MAX + 16];
    int fd = -1;
    seam_err err = path && *path ? lock_path(path, false, file, sizeof file) : SEAM_ERR_ARG;
    if (err == SEAM_OK && !nvm_sibling(path, "-journal", sibling, sizeof sibling))
        err = SEAM_ERR_ARG;
    if (err == SEAM_OK)
        err = nvm_lock_take(path, false, &fd); /* nobody may hold the image meanwhile */
    if (err == SEAM_OK && unlink(path) != 0 && errno != ENOENT)
        err = SEAM_ERR_IO;
    for (size_t i = 0; err == SEAM_OK && i < sizeof siblings / sizeof siblings[0]; i++)
        if (nvm_sibling(path, siblings[i], sibling, sizeof sibling) && unlink(sibling) != 0 &&
            errno != ENOENT)
            err = SEAM_ERR_IO;
    /* Unlinked while held: an opener that still finds the old lock file is refused
       until we let go, and by then there is no image left to open. */
    if (err == SEAM_OK && unlink(file) != 0 && errno != ENOENT)
        err = SEAM_ERR_IO;
    if (fd >= 0)
        close(fd);
    return err;
}
