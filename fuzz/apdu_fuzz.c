/*
 * libFuzzer target for the command APDU codec: parses the input, checks the
 * parsed fields against the input, re-encodes and compares byte for byte,
 * decodes the class byte, and runs the response through the GET RESPONSE
 * remainder with Ne taken from the command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/iso/apdu.h"
#include "card/iso/sw.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "apdu_fuzz: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Sends the input back as a response under ne and fetches it all with GET RESPONSE. */
static void check_response_chain(const uint8_t *data, size_t size, size_t ne) {
    static uint8_t storage[SEAM_APDU_MAX_LEN];
    static uint8_t out[SEAM_APDU_MAX_NE + 2];
    seam_apdu_remainder rem;
    seam_apdu_remainder_init(&rem, storage, sizeof storage);
    size_t out_len = 0;
    CHECK(seam_apdu_remainder_send(&rem, data, size, SEAM_SW_SUCCESS, ne, out, sizeof out,
                                   &out_len) == SEAM_OK);
    size_t sent = out_len - 2;
    CHECK(sent <= size && (sent == 0 || memcmp(out, data, sent) == 0));
    size_t get_ne = ne ? ne : 256;
    while (seam_apdu_remainder_pending(&rem)) {
        CHECK(out[out_len - 2] == 0x61);
        CHECK(seam_apdu_remainder_get(&rem, get_ne, out, sizeof out, &out_len) == SEAM_OK);
        size_t part = out_len - 2;
        CHECK(part >= 1 && sent + part <= size && memcmp(out, data + sent, part) == 0);
        sent += part;
    }
    CHECK(sent == size);
    CHECK(out[out_len - 2] == 0x90 && out[out_len - 1] == 0x00);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_apdu apdu;
    seam_err err = seam_apdu_parse(data, size, &apdu);
    if (err != SEAM_OK) {
        CHECK(err == SEAM_ERR_MALFORMED);
        return 0;
    }
    CHECK(size >= 4 && apdu.cla == data[0] && apdu.ins == data[1]);
    CHECK(apdu.apdu_case >= 1 && apdu.apdu_case <= 4);
    CHECK((apdu.nc > 0) == (apdu.apdu_case >= 3));
    CHECK((apdu.ne > 0) == (apdu.apdu_case == 2 || apdu.apdu_case == 4));
    CHECK(apdu.nc <= SEAM_APDU_MAX_NC && apdu.ne <= SEAM_APDU_MAX_NE);
    if (apdu.nc)
        CHECK(apdu.data > data && apdu.data + apdu.nc <= data + size);
    uint8_t *out = malloc(size);
    CHECK(out != NULL);
    size_t out_len = 0;
    CHECK(seam_apdu_encode(&apdu, out, size, &out_len) == SEAM_OK);
    CHECK(out_len == size && memcmp(out, data, size) == 0);
    free(out);
    seam_apdu_class cls;
    err = seam_apdu_class_decode(apdu.cla, &cls);
    CHECK(err == SEAM_OK || err == SEAM_ERR_CARD_CLA);
    if (err == SEAM_OK)
        CHECK(cls.channel <= 19 && cls.chained == seam_apdu_cla_chained(apdu.cla));
    check_response_chain(data, size, apdu.ne);
    return 0;
}
