/*
 * The storage key of a card image: created with the image, read at every
 * open. The key file holds the key as 64 upper-case hex digits and a newline,
 * so it can be printed, backed up and restored by hand. Its default place is
 * beside the image, "<image>.key"; $SEAM_CARD_KEY_FILE names another file for
 * seam_card_open (the key moved apart from the image). docs/card.md says what
 * this protects against and what it does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "storage_key.h"

#define KEY_SUFFIX   ".key"
#define KEY_HEX_SIZE (2 * SEAM_NVM_STORAGE_KEY_SIZE)

seam_err seam_card_key_file(const char *path, char *out, size_t out_size) {
    if (!path || !*path || !out)
        return SEAM_ERR_ARG;
    const char *chosen = getenv("SEAM_CARD_KEY_FILE");
    int len = chosen && *chosen ? snprintf(out, out_size, "%s", chosen)
                                : snprintf(out, out_size, "%s" KEY_SUFFIX, path);
    return len > 0 && (size_t)len < out_size ? SEAM_OK : SEAM_ERR_BUFFER_SMALL;
}

/* Makes the new directory entry of path durable: fsync of its folder. Best effort, as
   SQLite's own directory syncs: some file systems cannot sync a directory. */
static void sync_folder(const char *path) {
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fsync(fd) != 0) {
        /* nothing more to do: the file itself is synced */
    }
    if (fd >= 0)
        close(fd);
}

seam_err storage_key_create(const char *image, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE],
                            char *key_path, size_t size) {
    char text[KEY_HEX_SIZE + 2];
    size_t text_len = 0;
    bool created = false;
    int fd = -1;
    seam_err e = SEAM_OK;
    if (!image || !*image || snprintf(key_path, size, "%s" KEY_SUFFIX, image) >= (int)size) {
        e = SEAM_ERR_ARG;
        goto done;
    }
    e = seam_crypto_random_fresh(key, SEAM_NVM_STORAGE_KEY_SIZE);
    if (!e)
        e = seam_hex_encode(key, SEAM_NVM_STORAGE_KEY_SIZE, text, sizeof text, &text_len);
    if (e)
        goto done;
    text[text_len++] = '\n';
    /* O_EXCL: an existing key file may be the only key of another image; O_NOFOLLOW: a
       planted link must not send the key elsewhere. */
    fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno == EEXIST || errno == ELOOP ? SEAM_ERR_CARD_KEY_EXISTS : SEAM_ERR_IO;
        goto done;
    }
    created = true;
    /* Without its key the image is lost: the key reaches the disk before the image exists. */
    if (write(fd, text, text_len) != (ssize_t)text_len || fsync(fd) != 0)
        e = SEAM_ERR_IO;
    else
        sync_folder(key_path);
done:
    if (fd >= 0)
        close(fd);
    if (e && created)
        unlink(key_path);
    if (e)
        seam_secure_zero(key, SEAM_NVM_STORAGE_KEY_SIZE);
    seam_secure_zero(text, sizeof text);
    return e;
}

seam_err storage_key_load(const char *image, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE]) {
    char path[4096], text[KEY_HEX_SIZE + 3];
    size_t key_len = 0;
    ssize_t got = -1;
    int fd = -1;
    struct stat st;
    seam_err e = SEAM_OK;
    if (!image || !*image) {
        e = SEAM_ERR_ARG;
        goto done;
    }
    /* The image first: a missing image is not a key problem. */
    if (stat(image, &st) != 0) {
        e = errno == ENOENT ? SEAM_ERR_NOT_FOUND : SEAM_ERR_IO;
        goto done;
    }
    e = seam_card_key_file(image, path, sizeof path);
    if (e) {
        e = SEAM_ERR_ARG;
        goto done;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        got = read(fd, text, sizeof text); /* one byte more than a key file holds */
    /* exactly 64 hex digits, and a newline or not */
    size_t digits =
        got > 0 && text[got - 1] == '\n' ? (size_t)got - 1 : (size_t)(got < 0 ? 0 : got);
    if (got < 0 || digits != KEY_HEX_SIZE ||
        seam_hex_decode(text, digits, key, SEAM_NVM_STORAGE_KEY_SIZE, &key_len) != SEAM_OK ||
        key_len != SEAM_NVM_STORAGE_KEY_SIZE)
        e = SEAM_ERR_CARD_KEY_FILE;
done:
    if (fd >= 0)
        close(fd);
    if (e)
        seam_secure_zero(key, SEAM_NVM_STORAGE_KEY_SIZE);
    seam_secure_zero(text, sizeof text);
    return e;
}

seam_err seam_card_remove(const char *path) {
    char key[4096];
    seam_err e = seam_nvm_remove(path);
    if (!e && snprintf(key, sizeof key, "%s" KEY_SUFFIX, path) >= (int)sizeof key)
        e = SEAM_ERR_ARG;
    if (!e && unlink(key) != 0 && errno != ENOENT)
        e = SEAM_ERR_IO;
    return e;
}
