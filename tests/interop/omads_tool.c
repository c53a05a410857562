/*
 * The interop test's hands on both of seam's sides (tests/interop/syncevo.sh; never installed):
 * the server's copy of a device (edits an operator's server would make, and a listing to
 * check), the terminal's device-management database, and one OMA DS synchronization through
 * seam_terminal_sync_omads (until the terminal CLI has `seam terminal sync`).
 *
 *   omads_tool server-put DIR DEVICE URI KEY TEXT     server folder DIR (master.key, server.db)
 *   omads_tool server-del DIR DEVICE URI KEY
 *   omads_tool server-list DIR DEVICE URI             "key<TAB>text" lines, by key; text's line
 *                                                     ends as \n, one trailing one dropped
 *   omads_tool term-put DB URI KEY VALUE              a ./devinfo record
 *   omads_tool term-del DB URI KEY
 *   omads_tool term-list DB URI                       the same form as server-list
 *   omads_tool sync URL DB DEVICE URI TARGET TYPE [USER PASSWORD]
 *                                                     prints the outcome; exit 0 when it succeeded
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/sync.h"
#include "seam/terminal.h"
#include "server/store.h"

static int usage(void) {
    fprintf(stderr, "usage: see tests/interop/omads_tool.c\n");
    return 2;
}

static void print_text(const char *key, const char *text, size_t len) {
    if (len && text[len - 1] == '\n')
        len--;
    printf("%s\t", key);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            fputs("\\n", stdout);
        else if (text[i] != '\r')
            putchar(text[i]);
    }
    putchar('\n');
}

static seam_store *open_server(const char *dir) {
    char path[1024];
    uint8_t key[SEAM_STORE_MASTER_KEY_SIZE];
    seam_store *s = NULL;
    snprintf(path, sizeof path, "%s/master.key", dir);
    if (seam_store_master_key_load(path, key) != SEAM_OK)
        return NULL;
    snprintf(path, sizeof path, "%s/server.db", dir);
    return seam_store_open(path, key, &s) == SEAM_OK ? s : NULL;
}

static int by_key(const void *a, const void *b) {
    return strcmp(((const seam_store_record *)a)->key, ((const seam_store_record *)b)->key);
}

static int server(int argc, char **argv) {
    seam_store *s = open_server(argv[2]);
    if (!s)
        return 1;
    seam_err e = SEAM_ERR_ARG;
    if (!strcmp(argv[1], "server-put") && argc == 7) {
        e = seam_store_record_put(s, argv[3], "interop", argv[4], argv[5], argv[6],
                                  strlen(argv[6]));
    } else if (!strcmp(argv[1], "server-del") && argc == 6) {
        e = seam_store_record_delete(s, argv[3], "interop", argv[4], argv[5]);
    } else if (!strcmp(argv[1], "server-list") && argc == 5) {
        seam_store_record *items = NULL;
        size_t n = 0;
        e = seam_store_record_list(s, argv[3], 0, SEAM_STORE_RECORDS_MAX, &items, &n);
        if (e == SEAM_ERR_NOT_FOUND)
            e = SEAM_OK;
        if (items)
            qsort(items, n, sizeof *items, by_key);
        for (size_t i = 0; !e && i < n; i++)
            if (!items[i].deleted && !strcmp(items[i].uri, argv[4]))
                print_text(items[i].key, items[i].content, items[i].content_len);
        free(items);
    }
    seam_store_close(s);
    if (e)
        fprintf(stderr, "omads_tool: %s\n", seam_err_str(e));
    return e ? 1 : 0;
}

static int list_one(void *ctx, const seam_sync_record *rec) {
    char text[SEAM_SYNC_TEXT_MAX + 1];
    size_t len = 0;
    if (seam_sync_record_format(ctx, rec, text, sizeof text, &len) == SEAM_OK)
        print_text(rec->key, text, len);
    return 0;
}

static int terminal(int argc, char **argv) {
    seam_sync_db *db;
    if (seam_sync_open(argv[2], &db) != SEAM_OK)
        return 1;
    seam_err e = SEAM_ERR_ARG;
    if (!strcmp(argv[1], "term-put") && argc == 6) {
        seam_sync_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.key, sizeof r.key, "%s", argv[4]);
        snprintf(r.value, sizeof r.value, "%s", argv[5]);
        e = seam_sync_put(db, argv[3], &r);
    } else if (!strcmp(argv[1], "term-del") && argc == 5) {
        e = seam_sync_delete(db, argv[3], argv[4]);
    } else if (!strcmp(argv[1], "term-list") && argc == 4) {
        e = seam_sync_list(db, argv[3], list_one, argv[3]);
    }
    seam_sync_close(db);
    if (e)
        fprintf(stderr, "omads_tool: %s\n", seam_err_str(e));
    return e ? 1 : 0;
}

static int sync(int argc, char **argv) {
    if (argc != 8 && argc != 10)
        return usage();
    seam_terminal_sync_request req = {.protocol = SEAM_TERMINAL_SYNC_OMADS,
                                      .server_url = argv[2],
                                      .dm_path = argv[3],
                                      .device_id = argv[4],
                                      .source_uri = argv[5],
                                      .target_uri = argv[6],
                                      .type = (seam_sync_type)atoi(argv[7]),
                                      .user = argc == 10 ? argv[8] : NULL,
                                      .password = argc == 10 ? argv[9] : NULL,
                                      .timeout_ms = 30000};
    seam_terminal_sync_outcome out;
    if (seam_terminal_sync_omads(&req, &out) != SEAM_OK)
        return usage();
    printf("failure=%d type=%d sent=%u received=%u bytes=%llu/%llu %s\n", (int)out.failure,
           (int)out.counts.type, out.counts.sent, out.counts.received,
           (unsigned long long)out.bytes_sent, (unsigned long long)out.bytes_received, out.reason);
    return out.failure == SEAM_TERMINAL_SYNC_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return usage();
    seam_terminal_global_init();
    if (!strncmp(argv[1], "server-", 7))
        return server(argc, argv);
    if (!strncmp(argv[1], "term-", 5))
        return terminal(argc, argv);
    if (!strcmp(argv[1], "sync"))
        return sync(argc, argv);
    return usage();
}
