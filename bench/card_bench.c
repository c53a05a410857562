/*
 * Card bench: a card image in a temporary directory, the purse loaded and
 * installed through the APDU interface (SCP03, INSTALL, LOAD), then many
 * purse DEBITs on one selected instance, in-process. Prints APDUs per second
 * for a DEBIT and the NVM bytes each DEBIT writes (key and value bytes put by
 * its transaction) and adds to the image.
 *
 * With PURSE_V2.wasm it then updates the purse to 2.0 (MANAGE ELF UPGRADE
 * start, LOAD, migrate) and prints the bytes that crossed the interface and
 * the NVM bytes and time the migration took (requirement P8).
 *
 * usage: card_bench PURSE.wasm [DEBITS [PURSE_V2.wasm]]  (bench/run.sh runs it)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"

#define LOAD_BLOCK 200u

typedef struct {
    seam_card *card;
    seam_crypto_scp03_host host;
    uint8_t response[SEAM_CARD_RESPONSE_MAX];
    size_t response_len;
} bench;

static int die(const char *what, unsigned sw) {
    fprintf(stderr, "card_bench: %s failed (%04X)\n", what, sw);
    exit(1);
}

/* Sends apdu (wrapped for the secure channel when wrap) and returns the status word. */
static unsigned send(bench *b, const uint8_t *apdu, size_t len, int wrap) {
    uint8_t wrapped[300];
    size_t n = len;
    if (wrap && seam_crypto_scp03_host_wrap(&b->host, apdu, len, wrapped, sizeof wrapped, &n))
        die("wrap", 0);
    if (seam_card_transmit(b->card, wrap ? wrapped : apdu, n, b->response, sizeof b->response,
                           &b->response_len) ||
        b->response_len < 2)
        die("transmit", 0);
    if (wrap && seam_crypto_scp03_host_unwrap(&b->host, b->response, b->response_len, b->response,
                                              sizeof b->response, &b->response_len))
        die("unwrap", 0);
    return (unsigned)b->response[b->response_len - 2] << 8 | b->response[b->response_len - 1];
}

static void expect(bench *b, const char *what, const uint8_t *apdu, size_t len, int wrap) {
    unsigned sw = send(b, apdu, len, wrap);
    if (sw != 0x9000)
        die(what, sw);
}

#define EXPECT(b, what, wrap, ...)                                                                 \
    expect(b, what, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), wrap)

/* Selects the ISD and opens SCP03 (C-MAC) with the GlobalPlatform test keys. */
static void open_channel(bench *b) {
    uint8_t key[16], init[14] = {0x80, 0x50, 0x00, 0x00, 0x08}, ext[21];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(0x40 + i);
    EXPECT(b, "SELECT ISD", 0, 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0, 0, 0x01, 0x51, 0, 0, 0, 0);
    if (seam_crypto_random(init + 5, 8))
        die("random", 0);
    expect(b, "INITIALIZE UPDATE", init, sizeof init, 0);
    if (seam_crypto_scp03_host_open(&b->host, key, key, 16, init + 5, b->response,
                                    b->response_len - 2, 0x01, 0, ext))
        die("card cryptogram", 0);
    expect(b, "EXTERNAL AUTHENTICATE", ext, sizeof ext, 0);
}

/* INSTALL [for load] and the module as a C4 load file in LOAD blocks; returns its size. */
static size_t load(bench *b, const char *path) {
    FILE *f = fopen(path, "rb");
    uint8_t *file = malloc(4 + 65536), cmd[5 + LOAD_BLOCK];
    size_t len = f && file ? fread(file + 4, 1, 65536, f) : 0;
    if (f)
        fclose(f);
    if (!len || len == 65536)
        die(path, 0);
    file[0] = 0xC4, file[1] = 0x82, file[2] = (uint8_t)(len >> 8), file[3] = (uint8_t)len;
    EXPECT(b, "INSTALL [for load]", 1, 0x80, 0xE6, 0x02, 0x00, 0x0B, 0x06, 0xA0, 0, 0, 0x05, 0x50,
           0x55, 0, 0, 0, 0);
    for (size_t off = 0, block = 0; off < len + 4; off += LOAD_BLOCK, block++) {
        size_t n = len + 4 - off < LOAD_BLOCK ? len + 4 - off : LOAD_BLOCK;
        memcpy(
            cmd,
            (uint8_t[]){0x80, 0xE8, off + n == len + 4 ? 0x80 : 0x00, (uint8_t)block, (uint8_t)n},
            5);
        memcpy(cmd + 5, file + off, n);
        expect(b, "LOAD", cmd, 5 + n, 1);
    }
    free(file);
    return len;
}

/* load, then INSTALL [for install and make selectable] of the purse. */
static size_t load_and_install(bench *b, const char *path) {
    size_t len = load(b, path);
    EXPECT(b, "INSTALL [for install and make selectable]", 1, 0x80, 0xE6, 0x0C, 0x00, 0x22, 0x06,
           0xA0, 0, 0, 0x05, 0x50, 0x55, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01, 0x07, 0xA0, 0, 0,
           0x05, 0x50, 0x55, 0x01, 0x01, 0x00, 0x07, 0xC9, 0x05, 0x04, '1', '2', '3', '4', 0x00,
           0x00);
    return len;
}

static double now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    static bench b;
    char dir[] = "/tmp/seam-card-bench-XXXXXX", path[64];
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    long debits = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
    if (argc < 2 || debits < 1 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: card_bench PURSE.wasm [DEBITS]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/card.db", dir);
    if (seam_card_create(path, 0, &b.card) || seam_card_power_on(b.card, atr, sizeof atr, &atr_len))
        die("card create", 0);
    seam_nvm *nvm = seam_card_nvm(b.card);
    open_channel(&b);
    size_t module = load_and_install(&b, argv[1]);
    EXPECT(&b, "SELECT purse", 0, 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01,
           0x00);
    EXPECT(&b, "VERIFY", 0, 0x00, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4');
    EXPECT(&b, "CREDIT", 0, 0x00, 0x30, 0x00, 0x00, 0x04, 0x7F, 0xFF, 0xFF, 0xFF);
    size_t used_before = seam_nvm_used_bytes(nvm);
    uint64_t written = 0, fuel_before = seam_card_applet_fuel(b.card);
    double start = now(CLOCK_MONOTONIC), cpu_start = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < debits; i++) {
        EXPECT(&b, "DEBIT", 0, 0x00, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01);
        written += seam_nvm_txn_bytes_written(nvm);
    }
    double seconds = now(CLOCK_MONOTONIC) - start;
    double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
    uint64_t fuel = seam_card_applet_fuel(b.card) - fuel_before;
    size_t used_after = seam_nvm_used_bytes(nvm);
    EXPECT(&b, "BALANCE", 0, 0x00, 0x50, 0x00, 0x00, 0x00);
    unsigned long balance = (unsigned long)b.response[0] << 24 |
                            (unsigned long)b.response[1] << 16 | (unsigned long)b.response[2] << 8 |
                            b.response[3];
    if (balance != 0x7FFFFFFFul - (unsigned long)debits)
        die("BALANCE after the debits", 0);
    printf("purse: %zu bytes of wasm loaded and installed over SCP03\n", module);
    printf("purse DEBIT in-process: %ld APDUs in %.3f s: %.0f APDUs/s (%.1f us each)\n", debits,
           seconds, (double)debits / seconds, seconds * 1e6 / (double)debits);
    printf("purse DEBIT CPU time: %.1f us each (the rest of the wall time is waiting, mostly in "
           "fdatasync)\n",
           cpu * 1e6 / (double)debits);
    printf("NVM per DEBIT: %.1f bytes written (key+sealed value bytes put), %+.1f bytes of image "
           "growth\n",
           (double)written / (double)debits,
           ((double)used_after - (double)used_before) / (double)debits);
    printf("fuel per DEBIT: %.1f (seam_card_applet_fuel)\n", (double)fuel / (double)debits);
    if (argc > 3) { /* the update to 2.0: only the package crosses the interface */
        seam_card_traffic before, after;
        EXPECT(&b, "SELECT ISD", 0, 0x00, 0xA4, 0x04, 0x00, 0x00);
        open_channel(&b);
        seam_card_traffic_get(b.card, &before);
        EXPECT(&b, "MANAGE ELF UPGRADE start", 1, 0x80, 0xEA, 0x01, 0x00, 0x08, 0x4F, 0x06, 0xA0, 0,
               0, 0x05, 0x50, 0x55, 0x00);
        size_t v2 = load(&b, argv[3]);
        double t0 = now(CLOCK_MONOTONIC);
        EXPECT(&b, "MANAGE ELF UPGRADE migrate", 1, 0x80, 0xEA, 0x02, 0x00, 0x08, 0x4F, 0x06, 0xA0,
               0, 0, 0x05, 0x50, 0x55, 0x00);
        double migrate = now(CLOCK_MONOTONIC) - t0;
        uint64_t migrate_written = seam_nvm_txn_bytes_written(nvm);
        seam_card_traffic_get(b.card, &after);
        EXPECT(&b, "SELECT purse", 0, 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55,
               0x01, 0x00);
        EXPECT(&b, "BALANCE", 0, 0x00, 0x50, 0x00, 0x00, 0x00);
        unsigned long kept = (unsigned long)b.response[0] << 24 |
                             (unsigned long)b.response[1] << 16 |
                             (unsigned long)b.response[2] << 8 | b.response[3];
        if (kept != balance)
            die("BALANCE after the update", 0);
        uint64_t in = after.total.bytes_in - before.total.bytes_in;
        uint64_t load_in = after.by_ins[0xE8].bytes_in - before.by_ins[0xE8].bytes_in;
        printf("update to 2.0: %llu bytes in (%llu in LOAD for a %zu-byte module, %llu in the "
               "other %llu commands), %llu out, no STORE DATA (%llu)\n",
               (unsigned long long)in, (unsigned long long)load_in, v2,
               (unsigned long long)(in - load_in),
               (unsigned long long)(after.total.commands - before.total.commands -
                                    (after.by_ins[0xE8].commands - before.by_ins[0xE8].commands)),
               (unsigned long long)(after.total.bytes_out - before.total.bytes_out),
               (unsigned long long)(after.by_ins[0xE2].commands - before.by_ins[0xE2].commands));
        printf("migrate: %.1f ms, %llu NVM bytes written (save, delete, install, replay, "
               "restore), balance kept\n",
               migrate * 1e3, (unsigned long long)migrate_written);
    }
    seam_card_close(b.card);
    seam_card_remove(path);
    rmdir(dir);
    return 0;
}
