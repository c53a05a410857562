/*
 * Card bench: a card image in a temporary directory, the purse loaded and
 * installed through the APDU interface by the host library (include/seam/gp.h:
 * SCP03, INSTALL, LOAD over seam_link_card), then many
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
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/nvm.h"

static const uint8_t isd_aid[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_pin[] = {0x04, '1', '2', '3', '4'}; /* C9: PIN length, PIN */

/* The card and the host library's session with it (seam_link_card: in this process). */
typedef struct {
    seam_card *card;
    seam_gp_link link;
    seam_gp *gp;
    uint8_t response[SEAM_GP_RESPONSE_MAX];
    size_t response_len; /* data only, no SW */
    size_t block;        /* the LOAD block size the session used */
} bench;

static int die(const char *what, unsigned sw) {
    fprintf(stderr, "card_bench: %s failed (%04X)\n", what, sw);
    exit(1);
}

/* Checks a library operation: it ran, and the card answered 9000 (*sw, read after it ran). */
static void expect_ok(const char *what, seam_err e, const uint16_t *sw) {
    if (e)
        fprintf(stderr, "card_bench: %s: %s\n", what, seam_err_str(e));
    if (e || *sw != 0x9000)
        die(what, *sw);
}

/* Sends apdu through the session (wrapped while a channel is open and the class is GP's). */
static void expect(bench *b, const char *what, const uint8_t *apdu, size_t len) {
    uint16_t sw = 0;
    seam_err e =
        seam_gp_transmit(b->gp, apdu, len, b->response, sizeof b->response, &b->response_len, &sw);
    expect_ok(what, e, &sw);
}

#define EXPECT(b, what, ...)                                                                       \
    expect(b, what, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* Selects the ISD and opens SCP03 (C-MAC) with the GlobalPlatform test keys. */
static void open_channel(bench *b) {
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    expect_ok("SELECT ISD", seam_gp_select(b->gp, isd_aid, sizeof isd_aid, &sw), &sw);
    expect_ok("SCP03", seam_gp_open_channel(b->gp, &keys, 0x00, 0x01, NULL, &sw), &sw);
}

/* Reads a package file; its size in *len. */
static uint8_t *read_module(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *module = malloc(65536);
    *len = f && module ? fread(module, 1, 65536, f) : 0;
    if (f)
        fclose(f);
    if (!*len || *len == 65536)
        die(path, 0);
    return module;
}

/* INSTALL [for load] and LOAD of the package at path (load_only), or the combined INSTALL
   [for load, install and make selectable] (0E 01, LOAD, 0E 03) of the purse with PIN 1234;
   returns the module's size. */
static size_t load(bench *b, const char *path, bool load_only) {
    seam_gp_package_install in;
    size_t len = 0;
    uint16_t sw = 0;
    uint8_t *module = read_module(path, &len);
    memset(&in, 0, sizeof in);
    in.module = module;
    in.module_len = len;
    in.load_only = load_only;
    in.c9 = purse_pin;
    in.c9_len = sizeof purse_pin;
    seam_gp_aid_set(&in.applet, purse_aid, sizeof purse_aid);
    b->block = seam_gp_block_size(b->gp);
    expect_ok(load_only ? "INSTALL [for load] + LOAD" : "INSTALL 0E 01 + LOAD + INSTALL 0E 03",
              seam_gp_install_package(b->gp, &in, &sw), &sw);
    free(module);
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
        fprintf(stderr, "usage: card_bench PURSE.wasm [DEBITS [PURSE_V2.wasm]]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/card.db", dir);
    if (seam_card_create(path, 0, &b.card) ||
        seam_card_power_on(b.card, atr, sizeof atr, &atr_len) || seam_link_card(b.card, &b.link) ||
        seam_gp_new(&b.link, &b.gp))
        die("card create", 0);
    seam_nvm *nvm = seam_card_nvm(b.card);
    open_channel(&b);
    size_t module = load(&b, argv[1], false);
    EXPECT(&b, "SELECT purse", 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01,
           0x00);
    EXPECT(&b, "VERIFY", 0x00, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4');
    EXPECT(&b, "CREDIT", 0x00, 0x30, 0x00, 0x00, 0x04, 0x7F, 0xFF, 0xFF, 0xFF);
    size_t used_before = seam_nvm_used_bytes(nvm);
    uint64_t written = 0, fuel_before = seam_card_applet_fuel(b.card);
    double start = now(CLOCK_MONOTONIC), cpu_start = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < debits; i++) {
        EXPECT(&b, "DEBIT", 0x00, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01);
        written += seam_nvm_txn_bytes_written(nvm);
    }
    double seconds = now(CLOCK_MONOTONIC) - start;
    double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
    uint64_t fuel = seam_card_applet_fuel(b.card) - fuel_before;
    size_t used_after = seam_nvm_used_bytes(nvm);
    EXPECT(&b, "BALANCE", 0x00, 0x50, 0x00, 0x00, 0x00);
    unsigned long balance = (unsigned long)b.response[0] << 24 |
                            (unsigned long)b.response[1] << 16 | (unsigned long)b.response[2] << 8 |
                            b.response[3];
    if (balance != 0x7FFFFFFFul - (unsigned long)debits)
        die("BALANCE after the debits", 0);
    printf("purse: %zu bytes of wasm loaded and installed over SCP03 (the host library, "
           "LOAD blocks of %zu bytes)\n",
           module, b.block);
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
        seam_gp_upgrade_status st;
        uint16_t sw = 0;
        open_channel(&b);
        seam_card_traffic_get(b.card, &before);
        expect_ok("MANAGE ELF UPGRADE start",
                  seam_gp_upgrade(b.gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg, NULL, 0,
                                  &st, &sw),
                  &sw);
        size_t v2 = load(&b, argv[3], true);
        double t0 = now(CLOCK_MONOTONIC);
        expect_ok("MANAGE ELF UPGRADE migrate",
                  seam_gp_upgrade(b.gp, SEAM_GP_UPGRADE_MIGRATE, purse_pkg, sizeof purse_pkg, NULL,
                                  0, &st, &sw),
                  &sw);
        double migrate = now(CLOCK_MONOTONIC) - t0;
        uint64_t migrate_written = seam_nvm_txn_bytes_written(nvm);
        seam_card_traffic_get(b.card, &after);
        EXPECT(&b, "SELECT purse", 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01,
               0x00);
        EXPECT(&b, "BALANCE", 0x00, 0x50, 0x00, 0x00, 0x00);
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
    seam_gp_free(b.gp);
    seam_gp_link_close(&b.link);
    seam_card_close(b.card);
    seam_card_remove(path);
    rmdir(dir);
    return 0;
}
