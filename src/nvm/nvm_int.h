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

/* SQLite's page size for new images (docs/nvm.md "Durability"): a commit writes
   whole pages to the log, one frame of NVM_PAGE_SIZE + 24 bytes per page it
   changed, so this bounds the bytes of a small command. An image keeps the page
   size it was created with. */
#define NVM_PAGE_SIZE 512

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
    int lock_fd;              /* the owner lock (lock.c); -1 for an in-memory image */
    bool sql_txn;             /* SQLite's write transaction is open (from the first write on) */
    bool started;             /* the handle opened: close may checkpoint (a failed open may not) */
    seam_nvm_journal journal; /* how commits reach the disk (durability.c) */
    bool log_pending;         /* the write-ahead log may hold frames not yet in the image file */
    uint64_t log_frames;      /* frames in the write-ahead log after the last commit */
    uint64_t checkpoint_frames; /* a commit that leaves the log this long checkpoints it */
};

/* The log length (frames) after which a commit is followed by a checkpoint. */
#define NVM_CHECKPOINT_FRAMES 1000

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

/* durability.c ---------------------------------------------------------- */

/*
 * Takes the file's SQLite lock for the handle's life (locking_mode=EXCLUSIVE)
 * and turns off SQLite's own checkpoints (automatic ones and the one at close:
 * durability.c runs them). Called on a new connection to a file, before
 * anything reads it. Errors: nvm_open_failed's.
 */
seam_err nvm_durability_connect(seam_nvm *nvm);

/*
 * Applies the journal mode and the connection settings every image gets
 * (write-ahead log, synchronous=FULL, ...; docs/nvm.md "Durability"); an image
 * left in rollback-journal mode is turned to WAL here. Errors: nvm_open_failed's.
 */
seam_err nvm_apply_settings(seam_nvm *nvm);

/* Opens the SQLite write transaction of the open nvm transaction if it is not
   yet open (its first write). Engine failures go through nvm_engine_failed. */
seam_err nvm_write_begin(seam_nvm *nvm);

/*
 * After a commit: copies the log into the image file when it has grown past
 * its bound (a PASSIVE checkpoint). The commit is durable whatever happens
 * here: a failure is left for the next checkpoint, a power cut freezes the
 * handle for the calls that follow.
 */
void nvm_after_commit(seam_nvm *nvm);

/* Before the connection closes: for a handle that opened and is not sticky,
   rolls back, checkpoints and lets SQLite delete the empty log at close. */
void nvm_before_close(seam_nvm *nvm);

/* image.c ---------------------------------------------------------------- */

/*
 * Writes the schema and the meta records of a new image, in one transaction:
 * format 1, or for a sealed handle format 2 with its key check.
 */
seam_err nvm_format(seam_nvm *nvm, size_t capacity);

/*
 * Checks the first 100 bytes of path without SQLite: an SQLite 3 header in
 * write-ahead-log or rollback-journal mode carrying seam's application id.
 * SEAM_OK, or SEAM_ERR_NOT_FOUND, SEAM_ERR_IO, SEAM_ERR_NVM_CORRUPT.
 */
seam_err nvm_header_check(const char *path);

/* True when path has a non-empty rollback journal or write-ahead log beside it
   (a power cut left it, or the image was not closed). */
bool nvm_has_log(const char *path);

/* Writes path followed by suffix ("-wal", "-journal") to out; false when it does not fit. */
bool nvm_sibling(const char *path, const char *suffix, char *out, size_t size);

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

/* Adds the shim's I/O counts since it was made to *out (seam_nvm_io_counts_get). */
void nvm_vfs_counts(const nvm_vfs *vfs, seam_nvm_io_counts *out);

#endif
