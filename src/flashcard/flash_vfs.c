/*
 * Power cuts of the flash (docs/flashcard.md "Power cuts"): a SQLite VFS,
 * "seam-flashcard", over the default one, through which both connections to
 * the flash file go (the controller's and the perso layer's restore store, by
 * a `file:...?vfs=seam-flashcard` name). It counts the flash's transactions:
 * in WAL mode a transaction reaches the file only when it commits, as WAL
 * frames written then synced, so the first WAL write after the last WAL sync
 * starts one. An armed cut fails that write, before anything of the
 * transaction is on the file, and every write, sync and truncate after it:
 * the flash card is dead until it is opened again. Without an armed cut every
 * call goes straight to the default VFS.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "flashcard_int.h"

#define FC_VFS_NAME  "seam-flashcard"
#define FC_VFS_CARDS 16

typedef struct {
    sqlite3_file base;
    fc_power *power; /* NULL: a file of no registered flash */
    bool wal;
    sqlite3_file *real; /* follows this struct */
} fc_file;

static sqlite3_vfs fc_vfs;
static sqlite3_vfs *real_vfs;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char path[FC_FLASH_PATH_MAX];
    fc_power *power;
} registry[FC_VFS_CARDS];

/* The power of the flash whose file name starts name (its -wal, -shm, -journal). */
static fc_power *power_of(const char *name) {
    fc_power *p = NULL;
    if (!name)
        return NULL;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < FC_VFS_CARDS && !p; i++) {
        size_t n = strlen(registry[i].path);
        if (registry[i].power && n && !strncmp(name, registry[i].path, n))
            p = registry[i].power;
    }
    pthread_mutex_unlock(&registry_lock);
    return p;
}

static sqlite3_file *real(sqlite3_file *f) {
    return ((fc_file *)f)->real;
}

/* A write point: the first WAL write of a transaction. */
static int write_allowed(fc_file *f) {
    fc_power *p = f->power;
    if (!p)
        return SQLITE_OK;
    if (p->dead)
        return SQLITE_IOERR_WRITE;
    if (f->wal && !p->in_txn) {
        p->in_txn = true;
        if (p->cut_at && ++p->tried == p->cut_at) {
            p->dead = true;
            return SQLITE_IOERR_WRITE;
        }
    }
    return SQLITE_OK;
}

static int x_close(sqlite3_file *f) {
    return real(f)->pMethods->xClose(real(f));
}
static int x_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off) {
    return real(f)->pMethods->xRead(real(f), b, n, off);
}
static int x_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off) {
    int rc = write_allowed((fc_file *)f);
    return rc ? rc : real(f)->pMethods->xWrite(real(f), b, n, off);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 size) {
    fc_power *p = ((fc_file *)f)->power;
    return p && p->dead ? SQLITE_IOERR_TRUNCATE : real(f)->pMethods->xTruncate(real(f), size);
}
static int x_sync(sqlite3_file *f, int flags) {
    fc_file *ff = (fc_file *)f;
    if (ff->power && ff->power->dead)
        return SQLITE_IOERR_FSYNC;
    int rc = real(f)->pMethods->xSync(real(f), flags);
    if (rc == SQLITE_OK && ff->power && ff->wal && ff->power->in_txn) {
        ff->power->in_txn = false; /* the transaction is on the file */
        ff->power->commits++;
    }
    return rc;
}
static int x_size(sqlite3_file *f, sqlite3_int64 *size) {
    return real(f)->pMethods->xFileSize(real(f), size);
}
static int x_lock(sqlite3_file *f, int l) {
    return real(f)->pMethods->xLock(real(f), l);
}
static int x_unlock(sqlite3_file *f, int l) {
    return real(f)->pMethods->xUnlock(real(f), l);
}
static int x_reserved(sqlite3_file *f, int *out) {
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
static int x_control(sqlite3_file *f, int op, void *arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
}
static int x_sector(sqlite3_file *f) {
    return real(f)->pMethods->xSectorSize(real(f));
}
static int x_device(sqlite3_file *f) {
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
static int x_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out) {
    return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, out);
}
static int x_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
static void x_shm_barrier(sqlite3_file *f) {
    real(f)->pMethods->xShmBarrier(real(f));
}
static int x_shm_unmap(sqlite3_file *f, int del) {
    return real(f)->pMethods->xShmUnmap(real(f), del);
}

static const sqlite3_io_methods io_v1 = {1,         x_close,  x_read,   x_write,  x_truncate,
                                         x_sync,    x_size,   x_lock,   x_unlock, x_reserved,
                                         x_control, x_sector, x_device, NULL,     NULL,
                                         NULL,      NULL,     NULL,     NULL};
static const sqlite3_io_methods io_v2 = {
    2,          x_close,       x_read,      x_write,   x_truncate, x_sync,   x_size,
    x_lock,     x_unlock,      x_reserved,  x_control, x_sector,   x_device, x_shm_map,
    x_shm_lock, x_shm_barrier, x_shm_unmap, NULL,      NULL};

static int x_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                  int *out_flags) {
    (void)vfs;
    fc_file *f = (fc_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->base.pMethods = NULL;
        return rc;
    }
    f->power = power_of(name);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = f->real->pMethods->iVersion >= 2 ? &io_v2 : &io_v1;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *vfs, const char *name, int sync) {
    (void)vfs;
    fc_power *p = power_of(name);
    if (p && p->dead)
        return SQLITE_IOERR_DELETE;
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int x_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int x_full(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int x_random(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int x_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int x_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int x_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}
static int x_time64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int registered = SQLITE_ERROR;
static void register_once(void) {
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs)
        return;
    fc_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(fc_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = FC_VFS_NAME,
        .xOpen = x_open,
        .xDelete = x_delete,
        .xAccess = x_access,
        .xFullPathname = x_full,
        .xRandomness = x_random,
        .xSleep = x_sleep,
        .xCurrentTime = x_time,
        .xGetLastError = x_error,
        .xCurrentTimeInt64 =
            real_vfs->iVersion >= 2 && real_vfs->xCurrentTimeInt64 ? x_time64 : NULL,
    };
    registered = sqlite3_vfs_register(&fc_vfs, 0);
}

seam_err fc_vfs_attach(const char *path, fc_power *power, char *uri, size_t cap) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_once);
    if (registered != SQLITE_OK || strlen(path) >= FC_FLASH_PATH_MAX || strpbrk(path, "?#%") ||
        path[0] != '/' || (size_t)snprintf(uri, cap, "file:%s?vfs=" FC_VFS_NAME, path) >= cap)
        return SEAM_ERR_FLASHCARD_FLASH;
    seam_err e = SEAM_ERR_FLASHCARD_FLASH;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < FC_VFS_CARDS; i++)
        if (!registry[i].power) {
            snprintf(registry[i].path, sizeof registry[i].path, "%s", path);
            registry[i].power = power;
            e = SEAM_OK;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    return e;
}

void fc_vfs_detach(fc_power *power) {
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < FC_VFS_CARDS; i++)
        if (registry[i].power == power) {
            registry[i].power = NULL;
            registry[i].path[0] = 0;
        }
    pthread_mutex_unlock(&registry_lock);
}
