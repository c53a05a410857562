/*
 * seam fleet: the fleet's cards on disk (fleet_cli.h). A fleet folder holds
 * card images card-NNNNN.db, all sealed under one storage key (the key file
 * fleet.key, or --key-file), and the manifest fleet.cins: line i is the CIN
 * of card i in upper-case hex. Cards are created in parallel by a pool of
 * threads, each image one nvm transaction (seam_card_create_on over
 * seam_nvm_create_sealed), then the manifest is written whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet_cli.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/util.h"

void fleet_image_path(const char *dir, size_t index, char *out, size_t size) {
    snprintf(out, size, "%s/card-%05zu.db", dir, index);
}

seam_err fleet_key_ready(const char *path, uint8_t key[SEAM_NVM_STORAGE_KEY_SIZE], bool *created) {
    char text[2 * SEAM_NVM_STORAGE_KEY_SIZE + 2];
    size_t len = 0;
    ssize_t got;
    seam_err e = SEAM_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    *created = false;
    if (fd >= 0) {
        got = read(fd, text, sizeof text);
        close(fd);
        if (got > 0 && text[got - 1] == '\n')
            got--;
        if (got != 2 * SEAM_NVM_STORAGE_KEY_SIZE ||
            seam_hex_decode(text, (size_t)got, key, SEAM_NVM_STORAGE_KEY_SIZE, &len) != SEAM_OK ||
            len != SEAM_NVM_STORAGE_KEY_SIZE)
            e = SEAM_ERR_CARD_KEY_FILE;
        seam_secure_zero(text, sizeof text);
        return e;
    }
    if (errno != ENOENT)
        return SEAM_ERR_CARD_KEY_FILE;
    e = seam_crypto_random_fresh(key, SEAM_NVM_STORAGE_KEY_SIZE);
    if (!e)
        e = seam_hex_encode(key, SEAM_NVM_STORAGE_KEY_SIZE, text, sizeof text, &len);
    if (e)
        return e;
    text[len++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        e = SEAM_ERR_IO;
    else if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
        e = SEAM_ERR_IO;
    if (fd >= 0)
        close(fd);
    if (e && fd >= 0)
        unlink(path);
    seam_secure_zero(text, sizeof text);
    *created = !e;
    return e;
}

size_t fleet_manifest_read(const char *dir, char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t max) {
    char path[1024], line[128];
    size_t n = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/" FLEET_MANIFEST, dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (n < max && fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        if (l == 0 || l >= SEAM_TERMINAL_CIN_HEX)
            break;
        memcpy(cins[n], line, l);
        cins[n][l] = 0;
        n++;
    }
    fclose(f);
    return n;
}

/* Creates card index with key and puts its CIN (read back with GET DATA) in cin. */
static seam_err create_one(const char *dir, size_t index, const uint8_t *key,
                           char cin[SEAM_TERMINAL_CIN_HEX]) {
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    char path[1024];
    uint8_t atr[SEAM_CARD_ATR_MAX], resp[64];
    size_t atr_len = 0, len = 0;
    seam_nvm *nvm = NULL;
    seam_card *card = NULL;
    seam_err e;
    fleet_image_path(dir, index, path, sizeof path);
    if (access(path, F_OK) == 0)
        seam_card_remove(path); /* left by a creation that never reached the manifest */
    e = seam_nvm_create_sealed(path, 0, key, &nvm);
    if (!e)
        e = seam_card_create_on(nvm, &card);
    if (!e)
        e = seam_card_power_on(card, atr, sizeof atr, &atr_len);
    if (!e)
        e = seam_card_transmit(card, get_cin, sizeof get_cin, resp, sizeof resp, &len);
    if (!e && (len < 4 || len - 4 > SEAM_TERMINAL_CIN_MAX || resp[0] != 0x45 ||
               resp[1] != len - 4 || resp[len - 2] != 0x90))
        e = SEAM_ERR_CARD;
    for (size_t i = 0; !e && i < len - 4; i++)
        snprintf(cin + 2 * i, 3, "%02X", resp[2 + i]);
    seam_card_close(card);
    return e;
}

typedef struct {
    const char *dir;
    const uint8_t *key;
    char (*cins)[SEAM_TERMINAL_CIN_HEX];
    size_t from, to;
    pthread_mutex_t lock;
    size_t next;
    seam_err failure;
} creation;

static void *create_work(void *arg) {
    creation *c = arg;
    for (;;) {
        size_t index;
        seam_err e;
        pthread_mutex_lock(&c->lock);
        index = c->next++;
        if (c->failure || index >= c->to) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        pthread_mutex_unlock(&c->lock);
        e = create_one(c->dir, index, c->key, c->cins[index]);
        if (e) {
            pthread_mutex_lock(&c->lock);
            if (!c->failure)
                c->failure = e;
            pthread_mutex_unlock(&c->lock);
            fprintf(stderr, "seam fleet: card %zu: %s\n", index, seam_err_str(e));
        }
    }
}

seam_err fleet_cards_create(const char *dir, const uint8_t *key,
                            char (*cins)[SEAM_TERMINAL_CIN_HEX], size_t from, size_t to,
                            unsigned threads) {
    creation c = {.dir = dir, .key = key, .cins = cins, .from = from, .to = to, .next = from};
    pthread_t *pool;
    unsigned started = 0;
    char path[1024];
    FILE *f;
    if (from >= to)
        return SEAM_OK;
    pool = calloc(threads, sizeof *pool);
    if (!pool || pthread_mutex_init(&c.lock, NULL) != 0) {
        free(pool);
        return SEAM_ERR_NOMEM;
    }
    for (unsigned i = 0; i < threads; i++)
        if (pthread_create(&pool[started], NULL, create_work, &c) == 0)
            started++;
    for (unsigned i = 0; i < started; i++)
        pthread_join(pool[i], NULL);
    pthread_mutex_destroy(&c.lock);
    free(pool);
    if (!started)
        return SEAM_ERR_NOMEM;
    if (c.failure)
        return c.failure;
    /* the manifest names only cards that exist: appended once they all do */
    snprintf(path, sizeof path, "%s/" FLEET_MANIFEST, dir);
    f = fopen(path, "a");
    if (!f)
        return SEAM_ERR_IO;
    for (size_t i = from; i < to; i++)
        fprintf(f, "%s\n", cins[i]);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        return SEAM_ERR_IO;
    }
    return fclose(f) == 0 ? SEAM_OK : SEAM_ERR_IO;
}
