/*
 * Fuzz target: arbitrary sequences of APDUs sent to a card in memory. The
 * input is a series of records: one length byte n, then n bytes of APDU; a
 * length byte of 0 power-cycles the card. An APDU whose length byte is 3
 * modulo 4 is sent with a response buffer of only n + 2 bytes, so long
 * responses leave in parts (61xx, GET RESPONSE). Any crash, leak or sanitizer
 * report is a bug; every status word is an acceptable answer, but the card
 * must always answer one, within the buffer, and keep working (X6).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "seam/card.h"
#include "seam/nvm.h"

static uint8_t response[SEAM_CARD_RESPONSE_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_nvm *nvm = NULL;
    seam_card *card = NULL;
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len, response_len, at = 0;
    if (seam_nvm_open_memory(64 * 1024, &nvm) || seam_card_create_on(nvm, &card))
        return 0;
    if (seam_card_power_on(card, atr, sizeof atr, &atr_len))
        abort();
    for (unsigned count = 0; at < size && count < 64; count++) {
        size_t n = data[at++];
        if (n == 0) {
            if (seam_card_power_on(card, atr, sizeof atr, &atr_len))
                abort();
            continue;
        }
        size_t cap = n % 4 == 3 ? n + 2 : sizeof response;
        if (n > size - at)
            n = size - at;
        if (seam_card_transmit(card, data + at, n, response, cap, &response_len) ||
            response_len < 2 || response_len > cap)
            abort(); /* a powered card always answers with a status word */
        at += n;
    }
    seam_card_close(card);
    return 0;
}
