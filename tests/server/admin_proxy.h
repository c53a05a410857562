/*
 * Test infrastructure for test_terminal_kill.c: an HTTP proxy between a real `seam
 * terminal` and a real `seam server` on loopback. It stands in for neither party: it
 * forwards every request and every answer byte for byte (HTTP/1.1, Content-Length
 * bodies; one upstream connection per request) and watches.
 *
 * What it watches, per admin session (a POST to /admin opens one; the POSTs to its
 * Next-URIs follow): the bytes of every exchange whose answer reached the terminal, the
 * scripts that reached it, the R-APDUs of the response scripts it posted. Each response
 * script is paired with the command script it answers (by the Next-URI), so the proxy
 * knows which C-APDU the card ran and with which status word: `applied` counts, per
 * INS/P1, the commands the card answered 9000 or 61xx.
 *
 * A cut: at the nth POST to /admin... (counted from proxy_arm; or the nth POST of the
 * mth admin session whose opening POST was answered with a script, a claimed one), the
 * proxy holds the request, SIGKILLs the terminal, waits until the terminal's connection closes (the
 * process is gone), then drops the request (the server never sees the responses) or
 * forwards it and throws the server's answer away (the server processed them; the
 * terminal never got the answer). The terminal is then always waiting for an answer
 * when it dies: every script it ran is complete and its responses were seen here.
 */
#ifndef SEAM_TESTS_SERVER_ADMIN_PROXY_H
#define SEAM_TESTS_SERVER_ADMIN_PROXY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seam/gp.h"

typedef enum {
    CUT_NONE,
    CUT_DROP,    /* the held request never reaches the server */
    CUT_FORWARD, /* it reaches the server; its answer never reaches the terminal */
} cut_way;

/* Where a cut lands: exchange at (1, 2, ...) counted over every admin session, or, with
   claimed m > 0, exchange at (2, 3, ...) of the mth claimed session. */
typedef struct {
    int at, claimed;
    cut_way way;
} cut_point;

#define PROXY_CUTS 4

/* One admin session as the proxy saw it. */
typedef struct {
    int posts;         /* its POSTs, the held one included */
    int claimed;       /* 0, or m: the mth session whose opening POST got a script */
    uint32_t scripts;  /* 200 answers that reached the terminal */
    uint32_t commands; /* R-APDUs in the response scripts the terminal posted */
    uint64_t up;       /* bytes of the requests whose answer reached the terminal */
    uint64_t down;     /* bytes of the answers that reached the terminal */
} proxy_session;

/* Commands of one INS/P1 (and P2 for INSTALL, whose P2 tells the load layout 01 from the
   install layout 03 of P1 0E): in scripts that reached the terminal, applied by the card. */
typedef struct {
    uint8_t ins, p1, p2;
    int sent, applied;
} proxy_command;

#define PROXY_SESSIONS 64
#define PROXY_COMMANDS 32

typedef struct {
    int listen_fd;
    uint16_t port, upstream;
    pthread_t accept_thread;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* a connection ended, or the cut is over */
    int handlers;        /* connection threads running */
    /* the cuts, armed by proxy_arm */
    cut_point cuts[PROXY_CUTS];
    int cut_count, cuts_done;
    int cut_sessions[PROXY_CUTS]; /* the session each cut landed in */
    pid_t victim;
    int claimed_count;
    /* what was seen since proxy_arm */
    int exchanges;
    proxy_session sessions[PROXY_SESSIONS];
    int session_count;
    char next_uri[160]; /* of the last script that reached the terminal */
    uint8_t *script;    /* that script */
    size_t script_len;
    proxy_command commands[PROXY_COMMANDS];
    int command_kinds;
} admin_proxy;

/* ---- HTTP messages ---- */

static bool proxy_write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += w, n -= (size_t)w;
    }
    return true;
}

/* The value of header name in the head[0..head_len) of a message ("" when absent). */
static void proxy_header(const char *head, size_t head_len, const char *name, char *out,
                         size_t cap) {
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *line = strstr(head, "\r\n"); line && line < head + head_len;) {
        line += 2;
        const char *end = strstr(line, "\r\n");
        if (!end || end == line)
            return;
        if (!strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return;
        }
        line = end;
    }
}

/* One HTTP message read from fd: the head (to the empty line) and a Content-Length
   body (none for 1xx, 204 and 304 answers). false at EOF or on an error. */
typedef struct {
    char *raw; /* head and body, NUL after */
    size_t len, head_len, body_len;
} proxy_msg;

static bool proxy_read(int fd, bool answer, proxy_msg *m) {
    size_t cap = 4096, want = 0;
    memset(m, 0, sizeof *m);
    m->raw = malloc(cap + 1);
    if (!m->raw)
        return false;
    for (;;) {
        if (m->head_len && m->len >= want)
            break;
        if (m->len == cap) {
            char *grown = realloc(m->raw, cap * 2 + 1);
            if (!grown)
                break;
            m->raw = grown, cap *= 2;
        }
        ssize_t r = recv(fd, m->raw + m->len, cap - m->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        m->len += (size_t)r;
        m->raw[m->len] = '\0';
        char *end = m->head_len ? NULL : strstr(m->raw, "\r\n\r\n");
        if (end) {
            char cl[32];
            m->head_len = (size_t)(end - m->raw) + 4;
            proxy_header(m->raw, m->head_len, "Content-Length", cl, sizeof cl);
            m->body_len = strtoul(cl, NULL, 10);
            if (answer) {
                int status = atoi(m->raw + 9);
                if (status == 204 || status == 304 || status < 200)
                    m->body_len = 0;
            }
            want = m->head_len + m->body_len;
        }
    }
    if (m->head_len && m->len == m->head_len + m->body_len)
        return true;
    free(m->raw);
    m->raw = NULL;
    return false;
}

/* Sends the request to the server and reads its answer; false when there is none. */
static bool proxy_upstream(const admin_proxy *p, const proxy_msg *req, proxy_msg *ans) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p->upstream)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              proxy_write_all(fd, (const uint8_t *)req->raw, req->len) && proxy_read(fd, true, ans);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* ---- what the card ran ---- */

static proxy_command *proxy_command_of(admin_proxy *p, const uint8_t *apdu) {
    uint8_t p2 = apdu[1] == 0xE6 ? apdu[3] : 0;
    for (int i = 0; i < p->command_kinds; i++)
        if (p->commands[i].ins == apdu[1] && p->commands[i].p1 == apdu[2] &&
            p->commands[i].p2 == p2)
            return &p->commands[i];
    if (p->command_kinds == PROXY_COMMANDS)
        return NULL;
    proxy_command *c = &p->commands[p->command_kinds++];
    c->ins = apdu[1], c->p1 = apdu[2], c->p2 = p2;
    return c;
}

/* Pairs the response script resp[0..len) with the script p->script it answers: counts
   the R-APDUs (into the session) and the commands the card applied. */
static void proxy_pair(admin_proxy *p, proxy_session *s, const uint8_t *resp, size_t len) {
    seam_gp_rscript_reader cmds, answers;
    const uint8_t *c = NULL, *r = NULL;
    size_t c_len = 0, r_len = 0;
    if (seam_gp_rscript_open(&answers, SEAM_GP_RSCRIPT_RESPONSES, resp, len) != SEAM_OK)
        return;
    bool paired = p->script && seam_gp_rscript_open(&cmds, SEAM_GP_RSCRIPT_COMMANDS, p->script,
                                                    p->script_len) == SEAM_OK;
    while (seam_gp_rscript_next(&answers, &r, &r_len) == SEAM_OK) {
        s->commands++;
        if (!paired || seam_gp_rscript_next(&cmds, &c, &c_len) != SEAM_OK || c_len < 4 || r_len < 2)
            continue;
        proxy_command *k = proxy_command_of(p, c);
        uint8_t sw1 = r[r_len - 2];
        if (k && ((sw1 == 0x90 && r[r_len - 1] == 0x00) || sw1 == 0x61))
            k->applied++;
    }
}

/* A script reached the terminal: kept for pairing, its commands counted as sent. */
static void proxy_script(admin_proxy *p, const proxy_msg *ans) {
    seam_gp_rscript_reader rd;
    const uint8_t *c = NULL;
    size_t c_len = 0;
    free(p->script);
    p->script_len = ans->body_len;
    p->script = malloc(ans->body_len ? ans->body_len : 1);
    if (!p->script)
        return;
    memcpy(p->script, ans->raw + ans->head_len, ans->body_len);
    proxy_header(ans->raw, ans->head_len, "X-Admin-Next-URI", p->next_uri, sizeof p->next_uri);
    if (seam_gp_rscript_open(&rd, SEAM_GP_RSCRIPT_COMMANDS, p->script, p->script_len) != SEAM_OK)
        return;
    while (seam_gp_rscript_next(&rd, &c, &c_len) == SEAM_OK) {
        proxy_command *k = c_len >= 4 ? proxy_command_of(p, c) : NULL;
        if (k)
            k->sent++;
    }
}

/* ---- connections ---- */

/* Serves one connection of the terminal until it closes. */
static void *proxy_connection(void *arg) {
    admin_proxy *p = ((void **)arg)[0];
    int fd = (int)(intptr_t)((void **)arg)[1];
    free(arg);
    proxy_msg req, ans;
    while (proxy_read(fd, false, &req)) {
        char method[8] = "", path[160] = "";
        sscanf(req.raw, "%7s %159s", method, path);
        bool admin = !strcmp(method, "POST") && !strncmp(path, "/admin", 6);
        pthread_mutex_lock(&p->lock);
        proxy_session *s = NULL;
        cut_way cut = CUT_NONE;
        bool open = !strcmp(path, "/admin");
        if (admin) {
            p->exchanges++;
            if (open && p->session_count < PROXY_SESSIONS)
                memset(&p->sessions[p->session_count++], 0, sizeof(proxy_session));
            s = p->session_count ? &p->sessions[p->session_count - 1] : NULL;
            if (s && !strcmp(path, p->next_uri))
                proxy_pair(p, s, (const uint8_t *)req.raw + req.head_len, req.body_len);
            if (s)
                s->posts++;
            const cut_point *next = p->cuts_done < p->cut_count ? &p->cuts[p->cuts_done] : NULL;
            if (s && next &&
                (next->claimed ? s->claimed == next->claimed && s->posts == next->at
                               : p->exchanges == next->at)) {
                cut = next->way;
                p->cut_sessions[p->cuts_done] = p->session_count - 1;
            }
        }
        pthread_mutex_unlock(&p->lock);
        if (cut != CUT_NONE) {
            char drain[256];
            kill(p->victim, SIGKILL);
            while (recv(fd, drain, sizeof drain, 0) > 0)
                continue; /* until the dead terminal's socket closes */
            if (cut == CUT_FORWARD && proxy_upstream(p, &req, &ans))
                free(ans.raw);
            pthread_mutex_lock(&p->lock);
            p->cuts_done++;
            pthread_cond_broadcast(&p->idle);
            pthread_mutex_unlock(&p->lock);
            free(req.raw);
            break;
        }
        bool answered = proxy_upstream(p, &req, &ans);
        bool delivered = answered && proxy_write_all(fd, (const uint8_t *)ans.raw, ans.len);
        if (delivered && s) {
            pthread_mutex_lock(&p->lock);
            s->up += req.len;
            s->down += ans.len;
            if (atoi(ans.raw + 9) == 200) {
                if (open)
                    s->claimed = ++p->claimed_count;
                s->scripts++;
                proxy_script(p, &ans);
            }
            pthread_mutex_unlock(&p->lock);
        }
        free(req.raw);
        if (answered)
            free(ans.raw);
        if (!delivered)
            break;
    }
    close(fd);
    pthread_mutex_lock(&p->lock);
    p->handlers--;
    pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void *proxy_accept(void *arg) {
    admin_proxy *p = arg;
    for (;;) {
        int fd = accept(p->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* proxy_stop shut the socket down */
        }
        void **arg2 = malloc(2 * sizeof(void *));
        pthread_t th;
        pthread_mutex_lock(&p->lock);
        p->handlers++;
        pthread_mutex_unlock(&p->lock);
        arg2[0] = p, arg2[1] = (void *)(intptr_t)fd;
        if (pthread_create(&th, NULL, proxy_connection, arg2) == 0) {
            pthread_detach(th);
        } else {
            free(arg2);
            close(fd);
            pthread_mutex_lock(&p->lock);
            p->handlers--;
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Starts the proxy on 127.0.0.1 (a port the system chooses) towards upstream. */
static void proxy_start(admin_proxy *p, uint16_t upstream) {
    memset(p, 0, sizeof *p);
    p->upstream = upstream;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->idle, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t n = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->listen_fd >= 0);
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->listen_fd, 16), 0);
    assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &n), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->accept_thread, NULL, proxy_accept, p), 0);
}

/* Forgets what was seen and arms cuts[0..count) (in the order they land). */
static void proxy_arm(admin_proxy *p, const cut_point *cuts, int count) {
    pthread_mutex_lock(&p->lock);
    if (count)
        memcpy(p->cuts, cuts, (size_t)count * sizeof *cuts);
    p->cut_count = count, p->cuts_done = 0, p->victim = 0;
    p->exchanges = p->session_count = p->command_kinds = p->claimed_count = 0;
    memset(p->commands, 0, sizeof p->commands);
    p->next_uri[0] = '\0';
    free(p->script);
    p->script = NULL;
    pthread_mutex_unlock(&p->lock);
}

/* The terminal's process, once it is known (proxy_arm may come before). */
static void proxy_victim(admin_proxy *p, pid_t victim) {
    pthread_mutex_lock(&p->lock);
    p->victim = victim;
    pthread_mutex_unlock(&p->lock);
}

/* Waits until the nth cut (1, 2, ...) is over (the request dropped or answered by the
   server); the number of the admin session it cut (0 the first since proxy_arm). */
static int proxy_cut_over(admin_proxy *p, int nth) {
    pthread_mutex_lock(&p->lock);
    while (p->cuts_done < nth)
        pthread_cond_wait(&p->idle, &p->lock);
    int session = p->cut_sessions[nth - 1];
    pthread_mutex_unlock(&p->lock);
    return session;
}

/* Stops accepting and waits for every connection to end (the terminal is gone). */
static void proxy_stop(admin_proxy *p) {
    shutdown(p->listen_fd, SHUT_RDWR);
    close(p->listen_fd);
    pthread_join(p->accept_thread, NULL);
    pthread_mutex_lock(&p->lock);
    while (p->handlers > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    free(p->script);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->idle);
}

#endif
