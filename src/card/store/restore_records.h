/*
 * The restore module's records (restore_records.c; docs/restore-module.md):
 * per application identity (SD AID, instance AID), the personalization
 * blocks the instance received and its named application data entries, kept
 * independently of every package and instance. Internal to the card layer.
 * Tables RESTORE_RECORD, RESTORE_PERSO and RESTORE_ENTRY and their layouts
 * are in schema.h. Every function works inside the caller's nvm transaction.
 *
 * A record belongs to its SD (docs/restore-module.md, "Ownership"): every
 * key of an SD's records starts with len(SD AID) || SD AID, so one prefix
 * finds them all. Each SD holds at most RESTORE_DOMAIN_RECORDS_MAX records
 * costing at most RESTORE_DOMAIN_BYTES_MAX bytes of the nvm (keys, values
 * and SEAM_NVM_RECORD_OVERHEAD per row); every function that makes an SD's
 * records grow checks it and answers SEAM_RESTORE_ERR_QUOTA, writing
 * nothing, when it would be passed.
 */
#ifndef SEAM_CARD_RESTORE_H
#define SEAM_CARD_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/applet/applet_runtime.h"
#include "registry.h"
#include "schema.h"
#include "seam/nvm.h"
#include "seam/util.h"

#define RESTORE_ID_MAX             (2u + 2u * REGISTRY_AID_MAX)
#define RESTORE_DOMAIN_RECORDS_MAX 32u           /* records of one SD */
#define RESTORE_DOMAIN_BYTES_MAX   (64u * 1024u) /* nvm bytes of one SD's records */
#define RESTORE_BLOCK_MAX          255u          /* data bytes in one personalization block */

/* The BER-TLV of personalization blocks and application data entries on the
   external interface (DGIs 7F70 / 7F71, the export, a package's seam.perso). */
#define RESTORE_TAG_BLOCK 0xE2u /* one personalization block: P1 || data */
#define RESTORE_TAG_ENTRY 0xE1u /* one entry: 80 name, 81 value */
#define RESTORE_TAG_NAME  0x80u
#define RESTORE_TAG_VALUE 0x81u

/* True when d[0..n) is a sequence (maybe empty) of E2 blocks of 1..256 bytes (P1 and
   at most 255 data bytes). Reads nothing past n, allocates nothing. */
bool restore_blocks_valid(const uint8_t *d, size_t n);
/* Splits entry (an E1 TLV) into its 80 name (1..16 bytes) and 81 value, which must
   fill it exactly; false when malformed. name and value point into entry's value. */
bool restore_entry_split(const seam_tlv *entry, seam_tlv *name, seam_tlv *value);
/* True when d[0..n) is a sequence (maybe empty) of entries restore_entry_split takes. */
bool restore_entries_valid(const uint8_t *d, size_t n);

/* An application identity, as a key prefix. */
typedef struct {
    uint8_t bytes[RESTORE_ID_MAX];
    size_t len;
} restore_identity;

/* A record bound to an applet: what the runtime's callbacks reach. It must
   stay where it is (the applet keeps a pointer) while the applet lives. */
typedef struct {
    seam_nvm *nvm;
    restore_identity id;
} restore_binding;

/* Makes the identity of instance aid in SD sd (both 1..16 bytes). */
void restore_identity_make(restore_identity *id, const uint8_t *sd, size_t sd_len,
                           const uint8_t *aid, size_t aid_len);

/* True in *exists when the identity has a record. Errors: nvm errors. */
seam_err restore_record_exists(seam_nvm *nvm, const restore_identity *id, bool *exists);
/* Reads only the header of id's record: *used, the bytes its blocks (P1 + data) and
   entries (name + value) hold, what its quota counts. Errors: SEAM_ERR_NOT_FOUND,
   SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err restore_record_size(seam_nvm *nvm, const restore_identity *id, uint16_t *used);
/* Creates an empty record unless there is one; *result 0 or SEAM_RESTORE_ERR_QUOTA (the
   SD's quota; nothing written). Errors: nvm errors. */
seam_err restore_record_ensure(seam_nvm *nvm, const restore_identity *id, int32_t *result);
/* Deletes a record with its blocks and entries. Errors: SEAM_ERR_NOT_FOUND, nvm errors. */
seam_err restore_record_delete(seam_nvm *nvm, const restore_identity *id);
/* Deletes every record of SD sd (1..16 bytes) with their blocks and entries; writes
   nothing when it has none. Errors: nvm errors. */
seam_err restore_domain_delete(seam_nvm *nvm, const uint8_t *sd, size_t sd_len);
/*
 * Moves the record of identity from (if there is one) to identity to, the same instance
 * under another SD, which must have none (the caller checks): *result 0, or
 * SEAM_RESTORE_ERR_QUOTA when to's SD has no room for it (nothing written).
 * Errors: nvm errors.
 */
seam_err restore_record_move(seam_nvm *nvm, const restore_identity *from,
                             const restore_identity *to, int32_t *result);

/* Appends a personalization block (creating the record if needed); *result 0 or
   SEAM_RESTORE_ERR_QUOTA (the record's or the SD's quota; nothing written). Errors: nvm. */
seam_err restore_perso_append(seam_nvm *nvm, const restore_identity *id, uint8_t p1,
                              const uint8_t *data, size_t len, int32_t *result);
/* Deletes every personalization block of the record (the entries stay); nothing when
   there is no record. Errors: SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err restore_perso_clear(seam_nvm *nvm, const restore_identity *id);

/* The personalization blocks of a record, read out in order: count blocks,
   block i is p1[i] with data + offset[i], length len[i]. Free with
   restore_blocks_free. */
typedef struct {
    size_t count;
    uint8_t *p1;
    size_t *offset, *len;
    uint8_t *data;
} restore_blocks;
/* Reads the blocks into *out (caller frees). Errors: SEAM_ERR_NVM_CORRUPT, nvm errors. */
seam_err restore_blocks_read(seam_nvm *nvm, const restore_identity *id, restore_blocks *out);
/* Frees what restore_blocks_read allocated; a zeroed struct is fine. */
void restore_blocks_free(restore_blocks *blocks);

/* Sets entry name (1..16 bytes) to value[0..len) (len 0 deletes it; a record is created
   only for a value); *result 0 or SEAM_RESTORE_ERR_QUOTA (the record's or the SD's
   quota; nothing written). Errors: nvm errors. */
seam_err restore_entry_put(seam_nvm *nvm, const restore_identity *id, const uint8_t *name,
                           size_t name_len, const uint8_t *value, size_t len, int32_t *result);
/* Reads entry name into out[0..cap) (as much as fits), *len its whole length;
 *result 0 or SEAM_RESTORE_ERR_ABSENT. Errors: nvm errors. */
seam_err restore_entry_get(seam_nvm *nvm, const restore_identity *id, const uint8_t *name,
                           size_t name_len, uint8_t *out, size_t cap, size_t *len, int32_t *result);
/* Calls visit(ctx, name, name_len, value, len) for every entry, in name order;
   a non-zero return stops the walk. Errors: nvm errors. */
seam_err restore_entry_foreach(seam_nvm *nvm, const restore_identity *id,
                               int (*visit)(void *ctx, const uint8_t *name, size_t name_len,
                                            const uint8_t *value, size_t len),
                               void *ctx);

/* Fills *out with the callbacks that reach b's record (for seam_applet_options). */
void restore_host(restore_binding *b, uint32_t previous_version, seam_applet_restore_host *out);

/* Binds the record of b->id to applet (its host functions then reach it);
   previous_version as seam_upgrade_previous_version answers. */
void restore_bind(seam_applet *applet, restore_binding *b, uint32_t previous_version);

#endif
