/*
 * A host link to a card in a PC/SC reader, through libpcsclite (Debian
 * libpcsclite-dev): real GlobalPlatform cards, and seam cards served to pcscd
 * by `seam card serve` through vsmartcard's vpcd driver (docs/gp.md).
 *
 * States: CONNECTED (after seam_link_pcsc_open, the card powered) ──power
 * off──▶ UNPOWERED (SCardDisconnect with SCARD_UNPOWER_CARD) ──power on──▶
 * CONNECTED (a new SCardConnect). Reset is SCardReconnect with
 * SCARD_RESET_CARD. Close disconnects and releases the context.
 */
#include <stdlib.h>
#include <string.h>

#include <winscard.h>
#include <wintypes.h>

#include "seam/link.h"

typedef struct {
    SCARDCONTEXT context;
    SCARDHANDLE card;
    bool connected;
    DWORD protocol;
    char reader[256];
} pcsc_link;

static _Thread_local const char *last_error = "";

const char *seam_link_pcsc_error(void) {
    return last_error;
}

/* The seam_err of a PC/SC result, remembering its text. */
static seam_err pcsc_err(LONG rv) {
    if (rv == SCARD_S_SUCCESS)
        return SEAM_OK;
    last_error = pcsc_stringify_error(rv);
    switch (rv) {
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
        return SEAM_ERR_LINK_NO_SERVICE;
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
        return SEAM_ERR_LINK_NO_READER;
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNRESPONSIVE_CARD:
        return SEAM_ERR_LINK_NO_CARD;
    case SCARD_E_NO_MEMORY:
        return SEAM_ERR_NOMEM;
    case SCARD_E_INSUFFICIENT_BUFFER:
        return SEAM_ERR_BUFFER_SMALL;
    default:
        return SEAM_ERR_LINK;
    }
}

/* Lists the readers of context into a new string list in *list (the caller frees it). */
static seam_err list_readers(SCARDCONTEXT context, char **list, DWORD *len) {
    LONG rv = SCardListReaders(context, NULL, NULL, len);
    *list = NULL;
    if (rv == SCARD_S_SUCCESS) {
        *list = calloc(1, *len + 1);
        if (!*list)
            return SEAM_ERR_NOMEM;
        rv = SCardListReaders(context, NULL, *list, len);
    }
    if (rv != SCARD_S_SUCCESS) {
        free(*list);
        *list = NULL;
    }
    return pcsc_err(rv);
}

seam_err seam_link_pcsc_readers(char *names, size_t size, size_t *len) {
    SCARDCONTEXT context;
    char *list = NULL;
    DWORD n = 0;
    seam_err e = pcsc_err(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &context));
    if (e)
        return e;
    e = list_readers(context, &list, &n);
    if (!e) {
        *len = n;
        if (n > size)
            e = SEAM_ERR_BUFFER_SMALL;
        else
            memcpy(names, list, n);
    }
    free(list);
    SCardReleaseContext(context);
    return e;
}

/* Connects l->card to l->reader. */
static seam_err connect_card(pcsc_link *l) {
    LONG rv = SCardConnect(l->context, l->reader, SCARD_SHARE_SHARED,
                           SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &l->card, &l->protocol);
    l->connected = rv == SCARD_S_SUCCESS;
    return pcsc_err(rv);
}

/* Writes the ATR of the connected card. */
static seam_err read_atr(pcsc_link *l, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    BYTE buf[MAX_ATR_SIZE];
    DWORD n = sizeof buf, state = 0, protocol = 0;
    LONG rv = SCardStatus(l->card, NULL, NULL, &state, &protocol, buf, &n);
    seam_err e = pcsc_err(rv);
    if (!e && n > atr_size)
        e = SEAM_ERR_BUFFER_SMALL;
    if (!e) {
        memcpy(atr, buf, n);
        *atr_len = n;
    }
    return e;
}

static seam_err pcsc_power_on(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    pcsc_link *l = ctx;
    seam_err e = SEAM_OK;
    if (l->connected)
        e = pcsc_err(SCardReconnect(l->card, SCARD_SHARE_SHARED,
                                    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD,
                                    &l->protocol));
    else
        e = connect_card(l);
    return e ? e : read_atr(l, atr, atr_size, atr_len);
}

static seam_err pcsc_reset(void *ctx, uint8_t *atr, size_t atr_size, size_t *atr_len) {
    return pcsc_power_on(ctx, atr, atr_size, atr_len);
}

static seam_err pcsc_power_off(void *ctx) {
    pcsc_link *l = ctx;
    LONG rv = SCARD_S_SUCCESS;
    if (l->connected)
        rv = SCardDisconnect(l->card, SCARD_UNPOWER_CARD);
    l->connected = false;
    return pcsc_err(rv);
}

static seam_err pcsc_transmit(void *ctx, const uint8_t *command, size_t len, uint8_t *response,
                              size_t response_size, size_t *response_len) {
    pcsc_link *l = ctx;
    const SCARD_IO_REQUEST *pci = l->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    DWORD n = response_size > 65538 ? 65538 : (DWORD)response_size;
    seam_err e = l->connected ? SEAM_OK : connect_card(l);
    if (!e)
        e = pcsc_err(SCardTransmit(l->card, pci, command, (DWORD)len, NULL, response, &n));
    if (!e)
        *response_len = n;
    return e;
}

static void pcsc_close(void *ctx) {
    pcsc_link *l = ctx;
    if (!l)
        return;
    if (l->connected)
        SCardDisconnect(l->card, SCARD_LEAVE_CARD);
    SCardReleaseContext(l->context);
    free(l);
}

static const seam_gp_link_ops pcsc_ops = {
    .power_on = pcsc_power_on,
    .reset = pcsc_reset,
    .power_off = pcsc_power_off,
    .transmit = pcsc_transmit,
    .close = pcsc_close,
};

/* Picks reader (or the first) from the NUL-separated list into l->reader. */
static seam_err pick_reader(pcsc_link *l, const char *list, DWORD n, const char *reader) {
    for (const char *r = list; r < list + n && *r; r += strlen(r) + 1) {
        if (!reader || !strcmp(r, reader)) {
            if (strlen(r) >= sizeof l->reader)
                break;
            strcpy(l->reader, r);
            return SEAM_OK;
        }
    }
    last_error = "no reader of that name";
    return SEAM_ERR_LINK_NO_READER;
}

seam_err seam_link_pcsc_open(const char *reader, seam_gp_link *out) {
    pcsc_link *l = calloc(1, sizeof *l);
    char *list = NULL;
    DWORD n = 0;
    seam_err e = l ? SEAM_OK : SEAM_ERR_NOMEM;
    bool context = false;
    if (!out)
        e = SEAM_ERR_ARG;
    if (!e) {
        e = pcsc_err(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &l->context));
        context = !e;
    }
    if (!e)
        e = list_readers(l->context, &list, &n);
    if (!e)
        e = pick_reader(l, list, n, reader);
    if (!e)
        e = connect_card(l);
    free(list);
    if (e) {
        if (context)
            SCardReleaseContext(l->context);
        free(l);
        return e;
    }
    out->ops = &pcsc_ops;
    out->ctx = l;
    out->kind = "pcsc";
    return SEAM_OK;
}
