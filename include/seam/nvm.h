/*
 * seam nvm: the card image.
 *
 * One card's persistent state is one SQLite file, with a write-ahead log
 * beside it while a handle has it open (or, for tests and fuzzing, one
 * in-memory database). The layer above never sees SQL: it sees an ordered,
 * transactional key-value store of records. After a clean close the file
 * alone holds the card; after a crash the file and its log (<image>-wal) do.
 *
 * Record model:
 *   - A record's key is (table, key bytes): table is a small integer naming
 *     the kind of record (registry entry, key, applet page, ...), the key
 *     bytes are 0..SEAM_NVM_KEY_MAX bytes. A value is 0..SEAM_NVM_VALUE_MAX
 *     bytes. Both are opaque to this layer.
 *   - Within a table, keys are ordered as unsigned byte strings: memcmp over
 *     the common length, then the shorter key first. Cursors and foreach walk
 *     records in that order; a prefix selects the keys that start with it.
 *
 * Transactions: one command of the card is one transaction. Writes (put,
 * delete, delete_prefix) happen only between seam_nvm_begin and
 * seam_nvm_commit or seam_nvm_rollback, else SEAM_ERR_NVM_STATE. Reads work
 * inside a transaction (they see its changes) and outside one. A committed
 * transaction survives a power cut; an uncommitted one leaves no trace.
 *
 * Sealed images: an image created with a storage key (seam_nvm_create_sealed)
 * keeps every value encrypted and authenticated under that key (AES-256-GCM),
 * bound to its table and key, so a value moved to another record does not
 * open; keys stay in clear (they order the records). The key is not in the
 * image: the caller keeps it. Callers see plain values, as on any image.
 *
 * Capacity: every record costs key length + stored value length +
 * SEAM_NVM_RECORD_OVERHEAD bytes against the image's capacity; in a sealed
 * image a value is stored SEAM_NVM_SEAL_OVERHEAD bytes longer than it is. A
 * put that would exceed it fails with SEAM_ERR_NVM_FULL and changes nothing;
 * the transaction stays open so the caller can roll it back.
 *
 * One owner: a file image has one handle at a time. Opening or creating it
 * takes an advisory lock (a lock file, <image>.lock, never removed) held until
 * close; a second handle, in this process or another, gets SEAM_ERR_NVM_BUSY,
 * and seam_nvm_describe_holder says who holds it.
 *
 * Failures and states (full table in src/nvm/nvm.c):
 *   - SEAM_ERR_NVM from a write leaves the transaction FAILED: only
 *     seam_nvm_rollback (or close) is accepted, then the image is usable.
 *   - SEAM_ERR_NVM_POWER_CUT is sticky: every later call fails the same way
 *     until the handle is closed and the image reopened (the power-up).
 *   - SEAM_ERR_NVM_CORRUPT from a read is sticky as well; in a sealed image a
 *     value that fails to authenticate is SEAM_ERR_NVM_CORRUPT.
 *
 * Fault injection (always compiled in, off by default) lets tests cut the
 * power at every write point of an operation, at two levels: the calls of
 * this API (seam_nvm_fault_set) and the I/O calls SQLite makes beneath it
 * (seam_nvm_io_fault_set). docs/nvm.md shows how to write a sweep.
 *
 * Handles are not thread-safe; use one handle from one thread at a time.
 */
#ifndef SEAM_NVM_H
#define SEAM_NVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"

/* Capacity of an image created with capacity 0. */
#define SEAM_NVM_DEFAULT_CAPACITY ((size_t)512 * 1024)
/* Largest capacity an image may have. */
#define SEAM_NVM_CAPACITY_MAX ((size_t)1024 * 1024 * 1024)
/* Bytes each record costs on top of its key and value. */
#define SEAM_NVM_RECORD_OVERHEAD 16
/* Longest key (and prefix), in bytes. */
#define SEAM_NVM_KEY_MAX 255
/* Longest value, in bytes. */
#define SEAM_NVM_VALUE_MAX ((size_t)16 * 1024 * 1024)
/* Newest image format this code writes and reads: 1 keeps values as given, 2
   keeps them sealed under a storage key (and a key check in the meta table). */
#define SEAM_NVM_FORMAT_VERSION 2
/* Bytes of a storage key (AES-256). */
#define SEAM_NVM_STORAGE_KEY_SIZE 32
/* Bytes a sealed value is stored longer than it is: its nonce (12) and tag (16). */
#define SEAM_NVM_SEAL_OVERHEAD 28

typedef struct seam_nvm seam_nvm;

/* Where a handle is in its life; see the state diagram in src/nvm/nvm.c. */
typedef enum {
    SEAM_NVM_STATE_READ = 0,  /* no transaction open: reads allowed */
    SEAM_NVM_STATE_WRITE,     /* a transaction is open: reads and writes allowed */
    SEAM_NVM_STATE_FAILED,    /* a write failed: only rollback (or close) is allowed */
    SEAM_NVM_STATE_ERROR,     /* sticky: the engine failed or the image is corrupt */
    SEAM_NVM_STATE_POWER_CUT, /* sticky: an injected power cut; close and reopen */
} seam_nvm_state;

/* ---- images --------------------------------------------------------- */

/*
 * Creates a new, empty, unsealed image file at path (mode 0600) with the given
 * capacity in bytes (0 means SEAM_NVM_DEFAULT_CAPACITY) and opens it; *out_nvm
 * is the caller's, to close with seam_nvm_close. Errors: SEAM_ERR_ARG (path
 * exists, capacity above SEAM_NVM_CAPACITY_MAX, NULL argument),
 * SEAM_ERR_NVM_BUSY (a handle holds an image of that name), SEAM_ERR_IO (the
 * file cannot be created), SEAM_ERR_NVM; on error no image is left behind
 * (the lock file may be).
 */
seam_err seam_nvm_create(const char *path, size_t capacity, seam_nvm **out_nvm);

/*
 * As seam_nvm_create, for an image sealed under key (SEAM_NVM_STORAGE_KEY_SIZE
 * bytes, not stored in the image; the caller keeps and wipes it). The key check
 * is written in the creating transaction.
 */
seam_err seam_nvm_create_sealed(const char *path, size_t capacity, const uint8_t key[32],
                                seam_nvm **out_nvm);

/*
 * Opens an existing, unsealed image, rolling back a transaction a power cut
 * left behind and checking the image: its header, schema, magic, format
 * version and B-tree structure; the handle owns the image until closed.
 * *out_nvm is the caller's. Errors: SEAM_ERR_NOT_FOUND (no such file),
 * SEAM_ERR_NVM_BUSY (another handle holds the image), SEAM_ERR_NVM_CORRUPT
 * (not a seam image, or damaged), SEAM_ERR_NVM_KEY (the image is sealed),
 * SEAM_ERR_UNSUPPORTED (a seam image of a newer format), SEAM_ERR_IO,
 * SEAM_ERR_NVM, SEAM_ERR_NOMEM. On error the image file is not modified.
 */
seam_err seam_nvm_open(const char *path, seam_nvm **out_nvm);

/*
 * As seam_nvm_open, for an image sealed under key. Errors: those of
 * seam_nvm_open, and SEAM_ERR_NVM_KEY when key does not open the image or the
 * image is not sealed (an unsealed image could have been put in place of the
 * sealed one); the image file is not modified.
 */
seam_err seam_nvm_open_sealed(const char *path, const uint8_t key[32], seam_nvm **out_nvm);

/*
 * Writes who holds the image at path into out (NUL-terminated, cut to
 * out_size), e.g. "pid 1234 (seam card serve --image card.db)": what the
 * holder recorded in the lock file; for the message after SEAM_ERR_NVM_BUSY.
 * Errors: SEAM_ERR_NOT_FOUND (nobody recorded), SEAM_ERR_ARG, SEAM_ERR_IO.
 */
seam_err seam_nvm_describe_holder(const char *path, char *out, size_t out_size);

/*
 * Deletes the image file at path with its write-ahead log, journal and lock
 * file, for tools and tests that are done with an image; refused while a
 * handle holds it. Missing files are not an error. Errors: SEAM_ERR_NVM_BUSY,
 * SEAM_ERR_ARG, SEAM_ERR_IO.
 */
seam_err seam_nvm_remove(const char *path);

/*
 * Creates an empty, unsealed image in memory (gone at close) with the given
 * capacity (0 means the default); for tests and fuzzing. I/O fault injection
 * is not available on it, and it takes no lock. Errors: SEAM_ERR_ARG, SEAM_ERR_NVM, SEAM_ERR_NOMEM.
 */
seam_err seam_nvm_open_memory(size_t capacity, seam_nvm **out_nvm);

/*
 * Closes the handle and frees it; an open transaction is rolled back and the
 * write-ahead log checkpointed and removed, so the image file alone holds the
 * card (after a power cut nothing is written: the next open recovers from the
 * log). NULL is allowed.
 */
void seam_nvm_close(seam_nvm *nvm);

/* Returns the handle's state; SEAM_NVM_STATE_ERROR for NULL. */
seam_nvm_state seam_nvm_get_state(const seam_nvm *nvm);

/* True when the handle's image is sealed under a storage key. */
bool seam_nvm_is_sealed(const seam_nvm *nvm);

/* ---- durability (docs/nvm.md "Durability") ---------------------------- */

/* How a file image's commits reach the disk. */
typedef enum {
    /* the default: a write-ahead log beside the image (<image>-wal), synchronous=FULL,
       the file locked for the handle's life: one sync per commit */
    SEAM_NVM_JOURNAL_WAL = 0,
    /* a rollback journal (<image>-journal), synchronous=EXTRA: how images were written
       before the write-ahead log, five syncs per commit; for benches that compare */
    SEAM_NVM_JOURNAL_ROLLBACK,
} seam_nvm_journal;

/*
 * Switches a file image's journal mode, between transactions; the image stays
 * complete in its file (the log is checkpointed first). The next open goes
 * back to SEAM_NVM_JOURNAL_WAL. In-memory images have no journal: SEAM_OK,
 * nothing changes. Errors: SEAM_ERR_ARG, SEAM_ERR_NVM_STATE (a transaction is
 * open), SEAM_ERR_NVM, the sticky errors.
 */
seam_err seam_nvm_set_journal(seam_nvm *nvm, seam_nvm_journal journal);

/*
 * Copies every committed transaction from the write-ahead log into the image
 * file, syncs it and empties the log, so that the image file alone holds the
 * card (close does this too). Between transactions only; a no-op without a
 * log. Errors: SEAM_ERR_NVM_STATE (a transaction is open), SEAM_ERR_NVM (the
 * checkpoint failed: nothing is lost, the log keeps what it held),
 * SEAM_ERR_NVM_POWER_CUT, the sticky errors.
 */
seam_err seam_nvm_checkpoint(seam_nvm *nvm);

/* What a file image's handle has done to the disk since it was opened, as
   its I/O shim counts it (below SQLite, on every file of the image). */
typedef struct {
    uint64_t writes;          /* write calls */
    uint64_t image_bytes;     /* bytes written to the image file */
    uint64_t log_bytes;       /* bytes written to its write-ahead log or rollback journal */
    uint64_t syncs;           /* file syncs (each an fdatasync of one file) */
    uint64_t directory_syncs; /* syncs of the image's directory (SQLite's unix VFS makes one
                                 at the first sync of a journal or log it opened, and one
                                 when it deletes a journal) */
} seam_nvm_io_counts;

/* Writes the handle's I/O counts since open to *out: zeros for an in-memory image
   or NULL. Take two readings around a command for what it cost. */
void seam_nvm_io_counts_get(const seam_nvm *nvm, seam_nvm_io_counts *out);

/* ---- transactions --------------------------------------------------- */

/*
 * Opens the transaction of one command; nothing reaches SQLite until its first
 * write, and a transaction that writes nothing commits without any I/O.
 * Errors: SEAM_ERR_NVM_STATE (one is already open, or FAILED), the sticky
 * error after a power cut or corruption.
 */
seam_err seam_nvm_begin(seam_nvm *nvm);

/*
 * Makes the open transaction durable. A write point. Errors:
 * SEAM_ERR_NVM_STATE (no transaction open, or FAILED), SEAM_ERR_NVM (the
 * commit failed: the transaction is FAILED and must be rolled back),
 * SEAM_ERR_NVM_FULL (the same, because the disk holding the image is full),
 * SEAM_ERR_NVM_POWER_CUT.
 */
seam_err seam_nvm_commit(seam_nvm *nvm);

/*
 * Discards the open (or FAILED) transaction; the handle returns to READ.
 * Errors: SEAM_ERR_NVM_STATE (no transaction), SEAM_ERR_NVM (the engine
 * could not roll back: the handle becomes ERROR), the sticky errors.
 */
seam_err seam_nvm_rollback(seam_nvm *nvm);

/* ---- records -------------------------------------------------------- */

/*
 * Stores value under (table, key), replacing any record there; the bytes are
 * copied. A write point. Errors: SEAM_ERR_ARG (length above its maximum, NULL
 * pointer with a non-zero length), SEAM_ERR_NVM_STATE (no transaction),
 * SEAM_ERR_NVM_FULL (capacity: nothing changed, the transaction stays open;
 * or the disk holding the image is full: the transaction is FAILED),
 * SEAM_ERR_NVM (transaction FAILED), SEAM_ERR_NVM_POWER_CUT.
 */
seam_err seam_nvm_put(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len);

/*
 * Copies the value of (table, key) into value[0..value_size) and sets
 * *value_len to its length. With value NULL only *value_len is set (a length
 * query). Errors: SEAM_ERR_NOT_FOUND, SEAM_ERR_BUFFER_SMALL (*value_len is
 * the size needed, value untouched), SEAM_ERR_ARG, SEAM_ERR_NVM_STATE (FAILED),
 * SEAM_ERR_NVM (inside a transaction it becomes FAILED), the sticky errors.
 */
seam_err seam_nvm_get(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len,
                      uint8_t *value, size_t value_size, size_t *value_len);

/*
 * Deletes the record (table, key). A write point. Errors: SEAM_ERR_NOT_FOUND
 * (nothing changed), SEAM_ERR_ARG, SEAM_ERR_NVM_STATE, SEAM_ERR_NVM,
 * SEAM_ERR_NVM_POWER_CUT.
 */
seam_err seam_nvm_delete(seam_nvm *nvm, uint16_t table, const uint8_t *key, size_t key_len);

/*
 * Deletes every record of table whose key starts with prefix (an empty prefix
 * empties the table); *deleted (may be NULL) receives how many. Deleting none
 * is not an error. A write point. Errors as seam_nvm_delete, without
 * SEAM_ERR_NOT_FOUND.
 */
seam_err seam_nvm_delete_prefix(seam_nvm *nvm, uint16_t table, const uint8_t *prefix,
                                size_t prefix_len, size_t *deleted);

/*
 * A position in a walk over the records of one table whose keys start with a
 * prefix, in key order. The caller owns the storage (a local variable will
 * do); the fields are private. A cursor holds no lock and no engine
 * resource: it remembers the last key it returned, so records may be put or
 * deleted between steps and the walk continues after that key.
 */
typedef struct {
    uint16_t table;
    bool started;  /* a record has been returned; last holds its key */
    bool finished; /* the walk reached its end */
    size_t prefix_len;
    size_t last_len;
    uint8_t prefix[SEAM_NVM_KEY_MAX];
    uint8_t last[SEAM_NVM_KEY_MAX];
} seam_nvm_cursor;

/*
 * Starts a cursor over the keys of table that start with prefix (copied; NULL
 * with length 0 for the whole table). Errors: SEAM_ERR_ARG.
 */
seam_err seam_nvm_cursor_init(seam_nvm_cursor *cursor, uint16_t table, const uint8_t *prefix,
                              size_t prefix_len);

/*
 * Moves to the next record and copies its key and value into the caller's
 * buffers, setting *key_len and *value_len. A NULL key or value buffer is
 * not copied (its length is still reported). Errors: SEAM_ERR_NOT_FOUND
 * (the walk is over), SEAM_ERR_BUFFER_SMALL (both lengths reported, nothing
 * copied, the cursor does not move), SEAM_ERR_ARG, SEAM_ERR_NVM_STATE
 * (FAILED), the sticky errors.
 */
seam_err seam_nvm_cursor_next(seam_nvm *nvm, seam_nvm_cursor *cursor, uint8_t *key, size_t key_size,
                              size_t *key_len, uint8_t *value, size_t value_size,
                              size_t *value_len);

/*
 * Called by seam_nvm_foreach for each record. key and value are borrowed and
 * valid only during the call (never NULL, even when empty). Return SEAM_OK to
 * go on, a positive value to stop (foreach returns SEAM_OK), or a negative
 * seam_err to stop with that error. The callback must not call the nvm.
 */
typedef int (*seam_nvm_visit_fn)(void *ctx, const uint8_t *key, size_t key_len,
                                 const uint8_t *value, size_t value_len);

/*
 * Calls visit for every record of table whose key starts with prefix, in key
 * order; nothing is allocated for the caller. Calls into the same nvm from
 * visit fail with SEAM_ERR_NVM_STATE. Errors: what visit returned,
 * SEAM_ERR_ARG, SEAM_ERR_NVM_STATE, SEAM_ERR_NVM_CORRUPT, the sticky errors.
 */
seam_err seam_nvm_foreach(seam_nvm *nvm, uint16_t table, const uint8_t *prefix, size_t prefix_len,
                          seam_nvm_visit_fn visit, void *ctx);

/* ---- capacity and accounting ---------------------------------------- */

/* Returns what one record of these stored lengths costs: key + value +
   SEAM_NVM_RECORD_OVERHEAD. */
size_t seam_nvm_record_cost(size_t key_len, size_t value_len);

/* Returns what putting a value of value_len bytes under a key_len-byte key costs in
   nvm's image: seam_nvm_record_cost of the stored lengths (sealed values are longer). */
size_t seam_nvm_put_cost(const seam_nvm *nvm, size_t key_len, size_t value_len);

/* Returns the image's capacity in bytes. */
size_t seam_nvm_capacity(const seam_nvm *nvm);

/* Returns the bytes used, including the changes of the open transaction. */
size_t seam_nvm_used_bytes(const seam_nvm *nvm);

/* Returns capacity minus used bytes (the open transaction included). */
size_t seam_nvm_free_bytes(const seam_nvm *nvm);

/*
 * Returns the key and stored value bytes put by the open transaction, or by
 * the last one until the next begin; for benches ("NVM bytes written by a
 * command").
 */
uint64_t seam_nvm_txn_bytes_written(const seam_nvm *nvm);

/* ---- fault injection ------------------------------------------------ */

/* What an injected fault does at the write point it hits. */
typedef enum {
    SEAM_NVM_FAULT_OFF = 0,   /* disarm */
    SEAM_NVM_FAULT_FAIL,      /* the call fails with SEAM_ERR_NVM; the transaction is FAILED */
    SEAM_NVM_FAULT_POWER_CUT, /* the call and every later one fail with SEAM_ERR_NVM_POWER_CUT */
} seam_nvm_fault_mode;

/*
 * Arms a fault at the n-th write point from now (n >= 1; 1 is the next one).
 * Write points are the calls to put, delete, delete_prefix and commit that
 * pass their argument and state checks; the fault hits before the call does
 * anything. A fault fires once. SEAM_NVM_FAULT_OFF disarms (n ignored).
 * Errors: SEAM_ERR_ARG (unknown mode, n == 0).
 */
seam_err seam_nvm_fault_set(seam_nvm *nvm, seam_nvm_fault_mode mode, uint64_t n);

/* Returns the number of write points passed since the handle was opened. */
uint64_t seam_nvm_write_points(const seam_nvm *nvm);

/* What an injected fault does at the I/O call it hits (below SQLite). */
typedef enum {
    SEAM_NVM_IO_OFF = 0,       /* disarm */
    SEAM_NVM_IO_FAIL,          /* that call fails with SQLITE_IOERR; the power stays on */
    SEAM_NVM_IO_POWER_CUT,     /* that call and every later one fail; completed writes stay */
    SEAM_NVM_IO_TORN_WRITE,    /* as POWER_CUT, but a write hit writes its first half first */
    SEAM_NVM_IO_LOSE_UNSYNCED, /* as POWER_CUT, and writes not yet synced are partly lost */
    SEAM_NVM_IO_DISK_FULL,     /* from that call on, until disarmed, every write that would
                                  grow a file fails with SQLITE_FULL (ENOSPC); the power
                                  stays on */
} seam_nvm_io_fault_mode;

/*
 * Arms a fault at the n-th I/O call from now (n >= 1) that SQLite makes for
 * this handle: xWrite, xSync and xTruncate on any of its files, and xDelete.
 * For SEAM_NVM_IO_LOSE_UNSYNCED, n also seeds the choice of which unsynced
 * writes survive. A fault fires once; after a power cut the handle is
 * POWER_CUT. SEAM_NVM_IO_DISK_FULL is a state, not a single fault: the disk
 * stays full until the next call of this function (OFF: space is back).
 * Errors: SEAM_ERR_ARG, SEAM_ERR_UNSUPPORTED (in-memory image).
 */
seam_err seam_nvm_io_fault_set(seam_nvm *nvm, seam_nvm_io_fault_mode mode, uint64_t n);

/* Returns the number of I/O calls (as counted above) since the handle was opened. */
uint64_t seam_nvm_io_points(const seam_nvm *nvm);

#endif
