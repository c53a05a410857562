/*
 * seam terminal, inside the CLI: the trigger a running terminal listens on
 * (terminal_poke.c). A Unix datagram socket beside the state file (or named
 * by --socket), created mode 0600: a datagram on it starts a session now and
 * its content is not read, unless it is a toolkit message ("seam-tk1 ...",
 * terminal_toolkit.c): an event or a menu selection for the card's toolkit.
 */
#ifndef SEAM_CLI_TERMINAL_H
#define SEAM_CLI_TERMINAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERMINAL_MSG_MAX  64u /* bytes of a toolkit message */
#define TERMINAL_WAKE_MAX 8u  /* toolkit messages taken in one wait */

/* A toolkit message, validated (terminal_tk_msg_parse). */
typedef struct {
    bool menu;         /* a menu selection of item, else event */
    uint8_t item;      /* 1..255 */
    uint8_t event;     /* SEAM_TK_EVENT_* */
    uint8_t caps;      /* capabilities: 0 as they are, 1 sync gained, 2 sync lost */
    uint8_t extra[40]; /* the event's objects, encoded */
    size_t extra_len;
} terminal_tk_msg;

/* What woke a wait: plain pokes, and the toolkit messages that came with them. */
typedef struct {
    bool poke;
    size_t count;
    terminal_tk_msg msgs[TERMINAL_WAKE_MAX];
} terminal_wake;

/* The socket path for state (STATE.sock) or the one given, into out[0..size); -1 when too
   long for a Unix socket. */
int terminal_socket_path(const char *state, const char *given, char *out, size_t size);

/* Binds the trigger socket at path (a stale one is replaced; a live one, i.e. another
   terminal listening, is an error); returns the descriptor or -1 with a message. */
int terminal_trigger_open(const char *path);

/* Closes the trigger and removes its file. */
void terminal_trigger_close(int fd, const char *path);

/* Waits until a datagram comes (1), interval_ms passes (0; interval_ms 0 waits for
   datagrams only) or *stop is set (-1); datagrams that came meanwhile are read (at most
   TERMINAL_WAKE_MAX toolkit messages, the rest wait). With wake (may be NULL), what came:
   plain pokes set wake->poke, valid toolkit messages are kept, invalid ones dropped. */
int terminal_trigger_wait(int fd, unsigned interval_ms, volatile sig_atomic_t *stop,
                          terminal_wake *wake);

/* Sends the datagram msg[0..len) to the terminal listening at path; 0, or -1 (errno). */
int terminal_send(const char *path, const char *msg, size_t len);

/* Parses a datagram: 1 and *out for a valid toolkit message, 0 for a plain poke (not
   "seam-tk1 ..."), -1 for a toolkit message that breaks the rules. */
int terminal_tk_msg_parse(const char *data, size_t len, terminal_tk_msg *out);

/* Formats "seam-tk1 WHAT ARGV..." into out[0..size); its length, or -1 when too long or
   not a valid message. */
int terminal_tk_msg_format(const char *what, int argc, char **argv, char *out, size_t size);

/* seam terminal event|menu (what): sends the message argv[1..argc) describes; exit status. */
int terminal_tk_command(const char *what, int argc, char **argv);

/* Sends one poke to the terminal listening at path; 0, or -1 with a message. */
int terminal_poke(const char *path);

#endif
