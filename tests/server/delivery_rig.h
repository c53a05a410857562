/*
 * What the tests of campaigns personalized in the terminal share (test_terminal_delivery.c,
 * test_terminal_delivery_kill.c): the built `seam`, running it, and a card image's CIN read
 * in this process. Header-only; include after kill_harness.h.
 */
#ifndef SEAM_TESTS_SERVER_DELIVERY_RIG_H
#define SEAM_TESTS_SERVER_DELIVERY_RIG_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "seam/card.h"
#include "seam/gp.h"
#include "seam/link.h"

static inline const char *seam_bin(void) {
    static char bin[512];
    const char *build = getenv("SEAM_BUILD_DIR");
    snprintf(bin, sizeof bin, "%s/seam", build ? build : "build/release");
    return bin;
}

/* Runs a command line; its first output line into out (may be NULL); 0..255 its exit
   status, 128 + n killed by signal n. */
static inline int run_cmd(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512] = "";
    if (out) {
        out[0] = '\0';
        if (fgets(line, sizeof line, p))
            snprintf(out, cap, "%.*s", (int)strcspn(line, "\n"), line);
    }
    while (fgets(line, sizeof line, p))
        continue;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* The card's CIN (SELECT of the ISD, GET DATA 45) into hex, read in this process. */
static inline void image_cin(const char *image, char *hex) {
    seam_card *card = NULL;
    seam_gp_link link;
    uint8_t atr[SEAM_GP_ATR_MAX], answer[64];
    size_t atr_len = 0, got = 0;
    static const uint8_t select_isd[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    static const uint8_t get_cin[] = {0x80, 0xCA, 0x00, 0x45, 0x00};
    assert_int_equal(seam_card_open(image, &card), SEAM_OK);
    assert_int_equal(seam_link_card(card, &link), SEAM_OK);
    assert_int_equal(seam_gp_link_power_on(&link, atr, sizeof atr, &atr_len), SEAM_OK);
    assert_int_equal(
        seam_gp_link_transmit(&link, select_isd, sizeof select_isd, answer, sizeof answer, &got),
        SEAM_OK);
    assert_int_equal(
        seam_gp_link_transmit(&link, get_cin, sizeof get_cin, answer, sizeof answer, &got),
        SEAM_OK);
    assert_true(got > 4 && answer[got - 2] == 0x90 && answer[0] == 0x45 && answer[1] > 0);
    for (size_t k = 0; k < answer[1]; k++)
        snprintf(hex + 2 * k, 3, "%02X", answer[2 + k]);
    seam_gp_link_close(&link);
    seam_card_close(card);
}

#endif
