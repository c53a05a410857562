/*
 * flashcard: a secure flash card (P12; docs/flashcard.md). A folder holds the
 * flash card: its flash (flash.db, one SQLite file: the stored packages, the
 * controller's journal and the perso layer's restore store), the card behind the
 * controller (card.db, a seam card image reached through link's in-process
 * link) and the controller's own security domain key file (domain.keys, mode
 * 0600, seam/perso.h's format).
 *
 * The terminal talks to the flash card through the *host interface*: frames
 * `tag (1) || length (4, big-endian) || value`, one answer frame per command
 * frame. Controller commands store a package, list the packages, run an
 * update, an install or a restore (the perso layer's flows, the restore store
 * in the flash), give the status; APDU frames pass through to the card unchanged
 * (FIG. 12), and the controller only counts them. The controller drives the
 * update itself through its domain at SCP03 level 33 (FIG. 11) and keeps a
 * journal in its flash, so that powering the flash card on again after a cut
 * resumes or rolls the update back.
 *
 * The codec functions never allocate and never read past their input.
 * Uses util, crypto, gp, link, perso (and card through link's opener).
 */
#ifndef SEAM_FLASHCARD_H
#define SEAM_FLASHCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/card.h"
#include "seam/errors.h"
#include "seam/gp.h"
#include "seam/perso.h"

#define SEAM_FLASHCARD_HEADER_LEN 5u                /* tag, 4-byte length */
#define SEAM_FLASHCARD_VALUE_MAX  ((size_t)1 << 20) /* longest frame value accepted */
#define SEAM_FLASHCARD_CIN_MAX    16u
#define SEAM_FLASHCARD_REASON_MAX 160u

/* ---- the host protocol ------------------------------------------------------------- */

/* Command frame tags (terminal -> flash card). */
enum {
    SEAM_FLASHCARD_CMD_POWER = 0x01,  /* value 01 on (answer: the ATR) | 00 off */
    SEAM_FLASHCARD_CMD_APDU = 0x02,   /* value: a command APDU; answer: response || SW */
    SEAM_FLASHCARD_CMD_STORE = 0x10,  /* value: cin_len (1) || CIN || package module */
    SEAM_FLASHCARD_CMD_LIST = 0x11,   /* empty; answer: the stored packages */
    SEAM_FLASHCARD_CMD_UPDATE = 0x12, /* value: aid_len (1) || package AID */
    SEAM_FLASHCARD_CMD_STATUS = 0x13, /* empty; answer: the controller's status */
    SEAM_FLASHCARD_CMD_INSTALL =
        0x14, /* value: package AID (LV) || {instance (LV) || data (LV)}* */
    SEAM_FLASHCARD_CMD_RESTORE = 0x15, /* value: package AID (LV) || instance AID (LV) */
};

#define SEAM_FLASHCARD_PERSO_MAX 16u /* instances personalized by one INSTALL */

/* Answer frame tags (flash card -> terminal). */
enum {
    SEAM_FLASHCARD_ANSWER_DONE = 0x00,    /* value: the command's answer */
    SEAM_FLASHCARD_ANSWER_REFUSED = 0x01, /* value: error (2, -seam_err) || reason (text) */
};

/* One frame; value points into the bytes it was decoded from. */
typedef struct {
    uint8_t tag;
    const uint8_t *value;
    size_t len;
} seam_flashcard_frame;

/* Decodes the frame at the start of in[0..in_len) into *out; *used gets the bytes it
   takes. Errors: SEAM_ERR_TRUNCATED (the input ends first), SEAM_ERR_FLASHCARD_FRAME (a
   length above SEAM_FLASHCARD_VALUE_MAX); outputs unchanged on error. */
seam_err seam_flashcard_frame_decode(const uint8_t *in, size_t in_len, seam_flashcard_frame *out,
                                     size_t *used);

/* Writes frame (tag, value[0..len)) into out[0..cap). SEAM_ERR_BUFFER_SMALL (size in
 *out_len), SEAM_ERR_FLASHCARD_FRAME (len too long). value may overlap out. */
seam_err seam_flashcard_frame_encode(uint8_t tag, const uint8_t *value, size_t len, uint8_t *out,
                                     size_t cap, size_t *out_len);

/* Splits a STORE value: the CIN it names and the module. SEAM_ERR_FLASHCARD_FRAME. */
seam_err seam_flashcard_store_decode(const uint8_t *value, size_t len, const uint8_t **cin,
                                     size_t *cin_len, const uint8_t **module, size_t *module_len);

/* Reads an UPDATE value's package AID (5..16 bytes). SEAM_ERR_FLASHCARD_FRAME. */
seam_err seam_flashcard_aid_decode(const uint8_t *value, size_t len, seam_gp_aid *out);

/* Splits an INSTALL value: the package AID and up to SEAM_FLASHCARD_PERSO_MAX
   personalization entries (instance AID, 1..255 data bytes pointing into value) into
   perso[0..*n). SEAM_ERR_FLASHCARD_FRAME. */
seam_err seam_flashcard_install_decode(const uint8_t *value, size_t len, seam_gp_aid *package,
                                       seam_perso_data perso[SEAM_FLASHCARD_PERSO_MAX], size_t *n);

/* Splits a RESTORE value: the package AID and the instance AID. SEAM_ERR_FLASHCARD_FRAME. */
seam_err seam_flashcard_restore_decode(const uint8_t *value, size_t len, seam_gp_aid *package,
                                       seam_gp_aid *instance);

/* One package of a LIST answer: `aid_len || aid || version (2) || size (4)` each. */
typedef struct {
    seam_gp_aid aid;
    uint16_t version;
    uint32_t size;
} seam_flashcard_package;

/* Decodes the next package of a LIST answer at value[*pos..len), advancing *pos.
   SEAM_ERR_NOT_FOUND at the end, SEAM_ERR_FLASHCARD_FRAME. */
seam_err seam_flashcard_list_next(const uint8_t *value, size_t len, size_t *pos,
                                  seam_flashcard_package *out);

/* The STATUS answer: `cin_len || CIN || journal (1: 0 idle, 1 update under way) ||
   packages (2) || relayed APDUs (4)`. */
typedef struct {
    uint8_t cin[SEAM_FLASHCARD_CIN_MAX];
    size_t cin_len;
    bool journal;
    uint16_t packages;
    uint32_t relayed;
} seam_flashcard_status;

/* Decodes a STATUS answer. SEAM_ERR_FLASHCARD_FRAME; *out unchanged on error. */
seam_err seam_flashcard_status_decode(const uint8_t *value, size_t len, seam_flashcard_status *out);

/* ---- the flash card ---------------------------------------------------------------- */

typedef struct seam_flashcard seam_flashcard;

/* The factory: makes folder dir (0700) with a new card image, installs the controller's
   domain domain_aid on it with the ISD's default test keys (SSD, privileges 80 C0 00:
   Authorized Management), hands its key set over (PUT KEY, random AES-128 keys as KVN
   30) and writes domain.keys (0600). Errors: SEAM_ERR_IO (dir exists), the card's, gp's,
   SEAM_ERR_FLASHCARD_REFUSED (the card refused a step). */
seam_err seam_flashcard_new(const char *dir, const seam_gp_aid *domain_aid);

/* Powers the flash card in dir on: opens its flash (creating its tables), its card and
   its domain key file, reads the card's CIN, and runs the controller's recovery (an
   update the journal says was under way is resumed or rolled back). Errors: SEAM_ERR_IO,
   SEAM_ERR_FLASHCARD_FLASH, the card's, perso's key file errors, SEAM_ERR_FLASHCARD_REFUSED
   (recovery failed: nothing changed, the journal stays). */
seam_err seam_flashcard_open(const char *dir, seam_flashcard **out);

/* Powers the flash card off: closes card and flash. NULL is allowed. */
void seam_flashcard_close(seam_flashcard *fc);

/* Serves one host command frame in[0..in_len): writes the answer frame to out[0..cap).
   A refusal is an answer (ANSWER_REFUSED) and SEAM_OK. Errors: SEAM_ERR_BUFFER_SMALL,
   SEAM_ERR_FLASHCARD_POWER_CUT (a fault cut the power: close and open again). */
seam_err seam_flashcard_host(seam_flashcard *fc, const uint8_t *in, size_t in_len, uint8_t *out,
                             size_t cap, size_t *out_len);

/* Fills *out with a link to the card that goes through fc's host interface (POWER and
   APDU frames): what a terminal holding the flash card uses (FIG. 12). fc must outlive
   it; closing it leaves fc open. Errors: SEAM_ERR_NOMEM. */
seam_err seam_flashcard_host_link(seam_flashcard *fc, seam_gp_link *out);

/* Sets (or with NULL removes) a function that sees every byte the controller relays
   between host and card (both directions). */
void seam_flashcard_set_relay_trace(seam_flashcard *fc,
                                    void (*fn)(void *ctx, const uint8_t *bytes, size_t len),
                                    void *ctx);

/* The card behind the controller (fault injection and state checks in tests). */
seam_card *seam_flashcard_card(seam_flashcard *fc);

/* The reason of the last refusal, in words ("" if none). */
const char *seam_flashcard_reason(const seam_flashcard *fc);

/* A SHA-256 digest of every row of the flash: what "changes nothing" compares. */
seam_err seam_flashcard_flash_digest(seam_flashcard *fc, uint8_t digest[32]);

/* Fault injection: the n-th flash transaction from now (1 = the next) is cut before it
   commits, and the flash card is dead until opened again; 0 disarms. */
void seam_flashcard_flash_fault(seam_flashcard *fc, uint64_t n);

/* Flash transactions committed since open (the write points of the flash). */
uint64_t seam_flashcard_flash_writes(const seam_flashcard *fc);

#endif
