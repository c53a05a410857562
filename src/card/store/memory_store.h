/*
 * An applet instance's committed linear memory in the card image; internal to
 * the card layer. The memory is kept as what differs from its module's
 * initial image (the data segments over zeros, seam_applet_initial_image):
 * chunks of STORE_CHUNK_SIZE bytes (table STORE_CHUNK, schema.h); an absent
 * chunk holds the initial image's bytes, and chunks entirely inside the
 * shadow stack are never stored. A command that changes a few bytes puts the
 * one or two chunks around them, not a 4 KiB page.
 *
 * Images written by earlier versions kept whole 4 KiB pages over zeros
 * (table STORE_PAGE); store_memory_read_pages reads them, once, so that the
 * card can store them as chunks (instance.c, at power-up).
 */
#ifndef SEAM_CARD_MEMORY_STORE_H
#define SEAM_CARD_MEMORY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "schema.h"

/* Chunks in one 4 KiB page (the wasm engine's dirty-page unit). */
#define STORE_CHUNKS_PER_PAGE (STORE_PAGE_SIZE / STORE_CHUNK_SIZE)

/* An instance's memory as the store sees it: whose it is, and what it differs from. */
typedef struct {
    const uint8_t *aid; /* the instance */
    size_t aid_len;
    const uint8_t *initial; /* its module's initial image: initial_pages 64 KiB pages */
    uint32_t initial_pages;
    uint32_t stack_end; /* chunks entirely below it are never stored */
} store_memory;

/*
 * Reads the committed memory of m's instance, pages 64 KiB pages, into a
 * malloc'd *out (the caller's): the initial image (zeros past it) with the
 * stored chunks over it. Errors: SEAM_ERR_NVM_CORRUPT (a chunk that does not
 * fit the layout or the memory), SEAM_ERR_NOMEM, nvm errors.
 */
seam_err store_memory_read(seam_nvm *nvm, const store_memory *m, uint32_t pages, uint8_t **out);

/* Writes the stored chunks of instance aid over memory[0..size) (which holds the
   initial image). Errors: as store_memory_read. */
seam_err store_memory_overlay(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t *memory,
                              size_t size);

/*
 * Commits 4 KiB page `page` of memory (the instance's whole linear memory):
 * compares each of its chunks with the committed one (the stored chunk or the
 * initial image) and puts those that changed, or deletes them when they are
 * back to the initial image. Inside a transaction. Errors: SEAM_ERR_NVM_CORRUPT,
 * nvm errors.
 */
seam_err store_memory_commit_page(seam_nvm *nvm, const store_memory *m, uint32_t page,
                                  const uint8_t *memory);

/* Stores the memory of a new instance (pages 64 KiB pages): every chunk outside the
   stack that differs from the initial image. Inside a transaction. Errors: nvm errors. */
seam_err store_memory_write(seam_nvm *nvm, const store_memory *m, const uint8_t *memory,
                            uint32_t pages);

/* Deletes an instance's memory, chunks and earlier versions' pages (inside a
   transaction). Errors: nvm errors. */
seam_err store_memory_delete(seam_nvm *nvm, const uint8_t *aid, size_t len);

/*
 * Finds the first instance whose memory an earlier version stored in pages,
 * at or after aid[0..*len) in AID order (*len 0: from the start); sets aid and
 * *len to it. Errors: SEAM_ERR_NOT_FOUND (none left), SEAM_ERR_NVM_CORRUPT, nvm
 * errors.
 */
seam_err store_memory_next_paged(seam_nvm *nvm, uint8_t aid[REGISTRY_AID_MAX], size_t *len);

/* Reads an instance's memory as an earlier version stored it (pages over zeros) into a
   malloc'd *out of pages 64 KiB pages. Errors: as store_memory_read. */
seam_err store_memory_read_pages(seam_nvm *nvm, const uint8_t *aid, size_t len, uint32_t pages,
                                 uint8_t **out);

/* Deletes the pages an earlier version stored for an instance (inside a transaction). */
seam_err store_memory_delete_pages(seam_nvm *nvm, const uint8_t *aid, size_t len);

#endif
