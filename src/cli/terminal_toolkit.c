/*
 * seam terminal event|menu, and the toolkit messages a running terminal takes
 * on its trigger socket (terminal_cli.h, docs/terminal.md "The toolkit").
 *
 * A datagram that starts with "seam-tk1 " is a toolkit message: printable
 * ASCII, at most TERMINAL_MSG_MAX bytes, words separated by spaces:
 *
 *   seam-tk1 event location normal|limited|none [LOCATION-HEX]
 *   seam-tk1 event call-connected|call-disconnected [TRANSACTION-ID-HEX]
 *   seam-tk1 event data-available [CHANNEL 1..7 [LENGTH 0..255]]
 *   seam-tk1 event idle-screen
 *   seam-tk1 event capabilities [sync|no-sync]   (what changed; the terminal
 *                                       re-sends TERMINAL PROFILE first)
 *   seam-tk1 event language CODE        (2 lower-case letters)
 *   seam-tk1 menu ITEM                  (1..255)
 *
 * Anything else is a plain poke, whose content is never read. A toolkit
 * message that breaks these rules is dropped (with a line on stderr): it can
 * neither start a session nor reach the card.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/toolkit.h"
#include "seam/util.h"
#include "terminal_cli.h"

#define MAGIC "seam-tk1 "

static const struct {
    const char *name;
    uint8_t event;
} kinds[] = {
    {"location", SEAM_TK_EVENT_LOCATION_STATUS},
    {"call-connected", SEAM_TK_EVENT_CALL_CONNECTED},
    {"call-disconnected", SEAM_TK_EVENT_CALL_DISCONNECTED},
    {"data-available", SEAM_TK_EVENT_DATA_AVAILABLE},
    {"idle-screen", SEAM_TK_EVENT_IDLE_SCREEN},
    {"language", SEAM_TK_EVENT_LANGUAGE_SELECTION},
    {"capabilities", SEAM_TK_EVENT_CAPABILITIES_CHANGED},
};

static bool number(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Appends an object to m->extra; false when it does not fit. */
static bool put(terminal_tk_msg *m, uint16_t tag, const uint8_t *v, size_t len) {
    return seam_ctlv_put(tag, true, v, len, m->extra, sizeof m->extra, &m->extra_len) == SEAM_OK;
}

/* The event's objects from its words w[0..n). */
static bool event_args(terminal_tk_msg *m, char **w, size_t n) {
    uint8_t b[16];
    size_t len = 0;
    unsigned long v, l;
    switch (m->event) {
    case SEAM_TK_EVENT_LOCATION_STATUS:
        if (n < 1 || n > 2)
            return false;
        b[0] = !strcmp(w[0], "normal")    ? 0
               : !strcmp(w[0], "limited") ? 1
               : !strcmp(w[0], "none")    ? 2
                                          : 0xFF;
        if (b[0] == 0xFF || !put(m, SEAM_TK_TAG_LOCATION_STATUS, b, 1))
            return false;
        if (n == 2) {
            if (b[0] != 0 || seam_hex_decode(w[1], strlen(w[1]), b, sizeof b, &len) || len < 5 ||
                len > 9)
                return false;
            return put(m, SEAM_TK_TAG_LOCATION_INFO, b, len);
        }
        return true; /* normal service: the terminal adds its own location */
    case SEAM_TK_EVENT_CALL_CONNECTED:
    case SEAM_TK_EVENT_CALL_DISCONNECTED:
        b[0] = 0;
        if (n > 1 || (n == 1 && (seam_hex_decode(w[0], strlen(w[0]), b, 1, &len) || len != 1)))
            return false;
        return put(m, SEAM_TK_TAG_TRANSACTION_ID, b, 1);
    case SEAM_TK_EVENT_DATA_AVAILABLE:
        v = 1;
        l = 255;
        if (n > 2 || (n >= 1 && !number(w[0], 1, 7, &v)) || (n == 2 && !number(w[1], 0, 255, &l)))
            return false;
        b[0] = (uint8_t)(0x80u | v); /* channel v, link established (TS 102 223 §8.56) */
        b[1] = 0;
        b[2] = (uint8_t)l;
        return put(m, SEAM_TK_TAG_CHANNEL_STATUS, b, 2) &&
               put(m, SEAM_TK_TAG_CHANNEL_DATA_LEN, b + 2, 1);
    case SEAM_TK_EVENT_LANGUAGE_SELECTION:
        if (n != 1 || strlen(w[0]) != 2 || w[0][0] < 'a' || w[0][0] > 'z' || w[0][1] < 'a' ||
            w[0][1] > 'z')
            return false;
        return put(m, SEAM_TK_TAG_LANGUAGE, (const uint8_t *)w[0], 2);
    case SEAM_TK_EVENT_CAPABILITIES_CHANGED:
        if (n == 1)
            m->caps = !strcmp(w[0], "sync") ? 1 : !strcmp(w[0], "no-sync") ? 2 : 0;
        return n == 0 || m->caps != 0;
    default:
        return n == 0;
    }
}

int terminal_tk_msg_parse(const char *data, size_t len, terminal_tk_msg *out) {
    char text[TERMINAL_MSG_MAX + 1], *w[8], *save = NULL;
    size_t n = 0;
    terminal_tk_msg m;
    if (len < sizeof MAGIC - 1 || memcmp(data, MAGIC, sizeof MAGIC - 1))
        return 0;
    if (len > TERMINAL_MSG_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (data[i] < 0x20 || data[i] > 0x7E)
            return -1;
    memcpy(text, data, len);
    text[len] = 0;
    for (char *t = strtok_r(text + sizeof MAGIC - 1, " ", &save); t;
         t = strtok_r(NULL, " ", &save)) {
        if (n == sizeof w / sizeof w[0])
            return -1;
        w[n++] = t;
    }
    memset(&m, 0, sizeof m);
    if (n == 2 && !strcmp(w[0], "menu")) {
        unsigned long id;
        if (!number(w[1], 1, 255, &id))
            return -1;
        m.menu = true;
        m.item = (uint8_t)id;
        *out = m;
        return 1;
    }
    if (n < 2 || strcmp(w[0], "event"))
        return -1;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (!strcmp(w[1], kinds[k].name)) {
            m.event = kinds[k].event;
            if (!event_args(&m, w + 2, n - 2))
                return -1;
            *out = m;
            return 1;
        }
    return -1;
}

int terminal_tk_msg_format(const char *what, int argc, char **argv, char *out, size_t size) {
    size_t n = (size_t)snprintf(out, size, MAGIC "%s", what);
    terminal_tk_msg m;
    for (int i = 0; i < argc && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, " %s", argv[i]);
    if (n >= size || terminal_tk_msg_parse(out, n, &m) != 1)
        return -1;
    return (int)n;
}

/* seam terminal event KIND [ARGS] / seam terminal menu ITEM [--state FILE | --socket PATH]. */
int terminal_tk_command(const char *what, int argc, char **argv) {
    char sock[256], msg[TERMINAL_MSG_MAX + 1];
    const char *state = "seam-terminal.db", *given = NULL;
    char *words[8];
    int n = 0, len;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--state") || !strcmp(argv[i], "--socket")) && i + 1 < argc) {
            if (argv[i][2] == 's' && argv[i][3] == 't')
                state = argv[++i];
            else
                given = argv[++i];
        } else if (n < 8) {
            words[n++] = argv[i];
        } else {
            n = 9;
        }
    }
    len = n <= 8 ? terminal_tk_msg_format(what, n, words, msg, sizeof msg) : -1;
    if (len < 0) {
        fprintf(stderr,
                "seam terminal %s: not a valid %s (see seam terminal --help)\n"
                "usage: seam terminal event KIND [ARGS] [--state FILE | --socket PATH]\n"
                "       seam terminal menu ITEM [--state FILE | --socket PATH]\n",
                what, what);
        return 2;
    }
    if (terminal_socket_path(state, given, sock, sizeof sock) != 0) {
        fprintf(stderr, "seam terminal %s: the socket path is too long\n", what);
        return 2;
    }
    if (terminal_send(sock, msg, (size_t)len) != 0) {
        fprintf(stderr, "seam terminal %s: no terminal listens on %s (%s)\n", what, sock,
                strerror(errno));
        return 1;
    }
    return 0;
}
