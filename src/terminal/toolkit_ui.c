/*
 * The toolkit's user interfaces (include/seam/terminal.h): unattended (answers
 * from a file, one a line; what is shown and asked written to a log), so that
 * tests and the demo are deterministic, and interactive (the controlling tty).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "seam/terminal.h"

/* Reads one line of f into line[0..size) without its end; false at the end of f. */
static bool read_line(FILE *f, char *line, size_t size) {
    size_t n;
    if (!f || !fgets(line, (int)size, f))
        return false;
    n = strcspn(line, "\r\n");
    if (line[n] == 0 && !feof(f)) { /* longer than a line may be: skip the rest */
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n')
            ;
    }
    line[n] = 0;
    return true;
}

/* An answer typed or read: 0 with *key, 1 none, -1 end. */
static int parse_answer(const char *s, bool yes_no, char *key) {
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 1;
    if (!strcmp(s, "end"))
        return -1;
    if (yes_no) {
        if (!strcmp(s, "y") || !strcmp(s, "Y") || !strcmp(s, "yes")) {
            *key = 'Y';
            return 0;
        }
        if (!strcmp(s, "n") || !strcmp(s, "N") || !strcmp(s, "no")) {
            *key = 'N';
            return 0;
        }
        return 1;
    }
    if (s[1] == 0 && strchr("0123456789*#+", s[0])) {
        *key = s[0];
        return 0;
    }
    return 1;
}

static void unattended_display(void *ctx, const char *text) {
    seam_terminal_unattended *u = ctx;
    if (u->log) {
        fprintf(u->log, "display: %s\n", text);
        fflush(u->log);
    }
}

static int unattended_inkey(void *ctx, const char *prompt, bool yes_no, char *key) {
    seam_terminal_unattended *u = ctx;
    char line[64];
    int r = read_line(u->answers, line, sizeof line) ? parse_answer(line, yes_no, key) : 1;
    if (u->log) {
        fprintf(u->log, "inkey (%s): %s -> %s%c\n", yes_no ? "yes/no" : "digit", prompt,
                r < 0   ? "end"
                : r > 0 ? "no answer"
                        : "",
                r == 0 ? *key : ' ');
        fflush(u->log);
    }
    return r;
}

seam_terminal_ui seam_terminal_ui_unattended(seam_terminal_unattended *u) {
    return (seam_terminal_ui){unattended_display, unattended_inkey, u};
}

static void interactive_display(void *ctx, const char *text) {
    FILE *tty = fopen("/dev/tty", "w");
    (void)ctx;
    if (!tty)
        return;
    fprintf(tty, "[card] %s\n", text);
    fclose(tty);
}

static int interactive_inkey(void *ctx, const char *prompt, bool yes_no, char *key) {
    FILE *tty = fopen("/dev/tty", "r+");
    char line[64];
    int r = 1;
    (void)ctx;
    if (!tty)
        return 1;
    for (int tries = 0; tries < 3 && r > 0; tries++) {
        fprintf(tty, "[card] %s %s ", prompt, yes_no ? "(y/n, end)" : "(a digit, end)");
        fflush(tty);
        if (!read_line(tty, line, sizeof line))
            break;
        r = parse_answer(line, yes_no, key);
    }
    fclose(tty);
    return r;
}

seam_terminal_ui seam_terminal_ui_interactive(void) {
    return (seam_terminal_ui){interactive_display, interactive_inkey, NULL};
}
