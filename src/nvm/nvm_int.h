/*
 * Private to the nvm layer: the handle, its prepared statements, and the
 * functions its files share. Nothing outside src/nvm/ and tests/nvm/
 * includes this file.
 */
#ifndef SEAM_NVM_INT_H
#define SEAM_NVM_INT_H

#include <sqlite3.h>

#include "seam/nvm.h"

/* The prepared statements of a handle, prepared once when it opens. */
typedef enum {
    NVM_SQL_BEGIN,
    NVM_SQL_COMMIT,
    NVM_SQL_ROLLBACK,
    NVM_SQL_VALUE_LEN,    /* ?1 table, ?2 key -> length(v) */
    NVM_SQL_GET,          /* ?1 table, ?2 key -> v */
    NVM_SQL_PUT,          /* ?1 table, ?2 key, ?3 value */
    NVM_SQL_DELETE,       /* ?1 table, ?2 key */
    NVM_SQL_RANGE_SIZE,   /* [(?1,?2), (?3,?4)) -> count, sum of key+value lengths */
    NVM_SQL_RANGE_DELETE, /* [(?1,?2), (?3,?4)) */
    NVM_SQL_RANGE_FIRST,  /* [(?1,?2), (?3,?4)) -> first k, v */
    NVM_SQL_RANGE_AFTER,  /* ((?1,?2), (?3,?4)) -> first k, v */
    NVM_SQL_RANGE_SCAN,   /* [(?1,?2), (?3,?4)) -> every k, v in order */
    NVM_SQL_COUNT
} nvm_sql;

/* The I/O fault-injection shim below SQLite (fault_vfs.c); opaque here. */
typedef struct nvm_vfs nvm_vfs;

struct seam_nvm {
    sqlite3 *db;
    sqlite3_stmt *stmt[NVM_SQL_COUNT];
    nvm_vfs *vfs; /* NULL for an in-memory image */
    seam_nvm_state state;
    seam_err sticky_err;   /* what every call returns in ERROR or POWER_CUT */
    bool visiting;         /* inside seam_nvm_foreach's callback */
    size_t capacity;       /* bytes; from the image's meta table */
    size_t used;           /* bytes used, the open transaction included */
    size_t used_at_begin;  /* bytes used when the transaction began */
    uint64_t txn_bytes;    /* key+value bytes put by the current/last transaction */
    uint64_t write_points; /* write points passed since open */
    seam_nvm_fault_mode fault_mode;
    uint64_t fault_countdown; /* 0: disarmed; else write points until it fires */
};

/* nvm.c ------------------------------------------------------------------ */

/*
 * Checks that nvm may run a call: not sticky, not inside foreach's callback,
 * and for writes (need_write) a transaction in WRITE, for reads READ or
 * WRITE. Returns SEAM_OK or the error the call must return; changes nothing.
 */
seam_err nvm_check_state(const seam_nvm *nvm, bool need_write);

/* Passes a write point: counts it and fires an armed fault (see nvm.h). */
seam_err nvm_write_point(seam_nvm *nvm);

/*
 * Turns a failed SQLite result rc into the call's seam_err and moves the
 * handle's state: POWER_CUT if the power is off, ERROR on corruption,
 * FAILED for other failures inside a transaction.
 */
seam_err nvm_engine_failed(seam_nvm *nvm, int rc);

/* Moves nvm to ERROR with SEAM_ERR_NVM_CORRUPT: a record breaks the image format. */
void nvm_mark_corrupt(seam_nvm *nvm);

/* fault_vfs.c ------------------------------------------------------------ */

/*
 * Creates a shim over the default VFS and registers it under a unique name;
 * *out_vfs is freed with nvm_vfs_destroy after the connection using it is
 * closed. Errors: SEAM_ERR_NOMEM, SEAM_ERR_NVM.
 */
seam_err nvm_vfs_create(nvm_vfs **out_vfs);

/* Unregisters and frees the shim; NULL is allowed. No connection may use it. */
void nvm_vfs_destroy(nvm_vfs *vfs);

/* Returns the name to pass to sqlite3_open_v2. */
const char *nvm_vfs_name(const nvm_vfs *vfs);

/* Arms an I/O fault (see seam_nvm_io_fault_set); mode and n already checked. */
void nvm_vfs_fault_set(nvm_vfs *vfs, seam_nvm_io_fault_mode mode, uint64_t n);

/* Returns the number of I/O points passed. */
uint64_t nvm_vfs_io_points(const nvm_vfs *vfs);

/* Cuts the power: every later I/O call through the shim fails; writes already made stay. */
void nvm_vfs_power_off(nvm_vfs *vfs);

/* True once the power is off. */
bool nvm_vfs_powered_off(const nvm_vfs *vfs);

#endif
