/*
 * seam terminal, inside the CLI: the trigger a running terminal listens on
 * (terminal_poke.c). A Unix datagram socket beside the state file (or named
 * by --socket), created mode 0600: any datagram on it starts a session now;
 * its content is never read.
 */
#ifndef SEAM_CLI_TERMINAL_H
#define SEAM_CLI_TERMINAL_H

#include <signal.h>
#include <stddef.h>

/* The socket path for state (STATE.sock) or the one given, into out[0..size); -1 when too
   long for a Unix socket. */
int terminal_socket_path(const char *state, const char *given, char *out, size_t size);

/* Binds the trigger socket at path (a stale one is replaced; a live one, i.e. another
   terminal listening, is an error); returns the descriptor or -1 with a message. */
int terminal_trigger_open(const char *path);

/* Closes the trigger and removes its file. */
void terminal_trigger_close(int fd, const char *path);

/* Waits until a poke comes (1), interval_ms passes (0; interval_ms 0 waits for pokes only)
   or *stop is set (-1); pokes that came meanwhile are drained. */
int terminal_trigger_wait(int fd, unsigned interval_ms, volatile sig_atomic_t *stop);

/* Sends one poke to the terminal listening at path; 0, or -1 with a message. */
int terminal_poke(const char *path);

#endif
