/*
 * The card's hot paths (issue 11): one row each of the goals table.
 *
 *   balance   read-only APDUs: BALANCE on a selected purse, through
 *             seam_card_transmit, APDUs per second
 *   select    SELECT of one of two purses in turn, then BALANCE: pairs per
 *             second
 *   migrate   MANAGE ELF UPGRADE of the purse to 2.0 with 2 SSDs of 32
 *             purses each (32 is the most one SD holds: each instance has a
 *             restore record, at most 32 per SD; the 2 x 50 is refused
 *             with 6A84): the two migrate commands' time, the modules the card
 *             built (decoded, validated, translated) meanwhile, and the NVM
 *             bytes put per instance against the purse data carried (the
 *             values of the restore entries save_for_upgrade wrote, counted
 *             in the image)
 *   update    the bytes of the update to 2.0 that crossed the card's interface
 *             (start, INSTALL [for load], LOAD, migrate) against the size of
 *             the package, with the ATR told to the host library (extended
 *             LOAD blocks) and without (short ones)
 *
 * Timings are medians of interleaved rounds, each against a reference in the
 * same run: the same work on a card with its RAM caches off
 * (seam_card_set_cache), which is how the card ran before they existed.
 *
 * usage: card_paths PURSE.wasm PURSE_V2.wasm [ROUNDS]   (bench/run.sh runs it)
 * environment: CARD_PATHS_ONLY=balance|select|migrate|update runs one part
 *              once (for a profiler: valgrind --tool=callgrind); with
 *              CARD_PATHS_CACHE=0 the card's caches are off for it.
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
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t sd_elf[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50};
static const uint8_t sd_module[] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50, 0x41};
static const uint8_t purse_pin[] = {0x04, '1', '2', '3', '4'}; /* C9: PIN length, PIN */

#define DOMAINS 2u
#define INSTANCES                                                                                  \
    32u /* per domain: the most one SD holds (32 restore records, docs/security.md)                \
         */

/* A card image in a temporary directory and the host library's session with it. */
typedef struct {
    char dir[64], path[96];
    seam_card *card;
    seam_gp_link link;
    seam_gp *gp;
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    uint8_t response[SEAM_CARD_RESPONSE_MAX];
    size_t response_len;
} bench;

static const char *purse_path, *purse_v2_path;

static void die(const char *what, unsigned sw) {
    fprintf(stderr, "card_paths: %s failed (%04X)\n", what, sw);
    exit(1);
}

/* Checks a library operation: it ran, and the card answered 9000 (*sw, read after it ran). */
static void expect_ok(const char *what, seam_err e, const uint16_t *sw) {
    if (e)
        fprintf(stderr, "card_paths: %s: %s\n", what, seam_err_str(e));
    if (e || *sw != 0x9000)
        die(what, *sw);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sends a raw APDU to the card (no host library in between); returns the SW. */
static uint16_t raw(bench *b, const uint8_t *apdu, size_t len) {
    seam_err e =
        seam_card_transmit(b->card, apdu, len, b->response, sizeof b->response, &b->response_len);
    if (e || b->response_len < 2)
        die("transmit", 0);
    return (uint16_t)(b->response[b->response_len - 2] << 8 | b->response[b->response_len - 1]);
}

static void raw_ok(bench *b, const char *what, const uint8_t *apdu, size_t len) {
    uint16_t sw = raw(b, apdu, len);
    if (sw != 0x9000)
        die(what, sw);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *bytes = malloc(65536);
    *len = f && bytes ? fread(bytes, 1, 65536, f) : 0;
    if (f)
        fclose(f);
    if (!*len || *len == 65536)
        die(path, 0);
    return bytes;
}

/* A new card: a sealed image in a temporary directory, or (in_memory) an nvm in RAM,
   unsealed, with no file, lock or journal behind its transactions. */
static void card_make(bench *b, bool in_memory) {
    seam_nvm *nvm = NULL;
    memset(b, 0, sizeof *b);
    if (in_memory) {
        if (seam_nvm_open_memory(0, &nvm) || seam_card_create_on(nvm, &b->card))
            die("card create in memory", 0);
    } else {
        strcpy(b->dir, "/tmp/seam-card-paths-XXXXXX");
        if (!mkdtemp(b->dir))
            die("mkdtemp", 0);
        snprintf(b->path, sizeof b->path, "%s/card.db", b->dir);
        if (seam_card_create(b->path, 0, &b->card))
            die("card create", 0);
    }
    if (seam_card_power_on(b->card, b->atr, sizeof b->atr, &b->atr_len) ||
        seam_link_card(b->card, &b->link) || seam_gp_new(&b->link, &b->gp))
        die("card power on", 0);
}

static void card_new(bench *b) {
    card_make(b, false);
}

static void card_free(bench *b) {
    seam_gp_free(b->gp);
    seam_gp_link_close(&b->link);
    seam_card_close(b->card);
    if (b->path[0]) {
        seam_card_remove(b->path);
        rmdir(b->dir);
    }
}

/* Selects SD aid and opens SCP03 (C-MAC) with the test keys (which SSDs are given). */
static void open_channel(bench *b, const uint8_t *aid, size_t len) {
    seam_gp_keys keys;
    uint16_t sw = 0;
    seam_gp_keys_default(&keys);
    expect_ok("SELECT SD", seam_gp_select(b->gp, aid, len, &sw), &sw);
    expect_ok("SCP03", seam_gp_open_channel(b->gp, &keys, 0x00, 0x01, NULL, &sw), &sw);
}

/* INSTALL [for load] and LOAD of the package file at path (and, unless load_only, INSTALL
   [for install and make selectable] of instance aid, PIN 1234). */
static void load_package(bench *b, const char *path, bool load_only, const uint8_t *aid,
                         size_t aid_len) {
    seam_gp_package_install in;
    size_t len = 0;
    uint16_t sw = 0;
    uint8_t *module = read_file(path, &len);
    memset(&in, 0, sizeof in);
    in.module = module;
    in.module_len = len;
    in.load_only = load_only;
    in.c9 = purse_pin;
    in.c9_len = sizeof purse_pin;
    if (aid)
        seam_gp_aid_set(&in.instance, aid, aid_len);
    expect_ok("INSTALL + LOAD", seam_gp_install_package(b->gp, &in, &sw), &sw);
    free(module);
}

/* INSTALL [for install and make selectable] of a purse instance aid (PIN 1234). */
static void install_purse(bench *b, const uint8_t *aid, size_t len) {
    seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                 .privileges_len = 1,
                                 .app_params = purse_pin,
                                 .app_params_len = sizeof purse_pin};
    uint16_t sw = 0;
    seam_gp_aid_set(&in.elf, purse_pkg, sizeof purse_pkg);
    seam_gp_aid_set(&in.module, purse_cls, sizeof purse_cls);
    seam_gp_aid_set(&in.application, aid, len);
    expect_ok("INSTALL purse", seam_gp_install(b->gp, &in, &sw), &sw);
}

static void purse_aid(uint8_t aid[8], unsigned domain, unsigned i) {
    memcpy(aid, purse_pkg, sizeof purse_pkg);
    aid[6] = (uint8_t)(0xA0 + domain);
    aid[7] = (uint8_t)i;
}

static void select_purse(bench *b, const uint8_t *aid, size_t len) {
    uint8_t cmd[6 + 16] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(cmd + 5, aid, len);
    cmd[5 + len] = 0x00;
    raw_ok(b, "SELECT purse", cmd, 6 + len);
}

static const uint8_t balance_apdu[] = {0x00, 0x50, 0x00, 0x00, 0x00};
static const uint8_t verify_apdu[] = {0x00, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'};
static const uint8_t credit_apdu[] = {0x00, 0x30, 0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0x00};

/* ---- medians ----------------------------------------------------------------------------- */

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void row(const char *what, const char *measured, const char *goal, const char *reference,
                const char *ratio) {
    printf("ROW\t%s\t%s\t%s\t%s\t%s\n", what, measured, goal, reference, ratio);
}

/* ---- read-only APDUs --------------------------------------------------------------------- */

/* Two purses installed by the ISD, the first selected with its PIN verified. */
static void purses_ready(bench *b, const uint8_t a[8], const uint8_t c[8]) {
    open_channel(b, isd_aid, sizeof isd_aid);
    load_package(b, purse_path, false, a, 8);
    open_channel(b, isd_aid, sizeof isd_aid);
    install_purse(b, c, 8);
    for (int i = 0; i < 2; i++) {
        select_purse(b, i ? c : a, 8);
        raw_ok(b, "VERIFY", verify_apdu, sizeof verify_apdu);
        raw_ok(b, "CREDIT", credit_apdu, sizeof credit_apdu);
    }
}

/* n BALANCE APDUs on the purse selected; returns the seconds they took. Not inlined, so
   that callgrind --toggle-collect=balance_loop counts it alone. */
__attribute__((noinline)) static double balance_loop(bench *b, long n) {
    double t0 = now();
    for (long i = 0; i < n; i++)
        raw_ok(b, "BALANCE", balance_apdu, sizeof balance_apdu);
    return now() - t0;
}

/* n pairs of SELECT (purses a and c in turn) and BALANCE; returns the seconds (not
   inlined either: --toggle-collect=select_loop). */
__attribute__((noinline)) static double select_loop(bench *b, const uint8_t a[8],
                                                    const uint8_t c[8], long n) {
    double t0 = now();
    for (long i = 0; i < n; i++) {
        select_purse(b, i & 1 ? c : a, 8);
        raw_ok(b, "BALANCE", balance_apdu, sizeof balance_apdu);
    }
    return now() - t0;
}

static void balance_and_select(long rounds, const char *only) {
    bench b;
    uint8_t a[8], c[8];
    long nb = 20000, ns = 2000;
    double on_b[16], off_b[16], on_s[16], off_s[16];
    char m[64], r[64], x[64];
    purse_aid(a, 0, 1);
    purse_aid(c, 0, 2);
    card_new(&b);
    purses_ready(&b, a, c);
    if (only) { /* one part, for a profiler */
        const char *cache = getenv("CARD_PATHS_CACHE");
        seam_card_set_cache(b.card, !cache || strcmp(cache, "0"));
        select_purse(&b, a, 8);
        if (!strcmp(only, "balance"))
            balance_loop(&b, nb);
        else
            select_loop(&b, a, c, ns);
        card_free(&b);
        return;
    }
    for (long i = 0; i < rounds; i++) { /* interleaved: caches on, caches off */
        for (int on = 1; on >= 0; on--) {
            seam_card_set_cache(b.card, on);
            select_purse(&b, a, 8);
            (on ? on_b : off_b)[i] =
                balance_loop(&b, on ? nb : nb / 4) / (double)(on ? nb : nb / 4);
            (on ? on_s : off_s)[i] =
                select_loop(&b, a, c, on ? ns : ns / 4) / (double)(on ? ns : ns / 4);
        }
    }
    seam_card_set_cache(b.card, true);
    card_free(&b);
    /* the same on an image in RAM: what is left when beginning and committing a transaction
       costs no file lock, journal or sync (the nvm's part of a read-only APDU) */
    double mem[16];
    card_make(&b, true);
    purses_ready(&b, a, c);
    select_purse(&b, a, 8);
    for (long i = 0; i < rounds; i++)
        mem[i] = balance_loop(&b, nb) / (double)nb;
    double tm = median(mem, (size_t)rounds);
    double tb = median(on_b, (size_t)rounds), rb = median(off_b, (size_t)rounds);
    double ts = median(on_s, (size_t)rounds), rs = median(off_s, (size_t)rounds);
    printf("read-only APDU (BALANCE, selected purse, seam_card_transmit): %.0f APDUs/s "
           "(%.2f us each); caches off: %.0f APDUs/s (%.2f us)\n",
           1 / tb, tb * 1e6, 1 / rb, rb * 1e6);
    printf("read-only APDU on an image in RAM (no file behind the nvm's transactions): %.0f "
           "APDUs/s (%.2f us each)\n",
           1 / tm, tm * 1e6);
    printf("SELECT + BALANCE (two purses in turn): %.0f pairs/s (%.2f us each); caches off: "
           "%.0f pairs/s (%.2f us)\n",
           1 / ts, ts * 1e6, 1 / rs, rs * 1e6);
    snprintf(m, sizeof m, "%.1f k/s", 1 / tb / 1e3);
    snprintf(r, sizeof r, "caches off: %.1f k/s", 1 / rb / 1e3);
    snprintf(x, sizeof x, "%.2fx", rb / tb);
    row("card: read-only APDU (BALANCE)", m, ">= 200 k/s", r, x);
    snprintf(m, sizeof m, "%.1f k/s", 1 / ts / 1e3);
    snprintf(r, sizeof r, "caches off: %.1f k/s", 1 / rs / 1e3);
    snprintf(x, sizeof x, "%.2fx", rs / ts);
    row("card: SELECT + one command", m, ">= 50 k/s", r, x);
    card_free(&b);
}

/* ---- migrate ----------------------------------------------------------------------------- */

/* A card with the purse loaded by the ISD and DOMAINS SSDs of INSTANCES purses each
   (every purse credited once), the upgrade to 2.0 started and 2.0 loaded. */
static void migrate_ready(bench *b) {
    static const uint8_t priv_am[3] = {0x80, 0xC0, 0x00}; /* SD, Authorized Management, TP */
    uint8_t sd[DOMAINS][8], aid[8];
    uint16_t sw = 0;
    card_new(b);
    open_channel(b, isd_aid, sizeof isd_aid);
    for (unsigned d = 0; d < DOMAINS; d++) {
        seam_gp_install_fields in = {.role = SEAM_GP_FOR_INSTALL_AND_MAKE_SELECTABLE,
                                     .privileges_len = sizeof priv_am};
        memcpy(sd[d], isd_aid, 8);
        sd[d][7] = (uint8_t)(0xB0 + d);
        memcpy(in.privileges, priv_am, sizeof priv_am);
        seam_gp_aid_set(&in.elf, sd_elf, sizeof sd_elf);
        seam_gp_aid_set(&in.module, sd_module, sizeof sd_module);
        seam_gp_aid_set(&in.application, sd[d], 8);
        expect_ok("INSTALL SSD", seam_gp_install(b->gp, &in, &sw), &sw);
    }
    load_package(b, purse_path, true, NULL, 0);
    for (unsigned d = 0; d < DOMAINS; d++) {
        open_channel(b, sd[d], 8);
        for (unsigned i = 0; i < INSTANCES; i++) {
            purse_aid(aid, d, i);
            install_purse(b, aid, 8);
        }
    }
    for (unsigned d = 0; d < DOMAINS; d++)
        for (unsigned i = 0; i < INSTANCES; i++) {
            purse_aid(aid, d, i);
            select_purse(b, aid, 8);
            raw_ok(b, "VERIFY", verify_apdu, sizeof verify_apdu);
            raw_ok(b, "CREDIT", credit_apdu, sizeof credit_apdu);
        }
    open_channel(b, isd_aid, sizeof isd_aid);
    expect_ok("MANAGE ELF UPGRADE start",
              seam_gp_upgrade(b->gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg, NULL, 0,
                              NULL, &sw),
              &sw);
    load_package(b, purse_v2_path, true, NULL, 0);
}

typedef struct {
    double seconds;        /* both migrate commands */
    uint64_t nvm_bytes;    /* key and value bytes they put */
    uint64_t translations; /* modules the card built (decoded, validated, translated) */
    uint64_t data_bytes;   /* the purse data they carried: the restore entries' values */
} migration;

/* Adds up the value bytes of the restore module's application data entries (table 10,
   a format byte then the value): what save_for_upgrade put for the new version. */
static int entry_bytes(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    (void)key, (void)key_len, (void)value;
    *(uint64_t *)ctx += value_len ? value_len - 1 : 0;
    return 0;
}

static migration migrate_all(bench *b) {
    migration m = {0};
    seam_card_cache_stats before, after;
    uint16_t sw = 0;
    for (unsigned d = 0; d < DOMAINS; d++) {
        uint8_t sd[8];
        memcpy(sd, isd_aid, 8);
        sd[7] = (uint8_t)(0xB0 + d);
        open_channel(b, sd, 8);
        seam_card_cache_stats_get(b->card, &before);
        double t0 = now();
        expect_ok("MANAGE ELF UPGRADE migrate",
                  seam_gp_upgrade(b->gp, SEAM_GP_UPGRADE_MIGRATE, purse_pkg, sizeof purse_pkg, NULL,
                                  0, NULL, &sw),
                  &sw);
        m.seconds += now() - t0;
        m.nvm_bytes += seam_nvm_txn_bytes_written(seam_card_nvm(b->card));
        seam_card_cache_stats_get(b->card, &after);
        m.translations += after.modules_built - before.modules_built;
    }
    if (seam_nvm_foreach(seam_card_nvm(b->card), 10, NULL, 0, entry_bytes, &m.data_bytes))
        die("reading the restore entries", 0);
    return m;
}

static void migrate_row(long rounds, const char *only) {
    double on[16], off[16];
    migration last_on = {0}, last_off = {0};
    char m[64], r[96], x[64];
    if (only) {
        const char *cache = getenv("CARD_PATHS_CACHE");
        bench b;
        migrate_ready(&b);
        seam_card_set_cache(b.card, !cache || strcmp(cache, "0"));
        migrate_all(&b);
        card_free(&b);
        return;
    }
    for (long i = 0; i < rounds; i++) {
        for (int cache = 1; cache >= 0; cache--) {
            bench b;
            migrate_ready(&b);
            seam_card_set_cache(b.card, cache);
            migration got = migrate_all(&b);
            (cache ? on : off)[i] = got.seconds;
            *(cache ? &last_on : &last_off) = got;
            card_free(&b);
        }
    }
    double t = median(on, (size_t)rounds), t_off = median(off, (size_t)rounds);
    unsigned n = DOMAINS * INSTANCES;
    double per = (double)last_on.nvm_bytes / n, data = (double)last_on.data_bytes / n;
    printf("migrate %u domains x %u purses to 2.0: %.1f ms (%.1f us per instance), %llu modules "
           "built; caches off: %.1f ms (%.1f us per instance), %llu built\n",
           DOMAINS, INSTANCES, t * 1e3, t * 1e6 / n, (unsigned long long)last_on.translations,
           t_off * 1e3, t_off * 1e6 / n, (unsigned long long)last_off.translations);
    printf("migrate NVM: %.0f bytes put per instance (key + sealed value) for %.0f bytes of purse "
           "data carried (balance, counter, tries, log): %.0fx\n",
           per, data, per / data);
    snprintf(m, sizeof m, "%.2f ms/instance", t * 1e3 / n);
    snprintf(r, sizeof r, "caches off: %.2f ms", t_off * 1e3 / n);
    snprintf(x, sizeof x, "%.2fx", t_off / t);
    row("card: migrate (2 SDs x 32 purses)", m, "-", r, x);
    snprintf(m, sizeof m, "%llu", (unsigned long long)last_on.translations);
    snprintf(r, sizeof r, "caches off: %llu", (unsigned long long)last_off.translations);
    row("card: modules built per migration", m, "2 (once each)", r, "-");
    snprintf(m, sizeof m, "%.0f B/instance", per);
    snprintf(r, sizeof r, "%.0f B of purse data", data);
    snprintf(x, sizeof x, "%.0fx the data", per / data);
    row("card: migrate NVM bytes", m, "~ data changed", r, x);
}

/* ---- the update's bytes ------------------------------------------------------------------ */

/* The update of one purse to 2.0 with LOAD blocks of at most block bytes (0: the library's
   choice); *in gets the bytes that went in, *module the package's size. */
static void update(size_t block, bool tell_atr, uint64_t *in, size_t *module) {
    bench b;
    uint8_t a[8];
    seam_card_traffic before, after;
    uint16_t sw = 0;
    purse_aid(a, 0, 1);
    card_new(&b);
    if (tell_atr)
        seam_gp_set_atr(b.gp, b.atr, b.atr_len);
    if (block)
        seam_gp_set_block_size(b.gp, block);
    open_channel(&b, isd_aid, sizeof isd_aid);
    load_package(&b, purse_path, false, a, 8);
    open_channel(&b, isd_aid, sizeof isd_aid);
    seam_card_traffic_get(b.card, &before);
    expect_ok("MANAGE ELF UPGRADE start",
              seam_gp_upgrade(b.gp, SEAM_GP_UPGRADE_START, purse_pkg, sizeof purse_pkg, NULL, 0,
                              NULL, &sw),
              &sw);
    load_package(&b, purse_v2_path, true, NULL, 0);
    expect_ok("MANAGE ELF UPGRADE migrate",
              seam_gp_upgrade(b.gp, SEAM_GP_UPGRADE_MIGRATE, purse_pkg, sizeof purse_pkg, NULL, 0,
                              NULL, &sw),
              &sw);
    seam_card_traffic_get(b.card, &after);
    *in = after.total.bytes_in - before.total.bytes_in;
    free(read_file(purse_v2_path, module));
    card_free(&b);
}

static void update_row(void) {
    uint64_t in = 0, in_short = 0;
    size_t module = 0;
    char m[64], r[96], x[64];
    update(0, true, &in, &module);
    update(0, false, &in_short, &module);
    printf("update to 2.0 (start, INSTALL [for load], LOAD, migrate): %llu bytes in for a "
           "%zu-byte package (%.4fx); with short LOAD blocks (no ATR given to the host library): "
           "%llu (%.4fx)\n",
           (unsigned long long)in, module, (double)in / (double)module,
           (unsigned long long)in_short, (double)in_short / (double)module);
    snprintf(m, sizeof m, "%.3fx", (double)in / (double)module);
    snprintf(r, sizeof r, "short blocks: %.3fx", (double)in_short / (double)module);
    snprintf(x, sizeof x, "%.3fx", (double)in_short / (double)in);
    row("card: update bytes / package bytes", m, "<= 1.03x", r, x);
}

int main(int argc, char **argv) {
    long rounds = argc > 3 ? strtol(argv[3], NULL, 10) : 5;
    const char *only = getenv("CARD_PATHS_ONLY");
    if (argc < 3 || rounds < 1 || rounds > 16) {
        fprintf(stderr, "usage: card_paths PURSE.wasm PURSE_V2.wasm [ROUNDS (1-16)]\n");
        return 2;
    }
    purse_path = argv[1];
    purse_v2_path = argv[2];
    if (!only || !strcmp(only, "balance") || !strcmp(only, "select"))
        balance_and_select(rounds, only);
    if (!only || !strcmp(only, "migrate"))
        migrate_row(only ? 1 : rounds < 3 ? rounds : 3, only);
    if (!only || !strcmp(only, "update"))
        update_row();
    return 0;
}
