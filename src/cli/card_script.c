/*
 * seam card script --image FILE SCRIPT: runs a text script of APDUs against a
 * card image in-process, checking status words and response data, with
 * directives to open an SCP03 channel, replace the selected security domain's
 * keys, load a package and print the card's byte counters. The format is in
 * docs/card-script.md.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_diag.h"
#include "card_script.h"
#include "cli.h"
#include "seam/card.h"
#include "seam/crypto.h"
#include "seam/util.h"
#include "seam/wasm.h"

#define LOAD_BLOCK     240u /* LOAD block data, plain or C-MAC only */
#define LOAD_BLOCK_ENC 239u /* with C-DECRYPTION: padded to 240, + C-MAC = 248 */

typedef struct {
    seam_card *card;
    seam_crypto_scp03_host host;
    uint8_t dek[32]; /* the open channel's static DEK: the key given to .scp03 */
    size_t dek_len;
    const char *script;
    unsigned line_no;
    unsigned passed, failed;
    uint8_t response[SEAM_CARD_RESPONSE_MAX];
    size_t response_len;
    script_line parsed;
    char line[SCRIPT_LINE_MAX + 1]; /* one line as read, its newline, a NUL */
} runner;

/* Closes the secure channel, forgetting its static DEK. */
static void channel_close(runner *r) {
    seam_crypto_scp03_host_close(&r->host);
    seam_secure_zero(r->dek, sizeof r->dek);
    r->dek_len = 0;
}

static void fail(runner *r, const char *fmt, const char *detail) {
    printf("%s:%u: ", r->script, r->line_no);
    printf(fmt, detail);
    printf("\n");
    r->failed++;
}

static void print_hex(const char *prefix, const uint8_t *b, size_t n) {
    printf("%s", prefix);
    for (size_t i = 0; i < n; i++)
        printf("%02X", b[i]);
    printf("\n");
}

/* Decodes hex with optional spaces into out; false if not hex. */
static bool parse_hex(const char *text, size_t text_len, uint8_t *out, size_t cap, size_t *len) {
    return seam_hex_decode(text, text_len, out, cap, len) == SEAM_OK;
}

/* Sends one APDU, through the secure channel when one is open and the class is GP's. */
static bool exchange(runner *r, const uint8_t *apdu, size_t len) {
    uint8_t wrapped[300];
    const uint8_t *send = apdu;
    size_t send_len = len;
    bool secure = r->host.open && (apdu[0] & 0xFC) == 0x80;
    seam_err e;
    if (secure) {
        e = seam_crypto_scp03_host_wrap(&r->host, apdu, len, wrapped, sizeof wrapped, &send_len);
        if (e) {
            fail(r, "cannot wrap the command for the secure channel: %s", seam_err_str(e));
            return false;
        }
        send = wrapped;
    }
    e = seam_card_transmit(r->card, send, send_len, r->response, sizeof r->response,
                           &r->response_len);
    if (e) {
        fail(r, "the card failed: %s", seam_err_str(e));
        return false;
    }
    if (secure) {
        e = seam_crypto_scp03_host_unwrap(&r->host, r->response, r->response_len, r->response,
                                          sizeof r->response, &r->response_len);
        if (e) {
            fail(r, "the response does not verify: %s", seam_err_str(e));
            return false;
        }
    }
    return true;
}

static uint16_t response_sw(const runner *r) {
    return (uint16_t)(r->response[r->response_len - 2] << 8 | r->response[r->response_len - 1]);
}

/* Checks sw against a 4-character pattern where x or X matches any nibble. */
static bool sw_matches(uint16_t sw, const char *pattern) {
    char have[5];
    snprintf(have, sizeof have, "%04X", sw);
    for (int i = 0; i < 4; i++)
        if (toupper((unsigned char)pattern[i]) != 'X' &&
            toupper((unsigned char)pattern[i]) != have[i])
            return false;
    return true;
}

/* A line of APDU hex, optionally "=> SW [DATA[*]]", parsed. */
static void run_apdu(runner *r, const script_line *l) {
    print_hex("> ", l->apdu, l->apdu_len);
    if (!exchange(r, l->apdu, l->apdu_len))
        goto out;
    print_hex("< ", r->response, r->response_len);
    if (!l->check_sw)
        goto out;
    uint16_t sw = response_sw(r);
    if (!sw_matches(sw, l->sw)) {
        char got[48];
        snprintf(got, sizeof got, "%s, got %04X", l->sw, sw);
        fail(r, "expected %s", got);
        goto out;
    }
    if (l->check_data) {
        size_t got_len = r->response_len - 2;
        if (got_len < l->data_len || (!l->data_prefix && got_len != l->data_len) ||
            memcmp(r->response, l->data, l->data_len)) {
            fail(r, "response data differs from %s", l->data_hex);
            goto out;
        }
    }
    r->passed++;
out:
    return;
}

/* Finds "name=value" among the directive's words; NULL when absent. */
static const char *word_value(char **words, int n, const char *name) {
    size_t len = strlen(name);
    for (int i = 1; i < n; i++)
        if (!strncmp(words[i], name, len) && words[i][len] == '=')
            return words[i] + len + 1;
    return NULL;
}

static void directive_scp03(runner *r, char **words, int n) {
    const char *level_text = word_value(words, n, "level");
    const char *kvn_text = word_value(words, n, "kvn");
    const char *key_text = word_value(words, n, "key");
    uint8_t key[32], hc[8], init[14] = {0x80, 0x50, 0x00, 0x00, 0x08};
    uint8_t ext[21];
    size_t key_len = 16;
    unsigned long level = level_text ? strtoul(level_text, NULL, 16) : 0x01;
    unsigned long kvn = kvn_text ? strtoul(kvn_text, NULL, 16) : 0x00;
    seam_err e;
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(0x40 + i);
    if (key_text && !parse_hex(key_text, strlen(key_text), key, sizeof key, &key_len)) {
        fail(r, ".scp03: key= is not hex: %s", key_text);
        return;
    }
    channel_close(r);
    init[2] = (uint8_t)kvn;
    if (seam_crypto_random(hc, sizeof hc)) {
        fail(r, ".scp03: %s", "no random host challenge");
        return;
    }
    memcpy(init + 5, hc, 8);
    printf("> INITIALIZE UPDATE (key version %02lX)\n", kvn);
    if (!exchange(r, init, sizeof init))
        return;
    if (response_sw(r) != 0x9000) {
        char got[8];
        snprintf(got, sizeof got, "%04X", response_sw(r));
        fail(r, ".scp03: INITIALIZE UPDATE answered %s", got);
        return;
    }
    e = seam_crypto_scp03_host_open(&r->host, key, key, key_len, hc, r->response,
                                    r->response_len - 2, (uint8_t)level, 0, ext);
    if (!e) { /* the DEK of the key set, for .putkey */
        memcpy(r->dek, key, key_len);
        r->dek_len = key_len;
    }
    seam_secure_zero(key, sizeof key);
    if (e) {
        fail(r, ".scp03: the card cryptogram does not verify: %s", seam_err_str(e));
        return;
    }
    printf("> EXTERNAL AUTHENTICATE (security level %02lX)\n", level);
    if (!exchange(r, ext, sizeof ext)) /* CLA 84: sent as built, with its own MAC */
        return;
    if (response_sw(r) != 0x9000) {
        char got[8];
        snprintf(got, sizeof got, "%04X", response_sw(r));
        channel_close(r);
        fail(r, ".scp03: EXTERNAL AUTHENTICATE answered %s", got);
        return;
    }
    printf("  secure channel open\n");
    r->passed++;
}

/*
 * .putkey [kvn=KK] [new=NN] key=HEX: PUT KEY (80 D8 KK 81) replacing key set KK
 * (default 30; 00 adds a set) of the selected SD with version NN (default KK)
 * whose ENC, MAC and DEK are all `key` (16, 24 or 32 bytes). Each key block is
 * 88 L len || AES-CBC(static DEK of the open channel, zero IV, key zero-padded
 * to 16-byte blocks) || 03 KCV (GP 2.3.1 §11.8.2.3, Amendment D); the card
 * must answer 9000 with NN and the three KCVs.
 */
static void directive_putkey(runner *r, char **words, int n) {
    static const uint8_t zero_iv[16] = {0};
    const char *kvn_text = word_value(words, n, "kvn");
    const char *new_text = word_value(words, n, "new");
    const char *key_text = word_value(words, n, "key");
    unsigned long kvn = kvn_text ? strtoul(kvn_text, NULL, 16) : 0x30;
    unsigned long fresh = new_text ? strtoul(new_text, NULL, 16) : kvn;
    uint8_t key[32], padded[32], apdu[5 + 1 + 3 * (3 + 32 + 4) + 1], expect[1 + 3 * 3];
    size_t key_len = 0, enc_len, len = 5;
    if (!r->host.open || !r->dek_len) {
        fail(r, ".putkey: %s", "no secure channel is open (.scp03 first)");
        return;
    }
    if (!key_text || !parse_hex(key_text, strlen(key_text), key, sizeof key, &key_len) ||
        (key_len != 16 && key_len != 24 && key_len != 32)) {
        fail(r, ".putkey: key= must be 16, 24 or 32 bytes of hex: %s", key_text ? key_text : "");
        goto done;
    }
    if (kvn > 0x7F || fresh == 0 || fresh > 0x7F) {
        fail(r, ".putkey: %s", "kvn= must be 00..7F and new= 01..7F (new= is needed with kvn=00)");
        goto done;
    }
    enc_len = (key_len + 15) / 16 * 16;
    memset(padded, 0, sizeof padded);
    memcpy(padded, key, key_len);
    apdu[len++] = (uint8_t)fresh;
    expect[0] = (uint8_t)fresh;
    for (int i = 0; i < 3; i++) { /* ENC, MAC, DEK */
        apdu[len++] = 0x88;
        apdu[len++] = (uint8_t)(1 + enc_len);
        apdu[len++] = (uint8_t)key_len;
        if (seam_crypto_aes_cbc_encrypt(r->dek, r->dek_len, zero_iv, padded, enc_len, apdu + len) ||
            seam_crypto_aes_kcv(key, key_len, expect + 1 + 3 * i)) {
            fail(r, ".putkey: %s", "cannot encrypt the key under the DEK");
            goto done;
        }
        len += enc_len;
        apdu[len++] = 0x03;
        memcpy(apdu + len, expect + 1 + 3 * i, 3);
        len += 3;
    }
    apdu[0] = 0x80;
    apdu[1] = 0xD8;
    apdu[2] = (uint8_t)kvn;
    apdu[3] = 0x81;
    apdu[4] = (uint8_t)(len - 5);
    apdu[len++] = 0x00;
    printf("> PUT KEY (key version %02lX -> %02lX: AES-%zu, ENC = MAC = DEK, KCV %02X%02X%02X)\n",
           kvn, fresh, key_len * 8, expect[1], expect[2], expect[3]);
    if (!exchange(r, apdu, len))
        goto done;
    print_hex("< ", r->response, r->response_len);
    if (response_sw(r) != 0x9000) {
        char got[8];
        snprintf(got, sizeof got, "%04X", response_sw(r));
        fail(r, ".putkey: PUT KEY answered %s", got);
    } else if (r->response_len != 2 + sizeof expect || memcmp(r->response, expect, sizeof expect)) {
        fail(r, ".putkey: %s", "the card's key version and KCVs differ from the key sent");
    } else {
        r->passed++;
    }
done:
    seam_secure_zero(key, sizeof key);
    seam_secure_zero(padded, sizeof padded);
    seam_secure_zero(apdu, sizeof apdu);
}

/* .traffic: the card's byte counters so far, per instruction byte then in total. */
static void directive_traffic(runner *r) {
    seam_card_traffic t;
    seam_card_traffic_get(r->card, &t);
    for (unsigned ins = 0; ins < 256; ins++)
        if (t.by_ins[ins].commands)
            printf("  INS %02X: %" PRIu64 " command%s, %" PRIu64 " bytes in, %" PRIu64
                   " bytes out\n",
                   ins, t.by_ins[ins].commands, t.by_ins[ins].commands == 1 ? "" : "s",
                   t.by_ins[ins].bytes_in, t.by_ins[ins].bytes_out);
    printf("  all:    %" PRIu64 " commands, %" PRIu64 " bytes in, %" PRIu64 " bytes out\n",
           t.total.commands, t.total.bytes_in, t.total.bytes_out);
}

/* Reads the package AID (tag 4F) from a module's seam.package section. */
static bool package_aid(const uint8_t *bytes, size_t len, uint8_t *aid, size_t *aid_len) {
    seam_wasm_module *m = NULL;
    const uint8_t *section;
    size_t section_len;
    seam_tlv tlv;
    bool ok = false;
    if (seam_wasm_module_new(bytes, len, &m, NULL, 0) == SEAM_OK &&
        seam_wasm_module_custom(m, SEAM_WASM_NAME("seam.package"), &section, &section_len) ==
            SEAM_OK &&
        seam_tlv_find(section, section_len, 0x4F, &tlv) == SEAM_OK && tlv.length >= 5 &&
        tlv.length <= 16) {
        memcpy(aid, tlv.value, tlv.length);
        *aid_len = tlv.length;
        ok = true;
    }
    seam_wasm_module_free(m);
    return ok;
}

static void directive_load(runner *r, char **words, int n) {
    FILE *f = n >= 2 ? fopen(words[1], "rb") : NULL;
    uint8_t *file = NULL, aid[16];
    size_t aid_len = 0;
    long size = 0;
    if (!f) {
        fail(r, ".load: cannot read '%s'", n >= 2 ? words[1] : "(no file given)");
        return;
    }
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    rewind(f);
    file = size > 0 && size < 16 * 1024 * 1024 ? malloc((size_t)size + 8) : NULL;
    if (!file || fread(file + 8, 1, (size_t)size, f) != (size_t)size) {
        fail(r, ".load: cannot read '%s'", words[1]);
        goto done;
    }
    if (!package_aid(file + 8, (size_t)size, aid, &aid_len)) {
        fail(r, ".load: '%s' is not a seam package (no seam.package section)", words[1]);
        goto done;
    }
    /* INSTALL [for load]: load file AID, empty SD AID (the ISD), no hash, params or token */
    uint8_t install[5 + 1 + 16 + 4 + 1] = {
        0x80, 0xE6, 0x02, 0x00, (uint8_t)(aid_len + 5), (uint8_t)aid_len};
    memcpy(install + 6, aid, aid_len);
    memset(install + 6 + aid_len, 0, 4);
    print_hex("> INSTALL [for load] ", install, 6 + aid_len + 4);
    if (!exchange(r, install, 6 + aid_len + 4 + 1))
        goto done;
    if (response_sw(r) != 0x9000) {
        char got[8];
        snprintf(got, sizeof got, "%04X", response_sw(r));
        fail(r, ".load: INSTALL [for load] answered %s", got);
        goto done;
    }
    /* the load file is C4 || BER length || module, cut into LOAD blocks */
    size_t header = size < 0x80 ? 2 : size < 0x100 ? 3 : size < 0x10000 ? 4 : 5;
    uint8_t *start = file + 8 - header;
    start[0] = 0xC4;
    if (header == 2) {
        start[1] = (uint8_t)size;
    } else {
        start[1] = (uint8_t)(0x80 | (header - 2));
        for (size_t i = 0; i < header - 2; i++)
            start[2 + i] = (uint8_t)((size_t)size >> (8 * (header - 3 - i)));
    }
    size_t block = r->host.open && (r->host.level & 0x02) ? LOAD_BLOCK_ENC : LOAD_BLOCK;
    size_t total = header + (size_t)size, blocks = (total + block - 1) / block;
    for (size_t b = 0; b < blocks; b++) {
        uint8_t load[5 + LOAD_BLOCK + 1];
        size_t part = b + 1 < blocks ? block : total - b * block;
        load[0] = 0x80;
        load[1] = 0xE8;
        load[2] = b + 1 < blocks ? 0x00 : 0x80;
        load[3] = (uint8_t)b;
        load[4] = (uint8_t)part;
        memcpy(load + 5, start + b * block, part);
        load[5 + part] = 0x00;
        if (!exchange(r, load, 6 + part))
            goto done;
        if (response_sw(r) != 0x9000) {
            char where[64];
            snprintf(where, sizeof where, "%zu of %zu answered %04X", b + 1, blocks,
                     response_sw(r));
            fail(r, ".load: LOAD block %s", where);
            goto done;
        }
    }
    printf("  loaded %s: %ld bytes in %zu LOAD blocks\n", words[1], size, blocks);
    r->passed++;
done:
    free(file);
    if (f)
        fclose(f);
}

static void run_directive(runner *r, script_line *l) {
    char **words = l->words;
    int n = l->word_count;
    if (!strcmp(words[0], ".scp03")) {
        directive_scp03(r, words, n);
    } else if (!strcmp(words[0], ".putkey")) {
        directive_putkey(r, words, n);
    } else if (!strcmp(words[0], ".load")) {
        directive_load(r, words, n);
    } else if (!strcmp(words[0], ".traffic")) {
        directive_traffic(r);
    } else if (!strcmp(words[0], ".power")) {
        uint8_t atr[SEAM_CARD_ATR_MAX];
        size_t atr_len;
        channel_close(r);
        if (seam_card_power_on(r->card, atr, sizeof atr, &atr_len))
            fail(r, ".power: %s", "the card did not power on");
        else
            print_hex("  ATR ", atr, atr_len);
    } else {
        fail(r, "unknown directive '%s' (.scp03, .putkey, .load, .traffic, .power)", words[0]);
    }
}

int seam_cli_card_script(int argc, char **argv) {
    const char *image = NULL;
    runner *r = NULL;
    FILE *f = NULL;
    uint8_t atr[SEAM_CARD_ATR_MAX];
    size_t atr_len;
    int status = 2;
    if (argc == 4 && !strcmp(argv[1], "--image"))
        image = argv[2];
    if (!image) {
        fprintf(stderr, "usage: seam card script --image FILE SCRIPT\n");
        goto done;
    }
    r = calloc(1, sizeof *r);
    f = fopen(argv[3], "r");
    if (!r || !f) {
        fprintf(stderr, "seam card script: cannot read %s\n", argv[3]);
        goto done;
    }
    r->script = argv[3];
    seam_err e = seam_card_open(image, &r->card);
    if (e) {
        seam_cli_card_open_failed("script", image, e);
        status = 1;
        goto done;
    }
    cli_card_diagnostics(r->card); /* applet failures, seam_debug, fuel: stderr */
    seam_card_power_on(r->card, atr, sizeof atr, &atr_len);
    while (fgets(r->line, sizeof r->line, f)) {
        size_t len = strlen(r->line); /* a NUL in the line ends it */
        bool whole = (len && r->line[len - 1] == '\n') || feof(f);
        r->line_no++;
        script_parse_line(r->line, len, &r->parsed);
        if (!whole) { /* longer than the buffer: report it, skip the rest */
            char limit[16];
            snprintf(limit, sizeof limit, "%d", SCRIPT_LINE_MAX);
            fail(r, "line longer than %s bytes", limit);
            for (int ch = fgetc(f); ch != EOF && ch != '\n';)
                ch = fgetc(f);
        } else if (r->parsed.kind == SCRIPT_BAD) {
            fail(r, r->parsed.error, r->parsed.detail);
        } else if (r->parsed.kind == SCRIPT_DIRECTIVE) {
            run_directive(r, &r->parsed);
        } else if (r->parsed.kind == SCRIPT_APDU) {
            run_apdu(r, &r->parsed);
        }
    }
    seam_card_traffic traffic;
    seam_card_traffic_get(r->card, &traffic);
    printf("bytes in %" PRIu64 ", bytes out %" PRIu64 ", commands %" PRIu64 "\n",
           traffic.total.bytes_in, traffic.total.bytes_out, traffic.total.commands);
    printf("%u passed, %u failed\n", r->passed, r->failed);
    status = r->failed ? 1 : 0;
done:
    if (r) {
        channel_close(r);
        seam_card_close(r->card);
        free(r);
    }
    if (f)
        fclose(f);
    return status;
}
