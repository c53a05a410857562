/* Helpers for the nvm tests; see nvm_test.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvm_test.h"

int scratch_setup(void **state) {
    scratch *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    const char *base = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/seam-nvm-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

int scratch_teardown(void **state) {
    scratch *s = *state;
    DIR *dir = opendir(s->dir);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
                char path[600];
                snprintf(path, sizeof path, "%s/%s", s->dir, entry->d_name);
                if (unlink(path) != 0)
                    rmdir(path);
            }
        }
        closedir(dir);
    }
    int rc = rmdir(s->dir);
    free(s);
    return rc;
}

const char *scratch_path(scratch *s, const char *name) {
    snprintf(s->path, sizeof s->path, "%s/%s", s->dir, name);
    return s->path;
}

uint8_t *read_file(const char *path, size_t *len) {
    uint8_t *bytes = NULL;
    struct stat st;
    FILE *file = NULL;
    *len = 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        goto done;
    file = fopen(path, "rb");
    bytes = file ? malloc((size_t)st.st_size + 1) : NULL;
    if (bytes && fread(bytes, 1, (size_t)st.st_size, file) == (size_t)st.st_size) {
        *len = (size_t)st.st_size;
    } else {
        free(bytes);
        bytes = NULL;
    }
done:
    if (file)
        fclose(file);
    return bytes;
}

void write_file(const char *path, const void *bytes, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (len > 0 && write(fd, bytes, len) != (ssize_t)len)
        abort();
    close(fd);
}

void copy_file(const char *from, const char *to) {
    size_t len = 0;
    uint8_t *bytes = read_file(from, &len);
    if (!bytes)
        abort();
    write_file(to, bytes, len);
    free(bytes);
}

bool file_has_content(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

seam_err put_str(seam_nvm *nvm, uint16_t table, const char *key, const char *value) {
    return seam_nvm_put(nvm, table, (const uint8_t *)key, strlen(key), (const uint8_t *)value,
                        strlen(value));
}

seam_err get_str(seam_nvm *nvm, uint16_t table, const char *key, char *out, size_t size) {
    size_t len = 0;
    seam_err err = seam_nvm_get(nvm, table, (const uint8_t *)key, strlen(key), (uint8_t *)out,
                                size > 0 ? size - 1 : 0, &len);
    if (err == SEAM_OK && size > 0)
        out[len] = '\0';
    return err;
}

const char *err_name(seam_err err) {
    switch (err) {
    case SEAM_OK:
        return "SEAM_OK";
    case SEAM_ERR_ARG:
        return "SEAM_ERR_ARG";
    case SEAM_ERR_NOMEM:
        return "SEAM_ERR_NOMEM";
    case SEAM_ERR_BUFFER_SMALL:
        return "SEAM_ERR_BUFFER_SMALL";
    case SEAM_ERR_IO:
        return "SEAM_ERR_IO";
    case SEAM_ERR_NOT_FOUND:
        return "SEAM_ERR_NOT_FOUND";
    case SEAM_ERR_UNSUPPORTED:
        return "SEAM_ERR_UNSUPPORTED";
    case SEAM_ERR_NVM:
        return "SEAM_ERR_NVM";
    case SEAM_ERR_NVM_FULL:
        return "SEAM_ERR_NVM_FULL";
    case SEAM_ERR_NVM_POWER_CUT:
        return "SEAM_ERR_NVM_POWER_CUT";
    case SEAM_ERR_NVM_STATE:
        return "SEAM_ERR_NVM_STATE";
    case SEAM_ERR_NVM_CORRUPT:
        return "SEAM_ERR_NVM_CORRUPT";
    case SEAM_ERR_NVM_KEY:
        return "SEAM_ERR_NVM_KEY";
    case SEAM_ERR_NVM_BUSY:
        return "SEAM_ERR_NVM_BUSY";
    default:
        return "(other)";
    }
}
