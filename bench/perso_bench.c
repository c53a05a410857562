/*
 * Personalization outside the card (issue 15: P9, P12; bench/README.md "The perso bench"):
 * what an update personalized outside the card costs, beside the card's own update measured
 * in the same run on a card in the same state.
 *
 * Each round makes four cards with the built `seam` (not timed): the issuer's domain
 * (`seam terminal perso domain`) and purse 1.0 installed and personalized through it
 * (`seam terminal perso install`, PIN 4321, balance 500), or the same on a flash card
 * (`seam flashcard new`, `store`, `install`). Then, timed, in this process, purse 2.0:
 *  - reference: the card's own update through the same domain (MANAGE ELF UPGRADE start,
 *    LOAD, migrate: the card replays its record; seam_gp_upgrade_package);
 *  - FIG. 10 / P9: the terminal's update (seam_perso_update: export under R-ENC into the
 *    terminal's store, the new version personalized from it, LOAD, DGI 7F71, migrate);
 *  - FIG. 11: the flash card's controller, told by one UPDATE host frame;
 *  - FIG. 12: the terminal's update over the controller's relay (seam_flashcard_host_link).
 * Bytes are those on the card's interface (every wrapped command and response, counted by
 * the gp session's trace). Medians over ROUNDS rounds (default 5).
 *
 * usage: perso_bench SEAM APPS_DIR [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seam/flashcard.h"
#include "seam/gp.h"
#include "seam/link.h"
#include "seam/perso.h"
#include "seam/util.h"

#define ROUNDS_MAX 16
#define DOMAIN     "A0000005591000DD"
#define PERSO      "A0000005505501:DF010434333231DF0204000001F4"

static const char *seam_bin, *apps;
static char dir[64];

static void die(const char *what, seam_err err) {
    fprintf(stderr, "perso_bench: %s: %s\n", what, seam_err_str(err));
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the built seam with args (a format), its output into out[0..cap) when out is given. */
static void seam_run(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seam_run(char *out, size_t cap, const char *fmt, ...) {
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", seam_bin, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen", SEAM_ERR_IO);
    size_t n = out ? fread(out, 1, cap - 1, p) : 0;
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0)
        continue;
    if (out)
        out[n] = '\0';
    if (pclose(p) != 0) {
        fprintf(stderr, "perso_bench: seam %s failed\n", args);
        exit(1);
    }
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, SEAM_ERR_IO);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        die(path, SEAM_ERR_IO);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The bytes on the card's interface: wrapped commands and responses as sent and received. */
static void count_bytes(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    (void)bytes;
    if (point == SEAM_GP_TRACE_COMMAND_WRAPPED || point == SEAM_GP_TRACE_RESPONSE_WRAPPED)
        *(size_t *)ctx += len;
}

typedef struct {
    seam_gp_link link;
    seam_gp *gp;
    seam_perso_domain domain;
    seam_perso_store *store;
    seam_perso_actor actor;
    size_t bytes;
} host;

/* A session over link (taken) with the domain of keys_path and, when store_path is given,
   the terminal's restore store; the card powered on and its CIN read. */
static void host_open(host *h, seam_gp_link link, const char *keys_path, const char *store_path) {
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    uint8_t atr[SEAM_GP_ATR_MAX], data[64];
    size_t atr_len, n;
    uint16_t sw;
    memset(h, 0, sizeof *h);
    h->link = link;
    seam_err e = seam_gp_new(&h->link, &h->gp);
    if (!e)
        e = seam_perso_domain_load(keys_path, &h->domain);
    if (!e && store_path)
        e = seam_perso_store_open(store_path, &h->store);
    if (!e)
        e = seam_gp_link_power_on(&h->link, atr, sizeof atr, &atr_len);
    if (!e)
        e = seam_gp_transmit(h->gp, select_isd, sizeof select_isd, NULL, 0, NULL, &sw);
    if (!e)
        e = seam_gp_transmit(h->gp, get_cin, sizeof get_cin, data, sizeof data, &n, &sw);
    if (e || sw != 0x9000 || n < 3 || data[1] != n - 2 || n - 2 > SEAM_PERSO_CIN_MAX)
        die("opening the card", e ? e : SEAM_ERR_GP_RESPONSE);
    memcpy(h->actor.cin, data + 2, n - 2);
    h->actor.cin_len = n - 2;
    h->actor.gp = h->gp;
    h->actor.domain = &h->domain;
    h->actor.store = h->store;
    seam_gp_set_trace(h->gp, count_bytes, &h->bytes);
}

static void host_close(host *h) {
    seam_gp_free(h->gp);
    seam_perso_store_close(h->store);
    seam_gp_link_close(&h->link);
}

/* A card image at NAME.db with the domain (NAME.keys) and the purse 1.0 personalized. */
static void terminal_card(const char *name) {
    seam_run(NULL, 0, "card new --image %s/%s.db", dir, name);
    seam_run(NULL, 0,
             "terminal perso domain --image %s/%s.db --isd-keys default --aid " DOMAIN
             " --out %s/%s.keys",
             dir, name, dir, name);
    seam_run(NULL, 0,
             "terminal perso install --image %s/%s.db --domain-keys %s/%s.keys --state "
             "%s/%s.state --perso " PERSO " %s/purse.wasm",
             dir, name, dir, name, dir, name, apps);
}

typedef struct {
    double seconds;
    size_t bytes;
} sample;

/* The reference: the card's own update through the domain. */
static sample reference(const uint8_t *v2, size_t v2_len) {
    char path[160], keys[160];
    seam_gp_link link;
    host h;
    uint16_t sw;
    seam_gp_upgrade_report rep;
    terminal_card("ref");
    snprintf(path, sizeof path, "%s/ref.db", dir);
    snprintf(keys, sizeof keys, "%s/ref.keys", dir);
    seam_err e = seam_link_image_open(path, &link);
    if (e)
        die("ref.db", e);
    host_open(&h, link, keys, NULL);
    double t0 = now();
    e = seam_perso_domain_open(h.gp, &h.domain, &sw);
    if (!e && sw == 0x9000)
        e = seam_gp_upgrade_package(h.gp, v2, v2_len, NULL, NULL, NULL, &rep, &sw);
    double t1 = now();
    if (e || sw != 0x9000 || !rep.migrated)
        die("the card's own update", e ? e : SEAM_ERR_GP_RESPONSE);
    sample s = {t1 - t0, h.bytes};
    host_close(&h);
    return s;
}

/* FIG. 10 / P9: the terminal's update of a card it holds. */
static sample terminal_update(const uint8_t *v2, size_t v2_len) {
    char path[160], keys[160], store[160];
    seam_gp_link link;
    host h;
    seam_perso_report rep;
    terminal_card("term");
    snprintf(path, sizeof path, "%s/term.db", dir);
    snprintf(keys, sizeof keys, "%s/term.keys", dir);
    snprintf(store, sizeof store, "%s/term.state", dir);
    seam_err e = seam_link_image_open(path, &link);
    if (e)
        die("term.db", e);
    host_open(&h, link, keys, store);
    double t0 = now();
    e = seam_perso_update(&h.actor, v2, v2_len, &rep);
    double t1 = now();
    if (e || rep.reason[0])
        die(rep.reason[0] ? rep.reason : "the terminal's update", e ? e : SEAM_ERR_GP_RESPONSE);
    sample s = {t1 - t0, h.bytes};
    host_close(&h);
    return s;
}

/* A flash card at NAME with purse 1.0 installed by its controller and 2.0 stored; its CIN. */
static void flash_card(const char *name, bool store_v2) {
    char out[512], cin[40] = "";
    seam_run(NULL, 0, "flashcard new %s/%s", dir, name);
    seam_run(out, sizeof out, "flashcard status %s/%s", dir, name);
    if (sscanf(out, "cin %39[0-9A-F]", cin) != 1)
        die("flashcard status", SEAM_ERR_MALFORMED);
    seam_run(NULL, 0, "flashcard store %s/%s %s/purse.wasm --cin %s", dir, name, apps, cin);
    seam_run(NULL, 0, "flashcard install %s/%s A00000055055 --perso " PERSO, dir, name);
    if (store_v2)
        seam_run(NULL, 0, "flashcard store %s/%s %s/purse_v2.wasm --cin %s", dir, name, apps, cin);
}

/* FIG. 11: the controller updates the purse from its flash, told by one UPDATE frame. */
static sample controller_update(void) {
    static const uint8_t update_value[] = {6, 0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
    char path[160];
    uint8_t frame[64], answer[1024];
    size_t frame_len, answer_len;
    seam_flashcard *fc;
    flash_card("fc11", true);
    snprintf(path, sizeof path, "%s/fc11", dir);
    seam_err e = seam_flashcard_open(path, &fc);
    if (!e)
        e = seam_flashcard_frame_encode(SEAM_FLASHCARD_CMD_UPDATE, update_value,
                                        sizeof update_value, frame, sizeof frame, &frame_len);
    if (e)
        die("fc11", e);
    double t0 = now();
    e = seam_flashcard_host(fc, frame, frame_len, answer, sizeof answer, &answer_len);
    double t1 = now();
    if (e || answer[0] != SEAM_FLASHCARD_ANSWER_DONE)
        die(seam_flashcard_reason(fc), e ? e : SEAM_ERR_GP_RESPONSE);
    seam_flashcard_close(fc);
    sample s = {t1 - t0, 0};
    return s;
}

/* FIG. 12: the terminal's update through the controller's relay. */
static sample relayed_update(const uint8_t *v2, size_t v2_len) {
    char path[160], image[160], keys[160], store[160];
    seam_flashcard *fc;
    seam_gp_link link;
    host h;
    seam_perso_report rep;
    seam_run(NULL, 0, "flashcard new %s/fc12", dir);
    seam_run(NULL, 0,
             "terminal perso domain --image %s/fc12/card.db --isd-keys default --aid "
             "A0000005591000EE --out %s/fc12.keys",
             dir, dir);
    seam_run(NULL, 0,
             "terminal perso install --image %s/fc12/card.db --domain-keys %s/fc12.keys "
             "--state %s/fc12.state --perso " PERSO " %s/purse.wasm",
             dir, dir, dir, apps);
    snprintf(path, sizeof path, "%s/fc12", dir);
    snprintf(image, sizeof image, "%s/fc12/card.db", dir);
    snprintf(keys, sizeof keys, "%s/fc12.keys", dir);
    snprintf(store, sizeof store, "%s/fc12.state", dir);
    seam_err e = seam_flashcard_open(path, &fc);
    if (!e)
        e = seam_flashcard_host_link(fc, &link);
    if (e)
        die("fc12", e);
    host_open(&h, link, keys, store);
    double t0 = now();
    e = seam_perso_update(&h.actor, v2, v2_len, &rep);
    double t1 = now();
    if (e || rep.reason[0])
        die(rep.reason[0] ? rep.reason : "the relayed update", e ? e : SEAM_ERR_GP_RESPONSE);
    sample s = {t1 - t0, h.bytes};
    host_close(&h);
    seam_flashcard_close(fc);
    return s;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: perso_bench SEAM APPS_DIR [ROUNDS]\n");
        return 2;
    }
    seam_bin = argv[1];
    apps = argv[2];
    int rounds = argc == 4 ? atoi(argv[3]) : 5;
    if (rounds < 1 || rounds > ROUNDS_MAX) {
        fprintf(stderr, "perso_bench: ROUNDS is 1..%d\n", ROUNDS_MAX);
        return 2;
    }
    char v2_path[512];
    size_t v2_len;
    snprintf(v2_path, sizeof v2_path, "%s/purse_v2.wasm", apps);
    uint8_t *v2 = read_file(v2_path, &v2_len);
    double t_ref[ROUNDS_MAX], t_term[ROUNDS_MAX], t_ctl[ROUNDS_MAX], t_relay[ROUNDS_MAX];
    double b_ref[ROUNDS_MAX], b_term[ROUNDS_MAX], b_relay[ROUNDS_MAX];
    for (int r = 0; r < rounds; r++) {
        snprintf(dir, sizeof dir, "/tmp/seam-perso-bench-XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp", SEAM_ERR_IO);
        /* interleaved, so that a slower moment of the machine hits every variant */
        sample ref = reference(v2, v2_len), term = terminal_update(v2, v2_len);
        sample ctl = controller_update(), relay = relayed_update(v2, v2_len);
        t_ref[r] = ref.seconds;
        b_ref[r] = (double)ref.bytes;
        t_term[r] = term.seconds;
        b_term[r] = (double)term.bytes;
        t_ctl[r] = ctl.seconds;
        t_relay[r] = relay.seconds;
        b_relay[r] = (double)relay.bytes;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            die("rm", SEAM_ERR_IO);
    }
    free(v2);
    double ref = median(t_ref, (size_t)rounds), term = median(t_term, (size_t)rounds);
    double ctl = median(t_ctl, (size_t)rounds), relay = median(t_relay, (size_t)rounds);
    double bref = median(b_ref, (size_t)rounds), bterm = median(b_term, (size_t)rounds);
    double brelay = median(b_relay, (size_t)rounds);
    printf("purse 1.0 -> 2.0 (%zu-byte module), medians of %d rounds\n", v2_len, rounds);
    printf("%-52s %10s %12s\n", "variant", "seconds", "card bytes");
    printf("%-52s %10.4f %12.0f\n", "the card's own update, through the domain", ref, bref);
    printf("%-52s %10.4f %12.0f\n", "P9 in the terminal, card in the terminal (FIG. 10)", term,
           bterm);
    printf("%-52s %10.4f %12s\n", "the flash card's controller (FIG. 11)", ctl, "inside");
    printf("%-52s %10.4f %12.0f\n", "the terminal through the controller (FIG. 12)", relay, brelay);
    printf("ROW\tperso: P9 update in the terminal (FIG. 10)\t%.4f s\treported\tcard's own update: "
           "%.4f s\t%.2fx\n",
           term, ref, term / ref);
    printf("ROW\tperso: P9 bytes on the card's interface\t%.0f B\treported\tcard's own update: "
           "%.0f B\t%.2fx\n",
           bterm, bref, bterm / bref);
    printf("ROW\tflashcard: the controller's update (FIG. 11)\t%.4f s\treported\tFIG. 10: %.4f "
           "s\t%.2fx\n",
           ctl, term, ctl / term);
    printf("ROW\tflashcard: the terminal through it (FIG. 12)\t%.4f s\treported\tFIG. 10: %.4f "
           "s\t%.2fx\n",
           relay, term, relay / term);
    return 0;
}
