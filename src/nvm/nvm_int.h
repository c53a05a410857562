/*
 * Private to the nvm layer: the handle, its prepared statements, and the
 * functions its files share. Nothing outside src/nvm/ and tests/nvm/
 * includes this file.
 */
#ifndef SEAM_NVM_INT_H
#define SEAM_NVM_INT_H

#include <sqlite3.h>

#include "seam/crypto.h"
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
    uint64_t fault_countdown;  /* 0: disarmed; else write points until it fires */
    seam_crypto_aes_gcm *seal; /* the storage key; NULL: values are stored as given */
    uint8_t *scratch;          /* sealed values on their way in, opened ones for foreach */
    size_t scratch_size;
    int lock_fd; /* the owner lock (lock.c); -1 for an in-memory image */
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

/* Maps an SQLite failure while a handle is being opened (no state yet). */
seam_err nvm_open_failed(int rc);

/* image.c ---------------------------------------------------------------- */

/*
 * Writes the schema and the meta records of a new image, in one transaction:
 * format 1, or for a sealed handle format 2 with its key check.
 */
seam_err nvm_format(seam_nvm *nvm, size_t capacity);

/*
 * Checks the first 100 bytes of path without SQLite: an SQLite 3 header in
 * rollback-journal mode carrying seam's application id. SEAM_OK, or
 * SEAM_ERR_NOT_FOUND, SEAM_ERR_IO, SEAM_ERR_NVM_CORRUPT.
 */
seam_err nvm_header_check(const char *path);

/* True when path has a non-empty rollback journal beside it (a power cut left it). */
bool nvm_has_journal(const char *path);

/*
 * Checks an opened file is a whole seam image that nvm's key (or the lack of
 * one) opens, and loads capacity and used. SEAM_ERR_NVM_CORRUPT for anything
 * foreign or damaged, SEAM_ERR_UNSUPPORTED for a newer format,
 * SEAM_ERR_NVM_KEY when the key does not open it or a key is missing or extra.
 */
seam_err nvm_validate(seam_nvm *nvm);

/* seal.c ----------------------------------------------------------------- */

/* Gives nvm the storage key (copied into a GCM context). Errors: SEAM_ERR_NOMEM,
   SEAM_ERR_NVM (libcrypto failed). */
seam_err nvm_seal_start(seam_nvm *nvm, const uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE]);

/* Wipes and frees the key and the scratch buffer. */
void nvm_seal_stop(seam_nvm *nvm);

/* Returns how long a value of value_len bytes is once stored in nvm's image. */
size_t nvm_stored_len(const seam_nvm *nvm, size_t value_len);

/* Sets *plain_len to the length of a value stored_len bytes long as stored; false
   when no value can be stored that long (the image is corrupt). */
bool nvm_plain_len(const seam_nvm *nvm, size_t stored_len, size_t *plain_len);

/*
 * Returns in *stored the bytes to store for value under (table, key): value
 * itself on an unsealed image, else nonce || ciphertext || tag in the scratch
 * buffer (valid until the next call that uses it). Errors: SEAM_ERR_NOMEM,
 * SEAM_ERR_NVM (libcrypto failed).
 */
seam_err nvm_seal_value(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                        const uint8_t *value, size_t value_len, const uint8_t **stored);

/*
 * Writes the plain value of stored[0..stored_len), read from (table, key), to
 * out (nvm_plain_len bytes). A sealed value that does not authenticate leaves
 * out wiped and the handle ERROR: SEAM_ERR_NVM_CORRUPT.
 */
seam_err nvm_open_value(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                        const uint8_t *stored, size_t stored_len, uint8_t *out);

/* Makes sure the scratch buffer holds at least size bytes. Errors: SEAM_ERR_NOMEM. */
seam_err nvm_scratch_reserve(seam_nvm *nvm, size_t size);

/* The key check of a sealed image: a GCM tag over nothing, under a fixed label. */
#define NVM_KEY_CHECK_SIZE SEAM_NVM_SEAL_OVERHEAD

/* Writes a fresh key check for nvm's key. Errors: SEAM_ERR_NVM. */
seam_err nvm_key_check_make(seam_nvm *nvm, uint8_t check[NVM_KEY_CHECK_SIZE]);

/*
 * Reads the image's key check and verifies it: SEAM_OK, SEAM_ERR_NVM_KEY (the
 * key does not open it), SEAM_ERR_NVM_CORRUPT (missing or malformed), or the
 * engine's error.
 */
seam_err nvm_key_check_verify(seam_nvm *nvm);

/* lock.c ----------------------------------------------------------------- */

/*
 * Takes the owner lock of the image at path (which exists unless creating):
 * an exclusive flock on <path>.lock (the image's real path when it exists),
 * created 0600 if needed and never removed, recording this process as the
 * holder. *out_fd keeps it until nvm_lock_release. Errors: SEAM_ERR_NVM_BUSY,
 * SEAM_ERR_IO, SEAM_ERR_ARG (path too long).
 */
seam_err nvm_lock_take(const char *path, bool creating, int *out_fd);

/* Releases the owner lock (clearing the holder it recorded); -1 is allowed. */
void nvm_lock_release(int fd);

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
