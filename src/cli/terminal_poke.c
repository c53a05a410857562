/*
 * seam terminal poke, and the trigger `seam terminal run` listens on: a Unix
 * datagram socket (terminal_cli.h). A plain poke carries no meaning but "now":
 * nothing in it is parsed, so a poke can never steer the terminal, only wake
 * it. A toolkit message ("seam-tk1 ...") is parsed by terminal_toolkit.c's
 * validator, bounded to TERMINAL_MSG_MAX bytes: it can only inject a toolkit
 * event or menu selection. Mode 0600: only the terminal's own user may send.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "terminal_cli.h"

int terminal_socket_path(const char *state, const char *given, char *out, size_t size) {
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
    int n = given ? snprintf(out, size, "%s", given) : snprintf(out, size, "%s.sock", state);
    return n < 0 || (size_t)n >= size || (size_t)n >= max ? -1 : 0;
}

static void address(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
}

int terminal_trigger_open(const char *path) {
    struct sockaddr_un a;
    mode_t old;
    int fd, rc;
    address(path, &a);
    if (access(path, F_OK) == 0) {
        if (terminal_poke(path) == 0) { /* somebody answers: another terminal */
            fprintf(stderr, "seam terminal run: another terminal listens on %s\n", path);
            return -1;
        }
        unlink(path); /* left by a terminal that was killed */
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        fprintf(stderr, "seam terminal run: socket: %s\n", strerror(errno));
        return -1;
    }
    old = umask(077);
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc != 0) {
        fprintf(stderr, "seam terminal run: %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void terminal_trigger_close(int fd, const char *path) {
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}

/* Reads the datagrams waiting (up to TERMINAL_WAKE_MAX toolkit messages); true when there
   was one. */
static int drain(int fd, terminal_wake *wake) {
    char buf[TERMINAL_MSG_MAX + 1];
    ssize_t n;
    int got = 0;
    while ((!wake || wake->count < TERMINAL_WAKE_MAX) && (n = recv(fd, buf, sizeof buf, 0)) >= 0) {
        int kind;
        got = 1;
        if (!wake)
            continue;
        /* MSG_TRUNC is not asked for: a longer datagram arrives cut to the buffer, which
           is one byte over the limit, so the parser refuses it. */
        kind = terminal_tk_msg_parse(buf, (size_t)n, &wake->msgs[wake->count]);
        if (kind == 0)
            wake->poke = true;
        else if (kind > 0)
            wake->count++;
        else
            fprintf(stderr, "seam terminal run: dropped an invalid toolkit message\n");
    }
    return got;
}

int terminal_trigger_wait(int fd, unsigned interval_ms, volatile sig_atomic_t *stop,
                          terminal_wake *wake) {
    if (wake)
        memset(wake, 0, sizeof *wake);
    unsigned waited = 0;
    while (!*stop) {
        struct pollfd p = {fd, POLLIN, 0};
        unsigned slice = 200;
        if (interval_ms && interval_ms - waited < slice)
            slice = interval_ms - waited;
        if (poll(&p, 1, (int)slice) > 0 && drain(fd, wake))
            return 1;
        waited += slice;
        if (interval_ms && waited >= interval_ms)
            return 0;
    }
    return -1;
}

int terminal_send(const char *path, const char *msg, size_t len) {
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ssize_t rc;
    if (fd < 0)
        return -1;
    address(path, &a);
    rc = sendto(fd, msg, len, 0, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc == (ssize_t)len ? 0 : -1;
}

int terminal_poke(const char *path) {
    return terminal_send(path, "poke", 4);
}
