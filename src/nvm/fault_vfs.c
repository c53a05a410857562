/*
 * seam nvm: the I/O shim below SQLite, for fault injection.
 *
 * Every file-backed handle opens its image through its own VFS, registered
 * under a unique name, that forwards to SQLite's default VFS. The shim counts
 * the I/O calls that change what is on disk (xWrite, xSync and xTruncate on
 * any file of the handle, and xDelete) and can make the n-th of them fail:
 *
 *   FAIL           that call returns SQLITE_IOERR_*; later calls go through
 *                  (a transient I/O error; SQLite must cope and stay whole).
 *   POWER_CUT      that call and every later one fail, reads included: the
 *                  power is gone. Writes that returned before are on disk.
 *   TORN_WRITE     as POWER_CUT, but when the call is a write its first half
 *                  reaches the file before the power goes.
 *   LOSE_UNSYNCED  as POWER_CUT, and the disk's write cache is lost: of the
 *                  writes made to each open file since its last xSync, only a
 *                  pseudo-random subset (seeded by n) survives, in order.
 *   DISK_FULL      from that call on, until the shim is armed again (or
 *                  disarmed), the disk has no free block: every write that
 *                  would grow its file fails with SQLITE_FULL, as ENOSPC makes
 *                  SQLite's unix VFS answer; writes inside a file, syncs,
 *                  truncations and deletes go through. The power stays on.
 *
 * The files are the image and its write-ahead log (or, in rollback-journal
 * mode, its journal): a commit appends frames to the log and syncs it, a
 * checkpoint writes pages into the image, syncs it and truncates or rewinds
 * the log. Every one of those calls is a point, on whichever file it hits,
 * and LOSE_UNSYNCED loses the unsynced writes of the log and of the image
 * alike (a checkpoint's page writes before its sync, frames of a commit
 * before the log's sync).
 *
 * What it proves: the handle is closed after the cut and the image reopened
 * through a fresh connection, which reads the log's frames up to its last
 * commit and ignores the rest (or rolls a hot journal back). If the reopened
 * image is always whole and either before or after the command, the log
 * protocol together with our settings (synchronous=FULL) survives a cut at
 * every I/O call of that command or checkpoint, including cuts inside
 * COMMIT, torn writes and lost unsynced writes.
 *
 * What it does not model: directory entries (a created or deleted log or
 * journal is assumed durable once xOpen or xDelete returns), writes lost
 * from a file that was closed before the cut, truncation undone by a lost
 * cache, and damage to bytes outside the range of a write.
 *
 * It also counts what reaches the disk (seam_nvm_io_counts_get): write calls
 * and their bytes, on the image and on its log or journal, file syncs, and
 * the directory syncs SQLite's unix VFS makes below it (one at the first
 * sync of a journal or log it opened with the create flag, one for each
 * delete asking for it).
 *
 * States of a shim: POWERED (counting; an armed fault waits) -> OFF (after
 * POWER_CUT, TORN_WRITE or LOSE_UNSYNCED fired, or nvm_vfs_power_off); OFF
 * is final: only xClose, the locks and the queries that touch no file data
 * still work, so SQLite can release the files. While POWERED the disk is
 * FULL from the moment a DISK_FULL fault fires until nvm_vfs_fault_set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvm_int.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* One write made since its file's last sync, kept only while LOSE_UNSYNCED is armed. */
typedef struct unsynced_write {
    struct unsynced_write *next; /* the next older write */
    sqlite3_int64 offset;
    int len;
    int old_len;        /* bytes of the file that existed in [offset, offset + len) */
    uint8_t *old_bytes; /* their content before the write */
    uint8_t *new_bytes; /* what the write wrote */
} unsynced_write;

typedef struct shim_file {
    sqlite3_file base; /* must be first: SQLite sees this */
    nvm_vfs *vfs;
    bool is_image;          /* the main database file (else its log, journal or a temporary) */
    bool dir_sync;          /* its first sync also syncs its directory (unix VFS: a new journal) */
    struct shim_file *next; /* the vfs's list of open files */
    unsynced_write *unsynced; /* newest first */
    sqlite3_int64 synced_size;
    sqlite3_file *real; /* the default VFS's file, in the same allocation */
} shim_file;

struct nvm_vfs {
    sqlite3_vfs base; /* must be first; pAppData points back here */
    sqlite3_vfs *real;
    char name[48];
    seam_nvm_io_fault_mode mode;
    uint64_t countdown; /* 0: disarmed */
    uint64_t io_points;
    uint32_t seed;
    bool power_off;
    bool disk_full; /* a DISK_FULL fault fired: writes that grow a file fail */
    shim_file *files;
    seam_nvm_io_counts counts; /* what reached the disk since the shim was made */
};

/* What a counted I/O call may do. */
typedef enum { IO_GO, IO_REFUSE, IO_TEAR } io_verdict;

static nvm_vfs *vfs_of(sqlite3_vfs *vfs) {
    return (nvm_vfs *)vfs->pAppData;
}

static bool tracking_unsynced(const nvm_vfs *vfs) {
    return vfs->countdown > 0 && vfs->mode == SEAM_NVM_IO_LOSE_UNSYNCED;
}

static void forget_unsynced(shim_file *file) {
    while (file->unsynced) {
        unsynced_write *older = file->unsynced->next;
        free(file->unsynced);
        file->unsynced = older;
    }
}

static uint32_t next_random(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/*
 * Puts one file back as it was at its last sync, then replays a random subset
 * of the writes made since, oldest first. Errors are ignored: the power is
 * going anyway, and a file we could not restore is left as the writes made it.
 */
static void lose_unsynced(nvm_vfs *vfs, shim_file *file) {
    const sqlite3_io_methods *io = file->real->pMethods;
    unsynced_write *oldest_first = NULL;
    for (unsynced_write *w = file->unsynced; w; w = w->next) /* newest first: undo */
        if (w->old_len > 0)
            io->xWrite(file->real, w->old_bytes, w->old_len, w->offset);
    io->xTruncate(file->real, file->synced_size);
    while (file->unsynced) { /* reverse the list to oldest first */
        unsynced_write *w = file->unsynced;
        file->unsynced = w->next;
        w->next = oldest_first;
        oldest_first = w;
    }
    file->unsynced = oldest_first;
    for (unsynced_write *w = oldest_first; w; w = w->next)
        if (next_random(&vfs->seed) & 1)
            io->xWrite(file->real, w->new_bytes, w->len, w->offset);
    forget_unsynced(file);
}

/* Passes a counted I/O call and decides what it may do. */
static io_verdict io_point(nvm_vfs *vfs, bool is_write) {
    io_verdict verdict = IO_GO;
    if (vfs->power_off) {
        verdict = IO_REFUSE;
        goto done;
    }
    vfs->io_points++;
    if (vfs->countdown == 0 || --vfs->countdown > 0)
        goto done;
    verdict = IO_REFUSE;
    switch (vfs->mode) {
    case SEAM_NVM_IO_FAIL:
        break;
    case SEAM_NVM_IO_TORN_WRITE:
        verdict = is_write ? IO_TEAR : IO_REFUSE;
        vfs->power_off = true;
        break;
    case SEAM_NVM_IO_LOSE_UNSYNCED:
        for (shim_file *file = vfs->files; file; file = file->next)
            lose_unsynced(vfs, file);
        vfs->power_off = true;
        break;
    case SEAM_NVM_IO_DISK_FULL:
        vfs->disk_full = true; /* shim_write decides whether this call needs a new block */
        verdict = IO_GO;
        break;
    default:
        vfs->power_off = true;
        break;
    }
    vfs->mode = SEAM_NVM_IO_OFF;
done:
    return verdict;
}

/* ---- file methods ------------------------------------------------------ */

static int shim_close(sqlite3_file *pFile) {
    shim_file *file = (shim_file *)pFile;
    int rc = SQLITE_OK;
    for (shim_file **link = &file->vfs->files; *link; link = &(*link)->next) {
        if (*link == file) {
            *link = file->next;
            break;
        }
    }
    forget_unsynced(file);
    if (file->real->pMethods)
        rc = file->real->pMethods->xClose(file->real);
    return rc;
}

static int shim_read(sqlite3_file *pFile, void *buf, int amount, sqlite3_int64 offset) {
    shim_file *file = (shim_file *)pFile;
    if (file->vfs->power_off)
        return SQLITE_IOERR_READ;
    return file->real->pMethods->xRead(file->real, buf, amount, offset);
}

/* Remembers what a write is about to overwrite, for LOSE_UNSYNCED. */
static int remember_write(shim_file *file, const void *buf, int amount, sqlite3_int64 offset) {
    sqlite3_int64 size = 0;
    unsynced_write *w = NULL;
    int rc = file->real->pMethods->xFileSize(file->real, &size);
    if (rc != SQLITE_OK)
        goto done;
    w = malloc(sizeof *w + 2 * (size_t)amount);
    if (!w) {
        rc = SQLITE_IOERR_NOMEM;
        goto done;
    }
    w->offset = offset;
    w->len = amount;
    w->old_len = size <= offset ? 0 : (int)(size - offset < amount ? size - offset : amount);
    w->old_bytes = (uint8_t *)(w + 1);
    w->new_bytes = w->old_bytes + amount;
    memcpy(w->new_bytes, buf, (size_t)amount);
    rc = w->old_len > 0 ? file->real->pMethods->xRead(file->real, w->old_bytes, w->old_len, offset)
                        : SQLITE_OK;
    if (rc != SQLITE_OK)
        goto done;
    w->next = file->unsynced;
    file->unsynced = w;
    w = NULL; /* the file's list owns it now */
done:
    free(w);
    return rc;
}

static int shim_write(sqlite3_file *pFile, const void *buf, int amount, sqlite3_int64 offset) {
    shim_file *file = (shim_file *)pFile;
    int rc = SQLITE_OK;
    io_verdict verdict = io_point(file->vfs, true);
    if (verdict == IO_TEAR)
        file->real->pMethods->xWrite(file->real, buf, amount / 2, offset);
    if (verdict != IO_GO) {
        rc = SQLITE_IOERR_WRITE;
        goto done;
    }
    if (file->vfs->disk_full) {
        sqlite3_int64 size = 0;
        rc = file->real->pMethods->xFileSize(file->real, &size);
        if (rc == SQLITE_OK && offset + amount > size)
            rc = SQLITE_FULL; /* no block left to grow the file into */
        if (rc != SQLITE_OK)
            goto done;
    }
    if (tracking_unsynced(file->vfs))
        rc = remember_write(file, buf, amount, offset);
    if (rc == SQLITE_OK)
        rc = file->real->pMethods->xWrite(file->real, buf, amount, offset);
    if (rc == SQLITE_OK) {
        file->vfs->counts.writes++;
        *(file->is_image ? &file->vfs->counts.image_bytes : &file->vfs->counts.log_bytes) +=
            (uint64_t)amount;
    }
done:
    return rc;
}

static int shim_truncate(sqlite3_file *pFile, sqlite3_int64 size) {
    shim_file *file = (shim_file *)pFile;
    if (io_point(file->vfs, false) != IO_GO)
        return SQLITE_IOERR_TRUNCATE;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int shim_sync(sqlite3_file *pFile, int flags) {
    shim_file *file = (shim_file *)pFile;
    if (io_point(file->vfs, false) != IO_GO)
        return SQLITE_IOERR_FSYNC;
    int rc = file->real->pMethods->xSync(file->real, flags);
    if (rc == SQLITE_OK) {
        file->vfs->counts.syncs++;
        file->vfs->counts.directory_syncs += file->dir_sync;
        file->dir_sync = false;
        forget_unsynced(file);
        if (file->real->pMethods->xFileSize(file->real, &file->synced_size) != SQLITE_OK)
            file->synced_size = 0;
    }
    return rc;
}

static int shim_file_size(sqlite3_file *pFile, sqlite3_int64 *size) {
    shim_file *file = (shim_file *)pFile;
    if (file->vfs->power_off)
        return SQLITE_IOERR_FSTAT;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int shim_lock(sqlite3_file *pFile, int level) {
    shim_file *file = (shim_file *)pFile;
    return file->real->pMethods->xLock(file->real, level);
}

static int shim_unlock(sqlite3_file *pFile, int level) {
    shim_file *file = (shim_file *)pFile;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int shim_check_reserved(sqlite3_file *pFile, int *reserved) {
    shim_file *file = (shim_file *)pFile;
    return file->real->pMethods->xCheckReservedLock(file->real, reserved);
}

static int shim_file_control(sqlite3_file *pFile, int op, void *arg) {
    shim_file *file = (shim_file *)pFile;
    /* A size hint may grow the file: that is a write, refused without power. */
    if (file->vfs->power_off && op == SQLITE_FCNTL_SIZE_HINT)
        return SQLITE_IOERR_TRUNCATE;
    return file->real->pMethods->xFileControl(file->real, op, arg);
}

static int shim_sector_size(sqlite3_file *pFile) {
    shim_file *file = (shim_file *)pFile;
    return file->real->pMethods->xSectorSize(file->real);
}

static int shim_device_characteristics(sqlite3_file *pFile) {
    shim_file *file = (shim_file *)pFile;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

/* Version 1: no shared memory and no mmap. The image's log runs in exclusive
   locking mode, where SQLite keeps the log's index in heap memory instead. */
static const sqlite3_io_methods shim_io_methods = {
    .iVersion = 1,
    .xClose = shim_close,
    .xRead = shim_read,
    .xWrite = shim_write,
    .xTruncate = shim_truncate,
    .xSync = shim_sync,
    .xFileSize = shim_file_size,
    .xLock = shim_lock,
    .xUnlock = shim_unlock,
    .xCheckReservedLock = shim_check_reserved,
    .xFileControl = shim_file_control,
    .xSectorSize = shim_sector_size,
    .xDeviceCharacteristics = shim_device_characteristics,
};

/* ---- VFS methods ------------------------------------------------------- */

static int shim_open(sqlite3_vfs *pVfs, const char *name, sqlite3_file *pFile, int flags,
                     int *out_flags) {
    nvm_vfs *vfs = vfs_of(pVfs);
    shim_file *file = (shim_file *)pFile;
    memset(file, 0, sizeof *file);
    file->vfs = vfs;
    file->real = (sqlite3_file *)((char *)file + ALIGN8(sizeof *file));
    file->real->pMethods = NULL;
    int rc = vfs->power_off ? SQLITE_CANTOPEN
                            : vfs->real->xOpen(vfs->real, name, file->real, flags, out_flags);
    /* SQLite calls xClose after a failed xOpen only if pMethods is set: mirror the real file. */
    if (!file->real->pMethods)
        goto done;
    file->base.pMethods = &shim_io_methods;
    file->next = vfs->files;
    vfs->files = file;
    file->is_image = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    file->dir_sync =
        (flags & SQLITE_OPEN_CREATE) &&
        (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL | SQLITE_OPEN_SUPER_JOURNAL));
    if (rc == SQLITE_OK &&
        file->real->pMethods->xFileSize(file->real, &file->synced_size) != SQLITE_OK)
        file->synced_size = 0;
done:
    return rc;
}

static int shim_delete(sqlite3_vfs *pVfs, const char *name, int sync_dir) {
    nvm_vfs *vfs = vfs_of(pVfs);
    if (io_point(vfs, false) != IO_GO)
        return SQLITE_IOERR_DELETE;
    int rc = vfs->real->xDelete(vfs->real, name, sync_dir);
    if (rc == SQLITE_OK && (sync_dir & 1))
        vfs->counts.directory_syncs++;
    return rc;
}

static int shim_access(sqlite3_vfs *pVfs, const char *name, int flags, int *result) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xAccess(vfs->real, name, flags, result);
}

static int shim_full_pathname(sqlite3_vfs *pVfs, const char *name, int size, char *out) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xFullPathname(vfs->real, name, size, out);
}

static void *shim_dl_open(sqlite3_vfs *pVfs, const char *name) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xDlOpen(vfs->real, name);
}

static void shim_dl_error(sqlite3_vfs *pVfs, int size, char *out) {
    nvm_vfs *vfs = vfs_of(pVfs);
    vfs->real->xDlError(vfs->real, size, out);
}

static void (*shim_dl_sym(sqlite3_vfs *pVfs, void *handle, const char *symbol))(void) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xDlSym(vfs->real, handle, symbol);
}

static void shim_dl_close(sqlite3_vfs *pVfs, void *handle) {
    nvm_vfs *vfs = vfs_of(pVfs);
    vfs->real->xDlClose(vfs->real, handle);
}

static int shim_randomness(sqlite3_vfs *pVfs, int size, char *out) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xRandomness(vfs->real, size, out);
}

static int shim_sleep(sqlite3_vfs *pVfs, int microseconds) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xSleep(vfs->real, microseconds);
}

static int shim_current_time(sqlite3_vfs *pVfs, double *now) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xCurrentTime(vfs->real, now);
}

static int shim_last_error(sqlite3_vfs *pVfs, int size, char *out) {
    nvm_vfs *vfs = vfs_of(pVfs);
    return vfs->real->xGetLastError ? vfs->real->xGetLastError(vfs->real, size, out) : 0;
}

static int shim_current_time_int64(sqlite3_vfs *pVfs, sqlite3_int64 *now) {
    nvm_vfs *vfs = vfs_of(pVfs);
    if (vfs->real->iVersion >= 2 && vfs->real->xCurrentTimeInt64)
        return vfs->real->xCurrentTimeInt64(vfs->real, now);
    double days = 0;
    int rc = vfs->real->xCurrentTime(vfs->real, &days);
    *now = (sqlite3_int64)(days * 86400000.0);
    return rc;
}

/* ---- the shim's own interface (nvm_int.h) ------------------------------ */

seam_err nvm_vfs_create(nvm_vfs **out_vfs) {
    seam_err err = SEAM_OK;
    nvm_vfs *vfs = NULL;
    *out_vfs = NULL;
    if (sqlite3_initialize() != SQLITE_OK) {
        err = SEAM_ERR_NVM;
        goto done;
    }
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    if (!real) {
        err = SEAM_ERR_NVM;
        goto done;
    }
    vfs = calloc(1, sizeof *vfs);
    if (!vfs) {
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    vfs->real = real;
    snprintf(vfs->name, sizeof vfs->name, "seam-nvm-%p", (void *)vfs);
    vfs->base = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)(ALIGN8(sizeof(shim_file)) + (size_t)real->szOsFile),
        .mxPathname = real->mxPathname,
        .zName = vfs->name,
        .pAppData = vfs,
        .xOpen = shim_open,
        .xDelete = shim_delete,
        .xAccess = shim_access,
        .xFullPathname = shim_full_pathname,
        .xDlOpen = shim_dl_open,
        .xDlError = shim_dl_error,
        .xDlSym = shim_dl_sym,
        .xDlClose = shim_dl_close,
        .xRandomness = shim_randomness,
        .xSleep = shim_sleep,
        .xCurrentTime = shim_current_time,
        .xGetLastError = shim_last_error,
        .xCurrentTimeInt64 = shim_current_time_int64,
    };
    if (sqlite3_vfs_register(&vfs->base, 0) != SQLITE_OK) {
        err = SEAM_ERR_NVM;
        goto done;
    }
    *out_vfs = vfs;
done:
    if (err != SEAM_OK)
        free(vfs);
    return err;
}

void nvm_vfs_destroy(nvm_vfs *vfs) {
    if (!vfs)
        return;
    sqlite3_vfs_unregister(&vfs->base);
    free(vfs);
}

const char *nvm_vfs_name(const nvm_vfs *vfs) {
    return vfs->name;
}

void nvm_vfs_fault_set(nvm_vfs *vfs, seam_nvm_io_fault_mode mode, uint64_t n) {
    vfs->mode = mode;
    vfs->countdown = mode == SEAM_NVM_IO_OFF ? 0 : n;
    vfs->disk_full = false; /* a full disk stays full until the shim is armed anew */
    vfs->seed = (uint32_t)(n * 2654435761u) | 1u;
    /* Writes from before arming were never tracked: count from a synced state. */
    for (shim_file *file = vfs->files; file; file = file->next) {
        forget_unsynced(file);
        if (file->real->pMethods->xFileSize(file->real, &file->synced_size) != SQLITE_OK)
            file->synced_size = 0;
    }
}

uint64_t nvm_vfs_io_points(const nvm_vfs *vfs) {
    return vfs->io_points;
}

void nvm_vfs_power_off(nvm_vfs *vfs) {
    vfs->power_off = true;
}

bool nvm_vfs_powered_off(const nvm_vfs *vfs) {
    return vfs->power_off;
}

void nvm_vfs_counts(const nvm_vfs *vfs, seam_nvm_io_counts *out) {
    *out = vfs->counts;
}
