/*
 * Fuzz target: arbitrary APDU sequences sent through an open SCP03 channel
 * (level 03: C-MAC and C-DECRYPTION, the GlobalPlatform test keys), so that
 * the card content management commands behind the secure channel are reached:
 * INSTALL, LOAD, DELETE, STORE DATA with its DGIs (7F70, 7F71), PUT KEY,
 * SET STATUS, GET STATUS and MANAGE ELF UPGRADE. The input is a series of
 * records: one length byte n, then n bytes of APDU; GP-class commands (CLA
 * 80..83) are wrapped by the host side before they are sent; a length byte
 * of 0 reopens the secure channel. Every status word is acceptable; a crash,
 * leak or sanitizer report is a bug, and the card must always answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/nvm.h"

static uint8_t response[SEAM_CARD_RESPONSE_MAX];

static void transmit(seam_card *card, const uint8_t *apdu, size_t n, size_t *response_len) {
    if (seam_card_transmit(card, apdu, n, response, sizeof response, response_len) ||
        *response_len < 2)
        abort(); /* a powered card always answers with a status word */
}

/* SELECT of the ISD, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE at level 03. */
static void open_channel(seam_card *card, seam_crypto_scp03_host *host) {
    static const uint8_t key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                    0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F};
    static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    uint8_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, external[21];
    uint8_t init[5 + 8 + 1] = {0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00};
    size_t len = 0;
    transmit(card, select, sizeof select, &len);
    transmit(card, init, sizeof init, &len);
    if (seam_crypto_scp03_host_open(host, key, key, sizeof key, hc, response, len - 2, 0x03, 0,
                                    external) == SEAM_OK)
        transmit(card, external, sizeof external, &len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_nvm *nvm = NULL;
    seam_card *card = NULL;
    seam_crypto_scp03_host host;
    uint8_t atr[SEAM_CARD_ATR_MAX], wrapped[600];
    size_t atr_len, response_len, wrapped_len, at = 0;
    memset(&host, 0, sizeof host);
    if (seam_nvm_open_memory(256 * 1024, &nvm) || seam_card_create_on(nvm, &card))
        return 0;
    if (seam_card_power_on(card, atr, sizeof atr, &atr_len))
        abort();
    open_channel(card, &host);
    for (unsigned count = 0; at < size && count < 64; count++) {
        size_t n = data[at++];
        if (n == 0) {
            open_channel(card, &host);
            continue;
        }
        if (n > size - at)
            n = size - at;
        if (host.open && n >= 4 && (data[at] & 0xFC) == 0x80 &&
            seam_crypto_scp03_host_wrap(&host, data + at, n, wrapped, sizeof wrapped,
                                        &wrapped_len) == SEAM_OK)
            transmit(card, wrapped, wrapped_len, &response_len);
        else
            transmit(card, data + at, n, &response_len);
        at += n;
    }
    seam_crypto_scp03_host_close(&host);
    seam_card_close(card);
    return 0;
}
