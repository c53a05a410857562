/*
 * NVM bench (issue 11, the NVM rows): what a purse DEBIT costs on disk and
 * how many DEBITs per second the card does in-process, side by side with the
 * rollback-journal mode of earlier versions (seam_nvm_set_journal) and with
 * raw SQLite doing the equivalent write at the same durability, in one run on
 * one disk (the directory of the card image: $TMPDIR or /tmp).
 *
 * - Counts (syncs, directory syncs, bytes to the image and to its log or
 *   journal) come from the nvm's I/O shim (seam_nvm_io_counts_get), over a
 *   run of COUNT DEBITs long enough to include the checkpoint a long log
 *   triggers, so its share is in the figure.
 * - Rates are medians over ROUNDS interleaved rounds of BLOCK DEBITs each:
 *   the card with its log, raw SQLite with a log (WAL, synchronous=FULL,
 *   locking_mode=EXCLUSIVE), the card with the rollback journal, raw SQLite
 *   with a rollback journal (DELETE, synchronous=EXTRA). Raw SQLite updates
 *   one record as large as what a DEBIT puts (key and sealed value) in a table
 *   of the same shape, with the image's page size, one transaction each. A
 *   fifth kind stands for the card before issue 11 (rollback journal, 4 KiB
 *   pages, a DEBIT putting one 4,135-byte page record), which the card itself
 *   can no longer do: raw SQLite with that journal, page size and record.
 *
 * Prints its figures and ROW lines for bench/run.sh's goals table.
 *
 * usage: card_nvm PURSE.wasm [COUNT [ROUNDS [BLOCK]]]
 */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
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
static const uint8_t purse_aid[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_pin[] = {0x04, '1', '2', '3', '4'}; /* C9: PIN length, PIN */

typedef struct {
    seam_card *card;
    seam_gp_link link;
    seam_gp *gp;
    uint8_t response[SEAM_GP_RESPONSE_MAX];
    size_t response_len;
} bench;

static void die(const char *what, unsigned code) {
    fprintf(stderr, "card_nvm: %s failed (%04X)\n", what, code);
    exit(1);
}

static void expect_ok(const char *what, seam_err e, const uint16_t *sw) {
    if (e)
        fprintf(stderr, "card_nvm: %s: %s\n", what, seam_err_str(e));
    if (e || *sw != 0x9000)
        die(what, *sw);
}

static void expect(bench *b, const char *what, const uint8_t *apdu, size_t len) {
    uint16_t sw = 0;
    seam_err e =
        seam_gp_transmit(b->gp, apdu, len, b->response, sizeof b->response, &b->response_len, &sw);
    expect_ok(what, e, &sw);
}

#define EXPECT(b, what, ...)                                                                       \
    expect(b, what, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static double clock_now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now(void) {
    return clock_now(CLOCK_MONOTONIC);
}

static void debit(bench *b) {
    EXPECT(b, "DEBIT", 0x00, 0x40, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01);
}

/* The card: created in dir, the purse loaded, installed, selected, its PIN verified. */
static void card_ready(bench *b, const char *path, const char *purse) {
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len = 0, len = 0;
    uint16_t sw = 0;
    seam_gp_keys keys;
    seam_gp_package_install in;
    if (seam_card_create(path, 0, &b->card) ||
        seam_card_power_on(b->card, atr, sizeof atr, &atr_len) ||
        seam_link_card(b->card, &b->link) || seam_gp_new(&b->link, &b->gp))
        die("card create", 0);
    seam_gp_keys_default(&keys);
    expect_ok("SELECT ISD", seam_gp_select(b->gp, isd_aid, sizeof isd_aid, &sw), &sw);
    expect_ok("SCP03", seam_gp_open_channel(b->gp, &keys, 0x00, 0x01, NULL, &sw), &sw);
    FILE *f = fopen(purse, "rb");
    uint8_t *module = malloc(65536);
    len = f && module ? fread(module, 1, 65536, f) : 0;
    if (f)
        fclose(f);
    if (!len || len == 65536)
        die(purse, 0);
    memset(&in, 0, sizeof in);
    in.module = module;
    in.module_len = len;
    in.c9 = purse_pin;
    in.c9_len = sizeof purse_pin;
    seam_gp_aid_set(&in.applet, purse_aid, sizeof purse_aid);
    expect_ok("INSTALL + LOAD + INSTALL", seam_gp_install_package(b->gp, &in, &sw), &sw);
    free(module);
    EXPECT(b, "SELECT purse", 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0, 0, 0x05, 0x50, 0x55, 0x01,
           0x00);
    EXPECT(b, "VERIFY", 0x00, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4');
    EXPECT(b, "CREDIT", 0x00, 0x30, 0x00, 0x00, 0x04, 0x7F, 0xFF, 0xFF, 0xFF);
}

static void journal(bench *b, seam_nvm_journal mode) {
    seam_err e = seam_nvm_set_journal(seam_card_nvm(b->card), mode);
    if (e)
        die(seam_err_str(e), 0);
    debit(b); /* the new log or journal exists: the blocks measure steady commits */
}

/* What n DEBITs cost on disk, per DEBIT. */
typedef struct {
    double syncs, dir_syncs, log_bytes, image_bytes, put_bytes;
} debit_cost;

static debit_cost count_debits(bench *b, long n) {
    seam_nvm *nvm = seam_card_nvm(b->card);
    seam_nvm_io_counts before, after;
    uint64_t put = 0;
    seam_nvm_io_counts_get(nvm, &before);
    for (long i = 0; i < n; i++) {
        debit(b);
        put += seam_nvm_txn_bytes_written(nvm);
    }
    seam_nvm_io_counts_get(nvm, &after);
    debit_cost c = {
        .syncs = (double)(after.syncs - before.syncs) / (double)n,
        .dir_syncs = (double)(after.directory_syncs - before.directory_syncs) / (double)n,
        .log_bytes = (double)(after.log_bytes - before.log_bytes) / (double)n,
        .image_bytes = (double)(after.image_bytes - before.image_bytes) / (double)n,
        .put_bytes = (double)put / (double)n,
    };
    return c;
}

/* ---- raw SQLite: one record as large as a DEBIT's, updated in one transaction ---- */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *update;
    size_t value_len;
    uint32_t x;
} raw_db;

static void raw_exec(raw_db *r, const char *sql) {
    char *message = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "card_nvm: raw SQLite: %s: %s\n", sql, message ? message : "");
        exit(1);
    }
}

static void raw_open(raw_db *r, const char *path, int page_size, size_t key_len, size_t value_len,
                     bool wal) {
    char sql[256];
    unlink(path);
    memset(r, 0, sizeof *r);
    r->value_len = value_len;
    r->x = 2463534242u;
    if (sqlite3_open(path, &r->db) != SQLITE_OK)
        die("raw SQLite open", 0);
    snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size);
    raw_exec(r, sql);
    raw_exec(r, wal ? "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 1000"
                    : "PRAGMA journal_mode = DELETE; PRAGMA synchronous = EXTRA");
    raw_exec(r, "CREATE TABLE t(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID");
    snprintf(sql, sizeof sql, "INSERT INTO t VALUES (zeroblob(%zu), zeroblob(%zu))", key_len,
             value_len);
    raw_exec(r, sql);
    if (sqlite3_prepare_v2(r->db, "UPDATE t SET v = ?1", -1, &r->update, NULL) != SQLITE_OK)
        die("raw SQLite prepare", 0);
}

static void raw_write(raw_db *r) {
    uint8_t value[8192];
    for (size_t i = 0; i < r->value_len; i++) { /* sealed values look random */
        r->x ^= r->x << 13, r->x ^= r->x >> 17, r->x ^= r->x << 5;
        value[i] = (uint8_t)r->x;
    }
    raw_exec(r, "BEGIN IMMEDIATE");
    sqlite3_bind_blob(r->update, 1, value, (int)r->value_len, SQLITE_STATIC);
    if (sqlite3_step(r->update) != SQLITE_DONE)
        die("raw SQLite update", 0);
    sqlite3_reset(r->update);
    raw_exec(r, "COMMIT");
}

static void raw_close(raw_db *r, const char *path) {
    sqlite3_finalize(r->update);
    sqlite3_close(r->db);
    unlink(path);
}

/* ---- rates ----------------------------------------------------------------------- */

enum { CARD_WAL, RAW_WAL, CARD_ROLLBACK, RAW_ROLLBACK, RAW_BEFORE, KINDS };

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    static bench b;
    char dir[80] = "/tmp/seam-card-nvm-XXXXXX", path[112], raw_path[3][112];
    const char *tmp = getenv("TMPDIR");
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : 1200;
    int rounds = argc > 3 ? atoi(argv[3]) : 11;
    long block = argc > 4 ? strtol(argv[4], NULL, 10) : 50;
    if (tmp && *tmp && strlen(tmp) < 40)
        snprintf(dir, sizeof dir, "%s/seam-nvm-XXXXXX", tmp);
    if (argc < 2 || count < 1 || rounds < 1 || rounds > 64 || block < 1 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: card_nvm PURSE.wasm [COUNT [ROUNDS [BLOCK]]]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/card.db", dir);
    for (int i = 0; i < 3; i++)
        snprintf(raw_path[i], sizeof raw_path[i], "%s/raw%d.db", dir, i);
    card_ready(&b, path, argv[1]);
    seam_nvm *nvm = seam_card_nvm(b.card);

    /* what one DEBIT puts: the size of raw SQLite's record */
    debit(&b);
    size_t put = (size_t)seam_nvm_txn_bytes_written(nvm), key_len = 1 + sizeof purse_aid + 3;
    size_t value_len = put > key_len && put - key_len < 4096 ? put - key_len : 157;
    sqlite3 *probe = NULL;
    int page_size = 4096;
    sqlite3_stmt *ps = NULL;
    if (sqlite3_open_v2(path, &probe, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(probe, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK &&
        sqlite3_step(ps) == SQLITE_ROW)
        page_size = sqlite3_column_int(ps, 0); /* the image's own, from its header */
    sqlite3_finalize(ps);
    sqlite3_close(probe);

    /* counts: COUNT DEBITs with the log (a checkpoint on the way), a fifth of them with
       the rollback journal */
    debit_cost wal = count_debits(&b, count);
    journal(&b, SEAM_NVM_JOURNAL_ROLLBACK);
    long old_count = count / 5 > 20 ? count / 5 : 20;
    debit_cost old = count_debits(&b, old_count);
    journal(&b, SEAM_NVM_JOURNAL_WAL);

    /* rates: interleaved rounds */
    double rate[KINDS][64], cpu[KINDS][64];
    raw_db raw[3]; /* RAW_WAL, RAW_ROLLBACK, RAW_BEFORE */
    raw_open(&raw[0], raw_path[0], page_size, key_len, value_len, true);
    raw_open(&raw[1], raw_path[1], page_size, key_len, value_len, false);
    raw_open(&raw[2], raw_path[2], 4096, key_len, 4135 - key_len, false);
    for (int round = 0; round < rounds; round++) {
        for (int kind = 0; kind < KINDS; kind++) {
            if (kind == CARD_ROLLBACK)
                journal(&b, SEAM_NVM_JOURNAL_ROLLBACK);
            if (kind == CARD_WAL && round > 0)
                journal(&b, SEAM_NVM_JOURNAL_WAL);
            raw_db *r = kind >= RAW_ROLLBACK ? &raw[kind - RAW_ROLLBACK + 1] : &raw[0];
            if (kind == RAW_WAL || kind >= RAW_ROLLBACK)
                raw_write(r); /* its log or journal exists */
            double t0 = now(), c0 = clock_now(CLOCK_PROCESS_CPUTIME_ID);
            for (long i = 0; i < block; i++) {
                if (kind == CARD_WAL || kind == CARD_ROLLBACK)
                    debit(&b);
                else
                    raw_write(r);
            }
            rate[kind][round] = (double)block / (now() - t0);
            cpu[kind][round] = (clock_now(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 / (double)block;
        }
    }
    for (int i = 0; i < 3; i++)
        raw_close(&raw[i], raw_path[i]);
    double card = median(rate[CARD_WAL], rounds), raw_wal = median(rate[RAW_WAL], rounds);
    double card_old = median(rate[CARD_ROLLBACK], rounds);
    double raw_old = median(rate[RAW_ROLLBACK], rounds);
    double raw_before = median(rate[RAW_BEFORE], rounds);

    EXPECT(&b, "BALANCE", 0x00, 0x50, 0x00, 0x00, 0x00);
    unsigned long debits = 1 + (unsigned long)count + 1 + (unsigned long)old_count + 1 +
                           (unsigned long)rounds * (unsigned long)(2 * block + 1) +
                           (unsigned long)(rounds - 1);
    unsigned long balance = (unsigned long)b.response[0] << 24 |
                            (unsigned long)b.response[1] << 16 | (unsigned long)b.response[2] << 8 |
                            b.response[3];
    if (balance != 0x7FFFFFFFul - debits)
        die("BALANCE after the debits", 0);

    printf("card image: SQLite pages of %d bytes, a DEBIT puts %.0f bytes of records "
           "(keys and sealed values)\n",
           page_size, wal.put_bytes);
    printf("write-ahead log, synchronous=FULL (%ld DEBITs): %.3f syncs + %.3f directory syncs, "
           "%.0f bytes (log %.0f, image %.0f) per DEBIT\n",
           count, wal.syncs, wal.dir_syncs, wal.log_bytes + wal.image_bytes, wal.log_bytes,
           wal.image_bytes);
    printf("rollback journal, synchronous=EXTRA (%ld DEBITs): %.3f syncs + %.3f directory syncs, "
           "%.0f bytes (journal %.0f, image %.0f) per DEBIT\n",
           old_count, old.syncs, old.dir_syncs, old.log_bytes + old.image_bytes, old.log_bytes,
           old.image_bytes);
    printf("DEBIT/s in-process, medians of %d interleaved rounds of %ld: card %.0f, raw SQLite "
           "%.0f (WAL); card %.0f, raw SQLite %.0f (rollback journal)\n",
           rounds, block, card, raw_wal, card_old, raw_old);
    printf("DEBIT/s as the card was before issue 11 (raw SQLite, rollback journal, 4 KiB pages, "
           "a 4135-byte record): %.0f\n",
           raw_before);
    printf("CPU time per DEBIT (medians; user + system, the rest of the wall time waits on the "
           "disk): card %.0f us, raw SQLite %.0f us (WAL); card %.0f us, raw SQLite %.0f us "
           "(rollback journal)\n",
           median(cpu[CARD_WAL], rounds), median(cpu[RAW_WAL], rounds),
           median(cpu[CARD_ROLLBACK], rounds), median(cpu[RAW_ROLLBACK], rounds));

    printf("ROW\tNVM: syncs per purse DEBIT\t%.2f\t1\trollback journal: %.2f\t%.1fx fewer\n",
           wal.syncs + wal.dir_syncs, old.syncs + old.dir_syncs,
           (old.syncs + old.dir_syncs) / (wal.syncs + wal.dir_syncs));
    printf("ROW\tNVM: bytes written to disk per DEBIT\t%.0f B\t<= 1 KiB\trollback journal: %.0f B"
           "\t%.1fx fewer\n",
           wal.log_bytes + wal.image_bytes, old.log_bytes + old.image_bytes,
           (old.log_bytes + old.image_bytes) / (wal.log_bytes + wal.image_bytes));
    printf("ROW\tNVM: DEBIT/s in process\t%.0f/s\t>= 3x before\trollback journal: %.0f/s\t%.2fx"
           "\n",
           card, card_old, card / card_old);
    printf("ROW\tNVM: DEBIT/s vs the card before issue 11\t%.0f/s\t>= 3x\t"
           "raw SQLite as before (4 KiB pages, journal): %.0f/s\t%.2fx\n",
           card, raw_before, card / raw_before);
    printf("ROW\tNVM: DEBIT/s vs raw SQLite, same durability\t%.0f/s\t-\traw SQLite WAL: %.0f/s"
           "\t%.2fx\n",
           card, raw_wal, card / raw_wal);

    seam_gp_free(b.gp);
    seam_gp_link_close(&b.link);
    seam_card_close(b.card);
    seam_card_remove(path);
    rmdir(dir);
    return 0;
}
