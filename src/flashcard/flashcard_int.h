/*
 * The flash card's private parts: the flash (flash.c), the controller's state
 * (controller.c) and its update flow (update.c).
 */
#ifndef SEAM_FLASHCARD_INT_H
#define SEAM_FLASHCARD_INT_H

#include <sqlite3.h>

#include "seam/flashcard.h"

/* ---- the flash: one SQLite file ------------------------------------------------------- */

#define FC_FLASH_PATH_MAX 600

/* The flash's power, as the VFS of flash_vfs.c sees its file (both connections). */
typedef struct {
    uint64_t commits; /* transactions that reached the file since open */
    uint64_t cut_at;  /* fault injection: the transaction number cut (0: none) */
    uint64_t tried;   /* transactions begun since the fault was armed */
    bool in_txn;      /* a transaction's WAL frames are being written */
    bool dead;        /* a cut happened: every call fails until the flash card is opened again */
} fc_power;

/* Registers the VFS (once) and the flash file at path (absolute) with its power; uri
   gets the name to open it by. Errors: SEAM_ERR_FLASHCARD_FLASH. */
seam_err fc_vfs_attach(const char *path, fc_power *power, char *uri, size_t cap);
void fc_vfs_detach(fc_power *power);

typedef struct {
    sqlite3 *db;
    fc_power power;
    char uri[FC_FLASH_PATH_MAX + 40]; /* the file's name through the VFS */
    bool attached;
} fc_flash;

/* Opens the flash at path (absolute), creating it (0600) and the controller's tables.
   f must stay where it is until fc_flash_close (the VFS points to its power). */
seam_err fc_flash_open(const char *path, fc_flash *f);
/* The name another connection (the restore store) opens the flash file by: through the
   VFS when this SQLite takes file: names everywhere, else the plain path. */
const char *fc_flash_name(const fc_flash *f, const char *path);
void fc_flash_close(fc_flash *f);
seam_err fc_flash_put_package(fc_flash *f, const seam_gp_aid *aid, uint16_t version,
                              const uint8_t *module, size_t len);
/* The stored module of package aid, checked against its digest, in a malloc'd *module.
   SEAM_ERR_FLASHCARD_NO_PACKAGE, SEAM_ERR_FLASHCARD_TAMPERED. */
seam_err fc_flash_get_package(fc_flash *f, const seam_gp_aid *aid, uint8_t **module, size_t *len);
/* Writes the LIST answer (seam_flashcard_list_next's layout) into out[0..cap). */
seam_err fc_flash_list(fc_flash *f, uint8_t *out, size_t cap, size_t *out_len, uint16_t *count);
/* The journal: the package whose update is under way (*present false: none). */
seam_err fc_flash_journal_get(fc_flash *f, bool *present, seam_gp_aid *package);
seam_err fc_flash_journal_set(fc_flash *f, const seam_gp_aid *package);
seam_err fc_flash_journal_clear(fc_flash *f);
seam_err fc_flash_digest(fc_flash *f, uint8_t digest[32]);

/* ---- the controller ------------------------------------------------------------------ */

struct seam_flashcard {
    char dir[512];
    fc_flash flash;
    seam_card *card; /* owned by link */
    seam_gp_link link;
    seam_gp *gp; /* the controller's session with the card */
    seam_perso_domain domain;
    seam_perso_store *store; /* the restore store, in the flash's file (perso's tables) */
    uint8_t cin[SEAM_FLASHCARD_CIN_MAX];
    size_t cin_len;
    uint32_t relayed; /* APDUs passed through since open */
    bool powered;     /* the card, as the host sees it (POWER frames) */
    void (*trace)(void *ctx, const uint8_t *bytes, size_t len);
    void *trace_ctx;
    char reason[SEAM_FLASHCARD_REASON_MAX];
};

/* Sets fc->reason (printf) and returns e. */
seam_err fc_refuse(seam_flashcard *fc, seam_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* FIG. 11: the controller's update of package to the version stored in flash. */
seam_err fc_update(seam_flashcard *fc, const seam_gp_aid *package);

/* The controller installs package from flash through its domain, personalized with
   perso[0..n) (P6), or restores instance from its restore store (P4). */
seam_err fc_install(seam_flashcard *fc, const seam_gp_aid *package, const seam_perso_data *perso,
                    size_t n);
seam_err fc_restore(seam_flashcard *fc, const seam_gp_aid *package, const seam_gp_aid *instance);

/* Recovery at power on: the journal and the card's upgrade status (P1 08). */
seam_err fc_recover(seam_flashcard *fc);

#endif
