/*
 * An applet instance's committed linear memory: chunks that differ from its
 * module's initial image (memory_store.h; the layouts are in schema.h, tables
 * 15 and, from earlier versions, 7).
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

#define FORMAT 1u

/* len || AID: the key prefix of every chunk (and page) of an instance. */
static size_t instance_prefix(const uint8_t *aid, size_t len, uint8_t *key) {
    key[0] = (uint8_t)len;
    memcpy(key + 1, aid, len);
    return 1 + len;
}

/* len || AID || page (2, BE): the key prefix of the chunks of one 4 KiB page (and the key
   of an earlier version's page record). */
static size_t page_prefix(const uint8_t *aid, size_t len, uint32_t page, uint8_t *key) {
    size_t n = instance_prefix(aid, len, key);
    key[n++] = (uint8_t)(page >> 8);
    key[n++] = (uint8_t)page;
    return n;
}

/* True when bytes[0..n) equal the initial image at offset (zeros past its end). */
static bool initial_equal(const store_memory *m, size_t offset, const uint8_t *bytes, size_t n) {
    size_t initial_size = (size_t)m->initial_pages * 65536u;
    size_t inside = offset >= initial_size      ? 0
                    : initial_size - offset < n ? initial_size - offset
                                                : n;
    if (inside > 0 && memcmp(bytes, m->initial + offset, inside) != 0)
        return false;
    for (size_t i = inside; i < n; i++)
        if (bytes[i] != 0)
            return false;
    return true;
}

/* Writes the initial image's bytes [offset, offset + n) to out (zeros past its end). */
static void initial_copy(const store_memory *m, size_t offset, uint8_t *out, size_t n) {
    size_t initial_size = (size_t)m->initial_pages * 65536u;
    size_t inside = offset >= initial_size      ? 0
                    : initial_size - offset < n ? initial_size - offset
                                                : n;
    if (inside > 0)
        memcpy(out, m->initial + offset, inside);
    memset(out + inside, 0, n - inside);
}

/* Where stored chunks go: a memory of size bytes at base, whose byte 0 is memory offset
   `start`; keys are prefix_len bytes of prefix, then `tail` bytes of position. */
typedef struct {
    uint8_t *base;
    size_t start, size;
    size_t prefix_len; /* key bytes before the page number (or before the chunk, for one page) */
    uint32_t page;     /* the page, when the walk covers one page */
    bool one_page;
} chunk_walk;

/* Lays a stored chunk over the walk's memory (seam_nvm_foreach callback). */
static int lay_chunk(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len) {
    chunk_walk *w = ctx;
    size_t tail = w->one_page ? 1 : 3;
    if (key_len != w->prefix_len + tail || value_len != 1 + STORE_CHUNK_SIZE || value[0] != FORMAT)
        return SEAM_ERR_NVM_CORRUPT;
    uint32_t page =
        w->one_page ? w->page : (uint32_t)key[w->prefix_len] << 8 | key[w->prefix_len + 1];
    uint8_t chunk = key[key_len - 1];
    size_t offset = (size_t)page * STORE_PAGE_SIZE + (size_t)chunk * STORE_CHUNK_SIZE;
    if (chunk >= STORE_CHUNKS_PER_PAGE || offset < w->start ||
        offset - w->start + STORE_CHUNK_SIZE > w->size)
        return SEAM_ERR_NVM_CORRUPT;
    memcpy(w->base + (offset - w->start), value + 1, STORE_CHUNK_SIZE);
    return 0;
}

seam_err store_memory_overlay(seam_nvm *nvm, const uint8_t *aid, size_t len, uint8_t *memory,
                              size_t size) {
    uint8_t prefix[1 + REGISTRY_AID_MAX];
    chunk_walk w = {.base = memory, .start = 0, .size = size};
    w.prefix_len = instance_prefix(aid, len, prefix);
    return seam_nvm_foreach(nvm, STORE_CHUNK, prefix, w.prefix_len, lay_chunk, &w);
}

seam_err store_memory_read(seam_nvm *nvm, const store_memory *m, uint32_t pages, uint8_t **out) {
    size_t size = (size_t)pages * 65536u;
    uint8_t *image = malloc(size ? size : 1);
    seam_err e = image ? SEAM_OK : SEAM_ERR_NOMEM;
    *out = NULL;
    if (e)
        return e;
    initial_copy(m, 0, image, size);
    e = store_memory_overlay(nvm, m->aid, m->aid_len, image, size);
    if (e)
        free(image);
    else
        *out = image;
    return e;
}

/* Puts chunk `chunk` of page `page` from memory, or deletes it when it is back to the
   initial image. */
static seam_err chunk_write(seam_nvm *nvm, const store_memory *m, uint32_t page, unsigned chunk,
                            const uint8_t *memory) {
    uint8_t key[1 + REGISTRY_AID_MAX + 3], value[1 + STORE_CHUNK_SIZE];
    size_t n = page_prefix(m->aid, m->aid_len, page, key);
    size_t offset = (size_t)page * STORE_PAGE_SIZE + (size_t)chunk * STORE_CHUNK_SIZE;
    seam_err e;
    key[n++] = (uint8_t)chunk;
    if (initial_equal(m, offset, memory + offset, STORE_CHUNK_SIZE)) {
        e = seam_nvm_delete(nvm, STORE_CHUNK, key, n);
        return e == SEAM_ERR_NOT_FOUND ? SEAM_OK : e; /* it was not stored */
    }
    value[0] = FORMAT;
    memcpy(value + 1, memory + offset, STORE_CHUNK_SIZE);
    return seam_nvm_put(nvm, STORE_CHUNK, key, n, value, sizeof value);
}

/* True when chunk `chunk` of page `page` lies entirely inside the stack. */
static bool in_stack(const store_memory *m, uint32_t page, unsigned chunk) {
    return (size_t)page * STORE_PAGE_SIZE + (size_t)(chunk + 1) * STORE_CHUNK_SIZE <= m->stack_end;
}

seam_err store_memory_commit_page(seam_nvm *nvm, const store_memory *m, uint32_t page,
                                  const uint8_t *memory) {
    uint8_t prefix[1 + REGISTRY_AID_MAX + 2], committed[STORE_PAGE_SIZE];
    size_t start = (size_t)page * STORE_PAGE_SIZE;
    chunk_walk w = {.base = committed, .start = start, .size = sizeof committed, .page = page};
    w.one_page = true;
    w.prefix_len = page_prefix(m->aid, m->aid_len, page, prefix);
    initial_copy(m, start, committed, sizeof committed);
    seam_err e = seam_nvm_foreach(nvm, STORE_CHUNK, prefix, w.prefix_len, lay_chunk, &w);
    for (unsigned chunk = 0; !e && chunk < STORE_CHUNKS_PER_PAGE; chunk++) {
        size_t at = (size_t)chunk * STORE_CHUNK_SIZE;
        if (in_stack(m, page, chunk) ||
            memcmp(memory + start + at, committed + at, STORE_CHUNK_SIZE) == 0)
            continue;
        e = chunk_write(nvm, m, page, chunk, memory);
    }
    return e;
}

seam_err store_memory_write(seam_nvm *nvm, const store_memory *m, const uint8_t *memory,
                            uint32_t pages) {
    seam_err e = SEAM_OK;
    uint32_t count = pages * (65536u / STORE_PAGE_SIZE);
    for (uint32_t page = 0; !e && page < count; page++) {
        for (unsigned chunk = 0; !e && chunk < STORE_CHUNKS_PER_PAGE; chunk++) {
            size_t offset = (size_t)page * STORE_PAGE_SIZE + (size_t)chunk * STORE_CHUNK_SIZE;
            if (!in_stack(m, page, chunk) &&
                !initial_equal(m, offset, memory + offset, STORE_CHUNK_SIZE))
                e = chunk_write(nvm, m, page, chunk, memory);
        }
    }
    return e;
}

seam_err store_memory_delete(seam_nvm *nvm, const uint8_t *aid, size_t len) {
    uint8_t prefix[1 + REGISTRY_AID_MAX];
    size_t n = instance_prefix(aid, len, prefix);
    seam_err e = seam_nvm_delete_prefix(nvm, STORE_CHUNK, prefix, n, NULL);
    if (!e)
        e = seam_nvm_delete_prefix(nvm, STORE_PAGE, prefix, n, NULL);
    return e;
}

/* ---- pages written by earlier versions --------------------------------------------- */

seam_err store_memory_next_paged(seam_nvm *nvm, uint8_t aid[REGISTRY_AID_MAX], size_t *len) {
    uint8_t after[1 + REGISTRY_AID_MAX], key[SEAM_NVM_KEY_MAX];
    size_t after_len = *len ? instance_prefix(aid, *len, after) : 0, key_len = 0, value_len = 0;
    seam_nvm_cursor cur;
    seam_err e = seam_nvm_cursor_init(&cur, STORE_PAGE, NULL, 0);
    while (!e) {
        e = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, NULL, 0, &value_len);
        if (e)
            break;
        if (key_len < 1 || key[0] == 0 || key[0] > REGISTRY_AID_MAX || key_len != 1u + key[0] + 2)
            return SEAM_ERR_NVM_CORRUPT;
        size_t prefix_len = 1u + key[0];
        int order = memcmp(key, after, prefix_len < after_len ? prefix_len : after_len);
        if (after_len == 0 || order > 0 || (order == 0 && prefix_len > after_len)) {
            *len = key[0];
            memcpy(aid, key + 1, *len);
            break;
        }
    }
    return e;
}

seam_err store_memory_read_pages(seam_nvm *nvm, const uint8_t *aid, size_t len, uint32_t pages,
                                 uint8_t **out) {
    size_t size = (size_t)pages * 65536u;
    uint8_t prefix[1 + REGISTRY_AID_MAX], key[SEAM_NVM_KEY_MAX];
    uint8_t value[1 + STORE_PAGE_SIZE];
    size_t prefix_len = instance_prefix(aid, len, prefix), key_len = 0, value_len = 0;
    seam_nvm_cursor cur;
    uint8_t *image = calloc(size ? size : 1, 1);
    seam_err e =
        image ? seam_nvm_cursor_init(&cur, STORE_PAGE, prefix, prefix_len) : SEAM_ERR_NOMEM;
    while (!e) {
        e = seam_nvm_cursor_next(nvm, &cur, key, sizeof key, &key_len, value, sizeof value,
                                 &value_len);
        if (e)
            break;
        if (key_len != prefix_len + 2 || value_len != sizeof value || value[0] != FORMAT) {
            e = SEAM_ERR_NVM_CORRUPT;
            break;
        }
        size_t page = (size_t)key[prefix_len] << 8 | key[prefix_len + 1];
        if ((page + 1) * STORE_PAGE_SIZE > size) {
            e = SEAM_ERR_NVM_CORRUPT;
            break;
        }
        memcpy(image + page * STORE_PAGE_SIZE, value + 1, STORE_PAGE_SIZE);
    }
    if (e == SEAM_ERR_NOT_FOUND || e == SEAM_ERR_BUFFER_SMALL)
        e = e == SEAM_ERR_NOT_FOUND ? SEAM_OK : SEAM_ERR_NVM_CORRUPT;
    if (e) {
        free(image);
        image = NULL;
    }
    *out = image;
    return e;
}

seam_err store_memory_delete_pages(seam_nvm *nvm, const uint8_t *aid, size_t len) {
    uint8_t prefix[1 + REGISTRY_AID_MAX];
    return seam_nvm_delete_prefix(nvm, STORE_PAGE, prefix, instance_prefix(aid, len, prefix), NULL);
}
